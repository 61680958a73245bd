// Candidate propagation kernels (bench/assembly/experimental.ts, compiled here
// into a temp folder with the release build's options) against the engine's own
// kernel and the native C yardstick, whole reservoir, same run, interleaved.
// Nothing here is shipped; it tells which kernel change would pay.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as loader from '@assemblyscript/loader';
import { Heap, type Kernels } from '../src/engine.ts';
import type { Network } from '../src/network.ts';
import {
  EngineRunner,
  fmt,
  median,
  note,
  ratio,
  referenceConfig,
  runNative,
  shakespeare,
  table,
  tempDir,
} from './common.ts';

const run = promisify(execFile);

interface ExpKernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  runVariant(
    variant: number,
    n: number,
    substeps: number,
    v: number,
    leak: number,
    thr: number,
    rec: number,
    counts: number,
    fired: number,
    rowStart: number,
    target: number,
    weight: number,
    drive: number,
    ids: number,
    nChars: number,
  ): number;
}

const VARIANTS = [
  { id: 0, name: "engine's propagate (u32 targets, unroll 4)", layout: 'u32' },
  { id: 1, name: 'u16 targets, unroll 4', layout: 'u16' },
  { id: 2, name: 'u16 targets, unroll 8', layout: 'u16' },
  { id: 3, name: 'interleaved (u32 target, f32 weight) pairs', layout: 'pairs' },
  { id: 4, name: 'u16 targets, SIMD address math', layout: 'u16' },
] as const;

const SIZES = [
  { neurons: 1000, chars: 5000, calibrate: 1000 },
  { neurons: 4000, chars: 600, calibrate: 200 },
];
const ROUNDS = 3;

/** Compiles bench/assembly/experimental.ts and instantiates it. */
export async function loadExperimental(): Promise<ExpKernels> {
  const dir = fileURLToPath(new URL('./assembly/', import.meta.url));
  const out = join(tempDir(), 'experimental.wasm');
  const asc = fileURLToPath(new URL('../node_modules/.bin/asc', import.meta.url));
  const options = ['-O3', '--converge', '--noAssert', '--runtime', 'stub', '--enable', 'simd'];
  await run(asc, ['experimental.ts', '-o', out, ...options], { cwd: dir });
  const module = await WebAssembly.compile(readFileSync(out));
  const instance = await loader.instantiate<Record<string, unknown>>(module, {});
  return instance.exports as unknown as ExpKernels;
}

class Layout {
  readonly heap: Heap;
  readonly k: ExpKernels;
  readonly net: Network;
  readonly at: Record<string, number>;
  readonly chars: number;
  readonly substeps = 10;

  constructor(k: ExpKernels, net: Network, ids: Uint16Array, threshold: number) {
    this.k = k;
    this.net = net;
    this.chars = ids.length;
    const heap = new Heap(k as unknown as Kernels);
    this.heap = heap;
    const np = net.np;
    const thr = net.threshold.slice();
    thr.fill(threshold, 0, net.n);
    const pairs = new Uint32Array(2 * net.target.length);
    const wBits = new Uint32Array(net.weight.buffer, net.weight.byteOffset, net.weight.length);
    for (let e = 0; e < net.target.length; e++) {
      pairs[2 * e] = net.target[e];
      pairs[2 * e + 1] = wBits[e];
    }
    this.at = {
      v: heap.alloc(np * 4),
      rec: heap.alloc(np * 4),
      counts: heap.alloc(np * 4),
      fired: heap.alloc(np * 4),
      leak: heap.put(net.leak),
      thr: heap.put(thr),
      rowStart: heap.put(net.rowStart),
      u32: heap.put(Uint32Array.from(net.target)),
      u16: heap.put(Uint16Array.from(net.target)),
      pairs: heap.put(pairs),
      weight: heap.put(net.weight),
      drive: heap.put(net.input),
      ids: heap.put(ids),
    };
  }

  /** Runs all characters from rest with one variant; returns seconds and events. */
  measure(variant: (typeof VARIANTS)[number]): { seconds: number; events: number } {
    const { at, heap, net } = this;
    heap.f32(at.v, net.np).fill(0);
    heap.f32(at.rec, net.np).fill(0);
    const t0 = performance.now();
    const events = this.k.runVariant(
      variant.id,
      net.np,
      this.substeps,
      at.v,
      at.leak,
      at.thr,
      at.rec,
      at.counts,
      at.fired,
      at.rowStart,
      at[variant.layout],
      at.weight,
      at.drive,
      at.ids,
      this.chars,
    );
    return { seconds: (performance.now() - t0) / 1000, events };
  }
}

export async function experimentalBench(): Promise<void> {
  const k = await loadExperimental();
  note(
    'Candidate kernels from bench/assembly/experimental.ts (same lifStep; only the ' +
      "scatter-add differs), the yardsticks' dynamics with the threshold set so the " +
      'engine fires as often as native C does (see the reservoir bench), median of ' +
      `${ROUNDS} interleaved rounds. Every variant must produce the same synaptic events ` +
      '(bit-identical dynamics: same additions in the same order).',
  );
  for (const { neurons, chars, calibrate } of SIZES) {
    const text = shakespeare().slice(0, chars);
    // The variants run lifStep, the standard order; the threshold is matched in that order.
    const config = referenceConfig(neurons, { dynamics: 'standard' });
    const runner = await EngineRunner.create(config, text);
    const first = await runNative(neurons, chars);
    const threshold = runner.matchFiring(first.firing, calibrate);
    const layout = new Layout(k, runner.net, runner.heap.u16(runner.idsAt, chars), threshold);
    const times = VARIANTS.map(() => [] as number[]);
    const events = VARIANTS.map(() => 0);
    const natives = [first.charsPerSecond];
    for (const v of VARIANTS) layout.measure(v);
    for (let r = 0; r < ROUNDS; r++) {
      VARIANTS.forEach((v, i) => {
        const m = layout.measure(v);
        times[i].push(chars / m.seconds);
        events[i] = m.events;
      });
      if (r > 0) natives.push((await runNative(neurons, chars)).charsPerSecond);
    }
    const native = median(natives);
    const base = median(times[0]);
    const rows = VARIANTS.map((v, i) => {
      const cps = median(times[i]);
      return [
        v.name,
        fmt(cps),
        fmt(1e9 / ((events[i] / chars) * cps), 2),
        ratio(cps, base),
        ratio(cps, native),
        events[i] === events[0] ? 'yes' : `NO (${events[i]} vs ${events[0]})`,
      ];
    });
    rows.push(['native C', fmt(native), '', ratio(native, base), '1.00×', '']);
    table(
      `Propagate variants, ${fmt(neurons)} neurons, threshold ${threshold.toFixed(3)}, ` +
        `${fmt(chars)} chars`,
      ['kernel', 'chars/s', 'ns/event', 'vs engine', 'vs native', 'same events'],
      rows,
    );
  }
}
