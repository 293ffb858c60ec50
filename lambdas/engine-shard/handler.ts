/** Engine-Shard: one shard of the engine-job Map (the worker threads' fit function over its batches). */
import { withObservability } from '../../shared/observability';
import { getEngineJobDependencies } from '../../shared/runtime';
import { shardStep } from '../../shared/steps/engine-job';

export const handler = withObservability('engine-shard', async (event: unknown) => shardStep(event, await getEngineJobDependencies()));
