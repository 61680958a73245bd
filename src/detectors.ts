// The detector layer: LIF neurons that each fire for one string of recent characters.
//
// The random reservoir (src/network.ts) holds a blurred, decaying trace of the text; what a
// linear readout needs most for the next character is the exact identity of the last few.
// A coincidence of two events does that with spikes: neuron i, for the string s·c, gets an
// input synapse from character c and a recurrent synapse from the neuron of s, each too
// weak to fire it alone (A < θ) but together above threshold (2A ≥ θ). So neuron i fires at
// the character after the one where s's neuron fired exactly when that character is c, that
// is when the text ends in s·c; neurons of single characters fire on their input alone. By
// induction each fires exactly when the text ends in its string, and at most `order`
// neurons fire per character.
//
// Which strings get a neuron is the one thing read off the training text: every string of
// at most `detectorOrder` characters seen at least `detectorMinCount` times, the most frequent
// `detectors` of them (a string's prefix is always at least as frequent, so the set is closed
// under prefixes). Weights, leak and threshold are fixed constants below; the readout over
// the spikes (one weight row per neuron, added when it fires) is trained with the reservoir's.
//
// The dynamics run in assembly/detectors.ts, event-driven: one time step per character,
// membranes decay lazily between events, and only neurons that an event reached are tested.
import type { Heap } from './engine.ts';
import { SnnlmError } from './errors.ts';
import { type Call, type Parallel, runParts, split } from './parallel.ts';

/** Firing threshold. */
export const DETECTOR_THRESHOLD = 1;
/** Weight of a single character's input synapse onto its own neuron: fires it alone. */
export const DETECTOR_UNIGRAM_WEIGHT = 1;
/** Weight of each of the two synapses of a longer string's neuron: 2A ≥ θ > A/(1 − λ). */
export const DETECTOR_WEIGHT = 0.55;
/** Membrane time constant in characters; λ = e^(−1/τ) ≈ 0.135. */
export const DETECTOR_TAU = 0.5;
/** Steps of the decay table (assembly/detectors.ts DECAY_STEPS). */
const DECAY_STEPS = 64;
/** An offset no run writes: left in place, it shows that a run stopped short. */
const UNWRITTEN = 0xffffffff;
/** Characters per kernel call of spikesOf. */
const RUN_PIECE = 16_384;

/** Which strings have a neuron: neuron i stands for string(parent[i]) + char[i]. */
export interface DetectorNet {
  n: number;
  vocabSize: number;
  /** Last character of each neuron's string. */
  char: Uint16Array;
  /** Neuron of the string without its last character; −1 for single characters. */
  parent: Int32Array;
  /** Length of each neuron's string. */
  order: Uint8Array;
}

/** How a detector layer is grown. */
export interface GrowSettings {
  /** Most neurons (single characters included). */
  maxNeurons: number;
  /** Longest string. */
  maxOrder: number;
  /** Fewest occurrences in the training text of a string longer than one character. */
  minCount: number;
}

/**
 * Grows the layer from training ids: one neuron per symbol of the vocabulary, then, order by
 * order, one per string whose prefix has a neuron and that occurs at least minCount times; if
 * there are more than maxNeurons, the most frequent are kept (ties: shorter, then first seen).
 */
