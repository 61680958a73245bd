// Perturbations of a trained model, for the robustness experiments (src/robustness.ts):
// corrupted input characters, noise on the input drive, removed neurons and quantised
// weights. The reservoir copied its weights into kernel memory when it was built, so they
// are changed there, in place, and put back from a snapshot afterwards. The same code
// serves the spiking reservoir and the baselines (echo state network, random LSTM).
import { BaselineSource, createBaselineModel, LSTM_FORGET_BIAS } from './baselines.ts';
import type { ModelConfig } from './config.ts';
import { Reservoir } from './engine.ts';
import { SnnlmError } from './errors.ts';
import { type Metrics, Score, softmaxRow } from './metrics.ts';
import { type Progress, pause, SpikingLM, type TrainReport } from './model.ts';
import type { Rng } from './rng.ts';
import { ThreadPool } from './threads.ts';
import type { Vocabulary } from './vocab.ts';

/** The models every robustness experiment compares. */
export type ModelKind = 'spiking' | 'esn' | 'lstm';
export const MODEL_KINDS: readonly ModelKind[] = ['spiking', 'esn', 'lstm'];

/** A trained model and the thread pool it trains and scores with (spiking only). */
export interface Subject {
  kind: ModelKind;
  model: SpikingLM;
  pool?: ThreadPool;
  report: TrainReport;
  /** Wall-clock seconds to build the reservoir and train the readout. */
  seconds: number;
}

/** How trainSubject trains. */
export interface SubjectOptions {
  /** Threads a spiking model trains and scores on (bit-identical to one). @default 1 */
  threads?: number;
  onProgress?: (p: Progress) => void;
}

/**
 * Builds a model of `kind` for `config` and trains its readout on `train` (targets: the
 * next characters of `targets`, by default of `train` itself), keeping the epoch best on
 * `validation`. Spiking models train on `threads` threads; the baselines' kernels run on
 * one (src/baselines.ts). Close the subject's pool when done with it (closeSubject).
 */
