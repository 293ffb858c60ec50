/**
 * The job executor of one long-lived process (the laptop default): a job runs asynchronously here
 * (CREATE_PENDING → CREATE_IN_PROGRESS → ACTIVE | CREATE_FAILED) once one of the process's job
 * slots is free, its model fits on a worker-thread pool. While it runs, the document names this
 * process as its owner and carries a heartbeat, so another process can tell when it is gone
 * (lifecycle.ts takes such jobs over).
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { ObjectStore } from '../shared/ports';
import type { JobExecutor, ProgressEvent } from './executor';
import type { FaultInjector } from './faults';
import { JobSlots } from './job-slots';
import { markJobActive, markJobFailed } from './job-outcome';
import { runJobWork, type JobContext } from './jobs';
import { WorkerPool } from './pool';
import { processIdentity, type Repository, type ResourceDoc } from './repository';

export interface InProcessExecutorOptions {
  readonly store: ObjectStore;
  readonly repo: Repository;
  readonly faults: FaultInjector;
  /** Worker threads; default os.availableParallelism(). */
  readonly workers?: number;
  /** Jobs doing their work at once (the rest wait CREATE_PENDING). */
  readonly jobSlots: number;
  /** Rows per export part file. */
  readonly exportPartRows: number;
  /** How long a new job stays CREATE_PENDING. */
  readonly pendingMs: number;
  /** Heartbeat interval of a running job. */
  readonly heartbeatMs: number;
}

export class InProcessExecutor implements JobExecutor {
  private pool: WorkerPool | undefined;
  private readonly slots: JobSlots;
  private readonly events = new EventEmitter();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly options: InProcessExecutorOptions) {
    this.slots = new JobSlots(options.jobSlots);
  }

  isRunning(arn: string): boolean {
    return this.running.has(arn);
  }

  onProgress(listener: (event: ProgressEvent) => void): () => void {
    this.events.on('progress', listener);
    return () => this.events.off('progress', listener);
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  start(doc: ResourceDoc): void {
    this.running.set(doc.arn, this.run(doc));
  }

  private getPool(): WorkerPool {
    return (this.pool ??= new WorkerPool(this.options.workers ?? availableParallelism()));
  }

  private async run(doc: ResourceDoc): Promise<void> {
    const { repo } = this.options;
    const heartbeat = setInterval(() => {
      void repo.update(doc.arn, (d) => {
        if (d.owner) d.owner = { ...d.owner, heartbeatAt: new Date().toISOString() };
      });
    }, this.options.heartbeatMs);
    heartbeat.unref();
    let release: (() => void) | undefined;
    try {
      if (doc.status === 'CREATE_PENDING') await new Promise((resolve) => setTimeout(resolve, this.options.pendingMs));
      release = await this.slots.acquire();
      await repo.update(doc.arn, (d) => {
        d.status = 'CREATE_IN_PROGRESS';
        d.owner = { ...processIdentity, heartbeatAt: new Date().toISOString() };
      });
      await markJobActive(repo, doc.arn, await runJobWork(this.contextFor(doc), doc, this.options.faults));
    } catch (error) {
      await markJobFailed(repo, doc.arn, error instanceof Error ? error.message : String(error));
    } finally {
      release?.();
      clearInterval(heartbeat);
      const final = await repo.get(doc.arn).catch(() => undefined);
      if (final && (final.status === 'ACTIVE' || final.status === 'CREATE_FAILED')) {
        const total = final.progress?.total ?? 0;
        this.emit({ arn: doc.arn, type: doc.type, name: doc.name, done: total, total, status: final.status });
      }
      // Last: until its final event is out, the job still counts as running (idle() waits for it).
      this.running.delete(doc.arn);
    }
  }

  private contextFor(doc: ResourceDoc): JobContext {
    const executor = this;
    const { repo } = this.options;
    let lastWrite = 0;
    return {
      store: this.options.store,
      repo,
      get pool() {
        return executor.getPool();
      },
      exportPartRows: this.options.exportPartRows,
      progress(done, total) {
        executor.emit({ arn: doc.arn, type: doc.type, name: doc.name, done, total });
        if (Date.now() - lastWrite > 1000 || done === total) {
          lastWrite = Date.now();
          void repo.update(doc.arn, (d) => {
            d.progress = { done, total };
          });
        }
      },
    };
  }

  private emit(event: ProgressEvent): void {
    this.events.emit('progress', event);
  }
}
