/**
 * `PerformHPO: true` for the global models: a small, bounded search on a validation split.
 *
 * The last `horizon` observed periods of every series long enough (more than 2 × horizon + 1
 * periods) are held out; each trial of the search space (engine/models/global-parameters.ts, at
 * most 3) trains on the rest with a third of the epochs and is scored by the mean weighted quantile
 * loss over the requested quantiles on the held-out periods. The best trial then trains on all the
 * data with the full epochs. Budget: 3 × ⅓ + 1 = about twice one training. The chosen settings
 * are returned (`tunedParameters`) so that a later training on more data (the predictor's
 * forecast) reuses them instead of searching again.
 */
import { weightedQuantileLoss, type ScoredSeries } from '../metrics';
import { asTrainingParameters, type Trial } from './global-parameters';
import { canHoldOut } from './neural/calibration';
import { NotEnoughData, type GlobalForecast, type GlobalModelSpec, type SeriesData } from './types';

/** At most this many trials run, whatever the space holds. */
export const HPO_MAX_TRIALS = 3;

export interface HpoReport {
  readonly trials: { readonly overrides: Readonly<Record<string, number>>; readonly loss: number }[];
  readonly best: Readonly<Record<string, number>>;
}

/** The held-out split: series shortened by `horizon`, and what they leave out. */
function validationSplit(panel: readonly SeriesData[], horizon: number) {
  const train: SeriesData[] = [];
  const actual: Float64Array[] = [];
  for (const s of panel) {
    const n = s.values.length;
    if (!canHoldOut(n, horizon)) continue;
    const held = s.values.slice(n - horizon);
    if (held.every((v) => Number.isNaN(v))) continue;
    train.push({ ...s, values: s.values.subarray(0, n - horizon), timestamps: s.timestamps?.slice(0, n - horizon) });
    actual.push(held);
  }
  return { train, actual };
}

function meanQuantileLoss(actual: readonly Float64Array[], forecast: GlobalForecast, quantiles: readonly number[]): number {
  const scored: ScoredSeries[] = actual.map((a, i) => ({ actual: a, mean: forecast.predictions[i]!.mean, scale: 1, quantiles: forecast.predictions[i]!.quantiles }));
  const levels = quantiles.length ? quantiles : [0.5];
  const value = levels.reduce((s, q) => s + weightedQuantileLoss(scored, q), 0) / levels.length;
  return Number.isFinite(value) ? value : Infinity;
}

/**
 * Wraps a global model in the search. `build(overrides)` makes the model with some options
 * replaced (`trial`: for a search trial); a trial's epochs are a third of the model's (at least 1).
 */
export function withHpo(
  algorithm: string,
  build: (overrides: Readonly<Record<string, number>>, trial?: boolean) => GlobalModelSpec,
  trials: readonly Trial[],
  epochs: (overrides: Readonly<Record<string, number>>) => number,
  onReport: (report: HpoReport) => void = () => {},
): GlobalModelSpec {
  return {
    algorithm,
    kind: 'global',
    async fitPredict(panel, horizon, quantiles) {
      const { train, actual } = validationSplit(panel, horizon);
      if (!train.length) throw new NotEnoughData(`HPO needs series longer than 2 × the horizon (${2 * horizon + 1} periods) to hold out a validation window`);
      const results: HpoReport['trials'] = [];
      for (const trial of trials.slice(0, HPO_MAX_TRIALS)) {
        const overrides = trial(horizon);
        const short = { ...overrides, epochs: Math.max(1, Math.ceil(epochs(overrides) / 3)) };
        const forecast = await build(short, true).fitPredict(train, horizon, quantiles);
        results.push({ overrides, loss: meanQuantileLoss(actual, forecast, quantiles) });
      }
      const best = results.reduce((a, b) => (b.loss < a.loss ? b : a)).overrides;
      onReport({ trials: results, best });
      const final = await build(best).fitPredict(panel, horizon, quantiles);
      const tried = results.map((r) => `${JSON.stringify(r.overrides)}: ${r.loss.toFixed(4)}`).join(', ');
      return { ...final, description: `${final.description} [HPO on a validation split: ${tried}]`, tunedParameters: asTrainingParameters(best) };
    },
  };
}
