// Helpers shared by the benchmarks: where the corpus is, Markdown tables, the
// reference reservoir's construction, and the two yardstick programs of
// shared/bench-refs (compiled and run beside the engine in the same run).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ModelConfig, resolveConfig } from '../src/config.ts';
import { type Build, Heap, loadKernels, Reservoir } from '../src/engine.ts';
import { buildNetwork, type Network } from '../src/network.ts';
import { Vocabulary } from '../src/vocab.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** The shared data folder: $SNNLM_DATA_DIR (relative to the project) or ../shared/data. */
export const DATA_DIR = process.env.SNNLM_DATA_DIR
  ? resolve(root, process.env.SNNLM_DATA_DIR)
  : resolve(root, '../shared/data');
/** The yardstick programs: $SNNLM_BENCH_REFS or ../shared/bench-refs. */
export const REFS_DIR = process.env.SNNLM_BENCH_REFS
  ? resolve(root, process.env.SNNLM_BENCH_REFS)
  : resolve(root, '../shared/bench-refs');
export const SHAKESPEARE = join(DATA_DIR, 'tinyshakespeare.txt');

let corpus: string | undefined;
/** Tiny Shakespeare as text (read once). */
export function shakespeare(): string {
  corpus ??= readFileSync(SHAKESPEARE, 'utf8');
  return corpus;
}

/** Prints a Markdown table with a title line. */
export function table(title: string, head: string[], rows: (string | number)[][]): void {
  const align = head.map((_, i) => (i === 0 ? '---' : '---:'));
  const lines = [
    `### ${title}`,
    '',
    `| ${head.join(' | ')} |`,
    `|${align.join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Free text under a table. */
export function note(text: string): void {
  process.stdout.write(`${text}\n\n`);
}

/** A number with thousands separators and a fixed count of decimals. */
export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return String(x);
  return x.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A ratio as "1.23×". */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

/** A fraction as a percentage. */
export function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Leak 0.9 per substep as a time constant: exp(−1/τ) = 0.9. */
export const TAU_09 = -1 / Math.log(0.9);

/**
 * The configuration whose network has the yardsticks' dynamics: leak 0.9,
 * threshold 1, input current N(0, 0.5²) per (symbol, neuron) (numpy: w_in·0.5·2·0.5
 * ... native: gauss·0.5·2·0.5), recurrent weights N(0, 0.03²) (0.1 scale times the
 * 0.3 gain), 10% connectivity, 10 substeps, and their order of a substep ('prototype':
 * spike where v > 1 first, then propagate, integrate and reset).
 */
export function referenceConfig(neurons: number, extra: Partial<ModelConfig> = {}): ModelConfig {
  return resolveConfig({
    neurons,
    connectivity: 0.1,
    recurrentScale: 0.03,
    inputScale: 0.5,
    inputConnectivity: 1,
    tauMin: TAU_09,
    tauMax: TAU_09,
    threshold: 1,
    substeps: 10,
    dynamics: 'prototype',
    features: 'spikes',
    ...extra,
  });
}

/** One measured pass of a reservoir over some characters. */
export interface ReservoirRun {
  chars: number;
  seconds: number;
  /** Spikes per real neuron per substep. */
  firing: number;
  spikes: number;
  events: number;
}

/** The engine's reservoir over a text, ready to be timed repeatedly. */
export class EngineRunner {
  readonly net: Network;
  readonly reservoir: Reservoir;
  readonly heap: Heap;
  readonly idsAt: number;
  readonly chars: number;
  readonly featAt: number;
  readonly state: number;

  private constructor(heap: Heap, net: Network, config: ModelConfig, ids: Uint16Array) {
    this.heap = heap;
    this.net = net;
    this.reservoir = new Reservoir(heap, net, config.substeps, config.features);
    this.state = this.reservoir.newState();
    this.idsAt = heap.put(ids);
    this.chars = ids.length;
    this.featAt = heap.alloc(256 * this.reservoir.featureSize * 4);
  }

  /** A runner for `config` over `text` (the vocabulary is the text's own). */
  static async create(config: ModelConfig, text: string, build: Build = 'simd') {
    const vocab = Vocabulary.fromText(text);
    const net = buildNetwork(config, vocab.size);
    const heap = new Heap(await loadKernels(build));
    return new EngineRunner(heap, net, config, vocab.encode(text).ids);
  }

  /** The addresses of the state's descriptor fields (see assembly/reservoir.ts). */
  fields() {
    const d = this.heap.u32(this.state, 12);
    return {
      n: d[0],
      substeps: d[1],
      v: d[2],
      leak: d[3],
      thr: d[4],
      rec: d[5],
      counts: d[6],
      fired: d[7],
      rowStart: d[8],
      target: d[9],
      weight: d[10],
      drive: d[11],
    };
  }

  /** Sets every real neuron's threshold (the network's copy in kernel memory). */
  setThreshold(threshold: number): void {
    this.heap.f32(this.fields().thr, this.net.n).fill(threshold);
  }

  /**
   * Finds the threshold at which the firing rate over `chars` characters is
   * `rate` (bisection; firing falls as the threshold rises), and keeps it set.
   */
  matchFiring(rate: number, chars: number, lo = 0.5, hi = 3, steps = 10): number {
    for (let i = 0; i < steps; i++) {
      const mid = (lo + hi) / 2;
      this.setThreshold(mid);
      if (this.measure(chars).firing > rate) lo = mid;
      else hi = mid;
    }
    const threshold = (lo + hi) / 2;
    this.setThreshold(threshold);
    return threshold;
  }

  /**
   * Runs `chars` characters (from the start, state at rest) and times them. With
   * features, they are written per chunk of 256 characters, as the model does.
   */
  measure(chars = this.chars, features = false): ReservoirRun {
    const { reservoir, state } = this;
    reservoir.reset(state);
    const width = reservoir.featureSize;
    const t0 = performance.now();
    if (features) {
      for (let at = 0; at < chars; at += 256) {
        const rows = Math.min(256, chars - at);
        reservoir.run(state, this.idsAt + at * 2, rows, this.featAt, width);
      }
    } else {
      reservoir.run(state, this.idsAt, chars);
    }
    const seconds = (performance.now() - t0) / 1000;
    const c = reservoir.counts(state);
    const firing = c.spikes / (c.chars * reservoir.substeps * this.net.n);
    return { chars, seconds, firing, spikes: c.spikes, events: c.events };
  }
}

/** A yardstick's printed result. */
export interface RefRun {
  chars: number;
  seconds: number;
  charsPerSecond: number;
  firing: number;
  eventsPerSecond: number;
}

function parseRef(out: string): RefRun {
  const field = (name: string) => {
    const m = new RegExp(`${name}=([0-9.e+-]+)`).exec(out);
    if (!m) throw new Error(`no ${name}= in the reference's output: ${out}`);
    return Number(m[1]);
  };
  return {
    chars: field('chars'),
    seconds: field('seconds'),
    charsPerSecond: field('chars_per_s'),
    firing: field('firing'),
    eventsPerSecond: /synaptic_events_per_s/.test(out)
      ? field('synaptic_events_per_s')
      : Number.NaN,
  };
}

