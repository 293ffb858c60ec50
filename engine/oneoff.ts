/**
 * One-off forecasts for the CLI (`forecast-pipeline forecast …`): a CSV with header
 * `item_id,timestamp,target_value` (rows in any order; dates or date-times) in, Forecast's export
 * CSV format out, `horizon` periods after each item's last timestamp.
 *
 * Values are aggregated (sum) onto the frequency's periods; missing periods inside an item are filled
 * with zero, as Forecast's default middlefill. AUTO is the auto predictor's per-series choice
 * (engine/models/registry.ts). CNNQR and DEEPARP are global models: one network trained on all the
 * items at once (one `fit-global` task, as the predictor's forecast trains them), with their default
 * TrainingParameters and no PerformHPO.
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InvalidInput } from '../shared/errors';
import { parseFrequency } from '../shared/frequency';
import { parseTimestamp } from '../shared/time';
import { exportHeader, exportLines, type ForecastItem } from './export-files';
import { splitCsvLine } from './csv-import';
import { globalModelSpec, isGlobalAlgorithm, modelSpec } from './models/registry';
import { WorkerPool } from './pool';
import { buildSeries, type ImportedData } from './series';
import { forecastSeriesSet } from './training';
import { checkForecastTypes } from './validation';

/** The CLI's `--algorithm` values: the Forecast algorithms, AUTO, and the baselines AUTO combines. */
export const ONE_OFF_ALGORITHMS = ['ETS', 'ARIMA', 'NPTS', 'PROPHET', 'AUTO', 'THETA', 'SEASONAL_NAIVE', 'CNNQR', 'DEEPARP'] as const;
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
  // NotImplemented for an algorithm not wired in
  if (isGlobalAlgorithm(options.algorithm)) globalModelSpec(options.algorithm);
  else modelSpec(options.algorithm, {}, { horizon: options.horizon });
  const data = await readForecastInput(options.inputPath);
  // Each item is built alone so that it ends at its own last timestamp (no backfill to a common end).
  const series = data.items.map((item) => buildSeries({ target: { ...data, items: [item] }, frequency }).series[0]!);
  const pool = new WorkerPool(options.workers);
  let forecast: Awaited<ReturnType<typeof forecastSeriesSet>>;
  try {
    forecast = await forecastSeriesSet(
      { frequency, series },
      series.map(() => options.algorithm),
      {},
      options.horizon,
      types,
      ['item_id'],
      (task) => pool.run(task),
      pool.size,
      (done) => options.onProgress?.(done, series.length),
    );
  } finally {
    await pool.close();
  }
  const items = [...forecast.predictions.items];
  items.sort((a, b) => (a.key[0]! < b.key[0]! ? -1 : a.key[0]! > b.key[0]! ? 1 : 0));
  const predictions = { types, keyColumns: ['item_id'], frequency, items };
  const lines = [...exportLines(predictions)];
  await writeFile(options.outputPath, `${exportHeader(predictions)}\n${lines.join('\n')}\n`);
  return { items: items.length, rows: lines.length, seconds: (performance.now() - started) / 1000, fallbacks: forecast.fallbacks, algorithms: forecast.models };
}
