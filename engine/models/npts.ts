/**
 * NPTS — non-parametric time series forecaster, after GluonTS' `NPTSPredictor` (the algorithm
 * behind Amazon Forecast's NPTS). Each forecast step samples one past value of the series (or of
 * the sample path so far) with weights `q_T(t)`:
 * - exponential kernel (NPTS): `exp(-λ · Σ_i |f_i(t) − f_i(T)|)` with the time index rescaled to
 *   [-0.5, 0.5] as `f_1` and, for the seasonal variant, one calendar feature scaled by 1000;
 * - uniform kernel (climatological): 1 for every past point, or — seasonal — for the points
 *   whose calendar feature equals that of `T`.
 * Sample paths are autoregressive (a later step may re-sample an earlier sampled value), so every
 * forecast is one of the observed values. Deterministic for a given seed.
 */
import { calendarUnit, futureTimestamps, type CalendarUnit } from './calendar';
import { mulberry32 } from './random';
import { InvalidModelSpec, NotEnoughData, type FittedModel, type ModelSpec, type Prediction, type SeriesData } from './types';

export interface NptsOptions {
  /** `exponential` = NPTS, `uniform` = climatological. Default `exponential`. */
  readonly kernel?: 'exponential' | 'uniform';
  /** Weight past points by a calendar feature of the timestamp as well. Default `true`. */
  readonly seasonal?: boolean;
  /** λ of the exponential kernel (Forecast's `exp_kernel_weights`). Default 1. */
  readonly expKernelWeights?: number;
  /** Number of most recent points used (Forecast default: the whole series). */
  readonly contextLength?: number;
  /** Sample paths drawn per forecast. Default 100 (as GluonTS). */
  readonly numSamples?: number;
  /** Seed of the sampler. Default 0. */
  readonly seed?: number;
}

/** Scale of the calendar feature relative to the time index (GluonTS `feature_scale`). */
const FEATURE_SCALE = 1000;


/** Creates an NPTS model spec; the four Forecast variants are `kernel` × `seasonal`. */
export function npts(options: NptsOptions = {}): ModelSpec {
  const kernel = options.kernel ?? 'exponential';
  const seasonal = options.seasonal ?? true;
  const lambda = options.expKernelWeights ?? 1;
  const numSamples = options.numSamples ?? 100;
  const seed = options.seed ?? 0;
  const contextLength = options.contextLength;
  if (kernel !== 'exponential' && kernel !== 'uniform') {
    throw new InvalidModelSpec(`NPTS kernel must be "exponential" or "uniform", got ${JSON.stringify(kernel)}`);
  }
  if (!(lambda > 0) || !Number.isFinite(lambda)) {
    throw new InvalidModelSpec(`NPTS expKernelWeights must be a positive number, got ${lambda}`);
  }
  if (!Number.isInteger(numSamples) || numSamples < 1) {
    throw new InvalidModelSpec(`NPTS numSamples must be a positive integer, got ${numSamples}`);
  }
  if (contextLength !== undefined && (!Number.isInteger(contextLength) || contextLength < 1)) {
    throw new InvalidModelSpec(`NPTS contextLength must be a positive integer, got ${contextLength}`);
  }
  return {
    algorithm: 'NPTS',
    fit(series: SeriesData): FittedModel {
      const n = series.values.length;
      const start = contextLength === undefined ? 0 : Math.max(0, n - contextLength);
      const values = series.values.slice(start);
      if (!values.some((v) => !Number.isNaN(v))) {
        throw new NotEnoughData('NPTS needs at least one observed value in the context window');
      }
      const timestamps = series.timestamps?.slice(start);
      const unit = timestamps && timestamps.length >= 2 ? calendarUnit(timestamps) : undefined;
      const name = `${seasonal ? 'Seasonal ' : ''}${kernel === 'exponential' ? 'NPTS' : 'Climatological'}`;
      return {
        description: name,
        predict(horizon, quantiles, future): Prediction {
          const seasonFeature = seasonal
            ? seasonalFeature(values.length, horizon, series.seasonLength, timestamps, unit, future?.timestamps)
            : undefined;
          const samples = samplePaths(values, horizon, { kernel, lambda, numSamples, seed, seasonFeature });
          return summarise(samples, numSamples, horizon, quantiles);
        },
      };
    },
  };
}

interface SamplerConfig {
  readonly kernel: 'exponential' | 'uniform';
  readonly lambda: number;
  readonly numSamples: number;
  readonly seed: number;
  /** Calendar feature in [-0.5, 0.5] for the context and horizon (length n + h), or undefined. */
  readonly seasonFeature: Float64Array | undefined;
}

