/** Create-Import-Jobs: returns the `results.importJobs` slice. */
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { createImportJobs } from '../../shared/steps/create-import-jobs';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('create-import-jobs', async (event: unknown) => createImportJobs(parsePipelineState(event), await getDependencies()));
