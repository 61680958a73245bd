// A control for the comparison table: the same kind of softmax readout as the reservoir
// models', over exact n-gram indicator features instead of reservoir states. For each
// position the features are the hashed identities of the last 1, 2, …, `orders` characters
// (one active bucket per order, 2^bits buckets), so logits = bias + Σ W[bucket], and a
// gradient step touches only the active rows. It shows what a linear softmax readout reaches
// when its features hold the recent history exactly; the reservoirs have to encode it.
//
// Trained with per-coordinate Adagrad (its steps shrink per weight with that weight's own
// gradient history, which suits features that fire rarely), one sample at a time in a
// shuffled order, for a number of epochs; the epoch best on validation is kept.
import { type Metrics, Score } from './metrics.ts';
import { Rng } from './rng.ts';

/** Settings of the hashed n-gram readout. */
export interface HashedOptions {
  /** Context lengths 1..orders each give one active feature. @default 5 */
  orders?: number;
  /** log₂ of the number of buckets. @default 18 */
  bits?: number;
  /** Passes over the training text; the best on validation is kept. @default 4 */
  epochs?: number;
  /** Adagrad learning rate. @default 0.1 */
  learningRate?: number;
  /** Seed of the shuffling. @default 1 */
  seed?: number;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, trainBpc: number, validation: Metrics) => void;
}

/** What training reports. */
export interface HashedReport {
  epochs: { epoch: number; trainBpc: number; validationBpc: number }[];
  bestEpoch: number;
  validation: Metrics;
  seconds: number;
}

const EPS = 1e-8;

/** Softmax regression over hashed n-gram indicators with a sparse gradient. */
export class HashedNgramReadout {
  readonly vocabSize: number;
  readonly orders: number;
  readonly bits: number;
  /** W[bucket][V]. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  private readonly sqW: Float32Array;
  private readonly sqB: Float32Array;
  private readonly active: Int32Array;
  private readonly logit: Float64Array;

  constructor(vocabSize: number, orders = 5, bits = 18) {
    this.vocabSize = vocabSize;
    this.orders = orders;
    this.bits = bits;
    this.weights = new Float32Array((1 << bits) * vocabSize);
    this.sqW = new Float32Array(this.weights.length);
    this.bias = new Float32Array(vocabSize);
    this.sqB = new Float32Array(vocabSize);
    this.active = new Int32Array(orders);
    this.logit = new Float64Array(vocabSize);
  }

  /** Trainable parameters: a row per bucket and the bias. */
  get parameters(): number {
    return this.weights.length + this.bias.length;
  }

  /**
   * Fills this.active with the buckets of the contexts ending at position t (the last 1..k
   * characters, k = min(orders, t + 1)); returns k. The order is hashed in with the
   * characters, so equal strings of different lengths land in different buckets.
   */
  private buckets(ids: Uint16Array, t: number): number {
    const k = Math.min(this.orders, t + 1);
    const mask = (1 << this.bits) - 1;
    let h = 0x811c9dc5;
    for (let o = 1; o <= k; o++) {
      h = Math.imul(h ^ (ids[t - o + 1] + 1), 0x01000193);
      this.active[o - 1] = mix(h ^ Math.imul(o, 0x9e3779b1)) & mask;
    }
    return k;
  }

  /** Softmax probabilities into this.logit after position t; returns the argmax. */
  private predict(ids: Uint16Array, t: number): number {
    const v = this.vocabSize;
    const k = this.buckets(ids, t);
    const z = this.logit;
    for (let j = 0; j < v; j++) z[j] = this.bias[j];
    for (let a = 0; a < k; a++) {
      const row = this.active[a] * v;
      for (let j = 0; j < v; j++) z[j] += this.weights[row + j];
    }
    let max = Number.NEGATIVE_INFINITY;
    let arg = 0;
    for (let j = 0; j < v; j++) {
      if (z[j] > max) {
        max = z[j];
        arg = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < v; j++) {
      z[j] = Math.exp(z[j] - max);
      sum += z[j];
    }
    for (let j = 0; j < v; j++) z[j] /= sum;
    return arg;
  }

  /** One Adagrad step on the sample (history to t, target ids[t + 1]); returns p(target). */
  private step(ids: Uint16Array, t: number, lr: number, score: Score): void {
    const v = this.vocabSize;
    const arg = this.predict(ids, t);
    const target = ids[t + 1];
    const p = this.logit;
    score.add(p[target], arg === target);
    const k = Math.min(this.orders, t + 1);
    for (let j = 0; j < v; j++) {
      const g = p[j] - (j === target ? 1 : 0);
      const gg = g * g;
      this.sqB[j] += gg;
      this.bias[j] -= (lr * g) / (Math.sqrt(this.sqB[j]) + EPS);
      for (let a = 0; a < k; a++) {
        const at = this.active[a] * v + j;
        this.sqW[at] += gg;
        this.weights[at] -= (lr * g) / (Math.sqrt(this.sqW[at]) + EPS);
      }
    }
  }

  /** Scores a held-out sequence from its start: ids[t + 1] predicted from ids[0..t]. */
  score(ids: Uint16Array): Metrics {
    const score = new Score();
    for (let t = 0; t + 1 < ids.length; t++) {
      const arg = this.predict(ids, t);
      score.add(this.logit[ids[t + 1]], arg === ids[t + 1]);
    }
    return score.metrics();
  }

  /** Trains on `train`, keeping the epoch best on `validation`. */
  train(train: Uint16Array, validation: Uint16Array, options: HashedOptions = {}): HashedReport {
    const started = performance.now();
    const epochs = options.epochs ?? 4;
    const lr = options.learningRate ?? 0.1;
    const rng = new Rng(options.seed ?? 1);
    const order = new Int32Array(Math.max(0, train.length - 1));
    for (let i = 0; i < order.length; i++) order[i] = i;
    let best: { w: Float32Array; b: Float32Array } | undefined;
    let bestBpc = Number.POSITIVE_INFINITY;
    let bestEpoch = 0;
    let bestMetrics: Metrics | undefined;
    const reports: HashedReport['epochs'] = [];
    for (let epoch = 1; epoch <= epochs; epoch++) {
      // Fisher–Yates: a fresh order per epoch, so that no stretch of text comes last.
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        const x = order[i];
        order[i] = order[j];
        order[j] = x;
      }
      const score = new Score();
      for (let i = 0; i < order.length; i++) this.step(train, order[i], lr, score);
      const validationMetrics = this.score(validation);
      const trainBpc = score.metrics().bpc;
      reports.push({ epoch, trainBpc, validationBpc: validationMetrics.bpc });
      options.onEpoch?.(epoch, trainBpc, validationMetrics);
      if (validationMetrics.bpc < bestBpc) {
        bestBpc = validationMetrics.bpc;
        bestEpoch = epoch;
        bestMetrics = validationMetrics;
        // The last epoch's weights need no copy unless a later one could replace them.
        if (epoch < epochs) {
          best ??= {
            w: new Float32Array(this.weights.length),
            b: new Float32Array(this.vocabSize),
          };
          best.w.set(this.weights);
          best.b.set(this.bias);
        } else {
          best = undefined;
        }
      }
    }
    if (best && bestEpoch !== epochs) {
      this.weights.set(best.w);
      this.bias.set(best.b);
    }
    return {
      epochs: reports,
      bestEpoch,
      validation: bestMetrics as Metrics,
      seconds: (performance.now() - started) / 1000,
    };
  }
}

// The 32-bit finaliser of MurmurHash3, so that nearby contexts spread over the buckets.
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
