import { describe, expect, it } from 'vitest';
import { parseFrequency } from '../../shared/frequency';
import { writeExportFiles, type Predictions } from '../../engine/export-files';
import { columnOf } from '../../engine/validation';
import { useTempFolderStore } from './temp-folder-store';

const predictions = (frequency: string, items: number, horizon: number): Predictions => ({
  types: ['0.1', '0.5', '0.95', 'mean'],
  keyColumns: ['item_id', 'store'],
  frequency: parseFrequency(frequency),
  items: Array.from({ length: items }, (_, i) => ({
    key: [`item${i}`, i % 2 ? 'north' : 'south,east'],
    start: new Date(Date.UTC(2024, 0, 31, 0)),
    columns: [0, 1, 2, 3].map((c) => Float64Array.from({ length: horizon }, (_, h) => c * 10 + h + 0.123456789)),
  })),
});

describe('Function: writeExportFiles', () => {
  const tmp = useTempFolderStore('export-');

  it('writes numbered parts with a header each, then _CHECK and _SUCCESS, exactly under the path', async () => {
    // Prepare
    const created = new Date(Date.UTC(2024, 4, 1, 10, 20, 30));

    // Act
    const parts = await writeExportFiles(tmp.store, 's3://b/run/exports/f1/', 'f1_export', created, predictions('D', 3, 3), 4);
    const listed = (await tmp.store.list('s3://b/run/exports/')).map((o) => o.uri);
    const texts = await Promise.all(parts.map(async (p) => (await tmp.store.get(p)).toString('utf8')));

    // Assess
    expect(listed).toEqual([
      's3://b/run/exports/f1/_CHECK',
      's3://b/run/exports/f1/_SUCCESS',
      's3://b/run/exports/f1/f1_export_2024-05-01T10-20-30Z_part0.csv',
      's3://b/run/exports/f1/f1_export_2024-05-01T10-20-30Z_part1.csv',
      's3://b/run/exports/f1/f1_export_2024-05-01T10-20-30Z_part2.csv',
    ]);
    expect(texts.map((t) => t.trim().split('\n').length - 1)).toEqual([4, 4, 1]);
    for (const text of texts) expect(text.split('\n')[0]).toBe('item_id,store,date,p10,p50,p95,mean');
    expect(texts[0]!.split('\n')[1]).toBe('item0,"south,east",2024-01-31T00:00:00Z,0.123457,10.123457,20.123457,30.123457');
    expect(texts[0]!.split('\n')[2]).toMatch(/^item0,"south,east",2024-02-01T00:00:00Z,/);
  });

  it('steps hourly dates by the frequency', async () => {
    // Act
    const [part] = await writeExportFiles(tmp.store, 's3://b/x', 'e', new Date(0), predictions('H', 1, 2), 100);
    const lines = (await tmp.store.get(part!)).toString('utf8').trim().split('\n');

    // Assess
    expect(part).toBe('s3://b/x/e_1970-01-01T00-00-00Z_part0.csv');
    expect(lines.slice(1).map((l) => l.split(',')[3])).toEqual(['2024-01-31T00:00:00Z', '2024-01-31T01:00:00Z']);
  });
});

describe('Function: columnOf', () => {
  it.each([
    ['0.5', 'p50'],
    ['0.95', 'p95'],
    ['0.05', 'p5'],
    ['0.01', 'p1'],
    ['0.99', 'p99'],
    ['mean', 'mean'],
  ])('names forecast type %s as %s', (type, column) => {
    // Act & Assess
    expect(columnOf(type)).toBe(column);
  });
});
