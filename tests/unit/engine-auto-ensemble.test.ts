import { describe, expect, it } from 'vitest';
import { autoEnsemble, isIntermittent, longCycleMembers, regularMembersFor, relatedDataMembers, weighMembers, weightedCombination, type FittedEnsemble } from '../../engine/models/auto';
import { backtestCuts, calibrated, independentWindows, intervalFactor } from '../../engine/models/calibration';
import { autoEts, autoEtsWithDamped } from '../../engine/models/ets';
import { intermittent } from '../../engine/models/intermittent';
import { conformalScale, gaussianQuantiles, intervalRatios, scaleQuantiles } from '../../engine/models/quantiles';
import { mulberry32 } from '../../engine/models/random';
import { fallbackSpecs, modelSpec } from '../../engine/models/registry';
import { InvalidModelSpec, type FittedModel, type ModelSpec, type Prediction, type SeriesData } from '../../engine/models/types';

const QS = [0.1, 0.5, 0.9];

/** A member that forecasts a constant with a Gaussian band of sd `sd`; it records the training lengths it saw. */
function constantMember(level: number, sd: number, name: string, seen: number[] = []): ModelSpec {
  return {
    algorithm: name,
    fit(series: SeriesData): FittedModel {
      seen.push(series.values.length);
      return {
        description: name,
        predict: (h, qs) => {
          const mean = new Float64Array(h).fill(level);
          return { mean, quantiles: gaussianQuantiles(mean, new Float64Array(h).fill(sd), qs) };
        },
      };
    },
  };
}

function noisy(n: number, level: number, sd: number, seed: number): Float64Array {
  const u = mulberry32(seed);
  return Float64Array.from({ length: n }, () => level + sd * Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u()));
}

function ordered(p: Prediction, qs: readonly number[]): boolean {
  for (let i = 1; i < qs.length; i++) {
    const lo = p.quantiles.get(qs[i - 1]!)!;
    const hi = p.quantiles.get(qs[i]!)!;
    for (let h = 0; h < lo.length; h++) if (!(lo[h]! <= hi[h]! + 1e-9)) return false;
  }
  return true;
}

describe('Function: backtestCuts', () => {
  it('places the last windows one horizon apart on a long series', () => {
    expect(backtestCuts(100, 10, 1, 3)).toEqual([
      { cut: 70, length: 10 },
      { cut: 80, length: 10 },
      { cut: 90, length: 10 },
    ]);
  });
  it('moves the origins closer on a short series and leaves none when nothing can train', () => {
    expect(backtestCuts(20, 12, 1, 3)).toEqual([
      { cut: 8, length: 12 },
      { cut: 12, length: 8 },
      { cut: 16, length: 4 },
    ]);
    expect(backtestCuts(8, 4, 1, 3)).toEqual([]);
    // Seasonal data keep a season and two points (14) before the first origin.
    expect(backtestCuts(30, 6, 12, 3)).toEqual([
      { cut: 15, length: 6 },
      { cut: 20, length: 6 },
      { cut: 25, length: 5 },
    ]);
  });
});

