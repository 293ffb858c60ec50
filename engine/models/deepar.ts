/**
 * DeepAR+ (Amazon Forecast's autoregressive recurrent network), on tfjs: an LSTM trained on
 * windows (context + horizon) sampled across all the items, emitting at each step the parameters
 * of a likelihood for the next value.
 *
 * - Inputs per step: lagged targets (1, m and 2m periods back, m the season length), an observed
 *   flag for the previous value, calendar and related features, the item's log scale and its
 *   window's log spread (engine/models/neural/panel.ts), and a learned per-item vector (item-id
 *   embedding: what an item's promotions and weekdays do is learned from its whole history, not
 *   only from one window). Student-t and Gaussian model each window's values standardised by its
 *   context's mean and spread (`contextMoments`); the negative binomial models counts.
 * - Likelihoods: Student-t (Forecast's default; real values), Gaussian, negative binomial (counts:
 *   mean = scale · softplus, shape α = softplus / √scale). The negative log-likelihood of every
 *   observed step of a window is minimised (teacher forcing).
 * - Forecast: the network reads each series' last `contextLength` periods, then draws `samples`
 *   paths step by step, feeding each draw back as the next lag; quantiles are the paths' empirical
 *   quantiles and the point forecast their mean. Draws come from a seeded generator.
 * - Intervals: the likelihood's spread is the network's guess; the quantiles are conformally
 *   calibrated on the held-out last horizon of every series, from the same training
 *   (engine/models/neural/calibration.ts; `calibrateIntervals: false` keeps the paths' own).
 */
import { empiricalQuantiles, SeededRandom, validateQuantiles } from './quantiles';
import { calibratedForecast, calibrationHoldout } from './neural/calibration';
import { buildPanel, contextMoments, copyFeatures, windowSampler, YEAR_LAG_FEATURE, YEAR_LAG_OBSERVED, type Panel, type Window } from './neural/panel';
import { loadTf, type Tf } from './neural/runtime';
import { embedItems, trainSteps, Weights } from './neural/train';
import { InvalidModelSpec, type GlobalForecast, type GlobalModelSpec, type Prediction, type SeriesData } from './types';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Tensor2D = import('@tensorflow/tfjs').Tensor2D;
type Tensor1D = import('@tensorflow/tfjs').Tensor1D;
type Scalar = import('@tensorflow/tfjs').Scalar;

export type Likelihood = 'student-T' | 'gaussian' | 'negative-binomial';

export interface DeepArOptions {
  /** Periods the network reads before forecasting (default: the horizon, as Forecast). */
  readonly contextLength?: number;
  /** Passes of `batchesPerEpoch` batches (default 20). */
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly likelihood?: Likelihood;
  /** LSTM cells per layer (Forecast default 40). */
  readonly numCells?: number;
  /** LSTM layers (default 1; Forecast's 2 costs about twice as much per step). */
  readonly numLayers?: number;
  readonly batchSize?: number;
  readonly batchesPerEpoch?: number;
  /** Sample paths drawn per series (default 100). */
  readonly samples?: number;
  readonly seed?: number;
  /** Conformal intervals from the held-out last horizon (default true; PerformHPO's trials skip it). */
  readonly calibrateIntervals?: boolean;
}

export const DEEPAR_DEFAULTS = { epochs: 20, learningRate: 1e-3, likelihood: 'student-T', numCells: 40, numLayers: 1, batchSize: 32, batchesPerEpoch: 10, samples: 100, seed: 1 } as const;

const PARAMETERS: Record<Likelihood, number> = { 'student-T': 3, gaussian: 2, 'negative-binomial': 2 };

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new InvalidModelSpec(`DeepAR+ ${name} must be a positive integer, got ${value}`);
}

interface Layout {
  readonly context: number;
  readonly horizon: number;
  readonly lags: readonly number[];
  readonly features: number;
  readonly inputs: number;
  readonly items: number;
  readonly season: number;
  /** Student-t and Gaussian model standardised values; the negative binomial counts. */
  readonly standardise: boolean;
}

