/**
 * Parse: an SQS event (BatchSize 1, partial batch responses) or a console event
 * (`{"body": {"param": …}}`): extracts the data into S3 and starts the workflow.
 */
import { withObservability } from '../../shared/observability';
import { startPipelineFromEvent } from '../../shared/parse';
import { getDependencies } from '../../shared/runtime';

export const handler = withObservability('parse', async (event: unknown) => startPipelineFromEvent(event, await getDependencies()));
