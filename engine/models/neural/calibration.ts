/**
 * Calibrated intervals for the global models (CNN-QR, DeepAR+), from their one training.
 *
 * The local models fit again before up to three backtest origins (engine/models/calibration.ts);
 * a global model's training is nearly all of its cost, so it trains once with the last horizon of
 * every series held out as targets (windowSampler's `heldOut`), forecasts that window from the
 * history before it, and measures how far the actuals fall from the median in units of its own
 * 80 % half-width (`intervalRatios`). The forecast itself reads the whole history as its context
 * (the held-out periods included), and every quantile is stretched around the median by the
 * conformal factor of those ratios (`conformalScale`, `scaleQuantiles`). The network never sees
 * the held-out periods as targets, so its intervals are judged out of sample.
 *
 * Evidence: each series' held-out window counts as one window of `conformalScale` (points inside
 * a window share its errors; different items' errors are far less alike).
 */
import { conformalScale, intervalRatios, scaleQuantiles, withCalibrationQuantiles } from '../quantiles';
import type { Prediction } from '../types';
import { forecastWindows, type Panel, type Window } from './panel';

/** A series can lend its last `horizon` periods to a validation window and still train (PerformHPO's rule too). */
export function canHoldOut(length: number, horizon: number): boolean {
  return length > 2 * horizon + 1;
}

/**
 * Periods held out at the end of every series: the horizon, when calibration is on and at least
 * one series can hold it out (`canHoldOut`); otherwise 0 (the intervals stay the network's own).
 */
export function calibrationHoldout(panel: Panel, enabled = true): number {
  return enabled && panel.series.some((s) => canHoldOut(s.scaled.length, panel.horizon)) ? panel.horizon : 0;
}

/**
 * The interval factor from the held-out forecasts (one a series, from `forecastWindows(panel,
 * heldOut)`, in the data's units): 1 when nothing was held out or nothing could be scored.
 */
export function heldOutIntervalFactor(panel: Panel, heldOut: number, predictions: readonly Prediction[]): number {
  if (heldOut <= 0) return 1;
  const ratios: number[] = [];
  let windows = 0;
  panel.series.forEach((s, i) => {
    const n = s.raw.length;
    // A window with nothing before it forecast blind: it says nothing about the model's band.
    if (n - heldOut < 1) return;
    const before = ratios.length;
    intervalRatios(s.raw.subarray(n - heldOut), predictions[i]!, ratios);
    if (ratios.length > before) windows++;
  });
  return conformalScale(ratios, windows);
}

/**
 * A trained network's forecast with calibrated intervals: `predict(windows, levels, heldOutPass)`
 * forecasts one window a series at the given quantile levels; it runs on the held-out windows
 * (when `heldOut` > 0) and on the forecast windows, and the forecast's `quantiles` are stretched by
 * the held-out factor. `note` is for the model's description ('' when calibration is off).
 */
export function calibratedForecast(
  panel: Panel,
  heldOut: number,
  enabled: boolean,
  quantiles: readonly number[],
  predict: (windows: readonly Window[], levels: readonly number[], heldOutPass: boolean) => Prediction[],
): { predictions: Prediction[]; note: string } {
  const levels = withCalibrationQuantiles(quantiles);
  const factor = heldOut > 0 ? heldOutIntervalFactor(panel, heldOut, predict(forecastWindows(panel, heldOut), levels, true)) : 1;
  const predictions = predict(forecastWindows(panel), levels, false).map((p) => scaleQuantiles(p, factor, quantiles));
  return { predictions, note: enabled ? calibrationNote(heldOut, factor) : '' };
}

/** The description's note of what calibration did. */
export function calibrationNote(heldOut: number, factor: number): string {
  return heldOut > 0
    ? `; intervals × ${factor.toFixed(3)} (conformal, from the held-out last ${heldOut} periods)`
    : '; intervals uncalibrated (no series long enough to hold out a horizon)';
}
