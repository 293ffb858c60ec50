/**
 * `forecast-pipeline run`: the whole pipeline on embedded defaults. The message goes through the
 * parse Lambda's handler as an SQS event; parse starts the execution through the local
 * WorkflowStarter, which runs the state machine with the step handlers the SAM functions deploy.
 * Nothing here talks to AWS: the dependencies are a DuckDB file, a folder and the built-in engine.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBuiltinForecast, type BuiltinForecast } from '../engine/client';
import { FaultInjector } from '../engine/faults';
import { Repository } from '../engine/repository';
import { LocalEngineJobWorkflow } from './engine-job-workflow';
import { jobSlotsFromEnv } from '../engine/limits';
import { FolderObjectStore } from '../shared/adapters/folder-store';
import { openDuckDbWarehouse } from '../shared/adapters/duckdb-warehouse';
import { StoreRejectedMessages } from '../shared/adapters/store-rejections';
import { choiceEnv } from '../shared/env';
import { executionName } from '../shared/names';
import { FORCE_NEW_ATTEMPT_ATTRIBUTE } from '../shared/parse/attempts';
import type { Warehouse } from '../shared/ports';
import { retryWithBackoff, setDependencies, type Dependencies } from '../shared/runtime';
import { ensureTables } from '../shared/warehouse/layout';
import { dateFromCompact, DEMO_DEFAULT_ITEMS } from './demo-data';
import { ExecutionRegistry, type ExecutionRecord } from './executions';
import type { RunEvent } from './events';
import { LOCAL_FORECAST_ROLE, PROJECT_ROOT, duckDbMemoryLimit, localPaths, reportPath, type LocalPaths } from './config';
import { createProgress, type ProgressOutput } from './progress';
import { datasetRows, seedDemoDataset } from './seed';
import { parseStepCrashRules } from './step-faults';
import { formatDataIssues, formatSummaryTable, readRunSummary, type RunSummary } from './summary';
import { IdleClosingWarehouse } from './idle-warehouse';
import { readQueueFunction } from './template';
import { DEFAULT_RETRY_WAITS, LocalWorkflowStarter, lambdaContext, loadHandler, type RetryWaits } from './workflow';
import { writeRunReport } from './report';

/** How long the warehouse may sit unused before the local runner closes it. */
const WAREHOUSE_IDLE_MS = 1_000;

export const DEMO_MESSAGE_FILE = join(PROJECT_ROOT, 'examples', 'demo-message.json');

export interface RunOptions {
  readonly root: string;
  /** The message (`{"param": …}`); undefined = the bundled demo message. */
  readonly message?: unknown;
  /** Demo items: seeds a demo dataset of that size (the demo's DataName gets a `_<N>` suffix). */
  readonly items?: number;
  /** Forget a previous execution of the same name and run again. */
  readonly force?: boolean;
  readonly report?: boolean;
  readonly out: ProgressOutput;
  readonly plain?: boolean;
  readonly retryWaits?: RetryWaits;
  readonly env?: NodeJS.ProcessEnv;
  /** Worker threads of the engine (default: every core). */
  readonly workers?: number;
  /** Opens the warehouse instead of the root's DuckDB file (tests: Snowflake through its driver). */
  readonly openWarehouse?: () => Promise<Warehouse>;
}

export interface RunResult {
  readonly exitCode: number;
  /** The run (the warehouse's RUN_ID) and the execution of the attempt that ran or was shown. */
  readonly runId?: string;
  readonly executionName?: string;
  readonly execution?: ExecutionRecord;
  readonly summary?: RunSummary;
  readonly reportFile?: string;
  /** started | resumed | existing: what `run` did with the execution. */
  readonly action?: 'started' | 'resumed' | 'existing';
}

/** The embedded dependencies: folder store, DuckDB warehouse, built-in engine, local workflow. */
export interface LocalRuntime {
  readonly paths: LocalPaths;
  readonly deps: Dependencies;
  readonly forecast: BuiltinForecast;
  readonly workflow: LocalWorkflowStarter;
  readonly registry: ExecutionRegistry;
  warehouse(): Promise<Warehouse>;
  close(): Promise<void>;
}

