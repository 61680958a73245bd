// snnlm compare: the comparison table, its baselines' kernels against plain TypeScript, and
// the sparse hashed n-gram readout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { Vocabulary } from '../src/vocab.ts';
import { scratch } from './experiments-helpers.ts';

const { dir, corpus, snnlm } = scratch('compare');

interface Row {
  model: string;
  runs: number;
  bpc: { mean: number; sd: number };
  accuracy: { mean: number };
  ops: Record<string, number> | null;
}

test('compare --quick writes the table with sane n-gram rows', () => {
  const out = join(dir, 'compare');
  const started = performance.now();

  const r = snnlm('compare', '--corpus', corpus, '--quick', '--seeds', '1,2', '--out', out);

  assert.is(r.code, 0, r.err);
  assert.ok(performance.now() - started < 30_000, 'under 30 s');
  const md = readFileSync(join(out, 'compare.md'), 'utf8');
  assert.match(md, /Command: `snnlm compare --corpus \S+ --quick --seeds 1,2 --out \S+`/);
  for (const name of ['spiking hybrid', 'ESN', 'random LSTM', 'Kneser-Ney order 8']) {
    assert.match(md, new RegExp(`\\| ${name} \\| \\d\\.\\d{3}`), name);
  }
  const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
  const rows = json.rows as Row[];
  const row = (model: string) => rows.find((x) => x.model === model) as Row;
  assert.is(row('ESN').runs, 2);
  assert.ok(Number.isFinite(row('spiking hybrid').bpc.sd));
  const kn = [1, 2, 3, 4, 5, 6, 7, 8].map((o) => row(`Kneser-Ney order ${o}`).bpc.mean);
  // Unigram below log₂ V, each of the first orders better than the last, none wild after.
  assert.ok(kn[0] < Math.log2(json.vocabSize) && kn[0] > 3, `order 1: ${kn[0]}`);
  assert.ok(kn[1] < kn[0] - 0.5 && kn[2] < kn[1] && kn[3] < kn[2], kn.join(', '));
  for (const b of kn.slice(3)) assert.ok(b > 2 && b < kn[2] + 0.2, kn.join(', '));
  assert.ok(row('modified Kneser-Ney order 6').bpc.mean < kn[5] + 0.2);
  // Every reservoir model is scored on the same characters and counts its operations.
  for (const model of ['spiking hybrid', 'ESN', 'random LSTM']) {
    const ops = row(model).ops as Record<string, number>;
    assert.ok(ops.recurrentAdd > 0 && ops.readoutMul > 0, model);
  }
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
