/**
 * The fault matrix (issue 6 item 2): the REAL local pipeline — parse handler on an SQS event, the
 * ASL run by the local interpreter, the step handlers, the built-in engine, notify into DuckDB —
 * on a small dataset, under each FORECAST_FAULTS rule and combinations. For every scenario:
 * the execution ends SUCCEEDED with complete results, or FAILED with the failure recorded in the
 * warehouse (status + reason); forecast rows exactly once (none lost, none duplicated); with
 * PerformDelete no engine resource is left, also on the failure path; names are reusable.
 *
 * Scenarios share one local root and run in sequence; each uses its own DataName.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import { executionName } from '../../shared/names';
import { parseConfigFromEnv, startPipelineFromEvent, type SqsBatchResponse } from '../../shared/parse';
import { setDependencies } from '../../shared/runtime';
import { DEFAULT_TABLES, ensureTables, writeTargetInputRows } from '../../shared/warehouse/layout';
import { localPaths } from '../../local/config';
import { openLocalRuntime, runPipeline, sqsEventOf, type RunResult } from '../../local/runner';
import { attemptRows, engineResources, runRows, seedSmallDataset, smallDataset, Tally, type RunRows } from './harness';
import { isEngineStepFault, type FaultRule } from '../../engine/faults';
import { FolderObjectStore } from '../../shared/adapters/folder-store';

const ITEMS = 3;
const HISTORY_DAYS = 120;
const HORIZON = 7;
const MODELS = ['ETS', 'NPTS'] as const;
const TYPES = ['0.10', '0.50', '0.90'] as const;
const ROWS_PER_MODEL = ITEMS * HORIZON * TYPES.length;
const FAST_WAITS = { timeScale: 600, minMs: 20, maxMs: 250 };
const CREATE_OPERATIONS = ['CreateDataset', 'CreateDatasetGroup', 'CreateDatasetImportJob', 'CreatePredictor', 'CreateForecast', 'CreateForecastExportJob'];
const STEPS = [
  'create-dataset',
  'create-dataset-group',
  'create-import-jobs',
  'create-predictors',
  'create-forecasts',
  'notify',
  'delete-forecasts',
  'delete-predictors',
  'delete-datasets',
];

type Expected =
  | { readonly run: 'SUCCEEDED'; readonly execution?: 'FAILED'; readonly keeps?: RegExp }
  | { readonly run: 'PARTIAL'; readonly failedModels: readonly string[]; readonly reason: RegExp }
  | { readonly run: 'FAILED'; readonly reason: RegExp };

let root: string;
const tally = new Tally();

function message(dataName: string, dateCreate: string, performDelete = true, models: readonly string[] = MODELS) {
  return {
    param: {
      DataName: dataName,
      ForecastHorizon: HORIZON,
      NumberOfBacktestWindows: 1,
      PerformDelete: performDelete,
      dateCreate,
      ForecastFrequency: 'D',
      Models: [...models],
      ForecastTypes: [...TYPES],
    },
  };
}

function forecastStart(dateCreate: string): Date {
  return new Date(Date.UTC(Number(dateCreate.slice(0, 4)), Number(dateCreate.slice(4, 6)) - 1, Number(dateCreate.slice(6, 8))));
}

async function withWarehouse<T>(work: (w: Awaited<ReturnType<typeof openDuckDbWarehouse>>) => Promise<T>): Promise<T> {
  const warehouse = await openDuckDbWarehouse({ path: localPaths(root).duckdb });
  try {
    return await work(warehouse);
  } finally {
    await warehouse.close();
  }
}

async function seed(dataName: string, dateCreate = '20240301'): Promise<void> {
  await withWarehouse(async (w) => {
    await ensureTables(w);
    await seedSmallDataset(w, dataName, { items: ITEMS, days: HISTORY_DAYS, forecastStart: forecastStart(dateCreate), after: HORIZON });
  });
}

/** Progress lines of the last run: the evidence that the injected faults really fired. */
let lastOutput = '';

/** How the engine runs its jobs: in this process (the default) or through engine-job.asl.json with shards in child processes. */
type EngineExecutor = 'in-process' | 'workflow';

/** One run of the real pipeline in this process, FORECAST_FAULTS given through the runner's environment. */
async function run(msg: unknown, faults: readonly FaultRule[] = [], options: { force?: boolean; executor?: EngineExecutor } = {}): Promise<RunResult> {
  lastOutput = '';
  const out = { write: (text: string) => ((lastOutput += text), true), isTTY: false };
  const env = { ...process.env, FORECAST_FAULTS: JSON.stringify(faults), FORECAST_ENGINE_EXECUTOR: options.executor ?? 'in-process' };
  return runPipeline({ root, message: msg, out, plain: true, report: false, retryWaits: FAST_WAITS, env, workers: 1, force: options.force === true });
}

async function leftBehind(dataName: string): Promise<string[]> {
  const runtime = openLocalRuntime(root, { workers: 1 });
  try {
    return (await engineResources(runtime.forecast, dataName)).map((r) => `${r.type} ${r.name} ${r.status}`);
  } finally {
    await runtime.close();
  }
}

interface Observed {
  readonly execution: string | undefined;
  readonly rows: RunRows;
  readonly left: string[];
}

async function observe(dataName: string, runId: string, execution: string | undefined): Promise<Observed> {
  const rows = await withWarehouse((w) => runRows(w, dataName, runId));
  return { execution, rows, left: await leftBehind(dataName) };
}

