/** Create-Dataset: returns the `results.datasets` slice. */
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { createDatasets } from '../../shared/steps/create-dataset';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('create-dataset', async (event: unknown) => createDatasets(parsePipelineState(event), await getDependencies()));
