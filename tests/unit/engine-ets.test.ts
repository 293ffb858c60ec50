import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { autoEts, candidateForms, etsFormName, etsPredict, fitEtsForm, SIMULATION_PATHS, type EtsForm } from '../../engine/models/ets';
import { normalQuantile, stratifiedNormals } from '../../engine/models/quantiles';
import { InvalidModelSpec, NotEnoughData, type Prediction } from '../../engine/models/types';

/** Produced by tests/fixtures/r/make-ets-fixtures.R with R forecast 8.20. */
interface RFit {
  method: string;
  aicc: number;
  mean: number[];
  lower80: number[];
  upper80: number[];
}
interface GoldenCase {
  name: string;
  seasonLength: number;
  horizon: number;
  values: number[];
  auto: RFit;
  fixed: Record<string, RFit>;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/r/ets-golden.json', import.meta.url), 'utf8')) as GoldenCase[];
const goldenCase = (name: string) => golden.find((c) => c.name === name)!;

/** Largest relative difference over the first `steps` forecast steps. */
function maxRelativeDifference(ours: Float64Array, theirs: number[], steps = theirs.length): number {
  let worst = 0;
  for (let i = 0; i < steps; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!) / Math.abs(theirs[i]!));
  return worst;
}

async function forecastCase(name: string, options = {}): Promise<{ description: string; prediction: Prediction; r: RFit }> {
  const c = goldenCase(name);
  const fitted = await autoEts(options).fit({ values: Float64Array.from(c.values), seasonLength: c.seasonLength });
  return { description: fitted.description, prediction: fitted.predict(c.horizon, [0.1, 0.5, 0.9]), r: c.auto };
}

