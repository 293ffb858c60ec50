/**
 * Engine-local seasonal naive model: the last observed season repeated, Gaussian quantiles from the
 * seasonal-difference residuals (σ·√k for the k-th season ahead). The engine's last-resort fallback
 * and its model for fast tests; baselines.ts holds the full-featured baselines.
 */
import { normalQuantile } from './quantiles';
import { NotEnoughData, type FittedModel, type ModelSpec, type SeriesData } from './types';

/** Seasonal naive with period `seasonLength` (1 → naive). */
export function seasonalNaiveStub(options: { readonly seasonLength?: number } = {}): ModelSpec {
  return {
    algorithm: 'SEASONAL_NAIVE',
    fit(series: SeriesData): FittedModel {
      const values = Array.from(series.values).filter((v) => !Number.isNaN(v));
      const m = Math.max(1, options.seasonLength ?? series.seasonLength);
      const period = values.length >= m ? m : 1;
      if (values.length < 1) throw new NotEnoughData('Seasonal naive needs at least one observed value');
      const last = values.slice(-period);
      const diffs: number[] = [];
      for (let i = period; i < values.length; i++) diffs.push(values[i]! - values[i - period]!);
      const sigma = diffs.length ? Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / diffs.length) : 0;
      return {
        description: period > 1 ? `SeasonalNaive[${period}]` : 'Naive',
        predict(horizon, quantiles) {
          const mean = new Float64Array(horizon);
          for (let h = 0; h < horizon; h++) mean[h] = last[h % period]!;
          const map = new Map<number, Float64Array>();
          for (const q of quantiles) {
            const z = normalQuantile(q);
            map.set(q, mean.map((v, h) => v + z * sigma * Math.sqrt(Math.floor(h / period) + 1)));
          }
          return { mean, quantiles: map };
        },
      };
    },
  };
}
