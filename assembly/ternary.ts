// Ternary (BitNet b1.58) kernels: recurrence by additions and subtractions only, and the
// int8 × ternary readout. Weights are γ·w̃ with w̃ ∈ {−1, 0, +1}; src/ternary.ts quantises.
//
// Recurrent synapses store no weights, only the targets of +1 and of −1, per presynaptic
// neuron (synapses with w̃ = 0 are not stored):
//
//   bounds: u32[2n + 1]   neuron j: +1 to target[bounds[2j] .. bounds[2j+1]),
//                                   −1 to target[bounds[2j+1] .. bounds[2j+2])
//   target: u16[nnz]      accumulator slot of each synapse: i for a +1 synapse onto neuron
//                         i, n + i for a −1 one (u32[nnz] when 2n > 65,536)
//   rec:    i32[2n]       rec[i]: +1 events onto i since the last LIF step; rec[n + i]: −1
//
// Every synaptic event is the same integer increment, rec[target[e]] += 1, whatever its sign:
// no weight is loaded, no sign is chosen per synapse, and a fired neuron's two lists are one
// loop. The LIF step takes the difference and applies γ once per neuron per substep:
//
//   v_i ← leak_i · v_i + (drive_i + γ · (rec_i − rec_{n+i}))
//
// so the recurrence is additions only: one per event and one subtraction per neuron (the LIF
// step, lifStepTernary in lif.ts).

/**
 * Counts each fired neuron's synaptic events into rec (u16 accumulator slots, layout above).
 * Returns the synaptic events; adds the number of +1 events to the u64 at `adds`, so the −1
 * events are the events minus those.
 */
export function propagateTernaryU16(
  nFired: i32,
  fired: usize,
  bounds: usize,
  target: usize,
  rec: usize,
  adds: usize,
): i32 {
  return scatterTernary<u16>(nFired, fired, bounds, target, rec, adds);
}

/** As propagateTernaryU16, with u32 target indices (networks over 65,536 neurons). */
export function propagateTernaryU32(
  nFired: i32,
  fired: usize,
  bounds: usize,
  target: usize,
  rec: usize,
  adds: usize,
): i32 {
  return scatterTernary<u32>(nFired, fired, bounds, target, rec, adds);
}

// Per fired neuron: its +1 list and its −1 list, which are contiguous, as one loop of
// increments (the slots already say which accumulator).
// @ts-ignore: decorator
@inline
function scatterTernary<T>(
  nFired: i32,
  fired: usize,
  bounds: usize,
  target: usize,
  rec: usize,
  adds: usize,
): i32 {
  const size = <usize>sizeof<T>();
  let plusEvents: u32 = 0;
  let events: u32 = 0;
  for (let f = 0; f < nFired; f++) {
    const j = <usize>load<i32>(fired + (<usize>f << 2));
    const b = bounds + (j << 3);
    const start = load<u32>(b);
    const end = load<u32>(b, 8);
    plusEvents += load<u32>(b, 4) - start;
    events += end - start;
    // rec[target[e]] += 1 for e in [start, end), unrolled by four so the index loads overlap.
    let e = start;
    for (; e + 4 <= end; e += 4) {
      const o = <usize>e * size;
      const t0 = rec + (<usize>load<T>(target + o) << 2);
      const t1 = rec + (<usize>load<T>(target + o + size) << 2);
      const t2 = rec + (<usize>load<T>(target + o + 2 * size) << 2);
      const t3 = rec + (<usize>load<T>(target + o + 3 * size) << 2);
      store<i32>(t0, load<i32>(t0) + 1);
      store<i32>(t1, load<i32>(t1) + 1);
      store<i32>(t2, load<i32>(t2) + 1);
      store<i32>(t3, load<i32>(t3) + 1);
    }
    for (; e < end; e++) {
      const t = rec + (<usize>load<T>(target + <usize>e * size) << 2);
      store<i32>(t, load<i32>(t) + 1);
    }
  }
  store<u64>(adds, load<u64>(adds) + <u64>plusEvents);
  return <i32>events;
}

// Readout over int8 features and ternary weights:
//
//   feat:  f32[rows][stride]   features, the first k of each row are quantised
//   q:     i8[rows][k]         round(f / s_r), clipped to ±127
//   scale: f32[rows]           s_r = max_i |f_ri| / 127 (absmax)
//   w:     i8[V][k]            w̃ ∈ {−1, 0, +1}
//   gamma: f32[V], bias: f32[V]
//   out:   f32[rows][V]        γ_j · s_r · Σ_i w̃_ji q_ri + bias_j
//
// k is a multiple of 4. The sum is exact in i32 (|Σ| ≤ 127·k).

/** Quantises the first k features of each row to int8 with a per-row absmax scale. */
export function quantizeFeaturesInt8(
  feat: usize,
  stride: i32,
  q: usize,
  scale: usize,
  rows: i32,
  k: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const f = feat + ((<usize>r * <usize>stride) << 2);
    const qr = q + <usize>r * <usize>k;
    let max: f32 = 0;
    for (let i = 0; i < k; i++) max = Mathf.max(max, Mathf.abs(load<f32>(f + (<usize>i << 2))));
    const s: f32 = max / 127;
    store<f32>(scale + (<usize>r << 2), s);
    const inv: f32 = s > 0 ? 1 / s : 0;
    for (let i = 0; i < k; i++) {
      // nearest: ties to even, as roundHalfEven in src/ternary.ts.
      const x = nearest<f32>(load<f32>(f + (<usize>i << 2)) * inv);
      store<i8>(qr + <usize>i, <i8>(<i32>Mathf.max(-127, Mathf.min(127, x))));
    }
  }
}

/** out[r][j] = γ_j · s_r · Σ_i w̃_ji q_ri + bias_j (layouts above). */
export function ternaryLogits(
  q: usize,
  scale: usize,
  w: usize,
  gamma: usize,
  bias: usize,
  out: usize,
  rows: i32,
  v: i32,
  k: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const qr = q + <usize>r * <usize>k;
    const s = load<f32>(scale + (<usize>r << 2));
    const o = out + ((<usize>r * <usize>v) << 2);
    for (let j = 0; j < v; j++) {
      const sum = dotInt8(qr, w + <usize>j * <usize>k, k);
      const at = <usize>j << 2;
      store<f32>(o + at, load<f32>(gamma + at) * s * <f32>sum + load<f32>(bias + at));
    }
  }
}

// Σ x[i]·y[i] over k signed bytes (k a multiple of 4), in i32.
function dotInt8(x: usize, y: usize, k: i32): i32 {
  let i = 0;
  let sum = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = i32x4.splat(0);
    for (; i + 8 <= k; i += 8) {
      const a = v128.load8x8_s(x + <usize>i);
      const b = v128.load8x8_s(y + <usize>i);
      acc = i32x4.add(acc, i32x4.dot_i16x8_s(a, b));
    }
    sum =
      i32x4.extract_lane(acc, 0) +
      i32x4.extract_lane(acc, 1) +
      i32x4.extract_lane(acc, 2) +
      i32x4.extract_lane(acc, 3);
  }
  for (; i < k; i++) sum += <i32>load<i8>(x + <usize>i) * <i32>load<i8>(y + <usize>i);
  return sum;
}
