/**
 * The built-in engine behind the Forecast port: `send(command)` takes the real
 * `@aws-sdk/client-forecast` command instances, answers with the SDK's output shapes and throws the
 * SDK's exception classes under the service's conditions (forecast-api.md).
 *
 * This file only wires the parts: the command handlers per resource kind (commands/*.ts), the rules
 * they share (lifecycle.ts: reads with takeover, creates with quotas, deletes), the documents
 * (repository.ts) and the job executor (executor.ts; in-process-executor.ts runs jobs in this
 * process, model fits in a worker-thread pool).
 */
import { DeleteResourceTreeCommand } from '@aws-sdk/client-forecast';
import type { ForecastPort, ObjectStore, WorkflowRunner } from '../shared/ports';
import type { CommandHandler, Input } from './commands/command';
import { datasetCommands } from './commands/datasets';
import { forecastCommands } from './commands/forecasts';
import { importCommands } from './commands/imports';
import { predictorCommands } from './commands/predictors';
import type { JobExecutor, ProgressEvent } from './executor';
import { FaultInjector } from './faults';
import { InProcessExecutor } from './in-process-executor';
import { DEFAULT_TIMING, ResourceLifecycle, type EngineTiming } from './lifecycle';
import { jobSlotsFromEnv } from './limits';
import { Repository, type ResourceDoc } from './repository';
import { inUse, limit, throttling } from './service-errors';
import { invalid } from './validation';
import { WorkflowExecutor } from './workflow-executor';

export type { EngineTiming } from './lifecycle';
export type { ProgressEvent } from './executor';

export interface BuiltinForecastOptions {
  /** Where the engine keeps its resources and trained models. */
  readonly store: ObjectStore;
  /** `s3://bucket/prefix` under which the engine's state lives in that store. */
  readonly stateUri: string;
  /** Region in ARNs; default AWS_REGION or us-east-1. */
  readonly region?: string;
  /** Account in ARNs; default 000000000000. */
  readonly account?: string;
  /** Worker threads; default os.availableParallelism(). */
  readonly workers?: number;
  /** Fault rules; default from FORECAST_FAULTS. */
  readonly faults?: FaultInjector;
  /** Concurrent create jobs per type before LimitExceededException; default 3 (the service quota). */
  readonly concurrentJobs?: number;
  /** Jobs doing their work at once (the rest wait CREATE_PENDING); default FORECAST_ENGINE_JOB_SLOTS or 1. */
  readonly jobSlots?: number;
  /** Rows per export part file; default 100 000. */
  readonly exportPartRows?: number;
  readonly timing?: Partial<EngineTiming>;
  /**
   * Runs jobs as executions of statemachine/engine-job.asl.json on this workflow (Step Functions,
   * or the local runner's interpreter) instead of in this process.
   */
  readonly jobWorkflow?: WorkflowRunner & { idle?(): Promise<void> };
  /** Concurrent shards of one job on the workflow (the Map's MaxConcurrency); default 100. */
  readonly shardConcurrency?: number;
}

export interface BuiltinForecast extends ForecastPort {
  /** Subscribes to job progress (items done / total); returns the unsubscribe function. */
  onProgress(listener: (event: ProgressEvent) => void): () => void;
  /** Resolves when no job of this process is running. */
  idle(): Promise<void>;
  /** Stops the worker threads (running jobs fail). */
  close(): Promise<void>;
  /** Every resource the engine holds (for `forecast-pipeline resources`). */
  listAll(): Promise<ResourceDoc[]>;
}

export function createBuiltinForecast(options: BuiltinForecastOptions): BuiltinForecast {
  const timing: EngineTiming = { ...DEFAULT_TIMING, ...options.timing };
  const faults = options.faults ?? FaultInjector.fromEnv();
  const repo = new Repository(options.store, options.stateUri);
  const executor: JobExecutor = options.jobWorkflow
    ? new WorkflowExecutor({ repo, workflow: options.jobWorkflow, maxConcurrency: options.shardConcurrency ?? 100 })
    : new InProcessExecutor({
    store: options.store,
    repo,
    faults,
    workers: options.workers,
    jobSlots: options.jobSlots ?? jobSlotsFromEnv(),
    exportPartRows: options.exportPartRows ?? 100_000,
    pendingMs: timing.pendingMs,
    heartbeatMs: timing.heartbeatMs,
  });
  const resources = new ResourceLifecycle({
    store: options.store,
    repo,
    executor,
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    account: options.account ?? '000000000000',
    timing,
    concurrentJobs: options.concurrentJobs ?? 3,
  });

  const context = { resources, repo };
  const handlers = new Map<unknown, CommandHandler>();
  for (const handler of [
    ...datasetCommands(context),
    ...importCommands(context),
    ...predictorCommands(context),
    ...forecastCommands(context),
    { command: DeleteResourceTreeCommand, operation: 'DeleteResourceTree', handle: (input: Input) => resources.deleteTree(input) },
  ]) {
    handlers.set(handler.command, handler);
  }

  async function send(command: { input?: unknown }): Promise<Record<string, unknown>> {
    let entry = handlers.get(command?.constructor);
    if (!entry) for (const [cls, e] of handlers) if (command instanceof (cls as new (...args: never[]) => unknown)) entry = e;
    if (!entry) {
      throw invalid(`The built-in Forecast engine does not implement ${(command as object)?.constructor?.name ?? 'this command'}`);
    }
    const fault = faults.operationError(entry.operation);
    if (fault === 'ThrottlingException') throw throttling(entry.operation);
    if (fault === 'LimitExceededException') throw limit(`Limit exceeded for ${entry.operation} (injected by FORECAST_FAULTS)`);
    if (fault === 'ResourceInUseException') throw inUse(`${entry.operation}: resource in use (injected by FORECAST_FAULTS)`);
    if (fault === 'InvalidInputException') throw invalid(`${entry.operation}: invalid input (injected by FORECAST_FAULTS)`);
    const output = await entry.handle((command.input ?? {}) as Input);
    return { ...output, $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } };
  }

  return {
    send: send as unknown as ForecastPort['send'],
    onProgress: (listener) => executor.onProgress(listener),
    idle: () => executor.idle(),
    async close() {
      resources.close();
      await executor.close();
    },
    async listAll() {
      const all: ResourceDoc[] = [];
      for (const type of ['dataset-group', 'dataset', 'dataset-import-job', 'predictor', 'forecast', 'forecast-export-job'] as const) all.push(...(await resources.readAll(type)));
      return all;
    },
  };
}
