// Robustness, compression and scaling experiments (`snnlm experiment NAME`), each run for
// the spiking model, the echo state network and the random-LSTM reservoir (src/baselines.ts)
// once per seed, and scored on the test split:
//   noise     input characters replaced at random, at test time only and in training and
//             test alike; Gaussian noise added to the input drive
//   prune     neurons removed after training, at random or by readout-weight importance,
//             with the readout kept as trained or refitted
//   quantize  post-training symmetric uniform quantisation of the input, recurrent and
//             readout weights, each matrix alone and all together, with the model's bytes
//   scale     test bpc, training time and firing rate against neurons, substeps per
//             character, training characters and connectivity
//   context   how far back memory reaches: the change in test bpc when the character k
//             positions back is replaced at random, k = 1 … 64
// The perturbations themselves are in src/perturb.ts. Every measurement is a Point; the
// summary is mean ± sample standard deviation over the seeds of each (series, x, model).
import { type PanelPoint, panelChartSvg } from './chart.ts';
import { type ModelConfig, RESERVOIR_ONLY, resolveConfig } from './config.ts';
import { SnnlmError } from './errors.ts';
import { fixed, markdownTable, meanSd, type ReportMeta, type Splits } from './experiments.ts';
import type { Metrics } from './metrics.ts';
import type { Progress } from './model.ts';
import {
  closeSubject,
  corruptIds,
  corruptPeriodic,
  layoutOf,
  MODEL_KINDS,
  type ModelKind,
  modelBytes,
  type Precisions,
  quantizeModel,
  readoutImportance,
  removeUnits,
  restore,
  type Subject,
  scoreNoisyDrive,
  scoreSubject,
  snapshot,
  trainSubject,
  unitsToRemove,
} from './perturb.ts';
import { Rng, subSeed } from './rng.ts';
import { Vocabulary } from './vocab.ts';

/** The experiments, in the order the help lists them. */
export type ExperimentName = 'noise' | 'prune' | 'quantize' | 'scale' | 'context';
export const EXPERIMENT_NAMES: readonly ExperimentName[] = [
  'noise',
  'prune',
  'quantize',
  'scale',
  'context',
];

/** How each model is named in reports. */
export const MODEL_LABELS: Record<ModelKind, string> = {
  spiking: 'spiking',
  esn: 'ESN',
  lstm: 'random LSTM',
};

/** What each experiment varies. Values of the scale sweeps are relative to the base. */
export interface Sweeps {
  /** Fractions of input characters replaced. */
  replaceRates: number[];
  /** Standard deviations of the drive noise, in units of the configuration's inputScale. */
  driveSigmas: number[];
  /** Fractions of neurons kept. */
  keep: number[];
  /** Bits per weight. */
  bits: number[];
  /** Multiples of the base configuration's neurons. */
  neuronFactors: number[];
  substeps: number[];
  /** Fractions of the training split (a prefix of it). */
  charFractions: number[];
  connectivity: number[];
  /** The longest distance back, k, of the context experiment. */
  contextMax: number;
  /** One replaced character every `contextPeriod` positions (more than contextMax). */
  contextPeriod: number;
  /** Corrupted copies of the test split, each from its own random offset. */
  contextRounds: number;
}

/** The sweeps of a full run. */
export const SWEEPS: Readonly<Sweeps> = Object.freeze({
  replaceRates: [0, 0.05, 0.1, 0.2, 0.3],
  driveSigmas: [0, 0.25, 0.5, 1, 2],
  keep: [1, 0.8, 0.6, 0.4, 0.2],
  bits: [8, 4, 3, 2],
  neuronFactors: [0.25, 0.5, 1, 2],
  substeps: [1, 2, 5, 10],
  charFractions: [0.125, 0.25, 0.5, 1],
  connectivity: [0.005, 0.01, 0.02, 0.05],
  contextMax: 64,
  contextPeriod: 128,
  contextRounds: 4,
});

/**
 * The sweeps of --quick: the same perturbations, shorter scale sweeps, and more context
 * rounds (a 1,000-character test split holds only 8 replaced characters per round).
 */
export const QUICK_SWEEPS: Readonly<Sweeps> = Object.freeze({
  ...SWEEPS,
  neuronFactors: [0.5, 1, 2],
  substeps: [1, 5],
  charFractions: [0.25, 1],
  connectivity: [0.02, 0.1],
  contextRounds: 32,
});

/**
 * The reduced sizes of the README figures (--small): all five experiments for three
 * models and three seeds take about 30 minutes on a 2-core machine.
 */
export const SMALL = Object.freeze({
  trainChars: 200_000,
  config: Object.freeze({ neurons: 250, epochs: 2 }) as Partial<ModelConfig>,
});

/** Settings of an experiment. */
export interface RobustnessOptions {
  /** Every configuration field but seed. @default the defaults of src/config.ts */
  base?: Partial<ModelConfig>;
  /** One model of each kind per seed. @default [1, 2, 3] */
  seeds?: number[];
  /** @default ['spiking', 'esn', 'lstm'] */
  models?: ModelKind[];
  /** What is varied. @default SWEEPS */
  sweeps?: Sweeps;
  /** Threads the spiking models train and score on; baselines use one. @default 1 */
  threads?: number;
  /** Called after each measurement. */
  onPoint?: (point: Point, index: number, total: number) => void;
  onProgress?: (p: Progress) => void;
}

