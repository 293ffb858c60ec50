/**
 * Wiring: the one place that picks an adapter per port from configuration.
 * Lambdas call `getDependencies()` (built once per container, lazily: no SDK client and
 * no Snowflake connection exists until a step needs it). The local runner and tests
 * inject their own with `setDependencies()`.
 *
 * FORECAST_BACKEND = amazon | builtin      STORAGE = s3 | folder
 * WAREHOUSE        = snowflake | duckdb    WORKFLOW = stepfunctions | local
 * DEAD_LETTER_QUEUE_URL set → rejected messages go to that SQS queue; unset → `s3://<bucket>/rejected/`
 * FORECAST_ENGINE_EXECUTOR = in-process | workflow (builtin: jobs in this process, or as executions
 *   of the engine-job state machine ENGINE_JOB_STATE_MACHINE_ARN)
 */
import { choiceEnv, optionalEnv, requireEnv } from './env';
import { ConfigurationError } from './errors';
import type { ForecastPort, ObjectStore, RejectedMessages, Warehouse, WorkflowRunner, WorkflowStarter } from './ports';
import type { EngineJobDependencies } from './steps/engine-job';
import type { StepFunctionsStarter } from './adapters/sfn-workflow';

export interface Dependencies {
  readonly forecast: ForecastPort;
  readonly store: ObjectStore;
  /** Opens (once, retried; a failed open is not kept) and returns the warehouse connection. */
  warehouse(): Promise<Warehouse>;
  readonly workflow: WorkflowStarter;
  /** Where parse puts a message it can never accept: the DLQ on AWS, a folder locally. */
  readonly rejections: RejectedMessages;
  readonly settings: Settings;
}

export interface Settings {
  /** Bucket for the pipeline's CSVs and Forecast exports. */
  readonly bucket: string;
  /** IAM role Forecast assumes to read and write the bucket (a dummy ARN locally). */
  readonly forecastRoleArn: string;
}

let current: Dependencies | undefined;

export function setDependencies(deps: Dependencies | undefined): void {
  current = deps;
}

export async function getDependencies(env: NodeJS.ProcessEnv = process.env): Promise<Dependencies> {
  current ??= await dependenciesFromEnv(env);
  return current;
}

export interface RetryOptions {
  /** Tries per call (the first included). */
  readonly attempts: number;
  /** Wait before the second try; doubles after each further failure. */
  readonly firstWaitMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Whether an error may pass on a retry; a configuration error never does. */
  readonly retryable?: (error: unknown) => boolean;
}

/** Opening a connection: 4 tries, waiting 0.5 s, 1 s, 2 s (a Snowflake or DNS hiccup passes). */
export const OPEN_RETRY: RetryOptions = { attempts: 4, firstWaitMs: 500 };

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Calls `open` until it succeeds, up to `attempts` times with doubling waits; rethrows the last error. */
export async function retryWithBackoff<T>(open: () => Promise<T>, options: RetryOptions = OPEN_RETRY): Promise<T> {
  const sleep = options.sleep ?? sleepMs;
  const retryable = options.retryable ?? ((error: unknown) => !(error instanceof ConfigurationError));
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if (attempt >= options.attempts || !retryable(error)) throw error;
      await sleep(options.firstWaitMs * 2 ** (attempt - 1));
    }
  }
}

/**
 * Memoises an async factory: the first call opens (retrying with backoff), later and concurrent calls
 * share the same promise. A failed open is forgotten, so the next call opens again: one outage never
 * fails every later message the container serves. `usable` (optional) tells whether an opened value
 * is still good; when it says no (a connection lost since), the next call opens a new one.
 */
export function once<T>(open: () => Promise<T>, retry: RetryOptions = OPEN_RETRY, usable?: (value: T) => boolean): () => Promise<T> {
  let opened: Promise<T> | undefined;
  let value: { readonly current: T } | undefined;
  return () => {
    if (opened && !(value && usable && !usable(value.current))) return opened;
    const attempt = retryWithBackoff(open, retry);
    opened = attempt;
    value = undefined;
    attempt.then(
      (current) => {
        if (opened === attempt) value = { current };
      },
      () => {
        if (opened === attempt) opened = undefined;
      },
    );
    return attempt;
  };
}

