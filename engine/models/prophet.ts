/**
 * Prophet (Facebook Prophet's model, default hyperparameters) through `@bsull/augurs` with the
 * Stan optimiser compiled to WebAssembly (`@bsull/augurs-prophet-wasmstan`). Both are ESM with
 * WASM; they are loaded once, on the first fit.
 *
 * - Yearly / weekly / daily seasonality: Prophet's `auto` rules (by data span and spacing).
 * - Related series (`SeriesData.related`) are added as regressors; their values must cover the
 *   forecast horizon.
 * - Quantiles: Prophet's interval width is fixed when the model is constructed and its intervals
 *   come from simulated draws. The model is fitted once with `intervalWidth` (default 0.8, so the
 *   Forecast default quantiles 0.1 / 0.9 are Prophet's own bounds); other levels scale the lower
 *   and upper half-widths by the normal quantile ratio (a two-piece normal: keeps Prophet's
 *   asymmetry and costs no refit). 0.5 is the point forecast.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { futureTimestamps, syntheticTimestamps } from './calendar';
import { normalQuantile, validateQuantiles } from './quantiles';
import { InvalidModelSpec, NotEnoughData, type FittedModel, type ModelSpec, type Prediction, type SeriesData } from './types';

export interface ProphetModelOptions {
  /** Width of the interval Prophet simulates (default 0.8 → quantiles 0.1 and 0.9 exactly). */
  readonly intervalWidth?: number;
  /** Simulated draws for the intervals (Prophet default 1000; 0 disables intervals). */
  readonly uncertaintySamples?: number;
  readonly seasonalityMode?: 'additive' | 'multiplicative';
  /** Prophet default 0.05. */
  readonly changepointPriorScale?: number;
  /** Prophet default 10. */
  readonly seasonalityPriorScale?: number;
}

type AugursProphet = typeof import('@bsull/augurs/prophet');
type WasmStan = typeof import('@bsull/augurs-prophet-wasmstan');

let augursModule: Promise<AugursProphet> | undefined;
let stanModule: Promise<WasmStan> | undefined;
let stanGeneration = 0;

/**
 * Loads and initialises the WASM modules once per process. The Stan optimiser is reloaded as a
 * fresh instance (a new module URL) after it has failed: a trapped WASM instance leaks memory and
 * later fits fail with "memory access out of bounds".
 */
function loadProphet(): Promise<[AugursProphet, WasmStan]> {
  augursModule ??= (async () => {
    const augurs = await import('@bsull/augurs/prophet');
    const require = createRequire(import.meta.url);
    const wasmFile = require.resolve('@bsull/augurs/prophet').replace(/prophet\.js$/, 'prophet_bg.wasm');
    augurs.initSync({ module: readFileSync(wasmFile) });
    return augurs;
  })();
  stanModule ??=
    stanGeneration === 0
      ? import('@bsull/augurs-prophet-wasmstan')
      : (import(
          /* @vite-ignore */ `${pathToFileURL(createRequire(import.meta.url).resolve('@bsull/augurs-prophet-wasmstan')).href}?instance=${stanGeneration}`
        ) as Promise<WasmStan>);
  return Promise.all([augursModule, stanModule]);
}

/** Drops the (failed) optimiser instance; the next load creates a fresh one. */
function discardOptimizer(): void {
  stanGeneration++;
  stanModule = undefined;
}

const toSeconds = (d: Date) => Math.round(d.getTime() / 1000);

/** NaN in a related series → the previous value (or the next, at the start; 0 if none at all). */
function fillRelated(values: Float64Array): number[] {
  const out = Array.from(values);
  let last = NaN;
  for (let i = 0; i < out.length; i++) {
    if (Number.isFinite(out[i]!)) last = out[i]!;
    else out[i] = last;
  }
  const first = out.find((v) => Number.isFinite(v)) ?? 0;
  return out.map((v) => (Number.isFinite(v) ? v : first));
}

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(value > 0 && Number.isFinite(value))) {
    throw new InvalidModelSpec(`Prophet ${name} must be a positive number, got ${value}`);
  }
}

