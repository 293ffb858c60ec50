/**
 * The job-executor port: where an engine job's work runs once its document exists. The in-process
 * adapter (in-process-executor.ts) runs it in this process with model fits on a worker-thread pool;
 * the workflow adapter (workflow-executor.ts) runs it as an execution of engine-job.asl.json.
 */
import type { ExecutionStatus } from '../shared/ports';
import type { ResourceDoc, ResourceType } from './repository';

export interface ProgressEvent {
  readonly arn: string;
  readonly type: ResourceType;
  readonly name: string;
  readonly done: number;
  readonly total: number;
  /** Set on the last event of a job, once its document says ACTIVE or CREATE_FAILED. */
  readonly status?: 'ACTIVE' | 'CREATE_FAILED';
}

export interface JobExecutor {
  /**
   * Runs the job of a CREATE_PENDING (or taken-over CREATE_IN_PROGRESS) document to ACTIVE or
   * CREATE_FAILED, writing the outcome on the document. Returns at once.
   */
  start(doc: ResourceDoc): void;
  /** Whether this executor is running the job now (a job it runs is never taken over). */
  isRunning(arn: string): boolean;
  /** Workflow executors: the status of the execution a job document names (`doc.execution`). */
  executionStatus?(executionArn: string): Promise<ExecutionStatus>;
  /** Subscribes to job progress (items done / total); returns the unsubscribe function. */
  onProgress(listener: (event: ProgressEvent) => void): () => void;
  /** Resolves when no job of this executor is running. */
  idle(): Promise<void>;
  /** Releases the executor's resources (running jobs fail). */
  close(): Promise<void>;
}
