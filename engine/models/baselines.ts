/**
 * Benchmark models: naive, seasonal naive, the M4 Theta method and a seasonal-decomposition
 * + ETS model. Quantiles come from Gaussian intervals around the point forecast whose
 * width is derived from the in-sample residuals (as R's `naive`, `snaive` and `thetaf`).
 */
import { etsPredict, fitEtsForm, selectEts, type EtsFit } from './ets';
import { centredMovingAverage, cleanSeries, gaussianQuantiles, seasonalIndices, validateQuantiles } from './quantiles';
import { InvalidModelSpec, NotEnoughData, type FittedModel, type ModelSpec, type Prediction, type SeriesData } from './types';

function rootMeanSquare(values: Float64Array, from: number): number {
  let sum = 0;
  let count = 0;
  for (let i = from; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    sum += v * v;
    count++;
  }
  return count > 0 ? Math.sqrt(sum / count) : 0;
}

/** Repeats the value `lag` steps back; σ_h = σ·sqrt(⌊(h−1)/lag⌋ + 1) (R `lagwalk`). */
function lagWalk(algorithm: string, name: string, lagOf: (series: SeriesData) => number): ModelSpec {
  return {
    algorithm,
    fit(series: SeriesData): FittedModel {
      const y = cleanSeries(series.values);
      const lag = lagOf(series) <= y.length ? lagOf(series) : 1;
      if (y.length < lag + 1) throw new NotEnoughData(`${name} needs more than ${lag} observations, got ${y.length}`);
      const residuals = new Float64Array(y.length);
      for (let t = 0; t < y.length; t++) residuals[t] = t >= lag ? y[t]! - y[t - lag]! : NaN;
      const sigma = rootMeanSquare(residuals, lag);
      return {
        description: lag > 1 ? `${name}[${lag}]` : name,
        predict(horizon, quantiles): Prediction {
          validateQuantiles(quantiles);
          const mean = new Float64Array(horizon);
          const sd = new Float64Array(horizon);
          for (let h = 0; h < horizon; h++) {
            mean[h] = y[y.length - lag + (h % lag)]!;
            sd[h] = sigma * Math.sqrt(Math.floor(h / lag) + 1);
          }
          return { mean, quantiles: gaussianQuantiles(mean, sd, quantiles) };
        },
      };
    },
  };
}

/** Naive: the last value, random-walk intervals. */
export function naive(): ModelSpec {
  return lagWalk('NAIVE', 'Naive', () => 1);
}

/** Seasonal naive: the value one season back (naive when the season length is 1 or longer than the series). */
export function seasonalNaive(): ModelSpec {
  return lagWalk('SNAIVE', 'SeasonalNaive', (s) => Math.max(1, s.seasonLength));
}

/** Autocorrelations at lags 1..maxLag (R `acf`). */
function autocorrelations(y: Float64Array, maxLag: number): Float64Array {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let denom = 0;
  for (let i = 0; i < n; i++) denom += (y[i]! - mean) ** 2;
  const out = new Float64Array(maxLag);
  for (let k = 1; k <= maxLag; k++) {
    let s = 0;
    for (let i = k; i < n; i++) s += (y[i]! - mean) * (y[i - k]! - mean);
    out[k - 1] = denom > 0 ? s / denom : 0;
  }
  return out;
}

/** The M4 seasonality test: |acf_m| > 1.645·sqrt((1 + 2·Σ_{k<m} acf_k²)/n), on at least 3 seasons. */
export function seasonalityTest(y: Float64Array, m: number): boolean {
  if (m <= 1 || y.length < 3 * m) return false;
  const acf = autocorrelations(y, m);
  let sum = 1;
  for (let k = 0; k < m - 1; k++) sum += 2 * acf[k]! ** 2;
  return Math.abs(acf[m - 1]!) > (1.645 / Math.sqrt(y.length)) * Math.sqrt(sum);
}

