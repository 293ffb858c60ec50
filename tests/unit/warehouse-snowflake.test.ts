/**
 * The Snowflake adapter through the real snowflake-sdk, on the wire, against the Snowflake
 * protocol stand-in on 127.0.0.1 (tests/integration/snowflake-server.ts, DuckDB behind it).
 * The account's defaults are the awkward ones: TIMESTAMP mapped to TIMESTAMP_LTZ, time zone
 * America/Los_Angeles — what the adapter's session pins must neutralise.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { setSecretsClient } from '../../shared/secrets';
import { openSnowflakeWarehouse } from '../../shared/adapters/snowflake-warehouse';
import type { Row, Warehouse } from '../../shared/ports/warehouse';
import { startSnowflakeServer, type SnowflakeServer } from '../integration/snowflake-server';

const secrets = mockClient(SecretsManagerClient);
const secretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:snowflake';
let server: SnowflakeServer;
const opened: Warehouse[] = [];

async function open(): Promise<Warehouse> {
  const warehouse = await openSnowflakeWarehouse({ secretArn });
  opened.push(warehouse);
  return warehouse;
}

async function rows(warehouse: Warehouse, sql: string, binds: Parameters<Warehouse['query']>[1] = []): Promise<Row[]> {
  const found: Row[] = [];
  for await (const row of warehouse.query(sql, binds)) found.push(row);
  return found;
}

describe('Function: openSnowflakeWarehouse (real snowflake-sdk, Snowflake protocol on 127.0.0.1)', () => {
  beforeAll(async () => {
    server = await startSnowflakeServer({ accountParameters: { TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_LTZ', TIMEZONE: 'America/Los_Angeles' } });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    secrets.reset();
    setSecretsClient(new SecretsManagerClient({}));
    secrets.on(GetSecretValueCommand, { SecretId: secretArn }).resolves({
      SecretString: JSON.stringify({ account: server.account, username: 'svc', password: 'secret', warehouse: 'WH', database: 'DB', schema: 'FC', accessUrl: server.url }),
    });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((w) => w.close().catch(() => undefined)));
  });

  it('loads the SDK with platform detection disabled, logs in with the secret, pins the session and asks for keep-alive', async () => {
    // Prepare
    delete process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION;
    const logins = server.calls.get('/session/v1/login-request') ?? 0;

    // Act
    await open();
    await open();

    // Assess
    expect(process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION).toBe('true');
    expect(server.calls.get('/session/v1/login-request')).toBe(logins + 2);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    const [session] = server.sessionParameters();
    expect(session).toMatchObject({ TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_NTZ', TIMEZONE: 'UTC', CLIENT_SESSION_KEEP_ALIVE: true });
  });

  it('streams query rows with binds, upper-cases column names and converts numbers and dates', async () => {
    // Prepare
    const warehouse = await open();
    await warehouse.execute('CREATE TABLE T_STREAM (TS TIMESTAMP NOT NULL, item_id VARCHAR, TARGET_VALUE DOUBLE)');
    await warehouse.insertRows('T_STREAM', ['TS', 'ITEM_ID', 'TARGET_VALUE'], [[new Date('2024-01-01T00:00:00Z'), 'a', 1.5], [new Date('2024-01-02T00:00:00Z'), "x';--", null]]);

    // Act
    const found = await rows(warehouse, 'SELECT ts, item_id, TARGET_VALUE FROM T_STREAM WHERE ITEM_ID <> ? AND TS < ? ORDER BY TS', ["n'; DROP", new Date('2024-02-01T00:00:00Z')]);

    // Assess
    expect(found).toEqual([
      { TS: new Date('2024-01-01T00:00:00Z'), ITEM_ID: 'a', TARGET_VALUE: 1.5 },
      { TS: new Date('2024-01-02T00:00:00Z'), ITEM_ID: "x';--", TARGET_VALUE: null },
    ]);
    expect(found[0]!.TS!.constructor).toBe(Date);
  });

  it('keeps timestamps unshifted on an account that maps TIMESTAMP to TIMESTAMP_LTZ (the unpinned driver shifts them)', async () => {
    // Prepare: the same DDL and bind through the adapter and through a bare driver session.
    const warehouse = await open();
    await warehouse.execute('CREATE TABLE T_TIME (TIMESTAMP TIMESTAMP NOT NULL)');
    const sdk = (await import('snowflake-sdk')).default;
    const bare = sdk.createConnection({ accessUrl: server.url, account: server.account, username: 'svc', password: 'secret' });
    await new Promise<void>((resolve, reject) => bare.connect((err) => (err ? reject(err) : resolve())));
    const bareRun = (sqlText: string, binds: string[] = []) =>
      new Promise<unknown[]>((resolve, reject) => bare.execute({ sqlText, binds, complete: (err, _stmt, found) => (err ? reject(err) : resolve(found ?? [])) }));
    await bareRun('CREATE TABLE T_TIME_BARE (TIMESTAMP TIMESTAMP NOT NULL)');

    // Act
    await warehouse.insertRows('T_TIME', ['TIMESTAMP'], [[new Date('2025-02-01T00:00:00Z')]]);
    await bareRun('INSERT INTO T_TIME_BARE (TIMESTAMP) VALUES (?)', ['2025-02-01 00:00:00.000']);
    const pinned = await rows(warehouse, 'SELECT TIMESTAMP FROM T_TIME WHERE TIMESTAMP < CAST(? AS TIMESTAMP)', ['2025-02-02 00:00:00']);
    const shifted = (await bareRun('SELECT TIMESTAMP FROM T_TIME_BARE')) as { TIMESTAMP: Date }[];
    await new Promise<void>((resolve) => bare.destroy(() => resolve()));

    // Assess
    expect(pinned).toEqual([{ TIMESTAMP: new Date('2025-02-01T00:00:00Z') }]);
    expect(shifted[0]!.TIMESTAMP.toISOString()).toBe('2025-02-01T08:00:00.000Z');
  });

  it('returns VARIANT, OBJECT and ARRAY values as JSON text', async () => {
    // Prepare
    const warehouse = await open();
    await warehouse.execute('CREATE TABLE T_JSON (ID INTEGER, V VARIANT, O OBJECT, A ARRAY)');
    await warehouse.execute(`INSERT INTO T_JSON SELECT 1, PARSE_JSON('{"k": 1}'), PARSE_JSON('{"items": ["a", "b"], "n": null}'), PARSE_JSON('["a", "b"]')`);

    // Act
    const [row] = await rows(warehouse, 'SELECT ID, V, O, A FROM T_JSON');

    // Assess
    expect(row).toEqual({ ID: 1, V: '{"k":1}', O: '{"items":["a","b"],"n":null}', A: '["a","b"]' });
  });

  it('groups streamed rows into batches', async () => {
    // Prepare
    const warehouse = await open();
    await warehouse.execute('CREATE TABLE T_BATCH (N INTEGER)');
    await warehouse.insertRows('T_BATCH', ['N'], Array.from({ length: 2500 }, (_, i) => [i]));

    // Act
    const sizes: number[] = [];
    for await (const batch of warehouse.queryBatches!('SELECT N FROM T_BATCH ORDER BY N')) sizes.push(batch.length);

    // Assess
    expect(sizes).toEqual([1024, 1024, 452]);
  });

  it('inserts rows in bulk with array binds (5,000 rows a statement), inside BEGIN/COMMIT', async () => {
    // Prepare
    const warehouse = await open();
    await warehouse.execute('CREATE TABLE T_BULK (ITEM_ID VARCHAR, VALUE INTEGER)');
    const before = server.statements.length;

    // Act
    const inserted = await warehouse.transaction((tx) => tx.insertRows('T_BULK', ['ITEM_ID', 'VALUE'], Array.from({ length: 12_001 }, (_, i) => [`item${i}`, i])));

    // Assess
    expect(inserted).toBe(12_001);
    expect(server.statements.slice(before)).toEqual([
      'BEGIN TRANSACTION',
      'INSERT INTO T_BULK (ITEM_ID, VALUE) VALUES (?, ?)',
      'INSERT INTO T_BULK (ITEM_ID, VALUE) VALUES (?, ?)',
      'INSERT INTO T_BULK (ITEM_ID, VALUE) VALUES (?, ?)',
      'COMMIT',
    ]);
    expect(await rows(warehouse, 'SELECT COUNT(*) AS N, MAX(VALUE) AS TOP FROM T_BULK')).toEqual([{ N: 12_001, TOP: 12_000 }]);
  });

  it('rolls back when the work fails and reports the error', async () => {
    // Prepare
    const warehouse = await open();
    await warehouse.execute('CREATE TABLE T_TX (RUN_ID VARCHAR)');
    await warehouse.execute("INSERT INTO T_TX VALUES ('kept')");
    const before = server.statements.length;

    // Act
    const act = warehouse.transaction(async (tx) => {
      await tx.execute("INSERT INTO T_TX VALUES ('lost')");
      await tx.execute('DELETE FROM NO_SUCH_TABLE WHERE RUN_ID = ?', ['r']);
    });

    // Assess
    await expect(act).rejects.toThrow(/SQL compilation error/);
    expect(server.statements.slice(before)).toEqual(['BEGIN TRANSACTION', "INSERT INTO T_TX VALUES ('lost')", 'DELETE FROM NO_SUCH_TABLE WHERE RUN_ID = ?', 'ROLLBACK']);
    expect(await rows(warehouse, 'SELECT RUN_ID FROM T_TX')).toEqual([{ RUN_ID: 'kept' }]);
  });

  it('goes on when the session token expires (the driver renews it with the master token)', async () => {
    // Prepare
    const warehouse = await open();
    const renewals = server.calls.get('/session/token-request') ?? 0;
    server.expireSessionTokens();

    // Act
    const found = await rows(warehouse, 'SELECT 42 AS ANSWER');

    // Assess
    expect(found).toEqual([{ ANSWER: 42 }]);
    expect(server.calls.get('/session/token-request')).toBe(renewals + 1);
  });

  it('logs in again, pinned, when the session expired in a warm container', async () => {
    // Prepare
    const warehouse = await open();
    const logins = server.calls.get('/session/v1/login-request') ?? 0;
    server.expireSessions();

    // Act
    const first = await rows(warehouse, 'SELECT 1 AS ONE');
    const second = await rows(warehouse, 'SELECT 2 AS TWO');

    // Assess
    expect([first, second]).toEqual([[{ ONE: 1 }], [{ TWO: 2 }]]);
    expect(server.calls.get('/session/v1/login-request')).toBe(logins + 1);
    expect(server.statements.slice(-3)).toEqual([expect.stringMatching(/^ALTER SESSION SET TIMESTAMP_TYPE_MAPPING/), 'SELECT 1 AS ONE', 'SELECT 2 AS TWO']);
  });

  it('does not log in again inside a transaction: the work died with the session', async () => {
    // Prepare
    const warehouse = await open();
    await warehouse.execute('CREATE TABLE T_GONE (N INTEGER)');

    // Act
    const act = warehouse.transaction(async (tx) => {
      await tx.execute('INSERT INTO T_GONE VALUES (1)');
      server.expireSessions();
      await tx.execute('INSERT INTO T_GONE VALUES (2)');
    });

    // Assess
    await expect(act).rejects.toThrow(/terminated connection/);
    expect(await rows(warehouse, 'SELECT COUNT(*) AS N FROM T_GONE')).toEqual([{ N: 0 }]);
  });

  it('refuses a table name that is not a plain identifier', async () => {
    const warehouse = await open();
    await expect(warehouse.insertRows('T; DROP TABLE X', ['A'], [[1]])).rejects.toThrow(/not a plain SQL identifier/);
  });

  it('names what the secret lacks', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand, { SecretId: secretArn }).resolves({ SecretString: JSON.stringify({ account: 'acme' }) });
    setSecretsClient(new SecretsManagerClient({}));

    // Act + Assess
    await expect(open()).rejects.toThrow(/lacks username, password or privateKey/);
  });
});
