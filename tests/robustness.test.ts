// snnlm experiment: the robustness, compression and scaling experiments, each --quick run
// through the CLI, for the spiking model, the ESN and the random LSTM.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Point, Summary } from '../src/robustness.ts';
import { scratch } from './experiments-helpers.ts';

const { dir, corpus, snnlm } = scratch('robustness');

/** Runs one experiment; checks the three files and returns the parsed JSON and Markdown. */
function run(name: string, ...args: string[]) {
  const out = join(dir, name);
  const r = snnlm('experiment', name, '--corpus', corpus, '--quick', '--out', out, ...args);
  assert.is(r.code, 0, r.err);
  const md = readFileSync(join(out, `${name}.md`), 'utf8');
  const json = JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8'));
  const svg = readFileSync(join(out, `${name}.svg`), 'utf8');
  assert.ok(svg.startsWith('<svg'), `${name}.svg`);
  assert.match(md, new RegExp(`Command: \`snnlm experiment ${name} --corpus \\S+ --quick`));
  for (const p of json.points as Point[]) assert.ok(Number.isFinite(p.bpc), `${p.series} ${p.x}`);
  const at = (series: string, x: number, model = 'spiking') =>
    (json.summary as Summary[]).find((s) => s.series === series && s.x === x && s.model === model);
  return { r, md, json, svg, out, at, points: json.points as Point[] };
}

test('noise --quick: replacing 30% of test characters costs the spiking model bpc', () => {
  const { md, json, at, points } = run('noise');

  assert.match(md, /Seeds: 1, 2, 3\. Models: spiking, ESN, random LSTM\./);
  assert.match(md, /3000 training, 1000 validation and 1000 test characters/);
  assert.equal(json.seeds, [1, 2, 3]);
  assert.is(points.length, 3 * 3 * 15);
  for (const p of points.filter((q) => q.x === 0)) assert.is(p.delta, 0, p.series);
  const clean = at('replaced, test only', 0);
  const worst = at('replaced, test only', 0.3);
  assert.ok(worst && clean && worst.bpc.mean > clean.bpc.mean + 0.02, 'test only');
  const drive = at('drive noise', 2);
  assert.ok(drive?.delta && drive.delta.mean > 0, 'drive noise');
  assert.match(md, /\*\*the spiking model is robust to noise: (confirmed|refuted|mixed)\*\*/);
});

test('prune --quick on two threads: keeping every neuron reproduces the unpruned score', () => {
  const { json, at, points } = run('prune', '--threads', '2', '--seeds', '3,5');

  assert.equal(json.seeds, [3, 5]);
  assert.is(points.length, 2 * 3 * 4 * 5);
  const whole = points.filter((p) => p.x === 1);
  assert.is(whole.length, 2 * 3 * 4);
  // Zeroing nothing, or refitting the same readout, gives the same bits to the last digit.
  for (const p of whole) assert.is(p.delta, 0, `${p.model} ${p.series}`);
  for (const series of ['random, readout kept', 'importance, readout kept']) {
    const fifth = at(series, 0.2);
    assert.ok(fifth?.delta && fifth.delta.mean > 0.05, series);
  }
});

test('quantize --quick --json: 8 bits cost less than 2, and bytes follow the bits', () => {
  const { r, json, at } = run('quantize', '--json');

  const printed = JSON.parse(r.out);
  assert.is(printed.experiment, 'quantize');
  assert.equal(printed.files.length, 3);
  for (const model of ['spiking', 'esn', 'lstm']) {
    const eight = at('all', 8, model);
    const two = at('all', 2, model);
    assert.ok(eight?.delta && two?.delta, model);
    assert.ok(Math.abs(eight.delta.mean) < Math.abs(two.delta.mean), model);
  }
  // 20 neurons, V symbols: the input matrix is V × 20 f32s, or V × 20 bytes plus a scale.
  const v = json.vocabSize;
  const f32 = at('f32', 32)?.bytes?.mean ?? 0;
  assert.is(at('input', 8)?.bytes?.mean, f32 - v * 20 * 4 + v * 20 + 4);
  const sizes = [8, 4, 3, 2].map((b) => at('all', b)?.bytes?.mean ?? 0);
  assert.ok(
    sizes.every((s, i) => s < (i === 0 ? f32 : sizes[i - 1])),
    String(sizes),
  );
});

test('scale --quick: bpc, seconds and firing rate against four quantities', () => {
  const { md, json, at, out } = run('scale');

  assert.ok(existsSync(join(out, 'scale-seconds.svg')));
  assert.ok(existsSync(join(out, 'scale-firing.svg')));
  const xs = (series: string, model: string) =>
    (json.summary as Summary[])
      .filter((s) => s.series === series && s.model === model)
      .map((s) => s.x);
  assert.equal(xs('neurons', 'spiking'), [10, 20, 40]);
  assert.equal(xs('training characters', 'esn'), [750, 3000]);
  assert.equal(xs('substeps', 'spiking'), [1, 5]);
  assert.equal(xs('substeps', 'lstm'), []);
  const rate = at('neurons', 20)?.firingRate?.mean ?? 0;
  assert.ok(rate > 0 && rate < 1, String(rate));
  assert.is(at('neurons', 20, 'esn')?.firingRate, null);
  const small = at('neurons', 10);
  const large = at('neurons', 40);
  assert.ok(small && large && large.bpc.mean < small.bpc.mean);
  assert.match(md, /## Training seconds/);
});

test('context --quick: the character just back matters more than the one 64 back', () => {
  const { md, json, at, points } = run('context', '--models', 'spiking,lstm', '--seeds', '1,2');

  assert.equal(json.models, ['spiking', 'lstm']);
  assert.is(points.length, 2 * 2 * 64);
  const near = at('replaced k back', 1);
  const far = at('replaced k back', 64);
  assert.ok(near?.delta && far?.delta);
  assert.ok(near.delta.mean > 0.1 && near.delta.mean > Math.abs(far.delta.mean) + 0.1);
  assert.match(md, /Reach, the largest k at which the mean Δ exceeds 0\.01 bits: spiking \d+/);
  assert.match(md, /\| 64 \| -?\d\.\d{4} ± \d\.\d{4} \|/);
});

test('experiment refuses an unknown name, a missing one and an unknown model', () => {
  const unknown = snnlm('experiment', 'melt', '--corpus', corpus, '--quick');
  const missing = snnlm('experiment', '--corpus', corpus, '--quick');
  const model = snnlm('experiment', 'noise', '--corpus', corpus, '--models', 'spiking,gru');

  assert.is.not(unknown.code, 0);
  assert.match(unknown.err, /unknown experiment 'melt'/);
  assert.match(unknown.err, /hint: use one of noise, prune, quantize, scale, context/);
  assert.is.not(missing.code, 0);
  assert.match(missing.err, /needs a NAME/);
  assert.is.not(model.code, 0);
  assert.match(model.err, /--models must list spiking, esn, lstm/);
});

test('experiment refuses --train-chars beyond the training split, and --quick with --small', () => {
  const long = snnlm('experiment', 'scale', '--corpus', corpus, '--quick', '--train-chars', '9000');
  const both = snnlm('experiment', 'scale', '--corpus', corpus, '--quick', '--small');

  assert.is.not(long.code, 0);
  assert.match(long.err, /--train-chars asks for 9000 characters, but the training split has 3000/);
  assert.is.not(both.code, 0);
  assert.match(both.err, /--quick and --small/);
});

test.run();
