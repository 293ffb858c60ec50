/**
 * Per-series combination of models by backtests on the series' own tail. `autoEnsemble` is the
 * engine's AUTO (several backtest windows, weighted quantile-wise combination, calibrated
 * intervals); `autoSelect` is the earlier per-series choice of one model (or a mean/median of the
 * best few) from the last windows, kept for bench/m4.ts's bench-only rows.
 */
import { seasonalNaive, stlEts, theta } from './baselines';
import { backtestCuts, backtestPredictions, intervalFactor, trainingPart } from './calibration';
import { autoArima } from './arima';
import { autoEts, autoEtsWithDamped } from './ets';
import { prophet } from './prophet';
import { intermittent } from './intermittent';
import { CALIBRATION_QUANTILES, cleanSeries, scaleQuantiles, validateQuantiles, withCalibrationQuantiles } from './quantiles';
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

export interface EnsembleMember {
  readonly algorithm: string;
  /** Mean backtest wQL over the windows the member could fit (Infinity: left out). */
  readonly loss: number;
  /** Weight in the combination (0: not combined). */
  readonly weight: number;
}

export interface AutoEnsembleOptions {
  /** Forecast horizon = length of each backtest window. */
  readonly horizon: number;
  /** Backtest origins on the series' tail that weigh the members and calibrate the intervals. Default 3. */
  readonly windows?: number;
  /** How many of the best members are combined. Default 3. */
  readonly top?: number;
  /** Members for series with regular demand; default `regularMembersFor(series)` and the long-cycle and related-data members. */
  readonly members?: readonly ModelSpec[];
  /** Members for intermittent series (many zeros); default `intermittentMembers()`. */
  readonly intermittentMembers?: readonly ModelSpec[];
}

/** A fitted ensemble: what it combined and how (tests and the bench read these). */
export interface FittedEnsemble extends FittedModel {
  readonly members: readonly EnsembleMember[];
  /** Training lengths of the backtest origins the weights and the interval factor came from. */
  readonly cuts: readonly number[];
  readonly intervalFactor: number;
}

/** Share of zeros above which a non-negative series is treated as intermittent demand. */
export const INTERMITTENT_ZERO_SHARE = 0.3;

export function isIntermittent(values: Float64Array): boolean {
  let zeros = 0;
  let observed = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (v < 0) return false;
    observed++;
    if (v === 0) zeros++;
  }
  return observed > 0 && zeros / observed >= INTERMITTENT_ZERO_SHARE;
}

/**
 * Quantile-wise weighted mean of the members' forecasts (Vincentisation); the mean likewise.
 * Each member's quantiles are ordered, and a positive-weight average of ordered vectors is ordered.
 */
export function weightedCombination(predictions: readonly Prediction[], weights: readonly number[], quantiles: readonly number[]): Prediction {
  const horizon = predictions[0]!.mean.length;
  const total = weights.reduce((a, b) => a + b, 0);
  const reduce = (pick: (p: Prediction) => Float64Array) => {
    const out = new Float64Array(horizon);
    predictions.forEach((p, k) => {
      const v = pick(p);
      const w = weights[k]! / total;
      for (let h = 0; h < horizon; h++) out[h] = out[h]! + w * v[h]!;
    });
    return out;
  };
  return {
    mean: reduce((p) => p.mean),
    quantiles: new Map(quantiles.map((q) => [q, reduce((p) => p.quantiles.get(q)!)])),
  };
}

/**
 * AUTO as an ensemble (CreateAutoPredictor, `--algorithm AUTO`). Per series:
 * 1. the members (regular or intermittent, by the share of zeros) are fitted before each of up
 *    to `windows` origins on the series' tail and scored on what follows by the mean wQL at
 *    0.1/0.5/0.9 — several windows, so that one lucky window does not pick the model;
 * 2. the `top` members with the lowest mean loss are combined quantile-wise with weights ∝ 1/loss²
 *    (`weighMembers`);
 * 3. the combination's own backtest forecasts give the conformal interval factor
 *    (engine/models/calibration.ts) — on each window the combination weighed on the other windows,
 *    so that the factor is measured out of sample — and the quantiles are those of the
 *    combination, calibrated, not those of one member;
 * 4. the combined members are refitted on the whole series.
 * Everything is decided from the series it is given: in the engine's backtests (GetAccuracyMetrics)
 * AUTO is given only the data before each scored window, so the windows that weigh the members are
 * never the ones the ensemble is scored on.
 * A series too short for any origin gets the equal-weight combination of every member that fits.
 */
