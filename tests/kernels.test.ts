// The WebAssembly kernels against the plain TypeScript reference, on small
// random networks, including sizes that are not a multiple of the SIMD width.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveConfig } from '../src/config.ts';
import { type Build, Heap, loadKernels, Reservoir } from '../src/engine.ts';
import { buildNetwork } from '../src/network.ts';
import { ReferenceReservoir } from '../src/reference.ts';
import { Rng } from '../src/rng.ts';

const VOCAB = 7;

function randomIds(n: number, seed: number): Uint16Array {
  const rng = new Rng(seed);
  return Uint16Array.from({ length: n }, () => rng.int(0, VOCAB - 1));
}

for (const build of ['simd', 'scalar'] as Build[]) {
  for (const neurons of [5, 13, 64, 130]) {
    test(`${build}: ${neurons} neurons give the reference's spikes and potentials`, async () => {
      const config = resolveConfig({
        neurons,
        connectivity: 0.3,
        recurrentScale: 0.4,
        inputScale: 0.9,
        substeps: 4,
        seed: neurons,
      });
      const net = buildNetwork(config, VOCAB);
      const heap = new Heap(await loadKernels(build));
      const res = new Reservoir(heap, net, config.substeps, 'hybrid');
      const state = res.newState();
      const ref = new ReferenceReservoir(net, config.substeps);
      const ids = randomIds(60, neurons);
      const idsAt = heap.put(ids);
      const featAt = heap.alloc(res.featureSize * 4 * ids.length);

      res.run(state, idsAt, ids.length, featAt, res.featureSize);

      const got = heap.f32(featAt, res.featureSize * ids.length);
      let spikes = 0;
      for (let c = 0; c < ids.length; c++) {
        const want = ref.char(ids[c], 'hybrid');
        for (let i = 0; i < net.np; i++) {
          assert.is(got[c * res.featureSize + i], want[i], `spike count, char ${c}, neuron ${i}`);
          const dv = Math.abs(got[c * res.featureSize + net.np + i] - want[net.np + i]);
          assert.ok(dv <= 1e-5, `potential differs by ${dv} at char ${c}, neuron ${i}`);
        }
        spikes += want.slice(0, net.np).reduce((a, b) => a + b, 0) * config.substeps;
      }
      const counts = res.counts(state);
      assert.ok(ref.spikes > 0, 'the test network should fire');
      assert.is(counts.spikes, ref.spikes);
      assert.is(Math.round(spikes), ref.spikes);
      assert.is(counts.events, ref.events);
      assert.is(counts.updates, ref.updates);
    });
  }

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

test('the SIMD build reports SIMD and the scalar build does not', async () => {
  assert.is((await loadKernels('simd')).simd(), 1);
  assert.is((await loadKernels('scalar')).simd(), 0);
});

test.run();
