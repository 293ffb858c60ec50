/**
 * Writers of the output tables (binds only). Each replaces what a run wrote before, so a re-run of
 * notify or of the failure step never duplicates rows; callers wrap them in one transaction.
 *
 * Status is kept twice: FORECAST_RUN_ATTEMPTS has a row per attempt (every attempt's status, kept);
 * FORECAST_RUNS has a row per run that matches what is published — the attempt that delivered the
 * run's results, or, while none has, the latest attempt. A failed re-run never hides a delivery.
 */
import type { SqlValue, Warehouse } from '../ports/warehouse';
import { DEFAULT_TABLES, type TableNames } from './layout';

export const FORECAST_COLUMNS = ['DATASET_NAME', 'RUN_ID', 'MODEL', 'PREDICTOR_NAME', 'ITEM_ID', 'DIMENSIONS', 'FORECAST_DATE', 'FORECAST_TYPE', 'VALUE'] as const;
export const METRIC_COLUMNS = ['DATASET_NAME', 'RUN_ID', 'MODEL', 'PREDICTOR_NAME', 'SOURCE', 'METRIC', 'FORECAST_TYPE', 'VALUE'] as const;

export interface RunKey {
  readonly dataName: string;
  readonly runId: string;
  /** Which attempt of the run wrote it (1 when absent). */
  readonly attempt?: number | undefined;
  /** The attempt's execution name (the runId when absent). */
  readonly executionName?: string | undefined;
  readonly messageHash?: string | undefined;
}

const attemptOf = (run: RunKey): number => run.attempt ?? 1;