describe('Function: conformalScale / scaleQuantiles', () => {
  it('finds the factor that covers 80 % of the ratios, shrunk towards 1 by evidence/(evidence + 1)', () => {
    const ratios = Array.from({ length: 101 }, (_, i) => (2 * i) / 100); // 0.8-quantile = 1.6
    expect(conformalScale(ratios, 3)).toBeCloseTo(Math.exp(0.75 * Math.log(1.6)), 10);
    expect(conformalScale(ratios, 1)).toBeCloseTo(Math.exp(0.5 * Math.log(1.6)), 10);
    expect(conformalScale([], 3)).toBe(1);
    expect(conformalScale(ratios, 0)).toBe(1);
    expect(conformalScale(Array(50).fill(100), 9)).toBe(4);
  });
  it('measures each actual against the half-width on its own side', () => {
    const mean = Float64Array.from([10, 10]);
    const p: Prediction = { mean, quantiles: new Map([[0.1, Float64Array.from([8, 8])], [0.5, mean], [0.9, Float64Array.from([14, 14])]]) };
    const out: number[] = [];
    intervalRatios(Float64Array.from([6, 12]), p, out);
    expect(out).toEqual([2, 0.5]);
  });
  it('stretches around the median and keeps the quantiles ordered', () => {
    const mean = Float64Array.from([5, 6, 7]);
    const p: Prediction = { mean, quantiles: gaussianQuantiles(mean, Float64Array.from([1, 2, 3]), [0.05, 0.1, 0.5, 0.9, 0.95]) };
    for (const factor of [0.25, 1, 2.5]) {
      const s = scaleQuantiles(p, factor, [0.05, 0.1, 0.5, 0.9, 0.95]);
      expect(ordered(s, [0.05, 0.1, 0.5, 0.9, 0.95])).toBe(true);
      expect([...s.quantiles.get(0.5)!]).toEqual([...p.quantiles.get(0.5)!]);
      expect(s.quantiles.get(0.9)![2]! - 7).toBeCloseTo(factor * (p.quantiles.get(0.9)![2]! - 7), 10);
    }
  });
});

describe('Function: independentWindows / intervalFactor', () => {
  it('counts windows one horizon apart fully and overlapping windows by the points they cover', () => {
    expect(independentWindows(backtestCuts(100, 10, 1, 3), 10)).toBe(3);
    // Windows at 8, 12 and 16 of a 20-point series cover its last 12 points: one horizon's worth.
    expect(independentWindows(backtestCuts(20, 12, 1, 3), 12)).toBe(1);
    expect(independentWindows([], 12)).toBe(0);
  });
  it('trusts the same backtest ratios less when the windows overlap', () => {
    // A band of half-width 1 around 0; every held-out actual is 2 away: ratio 2 everywhere.
    const band = (h: number): Prediction => {
      const mid = new Float64Array(h);
      return { mean: mid, quantiles: new Map([[0.1, new Float64Array(h).fill(-1)], [0.5, mid], [0.9, new Float64Array(h).fill(1)]]) };
    };
    const values = new Float64Array(100).fill(2);
    const apart = backtestCuts(100, 10, 1, 3);
    const overlapping = backtestCuts(20, 12, 1, 3);
    expect(intervalFactor(values, apart, apart.map((c) => band(c.length)), 10)).toBeCloseTo(2 ** 0.75, 10);
    expect(intervalFactor(values.subarray(0, 20), overlapping, overlapping.map((c) => band(c.length)), 12)).toBeCloseTo(2 ** 0.5, 10);
    // A window the model could not forecast is not evidence.
    expect(intervalFactor(values, apart, [undefined, undefined, band(10)], 10)).toBeCloseTo(2 ** 0.5, 10);
    expect(intervalFactor(values, apart, [undefined, undefined, undefined], 10)).toBe(1);
  });
});

