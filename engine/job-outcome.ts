/** How a job's run ends on its document, whichever executor ran it. */
import type { Repository } from './repository';

export async function markJobActive(repo: Repository, arn: string, outcome: { result?: Record<string, unknown>; message?: string }): Promise<void> {
  await repo.update(arn, (d) => {
    d.status = 'ACTIVE';
    d.result = outcome.result;
    if (outcome.message) d.message = outcome.message;
    else delete d.message;
    delete d.owner;
  });
}

export async function markJobFailed(repo: Repository, arn: string, message: string): Promise<void> {
  await repo.update(arn, (d) => {
    d.status = 'CREATE_FAILED';
    d.message = message;
    delete d.owner;
  });
}
