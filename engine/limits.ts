/**
 * The engine's resource limits in one place, each with its environment override. They bound what
 * one process holds however large the dataset: how many jobs work at once, and how big a worker
 * thread may grow before it is replaced by a fresh one.
 */
import { ConfigurationError } from '../shared/errors';

/** Jobs doing their work at once; the rest wait CREATE_PENDING (engine/job-slots.ts). */
export const DEFAULT_JOB_SLOTS = 1;

/**
 * A worker thread whose V8 heap + external memory passes this after a task is replaced. Prophet's
 * WASM optimiser keeps ~0.1–0.4 MB per fit for good, so without a bound a worker grows with the
 * number of series; a fresh worker costs about a second.
 */
export const DEFAULT_WORKER_MEMORY_MB = 96;

/**
 * The same bound for a worker that has just trained a global model (CNN-QR, DeepAR+): tfjs' WASM
 * heap grows to hold the training batches' activations and gradients and never shrinks, so such
 * a worker is larger than a per-series one by design. Kept for the next global task (tfjs is
 * loaded) when under this bound; a per-series task run on it afterwards applies the smaller one.
 */
export const DEFAULT_GLOBAL_WORKER_MEMORY_MB = 512;

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new ConfigurationError(`${name} must be a positive integer, got "${text}"`);
  return value;
}

/** FORECAST_ENGINE_JOB_SLOTS, else DEFAULT_JOB_SLOTS. */
export const jobSlotsFromEnv = (env: NodeJS.ProcessEnv = process.env) => positiveInteger(env, 'FORECAST_ENGINE_JOB_SLOTS', DEFAULT_JOB_SLOTS);

/** FORECAST_ENGINE_WORKER_MEMORY_MB (in MiB), else DEFAULT_WORKER_MEMORY_MB; returned in bytes. */
export const workerMemoryLimitFromEnv = (env: NodeJS.ProcessEnv = process.env) =>
  positiveInteger(env, 'FORECAST_ENGINE_WORKER_MEMORY_MB', DEFAULT_WORKER_MEMORY_MB) * 2 ** 20;

/** FORECAST_ENGINE_GLOBAL_WORKER_MEMORY_MB (in MiB), else DEFAULT_GLOBAL_WORKER_MEMORY_MB; returned in bytes. */
export const globalWorkerMemoryLimitFromEnv = (env: NodeJS.ProcessEnv = process.env) =>
  positiveInteger(env, 'FORECAST_ENGINE_GLOBAL_WORKER_MEMORY_MB', DEFAULT_GLOBAL_WORKER_MEMORY_MB) * 2 ** 20;
