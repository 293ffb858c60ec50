import { describe, expect, it } from 'vitest';
import { RowCleaner, fillSeries, toNumber } from '../../shared/parse/cleaning';
import { inferSchema } from '../../shared/parse/schema';
import { parseFrequency } from '../../shared/frequency';
import { TRANSFORMS } from '../../shared/transform';
import type { Row } from '../../shared/ports/warehouse';

const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d));
const row = (item: string, d: number, value: unknown): Row => ({ TIMESTAMP: day(d), ITEM_ID: item, TARGET_VALUE: value as number });

function cleaner(frequency = 'D', transform: 'log1p' | 'none' = 'none') {
  const schema = inferSchema('TARGET', row('a', 0, 1));
  return new RowCleaner({ schema, frequency: parseFrequency(frequency), timestampFormat: 'yyyy-MM-dd', transform });
}

/** Every CSV line the rows make (a series' first lines are handed out once it is known to be trainable). */
function lines(rows: Row[], transform: 'log1p' | 'none' = 'none'): string[] {
  const c = cleaner('D', transform);
  let text = rows.map((r) => c.line(r)).join('');
  c.finish();
  text += c.rest();
  return text === '' ? [] : text.trimEnd().split('\n');
}

describe('Function: fillSeries', () => {
  it('forward-fills negatives and missing values from the previous value; leading ones stay missing', () => {
    expect(fillSeries([-1, null, 3, -2, null, 5, -7])).toEqual([null, null, 3, 3, 3, 5, 5]);
  });
});

