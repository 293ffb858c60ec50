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

/** Pooled weighted quantile loss at level `tau`. */
export function weightedQuantileLoss(series: readonly ScoredSeries[], tau: number): number {
  let loss = 0;
  let scale = 0;
  for (const s of series) {
    const q = s.quantiles.get(tau);
    if (!q) throw new Error(`no forecast for quantile ${tau}`);
    for (let i = 0; i < s.actual.length; i++) {
      const y = s.actual[i]!;
      if (Number.isNaN(y)) continue;
      const diff = y - q[i]!;
      loss += diff > 0 ? tau * diff : (tau - 1) * diff;
      scale += Math.abs(y);
    }
  }
  return scale > ZERO_SCALE ? (2 * loss) / scale : 2 * loss;
}

/** Pooled weighted absolute percentage error of the point forecast. */
export function wape(series: readonly ScoredSeries[]): number {
  let num = 0;
  let den = 0;
  for (const s of series) {
    for (let i = 0; i < s.actual.length; i++) {
      const y = s.actual[i]!;
      if (Number.isNaN(y)) continue;
      num += Math.abs(y - s.mean[i]!);
      den += Math.abs(y);
    }
  }
  return den > ZERO_SCALE ? num / den : num;
}

/** Pooled root mean squared error of the point forecast. */
export function rmse(series: readonly ScoredSeries[]): number {
  let sum = 0;
  let count = 0;
  for (const s of series) {
    for (let i = 0; i < s.actual.length; i++) {
      const y = s.actual[i]!;
      if (Number.isNaN(y)) continue;
      const e = y - s.mean[i]!;
      sum += e * e;
      count++;
    }
  }
  return count > 0 ? Math.sqrt(sum / count) : NaN;
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
  return meanOfDefined(series.map(seriesMape));
}

/** Mean over series of MASE with season length `period`. */
export function mase(series: readonly ScoredSeries[], period: number): number {
  return meanOfDefined(series.map((s) => seriesMase(s, period)));
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

/** All of Forecast's metrics for one backtest window. */
export function accuracyMetrics(
  series: readonly ScoredSeries[],
  quantiles: readonly number[],
  masePeriod: number,
): AccuracyMetrics {
  const weightedQuantileLosses = quantiles.map((quantile) => ({ quantile, loss: weightedQuantileLoss(series, quantile) }));
  const averageWeightedQuantileLoss =
    weightedQuantileLosses.length > 0
      ? weightedQuantileLosses.reduce((a, b) => a + b.loss, 0) / weightedQuantileLosses.length
      : NaN;
  return {
    weightedQuantileLosses,
    averageWeightedQuantileLoss,
    wape: wape(series),
    rmse: rmse(series),
    mape: mape(series),
    mase: mase(series, masePeriod),
  };
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