describe('Function: autoEts — golden values from R forecast::ets', () => {
  it.each([
    ['Nile', 'ETS(M,N,N)'],
    ['WWWusage', 'ETS(A,Ad,N)'],
    ['M4_W5_tail200', 'ETS(M,N,N)'],
    ['USAccDeaths', 'ETS(A,N,A)'],
  ])('picks the same model as R for %s (%s) and matches its forecasts', async (name, method) => {
    // Act
    const { description, prediction, r } = await forecastCase(name);
    // Assess: non-seasonal within 0.5 %; seasonal (initial seasonal states not optimised) within 4 %.
    const tolerance = goldenCase(name).seasonLength > 1 && goldenCase(name).seasonLength <= 24 ? 0.04 : 0.005;
    expect(r.method).toBe(method);
    expect(description).toBe(method);
    expect(maxRelativeDifference(prediction.mean, r.mean)).toBeLessThan(tolerance);
    // 80 % bounds one step ahead within 4 % (multiplicative-error intervals are simulated).
    expect(maxRelativeDifference(prediction.quantiles.get(0.1)!, r.lower80, 1)).toBeLessThan(0.04);
    expect(maxRelativeDifference(prediction.quantiles.get(0.9)!, r.upper80, 1)).toBeLessThan(0.04);
  });

  it('gives the M,N,N class R\'s analytic mean and variance at every step, as a log-normal (M4 W5, sd ±1.5 %)', async () => {
    // Prepare: R's interval is Gaussian, so its sd is (upper − lower) / (2 z₀.₉); ours is the
    // log-normal with R's mean and variance, whose moments follow from its 10 % and 90 % quantiles.
    const { prediction, r } = await forecastCase('M4_W5_tail200');
    const z = 1.2815515655446004;
    for (let h = 0; h < r.mean.length; h++) {
      const lower = prediction.quantiles.get(0.1)![h]!;
      const upper = prediction.quantiles.get(0.9)![h]!;
      const sigma = (Math.log(upper) - Math.log(lower)) / (2 * z);
      const median = Math.sqrt(lower * upper);
      const mean = median * Math.exp((sigma * sigma) / 2);
      const sd = mean * Math.sqrt(Math.expm1(sigma * sigma));
      // Assess
      expect(Math.abs(mean - r.mean[h]!) / r.mean[h]!).toBeLessThan(0.005);
      expect(Math.abs(sd - (r.upper80[h]! - r.lower80[h]!) / (2 * z)) / ((r.upper80[h]! - r.lower80[h]!) / (2 * z))).toBeLessThan(0.015);
      expect(upper - prediction.mean[h]!).toBeGreaterThan(prediction.mean[h]! - lower); // right-skewed
    }
  });

  it('keeps a multiplicative-error forecast of a volatile positive series positive and its upper quantiles within reach of the data', async () => {
    // Prepare: yearly totals swinging by factors of 3–6 (M4 W207 summed over 52-week blocks).
    const values = Float64Array.from([31_000, 29_500, 30_800, 34_000, 40_200, 55_921, 81_189, 138_826, 794_719, 543_423, 220_198]);
    const form: EtsForm = { error: 'M', trend: 'N', damped: false, season: 'N' };
    const fit = fitEtsForm(values, 1, form)!;
    // Act
    const prediction = etsPredict(fit, 6, [0.1, 0.5, 0.9]);
    // Assess: a Gaussian with this variance reaches ±20× the level by step 6; the log-normal stays
    // positive, its median below the mean, its 90 % quantile within a few times the largest value.
    for (let h = 0; h < 6; h++) {
      expect(prediction.quantiles.get(0.1)![h]!).toBeGreaterThan(0);
      expect(prediction.quantiles.get(0.5)![h]!).toBeLessThan(prediction.mean[h]!);
      expect(prediction.quantiles.get(0.9)![h]!).toBeLessThan(5 * 794_719);
    }
  });

  it('matches R within 1 % on USAccDeaths when the initial seasonal states are optimised too', async () => {
    const { prediction, r } = await forecastCase('USAccDeaths', { seasonalStateEvaluations: 3000 });
    expect(maxRelativeDifference(prediction.mean, r.mean)).toBeLessThan(0.01);
  });

  it('chooses a multiplicative-error, multiplicative-season model for AirPassengers like R (damping may differ)', async () => {
    // R: ETS(M,Ad,M) (AICc 1400.6); ours: ETS(M,A,M) — R's own M,A,M fit is within 3 AICc of it.
    const { description, prediction, r } = await forecastCase('AirPassengers');
    expect(description).toMatch(/^ETS\(M,Ad?,M\)$/);
    expect(maxRelativeDifference(prediction.mean, r.mean, 6)).toBeLessThan(0.08);
  });

  it('chooses a multiplicative-error, multiplicative-season model for 3 weeks of M4 H1 like R (trend may differ)', async () => {
    // R: ETS(M,Ad,M); ours: ETS(M,N,M) (β ≤ 0.2α on seasonal data, fixed initial seasonal states).
    const { description, prediction, r } = await forecastCase('M4_H1_first504');
    expect(description).toMatch(/^ETS\(M,(N|A|Ad),M\)$/);
    expect(maxRelativeDifference(prediction.mean, r.mean, 24)).toBeLessThan(0.1);
  });

  it.each([
    ['Nile', 'ANN'],
    ['Nile', 'AAN'],
    ['WWWusage', 'AAN'],
    ['WWWusage', 'MAN'],
  ])('fits %s with the fixed form %s: AICc no worse than R (within 1 pct), forecasts within 1 pct', (name, model) => {
    // Prepare
    const c = goldenCase(name);
    const form: EtsForm = { error: model[0] as 'A' | 'M', trend: model[1] as 'N' | 'A', damped: false, season: 'N' };
    // Act
    const fit = fitEtsForm(Float64Array.from(c.values), c.seasonLength, form)!;
    const prediction = etsPredict(fit, c.horizon, [0.5]);
    // Assess: our AICc is never meaningfully worse than R's (lower = better optimum).
    const r = c.fixed[model]!;
    expect(fit.aicc).toBeLessThan(r.aicc * 1.0001);
    expect(Math.abs(fit.aicc - r.aicc) / r.aicc).toBeLessThan(0.01);
    expect(maxRelativeDifference(prediction.mean, r.mean)).toBeLessThan(0.01);
  });

  it('fits an additive model\'s 80 % interval analytically like R (ANN on Nile, all steps ±1 %)', () => {
    const c = goldenCase('Nile');
    const fit = fitEtsForm(Float64Array.from(c.values), 1, { error: 'A', trend: 'N', damped: false, season: 'N' })!;
    const prediction = etsPredict(fit, c.horizon, [0.1, 0.9]);
    expect(maxRelativeDifference(prediction.quantiles.get(0.1)!, c.fixed.ANN!.lower80)).toBeLessThan(0.01);
    expect(maxRelativeDifference(prediction.quantiles.get(0.9)!, c.fixed.ANN!.upper80)).toBeLessThan(0.01);
  });
});