/** Width of the learned per-item vector (item-id embedding). */
const ITEM_EMBEDDING = 8;

/** A window's standardisation: value → (value − mean) / spread (identity for counts). */
interface Standard {
  readonly mean: number;
  readonly spread: number;
}

export function deepAr(options: DeepArOptions = {}): GlobalModelSpec {
  for (const key of ['contextLength', 'epochs', 'numCells', 'numLayers', 'batchSize', 'batchesPerEpoch', 'samples'] as const) positiveInteger(key, options[key]);
  const learningRate = options.learningRate ?? DEEPAR_DEFAULTS.learningRate;
  if (!(learningRate > 0 && learningRate < 1)) throw new InvalidModelSpec(`DeepAR+ learningRate must lie in (0, 1), got ${learningRate}`);
  const likelihood = options.likelihood ?? DEEPAR_DEFAULTS.likelihood;
  if (!(likelihood in PARAMETERS)) throw new InvalidModelSpec(`DeepAR+ likelihood must be student-T, gaussian or negative-binomial, got ${String(likelihood)}`);
  const epochs = options.epochs ?? DEEPAR_DEFAULTS.epochs;
  const cells = options.numCells ?? DEEPAR_DEFAULTS.numCells;
  const layers = options.numLayers ?? DEEPAR_DEFAULTS.numLayers;
  const batchSize = options.batchSize ?? DEEPAR_DEFAULTS.batchSize;
  const batchesPerEpoch = options.batchesPerEpoch ?? DEEPAR_DEFAULTS.batchesPerEpoch;
  const samples = options.samples ?? DEEPAR_DEFAULTS.samples;
  const seed = options.seed ?? DEEPAR_DEFAULTS.seed;
  return {
    algorithm: 'DEEPARP',
    kind: 'global',
    async fitPredict(data: readonly SeriesData[], horizon: number, quantiles: readonly number[]): Promise<GlobalForecast> {
      validateQuantiles(quantiles);
      if (likelihood === 'negative-binomial') checkCounts(data);
      const tf = await loadTf();
      const panel = buildPanel(data, horizon);
      const m = Math.max(1, data[0]!.seasonLength);
      const lags = [...new Set(m > 1 ? [1, m, 2 * m] : [1, 2, 3])];
      const layout: Layout = { context: options.contextLength ?? horizon, horizon, lags, features: panel.featureCount, inputs: lags.length + 3 + panel.featureCount, items: data.length, season: m, standardise: likelihood !== 'negative-binomial' };
      const weights = new Weights(tf, seed);
      try {
        const net = network(tf, weights, layout, cells, layers, PARAMETERS[likelihood]);
        const calibrate = options.calibrateIntervals !== false;
        const heldOut = calibrationHoldout(panel, calibrate);
        const sample = windowSampler(panel, seed + 1, heldOut);
        const window = layout.context + horizon;
        const loss = trainSteps(
          tf,
          weights,
          () => {
            const windows = Array.from({ length: batchSize }, sample);
            const batch = trainingBatch(panel, layout, windows);
            const inputs = tf.tensor3d(batch.inputs, [batchSize, window, layout.inputs]);
            const { outputs } = net.run(inputs, net.zeroState(batchSize), net.embed(tf.tensor1d(batch.item, 'int32'), true));
            return negativeLogLikelihood(tf, likelihood, outputs, tf.tensor2d(batch.target, [batchSize, window]), tf.tensor2d(batch.raw, [batchSize, window]), tf.tensor2d(batch.mask, [batchSize, window]), tf.tensor2d(batch.scale, [batchSize, 1]));
          },
          { steps: epochs * batchesPerEpoch, learningRate },
        );
        // The forecast's draws keep the seed they had before calibration existed; the held-out pass has its own.
        const { predictions: scaled, note } = calibratedForecast(panel, heldOut, calibrate, quantiles, (windows, wanted, heldOutPass) =>
          forecast(tf, net, panel, layout, likelihood, samples, wanted, seed + (heldOutPass ? 3 : 2), windows),
        );
        // Counts stay whole and non-negative once stretched (a monotone map: the order holds).
        const predictions = likelihood === 'negative-binomial' ? scaled.map(wholeCounts) : scaled;
        const related = panel.related.length ? `; related: ${panel.related.join(', ')}` : '';
        return {
          description: `DeepAR+(context_length=${layout.context}, epochs=${epochs}, learning_rate=${learningRate}, likelihood=${likelihood}, num_layers=${layers}, num_cells=${cells}, loss=${loss.toFixed(4)}${related}${note})`,
          predictions,
        };
      } finally {
        weights.dispose();
      }
    },
  };
}

