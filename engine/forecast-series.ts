/**
 * Fits one algorithm to many series and predicts, with the per-series fallback chain
 * (the algorithm → seasonal naive → naive). Runs inside a worker thread, or inline.
 */
import { addPeriods, parseFrequency } from '../shared/frequency';
import { fallbackSpecs, globalModelSpec, modelSpec } from './models/registry';
import { NotEnoughData, type ModelSpec, type SeriesData } from './models/types';
import type { FitTask, GlobalFitTask, SeriesForecast, SeriesPayload } from './worker-protocol';

/** Period starts of `count` steps from step `from` (undefined without a start and frequency). */
function periodDates(payload: SeriesPayload, from: number, count: number): Date[] | undefined {
  if (payload.startMs === undefined || payload.frequency === undefined) return undefined;
  const frequency = parseFrequency(payload.frequency);
  const start = new Date(payload.startMs);
  return Array.from({ length: count }, (_, i) => addPeriods(start, frequency, from + i));
}

function seriesData(payload: SeriesPayload): SeriesData {
  return {
    values: payload.values,
    seasonLength: payload.seasonLength,
    timestamps: periodDates(payload, 0, payload.values.length),
    related: payload.related,
  };
}

async function fitOne(spec: ModelSpec, payload: SeriesPayload, task: FitTask): Promise<SeriesForecast> {
  const series = seriesData(payload);
  const fitted = await spec.fit(series);
  let prediction;
  try {
    prediction = fitted.predict(task.horizon, task.quantiles, { timestamps: periodDates(payload, payload.values.length, task.horizon) });
  } finally {
    fitted.dispose?.(); // one prediction per fit here: free WASM-held memory now, not never
  }
  const quantiles = task.quantiles.map((q) => {
    const values = prediction.quantiles.get(q);
    if (!values) throw new Error(`${spec.algorithm} returned no quantile ${q}`);
    return Float64Array.from(values);
  });
  if (prediction.mean.length !== task.horizon) throw new Error(`${spec.algorithm} returned ${prediction.mean.length} steps, expected ${task.horizon}`);
  return { mean: Float64Array.from(prediction.mean), quantiles, description: fitted.description };
}

export async function runFitTask(task: FitTask | GlobalFitTask): Promise<SeriesForecast[]> {
  if (task.kind === 'fit-global') return runGlobalFitTask(task);
  const spec = modelSpec(task.algorithm, task.params, { horizon: task.horizon });
  const results: SeriesForecast[] = [];
  for (const payload of task.series) {
    try {
      results.push(await fitOne(spec, payload, task));
    } catch (error) {
      results.push(await fallbackForecast(task, payload, error));
    }
  }
  return results;
}

/**
 * One network over all the task's series. A series too short for any training window still gets
 * the network's forecast (its context is padded); when the model cannot train at all (no series
 * longer than the horizon), every series takes the per-series fallback chain.
 */
async function runGlobalFitTask(task: GlobalFitTask): Promise<SeriesForecast[]> {
  const spec = globalModelSpec(task.algorithm, task.params, task.hpo);
  let forecast;
  try {
    forecast = await spec.fitPredict(task.series.map(seriesData), task.horizon, task.quantiles);
  } catch (error) {
    if (!(error instanceof NotEnoughData)) throw error;
    return Promise.all(task.series.map((payload) => fallbackForecast({ ...task, kind: 'fit' }, payload, error)));
  }
  return forecast.predictions.map((prediction) => ({
    mean: Float64Array.from(prediction.mean),
    quantiles: task.quantiles.map((q) => {
      const values = prediction.quantiles.get(q);
      if (!values) throw new Error(`${spec.algorithm} returned no quantile ${q}`);
      return Float64Array.from(values);
    }),
    description: forecast.description,
    ...(forecast.tunedParameters && { tunedParameters: forecast.tunedParameters }),
  }));
}

/** The fallback chain for one series: seasonal naive, naive, then the last value repeated. */
async function fallbackForecast(task: FitTask, payload: SeriesPayload, error: unknown): Promise<SeriesForecast> {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  for (const fallback of fallbackSpecs()) {
    try {
      return { ...(await fitOne(fallback, payload, task)), fallback: `${task.algorithm} failed (${reason})` };
    } catch {
      // next fallback
    }
  }
  // Last resort: the last observed value, flat and without spread (NaN when nothing was observed).
  let last = NaN;
  for (let i = payload.values.length - 1; i >= 0 && Number.isNaN(last); i--) last = payload.values[i]!;
  const flat = () => new Float64Array(task.horizon).fill(last);
  return {
    mean: flat(),
    quantiles: task.quantiles.map(flat),
    description: Number.isNaN(last) ? 'none' : 'LastValue',
    fallback: `${task.algorithm} failed (${reason}); ${Number.isNaN(last) ? 'no value observed' : 'last value repeated'}`,
  };
}
