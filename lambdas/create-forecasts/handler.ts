/** Create-Forecasts: returns the `results.forecasts` slice (forecasts and their export jobs). */
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { createForecasts } from '../../shared/steps/create-forecasts';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('create-forecasts', async (event: unknown) => createForecasts(parsePipelineState(event), await getDependencies()));
