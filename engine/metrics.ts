/**
 * Amazon Forecast's accuracy metrics (forecast-api.md, "Accuracy metrics") plus sMAPE and
 * 80 % coverage for the benchmark. One backtest window = a list of scored series.
 *
 * - wQL[τ], WAPE and RMSE are pooled over all items and time points of the window.
 *   wQL[τ] = 2·Σ(τ·max(y−q,0) + (1−τ)·max(q−y,0)) / Σ|y|, and the numerator alone when Σ|y| ≈ 0.
 * - MAPE and MASE are computed per series, then averaged with equal weight over the series
 *   for which they are defined (MAPE skips points with y = 0; MASE skips series whose
 *   in-sample seasonal-naive error is 0). Forecast's docs describe the per-item values but
 *   not the aggregation; the equal-weight mean is how M4 and Forecast's console report them.
 * - Points whose actual is NaN (filled values, or missing) are not scored by any metric.
 */

/** One series of a backtest window: held-out actuals, forecasts and the training history. */
export interface ScoredSeries {
  /** Held-out actual values; NaN = not scored. */
  readonly actual: Float64Array;
  /** Point (mean) forecast, same length as `actual`. */
  readonly mean: Float64Array;
  /** Quantile forecasts by level. */
  readonly quantiles: ReadonlyMap<number, Float64Array>;
  /** Training values before the window (for MASE's scale); NaN ignored. */
  readonly history?: Float64Array;
  /** MASE's scale when already known (naiveScale of the history): saves keeping the history. */
  readonly scale?: number;
}

export interface AccuracyMetrics {
  /** wQL per requested quantile, in the order requested. */
  readonly weightedQuantileLosses: ReadonlyArray<{ quantile: number; loss: number }>;
  readonly averageWeightedQuantileLoss: number;
  readonly wape: number;
  readonly rmse: number;
  readonly mape: number;
  readonly mase: number;
}

const ZERO_SCALE = 1e-12;

/**
 * The sums of a pooled weighted quantile loss at level `tau`, added series by series: a window's
 * series can be folded in one at a time (a sharded job's Finish, shard by shard) and give the
 * number `weightedQuantileLoss` gives for the whole list, the same additions in the same order.
 */
export class QuantileLossSums {
  private loss = 0;
  private scale = 0;

  constructor(readonly tau: number) {}

  add(s: ScoredSeries): void {
    const q = s.quantiles.get(this.tau);
    if (!q) throw new Error(`no forecast for quantile ${this.tau}`);
    for (let i = 0; i < s.actual.length; i++) {
      const y = s.actual[i]!;
      if (Number.isNaN(y)) continue;
      const diff = y - q[i]!;
      this.loss += diff > 0 ? this.tau * diff : (this.tau - 1) * diff;
      this.scale += Math.abs(y);
    }
  }

  get value(): number {
    return this.scale > ZERO_SCALE ? (2 * this.loss) / this.scale : 2 * this.loss;
  }
}

/**
 * The sums behind WAPE and RMSE (pooled over points) and MAPE and MASE (means over series) of one
 * point forecast, added series by series — as QuantileLossSums, one fold for the whole list or
 * for shards of it in order. `period` is MASE's season length (MASE is NaN without it).
 */
export class PointErrorSums {
  private absError = 0;
  private absActual = 0;
  private squared = 0;
  private points = 0;
  private mapeSum = 0;
  private mapeSeries = 0;
  private maseSum = 0;
  private maseSeries = 0;

  constructor(private readonly period?: number) {}

  /** Adds a series scored on `point` (its mean forecast unless given, e.g. a quantile as point). */
  add(s: ScoredSeries, point: Float64Array = s.mean): void {
    for (let i = 0; i < s.actual.length; i++) {
      const y = s.actual[i]!;
      if (Number.isNaN(y)) continue;
      const e = y - point[i]!;
      this.absError += Math.abs(e);
      this.absActual += Math.abs(y);
      this.squared += e * e;
      this.points++;
    }
    const asPoint = point === s.mean ? s : { ...s, mean: point };
    const seriesMapeValue = seriesMape(asPoint);
    if (Number.isFinite(seriesMapeValue)) {
      this.mapeSum += seriesMapeValue;
      this.mapeSeries++;
    }
    if (this.period === undefined) return;
    const seriesMaseValue = seriesMase(asPoint, this.period);
    if (Number.isFinite(seriesMaseValue)) {
      this.maseSum += seriesMaseValue;
      this.maseSeries++;
    }
  }

