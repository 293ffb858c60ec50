/** Notify: writes the results to the warehouse and announces them; returns the `results.notify` slice. */
import { announcerFromEnv } from '../../shared/adapters/sns-announcer';
import { withObservability } from '../../shared/observability';
import { getDependencies } from '../../shared/runtime';
import { parsePipelineState } from '../../shared/steps/input';
import { notifyRun } from '../../shared/steps/notify';

export const handler = withObservability('notify', async (event: unknown) =>
  notifyRun(parsePipelineState(event), { ...(await getDependencies()), announcer: announcerFromEnv() }),
);
