/**
 * Runs are attempts. A run (`<DataName>_<YYYY_MM_DD>`) is tried by one or more attempts, each its own
 * execution (`<runId>`, then `<runId>_a2`, …), input prefix and resource names. Parse decides, from
 * what the workflow remembers of the run's attempts, whether a delivery is one it has seen (nothing
 * starts: SQS redelivery stays exactly-once) or asks for a new attempt:
 *
 * | newest attempt            | the same delivery (SQS message id) | the same message (content hash) | another message      |
 * |---------------------------|------------------------------------|---------------------------------|----------------------|
 * | none                      | —                                  | attempt 1                       | attempt 1            |
 * | RUNNING / PENDING_REDRIVE | that attempt                       | that attempt                    | AttemptInProgress    |
 * | SUCCEEDED                 | that attempt                       | that attempt (unless forced)    | a new attempt        |
 * | FAILED / TIMED_OUT / ABORTED (also PARTIAL: Run-Partial fails the execution) | that attempt | a new attempt | a new attempt |
 *
 * A delivery whose SQS message id started any earlier attempt is that attempt, whatever came after.
 */
import { AttemptInProgress } from '../errors';
import { jsonHash } from '../json';
import type { MessageParam } from '../message';
import { attemptExecutionName } from '../names';
import type { ExecutionDescription, ExecutionStatus, WorkflowStarter } from '../ports/workflow';

/** SQS message attribute that asks for a new attempt even when the run SUCCEEDED with the same message. */
export const FORCE_NEW_ATTEMPT_ATTRIBUTE = 'ForceNewAttempt';

/** What parse knows of one delivery of a message. */
export interface Delivery {
  /** SHA-256 of the validated message (canonical JSON): equal requests hash equally. */
  readonly messageHash: string;
  /** The SQS message id; absent for a console invocation (always deliberate). */
  readonly messageId?: string | undefined;
  /** Run a new attempt even when the newest one SUCCEEDED with this message (`ForceNewAttempt`). */
  readonly forceNewAttempt?: boolean | undefined;
}

/** Which attempt a delivery is, with every attempt of the run the workflow remembers (oldest first). */
export type AttemptDecision = (
  | { readonly kind: 'new'; readonly attempt: number; readonly name: string }
  | { readonly kind: 'existing'; readonly attempt: number; readonly execution: ExecutionDescription }
) & { readonly attempts: readonly ExecutionDescription[] };

/** The content hash of a validated message. */
export function messageHash(param: MessageParam): string {
  return jsonHash(param);
}

/** The attempt fields parse puts into `run` of the input (read back from a described execution). */
interface AttemptFields {
  readonly messageHash?: unknown;
  readonly messageId?: unknown;
}

function fieldsOf(execution: ExecutionDescription): AttemptFields {
  const run = (execution.input as { run?: AttemptFields } | null | undefined)?.run;
  return run ?? {};
}

/** Whether the workflow may still run (or redrive) the attempt. */
function stillRunning(status: ExecutionStatus): boolean {
  switch (status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
      return true;
    case 'SUCCEEDED':
    case 'FAILED':
    case 'TIMED_OUT':
    case 'ABORTED':
      return false;
  }
}

/** Every attempt of the run the workflow remembers, oldest first (names are probed in order). */
export async function listAttempts(workflow: WorkflowStarter, runId: string): Promise<ExecutionDescription[]> {
  const attempts: ExecutionDescription[] = [];
  for (let attempt = 1; ; attempt++) {
    const execution = await workflow.describeExecution(attemptExecutionName(runId, attempt));
    if (!execution) return attempts;
    attempts.push(execution);
  }
}

/** Which attempt a delivery belongs to (see the table above). */
export async function decideAttempt(workflow: WorkflowStarter, runId: string, delivery: Delivery): Promise<AttemptDecision> {
  const attempts = await listAttempts(workflow, runId);
  const existing = (index: number): AttemptDecision => ({ kind: 'existing', attempt: index + 1, execution: attempts[index]!, attempts });
  const next: AttemptDecision = { kind: 'new', attempt: attempts.length + 1, name: attemptExecutionName(runId, attempts.length + 1), attempts };
  if (delivery.messageId) {
    const same = attempts.findIndex((a) => fieldsOf(a).messageId === delivery.messageId);
    if (same >= 0) return existing(same);
  }
  const newest = attempts.length - 1;
  if (newest < 0) return next;
  const latest = attempts[newest]!;
  // An execution started before attempts existed carries no hash: taken as this message, so an
  // upgrade never re-runs a run that delivered.
  const recorded = fieldsOf(latest).messageHash;
  const sameMessage = recorded === undefined || recorded === delivery.messageHash;
  if (stillRunning(latest.status)) {
    if (sameMessage) return existing(newest);
    throw new AttemptInProgress(
      `Run ${runId}: attempt ${newest + 1} (${latest.name}) is ${latest.status} with another message; this one becomes the next attempt once it has ended`,
    );
  }
  if (latest.status === 'SUCCEEDED' && sameMessage && !delivery.forceNewAttempt) return existing(newest);
  return next;
}
