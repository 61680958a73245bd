// BitNet b1.58 ternary weights (Ma et al. 2024, "The Era of 1-bit LLMs"): a layer's weights w
// become γ·w̃ with
//
//   γ = mean |w| over the weights that exist (absent synapses and padding neurons never count),
//   w̃ = clip(round(w / γ), −1, +1),   round = half to even, so |w| = γ/2 exactly gives 0.
//
// Round-half-to-even is what the reference implementation's tensor round does; it is also
// symmetric, so w and −w always quantise to opposite values. γ is rounded to f32 first and
// w̃ is computed against that f32 γ, because the kernels multiply by the f32 value.
//
// What is quantised when (config.precision):
//   'mixed'    recurrent synapses, when the network is built (src/network.ts).
//   'ternary'  recurrent and input weights when the network is built; the readout once, after
//              training in f32 (quantizeReadout), with one γ per output character; feature
//              vectors at inference, per character, to int8 with an absmax scale (kernel
//              quantizeFeaturesInt8 in assembly/ternary.ts).
//
// The packed ternary recurrent layout stores no weights, only who receives +1 and who −1:
//
//   bounds: u32[2·np + 1]   presynaptic neuron j sends +1 to target[bounds[2j] .. bounds[2j+1])
//                           and −1 to target[bounds[2j+1] .. bounds[2j+2])
//   target: u16[synapses]   postsynaptic neurons (u32 when np > 65,536), ascending per list
//   gamma:  f32             the scale, applied once per neuron per substep by the LIF step
//
// Synapses whose w̃ is 0 are dropped: they carry nothing. Per synapse that is 2 bytes
// (u16) against 8 (u32 target + f32 weight) in the float layout, plus the per-neuron bounds.

/** Ternary recurrent synapses as the kernel reads them (see the table above). */
export interface TernaryLayout {
  /** Scale of every synapse, f32. */
  gamma: number;
  /** +1 / −1 list boundaries per presynaptic neuron, u32[2·np + 1]. */
  bounds: Uint32Array;
  /** Postsynaptic neurons; u16 when np ≤ 65,536. */
  target: Uint16Array | Uint32Array;
}

/** Largest padded neuron count whose indices fit in u16. */
export const U16_NEURONS = 65_536;

/** Rounds to the nearest integer, ties to the even one (0.5 → 0, 1.5 → 2, −0.5 → −0). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round sends ties up; step back when that landed on an odd number.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** γ = mean |w| over the entries where `exists(i)` holds (default: all), as f32; 0 if none. */
export function ternaryScale(
  w: ArrayLike<number>,
  exists: (i: number) => boolean = () => true,
): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < w.length; i++) {
    if (!exists(i)) continue;
    sum += Math.abs(w[i]);
    count++;
  }
  return count === 0 ? 0 : Math.fround(sum / count);
}

/** w̃ = clip(round(w / γ), −1, 1); absent entries and γ = 0 give 0. */
export function ternarize(
  w: ArrayLike<number>,
  gamma: number,
  exists: (i: number) => boolean = () => true,
): Int8Array {
  const q = new Int8Array(w.length);
  if (gamma === 0) return q;
  for (let i = 0; i < w.length; i++) {
    if (!exists(i)) continue;
    q[i] = Math.max(-1, Math.min(1, roundHalfEven(w[i] / gamma))) | 0;
  }
  return q;
}

/** Quantises recurrent synapses in compressed sparse rows into the packed ternary layout. */
export function packTernary(
  np: number,
  rowStart: Uint32Array,
  target: Uint32Array,
  weight: Float32Array,
): TernaryLayout {
  const gamma = ternaryScale(weight);
  const q = ternarize(weight, gamma);
  let kept = 0;
  for (let e = 0; e < q.length; e++) if (q[e] !== 0) kept++;
  const out = np <= U16_NEURONS ? new Uint16Array(kept) : new Uint32Array(kept);
  const bounds = new Uint32Array(2 * np + 1);
  let at = 0;
  for (let j = 0; j < np; j++) {
    bounds[2 * j] = at;
    for (let e = rowStart[j]; e < rowStart[j + 1]; e++) if (q[e] > 0) out[at++] = target[e];
    bounds[2 * j + 1] = at;
    for (let e = rowStart[j]; e < rowStart[j + 1]; e++) if (q[e] < 0) out[at++] = target[e];
  }
  bounds[2 * np] = at;
  return { gamma, bounds, target: out };
}

/**
 * The same synapses as f32 compressed sparse rows with weights ±γ, in the ternary list order
 * (each neuron's +1 targets, then its −1 targets): what the float kernel and the TypeScript
 * reference run to check the ternary kernel, and what a loaded model rebuilds.
 */
export function ternaryToCsr(layout: TernaryLayout, np: number) {
  const { bounds, gamma } = layout;
  const rowStart = new Uint32Array(np + 1);
  for (let j = 0; j <= np; j++) rowStart[j] = bounds[2 * j];
  const target = Uint32Array.from(layout.target);
  const weight = new Float32Array(target.length);
  for (let j = 0; j < np; j++) {
    weight.fill(gamma, bounds[2 * j], bounds[2 * j + 1]);
    weight.fill(-gamma, bounds[2 * j + 1], bounds[2 * j + 2]);
  }
  return { rowStart, target, weight };
}

