import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../shared/errors';
import { dependenciesFromEnv, once, retryWithBackoff } from '../../shared/runtime';

const noWait = { attempts: 3, firstWaitMs: 10, sleep: async () => undefined };

/** An opener that fails its first `failures` calls. */
function flaky(failures: number) {
  const calls = { count: 0 };
  const open = async () => {
    calls.count++;
    if (calls.count <= failures) throw new Error(`outage ${calls.count}`);
    return { connection: calls.count };
  };
  return { open, calls };
}

describe('connections are opened with retries and never memoise a failure', () => {
  it('retries a failed open with doubling waits and rethrows the last error', async () => {
    const waits: number[] = [];
    const { open, calls } = flaky(10);
    await expect(retryWithBackoff(open, { attempts: 4, firstWaitMs: 100, sleep: async (ms) => void waits.push(ms) })).rejects.toThrow('outage 4');
    expect(calls.count).toBe(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('does not retry a configuration error', async () => {
    let calls = 0;
    const open = async () => {
      calls++;
      throw new ConfigurationError('no such secret key');
    };
    await expect(retryWithBackoff(open, noWait)).rejects.toThrow('no such secret key');
    expect(calls).toBe(1);
  });

  it('once(): a transient failure inside one call is retried', async () => {
    const { open, calls } = flaky(2);
    await expect(once(open, noWait)()).resolves.toEqual({ connection: 3 });
    expect(calls.count).toBe(3);
  });

  it('once(): a call whose retries all failed is forgotten, the next call opens again and is then shared', async () => {
    const { open, calls } = flaky(3);
    const warehouse = once(open, noWait);
    await expect(warehouse()).rejects.toThrow('outage 3');
    const [a, b] = await Promise.all([warehouse(), warehouse()]);
    expect(a).toEqual({ connection: 4 });
    expect(b).toBe(a);
    expect(await warehouse()).toBe(a);
    expect(calls.count).toBe(4);
  });

  it('once(): a value that is no longer usable (a lost connection) is replaced on the next call', async () => {
    const connections: { up: boolean }[] = [];
    const open = async () => {
      const connection = { up: true };
      connections.push(connection);
      return connection;
    };
    const warehouse = once(open, noWait, (c) => c.up);
    const first = await warehouse();
    expect(await warehouse()).toBe(first);
    first.up = false;
    const second = await warehouse();
    expect(second).not.toBe(first);
    expect(await warehouse()).toBe(second);
    expect(connections).toHaveLength(2);
  });

  it('the wired warehouse opens again after a failed open (DuckDB whose folder could not be made)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fp-open-'));
    try {
      const blocker = join(root, 'db');
      await writeFile(blocker, 'a file where the folder should be');
      const deps = await dependenciesFromEnv({ BUCKET: 'b', STORAGE: 'folder', LOCAL_ROOT: root, FORECAST_BACKEND: 'builtin', WAREHOUSE: 'duckdb', DUCKDB_PATH: join(blocker, 'w.duckdb') });
      await expect(deps.warehouse()).rejects.toThrow();
      await rm(blocker);
      const warehouse = await deps.warehouse();
      expect(await warehouse.execute('SELECT 1')).toBeGreaterThanOrEqual(0);
      await warehouse.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 20_000);
});
