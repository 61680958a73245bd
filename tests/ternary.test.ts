// BitNet b1.58 ternary weights: quantisation on hand-computed cases, the add-only kernel
// against the float kernel run with the weights γ·w̃, the int8 readout, and persistence.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Precision, resolveConfig } from '../src/config.ts';
import { type Build, Heap, loadKernels, Reservoir } from '../src/engine.ts';
import { SpikingLM } from '../src/model.ts';
import { loadModelFile, saveModelFile } from '../src/modelfile-node.ts';
import { buildNetwork, type Network } from '../src/network.ts';
import { modelFromFile, modelToFile } from '../src/persist.ts';
import { ReferenceReservoir } from '../src/reference.ts';
import { Rng } from '../src/rng.ts';
import {
  packTernary,
  quantizeFeatures,
  quantizeReadout,
  roundHalfEven,
  ternarize,
  ternaryScale,
} from '../src/ternary.ts';
import { Vocabulary } from '../src/vocab.ts';

const VOCAB = 7;

test('round half to even, as the ternary threshold needs', () => {
  const cases = [
    [0.5, 0],
    [-0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [-1.5, -2],
    [0.49, 0],
    [0.51, 1],
    [-0.51, -1],
  ];
  for (const [x, want] of cases) assert.is(roundHalfEven(x), want, `round(${x})`);
});

test('γ is mean |w| and w̃ = clip(round(w/γ), −1, 1): ties go to 0, large weights clip', () => {
  // mean |w| = (0.5 + 0.5 + 1.5 + 2.5 + 0 + 1) / 6 = 1; the 0 is a synapse that exists.
  const w = Float32Array.of(0.5, -0.5, 1.5, -2.5, 0, 1);

  const gamma = ternaryScale(w);
  const q = ternarize(w, gamma);

  assert.is(gamma, 1);
  // 0.5 and −0.5 are ties → 0; 1.5 → 2 and −2.5 → −2 clip to ±1; 1 stays 1.
  assert.equal(Array.from(q), [0, 0, 1, -1, 0, 1]);
});

test('γ averages over the synapses that exist, never over absent ones', () => {
  // A 3 × 3 matrix with three synapses; absent entries hold 0.
  const w = Float32Array.of(0.25, 0, 0, 0, -0.5, 0, 0, 0, 0.75);
  const exists = (i: number) => i % 4 === 0;

  const gamma = ternaryScale(w, exists);
  const q = ternarize(w, gamma, exists);

  // γ = (0.25 + 0.5 + 0.75) / 3 = 0.5; w/γ = 0.5 (tie → 0), −1, 1.5 (→ 2, clipped to 1).
  assert.is(gamma, 0.5);
  assert.equal(Array.from(q), [0, 0, 0, 0, -1, 0, 0, 0, 1]);
  // Averaging over all nine entries would give γ = 1/6 and w̃ = (1, −1, 1).
  assert.equal(Array.from(ternarize(w, ternaryScale(w), exists)), [1, 0, 0, 0, -1, 0, 0, 0, 1]);
});

test('the built network takes γ over its existing synapses and input weights', () => {
  const base = { neurons: 200, connectivity: 0.1, inputConnectivity: 0.5, seed: 3 };
  const float = buildNetwork(resolveConfig(base), VOCAB);
  const tern = buildNetwork(resolveConfig({ ...base, precision: 'ternary' }), VOCAB);

  const meanAbs = (a: Float32Array, keep: (x: number) => boolean) => {
    const kept = Array.from(a).filter(keep);
    return Math.fround(kept.reduce((s, x) => s + Math.abs(x), 0) / kept.length);
  };
  const gamma = meanAbs(float.weight, () => true);
  assert.is(tern.ternary?.gamma, gamma);
  const kept = Array.from(float.weight).filter((x) => Math.abs(x) > gamma / 2).length;
  assert.is(tern.ternary?.target.length, kept);
  assert.ok(tern.ternary?.target instanceof Uint16Array, 'u16 targets below 65,536 neurons');
  // Drawn input weights are non-zero (Gaussian); γ_in averages over those only.
  assert.is(
    tern.inputGamma,
    meanAbs(float.input, (x) => x !== 0),
  );
  for (const x of tern.input) {
    assert.ok(x === 0 || Math.abs(x) === tern.inputGamma, `input ${x} is not 0 or ±γ`);
  }
  const mixed = buildNetwork(resolveConfig({ ...base, precision: 'mixed' }), VOCAB);
  assert.equal(mixed.input, float.input);
  assert.is(mixed.inputGamma, undefined);
});

test('packTernary puts +1 targets before −1 targets and drops zeros', () => {
  // Neuron 0: → 1 (+0.9), → 2 (−0.1), → 3 (−0.8); neuron 1: → 0 (+0.8); γ = 0.65.
  const layout = packTernary(
    4,
    Uint32Array.of(0, 3, 4, 4, 4),
    Uint32Array.of(1, 2, 3, 0),
    Float32Array.of(0.9, -0.1, -0.8, 0.8),
  );

  assert.is(layout.gamma, Math.fround(0.65));
  assert.equal(Array.from(layout.bounds), [0, 1, 2, 3, 3, 3, 3, 3, 3]);
  assert.equal(Array.from(layout.target), [1, 3, 0]);
});

function randomIds(n: number, seed: number): Uint16Array {
  const rng = new Rng(seed);
  return Uint16Array.from({ length: n }, () => rng.int(0, VOCAB - 1));
}

/** The same network with the ternary layout removed: the float kernel runs ±γ weights. */
function floatView(net: Network): Network {
  return { ...net, ternary: undefined };
}

async function runFeatures(build: Build, net: Network, substeps: number, ids: Uint16Array) {
  const heap = new Heap(await loadKernels(build));
  const res = new Reservoir(heap, net, substeps, 'hybrid');
  const state = res.newState();
  const idsAt = heap.put(ids);
  const featAt = heap.alloc(res.featureSize * 4 * ids.length);
  res.run(state, idsAt, ids.length, featAt, res.featureSize);
  return {
    features: heap.f32(featAt, res.featureSize * ids.length).slice(),
    counts: res.counts(state),
  };
}

for (const build of ['simd', 'scalar'] as Build[]) {
  for (const precision of ['mixed', 'ternary'] as Precision[]) {
    for (const neurons of [5, 13, 64, 130]) {
      const name = `${build} ${precision}: ${neurons} neurons, ternary kernel = float on γ·w̃`;
      test(name, async () => {
        const config = resolveConfig({
          neurons,
          connectivity: 0.3,
          recurrentScale: 0.4,
          inputScale: 0.9,
          substeps: 4,
          seed: neurons,
          precision,
        });
        const net = buildNetwork(config, VOCAB);
        const ids = randomIds(60, neurons);

        const tern = await runFeatures(build, net, config.substeps, ids);
        const flt = await runFeatures(build, floatView(net), config.substeps, ids);

        const np = net.np;
        const ref = new ReferenceReservoir(net, config.substeps);
        for (let c = 0; c < ids.length; c++) {
          const want = ref.char(ids[c], 'hybrid');
          for (let i = 0; i < np; i++) {
            const at = c * 2 * np + i;
            assert.is(tern.features[at], flt.features[at], `spikes, char ${c}, neuron ${i}`);
            assert.is(tern.features[at], want[i], `reference spikes, char ${c}, neuron ${i}`);
            const dv = Math.abs(tern.features[at + np] - flt.features[at + np]);
            assert.ok(dv <= 1e-5, `potential differs by ${dv} at char ${c}, neuron ${i}`);
          }
        }
        assert.ok(tern.counts.spikes > 0, 'the test network should fire');
        assert.ok(tern.counts.events > 0, 'and its spikes should reach synapses');
        assert.is(tern.counts.spikes, flt.counts.spikes);
        assert.is(tern.counts.events, flt.counts.events);
        assert.is(tern.counts.events, ref.events);
        assert.is(tern.counts.updates, flt.counts.updates);
        // Zero multiplies and no weight reads in the ternary recurrence: every synaptic event
        // is an integer +1 or −1; the float kernel adds an f32 weight per event instead.
        assert.is(tern.counts.floatAdds, 0);
        assert.is((tern.counts.adds ?? 0) + (tern.counts.subs ?? 0), tern.counts.events);
        assert.ok((tern.counts.adds ?? 0) > 0 && (tern.counts.subs ?? 0) > 0);
        assert.is(flt.counts.floatAdds, flt.counts.events);
        assert.is(flt.counts.adds, 0);
      });
    }
  }

  test(`${build}: u32 target lists give the same result as u16 ones`, async () => {
    const config = resolveConfig({
      neurons: 37,
      connectivity: 0.3,
      recurrentScale: 0.4,
      inputScale: 0.9,
      seed: 4,
      precision: 'mixed',
    });
    const net = buildNetwork(config, VOCAB);
    const t = net.ternary;
    if (!t) throw new Error('no ternary layout');
    const wide: Network = { ...net, ternary: { ...t, target: Uint32Array.from(t.target) } };
    const ids = randomIds(40, 4);

    const narrow = await runFeatures(build, net, config.substeps, ids);
    const broad = await runFeatures(build, wide, config.substeps, ids);

    assert.equal(broad.features, narrow.features);
    assert.equal(broad.counts, narrow.counts);
  });

  test(`${build}: int8 features against a ternary readout match plain loops`, async () => {
    const heap = new Heap(await loadKernels(build));
    const rng = new Rng(9);
    const [rows, v, k, stride] = [3, 5, 20, 24];
    const feat = Float32Array.from({ length: rows * stride }, () => rng.gaussian());
    const w = Int8Array.from({ length: v * k }, () => rng.int(-1, 1));
    const gamma = Float32Array.from({ length: v }, () => rng.uniform());
    const bias = Float32Array.from({ length: v }, () => rng.gaussian());
    const featAt = heap.put(feat);
    const qAt = heap.alloc(rows * k);
    const scaleAt = heap.alloc(rows * 4);
    const wAt = heap.alloc(v * k);
    new Int8Array(heap.k.memory.buffer, wAt, v * k).set(w);
    const outAt = heap.alloc(rows * v * 4);

    heap.k.quantizeFeaturesInt8(featAt, stride, qAt, scaleAt, rows, k);
    heap.k.ternaryLogits(qAt, scaleAt, wAt, heap.put(gamma), heap.put(bias), outAt, rows, v, k);

    const q = new Int8Array(heap.k.memory.buffer, qAt, rows * k);
    const scale = heap.f32(scaleAt, rows);
    const out = heap.f32(outAt, rows * v);
    for (let r = 0; r < rows; r++) {
      const want = quantizeFeatures(feat.subarray(r * stride, r * stride + k));
      assert.is(scale[r], want.scale, `scale of row ${r}`);
      assert.equal(Array.from(q.subarray(r * k, (r + 1) * k)), Array.from(want.q));
      for (let j = 0; j < v; j++) {
        let sum = 0;
        for (let i = 0; i < k; i++) sum += w[j * k + i] * want.q[i];
        const logit = gamma[j] * want.scale * sum + bias[j];
        assert.ok(Math.abs(out[r * v + j] - logit) < 1e-4, `logit [${r}][${j}]`);
      }
    }
  });
}

test('absmax int8 features: the largest magnitude maps to ±127', () => {
  const { q, scale } = quantizeFeatures([0.5, -1.27, 0, 0.005]);

  assert.is(scale, Math.fround(0.01));
  // 0.005 / 0.01 = 0.5 is a tie and goes to 0.
  assert.equal(Array.from(q), [50, -127, 0, 0]);
});

test('the readout is quantised per output row over the columns of real neurons', () => {
  // Two outputs, k = 4 feature columns of which column 3 is a padding neuron, then the bias.
  const width = 8;
  const w = Float32Array.of(...[0.2, -0.4, 0.6, 9, 5, 0, 0, 0], ...[-1, 1, 0.4, 0, -3, 0, 0, 0]);

  const r = quantizeReadout(w, 2, width, 4, (c) => c !== 3);

  // Row 0: γ = 0.4, w/γ = 0.5 (tie → 0), −1, 1.5 (→ 1); the padding column is 0, not 9/γ.
  assert.is(r.gamma[0], Math.fround(0.4));
  assert.equal(Array.from(r.weights.subarray(0, 4)), [0, -1, 1, 0]);
  // Row 1: γ = 0.8; −1.25 → −1, 1.25 → 1, 0.5 → 0.
  assert.is(r.gamma[1], Math.fround(0.8));
  assert.equal(Array.from(r.weights.subarray(4, 8)), [-1, 1, 0, 0]);
  assert.equal(Array.from(r.bias), [5, -3]);
});

const dataDir =
  process.env.SNNLM_DATA_DIR ?? new URL('../../shared/data/', import.meta.url).pathname;
const text = readFileSync(join(dataDir, 'tinyshakespeare.txt'), 'utf8').slice(0, 30_000);
const train = text.slice(0, 24_000);
const valid = text.slice(24_000, 27_000);
const heldOut = text.slice(27_000);
const vocab = Vocabulary.fromText(train);
const small = { neurons: 60, epochs: 1, batchSize: 16, seed: 7 };

test('a ternary model scores with int8 features and a ternary readout', async () => {
  const model = await SpikingLM.create({ ...small, precision: 'ternary' }, vocab);

  await model.train(train, valid);
  const m = await model.evaluate(heldOut);

  const r = model.ternaryReadout;
  assert.ok(r, 'the readout is quantised after training');
  assert.ok(
    r.weights.every((x) => x >= -1 && x <= 1),
    'readout weights are ternary',
  );
  assert.ok(m.bpc < Math.log2(vocab.size) - 1, `bpc ${m.bpc}`);
});

for (const precision of ['mixed', 'ternary'] as Precision[]) {
  test(`save then load of a ${precision} model gives identical predictions`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snnlm-'));
    const path = join(dir, 'm.snnlm');
    const model = await SpikingLM.create({ ...small, precision }, vocab);
    await model.train(train, valid);
    const { header, sections } = modelToFile(model);

    await saveModelFile(path, header, sections);
    const loaded = await modelFromFile(await loadModelFile(path));

    assert.ok(sections.ternaryTarget instanceof Uint16Array, 'u16 synapse targets');
    assert.not.ok('weight' in sections || 'target' in sections, 'no f32 synapses stored');
    assert.is('inputTernary' in sections, precision === 'ternary');
    assert.is('readoutTernary' in sections, precision === 'ternary');
    assert.equal(loaded.net.weight, model.net.weight);
    assert.equal(loaded.net.input, model.net.input);
    assert.equal(loaded.readoutWeights(), model.readoutWeights());
    assert.equal(await loaded.evaluate(heldOut), await model.evaluate(heldOut));
    const opts = { length: 80, seed: 3, temperature: 0.8 };
    assert.is(loaded.generate('First', opts), model.generate('First', opts));
    rmSync(dir, { recursive: true });
  });
}

test.run();