/** Creates a Prophet model spec (Facebook Prophet defaults unless overridden). */
export function prophet(options: ProphetModelOptions = {}): ModelSpec {
  const intervalWidth = options.intervalWidth ?? 0.8;
  if (!(intervalWidth > 0 && intervalWidth < 1)) {
    throw new InvalidModelSpec(`Prophet intervalWidth must lie in (0, 1), got ${intervalWidth}`);
  }
  const samples = options.uncertaintySamples ?? 1000;
  if (!Number.isInteger(samples) || samples < 0) {
    throw new InvalidModelSpec(`Prophet uncertaintySamples must be a non-negative integer, got ${samples}`);
  }
  checkPositive('changepointPriorScale', options.changepointPriorScale);
  checkPositive('seasonalityPriorScale', options.seasonalityPriorScale);
  if (options.seasonalityMode !== undefined && !['additive', 'multiplicative'].includes(options.seasonalityMode)) {
    throw new InvalidModelSpec(`Prophet seasonalityMode must be additive or multiplicative, got ${String(options.seasonalityMode)}`);
  }
  return {
    algorithm: 'PROPHET',
    async fit(series: SeriesData): Promise<FittedModel> {
      const n = series.values.length;
      const observed = series.values.reduce((c, v) => c + (Number.isFinite(v) ? 1 : 0), 0);
      if (observed < 2) throw new NotEnoughData(`Prophet needs at least 2 observed values, got ${observed}`);
      const timestamps = series.timestamps && series.timestamps.length === n ? series.timestamps : syntheticTimestamps(n, series.seasonLength);
      const finite = Array.from(series.values).filter((v) => Number.isFinite(v));
      if (finite.every((v) => v === finite[0])) return constantForecast(finite[0]!);
      let [augurs, stan] = await loadProphet();
      const related = Object.entries(series.related ?? {}).map(([name, values]) => ({ name, values: fillRelated(values) }));
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (Number.isFinite(series.values[i]!)) rows.push(i);
      const dataFrom = (first: number) => {
        const kept = rows.slice(first);
        return {
          ds: kept.map((i) => toSeconds(timestamps[i]!)),
          y: kept.map((i) => series.values[i]!),
          ...(related.length > 0 && { x: new Map(related.map(({ name, values }) => [name, kept.map((i) => values[i]!)])) }),
        };
      };
      const fitWith = (algorithm: 'newton' | undefined, first: number) => {
        const m = new augurs.Prophet({
          optimizer: stan.optimizer,
          intervalWidth,
          uncertaintySamples: samples,
          ...(options.seasonalityMode && { seasonalityMode: options.seasonalityMode }),
          ...(options.changepointPriorScale && { changepointPriorScale: options.changepointPriorScale }),
          ...(options.seasonalityPriorScale && { seasonalityPriorScale: options.seasonalityPriorScale }),
        });
        try {
          for (const { name } of related) m.addRegressor(name);
          m.fit(dataFrom(first), algorithm ? { algorithm } : undefined);
        } catch (error) {
          m.free(); // WASM memory: never reclaimed by the GC on its own
          throw error;
        }
        return m;
      };
      // As Python Prophet: when L-BFGS fails, retry with Newton's method. The WASM optimiser also
      // traps ("unreachable") on a few long series (M4 W181, 1644 weeks) where a shorter history
      // fits: the last resort drops the oldest quarter.
      const attempts: ['newton' | undefined, number][] = [[undefined, 0], ['newton', 0], [undefined, Math.floor(rows.length / 4)]];
      let model: InstanceType<AugursProphet['Prophet']> | undefined;
      let failure: unknown;
      for (const [algorithm, first] of attempts) {
        try {
          model = fitWith(algorithm, first);
          break;
        } catch (error) {
          failure = error;
          discardOptimizer();
          [augurs, stan] = await loadProphet();
        }
      }
      // The per-series fallback chain handles a series Prophet cannot fit, as it does short ones.
      if (!model) throw new NotEnoughData(`Prophet could not be fitted to this series: ${String(failure).split('\n')[0]}`);
      const fitted = model;
      const regressors = related.length ? `; regressors: ${related.map((r) => r.name).join(', ')}` : '';
      return {
        description: `Prophet${regressors}`,
        predict(horizon: number, quantiles: readonly number[], future?: { timestamps?: readonly Date[] }): Prediction {
          validateQuantiles(quantiles);
          const ahead = future?.timestamps && future.timestamps.length >= horizon
            ? future.timestamps.slice(0, horizon)
            : futureTimestamps(timestamps.length >= 2 ? timestamps : syntheticTimestamps(2, series.seasonLength), horizon);
          const xFuture = new Map<string, number[]>();
          for (const { name, values } of related) {
            if (values.length < n + horizon) {
              throw new NotEnoughData(`Prophet: related series "${name}" covers ${values.length - n} of the ${horizon} forecast steps`);
            }
            xFuture.set(name, values.slice(n, n + horizon));
          }
          const out = fitted.predict({ ds: ahead.map(toSeconds), ...(related.length > 0 && { x: xFuture }) });
          const mean = Float64Array.from(out.yhat.point);
          return { mean, quantiles: quantilesFromInterval(mean, out.yhat.intervals, intervalWidth, quantiles) };
        },
        dispose() {
          fitted.free();
        },
      };
    },
  };
}

/** A constant series: Prophet's fit is that constant with no uncertainty (Stan itself fails on all zeros). */
function constantForecast(value: number): FittedModel {
  return {
    description: 'Prophet (constant series)',
    predict(horizon, quantiles): Prediction {
      validateQuantiles(quantiles);
      const mean = new Float64Array(horizon).fill(value);
      return { mean, quantiles: new Map(quantiles.map((q) => [q, Float64Array.from(mean)])) };
    },
  };
}

/**
 * Quantiles from Prophet's interval [lower, upper] of width `w`: a two-piece normal whose lower and
 * upper halves have the spreads (mean − lower)/z and (upper − mean)/z, z = Φ⁻¹((1 + w)/2).
 */
function quantilesFromInterval(
  mean: Float64Array,
  interval: { lower: number[]; upper: number[] } | undefined,
  width: number,
  quantiles: readonly number[],
): Map<number, Float64Array> {
  const z = normalQuantile((1 + width) / 2);
  const out = new Map<number, Float64Array>();
  for (const q of quantiles) {
    const zq = normalQuantile(q);
    const v = new Float64Array(mean.length);
    for (let j = 0; j < mean.length; j++) {
      if (!interval || q === 0.5) {
        v[j] = mean[j]!;
        continue;
      }
      const spread = zq < 0 ? (mean[j]! - interval.lower[j]!) / z : (interval.upper[j]! - mean[j]!) / z;
      v[j] = mean[j]! + zq * Math.max(0, spread);
    }
    out.set(q, v);
  }
  return out;
}
