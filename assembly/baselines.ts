// Kernels of the non-spiking baselines the comparison table plays the spiking reservoir
// against: an echo state network (a random tanh recurrent network) and a random, untrained
// LSTM cell. Both read the spiking model's sparse synapses (by presynaptic neuron) and visit
// every synapse for every character, because their state is dense: unlike spikes, a tanh
// unit is almost never exactly zero.
//
// A baseline state is a block of fields in linear memory written by src/baselines.ts:
//
//   byte  field      meaning
//   0     kind       1: echo state network, 2: LSTM
//   4     n          units, a multiple of 4 (padding units have no synapses and no input)
//   8     x          f32[n] state (ESN) or hidden output h (LSTM)
//   12    c          f32[n] LSTM cell state (unused by the ESN)
//   16    pre        f32[n] (ESN) or f32[n][4] (LSTM) pre-activations of the character
//   20    rowStart   u32[n+1] synapses of presynaptic unit j
//   24    target     u32[nnz] postsynaptic unit
//   28    weight     f32[nnz] (ESN) or f32[nnz][4] (LSTM: gates i, f, o, g side by side)
//   32    drive      f32[V][n] (ESN) or f32[V][n][4] (LSTM, gate biases folded in): the input
//                    projection of a one-hot character is a row of this table
//   36    features   bit 0: x or h, bit 1: the LSTM cell state c after it
//   48    chars      u64 running count of characters
//   56    inMul      u64 multiplies of the input projection (0: a one-hot input is a lookup)
//   64    inAdd      u64 additions of the input projection (0, same reason)
//   72    recMul     u64 multiplies of the recurrence (synapses, gating)
//   80    recAdd     u64 additions of the recurrence
//   88    nonlin     u64 evaluations of tanh or the logistic function
//
// The counters count arithmetic in the model's own terms: one multiply and one add per
// synapse and gate, the gating products and sums of the LSTM cell, and one nonlinearity per
// tanh or logistic (however many instructions the approximation below takes), so that they
// can be compared with the spiking reservoir's synaptic events and membrane updates.

export const BASELINE_DESC_BYTES: i32 = 96;
export const KIND_ESN: i32 = 1;
export const KIND_LSTM: i32 = 2;

/** Runs nChars characters (u16 ids) through a baseline; writes features if featOut ≠ 0. */
export function runBaseline(
  desc: usize,
  ids: usize,
  nChars: i32,
  featOut: usize,
  featStride: i32,
): void {
  const kind = load<i32>(desc);
  const n = load<i32>(desc, 4);
  const x = <usize>load<u32>(desc, 8);
  const c = <usize>load<u32>(desc, 12);
  const pre = <usize>load<u32>(desc, 16);
  const rowStart = <usize>load<u32>(desc, 20);
  const target = <usize>load<u32>(desc, 24);
  const weight = <usize>load<u32>(desc, 28);
  const drive = <usize>load<u32>(desc, 32);
  const features = load<i32>(desc, 36);
  const lstm = kind == KIND_LSTM;
  const bytes = <usize>n << 2;
  const preBytes = lstm ? bytes << 2 : bytes;
  const nnz = <u64>load<u32>(rowStart + bytes);
  for (let ch = 0; ch < nChars; ch++) {
    const id = <usize>load<u16>(ids + (<usize>ch << 1));
    memory.copy(pre, drive + id * preBytes, preBytes);
    if (lstm) {
      scatterGates(n, x, rowStart, target, weight, pre);
      lstmCell(n, pre, x, c);
    } else {
      scatter(n, x, rowStart, target, weight, pre);
      tanhInto(x, pre, n);
    }
    if (featOut != 0) {
      const out = featOut + <usize>ch * (<usize>featStride << 2);
      memory.copy(out, x, bytes);
      if (features & 2) memory.copy(out + bytes, c, bytes);
    }
  }
  const chars = <u64>nChars;
  const un = <u64>n;
  const recMul = lstm ? 4 * nnz + 3 * un : nnz;
  const recAdd = lstm ? 4 * nnz + un : nnz;
  store<u64>(desc, load<u64>(desc, 48) + chars, 48);
  store<u64>(desc, load<u64>(desc, 72) + recMul * chars, 72);
  store<u64>(desc, load<u64>(desc, 80) + recAdd * chars, 80);
  store<u64>(desc, load<u64>(desc, 88) + (lstm ? 5 : 1) * un * chars, 88);
}

