/**
 * The partial-failure policy of the model steps (predictors, forecasts + exports), TEAM.md:
 * a model whose resource fails is marked failed (status + message) and the run goes on with
 * the others; while any model is still in progress the step is pending; when every model
 * failed the step fails.
 */
import { ResourceFailed, ResourcePending } from '../errors';
import { hasErrorName, INVALID_INPUT, LIMIT_EXCEEDED, type Checked } from './common';

/** One model's state after this invocation of the step. */
export type ModelProgress<T> =
  | { readonly kind: 'ready'; readonly value: T }
  | { readonly kind: 'failed'; readonly value: T; readonly reason: string }
  | { readonly kind: 'pending'; readonly name: string; readonly detail: string }
  /** Not created yet because a quota is reached (LimitExceededException). */
  | { readonly kind: 'limited'; readonly name: string; readonly error: unknown };

/**
 * Runs one model's work: a LimitExceededException means "not started yet, waiting for the
 * quota"; an InvalidInputException (the service refused this model's parameters, e.g. a
 * horizon too long for the algorithm) marks only that model failed, with the service's message.
 */
export async function attemptModel<T>(
  name: string,
  work: () => Promise<ModelProgress<T>>,
  failedValue: (message: string) => T,
): Promise<ModelProgress<T>> {
  try {
    return await work();
  } catch (error) {
    if (hasErrorName(error, LIMIT_EXCEEDED)) return { kind: 'limited', name, error };
    if (hasErrorName(error, INVALID_INPUT)) {
      const reason = `${name} was refused: ${(error as Error).message}`;
      return { kind: 'failed', value: failedValue(reason), reason };
    }
    throw error;
  }
}

/** Maps a Describe result to progress, with `value` built for ready and failed models. */
export function progressOf<T>(checked: Checked, value: (status: 'ACTIVE' | 'CREATE_FAILED', message?: string) => T): ModelProgress<T> {
  switch (checked.outcome) {
    case 'ready':
      return { kind: 'ready', value: value('ACTIVE') };
    case 'pending':
      return { kind: 'pending', name: checked.resource.name, detail: `${checked.resource.name} ${checked.resource.status}` };
    case 'failed':
      return { kind: 'failed', value: value('CREATE_FAILED', checked.reason), reason: checked.reason };
  }
}

/**
 * Applies the policy: ResourcePending while anything is in progress (models waiting for a
 * quota wait with them); the quota error itself when only quota-blocked models remain, so
 * the state machine's LimitExceededException retry (with backoff) applies; ResourceFailed
 * when every model failed; otherwise every model's entry, failed ones included.
 */
export function settle<T>(what: string, progress: readonly ModelProgress<T>[]): T[] {
  const pending = progress.filter((p) => p.kind === 'pending');
  const limited = progress.filter((p) => p.kind === 'limited');
  if (pending.length > 0) {
    const waiting = [...pending.map((p) => p.detail), ...limited.map((l) => `${l.name} waiting for quota`)];
    throw new ResourcePending(`${what} in progress: ${waiting.join(', ')}`, [...pending, ...limited].map((p) => p.name));
  }
  if (limited.length > 0) throw limited[0]!.error;
  const settled = progress as readonly Extract<ModelProgress<T>, { kind: 'ready' | 'failed' }>[];
  if (settled.length > 0 && settled.every((p) => p.kind === 'failed')) {
    throw new ResourceFailed(
      `${what}: every model failed: ${settled.map((p) => (p.kind === 'failed' ? p.reason : '')).join('; ')}`,
    );
  }
  return settled.map((p) => p.value);
}
