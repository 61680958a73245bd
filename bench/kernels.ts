// Each kernel through tinybench: the SIMD build, the scalar build and plain
// TypeScript (src/reference.ts for the reservoir; the loops below for the
// readout's matmul and Adam), on the shapes the model uses.
import { Bench } from 'tinybench';
import type { Build, Heap, Kernels } from '../src/engine.ts';
import type { Network } from '../src/network.ts';
import { ReferenceReservoir } from '../src/reference.ts';
import { Rng } from '../src/rng.ts';
import {
  EngineRunner,
  fmt,
  note,
  pct,
  ratio,
  referenceConfig,
  shakespeare,
  table,
} from './common.ts';

const NEURONS = 1000;
/** The readout's forward product in training: [batch][width] · [vocab][width]ᵀ. */
const MM = { m: 128, n: 66, k: 2 * NEURONS + 4 };
const ADAM = MM.n * MM.k;
const TIME_MS = 700;

interface Side {
  lifStep: () => void;
  lifStepPrototype: () => void;
  propagate: () => void;
  matmulNT: () => void;
  adamStep: () => void;
  runChar: () => void;
}

function randoms(rng: Rng, count: number, scale = 1): Float32Array {
  const a = new Float32Array(count);
  for (let i = 0; i < count; i++) a[i] = rng.gaussian() * scale;
  return a;
}

/** A fired list and inputs of one realistic substep, from a few characters of text. */
async function sample(): Promise<{ net: Network; fired: Int32Array; ids: Uint16Array }> {
  const text = shakespeare().slice(0, 200);
  const runner = await EngineRunner.create(referenceConfig(NEURONS), text);
  const ref = new ReferenceReservoir(runner.net, 10);
  const ids = runner.heap.u16(runner.idsAt, runner.chars).slice();
  let fired: number[] = [];
  for (const id of ids) {
    for (let s = 0; s < 10; s++) fired = ref.substep(id);
  }
  return { net: runner.net, fired: Int32Array.from(fired), ids };
}

function data(seed: number) {
  const rng = new Rng(seed);
  return {
    a: randoms(rng, MM.m * MM.k),
    b: randoms(rng, MM.n * MM.k, 0.05),
    w: randoms(rng, ADAM, 0.05),
    g: randoms(rng, ADAM, 0.01),
  };
}

async function wasmSide(
  build: Build,
  net: Network,
  fired: Int32Array,
  ids: Uint16Array,
): Promise<Side> {
  const text = shakespeare().slice(0, 200);
  const runner = await EngineRunner.create(referenceConfig(NEURONS), text, build);
  const heap: Heap = runner.heap;
  const k: Kernels = heap.k;
  const f = runner.fields();
  const firedAt = heap.put(fired);
  const d = data(7);
  const aAt = heap.put(d.a);
  const bAt = heap.put(d.b);
  const cAt = heap.alloc(MM.m * MM.n * 4);
  const wAt = heap.put(d.w);
  const gAt = heap.put(d.g);
  const mAt = heap.alloc(ADAM * 4);
  const sAt = heap.alloc(ADAM * 4);
  const drive = f.drive + ids[0] * f.n * 4;
  const propagate = net.target instanceof Uint16Array ? k.propagateU16 : k.propagate;
  let c = 0;
  if (net.np !== f.n) throw new Error('network mismatch');
  return {
    lifStep: () => {
      k.lifStep(f.n, f.v, f.leak, drive, f.rec, f.thr, f.counts, f.fired);
    },
    lifStepPrototype: () => {
      k.lifStepPrototype(f.n, f.v, f.leak, drive, f.rec, f.thr, f.counts, f.fired);
    },
    propagate: () => {
      propagate(fired.length, firedAt, f.rowStart, f.target, f.weight, f.rec);
    },
    matmulNT: () => k.matmulNT(aAt, bAt, cAt, MM.m, MM.n, MM.k, false),
    adamStep: () => k.adamStep(ADAM, wAt, gAt, mAt, sAt, 1e-3, 0.9, 0.999, 1e-8, 1e-4, 10, 1000),
    runChar: () => {
      runner.reservoir.run(runner.state, runner.idsAt + 2 * (c++ % ids.length), 1);
    },
  };
}

