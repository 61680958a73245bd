// A trained LSTM character model in TensorFlow.js, the comparison's conventional row: one-hot
// characters → one LSTM layer of H units → softmax, every weight trained, with truncated
// backpropagation through time (BPTT) and Adam, for a given wall-clock budget. It runs on
// tfjs-core with its WebAssembly backend (one thread), or on the plain-JavaScript 'cpu'
// backend (@tensorflow/tfjs-backend-cpu) when the WebAssembly one cannot start.
//
// Per character c_t, with e(c) its one-hot vector and one matrix per gate:
//
//   a_t = [e(c_t), h_{t−1}]                                   (1 × (V + H))
//   i, f, o = σ(a_t W_i), σ(a_t W_f), σ(a_t W_o);   g = tanh(a_t W_g)    (W_*: (V + H) × H)
//   c_t = f ⊙ c_{t−1} + i ⊙ g;   h_t = o ⊙ tanh(c_t)
//   p(c_{t+1} | c_≤t) = softmax(h_t W_y + b_y)                (W_y: H × V)
//
// The first V rows of a gate matrix are its input table, one row per character; they also
// serve as the gate's bias, since exactly one of them is added per character (a separate
// bias would be redundant). The forget gate's table starts at +TRAINED_LSTM_FORGET_BIAS.
//
// How it is computed, and why:
// - Gradients are written out below rather than taken with tf.variableGrads: the Node build
//   of tfjs-core 4.22 registers no gradient functions at all (they are in
//   dist/register_all_gradients, ES modules with extension-less imports that Node cannot
//   load), so tf.variableGrads fails on every backend, 'cpu' included. Written out, each
//   weight gradient is also one large matMul per update rather than one per step.
//   tests/compare.test.ts checks them against finite differences. Adam is tfjs-core's.
// - The WebAssembly backend's Slice, Gather and Unpack kernels take time in proportion to
//   the whole source tensor (on this project's machine, 64 rows out of 8,192 × 1,024 take
//   36 ms), and its matMul is 10–40× slower with a transposed operand (32 × 256 by
//   256 × 1,024: 0.6 ms plain, 7.9 ms transposeB, 27 ms transposeA). So nothing here slices
//   a tensor: one-hot inputs and targets are built per step in JavaScript, each gate has its
//   own matrix, the readout runs per step, and transposes are explicit, once per update.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { OpCounts } from './baselines.ts';
import { SnnlmError } from './errors.ts';
import { type Metrics, metricsFromNats } from './metrics.ts';
import type { Progress } from './model.ts';
import { Rng, subSeed } from './rng.ts';

/** Settings of the trained LSTM. */
export interface LstmOptions {
  /** Hidden units H. @default 256 */
  hidden?: number;
  /** Seed of the weight initialisation. @default 1 */
  seed?: number;
  /** Parallel training streams, the minibatch. @default 32 */
  batch?: number;
  /** Characters per truncated-BPTT update, per stream. @default 64 */
  bptt?: number;
  /** Adam's learning rate. @default 0.002 */
  learningRate?: number;
  /** Largest global gradient norm; larger gradients are scaled down to it. @default 1 */
  clipNorm?: number;
  /** Wall-clock training budget in seconds, validation checks included. @default Infinity */
  seconds?: number;
  /** Most updates, for runs that must not depend on the clock. @default Infinity */
  maxUpdates?: number;
  /**
   * Updates after which every stream's state is reset to zero, so that the model learns to
   * start from the zero state it is scored from (see trainLstm). @default 16
   */
  resetEvery?: number;
  /** Updates between validation checks. @default 50 */
  checkEvery?: number;
  /**
   * Validation characters checked, from the split's start. Scoring costs about a third of
   * training per character (20,000 take 1.6 s at H = 256 on this project's machine), so
   * checking the whole split often would eat the budget. @default 20000
   */
  validationChars?: number;
  /**
   * Streams the checked validation characters are scored in, each from a zero state.
   * @default 64
   */
  validationStreams?: number;
  /** Backend to try first; 'wasm' falls back to 'cpu' if it cannot start. @default 'wasm' */
  backend?: 'wasm' | 'cpu';
  onProgress?: (p: Progress) => void;
}

