/**
 * How many of the engine's jobs (imports, predictors, forecasts, exports) do their work at once in
 * one process. Every model fit already runs on the shared worker pool, which a single job keeps
 * busy, so running jobs side by side gains little time but holds every job's data at once (three
 * predictors meant three copies of the dataset). Jobs beyond the slots wait, in order, as
 * CREATE_PENDING — the status the Forecast API gives a job that has not started.
 */
import { ConfigurationError } from '../shared/errors';

/** A first-come, first-served semaphore. */
export class JobSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new ConfigurationError(`Job slots must be a positive integer, got ${size}`);
    this.free = size;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Waits for a slot; the returned function gives it back (once, however often it is called). */
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
