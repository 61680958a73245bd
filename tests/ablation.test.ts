// snnlm ablation: spikes, membrane and hybrid readouts over seeds, as mean ± standard
// deviation of test scores.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { meanSd } from '../src/experiments.ts';
import { scratch } from './experiments-helpers.ts';

const { dir, corpus, snnlm } = scratch('ablation');

test('ablation --quick reports every feature kind as mean ± sd over the seeds', () => {
  const out = join(dir, 'ablation');

  const r = snnlm('ablation', '--corpus', corpus, '--quick', '--seeds', '4,9', '--out', out);

  assert.is(r.code, 0, r.err);
  const md = readFileSync(join(out, 'ablation.md'), 'utf8');
  assert.match(md, /Command: `snnlm ablation --corpus \S+ --quick --seeds 4,9 --out \S+`/);
  assert.match(md, /Seeds: 4, 9\./);
  for (const kind of ['spikes', 'membrane', 'hybrid']) {
    assert.match(md, new RegExp(`\\| ${kind} \\| \\d\\.\\d{4} ± \\d\\.\\d{4} \\|`), kind);
  }
  const json = JSON.parse(readFileSync(join(out, 'ablation.json'), 'utf8'));
  assert.equal(json.seeds, [4, 9]);
  assert.is(json.runs.length, 6);
  const hybrid = json.runs.filter((x: { features: string }) => x.features === 'hybrid');
  const mean = (hybrid[0].test.bpc + hybrid[1].test.bpc) / 2;
  assert.ok(Math.abs(json.summary[2].bpc.mean - mean) < 1e-12);
});

test('ablation refuses a repeated seed', () => {
  const r = snnlm('ablation', '--corpus', corpus, '--quick', '--seeds', '1,1');

  assert.is.not(r.code, 0);
  assert.match(r.err, /without repeats/);
  assert.match(r.err, /hint: /);
});

test('the standard deviation is the sample one, and undefined for one value', () => {
  const { mean, sd } = meanSd([1, 2, 3, 4]);

  assert.is(mean, 2.5);
  assert.ok(Math.abs(sd - Math.sqrt(5 / 3)) < 1e-12);
  assert.ok(Number.isNaN(meanSd([2]).sd));
});

test.run();