/** One validation check during training. */
export interface LstmCheck {
  updates: number;
  /** Training characters predicted so far. */
  chars: number;
  seconds: number;
  validationBpc: number;
}

/** A trained and tested LSTM. */
export interface LstmResult {
  /** The tfjs backend that ran it. */
  backend: string;
  seed: number;
  hidden: number;
  batch: number;
  bptt: number;
  learningRate: number;
  clipNorm: number;
  /** Validation bpc of the initial weights (the first check). */
  initialValidationBpc: number;
  /** Validation bpc of the check kept, the best. */
  validationBpc: number;
  /** Validation characters each check scores (see LstmOptions.validationChars). */
  validationScored: number;
  best: LstmCheck;
  checks: LstmCheck[];
  updates: number;
  /** Training characters predicted (updates × batch × bptt). */
  trainChars: number;
  /** Passes over the training split, fractional. */
  passes: number;
  /** Wall-clock seconds from weight initialisation to the last validation check. */
  trainSeconds: number;
  /** The kept weights on the test split, one stream from a zero state. */
  test: Metrics;
  /** Weights and biases; all of them are trained. */
  params: number;
  /** Per character; see lstmOps. */
  ops: OpCounts;
}

/** The settings with their defaults filled in. */
type Settings = Required<Omit<LstmOptions, 'onProgress'>>;

/** Every default. */
export const DEFAULT_LSTM: Readonly<Settings> = Object.freeze({
  hidden: 256,
  seed: 1,
  batch: 32,
  bptt: 64,
  learningRate: 0.002,
  clipNorm: 1,
  seconds: Number.POSITIVE_INFINITY,
  maxUpdates: Number.POSITIVE_INFINITY,
  resetEvery: 16,
  checkEvery: 50,
  validationChars: 20_000,
  validationStreams: 64,
  backend: 'wasm',
});

/** Forget-gate bias at initialisation: the cell keeps its state by default. */
export const TRAINED_LSTM_FORGET_BIAS = 1;

/** Time steps scored per download when scoring held-out text. */
const SCORE_WINDOW = 128;

/** Makes `name` the tfjs backend, or 'cpu' if it cannot start; returns the one in use. */
export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  if (tf.getBackend() === name) return name;
  // setBackend resolves false (it does not throw) when the backend fails to initialise,
  // e.g. when the .wasm file cannot be read.
  const ok = await tf.setBackend(name).catch(() => false);
  if (!ok && !(await tf.setBackend('cpu'))) {
    throw new SnnlmError('no TensorFlow.js backend could start', 'reinstall the dependencies');
  }
  await tf.ready();
  return tf.getBackend();
}

/**
 * Parameters: four gate matrices of (V + H) × H (input table and recurrent weights), W_y
 * (H × V) and b_y (V). All are trained.
 */
export function lstmParams(h: number, v: number): number {
  return 4 * (v + h) * h + h * v + v;
}

/**
 * Arithmetic per character, counted as for the random LSTM of the table. Input: the rows
 * W_*[c] are a table look-up that seeds the gate sums, so 0 (TF.js multiplies the one-hot
 * vector, which gives the same numbers; the count is what the model needs). Recurrence:
 * h W_h for four gates, 4H·H multiplies and 4H·H additions (each product added onto the
 * seeded sum), plus the cell, c = f⊙c + i⊙g and h = o⊙tanh(c): 3H multiplies and H
 * additions. Nonlinear: 3H logistic and 2H tanh. Readout: h W_y + b_y, H·V multiplies and
 * H·V additions (H − 1 sums and the bias per output); softmax is left out, as elsewhere.
 */
