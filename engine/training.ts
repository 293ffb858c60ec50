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
import { observedNaiveScale, summariseWindows, WindowScores, type AccuracyMetrics, type ScoredSeries } from './metrics';
import type { ForecastItem, Predictions } from './export-files';
import type { RegularSeries, SeriesSet } from './series';
import { isGlobalAlgorithm } from './models/registry';
import type { AnyFitTask, FitTask, GlobalFitTask, SeriesForecast, SeriesPayload } from './worker-protocol';

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
 * The fit batches of `algorithm` over the given payloads: a per-series model in batches sized to
 * spread over `parallelism` workers; a global model (CNN-QR, DeepAR+) as one task, since its
 * network learns from all the series at once. The same arguments give the same batches, which a
 * sharded job's Plan relies on.
 */
function fitBatches(
  algorithm: string,
  params: Readonly<Record<string, string>>,
  horizon: number,
  quantiles: readonly number[],
  payloads: readonly SeriesPayload[],
  parallelism: number,
  hpo = false,
): { task: AnyFitTask; first: number }[] {
  if (isGlobalAlgorithm(algorithm)) return [{ task: { kind: 'fit-global', algorithm, params, hpo, horizon, quantiles, series: payloads }, first: 0 }];
  const size = Math.max(1, Math.min(50, Math.ceil(payloads.length / (parallelism * 4))));
  const batches: { task: FitTask; first: number }[] = [];
  for (let i = 0; i < payloads.length; i += size) batches.push({ task: { kind: 'fit', algorithm, params, horizon, quantiles, series: payloads.slice(i, i + size) }, first: i });
  return batches;
}

/** Runs planned fits (all queued at once, in order) and answers their results, fit by fit. */
async function runFits(run: FitRunner, tasks: readonly AnyFitTask[], onBatch: (count: number) => void): Promise<SeriesForecast[][]> {
  return Promise.all(
    tasks.map((task) =>
      run(task).then((r) => {
        onBatch(task.series.length);
        return r;
      }),
    ),
  );
}

/** What scoring one backtest case needs: which series, its held-out actuals, MASE's scale. */
export interface CaseScore {
  readonly seriesIndex: number;
  /** The series' key, `/`-joined (fallback examples). */
  readonly item: string;
  readonly actual: Float64Array;
  /** MASE's scale over the observed history before the window. */
  readonly scale: number;
}

interface WindowCase extends CaseScore {
  readonly payload: SeriesPayload;
}

function windowCases(set: SeriesSet, start: number, horizon: number, firstIndex: number): WindowCase[] {
  const cases: WindowCase[] = [];
  set.series.forEach((s, index) => {
    const seriesIndex = firstIndex + index;
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
    const p = payload(s, set.frequency, cut, horizon);
    cases.push({ seriesIndex, item: p.item!, actual, scale, payload: p });
  });
  return cases;
}

function scored(c: CaseScore, f: SeriesForecast, quantiles: readonly number[]): ScoredSeries {
  return { actual: c.actual, mean: f.mean, scale: c.scale, quantiles: new Map(quantiles.map((q, i) => [q, f.quantiles[i]!])) };
}

/** The calendar of the backtest: each window's first and last period, most recent first. */
export interface BacktestWindow {
  readonly start: string;
  readonly end: string;
}

function backtestWindows(set: SeriesSet, starts: readonly number[], horizon: number): BacktestWindow[] {
  return starts.map((start) => {
    const first = addPeriods(set.end, set.frequency, start - (set.length - 1));
    return { start: first.toISOString(), end: addPeriods(first, set.frequency, horizon).toISOString() };
  });
}

