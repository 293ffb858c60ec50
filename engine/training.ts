/**
 * Backtests, algorithm choice and forecasting over a set of regular series.
 *
 * Backtest windows (Forecast's EvaluationParameters): each window is `horizon` periods long. With
 * N the dataset length (periods from the earliest start to the end), window k (k = 0 is the most
 * recent) starts at N − offset·(k+1) — the first window starts `BackTestWindowOffset` periods before
 * the end and later windows step back by the offset. Models train on everything before a window's
 * start; only observed (not filled) values inside a window are scored. A series with fewer than two
 * observed values before a window, or none inside it, is left out of that window (ItemCount).
 */
import { InvalidInput } from '../shared/errors';
import { addPeriods, seasonLength, type Frequency } from '../shared/frequency';
import { accuracyMetrics, mape, mase, observedNaiveScale, rmse, summariseWindows, wape, weightedQuantileLoss, type AccuracyMetrics, type ScoredSeries } from './metrics';
import type { ForecastItem, Predictions } from './export-files';
import type { RegularSeries, SeriesSet } from './series';
import { isGlobalAlgorithm } from './models/registry';
import type { FitTask, GlobalFitTask, SeriesForecast, SeriesPayload } from './worker-protocol';

export type FitRunner = (task: FitTask | GlobalFitTask) => Promise<SeriesForecast[]>;
export type ProgressListener = (done: number, total: number) => void;

export interface ErrorMetricRecord {
  readonly ForecastType: string;
  readonly WAPE: number;
  readonly RMSE: number;
  readonly MASE: number;
  readonly MAPE: number;
}

export interface WindowResult {
  readonly start: string;
  readonly end: string;
  readonly itemCount: number;
  readonly metrics: AccuracyMetrics;
  readonly errorMetrics: ErrorMetricRecord[];
}

export interface Evaluation {
  readonly algorithm: string;
  readonly summary: WindowResult;
  readonly windows: WindowResult[];
}

export type Selection = 'single' | 'automl';

export interface BacktestPlan {
  readonly horizon: number;
  readonly windows: number;
  readonly offset: number;
  readonly types: readonly string[];
  readonly candidates: readonly string[];
  readonly params: Readonly<Record<string, string>>;
  readonly selection: Selection;
  /** PerformHPO (global models only): a bounded search before each training (engine/models/hpo.ts). */
  readonly hpo?: boolean;
}

export interface TrainingResult {
  /** The algorithm of every series (one entry per series, same order as the series set). */
  readonly assignments: string[];
  /** Chosen algorithm for single/automl selection. */
  readonly algorithm?: string;
  readonly evaluations: Evaluation[];
  /** Series of the chosen model(s) that fell back to a simpler model in some window. */
  readonly fallbacks: number;
  readonly fallbackExamples: string[];
  /**
   * PerformHPO: the TrainingParameters to forecast with — the given ones plus what the search chose
   * on the most recent backtest window's training data (the forecast then trains without searching).
   */
  readonly trainingParameters?: Record<string, string>;
}

/** Start index (in dataset periods) of each backtest window, most recent first; InvalidInput when they do not fit. */
export function windowStarts(length: number, horizon: number, offset: number, windows: number): number[] {
  if (offset < horizon || offset * 2 >= length) {
    throw new InvalidInput(
      `BackTestWindowOffset must satisfy ForecastHorizon (${horizon}) ≤ offset < ½ · dataset length (${length}); got ${offset}`,
    );
  }
  const starts = Array.from({ length: windows }, (_, k) => length - offset * (k + 1));
  const earliest = starts[starts.length - 1]!;
  if (earliest < 2) {
    throw new InvalidInput(
      `${windows} backtest windows with offset ${offset} need more than ${offset * windows + 1} periods of data; the dataset has ${length}`,
    );
  }
  return starts;
}

const quantilesOf = (types: readonly string[]) => types.filter((t) => t !== 'mean').map(Number);

function payload(s: RegularSeries, freq: Frequency, end: number, horizon: number): SeriesPayload {
  const relatedEnd = end + horizon;
  // Views, not copies: the worker receives the values up to `end` (structured clone copies the buffer).
  return {
    item: s.key.join('/'),
    values: s.values.subarray(0, end),
    seasonLength: seasonLength(freq),
    startMs: s.start.getTime(),
    frequency: freq.text,
    related: s.related ? Object.fromEntries(Object.entries(s.related).map(([k, v]) => [k, v.subarray(0, relatedEnd)])) : undefined,
  };
}

/**
 * Runs `algorithm` over the given payloads: a per-series model in batches spread over the pool; a
 * global model (CNN-QR, DeepAR+) as one task, since its network learns from all the series at once.
 */
