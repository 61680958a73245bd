// @ts-nocheck: AssemblyScript, compiled by asc (see bench/experimental.ts), not by tsc.
// Candidate propagation kernels, compiled separately by bench/experimental.ts
// (never shipped). The engine's own lifStep and propagate are imported so the
// baseline is compiled by the same compiler run with the same options.
//
// Variants of the scatter-add rec[target[e]] += weight[e]:
//   0  the engine's propagate (u32 targets, f32 weights, unrolled by 4)
//   1  u16 targets, f32 weights, unrolled by 4 (n ≤ 65,536)
//   2  u16 targets, f32 weights, unrolled by 8
//   3  interleaved (u32 target, f32 weight) pairs: one stream instead of two
//   4  u16 targets, addresses computed four at a time with SIMD

import { lifStep } from '../../assembly/lif';
import { propagate } from '../../assembly/propagate';

export function heapBase(): usize {
  return __heap_base;
}

export { lifStep, propagate };

/** u16 targets, unrolled by 4. */
export function propagateU16(
  nFired: i32,
  fired: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  rec: usize,
): i32 {
  let events = 0;
  for (let f = 0; f < nFired; f++) {
    const j = <usize>load<i32>(fired + ((<usize>f) << 2));
    const a = load<u32>(rowStart + (j << 2));
    const b = load<u32>(rowStart + ((j + 1) << 2));
    events += b - a;
    let e = a;
    for (; e + 4 <= b; e += 4) {
      const ti = target + ((<usize>e) << 1);
      const wi = weight + ((<usize>e) << 2);
      const t0 = rec + ((<usize>load<u16>(ti)) << 2);
      const t1 = rec + ((<usize>load<u16>(ti, 2)) << 2);
      const t2 = rec + ((<usize>load<u16>(ti, 4)) << 2);
      const t3 = rec + ((<usize>load<u16>(ti, 6)) << 2);
      store<f32>(t0, load<f32>(t0) + load<f32>(wi));
      store<f32>(t1, load<f32>(t1) + load<f32>(wi, 4));
      store<f32>(t2, load<f32>(t2) + load<f32>(wi, 8));
      store<f32>(t3, load<f32>(t3) + load<f32>(wi, 12));
    }
    for (; e < b; e++) {
      const t = rec + ((<usize>load<u16>(target + ((<usize>e) << 1))) << 2);
      store<f32>(t, load<f32>(t) + load<f32>(weight + ((<usize>e) << 2)));
    }
  }
  return events;
}

/** u16 targets, unrolled by 8. */
export function propagateU16x8(
  nFired: i32,
  fired: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  rec: usize,
): i32 {
  let events = 0;
  for (let f = 0; f < nFired; f++) {
    const j = <usize>load<i32>(fired + ((<usize>f) << 2));
    const a = load<u32>(rowStart + (j << 2));
    const b = load<u32>(rowStart + ((j + 1) << 2));
    events += b - a;
    let e = a;
    for (; e + 8 <= b; e += 8) {
      const ti = target + ((<usize>e) << 1);
      const wi = weight + ((<usize>e) << 2);
      const t0 = rec + ((<usize>load<u16>(ti)) << 2);
      const t1 = rec + ((<usize>load<u16>(ti, 2)) << 2);
      const t2 = rec + ((<usize>load<u16>(ti, 4)) << 2);
      const t3 = rec + ((<usize>load<u16>(ti, 6)) << 2);
      const t4 = rec + ((<usize>load<u16>(ti, 8)) << 2);
      const t5 = rec + ((<usize>load<u16>(ti, 10)) << 2);
      const t6 = rec + ((<usize>load<u16>(ti, 12)) << 2);
      const t7 = rec + ((<usize>load<u16>(ti, 14)) << 2);
      store<f32>(t0, load<f32>(t0) + load<f32>(wi));
      store<f32>(t1, load<f32>(t1) + load<f32>(wi, 4));
      store<f32>(t2, load<f32>(t2) + load<f32>(wi, 8));
      store<f32>(t3, load<f32>(t3) + load<f32>(wi, 12));
      store<f32>(t4, load<f32>(t4) + load<f32>(wi, 16));
      store<f32>(t5, load<f32>(t5) + load<f32>(wi, 20));
      store<f32>(t6, load<f32>(t6) + load<f32>(wi, 24));
      store<f32>(t7, load<f32>(t7) + load<f32>(wi, 28));
    }
    for (; e < b; e++) {
      const t = rec + ((<usize>load<u16>(target + ((<usize>e) << 1))) << 2);
      store<f32>(t, load<f32>(t) + load<f32>(weight + ((<usize>e) << 2)));
    }
  }
  return events;
}

