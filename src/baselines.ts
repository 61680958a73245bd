// Non-spiking feature sources for the comparison table (issue #4): an echo state network
// and a random, untrained LSTM cell, each of the spiking model's size and sparsity, run by
// the kernels in assembly/baselines.ts. They implement FeatureSource, so SpikingLM trains and
// scores their readout exactly as it does the spiking reservoir's: the same standardisation,
// softmax, Adam, epochs, learning rate and validation-selected epoch.
//
// Weight scales (documented in the comparison report):
// - input: the spiking model's input table, N(0, inputScale²) per (character, unit), for the
//   ESN; fresh draws of the same distribution for each of the LSTM's four gates.
// - recurrence: the spiking model's synapses (same pattern; for the ESN the same draws),
//   rescaled so that the spectral radius, estimated by power iteration, is
//   BASELINE_SPECTRAL_RADIUS (0.9): below 1 the echo state property (fading memory) holds
//   for tanh units in practice, and 0.9 keeps memory long. Each LSTM gate's matrix is
//   rescaled the same way.
// - LSTM biases: forget gate +1 (so that the cell keeps its state by default), others 0.
import { type ModelConfig, resolveConfig } from './config.ts';
import {
  type Build,
  type FeatureSource,
  Heap,
  type Kernels,
  loadKernels,
  type ReservoirCounts,
} from './engine.ts';
import { SpikingLM } from './model.ts';
import { buildNetwork, type Network } from './network.ts';
import { Rng, subSeed } from './rng.ts';
import type { Vocabulary } from './vocab.ts';

/** The baselines' kernels on top of the engine's (assembly/baselines.ts). */
export interface BaselineKernels extends Kernels {
  runBaseline(desc: number, ids: number, nChars: number, featOut: number, stride: number): void;
  tanhInto(out: number, x: number, n: number): void;
}

/** Which baseline. */
export type BaselineKind = 'esn' | 'lstm';

/** Spectral radius the recurrent matrices of the baselines are scaled to. */
export const BASELINE_SPECTRAL_RADIUS = 0.9;

/** Forget-gate bias of the random LSTM. */
export const LSTM_FORGET_BIAS = 1;

// Offsets of the descriptor fields, mirroring assembly/baselines.ts.
const DESC_BYTES = 96;
const COUNTERS_AT = 48;
const KIND: Record<BaselineKind, number> = { esn: 1, lstm: 2 };

/** Arithmetic per character, split by stage; the same for every model in the table. */
export interface OpCounts {
  inputMul: number;
  inputAdd: number;
  recurrentMul: number;
  recurrentAdd: number;
  readoutMul: number;
  readoutAdd: number;
  /** tanh or logistic evaluations (however many instructions each takes). */
  nonlinear: number;
}

/** Running operation counters of a baseline state (totals, not per character). */
export interface BaselineCounts {
  chars: number;
  inputMul: number;
  inputAdd: number;
  recurrentMul: number;
  recurrentAdd: number;
  nonlinear: number;
}

/**
 * Power-iteration estimate of the spectral radius of a sparse matrix stored by presynaptic
 * unit (y[target[e]] += w[e]·x[j]), reading weight[e·stride + lane]. A random non-symmetric
 * matrix usually has a complex leading pair, so the Rayleigh quotient oscillates; the mean
 * log growth of ‖Wᵏx‖ over the second half of the iterations converges to log ρ either way.
 */
export function spectralRadius(
  np: number,
  rowStart: Uint32Array,
  target: Uint32Array | Uint16Array,
  weight: Float32Array,
  stride = 1,
  lane = 0,
  iterations = 200,
  seed = 1,
): number {
  const rng = new Rng(seed);
  let x = new Float64Array(np);
  let y = new Float64Array(np);
  for (let i = 0; i < np; i++) x[i] = rng.gaussian();
  let logSum = 0;
  let counted = 0;
  for (let it = 0; it < iterations; it++) {
    y.fill(0);
    for (let j = 0; j < np; j++) {
      const xj = x[j];
      for (let e = rowStart[j]; e < rowStart[j + 1]; e++)
        y[target[e]] += weight[e * stride + lane] * xj;
    }
    let norm = 0;
    for (let i = 0; i < np; i++) norm += y[i] * y[i];
    norm = Math.sqrt(norm);
    if (norm === 0) return 0;
    for (let i = 0; i < np; i++) y[i] /= norm;
    if (it >= iterations / 2) {
      logSum += Math.log(norm);
      counted++;
    }
    [x, y] = [y, x];
  }
  return Math.exp(logSum / counted);
}