export function autoEnsemble(options: AutoEnsembleOptions): ModelSpec {
  const windows = options.windows ?? 3;
  const top = options.top ?? 3;
  const horizon = options.horizon;
  if (!(Number.isInteger(horizon) && horizon >= 1)) throw new InvalidModelSpec(`autoEnsemble horizon must be a positive integer; got ${horizon}`);
  if (!(Number.isInteger(windows) && windows >= 1 && windows <= 10)) throw new InvalidModelSpec(`autoEnsemble windows must be an integer from 1 to 10; got ${windows}`);
  if (!(Number.isInteger(top) && top >= 1)) throw new InvalidModelSpec(`autoEnsemble top must be a positive integer; got ${top}`);
  const sparse = options.intermittentMembers ?? intermittentMembers();
  if (options.members?.length === 0 || sparse.length === 0) throw new InvalidModelSpec('autoEnsemble needs at least one member of each kind');

  return {
    algorithm: 'AUTO',
    async fit(series: SeriesData): Promise<FittedEnsemble> {
      const members = isIntermittent(series.values)
        ? sparse
        : (options.members ?? [...regularMembersFor(series), ...longCycleMembers(series), ...relatedDataMembers(series)]);
      const cuts = backtestCuts(series.values.length, horizon, series.seasonLength, windows);
      // One training object per origin, shared by the members (the two ETS members share one search on it).
      const parts = cuts.map(({ cut }) => trainingPart(series, cut));
      const backtests: (Prediction | undefined)[][] = [];
      for (const member of members) backtests.push(await backtestPredictions(member, parts, horizon, CALIBRATION_QUANTILES));
      // windowLoss[k][w]; a member is scored on every window or not at all, so that losses compare like with like.
      const windowLoss = backtests.map((predictions) =>
        predictions.length === 0 || predictions.some((p) => !p)
          ? []
          : cuts.map(({ cut, length }, w) => seriesQuantileLoss(series.values.subarray(cut, cut + length), truncate(predictions[w]!, length), CALIBRATION_QUANTILES)),
      );
      const meanLoss = (k: number, skip = -1) => {
        const own = windowLoss[k]!.filter((_, w) => w !== skip);
        const mean = own.length ? own.reduce((a, b) => a + b, 0) / own.length : Infinity;
        return Number.isFinite(mean) ? mean : Infinity;
      };
      const losses = members.map((_, k) => meanLoss(k));
      const { chosen, weights, ranked } = weighMembers(losses, top);
      // The interval factor from each window's combination weighed on the *other* windows: weights
      // picked on a window flatter its errors (the winner's curse), and the intervals would come out narrow.
      let factor = 1;
      if (ranked > 0) {
        const combined = cuts.map((_, w) => {
          const pick = cuts.length > 1 ? weighMembers(members.map((_, k) => meanLoss(k, w)), top) : { chosen, weights, ranked };
          return pick.ranked > 0 ? weightedCombination(pick.chosen.map((k) => backtests[k]![w]!), pick.weights, CALIBRATION_QUANTILES) : undefined;
        });
        factor = intervalFactor(series.values, cuts, combined, horizon);
      }
      const fitted: { model: FittedModel; weight: number; index: number }[] = [];
      for (const [j, k] of chosen.entries()) {
        try {
          fitted.push({ model: await members[k]!.fit(series), weight: weights[j]!, index: k });
        } catch (error) {
          if (!(error instanceof NotEnoughData)) throw error;
        }
      }
      if (fitted.length === 0) throw new NotEnoughData(`no ensemble member could fit a series of ${series.values.length} observations`);
      const total = fitted.reduce((a, f) => a + f.weight, 0);
      const weightOf = new Map(fitted.map((f) => [f.index, f.weight / total]));
      return {
        description: `AUTO(${fitted.map((f) => f.model.description).join(' + ')})`,
        members: members.map((m, k) => ({ algorithm: m.algorithm, loss: losses[k] ?? Infinity, weight: weightOf.get(k) ?? 0 })),
        cuts: cuts.map((c) => c.cut),
        intervalFactor: factor,
        predict(h, quantiles, future): Prediction {
          const asked = withCalibrationQuantiles(quantiles);
          const combined = weightedCombination(fitted.map((f) => f.model.predict(h, asked, future)), fitted.map((f) => f.weight), asked);
          return scaleQuantiles(combined, factor, quantiles);
        },
        dispose() {
          for (const f of fitted) f.model.dispose?.();
        },
      };
    },
  };
}

