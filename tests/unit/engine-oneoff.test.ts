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

  it('trains a global model (CNNQR) once over all the items, whatever their ends, and forecasts each after its own end, deterministically', async () => {
    // Prepare: three weekly-patterned items, rows shuffled; c ends three days before a and b
    const rows: string[] = [];
    const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
    for (const [item, days, level] of [['a', 70, 10], ['b', 70, 40], ['c', 67, 100]] as const) {
      for (let d = 0; d < days; d++) rows.push(`${item},${day(d)},${level * (1 + 0.3 * ((d % 7) - 3) / 3) + (d % 3)}`);
    }
    await input(rows.reverse());
    const run = async (output: string) => {
      const progress: [number, number][] = [];
      const summary = await forecastCsv({
        inputPath: join(dir, 'in.csv'),
        frequency: 'D',
        horizon: 4,
        algorithm: 'CNNQR',
        outputPath: join(dir, output),
        workers: 1,
        onProgress: (done, total) => progress.push([done, total]),
      });
      return { summary, progress, text: await readFile(join(dir, output), 'utf8') };
    };

    // Act
    const first = await run('out1.csv');
    const second = await run('out2.csv');

    // Assess: one fit-global task (progress jumps from none to all three items), one network's description
    expect(first.progress).toEqual([
      [0, 3],
      [3, 3],
    ]);
    expect(first.summary).toMatchObject({ items: 3, rows: 12, fallbacks: 0 });
    expect(Object.keys(first.summary.algorithms)).toHaveLength(1);
    expect(Object.keys(first.summary.algorithms)[0]).toMatch(/^CNN-QR\(/);
    const lines = first.text.trim().split('\n');
    expect(lines[0]).toBe('item_id,date,p10,p50,p90');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      ...['a', 'b'].flatMap((item) => [70, 71, 72, 73].map((d) => `${item},${day(d)}T00:00:00Z`)),
      ...[67, 68, 69, 70].map((d) => `c,${day(d)}T00:00:00Z`),
    ]);
    for (const line of lines.slice(1)) {
      const [p10, p50, p90] = line.split(',').slice(2).map(Number);
      expect([p10, p50, p90].every((v) => Number.isFinite(v))).toBe(true);
      expect(p10!).toBeLessThanOrEqual(p50!);
      expect(p50!).toBeLessThanOrEqual(p90!);
    }
    // The items' levels (10, 40, 100) reach the forecasts: the network is not ignoring its input
    const median = (item: string) => lines.filter((l) => l.startsWith(`${item},`)).map((l) => Number(l.split(',')[3]));
    expect(Math.max(...median('a'))).toBeLessThan(Math.min(...median('c')));
    expect(second.text).toBe(first.text);
  }, 120_000);

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
