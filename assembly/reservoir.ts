// A whole character through the reservoir: T substeps of the LIF step and propagation,
// then the per-character features. Driving many characters from one call keeps the
// JavaScript ↔ WebAssembly crossings out of the inner loop.
//
// The reservoir is described by a block of i32 fields in linear memory, written
// by the TypeScript side (src/engine.ts mirrors these offsets):
//
//   byte  field       meaning
//   0     n           neurons, a multiple of 4
//   4     substeps    T, substeps per character
//   8     v           f32[n] membrane potentials
//   12    leak        f32[n] decay per substep
//   16    thr         f32[n] thresholds
//   20    rec         f32[n] recurrent input for the next substep
//   24    counts      f32[n] spikes in the current character
//   28    fired       i32[n] neurons that fired in the current substep
//   32    rowStart    u32[n+1] synapses by presynaptic neuron
//   36    target      u32[nnz] (mode 0) or u16[nnz] (mode 3)
//   40    weight      f32[nnz]
//   44    drive       f32[V][n] input current per character (input gain applied)
//   48    features    bit 0: spike counts / T, bit 1: membrane potentials
//   56    spikes      u64 running count of spikes
//   64    events      u64 running count of synaptic events
//   72    updates     u64 running count of membrane updates
//   80    chars       u64 running count of characters
//   88    mode        0: float synapses (32..40), u32 targets; 1: ternary, u16 targets;
//                     2: ternary, u32 targets; 3: float synapses, u16 targets
//   92    bounds      u32[2n+1] ternary +1 / −1 lists by presynaptic neuron (ternary.ts)
//   96    tTarget     u16[nnz] or u32[nnz] ternary accumulator slots (i or n + i, ternary.ts)
//   100   gamma       f32 scale of the ternary synapses
//   104   adds        u64 running count of ternary +1 events
//   112   subs        u64 running count of ternary −1 events
//   120   floatAdds   u64 running count of events adding an f32 weight (float mode)
//   128   dynamics    0: standard, 1: prototype order of a substep (lif.ts)
//   132   (reserved, 0)
//
// In ternary mode rec is i32[2n], counts of +1 and of −1 events, and the LIF step scales
// their difference by γ; the float synapse fields are not read.
//
// With prototype dynamics the spikes a substep propagates were detected from the potential
// the previous substep left, so a call starts by detecting them from the state's v (the
// state itself stays v, rec = 0 between calls, as in standard dynamics).

import {
  detectSpikes,
  lifStep,
  lifStepPrototype,
  lifStepPrototypeTernary,
  lifStepTernary,
} from './lif';
import { propagate, propagateU16 } from './propagate';
import { propagateTernaryU16, propagateTernaryU32 } from './ternary';

export const DESC_BYTES: i32 = 144;
export const MODE_FLOAT: i32 = 0;
export const MODE_TERNARY_U16: i32 = 1;
export const MODE_TERNARY_U32: i32 = 2;
export const MODE_FLOAT_U16: i32 = 3;
export const DYNAMICS_STANDARD: i32 = 0;
export const DYNAMICS_PROTOTYPE: i32 = 1;
export const FEATURE_SPIKES: i32 = 1;
export const FEATURE_MEMBRANE: i32 = 2;

