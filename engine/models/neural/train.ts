/**
 * What the global networks share: seeded weights (so a fixed seed gives the same network on every
 * run), the Adam loop with gradient clipping, and the release of everything tfjs holds afterwards.
 */
import { mulberry32 } from '../random';
import type { Tf } from './runtime';

type Variable = import('@tensorflow/tfjs').Variable;
type Scalar = import('@tensorflow/tfjs').Scalar;
type Tensor1D = import('@tensorflow/tfjs').Tensor1D;
type Tensor2D = import('@tensorflow/tfjs').Tensor2D;

/** The trainable weights of one network, created from one seed. */
export class Weights {
  readonly all: Variable[] = [];
  private readonly random: () => number;

  constructor(
    private readonly tf: Tf,
    seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  /** Glorot-uniform matrix [fanIn, fanOut]. */
  matrix(fanIn: number, fanOut: number): Variable {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const values = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < values.length; i++) values[i] = (this.random() * 2 - 1) * limit;
    return this.keep(this.tf.variable(this.tf.tensor2d(values, [fanIn, fanOut])));
  }

  /** A bias vector filled with `value`. */
  vector(size: number, value = 0): Variable {
    return this.keep(this.tf.variable(this.tf.fill([size], value)));
  }

  private keep(v: Variable): Variable {
    this.all.push(v);
    return v;
  }

  dispose(): void {
    for (const v of this.all.splice(0)) v.dispose();
  }
}

export interface TrainOptions {
  readonly steps: number;
  readonly learningRate: number;
  /** With it, the rate decays from `learningRate` to this along a half cosine over the steps. */
  readonly finalLearningRate?: number;
  /** Gradients are rescaled to this global norm at most (recurrent nets explode otherwise). */
  readonly clipNorm?: number;
}

/** Runs `steps` Adam steps on `loss(step)` over `weights`; returns the mean loss of the last tenth. */
export function trainSteps(tf: Tf, weights: Weights, loss: (step: number) => Scalar, options: TrainOptions): number {
  const optimizer = tf.train.adam(options.learningRate);
  const clip = options.clipNorm ?? 10;
  const tail: number[] = [];
  try {
    const floor = options.finalLearningRate;
    for (let step = 0; step < options.steps; step++) {
      if (floor !== undefined) {
        // Cosine decay: large steps early, small ones at the end so the last weights are not the noise of one batch.
        const rate = floor + (options.learningRate - floor) * 0.5 * (1 + Math.cos((Math.PI * step) / options.steps));
        (optimizer as unknown as { learningRate: number }).learningRate = rate; // Adam reads it at every step
      }
      const recordLoss = step >= options.steps - Math.max(1, Math.ceil(options.steps / 10));
      const value = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => loss(step), weights.all);
        const names = Object.keys(grads);
        // Global-norm clipping without reading the norm back (a GPU-style sync per step costs time).
        const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k]!)))));
        const factor = tf.minimum(1, tf.div(clip, tf.maximum(norm, 1e-12)));
        optimizer.applyGradients(Object.fromEntries(names.map((k) => [k, tf.mul(grads[k]!, factor)])));
        return recordLoss ? value.dataSync()[0]! : NaN;
      });
      if (recordLoss) tail.push(value);
    }
  } finally {
    optimizer.dispose();
  }
  return tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
}

/**
 * Rows of an item-embedding table [items, width] for item indices [B]. Training multiplies a
 * one-hot matrix by the table: tfjs' WASM backend has no kernel for the gradient of a gather
 * (UnsortedSegmentSum). Forecasting needs no gradient and gathers, so its memory does not grow
 * with batch × items.
 */
export function embedItems(tf: Tf, table: Tensor2D, items: Tensor1D, differentiable: boolean): Tensor2D {
  const count = table.shape[0];
  return differentiable ? tf.matMul(tf.cast(tf.oneHot(items, count), 'float32'), table) : tf.gather(table, items);
}

/** One-hot rows of `size` for positions 0 … count − 1, as a flat [count, size] array. */
export function oneHot(count: number, size: number): Float32Array {
  const out = new Float32Array(count * size);
  for (let i = 0; i < count; i++) out[i * size + (i % size)] = 1;
  return out;
}
