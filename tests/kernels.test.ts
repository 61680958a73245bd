// The WebAssembly kernels against the plain TypeScript reference, on small
// random networks, including sizes that are not a multiple of the SIMD width.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Dynamics, resolveConfig } from '../src/config.ts';
import { type Build, Heap, loadKernels, Reservoir } from '../src/engine.ts';
import { SpikingLM } from '../src/model.ts';
import { buildNetwork } from '../src/network.ts';
import { modelFromFile, modelToFile } from '../src/persist.ts';
import { ReferenceReservoir } from '../src/reference.ts';
import { Rng } from '../src/rng.ts';
import { Vocabulary } from '../src/vocab.ts';

const VOCAB = 7;

function randomIds(n: number, seed: number): Uint16Array {
  const rng = new Rng(seed);
  return Uint16Array.from({ length: n }, () => rng.int(0, VOCAB - 1));
}

// Both orders of a substep, with the float synapses as built (u16 targets) and as u32
// targets (the layout of networks over 65,536 neurons).
const CASES: { dynamics: Dynamics; wide: boolean }[] = [
  { dynamics: 'standard', wide: false },
  { dynamics: 'prototype', wide: false },
  { dynamics: 'standard', wide: true },
  { dynamics: 'prototype', wide: true },
];

async function matchesReference(build: Build, dynamics: Dynamics, wide: boolean, neurons: number) {
  const config = resolveConfig({
    neurons,
    connectivity: 0.3,
    recurrentScale: 0.4,
    inputScale: 0.9,
    substeps: 4,
    seed: neurons,
    dynamics,
  });
  const built = buildNetwork(config, VOCAB);
  assert.instance(built.target, Uint16Array);
  const net = wide ? { ...built, target: Uint32Array.from(built.target) } : built;
  const heap = new Heap(await loadKernels(build));
  const res = new Reservoir(heap, net, config.substeps, 'hybrid');
  assert.is(res.dynamics, dynamics);
  const state = res.newState();
  const ref = new ReferenceReservoir(net, config.substeps);
  const ids = randomIds(60, neurons);
  const idsAt = heap.put(ids);
  const featAt = heap.alloc(res.featureSize * 4 * ids.length);

  // In two calls, so that prototype dynamics carry the pending spikes across a call.
  const half = 23;
  res.run(state, idsAt, half, featAt, res.featureSize);
  res.run(
    state,
    idsAt + 2 * half,
    ids.length - half,
    featAt + res.featureSize * 4 * half,
    res.featureSize,
  );

  const got = heap.f32(featAt, res.featureSize * ids.length);
  let spikes = 0;
  for (let c = 0; c < ids.length; c++) {
    const want = ref.char(ids[c], 'hybrid');
    for (let i = 0; i < net.np; i++) {
      assert.is(got[c * res.featureSize + i], want[i], `spike count, char ${c}, neuron ${i}`);
      // The reference rounds to f32 after each operation, in the kernels' order: exact.
      const dv = got[c * res.featureSize + net.np + i] - want[net.np + i];
      assert.is(dv, 0, `potential differs by ${dv} at char ${c}, neuron ${i}`);
    }
    spikes += want.slice(0, net.np).reduce((a, b) => a + b, 0) * config.substeps;
  }
  const counts = res.counts(state);
  assert.ok(ref.spikes > 0, 'the test network should fire');
  assert.is(counts.spikes, ref.spikes);
  assert.is(Math.round(spikes), ref.spikes);
  assert.is(counts.events, ref.events);
  assert.is(counts.updates, ref.updates);
}

