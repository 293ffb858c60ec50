/** Delete-Predictors: returns `results.deletedPredictors`. */
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { deletePredictors } from '../../shared/steps/delete-resources';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('delete-predictors', async (event: unknown) => deletePredictors(parsePipelineState(event), await getDependencies()));