/**
 * The `top` members with the lowest finite loss and their weights ∝ 1/loss² (losses floored at
 * 1e-12: members with a perfect backtest share the weight); every member with equal weights when
 * none has a finite loss (`ranked` = 0).
 */
export function weighMembers(losses: readonly number[], top: number): { chosen: number[]; weights: number[]; ranked: number } {
  const ranked = [...losses.keys()].filter((k) => Number.isFinite(losses[k]!)).sort((a, b) => losses[a]! - losses[b]! || a - b);
  if (ranked.length === 0) return { chosen: [...losses.keys()], weights: losses.map(() => 1), ranked: 0 };
  const chosen = ranked.slice(0, top);
  return { chosen, weights: chosen.map((k) => Math.max(losses[k]!, 1e-12) ** -2), ranked: ranked.length };
}

function truncate(p: Prediction, length: number): Prediction {
  if (p.mean.length === length) return p;
  return { mean: p.mean.subarray(0, length), quantiles: new Map([...p.quantiles].map(([q, v]) => [q, v.subarray(0, length)])) };
}

/**
 * Members for this regular series: ETS (AICc choice) and the best damped-trend ETS form — which
 * choose their forms once, on this whole series, and only re-estimate them at the backtest origins
 * (`autoEtsWithDamped(series)`) — Theta, seasonal naive, and STL + ETS, or ARIMA where STL finds no
 * season to remove (season length 1, or fewer than three seasons): there STL + ETS is the ETS member
 * again, which would take two of the three combined places, and ARIMA — whose differencing and drift
 * extrapolate trends unlike ETS's smoothing — is the member that adds what the others lack.
 */
export function regularMembersFor(series: SeriesData): ModelSpec[] {
  const [ets, damped] = autoEtsWithDamped(series);
  const m = series.seasonLength;
  const seasonalStl = m > 1 && series.values.length >= 3 * m;
  return [ets, damped, theta(), seasonalNaive(), seasonalStl ? stlEts() : autoArima()];
}

/**
 * The cycle above the frequency's season where one is common — the week of hourly data (168),
 * the year of daily data (364 = 52 weeks, so the weekday lines up) — as STL+ETS's profile, when the
 * series holds three of them. Whether it helps a series is left to the backtests.
 */
export function longCycleMembers(series: SeriesData): ModelSpec[] {
  const cycle = series.seasonLength === 24 ? 168 : series.seasonLength === 7 ? 364 : 0;
  return cycle > 0 && series.values.length >= 3 * cycle ? [stlEts({ seasonLength: cycle })] : [];
}

/**
 * Prophet with the related series as regressors, where the series has related data: the only
 * member that sees them (promotions, prices), so where they drive demand the backtests weigh it in.
 */
export function relatedDataMembers(series: SeriesData): ModelSpec[] {
  return Object.keys(series.related ?? {}).length > 0 ? [prophet()] : [];
}

/** Members for intermittent series: Croston, SBA, TSB, simple exponential smoothing and seasonal naive. */
export function intermittentMembers(): ModelSpec[] {
  return [intermittent('CROSTON'), intermittent('SBA'), intermittent('TSB'), autoEts({ model: 'ANN' }), seasonalNaive()];
}