/** The fixed weights of a baseline, laid out as its kernel reads them. */
export interface BaselineWeights {
  kind: BaselineKind;
  /** Units, a multiple of 4 (the spiking network's np). */
  np: number;
  rowStart: Uint32Array;
  target: Uint32Array;
  /** f32[nnz] (ESN) or f32[nnz][4] (LSTM: gates i, f, o, g). */
  weight: Float32Array;
  /** f32[V][np] (ESN) or f32[V][np][4] (LSTM, biases folded in). */
  drive: Float32Array;
  /** Spectral radius before scaling, per matrix (one for the ESN, four for the LSTM). */
  radiusBefore: number[];
  /** Fixed parameters: input weights, synapses and biases of the real units. */
  fixedParams: number;
}

/** Draws a baseline's weights from the spiking network built for the same configuration. */
export function baselineWeights(
  kind: BaselineKind,
  net: Network,
  config: ModelConfig,
): BaselineWeights {
  const { np, n, vocabSize, rowStart } = net;
  // u32 targets whatever the spiking network chose: the baseline kernel reads one layout.
  const target = Uint32Array.from(net.target);
  const nnz = target.length;
  const seed = subSeed(config.seed, 40);
  if (kind === 'esn') {
    const rho = spectralRadius(np, rowStart, target, net.weight, 1, 0, 200, seed);
    const s = rho > 0 ? BASELINE_SPECTRAL_RADIUS / rho : 1;
    const weight = Float32Array.from(net.weight, (w) => w * s);
    return {
      kind,
      np,
      rowStart,
      target,
      weight,
      drive: Float32Array.from(net.input),
      radiusBefore: [rho],
      fixedParams: vocabSize * n + nnz,
    };
  }
  const rng = new Rng(subSeed(config.seed, 41));
  const weight = new Float32Array(nnz * 4);
  for (let i = 0; i < weight.length; i++) weight[i] = rng.gaussian() * config.recurrentScale;
  const radiusBefore: number[] = [];
  for (let g = 0; g < 4; g++) {
    const rho = spectralRadius(np, rowStart, target, weight, 4, g, 200, seed + g);
    radiusBefore.push(rho);
    const s = rho > 0 ? BASELINE_SPECTRAL_RADIUS / rho : 1;
    for (let e = 0; e < nnz; e++) weight[e * 4 + g] *= s;
  }
  const drive = new Float32Array(vocabSize * np * 4);
  for (let c = 0; c < vocabSize; c++) {
    for (let i = 0; i < np; i++) {
      for (let g = 0; g < 4; g++) {
        const w = i < n ? rng.gaussian() * config.inputScale : 0;
        drive[(c * np + i) * 4 + g] = w + (g === 1 ? LSTM_FORGET_BIAS : 0);
      }
    }
  }
  return {
    kind,
    np,
    rowStart,
    target,
    weight,
    drive,
    radiusBefore,
    fixedParams: 4 * vocabSize * n + 4 * nnz + 4 * n,
  };
}

/**
 * A baseline placed in the kernels' memory. Weights are shared; each state has its own
 * x (or h), c, pre-activations and counters.
 */
export class BaselineSource implements FeatureSource {
  readonly heap: Heap;
  readonly weights: BaselineWeights;
  readonly featureSize: number;
  /** Bit 0: x or h; bit 1: the LSTM cell state after it. */
  readonly featureBits: number;
  /** Addresses of the weight arrays in kernel memory (experiments perturb them in place). */
  readonly ptr: { rowStart: number; target: number; weight: number; drive: number };

  constructor(heap: Heap, weights: BaselineWeights, lstmCell = true) {
    this.heap = heap;
    this.weights = weights;
    this.featureBits = weights.kind === 'lstm' && lstmCell ? 3 : 1;
    this.featureSize = (this.featureBits === 3 ? 2 : 1) * weights.np;
    this.ptr = {
      rowStart: heap.put(weights.rowStart),
      target: heap.put(weights.target),
      weight: heap.put(weights.weight),
      drive: heap.put(weights.drive),
    };
  }

