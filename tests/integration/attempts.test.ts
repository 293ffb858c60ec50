/**
 * Runs are attempts (shared/parse/attempts.ts), through the real parse entry point on a DuckDB file
 * and a folder store, with a workflow that remembers its executions: a redelivery never starts an
 * attempt twice nor touches its files; a FAILED run runs again as a new attempt with its own prefix
 * and resource names; a corrected message waits while an attempt runs and replaces a finished one.
 */
import { describe, expect, it, vi } from 'vitest';
import { MAX_RESOURCE_NAME, RESOURCE_NAME_PATTERN } from '../../shared/names';
import { FORCE_NEW_ATTEMPT_ATTRIBUTE, parseConfigFromEnv, startPipelineFromEvent, type SqsBatchResponse } from '../../shared/parse';
import { recordFailure } from '../../shared/notify';
import { pipelineStateSchema, type PipelineInput } from '../../shared/state';
import { seedDaily, useDataHarness, type DataHarness } from './data-fixtures';

const config = parseConfigFromEnv({});
const RUN = 'shop_2024_03_01';
const param = (extra: Record<string, unknown> = {}) => ({ DataName: 'shop', ForecastHorizon: 7, dateCreate: '20240301', Models: ['ETS', 'NPTS'], ...extra });

function record(messageId: string, body: unknown, attributes: Record<string, string> = {}) {
  return {
    messageId,
    body: JSON.stringify(body),
    attributes: { MessageGroupId: 'shop' },
    messageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { stringValue: v, dataType: 'String' }])),
  };
}

async function deliver(h: DataHarness, messageId: string, body: unknown, attributes: Record<string, string> = {}): Promise<SqsBatchResponse> {
  const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return (await startPipelineFromEvent({ Records: [record(messageId, body, attributes)] }, h.deps, config)) as SqsBatchResponse;
  } finally {
    quiet.mockRestore();
  }
}

/** Every resource name an input makes. */
function resourceNames(input: PipelineInput): string[] {
  return [
    input.datasetGroup.name,
    ...input.datasets.flatMap((d) => [d.name, d.importJobName]),
    ...input.predictors.map((p) => p.name),
    ...input.forecasts.flatMap((f) => [f.name, f.exportJobName]),
  ];
}

function inputOf(h: DataHarness, name: string): PipelineInput {
  return h.workflow.calls.find((c) => c.name === name)!.input as PipelineInput;
}

/** The run's rows in FORECAST_RUN_ATTEMPTS, oldest attempt first. */
async function attemptRows(h: DataHarness): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const r of h.warehouse.query('SELECT ATTEMPT, EXECUTION_NAME, MESSAGE_HASH, STATUS, REASON FROM FORECAST_RUN_ATTEMPTS WHERE RUN_ID = ? ORDER BY ATTEMPT', [RUN])) rows.push(r);
  return rows;
}

