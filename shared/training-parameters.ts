/**
 * Forecast's TrainingParameters rules per algorithm, in one place: the built-in engine applies them
 * when a predictor is created (engine/models/registry.ts) and parse applies them to the message's
 * ModelOverrides, so a bad hyperparameter is rejected before any data is read, not hours later.
 *
 * - NPTS: `context_length` (int ≥ 1), `kernel_type` (`exponential` | `uniform`), `exp_kernel_weights`
 *   (0.001–1000), `use_seasonal_model` (`true` | `false`), `use_default_time_features` (accepted, no effect).
 * - ETS, ARIMA, Prophet: Forecast has none; the engine accepts none either.
 */
import { InvalidInput } from './errors';

/** The algorithms whose hyperparameters are known here (the built-in engine's ARN algorithms). */
export const TUNABLE_ALGORITHMS = ['ETS', 'ARIMA', 'NPTS', 'PROPHET'] as const;

const NPTS_PARAMETERS = ['context_length', 'kernel_type', 'exp_kernel_weights', 'use_seasonal_model', 'use_default_time_features'];

export interface TrainingParameterProblem {
  readonly key: string;
  /** What is wrong, without the key: `is not a hyperparameter of ETS (it takes none)`, `must be …`. */
  readonly rule: string;
  /** `TrainingParameters.<key> <rule>` (and the value received when it breaks a value rule). */
  readonly message: string;
}

/** Every TrainingParameters entry that breaks the algorithm's rules, with the key and value named. */
export function trainingParameterProblems(algorithm: string, params: Readonly<Record<string, string>> = {}): TrainingParameterProblem[] {
  const allowed = algorithm === 'NPTS' ? NPTS_PARAMETERS : [];
  const problems: TrainingParameterProblem[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (!allowed.includes(key)) {
      const rule = `is not a hyperparameter of ${algorithm}` + (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (it takes none)');
      problems.push({ key, rule, message: `TrainingParameters.${key} ${rule}` });
      continue;
    }
    const bad = (rule: string) => problems.push({ key, rule: `must be ${rule}`, message: `TrainingParameters.${key} must be ${rule}, got "${value}"` });
    switch (key) {
      case 'context_length':
        if (!/^\d+$/.test(value) || Number(value) < 1) bad('an integer ≥ 1');
        break;
      case 'kernel_type':
        if (value !== 'exponential' && value !== 'uniform') bad('exponential or uniform');
        break;
      case 'exp_kernel_weights': {
        const v = Number(value);
        if (!Number.isFinite(v) || v < 0.001 || v > 1000) bad('a number from 0.001 to 1000');
        break;
      }
      case 'use_seasonal_model':
      case 'use_default_time_features':
        if (value !== 'true' && value !== 'false') bad('true or false');
        break;
    }
  }
  return problems;
}

/** Checks TrainingParameters against the algorithm's rules; InvalidInput naming the first bad key and value. */
export function validateTrainingParameters(algorithm: string, params: Readonly<Record<string, string>> = {}): void {
  const [first] = trainingParameterProblems(algorithm, params);
  if (first) throw new InvalidInput(first.message);
}
