import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import type { Row, Warehouse } from '../../shared/ports/warehouse';
import { ensureTables, DEFAULT_TABLES, INPUT_TABLES_DDL, OUTPUT_TABLES_DDL, tableNamesFromEnv } from '../../shared/warehouse/layout';
import { bindQuery, defaultQueries, queriesFromEnv } from '../../shared/warehouse/queries';
import { bindNamed } from '../../shared/warehouse/sql';

async function all(w: Warehouse, sql: string, binds: unknown[] = []): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const r of w.query(sql, binds as never)) rows.push(r);
  return rows;
}

describe('Function: openDuckDbWarehouse (file database)', () => {
  let dir: string;
  let w: Warehouse;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'duckdb-'));
    w = await openDuckDbWarehouse({ path: join(dir, 'nested', 'w.duckdb') });
  });
  afterEach(async () => {
    await w.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns upper-case column names, numbers for BIGINT and Dates for timestamps; binds Dates', async () => {
    // Act
    const rows = await all(w, 'SELECT 42::BIGINT AS n, CAST(? AS TIMESTAMP) AS "ts", ? AS s', [new Date(Date.UTC(2024, 1, 29, 13, 5, 7)), "it's; --"]);

    // Assess
    expect(rows).toEqual([{ N: 42, TS: new Date(Date.UTC(2024, 1, 29, 13, 5, 7)), S: "it's; --" }]);
  });

  it('converts every common column type, NULLs, and falls back for others (DECIMAL)', async () => {
    // Act
    const fast = await all(w, "SELECT DATE '1969-12-31' AS d, TIMESTAMP '1969-12-31 23:59:59.5' AS t, NULL::TIMESTAMP AS nt, NULL::VARCHAR AS nv, 1.5::FLOAT AS f, 7::HUGEINT AS h, true AS b");
    const slow = await all(w, 'SELECT 12.25::DECIMAL(10, 2) AS dec, 3::BIGINT AS n');

    // Assess
    expect(fast).toEqual([{ D: new Date(Date.UTC(1969, 11, 31)), T: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 500)), NT: null, NV: null, F: 1.5, H: 7, B: true }]);
    expect(slow).toEqual([{ DEC: 12.25, N: 3 }]);
  });

  it('inserts many rows in batches and counts them; a failed transaction leaves nothing', async () => {
    // Prepare
    await ensureTables(w);
    const rows = Array.from({ length: 2500 }, (_, i) => ['d', 'r', 'ETS', 'p', `item${i}`, null, new Date(Date.UTC(2024, 0, 1)), 'p50', i] as const);

    // Act
    const inserted = await w.transaction((tx) => tx.insertRows(DEFAULT_TABLES.forecasts, ['DATASET_NAME', 'RUN_ID', 'MODEL', 'PREDICTOR_NAME', 'ITEM_ID', 'DIMENSIONS', 'FORECAST_DATE', 'FORECAST_TYPE', 'VALUE'], rows));
    const failed = w.transaction(async (tx) => {
      await tx.execute(`DELETE FROM ${DEFAULT_TABLES.forecasts}`);
      await tx.insertRows(DEFAULT_TABLES.forecasts, ['DATASET_NAME', 'RUN_ID', 'MODEL', 'PREDICTOR_NAME', 'ITEM_ID', 'FORECAST_DATE', 'FORECAST_TYPE'], [['x', 'x', 'x', 'x', 'x', new Date(0), 'x']]);
      throw new Error('midway');
    });

    // Assess
    expect(inserted).toBe(2500);
    await expect(failed).rejects.toThrow('midway');
    expect(await all(w, `SELECT COUNT(*) AS C, SUM(VALUE) AS S, MIN(FORECAST_DATE) AS D FROM ${DEFAULT_TABLES.forecasts}`)).toEqual([{ C: 2500, S: (2499 * 2500) / 2, D: new Date(Date.UTC(2024, 0, 1)) }]);
    await expect(w.insertRows(DEFAULT_TABLES.forecasts, ['NOPE'], [[1]])).rejects.toThrow(/no column NOPE/);
  });

  it('creates the default layout idempotently and runs the default queries with binds only', async () => {
    // Prepare
    await ensureTables(w);
    await ensureTables(w);
    await w.insertRows(DEFAULT_TABLES.inputTarget, ['DATASET_NAME', 'ITEM_ID', 'TIMESTAMP', 'TARGET_VALUE'], [
      ['shop', 'a', new Date(Date.UTC(2024, 1, 28)), 1],
      ['shop', 'a', new Date(Date.UTC(2024, 2, 1)), 2],
      ["shop' OR '1'='1", 'z', new Date(Date.UTC(2024, 1, 28)), 9],
    ]);
    const p = { dataName: 'shop', dateCreate: '20240301', runId: 'shop_2024_03_01', frequency: 'D' };

    // Act
    const target = bindQuery(defaultQueries().target, p);
    const validation = bindQuery(defaultQueries().validation!, p);
    const hostile = bindQuery(defaultQueries().target, { ...p, dataName: "x' OR '1'='1" });

    // Assess
    expect(target.binds).toEqual(['shop', '2024-03-01 00:00:00']);
    expect((await all(w, target.sql, target.binds)).map((r) => r.TARGET_VALUE)).toEqual([1]);
    expect((await all(w, validation.sql, validation.binds)).map((r) => r.TARGET_VALUE)).toEqual([2]);
    expect(await all(w, hostile.sql, hostile.binds)).toEqual([]);
  });

  it('exports the DDL and takes table names and queries from configuration', () => {
    expect(INPUT_TABLES_DDL.join('\n')).toMatch(/CREATE TABLE IF NOT EXISTS FORECAST_INPUT_TARGET/);
    expect(OUTPUT_TABLES_DDL).toHaveLength(6);
    expect(OUTPUT_TABLES_DDL.join('\n')).toMatch(/CREATE TABLE IF NOT EXISTS FORECAST_RUN_ATTEMPTS/);
    expect(OUTPUT_TABLES_DDL.join('\n')).toMatch(/CREATE TABLE IF NOT EXISTS FORECAST_DATA_ISSUES/);
    expect(tableNamesFromEnv({ DATA_ISSUES_TABLE: 'ANALYTICS.FC.ISSUES' }).dataIssues).toBe('ANALYTICS.FC.ISSUES');
    expect(tableNamesFromEnv({ FORECAST_TABLE: 'ANALYTICS.FC.RESULTS' }).forecasts).toBe('ANALYTICS.FC.RESULTS');
    expect(() => tableNamesFromEnv({ FORECAST_TABLE: 'x; DROP TABLE y' })).toThrow(/FORECAST_TABLE "x; DROP TABLE y" is not a plain SQL identifier/);
    const q = queriesFromEnv({ TARGET_QUERY: 'SELECT * FROM t WHERE n = :data_name', RELATED_QUERY: '-' });
    expect(q.related).toBeUndefined();
    expect(q.target).toBe('SELECT * FROM t WHERE n = :data_name');
  });
});

