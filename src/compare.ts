// The comparison table (issue #4): the spiking reservoir (hybrid, spike-only and
// membrane-only readouts) against non-spiking reservoirs of the same size and sparsity (an
// echo state network and a random LSTM, src/baselines.ts) read by the same softmax readout,
// against Kneser-Ney character n-grams (src/ngram.ts), and against a control: the same kind
// of softmax readout over exact hashed n-gram features (src/hashed.ts), and against an LSTM
// whose every weight is trained, in TensorFlow.js (src/tfjs-lstm.ts), for the wall-clock
// time the spiking model took. Every model is scored on the same test split with the same
// vocabulary; operations per character are counted the same way for every model, from
// counters in the kernels (for the trained LSTM, from the formula in lstmOps).
import {
  BASELINE_SPECTRAL_RADIUS,
  type BaselineKind,
  createBaselineModel,
  LSTM_FORGET_BIAS,
  type OpCounts,
  readoutOps,
} from './baselines.ts';
import { type FeatureKind, type ModelConfig, type Precision, resolveConfig } from './config.ts';
import { additions, detectorTotals, multiplications, spikingTotals } from './energy.ts';
import { SnnlmError } from './errors.ts';
import {
  fixed,
  markdownTable,
  meanSd,
  type ReportMeta,
  type Splits,
  scores,
  trainModel,
} from './experiments.ts';
import { HashedNgramReadout } from './hashed.ts';
import { type Metrics, Score } from './metrics.ts';
import type { Progress, SpikingLM } from './model.ts';
import { KneserNey } from './ngram.ts';
import type { LstmOptions } from './tfjs-lstm.ts';
import { Vocabulary } from './vocab.ts';

/** Mean and sample standard deviation over runs (sd is NaN for one run). */
export interface Spread {
  mean: number;
  sd: number;
}

/** Which text the n-gram rows count: the training split, or training and validation. */
export type NgramTraining = 'train' | 'train+validation';

/** Settings of the trained LSTM row; its seed and budget are set by the comparison. */
export type TrainedLstmOptions = Omit<
  LstmOptions,
  'seed' | 'seconds' | 'maxUpdates' | 'onProgress'
> & {
  /**
   * Least budget in seconds, for runs where the spiking model trains in less time than the
   * LSTM needs to make a few updates (--quick). @default 0
   */
  minSeconds?: number;
};

/**
 * The trained LSTM under --quick: small, and at least 2 s of training, since the quick
 * spiking model trains in about a tenth of a second.
 */
export const QUICK_LSTM: TrainedLstmOptions = Object.freeze({
  hidden: 32,
  batch: 16,
  bptt: 32,
  validationStreams: 8,
  minSeconds: 2,
});

/** Settings of a comparison. */
export interface CompareOptions {
  /** The spiking model's configuration (features and seed are varied); sizes the baselines. */
  base?: Partial<ModelConfig>;
  /** Seeds of the random models (spiking, ESN, LSTM). @default [1, 2, 3] */
  seeds?: number[];
  /** Threads the spiking models train on; the baselines train on one. @default 1 */
  threads?: number;
  /** log₂ buckets of the hashed n-gram control. @default 18 */
  hashBits?: number;
  /** Context lengths 1..hashOrders of the hashed control. @default 5 */
  hashOrders?: number;
  /** Adagrad learning rate of the hashed control. @default 0.1 */
  hashLearningRate?: number;
  /** What the n-gram rows are counted on. @default 'train+validation' */
  ngramTraining?: NgramTraining;
  /** The trained LSTM row's settings, or false to leave it out. @default {} (256 units) */
  trainedLstm?: TrainedLstmOptions | false;
  /** Called after each trained model or n-gram. */
  onRun?: (run: CompareRun, index: number) => void;
  onProgress?: (p: Progress) => void;
}

/** Held-out scores. */
export interface TestScores {
  bpc: number;
  perplexity: number;
  accuracy: number;
  chars: number;
}