export async function trainSubject(
  kind: ModelKind,
  config: Partial<ModelConfig>,
  vocab: Vocabulary,
  text: { train: string; validation: string; targets?: string },
  options: SubjectOptions = {},
): Promise<Subject> {
  const started = performance.now();
  const threads = options.threads ?? 1;
  let model: SpikingLM;
  let pool: ThreadPool | undefined;
  if (kind === 'spiking') {
    model = await SpikingLM.create(config, vocab, threads > 1 ? 'threads' : 'simd');
    if (model.net.ternary) {
      throw new SnnlmError(
        'the robustness experiments perturb f32 weights; ternary networks are not supported',
        "leave precision at 'float'",
      );
    }
    pool = threads > 1 ? await ThreadPool.start(model.heap.k, threads) : undefined;
  } else {
    model = (await createBaselineModel(kind, config, vocab)).model;
  }
  try {
    const report = await model.train(text.train, text.validation, {
      pool,
      trainTargets: text.targets,
      onProgress: options.onProgress,
    });
    return { kind, model, pool, report, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await pool?.close();
    throw err;
  }
}

/** Stops a subject's worker threads, if it has any. */
export async function closeSubject(s: Subject): Promise<void> {
  await s.pool?.close();
}

/** Scores ids (input) against targets (what is predicted; default the ids) on the pool. */
export async function scoreSubject(
  s: Subject,
  ids: Uint16Array,
  targets?: Uint16Array,
  losses?: Float64Array,
  onProgress?: (p: Progress) => void,
): Promise<Metrics> {
  const options = { pool: s.pool, targets, losses, onProgress };
  const { metrics } = await s.model.score(ids, 'evaluate', options);
  return metrics;
}

/**
 * Where a model's fixed weights sit in kernel memory and how they are laid out.
 * Input: f32[vocab][np][lanes]; recurrent: f32[synapses][lanes] by presynaptic unit
 * (rowStart, target); lanes is 4 for the LSTM's gates (i, f, o, g), else 1.
 */
export interface WeightLayout {
  /** Real units, and units padded to a multiple of 4. */
  n: number;
  np: number;
  lanes: number;
  inputAt: number;
  inputLength: number;
  /** A constant folded into the input of each lane (the LSTM forget-gate bias), else 0. */
  bias: number[];
  recurrentAt: number;
  synapses: number;
  rowStart: Uint32Array;
  target: Uint16Array | Uint32Array;
  /** Per-neuron constants stored besides the weights, in f32s per unit (leak, threshold). */
  constantsPerUnit: number;
}

/** The weight layout of a spiking or baseline model. */
export function layoutOf(model: SpikingLM): WeightLayout {
  const src = model.reservoir;
  if (src instanceof Reservoir) {
    const { net } = src;
    return {
      n: net.n,
      np: net.np,
      lanes: 1,
      inputAt: src.ptr.input,
      inputLength: net.input.length,
      bias: [0],
      recurrentAt: src.ptr.weight,
      synapses: net.weight.length,
      rowStart: net.rowStart,
      target: net.target,
      constantsPerUnit: 2,
    };
  }
  if (src instanceof BaselineSource) {
    const w = src.weights;
    const lstm = w.kind === 'lstm';
    return {
      n: model.net.n,
      np: w.np,
      lanes: lstm ? 4 : 1,
      inputAt: src.ptr.drive,
      inputLength: w.drive.length,
      bias: lstm ? [0, LSTM_FORGET_BIAS, 0, 0] : [0],
      recurrentAt: src.ptr.weight,
      synapses: w.target.length,
      rowStart: w.rowStart,
      target: w.target,
      constantsPerUnit: lstm ? 4 : 0,
    };
  }
  throw new SnnlmError(
    'this model has no weights the experiments know',
    'use a spiking or baseline model',
  );
}

/** Copies of everything the perturbations change. */
export interface Snapshot {
  input: Float32Array;
  recurrent: Float32Array;
  readout: Float32Array;
  mean: Float32Array;
  scale: Float32Array;
  beta: number;
}

/** The three weight matrices (live views into kernel memory). */
export function matrices(model: SpikingLM, layout: WeightLayout) {
  const { heap } = model;
  return {
    input: heap.f32(layout.inputAt, layout.inputLength),
    recurrent: heap.f32(layout.recurrentAt, layout.synapses * layout.lanes),
    readout: model.readoutWeights(),
  };
}

export function snapshot(model: SpikingLM, layout: WeightLayout): Snapshot {
  const m = matrices(model, layout);
  const k = model.reservoir.featureSize;
  return {
    input: m.input.slice(),
    recurrent: m.recurrent.slice(),
    readout: m.readout.slice(),
    mean: model.heap.f32(model.featureMeanAt, k).slice(),
    scale: model.heap.f32(model.featureScaleAt, k).slice(),
    beta: model.beta,
  };
}

export function restore(model: SpikingLM, layout: WeightLayout, s: Snapshot): void {
  const m = matrices(model, layout);
  const k = model.reservoir.featureSize;
  m.input.set(s.input);
  m.recurrent.set(s.recurrent);
  m.readout.set(s.readout);
  model.heap.f32(model.featureMeanAt, k).set(s.mean);
  model.heap.f32(model.featureScaleAt, k).set(s.scale);
  model.beta = s.beta;
}

// ---- Corrupted characters ----

/** A character other than c, uniform over the known ones (never the unknown symbol). */
function replacement(c: number, known: number, rng: Rng): number {
  if (c >= known) return rng.int(0, known - 1);
  const r = rng.int(0, known - 2);
  return r >= c ? r + 1 : r;
}

/**
 * A copy of ids where each position, with probability `rate`, holds a different character
 * drawn uniformly from the vocabulary's known characters (vocabSize − 1 of them).
 */
export function corruptIds(ids: Uint16Array, rate: number, vocabSize: number, rng: Rng) {
  const out = ids.slice();
  if (rate <= 0) return out;
  for (let t = 0; t < out.length; t++) {
    if (rng.uniform() < rate) out[t] = replacement(ids[t], vocabSize - 1, rng);
  }
  return out;
}

/**
 * A copy of ids with one replaced character every `period` positions, from a random offset;
 * returns it and the replaced positions.
 */
export function corruptPeriodic(ids: Uint16Array, period: number, vocabSize: number, rng: Rng) {
  const out = ids.slice();
  const sites: number[] = [];
  for (let t = rng.int(0, period - 1); t < out.length; t += period) {
    out[t] = replacement(ids[t], vocabSize - 1, rng);
    sites.push(t);
  }
  return { ids: out, sites };
}

// ---- Noise on the input drive ----

const CHUNK = 256;

/**
 * Scores ids with Gaussian noise added to the input drive: for every character, each real
 * unit's input current (each LSTM gate's input) gets fresh N(0, σ²) added, held for that
 * character's substeps. One stream from rest over the whole text, one character per kernel
 * call (the noisy row is written before and cleaned after it); σ = 0 is the clean score
 * of the same scheme. Single-threaded.
 */
export async function scoreNoisyDrive(
  model: SpikingLM,
  ids: Uint16Array,
  sigma: number,
  rng: Rng,
): Promise<Metrics> {
  const layout = layoutOf(model);
  const { heap, reservoir, width } = model;
  const v = model.vocab.size;
  const row = layout.np * layout.lanes;
  const realLength = layout.n * layout.lanes;
  const clean = heap.f32(layout.inputAt, layout.inputLength).slice();
  const idAt = model.buffer('noise-id', 4);
  const featAt = model.featureBuffer('noise', CHUNK);
  const logitsAt = model.buffer('noise-logits', CHUNK * v * 4);
  const state = model.stateFor('noise');
  reservoir.reset(state);
  const score = new Score();
  const p = new Float64Array(v);
  const total = ids.length - 1;
  for (let start = 0; start < total; start += CHUNK) {
    const rows = Math.min(CHUNK, total - start);
    for (let r = 0; r < rows; r++) {
      const c = ids[start + r];
      const drive = heap.f32(layout.inputAt + c * row * 4, row);
      if (sigma > 0) for (let i = 0; i < realLength; i++) drive[i] += sigma * rng.gaussian();
      heap.u16(idAt, 1)[0] = c;
      reservoir.run(state, idAt, 1, featAt + r * width * 4, width);
      drive.set(clean.subarray(c * row, (c + 1) * row));
    }
    model.standardize(featAt, rows, width);
    model.logits(featAt, logitsAt, rows);
    const logits = heap.f32(logitsAt, rows * v);
    for (let r = 0; r < rows; r++) {
      const next = ids[start + r + 1];
      const arg = softmaxRow(logits, r, v, model.beta, p);
      score.add(p[next], arg === next);
    }
    if ((start / CHUNK) % 16 === 15) await pause();
  }
  return score.metrics();
}

// ---- Removing neurons ----

/**
 * Removes units in place: their input weights, every synapse to or from them and their
 * readout columns become 0. A removed unit then stays at rest and acts on nothing; its
 * features are constant, so the zeroed readout columns are all that keeps them out (a
 * refitted readout re-estimates the standardisation, which maps a constant feature to 0).
 */
export function removeUnits(model: SpikingLM, layout: WeightLayout, removed: Uint8Array): void {
  const { np, lanes, rowStart, target } = layout;
  const m = matrices(model, layout);
  const vocab = layout.inputLength / (np * lanes);
  for (let c = 0; c < vocab; c++) {
    for (let i = 0; i < np; i++) {
      if (removed[i]) m.input.fill(0, (c * np + i) * lanes, (c * np + i + 1) * lanes);
    }
  }
  for (let j = 0; j < np; j++) {
    for (let e = rowStart[j]; e < rowStart[j + 1]; e++) {
      if (removed[j] || removed[target[e]]) m.recurrent.fill(0, e * lanes, (e + 1) * lanes);
    }
  }
  const k = model.reservoir.featureSize;
  for (let o = 0; o < model.vocab.size; o++) {
    for (let col = 0; col < k; col++) if (removed[col % np]) m.readout[o * model.width + col] = 0;
  }
}

/** Each real unit's importance: the L2 norm of its readout weights (all its features). */
export function readoutImportance(model: SpikingLM, layout: WeightLayout): Float64Array {
  const w = model.readoutWeights();
  const k = model.reservoir.featureSize;
  const sq = new Float64Array(layout.n);
  for (let o = 0; o < model.vocab.size; o++) {
    for (let col = 0; col < k; col++) {
      const i = col % layout.np;
      if (i < layout.n) sq[i] += w[o * model.width + col] ** 2;
    }
  }
  return sq.map(Math.sqrt);
}

/**
 * Which units to remove to keep `keep` of the n real ones: the least important (ties by
 * index), or a seeded random choice. Padding units are never marked (they never act).
 */
export function unitsToRemove(
  layout: WeightLayout,
  keep: number,
  by: { importance: Float64Array } | { rng: Rng },
): Uint8Array {
  const order = Array.from({ length: layout.n }, (_, i) => i);
  if ('importance' in by) {
    const imp = by.importance;
    order.sort((a, b) => imp[b] - imp[a] || a - b);
  } else {
    for (let i = order.length - 1; i > 0; i--) {
      const j = by.rng.int(0, i);
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  const removed = new Uint8Array(layout.np);
  for (const i of order.slice(keep)) removed[i] = 1;
  return removed;
}

// ---- Quantisation ----

/**
 * Symmetric uniform quantisation in place: w ← s·clamp(round(w/s), −q, q) with
 * q = 2^(bits−1) − 1 and s = max |w| / q over the included entries (one scale per matrix);
 * `offset(i)` is subtracted before and added after (the LSTM's folded forget bias).
 */
export function quantizeSymmetric(
  x: Float32Array,
  bits: number,
  include: (i: number) => boolean = () => true,
  offset: (i: number) => number = () => 0,
): void {
  const q = 2 ** (bits - 1) - 1;
  let max = 0;
  for (let i = 0; i < x.length; i++)
    if (include(i)) max = Math.max(max, Math.abs(x[i] - offset(i)));
  if (max === 0) return;
  const s = max / q;
  for (let i = 0; i < x.length; i++) {
    if (!include(i)) continue;
    const o = offset(i);
    x[i] = o + Math.max(-q, Math.min(q, Math.round((x[i] - o) / s))) * s;
  }
}

/** Bits per weight of each matrix; 32 is the f32 original. */
export interface Precisions {
  input: number;
  recurrent: number;
  readout: number;
}

/** Quantises the model's matrices in place to the given bits (32 leaves one unchanged). */
export function quantizeModel(model: SpikingLM, layout: WeightLayout, bits: Precisions): void {
  const m = matrices(model, layout);
  const { lanes, bias } = layout;
  if (bits.input < 32) quantizeSymmetric(m.input, bits.input, undefined, (i) => bias[i % lanes]);
  if (bits.recurrent < 32) quantizeSymmetric(m.recurrent, bits.recurrent);
  const k = model.reservoir.featureSize;
  // The readout's bias block (the last 4 columns) stays f32.
  if (bits.readout < 32) quantizeSymmetric(m.readout, bits.readout, (i) => i % model.width < k);
}

/**
 * The model's size in bytes at the given precisions: each matrix's real entries at its
 * bits (plus a 4-byte scale when quantised), the readout bias, synapse indices (u16 or u32
 * targets and u32 row starts), per-unit constants and the standardisation (f32).
 */
export function modelBytes(model: SpikingLM, layout: WeightLayout, bits: Precisions): number {
  const { n, np, lanes, synapses } = layout;
  const v = model.vocab.size;
  const features = (model.reservoir.featureSize / np) * n;
  const matrix = (count: number, b: number) => Math.ceil((count * b) / 8) + (b < 32 ? 4 : 0);
  return (
    matrix(v * n * lanes, bits.input) +
    matrix(synapses * lanes, bits.recurrent) +
    matrix(v * features, bits.readout) +
    v * 4 +
    synapses * (np <= 65536 ? 2 : 4) +
    (n + 1) * 4 +
    layout.constantsPerUnit * n * 4 +
    2 * features * 4
  );
}
