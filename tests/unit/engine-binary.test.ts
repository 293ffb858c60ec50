import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderObjectStore } from '../../shared/adapters/folder-store';
import { streamBinaryFile, toBase64 } from '../../engine/binary';
import { parseFrequency } from '../../shared/frequency';
import { deserializePredictions, predictionsLayout, serializePredictions, type Predictions } from '../../engine/export-files';
import { deserializeImported, deserializeSeriesSet, serializeImported, serializeSeriesSet, type ImportedData, type SeriesSet } from '../../engine/series';

describe('engine data containers', () => {
  it('round-trips imported data through the binary form, as views of the file (copies when it is not 8-aligned)', () => {
    // Prepare
    const data: ImportedData = {
      keyColumns: ['item_id', 'store'],
      numericColumns: ['target_value'],
      rowCount: 3,
      items: [
        { key: ['a', 's1'], t: new Float64Array([1, 2]), values: { target_value: new Float64Array([1.5, NaN]) } },
        { key: ['b', 's2'], t: new Float64Array([3]), values: { target_value: new Float64Array([-2]) } },
      ],
    };
    // Act
    const file = serializeImported(data).toBuffer();
    const aligned = new Uint8Array(new ArrayBuffer(file.length));
    aligned.set(file);
    const shifted = new Uint8Array(new ArrayBuffer(file.length + 4), 4);
    shifted.set(file);
    const back = deserializeImported(aligned);
    const copied = deserializeImported(shifted);
    // Assess
    expect(back).toEqual(data);
    expect(back.items[0]!.t.buffer).toBe(aligned.buffer);
    expect(copied).toEqual(data);
    expect(copied.items[0]!.t.buffer.byteLength).toBe(16);
  });

  it('reads the JSON + base64 form of earlier engine versions', () => {
    // Prepare
    const legacy = JSON.stringify({
      keyColumns: ['item_id'],
      numericColumns: ['target_value'],
      rowCount: 1,
      items: [{ key: ['a'], t: toBase64(new Float64Array([5])), values: { target_value: toBase64(new Float64Array([7])) } }],
    });
    // Act
    const back = deserializeImported(Buffer.from(legacy));
    // Assess
    expect(back.items[0]!.values.target_value).toEqual(new Float64Array([7]));
  });

  it('round-trips a series set with observed masks and related features', () => {
    // Prepare
    const set: SeriesSet = {
      frequency: parseFrequency('D'),
      end: new Date('2024-01-03T00:00:00Z'),
      length: 3,
      series: [
        {
          key: ['a'],
          start: new Date('2024-01-01T00:00:00Z'),
          values: new Float64Array([1, 0, 3]),
          observed: new Uint8Array([1, 0, 1]),
          related: { promo: new Float64Array([0, 1, 0, 1]) },
        },
      ],
    };
    // Act
    const back = deserializeSeriesSet(serializeSeriesSet(set).toBuffer(), parseFrequency);
    // Assess
    expect(back.series[0]!.observed).toEqual(set.series[0]!.observed);
    expect(back.series[0]!.related).toEqual(set.series[0]!.related);
    expect(back.end).toEqual(set.end);
  });

  it('round-trips predictions', () => {
    // Prepare
    const p: Predictions = {
      types: ['0.5', 'mean'],
      keyColumns: ['item_id'],
      frequency: parseFrequency('W'),
      items: [{ key: ['x,y'], start: new Date('2024-01-01T00:00:00Z'), columns: [new Float64Array([1, 2]), new Float64Array([3, 4])] }],
    };
    // Act
    const back = deserializePredictions(serializePredictions(p).toBuffer(), parseFrequency);
    // Assess
    expect(back.items).toEqual(p.items);
    expect(back.frequency.text).toBe('W');
  });

  it('streams predictions from a header laid out before the forecasts and columns in any item order, read as serializePredictions writes them', async () => {
    // Prepare: 3 items whose forecasts come in the order 2, 0, 1 (as shards forecast them)
    const p: Predictions = {
      types: ['0.1', 'mean'],
      keyColumns: ['item_id'],
      frequency: parseFrequency('D'),
      items: [0, 1, 2].map((i) => ({ key: [`i${i}`], start: new Date(Date.UTC(2024, 0, 1 + i)), columns: [new Float64Array([i, i + 0.5]), new Float64Array([10 * i, 10 * i + 1])] })),
    };
    const order = [2, 0, 1];
    const header = Buffer.from(JSON.stringify(predictionsLayout({ types: p.types, keyColumns: p.keyColumns, frequency: 'D' }, p.items.map((i) => ({ key: i.key, start: i.start.getTime() })), order, 2)));
    const halves = async function* () {
      yield header.subarray(0, 10);
      yield header.subarray(10);
    };
    const columns = async function* (items: readonly number[]) {
      for (const i of items) yield* p.items[i]!.columns;
    };
    const read = async (stream: AsyncIterable<Uint8Array>) => {
      const parts: Uint8Array[] = [];
      for await (const part of stream) parts.push(part);
      return Buffer.concat(parts);
    };

    // Act
    const file = await read(streamBinaryFile({ bytes: header.length, chunks: halves() }, columns(order), { count: 6, length: 2 }));

    // Assess
    expect(deserializePredictions(file, parseFrequency)).toEqual(deserializePredictions(serializePredictions(p).toBuffer(), parseFrequency));
    await expect(read(streamBinaryFile({ bytes: header.length, chunks: halves() }, columns([2, 0]), { count: 6, length: 2 }))).rejects.toThrow(/got 4 of 6 arrays/);
    await expect(read(streamBinaryFile({ bytes: header.length + 1, chunks: halves() }, columns(order), { count: 6, length: 2 }))).rejects.toThrow(/header is \d+ bytes/);
  });

  it('streams to a store in chunks of at most ~1 MiB plus big arrays whole, the same bytes as one buffer', async () => {
    // Prepare: 300 small items (packed together) and one item of 3 MiB (passed through as it is).
    const items = Array.from({ length: 300 }, (_, i) => ({ key: [`i${i}`], t: Float64Array.from({ length: 500 }, (_, k) => k * 86_400_000), values: { target_value: Float64Array.from({ length: 500 }, (_, k) => i + k / 7) } }));
    items.push({ key: ['big'], t: new Float64Array(393_216).fill(1), values: { target_value: new Float64Array(3).fill(2) } });
    const data: ImportedData = { keyColumns: ['item_id'], numericColumns: ['target_value'], rowCount: 0, items };
    const root = await mkdtemp(join(tmpdir(), 'engine-binary-'));
    try {
      const file = serializeImported(data);

      // Act
      const chunks = [...file.chunks()];
      await new FolderObjectStore(root).put('s3://b/data.bin', file);
      const stored = await new FolderObjectStore(root).get('s3://b/data.bin');

      // Assess
      expect(Math.max(...chunks.map((c) => c.byteLength))).toBe(393_216 * 8);
      expect(chunks.filter((c) => c.byteLength !== 393_216 * 8).every((c) => c.byteLength < 2 ** 20 + 8_000)).toBe(true);
      expect((await stat(join(root, 'b', 'data.bin'))).size).toBe(file.length);
      expect(stored.equals(file.toBuffer())).toBe(true);
      expect(deserializeImported(stored)).toEqual(data);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
