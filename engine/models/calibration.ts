/**
 * Backtests on a series' own tail, and the calibrated wrapper every engine model runs in.
 *
 * `backtestCuts` places rolling forecast origins on the tail: the last `windows` horizons when the
 * series is long enough, closer together (overlapping windows) on short series, none when even
 * one origin would leave too little to train on. `calibrated(spec)` fits the model before each
 * origin, collects how far the held-out actuals fall from the median in units of the model's own
 * 80 % half-width, and stretches (or narrows) the final forecast's quantiles by the factor that
 * would have covered 80 % of them (engine/models/quantiles.ts, `conformalScale`), trusted as far as the
 * windows are independent evidence (`independentWindows`).
 */
import { CALIBRATION_QUANTILES, conformalScale, intervalRatios, scaleQuantiles, withCalibrationQuantiles } from './quantiles';
import { NotEnoughData, type FittedModel, type ModelSpec, type Prediction, type SeriesData } from './types';

export interface BacktestCut {
  /** Training length: the model sees values[0, cut). */
  readonly cut: number;
  /** Held-out points scored: values[cut, cut + length). */
  readonly length: number;
}

/** Training points an origin leaves at least (a season and two points for seasonal data, so seasonal naive can fit). */
export function minimumTraining(seasonLength: number): number {
  return Math.max(8, seasonLength > 1 ? seasonLength + 2 : 0);
}

/**
 * Up to `windows` origins, most recent last: spaced one horizon apart when the series allows,
 * otherwise evenly over what is left after the minimum training length (windows then overlap and
 * the last one may be shorter than the horizon).
 */
export function backtestCuts(n: number, horizon: number, seasonLength: number, windows: number): BacktestCut[] {
  const room = n - minimumTraining(seasonLength);
  if (room < 1 || windows < 1) return [];
  const count = Math.min(windows, room);
  const step = Math.max(1, Math.min(horizon, Math.floor(room / count)));
  const cuts: BacktestCut[] = [];
  for (let k = count; k >= 1; k--) {
    const cut = n - k * step;
    cuts.push({ cut, length: Math.min(horizon, n - cut) });
  }
  return cuts;
}

/** The series before `cut` (raw values: each model cleans its own input, timestamps stay aligned). */
export function trainingPart(series: SeriesData, cut: number): SeriesData {
  return { ...series, values: series.values.subarray(0, cut), timestamps: series.timestamps?.slice(0, cut) };
}

/**
 * The model's backtest forecasts from each training part (`trainingPart` at each cut; `undefined`
 * where it cannot fit: NotEnoughData), with `quantiles` (which must include the calibration
 * quantiles to be calibrated from).
 */
export async function backtestPredictions(
  spec: ModelSpec,
  parts: readonly SeriesData[],
  horizon: number,
  quantiles: readonly number[],
): Promise<(Prediction | undefined)[]> {
  const out: (Prediction | undefined)[] = [];
  for (const part of parts) {
    try {
      const fitted = await spec.fit(part);
      out.push(fitted.predict(horizon, quantiles));
      fitted.dispose?.();
    } catch (error) {
      if (!(error instanceof NotEnoughData)) throw error;
      out.push(undefined);
    }
  }
  return out;
}

/**
 * How many independent windows' worth of held-out points the scored windows hold: the distinct
 * points they cover over `horizon`, at most the number of windows. Three windows one horizon apart
 * are 3; on a short series the windows overlap and the last ones are short (20 points, horizon 12:
 * windows at 8, 12 and 16 cover 12 points, 1 window's worth), and their ratios share the same few
 * errors — counting them as three windows trusted the factor as if it were three times the evidence.
 */
export function independentWindows(cuts: readonly BacktestCut[], horizon: number): number {
  if (cuts.length === 0 || horizon < 1) return 0;
  const covered = new Set<number>();
  for (const { cut, length } of cuts) for (let i = cut; i < cut + length; i++) covered.add(i);
  return Math.min(cuts.length, covered.size / horizon);
}

/**
 * The conformal interval factor of backtest forecasts against the held-out actuals, shrunk by the
 * evidence of the windows scored (`independentWindows`; `conformalScale`). 1 when none was scored.
 */
export function intervalFactor(values: Float64Array, cuts: readonly BacktestCut[], predictions: readonly (Prediction | undefined)[], horizon: number): number {
  const ratios: number[] = [];
  const scored: BacktestCut[] = [];
  cuts.forEach((window, w) => {
    const p = predictions[w];
    if (!p) return;
    scored.push(window);
    intervalRatios(values.subarray(window.cut, window.cut + window.length), p, ratios);
  });
  return conformalScale(ratios, independentWindows(scored, horizon));
}

/** A fitted model whose quantiles are stretched by `factor` around its median. */
export function scaledModel(fitted: FittedModel, factor: number): FittedModel & { readonly intervalFactor: number } {
  return {
    description: fitted.description,
    intervalFactor: factor,
    predict(horizon, quantiles, future) {
      const p = fitted.predict(horizon, withCalibrationQuantiles(quantiles), future);
      return scaleQuantiles(p, factor, quantiles);
    },
    ...(fitted.dispose ? { dispose: () => fitted.dispose!() } : {}),
  };
}

export interface CalibrationOptions {
  readonly horizon: number;
  /** Backtest origins the factor is measured on. Default 3. */
  readonly windows?: number;
}

/** `spec` with conformally calibrated intervals (see the file comment); the point forecast is the model's. */
export function calibrated(spec: ModelSpec, options: CalibrationOptions): ModelSpec {
  const windows = options.windows ?? 3;
  return {
    algorithm: spec.algorithm,
    async fit(series: SeriesData) {
      const cuts = backtestCuts(series.values.length, options.horizon, series.seasonLength, windows);
      const parts = cuts.map(({ cut }) => trainingPart(series, cut));
      const predictions = await backtestPredictions(spec, parts, options.horizon, CALIBRATION_QUANTILES);
      const fitted = await spec.fit(series);
      return scaledModel(fitted, intervalFactor(series.values, cuts, predictions, options.horizon));
    },
  };
}
