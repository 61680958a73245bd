// The detector layer: growth from a text, the event-driven kernel against the plain
// TypeScript reference, and spikes against the strings the neurons stand for.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkDetectorNet,
  DetectorLayer,
  type DetectorNet,
  growDetectors,
} from '../src/detectors.ts';
import { Heap, loadKernels } from '../src/engine.ts';
import { SnnlmError } from '../src/errors.ts';
import { SpikingLM } from '../src/model.ts';
import { ReferenceDetectors } from '../src/reference.ts';
import { Vocabulary } from '../src/vocab.ts';

const dataDir =
  process.env.SNNLM_DATA_DIR ?? new URL('../../shared/data/', import.meta.url).pathname;
const text = readFileSync(join(dataDir, 'tinyshakespeare.txt'), 'utf8').slice(0, 40_000);

/** The string neuron i stands for, as symbol ids. */
function stringOf(net: DetectorNet, i: number): number[] {
  const s: number[] = [];
  for (let j = i; j >= 0; j = net.parent[j]) s.unshift(net.char[j]);
  return s;
}

function count(ids: ArrayLike<number>, s: number[]): number {
  let c = 0;
  for (let t = s.length - 1; t < ids.length; t++) {
    let match = true;
    for (let k = 0; k < s.length && match; k++) match = ids[t - s.length + 1 + k] === s[k];
    if (match) c++;
  }
  return c;
}

test('growth keeps every string seen minCount times, and only those', () => {
  // a=0, b=1, c=2, d=3: "abcabcabd"
  const ids = Uint16Array.from([0, 1, 2, 0, 1, 2, 0, 1, 3]);

  const net = growDetectors(ids, 4, { maxNeurons: 100, maxOrder: 3, minCount: 2 });

  const got = new Set(Array.from({ length: net.n }, (_, i) => stringOf(net, i).join('')));
  // Single symbols always; ab (3), bc (2), ca (2), abc (2), bca (2), cab (2).
  const want = ['0', '1', '2', '3', '01', '12', '20', '012', '120', '201'];
  assert.equal([...got].sort(), want.sort());
  checkDetectorNet(net);
});

test('a cap keeps the most frequent strings and every prefix of them', () => {
  const vocab = Vocabulary.fromText(text);
  const ids = vocab.encode(text).ids;

  const net = growDetectors(ids, vocab.size, { maxNeurons: 600, maxOrder: 6, minCount: 2 });

  assert.is(net.n, 600);
  checkDetectorNet(net);
  let weakestKept = Number.POSITIVE_INFINITY;
  for (let i = 0; i < net.n; i++) {
    if (net.order[i] > 1) weakestKept = Math.min(weakestKept, count(ids, stringOf(net, i)));
  }
  // Every two-symbol string more frequent than the weakest kept one has a neuron.
  const kept = new Set(Array.from({ length: net.n }, (_, i) => stringOf(net, i).join(',')));
  for (let a = 0; a < vocab.size; a++) {
    for (let b = 0; b < vocab.size; b++) {
      if (count(ids, [a, b]) > weakestKept) assert.ok(kept.has(`${a},${b}`), `${a},${b}`);
    }
  }
});

