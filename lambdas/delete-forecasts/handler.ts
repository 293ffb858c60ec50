/** Delete-Forecasts: export jobs, then forecasts; returns `results.deletedForecasts`. */
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { deleteForecasts } from '../../shared/steps/delete-resources';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('delete-forecasts', async (event: unknown) => deleteForecasts(parsePipelineState(event), await getDependencies()));
