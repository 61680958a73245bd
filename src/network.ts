// Seeded construction of the reservoir: time constants, thresholds, input
// weights and the sparse recurrent synapses. Nothing here is trained.
import type { Dynamics, ModelConfig } from './config.ts';
import { Rng, subSeed } from './rng.ts';
import {
  packTernary,
  type TernaryLayout,
  ternarize,
  ternaryScale,
  ternaryToCsr,
  U16_NEURONS,
} from './ternary.ts';

/** The fixed, random part of a model, laid out as the kernels read it. */
export interface Network {
  /** Real neurons. */
  n: number;
  /** Neurons rounded up to a multiple of 4; the padding never fires. */
  np: number;
  /** Symbols the input layer knows (vocabulary size). */
  vocabSize: number;
  /** Decay of the membrane potential per substep, exp(−1/τ), f32[np]. */
  leak: Float32Array;
  /** Firing threshold per neuron, f32[np] (+∞ for padding). */
  threshold: Float32Array;
  /** Input current per symbol, f32[vocabSize][np]. */
  input: Float32Array;
  /** Synapses of presynaptic neuron j: rowStart[j] .. rowStart[j+1), u32[np + 1]. */
  rowStart: Uint32Array;
  /**
   * Postsynaptic neuron of each synapse: u16[synapses] when np ≤ 65,536 (the kernels then
   * read 6 bytes per synapse instead of 8), else u32. Ternary networks' f32 view is u32.
   */
  target: Uint16Array | Uint32Array;
  /** Weight of each synapse, f32[synapses]. */
  weight: Float32Array;
  /**
   * Ternary recurrent synapses (precision 'mixed' or 'ternary'); the kernels then run these,
   * and rowStart/target/weight hold the same synapses as f32 ±γ for the reference.
   */
  ternary?: TernaryLayout;
  /** γ of the input weights when they are ternary (precision 'ternary'); input holds ±γ or 0. */
  inputGamma?: number;
  /** The order of a substep the engine runs it with (config.dynamics); absent: 'standard'. */
  dynamics?: Dynamics;
}

/** Builds the reservoir for a configuration; the same seed gives the same network. */
export function buildNetwork(config: ModelConfig, vocabSize: number): Network {
  const n = config.neurons;
  const np = Math.ceil(n / 4) * 4;

  const leak = new Float32Array(np);
  const threshold = new Float32Array(np).fill(Number.POSITIVE_INFINITY);
  const tauRng = new Rng(subSeed(config.seed, 1));
  const logMin = Math.log(config.tauMin);
  const logMax = Math.log(config.tauMax);
  for (let i = 0; i < n; i++) {
    const tau = Math.exp(logMin + (logMax - logMin) * tauRng.uniform());
    leak[i] = Math.exp(-1 / tau);
    threshold[i] = config.threshold;
  }

  const input = new Float32Array(vocabSize * np);
  // Which input weights were drawn: a ternary γ averages over these only.
  const drawn = new Uint8Array(vocabSize * np);
  const inRng = new Rng(subSeed(config.seed, 2));
  for (let c = 0; c < vocabSize; c++) {
    for (let i = 0; i < n; i++) {
      if (config.inputConnectivity >= 1 || inRng.uniform() < config.inputConnectivity) {
        input[c * np + i] = inRng.gaussian() * config.inputScale;
        drawn[c * np + i] = 1;
      }
    }
  }

  const csr = sparseRecurrent(n, np, config);
  const { dynamics } = config;
  if (config.precision === 'float') {
    const target = np <= U16_NEURONS ? Uint16Array.from(csr.target) : csr.target;
    return { n, np, vocabSize, leak, threshold, input, ...csr, target, dynamics };
  }
  const ternary = packTernary(np, csr.rowStart, csr.target, csr.weight);
  const net: Network = {
    n,
    np,
    vocabSize,
    leak,
    threshold,
    input,
    ...ternaryToCsr(ternary, np),
    ternary,
    dynamics,
  };
  if (config.precision === 'ternary') {
    const inputGamma = ternaryScale(input, (i) => drawn[i] === 1);
    const q = ternarize(input, inputGamma, (i) => drawn[i] === 1);
    for (let i = 0; i < q.length; i++) input[i] = q[i] * inputGamma;
    net.inputGamma = inputGamma;
  }
  return net;
}

// Each ordered pair (j → i), i ≠ j, exists with probability p. Gaps between
// successive existing synapses are geometric, so drawing them costs O(synapses)
// rather than O(n²).
function sparseRecurrent(n: number, np: number, config: ModelConfig) {
  const rng = new Rng(subSeed(config.seed, 3));
  const p = config.connectivity;
  const rowStart = new Uint32Array(np + 1);
  const targets: number[] = [];
  const weights: number[] = [];
  const logq = Math.log1p(-Math.min(p, 1 - 1e-12));
  for (let j = 0; j < n; j++) {
    rowStart[j] = targets.length;
    if (p <= 0) continue;
    let i = -1;
    for (;;) {
      i += p >= 1 ? 1 : 1 + Math.floor(Math.log(1 - rng.uniform()) / logq);
      if (i >= n) break;
      if (i === j) continue;
      targets.push(i);
      weights.push(rng.gaussian() * config.recurrentScale);
    }
  }
  for (let j = n; j <= np; j++) rowStart[j] = targets.length;
  return {
    rowStart,
    target: Uint32Array.from(targets),
    weight: Float32Array.from(weights),
  };
}
