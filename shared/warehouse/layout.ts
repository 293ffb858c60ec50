/**
 * The default warehouse layout: the input tables the default queries read, and the output tables
 * notify and the failure step write. Identical DDL runs on Snowflake and DuckDB (types both accept:
 * VARCHAR, DOUBLE, INTEGER, BOOLEAN, TIMESTAMP = TIMESTAMP_NTZ). Table names can be changed by
 * configuration (`*_TABLE` variables); columns are fixed. See docs/warehouse.md.
 */
import { optionalEnv } from '../env';
import type { Warehouse } from '../ports/warehouse';
import { assertIdentifier } from './sql';

export interface TableNames {
  /** Input: actuals, one row per dataset, item and timestamp. */
  readonly inputTarget: string;
  /** Input: related time series (features known ahead, e.g. price and promotion). */
  readonly inputRelated: string;
  /** Output: one row per dataset, run, model, item, date and forecast type. */
  readonly forecasts: string;
  /** Output: accuracy per run, model, source (BACKTEST / REALISED), metric and forecast type. */
  readonly metrics: string;
  /** Output: one row per run: the status of what is published (the attempt that delivered, else the latest). */
  readonly runs: string;
  /** Output: one row per attempt of a run: every attempt's status, also of attempts that were replaced. */
  readonly attempts: string;
  /** Output: one row per dataset with the seed's forecast_available flag. */
  readonly parameters: string;
  /** Output (written by parse): what the data of a run got wrong: quarantined items, stale data. */
  readonly dataIssues: string;
}

export const DEFAULT_TABLES: TableNames = {
  inputTarget: 'FORECAST_INPUT_TARGET',
  inputRelated: 'FORECAST_INPUT_RELATED',
  forecasts: 'FORECAST_RESULTS',
  metrics: 'FORECAST_METRICS',
  runs: 'FORECAST_RUNS',
  attempts: 'FORECAST_RUN_ATTEMPTS',
  parameters: 'FORECAST_PARAMETERS',
  dataIssues: 'FORECAST_DATA_ISSUES',
};

const TABLE_ENV: Record<keyof TableNames, string> = {
  inputTarget: 'INPUT_TARGET_TABLE',
  inputRelated: 'INPUT_RELATED_TABLE',
  forecasts: 'FORECAST_TABLE',
  metrics: 'METRICS_TABLE',
  runs: 'RUNS_TABLE',
  attempts: 'RUN_ATTEMPTS_TABLE',
  parameters: 'PARAMETERS_TABLE',
  dataIssues: 'DATA_ISSUES_TABLE',
};

/** Table names from the environment (each optional, validated as plain identifiers). */
export function tableNamesFromEnv(env: NodeJS.ProcessEnv = process.env): TableNames {
  const names = {} as Record<keyof TableNames, string>;
  for (const key of Object.keys(DEFAULT_TABLES) as (keyof TableNames)[]) {
    names[key] = assertIdentifier(optionalEnv(TABLE_ENV[key], DEFAULT_TABLES[key], env), TABLE_ENV[key]);
  }
  return names;
}

/** DDL of the input tables the default queries read (the local demo seeds them). */
export function inputTablesDdl(tables: TableNames = DEFAULT_TABLES): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${tables.inputTarget} (
  DATASET_NAME VARCHAR NOT NULL,
  ITEM_ID VARCHAR NOT NULL,
  TIMESTAMP TIMESTAMP NOT NULL,
  TARGET_VALUE DOUBLE
)`,
    `CREATE TABLE IF NOT EXISTS ${tables.inputRelated} (
  DATASET_NAME VARCHAR NOT NULL,
  ITEM_ID VARCHAR NOT NULL,
  TIMESTAMP TIMESTAMP NOT NULL,
  PRICE DOUBLE,
  PROMOTION DOUBLE
)`,
  ];
}

/** DDL of the table parse writes a run's data issues to (one row per quarantined item or warning). */
export function dataIssuesTableDdl(tables: TableNames = DEFAULT_TABLES): string {
  return `CREATE TABLE IF NOT EXISTS ${tables.dataIssues} (
  DATASET_NAME VARCHAR NOT NULL,
  RUN_ID VARCHAR NOT NULL,
  ISSUE VARCHAR NOT NULL,
  ITEM_ID VARCHAR,
  DIMENSIONS VARCHAR,
  REASON VARCHAR NOT NULL,
  RECORDED_AT TIMESTAMP NOT NULL
)`;
}

/** The status columns FORECAST_RUNS and FORECAST_RUN_ATTEMPTS share (a run's row shows one attempt's). */
const STATUS_COLUMNS = [
  'STATUS VARCHAR NOT NULL',
  'REASON VARCHAR',
  'FAILED_MODELS VARCHAR',
  'FORECAST_ROWS INTEGER',
  'METRIC_ROWS INTEGER',
  'UPDATED_AT TIMESTAMP NOT NULL',
  'CLEANUP_ERROR VARCHAR',
].join(',\n  ');

/** DDL of the table of every attempt's status (parse writes RUNNING, notify and the failure step the end). */
export function attemptsTableDdl(tables: TableNames = DEFAULT_TABLES): string {
  return `CREATE TABLE IF NOT EXISTS ${tables.attempts} (
  RUN_ID VARCHAR NOT NULL,
  ATTEMPT INTEGER NOT NULL,
  EXECUTION_NAME VARCHAR NOT NULL,
  DATASET_NAME VARCHAR NOT NULL,
  DATE_CREATE VARCHAR NOT NULL,
  MESSAGE_HASH VARCHAR,
  ${STATUS_COLUMNS},
  POST_DELIVERY_ERROR VARCHAR
)`;
}

/** DDL of the tables notify, the failure step and parse write. */
export function outputTablesDdl(tables: TableNames = DEFAULT_TABLES): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${tables.forecasts} (
  DATASET_NAME VARCHAR NOT NULL,
  RUN_ID VARCHAR NOT NULL,
  MODEL VARCHAR NOT NULL,
  PREDICTOR_NAME VARCHAR NOT NULL,
  ITEM_ID VARCHAR NOT NULL,
  DIMENSIONS VARCHAR,
  FORECAST_DATE TIMESTAMP NOT NULL,
  FORECAST_TYPE VARCHAR NOT NULL,
  VALUE DOUBLE
)`,
    `CREATE TABLE IF NOT EXISTS ${tables.metrics} (
  DATASET_NAME VARCHAR NOT NULL,
  RUN_ID VARCHAR NOT NULL,
  MODEL VARCHAR NOT NULL,
  PREDICTOR_NAME VARCHAR NOT NULL,
  SOURCE VARCHAR NOT NULL,
  METRIC VARCHAR NOT NULL,
  FORECAST_TYPE VARCHAR,
  VALUE DOUBLE
)`,
    `CREATE TABLE IF NOT EXISTS ${tables.runs} (
  RUN_ID VARCHAR NOT NULL,
  DATASET_NAME VARCHAR NOT NULL,
  DATE_CREATE VARCHAR NOT NULL,
  ${STATUS_COLUMNS},
  ATTEMPT INTEGER,
  POST_DELIVERY_ERROR VARCHAR
)`,
    attemptsTableDdl(tables),
    `CREATE TABLE IF NOT EXISTS ${tables.parameters} (
  DATASET_NAME VARCHAR NOT NULL,
  FORECAST_AVAILABLE BOOLEAN NOT NULL,
  LAST_RUN_ID VARCHAR,
  UPDATED_AT TIMESTAMP NOT NULL
)`,
    dataIssuesTableDdl(tables),
  ];
}

