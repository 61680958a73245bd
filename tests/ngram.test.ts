import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnnlmError } from '../src/errors.ts';
import { evaluateNgram, KneserNey } from '../src/ngram.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DATA = process.env.SNNLM_DATA_DIR
  ? resolve(REPO, process.env.SNNLM_DATA_DIR)
  : fileURLToPath(new URL('../../shared/data/', import.meta.url));

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual} is not within ${tol} of ${expected}`,
  );
}

/** Deterministic LCG so the random contexts are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// "ababab", V = 3 (a, b, unknown), D = 0.5 everywhere. By hand (Chen & Goodman 1998 eq. 17):
// continuation counts N1+(.a) = N1+(.b) = 1, so the lower level is
// p0(a) = p0(b) = (1 - 0.5)/2 + (0.5 * 2 / 2) * 1/3 = 5/12 and p0(unk) = 1/6.
// After 'a' (raw c(ab) = 3): p(b|a) = 2.5/3 + (0.5/3) * 5/12 = 65/72, p(a|a) = 5/72.
// After 'b' (raw c(ba) = 2): p(a|b) = 1.5/2 + (0.5/2) * 5/12 = 41/48, p(unk|b) = 1/24.
// With no context the unigram uses raw counts: p(a) = 2.5/6 + (1/6) * 1/3 = 17/36.
test('order 2 on "ababab" matches hand computation', () => {
  const ids = Uint16Array.from([0, 1, 0, 1, 0, 1]);
  const m = KneserNey.train(ids, 3, 2, { discount: 0.5 });
  close(m.prob([0], 1), 65 / 72, 1e-12, 'p(b|a)');
  close(m.prob([0], 0), 5 / 72, 1e-12, 'p(a|a)');
  close(m.prob([0], 2), 1 / 36, 1e-12, 'p(unk|a)');
  close(m.prob([1], 0), 41 / 48, 1e-12, 'p(a|b)');
  close(m.prob([1], 1), 5 / 48, 1e-12, 'p(b|b)');
  close(m.prob([1], 2), 1 / 24, 1e-12, 'p(unk|b)');
  close(m.prob([], 0), 17 / 36, 1e-12, 'p(a)');
  close(m.prob([], 2), 1 / 18, 1e-12, 'p(unk)');
  // Only the last symbol matters at order 2; an unseen context backs off to p0.
  close(m.prob([1, 1, 0], 1), 65 / 72, 1e-12, 'p(b|..a)');
  close(m.prob([2], 0), 5 / 12, 1e-12, 'p(a|unk)');
});

test('estimated discounts lie in [0, k] for count k', () => {
  const rand = lcg(7);
  const ids = Uint16Array.from({ length: 5000 }, () => Math.floor(rand() * rand() * 12));
  for (const variant of ['modified', 'single'] as const) {
    const m = KneserNey.train(ids, 13, 4, { variant });
    for (const table of [m.rawDiscounts, m.contDiscounts]) {
      for (let i = 0; i < table.length; i++) {
        const k = i % 4;
        assert.ok(table[i] >= 0 && table[i] <= k, `${variant} discount ${table[i]} for ${k}`);
      }
    }
  }
});

test('distribution sums to 1 and agrees with prob, including unseen contexts', () => {
  const rand = lcg(1);
  const vocab = 20;
  // Skewed training text over symbols 0..17; 18 and 19 (unknown) never occur.
  const ids = Uint16Array.from({ length: 3000 }, () => Math.floor(rand() * rand() * 18));
  for (const order of [1, 2, 3, 5, 8]) {
    for (const variant of ['modified', 'single'] as const) {
      const m = KneserNey.train(ids, vocab, order, { variant });
      const out = new Float64Array(vocab);
      for (let trial = 0; trial < 40; trial++) {
        const len = Math.floor(rand() * 10);
        // Half the contexts come from the training text, half are random (often unseen).
        const start = Math.floor(rand() * (ids.length - len));
        const ctx =
          trial % 2 === 0
            ? Array.from(ids.subarray(start, start + len))
            : Array.from({ length: len }, () => Math.floor(rand() * vocab));
        m.distribution(ctx, out);
        let sum = 0;
        for (let w = 0; w < vocab; w++) {
          assert.ok(out[w] > 0, `p(${w}) = ${out[w]} at order ${order}`);
          close(m.prob(ctx, w), out[w], 1e-12, `prob vs distribution for ${w}`);
          sum += out[w];
        }
        close(sum, 1, 1e-9, `sum at order ${order} ${variant} context [${ctx}]`);
      }
    }
  }
});

test('unseen symbol gets positive probability', () => {
  const ids = Uint16Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
  const m = KneserNey.train(ids, 4, 3);
  assert.ok(m.prob([0, 1], 3) > 0);
  assert.ok(m.prob([], 3) > 0);
  const score = evaluateNgram(m, Uint16Array.from([0, 1, 3, 2, 0]));
  assert.ok(Number.isFinite(score.bpc));
  assert.is(score.chars, 5);
});

test('bad arguments throw SnnlmError', () => {
  const ids = Uint16Array.from([0, 1, 0]);
  assert.throws(
    () => KneserNey.train(ids, 2, 0),
    (e: unknown) => e instanceof SnnlmError,
  );
  assert.throws(
    () => KneserNey.train(ids, 2, 9),
    (e: unknown) => e instanceof SnnlmError,
  );
  assert.throws(
    () => KneserNey.train(ids, 1, 2),
    (e: unknown) => e instanceof SnnlmError,
  );
  const m = KneserNey.train(ids, 2, 2);
  assert.throws(
    () => m.prob([0], 2),
    (e: unknown) => e instanceof SnnlmError,
  );
});

test('Tiny Shakespeare matches the reference bpc (orders 2 and 5, and D = 0.75 at 6)', () => {
  const text = readFileSync(resolve(DATA, 'tinyshakespeare.txt'), 'latin1');
  const cut = Math.floor(text.length * 0.9);
  const trainText = text.slice(0, cut);
  const testText = text.slice(cut);
  const chars = [...new Set(trainText)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  const vocab = chars.length + 1;
  const encode = (s: string) => Uint16Array.from(s, (c) => index.get(c) ?? vocab - 1);
  const trainIds = encode(trainText);
  const testIds = encode(testText);
  assert.is(testIds.length, 111540);
  assert.is(vocab, 66);

  const s2 = evaluateNgram(KneserNey.train(trainIds, vocab, 2), testIds);
  close(s2.bpc, 3.58, 0.02, 'order 2 bpc');
  close(s2.perplexity, 2 ** s2.bpc, 1e-9, 'perplexity');
  assert.is(s2.chars, 111540);
  const s5 = evaluateNgram(KneserNey.train(trainIds, vocab, 5), testIds);
  close(s5.bpc, 2.26, 0.02, 'order 5 bpc');
  assert.ok(s5.accuracy > 0.5 && s5.accuracy < 0.6, `order 5 accuracy ${s5.accuracy}`);
  // The reference figures come from one fixed discount D = 0.75 (see bench/ngram-table.ts).
  const s6 = evaluateNgram(KneserNey.train(trainIds, vocab, 6, { discount: 0.75 }), testIds);
  close(s6.bpc, 2.22, 0.02, 'order 6 bpc with D = 0.75');
});

test.run();