/**
 * The M4 competition's Theta benchmark (`Theta.classic` after the M4 seasonal adjustment):
 * multiplicative decomposition when the seasonality test passes, then the average of the
 * linear trend (θ = 0 line) and SES on the θ = 2 line. Intervals: Gaussian with the
 * in-sample residual σ and SES variance growth σ²(1 + (h−1)α²), as R `thetaf`.
 */
export function theta(): ModelSpec {
  return {
    algorithm: 'THETA',
    fit(series: SeriesData): FittedModel {
      const y = cleanSeries(series.values);
      const n = y.length;
      if (n < 4) throw new NotEnoughData(`Theta needs at least 4 observations, got ${n}`);
      const m = series.seasonLength;
      let positive = true;
      for (let i = 0; i < n; i++) if (!(y[i]! > 0)) positive = false;
      const seasonal = positive && seasonalityTest(y, m);
      const index = seasonal ? seasonalIndices(y, m, true) : new Float64Array([1]);
      const mm = seasonal ? m : 1;
      const adjusted = new Float64Array(n);
      for (let t = 0; t < n; t++) adjusted[t] = y[t]! / index[t % mm]!;
      // θ = 0 line: least squares on t = 1..n.
      const meanT = (n + 1) / 2;
      let meanY = 0;
      for (let t = 0; t < n; t++) meanY += adjusted[t]!;
      meanY /= n;
      let sxy = 0;
      let sxx = 0;
      for (let t = 0; t < n; t++) {
        sxy += (t + 1 - meanT) * (adjusted[t]! - meanY);
        sxx += (t + 1 - meanT) ** 2;
      }
      const slope = sxy / sxx;
      const intercept = meanY - slope * meanT;
      const thetaLine = new Float64Array(n);
      for (let t = 0; t < n; t++) thetaLine[t] = 2 * adjusted[t]! - (intercept + slope * (t + 1));
      const ses = fitEtsForm(thetaLine, 1, { error: 'A', trend: 'N', damped: false, season: 'N' });
      if (!ses) throw new NotEnoughData('Theta: SES found no admissible fit');
      // In-sample one-step residuals of the combined forecast, on the original scale.
      const residuals = new Float64Array(n);
      for (let t = 0; t < n; t++) {
        const sesFitted = thetaLine[t]! - ses.residuals[t]!;
        const fitted = (0.5 * sesFitted + 0.5 * (intercept + slope * (t + 1))) * index[t % mm]!;
        residuals[t] = y[t]! - fitted;
      }
      const sigma = rootMeanSquare(residuals, 0);
      const alpha = ses.alpha;
      return {
        description: seasonal ? `Theta (seasonally adjusted, m=${m})` : 'Theta',
        predict(horizon, quantiles): Prediction {
          validateQuantiles(quantiles);
          const mean = new Float64Array(horizon);
          const sd = new Float64Array(horizon);
          for (let h = 1; h <= horizon; h++) {
            const si = index[(n + h - 1) % mm]!;
            mean[h - 1] = (0.5 * ses.level + 0.5 * (intercept + slope * (n + h))) * si;
            sd[h - 1] = sigma * Math.sqrt(1 + (h - 1) * alpha * alpha);
          }
          return { mean, quantiles: gaussianQuantiles(mean, sd, quantiles) };
        },
      };
    },
  };
}

export interface StlEtsOptions {
  /** Number of most recent seasons whose detrended values average into the seasonal profile. Default 11. */
  readonly seasonWindow?: number;
  /** Season length of the profile instead of the frequency's (a longer cycle, e.g. 168 for hourly data). */
  readonly seasonLength?: number;
}

/**
 * Seasonal decomposition + non-seasonal ETS (in the spirit of R `stlf(method = "ets")`):
 * the additive seasonal profile is the tricube-weighted mean detrended value per season
 * position over the last `seasonWindow` seasons (a local classical decomposition standing in
 * for STL's one-sided loess at the series end), ETS (error A/M, trend N/A/Ad, no season; β ≤ 0.2α)
 * forecasts the seasonally adjusted last `seasonWindow` seasons, and the profile is added back
 * to the point forecast and the quantiles.
 * Without seasonality (m = 1 or fewer than 3 seasons) it is plain non-seasonal ETS.
 */
