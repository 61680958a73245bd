// snnlm curves: test bpc against neurons and training characters, as a Markdown table,
// JSON and one SVG chart per curve.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultChars } from '../src/curves.ts';
import { scratch } from './experiments-helpers.ts';

const { dir, corpus, snnlm } = scratch('curves');

test('curves --quick on two threads writes a table, JSON and two charts', () => {
  const out = join(dir, 'curves');

  const r = snnlm('curves', '--corpus', corpus, '--quick', '--threads', '2', '--out', out);

  assert.is(r.code, 0, r.err);
  const md = readFileSync(join(out, 'curves.md'), 'utf8');
  assert.match(md, /Command: `snnlm curves --corpus \S+ --quick --threads 2 --out \S+`/);
  assert.match(md, /Seed: 1\./);
  assert.match(md, /\| 40 \| 3000 \| \d\.\d{4} \|/);
  const json = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'));
  assert.equal(
    json.neurons.map((p: { neurons: number }) => p.neurons),
    [10, 20, 40],
  );
  assert.equal(
    json.chars.map((p: { trainChars: number }) => p.trainChars),
    [750, 1500, 3000],
  );
  assert.ok(json.chars.every((p: { test: { chars: number } }) => p.test.chars === 999));
  for (const name of ['neurons.svg', 'chars.svg']) {
    const svg = readFileSync(join(out, name), 'utf8');
    assert.ok(svg.startsWith('<svg'), name);
    assert.match(svg, /test bits per character/);
  }
});

test('curves refuses more training characters than the split has', () => {
  const r = snnlm('curves', '--corpus', corpus, '--quick', '--chars', '500,9000');

  assert.is.not(r.code, 0);
  assert.match(r.err, /9000 training characters, but the training split has 3000/);
  assert.match(r.err, /hint: /);
});

test('curves refuses a list that is not whole numbers', () => {
  const r = snnlm('curves', '--corpus', corpus, '--neurons', '100,lots');

  assert.is.not(r.code, 0);
  assert.match(r.err, /--neurons .* 'lots' is not one/);
});

test('the default character counts double from 100,000 and end at the whole split', () => {
  assert.equal(defaultChars(892_315), [100_000, 200_000, 400_000, 800_000, 892_315]);
  assert.equal(defaultChars(5000), [5000]);
});

test.run();
