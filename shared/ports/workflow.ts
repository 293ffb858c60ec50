/** The workflow port: starting the state machine (Step Functions, or the local runner). */
export interface StartedExecution {
  readonly executionArn: string;
  /** True when an execution of that name and input existed already (SQS redelivery). */
  readonly alreadyStarted: boolean;
}

export interface WorkflowStarter {
  startExecution(name: string, input: unknown): Promise<StartedExecution>;
}

/** Where an execution is (Step Functions' DescribeExecution status). */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** A workflow whose executions the caller also watches (the engine's job state machine). */
export interface WorkflowRunner extends WorkflowStarter {
  executionStatus(executionArn: string): Promise<ExecutionStatus>;
}