export function openLocalRuntime(
  root: string,
  options: { onEvent?: (event: RunEvent) => void; retryWaits?: RetryWaits; env?: NodeJS.ProcessEnv; workers?: number; openWarehouse?: () => Promise<Warehouse> } = {},
): LocalRuntime {
  const env = options.env ?? process.env;
  const paths = localPaths(root);
  const store = new FolderObjectStore(paths.storeRoot);
  // The engine's FORECAST_FAULTS rules come from the same environment as the runner's step rules.
  const faults = FaultInjector.fromEnv(env);
  // FORECAST_ENGINE_EXECUTOR=workflow: engine jobs run through statemachine/engine-job.asl.json, as
  // deployed with ForecastBackend=builtin, each shard in a process of its own.
  let wakeWorkflow = () => {};
  const jobWorkflow =
    choiceEnv('FORECAST_ENGINE_EXECUTOR', ['in-process', 'workflow'] as const, 'in-process', env) === 'workflow'
      ? new LocalEngineJobWorkflow({
          deps: { store, repo: new Repository(store, paths.engineStateUri), faults, exportPartRows: 100_000 },
          storeRoot: paths.storeRoot,
          onShard: (shard) =>
            options.onEvent?.({ kind: 'note', message: `engine ${shard.jobArn.split(':').pop()}: shard ${shard.index + 1} done (${shard.series} series, ${shard.ms} ms)`, at: Date.now() }),
          onExecutionEnded: () => wakeWorkflow(),
        })
      : undefined;
  const forecast = createBuiltinForecast({
    store,
    stateUri: paths.engineStateUri,
    faults,
    jobSlots: jobSlotsFromEnv(env),
    ...(options.workers ? { workers: options.workers } : {}),
    ...(jobWorkflow ? { jobWorkflow } : {}),
  });
  // The DuckDB file is closed while idle (between parse and notify the engine trains for minutes:
  // its memory and file lock are released), opened on demand. A failed open is retried with
  // backoff and then forgotten (the next use opens again), as on AWS. A warehouse given by the
  // caller is a connection to a server, opened once, as a warm Lambda container keeps it.
  const idleClosing = options.openWarehouse
    ? undefined
    : new IdleClosingWarehouse(() => retryWithBackoff(() => openDuckDbWarehouse({ path: paths.duckdb, memoryLimit: duckDbMemoryLimit(env) })), {
        idleMs: WAREHOUSE_IDLE_MS,
      });
  let given: Promise<Warehouse> | undefined;
  const warehouse = async (): Promise<Warehouse> => idleClosing ?? (given ??= options.openWarehouse!());
  const registry = new ExecutionRegistry(paths.executions);
  const workflow = new LocalWorkflowStarter({
    templateFile: paths.templateFile,
    registry,
    retryWaits: options.retryWaits ?? DEFAULT_RETRY_WAITS,
    crashRules: parseStepCrashRules(env.FORECAST_FAULTS),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  // A finished engine job is what a waiting step polls for: retry now rather than at the end of the wait.
  wakeWorkflow = () => workflow.wake();
  const deps: Dependencies = {
    forecast,
    store,
    warehouse,
    workflow,
    rejections: new StoreRejectedMessages(store, paths.bucket),
    settings: { bucket: paths.bucket, forecastRoleArn: LOCAL_FORECAST_ROLE },
  };
  return {
    paths,
    deps,
    forecast,
    workflow,
    registry,
    warehouse,
    async close() {
      setDependencies(undefined);
      await forecast.close();
      await idleClosing?.close();
      if (given) await (await given).close();
    },
  };
}

/** A message given as JSON text or as a file holding it; `{"body": …}` console shapes are unwrapped. */
export async function readMessage(source: string): Promise<unknown> {
  const text = source.trimStart().startsWith('{') ? source : await readFile(source, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`The message is not valid JSON (${(error as Error).message})`);
  }
  if (value && typeof value === 'object' && 'body' in value) {
    const body = (value as { body: unknown }).body;
    return typeof body === 'string' ? JSON.parse(body) : body;
  }
  return value;
}

/**
 * The SQS event the queue would deliver to the parse function for one message. `forceNewAttempt`
 * sets the `ForceNewAttempt` message attribute (a new attempt even after a SUCCEEDED one).
 */
export function sqsEventOf(body: string, groupId: string, options: { forceNewAttempt?: boolean } = {}) {
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: `local-${randomUUID()}`,
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: now,
          MessageGroupId: groupId,
          MessageDeduplicationId: createHash('sha256').update(body).digest('hex'),
        },
        messageAttributes: options.forceNewAttempt ? { [FORCE_NEW_ATTEMPT_ATTRIBUTE]: { stringValue: 'true', dataType: 'String' } } : {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ForecastQueue.fifo',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

type Param = Record<string, unknown> & { DataName?: unknown; dateCreate?: unknown; ForecastHorizon?: unknown; ForecastFrequency?: unknown };

function paramOf(message: unknown): Param | undefined {
  const param = message && typeof message === 'object' ? (message as { param?: unknown }).param : undefined;
  return param && typeof param === 'object' ? (param as Param) : undefined;
}

/** The bundled demo message, its DataName suffixed with the item count when it is not the default. */
export async function demoMessage(items: number): Promise<{ param: Param }> {
  const message = JSON.parse(await readFile(DEMO_MESSAGE_FILE, 'utf8')) as { param: Param };
  if (items !== DEMO_DEFAULT_ITEMS) message.param.DataName = `${String(message.param.DataName)}_${items}`;
  return message;
}

/** Runs the parse handler on an SQS event; returns its response and the errors it logged. */
async function invokeParse(runtime: LocalRuntime, event: unknown): Promise<{ response: unknown; errors: string[] }> {
  const fn = await readQueueFunction(runtime.paths.templateFile);
  const handler = await loadHandler(fn);
  const errors: string[] = [];
  const original = console.error;
  // parse reports a rejected record on its log (CloudWatch on AWS): keep it for a readable message.
  console.error = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      errors.push(typeof parsed.error === 'string' ? parsed.error : text);
    } catch {
      errors.push(text);
    }
  };
  try {
    return { response: await handler(event, lambdaContext(fn)), errors };
  } finally {
    console.error = original;
  }
}

