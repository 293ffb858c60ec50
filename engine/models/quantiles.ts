/**
 * Numeric helpers shared by the statistical models: the normal quantile function,
 * Gaussian and empirical quantile forecasts, missing-value interpolation (like
 * R `forecast::na.interp` for non-seasonal data), a seeded random generator and the
 * classical decomposition that seeds seasonal models.
 */
import { mulberry32 } from './random';
import { InvalidModelSpec, NotEnoughData, type Prediction } from './types';

/** Inverse of the standard normal CDF (Acklam's rational approximation, |rel. error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  return x;
}

/** Checks that every requested quantile lies strictly inside (0, 1). */
export function validateQuantiles(quantiles: readonly number[]): void {
  for (const q of quantiles) {
    if (!(q > 0 && q < 1)) throw new InvalidModelSpec(`quantiles must lie in (0, 1), got ${q}`);
  }
}

/** For each quantile τ, the steps' values `at(z_τ, step)` (z_τ: the standard normal quantile). */
function quantilesByStep(quantiles: readonly number[], steps: number, at: (z: number, step: number) => number): Map<number, Float64Array> {
  validateQuantiles(quantiles);
  const out = new Map<number, Float64Array>();
  for (const q of quantiles) {
    const z = normalQuantile(q);
    const v = new Float64Array(steps);
    for (let i = 0; i < steps; i++) v[i] = at(z, i);
    out.set(q, v);
  }
  return out;
}

/** Quantile forecasts of a Gaussian predictive distribution: `mean + z_τ · sd` per step. */
export function gaussianQuantiles(
  mean: Float64Array,
  sd: Float64Array,
  quantiles: readonly number[],
): Map<number, Float64Array> {
  return quantilesByStep(quantiles, mean.length, (z, i) => mean[i]! + z * sd[i]!);
}

/**
 * Quantile forecasts of a log-normal predictive distribution with the given mean and variance per
 * step (σ_L² = ln(1 + v/μ²), median μ/√(1 + v/μ²)): for multiplicative-error models, whose
 * forecast is the level times a product of (1 + ε) factors — positive and right-skewed. A Gaussian
 * with the same variance goes far below zero and far above the data once v/μ² is large (a volatile
 * series a few steps out), where the quantile loss then runs several times the actuals. Steps with
 * a non-positive mean keep the Gaussian.
 */
export function logNormalQuantiles(
  mean: Float64Array,
  variance: Float64Array,
  quantiles: readonly number[],
): Map<number, Float64Array> {
  return quantilesByStep(quantiles, mean.length, (z, i) => {
    const mu = mean[i]!;
    const v = Math.max(variance[i]!, 0);
    if (!(mu > 0)) return mu + z * Math.sqrt(v);
    const s2 = Math.log1p(v / (mu * mu));
    return Math.exp(Math.log(mu) - s2 / 2 + z * Math.sqrt(s2));
  });
}

/**
 * Empirical quantiles of simulated sample paths (`paths[k * horizon + i]` = path k, step i),
 * R type 7 (linear interpolation between order statistics), by selection rather than sorting.
 */
export function empiricalQuantiles(
  paths: Float64Array,
  nPaths: number,
  horizon: number,
  quantiles: readonly number[],
): Map<number, Float64Array> {
  validateQuantiles(quantiles);
  const out = new Map<number, Float64Array>();
  for (const q of quantiles) out.set(q, new Float64Array(horizon));
  const column = new Float64Array(nPaths);
  for (let i = 0; i < horizon; i++) {
    for (let k = 0; k < nPaths; k++) column[k] = paths[k * horizon + i]!;
    for (const q of quantiles) {
      const pos = q * (nPaths - 1);
      const lo = Math.floor(pos);
      const w = pos - lo;
      const low = selectKth(column, lo);
      // After selection every element right of `lo` is ≥ it: the next order statistic is their minimum.
      let high = low;
      if (w > 0 && lo + 1 < nPaths) {
        high = Infinity;
        for (let k = lo + 1; k < nPaths; k++) if (column[k]! < high) high = column[k]!;
      }
      out.get(q)![i] = low * (1 - w) + high * w;
    }
  }
  return out;
}

/** Hoare's quickselect: reorders `a` so that a[k] is the k-th smallest; returns it. */
function selectKth(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    const pivot = a[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k]!;
}

