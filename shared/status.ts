/**
 * Exhaustive handling of Amazon Forecast resource statuses (forecast-api.md, "Statuses").
 * Every step maps what Describe* returns to one of three outcomes; a status string we
 * do not know is a failure with a clear message, never silently "in progress".
 */

export const RESOURCE_STATUSES = [
  'ACTIVE',
  'CREATE_PENDING',
  'CREATE_IN_PROGRESS',
  'CREATE_FAILED',
  'CREATE_STOPPING',
  'CREATE_STOPPED',
  'DELETE_PENDING',
  'DELETE_IN_PROGRESS',
  'DELETE_FAILED',
  'UPDATE_PENDING',
  'UPDATE_IN_PROGRESS',
  'UPDATE_FAILED',
] as const;
export type ResourceStatus = (typeof RESOURCE_STATUSES)[number];

export type StatusOutcome = 'ready' | 'pending' | 'failed';

export function isResourceStatus(value: unknown): value is ResourceStatus {
  return typeof value === 'string' && (RESOURCE_STATUSES as readonly string[]).includes(value);
}

/**
 * Outcome of a create step for a resource in `status`.
 * A dataset or group is `UPDATE_*` while an import job runs: in progress, not failed.
 */
export function createOutcome(status: string | undefined): StatusOutcome {
  if (!isResourceStatus(status)) return 'failed';
  switch (status) {
    case 'ACTIVE':
      return 'ready';
    case 'CREATE_PENDING':
    case 'CREATE_IN_PROGRESS':
    case 'UPDATE_PENDING':
    case 'UPDATE_IN_PROGRESS':
    // The name is held by a resource being deleted (e.g. a run restarted during its cleanup): it
    // is reusable once the delete finishes, and the step's next attempt creates it anew.
    case 'DELETE_PENDING':
    case 'DELETE_IN_PROGRESS':
      return 'pending';
    case 'CREATE_FAILED':
    case 'CREATE_STOPPING':
    case 'CREATE_STOPPED':
    case 'UPDATE_FAILED':
    case 'DELETE_FAILED':
      return 'failed';
    default:
      return assertNever(status);
  }
}

/** Outcome of a delete step for a resource that still exists in `status`. */
export type DeleteOutcome = 'deletable' | 'wait' | 'stuck';
export function deleteOutcome(status: string | undefined): DeleteOutcome {
  if (!isResourceStatus(status)) return 'stuck';
  switch (status) {
    case 'ACTIVE':
    case 'CREATE_FAILED':
    case 'CREATE_STOPPED':
    case 'UPDATE_FAILED':
      return 'deletable';
    case 'CREATE_PENDING':
    case 'CREATE_IN_PROGRESS':
    case 'CREATE_STOPPING':
    case 'UPDATE_PENDING':
    case 'UPDATE_IN_PROGRESS':
    case 'DELETE_PENDING':
    case 'DELETE_IN_PROGRESS':
      return 'wait';
    case 'DELETE_FAILED':
      return 'deletable';
    default:
      return assertNever(status);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled value: ${String(value)}`);
}
