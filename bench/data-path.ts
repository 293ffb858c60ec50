/**
 * Data-path benchmark (issue 3): target rows DuckDB → clean (per-item ffill, log1p) → headerless CSV
 * in the folder store, next to a plain DuckDB `COPY (same query) TO 'file.csv'`; and the way back:
 * an export's part files → notify (expm1, tidy rows) → DuckDB in one transaction. Each measurement
 * runs in its own process, so its peak memory (maxRSS) is its own; two sizes show whether memory
 * stays flat in the row count.
 *
 *   npm run bench:data [-- --rows 1000000] [--repeat 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FolderObjectStore } from '../shared/adapters/folder-store';
import { openDuckDbWarehouse } from '../shared/adapters/duckdb-warehouse';
import { parseFrequency } from '../shared/frequency';
import { extractToCsv } from '../shared/parse/extract';
import { ensureInputTables } from '../shared/warehouse/layout';
import { publishResults } from '../shared/notify';
import { pipelineStateSchema } from '../shared/state';
import type { Dependencies } from '../shared/runtime';
import type { ForecastPort, RejectedMessages, WorkflowStarter } from '../shared/ports';
import { bindQuery, defaultQueries } from '../shared/warehouse/queries';

const DAYS = 1000;
const DATE_CREATE = '20300101';

interface Measurement {
  phase: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  /** JS heap only: the pipeline's own memory, without DuckDB's native buffers (the sort). */
  peakHeapMb: number;
  maxRssMb: number;
  /** CPU seconds (user + system, all threads) of the phase. */
  cpuSeconds: number;
  bytes: number;
}

function dataName(rows: number): string {
  return `bench_${rows}`;
}

/** Samples RSS every 20 ms while `work` runs. */
async function measure(phase: string, rows: number, work: () => Promise<number>): Promise<Measurement> {
  let peak = process.memoryUsage().rss;
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 20);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const bytes = await work();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    phase,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    peakRssMb: peak / 2 ** 20,
    peakHeapMb: heap / 2 ** 20,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    cpuSeconds: (used.user + used.system) / 1e6,
    bytes,
  };
}

async function seed(db: string, sizes: number[]): Promise<void> {
  const w = await openDuckDbWarehouse({ path: db });
  await ensureInputTables(w);
  for (const rows of sizes) {
    const items = Math.ceil(rows / DAYS);
    // Values from -5 to 95: about 5 % negatives exercise the forward fill.
    await w.execute(
      `INSERT INTO FORECAST_INPUT_TARGET
       SELECT ?, 'item_' || lpad(CAST(i AS VARCHAR), 6, '0'), TIMESTAMP '2025-01-01' + d * INTERVAL 1 DAY, round(random() * 100 - 5, 2)
       FROM range(?) t(i), range(?) s(d)`,
      [dataName(rows), items, DAYS],
    );
  }
  await w.close();
}

const FORECAST_TYPES = ['0.5', '0.8', '0.9', '0.95', '0.99'];
const HORIZON = 100;

/** A Forecast-style export of `values` tidy values (items × 100 days × 5 types), in 4 part files. */
async function writeExport(store: FolderObjectStore, folder: string, job: string, values: number): Promise<void> {
  const items = Math.ceil(values / (HORIZON * FORECAST_TYPES.length));
  const parts = 4;
  const perPart = Math.ceil(items / parts);
  for (let p = 0; p < parts; p++) {
    async function* body(): AsyncIterable<string> {
      yield `item_id,date,${FORECAST_TYPES.map((t) => `p${Math.round(Number(t) * 100)}`).join(',')}\n`;
      for (let i = p * perPart; i < Math.min(items, (p + 1) * perPart); i++) {
        let chunk = '';
        for (let d = 0; d < HORIZON; d++) {
          const date = new Date(Date.UTC(2030, 0, 1) + d * 86_400_000).toISOString().replace('.000Z', 'Z');
          chunk += `item_${i},${date},${FORECAST_TYPES.map((t) => Math.log1p(10 + Number(t) * d)).join(',')}\n`;
        }
        yield chunk;
      }
    }
    await store.put(`${folder}${job}_2030-01-01T00-00-00Z_part${p}.csv`, body());
  }
}