/** Statuses of a run whose results are in the warehouse. */
export function isDelivered(status: AttemptStatus | undefined): status is 'SUCCEEDED' | 'PARTIAL' {
  return status === 'SUCCEEDED' || status === 'PARTIAL';
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

/**
 * An attempt's status in FORECAST_RUN_ATTEMPTS: a run's, or `RUNNING` (parse started it, no step has
 * recorded its end yet), or `ABORTED` / `TIMED_OUT` (the execution ended where no step could record it;
 * parse writes what the workflow says once it looks at the run again).
 */
export type AttemptStatus = RunStatus | 'RUNNING' | 'ABORTED' | 'TIMED_OUT';

/** Whether a step of the attempt recorded how it ended (a status notify or the failure step writes). */
export function isRecordedEnd(status: AttemptStatus | undefined): status is RunStatus {
  switch (status) {
    case 'SUCCEEDED':
    case 'PARTIAL':
    case 'FAILED':
      return true;
    case 'RUNNING':
    case 'ABORTED':
    case 'TIMED_OUT':
    case undefined:
      return false;
  }
}

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

async function firstRow(tx: Warehouse, sql: string, binds: readonly SqlValue[]): Promise<Record<string, unknown> | undefined> {
  let found: Record<string, unknown> | undefined;
  for await (const row of tx.query(sql, binds)) found ??= row;
  return found;
}

/** The status the attempt recorded (its FORECAST_RUN_ATTEMPTS row), if any. */
export async function attemptStatus(tx: Warehouse, run: RunKey, tables: TableNames = DEFAULT_TABLES): Promise<AttemptStatus | undefined> {
  const row = await firstRow(tx, `SELECT STATUS FROM ${tables.attempts} WHERE RUN_ID = ? AND ATTEMPT = ?`, [run.runId, attemptOf(run)]);
  return row?.STATUS as AttemptStatus | undefined;
}

/** One attempt's status row, as FORECAST_RUN_ATTEMPTS keeps it. */
interface AttemptStatusRow extends Omit<RunStatusRow, 'status'> {
  readonly status: AttemptStatus;
}

/** Replaces the attempt's row (one row per RUN_ID and ATTEMPT, whoever wrote it before). */
async function replaceAttemptRow(tx: Warehouse, run: RunKey, row: AttemptStatusRow, tables: TableNames, now: Date): Promise<void> {
  const attempt = attemptOf(run);
  const failedModels = row.failedModels.length > 0 ? JSON.stringify(row.failedModels) : null;
  await tx.execute(`DELETE FROM ${tables.attempts} WHERE RUN_ID = ? AND ATTEMPT = ?`, [run.runId, attempt]);
  await tx.execute(
    `INSERT INTO ${tables.attempts} (RUN_ID, ATTEMPT, EXECUTION_NAME, DATASET_NAME, DATE_CREATE, MESSAGE_HASH, STATUS, REASON, FAILED_MODELS, FORECAST_ROWS, METRIC_ROWS, UPDATED_AT) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [run.runId, attempt, run.executionName ?? run.runId, run.dataName, row.dateCreate, run.messageHash ?? null, row.status, row.reason, failedModels, row.forecastRows, row.metricRows, now],
  );
}

/**
 * Parse started the attempt: its row says `RUNNING`, written only when the attempt has no row yet —
 * a redelivery writes nothing new, and a status a step already recorded stays. Returns whether it wrote.
 */
export async function writeAttemptStarted(tx: Warehouse, run: RunKey, dateCreate: string, tables: TableNames = DEFAULT_TABLES, now = new Date()): Promise<boolean> {
  if ((await attemptStatus(tx, run, tables)) !== undefined) return false;
  await replaceAttemptRow(tx, run, { dateCreate, status: 'RUNNING', reason: null, failedModels: [], forecastRows: null, metricRows: null }, tables, now);
  return true;
}

/**
 * The workflow says the attempt ended (`status`, with `reason`) but no step recorded it: its row is
 * missing or still says `RUNNING`. Writes that end; a status a step recorded stays. Returns whether it wrote.
 */
export async function writeAttemptEndedUnrecorded(
  tx: Warehouse,
  run: RunKey,
  ended: { readonly dateCreate: string; readonly status: AttemptStatus; readonly reason: string },
  tables: TableNames = DEFAULT_TABLES,
  now = new Date(),
): Promise<boolean> {
  const recorded = await attemptStatus(tx, run, tables);
  if (recorded !== undefined && recorded !== 'RUNNING') return false;
  await replaceAttemptRow(tx, run, { ...ended, failedModels: [], forecastRows: null, metricRows: null }, tables, now);
  return true;
}

/**
 * Replaces the attempt's status row (parse's RUNNING row too) and, unless an earlier attempt's delivery is what the warehouse
 * publishes and this attempt FAILED, the run's row in FORECAST_RUNS.
 */
export async function writeRunStatus(tx: Warehouse, run: RunKey, row: RunStatusRow, tables: TableNames = DEFAULT_TABLES, now = new Date()): Promise<void> {
  const attempt = attemptOf(run);
  const failedModels = row.failedModels.length > 0 ? JSON.stringify(row.failedModels) : null;
  await replaceAttemptRow(tx, run, row, tables, now);
  if (!isDelivered(row.status)) {
    const published = await firstRow(tx, `SELECT STATUS, ATTEMPT FROM ${tables.runs} WHERE RUN_ID = ?`, [run.runId]);
    if (published && isDelivered(published.STATUS as RunStatus) && Number(published.ATTEMPT ?? 1) !== attempt) return;
  }
  await tx.execute(`DELETE FROM ${tables.runs} WHERE RUN_ID = ?`, [run.runId]);
  await tx.execute(
    `INSERT INTO ${tables.runs} (RUN_ID, DATASET_NAME, DATE_CREATE, STATUS, REASON, FAILED_MODELS, FORECAST_ROWS, METRIC_ROWS, UPDATED_AT, ATTEMPT) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [run.runId, run.dataName, row.dateCreate, row.status, row.reason, failedModels, row.forecastRows, row.metricRows, now, attempt],
  );
}

/** Sets one error column on the attempt's row and, when FORECAST_RUNS shows this attempt, on the run's row. */
async function setAttemptError(tx: Warehouse, run: RunKey, column: 'CLEANUP_ERROR' | 'POST_DELIVERY_ERROR', text: string, tables: TableNames, now: Date): Promise<void> {
  const attempt = attemptOf(run);
  await tx.execute(`UPDATE ${tables.attempts} SET ${column} = ?, UPDATED_AT = ? WHERE RUN_ID = ? AND ATTEMPT = ?`, [text, now, run.runId, attempt]);
  await tx.execute(`UPDATE ${tables.runs} SET ${column} = ?, UPDATED_AT = ? WHERE RUN_ID = ? AND COALESCE(ATTEMPT, 1) = ?`, [text, now, run.runId, attempt]);
}

/**
 * A failure after the attempt's delivery committed (notify's announcement, a crash after the commit):
 * recorded as `POST_DELIVERY_ERROR` on the delivered attempt, whose status and counts stay. Returns
 * the delivered status, or undefined when the attempt has not delivered (the caller records FAILED).
 */
export async function writePostDeliveryError(tx: Warehouse, run: RunKey, error: string, tables: TableNames = DEFAULT_TABLES, now = new Date()): Promise<'SUCCEEDED' | 'PARTIAL' | undefined> {
  const status = await attemptStatus(tx, run, tables);
  if (!isDelivered(status)) return undefined;
  await setAttemptError(tx, run, 'POST_DELIVERY_ERROR', error, tables, now);
  return status;
}

/**
 * Adds a cleanup error to the attempt's status row (and the run's, when it shows this attempt), leaving
 * its status and counts as they are (what the run delivered stays true). When the attempt has no
 * status row yet, `fallback` is written first.
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
  // A status row written before attempts were recorded has no attempt row: the run's row stands for it.
  // A RUNNING row (parse's) is no recorded end: the fallback is written over it.
  const recorded = await attemptStatus(tx, run, tables);
  let status: RunStatus | undefined = isRecordedEnd(recorded) ? recorded : undefined;
  if (recorded === undefined) {
    const legacy = await firstRow(tx, `SELECT STATUS FROM ${tables.runs} WHERE RUN_ID = ? AND COALESCE(ATTEMPT, 1) = ?`, [run.runId, attemptOf(run)]);
    status = legacy?.STATUS as RunStatus | undefined;
  }
  if (status === undefined) {
    await writeRunStatus(tx, run, fallback, tables, now);
    status = fallback.status;
  }
  await setAttemptError(tx, run, 'CLEANUP_ERROR', cleanupError, tables, now);
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