/** Interleaved pairs: pairs[2e] = target (u32), pairs[2e + 1] = weight (f32). */
export function propagatePairs(
  nFired: i32,
  fired: usize,
  rowStart: usize,
  pairs: usize,
  _unused: usize,
  rec: usize,
): i32 {
  let events = 0;
  for (let f = 0; f < nFired; f++) {
    const j = <usize>load<i32>(fired + ((<usize>f) << 2));
    const a = load<u32>(rowStart + (j << 2));
    const b = load<u32>(rowStart + ((j + 1) << 2));
    events += b - a;
    let e = a;
    for (; e + 4 <= b; e += 4) {
      const p = pairs + ((<usize>e) << 3);
      const t0 = rec + ((<usize>load<u32>(p)) << 2);
      const t1 = rec + ((<usize>load<u32>(p, 8)) << 2);
      const t2 = rec + ((<usize>load<u32>(p, 16)) << 2);
      const t3 = rec + ((<usize>load<u32>(p, 24)) << 2);
      store<f32>(t0, load<f32>(t0) + load<f32>(p, 4));
      store<f32>(t1, load<f32>(t1) + load<f32>(p, 12));
      store<f32>(t2, load<f32>(t2) + load<f32>(p, 20));
      store<f32>(t3, load<f32>(t3) + load<f32>(p, 28));
    }
    for (; e < b; e++) {
      const p = pairs + ((<usize>e) << 3);
      const t = rec + ((<usize>load<u32>(p)) << 2);
      store<f32>(t, load<f32>(t) + load<f32>(p, 4));
    }
  }
  return events;
}

/** u16 targets; four byte addresses are formed at once with SIMD, then used lane by lane. */
export function propagateU16Simd(
  nFired: i32,
  fired: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  rec: usize,
): i32 {
  let events = 0;
  const base = i32x4.splat(<i32>rec);
  for (let f = 0; f < nFired; f++) {
    const j = <usize>load<i32>(fired + ((<usize>f) << 2));
    const a = load<u32>(rowStart + (j << 2));
    const b = load<u32>(rowStart + ((j + 1) << 2));
    events += b - a;
    let e = a;
    for (; e + 4 <= b; e += 4) {
      const wi = weight + ((<usize>e) << 2);
      const t = i32x4.add(base, i32x4.shl(v128.load16x4_u(target + ((<usize>e) << 1)), 2));
      const w = v128.load(wi);
      const t0 = <usize>i32x4.extract_lane(t, 0);
      const t1 = <usize>i32x4.extract_lane(t, 1);
      const t2 = <usize>i32x4.extract_lane(t, 2);
      const t3 = <usize>i32x4.extract_lane(t, 3);
      store<f32>(t0, load<f32>(t0) + f32x4.extract_lane(w, 0));
      store<f32>(t1, load<f32>(t1) + f32x4.extract_lane(w, 1));
      store<f32>(t2, load<f32>(t2) + f32x4.extract_lane(w, 2));
      store<f32>(t3, load<f32>(t3) + f32x4.extract_lane(w, 3));
    }
    for (; e < b; e++) {
      const t = rec + ((<usize>load<u16>(target + ((<usize>e) << 1))) << 2);
      store<f32>(t, load<f32>(t) + load<f32>(weight + ((<usize>e) << 2)));
    }
  }
  return events;
}

/**
 * nChars characters through lifStep + the chosen propagate variant, as runChars
 * does but without features. `target` holds the layout the variant expects.
 * Returns the synaptic events.
 */
export function runVariant(
  variant: i32,
  n: i32,
  substeps: i32,
  v: usize,
  leak: usize,
  thr: usize,
  rec: usize,
  counts: usize,
  fired: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  driveBase: usize,
  ids: usize,
  nChars: i32,
): f64 {
  const bytes = (<usize>n) << 2;
  let events: f64 = 0;
  for (let c = 0; c < nChars; c++) {
    const drive = driveBase + <usize>load<u16>(ids + ((<usize>c) << 1)) * bytes;
    memory.fill(counts, 0, bytes);
    for (let s = 0; s < substeps; s++) {
      const k = lifStep(n, v, leak, drive, rec, thr, counts, fired);
      let e = 0;
      switch (variant) {
        case 0:
          e = propagate(k, fired, rowStart, target, weight, rec);
          break;
        case 1:
          e = propagateU16(k, fired, rowStart, target, weight, rec);
          break;
        case 2:
          e = propagateU16x8(k, fired, rowStart, target, weight, rec);
          break;
        case 3:
          e = propagatePairs(k, fired, rowStart, target, weight, rec);
          break;
        default:
          e = propagateU16Simd(k, fired, rowStart, target, weight, rec);
      }
      events += <f64>e;
    }
  }
  return events;
}
