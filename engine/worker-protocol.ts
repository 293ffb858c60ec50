/** Messages between the engine and its worker threads (structured-clone friendly: typed arrays, no Dates). */

export interface SeriesPayload {
  /** The series' key (item_id and dimensions, `/`-joined): names the items of a failed shard. */
  readonly item?: string;
  readonly values: Float64Array;
  readonly seasonLength: number;
  /**
   * Period start (epoch ms) of `values[0]` and the frequency: the worker derives every timestamp
   * (calendar-aware models) instead of receiving arrays of them.
   */
  readonly startMs?: number;
  readonly frequency?: string;
  /** Related features, `values.length + horizon` long. */
  readonly related?: Record<string, Float64Array>;
}

export interface FitTask {
  readonly kind: 'fit';
  readonly algorithm: string;
  readonly params: Readonly<Record<string, string>>;
  readonly horizon: number;
  /** Quantile levels in (0, 1). */
  readonly quantiles: readonly number[];
  readonly series: readonly SeriesPayload[];
}

/**
 * A global model (CNN-QR, DeepAR+) over all the series of one training set: one network is trained
 * on windows across them in one worker thread, then forecasts each (engine/forecast-series.ts).
 */
export interface GlobalFitTask {
  readonly kind: 'fit-global';
  readonly algorithm: string;
  readonly params: Readonly<Record<string, string>>;
  /** PerformHPO: a bounded search on a validation split before the final training. */
  readonly hpo: boolean;
  readonly horizon: number;
  readonly quantiles: readonly number[];
  readonly series: readonly SeriesPayload[];
}

export interface SeriesForecast {
  readonly mean: Float64Array;
  /** One array per requested quantile, same order as the task's `quantiles`. */
  readonly quantiles: Float64Array[];
  /** The model fitted, e.g. `ETS(A,N,N)`. */
  readonly description: string;
  /** Why the algorithm fell back to a simpler model for this series, if it did. */
  readonly fallback?: string;
  /** A global model's PerformHPO choice (TrainingParameters, Forecast's names); the same on every series. */
  readonly tunedParameters?: Readonly<Record<string, string>>;
}

/** Test hook: the worker thread exits mid-task (as a crash would). */
export interface CrashTask {
  readonly kind: 'crash';
}

/** A batch of fits: per-series models, or one global model over a whole training set. */
export type AnyFitTask = FitTask | GlobalFitTask;

export type WorkerTask = AnyFitTask | CrashTask;

/**
 * `memoryBytes`: the worker isolate's committed V8 heap plus external memory after the task; the
 * pool replaces a worker that has grown past its limit (model libraries that leak WASM memory).
 */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly results: SeriesForecast[]; readonly memoryBytes?: number }
  | { readonly id: number; readonly ok: false; readonly error: string; readonly memoryBytes?: number };
