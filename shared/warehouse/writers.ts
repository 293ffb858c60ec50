/**
 * Writers of the output tables (binds only). Each replaces what a run wrote before, so a re-run of
 * notify or of the failure step never duplicates rows; callers wrap them in one transaction.
 */
import type { SqlValue, Warehouse } from '../ports/warehouse';
import { DEFAULT_TABLES, type TableNames } from './layout';

export const FORECAST_COLUMNS = ['DATASET_NAME', 'RUN_ID', 'MODEL', 'PREDICTOR_NAME', 'ITEM_ID', 'DIMENSIONS', 'FORECAST_DATE', 'FORECAST_TYPE', 'VALUE'] as const;
export const METRIC_COLUMNS = ['DATASET_NAME', 'RUN_ID', 'MODEL', 'PREDICTOR_NAME', 'SOURCE', 'METRIC', 'FORECAST_TYPE', 'VALUE'] as const;

export interface RunKey {
  readonly dataName: string;
  readonly runId: string;
}

/** One forecast value, tidy: a row per dataset, run, model, item, date and forecast type. */
export interface ForecastRow {
  readonly model: string;
  readonly predictorName: string;
  readonly itemId: string;
  /** Extra dimensions as a JSON object text, or null. */
  readonly dimensions: string | null;
  readonly date: Date;
  /** `p50`, `p95`, `mean`: the export's column name. */
  readonly forecastType: string;
  readonly value: number | null;
}

export type MetricSource = 'BACKTEST' | 'REALISED';

export interface MetricRow {
  readonly model: string;
  readonly predictorName: string;
  readonly source: MetricSource;
  /** WQL, AVG_WQL, WAPE, RMSE, MAPE, MASE, OBSERVATIONS */
  readonly metric: string;
  readonly forecastType: string | null;
  readonly value: number;
}

export type RunStatus = 'SUCCEEDED' | 'PARTIAL' | 'FAILED';

export interface RunStatusRow {
  readonly dateCreate: string;
  readonly status: RunStatus;
  readonly reason: string | null;
  readonly failedModels: readonly string[];
  readonly forecastRows: number | null;
  readonly metricRows: number | null;
}

/** Removes every forecast and metric row of the run. */
export async function deleteRunResults(tx: Warehouse, run: RunKey, tables: TableNames = DEFAULT_TABLES): Promise<void> {
  await tx.execute(`DELETE FROM ${tables.forecasts} WHERE DATASET_NAME = ? AND RUN_ID = ?`, [run.dataName, run.runId]);
  await tx.execute(`DELETE FROM ${tables.metrics} WHERE DATASET_NAME = ? AND RUN_ID = ?`, [run.dataName, run.runId]);
}

async function* forecastValues(run: RunKey, rows: AsyncIterable<ForecastRow> | Iterable<ForecastRow>): AsyncIterable<SqlValue[]> {
  for await (const r of rows) yield [run.dataName, run.runId, r.model, r.predictorName, r.itemId, r.dimensions, r.date, r.forecastType, r.value];
}

/** Appends forecast rows (streamed, batched by the adapter). */
export function insertForecastRows(tx: Warehouse, run: RunKey, rows: AsyncIterable<ForecastRow> | Iterable<ForecastRow>, tables: TableNames = DEFAULT_TABLES): Promise<number> {
  return tx.insertRows(tables.forecasts, FORECAST_COLUMNS, forecastValues(run, rows));
}

/** Appends metric rows. */
export function insertMetricRows(tx: Warehouse, run: RunKey, rows: readonly MetricRow[], tables: TableNames = DEFAULT_TABLES): Promise<number> {
  return tx.insertRows(
    tables.metrics,
    METRIC_COLUMNS,
    rows.map((r) => [run.dataName, run.runId, r.model, r.predictorName, r.source, r.metric, r.forecastType, r.value]),
  );
}

