/**
 * Dataset import: the headerless CSV file(s) at an S3 path (a file, or every object under a prefix),
 * columns in schema order, parsed row by row into a sink: the item partitions of an import job
 * (partitions.ts), or the compact per-item form of series.ts in memory.
 */
import { InvalidInput } from '../shared/errors';
import type { ObjectInfo, ObjectStore } from '../shared/ports';
import { parseTimestamp } from '../shared/time';
import type { ImportedData, ImportedItem } from './series';

export interface SchemaAttribute {
  readonly AttributeName: string;
  readonly AttributeType: 'string' | 'integer' | 'float' | 'timestamp' | 'geolocation' | string;
}

/** Splits one CSV line; fields may be quoted with `"` (a doubled quote is a quote). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** Lines of an object, streamed. */
export async function* readLines(store: ObjectStore, uri: string): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of store.read(uri)) {
    rest += decoder.decode(chunk, { stream: true });
    const lines = rest.split('\n');
    rest = lines.pop()!;
    for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
  rest += decoder.decode();
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** The objects an S3Config.Path names (with their sizes): the object itself, or the CSV objects under it as a prefix. */
export async function importObjects(store: ObjectStore, path: string): Promise<ObjectInfo[]> {
  if (!path.endsWith('/') && (await store.exists(path))) {
    const self = (await store.list(path)).find((o) => o.uri === path);
    return [self ?? { uri: path, size: 0 }];
  }
  const prefix = path.endsWith('/') ? path : `${path}/`;
  const objects = (await store.list(prefix)).filter((o) => !/\/(_CHECK|_SUCCESS)$/.test(o.uri));
  if (!objects.length) throw new InvalidInput(`No data found at ${path}: neither an object nor a prefix holding objects`);
  return objects;
}

/** A growing column of doubles (amortised doubling), read back as an exact-size Float64Array. */
class DoubleColumn {
  private data = new Float64Array(64);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Where parsed rows go: an in-memory collection (importCsv) or item partitions (partitions.ts). */
export interface RowSink {
  /** One row: its key (item_id first), epoch ms and numeric values (`values` is reused: copy it). */
  add(key: readonly string[], t: number, values: Float64Array): void;
  /** True when the sink wants `flush()` before the next row (its buffer is full). */
  readonly full: boolean;
  flush(): Promise<void>;
}

/** The columns of an import by its schema: the key's string columns (item_id first) and the numeric ones. */
export interface ImportColumns {
  readonly keyColumns: string[];
  readonly numericColumns: string[];
}

export function importColumns(attributes: readonly SchemaAttribute[]): ImportColumns {
  const itemIndex = attributes.findIndex((a) => a.AttributeName === 'item_id');
  return {
    keyColumns: ['item_id', ...attributes.filter((a, i) => a.AttributeType === 'string' && i !== itemIndex).map((a) => a.AttributeName)],
    numericColumns: attributes.filter((a) => a.AttributeType === 'integer' || a.AttributeType === 'float').map((a) => a.AttributeName),
  };
}

/**
 * Parses the import's CSV objects by the dataset schema, row by row into `sink` (streamed: only the
 * sink holds rows). Errors name the object, line and column. Answers the number of rows.
 */
export async function streamCsvRows(
  store: ObjectStore,
  path: string,
  attributes: readonly SchemaAttribute[],
  timestampFormat: string,
  sink: RowSink,
  yieldEvery = 20_000,
): Promise<number> {
  const timestampIndex = attributes.findIndex((a) => a.AttributeName === 'timestamp');
  const itemIndex = attributes.findIndex((a) => a.AttributeName === 'item_id');
  if (timestampIndex < 0 || itemIndex < 0) throw new InvalidInput('The dataset schema needs item_id and timestamp attributes');
  if (timestampFormat !== 'yyyy-MM-dd' && timestampFormat !== 'yyyy-MM-dd HH:mm:ss') {
    throw new InvalidInput(`TimestampFormat must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss, got "${timestampFormat}"`);
  }
  const pattern = timestampFormat === 'yyyy-MM-dd' ? DATE_ONLY : DATE_TIME;
  const { keyColumns, numericColumns } = importColumns(attributes);
  const keyIndexes = keyColumns.map((name) => attributes.findIndex((a) => a.AttributeName === name));
  const numericIndexes = numericColumns.map((name) => attributes.findIndex((a) => a.AttributeName === name));
  const values = new Float64Array(numericColumns.length);
  let rowCount = 0;
  const parsedStamps = new Map<string, number>();
  for (const { uri } of await importObjects(store, path)) {
    let lineNumber = 0;
    for await (const line of readLines(store, uri)) {
      lineNumber++;
      if (line.trim() === '') continue;
      const fields = splitCsvLine(line);
      const where = `${uri} line ${lineNumber}`;
      if (fields.length !== attributes.length) {
        throw new InvalidInput(`${where}: ${fields.length} fields, the schema has ${attributes.length} (${attributes.map((a) => a.AttributeName).join(',')}); import files have no header row`);
      }
      const stamp = fields[timestampIndex]!.trim();
      let t = parsedStamps.get(stamp);
      if (t === undefined) {
        if (!pattern.test(stamp)) throw new InvalidInput(`${where}: timestamp "${stamp}" does not match TimestampFormat ${timestampFormat}`);
        t = parseTimestamp(stamp, where).getTime();
        // Items share their timestamps: parse each distinct text once (bounded, so memory stays flat).
        if (parsedStamps.size < 1_000_000) parsedStamps.set(stamp, t);
      }
      const key = keyIndexes.map((i) => fields[i]!);
      if (key[0] === '') throw new InvalidInput(`${where}: empty item_id`);
      for (let c = 0; c < numericIndexes.length; c++) {
        const text = fields[numericIndexes[c]!]!.trim();
        const value = text === '' ? NaN : Number(text);
        if (text !== '' && !Number.isFinite(value)) throw new InvalidInput(`${where}: ${numericColumns[c]} "${text}" is not a number`);
        values[c] = value;
      }
      sink.add(key, t, values);
      rowCount++;
      if (sink.full) await sink.flush();
      // Long imports give the event loop a turn now and then.
      else if (rowCount % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await sink.flush();
  return rowCount;
}

/** Rows collected in memory, per item in order of first appearance. */
class ItemCollector implements RowSink {
  readonly full = false;
  private readonly items = new Map<string, { key: string[]; t: DoubleColumn; values: DoubleColumn[] }>();

  constructor(private readonly columns: ImportColumns) {}

  add(key: readonly string[], t: number, values: Float64Array): void {
    const id = key.join('\u0000');
    let item = this.items.get(id);
    if (!item) this.items.set(id, (item = { key: [...key], t: new DoubleColumn(), values: this.columns.numericColumns.map(() => new DoubleColumn()) }));
    item.t.push(t);
    for (let c = 0; c < values.length; c++) item.values[c]!.push(values[c]!);
  }

  async flush(): Promise<void> {}

  data(rowCount: number): ImportedData {
    const result: ImportedItem[] = [];
    const { numericColumns } = this.columns;
    for (const [id, item] of this.items) {
      this.items.delete(id); // each item's growing columns can go as soon as it is copied out
      result.push({ key: item.key, t: item.t.toArray(), values: Object.fromEntries(numericColumns.map((name, c) => [name, item.values[c]!.toArray()])) });
    }
    return { keyColumns: this.columns.keyColumns, numericColumns, items: result, rowCount };
  }
}

/** Parses the import's CSV objects by the dataset schema into memory (all of it: small inputs and tests). */
export async function importCsv(
  store: ObjectStore,
  path: string,
  attributes: readonly SchemaAttribute[],
  timestampFormat = 'yyyy-MM-dd HH:mm:ss',
  yieldEvery = 20_000,
): Promise<ImportedData> {
  const collector = new ItemCollector(importColumns(attributes));
  const rowCount = await streamCsvRows(store, path, attributes, timestampFormat, collector, yieldEvery);
  return collector.data(rowCount);
}
