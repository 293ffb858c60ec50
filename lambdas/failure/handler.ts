/** Failure: records the caught error and announces it; returns the `results.failure` slice. */
import { announcerFromEnv } from '../../shared/adapters/sns-announcer';
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { handleFailure } from '../../shared/steps/failure';
import { parsePipelineState } from '../../shared/steps/input';

export const handler = withObservability('failure', async (event: unknown) =>
  handleFailure(parsePipelineState(event), { ...(await getDependencies()), announcer: announcerFromEnv() }),
);
