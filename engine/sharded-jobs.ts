/**
 * A job's work split into shards for a fan-out executor (statemachine/engine-job.asl.json), with
 * Plan and Finish whose memory is bounded by a shard, not by the job, on the merge side:
 *
 * - Plan builds what the job fits (a predictor's backtest fits, a forecast's fits: the batches one
 *   process would queue, training.ts planBacktest / planForecast), packs them into shards by
 *   estimated fit cost and writes each shard's input as soon as the shard is full, with what
 *   Finish needs to use its results: a predictor's scoring cases (actuals, MASE scales), a
 *   forecast's predictions header (the file's layout). A predictor's series set (its artifact) is
 *   written here too.
 * - A shard runs `runFitTask` — the very function the worker threads run — over its batches and
 *   writes the results.
 * - Finish reads the shards one at a time, in plan order, and drops each: a predictor's results
 *   are folded into the pooled backtest sums (BacktestScorer: the same additions in the same order
 *   as one process, so the same metrics); a forecast's are streamed into its predictions file
 *   through the ObjectStore (the header Plan wrote, read as a stream, then the arrays shard by
 *   shard). The manifest holds no per-series data: beyond one shard, Finish holds only the
 *   predictor document's `assignments` (one algorithm name per series, the document's format).
 *
 * Import and export jobs fit nothing: their plan has no shards and Finish runs the job as one
 * process does (their memory is the job's: the import's rows, the export's predictions).
 */
import { deserialize, serialize } from 'node:v8';
import type { ObjectStore } from '../shared/ports';
import { streamBinaryFile } from './binary';
import { predictionsLayout } from './export-files';
import type { FaultInjector } from './faults';
import { runFitTask } from './forecast-series';
import {
  forecastInputs,
  forecastPredictionsUri,
  predictorInputs,
  predictorOutcome,
  predictorSeriesUri,
  runJobWork,
  throwInjectedFailure,
  type FitPool,
  type JobContext,
  type SeriesSetSummary,
} from './jobs';
import { parseArn, type Repository, type ResourceDoc } from './repository';
import { serializeSeriesSet } from './series';
import { BacktestScorer, forecastColumns, forecastStart, planBacktest, planForecast, type BacktestFit, type BacktestScoring } from './training';
import type { AnyFitTask, SeriesForecast } from './worker-protocol';

/** Batches are sized as for a pool of this many workers (≤ 50 series per batch). */
const SHARDED_POOL_SIZE = 16;

/**
 * Relative cost of one series-period of each algorithm (ETS = 1), for packing shards: measured with
 * `npm run bench:scale -- --sizes 10000 --max-shards 2 --algorithm …` (daily, 365 periods, one
 * backtest window; fit work per series ETS 25.6 ms, ARIMA 44.0, NPTS 1.3, Prophet 37.6, AUTO 16.9 —
 * each calibrated model fits four times a series, Prophet twice), rounded. AUTO on a series with
 * related data also fits its Prophet member at each of its four fits: `AUTO_WITH_RELATED`, derived
 * from those measurements rather than measured (the bench's panel has no related data).
 */
const FIT_COST: Record<string, number> = { ETS: 1, ARIMA: 2, NPTS: 0.1, PROPHET: 1.5, AUTO: 0.7 };
const AUTO_WITH_RELATED = FIT_COST.AUTO! + 4 * (FIT_COST.PROPHET! / 2);

/** Default fit cost per shard: about 500 ETS fits of 500 periods. */
export const DEFAULT_SHARD_COST = 250_000;

export interface ShardRef {
  readonly index: number;
  readonly inputUri: string;
  readonly outputUri: string;
}

export interface JobPlan {
  readonly jobArn: string;
  readonly manifestUri: string;
  readonly shards: ShardRef[];
}

/** What Finish needs besides the shards' results, by the kind of work. */
type Merge =
  /** Import and export jobs: no fits, Finish runs the job. */
  | { readonly kind: 'whole' }
  | {
      readonly kind: 'backtest';
      readonly scoring: BacktestScoring;
      readonly seriesUri: string;
      readonly set: SeriesSetSummary;
      readonly outcome: { readonly plan: { readonly dimensions: string[] }; readonly jobArns: string[] };
    }
  | {
      readonly kind: 'forecast';
      readonly predictionsUri: string;
      /** The predictions file's header (JSON, `headerBytes` long), written by Plan. */
      readonly headerUri: string;
      readonly headerBytes: number;
      readonly types: string[];
      readonly horizon: number;
      /** Forecast columns the file holds (items × types), in the order the shards forecast them. */
      readonly columns: number;
    };

interface Manifest {
  readonly jobArn: string;
  readonly merge: Merge;
}