/** One trained and tested model. */
export interface CompareRun {
  /** The row it belongs to. */
  model: string;
  seed?: number;
  test: TestScores;
  validationBpc?: number;
  trainableParams: number;
  totalParams: number;
  /** Per test character; null for the n-gram models (table look-ups, no arithmetic). */
  ops: OpCounts | null;
  /** The spiking model's recurrence if every synapse were visited every substep. */
  denseRecurrent?: { mul: number; add: number };
  /** Spiking models: fraction of neuron updates that spiked, over the test split. */
  firingRate?: number;
  /** Baselines: spectral radius of each recurrent matrix before scaling. */
  radiusBefore?: number[];
  bestEpoch?: number;
  trainSeconds: number;
  /** Trained LSTM: characters trained on within its budget. */
  trainChars?: number;
  /** Trained LSTM: its budget in seconds, from the spiking hybrid run of the same seed. */
  budgetSeconds?: number;
  /** Trained LSTM: validation bpc of its initial weights. */
  initialValidationBpc?: number;
  /** Trained LSTM: the TensorFlow.js backend it ran on. */
  backend?: string;
}

/** One row of the table: the runs of one model, summarised. */
export interface CompareRow {
  model: string;
  description: string;
  runs: number;
  bpc: Spread;
  perplexity: Spread;
  accuracy: Spread;
  trainableParams: number;
  totalParams: number;
  ops: OpCounts | null;
  denseRecurrent: { mul: number; add: number } | null;
  trainSeconds: Spread;
  /** Characters trained on, where a run is stopped by a budget (the trained LSTM). */
  trainChars: Spread | null;
}

/** The whole comparison. */
export interface CompareResult {
  config: Omit<ModelConfig, 'features' | 'seed'>;
  seeds: number[];
  vocabSize: number;
  trainChars: number;
  validationChars: number;
  testChars: number;
  ngramTraining: NgramTraining;
  hashed: { orders: number; bits: number; learningRate: number; epochs: number };
  spectralRadius: number;
  lstmForgetBias: number;
  /** The trained LSTM's settings, null when it was left out. */
  trainedLstm: (Required<Omit<TrainedLstmOptions, 'backend'>> & { forgetBias: number }) | null;
  rows: CompareRow[];
  runs: CompareRun[];
}

// Every row but the first is the reservoir alone (detectors 0), so that it compares with the
// ESN and random LSTM of the same size; the first, the model with its detector layer, is left
// out when the configuration has none.
const SPIKING: {
  model: string;
  features: FeatureKind;
  precision: Precision;
  detectors: boolean;
  description: string;
}[] = [
  {
    model: 'spiking hybrid + detectors',
    features: 'hybrid',
    precision: 'float',
    detectors: true,
    description: 'LIF reservoir (spikes + membrane) and the detector layer',
  },
  {
    model: 'spiking hybrid',
    features: 'hybrid',
    precision: 'float',
    detectors: false,
    description: 'LIF reservoir, spikes + membrane',
  },
  {
    model: 'spiking spike-only',
    features: 'spikes',
    precision: 'float',
    detectors: false,
    description: 'LIF reservoir, spike counts',
  },
  {
    model: 'spiking membrane-only',
    features: 'membrane',
    precision: 'float',
    detectors: false,
    description: 'LIF reservoir, membrane potentials',
  },
  {
    model: 'spiking hybrid, ternary reservoir',
    features: 'hybrid',
    precision: 'mixed',
    detectors: false,
    description: 'BitNet b1.58 reservoir (add-only), float input and readout',
  },
  {
    model: 'spiking hybrid, fully ternary',
    features: 'hybrid',
    precision: 'ternary',
    detectors: false,
    description: 'ternary input, reservoir and readout (int8 features)',
  },
];

// The baselines have no detector layer, like the reservoir rows, except the last: the ESN
// with the detector layer beside it, to set against the first spiking row (left out when the
// configuration has no detectors).
const BASELINES: {
  model: string;
  kind: BaselineKind;
  detectors: boolean;
  description: string;
}[] = [
  {
    model: 'ESN',
    kind: 'esn',
    detectors: false,
    description: 'random tanh network, features x',
  },
  {
    model: 'random LSTM',
    kind: 'lstm',
    detectors: false,
    description: 'random LSTM cell, features [h, c]',
  },
  {
    model: 'ESN + detectors',
    kind: 'esn',
    detectors: true,
    description: 'random tanh network (features x) and the detector layer',
  },
];

/**
 * Kneser-Ney rows: single discount 0.75 for orders 1–8, modified KN of order 6, and order 6
 * counted on the other text (`swap`), which shows how much the choice of text matters.
 */
