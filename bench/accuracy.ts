/**
 * `npm run bench:accuracy`: accuracy of the built-in models on data the engine was not built on,
 * through the product's own path — the one-off CLI's `forecastCsv` (engine/oneoff.ts) with the
 * product defaults (season length from the frequency, the engine's worker pool, the fallback
 * chain) — over M4 weekly and hourly and synthetic panels with known structure, in one table.
 *
 *   node bin/run-ts.mjs bench/accuracy.ts [--sets a,b] [--models ETS,AUTO] [--limit N] [--workers N]
 *        [--data dir] [--arima-sample N] [--sample ids-file]
 *
 * Per set: each series' last `horizon` points are held out; the rest is written to a CSV
 * (item_id,timestamp,target_value), forecast by `forecastCsv` with forecast types
 * 0.1,0.5,0.9,mean, and the held-out points are scored: MASE of the mean (M4 period for the M4
 * sets, as the M4 organisers score; the frequency's season length otherwise), wQL_mean (mean of
 * wQL at 0.1/0.5/0.9, pooled over the set), cov80 (share of held-out points inside [q0.1, q0.9])
 * and CPU ms per series (process CPU — all worker threads — over the forecastCsv call, divided by
 * the series count, less the CPU of starting the pool, measured once on one series; the machine is
 * shared, so CPU rather than elapsed time) and the call's wall seconds. CNNQR and DEEPARP (global
 * models, not in the default list) train one network over the set inside that call, so their CPU
 * and wall are training plus forecasting.
 *
 * `--sample ids-file` keeps the M4 series named in the file (one id a line), e.g.
 * /work/shared/data/m4/hourly_sample100_ids.txt; the R rows are then the file's own anchors
 * (accuracy-anchors.md, `hourly_sample100`) where there are some.
 *
 * ARIMA (calibrated: four fits a series) is slow on long or seasonal series: on M4 and the monthly
 * and long synthetic sets it runs on a deterministic sample (every
 * k-th series, `--arima-sample`, default 60), labelled in the table. Ranks (per set by wQL_mean,
 * then averaged over the sets) compare every model on the series all of them forecast, i.e. on
 * ARIMA's sample where it was sampled.
 *
 * Synthetic sets are generated here from fixed seeds (mulberry32): the same series on every run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { coverage, mase, weightedQuantileLoss, type ScoredSeries } from '../engine/metrics';
import { mulberry32 } from '../engine/models/random';
import { forecastCsv, type OneOffAlgorithm } from '../engine/oneoff';
import { addPeriods, parseFrequency, seasonLength } from '../shared/frequency';
import { loadM4Series, m4DataDir, REFERENCE } from './m4-data';

const QUANTILES = [0.1, 0.5, 0.9] as const;
const TYPES = ['0.1', '0.5', '0.9', 'mean'];

/** Rows in the table, in this order; the names are the CLI's `--algorithm` values. */
const MODELS: readonly OneOffAlgorithm[] = ['ETS', 'ARIMA', 'THETA', 'SEASONAL_NAIVE', 'NPTS', 'AUTO'];

export interface EvalSeries {
  readonly id: string;
  /** Training part then the held-out `horizon` points. */
  readonly values: Float64Array;
  /** Period start of values[0]. */
  readonly start: Date;
}

export interface EvalSet {
  readonly name: string;
  readonly description: string;
  /** Forecast frequency as the CLI takes it. */
  readonly frequency: string;
  readonly horizon: number;
  /** MASE's seasonal period. */
  readonly period: number;
  /** ARIMA is run on a sample of this set (slow there). */
  readonly arimaSampled: boolean;
  readonly series: readonly EvalSeries[];
  /** The accuracy-anchors.md rows for this set (M4 only). */
  readonly reference?: string;
}

// ---------------------------------------------------------------- M4

