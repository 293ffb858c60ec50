/**
 * Intermittent-demand methods (series with many zeros): Croston, its bias-corrected SBA variant
 * (Syntetos–Boylan) and TSB (Teunter–Syntetos–Babai). All forecast a flat demand rate; quantiles
 * are the rate plus empirical quantiles of the in-sample one-step errors, floored at zero for
 * non-negative data (demand cannot be negative, and a Gaussian band around a small rate would be).
 * Smoothing constants are fixed at 0.1 (the usual choice, and statsforecast's default): on a
 * few dozen non-zero demands an optimised constant mostly fits noise.
 */
import { cleanSeries, validateQuantiles } from './quantiles';
import { NotEnoughData, type FittedModel, type ModelSpec, type Prediction, type SeriesData } from './types';

export type IntermittentMethod = 'CROSTON' | 'SBA' | 'TSB';

const ALPHA = 0.1;

/** In-sample one-step forecasts (forecast[t] made before y[t]) and the final rate of a method. */
function smooth(y: Float64Array, method: IntermittentMethod): { fitted: Float64Array; rate: number } {
  const n = y.length;
  const fitted = new Float64Array(n);
  let first = 0;
  while (first < n && y[first] === 0) first++;
  if (first === n) return { fitted, rate: 0 };
  // Start: the first demand size, and the mean inter-demand interval (or demand probability) so far.
  let size = y[first]!;
  let interval = first + 1;
  let probability = 1 / interval;
  let sinceLast = 0;
  const rateOf = () =>
    method === 'TSB' ? probability * size : (size / interval) * (method === 'SBA' ? 1 - ALPHA / 2 : 1);
  for (let t = 0; t < n; t++) {
    fitted[t] = t <= first ? NaN : rateOf();
    if (t <= first) continue;
    const demand = y[t]! !== 0;
    sinceLast++;
    if (method === 'TSB') {
      probability += ALPHA * ((demand ? 1 : 0) - probability);
      if (demand) size += ALPHA * (y[t]! - size);
    } else if (demand) {
      size += ALPHA * (y[t]! - size);
      interval += ALPHA * (sinceLast - interval);
    }
    if (demand) sinceLast = 0;
  }
  return { fitted, rate: rateOf() };
}

/** Type-7 quantile of the finite values of `x` (sorted copy). */
function sampleQuantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Croston / SBA / TSB as a model spec. */
export function intermittent(method: IntermittentMethod): ModelSpec {
  return {
    algorithm: method,
    fit(series: SeriesData): FittedModel {
      const y = cleanSeries(series.values);
      if (y.length < 4) throw new NotEnoughData(`${method} needs at least 4 observations, got ${y.length}`);
      const { fitted, rate } = smooth(y, method);
      let nonNegative = true;
      const errors: number[] = [];
      for (let t = 0; t < y.length; t++) {
        if (y[t]! < 0) nonNegative = false;
        if (Number.isFinite(fitted[t]!)) errors.push(y[t]! - fitted[t]!);
      }
      const sorted = Float64Array.from(errors.length ? errors : [0]).sort();
      return {
        description: method,
        predict(horizon, quantiles): Prediction {
          validateQuantiles(quantiles);
          const mean = new Float64Array(horizon).fill(rate);
          const out = new Map<number, Float64Array>();
          for (const q of quantiles) {
            const v = rate + sampleQuantile(sorted, q);
            out.set(q, new Float64Array(horizon).fill(nonNegative ? Math.max(0, v) : v));
          }
          return { mean, quantiles: out };
        },
      };
    },
  };
}
