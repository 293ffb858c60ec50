/**
 * Per-series model choice by backtest on the series' own tail (AutoPredictor-style):
 * every candidate is fitted on the series minus its last `windows × horizon` points and
 * scored on the held-out windows by the mean weighted quantile loss; the best candidate
 * (or a combination of the best few: quantile-wise mean or median, i.e. Vincentisation)
 * is refitted on the whole series.
 */
import { cleanSeries, validateQuantiles } from './quantiles';
import { InvalidModelSpec, NotEnoughData, type FittedModel, type ModelSpec, type Prediction, type SeriesData } from './types';

export interface AutoSelectOptions {
  /** Forecast horizon = length of each backtest window. */
  readonly horizon: number;
  /** Number of backtest windows on the tail (1–5, as Forecast's NumberOfBacktestWindows). Default 1. */
  readonly windows?: number;
  /** Quantiles the backtest loss averages over. Default [0.1, 0.5, 0.9]. */
  readonly lossQuantiles?: readonly number[];
  /** `best`: the single best model; `mean` / `median`: combine the `top` best. Default `best`. */
  readonly combine?: 'best' | 'mean' | 'median';
  /** How many of the best candidates to combine (ignored for `best`). Default 3. */
  readonly top?: number;
}

/** The backtest score of one candidate on one series (lower is better). */
export interface CandidateScore {
  readonly index: number;
  readonly algorithm: string;
  readonly loss: number;
}

/** Mean over `quantiles` of Σ pinball / Σ|y| (×2), Forecast's average wQL for one series. */
export function seriesQuantileLoss(actual: Float64Array, prediction: Prediction, quantiles: readonly number[]): number {
  let scale = 0;
  for (let i = 0; i < actual.length; i++) if (!Number.isNaN(actual[i]!)) scale += Math.abs(actual[i]!);
  let total = 0;
  for (const tau of quantiles) {
    const q = prediction.quantiles.get(tau);
    if (!q) throw new Error(`candidate gave no forecast for quantile ${tau}`);
    let loss = 0;
    for (let i = 0; i < actual.length; i++) {
      const y = actual[i]!;
      if (Number.isNaN(y)) continue;
      const d = y - q[i]!;
      loss += d > 0 ? tau * d : (tau - 1) * d;
    }
    total += scale > 1e-12 ? (2 * loss) / scale : 2 * loss;
  }
  return total / quantiles.length;
}

function combinePredictions(predictions: readonly Prediction[], how: 'mean' | 'median'): Prediction {
  const first = predictions[0]!;
  const horizon = first.mean.length;
  const column = new Float64Array(predictions.length);
  const reduce = (pick: (p: Prediction) => Float64Array): Float64Array => {
    const out = new Float64Array(horizon);
    for (let h = 0; h < horizon; h++) {
      for (let k = 0; k < predictions.length; k++) column[k] = pick(predictions[k]!)[h]!;
      if (how === 'mean') {
        let s = 0;
        for (let k = 0; k < column.length; k++) s += column[k]!;
        out[h] = s / column.length;
      } else {
        const sorted = Float64Array.from(column).sort();
        const mid = sorted.length >> 1;
        out[h] = sorted.length % 2 ? sorted[mid]! : 0.5 * (sorted[mid - 1]! + sorted[mid]!);
      }
    }
    return out;
  };
  const quantiles = new Map<number, Float64Array>();
  for (const q of first.quantiles.keys()) quantiles.set(q, reduce((p) => p.quantiles.get(q)!));
  return { mean: reduce((p) => p.mean), quantiles };
}

/**
 * Chooses (or combines) models per series by backtest loss on the series' tail.
 * @throws InvalidModelSpec for an empty candidate list or options out of range.
 */
export function autoSelect(candidates: readonly ModelSpec[], options: AutoSelectOptions): ModelSpec {
  const windows = options.windows ?? 1;
  const combine = options.combine ?? 'best';
  const top = options.top ?? 3;
  const lossQuantiles = options.lossQuantiles ?? [0.1, 0.5, 0.9];
  if (candidates.length === 0) throw new InvalidModelSpec('autoSelect needs at least one candidate model; got 0');
  if (!(Number.isInteger(options.horizon) && options.horizon >= 1)) {
    throw new InvalidModelSpec(`autoSelect horizon must be a positive integer; got ${options.horizon}`);
  }
  if (!(Number.isInteger(windows) && windows >= 1 && windows <= 5)) {
    throw new InvalidModelSpec(`autoSelect windows must be an integer from 1 to 5; got ${windows}`);
  }
  if (!['best', 'mean', 'median'].includes(combine)) {
    throw new InvalidModelSpec(`autoSelect combine must be best, mean or median; got "${combine}"`);
  }
  if (!(Number.isInteger(top) && top >= 1)) throw new InvalidModelSpec(`autoSelect top must be a positive integer; got ${top}`);
  validateQuantiles(lossQuantiles);
  const horizon = options.horizon;

  return {
    algorithm: 'AUTO',
    async fit(series: SeriesData): Promise<FittedModel> {
      const values = cleanSeries(series.values);
      const n = values.length;
      const losses = new Float64Array(candidates.length);
      // Backtests need a training part of at least two horizons; shorter series skip straight to fitting.
      const usable = Math.min(windows, Math.floor((n - 2 * horizon) / horizon));
      if (usable >= 1) {
        for (let w = usable; w >= 1; w--) {
          const cut = n - w * horizon;
          const train: SeriesData = { ...series, values: values.subarray(0, cut), timestamps: series.timestamps?.slice(0, cut) };
          const actual = values.subarray(cut, cut + horizon);
          for (let c = 0; c < candidates.length; c++) {
            if (!Number.isFinite(losses[c]!)) continue;
            try {
              const fitted = await candidates[c]!.fit(train);
              const loss = seriesQuantileLoss(actual, fitted.predict(horizon, lossQuantiles), lossQuantiles);
              losses[c] = Number.isFinite(loss) ? losses[c]! + loss / usable : Infinity;
            } catch (error) {
              if (!(error instanceof NotEnoughData)) throw error;
              losses[c] = Infinity;
            }
          }
        }
      }
      const order = [...candidates.keys()].filter((c) => Number.isFinite(losses[c]!)).sort((a, b) => losses[a]! - losses[b]!);
      const chosen = combine === 'best' ? order.slice(0, 1) : order.slice(0, top);
      const fitted: { model: FittedModel; index: number }[] = [];
      for (const index of chosen.length > 0 ? chosen : [...candidates.keys()]) {
        try {
          fitted.push({ model: await candidates[index]!.fit({ ...series, values }), index });
        } catch (error) {
          if (!(error instanceof NotEnoughData)) throw error;
        }
        if (chosen.length === 0 && fitted.length > 0) break;
      }
      if (fitted.length === 0) throw new NotEnoughData(`no candidate model could fit a series of ${n} observations`);
      const scores: CandidateScore[] = order.map((index) => ({ index, algorithm: candidates[index]!.algorithm, loss: losses[index]! }));
      const description =
        fitted.length === 1
          ? `AUTO(${fitted[0]!.model.description})`
          : `AUTO(${combine} of ${fitted.map((f) => f.model.description).join(', ')})`;
      return {
        description,
        scores,
        predict(h, quantiles, future): Prediction {
          const predictions = fitted.map((f) => f.model.predict(h, quantiles, future));
          return predictions.length === 1 ? predictions[0]! : combinePredictions(predictions, combine === 'best' ? 'mean' : combine);
        },
      } as FittedModel & { scores: CandidateScore[] };
    },
  };
}