for (const build of ['simd', 'scalar'] as Build[]) {
  for (const { dynamics, wide } of CASES) {
    for (const neurons of [5, 13, 64, 130]) {
      const name = `${build} ${dynamics}${wide ? ', u32 targets' : ''}: ${neurons} neurons`;
      test(`${name} give the reference's spikes and potentials`, async () => {
        await matchesReference(build, dynamics, wide, neurons);
      });
    }
  }

  test(`${build}: transpose writes each block of columns, any shape`, async () => {
    const heap = new Heap(await loadKernels(build));
    for (const [m, n, ld] of [
      [7, 9, 12],
      [8, 12, 8],
      [13, 5, 20],
    ]) {
      const a = Float32Array.from({ length: m * n }, (_, i) => i * 0.5 - 3);
      const dst = heap.alloc(n * ld * 4);

      heap.k.transpose(heap.put(a), dst, m, n, ld);

      const d = heap.f32(dst, n * ld);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++)
          assert.is(d[j * ld + i], a[i * n + j], `${m}×${n} [${i}][${j}]`);
      }
    }
  });

  test(`${build}: softmaxXent gives the loss, the hit and the scaled gradient, transposed`, async () => {
    const heap = new Heap(await loadKernels(build));
    const rng = new Rng(11);
    const [rows, v, ldg, stride] = [5, 9, 8, 3];
    const logits = Float32Array.from({ length: rows * v }, () => 4 * rng.gaussian());
    const targets = Uint16Array.from({ length: rows * stride }, () => rng.int(0, v - 1));
    const aAt = heap.put(logits);
    const tAt = heap.put(targets);
    const gAt = heap.alloc(v * ldg * 4);
    const nllAt = heap.alloc(rows * 4);
    const hitAt = heap.alloc(rows * 4);

    heap.k.softmaxXent(aAt, rows, v, tAt, stride * 2, gAt, ldg, 0.25, nllAt, hitAt);

    const g = heap.f32(gAt, v * ldg);
    const nll = heap.f32(nllAt, rows);
    const hit = heap.i32(hitAt, rows);
    for (let r = 0; r < rows; r++) {
      const z = Array.from(logits.subarray(r * v, (r + 1) * v));
      const t = targets[r * stride];
      const sum = z.reduce((s, x) => s + Math.exp(x), 0);
      const arg = z.indexOf(Math.max(...z));
      assert.ok(Math.abs(nll[r] - (Math.log(sum) - z[t])) < 1e-4, `row ${r} loss ${nll[r]}`);
      assert.is(hit[r], arg === t ? 1 : 0, `row ${r} hit`);
      for (let j = 0; j < v; j++) {
        const want = 0.25 * (Math.exp(z[j]) / sum - (j === t ? 1 : 0));
        assert.ok(Math.abs(g[j * ldg + r] - want) < 1e-6, `row ${r}, class ${j}`);
      }
    }
  });

  test(`${build}: matmulNT and adamStep match plain loops`, async () => {
    const heap = new Heap(await loadKernels(build));
    const rng = new Rng(5);
    const [m, n, k] = [7, 9, 12];
    const a = Float32Array.from({ length: m * k }, () => rng.gaussian());
    const b = Float32Array.from({ length: n * k }, () => rng.gaussian());
    const c0 = Float32Array.from({ length: m * n }, () => rng.gaussian());
    const aAt = heap.put(a);
    const bAt = heap.put(b);
    const cAt = heap.put(c0);

    heap.k.matmulNT(aAt, bAt, cAt, m, n, k, true);

    const c = heap.f32(cAt, m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let d = c0[i * n + j];
        for (let t = 0; t < k; t++) d += a[i * k + t] * b[j * k + t];
        assert.ok(Math.abs(c[i * n + j] - d) < 1e-4, `C[${i}][${j}]`);
      }
    }

    const w = Float32Array.from({ length: 8 }, () => rng.gaussian());
    const g = Float32Array.from({ length: 8 }, () => rng.gaussian());
    const wAt = heap.put(w);
    const gAt = heap.put(g);
    const mAt = heap.alloc(32);
    const sAt = heap.alloc(32);
    heap.k.adamStep(8, wAt, gAt, mAt, sAt, 0.1, 0.9, 0.999, 1e-8, 0.01, 10, 1000);
    const got = heap.f32(wAt, 8);
    for (let i = 0; i < 8; i++) {
      const mi = 0.1 * g[i];
      const si = 0.001 * g[i] * g[i];
      const want = w[i] - 0.1 * ((mi * 10) / (Math.sqrt(si * 1000) + 1e-8) + 0.01 * w[i]);
      assert.ok(Math.abs(got[i] - want) < 1e-5, `w[${i}] ${got[i]} vs ${want}`);
    }
  });
}