function loadM4(dataDir: string, name: 'weekly' | 'hourly'): EvalSet {
  const meta = JSON.parse(readFileSync(resolve(dataDir, 'meta.json'), 'utf8')) as {
    sets: { name: string; file: string; frequency: string; horizon: number; period: number }[];
  };
  const info = meta.sets.find((s) => s.name === name)!;
  const series = loadM4Series(resolve(dataDir, info.file)).map((s) => ({
    id: s.id,
    values: s.values,
    start: new Date(s.timestamps[0]!.length === 10 ? `${s.timestamps[0]}T00:00:00Z` : `${s.timestamps[0]}Z`),
  }));
  return {
    name: `m4-${name}`,
    description: `M4 ${name} (${series.length} series, official test split)`,
    frequency: info.frequency,
    horizon: info.horizon,
    period: info.period,
    arimaSampled: true,
    series,
    reference: name,
  };
}

/**
 * Real series at frequencies the M4 files here do not hold: M4 weekly summed over blocks of
 * `weeks` weeks (13: quarters, 52: years), the blocks aligned to each series' end so the held-out
 * points are whole blocks; blocks with a missing week are missing. Series with fewer than
 * `minTrain` training blocks are left out. The block grid is labelled quarterly / yearly from a
 * fixed start (the aggregates are of 91- and 364-day blocks, not calendar quarters and years).
 */
function aggregatedM4(weekly: EvalSet, name: string, description: string, weeks: number, frequency: string, horizon: number, period: number, minTrain: number): EvalSet {
  const series: EvalSeries[] = [];
  for (const s of weekly.series) {
    const blocks = Math.floor(s.values.length / weeks);
    if (blocks - horizon < minTrain) continue;
    const offset = s.values.length - blocks * weeks;
    const values = new Float64Array(blocks);
    for (let b = 0; b < blocks; b++) {
      let sum = 0;
      for (let w = 0; w < weeks; w++) sum += s.values[offset + b * weeks + w]!;
      values[b] = sum;
    }
    series.push({ id: s.id, values, start: START });
  }
  return { name, description: `${description} (${series.length} of M4 weekly's series with ≥ ${minTrain} training points)`, frequency, horizon, period, arimaSampled: false, series };
}

// ---------------------------------------------------------------- synthetic panels

/** Seeded draws for the generators. */
function draws(seed: number) {
  const u = mulberry32(seed);
  const uniform = (a = 0, b = 1) => a + (b - a) * u();
  const normal = () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  const int = (a: number, b: number) => Math.floor(uniform(a, b + 1));
  const poisson = (lambda: number) => {
    let k = 0;
    let p = Math.exp(-lambda);
    let s = p;
    const x = u();
    while (x > s && k < 1000) {
      k++;
      p *= lambda / k;
      s += p;
    }
    return k;
  };
  return { uniform, normal, int, poisson };
}

const START = new Date('2015-01-01T00:00:00Z');

function synthetic(
  name: string,
  description: string,
  frequency: string,
  horizon: number,
  count: number,
  seed: number,
  make: (r: ReturnType<typeof draws>, m: number) => number[],
  arimaSampled = false,
): EvalSet {
  const r = draws(seed);
  const m = seasonLength(parseFrequency(frequency));
  const series = Array.from({ length: count }, (_, i) => ({ id: `${name}-${i + 1}`, values: Float64Array.from(make(r, m)), start: START }));
  return { name, description, frequency, horizon, period: m, arimaSampled, series };
}

/** Smooth seasonal profile with `harmonics` random harmonics, amplitude ≈ 1. */
function profile(r: ReturnType<typeof draws>, m: number, harmonics = 2): number[] {
  const a = Array.from({ length: harmonics }, () => [r.normal(), r.normal()] as const);
  const p = Array.from({ length: m }, (_, k) => a.reduce((s, [c, d], j) => s + (c * Math.cos((2 * Math.PI * (j + 1) * k) / m) + d * Math.sin((2 * Math.PI * (j + 1) * k) / m)) / (j + 1), 0));
  const scale = Math.max(...p.map(Math.abs)) || 1;
  return p.map((v) => v / scale);
}