/** Checks one finished run against what it should have delivered; records it in the tally. */
function judge(scenario: string, expected: Expected, observed: Observed, seconds: number, performDelete = true, models: readonly string[] = MODELS): void {
  const { rows } = observed;
  const deliveredModels = expected.run === 'FAILED' ? [] : models.filter((m) => expected.run === 'SUCCEEDED' || !expected.failedModels.includes(m));
  const expectedRows = deliveredModels.length * ROWS_PER_MODEL;
  const rowsLost = Math.max(0, expectedRows - rows.distinctForecastKeys);
  const rowsDuplicated = rows.forecastRows - rows.distinctForecastKeys + (rows.metricRows - rows.distinctMetricKeys);
  // A scenario that makes deleting impossible expects exactly those resources to stay (they are listed, not lost).
  const kept = 'keeps' in expected && expected.keeps ? observed.left.filter((r) => expected.keeps!.test(r)) : [];
  const resourcesLeft = performDelete ? observed.left.length - kept.length : 0;
  const status = rows.statusRows[0];
  const problems: string[] = [];
  const wantExecution = expected.run === 'SUCCEEDED' ? (expected.execution ?? 'SUCCEEDED') : 'FAILED';
  if ('keeps' in expected && expected.keeps && kept.length === 0) problems.push(`expected resources matching ${expected.keeps} to stay`);
  if (observed.execution !== wantExecution) problems.push(`execution ${observed.execution}, expected ${wantExecution}`);
  if (rows.statusRows.length !== 1) problems.push(`${rows.statusRows.length} run status rows`);
  if (status?.STATUS !== expected.run) problems.push(`run status ${status?.STATUS}, expected ${expected.run}`);
  if (expected.run !== 'SUCCEEDED' && !expected.reason.test(status?.REASON ?? '')) problems.push(`reason ${JSON.stringify(status?.REASON)} does not match ${expected.reason}`);
  if (expected.run === 'PARTIAL') {
    for (const m of expected.failedModels) if (!(status?.FAILED_MODELS ?? '').includes(m)) problems.push(`failed models ${status?.FAILED_MODELS} lack ${m}`);
  }
  if (rows.forecastRows > expectedRows) problems.push(`${rows.forecastRows} forecast rows, expected ${expectedRows}`);
  if (JSON.stringify(rows.modelsWithRows) !== JSON.stringify([...deliveredModels].sort())) problems.push(`models with rows ${rows.modelsWithRows.join(',')}`);
  if (rowsLost) problems.push(`${rowsLost} rows lost`);
  if (rowsDuplicated) problems.push(`${rowsDuplicated} rows duplicated`);
  if (resourcesLeft) problems.push(`left: ${observed.left.join('; ')}`);
  tally.add({
    scenario,
    expected: expected.run,
    observed: `${observed.execution ?? '-'} / ${status?.STATUS ?? 'no status'}${kept.length ? ` (${kept.length} kept, undeletable)` : ''}`,
    asExpected: problems.length === 0,
    rowsLost,
    rowsDuplicated,
    resourcesLeft,
    seconds,
  });
  expect(problems, `${scenario}: ${problems.join('; ')}`).toEqual([]);
}

let scenarioIndex = 0;
/** A fresh DataName per scenario (≤ 45 characters, Forecast's name rules). */
function nextDataName(): string {
  return `fm_${String(++scenarioIndex).padStart(2, '0')}`;
}

async function scenario(name: string, faults: readonly FaultRule[], expected: Expected, models: readonly string[] = MODELS, executor: EngineExecutor = 'in-process'): Promise<void> {
  const dataName = nextDataName();
  await seed(dataName);
  const started = Date.now();
  const result = await run(message(dataName, '20240301', true, models), faults, { executor });
  const observed = await observe(dataName, executionName(dataName, '20240301'), result.execution?.status);
  // Each kind of rule must have left its trace: a scenario whose fault never fired proves nothing.
  const evidence = `${lastOutput}\n${observed.rows.statusRows[0]?.REASON ?? ''}`;
  if (faults.some((f) => 'operation' in f)) expect(evidence).toMatch(/injected by FORECAST_FAULTS/);
  if (faults.some((f) => 'resource' in f)) expect(evidence).toMatch(/Injected fault/);
  const crashes = faults.filter((f) => 'step' in f).length;
  expect((lastOutput.match(/Injected fault \(FORECAST_FAULTS\): step /g) ?? []).length).toBeGreaterThanOrEqual(crashes);
  for (const rule of faults.filter(isEngineStepFault)) {
    expect(evidence).toMatch(rule.fault === 'killed' ? /killed by SIGKILL/ : rule.engineStep === 'Fit-Shard' ? /shard \d+ crashed after its work/ : new RegExp(`engine step ${rule.engineStep} of \\S*${rule.match}`));
  }
  if (executor === 'workflow') {
    // No engine job ran in this process, and none left files behind (shard inputs and results included).
    expect(lastOutput).toMatch(/shard 1 done/);
    expect(await engineFilesLeft(dataName)).toEqual([]);
  }
  judge(name, expected, observed, (Date.now() - started) / 1000, true, models);
}

/** The engine's data files (imports, series, predictions, shards) of a DataName still in the store. */
async function engineFilesLeft(dataName: string): Promise<string[]> {
  const paths = localPaths(root);
  const objects = await new FolderObjectStore(paths.storeRoot).list(`${paths.engineStateUri}/data/`);
  return objects.map((o) => o.uri).filter((uri) => uri.includes(dataName));
}

