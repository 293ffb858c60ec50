// Placeholder until the Step Functions adapter lands (issue 2); the signature is the contract.
import { NotImplemented } from '../errors';
import type { StartedExecution, WorkflowStarter } from '../ports/workflow';

export class StepFunctionsStarter implements WorkflowStarter {
  constructor(readonly stateMachineArn: string) {}
  startExecution(_name: string, _input: unknown): Promise<StartedExecution> {
    throw new NotImplemented('The Step Functions adapter is not implemented yet');
  }
}
