/**
 * What parse writes to FORECAST_RUN_ATTEMPTS, so the warehouse shows every attempt from its start:
 * a `RUNNING` row once parse has started an attempt, and the real end of an earlier attempt that no
 * step recorded (an execution ABORTED or TIMED_OUT runs no Catch; a failure step that itself failed
 * leaves `RUNNING`), taken from the workflow when parse next looks at the run. Notify and the failure
 * step replace the same row (shared/warehouse/writers.ts): one row per attempt.
 */
import type { ExecutionDescription, ExecutionStatus } from '../ports/workflow';
import type { Dependencies } from '../runtime';
import { attemptsTableDdl, tableNamesFromEnv } from '../warehouse/layout';
import { writeAttemptEndedUnrecorded, writeAttemptStarted, type AttemptStatus, type RunKey } from '../warehouse/writers';

/** The run an attempt belongs to, as the message names it. */
export interface AttemptRun {
  readonly dataName: string;
  readonly runId: string;
  readonly dateCreate: string;
}

/** The end an execution status stands for, when the workflow has ended it; undefined while it may still run. */
function endedStatus(status: ExecutionStatus): AttemptStatus | undefined {
  switch (status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
      return undefined;
    // Notify records a success before the execution can succeed: nothing to add.
    case 'SUCCEEDED':
      return undefined;
    case 'FAILED':
    case 'TIMED_OUT':
    case 'ABORTED':
      return status;
  }
}

function messageHashOf(execution: ExecutionDescription): string | undefined {
  const hash = (execution.input as { run?: { messageHash?: unknown } } | null | undefined)?.run?.messageHash;
  return typeof hash === 'string' ? hash : undefined;
}

function keyOf(run: AttemptRun, attempt: number, execution: { readonly name: string }, messageHash: string | undefined): RunKey {
  return { dataName: run.dataName, runId: run.runId, attempt, executionName: execution.name, messageHash };
}

async function attemptsWarehouse(deps: Dependencies) {
  const warehouse = await deps.warehouse();
  const tables = tableNamesFromEnv();
  await warehouse.execute(attemptsTableDdl(tables));
  return { warehouse, tables };
}

/** Writes the `RUNNING` row of an attempt parse started (or found started); nothing when it has a row. */
export async function recordAttemptStarted(deps: Dependencies, run: AttemptRun, attempt: number, executionName: string, messageHash: string | undefined): Promise<void> {
  const { warehouse, tables } = await attemptsWarehouse(deps);
  await warehouse.transaction((tx) => writeAttemptStarted(tx, keyOf(run, attempt, { name: executionName }, messageHash), run.dateCreate, tables));
}

/**
 * Brings the rows of the run's attempts (`attempts[i]` is attempt i + 1, as listAttempts returns them)
 * in line with the workflow: an attempt that may still run gets its `RUNNING` row when it has none, an
 * ended one whose row is missing or says `RUNNING` gets the status the workflow ended it with. What a
 * step recorded is never changed. Returns the attempts whose end it wrote.
 */
export async function reconcileAttempts(deps: Dependencies, run: AttemptRun, attempts: readonly ExecutionDescription[]): Promise<number[]> {
  if (attempts.length === 0) return [];
  const { warehouse, tables } = await attemptsWarehouse(deps);
  const written: number[] = [];
  await warehouse.transaction(async (tx) => {
    for (const [index, execution] of attempts.entries()) {
      const key = keyOf(run, index + 1, execution, messageHashOf(execution));
      const ended = endedStatus(execution.status);
      if (ended === undefined) {
        if (execution.status !== 'SUCCEEDED') await writeAttemptStarted(tx, key, run.dateCreate, tables);
        continue;
      }
      const reason = `execution ${execution.status}; no step recorded its end`;
      if (await writeAttemptEndedUnrecorded(tx, key, { dateCreate: run.dateCreate, status: ended, reason }, tables)) written.push(index + 1);
    }
  });
  return written;
}
