/**
 * Scale benchmark of the built-in engine on its serverless path (issue 10):
 *
 *   npm run bench:scale [-- --sizes 1000,10000 --shard-costs 100000,250000 --days 365 --max-shards N
 *                          --placeholder-fits --live-heap
 *                          --algorithm ETS|ARIMA|NPTS|PROPHET|AUTOPREDICTOR]
 *
 * A synthetic daily panel (weekly season, trend, noise; seeded) of N series is imported and an
 * ETS predictor (1 backtest window, horizon 14) trained through the product's own path: the
 * workflow executor, statemachine/engine-job.asl.json on aws-local-stepfunctions, each shard in a
 * child process (local/engine-shard-process.ts). Only ENGINE_SHARD_COST varies (the product setting
 * of shard size). Reported: fit work per series (shard fit time / fits), Plan + Finish time as a share
 * of the fit work, peak RSS of a shard process and of the predictor's Plan and Finish (each step runs
 * in a child process of its own, bench/engine-step-process.ts, as its Lambda would), and projections from the measured per-shard cost: wall clock with 100
 * and 1 000 concurrent shard Lambdas and Lambda cost per 1 M series (arm64, the template's 2 048 MB
 * shard / 3 008 MB Plan+Finish; GB-s $0.0000133334, requests $0.20 / 1 M).
 *
 * `--max-shards N` (bench-only, off by default) stops measuring after N shards of the predictor
 * and projects the whole job from them; the table says so.
 *
 * `--placeholder-fits` (bench-only, off by default) measures Plan and Finish alone, at sizes whose
 * fitting would not finish here: each shard's output is written by this process as placeholder
 * forecasts of the right shape (zeros) instead of being fitted, so Plan and Finish run for real on
 * the real plan; the predictor is then forecast and the forecast exported too (each job's Plan and Finish; the import's too). Its
 * table has no fit columns. `--live-heap` (bench-only instrumentation, with --placeholder-fits): Plan
 * and Finish force a garbage collection every 10 ms and report their largest live heap beside their
 * peak RSS (times are then not comparable). This machine's 2 cores are shared with
 * other work: times are indicative.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  CreateAutoPredictorCommand,
  CreatePredictorCommand,
  DescribeAutoPredictorCommand,
  DescribeDatasetImportJobCommand,
  DescribePredictorCommand,
} from '@aws-sdk/client-forecast';
import { createBuiltinForecast } from '../engine/client';
import { FaultInjector } from '../engine/faults';
import { mulberry32 } from '../engine/models/random';
import { Repository } from '../engine/repository';
import { deserialize, serialize } from 'node:v8';
import { CreateForecastCommand, CreateForecastExportJobCommand, DescribeForecastCommand, DescribeForecastExportJobCommand } from '@aws-sdk/client-forecast';
import type { AnyFitTask, SeriesForecast } from '../engine/worker-protocol';
import { LocalEngineJobWorkflow, runShardProcess, type EngineFunction } from '../local/engine-job-workflow';
import { FolderObjectStore } from '../shared/adapters/folder-store';

const STATE = 's3://bench/.engine';
const GB_SECOND = 0.0000133334;
const PER_REQUEST = 0.2 / 1e6;
const SHARD_GB = 2048 / 1024;
const PLAN_FINISH_GB = 3008 / 1024;

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

interface StepRun {
  readonly result: unknown;
  readonly ms: number;
  readonly maxRssKiB: number;
  /** --live-heap: the largest live heap seen (V8 heap used + external, after a forced GC every 10 ms). */
  readonly liveKiB?: number;
}

/** Bench-only instrumentation: Plan and Finish collect garbage every 10 ms and report their live heap (slower). */
const liveHeap = process.argv.includes('--live-heap');