// Ternary synapses (i32 sums of ±1 scaled by γ) in the prototype order, against the reference
// on the same synapses as f32 ±γ: the same spikes; potentials equal up to rounding.
for (const build of ['simd', 'scalar'] as Build[]) {
  for (const neurons of [13, 64]) {
    test(`${build} prototype, ternary synapses: ${neurons} neurons follow the reference`, async () => {
      const config = resolveConfig({
        neurons,
        connectivity: 0.3,
        recurrentScale: 0.4,
        inputScale: 0.9,
        substeps: 4,
        seed: neurons,
        precision: 'mixed',
        dynamics: 'prototype',
      });
      const net = buildNetwork(config, VOCAB);
      const heap = new Heap(await loadKernels(build));
      const res = new Reservoir(heap, net, config.substeps, 'hybrid');
      const state = res.newState();
      const ref = new ReferenceReservoir(net, config.substeps);
      const ids = randomIds(60, neurons);
      const featAt = heap.alloc(res.featureSize * 4 * ids.length);
      res.run(state, heap.put(ids), ids.length, featAt, res.featureSize);
      const got = heap.f32(featAt, res.featureSize * ids.length);
      for (let c = 0; c < ids.length; c++) {
        const want = ref.char(ids[c], 'hybrid');
        for (let i = 0; i < net.np; i++) {
          assert.is(got[c * res.featureSize + i], want[i], `spike count, char ${c}, neuron ${i}`);
          const dv = Math.abs(got[c * res.featureSize + net.np + i] - want[net.np + i]);
          assert.ok(dv <= 1e-5, `potential differs by ${dv} at char ${c}, neuron ${i}`);
        }
      }
      assert.ok(ref.spikes > 0, 'the test network should fire');
      assert.is(res.counts(state).spikes, ref.spikes);
      assert.is(res.counts(state).events, ref.events);
    });
  }
}

test('prototype dynamics fire less than standard ones with the same parameters', async () => {
  const base = { neurons: 200, connectivity: 0.1, recurrentScale: 0.03, substeps: 10, seed: 3 };
  const rate = (dynamics: Dynamics) => {
    const ref = new ReferenceReservoir(buildNetwork(resolveConfig({ ...base, dynamics }), 7), 10);
    for (const id of randomIds(50, 3)) ref.char(id, 'spikes');
    return ref.spikes / ref.updates;
  };
  const standard = rate('standard');
  const prototype = rate('prototype');
  assert.ok(prototype > 0 && prototype < standard, `prototype ${prototype}, standard ${standard}`);
});

test('float synapse targets are saved as u16, and files with u32 targets still load', async () => {
  const vocab = Vocabulary.fromText('abcdefg hijk');
  const config = { neurons: 40, connectivity: 0.2, dynamics: 'prototype' as const, seed: 2 };
  const model = await SpikingLM.create(config, vocab);
  const { header, sections } = modelToFile(model);
  assert.instance(sections.target, Uint16Array);
  const wide = { ...sections, target: Uint32Array.from(sections.target) };

  const loaded = await modelFromFile({ header, sections: wide });

  assert.instance(loaded.net.target, Uint16Array);
  assert.equal(Array.from(loaded.net.target), Array.from(model.net.target));
  assert.is(loaded.net.dynamics, 'prototype');
  assert.is((loaded.reservoir as Reservoir).dynamics, 'prototype');
  const bad = { ...sections, target: Uint32Array.from(sections.target, (t, e) => (e ? t : 40)) };
  const error = await modelFromFile({ header, sections: bad }).catch((e: Error) => e);
  assert.instance(error, Error);
  assert.match((error as Error).message, /beyond the 40 neurons/);
});

test('the SIMD build reports SIMD and the scalar build does not', async () => {
  assert.is((await loadKernels('simd')).simd(), 1);
  assert.is((await loadKernels('scalar')).simd(), 0);
});

test.run();