export function growDetectors(
  ids: Uint16Array,
  vocabSize: number,
  settings: GrowSettings,
): DetectorNet {
  const { maxNeurons, maxOrder, minCount } = settings;
  if (maxNeurons < vocabSize) {
    throw new SnnlmError(
      `detectors must be 0 or at least the vocabulary size (${vocabSize}), got ${maxNeurons}`,
      `set detectors=0 to leave the layer out, or detectors=${Math.max(vocabSize, 50000)}`,
    );
  }
  // Candidates of every order: parent (candidate index), char, order, count.
  const parent: number[] = [];
  const char: number[] = [];
  const order: number[] = [];
  const count: number[] = [];
  for (let c = 0; c < vocabSize; c++) {
    parent.push(-1);
    char.push(c);
    order.push(1);
    count.push(0);
  }
  // cur[t]: the candidate of the string of the current order ending at t, or −1.
  let cur = new Int32Array(ids.length);
  for (let t = 0; t < ids.length; t++) {
    cur[t] = ids[t];
    count[ids[t]]++;
  }
  for (let k = 2; k <= maxOrder; k++) {
    const seen = new Map<number, number>();
    for (let t = 1; t < ids.length; t++) {
      const p = cur[t - 1];
      if (p < 0) continue;
      const key = p * vocabSize + ids[t];
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const index = new Map<number, number>();
    for (const [key, c] of seen) {
      if (c < minCount) continue;
      index.set(key, parent.length);
      parent.push(Math.floor(key / vocabSize));
      char.push(key % vocabSize);
      order.push(k);
      count.push(c);
    }
    if (index.size === 0) break;
    const next = new Int32Array(ids.length).fill(-1);
    for (let t = 1; t < ids.length; t++) {
      const p = cur[t - 1];
      if (p >= 0) next[t] = index.get(p * vocabSize + ids[t]) ?? -1;
    }
    cur = next;
  }
  // Keep the most frequent; a prefix is at least as frequent as its extensions and shorter,
  // so it sorts first and the kept set stays closed under prefixes.
  const all = parent.map((_, i) => i);
  let kept = all;
  if (all.length > maxNeurons) {
    const single = all.slice(0, vocabSize);
    const rest = all
      .slice(vocabSize)
      .sort((x, y) => count[y] - count[x] || order[x] - order[y] || x - y)
      .slice(0, maxNeurons - vocabSize)
      .sort((x, y) => x - y);
    kept = [...single, ...rest];
  }
  // Numbered by the character each listens to, so that a character's input reaches one
  // contiguous block (assembly/detectors.ts); within it by length, then as first seen.
  kept.sort((x, y) => char[x] - char[y] || order[x] - order[y] || x - y);
  const renumber = new Int32Array(parent.length).fill(-1);
  kept.forEach((old, i) => {
    renumber[old] = i;
  });
  const n = kept.length;
  const net: DetectorNet = {
    n,
    vocabSize,
    char: new Uint16Array(n),
    parent: new Int32Array(n),
    order: new Uint8Array(n),
  };
  kept.forEach((old, i) => {
    net.char[i] = char[old];
    net.parent[i] = parent[old] < 0 ? -1 : renumber[parent[old]];
    net.order[i] = order[old];
  });
  return net;
}

/** Checks a layer read from a file: blocks by character, parents one character shorter. */
export function checkDetectorNet(net: DetectorNet): void {
  const bad = (why: string) =>
    new SnnlmError(`the model's detector layer is inconsistent: ${why}`, 'retrain the model');
  if (net.char.length !== net.n || net.parent.length !== net.n || net.order.length !== net.n) {
    throw bad('array lengths differ from the neuron count');
  }
  const strings = new Set<number>();
  for (let i = 0; i < net.n; i++) {
    if (net.char[i] >= net.vocabSize) throw bad(`neuron ${i} listens to an unknown symbol`);
    // Two neurons for one string would fire together without limit on the spike buffers.
    const key = (net.parent[i] + 1) * net.vocabSize + net.char[i];
    if (strings.has(key)) throw bad(`neuron ${i} stands for a string another neuron has`);
    strings.add(key);
    if (i > 0 && net.char[i] < net.char[i - 1]) throw bad('neurons are not grouped by character');
    const p = net.parent[i];
    if (p === -1 ? net.order[i] !== 1 : p < 0 || p >= net.n || net.order[p] + 1 !== net.order[i]) {
      throw bad(`neuron ${i} has a wrong parent`);
    }
  }
}

/**
 * The synapses as the kernel reads them: character c's input reaches neurons
 * inStart[c] .. inStart[c+1) (one input synapse each, weight inWeight[i]); recurrent synapses
 * in compressed rows by presynaptic neuron (u32 targets, f32 weights).
 */
export interface DetectorSynapses {
  inStart: Uint32Array;
  inWeight: Float32Array;
  rowStart: Uint32Array;
  target: Uint32Array;
  weight: Float32Array;
}

export function detectorSynapses(net: DetectorNet): DetectorSynapses {
  const { n, vocabSize } = net;
  const inStart = new Uint32Array(vocabSize + 1);
  for (let i = 0; i < n; i++) inStart[net.char[i] + 1]++;
  for (let c = 0; c < vocabSize; c++) inStart[c + 1] += inStart[c];
  const inWeight = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    inWeight[i] = net.order[i] === 1 ? DETECTOR_UNIGRAM_WEIGHT : DETECTOR_WEIGHT;
  }
  const rowStart = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) if (net.parent[i] >= 0) rowStart[net.parent[i] + 1]++;
  for (let j = 0; j < n; j++) rowStart[j + 1] += rowStart[j];
  const at = rowStart.slice(0, n);
  const target = new Uint32Array(rowStart[n]);
  const weight = new Float32Array(rowStart[n]).fill(DETECTOR_WEIGHT);
  for (let i = 0; i < n; i++) if (net.parent[i] >= 0) target[at[net.parent[i]]++] = i;
  return { inStart, inWeight, rowStart, target, weight };
}

