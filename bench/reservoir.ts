// The whole reservoir (LIF step + propagate, 10 substeps, no features) on Tiny
// Shakespeare at 1,000 and 4,000 neurons, beside the two yardsticks of
// shared/bench-refs run in the same process: the native event-driven C loop and
// the prototype's dense numpy loop. The engine runs their exact parameters and
// their order of a substep ('prototype' dynamics), so it fires as often as they do;
// the standard order with the same parameters is shown beside. Then where the
// engine's time goes.
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
  { neurons: 1000, chars: 10_000, numpyChars: 300 },
  { neurons: 4000, chars: 1_000, numpyChars: 40 },
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
  const { neurons, chars, numpyChars } = size;
  const text = shakespeare().slice(0, chars);
  const proto = await EngineRunner.create(referenceConfig(neurons), text);
  const standard = await EngineRunner.create(
    referenceConfig(neurons, { dynamics: 'standard' }),
    text,
  );

  const enginePrototype: number[] = [];
  const engineStandard: number[] = [];
  const natives: RefRun[] = [];
  // One untimed pass each to warm up, then rounds that interleave the three.
  let protoRun = proto.measure();
  let standardRun = standard.measure();
  for (let r = 0; r < ROUNDS; r++) {
    protoRun = proto.measure();
    enginePrototype.push(protoRun.chars / protoRun.seconds);
    standardRun = standard.measure();
    engineStandard.push(standardRun.chars / standardRun.seconds);
    natives.push(await runNative(neurons, chars));
  }
  const numpy = await runNumpy(neurons, numpyChars);
  const numpyOne = await runNumpy(neurons, numpyChars, 10, true);

  const native = median(natives.map((n) => n.charsPerSecond));
  const nativeEvents = median(natives.map((n) => n.eventsPerSecond));
  const e1 = median(enginePrototype);
  const e2 = median(engineStandard);
  const events = (run: typeof protoRun, cps: number) => (run.events / run.chars) * cps;
  const nsPerEvent = (eps: number) => fmt(1e9 / eps, 2);
  const engineRow = (name: string, run: typeof protoRun, cps: number) => [
    name,
    fmt(chars),
    fmt(cps),
    pct(run.firing, 2),
    `${fmt(events(run, cps) / 1e6, 0)} M`,
    nsPerEvent(events(run, cps)),
    ratio(cps, native),
    ratio(cps, numpy.charsPerSecond),
  ];
  table(
    `Reservoir, ${fmt(neurons)} neurons (${fmt(proto.net.target.length)} synapses)`,
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
      engineRow("engine (SIMD), prototype dynamics (the yardsticks' order)", protoRun, e1),
      engineRow('engine (SIMD), standard dynamics, same parameters', standardRun, e2),
      [
        'native C (cc -O3 -march=native)',
        fmt(chars),
        fmt(native),
        pct(natives[0].firing, 2),
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
      [
        'numpy (dense), BLAS on one thread',
        fmt(numpyOne.chars),
        fmt(numpyOne.charsPerSecond, 1),
        pct(numpyOne.firing, 2),
        '',
        '',
        ratio(numpyOne.charsPerSecond, native),
        ratio(numpyOne.charsPerSecond, numpy.charsPerSecond),
      ],
    ],
  );
  note(
    `Engine (prototype dynamics) against numpy with its BLAS on one thread: ` +
      `${ratio(e1, numpyOne.charsPerSecond)}.`,
  );
}

// The engine's substeps (prototype order) driven from JavaScript, twice: as runChars
// does them, and with the LIF step alone (no recurrent input, so slightly different
// spikes, but its cost hardly depends on them). The difference is propagate's time.
async function profile(): Promise<void> {
  const rows: string[][] = [];
  for (const { neurons, chars } of SIZES) {
    const text = shakespeare().slice(0, chars);
    const runner = await EngineRunner.create(referenceConfig(neurons), text);
    const k = runner.heap.k;
    const f = runner.fields();
    const ids = runner.heap.u16(runner.idsAt, runner.chars);
    const propagate = runner.net.target instanceof Uint16Array ? k.propagateU16 : k.propagate;
    let spikes = 0;
    let events = 0;
    const pass = (withPropagate: boolean): number => {
      runner.reservoir.reset(runner.state);
      spikes = 0;
      events = 0;
      const t0 = performance.now();
      let fired = 0; // at rest nothing is above threshold
      for (let c = 0; c < chars; c++) {
        const drive = f.drive + ids[c] * f.n * 4;
        for (let s = 0; s < f.substeps; s++) {
          spikes += fired;
          if (withPropagate) {
            events += propagate(fired, f.fired, f.rowStart, f.target, f.weight, f.rec);
          }
          fired = k.lifStepPrototype(f.n, f.v, f.leak, drive, f.rec, f.thr, f.counts, f.fired);
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
    'Where the engine spends a character (prototype dynamics; substeps driven from JS)',
    [
      'neurons',
      'ns/char',
      'LIF step + loop ns/char',
      'propagate ns/char',
      'propagate share',
      'ns per neuron update',
      'ns per synaptic event',
      'fan-out',
    ],
    rows,
  );
}
