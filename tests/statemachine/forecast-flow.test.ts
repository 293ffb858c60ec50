/**
 * The deployed ASL file, run through aws-local-stepfunctions with stubbed step handlers:
 * one scenario per path, asserting on the execution (states entered, retries, final status).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Before the interpreter runs: Promise.withResolvers on Node 20.
import '../../local/polyfill';

type Json = any;
type Handler = (input: Json) => Promise<Json> | Json;
let StateMachine: typeof import('aws-local-stepfunctions').StateMachine;
beforeAll(async () => {
  ({ StateMachine } = await import('aws-local-stepfunctions'));
});

const ASL_TEXT = readFileSync(fileURLToPath(new URL('../../statemachine/forecast.asl.json', import.meta.url)), 'utf8');
const definition = JSON.parse(
  ASL_TEXT.replace(/\$\{([A-Za-z0-9]+)Arn\}/g, (_, id: string) => `arn:aws:lambda:us-east-1:123456789012:function:${id}`),
);
const TASKS = Object.entries(definition.States as Record<string, Json>).filter(([, s]) => s.Type === 'Task').map(([n]) => n);

/** An error as a Lambda function reports it: matched by name in Retry / Catch. */
function stepError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

const INPUT = {
  run: { runId: 'demo_2024_03_01', dataName: 'demo', performDelete: true },
  datasetGroup: { name: 'demo_group' },
};

interface Outcome {
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  output?: Json;
  entered: string[];
  retried: Record<string, number>;
  calls: Record<string, Json[]>;
}

/** Runs the ASL with every Task stubbed (defaults: the slice name), retries without waiting. */
async function run(overrides: Record<string, Handler> = {}, input: Json = INPUT): Promise<Outcome> {
  const calls: Record<string, Json[]> = {};
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const name of TASKS) {
    handlers[name] = async (stateInput: Json) => {
      (calls[name] ??= []).push(structuredClone(stateInput));
      const custom = overrides[name];
      if (custom) return custom(stateInput);
      if (name === 'Notify') return { status: 'SUCCEEDED', forecastRows: 10, metricRows: 2, failedModels: [] };
      return { from: name };
    };
  }
  const retryIntervalOverrides = Object.fromEntries(
    Object.entries(definition.States as Record<string, Json>)
      .filter(([, s]) => s.Retry)
      .map(([n, s]) => [n, (s.Retry as unknown[]).map(() => 0)]),
  );
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(input, { overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides } });
  const entered: string[] = [];
  const retried: Record<string, number> = {};
  let failure: string | undefined;
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') entered.push(event.state.name);
    if (event.type === 'StateRetried') retried[event.state.name] = (retried[event.state.name] ?? 0) + 1;
    if (event.type === 'ExecutionFailed') failure = event.Error;
  }
  try {
    const output = await execution.result;
    return { status: 'SUCCEEDED', output, entered, retried, calls };
  } catch {
    return { status: 'FAILED', error: failure, entered, retried, calls };
  }
}

describe('State machine: happy path', () => {
  it('runs every step once, writes each slice, cleans up and SUCCEEDS', async () => {
    // Act
    const outcome = await run();
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.entered.filter((s) => TASKS.includes(s))).toEqual([
      'Create-Dataset', 'Create-Dataset-Group', 'Create-Import-Jobs', 'Create-Predictors', 'Create-Forecasts', 'Notify',
      'Delete-Forecasts', 'Delete-Predictors', 'Delete-Datasets',
    ]);
    expect(outcome.output.results).toMatchObject({
      datasets: { from: 'Create-Dataset' },
      datasetGroup: { from: 'Create-Dataset-Group' },
      importJobs: { from: 'Create-Import-Jobs' },
      predictors: { from: 'Create-Predictors' },
      forecasts: { from: 'Create-Forecasts' },
      notify: { status: 'SUCCEEDED' },
      deletedDatasets: { from: 'Delete-Datasets' },
    });
    // Each step sees the slices of the steps before it, and the input it started with.
    expect(outcome.calls['Create-Forecasts']![0].results.predictors).toEqual({ from: 'Create-Predictors' });
    expect(outcome.calls['Create-Dataset']![0].run).toEqual(INPUT.run);
    expect(outcome.output.error).toBeUndefined();
  });

  it('skips cleanup when PerformDelete is false and still SUCCEEDS', async () => {
    // Act
    const outcome = await run({}, { ...INPUT, run: { ...INPUT.run, performDelete: false } });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.entered.some((s) => s.startsWith('Delete-'))).toBe(false);
    expect(outcome.entered.at(-1)).toBe('Run-Succeeded');
  });
});

