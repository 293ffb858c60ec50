import { describe, expect, it } from 'vitest';
import { parseFrequency } from '../../shared/frequency';
import type { ObjectBody } from '../../shared/ports';
import { importCsv, importColumns, streamCsvRows } from '../../engine/csv-import';
import { datasetExtent, importManifest, partitionCount, partitionOf, PartitionWriter, readUnit, unitCount, type ImportManifest } from '../../engine/partitions';
import { buildSeries, deserializeImported, extentOf, serializeImported, type ImportedData } from '../../engine/series';
import { useTempFolderStore } from './temp-folder-store';

const TARGET = [
  { AttributeName: 'timestamp', AttributeType: 'timestamp' },
  { AttributeName: 'item_id', AttributeType: 'string' },
  { AttributeName: 'store', AttributeType: 'string' },
  { AttributeName: 'target_value', AttributeType: 'float' },
];
const RELATED = [
  { AttributeName: 'timestamp', AttributeType: 'timestamp' },
  { AttributeName: 'item_id', AttributeType: 'string' },
  { AttributeName: 'store', AttributeType: 'string' },
  { AttributeName: 'price', AttributeType: 'float' },
];
const ITEMS = Array.from({ length: 23 }, (_, i) => `item_${i}`);
const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);

/** Date-major rows (every item on every day, interleaved): the worst case for a buffer by item. */
function csv(days: number, value: (item: number, store: number, d: number) => number, extraDays = 0): string {
  const rows: string[] = [];
  for (let d = 0; d < days + extraDays; d++) ITEMS.forEach((item, i) => [0, 1].forEach((s) => rows.push(`${day(d)},${item},s${s},${value(i, s, d)}`)));
  return rows.join('\n') + '\n';
}

/** Imports `path` into `count` partitions under `folder`, the buffer holding at most `bufferRows` rows. */
async function partitioned(store: ReturnType<typeof useTempFolderStore>['store'], path: string, schema: typeof TARGET, folder: string, count: number, bufferRows: number) {
  const writer = new PartitionWriter(store, folder, importColumns(schema), count, bufferRows);
  const rows = await streamCsvRows(store, path, schema, 'yyyy-MM-dd', writer);
  return { rows, ...(await writer.finish()) };
}

const byKey = (data: ImportedData) => Object.fromEntries(data.items.map((i) => [i.key.join('/'), { t: Array.from(i.t), v: Array.from(Object.values(i.values)[0]!) }]));

describe('Function: partitionCount', () => {
  it('answers a power of two with about the given CSV bytes per partition', () => {
    // Act & Assess
    expect(partitionCount(0)).toBe(1);
    expect(partitionCount(1000, 1000)).toBe(1);
    expect(partitionCount(1001, 1000)).toBe(2);
    expect(partitionCount(9000, 1000)).toBe(16);
  });
});

