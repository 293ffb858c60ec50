import { describe, expect, it } from 'vitest';
import { autoArima } from '../../engine/models/arima';

/** Odd short series an engine meets: zeros, constants, intermittent demand, huge values, gaps. */
function oddSeries(count: number): { values: Float64Array; seasonLength: number; label: string }[] {
  let seed = 3;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const kinds = ['noise', 'zeros', 'const', 'intermittent', 'trend', 'huge', 'gaps'] as const;
  return Array.from({ length: count }, (_, it) => {
    const n = 4 + Math.floor(rnd() * 60);
    const kind = kinds[it % kinds.length]!;
    const seasonLength = [1, 4, 7, 12, 24][it % 5]!;
    const values = Float64Array.from({ length: n }, (_, i) => {
      switch (kind) {
        case 'zeros': return 0;
        case 'const': return 5;
        case 'intermittent': return rnd() < 0.8 ? 0 : Math.floor(rnd() * 5);
        case 'trend': return i * 3 + rnd();
        case 'huge': return 1e9 * rnd();
        case 'gaps': return rnd() < 0.3 ? NaN : rnd() * 10;
        default: return rnd();
      }
    });
    return { values, seasonLength, label: `${kind} n=${n} m=${seasonLength}` };
  });
}

describe('Function: autoArima on odd series', () => {
  it('forecasts finite, ordered quantiles or throws NotEnoughData — nothing else', async () => {
    for (const s of oddSeries(70)) {
      // Act
      let outcome: string;
      try {
        const p = (await autoArima().fit(s)).predict(7, [0.1, 0.5, 0.9]);
        const lo = p.quantiles.get(0.1)!;
        const hi = p.quantiles.get(0.9)!;
        const ok = [...p.mean, ...lo, ...hi].every(Number.isFinite) && lo.every((v, j) => v <= hi[j]! + 1e-9);
        outcome = ok ? 'ok' : 'bad forecast';
      } catch (error) {
        outcome = (error as Error).name === 'NotEnoughData' ? 'ok' : `threw ${String(error)}`;
      }

      // Assess
      expect(`${s.label}: ${outcome}`).toBe(`${s.label}: ok`);
    }
  });
});
