/**
 * Shapes every List/Describe answer shares: paging (NextToken), IS/IS_NOT filters, the time and
 * status fields.
 */
import type { Filter } from '@aws-sdk/client-forecast';
import type { ResourceDoc } from '../repository';
import { checkInteger, invalid } from '../validation';
import type { Input } from './command';

const date = (iso: string | undefined) => (iso ? new Date(iso) : undefined);

export const times = (d: ResourceDoc) => ({ CreationTime: date(d.creationTime), LastModificationTime: date(d.lastModificationTime) });
export const statusOf = (d: ResourceDoc) => ({ Status: d.status, ...(d.message ? { Message: d.message } : {}) });

export function page<T>(items: T[], input: Input, key: string): Record<string, unknown> {
  const max = input.MaxResults === undefined ? 100 : checkInteger('MaxResults', input.MaxResults, 1, 100);
  let start = 0;
  if (input.NextToken !== undefined) {
    start = Number(Buffer.from(String(input.NextToken), 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw invalid('NextToken is not valid');
  }
  const slice = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
  return { [key]: slice, NextToken: next };
}

export function applyFilters(docs: ResourceDoc[], filters: Filter[] | undefined, fields: Record<string, (d: ResourceDoc) => unknown>): ResourceDoc[] {
  let result = docs;
  for (const filter of filters ?? []) {
    const pick = fields[filter.Key ?? ''];
    if (!pick) throw invalid(`Filter key "${filter.Key}" is not valid here (valid: ${Object.keys(fields).join(', ')})`);
    if (filter.Condition !== 'IS' && filter.Condition !== 'IS_NOT') throw invalid(`Filter condition must be IS or IS_NOT, got "${filter.Condition}"`);
    result = result.filter((d) => (pick(d) === filter.Value) === (filter.Condition === 'IS'));
  }
  return result;
}