describe('Class: PartitionWriter', () => {
  const tmp = useTempFolderStore('partitions-');

  it('keeps every row, each item whole in the partition of its item_id, in file order', async () => {
    // Prepare
    await tmp.store.put('s3://b/t.csv', csv(30, (i, s, d) => i * 100 + s * 10 + d));
    const whole = await importCsv(tmp.store, 's3://b/t.csv', TARGET, 'yyyy-MM-dd');

    // Act
    const { rows, manifest } = await partitioned(tmp.store, 's3://b/t.csv', TARGET, 's3://b/.engine/p', 4, 50);

    // Assess
    expect(rows).toBe(ITEMS.length * 2 * 30);
    expect(manifest.rowCount).toBe(rows);
    expect(manifest.itemCount).toBe(whole.items.length);
    const seen = new Map<string, number>();
    const union: Record<string, unknown> = {};
    for (const [p, part] of manifest.partitions.entries()) {
      const data = deserializeImported(await tmp.store.get(part.uri));
      expect(part.items).toBe(data.items.length);
      expect(part.rows).toBe(data.rowCount);
      for (const item of data.items) {
        expect(partitionOf(item.key[0]!, 4)).toBe(p);
        const key = item.key.join('/');
        expect(seen.has(key)).toBe(false); // never split across partitions (nor across chunks)
        seen.set(key, p);
      }
      Object.assign(union, byKey(data));
    }
    expect(union).toEqual(byKey(whole));
    expect(new Set(seen.values()).size).toBe(4);
    expect((await tmp.store.list('s3://b/.engine/p/chunks/')).length).toBe(0);
  });

  it('never buffers more than its bufferRows rows: each full buffer is written out as chunks', async () => {
    // Prepare
    await tmp.store.put('s3://b/t.csv', csv(10, (i, s, d) => i + s + d));
    const chunkRows: number[] = [];
    const put = tmp.store.put.bind(tmp.store);
    tmp.store.put = async (uri: string, body: ObjectBody) => {
      if (uri.includes('/chunks/')) {
        const { rowCount } = deserializeImported(Buffer.concat(await collect(body)));
        chunkRows.push(rowCount);
      }
      return put(uri, body);
    };

    // Act
    await partitioned(tmp.store, 's3://b/t.csv', TARGET, 's3://b/.engine/p', 2, 37);

    // Assess
    const flushes = Math.ceil((ITEMS.length * 2 * 10) / 37);
    expect(chunkRows.reduce((a, b) => a + b, 0)).toBe(ITEMS.length * 2 * 10);
    expect(chunkRows.length).toBeGreaterThanOrEqual(flushes);
    expect(chunkRows.length).toBeLessThanOrEqual(flushes * 2);
    expect(Math.max(...chunkRows)).toBeLessThanOrEqual(37);
  });

  it('puts related rows in the unit of their target rows, whatever the partition count of each import', async () => {
    // Prepare
    await tmp.store.put('s3://b/t.csv', csv(20, (i, s, d) => i + s + d));
    await tmp.store.put('s3://b/r.csv', csv(20, (i) => i, 3));
    const target = await partitioned(tmp.store, 's3://b/t.csv', TARGET, 's3://b/.engine/t', 2, 100);
    const related = await partitioned(tmp.store, 's3://b/r.csv', RELATED, 's3://b/.engine/r', 8, 100);
    const units = unitCount([target.manifest, related.manifest]);

    // Act
    const read = await Promise.all(
      Array.from({ length: units }, async (_, u) => ({
        target: await readUnit(tmp.store, [target.manifest], u, units),
        related: await readUnit(tmp.store, [related.manifest], u, units),
      })),
    );

    // Assess
    expect(units).toBe(8);
    const keys = (data: ImportedData) => data.items.map((i) => i.key.join('/')).sort();
    for (const { target: t, related: r } of read) expect(keys(r)).toEqual(keys(t));
    expect(read.flatMap((u) => keys(u.target)).sort()).toEqual(ITEMS.flatMap((i) => [`${i}/s0`, `${i}/s1`]).sort());
    expect(read.reduce((n, u) => n + u.related.rowCount, 0)).toBe(ITEMS.length * 2 * 23);
  });

  it('builds, unit by unit on the dataset extent, the series of the whole import', async () => {
    // Prepare: item 0 starts late, so the dataset's first period is another unit's
    const rows = csv(40, (i, s, d) => i + s + (d % 7)).split('\n');
    await tmp.store.put('s3://b/t.csv', rows.filter((line) => !(line.includes(',item_0,') && line < day(5))).join('\n'));
    const whole = await importCsv(tmp.store, 's3://b/t.csv', TARGET, 'yyyy-MM-dd');
    const { manifest } = await partitioned(tmp.store, 's3://b/t.csv', TARGET, 's3://b/.engine/t', 4, 64);
    const frequency = parseFrequency('W');

    // Act
    const extent = await datasetExtent(tmp.store, [manifest], frequency);
    const units = await Promise.all([0, 1, 2, 3].map(async (u) => buildSeries({ target: await readUnit(tmp.store, [manifest], u, 4), frequency, extent })));

    // Assess
    expect(extent).toEqual(extentOf(whole, frequency));
    const expected = buildSeries({ target: whole, frequency });
    const series = units.flatMap((u) => u.series).sort((a, b) => (a.key.join('/') < b.key.join('/') ? -1 : 1));
    expect(series).toEqual([...expected.series].sort((a, b) => (a.key.join('/') < b.key.join('/') ? -1 : 1)));
    for (const u of units) expect({ end: u.end, length: u.length }).toEqual({ end: expected.end, length: expected.length });
  });
});

describe('Function: importManifest', () => {
  const tmp = useTempFolderStore('partitions-legacy-');

  it('reads the one data file of an import of an earlier engine version as one partition', async () => {
    // Prepare
    await tmp.store.put('s3://b/t.csv', csv(10, (i, s, d) => i + s + d));
    const whole = await importCsv(tmp.store, 's3://b/t.csv', TARGET, 'yyyy-MM-dd');
    await tmp.store.put('s3://b/.engine/data.bin', serializeImported(whole));

    // Act
    const manifest: ImportManifest = await importManifest(tmp.store, { dataUri: 's3://b/.engine/data.bin', rowCount: whole.rowCount, itemCount: whole.items.length });
    const extent = await datasetExtent(tmp.store, [manifest], parseFrequency('D'));

    // Assess
    expect(manifest.partitions).toHaveLength(1);
    expect(byKey(await readUnit(tmp.store, [manifest], 0, 1))).toEqual(byKey(whole));
    expect(extent).toEqual(extentOf(whole, parseFrequency('D')));
  });
});

async function collect(body: ObjectBody): Promise<Buffer[]> {
  if (typeof body === 'string') return [Buffer.from(body)];
  if (body instanceof Uint8Array) return [Buffer.from(body)];
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.from(part));
  return parts;
}
