/** Engine-Plan: the engine-job state machine's Plan step (the job's fits split into shards). */
import { withObservability } from '../../shared/observability';
import { getEngineJobDependencies } from '../../shared/runtime';
import { planStep } from '../../shared/steps/engine-job';

export const handler = withObservability('engine-plan', async (event: unknown) => planStep(event, await getEngineJobDependencies()));
