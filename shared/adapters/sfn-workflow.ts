/**
 * The Step Functions adapter of the workflow port. Parse decides which attempt a message is from
 * DescribeExecution of the run's attempt names (shared/parse/attempts.ts); starting an existing
 * attempt again with its own input gets ExecutionAlreadyExists (for a running execution with a
 * different input, and for any closed execution of that name). The adapter compares the stored
 * input (DescribeExecution): the same input means "already started" (nothing to do); a different
 * input is a real conflict and is rethrown (parse then decides again).
 */
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { EXECUTION_STATUSES, type ExecutionDescription, type ExecutionStatus, type StartedExecution, type WorkflowRunner } from '../ports/workflow';
import { traced } from '../observability';

let client: SFNClient | undefined;

/** Deep equality of two JSON values (key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export class StepFunctionsStarter implements WorkflowRunner {
  private readonly sfn: Pick<SFNClient, 'send'>;

  constructor(
    readonly stateMachineArn: string,
    sfn?: Pick<SFNClient, 'send'>,
  ) {
    this.sfn = sfn ?? (client ??= traced(new SFNClient({ maxAttempts: 5 })));
  }

  async startExecution(name: string, input: unknown): Promise<StartedExecution> {
    const text = JSON.stringify(input);
    try {
      const started = await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: text }),
      );
      return { executionArn: started.executionArn!, alreadyStarted: false };
    } catch (error) {
      if ((error as { name?: string }).name !== 'ExecutionAlreadyExists') throw error;
      const executionArn = executionArnOf(this.stateMachineArn, name);
      const existing = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (existing.input !== undefined && sameJson(JSON.parse(existing.input), input)) {
        return { executionArn, alreadyStarted: true };
      }
      throw error;
    }
  }

  async describeExecution(name: string): Promise<ExecutionDescription | undefined> {
    const executionArn = executionArnOf(this.stateMachineArn, name);
    let described;
    try {
      described = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
    const status = described.status as string | undefined;
    if (!EXECUTION_STATUSES.includes(status as ExecutionStatus)) {
      throw new Error(`DescribeExecution of ${executionArn} answered status ${JSON.stringify(status)}, which this pipeline does not know`);
    }
    return { name, executionArn, status: status as ExecutionStatus, input: described.input === undefined ? undefined : JSON.parse(described.input) };
  }

  async executionStatus(executionArn: string): Promise<ExecutionStatus> {
    const described = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return described.status as ExecutionStatus;
  }
}

/**
 * The execution ARN of a name: the state machine ARN with `stateMachine` → `execution` and
 * the name appended. This is the one ARN built by hand: StartExecution does not return it
 * when it refuses, and DescribeExecution needs it.
 */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
