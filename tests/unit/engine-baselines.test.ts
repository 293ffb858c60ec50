import { describe, expect, it } from 'vitest';
import { naive, seasonalityTest, seasonalNaive, stlEts, theta } from '../../engine/models/baselines';
import { autoSelect, seriesQuantileLoss } from '../../engine/models/auto';
import { normalQuantile } from '../../engine/models/quantiles';
import { InvalidModelSpec, NotEnoughData, type FittedModel, type ModelSpec } from '../../engine/models/types';

const z90 = normalQuantile(0.9);

describe('Function: normalQuantile', () => {
  it('matches the standard normal table', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12) // Acklam: |rel. error| < 1.2e-9;
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655446004, 8);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.3263478740408408, 8);
  });
});

describe('Function: naive / seasonalNaive', () => {
  it('repeats the last value with random-walk intervals σ·sqrt(h)', async () => {
    // Prepare: differences 1, −1, 1, −1 → σ = 1.
    const fitted = await naive().fit({ values: Float64Array.of(1, 2, 1, 2, 1), seasonLength: 1 });
    // Act
    const p = fitted.predict(4, [0.1, 0.9]);
    // Assess
    expect([...p.mean]).toEqual([1, 1, 1, 1]);
    expect(p.quantiles.get(0.9)![3]!).toBeCloseTo(1 + z90 * 2, 9);
    expect(p.quantiles.get(0.1)![0]!).toBeCloseTo(1 - z90, 9);
  });
  it('repeats the last season; the interval grows once per completed season', async () => {
    // Prepare: m = 3, seasonal differences all 2 → σ = 2.
    const fitted = await seasonalNaive().fit({ values: Float64Array.of(1, 5, 9, 3, 7, 11, 5, 9, 13), seasonLength: 3 });
    const p = fitted.predict(5, [0.9]);
    expect([...p.mean]).toEqual([5, 9, 13, 5, 9]);
    expect(p.quantiles.get(0.9)![2]! - p.mean[2]!).toBeCloseTo(2 * z90, 9);
    expect(p.quantiles.get(0.9)![3]! - p.mean[3]!).toBeCloseTo(2 * z90 * Math.SQRT2, 9);
    expect(fitted.description).toBe('SeasonalNaive[3]');
  });
  it('throws NotEnoughData for a single observation', () => {
    expect(() => naive().fit({ values: Float64Array.of(4), seasonLength: 1 })).toThrow(NotEnoughData);
  });
});

describe('Function: theta', () => {
  it('forecasts a straight line as the line (θ-line average of trend and SES)', async () => {
    // Prepare: y = 10 + 2t has the θ=2 line equal to the data, so SES and the trend agree.
    const values = Float64Array.from({ length: 40 }, (_, t) => 10 + 2 * (t + 1));
    // Act
    const p = (await theta().fit({ values, seasonLength: 1 })).predict(3, [0.5]);
    // Assess: trend half = 10 + 2(40 + h); SES half ≈ last θ-line level 90 → mean within 1.
    for (let h = 1; h <= 3; h++) expect(Math.abs(p.mean[h - 1]! - (0.5 * (10 + 2 * (40 + h)) + 0.5 * 90))).toBeLessThan(1);
  });
  it('detects seasonality with the M4 test and re-seasonalises the forecast', async () => {
    const seasonal = Float64Array.from({ length: 96 }, (_, t) => 100 * (1 + 0.5 * Math.sin((2 * Math.PI * t) / 12)) + (t % 5));
    expect(seasonalityTest(seasonal, 12)).toBe(true);
    expect(seasonalityTest(Float64Array.from({ length: 96 }, (_, t) => (t * 7919) % 17), 12)).toBe(false);
    const fitted = await theta().fit({ values: seasonal, seasonLength: 12 });
    expect(fitted.description).toMatch(/seasonally adjusted/);
    const p = fitted.predict(12, [0.1, 0.9]);
    // The peak of the forecast falls on the same season position as the data's (t ≡ 3 mod 12).
    const peak = p.mean.indexOf(Math.max(...p.mean));
    expect((96 + peak) % 12).toBe(3);
  });
});

describe('Function: stlEts', () => {
  it('adds the seasonal profile back to a non-seasonal ETS forecast', async () => {
    const values = Float64Array.from({ length: 24 * 20 }, (_, t) => 500 + 100 * Math.sin((2 * Math.PI * t) / 24) + ((t * 7919) % 11));
    const fitted = await stlEts().fit({ values, seasonLength: 24 });
    const p = fitted.predict(24, [0.1, 0.5, 0.9]);
    const peak = p.mean.indexOf(Math.max(...p.mean));
    expect(Math.abs(peak - 6)).toBeLessThanOrEqual(1); // sin peaks at t ≡ 6 (mod 24); 480 ≡ 0
    expect(fitted.description).toMatch(/^STL\(m=24\) \+ /);
  });
  it('validates its window', () => {
    expect(() => stlEts({ seasonWindow: 0 })).toThrow(/seasonWindow must be a positive integer; got 0/);
  });
});

/** A fake model that forecasts a constant, to test the selection logic. */
function constantModel(level: number, name: string): ModelSpec {
  return {
    algorithm: name,
    fit(): FittedModel {
      return {
        description: name,
        predict: (h, qs) => ({ mean: new Float64Array(h).fill(level), quantiles: new Map(qs.map((q) => [q, new Float64Array(h).fill(level)])) }),
      };
    },
  };
}

describe('Function: autoSelect', () => {
  const values = Float64Array.from({ length: 40 }, () => 10);
  it('picks the candidate with the lowest backtest wQL on the series tail', async () => {
    const spec = autoSelect([constantModel(5, 'far'), constantModel(9.5, 'close'), constantModel(20, 'farther')], { horizon: 4 });
    const fitted = await spec.fit({ values, seasonLength: 1 });
    expect(fitted.description).toBe('AUTO(close)');
    expect(fitted.predict(2, [0.5]).mean[0]).toBe(9.5);
  });
  it('combines the best few by the quantile-wise median', async () => {
    const spec = autoSelect([constantModel(5, 'a'), constantModel(9, 'b'), constantModel(11.5, 'c'), constantModel(40, 'd')], {
      horizon: 4, combine: 'median', top: 3,
    });
    const p = (await spec.fit({ values, seasonLength: 1 })).predict(1, [0.5]);
    expect(p.mean[0]).toBe(9); // median of 9, 11.5, 5
  });
  it('skips candidates that throw NotEnoughData', async () => {
    const short: ModelSpec = { algorithm: 'short', fit: () => { throw new NotEnoughData('too short'); } };
    const fitted = await autoSelect([short, constantModel(10, 'ok')], { horizon: 4, windows: 2 }).fit({ values, seasonLength: 1 });
    expect(fitted.description).toBe('AUTO(ok)');
  });
  it('validates its options with the rule and the value', () => {
    expect(() => autoSelect([], { horizon: 4 })).toThrow(InvalidModelSpec);
    expect(() => autoSelect([naive()], { horizon: 0 })).toThrow(/horizon must be a positive integer; got 0/);
    expect(() => autoSelect([naive()], { horizon: 2, windows: 6 })).toThrow(/windows must be an integer from 1 to 5; got 6/);
  });
  it('scores one series like Forecast\'s average wQL', () => {
    const loss = seriesQuantileLoss(Float64Array.of(10, 10), { mean: Float64Array.of(8, 8), quantiles: new Map([[0.5, Float64Array.of(8, 12)]]) }, [0.5]);
    expect(loss).toBeCloseTo((2 * (0.5 * 2 + 0.5 * 2)) / 20, 12);
  });
});