describe('State machine: waiting for Forecast', () => {
  it('retries a pending step until the resource is ready (ResourcePending → retry)', async () => {
    // Prepare
    let calls = 0;
    // Act
    const outcome = await run({
      'Create-Predictors': () => {
        calls += 1;
        if (calls <= 3) throw stepError('ResourcePending', 'demo_ETS_2 CREATE_IN_PROGRESS');
        return [{ name: 'demo_ETS_2', status: 'ACTIVE' }];
      },
    });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.retried['Create-Predictors']).toBe(3);
    expect(outcome.output.results.predictors).toEqual([{ name: 'demo_ETS_2', status: 'ACTIVE' }]);
  });

  it('retries LimitExceededException and ThrottlingException thrown by the SDK', async () => {
    // Prepare
    const errors = ['LimitExceededException', 'ThrottlingException'];
    // Act
    const outcome = await run({
      'Create-Import-Jobs': () => {
        const next = errors.shift();
        if (next) throw stepError(next);
        return { from: 'imports' };
      },
    });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.retried['Create-Import-Jobs']).toBe(2);
  });

  it('retries in-use parents on delete steps', async () => {
    // Prepare
    let calls = 0;
    // Act
    const outcome = await run({ 'Delete-Predictors': () => (++calls === 1 ? Promise.reject(stepError('ResourceInUseException')) : { deleted: [] }) });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.retried['Delete-Predictors']).toBe(1);
  });
});