/** One measurement: one model and seed under one perturbation. */
export interface Point {
  model: ModelKind;
  seed: number;
  /** Which curve it belongs to, e.g. 'test only', 'random, refitted', 'input', 'neurons'. */
  series: string;
  /** Where on the curve: a rate, a kept fraction, bits, a size or k. */
  x: number;
  /** Test bits per character (context: over the characters k after a replaced one). */
  bpc: number;
  /** Test top-1 accuracy; null where not measured (context). */
  accuracy: number | null;
  /** bpc minus the unperturbed bpc of the same model and seed; null for scale. */
  delta: number | null;
  /** quantize: the model's bytes at these precisions. */
  bytes?: number;
  /** scale: wall-clock seconds to build the model and train its readout. */
  seconds?: number;
  /** scale: fraction of neurons firing per substep over the training text (spiking only). */
  firingRate?: number | null;
}

/** Mean and sample standard deviation over seeds (sd is NaN for one seed). */
export interface Spread {
  mean: number;
  sd: number;
}

/** The points of one (series, x, model), over the seeds. */
export interface Summary {
  series: string;
  x: number;
  model: ModelKind;
  bpc: Spread;
  accuracy: Spread | null;
  delta: Spread | null;
  bytes?: Spread;
  seconds?: Spread;
  firingRate?: Spread | null;
}

/** A claim of the research prototype, tested against the numbers. */
export interface Claim {
  claim: string;
  rule: string;
  verdict: 'confirmed' | 'refuted' | 'mixed' | 'not tested';
  evidence: string;
}

/** What an experiment returns. */
export interface RobustnessResult<E extends ExperimentName = ExperimentName> {
  experiment: E;
  /** The configuration every model shares, but for its seed (and a scale sweep's field). */
  config: Omit<ModelConfig, 'seed'>;
  seeds: number[];
  models: ModelKind[];
  sweeps: Sweeps;
  vocabSize: number;
  trainChars: number;
  validationChars: number;
  testChars: number;
  points: Point[];
  summary: Summary[];
  claims: Claim[];
}

// ---- Shared set-up ----

interface Setup {
  config: ModelConfig;
  seeds: number[];
  models: ModelKind[];
  sweeps: Sweeps;
  vocab: Vocabulary;
  trainIds: Uint16Array;
  testIds: Uint16Array;
}

function prepare(splits: Splits, options: RobustnessOptions): Setup {
  const seeds = options.seeds ?? [1, 2, 3];
  if (seeds.length === 0 || new Set(seeds).size !== seeds.length) {
    throw new SnnlmError('the seeds must be a non-empty list without repeats', '--seeds 1,2,3');
  }
  const models = options.models ?? [...MODEL_KINDS];
  if (models.length === 0 || new Set(models).size !== models.length) {
    throw new SnnlmError(
      'the models must be a non-empty list without repeats',
      `--models ${MODEL_KINDS.join(',')}`,
    );
  }
  // The experiments perturb the reservoir, its input and its readout, and compare it with
  // baselines of the same size, so the spiking model runs without the detector layer, with
  // the readout settings that suit a reservoir alone where none are given.
  const config = resolveConfig({ ...RESERVOIR_ONLY, ...options.base, detectors: 0 });
  if (config.precision !== 'float') {
    throw new SnnlmError(
      'the robustness experiments perturb f32 weights; ternary networks are not supported',
      "leave precision at 'float'",
    );
  }
  for (const seed of seeds) resolveConfig({ ...config, seed });
  const vocab = Vocabulary.fromText(splits.train);
  return {
    config,
    seeds,
    models,
    sweeps: options.sweeps ?? SWEEPS,
    vocab,
    trainIds: vocab.encode(splits.train).ids,
    testIds: vocab.encode(splits.test).ids,
  };
}

/** Collects points and reports each as it comes. */
class Points {
  readonly list: Point[] = [];
  constructor(
    private readonly total: number,
    private readonly onPoint?: RobustnessOptions['onPoint'],
  ) {}

  add(p: Point): void {
    this.list.push(p);
    this.onPoint?.(p, this.list.length, this.total);
  }
}

/** Trains one subject for each seed and model kind and hands it to `measure`. */
async function eachSubject(
  s: Setup,
  splits: Splits,
  options: RobustnessOptions,
  measure: (subject: Subject, seed: number, config: ModelConfig) => Promise<void>,
): Promise<void> {
  for (const seed of s.seeds) {
    for (const kind of s.models) {
      const config = { ...s.config, seed };
      const subject = await trainSubject(kind, config, s.vocab, splits, subjectOptions(options));
      try {
        await measure(subject, seed, config);
      } finally {
        await closeSubject(subject);
      }
    }
  }
}

function subjectOptions(options: RobustnessOptions) {
  return { threads: options.threads, onProgress: options.onProgress };
}

