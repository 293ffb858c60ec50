/**
 * Wiring: the one place that picks an adapter per port from configuration.
 * Lambdas call `getDependencies()` (built once per container, lazily: no SDK client and
 * no Snowflake connection exists until a step needs it). The local runner and tests
 * inject their own with `setDependencies()`.
 *
 * FORECAST_BACKEND = amazon | builtin      STORAGE = s3 | folder
 * WAREHOUSE        = snowflake | duckdb    WORKFLOW = stepfunctions | local
 * FORECAST_ENGINE_EXECUTOR = in-process | workflow (builtin: jobs in this process, or as executions
 *   of the engine-job state machine ENGINE_JOB_STATE_MACHINE_ARN)
 */
import { choiceEnv, optionalEnv, requireEnv } from './env';
import { ConfigurationError } from './errors';
import type { ForecastPort, ObjectStore, Warehouse, WorkflowRunner, WorkflowStarter } from './ports';
import type { EngineJobDependencies } from './steps/engine-job';

export interface Dependencies {
  readonly forecast: ForecastPort;
  readonly store: ObjectStore;
  /** Opens (once) and returns the warehouse connection. */
  warehouse(): Promise<Warehouse>;
  readonly workflow: WorkflowStarter;
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

/** Memoises an async factory: the first call opens, later calls share the same promise. */
export function once<T>(open: () => Promise<T>): () => Promise<T> {
  let opened: Promise<T> | undefined;
  return () => (opened ??= open());
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
            ? { jobWorkflow: engineJobWorkflow(env), shardConcurrency: Number(optionalEnv('ENGINE_SHARD_CONCURRENCY', '100', env)) }
            : {}),
        });

  const warehouseKind = choiceEnv('WAREHOUSE', ['snowflake', 'duckdb'] as const, 'snowflake', env);
  const warehouse = once(async (): Promise<Warehouse> =>
    warehouseKind === 'snowflake'
      ? (await import('./adapters/snowflake-warehouse')).openSnowflakeWarehouse({ secretArn: requireEnv('SNOWFLAKE_SECRET_ARN', env) })
      : (await import('./adapters/duckdb-warehouse')).openDuckDbWarehouse({ path: requireEnv('DUCKDB_PATH', env) }),
  );

  const workflowKind = choiceEnv('WORKFLOW', ['stepfunctions', 'local'] as const, 'stepfunctions', env);
  if (workflowKind === 'local') {
    throw new ConfigurationError('WORKFLOW=local is wired by the local runner (setDependencies), not from the environment');
  }
  // Only parse starts executions; the step functions cannot even know the state machine's ARN
  // (it references them: a circular dependency in the template), so it is read on first use.
  let starter: WorkflowStarter | undefined;
  const workflow: WorkflowStarter = {
    async startExecution(name, input) {
      starter ??= new (await import('./adapters/sfn-workflow')).StepFunctionsStarter(requireEnv('STATE_MACHINE_ARN', env));
      return starter.startExecution(name, input);
    },
  };
  return { forecast, store, warehouse, workflow, settings };
}

async function storeFromEnv(env: NodeJS.ProcessEnv): Promise<ObjectStore> {
  const storage = choiceEnv('STORAGE', ['s3', 'folder'] as const, 's3', env);
  return storage === 's3'
    ? new (await import('./adapters/s3-store')).S3ObjectStore()
    : new (await import('./adapters/folder-store')).FolderObjectStore(requireEnv('LOCAL_ROOT', env));
}

const engineStateUri = (env: NodeJS.ProcessEnv) => optionalEnv('ENGINE_STATE_URI', `s3://${requireEnv('BUCKET', env)}/.engine`, env);

/** The engine-job state machine on Step Functions (its ARN read on first use, like STATE_MACHINE_ARN). */
function engineJobWorkflow(env: NodeJS.ProcessEnv): WorkflowRunner {
  let runner: WorkflowRunner | undefined;
  const open = async () => (runner ??= new (await import('./adapters/sfn-workflow')).StepFunctionsStarter(requireEnv('ENGINE_JOB_STATE_MACHINE_ARN', env)));
  return {
    startExecution: async (name, input) => (await open()).startExecution(name, input),
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
