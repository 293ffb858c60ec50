/**
 * A job's work split into shards for a fan-out executor (statemachine/engine-job.asl.json):
 *
 * - Plan runs the job with a recording fit pool: every fit batch the job would send to the worker
 *   threads is recorded and answered with a placeholder, and the job's own writes are discarded. The
 *   batches are packed into shards by estimated fit cost and each shard's input is written.
 * - A shard runs `runFitTask` — the very function the worker threads run — over its batches and
 *   writes the results.
 * - Finish runs the job again with a pool that answers each batch from the shard results, so the
 *   merge (metrics pooled over all series, predictions, assignments, export parts) is the code one
 *   process runs, and the results are those of the in-process executor.
 *
 * Both runs use the same pool size, so the job sends the same batches in the same order; Finish
 * checks every batch against the one Plan recorded. Import and export jobs fit nothing: their plan
 * has no shards and Finish does all the work.
 */
import { deserialize, serialize } from 'node:v8';
import type { ObjectStore } from '../shared/ports';
import type { FaultInjector } from './faults';
import { runFitTask } from './forecast-series';
import { runJobWork, type FitPool, type JobContext } from './jobs';
import { parseArn, type Repository, type ResourceDoc } from './repository';
import type { AnyFitTask, SeriesForecast } from './worker-protocol';

/** Batches are sized as for a pool of this many workers (fitMany: ≤ 50 series per batch). */
const SHARDED_POOL_SIZE = 16;

/** Relative cost of one series-period of each algorithm (ETS = 1), for packing shards. */
const FIT_COST: Record<string, number> = { ETS: 1, ARIMA: 3, NPTS: 0.3, PROPHET: 4, AUTO: 9 };

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

interface Manifest {
  readonly jobArn: string;
  /** One entry per recorded batch, in the order the job sent them. */
  readonly batches: { readonly shard: number; readonly fingerprint: string }[];
  /** The items each shard fits (for a failure message). */
  readonly items: string[][];
}

export interface ShardedJobContext {
  readonly store: ObjectStore;
  readonly repo: Repository;
  readonly faults: FaultInjector;
  readonly exportPartRows: number;
}

const fingerprint = (task: AnyFitTask) => `${task.kind}|${task.algorithm}|${task.horizon}|${task.quantiles.join(',')}|${task.series.map((s) => s.values.length).join(',')}`;
const costOf = (task: AnyFitTask) => (FIT_COST[task.algorithm] ?? 1) * task.series.reduce((sum, s) => sum + s.values.length, 0);

function shardFolder(repo: Repository, doc: ResourceDoc): string {
  const parsed = parseArn(doc.arn)!;
  return repo.dataUri(parsed.type, parsed.id, 'shards');
}

/** A store whose writes go nowhere: Plan runs the job only to see its fit batches. */
function discardingWrites(store: ObjectStore): ObjectStore {
  return {
    put: async () => undefined,
    putIf: async () => '"discarded"',
    delete: async () => undefined,
    get: (uri) => store.get(uri),
    read: (uri) => store.read(uri),
    list: (uri) => store.list(uri),
    exists: (uri) => store.exists(uri),
    getVersioned: (uri) => store.getVersioned(uri),
  };
}

function jobContext(ctx: ShardedJobContext, store: ObjectStore, pool: FitPool): JobContext {
  return { store, repo: ctx.repo, pool, exportPartRows: ctx.exportPartRows, progress: () => undefined };
}

/** Plan: the job's fit batches, packed into shards of about `shardCost`, inputs written. */
export async function planJob(ctx: ShardedJobContext, doc: ResourceDoc, shardCost = DEFAULT_SHARD_COST): Promise<JobPlan> {
  const tasks: AnyFitTask[] = [];
  const recorder: FitPool = {
    size: SHARDED_POOL_SIZE,
    run: async (task) => {
      tasks.push(task);
      const zeros = () => new Float64Array(task.horizon);
      return task.series.map(() => ({ mean: zeros(), quantiles: task.quantiles.map(zeros), description: 'planned' }));
    },
  };
  await runJobWork(jobContext(ctx, discardingWrites(ctx.store), recorder), doc, ctx.faults);

  const groups: AnyFitTask[][] = [];
  let cost = Infinity;
  for (const task of tasks) {
    if (cost >= shardCost) {
      groups.push([]);
      cost = 0;
    }
    groups[groups.length - 1]!.push(task);
    cost += costOf(task);
  }
  const folder = shardFolder(ctx.repo, doc);
  const shards: ShardRef[] = groups.map((_, index) => ({ index, inputUri: `${folder}/${index}.in`, outputUri: `${folder}/${index}.out` }));
  const manifest: Manifest = {
    jobArn: doc.arn,
    batches: groups.flatMap((group, shard) => group.map((task) => ({ shard, fingerprint: fingerprint(task) }))),
    items: groups.map((group) => [...new Set(group.flatMap((task) => task.series.map((s) => s.item ?? '?')))]),
  };
  for (const [index, group] of groups.entries()) await ctx.store.put(shards[index]!.inputUri, serialize(group));
  const manifestUri = `${folder}/manifest.json`;
  await ctx.store.put(manifestUri, JSON.stringify(manifest));
  return { jobArn: doc.arn, manifestUri, shards };
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

/** Finish: the job run again, each fit batch answered from the shard results. */
export async function finishJob(ctx: ShardedJobContext, doc: ResourceDoc, plan: JobPlan): Promise<{ result?: Record<string, unknown>; message?: string }> {
  const manifest = JSON.parse((await ctx.store.get(plan.manifestUri)).toString('utf8')) as Manifest;
  const outputs = new Map<number, Promise<SeriesForecast[][]>>();
  const next = new Map<number, number>();
  let sent = 0;
  const replayer: FitPool = {
    size: SHARDED_POOL_SIZE,
    run: async (task) => {
      // Everything up to the first await runs in call order: the batch's place is fixed here.
      const expected = manifest.batches[sent++];
      if (!expected || expected.fingerprint !== fingerprint(task)) {
        throw new Error(`Internal: fit batch ${sent} of ${doc.arn} differs from the one planned (${expected?.fingerprint ?? 'none planned'})`);
      }
      const position = next.get(expected.shard) ?? 0;
      next.set(expected.shard, position + 1);
      let shard = outputs.get(expected.shard);
      if (!shard) {
        shard = ctx.store.get(plan.shards[expected.shard]!.outputUri).then((bytes) => deserialize(bytes) as SeriesForecast[][]);
        outputs.set(expected.shard, shard);
      }
      return (await shard)[position]!;
    },
  };
  const outcome = await runJobWork(jobContext(ctx, ctx.store, replayer), doc, ctx.faults);
  if (sent !== manifest.batches.length) throw new Error(`Internal: ${doc.arn} used ${sent} of ${manifest.batches.length} planned fit batches`);
  return outcome;
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
    const manifest = JSON.parse((await store.get(plan.manifestUri)).toString('utf8')) as Manifest;
    const items = manifest.items[shard.index] ?? [];
    const shown = items.slice(0, 5).join(', ');
    return `Shard ${shard.index + 1} of ${plan.shards.length} (${items.length} item(s): ${shown}${items.length > 5 ? ', …' : ''}) failed: ${why}`;
  }
  return cause;
}