function windowResult(window: BacktestWindow, scores: WindowScores, types: readonly string[]): WindowResult {
  const errorMetrics: ErrorMetricRecord[] = ['mean', ...types.filter((t) => t !== 'mean')].map((type) => {
    const point = scores.point(type === 'mean' ? 'mean' : Number(type));
    return { ForecastType: type, WAPE: point.wape, RMSE: point.rmse, MASE: point.mase, MAPE: point.mape };
  });
  return { start: window.start, end: window.end, itemCount: scores.count, metrics: scores.metrics(), errorMetrics };
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
function loss(scores: WindowScores, quantiles: readonly number[]): number {
  if (!scores.count) return Infinity;
  const { weightedQuantileLosses } = scores.metrics();
  const value = quantiles.length ? weightedQuantileLosses.reduce((s, q) => s + q.loss, 0) / quantiles.length : scores.point('mean').wape;
  return Number.isFinite(value) ? value : Infinity;
}

/** What a backtest's scoring needs besides the fits: serializable, for a sharded job's manifest. */
export interface BacktestScoring {
  readonly windows: BacktestWindow[];
  readonly candidates: readonly string[];
  readonly types: readonly string[];
  readonly masePeriod: number;
  readonly params: Readonly<Record<string, string>>;
  readonly hpo: boolean;
  readonly seriesCount: number;
}

/** One planned backtest fit: its task and the cases (of one candidate and window) it scores, in order. */
export interface BacktestFit {
  readonly task: AnyFitTask;
  readonly candidate: number;
  readonly window: number;
  readonly cases: readonly CaseScore[];
}

/**
 * A backtest's fits, in the order one process queues them (candidate by candidate, window by
 * window, cases in series order), and what scoring them needs. A sharded Plan plans the series of
 * one unit at a time (partitions.ts): `firstIndex` is the unit's first series in the job, and the
 * scoring's `seriesCount` is then the unit's.
 */
export function planBacktest(set: SeriesSet, plan: BacktestPlan, parallelism: number, firstIndex = 0): { fits: BacktestFit[]; scoring: BacktestScoring } {
  const quantiles = quantilesOf(plan.types);
  const starts = windowStarts(set.length, plan.horizon, plan.offset, plan.windows);
  const cases = starts.map((start) => windowCases(set, start, plan.horizon, firstIndex));
  const fits: BacktestFit[] = [];
  plan.candidates.forEach((algorithm, candidate) =>
    cases.forEach((windowCase, window) => {
      const batches = fitBatches(algorithm, plan.params, plan.horizon, quantiles, windowCase.map((c) => c.payload), parallelism, plan.hpo);
      for (const { task, first } of batches) {
        const scores = windowCase.slice(first, first + task.series.length).map(({ seriesIndex, item, actual, scale }) => ({ seriesIndex, item, actual, scale }));
        fits.push({ task, candidate, window, cases: scores });
      }
    }),
  );
  const scoring: BacktestScoring = {
    windows: backtestWindows(set, starts, plan.horizon),
    candidates: plan.candidates,
    types: plan.types,
    masePeriod: seasonLength(set.frequency),
    params: plan.params,
    hpo: plan.hpo === true,
    seriesCount: set.series.length,
  };
  return { fits, scoring };
}

/**
 * Scores a backtest fit by fit, in planBacktest's order, without keeping the forecasts: the
 * pooled sums of each candidate and window, the fallbacks and PerformHPO's choice. One process
 * feeds it all the fits; a sharded job's Finish feeds it shard by shard — the same additions in
 * the same order, so the same metrics.
 */
export class BacktestScorer {
  private readonly quantiles: number[];
  /** scores[candidate][window] */
  private readonly scores: WindowScores[][];
  /** fallbacks[candidate][window]: the cases whose model fell back, in case order. */
  private readonly fallbacks: { seriesIndex: number; example: string }[][][];
  private readonly tuned: (Readonly<Record<string, string>> | undefined)[];

  constructor(private readonly scoring: BacktestScoring) {
    this.quantiles = quantilesOf(scoring.types);
    this.scores = scoring.candidates.map(() => scoring.windows.map(() => new WindowScores(this.quantiles, scoring.masePeriod)));
    this.fallbacks = scoring.candidates.map(() => scoring.windows.map(() => []));
    this.tuned = scoring.candidates.map(() => undefined);
  }

  add(fit: Pick<BacktestFit, 'candidate' | 'window' | 'cases'>, forecasts: readonly SeriesForecast[]): void {
    if (forecasts.length !== fit.cases.length) throw new Error(`Internal: ${forecasts.length} forecasts for ${fit.cases.length} backtest cases`);
    const scores = this.scores[fit.candidate]![fit.window]!;
    fit.cases.forEach((c, i) => {
      const f = forecasts[i]!;
      scores.add(scored(c, f, this.quantiles));
      if (f.fallback) this.fallbacks[fit.candidate]![fit.window]!.push({ seriesIndex: c.seriesIndex, example: `${c.item}: ${f.fallback}` });
      if (fit.window === 0 && f.tunedParameters) this.tuned[fit.candidate] ??= f.tunedParameters;
    });
  }

  /** The algorithm chosen (the lowest loss averaged over windows), every candidate's evaluation. */
  result(): TrainingResult {
    const { candidates, windows, types, params, hpo, seriesCount } = this.scoring;
    const candidateLoss = (a: number) => {
      const finite = this.scores[a]!.map((scores) => loss(scores, this.quantiles)).filter((v) => Number.isFinite(v));
      return finite.length ? finite.reduce((x, y) => x + y, 0) / finite.length : Infinity;
    };
    // One algorithm for the whole dataset: the given one, or (AutoML) the lowest loss averaged over windows.
    const losses = candidates.map((_, a) => candidateLoss(a));
    const best = Math.max(0, losses.indexOf(Math.min(...losses)));
    const evaluations: Evaluation[] = candidates.map((algorithm, a) => {
      const results = windows.map((window, w) => windowResult(window, this.scores[a]![w]!, types));
      return { algorithm, windows: results, summary: summaryResult(results) };
    });
    const fallbackSeries = new Set<number>();
    const fallbackExamples: string[] = [];
    for (const windowFallbacks of this.fallbacks[best] ?? []) {
      for (const { seriesIndex, example } of windowFallbacks) {
        if (fallbackSeries.has(seriesIndex)) continue;
        fallbackSeries.add(seriesIndex);
        if (fallbackExamples.length < 3) fallbackExamples.push(example);
      }
    }
    const tuned = hpo ? this.tuned[best] : undefined;
    return {
      assignments: Array.from({ length: seriesCount }, () => candidates[best]!),
      algorithm: candidates[best],
      evaluations,
      fallbacks: fallbackSeries.size,
      fallbackExamples,
      ...(tuned && { trainingParameters: { ...params, ...tuned } }),
    };
  }
}

/** Backtests every candidate, chooses one for the dataset (AutoML) and scores each. */
export async function runBacktests(
  set: SeriesSet,
  plan: BacktestPlan,
  run: FitRunner,
  parallelism: number,
  onProgress: ProgressListener = () => {},
): Promise<TrainingResult> {
  const { fits, scoring } = planBacktest(set, plan, parallelism);
  const total = fits.reduce((n, f) => n + f.cases.length, 0);
  let done = 0;
  onProgress(0, total);
  // Candidates are queued together: a global model's one long task then trains on one core
  // while the per-series models' batches use the others.
  const results = await runFits(
    run,
    fits.map((f) => f.task),
    (count) => {
      done += count;
      onProgress(done, total);
    },
  );
  const scorer = new BacktestScorer(scoring);
  fits.forEach((fit, i) => scorer.add(fit, results[i]!));
  return scorer.result();
}

/**
 * What forecasting needs of a series set: each series forecasts after its own last value, so the
 * series need not share an end (the one-off CLI's items end where their rows do).
 */
export type ForecastSet = Pick<SeriesSet, 'frequency' | 'series'>;

/** One planned forecast fit: its task and the series (indexes in the set) it forecasts, in order. */
export interface ForecastFit {
  readonly task: AnyFitTask;
  readonly indexes: readonly number[];
}

/** The fits of a forecast, in the order one process queues them: series grouped by algorithm. */
export function planForecast(
  set: ForecastSet,
  assignments: readonly string[],
  params: Readonly<Record<string, string>>,
  horizon: number,
  types: readonly string[],
  parallelism: number,
  hpo = false,
): ForecastFit[] {
  if (assignments.length !== set.series.length) throw new InvalidInput('Internal: one algorithm per series expected');
  const quantiles = quantilesOf(types);
  const byAlgorithm = new Map<string, number[]>();
  assignments.forEach((a, i) => byAlgorithm.set(a, [...(byAlgorithm.get(a) ?? []), i]));
  return [...byAlgorithm].flatMap(([algorithm, indexes]) => {
    const payloads = indexes.map((i) => payload(set.series[i]!, set.frequency, set.series[i]!.values.length, horizon));
    return fitBatches(algorithm, params, horizon, quantiles, payloads, parallelism, hpo).map(({ task, first }) => ({ task, indexes: indexes.slice(first, first + task.series.length) }));
  });
}

/** A forecast's columns in the order of `types` (the mean, or a quantile's forecast). */
export function forecastColumns(f: SeriesForecast, types: readonly string[]): Float64Array[] {
  const quantiles = quantilesOf(types);
  return types.map((t) => (t === 'mean' ? f.mean : f.quantiles[quantiles.indexOf(Number(t))]!));
}

/** Period start of the first forecast step of a series: right after its last value. */
export const forecastStart = (set: Pick<SeriesSet, 'frequency'>, s: Pick<RegularSeries, 'start' | 'values'>) => addPeriods(s.start, set.frequency, s.values.length);

/** Fits each series' algorithm on all its data and forecasts `horizon` periods after the dataset end. */
export async function forecastSeriesSet(
  set: ForecastSet,
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
  const fits = planForecast(set, assignments, params, horizon, types, parallelism, hpo);
  const results = new Array<SeriesForecast>(set.series.length);
  let done = 0;
  onProgress(0, set.series.length);
  const forecasts = await runFits(
    run,
    fits.map((f) => f.task),
    (count) => {
      done += count;
      onProgress(done, set.series.length);
    },
  );
  fits.forEach((fit, i) => fit.indexes.forEach((index, j) => (results[index] = forecasts[i]![j]!)));
  const items: ForecastItem[] = set.series.map((s, i) => ({ key: s.key, start: forecastStart(set, s), columns: forecastColumns(results[i]!, types) }));
  const models: Record<string, number> = {};
  for (const r of results) models[r.description] = (models[r.description] ?? 0) + 1;
  return { predictions: { types, keyColumns, frequency: set.frequency, items }, fallbacks: results.filter((r) => r.fallback).length, models };
}