export const NGRAM_ROWS: { order: number; modified: boolean; swap: boolean }[] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((order) => ({ order, modified: false, swap: false })),
  { order: 6, modified: true, swap: false },
  { order: 6, modified: false, swap: true },
];

/** Trains and tests every model of the table. */
export async function compare(
  splits: Splits,
  options: CompareOptions = {},
): Promise<CompareResult> {
  const seeds = options.seeds ?? [1, 2, 3];
  if (seeds.length === 0 || new Set(seeds).size !== seeds.length) {
    throw new SnnlmError('the seeds must be a non-empty list without repeats', '--seeds 1,2,3');
  }
  const config = resolveConfig(options.base);
  for (const seed of seeds) resolveConfig({ ...config, seed });
  const hashBits = options.hashBits ?? 18;
  const hashOrders = options.hashOrders ?? 5;
  const hashLearningRate = options.hashLearningRate ?? 0.1;
  const ngramTraining = options.ngramTraining ?? 'train+validation';
  const lstm = options.trainedLstm === false ? null : await lstmSettings(options.trainedLstm);

  const vocab = Vocabulary.fromText(splits.train);
  const v = vocab.size;
  const trainIds = vocab.encode(splits.train).ids;
  const validIds = vocab.encode(splits.validation).ids;
  const testIds = vocab.encode(splits.test).ids;
  const runs: CompareRun[] = [];
  const done = (run: CompareRun) => {
    runs.push(run);
    options.onRun?.(run, runs.length);
  };

  for (const seed of seeds) {
    let hybridSeconds = 0;
    for (const s of SPIKING) {
      if (s.detectors && config.detectors === 0) continue;
      const trained = await trainModel(
        {
          ...config,
          seed,
          features: s.features,
          precision: s.precision,
          detectors: s.detectors ? config.detectors : 0,
        },
        vocab,
        splits.train,
        splits.validation,
        { threads: options.threads, onProgress: options.onProgress },
      );
      const test = await trained.model.evaluate(splits.test, { onProgress: options.onProgress });
      // The trained LSTM gets the time of the first spiking row: the whole model.
      if (hybridSeconds === 0) hybridSeconds = trained.seconds;
      done({
        model: s.model,
        seed,
        ...spikingRun(trained.model, test),
        trainSeconds: trained.seconds,
        validationBpc: trained.report.validation.bpc,
        bestEpoch: trained.report.bestEpoch,
      });
    }
    for (const b of BASELINES) {
      if (b.detectors && config.detectors === 0) continue;
      const started = performance.now();
      const { model, source } = await createBaselineModel(
        b.kind,
        { ...config, seed, detectors: b.detectors ? config.detectors : 0 },
        vocab,
      );
      const report = await model.train(splits.train, splits.validation, {
        onProgress: options.onProgress,
      });
      const trainSeconds = (performance.now() - started) / 1000;
      const test = await model.evaluate(splits.test, { onProgress: options.onProgress });
      const c = source.ops(model.stateFor('eval'));
      const k = source.featureSize;
      const out = readoutOps(k, v);
      const det = detectorShare(model);
      done({
        model: b.model,
        seed,
        test: scores(test),
        validationBpc: report.validation.bpc,
        trainableParams: v * (k + 1) + det.neurons * v,
        totalParams:
          v * (k + 1) + det.neurons * v + source.weights.fixedParams + 2 * k + 2 * det.neurons,
        ops: {
          inputMul: c.inputMul / c.chars,
          inputAdd: c.inputAdd / c.chars,
          recurrentMul: c.recurrentMul / c.chars + det.mul,
          recurrentAdd: c.recurrentAdd / c.chars + det.add,
          readoutMul: out.mul,
          readoutAdd: out.add + det.readoutAdd,
          nonlinear: c.nonlinear / c.chars + det.nonlinear,
        },
        radiusBefore: source.weights.radiusBefore,
        bestEpoch: report.bestEpoch,
        trainSeconds,
      });
    }
    if (lstm) {
      // The same wall-clock time as this seed's spiking hybrid model, measured above.
      const { trainLstm } = await import('./tfjs-lstm.ts');
      const budgetSeconds = Math.max(hybridSeconds, lstm.minSeconds);
      const { minSeconds: _min, forgetBias: _bias, ...settings } = lstm;
      const r = await trainLstm(trainIds, validIds, testIds, v, {
        ...settings,
        seed,
        seconds: budgetSeconds,
        onProgress: options.onProgress,
      });
      done({
        model: TRAINED_LSTM,
        seed,
        test: scores(r.test),
        validationBpc: r.validationBpc,
        initialValidationBpc: r.initialValidationBpc,
        trainableParams: r.params,
        totalParams: r.params,
        ops: r.ops,
        trainSeconds: r.trainSeconds,
        trainChars: r.trainChars,
        budgetSeconds,
        backend: r.backend,
      });
    }
  }

  // n-grams have nothing to select on validation, so by default they count it too.
  const bothIds = vocab.encode(splits.train + splits.validation).ids;
  const other: NgramTraining = ngramTraining === 'train' ? 'train+validation' : 'train';
  const textOf = (which: NgramTraining) => (which === 'train' ? trainIds : bothIds);
  const distinct = new Map<NgramTraining, number[]>();
  for (const { order, modified, swap } of NGRAM_ROWS) {
    const which = swap ? other : ngramTraining;
    const ids = textOf(which);
    const started = performance.now();
    const kn = KneserNey.train(
      ids,
      v,
      order,
      modified ? { variant: 'modified' } : { discount: 0.75 },
    );
    const trainSeconds = (performance.now() - started) / 1000;
    if (!distinct.has(which)) distinct.set(which, distinctNgrams(ids, 8));
    const params = (distinct.get(which) ?? []).slice(0, order).reduce((a, b) => a + b, 0);
    done({
      model: ngramName(order, modified, swap ? which : undefined),
      test: scores(scoreNgram(kn, testIds)),
      trainableParams: params,
      totalParams: params,
      ops: null,
      trainSeconds,
    });
  }

  const hashedEpochs = config.epochs;
  {
    const started = performance.now();
    const hashed = new HashedNgramReadout(v, hashOrders, hashBits);
    const report = hashed.train(trainIds, validIds, {
      epochs: hashedEpochs,
      learningRate: hashLearningRate,
      seed: seeds[0],
    });
    const trainSeconds = (performance.now() - started) / 1000;
    done({
      model: 'hashed n-gram softmax',
      seed: seeds[0],
      test: scores(hashed.score(testIds)),
      validationBpc: report.validation.bpc,
      trainableParams: hashed.parameters,
      totalParams: hashed.parameters,
      // Hashing the contexts is integer work; the logits add hashOrders rows onto the bias.
      ops: {
        inputMul: 0,
        inputAdd: 0,
        recurrentMul: 0,
        recurrentAdd: 0,
        readoutMul: 0,
        readoutAdd: hashOrders * v,
        nonlinear: 0,
      },
      bestEpoch: report.bestEpoch,
      trainSeconds,
    });
  }

  const descriptions = new Map<string, string>([
    ...SPIKING.map((s) => [s.model, s.description] as [string, string]),
    ...BASELINES.map((b) => [b.model, b.description] as [string, string]),
    ...NGRAM_ROWS.map(
      ({ order, modified, swap }) =>
        [
          ngramName(order, modified, swap ? other : undefined),
          modified ? 'three discounts per order, estimated' : 'one discount, 0.75',
        ] as [string, string],
    ),
    [
      'hashed n-gram softmax',
      `softmax over hashed contexts of 1–${hashOrders} characters, 2^${hashBits} buckets`,
    ],
    [
      TRAINED_LSTM,
      lstm ? `one-hot → LSTM of ${lstm.hidden} units → softmax, all weights trained (TF.js)` : '',
    ],
  ]);
  const names = [...new Set(runs.map((r) => r.model))];
  const rows = names.map((model) => summarise(model, descriptions.get(model) ?? '', runs));
  const { seed: _seed, features: _features, ...shared } = config;
  return {
    config: shared,
    seeds,
    vocabSize: v,
    trainChars: splits.train.length,
    validationChars: splits.validation.length,
    testChars: splits.test.length,
    ngramTraining,
    hashed: {
      orders: hashOrders,
      bits: hashBits,
      learningRate: hashLearningRate,
      epochs: hashedEpochs,
    },
    spectralRadius: BASELINE_SPECTRAL_RADIUS,
    lstmForgetBias: LSTM_FORGET_BIAS,
    trainedLstm: lstm,
    rows,
    runs,
  };
}