function syntheticSets(): EvalSet[] {
  return [
    synthetic('syn-monthly-mult', 'monthly, multiplicative seasonality × trend, lognormal noise', 'M', 18, 150, 101, (r, m) => {
      const n = r.int(72, 144);
      const s = profile(r, m);
      const amp = r.uniform(0.1, 0.45);
      const growth = r.uniform(-0.004, 0.012);
      const level = r.uniform(100, 5000);
      const sd = r.uniform(0.02, 0.08);
      return Array.from({ length: n + 18 }, (_, t) => level * Math.exp(growth * t) * (1 + amp * s[t % m]!) * Math.exp(sd * r.normal()));
    }, true),
    synthetic('syn-quarterly', 'quarterly, additive or multiplicative seasonality, damped or linear trend', '3M', 8, 150, 202, (r, m) => {
      const n = r.int(24, 64);
      const s = profile(r, m, 1);
      const multiplicative = r.uniform() < 0.5;
      const amp = r.uniform(0.05, 0.3);
      const level = r.uniform(500, 3000);
      const slope = r.uniform(-0.005, 0.02) * level;
      const phi = r.uniform() < 0.5 ? 1 : r.uniform(0.85, 0.97);
      const sd = r.uniform(0.02, 0.06) * level;
      let trend = level;
      let b = slope;
      return Array.from({ length: n + 8 }, (_, t) => {
        trend += b;
        b *= phi;
        const season = multiplicative ? trend * amp * s[t % m]! : level * amp * s[t % m]!;
        return Math.max(1, trend + season + sd * r.normal());
      });
    }),
    synthetic('syn-trend-break', 'daily with weekly season, one level/slope break somewhere in the history', 'D', 28, 120, 303, (r, m) => {
      const n = r.int(300, 500);
      const s = profile(r, m);
      const level = r.uniform(50, 500);
      const breakAt = r.int(Math.floor(n * 0.4), n - 40);
      const slope1 = r.uniform(-0.002, 0.003) * level;
      const slope2 = r.uniform(-0.003, 0.004) * level;
      const jump = r.uniform(-0.3, 0.3) * level;
      const amp = r.uniform(0.05, 0.3) * level;
      const sd = r.uniform(0.03, 0.1) * level;
      return Array.from({ length: n + 28 }, (_, t) => {
        const base = t < breakAt ? level + slope1 * t : level + slope1 * breakAt + jump + slope2 * (t - breakAt);
        return Math.max(0, base + amp * s[t % m]! + sd * r.normal());
      });
    }),
    synthetic('syn-intermittent', 'daily intermittent demand (Bernoulli occurrence × Poisson size, 50–95 % zeros)', 'D', 28, 150, 404, (r) => {
      const n = r.int(180, 420);
      const p = r.uniform(0.05, 0.5);
      const size = r.uniform(1, 8);
      return Array.from({ length: n + 28 }, () => (r.uniform() < p ? 1 + r.poisson(size) : 0));
    }),
    synthetic('syn-short', 'monthly, 16–36 observations, seasonal or not', 'M', 12, 150, 505, (r, m) => {
      const n = r.int(16, 36);
      const s = profile(r, m);
      const amp = r.uniform() < 0.5 ? 0 : r.uniform(0.1, 0.4);
      const level = r.uniform(50, 1000);
      const slope = r.uniform(-0.005, 0.015);
      const sd = r.uniform(0.03, 0.12);
      return Array.from({ length: n + 12 }, (_, t) => level * (1 + slope * t) * (1 + amp * s[t % m]!) * Math.exp(sd * r.normal()));
    }),
    synthetic('syn-long', 'daily, 2,500–4,000 observations: weekly and yearly cycles, slow trend', 'D', 30, 60, 606, (r, m) => {
      const n = r.int(2500, 4000);
      const weekly = profile(r, m);
      const yearly = profile(r, 365, 3);
      const level = r.uniform(200, 2000);
      const wAmp = r.uniform(0.05, 0.25);
      const yAmp = r.uniform(0.05, 0.3);
      const slope = r.uniform(-0.0001, 0.0003);
      const sd = r.uniform(0.03, 0.08);
      return Array.from({ length: n + 30 }, (_, t) => level * (1 + slope * t) * (1 + wAmp * weekly[t % m]! + yAmp * yearly[t % 365]!) * (1 + sd * r.normal()));
    }, true),
    synthetic('syn-yearly', 'yearly, 14–46 observations: drifting random walks, damped trends, level shifts', 'Y', 6, 150, 707, (r) => {
      const n = r.int(14, 46);
      const level = r.uniform(1000, 10000);
      const kind = r.int(0, 2);
      const drift = r.uniform(-0.01, 0.06) * level;
      const sd = r.uniform(0.02, 0.08) * level;
      const phi = r.uniform(0.7, 0.95);
      let y = level;
      let b = drift;
      return Array.from({ length: n + 6 }, (_, t) => {
        if (kind === 0) y += drift + sd * r.normal(); // random walk with drift
        else if (kind === 1) {
          y += b + 0.5 * sd * r.normal(); // damped trend
          b *= phi;
        } else y = level + drift * t + (t > n / 2 ? 3 * sd : 0) + sd * r.normal(); // trend with a level shift
        return Math.max(1, y);
      });
    }),
  ];
}

