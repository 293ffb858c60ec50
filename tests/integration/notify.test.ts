import { describe, expect, it } from 'vitest';
import { parseConfigFromEnv, startPipelineFromEvent } from '../../shared/parse';
import { publishResults, recordCleanupFailure, recordFailure } from '../../shared/notify';
import { handleFailure } from '../../shared/steps/failure';
import { pipelineStateSchema, type PipelineInput, type PipelineState } from '../../shared/state';
import { count, seedDaily, useDataHarness, WAREHOUSE_KINDS, type DataHarness } from './data-fixtures';
import { deleteRunResults, insertForecastRows, setForecastAvailable, writeRunStatus } from '../../shared/warehouse/writers';

const config = parseConfigFromEnv({});
const DAY = 86_400_000;

/** Writes an export of `days` days from 2024-03-01 per item, split over `parts` part files, in log space. */
async function writeExport(h: DataHarness, uri: string, jobName: string, items: readonly string[], days: number, parts: number, value: (item: string, day: number) => number): Promise<number> {
  const lines: string[] = [];
  for (const item of items) {
    for (let d = 0; d < days; d++) {
      const date = new Date(Date.UTC(2024, 2, 1) + d * DAY).toISOString().replace('.000Z', 'Z');
      const v = value(item, d);
      const field = /[",]/.test(item) ? `"${item.replace(/"/g, '""')}"` : item;
      lines.push(`${field},${date},${Math.log1p(v * 0.8)},${Math.log1p(v)},${Math.log1p(v * 1.2)}`);
    }
  }
  const per = Math.ceil(lines.length / parts);
  for (let p = 0; p < parts; p++) {
    const body = ['item_id,date,p10,p50,p90', ...lines.slice(p * per, (p + 1) * per)].join('\n') + '\n';
    await h.store.put(`${uri}${jobName}_2024-03-01T10-00-00Z_part${p}.csv`, body);
  }
  await h.store.put(`${uri}_SUCCESS`, '');
  return lines.length * 3;
}

async function runState(h: DataHarness, items: readonly string[], dataName = 'shop'): Promise<PipelineState> {
  await seedDaily(h.warehouse, dataName, items, 67);
  await startPipelineFromEvent(
    { param: { DataName: dataName, ForecastHorizon: 7, dateCreate: '20240301', Models: ['ETS', 'NPTS'], ForecastTypes: ['0.1', '0.5', '0.9'] } },
    h.deps,
    config,
  );
  const input = h.workflow.calls.at(-1)!.input as PipelineInput;
  const metrics = { rmse: 1.5, wape: 0.1, mape: 0.2, mase: 0.9, averageWeightedQuantileLoss: 0.05, weightedQuantileLosses: { '0.1': 0.03, '0.5': 0.08, '0.9': 0.04 } };
  return pipelineStateSchema.parse({
    ...input,
    results: {
      predictors: input.predictors.map((p) => ({ name: p.name, model: p.model, arn: `arn:${p.name}`, status: 'ACTIVE', metrics })),
      forecasts: input.forecasts.map((f) => ({ name: f.name, predictorName: f.predictorName, model: f.model, arn: `arn:${f.name}`, exportJobArn: `arn:${f.exportJobName}`, exportS3Uri: f.exportS3Uri })),
    },
  });
}

describe.each(WAREHOUSE_KINDS)('Function: publishResults (%s warehouse + folder store)', (kind) => {
  const h = useDataHarness(kind);

  it("replaces parse's RUNNING row of the attempt with the delivered status: one row per attempt", async () => {
    // Prepare: parse started the attempt (RUNNING row); its exports are written
    const items = ['a', 'b'];
    const state = await runState(h, items);
    for (const f of state.forecasts) await writeExport(h, f.exportS3Uri, f.exportJobName, items, 7, 1, () => 50);
    const rows = async () => {
      const found: unknown[] = [];
      for await (const r of h.warehouse.query('SELECT ATTEMPT, EXECUTION_NAME, MESSAGE_HASH, STATUS FROM FORECAST_RUN_ATTEMPTS')) found.push(r);
      return found;
    };
    const running = { ATTEMPT: 1, EXECUTION_NAME: 'shop_2024_03_01', MESSAGE_HASH: state.run.messageHash };
    expect(await rows()).toEqual([{ ...running, STATUS: 'RUNNING' }]);

    // Act
    await publishResults(state, h.deps);

    // Assess
    expect(await rows()).toEqual([{ ...running, STATUS: 'SUCCEEDED' }]);
  });

  it('writes every row of every part file of each export, un-logged; a re-run leaves counts unchanged', async () => {
    // Prepare: 2 models; ETS exported in 3 parts, NPTS in 2; a neighbouring folder whose name starts the same must be ignored.
    const items = ['a', 'b', 'c'];
    const state = await runState(h, items);
    const [ets, npts] = state.forecasts;
    const value = (item: string, day: number) => 10 * (items.indexOf(item) + 1) + 60 + day;
    const expected =
      (await writeExport(h, ets!.exportS3Uri, ets!.exportJobName, items, 7, 3, value)) +
      (await writeExport(h, npts!.exportS3Uri, npts!.exportJobName, items, 7, 2, value));
    await writeExport(h, ets!.exportS3Uri.replace(/\/$/, '_old/'), ets!.exportJobName, items, 7, 1, () => 999);

    // Act
    const first = await publishResults(state, h.deps);
    const again = await publishResults(state, h.deps);

    // Assess
    expect(first).toEqual({ status: 'SUCCEEDED', forecastRows: expected, metricRows: first.metricRows, failedModels: [] });
    expect(again).toEqual(first);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RESULTS')).toBe(expected);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_METRICS')).toBe(first.metricRows);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RUNS')).toBe(1);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_PARAMETERS WHERE FORECAST_AVAILABLE')).toBe(1);
    // Inverse transform: p50 of item b on 2024-03-03 = 20 + 60 + 2.
    const p50 = await count(h.warehouse, "SELECT VALUE FROM FORECAST_RESULTS WHERE MODEL = 'ETS' AND ITEM_ID = 'b' AND FORECAST_TYPE = 'p50' AND FORECAST_DATE = TIMESTAMP '2024-03-03 00:00:00'");
    expect(Math.abs(p50 - 82)).toBeLessThan(1e-9);
    expect(await count(h.warehouse, 'SELECT MAX(VALUE) FROM FORECAST_RESULTS')).toBeLessThan(999);
  });

  it('writes backtest metrics per model and realised accuracy where validation actuals overlap', async () => {
    // Prepare: actuals for 2024-03-01..07 equal the exported p50, so realised WAPE = 0.
    const items = ['a'];
    const state = await runState(h, items);
    for (const f of state.forecasts) await writeExport(h, f.exportS3Uri, f.exportJobName, items, 7, 1, (_i, d) => 10 + 60 + d);

    // Act
    await publishResults(state, h.deps);

    // Assess
    const rows: Record<string, unknown>[] = [];
    for await (const r of h.warehouse.query("SELECT SOURCE, METRIC, FORECAST_TYPE, VALUE FROM FORECAST_METRICS WHERE MODEL = 'ETS' ORDER BY SOURCE, METRIC, FORECAST_TYPE")) rows.push(r);
    const backtest = rows.filter((r) => r.SOURCE === 'BACKTEST').map((r) => `${r.METRIC}:${r.FORECAST_TYPE ?? ''}`);
    expect(backtest).toEqual(['AVG_WQL:', 'MAPE:', 'MASE:', 'RMSE:', 'WAPE:', 'WQL:p10', 'WQL:p50', 'WQL:p90']);
    const realised = Object.fromEntries(rows.filter((r) => r.SOURCE === 'REALISED').map((r) => [`${r.METRIC}:${r.FORECAST_TYPE ?? ''}`, r.VALUE as number]));
    expect(realised['OBSERVATIONS:']).toBe(7);
    expect(realised['WAPE:']).toBeLessThan(1e-9);
    expect(realised['WQL:p50']).toBeLessThan(1e-9);
    expect(realised['WQL:p90']).toBeGreaterThan(0);
  });

  it('marks the run PARTIAL with the failed model and its reason, and still delivers the others', async () => {
    // Prepare
    const items = ['a'];
    const state = await runState(h, items);
    const ets = state.forecasts[0]!;
    await writeExport(h, ets.exportS3Uri, ets.exportJobName, items, 7, 1, () => 5);
    state.results.predictors![1] = { ...state.results.predictors![1]!, status: 'CREATE_FAILED', message: 'not enough data' };

    // Act
    const result = await publishResults(state, h.deps);

    // Assess
    expect(result).toMatchObject({ status: 'PARTIAL', forecastRows: 21, failedModels: ['NPTS'] });
    const reasons: unknown[] = [];
    for await (const r of h.warehouse.query('SELECT STATUS, REASON FROM FORECAST_RUNS')) reasons.push(r);
    expect(reasons).toEqual([{ STATUS: 'PARTIAL', REASON: expect.stringContaining('NPTS: predictor shop_NPTS_1_20240301 failed: not enough data') }]);
  });

  it('keeps hostile DataName-like item ids as data: quotes and semicolons cannot change the SQL', async () => {
    // Prepare
    const hostile = `it'em"; DELETE FROM FORECAST_RUNS; --`;
    const state = await runState(h, [hostile]);
    for (const f of state.forecasts) await writeExport(h, f.exportS3Uri, f.exportJobName, [hostile], 7, 1, () => 3);

    // Act
    await publishResults(state, h.deps);
    await publishResults(state, h.deps);

    // Assess
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RESULTS WHERE ITEM_ID = ?', [hostile])).toBe(42);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RUNS')).toBe(1);
  });

  it('writes a hostile dataset name through every writer as a value, never as SQL', async () => {
    // Prepare: the message contract rejects such names; the writers must be safe on their own too.
    const run = { dataName: `d'; DROP TABLE FORECAST_RUNS; --`, runId: `r"); DELETE FROM FORECAST_RESULTS; --` };
    const forecast = { model: 'ETS', predictorName: 'p', itemId: `i'--`, dimensions: null, date: new Date(Date.UTC(2024, 2, 1)), forecastType: 'p50', value: 1 };

    // Act
    for (let i = 0; i < 2; i++) {
      await h.warehouse.transaction(async (tx) => {
        await deleteRunResults(tx, run);
        await insertForecastRows(tx, run, [forecast]);
        await writeRunStatus(tx, run, { dateCreate: '20240301', status: 'SUCCEEDED', reason: `it's; fine`, failedModels: [], forecastRows: 1, metricRows: 0 });
        await setForecastAvailable(tx, run);
      });
    }

    // Assess
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RESULTS WHERE DATASET_NAME = ? AND RUN_ID = ?', [run.dataName, run.runId])).toBe(1);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RUNS WHERE RUN_ID = ?', [run.runId])).toBe(1);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_PARAMETERS WHERE DATASET_NAME = ?', [run.dataName])).toBe(1);
  });

  it('records a failure (status FAILED + reason) once, whatever the number of retries', async () => {
    // Prepare
    const state = await runState(h, ['a']);
    const failed = { ...state, error: { Error: 'ResourceFailed', Cause: JSON.stringify({ errorType: 'ResourceFailed', errorMessage: 'import job failed' }), State: 'Create-ImportJobs' } };

    // Act
    const result = await recordFailure(failed, h.deps);
    await recordFailure(failed, h.deps);

    // Assess
    expect(result).toEqual({ error: 'ResourceFailed', cause: 'import job failed', failedState: 'Create-ImportJobs' });
    const rows: unknown[] = [];
    for await (const r of h.warehouse.query('SELECT RUN_ID, STATUS, REASON FROM FORECAST_RUNS')) rows.push(r);
    expect(rows).toEqual([{ RUN_ID: 'shop_2024_03_01', STATUS: 'FAILED', REASON: 'Create-ImportJobs: ResourceFailed: import job failed' }]);
  });
  it('records a cleanup failure next to a delivered run: status and counts stay, CLEANUP_ERROR added once, announced', async () => {
    // Prepare: a run notify delivered (SUCCEEDED), then Delete-Datasets gave up.
    const items = ['a'];
    const state = await runState(h, items);
    for (const f of state.forecasts) await writeExport(h, f.exportS3Uri, f.exportJobName, items, 7, 1, () => 5);
    const notify = await publishResults(state, h.deps);
    const cleanupError = { Error: 'InvalidInputException', Cause: JSON.stringify({ errorType: 'InvalidInputException', errorMessage: 'DeleteDataset refused' }), State: 'Delete-Datasets' };
    const failedCleanup = pipelineStateSchema.parse({ ...state, results: { ...state.results, notify }, cleanupError });
    const announced: { subject: string; message: unknown }[] = [];
    const announcer = { announce: async (subject: string, message: unknown) => void announced.push({ subject, message }) };

    // Act: the Failure function, retried once
    const result = await handleFailure(failedCleanup, { ...h.deps, announcer });
    await handleFailure(failedCleanup, { ...h.deps, announcer });

    // Assess
    expect(result).toEqual({ error: 'InvalidInputException', cause: 'DeleteDataset refused', failedState: 'Delete-Datasets', runStatus: 'SUCCEEDED' });
    const rows: unknown[] = [];
    for await (const r of h.warehouse.query('SELECT STATUS, FORECAST_ROWS, CLEANUP_ERROR FROM FORECAST_RUNS')) rows.push(r);
    expect(rows).toEqual([{ STATUS: 'SUCCEEDED', FORECAST_ROWS: notify.forecastRows, CLEANUP_ERROR: 'Delete-Datasets: InvalidInputException: DeleteDataset refused' }]);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RESULTS')).toBe(notify.forecastRows);
    expect(announced[0]!.subject).toBe('Forecast run shop_2024_03_01 SUCCEEDED, cleanup FAILED');
    expect(announced[0]!.message).toMatchObject({ status: 'SUCCEEDED', cleanupError: { failedState: 'Delete-Datasets' } });
  });

  it("takes parse's RUNNING row for no recorded end: a cleanup failure before any status writes the failure over it, one row", async () => {
    // Prepare: parse started the attempt; no step recorded its end (the failure record itself failed)
    const state = await runState(h, ['a']);
    const failed = pipelineStateSchema.parse({ ...state, error: { Error: 'ResourceFailed', State: 'Create-Predictors' }, cleanupError: { Error: 'ResourceFailed', Cause: 'DELETE_FAILED', State: 'Delete-Forecasts' } });

    // Act
    const result = await recordCleanupFailure(failed, h.deps);

    // Assess
    expect(result.runStatus).toBe('FAILED');
    const rows: unknown[] = [];
    for await (const r of h.warehouse.query('SELECT ATTEMPT, STATUS, REASON, CLEANUP_ERROR FROM FORECAST_RUN_ATTEMPTS')) rows.push(r);
    expect(rows).toEqual([{ ATTEMPT: 1, STATUS: 'FAILED', REASON: 'Create-Predictors: ResourceFailed', CLEANUP_ERROR: 'Delete-Forecasts: ResourceFailed: DELETE_FAILED' }]);
  });

  it('keeps a FAILED record FAILED, and adds CLEANUP_ERROR to a status table created before the column existed', async () => {
    // Prepare: FORECAST_RUNS as older releases created it (no CLEANUP_ERROR), with the failure record of the run.
    await h.warehouse.execute('DROP TABLE FORECAST_RUNS');
    await h.warehouse.execute(
      'CREATE TABLE FORECAST_RUNS (RUN_ID VARCHAR NOT NULL, DATASET_NAME VARCHAR NOT NULL, DATE_CREATE VARCHAR NOT NULL, STATUS VARCHAR NOT NULL, REASON VARCHAR, FAILED_MODELS VARCHAR, FORECAST_ROWS INTEGER, METRIC_ROWS INTEGER, UPDATED_AT TIMESTAMP NOT NULL)',
    );
    await h.warehouse.execute("INSERT INTO FORECAST_RUNS VALUES ('shop_2024_03_01', 'shop', '20240301', 'FAILED', 'Create-Predictors: ResourceFailed', NULL, NULL, NULL, TIMESTAMP '2024-03-01 00:00:00')");
    const state = await runState(h, ['a']);
    const failed = pipelineStateSchema.parse({ ...state, error: { Error: 'ResourceFailed', State: 'Create-Predictors' }, cleanupError: { Error: 'ResourceFailed', Cause: 'DELETE_FAILED', State: 'Delete-Forecasts' } });

    // Act
    const result = await recordCleanupFailure(failed, h.deps);

    // Assess
    expect(result.runStatus).toBe('FAILED');
    const rows: unknown[] = [];
    for await (const r of h.warehouse.query('SELECT STATUS, REASON, CLEANUP_ERROR FROM FORECAST_RUNS')) rows.push(r);
    expect(rows).toEqual([{ STATUS: 'FAILED', REASON: 'Create-Predictors: ResourceFailed', CLEANUP_ERROR: 'Delete-Forecasts: ResourceFailed: DELETE_FAILED' }]);
  });

  it('records a failure after notify committed (the SNS publish) as a post-delivery error on the delivered run, not as FAILED', async () => {
    // Prepare: notify's transaction committed, then its announcement failed (Caught-Notify → Failure)
    const items = ['a'];
    const state = await runState(h, items);
    for (const f of state.forecasts) await writeExport(h, f.exportS3Uri, f.exportJobName, items, 7, 1, () => 5);
    const notify = await publishResults(state, h.deps);
    const failed = pipelineStateSchema.parse({ ...state, error: { Error: 'InternalErrorException', Cause: JSON.stringify({ errorType: 'InternalErrorException', errorMessage: 'SNS publish failed' }), State: 'Notify' } });
    const announced: { subject: string; message: unknown }[] = [];
    const announcer = { announce: async (subject: string, message: unknown) => void announced.push({ subject, message }) };

    // Act: the Failure function, retried once
    const result = await handleFailure(failed, { ...h.deps, announcer });
    await handleFailure(failed, { ...h.deps, announcer });

    // Assess: the warehouse says what is published
    expect(result).toEqual({ error: 'InternalErrorException', cause: 'SNS publish failed', failedState: 'Notify', postDeliveryOf: 'SUCCEEDED' });
    const rows: unknown[] = [];
    for await (const r of h.warehouse.query('SELECT STATUS, REASON, FORECAST_ROWS, POST_DELIVERY_ERROR, ATTEMPT FROM FORECAST_RUNS')) rows.push(r);
    expect(rows).toEqual([{ STATUS: 'SUCCEEDED', REASON: null, FORECAST_ROWS: notify.forecastRows, POST_DELIVERY_ERROR: 'Notify: InternalErrorException: SNS publish failed', ATTEMPT: 1 }]);
    expect(await count(h.warehouse, "SELECT COUNT(*) FROM FORECAST_RUN_ATTEMPTS WHERE STATUS = 'SUCCEEDED' AND POST_DELIVERY_ERROR IS NOT NULL")).toBe(1);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RESULTS')).toBe(notify.forecastRows);
    expect(announced[0]!.subject).toBe('Forecast run shop_2024_03_01 SUCCEEDED, then failed after delivery');
  });

  it('still records FAILED when notify failed before its commit', async () => {
    // Prepare: no delivery of this attempt
    const state = await runState(h, ['a']);
    const failed = pipelineStateSchema.parse({ ...state, error: { Error: 'Error', Cause: 'warehouse unreachable', State: 'Notify' } });

    // Act
    const result = await recordFailure(failed, h.deps);

    // Assess
    expect(result.postDeliveryOf).toBeUndefined();
    expect(await count(h.warehouse, "SELECT COUNT(*) FROM FORECAST_RUNS WHERE STATUS = 'FAILED' AND POST_DELIVERY_ERROR IS NULL")).toBe(1);
  });

  it('keeps every attempt\'s status; FORECAST_RUNS shows the delivered attempt, a failed re-run never hides it, a delivering re-run replaces it once', async () => {
    // Prepare: attempt 1 PARTIAL (NPTS failed), delivered
    const items = ['a'];
    const first = await runState(h, items);
    await writeExport(h, first.forecasts[0]!.exportS3Uri, first.forecasts[0]!.exportJobName, items, 7, 1, () => 5);
    first.results.predictors![1] = { ...first.results.predictors![1]!, status: 'CREATE_FAILED', message: 'not enough data' };
    const partial = await publishResults(first, h.deps);
    const attempt = (n: number) => pipelineStateSchema.parse({ ...first, run: { ...first.run, attempt: n, executionName: `shop_2024_03_01_a${n}` } });
    const runs = async () => {
      const rows: unknown[] = [];
      for await (const r of h.warehouse.query('SELECT STATUS, ATTEMPT FROM FORECAST_RUNS')) rows.push(r);
      return rows;
    };

    // Act: attempt 2 fails outright
    await recordFailure(pipelineStateSchema.parse({ ...attempt(2), error: { Error: 'ResourceFailed', State: 'Create-Predictors' } }), h.deps);

    // Assess
    expect(await runs()).toEqual([{ STATUS: 'PARTIAL', ATTEMPT: 1 }]);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RESULTS')).toBe(partial.forecastRows);

    // Act: attempt 3 delivers both models
    const third = attempt(3);
    third.results.predictors![1] = { ...third.results.predictors![1]!, status: 'ACTIVE' };
    delete third.results.predictors![1]!.message;
    await writeExport(h, third.forecasts[1]!.exportS3Uri, third.forecasts[1]!.exportJobName, items, 7, 1, () => 5);
    const full = await publishResults(third, h.deps);

    // Assess: results exactly once per run, every attempt kept
    expect(full.status).toBe('SUCCEEDED');
    expect(await runs()).toEqual([{ STATUS: 'SUCCEEDED', ATTEMPT: 3 }]);
    expect(await count(h.warehouse, 'SELECT COUNT(*) FROM FORECAST_RESULTS')).toBe(full.forecastRows);
    expect(full.forecastRows).toBe(2 * partial.forecastRows);
    const attempts: unknown[] = [];
    for await (const r of h.warehouse.query('SELECT ATTEMPT, EXECUTION_NAME, STATUS FROM FORECAST_RUN_ATTEMPTS ORDER BY ATTEMPT')) attempts.push(r);
    expect(attempts).toEqual([
      { ATTEMPT: 1, EXECUTION_NAME: 'shop_2024_03_01', STATUS: 'PARTIAL' },
      { ATTEMPT: 2, EXECUTION_NAME: 'shop_2024_03_01_a2', STATUS: 'FAILED' },
      { ATTEMPT: 3, EXECUTION_NAME: 'shop_2024_03_01_a3', STATUS: 'SUCCEEDED' },
    ]);
  });
});
