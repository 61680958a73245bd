// snnlm tune: successive halving scored on validation only, deterministic for a seed,
// and writing a file that snnlm train --config takes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ModelConfig, resolveConfig } from '../src/config.ts';
import { Rng } from '../src/rng.ts';
import { DEFAULT_SPACE, sample, type Trial, tune } from '../src/tune.ts';
import { scratch, shakespeare } from './experiments-helpers.ts';

const { dir, corpus, file, snnlm } = scratch('tune');
const text = shakespeare.slice(0, 4000);
const tiny = { base: { neurons: 8, epochs: 1, batchSize: 8 }, budgetChars: 400, validChars: 300 };

test('tune --quick writes a configuration that train --config accepts', () => {
  const out = join(dir, 'best.json');

  const r = snnlm('tune', '--corpus', corpus, '--quick', '--seed', '5', '--out', out, '--json');

  assert.is(r.code, 0, r.err);
  assert.match(r.err, /rung 1 trial 1\/3 #1 .* validation \d\.\d{4} bpc/);
  const saved = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(JSON.parse(r.out).config, saved.config);
  assert.is(saved.seed, 5);
  assert.is(saved.config.seed, 5);
  assert.is(saved.config.neurons, 20);
  assert.equal(saved.search.trials, 3);
  assert.equal(
    saved.trials.map((t: Trial) => [t.rung, t.budgetChars]),
    [
      [1, 1500],
      [1, 1500],
      [1, 1500],
      [2, 3000],
      [2, 3000],
    ],
  );
  assert.match(saved.command, /^snnlm tune --corpus .* --quick --seed 5/);

  const t = snnlm('train', '--corpus', corpus, '--config', out, '--quiet', '--json');
  assert.is(t.code, 0, t.err);
  assert.equal(JSON.parse(t.out).config, saved.config);
});

test('tune never reads the test split', async () => {
  const read = new Set<string | symbol>();
  const splits = new Proxy(
    { train: text.slice(0, 3000), validation: text.slice(3000, 3500), test: 'never' },
    {
      get(target, key, receiver) {
        read.add(key);
        if (key === 'test') throw new Error('tune read the test split');
        return Reflect.get(target, key, receiver);
      },
    },
  );

  const result = await tune(splits, { ...tiny, trials: 2 });

  assert.equal([...read].sort(), ['train', 'validation']);
  assert.ok(Number.isFinite(result.best.validationBpc));
});

test('tune gives the same trial table for the same seed and another for another', async () => {
  const splits = { train: text.slice(0, 3000), validation: text.slice(3000) };
  const table = async (seed: number) =>
    (await tune(splits, { ...tiny, trials: 2, seed })).trials.map(({ seconds, ...t }) => t);

  const a = await table(7);
  const b = await table(7);
  const c = await table(8);

  assert.equal(a, b);
  assert.not.equal(
    a.map((t) => t.diff),
    c.map((t) => t.diff),
  );
});

test('tune keeps the better half by validation bpc at each rung', async () => {
  const splits = { train: text.slice(0, 3000), validation: text.slice(3000) };

  const { trials, best } = await tune(splits, { ...tiny, trials: 4 });

  const rung1 = trials
    .filter((t) => t.rung === 1)
    .sort((x, y) => x.validationBpc - y.validationBpc);
  const rung2 = trials.filter((t) => t.rung === 2);
  assert.equal(
    rung2.map((t) => t.id).sort(),
    rung1
      .slice(0, 2)
      .map((t) => t.id)
      .sort(),
  );
  assert.ok(rung2.every((t) => t.budgetChars === 800));
  const winner = rung2.sort((x, y) => x.validationBpc - y.validationBpc)[0];
  assert.is(best.id, winner.id);
});

test('the default search space draws every field inside its range', () => {
  const rng = new Rng(3);
  const base = resolveConfig({});

  const draws = Array.from({ length: 200 }, () => sample(DEFAULT_SPACE, base, rng));

  for (const [field, range] of Object.entries(DEFAULT_SPACE)) {
    if (!range || !('min' in range)) continue;
    const values = draws.map((c) => c[field as keyof ModelConfig] as number);
    assert.ok(
      values.every((x) => x >= range.min && x <= range.max),
      `${field} stays in [${range.min}, ${range.max}]`,
    );
    if (range.integer) assert.ok(values.every(Number.isInteger), `${field} is whole`);
    // A log range spends as many draws on its lower decade as its upper one.
    const mid =
      range.scale === 'log' ? Math.sqrt(range.min * range.max) : (range.min + range.max) / 2;
    const below = values.filter((x) => x < mid).length;
    assert.ok(below > 60 && below < 140, `${field}: ${below} of 200 below the middle`);
  }
  assert.ok(draws.every((c) => c.tauMin <= c.tauMax));
});

const bad: [string, () => string[], RegExp][] = [
  ['no corpus', () => ['tune', '--quick'], /needs --corpus/],
  ['zero trials', () => ['tune', '--corpus', corpus, '--trials', '0'], /--trials .* ≥ 1/],
  [
    'a search space outside a field’s range',
    () => [
      'tune',
      '--corpus',
      corpus,
      '--space',
      file('space.json', '{ "connectivity": { "min": 0.1, "max": 2, "scale": "log" } }'),
    ],
    /'connectivity' allows 2/,
  ],
];

for (const [what, args, message] of bad) {
  test(`tune with ${what} gets a clear error and a non-zero exit`, () => {
    const r = snnlm(...args());

    assert.is.not(r.code, 0);
    assert.match(r.err, message);
    assert.match(r.err, /hint: /);
  });
}

test.run();