describe('Function: calibrated', () => {
  it('brings a band 1.5 times too narrow most of the way to 80 % coverage over many series, quantiles ordered', async () => {
    // 300 series of level + Gaussian noise (sd 10); the model knows the level but claims sd 10/1.5.
    const horizon = 10;
    let inside = 0;
    let count = 0;
    let allOrdered = true;
    for (let k = 0; k < 300; k++) {
      const values = noisy(60 + horizon, 100, 10, 1000 + k);
      const fitted = await calibrated(constantMember(100, 10 / 1.5, 'narrow'), { horizon }).fit({ values: values.subarray(0, 60), seasonLength: 1 });
      const p = fitted.predict(horizon, [0.05, 0.1, 0.5, 0.9, 0.95]);
      allOrdered &&= ordered(p, [0.05, 0.1, 0.5, 0.9, 0.95]);
      for (let i = 0; i < horizon; i++) {
        const y = values[60 + i]!;
        if (y >= p.quantiles.get(0.1)![i]! && y <= p.quantiles.get(0.9)![i]!) inside++;
        count++;
      }
    }
    expect(allOrdered).toBe(true);
    // Uncalibrated: P(|z| < 1.2816/1.5) = 0.61. The shrinkage towards 1 (3 windows: 1.5^(3/4) = 1.36)
    // leaves it a little narrow: P(|z| < 1.2816 · 1.36/1.5) = 0.75.
    expect(inside / count).toBeGreaterThan(0.72);
    expect(inside / count).toBeLessThan(0.8);
  });
  it('widens a model whose band is too narrow and narrows one that is too wide, on held-out points', async () => {
    const values = noisy(200, 100, 10, 7);
    const narrow = (await calibrated(constantMember(100, 2, 'narrow'), { horizon: 10, windows: 5 }).fit({ values, seasonLength: 1 })) as FittedModel & { intervalFactor: number };
    const wide = (await calibrated(constantMember(100, 50, 'wide'), { horizon: 10, windows: 5 }).fit({ values, seasonLength: 1 })) as FittedModel & { intervalFactor: number };
    expect(narrow.intervalFactor).toBeGreaterThan(2);
    expect(wide.intervalFactor).toBeLessThan(0.5);
    // Coverage of the calibrated narrow model on fresh draws of the same process: near 80 %.
    const p = narrow.predict(10, QS);
    const fresh = noisy(2000, 100, 10, 99);
    let inside = 0;
    for (const y of fresh) if (y >= p.quantiles.get(0.1)![0]! && y <= p.quantiles.get(0.9)![0]!) inside++;
    expect(inside / fresh.length).toBeGreaterThan(0.7);
    expect(inside / fresh.length).toBeLessThan(0.9);
  });
});