describe('runs are attempts: parse with a workflow that remembers executions', () => {
  const h = useDataHarness();

  it('a redelivery of the message that started an attempt starts nothing and rewrites nothing, whatever the attempt became', async () => {
    // Prepare: attempt 1 started by message m1, then FAILED
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    expect((await deliver(h, 'm1', { param: param() })).runs[0]).toMatchObject({ attempt: 1, executionName: RUN, alreadyStarted: false });
    h.workflow.end(RUN, 'FAILED');
    const target = inputOf(h, RUN).datasets[0]!.s3Uri;
    await h.store.delete(target);

    // Act: SQS delivers m1 again (the Lambda's answer was lost)
    const again = await deliver(h, 'm1', { param: param() });

    // Assess
    expect(again.batchItemFailures).toEqual([]);
    expect(again.runs[0]).toMatchObject({ attempt: 1, executionName: RUN, alreadyStarted: true, rows: { target: 0 } });
    expect(h.workflow.calls.filter((c) => c.name !== RUN)).toEqual([]);
    expect(await h.store.exists(target)).toBe(false);
  });

  it('runs a FAILED run again as attempt 2 on a new delivery of the same message: own execution, prefix and resource names', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param({ PerformDelete: false }) });
    h.workflow.end(RUN, 'FAILED');
    const first = inputOf(h, RUN);
    const firstCsv = (await h.store.get(first.datasets[0]!.s3Uri)).toString('utf8');

    // Act
    const response = await deliver(h, 'm2', { param: param({ PerformDelete: false }) });

    // Assess
    expect(response.runs[0]).toMatchObject({ runId: RUN, attempt: 2, executionName: `${RUN}_a2`, alreadyStarted: false });
    const second = inputOf(h, `${RUN}_a2`);
    expect(second.run).toMatchObject({ runId: RUN, attempt: 2, executionName: `${RUN}_a2`, messageId: 'm2', messageHash: first.run.messageHash });
    expect(second.datasets[0]!.s3Uri).toBe('s3://bucket/shop/20240301/a2/target.csv');
    expect(second.forecasts.every((f) => f.exportS3Uri.startsWith('s3://bucket/shop/20240301/a2/exports/'))).toBe(true);
    const [namesOne, namesTwo] = [resourceNames(first), resourceNames(second)];
    expect(namesTwo.filter((n) => namesOne.includes(n))).toEqual([]);
    expect(second.predictors.map((p) => p.name)).toEqual(['shop_ETS_1_20240301_a2', 'shop_NPTS_1_20240301_a2']);
    // attempt 1's files are untouched
    expect((await h.store.get(first.datasets[0]!.s3Uri)).toString('utf8')).toBe(firstCsv);
  });

  it('a corrected message waits while an attempt runs (a batch failure, nothing written), then replaces it as the next attempt', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    const listing = async () => (await h.store.list('s3://bucket/')).map((o) => `${o.uri}:${o.size}`);
    const before = await listing();

    // Act: the corrected message (another horizon) while attempt 1 runs
    const waiting = await deliver(h, 'm2', { param: param({ ForecastHorizon: 5 }) });

    // Assess: left to SQS (not rejected: it is valid), nothing started or written
    expect(waiting.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect(waiting.rejected).toEqual([]);
    expect(h.workflow.calls.map((c) => c.name)).toEqual([RUN]);
    expect(await listing()).toEqual(before);

    // Act: attempt 1 ends (even SUCCEEDED); SQS delivers the corrected message again
    h.workflow.end(RUN, 'SUCCEEDED');
    const replaced = await deliver(h, 'm2', { param: param({ ForecastHorizon: 5 }) });

    // Assess
    expect(replaced.runs[0]).toMatchObject({ attempt: 2, alreadyStarted: false });
    expect(inputOf(h, `${RUN}_a2`).run.forecastHorizon).toBe(5);
  });

  it('keeps a SUCCEEDED run exactly once for the same message, unless the message asks for a new attempt', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    h.workflow.end(RUN, 'SUCCEEDED');

    // Act
    const same = await deliver(h, 'm2', { param: param() });
    const forced = await deliver(h, 'm3', { param: param() }, { [FORCE_NEW_ATTEMPT_ATTRIBUTE]: 'true' });

    // Assess
    expect(same.runs[0]).toMatchObject({ attempt: 1, alreadyStarted: true });
    expect(forced.runs[0]).toMatchObject({ attempt: 2, executionName: `${RUN}_a2`, alreadyStarted: false });
    expect(h.workflow.calls.map((c) => c.name)).toEqual([RUN, RUN, `${RUN}_a2`]);
  });

  it('keeps every name of a late attempt of a long DataName a valid Forecast name', async () => {
    // Prepare: a 45-character DataName (the longest allowed) and 11 failed attempts
    const dataName = `d${'x'.repeat(44)}`;
    await seedDaily(h.warehouse, dataName, ['a'], 70);
    for (let n = 1; n <= 11; n++) {
      await deliver(h, `m${n}`, { param: param({ DataName: dataName }) });
      h.workflow.end(h.workflow.calls.at(-1)!.name, 'FAILED');
    }

    // Act
    const response = await deliver(h, 'm12', { param: param({ DataName: dataName }) });

    // Assess
    expect(response.runs[0]).toMatchObject({ attempt: 12 });
    const names = resourceNames(h.workflow.calls.at(-1)!.input as PipelineInput);
    for (const name of names) {
      expect(name.length, name).toBeLessThanOrEqual(MAX_RESOURCE_NAME);
      expect(name, name).toMatch(RESOURCE_NAME_PATTERN);
    }
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('the warehouse shows every attempt from its start: parse writes the RUNNING row and the ends no step recorded', () => {
  const h = useDataHarness();

  it('gives a started attempt a RUNNING row, and writes no second row on redelivery (also when the first write was lost)', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);

    // Act
    await deliver(h, 'm1', { param: param() });

    // Assess
    const hash = inputOf(h, RUN).run.messageHash;
    expect(await attemptRows(h)).toEqual([{ ATTEMPT: 1, EXECUTION_NAME: RUN, MESSAGE_HASH: hash, STATUS: 'RUNNING', REASON: null }]);

    // Act: SQS delivers m1 again, and the same message as m2, while attempt 1 runs
    await deliver(h, 'm1', { param: param() });
    await deliver(h, 'm2', { param: param() });

    // Assess
    expect(await attemptRows(h)).toEqual([{ ATTEMPT: 1, EXECUTION_NAME: RUN, MESSAGE_HASH: hash, STATUS: 'RUNNING', REASON: null }]);

    // Act: the row is lost (parse died after StartExecution); the redelivery writes it
    await h.warehouse.execute('DELETE FROM FORECAST_RUN_ATTEMPTS');
    const again = await deliver(h, 'm1', { param: param() });

    // Assess
    expect(again.runs[0]).toMatchObject({ attempt: 1, alreadyStarted: true });
    expect(await attemptRows(h)).toEqual([{ ATTEMPT: 1, EXECUTION_NAME: RUN, MESSAGE_HASH: hash, STATUS: 'RUNNING', REASON: null }]);
  });

  it.each(['ABORTED', 'TIMED_OUT'] as const)('records an attempt that ended %s (no Catch ran) with that status when the next message comes', async (status) => {
    // Prepare: attempt 1 runs, then the workflow ends it where no step runs
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    h.workflow.end(RUN, status);
    const hash = inputOf(h, RUN).run.messageHash;

    // Act
    const response = await deliver(h, 'm2', { param: param() });

    // Assess
    expect(response.runs[0]).toMatchObject({ attempt: 2, executionName: `${RUN}_a2`, alreadyStarted: false });
    expect(await attemptRows(h)).toEqual([
      { ATTEMPT: 1, EXECUTION_NAME: RUN, MESSAGE_HASH: hash, STATUS: status, REASON: `execution ${status}; no step recorded its end` },
      { ATTEMPT: 2, EXECUTION_NAME: `${RUN}_a2`, MESSAGE_HASH: hash, STATUS: 'RUNNING', REASON: null },
    ]);

    // Act: a redelivery of the message that started attempt 2 changes nothing
    await deliver(h, 'm2', { param: param() });

    // Assess
    expect((await attemptRows(h)).map((r) => r.STATUS)).toEqual([status, 'RUNNING']);
  });

  it('records an aborted attempt also when a corrected message replaces it, and when that message is rejected', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    h.workflow.end(RUN, 'ABORTED');

    // Act: a message whose horizon the data cannot back (rejected), after the execution was aborted
    const rejected = await deliver(h, 'm2', { param: param({ ForecastHorizon: 60, NumberOfBacktestWindows: 5 }) });

    // Assess: no attempt 2, but attempt 1's end is in the warehouse
    expect(rejected.runs).toEqual([]);
    expect(rejected.rejected.map((r) => r.messageId)).toEqual(['m2']);
    expect(h.workflow.calls.map((c) => c.name)).toEqual([RUN]);
    expect((await attemptRows(h)).map((r) => [r.ATTEMPT, r.STATUS])).toEqual([[1, 'ABORTED']]);
  });

  it('never changes a status a step recorded', async () => {
    // Prepare: attempt 1 FAILED, recorded by the failure step with its reason
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    await recordFailure(pipelineStateSchema.parse({ ...inputOf(h, RUN), error: { Error: 'ResourceFailed', Cause: 'ETS: training failed', State: 'Create-Predictors' } }), h.deps);
    h.workflow.end(RUN, 'FAILED');

    // Act
    await deliver(h, 'm2', { param: param() });

    // Assess: the failure step's row replaced parse's RUNNING row and stays; attempt 2 runs
    expect((await attemptRows(h)).map((r) => [r.ATTEMPT, r.STATUS, r.REASON])).toEqual([
      [1, 'FAILED', 'Create-Predictors: ResourceFailed: ETS: training failed'],
      [2, 'RUNNING', null],
    ]);
  });

  it('records FAILED for a failed execution whose row still says RUNNING (the failure step itself failed)', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    h.workflow.end(RUN, 'FAILED');

    // Act
    await deliver(h, 'm2', { param: param() });

    // Assess
    expect((await attemptRows(h)).map((r) => [r.ATTEMPT, r.STATUS, r.REASON])).toEqual([
      [1, 'FAILED', 'execution FAILED; no step recorded its end'],
      [2, 'RUNNING', null],
    ]);
  });
});