describe('Function: openDuckDbWarehouse (memory limit)', () => {
  const setting = async (w: Warehouse) => (await all(w, "SELECT current_setting('memory_limit') AS M"))[0]!.M;

  it('applies memoryLimit, else DUCKDB_MEMORY_LIMIT, and sorts more than the limit by spilling to disk', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'duckdb-limit-'));
    const previous = process.env.DUCKDB_MEMORY_LIMIT;
    process.env.DUCKDB_MEMORY_LIMIT = '300MB';
    try {
      // Act
      const limited = await openDuckDbWarehouse({ path: join(dir, 'a.duckdb'), memoryLimit: '64MB' });
      const fromEnv = await openDuckDbWarehouse({ path: join(dir, 'b.duckdb') });
      const sorted = await all(limited, 'SELECT count(*) AS N, min(v) AS LO FROM (SELECT (i * 7919) % 3000000 AS v, repeat(\'x\', 40) AS pad FROM range(3000000) t(i) ORDER BY v, pad)');

      // Assess
      expect(await setting(limited)).toBe('61.0 MiB');
      expect(await setting(fromEnv)).toBe('286.1 MiB');
      expect(sorted).toEqual([{ N: 3_000_000, LO: 0 }]);
      await limited.close();
      await fromEnv.close();
    } finally {
      if (previous === undefined) delete process.env.DUCKDB_MEMORY_LIMIT;
      else process.env.DUCKDB_MEMORY_LIMIT = previous;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a limit that is not a size before opening anything', async () => {
    await expect(openDuckDbWarehouse({ path: ':memory:', memoryLimit: 'half' })).rejects.toThrow(/DuckDB memory limit "half" is not a size such as 512MB or 2GB/);
  });
});

describe('Function: bindNamed', () => {
  it('turns named parameters into ? binds, leaving literals, quoted names, comments and casts alone', () => {
    const { sql, binds } = bindNamed(`SELECT ':X', "a:X", x::INT -- :X\nFROM t WHERE a = :x AND b = :Y /* :Y */`, { X: 1, Y: 'two' });
    expect(sql).toBe(`SELECT ':X', "a:X", x::INT -- :X\nFROM t WHERE a = ? AND b = ? /* :Y */`);
    expect(binds).toEqual([1, 'two']);
  });
  it('rejects unknown parameters and positional ? in configured queries', () => {
    expect(() => bindNamed('SELECT :NOPE', { X: 1 })).toThrow(/:NOPE is unknown; available: :X/);
    expect(() => bindNamed('SELECT ?', {})).toThrow(/named parameters/);
  });
});
