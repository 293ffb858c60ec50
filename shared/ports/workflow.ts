/** The workflow port: starting the state machine (Step Functions, or the local runner). */
export interface StartedExecution {
  readonly executionArn: string;
  /** True when an execution of that name and input existed already (SQS redelivery). */
  readonly alreadyStarted: boolean;
}

export interface WorkflowStarter {
  startExecution(name: string, input: unknown): Promise<StartedExecution>;
}
