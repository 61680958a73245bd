// The WebAssembly engine: loading the kernels, a bump allocator over their
// linear memory, and the reservoir as the kernels see it. Views into memory are
// made fresh on every access, because memory.grow detaches old ones.
import * as loader from '@assemblyscript/loader';
import type { Dynamics, FeatureKind } from './config.ts';
import type { Network } from './network.ts';
import { ternaryKernelTargets } from './ternary.ts';

/** The exported kernels (see assembly/). Addresses are byte offsets. */
export interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  simd(): number;
  lifStep(
    n: number,
    v: number,
    leak: number,
    drive: number,
    rec: number,
    thr: number,
    counts: number,
    fired: number,
  ): number;
  /** Prototype order (assembly/lif.ts): integrate, reset, then list the next spikes. */
  lifStepPrototype(
    n: number,
    v: number,
    leak: number,
    drive: number,
    rec: number,
    thr: number,
    counts: number,
    fired: number,
  ): number;
  lifStepPrototypeTernary(
    n: number,
    v: number,
    leak: number,
    drive: number,
    rec: number,
    thr: number,
    counts: number,
    fired: number,
    gamma: number,
  ): number;
  /** Lists the neurons with v > θ; returns how many. */
  detectSpikes(n: number, v: number, thr: number, fired: number): number;
  /** u32 targets. */
  propagate(
    nFired: number,
    fired: number,
    rowStart: number,
    target: number,
    weight: number,
    rec: number,
  ): number;
  /** u16 targets. */
  propagateU16(
    nFired: number,
    fired: number,
    rowStart: number,
    target: number,
    weight: number,
    rec: number,
  ): number;
  runChars(desc: number, ids: number, nChars: number, featOut: number, featStride: number): void;
  lifStepTernary(
    n: number,
    v: number,
    leak: number,
    drive: number,
    rec: number,
    thr: number,
    counts: number,
    fired: number,
    gamma: number,
  ): number;
  /** Returns the synaptic events; adds the +1 events to the u64 at `adds`. */
  propagateTernaryU16(
    nFired: number,
    fired: number,
    bounds: number,
    target: number,
    rec: number,
    adds: number,
  ): number;
  propagateTernaryU32(
    nFired: number,
    fired: number,
    bounds: number,
    target: number,
    rec: number,
    adds: number,
  ): number;
  quantizeFeaturesInt8(
    feat: number,
    stride: number,
    q: number,
    scale: number,
    rows: number,
    k: number,
  ): void;
  ternaryLogits(
    q: number,
    scale: number,
    w: number,
    gamma: number,
    bias: number,
    out: number,
    rows: number,
    v: number,
    k: number,
  ): void;
  matmulNT(a: number, b: number, c: number, m: number, n: number, k: number, acc: boolean): void;
  dot(x: number, y: number, k: number): number;
  softmaxXent(
    a: number,
    rows: number,
    v: number,
    targets: number,
    targetStride: number,
    gT: number,
    ldg: number,
    scale: number,
    nll: number,
    hit: number,
  ): void;
  standardize(
    x: number,
    rows: number,
    stride: number,
    k: number,
    mean: number,
    scale: number,
  ): void;
  transpose(src: number, dst: number, m: number, n: number, ld: number): void;
  adamStep(
    count: number,
    w: number,
    g: number,
    m: number,
    s: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    wd: number,
    c1: number,
    c2: number,
  ): void;
  /** The detector layer (assembly/detectors.ts): runs characters, returns spikes or −1. */
  detectorRun(
    v: number,
    last: number,
    stamp: number,
    inStart: number,
    inWeight: number,
    rowStart: number,
    target: number,
    weight: number,
    pow: number,
    threshold: number,
    prev: number,
    prevCount: number,
    ids: number,
    nChars: number,
    step0: number,
    out: number,
    offsets: number,
    capacity: number,
    counts: number,
  ): number;
  sparseLogits(
    rows: number,
    positions: number,
    offsets: number,
    spikes: number,
    w: number,
    v: number,
    logits: number,
    ldl: number,
    add: number,
  ): void;
  sparseAdagrad(
    rows: number,
    positions: number,
    offsets: number,
    spikes: number,
    w: number,
    sq: number,
    v: number,
    gT: number,
    ldg: number,
    scale: number,
    lr: number,
    grad: number,
    j0: number,
    j1: number,
  ): void;
}

/**
 * Which compiled build to run: 128-bit SIMD (default), scalar, or SIMD over
 * shared memory that worker threads can run kernels on too (src/threads.ts).
 */
export type Build = 'simd' | 'scalar' | 'threads';

const WASM_FILES: Record<Build, string> = {
  simd: 'snnlm.wasm',
  scalar: 'snnlm-scalar.wasm',
  threads: 'snnlm-threads.wasm',
};

/** Pages (64 KiB) the shared-memory build may grow to; asconfig.json's maximumMemory. */
export const SHARED_MAX_PAGES = 32768;

