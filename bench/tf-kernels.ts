/**
 * `node bin/run-ts.mjs bench/tf-kernels.ts [wasm|cpu]`: the measurement behind the global models'
 * choice of network and tfjs backend (docs/models.md): one Adam step (forward, backward, update)
 * on a batch of 64 windows × 42 steps × 6 features, for a causal dilated conv net as CNN-QR builds
 * it (shifted matrix products: tfjs has no gradient for dilated conv1d) and for recurrent nets.
 * Run the backends in separate processes (tfjs keeps one backend per process).
 */
import { loadTf, type TfBackend } from '../engine/models/neural/runtime';
import { Weights } from '../engine/models/neural/train';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Tensor2D = import('@tensorflow/tfjs').Tensor2D;

const backend = (process.argv[2] ?? 'wasm') as TfBackend;
const tf = await loadTf(backend);
const B = 64;
const T = 42;
const F = 6;
const x = tf.randomNormal([B, T, F], 0, 1, 'float32', 1);
const y = tf.randomNormal([B, 1], 0, 1, 'float32', 2);

function convNet(weights: Weights, channels: number, layers: number) {
  const kernels = Array.from({ length: layers }, (_, l) => weights.matrix(2 * (l === 0 ? F : channels), channels));
  const head = weights.matrix(channels, 1);
  return () => {
    let h: Tensor = x;
    kernels.forEach((kernel, l) => {
      const d = 2 ** l;
      const width = h.shape[2]!;
      const shifted = tf.slice(tf.pad(h, [[0, 0], [d, 0], [0, 0]]), [0, 0, 0], [B, T, width]);
      h = tf.reshape(tf.relu(tf.matMul(tf.reshape(tf.concat([shifted, h], 2), [B * T, 2 * width]), kernel)), [B, T, channels]);
    });
    const last = tf.reshape(tf.slice(h, [0, T - 1, 0], [B, 1, channels]), [B, channels]);
    return tf.losses.meanSquaredError(y, tf.matMul(last, head));
  };
}

function lstmNet(weights: Weights, cells: number, layers: number) {
  const kernels = Array.from({ length: layers }, (_, l) => weights.matrix((l === 0 ? F : cells) + cells, 4 * cells));
  const head = weights.matrix(cells, 1);
  return () => {
    const h: Tensor2D[] = kernels.map(() => tf.zeros([B, cells]));
    const c: Tensor2D[] = kernels.map(() => tf.zeros([B, cells]));
    for (const step of tf.unstack(x, 1) as Tensor2D[]) {
      let input = step;
      kernels.forEach((kernel, l) => {
        const [i, j, f, o] = tf.split(tf.matMul(tf.concat([input, h[l]!], 1), kernel), 4, 1) as Tensor2D[];
        c[l] = tf.add(tf.mul(tf.sigmoid(tf.add(f!, 1)), c[l]!), tf.mul(tf.sigmoid(i!), tf.tanh(j!)));
        h[l] = tf.mul(tf.tanh(c[l]!), tf.sigmoid(o!));
        input = h[l]!;
      });
    }
    return tf.losses.meanSquaredError(y, tf.matMul(h[layers - 1]!, head));
  };
}

function gruNet(weights: Weights, cells: number) {
  const gates = weights.matrix(F + cells, 2 * cells);
  const candidate = weights.matrix(F + cells, cells);
  const head = weights.matrix(cells, 1);
  return () => {
    let h: Tensor2D = tf.zeros([B, cells]);
    for (const step of tf.unstack(x, 1) as Tensor2D[]) {
      const [z, r] = tf.split(tf.sigmoid(tf.matMul(tf.concat([step, h], 1), gates)), 2, 1) as Tensor2D[];
      const n = tf.tanh(tf.matMul(tf.concat([step, tf.mul(r!, h)], 1), candidate));
      h = tf.add(tf.mul(z!, h), tf.mul(tf.sub(1, z!), n));
    }
    return tf.losses.meanSquaredError(y, tf.matMul(h, head));
  };
}

const nets: [string, (w: Weights) => () => Tensor, number][] = [
  ['causal dilated conv, 5 layers × 32 channels', (w) => convNet(w, 32, 5), 10],
  ['causal dilated conv, 5 layers × 16 channels', (w) => convNet(w, 16, 5), 10],
  ['LSTM 1 × 40', (w) => lstmNet(w, 40, 1), 3],
  ['LSTM 2 × 40', (w) => lstmNet(w, 40, 2), 3],
  ['GRU 1 × 40', (w) => gruNet(w, 40), 3],
];
console.log(`tfjs backend ${tf.getBackend()}; ms per Adam step, batch ${B} × ${T} steps × ${F} features (CPU ms of this process in brackets)`);
for (const [name, build, steps] of nets) {
  const weights = new Weights(tf, 1);
  const loss = build(weights);
  const optimizer = tf.train.adam(1e-3);
  const step = () => tf.tidy(() => void optimizer.minimize(() => loss() as import('@tensorflow/tfjs').Scalar, false, weights.all));
  step(); // warm-up: kernels, WASM memory
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < steps; i++) step();
  const used = process.cpuUsage(cpu);
  console.log(`${name}: ${((performance.now() - started) / steps).toFixed(0)} ms (${((used.user + used.system) / 1000 / steps).toFixed(0)})`);
  optimizer.dispose();
  weights.dispose();
}
