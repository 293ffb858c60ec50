import { describe, expect, it } from 'vitest';
import { createOutcome, deleteOutcome, RESOURCE_STATUSES } from '../../shared/status';
import { addPeriods, parseFrequency, periodsBetween, periodStart, seasonLength } from '../../shared/frequency';
import { attemptExecutionName, attemptParts, executionName, resourceName, MAX_RESOURCE_NAME, RESOURCE_NAME_PATTERN } from '../../shared/names';
import { TRANSFORMS } from '../../shared/transform';
import { ResourceFailed, ResourcePending } from '../../shared/errors';
import { parseTimestamp, formatExportDate, parseCompactDate } from '../../shared/time';

describe('status handling', () => {
  it('treats dataset UPDATE_* as in progress, not failed', () => {
    expect(createOutcome('UPDATE_IN_PROGRESS')).toBe('pending');
    expect(createOutcome('UPDATE_PENDING')).toBe('pending');
    expect(createOutcome('UPDATE_FAILED')).toBe('failed');
  });
  it('maps every known status and fails unknown ones', () => {
    for (const s of RESOURCE_STATUSES) expect(['ready', 'pending', 'failed']).toContain(createOutcome(s));
    expect(createOutcome('SOMETHING_NEW')).toBe('failed');
    expect(createOutcome(undefined)).toBe('failed');
    expect(deleteOutcome('DELETE_IN_PROGRESS')).toBe('wait');
    expect(deleteOutcome('CREATE_FAILED')).toBe('deletable');
  });
});

describe('errors', () => {
  it('keep their names, which the ASL matches', () => {
    expect(new ResourcePending('x').name).toBe('ResourcePending');
    expect(new ResourceFailed('x').name).toBe('ResourceFailed');
    expect(new ResourceFailed('x')).toBeInstanceOf(Error);
  });
});

describe('frequency', () => {
  it('parses old and new spellings', () => {
    expect(parseFrequency('D')).toMatchObject({ count: 1, unit: 'D', text: 'D' });
    expect(parseFrequency('1D').text).toBe('D');
    expect(parseFrequency('15min')).toMatchObject({ count: 15, unit: 'min' });
    expect(parseFrequency('3M').text).toBe('3M');
    expect(() => parseFrequency('7D')).toThrow(/1 to 6/);
    expect(() => parseFrequency('daily')).toThrow(/not a Forecast frequency/);
  });
  it('gives R season lengths', () => {
    const m = (f: string) => seasonLength(parseFrequency(f));
    expect([m('Y'), m('M'), m('W'), m('D'), m('H'), m('30min'), m('15min'), m('1min'), m('3M')]).toEqual([
      1, 12, 52, 7, 24, 2, 4, 60, 4,
    ]);
  });
  it('steps months with clamping and counts periods', () => {
    const jan31 = new Date(Date.UTC(2024, 0, 31));
    expect(addPeriods(jan31, parseFrequency('M'), 1).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    const d = parseFrequency('D');
    expect(periodsBetween(jan31, addPeriods(jan31, d, 40), d)).toBe(40);
    expect(periodStart(new Date(Date.UTC(2024, 0, 31)), parseFrequency('W')).toISOString()).toBe(
      '2024-01-29T00:00:00.000Z',
    );
  });
});

describe('names', () => {
  it('keeps names within Forecast limits and deterministic', () => {
    const long = resourceName('a'.repeat(45), '20240101', 'DEEPARP', 3, 'hpo', 'forecast');
    expect(long.length).toBeLessThanOrEqual(MAX_RESOURCE_NAME);
    expect(long).toMatch(RESOURCE_NAME_PATTERN);
    expect(resourceName('a'.repeat(45), '20240101', 'DEEPARP', 3, 'hpo', 'forecast')).toBe(long);
    expect(resourceName('sales', 'ETS')).toBe('sales_ETS');
    expect(executionName('sales', '20240131')).toBe('sales_2024_01_31');
  });
});

describe('attempt names', () => {
  it('keep the first attempt\'s names and make every later attempt\'s its own', () => {
    expect(attemptParts(1)).toEqual([]);
    expect(attemptParts(2)).toEqual(['a2']);
    expect(attemptExecutionName('shop_2024_03_01', 1)).toBe('shop_2024_03_01');
    expect(attemptExecutionName('shop_2024_03_01', 3)).toBe('shop_2024_03_01_a3');
    expect(() => attemptParts(0)).toThrow(RangeError);
    expect(() => attemptParts(1.5)).toThrow(RangeError);
    const long = resourceName('d'.repeat(45), 'PROPHET', 5, 'hpo', '20240301', ...attemptParts(99));
    expect(long.length).toBeLessThanOrEqual(MAX_RESOURCE_NAME);
    expect(long).toMatch(RESOURCE_NAME_PATTERN);
    expect(long).not.toBe(resourceName('d'.repeat(45), 'PROPHET', 5, 'hpo', '20240301', ...attemptParts(98)));
  });
});

describe('transforms', () => {
  it('log1p round-trips within 1e-9', () => {
    for (const x of [0, 1e-6, 0.5, 3, 1234.5, 1e7]) {
      const { forward, inverse } = TRANSFORMS.log1p;
      expect(Math.abs(inverse(forward(x)) - x)).toBeLessThanOrEqual(1e-9 * Math.max(1, x));
    }
  });
});

describe('time', () => {
  it('parses and formats Forecast timestamps', () => {
    expect(formatExportDate(parseTimestamp('2024-03-01'))).toBe('2024-03-01T00:00:00Z');
    expect(parseTimestamp('2024-03-01 13:05:00').getUTCHours()).toBe(13);
    expect(() => parseTimestamp('2024-02-30')).toThrow(/real calendar date/);
    expect(() => parseCompactDate('2024131')).toThrow(/YYYYMMDD/);
  });
});
