/**
 * M4 benchmark of the model specs called directly — a bench-only configuration (`npm run
 * bench:m4-direct`): season length = the M4 period, not the product's (weekly 1 here, 52 in the
 * product), and `auto` is the earlier single-model choice, not the product's AUTO. The product's
 * own path and defaults on M4 are `npm run bench:m4` (bench/accuracy.ts on the M4 sets).
 * Protocol: ../shared/reference/accuracy-anchors.md.
 *
 *   node bin/run-ts.mjs bench/m4.ts [--set weekly|hourly] [--models ets,theta,snaive,stlets,auto,arima,npts,prophet]
 *        [--sample ids-file] [--limit N] [--workers N] [--data dir]
 *
 * Each series: the last `horizon` points held out, the models fitted on the rest with the
 * set's M4 period as season length (weekly 1 — R's ets ignores m = 52 anyway, so the R
 * rows are non-seasonal too — hourly 24), q0.1/q0.9 = the 80 % interval. Series are spread
 * over child processes (default: one per core). "total s" adds up the per-series fit +
 * predict CPU times of the process (one-core equivalent, like the R rows; CPU rather than
 * elapsed time because the machine is shared and elapsed times swing with other work);
 * the heading gives the elapsed wall time of the whole run.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coverage, mase, smape, wape, weightedQuantileLoss, type ScoredSeries } from '../engine/metrics';
import type { ModelSpec } from '../engine/models/types';
import { loadM4Series, m4DataDir, REFERENCE } from './m4-data';

const HERE = dirname(fileURLToPath(import.meta.url));
const QUANTILES = [0.1, 0.5, 0.9];

interface SetInfo {
  readonly name: string;
  readonly file: string;
  readonly horizon: number;
  readonly period: number;
}
interface Series {
  readonly id: string;
  readonly values: Float64Array;
  /** Period starts (UTC), for the calendar-aware models (NPTS, Prophet). */
  readonly timestamps: readonly string[];
}
interface ForecastResult {
  readonly id: string;
  readonly model: string;
  readonly description: string;
  readonly seconds: number;
  readonly mean: number[];
  readonly quantiles: number[][];
  readonly error?: string;
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = 'true';
    else {
      out[a.slice(2)] = next;
      i++;
    }
  }
  return out;
}

function loadSet(dataDir: string, set: SetInfo): Series[] {
  return loadM4Series(resolve(dataDir, set.file));
}

/** Builds the model named on the command line; other helpers' models are loaded on demand. */
async function buildModel(name: string, horizon: number): Promise<ModelSpec | string> {
  const { autoEts } = await import('../engine/models/ets');
  const { naive, seasonalNaive, stlEts, theta } = await import('../engine/models/baselines');
  const { autoSelect } = await import('../engine/models/auto');
  const optional = async (file: string, exportName: string): Promise<ModelSpec | string> => {
    try {
      const mod = (await import(/* @vite-ignore */ `../engine/models/${file}`)) as Record<string, unknown>;
      const factory = mod[exportName];
      if (typeof factory !== 'function') return `engine/models/${file}.ts has no ${exportName}() yet`;
      return (factory as () => ModelSpec)();
    } catch (error) {
      return `engine/models/${file}.ts not usable: ${(error as Error).message}`;
    }
  };
  switch (name) {
    case 'ets':
      return autoEts();
    case 'theta':
      return theta();
    case 'snaive':
      return seasonalNaive();
    case 'naive':
      return naive();
    case 'stlets':
      return stlEts();
    case 'auto':
      return autoSelect([autoEts(), theta(), seasonalNaive(), stlEts()], { horizon, combine: 'best' });
    case 'auto+arima': {
      const arima = await optional('arima', 'autoArima');
      if (typeof arima === 'string') return arima;
      return autoSelect([autoEts(), theta(), seasonalNaive(), stlEts(), arima], { horizon, combine: 'best' });
    }
    case 'auto-w2':
      return autoSelect([autoEts(), theta(), seasonalNaive(), stlEts()], { horizon, combine: 'best', windows: 2 });
    case 'auto-median':
      return autoSelect([autoEts(), theta(), seasonalNaive(), stlEts()], { horizon, combine: 'median', top: 3 });
    case 'arima':
      return optional('arima', 'autoArima');
    case 'npts':
      return optional('npts', 'npts');
    case 'prophet':
      return optional('prophet', 'prophet');
    default:
      return `unknown model "${name}"`;
  }
}

