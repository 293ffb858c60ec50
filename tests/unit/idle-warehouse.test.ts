import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdleClosingWarehouse } from '../../local/idle-warehouse';
import { openDuckDbWarehouse } from '../../shared/adapters/duckdb-warehouse';
import type { Warehouse } from '../../shared/ports';

async function rows(w: Warehouse, sql: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const r of w.query(sql)) out.push(r);
  return out;
}

describe('IdleClosingWarehouse', () => {
  function fixture() {
    const events: string[] = [];
    const opens: Warehouse[] = [];
    const w = new IdleClosingWarehouse(
      async () => {
        const opened = await openDuckDbWarehouse({ path: ':memory:' });
        opens.push(opened);
        return opened;
      },
      { idleMs: 50, onChange: (e) => events.push(e) },
    );
    return { w, events, opens };
  }

  it('opens on first use, closes once idle, opens again on the next call', async () => {
    // Prepare
    const { w, events, opens } = fixture();

    // Act
    const first = await rows(w, 'SELECT 1 AS N');
    await new Promise((r) => setTimeout(r, 150));
    const afterIdle = [...events];
    const second = await rows(w, 'SELECT 2 AS N');
    await w.close();

    // Assess
    expect(first).toEqual([{ N: 1 }]);
    expect(second).toEqual([{ N: 2 }]);
    expect(afterIdle).toEqual(['opened', 'closed']);
    expect(events).toEqual(['opened', 'closed', 'opened', 'closed']);
    expect(opens).toHaveLength(2);
  });

  it('stays open while a stream is being read or a transaction runs, however long', async () => {
    // Prepare
    const { w, events } = fixture();
    await w.execute('CREATE TABLE t (n INTEGER)');
    await w.execute('INSERT INTO t SELECT * FROM range(5000)');

    // Act: pause mid-stream and mid-transaction for longer than idleMs.
    let seen = 0;
    for await (const _ of w.query('SELECT n FROM t')) {
      if (seen++ === 10) await new Promise((r) => setTimeout(r, 150));
    }
    const duringStream = [...events];
    const inserted = await w.transaction(async (tx) => {
      await new Promise((r) => setTimeout(r, 150));
      return tx.execute('INSERT INTO t VALUES (1)');
    });
    const duringTransaction = [...events];
    await w.close();

    // Assess
    expect(seen).toBe(5000);
    expect(duringStream).toEqual(['opened']);
    expect(inserted).toBe(1);
    expect(duringTransaction).toEqual(['opened']);
  });

  it('keeps the data of a file database across an idle close', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'idle-wh-'));
    const events: string[] = [];
    const w = new IdleClosingWarehouse(() => openDuckDbWarehouse({ path: join(dir, 'w.duckdb') }), { idleMs: 20, onChange: (e) => events.push(e) });
    try {
      // Act
      await w.execute('CREATE TABLE t AS SELECT 42 AS n');
      await new Promise((r) => setTimeout(r, 100));
      const back = await rows(w, 'SELECT n AS N FROM t');

      // Assess
      expect(events.slice(0, 3)).toEqual(['opened', 'closed', 'opened']);
      expect(back).toEqual([{ N: 42 }]);
    } finally {
      await w.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
