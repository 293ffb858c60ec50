/**
 * Item partitions of an import job: its rows stored in K files by a hash of their item_id (K a power
 * of two, from the size of the input), so that a sharded Plan can turn a dataset into series one
 * partition at a time and its memory stays flat in the number of series.
 *
 * - The import streams its CSV rows into a bounded row buffer; a full buffer is written out as one
 *   chunk per partition. At the end each partition's chunks are merged into one file (the
 *   serializeImported format, items in order of first appearance, rows in file order), and a small
 *   manifest records the partitions and what Plan needs dataset-wide: the earliest and latest
 *   timestamp and the distinct timestamps (the calendar's check, series.ts `TargetExtent`).
 * - The partition of an item depends on its item_id alone, and K is a power of two: every dataset
 *   (target, related) and every import of one (INCREMENTAL) puts an item_id in partition
 *   `hash & (K − 1)`, so the unit `u` of `U` = the largest K is partition `u & (K − 1)` of each
 *   import, filtered to the items whose `hash & (U − 1)` is `u`. An item's rows — target, related,
 *   every dimension — always meet in one unit.
 * - An import of an earlier engine version (one `dataUri` file) reads as one partition.
 */
import type { Frequency } from '../shared/frequency';
import type { ObjectStore } from '../shared/ports';
import { BinaryWriter, readEngineData, type StoredArray } from './binary';
import type { ImportColumns, RowSink } from './csv-import';
import { deserializeImported, mergeImported, onGridThrough, serializeImported, type ImportedData, type ImportedItem, type TargetExtent } from './series';

/** CSV bytes per partition the partition count aims at (a partition's series are what Plan holds at once). */
export const PARTITION_CSV_BYTES = 32 * 1024 * 1024;
/** Rows the import buffers before writing them out (all partitions together). */
export const IMPORT_BUFFER_ROWS = 1_000_000;
/** Distinct timestamps the manifest keeps (beyond, Plan checks the calendar over the partitions). */
const MAX_DISTINCT_TIMESTAMPS = 200_000;
/** Partitions at most: a partition then holds ≥ 1/4096 of the input. */
const MAX_PARTITIONS = 4096;

/** The partition count for an input of `bytes`: a power of two, ≈ `partitionBytes` of CSV each. */
export function partitionCount(bytes: number, partitionBytes = PARTITION_CSV_BYTES): number {
  let count = 1;
  while (count < MAX_PARTITIONS && bytes / count > partitionBytes) count *= 2;
  return count;
}

