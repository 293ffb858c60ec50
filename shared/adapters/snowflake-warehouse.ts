/**
 * The Snowflake warehouse. `snowflake-sdk` (122 MB, probes cloud metadata endpoints when it loads
 * unless platform detection is disabled) is imported lazily, only when this adapter opens, with
 * SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true set first. Credentials come from Secrets Manager
 * (a JSON secret, fetched once per container). Values travel only as binds; query results stream
 * (`streamResult: true` + `streamRows()`), so a large table never sits in memory.
 *
 * The session is pinned to what the binds mean: `TIMESTAMP_TYPE_MAPPING = TIMESTAMP_NTZ` and
 * `TIMEZONE = UTC` right after login, so an account whose default maps TIMESTAMP to
 * TIMESTAMP_LTZ (or has another time zone) does not shift the `YYYY-MM-DD HH:MM:SS.mmm` UTC
 * text of a bound `Date`. The connection sends heartbeats (`clientSessionKeepAlive`), and a warm
 * container whose session expired anyway logs in again before its next statement (never inside a
 * transaction, whose work died with the session).
 *
 * Secret: {"account", "username", "password" | "privateKey", "warehouse", "database", "schema", "role"?,
 * "authenticator"?, "accessUrl"? (a private-link or test endpoint instead of <account>.snowflakecomputing.com)}
 */
import type { Readable } from 'node:stream';
import { ConfigurationError } from '../errors';
import type { Row, SqlValue, Warehouse } from '../ports/warehouse';
import { getSecretJson } from '../secrets';
import { assertIdentifier, batchRows, formatSqlTimestamp, newTransactionState, runTransaction } from '../warehouse/sql';

/** Rows per bulk INSERT (array binds). */
const INSERT_BATCH_ROWS = 5000;
/**
 * snowflake-sdk switches to stage binding (a PUT to a temporary stage: more privileges, more round
 * trips) above CLIENT_STAGE_ARRAY_BINDING_THRESHOLD = 100,000 bound values; batches stay below it.
 */
const MAX_BINDS_PER_STATEMENT = 90_000;

type Bind = string | number | boolean | null;

/** The part of the snowflake-sdk API this adapter uses (tests provide a fake with the same surface). */
export interface SnowflakeStatementLike {
  streamRows(options?: { start?: number; end?: number }): Readable;
  getNumUpdatedRows(): number | undefined;
}
export interface SnowflakeConnectionLike {
  isUp?(): boolean;
  connect(callback: (err: Error | undefined, conn: SnowflakeConnectionLike) => void): unknown;
  execute(options: {
    sqlText: string;
    binds?: readonly Bind[] | readonly (readonly Bind[])[];
    streamResult?: boolean;
    complete?: (err: Error | undefined, stmt: SnowflakeStatementLike, rows?: unknown[]) => void;
  }): unknown;
  destroy(callback: (err: Error | undefined, conn: SnowflakeConnectionLike) => void): void;
  /** snowflake-sdk's own "still connected" (false after a network loss or a session expiry). */
  isUp?(): boolean;
}
export interface SnowflakeSdkLike {
  createConnection(options: Record<string, unknown>): SnowflakeConnectionLike;
  configure?(options: Record<string, unknown>): void;
}

async function loadSdk(): Promise<SnowflakeSdkLike> {
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
  const module = (await import('snowflake-sdk')) as unknown as { default?: SnowflakeSdkLike } & SnowflakeSdkLike;
  return module.default ?? module;
}

interface SnowflakeSecret {
  account?: string;
  username?: string;
  password?: string;
  privateKey?: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  role?: string;
  authenticator?: string;
  accessUrl?: string;
}

/** The session parameters the adapter's binds and results rely on (see the header). */
const SESSION_PINS = "ALTER SESSION SET TIMESTAMP_TYPE_MAPPING = 'TIMESTAMP_NTZ' TIMEZONE = 'UTC'";
/**
 * snowflake-sdk's codes for a session that is gone: the connection was terminated (407002,
 * e.g. after the master token expired), the session no longer exists (390111), or the master
 * token expired (390114).
 */
const SESSION_GONE = new Set(['407002', '390111', '390114']);
function isSessionGone(error: unknown): boolean {
  return SESSION_GONE.has(String((error as { code?: unknown } | undefined)?.code));
}

function connectionOptions(secret: SnowflakeSecret, secretArn: string): Record<string, unknown> {
  const missing = (['account', 'username'] as const).filter((k) => !secret[k]);
  if (!secret.password && !secret.privateKey) missing.push('password or privateKey' as never);
  if (missing.length > 0) throw new ConfigurationError(`Snowflake secret ${secretArn} lacks ${missing.join(', ')}`);
  const options: Record<string, unknown> = { account: secret.account, username: secret.username, application: 'forecast-pipeline', clientSessionKeepAlive: true };
  for (const key of ['password', 'privateKey', 'warehouse', 'database', 'schema', 'role', 'authenticator', 'accessUrl'] as const) {
    if (secret[key]) options[key] = secret[key];
  }
  if (secret.privateKey && !secret.authenticator) options.authenticator = 'SNOWFLAKE_JWT';
  return options;
}

