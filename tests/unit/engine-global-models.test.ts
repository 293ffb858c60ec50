/**
 * CNN-QR and DeepAR+ (engine/models/cnnqr.ts, deepar.ts) on the real tfjs WASM backend, with tiny
 * networks and few epochs (the product's defaults are larger: docs/models.md), and the bounded HPO
 * wrapper (engine/models/hpo.ts).
 */
import { describe, expect, it } from 'vitest';
import { cnnQr } from '../../engine/models/cnnqr';
import { deepAr } from '../../engine/models/deepar';
import { HPO_MAX_TRIALS, withHpo, type HpoReport } from '../../engine/models/hpo';
import { globalModelSpec } from '../../engine/models/registry';
import { mulberry32 } from '../../engine/models/random';
import { InvalidModelSpec, NotEnoughData, type GlobalForecast, type GlobalModelSpec, type SeriesData } from '../../engine/models/types';

const DAY = 86_400_000;

/**
 * Daily series with a known promotion effect: sales = level × (1 + 0.2 sin) × noise, times `lift`
 * on promotion days (promotions drawn at random, ~20 % of days, known over the horizon too).
 */
function promotedPanel(items: number, n: number, horizon: number, lift: number, seed = 7): SeriesData[] {
  const random = mulberry32(seed);
  return Array.from({ length: items }, (_, i) => {
    const promo = new Float64Array(n + horizon).map(() => (random() < 0.2 ? 1 : 0));
    const level = 10 + 7 * i;
    const values = new Float64Array(n).map((_, t) => Math.round(level * (1 + 0.2 * Math.sin(t / 5)) * (promo[t] ? lift : 1) * (0.9 + 0.2 * random())));
    const timestamps = Array.from({ length: n }, (_, t) => new Date(Date.UTC(2024, 0, 1) + t * DAY));
    return { values, seasonLength: 7, timestamps, related: { promo } };
  });
}

const tinyCnn = { epochs: 2, channels: 8, batchSize: 16, batchesPerEpoch: 4, contextLength: 14 };
const tinyDeepAr = { epochs: 2, numCells: 8, batchSize: 16, batchesPerEpoch: 4, contextLength: 7, samples: 50 };
const QUANTILES = [0.1, 0.5, 0.9];

describe.each<[string, (seed: number) => GlobalModelSpec]>([
  ['CNN-QR', (seed) => cnnQr({ ...tinyCnn, seed })],
  ['DeepAR+', (seed) => deepAr({ ...tinyDeepAr, seed })],
])('%s', (_, model) => {
  it('forecasts every series of the panel: the horizon, every quantile asked for, finite and ordered', async () => {
    // Prepare
    const panel = promotedPanel(4, 80, 7, 2);

    // Act
    const forecast = await model(1).fitPredict(panel, 7, QUANTILES);

    // Assess
    expect(forecast.predictions).toHaveLength(4);
    for (const p of forecast.predictions) {
      expect(p.mean).toHaveLength(7);
      expect([...p.quantiles.keys()]).toEqual(QUANTILES);
      const [low, mid, high] = QUANTILES.map((q) => p.quantiles.get(q)!);
      for (let h = 0; h < 7; h++) {
        expect(Number.isFinite(p.mean[h]!)).toBe(true);
        expect(low![h]).toBeLessThanOrEqual(mid![h]!);
        expect(mid![h]).toBeLessThanOrEqual(high![h]!);
      }
    }
  });

  it('gives the same forecast for the same seed, and another for another seed', async () => {
    // Prepare
    const panel = promotedPanel(3, 60, 7, 2);

    // Act
    const [a, b, c] = await Promise.all([1, 1, 2].map((seed) => model(seed).fitPredict(panel, 7, QUANTILES)));

    // Assess
    const values = (f: GlobalForecast | undefined) => f!.predictions.map((p) => [...p.mean, ...p.quantiles.get(0.9)!]);
    expect(values(b)).toEqual(values(a));
    expect(values(c)).not.toEqual(values(a));
  });
});

