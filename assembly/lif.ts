// Leaky integrate-and-fire membrane update, one substep for all neurons, in two orders of
// the same operations (config.ts `dynamics`).
//
// 'standard' (lifStep): integrate, then spike and reset at once.
//
//   v_i ← leak_i · v_i + (drive_i + rec_i)        (potential, dimensionless)
//   spike_i = v_i ≥ θ_i;  where spike_i: v_i ← 0, count_i += 1
//
// rec is the recurrent input gathered by `propagate` from the previous substep's spikes.
//
// 'prototype' (the prototype's and shared/bench-refs' order): a substep detects spikes from
// the potential the previous one left, propagates them, integrates, then resets:
//
//   spike_i = v_i > θ_i (strict);  rec ← W · spike;  v_i ← leak_i · v_i + (drive_i + rec_i);
//   where spike_i: v_i ← 0, count_i += 1
//
// so a crossing is reported one substep later, and a neuron's integration in the substep it
// spikes is discarded. lifStepPrototype does the integrate and reset of one substep and the
// detection for the next in one pass: the neurons to reset are exactly those with v_i > θ_i
// before the update, and a reset one (v = 0 < θ) cannot spike again at once.
//
// leak_i = exp(-Δt/τ_i) ∈ [0, 1) is the decay per substep; θ_i > 0 is the threshold. rec is
// read once and cleared here so the next propagation starts from zero.
//
// Arrays are f32 of length n, n a multiple of 4 (callers pad with neurons whose threshold is
// +∞, which never fire). `fired` receives the i32 indices of the neurons that spiked, in
// increasing order; the return value is their count.

/** One standard LIF substep over n neurons; returns how many fired. */
export function lifStep(
  n: i32,
  v: usize,
  leak: usize,
  drive: usize,
  rec: usize,
  thr: usize,
  counts: usize,
  fired: usize,
): i32 {
  return standardStep<f32>(n, v, leak, drive, rec, thr, counts, fired, 1);
}

/**
 * As lifStep with ternary recurrent input: rec holds i32[2n] counts of +1 and −1 events
 * (assembly/ternary.ts), whose difference is scaled by γ.
 */
export function lifStepTernary(
  n: i32,
  v: usize,
  leak: usize,
  drive: usize,
  rec: usize,
  thr: usize,
  counts: usize,
  fired: usize,
  gamma: f32,
): i32 {
  return standardStep<i32>(n, v, leak, drive, rec, thr, counts, fired, gamma);
}

// R is the element type of rec: f32 input as is, or i32 counts of +1 (rec[i]) and −1
// (rec[n + i]) events whose difference is scaled by gamma.
// @ts-ignore: decorator
@inline
function standardStep<R>(
  n: i32,
  v: usize,
  leak: usize,
  drive: usize,
  rec: usize,
  thr: usize,
  counts: usize,
  fired: usize,
  gamma: f32,
): i32 {
  let k = 0;
  const minus = rec + (<usize>n << 2); // ternary only
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const one = f32x4.splat(1);
    const g = f32x4.splat(gamma);
    let idx = i32x4(0, 1, 2, 3);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const r = recurrent4<R>(rec, minus, o, g);
      let x = f32x4.add(
        f32x4.mul(v128.load(leak + o), v128.load(v + o)),
        f32x4.add(v128.load(drive + o), r),
      );
      const spike = f32x4.ge(x, v128.load(thr + o));
      x = v128.bitselect(zero, x, spike);
      v128.store(v + o, x);
      v128.store(rec + o, zero);
      v128.store(counts + o, f32x4.add(v128.load(counts + o), v128.and(spike, one)));
      k = compact(fired, k, idx, spike);
      idx = i32x4.add(idx, i32x4.splat(4));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      const r = recurrent1<R>(rec, minus, o, gamma);
      let x = load<f32>(leak + o) * load<f32>(v + o) + (load<f32>(drive + o) + r);
      store<R>(rec + o, 0);
      if (x >= load<f32>(thr + o)) {
        x = 0;
        store<f32>(counts + o, load<f32>(counts + o) + 1);
        store<i32>(fired + (<usize>k << 2), i);
        k++;
      }
      store<f32>(v + o, x);
    }
  }
  return k;
}

/**
 * Prototype order: integrates with rec (from the spikes of v > θ before this call), resets
 * and counts those, and lists in `fired` the neurons that will spike in the next substep
 * (v > θ after it); returns how many.
 */
export function lifStepPrototype(
  n: i32,
  v: usize,
  leak: usize,
  drive: usize,
  rec: usize,
  thr: usize,
  counts: usize,
  fired: usize,
): i32 {
  return prototypeStep<f32>(n, v, leak, drive, rec, thr, counts, fired, 1);
}

/**
 * As lifStepPrototype with ternary recurrent input: rec holds i32[2n] counts of +1 and −1
 * events (assembly/ternary.ts), whose difference is scaled by γ.
 */
