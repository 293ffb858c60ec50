import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prophet } from '../../engine/models/prophet';
import { InvalidModelSpec, NotEnoughData } from '../../engine/models/types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Deterministic noise in [-0.5, 0.5). */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

function hourly(n: number, f: (i: number) => number) {
  const start = Date.UTC(2024, 0, 1);
  return {
    values: Float64Array.from({ length: n }, (_, i) => f(i)),
    timestamps: Array.from({ length: n }, (_, i) => new Date(start + i * HOUR)),
    seasonLength: 24,
  };
}

describe('Function: prophet', () => {
  it('recovers a daily pattern with trend, with monotone quantiles around the mean', async () => {
    // Prepare: 3 weeks hourly, y = 10 + 0.01 t + 3 sin(2π t / 24) + noise
    const truth = (i: number) => 10 + 0.01 * i + 3 * Math.sin((2 * Math.PI * i) / 24);
    const series = hourly(24 * 21, (i) => truth(i) + 0.4 * noise(i));

    // Act
    const fitted = await prophet({ uncertaintySamples: 300 }).fit(series);
    const p = fitted.predict(48, [0.05, 0.1, 0.5, 0.9, 0.95]);

    // Assess
    expect(p.mean).toHaveLength(48);
    let absErr = 0;
    for (let j = 0; j < 48; j++) {
      absErr += Math.abs(p.mean[j]! - truth(24 * 21 + j));
      const qs = [0.05, 0.1, 0.5, 0.9, 0.95].map((q) => p.quantiles.get(q)![j]!);
      for (let k = 1; k < qs.length; k++) expect(qs[k]).toBeGreaterThanOrEqual(qs[k - 1]!);
      expect(p.quantiles.get(0.5)![j]).toBe(p.mean[j]);
      expect(p.quantiles.get(0.1)![j]).toBeLessThan(p.mean[j]!);
      expect(p.quantiles.get(0.9)![j]).toBeGreaterThan(p.mean[j]!);
    }
    expect(absErr / 48).toBeLessThan(0.5); // amplitude 3, noise ±0.2
  });

  it('uses related series as regressors over the horizon', async () => {
    // Prepare: daily data, y = 5 + 2·price; the price is known 14 days ahead
    const n = 120;
    const h = 14;
    const price = Float64Array.from({ length: n + h }, (_, i) => (i % 10 < 5 ? 1 : 3) + 0.1 * noise(i + 7));
    const start = Date.UTC(2024, 0, 1);
    const series = {
      values: Float64Array.from({ length: n }, (_, i) => 5 + 2 * price[i]! + 0.05 * noise(i)),
      timestamps: Array.from({ length: n }, (_, i) => new Date(start + i * DAY)),
      seasonLength: 7,
      related: { price },
    };

    // Act
    const fitted = await prophet({ uncertaintySamples: 0 }).fit(series);
    const p = fitted.predict(h, [0.5]);

    // Assess
    expect(fitted.description).toContain('price');
    for (let j = 0; j < h; j++) expect(Math.abs(p.mean[j]! - (5 + 2 * price[n + j]!))).toBeLessThan(0.3);
  });

  it('fits series without timestamps and with missing values', async () => {
    // Prepare
    const values = Float64Array.from({ length: 60 }, (_, i) => (i % 13 === 0 ? NaN : 20 + (i % 7) + noise(i)));

    // Act
    const p = (await prophet({ uncertaintySamples: 100 }).fit({ values, seasonLength: 7 })).predict(7, [0.1, 0.9]);

    // Assess
    for (const v of p.mean) expect(v).toBeGreaterThan(15);
    for (const v of p.mean) expect(v).toBeLessThan(32);
  });

  it('forecasts a constant (all-zero) series as that constant, and keeps fitting afterwards', async () => {
    // Prepare: Stan traps on an all-zero series; the model must not call it (nor be poisoned)
    const zeros = { values: new Float64Array(40), seasonLength: 7 };
    const normal = { values: Float64Array.from({ length: 40 }, (_, i) => 10 + (i % 7) + noise(i)), seasonLength: 7 };

    // Act
    const flat = (await prophet().fit(zeros)).predict(5, [0.1, 0.9]);
    const after = (await prophet({ uncertaintySamples: 50 }).fit(normal)).predict(5, [0.5]);

    // Assess
    expect(Array.from(flat.mean)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(flat.quantiles.get(0.9)!)).toEqual([0, 0, 0, 0, 0]);
    for (const v of after.mean) expect(v).toBeGreaterThan(5);
  });

  it('throws NotEnoughData when Stan cannot fit a series, and fits the next series with a fresh optimiser', async () => {
    // Prepare: an exactly linear 4-point monthly series makes the Stan optimiser fail in every attempt
    const failing = { values: Float64Array.from([1, 4, 7, 10]), seasonLength: 12 };
    const normal = { values: Float64Array.from({ length: 40 }, (_, i) => 10 + (i % 7) + noise(i)), seasonLength: 7 };

    // Act / Assess
    await expect(prophet().fit(failing)).rejects.toThrow(/Prophet could not be fitted to this series/);
    const p = (await prophet({ uncertaintySamples: 50 }).fit(normal)).predict(3, [0.5]);
    for (const v of p.mean) expect(v).toBeGreaterThan(5);
  });

  it('throws NotEnoughData and InvalidModelSpec under the stated conditions', async () => {
    // Act / Assess
    await expect(prophet().fit({ values: Float64Array.from([1, NaN, NaN]), seasonLength: 1 })).rejects.toThrow(NotEnoughData);
    expect(() => prophet({ intervalWidth: 1.2 })).toThrow(/intervalWidth must lie in \(0, 1\), got 1.2/);
    expect(() => prophet({ uncertaintySamples: -1 })).toThrow(InvalidModelSpec);
    const fitted = await prophet({ uncertaintySamples: 0 }).fit({
      values: Float64Array.from({ length: 30 }, (_, i) => i),
      seasonLength: 1,
      related: { x: Float64Array.from({ length: 32 }, (_, i) => i) },
    });
    expect(() => fitted.predict(5, [0.5])).toThrow(/covers 2 of the 5 forecast steps/);
  });
});