/** A predictor shard's scoring cases, fit by fit (beside its input). */
type ShardScoring = Pick<BacktestFit, 'candidate' | 'window' | 'cases'>[];

export interface ShardedJobContext {
  readonly store: ObjectStore;
  readonly repo: Repository;
  readonly faults: FaultInjector;
  readonly exportPartRows: number;
}

const costOf = (task: AnyFitTask) =>
  task.series.reduce((sum, s) => {
    const weight = task.algorithm === 'AUTO' && s.related && Object.keys(s.related).length > 0 ? AUTO_WITH_RELATED : (FIT_COST[task.algorithm] ?? 1);
    return sum + weight * s.values.length;
  }, 0);
const scoringUriOf = (shard: ShardRef) => `${shard.inputUri.slice(0, -'.in'.length)}.scoring`;

function shardFolder(repo: Repository, doc: ResourceDoc): string {
  const parsed = parseArn(doc.arn)!;
  return repo.dataUri(parsed.type, parsed.id, 'shards');
}

/**
 * Packs fits into shards of about `shardCost`, in order, writing each shard as soon as it is full
 * (`extra`: what else goes beside its input).
 */
async function writeShards<F extends { task: AnyFitTask }>(
  store: ObjectStore,
  folder: string,
  fits: readonly F[],
  shardCost: number,
  extra?: (shard: ShardRef, fits: readonly F[]) => Promise<void>,
): Promise<ShardRef[]> {
  const shards: ShardRef[] = [];
  let group: F[] = [];
  let cost = 0;
  const flush = async () => {
    const shard: ShardRef = { index: shards.length, inputUri: `${folder}/${shards.length}.in`, outputUri: `${folder}/${shards.length}.out` };
    await store.put(shard.inputUri, serialize(group.map((f) => f.task)));
    await extra?.(shard, group);
    shards.push(shard);
    group = [];
    cost = 0;
  };
  for (const fit of fits) {
    group.push(fit);
    cost += costOf(fit.task);
    if (cost >= shardCost) await flush();
  }
  if (group.length) await flush();
  return shards;
}

/** Plan: the job's fits packed into shards of about `shardCost`, inputs written. */
export async function planJob(ctx: ShardedJobContext, doc: ResourceDoc, shardCost = DEFAULT_SHARD_COST): Promise<JobPlan> {
  throwInjectedFailure(doc, ctx.faults);
  const folder = shardFolder(ctx.repo, doc);
  const planned = await (async (): Promise<{ shards: ShardRef[]; merge: Merge }> => {
    switch (doc.type) {
      case 'predictor': {
        const inputs = await predictorInputs(ctx, doc);
        const { set } = inputs;
        const seriesUri = predictorSeriesUri(ctx, doc);
        await ctx.store.put(seriesUri, serializeSeriesSet(set));
        const { fits, scoring } = planBacktest(set, inputs.backtest, SHARDED_POOL_SIZE);
        const shards = await writeShards(ctx.store, folder, fits, shardCost, (shard, group) =>
          ctx.store.put(scoringUriOf(shard), serialize(group.map(({ candidate, window, cases }) => ({ candidate, window, cases })))),
        );
        const outcome = { plan: { dimensions: inputs.plan.dimensions }, jobArns: inputs.jobArns };
        return { shards, merge: { kind: 'backtest', scoring, seriesUri, set: { seriesCount: set.series.length, length: set.length }, outcome } };
      }
      case 'forecast': {
        const f = await forecastInputs(ctx, doc);
        const fits = planForecast(f.set, f.assignments, f.params, f.horizon, f.types, SHARDED_POOL_SIZE, f.hpo);
        const shards = await writeShards(ctx.store, folder, fits, shardCost);
        const items = f.set.series.map((s) => ({ key: s.key, start: forecastStart(f.set, s).getTime() }));
        const meta = { types: f.types, keyColumns: f.keyColumns, frequency: f.set.frequency.text };
        const header = Buffer.from(JSON.stringify(predictionsLayout(meta, items, fits.flatMap((fit) => [...fit.indexes]), f.horizon)), 'utf8');
        const headerUri = `${folder}/predictions.header.json`;
        await ctx.store.put(headerUri, header);
        const merge: Merge = { kind: 'forecast', predictionsUri: forecastPredictionsUri(ctx, doc), headerUri, headerBytes: header.length, types: f.types, horizon: f.horizon, columns: items.length * f.types.length };
        return { shards, merge };
      }
      case 'dataset':
      case 'dataset-group':
      case 'dataset-import-job':
      case 'forecast-export-job':
        return { shards: [], merge: { kind: 'whole' } };
    }
  })();
  const manifest: Manifest = { jobArn: doc.arn, merge: planned.merge };
  const manifestUri = `${folder}/manifest.json`;
  await ctx.store.put(manifestUri, JSON.stringify(manifest));
  return { jobArn: doc.arn, manifestUri, shards: planned.shards };
}

