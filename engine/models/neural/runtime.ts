/**
 * TensorFlow.js for the engine's neural models (CNN-QR, DeepAR+): `@tensorflow/tfjs` with the
 * WebAssembly backend, loaded once per worker thread on the first neural fit.
 *
 * - The `.wasm` binaries load from the package's own dist folder (no network, no bundler path).
 * - Single-threaded WASM: the pool already runs one worker per core, and a multi-threaded kernel
 *   would make float sums depend on scheduling; one thread keeps a fixed seed's training
 *   reproducible bit for bit.
 * - `cpu` (plain JS kernels) is the fallback when WASM cannot start, and what the measurement in
 *   docs/models.md compares against.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NotImplemented } from '../../../shared/errors';

export type Tf = typeof import('@tensorflow/tfjs');
export type TfBackend = 'wasm' | 'cpu';

let loading: Promise<Tf> | undefined;
let loadedBackend: TfBackend | undefined;

/** The package folder holding the WASM binaries, with the trailing slash setWasmPaths expects. */
function wasmFolder(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

/** tfjs on `backend` (default: FORECAST_ENGINE_TF_BACKEND, else wasm). One backend per process. */
export function loadTf(backend: TfBackend = (process.env.FORECAST_ENGINE_TF_BACKEND as TfBackend | undefined) ?? 'wasm'): Promise<Tf> {
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`FORECAST_ENGINE_TF_BACKEND must be wasm or cpu, got "${String(backend)}"`);
  if (loading && loadedBackend !== backend) throw new Error(`tfjs already runs on ${loadedBackend} in this process; cannot switch to ${backend}`);
  loadedBackend = backend;
  loading ??= (async () => {
    // The umbrella package: its Node build registers the ops' gradients (tfjs-core alone does not,
    // and core's ESM files cannot be imported by Node directly).
    const tf = await import('@tensorflow/tfjs').catch((error: unknown) => {
      // The Lambda layer leaves tfjs out (scripts/build.mjs HEAVY_PACKAGES: 140 MiB installed), so
      // a deployed builtin engine cannot train the global models: say so instead of a bare
      // "Cannot find module".
      throw new NotImplemented(
        `CNN-QR and DeepAR+ need @tensorflow/tfjs, which is not installed here (the Lambda layer does not carry it): ` +
          `run them with the local engine or on Amazon Forecast (${error instanceof Error ? error.message : String(error)})`,
      );
    });
    tf.env().set('PROD', true); // no development warnings on the worker's stderr
    if (backend === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setWasmPaths(wasmFolder());
    }
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs could not start its ${backend} backend`);
    await tf.ready();
    return tf;
  })();
  return loading;
}