const TRAINED_LSTM = 'trained LSTM';

/** The trained LSTM's settings with every default filled in, as the report records them. */
async function lstmSettings(given: TrainedLstmOptions = {}) {
  const { DEFAULT_LSTM, TRAINED_LSTM_FORGET_BIAS } = await import('./tfjs-lstm.ts');
  const { seed: _seed, seconds: _s, maxUpdates: _m, backend: _b, ...defaults } = DEFAULT_LSTM;
  const defined = Object.entries(given).filter(([, x]) => x !== undefined);
  return {
    ...defaults,
    minSeconds: 0,
    ...(Object.fromEntries(defined) as TrainedLstmOptions),
    forgetBias: TRAINED_LSTM_FORGET_BIAS,
  };
}

function ngramName(order: number, modified: boolean, text?: NgramTraining): string {
  const on =
    text === undefined
      ? ''
      : text === 'train'
        ? ', training split only'
        : ', training + validation';
  return `${modified ? 'modified ' : ''}Kneser-Ney order ${order}${on}`;
}

/**
 * The spiking model's figures from its own counters over the test split. Per membrane
 * update (v ← leak·v + (drive + rec)): one add of the input drive, one multiply (leak) and
 * one add (rec) of the recurrence, and one threshold comparison (counted as the
 * nonlinearity); per synaptic event one add. Dense: every synapse every substep.
 */
