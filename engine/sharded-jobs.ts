/**
 * A job's work split into shards for a fan-out executor (statemachine/engine-job.asl.json), with
 * Plan and Finish whose memory is bounded by a unit of items and a shard, not by the job:
 *
 * - Plan reads the job's series one unit at a time (partitions.ts: an import's item partitions; a
 *   predictor's series and a forecast's predictions are stored per unit too), builds what the unit
 *   fits (a predictor's backtest fits, a forecast's fits: the batches one process would queue,
 *   training.ts planBacktest / planForecast), packs them into shards by estimated fit cost and
 *   writes each shard's input as soon as the shard is full, with what Finish needs to use its
 *   results: a predictor's scoring cases (actuals, MASE scales), a forecast's predictions headers
 *   (one file per unit, its layout). A predictor's series (its artifact, one file per unit) are
 *   written here too. A global model (CNN-QR, DeepAR+) trains one network over every series in one
 *   fit: with one among the algorithms, Plan holds all units at once and that fit's shard is the
 *   whole job — not flat.
 * - A shard runs `runFitTask` — the very function the worker threads run — over its batches and
 *   writes the results.
 * - Finish reads the shards one at a time, in plan order, and drops each: a predictor's results
 *   are folded into the pooled backtest sums (BacktestScorer: the same additions as one process,
 *   unit after unit, so the same metrics to rounding); a forecast's are streamed into its
 *   predictions files through the ObjectStore (each unit's header Plan wrote, read as a stream,
 *   then its arrays as the shards give them). The manifest holds no per-series data: beyond one
 *   shard, Finish holds only the predictor document's `assignments` (one algorithm name per series,
 *   the document's format).
 *
 * Import and export jobs fit nothing: their plan has no shards and Finish runs the job, streamed
 * (an import into its item partitions, an export from the forecast's units into its parts).
 */
import { deserialize, serialize } from 'node:v8';
import type { ObjectStore } from '../shared/ports';
import { streamBinaryFile } from './binary';
import { predictionsLayout } from './export-files';
import type { FaultInjector } from './faults';
import { runFitTask } from './forecast-series';
import {
  forecastPredictionsUri,
  forecastSource,
  predictorOutcome,
  predictorSeriesUri,
  predictorSource,
  runJobWork,
  throwInjectedFailure,
  wholeSeriesSet,
  type FitPool,
  type SeriesSetSummary,
} from './jobs';
import { isGlobalAlgorithm } from './models/registry';
import { parseArn, type Repository, type ResourceDoc } from './repository';
import { serializeSeriesSet, type SeriesSet } from './series';
import { BacktestScorer, forecastColumns, forecastStart, planBacktest, planForecast, type BacktestFit, type BacktestScoring, type ForecastFit } from './training';
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
      readonly seriesParts: string[];
      readonly set: SeriesSetSummary;
      readonly outcome: { readonly plan: { readonly dimensions: string[] }; readonly jobArns: string[] };
    }
  | {
      readonly kind: 'forecast';
      /** One predictions file per unit, in unit order: the shards' forecasts come unit after unit. */
      readonly parts: readonly PredictionsPart[];
      readonly types: string[];
      readonly horizon: number;
    };

/** One unit's predictions file, as Plan laid it out. */
interface PredictionsPart {
  readonly uri: string;
  /** The file's header (JSON, `headerBytes` long), written by Plan. */
  readonly headerUri: string;
  readonly headerBytes: number;
  /** Forecast columns the file holds (items × types), in the order the shards forecast them. */
  readonly columns: number;
}

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
  /** CSV bytes per item partition of an import (partitions.ts; tests set it small). */
  readonly partitionBytes?: number;
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
 * Packs fits into shards of about `shardCost`, in the order they are added (unit after unit),
 * writing each shard as soon as it is full (`extra`: what else goes beside its input).
 */
