/**
 * TrainingParameters of the global models, with Amazon Forecast's names and ranges (values are
 * strings, as in the API). Defaults follow Forecast where they fit a CPU budget; where they do not
 * (epochs), the engine's default is smaller and documented in docs/models.md.
 *
 * CNN-QR: `context_length` (1–500), `epochs` (1–1000), `use_related_data` (ALL | HISTORICAL |
 *   FORECAST | NONE), `use_item_metadata` (ALL | NONE; accepted — item metadata does not reach the
 *   built-in engine's models yet, so it has no effect).
 * DeepAR+: `context_length` (1–200), `epochs` (1–1000), `learning_rate` (1e-5–1e-1), `likelihood`
 *   (student-T | gaussian | negative-binomial), `num_cells` (30–200), `num_layers` (1–8).
 *   Forecast's other DeepAR+ hyperparameters and likelihoods are refused with a message saying
 *   the built-in engine does not implement them.
 */
import { InvalidInput } from '../../shared/errors';
import type { CnnQrOptions, RelatedUse } from './cnnqr';
import type { DeepArOptions, Likelihood } from './deepar';

type Rule =
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'number'; readonly min: number; readonly max: number }
  | { readonly kind: 'enum'; readonly values: readonly string[] };

const CNNQR_RULES: Record<string, Rule> = {
  context_length: { kind: 'int', min: 1, max: 500 },
  epochs: { kind: 'int', min: 1, max: 1000 },
  use_related_data: { kind: 'enum', values: ['ALL', 'HISTORICAL', 'FORECAST', 'NONE'] },
  use_item_metadata: { kind: 'enum', values: ['ALL', 'NONE'] },
};

const DEEPAR_RULES: Record<string, Rule> = {
  context_length: { kind: 'int', min: 1, max: 200 },
  epochs: { kind: 'int', min: 1, max: 1000 },
  learning_rate: { kind: 'number', min: 1e-5, max: 1e-1 },
  likelihood: { kind: 'enum', values: ['student-T', 'gaussian', 'negative-binomial'] },
  num_cells: { kind: 'int', min: 30, max: 200 },
  num_layers: { kind: 'int', min: 1, max: 8 },
};

/** Forecast DeepAR+ settings the built-in engine does not implement (refused, not ignored). */
const DEEPAR_NOT_IMPLEMENTED = ['learning_rate_decay', 'max_learning_rate_decays', 'num_averaged_models'];
const LIKELIHOODS_NOT_IMPLEMENTED = ['beta', 'deterministic-L1', 'piecewise-linear'];

const NAMES = { CNNQR: 'CNN-QR', DEEPARP: 'DeepAR+' } as const;

export interface GlobalParameters {
  readonly cnnQr: CnnQrOptions;
  readonly deepAr: DeepArOptions;
}

function check(key: string, value: string, rule: Rule): void {
  const bad = (expected: string) => new InvalidInput(`TrainingParameters.${key} must be ${expected}, got "${value}"`);
  if (rule.kind === 'enum') {
    if (!rule.values.includes(value)) throw bad(`one of ${rule.values.join(', ')}`);
    return;
  }
  const n = Number(value);
  if (rule.kind === 'int' && !/^\d+$/.test(value)) throw bad(`an integer from ${rule.min} to ${rule.max}`);
  if (!Number.isFinite(n) || value.trim() === '' || n < rule.min || n > rule.max) {
    throw bad(rule.kind === 'int' ? `an integer from ${rule.min} to ${rule.max}` : `a number from ${rule.min} to ${rule.max}`);
  }
}

/** Validates and converts; InvalidInput naming the key, the rule and the value otherwise. */
export function parseGlobalParameters(algorithm: 'CNNQR' | 'DEEPARP', params: Readonly<Record<string, string>>): GlobalParameters {
  const rules = algorithm === 'CNNQR' ? CNNQR_RULES : DEEPAR_RULES;
  for (const [key, value] of Object.entries(params)) {
    if (algorithm === 'DEEPARP' && DEEPAR_NOT_IMPLEMENTED.includes(key)) {
      throw new InvalidInput(`TrainingParameters.${key} (a DeepAR+ hyperparameter on Amazon Forecast) is not implemented by the built-in engine`);
    }
    if (algorithm === 'DEEPARP' && key === 'likelihood' && LIKELIHOODS_NOT_IMPLEMENTED.includes(value)) {
      throw new InvalidInput(`TrainingParameters.likelihood "${value}" is not implemented by the built-in engine (use student-T, gaussian or negative-binomial)`);
    }
    const rule = rules[key];
    if (!rule) throw new InvalidInput(`TrainingParameters.${key} is not a hyperparameter of ${NAMES[algorithm]} (allowed: ${Object.keys(rules).join(', ')})`);
    check(key, value, rule);
  }
  const num = (key: string) => (params[key] === undefined ? undefined : Number(params[key]));
  return {
    cnnQr: {
      contextLength: num('context_length'),
      epochs: num('epochs'),
      useRelatedData: params.use_related_data as RelatedUse | undefined,
    },
    deepAr: {
      contextLength: num('context_length'),
      epochs: num('epochs'),
      learningRate: num('learning_rate'),
      likelihood: params.likelihood as Likelihood | undefined,
      numCells: num('num_cells'),
      numLayers: num('num_layers'),
    },
  };
}

/** One HPO trial: option overrides, from the forecast horizon. */
export type Trial = (horizon: number) => Readonly<Record<string, number>>;

/**
 * The HPO search space: a few trials over the settings that matter most on a CPU budget, leaving
 * out whatever the caller fixed in TrainingParameters (as Forecast keeps given values fixed).
 * CNN-QR: the context (2 × horizon, the default; 1 ×). DeepAR+: the default; a context of
 * 2 × horizon; learning rate 3e-3.
 */
export function hpoTrials(algorithm: 'CNNQR' | 'DEEPARP', params: Readonly<Record<string, string>>): Trial[] {
  const trials: { readonly key: string; readonly trial: Trial }[] =
    algorithm === 'CNNQR'
      ? [
          // Not 4 × horizon: on the demo it scored no better than 2 × (backtest wQL 0.046 vs 0.045) at twice the cost.
          { key: 'context_length', trial: (h) => ({ contextLength: Math.min(500, Math.max(8, h)) }) },
        ]
      : [
          { key: 'context_length', trial: (h) => ({ contextLength: Math.min(200, 2 * h) }) },
          { key: 'learning_rate', trial: () => ({ learningRate: 3e-3 }) },
        ];
  return [() => ({}), ...trials.filter((t) => params[t.key] === undefined).map((t) => t.trial)];
}

/** Forecast's names of the options a trial may set. */
const TRAINING_PARAMETER_NAMES: Record<string, string> = { contextLength: 'context_length', learningRate: 'learning_rate', epochs: 'epochs' };

/** A trial's overrides as TrainingParameters (strings, Forecast's names). */
export function asTrainingParameters(overrides: Readonly<Record<string, number>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(overrides).map(([key, value]) => {
      const name = TRAINING_PARAMETER_NAMES[key];
      if (!name) throw new Error(`Internal: no TrainingParameters name for ${key}`);
      return [name, String(value)];
    }),
  );
}
