/**
 * CNN-QR (Amazon Forecast's Convolutional Neural Network – Quantile Regression), on tfjs:
 * a sequence-to-sequence network trained on windows sampled across all the items of a dataset.
 *
 * - Encoder: causal dilated convolutions (kernel 2, dilations 1, 2, 4, … until the receptive field
 *   covers `contextLength`, residual from the second layer) over the standardised history (each
 *   window by its context's mean and spread: `contextMoments`), its observed flag, the calendar and
 *   related features, the item's log scale and the window's log spread.
 * - Decoder: one MLP per horizon step over the encoding (last step and mean over the context), a
 *   learned per-item vector (item-id embedding: what an item's promotions and weekdays do is
 *   learned from its whole history, not only from one window), the step's known future features
 *   (calendar, related — promotions, prices) and a one-hot step index.
 * - Training: Adam with the learning rate decaying along a half cosine to a tenth.
 * - Output: the quantiles asked for (plus 0.1, 0.5 — the point forecast — and 0.9) directly, ordered by
 *   construction (the lowest, then cumulative softplus increments), trained with the pinball loss,
 *   as offsets from the mean of the context's last season of observed values (the network learns
 *   what differs from a seasonal-mean forecast rather than the level itself).
 *   Dilated convolutions are written as shifted matrix products: tfjs has no gradient for a
 *   dilated conv1d.
 * - Intervals: conformally calibrated on the held-out last horizon of every series, from the same
 *   training (engine/models/neural/calibration.ts; `calibrateIntervals: false` keeps the network's own).
 */
import { validateQuantiles, withCalibrationQuantiles } from './quantiles';
import { calibratedForecast, calibrationHoldout } from './neural/calibration';
import { buildPanel, contextMoments, copyFeatures, windowSampler, YEAR_LAG_FEATURE, YEAR_LAG_OBSERVED, type Panel, type Window } from './neural/panel';
import { loadTf, type Tf } from './neural/runtime';
import { embedItems, oneHot, trainSteps, Weights } from './neural/train';
import { InvalidModelSpec, type GlobalForecast, type GlobalModelSpec, type Prediction, type SeriesData } from './types';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Tensor1D = import('@tensorflow/tfjs').Tensor1D;
type Tensor2D = import('@tensorflow/tfjs').Tensor2D;

export type RelatedUse = 'ALL' | 'HISTORICAL' | 'FORECAST' | 'NONE';

export interface CnnQrOptions {
  /** Periods of history the encoder reads (default 2 × horizon, at least 8). */
  readonly contextLength?: number;
  /** Passes of `batchesPerEpoch` batches (default 60). */
  readonly epochs?: number;
  readonly learningRate?: number;
  /** Convolution channels (default 16). */
  readonly channels?: number;
  readonly batchSize?: number;
  readonly batchesPerEpoch?: number;
  /** Forecast's use_related_data: where related series enter (default ALL: history and horizon). */
  readonly useRelatedData?: RelatedUse;
  readonly seed?: number;
  /** Conformal intervals from the held-out last horizon (default true; PerformHPO's trials skip it). */
  readonly calibrateIntervals?: boolean;
}

export const CNNQR_DEFAULTS = { epochs: 60, learningRate: 1e-2, channels: 16, batchSize: 32, batchesPerEpoch: 10, seed: 1 } as const;

/** Training ends at this fraction of the learning rate (cosine decay). */
const FINAL_LEARNING_RATE_FRACTION = 0.1;
/** Width of the learned per-item vector (item-id embedding). */
const ITEM_EMBEDDING = 8;

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new InvalidModelSpec(`CNN-QR ${name} must be a positive integer, got ${value}`);
}

interface Layout {
  readonly context: number;
  readonly horizon: number;
  readonly features: number;
  readonly encoderInputs: number;
  readonly decoderInputs: number;
  readonly dilations: number[];
  readonly levels: number[];
  /** Periods averaged for the baseline: the season length (at least 1). */
  readonly season: number;
  readonly items: number;
}

