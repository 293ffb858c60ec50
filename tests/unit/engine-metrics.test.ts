import { describe, expect, it } from 'vitest';
import {
  accuracyMetrics, coverage, mase, naiveScale, observedNaiveScale, rmse, smape, summariseWindows, wape, weightedQuantileLoss, type ScoredSeries,
} from '../../engine/metrics';

const f = (...v: number[]) => Float64Array.from(v);
const q = (lo: number[], mid: number[], hi: number[]) => new Map([[0.1, f(...lo)], [0.5, f(...mid)], [0.9, f(...hi)]]);

// Two series, values chosen so every metric can be worked out by hand (see each expectation).
const window: ScoredSeries[] = [
  { actual: f(10, 20), mean: f(12, 18), quantiles: q([8, 15], [12, 18], [9.5, 22]), history: f(5, 7, 10) },
  { actual: f(0, 5), mean: f(1, 5), quantiles: q([0, 4], [1, 5], [2, 7]), history: f(1, 1, 4) },
];

describe('Function: weightedQuantileLoss', () => {
  it('pools the pinball loss over items and points, scaled by 2/Σ|y|', () => {
    // Prepare: Σ|y| = 35. τ=0.1: 0.1·2 + 0.1·5 + 0 + 0.1·1 = 0.8. τ=0.5: 1+1+0.5+0 = 2.5. τ=0.9: 0.9·0.5 + 0.1·2 + 0.1·2 + 0.1·2 = 1.05.
    // Act / Assess
    expect(weightedQuantileLoss(window, 0.1)).toBeCloseTo(1.6 / 35, 12);
    expect(weightedQuantileLoss(window, 0.5)).toBeCloseTo(5 / 35, 12);
    expect(weightedQuantileLoss(window, 0.9)).toBeCloseTo(2.1 / 35, 12);
  });
  it('uses the numerator alone when all actuals are zero', () => {
    const zero: ScoredSeries[] = [{ actual: f(0, 0), mean: f(1, 0), quantiles: new Map([[0.5, f(1, 0)]]) }];
    expect(weightedQuantileLoss(zero, 0.5)).toBeCloseTo(1, 12);
  });
  it('does not score NaN actuals (filled values)', () => {
    const withGap: ScoredSeries[] = [{ actual: f(NaN, 4), mean: f(100, 2), quantiles: new Map([[0.5, f(100, 2)]]) }];
    expect(weightedQuantileLoss(withGap, 0.5)).toBeCloseTo((2 * 0.5 * 2) / 4, 12);
    expect(wape(withGap)).toBeCloseTo(0.5, 12);
    expect(rmse(withGap)).toBeCloseTo(2, 12);
  });
  it('throws when a quantile forecast is missing', () => {
    expect(() => weightedQuantileLoss(window, 0.3)).toThrow(/quantile 0.3/);
  });
});

describe('Function: accuracyMetrics', () => {
  it('matches the hand-computed window metrics', () => {
    // Act
    const m = accuracyMetrics(window, [0.1, 0.5, 0.9], 1);
    // Assess
    expect(m.averageWeightedQuantileLoss).toBeCloseTo(8.7 / 105, 12);
    expect(m.wape).toBeCloseTo(5 / 35, 12); // |e| = 2, 2, 1, 0
    expect(m.rmse).toBeCloseTo(1.5, 12); // sqrt((4 + 4 + 1 + 0) / 4)
    expect(m.mape).toBeCloseTo(0.075, 12); // series 1: (0.2 + 0.1)/2; series 2: y = 0 skipped, 0/5 → 0
    expect(m.mase).toBeCloseTo((2 / 2.5 + 0.5 / 1.5) / 2, 12); // scales 2.5 and 1.5, MAEs 2 and 0.5
    expect(m.weightedQuantileLosses.map((w) => w.quantile)).toEqual([0.1, 0.5, 0.9]);
  });
  it('computes MASE with the seasonal period given', () => {
    const s: ScoredSeries[] = [{ actual: f(3), mean: f(1), quantiles: new Map(), history: f(1, 2, 4, 8) }];
    expect(mase(s, 2)).toBeCloseTo(2 / ((3 + 6) / 2), 12); // |4−1|, |8−2|
  });
  it('takes MASE\'s scale from the masked history without copying it, or as given', () => {
    // Prepare: positions 2 and 4 were filled, not observed; only the first `end` = 6 values are history.
    const values = f(1, 2, 99, 8, 99, 11, 500);
    const observed = Uint8Array.from([1, 1, 0, 1, 0, 1, 1]);
    const masked = f(1, 2, NaN, 8, NaN, 11);

    // Act
    const scale = observedNaiveScale(values, observed, 6, 2);

    // Assess
    expect(scale).toBe(naiveScale(masked, 2)); // pairs (1,3) |8−2| and (3,5) |11−8|: 4.5
    expect(scale).toBe(4.5);
    expect(mase([{ actual: f(3), mean: f(1), quantiles: new Map(), scale: 4 }], 2)).toBe(0.5);
  });
  it('computes sMAPE and 80 % coverage for the bench', () => {
    expect(smape(window)).toBeCloseTo(((200 * 2) / 22 + (200 * 2) / 38) / 4 + (200 + 0) / 4, 10);
    expect(coverage(window)).toBeCloseTo(0.75, 12); // y = 10 lies above q0.9 = 9.5
  });
  it('averages windows into the SUMMARY entry', () => {
    const a = accuracyMetrics(window, [0.5], 1);
    const b = accuracyMetrics([window[0]!], [0.5], 1);
    const s = summariseWindows([a, b]);
    expect(s.wape).toBeCloseTo((a.wape + b.wape) / 2, 12);
    expect(s.weightedQuantileLosses[0]!.loss).toBeCloseTo((a.averageWeightedQuantileLoss + b.averageWeightedQuantileLoss) / 2, 12);
  });
});
