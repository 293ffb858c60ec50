/**
 * The rules every resource kind shares: reading (with lazy delete completion and dead-owner
 * takeover), creating (name uniqueness, quotas, the job limit) and deleting (children first, or a
 * whole tree). The command handlers (commands/*.ts) call these; the job executor runs what a
 * Create starts.
 */
import type { ObjectStore } from '../shared/ports';
import type { JobExecutor } from './executor';
import { exists, inUse, limit, notFound } from './service-errors';
import { DocumentExists, IN_PROGRESS, parseArn, processIdentity, resourceArn, type Repository, type ResourceDoc, type ResourceType } from './repository';
import { invalid, required } from './validation';

export interface EngineTiming {
  /** How long a new job stays CREATE_PENDING. */
  readonly pendingMs: number;
  /** How long a deleted resource stays DELETE_IN_PROGRESS. */
  readonly deleteMs: number;
  /** Heartbeat interval of a running job. */
  readonly heartbeatMs: number;
  /** A job whose heartbeat is older than this (or whose owner process is gone) is taken over. */
  readonly leaseMs: number;
  /** Runs of one job (first run + takeovers) before it is marked CREATE_FAILED. */
  readonly maxAttempts: number;
}

export const DEFAULT_TIMING: EngineTiming = { pendingMs: 50, deleteMs: 300, heartbeatMs: 2_000, leaseMs: 15_000, maxAttempts: 3 };

export const JOB_TYPES: readonly ResourceType[] = ['dataset-import-job', 'predictor', 'forecast', 'forecast-export-job'];

/** Resource counts per type before LimitExceededException (the service's default quotas). */
const RESOURCE_QUOTA: Record<ResourceType, number> = {
  dataset: 1500,
  'dataset-group': 1500,
  'dataset-import-job': 1000,
  predictor: 500,
  forecast: 500,
  'forecast-export-job': 5000,
};
const CHILD_TYPES: Record<ResourceType, ResourceType[]> = {
  dataset: ['dataset-import-job'],
  'dataset-group': ['predictor'],
  'dataset-import-job': [],
  predictor: ['forecast'],
  forecast: ['forecast-export-job'],
  'forecast-export-job': [],
};

export interface LifecycleOptions {
  readonly store: ObjectStore;
  readonly repo: Repository;
  readonly executor: JobExecutor;
  readonly region: string;
  readonly account: string;
  readonly timing: EngineTiming;
  /** Concurrent create jobs per type before LimitExceededException. */
  readonly concurrentJobs: number;
}

type Request = Record<string, unknown>;

export class ResourceLifecycle {
  private readonly recovering = new Map<string, Promise<ResourceDoc | undefined>>();
  private readonly creating = new Map<ResourceType, Promise<unknown>>();
  private readonly deleteTimers = new Set<NodeJS.Timeout>();
  /** Jobs created here whose executor has not been started yet (their owner is this process). */
  private readonly launching = new Set<string>();

  constructor(private readonly options: LifecycleOptions) {}

  arnOf(type: ResourceType, id: string): string {
    return resourceArn(this.options.region, this.options.account, type, id);
  }

  // ---------- reading, with lazy delete completion and dead-owner recovery ----------

  async read(arn: string): Promise<ResourceDoc | undefined> {
    if (!parseArn(arn)) return undefined;
    return this.settle(await this.options.repo.get(arn), true);
  }

  async readAll(type: ResourceType): Promise<ResourceDoc[]> {
    const docs = await Promise.all((await this.options.repo.list(type)).map((doc) => this.settle(doc, false)));
    return docs.filter((d): d is ResourceDoc => d !== undefined);
  }

  async mustRead(arn: unknown, type: ResourceType, field: string): Promise<ResourceDoc> {
    if (typeof arn !== 'string' || arn === '') throw invalid(`${field} is required`);
    const parsed = parseArn(arn);
    if (!parsed || parsed.type !== type) throw invalid(`${field} "${arn}" is not a ${type} ARN`);
    const doc = await this.read(arn);
    if (!doc) throw notFound(`No ${type} found with ARN ${arn}`);
    return doc;
  }

  /** Whether the dataset has an import job in progress. */
  async isImporting(datasetArn: string): Promise<boolean> {
    return (await this.readAll('dataset-import-job')).some((j) => j.parentArn === datasetArn && IN_PROGRESS.has(j.status));
  }

  /**
   * Completes a due delete; with `takeOver`, resumes (or fails) a job whose owner is gone. Only calls
   * naming one resource take over (Describe, and Create/Delete checks): a List — e.g. a short-lived
   * `forecast-pipeline resources` process — must not adopt jobs it would abandon on exit.
   */
  private async settle(doc: ResourceDoc | undefined, takeOver: boolean): Promise<ResourceDoc | undefined> {
    if (!doc) return undefined;
    if (doc.status === 'DELETE_IN_PROGRESS' && doc.deleteAt && Date.parse(doc.deleteAt) <= Date.now()) {
      await this.finishDelete(doc.arn);
      return undefined;
    }
    if (takeOver && doc.execution && IN_PROGRESS.has(doc.status)) return this.failIfExecutionEnded(doc, doc.execution);
    if (takeOver && this.isOrphaned(doc)) return this.recover(doc);
    return doc;
  }

