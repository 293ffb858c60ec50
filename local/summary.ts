/**
 * The closing summary of a run, read back from the warehouse (what a SQL user would see):
 * run status, models × backtest metrics (and realised accuracy on the validation actuals),
 * forecast rows per model, and where the results are.
 */
import type { Warehouse } from '../shared/ports';
import { tableNamesFromEnv, type TableNames } from '../shared/warehouse/layout';

/** Scalar metrics in display order (notify writes these names). */
export const SUMMARY_METRICS = ['AVG_WQL', 'WAPE', 'RMSE', 'MAPE', 'MASE'] as const;

export interface ModelSummary {
  readonly model: string;
  readonly predictorName: string;
  readonly items: number;
  readonly forecastRows: number;
  readonly backtest: Readonly<Record<string, number>>;
  readonly realised: Readonly<Record<string, number>>;
}

/** A data issue parse recorded for the run: a quarantined series, or a warning on the whole run. */
export interface DataIssueInfo {
  readonly issue: string;
  readonly itemId: string | null;
  readonly dimensions: string | null;
  readonly reason: string;
}

/** A run's row of the run-status table. */
export interface RunStatusInfo {
  readonly runId: string;
  readonly dataName: string;
  readonly dateCreate: string;
  readonly status: string;
  readonly reason: string | null;
  /** Set when the cleanup after the run failed (resources may be left; results stand). */
  readonly cleanupError: string | null;
  /** A failure after the results were committed (the run's status stays what was delivered). */
  readonly postDeliveryError: string | null;
  readonly failedModels: readonly string[];
  /** Quarantined series and warnings parse recorded (QUARANTINED first, then the run's warnings). */
  readonly dataIssues: readonly DataIssueInfo[];
}

export interface RunSummary extends RunStatusInfo {
  readonly models: readonly ModelSummary[];
  readonly forecastRows: number;
}

async function all<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const row of rows) found.push(row);
  return found;
}

/** The run's status row, or undefined when the warehouse does not know the run. */
export async function readRunStatus(warehouse: Warehouse, runId: string, tables: TableNames = tableNamesFromEnv()): Promise<RunStatusInfo | undefined> {
  const [run] = await all(warehouse.query(`SELECT DATASET_NAME, DATE_CREATE, STATUS, REASON, CLEANUP_ERROR, POST_DELIVERY_ERROR, FAILED_MODELS FROM ${tables.runs} WHERE RUN_ID = ?`, [runId]));
  if (!run) return undefined;
  let failedModels: string[] = [];
  if (typeof run.FAILED_MODELS === 'string' && run.FAILED_MODELS) {
    try {
      failedModels = JSON.parse(run.FAILED_MODELS) as string[];
    } catch {
      failedModels = [run.FAILED_MODELS];
    }
  }
  return {
    runId,
    dataName: String(run.DATASET_NAME),
    dateCreate: String(run.DATE_CREATE),
    status: String(run.STATUS),
    reason: run.REASON === null ? null : String(run.REASON),
    cleanupError: run.CLEANUP_ERROR === null || run.CLEANUP_ERROR === undefined ? null : String(run.CLEANUP_ERROR),
    postDeliveryError: run.POST_DELIVERY_ERROR === null || run.POST_DELIVERY_ERROR === undefined ? null : String(run.POST_DELIVERY_ERROR),
    failedModels,
    dataIssues: await readDataIssues(warehouse, String(run.DATASET_NAME), runId, tables),
  };
}

/** The data issues parse recorded for the run. */
export async function readDataIssues(warehouse: Warehouse, dataName: string, runId: string, tables: TableNames = tableNamesFromEnv()): Promise<DataIssueInfo[]> {
  const rows = await all(
    warehouse.query(`SELECT ISSUE, ITEM_ID, DIMENSIONS, REASON FROM ${tables.dataIssues} WHERE DATASET_NAME = ? AND RUN_ID = ? ORDER BY ISSUE, ITEM_ID, DIMENSIONS`, [dataName, runId]),
  );
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  return rows.map((r) => ({ issue: String(r.ISSUE), itemId: text(r.ITEM_ID), dimensions: text(r.DIMENSIONS), reason: String(r.REASON) }));
}

/** The series an issue names: `"a"` or `"a" {"store":"s1"}`. */
export function issueSeries(issue: DataIssueInfo): string {
  return `${JSON.stringify(issue.itemId)}${issue.dimensions ? ` ${issue.dimensions}` : ''}`;
}

/** Lines for the closing summary: the quarantined series (the first few, then a count) and every warning. */
export function formatDataIssues(issues: readonly DataIssueInfo[], shown = 5, table = tableNamesFromEnv().dataIssues): string[] {
  const quarantined = issues.filter((i) => i.issue === 'QUARANTINED');
  const lines: string[] = [];
  if (quarantined.length > 0) {
    lines.push(`  quarantined: ${quarantined.length} item${quarantined.length === 1 ? '' : 's'} left out of the run (${table})`);
    for (const q of quarantined.slice(0, shown)) lines.push(`    ${issueSeries(q)}: ${q.reason}`);
    if (quarantined.length > shown) lines.push(`    … and ${quarantined.length - shown} more`);
  }
  for (const w of issues.filter((i) => i.issue !== 'QUARANTINED')) lines.push(`  warning (${w.issue}): ${w.reason}`);
  return lines;
}

