import { describe, expect, it } from 'vitest';
import { parseFrequency } from '../../shared/frequency';
import { importCsv } from '../../engine/csv-import';
import { buildSeries, targetFilling, type ImportedData } from '../../engine/series';
import { useTempFolderStore } from './temp-folder-store';

const SCHEMA = [
  { AttributeName: 'item_id', AttributeType: 'string' },
  { AttributeName: 'timestamp', AttributeType: 'timestamp' },
  { AttributeName: 'target_value', AttributeType: 'float' },
];

describe('Function: importCsv', () => {
  const tmp = useTempFolderStore('import-');

  it('reads every object under a prefix, columns in schema order', async () => {
    // Prepare
    await tmp.store.put('s3://b/data/part1.csv', 'a,2024-01-01,1\na,2024-01-02,2\n');
    await tmp.store.put('s3://b/data/part2.csv', 'b,2024-01-01,5\n');

    // Act
    const data = await importCsv(tmp.store, 's3://b/data/', SCHEMA, 'yyyy-MM-dd');

    // Assess
    expect(data.rowCount).toBe(3);
    expect(data.items.map((i) => [i.key[0], Array.from(i.values.target_value!)])).toEqual([
      ['a', [1, 2]],
      ['b', [5]],
    ]);
  });

  it('throws naming the object and line when a timestamp does not match TimestampFormat', async () => {
    // Prepare
    await tmp.store.put('s3://b/t.csv', 'a,2024-01-01,1\na,2024-01-02 10:00:00,2\n');

    // Act
    const run = importCsv(tmp.store, 's3://b/t.csv', SCHEMA, 'yyyy-MM-dd');

    // Assess
    await expect(run).rejects.toThrow(/s3:\/\/b\/t.csv line 2: timestamp "2024-01-02 10:00:00" does not match TimestampFormat yyyy-MM-dd/);
  });

  it('throws when a row has more fields than the schema (e.g. a header row is missing from the schema)', async () => {
    // Prepare
    await tmp.store.put('s3://b/t.csv', 'a,2024-01-01,1,extra\n');

    // Act
    const run = importCsv(tmp.store, 's3://b/t.csv', SCHEMA, 'yyyy-MM-dd');

    // Assess
    await expect(run).rejects.toThrow(/line 1: 4 fields, the schema has 3/);
  });

  it('throws when nothing exists at the path', async () => {
    // Act
    const run = importCsv(tmp.store, 's3://b/missing/', SCHEMA);

    // Assess
    await expect(run).rejects.toThrow(/No data found at s3:\/\/b\/missing\//);
  });
});

const day = (d: number, h = 0) => Date.UTC(2024, 0, 1 + d, h);
const data = (items: Record<string, [number, number][]>): ImportedData => ({
  keyColumns: ['item_id'],
  numericColumns: ['target_value'],
  rowCount: 0,
  items: Object.entries(items).map(([id, rows]) => ({
    key: [id],
    t: Float64Array.from(rows.map((r) => r[0])),
    values: { target_value: Float64Array.from(rows.map((r) => r[1])) },
  })),
});

describe('Function: buildSeries', () => {
  it('aggregates hourly rows to days by sum (default), avg, first, min and max', () => {
    // Prepare
    const hourly = data({ a: [[day(0, 1), 1], [day(0, 5), 3], [day(1, 2), 10]] });

    // Act
    const by = (aggregation: string) => Array.from(buildSeries({ target: hourly, frequency: parseFrequency('D'), filling: targetFilling({ aggregation }) }).series[0]!.values);

    // Assess
    expect(by('sum')).toEqual([4, 10]);
    expect(by('avg')).toEqual([2, 10]);
    expect(by('first')).toEqual([1, 10]);
    expect(by('min')).toEqual([1, 10]);
    expect(by('max')).toEqual([3, 10]);
  });

  it('does not frontfill, middlefills and backfills with zero by default, and marks filled values unobserved', () => {
    // Prepare: a starts on day 0 and ends on day 4; b starts on day 2 and ends on day 6 (the dataset end)
    const d = data({ a: [[day(0), 5], [day(1), 6], [day(4), 7]], b: [[day(2), 1], [day(6), 2]] });

    // Act
    const set = buildSeries({ target: d, frequency: parseFrequency('D') });
    const [a, b] = set.series;

    // Assess
    expect(set.length).toBe(7);
    expect(Array.from(a!.values)).toEqual([5, 6, 0, 0, 7, 0, 0]);
    expect(Array.from(a!.observed)).toEqual([1, 1, 0, 0, 1, 0, 0]);
    expect(b!.start.toISOString()).toBe('2024-01-03T00:00:00.000Z');
    expect(Array.from(b!.values)).toEqual([1, 0, 0, 0, 2]);
  });

  it.each([
    [{ middlefill: 'mean', backfill: 'max' }, [2, 4, 3, 3, 6, 6]],
    [{ middlefill: 'median', backfill: 'min' }, [2, 4, 3, 3, 6, 2]],
    [{ middlefill: 'value', middlefill_value: '9', backfill: 'value', backfill_value: '-1' }, [2, 4, 9, 9, 6, -1]],
    [{ middlefill: 'nan', backfill: 'zero' }, [2, 4, NaN, NaN, 6, 0]],
  ])('fills with %j', (parameters, expected) => {
    // Prepare: x ends a day before the dataset end (y holds the last day)
    const d = data({ x: [[day(0), 2], [day(1), 4], [day(4), 6]], y: [[day(5), 1]] });

    // Act
    const set = buildSeries({ target: d, frequency: parseFrequency('D'), filling: targetFilling(parameters) });

    // Assess
    expect(Array.from(set.series[0]!.values)).toEqual(expected);
  });

  it('computes mean fills over the last 64 observed values only', () => {
    // Prepare: 100 ones, then 64 threes, then a gap
    const rows: [number, number][] = [];
    for (let i = 0; i < 164; i++) rows.push([day(i), i < 100 ? 1 : 3]);
    rows.push([day(166), 5]);

    // Act
    const set = buildSeries({ target: data({ a: rows }), frequency: parseFrequency('D'), filling: targetFilling({ middlefill: 'mean' }) });

    // Assess
    expect(set.series[0]!.values[164]).toBe(3);
  });

  it('rejects a frontfill other than none and an unknown aggregation', () => {
    // Act
    const frontfill = () => targetFilling({ frontfill: 'zero' });
    const aggregation = () => targetFilling({ aggregation: 'median' });

    // Assess
    expect(frontfill).toThrow(/frontfill must be "none"/);
    expect(aggregation).toThrow(/aggregation must be one of sum, avg, first, min, max/);
  });

  it('extends related series over the horizon with futurefill and requires a rule for missing values', () => {
    // Prepare
    const target = data({ a: [[day(0), 1], [day(1), 2], [day(2), 3]] });
    const related: ImportedData = {
      keyColumns: ['item_id'],
      numericColumns: ['price'],
      rowCount: 3,
      items: [{ key: ['a'], t: Float64Array.of(day(0), day(1), day(2)), values: { price: Float64Array.of(5, 6, 7) } }],
    };

    // Act
    const filled = buildSeries({ target, related, frequency: parseFrequency('D'), horizon: 2, relatedFilling: { price: { futurefill: { method: 'value', value: 8 } } } });
    const unfilled = () => buildSeries({ target, related, frequency: parseFrequency('D'), horizon: 2 });

    // Assess
    expect(Array.from(filled.series[0]!.related!.price!)).toEqual([5, 6, 7, 8, 8]);
    expect(unfilled).toThrow(/Related attribute price of item a has a missing value .* no futurefill method/);
  });
});
