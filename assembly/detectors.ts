// The detector layer: LIF neurons that are all silent but a few per character, updated only
// when an event reaches them.
//
// Each character is one time step. A neuron receives input events (the character that was
// presented, through the input synapses of that character) and recurrent events (neurons that
// fired at the previous step, through their outgoing synapses). Between events its membrane
// only decays, v ← λ^Δt · v, so the decay is applied lazily when the next event arrives, from
// the step of its last update. Only a neuron that received an event can cross the threshold
// (its weights are positive and decay never raises v), so only those are tested: the cost of
// a step is its events, not the number of neurons.
//
// Layout (byte addresses, all arrays 4-byte elements):
//   state  f32 v[n], i32 last[n], i32 stamp[n]   potential, step of last update, step touched
//   input  u32 inStart[vocab + 1], f32 inWeight[n]: neurons are numbered by the character
//          they listen to, so character c reaches the block inStart[c] .. inStart[c+1)
//          (each neuron has one input synapse, of weight inWeight[i])
//   rec    u32 rowStart[n + 1], u32 target[], f32 weight[]          (CSR by presynaptic neuron)
//   decay  f32 pow[DECAY_STEPS]: λ^0 … λ^(DECAY_STEPS−1); older potentials count as 0
//   fired  i32 prev[n], count in prevCount (both updated in place)
//   counts f64 [inputEvents, recurrentEvents, updates, spikes], added to (exact below 2^53)

/** Steps after which a potential is taken as fully decayed. */
export const DECAY_STEPS: i32 = 64;

/**
 * Runs `nChars` characters from `ids` (u16). `step0` is the index of the first (steps count
 * from the state's reset). The neurons that fire at each character are appended to `out`
 * (i32), and `offsets` (u32[nChars + 1], offsets[0] given) gets where each character's list
 * ends. `capacity` is the entries at `out` (from out, not from offsets[0]); a step needs room
 * for its spikes and for the neurons its recurrent events reach. Returns the number of spikes
 * written, or −1 if the room would be exceeded.
 */
export function detectorRun(
  v: usize,
  last: usize,
  stamp: usize,
  inStart: usize,
  inWeight: usize,
  rowStart: usize,
  target: usize,
  weight: usize,
  pow: usize,
  threshold: f32,
  prev: usize,
  prevCount: usize,
  ids: usize,
  nChars: i32,
  step0: i32,
  out: usize,
  offsets: usize,
  capacity: i32,
  counts: usize,
): i32 {
  let written = 0;
  let nPrev = load<i32>(prevCount);
  let inputEvents: f64 = 0;
  let recEvents: f64 = 0;
  let updates: f64 = 0;
  const base = load<u32>(offsets);
  for (let c = 0; c < nChars; c++) {
    const step = step0 + c;
    const ch = <usize>load<u16>(ids + (<usize>c << 1));
    const blockA = load<u32>(inStart + (ch << 2));
    const blockB = load<u32>(inStart + ((ch + 1) << 2));
    // Neurons reached by recurrent events are listed at the end of the output, after room
    // for this step's spikes; the list is dropped once they are tested.
    const firedAt = out + ((<usize>base + <usize>written) << 2);
    let nFired = 0;
    const room = capacity - <i32>base - written;
    let nCand = 0;
    // Recurrent events from the previous step's spikes.
    for (let f = 0; f < nPrev; f++) {
      const j = <usize>load<i32>(prev + (<usize>f << 2));
      const a = load<u32>(rowStart + (j << 2));
      const b = load<u32>(rowStart + ((j + 1) << 2));
      recEvents += <f64>(b - a);
      for (let e = a; e < b; e++) {
        const i = load<u32>(target + (<usize>e << 2));
        if (touch(<usize>i, load<f32>(weight + (<usize>e << 2)), step, v, last, stamp, pow)) {
          if (i >= blockA && i < blockB) continue;
          // Kept from the top of the room down, so that spikes can fill it from below.
          nCand++;
          if (nCand >= room) return -1;
          store<u32>(out + ((<usize>capacity - <usize>nCand) << 2), i);
        }
      }
    }
    // Input events: the character's block, each neuron brought up to date and tested.
    inputEvents += <f64>(blockB - blockA);
    for (let i = blockA; i < blockB; i++) {
      const vi = v + (<usize>i << 2);
      const li = last + (<usize>i << 2);
      const dt = step - load<i32>(li);
      let x = load<f32>(vi);
      if (dt != 0) {
        x = dt < DECAY_STEPS ? x * load<f32>(pow + (<usize>dt << 2)) : 0;
        store<i32>(li, step);
      }
      x += load<f32>(inWeight + (<usize>i << 2));
      if (x >= threshold) {
        x = 0;
        if (nFired + nCand >= room) return -1;
        store<i32>(firedAt + (<usize>nFired << 2), <i32>i);
        nFired++;
      }
      store<f32>(vi, x);
    }
    // Neurons outside the block that recurrent events reached.
    for (let k = 1; k <= nCand; k++) {
      const i = <usize>load<u32>(out + ((<usize>capacity - <usize>k) << 2));
      const vi = v + (i << 2);
      if (load<f32>(vi) >= threshold) {
        store<f32>(vi, 0);
        store<i32>(firedAt + (<usize>nFired << 2), <i32>i);
        nFired++;
      }
    }
    updates += <f64>(blockB - blockA) + <f64>nCand;
    // This step's spikes become the next step's presynaptic list.
    for (let k = 0; k < nFired; k++) {
      store<i32>(prev + (<usize>k << 2), load<i32>(firedAt + (<usize>k << 2)));
    }
    nPrev = nFired;
    written += nFired;
    store<u32>(offsets + (<usize>(c + 1) << 2), base + <u32>written);
  }
  store<i32>(prevCount, nPrev);
  store<f64>(counts, load<f64>(counts) + inputEvents);
  store<f64>(counts, load<f64>(counts, 8) + recEvents, 8);
  store<f64>(counts, load<f64>(counts, 16) + updates, 16);
  store<f64>(counts, load<f64>(counts, 24) + <f64>written, 24);
  return written;
}