export function lstmOps(h: number, v: number): OpCounts {
  return {
    inputMul: 0,
    inputAdd: 0,
    recurrentMul: 4 * h * h + 3 * h,
    recurrentAdd: 4 * h * h + h,
    readoutMul: h * v,
    readoutAdd: h * v,
    nonlinear: 5 * h,
  };
}

/** The trainable weights. */
export interface LstmWeights {
  /** W_i, W_f, W_o, W_g, each (V + H) × H: V input rows, then H recurrent rows. */
  gates: tf.Variable[];
  wy: tf.Variable;
  by: tf.Variable;
}

/** Every weight, in the order gradients are returned. */
export function weightList(w: LstmWeights): tf.Variable[] {
  return [...w.gates, w.wy, w.by];
}

/**
 * Initial weights from the project's generator: every matrix uniform in ±1/√H (the usual
 * LSTM default, e.g. PyTorch's), the forget gate's input rows shifted by
 * TRAINED_LSTM_FORGET_BIAS, b_y = 0. Each matrix has its own sub-seed of `seed`.
 */
export function initWeights(h: number, v: number, seed: number): LstmWeights {
  const uniform = (rows: number, cols: number, part: number, shiftRows = 0, shift = 0) => {
    const rng = new Rng(subSeed(seed, part));
    const a = 1 / Math.sqrt(h);
    const w = new Float32Array(rows * cols);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * a;
    for (let i = 0; i < shiftRows * cols; i++) w[i] += shift;
    return tf.variable(tf.tensor2d(w, [rows, cols]));
  };
  // tidy frees the initial values; variables outlive it.
  return tf.tidy(() => ({
    gates: [0, 1, 2, 3].map((k) =>
      uniform(v + h, h, k + 1, k === 1 ? v : 0, TRAINED_LSTM_FORGET_BIAS),
    ),
    wy: uniform(h, v, 5),
    by: tf.variable(tf.zeros([v])),
  }));
}

/** One-hot rows of ids[from .. from + rows) as a float32 [rows, v] tensor. */
function oneHot(ids: ArrayLike<number>, from: number, rows: number, v: number): tf.Tensor {
  const m = new Float32Array(rows * v);
  for (let r = 0; r < rows; r++) m[r * v + ids[from + r]] = 1;
  return tf.tensor2d(m, [rows, v]);
}

/** What one step keeps for the backward pass; [streams, H] except a. */
interface Step {
  /** [e(c_t), h_{t−1}]: [streams, V + H]. */
  a: tf.Tensor;
  i: tf.Tensor;
  f: tf.Tensor;
  o: tf.Tensor;
  g: tf.Tensor;
  c: tf.Tensor;
  tanhC: tf.Tensor;
  h: tf.Tensor;
}

function cell(w: LstmWeights, x: tf.Tensor, h: tf.Tensor, c: tf.Tensor): Step {
  const a = tf.concat([x, h], 1);
  const [i, f, o] = w.gates.slice(0, 3).map((wk) => tf.sigmoid(tf.matMul(a, wk)));
  const g = tf.tanh(tf.matMul(a, w.gates[3]));
  const cNext = tf.add(tf.mul(f, c), tf.mul(i, g));
  const tanhC = tf.tanh(cNext);
  return { a, i, f, o, g, c: cNext, tanhC, h: tf.mul(o, tanhC) };
}

/**
 * Loss and gradients of one truncated-BPTT window. x and y are time-major ([t · streams +
 * k]: input and target of stream k at step t); h0 and c0 the state carried in. The loss is
 * the mean cross-entropy in nats over the window's steps × streams predictions. Returns the
 * gradients in weightList order and the state to carry into the next window.
 */