const modules = new Map<Build, Promise<WebAssembly.Module>>();

async function wasmBytes(build: Build): Promise<ArrayBuffer | Uint8Array> {
  const file = WASM_FILES[build];
  const url = new URL(`../build/${file}`, import.meta.url);
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(url);
    } catch {
      throw new Error(`missing ${url.pathname}: run 'npm run build' to compile the kernels`);
    }
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** Instantiates a fresh copy of the kernels, with its own memory. */
/** The compiled module of a build (compiled once, then shared). */
export function kernelModule(build: Build): Promise<WebAssembly.Module> {
  let module = modules.get(build);
  if (!module) {
    module = wasmBytes(build).then((bytes) => WebAssembly.compile(bytes as BufferSource));
    modules.set(build, module);
  }
  return module;
}

/**
 * Instantiates a fresh copy of the kernels with its own memory; the 'threads'
 * build takes a shared memory (made here if not given) that workers can share.
 */
export async function loadKernels(build: Build = 'simd', memory?: WebAssembly.Memory) {
  const module = await kernelModule(build);
  const imports: Record<string, Record<string, unknown>> = {};
  if (build === 'threads') {
    imports.env = {
      memory:
        memory ?? new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true }),
    };
  }
  const instance = await loader.instantiate<Record<string, unknown>>(module, imports);
  const kernels = instance.exports as unknown as Kernels;
  if (build === 'threads') Object.assign(kernels, { memory: imports.env.memory });
  return kernels;
}

/** A bump allocator over the kernels' memory; 16-byte aligned, never frees. */
export class Heap {
  readonly k: Kernels;
  private top: number;

  constructor(kernels: Kernels) {
    this.k = kernels;
    this.top = align(kernels.heapBase(), 16);
  }

  /** Reserves bytes (zeroed, 16-byte aligned) and returns their address. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = align(at + bytes, 16);
    const have = this.k.memory.buffer.byteLength;
    if (this.top > have) {
      const pages = Math.ceil((this.top - have) / 65536);
      if (this.k.memory.grow(pages) < 0) {
        throw new Error(`out of WebAssembly memory growing to ${this.top} bytes`);
      }
    }
    new Uint8Array(this.k.memory.buffer, at, bytes).fill(0);
    return at;
  }

  /** Bytes in use. */
  get used(): number {
    return this.top;
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, at, length);
  }

  u32(at: number, length: number): Uint32Array {
    return new Uint32Array(this.k.memory.buffer, at, length);
  }

  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, at, length);
  }

  u16(at: number, length: number): Uint16Array {
    return new Uint16Array(this.k.memory.buffer, at, length);
  }

  /** Copies a typed array into fresh memory and returns its address. */
  put(data: Float32Array | Uint32Array | Int32Array | Uint16Array): number {
    const at = this.alloc(Math.max(data.byteLength, 4));
    new Uint8Array(this.k.memory.buffer, at, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return at;
  }
}