async function fitMany(
  run: FitRunner,
  algorithm: string,
  params: Readonly<Record<string, string>>,
  horizon: number,
  quantiles: readonly number[],
  payloads: readonly SeriesPayload[],
  parallelism: number,
  onBatch: (count: number) => void,
  hpo = false,
): Promise<SeriesForecast[]> {
  if (isGlobalAlgorithm(algorithm)) {
    const results = await run({ kind: 'fit-global', algorithm, params, hpo, horizon, quantiles, series: payloads });
    onBatch(payloads.length);
    return results;
  }
  const size = Math.max(1, Math.min(50, Math.ceil(payloads.length / (parallelism * 4))));
  const batches: Promise<SeriesForecast[]>[] = [];
  for (let i = 0; i < payloads.length; i += size) {
    const series = payloads.slice(i, i + size);
    batches.push(
      run({ kind: 'fit', algorithm, params, horizon, quantiles, series }).then((r) => {
        onBatch(series.length);
        return r;
      }),
    );
  }
  return (await Promise.all(batches)).flat();
}

interface WindowCase {
  readonly seriesIndex: number;
  readonly payload: SeriesPayload;
  readonly actual: Float64Array;
  /** MASE's scale over the observed history before the window. */
  readonly scale: number;
}

function windowCases(set: SeriesSet, start: number, horizon: number): WindowCase[] {
  const cases: WindowCase[] = [];
  set.series.forEach((s, seriesIndex) => {
    const base = set.length - s.values.length;
    const cut = start - base;
    if (cut < 2) return;
    let observedBefore = 0;
    for (let i = 0; i < cut; i++) observedBefore += s.observed[i]!;
    const actual = new Float64Array(horizon);
    let scored = 0;
    for (let h = 0; h < horizon; h++) {
      const i = cut + h;
      actual[h] = i < s.values.length && s.observed[i] ? s.values[i]! : NaN;
      if (!Number.isNaN(actual[h]!)) scored++;
    }
    if (observedBefore < 2 || scored === 0) return;
    const scale = observedNaiveScale(s.values, s.observed, cut, seasonLength(set.frequency));
    cases.push({ seriesIndex, payload: payload(s, set.frequency, cut, horizon), actual, scale });
  });
  return cases;
}

function scored(c: WindowCase, f: SeriesForecast, quantiles: readonly number[]): ScoredSeries {
  return { actual: c.actual, mean: f.mean, scale: c.scale, quantiles: new Map(quantiles.map((q, i) => [q, f.quantiles[i]!])) };
}

function windowResult(set: SeriesSet, start: number, horizon: number, series: ScoredSeries[], plan: BacktestPlan): WindowResult {
  const quantiles = quantilesOf(plan.types);
  const m = seasonLength(set.frequency);
  const metrics = accuracyMetrics(series, quantiles, m);
  const errorMetrics: ErrorMetricRecord[] = ['mean', ...plan.types.filter((t) => t !== 'mean')].map((type) => {
    const asPoint = type === 'mean' ? series : series.map((s) => ({ ...s, mean: s.quantiles.get(Number(type))! }));
    return { ForecastType: type, WAPE: wape(asPoint), RMSE: rmse(asPoint), MASE: mase(asPoint, m), MAPE: mape(asPoint) };
  });
  const first = addPeriods(set.end, set.frequency, start - (set.length - 1));
  return {
    start: first.toISOString(),
    end: addPeriods(first, set.frequency, horizon).toISOString(),
    itemCount: series.length,
    metrics,
    errorMetrics,
  };
}

function summaryResult(windows: WindowResult[]): WindowResult {
  const metrics = summariseWindows(windows.map((w) => w.metrics));
  const errorMetrics = windows[0]!.errorMetrics.map((e, i) => {
    const avg = (pick: (x: ErrorMetricRecord) => number) => {
      const values = windows.map((w) => pick(w.errorMetrics[i]!)).filter((v) => Number.isFinite(v));
      return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
    };
    return { ForecastType: e.ForecastType, WAPE: avg((x) => x.WAPE), RMSE: avg((x) => x.RMSE), MASE: avg((x) => x.MASE), MAPE: avg((x) => x.MAPE) };
  });
  return {
    start: windows[windows.length - 1]!.start,
    end: windows[0]!.end,
    itemCount: Math.max(...windows.map((w) => w.itemCount)),
    metrics,
    errorMetrics,
  };
}

/** Loss used to choose: mean wQL over the quantiles (WAPE when only `mean` is requested). */
function loss(series: readonly ScoredSeries[], quantiles: readonly number[]): number {
  if (!series.length) return Infinity;
  const value = quantiles.length ? quantiles.reduce((s, q) => s + weightedQuantileLoss(series, q), 0) / quantiles.length : wape(series);
  return Number.isFinite(value) ? value : Infinity;
}