describe('State machine: failures', () => {
  it('records a failed step (error, cause, state), still cleans up, and ends FAILED', async () => {
    // Act
    const outcome = await run({
      'Create-Forecasts': () => {
        throw stepError('ResourceFailed', 'Create forecasts: every model failed');
      },
    });
    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('ForecastRunFailed');
    expect(outcome.retried['Create-Forecasts']).toBeUndefined();
    expect(outcome.entered).toEqual(expect.arrayContaining(['Caught-Create-Forecasts', 'Failure', 'Delete-Forecasts', 'Delete-Predictors', 'Delete-Datasets', 'Run-Failed']));
    expect(outcome.entered).not.toContain('Notify');
    const failureInput = outcome.calls.Failure![0];
    expect(failureInput.error).toMatchObject({ Error: 'ResourceFailed', State: 'Create-Forecasts' });
    expect(String(failureInput.error.Cause)).toContain('every model failed');
    expect(outcome.calls['Delete-Datasets']![0].error.Error).toBe('ResourceFailed');
  });

  it('does not retry InvalidInput and ends FAILED without cleanup when PerformDelete is false', async () => {
    // Act
    const outcome = await run(
      { 'Create-Dataset': () => Promise.reject(stepError('InvalidInput', 'datasets[0].name: bad')) },
      { ...INPUT, run: { ...INPUT.run, performDelete: false } },
    );
    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(outcome.retried['Create-Dataset']).toBeUndefined();
    expect(outcome.entered.some((s) => s.startsWith('Delete-'))).toBe(false);
    expect(outcome.entered).toContain('Failure');
  });

  it('retries a step that crashed midway (a generic error) and succeeds on the retry', async () => {
    // Prepare
    let calls = 0;
    // Act
    const outcome = await run({ Notify: () => (++calls === 1 ? Promise.reject(new Error('socket hang up')) : { status: 'SUCCEEDED', failedModels: [] }) });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.retried.Notify).toBe(1);
  });

  it('ends FAILED (ForecastRunPartial) after cleanup when notify reports PARTIAL', async () => {
    // Act
    const outcome = await run({ Notify: () => ({ status: 'PARTIAL', forecastRows: 5, metricRows: 1, failedModels: ['ARIMA'] }) });
    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('ForecastRunPartial');
    expect(outcome.entered).toContain('Delete-Datasets');
  });

  it('ends FAILED (CleanupFailed) when a delete step gives up, skipping the deletes that depend on it', async () => {
    // Act
    const outcome = await run({ 'Delete-Forecasts': () => Promise.reject(stepError('ResourceFailed', 'stuck in DELETE_FAILED')) });
    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('CleanupFailed');
    expect(outcome.entered).not.toContain('Delete-Predictors');
  });

  it('records a cleanup failure (Cleanup-Failure, with the delivered notify slice and the failed state) before ending CleanupFailed', async () => {
    // Prepare: every DeleteDataset refused → Delete-Datasets gives up without retrying.
    const recorded = { error: 'InvalidInputException', cause: 'refused', failedState: 'Delete-Datasets', runStatus: 'SUCCEEDED' };
    // Act
    const outcome = await run({
      'Delete-Datasets': () => Promise.reject(stepError('InvalidInputException', 'refused')),
      'Cleanup-Failure': () => recorded,
    });
    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('CleanupFailed');
    expect(outcome.retried['Delete-Datasets']).toBeUndefined();
    expect(outcome.entered.slice(-4)).toEqual(['Caught-Delete-Datasets', 'Cleanup-Failure', 'Final-Choice', 'Cleanup-Failed']);
    expect(outcome.entered).not.toContain('Failure');
    const input = outcome.calls['Cleanup-Failure']![0];
    expect(input.cleanupError).toMatchObject({ Error: 'InvalidInputException', State: 'Delete-Datasets' });
    expect(input.results.notify).toMatchObject({ status: 'SUCCEEDED' });
    expect(input.error).toBeUndefined();
    expect(outcome.calls['Cleanup-Failure']).toHaveLength(1);
  });

  it('retries a crashed cleanup record once and still ends CleanupFailed when the record cannot be written', async () => {
    // Prepare
    let attempts = 0;
    // Act
    const crashedOnce = await run({
      'Delete-Predictors': () => Promise.reject(stepError('ResourceFailed', 'DELETE_FAILED')),
      'Cleanup-Failure': () => (++attempts === 1 ? Promise.reject(new Error('socket hang up')) : { error: 'ResourceFailed', cause: '', runStatus: 'SUCCEEDED' }),
    });
    const unrecorded = await run({
      'Delete-Predictors': () => Promise.reject(stepError('ResourceFailed', 'DELETE_FAILED')),
      'Cleanup-Failure': () => Promise.reject(stepError('ConfigurationError', 'warehouse unreachable')),
    });
    // Assess
    expect(crashedOnce.retried['Cleanup-Failure']).toBe(1);
    expect(crashedOnce.error).toBe('CleanupFailed');
    expect(unrecorded.status).toBe('FAILED');
    expect(unrecorded.error).toBe('CleanupFailed');
    expect(unrecorded.entered).not.toContain('Delete-Datasets');
  });

  it('on the failure path, records both the step error (Failure) and the cleanup error (Cleanup-Failure), and ends ForecastRunFailed', async () => {
    // Act
    const outcome = await run({
      'Create-Predictors': () => Promise.reject(stepError('ResourceFailed', 'every predictor failed')),
      'Delete-Datasets': () => Promise.reject(stepError('ResourceFailed', 'DELETE_FAILED')),
    });
    // Assess
    expect(outcome.error).toBe('ForecastRunFailed');
    expect(outcome.calls.Failure).toHaveLength(1);
    expect(outcome.calls.Failure![0].cleanupError).toBeUndefined();
    expect(outcome.calls['Cleanup-Failure']![0]).toMatchObject({ error: { State: 'Create-Predictors' }, cleanupError: { State: 'Delete-Datasets' } });
  });

  it('still cleans up and ends FAILED when the Failure step itself cannot record', async () => {
    // Act
    const outcome = await run({
      'Create-Dataset': () => Promise.reject(stepError('ResourceFailed')),
      Failure: () => Promise.reject(stepError('ConfigurationError', 'warehouse unreachable')),
    });
    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('ForecastRunFailed');
    expect(outcome.entered).toContain('Delete-Datasets');
  });
});
