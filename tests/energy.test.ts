// snnlm energy: the report's counts against an independent count from the plain TypeScript
// reference reservoir, the prototype's ratio under both conventions, and the HTML report in
// headless Chromium (skipped without /usr/bin/chromium when SNNLM_SKIP_BROWSER=1).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCorpus } from '../src/corpus.ts';
import { SpikingLM } from '../src/model.ts';
import { saveModel } from '../src/node.ts';
import { ReferenceDetectors, ReferenceReservoir } from '../src/reference.ts';
import { Vocabulary } from '../src/vocab.ts';
import { scratch } from './experiments-helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const { dir, corpus, snnlm } = scratch('energy');
const out = join(dir, 'energy');
const CHARS = 1500;

interface Tally {
  fpAdd: number;
  fpMul: number;
  intAdd: number;
  intMul: number;
  int8Mul: number;
  events: number;
  macs: number;
}
type Breakdown = Record<'input' | 'recurrence' | 'membrane' | 'detectors' | 'readout', Tally>;

const ctx: { report?: Record<string, unknown>; model?: SpikingLM; ids?: Uint16Array } = {};

test.before(async () => {
  // A tiny model, trained here; denser than the default so that spikes reach synapses.
  const splits = await loadCorpus(corpus);
  const vocab = Vocabulary.fromText(splits.train);
  const model = await SpikingLM.create(
    { neurons: 40, connectivity: 0.2, epochs: 1, batchSize: 16, seed: 3 },
    vocab,
  );
  await model.train(splits.train.slice(0, 3000), splits.validation.slice(0, 1000));
  const file = join(dir, 'tiny.snnlm');
  await saveModel(model, file, { corpus });
  const r = snnlm(
    'energy',
    '--model',
    file,
    '--chars',
    String(CHARS),
    '--baselines',
    '--out',
    out,
    '--json',
  );
  assert.is(r.code, 0, r.err);
  ctx.report = JSON.parse(r.out);
  ctx.model = model;
  ctx.ids = vocab.encode(splits.test.slice(0, CHARS)).ids;
});

test('events, additions and multiplications equal the reference reservoir count', () => {
  const model = ctx.model as SpikingLM;
  const ids = ctx.ids as Uint16Array;
  const report = ctx.report as { totals: Breakdown; chars: number };

  const ref = new ReferenceReservoir(model.net, model.config.substeps);
  for (const id of ids) ref.char(id, model.config.features);

  // The reference's LIF step, per neuron per substep: leak·v (×), drive + rec (+), sum (+);
  // per synaptic event one +. The readout: standardise (× and + per feature), then
  // vocabulary × features multiply-accumulates.
  const k = model.reservoir.featureSize;
  const v = model.vocab.size;
  const t = report.totals;
  const adds = (x: Tally) => x.fpAdd + x.intAdd;
  const muls = (x: Tally) => x.fpMul + x.intMul + x.int8Mul;
  assert.is(report.chars, ids.length);
  assert.ok(ref.events > 0, 'spikes should reach synapses');
  assert.is(t.recurrence.events, ref.events);
  assert.is(adds(t.input) + adds(t.recurrence) + adds(t.membrane), 2 * ref.updates + ref.events);
  assert.is(muls(t.input) + muls(t.recurrence) + muls(t.membrane), ref.updates);
  // The detector layer: each event one +, each membrane update one × (the decay); its readout
  // adds the vocabulary-wide weight row of each spike.
  assert.ok(model.detectors, 'the default model has a detector layer');
  const det = new ReferenceDetectors(model.detectors.net);
  for (const id of ids) det.step(id);
  const detEvents = det.inputEvents + det.recurrentEvents;
  assert.ok(det.recurrentEvents > 0 && det.spikes > ids.length, 'longer strings should fire');
  assert.is(t.detectors.events, detEvents);
  assert.is(adds(t.detectors), detEvents);
  assert.is(muls(t.detectors), det.updates);
  assert.is(adds(t.readout), ids.length * (k + v * k) + det.spikes * v);
  assert.is(muls(t.readout), ids.length * (k + v * k));
  assert.is(t.readout.macs, ids.length * v * k);
});

