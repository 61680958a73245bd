// The reservoir as a dense step through TensorFlow.js's WebAssembly backend
// (XNNPACK), the way a generic tensor library would run it, against the
// engine's event-driven kernels on the same network and text, same run.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { Network } from '../src/network.ts';
import {
  EngineRunner,
  fmt,
  median,
  note,
  pct,
  ratio,
  referenceConfig,
  shakespeare,
  table,
} from './common.ts';

const SIZES = [
  { neurons: 1000, chars: 2000, tfChars: 200 },
  { neurons: 4000, chars: 500, tfChars: 30 },
];
const ROUNDS = 3;

let ready: Promise<void> | undefined;

function startWasm(): Promise<void> {
  ready ??= (async () => {
    // The .wasm binaries ship in the npm package, in its dist folder.
    const main = fileURLToPath(import.meta.resolve('@tensorflow/tfjs-backend-wasm'));
    let dir = dirname(main);
    while (!dir.endsWith('tfjs-backend-wasm') && dirname(dir) !== dir) dir = dirname(dir);
    setWasmPaths(`${join(dir, 'dist')}/`);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not start');
    await tf.ready();
  })();
  return ready;
}

/**
 * The engine's dynamics as dense tensors: each substep v ← leak·v + drive + sWᵀ,
 * spikes where v ≥ θ, reset to 0; spike counts are read back once per character.
 */
class DenseTf {
  readonly net: Network;
  private readonly w: tf.Tensor2D;
  private readonly input: tf.Tensor2D;
  private v: tf.Tensor;
  private s: tf.Tensor;

  constructor(net: Network) {
    this.net = net;
    const n = net.np;
    const dense = new Float32Array(n * n);
    for (let j = 0; j < net.n; j++) {
      for (let e = net.rowStart[j]; e < net.rowStart[j + 1]; e++) {
        dense[j * n + net.target[e]] += net.weight[e];
      }
    }
    this.w = tf.tensor2d(dense, [n, n]);
    this.input = tf.tensor2d(net.input, [net.vocabSize, n]);
    this.v = tf.zeros([1, n]);
    this.s = tf.zeros([1, n]);
  }

  reset(): void {
    this.v.dispose();
    this.s.dispose();
    this.v = tf.zeros([1, this.net.np]);
    this.s = tf.zeros([1, this.net.np]);
  }

  dispose(): void {
    for (const t of [this.w, this.input, this.v, this.s]) t.dispose();
  }

  /** Runs the ids; returns the spikes. */
  run(ids: Uint16Array): number {
    const thr = this.net.threshold[0];
    let spikes = 0;
    for (const id of ids) {
      const counts = tf.tidy(() => {
        const drive = tf.slice(this.input, [id, 0], [1, this.net.np]);
        let v = this.v;
        let s = this.s;
        let counts = tf.zerosLike(v);
        for (let t = 0; t < 10; t++) {
          const x = tf.add(tf.mul(v, 0.9), tf.add(drive, tf.matMul(s, this.w)));
          const fire = tf.greaterEqual(x, thr);
          s = tf.cast(fire, 'float32');
          v = tf.where(fire, tf.zerosLike(x), x);
          counts = tf.add(counts, s);
        }
        tf.keep(v);
        tf.keep(s);
        this.v.dispose();
        this.s.dispose();
        this.v = v;
        this.s = s;
        return tf.sum(counts);
      });
      spikes += counts.dataSync()[0];
      counts.dispose();
    }
    return spikes;
  }
}

export async function tfjsBench(): Promise<void> {
  await startWasm();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  note(
    `TensorFlow.js ${tf.version_core}, backend ${tf.getBackend()} (SIMD ${simd}, threads ` +
      `${threads}): dense [1×n]·[n×n] per substep plus the element-wise LIF update, spike ` +
      'counts read back per character. The engine: event-driven kernels, SIMD build. Both ' +
      "run the same network (the yardsticks' dynamics, threshold 1, leak 0.9, 10 substeps) " +
      `on the same text; median of ${ROUNDS} interleaved rounds.`,
  );
  const rows: string[][] = [];
  for (const { neurons, chars, tfChars } of SIZES) {
    const text = shakespeare().slice(0, chars);
    const engine = await EngineRunner.create(referenceConfig(neurons), text);
    const dense = new DenseTf(engine.net);
    const ids = engine.heap.u16(engine.idsAt, tfChars).slice();
    dense.run(ids.subarray(0, 5));
    const e: number[] = [];
    const d: number[] = [];
    let engineFiring = 0;
    let denseFiring = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const m = engine.measure();
      e.push(m.chars / m.seconds);
      engineFiring = m.firing;
      dense.reset();
      const t0 = performance.now();
      const spikes = dense.run(ids);
      d.push(ids.length / ((performance.now() - t0) / 1000));
      denseFiring = spikes / (ids.length * 10 * engine.net.n);
    }
    const ec = median(e);
    const dc = median(d);
    rows.push([
      fmt(neurons),
      fmt(chars),
      fmt(ec),
      pct(engineFiring, 2),
      fmt(tfChars),
      fmt(dc, 1),
      pct(denseFiring, 2),
      ratio(ec, dc),
    ]);
    dense.dispose();
  }
  table(
    'Engine vs TensorFlow.js wasm, dense reservoir step (chars/s)',
    [
      'neurons',
      'engine chars',
      'engine chars/s',
      'engine firing',
      'tfjs chars',
      'tfjs chars/s',
      'tfjs firing',
      'engine/tfjs',
    ],
    rows,
  );
}
