// The whole reservoir (lifStep + propagate, 10 substeps, no features) on Tiny
// Shakespeare at 1,000 and 4,000 neurons, beside the two yardsticks of
// shared/bench-refs run in the same process: the native event-driven C loop and
// the prototype's dense numpy loop. Then where the engine's time goes.
import {
  EngineRunner,
  fmt,
  median,
  note,
  pct,
  type RefRun,
  ratio,
  referenceConfig,
  runNative,
  runNumpy,
  shakespeare,
  table,
} from './common.ts';

/** Characters per size: engine and native, numpy (much slower). */
const SIZES = [
  { neurons: 1000, chars: 10_000, numpyChars: 300, calibrate: 1000 },
  { neurons: 4000, chars: 1_000, numpyChars: 40, calibrate: 200 },
];
const ROUNDS = 3;

export async function reservoirBench(): Promise<void> {
  note(
    'Reservoir dynamics of shared/bench-refs: leak 0.9, threshold 1, input N(0, 0.5²), ' +
      'recurrent N(0, 0.03²) at 10% connectivity, 10 substeps per character, Tiny ' +
      `Shakespeare from its start; median of ${ROUNDS} interleaved rounds (numpy: one run).`,
  );
  for (const size of SIZES) await one(size);
  await profile();
}

async function one(size: (typeof SIZES)[number]): Promise<void> {
  const { neurons, chars, numpyChars, calibrate } = size;
  const text = shakespeare().slice(0, chars);
  const same = await EngineRunner.create(referenceConfig(neurons), text);
  const matched = await EngineRunner.create(referenceConfig(neurons), text);

  const firstNative = await runNative(neurons, chars);
  const threshold = matched.matchFiring(firstNative.firing, calibrate);

  const engineSame: number[] = [];
  const engineMatched: number[] = [];
  const natives: RefRun[] = [firstNative];
  let sameRun = same.measure();
  let matchedRun = matched.measure();
  for (let r = 0; r < ROUNDS; r++) {
    sameRun = same.measure();
    engineSame.push(sameRun.chars / sameRun.seconds);
    matchedRun = matched.measure();
    engineMatched.push(matchedRun.chars / matchedRun.seconds);
    if (r > 0) natives.push(await runNative(neurons, chars));
  }
  const numpy = await runNumpy(neurons, numpyChars);

  const native = median(natives.map((n) => n.charsPerSecond));
  const nativeEvents = median(natives.map((n) => n.eventsPerSecond));
  const e1 = median(engineSame);
  const e2 = median(engineMatched);
  const events = (run: typeof sameRun, cps: number) => (run.events / run.chars) * cps;
  const nsPerEvent = (eps: number) => fmt(1e9 / eps, 2);
  table(
    `Reservoir, ${fmt(neurons)} neurons (${fmt(same.net.target.length)} synapses)`,
    [
      'implementation',
      'chars',
      'chars/s',
      'firing',
      'synaptic events/s',
      'ns/event',
      'vs native',
      'vs numpy',
    ],
    [
      [
        'engine (SIMD), same parameters',
        fmt(chars),
        fmt(e1),
        pct(sameRun.firing, 2),
        `${fmt(events(sameRun, e1) / 1e6, 0)} M`,
        nsPerEvent(events(sameRun, e1)),
        ratio(e1, native),
        ratio(e1, numpy.charsPerSecond),
      ],
      [
        `engine (SIMD), threshold ${threshold.toFixed(3)} (native's firing)`,
        fmt(chars),
        fmt(e2),
        pct(matchedRun.firing, 2),
        `${fmt(events(matchedRun, e2) / 1e6, 0)} M`,
        nsPerEvent(events(matchedRun, e2)),
        ratio(e2, native),
        ratio(e2, numpy.charsPerSecond),
      ],
      [
        'native C (cc -O3 -march=native)',
        fmt(chars),
        fmt(native),
        pct(firstNative.firing, 2),
        `${fmt(nativeEvents / 1e6, 0)} M`,
        nsPerEvent(nativeEvents),
        '1.00×',
        ratio(native, numpy.charsPerSecond),
      ],
      [
        'numpy (dense)',
        fmt(numpy.chars),
        fmt(numpy.charsPerSecond, 1),
        pct(numpy.firing, 2),
        '',
        '',
        ratio(numpy.charsPerSecond, native),
        '1.00×',
      ],
    ],
  );
}

// The engine's substeps driven from JavaScript, twice: as runChars does them,
// and with lifStep alone (no recurrent input, so slightly different spikes, but
// lifStep's cost hardly depends on them). The difference is propagate's time.
async function profile(): Promise<void> {
  const rows: string[][] = [];
  for (const { neurons, chars } of SIZES) {
    const text = shakespeare().slice(0, chars);
    const runner = await EngineRunner.create(referenceConfig(neurons), text);
    const k = runner.heap.k;
    const f = runner.fields();
    const ids = runner.heap.u16(runner.idsAt, runner.chars);
    let spikes = 0;
    let events = 0;
    const pass = (withPropagate: boolean): number => {
      runner.reservoir.reset(runner.state);
      spikes = 0;
      events = 0;
      const t0 = performance.now();
      for (let c = 0; c < chars; c++) {
        const drive = f.drive + ids[c] * f.n * 4;
        for (let s = 0; s < f.substeps; s++) {
          const fired = k.lifStep(f.n, f.v, f.leak, drive, f.rec, f.thr, f.counts, f.fired);
          if (withPropagate) {
            events += k.propagate(fired, f.fired, f.rowStart, f.target, f.weight, f.rec);
          }
          spikes += fired;
        }
      }
      return performance.now() - t0;
    };
    const full: number[] = [];
    const lifOnly: number[] = [];
    pass(true);
    for (let r = 0; r < ROUNDS; r++) {
      lifOnly.push(pass(false));
      full.push(pass(true));
    }
    const total = median(full);
    const lif = median(lifOnly);
    const prop = total - lif;
    const perChar = (ms: number) => fmt((ms * 1e6) / chars, 0);
    rows.push([
      fmt(neurons),
      perChar(total),
      perChar(lif),
      perChar(prop),
      pct(prop / total),
      fmt((lif * 1e6) / (chars * f.substeps * f.n), 2),
      fmt((prop * 1e6) / events, 2),
      fmt(events / spikes, 0),
    ]);
  }
  table(
    'Where the engine spends a character (threshold 1; substeps driven from JS)',
    [
      'neurons',
      'ns/char',
      'lifStep + loop ns/char',
      'propagate ns/char',
      'propagate share',
      'ns per neuron update',
      'ns per synaptic event',
      'fan-out',
    ],
    rows,
  );
}
