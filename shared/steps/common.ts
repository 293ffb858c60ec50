/**
 * Building blocks shared by the Forecast steps: idempotent create-or-find, status mapping
 * to the ASL error contract, and tolerant deletes. Every step follows the same pattern
 * (TEAM.md): create first; on ResourceAlreadyExistsException find the resource by name
 * with List*; then Describe → createOutcome.
 */
import type { Filter } from '@aws-sdk/client-forecast';
import { ResourceFailed, ResourcePending } from '../errors';
import { createOutcome, deleteOutcome } from '../status';

/** Forecast SDK exceptions keep their class name in `error.name` (also after bundling). */
export function hasErrorName(error: unknown, ...names: string[]): boolean {
  return typeof error === 'object' && error !== null && names.includes(String((error as { name?: unknown }).name));
}

export const ALREADY_EXISTS = 'ResourceAlreadyExistsException';
export const NOT_FOUND = 'ResourceNotFoundException';
export const IN_USE = 'ResourceInUseException';
export const LIMIT_EXCEEDED = 'LimitExceededException';
export const INVALID_INPUT = 'InvalidInputException';

/** One page of a List* call: the summaries and the token of the next page. */
export type Page<T> = { items: readonly T[] | undefined; next: string | undefined };

/** Walks every page of a List* call and returns the first summary `match` accepts. */
export async function findInPages<T>(
  listPage: (nextToken: string | undefined) => Promise<Page<T>>,
  match: (item: T) => boolean,
): Promise<T | undefined> {
  let token: string | undefined;
  do {
    const page = await listPage(token);
    const found = page.items?.find(match);
    if (found) return found;
    token = page.next;
  } while (token);
  return undefined;
}

/** Every summary of every page of a List* call. */
export async function listAll<T>(listPage: (nextToken: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await listPage(token);
    all.push(...(page.items ?? []));
    token = page.next;
  } while (token);
  return all;
}

export function filterIs(key: string, value: string): Filter[] {
  return [{ Key: key, Value: value, Condition: 'IS' }];
}

/**
 * Creates a resource, or — when a redelivered or retried call finds it already there —
 * finds it by name. A name still held by a resource being deleted is not reusable yet:
 * that is pending, not a failure. A quota error (LimitExceededException) may also answer
 * the create of a resource that exists and is counted in the quota: when the name is
 * found, that resource is used; otherwise the quota error stands.
 */
export async function createOrFind(
  what: string,
  create: () => Promise<string | undefined>,
  find: () => Promise<string | undefined>,
): Promise<string> {
  try {
    const arn = await create();
    if (arn) return arn;
  } catch (error) {
    if (hasErrorName(error, LIMIT_EXCEEDED)) {
      const existing = await find();
      if (existing) return existing;
      throw error;
    }
    if (!hasErrorName(error, ALREADY_EXISTS)) throw error;
  }
  const found = await find();
  if (!found) throw new ResourcePending(`${what} exists but is not listed yet (a delete may still be running)`, [what]);
  return found;
}

/** What one resource's Describe said, in the vocabulary of the create steps. */
export interface Described {
  readonly name: string;
  readonly arn: string;
  readonly status: string | undefined;
  readonly message?: string | undefined;
}

export type Checked =
  | { readonly outcome: 'ready'; readonly resource: Described }
  | { readonly outcome: 'pending'; readonly resource: Described }
  | { readonly outcome: 'failed'; readonly resource: Described; readonly reason: string };

export function check(resource: Described): Checked {
  const outcome = createOutcome(resource.status);
  switch (outcome) {
    case 'ready':
    case 'pending':
      return { outcome, resource };
    case 'failed':
      return {
        outcome,
        resource,
        reason: `${resource.name} is ${resource.status ?? 'in an unknown status'}${resource.message ? `: ${resource.message}` : ''}`,
      };
  }
}

/**
 * For steps where every resource must succeed (datasets, group, import jobs):
 * any failure → ResourceFailed with the service's message; any pending → ResourcePending.
 */
export function requireAllReady(what: string, checked: readonly Checked[]): void {
  const failed = checked.filter((c): c is Extract<Checked, { outcome: 'failed' }> => c.outcome === 'failed');
  if (failed.length > 0) {
    throw new ResourceFailed(
      `${what} failed: ${failed.map((f) => f.reason).join('; ')}`,
      failed.map((f) => f.resource.arn),
    );
  }
  const pending = checked.filter((c) => c.outcome === 'pending');
  if (pending.length > 0) {
    throw new ResourcePending(
      `${what} in progress: ${pending.map((p) => `${p.resource.name} ${p.resource.status}`).join(', ')}`,
      pending.map((p) => p.resource.arn),
    );
  }
}

/** Result of trying to delete one resource. */
export type DeleteProgress = 'gone' | 'waiting';

/**
 * Deletes one resource, tolerant of the resource being gone already.
 * `describe` returns the status, or undefined when the resource does not exist.
 * A delete is asynchronous: after calling it the resource is "waiting" until Describe
 * reports it gone; children still present (ResourceInUseException) also mean "waiting".
 */
export async function deleteResource(
  describe: () => Promise<string | undefined>,
  remove: () => Promise<unknown>,
): Promise<DeleteProgress> {
  let status: string | undefined;
  try {
    status = await describe();
  } catch (error) {
    if (hasErrorName(error, NOT_FOUND)) return 'gone';
    throw error;
  }
  if (status === undefined) return 'gone';
  switch (deleteOutcome(status)) {
    case 'wait':
      return 'waiting';
    case 'deletable':
    case 'stuck':
      try {
        await remove();
      } catch (error) {
        if (hasErrorName(error, NOT_FOUND)) return 'gone';
        if (hasErrorName(error, IN_USE)) return 'waiting';
        throw error;
      }
      return 'waiting';
  }
}

/** Throws ResourcePending naming what is still being deleted. */
export function requireAllGone(what: string, progress: readonly { name: string; progress: DeleteProgress }[]): void {
  const waiting = progress.filter((p) => p.progress === 'waiting');
  if (waiting.length > 0) {
    throw new ResourcePending(`${what}: still deleting ${waiting.map((w) => w.name).join(', ')}`, waiting.map((w) => w.name));
  }
}
