import { describe, expect, it } from 'vitest';
import { npts } from '../../engine/models/npts';
import { InvalidModelSpec, NotEnoughData } from '../../engine/models/types';

const HOUR = 3_600_000;

/** Hourly series: value = hour of day (0..23) for `days` days, so each hour has one value. */
function hourlySeries(days: number) {
  const n = days * 24;
  const values = new Float64Array(n);
  const timestamps: Date[] = [];
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    values[i] = i % 24;
    timestamps.push(new Date(start + i * HOUR));
  }
  return { values, timestamps, seasonLength: 24 };
}

describe('Function: npts', () => {
  it('forecasts only observed values, with monotone quantiles and the requested shape', async () => {
    // Prepare
    const values = Float64Array.from([0, 3, 0, 0, 7, 0, 1, 0, 0, 0, 2, 0, 0, 5, 0]);
    const model = await npts({ seasonal: false }).fit({ values, seasonLength: 1 });

    // Act
    const p = model.predict(10, [0.1, 0.5, 0.9]);

    // Assess
    expect(p.mean).toHaveLength(10);
    const observed = new Set(values);
    for (const q of [0.1, 0.5, 0.9]) {
      for (const v of p.quantiles.get(q)!) expect(observed.has(v)).toBe(true);
    }
    for (let j = 0; j < 10; j++) {
      expect(p.quantiles.get(0.1)![j]).toBeLessThanOrEqual(p.quantiles.get(0.5)![j]!);
      expect(p.quantiles.get(0.5)![j]).toBeLessThanOrEqual(p.quantiles.get(0.9)![j]!);
      expect(p.mean[j]).toBeGreaterThanOrEqual(0);
      expect(p.mean[j]).toBeLessThanOrEqual(7);
    }
  });

  it('is deterministic for a seed and varies with the seed', async () => {
    // Prepare
    const values = Float64Array.from({ length: 50 }, (_, i) => Math.sin(i) * 10 + 20);

    // Act
    const a = (await npts({ seed: 1 }).fit({ values, seasonLength: 1 })).predict(5, [0.5]);
    const b = (await npts({ seed: 1 }).fit({ values, seasonLength: 1 })).predict(5, [0.5]);
    const c = (await npts({ seed: 2 }).fit({ values, seasonLength: 1 })).predict(5, [0.5]);

    // Assess
    expect(Array.from(a.mean)).toEqual(Array.from(b.mean));
    expect(Array.from(a.mean)).not.toEqual(Array.from(c.mean));
  });

  it('samples from the same hour of day in the seasonal variants', async () => {
    // Prepare
    const series = hourlySeries(10);

    for (const kernel of ['exponential', 'uniform'] as const) {
      // Act
      const p = (await npts({ kernel, seasonal: true }).fit(series)).predict(48, [0.1, 0.9]);

      // Assess: the next day starts at hour 0 → the forecast is exactly the hour of day
      for (let j = 0; j < 48; j++) {
        expect(p.mean[j]).toBe(j % 24);
        expect(p.quantiles.get(0.1)![j]).toBe(j % 24);
        expect(p.quantiles.get(0.9)![j]).toBe(j % 24);
      }
    }
  });

  it('uses the season phase when there are no timestamps', async () => {
    // Prepare
    const { values } = hourlySeries(5);

    // Act
    const p = (await npts({ kernel: 'uniform' }).fit({ values, seasonLength: 24 })).predict(24, [0.5]);

    // Assess
    expect(Array.from(p.mean)).toEqual(Array.from({ length: 24 }, (_, j) => j));
  });

  it('weights recent points more with a larger exponential kernel weight', async () => {
    // Prepare: 100 zeros then 100 tens
    const values = Float64Array.from({ length: 200 }, (_, i) => (i < 100 ? 0 : 10));

    // Act
    const flat = (await npts({ seasonal: false, expKernelWeights: 1, numSamples: 400 }).fit({ values, seasonLength: 1 })).predict(1, []);
    const sharp = (await npts({ seasonal: false, expKernelWeights: 20, numSamples: 400 }).fit({ values, seasonLength: 1 })).predict(1, []);

    // Assess: λ = 1 over a [-0.5, 0.5] time scale is nearly uniform (GluonTS semantics)
    expect(flat.mean[0]).toBeGreaterThan(4.5);
    expect(flat.mean[0]).toBeLessThan(7.5);
    expect(sharp.mean[0]).toBeGreaterThan(9.5);
  });

  it('never samples missing values and honours the context length', async () => {
    // Prepare
    const values = Float64Array.from([100, 100, NaN, 1, NaN, 2, 3]);

    // Act
    const p = (await npts({ seasonal: false, contextLength: 5, kernel: 'uniform' }).fit({ values, seasonLength: 1 })).predict(4, [0.05, 0.95]);

    // Assess
    for (const v of [...p.mean, ...p.quantiles.get(0.05)!, ...p.quantiles.get(0.95)!]) {
      expect(v).toBeGreaterThanOrEqual(1);
      expect(v).toBeLessThanOrEqual(3);
    }
  });

  it('throws NotEnoughData for an all-missing series and InvalidModelSpec for bad options', () => {
    // Act / Assess
    expect(() => npts().fit({ values: Float64Array.from([NaN, NaN]), seasonLength: 1 })).toThrow(NotEnoughData);
    expect(() => npts({ numSamples: 0 })).toThrow(InvalidModelSpec);
    expect(() => npts({ expKernelWeights: -1 })).toThrow(/positive number, got -1/);
    expect(() => npts({ contextLength: 1.5 })).toThrow(InvalidModelSpec);
  });

  it('samples with GluonTS weights exp(-λ·|t − T|/(n + h − 1)) for the one-step forecast', async () => {
    // Prepare: values 0, 1, 2 at t = 0, 1, 2; T = 3, n + h − 1 = 3 → weights e^{-3λ/3}, e^{-2λ/3}, e^{-λ/3}
    const values = Float64Array.from([0, 1, 2]);
    const lambda = 2;
    const w = [3, 2, 1].map((d) => Math.exp((-lambda * d) / 3));
    const total = w.reduce((a, b) => a + b, 0);
    const expectedMean = (0 * w[0]! + 1 * w[1]! + 2 * w[2]!) / total;

    // Act
    const p = (await npts({ seasonal: false, expKernelWeights: lambda, numSamples: 40_000, seed: 7 }).fit({ values, seasonLength: 1 })).predict(1, [0.5]);

    // Assess: sampling error of the mean ≈ 0.004 at 40 000 draws
    expect(Math.abs(p.mean[0]! - expectedMean)).toBeLessThan(0.015);
  });
});