let nativeBinary: Promise<string> | undefined;

/** A temp folder removed when the process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'snnlm-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Compiles native_reference.c once per process (cc -O3 -march=native) into a temp folder. */
export function compileNative(): Promise<string> {
  nativeBinary ??= (async () => {
    const out = join(tempDir(), 'native_reference');
    const cc = process.env.CC ?? 'cc';
    const src = join(REFS_DIR, 'native_reference.c');
    await run(cc, ['-O3', '-march=native', '-o', out, src, '-lm']);
    return out;
  })();
  return nativeBinary;
}

/** Runs the native yardstick on Tiny Shakespeare. */
export async function runNative(neurons: number, chars: number, substeps = 10): Promise<RefRun> {
  const bin = await compileNative();
  const { stdout } = await run(bin, [
    SHAKESPEARE,
    String(neurons),
    String(chars),
    String(substeps),
  ]);
  return parseRef(stdout);
}

/**
 * Runs the numpy yardstick on Tiny Shakespeare; `oneThread` limits its BLAS (OpenBLAS, MKL or
 * any OpenMP build) to one thread, as the engine's reservoir runs.
 */
export async function runNumpy(
  neurons: number,
  chars: number,
  substeps = 10,
  oneThread = false,
): Promise<RefRun> {
  const py = process.env.PYTHON ?? 'python3';
  const script = join(REFS_DIR, 'numpy_reference.py');
  const args = [script, SHAKESPEARE, String(neurons), String(chars), String(substeps)];
  const one = { OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
  const { stdout } = await run(py, args, { env: { ...process.env, ...(oneThread ? one : {}) } });
  return parseRef(stdout);
}

/** True when a command can be started (for optional yardsticks). */
export async function available(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}