/** Replaces the run's status row. */
export async function writeRunStatus(tx: Warehouse, run: RunKey, row: RunStatusRow, tables: TableNames = DEFAULT_TABLES, now = new Date()): Promise<void> {
  await tx.execute(`DELETE FROM ${tables.runs} WHERE RUN_ID = ?`, [run.runId]);
  await tx.execute(
    `INSERT INTO ${tables.runs} (RUN_ID, DATASET_NAME, DATE_CREATE, STATUS, REASON, FAILED_MODELS, FORECAST_ROWS, METRIC_ROWS, UPDATED_AT) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [run.runId, run.dataName, row.dateCreate, row.status, row.reason, row.failedModels.length > 0 ? JSON.stringify(row.failedModels) : null, row.forecastRows, row.metricRows, now],
  );
}

/**
 * Adds a cleanup error to the run's status row, leaving its status and counts as they are (what the
 * run delivered stays true). When the run has no status row yet, `fallback` is written first.
 * Setting the same text again changes nothing: a retried call leaves one row.
 */
export async function writeCleanupError(
  tx: Warehouse,
  run: RunKey,
  cleanupError: string,
  fallback: RunStatusRow,
  tables: TableNames = DEFAULT_TABLES,
  now = new Date(),
): Promise<RunStatus> {
  let status: RunStatus | undefined;
  for await (const row of tx.query(`SELECT STATUS FROM ${tables.runs} WHERE RUN_ID = ?`, [run.runId])) status = row.STATUS as RunStatus;
  if (status === undefined) {
    await writeRunStatus(tx, run, fallback, tables, now);
    status = fallback.status;
  }
  await tx.execute(`UPDATE ${tables.runs} SET CLEANUP_ERROR = ?, UPDATED_AT = ? WHERE RUN_ID = ?`, [cleanupError, now, run.runId]);
  return status;
}

/**
 * What parse found wrong with a run's data: `QUARANTINED` (a target series left out of the run;
 * ITEM_ID and DIMENSIONS name it) or `STALE_DATA` (a warning on the whole run; no item).
 */
export type DataIssueKind = 'QUARANTINED' | 'STALE_DATA';

export interface DataIssueRow {
  readonly issue: DataIssueKind;
  readonly itemId: string | null;
  /** Dimension values as a JSON object text (as FORECAST_RESULTS.DIMENSIONS), or null. */
  readonly dimensions: string | null;
  readonly reason: string;
}

export const DATA_ISSUE_COLUMNS = ['DATASET_NAME', 'RUN_ID', 'ISSUE', 'ITEM_ID', 'DIMENSIONS', 'REASON', 'RECORDED_AT'] as const;

/** Replaces the run's data issues (a redelivered message or a re-run writes them once). */
export async function replaceDataIssues(tx: Warehouse, run: RunKey, issues: readonly DataIssueRow[], tables: TableNames = DEFAULT_TABLES, now = new Date()): Promise<number> {
  await tx.execute(`DELETE FROM ${tables.dataIssues} WHERE DATASET_NAME = ? AND RUN_ID = ?`, [run.dataName, run.runId]);
  if (issues.length === 0) return 0;
  return tx.insertRows(
    tables.dataIssues,
    DATA_ISSUE_COLUMNS,
    issues.map((i) => [run.dataName, run.runId, i.issue, i.itemId, i.dimensions, i.reason, now]),
  );
}

/** Sets `FORECAST_AVAILABLE = true` for the dataset (update, or insert the dataset's row). */
export async function setForecastAvailable(tx: Warehouse, run: RunKey, tables: TableNames = DEFAULT_TABLES, now = new Date()): Promise<void> {
  const updated = await tx.execute(`UPDATE ${tables.parameters} SET FORECAST_AVAILABLE = ?, LAST_RUN_ID = ?, UPDATED_AT = ? WHERE DATASET_NAME = ?`, [true, run.runId, now, run.dataName]);
  if (updated === 0) {
    await tx.execute(`INSERT INTO ${tables.parameters} (DATASET_NAME, FORECAST_AVAILABLE, LAST_RUN_ID, UPDATED_AT) VALUES (?, ?, ?, ?)`, [run.dataName, true, run.runId, now]);
  }
}
