import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { setSecretsClient } from '../../shared/secrets';

/** A fake of the snowflake-sdk surface the adapter uses, recording every statement. */
const fake = vi.hoisted(() => {
  const state = {
    platformDetectionAtLoad: undefined as string | undefined,
    connectOptions: undefined as Record<string, unknown> | undefined,
    executed: [] as { sqlText: string; binds: unknown; streamResult: boolean | undefined }[],
    rows: [] as Record<string, unknown>[],
    failOn: undefined as RegExp | undefined,
    destroyed: false,
    /** Connects that fail before one succeeds, and whether the connection is still up. */
    connectFailures: 0,
    up: true,
    connections: 0,
  };
  return state;
});

vi.mock('snowflake-sdk', () => {
  fake.platformDetectionAtLoad = process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION;
  const connection = {
    connect(callback: (err: Error | undefined, conn: unknown) => void) {
      const failing = fake.connectFailures > 0;
      if (failing) fake.connectFailures--;
      setImmediate(() => callback(failing ? new Error('Network error: could not reach acme.snowflakecomputing.com') : undefined, connection));
      return connection;
    },
    isUp: () => fake.up,
    execute(options: { sqlText: string; binds?: unknown; streamResult?: boolean; complete?: (err: Error | undefined, stmt: unknown) => void }) {
      fake.executed.push({ sqlText: options.sqlText, binds: options.binds, streamResult: options.streamResult });
      const rows = fake.rows;
      const statement = {
        streamRows: () => Readable.from(rows),
        getNumUpdatedRows: () => (Array.isArray(options.binds) && Array.isArray(options.binds[0]) ? options.binds.length : 1),
      };
      const err = fake.failOn?.test(options.sqlText) ? new Error('SQL compilation error') : undefined;
      setImmediate(() => options.complete?.(err, statement));
      return statement;
    },
    destroy(callback: (err: Error | undefined, conn: unknown) => void) {
      fake.destroyed = true;
      callback(undefined, connection);
    },
  };
  const sdk = {
    createConnection: (options: Record<string, unknown>) => {
      fake.connectOptions = options;
      fake.connections++;
      return connection;
    },
    configure: () => undefined,
  };
  return { default: sdk };
});

const secrets = mockClient(SecretsManagerClient);
const secretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:snowflake';

async function open() {
  const { openSnowflakeWarehouse } = await import('../../shared/adapters/snowflake-warehouse');
  return openSnowflakeWarehouse({ secretArn });
}

