/**
 * One dataset's way from the warehouse to the object store: query → infer schema from the first
 * row → clean row by row → headerless CSV streamed to the store in chunks (never one big string).
 */
import type { Frequency } from '../frequency';
import type { ObjectStore } from '../ports/storage';
import { batchRow, type ColumnBatch, type Row, type SqlValue, type Warehouse } from '../ports/warehouse';
import type { Attribute } from '../state';
import type { TimestampFormat } from '../time';
import type { TransformName } from '../transform';
import { batchRows } from '../warehouse/sql';
import { RowCleaner, type CleaningStats } from './cleaning';
import { inferSchema, type DataKind, type DatasetSchema } from './schema';

/** CSV text handed to the store per chunk. */
const CHUNK_CHARS = 1 << 18;

export interface ExtractOptions {
  readonly kind: DataKind;
  readonly sql: string;
  readonly binds: readonly SqlValue[];
  readonly uri: string;
  readonly frequency: Frequency;
  readonly timestampFormat: TimestampFormat;
  readonly transform: TransformName;
  /** Keep negative target values (the message's `AllowNegative`). */
  readonly keepNegatives?: boolean;
  /** Series keys to leave out (the target's quarantined series, in related and validation data). */
  readonly exclude?: ReadonlySet<string>;
  readonly schemaOverride?: readonly Attribute[] | undefined;
  /** Checked against the inferred schema before anything is written (e.g. validation vs target). */
  readonly checkSchema?: (schema: DatasetSchema) => void;
}

export interface Extracted {
  readonly kind: DataKind;
  readonly uri: string;
  readonly schema: DatasetSchema;
  readonly stats: CleaningStats;
}

/** Rows or column batches: the adapter's column batches when it has them, else its row batches, else `query` grouped. */
function rowBatches(warehouse: Warehouse, sql: string, binds: readonly SqlValue[]): AsyncIterable<readonly Row[] | ColumnBatch> {
  if (warehouse.queryColumns) return warehouse.queryColumns(sql, binds);
  return warehouse.queryBatches ? warehouse.queryBatches(sql, binds) : batchRows(warehouse.query(sql, binds));
}

function isColumns(batch: readonly Row[] | ColumnBatch): batch is ColumnBatch {
  return !Array.isArray(batch);
}

/**
 * Runs the query and writes its cleaned CSV to `uri`. Returns undefined (and writes nothing) when the
 * query returns no rows; the caller decides whether that is an error (it is for the target).
 */
export async function extractToCsv(warehouse: Warehouse, store: ObjectStore, options: ExtractOptions): Promise<Extracted | undefined> {
  const batches = rowBatches(warehouse, options.sql, options.binds)[Symbol.asyncIterator]();
  let first = await batches.next();
  while (!first.done && first.value.length === 0) first = await batches.next();
  if (first.done) return undefined;
  const firstBatch = first.value;
  const firstRow: Row = isColumns(firstBatch) ? batchRow(firstBatch, 0) : firstBatch[0]!;
  let schema: DatasetSchema;
  try {
    schema = inferSchema(options.kind, firstRow, options.schemaOverride);
    options.checkSchema?.(schema);
  } catch (error) {
    await batches.return?.();
    throw error;
  }
  const cleaner = new RowCleaner({
    schema,
    frequency: options.frequency,
    timestampFormat: options.timestampFormat,
    transform: options.transform,
    keepNegatives: options.keepNegatives,
    exclude: options.exclude,
  });

  async function* csv(): AsyncIterable<string> {
    let buffer = '';
    let batch: readonly Row[] | ColumnBatch | undefined = firstBatch;
    while (batch) {
      if (isColumns(batch)) buffer += cleaner.lines(batch);
      else for (let i = 0; i < batch.length; i++) buffer += cleaner.line(batch[i]!);
      if (buffer.length >= CHUNK_CHARS) {
        yield buffer;
        buffer = '';
      }
      const next = await batches.next();
      batch = next.done ? undefined : next.value;
    }
    // Checks of the last item run before the object is complete: a rejected dataset leaves no file.
    cleaner.finish();
    buffer += cleaner.rest();
    if (buffer.length > 0) yield buffer;
  }

  try {
    await store.put(options.uri, csv());
  } catch (error) {
    // Stop the query (a Snowflake stream, a DuckDB result) before reporting.
    await batches.return?.();
    throw error;
  }
  return { kind: options.kind, uri: options.uri, schema, stats: cleaner.finish() };
}