/** Worker: fits its share of series for every model and sends the forecasts back. */
async function runWorker(args: Record<string, string>, set: SetInfo, series: Series[]): Promise<void> {
  const models = args.models!.split(',');
  const worker = Number(args.worker);
  const workers = Number(args.workers);
  const results: ForecastResult[] = [];
  for (const name of models) {
    const spec = await buildModel(name, set.horizon);
    if (typeof spec === 'string') continue;
    for (let i = worker; i < series.length; i += workers) {
      const s = series[i]!;
      const train = s.values.subarray(0, s.values.length - set.horizon);
      const timestamps = s.timestamps.slice(0, train.length).map((t) => new Date(t.length === 10 ? t : `${t}Z`));
      const c0 = process.cpuUsage();
      const cpuSeconds = () => {
        const d = process.cpuUsage(c0);
        return (d.user + d.system) / 1e6;
      };
      try {
        const fitted = await spec.fit({ values: train, seasonLength: set.period, timestamps });
        const p = fitted.predict(set.horizon, QUANTILES);
        const seconds = cpuSeconds();
        results.push({
          id: s.id, model: name, description: fitted.description, seconds, mean: [...p.mean],
          quantiles: QUANTILES.map((q) => [...p.quantiles.get(q)!]),
        });
      } catch (error) {
        results.push({ id: s.id, model: name, description: '', seconds: cpuSeconds(), mean: [], quantiles: [], error: String(error) });
      }
    }
  }
  process.send!(results);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : 0.5 * (s[mid - 1]! + s[mid]!);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dataDir = m4DataDir(args.data);
  const meta = JSON.parse(readFileSync(resolve(dataDir, 'meta.json'), 'utf8')) as { sets: SetInfo[] };
  const setNames = args.set ? [args.set] : ['weekly', 'hourly'];
  const modelNames = (args.models ?? 'ets,theta,snaive,stlets,auto').split(',');
  for (const setName of setNames) {
    const set = meta.sets.find((s) => s.name === setName);
    if (!set) throw new Error(`unknown set "${setName}" (have ${meta.sets.map((s) => s.name).join(', ')})`);
    let series = loadSet(dataDir, set);
    if (args.sample) {
      const ids = new Set(readFileSync(resolve(args.sample), 'utf8').split(/\s+/).filter(Boolean));
      series = series.filter((s) => ids.has(s.id));
    }
    if (args.limit) series = series.slice(0, Number(args.limit));
    if (args.worker !== undefined) {
      await runWorker(args, set, series);
      return;
    }
    for (const name of modelNames) {
      const spec = await buildModel(name, set.horizon);
      if (typeof spec === 'string') console.log(`note: skipping ${name}: ${spec}`);
    }
    const workers = Number(args.workers ?? Math.max(1, Math.min(2, availableParallelism())));
    const wall0 = performance.now();
    const shares = await Promise.all(
      Array.from({ length: workers }, (_, worker) =>
        new Promise<ForecastResult[]>((done, fail) => {
          const child = fork(resolve(HERE, '../bin/run-ts.mjs'), [
            fileURLToPath(import.meta.url), ...process.argv.slice(2).filter((a, i, all) => a !== '--set' && all[i - 1] !== '--set' && a !== '--models' && all[i - 1] !== '--models'),
            '--set', setName, '--models', modelNames.join(','), '--worker', String(worker), '--workers', String(workers),
          ]);
          child.once('message', (m) => done(m as ForecastResult[]));
          child.once('exit', (code) => (code === 0 ? undefined : fail(new Error(`worker ${worker} exited with ${code}`))));
        }),
      ),
    );
    const wall = (performance.now() - wall0) / 1000;
    const results = shares.flat();
    const byId = new Map(series.map((s) => [s.id, s]));
    const label = args.sample && setName === 'hourly' ? 'hourly_sample100' : setName;
    console.log(`\n## M4 ${setName}, bench-only configuration (specs called directly, m = M4 period) — ${series.length} series, h = ${set.horizon}, m = ${set.period} (wall ${wall.toFixed(1)} s on ${workers} processes)`);
    console.log('| method | MASE | sMAPE | WAPE | wQL_mean | cov80 | total s | median s/series |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const name of modelNames) {
      const rows = results.filter((r) => r.model === name);
      if (rows.length === 0) continue;
      const failed = rows.filter((r) => r.error);
      const scored: ScoredSeries[] = rows
        .filter((r) => !r.error)
        .map((r) => {
          const s = byId.get(r.id)!;
          const cut = s.values.length - set.horizon;
          return {
            actual: s.values.subarray(cut),
            mean: Float64Array.from(r.mean),
            quantiles: new Map(QUANTILES.map((q, i) => [q, Float64Array.from(r.quantiles[i]!)])),
            history: s.values.subarray(0, cut),
          };
        });
      const wql = QUANTILES.reduce((a, q) => a + weightedQuantileLoss(scored, q), 0) / QUANTILES.length;
      const seconds = rows.map((r) => r.seconds);
      console.log(
        `| ${name}${failed.length ? ` (${failed.length} failed)` : ''} | ${mase(scored, set.period).toFixed(3)} | ${smape(scored).toFixed(2)} | ` +
          `${wape(scored).toFixed(4)} | ${wql.toFixed(4)} | ${coverage(scored).toFixed(3)} | ${seconds.reduce((a, b) => a + b, 0).toFixed(2)} | ${median(seconds).toFixed(4)} |`,
      );
      for (const f of failed.slice(0, 3)) console.log(`  ${name} failed on ${f.id}: ${f.error}`);
    }
    for (const row of REFERENCE[label] ?? []) {
      const [method, ...v] = row;
      console.log(`| ${method} | ${v[0]!.toFixed(3)} | ${v[1]!.toFixed(2)} | ${v[2]!.toFixed(4)} | ${v[3]!.toFixed(4)} | ${v[4]!.toFixed(3)} | ${v[5]} | ${v[6]} |`);
    }
    if (args.models?.includes('auto') || !args.models) {
      const picks = new Map<string, number>();
      for (const r of results.filter((r) => r.model === 'auto' && !r.error)) {
        const key = r.description.replace(/\(m=\d+\)|\[\d+\]/g, '');
        picks.set(key, (picks.get(key) ?? 0) + 1);
      }
      const top = [...picks].sort((a, b) => b[1] - a[1]).slice(0, 5);
      if (top.length) console.log(`auto picks (top 5): ${top.map(([d, c]) => `${d} ×${c}`).join('; ')}`);
    }
  }
}

await main();