/** Counts of a state since its reset. */
export interface DetectorCounts {
  inputEvents: number;
  recurrentEvents: number;
  /** Membrane updates: neurons reached by at least one event, per step. */
  updates: number;
  spikes: number;
  chars: number;
}

/**
 * A run of the layer over a text: the spikes after character p are
 * spikes[offsets[p] .. offsets[p+1]).
 */
export interface DetectorSpikes {
  offsetsAt: number;
  spikesAt: number;
  chars: number;
}

interface State {
  v: number;
  last: number;
  stamp: number;
  prev: number;
  prevCount: number;
  counts: number;
  step: number;
}

/** The layer in kernel memory, with states that run it. */
export class DetectorLayer {
  readonly heap: Heap;
  readonly net: DetectorNet;
  readonly maxOrder: number;
  private readonly ptr: Record<keyof DetectorSynapses | 'pow', number>;
  private readonly states = new Map<string, State>();
  private readonly runs = new Map<string, { states: State[]; chars: number }>();
  private readonly buffers = new Map<string, { at: number; bytes: number }>();

  constructor(heap: Heap, net: DetectorNet) {
    this.heap = heap;
    this.net = net;
    this.maxOrder = net.order.reduce((a, b) => Math.max(a, b), 1);
    const s = detectorSynapses(net);
    const lambda = Math.exp(-1 / DETECTOR_TAU);
    const pow = new Float32Array(DECAY_STEPS).map((_, k) => lambda ** k);
    this.ptr = {
      inStart: heap.put(s.inStart),
      inWeight: heap.put(s.inWeight),
      rowStart: heap.put(s.rowStart),
      target: heap.put(s.target),
      weight: heap.put(s.weight),
      pow: heap.put(pow),
    };
  }

  /** A named state at rest. */
  state(name: string): State {
    let s = this.states.get(name);
    if (!s) {
      const n = Math.max(this.net.n, 1);
      s = {
        v: this.heap.alloc(n * 4),
        last: this.heap.alloc(n * 4),
        stamp: this.heap.alloc(n * 4),
        prev: this.heap.alloc(n * 4),
        prevCount: this.heap.alloc(4),
        counts: this.heap.alloc(4 * 8),
        step: 0,
      };
      this.states.set(name, s);
    }
    return s;
  }

  reset(s: State): void {
    const n = Math.max(this.net.n, 1);
    const { heap } = this;
    heap.f32(s.v, n).fill(0);
    heap.i32(s.last, n).fill(0);
    heap.i32(s.stamp, n).fill(0);
    heap.i32(s.prevCount, 1)[0] = 0;
    new Float64Array(heap.k.memory.buffer, s.counts, 4).fill(0);
    s.step = 0;
  }

  counts(s: State): DetectorCounts {
    const c = new Float64Array(this.heap.k.memory.buffer, s.counts, 4);
    return {
      inputEvents: c[0],
      recurrentEvents: c[1],
      updates: c[2],
      spikes: c[3],
      chars: s.step,
    };
  }

  /**
   * Runs `nChars` ids at idsAt; the spikes go to outAt (i32) with offsets at offsetsAt
   * (offsets[0] must hold where they start). `capacity` is the room at outAt, in entries,
   * which must leave space for the neurons one step touches.
   */
  run(
    s: State,
    idsAt: number,
    nChars: number,
    outAt: number,
    offsetsAt: number,
    capacity: number,
  ): number {
    const [, ...args] = this.runCall(
      s,
      idsAt,
      nChars,
      s.step,
      outAt,
      offsetsAt,
      capacity,
      s.counts,
    );
    const written = (this.heap.k.detectorRun as (...a: number[]) => number)(...args);
    if (written < 0) throw new Error('detector layer: spike buffer too small');
    s.step += nChars;
    return written;
  }

  /**
   * The kernel call that runs `nChars` ids at idsAt from step `step0` of state s: spikes are
   * appended at outAt after offsets[0], offsets[1..nChars] are set, events are added to the
   * f64 counts at `counts`.
   */
  private runCall(
    s: State,
    idsAt: number,
    nChars: number,
    step0: number,
    outAt: number,
    offsetsAt: number,
    capacity: number,
    counts: number,
  ): Call {
    const p = this.ptr;
    return [
      'detectorRun',
      s.v,
      s.last,
      s.stamp,
      p.inStart,
      p.inWeight,
      p.rowStart,
      p.target,
      p.weight,
      p.pow,
      DETECTOR_THRESHOLD,
      s.prev,
      s.prevCount,
      idsAt,
      nChars,
      step0,
      outAt,
      offsetsAt,
      capacity,
      counts,
    ];
  }