function align(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

// Offsets of the descriptor fields, mirroring assembly/reservoir.ts.
const DESC_BYTES = 144;
const COUNTERS_AT = 56;
const MODE_AT = 88;
const DYNAMICS_AT = 128;
// Synapse modes: f32 weights with u32 / u16 targets, or ternary lists with u16 / u32 targets
// (assembly/ternary.ts).
const MODE_FLOAT = 0;
const MODE_TERNARY_U16 = 1;
const MODE_TERNARY_U32 = 2;
const MODE_FLOAT_U16 = 3;
const DYNAMICS_CODE: Record<Dynamics, number> = { standard: 0, prototype: 1 };
const FEATURE_BITS: Record<FeatureKind, number> = { spikes: 1, membrane: 2, hybrid: 3 };

/** Counters a reservoir state has accumulated since it was made or reset. */
export interface ReservoirCounts {
  spikes: number;
  events: number;
  updates: number;
  chars: number;
  /** Ternary synaptic events that added 1 (integer additions); absent for baselines. */
  adds?: number;
  /** Ternary synaptic events that subtracted 1 (integer subtractions). */
  subs?: number;
  /** Synaptic events that added an f32 weight (float synapses). */
  floatAdds?: number;
}

/**
 * Anything that turns characters into per-character feature vectors inside the
 * kernels' memory: the LIF reservoir here, or a baseline (echo state network,
 * random LSTM). States are descriptor addresses; run() writes featureSize floats
 * per character at featAt, featStride floats apart.
 */
export interface FeatureSource {
  readonly featureSize: number;
  newState(): number;
  reset(desc: number): void;
  run(desc: number, idsAt: number, nChars: number, featAt?: number, featStride?: number): void;
  counts(desc: number): ReservoirCounts;
}

/**
 * A network placed in the kernels' memory. Weights are shared; each state
 * (stream) has its own potentials, recurrent input and counters.
 */
export class Reservoir implements FeatureSource {
  readonly heap: Heap;
  readonly net: Network;
  readonly substeps: number;
  readonly features: FeatureKind;
  /** The order of a substep's operations (config.ts). */
  readonly dynamics: Dynamics;
  /** Floats of reservoir features per character (before the bias block). */
  readonly featureSize: number;
  /** Addresses of the weight arrays in kernel memory (experiments perturb them in place). */
  readonly ptr: {
    leak: number;
    thr: number;
    input: number;
    rowStart: number;
    target: number;
    weight: number;
    mode: number;
    bounds: number;
    tTarget: number;
  };

  /** `dynamics` defaults to the network's own (set from the configuration it was built for). */
  constructor(
    heap: Heap,
    net: Network,
    substeps: number,
    features: FeatureKind,
    dynamics: Dynamics = net.dynamics ?? 'standard',
  ) {
    this.heap = heap;
    this.net = net;
    this.substeps = substeps;
    this.features = features;
    this.dynamics = dynamics;
    this.featureSize = (features === 'hybrid' ? 2 : 1) * net.np;
    // A ternary network's f32 synapses stay on the TypeScript side (for the reference);
    // the kernels get only the ±1 lists.
    const t = net.ternary;
    const slots = t ? ternaryKernelTargets(t, net.np) : undefined;
    this.ptr = {
      leak: heap.put(net.leak),
      thr: heap.put(net.threshold),
      input: heap.put(net.input),
      rowStart: t ? 0 : heap.put(net.rowStart),
      target: t ? 0 : heap.put(net.target),
      weight: t ? 0 : heap.put(net.weight),
      mode: slots
        ? slots instanceof Uint16Array
          ? MODE_TERNARY_U16
          : MODE_TERNARY_U32
        : net.target instanceof Uint16Array
          ? MODE_FLOAT_U16
          : MODE_FLOAT,
      bounds: t ? heap.put(t.bounds) : 0,
      tTarget: slots ? heap.put(slots) : 0,
    };
  }

  /** A new state at rest (all potentials 0); returns its descriptor address. */
  newState(): number {
    const { heap, net } = this;
    const bytes = net.np * 4;
    // Ternary: i32 counts of +1 events, then of −1 events (assembly/ternary.ts).
    const recBytes = net.ternary ? 2 * bytes : bytes;
    const desc = heap.alloc(DESC_BYTES);
    const fields = [
      net.np,
      this.substeps,
      heap.alloc(bytes), // v
      this.ptr.leak,
      this.ptr.thr,
      heap.alloc(recBytes), // rec
      heap.alloc(bytes), // counts
      heap.alloc(bytes), // fired
      this.ptr.rowStart,
      this.ptr.target,
      this.ptr.weight,
      this.ptr.input,
      FEATURE_BITS[this.features],
    ];
    heap.i32(desc, fields.length).set(fields);
    heap.i32(desc + MODE_AT, 3).set([this.ptr.mode, this.ptr.bounds, this.ptr.tTarget]);
    heap.f32(desc + MODE_AT + 12, 1)[0] = this.net.ternary?.gamma ?? 0;
    heap.i32(desc + DYNAMICS_AT, 1)[0] = DYNAMICS_CODE[this.dynamics];
    return desc;
  }

  /** Puts a state back at rest and clears its counters. */
  reset(desc: number): void {
    const bytes = this.net.np;
    const d = this.heap.u32(desc, DESC_BYTES / 4);
    this.heap.f32(d[2], bytes).fill(0);
    this.heap.f32(d[5], this.net.ternary ? 2 * bytes : bytes).fill(0);
    this.heap.f32(d[6], bytes).fill(0);
    this.heap.u32(desc + COUNTERS_AT, 8).fill(0);
    this.heap.u32(desc + 104, 6).fill(0);
  }

  /** Membrane potentials of a state (a live view). */
  potentials(desc: number): Float32Array {
    return this.heap.f32(this.heap.u32(desc, 3)[2], this.net.np);
  }

  /** Spike counts of the last character of a state (a live view). */
  spikeCounts(desc: number): Float32Array {
    return this.heap.f32(this.heap.u32(desc, 7)[6], this.net.np);
  }

  /** Runs characters whose u16 ids are at idsAt; writes features at featAt, stride in floats. */
  run(desc: number, idsAt: number, nChars: number, featAt = 0, featStride = 0): void {
    this.heap.k.runChars(desc, idsAt, nChars, featAt, featStride);
  }

  /** The counters of a state. */
  counts(desc: number): ReservoirCounts {
    const c = new BigUint64Array(this.heap.k.memory.buffer, desc + COUNTERS_AT, 9);
    return {
      spikes: Number(c[0]),
      events: Number(c[1]),
      updates: Number(c[2]),
      chars: Number(c[3]),
      // c[4] and c[5] hold mode, bounds, tTarget and gamma.
      adds: Number(c[6]),
      subs: Number(c[7]),
      floatAdds: Number(c[8]),
    };
  }
}
