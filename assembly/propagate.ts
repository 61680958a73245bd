// Event-driven spike propagation.
//
// Synapses are stored by presynaptic neuron (compressed sparse rows):
//
//   rowStart: u32[n + 1]   synapses of neuron j are rowStart[j] .. rowStart[j+1)
//   target:   u16[nnz]     postsynaptic neuron of each synapse (u32[nnz] when n > 65,536)
//   weight:   f32[nnz]     its weight
//
// Only neurons that fired are visited, so the cost is spikes × fan-out, not n². u16 targets
// halve the index stream: 6 bytes per synapse instead of 8. Scatter-adds have no SIMD form in
// WebAssembly; the loop is unrolled by four so the loads of indices and weights overlap.

/** Adds each fired neuron's outgoing weights into rec (u32 targets); returns the events. */
export function propagate(
  nFired: i32,
  fired: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  rec: usize,
): i32 {
  return scatter<u32>(nFired, fired, rowStart, target, weight, rec);
}

/** As propagate, with u16 targets (networks of at most 65,536 neurons). */
export function propagateU16(
  nFired: i32,
  fired: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  rec: usize,
): i32 {
  return scatter<u16>(nFired, fired, rowStart, target, weight, rec);
}

// @ts-ignore: decorator
@inline
function scatter<T>(
  nFired: i32,
  fired: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  rec: usize,
): i32 {
  const size = <usize>sizeof<T>();
  let events = 0;
  for (let f = 0; f < nFired; f++) {
    const j = <usize>load<i32>(fired + (<usize>f << 2));
    const a = load<u32>(rowStart + (j << 2));
    const b = load<u32>(rowStart + ((j + 1) << 2));
    events += b - a;
    let e = a;
    for (; e + 4 <= b; e += 4) {
      const ti = target + <usize>e * size;
      const wi = weight + (<usize>e << 2);
      const t0 = rec + (<usize>load<T>(ti) << 2);
      const t1 = rec + (<usize>load<T>(ti, sizeof<T>()) << 2);
      const t2 = rec + (<usize>load<T>(ti, 2 * sizeof<T>()) << 2);
      const t3 = rec + (<usize>load<T>(ti, 3 * sizeof<T>()) << 2);
      store<f32>(t0, load<f32>(t0) + load<f32>(wi));
      store<f32>(t1, load<f32>(t1) + load<f32>(wi, 4));
      store<f32>(t2, load<f32>(t2) + load<f32>(wi, 8));
      store<f32>(t3, load<f32>(t3) + load<f32>(wi, 12));
    }
    for (; e < b; e++) {
      const t = rec + (<usize>load<T>(target + <usize>e * size) << 2);
      store<f32>(t, load<f32>(t) + load<f32>(weight + (<usize>e << 2)));
    }
  }
  return events;
}
