/**
 * The data side of the global models (CNN-QR, DeepAR+): a panel of series turned into scaled
 * targets and per-step features, and training windows sampled across all the items.
 *
 * - Item scaling: each series is divided by the mean absolute value of its observed history (1
 *   when that is 0), so one network fits items of any size; log(scale), centred over the panel,
 *   is a static feature (big and small sellers may behave differently).
 * - Features known in the future, one row per step over history + horizon: calendar (day of week
 *   and hour of day as sin/cos pairs, day of year as three harmonics), the value one year earlier
 *   (scaled, with an observed flag: yearly patterns such as Christmas are beyond any context
 *   window) and every related numeric series, standardised over the panel.
 * - Missing target values (NaN) enter as 0 with an `observed` flag of 0 and are left out of the loss.
 */
import { futureTimestamps, syntheticTimestamps } from '../calendar';
import { mulberry32 } from '../random';
import { NotEnoughData, type SeriesData } from '../types';

export interface PanelSeries {
  /** Target divided by `scale`, 0 where missing; length n. */
  readonly scaled: Float32Array;
  /** The target as given (NaN where missing); length n. */
  readonly raw: Float64Array;
  /** 1 where the target was observed; length n. */
  readonly observed: Float32Array;
  /** Known features, (n + horizon) rows of `featureCount`, row-major. */
  readonly features: Float32Array;
  readonly scale: number;
  /** log(scale) centred over the panel. */
  readonly logScale: number;
}

export interface Panel {
  readonly series: PanelSeries[];
  readonly horizon: number;
  readonly featureCount: number;
  /** Names of the related series used as features (the rest are calendar features). */
  readonly related: readonly string[];
}

/** Calendar (10) then last year's value and its observed flag (2); related series follow. */
const CALENDAR_FEATURES = 14;
const KNOWN_FEATURES = CALENDAR_FEATURES + 2;
/** Feature columns of last year's value (item-scaled) and of its observed flag. */
export const YEAR_LAG_FEATURE = CALENDAR_FEATURES;
export const YEAR_LAG_OBSERVED = CALENDAR_FEATURES + 1;
const DAY_MS = 86_400_000;

function calendarRow(t: Date, out: Float32Array, offset: number): void {
  const dow = t.getUTCDay() / 7;
  const startOfYear = Date.UTC(t.getUTCFullYear(), 0, 1);
  const doy = (t.getTime() - startOfYear) / DAY_MS / 365.25;
  const hour = (t.getUTCHours() + t.getUTCMinutes() / 60) / 24;
  out[offset] = Math.sin(2 * Math.PI * dow);
  out[offset + 1] = Math.cos(2 * Math.PI * dow);
  out[offset + 2] = Math.sin(2 * Math.PI * hour);
  out[offset + 3] = Math.cos(2 * Math.PI * hour);
  for (let k = 1; k <= 3; k++) {
    out[offset + 2 + 2 * k] = Math.sin(2 * Math.PI * k * doy);
    out[offset + 3 + 2 * k] = Math.cos(2 * Math.PI * k * doy);
  }
  for (let k = 2; k <= 3; k++) {
    out[offset + 6 + 2 * k] = Math.sin(2 * Math.PI * k * dow);
    out[offset + 7 + 2 * k] = Math.cos(2 * Math.PI * k * dow);
  }
}

/**
 * Periods in a year whole weeks apart for daily data (364: the same weekday), from the season
 * length; undefined when the frequency has no yearly cycle the engine knows.
 */
function yearLag(seasonLength: number): number | undefined {
  const lags: Record<number, number> = { 7: 364, 52: 52, 12: 12, 4: 4, 24: 364 * 24 };
  return lags[seasonLength];
}

/** Period starts over history + horizon: the given ones, continued on their grid when short. */
function stepTimestamps(series: SeriesData, total: number): Date[] {
  const n = series.values.length;
  const given = series.timestamps && series.timestamps.length >= Math.min(n, 2) && n >= 2 ? series.timestamps : syntheticTimestamps(Math.max(n, 2), series.seasonLength);
  if (given.length >= total) return given.slice(0, total);
  return [...given, ...futureTimestamps(given, total - given.length)];
}

/** Mean absolute observed value (1 when there is none or it is 0). */
function itemScale(values: Float64Array): number {
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      sum += Math.abs(v);
      count++;
    }
  }
  const mean = count ? sum / count : 0;
  return mean > 1e-8 ? mean : 1;
}