function wholeCounts(p: Prediction): Prediction {
  const round = (v: Float64Array) => v.map((x) => Math.max(0, Math.round(x)));
  return { mean: p.mean, quantiles: new Map([...p.quantiles].map(([q, v]) => [q, round(v)])) };
}

function checkCounts(data: readonly SeriesData[]): void {
  for (const s of data) {
    for (const v of s.values) {
      if (Number.isFinite(v) && (v < 0 || !Number.isInteger(v))) {
        throw new InvalidModelSpec(`DeepAR+ likelihood negative-binomial needs non-negative integer targets, got ${v}; use student-T for real values`);
      }
    }
  }
}

interface State {
  readonly h: Tensor2D[];
  readonly c: Tensor2D[];
}

interface Net {
  zeroState(rows: number): State;
  /** The item-embedding rows [B, E] of item indices [B]; `training` takes the differentiable path. */
  embed(items: Tensor1D, training: boolean): Tensor2D;
  /** Runs the LSTM over inputs [B, T, D] with the rows' item embeddings [B, E]: distribution parameters [B, T, P] and the final state. */
  run(inputs: Tensor, state: State, embedding: Tensor2D): { outputs: Tensor; state: State };
}

function network(tf: Tf, weights: Weights, layout: Layout, cells: number, layers: number, parameters: number): Net {
  const table = weights.matrix(layout.items, ITEM_EMBEDDING);
  const stack = Array.from({ length: layers }, (_, l) => {
    const kernel = weights.matrix((l === 0 ? layout.inputs + ITEM_EMBEDDING : cells) + cells, 4 * cells);
    // Gates ordered input, candidate, forget, output; the forget gate gets a constant +1 in run()
    // (remember by default, as in tfjs' basicLSTMCell and Keras' unit_forget_bias).
    const bias = weights.vector(4 * cells);
    return { kernel, bias };
  });
  const head = weights.matrix(cells, parameters);
  const headBias = weights.vector(parameters);
  return {
    zeroState: (rows) => ({ h: stack.map(() => tf.zeros([rows, cells])), c: stack.map(() => tf.zeros([rows, cells])) }),
    embed: (items, training) => embedItems(tf, table as Tensor2D, items, training),
    run(inputs, state, embedding) {
      const [B, T] = inputs.shape as [number, number, number];
      const h = [...state.h];
      const c = [...state.c];
      const tops: Tensor2D[] = [];
      const steps = tf.unstack(inputs, 1) as Tensor2D[];
      for (let t = 0; t < T; t++) {
        let x = tf.concat([steps[t]!, embedding], 1);
        stack.forEach(({ kernel, bias }, l) => {
          const gates = tf.add(tf.matMul(tf.concat([x, h[l]!], 1), kernel), bias);
          const [i, j, f, o] = tf.split(gates, 4, 1) as Tensor2D[];
          c[l] = tf.add(tf.mul(tf.sigmoid(tf.add(f!, 1)), c[l]!), tf.mul(tf.sigmoid(i!), tf.tanh(j!)));
          h[l] = tf.mul(tf.tanh(c[l]!), tf.sigmoid(o!));
          x = h[l]!;
        });
        tops.push(x);
      }
      const top = tf.reshape(tf.stack(tops, 1), [B * T, cells]);
      const outputs = tf.reshape(tf.add(tf.matMul(top, head), headBias), [B, T, parameters]);
      return { outputs, state: { h, c } };
    },
  };
}

