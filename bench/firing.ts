// Time per character against firing rate: the threshold is moved to get firing
// rates from about 0.5% to 20%, at two connectivities (two fan-outs), and
// ns/char = fixed + a × spikes/char + b × events/char is fitted to all points by
// least squares. If the engine is event-driven, this fits, b is the cost of one
// synaptic event and a the cost of visiting one fired neuron's row.
import {
  EngineRunner,
  fmt,
  median,
  note,
  pct,
  referenceConfig,
  shakespeare,
  table,
} from './common.ts';

const NEURONS = 1000;
const CHARS = 3000;
const CALIBRATE = 500;
const RATES = [0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2];
const CONNECTIVITY = [0.02, 0.1];
const ROUNDS = 3;

interface Point {
  connectivity: number;
  threshold: number;
  firing: number;
  spikesPerChar: number;
  eventsPerChar: number;
  nsPerChar: number;
}

export async function firingBench(): Promise<void> {
  const text = shakespeare().slice(0, CHARS);
  const points: Point[] = [];
  for (const connectivity of CONNECTIVITY) {
    // One runner per rate: each keeps its own threshold, so rounds can interleave.
    const runners: { runner: EngineRunner; threshold: number }[] = [];
    for (const rate of RATES) {
      const runner = await EngineRunner.create(referenceConfig(NEURONS, { connectivity }), text);
      const threshold = runner.matchFiring(rate, CALIBRATE, 0.2, 12, 14);
      runners.push({ runner, threshold });
    }
    const times = runners.map(() => [] as number[]);
    const last = runners.map(({ runner }) => runner.measure());
    for (let r = 0; r < ROUNDS; r++) {
      runners.forEach(({ runner }, i) => {
        last[i] = runner.measure();
        times[i].push((last[i].seconds * 1e9) / last[i].chars);
      });
    }
    runners.forEach(({ threshold }, i) => {
      const m = last[i];
      points.push({
        connectivity,
        threshold,
        firing: m.firing,
        spikesPerChar: m.spikes / m.chars,
        eventsPerChar: m.events / m.chars,
        nsPerChar: median(times[i]),
      });
    });
  }

  const fit = leastSquares(
    points.map((p) => [1, p.spikesPerChar, p.eventsPerChar]),
    points.map((p) => p.nsPerChar),
  );
  const predict = (p: Point) =>
    fit.beta[0] + fit.beta[1] * p.spikesPerChar + fit.beta[2] * p.eventsPerChar;
  note(
    `${fmt(NEURONS)} neurons, leak 0.9, input N(0, 0.5²), recurrent N(0, 0.03²), 10 ` +
      `substeps, ${fmt(CHARS)} characters of Tiny Shakespeare, SIMD build, threshold ` +
      `varied; median of ${ROUNDS} interleaved rounds.`,
  );
  table(
    'Time per character against firing rate',
    [
      'connectivity',
      'threshold',
      'firing',
      'spikes/char',
      'events/char',
      'ns/char',
      'ns/event (all time)',
      'fitted ns/char',
    ],
    points.map((p) => [
      pct(p.connectivity, 0),
      p.threshold.toFixed(3),
      pct(p.firing, 2),
      fmt(p.spikesPerChar, 0),
      fmt(p.eventsPerChar, 0),
      fmt(p.nsPerChar, 0),
      fmt(p.nsPerChar / p.eventsPerChar, 2),
      fmt(predict(p), 0),
    ]),
  );
  const [fixed, perSpike, perEvent] = fit.beta;
  note(
    `Least squares over all ${points.length} points: ns/char = ${fmt(fixed, 0)} + ` +
      `${fmt(perSpike, 2)} × spikes/char + ${fmt(perEvent, 3)} × events/char ` +
      `(R² = ${fit.r2.toFixed(4)}). Fixed: ${fmt(fixed / (10 * NEURONS), 2)} ns per neuron ` +
      `update (lifStep); per fired neuron ${fmt(perSpike, 2)} ns (its row's setup); per ` +
      `synaptic event ${fmt(perEvent, 2)} ns (the scatter-add).`,
  );
}

/** Ordinary least squares y ≈ X·β via the normal equations (few columns). */
function leastSquares(x: number[][], y: number[]): { beta: number[]; r2: number } {
  const k = x[0].length;
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  x.forEach((row, r) => {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) a[i][j] += row[i] * row[j];
      a[i][k] += row[i] * y[r];
    }
  });
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let j = c; j <= k; j++) a[r][j] -= f * a[c][j];
    }
  }
  const beta = a.map((row, i) => row[k] / row[i]);
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  let ssRes = 0;
  let ssTot = 0;
  x.forEach((row, r) => {
    const fitted = row.reduce((s, v, i) => s + v * beta[i], 0);
    ssRes += (y[r] - fitted) ** 2;
    ssTot += (y[r] - mean) ** 2;
  });
  return { beta, r2: 1 - ssRes / ssTot };
}