function toBind(value: SqlValue): Bind {
  return value instanceof Date ? formatSqlTimestamp(value) : value;
}

function fromSnowflake(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return new Date(value.getTime());
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // VARIANT/OBJECT/ARRAY: the driver has parsed the JSON already; give it back as JSON text.
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function send(connection: SnowflakeConnectionLike, sqlText: string, binds: readonly Bind[] | readonly (readonly Bind[])[], streamResult: boolean): Promise<SnowflakeStatementLike> {
  return new Promise((resolve, reject) => {
    connection.execute({ sqlText, binds, streamResult, complete: (err, stmt) => (err ? reject(err) : resolve(stmt)) });
  });
}

/** A logged-in connection with the session pinned (SESSION_PINS). */
async function openSession(sdk: SnowflakeSdkLike, options: Record<string, unknown>): Promise<SnowflakeConnectionLike> {
  const connection = sdk.createConnection(options);
  await new Promise<void>((resolve, reject) => {
    connection.connect((err) => (err ? reject(err) : resolve()));
  });
  await send(connection, SESSION_PINS, [], false);
  return connection;
}

class SnowflakeWarehouse implements Warehouse {
  constructor(
    private connection: SnowflakeConnectionLike,
    private readonly reopen: () => Promise<SnowflakeConnectionLike>,
  ) {}

  /** Sends a statement; outside a transaction, a gone session is replaced by a new one first. */
  private async run(sqlText: string, binds: readonly Bind[] | readonly (readonly Bind[])[], streamResult: boolean): Promise<SnowflakeStatementLike> {
    if (!this.transactionState.active && this.connection.isUp?.() === false) this.connection = await this.reopen();
    try {
      return await send(this.connection, sqlText, binds, streamResult);
    } catch (error) {
      if (this.transactionState.active || !isSessionGone(error)) throw error;
      this.connection = await this.reopen();
      return send(this.connection, sqlText, binds, streamResult);
    }
  }

  async *query(sql: string, binds: readonly SqlValue[] = []): AsyncIterable<Row> {
    const statement = await this.run(sql, binds.map(toBind), true);
    const stream = statement.streamRows();
    try {
      for await (const raw of stream as AsyncIterable<Record<string, unknown>>) {
        const row: Row = {};
        for (const [name, value] of Object.entries(raw)) row[name.toUpperCase()] = fromSnowflake(value);
        yield row;
      }
    } finally {
      stream.destroy();
    }
  }

  /** The streamed rows grouped in batches of up to 1,024 (the stream itself stays row by row). */
  queryBatches(sql: string, binds: readonly SqlValue[] = []): AsyncIterable<readonly Row[]> {
    return batchRows(this.query(sql, binds));
  }

  async execute(sql: string, binds: readonly SqlValue[] = []): Promise<number> {
    const statement = await this.run(sql, binds.map(toBind), false);
    return statement.getNumUpdatedRows() ?? 0;
  }

  async insertRows(
    table: string,
    columns: readonly string[],
    rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  ): Promise<number> {
    assertIdentifier(table, 'table');
    columns.forEach((column) => assertIdentifier(column, 'column'));
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    const rowsPerStatement = Math.max(1, Math.min(INSERT_BATCH_ROWS, Math.floor(MAX_BINDS_PER_STATEMENT / Math.max(1, columns.length))));
    let batch: Bind[][] = [];
    let inserted = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await this.run(sql, batch, false);
      inserted += batch.length;
      batch = [];
    };
    for await (const row of rows) {
      if (row.length !== columns.length) throw new Error(`insertRows(${table}): a row has ${row.length} values for ${columns.length} columns`);
      batch.push(row.map(toBind));
      if (batch.length >= rowsPerStatement) await flush();
    }
    await flush();
    return inserted;
  }

  /** One transaction at a time on the connection; nested calls join it. */
  private readonly transactionState = newTransactionState();

  transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T> {
    return runTransaction(this, this.transactionState, work);
  }


  close(): Promise<void> {
    return new Promise((resolve, reject) => this.connection.destroy((err) => (err ? reject(err) : resolve())));
  }

  isOpen(): boolean {
    return this.connection.isUp?.() ?? true;
  }
}

/**
 * Connects to Snowflake with the credentials in the secret. `sdk` replaces the lazily imported
 * snowflake-sdk (tests); `secret` replaces the Secrets Manager lookup.
 */
export async function openSnowflakeWarehouse(options: {
  secretArn: string;
  sdk?: () => Promise<SnowflakeSdkLike>;
  secret?: () => Promise<Record<string, unknown>>;
}): Promise<Warehouse> {
  const secret = (await (options.secret ?? (() => getSecretJson(options.secretArn)))()) as SnowflakeSecret;
  const connectOptions = connectionOptions(secret, options.secretArn);
  const sdk = await (options.sdk ?? loadSdk)();
  sdk.configure?.({ logLevel: 'ERROR' });
  const reopen = () => openSession(sdk, connectOptions);
  return new SnowflakeWarehouse(await reopen(), reopen);
}
