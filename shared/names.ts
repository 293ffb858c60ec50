/**
 * Forecast resource names: `^[a-zA-Z][a-zA-Z0-9_]*`, at most 63 characters
 * (forecast-api.md). Every name the pipeline makes goes through `resourceName`, which
 * keeps names deterministic (a retried step finds what it created) and within the limit.
 */
import { createHash } from 'node:crypto';

export const MAX_RESOURCE_NAME = 63;
export const RESOURCE_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]*$/;
/** The message's DataName: shorter than 63 because the pipeline appends suffixes. */
export const MAX_DATA_NAME = 45;

/**
 * Joins parts with `_`. When the result is longer than 63 characters, the first part
 * is shortened and a 6-character hash of the full name keeps it unique.
 */
export function resourceName(...parts: readonly (string | number)[]): string {
  const full = parts.map(String).join('_');
  if (full.length <= MAX_RESOURCE_NAME) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 6);
  const rest = parts.slice(1).map(String).join('_');
  const room = MAX_RESOURCE_NAME - rest.length - hash.length - 2;
  if (room < 1) return `${full.slice(0, MAX_RESOURCE_NAME - hash.length - 1)}_${hash}`;
  return `${String(parts[0]).slice(0, room)}_${hash}_${rest}`;
}

/** Execution name as in the seed: `<DataName>_<YYYY_MM_DD>` from dateCreate `YYYYMMDD`. */
export function executionName(dataName: string, dateCreate: string): string {
  return `${dataName}_${dateCreate.slice(0, 4)}_${dateCreate.slice(4, 6)}_${dateCreate.slice(6, 8)}`;
}

/**
 * What makes an attempt's names its own: nothing for the first attempt (its names are the run's,
 * as they always were), `a<N>` from the second on. Appended to every resource name and to the
 * execution name, so a re-run never finds (reuses, or deletes) what an earlier attempt created.
 */
export function attemptParts(attempt: number): string[] {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`An attempt is a whole number from 1, not ${attempt}`);
  return attempt === 1 ? [] : [`a${attempt}`];
}

/** The execution name of one attempt of a run: `<runId>` for the first, `<runId>_a<N>` after. */
export function attemptExecutionName(runId: string, attempt: number): string {
  return [runId, ...attemptParts(attempt)].join('_');
}