export function lossAndGradients(
  w: LstmWeights,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  steps: number,
  h0: tf.Tensor,
  c0: tf.Tensor,
) {
  const streams = h0.shape[0] as number;
  const hidden = h0.shape[1] as number;
  const v = w.by.shape[0] as number;
  const n = steps * streams;
  const one = tf.scalar(1);
  const dsigmoid = (s: tf.Tensor) => tf.mul(s, tf.sub(one, s));
  const dtanh = (t: tf.Tensor) => tf.sub(one, tf.square(t));

  // Forward, keeping every step; d loss / d logits = (softmax − one-hot target) / n.
  const fw: Step[] = [];
  const dLogits: tf.Tensor[] = [];
  const logLikelihood: tf.Tensor[] = [];
  let h = h0;
  let c = c0;
  for (let t = 0; t < steps; t++) {
    const s = cell(w, oneHot(x, t * streams, streams, v), h, c);
    const logits = tf.add(tf.matMul(s.h, w.wy), w.by);
    const target = oneHot(y, t * streams, streams, v);
    logLikelihood.push(tf.sum(tf.mul(tf.logSoftmax(logits), target)));
    dLogits.push(tf.div(tf.sub(tf.softmax(logits), target), n));
    fw.push(s);
    h = s.h;
    c = s.c;
  }
  const loss = tf.div(tf.neg(tf.addN(logLikelihood)), n);

  // Back through time. dhNext, dcNext: gradient reaching h_t and c_t from step t + 1.
  const wyT = tf.transpose(w.wy);
  // [W_h,i; W_h,f; W_h,o; W_h,g] transposed, 4H × H: dh_{t−1} = [dz_i, dz_f, dz_o, dz_g] ·.
  const whT = tf.transpose(
    tf.concat(
      w.gates.map((wk) => tf.slice(wk, [v, 0], [hidden, hidden])),
      1,
    ),
  );
  const dz: tf.Tensor[][] = [[], [], [], []];
  let dhNext: tf.Tensor | null = null;
  let dcNext: tf.Tensor | null = null;
  for (let t = steps - 1; t >= 0; t--) {
    const s = fw[t];
    const cPrev = t > 0 ? fw[t - 1].c : c0;
    const dhOut = tf.matMul(dLogits[t], wyT);
    const dh: tf.Tensor = dhNext ? tf.add(dhOut, dhNext) : dhOut;
    const dcFromH = tf.mul(tf.mul(dh, s.o), dtanh(s.tanhC));
    const dc: tf.Tensor = dcNext ? tf.add(dcNext, dcFromH) : dcFromH;
    const dzt: tf.Tensor[] = [
      tf.mul(tf.mul(dc, s.g), dsigmoid(s.i)),
      tf.mul(tf.mul(dc, cPrev), dsigmoid(s.f)),
      tf.mul(tf.mul(dh, s.tanhC), dsigmoid(s.o)),
      tf.mul(tf.mul(dc, s.i), dtanh(s.g)),
    ];
    dzt.forEach((d, k) => {
      dz[k][t] = d;
    });
    dcNext = tf.mul(dc, s.f);
    dhNext = tf.matMul(tf.concat(dzt, 1), whT);
  }

  // Weight gradients: one matMul each over the whole window.
  const aT = tf.transpose(
    tf.concat(
      fw.map((s) => s.a),
      0,
    ),
  );
  const dL = tf.concat(dLogits, 0);
  const hT = tf.transpose(
    tf.concat(
      fw.map((s) => s.h),
      0,
    ),
  );
  const grads = [
    ...dz.map((d) => tf.matMul(aT, tf.concat(d, 0))),
    tf.matMul(hT, dL),
    tf.sum(dL, 0),
  ];
  return { loss, grads, h, c };
}

/** Scales the gradients down so that their global norm is at most `max`. */
function clip(grads: tf.Tensor[], max: number): tf.Tensor[] {
  const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
  const scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(max), tf.add(norm, 1e-12)));
  return grads.map((g) => tf.mul(g, scale));
}