interface ProphetGolden {
  name: string;
  ds: string[];
  y: number[];
  h: number;
  yhat: number[];
  lower80: number[];
  upper80: number[];
}

/** R prophet 1.0 forecasts (tests/fixtures/r/prophet-golden.R): 3 years daily, 10 years weekly with a trend break. */
const golden: ProphetGolden[] = JSON.parse(
  readFileSync(new URL('../fixtures/r/prophet-golden.json', import.meta.url), 'utf8'),
);

describe('Function: prophet against R prophet', () => {
  for (const c of golden) {
    it(`forecasts like R prophet for ${c.name}`, async () => {
      // Prepare
      const series = { values: Float64Array.from(c.y), timestamps: c.ds.map((d) => new Date(d)), seasonLength: 1 };
      const level = c.y.reduce((s, v) => s + Math.abs(v), 0) / c.y.length;
      const err = (a: ArrayLike<number>, b: number[]) => Math.max(...b.map((v, i) => Math.abs(a[i]! - v))) / level;

      // Act
      const p = (await prophet().fit(series)).predict(c.h, [0.1, 0.9]);

      // Assess: same MAP fit (point forecasts within 0.5 % of the level); interval bounds come from
      // 1000 simulated draws on each side → within 5 % of the level
      expect(err(p.mean, c.yhat)).toBeLessThan(5e-3);
      expect(err(p.quantiles.get(0.1)!, c.lower80)).toBeLessThan(5e-2);
      expect(err(p.quantiles.get(0.9)!, c.upper80)).toBeLessThan(5e-2);
    });
  }
});