function spikingRun(model: SpikingLM, test: Metrics) {
  const c = model.reservoir.counts(model.stateFor('eval'));
  const chars = Math.max(1, c.chars);
  const updates = c.updates / chars;
  // The energy report's counts (src/energy.ts), so that both agree for every precision. The
  // reservoir's counters are those of its 'eval' state, which ran the first 50,000 training
  // characters to fit the feature standardisation.
  const b = spikingTotals(model, c);
  const det = detectorShare(model);
  const { net, config, vocab } = model;
  const v = vocab.size;
  const k = model.reservoir.featureSize;
  const synapses = net.target.length;
  const dense = synapses * config.substeps + updates;
  const fixedParams = v * net.n + synapses + net.n;
  return {
    test: scores(test),
    trainableParams: v * (k + 1) + det.neurons * v,
    totalParams: v * (k + 1) + det.neurons * v + fixedParams + 2 * k + 2 * det.neurons,
    ops: {
      inputMul: multiplications(b.input) / chars,
      inputAdd: additions(b.input) / chars,
      recurrentMul: (multiplications(b.recurrence) + multiplications(b.membrane)) / chars + det.mul,
      recurrentAdd: (additions(b.recurrence) + additions(b.membrane)) / chars + det.add,
      readoutMul: multiplications(b.readout) / chars,
      readoutAdd: additions(b.readout) / chars + det.readoutAdd,
      nonlinear: b.membrane.nonlinear / chars + det.nonlinear,
    },
    denseRecurrent: { mul: dense, add: dense },
    firingRate: c.spikes / Math.max(1, c.updates),
  };
}

/**
 * A model's detector layer per character of its run over the test split (src/energy.ts's
 * counts: one add per event, one multiply per membrane update, vocabulary-many adds per spike
 * in the readout), booked to the recurrence and the readout; zeros without one. Its neurons
 * each have one readout row (trained) and two fixed synapses.
 */
function detectorShare(model: SpikingLM) {
  const d = model.detectors?.countsOf('score');
  if (!d || !model.detectors) return { neurons: 0, mul: 0, add: 0, readoutAdd: 0, nonlinear: 0 };
  const t = detectorTotals(model, d);
  const chars = Math.max(1, d.chars);
  return {
    neurons: model.detectors.net.n,
    mul: multiplications(t.detectors) / chars,
    add: additions(t.detectors) / chars,
    readoutAdd: additions(t.readout) / chars,
    nonlinear: t.detectors.nonlinear / chars,
  };
}

/**
 * Scores test positions 1..n−1 from the history inside the test split, as the reservoir
 * models are scored (they start at rest and predict character t + 1 after character t).
 */
export function scoreNgram(model: KneserNey, ids: Uint16Array): Metrics {
  const v = model.vocabSize;
  const dist = new Float64Array(v);
  const score = new Score();
  for (let i = 1; i < ids.length; i++) {
    model.distributionInSequence(ids, i, dist);
    let best = 0;
    for (let w = 1; w < v; w++) if (dist[w] > dist[best]) best = w;
    score.add(dist[ids[i]], best === ids[i]);
  }
  return score.metrics();
}

