/** The workflow port: starting the state machine (Step Functions, or the local runner). */
export interface StartedExecution {
  readonly executionArn: string;
  /** True when an execution of that name and input existed already (SQS redelivery). */
  readonly alreadyStarted: boolean;
}

/** Step Functions' execution statuses (DescribeExecution). */
export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** What the workflow remembers of one execution. */
export interface ExecutionDescription {
  readonly name: string;
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  /** The input it was started with (parsed JSON). */
  readonly input: unknown;
}

/** Starts a named execution of a state machine. */
export interface ExecutionStarter {
  startExecution(name: string, input: unknown): Promise<StartedExecution>;
}

/** The pipeline's workflow: parse also looks its attempts up by name (shared/parse/attempts.ts). */
export interface WorkflowStarter extends ExecutionStarter {
  /** The execution of that name, or undefined when there is none. */
  describeExecution(name: string): Promise<ExecutionDescription | undefined>;
}

/** A workflow whose executions the caller also watches (the engine's job state machine). */
export interface WorkflowRunner extends ExecutionStarter {
  executionStatus(executionArn: string): Promise<ExecutionStatus>;
}