test('the kernel fires where the text ends in a neuron string, like the reference', async () => {
  const train = text.slice(0, 30_000);
  const held = text.slice(30_000, 34_000);
  const vocab = Vocabulary.fromText(train);
  const net = growDetectors(vocab.encode(train).ids, vocab.size, {
    maxNeurons: 3000,
    maxOrder: 5,
    minCount: 2,
  });
  const ids = vocab.encode(held).ids;
  const heap = new Heap(await loadKernels('simd'));
  const layer = new DetectorLayer(heap, net);
  const idsAt = heap.alloc(ids.byteLength);
  heap.u16(idsAt, ids.length).set(ids);

  const run = layer.spikesOf('held', idsAt, ids.length);

  const offsets = heap.u32(run.offsetsAt, ids.length + 1).slice();
  const spikes = heap.i32(run.spikesAt, offsets[ids.length]).slice();
  const ref = new ReferenceDetectors(net);
  const strings = Array.from({ length: net.n }, (_, i) => stringOf(net, i));
  for (let t = 0; t < ids.length; t++) {
    const kernel = Array.from(spikes.subarray(offsets[t], offsets[t + 1])).sort((a, b) => a - b);
    assert.equal(kernel, ref.step(ids[t]), `step ${t}`);
    const exact = strings
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.length <= t + 1 && s.every((c, k) => ids[t - s.length + 1 + k] === c))
      .map(({ i }) => i);
    assert.equal(kernel, exact, `step ${t}`);
  }
  const c = layer.countsOf('held');
  assert.is(c.inputEvents, ref.inputEvents);
  assert.is(c.recurrentEvents, ref.recurrentEvents);
  assert.is(c.updates, ref.updates);
  assert.is(c.spikes, ref.spikes);
  assert.ok(c.spikes > ids.length, 'longer strings fire too');
});

test('the scalar build gives the same spikes as the SIMD build', async () => {
  const vocab = Vocabulary.fromText(text);
  const ids = vocab.encode(text).ids;
  const net = growDetectors(ids, vocab.size, { maxNeurons: 2000, maxOrder: 4, minCount: 3 });
  const spikesWith = async (build: 'simd' | 'scalar') => {
    const heap = new Heap(await loadKernels(build));
    const layer = new DetectorLayer(heap, net);
    const idsAt = heap.alloc(ids.byteLength);
    heap.u16(idsAt, ids.length).set(ids);
    const run = layer.spikesOf('all', idsAt, ids.length);
    const end = heap.u32(run.offsetsAt + ids.length * 4, 1)[0];
    return heap.i32(run.spikesAt, end).slice();
  };

  assert.equal(await spikesWith('simd'), await spikesWith('scalar'));
});

test('a detector count below the vocabulary size is refused with a hint', () => {
  const ids = Uint16Array.from([0, 1, 2]);

  assert.throws(
    () => growDetectors(ids, 3, { maxNeurons: 2, maxOrder: 3, minCount: 1 }),
    (e: unknown) => e instanceof SnnlmError && /at least the vocabulary size/.test(e.message),
  );
});

test('a file with two neurons for one string is refused', () => {
  const net = growDetectors(Uint16Array.from([0, 1, 0, 1, 0, 1]), 2, {
    maxNeurons: 10,
    maxOrder: 2,
    minCount: 1,
  });
  const twin = { ...net, char: net.char.slice(), parent: net.parent.slice() };
  twin.char[1] = twin.char[0];
  twin.parent[1] = twin.parent[0];
  twin.order[1] = twin.order[0];

  assert.throws(
    () => checkDetectorNet(twin),
    (e: unknown) => e instanceof SnnlmError && /another neuron has/.test(e.message),
  );
});

test('a model with detectors generates from a prompt longer than its detector count', async () => {
  const train = text.slice(0, 6000);
  const vocab = Vocabulary.fromText(train);
  const model = await SpikingLM.create(
    { neurons: 20, epochs: 1, batchSize: 16, detectors: 200, seed: 2 },
    vocab,
  );
  await model.train(train, text.slice(6000, 7000));
  const prompt = train.slice(0, 3000);

  const out = model.generate(prompt, { length: 50, seed: 1 });

  assert.is(out.length, 50);
  // Each call starts the layer from rest, so a second call gives the same text.
  assert.is(model.generate(prompt, { length: 50, seed: 1 }), out);
});

test('a learning rate that makes training diverge ends with a clear error', async () => {
  const train = text.slice(0, 6000);
  const vocab = Vocabulary.fromText(train);
  const model = await SpikingLM.create(
    { neurons: 20, epochs: 1, batchSize: 16, learningRate: 10, detectors: 0, seed: 2 },
    vocab,
  );

  let error: unknown;
  try {
    await model.train(train, text.slice(6000, 7000));
  } catch (e) {
    error = e;
  }

  assert.ok(error instanceof SnnlmError && /diverged/.test(error.message), String(error));
});

test.run();