const say = (out: ProgressOutput, text = '') => out.write(`${text}\n`);

/** `run`: seed if needed, parse the message as the SQS Lambda would, follow the execution, summarise, report. */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { out } = options;
  const env = options.env ?? process.env;
  const demo = options.message === undefined;
  const items = options.items ?? (demo ? DEMO_DEFAULT_ITEMS : undefined);
  const message = demo ? await demoMessage(items!) : options.message;
  const param = paramOf(message);
  const progress = createProgress(out, options.plain);
  const runtime = openLocalRuntime(options.root, {
    onEvent: (event) => {
      progress.handle(event);
    },
    ...(options.retryWaits ? { retryWaits: options.retryWaits } : {}),
    env,
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.openWarehouse ? { openWarehouse: options.openWarehouse } : {}),
  });
  const unsubscribe = runtime.forecast.onProgress((event) => {
    if (event.type === 'predictor' || event.type === 'forecast') {
      progress.handle({ kind: 'training', resource: event.name, done: event.done, total: event.total, at: Date.now(), phase: event.type === 'forecast' ? 'forecasting' : undefined });
    }
    // A finished job is what the waiting step polls for: retry now rather than at the end of the wait.
    if (event.done >= event.total) runtime.workflow.wake();
  });
  setDependencies(runtime.deps);
  try {
    const warehouse = await runtime.warehouse();
    await ensureTables(warehouse);
    const dataName = typeof param?.DataName === 'string' ? param.DataName : undefined;
    const dateCreate = typeof param?.dateCreate === 'string' ? param.dateCreate : undefined;
    if (items !== undefined && dataName && dateCreate && /^\d{8}$/.test(dateCreate)) {
      const horizon = typeof param?.ForecastHorizon === 'number' ? param.ForecastHorizon : 28;
      if ((param?.ForecastFrequency ?? 'D') !== 'D') throw new Error('The demo dataset is daily: --items needs a message with ForecastFrequency "D"');
      const seeded = await seedDemoDataset(warehouse, dataName, { items, forecastStart: dateFromCompact(dateCreate), horizon });
      if (seeded.seeded) progress.line(`seeded demo dataset ${dataName}: ${items} items, ${seeded.targetRows} target rows, ${seeded.relatedRows} related rows → ${runtime.paths.duckdb}`);
    } else if (dataName && !env.TARGET_QUERY && (await datasetRows(warehouse, dataName)) === 0) {
      progress.line(`note: the warehouse has no input rows for DataName ${dataName} (${runtime.paths.duckdb}); load your data (docs/local.md) or pass --items N for demo data`);
    }

    const runId = dataName && dateCreate ? executionName(dataName, dateCreate) : undefined;
    if (options.force && runId) progress.line(`--force: run ${runId} runs a new attempt (its own execution, files and Forecast resources), whatever the earlier ones did`);

    const body = JSON.stringify(message);
    const { response, errors } = await invokeParse(runtime, sqsEventOf(body, dataName ?? 'local', { forceNewAttempt: options.force === true }));
    const answered = response as { batchItemFailures?: unknown[]; rejected?: unknown[] } | undefined;
    const failures = [...(answered?.batchItemFailures ?? []), ...(answered?.rejected ?? [])];
    if (failures.length > 0) {
      progress.close();
      say(out, `parse rejected the message: ${errors.join('; ') || 'see the log above'}`);
      if ((answered?.rejected ?? []).length > 0) say(out, `  kept with its reasons under ${runtime.paths.storeRoot}/${runtime.paths.bucket}/rejected/ (the DLQ on AWS)`);
      say(out, 'No execution was started.');
      if (errors.some((e) => e.includes('AttemptInProgress')) && runId) {
        say(out, `An attempt of run ${runId} is still running with another message; run this one again once it has ended (it becomes the next attempt).`);
      }
      return { exitCode: 1 };
    }

    const start = runtime.workflow.lastStart;
    if (!start) {
      progress.close();
      say(out, 'parse accepted the message but started no execution.');
      return { exitCode: 1 };
    }
    let action: RunResult['action'] = start.kind;
    if (start.kind === 'existing') {
      const record = start.record;
      if (start.runningElsewhere) {
        progress.line(`execution ${record.name} is running in process ${record.pid} (started ${record.startDate}) — waiting for it`);
      } else {
        progress.line(
          `execution ${record.name} already ${record.status} at ${record.stopDate ?? record.startDate} — the same message does not run a delivered run twice; showing its results (--force runs a new attempt)`,
        );
      }
    } else if (start.kind === 'resumed') {
      progress.line(`execution ${start.name} was interrupted (process ${start.previous.pid} is gone) — running it again; every step is idempotent`);
      action = 'resumed';
    }
    const execution = await runtime.workflow.waitFor(start.name);
    progress.close();

    // The warehouse keys results by the run; the execution is one attempt of it.
    const resultsRunId = runId ?? start.name;
    const summary = await readRunSummary(warehouse, resultsRunId);
    say(out);
    say(out, `Run ${resultsRunId}${start.name !== resultsRunId ? ` (attempt ${start.name})` : ''}: execution ${execution.status}${summary ? `, results ${summary.status}` : ''}`);
    if (execution.status === 'FAILED' && execution.error) say(out, `  ${execution.error}: ${causeText(execution.cause)}`);
    if (summary?.reason) say(out, `  reason: ${summary.reason}`);
    if (summary?.cleanupError) say(out, `  cleanup failed: ${summary.cleanupError} (see forecast-pipeline resources)`);
    if (summary?.postDeliveryError) say(out, `  failed after the results were delivered: ${summary.postDeliveryError}`);
    for (const line of formatDataIssues(summary?.dataIssues ?? [])) say(out, line);
    if (summary && summary.models.length > 0) {
      say(out);
      say(out, formatSummaryTable(summary));
      say(out, '  bt = backtest metrics of the Forecast backend (on the values it trained on, log1p by default);');
      say(out, '  val = the forecasts against the validation actuals after the cut-off; * = best');
    }
    let reportFile: string | undefined;
    if (options.report !== false && summary && summary.models.length > 0) {
      reportFile = reportPath(runtime.paths, resultsRunId);
      await writeRunReport(warehouse, resultsRunId, reportFile);
    }
    say(out);
    say(out, `  warehouse: ${runtime.paths.duckdb} (FORECAST_RESULTS, FORECAST_METRICS, FORECAST_RUNS; RUN_ID = '${resultsRunId}'; every attempt in FORECAST_RUN_ATTEMPTS)`);
    if (reportFile) say(out, `  report:    ${reportFile}`);
    say(out, `  forecast rows: ${summary?.forecastRows ?? 0}`);
    return {
      exitCode: execution.status === 'SUCCEEDED' ? 0 : 1,
      runId: resultsRunId,
      executionName: start.name,
      execution,
      ...(summary ? { summary } : {}),
      ...(reportFile ? { reportFile } : {}),
      action,
    };
  } catch (error) {
    progress.close();
    throw error;
  } finally {
    unsubscribe();
    await runtime.close();
  }
}

/** A Lambda error's JSON Cause, as its message. */
export function causeText(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text
  }
  return cause;
}
