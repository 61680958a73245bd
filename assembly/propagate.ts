// Event-driven spike propagation.
//
// Synapses are stored by presynaptic neuron (compressed sparse rows):
//
//   rowStart: u32[n + 1]   synapses of neuron j are rowStart[j] .. rowStart[j+1)
//   target:   u32[nnz]     postsynaptic neuron of each synapse
//   weight:   f32[nnz]     its weight
//
// Only neurons that fired are visited, so the cost is spikes × fan-out, not n².
// Scatter-adds have no SIMD form in WebAssembly; the loop is unrolled by four so
// the loads of indices and weights overlap.

/** Adds each fired neuron's outgoing weights into rec; returns the synaptic events. */
export function propagate(
  nFired: i32,
  fired: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  rec: usize,
): i32 {
  let events = 0;
  for (let f = 0; f < nFired; f++) {
    const j = <usize>load<i32>(fired + (<usize>f << 2));
    const a = load<u32>(rowStart + (j << 2));
    const b = load<u32>(rowStart + ((j + 1) << 2));
    events += b - a;
    let e = a;
    for (; e + 4 <= b; e += 4) {
      const o = <usize>e << 2;
      const t0 = rec + (<usize>load<u32>(target + o) << 2);
      const t1 = rec + (<usize>load<u32>(target + o, 4) << 2);
      const t2 = rec + (<usize>load<u32>(target + o, 8) << 2);
      const t3 = rec + (<usize>load<u32>(target + o, 12) << 2);
      store<f32>(t0, load<f32>(t0) + load<f32>(weight + o));
      store<f32>(t1, load<f32>(t1) + load<f32>(weight + o, 4));
      store<f32>(t2, load<f32>(t2) + load<f32>(weight + o, 8));
      store<f32>(t3, load<f32>(t3) + load<f32>(weight + o, 12));
    }
    for (; e < b; e++) {
      const o = <usize>e << 2;
      const t = rec + (<usize>load<u32>(target + o) << 2);
      store<f32>(t, load<f32>(t) + load<f32>(weight + o));
    }
  }
  return events;
}