/** One shard: fits its batches with the worker threads' function and writes the results. */
export interface ShardOutcome {
  readonly index: number;
  readonly batches: number;
  /** Fits (series × batches). */
  readonly series: number;
  /** Time spent fitting (without reading and writing the shard's files). */
  readonly fitMs: number;
}

export async function runShard(store: ObjectStore, shard: ShardRef): Promise<ShardOutcome> {
  const tasks = deserialize(await store.get(shard.inputUri)) as AnyFitTask[];
  const results: SeriesForecast[][] = [];
  const started = performance.now();
  for (const task of tasks) results.push(await runFitTask(task));
  const fitMs = Math.round(performance.now() - started);
  await store.put(shard.outputUri, serialize(results));
  return { index: shard.index, batches: tasks.length, series: tasks.reduce((n, t) => n + t.series.length, 0), fitMs };
}

async function shardResults(store: ObjectStore, shard: ShardRef): Promise<SeriesForecast[][]> {
  return deserialize(await store.get(shard.outputUri)) as SeriesForecast[][];
}

/** No fit is planned for an import or export job: a fit asked for is a bug. */
const noFits: FitPool = {
  size: SHARDED_POOL_SIZE,
  run: async (task) => {
    throw new Error(`Internal: a ${task.algorithm} fit was asked of a job planned without fits`);
  },
};

/** Finish: the shards' results merged one shard at a time (or, without fits, the job run). */
export async function finishJob(ctx: ShardedJobContext, doc: ResourceDoc, plan: JobPlan): Promise<{ result?: Record<string, unknown>; message?: string }> {
  const manifest = JSON.parse((await ctx.store.get(plan.manifestUri)).toString('utf8')) as Manifest;
  const { merge } = manifest;
  switch (merge.kind) {
    case 'whole':
      return runJobWork({ store: ctx.store, repo: ctx.repo, pool: noFits, exportPartRows: ctx.exportPartRows, progress: () => undefined }, doc, ctx.faults);
    case 'backtest': {
      const scorer = new BacktestScorer(merge.scoring);
      for (const shard of plan.shards) {
        const [results, scoring] = await Promise.all([shardResults(ctx.store, shard), ctx.store.get(scoringUriOf(shard)).then((b) => deserialize(b) as ShardScoring)]);
        if (results.length !== scoring.length) throw new Error(`Internal: shard ${shard.index} of ${doc.arn} answered ${results.length} of ${scoring.length} fit batches`);
        scoring.forEach((fit, i) => scorer.add(fit, results[i]!));
      }
      return predictorOutcome(merge.outcome, merge.set, merge.seriesUri, scorer.result());
    }
    case 'forecast': {
      let fallbacks = 0;
      const { store } = ctx;
      const { types } = merge;
      async function* columns(): AsyncGenerator<Float64Array> {
        for (const shard of plan.shards) {
          for (const batch of await shardResults(store, shard)) {
            for (const f of batch) {
              if (f.fallback) fallbacks++;
              yield* forecastColumns(f, types);
            }
          }
        }
      }
      const header = { bytes: merge.headerBytes, chunks: store.read(merge.headerUri) };
      await store.put(merge.predictionsUri, streamBinaryFile(header, columns(), { count: merge.columns, length: merge.horizon }));
      return { result: { predictionsUri: merge.predictionsUri, itemCount: merge.columns / types.length, fallbacks } };
    }
  }
}

const failureUriOf = (shard: ShardRef) => `${shard.outputUri}.failed`;

/** Writes why a shard failed for good beside it; answers the marker's URI. */
export async function recordShardFailure(store: ObjectStore, shard: ShardRef, cause: string): Promise<string> {
  const uri = failureUriOf(shard);
  await store.put(uri, cause);
  return uri;
}

/**
 * The Message of a failed job: the shard that kept failing (its items and why), else the
 * failure's own cause (Plan or Finish failed).
 */
export async function shardFailureMessage(store: ObjectStore, plan: JobPlan, cause: string): Promise<string> {
  for (const shard of plan.shards) {
    let why: string;
    try {
      why = (await store.get(failureUriOf(shard))).toString('utf8');
    } catch (error) {
      if ((error as Error).name === 'ObjectNotFound') continue;
      throw error;
    }
    const tasks = deserialize(await store.get(shard.inputUri)) as AnyFitTask[];
    const items = [...new Set(tasks.flatMap((task) => task.series.map((s) => s.item ?? '?')))];
    const shown = items.slice(0, 5).join(', ');
    return `Shard ${shard.index + 1} of ${plan.shards.length} (${items.length} item(s): ${shown}${items.length > 5 ? ', …' : ''}) failed: ${why}`;
  }
  return cause;
}
