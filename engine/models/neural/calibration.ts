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
import { conformalScale, intervalRatios, scaleQuantiles } from '../quantiles';
import type { Prediction } from '../types';
import type { Panel } from './panel';

/**
 * Periods held out at the end of every series: the horizon, when at least one series keeps more
 * than horizon + 1 periods to train on (as PerformHPO's validation split); otherwise 0 (the
 * intervals stay the network's own).
 */
export function calibrationHoldout(panel: Panel): number {
  const h = panel.horizon;
  return panel.series.some((s) => s.scaled.length > 2 * h + 1) ? h : 0;
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

/** The forecasts with their `quantiles` stretched by `factor` around the median. */
export function calibratedPredictions(predictions: readonly Prediction[], factor: number, quantiles: readonly number[]): Prediction[] {
  return predictions.map((p) => scaleQuantiles(p, factor, quantiles));
}

/** The description's note of what calibration did. */
export function calibrationNote(heldOut: number, factor: number): string {
  return heldOut > 0
    ? `; intervals × ${factor.toFixed(3)} (conformal, from the held-out last ${heldOut} periods)`
    : '; intervals uncalibrated (no series long enough to hold out a horizon)';
}
