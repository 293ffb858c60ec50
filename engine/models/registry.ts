/**
 * Algorithms of the built-in engine: Forecast algorithm ARNs ↔ model specs, TrainingParameters
 * validation, and the per-series fallback chain.
 *
 * TrainingParameters: Forecast's rules per algorithm live in shared/training-parameters.ts (parse
 * checks the message against the same rules); a violation is an InvalidInputException here.
 * CNN-QR, DeepAR+ (global models): engine/models/global-parameters.ts.
 */
import { InvalidInput } from '../../shared/errors';
import { validateTrainingParameters as validateSharedTrainingParameters } from '../../shared/training-parameters';
import { autoArima } from './arima';
import { autoEts } from './ets';
import { npts } from './npts';
import { prophet } from './prophet';
import { autoEnsemble } from './auto';
import { calibrated } from './calibration';
import { naive, seasonalNaive, stlEts, theta } from './baselines';
import { CNNQR_DEFAULTS, cnnQr } from './cnnqr';
import { DEEPAR_DEFAULTS, deepAr } from './deepar';
import { hpoTrials, parseGlobalParameters } from './global-parameters';
import { withHpo } from './hpo';
import type { GlobalModelSpec, ModelSpec } from './types';

export const ALGORITHMS = ['ETS', 'ARIMA', 'NPTS', 'PROPHET'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/**
 * Global models: one network trained across all series of a dataset (engine/training.ts sends all
 * of a window's series to one worker). Not AutoML candidates: their training costs more than the
 * per-series models' (docs/models.md).
 */
export const GLOBAL_ALGORITHMS = ['CNNQR', 'DEEPARP'] as const;
export type GlobalAlgorithm = (typeof GLOBAL_ALGORITHMS)[number];

export const isGlobalAlgorithm = (algorithm: string): algorithm is GlobalAlgorithm => (GLOBAL_ALGORITHMS as readonly string[]).includes(algorithm);

/** Algorithms the engine runs without an ARN of their own (auto predictors, fallbacks). */
export const INTERNAL_ALGORITHMS = ['AUTO', 'THETA', 'SEASONAL_NAIVE', 'NAIVE'] as const;

export const ALGORITHM_ARNS: Record<Algorithm | GlobalAlgorithm, string> = {
  CNNQR: 'arn:aws:forecast:::algorithm/CNN-QR',
  DEEPARP: 'arn:aws:forecast:::algorithm/Deep_AR_Plus',
  ETS: 'arn:aws:forecast:::algorithm/ETS',
  ARIMA: 'arn:aws:forecast:::algorithm/ARIMA',
  NPTS: 'arn:aws:forecast:::algorithm/NPTS',
  PROPHET: 'arn:aws:forecast:::algorithm/Prophet',
};

/** The algorithm of a Forecast algorithm ARN; InvalidInput naming the supported ones otherwise. */
export function algorithmFromArn(arn: string): Algorithm | GlobalAlgorithm {
  const found = (Object.entries(ALGORITHM_ARNS) as [Algorithm | GlobalAlgorithm, string][]).find(([, a]) => a === arn);
  if (found) return found[0];
  const supported = Object.values(ALGORITHM_ARNS).join(', ');
  throw new InvalidInput(`AlgorithmArn "${arn}" is not a supported algorithm; use one of ${supported}`);
}

/** Checks TrainingParameters against the algorithm's rules; the message names the key and value. */
export function validateTrainingParameters(algorithm: string, params: Readonly<Record<string, string>> = {}): void {
  if (isGlobalAlgorithm(algorithm)) parseGlobalParameters(algorithm, params);
  else validateSharedTrainingParameters(algorithm, params);
}

/** What some specs need beyond TrainingParameters (AUTO backtests over the forecast horizon). */
export interface SpecContext {
  readonly horizon?: number;
}

/**
 * AUTO (CreateAutoPredictor, one-off `--algorithm AUTO`): per series, an ensemble of ETS, damped ETS,
 * Theta, seasonal naive, STL+ETS and STL+ETS on a longer cycle (Croston/SBA/TSB for intermittent
 * series) weighed by backtests on several windows of the series' own tail, with calibrated intervals
 * (engine/models/auto.ts).
 */
function autoSpec(horizon: number): ModelSpec {
  return autoEnsemble({ horizon });
}

/**
 * The model spec of an algorithm with its (validated) TrainingParameters. Every model but Prophet
 * (four more Stan fits per series would cost more than the model) and the fallbacks forecasts with
 * conformally calibrated intervals (engine/models/calibration.ts); AUTO calibrates its combination.
 */
export function modelSpec(algorithm: string, params: Readonly<Record<string, string>> = {}, context: SpecContext = {}): ModelSpec {
  const spec = baseSpec(algorithm, params, context);
  return ['ETS', 'ARIMA', 'NPTS', 'THETA', 'SEASONAL_NAIVE'].includes(algorithm) ? calibrated(spec, { horizon: context.horizon ?? 1 }) : spec;
}

function baseSpec(algorithm: string, params: Readonly<Record<string, string>>, context: SpecContext): ModelSpec {
  validateTrainingParameters(algorithm, params);
  switch (algorithm) {
    case 'NPTS':
      return npts({
        kernel: params.kernel_type as 'exponential' | 'uniform' | undefined,
        seasonal: params.use_seasonal_model === undefined ? undefined : params.use_seasonal_model === 'true',
        expKernelWeights: params.exp_kernel_weights === undefined ? undefined : Number(params.exp_kernel_weights),
        contextLength: params.context_length === undefined ? undefined : Number(params.context_length),
      });
    case 'AUTO':
      return autoSpec(context.horizon ?? 1);
    case 'THETA':
      return theta();
    case 'SEASONAL_NAIVE':
      return seasonalNaive();
    case 'NAIVE':
      return naive();
    case 'ETS':
      return autoEts();
    case 'ARIMA':
      return autoArima();
    case 'PROPHET':
      return prophet();
    default:
      throw new InvalidInput(`Unknown algorithm "${algorithm}"`);
  }
}

/**
 * The spec of a global algorithm with its (validated) TrainingParameters; with `hpo`, a bounded
 * search on a validation split chooses some of them first (engine/models/hpo.ts).
 */
export function globalModelSpec(algorithm: string, params: Readonly<Record<string, string>> = {}, hpo = false): GlobalModelSpec {
  if (!isGlobalAlgorithm(algorithm)) throw new InvalidInput(`${algorithm} is not a global model`);
  const parsed = parseGlobalParameters(algorithm, params);
  // A search trial's intervals are not calibrated: it is scored on the validation split itself.
  const build = (overrides: Readonly<Record<string, number>>, trial = false) =>
    algorithm === 'CNNQR'
      ? cnnQr({ ...parsed.cnnQr, ...overrides, calibrateIntervals: !trial })
      : deepAr({ ...parsed.deepAr, ...overrides, calibrateIntervals: !trial });
  const epochs = (overrides: Readonly<Record<string, number>>) =>
    overrides.epochs ?? (algorithm === 'CNNQR' ? (parsed.cnnQr.epochs ?? CNNQR_DEFAULTS.epochs) : (parsed.deepAr.epochs ?? DEEPAR_DEFAULTS.epochs));
  return hpo ? withHpo(algorithm, build, hpoTrials(algorithm, params), epochs) : build({});
}

/** Models tried, in order, when an algorithm cannot fit a series. */
export function fallbackSpecs(): ModelSpec[] {
  return [baseSpec('SEASONAL_NAIVE', {}, {}), baseSpec('NAIVE', {}, {})];
}