/**
 * Distinct n-grams of each order 1..maxOrder in ids: the counts an n-gram model stores,
 * reported as its parameters. An n-gram is a base-V number (exact in f64 while V^n < 2^53);
 * sorting them and counting runs avoids a hash set of millions of entries.
 */
export function distinctNgrams(ids: Uint16Array, maxOrder: number): number[] {
  const v = ids.reduce((m, x) => Math.max(m, x), 0) + 1;
  const out: number[] = [];
  const keys = new Float64Array(ids.length);
  for (let order = 1; order <= maxOrder; order++) {
    if (v ** order >= 2 ** 53) throw new SnnlmError('n-gram keys too long', 'use a lower order');
    const count = Math.max(0, ids.length - order + 1);
    const view = keys.subarray(0, count);
    for (let i = 0; i < count; i++) {
      let key = 0;
      for (let o = 0; o < order; o++) key = key * v + ids[i + o];
      view[i] = key;
    }
    view.sort();
    let distinct = count > 0 ? 1 : 0;
    for (let i = 1; i < count; i++) if (view[i] !== view[i - 1]) distinct++;
    out.push(distinct);
  }
  return out;
}

function summarise(model: string, description: string, all: CompareRun[]): CompareRow {
  const mine = all.filter((r) => r.model === model);
  const mean = (f: (r: CompareRun) => number) => meanSd(mine.map(f)).mean;
  const first = mine[0];
  const ops = first.ops
    ? {
        inputMul: mean((r) => r.ops?.inputMul ?? 0),
        inputAdd: mean((r) => r.ops?.inputAdd ?? 0),
        recurrentMul: mean((r) => r.ops?.recurrentMul ?? 0),
        recurrentAdd: mean((r) => r.ops?.recurrentAdd ?? 0),
        readoutMul: mean((r) => r.ops?.readoutMul ?? 0),
        readoutAdd: mean((r) => r.ops?.readoutAdd ?? 0),
        nonlinear: mean((r) => r.ops?.nonlinear ?? 0),
      }
    : null;
  return {
    model,
    description,
    runs: mine.length,
    bpc: meanSd(mine.map((r) => r.test.bpc)),
    perplexity: meanSd(mine.map((r) => r.test.perplexity)),
    accuracy: meanSd(mine.map((r) => r.test.accuracy)),
    trainableParams: mean((r) => r.trainableParams),
    totalParams: mean((r) => r.totalParams),
    ops,
    denseRecurrent: first.denseRecurrent
      ? {
          mul: mean((r) => r.denseRecurrent?.mul ?? 0),
          add: mean((r) => r.denseRecurrent?.add ?? 0),
        }
      : null,
    trainSeconds: meanSd(mine.map((r) => r.trainSeconds)),
    trainChars: first.trainChars === undefined ? null : meanSd(mine.map((r) => r.trainChars ?? 0)),
  };
}