export function stlEts(options: StlEtsOptions = {}): ModelSpec {
  const window = options.seasonWindow ?? 11;
  if (!(Number.isInteger(window) && window >= 1)) {
    throw new InvalidModelSpec(`stlEts seasonWindow must be a positive integer; got ${window}`);
  }
  return {
    algorithm: 'STL_ETS',
    fit(series: SeriesData): FittedModel {
      const y = cleanSeries(series.values);
      const n = y.length;
      const m = options.seasonLength ?? series.seasonLength;
      const seasonal = m > 1 && n >= 3 * m;
      const profile = seasonal ? recentSeasonalProfile(y, m, window) : new Float64Array(1);
      const mm = seasonal ? m : 1;
      const adjusted = new Float64Array(n);
      for (let t = 0; t < n; t++) adjusted[t] = y[t]! - profile[t % mm]!;
      let fit: EtsFit | undefined;
      let constant = true;
      for (let t = 1; t < n; t++) if (adjusted[t] !== adjusted[0]) constant = false;
      if (!constant) {
        // The profile describes the last `seasonWindow` seasons only, so ETS sees those.
        const recent = seasonal ? adjusted.subarray(Math.max(0, n - window * m)) : adjusted;
        fit = selectEts(recent, 1, { model: 'ZZN', betaShare: seasonal ? 0.2 : 1 });
      }
      if (!constant && !fit) throw new NotEnoughData(`STL+ETS found no ETS fit for ${n} observations`);
      return {
        description: fit ? `STL(m=${mm}) + ${fit.form.error}${fit.form.trend}${fit.form.damped ? 'd' : ''}N` : `STL(m=${mm}) constant`,
        predict(horizon, quantiles): Prediction {
          const base = fit
            ? etsPredict(fit, horizon, quantiles)
            : { mean: new Float64Array(horizon).fill(adjusted[0]!), quantiles: new Map(quantiles.map((q) => [q, new Float64Array(horizon).fill(adjusted[0]!)])) };
          const mean = Float64Array.from(base.mean);
          const out = new Map<number, Float64Array>();
          for (let h = 0; h < horizon; h++) mean[h] = mean[h]! + profile[(n + h) % mm]!;
          for (const [q, values] of base.quantiles) {
            const v = Float64Array.from(values);
            for (let h = 0; h < horizon; h++) v[h] = v[h]! + profile[(n + h) % mm]!;
            out.set(q, v);
          }
          return { mean, quantiles: out };
        },
      };
    },
  };
}

/** Additive seasonal profile from the last `window` seasons of detrended values (centred MA trend, tricube weights by age), summing to 0. */
function recentSeasonalProfile(y: Float64Array, m: number, window: number): Float64Array {
  const n = y.length;
  const half = Math.floor(m / 2);
  const sum = new Float64Array(m);
  const count = new Float64Array(m);
  const first = Math.max(half, n - half - window * m);
  for (let t = first; t < n - half; t++) {
    const k = t % m;
    // Tricube weights over the cycles back from the end, as STL's one-sided loess at the end.
    const back = Math.floor((n - half - 1 - t) / m) / window;
    const w = (1 - back ** 3) ** 3;
    sum[k] = sum[k]! + w * (y[t]! - centredMovingAverage(y, t, m));
    count[k] = count[k]! + w;
  }
  const profile = new Float64Array(m);
  let total = 0;
  for (let k = 0; k < m; k++) {
    profile[k] = count[k]! > 0 ? sum[k]! / count[k]! : 0;
    total += profile[k]!;
  }
  for (let k = 0; k < m; k++) profile[k] = profile[k]! - total / m;
  return profile;
}