export function cnnQr(options: CnnQrOptions = {}): GlobalModelSpec {
  positiveInteger('contextLength', options.contextLength);
  positiveInteger('epochs', options.epochs);
  positiveInteger('channels', options.channels);
  positiveInteger('batchSize', options.batchSize);
  positiveInteger('batchesPerEpoch', options.batchesPerEpoch);
  const learningRate = options.learningRate ?? CNNQR_DEFAULTS.learningRate;
  if (!(learningRate > 0 && learningRate < 1)) throw new InvalidModelSpec(`CNN-QR learningRate must lie in (0, 1), got ${learningRate}`);
  const epochs = options.epochs ?? CNNQR_DEFAULTS.epochs;
  const channels = options.channels ?? CNNQR_DEFAULTS.channels;
  const batchSize = options.batchSize ?? CNNQR_DEFAULTS.batchSize;
  const batchesPerEpoch = options.batchesPerEpoch ?? CNNQR_DEFAULTS.batchesPerEpoch;
  const seed = options.seed ?? CNNQR_DEFAULTS.seed;
  const useRelated = options.useRelatedData ?? 'ALL';
  return {
    algorithm: 'CNNQR',
    kind: 'global',
    async fitPredict(data: readonly SeriesData[], horizon: number, quantiles: readonly number[]): Promise<GlobalForecast> {
      validateQuantiles(quantiles);
      const tf = await loadTf();
      const panel = buildPanel(data, horizon);
      const context = options.contextLength ?? Math.max(8, 2 * horizon);
      const dilations: number[] = [];
      for (let field = 1; field < context; field *= 2) dilations.push(field);
      if (!dilations.length) dilations.push(1);
      const levels = withCalibrationQuantiles(quantiles);
      const calibrate = options.calibrateIntervals !== false;
      const heldOut = calibrationHoldout(panel, calibrate);
      const layout: Layout = {
        context,
        horizon,
        features: panel.featureCount,
        encoderInputs: 4 + panel.featureCount,
        decoderInputs: panel.featureCount + 2 + horizon,
        dilations,
        levels,
        season: Math.max(1, data[0]!.seasonLength),
        items: data.length,
      };
      const weights = new Weights(tf, seed);
      try {
        const net = network(tf, weights, layout, channels);
        const sample = windowSampler(panel, seed + 1, heldOut);
        const steps = epochs * batchesPerEpoch;
        const loss = trainSteps(
          tf,
          weights,
          () => {
            const windows = Array.from({ length: batchSize }, sample);
            const batch = batchTensors(tf, panel, layout, windows, useRelated);
            return pinballLoss(tf, net(batch, windows.length, true), batch.target, batch.mask, levels);
          },
          { steps, learningRate, finalLearningRate: learningRate * FINAL_LEARNING_RATE_FRACTION },
        );
        const { predictions, note } = calibratedForecast(panel, heldOut, calibrate, quantiles, (windows, wanted) => predictAll(tf, net, panel, layout, useRelated, wanted, windows));
        const related = useRelated === 'NONE' || !panel.related.length ? '' : `; related (${useRelated}): ${panel.related.join(', ')}`;
        return {
          description: `CNN-QR(context_length=${context}, epochs=${epochs}, learning_rate=${learningRate}, loss=${loss.toFixed(4)}${related}${note})`,
          predictions,
        };
      } finally {
        weights.dispose();
      }
    },
  };
}

/** Quantiles [B, horizon, levels]; `training` takes the differentiable path for the item embedding. */
type Net = (input: Batch, batch: number, training: boolean) => Tensor;