class ShardWriter<F extends { task: AnyFitTask }> {
  readonly shards: ShardRef[] = [];
  private group: F[] = [];
  private cost = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly folder: string,
    private readonly shardCost: number,
    private readonly extra?: (shard: ShardRef, fits: readonly F[]) => Promise<void>,
  ) {}

  async add(fits: readonly F[]): Promise<void> {
    for (const fit of fits) {
      this.group.push(fit);
      this.cost += costOf(fit.task);
      if (this.cost >= this.shardCost) await this.flush();
    }
  }

  /** Writes the last shard; answers them all. */
  async finish(): Promise<ShardRef[]> {
    if (this.group.length) await this.flush();
    return this.shards;
  }

  private async flush(): Promise<void> {
    const index = this.shards.length;
    const shard: ShardRef = { index, inputUri: `${this.folder}/${index}.in`, outputUri: `${this.folder}/${index}.out` };
    await this.store.put(shard.inputUri, serialize(this.group.map((f) => f.task)));
    await this.extra?.(shard, this.group);
    this.shards.push(shard);
    this.group = [];
    this.cost = 0;
  }
}

/**
 * The series a Plan works on, unit by unit (memory: one unit's series and the shard being filled),
 * or — when a global model (CNN-QR, DeepAR+) is among the algorithms, whose one network trains on
 * every series in one fit — all units as one set: then Plan, and that fit's shard, hold the job.
 */
async function* planUnits(
  units: number,
  unitSeries: (unit: number) => Promise<SeriesSet>,
  global: boolean,
  onUnit: (unit: number, set: SeriesSet) => Promise<void> = async () => {},
): AsyncGenerator<{ set: SeriesSet; firstIndex: number; unitSizes: number[] }> {
  if (global) {
    const { set, unitSizes } = await wholeSeriesSet(units, unitSeries, onUnit);
    yield { set, firstIndex: 0, unitSizes };
    return;
  }
  let firstIndex = 0;
  for (let unit = 0; unit < units; unit++) {
    const set = await unitSeries(unit);
    await onUnit(unit, set);
    yield { set, firstIndex, unitSizes: [set.series.length] };
    firstIndex += set.series.length;
  }
}

/**
 * The predictions file of each unit laid out from the fits planned over `set` (one unit, or all of
 * them for a global model): the shards' forecasts stream in fit order, so each unit's forecasts
 * must come together, after the previous unit's.
 */
async function writePredictionsHeaders(
  ctx: ShardedJobContext,
  doc: ResourceDoc,
  folder: string,
  planned: { set: SeriesSet; firstIndex: number; unitSizes: number[] },
  fits: readonly ForecastFit[],
  meta: { types: readonly string[]; keyColumns: readonly string[]; horizon: number },
  firstUnit: number,
): Promise<PredictionsPart[]> {
  const { set, unitSizes } = planned;
  const unitOf = new Uint32Array(set.series.length);
  const starts: number[] = [];
  let at = 0;
  unitSizes.forEach((size, u) => {
    starts.push(at);
    unitOf.fill(u, at, at + size);
    at += size;
  });
  const orders: number[][] = unitSizes.map(() => []);
  let lastUnit = 0;
  for (const index of fits.flatMap((fit) => [...fit.indexes])) {
    const u = unitOf[index]!;
    if (u < lastUnit) throw new Error(`Internal: the forecasts of ${doc.arn} would not come unit after unit`);
    lastUnit = u;
    orders[u]!.push(index - starts[u]!);
  }
  const parts: PredictionsPart[] = [];
  for (const [u, size] of unitSizes.entries()) {
    const unit = firstUnit + u;
    const items = set.series.slice(starts[u]!, starts[u]! + size).map((s) => ({ key: s.key, start: forecastStart(set, s).getTime() }));
    const header = Buffer.from(JSON.stringify(predictionsLayout({ ...meta, frequency: set.frequency.text }, items, orders[u]!, meta.horizon)), 'utf8');
    const headerUri = `${folder}/predictions.header.${unit}.json`;
    await ctx.store.put(headerUri, header);
    parts.push({ uri: forecastPredictionsUri(ctx, doc, unit), headerUri, headerBytes: header.length, columns: items.length * meta.types.length });
  }
  return parts;
}

/**
 * Plan: the job's fits packed into shards of about `shardCost`, inputs written — one unit of the
 * job's series at a time (partitions.ts), so its memory is a unit's, not the job's.
 */
