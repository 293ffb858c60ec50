/**
 * Algorithms of the built-in engine: Forecast algorithm ARNs ↔ model specs, TrainingParameters
 * validation, and the per-series fallback chain.
 *
 * TrainingParameters accepted (as in Forecast; values are strings):
 * - NPTS: `context_length` (int ≥ 1), `kernel_type` (`exponential` | `uniform`), `exp_kernel_weights`
 *   (0.001–1000), `use_seasonal_model` (`true` | `false`), `use_default_time_features` (accepted, no effect).
 * - ETS, ARIMA, Prophet: Forecast has none; the engine accepts none either (InvalidInputException).
 */
import { InvalidInput } from '../../shared/errors';
import { autoArima } from './arima';
import { autoEts } from './ets';
import { npts } from './npts';
import { prophet } from './prophet';
import { autoEnsemble } from './auto';
import { calibrated } from './calibration';
import { naive, seasonalNaive, stlEts, theta } from './baselines';
import type { ModelSpec } from './types';

export const ALGORITHMS = ['ETS', 'ARIMA', 'NPTS', 'PROPHET'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** Algorithms the engine runs without an ARN of their own (auto predictors, fallbacks). */
export const INTERNAL_ALGORITHMS = ['AUTO', 'THETA', 'SEASONAL_NAIVE', 'NAIVE'] as const;

export const ALGORITHM_ARNS: Record<Algorithm, string> = {
  ETS: 'arn:aws:forecast:::algorithm/ETS',
  ARIMA: 'arn:aws:forecast:::algorithm/ARIMA',
  NPTS: 'arn:aws:forecast:::algorithm/NPTS',
  PROPHET: 'arn:aws:forecast:::algorithm/Prophet',
};

const AMAZON_ONLY = ['arn:aws:forecast:::algorithm/CNN-QR', 'arn:aws:forecast:::algorithm/Deep_AR_Plus'];

/** The algorithm of a Forecast algorithm ARN; InvalidInput naming the supported ones otherwise. */
export function algorithmFromArn(arn: string): Algorithm {
  const found = (Object.entries(ALGORITHM_ARNS) as [Algorithm, string][]).find(([, a]) => a === arn);
  if (found) return found[0];
  const supported = Object.values(ALGORITHM_ARNS).join(', ');
  if (AMAZON_ONLY.includes(arn)) {
    throw new InvalidInput(`${arn} runs on Amazon Forecast only; the built-in engine supports ${supported} (or PerformAutoML)`);
  }
  throw new InvalidInput(`AlgorithmArn "${arn}" is not a supported algorithm; use one of ${supported}`);
}

const NPTS_PARAMETERS = ['context_length', 'kernel_type', 'exp_kernel_weights', 'use_seasonal_model', 'use_default_time_features'];

/** Checks TrainingParameters against the algorithm's rules; the message names the key and value. */
export function validateTrainingParameters(algorithm: string, params: Readonly<Record<string, string>> = {}): void {
  const allowed = algorithm === 'NPTS' ? NPTS_PARAMETERS : [];
  for (const [key, value] of Object.entries(params)) {
    if (!allowed.includes(key)) {
      throw new InvalidInput(
        `TrainingParameters.${key} is not a hyperparameter of ${algorithm}` +
          (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (it takes none)'),
      );
    }
    const bad = (rule: string) => new InvalidInput(`TrainingParameters.${key} must be ${rule}, got "${value}"`);
    switch (key) {
      case 'context_length':
        if (!/^\d+$/.test(value) || Number(value) < 1) throw bad('an integer ≥ 1');
        break;
      case 'kernel_type':
        if (value !== 'exponential' && value !== 'uniform') throw bad('exponential or uniform');
        break;
      case 'exp_kernel_weights': {
        const v = Number(value);
        if (!Number.isFinite(v) || v < 0.001 || v > 1000) throw bad('a number from 0.001 to 1000');
        break;
      }
      case 'use_seasonal_model':
      case 'use_default_time_features':
        if (value !== 'true' && value !== 'false') throw bad('true or false');
        break;
    }
  }
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

/** Models tried, in order, when an algorithm cannot fit a series. */
export function fallbackSpecs(): ModelSpec[] {
  return [baseSpec('SEASONAL_NAIVE', {}, {}), baseSpec('NAIVE', {}, {})];
}
