/**
 * The notify step and the failure record: what a run delivers lands in the warehouse, with binds,
 * idempotently (delete-then-insert of the run's rows in one transaction: a re-run replaces, never
 * duplicates). Forecast rows are streamed from the export part files in batches.
 */
import type { Dependencies } from '../runtime';
import type { ObjectStore } from '../ports/storage';
import type { Warehouse } from '../ports/warehouse';
import type { CaughtError, PipelineState, Results } from '../state';
import { parseTimestamp } from '../time';
import { TRANSFORMS, type TransformName } from '../transform';
import { ensureOutputTables, tableNamesFromEnv, type TableNames } from '../warehouse/layout';
import {
  deleteRunResults,
  insertForecastRows,
  insertMetricRows,
  setForecastAvailable,
  writeCleanupError,
  writePostDeliveryError,
  writeRunStatus,
  type ForecastRow,
  type MetricRow,
  type RunKey,
} from '../warehouse/writers';
import { RealisedAccuracy, withoutNonFinite } from './accuracy';
import { readCsvRecords } from './csv';
import { labelOf, listExportParts, readExportRows } from './exports';

export { listExportParts, readExportRows, labelOf, quantileOf } from './exports';
export { readCsvRecords } from './csv';
export { RealisedAccuracy, withoutNonFinite, NON_FINITE_METRIC } from './accuracy';

export type NotifyResult = NonNullable<Results['notify']>;
export type FailureResult = NonNullable<Results['failure']>;
export type CleanupFailureResult = NonNullable<Results['cleanupFailure']>;

const prepared = new WeakSet<Warehouse>();

/** The run and attempt a state's records belong to. */
export function runKeyOf(state: PipelineState): RunKey {
  return { dataName: state.run.dataName, runId: state.run.runId, attempt: state.run.attempt, executionName: state.run.executionName, messageHash: state.run.messageHash };
}

async function outputTables(warehouse: Warehouse, env: NodeJS.ProcessEnv = process.env): Promise<TableNames> {
  const tables = tableNamesFromEnv(env);
  if (!prepared.has(warehouse)) {
    await ensureOutputTables(warehouse, tables);
    prepared.add(warehouse);
  }
  return tables;
}

/** Backtest metrics of each ACTIVE predictor (from `results.predictors[].metrics`), tidy; a non-finite one is left out and counted. */
export function backtestMetricRows(state: PipelineState): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const p of state.results.predictors ?? []) {
    if (p.status !== 'ACTIVE' || !p.metrics) continue;
    const base = { model: p.model, predictorName: p.name, source: 'BACKTEST' as const };
    for (const [type, value] of Object.entries(p.metrics.weightedQuantileLosses)) {
      rows.push({ ...base, metric: 'WQL', forecastType: labelOf(type), value });
    }
    const scalar: [string, number | null][] = [
      ['AVG_WQL', p.metrics.averageWeightedQuantileLoss],
      ['WAPE', p.metrics.wape],
      ['RMSE', p.metrics.rmse],
      ['MAPE', p.metrics.mape],
      ['MASE', p.metrics.mase],
    ];
    for (const [metric, value] of scalar) if (value !== null) rows.push({ ...base, metric, forecastType: null, value });
  }
  return withoutNonFinite(rows);
}

interface Delivered {
  readonly model: string;
  readonly predictorName: string;
  readonly parts: readonly string[];
}

