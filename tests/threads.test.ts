// Training on worker threads over shared memory gives the same model, bit for
// bit, as training on one thread.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DetectorLayer, growDetectors } from '../src/detectors.ts';
import { Heap, loadKernels } from '../src/engine.ts';
import { SpikingLM } from '../src/model.ts';
import { ThreadPool } from '../src/threads.ts';
import { Vocabulary } from '../src/vocab.ts';

const dataDir =
  process.env.SNNLM_DATA_DIR ?? new URL('../../shared/data/', import.meta.url).pathname;
const text = readFileSync(join(dataDir, 'tinyshakespeare.txt'), 'utf8').slice(0, 40_000);
const train = text.slice(0, 32_000);
const valid = text.slice(32_000);
const vocab = Vocabulary.fromText(train);
const config = { neurons: 90, epochs: 2, batchSize: 20, seed: 11 };

for (const threads of [2, 3]) {
  test(`${threads} threads train the same readout as one`, async () => {
    const one = await SpikingLM.create(config, vocab, 'simd');
    const many = await SpikingLM.create(config, vocab, 'threads');
    const pool = await ThreadPool.start(many.heap.k, threads);

    const a = await one.train(train, valid);
    const b = await many.train(train, valid, { pool });
    await pool.close();

    assert.equal(many.readoutWeights(), one.readoutWeights());
    assert.ok(one.detectorWeights().length > 0, 'the detector layer is trained too');
    assert.equal(many.detectorWeights(), one.detectorWeights());
    assert.equal(b.validation, a.validation);
  });
}

test('a detector run in shards on 3 threads has the spikes and counts of one run', async () => {
  const ids = vocab.encode(text).ids;
  // Every string of the text has a neuron, so at each shard boundary all orders fire.
  const net = growDetectors(ids, vocab.size, { maxNeurons: 1e6, maxOrder: 6, minCount: 1 });
  const layer = new DetectorLayer(new Heap(await loadKernels('simd')), net);
  const shared = new DetectorLayer(new Heap(await loadKernels('threads')), net);
  const pool = await ThreadPool.start(shared.heap.k, 3);
  const spikesOf = async (l: DetectorLayer, withPool: boolean) => {
    const idsAt = l.heap.alloc(ids.byteLength);
    l.heap.u16(idsAt, ids.length).set(ids);
    const run = l.spikesOf('text', idsAt, ids.length, withPool ? pool : undefined);
    const offsets = l.heap.u32(run.offsetsAt, ids.length + 1).slice();
    return { offsets, spikes: l.heap.i32(run.spikesAt, offsets[ids.length]).slice() };
  };

  const one = await spikesOf(layer, false);
  const three = await spikesOf(shared, true);
  await pool.close();

  assert.equal(three.offsets, one.offsets);
  assert.equal(three.spikes, one.spikes);
  assert.equal(shared.countsOf('text'), layer.countsOf('text'));
  assert.ok(layer.countsOf('text').spikes > ids.length);
});

test.run();