/** Writes the inputs of absolute step `t` of series `s` (lags read from `value(t')`). */
function stepInputs(panel: Panel, layout: Layout, series: number, t: number, value: (t: number) => number, observed: (t: number) => number, standard: Standard, out: Float32Array, o: number): void {
  const s = panel.series[series]!;
  layout.lags.forEach((lag, k) => {
    out[o + k] = t - lag >= 0 && observed(t - lag) ? value(t - lag) : 0;
  });
  out[o + layout.lags.length] = t - 1 >= 0 ? observed(t - 1) : 0;
  out[o + layout.lags.length + 1] = s.logScale;
  out[o + layout.lags.length + 2] = Math.log(standard.spread);
  const f = o + layout.lags.length + 3;
  copyFeatures(s, layout.features, t, out, f);
  if (out[f + YEAR_LAG_OBSERVED]) out[f + YEAR_LAG_FEATURE] = (out[f + YEAR_LAG_FEATURE]! - standard.mean) / standard.spread;
}

function standardOf(panel: Panel, layout: Layout, series: number, start: number): Standard {
  return layout.standardise ? contextMoments(panel.series[series]!, start, layout.context, layout.season) : { mean: 0, spread: 1 };
}

function trainingBatch(panel: Panel, layout: Layout, windows: readonly Window[]) {
  const W = layout.context + layout.horizon;
  const B = windows.length;
  const inputs = new Float32Array(B * W * layout.inputs);
  const target = new Float32Array(B * W);
  const raw = new Float32Array(B * W);
  const mask = new Float32Array(B * W);
  const scale = new Float32Array(B);
  const item = new Int32Array(B);
  windows.forEach(({ series, start }, b) => {
    const s = panel.series[series]!;
    scale[b] = s.scale;
    item[b] = series;
    const standard = standardOf(panel, layout, series, start);
    const value = (t: number) => (s.scaled[t]! - standard.mean) / standard.spread;
    const observed = (t: number) => s.observed[t]!;
    for (let j = 0; j < W; j++) {
      const t = start - layout.context + j;
      if (t < 0) continue;
      stepInputs(panel, layout, series, t, value, observed, standard, inputs, (b * W + j) * layout.inputs);
      if (t < s.scaled.length && s.observed[t]) {
        target[b * W + j] = value(t);
        raw[b * W + j] = s.raw[t]!;
        mask[b * W + j] = 1;
      }
    }
  });
  return { inputs, target, raw, mask, scale, item };
}

/** ln Γ(x) for x > 0: Stirling's series at x + 5, shifted back (error < 1e-8). */
function lgamma(tf: Tf, x: Tensor): Tensor {
  const z = tf.add(x, 5);
  const series = tf.add(
    tf.sub(tf.mul(tf.sub(z, 0.5), tf.log(z)), z),
    tf.add(0.5 * Math.log(2 * Math.PI), tf.sub(tf.div(1 / 12, z), tf.div(1 / 360, tf.pow(z, 3)))),
  );
  const shift = tf.log(tf.mul(tf.mul(tf.mul(x, tf.add(x, 1)), tf.mul(tf.add(x, 2), tf.add(x, 3))), tf.add(x, 4)));
  return tf.sub(series, shift);
}

/** The likelihood's parameters from the network's raw outputs (scaled space; NB in counts). */
function distribution(tf: Tf, likelihood: Likelihood, outputs: Tensor, scale: Tensor) {
  const [B, T] = outputs.shape as [number, number, number];
  const part = (k: number) => tf.reshape(tf.slice(outputs, [0, 0, k], [B, T, 1]), [B, T]);
  if (likelihood === 'negative-binomial') {
    const mu = tf.add(tf.mul(tf.softplus(part(0)), scale), 1e-6);
    const alpha = tf.add(tf.div(tf.softplus(part(1)), tf.sqrt(scale)), 1e-6);
    return { mu, alpha };
  }
  const mu = part(0);
  const sigma = tf.add(tf.softplus(part(1)), 1e-3);
  const nu = likelihood === 'student-T' ? tf.add(tf.softplus(part(2)), 2) : undefined;
  return { mu, sigma, nu };
}