/**
 * Brings neuron i up to `step` (lazy decay) and adds w. Returns true the first time it is
 * touched in this step, when it joins the candidates.
 */
// @ts-ignore: decorator
@inline
function touch(
  i: usize,
  w: f32,
  step: i32,
  v: usize,
  last: usize,
  stamp: usize,
  pow: usize,
): bool {
  const vi = v + (i << 2);
  const li = last + (i << 2);
  const dt = step - load<i32>(li);
  let x = load<f32>(vi);
  if (dt != 0) {
    x = dt < DECAY_STEPS ? x * load<f32>(pow + (<usize>dt << 2)) : 0;
    store<i32>(li, step);
  }
  store<f32>(vi, x + w);
  const si = stamp + (i << 2);
  if (load<i32>(si) == step + 1) return false;
  store<i32>(si, step + 1);
  return true;
}

/**
 * The detector layer's share of the logits: for each row r, logits[r] (stride `ldl` floats)
 * is set to the sum of the weight rows w[j] (v floats each) of the neurons j that fired at
 * position positions[r], i.e. spikes[offsets[p] .. offsets[p+1]). The spikes are binary, so
 * the readout adds weights and multiplies nothing. With `add` = 0 the rows are first zeroed.
 */
export function sparseLogits(
  rows: i32,
  positions: usize,
  offsets: usize,
  spikes: usize,
  w: usize,
  v: i32,
  logits: usize,
  ldl: i32,
  add: i32,
): void {
  const rowBytes = <usize>v << 2;
  for (let r = 0; r < rows; r++) {
    const out = logits + ((<usize>r * <usize>ldl) << 2);
    if (add == 0) memory.fill(out, 0, rowBytes);
    const p = <usize>load<i32>(positions + (<usize>r << 2));
    const a = load<u32>(offsets + (p << 2));
    const b = load<u32>(offsets + ((p + 1) << 2));
    for (let e = a; e < b; e++) {
      const row = w + <usize>load<i32>(spikes + (<usize>e << 2)) * rowBytes;
      let j = 0;
      if (ASC_FEATURE_SIMD) {
        for (; j + 4 <= v; j += 4) {
          const o = out + (<usize>j << 2);
          v128.store(o, f32x4.add(v128.load(o), v128.load(row + (<usize>j << 2))));
        }
      }
      for (; j < v; j++) {
        const o = out + (<usize>j << 2);
        store<f32>(o, load<f32>(o) + load<f32>(row + (<usize>j << 2)));
      }
    }
  }
}

/**
 * Adagrad on the detector readout, one row of the minibatch after another (rows that share a
 * neuron update it in turn): for row r, the gradient of its loss with respect to the logits is
 * gT[·][r] / scale (gT as softmaxXent wrote it, ldg floats per logit), and each neuron j that
 * fired at positions[r] gets G_j += g², w_j −= lr · g / (√G_j + ε). Only the columns
 * [j0, j1) of the weight rows are touched: a column's updates never read another column, so
 * threads that take disjoint ranges compute exactly what one thread would.
 */
export function sparseAdagrad(
  rows: i32,
  positions: usize,
  offsets: usize,
  spikes: usize,
  w: usize,
  sq: usize,
  v: i32,
  gT: usize,
  ldg: i32,
  scale: f32,
  lr: f32,
  grad: usize,
  j0: i32,
  j1: i32,
): void {
  const rowBytes = <usize>v << 2;
  const inv: f32 = 1 / scale;
  for (let r = 0; r < rows; r++) {
    const p = <usize>load<i32>(positions + (<usize>r << 2));
    const a = load<u32>(offsets + (p << 2));
    const b = load<u32>(offsets + ((p + 1) << 2));
    if (a == b) continue;
    for (let j = j0; j < j1; j++) {
      const g = load<f32>(gT + ((<usize>j * <usize>ldg + <usize>r) << 2)) * inv;
      store<f32>(grad + (<usize>j << 2), g);
    }
    for (let e = a; e < b; e++) {
      const at = <usize>load<i32>(spikes + (<usize>e << 2)) * rowBytes;
      let j = j0;
      // Lanes round and take square roots as the scalar code does, so both give the same bits.
      if (ASC_FEATURE_SIMD) {
        const lr4 = f32x4.splat(lr);
        const eps4 = f32x4.splat(1e-8);
        for (; j + 4 <= j1; j += 4) {
          const off = at + (<usize>j << 2);
          const g = v128.load(grad + (<usize>j << 2));
          const s = f32x4.add(v128.load(sq + off), f32x4.mul(g, g));
          v128.store(sq + off, s);
          const step = f32x4.div(f32x4.mul(lr4, g), f32x4.add(f32x4.sqrt(s), eps4));
          v128.store(w + off, f32x4.sub(v128.load(w + off), step));
        }
      }
      for (; j < j1; j++) {
        const off = at + (<usize>j << 2);
        const g = load<f32>(grad + (<usize>j << 2));
        const s = load<f32>(sq + off) + g * g;
        store<f32>(sq + off, s);
        store<f32>(w + off, load<f32>(w + off) - (lr * g) / (Mathf.sqrt(s) + 1e-8));
      }
    }
  }
}
