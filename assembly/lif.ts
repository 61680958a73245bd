// Leaky integrate-and-fire membrane update, one substep for all neurons.
//
//   v_i ← leak_i · v_i + drive_i + rec_i          (potential, dimensionless)
//   spike_i = v_i ≥ θ_i;  where spike_i: v_i ← 0, count_i += 1
//
// leak_i = exp(-Δt/τ_i) ∈ [0, 1) is the decay per substep; θ_i is the threshold.
// rec is the recurrent input gathered by `propagate` in the previous substep; it
// is read once and cleared here so the next substep starts from zero.
//
// Arrays are f32 of length n, n a multiple of 4 (callers pad with neurons whose
// threshold is +∞, which never fire). `fired` receives the i32 indices of the
// neurons that spiked, in increasing order; the return value is their count.

/** One LIF substep over n neurons; returns how many fired. */
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
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const one = f32x4.splat(1);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      let x = f32x4.add(
        f32x4.mul(v128.load(leak + o), v128.load(v + o)),
        f32x4.add(v128.load(drive + o), v128.load(rec + o)),
      );
      const spike = f32x4.ge(x, v128.load(thr + o));
      x = v128.bitselect(zero, x, spike);
      v128.store(v + o, x);
      v128.store(rec + o, zero);
      v128.store(counts + o, f32x4.add(v128.load(counts + o), v128.and(spike, one)));
      let bits = i32x4.bitmask(spike);
      while (bits != 0) {
        const lane = ctz(bits);
        store<i32>(fired + (<usize>k << 2), i + lane);
        k++;
        bits &= bits - 1;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      let x = load<f32>(leak + o) * load<f32>(v + o) + (load<f32>(drive + o) + load<f32>(rec + o));
      store<f32>(rec + o, 0);
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