  /** A job run by a workflow execution that ended without finishing it is CREATE_FAILED, never stuck. */
  private async failIfExecutionEnded(doc: ResourceDoc, execution: string): Promise<ResourceDoc | undefined> {
    const status = await this.options.executor.executionStatus?.(execution);
    if (status === undefined || status === 'RUNNING' || status === 'PENDING_REDRIVE') return doc;
    return this.options.repo.update(doc.arn, (d) => {
      // The execution's last step may have finished the job since `doc` was read.
      if (!IN_PROGRESS.has(d.status) || d.execution !== execution) return 'unchanged';
      d.status = 'CREATE_FAILED';
      d.message = `The job's execution ended ${status} before it finished the job (${execution})`;
    });
  }

  /**
   * A job is orphaned when the process that ran it is gone. A job a workflow execution runs
   * (`execution`) is never: the execution owns it, and failIfExecutionEnded fails it when the
   * execution ends unfinished. (A Describe can read the document just before the executor records
   * the execution and decide after: without this check it would start a second execution.)
   */
  private isOrphaned(doc: ResourceDoc): boolean {
    return (
      IN_PROGRESS.has(doc.status) &&
      doc.execution === undefined &&
      !this.launching.has(doc.arn) &&
      !this.options.executor.isRunning(doc.arn) &&
      this.ownerIsGone(doc)
    );
  }