/** "mean ± sd"; one run has no deviation to show. */
function spread(s: Spread, digits: number, scale = 1): string {
  const sd = Number.isFinite(s.sd) ? ` ± ${(s.sd * scale).toFixed(digits)}` : '';
  return `${fixed(s.mean * scale, digits)}${sd}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A count with thousands separators, rounded; '—' when there is none. */
function count(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return Math.round(x).toLocaleString('en-US');
}

/** The report files: compare.md and compare.json. */
export function compareReport(result: CompareResult, meta: ReportMeta): Record<string, string> {
  return {
    'compare.md': compareMarkdown(result, meta),
    'compare.json': `${JSON.stringify({ ...meta, ...result }, null, 2)}\n`,
  };
}

/** The summary table alone (what the README shows). */
export function compareTable(result: CompareResult): string {
  return markdownTable(
    [
      'model',
      'test bpc',
      'perplexity',
      'accuracy (%)',
      'trainable params',
      'total params',
      'input ×',
      'input +',
      'recurrence ×',
      'recurrence +',
      'readout ×',
      'readout +',
      'nonlinear',
      'recurrence ×, + if dense',
      'train s',
      'train chars',
      'runs',
    ],
    result.rows.map((r) => [
      r.model,
      spread(r.bpc, 3),
      spread(r.perplexity, 2),
      spread(r.accuracy, 1, 100),
      count(r.trainableParams),
      count(r.totalParams),
      count(r.ops?.inputMul),
      count(r.ops?.inputAdd),
      count(r.ops?.recurrentMul),
      count(r.ops?.recurrentAdd),
      count(r.ops?.readoutMul),
      count(r.ops?.readoutAdd),
      count(r.ops?.nonlinear),
      count(r.denseRecurrent?.mul),
      spread(r.trainSeconds, 1),
      r.trainChars ? count(r.trainChars.mean) : '—',
      String(r.runs),
    ]),
  );
}

/** The notes on the trained LSTM row: what it is, how it was trained, its budget. */
function trainedLstmNotes(result: CompareResult): string[] {
  const l = result.trainedLstm;
  if (!l) return ['- The trained LSTM was left out (--no-trained-lstm).'];
  const mine = result.runs.filter((r) => r.model === TRAINED_LSTM);
  const backends = [...new Set(mine.map((r) => r.backend))].join(', ');
  const budgets = mine.map((r) => `${fixed(r.budgetSeconds ?? Number.NaN, 1)} s`).join(', ');
  const gain = mine
    .map(
      (r) =>
        `${fixed(r.initialValidationBpc ?? Number.NaN, 3)} → ` +
        `${fixed(r.validationBpc ?? Number.NaN, 3)}`,
    )
    .join(', ');
  const floor = l.minSeconds > 0 ? ` (at least ${l.minSeconds} s)` : '';
  return [
    `- Trained LSTM (src/tfjs-lstm.ts; TensorFlow.js, ${backends} backend, one thread): one-hot ` +
      `characters → one LSTM layer of ${l.hidden} units (gates i, f, o, g) → softmax, every ` +
      'weight trained; the first rows of each gate matrix are its input table, one row per ' +
      "character, which also serves as the bias (the forget gate's starts at " +
      `+${l.forgetBias}); weights drawn uniform in ±1/√H from the seed. Truncated ` +
      `backpropagation through time: the training split cut into ${l.batch} streams, updates ` +
      `of ${l.bptt} characters each carrying the state on (reset to zero every ` +
      `${l.resetEvery} updates, so that it learns to start from the zero state it is scored ` +
      'from), Adam (learning rate ' +
      `${l.learningRate}, global gradient norm clipped to ${l.clipNorm}). All its ` +
      'parameters are trainable: 4(V + H)·H gate weights, H·V readout weights, V biases.',
    `- Its budget is the wall-clock time the spiking hybrid model of the same seed took to ` +
      `train in this run${floor}: ${budgets}, validation checks included; "train chars" is ` +
      'the characters it trained on within it. Validation bpc (the first ' +
      `${l.validationChars} validation characters, scored in ${l.validationStreams} streams ` +
      `each from a zero state) is checked before training, every ${l.checkEvery} updates and ` +
      `at the end, and the best check's weights are kept: ${gain}. The test split is scored ` +
      'as for every other row, one stream from a zero state. Operations: the input table ' +
      'row seeds the gate sums (0), the recurrence is dense (4H·H × and + for the gates, plus ' +
      'the cell as above), the readout H·V × and + (no standardisation).',
  ];
}