describe('Function: openSnowflakeWarehouse (snowflake-sdk surface faked, no network)', () => {
  beforeEach(() => {
    secrets.reset();
    setSecretsClient(new SecretsManagerClient({}));
    secrets.on(GetSecretValueCommand, { SecretId: secretArn }).resolves({
      SecretString: JSON.stringify({ account: 'acme', username: 'svc', password: 'p', warehouse: 'WH', database: 'DB', schema: 'FC' }),
    });
    fake.executed = [];
    fake.rows = [];
    fake.failOn = undefined;
  });

  it('wired: a failed connect is retried, and a connection lost later is replaced by a new one (nothing memoises a failure)', async () => {
    // Prepare: the first connect fails (a network hiccup)
    const { dependenciesFromEnv } = await import('../../shared/runtime');
    fake.connectFailures = 1;
    fake.up = true;
    const before = fake.connections;
    const deps = await dependenciesFromEnv({ BUCKET: 'b', STORAGE: 'folder', LOCAL_ROOT: '/tmp/unused', FORECAST_BACKEND: 'builtin', WAREHOUSE: 'snowflake', SNOWFLAKE_SECRET_ARN: secretArn });

    // Act
    const first = await deps.warehouse();
    const same = await deps.warehouse();
    fake.up = false;
    const replaced = await deps.warehouse();

    // Assess
    expect(same).toBe(first);
    expect(replaced).not.toBe(first);
    expect(fake.connections - before).toBe(3);
    fake.up = true;
  }, 10_000);

  it('loads the SDK lazily with platform detection disabled and connects with the secret', async () => {
    // Prepare
    delete process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION;

    // Act
    const warehouse = await open();
    await open();

    // Assess
    expect(fake.platformDetectionAtLoad).toBe('true');
    expect(fake.connectOptions).toMatchObject({ account: 'acme', username: 'svc', password: 'p', warehouse: 'WH', database: 'DB', schema: 'FC' });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await warehouse.close();
    expect(fake.destroyed).toBe(true);
  });

  it('streams query rows with binds, upper-cases column names and converts dates', async () => {
    // Prepare
    fake.rows = [{ ts: new Date('2024-01-01T00:00:00Z'), item_id: 'a', TARGET_VALUE: 1.5 }, { ts: new Date('2024-01-02T00:00:00Z'), item_id: "x';--", TARGET_VALUE: null }];
    const warehouse = await open();

    // Act
    const rows = [];
    for await (const row of warehouse.query('SELECT * FROM T WHERE DATASET_NAME = ? AND TS < ?', ["n'; DROP", new Date('2024-02-01T00:00:00Z')])) rows.push(row);

    // Assess
    expect(fake.executed[0]).toEqual({ sqlText: 'SELECT * FROM T WHERE DATASET_NAME = ? AND TS < ?', binds: ["n'; DROP", '2024-02-01 00:00:00.000'], streamResult: true });
    expect(rows).toEqual([
      { TS: new Date('2024-01-01T00:00:00Z'), ITEM_ID: 'a', TARGET_VALUE: 1.5 },
      { TS: new Date('2024-01-02T00:00:00Z'), ITEM_ID: "x';--", TARGET_VALUE: null },
    ]);
  });

  it('groups streamed rows into batches', async () => {
    // Prepare
    fake.rows = Array.from({ length: 2500 }, (_, i) => ({ N: i }));
    const warehouse = await open();

    // Act
    const sizes: number[] = [];
    for await (const batch of warehouse.queryBatches!('SELECT N FROM T')) sizes.push(batch.length);

    // Assess
    expect(sizes).toEqual([1024, 1024, 452]);
  });

  it('inserts rows in bulk with array binds, inside BEGIN/COMMIT', async () => {
    // Prepare
    const warehouse = await open();
    const rows = Array.from({ length: 12_001 }, (_, i) => [`item${i}`, i] as const);

    // Act
    const inserted = await warehouse.transaction((tx) => tx.insertRows('FORECAST_RESULTS', ['ITEM_ID', 'VALUE'], rows));

    // Assess
    expect(inserted).toBe(12_001);
    expect(fake.executed.map((e) => e.sqlText)).toEqual([
      'BEGIN TRANSACTION',
      'INSERT INTO FORECAST_RESULTS (ITEM_ID, VALUE) VALUES (?, ?)',
      'INSERT INTO FORECAST_RESULTS (ITEM_ID, VALUE) VALUES (?, ?)',
      'INSERT INTO FORECAST_RESULTS (ITEM_ID, VALUE) VALUES (?, ?)',
      'COMMIT',
    ]);
    expect((fake.executed[1]!.binds as unknown[][]).length).toBe(5000);
    expect((fake.executed[3]!.binds as unknown[][])[0]).toEqual(['item10000', 10000]);
  });

  it('rolls back when the work fails and reports the error', async () => {
    // Prepare
    const warehouse = await open();
    fake.failOn = /^DELETE/;

    // Act
    const act = warehouse.transaction((tx) => tx.execute('DELETE FROM FORECAST_RESULTS WHERE RUN_ID = ?', ['r']));

    // Assess
    await expect(act).rejects.toThrow('SQL compilation error');
    expect(fake.executed.map((e) => e.sqlText)).toEqual(['BEGIN TRANSACTION', 'DELETE FROM FORECAST_RESULTS WHERE RUN_ID = ?', 'ROLLBACK']);
  });

  it('refuses a table name that is not a plain identifier', async () => {
    const warehouse = await open();
    await expect(warehouse.insertRows('T; DROP TABLE X', ['A'], [[1]])).rejects.toThrow(/not a plain SQL identifier/);
  });

  it('names what the secret lacks', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand, { SecretId: secretArn }).resolves({ SecretString: JSON.stringify({ account: 'acme' }) });

    // Act + Assess
    await expect(open()).rejects.toThrow(/lacks username, password or privateKey/);
  });
});