describe('Function: autoEnsemble', () => {
  const values = noisy(120, 50, 5, 3);
  const series: SeriesData = { values, seasonLength: 1 };

  it('weighs the members by backtests on several windows inside the data it is given, never after', async () => {
    const seen: number[] = [];
    const spec = autoEnsemble({
      horizon: 10,
      windows: 3,
      members: [constantMember(50, 5, 'right', seen), constantMember(80, 5, 'wrong'), constantMember(52, 5, 'close'), constantMember(30, 5, 'far')],
    });
    const fitted = (await spec.fit(series)) as FittedEnsemble;
    expect(fitted.cuts).toEqual([90, 100, 110]);
    // The backtests trained on the data before each cut; the final fit on all of it.
    expect(seen).toEqual([90, 100, 110, 120]);
    const byName = Object.fromEntries(fitted.members.map((m) => [m.algorithm, m]));
    expect(byName.right!.weight).toBeGreaterThan(byName.close!.weight);
    // top = 3: the worst of the four (30 off the level) is left out.
    expect(byName.wrong!.weight).toBe(0);
    expect(byName.far!.weight).toBeGreaterThan(0);
    expect(fitted.members.reduce((a, m) => a + m.weight, 0)).toBeCloseTo(1, 12);
  });

  it('scores a backtest window it was not weighed on: the data after the cut cannot change the forecast', async () => {
    const spec = autoEnsemble({ horizon: 10, members: [constantMember(50, 5, 'a'), constantMember(60, 5, 'b'), constantMember(40, 3, 'c')] });
    const changed = Float64Array.from(values);
    for (let i = 100; i < 120; i++) changed[i] = 1000;
    const a = (await spec.fit({ values: values.subarray(0, 100), seasonLength: 1 })).predict(10, QS);
    const b = (await spec.fit({ values: changed.subarray(0, 100), seasonLength: 1 })).predict(10, QS);
    expect([...a.quantiles.get(0.9)!]).toEqual([...b.quantiles.get(0.9)!]);
  });

  it('is deterministic and gives ordered quantiles from the default members', async () => {
    const u = mulberry32(11);
    const seasonal = Float64Array.from({ length: 96 }, (_, t) => 100 + 0.5 * t + 20 * Math.sin((2 * Math.PI * t) / 12) + 5 * u());
    const spec = autoEnsemble({ horizon: 12 });
    const qs = [0.05, 0.1, 0.5, 0.9, 0.95];
    const one = (await spec.fit({ values: seasonal, seasonLength: 12 })) as FittedEnsemble;
    const two = (await spec.fit({ values: seasonal, seasonLength: 12 })) as FittedEnsemble;
    const p1 = one.predict(12, qs);
    const p2 = two.predict(12, qs);
    expect(ordered(p1, qs)).toBe(true);
    expect([...p1.quantiles.get(0.95)!]).toEqual([...p2.quantiles.get(0.95)!]);
    expect(one.members.filter((m) => m.weight > 0).length).toBeGreaterThan(1);
    expect(one.description).toMatch(/^AUTO\(.+ \+ .+\)$/);
  });

  it('uses the intermittent-demand members on a series with many zeros', async () => {
    const u = mulberry32(5);
    const sparse = Float64Array.from({ length: 200 }, () => (u() < 0.2 ? 1 + Math.floor(5 * u()) : 0));
    expect(isIntermittent(sparse)).toBe(true);
    const fitted = (await autoEnsemble({ horizon: 14 }).fit({ values: sparse, seasonLength: 7 })) as FittedEnsemble;
    expect(fitted.members.map((m) => m.algorithm)).toContain('TSB');
    const p = fitted.predict(14, QS);
    expect(ordered(p, QS)).toBe(true);
    expect(Math.min(...p.quantiles.get(0.1)!)).toBeGreaterThanOrEqual(0);
  });

  it('combines every member equally when the series is too short for a backtest', async () => {
    const fitted = (await autoEnsemble({ horizon: 4, members: [constantMember(1, 1, 'a'), constantMember(3, 1, 'b')] }).fit({
      values: Float64Array.from([1, 2, 3, 2, 1]),
      seasonLength: 1,
    })) as FittedEnsemble;
    expect(fitted.cuts).toEqual([]);
    expect(fitted.predict(2, QS).mean[0]).toBeCloseTo(2, 12);
    expect(fitted.intervalFactor).toBe(1);
  });

  it('validates its options with the rule and the value', () => {
    expect(() => autoEnsemble({ horizon: 0 })).toThrow(/horizon must be a positive integer; got 0/);
    expect(() => autoEnsemble({ horizon: 3, windows: 11 })).toThrow(InvalidModelSpec);
    expect(() => autoEnsemble({ horizon: 3, members: [] })).toThrow(/at least one member/);
  });
});

describe('Function: autoEtsWithDamped', () => {
  it('gives autoEts()\'s forecast and the best damped-trend form from one search', async () => {
    const values = Float64Array.from({ length: 80 }, (_, t) => 100 + 2 * t + 10 * Math.sin(t));
    const series: SeriesData = { values, seasonLength: 1 };
    const [ets, damped] = autoEtsWithDamped();
    const a = (await ets.fit(series)).predict(6, QS);
    const b = (await autoEts().fit(series)).predict(6, QS);
    expect([...a.mean]).toEqual([...b.mean]);
    expect((await damped.fit(series)).description).toMatch(/^ETS\([AM],Ad,N\)$/);
  });

  it('with the whole series given, fits a training part with the forms chosen on the whole series, not its own choice', async () => {
    // Prepare: trending with a weekly wave; the first 30 points alone look level.
    const values = Float64Array.from({ length: 120 }, (_, t) => (t < 30 ? 200 + 3 * Math.sin(t) : 200 + 4 * (t - 30) + 3 * Math.sin(t)));
    const whole: SeriesData = { values, seasonLength: 1 };
    const part: SeriesData = { values: values.subarray(0, 30), seasonLength: 1 };
    const [ets] = autoEtsWithDamped(whole);
    // Act
    const onWhole = (await ets.fit(whole)).description;
    const onPart = (await ets.fit(part)).description;
    const ownChoice = (await autoEts().fit(part)).description;
    // Assess
    expect(onWhole).toMatch(/,A/); // a trend form
    expect(onPart).toBe(onWhole);
    expect(ownChoice).not.toBe(onWhole);
  });
});