/**
 * Latin-hypercube standard normals for `nPaths` sample paths of `horizon` steps, laid out as
 * `[path * horizon + step]`: at every step the draws are the normal quantiles of the strata
 * (i + ½)/nPaths, in a fixed-seed permutation of their own. A path's one-step value is then the
 * exact quantile grid of the innovation, and later steps have far less sampling noise than
 * independent draws: the empirical 10 %/90 % quantiles of 250 such paths are steadier than those
 * of 1 000 independent ones. Cached per shape (common random numbers across series).
 */
const stratifiedCache = new Map<string, Float64Array>();
export function stratifiedNormals(nPaths: number, horizon: number): Float64Array {
  const key = `${nPaths}x${horizon}`;
  let out = stratifiedCache.get(key);
  if (!out) {
    const grid = Float64Array.from({ length: nPaths }, (_, i) => normalQuantile((i + 0.5) / nPaths));
    const rng = mulberry32(20240611 + horizon);
    out = new Float64Array(nPaths * horizon);
    const order = Array.from({ length: nPaths }, (_, i) => i);
    for (let h = 0; h < horizon; h++) {
      for (let i = nPaths - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let p = 0; p < nPaths; p++) out[p * horizon + h] = grid[order[p]!]!;
    }
    if (stratifiedCache.size > 64) stratifiedCache.clear();
    stratifiedCache.set(key, out);
  }
  return out;
}

/**
 * Fills missing values (NaN) by linear interpolation between the nearest observed
 * neighbours; leading gaps take the first observed value, trailing gaps the last one.
 * R's `na.interp` does the same for non-seasonal series (for seasonal ones it uses an
 * STL fit — a documented simplification here). Throws `NotEnoughData` when nothing is observed.
 */
export function interpolateMissing(values: Float64Array): Float64Array {
  const n = values.length;
  let firstObserved = -1;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(values[i]!)) {
      firstObserved = i;
      break;
    }
  }
  if (firstObserved < 0) throw new NotEnoughData('series has no observed values');
  const out = Float64Array.from(values);
  let prev = firstObserved;
  for (let i = 0; i < firstObserved; i++) out[i] = values[firstObserved]!;
  for (let i = firstObserved + 1; i < n; i++) {
    if (!Number.isFinite(values[i]!)) continue;
    if (i - prev > 1) {
      const a = values[prev]!;
      const b = values[i]!;
      for (let j = prev + 1; j < i; j++) out[j] = a + ((b - a) * (j - prev)) / (i - prev);
    }
    prev = i;
  }
  for (let i = prev + 1; i < n; i++) out[i] = values[prev]!;
  return out;
}

/** Drops leading missing values (a series starts at its first observation), then interpolates the rest. */
export function cleanSeries(values: Float64Array): Float64Array {
  let start = 0;
  while (start < values.length && !Number.isFinite(values[start]!)) start++;
  return interpolateMissing(values.subarray(start));
}

