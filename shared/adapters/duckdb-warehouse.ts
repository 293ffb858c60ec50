/**
 * The embedded warehouse: DuckDB on a file (`@duckdb/node-api`), behaving like the Snowflake
 * adapter: `?` positional binds, streamed results with UPPER-CASE column names, numbers for
 * BIGINT/DECIMAL, `Date` for DATE/TIMESTAMP, batched inserts with binds.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { Row, SqlValue, Warehouse } from '../ports/warehouse';
import { assertIdentifier, formatSqlTimestamp } from '../warehouse/sql';

/** Rows per multi-row INSERT statement (DuckDB handles thousands of binds per statement well). */
const INSERT_BATCH_ROWS = 1000;

function toBind(value: SqlValue): DuckDBValue {
  return value instanceof Date ? formatSqlTimestamp(value) : value;
}

function fromDuckDb(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  // DECIMAL and other wrapped values convert through their JS form.
  return String(value);
}

class DuckDbWarehouse implements Warehouse {
  /** One statement at a time per connection: DuckDB connections are not re-entrant. */
  private queue: Promise<unknown> = Promise.resolve();
  private inTransaction = false;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async *query(sql: string, binds: readonly SqlValue[] = []): AsyncIterable<Row> {
    // A DuckDB connection streams one result at a time: a second stream on it silently ends the
    // first one empty. Outside a transaction each query gets its own connection (cheap, same
    // database); inside one it must see the transaction's writes, so it uses the main connection.
    const own = this.inTransaction ? undefined : await this.instance.connect();
    try {
      yield* this.streamRows(own ?? this.connection, sql, binds);
    } finally {
      own?.closeSync();
    }
  }

  private async *streamRows(connection: DuckDBConnection, sql: string, binds: readonly SqlValue[]): AsyncIterable<Row> {
    const result = await connection.stream(sql, binds.map(toBind));
    const names = result.columnNames().map((name) => name.toUpperCase());
    // Ask for the next chunk before handing out the rows of this one, so DuckDB's worker
    // produces chunk n+1 while the consumer works on chunk n.
    const chunks = result.yieldRowsJs()[Symbol.asyncIterator]();
    let pending = chunks.next();
    try {
      for (;;) {
        const current = await pending;
        if (current.done) break;
        pending = chunks.next();
        pending.catch(() => undefined);
        for (const values of current.value) {
          const row: Row = {};
          for (let i = 0; i < names.length; i++) row[names[i]!] = fromDuckDb(values[i]);
          yield row;
        }
      }
    } finally {
      await chunks.return?.();
    }
  }

  execute(sql: string, binds: readonly SqlValue[] = []): Promise<number> {
    return this.serial(async () => (await this.connection.run(sql, binds.map(toBind))).rowsChanged);
  }

  async insertRows(
    table: string,
    columns: readonly string[],
    rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>,
  ): Promise<number> {
    assertIdentifier(table, 'table');
    columns.forEach((column) => assertIdentifier(column, 'column'));
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    const head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
    const fullSql = head + Array.from({ length: INSERT_BATCH_ROWS }, () => tuple).join(', ');
    const prepared = await this.connection.prepare(fullSql);
    let inserted = 0;
    let batch: DuckDBValue[] = [];
    let batchRows = 0;
    const flush = async () => {
      if (batchRows === 0) return;
      if (batchRows === INSERT_BATCH_ROWS) {
        prepared.bind(batch);
        await this.serial(() => prepared.run());
      } else {
        const sql = head + Array.from({ length: batchRows }, () => tuple).join(', ');
        const values = batch;
        await this.serial(() => this.connection.run(sql, values));
      }
      inserted += batchRows;
      batch = [];
      batchRows = 0;
    };
    try {
      for await (const row of rows) {
        if (row.length !== columns.length) {
          throw new Error(`insertRows(${table}): a row has ${row.length} values for ${columns.length} columns`);
        }
        for (const value of row) batch.push(toBind(value));
        if (++batchRows === INSERT_BATCH_ROWS) await flush();
      }
      await flush();
    } finally {
      prepared.destroySync();
    }
    return inserted;
  }

  async transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    await this.execute('BEGIN TRANSACTION');
    this.inTransaction = true;
    try {
      const result = await work(this);
      await this.execute('COMMIT');
      return result;
    } catch (error) {
      await this.execute('ROLLBACK');
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }

  async close(): Promise<void> {
    await this.queue;
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Opens (creating if needed) a DuckDB database file; `:memory:` works too. */
export async function openDuckDbWarehouse(options: { path: string }): Promise<Warehouse> {
  if (options.path !== ':memory:') await mkdir(dirname(options.path), { recursive: true });
  const instance = await DuckDBInstance.create(options.path);
  const connection = await instance.connect();
  return new DuckDbWarehouse(instance, connection);
}
