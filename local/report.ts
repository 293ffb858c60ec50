/**
 * The run report: one self-contained HTML file (data, script, styles inline; no network) built
 * from what the warehouse holds — the run's forecasts and metrics, and the input data read through
 * the same configured queries parse used (history before the cut-off, validation actuals after).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Warehouse } from '../shared/ports';
import { tableNamesFromEnv, type TableNames } from '../shared/warehouse/layout';
import { bindQuery, queriesFromEnv, type InputQueries } from '../shared/warehouse/queries';
import { renderReportPage } from './report-page';
import { readRunStatus, type RunStatusInfo } from './summary';

export interface ReportSeries {
  /** Timestamps (ms since epoch, UTC). */
  readonly t: number[];
  readonly v: (number | null)[];
}

export interface ReportItem {
  readonly id: string;
  readonly history: ReportSeries;
  readonly actuals: ReportSeries;
  /** Timestamps of promotion periods (related series PROMOTION > 0) in the shown window. */
  readonly promo: number[];
  /** Per model: forecast timestamps and one array per forecast type (`p50`, `mean`, …). */
  readonly forecasts: Record<string, { t: number[]; values: Record<string, (number | null)[]> }>;
}

export interface ReportMetric {
  readonly model: string;
  readonly source: string;
  readonly metric: string;
  readonly forecastType: string | null;
  readonly value: number;
}

export interface ReportData {
  readonly run: RunStatusInfo & {
    readonly forecastStart: number;
    readonly generatedAt: string;
    readonly itemsTotal: number;
  };
  readonly models: string[];
  readonly forecastTypes: string[];
  readonly metrics: ReportMetric[];
  readonly items: ReportItem[];
}

export interface ReportOptions {
  /** History shown before the cut-off, in periods (default 120). */
  readonly historyPoints?: number;
  /** Items in the report: the largest sellers first (default 200). */
  readonly maxItems?: number;
  readonly tables?: TableNames;
  readonly queries?: InputQueries;
  readonly frequency?: string;
}

const TARGET_COLUMNS = new Set(['TIMESTAMP', 'ITEM_ID', 'TARGET_VALUE']);

/**
 * The series a row belongs to, as the report names it: the item id, then its dimension values by
 * name (`a (store s1)`), the same for a query row (its dimension columns) and a forecast row (its
 * DIMENSIONS JSON, attribute names in lower case).
 */
function seriesId(item: string, dimensions: Readonly<Record<string, string>> | null): string {
  if (dimensions === null) return item;
  const entries = Object.entries(dimensions);
  return entries.length === 0 ? item : `${item} (${entries.map(([name, value]) => `${name} ${value}`).join(', ')})`;
}

/** A query row's dimensions: in target and validation rows every extra column, in related rows the text columns. */
function rowDimensions(row: Readonly<Record<string, unknown>>, kind: 'target' | 'related'): Record<string, string> | null {
  let found: Record<string, string> | null = null;
  for (const [column, value] of Object.entries(row)) {
    if (TARGET_COLUMNS.has(column)) continue;
    if (kind === 'related' && typeof value !== 'string') continue;
    (found ??= {})[column.toLowerCase()] = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  }
  return found;
}

const round = (value: number | null): number | null => (value === null || !Number.isFinite(value) ? null : Math.round(value * 1000) / 1000);
const asDate = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
const typeOrder = (label: string) => (label === 'mean' ? 1000 : Number(label.slice(1)));