beforeAll(async () => {
  // The EMF metric lines and the expected ERROR logs of every injected fault would drown the
  // matrix's own output (the table below names every problem of a failed scenario).
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  root = await mkdtemp(join(tmpdir(), 'fault-matrix-'));
});

afterAll(async () => {
  setDependencies(undefined);
  if (tally.outcomes.length > 0) {
    console.log(`${tally.table()}\n${tally.summary()}`);
  }
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

const T = 180_000;

describe('fault matrix: engine operation errors (retried with backoff)', () => {
  it('baseline: no fault → SUCCEEDED, every row once, nothing left', () => scenario('baseline (no faults)', [], { run: 'SUCCEEDED' }), T);

  it('LimitExceededException twice on every create operation → SUCCEEDED', () =>
    scenario('LimitExceededException x2 on every Create*', CREATE_OPERATIONS.map((operation) => ({ operation, error: 'LimitExceededException' as const, times: 2 })), { run: 'SUCCEEDED' }), T);

  it('ThrottlingException twice on every create and delete operation → SUCCEEDED', () =>
    scenario(
      'ThrottlingException x2 on every Create* and Delete*',
      [...CREATE_OPERATIONS, 'DeleteForecastExportJob', 'DeleteForecast', 'DeletePredictor', 'DeleteDatasetImportJob', 'DeleteDataset', 'DeleteDatasetGroup'].map((operation) => ({
        operation,
        error: 'ThrottlingException' as const,
        times: 2,
      })),
      { run: 'SUCCEEDED' },
    ), T);

  it('ThrottlingException twice on every Describe* and GetAccuracyMetrics → SUCCEEDED', () =>
    scenario(
      'ThrottlingException x2 on every Describe*, GetAccuracyMetrics',
      ['DescribeDataset', 'DescribeDatasetGroup', 'DescribeDatasetImportJob', 'DescribePredictor', 'GetAccuracyMetrics', 'DescribeForecast', 'DescribeForecastExportJob'].map((operation) => ({
        operation,
        error: 'ThrottlingException' as const,
        times: 2,
      })),
      { run: 'SUCCEEDED' },
    ), T);
});

describe('fault matrix: the service quota itself', () => {
  it('four models against 3 concurrent predictor jobs (LimitExceededException from the quota, not injected) → SUCCEEDED', async () => {
    await scenario('4 models vs the quota of 3 concurrent jobs', [], { run: 'SUCCEEDED' }, ['ETS', 'NPTS', 'ARIMA', 'AUTOML']);
    // Evidence: when the first predictor finished training, at most 3 had started; all 4 did in the end.
    const started = new Set<string>();
    let startedWhenFirstDone: number | undefined;
    for (const [, name, done, total] of lastOutput.matchAll(/^\[[^\]]*\]\s+(\S+): (\d+)\/(\d+) items$/gm)) {
      started.add(name!);
      if (startedWhenFirstDone === undefined && done === total) startedWhenFirstDone = started.size;
    }
    expect(started.size).toBe(4);
    expect(startedWhenFirstDone).toBeLessThanOrEqual(3);
  }, T);
});

describe('fault matrix: resources that end CREATE_FAILED', () => {
  it('one predictor fails → the other model delivers, run PARTIAL, execution FAILED', () =>
    scenario('CREATE_FAILED: ETS predictor', [{ resource: 'predictor', match: 'ETS', status: 'CREATE_FAILED' }], { run: 'PARTIAL', failedModels: ['ETS'], reason: /ETS/ }), T);

  it('every predictor fails → FAILED with the reason recorded', () =>
    scenario('CREATE_FAILED: every predictor', [{ resource: 'predictor', match: 'fm_', status: 'CREATE_FAILED' }], { run: 'FAILED', reason: /predictor|fail/i }), T);

  it('the import job fails → FAILED with the reason recorded, everything cleaned up', () =>
    scenario('CREATE_FAILED: import job', [{ resource: 'datasetImportJob', match: 'fm_', status: 'CREATE_FAILED' }], { run: 'FAILED', reason: /import|Injected/i }), T);

  it('one forecast fails → PARTIAL', () =>
    scenario('CREATE_FAILED: NPTS forecast', [{ resource: 'forecast', match: 'NPTS', status: 'CREATE_FAILED' }], { run: 'PARTIAL', failedModels: ['NPTS'], reason: /NPTS/ }), T);

  it('one export fails → PARTIAL', () =>
    scenario('CREATE_FAILED: ETS export', [{ resource: 'forecastExportJob', match: 'ETS', status: 'CREATE_FAILED' }], { run: 'PARTIAL', failedModels: ['ETS'], reason: /ETS/ }), T);
});

describe('fault matrix: step handlers crash midway (work done, answer lost; the Retry runs them again)', () => {
  it('a crash in every step, once each → SUCCEEDED, rows once', () =>
    scenario('crash midway in every step (x1 each)', STEPS.map((step) => ({ step, crash: 'midway' as const, times: 1 })), { run: 'SUCCEEDED' }), T);

  it('a crash before the work in every step, once each → SUCCEEDED, rows once', () =>
    scenario('crash before the work in every step (x1 each)', STEPS.map((step) => ({ step, crash: 'before' as const, times: 1 })), { run: 'SUCCEEDED' }), T);

  it('notify crashes twice → SUCCEEDED, rows once', () =>
    scenario('crash midway in notify (x2)', [{ step: 'notify', crash: 'midway', times: 2 }], { run: 'SUCCEEDED' }), T);

  it('the failure step crashes on the failure path → FAILED recorded once, cleaned up', () =>
    scenario(
      'import fails + crash midway in failure step',
      [
        { resource: 'datasetImportJob', match: 'fm_', status: 'CREATE_FAILED' },
        { step: 'failure', crash: 'midway', times: 1 },
      ],
      { run: 'FAILED', reason: /import|Injected/i },
    ), T);
});

describe('fault matrix: cleanup that cannot finish', () => {
  it('every DeleteDataset call fails → results delivered, execution FAILED (Cleanup-Failed), cleanup error recorded, only the datasets stay', async () => {
    // Act (the judge allows only resources matching `keeps` to stay: the group must be gone)
    await scenario(
      'DeleteDataset always fails (cleanup cannot finish)',
      [{ operation: 'DeleteDataset', error: 'InvalidInputException' }],
      { run: 'SUCCEEDED', execution: 'FAILED', keeps: /^dataset / },
    );
    // Assess: the warehouse keeps the delivered status and shows the cleanup error, on one row
    const dataName = `fm_${String(scenarioIndex).padStart(2, '0')}`;
    const rows = await withWarehouse(async (w) => {
      const found: Record<string, unknown>[] = [];
      for await (const r of w.query('SELECT STATUS, CLEANUP_ERROR FROM FORECAST_RUNS WHERE RUN_ID = ?', [executionName(dataName, '20240301')])) found.push(r);
      return found;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.STATUS).toBe('SUCCEEDED');
    expect(String(rows[0]!.CLEANUP_ERROR)).toMatch(/^Delete-Datasets: InvalidInputException: .*injected by FORECAST_FAULTS/);
    const left = await leftBehind(dataName);
    expect(left.some((r) => r.startsWith('dataset '))).toBe(true);
    expect(left.filter((r) => r.startsWith('dataset-group '))).toEqual([]);
  }, T);
});

describe('fault matrix: combinations', () => {
  it('throttling + a failed predictor + crashes in notify and delete steps → PARTIAL', () =>
    scenario(
      'throttling + ETS fails + notify/delete crashes',
      [
        { operation: 'CreatePredictor', error: 'ThrottlingException', times: 2 },
        { operation: 'CreateForecast', error: 'LimitExceededException', times: 1 },
        { resource: 'predictor', match: 'ETS', status: 'CREATE_FAILED' },
        { step: 'notify', crash: 'midway', times: 1 },
        { step: 'delete-predictors', crash: 'midway', times: 1 },
        { step: 'delete-datasets', crash: 'midway', times: 1 },
      ],
      { run: 'PARTIAL', failedModels: ['ETS'], reason: /ETS/ },
    ), T);
});

describe('fault matrix: engine jobs on the workflow executor (FORECAST_ENGINE_EXECUTOR=workflow)', () => {
  // Every engine job runs through statemachine/engine-job.asl.json, each shard in a child process;
  // a shard's or Finish's failure fails that job (the Map retries Lambda service errors only), and
  // the pipeline's partial-failure policy takes it from there.
  const W = 'workflow' as const;

  it('baseline on the workflow executor → SUCCEEDED, every row once, nothing left', () =>
    scenario('workflow executor: baseline (no faults)', [], { run: 'SUCCEEDED' }, MODELS, W), T);

  const ENGINE_STEP_FAULTS: readonly (readonly [string, string, FaultRule, 'ETS' | 'NPTS'])[] = [
    ['the ETS predictor\'s shard crashes on every attempt', 'ETS predictor shard crashes', { engineStep: 'Fit-Shard', match: '_ETS_1_20240301', fault: 'crash' }, 'ETS'],
    ['the process of the NPTS forecast\'s shard is killed (SIGKILL)', 'NPTS forecast shard killed', { engineStep: 'Fit-Shard', match: '_NPTS_1_20240301_forecast', fault: 'killed', times: 1 }, 'NPTS'],
    ['Finish of the NPTS predictor (the merge) fails', 'NPTS predictor Finish fails', { engineStep: 'Finish', match: '_NPTS_1_20240301', fault: 'crash' }, 'NPTS'],
  ];

  it.each(ENGINE_STEP_FAULTS)('%s → that model fails, the other delivers, PARTIAL', (_, label, rule, failed) =>
    scenario(`workflow executor: ${label}`, [rule], { run: 'PARTIAL', failedModels: [failed], reason: new RegExp(failed) }, MODELS, W), T);
});

describe('fault matrix: redelivery, restarts and name reuse', () => {
  it('the same SQS message delivered twice at once → one execution, rows once', async () => {
    // Prepare
    const dataName = nextDataName();
    await seed(dataName);
    const runId = executionName(dataName, '20240301');
    const started = Date.now();
    const runtime = openLocalRuntime(root, { retryWaits: FAST_WAITS, workers: 1 });
    setDependencies(runtime.deps);
    let execution: string | undefined;
    let responses: SqsBatchResponse[];
    try {
      const body = JSON.stringify(message(dataName, '20240301'));
      // Act: two deliveries of one message (SQS at-least-once), before the first run ends
      const config = parseConfigFromEnv({});
      responses = (await Promise.all([
        startPipelineFromEvent(sqsEventOf(body, dataName), runtime.deps, config),
        startPipelineFromEvent(sqsEventOf(body, dataName), runtime.deps, config),
      ])) as SqsBatchResponse[];
      execution = (await runtime.workflow.waitFor(runId)).status;
    } finally {
      await runtime.close();
    }
    // Assess
    expect(responses.flatMap((r) => r.batchItemFailures)).toEqual([]);
    expect(responses.map((r) => r.runs[0]?.alreadyStarted).sort()).toEqual([false, true]);
    judge('same SQS message delivered twice at once', { run: 'SUCCEEDED' }, await observe(dataName, runId, execution), (Date.now() - started) / 1000);
  }, T);

  it('the same message delivered again after completion → nothing runs again, rows unchanged', async () => {
    // Prepare
    const dataName = nextDataName();
    await seed(dataName);
    const runId = executionName(dataName, '20240301');
    const started = Date.now();
    const first = await run(message(dataName, '20240301'));
    // Act
    const again = await run(message(dataName, '20240301'));
    // Assess
    expect(first.execution?.status).toBe('SUCCEEDED');
    expect(again.action).toBe('existing');
    judge('same message again after completion', { run: 'SUCCEEDED' }, await observe(dataName, runId, again.execution?.status), (Date.now() - started) / 1000);
  }, T);

  const KILL_POINTS: readonly (readonly [string, RegExp, number])[] = [
    ['while predictors train', /_1_20240301: \d+\/\d+ items$/m, 0],
    ['while forecasts and exports run', /▶ Create-Forecasts/, 150],
    ['inside notify', /▶ Notify/, 100],
    ['while deleting', /▶ Delete-Predictors/, 50],
  ];

  it.each(KILL_POINTS)('a run killed with SIGKILL %s and started again → resumes, SUCCEEDED, rows once, nothing left', async (where, killAt, delayMs) => {
    // Prepare
    const dataName = nextDataName();
    await seed(dataName);
    const runId = executionName(dataName, '20240301');
    const started = Date.now();
    // Act: a child process runs the pipeline; kill it at the chosen point
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url)), fileURLToPath(new URL('./run-child.ts', import.meta.url)), root, JSON.stringify(message(dataName, '20240301'))],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORECAST_FAULTS: '[]' } },
    );
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the child never reached ${killAt}:\n${output}`)), 120_000);
      let armed = false;
      const watch = (chunk: Buffer) => {
        output += chunk.toString();
        if (armed || !killAt.test(output)) return;
        armed = true;
        clearTimeout(timer);
        setTimeout(() => {
          if (child.exitCode === null) child.kill('SIGKILL');
          resolve();
        }, delayMs);
      };
      child.stdout.on('data', watch);
      child.stderr.on('data', watch);
      child.once('exit', (code) => {
        if (code !== null && !armed) {
          clearTimeout(timer);
          reject(new Error(`the child ended (${code}) before it was killed:\n${output}`));
        }
      });
    });
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    const resumed = await run(message(dataName, '20240301'));
    // Assess: the kill really interrupted the run, and the restart finished it
    expect(child.signalCode).toBe('SIGKILL');
    expect(resumed.action).toBe('resumed');
    judge(`killed (SIGKILL) ${where}, then restarted`, { run: 'SUCCEEDED' }, await observe(dataName, runId, resumed.execution?.status), (Date.now() - started) / 1000);
  }, T);

  it('a run with PerformDelete false keeps its resources; the next run of the DataName forecasts from its own data', async () => {
    // Prepare
    const dataName = nextDataName();
    await seed(dataName, '20240308');
    const started = Date.now();
    const kept = await run(message(dataName, '20240301', false));
    const keptResources = await leftBehind(dataName);
    // Act: a week later, the same DataName again (this time cleaning up)
    const next = await run(message(dataName, '20240308'));
    const firstDate = await withWarehouse(async (w) => {
      for await (const row of w.query('SELECT MIN(FORECAST_DATE) AS D FROM FORECAST_RESULTS WHERE RUN_ID = ?', [executionName(dataName, '20240308')])) return row.D;
      return undefined;
    });
    // Assess: the first run kept predictors and forecasts (as asked); the second trained on the new cut-off
    expect(kept.execution?.status).toBe('SUCCEEDED');
    expect(keptResources.filter((r) => r.startsWith('predictor')).length).toBe(MODELS.length);
    expect(firstDate).toEqual(new Date(Date.UTC(2024, 2, 8)));
    const observed = await observe(dataName, executionName(dataName, '20240308'), next.execution?.status);
    // What the first run kept is still there, untouched; the second run left nothing of its own.
    expect(observed.left.filter((r) => r.includes('20240301')).sort()).toEqual([...keptResources].sort());
    const ownLeft = observed.left.filter((r) => !r.includes('20240301'));
    judge('PerformDelete false, then the next run', { run: 'SUCCEEDED' }, { ...observed, left: ownLeft }, (Date.now() - started) / 1000);
  }, T);

  it('names are reusable: after a failed and cleaned-up run, the same DataName runs again and succeeds', async () => {
    // Prepare: a run that fails (import job) and cleans up
    const dataName = nextDataName();
    await seed(dataName, '20240308');
    const started = Date.now();
    const failed = await run(message(dataName, '20240301'), [{ resource: 'datasetImportJob', match: dataName, status: 'CREATE_FAILED' }]);
    expect(failed.execution?.status).toBe('FAILED');
    // Act: the next run of the same DataName creates the same dataset, group and predictor names
    const next = await run(message(dataName, '20240308'));
    // Assess
    judge('names reusable after a failed run', { run: 'SUCCEEDED' }, await observe(dataName, executionName(dataName, '20240308'), next.execution?.status), (Date.now() - started) / 1000);
  }, T);
});

describe('fault matrix: attempts and re-runs', () => {
  it('a FAILED run (every predictor fails) runs again with the same message as attempt 2 → SUCCEEDED, both attempts recorded, rows once', async () => {
    // Prepare
    const dataName = nextDataName();
    await seed(dataName);
    const runId = executionName(dataName, '20240301');
    const started = Date.now();
    const failed = await run(message(dataName, '20240301'), [{ resource: 'predictor', match: dataName, status: 'CREATE_FAILED' }]);
    expect(failed.execution?.status).toBe('FAILED');
    expect(lastOutput).toMatch(/Injected fault/);
    // Act: the same message again (the data problem is gone)
    const again = await run(message(dataName, '20240301'));
    // Assess
    expect(again.action).toBe('started');
    expect(again.executionName).toBe(`${runId}_a2`);
    expect(await withWarehouse((w) => attemptRows(w, runId))).toEqual([
      { ATTEMPT: 1, EXECUTION_NAME: runId, STATUS: 'FAILED' },
      { ATTEMPT: 2, EXECUTION_NAME: `${runId}_a2`, STATUS: 'SUCCEEDED' },
    ]);
    judge('FAILED run, same message again → attempt 2', { run: 'SUCCEEDED' }, await observe(dataName, runId, again.execution?.status), (Date.now() - started) / 1000);
  }, T);

  it('a PARTIAL run replaced by a corrected message (other models) → attempt 2 delivers, the run holds only its rows', async () => {
    // Prepare
    const dataName = nextDataName();
    await seed(dataName);
    const runId = executionName(dataName, '20240301');
    const started = Date.now();
    const partial = await run(message(dataName, '20240301'), [{ resource: 'predictor', match: 'ETS', status: 'CREATE_FAILED' }]);
    expect(partial.summary?.status).toBe('PARTIAL');
    // Act: the corrected message asks for NPTS and ARIMA
    const corrected = await run(message(dataName, '20240301', true, ['NPTS', 'ARIMA']));
    // Assess
    expect(corrected.executionName).toBe(`${runId}_a2`);
    expect((await withWarehouse((w) => attemptRows(w, runId))).map((a) => a.STATUS)).toEqual(['PARTIAL', 'SUCCEEDED']);
    judge('PARTIAL run, corrected message → attempt 2', { run: 'SUCCEEDED' }, await observe(dataName, runId, corrected.execution?.status), (Date.now() - started) / 1000, true, ['NPTS', 'ARIMA']);
  }, T);

  it('--force after a run with PerformDelete false trains its own predictors and forecasts (never the kept ones)', async () => {
    // Prepare
    const dataName = nextDataName();
    await seed(dataName);
    const runId = executionName(dataName, '20240301');
    const started = Date.now();
    const first = await run(message(dataName, '20240301', false));
    expect(first.execution?.status).toBe('SUCCEEDED');
    const kept = await leftBehind(dataName);
    // Act
    const forced = await run(message(dataName, '20240301', false), [], { force: true });
    // Assess: attempt 2 created (and trained) predictors of its own; attempt 1's stay as they were
    expect(forced.executionName).toBe(`${runId}_a2`);
    for (const model of MODELS) expect(lastOutput).toMatch(new RegExp(`${dataName}_${model}_1_20240301_a2: \\d+/\\d+ items`));
    const observed = await observe(dataName, runId, forced.execution?.status);
    expect(observed.left.filter((r) => !r.includes('_a2')).sort()).toEqual([...kept].sort());
    const own = observed.left.filter((r) => r.includes('_a2'));
    expect(own.filter((r) => r.startsWith('predictor ')).length).toBe(MODELS.length);
    expect(own.filter((r) => r.startsWith('forecast ')).length).toBe(MODELS.length);
    judge('PerformDelete false, then --force → attempt 2, own resources', { run: 'SUCCEEDED' }, observed, (Date.now() - started) / 1000, false);
  }, T);

  it('notify dies after its commit every time → the run stays SUCCEEDED with a post-delivery error, execution FAILED, rows once', async () => {
    // Act
    await scenario('notify crashes after its commit (always)', [{ step: 'notify', crash: 'after' }], { run: 'SUCCEEDED', execution: 'FAILED' });
    // Assess
    const dataName = `fm_${String(scenarioIndex).padStart(2, '0')}`;
    const rows = await withWarehouse(async (w) => {
      const found: Record<string, unknown>[] = [];
      for await (const r of w.query('SELECT STATUS, REASON, POST_DELIVERY_ERROR FROM FORECAST_RUNS WHERE RUN_ID = ?', [executionName(dataName, '20240301')])) found.push(r);
      return found;
    });
    expect(rows).toEqual([{ STATUS: 'SUCCEEDED', REASON: null, POST_DELIVERY_ERROR: expect.stringMatching(/^Notify: .*Injected fault/) }]);
    expect(lastOutput).toMatch(/execution FAILED, results SUCCEEDED\n.*\n {2}failed after the results were delivered: Notify: /);
  }, T);
});

/** Runs the pipeline to its end in a child process with its own deployment environment (parse reads its queries from it once). */
async function runChild(msg: unknown, env: Record<string, string>): Promise<string> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url)), fileURLToPath(new URL('./run-child.ts', import.meta.url)), root, JSON.stringify(msg)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORECAST_FAULTS: '[]', ...env } },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return output;
}

async function dataIssues(dataName: string): Promise<{ ISSUE: string; ITEM_ID: string | null; REASON: string }[]> {
  return withWarehouse(async (w) => {
    const rows: { ISSUE: string; ITEM_ID: string | null; REASON: string }[] = [];
    for await (const row of w.query(`SELECT ISSUE, ITEM_ID, REASON FROM ${DEFAULT_TABLES.dataIssues} WHERE DATASET_NAME = ? ORDER BY ISSUE, ITEM_ID`, [dataName])) rows.push(row as never);
    return rows;
  });
}

describe('fault matrix: data-level cases (bad items, dimensions)', () => {
  it('two bad items next to three good ones → quarantined and recorded, the good ones forecast, SUCCEEDED', async () => {
    // Prepare: the small dataset plus an item with one data point and one whose values are all negative
    const dataName = nextDataName();
    await seed(dataName);
    const day = (d: number) => new Date(Date.UTC(2024, 1, 29 - d));
    await withWarehouse((w) =>
      writeTargetInputRows(w, [
        { dataName, itemId: 'item_single', timestamp: day(0), value: 4 },
        ...Array.from({ length: 30 }, (_, d) => ({ dataName, itemId: 'item_negative', timestamp: day(d), value: -2 })),
      ]),
    );
    const started = Date.now();
    // Act
    const result = await run(message(dataName, '20240301'));
    // Assess: the summary names them, the warehouse records them, the rest delivered exactly once
    expect(lastOutput).toMatch(/quarantined: 2 items left out of the run/);
    expect((await dataIssues(dataName)).map((i) => [i.ISSUE, i.ITEM_ID])).toEqual([
      ['QUARANTINED', 'item_negative'],
      ['QUARANTINED', 'item_single'],
    ]);
    judge('2 bad items quarantined next to 3 good ones', { run: 'SUCCEEDED' }, await observe(dataName, executionName(dataName, '20240301'), result.execution?.status), (Date.now() - started) / 1000);
  }, T);

  it('item × store dimensions with related data → every series its own forecast, keyed by item and store, realised accuracy against its own actuals, a bad store quarantined alone', async () => {
    // Prepare: the small dataset's 3 items in 2 stores (store s2 sells twice as much), in a table
    // with a STORE column; prices per item and store; item_0 also in store s3 with one data point
    const dataName = nextDataName();
    const table = 'FM_INPUT_STORES';
    const related = 'FM_RELATED_STORES';
    await withWarehouse(async (w) => {
      await ensureTables(w);
      await w.execute(`CREATE TABLE IF NOT EXISTS ${table} (DATASET_NAME VARCHAR, ITEM_ID VARCHAR, STORE VARCHAR, TIMESTAMP TIMESTAMP, TARGET_VALUE DOUBLE)`);
      await w.execute(`CREATE TABLE IF NOT EXISTS ${related} (DATASET_NAME VARCHAR, ITEM_ID VARCHAR, STORE VARCHAR, TIMESTAMP TIMESTAMP, PRICE DOUBLE)`);
      const rows = smallDataset(dataName, { items: ITEMS, days: HISTORY_DAYS, forecastStart: forecastStart('20240301'), after: HORIZON });
      await w.insertRows(table, ['DATASET_NAME', 'ITEM_ID', 'STORE', 'TIMESTAMP', 'TARGET_VALUE'], [
        ...rows.map((r) => [dataName, r.itemId, 's1', r.timestamp, r.value]),
        ...rows.map((r) => [dataName, r.itemId, 's2', r.timestamp, 2 * r.value!]),
        [dataName, 'item_0', 's3', new Date(Date.UTC(2024, 1, 29)), 5],
      ]);
      await w.insertRows(related, ['DATASET_NAME', 'ITEM_ID', 'STORE', 'TIMESTAMP', 'PRICE'], ['s1', 's2', 's3'].flatMap((store) => rows.map((r) => [dataName, r.itemId, store, r.timestamp, store === 's1' ? 2 : 3])));
    });
    const query = (op: string) =>
      `SELECT TIMESTAMP, ITEM_ID, STORE, TARGET_VALUE FROM ${table} WHERE DATASET_NAME = :DATA_NAME AND TIMESTAMP ${op} CAST(:FORECAST_START AS TIMESTAMP) ORDER BY ITEM_ID, STORE, TIMESTAMP`;
    const relatedQuery = `SELECT TIMESTAMP, ITEM_ID, STORE, PRICE FROM ${related} WHERE DATASET_NAME = :DATA_NAME ORDER BY ITEM_ID, STORE, TIMESTAMP`;
    const started = Date.now();
    // Act
    const output = await runChild(message(dataName, '20240301'), { TARGET_QUERY: query('<'), VALIDATION_QUERY: query('>='), RELATED_QUERY: relatedQuery });
    // Assess: 6 series × horizon × types per model, each once; s2's forecasts about twice s1's; realised accuracy found its actuals
    const runId = executionName(dataName, '20240301');
    expect(output).toMatch(/Run \S+: execution SUCCEEDED/);
    expect(output).toMatch(/quarantined: 1 item left out of the run/);
    expect(output).toContain('"item_0" {"store":"s3"}: a single data point');
    // The related rows of the quarantined series are left out with it; the others are keyed by item and store.
    const relatedCsv = await readFile(join(localPaths(root).storeRoot, localPaths(root).bucket, dataName, '20240301', 'related.csv'), 'utf8');
    expect(relatedCsv).toContain(',item_0,s2,3\n');
    expect(relatedCsv).not.toContain(',item_0,s3,');
    const observed = await observe(dataName, runId, 'SUCCEEDED');
    const perStore = await withWarehouse(async (w) => {
      const found: Record<string, number> = {};
      for await (const row of w.query(
        `SELECT DIMENSIONS, COUNT(*) AS N, AVG(VALUE) AS V FROM FORECAST_RESULTS WHERE RUN_ID = ? AND MODEL = 'ETS' AND FORECAST_TYPE = 'p50' GROUP BY DIMENSIONS ORDER BY DIMENSIONS`,
        [runId],
      )) {
        found[String(row.DIMENSIONS)] = Number(row.V);
        expect(Number(row.N)).toBe(ITEMS * HORIZON);
      }
      return found;
    });
    expect(Object.keys(perStore)).toEqual(['{"store":"s1"}', '{"store":"s2"}']);
    expect(perStore['{"store":"s2"}']! / perStore['{"store":"s1"}']!).toBeGreaterThan(1.7);
    const observations = await withWarehouse(async (w) => {
      for await (const row of w.query(`SELECT VALUE FROM FORECAST_METRICS WHERE RUN_ID = ? AND MODEL = 'ETS' AND SOURCE = 'REALISED' AND METRIC = 'OBSERVATIONS'`, [runId])) return Number(row.VALUE);
      return 0;
    });
    expect(observations).toBe(2 * ITEMS * HORIZON);
    expect(observed.rows.distinctForecastKeys).toBe(2 * ROWS_PER_MODEL * MODELS.length);
    expect(observed.rows.forecastRows).toBe(2 * ROWS_PER_MODEL * MODELS.length);
    expect(observed.left).toEqual([]);
    tally.add({ scenario: 'item × store dimensions (6 series)', expected: 'SUCCEEDED', observed: `${observed.execution} / ${observed.rows.statusRows[0]?.STATUS}`, asExpected: true, rowsLost: 0, rowsDuplicated: 0, resourcesLeft: 0, seconds: (Date.now() - started) / 1000 });
  }, T);
});

describe('fault matrix: data-level cases (calendars)', () => {
  /** `count` timestamps on the data's own calendar, the last `after` of them from dateCreate on (validation actuals). */
  async function calendarScenario(name: string, frequency: string, dates: readonly Date[], horizon: number): Promise<void> {
    const dataName = nextDataName();
    await withWarehouse(async (w) => {
      await ensureTables(w);
      await writeTargetInputRows(
        w,
        Array.from({ length: ITEMS }, (_, i) => dates.map((timestamp, d) => ({ dataName, itemId: `item_${i}`, timestamp, value: 20 + 5 * i + (d % 4) }))).flat(),
      );
    });
    const started = Date.now();
    const msg = { param: { ...message(dataName, '20240301').param, ForecastFrequency: frequency, ForecastHorizon: horizon } };
    // Act
    const result = await run(msg);
    // Assess: forecasts on the data's own dates, and realised accuracy found an actual for every forecast date
    const runId = executionName(dataName, '20240301');
    const expectedDates = dates.filter((d) => d.getTime() >= Date.UTC(2024, 2, 1)).slice(0, horizon).map((d) => d.toISOString());
    const { forecastDates, observations } = await withWarehouse(async (w) => {
      const found: string[] = [];
      for await (const row of w.query(`SELECT DISTINCT FORECAST_DATE FROM FORECAST_RESULTS WHERE RUN_ID = ? ORDER BY FORECAST_DATE`, [runId])) found.push((row.FORECAST_DATE as Date).toISOString());
      let n = 0;
      for await (const row of w.query(`SELECT VALUE FROM FORECAST_METRICS WHERE RUN_ID = ? AND MODEL = 'ETS' AND SOURCE = 'REALISED' AND METRIC = 'OBSERVATIONS'`, [runId])) n = Number(row.VALUE);
      return { forecastDates: found, observations: n };
    });
    expect(result.execution?.status).toBe('SUCCEEDED');
    expect(forecastDates).toEqual(expectedDates);
    expect(observations).toBe(ITEMS * horizon);
    const observed = await observe(dataName, runId, result.execution?.status);
    expect(observed.rows.distinctForecastKeys).toBe(ITEMS * horizon * TYPES.length * MODELS.length);
    expect(observed.rows.forecastRows).toBe(observed.rows.distinctForecastKeys);
    expect(observed.left).toEqual([]);
    tally.add({ scenario: name, expected: 'SUCCEEDED', observed: `${observed.execution} / ${observed.rows.statusRows[0]?.STATUS}`, asExpected: true, rowsLost: 0, rowsDuplicated: 0, resourcesLeft: 0, seconds: (Date.now() - started) / 1000 });
  }

  const DAY = 86_400_000;
  it('weekly data on Wednesdays → forecasts on Wednesdays, realised accuracy over every forecast week', () =>
    // Wednesday 2024-02-28 is the last history week; 60 weeks of history, 7 after.
    calendarScenario('weekly data on Wednesdays', 'W', Array.from({ length: 67 }, (_, k) => new Date(Date.UTC(2024, 1, 28) + (k - 59) * 7 * DAY)), 7), T);

  it('monthly data on month ends → accepted, forecasts on month ends (Mar 31, Apr 30, May 31)', () =>
    calendarScenario('monthly data on month ends', 'M', Array.from({ length: 51 }, (_, k) => new Date(Date.UTC(2020, 3 + k, 0))), 3), T);

  it('quarter-end 3M data → accepted, forecasts on quarter ends', () =>
    calendarScenario('quarterly (3M) data on quarter ends', '3M', Array.from({ length: 27 }, (_, k) => new Date(Date.UTC(2018, 3 * k, 0))), 2), T);

  it('monthly data on the 15th → forecasts on the 15th', () =>
    calendarScenario('monthly data on the 15th', 'M', Array.from({ length: 53 }, (_, k) => new Date(Date.UTC(2020, k, 15))), 3), T);
});