/** Which models delivered an export, and why the others did not. */
async function sortModels(state: PipelineState, store: ObjectStore): Promise<{ delivered: Delivered[]; failed: Map<string, string> }> {
  const failed = new Map<string, string>();
  for (const p of state.results.predictors ?? []) {
    if (p.status === 'CREATE_FAILED') failed.set(p.model, `predictor ${p.name} failed: ${p.message ?? 'no message'}`);
  }
  const delivered: Delivered[] = [];
  const forecasts = state.results.forecasts ?? [];
  for (const f of forecasts) {
    if (failed.has(f.model)) continue;
    if (f.status === 'CREATE_FAILED') {
      failed.set(f.model, `forecast ${f.name} failed: ${f.message ?? 'no message'}`);
      continue;
    }
    const spec = state.forecasts.find((s) => s.name === f.name);
    const parts = await listExportParts(store, f.exportS3Uri, spec?.exportJobName);
    if (parts.length === 0) {
      failed.set(f.model, `export of ${f.name} has no part files under ${f.exportS3Uri}`);
      continue;
    }
    delivered.push({ model: f.model, predictorName: f.predictorName, parts });
  }
  for (const p of state.predictors) {
    if (!failed.has(p.model) && !delivered.some((d) => d.model === p.model)) failed.set(p.model, `no forecast was exported for ${p.name}`);
  }
  return { delivered, failed };
}

type Actuals = { readonly dimensions: readonly string[]; readonly values: Map<string, number> };

function actualKey(itemId: string, dims: readonly string[], dimensionValues: Readonly<Record<string, string>> | null, ms: number): string {
  let key = itemId;
  for (const d of dims) key += `\u0001${dimensionValues?.[d] ?? ''}`;
  return `${key}\u0002${ms}`;
}

/** The validation actuals (validate.csv, target schema order), back in real units. Small: they cover the horizon. */
async function readActuals(state: PipelineState, store: ObjectStore): Promise<Actuals | undefined> {
  if (!state.validation || state.validation.rows === 0) return undefined;
  const target = state.datasets.find((d) => d.kind === 'TARGET');
  if (!target) return undefined;
  const names = target.schema.Attributes.map((a) => a.AttributeName);
  const ti = names.indexOf('timestamp');
  const ii = names.indexOf('item_id');
  const vi = names.indexOf('target_value');
  const dimensions = target.schema.Attributes.filter((a, i) => i !== ti && i !== ii && i !== vi).map((a) => a.AttributeName);
  const dimIndex = dimensions.map((d) => names.indexOf(d));
  const inverse = TRANSFORMS[state.run.transform as TransformName].inverse;
  const values = new Map<string, number>();
  for await (const record of readCsvRecords(store.read(state.validation.s3Uri))) {
    const text = record[vi]?.trim() ?? '';
    if (text === '') continue;
    const dimValues = Object.fromEntries(dimensions.map((d, k) => [d, record[dimIndex[k]!] ?? '']));
    values.set(actualKey(record[ii]!, dimensions, dimValues, parseTimestamp(record[ti]!).getTime()), inverse(Number(text)));
  }
  return { dimensions, values };
}

/**
 * Notify: forecasts (tidy rows), backtest and realised metrics, run status and forecast_available,
 * all in one transaction per run. Returns the `results.notify` slice.
 */
export async function publishResults(state: PipelineState, deps: Dependencies): Promise<NotifyResult> {
  const warehouse = await deps.warehouse();
  const tables = await outputTables(warehouse);
  const run = runKeyOf(state);
  const transform = state.run.transform as TransformName;
  const { delivered, failed } = await sortModels(state, deps.store);
  const actuals = await readActuals(state, deps.store);
  const backtest = backtestMetricRows(state).filter((m) => !failed.has(m.model));

  return warehouse.transaction(async (tx) => {
    await deleteRunResults(tx, run, tables);
    let forecastRows = 0;
    const realised: MetricRow[] = [];
    for (const d of delivered) {
      const accuracy = new RealisedAccuracy();
      async function* rows(): AsyncIterable<ForecastRow> {
        for await (const row of readExportRows(deps.store, d.parts, transform, { nonNegative: state.run.nonNegative })) {
          const dimensions = row.dimensions ? JSON.stringify(row.dimensions) : null;
          if (actuals) {
            const actual = actuals.values.get(actualKey(row.itemId, actuals.dimensions, row.dimensions, row.date.getTime()));
            if (actual !== undefined) accuracy.add(actual, row.values);
          }
          for (const [forecastType, value] of row.values) {
            yield { model: d.model, predictorName: d.predictorName, itemId: row.itemId, dimensions, date: row.date, forecastType, value };
          }
        }
      }
      forecastRows += await insertForecastRows(tx, run, rows(), tables);
      realised.push(...accuracy.rows(d.model, d.predictorName));
    }
    const metricRows = await insertMetricRows(tx, run, [...backtest, ...realised], tables);
    const failedModels = [...failed.keys()];
    const status = failedModels.length === 0 ? 'SUCCEEDED' : 'PARTIAL';
    await writeRunStatus(
      tx,
      run,
      {
        dateCreate: state.run.dateCreate,
        status,
        reason: failedModels.length === 0 ? null : [...failed.entries()].map(([m, why]) => `${m}: ${why}`).join('; '),
        failedModels,
        forecastRows,
        metricRows,
      },
      tables,
    );
    if (forecastRows > 0) await setForecastAvailable(tx, run, tables);
    return { status, forecastRows, metricRows, failedModels };
  });
}