describe('Class: RowCleaner', () => {
  it('forward-fills per item: one item never leaks into the next (the seed defect)', () => {
    // Act
    const out = lines([row('a', 0, 5), row('a', 1, -1), row('b', 0, -3), row('b', 1, null), row('b', 2, 2), row('b', 3, -1)]);

    // Assess
    expect(out).toEqual(['2024-01-01,a,5', '2024-01-02,a,5', '2024-01-01,b,', '2024-01-02,b,', '2024-01-03,b,2', '2024-01-04,b,2']);
  });

  it('applies log1p to target values, and expm1 brings them back within 1e-9', () => {
    // Prepare
    const values = [0, 0.5, 1, 12.25, 1234.5678, 1e6, 3.3e9];

    // Act
    const out = lines(values.map((v, i) => row('a', i, v)), 'log1p');
    const back = out.map((l) => TRANSFORMS.log1p.inverse(Number(l.split(',')[2])));

    // Assess
    back.forEach((v, i) => expect(Math.abs(v - values[i]!) / Math.max(1, values[i]!)).toBeLessThanOrEqual(1e-9));
  });

  it('accepts numeric strings and bigints; rejects non-numeric values naming item, timestamp, column and value', () => {
    expect(lines([row('a', 0, '4.5'), row('a', 1, 7n)])).toEqual(['2024-01-01,a,4.5', '2024-01-02,a,7']);
    expect(() => lines([row('a', 0, 'n/a')])).toThrow(/TARGET_QUERY: item "a" at 2024-01-01T00:00:00.000Z: TARGET_VALUE "n\/a" is not a number/);
    expect(() => lines([row('a', 0, Number.NaN)])).toThrow(/is not a number/);
  });

  it('rejects duplicated (item, timestamp) rows', () => {
    expect(() => lines([row('a', 0, 1), row('a', 0, 2)])).toThrow(/item "a": duplicate rows for TIMESTAMP 2024-01-01/);
  });

  it('rejects rows out of order and items that come back', () => {
    expect(() => lines([row('a', 1, 1), row('a', 0, 2)])).toThrow(/comes after .*ordered by ITEM_ID, TIMESTAMP/);
    expect(() => lines([row('a', 0, 1), row('a', 1, 1), row('b', 0, 1), row('b', 1, 1), row('a', 2, 1)])).toThrow(/item "a" appears again after other items/);
  });

  it('allows gaps on the frequency grid, rejects timestamps off it', () => {
    // Prepare
    const weekly = cleaner('W');

    // Act + Assess
    expect(lines([row('a', 0, 1), row('a', 3, 1)])).toHaveLength(2);
    weekly.line(row('a', 0, 1));
    weekly.line(row('a', 14, 1));
    expect(() => weekly.line(row('a', 17, 1))).toThrow(/not a whole number of W periods after 2024-01-15/);
    expect(() => cleaner().line({ TIMESTAMP: new Date(Date.UTC(2024, 0, 1, 6)), ITEM_ID: 'a', TARGET_VALUE: 1 })).toThrow(/has a time of day, but the timestamp format is yyyy-MM-dd/);
  });

  it('quarantines a target item with no usable value, a single point or a newline in its id, and keeps the rest', () => {
    // Prepare
    const c = cleaner();
    const rows = [row('a', 0, -1), row('a', 1, null), row('b', 0, 1), row('b', 1, 2), row('c', 0, 1), row('d\nforged', 0, 1), row('d\nforged', 1, 1), row('e', 0, null), row('e', 1, 3)];

    // Act
    const text = rows.map((r) => c.line(r)).join('');
    const stats = c.finish();

    // Assess
    expect((text + c.rest()).trimEnd().split('\n')).toEqual(['2024-01-01,b,1', '2024-01-02,b,2', '2024-01-01,e,', '2024-01-02,e,3']);
    expect(stats).toMatchObject({ rows: 4, items: 2, longestSeries: 2 });
    expect(stats.quarantined).toEqual([
      { item: 'a', dimensions: null, reason: expect.stringMatching(/all 2 target values are negative or missing/) },
      { item: 'c', dimensions: null, reason: expect.stringMatching(/a single data point/) },
      { item: 'd\nforged', dimensions: null, reason: expect.stringMatching(/ITEM_ID "d\\nforged" contains a control character/) },
    ]);
  });

  it('fails a target whose every item is quarantined, saying why', () => {
    expect(() => lines([row('a', 0, -1), row('a', 1, null), row('b', 0, 1)])).toThrow(
      /every item is quarantined, nothing is left to forecast: item "a": all 2 target values are negative or missing.*; item "b": a single data point/,
    );
  });

  it('keys series by item and every dimension: each item × store is filled and checked on its own', () => {
    // Prepare
    const storeRow = (item: string, store: string | null, d: number, value: unknown): Row => ({ TIMESTAMP: day(d), ITEM_ID: item, STORE: store, TARGET_VALUE: value as number });
    const make = () => new RowCleaner({ schema: inferSchema('TARGET', storeRow('a', 's1', 0, 1)), frequency: parseFrequency('D'), timestampFormat: 'yyyy-MM-dd', transform: 'none' });
    const c = make();
    const rows = [storeRow('a', 's1', 0, 5), storeRow('a', 's1', 1, -1), storeRow('a', 's2', 0, null), storeRow('a', 's2', 1, 7), storeRow('a', 's3', 0, 1), storeRow('b', 's1', 0, 2), storeRow('b', 's1', 1, 3)];

    // Act
    const text = rows.map((r) => c.line(r)).join('');
    const stats = c.finish();

    // Assess: no "duplicate rows for TIMESTAMP" across stores, no fill leaking from s1 into s2, s3 quarantined on its own
    expect((text + c.rest()).trimEnd().split('\n')).toEqual(['2024-01-01,a,5,s1', '2024-01-02,a,5,s1', '2024-01-01,a,,s2', '2024-01-02,a,7,s2', '2024-01-01,b,2,s1', '2024-01-02,b,3,s1']);
    expect(stats).toMatchObject({ rows: 6, items: 3 });
    expect(stats.quarantined).toEqual([{ item: 'a', dimensions: { store: 's3' }, reason: expect.stringMatching(/a single data point/) }]);
    const again = make();
    expect(() => [storeRow('a', 's1', 0, 1), storeRow('a', 's2', 0, 1), storeRow('a', 's1', 1, 1)].forEach((r) => again.line(r))).toThrow(
      /item "a" STORE "s1" appears again after other items; rows must be ordered by ITEM_ID, STORE, TIMESTAMP/,
    );
    const duplicate = make();
    expect(() => [storeRow('a', 's1', 0, 1), storeRow('a', 's1', 0, 1)].forEach((r) => duplicate.line(r))).toThrow(/item "a" STORE "s1": duplicate rows for TIMESTAMP/);
  });

  it('keeps negative values as data when asked (AllowNegative)', () => {
    // Prepare
    const c = new RowCleaner({ schema: inferSchema('TARGET', row('a', 0, 1)), frequency: parseFrequency('D'), timestampFormat: 'yyyy-MM-dd', transform: 'none', keepNegatives: true });

    // Act
    const text = [row('a', 0, -5), row('a', 1, null), row('a', 2, 2)].map((r) => c.line(r)).join('');
    c.finish();

    // Assess
    expect((text + c.rest()).trimEnd().split('\n')).toEqual(['2024-01-01,a,-5', '2024-01-02,a,-5', '2024-01-03,a,2']);
  });

  it('rejects an empty item id and a timestamp that is not one', () => {
    expect(() => lines([row('', 0, 1)])).toThrow(/row 1: ITEM_ID is empty/);
    expect(() => lines([{ TIMESTAMP: 'soon', ITEM_ID: 'a', TARGET_VALUE: 1 }])).toThrow(/item "a": TIMESTAMP "soon" is not a timestamp/);
  });

  it('quotes item ids holding commas or quotes, and counts series lengths', () => {
    // Prepare
    const c = cleaner();

    // Act
    const out = c.line(row('a,"b"', 0, 1)) + c.line(row('a,"b"', 9, 1));
    const stats = c.finish();

    // Assess
    expect(out).toBe('2024-01-01,"a,""b""",1\n2024-01-10,"a,""b""",1\n');
    expect(stats).toMatchObject({ rows: 2, items: 1, longestSeries: 10 });
  });

  it('reads monthly data on month ends', () => {
    const c = new RowCleaner({ schema: inferSchema('TARGET', row('a', 0, 1)), frequency: parseFrequency('M'), timestampFormat: 'yyyy-MM-dd', transform: 'none' });
    c.line({ TIMESTAMP: new Date(Date.UTC(2024, 0, 1)), ITEM_ID: 'a', TARGET_VALUE: 1 });
    c.line({ TIMESTAMP: new Date(Date.UTC(2024, 3, 1)), ITEM_ID: 'a', TARGET_VALUE: 1 });
    expect(c.finish().longestSeries).toBe(4);
  });
});