function network(tf: Tf, weights: Weights, layout: Layout, channels: number): Net {
  const { context, horizon, levels } = layout;
  const conv = layout.dilations.map((dilation, l) => ({
    dilation,
    kernel: weights.matrix(2 * (l === 0 ? layout.encoderInputs : channels), channels),
    bias: weights.vector(channels),
  }));
  const table = weights.matrix(layout.items, ITEM_EMBEDDING);
  const hidden = weights.matrix(2 * channels + ITEM_EMBEDDING + layout.decoderInputs, channels);
  const hiddenBias = weights.vector(channels);
  const out = weights.matrix(channels, levels.length);
  const outBias = weights.vector(levels.length);
  return ({ encoder, decoder, baseline, item }, batch, training) => {
    let h = encoder; // [B, C, inputs]
    conv.forEach(({ dilation, kernel, bias }, l) => {
      const width = h.shape[2]!;
      const shifted = dilation >= context ? tf.zerosLike(h) : tf.slice(tf.pad(h, [[0, 0], [dilation, 0], [0, 0]]), [0, 0, 0], [batch, context, width]);
      const pair = tf.reshape(tf.concat([shifted, h], 2), [batch * context, 2 * width]);
      const y = tf.reshape(tf.relu(tf.add(tf.matMul(pair, kernel), bias)), [batch, context, channels]);
      h = l === 0 ? y : tf.add(h, y);
    });
    const last = tf.reshape(tf.slice(h, [0, context - 1, 0], [batch, 1, channels]), [batch, channels]);
    const encoding = tf.concat([last, tf.mean(h, 1)], 1); // [B, 2K]
    const embedding = embedItems(tf, table as Tensor2D, item, training); // [B, E]
    const staticPart = tf.concat([encoding, embedding], 1);
    const width = 2 * channels + ITEM_EMBEDDING;
    const repeated = tf.tile(tf.reshape(staticPart, [batch, 1, width]), [1, horizon, 1]);
    const rows = tf.reshape(tf.concat([repeated, decoder], 2), [batch * horizon, width + layout.decoderInputs]);
    const z = tf.relu(tf.add(tf.matMul(rows, hidden), hiddenBias));
    const raw = tf.reshape(tf.add(tf.matMul(z, out), outBias), [batch, horizon, levels.length]);
    const level = tf.reshape(baseline, [batch, 1, 1]);
    if (levels.length === 1) return tf.add(raw, level);
    const lowest = tf.add(tf.slice(raw, [0, 0, 0], [batch, horizon, 1]), level);
    const steps = tf.softplus(tf.slice(raw, [0, 0, 1], [batch, horizon, levels.length - 1]));
    return tf.concat([lowest, tf.add(lowest, tf.cumsum(steps, 2))], 2);
  };
}

interface Batch {
  readonly encoder: Tensor;
  readonly decoder: Tensor;
  /** Mean of the last season's observed scaled values before each window's start. */
  readonly baseline: Tensor;
  readonly target: Tensor;
  readonly mask: Tensor;
  /** Item index of each window [B] (int32). */
  readonly item: Tensor1D;
}

function batchArrays(panel: Panel, layout: Layout, windows: readonly Window[], useRelated: RelatedUse) {
  const { context, horizon, features, encoderInputs, decoderInputs } = layout;
  const B = windows.length;
  const encoder = new Float32Array(B * context * encoderInputs);
  const decoder = new Float32Array(B * horizon * decoderInputs);
  const target = new Float32Array(B * horizon);
  const mask = new Float32Array(B * horizon);
  const baseline = new Float32Array(B);
  const item = new Int32Array(B);
  const loc = new Float64Array(B);
  const spread = new Float64Array(B);
  const steps = oneHot(horizon, horizon);
  const relatedFrom = features - panel.related.length;
  const keepHistory = useRelated === 'ALL' || useRelated === 'HISTORICAL';
  const keepFuture = useRelated === 'ALL' || useRelated === 'FORECAST';
  windows.forEach(({ series, start }, b) => {
    const s = panel.series[series]!;
    item[b] = series;
    const { mean, spread: sp } = contextMoments(s, start, context, layout.season);
    loc[b] = mean;
    spread[b] = sp;
    const z = (v: number) => (v - mean) / sp;
    let sum = 0;
    let count = 0;
    for (let t = Math.max(0, start - layout.season); t < start; t++) {
      if (!s.observed[t]) continue;
      sum += z(s.scaled[t]!);
      count++;
    }
    baseline[b] = count ? sum / count : 0;
    for (let c = 0; c < context; c++) {
      const t = start - context + c;
      if (t < 0) continue; // before the series: zeros, observed = 0
      const o = (b * context + c) * encoderInputs;
      encoder[o] = s.observed[t] ? z(s.scaled[t]!) : 0;
      encoder[o + 1] = s.observed[t]!;
      encoder[o + 2] = s.logScale;
      encoder[o + 3] = Math.log(sp);
      copyFeatures(s, features, t, encoder, o + 4);
      if (encoder[o + 4 + YEAR_LAG_OBSERVED]) encoder[o + 4 + YEAR_LAG_FEATURE] = z(encoder[o + 4 + YEAR_LAG_FEATURE]!);
      if (!keepHistory) encoder.fill(0, o + 4 + relatedFrom, o + 4 + features);
    }
    for (let h = 0; h < horizon; h++) {
      const t = start + h;
      const o = (b * horizon + h) * decoderInputs;
      copyFeatures(s, features, t, decoder, o);
      if (decoder[o + YEAR_LAG_OBSERVED]) decoder[o + YEAR_LAG_FEATURE] = z(decoder[o + YEAR_LAG_FEATURE]!);
      if (!keepFuture) decoder.fill(0, o + relatedFrom, o + features);
      decoder[o + features] = s.logScale;
      decoder[o + features + 1] = Math.log(sp);
      decoder.set(steps.subarray(h * horizon, (h + 1) * horizon), o + features + 2);
      if (t < s.scaled.length && s.observed[t]) {
        target[b * horizon + h] = z(s.scaled[t]!);
        mask[b * horizon + h] = 1;
      }
    }
  });
  return { encoder, decoder, baseline, target, mask, item, loc, spread };
}