function measured(
  subject: Subject,
  seed: number,
  series: string,
  x: number,
  m: Metrics,
  ref: Metrics | null,
): Point {
  return {
    model: subject.kind,
    seed,
    series,
    x,
    bpc: m.bpc,
    accuracy: m.accuracy,
    delta: ref ? m.bpc - ref.bpc : null,
  };
}

function result<E extends ExperimentName>(
  experiment: E,
  s: Setup,
  splits: Splits,
  points: Point[],
  claims: (summary: Summary[]) => Claim[],
): RobustnessResult<E> {
  const summary = summarize(points);
  const { seed: _seed, ...config } = s.config;
  return {
    experiment,
    config,
    seeds: s.seeds,
    models: s.models,
    sweeps: s.sweeps,
    vocabSize: s.vocab.size,
    trainChars: splits.train.length,
    validationChars: splits.validation.length,
    testChars: splits.test.length,
    points,
    summary,
    claims: claims(summary),
  };
}

/** Groups points by (series, x, model), in the order they first appear. */
export function summarize(points: Point[]): Summary[] {
  const groups = new Map<string, Point[]>();
  for (const p of points) {
    const key = `${p.series}\u0000${p.x}\u0000${p.model}`;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  const spreadOf = (g: Point[], f: (p: Point) => number | null | undefined) => {
    const xs = g.map(f);
    return xs.every((x) => typeof x === 'number') ? meanSd(xs as number[]) : null;
  };
  return [...groups.values()].map((g) => {
    const { series, x, model } = g[0];
    const row: Summary = {
      series,
      x,
      model,
      bpc: meanSd(g.map((p) => p.bpc)),
      accuracy: spreadOf(g, (p) => p.accuracy),
      delta: spreadOf(g, (p) => p.delta),
    };
    if (g[0].bytes !== undefined) row.bytes = spreadOf(g, (p) => p.bytes) ?? undefined;
    if (g[0].seconds !== undefined) row.seconds = spreadOf(g, (p) => p.seconds) ?? undefined;
    if (g[0].firingRate !== undefined) row.firingRate = spreadOf(g, (p) => p.firingRate);
    return row;
  });
}

function find(summary: Summary[], series: string, x: number, model: ModelKind) {
  return summary.find((r) => r.series === series && r.x === x && r.model === model);
}

// ---- noise ----

/** Series of the noise experiment. */
export const NOISE_SERIES = {
  testOnly: 'replaced, test only',
  trainAndTest: 'replaced, train and test',
  drive: 'drive noise',
} as const;

/**
 * Replaced input characters and noisy input drive. A replaced character is drawn uniformly
 * from the other known characters; the model still predicts the clean text (the targets are
 * never corrupted). Test only: the clean model reads the corrupted test split. Train and
 * test: a model is trained on the training split corrupted at the same rate (its epoch is
 * still chosen on the clean validation split) and reads the same corrupted test split.
 * Drive noise: fresh N(0, (σ · inputScale)²) added to every unit's input current for every
 * character, scored as one stream from rest (see scoreNoisyDrive), so its σ = 0 point is
 * its own reference.
 */
export async function noiseExperiment(
  splits: Splits,
  options: RobustnessOptions = {},
): Promise<RobustnessResult<'noise'>> {
  const s = prepare(splits, options);
  const { replaceRates: rates, driveSigmas: sigmas } = s.sweeps;
  const v = s.vocab.size;
  const perSubject = 2 * rates.length + sigmas.length;
  const out = new Points(s.seeds.length * s.models.length * perSubject, options.onPoint);
  const noisyTest = (seed: number) =>
    rates.map((rate, i) => corruptIds(s.testIds, rate, v, new Rng(subSeed(seed, 100 + i))));
  const progress = options.onProgress;

  await eachSubject(s, splits, options, async (subject, seed, config) => {
    const tests = noisyTest(seed);
    const clean = await scoreSubject(subject, s.testIds, undefined, undefined, progress);
    for (const [i, rate] of rates.entries()) {
      const m = await scoreSubject(subject, tests[i], s.testIds, undefined, progress);
      out.add(measured(subject, seed, NOISE_SERIES.testOnly, rate, m, clean));
    }

    // Models trained on corrupted text, one per non-zero rate (at 0 it is the clean one).
    out.add(measured(subject, seed, NOISE_SERIES.trainAndTest, 0, clean, clean));
    for (const [i, rate] of rates.entries()) {
      if (rate === 0) continue;
      const rng = new Rng(subSeed(seed, 200 + i));
      const train = s.vocab.decode(corruptIds(s.trainIds, rate, v, rng));
      const text = { train, validation: splits.validation, targets: splits.train };
      const noisy = await trainSubject(
        subject.kind,
        config,
        s.vocab,
        text,
        subjectOptions(options),
      );
      try {
        const m = await scoreSubject(noisy, tests[i], s.testIds, undefined, progress);
        out.add(measured(subject, seed, NOISE_SERIES.trainAndTest, rate, m, clean));
      } finally {
        await closeSubject(noisy);
      }
    }

    let quiet: Metrics | null = null;
    for (const [i, sigma] of sigmas.entries()) {
      const rng = new Rng(subSeed(seed, 300 + i));
      const m = await scoreNoisyDrive(subject.model, s.testIds, sigma * config.inputScale, rng);
      quiet ??= sigma === 0 ? m : null;
      out.add(measured(subject, seed, NOISE_SERIES.drive, sigma, m, quiet));
    }
  });
  return result('noise', s, splits, out.list, (summary) => noiseClaims(summary, s));
}

/** "Robustness to noise": the spiking model degrades less than both baselines. */
function noiseClaims(summary: Summary[], s: Setup): Claim[] {
  const claim = 'the spiking model is robust to noise';
  const rule =
    'confirmed if its test bpc rises less than that of every baseline at every replacement ' +
    'rate (test only) and every drive-noise level; refuted if more at every one; else mixed';
  const levels = [
    ...s.sweeps.replaceRates.filter((r) => r > 0).map((x) => [NOISE_SERIES.testOnly, x] as const),
    ...s.sweeps.driveSigmas.filter((r) => r > 0).map((x) => [NOISE_SERIES.drive, x] as const),
  ];
  const others = s.models.filter((m) => m !== 'spiking');
  const evidence = levels
    .filter(([series, x]) => series === NOISE_SERIES.testOnly && (x === 0.1 || x === 0.3))
    .map(
      ([series, x]) =>
        `${pct(x)} replaced: ` +
        s.models
          .map((m) => `${MODEL_LABELS[m]} ${signed(find(summary, series, x, m)?.delta?.mean)}`)
          .join(', '),
    )
    .join('; ');
  if (!s.models.includes('spiking') || others.length === 0) {
    return [
      { claim, rule, verdict: 'not tested', evidence: 'needs the spiking model and a baseline' },
    ];
  }
  let less = 0;
  let more = 0;
  for (const [series, x] of levels) {
    const mine = find(summary, series, x, 'spiking')?.delta?.mean ?? Number.NaN;
    const theirs = others.map((m) => find(summary, series, x, m)?.delta?.mean ?? Number.NaN);
    if (theirs.every((t) => mine < t)) less++;
    else if (theirs.every((t) => mine > t)) more++;
  }
  const verdict =
    less === levels.length ? 'confirmed' : more === levels.length ? 'refuted' : 'mixed';
  return [
    {
      claim,
      rule,
      verdict,
      evidence: `${evidence} (Δ bpc; smallest rise at ${less} of ${levels.length} levels)`,
    },
  ];
}

// ---- prune ----

/** The prune series: how units are chosen, and whether the readout is refitted. */
export function pruneSeries(by: 'random' | 'importance', refit: boolean): string {
  return `${by}, ${refit ? 'readout refitted' : 'readout kept'}`;
}

/**
 * Neurons (units) removed after training: at random (nested sets: a seeded random order),
 * or the least important first, importance being the L2 norm of a unit's readout weights.
 * Kept: the trained readout with the removed units' columns zeroed. Refitted: the readout
 * (and the feature standardisation) trained again on the pruned reservoir.
 */
export async function pruneExperiment(
  splits: Splits,
  options: RobustnessOptions = {},
): Promise<RobustnessResult<'prune'>> {
  const s = prepare(splits, options);
  const { keep } = s.sweeps;
  const out = new Points(s.seeds.length * s.models.length * 4 * keep.length, options.onPoint);
  const progress = options.onProgress;

  await eachSubject(s, splits, options, async (subject, seed) => {
    const { model } = subject;
    const layout = layoutOf(model);
    const clean = await scoreSubject(subject, s.testIds, undefined, undefined, progress);
    const saved = snapshot(model, layout);
    const rng = new Rng(subSeed(seed, 400));
    const orders = {
      random: Float64Array.from({ length: layout.n }, () => rng.uniform()),
      importance: readoutImportance(model, layout),
    };
    // Refitting with every unit kept is the same for both orders: trained once.
    let refitAll: Metrics | undefined;
    for (const by of ['random', 'importance'] as const) {
      for (const fraction of keep) {
        const kept = Math.round(fraction * layout.n);
        const removed = unitsToRemove(layout, kept, { importance: orders[by] });
        removeUnits(model, layout, removed);
        const m = await scoreSubject(subject, s.testIds, undefined, undefined, progress);
        out.add(measured(subject, seed, pruneSeries(by, false), fraction, m, clean));
        let refitted = kept === layout.n ? refitAll : undefined;
        if (!refitted) {
          await model.train(splits.train, splits.validation, { pool: subject.pool });
          refitted = await scoreSubject(subject, s.testIds, undefined, undefined, progress);
          if (kept === layout.n) refitAll = refitted;
        }
        out.add(measured(subject, seed, pruneSeries(by, true), fraction, refitted, clean));
        restore(model, layout, saved);
      }
    }
  });
  return result('prune', s, splits, out.list, (summary) => pruneClaims(summary, s));
}

/** "Graceful pruning": keeping 60% at random without refitting costs at most 5%. */
function pruneClaims(summary: Summary[], s: Setup): Claim[] {
  const claim = 'pruning the spiking model degrades it gracefully';
  const rule =
    'confirmed if keeping 60% of its neurons at random, with the readout kept as trained, ' +
    'raises test bpc by at most 5%';
  const series = pruneSeries('random', false);
  const at = (x: number, m: ModelKind) => find(summary, series, x, m);
  const spiking = at(0.6, 'spiking');
  const base = at(1, 'spiking');
  if (!spiking?.delta || !base) {
    return [{ claim, rule, verdict: 'not tested', evidence: 'needs the spiking model at 60%' }];
  }
  const rise = spiking.delta.mean / base.bpc.mean;
  const evidence = s.models
    .map(
      (m) =>
        `${MODEL_LABELS[m]}: ` +
        s.sweeps.keep
          .filter((x) => x < 1)
          .map((x) => `${pct(x)} ${signed(at(x, m)?.delta?.mean)}`)
          .join(', '),
    )
    .join('; ');
  return [
    {
      claim,
      rule,
      verdict: rise <= 0.05 ? 'confirmed' : 'refuted',
      evidence:
        `at 60%: +${(rise * 100).toFixed(1)}% for the spiking model; Δ bpc by neurons ` +
        `kept (random, readout kept): ${evidence}`,
    },
  ];
}

// ---- quantize ----

/** Which matrices a quantize series quantises. */
export const QUANTIZE_SERIES = ['input', 'recurrent', 'readout', 'all'] as const;
const F32: Precisions = { input: 32, recurrent: 32, readout: 32 };

/**
 * Post-training quantisation: w ← s·clamp(round(w/s), −q, q), q = 2^(b−1) − 1, one scale
 * s = max |w| / q per matrix (quantizeSymmetric), of one matrix or all three. Bytes count
 * every matrix at its bits, plus indices, per-unit constants and standardisation (modelBytes).
 * The series 'f32' (x = 32) is the unquantised model.
 */
export async function quantizeExperiment(
  splits: Splits,
  options: RobustnessOptions = {},
): Promise<RobustnessResult<'quantize'>> {
  const s = prepare(splits, options);
  const { bits } = s.sweeps;
  const perSubject = 1 + QUANTIZE_SERIES.length * bits.length;
  const out = new Points(s.seeds.length * s.models.length * perSubject, options.onPoint);
  const progress = options.onProgress;

  await eachSubject(s, splits, options, async (subject, seed) => {
    const { model } = subject;
    const layout = layoutOf(model);
    const clean = await scoreSubject(subject, s.testIds, undefined, undefined, progress);
    out.add({
      ...measured(subject, seed, 'f32', 32, clean, clean),
      bytes: modelBytes(model, layout, F32),
    });
    const saved = snapshot(model, layout);
    for (const series of QUANTIZE_SERIES) {
      for (const b of bits) {
        const precisions =
          series === 'all' ? { input: b, recurrent: b, readout: b } : { ...F32, [series]: b };
        quantizeModel(model, layout, precisions);
        const m = await scoreSubject(subject, s.testIds, undefined, undefined, progress);
        const bytes = modelBytes(model, layout, precisions);
        out.add({ ...measured(subject, seed, series, b, m, clean), bytes });
        restore(model, layout, saved);
      }
    }
  });
  return result('quantize', s, splits, out.list, (summary) => quantizeClaims(summary, s));
}

/** "4-bit weights nearly free": all matrices at 4 bits cost at most 1% of the f32 bpc. */
function quantizeClaims(summary: Summary[], s: Setup): Claim[] {
  const claim = '4-bit weights are nearly free for the spiking model';
  const rule = 'confirmed if all three matrices at 4 bits raise test bpc by at most 1%';
  const all = find(summary, 'all', 4, 'spiking');
  const base = find(summary, 'f32', 32, 'spiking');
  if (!all?.delta || !base) {
    return [{ claim, rule, verdict: 'not tested', evidence: 'needs the spiking model at 4 bits' }];
  }
  const rise = all.delta.mean / base.bpc.mean;
  const evidence = s.models
    .map(
      (m) =>
        `${MODEL_LABELS[m]}: ` +
        QUANTIZE_SERIES.map((q) => `${q} ${signed(find(summary, q, 4, m)?.delta?.mean)}`).join(
          ', ',
        ),
    )
    .join('; ');
  const bytesOf = (row: Summary) => fixed(row.bytes?.mean ?? Number.NaN, 0);
  const bytes = `${bytesOf(base)} → ${bytesOf(all)} bytes`;
  return [
    {
      claim,
      rule,
      verdict: rise <= 0.01 ? 'confirmed' : 'refuted',
      evidence:
        `all at 4 bits: ${signed(all.delta.mean)} bpc (+${(rise * 100).toFixed(2)}%), ` +
        `${bytes}; Δ bpc at 4 bits: ${evidence}`,
    },
  ];
}

// ---- scale ----

/** The scale sweeps: which quantity, and the configuration field it sets. */
export const SCALE_SERIES = ['neurons', 'substeps', 'training characters', 'connectivity'] as const;
type ScaleSeries = (typeof SCALE_SERIES)[number];

/** The values of each scale sweep for a base configuration and training split. */
export function scaleValues(
  sweeps: Sweeps,
  config: ModelConfig,
  trainChars: number,
): Record<ScaleSeries, number[]> {
  const unique = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  return {
    neurons: unique(sweeps.neuronFactors.map((f) => Math.max(4, Math.round(f * config.neurons)))),
    substeps: unique(sweeps.substeps),
    'training characters': unique(
      sweeps.charFractions.map((f) => Math.max(2, Math.round(f * trainChars))),
    ),
    connectivity: unique(sweeps.connectivity),
  };
}

/**
 * One model per sweep value, model kind and seed, every other field at the base. Training
 * characters are a prefix of the training split. The baselines update once per character,
 * so they have no substeps sweep and no firing rate. A configuration met twice (the base
 * value of each sweep) is trained once.
 */
export async function scaleExperiment(
  splits: Splits,
  options: RobustnessOptions = {},
): Promise<RobustnessResult<'scale'>> {
  const s = prepare(splits, options);
  const values = scaleValues(s.sweeps, s.config, splits.train.length);
  const jobs = SCALE_SERIES.flatMap((series) =>
    values[series].flatMap((x) =>
      s.models
        .filter((m) => series !== 'substeps' || m === 'spiking')
        .map((model) => ({ series, x, model })),
    ),
  );
  for (const job of jobs) resolveConfig(setting(s.config, job.series, job.x));
  const out = new Points(jobs.length * s.seeds.length, options.onPoint);

  for (const seed of s.seeds) {
    const done = new Map<string, Point>();
    for (const job of jobs) {
      const config = { ...setting(s.config, job.series, job.x), seed };
      const chars = job.series === 'training characters' ? job.x : splits.train.length;
      const key = JSON.stringify([job.model, config, chars]);
      const again = done.get(key);
      if (again) {
        out.add({ ...again, series: job.series, x: job.x });
        continue;
      }
      const text = { train: splits.train.slice(0, chars), validation: splits.validation };
      const subject = await trainSubject(job.model, config, s.vocab, text, subjectOptions(options));
      try {
        const m = await scoreSubject(subject, s.testIds, undefined, undefined, options.onProgress);
        const point: Point = {
          ...measured(subject, seed, job.series, job.x, m, null),
          seconds: subject.seconds,
          firingRate: job.model === 'spiking' ? subject.report.firingRate : null,
        };
        done.set(key, point);
        out.add(point);
      } finally {
        await closeSubject(subject);
      }
    }
  }
  return result('scale', s, splits, out.list, () => []);
}

function setting(config: ModelConfig, series: ScaleSeries, x: number): ModelConfig {
  if (series === 'training characters') return config;
  return { ...config, [series]: x };
}

// ---- context ----

/** The series of the context experiment. */
export const CONTEXT_SERIES = 'replaced k back';

/**
 * How far back memory reaches. One character every `contextPeriod` positions is replaced
 * (from a random offset, `contextRounds` times); for a replaced position t, the prediction
 * of character t + k then sees a wrong character k positions back, and its loss is compared
 * with the same prediction on the clean text. The targets stay clean. With a period of 128
 * a prediction also sees the replacement 128 + k back, whose effect is taken as negligible
 * (see how small it is at k = 64).
 */
export async function contextExperiment(
  splits: Splits,
  options: RobustnessOptions = {},
): Promise<RobustnessResult<'context'>> {
  const s = prepare(splits, options);
  const { contextMax: kMax, contextPeriod: period, contextRounds: rounds } = s.sweeps;
  if (!(period > kMax)) {
    throw new SnnlmError('the context period must exceed the longest k', 'keep the defaults');
  }
  const out = new Points(s.seeds.length * s.models.length * kMax, options.onPoint);
  const progress = options.onProgress;
  const total = s.testIds.length - 1;

  await eachSubject(s, splits, options, async (subject, seed) => {
    const clean = new Float64Array(total);
    await scoreSubject(subject, s.testIds, undefined, clean, progress);
    const hit = new Float64Array(kMax + 1);
    const change = new Float64Array(kMax + 1);
    const count = new Float64Array(kMax + 1);
    const losses = new Float64Array(total);
    for (let r = 0; r < rounds; r++) {
      const rng = new Rng(subSeed(seed, 500 + r));
      const { ids, sites } = corruptPeriodic(s.testIds, period, s.vocab.size, rng);
      await scoreSubject(subject, ids, s.testIds, losses, progress);
      for (const t of sites) {
        // losses[t + k − 1] is the prediction of character t + k.
        for (let k = 1; k <= kMax && t + k - 1 < total; k++) {
          hit[k] += losses[t + k - 1];
          change[k] += losses[t + k - 1] - clean[t + k - 1];
          count[k]++;
        }
      }
    }
    for (let k = 1; k <= kMax; k++) {
      out.add({
        model: subject.kind,
        seed,
        series: CONTEXT_SERIES,
        x: k,
        bpc: hit[k] / count[k] / Math.LN2,
        accuracy: null,
        delta: change[k] / count[k] / Math.LN2,
      });
    }
  });
  return result('context', s, splits, out.list, () => []);
}

/** The largest k at which replacing the character k back still costs more than `bits`. */
export function contextReach(summary: Summary[], model: ModelKind, bits = 0.01): number {
  let reach = 0;
  for (const r of summary) {
    if (r.model === model && r.series === CONTEXT_SERIES && (r.delta?.mean ?? 0) > bits) {
      reach = Math.max(reach, r.x);
    }
  }
  return reach;
}

/** Runs the named experiment. */
export function runExperiment(
  name: ExperimentName,
  splits: Splits,
  options: RobustnessOptions = {},
): Promise<RobustnessResult> {
  const run = {
    noise: noiseExperiment,
    prune: pruneExperiment,
    quantize: quantizeExperiment,
    scale: scaleExperiment,
    context: contextExperiment,
  }[name];
  return run(splits, options);
}

// ---- Reports ----

const TITLES: Record<ExperimentName, string> = {
  noise: 'Robustness to noise',
  prune: 'Pruning neurons',
  quantize: 'Quantised weights',
  scale: 'Scaling',
  context: 'How far back memory reaches',
};

const X_TITLES: Record<ExperimentName, string> = {
  noise: 'rate (replaced) or σ / inputScale (drive noise)',
  prune: 'fraction of neurons kept',
  quantize: 'bits per weight',
  scale: 'value',
  context: 'k (characters back)',
};

const METHODS: Record<ExperimentName, string> = {
  noise:
    'Replaced characters are drawn uniformly from the other known characters; the model ' +
    'always predicts the clean text. *Test only*: the model trained on clean text reads ' +
    'the corrupted test split. *Train and test*: a model trained on the training split ' +
    'corrupted at the same rate (epoch chosen on the clean validation split) reads the same ' +
    'corrupted test split; Δ is against the clean model on clean text. *Drive noise*: fresh ' +
    "Gaussian noise of standard deviation σ · inputScale is added to every unit's input " +
    'current for every character (held over its substeps); scored as one stream from rest, ' +
    'so Δ is against σ = 0 of the same scheme.',
  prune:
    'Neurons (units) are removed after training: their input weights, every synapse to or ' +
    'from them and their readout columns are set to 0. *Random*: a seeded random order ' +
    '(each smaller set is inside the larger one). *Importance*: the units with the smallest ' +
    'L2 norm of readout weights go first. *Readout kept*: the trained readout as it is; ' +
    '*refitted*: the readout and the feature standardisation trained again.',
  quantize:
    'Symmetric uniform quantisation after training: w ← s · clamp(round(w / s), −q, q) with ' +
    "q = 2^(b−1) − 1 and one scale s = max |w| / q per matrix (the LSTM's forget-gate bias " +
    'is kept out of its input matrix; the readout bias stays f32). Bytes: every matrix at ' +
    'its bits plus a 4-byte scale, synapse indices (u16 or u32 targets, u32 row starts), ' +
    'per-unit constants and the standardisation, in f32.',
  scale:
    'One model per value, every other field at the base configuration; training characters ' +
    'are a prefix of the training split. Seconds: wall clock, building the model and training ' +
    'its readout (spiking models on the given threads, baselines on one). The baselines ' +
    'update once per character, so they have no substeps row and no firing rate.',
  context:
    'One character every 128 positions is replaced at random (from a random offset, in ' +
    'several rounds); for each replaced position, the loss of predicting the character k ' +
    'positions after it is compared with the same prediction on clean text. The targets ' +
    'stay clean. Δ is in bits; a replacement 128 + k back is also present and taken as ' +
    'negligible (compare k = 64).',
};

/** The report files: NAME.md, NAME.json and NAME.svg (scale adds two more charts). */
export async function robustnessReport(
  r: RobustnessResult,
  meta: ReportMeta,
): Promise<Record<string, string>> {
  const name = r.experiment;
  const files: Record<string, string> = {
    [`${name}.md`]: robustnessMarkdown(r, meta),
    [`${name}.json`]: `${JSON.stringify({ ...meta, ...r }, null, 2)}\n`,
  };
  const chart = (y: (row: Summary) => number | undefined, yTitle: string) => {
    const points: PanelPoint[] = [];
    for (const row of r.summary) {
      const value = y(row);
      if (value === undefined || !Number.isFinite(value)) continue;
      points.push({ panel: row.series, series: MODEL_LABELS[row.model], x: row.x, y: value });
    }
    return panelChartSvg({
      title: `${meta.corpus}: ${TITLES[name].toLowerCase()}`,
      xTitle: X_TITLES[name],
      yTitle,
      points,
      xLog: name === 'scale' || name === 'context',
      columns: name === 'context' ? 1 : 2,
    });
  };
  if (name === 'quantize' || name === 'context') {
    files[`${name}.svg`] = await chart((row) => row.delta?.mean, 'change in test bpc');
  } else {
    files[`${name}.svg`] = await chart((row) => row.bpc.mean, 'test bits per character');
  }
  if (name === 'scale') {
    files['scale-seconds.svg'] = await chart((row) => row.seconds?.mean, 'training seconds');
    files['scale-firing.svg'] = await chart(
      (row) => (row.firingRate ? row.firingRate.mean * 100 : undefined),
      'firing rate (% of neurons per substep)',
    );
  }
  return files;
}

/** Context rows listed in the Markdown table (the chart shows every k). */
const CONTEXT_LISTED = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];