/** The Markdown report: how it was made, the table, the notes, then every run. */
export function compareMarkdown(result: CompareResult, meta: ReportMeta): string {
  const runs = markdownTable(
    [
      'model',
      'seed',
      'test bpc',
      'validation bpc',
      'best epoch',
      'firing rate (%)',
      'train s',
      'train chars',
    ],
    result.runs.map((r) => [
      r.model,
      r.seed === undefined ? '—' : String(r.seed),
      fixed(r.test.bpc, 4),
      r.validationBpc === undefined ? '—' : fixed(r.validationBpc, 4),
      r.bestEpoch === undefined ? '—' : String(r.bestEpoch),
      r.firingRate === undefined ? '—' : fixed(r.firingRate * 100, 2),
      fixed(r.trainSeconds, 1),
      count(r.trainChars),
    ]),
  );
  const ngramText =
    result.ngramTraining === 'train'
      ? 'the training split'
      : 'the training and validation splits (the first 90% for a plain text): n-grams ' +
        'have nothing to select on validation';
  const c = result.config;
  return [
    `# Comparison: ${meta.corpus}`,
    '',
    `Command: \`${meta.command}\``,
    '',
    `Seeds: ${result.seeds.join(', ')}. Test split: ${result.testChars} characters, scored ` +
      'from its start (character t + 1 predicted after character t), vocabulary of ' +
      `${result.vocabSize} symbols from the training split (${result.trainChars} characters). ` +
      'Random models are given as mean ± sample standard deviation over the seeds; ' +
      'perplexity is 2^bpc, averaged as it is.',
    '',
    compareTable(result),
    '',
    '## Notes',
    '',
    `- Reservoirs: ${c.neurons} units, connectivity ${c.connectivity}, input scale ` +
      `${c.inputScale}. The spiking rows, the ESN and the random LSTM share the readout ` +
      `procedure: standardised features, softmax with Adam (learning rate ${c.learningRate}, ` +
      `weight decay ${c.weightDecay}, batch ${c.batchSize}), ${plural(c.epochs, 'epoch')}, ` +
      'the epoch best on validation kept.',
    `- ESN: x ← tanh(W_in[c] + W x) once per character; W is the spiking model's synapse ` +
      `pattern and weights (same seed) rescaled to spectral radius ${result.spectralRadius} ` +
      '(power iteration); W_in is its input table. Features: x (one per unit).',
    '- Random LSTM: gates i, f, o, g with fixed random weights on the same synapse pattern ' +
      `(each gate's matrix rescaled to spectral radius ${result.spectralRadius}), input ` +
      `weights N(0, inputScale²), forget bias ${result.lstmForgetBias}. Features: [h, c], ` +
      'the width of the hybrid spiking readout.',
    '- Operations per character, from counters in the kernels (for the reservoirs, over the ' +
      'first 50,000 training characters, which each model runs to fit its feature ' +
      'standardisation; for the detector layer, over the test split): multiplies (×) and ' +
      'additions (+) of the input projection, the recurrence and the readout. A one-hot ' +
      "input's projection is a table row, so it costs nothing except where a kernel adds it " +
      'to a state (the spiking model adds its input drive at every membrane update). ' +
      'Spiking recurrence: one × (leak) and one + per membrane update, one + per synaptic ' +
      'event; the detector layer (in the recurrence columns): one + per event, one × per ' +
      'membrane update, and vocabulary-many + per spike in the readout; ESN: one × and one + ' +
      'per synapse; LSTM: four of each per synapse, plus three × ' +
      'and one + per unit for the cell. Readout: one × and one + per standardised feature, ' +
      'and per output one × per feature and one + per feature (sums and bias); softmax is ' +
      'left out. "nonlinear" counts tanh and logistic evaluations (ESN, LSTM) and threshold ' +
      'comparisons (spiking). "if dense" is what the spiking recurrence would cost visiting ' +
      'every synapse at every substep.',
    '- Parameters: trainable = readout weights and biases; total adds the fixed random ' +
      'weights (input table, synapses, per-neuron time constants, LSTM biases) and the ' +
      'per-feature mean and scale of the standardisation. For n-grams: the distinct n-grams ' +
      'of every order up to the model order in the counted text (their counts).',
    `- Kneser-Ney rows are counted on ${ngramText}. Orders 1–8 use one fixed discount, 0.75 ` +
      '(the variant of the published reference figures); the modified row estimates three ' +
      'discounts per order (Chen & Goodman 1998). The last Kneser-Ney row is counted on the ' +
      'other text, to show how much that choice moves the score: the reservoir models and ' +
      'the hashed control learn from the training split alone.',
    `- The hashed n-gram control is one softmax over indicator features of the last 1 to ` +
      `${result.hashed.orders} characters (2^${result.hashed.bits} hashed buckets, one active ` +
      'per context length), trained with a sparse gradient and Adagrad (learning rate ' +
      `${result.hashed.learningRate}) for ${plural(result.hashed.epochs, 'epoch')} in ` +
      'shuffled order, the epoch best on validation kept; one run, seeded by the first seed.',
    ...trainedLstmNotes(result),
    '',
    '## Every run',
    '',
    runs,
    '',
    '## Configuration (besides features and seed)',
    '',
    '```json',
    JSON.stringify(result.config, null, 2),
    '```',
    '',
  ].join('\n');
}
