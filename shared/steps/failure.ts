/**
 * Failure: the Catch of every create step and of Notify leads here with `$.error`
 * ({Error, Cause} from Step Functions, plus `State`, the name of the state that failed).
 * The step records the failure (warehouse run status, through the recorder issue 3
 * provides) and announces it on the SNS topic when one is configured; then the workflow
 * goes on to cleanup and ends FAILED.
 */
import type { Announcer } from '../adapters/sns-announcer';
import { logger } from '../observability';
import type { PipelineState, Results } from '../state';

export type FailureSlice = NonNullable<Results['failure']>;

/** Lambda errors arrive with a JSON Cause `{errorType, errorMessage, trace}`: keep the message. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: a States.* error's plain-text cause.
  }
  return cause;
}

export function failureOf(state: PipelineState): FailureSlice {
  const error = state.error;
  return {
    error: error?.Error ?? 'Unknown',
    cause: causeMessage(error?.Cause),
    ...(error?.State ? { failedState: error.State } : {}),
  };
}

export interface FailureDeps {
  /** Writes the failure where users look for run status (the warehouse). */
  readonly record?: (state: PipelineState & { results: { failure: FailureSlice } }) => Promise<unknown>;
  readonly announcer?: Announcer | undefined;
}

export async function handleFailure(state: PipelineState, deps: FailureDeps): Promise<FailureSlice> {
  const failure = failureOf(state);
  logger.error('Pipeline run failed', { runId: state.run.runId, ...failure });
  const withFailure = { ...state, results: { ...state.results, failure } };
  await deps.record?.(withFailure);
  await deps.announcer?.announce(`Forecast run ${state.run.runId} FAILED`, {
    runId: state.run.runId,
    dataName: state.run.dataName,
    status: 'FAILED',
    ...failure,
  });
  return failure;
}
