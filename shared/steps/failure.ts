/**
 * Failure: the Catch of every create step and of Notify leads here with `$.error`
 * ({Error, Cause} from Step Functions, plus `State`, the state that failed, added by the
 * ASL's Caught-* Pass states). The failure is recorded where users look for run status
 * (the warehouse, through notify's recordFailure) and announced on the SNS topic when one
 * is configured; then the workflow cleans up and ends FAILED.
 *
 * When the attempt had already delivered (a failure after notify's commit, e.g. its SNS publish), the
 * delivered run is kept and the error recorded as POST_DELIVERY_ERROR (recordFailure).
 *
 * The same function runs as the ASL's Cleanup-Failure state when a delete step gave up: the state
 * then holds `$.cleanupError` (which only the delete steps' Catch writes), and the cleanup error is
 * added to the run's status row without changing what the run delivered (recordCleanupFailure).
 */
import type { Announcer } from '../adapters/sns-announcer';
import { recordCleanupFailure, recordFailure } from '../notify';
import { logger } from '../observability';
import type { Dependencies } from '../runtime';
import type { PipelineState, Results } from '../state';

export type FailureSlice = NonNullable<Results['failure']>;
export type CleanupFailureSlice = NonNullable<Results['cleanupFailure']>;

type FailureDeps = Dependencies & { announcer?: Announcer | undefined; record?: typeof recordFailure; recordCleanup?: typeof recordCleanupFailure };

/** The Failure function: a caught cleanup error (`$.cleanupError`) or a caught step error (`$.error`). */
export async function handleFailure(state: PipelineState, deps: FailureDeps): Promise<FailureSlice | CleanupFailureSlice> {
  return state.cleanupError ? handleCleanupFailure(state, deps) : handleRunFailure(state, deps);
}

/** Records a cleanup step that gave up (CLEANUP_ERROR next to the run's status) and announces it. */
export async function handleCleanupFailure(state: PipelineState, deps: FailureDeps): Promise<CleanupFailureSlice> {
  const { recordCleanup = recordCleanupFailure } = deps;
  const cleanup = await recordCleanup(state, deps);
  logger.error('Pipeline cleanup failed: Forecast resources of the run remain', { runId: state.run.runId, ...cleanup });
  await deps.announcer?.announce(`Forecast run ${state.run.runId} ${cleanup.runStatus}, cleanup FAILED`, {
    runId: state.run.runId,
    dataName: state.run.dataName,
    status: cleanup.runStatus,
    cleanupError: { error: cleanup.error, cause: cleanup.cause, failedState: cleanup.failedState },
    note: 'Some Forecast resources of the run were not deleted; the delivered results are unaffected.',
  });
  return cleanup;
}

async function handleRunFailure(state: PipelineState, deps: FailureDeps): Promise<FailureSlice> {
  const { record = recordFailure } = deps;
  const failure = await record(state, deps);
  if (failure.postDeliveryOf) {
    logger.error('Pipeline run failed after its results were delivered', { runId: state.run.runId, ...failure });
    await deps.announcer?.announce(`Forecast run ${state.run.runId} ${failure.postDeliveryOf}, then failed after delivery`, {
      runId: state.run.runId,
      dataName: state.run.dataName,
      status: failure.postDeliveryOf,
      postDeliveryError: { error: failure.error, cause: failure.cause, failedState: failure.failedState },
      note: 'The results are in the warehouse; what failed came after they were committed.',
    });
    return failure;
  }
  logger.error('Pipeline run failed', { runId: state.run.runId, ...failure });
  await deps.announcer?.announce(`Forecast run ${state.run.runId} FAILED`, {
    runId: state.run.runId,
    dataName: state.run.dataName,
    status: 'FAILED',
    ...failure,
  });
  return failure;
}
