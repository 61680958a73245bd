// Training, determinism, persistence and the metrics, on a short real text.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { metricsFromNats, Score } from '../src/metrics.ts';
import { SpikingLM } from '../src/model.ts';
import { loadModelFile, saveModelFile } from '../src/modelfile-node.ts';
import { modelFromFile, modelToFile } from '../src/persist.ts';
import { Vocabulary } from '../src/vocab.ts';

const dataDir =
  process.env.SNNLM_DATA_DIR ?? new URL('../../shared/data/', import.meta.url).pathname;
const text = readFileSync(join(dataDir, 'tinyshakespeare.txt'), 'utf8').slice(0, 30_000);
const train = text.slice(0, 24_000);
const valid = text.slice(24_000, 27_000);
const heldOut = text.slice(27_000);
const vocab = Vocabulary.fromText(train);
const small = { neurons: 60, epochs: 2, batchSize: 16, seed: 7 };

test('bits per character and perplexity of a hand-computed case', () => {
  const score = new Score();
  score.add(0.5, true); // 1 bit
  score.add(0.25, false); // 2 bits
  score.add(1 / 8, true); // 3 bits

  const m = score.metrics();

  assert.ok(Math.abs(m.bpc - 2) < 1e-12);
  assert.ok(Math.abs(m.perplexity - 4) < 1e-12);
  assert.is(m.accuracy, 2 / 3);
  assert.is(m.chars, 3);
  assert.ok(Math.abs(metricsFromNats(Math.LN2 * 10, 0, 10).bpc - 1) < 1e-12);
});

test('training beats the uniform distribution on held-out text', async () => {
  const model = await SpikingLM.create(small, vocab);

  await model.train(train, valid);
  const m = await model.evaluate(heldOut);

  assert.ok(m.bpc < Math.log2(vocab.size) - 1, `bpc ${m.bpc}`);
  assert.is(m.chars, heldOut.length - 1);
});

test('the same seed gives the same model, bit for bit', async () => {
  const a = await SpikingLM.create(small, vocab);
  const b = await SpikingLM.create(small, vocab);

  await a.train(train, valid);
  await b.train(train, valid);

  assert.equal(a.readoutWeights(), b.readoutWeights());
  assert.equal(a.net.weight, b.net.weight);
  const c = await SpikingLM.create({ ...small, seed: 8 }, vocab);
  assert.not.equal(a.net.weight, c.net.weight);
});

test('save then load gives identical predictions and samples', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'snnlm-'));
  const path = join(dir, 'm.snnlm');
  const model = await SpikingLM.create(small, vocab);
  await model.train(train, valid);
  const { header, sections } = modelToFile(model);

  await saveModelFile(path, header, sections);
  const loaded = await modelFromFile(await loadModelFile(path));

  assert.equal(await loaded.evaluate(heldOut), await model.evaluate(heldOut));
  const opts = { length: 80, seed: 3, temperature: 0.8 };
  assert.is(loaded.generate('First', opts), model.generate('First', opts));
  rmSync(dir, { recursive: true });
});

test('the ridge readout trains and is calibrated on validation', async () => {
  const model = await SpikingLM.create({ ...small, readout: 'ridge', detectors: 0 }, vocab);

  const report = await model.train(train, valid);
  const m = await model.evaluate(heldOut);

  assert.ok(model.beta > 0.1 && model.beta < 200, `beta ${model.beta}`);
  assert.ok(Number.isFinite(report.validation.bpc));
  assert.ok(m.bpc < Math.log2(vocab.size) - 1, `bpc ${m.bpc}`);
});

test('a prompt with characters outside the vocabulary names them', async () => {
  const model = await SpikingLM.create(small, vocab);

  assert.throws(() => model.generate('héllo ✓'), /"é", "✓"/);
  assert.throws(() => model.generate(''), /prompt is empty/);
  assert.throws(() => model.generate('a', { temperature: 0 }), /temperature/);
});

test.run();