  /**
   * The spikes of a whole text (ids already in kernel memory at idsAt) from a layer at rest,
   * in reusable buffers named `name`. With a pool the text is cut into one shard per thread;
   * a neuron's spike depends only on the last maxOrder characters, so a shard that first
   * runs the maxOrder − 1 characters before its start (their spikes and counts dropped)
   * gives exactly the spikes and counts of one run.
   */
  spikesOf(name: string, idsAt: number, chars: number, pool?: Parallel): DetectorSpikes {
    const { heap, maxOrder } = this;
    const shards = split(chars, Math.max(1, Math.min(pool?.threads ?? 1, chars >> 12)));
    const room = this.net.n + 16;
    let total = 0;
    const regions = shards.map(([a, b]) => {
      const at = total;
      const capacity = (b - a) * maxOrder + room;
      total += capacity;
      return { at, capacity };
    });
    const offsetsAt = this.buffer(`${name}:offsets`, (chars + 1) * 4);
    const spikesAt = this.buffer(`${name}:spikes`, total * 4);
    // Shard k's own offsets, from 0, at entry a + k (one more entry than its characters).
    const shardOffsetsAt = this.buffer(`${name}:shard-offsets`, (chars + shards.length) * 4);
    const warmCountsAt = this.buffer(`${name}:warm-counts`, shards.length * 32);
    const states = shards.map((_, k) => this.state(`run:${name}:${k}`));
    this.runs.set(name, { states, chars });
    const runs = shards.map(([a, b], k) => {
      const s = states[k];
      this.reset(s);
      const warm = Math.min(a, maxOrder - 1);
      const shardOffsets = shardOffsetsAt + (a + k) * 4;
      const own = heap.u32(shardOffsets, b - a + 1);
      own[0] = 0;
      if (b > a) own[b - a] = UNWRITTEN; // stays so only if the kernel ran out of room
      s.step = warm + b - a;
      const out = spikesAt + regions[k].at * 4;
      const { capacity } = regions[k];
      const call = (from: number, n: number, step0: number, offsets: number, counts: number) =>
        this.runCall(s, idsAt + from * 2, n, step0, out, offsets, capacity, counts);
      const pieces: Call[][] = [];
      for (let i = 0; i < b - a; i += RUN_PIECE) {
        const n = Math.min(RUN_PIECE, b - a - i);
        pieces.push([call(a + i, n, warm + i, shardOffsets + i * 4, s.counts)]);
      }
      if (warm > 0) {
        pieces[0].unshift(call(a - warm, warm, 0, shardOffsets, warmCountsAt + k * 32));
      }
      return pieces;
    });
    // Pieces rather than one long call per shard: V8 runs a WebAssembly function in its
    // baseline code until the call returns, and only the next call gets the optimised code.
    const rounds = runs.reduce((most, calls) => Math.max(most, calls.length), 0);
    for (let r = 0; r < rounds; r++) {
      runParts(
        heap.k,
        pool,
        runs.map((pieces) => pieces[r] ?? []),
      );
    }

    // Close the gaps between the shards' regions and make the offsets global.
    const offsets = heap.u32(offsetsAt, chars + 1);
    const spikes = heap.i32(spikesAt, total);
    offsets[0] = 0;
    let done = 0;
    shards.forEach(([a, b], k) => {
      const own = heap.u32(shardOffsetsAt + (a + k) * 4, b - a + 1);
      const count = own[b - a];
      if (count === UNWRITTEN) throw new Error('detector layer: spike buffer too small');
      spikes.copyWithin(done, regions[k].at, regions[k].at + count);
      for (let i = 1; i <= b - a; i++) offsets[a + i] = done + own[i];
      done += count;
    });
    return { offsetsAt, spikesAt, chars };
  }

  /** Counts of the last spikesOf(name). */
  countsOf(name: string): DetectorCounts {
    const run = this.runs.get(name);
    const sum: DetectorCounts = {
      inputEvents: 0,
      recurrentEvents: 0,
      updates: 0,
      spikes: 0,
      chars: run?.chars ?? 0,
    };
    for (const s of run?.states ?? []) {
      const c = this.counts(s);
      sum.inputEvents += c.inputEvents;
      sum.recurrentEvents += c.recurrentEvents;
      sum.updates += c.updates;
      sum.spikes += c.spikes;
    }
    return sum;
  }

  private buffer(name: string, bytes: number): number {
    const have = this.buffers.get(name);
    if (have && have.bytes >= bytes) return have.at;
    const at = this.heap.alloc(bytes);
    this.buffers.set(name, { at, bytes });
    return at;
  }
}
