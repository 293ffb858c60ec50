/**
 * SQL helpers shared by both warehouse adapters and the default queries. Values never enter SQL
 * text: configured queries name their parameters (`:DATA_NAME`), which become positional `?` binds.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ConfigurationError } from '../errors';
import type { Row, SqlValue, Warehouse } from '../ports/warehouse';

/** A table or column identifier, optionally qualified (`DB.SCHEMA.TABLE`): letters, digits, `_`, `$`. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$/;

/** Identifiers come from configuration, never from a message; still, refuse anything that is not a plain name. */
export function assertIdentifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER.test(name)) throw new ConfigurationError(`${what} "${name}" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_$]*, optionally qualified)`);
  return name;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: how both adapters bind a `Date` (TIMESTAMP_NTZ semantics). */
export function formatSqlTimestamp(t: Date): string {
  return (
    `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(t.getUTCMilliseconds(), 3)}`
  );
}

/**
 * Rewrites `:NAME` parameters (outside string literals, quoted identifiers and comments) to `?`
 * and returns the binds in order. Unknown names are a configuration error that lists the known ones.
 * `::` (a cast) is left alone.
 */
export function bindNamed(sql: string, values: Readonly<Record<string, SqlValue>>): { sql: string; binds: SqlValue[] } {
  const known = new Map(Object.entries(values).map(([k, v]) => [k.toUpperCase(), v] as const));
  const binds: SqlValue[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = closing(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === ':' && sql[i + 1] === ':') {
      out += '::';
      i += 2;
    } else if (ch === ':' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))!;
      const name = match[0].toUpperCase();
      if (!known.has(name)) {
        throw new ConfigurationError(`Query parameter :${match[0]} is unknown; available: ${[...known.keys()].map((k) => `:${k}`).join(', ')}`);
      }
      binds.push(known.get(name)!);
      out += '?';
      i += 1 + match[0].length;
    } else if (ch === '?') {
      throw new ConfigurationError('Configured queries take named parameters (:DATA_NAME, …), not positional ?');
    } else {
      out += ch;
      i++;
    }
  }
  return { sql: out, binds };
}

function closing(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/** Rows grouped in arrays of up to `size` (for adapters whose driver streams row by row). */
export async function* batchRows(rows: AsyncIterable<Row>, size = 1024): AsyncIterable<readonly Row[]> {
  let batch: Row[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** A connection's transactions: the one open now (if any) and the ones waiting for it. */
export interface TransactionState {
  active: boolean;
  /** Settles when every transaction begun so far on the connection has ended. */
  queue: Promise<void>;
}

export function newTransactionState(): TransactionState {
  return { active: false, queue: Promise.resolve() };
}

/** The connection whose transaction the current async context runs inside. */
const insideTransaction = new AsyncLocalStorage<TransactionState>();

/** Whether the calling code runs inside this connection's open transaction (a nested call, or the transaction's own work). */
export function inTransaction(state: TransactionState): boolean {
  return state.active && insideTransaction.getStore() === state;
}

/**
 * Runs `work` once no transaction of another caller is open on the connection: a statement from
 * outside a transaction must not land inside someone else's (two parse deliveries of one message
 * at once on one DuckDB connection, say).
 */
export async function outsideOthersTransactions<T>(state: TransactionState, work: () => Promise<T>): Promise<T> {
  if (!inTransaction(state)) await state.queue;
  return work();
}

/**
 * BEGIN … COMMIT around `work` on one connection, ROLLBACK when it throws. A nested call (from
 * inside the transaction's own work) joins the open transaction, so writers can open one without
 * knowing whether a caller did; a concurrent caller's transaction waits until this one has ended.
 */
export async function runTransaction<T>(warehouse: Warehouse, state: TransactionState, work: (tx: Warehouse) => Promise<T>): Promise<T> {
  if (inTransaction(state)) return work(warehouse);
  const before = state.queue;
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  state.queue = before.then(() => mine);
  await before;
  try {
    return await insideTransaction.run(state, async () => {
      state.active = true;
      try {
        await warehouse.execute('BEGIN TRANSACTION');
        const result = await work(warehouse);
        await warehouse.execute('COMMIT');
        return result;
      } catch (error) {
        await warehouse.execute('ROLLBACK');
        throw error;
      } finally {
        state.active = false;
      }
    });
  } finally {
    release();
  }
}