/** Backtests every candidate, chooses one for the dataset (AutoML) and scores each. */
export async function runBacktests(
  set: SeriesSet,
  plan: BacktestPlan,
  run: FitRunner,
  parallelism: number,
  onProgress: ProgressListener = () => {},
): Promise<TrainingResult> {
  const quantiles = quantilesOf(plan.types);
  const starts = windowStarts(set.length, plan.horizon, plan.offset, plan.windows);
  const cases = starts.map((start) => windowCases(set, start, plan.horizon));
  const total = plan.candidates.length * cases.reduce((s, c) => s + c.length, 0);
  let done = 0;
  onProgress(0, total);
  // forecasts[candidate][window][case]
  // Candidates are queued together: a global model's one long task then trains on one core
  // while the per-series models' batches use the others.
  const forecasts: SeriesForecast[][][] = await Promise.all(
    plan.candidates.map((algorithm) =>
      Promise.all(
        cases.map((windowCase) =>
          fitMany(
            run,
            algorithm,
            plan.params,
            plan.horizon,
            quantiles,
            windowCase.map((c) => c.payload),
            parallelism,
            (count) => {
              done += count;
              onProgress(done, total);
            },
            plan.hpo,
          ),
        ),
      ),
    ),
  );
  const evaluate = (pick: (w: number, caseIndex: number) => number) => {
    const windows = starts.map((start, w) =>
      windowResult(set, start, plan.horizon, cases[w]!.map((c, i) => scored(c, forecasts[pick(w, i)]![w]![i]!, quantiles)), plan),
    );
    return { windows, summary: summaryResult(windows) };
  };
  const candidateLoss = (a: number) => {
    const perWindow = cases.map((windowCase, w) => loss(windowCase.map((c, i) => scored(c, forecasts[a]![w]![i]!, quantiles)), quantiles));
    const finite = perWindow.filter((v) => Number.isFinite(v));
    return finite.length ? finite.reduce((x, y) => x + y, 0) / finite.length : Infinity;
  };

  // One algorithm for the whole dataset: the given one, or (AutoML) the lowest loss averaged over windows.
  const losses = plan.candidates.map((_, a) => candidateLoss(a));
  const best = Math.max(0, losses.indexOf(Math.min(...losses)));
  const algorithm = plan.candidates[best];
  const assignments = set.series.map(() => best);
  const evaluations: Evaluation[] = plan.candidates.map((name, a) => ({ algorithm: name, ...evaluate(() => a) }));
  const fallbackSeries = new Set<number>();
  const fallbackExamples: string[] = [];
  cases.forEach((windowCase, w) =>
    windowCase.forEach((c, i) => {
      const f = forecasts[assignments[c.seriesIndex]!]![w]![i]!;
      if (f.fallback && !fallbackSeries.has(c.seriesIndex)) {
        fallbackSeries.add(c.seriesIndex);
        if (fallbackExamples.length < 3) fallbackExamples.push(`${set.series[c.seriesIndex]!.key.join('/')}: ${f.fallback}`);
      }
    }),
  );
  const tuned = plan.hpo ? forecasts[best]?.[0]?.find((f) => f.tunedParameters)?.tunedParameters : undefined;
  return {
    assignments: assignments.map((a) => plan.candidates[a]!),
    algorithm,
    evaluations,
    fallbacks: fallbackSeries.size,
    fallbackExamples,
    ...(tuned && { trainingParameters: { ...plan.params, ...tuned } }),
  };
}

/** Fits each series' algorithm on all its data and forecasts `horizon` periods after the dataset end. */
export async function forecastSeriesSet(
  set: SeriesSet,
  assignments: readonly string[],
  params: Readonly<Record<string, string>>,
  horizon: number,
  types: readonly string[],
  keyColumns: readonly string[],
  run: FitRunner,
  parallelism: number,
  onProgress: ProgressListener = () => {},
  hpo = false,
): Promise<{ predictions: Predictions; fallbacks: number; models: Record<string, number> }> {
  const quantiles = quantilesOf(types);
  const byAlgorithm = new Map<string, number[]>();
  assignments.forEach((a, i) => byAlgorithm.set(a, [...(byAlgorithm.get(a) ?? []), i]));
  const results = new Array<SeriesForecast>(set.series.length);
  let done = 0;
  onProgress(0, set.series.length);
  await Promise.all(
    [...byAlgorithm].map(async ([algorithm, indexes]) => {
      const payloads = indexes.map((i) => payload(set.series[i]!, set.frequency, set.series[i]!.values.length, horizon));
      const forecasts = await fitMany(
        run,
        algorithm,
        params,
        horizon,
        quantiles,
        payloads,
        parallelism,
        (count) => {
          done += count;
          onProgress(done, set.series.length);
        },
        hpo,
      );
      forecasts.forEach((f, j) => (results[indexes[j]!] = f));
    }),
  );
  const items: ForecastItem[] = set.series.map((s, i) => {
    const f = results[i]!;
    return {
      key: s.key,
      start: addPeriods(s.start, set.frequency, s.values.length),
      columns: types.map((t) => (t === 'mean' ? f.mean : f.quantiles[quantiles.indexOf(Number(t))]!)),
    };
  });
  if (assignments.length !== set.series.length) throw new InvalidInput('Internal: one algorithm per series expected');
  const models: Record<string, number> = {};
  for (const r of results) models[r.description] = (models[r.description] ?? 0) + 1;
  return { predictions: { types, keyColumns, frequency: set.frequency, items }, fallbacks: results.filter((r) => r.fallback).length, models };
}
