/**
 * The built-in engine behind the Forecast port: `send(command)` takes the real
 * `@aws-sdk/client-forecast` command instances, answers with the SDK's output shapes and throws the
 * SDK's exception classes under the service's conditions (forecast-api.md).
 *
 * Resources are JSON documents in the object store under `stateUri`; jobs run asynchronously in this
 * process (CREATE_PENDING → CREATE_IN_PROGRESS → ACTIVE | CREATE_FAILED), model fits in a worker-thread
 * pool. A job's document carries its owner (pid, host, instance) and a heartbeat: when a Describe
 * (or a Create/Delete naming it) finds a job whose owner is gone, this process takes it over and runs it again (up to
 * `maxAttempts` times in all), then marks it CREATE_FAILED — never stuck in progress.
 */
import { EventEmitter } from 'node:events';
import {
  CreateAutoPredictorCommand,
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  CreateForecastCommand,
  CreateForecastExportJobCommand,
  CreatePredictorCommand,
  DeleteDatasetCommand,
  DeleteDatasetGroupCommand,
  DeleteDatasetImportJobCommand,
  DeleteForecastCommand,
  DeleteForecastExportJobCommand,
  DeletePredictorCommand,
  DeleteResourceTreeCommand,
  DescribeAutoPredictorCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeDatasetImportJobCommand,
  DescribeForecastCommand,
  DescribeForecastExportJobCommand,
  DescribePredictorCommand,
  ForecastServiceException,
  GetAccuracyMetricsCommand,
  LimitExceededException,
  ListDatasetGroupsCommand,
  ListDatasetImportJobsCommand,
  ListDatasetsCommand,
  ListForecastExportJobsCommand,
  ListForecastsCommand,
  ListPredictorsCommand,
  ResourceAlreadyExistsException,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateDatasetGroupCommand,
  type Filter,
} from '@aws-sdk/client-forecast';
import { availableParallelism } from 'node:os';
import { InvalidInput, NotImplemented } from '../shared/errors';
import type { ForecastPort, ObjectStore } from '../shared/ports';
import { FaultInjector, type FaultResource } from './faults';
import { runExportJob, runForecastJob, runImportJob, runPredictorJob, type JobContext } from './jobs';
import { ALGORITHMS, ALGORITHM_ARNS, algorithmFromArn, isGlobalAlgorithm, modelSpec, validateTrainingParameters } from './models/registry';
import { JobSlots } from './job-slots';
import { jobSlotsFromEnv } from './limits';
import { WorkerPool } from './pool';
import { parseArn, processIdentity, Repository, resourceArn, type ResourceDoc, type ResourceType } from './repository';
import { relatedFilling, targetFilling } from './series';
import type { Evaluation, WindowResult } from './training';
import { checkFrequency, checkForecastTypes, checkInteger, checkName, checkS3Path, invalid, required } from './validation';

export interface BuiltinForecastOptions {
  /** Where the engine keeps its resources and trained models. */
  readonly store: ObjectStore;
  /** `s3://bucket/prefix` under which the engine's state lives in that store. */
  readonly stateUri: string;
  /** Region in ARNs; default AWS_REGION or us-east-1. */
  readonly region?: string;
  /** Account in ARNs; default 000000000000. */
  readonly account?: string;
  /** Worker threads; default os.availableParallelism(). */
  readonly workers?: number;
  /** Fault rules; default from FORECAST_FAULTS. */
  readonly faults?: FaultInjector;
  /** Concurrent create jobs per type before LimitExceededException; default 3 (the service quota). */
  readonly concurrentJobs?: number;
  /** Jobs doing their work at once (the rest wait CREATE_PENDING); default FORECAST_ENGINE_JOB_SLOTS or 1. */
  readonly jobSlots?: number;
  /** Rows per export part file; default 100 000. */
  readonly exportPartRows?: number;
  readonly timing?: Partial<EngineTiming>;
}

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

const DEFAULT_TIMING: EngineTiming = { pendingMs: 50, deleteMs: 300, heartbeatMs: 2_000, leaseMs: 15_000, maxAttempts: 3 };

export interface ProgressEvent {
  readonly arn: string;
  readonly type: ResourceType;
  readonly name: string;
  readonly done: number;
  readonly total: number;
  /** Set on the last event of a job, once its document says ACTIVE or CREATE_FAILED. */
  readonly status?: 'ACTIVE' | 'CREATE_FAILED';
}

export interface BuiltinForecast extends ForecastPort {
  /** Subscribes to job progress (items done / total); returns the unsubscribe function. */
  onProgress(listener: (event: ProgressEvent) => void): () => void;
  /** Resolves when no job of this process is running. */
  idle(): Promise<void>;
  /** Stops the worker threads (running jobs fail). */
  close(): Promise<void>;
  /** Every resource the engine holds (for `forecast-pipeline resources`). */
  listAll(): Promise<ResourceDoc[]>;
}

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Handler = (input: Input) => Promise<Record<string, unknown>>;

const JOB_TYPES: readonly ResourceType[] = ['dataset-import-job', 'predictor', 'forecast', 'forecast-export-job'];
const FAULT_RESOURCE: Partial<Record<ResourceType, FaultResource>> = {
  'dataset-import-job': 'datasetImportJob',
  predictor: 'predictor',
  forecast: 'forecast',
  'forecast-export-job': 'forecastExportJob',
};
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
const IN_PROGRESS = new Set(['CREATE_PENDING', 'CREATE_IN_PROGRESS']);
const TAKEOVER_SETTLE_MS = 25;

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });
const inUse = (message: string) => new ResourceInUseException({ message, $metadata: {} });
const exists = (message: string) => new ResourceAlreadyExistsException({ message, $metadata: {} });
const limit = (message: string) => new LimitExceededException({ message, $metadata: {} });