/** The readable part of a Step Functions `Cause` (a Lambda error arrives as JSON with errorMessage). */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; errorType?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    /* a plain text cause */
  }
  return cause;
}

/** `State: Error: cause`, as REASON and CLEANUP_ERROR show a caught error. */
function describeCaught(caught: CaughtError | undefined): { error: string; cause: string; failedState?: string; text: string } {
  const error = caught?.Error ?? 'UnknownError';
  const cause = causeMessage(caught?.Cause);
  const failedState = caught?.State;
  const text = `${failedState ? `${failedState}: ` : ''}${error}${cause ? `: ${cause}` : ''}`.slice(0, 4000);
  return failedState ? { error, cause, failedState, text } : { error, cause, text };
}

/**
 * The Failure step when a cleanup step gave up (`$.cleanupError`): adds the error to the run's
 * status row as `CLEANUP_ERROR`. The status and counts notify (or the failure record) wrote stay —
 * a delivered run stays SUCCEEDED or PARTIAL. Without a status row (the earlier record failed) one is
 * written from the state. Idempotent. Returns `results.cleanupFailure`.
 */
export async function recordCleanupFailure(state: PipelineState, deps: Dependencies): Promise<CleanupFailureResult> {
  const { text, ...caught } = describeCaught(state.cleanupError);
  const warehouse = await deps.warehouse();
  const tables = await outputTables(warehouse);
  const run = runKeyOf(state);
  const notified = state.results.notify;
  const fallback = notified
    ? {
        dateCreate: state.run.dateCreate,
        status: notified.status,
        reason: notified.failedModels.length ? `failed models: ${notified.failedModels.join(', ')}` : null,
        failedModels: notified.failedModels,
        forecastRows: notified.forecastRows,
        metricRows: notified.metricRows,
      }
    : { dateCreate: state.run.dateCreate, status: 'FAILED' as const, reason: state.error ? describeCaught(state.error).text : null, failedModels: [], forecastRows: null, metricRows: null };
  const runStatus = await warehouse.transaction((tx) => writeCleanupError(tx, run, text, fallback, tables));
  return { ...caught, runStatus };
}

/**
 * The Failure step: records status FAILED and the reason for the attempt (replacing any earlier status
 * row of the attempt; the run's row in FORECAST_RUNS only when no other attempt's delivery is
 * published). When the attempt had already delivered — notify's transaction committed and something
 * after it failed (the announcement, a crash) — the error is recorded as `POST_DELIVERY_ERROR` on the
 * delivered run instead, whose status stays what the warehouse publishes. Returns `results.failure`.
 */
export async function recordFailure(state: PipelineState, deps: Dependencies): Promise<FailureResult> {
  const { text: reason, ...caught } = describeCaught(state.error);
  const warehouse = await deps.warehouse();
  const tables = await outputTables(warehouse);
  const run = runKeyOf(state);
  return warehouse.transaction(async (tx) => {
    const delivered = await writePostDeliveryError(tx, run, reason, tables);
    if (delivered) return { ...caught, postDeliveryOf: delivered };
    await writeRunStatus(tx, run, { dateCreate: state.run.dateCreate, status: 'FAILED', reason, failedModels: [], forecastRows: null, metricRows: null }, tables);
    return caught;
  });
}
