/** Engine-Shard: one shard of the engine-job Map (the worker threads' fit function over its batches). */
import { shardStep } from '../../engine/job-steps';
import { silenceStanNoise } from '../../engine/stan-noise';
import { withObservability } from '../../shared/observability';
import { getEngineJobDependencies } from '../../shared/runtime';

silenceStanNoise();
export const handler = withObservability('engine-shard', async (event: unknown) => shardStep(event, await getEngineJobDependencies()));
