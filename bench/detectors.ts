// The detector layer at the default size, grown from the Tiny Shakespeare training split:
// the event-driven kernel (SIMD and scalar builds) against the plain TypeScript reference,
// which updates every neuron at every character; and its add-only readout (the weight rows of
// the neurons that fired) against a dense readout over all of them, the cost it avoids.
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { DEFAULT_CONFIG } from '../src/config.ts';
import { loadCorpus } from '../src/corpus.ts';
import { DetectorLayer, type DetectorNet, growDetectors } from '../src/detectors.ts';
import { type Build, Heap, loadKernels } from '../src/engine.ts';
import { ReferenceDetectors } from '../src/reference.ts';
import { Rng } from '../src/rng.ts';
import { Vocabulary } from '../src/vocab.ts';
import { DATA_DIR, fmt, note, ratio, table } from './common.ts';

const CHARS = 20_000;
const REFERENCE_CHARS = 300;
const TIME_MS = 1000;

/** Mean nanoseconds of one of `per` items that a task handles per iteration. */
function nsPer(bench: Bench, name: string, per: number): number {
  const task = bench.tasks.find((t) => t.name === name);
  const ms = task?.result && 'latency' in task.result ? task.result.latency.mean : Number.NaN;
  return (ms * 1e6) / per;
}

async function kernelRun(build: Build, net: DetectorNet, ids: Uint16Array) {
  const heap = new Heap(await loadKernels(build));
  const layer = new DetectorLayer(heap, net);
  const idsAt = heap.alloc(ids.byteLength);
  heap.u16(idsAt, ids.length).set(ids);
  return { heap, layer, run: () => layer.spikesOf('bench', idsAt, ids.length) };
}

export async function detectorsBench(): Promise<void> {
  const corpus = await loadCorpus('tinyshakespeare', { dataDir: DATA_DIR, download: false });
  const vocab = Vocabulary.fromText(corpus.train);
  const v = vocab.size;
  const net = growDetectors(vocab.encode(corpus.train).ids, v, {
    maxNeurons: DEFAULT_CONFIG.detectors,
    maxOrder: DEFAULT_CONFIG.detectorOrder,
    minCount: DEFAULT_CONFIG.detectorMinCount,
  });
  const ids = vocab.encode(corpus.test).ids.slice(0, CHARS);
  const simd = await kernelRun('simd', net, ids);
  const scalar = await kernelRun('scalar', net, ids);
  const refIds = ids.slice(0, REFERENCE_CHARS);

  const bench = new Bench({ time: TIME_MS, warmupTime: 200 });
  bench.add('kernel, SIMD build', () => void simd.run());
  bench.add('kernel, scalar build', () => void scalar.run());
  bench.add('plain TypeScript, every neuron every step', () => {
    const ref = new ReferenceDetectors(net);
    for (const id of refIds) ref.step(id);
  });
  await bench.run();
  const tSimd = nsPer(bench, 'kernel, SIMD build', CHARS);
  const tScalar = nsPer(bench, 'kernel, scalar build', CHARS);
  const tRef = nsPer(bench, 'plain TypeScript, every neuron every step', REFERENCE_CHARS);
  simd.run();
  const c = simd.layer.countsOf('bench');
  table(
    `Detector layer, ${net.n.toLocaleString('en')} neurons (strings of up to ` +
      `${DEFAULT_CONFIG.detectorOrder} characters), Tiny Shakespeare test text`,
    ['run', 'ns / character', 'characters / s', 'vs plain TypeScript'],
    [
      ['kernel, SIMD build', fmt(tSimd), fmt(1e9 / tSimd), ratio(tRef, tSimd)],
      ['kernel, scalar build', fmt(tScalar), fmt(1e9 / tScalar), ratio(tRef, tScalar)],
      ['plain TypeScript (src/reference.ts)', fmt(tRef), fmt(1e9 / tRef), '1.00×'],
    ],
  );
  note(
    `Per character: ${fmt(c.inputEvents / c.chars)} input events, ` +
      `${fmt(c.recurrentEvents / c.chars, 1)} recurrent events, ${fmt(c.updates / c.chars)} ` +
      `membrane updates, ${fmt(c.spikes / c.chars, 2)} spikes, out of ` +
      `${net.n.toLocaleString('en')} neurons.`,
  );

  // The readout: rows of the neurons that fired, against a dense product over all neurons.
  const { heap } = simd;
  const rng = new Rng(1);
  const wAt = heap.alloc(net.n * v * 4);
  const w = heap.f32(wAt, net.n * v);
  for (let i = 0; i < w.length; i++) w[i] = rng.gaussian() * 0.01;
  const run = simd.run();
  const rows = 256;
  const positionsAt = heap.alloc(rows * 4);
  heap.i32(positionsAt, rows).set(Int32Array.from({ length: rows }, (_, r) => r));
  const logitsAt = heap.alloc(rows * v * 4);
  // Dense: one feature row (0/1 per neuron) times the weights, as matmulNT lays them out.
  const k = net.n - (net.n % 4);
  const featAt = heap.alloc(k * 4);
  const wTAt = heap.alloc(k * v * 4);
  const outAt = heap.alloc(v * 4);
  const readout = new Bench({ time: TIME_MS, warmupTime: 200 });
  readout.add('add-only, rows of the neurons that fired', () =>
    heap.k.sparseLogits(rows, positionsAt, run.offsetsAt, run.spikesAt, wAt, v, logitsAt, v, 0),
  );
  readout.add('dense, every neuron', () => {
    for (let r = 0; r < 4; r++) heap.k.matmulNT(featAt, wTAt, outAt, 1, v, k, false);
  });
  await readout.run();
  const sparse = nsPer(readout, 'add-only, rows of the neurons that fired', rows);
  const dense = nsPer(readout, 'dense, every neuron', 4);
  table(
    'Detector readout per character',
    ['readout', 'ns / character', 'arithmetic', 'dense / this'],
    [
      [
        'add-only (kernel sparseLogits)',
        fmt(sparse, 1),
        `${v} adds per spike`,
        ratio(dense, sparse),
      ],
      [
        'dense matmulNT over every neuron',
        fmt(dense),
        `${(k * v).toLocaleString('en')} multiply-adds`,
        '1.00×',
      ],
    ],
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await detectorsBench();
}