/**
 * Scores `ids` split into `streams` equal consecutive pieces (the last ids.length mod
 * streams characters left out), each run from a zero state: character t + 1 of a piece is
 * predicted after character t, so a piece of L characters scores L − 1. With one stream
 * this is how every model of the comparison is scored.
 */
export function scoreLstm(
  w: LstmWeights,
  ids: Uint16Array,
  streams: number,
  onProgress?: (done: number, total: number) => void,
): Metrics {
  const hidden = w.gates[0].shape[1] as number;
  const v = w.by.shape[0] as number;
  const piece = Math.floor(ids.length / streams);
  const steps = Math.max(0, piece - 1);
  let h = tf.zeros([streams, hidden]);
  let c = tf.zeros([streams, hidden]);
  let nats = 0;
  let correct = 0;
  for (let start = 0; start < steps; start += SCORE_WINDOW) {
    const len = Math.min(SCORE_WINDOW, steps - start);
    // Time-major, as in training: row t · streams + k is stream k at step start + t.
    const x = new Int32Array(len * streams);
    const y = new Int32Array(len * streams);
    for (let t = 0; t < len; t++) {
      for (let k = 0; k < streams; k++) {
        x[t * streams + k] = ids[k * piece + start + t];
        y[t * streams + k] = ids[k * piece + start + t + 1];
      }
    }
    const out = tf.tidy(() => {
      const hs: tf.Tensor[] = [];
      let hh = h;
      let cc = c;
      for (let t = 0; t < len; t++) {
        const s = cell(w, oneHot(x, t * streams, streams, v), hh, cc);
        hh = s.h;
        cc = s.c;
        hs.push(hh);
      }
      const logits = tf.add(tf.matMul(tf.concat(hs, 0), w.wy), w.by);
      const target = oneHot(y, 0, len * streams, v);
      const logp = tf.sum(tf.mul(tf.logSoftmax(logits), target), 1);
      return { logp, best: tf.argMax(logits, 1), h: hh, c: cc };
    });
    const logp = out.logp.dataSync();
    const best = out.best.dataSync();
    for (let j = 0; j < logp.length; j++) {
      nats -= logp[j];
      if (best[j] === y[j]) correct++;
    }
    tf.dispose([h, c, out.logp, out.best]);
    h = out.h;
    c = out.c;
    onProgress?.(start + len, steps);
  }
  tf.dispose([h, c]);
  return metricsFromNats(nats, correct, steps * streams);
}

/**
 * Trains an LSTM on `train` for the budget (options.seconds, or options.maxUpdates
 * updates), checking validation bpc before the first update, every checkEvery updates and
 * after the last, keeps the weights of the best check, and scores them on `test`. All three are id
 * sequences of one vocabulary of `v` symbols (unknown characters already mapped to its
 * unknown symbol).
 *
 * Training: the split is cut into `batch` equal consecutive streams; each update runs
 * `bptt` characters of every stream from the state the previous update left, so gradients
 * are truncated at the window's start. The state is reset to zero at the start of each pass
 * and every `resetEvery` updates: carried over whole streams from only `batch` zero starts,
 * a briefly trained LSTM learned cells that latch, and from a zero state at the start of the
 * test split it fell into a state it never left (on Tiny Shakespeare, H = 256, 158
 * updates: 9.0 bpc on the first 1,000 test characters against 3.9 on validation).
 */