/**
 * The targets as the ternary kernels read them (assembly/ternary.ts): a +1 synapse onto
 * neuron i counts into accumulator slot i, a −1 synapse into slot np + i. u16 while the 2·np
 * slots fit, else u32.
 */
export function ternaryKernelTargets(layout: TernaryLayout, np: number): Uint16Array | Uint32Array {
  const { bounds, target } = layout;
  const out =
    2 * np <= U16_NEURONS ? new Uint16Array(target.length) : new Uint32Array(target.length);
  for (let j = 0; j < np; j++) {
    for (let e = bounds[2 * j]; e < bounds[2 * j + 1]; e++) out[e] = target[e];
    for (let e = bounds[2 * j + 1]; e < bounds[2 * j + 2]; e++) out[e] = np + target[e];
  }
  return out;
}

/** Checks that a packed layout is well-formed for np neurons; returns a reason or ''. */
export function ternaryLayoutProblem(layout: TernaryLayout, np: number): string {
  const { bounds, target } = layout;
  if (bounds.length !== 2 * np + 1 || bounds[0] !== 0) return 'bounds has the wrong length';
  for (let i = 0; i < 2 * np; i++) if (bounds[i] > bounds[i + 1]) return 'bounds decrease';
  if (bounds[2 * np] !== target.length) return 'bounds do not cover the targets';
  for (let e = 0; e < target.length; e++) if (target[e] >= np) return 'a target is out of range';
  if (!(layout.gamma >= 0) || !Number.isFinite(layout.gamma)) return 'gamma is not finite';
  return '';
}

/** A readout quantised after training: per output row γ, ternary weights, f32 bias. */
export interface TernaryReadout {
  /** Feature columns per row (the bias block excluded). */
  k: number;
  /** w̃, i8[vocab][k]. */
  weights: Int8Array;
  /** γ per output character, f32[vocab]. */
  gamma: Float32Array;
  /** Bias per output character (the weight of the constant-1 feature), f32[vocab]. */
  bias: Float32Array;
}

/**
 * Quantises a trained readout f32[vocab][width] whose first k columns are features and whose
 * column k meets the constant 1. One γ per output row, over the columns of real neurons
 * (`exists`; padding neurons have no features, so their weights do not exist). The bias
 * stays f32: it is one addition per character and output, not a synapse.
 */
export function quantizeReadout(
  w: Float32Array,
  vocab: number,
  width: number,
  k: number,
  exists: (column: number) => boolean,
): TernaryReadout {
  const weights = new Int8Array(vocab * k);
  const gamma = new Float32Array(vocab);
  const bias = new Float32Array(vocab);
  for (let j = 0; j < vocab; j++) {
    const row = w.subarray(j * width, j * width + k);
    gamma[j] = ternaryScale(row, exists);
    weights.set(ternarize(row, gamma[j], exists), j * k);
    bias[j] = w[j * width + k];
  }
  return { k, weights, gamma, bias };
}

/** The f32 readout γ·w̃ (bias in column k, zeros in the rest of the bias block). */
export function dequantizeReadout(r: TernaryReadout, vocab: number, width: number): Float32Array {
  const w = new Float32Array(vocab * width);
  for (let j = 0; j < vocab; j++) {
    for (let i = 0; i < r.k; i++) w[j * width + i] = r.weights[j * r.k + i] * r.gamma[j];
    w[j * width + r.k] = r.bias[j];
  }
  return w;
}

/** Reference int8 absmax quantisation of one feature vector: q = round(f / s), s = max|f| / 127. */
export function quantizeFeatures(f: ArrayLike<number>): { q: Int8Array; scale: number } {
  let max = 0;
  for (let i = 0; i < f.length; i++) max = Math.max(max, Math.abs(f[i]));
  const scale = Math.fround(max / 127);
  const q = new Int8Array(f.length);
  if (scale === 0) return { q, scale };
  const inv = Math.fround(1 / scale);
  for (let i = 0; i < f.length; i++) {
    q[i] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(f[i] * inv))));
  }
  return { q, scale };
}

/**
 * Ternarises the detector readout f32[n][vocab] in place, with one γ per output character
 * (mean |w| of its column): each weight becomes γ_j · w̃. Detector spikes are binary, so the
 * logits stay sums of ±γ_j: additions only.
 */
export function ternarizeDetectorReadout(w: Float32Array, n: number, vocab: number): void {
  for (let j = 0; j < vocab; j++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.abs(w[i * vocab + j]);
    const gamma = Math.fround(n > 0 ? sum / n : 0);
    for (let i = 0; i < n; i++) {
      const q =
        gamma === 0 ? 0 : Math.max(-1, Math.min(1, roundHalfEven(w[i * vocab + j] / gamma)));
      w[i * vocab + j] = q * gamma;
    }
  }
}
