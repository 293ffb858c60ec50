/**
 * The warehouse port: Snowflake on AWS, DuckDB locally. SQL passes values only as
 * positional `?` binds (both engines accept them); identifiers come from configuration.
 */
export type SqlValue = string | number | boolean | null | Date;
export type Row = Record<string, SqlValue>;

/**
 * One column of a `ColumnBatch`: numbers and timestamps (epoch milliseconds) as typed arrays with a
 * null mask (1 = NULL; `null` when the column has no NULLs), anything else as port values.
 */
export type BatchColumn =
  | { readonly kind: 'number'; readonly values: Float64Array; readonly nulls: Uint8Array | null }
  | { readonly kind: 'timestamp'; readonly ms: Float64Array; readonly nulls: Uint8Array | null }
  | { readonly kind: 'values'; readonly values: readonly SqlValue[] };

/** A batch of rows column by column (no object per row); names are upper-cased, in query order. */
export interface ColumnBatch {
  readonly length: number;
  readonly columns: ReadonlyMap<string, BatchColumn>;
}

/** Row `index` of a column batch, with the values `query` would have returned for it. */
export function batchRow(batch: ColumnBatch, index: number): Row {
  const row: Row = {};
  for (const [name, column] of batch.columns) {
    if (column.kind === 'values') row[name] = column.values[index] ?? null;
    else if (column.nulls?.[index]) row[name] = null;
    else row[name] = column.kind === 'number' ? column.values[index]! : new Date(column.ms[index]!);
  }
  return row;
}

export interface Warehouse {
  /** Streams the rows of a query. Column names are returned upper-cased, as Snowflake does. */
  query(sql: string, binds?: readonly SqlValue[]): AsyncIterable<Row>;
  /**
   * Optional: the same rows as `query`, in batches (one await per batch instead of per row; the
   * data path uses it for large results when the adapter offers it). Both adapters implement it.
   */
  queryBatches?(sql: string, binds?: readonly SqlValue[]): AsyncIterable<readonly Row[]>;
  /**
   * Optional: the same rows as `query`, column by column per batch (typed arrays for numbers and
   * timestamps). The data path prefers it for large results; the DuckDB adapter implements it.
   */
  queryColumns?(sql: string, binds?: readonly SqlValue[]): AsyncIterable<ColumnBatch>;
  /** Runs one statement; returns the number of rows it changed where the engine tells. */
  execute(sql: string, binds?: readonly SqlValue[]): Promise<number>;
  /** Inserts many rows into `table` with binds, in batches. */
  insertRows(table: string, columns: readonly string[], rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>): Promise<number>;
  /** Runs `work` in one transaction: all of it lands or none of it. */
  transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Optional: false once the connection is lost (the wiring then opens a new one instead of reusing it). */
  isOpen?(): boolean;
}