// pre[target] += weight · x[j] over every synapse of every presynaptic unit j. Scatter-adds
// have no SIMD form; the loop is unrolled by four so that the loads overlap.
function scatter(
  n: i32,
  x: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  pre: usize,
): void {
  for (let j: usize = 0; j < <usize>n; j++) {
    const xj = load<f32>(x + (j << 2));
    const a = load<u32>(rowStart + (j << 2));
    const b = load<u32>(rowStart + ((j + 1) << 2));
    let e = a;
    for (; e + 4 <= b; e += 4) {
      const ti = target + (<usize>e << 2);
      const wi = weight + (<usize>e << 2);
      const t0 = pre + (<usize>load<u32>(ti) << 2);
      const t1 = pre + (<usize>load<u32>(ti, 4) << 2);
      const t2 = pre + (<usize>load<u32>(ti, 8) << 2);
      const t3 = pre + (<usize>load<u32>(ti, 12) << 2);
      store<f32>(t0, load<f32>(t0) + load<f32>(wi) * xj);
      store<f32>(t1, load<f32>(t1) + load<f32>(wi, 4) * xj);
      store<f32>(t2, load<f32>(t2) + load<f32>(wi, 8) * xj);
      store<f32>(t3, load<f32>(t3) + load<f32>(wi, 12) * xj);
    }
    for (; e < b; e++) {
      const t = pre + (<usize>load<u32>(target + (<usize>e << 2)) << 2);
      store<f32>(t, load<f32>(t) + load<f32>(weight + (<usize>e << 2)) * xj);
    }
  }
}

// The LSTM's four gates share a synapse's target, so their weights sit side by side and one
// synapse is one 4-lane multiply-add into pre[target][0..4].
function scatterGates(
  n: i32,
  h: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  pre: usize,
): void {
  for (let j: usize = 0; j < <usize>n; j++) {
    const hj = load<f32>(h + (j << 2));
    const a = load<u32>(rowStart + (j << 2));
    const b = load<u32>(rowStart + ((j + 1) << 2));
    if (ASC_FEATURE_SIMD) {
      const s = f32x4.splat(hj);
      for (let e = a; e < b; e++) {
        const t = pre + (<usize>load<u32>(target + (<usize>e << 2)) << 4);
        const w = v128.load(weight + (<usize>e << 4));
        v128.store(t, f32x4.add(v128.load(t), f32x4.mul(w, s)));
      }
    } else {
      for (let e = a; e < b; e++) {
        const t = pre + (<usize>load<u32>(target + (<usize>e << 2)) << 4);
        const w = weight + (<usize>e << 4);
        store<f32>(t, load<f32>(t) + load<f32>(w) * hj);
        store<f32>(t, load<f32>(t, 4) + load<f32>(w, 4) * hj, 4);
        store<f32>(t, load<f32>(t, 8) + load<f32>(w, 8) * hj, 8);
        store<f32>(t, load<f32>(t, 12) + load<f32>(w, 12) * hj, 12);
      }
    }
  }
}

