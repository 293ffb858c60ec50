/**
 * Failure: the Catch of every create step and of Notify leads here with `$.error`
 * ({Error, Cause} from Step Functions, plus `State`, the state that failed, added by the
 * ASL's Caught-* Pass states). The failure is recorded where users look for run status
 * (the warehouse, through notify's recordFailure) and announced on the SNS topic when one
 * is configured; then the workflow cleans up and ends FAILED.
 */
import type { Announcer } from '../adapters/sns-announcer';
import { recordFailure } from '../notify';
import { logger } from '../observability';
import type { Dependencies } from '../runtime';
import type { PipelineState, Results } from '../state';

export type FailureSlice = NonNullable<Results['failure']>;

export async function handleFailure(
  state: PipelineState,
  deps: Dependencies & { announcer?: Announcer | undefined; record?: typeof recordFailure },
): Promise<FailureSlice> {
  const { record = recordFailure } = deps;
  const failure = await record(state, deps);
  logger.error('Pipeline run failed', { runId: state.run.runId, ...failure });
  await deps.announcer?.announce(`Forecast run ${state.run.runId} FAILED`, {
    runId: state.run.runId,
    dataName: state.run.dataName,
    status: 'FAILED',
    ...failure,
  });
  return failure;
}