function batchTensors(tf: Tf, panel: Panel, layout: Layout, windows: readonly Window[], useRelated: RelatedUse): Batch {
  return tensorsOf(tf, batchArrays(panel, layout, windows, useRelated), layout, windows.length);
}

function tensorsOf(tf: Tf, a: ReturnType<typeof batchArrays>, layout: Layout, B: number): Batch {
  return {
    encoder: tf.tensor3d(a.encoder, [B, layout.context, layout.encoderInputs]),
    decoder: tf.tensor3d(a.decoder, [B, layout.horizon, layout.decoderInputs]),
    baseline: tf.tensor1d(a.baseline),
    target: tf.tensor2d(a.target, [B, layout.horizon]),
    mask: tf.tensor2d(a.mask, [B, layout.horizon]),
    item: tf.tensor1d(a.item, 'int32'),
  };
}

/** Mean pinball loss over the observed targets and the quantile levels. */
function pinballLoss(tf: Tf, predicted: Tensor, target: Tensor, mask: Tensor, levels: readonly number[]) {
  const [B, H] = target.shape as [number, number];
  const error = tf.sub(tf.reshape(target, [B, H, 1]), predicted); // [B, H, Q]
  const q = tf.tensor1d([...levels]);
  const loss = tf.maximum(tf.mul(error, q), tf.mul(error, tf.sub(q, 1)));
  const masked = tf.mul(loss, tf.reshape(mask, [B, H, 1]));
  return tf.div(tf.sum(masked), tf.mul(tf.maximum(tf.sum(mask), 1), levels.length)) as import('@tensorflow/tfjs').Scalar;
}

/** Forecasts of `windows` (one a series, in panel order) with the `quantiles` of the network's levels. */
function predictAll(tf: Tf, net: Net, panel: Panel, layout: Layout, useRelated: RelatedUse, quantiles: readonly number[], windows: readonly Window[]): Prediction[] {
  const { horizon, levels } = layout;
  const out: Prediction[] = [];
  const chunk = 256;
  for (let from = 0; from < windows.length; from += chunk) {
    const part = windows.slice(from, from + chunk);
    const a = batchArrays(panel, layout, part, useRelated);
    const values = tf.tidy(() => {
      const batch = tensorsOf(tf, a, layout, part.length);
      return net(batch, part.length, false).dataSync() as Float32Array;
    });
    part.forEach(({ series }, b) => {
      const scale = panel.series[series]!.scale;
      const level = (q: number) => {
        const k = levels.indexOf(q);
        const v = new Float64Array(horizon);
        for (let h = 0; h < horizon; h++) v[h] = (values[(b * horizon + h) * levels.length + k]! * a.spread[b]! + a.loc[b]!) * scale;
        return v;
      };
      out.push({ mean: level(0.5), quantiles: new Map(quantiles.map((q) => [q, level(q)])) });
    });
  }
  return out;
}