describe('Function: longCycleMembers', () => {
  it('adds STL+ETS on the week of hourly data and the year of daily data when three cycles are there', () => {
    expect(longCycleMembers({ values: new Float64Array(504), seasonLength: 24 }).map((m) => m.algorithm)).toEqual(['STL_ETS']);
    expect(longCycleMembers({ values: new Float64Array(503), seasonLength: 24 })).toEqual([]);
    expect(longCycleMembers({ values: new Float64Array(1092), seasonLength: 7 })).toHaveLength(1);
    expect(longCycleMembers({ values: new Float64Array(5000), seasonLength: 12 })).toEqual([]);
  });
});

describe('Function: regularMembersFor', () => {
  it('puts ARIMA in STL+ETS\'s place where STL has no season to remove (season length 1, or under three seasons)', () => {
    const algorithms = (n: number, seasonLength: number) => regularMembersFor({ values: new Float64Array(n), seasonLength }).map((m) => m.algorithm);
    expect(algorithms(30, 1)).toEqual(['ETS', 'ETS_DAMPED', 'THETA', 'SNAIVE', 'ARIMA']);
    expect(algorithms(35, 12)).toEqual(['ETS', 'ETS_DAMPED', 'THETA', 'SNAIVE', 'ARIMA']);
    expect(algorithms(36, 12)).toEqual(['ETS', 'ETS_DAMPED', 'THETA', 'SNAIVE', 'STL_ETS']);
  });

  it('combines ARIMA into AUTO on a yearly series where its drift forecasts best', async () => {
    // Prepare: a noisy straight line (a random walk with drift's mean path): ARIMA(0,1,0) with drift fits it.
    let state = 7;
    const noise = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 40;
    const values = Float64Array.from({ length: 40 }, (_, t) => 1000 + 25 * t + noise());
    // Act
    const fitted = (await autoEnsemble({ horizon: 6 }).fit({ values, seasonLength: 1 })) as FittedEnsemble;
    // Assess
    expect(fitted.members.map((m) => m.algorithm)).toContain('ARIMA');
    expect(fitted.members.find((m) => m.algorithm === 'ARIMA')!.loss).toBeLessThan(Infinity);
  });
});

describe('Function: relatedDataMembers', () => {
  it('adds Prophet (the member that reads the related series) only where the series has related data', () => {
    expect(relatedDataMembers({ values: new Float64Array(60), seasonLength: 7 })).toEqual([]);
    expect(relatedDataMembers({ values: new Float64Array(60), seasonLength: 7, related: {} })).toEqual([]);
    expect(relatedDataMembers({ values: new Float64Array(60), seasonLength: 7, related: { promo: new Float64Array(74) } }).map((m) => m.algorithm)).toEqual(['PROPHET']);
  });

  it('weighs Prophet into AUTO where a promotion drives demand, and AUTO forecasts the known future promotions', async () => {
    // Prepare: daily demand 100, +60 on promotion days (every 5th day); the promotions are known 14 days ahead.
    const n = 150;
    const horizon = 14;
    const promo = Float64Array.from({ length: n + horizon }, (_, t) => (t % 5 === 0 ? 1 : 0));
    let state = 3;
    const noise = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 6;
    const values = Float64Array.from({ length: n }, (_, t) => 100 + 60 * promo[t]! + noise());
    const timestamps = Array.from({ length: n }, (_, t) => new Date(Date.UTC(2024, 0, 1 + t)));
    const future = { timestamps: Array.from({ length: horizon }, (_, h) => new Date(Date.UTC(2024, 0, 1 + n + h))) };
    // Act
    const fitted = (await autoEnsemble({ horizon }).fit({ values, seasonLength: 7, timestamps, related: { promo } })) as FittedEnsemble;
    const prediction = fitted.predict(horizon, [0.5], future);
    fitted.dispose?.();
    // Assess
    const prophetMember = fitted.members.find((m) => m.algorithm === 'PROPHET')!;
    expect(prophetMember.weight).toBeGreaterThan(0);
    expect(prophetMember.loss).toBe(Math.min(...fitted.members.map((m) => m.loss)));
    const onPromo = [...prediction.mean].filter((_, h) => promo[n + h] === 1);
    const offPromo = [...prediction.mean].filter((_, h) => promo[n + h] === 0);
    expect(Math.min(...onPromo)).toBeGreaterThan(Math.max(...offPromo));
  }, 60_000);
});