export function lifStepPrototypeTernary(
  n: i32,
  v: usize,
  leak: usize,
  drive: usize,
  rec: usize,
  thr: usize,
  counts: usize,
  fired: usize,
  gamma: f32,
): i32 {
  return prototypeStep<i32>(n, v, leak, drive, rec, thr, counts, fired, gamma);
}

/** Lists the neurons with v > θ in `fired` (prototype detection, nothing else); returns how many. */
export function detectSpikes(n: i32, v: usize, thr: usize, fired: usize): i32 {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    let idx = i32x4(0, 1, 2, 3);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      k = compact(fired, k, idx, f32x4.gt(v128.load(v + o), v128.load(thr + o)));
      idx = i32x4.add(idx, i32x4.splat(4));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      store<i32>(fired + (<usize>k << 2), i);
      k += i32(load<f32>(v + o) > load<f32>(thr + o));
    }
  }
  return k;
}

// R is the element type of rec: f32 input as is, or i32 counts of +1 (rec[i]) and −1
// (rec[n + i]) events whose difference is scaled by gamma (as lifStepTernary in ternary.ts).
// @ts-ignore: decorator
@inline
function prototypeStep<R>(
  n: i32,
  v: usize,
  leak: usize,
  drive: usize,
  rec: usize,
  thr: usize,
  counts: usize,
  fired: usize,
  gamma: f32,
): i32 {
  let k = 0;
  const minus = rec + (<usize>n << 2); // ternary only
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const one = f32x4.splat(1);
    const g = f32x4.splat(gamma);
    let idx = i32x4(0, 1, 2, 3);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const old = v128.load(v + o);
      const th = v128.load(thr + o);
      const r = recurrent4<R>(rec, minus, o, g);
      const was = f32x4.gt(old, th);
      let x = f32x4.add(f32x4.mul(v128.load(leak + o), old), f32x4.add(v128.load(drive + o), r));
      x = v128.bitselect(zero, x, was);
      v128.store(v + o, x);
      v128.store(rec + o, zero);
      v128.store(counts + o, f32x4.add(v128.load(counts + o), v128.and(was, one)));
      k = compact(fired, k, idx, f32x4.gt(x, th));
      idx = i32x4.add(idx, i32x4.splat(4));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      const old = load<f32>(v + o);
      const th = load<f32>(thr + o);
      const r = recurrent1<R>(rec, minus, o, gamma);
      let x = load<f32>(leak + o) * old + (load<f32>(drive + o) + r);
      store<R>(rec + o, 0);
      if (old > th) {
        x = 0;
        store<f32>(counts + o, load<f32>(counts + o) + 1);
      }
      store<f32>(v + o, x);
      // A branch here measured as fast as storing unconditionally and adding the compare.
      if (x > th) {
        store<i32>(fired + (<usize>k << 2), i);
        k++;
      }
    }
  }
  return k;
}

// Byte shuffles that move the lanes set in a 4-bit mask to the front, in order: row m of
// this table serves mask m (lane l is bits 4l .. 4l+3 of a v128).
const COMPACT: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0,
  8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0,
  12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0,
  8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
]);

// Appends the indices in idx whose lanes are set in mask to fired[k..]; returns the new k.
// One shuffle and one 16-byte store whatever the mask, instead of a loop over its bits that
// mispredicts on the groups that spike. The store may write up to 3 entries past the new
// end; they are overwritten later or ignored, and since k ≤ i it stays inside fired[n].
// @ts-ignore: decorator
@inline
function compact(fired: usize, k: i32, idx: v128, mask: v128): i32 {
  const bits = i32x4.bitmask(mask);
  const shuffle = v128.load(COMPACT + (<usize>bits << 4));
  v128.store(fired + (<usize>k << 2), i8x16.swizzle(idx, shuffle));
  return k + <i32>popcnt(bits);
}

// The recurrent input of four neurons at byte offset o: f32 rec as is, or (R = i32) γ times
// the +1 count minus the −1 count, clearing the −1 counts (the caller clears rec).
// @ts-ignore: decorator
@inline
function recurrent4<R>(rec: usize, minus: usize, o: usize, g: v128): v128 {
  const r = v128.load(rec + o);
  if (!isInteger<R>()) return r;
  const diff = i32x4.sub(r, v128.load(minus + o));
  v128.store(minus + o, i32x4.splat(0));
  return f32x4.mul(g, f32x4.convert_i32x4_s(diff));
}

// As recurrent4, for one neuron.
// @ts-ignore: decorator
@inline
function recurrent1<R>(rec: usize, minus: usize, o: usize, gamma: f32): f32 {
  if (!isInteger<R>()) return load<f32>(rec + o);
  const diff = load<i32>(rec + o) - load<i32>(minus + o);
  store<i32>(minus + o, 0);
  return gamma * <f32>diff;
}