/** FNV-1a (32 bit) of an item_id, the same in every import. */
export function itemHash(itemId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < itemId.length; i++) {
    hash ^= itemId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The partition of an item_id among `count` (a power of two). */
export const partitionOf = (itemId: string, count: number) => itemHash(itemId) & (count - 1);

/** What an import job stored: its partitions, and what Plan needs of it dataset-wide. */
export interface ImportManifest {
  readonly keyColumns: readonly string[];
  readonly numericColumns: readonly string[];
  readonly rowCount: number;
  readonly itemCount: number;
  /** One file per partition (a power of two of them), in partition order. */
  readonly partitions: readonly { readonly uri: string; readonly rows: number; readonly items: number }[];
  /** Earliest and latest timestamp (epoch ms); unknown for an import of an earlier version. */
  readonly first?: number;
  readonly latest?: number;
  /** The distinct timestamps (a Float64 engine file); absent when there were too many to keep. */
  readonly timestampsUri?: string;
}

/**
 * A RowSink writing item partitions under `folder`: rows buffered (at most `bufferRows`), each
 * full buffer written as one chunk per partition, the chunks of a partition merged by `finish`.
 */
export class PartitionWriter implements RowSink {
  private readonly keyIds = new Map<string, number>();
  private readonly keys: (readonly string[])[] = [];
  private readonly itemOf: Uint32Array;
  private readonly t: Float64Array;
  private readonly values: Float64Array;
  private rows = 0;
  private readonly chunks: string[][];
  private readonly partitionRows: number[];
  private first = Infinity;
  private latest = -Infinity;
  private stamps: Set<number> | undefined = new Set();

  constructor(
    private readonly store: ObjectStore,
    private readonly folder: string,
    private readonly columns: ImportColumns,
    readonly count: number,
    private readonly bufferRows = IMPORT_BUFFER_ROWS,
  ) {
    if (!Number.isInteger(Math.log2(count))) throw new Error(`Internal: ${count} partitions, a power of two expected`);
    this.itemOf = new Uint32Array(bufferRows);
    this.t = new Float64Array(bufferRows);
    this.values = new Float64Array(bufferRows * columns.numericColumns.length);
    this.chunks = Array.from({ length: count }, () => []);
    this.partitionRows = new Array<number>(count).fill(0);
  }

  get full(): boolean {
    return this.rows >= this.bufferRows;
  }

  add(key: readonly string[], t: number, values: Float64Array): void {
    const id = key.join('\u0000');
    let item = this.keyIds.get(id);
    if (item === undefined) {
      item = this.keys.length;
      this.keyIds.set(id, item);
      this.keys.push([...key]);
    }
    const row = this.rows++;
    this.itemOf[row] = item;
    this.t[row] = t;
    this.values.set(values, row * values.length);
    if (t < this.first) this.first = t;
    if (t > this.latest) this.latest = t;
    if (this.stamps && !this.stamps.has(t)) {
      this.stamps.add(t);
      if (this.stamps.size > MAX_DISTINCT_TIMESTAMPS) this.stamps = undefined;
    }
  }

  /** Writes the buffered rows: per partition one chunk, its items in order of first appearance. */
  async flush(): Promise<void> {
    if (!this.rows) return;
    const width = this.columns.numericColumns.length;
    const counts = new Uint32Array(this.keys.length);
    for (let r = 0; r < this.rows; r++) counts[this.itemOf[r]!]!++;
    const items = this.keys.map((key, i) => ({
      key,
      t: new Float64Array(counts[i]!),
      values: this.columns.numericColumns.map(() => new Float64Array(counts[i]!)),
      size: 0,
    }));
    for (let r = 0; r < this.rows; r++) {
      const item = items[this.itemOf[r]!]!;
      item.t[item.size] = this.t[r]!;
      for (let c = 0; c < width; c++) item.values[c]![item.size] = this.values[r * width + c]!;
      item.size++;
    }
    const byPartition: ImportedItem[][] = Array.from({ length: this.count }, () => []);
    for (const item of items) {
      byPartition[partitionOf(item.key[0]!, this.count)]!.push({
        key: item.key,
        t: item.t,
        values: Object.fromEntries(this.columns.numericColumns.map((name, c) => [name, item.values[c]!])),
      });
    }
    this.rows = 0;
    this.keyIds.clear();
    this.keys.length = 0;
    for (let p = 0; p < this.count; p++) {
      const chunk = byPartition[p]!;
      if (!chunk.length) continue;
      const rowCount = chunk.reduce((n, item) => n + item.t.length, 0);
      const uri = `${this.folder}/chunks/${p}-${this.chunks[p]!.length}.bin`;
      await this.store.put(uri, serializeImported({ ...this.columns, items: chunk, rowCount }));
      this.chunks[p]!.push(uri);
      this.partitionRows[p]! += rowCount;
    }
  }

  /** Merges each partition's chunks into its file and writes the manifest; answers it and its URI. */
  async finish(): Promise<{ manifest: ImportManifest; manifestUri: string; bytes: number }> {
    await this.flush();
    const partitions: { uri: string; rows: number; items: number }[] = [];
    let bytes = 0;
    for (let p = 0; p < this.count; p++) {
      const chunks = this.chunks[p]!;
      const parts = await Promise.all(chunks.map(async (uri) => deserializeImported(await this.store.get(uri))));
      const merged = parts.length ? mergeImported(parts) : { ...this.columns, items: [], rowCount: 0 };
      const file = serializeImported(merged);
      const uri = `${this.folder}/${p}.bin`;
      await this.store.put(uri, file);
      for (const chunk of chunks) await this.store.delete(chunk);
      partitions.push({ uri, rows: this.partitionRows[p]!, items: merged.items.length });
      bytes += file.length;
    }
    let timestampsUri: string | undefined;
    if (this.stamps) {
      const writer = new BinaryWriter();
      const timestamps = writer.add(Float64Array.from(this.stamps).sort());
      timestampsUri = `${this.folder}/timestamps.bin`;
      await this.store.put(timestampsUri, writer.finish({ timestamps }));
    }
    const manifest: ImportManifest = {
      ...this.columns,
      rowCount: partitions.reduce((n, p) => n + p.rows, 0),
      itemCount: partitions.reduce((n, p) => n + p.items, 0),
      partitions,
      first: this.first,
      latest: this.latest,
      ...(timestampsUri && { timestampsUri }),
    };
    const manifestUri = `${this.folder}/manifest.json`;
    await this.store.put(manifestUri, JSON.stringify(manifest));
    return { manifest, manifestUri, bytes };
  }
}

/**
 * The manifest of an ACTIVE import job from its result: its partitions, or (an import of an earlier
 * engine version: all rows in one `dataUri` file) that file as its one partition.
 */
export async function importManifest(store: ObjectStore, result: Readonly<Record<string, unknown>>): Promise<ImportManifest> {
  if (typeof result.manifestUri === 'string') return JSON.parse((await store.get(result.manifestUri)).toString('utf8')) as ImportManifest;
  if (typeof result.dataUri === 'string') {
    const rows = Number(result.rowCount);
    const items = Number(result.itemCount);
    // Its columns are in the file: read it when a unit is read (its header is all that differs).
    return { keyColumns: [], numericColumns: [], rowCount: rows, itemCount: items, partitions: [{ uri: result.dataUri, rows, items }] };
  }
  throw new Error('Internal: an ACTIVE import job without a manifestUri or dataUri in its result');
}

/** The number of units Plan reads a dataset group in: the most partitions of any of its imports. */
export const unitCount = (manifests: readonly ImportManifest[]) => Math.max(1, ...manifests.map((m) => m.partitions.length));

/**
 * The rows of unit `unit` of `units` of a dataset's imports (in import order, as mergeImported
 * concatenates them): partition `unit & (K − 1)` of each, filtered to the unit's items when the
 * import has fewer partitions than there are units.
 */
export async function readUnit(store: ObjectStore, manifests: readonly ImportManifest[], unit: number, units: number): Promise<ImportedData> {
  const parts: ImportedData[] = [];
  for (const manifest of manifests) {
    const count = manifest.partitions.length;
    const data = deserializeImported(await store.get(manifest.partitions[unit & (count - 1)]!.uri));
    if (count === units) parts.push(data);
    else {
      const items = data.items.filter((item) => partitionOf(item.key[0]!, units) === unit);
      parts.push({ ...data, items, rowCount: items.reduce((n, item) => n + item.t.length, 0) });
    }
  }
  return mergeImported(parts);
}

async function storedTimestamps(store: ObjectStore, uri: string): Promise<Float64Array> {
  const file = readEngineData(await store.get(uri));
  return file.f64((file.header as { timestamps: StoredArray }).timestamps);
}

/**
 * The target extent of a dataset's imports (series.ts TargetExtent) at the forecast frequency,
 * without holding their rows: from the manifests, or — for imports that did not keep them (too many
 * distinct timestamps, or an earlier engine version) — by reading their partitions one at a time.
 */
export async function datasetExtent(store: ObjectStore, manifests: readonly ImportManifest[], frequency: Frequency): Promise<TargetExtent> {
  let first = Infinity;
  let latest = -Infinity;
  const scanned: ImportManifest[] = [];
  for (const m of manifests) {
    if (m.first === undefined || m.latest === undefined || !m.timestampsUri) scanned.push(m);
    if (m.first !== undefined && m.latest !== undefined) {
      first = Math.min(first, m.first);
      latest = Math.max(latest, m.latest);
    }
  }
  const eachPartition = async (visit: (data: ImportedData) => void) => {
    for (const m of scanned) for (const p of m.partitions) visit(deserializeImported(await store.get(p.uri)));
  };
  await eachPartition((data) => {
    for (const item of data.items) {
      for (let i = 0; i < item.t.length; i++) {
        const t = item.t[i]!;
        if (t < first) first = t;
        if (t > latest) latest = t;
      }
    }
  });
  if (!Number.isFinite(latest)) return { first, latest, onGrid: false };
  for (const m of manifests) {
    if (m.timestampsUri && !onGridThrough(await storedTimestamps(store, m.timestampsUri), frequency, latest)) return { first, latest, onGrid: false };
  }
  let onGrid = true;
  await eachPartition((data) => {
    for (const item of data.items) if (onGrid && !onGridThrough(item.t, frequency, latest)) onGrid = false;
  });
  return { first, latest, onGrid };
}