function negativeLogLikelihood(tf: Tf, likelihood: Likelihood, outputs: Tensor, target: Tensor, raw: Tensor, mask: Tensor, scale: Tensor): Scalar {
  const d = distribution(tf, likelihood, outputs, scale);
  let nll: Tensor;
  if (likelihood === 'negative-binomial') {
    const r = tf.div(1, d.alpha!);
    const y = tf.mul(raw, mask); // counts (0 where masked)
    nll = tf.neg(
      tf.add(
        tf.sub(lgamma(tf, tf.add(y, r)), lgamma(tf, r)),
        tf.add(tf.mul(r, tf.log(tf.div(r, tf.add(r, d.mu!)))), tf.mul(y, tf.log(tf.div(d.mu!, tf.add(r, d.mu!))))),
      ),
    );
  } else {
    const z = tf.div(tf.sub(target, d.mu!), d.sigma!);
    if (likelihood === 'gaussian') {
      nll = tf.add(tf.log(d.sigma!), tf.mul(0.5, tf.square(z)));
    } else {
      const nu = d.nu!;
      nll = tf.add(
        tf.add(tf.sub(lgamma(tf, tf.div(nu, 2)), lgamma(tf, tf.div(tf.add(nu, 1), 2))), tf.mul(0.5, tf.log(tf.mul(Math.PI, nu)))),
        tf.add(tf.log(d.sigma!), tf.mul(tf.div(tf.add(nu, 1), 2), tf.log1p(tf.div(tf.square(z), nu)))),
      );
    }
  }
  return tf.div(tf.sum(tf.mul(nll, mask)), tf.maximum(tf.sum(mask), 1)) as Scalar;
}

/** Gamma(shape, 1) draw (Marsaglia–Tsang; shape < 1 by the boost u^(1/shape)). */
function gamma(random: SeededRandom, shape: number): number {
  if (shape < 1) return gamma(random, shape + 1) * Math.pow(random.uniform(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = random.normal();
    const v = Math.pow(1 + c * x, 3);
    if (v <= 0) continue;
    const u = random.uniform();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Poisson(λ) draw: Knuth's product below 30, a rounded normal above (documented approximation). */
function poisson(random: SeededRandom, lambda: number): number {
  if (lambda < 30) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = random.uniform();
    while (p > limit) {
      k++;
      p *= random.uniform();
    }
    return k;
  }
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * random.normal()));
}

