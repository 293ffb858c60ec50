import { describe, expect, it } from 'vitest';
import { parseFrequency } from '../../shared/frequency';
import { deserializePredictions, serializePredictions, type Predictions } from '../../engine/export-files';
import { deserializeImported, deserializeSeriesSet, serializeImported, serializeSeriesSet, toBase64, type ImportedData, type SeriesSet } from '../../engine/series';

describe('engine data containers', () => {
  it('round-trips imported data through the binary form, each array in its own buffer', () => {
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
    const bytes = serializeImported(data);
    const back = deserializeImported(bytes);
    // Assess
    expect(back).toEqual(data);
    expect(back.items[0]!.t.buffer.byteLength).toBe(16);
    expect(back.items[0]!.t.buffer).not.toBe(back.items[1]!.t.buffer);
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
    const back = deserializeSeriesSet(serializeSeriesSet(set), parseFrequency);
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
    const back = deserializePredictions(serializePredictions(p), parseFrequency);
    // Assess
    expect(back.items).toEqual(p.items);
    expect(back.frequency.text).toBe('W');
  });
});
