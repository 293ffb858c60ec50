import { describe, expect, it } from 'vitest';
import { createOutcome, deleteOutcome, RESOURCE_STATUSES } from '../../shared/status';
import { addPeriods, anchoredPeriodStart, parseFrequency, periodsBetween, periodStart, seasonLength } from '../../shared/frequency';
import { attemptExecutionName, attemptParts, executionName, resourceName, MAX_RESOURCE_NAME, RESOURCE_NAME_PATTERN } from '../../shared/names';
import { forecastInverse, TRANSFORMS } from '../../shared/transform';
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
  it('keeps a month end a month end and a day of the month that day (month-end and quarter-end calendars)', () => {
    // Prepare
    const at = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    const month = parseFrequency('M');
    const quarter = parseFrequency('3M');

    // Act + Assess
    expect([1, 2, 3, 4].map((k) => iso(addPeriods(at(2024, 2, 29), month, k)))).toEqual(['2024-03-31', '2024-04-30', '2024-05-31', '2024-06-30']);
    expect([1, 2].map((k) => iso(addPeriods(at(2024, 1, 30), month, k)))).toEqual(['2024-02-29', '2024-03-30']);
    expect([1, 2, 3, -1].map((k) => iso(addPeriods(at(2024, 3, 31), quarter, k)))).toEqual(['2024-06-30', '2024-09-30', '2024-12-31', '2023-12-31']);
    expect(iso(addPeriods(at(2024, 1, 15), month, 1))).toBe('2024-02-15');
  });
  it('lays periods on the grid of the data: Wednesday weeks, months from the 15th or from month ends', () => {
    // Prepare
    const at = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));
    const iso = (d: Date) => d.toISOString().slice(0, 10);

    // Act + Assess: the period that holds a date, on the grid through the anchor
    expect(iso(anchoredPeriodStart(at(2024, 3, 8), parseFrequency('W'), at(2024, 2, 28)))).toBe('2024-03-06'); // a Wednesday
    expect(iso(anchoredPeriodStart(at(2024, 3, 6), parseFrequency('W'), at(2024, 2, 28)))).toBe('2024-03-06');
    expect(iso(anchoredPeriodStart(at(2024, 3, 20), parseFrequency('2W'), at(2024, 3, 6)))).toBe('2024-03-20');
    expect(iso(anchoredPeriodStart(at(2024, 3, 19), parseFrequency('2W'), at(2024, 3, 6)))).toBe('2024-03-06');
    expect(iso(anchoredPeriodStart(at(2024, 3, 14), parseFrequency('M'), at(2024, 5, 15)))).toBe('2024-02-15');
    expect(iso(anchoredPeriodStart(at(2024, 2, 29), parseFrequency('M'), at(2024, 5, 31)))).toBe('2024-02-29');
    expect(iso(anchoredPeriodStart(at(2024, 3, 30), parseFrequency('M'), at(2024, 5, 31)))).toBe('2024-02-29');
    expect(iso(anchoredPeriodStart(at(2024, 6, 30), parseFrequency('3M'), at(2024, 3, 31)))).toBe('2024-06-30');
    expect(iso(anchoredPeriodStart(at(2024, 5, 1), parseFrequency('3M'), at(2024, 3, 31)))).toBe('2024-03-31');
    expect(iso(anchoredPeriodStart(at(2024, 3, 5), parseFrequency('D'), at(2024, 3, 31)))).toBe('2024-03-05');
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
  it('forecastInverse floors demand at zero and re-orders crossing quantiles, leaving missing values and the mean in place', () => {
    // Prepare: columns p90, mean, p10, p50 (export order is not quantile order)
    const real = forecastInverse('none', { nonNegative: true, quantiles: [0.9, undefined, 0.1, 0.5] });
    const signed = forecastInverse('none', { nonNegative: false, quantiles: [0.9, undefined, 0.1, 0.5] });

    // Act + Assess
    expect(real([3, -1, -2, 5])).toEqual([5, 0, 0, 3]);
    expect(real([3, 2, null, 1])).toEqual([3, 2, null, 1]);
    expect(real([1, 2, null, 3])).toEqual([3, 2, null, 1]);
    expect(signed([3, -1, -2, 5])).toEqual([5, -1, -2, 3]);
    expect(Object.is(real([-0, -0, -0, -0])[1], -0)).toBe(false);
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