/** Reads everything the report shows. Throws when the run is unknown to the warehouse. */
export async function readReportData(warehouse: Warehouse, runId: string, options: ReportOptions = {}): Promise<ReportData> {
  const tables = options.tables ?? tableNamesFromEnv();
  const queries = options.queries ?? queriesFromEnv(process.env, tables);
  const historyPoints = options.historyPoints ?? 120;
  const maxItems = options.maxItems ?? 200;
  const run = await readRunStatus(warehouse, runId, tables);
  if (!run) throw new Error(`The warehouse has no run ${runId} (table ${tables.runs})`);
  const { dataName, dateCreate } = run;
  const forecastStart = Date.UTC(Number(dateCreate.slice(0, 4)), Number(dateCreate.slice(4, 6)) - 1, Number(dateCreate.slice(6, 8)));
  const parameters = { dataName, dateCreate, runId, frequency: options.frequency ?? 'D' };

  // History: the last `historyPoints` values of each item before the cut-off (streamed, bounded).
  const history = new Map<string, { t: number[]; v: (number | null)[]; total: number }>();
  {
    const { sql, binds } = bindQuery(queries.target, parameters);
    for await (const row of warehouse.query(sql, binds)) {
      const t = asDate(row.TIMESTAMP).getTime();
      if (t >= forecastStart) continue;
      const id = seriesId(String(row.ITEM_ID), rowDimensions(row, 'target'));
      let series = history.get(id);
      if (!series) history.set(id, (series = { t: [], v: [], total: 0 }));
      const value = row.TARGET_VALUE === null ? null : Number(row.TARGET_VALUE);
      series.t.push(t);
      series.v.push(round(value));
      if (value !== null && value > 0) series.total += value;
      if (series.t.length > historyPoints * 2) {
        series.t.splice(0, series.t.length - historyPoints);
        series.v.splice(0, series.v.length - historyPoints);
      }
    }
    for (const series of history.values()) {
      series.t.splice(0, Math.max(0, series.t.length - historyPoints));
      series.v.splice(0, Math.max(0, series.v.length - historyPoints));
    }
  }

  // The items to show: the largest sellers of the history window (bounded memory on large runs).
  const itemIds = [...history.keys()].sort((a, b) => history.get(b)!.total - history.get(a)!.total || a.localeCompare(b)).slice(0, maxItems);
  const shown = new Set(itemIds);

  // Forecasts of the run (all models) for the items shown.
  const forecastRows = new Map<string, Map<string, Map<number, Map<string, number | null>>>>();
  const forecastItems = new Set<string>();
  const models = new Set<string>();
  const types = new Set<string>();
  let lastForecast = forecastStart;
  for await (const row of warehouse.query(
    `SELECT ITEM_ID, DIMENSIONS, MODEL, FORECAST_DATE, FORECAST_TYPE, VALUE FROM ${tables.forecasts} WHERE DATASET_NAME = ? AND RUN_ID = ?`,
    [dataName, runId],
  )) {
    const id = seriesId(String(row.ITEM_ID), typeof row.DIMENSIONS === 'string' ? (JSON.parse(row.DIMENSIONS) as Record<string, string>) : null);
    const model = String(row.MODEL);
    forecastItems.add(id);
    models.add(model);
    types.add(String(row.FORECAST_TYPE));
    const t = asDate(row.FORECAST_DATE).getTime();
    if (t > lastForecast) lastForecast = t;
    if (!shown.has(id)) continue;
    let byModel = forecastRows.get(id);
    if (!byModel) forecastRows.set(id, (byModel = new Map()));
    let byDate = byModel.get(model);
    if (!byDate) byModel.set(model, (byDate = new Map()));
    let byType = byDate.get(t);
    if (!byType) byDate.set(t, (byType = new Map()));
    byType.set(String(row.FORECAST_TYPE), round(row.VALUE === null ? null : Number(row.VALUE)));
  }

  // Validation actuals (the configured validation query) within the forecast window.
  const actuals = new Map<string, { t: number[]; v: (number | null)[] }>();
  if (queries.validation) {
    const { sql, binds } = bindQuery(queries.validation, parameters);
    for await (const row of warehouse.query(sql, binds)) {
      const id = seriesId(String(row.ITEM_ID), rowDimensions(row, 'target'));
      const t = asDate(row.TIMESTAMP).getTime();
      if (!shown.has(id) || t < forecastStart || t > lastForecast) continue;
      let series = actuals.get(id);
      if (!series) actuals.set(id, (series = { t: [], v: [] }));
      series.t.push(t);
      series.v.push(round(row.TARGET_VALUE === null ? null : Number(row.TARGET_VALUE)));
    }
  }

  // Promotions (a related feature named PROMOTION, when the related query has one).
  const promo = new Map<string, number[]>();
  if (queries.related) {
    const windowStart = itemIds.reduce((min, id) => Math.min(min, history.get(id)?.t[0] ?? forecastStart), forecastStart);
    try {
      const { sql, binds } = bindQuery(queries.related, parameters);
      for await (const row of warehouse.query(sql, binds)) {
        if (!('PROMOTION' in row)) break;
        const id = seriesId(String(row.ITEM_ID), rowDimensions(row, 'related'));
        const t = asDate(row.TIMESTAMP).getTime();
        if (!shown.has(id) || t < windowStart || t > lastForecast || !(Number(row.PROMOTION) > 0)) continue;
        let list = promo.get(id);
        if (!list) promo.set(id, (list = []));
        list.push(t);
      }
    } catch {
      // Related data is decoration here: a report without promotion shading is still a report.
    }
  }

  const forecastTypes = [...types].sort((a, b) => typeOrder(a) - typeOrder(b));
  const items: ReportItem[] = itemIds.filter((id) => forecastRows.has(id)).map((id) => {
    const forecasts: ReportItem['forecasts'] = {};
    for (const [model, byDate] of forecastRows.get(id) ?? []) {
      const t = [...byDate.keys()].sort((a, b) => a - b);
      const values: Record<string, (number | null)[]> = {};
      for (const type of forecastTypes) values[type] = t.map((time) => byDate.get(time)?.get(type) ?? null);
      forecasts[model] = { t, values };
    }
    const h = history.get(id);
    return {
      id,
      history: { t: h?.t ?? [], v: h?.v ?? [] },
      actuals: actuals.get(id) ?? { t: [], v: [] },
      promo: promo.get(id) ?? [],
      forecasts,
    };
  });

  const metrics: ReportMetric[] = [];
  for await (const row of warehouse.query(
    `SELECT MODEL, SOURCE, METRIC, FORECAST_TYPE, VALUE FROM ${tables.metrics} WHERE DATASET_NAME = ? AND RUN_ID = ? ORDER BY MODEL, SOURCE, METRIC`,
    [dataName, runId],
  )) {
    if (row.VALUE === null) continue;
    metrics.push({
      model: String(row.MODEL),
      source: String(row.SOURCE),
      metric: String(row.METRIC),
      forecastType: row.FORECAST_TYPE === null ? null : String(row.FORECAST_TYPE),
      value: Number(row.VALUE),
    });
    models.add(String(row.MODEL));
  }

  return {
    run: {
      ...run,
      forecastStart,
      generatedAt: new Date().toISOString(),
      itemsTotal: forecastItems.size,
    },
    models: [...models].sort(),
    forecastTypes,
    metrics,
    items,
  };
}

/** Writes the report of a run to `file` and returns the data it shows. */
export async function writeRunReport(warehouse: Warehouse, runId: string, file: string, options: ReportOptions = {}): Promise<ReportData> {
  const data = await readReportData(warehouse, runId, options);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderReportPage(data));
  return data;
}