/** Sample-path forecasts of `windows` (one a series, in panel order). */
function forecast(tf: Tf, net: Net, panel: Panel, layout: Layout, likelihood: Likelihood, samples: number, quantiles: readonly number[], seed: number, windows: readonly Window[]): Prediction[] {
  const random = new SeededRandom(seed);
  const { context, horizon } = layout;
  const P = PARAMETERS[likelihood];
  const out: Prediction[] = [];
  const chunk = Math.max(1, Math.floor(4000 / samples));
  for (let from = 0; from < windows.length; from += chunk) {
    const part = windows.slice(from, from + chunk);
    const N = part.length;
    const rows = N * samples;
    // paths[(i * samples + k) * horizon + h], in scaled units
    const paths = new Float32Array(rows * horizon);
    const standards = part.map(({ series, start }) => standardOf(panel, layout, series, start));
    // Each series' embedding, once for its context and once per sample path.
    const contextItems = tf.tidy(() => net.embed(tf.tensor1d(part.map((w) => w.series), 'int32'), false));
    const itemTensor = tf.tidy(() => tf.reshape(tf.tile(tf.reshape(contextItems, [N, 1, -1]), [1, samples, 1]), [rows, -1]) as Tensor2D);
    // Read the context once per series, then repeat the state for every sample path.
    let state: State = tf.tidy(() => {
      const inputs = new Float32Array(N * context * layout.inputs);
      part.forEach(({ series, start }, i) => {
        const s = panel.series[series]!;
        for (let j = 0; j < context; j++) {
          const t = start - context + j;
          const standard = standards[i]!;
          if (t >= 0) stepInputs(panel, layout, series, t, (u) => (s.scaled[u]! - standard.mean) / standard.spread, (u) => s.observed[u]!, standard, inputs, (i * context + j) * layout.inputs);
        }
      });
      const { state } = net.run(tf.tensor3d(inputs, [N, context, layout.inputs]), net.zeroState(N), contextItems);
      const repeat = (x: Tensor2D) => tf.reshape(tf.tile(tf.reshape(x, [N, 1, -1]), [1, samples, 1]), [rows, -1]) as Tensor2D;
      const repeated = { h: state.h.map(repeat), c: state.c.map(repeat) };
      for (const x of [...repeated.h, ...repeated.c]) tf.keep(x);
      return repeated;
    });
    for (let h = 0; h < horizon; h++) {
      const inputs = new Float32Array(rows * layout.inputs);
      part.forEach(({ series, start }, i) => {
        const s = panel.series[series]!;
        for (let k = 0; k < samples; k++) {
          const row = i * samples + k;
          const standard = standards[i]!;
          const value = (t: number) => (t >= start ? paths[row * horizon + (t - start)]! : (s.scaled[t]! - standard.mean) / standard.spread);
          const observed = (t: number) => (t >= start ? 1 : s.observed[t]!);
          stepInputs(panel, layout, series, start + h, value, observed, standard, inputs, row * layout.inputs);
        }
      });
      const current = state;
      const [outputs, ...next] = tf.tidy(() => {
        const result = net.run(tf.tensor3d(inputs, [rows, 1, layout.inputs]), current, itemTensor);
        return [result.outputs, ...result.state.h, ...result.state.c];
      });
      const params = outputs!.dataSync() as Float32Array;
      outputs!.dispose();
      for (const x of [...state.h, ...state.c]) x.dispose();
      state = { h: next.slice(0, current.h.length) as Tensor2D[], c: next.slice(current.h.length) as Tensor2D[] };
      part.forEach(({ series }, i) => {
        const scale = panel.series[series]!.scale;
        for (let k = 0; k < samples; k++) {
          const row = i * samples + k;
          const a = params[row * P]!;
          const b = params[row * P + 1]!;
          const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));
          let draw: number;
          if (likelihood === 'negative-binomial') {
            const mu = softplus(a) * scale + 1e-6;
            const alpha = softplus(b) / Math.sqrt(scale) + 1e-6;
            const lambda = gamma(random, 1 / alpha) * alpha * mu;
            draw = poisson(random, lambda) / scale;
          } else {
            const sigma = softplus(b) + 1e-3;
            let z = random.normal();
            if (likelihood === 'student-T') {
              const nu = softplus(params[row * P + 2]!) + 2;
              z /= Math.sqrt((2 * gamma(random, nu / 2)) / nu);
            }
            draw = a + sigma * z;
          }
          paths[row * horizon + h] = draw;
        }
      });
    }
    for (const x of [...state.h, ...state.c, itemTensor, contextItems]) x.dispose();
    part.forEach(({ series }, i) => {
      const scale = panel.series[series]!.scale;
      const { mean: location, spread } = standards[i]!;
      const seriesPaths = new Float64Array(samples * horizon);
      for (let j = 0; j < samples * horizon; j++) seriesPaths[j] = (paths[i * samples * horizon + j]! * spread + location) * scale;
      const mean = new Float64Array(horizon);
      for (let k = 0; k < samples; k++) for (let h = 0; h < horizon; h++) mean[h] = mean[h]! + seriesPaths[k * horizon + h]! / samples;
      out.push({ mean, quantiles: empiricalQuantiles(seriesPaths, samples, horizon, quantiles) });
    });
  }
  return out;
}
