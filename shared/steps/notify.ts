/**
 * Notify: delivers the run's results (notify's publishResults: forecasts, metrics, run
 * status in the warehouse) and announces the outcome — SUCCEEDED, or PARTIAL with the failed
 * models — on the SNS topic when one is configured.
 */
import type { Announcer } from '../adapters/sns-announcer';
import { publishResults } from '../notify';
import type { Dependencies } from '../runtime';
import type { PipelineState, Results } from '../state';

export type NotifySlice = NonNullable<Results['notify']>;

export async function notifyRun(
  state: PipelineState,
  deps: Dependencies & { announcer?: Announcer | undefined; publish?: typeof publishResults },
): Promise<NotifySlice> {
  const { publish = publishResults } = deps;
  const result = await publish(state, deps);
  const failedModels = (state.results.predictors ?? [])
    .filter((p) => p.status === 'CREATE_FAILED')
    .map((p) => ({ model: p.model, reason: p.message ?? '' }))
    .concat((state.results.forecasts ?? []).filter((f) => f.status === 'CREATE_FAILED').map((f) => ({ model: f.model, reason: f.message ?? '' })));
  await deps.announcer?.announce(`Forecast run ${state.run.runId} ${result.status}`, {
    runId: state.run.runId,
    dataName: state.run.dataName,
    ...result,
    ...(failedModels.length ? { failures: failedModels } : {}),
  });
  return result;
}
