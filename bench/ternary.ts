// BitNet b1.58 ternary reservoir against the float one, from one run:
//   1. propagation speed: the float kernel (f32 weights ±γ) and the ternary kernel (±1 lists)
//      on the same synapses and the same fired neurons, in synaptic events per second; and
//      whole characters through runChars (LIF step + propagation) for both;
//   2. bytes per synapse of each layout;
//   3. test bpc of float, mixed and ternary models with equal neurons on Tiny Shakespeare.
// Usage: npx tsx bench/ternary.ts [--quick] [--neurons 500] [--epochs 2] [--seed 1]
//   --quick: the first 200,000 training characters, 20,000 of validation and of test, 1 epoch.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { type ModelConfig, type Precision, resolveConfig } from '../src/config.ts';
import { loadCorpus } from '../src/corpus.ts';
import { Heap, loadKernels, Reservoir } from '../src/engine.ts';
import { SpikingLM } from '../src/model.ts';
import { buildNetwork, type Network } from '../src/network.ts';
import { Rng } from '../src/rng.ts';
import { Vocabulary } from '../src/vocab.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const quick = args.includes('--quick');
const neurons = flag('neurons', 500);
const epochs = flag('epochs', quick ? 1 : 2);
const seed = flag('seed', 1);
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = process.env.SNNLM_DATA_DIR
  ? resolve(root, process.env.SNNLM_DATA_DIR)
  : resolve(root, '../shared/data');

const line = (s = '') => process.stdout.write(`${s}\n`);
const fmt = (x: number, digits = 2) => x.toFixed(digits);
const mega = (x: number) => `${fmt(x / 1e6, 1)} M`;

line(`# Ternary (BitNet b1.58) reservoir: seed ${seed}, ${quick ? 'quick' : 'full'} run`);
line(`command: npx tsx bench/ternary.ts ${args.join(' ')}`.trimEnd());
line();

// 1. Propagation speed ----------------------------------------------------------------------

/** The same network with the ternary layout removed: the float kernel runs ±γ weights. */
function floatView(net: Network): Network {
  return { ...net, ternary: undefined };
}

async function propagationSpeed(config: ModelConfig, vocabSize: number, firedFraction: number) {
  const net = buildNetwork(config, vocabSize);
  const t = net.ternary;
  if (!t) throw new Error('expected a ternary network');
  const heap = new Heap(await loadKernels('simd'));
  const k = heap.k;
  const rng = new Rng(seed);
  const fired = Int32Array.from(
    Array.from({ length: net.n }, (_, i) => i).filter(() => rng.uniform() < firedFraction),
  );
  const firedAt = heap.put(fired);
  const recF = heap.alloc(net.np * 4);
  const recT = heap.alloc(net.np * 4);
  const rowStart = heap.put(net.rowStart);
  const target = heap.put(net.target);
  const weight = heap.put(net.weight);
  const bounds = heap.put(t.bounds);
  const tTarget = heap.put(t.target);
  const adds = heap.alloc(8);
  const events = k.propagate(fired.length, firedAt, rowStart, target, weight, recF);
  const wide = !(t.target instanceof Uint16Array);
  const ternary = wide ? k.propagateTernaryU32 : k.propagateTernaryU16;
  // Three rounds of both, best of each: the machine is shared, so a round can be slowed by
  // other processes; the best round is the closest to the kernel's own speed.
  const best = { float: 0, ternary: 0 };
  for (let round = 0; round < 3; round++) {
    const bench = new Bench({ time: 500, warmup: true });
    bench
      .add('float', () => {
        k.propagate(fired.length, firedAt, rowStart, target, weight, recF);
      })
      .add('ternary', () => {
        ternary(fired.length, firedAt, bounds, tTarget, recT, adds);
      });
    await bench.run();
    for (const name of ['float', 'ternary'] as const) {
      const result = bench.getTask(name)?.result;
      const ms = result && 'period' in result ? result.period : Number.NaN; // per call
      best[name] = Math.max(best[name], (events / ms) * 1000);
    }
  }
  return {
    net,
    fired: fired.length,
    events,
    float: best.float,
    tern: best.ternary,
  };
}

async function reservoirSpeed(net: Network, substeps: number, vocabSize: number) {
  const chars = 20_000;
  const rng = new Rng(seed + 1);
  const ids = Uint16Array.from({ length: chars }, () => rng.int(0, vocabSize - 1));
  const out: Record<string, { charsPerSecond: number; eventsPerSecond: number }> = {};
  const runs = [];
  for (const [name, n] of [
    ['float', floatView(net)],
    ['ternary', net],
  ] as const) {
    const heap = new Heap(await loadKernels('simd'));
    const res = new Reservoir(heap, n, substeps, 'hybrid');
    const state = res.newState();
    const idsAt = heap.put(ids);
    res.run(state, idsAt, 2000); // warm-up
    runs.push({ name, res, state, idsAt });
    out[name] = { charsPerSecond: 0, eventsPerSecond: 0 };
  }
  // Alternating rounds, best of three (a shared machine).
  for (let round = 0; round < 3; round++) {
    for (const { name, res, state, idsAt } of runs) {
      res.reset(state);
      const t0 = performance.now();
      res.run(state, idsAt, chars);
      const seconds = (performance.now() - t0) / 1000;
      if (chars / seconds > out[name].charsPerSecond) {
        out[name] = {
          charsPerSecond: chars / seconds,
          eventsPerSecond: res.counts(state).events / seconds,
        };
      }
    }
  }
  return out;
}