describe('Class: RowCleaner calendars', () => {
  const at = (y: number, m: number, d: number): Row => ({ TIMESTAMP: new Date(Date.UTC(y, m - 1, d)), ITEM_ID: 'a', TARGET_VALUE: 1 });
  const clean = (frequency: string, rows: Row[]) => {
    const c = new RowCleaner({ schema: inferSchema('TARGET', at(2024, 1, 1)), frequency: parseFrequency(frequency), timestampFormat: 'yyyy-MM-dd', transform: 'none' });
    rows.forEach((r) => c.line(r));
    return c.finish();
  };

  it('accepts month-end monthly data (Feb 29 then Mar 31), quarter-end 3M data and data on the 30th', () => {
    expect(clean('M', [at(2024, 1, 31), at(2024, 2, 29), at(2024, 3, 31), at(2024, 4, 30)]).longestSeries).toBe(4);
    expect(clean('M', [at(2024, 2, 29), at(2024, 3, 31), at(2024, 5, 31)]).longestSeries).toBe(4);
    expect(clean('3M', [at(2023, 12, 31), at(2024, 3, 31), at(2024, 6, 30), at(2024, 9, 30)]).longestSeries).toBe(4);
    expect(clean('M', [at(2024, 1, 30), at(2024, 2, 29), at(2024, 3, 30)]).longestSeries).toBe(3);
  });

  it('accepts weekly data on any weekday, and still rejects a date off the series calendar', () => {
    expect(clean('W', [at(2024, 2, 7), at(2024, 2, 14), at(2024, 2, 28)]).longestSeries).toBe(4);
    expect(() => clean('M', [at(2024, 1, 31), at(2024, 2, 29), at(2024, 3, 29)])).toThrow(/2024-03-29.* is not a whole number of M periods/);
  });
});

describe('Function: toNumber', () => {
  it('maps empty to null and garbage to undefined', () => {
    expect([toNumber(null), toNumber(''), toNumber(' 2 '), toNumber('x'), toNumber(Infinity), toNumber(true)]).toEqual([null, null, 2, undefined, undefined, undefined]);
  });
});

describe('Function: extractToCsv (warehouse without queryBatches)', () => {
  it('streams 3,000 rows from query() into one CSV, and writes nothing for an empty result', async () => {
    // Prepare
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { FolderObjectStore } = await import('../../shared/adapters/folder-store');
    const { extractToCsv } = await import('../../shared/parse/extract');
    const root = await mkdtemp(join(tmpdir(), 'extract-'));
    const store = new FolderObjectStore(root);
    const rowsOf = (n: number) => ({
      async *query() {
        for (let i = 0; i < n; i++) yield row(`i${Math.floor(i / 1000)}`, i % 1000, i);
      },
    });
    const options = { kind: 'TARGET' as const, sql: 'q', binds: [], frequency: parseFrequency('D'), timestampFormat: 'yyyy-MM-dd' as const, transform: 'none' as const };

    // Act
    const extracted = await extractToCsv(rowsOf(3000) as never, store, { ...options, uri: 's3://b/t.csv' });
    const empty = await extractToCsv(rowsOf(0) as never, store, { ...options, uri: 's3://b/empty.csv' });

    // Assess
    expect(extracted?.stats).toMatchObject({ rows: 3000, items: 3, longestSeries: 1000 });
    expect((await store.get('s3://b/t.csv')).toString().trimEnd().split('\n')).toHaveLength(3000);
    expect(empty).toBeUndefined();
    expect(await store.exists('s3://b/empty.csv')).toBe(false);
    await rm(root, { recursive: true, force: true });
  });
});