/** Runs nChars characters (u16 ids) through the reservoir; writes features if featOut ≠ 0. */
export function runChars(
  desc: usize,
  ids: usize,
  nChars: i32,
  featOut: usize,
  featStride: i32,
): void {
  const n = load<i32>(desc);
  const substeps = load<i32>(desc, 4);
  const v = <usize>load<u32>(desc, 8);
  const leak = <usize>load<u32>(desc, 12);
  const thr = <usize>load<u32>(desc, 16);
  const rec = <usize>load<u32>(desc, 20);
  const counts = <usize>load<u32>(desc, 24);
  const fired = <usize>load<u32>(desc, 28);
  const rowStart = <usize>load<u32>(desc, 32);
  const target = <usize>load<u32>(desc, 36);
  const weight = <usize>load<u32>(desc, 40);
  const driveBase = <usize>load<u32>(desc, 44);
  const features = load<i32>(desc, 48);
  const mode = load<i32>(desc, 88);
  const bounds = <usize>load<u32>(desc, 92);
  const tTarget = <usize>load<u32>(desc, 96);
  const gamma = load<f32>(desc, 100);
  const prototype = load<i32>(desc, 128) == DYNAMICS_PROTOTYPE;
  const float = mode == MODE_FLOAT || mode == MODE_FLOAT_U16;
  const bytes = <usize>n << 2;
  let spikes: u64 = 0;
  let events: u64 = 0; // float mode
  let ternaryEvents: u64 = 0;
  const addsBefore = load<u64>(desc, 104);
  // Prototype: the spikes the first substep propagates (none for a state at rest).
  let k = prototype ? detectSpikes(n, v, thr, fired) : 0;

  for (let c = 0; c < nChars; c++) {
    const id = <usize>load<u16>(ids + (<usize>c << 1));
    const drive = driveBase + id * bytes;
    memory.fill(counts, 0, bytes);
    for (let s = 0; s < substeps; s++) {
      if (!prototype) {
        k = float
          ? lifStep(n, v, leak, drive, rec, thr, counts, fired)
          : lifStepTernary(n, v, leak, drive, rec, thr, counts, fired, gamma);
      }
      spikes += <u64>k;
      // The ternary kernels add their +1 events to the adds counter at byte 104 themselves.
      if (mode == MODE_FLOAT_U16) {
        events += <u64>propagateU16(k, fired, rowStart, target, weight, rec);
      } else if (mode == MODE_FLOAT) {
        events += <u64>propagate(k, fired, rowStart, target, weight, rec);
      } else if (mode == MODE_TERNARY_U16) {
        ternaryEvents += <u64>propagateTernaryU16(k, fired, bounds, tTarget, rec, desc + 104);
      } else {
        ternaryEvents += <u64>propagateTernaryU32(k, fired, bounds, tTarget, rec, desc + 104);
      }
      if (prototype) {
        k = float
          ? lifStepPrototype(n, v, leak, drive, rec, thr, counts, fired)
          : lifStepPrototypeTernary(n, v, leak, drive, rec, thr, counts, fired, gamma);
      }
    }
    if (featOut != 0) {
      let out = featOut + <usize>c * (<usize>featStride << 2);
      if (features & FEATURE_SPIKES) {
        scaleInto(out, counts, n, 1.0 / <f32>substeps);
        out += bytes;
      }
      if (features & FEATURE_MEMBRANE) memory.copy(out, v, bytes);
    }
  }

  store<u64>(desc, load<u64>(desc, 56) + spikes, 56);
  store<u64>(desc, load<u64>(desc, 64) + events + ternaryEvents, 64);
  store<u64>(desc, load<u64>(desc, 72) + <u64>n * <u64>substeps * <u64>nChars, 72);
  store<u64>(desc, load<u64>(desc, 80) + <u64>nChars, 80);
  const adds = load<u64>(desc, 104) - addsBefore;
  store<u64>(desc, load<u64>(desc, 112) + ternaryEvents - adds, 112);
  store<u64>(desc, load<u64>(desc, 120) + events, 120);
}

/** out[i] = x[i] · a for i < n (n a multiple of 4). */
function scaleInto(out: usize, x: usize, n: i32, a: f32): void {
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(a);
    for (let o: usize = 0; o < (<usize>n << 2); o += 16) {
      v128.store(out + o, f32x4.mul(v128.load(x + o), s));
    }
  } else {
    for (let o: usize = 0; o < (<usize>n << 2); o += 4) {
      store<f32>(out + o, load<f32>(x + o) * a);
    }
  }
}