/** The Markdown report: how it was made, the claims, then one table per measure. */
export function robustnessMarkdown(r: RobustnessResult, meta: ReportMeta): string {
  const name = r.experiment;
  const rows = r.summary.filter((row) => name !== 'context' || CONTEXT_LISTED.includes(row.x));
  const keys = [...new Set(rows.map((row) => `${row.series}\u0000${row.x}`))];
  const wide = (cell: (row: Summary) => string) =>
    markdownTable(
      [
        name === 'context' ? 'k' : 'series',
        ...(name === 'context' ? [] : [xHead(name)]),
        ...r.models.map((m) => MODEL_LABELS[m]),
      ],
      keys.map((key) => {
        const [series, x] = key.split('\u0000');
        const cells = r.models.map((m) => {
          const row = rows.find((q) => q.series === series && String(q.x) === x && q.model === m);
          return row ? cell(row) : '—';
        });
        return name === 'context'
          ? [x, ...cells]
          : [series, xLabel(name, series, Number(x)), ...cells];
      }),
    );
  const c = r.config;
  const sections = [
    `# ${TITLES[name]}: ${meta.corpus}`,
    '',
    `Command: \`${meta.command}\``,
    '',
    `Seeds: ${r.seeds.join(', ')}. Models: ${r.models.map((m) => MODEL_LABELS[m]).join(', ')}. ` +
      `Sizes: ${c.neurons} neurons (units), ${c.epochs} epochs, batch ${c.batchSize}, ` +
      `${c.substeps} substeps per character; the spiking model is the reservoir without the ` +
      `detector layer (detectors 0); ${r.trainChars} training, ${r.validationChars} ` +
      `validation and ${r.testChars} test characters. Figures are on the test split, as mean ` +
      '± sample standard deviation (n − 1) over the seeds; Δ is the change in test bpc from ' +
      'the unperturbed model of the same seed. Every run is in the JSON file.',
    '',
    METHODS[name],
    '',
  ];
  if (r.claims.length > 0) {
    sections.push('## Claims of the research prototype', '');
    for (const cl of r.claims) {
      sections.push(`- **${cl.claim}: ${cl.verdict}** (${cl.rule}). ${cl.evidence}.`);
    }
    sections.push('');
  }
  if (name === 'context') {
    const reach = r.models.map((m) => `${MODEL_LABELS[m]} ${contextReach(r.summary, m)}`);
    sections.push(
      `Reach, the largest k at which the mean Δ exceeds 0.01 bits: ${reach.join(', ')}.`,
      '',
      '## Change in bits for the character k positions after a replaced one',
      '',
      wide((row) => spreadText(row.delta, 4)),
      '',
    );
  } else if (name === 'scale') {
    sections.push(
      '## Test bpc',
      '',
      wide((row) => spreadText(row.bpc, 4)),
      '',
      '## Training seconds',
      '',
      wide((row) => spreadText(row.seconds ?? null, 2)),
      '',
      '## Firing rate (% of neurons per substep, training text)',
      '',
      wide((row) => spreadText(row.firingRate ?? null, 2, 100)),
      '',
    );
  } else {
    sections.push(
      '## Test bpc',
      '',
      wide((row) => spreadText(row.bpc, 4)),
      '',
      '## Change in test bpc (Δ)',
      '',
      wide((row) => spreadText(row.delta, 4, 1, true)),
      '',
      '## Test accuracy (%)',
      '',
      wide((row) => spreadText(row.accuracy, 2, 100)),
      '',
    );
    if (name === 'quantize') {
      sections.push(
        '## Model bytes',
        '',
        wide((row) => fixed(row.bytes?.mean ?? Number.NaN, 0)),
        '',
      );
    }
  }
  const charts =
    name === 'scale' ? ['scale.svg', 'scale-seconds.svg', 'scale-firing.svg'] : [`${name}.svg`];
  for (const file of charts) sections.push(`![${TITLES[name]}](${file})`, '');
  sections.push(
    '## Configuration (besides the seed)',
    '',
    '```json',
    JSON.stringify(r.config, null, 2),
    '```',
    '',
  );
  return sections.join('\n');
}

function xHead(name: ExperimentName): string {
  return { noise: 'level', prune: 'kept', quantize: 'bits', scale: 'value', context: 'k' }[name];
}

function xLabel(name: ExperimentName, series: string, x: number): string {
  if (name === 'noise') return series === NOISE_SERIES.drive ? `σ = ${x} × inputScale` : pct(x);
  if (name === 'prune') return pct(x);
  if (name === 'quantize') return x === 32 ? 'f32' : String(x);
  return String(x);
}

/** "mean ± sd"; one seed has no deviation to show; null is '—'. */
export function spreadText(s: Spread | null, digits: number, scale = 1, sign = false): string {
  if (!s) return '—';
  const mean = s.mean * scale;
  const head = sign && mean >= 0 ? `+${fixed(mean, digits)}` : fixed(mean, digits);
  return Number.isFinite(s.sd) ? `${head} ± ${fixed(s.sd * scale, digits)}` : head;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function signed(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
}