  private ownerIsGone(doc: ResourceDoc): boolean {
    const owner = doc.owner;
    if (!owner) return true;
    if (owner.instance === processIdentity.instance) return true; // ours, yet not running here
    if (Date.now() - Date.parse(owner.heartbeatAt) > this.options.timing.leaseMs) return true;
    if (owner.host !== processIdentity.host) return false;
    try {
      process.kill(owner.pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  private recover(doc: ResourceDoc): Promise<ResourceDoc | undefined> {
    const pending = this.recovering.get(doc.arn);
    if (pending) return pending;
    const attempt = this.recoverNow(doc).finally(() => this.recovering.delete(doc.arn));
    this.recovering.set(doc.arn, attempt);
    return attempt;
  }

  private async recoverNow(doc: ResourceDoc): Promise<ResourceDoc | undefined> {
    const { repo, executor, timing } = this.options;
    // `doc` may be stale (read before the job finished here): decide again on the fresh document.
    const previous = doc.owner ? `pid ${doc.owner.pid} on ${doc.owner.host}` : 'an unknown process';
    let took = false;
    const taken = await repo.update(doc.arn, (d) => {
      took = false;
      if (!this.isOrphaned(d)) return 'unchanged';
      const attempts = d.attempts ?? 1;
      if (attempts >= timing.maxAttempts) {
        d.status = 'CREATE_FAILED';
        d.message = `The engine process running this job (${previous}) stopped before it finished, ${attempts} time(s); giving up`;
        delete d.owner;
        return;
      }
      took = true;
      d.attempts = attempts + 1;
      d.owner = { ...processIdentity, heartbeatAt: new Date().toISOString() };
      d.message = `Resumed by pid ${process.pid}: the process running it (${previous}) stopped`;
    });
    // The update is a compare-and-swap: of two processes taking over at once, the second re-reads,
    // finds the first one's live lease and changes nothing, so exactly one process runs the job.
    if (taken && took && !executor.isRunning(doc.arn)) executor.start(taken);
    return taken;
  }

  // ---------- creating ----------

  /**
   * Creates of one type run one at a time in this process: the quota checks read the stored
   * documents, so concurrent creates (a step creating every model's predictor at once) would all
   * pass the 3-concurrent-jobs check before any of them was written. Across processes the name is
   * taken by a create-once write, and a job runs only with one of the limit's slots.
   */
  create(type: ResourceType, id: string, name: string, request: Request, parentArn?: string): Promise<ResourceDoc> {
    const previous = this.creating.get(type) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.createNow(type, id, name, request, parentArn));
    this.creating.set(type, next);
    return next;
  }

  private async createNow(type: ResourceType, id: string, name: string, request: Request, parentArn?: string): Promise<ResourceDoc> {
    const arn = this.arnOf(type, id);
    const existing = await this.read(arn);
    if (existing) {
      throw exists(
        existing.status === 'DELETE_IN_PROGRESS'
          ? `A ${type} named ${name} is being deleted; the name can be reused once the delete finishes`
          : `A ${type} with the name ${name} already exists (${arn})`,
      );
    }
    const all = await this.readAll(type);
    if (all.length >= RESOURCE_QUOTA[type]) throw limit(`The account holds ${all.length} ${type} resources, the limit is ${RESOURCE_QUOTA[type]}`);
    const job = JOB_TYPES.includes(type);
    if (job) {
      const active = all.filter((d) => IN_PROGRESS.has(d.status)).length;
      if (active >= this.options.concurrentJobs) {
        throw limit(`${active} ${type} jobs are already in progress; at most ${this.options.concurrentJobs} may run concurrently`);
      }
    }
    const now = new Date().toISOString();
    // Datasets and groups are bookkeeping only: ACTIVE at once. Jobs start CREATE_PENDING.
    const doc: ResourceDoc = {
      type,
      arn,
      name,
      status: job ? 'CREATE_PENDING' : 'ACTIVE',
      creationTime: now,
      lastModificationTime: now,
      parentArn,
      request: JSON.parse(JSON.stringify(request)) as Request,
      ...(job ? { owner: { ...processIdentity, heartbeatAt: now }, attempts: 1 } : {}),
    };
    if (job) this.launching.add(arn);
    try {
      try {
        await this.options.repo.create(doc);
      } catch (error) {
        if (error instanceof DocumentExists) throw exists(`A ${type} with the name ${name} already exists (${arn})`);
        throw error;
      }
      if (job) await this.claimJobSlot(doc);
      if (job) this.options.executor.start(doc);
    } finally {
      this.launching.delete(arn);
    }
    return doc;
  }

  /**
   * Another process may have passed the job-limit check above at the same time: the job runs only
   * with one of the limit's slots (repository.claimJobSlot), else its document is withdrawn.
   */
  private async claimJobSlot(doc: ResourceDoc): Promise<void> {
    const { repo, concurrentJobs } = this.options;
    if (await repo.claimJobSlot(doc.type, doc.arn, concurrentJobs, (holder) => IN_PROGRESS.has(holder.status))) return;
    await repo.remove(doc.arn);
    throw limit(`${concurrentJobs} ${doc.type} jobs are already in progress (in other engine processes); at most ${concurrentJobs} may run concurrently`);
  }

  // ---------- deleting ----------

  async children(doc: ResourceDoc): Promise<ResourceDoc[]> {
    const found: ResourceDoc[] = [];
    for (const type of CHILD_TYPES[doc.type]) found.push(...(await this.readAll(type)).filter((c) => c.parentArn === doc.arn));
    return found;
  }

  /** The Delete<Type> command: the resource must be settled and childless. */
  async deleteOne(type: ResourceType, arnField: string, input: Request): Promise<Record<string, unknown>> {
    const doc = await this.mustRead(input[arnField], type, arnField);
    checkDeletable(doc);
    const kids = await this.children(doc);
    if (kids.length) {
      throw inUse(`${doc.arn} has ${kids.length} child resource(s) (e.g. ${kids[0]!.arn}); delete them first or use DeleteResourceTree`);
    }
    if (type === 'dataset' && (await this.isImporting(doc.arn))) throw inUse(`${doc.arn} has an import job in progress`);
    await this.startDelete(doc);
    return {};
  }

  /** DeleteResourceTree: the resource and everything under it, children first. */
  async deleteTree(input: Request): Promise<Record<string, unknown>> {
    const arn = required('ResourceArn', input.ResourceArn as string | undefined);
    const parsed = parseArn(arn);
    if (!parsed) throw invalid(`ResourceArn "${arn}" is not a Forecast resource ARN`);
    const root = await this.read(arn);
    if (!root) throw notFound(`No resource found with ARN ${arn}`);
    const tree: ResourceDoc[] = [];
    const walk = async (doc: ResourceDoc) => {
      for (const child of await this.children(doc)) await walk(child);
      tree.push(doc);
    };
    await walk(root);
    for (const doc of tree) if (doc.status !== 'DELETE_IN_PROGRESS') checkDeletable(doc);
    for (const doc of tree) if (doc.status !== 'DELETE_IN_PROGRESS') await this.startDelete(doc);
    return {};
  }

  private async startDelete(doc: ResourceDoc): Promise<void> {
    const { deleteMs } = this.options.timing;
    await this.options.repo.update(doc.arn, (d) => {
      d.status = 'DELETE_IN_PROGRESS';
      d.deleteAt = new Date(Date.now() + deleteMs).toISOString();
    });
    const timer = setTimeout(() => {
      this.deleteTimers.delete(timer);
      void this.finishDelete(doc.arn).catch(() => undefined);
    }, deleteMs);
    timer.unref();
    this.deleteTimers.add(timer);
  }

  private async finishDelete(arn: string): Promise<void> {
    const { repo, store } = this.options;
    const parsed = parseArn(arn)!;
    const prefix = repo.dataUri(parsed.type, parsed.id, '');
    for (const object of await store.list(prefix)) await store.delete(object.uri);
    await repo.update(arn, (d) => (d.status === 'DELETE_IN_PROGRESS' ? 'delete' : undefined));
  }

  /** Stops the pending delete timers (their deletes complete lazily on the next read). */
  close(): void {
    for (const timer of this.deleteTimers) clearTimeout(timer);
  }
}

function checkDeletable(doc: ResourceDoc): void {
  if (doc.status !== 'ACTIVE' && doc.status !== 'CREATE_FAILED' && doc.status !== 'UPDATE_FAILED') {
    throw inUse(`${doc.arn} is ${doc.status}; only ACTIVE or CREATE_FAILED resources can be deleted`);
  }
}
