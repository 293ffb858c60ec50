import { describe, expect, it, vi } from 'vitest';
import { parseConfigFromEnv, startPipelineFromEvent, type ParseSummary, type SqsBatchResponse } from '../../shared/parse';
import { pipelineInputSchema, type PipelineInput } from '../../shared/state';
import { InvalidInput } from '../../shared/errors';
import { seedDaily, seedRelated, useDataHarness, WAREHOUSE_KINDS, type DataHarness } from './data-fixtures';

const config = parseConfigFromEnv({});
const message = (param: Record<string, unknown>) => ({ param: { DataName: 'shop', ForecastHorizon: 7, dateCreate: '20240301', ...param } });

async function text(h: DataHarness, uri: string): Promise<string> {
  return (await h.store.get(uri)).toString('utf8');
}

describe.each(WAREHOUSE_KINDS)('Function: startPipelineFromEvent (%s warehouse + folder store)', (kind) => {
  const h = useDataHarness(kind);

  it('writes cleaned headerless CSVs, starts one execution with the full PipelineInput (rows in = rows out)', async () => {
    // Prepare: 3 items × 70 days from 2024-01-01; dateCreate 2024-03-01 splits 60 history days from 10 validation days.
    await seedDaily(h.warehouse, 'shop', ['a', 'b', 'c'], 70);
    await seedRelated(h.warehouse, 'shop', ['a', 'b', 'c'], 70);
    await seedDaily(h.warehouse, 'other', ['x'], 70);

    // Act
    const summary = (await startPipelineFromEvent({ body: message({}) }, h.deps, config)) as ParseSummary;

    // Assess
    expect(summary).toMatchObject({ runId: 'shop_2024_03_01', alreadyStarted: false, rows: { target: 180, related: 210, validation: 30 } });
    const target = (await text(h, 's3://bucket/shop/20240301/target.csv')).trimEnd().split('\n');
    expect(target).toHaveLength(180);
    expect(target[0]).toBe(`2024-01-01,a,${Math.log1p(10)}`);
    expect(target.at(-1)).toBe(`2024-02-29,c,${Math.log1p(30 + 59)}`);
    const related = (await text(h, 's3://bucket/shop/20240301/related.csv')).trimEnd().split('\n');
    expect(related[0]).toBe('2024-01-01,a,1,1');
    expect((await text(h, 's3://bucket/shop/20240301/validate.csv')).trimEnd().split('\n')).toHaveLength(30);

    expect(h.workflow.calls).toHaveLength(1);
    const input = pipelineInputSchema.parse(h.workflow.calls[0]!.input) as PipelineInput;
    expect(h.workflow.calls[0]!.name).toBe('shop_2024_03_01');
    expect(input.datasets.map((d) => d.schema.Attributes.map((a) => a.AttributeName))).toEqual([
      ['timestamp', 'item_id', 'target_value'],
      ['timestamp', 'item_id', 'price', 'promotion'],
    ]);
    expect(input.predictors.map((p) => p.name)).toEqual(['shop_ETS_1_20240301', 'shop_ARIMA_1_20240301', 'shop_NPTS_1_20240301', 'shop_PROPHET_1_20240301']);
    expect(input.forecasts[0]!.exportS3Uri).toBe('s3://bucket/shop/20240301/exports/shop_ETS_1_20240301_forecast/');
    expect(input.validation).toEqual({ s3Uri: 's3://bucket/shop/20240301/validate.csv', rows: 30 });
  });

  it('keeps negative values untransformed and switches the zero floor off when the message allows negative series', async () => {
    // Prepare: a net flow that goes below −1 (log1p could not carry it)
    await seedDaily(h.warehouse, 'shop', ['a'], 70, (_item, day) => (day % 2 === 0 ? -5 : 3));

    // Act
    await startPipelineFromEvent({ body: message({ AllowNegative: true }) }, h.deps, config);

    // Assess
    const target = (await text(h, 's3://bucket/shop/20240301/target.csv')).trimEnd().split('\n');
    expect(target.slice(0, 2)).toEqual(['2024-01-01,a,-5', '2024-01-02,a,3']);
    const input = pipelineInputSchema.parse(h.workflow.calls[0]!.input) as PipelineInput;
    expect(input.run).toMatchObject({ transform: 'none', nonNegative: false });
  });

  it('runs demand (the default) on log1p with the zero floor on, negatives forward-filled', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a'], 70, (_item, day) => (day % 2 === 0 ? 4 : -5));

    // Act
    await startPipelineFromEvent({ body: message({}) }, h.deps, config);

    // Assess
    const target = (await text(h, 's3://bucket/shop/20240301/target.csv')).trimEnd().split('\n');
    expect(target.slice(0, 2)).toEqual([`2024-01-01,a,${Math.log1p(4)}`, `2024-01-02,a,${Math.log1p(4)}`]);
    expect(pipelineInputSchema.parse(h.workflow.calls[0]!.input).run).toMatchObject({ transform: 'log1p', nonNegative: true });
  });

  it('treats a redelivered message as a duplicate and builds the identical input', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a'], 70);
    const body = JSON.stringify(message({}));

    // Act
    const first = (await startPipelineFromEvent({ Records: [{ messageId: 'm1', body }] }, h.deps, config)) as SqsBatchResponse;
    const second = (await startPipelineFromEvent({ Records: [{ messageId: 'm1', body }] }, h.deps, config)) as SqsBatchResponse;

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(second.runs[0]!.alreadyStarted).toBe(true);
    expect(h.workflow.calls[1]!.input).toEqual(h.workflow.calls[0]!.input);
  });

  it('rejects a bad SQS record at once (kept with its body and reasons, not a batch failure), keeps the good one, starts nothing for the bad one', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a'], 70);
    const records = [
      { messageId: 'bad', body: JSON.stringify(message({ ForecastHorizon: 'x' })) },
      { messageId: 'good', body: JSON.stringify(message({})) },
      { messageId: 'notjson', body: '{' },
    ];

    // Act
    const response = (await startPipelineFromEvent({ Records: records }, h.deps, config)) as SqsBatchResponse;

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(response.rejected.map((r) => r.messageId)).toEqual(['bad', 'notjson']);
    expect(h.workflow.calls.map((c) => c.name)).toEqual(['shop_2024_03_01']);
    const kept = JSON.parse((await h.store.get('s3://bucket/rejected/bad.json')).toString('utf8'));
    expect(kept).toMatchObject({ messageId: 'bad', body: records[0]!.body, error: 'InvalidInput' });
    expect(kept.reasons.join(' ')).toMatch(/ForecastHorizon/);
    expect(JSON.parse((await h.store.get('s3://bucket/rejected/notjson.json')).toString('utf8'))).toMatchObject({ body: '{', error: 'InvalidInput' });
  });

  it('leaves a record that failed for another reason (a warehouse outage) to SQS redelivery', async () => {
    // Prepare
    const deps = { ...h.deps, warehouse: () => Promise.reject(new Error('warehouse unreachable')) };
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);

    // Act
    const response = (await startPipelineFromEvent({ Records: [{ messageId: 'm1', body: JSON.stringify(message({})) }] }, deps, config).finally(() => quiet.mockRestore())) as SqsBatchResponse;

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(response.rejected).toEqual([]);
    expect(await h.store.list('s3://bucket/rejected/')).toEqual([]);
  });

  it('rejects data too short for the horizon with a clear error and leaves no files', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a'], 70);

    // Act
    const act = startPipelineFromEvent(message({ ForecastHorizon: 30 }), h.deps, config);

    // Assess
    await expect(act).rejects.toThrow(InvalidInput);
    await expect(act).rejects.toThrow(/ForecastHorizon 30 needs a history longer than 60 periods.*longest item has 60/);
    expect(await h.store.list('s3://bucket/')).toEqual([]);
    expect(h.workflow.calls).toEqual([]);
  });

  it('rejects related data that stops before the end of the forecast horizon', async () => {
    // Prepare: history to 2024-02-29, horizon 7 days, related only until 2024-03-03.
    await seedDaily(h.warehouse, 'shop', ['a'], 70);
    await seedRelated(h.warehouse, 'shop', ['a'], 63);

    // Act + Assess
    await expect(startPipelineFromEvent(message({}), h.deps, config)).rejects.toThrow(/RELATED_QUERY data ends 2024-03-03.*needs related values until 2024-03-07/);
    expect(await h.store.list('s3://bucket/')).toEqual([]);
  });

  it('rejects an empty target result naming the DataName', async () => {
    await expect(startPipelineFromEvent(message({ DataName: 'nothing' }), h.deps, config)).rejects.toThrow(/TARGET_QUERY returned no rows for DataName "nothing"/);
    expect(h.workflow.calls).toEqual([]);
  });

  it('rejects duplicated (item, timestamp) rows naming the item and leaves no files', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await seedDaily(h.warehouse, 'shop', ['b'], 1);

    // Act + Assess
    await expect(startPipelineFromEvent(message({}), h.deps, config)).rejects.toThrow(/item "b": duplicate rows for TIMESTAMP 2024-01-01/);
    expect(await h.store.list('s3://bucket/')).toEqual([]);
  });

  it('binds a hostile item id as a value: quotes and semicolons cannot change the SQL', async () => {
    // Prepare
    const hostile = `x'; DROP TABLE FORECAST_INPUT_TARGET; --"`;
    await seedDaily(h.warehouse, 'shop', [hostile], 70);

    // Act
    const summary = (await startPipelineFromEvent(message({}), h.deps, config)) as ParseSummary;

    // Assess
    expect(summary.rows.target).toBe(60);
    const first = (await text(h, 's3://bucket/shop/20240301/target.csv')).split('\n')[0];
    expect(first).toBe(`2024-01-01,"x'; DROP TABLE FORECAST_INPUT_TARGET; --""",${Math.log1p(10)}`);
  });
});
