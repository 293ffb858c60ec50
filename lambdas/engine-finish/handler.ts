/** Engine-Finish: the engine-job state machine's Finish and Fail-Job steps (merge, or CREATE_FAILED). */
import { withObservability } from '../../shared/observability';
import { getEngineJobDependencies } from '../../shared/runtime';
import { finishStep } from '../../shared/steps/engine-job';

export const handler = withObservability('engine-finish', async (event: unknown) => finishStep(event, await getEngineJobDependencies()));