  get wape(): number {
    return this.absActual > ZERO_SCALE ? this.absError / this.absActual : this.absError;
  }

  get rmse(): number {
    return this.points > 0 ? Math.sqrt(this.squared / this.points) : NaN;
  }

  get mape(): number {
    return this.mapeSeries > 0 ? this.mapeSum / this.mapeSeries : NaN;
  }

  get mase(): number {
    return this.maseSeries > 0 ? this.maseSum / this.maseSeries : NaN;
  }
}

function sumPointErrors(series: readonly ScoredSeries[], period?: number): PointErrorSums {
  const sums = new PointErrorSums(period);
  for (const s of series) sums.add(s);
  return sums;
}

/** Pooled weighted quantile loss at level `tau`. */
export function weightedQuantileLoss(series: readonly ScoredSeries[], tau: number): number {
  const sums = new QuantileLossSums(tau);
  for (const s of series) sums.add(s);
  return sums.value;
}

/** Pooled weighted absolute percentage error of the point forecast. */
export function wape(series: readonly ScoredSeries[]): number {
  return sumPointErrors(series).wape;
}

/** Pooled root mean squared error of the point forecast. */
export function rmse(series: readonly ScoredSeries[]): number {
  return sumPointErrors(series).rmse;
}

function meanOfDefined(values: number[]): number {
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    }
  }
  return count > 0 ? sum / count : NaN;
}

/** MAPE of one series: mean |(y − ŷ)/y| over scored points with y ≠ 0 (NaN when none). */
export function seriesMape(s: ScoredSeries): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < s.actual.length; i++) {
    const y = s.actual[i]!;
    if (Number.isNaN(y) || y === 0) continue;
    sum += Math.abs((y - s.mean[i]!) / y);
    count++;
  }
  return count > 0 ? sum / count : NaN;
}

/** In-sample mean |y_t − y_{t−m}| over pairs where both are observed (NaN when none). */
export function naiveScale(history: Float64Array, period: number): number {
  let sum = 0;
  let count = 0;
  for (let t = period; t < history.length; t++) {
    const d = history[t]! - history[t - period]!;
    if (Number.isNaN(d)) continue;
    sum += Math.abs(d);
    count++;
  }
  return count > 0 ? sum / count : NaN;
}

/**
 * naiveScale of values[0, end) with the unobserved (filled) positions left out, without copying
 * the history: a backtest keeps one number per series and window instead of its whole past.
 */
export function observedNaiveScale(values: Float64Array, observed: Uint8Array, end: number, period: number): number {
  let sum = 0;
  let count = 0;
  for (let t = period; t < end; t++) {
    if (!observed[t] || !observed[t - period]) continue;
    const d = values[t]! - values[t - period]!;
    if (Number.isNaN(d)) continue;
    sum += Math.abs(d);
    count++;
  }
  return count > 0 ? sum / count : NaN;
}

/** MASE of one series: MAE / in-sample seasonal-naive MAE with period `period` (NaN when undefined). */
export function seriesMase(s: ScoredSeries, period: number): number {
  const scale = s.scale ?? (s.history ? naiveScale(s.history, period) : NaN);
  if (!(scale > ZERO_SCALE)) return NaN;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < s.actual.length; i++) {
    const y = s.actual[i]!;
    if (Number.isNaN(y)) continue;
    sum += Math.abs(y - s.mean[i]!);
    count++;
  }
  return count > 0 ? sum / count / scale : NaN;
}

/** sMAPE of one series in percent (M4): mean 200·|y − ŷ| / (|y| + |ŷ|), 0/0 counted as 0. */
export function seriesSmape(s: ScoredSeries): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < s.actual.length; i++) {
    const y = s.actual[i]!;
    if (Number.isNaN(y)) continue;
    const den = Math.abs(y) + Math.abs(s.mean[i]!);
    sum += den > 0 ? (200 * Math.abs(y - s.mean[i]!)) / den : 0;
    count++;
  }
  return count > 0 ? sum / count : NaN;
}

/** Mean over series of MAPE. */
export function mape(series: readonly ScoredSeries[]): number {
  return sumPointErrors(series).mape;
}

/** Mean over series of MASE with season length `period`. */
export function mase(series: readonly ScoredSeries[], period: number): number {
  return sumPointErrors(series, period).mase;
}