/** Notify on one model's export of `rows` values: part files → expm1 → FORECAST_RESULTS in one transaction. */
async function notifyPhase(db: string, out: string, rows: number): Promise<Measurement> {
  const store = new FolderObjectStore(out);
  const w = await openDuckDbWarehouse({ path: db });
  const uri = 's3://bench/notify/20300101/exports/bench_ETS_1_forecast/';
  await writeExport(store, uri, 'bench_ETS_1_forecast_20300101', rows);
  const spec = { name: 'bench_ETS_1', model: 'ETS', api: 'legacy', performAutoML: false, performHPO: false, backtestWindows: 1, backtestWindowOffset: HORIZON, forecastHorizon: HORIZON, forecastTypes: FORECAST_TYPES, targetFilling: {} };
  const state = pipelineStateSchema.parse({
    run: { runId: 'bench_2030_01_01', dataName: 'bench', dateCreate: '20300101', bucket: 'bench', performDelete: true, transform: 'log1p', frequency: 'D', forecastHorizon: HORIZON, timestampFormat: 'yyyy-MM-dd' },
    datasetGroup: { name: 'bench_group', domain: 'CUSTOM' },
    datasets: [{ kind: 'TARGET', name: 'bench_TARGET', datasetType: 'TARGET_TIME_SERIES', domain: 'CUSTOM', dataFrequency: 'D', schema: { Attributes: [{ AttributeName: 'timestamp', AttributeType: 'timestamp' }, { AttributeName: 'item_id', AttributeType: 'string' }, { AttributeName: 'target_value', AttributeType: 'float' }] }, s3Uri: 's3://bench/notify/target.csv', importJobName: 'bench_import', timestampFormat: 'yyyy-MM-dd' }],
    predictors: [spec],
    forecasts: [{ name: 'bench_ETS_1_forecast', predictorName: 'bench_ETS_1', model: 'ETS', forecastTypes: FORECAST_TYPES, exportJobName: 'bench_ETS_1_forecast_20300101', exportS3Uri: uri }],
    results: {
      predictors: [{ name: 'bench_ETS_1', model: 'ETS', arn: 'arn:p', status: 'ACTIVE' }],
      forecasts: [{ name: 'bench_ETS_1_forecast', predictorName: 'bench_ETS_1', model: 'ETS', arn: 'arn:f', exportJobArn: 'arn:e', exportS3Uri: uri }],
    },
  });
  const deps: Dependencies = { forecast: {} as ForecastPort, store, warehouse: async () => w, workflow: {} as WorkflowStarter, rejections: {} as RejectedMessages, settings: { bucket: 'bench', forecastRoleArn: 'arn:r' } };
  try {
    return await measure('export parts → notify → DuckDB', rows, async () => {
      const result = await publishResults(state, deps);
      if (result.forecastRows < rows) throw new Error(`expected ${rows} rows, wrote ${result.forecastRows}`);
      return 0;
    });
  } finally {
    await w.close();
  }
}

type Phase = 'path' | 'copy' | 'copy1' | 'notify';

async function phase(kind: Phase, db: string, out: string, rows: number): Promise<Measurement> {
  if (kind === 'notify') return notifyPhase(db, out, rows);
  const w = await openDuckDbWarehouse({ path: db });
  const { sql, binds } = bindQuery(defaultQueries().target, { dataName: dataName(rows), dateCreate: DATE_CREATE, runId: 'bench', frequency: 'D' });
  try {
    if (kind === 'path') {
      const store = new FolderObjectStore(out);
      return await measure('DuckDB → clean → CSV (pipeline)', rows, async () => {
        const extracted = await extractToCsv(w, store, {
          kind: 'TARGET',
          sql,
          binds,
          uri: 's3://bench/data/target.csv',
          frequency: parseFrequency('D'),
          timestampFormat: 'yyyy-MM-dd',
          transform: 'log1p',
        });
        if (extracted?.stats.rows !== rows) throw new Error(`expected ${rows} rows, wrote ${extracted?.stats.rows}`);
        return (await stat(join(out, 'bench', 'data', 'target.csv'))).size;
      });
    }
    // COPY takes no prepared binds; the DataName is a fixed benchmark literal here, not user input.
    const literal = sql.replace('?', `'${dataName(rows)}'`).replace('?', `'2030-01-01 00:00:00'`);
    await mkdir(out, { recursive: true });
    const file = join(out, 'copy.csv');
    // copy1: DuckDB on one thread, like the pipeline's JavaScript (COPY otherwise uses every core).
    if (kind === 'copy1') await w.execute('SET threads = 1');
    return await measure(kind === 'copy1' ? 'DuckDB COPY, 1 thread' : 'DuckDB COPY (query) TO csv', rows, async () => {
      await w.execute(`COPY (${literal}) TO '${file}' (HEADER false)`);
      return (await stat(file)).size;
    });
  } finally {
    await w.close();
  }
}