/** Sample paths, row-major `numSamples × horizon`. */
function samplePaths(values: Float64Array, horizon: number, cfg: SamplerConfig): Float64Array {
  const n = values.length;
  const total = n + horizon;
  const { numSamples, seasonFeature } = cfg;
  const rand = mulberry32(cfg.seed);
  // Each path: the context followed by its sampled values.
  const paths = new Float64Array(numSamples * total);
  for (let s = 0; s < numSamples; s++) paths.set(values, s * total);
  const weights = new Float64Array(total);
  const cumulative = new Float64Array(total);
  const timeScale = total > 1 ? 1 / (total - 1) : 0;
  for (let step = 0; step < horizon; step++) {
    const T = n + step;
    let maxLog = -Infinity;
    for (let t = 0; t < T; t++) {
      let logW: number;
      if (cfg.kernel === 'exponential') {
        let dist = Math.abs(t - T) * timeScale;
        if (seasonFeature) dist += FEATURE_SCALE * Math.abs(seasonFeature[t]! - seasonFeature[T]!);
        logW = -cfg.lambda * dist;
      } else {
        logW = seasonFeature && seasonFeature[t] !== seasonFeature[T] ? -Infinity : 0;
      }
      weights[t] = logW;
      if (logW > maxLog) maxLog = logW;
    }
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const w = t < n && Number.isNaN(values[t]!) ? 0 : Math.exp(weights[t]! - maxLog);
      weights[t] = w;
      sum += w;
    }
    if (!(sum > 0)) {
      // Every point of the season is missing: sample uniformly from the observed points (as GluonTS).
      sum = 0;
      for (let t = 0; t < T; t++) {
        weights[t] = t < n && Number.isNaN(values[t]!) ? 0 : 1;
        sum += weights[t]!;
      }
    }
    let acc = 0;
    for (let t = 0; t < T; t++) {
      acc += weights[t]!;
      cumulative[t] = acc;
    }
    for (let s = 0; s < numSamples; s++) {
      const index = searchCumulative(cumulative, T, rand() * acc);
      const row = s * total;
      paths[row + T] = paths[row + index]!;
    }
  }
  const out = new Float64Array(numSamples * horizon);
  for (let s = 0; s < numSamples; s++) out.set(paths.subarray(s * total + n, (s + 1) * total), s * horizon);
  return out;
}

/** First index whose cumulative weight exceeds `u` (skips zero-weight points). */
function searchCumulative(cumulative: Float64Array, length: number, u: number): number {
  let lo = 0;
  let hi = length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Mean and quantiles of the sample paths; a quantile is a sample (nearest rank, as GluonTS). */
function summarise(samples: Float64Array, numSamples: number, horizon: number, quantiles: readonly number[]): Prediction {
  const mean = new Float64Array(horizon);
  const out = new Map<number, Float64Array>();
  for (const q of quantiles) out.set(q, new Float64Array(horizon));
  const column = new Float64Array(numSamples);
  for (let j = 0; j < horizon; j++) {
    let sum = 0;
    for (let s = 0; s < numSamples; s++) {
      column[s] = samples[s * horizon + j]!;
      sum += column[s]!;
    }
    mean[j] = sum / numSamples;
    column.sort();
    for (const q of quantiles) out.get(q)![j] = column[Math.round((numSamples - 1) * q)]!;
  }
  return { mean, quantiles: out };
}

/**
 * The calendar feature for the seasonal variant, GluonTS' first default time feature for the
 * frequency: minute-of-hour, hour-of-day, day-of-week (D), day-of-month (W), month-of-year (M),
 * each scaled to [-0.5, 0.5]. Without timestamps the phase within `seasonLength` stands in.
 */
function seasonalFeature(
  n: number,
  horizon: number,
  seasonLength: number,
  timestamps: readonly Date[] | undefined,
  unit: CalendarUnit | undefined,
  futureGiven: readonly Date[] | undefined,
): Float64Array | undefined {
  const feature = new Float64Array(n + horizon);
  if (timestamps && unit) {
    if (unit === 'year') return undefined;
    const future = futureGiven && futureGiven.length >= horizon ? futureGiven : futureTimestamps(timestamps, horizon);
    for (let i = 0; i < n + horizon; i++) feature[i] = calendarFeature(i < n ? timestamps[i]! : future[i - n]!, unit);
    return feature;
  }
  if (seasonLength <= 1) return undefined;
  for (let i = 0; i < n + horizon; i++) feature[i] = (i % seasonLength) / (seasonLength - 1) - 0.5;
  return feature;
}

function calendarFeature(t: Date, unit: CalendarUnit): number {
  switch (unit) {
    case 'minute':
      return t.getUTCMinutes() / 59 - 0.5;
    case 'hour':
      return t.getUTCHours() / 23 - 0.5;
    case 'day':
      return ((t.getUTCDay() + 6) % 7) / 6 - 0.5; // Monday = 0, as pandas
    case 'week':
      return (t.getUTCDate() - 1) / 30 - 0.5;
    case 'month':
      return t.getUTCMonth() / 11 - 0.5;
    case 'year':
      return 0;
  }
}
