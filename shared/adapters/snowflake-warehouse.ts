/**
 * The Snowflake warehouse. `snowflake-sdk` (122 MB, probes cloud metadata endpoints when it loads
 * unless platform detection is disabled) is imported lazily, only when this adapter opens, with
 * SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true set first. Credentials come from Secrets Manager
 * (a JSON secret, fetched once per container). Values travel only as binds; query results stream
 * (`streamResult: true` + `streamRows()`), so a large table never sits in memory.
 *
 * Secret: {"account", "username", "password" | "privateKey", "warehouse", "database", "schema", "role"?, "authenticator"?}
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
  connect(callback: (err: Error | undefined, conn: SnowflakeConnectionLike) => void): unknown;
  execute(options: {
    sqlText: string;
    binds?: readonly Bind[] | readonly (readonly Bind[])[];
    streamResult?: boolean;
    complete?: (err: Error | undefined, stmt: SnowflakeStatementLike, rows?: unknown[]) => void;
  }): unknown;
  destroy(callback: (err: Error | undefined, conn: SnowflakeConnectionLike) => void): void;
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
}

function connectionOptions(secret: SnowflakeSecret, secretArn: string): Record<string, unknown> {
  const missing = (['account', 'username'] as const).filter((k) => !secret[k]);
  if (!secret.password && !secret.privateKey) missing.push('password or privateKey' as never);
  if (missing.length > 0) throw new ConfigurationError(`Snowflake secret ${secretArn} lacks ${missing.join(', ')}`);
  const options: Record<string, unknown> = { account: secret.account, username: secret.username, application: 'forecast-pipeline' };
  for (const key of ['password', 'privateKey', 'warehouse', 'database', 'schema', 'role', 'authenticator'] as const) {
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
  return String(value);
}

class SnowflakeWarehouse implements Warehouse {
  constructor(private readonly connection: SnowflakeConnectionLike) {}

  private run(sqlText: string, binds: readonly Bind[] | readonly (readonly Bind[])[], streamResult: boolean): Promise<SnowflakeStatementLike> {
    return new Promise((resolve, reject) => {
      this.connection.execute({
        sqlText,
        binds,
        streamResult,
        complete: (err, stmt) => (err ? reject(err) : resolve(stmt)),
      });
    });
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
  const connection = sdk.createConnection(connectOptions);
  await new Promise<void>((resolve, reject) => {
    connection.connect((err) => (err ? reject(err) : resolve()));
  });
  return new SnowflakeWarehouse(connection);
}
