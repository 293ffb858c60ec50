/** Engine-Plan: the engine-job state machine's Plan step (the job's fits split into shards). */
import { planStep } from '../../engine/job-steps';
import { withObservability } from '../../shared/observability';
import { getEngineJobDependencies } from '../../shared/runtime';

export const handler = withObservability('engine-plan', async (event: unknown) => planStep(event, await getEngineJobDependencies()));
