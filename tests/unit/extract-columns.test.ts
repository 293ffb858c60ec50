import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import { parseFrequency } from '../../shared/frequency';
import { extractToCsv, type ExtractOptions } from '../../shared/parse/extract';
import { batchRow, type Row, type Warehouse } from '../../shared/ports/warehouse';

/** The same warehouse without `queryColumns`: the data path falls back to row batches (`RowCleaner.line`). */
function rowsOnly(w: Warehouse): Warehouse {
  return {
    query: (sql, binds) => w.query(sql, binds),
    queryBatches: (sql, binds) => w.queryBatches!(sql, binds),
    execute: (sql, binds) => w.execute(sql, binds),
    insertRows: (table, columns, rows) => w.insertRows(table, columns, rows),
    transaction: (work) => w.transaction(work),
    close: () => w.close(),
  };
}

describe('Function: extractToCsv on column batches (DuckDB queryColumns)', () => {
  let dir: string;
  let w: Warehouse;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'extract-columns-'));
    w = await openDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
    // Prepare: gaps of 1–3 days, NULL and negative (also leading) values, NaN-free doubles of every
    // magnitude, NULL features, BIGINT and INTEGER features, item ids needing quotes and longer than
    // DuckDB's 12-byte inline strings, more rows than one 2,048-row chunk.
    await w.execute(`CREATE TABLE t AS SELECT
        TIMESTAMP '2024-01-01' + (d * (1 + (i % 3))) * INTERVAL 1 DAY AS TIMESTAMP,
        CASE WHEN i % 4 = 0 THEN 'a long item id, number ' || i WHEN i % 4 = 1 THEN ' pad' || i ELSE 'it' || i END AS ITEM_ID,
        CASE WHEN d % 11 = 0 THEN NULL WHEN d < 3 THEN -1.5 ELSE (d * 7919 % 1000) * 1.37 - 50 END AS TARGET_VALUE,
        CASE WHEN d % 13 = 0 THEN NULL ELSE (d - 200) * 1.1e-7 END AS PRICE,
        CAST(d % 5 AS BIGINT) - 2 AS PROMO,
        CAST(d AS INTEGER) AS N
      FROM range(9) t(i), range(700) s(d)`);
  });
  afterEach(async () => {
    await w.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function extract(warehouse: Warehouse, sql: string, overrides: Partial<ExtractOptions> = {}) {
    const out = join(dir, Math.random().toString(36).slice(2));
    const options: ExtractOptions = { kind: 'TARGET', sql, binds: [], uri: 's3://b/x.csv', frequency: parseFrequency('D'), timestampFormat: 'yyyy-MM-dd', transform: 'log1p', ...overrides };
    try {
      const result = await extractToCsv(warehouse, new FolderObjectStore(out), options);
      return { result, csv: await readFile(join(out, 'b', 'x.csv'), 'utf8') };
    } catch (error) {
      return { error: error as Error };
    }
  }

  it('returns the same values as query() for each row of a batch', async () => {
    // Act
    const sql = 'SELECT * FROM t ORDER BY ITEM_ID, TIMESTAMP';
    const rows: Row[] = [];
    for await (const r of w.query(sql)) rows.push(r);
    const fromColumns: Row[] = [];
    for await (const batch of w.queryColumns!(sql)) for (let i = 0; i < batch.length; i++) fromColumns.push(batchRow(batch, i));

    // Assess
    expect(fromColumns).toHaveLength(6300);
    expect(fromColumns).toEqual(rows);
  });

  it('writes the same bytes and statistics as the row path (target and related)', async () => {
    // Act
    const target = 'SELECT TIMESTAMP, ITEM_ID, TARGET_VALUE FROM t ORDER BY ITEM_ID, TIMESTAMP';
    const related = 'SELECT TIMESTAMP, ITEM_ID, PRICE, PROMO, N FROM t ORDER BY ITEM_ID, TIMESTAMP';
    const columns = [await extract(w, target), await extract(w, related, { kind: 'RELATED', transform: 'none' })];
    const rows = [await extract(rowsOnly(w), target), await extract(rowsOnly(w), related, { kind: 'RELATED', transform: 'none' })];

    // Assess
    expect(columns[0]!.csv!.split('\n')).toHaveLength(6301);
    expect(columns[0]!.result!.stats.filled).toBeGreaterThan(0);
    expect(columns[0]!.result!.stats.leadingMissing).toBeGreaterThan(0);
    expect(columns[0]!.csv).toContain('"a long item id, number 0"');
    expect(columns).toEqual(rows);
  });

  it('quarantines the same items on both paths and writes the same bytes (one item with a single row, one all negative, one held back for 400 rows)', async () => {
    // Prepare: it2 loses all but its first row; it6 becomes all negative; it3 starts with 400 NULLs (held back, then kept)
    const sql = `SELECT TIMESTAMP, ITEM_ID, TARGET_VALUE FROM (
        SELECT * REPLACE (CASE WHEN ITEM_ID = 'it6' THEN -1 WHEN ITEM_ID = 'it3' AND N < 400 THEN NULL ELSE TARGET_VALUE END AS TARGET_VALUE)
        FROM t WHERE ITEM_ID <> 'it2' OR N = 0)
      ORDER BY ITEM_ID, TIMESTAMP`;

    // Act
    const columns = await extract(w, sql);
    const rows = await extract(rowsOnly(w), sql);

    // Assess
    expect(columns.result!.stats.quarantined.map((q) => q.item)).toEqual(['it2', 'it6']);
    expect(columns.result!.stats.items).toBe(7);
    expect(columns.csv).not.toMatch(/,it2,|,it6,/);
    expect(columns.csv!.match(/,it3,/g)).toHaveLength(700);
    expect(columns).toEqual(rows);
  });

  it.each([
    ['a duplicate (item, timestamp)', 'SELECT * FROM t UNION ALL SELECT * FROM t WHERE ITEM_ID = \'it2\' AND N = 500'],
    ['an item seen again later', 'SELECT * FROM (SELECT * FROM t ORDER BY ITEM_ID, TIMESTAMP) UNION ALL SELECT * FROM t WHERE ITEM_ID = \'it2\' AND N = 699'],
    ['a timestamp off the grid', "SELECT * REPLACE (CASE WHEN N = 600 THEN TIMESTAMP + INTERVAL 30 MINUTE ELSE TIMESTAMP END AS TIMESTAMP) FROM t WHERE ITEM_ID = 'it2'"],
    ['a time of day under yyyy-MM-dd', "SELECT * REPLACE (CASE WHEN N = 600 THEN TIMESTAMP + INTERVAL 1 HOUR ELSE TIMESTAMP END AS TIMESTAMP) FROM t WHERE ITEM_ID = 'it3'"],
    ['a NULL timestamp', "SELECT * REPLACE (CASE WHEN N = 600 THEN NULL ELSE TIMESTAMP END AS TIMESTAMP) FROM t WHERE ITEM_ID = 'it3'"],
    ['an infinite value', "SELECT * REPLACE (CASE WHEN N = 650 THEN 'inf'::DOUBLE ELSE TARGET_VALUE END AS TARGET_VALUE) FROM t"],
  ])('rejects %s with the row path\'s error', async (name, query) => {
    // Act
    const sql = `SELECT TIMESTAMP, ITEM_ID, TARGET_VALUE FROM (${query}) ORDER BY ITEM_ID, TIMESTAMP`;
    const unordered = query.includes('UNION ALL SELECT * FROM (');
    const options = { timestampFormat: name.includes('grid') ? ('yyyy-MM-dd HH:mm:ss' as const) : ('yyyy-MM-dd' as const) };
    const columns = await extract(w, unordered ? `SELECT TIMESTAMP, ITEM_ID, TARGET_VALUE FROM (${query})` : sql, options);
    const rows = await extract(rowsOnly(w), unordered ? `SELECT TIMESTAMP, ITEM_ID, TARGET_VALUE FROM (${query})` : sql, options);

    // Assess
    expect(columns.error?.name).toBe('InvalidInput');
    expect(columns.error?.message).toBe(rows.error?.message);
  });
});