/** Mean of the p50 forecast on promotion days over its mean on the other days, over all series. */
function promotionRatio(panel: readonly SeriesData[], predictions: { quantiles: ReadonlyMap<number, Float64Array> }[], horizon: number): number {
  let promoted = 0;
  let plain = 0;
  predictions.forEach((p, i) => {
    const promo = panel[i]!.related!.promo!;
    const n = panel[i]!.values.length;
    const level = panel[i]!.values.reduce((a, v) => a + v, 0) / n; // compare items on one footing
    const mid = p.quantiles.get(0.5)!;
    for (let h = 0; h < horizon; h++) {
      if (promo[n + h]) promoted += mid[h]! / level;
      else plain += mid[h]! / level;
    }
  });
  const promotedDays = predictions.reduce((s, _, i) => s + [...panel[i]!.related!.promo!.subarray(panel[i]!.values.length)].filter((v) => v === 1).length, 0);
  const plainDays = predictions.length * horizon - promotedDays;
  return promoted / promotedDays / (plain / plainDays);
}

describe('learning a known promotion effect (sales × 2 on promotion days)', () => {
  const horizon = 14;
  const panel = promotedPanel(10, 150, horizon, 2, 11);

  it.each<[string, () => GlobalModelSpec]>([
    ['CNN-QR', () => cnnQr({ epochs: 8, channels: 16, batchSize: 32, batchesPerEpoch: 10, contextLength: 14 })],
    ['DeepAR+', () => deepAr({ epochs: 8, numCells: 16, batchSize: 32, batchesPerEpoch: 10, contextLength: 7, samples: 50, learningRate: 5e-3 })],
  ])('%s forecasts promotion days about twice as high as the others', async (name, model) => {
    // Act
    const forecast = await model().fitPredict(panel, horizon, QUANTILES);

    // Assess: the true ratio is 2; without the feature a model could not tell the days apart.
    const ratio = promotionRatio(panel, forecast.predictions, horizon);
    expect(ratio, name).toBeGreaterThan(1.6);
    expect(ratio, name).toBeLessThan(2.5);
  });

  it('CNN-QR without the related data (use_related_data NONE) cannot see the promotions', async () => {
    // Act
    const forecast = await cnnQr({ epochs: 8, channels: 16, batchSize: 32, batchesPerEpoch: 10, contextLength: 14, useRelatedData: 'NONE' }).fitPredict(panel, horizon, QUANTILES);

    // Assess
    const ratio = promotionRatio(panel, forecast.predictions, horizon);
    expect(ratio).toBeLessThan(1.25);
  });
});

/**
 * What the pipeline gives the engine: log1p of the sales (its default transform), so a promotion
 * that multiplies sales by `lift` is an additive log(lift) (log 2 ≈ 0.69), the same for a 5-unit
 * and a 300-unit seller, while the levels (log1p 1.8–5.7) differ far more than the lift does.
 */
function logPromotedPanel(items: number, n: number, horizon: number, lift: (item: number) => number = () => 2, seed = 5): SeriesData[] {
  const random = mulberry32(seed);
  return Array.from({ length: items }, (_, i) => {
    const promo = new Float64Array(n + horizon).map(() => (random() < 0.2 ? 1 : 0));
    const level = 5 * Math.pow(60, i / Math.max(1, items - 1)); // 5 … 300 units a day
    const values = new Float64Array(n).map((_, t) => Math.log1p(level * (1 + 0.2 * Math.sin(t / 5)) * (promo[t] ? lift(i) : 1) * (0.9 + 0.2 * random())));
    const timestamps = Array.from({ length: n }, (_, t) => new Date(Date.UTC(2024, 0, 1) + t * DAY));
    return { values, seasonLength: 7, timestamps, related: { promo } };
  });
}

