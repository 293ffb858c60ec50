/**
 * Attempts and re-runs on the Step Functions adapter: the real parse entry point and the real
 * StepFunctionsStarter over a mocked SFN client that keeps executions as Step Functions does (a name
 * is taken once; StartExecution of a taken name is ExecutionAlreadyExists; DescribeExecution of an
 * unknown one is ExecutionDoesNotExist).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { StepFunctionsStarter, executionArnOf } from '../../shared/adapters/sfn-workflow';
import { parseConfigFromEnv, startPipelineFromEvent, type SqsBatchResponse } from '../../shared/parse';
import type { PipelineInput } from '../../shared/state';
import { seedDaily, useDataHarness, type DataHarness } from './data-fixtures';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Forecast';
const RUN = 'shop_2024_03_01';
const config = parseConfigFromEnv({});
const param = (extra: Record<string, unknown> = {}) => ({ DataName: 'shop', ForecastHorizon: 7, dateCreate: '20240301', Models: ['ETS'], ...extra });

const sfn = mockClient(SFNClient);
const executions = new Map<string, { status: ExecutionStatus; input: string }>();

beforeEach(() => {
  executions.clear();
  sfn.on(StartExecutionCommand).callsFake((input: { name: string; input: string }) => {
    if (executions.has(input.name)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${input.name}'`, $metadata: {} });
    executions.set(input.name, { status: 'RUNNING', input: input.input });
    return { executionArn: executionArnOf(MACHINE, input.name), startDate: new Date() };
  });
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const name = input.executionArn.split(':').pop()!;
    const execution = executions.get(name);
    if (!execution) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: {} });
    return { executionArn: input.executionArn, stateMachineArn: MACHINE, name, status: execution.status, input: execution.input, startDate: new Date() };
  });
});
afterEach(() => sfn.reset());
afterAll(() => sfn.restore());

function end(name: string, status: ExecutionStatus): void {
  executions.set(name, { ...executions.get(name)!, status });
}

async function deliver(h: DataHarness, messageId: string, body: unknown): Promise<SqsBatchResponse> {
  const deps = { ...h.deps, workflow: new StepFunctionsStarter(MACHINE, new SFNClient({})) };
  const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return (await startPipelineFromEvent({ Records: [{ messageId, body: JSON.stringify(body), attributes: { MessageGroupId: 'shop' } }] }, deps, config)) as SqsBatchResponse;
  } finally {
    quiet.mockRestore();
  }
}

const started = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);

describe('Step Functions adapter: attempts and re-runs (mocked SFN)', () => {
  const h = useDataHarness();

  it('re-runs a FAILED execution with the same message as attempt 2 (not "already started")', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    end(RUN, 'FAILED');

    // Act
    const response = await deliver(h, 'm2', { param: param() });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(response.runs[0]).toMatchObject({ attempt: 2, executionName: `${RUN}_a2`, alreadyStarted: false, executionArn: executionArnOf(MACHINE, `${RUN}_a2`) });
    expect(started()).toEqual([RUN, `${RUN}_a2`]);
    const input = JSON.parse(executions.get(`${RUN}_a2`)!.input) as PipelineInput;
    expect(input.run).toMatchObject({ runId: RUN, attempt: 2, messageId: 'm2' });
    expect(input.datasets[0]!.s3Uri).toBe('s3://bucket/shop/20240301/a2/target.csv');
  });

  it('replaces a FAILED (or PARTIAL) execution with a corrected message: no ExecutionAlreadyExists, no overwritten CSVs', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    end(RUN, 'FAILED');
    const firstCsv = (await h.store.get('s3://bucket/shop/20240301/target.csv')).toString('utf8');

    // Act: the corrected message (another horizon and models)
    const response = await deliver(h, 'm2', { param: param({ ForecastHorizon: 5, Models: ['ETS', 'NPTS'] }) });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(response.runs[0]).toMatchObject({ attempt: 2, alreadyStarted: false });
    expect((JSON.parse(executions.get(`${RUN}_a2`)!.input) as PipelineInput).predictors.map((p) => p.name)).toEqual(['shop_ETS_1_20240301_a2', 'shop_NPTS_1_20240301_a2']);
    expect((await h.store.get('s3://bucket/shop/20240301/target.csv')).toString('utf8')).toBe(firstCsv);
  });

  it('answers a redelivery "already started" from the execution, without extracting or starting anything new', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    end(RUN, 'FAILED');
    await h.store.delete('s3://bucket/shop/20240301/target.csv');

    // Act
    const response = await deliver(h, 'm1', { param: param() });

    // Assess
    expect(response.runs[0]).toMatchObject({ attempt: 1, alreadyStarted: true, rows: { target: 0, related: 0, validation: 0 } });
    expect(new Set(started())).toEqual(new Set([RUN]));
    expect(await h.store.exists('s3://bucket/shop/20240301/target.csv')).toBe(false);
  });

  it('leaves a corrected message to SQS while an attempt runs, and keeps exactly-once for a SUCCEEDED run', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });

    // Act
    const corrected = await deliver(h, 'm2', { param: param({ ForecastHorizon: 5 }) });
    end(RUN, 'SUCCEEDED');
    const duplicate = await deliver(h, 'm3', { param: param() });

    // Assess
    expect(corrected.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect(duplicate.runs[0]).toMatchObject({ attempt: 1, alreadyStarted: true });
    expect([...executions.keys()]).toEqual([RUN]);
  });

  it('records the end DescribeExecution gives an execution no step ended (TIMED_OUT), before attempt 2 gets its RUNNING row', async () => {
    // Prepare
    await seedDaily(h.warehouse, 'shop', ['a', 'b'], 70);
    await deliver(h, 'm1', { param: param() });
    const rows = async () => {
      const found: unknown[] = [];
      for await (const r of h.warehouse.query('SELECT ATTEMPT, EXECUTION_NAME, STATUS, REASON FROM FORECAST_RUN_ATTEMPTS WHERE RUN_ID = ? ORDER BY ATTEMPT', [RUN])) found.push(r);
      return found;
    };
    expect(await rows()).toEqual([{ ATTEMPT: 1, EXECUTION_NAME: RUN, STATUS: 'RUNNING', REASON: null }]);
    end(RUN, 'TIMED_OUT');

    // Act
    await deliver(h, 'm2', { param: param() });
    await deliver(h, 'm2', { param: param() });

    // Assess
    expect(started()).toEqual([RUN, `${RUN}_a2`, `${RUN}_a2`]);
    expect(await rows()).toEqual([
      { ATTEMPT: 1, EXECUTION_NAME: RUN, STATUS: 'TIMED_OUT', REASON: 'execution TIMED_OUT; no step recorded its end' },
      { ATTEMPT: 2, EXECUTION_NAME: `${RUN}_a2`, STATUS: 'RUNNING', REASON: null },
    ]);
  });

  it('describes an unknown execution as absent and refuses a status it does not know', async () => {
    const starter = new StepFunctionsStarter(MACHINE, new SFNClient({}));
    expect(await starter.describeExecution('nope')).toBeUndefined();
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SOMETHING_NEW' as ExecutionStatus, input: '{}' });
    await expect(starter.describeExecution('x')).rejects.toThrow(/SOMETHING_NEW/);
  });
});
