/**
 * The Step Functions adapter of the workflow port. An SQS redelivery starts the same
 * execution name again: Step Functions answers ExecutionAlreadyExists for a *running*
 * execution with a different input — and also for any closed execution of that name. The
 * adapter compares the stored input (DescribeExecution): the same input means "already
 * started" (nothing to do); a different input is a real conflict and is rethrown.
 */
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ExecutionStatus, StartedExecution, WorkflowRunner } from '../ports/workflow';

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
    this.sfn = sfn ?? (client ??= new SFNClient({ maxAttempts: 5 }));
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
