/** Delete-Datasets: import jobs, datasets, then the group; returns `results.deletedDatasets`. */
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { deleteDatasets } from '../../shared/steps/delete-resources';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('delete-datasets', async (event: unknown) => deleteDatasets(parsePipelineState(event), await getDependencies()));