  newState(): number {
    const { heap, weights } = this;
    const bytes = weights.np * 4;
    const desc = heap.alloc(DESC_BYTES);
    // Allocated before a view is taken: growing memory detaches existing views.
    const fields = [
      KIND[weights.kind],
      weights.np,
      heap.alloc(bytes),
      heap.alloc(bytes),
      heap.alloc(weights.kind === 'lstm' ? bytes * 4 : bytes),
      this.ptr.rowStart,
      this.ptr.target,
      this.ptr.weight,
      this.ptr.drive,
      this.featureBits,
    ];
    heap.i32(desc, fields.length).set(fields);
    return desc;
  }

  reset(desc: number): void {
    const d = this.heap.u32(desc, 5);
    this.heap.f32(d[2], this.weights.np).fill(0);
    this.heap.f32(d[3], this.weights.np).fill(0);
    this.heap.u32(desc + COUNTERS_AT, (DESC_BYTES - COUNTERS_AT) / 4).fill(0);
  }

  run(desc: number, idsAt: number, nChars: number, featAt = 0, featStride = 0): void {
    (this.heap.k as BaselineKernels).runBaseline(desc, idsAt, nChars, featAt, featStride);
  }

  /** No spikes and no membranes; chars only, so that a firing rate comes out as 0. */
  counts(desc: number): ReservoirCounts {
    return { spikes: 0, events: 0, updates: 0, chars: this.ops(desc).chars };
  }

  /** The operation counters of a state since it was made or reset. */
  ops(desc: number): BaselineCounts {
    const c = new BigUint64Array(this.heap.k.memory.buffer, desc + COUNTERS_AT, 6);
    return {
      chars: Number(c[0]),
      inputMul: Number(c[1]),
      inputAdd: Number(c[2]),
      recurrentMul: Number(c[3]),
      recurrentAdd: Number(c[4]),
      nonlinear: Number(c[5]),
    };
  }

  /** The state vector x (ESN) or h (LSTM) (a live view). */
  state(desc: number): Float32Array {
    return this.heap.f32(this.heap.u32(desc, 3)[2], this.weights.np);
  }

  /** The LSTM cell state (a live view). */
  cell(desc: number): Float32Array {
    return this.heap.f32(this.heap.u32(desc, 4)[3], this.weights.np);
  }
}

/** A baseline model: a SpikingLM whose features come from a BaselineSource. */
export interface BaselineModel {
  model: SpikingLM;
  source: BaselineSource;
  net: Network;
}

/**
 * A SpikingLM over a baseline of the configuration's size and sparsity (precision is
 * forced to 'float'). The readout trainer advances its parallel streams through the
 * 'runChars' kernel by name, so the model's kernel table answers that name with the
 * baseline kernel; every other kernel is the engine's own. Train it without a thread pool:
 * worker threads would run the engine's runChars on a baseline state.
 */
export async function createBaselineModel(
  kind: BaselineKind,
  config: Partial<ModelConfig>,
  vocab: Vocabulary,
  build: Build = 'simd',
  lstmCell = true,
): Promise<BaselineModel> {
  const resolved = resolveConfig({ ...config, precision: 'float' });
  const net = buildNetwork(resolved, vocab.size);
  const kernels = (await loadKernels(build)) as BaselineKernels;
  const table = Object.create(kernels) as BaselineKernels;
  table.runChars = kernels.runBaseline;
  const heap = new Heap(table);
  const source = new BaselineSource(heap, baselineWeights(kind, net, resolved), lstmCell);
  return { model: new SpikingLM(resolved, vocab, net, heap, source), source, net };
}

/** Readout arithmetic per character over k standardised features and V outputs. */
export function readoutOps(k: number, v: number): { mul: number; add: number } {
  // Standardising: one subtraction and one multiply per feature; logits: k multiplies and
  // k − 1 sums plus the bias per output. Softmax is left out: it is the same for every row.
  return { mul: k + v * k, add: k + v * k };
}