export async function planJob(ctx: ShardedJobContext, doc: ResourceDoc, shardCost = DEFAULT_SHARD_COST): Promise<JobPlan> {
  throwInjectedFailure(doc, ctx.faults);
  const folder = shardFolder(ctx.repo, doc);
  const planned = await (async (): Promise<{ shards: ShardRef[]; merge: Merge }> => {
    switch (doc.type) {
      case 'predictor': {
        const source = await predictorSource(ctx, doc);
        const writer = new ShardWriter<BacktestFit>(ctx.store, folder, shardCost, (shard, group) =>
          ctx.store.put(scoringUriOf(shard), serialize(group.map(({ candidate, window, cases }) => ({ candidate, window, cases })))),
        );
        const seriesParts: string[] = [];
        const writeSeries = async (unit: number, set: SeriesSet) => {
          seriesParts.push(predictorSeriesUri(ctx, doc, unit));
          await ctx.store.put(seriesParts[unit]!, serializeSeriesSet(set));
        };
        let scoring: BacktestScoring | undefined;
        let seriesCount = 0;
        for await (const { set, firstIndex } of planUnits(source.units, source.unitSeries, source.backtest.candidates.some(isGlobalAlgorithm), writeSeries)) {
          const unit = planBacktest(set, source.backtest, SHARDED_POOL_SIZE, firstIndex);
          await writer.add(unit.fits);
          scoring = unit.scoring;
          seriesCount += set.series.length;
        }
        const shards = await writer.finish();
        const outcome = { plan: { dimensions: source.plan.dimensions }, jobArns: source.jobArns };
        const merge: Merge = { kind: 'backtest', scoring: { ...scoring!, seriesCount }, seriesParts, set: { seriesCount, length: source.length }, outcome };
        return { shards, merge };
      }
      case 'forecast': {
        const f = await forecastSource(ctx, doc);
        const writer = new ShardWriter<ForecastFit>(ctx.store, folder, shardCost);
        const parts: PredictionsPart[] = [];
        for await (const planned of planUnits(f.units, f.unitSeries, f.assignments.some(isGlobalAlgorithm))) {
          const { set, firstIndex } = planned;
          const assignments = f.assignments.slice(firstIndex, firstIndex + set.series.length);
          const fits = planForecast(set, assignments, f.params, f.horizon, f.types, SHARDED_POOL_SIZE, f.hpo);
          await writer.add(fits);
          parts.push(...(await writePredictionsHeaders(ctx, doc, folder, planned, fits, f, parts.length)));
        }
        if (parts.reduce((n, p) => n + p.columns, 0) !== f.assignments.length * f.types.length) {
          throw new Error(`Internal: the predictor of ${doc.arn} has ${f.assignments.length} assignments for a different number of series`);
        }
        return { shards: await writer.finish(), merge: { kind: 'forecast', parts, types: f.types, horizon: f.horizon } };
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
      return runJobWork(
        { store: ctx.store, repo: ctx.repo, pool: noFits, exportPartRows: ctx.exportPartRows, partitionBytes: ctx.partitionBytes, progress: () => undefined },
        doc,
        ctx.faults,
      );
    case 'backtest': {
      const scorer = new BacktestScorer(merge.scoring);
      for (const shard of plan.shards) {
        const [results, scoring] = await Promise.all([shardResults(ctx.store, shard), ctx.store.get(scoringUriOf(shard)).then((b) => deserialize(b) as ShardScoring)]);
        if (results.length !== scoring.length) throw new Error(`Internal: shard ${shard.index} of ${doc.arn} answered ${results.length} of ${scoring.length} fit batches`);
        scoring.forEach((fit, i) => scorer.add(fit, results[i]!));
      }
      return predictorOutcome(merge.outcome, merge.set, merge.seriesParts, scorer.result());
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
      // One stream of columns, shard after shard, split into the units' files in order.
      const stream = columns();
      const take = async function* (count: number): AsyncGenerator<Float64Array> {
        for (let i = 0; i < count; i++) {
          const next = await stream.next();
          if (next.done) return;
          yield next.value;
        }
      };
      for (const part of merge.parts) {
        const header = { bytes: part.headerBytes, chunks: store.read(part.headerUri) };
        await store.put(part.uri, streamBinaryFile(header, take(part.columns), { count: part.columns, length: merge.horizon }));
      }
      if (!(await stream.next()).done) throw new Error(`Internal: the shards of ${doc.arn} forecast more than its predictions files hold`);
      const columnCount = merge.parts.reduce((n, p) => n + p.columns, 0);
      return { result: { predictionsParts: merge.parts.map((p) => p.uri), itemCount: columnCount / types.length, fallbacks } };
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
