/**
 * The contract between forecasting models and the engine service.
 * A model *spec* (hyperparameters, validated at construction) is separate from a
 * *fitted* model (only a fitted model can predict) — as in augurs and statsforecast.
 * Quantiles are numbers in (0, 1) inside the engine; `p50`/`"0.5"` spellings exist only at the API edge.
 */

export interface SeriesData {
  /** Target values on a regular grid, oldest first. NaN marks a missing value. */
  readonly values: Float64Array;
  /** Season length from the frequency (1 = no seasonality). */
  readonly seasonLength: number;
  /** Start of each period, same length as `values` (needed by calendar-aware models). */
  readonly timestamps?: readonly Date[];
  /** Related features on the same grid, extended `horizon` steps into the future. */
  readonly related?: Readonly<Record<string, Float64Array>>;
}

export interface Prediction {
  /** Point forecast (the mean of the predictive distribution). */
  readonly mean: Float64Array;
  /** Quantile forecasts keyed by the quantile level, e.g. `quantiles.get(0.9)`. */
  readonly quantiles: ReadonlyMap<number, Float64Array>;
}

export interface FittedModel {
  /** Name of the model actually fitted, e.g. `ETS(M,Ad,M)` or `ARIMA(1,1,1)(0,1,1)[7]`. */
  readonly description: string;
  /**
   * Forecast `horizon` steps after the last value. `futureTimestamps` / related features
   * (if any) cover those steps.
   */
  predict(horizon: number, quantiles: readonly number[], future?: { timestamps?: readonly Date[] }): Prediction;
  /**
   * Releases what the model holds outside the JS heap (WASM memory): call when it will not predict
   * again. Optional; the GC alone does not see that memory and lets it grow with every fit.
   */
  dispose?(): void;
}

export interface ModelSpec {
  /** Algorithm name as the engine reports it: ETS, ARIMA, NPTS, PROPHET, … */
  readonly algorithm: string;
  /** Fits to one series. Throws `NotEnoughData` when the series is too short for this model. */
  fit(series: SeriesData): FittedModel | Promise<FittedModel>;
}

/** A series too short (or too empty) for a model; the engine falls back to a simpler model. */
export class NotEnoughData extends Error {
  override readonly name = 'NotEnoughData' as const;
}

/** Hyperparameters that break a model's rules; the message states the rule and the value received. */
export class InvalidModelSpec extends Error {
  override readonly name = 'InvalidModelSpec' as const;
}

/**
 * A global model (CNN-QR, DeepAR+): one network learnt across all the series of a dataset, then
 * used to forecast each of them. Series carry their related features `horizon` steps into the
 * future (SeriesData.related); a global model fits and predicts the whole panel at once.
 */
export interface GlobalModelSpec {
  readonly algorithm: string;
  readonly kind: 'global';
  /** Trains on windows sampled across `panel` and forecasts `horizon` steps after each series' end. */
  fitPredict(panel: readonly SeriesData[], horizon: number, quantiles: readonly number[]): Promise<GlobalForecast>;
}

export interface GlobalForecast {
  /** What was trained, e.g. `CNN-QR(context_length=56, epochs=20, …)`. */
  readonly description: string;
  /** One prediction per series of the panel, same order. */
  readonly predictions: Prediction[];
  /** With PerformHPO: the TrainingParameters (Forecast's names) the search chose, to train with again. */
  readonly tunedParameters?: Readonly<Record<string, string>>;
}