/** Mean over the series of (p50 on promotion days − p50 on the others) over the horizon. */
function promotionShift(panel: readonly SeriesData[], predictions: { quantiles: ReadonlyMap<number, Float64Array> }[], horizon: number): number {
  const shifts = predictions.map((p, i) => {
    const promo = panel[i]!.related!.promo!.subarray(panel[i]!.values.length);
    const mid = p.quantiles.get(0.5)!;
    const mean = (on: number) => {
      const days = [...Array(horizon).keys()].filter((h) => promo[h] === on);
      return days.reduce((a, h) => a + mid[h]!, 0) / days.length;
    };
    return mean(1) - mean(0);
  });
  return shifts.reduce((a, b) => a + b, 0) / shifts.length;
}

describe('CNN-QR on log1p sales (the pipeline default): a promotion is a shift of log(lift)', () => {
  const horizon = 14;
  const panel = logPromotedPanel(10, 150, horizon);
  const options = { epochs: 8, channels: 16, batchSize: 32, batchesPerEpoch: 10, contextLength: 14 };

  it('recovers the shift for big and small sellers alike', async () => {
    // Act
    const forecast = await cnnQr(options).fitPredict(panel, horizon, QUANTILES);

    // Assess: 0.69 is the truth; a model blind to the promotions would give about 0.
    const shift = promotionShift(panel, forecast.predictions, horizon);
    expect(shift).toBeGreaterThan(0.5);
    expect(shift).toBeLessThan(0.9);
    const biggest = promotionShift(panel.slice(-3), forecast.predictions.slice(-3), horizon);
    expect(biggest).toBeGreaterThan(0.5);
  });

  it("learns each item's own lift: × 1.5 and × 3 on alternate items (shifts 0.41 and 1.10)", async () => {
    // Prepare
    const mixed = logPromotedPanel(10, 150, horizon, (i) => (i % 2 ? 3 : 1.5));

    // Act
    const forecast = await cnnQr(options).fitPredict(mixed, horizon, QUANTILES);

    // Assess: a model that learns one lift for all items forecasts about the same shift for both
    // groups; the item embedding lets it tell them apart.
    const group = (odd: number) => {
      const items = mixed.map((_, i) => i).filter((i) => i % 2 === odd);
      return promotionShift(items.map((i) => mixed[i]!), items.map((i) => forecast.predictions[i]!), horizon);
    };
    const [low, high] = [group(0), group(1)];
    expect(low).toBeGreaterThan(0.25);
    expect(low).toBeLessThan(0.55);
    expect(high).toBeGreaterThan(0.65);
    expect(high - low).toBeGreaterThan(0.25);
  });

  it('sees no shift without the related data', async () => {
    // Act
    const forecast = await cnnQr({ ...options, useRelatedData: 'NONE' }).fitPredict(panel, horizon, QUANTILES);

    // Assess
    expect(Math.abs(promotionShift(panel, forecast.predictions, horizon))).toBeLessThan(0.2);
  });
});

describe('rules a global model enforces', () => {
  it('refuses a related series that does not cover the forecast horizon', async () => {
    // Prepare
    const [series] = promotedPanel(1, 40, 7, 2);
    const short = { ...series!, related: { promo: series!.related!.promo!.subarray(0, 43) } };

    // Act
    const fit = cnnQr(tinyCnn).fitPredict([short], 7, QUANTILES);

    // Assess
    await expect(fit).rejects.toThrow(/Related series "promo" covers 3 of the 7 forecast steps; it must cover the whole forecast horizon/);
  });

  it('refuses the negative binomial likelihood for values that are not counts', async () => {
    // Prepare
    const [series] = promotedPanel(1, 40, 7, 2);
    const negative = { ...series!, values: series!.values.map((v, t) => (t === 3 ? -2 : v)) };

    // Act
    const fit = deepAr({ ...tinyDeepAr, likelihood: 'negative-binomial' }).fitPredict([negative], 7, QUANTILES);

    // Assess
    await expect(fit).rejects.toBeInstanceOf(InvalidModelSpec);
    await expect(fit).rejects.toThrow(/negative-binomial needs non-negative integer targets, got -2/);
  });

  it('forecasts counts with the negative binomial likelihood: whole, non-negative quantiles', async () => {
    // Prepare
    const panel = promotedPanel(3, 60, 7, 2);

    // Act
    const forecast = await deepAr({ ...tinyDeepAr, likelihood: 'negative-binomial' }).fitPredict(panel, 7, [0.1, 0.9]);

    // Assess: empirical quantiles of integer draws interpolate, so only the sign is exact.
    for (const p of forecast.predictions) for (const q of [0.1, 0.9]) for (const v of p.quantiles.get(q)!) expect(v).toBeGreaterThanOrEqual(0);
  });

  it('cannot train when no series is longer than the horizon (NotEnoughData: the fallback chain takes over)', async () => {
    // Prepare
    const [series] = promotedPanel(1, 7, 7, 2);

    // Act
    const fit = cnnQr(tinyCnn).fitPredict([series!], 7, QUANTILES);

    // Assess
    await expect(fit).rejects.toBeInstanceOf(NotEnoughData);
  });
});