/** Builds the panel; related series must cover `horizon` steps past each series' end (Forecast's rule). */
export function buildPanel(data: readonly SeriesData[], horizon: number): Panel {
  if (!data.length) throw new NotEnoughData('A global model needs at least one series');
  const related = [...new Set(data.flatMap((s) => Object.keys(s.related ?? {})))].sort();
  // Standardise each related series over the whole panel (history and future).
  const moments = related.map((name) => {
    let sum = 0;
    let sq = 0;
    let count = 0;
    for (const s of data) {
      const values = s.related?.[name];
      if (!values) continue;
      for (const v of values) {
        if (!Number.isFinite(v)) continue;
        sum += v;
        sq += v * v;
        count++;
      }
    }
    const mean = count ? sum / count : 0;
    const sd = count ? Math.sqrt(Math.max(0, sq / count - mean * mean)) : 0;
    return { mean, sd: sd > 1e-12 ? sd : 1 };
  });
  const featureCount = KNOWN_FEATURES + related.length;
  const scales = data.map((s) => itemScale(s.values));
  const meanLog = scales.reduce((a, s) => a + Math.log(s), 0) / scales.length;
  const series = data.map((s, index): PanelSeries => {
    const n = s.values.length;
    const total = n + horizon;
    const scale = scales[index]!;
    const scaled = new Float32Array(n);
    const observed = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      const v = s.values[t]!;
      if (Number.isFinite(v)) {
        scaled[t] = v / scale;
        observed[t] = 1;
      }
    }
    const features = new Float32Array(total * featureCount);
    const timestamps = stepTimestamps(s, total);
    for (let t = 0; t < total; t++) calendarRow(timestamps[t]!, features, t * featureCount);
    const lag = yearLag(s.seasonLength);
    if (lag !== undefined && lag <= horizon + n) {
      for (let t = lag; t < total; t++) {
        const v = t - lag < n ? s.values[t - lag]! : NaN;
        if (!Number.isFinite(v)) continue;
        features[t * featureCount + CALENDAR_FEATURES] = v / scale;
        features[t * featureCount + CALENDAR_FEATURES + 1] = 1;
      }
    }
    related.forEach((name, r) => {
      const values = s.related?.[name];
      if (!values) return; // a series without this related column: 0 = the panel mean
      if (values.length < total) {
        throw new NotEnoughData(`Related series "${name}" covers ${Math.max(0, values.length - n)} of the ${horizon} forecast steps; it must cover the whole forecast horizon`);
      }
      const { mean, sd } = moments[r]!;
      for (let t = 0; t < total; t++) {
        const v = values[t]!;
        features[t * featureCount + KNOWN_FEATURES + r] = Number.isFinite(v) ? (v - mean) / sd : 0;
      }
    });
    return { scaled, raw: s.values, observed, features, scale, logScale: Math.log(scale) - meanLog };
  });
  return { series, horizon, featureCount, related };
}

/** Floor of a window's spread, in units of the item's scale (a flat context must not blow the targets up). */
const SPREAD_FLOOR = 0.02;

/**
 * Location and spread of the observed values before a window (its context, at least four seasons;
 * in item-scaled units): targets and history enter as (value − mean) / spread. Dividing by the level alone (mean |y|) makes the loss
 * weigh an item's errors by 1 / its level, which on log1p-transformed data (the pipeline's
 * default: levels 1–6 for a 2- to 400-unit seller) under-weighs the big sellers 3–4×; a spread is
 * the same kind of number for raw and for log data.
 */
export function contextMoments(s: PanelSeries, start: number, context: number, seasonLength: number): { mean: number; spread: number } {
  // At least four seasons: a week of daily data holds one or two promotion days, which would move
  // a 7-value mean and spread by as much as the effect the network is to learn.
  const periods = Math.max(context, 4 * Math.max(1, seasonLength));
  let sum = 0;
  let squares = 0;
  let count = 0;
  for (let t = Math.max(0, start - periods); t < start; t++) {
    if (!s.observed[t]) continue;
    sum += s.scaled[t]!;
    squares += s.scaled[t]! * s.scaled[t]!;
    count++;
  }
  if (!count) return { mean: 0, spread: 1 };
  const mean = sum / count;
  return { mean, spread: Math.max(SPREAD_FLOOR, Math.sqrt(Math.max(0, squares / count - mean * mean))) };
}

/** A training window: series `series`, forecast start `start` (the target covers start … start + horizon − 1). */
export interface Window {
  readonly series: number;
  readonly start: number;
}

/**
 * Windows whose horizon lies inside the observed history, drawn with a seeded generator: a series
 * uniformly, then a start uniformly among that series' valid starts (at least one value before).
 * With `heldOut`, the last `heldOut` periods of every series are never a target (the calibration
 * window, engine/models/neural/calibration.ts). NotEnoughData when no series is long enough.
 */
export function windowSampler(panel: Panel, seed: number, heldOut = 0): () => Window {
  const usable = panel.series.map((s, i) => ({ i, last: s.scaled.length - panel.horizon - heldOut })).filter((u) => u.last >= 1);
  if (!usable.length) throw new NotEnoughData(`No series is longer than the forecast horizon (${panel.horizon}) plus one period: nothing to train on`);
  const random = mulberry32(seed);
  return () => {
    const u = usable[Math.floor(random() * usable.length)]!;
    return { series: u.i, start: 1 + Math.floor(random() * u.last) };
  };
}

/**
 * One window a series, forecasting from `before` periods ahead of its end: 0 = the forecast (start =
 * its length), the held-out length = the calibration window's forecast.
 */
export function forecastWindows(panel: Panel, before = 0): Window[] {
  return panel.series.map((s, i) => ({ series: i, start: s.scaled.length - before }));
}

/** Features of step `t` of series `s` into `out` at `offset` (zeros outside the series). */
export function copyFeatures(s: PanelSeries, featureCount: number, t: number, out: Float32Array, offset: number): void {
  if (t < 0 || (t + 1) * featureCount > s.features.length) return;
  out.set(s.features.subarray(t * featureCount, (t + 1) * featureCount), offset);
}
