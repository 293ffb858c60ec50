/**
 * The global models' interval calibration (engine/models/neural/calibration.ts): training never
 * targets the held-out last horizon, the factor is the conformal factor of the held-out forecasts,
 * and on data where a briefly trained network's band is off, the calibrated band covers the next,
 * unseen horizon closer to 80 %.
 */
import { describe, expect, it } from 'vitest';
import { cnnQr } from '../../engine/models/cnnqr';
import { calibrationHoldout, calibrationNote, heldOutIntervalFactor } from '../../engine/models/neural/calibration';
import { buildPanel, forecastWindows, windowSampler } from '../../engine/models/neural/panel';
import { mulberry32 } from '../../engine/models/random';
import type { Prediction, SeriesData } from '../../engine/models/types';

const DAY = 86_400_000;
const HORIZON = 7;

function noisyPanel(items: number, n: number, seed: number): SeriesData[] {
  const random = mulberry32(seed);
  return Array.from({ length: items }, (_, i) => {
    const level = 20 + 5 * i;
    const spread = 1 + (i % 4);
    // Heavy-tailed noise (a sum of uniforms, cubed): a band learnt in a few batches misjudges it.
    const values = new Float64Array(n).map(() => {
      const u = random() + random() + random() - 1.5;
      return level + spread * 4 * u * u * u;
    });
    const timestamps = Array.from({ length: n }, (_, t) => new Date(Date.UTC(2024, 0, 1) + t * DAY));
    return { values, seasonLength: 7, timestamps };
  });
}

describe('held-out calibration window', () => {
  it('is never a training target, and forecasting from it starts `heldOut` periods before the end', () => {
    const panel = buildPanel(noisyPanel(5, 60, 1), HORIZON);
    const heldOut = calibrationHoldout(panel);
    expect(heldOut).toBe(HORIZON);

    const sample = windowSampler(panel, 3, heldOut);
    let latestEnd = 0;
    for (let k = 0; k < 5000; k++) {
      const w = sample();
      latestEnd = Math.max(latestEnd, w.start + HORIZON);
    }
    expect(latestEnd).toBe(60 - heldOut);
    expect(forecastWindows(panel, heldOut).map((w) => w.start)).toEqual([53, 53, 53, 53, 53]);
  });

  it('is not held out when no series could keep more than a horizon + 1 to train on', () => {
    const panel = buildPanel(noisyPanel(3, 2 * HORIZON + 1, 1), HORIZON);
    expect(calibrationHoldout(panel)).toBe(0);
    expect(heldOutIntervalFactor(panel, 0, [])).toBe(1);
    expect(calibrationNote(0, 1)).toMatch(/uncalibrated/);
  });
});

describe('heldOutIntervalFactor', () => {
  it("is the conformal factor of the actuals' distance from the median in half-widths, one window a series", () => {
    const data = noisyPanel(4, 40, 2);
    const panel = buildPanel(data, HORIZON);
    // Median 0.5 below every held-out actual, band half-width 0.25: every ratio is 2.
    const predictions: Prediction[] = data.map((s) => {
      const actual = s.values.subarray(40 - HORIZON);
      const mid = actual.map((v) => v - 0.5);
      return { mean: mid, quantiles: new Map([[0.1, mid.map((v) => v - 0.25)], [0.5, mid], [0.9, mid.map((v) => v + 0.25)]]) };
    });
    // Four windows: shrunk towards 1 by 4 / 5 in log space.
    expect(heldOutIntervalFactor(panel, HORIZON, predictions)).toBeCloseTo(2 ** (4 / 5), 10);
  });
});

describe('CNN-QR trained briefly on heavy-tailed noise', () => {
  it('covers the next, unseen horizon closer to 80 % with its intervals calibrated', async () => {
    const full = noisyPanel(40, 200 + HORIZON, 5);
    const seen = full.map((s) => ({ ...s, values: s.values.subarray(0, 200), timestamps: s.timestamps!.slice(0, 200) }));
    const options = { epochs: 3, channels: 8, batchSize: 16, batchesPerEpoch: 4, contextLength: 14, seed: 1 };
    const coverage = async (calibrateIntervals: boolean) => {
      const forecast = await cnnQr({ ...options, calibrateIntervals }).fitPredict(seen, HORIZON, [0.1, 0.5, 0.9]);
      let inside = 0;
      full.forEach((s, i) => {
        const p = forecast.predictions[i]!;
        for (let h = 0; h < HORIZON; h++) {
          const y = s.values[200 + h]!;
          if (y >= p.quantiles.get(0.1)![h]! && y <= p.quantiles.get(0.9)![h]!) inside++;
        }
      });
      return { share: inside / (full.length * HORIZON), description: forecast.description };
    };

    const own = await coverage(false);
    const calibrated = await coverage(true);

    expect(own.description).not.toMatch(/intervals/);
    expect(calibrated.description).toMatch(/intervals × \d+\.\d{3} \(conformal, from the held-out last 7 periods\)/);
    expect(Math.abs(calibrated.share - 0.8)).toBeLessThan(Math.abs(own.share - 0.8));
  });
});
