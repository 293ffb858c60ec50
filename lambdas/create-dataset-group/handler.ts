/** Create-Dataset-Group: returns the `results.datasetGroup` slice. */
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { createDatasetGroup } from '../../shared/steps/create-dataset-group';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('create-dataset-group', async (event: unknown) => createDatasetGroup(parsePipelineState(event), await getDependencies()));