// i, f, o = σ(pre[·][0..2]), g = tanh(pre[·][3]); c ← f·c + i·g; h ← o·tanh(c). Four
// units at a time: their gate quadruples are transposed so that each vector holds one gate of four
// units, and every nonlinearity runs on four lanes. σ(z) = (1 + tanh(z/2)) / 2.
function lstmCell(n: i32, pre: usize, h: usize, c: usize): void {
  if (ASC_FEATURE_SIMD) {
    const half = f32x4.splat(0.5);
    for (let i: usize = 0; i < <usize>n; i += 4) {
      const p = pre + (i << 4);
      const r0 = v128.load(p);
      const r1 = v128.load(p, 16);
      const r2 = v128.load(p, 32);
      const r3 = v128.load(p, 48);
      const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const gi = f32x4.shuffle(t0, t2, 0, 1, 4, 5);
      const gf = f32x4.shuffle(t0, t2, 2, 3, 6, 7);
      const go = f32x4.shuffle(t1, t3, 0, 1, 4, 5);
      const gg = f32x4.shuffle(t1, t3, 2, 3, 6, 7);
      const si = f32x4.add(half, f32x4.mul(half, tanh4(f32x4.mul(half, gi))));
      const sf = f32x4.add(half, f32x4.mul(half, tanh4(f32x4.mul(half, gf))));
      const so = f32x4.add(half, f32x4.mul(half, tanh4(f32x4.mul(half, go))));
      const cell = f32x4.add(f32x4.mul(sf, v128.load(c + (i << 2))), f32x4.mul(si, tanh4(gg)));
      v128.store(c + (i << 2), cell);
      v128.store(h + (i << 2), f32x4.mul(so, tanh4(cell)));
    }
  } else {
    for (let i: usize = 0; i < <usize>n; i++) {
      const p = pre + (i << 4);
      const si: f32 = 0.5 + 0.5 * tanh1(0.5 * load<f32>(p));
      const sf: f32 = 0.5 + 0.5 * tanh1(0.5 * load<f32>(p, 4));
      const so: f32 = 0.5 + 0.5 * tanh1(0.5 * load<f32>(p, 8));
      const cell = sf * load<f32>(c + (i << 2)) + si * tanh1(load<f32>(p, 12));
      store<f32>(c + (i << 2), cell);
      store<f32>(h + (i << 2), so * tanh1(cell));
    }
  }
}

/** out[i] = tanh(x[i]) for i < n (n a multiple of 4). */
export function tanhInto(out: usize, x: usize, n: i32): void {
  const bytes = <usize>n << 2;
  if (ASC_FEATURE_SIMD) {
    for (let o: usize = 0; o < bytes; o += 16) v128.store(out + o, tanh4(v128.load(x + o)));
  } else {
    for (let o: usize = 0; o < bytes; o += 4) store<f32>(out + o, tanh1(load<f32>(x + o)));
  }
}

// tanh(x) = (e − 1)/(e + 1) with e = exp(2x), x clamped to ±9 where tanh is 1 in f32. exp is
// 2^k · p(r) with k = round(y / ln 2), r = y − k ln 2 (ln 2 split in two so the reduction is
// exact to f32), |r| ≤ ln2/2, and p the degree-6 Taylor polynomial of exp, whose error
// r⁷/7! < 2e-7 is below f32 rounding. WebAssembly has no vector exp, hence the polynomial;
// the scalar build runs the same arithmetic, lane by lane. Absolute error about 1e-7.
const CLAMP: f32 = 9;
const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

// @ts-ignore: decorator
@inline
function tanh4(x: v128): v128 {
  const y = f32x4.mul(
    f32x4.splat(2),
    f32x4.min(f32x4.max(x, f32x4.splat(-CLAMP)), f32x4.splat(CLAMP)),
  );
  const k = f32x4.nearest(f32x4.mul(y, f32x4.splat(LOG2E)));
  const r = f32x4.sub(
    f32x4.sub(y, f32x4.mul(k, f32x4.splat(LN2_HI))),
    f32x4.mul(k, f32x4.splat(LN2_LO)),
  );
  let p = f32x4.splat(1.0 / 720);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  const e = f32x4.mul(p, scale);
  const one = f32x4.splat(1);
  return f32x4.div(f32x4.sub(e, one), f32x4.add(e, one));
}

// @ts-ignore: decorator
@inline
function tanh1(x: f32): f32 {
  const y: f32 = 2 * min<f32>(max<f32>(x, -CLAMP), CLAMP);
  const k = nearest<f32>(y * LOG2E);
  const r = y - k * LN2_HI - k * LN2_LO;
  let p: f32 = 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1;
  p = p * r + 1;
  const e = p * reinterpret<f32>((<i32>k + 127) << 23);
  return (e - 1) / (e + 1);
}