/** Mean over series of sMAPE (percent). */
export function smape(series: readonly ScoredSeries[]): number {
  return meanOfDefined(series.map(seriesSmape));
}

/** Share of scored actuals inside [q_lower, q_upper] (default the 80 % interval 0.1–0.9). */
export function coverage(series: readonly ScoredSeries[], lower = 0.1, upper = 0.9): number {
  let inside = 0;
  let count = 0;
  for (const s of series) {
    const lo = s.quantiles.get(lower);
    const hi = s.quantiles.get(upper);
    if (!lo || !hi) throw new Error(`coverage needs quantiles ${lower} and ${upper}`);
    for (let i = 0; i < s.actual.length; i++) {
      const y = s.actual[i]!;
      if (Number.isNaN(y)) continue;
      if (y >= lo[i]! && y <= hi[i]!) inside++;
      count++;
    }
  }
  return count > 0 ? inside / count : NaN;
}

/**
 * Every sum one backtest window's metrics need, for the mean and for each quantile, folded series
 * by series in the window's order: the same numbers whether the series come as one list (one
 * process) or shard by shard (a sharded job's Finish), without holding the series.
 */
export class WindowScores {
  private series = 0;
  private readonly mean: PointErrorSums;
  private readonly losses: QuantileLossSums[];
  /** Each quantile's forecast scored as a point forecast (Forecast's per-type error metrics). */
  private readonly quantilesAsPoint: PointErrorSums[];

  constructor(
    private readonly quantiles: readonly number[],
    masePeriod: number,
  ) {
    this.mean = new PointErrorSums(masePeriod);
    this.losses = quantiles.map((q) => new QuantileLossSums(q));
    this.quantilesAsPoint = quantiles.map(() => new PointErrorSums(masePeriod));
  }

  add(s: ScoredSeries): void {
    this.series++;
    this.mean.add(s);
    for (const sums of this.losses) sums.add(s);
    this.quantiles.forEach((q, i) => this.quantilesAsPoint[i]!.add(s, s.quantiles.get(q)!));
  }

  /** Series scored so far. */
  get count(): number {
    return this.series;
  }

  metrics(): AccuracyMetrics {
    const weightedQuantileLosses = this.losses.map((sums) => ({ quantile: sums.tau, loss: sums.value }));
    const averageWeightedQuantileLoss =
      weightedQuantileLosses.length > 0
        ? weightedQuantileLosses.reduce((a, b) => a + b.loss, 0) / weightedQuantileLosses.length
        : NaN;
    return { weightedQuantileLosses, averageWeightedQuantileLoss, wape: this.mean.wape, rmse: this.mean.rmse, mape: this.mean.mape, mase: this.mean.mase };
  }

  /** The point-error sums of the mean (`'mean'`) or of a quantile's forecast taken as the point. */
  point(type: 'mean' | number): PointErrorSums {
    if (type === 'mean') return this.mean;
    const i = this.quantiles.indexOf(type);
    if (i < 0) throw new Error(`no forecast for quantile ${type}`);
    return this.quantilesAsPoint[i]!;
  }
}

/** All of Forecast's metrics for one backtest window. */
export function accuracyMetrics(
  series: readonly ScoredSeries[],
  quantiles: readonly number[],
  masePeriod: number,
): AccuracyMetrics {
  const scores = new WindowScores(quantiles, masePeriod);
  for (const s of series) scores.add(s);
  return scores.metrics();
}

/** Averages window metrics → Forecast's `SUMMARY` entry (each metric averaged over windows). */
export function summariseWindows(windows: readonly AccuracyMetrics[]): AccuracyMetrics {
  const avg = (pick: (m: AccuracyMetrics) => number) => meanOfDefined(windows.map(pick));
  const first = windows[0];
  if (!first) throw new Error('summariseWindows needs at least one window');
  return {
    weightedQuantileLosses: first.weightedQuantileLosses.map(({ quantile }, i) => ({
      quantile,
      loss: avg((m) => m.weightedQuantileLosses[i]!.loss),
    })),
    averageWeightedQuantileLoss: avg((m) => m.averageWeightedQuantileLoss),
    wape: avg((m) => m.wape),
    rmse: avg((m) => m.rmse),
    mape: avg((m) => m.mape),
    mase: avg((m) => m.mase),
  };
}