test("the prototype's ratio is recomputed under both conventions", () => {
  const report = ctx.report as {
    models: { model: string; perChar: Breakdown }[];
    prototype: { comparison: string; prototypeRatio: number; symmetricOps: number }[];
  };
  const ops = (b: Breakdown) =>
    Object.values(b).reduce((a, x) => a + x.fpAdd + x.intAdd + x.fpMul + x.intMul + x.int8Mul, 0);
  const spiking = report.models.find((m) => m.model === 'spiking')?.perChar as Breakdown;
  const dense = report.models.find((m) => m.model === 'spiking, dense')?.perChar as Breakdown;
  const row = report.prototype.find((r) =>
    r.comparison.startsWith('spiking, dense vs spiking (whole'),
  );

  assert.ok(row, 'a row for the whole model, dense against event-driven');
  const symmetric = ops(dense) / ops(spiking);
  assert.ok(Math.abs(row.symmetricOps - symmetric) < 1e-9 * symmetric);
  // As the prototype counted: dense × 5.0 pJ against event-driven × 0.5 pJ.
  const prototype = (ops(dense) * 5.0) / (ops(spiking) * 0.5);
  assert.ok(Math.abs(row.prototypeRatio - prototype) < 1e-9 * prototype);
  assert.ok(row.prototypeRatio > row.symmetricOps);
  for (const name of ['ESN vs spiking', 'random LSTM vs spiking']) {
    assert.ok(
      report.prototype.some((r) => r.comparison.startsWith(name)),
      name,
    );
  }
  const md = readFileSync(join(out, 'energy.md'), 'utf8');
  assert.match(md, /## Caveats/);
  assert.match(md, /Horowitz/);
});

test('--profiles adds a profile and refuses a constant without a source', () => {
  const good = join(dir, 'good.json');
  const bad = join(dir, 'bad.json');
  const cost = { pJ: 0.05, source: 'a test figure' };
  writeFileSync(
    good,
    JSON.stringify({ profiles: [{ id: 'mine', title: 'Mine', costs: { fpAdd: cost } }] }),
  );
  writeFileSync(bad, JSON.stringify({ profiles: [{ id: 'x', costs: { fpAdd: { pJ: 1 } } }] }));
  const model = join(dir, 'tiny.snnlm');
  const args = ['energy', '--model', model, '--chars', '300', '--out', join(dir, 'p')];

  const ok = snnlm(...args, '--profiles', good);
  const refused = snnlm(...args, '--profiles', bad);

  assert.is(ok.code, 0, ok.err);
  assert.match(readFileSync(join(dir, 'p', 'energy.md'), 'utf8'), /`mine`/);
  assert.is.not(refused.code, 0);
  assert.match(refused.err, /no "source"/);
});

if (existsSync(CHROMIUM)) {
  test('the HTML report opens in headless Chromium without errors', async () => {
    const errors: string[] = [];
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
      });
      // The page must need nothing but itself.
      page.on('request', (req) => {
        if (!req.url().startsWith('file:')) errors.push(`fetched ${req.url()}`);
      });
      await page.goto(pathToFileURL(join(out, 'energy.html')).href);
      const shots = join(root, 'runs/screenshots');
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, 'energy.png'), fullPage: true });

      assert.is(await page.locator('figure svg').count(), 2);
      assert.ok((await page.locator('table').count()) >= 5);
      assert.match((await page.textContent('h1')) ?? '', /Energy estimate/);
      assert.equal(errors, []);
    } finally {
      await browser.close();
    }
  });
} else if (process.env.SNNLM_SKIP_BROWSER === '1') {
  console.log(`note: ${CHROMIUM} is missing and SNNLM_SKIP_BROWSER=1: browser test skipped`);
  test.skip('the HTML report in headless Chromium', () => {});
} else {
  test('headless Chromium is installed', () => {
    assert.unreachable(
      `${CHROMIUM} is missing: run .ci/install-chromium (apt-get install chromium), ` +
        'or set SNNLM_SKIP_BROWSER=1 to skip the browser test',
    );
  });
}

test.run();
