/**
 * The steps of statemachine/engine-job.asl.json (the Lambdas engine-plan, engine-shard and
 * engine-finish are these functions behind a thin handler): each parses its input with zod,
 * does its part of sharded-jobs.ts and writes the job's document.
 */
import { z } from 'zod';
import { InvalidInput } from '../errors';
import type { ObjectStore } from '../ports';
import { describeIssues } from './input';
import type { FaultInjector } from '../../engine/faults';
import { markJobActive, markJobFailed } from '../../engine/job-outcome';
import { IN_PROGRESS, type Repository, type ResourceDoc } from '../../engine/repository';
import { finishJob, planJob, recordShardFailure, runShard, shardFailureMessage, type JobPlan, type ShardOutcome } from '../../engine/sharded-jobs';

export interface EngineJobDependencies {
  readonly store: ObjectStore;
  readonly repo: Repository;
  readonly faults: FaultInjector;
  readonly exportPartRows: number;
  /** Estimated fit cost per shard (sharded-jobs.ts DEFAULT_SHARD_COST). */
  readonly shardCost?: number;
  /** CSV bytes per item partition of an import (engine/partitions.ts PARTITION_CSV_BYTES; tests set it small). */
  readonly partitionBytes?: number;
}

const jobArn = z.string().regex(/^arn:aws[a-z-]*:forecast:/, 'must be an engine resource ARN');
const shardRef = z.object({ index: z.number().int().nonnegative(), inputUri: z.string().startsWith('s3://'), outputUri: z.string().startsWith('s3://') });
const jobPlan = z.object({ jobArn, manifestUri: z.string().startsWith('s3://'), shards: z.array(shardRef) });
const planInput = z.object({ jobArn });
const failure = z.object({ Error: z.string().optional(), Cause: z.string().optional() });
const shardInput = z.object({ jobArn, shard: shardRef, failure: failure.optional() });
const finishInput = z.object({
  jobArn,
  plan: jobPlan.optional(),
  failure: failure.optional(),
});

function parse<T>(schema: z.ZodType<T>, event: unknown, step: string): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error);
    throw new InvalidInput(`${step} input is not valid: ${issues.slice(0, 5).join('; ')}`, issues);
  }
  return parsed.data;
}

async function jobDocument(repo: Repository, arn: string): Promise<ResourceDoc> {
  const doc = await repo.get(arn);
  if (!doc) throw new InvalidInput(`No engine job ${arn} (deleted while it ran?)`);
  return doc;
}

/** Plan: marks the job CREATE_IN_PROGRESS and writes its shards' inputs. */
export async function planStep(event: unknown, deps: EngineJobDependencies): Promise<JobPlan> {
  const input = parse(planInput, event, 'Plan');
  const doc = await jobDocument(deps.repo, input.jobArn);
  if (!IN_PROGRESS.has(doc.status)) throw new InvalidInput(`${doc.arn} is ${doc.status}, not a job waiting to run`);
  await deps.repo.update(doc.arn, (d) => {
    if (d.status === 'CREATE_PENDING') d.status = 'CREATE_IN_PROGRESS';
  });
  return planJob(deps, doc, deps.shardCost);
}

/**
 * One shard of the Map: the fits of its batches. With `failure` (Record-Shard-Failure, after the
 * shard's retries ran out): records why beside the shard, for Fail-Job's Message.
 */
export async function shardStep(event: unknown, deps: Pick<EngineJobDependencies, 'store'>): Promise<ShardOutcome | { recorded: string }> {
  const input = parse(shardInput, event, 'Fit-Shard');
  if (input.failure) return { recorded: await recordShardFailure(deps.store, input.shard, causeOf(input.failure)) };
  return runShard(deps.store, input.shard);
}

/** What a Catch gives as the failure: `Cause` is a Lambda error's JSON (errorMessage) or text. */
function causeOf(failure: { Error?: string; Cause?: string }): string {
  let message = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (typeof parsed?.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // plain text
  }
  return [failure.Error, message].filter(Boolean).join(': ') || 'unknown error';
}

/**
 * Finish: the merge, and the job ACTIVE; with `failure` (the Fail-Job state), the job
 * CREATE_FAILED with a Message naming the failed shard's items. The shards' files go either way.
 */
export async function finishStep(event: unknown, deps: EngineJobDependencies): Promise<{ status: 'ACTIVE' | 'CREATE_FAILED' }> {
  const input = parse(finishInput, event, 'Finish');
  const doc = await jobDocument(deps.repo, input.jobArn);
  try {
    if (input.failure) {
      const cause = causeOf(input.failure);
      await markJobFailed(deps.repo, doc.arn, input.plan ? await shardFailureMessage(deps.store, input.plan, cause) : cause);
      return { status: 'CREATE_FAILED' };
    }
    if (!input.plan) throw new InvalidInput('Finish needs the plan (or a failure)');
    await markJobActive(deps.repo, doc.arn, await finishJob(deps, doc, input.plan));
    return { status: 'ACTIVE' };
  } finally {
    if (input.plan && (input.failure || (await deps.repo.get(doc.arn))?.status === 'ACTIVE')) {
      const folder = input.plan.manifestUri.slice(0, input.plan.manifestUri.lastIndexOf('/') + 1);
      for (const object of await deps.store.list(folder)) await deps.store.delete(object.uri);
    }
  }
}