/** Seeded uniform draws (mulberry32) with standard normal draws (Box–Muller). */
export class SeededRandom {
  private readonly next: () => number;
  private spare = NaN;
  constructor(seed = 42) {
    this.next = mulberry32(seed);
  }
  /** In (0, 1): shifted half a step up from mulberry32's [0, 1) so that log(u) stays finite. */
  uniform(): number {
    return this.next() + 0.5 / 4294967296;
  }
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    const u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/**
 * The centred moving average of order m at t (2×m for even m: half weight on both ends), the
 * trend of R's `decompose`. Needs `floor(m/2)` values on both sides of t.
 */
export function centredMovingAverage(y: Float64Array, t: number, m: number): number {
  const half = Math.floor(m / 2);
  let s = 0;
  if (m % 2 === 0) {
    s = 0.5 * (y[t - half]! + y[t + half]!);
    for (let j = t - half + 1; j < t + half; j++) s += y[j]!;
  } else {
    for (let j = t - half; j <= t + half; j++) s += y[j]!;
  }
  return s / m;
}

/**
 * Classical decomposition seasonal indices (R `decompose`): a centred moving average of
 * order m (2×m for even m) as trend, then the mean of detrended values per season position,
 * normalised to sum 0 (additive) or average 1 (multiplicative). `index[k]` belongs to the
 * positions `t ≡ k (mod m)` of `y`.
 */
export function seasonalIndices(y: Float64Array, m: number, multiplicative: boolean): Float64Array {
  const n = y.length;
  const sum = new Float64Array(m);
  const count = new Float64Array(m);
  const half = Math.floor(m / 2);
  for (let t = half; t < n - half; t++) {
    const trend = centredMovingAverage(y, t, m);
    const k = t % m;
    sum[k] = sum[k]! + (multiplicative ? y[t]! / trend : y[t]! - trend);
    count[k] = count[k]! + 1;
  }
  const index = new Float64Array(m);
  let total = 0;
  for (let k = 0; k < m; k++) {
    index[k] = count[k]! > 0 ? sum[k]! / count[k]! : multiplicative ? 1 : 0;
    total += index[k]!;
  }
  const centre = total / m;
  for (let k = 0; k < m; k++) index[k] = multiplicative ? index[k]! / centre : index[k]! - centre;
  return index;
}

/**
 * Conformal calibration of a forecast's intervals from its own backtest errors (the one place the
 * engine corrects a model's variance). For each held-out point, `intervalRatio` is the distance
 * of the actual from the median in units of the forecast's 80 % half-width on that side; the
 * 0.8-quantile of those ratios is the factor that would have made the 80 % interval cover 80 %
 * of the backtest points. `scaleQuantiles` stretches every quantile's distance from the median
 * by that factor, so quantiles stay ordered and the median stays put.
 */
export const CALIBRATION_LOWER = 0.1;
export const CALIBRATION_UPPER = 0.9;
/** The quantiles a calibrating backtest asks for: the 80 % band and the median it scales around. */
export const CALIBRATION_QUANTILES: readonly number[] = [CALIBRATION_LOWER, 0.5, CALIBRATION_UPPER];

/** Ratios of the finite actuals of one backtest window (NaN where the band has no width). */
export function intervalRatios(actual: Float64Array, prediction: Prediction, out: number[]): void {
  const lo = prediction.quantiles.get(CALIBRATION_LOWER);
  const mid = prediction.quantiles.get(0.5);
  const hi = prediction.quantiles.get(CALIBRATION_UPPER);
  if (!lo || !mid || !hi) throw new Error('intervalRatios needs the 0.1, 0.5 and 0.9 quantiles');
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i]!;
    if (Number.isNaN(y)) continue;
    const above = y >= mid[i]!;
    const width = above ? hi[i]! - mid[i]! : mid[i]! - lo[i]!;
    const distance = Math.abs(y - mid[i]!);
    // A band of no width cannot be stretched; its points say nothing about the factor.
    if (width > 1e-9 * (Math.abs(mid[i]!) + 1)) out.push(distance / width);
  }
}

/**
 * The interval factor from backtest ratios: their 0.8-quantile, shrunk towards 1 in log space by
 * evidence/(evidence + 1), where `evidence` counts independent windows (points inside one window
 * share its errors, so the evidence grows with the windows, not with the points; overlapping
 * windows count once — calibration.ts, `independentWindows`), within [1/4, 4]. 1 without ratios.
 */
export function conformalScale(ratios: readonly number[], evidence: number): number {
  if (ratios.length === 0 || !(evidence > 0)) return 1;
  const sorted = Float64Array.from(ratios).sort();
  const pos = (CALIBRATION_UPPER - CALIBRATION_LOWER) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const raw = sorted[lo]! + (pos - lo) * (sorted[Math.min(sorted.length - 1, lo + 1)]! - sorted[lo]!);
  // z_0.9 / z_0.9 = 1: the ratio a calibrated 80 % band gives its 80th-percentile point.
  const factor = raw > 0 ? raw : 1;
  const shrunk = Math.exp((evidence / (evidence + 1)) * Math.log(factor));
  return Math.min(4, Math.max(0.25, shrunk));
}

/** Every requested quantile moved to median + factor·(quantile − median); `prediction` must hold 0.5. */
export function scaleQuantiles(prediction: Prediction, factor: number, quantiles: readonly number[]): Prediction {
  const mid = prediction.quantiles.get(0.5);
  if (!mid) throw new Error('scaleQuantiles needs the 0.5 quantile');
  const out = new Map<number, Float64Array>();
  for (const q of quantiles) {
    const v = prediction.quantiles.get(q);
    if (!v) throw new Error(`scaleQuantiles: no forecast for quantile ${q}`);
    const scaled = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) scaled[i] = mid[i]! + factor * (v[i]! - mid[i]!);
    out.set(q, scaled);
  }
  return { mean: prediction.mean, quantiles: out };
}

/** `quantiles` with the calibration quantiles added (what a calibrated model asks its base for). */
export function withCalibrationQuantiles(quantiles: readonly number[]): number[] {
  return [...new Set([...quantiles, ...CALIBRATION_QUANTILES])].sort((a, b) => a - b);
}
