/**
 * Algorithms of the built-in engine: Forecast algorithm ARNs ↔ model specs, TrainingParameters
 * validation, and the per-series fallback chain.
 *
 * TrainingParameters: Forecast's rules per algorithm live in shared/training-parameters.ts (parse
 * checks the message against the same rules); a violation is an InvalidInputException here.
 */
import { InvalidInput } from '../../shared/errors';
import { validateTrainingParameters } from '../../shared/training-parameters';
import { autoArima } from './arima';
import { autoEts } from './ets';
import { npts } from './npts';
import { prophet } from './prophet';
import { autoSelect } from './auto';
import { naive, seasonalNaive, stlEts, theta } from './baselines';
import type { ModelSpec } from './types';

export const ALGORITHMS = ['ETS', 'ARIMA', 'NPTS', 'PROPHET'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** Algorithms the engine runs without an ARN of their own (auto predictors, fallbacks). */
export const INTERNAL_ALGORITHMS = ['AUTO', 'SEASONAL_NAIVE', 'NAIVE'] as const;

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

export { validateTrainingParameters };

/** What some specs need beyond TrainingParameters (AUTO backtests over the forecast horizon). */
export interface SpecContext {
  readonly horizon?: number;
}

/**
 * AUTO (CreateAutoPredictor, one-off `--algorithm AUTO`): per series, ETS, Theta, seasonal naive and
 * STL+ETS are backtested on the series' own tail and the best one forecasts (engine/models/auto.ts;
 * the same choice as bench/m4.ts `auto`).
 */
function autoSpec(horizon: number): ModelSpec {
  return autoSelect([autoEts(), theta(), seasonalNaive(), stlEts()], { horizon, combine: 'best' });
}

/** The model spec of an algorithm with its (validated) TrainingParameters. */
export function modelSpec(algorithm: string, params: Readonly<Record<string, string>> = {}, context: SpecContext = {}): ModelSpec {
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
  return [modelSpec('SEASONAL_NAIVE'), modelSpec('NAIVE')];
}
