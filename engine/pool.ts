/**
 * A pool of worker threads (one per core by default) running model fits, so training never blocks
 * the event loop. The worker entry is TypeScript when the engine runs from source (tsx, vitest):
 * those workers start with tsx's loader; a bundled build ships worker.js and needs none.
 * Idle workers are unref'd (they never keep a process alive); a busy one is ref'd.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { globalWorkerMemoryLimitFromEnv, workerMemoryLimitFromEnv } from './limits';
import type { SeriesForecast, WorkerReply, WorkerTask } from './worker-protocol';

interface Pending {
  readonly task: WorkerTask;
  readonly resolve: (results: SeriesForecast[]) => void;
  readonly reject: (error: Error) => void;
  attempts: number;
}

interface Slot {
  worker: Worker;
  current?: { id: number; pending: Pending };
}

/** A worker thread died while running a task (twice: the pool retries once). */
export class WorkerCrashed extends Error {
  override readonly name = 'WorkerCrashed' as const;
}

function workerEntry(): { url: URL; execArgv: string[] } {
  const js = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { url: js, execArgv: [] };
  // `--import tsx` in a worker's execArgv does not reach the worker's entry on Node 20: a .mjs
  // bootstrap registers tsx inside the worker and then imports worker.ts.
  return { url: new URL('./worker-bootstrap.mjs', import.meta.url), execArgv: [] };
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  /**
   * @param maxWorkerMemoryBytes a worker whose V8 heap + external memory exceeds this after a task
   *   is replaced by a fresh one (Prophet's WASM optimiser keeps a little memory per fit for good);
   *   default FORECAST_ENGINE_WORKER_MEMORY_MB or 96 MiB (engine/limits.ts).
   * @param maxGlobalWorkerMemoryBytes the same after a global model's task (`fit-global`);
   *   default FORECAST_ENGINE_GLOBAL_WORKER_MEMORY_MB or 512 MiB.
   */
  constructor(
    readonly size = availableParallelism(),
    private readonly maxWorkerMemoryBytes = workerMemoryLimitFromEnv(),
    private readonly maxGlobalWorkerMemoryBytes = globalWorkerMemoryLimitFromEnv(),
  ) {}

  /** Workers replaced because they outgrew the memory limit (for tests and diagnostics). */
  recycled = 0;

  run(task: WorkerTask): Promise<SeriesForecast[]> {
    if (this.closed) return Promise.reject(new Error('The worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject, attempts: 0 });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error('The worker pool closed'));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private pump(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.current);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const pending = this.queue.shift()!;
      const id = this.nextId++;
      slot.current = { id, pending };
      pending.attempts++;
      slot.worker.ref();
      slot.worker.postMessage({ id, task: pending.task });
    }
  }

  /** Takes an idle worker out of the pool and ends it; pump() starts a fresh one when needed. */
  private retire(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    this.recycled++;
    slot.worker.removeAllListeners('message');
    void slot.worker.terminate();
  }

  private spawn(): Slot {
    const { url, execArgv } = workerEntry();
    const worker = new Worker(url, { execArgv });
    const slot: Slot = { worker };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const current = slot.current;
      if (!current || current.id !== reply.id) return;
      slot.current = undefined;
      worker.unref();
      const limit = current.pending.task.kind === 'fit-global' ? this.maxGlobalWorkerMemoryBytes : this.maxWorkerMemoryBytes;
      if ((reply.memoryBytes ?? 0) > limit) this.retire(slot);
      if (reply.ok) current.pending.resolve(reply.results);
      else current.pending.reject(new Error(reply.error));
      this.pump();
    });
    const died = (reason: string) => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      const current = slot.current;
      slot.current = undefined;
      if (current) {
        if (current.pending.attempts < 2 && !this.closed) this.queue.unshift(current.pending);
        else current.pending.reject(new WorkerCrashed(`A worker thread died while fitting models (${reason}), twice`));
      }
      this.pump();
    };
    worker.on('error', (error) => died(error.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.slots.push(slot);
    return slot;
  }
}