/** `ThrottlingException` as the SDK raises it (no modelled class: a service exception with that name). */
function throttling(operation: string): ForecastServiceException {
  const error = new ForecastServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `Rate exceeded (${operation}, injected by FORECAST_FAULTS)`,
  });
  error.$retryable = { throttling: true };
  return error;
}

const date = (iso: string | undefined) => (iso ? new Date(iso) : undefined);

export function createBuiltinForecast(options: BuiltinForecastOptions): BuiltinForecast {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const timing: EngineTiming = { ...DEFAULT_TIMING, ...options.timing };
  const faults = options.faults ?? FaultInjector.fromEnv();
  const concurrentJobs = options.concurrentJobs ?? 3;
  const repo = new Repository(options.store, options.stateUri);
  const slots = new JobSlots(options.jobSlots ?? jobSlotsFromEnv());
  let pool: WorkerPool | undefined;
  const getPool = () => (pool ??= new WorkerPool(options.workers ?? availableParallelism()));
  const events = new EventEmitter();
  const running = new Map<string, Promise<void>>();
  const recovering = new Map<string, Promise<ResourceDoc | undefined>>();
  const deleteTimers = new Set<NodeJS.Timeout>();

  const arnOf = (type: ResourceType, id: string) => resourceArn(region, account, type, id);

  // ---------- reading, with lazy delete completion and dead-owner recovery ----------

  /**
   * Completes a due delete; with `takeOver`, resumes (or fails) a job whose owner is gone. Only calls
   * naming one resource take over (Describe, and Create/Delete checks): a List — e.g. a short-lived
   * `forecast-pipeline resources` process — must not adopt jobs it would abandon on exit.
   */
  async function settle(doc: ResourceDoc | undefined, takeOver: boolean): Promise<ResourceDoc | undefined> {
    if (!doc) return undefined;
    if (doc.status === 'DELETE_IN_PROGRESS' && doc.deleteAt && Date.parse(doc.deleteAt) <= Date.now()) {
      await finishDelete(doc.arn);
      return undefined;
    }
    if (takeOver && IN_PROGRESS.has(doc.status) && !running.has(doc.arn) && ownerIsGone(doc)) return recover(doc);
    return doc;
  }

  function ownerIsGone(doc: ResourceDoc): boolean {
    const owner = doc.owner;
    if (!owner) return true;
    if (owner.instance === processIdentity.instance) return true; // ours, yet not running here
    if (Date.now() - Date.parse(owner.heartbeatAt) > timing.leaseMs) return true;
    if (owner.host !== processIdentity.host) return false;
    try {
      process.kill(owner.pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  async function recover(doc: ResourceDoc): Promise<ResourceDoc | undefined> {
    const pending = recovering.get(doc.arn);
    if (pending) return pending;
    const attempt = recoverNow(doc).finally(() => recovering.delete(doc.arn));
    recovering.set(doc.arn, attempt);
    return attempt;
  }

  async function recoverNow(doc: ResourceDoc): Promise<ResourceDoc | undefined> {
    // `doc` may be stale (read before the job finished here): decide again on the fresh document.
    const orphaned = (d: ResourceDoc) => IN_PROGRESS.has(d.status) && !running.has(d.arn) && ownerIsGone(d);
    const previous = doc.owner ? `pid ${doc.owner.pid} on ${doc.owner.host}` : 'an unknown process';
    let took = false;
    const taken = await repo.update(doc.arn, (d) => {
      if (!orphaned(d)) return 'unchanged';
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
    if (!taken || !took) return taken;
    // Two processes may take over at once: the stores' last writer wins, so only the process that
    // still owns the document a moment later runs the job.
    await new Promise((resolve) => setTimeout(resolve, TAKEOVER_SETTLE_MS));
    const settled = await repo.get(doc.arn);
    if (settled && IN_PROGRESS.has(settled.status) && settled.owner?.instance === processIdentity.instance && !running.has(doc.arn)) startJob(settled);
    return settled;
  }

  async function read(arn: string): Promise<ResourceDoc | undefined> {
    if (!parseArn(arn)) return undefined;
    return settle(await repo.get(arn), true);
  }

  async function readAll(type: ResourceType): Promise<ResourceDoc[]> {
    const docs = await Promise.all((await repo.list(type)).map((doc) => settle(doc, false)));
    return docs.filter((d): d is ResourceDoc => d !== undefined);
  }

  async function mustRead(arn: unknown, type: ResourceType, field: string): Promise<ResourceDoc> {
    if (typeof arn !== 'string' || arn === '') throw invalid(`${field} is required`);
    const parsed = parseArn(arn);
    if (!parsed || parsed.type !== type) throw invalid(`${field} "${arn}" is not a ${type} ARN`);
    const doc = await read(arn);
    if (!doc) throw notFound(`No ${type} found with ARN ${arn}`);
    return doc;
  }

  // ---------- jobs ----------

  function startJob(doc: ResourceDoc): void {
    const work = (async () => {
      const heartbeat = setInterval(() => {
        void repo.update(doc.arn, (d) => {
          if (d.owner) d.owner = { ...d.owner, heartbeatAt: new Date().toISOString() };
        });
      }, timing.heartbeatMs);
      heartbeat.unref();
      let release: (() => void) | undefined;
      try {
        if (doc.status === 'CREATE_PENDING') await new Promise((resolve) => setTimeout(resolve, timing.pendingMs));
        release = await slots.acquire();
        await repo.update(doc.arn, (d) => {
          d.status = 'CREATE_IN_PROGRESS';
          d.owner = { ...processIdentity, heartbeatAt: new Date().toISOString() };
        });
        let lastWrite = 0;
        const ctx: JobContext = {
          store: options.store,
          repo,
          get pool() {
            return getPool();
          },
          exportPartRows: options.exportPartRows ?? 100_000,
          progress(done, total) {
            events.emit('progress', { arn: doc.arn, type: doc.type, name: doc.name, done, total } satisfies ProgressEvent);
            if (Date.now() - lastWrite > 1000 || done === total) {
              lastWrite = Date.now();
              void repo.update(doc.arn, (d) => {
                d.progress = { done, total };
              });
            }
          },
        };
        const { result, message } = await runWork(ctx, doc);
        await repo.update(doc.arn, (d) => {
          d.status = 'ACTIVE';
          d.result = result;
          if (message) d.message = message;
          else delete d.message;
          delete d.owner;
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await repo.update(doc.arn, (d) => {
          d.status = 'CREATE_FAILED';
          d.message = message;
          delete d.owner;
        });
      } finally {
        release?.();
        clearInterval(heartbeat);
        running.delete(doc.arn);
        const final = await repo.get(doc.arn).catch(() => undefined);
        if (final && (final.status === 'ACTIVE' || final.status === 'CREATE_FAILED')) {
          const total = final.progress?.total ?? 0;
          events.emit('progress', { arn: doc.arn, type: doc.type, name: doc.name, done: total, total, status: final.status } satisfies ProgressEvent);
        }
      }
    })();
    running.set(doc.arn, work);
  }

  async function runWork(ctx: JobContext, doc: ResourceDoc): Promise<{ result?: Record<string, unknown>; message?: string }> {
    const faultType = FAULT_RESOURCE[doc.type];
    const injected = faultType ? faults.resourceFailure(faultType, doc.name) : undefined;
    if (injected) throw new Error(injected);
    switch (doc.type) {
      case 'dataset':
      case 'dataset-group':
        return {}; // never jobs (ACTIVE at creation); kept for an exhaustive switch
      case 'dataset-import-job':
        return { result: await runImportJob(ctx, doc) };
      case 'predictor':
        return runPredictorJob(ctx, doc);
      case 'forecast':
        return { result: await runForecastJob(ctx, doc) };
      case 'forecast-export-job':
        return { result: await runExportJob(ctx, doc) };
    }
  }

  /**
   * Creates of one type run one at a time in this process: the name and quota checks read the
   * stored documents, so concurrent creates (a step creating every model's predictor at once) would
   * all pass the 3-concurrent-jobs check before any of them was written.
   */
  const creating = new Map<ResourceType, Promise<unknown>>();
  function create(type: ResourceType, id: string, name: string, request: Input, parentArn?: string): Promise<ResourceDoc> {
    const previous = creating.get(type) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => createNow(type, id, name, request, parentArn));
    creating.set(type, next);
    return next;
  }

  async function createNow(type: ResourceType, id: string, name: string, request: Input, parentArn?: string): Promise<ResourceDoc> {
    const arn = arnOf(type, id);
    const existing = await read(arn);
    if (existing) {
      throw exists(
        existing.status === 'DELETE_IN_PROGRESS'
          ? `A ${type} named ${name} is being deleted; the name can be reused once the delete finishes`
          : `A ${type} with the name ${name} already exists (${arn})`,
      );
    }
    const all = await readAll(type);
    if (all.length >= RESOURCE_QUOTA[type]) throw limit(`The account holds ${all.length} ${type} resources, the limit is ${RESOURCE_QUOTA[type]}`);
    if (JOB_TYPES.includes(type)) {
      const active = all.filter((d) => IN_PROGRESS.has(d.status)).length;
      if (active >= concurrentJobs) {
        throw limit(`${active} ${type} jobs are already in progress; at most ${concurrentJobs} may run concurrently`);
      }
    }
    const now = new Date().toISOString();
    // Datasets and groups are bookkeeping only: ACTIVE at once. Jobs start CREATE_PENDING.
    const job = JOB_TYPES.includes(type);
    const doc: ResourceDoc = {
      type,
      arn,
      name,
      status: job ? 'CREATE_PENDING' : 'ACTIVE',
      creationTime: now,
      lastModificationTime: now,
      parentArn,
      request: JSON.parse(JSON.stringify(request)) as Input,
      ...(job ? { owner: { ...processIdentity, heartbeatAt: now }, attempts: 1 } : {}),
    };
    await repo.put(doc);
    if (job) startJob(doc);
    return doc;
  }

  // ---------- deletes ----------

  async function children(doc: ResourceDoc): Promise<ResourceDoc[]> {
    const found: ResourceDoc[] = [];
    for (const type of CHILD_TYPES[doc.type]) found.push(...(await readAll(type)).filter((c) => c.parentArn === doc.arn));
    return found;
  }

  function checkDeletable(doc: ResourceDoc): void {
    if (doc.status !== 'ACTIVE' && doc.status !== 'CREATE_FAILED' && doc.status !== 'UPDATE_FAILED') {
      throw inUse(`${doc.arn} is ${doc.status}; only ACTIVE or CREATE_FAILED resources can be deleted`);
    }
  }

  async function startDelete(doc: ResourceDoc): Promise<void> {
    await repo.update(doc.arn, (d) => {
      d.status = 'DELETE_IN_PROGRESS';
      d.deleteAt = new Date(Date.now() + timing.deleteMs).toISOString();
    });
    const timer = setTimeout(() => {
      deleteTimers.delete(timer);
      void finishDelete(doc.arn).catch(() => undefined);
    }, timing.deleteMs);
    timer.unref();
    deleteTimers.add(timer);
  }

  async function finishDelete(arn: string): Promise<void> {
    const parsed = parseArn(arn)!;
    const prefix = repo.dataUri(parsed.type, parsed.id, '');
    for (const object of await options.store.list(prefix)) await options.store.delete(object.uri);
    await repo.update(arn, (d) => (d.status === 'DELETE_IN_PROGRESS' ? 'delete' : undefined));
  }

  async function deleteOne(type: ResourceType, arnField: string, input: Input): Promise<Record<string, unknown>> {
    const doc = await mustRead(input[arnField], type, arnField);
    checkDeletable(doc);
    const kids = await children(doc);
    if (kids.length) {
      throw inUse(`${doc.arn} has ${kids.length} child resource(s) (e.g. ${kids[0]!.arn}); delete them first or use DeleteResourceTree`);
    }
    if (type === 'dataset') {
      const importing = (await readAll('dataset-import-job')).some((j) => j.parentArn === doc.arn && IN_PROGRESS.has(j.status));
      if (importing) throw inUse(`${doc.arn} has an import job in progress`);
    }
    await startDelete(doc);
    return {};
  }

  async function deleteTree(input: Input): Promise<Record<string, unknown>> {
    const arn = required('ResourceArn', input.ResourceArn as string | undefined);
    const parsed = parseArn(arn);
    if (!parsed) throw invalid(`ResourceArn "${arn}" is not a Forecast resource ARN`);
    const root = await read(arn);
    if (!root) throw notFound(`No resource found with ARN ${arn}`);
    const tree: ResourceDoc[] = [];
    const walk = async (doc: ResourceDoc) => {
      for (const child of await children(doc)) await walk(child);
      tree.push(doc);
    };
    await walk(root);
    for (const doc of tree) if (doc.status !== 'DELETE_IN_PROGRESS') checkDeletable(doc);
    for (const doc of tree) if (doc.status !== 'DELETE_IN_PROGRESS') await startDelete(doc);
    return {};
  }

  // ---------- listing ----------

  function page<T>(items: T[], input: Input, key: string): Record<string, unknown> {
    const max = input.MaxResults === undefined ? 100 : checkInteger('MaxResults', input.MaxResults, 1, 100);
    let start = 0;
    if (input.NextToken !== undefined) {
      start = Number(Buffer.from(String(input.NextToken), 'base64').toString('utf8'));
      if (!Number.isInteger(start) || start < 0) throw invalid('NextToken is not valid');
    }
    const slice = items.slice(start, start + max);
    const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    return { [key]: slice, NextToken: next };
  }

  function applyFilters(docs: ResourceDoc[], filters: Filter[] | undefined, fields: Record<string, (d: ResourceDoc) => unknown>): ResourceDoc[] {
    let result = docs;
    for (const filter of filters ?? []) {
      const pick = fields[filter.Key ?? ''];
      if (!pick) throw invalid(`Filter key "${filter.Key}" is not valid here (valid: ${Object.keys(fields).join(', ')})`);
      if (filter.Condition !== 'IS' && filter.Condition !== 'IS_NOT') throw invalid(`Filter condition must be IS or IS_NOT, got "${filter.Condition}"`);
      result = result.filter((d) => (pick(d) === filter.Value) === (filter.Condition === 'IS'));
    }
    return result;
  }

  // ---------- shapes ----------

  const times = (d: ResourceDoc) => ({ CreationTime: date(d.creationTime), LastModificationTime: date(d.lastModificationTime) });
  const statusOf = (d: ResourceDoc) => ({ Status: d.status, ...(d.message ? { Message: d.message } : {}) });

  async function datasetStatus(d: ResourceDoc): Promise<string> {
    if (d.status !== 'ACTIVE') return d.status;
    const importing = (await readAll('dataset-import-job')).some((j) => j.parentArn === d.arn && IN_PROGRESS.has(j.status));
    return importing ? 'UPDATE_IN_PROGRESS' : 'ACTIVE';
  }

  function predictorShape(d: ResourceDoc): Record<string, unknown> {
    const r = d.request;
    const result = d.result ?? {};
    const auto = r.kind === 'auto';
    const common = {
      PredictorArn: d.arn,
      PredictorName: d.name,
      ForecastHorizon: r.ForecastHorizon,
      ForecastTypes: r.ForecastTypes ?? ['0.1', '0.5', '0.9'],
      DatasetImportJobArns: result.datasetImportJobArns,
      ...statusOf(d),
      ...times(d),
      EstimatedTimeRemainingInMinutes: IN_PROGRESS.has(d.status) ? 1 : 0,
    };
    if (auto) {
      return {
        ...common,
        ForecastFrequency: r.ForecastFrequency,
        ForecastDimensions: r.ForecastDimensions,
        DataConfig: r.DataConfig,
        OptimizationMetric: r.OptimizationMetric ?? 'AverageWeightedQuantileLoss',
      };
    }
    const chosen = result.algorithm as string | undefined;
    return {
      ...common,
      AlgorithmArn: r.PerformAutoML ? (chosen ? ALGORITHM_ARNS[chosen as keyof typeof ALGORITHM_ARNS] : undefined) : r.AlgorithmArn,
      AutoMLAlgorithmArns: r.PerformAutoML && chosen ? [ALGORITHM_ARNS[chosen as keyof typeof ALGORITHM_ARNS]] : undefined,
      PerformAutoML: r.PerformAutoML ?? false,
      PerformHPO: r.PerformHPO ?? false,
      TrainingParameters: r.TrainingParameters,
      EvaluationParameters: {
        NumberOfBacktestWindows: (r.EvaluationParameters as Input | undefined)?.NumberOfBacktestWindows ?? 1,
        BackTestWindowOffset: (r.EvaluationParameters as Input | undefined)?.BackTestWindowOffset ?? r.ForecastHorizon,
      },
      InputDataConfig: r.InputDataConfig,
      FeaturizationConfig: r.FeaturizationConfig,
      IsAutoPredictor: false,
      OptimizationMetric: r.OptimizationMetric,
    };
  }

  function windowShape(w: WindowResult, type: 'SUMMARY' | 'COMPUTED') {
    const num = (v: number) => (Number.isFinite(v) ? v : undefined);
    return {
      TestWindowStart: type === 'COMPUTED' ? new Date(w.start) : undefined,
      TestWindowEnd: type === 'COMPUTED' ? new Date(w.end) : undefined,
      ItemCount: w.itemCount,
      EvaluationType: type,
      Metrics: {
        RMSE: num(w.metrics.rmse),
        WeightedQuantileLosses: w.metrics.weightedQuantileLosses.map((l) => ({ Quantile: l.quantile, LossValue: num(l.loss) })),
        ErrorMetrics: w.errorMetrics.map((e) => ({ ForecastType: e.ForecastType, WAPE: num(e.WAPE), RMSE: num(e.RMSE), MASE: num(e.MASE), MAPE: num(e.MAPE) })),
        AverageWeightedQuantileLoss: num(w.metrics.averageWeightedQuantileLoss),
      },
    };
  }

  // ---------- validation helpers ----------

  async function groupForPredictor(arn: unknown, field: string): Promise<ResourceDoc> {
    const group = await mustRead(arn, 'dataset-group', field);
    if (group.status !== 'ACTIVE') throw inUse(`Dataset group ${group.name} is ${group.status}`);
    return group;
  }

  function checkFilling(parameters: Record<string, string> | undefined, attribute: string, target: boolean) {
    try {
      if (target) targetFilling(parameters, attribute);
      else relatedFilling(parameters, attribute);
    } catch (error) {
      throw invalid((error as Error).message);
    }
  }

  function availableCandidates(): string[] {
    return ALGORITHMS.filter((a) => {
      try {
        modelSpec(a);
        return true;
      } catch (error) {
        if (error instanceof NotImplemented) return false;
        throw error;
      }
    });
  }

  // ---------- handlers ----------

  const handlers = new Map<unknown, { operation: string; handle: Handler }>();
  const on = (command: unknown, operation: string, handle: Handler) => handlers.set(command, { operation, handle });

  on(CreateDatasetCommand, 'CreateDataset', async (input) => {
    const name = checkName('DatasetName', input.DatasetName);
    const domain = required('Domain', input.Domain as string | undefined);
    const DOMAINS = ['RETAIL', 'CUSTOM', 'INVENTORY_PLANNING', 'EC2_CAPACITY', 'WORK_FORCE', 'WEB_TRAFFIC', 'METRICS'];
    if (!DOMAINS.includes(domain)) throw invalid(`Domain must be one of ${DOMAINS.join(', ')}, got "${domain}"`);
    const type = required('DatasetType', input.DatasetType as string | undefined);
    if (!['TARGET_TIME_SERIES', 'RELATED_TIME_SERIES', 'ITEM_METADATA'].includes(type)) throw invalid(`DatasetType "${type}" is not valid`);
    if (type !== 'ITEM_METADATA') checkFrequency('DataFrequency', input.DataFrequency);
    const attributes = (input.Schema?.Attributes ?? []) as { AttributeName?: string; AttributeType?: string }[];
    if (!attributes.length) throw invalid('Schema.Attributes is required');
    const names = attributes.map((a) => a.AttributeName ?? '');
    for (const a of attributes) {
      if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(a.AttributeName ?? '')) throw invalid(`Schema attribute name "${a.AttributeName}" is not valid`);
      if (!['string', 'integer', 'float', 'timestamp', 'geolocation'].includes(a.AttributeType ?? '')) {
        throw invalid(`Schema attribute ${a.AttributeName}: AttributeType "${a.AttributeType}" is not valid`);
      }
    }
    if (new Set(names).size !== names.length) throw invalid(`Schema has duplicate attributes: ${names.join(', ')}`);
    const needs = type === 'TARGET_TIME_SERIES' ? ['item_id', 'timestamp', 'target_value'] : type === 'RELATED_TIME_SERIES' ? ['item_id', 'timestamp'] : ['item_id'];
    const missing = needs.filter((n) => !names.includes(n));
    if (missing.length) throw invalid(`A ${domain} ${type} dataset needs the attributes ${needs.join(', ')}; missing ${missing.join(', ')}`);
    const doc = await create('dataset', name, name, input);
    return { DatasetArn: doc.arn };
  });

  on(DescribeDatasetCommand, 'DescribeDataset', async (input) => {
    const d = await mustRead(input.DatasetArn, 'dataset', 'DatasetArn');
    const r = d.request;
    return {
      DatasetArn: d.arn,
      DatasetName: d.name,
      Domain: r.Domain,
      DatasetType: r.DatasetType,
      DataFrequency: r.DataFrequency,
      Schema: r.Schema,
      Status: await datasetStatus(d),
      ...times(d),
    };
  });

  on(DeleteDatasetCommand, 'DeleteDataset', (input) => deleteOne('dataset', 'DatasetArn', input));

  on(ListDatasetsCommand, 'ListDatasets', async (input) =>
    page(
      (await readAll('dataset')).map((d) => ({ DatasetArn: d.arn, DatasetName: d.name, DatasetType: d.request.DatasetType, Domain: d.request.Domain, ...times(d) })),
      input,
      'Datasets',
    ),
  );

  async function checkGroupDatasets(arns: unknown): Promise<string[]> {
    const list = (arns ?? []) as string[];
    if (!Array.isArray(list)) throw invalid('DatasetArns must be a list');
    if (list.length > 3) throw invalid(`A dataset group holds at most 3 datasets, got ${list.length}`);
    const types = new Set<string>();
    for (const arn of list) {
      const d = await mustRead(arn, 'dataset', 'DatasetArns');
      const type = String(d.request.DatasetType);
      if (types.has(type)) throw invalid(`A dataset group holds one dataset of each type; ${type} appears twice`);
      types.add(type);
    }
    return list;
  }

  on(CreateDatasetGroupCommand, 'CreateDatasetGroup', async (input) => {
    const name = checkName('DatasetGroupName', input.DatasetGroupName);
    required('Domain', input.Domain as string | undefined);
    await checkGroupDatasets(input.DatasetArns);
    const doc = await create('dataset-group', name, name, input);
    return { DatasetGroupArn: doc.arn };
  });

  on(UpdateDatasetGroupCommand, 'UpdateDatasetGroup', async (input) => {
    const group = await mustRead(input.DatasetGroupArn, 'dataset-group', 'DatasetGroupArn');
    if (group.status !== 'ACTIVE') throw inUse(`Dataset group ${group.name} is ${group.status}`);
    const arns = await checkGroupDatasets(required('DatasetArns', input.DatasetArns));
    await repo.update(group.arn, (d) => {
      d.request = { ...d.request, DatasetArns: arns };
    });
    return {};
  });

  on(DescribeDatasetGroupCommand, 'DescribeDatasetGroup', async (input) => {
    const d = await mustRead(input.DatasetGroupArn, 'dataset-group', 'DatasetGroupArn');
    return {
      DatasetGroupName: d.name,
      DatasetGroupArn: d.arn,
      DatasetArns: (d.request.DatasetArns as string[] | undefined) ?? [],
      Domain: d.request.Domain,
      Status: d.status,
      ...times(d),
    };
  });

  on(DeleteDatasetGroupCommand, 'DeleteDatasetGroup', (input) => deleteOne('dataset-group', 'DatasetGroupArn', input));

  on(ListDatasetGroupsCommand, 'ListDatasetGroups', async (input) =>
    page((await readAll('dataset-group')).map((d) => ({ DatasetGroupArn: d.arn, DatasetGroupName: d.name, ...times(d) })), input, 'DatasetGroups'),
  );

  on(CreateDatasetImportJobCommand, 'CreateDatasetImportJob', async (input) => {
    const name = checkName('DatasetImportJobName', input.DatasetImportJobName);
    const dataset = await mustRead(input.DatasetArn, 'dataset', 'DatasetArn');
    checkS3Path('DataSource.S3Config.Path', input.DataSource?.S3Config?.Path);
    const format = input.TimestampFormat as string | undefined;
    if (format !== undefined && format !== 'yyyy-MM-dd' && format !== 'yyyy-MM-dd HH:mm:ss') {
      throw invalid(`TimestampFormat must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss, got "${format}"`);
    }
    if (input.Format !== undefined && input.Format !== 'CSV') throw invalid(`Format "${input.Format}": the built-in engine imports CSV only`);
    if (input.ImportMode !== undefined && !['FULL', 'INCREMENTAL'].includes(input.ImportMode)) throw invalid(`ImportMode must be FULL or INCREMENTAL`);
    if (dataset.status !== 'ACTIVE') throw inUse(`Dataset ${dataset.name} is ${dataset.status}`);
    const doc = await create('dataset-import-job', `${dataset.name}/${name}`, name, input, dataset.arn);
    return { DatasetImportJobArn: doc.arn };
  });

  const importShape = (d: ResourceDoc) => ({
    DatasetImportJobArn: d.arn,
    DatasetImportJobName: d.name,
    DataSource: d.request.DataSource,
    ...statusOf(d),
    ...times(d),
    ImportMode: d.request.ImportMode ?? 'FULL',
  });

  on(DescribeDatasetImportJobCommand, 'DescribeDatasetImportJob', async (input) => {
    const d = await mustRead(input.DatasetImportJobArn, 'dataset-import-job', 'DatasetImportJobArn');
    return {
      ...importShape(d),
      DatasetArn: d.request.DatasetArn,
      TimestampFormat: d.request.TimestampFormat ?? 'yyyy-MM-dd HH:mm:ss',
      DataSize: d.result?.dataSize,
      FieldStatistics: d.result ? { item_id: { CountDistinct: d.result.itemCount, Count: d.result.rowCount } } : undefined,
      Format: 'CSV',
      EstimatedTimeRemainingInMinutes: IN_PROGRESS.has(d.status) ? 1 : 0,
    };
  });

  on(DeleteDatasetImportJobCommand, 'DeleteDatasetImportJob', (input) => deleteOne('dataset-import-job', 'DatasetImportJobArn', input));

  on(ListDatasetImportJobsCommand, 'ListDatasetImportJobs', async (input) => {
    const docs = applyFilters(await readAll('dataset-import-job'), input.Filters, { DatasetArn: (d) => d.parentArn, Status: (d) => d.status });
    return page(docs.map(importShape), input, 'DatasetImportJobs');
  });

  function checkEvaluation(input: Input, horizon: number) {
    const evaluation = input.EvaluationParameters as Input | undefined;
    if (!evaluation) return;
    if (evaluation.NumberOfBacktestWindows !== undefined) checkInteger('EvaluationParameters.NumberOfBacktestWindows', evaluation.NumberOfBacktestWindows, 1, 5);
    if (evaluation.BackTestWindowOffset !== undefined) {
      const offset = checkInteger('EvaluationParameters.BackTestWindowOffset', evaluation.BackTestWindowOffset, 1, 1_000_000);
      if (offset < horizon) throw invalid(`BackTestWindowOffset (${offset}) must be ≥ ForecastHorizon (${horizon})`);
    }
  }

  on(CreatePredictorCommand, 'CreatePredictor', async (input) => {
    const name = checkName('PredictorName', input.PredictorName);
    const horizon = checkInteger('ForecastHorizon', input.ForecastHorizon, 1, 500);
    checkForecastTypes(input.ForecastTypes);
    if (input.PerformAutoML && input.PerformHPO) throw invalid('PerformHPO must be false when PerformAutoML is true');
    let plan: { candidates: string[]; selection: 'single' | 'automl' };
    if (input.PerformAutoML) {
      if (input.AlgorithmArn) throw invalid('Give either AlgorithmArn or PerformAutoML=true, not both');
      if (input.TrainingParameters && Object.keys(input.TrainingParameters).length) throw invalid('TrainingParameters cannot be set with PerformAutoML');
      plan = { candidates: availableCandidates(), selection: 'automl' };
    } else {
      const arn = required('AlgorithmArn (or PerformAutoML=true)', input.AlgorithmArn as string | undefined);
      let algorithm: string;
      try {
        algorithm = algorithmFromArn(arn);
        validateTrainingParameters(algorithm, input.TrainingParameters);
        if (!isGlobalAlgorithm(algorithm)) modelSpec(algorithm, input.TrainingParameters);
      } catch (error) {
        if (error instanceof InvalidInput || error instanceof NotImplemented) throw invalid(error.message);
        throw error;
      }
      if (input.PerformHPO && !isGlobalAlgorithm(algorithm)) throw invalid(`PerformHPO applies only to DeepAR+ and CNN-QR, not ${arn}`);
      plan = { candidates: [algorithm], selection: 'single' };
    }
    checkEvaluation(input, horizon);
    const featurization = required('FeaturizationConfig', input.FeaturizationConfig as Input | undefined);
    checkFrequency('FeaturizationConfig.ForecastFrequency', featurization.ForecastFrequency);
    for (const f of (featurization.Featurizations ?? []) as Input[]) {
      for (const method of (f.FeaturizationPipeline ?? []) as Input[]) {
        if (method.FeaturizationMethodName !== 'filling') throw invalid(`FeaturizationMethodName must be "filling", got "${method.FeaturizationMethodName}"`);
        checkFilling(method.FeaturizationMethodParameters, f.AttributeName, f.AttributeName === 'target_value');
      }
    }
    const group = await groupForPredictor(input.InputDataConfig?.DatasetGroupArn, 'InputDataConfig.DatasetGroupArn');
    const doc = await create('predictor', name, name, { ...input, kind: 'legacy', plan }, group.arn);
    return { PredictorArn: doc.arn };
  });

  on(CreateAutoPredictorCommand, 'CreateAutoPredictor', async (input) => {
    const name = checkName('PredictorName', input.PredictorName);
    if (input.ReferencePredictorArn) throw invalid('Retraining from ReferencePredictorArn is not supported by the built-in engine');
    checkInteger('ForecastHorizon', input.ForecastHorizon, 1, 500);
    checkForecastTypes(input.ForecastTypes);
    checkFrequency('ForecastFrequency', input.ForecastFrequency);
    for (const c of (input.DataConfig?.AttributeConfigs ?? []) as Input[]) checkFilling(c.Transformations, c.AttributeName, c.AttributeName === 'target_value');
    const group = await groupForPredictor(input.DataConfig?.DatasetGroupArn, 'DataConfig.DatasetGroupArn');
    const doc = await create('predictor', name, name, { ...input, kind: 'auto', plan: { candidates: ['AUTO'], selection: 'single' } }, group.arn);
    return { PredictorArn: doc.arn };
  });

  const describePredictor = async (input: Input) => predictorShape(await mustRead(input.PredictorArn, 'predictor', 'PredictorArn'));
  on(DescribePredictorCommand, 'DescribePredictor', describePredictor);
  on(DescribeAutoPredictorCommand, 'DescribeAutoPredictor', describePredictor);
  on(DeletePredictorCommand, 'DeletePredictor', (input) => deleteOne('predictor', 'PredictorArn', input));

  on(ListPredictorsCommand, 'ListPredictors', async (input) => {
    const docs = applyFilters(await readAll('predictor'), input.Filters, { DatasetGroupArn: (d) => d.parentArn, Status: (d) => d.status });
    return page(
      docs.map((d) => ({ PredictorArn: d.arn, PredictorName: d.name, DatasetGroupArn: d.parentArn, IsAutoPredictor: d.request.kind === 'auto', ...statusOf(d), ...times(d) })),
      input,
      'Predictors',
    );
  });

  on(GetAccuracyMetricsCommand, 'GetAccuracyMetrics', async (input) => {
    const d = await mustRead(input.PredictorArn, 'predictor', 'PredictorArn');
    if (d.status !== 'ACTIVE') throw inUse(`Predictor ${d.name} is ${d.status}; accuracy metrics exist once it is ACTIVE`);
    const evaluations = (d.result?.evaluations ?? []) as Evaluation[];
    const auto = d.request.kind === 'auto';
    return {
      PredictorEvaluationResults: evaluations.map((e) => ({
        AlgorithmArn: ALGORITHM_ARNS[e.algorithm as keyof typeof ALGORITHM_ARNS] ?? `arn:aws:forecast:::algorithm/${e.algorithm === 'AUTO' ? 'Ensemble' : e.algorithm}`,
        TestWindows: [windowShape(e.summary, 'SUMMARY'), ...e.windows.map((w) => windowShape(w, 'COMPUTED'))],
      })),
      IsAutoPredictor: auto,
      AutoMLOverrideStrategy: d.request.AutoMLOverrideStrategy,
      OptimizationMetric: d.request.OptimizationMetric ?? (auto ? 'AverageWeightedQuantileLoss' : undefined),
    };
  });

  on(CreateForecastCommand, 'CreateForecast', async (input) => {
    const name = checkName('ForecastName', input.ForecastName);
    checkForecastTypes(input.ForecastTypes);
    if (input.TimeSeriesSelector) throw invalid('TimeSeriesSelector is not supported by the built-in engine');
    const predictor = await mustRead(input.PredictorArn, 'predictor', 'PredictorArn');
    if (predictor.status !== 'ACTIVE') throw inUse(`Predictor ${predictor.name} is ${predictor.status}; a forecast needs an ACTIVE predictor`);
    const doc = await create('forecast', name, name, { ...input, DatasetGroupArn: predictor.parentArn }, predictor.arn);
    return { ForecastArn: doc.arn };
  });

  const forecastSummary = (d: ResourceDoc) => ({
    ForecastArn: d.arn,
    ForecastName: d.name,
    PredictorArn: d.parentArn,
    DatasetGroupArn: d.request.DatasetGroupArn,
    ...statusOf(d),
    ...times(d),
  });

  on(DescribeForecastCommand, 'DescribeForecast', async (input) => {
    const d = await mustRead(input.ForecastArn, 'forecast', 'ForecastArn');
    return { ...forecastSummary(d), ForecastTypes: d.request.ForecastTypes ?? ['0.1', '0.5', '0.9'], EstimatedTimeRemainingInMinutes: IN_PROGRESS.has(d.status) ? 1 : 0 };
  });

  on(DeleteForecastCommand, 'DeleteForecast', (input) => deleteOne('forecast', 'ForecastArn', input));

  on(ListForecastsCommand, 'ListForecasts', async (input) => {
    const predictors = new Map((await readAll('predictor')).map((p) => [p.arn, p.parentArn]));
    const docs = applyFilters(await readAll('forecast'), input.Filters, {
      PredictorArn: (d) => d.parentArn,
      DatasetGroupArn: (d) => predictors.get(d.parentArn ?? ''),
      Status: (d) => d.status,
    });
    return page(docs.map((d) => ({ ...forecastSummary(d), DatasetGroupArn: predictors.get(d.parentArn ?? '') })), input, 'Forecasts');
  });

  on(CreateForecastExportJobCommand, 'CreateForecastExportJob', async (input) => {
    const name = checkName('ForecastExportJobName', input.ForecastExportJobName);
    checkS3Path('Destination.S3Config.Path', input.Destination?.S3Config?.Path);
    if (input.Format !== undefined && input.Format !== 'CSV') throw invalid(`Format "${input.Format}": the built-in engine exports CSV only`);
    const forecast = await mustRead(input.ForecastArn, 'forecast', 'ForecastArn');
    if (forecast.status !== 'ACTIVE') throw inUse(`Forecast ${forecast.name} is ${forecast.status}; an export needs an ACTIVE forecast`);
    const doc = await create('forecast-export-job', `${forecast.name}/${name}`, name, input, forecast.arn);
    return { ForecastExportJobArn: doc.arn };
  });

  const exportShape = (d: ResourceDoc) => ({
    ForecastExportJobArn: d.arn,
    ForecastExportJobName: d.name,
    Destination: d.request.Destination,
    ...statusOf(d),
    ...times(d),
  });

  on(DescribeForecastExportJobCommand, 'DescribeForecastExportJob', async (input) => {
    const d = await mustRead(input.ForecastExportJobArn, 'forecast-export-job', 'ForecastExportJobArn');
    return { ...exportShape(d), ForecastArn: d.parentArn, Format: 'CSV' };
  });

  on(DeleteForecastExportJobCommand, 'DeleteForecastExportJob', (input) => deleteOne('forecast-export-job', 'ForecastExportJobArn', input));

  on(ListForecastExportJobsCommand, 'ListForecastExportJobs', async (input) => {
    const docs = applyFilters(await readAll('forecast-export-job'), input.Filters, { ForecastArn: (d) => d.parentArn, Status: (d) => d.status });
    return page(docs.map(exportShape), input, 'ForecastExportJobs');
  });

  on(DeleteResourceTreeCommand, 'DeleteResourceTree', deleteTree);

  async function send(command: { input?: unknown }): Promise<Record<string, unknown>> {
    let entry = handlers.get(command?.constructor);
    if (!entry) for (const [cls, e] of handlers) if (command instanceof (cls as new (...args: never[]) => unknown)) entry = e;
    if (!entry) {
      throw invalid(`The built-in Forecast engine does not implement ${(command as object)?.constructor?.name ?? 'this command'}`);
    }
    const fault = faults.operationError(entry.operation);
    if (fault === 'ThrottlingException') throw throttling(entry.operation);
    if (fault === 'LimitExceededException') throw limit(`Limit exceeded for ${entry.operation} (injected by FORECAST_FAULTS)`);
    if (fault === 'ResourceInUseException') throw inUse(`${entry.operation}: resource in use (injected by FORECAST_FAULTS)`);
    if (fault === 'InvalidInputException') throw invalid(`${entry.operation}: invalid input (injected by FORECAST_FAULTS)`);
    const output = await entry.handle((command.input ?? {}) as Input);
    return { ...output, $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } };
  }

  return {
    send: send as unknown as ForecastPort['send'],
    onProgress(listener) {
      events.on('progress', listener);
      return () => events.off('progress', listener);
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running.values()]);
    },
    async close() {
      for (const timer of deleteTimers) clearTimeout(timer);
      await pool?.close();
    },
    async listAll() {
      const all: ResourceDoc[] = [];
      for (const type of ['dataset-group', 'dataset', 'dataset-import-job', 'predictor', 'forecast', 'forecast-export-job'] as const) all.push(...(await readAll(type)));
      return all;
    },
  };
}