// ---------------------------------------------------------------- running the product path

interface ModelResult {
  readonly model: OneOffAlgorithm;
  readonly sampled: boolean;
  /** Scored series by id. */
  readonly scored: Map<string, ScoredSeries>;
  readonly cpuMsPerSeries: number;
  readonly wallSeconds: number;
  readonly fallbacks: number;
  readonly picks: Record<string, number>;
}

function formatStamp(d: Date, frequency: string): string {
  const iso = d.toISOString();
  return frequency === 'H' ? iso.slice(0, 19).replace('T', ' ') : iso.slice(0, 10);
}

function writeTrainCsv(path: string, set: EvalSet, series: readonly EvalSeries[]): void {
  const freq = parseFrequency(set.frequency);
  const lines = ['item_id,timestamp,target_value'];
  for (const s of series) {
    const n = s.values.length - set.horizon;
    for (let i = 0; i < n; i++) {
      const v = s.values[i]!;
      lines.push(`${s.id},${formatStamp(addPeriods(s.start, freq, i), set.frequency)},${Number.isNaN(v) ? '' : v}`);
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

function readForecastCsv(path: string): Map<string, { mean: number[]; q: number[][] }> {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const col = (name: string) => header.indexOf(name);
  const [p10, p50, p90, mean] = [col('p10'), col('p50'), col('p90'), col('mean')];
  const out = new Map<string, { mean: number[]; q: number[][] }>();
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.split(',');
    let e = out.get(f[0]!);
    if (!e) out.set(f[0]!, (e = { mean: [], q: [[], [], []] }));
    e.mean.push(Number(f[mean]));
    e.q[0]!.push(Number(f[p10]));
    e.q[1]!.push(Number(f[p50]));
    e.q[2]!.push(Number(f[p90]));
  }
  return out;
}

/**
 * CPU ms of a forecastCsv call on one short series: starting the worker pool (threads loading the
 * engine), which the per-series figures leave out.
 */
async function startupCpuMs(dir: string, workers?: number): Promise<number> {
  const input = join(dir, 'startup-in.csv');
  writeFileSync(input, `item_id,timestamp,target_value\n${Array.from({ length: 30 }, (_, i) => `a,${formatStamp(addPeriods(START, parseFrequency('D'), i), 'D')},${i % 7}`).join('\n')}\n`);
  const cpu0 = process.cpuUsage();
  await forecastCsv({ inputPath: input, frequency: 'D', horizon: 7, algorithm: 'SEASONAL_NAIVE', outputPath: join(dir, 'startup-out.csv'), workers });
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000;
}

async function runModel(set: EvalSet, model: OneOffAlgorithm, series: readonly EvalSeries[], sampled: boolean, dir: string, startupMs: number, workers?: number): Promise<ModelResult> {
  const input = join(dir, `${set.name}-${model}-in.csv`);
  const output = join(dir, `${set.name}-${model}-out.csv`);
  writeTrainCsv(input, set, series);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const summary = await forecastCsv({ inputPath: input, frequency: set.frequency, horizon: set.horizon, algorithm: model, forecastTypes: TYPES, outputPath: output, workers });
  const wallSeconds = (performance.now() - wall0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const forecasts = readForecastCsv(output);
  const scored = new Map<string, ScoredSeries>();
  for (const s of series) {
    const f = forecasts.get(s.id);
    if (!f) throw new Error(`${set.name}/${model}: no forecast for ${s.id}`);
    const cut = s.values.length - set.horizon;
    scored.set(s.id, {
      actual: s.values.subarray(cut),
      mean: Float64Array.from(f.mean),
      quantiles: new Map(QUANTILES.map((q, i) => [q, Float64Array.from(f.q[i]!)])),
      history: s.values.subarray(0, cut),
    });
  }
  return { model, sampled, scored, cpuMsPerSeries: Math.max(0, (cpu.user + cpu.system) / 1000 - startupMs) / series.length, wallSeconds, fallbacks: summary.fallbacks, picks: summary.algorithms };
}

interface Scores {
  readonly mase: number;
  readonly wql: number;
  readonly cov80: number;
}

function scoresOf(scored: readonly ScoredSeries[], period: number): Scores {
  return {
    mase: mase(scored, period),
    wql: QUANTILES.reduce((a, q) => a + weightedQuantileLoss(scored, q), 0) / QUANTILES.length,
    cov80: coverage(scored),
  };
}

/** Every k-th series, k chosen so that about `size` remain. */
function sampleOf(series: readonly EvalSeries[], size: number): EvalSeries[] {
  const step = Math.max(1, Math.floor(series.length / size));
  return series.filter((_, i) => i % step === 0).slice(0, size);
}

/** The bench's sets in table order (`sampled` narrows the M4 sets to `--sample`'s series). */
export function evaluationSets(dataDir: string, sampled: (set: EvalSet) => EvalSet = (set) => set): EvalSet[] {
  const weekly = loadM4(dataDir, 'weekly');
  return [
    sampled(weekly),
    sampled(loadM4(dataDir, 'hourly')),
    aggregatedM4(weekly, 'm4w-quarterly', 'M4 weekly summed over 13-week blocks', 13, '3M', 8, 4, 16),
    aggregatedM4(weekly, 'm4w-yearly', 'M4 weekly summed over 52-week blocks', 52, 'Y', 6, 1, 12),
    ...syntheticSets(),
  ];
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      sets: { type: 'string' },
      models: { type: 'string' },
      limit: { type: 'string' },
      workers: { type: 'string' },
      data: { type: 'string' },
      'arima-sample': { type: 'string' },
      sample: { type: 'string' },
    },
  });
  const dataDir = m4DataDir(args.data);
  const models = (args.models ? args.models.split(',').map((m) => m.trim().toUpperCase()) : MODELS) as OneOffAlgorithm[];
  const arimaSample = Number(args['arima-sample'] ?? 60);
  const workers = args.workers ? Number(args.workers) : undefined;
  const sampleIds = args.sample ? new Set(readFileSync(resolve(args.sample), 'utf8').split(/\s+/).filter(Boolean)) : undefined;
  const sampleName = args.sample ? basename(args.sample).replace(/_ids\.txt$|\.txt$/, '') : undefined;
  const sampled = (set: EvalSet): EvalSet => {
    if (!sampleIds) return set;
    const series = set.series.filter((s) => sampleIds.has(s.id));
    const reference = sampleName && REFERENCE[sampleName] ? sampleName : undefined;
    return { ...set, name: `${set.name} (${sampleName})`, description: `${set.description}, the ${series.length} series of ${sampleName}`, series, reference };
  };
  const all = evaluationSets(dataDir, sampled);
  const wanted = args.sets ? args.sets.split(',') : all.map((s) => s.name);
  const sets = all
    .filter((s) => wanted.includes(s.name.replace(/ \(.*\)$/, '')))
    .map((s) => (args.limit ? { ...s, series: s.series.slice(0, Number(args.limit)) } : s));
  const dir = mkdtempSync(join(tmpdir(), 'bench-accuracy-'));
  const wall0 = performance.now();
  const startupMs = await startupCpuMs(dir, workers);
  const ranks = new Map<OneOffAlgorithm, number[]>(models.map((m) => [m, []]));
  const rows: string[] = [];
  try {
    for (const set of sets) {
      const t0 = performance.now();
      const results: ModelResult[] = [];
      const sample = set.arimaSampled && set.series.length > arimaSample ? sampleOf(set.series, arimaSample) : set.series;
      for (const model of models) {
        const sampled = model === 'ARIMA' && sample !== set.series;
        results.push(await runModel(set, model, sampled ? sample : set.series, sampled, dir, startupMs, workers));
      }
      // Ranks on the series every model forecast (ARIMA's sample where it was sampled).
      const common = results.some((r) => r.sampled) ? sample : set.series;
      const commonScores = results.map((r) => scoresOf(common.map((s) => r.scored.get(s.id)!), set.period).wql);
      const order = [...commonScores.keys()].sort((a, b) => commonScores[a]! - commonScores[b]!);
      order.forEach((r, position) => ranks.get(results[r]!.model)!.push(position + 1));
      for (const [i, r] of results.entries()) {
        const s = scoresOf([...r.scored.values()], set.period);
        const label = r.sampled ? `${r.model} (sample ${r.scored.size})` : r.model;
        const extra = r.fallbacks ? ` ${r.fallbacks} fallbacks` : '';
        rows.push(
          `| ${set.name} | ${label} | ${s.mase.toFixed(3)} | ${s.wql.toFixed(4)} | ${s.cov80.toFixed(3)} | ${r.cpuMsPerSeries.toFixed(1)} | ${r.wallSeconds.toFixed(1)} | ${order.indexOf(i) + 1}${extra} |`,
        );
      }
      for (const [method, maseR, , , wqlR, covR, totalS] of set.reference && !args.limit ? (REFERENCE[set.reference] ?? []) : []) {
        rows.push(`| ${set.name} | ${method} (accuracy-anchors.md) | ${maseR.toFixed(3)} | ${wqlR.toFixed(4)} | ${covR.toFixed(3)} | ${((1000 * totalS) / set.series.length).toFixed(1)} | | |`);
      }
      const auto = results.find((r) => r.model === 'AUTO');
      if (auto) {
        const top = Object.entries(auto.picks).sort((a, b) => b[1] - a[1]).slice(0, 4);
        rows.push(`| ${set.name} | AUTO fits: ${top.map(([d, c]) => `${d} ×${c}`).join('; ')} | | | | | | |`);
      }
      console.error(`${set.name}: ${set.series.length} series, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n## Accuracy through the product path (forecastCsv, product defaults) — wall ${((performance.now() - wall0) / 1000).toFixed(0)} s\n`);
  for (const set of sets) {
    console.log(`- ${set.name}: ${set.description}; ${set.series.length} series, h = ${set.horizon}, frequency ${set.frequency}, MASE period ${set.period}`);
  }
  console.log(`\nCPU ms/series: process CPU of the forecastCsv call / series, less ${startupMs.toFixed(0)} ms of starting the worker pool.`);
  console.log('\n| set | model | MASE | wQL_mean | cov80 | CPU ms/series | wall s | rank (wQL) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log('\n| model | average rank (wQL_mean) over the sets |');
  console.log('|---|---|');
  for (const [model, r] of ranks) console.log(`| ${model} | ${(r.reduce((a, b) => a + b, 0) / r.length).toFixed(2)} |`);
}

// Run as a script (not when a diagnostic imports the sets).
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