describe('PerformHPO: a bounded search on a validation split', () => {
  /**
   * A stand-in model (no network): its forecast is the last value times `contextLength / 10`, so
   * the trial with contextLength 10 forecasts a flat panel exactly. Records every training.
   */
  function recordingModel(calls: { overrides: Readonly<Record<string, number>>; lengths: number[] }[]) {
    return (overrides: Readonly<Record<string, number>>): GlobalModelSpec => ({
      algorithm: 'CNNQR',
      kind: 'global',
      async fitPredict(panel, horizon, quantiles) {
        calls.push({ overrides, lengths: panel.map((s) => s.values.length) });
        const factor = (overrides.contextLength ?? 20) / 10;
        return {
          description: 'stand-in',
          predictions: panel.map((s) => {
            const v = new Float64Array(horizon).fill(s.values[s.values.length - 1]! * factor);
            return { mean: v, quantiles: new Map(quantiles.map((q) => [q, v])) };
          }),
        };
      },
    });
  }

  it('trains at most 3 trials on the shortened series with a third of the epochs, then the best on all data, and returns its choice', async () => {
    // Prepare
    const calls: { overrides: Readonly<Record<string, number>>; lengths: number[] }[] = [];
    let report: HpoReport | undefined;
    const flat: SeriesData[] = [40, 50].map((n) => ({ values: new Float64Array(n).fill(5), seasonLength: 1 }));
    const trials = [() => ({}), () => ({ contextLength: 10 }), () => ({ contextLength: 40 }), () => ({ contextLength: 30 })];

    // Act
    const forecast = await withHpo('CNNQR', recordingModel(calls), trials, () => 30, (r) => (report = r)).fitPredict(flat, 7, [0.5]);

    // Assess
    expect(calls).toHaveLength(HPO_MAX_TRIALS + 1);
    expect(calls.slice(0, 3).map((c) => c.overrides.epochs)).toEqual([10, 10, 10]);
    expect(calls.slice(0, 3).every((c) => c.lengths.join() === '33,43')).toBe(true);
    expect(calls[3]).toEqual({ overrides: { contextLength: 10 }, lengths: [40, 50] });
    expect(report!.best).toEqual({ contextLength: 10 });
    expect(report!.trials.map((t) => t.loss)).toEqual([1, 0, 3]);
    expect(forecast.predictions[0]!.mean[0]).toBe(5);
    expect(forecast.description).toMatch(/HPO on a validation split/);
    expect(forecast.tunedParameters).toEqual({ context_length: '10' });
  });

  it('keeps the TrainingParameters the caller fixed out of the search', async () => {
    // Act
    const spec = globalModelSpec('CNNQR', { context_length: '14', epochs: '1' }, true);
    const forecast = await spec.fitPredict(promotedPanel(3, 60, 7, 2), 7, QUANTILES);

    // Assess: the only trial left is the given setting, trained on the split, then on all data.
    expect(forecast.description).toMatch(/^CNN-QR\(context_length=14, epochs=1,/);
    expect(forecast.description).toMatch(/\[HPO on a validation split: \{\}: [\d.]+\]$/);
  });
});
