/**
 * One-off forecasts for the CLI (`forecast-pipeline forecast …`): a CSV with header
 * `item_id,timestamp,target_value` (rows in any order; dates or date-times) in, Forecast's export
 * CSV format out, `horizon` periods after each item's last timestamp.
 *
 * Values are aggregated (sum) onto the frequency's periods; missing periods inside an item are filled
 * with zero, as Forecast's default middlefill. AUTO is the auto predictor's per-series choice
 * (engine/models/registry.ts).
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InvalidInput } from '../shared/errors';
import { parseFrequency } from '../shared/frequency';
import { parseTimestamp } from '../shared/time';
import { exportHeader, exportLines, type ForecastItem } from './export-files';
import { splitCsvLine } from './csv-import';
import { modelSpec } from './models/registry';
import { WorkerPool } from './pool';
import { buildSeries, type ImportedData, type RegularSeries, type SeriesSet } from './series';
import { forecastSeriesSet } from './training';
import { checkForecastTypes } from './validation';

/** The CLI's `--algorithm` values: the Forecast algorithms, AUTO, and the baselines AUTO combines. */
export const ONE_OFF_ALGORITHMS = ['ETS', 'ARIMA', 'NPTS', 'PROPHET', 'AUTO', 'THETA', 'SEASONAL_NAIVE'] as const;
export type OneOffAlgorithm = (typeof ONE_OFF_ALGORITHMS)[number];

export interface ForecastCsvOptions {
  readonly inputPath: string;
  readonly frequency: string;
  readonly horizon: number;
  readonly algorithm: OneOffAlgorithm;
  readonly forecastTypes?: readonly string[];
  readonly outputPath: string;
  /** Worker threads (default: one per core). */
  readonly workers?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ForecastCsvSummary {
  readonly items: number;
  readonly rows: number;
  readonly seconds: number;
  /** Series that fell back to a simpler model. */
  readonly fallbacks: number;
  /** Models fitted (e.g. `ETS(A,N,A)`), with the number of series each. */
  readonly algorithms: Record<string, number>;
}

/** Reads the input CSV into the engine's imported form; errors name the line and item. */
export async function readForecastInput(inputPath: string): Promise<ImportedData> {
  const lines = createInterface({ input: createReadStream(inputPath), crlfDelay: Infinity });
  let columns: number[] | undefined;
  const items = new Map<string, { t: number[]; v: number[]; lines: Map<number, number> }>();
  let lineNumber = 0;
  let rowCount = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    const fields = splitCsvLine(columns ? line : line.replace(/^\uFEFF/, '')).map((f) => f.trim());
    if (!columns) {
      const header = fields.map((f) => f.toLowerCase());
      columns = ['item_id', 'timestamp', 'target_value'].map((name) => header.indexOf(name));
      if (columns.some((c) => c < 0)) {
        throw new InvalidInput(`${inputPath} line 1: the header must name item_id, timestamp and target_value, got "${line}"`);
      }
      continue;
    }
    const [item, stamp, text] = columns.map((c) => fields[c] ?? '');
    const where = `${inputPath} line ${lineNumber} (item "${item}")`;
    if (!item) throw new InvalidInput(`${inputPath} line ${lineNumber}: empty item_id`);
    const t = parseTimestamp(stamp!, where).getTime();
    const value = text === '' ? NaN : Number(text);
    if (text !== '' && !Number.isFinite(value)) throw new InvalidInput(`${where}: target_value "${text}" is not a number`);
    let entry = items.get(item!);
    if (!entry) items.set(item!, (entry = { t: [], v: [], lines: new Map() }));
    const earlier = entry.lines.get(t);
    if (earlier !== undefined) throw new InvalidInput(`${where}: timestamp ${stamp} already appears on line ${earlier}`);
    entry.lines.set(t, lineNumber);
    entry.t.push(t);
    entry.v.push(value);
    rowCount++;
  }
  if (!columns) throw new InvalidInput(`${inputPath} is empty (expected a header item_id,timestamp,target_value)`);
  if (!rowCount) throw new InvalidInput(`${inputPath} has a header but no rows`);
  return {
    keyColumns: ['item_id'],
    numericColumns: ['target_value'],
    rowCount,
    items: [...items].map(([id, e]) => ({ key: [id], t: Float64Array.from(e.t), values: { target_value: Float64Array.from(e.v) } })),
  };
}

/** Forecasts every item of the input CSV and writes the export-format CSV; returns a summary. */
export async function forecastCsv(options: ForecastCsvOptions): Promise<ForecastCsvSummary> {
  const started = performance.now();
  const frequency = parseFrequency(options.frequency);
  if (!Number.isInteger(options.horizon) || options.horizon < 1 || options.horizon > 500) {
    throw new InvalidInput(`horizon must be an integer from 1 to 500, got ${options.horizon}`);
  }
  if (!ONE_OFF_ALGORITHMS.includes(options.algorithm)) {
    throw new InvalidInput(`algorithm must be one of ${ONE_OFF_ALGORITHMS.join(', ')}, got "${options.algorithm}"`);
  }
  let types: string[];
  try {
    types = checkForecastTypes(options.forecastTypes);
  } catch (error) {
    throw new InvalidInput((error as Error).message);
  }
  modelSpec(options.algorithm, {}, { horizon: options.horizon }); // NotImplemented for an algorithm not wired in
  const data = await readForecastInput(options.inputPath);
  // Each item ends at its own last timestamp: group the items by their last period.
  const byEnd = new Map<number, RegularSeries[]>();
  for (const item of data.items) {
    const set = buildSeries({ target: { ...data, items: [item] }, frequency });
    const series = set.series[0]!;
    const endMs = set.end.getTime();
    byEnd.set(endMs, [...(byEnd.get(endMs) ?? []), series]);
  }
  const pool = new WorkerPool(options.workers);
  const items: ForecastItem[] = [];
  let fallbacks = 0;
  let done = 0;
  const algorithms: Record<string, number> = {};
  try {
    for (const [endMs, series] of byEnd) {
      const length = Math.max(...series.map((s) => s.values.length));
      const set: SeriesSet = { frequency, series, end: new Date(endMs), length };
      const forecast = await forecastSeriesSet(
        set,
        series.map(() => options.algorithm),
        {},
        options.horizon,
        types,
        ['item_id'],
        (task) => pool.run(task),
        pool.size,
        (d) => options.onProgress?.(done + d, data.items.length),
      );
      done += series.length;
      fallbacks += forecast.fallbacks;
      for (const [model, count] of Object.entries(forecast.models)) algorithms[model] = (algorithms[model] ?? 0) + count;
      items.push(...forecast.predictions.items);
    }
  } finally {
    await pool.close();
  }
  items.sort((a, b) => (a.key[0]! < b.key[0]! ? -1 : a.key[0]! > b.key[0]! ? 1 : 0));
  const predictions = { types, keyColumns: ['item_id'], frequency, items };
  const lines = [...exportLines(predictions)];
  await writeFile(options.outputPath, `${exportHeader(predictions)}\n${lines.join('\n')}\n`);
  return { items: items.length, rows: lines.length, seconds: (performance.now() - started) / 1000, fallbacks, algorithms };
}
