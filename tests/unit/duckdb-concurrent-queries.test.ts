import { describe, expect, it } from 'vitest';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';

async function count(rows: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of rows) n++;
  return n;
}

describe('DuckDB warehouse: concurrent use (found by the fault matrix)', () => {
  it('streams concurrent queries completely (a second stream used to end the first one empty)', async () => {
    // Prepare
    const warehouse = await openDuckDbWarehouse({ path: ':memory:' });
    await warehouse.execute('CREATE TABLE t AS SELECT range AS x FROM range(5000)');
    // Act
    const counts = await Promise.all([1, 2, 3].map(() => count(warehouse.query('SELECT x FROM t WHERE x >= ?', [0]))));
    // Assess
    expect(counts).toEqual([5000, 5000, 5000]);
    await warehouse.close();
  });

  it('lets a query inside a transaction see the transaction’s own writes', async () => {
    const warehouse = await openDuckDbWarehouse({ path: ':memory:' });
    await warehouse.execute('CREATE TABLE t (x INTEGER)');
    const seen = await warehouse.transaction(async (tx) => {
      await tx.execute('INSERT INTO t VALUES (?)', [1]);
      return count(tx.query('SELECT x FROM t'));
    });
    expect(seen).toBe(1);
    await warehouse.close();
  });

  it('runs concurrent transactions one after the other: each replaces the rows of its key exactly once, none joins the other', async () => {
    // Prepare: two deliveries of one message replace the same run's rows at the same time, a third rolls back
    const warehouse = await openDuckDbWarehouse({ path: ':memory:' });
    await warehouse.execute('CREATE TABLE issues (RUN VARCHAR, ITEM VARCHAR)');
    const replace = (items: string[]) =>
      warehouse.transaction(async (tx) => {
        await tx.execute('DELETE FROM issues WHERE RUN = ?', ['r1']);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return tx.insertRows('issues', ['RUN', 'ITEM'], items.map((item) => ['r1', item]));
      });
    const failing = warehouse.transaction(async (tx) => {
      await tx.insertRows('issues', ['RUN', 'ITEM'], [['r1', 'rolled back']]);
      throw new Error('boom');
    });

    // Act
    const results = await Promise.allSettled([replace(['a', 'b']), failing, replace(['a', 'b']), warehouse.execute('INSERT INTO issues VALUES (?, ?)', ['r2', 'outside'])]);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const rows: string[] = [];
    for await (const row of warehouse.query('SELECT RUN, ITEM FROM issues ORDER BY RUN, ITEM')) rows.push(`${row.RUN}/${row.ITEM}`);
    expect(rows).toEqual(['r1/a', 'r1/b', 'r2/outside']);
    await warehouse.close();
  });

  it('lets a consumer write while it reads a query', async () => {
    const warehouse = await openDuckDbWarehouse({ path: ':memory:' });
    await warehouse.execute('CREATE TABLE src AS SELECT range AS x FROM range(3000)');
    await warehouse.execute('CREATE TABLE dst (x BIGINT)');
    for await (const row of warehouse.query('SELECT x FROM src')) await warehouse.execute('INSERT INTO dst VALUES (?)', [row.X as number]);
    expect(await count(warehouse.query('SELECT x FROM dst'))).toBe(3000);
    await warehouse.close();
  });
});
