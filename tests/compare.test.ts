// snnlm compare: the comparison table, its baselines' kernels against plain TypeScript, and
// the sparse hashed n-gram readout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BASELINE_SPECTRAL_RADIUS,
  type BaselineKind,
  createBaselineModel,
  spectralRadius,
} from '../src/baselines.ts';
import type { Build } from '../src/engine.ts';
import { HashedNgramReadout } from '../src/hashed.ts';
import {
  initWeights,
  lossAndGradients,
  trainLstm,
  useBackend,
  weightList,
} from '../src/tfjs-lstm.ts';
import { Vocabulary } from '../src/vocab.ts';
import { scratch } from './experiments-helpers.ts';

const { dir, corpus, snnlm } = scratch('compare');

interface Row {
  model: string;
  trainChars: { mean: number } | null;
  runs: number;
  bpc: { mean: number; sd: number };
  accuracy: { mean: number };
  ops: Record<string, number> | null;
  trainableParams: number;
}

test('compare --quick writes the table with sane n-gram rows', () => {
  const out = join(dir, 'compare');

  const r = snnlm('compare', '--corpus', corpus, '--quick', '--seeds', '1,2', '--out', out);

  assert.is(r.code, 0, r.err);
  const md = readFileSync(join(out, 'compare.md'), 'utf8');
  assert.match(md, /Command: `snnlm compare --corpus \S+ --quick --seeds 1,2 --out \S+`/);
  for (const name of [
    'spiking hybrid',
    'ESN',
    'random LSTM',
    'trained LSTM',
    'Kneser-Ney order 8',
  ]) {
    assert.match(md, new RegExp(`\\| ${name} \\| \\d\\.\\d{3}`), name);
  }
  const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
  const rows = json.rows as Row[];
  const row = (model: string) => rows.find((x) => x.model === model) as Row;
  assert.is(row('ESN').runs, 2);
  // Only the '+ detectors' rows have the detector layer: one readout row per detector neuron.
  assert.ok(
    row('spiking hybrid + detectors').trainableParams > row('spiking hybrid').trainableParams,
  );
  assert.ok(row('ESN + detectors').trainableParams > row('ESN').trainableParams);
  assert.is(row('spiking hybrid').trainableParams, row('random LSTM').trainableParams);
  assert.ok(Number.isFinite(row('spiking hybrid').bpc.sd));
  const kn = [1, 2, 3, 4, 5, 6, 7, 8].map((o) => row(`Kneser-Ney order ${o}`).bpc.mean);
  // Unigram below log₂ V, each of the first orders better than the last, none wild after.
  assert.ok(kn[0] < Math.log2(json.vocabSize) && kn[0] > 3, `order 1: ${kn[0]}`);
  assert.ok(kn[1] < kn[0] - 0.5 && kn[2] < kn[1] && kn[3] < kn[2], kn.join(', '));
  for (const b of kn.slice(3)) assert.ok(b > 2 && b < kn[2] + 0.2, kn.join(', '));
  assert.ok(row('modified Kneser-Ney order 6').bpc.mean < kn[5] + 0.2);
  // Every recurrent model is scored on the same characters and counts its operations.
  for (const model of ['spiking hybrid', 'ESN', 'random LSTM', 'trained LSTM']) {
    const ops = row(model).ops as Record<string, number>;
    assert.ok(ops.recurrentAdd > 0 && ops.readoutMul > 0, model);
  }
  // The trained LSTM: one run per seed, each trained (validation below its initial weights')
  // within a budget of at least the --quick floor, scored on the same test characters.
  const lstm = row('trained LSTM');
  assert.is(lstm.runs, 2);
  assert.ok(Number.isFinite(lstm.bpc.mean) && Number.isFinite(lstm.bpc.sd), String(lstm.bpc));
  assert.ok((lstm.trainChars?.mean ?? 0) > 0);
  const spiking = json.runs.find((r: { model: string }) => r.model === 'spiking hybrid');
  for (const r of json.runs.filter((x: { model: string }) => x.model === 'trained LSTM')) {
    assert.ok(
      r.validationBpc < r.initialValidationBpc,
      `${r.initialValidationBpc} → ${r.validationBpc}`,
    );
    assert.ok(
      r.budgetSeconds >= 2 && r.trainSeconds <= r.budgetSeconds + 1,
      String(r.budgetSeconds),
    );
    assert.is(r.test.chars, spiking.test.chars);
    assert.is(r.backend, 'wasm');
  }
  assert.match(md, /Trained LSTM \(src\/tfjs-lstm.ts; TensorFlow.js, wasm backend/);
  assert.not.match(md, /Not in the table/);
});

test('compare --no-trained-lstm leaves the row out', () => {
  const out = join(dir, 'compare-no-lstm');

  const r = snnlm(
    'compare',
    '--corpus',
    corpus,
    '--quick',
    '--seeds',
    '1',
    '--no-trained-lstm',
    '--out',
    out,
  );

  assert.is(r.code, 0, r.err);
  const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
  assert.ok(!json.rows.some((x: Row) => x.model === 'trained LSTM'));
  assert.is(json.trainedLstm, null);
});

// The trained LSTM's hand-written backpropagation through time against central differences
// of its loss, on a model small enough to perturb every weight.
test('the trained LSTM gradients match finite differences', async () => {
  await useBackend('wasm');
  const w = initWeights(3, 5, 7);
  const x = [0, 1, 2, 3, 4, 0, 1, 2];
  const y = [1, 2, 3, 4, 0, 1, 2, 3];
  const h0 = tf.tensor2d([0.3, -0.2, 0.1, 0.0, 0.4, -0.5], [2, 3]);
  const c0 = tf.tensor2d([-0.1, 0.2, 0.5, 0.3, -0.4, 0.0], [2, 3]);
  const loss = () => tf.tidy(() => lossAndGradients(w, x, y, 4, h0, c0).loss.dataSync()[0]);

  const grads = tf.tidy(() =>
    lossAndGradients(w, x, y, 4, h0, c0).grads.map((g) => Array.from(g.dataSync())),
  );

  let worst = 0;
  weightList(w).forEach((wk, n) => {
    const base = wk.dataSync().slice();
    const at = (j: number, d: number) => {
      const p = base.slice();
      p[j] += d;
      wk.assign(tf.tensor(p, wk.shape));
      return loss();
    };
    const got = grads[n];
    for (let j = 0; j < base.length; j++) {
      const eps = 1e-2;
      worst = Math.max(worst, Math.abs((at(j, eps) - at(j, -eps)) / (2 * eps) - got[j]));
    }
    wk.assign(tf.tensor(base, wk.shape));
  });
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
  tf.dispose([h0, c0, ...weightList(w)]);
});

test('the trained LSTM learns, and the same seed trains it to the same numbers', async () => {
  const text = readFileSync(corpus, 'utf8');
  const vocab = Vocabulary.fromText(text.slice(0, 3000));
  const ids = (from: number, to: number) => vocab.encode(text.slice(from, to)).ids;
  const run = (seed: number) =>
    trainLstm(ids(0, 3000), ids(3000, 4000), ids(4000, 5000), vocab.size, {
      hidden: 16,
      batch: 8,
      bptt: 16,
      maxUpdates: 40,
      checkEvery: 20,
      validationStreams: 4,
      seed,
    });

  const a = await run(3);
  const b = await run(3);
  const c = await run(4);

  assert.ok(
    a.validationBpc < a.initialValidationBpc - 0.5,
    `${a.initialValidationBpc} → ${a.validationBpc}`,
  );
  assert.equal(
    a.checks.map((k) => k.validationBpc),
    b.checks.map((k) => k.validationBpc),
  );
  assert.is(a.test.bpc, b.test.bpc);
  assert.is(a.test.chars, 999);
  assert.is.not(a.test.bpc, c.test.bpc);
  assert.is(a.trainChars, 40 * 8 * 16);
});

test('compare refuses an unknown --ngram-text', () => {
  const r = snnlm('compare', '--corpus', corpus, '--quick', '--ngram-text', 'test');

  assert.is.not(r.code, 0);
  assert.match(r.err, /--ngram-text/);
});

test('the hashed n-gram readout learns a trivially predictable text', () => {
  // A fixed random string repeated: after the first few characters of a period, the last
  // five characters always determine the next one.
  const period = 'the quick brown fox jumps over a lazy dog; ';
  const text = period.repeat(60);
  const vocab = Vocabulary.fromText(text);
  const ids = vocab.encode(text).ids;
  const m = new HashedNgramReadout(vocab.size, 5, 12);

  const report = m.train(ids.subarray(0, 2000), ids.subarray(2000), { epochs: 3 });

  assert.ok(report.validation.bpc < 0.1, `validation bpc ${report.validation.bpc}`);
  assert.ok(m.score(ids.subarray(2000)).accuracy > 0.99);
});

test('power iteration finds the spectral radius of a cycle and of a scaled ESN', () => {
  const n = 8;
  const rowStart = Uint32Array.from({ length: n + 1 }, (_, i) => i);
  const target = Uint32Array.from({ length: n }, (_, i) => (i + 1) % n);

  const rho = spectralRadius(n, rowStart, target, new Float32Array(n).fill(-0.5));

  assert.ok(Math.abs(rho - 0.5) < 1e-9, String(rho));
});

// The kernels against a plain TypeScript echo state network and LSTM, on both builds.
const text = 'To be, or not to be, that is the question.';
const vocab = Vocabulary.fromText(text);
const ids = vocab.encode(text).ids;

function reference(kind: BaselineKind, w: Awaited<ReturnType<typeof createBaselineModel>>) {
  const { np, rowStart, target, weight, drive } = w.source.weights;
  const x = new Float64Array(np);
  const c = new Float64Array(np);
  const rows: number[][] = [];
  const sigma = (z: number) => 1 / (1 + Math.exp(-z));
  for (const id of ids) {
    const lanes = kind === 'lstm' ? 4 : 1;
    const pre = Float64Array.from(drive.subarray(id * np * lanes, (id + 1) * np * lanes));
    for (let j = 0; j < np; j++) {
      for (let e = rowStart[j]; e < rowStart[j + 1]; e++) {
        for (let g = 0; g < lanes; g++) pre[target[e] * lanes + g] += weight[e * lanes + g] * x[j];
      }
    }
    for (let i = 0; i < np; i++) {
      if (kind === 'esn') {
        x[i] = Math.tanh(pre[i]);
        continue;
      }
      const [a, f, o, g] = pre.subarray(i * 4, i * 4 + 4);
      c[i] = sigma(f) * c[i] + sigma(a) * Math.tanh(g);
      x[i] = sigma(o) * Math.tanh(c[i]);
    }
    rows.push(kind === 'lstm' ? [...x, ...c] : [...x]);
  }
  return rows;
}

for (const build of ['simd', 'scalar'] as Build[]) {
  for (const kind of ['esn', 'lstm'] as BaselineKind[]) {
    test(`the ${kind} kernel matches plain TypeScript (${build} build)`, async () => {
      const config = { neurons: 14, connectivity: 0.3, recurrentScale: 0.5, seed: 5 };
      const b = await createBaselineModel(kind, config, vocab, build);
      const { heap } = b.model;
      const k = b.source.featureSize;
      const idsAt = heap.put(ids);
      const featAt = heap.alloc(ids.length * k * 4);
      const state = b.source.newState();

      b.source.run(state, idsAt, ids.length, featAt, k);

      const got = heap.f32(featAt, ids.length * k);
      const want = reference(kind, b);
      let worst = 0;
      for (let r = 0; r < ids.length; r++) {
        for (let i = 0; i < k; i++) worst = Math.max(worst, Math.abs(got[r * k + i] - want[r][i]));
      }
      assert.ok(worst < 2e-5, `largest difference ${worst}`);
      const nnz = b.source.weights.target.length;
      const np = b.source.weights.np;
      const ops = b.source.ops(state);
      assert.is(ops.chars, ids.length);
      const perChar = kind === 'esn' ? nnz : 4 * nnz + 3 * np;
      assert.is(ops.recurrentMul, perChar * ids.length);
      assert.is(ops.inputMul + ops.inputAdd, 0);
      if (kind === 'esn') {
        const { rowStart, target, weight } = b.source.weights;
        const rho = spectralRadius(np, rowStart, target, weight, 1, 0, 400, 9);
        assert.ok(Math.abs(rho - BASELINE_SPECTRAL_RADIUS) < 0.05, `radius ${rho}`);
      }
    });
  }
}

test.run();
