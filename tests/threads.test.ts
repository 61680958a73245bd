// Training on worker threads over shared memory gives the same model, bit for
// bit, as training on one thread.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
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
    assert.equal(b.validation, a.validation);
  });
}

test.run();
