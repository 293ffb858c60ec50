/**
 * Forecast export files: `<ExportJobName>_<yyyy-MM-ddTHH-mm-ssZ>_part<N>.csv` under the job's path,
 * header `item_id[,dimensions],date,<p10,p50,…,mean>`, date `yyyy-MM-ddTHH:mm:ssZ`, a new part every
 * `partRows` rows, then the `_CHECK` and `_SUCCESS` marker objects.
 */
import type { ObjectStore } from '../shared/ports';
import { addPeriods, type Frequency } from '../shared/frequency';
import { formatExportDate } from '../shared/time';
import { BinaryLayout, BinaryWriter, readEngineData, type BinaryFile, type StoredArray } from './binary';
import { columnOf } from './validation';

export interface ForecastItem {
  /** item_id then the forecast dimensions. */
  readonly key: readonly string[];
  /** Period start of the first forecast step. */
  readonly start: Date;
  /** One array per forecast type, in the order of `Predictions.types`. */
  readonly columns: readonly Float64Array[];
}

export interface Predictions {
  readonly types: readonly string[];
  readonly keyColumns: readonly string[];
  readonly frequency: Frequency;
  readonly items: readonly ForecastItem[];
}

/** Binary container (engine/binary.ts) of a forecast's predictions. */
export function serializePredictions(p: Predictions): BinaryFile {
  const writer = new BinaryWriter();
  const items = p.items.map((i) => ({ key: i.key, start: i.start.getTime(), columns: i.columns.map((c) => writer.add(c)) }));
  return writer.finish({ types: p.types, keyColumns: p.keyColumns, frequency: p.frequency.text, items });
}

/** An item of a predictions file whose forecasts are not at hand yet (stored as JSON: start in epoch ms). */
export interface PlannedItem {
  readonly key: readonly string[];
  readonly start: number;
}

/**
 * The header of a predictions file written as its forecasts arrive (a sharded job's Finish, shard
 * by shard, engine/binary.ts streamBinaryFile): the items in `items` order, their columns stored in
 * `order` (item indexes as the forecasts will come), `horizon` values per forecast type. The file
 * reads as serializePredictions' does.
 */
export function predictionsLayout(
  meta: { types: readonly string[]; keyColumns: readonly string[]; frequency: string },
  items: readonly PlannedItem[],
  order: readonly number[],
  horizon: number,
): unknown {
  if (order.length !== items.length) throw new Error(`Internal: ${order.length} forecasts planned for ${items.length} items`);
  const layout = new BinaryLayout();
  const columns = new Array<StoredArray[]>(items.length);
  for (const index of order) columns[index] = meta.types.map(() => layout.reserve(horizon, 0));
  return { types: meta.types, keyColumns: meta.keyColumns, frequency: meta.frequency, items: items.map((item, i) => ({ key: item.key, start: item.start, columns: columns[i]! })) };
}

type RawPredictions = { types: string[]; keyColumns: string[]; frequency: string; items: { key: string[]; start: number; columns: StoredArray[] }[] };

/** Reads what serializePredictions wrote (or the JSON + base64 text of earlier engine versions). */
export function deserializePredictions(bytes: Uint8Array | string, parse: (f: string) => Frequency): Predictions {
  const file = readEngineData(bytes);
  const raw = file.header as RawPredictions;
  return {
    types: raw.types,
    keyColumns: raw.keyColumns,
    frequency: parse(raw.frequency),
    items: raw.items.map((i) => ({ key: i.key, start: new Date(i.start), columns: i.columns.map((c) => file.f64(c)) })),
  };
}

const csvField = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
const csvNumber = (v: number) => (Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '');

export function exportHeader(p: Predictions): string {
  return [...p.keyColumns, 'date', ...p.types.map(columnOf)].join(',');
}

/** The CSV data lines of a forecast (no header), item by item. */
export function* exportLines(p: Predictions): Iterable<string> {
  for (const item of p.items) {
    const key = item.key.map(csvField).join(',');
    const horizon = item.columns[0]?.length ?? 0;
    for (let h = 0; h < horizon; h++) {
      const date = formatExportDate(addPeriods(item.start, p.frequency, h));
      yield `${key},${date},${item.columns.map((c) => csvNumber(c[h]!)).join(',')}`;
    }
  }
}

/** `2024-05-01T10-20-30Z`: the export timestamp in file names. */
export function exportFileTime(t: Date): string {
  return formatExportDate(t).replace(/:/g, '-');
}

/** Text of a part streamed to the store in pieces of about this many characters. */
const PART_CHUNK_CHARS = 1 << 20;

/**
 * Writes the parts and markers; returns the part URIs. The predictions may come in pieces (a
 * forecast's units, one file each) and each part is streamed to the store as its lines are made:
 * only one piece and about a MiB of text are held at a time.
 */
export async function writeExportFiles(
  store: ObjectStore,
  path: string,
  jobName: string,
  createdAt: Date,
  predictions: Predictions | AsyncIterable<Predictions>,
  partRows = 100_000,
): Promise<string[]> {
  const folder = path.endsWith('/') ? path : `${path}/`;
  let header = '';
  async function* allLines(): AsyncGenerator<string> {
    const pieces: AsyncIterable<Predictions> | Iterable<Predictions> = Symbol.asyncIterator in predictions ? predictions : [predictions];
    for await (const piece of pieces) {
      header ||= exportHeader(piece);
      yield* exportLines(piece);
    }
  }
  const lines = allLines();
  let next = await lines.next(); // the first line (or the end): the header is known from here on
  const parts: string[] = [];
  async function* part(): AsyncGenerator<string> {
    let text = `${header}\n`;
    for (let rows = 0; !next.done && rows < partRows; rows++) {
      text += `${next.value}\n`;
      if (text.length >= PART_CHUNK_CHARS) {
        yield text;
        text = '';
      }
      next = await lines.next();
    }
    if (text) yield text;
  }
  while (!next.done || parts.length === 0) {
    const uri = `${folder}${jobName}_${exportFileTime(createdAt)}_part${parts.length}.csv`;
    await store.put(uri, part());
    parts.push(uri);
  }
  await store.put(`${folder}_CHECK`, '');
  await store.put(`${folder}_SUCCESS`, '');
  return parts;
}