/** The run's summary, or undefined when the warehouse has no status row for it. */
export async function readRunSummary(warehouse: Warehouse, runId: string, tables: TableNames = tableNamesFromEnv()): Promise<RunSummary | undefined> {
  const run = await readRunStatus(warehouse, runId, tables);
  if (!run) return undefined;
  const dataName = run.dataName;
  const counts = await all(
    warehouse.query(
      `SELECT MODEL, PREDICTOR_NAME, COUNT(*) AS N, COUNT(DISTINCT (ITEM_ID, COALESCE(DIMENSIONS, ''))) AS ITEMS FROM ${tables.forecasts}
       WHERE DATASET_NAME = ? AND RUN_ID = ? GROUP BY MODEL, PREDICTOR_NAME ORDER BY MODEL`,
      [dataName, runId],
    ),
  );
  const metrics = await all(
    warehouse.query(
      `SELECT MODEL, PREDICTOR_NAME, SOURCE, METRIC, VALUE FROM ${tables.metrics}
       WHERE DATASET_NAME = ? AND RUN_ID = ? AND FORECAST_TYPE IS NULL`,
      [dataName, runId],
    ),
  );
  const models = new Map<string, { model: string; predictorName: string; items: number; forecastRows: number; backtest: Record<string, number>; realised: Record<string, number> }>();
  const entry = (model: string, predictorName: string) => {
    let found = models.get(model);
    if (!found) {
      found = { model, predictorName, items: 0, forecastRows: 0, backtest: {}, realised: {} };
      models.set(model, found);
    }
    return found;
  };
  for (const row of counts) {
    const m = entry(String(row.MODEL), String(row.PREDICTOR_NAME));
    m.items = Number(row.ITEMS);
    m.forecastRows = Number(row.N);
  }
  for (const row of metrics) {
    if (row.VALUE === null) continue;
    const m = entry(String(row.MODEL), String(row.PREDICTOR_NAME));
    (row.SOURCE === 'REALISED' ? m.realised : m.backtest)[String(row.METRIC)] = Number(row.VALUE);
  }
  const list = [...models.values()].sort((a, b) => a.model.localeCompare(b.model));
  return {
    ...run,
    models: list,
    forecastRows: list.reduce((sum, m) => sum + m.forecastRows, 0),
  };
}

function formatNumber(value: number | undefined, metric: string): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (metric === 'RMSE') return value.toFixed(2);
  return value.toFixed(3);
}

/** A plain-text table: one row per model, backtest metrics then realised ones. */
export function formatSummaryTable(summary: RunSummary): string {
  const realisedMetrics = SUMMARY_METRICS.filter((metric) => summary.models.some((m) => m.realised[metric] !== undefined));
  const header = ['model', 'items', 'rows', ...SUMMARY_METRICS.map((m) => `bt ${m.toLowerCase().replace('avg_wql', 'wQL')}`), ...realisedMetrics.map((m) => `val ${m.toLowerCase().replace('avg_wql', 'wQL')}`)];
  const rows = summary.models.map((m) => [
    m.model,
    String(m.items),
    String(m.forecastRows),
    ...SUMMARY_METRICS.map((metric) => formatNumber(m.backtest[metric], metric)),
    ...realisedMetrics.map((metric) => formatNumber(m.realised[metric], metric)),
  ]);
  for (const model of summary.failedModels) {
    if (!summary.models.some((m) => m.model === model)) rows.push([model, '–', '0', ...header.slice(3).map(() => 'failed')]);
  }
  // Best (lowest) value per metric column is marked, so the comparison reads at a glance.
  const best = header.map((_, i) => {
    if (i < 3) return -1;
    const values = rows.map((r) => Number(r[i]));
    const finite = values.filter(Number.isFinite);
    return finite.length > 1 ? values.indexOf(Math.min(...finite)) : -1;
  });
  const marked = rows.map((r, ri) => r.map((c, i) => (best[i] === ri ? `${c}*` : i >= 3 ? `${c} ` : c)));
  const heading = header.map((h, i) => (i >= 3 ? `${h} ` : h));
  const widths = heading.map((h, i) => Math.max(h.length, ...marked.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const body = marked.map(line);
  return [line(heading), line(widths.map((w) => '-'.repeat(w))), ...body].join('\n');
}

/** The most recently updated run of the warehouse, if any. */
export async function latestRunId(warehouse: Warehouse, tables: TableNames = tableNamesFromEnv()): Promise<string | undefined> {
  const [row] = await all(warehouse.query(`SELECT RUN_ID FROM ${tables.runs} ORDER BY UPDATED_AT DESC LIMIT 1`));
  return row ? String(row.RUN_ID) : undefined;
}