const VOCAB = 66;
const sizes = [
  { neurons, connectivity: resolveConfig({}).connectivity },
  { neurons: 4000, connectivity: 0.02 },
];
const speedRows: string[] = [];
const charRows: string[] = [];
const layoutRows: string[] = [];
let ratio500 = Number.NaN;
for (const size of sizes) {
  const config = resolveConfig({ ...size, precision: 'mixed', seed });
  const s = await propagationSpeed(config, VOCAB, 0.1);
  if (size.neurons === neurons) ratio500 = s.tern / s.float;
  const fanOut = s.net.target.length / s.net.n;
  speedRows.push(
    `| ${size.neurons} | ${size.connectivity} | ${fmt(fanOut, 1)} | ${s.fired} | ${s.events} | ` +
      `${mega(s.float)} | ${mega(s.tern)} | ${fmt(s.tern / s.float)}× |`,
  );
  const r = await reservoirSpeed(s.net, config.substeps, VOCAB);
  charRows.push(
    `| ${size.neurons} | ${fmt(r.float.charsPerSecond / 1e3, 1)} k | ` +
      `${fmt(r.ternary.charsPerSecond / 1e3, 1)} k | ${mega(r.float.eventsPerSecond)} | ` +
      `${mega(r.ternary.eventsPerSecond)} | ` +
      `${fmt(r.ternary.charsPerSecond / r.float.charsPerSecond)}× |`,
  );
  // Bytes per synapse: the float layout holds the ternary network's synapses as u32 + f32.
  const float = floatView(s.net);
  const t = s.net.ternary;
  if (!t) throw new Error('expected a ternary network');
  const nnz = float.target.length;
  const floatPayload = (float.target.byteLength + float.weight.byteLength) / nnz;
  const floatTotal = floatPayload + float.rowStart.byteLength / nnz;
  const ternPayload = t.target.byteLength / nnz;
  const ternTotal = ternPayload + t.bounds.byteLength / nnz;
  layoutRows.push(
    `| ${size.neurons} | ${nnz} | ${fmt(floatPayload)} | ${fmt(floatTotal)} | ` +
      `${fmt(ternPayload)} | ${fmt(ternTotal)} | ${fmt(floatPayload / ternPayload)}× / ` +
      `${fmt(floatTotal / ternTotal)}× |`,
  );
}

line('## Propagation kernels alone (SIMD build, same synapses, 10% of neurons fired per call)');
line();
line(
  '| neurons | connectivity | fan-out | fired | events/call | float events/s | ' +
    'ternary events/s | ratio |',
);
line('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of speedRows) line(r);
line();
line('## Whole characters through runChars (LIF + propagation, 20,000 random characters)');
line();
line('| neurons | float chars/s | ternary chars/s | float events/s | ternary events/s | ratio |');
line('|---:|---:|---:|---:|---:|---:|');
for (const r of charRows) line(r);
line();
line('## Bytes per synapse (ternary network; zero-weight synapses are not stored in either)');
line();
line(
  '| neurons | synapses | float payload | float + rows | ternary payload | ' +
    'ternary + rows | fewer |',
);
line('|---:|---:|---:|---:|---:|---:|---:|');
for (const r of layoutRows) line(r);
line();
line('payload: u32 target + f32 weight (float) or u16 target (ternary); "+ rows" adds the');
line('row index (u32[n+1] float, u32[2n+1] ternary) spread over the synapses.');
line();

// 3. Test bpc ------------------------------------------------------------------------------

const corpus = await loadCorpus('tinyshakespeare', { dataDir, download: false });
const trainText = quick ? corpus.train.slice(0, 200_000) : corpus.train;
const validText = quick ? corpus.validation.slice(0, 20_000) : corpus.validation;
const testText = quick ? corpus.test.slice(0, 20_000) : corpus.test;
const vocab = Vocabulary.fromText(trainText);
line(
  `## Test bpc, Tiny Shakespeare: ${neurons} neurons, ${epochs} epoch(s), train ` +
    `${trainText.length} / validation ${validText.length} / test ${testText.length} chars`,
);
line();
line('| precision | test bpc | Δ vs float | accuracy | firing rate | synapses | train s |');
line('|---|---:|---:|---:|---:|---:|---:|');
const bpc: Partial<Record<Precision, number>> = {};
for (const precision of ['float', 'mixed', 'ternary'] as Precision[]) {
  const model = await SpikingLM.create({ neurons, epochs, seed, precision }, vocab);
  const report = await model.train(trainText, validText);
  const m = await model.evaluate(testText);
  bpc[precision] = m.bpc;
  const delta =
    precision === 'float'
      ? ''
      : `${m.bpc - (bpc.float ?? 0) >= 0 ? '+' : ''}${fmt(m.bpc - (bpc.float ?? 0), 3)}`;
  line(
    `| ${precision} | ${fmt(m.bpc, 3)} | ${delta} | ${fmt(m.accuracy * 100, 1)}% | ` +
      `${fmt(m.firingRate * 100, 2)}% | ${model.net.target.length} | ` +
      `${fmt(report.trainSeconds, 0)} |`,
  );
}
line();
const mixedDelta = (bpc.mixed ?? Number.NaN) - (bpc.float ?? Number.NaN);
line('## Targets');
line();
line(
  `- ternary reservoir within +0.05 bpc of float: mixed − float = ${fmt(mixedDelta, 3)} → ` +
    `${mixedDelta <= 0.05 ? 'met' : 'NOT met'}`,
);
line(
  `- ternary propagation ≥ 1.3× float (${neurons} neurons, kernels alone): ${fmt(ratio500)}× → ` +
    `${ratio500 >= 1.3 ? 'met' : 'NOT met'}`,
);
line('- ≥ 3× fewer bytes per synapse: see the table above (payload 8 → 2 bytes = 4×)');