/** Plan or Finish in a child process (bench/engine-step-process.ts): its own time and peak RSS. */
function runStepProcess(step: 'Plan' | 'Finish', event: unknown, root: string, shardCost: number): Promise<StepRun> {
  return new Promise((resolve, reject) => {
    const flags = liveHeap ? ['--expose-gc'] : [];
    const child = spawn(process.execPath, [...flags, `${repoRoot}bin/run-ts.mjs`, `${repoRoot}bench/engine-step-process.ts`, step, root, STATE, String(shardCost)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as StepRun);
      else reject(new Error(`${step} process exited ${code}: ${err.trim().split('\n').slice(-5).join(' ')}`));
    });
    child.stdin.end(JSON.stringify(event));
  });
}

interface ShardRun {
  readonly jobArn: string;
  readonly series: number;
  readonly ms: number;
  readonly fitMs: number;
  readonly maxRssKiB: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function* panelCsv(series: number, days: number): AsyncIterable<string> {
  const next = mulberry32(42); // the same panel every run
  const start = Date.UTC(2023, 0, 1);
  for (let s = 0; s < series; s++) {
    const level = 20 + next() * 200;
    const trend = (next() - 0.5) * 0.1;
    const season = Array.from({ length: 7 }, () => (next() - 0.5) * level * 0.3);
    const rows: string[] = [];
    for (let d = 0; d < days; d++) {
      const value = Math.max(0, level + trend * d + season[d % 7]! + (next() - 0.5) * level * 0.2);
      rows.push(`${new Date(start + d * 86_400_000).toISOString().slice(0, 10)},item_${s},${value.toFixed(2)}`);
    }
    yield rows.join('\n') + '\n';
  }
}

async function waitActive(describe: () => Promise<{ Status?: string; Message?: string }>): Promise<void> {
  for (;;) {
    const { Status, Message } = await describe();
    if (Status === 'ACTIVE') return;
    if (Status === 'CREATE_FAILED') throw new Error(`job failed: ${Message}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Measured {
  readonly series: number;
  readonly shardCost: number;
  readonly shards: number;
  readonly measuredShards: number;
  readonly fits: number;
  readonly fitMs: number;
  readonly shardWallMs: number[];
  readonly planMs: number;
  readonly finishMs: number;
  readonly shardPeakMiB: number;
  readonly planPeakMiB: number;
  readonly finishPeakMiB: number;
  readonly totalMs: number;
  /** --placeholder-fits: the Plan and Finish of every job (the predictor's and the forecast's). */
  readonly steps: readonly (StepRun & { jobArn: string; state: 'Plan' | 'Finish' })[];
  readonly importArn: string;
  readonly predictorArn: string;
  readonly forecastArn: string;
  readonly exportArn: string;
}

class StopMeasuring extends Error {}

const placeholderFits = process.argv.includes('--placeholder-fits');

/** Bench-only (--placeholder-fits): a shard's output written without fitting — zeros of the right shape. */
async function writePlaceholderShard(store: FolderObjectStore, shard: { index: number; inputUri: string; outputUri: string }): Promise<{ index: number; series: number }> {
  const tasks = deserialize(await store.get(shard.inputUri)) as AnyFitTask[];
  const zeros = (task: AnyFitTask) => new Float64Array(task.horizon);
  const results: SeriesForecast[][] = tasks.map((task) => task.series.map(() => ({ mean: zeros(task), quantiles: task.quantiles.map(() => zeros(task)), description: 'placeholder' })));
  await store.put(shard.outputUri, serialize(results));
  return { index: shard.index, series: tasks.reduce((n, t) => n + t.series.length, 0) };
}

async function measure(series: number, shardCost: number, days: number, maxShards: number): Promise<Measured> {
  const root = await mkdtemp(join(tmpdir(), 'bench-scale-'));
  const store = new FolderObjectStore(root);
  const shards: ShardRun[] = [];
  const steps: (StepRun & { jobArn: string; state: 'Plan' | 'Finish' })[] = [];
  let predictorArn = '';
  let planned = 0;
  const invokeFunction = async (functionName: EngineFunction, event: unknown): Promise<unknown> => {
    const jobArn = (event as { jobArn: string }).jobArn;
    if (functionName === 'engine-shard') {
      const isPredictor = jobArn === predictorArn;
      const isFit = !(event as { failure?: unknown }).failure;
      if (isFit && isPredictor && shards.filter((s) => s.jobArn === predictorArn).length >= maxShards) throw new StopMeasuring(`bench: stopped after ${maxShards} shards`);
      const started = Date.now();
      const input = event as { jobArn: string; shard: { index: number; inputUri: string; outputUri: string } };
      const result = (isFit && placeholderFits ? await writePlaceholderShard(store, input.shard) : await runShardProcess(input, root)) as { series?: number; fitMs?: number; maxRssKiB?: number };
      if (isFit) shards.push({ jobArn, series: result.series ?? 0, ms: Date.now() - started, fitMs: result.fitMs ?? 0, maxRssKiB: result.maxRssKiB ?? 0 });
      return result;
    }
    const state = functionName === 'engine-plan' ? 'Plan' : 'Finish';
    const run = await runStepProcess(state, event, root, shardCost);
    steps.push({ ...run, jobArn, state });
    return run.result;
  };
  const workflow = new LocalEngineJobWorkflow({
    deps: { store, repo: new Repository(store, STATE), faults: new FaultInjector([]), exportPartRows: 100_000, shardCost },
    storeRoot: root,
    invokeFunction,
  });
  const engine = createBuiltinForecast({ store, stateUri: STATE, faults: new FaultInjector([]), jobWorkflow: workflow, shardConcurrency: 2 });
  try {
    await store.put('s3://bench/panel/target.csv', panelCsv(series, days));
    const schema = { Attributes: ['timestamp', 'item_id', 'target_value'].map((n, i) => ({ AttributeName: n, AttributeType: (['timestamp', 'string', 'float'] as const)[i] })) };
    const { DatasetArn } = await engine.send(new CreateDatasetCommand({ DatasetName: 'panel', Domain: 'CUSTOM', DatasetType: 'TARGET_TIME_SERIES', DataFrequency: 'D', Schema: schema }));
    const { DatasetGroupArn } = await engine.send(new CreateDatasetGroupCommand({ DatasetGroupName: 'panel_group', Domain: 'CUSTOM', DatasetArns: [DatasetArn!] }));
    const { DatasetImportJobArn } = await engine.send(
      new CreateDatasetImportJobCommand({
        DatasetImportJobName: 'panel_import',
        DatasetArn,
        DataSource: { S3Config: { Path: 's3://bench/panel/target.csv', RoleArn: 'arn:aws:iam::000000000000:role/bench' } },
        TimestampFormat: 'yyyy-MM-dd',
      }),
    );
    await waitActive(() => engine.send(new DescribeDatasetImportJobCommand({ DatasetImportJobArn })));
    await engine.idle(); // the import's Finish reports its time after writing the document
    const started = performance.now();
    const { PredictorArn } =
      algorithm === 'AUTOPREDICTOR'
        ? await engine.send(new CreateAutoPredictorCommand({ PredictorName: 'panel_auto', ForecastHorizon: 14, ForecastFrequency: 'D', DataConfig: { DatasetGroupArn } }))
        : await engine.send(
            new CreatePredictorCommand({
              PredictorName: `panel_${algorithm.toLowerCase()}`,
              AlgorithmArn: `arn:aws:forecast:::algorithm/${algorithm === 'PROPHET' ? 'Prophet' : algorithm}`,
              ForecastHorizon: 14,
              InputDataConfig: { DatasetGroupArn },
              FeaturizationConfig: { ForecastFrequency: 'D' },
            }),
          );
    predictorArn = PredictorArn!;
    const outcome = await (async () => {
      for (;;) {
        const described = algorithm === 'AUTOPREDICTOR' ? await engine.send(new DescribeAutoPredictorCommand({ PredictorArn })) : await engine.send(new DescribePredictorCommand({ PredictorArn }));
        if (described.Status === 'ACTIVE' || described.Status === 'CREATE_FAILED') return described;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const totalMs = performance.now() - started;
    let forecastArn = '';
    let exportArn = '';
    if (placeholderFits && outcome.Status === 'ACTIVE') {
      const { ForecastArn } = await engine.send(new CreateForecastCommand({ ForecastName: 'panel_ets_forecast', PredictorArn }));
      forecastArn = ForecastArn!;
      await waitActive(() => engine.send(new DescribeForecastCommand({ ForecastArn })));
      const { ForecastExportJobArn } = await engine.send(
        new CreateForecastExportJobCommand({
          ForecastExportJobName: 'panel_export',
          ForecastArn,
          Destination: { S3Config: { Path: 's3://bench/export/', RoleArn: 'arn:aws:iam::000000000000:role/bench' } },
        }),
      );
      exportArn = ForecastExportJobArn!;
      await waitActive(() => engine.send(new DescribeForecastExportJobCommand({ ForecastExportJobArn })));
    }
    await engine.idle(); // the execution's last step reports its time after writing the document
    for (const arn of [predictorArn, forecastArn].filter(Boolean)) {
      const plans = steps.filter((s) => s.jobArn === arn && s.state === 'Plan').length;
      if (plans !== 1) console.warn(`bench: ${arn} was planned ${plans} times (one execution, one Plan expected)`);
    }
    const ours = shards.filter((s) => s.jobArn === predictorArn);
    const plan = steps.find((s) => s.jobArn === predictorArn && s.state === 'Plan');
    const finish = steps.find((s) => s.jobArn === predictorArn && s.state === 'Finish');
    const projected = maxShards < Infinity && outcome.Status === 'CREATE_FAILED';
    if (!projected && outcome.Status !== 'ACTIVE') throw new Error(`predictor ${outcome.Status}: ${outcome.Message}`);
    planned = Number(/of (\d+)/.exec(outcome.Message ?? '')?.[1] ?? ours.length);
    return {
      series,
      shardCost,
      shards: projected ? planned : ours.length,
      measuredShards: ours.length,
      fits: ours.reduce((n, s) => n + s.series, 0),
      fitMs: ours.reduce((n, s) => n + (s.fitMs ?? 0), 0),
      shardWallMs: ours.map((s) => s.ms),
      planMs: plan?.ms ?? NaN,
      finishMs: projected ? NaN : (finish?.ms ?? NaN),
      shardPeakMiB: Math.max(...ours.map((s) => s.maxRssKiB / 1024)),
      planPeakMiB: (plan?.maxRssKiB ?? NaN) / 1024,
      finishPeakMiB: projected ? NaN : (finish?.maxRssKiB ?? NaN) / 1024,
      totalMs,
      steps,
      importArn: DatasetImportJobArn!,
      predictorArn,
      forecastArn,
      exportArn,
    };
  } finally {
    await engine.idle();
    await engine.close();
    // With --max-shards the Map's other iterations may still be writing their files as it fails.
    await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 });
  }
}

function report(m: Measured): string {
  const msPerFit = m.fitMs / m.fits;
  const fitsPerSeries = m.fits / (m.measuredShards === m.shards ? m.series : (m.series * m.measuredShards) / m.shards);
  const jobFitMs = msPerFit * fitsPerSeries * m.series;
  const overhead = Number.isFinite(m.finishMs) ? (m.planMs + m.finishMs) / jobFitMs : NaN;
  const perShardMs = jobFitMs / m.shards;
  const wall = (lambdas: number) => m.planMs + Math.ceil(m.shards / lambdas) * perShardMs + (Number.isFinite(m.finishMs) ? m.finishMs : m.planMs);
  // Cost per 1 M series: shard GB-s + Plan/Finish GB-s + one request per shard and two for Plan/Finish.
  const scale = 1e6 / m.series;
  const shardCost = (jobFitMs / 1000) * SHARD_GB * GB_SECOND * scale + m.shards * scale * PER_REQUEST;
  const planFinishMs = m.planMs + (Number.isFinite(m.finishMs) ? m.finishMs : m.planMs);
  const mergeCost = (planFinishMs / 1000) * PLAN_FINISH_GB * GB_SECOND * scale + 2 * scale * PER_REQUEST;
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return [
    `${m.series.toLocaleString('en')}`,
    `${m.shardCost.toLocaleString('en')}`,
    `${m.shards}${m.measuredShards < m.shards ? ` (${m.measuredShards} measured)` : ''}`,
    `${(msPerFit * fitsPerSeries).toFixed(1)} ms`,
    `${s(m.planMs)} / ${Number.isFinite(m.finishMs) ? s(m.finishMs) : 'n/m'} s`,
    Number.isFinite(overhead) ? `${(overhead * 100).toFixed(1)} %` : 'n/m',
    `${m.shardPeakMiB.toFixed(0)} MiB`,
    `${m.planPeakMiB.toFixed(0)} / ${Number.isFinite(m.finishPeakMiB) ? m.finishPeakMiB.toFixed(0) : 'n/m'} MiB`,
    `${s(wall(100))} s`,
    `${s(wall(1000))} s`,
    `$${(shardCost + mergeCost).toFixed(2)}`,
    `${s(m.totalMs)} s`,
  ].join(' | ');
}

/** --placeholder-fits: Plan and Finish of the import, the predictor, its forecast and the export (no fits measured). */
function reportMerge(m: Measured): string {
  const step = (arn: string, state: 'Plan' | 'Finish') => m.steps.find((s) => s.jobArn === arn && s.state === state);
  const cell = (arn: string) => {
    const plan = step(arn, 'Plan');
    const finish = step(arn, 'Finish');
    const mib = (kib: number | undefined) => ((kib ?? NaN) / 1024).toFixed(0);
    const live = liveHeap ? ` (live ${mib(plan?.liveKiB)} / ${mib(finish?.liveKiB)})` : '';
    return `${mib(plan?.maxRssKiB)} / ${mib(finish?.maxRssKiB)} MiB${live} | ${((plan?.ms ?? NaN) / 1000).toFixed(1)} / ${((finish?.ms ?? NaN) / 1000).toFixed(1)} s`;
  };
  return [`${m.series.toLocaleString('en')}`, `${m.shardCost.toLocaleString('en')}`, `${m.shards}`, ...[m.importArn, m.predictorArn, m.forecastArn, m.exportArn].map(cell)].join(' | ');
}

const sizes = option('sizes', '1000').split(',').map(Number);
const shardCosts = option('shard-costs', '100000,250000').split(',').map(Number);
const days = Number(option('days', '365'));
const maxShards = Number(option('max-shards', 'Infinity'));
/** The predictor's algorithm: ETS (default), ARIMA, NPTS, PROPHET (CreatePredictor) or AUTOPREDICTOR (CreateAutoPredictor). */
const algorithm = option('algorithm', 'ETS').toUpperCase();
if (!['ETS', 'ARIMA', 'NPTS', 'PROPHET', 'AUTOPREDICTOR'].includes(algorithm)) throw new Error(`--algorithm must be ETS, ARIMA, NPTS, PROPHET or AUTOPREDICTOR; got ${algorithm}`);
if (placeholderFits) {
  console.log(`bench:scale --placeholder-fits (bench-only: shards write placeholder forecasts, nothing is fitted) — ${algorithm}, 1 backtest window, horizon 14, ${days} days per series; Plan and Finish each in a process of their own`);
  const jobs = ['import', 'predictor', 'forecast', 'export'];
  console.log(`| series | ENGINE_SHARD_COST | predictor shards | ${jobs.map((j) => `${j} Plan / Finish peak RSS | ${j} Plan / Finish`).join(' | ')} |`);
  console.log(`|---|---|---|${jobs.map(() => '---|---|').join('')}`);
} else {
  console.log(`bench:scale — ${algorithm}, 1 backtest window, horizon 14, ${days} days per series, shards in child processes, 2 at a time on this machine`);
  console.log(
    '| series | ENGINE_SHARD_COST | shards | fit work per series | Plan / Finish | Plan+Finish ÷ fit work | shard peak RSS | Plan / Finish peak RSS | projected wall @100 Lambdas | @1 000 | Lambda cost per 1 M series | wall here |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
}
for (const series of sizes) {
  for (const cost of shardCosts) {
    const measured = await measure(series, cost, days, maxShards);
    console.log(`| ${placeholderFits ? reportMerge(measured) : report(measured)} |`);
  }
}
