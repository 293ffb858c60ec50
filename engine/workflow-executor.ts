/**
 * The serverless job executor: a job runs as one execution of statemachine/engine-job.asl.json
 * (Plan → distributed Map over the shards → Finish), on Step Functions when deployed, on the local
 * runner's interpreter otherwise. This process only starts the execution and records its ARN on
 * the document; the execution's steps write the outcome. lifecycle.ts asks `executionStatus` when
 * a Describe meets a job still in progress, and fails the job when its execution ended without
 * finishing (aborted, timed out).
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { ExecutionStatus, WorkflowRunner } from '../shared/ports';
import type { JobExecutor, ProgressEvent } from './executor';
import { markJobFailed } from './job-outcome';
import { parseArn, type Repository, type ResourceDoc } from './repository';

export interface WorkflowExecutorOptions {
  readonly repo: Repository;
  /** `idle()`: a runner that runs the executions in this process (the local one) waits for them. */
  readonly workflow: WorkflowRunner & { idle?(): Promise<void> };
  /** The Map's MaxConcurrency (concurrent shard Lambdas of one job). */
  readonly maxConcurrency: number;
}

/** Input of one engine-job execution. */
export interface EngineJobInput {
  readonly jobArn: string;
  readonly maxConcurrency: number;
}

/** Step Functions execution names: ≤ 80 of [A-Za-z0-9-_]. */
function executionName(doc: ResourceDoc): string {
  const { type, id } = parseArn(doc.arn)!;
  return `${type}-${id}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60) + `-${randomUUID().slice(0, 8)}`;
}

export class WorkflowExecutor implements JobExecutor {
  private readonly starting = new Map<string, Promise<void>>();
  private readonly events = new EventEmitter();

  constructor(private readonly options: WorkflowExecutorOptions) {}

  start(doc: ResourceDoc): void {
    const { repo, workflow, maxConcurrency } = this.options;
    const started = (async () => {
      const input: EngineJobInput = { jobArn: doc.arn, maxConcurrency };
      const { executionArn } = await workflow.startExecution(executionName(doc), input);
      await repo.update(doc.arn, (d) => {
        d.execution = executionArn;
        delete d.owner;
      });
    })()
      .catch((error: unknown) => markJobFailed(repo, doc.arn, `Could not start the job's execution: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => this.starting.delete(doc.arn));
    this.starting.set(doc.arn, started);
  }

  isRunning(arn: string): boolean {
    return this.starting.has(arn);
  }

  executionStatus(executionArn: string): Promise<ExecutionStatus> {
    return this.options.workflow.executionStatus(executionArn);
  }

  onProgress(listener: (event: ProgressEvent) => void): () => void {
    this.events.on('progress', listener);
    return () => this.events.off('progress', listener);
  }

  /** For the runner that runs the executions here: reports a job's shards as they finish. */
  emit(event: ProgressEvent): void {
    this.events.emit('progress', event);
  }

  async idle(): Promise<void> {
    while (this.starting.size) await Promise.allSettled([...this.starting.values()]);
    await this.options.workflow.idle?.();
  }

  async close(): Promise<void> {}
}