export async function dependenciesFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Dependencies> {
  const settings: Settings = {
    bucket: requireEnv('BUCKET', env),
    forecastRoleArn: optionalEnv('FORECAST_ROLE_ARN', 'arn:aws:iam::000000000000:role/local-forecast', env),
  };
  const store = await storeFromEnv(env);

  const backend = choiceEnv('FORECAST_BACKEND', ['amazon', 'builtin'] as const, 'amazon', env);
  const forecast: ForecastPort =
    backend === 'amazon'
      ? (await import('./adapters/amazon-forecast')).createAmazonForecast()
      : (await import('../engine/client')).createBuiltinForecast({
          store,
          stateUri: engineStateUri(env),
          ...(choiceEnv('FORECAST_ENGINE_EXECUTOR', ['in-process', 'workflow'] as const, 'in-process', env) === 'workflow'
            ? { jobWorkflow: lazyStepFunctions('ENGINE_JOB_STATE_MACHINE_ARN', env), shardConcurrency: Number(optionalEnv('ENGINE_SHARD_CONCURRENCY', '100', env)) }
            : {}),
        });

  const warehouseKind = choiceEnv('WAREHOUSE', ['snowflake', 'duckdb'] as const, 'snowflake', env);
  const warehouse = once(
    async (): Promise<Warehouse> =>
      warehouseKind === 'snowflake'
        ? (await import('./adapters/snowflake-warehouse')).openSnowflakeWarehouse({ secretArn: requireEnv('SNOWFLAKE_SECRET_ARN', env) })
        : (await import('./adapters/duckdb-warehouse')).openDuckDbWarehouse({ path: requireEnv('DUCKDB_PATH', env) }),
    OPEN_RETRY,
    (opened) => opened.isOpen?.() ?? true,
  );

  const workflowKind = choiceEnv('WORKFLOW', ['stepfunctions', 'local'] as const, 'stepfunctions', env);
  if (workflowKind === 'local') {
    throw new ConfigurationError('WORKFLOW=local is wired by the local runner (setDependencies), not from the environment');
  }
  // Only parse starts executions; the step functions cannot even know the state machine's ARN
  // (it references them: a circular dependency in the template), so it is read on first use.
  const workflow: WorkflowStarter = lazyStepFunctions('STATE_MACHINE_ARN', env);
  const deadLetterQueueUrl = optionalEnv('DEAD_LETTER_QUEUE_URL', '', env);
  let deadLetters: RejectedMessages | undefined;
  const rejections: RejectedMessages = deadLetterQueueUrl
    ? {
        async reject(rejected) {
          deadLetters ??= new (await import('./adapters/sqs-dead-letter')).SqsDeadLetterQueue(deadLetterQueueUrl);
          return deadLetters.reject(rejected);
        },
      }
    : new (await import('./adapters/store-rejections')).StoreRejectedMessages(store, settings.bucket);
  return { forecast, store, warehouse, workflow, rejections, settings };
}

async function storeFromEnv(env: NodeJS.ProcessEnv): Promise<ObjectStore> {
  const storage = choiceEnv('STORAGE', ['s3', 'folder'] as const, 's3', env);
  return storage === 's3'
    ? new (await import('./adapters/s3-store')).S3ObjectStore()
    : new (await import('./adapters/folder-store')).FolderObjectStore(requireEnv('LOCAL_ROOT', env));
}

const engineStateUri = (env: NodeJS.ProcessEnv) => optionalEnv('ENGINE_STATE_URI', `s3://${requireEnv('BUCKET', env)}/.engine`, env);

/**
 * The Step Functions adapter of the state machine named by `arnVariable`, loaded and read on first
 * use: the pipeline's (STATE_MACHINE_ARN, parse only) or the engine-job machine's
 * (ENGINE_JOB_STATE_MACHINE_ARN, builtin only).
 */
function lazyStepFunctions(arnVariable: string, env: NodeJS.ProcessEnv): WorkflowStarter & WorkflowRunner {
  let adapter: StepFunctionsStarter | undefined;
  const open = async () => (adapter ??= new (await import('./adapters/sfn-workflow')).StepFunctionsStarter(requireEnv(arnVariable, env)));
  return {
    startExecution: async (name, input) => (await open()).startExecution(name, input),
    describeExecution: async (name) => (await open()).describeExecution(name),
    executionStatus: async (executionArn) => (await open()).executionStatus(executionArn),
  };
}

let engineJobs: Promise<EngineJobDependencies> | undefined;

/** What the engine-job state machine's Lambdas (engine-plan, engine-shard, engine-finish) work with. */
export function getEngineJobDependencies(env: NodeJS.ProcessEnv = process.env): Promise<EngineJobDependencies> {
  engineJobs ??= (async () => {
    const store = await storeFromEnv(env);
    const [{ Repository }, { FaultInjector }] = await Promise.all([import('../engine/repository'), import('../engine/faults')]);
    const shardCost = env.ENGINE_SHARD_COST ? Number(env.ENGINE_SHARD_COST) : undefined;
    return { store, repo: new Repository(store, engineStateUri(env)), faults: FaultInjector.fromEnv(env), exportPartRows: 100_000, ...(shardCost ? { shardCost } : {}) };
  })();
  return engineJobs;
}