describe('Function: stratifiedNormals (the simulated intervals\' draws)', () => {
  it('gives every step the normal quantiles of the strata (i + ½)/n, in a different order per step', () => {
    // Act
    const draws = stratifiedNormals(200, 6);
    // Assess
    const grid = Array.from({ length: 200 }, (_, i) => normalQuantile((i + 0.5) / 200));
    const column = (h: number) => Array.from({ length: 200 }, (_, p) => draws[p * 6 + h]!);
    for (let h = 0; h < 6; h++) expect([...column(h)].sort((a, b) => a - b)).toEqual(grid);
    expect(column(0)).not.toEqual(column(1));
    expect(stratifiedNormals(200, 6)).toBe(draws); // cached: common random numbers across series
  });

  it('gives an ETS(M,A,M) fit the 80 % interval of 20 000 paths within 7 % of its width from the default paths', async () => {
    // Prepare
    const c = goldenCase('AirPassengers');
    const fit = fitEtsForm(Float64Array.from(c.values), c.seasonLength, { error: 'M', trend: 'A', damped: false, season: 'M' })!;
    // Act
    const fewer = etsPredict(fit, 24, [0.1, 0.9]);
    const many = etsPredict(fit, 24, [0.1, 0.9], 20_000);
    // Assess
    expect(SIMULATION_PATHS).toBeLessThan(1000);
    for (const q of [0.1, 0.9]) {
      for (let h = 0; h < 24; h++) {
        const width = many.quantiles.get(0.9)![h]! - many.quantiles.get(0.1)![h]!;
        expect(Math.abs(fewer.quantiles.get(q)![h]! - many.quantiles.get(q)![h]!) / width).toBeLessThan(0.07);
      }
    }
  });
});

describe('Function: candidateForms', () => {
  const positive = Float64Array.from({ length: 200 }, (_, i) => 100 + 10 * Math.sin(i / 3) + (i % 7));
  it('offers R\'s 15 forms for positive seasonal data (no additive-error/multiplicative-season)', () => {
    const names = candidateForms(positive, 12).map(etsFormName);
    expect(names).toHaveLength(15);
    expect(names).not.toContain('ETS(A,N,M)');
    expect(names).toContain('ETS(M,Ad,M)');
  });
  it('ignores seasonality for m > 24, as R does (weekly data, m = 52)', () => {
    expect(candidateForms(positive, 52).every((f) => f.season === 'N')).toBe(true);
  });
  it('offers only additive forms when the data are not strictly positive', () => {
    const withZero = Float64Array.from(positive);
    withZero[5] = 0;
    expect(candidateForms(withZero, 12).every((f) => f.error === 'A' && f.season !== 'M')).toBe(true);
  });
});

describe('Function: autoEts — contract', () => {
  it('throws InvalidModelSpec naming the rule and the value', () => {
    expect(() => autoEts({ model: 'XYZ' })).toThrow(InvalidModelSpec);
    expect(() => autoEts({ model: 'XYZ' })).toThrow(/three letters.*got "XYZ"/);
    expect(() => autoEts({ paths: 10 })).toThrow(/paths must be an integer ≥ 100; got 10/);
    expect(() => autoEts({ seasonalBetaShare: 2 })).toThrow(/seasonalBetaShare must lie in \(0, 1\]; got 2/);
    expect(() => autoEts({ maxObservations: 3 })).toThrow(/maxObservations/);
  });
  it('throws NotEnoughData for fewer than 3 observations', () => {
    expect(() => autoEts().fit({ values: Float64Array.of(1, 2), seasonLength: 1 })).toThrow(NotEnoughData);
  });
  it('forecasts a constant series flat with a zero-width interval', async () => {
    const fitted = await autoEts().fit({ values: new Float64Array(30).fill(7), seasonLength: 1 });
    const p = fitted.predict(3, [0.1, 0.9]);
    expect([...p.mean]).toEqual([7, 7, 7]);
    expect([...p.quantiles.get(0.1)!]).toEqual([7, 7, 7]);
  });
  it('interpolates missing values and gives ordered, widening quantiles', async () => {
    // Prepare: a noisy seasonal series with gaps.
    const values = Float64Array.from({ length: 120 }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 12) + ((i * 7919) % 13) / 3);
    values[40] = NaN;
    values[41] = NaN;
    // Act
    const fitted = await autoEts().fit({ values, seasonLength: 12 });
    const p = fitted.predict(24, [0.1, 0.5, 0.9]);
    // Assess
    for (let h = 0; h < 24; h++) {
      expect(Number.isFinite(p.mean[h]!)).toBe(true);
      expect(p.quantiles.get(0.1)![h]!).toBeLessThanOrEqual(p.quantiles.get(0.5)![h]!);
      expect(p.quantiles.get(0.5)![h]!).toBeLessThanOrEqual(p.quantiles.get(0.9)![h]!);
    }
    const width = (h: number) => p.quantiles.get(0.9)![h]! - p.quantiles.get(0.1)![h]!;
    expect(width(23)).toBeGreaterThan(width(0));
  });
  it('rejects quantiles outside (0, 1)', async () => {
    const fitted = await autoEts().fit({ values: Float64Array.from({ length: 30 }, (_, i) => 10 + (i % 4)), seasonLength: 1 });
    expect(() => fitted.predict(2, [1.5])).toThrow(/quantiles must lie in \(0, 1\), got 1.5/);
  });
});
