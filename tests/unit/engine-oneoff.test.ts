import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forecastCsv } from '../../engine/oneoff';

describe('Function: forecastCsv', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oneoff-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const input = (rows: string[]) => writeFile(join(dir, 'in.csv'), ['item_id,timestamp,target_value', ...rows].join('\n'));

  it('writes the export format for the horizon after each item’s own last timestamp', async () => {
    // Prepare: rows shuffled, item b ends two days earlier than a
    const rows: string[] = [];
    for (let d = 0; d < 30; d++) rows.push(`a,${new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10)},${10 + (d % 7)}`);
    for (let d = 0; d < 28; d++) rows.push(`b,${new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10)} 00:00:00,${5 + (d % 7)}`);
    await input(rows.reverse());

    // Act
    const summary = await forecastCsv({
      inputPath: join(dir, 'in.csv'),
      frequency: 'D',
      horizon: 3,
      algorithm: 'NPTS',
      forecastTypes: ['0.1', '0.5', '0.9', 'mean'],
      outputPath: join(dir, 'out.csv'),
      workers: 1,
    });
    const lines = (await readFile(join(dir, 'out.csv'), 'utf8')).trim().split('\n');

    // Assess
    expect(summary).toMatchObject({ items: 2, rows: 6 });
    expect(lines[0]).toBe('item_id,date,p10,p50,p90,mean');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      'a,2024-01-31T00:00:00Z',
      'a,2024-02-01T00:00:00Z',
      'a,2024-02-02T00:00:00Z',
      'b,2024-01-29T00:00:00Z',
      'b,2024-01-30T00:00:00Z',
      'b,2024-01-31T00:00:00Z',
    ]);
    for (const line of lines.slice(1)) expect(line.split(',').slice(2).every((v) => Number.isFinite(Number(v)) && v !== '')).toBe(true);
  });

  it.each(['ETS', 'ARIMA', 'PROPHET', 'AUTO', 'THETA', 'SEASONAL_NAIVE'] as const)('forecasts with %s', async (algorithm) => {
    // Prepare
    const rows: string[] = [];
    for (let d = 0; d < 42; d++) rows.push(`x,${new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10)},${20 + (d % 7) * 3 + (d % 3)}`);
    await input(rows);

    // Act
    const summary = await forecastCsv({ inputPath: join(dir, 'in.csv'), frequency: 'D', horizon: 7, algorithm, outputPath: join(dir, 'out.csv'), workers: 1 });
    const lines = (await readFile(join(dir, 'out.csv'), 'utf8')).trim().split('\n');

    // Assess
    expect(summary).toMatchObject({ items: 1, rows: 7, fallbacks: 0 });
    expect(lines[0]).toBe('item_id,date,p10,p50,p90');
    for (const line of lines.slice(1)) {
      const [p10, p50, p90] = line.split(',').slice(2).map(Number);
      expect(p10!).toBeLessThanOrEqual(p50!);
      expect(p50!).toBeLessThanOrEqual(p90!);
    }
  });

  it('throws naming the line and item when a target value is not a number', async () => {
    // Prepare
    await input(['a,2024-01-01,1', 'b,2024-01-01,x']);

    // Act
    const run = forecastCsv({ inputPath: join(dir, 'in.csv'), frequency: 'D', horizon: 2, algorithm: 'NPTS', outputPath: join(dir, 'o.csv'), workers: 1 });

    // Assess
    await expect(run).rejects.toThrow(/line 3 \(item "b"\): target_value "x" is not a number/);
  });

  it('throws naming both lines when an item repeats a timestamp', async () => {
    // Prepare
    await input(['a,2024-01-01,1', 'a,2024-01-02,1', 'a,2024-01-01,3']);

    // Act
    const run = forecastCsv({ inputPath: join(dir, 'in.csv'), frequency: 'D', horizon: 2, algorithm: 'NPTS', outputPath: join(dir, 'o.csv'), workers: 1 });

    // Assess
    await expect(run).rejects.toThrow(/line 4 \(item "a"\): timestamp 2024-01-01 already appears on line 2/);
  });

  it('accepts a byte-order mark and any column order in the header', async () => {
    // Prepare
    await writeFile(join(dir, 'in.csv'), '\uFEFFtarget_value,item_id,timestamp\n1,a,2024-01-01\n2,a,2024-01-02\n3,a,2024-01-03\n');

    // Act
    const summary = await forecastCsv({ inputPath: join(dir, 'in.csv'), frequency: 'D', horizon: 1, algorithm: 'NPTS', outputPath: join(dir, 'o.csv'), workers: 1 });

    // Assess
    expect(summary).toMatchObject({ items: 1, rows: 1 });
    expect((await readFile(join(dir, 'o.csv'), 'utf8')).split('\n')[1]).toMatch(/^a,2024-01-04T00:00:00Z,/);
  });

  it('throws when the header lacks target_value', async () => {
    // Prepare
    await writeFile(join(dir, 'in.csv'), 'item_id,timestamp,value\na,2024-01-01,1\n');

    // Act
    const run = forecastCsv({ inputPath: join(dir, 'in.csv'), frequency: 'D', horizon: 2, algorithm: 'ETS', outputPath: join(dir, 'o.csv'), workers: 1 });

    // Assess
    await expect(run).rejects.toThrow(/header must name item_id, timestamp and target_value/);
  });
});
