/**
 * Where the local runner keeps everything: one folder (default `.forecast-local/`, or
 * FORECAST_LOCAL_ROOT, or `--root`). Nothing of it is committed (it is gitignored).
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_ROOT = '.forecast-local';
/** The bucket name of the folder store: `s3://bucket/…` lives in `<root>/bucket/…`. */
export const LOCAL_BUCKET = 'bucket';
/**
 * DuckDB's buffer limit in local runs (DUCKDB_MEMORY_LIMIT overrides): the warehouse spills big
 * sorts and inserts to disk instead of holding up to 80 % of the machine, so a run's memory stays
 * bounded however many items it reads.
 */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '512MB';

export const duckDbMemoryLimit = (env: NodeJS.ProcessEnv = process.env) => env.DUCKDB_MEMORY_LIMIT || DEFAULT_DUCKDB_MEMORY_LIMIT;

/** A dummy role ARN: the built-in engine does not assume roles. */
export const LOCAL_FORECAST_ROLE = 'arn:aws:iam::000000000000:role/forecast-local';

/** The repository (where template.yaml, statemachine/, lambdas/ and examples/ are). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface LocalPaths {
  readonly root: string;
  /** The DuckDB file: the warehouse. */
  readonly duckdb: string;
  /** Root of the folder object store (one sub-folder per bucket). */
  readonly storeRoot: string;
  readonly bucket: string;
  /** Where the built-in engine keeps its resources and models. */
  readonly engineStateUri: string;
  /** The execution registry (one JSON per execution name). */
  readonly executions: string;
  readonly reports: string;
  readonly templateFile: string;
}

/** `--root`, else FORECAST_LOCAL_ROOT, else `.forecast-local` in the working directory. */
export function resolveRoot(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const chosen = flag ?? (env.FORECAST_LOCAL_ROOT || undefined) ?? DEFAULT_ROOT;
  return isAbsolute(chosen) ? chosen : resolve(cwd, chosen);
}

export function localPaths(root: string): LocalPaths {
  return {
    root,
    duckdb: join(root, 'warehouse.duckdb'),
    storeRoot: root,
    bucket: LOCAL_BUCKET,
    engineStateUri: 's3://engine/state',
    executions: join(root, 'executions'),
    reports: join(root, 'reports'),
    templateFile: join(PROJECT_ROOT, 'template.yaml'),
  };
}

export function reportPath(paths: LocalPaths, runId: string): string {
  return join(paths.reports, `${runId}.html`);
}