/** The default input tables' DDL (for scripts and docs). */
export const INPUT_TABLES_DDL: readonly string[] = inputTablesDdl();
/** The default output tables' DDL. */
export const OUTPUT_TABLES_DDL: readonly string[] = outputTablesDdl();

async function runAll(warehouse: Warehouse, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await warehouse.execute(statement);
}

/** Creates the input tables when missing (the local demo seeds them after this). */
export async function ensureInputTables(warehouse: Warehouse, tables: TableNames = DEFAULT_TABLES): Promise<void> {
  await runAll(warehouse, inputTablesDdl(tables));
}

/**
 * Columns added to output tables after their first release: tables created before get them here
 * (`ADD COLUMN IF NOT EXISTS` works on DuckDB and Snowflake alike; nothing happens when present).
 */
export function outputTablesUpgradeDdl(tables: TableNames = DEFAULT_TABLES): string[] {
  return [
    `ALTER TABLE ${tables.runs} ADD COLUMN IF NOT EXISTS CLEANUP_ERROR VARCHAR`,
    `ALTER TABLE ${tables.runs} ADD COLUMN IF NOT EXISTS ATTEMPT INTEGER`,
    `ALTER TABLE ${tables.runs} ADD COLUMN IF NOT EXISTS POST_DELIVERY_ERROR VARCHAR`,
  ];
}

/** Creates the output tables when missing, and adds the columns older tables lack. */
export async function ensureOutputTables(warehouse: Warehouse, tables: TableNames = DEFAULT_TABLES): Promise<void> {
  await runAll(warehouse, outputTablesDdl(tables));
  await runAll(warehouse, outputTablesUpgradeDdl(tables));
}

/** Creates every table of the default layout when missing. */
export async function ensureTables(warehouse: Warehouse, tables: TableNames = DEFAULT_TABLES): Promise<void> {
  await ensureInputTables(warehouse, tables);
  await ensureOutputTables(warehouse, tables);
}

/** One actual of the default target input table. */
export interface TargetInputRow {
  readonly dataName: string;
  readonly itemId: string;
  readonly timestamp: Date;
  readonly value: number | null;
}

/** One row of the default related input table. */
export interface RelatedInputRow {
  readonly dataName: string;
  readonly itemId: string;
  readonly timestamp: Date;
  readonly price: number | null;
  readonly promotion: number | null;
}

/** Appends actuals to the default target input table (binds only). */
export function writeTargetInputRows(
  warehouse: Warehouse,
  rows: Iterable<TargetInputRow> | AsyncIterable<TargetInputRow>,
  tables: TableNames = DEFAULT_TABLES,
): Promise<number> {
  return warehouse.insertRows(
    tables.inputTarget,
    ['DATASET_NAME', 'ITEM_ID', 'TIMESTAMP', 'TARGET_VALUE'],
    mapRows(rows, (r) => [r.dataName, r.itemId, r.timestamp, r.value]),
  );
}

/** Appends rows to the default related input table (binds only). */
export function writeRelatedInputRows(
  warehouse: Warehouse,
  rows: Iterable<RelatedInputRow> | AsyncIterable<RelatedInputRow>,
  tables: TableNames = DEFAULT_TABLES,
): Promise<number> {
  return warehouse.insertRows(
    tables.inputRelated,
    ['DATASET_NAME', 'ITEM_ID', 'TIMESTAMP', 'PRICE', 'PROMOTION'],
    mapRows(rows, (r) => [r.dataName, r.itemId, r.timestamp, r.price, r.promotion]),
  );
}

async function* mapRows<T, U>(rows: Iterable<T> | AsyncIterable<T>, map: (row: T) => U): AsyncIterable<U> {
  for await (const row of rows) yield map(row);
}
