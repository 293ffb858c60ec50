/**
 * The warehouse port: Snowflake on AWS, DuckDB locally. SQL passes values only as
 * positional `?` binds (both engines accept them); identifiers come from configuration.
 */
export type SqlValue = string | number | boolean | null | Date;
export type Row = Record<string, SqlValue>;

export interface Warehouse {
  /** Streams the rows of a query. Column names are returned upper-cased, as Snowflake does. */
  query(sql: string, binds?: readonly SqlValue[]): AsyncIterable<Row>;
  /**
   * Optional: the same rows as `query`, in batches (one await per batch instead of per row; the
   * data path uses it for large results when the adapter offers it). Both adapters implement it.
   */
  queryBatches?(sql: string, binds?: readonly SqlValue[]): AsyncIterable<readonly Row[]>;
  /** Runs one statement; returns the number of rows it changed where the engine tells. */
  execute(sql: string, binds?: readonly SqlValue[]): Promise<number>;
  /** Inserts many rows into `table` with binds, in batches. */
  insertRows(table: string, columns: readonly string[], rows: AsyncIterable<readonly SqlValue[]> | Iterable<readonly SqlValue[]>): Promise<number>;
  /** Runs `work` in one transaction: all of it lands or none of it. */
  transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