export async function trainLstm(
  train: Uint16Array,
  validation: Uint16Array,
  test: Uint16Array,
  v: number,
  options: LstmOptions = {},
): Promise<LstmResult> {
  const o: Settings = { ...DEFAULT_LSTM };
  for (const [k, x] of Object.entries(options)) if (x !== undefined) Object.assign(o, { [k]: x });
  const { hidden, batch, bptt } = o;
  const streamLength = Math.floor((train.length - 1) / batch);
  const perPass = Math.floor(streamLength / bptt);
  if (perPass < 1) {
    throw new SnnlmError(
      `the training split (${train.length} characters) is too short for ${batch} streams ` +
        `of ${bptt} characters`,
      'use a smaller batch or bptt',
    );
  }
  const backend = await useBackend(o.backend);
  const progress = (phase: Progress['phase'], epoch: number) => (done: number, total: number) =>
    options.onProgress?.({ phase, epoch, epochs: 0, done, total });

  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const w = initWeights(hidden, v, o.seed);
  const vars = weightList(w);
  const optimizer = tf.train.adam(o.learningRate);
  const checks: LstmCheck[] = [];
  // The best check so far and a copy of its weights.
  const best = { check: null as LstmCheck | null, weights: [] as tf.Tensor[] };
  let h = tf.zeros([batch, hidden]);
  let c = tf.zeros([batch, hidden]);
  let updates = 0;
  let validationSeconds = 0;
  let validationScored = 0;
  const check = () => {
    const from = performance.now();
    const pass = Math.floor(updates / perPass) + 1;
    const ids = validation.subarray(0, o.validationChars);
    const m = scoreLstm(w, ids, o.validationStreams, progress('validate', pass));
    validationSeconds = (performance.now() - from) / 1000;
    validationScored = m.chars;
    const at = { updates, chars: updates * batch * bptt, seconds: seconds(), validationBpc: m.bpc };
    checks.push(at);
    if (best.check === null || m.bpc < best.check.validationBpc) {
      tf.dispose(best.weights);
      best.check = at;
      best.weights = vars.map((x) => tf.clone(x));
    }
  };

  try {
    check();
    let updateSeconds = 0;
    const x = new Int32Array(bptt * batch);
    const y = new Int32Array(bptt * batch);
    while (updates < o.maxUpdates) {
      // Stop while the next update and the last check still fit in the budget.
      if (seconds() + updateSeconds + validationSeconds > o.seconds) break;
      const from = performance.now();
      const step = updates % perPass;
      if (step === 0 || updates % o.resetEvery === 0) {
        tf.dispose([h, c]);
        h = tf.zeros([batch, hidden]);
        c = tf.zeros([batch, hidden]);
      }
      for (let t = 0; t < bptt; t++) {
        for (let k = 0; k < batch; k++) {
          const at = k * streamLength + step * bptt + t;
          x[t * batch + k] = train[at];
          y[t * batch + k] = train[at + 1];
        }
      }
      const out = tf.tidy(() => {
        const r = lossAndGradients(w, x, y, bptt, h, c);
        return { grads: clip(r.grads, o.clipNorm), h: r.h, c: r.c };
      });
      optimizer.applyGradients(vars.map((x, j) => ({ name: x.name, tensor: out.grads[j] })));
      tf.dispose([h, c, ...out.grads]);
      h = out.h;
      c = out.c;
      updates++;
      updateSeconds = (performance.now() - from) / 1000;
      progress('train', Math.floor((updates - 1) / perPass) + 1)(step + 1, perPass);
      if (updates % o.checkEvery === 0) check();
    }
    if (checks[checks.length - 1].updates !== updates) check();
    const trainSeconds = seconds();

    const kept = best.check as LstmCheck;
    vars.forEach((x, i) => {
      x.assign(best.weights[i]);
    });
    const testMetrics = scoreLstm(w, test, 1, progress('evaluate', 0));
    return {
      backend,
      seed: o.seed,
      hidden,
      batch,
      bptt,
      learningRate: o.learningRate,
      clipNorm: o.clipNorm,
      initialValidationBpc: checks[0].validationBpc,
      validationBpc: kept.validationBpc,
      validationScored,
      best: kept,
      checks,
      updates,
      trainChars: updates * batch * bptt,
      passes: updates / perPass,
      trainSeconds,
      test: testMetrics,
      params: lstmParams(hidden, v),
      ops: lstmOps(hidden, v),
    };
  } finally {
    tf.dispose([h, c, ...vars, ...best.weights]);
    optimizer.dispose();
  }
}
