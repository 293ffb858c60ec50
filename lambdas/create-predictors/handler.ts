/** Create-Predictors: returns the `results.predictors` slice (with accuracy metrics). */
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { createPredictors } from '../../shared/steps/create-predictors';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('create-predictors', async (event: unknown) => createPredictors(parsePipelineState(event), await getDependencies()));