function typescriptSide(net: Network, fired: Int32Array, ids: Uint16Array): Side {
  const np = net.np;
  const v = new Float32Array(np);
  const rec = new Float32Array(np);
  const counts = new Float32Array(np);
  const firedOut = new Int32Array(np);
  const ref = new ReferenceReservoir(net, 10);
  const d = data(7);
  const out = new Float32Array(MM.m * MM.n);
  const m = new Float32Array(ADAM);
  const s = new Float32Array(ADAM);
  let c = 0;
  const id = ids[0];
  return {
    lifStep: () => {
      let k = 0;
      for (let i = 0; i < np; i++) {
        let x = net.leak[i] * v[i] + (net.input[id * np + i] + rec[i]);
        rec[i] = 0;
        if (x >= net.threshold[i]) {
          x = 0;
          counts[i] += 1;
          firedOut[k++] = i;
        }
        v[i] = x;
      }
    },
    lifStepPrototype: () => {
      let k = 0;
      for (let i = 0; i < np; i++) {
        const old = v[i];
        let x = net.leak[i] * old + (net.input[id * np + i] + rec[i]);
        rec[i] = 0;
        if (old > net.threshold[i]) {
          x = 0;
          counts[i] += 1;
        }
        if (x > net.threshold[i]) firedOut[k++] = i;
        v[i] = x;
      }
    },
    propagate: () => {
      for (let f = 0; f < fired.length; f++) {
        const j = fired[f];
        for (let e = net.rowStart[j]; e < net.rowStart[j + 1]; e++) {
          rec[net.target[e]] += net.weight[e];
        }
      }
    },
    matmulNT: () => {
      const { m: rows, n: cols, k } = MM;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          let sum = 0;
          for (let t = 0; t < k; t++) sum += d.a[i * k + t] * d.b[j * k + t];
          out[i * cols + j] = sum;
        }
      }
    },
    adamStep: () => {
      const lr = 1e-3;
      for (let i = 0; i < ADAM; i++) {
        const g = d.g[i];
        m[i] = 0.9 * m[i] + 0.1 * g;
        s[i] = 0.999 * s[i] + 0.001 * g * g;
        d.w[i] -= lr * ((m[i] * 10) / (Math.sqrt(s[i] * 1000) + 1e-8) + 1e-4 * d.w[i]);
      }
    },
    runChar: () => {
      ref.char(ids[c++ % ids.length], 'spikes');
    },
  };
}

const KERNELS: { key: keyof Side; what: (fired: number, events: number) => string }[] = [
  { key: 'lifStep', what: () => `one substep, ${fmt(NEURONS)} neurons` },
  { key: 'lifStepPrototype', what: () => `one substep, ${fmt(NEURONS)} neurons` },
  {
    key: 'propagate',
    what: (fired, events) => `${fired} fired neurons, ${fmt(events)} synaptic events`,
  },
  { key: 'matmulNT', what: () => `[${MM.m}×${MM.k}]·[${MM.n}×${MM.k}]ᵀ` },
  { key: 'adamStep', what: () => `${fmt(ADAM)} weights` },
  {
    key: 'runChar',
    what: () => `runChars: one character, 10 substeps (prototype), ${fmt(NEURONS)} neurons`,
  },
];

export async function kernelsBench(): Promise<void> {
  const { net, fired, ids } = await sample();
  let events = 0;
  for (const j of fired) events += net.rowStart[j + 1] - net.rowStart[j];
  const sides: Record<string, Side> = {
    simd: await wasmSide('simd', net, fired, ids),
    scalar: await wasmSide('scalar', net, fired, ids),
    typescript: typescriptSide(net, fired, ids),
  };
  note(
    `tinybench, ${TIME_MS} ms per task, ops/s from the median latency. Reservoir: the ` +
      `yardsticks' dynamics (reservoir bench), ${fmt(NEURONS)} neurons, 10% connectivity; ` +
      `the propagate input is a real substep's spikes (${pct(fired.length / NEURONS)} firing). ` +
      "Readout shapes: the default model's training minibatch.",
  );
  const rows: string[][] = [];
  for (const { key, what } of KERNELS) {
    const bench = new Bench({ time: TIME_MS, warmupTime: 100 });
    for (const [name, side] of Object.entries(sides)) bench.add(name, side[key]);
    await bench.run();
    const ops: Record<string, number> = {};
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${key}/${task.name}: ${r.state}`);
      ops[task.name] = 1000 / r.latency.p50;
    }
    rows.push([
      key,
      what(fired.length, events),
      fmt(ops.simd),
      fmt(ops.scalar),
      fmt(ops.typescript),
      ratio(ops.simd, ops.scalar),
      ratio(ops.simd, ops.typescript),
      ratio(ops.scalar, ops.typescript),
    ]);
  }
  table(
    'Kernels: WebAssembly SIMD vs scalar vs plain TypeScript (ops/s)',
    [
      'kernel',
      'work per op',
      'SIMD ops/s',
      'scalar ops/s',
      'TypeScript ops/s',
      'SIMD/scalar',
      'SIMD/TS',
      'scalar/TS',
    ],
    rows,
  );
}