function child(args: string[]): Measurement {
  const output = execFileSync(process.execPath, [resolve('bin/run-ts.mjs'), resolve('bench/data-path.ts'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(output.trim().split('\n').at(-1)!) as Measurement;
}

async function main(argv: string[]): Promise<void> {
  const at = (flag: string) => argv[argv.indexOf(flag) + 1];
  if (argv[0] === '--phase') {
    const m = await phase(at('--phase') as Phase, at('--db')!, at('--out')!, Number(at('--rows')));
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const large = argv.includes('--rows') ? Number(at('--rows')) : 1_000_000;
  // Best of N runs per phase: the machine is shared, and the fastest run is the least disturbed one.
  const repeat = argv.includes('--repeat') ? Number(at('--repeat')) : 3;
  const best = (runs: Measurement[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const sizes = [Math.round(large / 4), large];
  const dir = await mkdtemp(join(tmpdir(), 'bench-data-'));
  try {
    const db = join(dir, 'bench.duckdb');
    const seedStart = performance.now();
    await seed(db, sizes);
    console.log(`seeded ${sizes.join(' + ')} rows in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (${DAYS} days per item)`);
    const results: Measurement[] = [];
    for (const rows of sizes) {
      for (const kind of ['copy', 'copy1', 'path'] as const) {
        const runs: Measurement[] = [];
        for (let r = 0; r < repeat; r++) {
          const out = join(dir, `${kind}-${rows}-${r}`);
          runs.push(child(['--phase', kind, '--db', db, '--out', out, '--rows', String(rows)]));
          await rm(out, { recursive: true, force: true });
        }
        results.push(best(runs));
      }
    }
    for (const rows of sizes) {
      const runs: Measurement[] = [];
      for (let r = 0; r < repeat; r++) {
        runs.push(child(['--phase', 'notify', '--db', join(dir, `notify-${rows}-${r}.duckdb`), '--out', join(dir, `notify-${rows}-${r}`), '--rows', String(rows)]));
        await rm(join(dir, `notify-${rows}-${r}`), { recursive: true, force: true });
      }
      results.push(best(runs));
    }
    console.log(`\nbest of ${repeat} runs per phase, each in its own process`);
    console.log('phase                              rows      seconds   CPU s   rows/s      peak RSS MB  heap MB  maxRSS MB  CSV MB');
    for (const m of results) {
      console.log(
        `${m.phase.padEnd(34)} ${String(m.rows).padStart(9)} ${m.seconds.toFixed(2).padStart(9)} ${m.cpuSeconds.toFixed(2).padStart(7)} ${Math.round(m.rowsPerSecond).toLocaleString('en').padStart(11)} ${m.peakRssMb.toFixed(0).padStart(12)} ${m.peakHeapMb.toFixed(0).padStart(8)} ${m.maxRssMb.toFixed(0).padStart(10)} ${(m.bytes / 2 ** 20).toFixed(1).padStart(7)}`,
      );
    }
    for (const rows of sizes) {
      const copy = results.find((m) => m.rows === rows && m.phase.includes('COPY (query)'))!;
      const copy1 = results.find((m) => m.rows === rows && m.phase.includes('1 thread'))!;
      const path = results.find((m) => m.rows === rows && m.phase.includes('pipeline'))!;
      console.log(
        `${rows} rows: pipeline takes ${(path.seconds / copy.seconds).toFixed(2)}× the COPY time (goal ≤ 3×), ` +
          `${(path.seconds / copy1.seconds).toFixed(2)}× a one-thread COPY, ${(path.cpuSeconds / copy.cpuSeconds).toFixed(2)}× its CPU time`,
      );
    }
    const [small, big] = sizes.map((rows) => results.find((m) => m.rows === rows && m.phase.includes('pipeline'))!);
    const [ns, nb] = sizes.map((rows) => results.find((m) => m.rows === rows && m.phase.includes('notify'))!);
    console.log(`notify peak RSS: ${ns!.maxRssMb.toFixed(0)} MB at ${ns!.rows} values, ${nb!.maxRssMb.toFixed(0)} MB at ${nb!.rows}; JS heap ${ns!.peakHeapMb.toFixed(0)} MB vs ${nb!.peakHeapMb.toFixed(0)} MB`);
    console.log(`pipeline peak RSS: ${small!.maxRssMb.toFixed(0)} MB at ${small!.rows} rows, ${big!.maxRssMb.toFixed(0)} MB at ${big!.rows} rows; JS heap ${small!.peakHeapMb.toFixed(0)} MB vs ${big!.peakHeapMb.toFixed(0)} MB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