describe('Function: weighMembers', () => {
  it('keeps the top members by loss with weights ∝ 1/loss²; perfect backtests share the weight', () => {
    const { chosen, weights, ranked } = weighMembers([0.2, Infinity, 0.1, 0.4, 0.3], 3);
    expect(chosen).toEqual([2, 0, 4]);
    expect(ranked).toBe(4);
    expect(weights[0]! / weights[1]!).toBeCloseTo(4, 12);
    const perfect = weighMembers([0, 1, 0], 3).weights;
    expect(perfect[0]).toBe(perfect[1]);
    expect(perfect[2]! / perfect[0]!).toBeLessThan(1e-20);
    expect(weighMembers([Infinity, Infinity], 3)).toEqual({ chosen: [0, 1], weights: [1, 1], ranked: 0 });
  });
});

describe('Function: weightedCombination / intermittent', () => {
  it('averages quantile by quantile with the weights', () => {
    const mk = (v: number): Prediction => ({ mean: Float64Array.from([v]), quantiles: new Map(QS.map((q) => [q, Float64Array.from([v + q])])) });
    const c = weightedCombination([mk(0), mk(10)], [3, 1], QS);
    expect(c.mean[0]).toBeCloseTo(2.5, 12);
    expect(c.quantiles.get(0.9)![0]).toBeCloseTo(3.4, 12);
  });
  it('SBA forecasts Croston\'s rate times (1 − α/2); TSB the probability times the size', async () => {
    const values = Float64Array.from({ length: 60 }, (_, t) => (t % 4 === 3 ? 8 : 0));
    const croston = (await intermittent('CROSTON').fit({ values, seasonLength: 1 })).predict(3, QS).mean[0]!;
    const sba = (await intermittent('SBA').fit({ values, seasonLength: 1 })).predict(3, QS).mean[0]!;
    const tsb = (await intermittent('TSB').fit({ values, seasonLength: 1 })).predict(3, QS).mean[0]!;
    expect(croston).toBeCloseTo(2, 1); // size 8 every 4 periods
    expect(sba).toBeCloseTo(croston * 0.95, 10);
    expect(tsb).toBeGreaterThan(1.5);
    expect(tsb).toBeLessThan(2.5);
  });
});

describe('Function: modelSpec (calibrated registry models)', () => {
  it('wraps ETS, ARIMA, NPTS, Theta and seasonal naive in the calibration, not the fallbacks', async () => {
    const u = mulberry32(21);
    const values = Float64Array.from({ length: 120 }, (_, t) => 50 + 10 * Math.sin((2 * Math.PI * t) / 7) + 4 * u());
    for (const algorithm of ['ETS', 'THETA', 'SEASONAL_NAIVE']) {
      const fitted = (await modelSpec(algorithm, {}, { horizon: 14 }).fit({ values, seasonLength: 7 })) as FittedModel & { intervalFactor?: number };
      expect(fitted.intervalFactor, algorithm).toBeGreaterThan(0);
      expect(ordered(fitted.predict(14, [0.05, 0.1, 0.5, 0.9, 0.95]), [0.05, 0.1, 0.5, 0.9, 0.95])).toBe(true);
    }
    const fallback = (await fallbackSpecs()[0]!.fit({ values, seasonLength: 7 })) as FittedModel & { intervalFactor?: number };
    expect(fallback.intervalFactor).toBeUndefined();
  });
});
