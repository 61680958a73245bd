// The spiking language model: a fixed random LIF reservoir (src/network.ts) read
// by a trained linear readout. Data flows one way:
//   text → ids → reservoir (WebAssembly) → features → readout → probabilities.
// Only the readout is trained; the reservoir is random and stays fixed.
import { type ModelConfig, resolveConfig } from './config.ts';
import {
  DetectorLayer,
  type DetectorNet,
  type DetectorSpikes,
  growDetectors,
} from './detectors.ts';
import { type Build, type FeatureSource, Heap, loadKernels, Reservoir } from './engine.ts';
import { SnnlmError } from './errors.ts';
import { type Metrics, Score, softmaxRow } from './metrics.ts';
import { buildNetwork, type Network } from './network.ts';
import { type Call, type Parallel, runParts, split } from './parallel.ts';
import { Rng } from './rng.ts';
import {
  dequantizeReadout,
  quantizeReadout,
  type TernaryReadout,
  ternarizeDetectorReadout,
} from './ternary.ts';
import { fitRidge, trainSoftmax } from './train.ts';
import type { Vocabulary } from './vocab.ts';

/** What a long-running step reports as it goes. */
export interface Progress {
  phase: 'train' | 'validate' | 'evaluate' | 'ridge';
  epoch: number;
  epochs: number;
  /** Characters done in this phase. */
  done: number;
  total: number;
}

/** Options of train() and evaluate(). */
export interface RunOptions {
  onProgress?: (p: Progress) => void;
  /**
   * Worker threads to share training with (see src/threads.ts); the model must use
   * the 'threads' build. Results are bit-identical to one thread. @default none
   */
  pool?: Parallel;
  /**
   * train() only: a text as long as the training text whose characters are the targets
   * (position t+1 is predicted after input position t); the readout then learns to predict
   * this text from the reservoir driven by the training text. Softmax readout only.
   * @default the training text itself
   */
  trainTargets?: string;
}

/** Options of score(). */
export interface ScoreOptions extends RunOptions {
  /** The characters to predict, one per input id (same length). @default the input ids */
  targets?: Uint16Array;
  /** Receives −ln p of each scored character: losses[t] for predicting position t+1. */
  losses?: Float64Array;
}

/** Scores of one epoch of readout training. */
export interface EpochReport {
  epoch: number;
  trainBpc: number;
  validation: Metrics;
  seconds: number;
}

/** The outcome of train(). */
export interface TrainReport {
  epochs: EpochReport[];
  /** The epoch whose readout was kept (best validation bpc). */
  bestEpoch: number;
  validation: Metrics;
  /** Fraction of neurons that fire per substep, over the training text. */
  firingRate: number;
  trainSeconds: number;
}

/** Held-out metrics plus how many characters were outside the vocabulary. */
export interface Evaluation extends Metrics {
  unknown: number;
  firingRate: number;
}

/** Options of generate(). */
export interface GenerateOptions {
  /** Characters to generate. @default 200 */
  length?: number;
  /** Softmax temperature; lower is more conservative. @default 1 */
  temperature?: number;
  /** Seed of the sampler. @default the model's seed */
  seed?: number;
}

const CHUNK = 256;
/** Longest text generate() makes in one call (it is built in memory). */
const MAX_GENERATE = 1_000_000;
/**
 * Held-out text is scored in this many shards (fixed, so results do not depend
 * on the number of threads); each starts at rest and first runs, unscored, the
 * WARMUP characters before it. Membrane time constants are at most a few tens
 * of substeps, so 256 characters of warm-up leave no trace of the cut.
 */
const SHARDS = 8;
const WARMUP = 256;
/** Most bytes the detector readout may take in training (three copies), within wasm memory. */
const MAX_DETECTOR_BYTES = 1.2 * 2 ** 30;
/** Training characters that the feature standardisation is estimated from. */
const STANDARDIZE_CHARS = 50_000;

/** A spiking reservoir language model with a trained readout. */
export class SpikingLM {
  readonly config: ModelConfig;
  readonly vocab: Vocabulary;
  readonly net: Network;
  /** What turns characters into features: the LIF reservoir, or a baseline's. */
  readonly reservoir: FeatureSource;
  readonly heap: Heap;
  /** Readout input width: reservoir features plus a bias block of 4 (1, 0, 0, 0). */
  readonly width: number;
  /** Readout weights, f32[vocab][width], in kernel memory. */
  readonly readoutAt: number;
  /** Per-feature mean and 1/σ, f32[featureSize] each: features are standardised with them. */
  readonly featureMeanAt: number;
  readonly featureScaleAt: number;
  /** Inverse temperature applied to readout outputs (fitted for ridge; 1 for softmax). */
  beta = 1;
  /**
   * The quantised readout of precision 'ternary' (set after training, or by load); when set,
   * evaluate and generate score with int8 features against it (see setTernaryReadout).
   */
  ternaryReadout?: TernaryReadout;
  /**
   * The detector layer (src/detectors.ts), grown from the training text by train() when
   * config.detectors > 0, with its readout weights f32[n][vocab] at detectorWeightsAt: the
   * rows of the neurons that fire at a character are added to its logits.
   */
  detectors?: DetectorLayer;
  detectorWeightsAt = 0;
  private ternaryAt?: { w: number; gamma: number; bias: number };
  private scratch = new Map<string, { at: number; bytes: number }>();

  constructor(
    config: ModelConfig,
    vocab: Vocabulary,
    net: Network,
    heap: Heap,
    source?: FeatureSource,
  ) {
    this.config = config;
    this.vocab = vocab;
    this.net = net;
    this.heap = heap;
    this.reservoir = source ?? new Reservoir(heap, net, config.substeps, config.features);
    this.width = this.reservoir.featureSize + 4;
    this.readoutAt = heap.alloc(vocab.size * this.width * 4);
    const k = this.reservoir.featureSize;
    this.featureMeanAt = heap.alloc(k * 4);
    this.featureScaleAt = heap.alloc(k * 4);
    heap.f32(this.featureScaleAt, k).fill(1);
  }

  /** A new, untrained model; the reservoir is drawn from config.seed. */
  static async create(
    config: Partial<ModelConfig>,
    vocab: Vocabulary,
    build: Build = 'simd',
  ): Promise<SpikingLM> {
    const resolved = resolveConfig(config);
    const net = buildNetwork(resolved, vocab.size);
    return SpikingLM.assemble(resolved, vocab, net, build);
  }

  /** A model from parts (used by load). */
  static async assemble(
    config: ModelConfig,
    vocab: Vocabulary,
    net: Network,
    build: Build = 'simd',
  ): Promise<SpikingLM> {
    const heap = new Heap(await loadKernels(build));
    return new SpikingLM(config, vocab, net, heap);
  }

  /** The readout weights (a live view). */
  readoutWeights(): Float32Array {
    return this.heap.f32(this.readoutAt, this.vocab.size * this.width);
  }

  /** Fits the readout on `train`, selecting on `validation`. */
  /**
   * With precision 'ternary' the readout is trained in f32 (epochs report f32 scores), then
   * quantised, and the report's `validation` is rescored with the quantised readout.
   */
  async train(train: string, validation: string, options: RunOptions = {}): Promise<TrainReport> {
    const trainIds = this.vocab.encode(train).ids;
    this.fitStandardization(trainIds);
    const { detectors, detectorOrder, detectorMinCount } = this.config;
    if (detectors > 0) {
      const net = growDetectors(trainIds, this.vocab.size, {
        maxNeurons: detectors,
        maxOrder: detectorOrder,
        minCount: detectorMinCount,
      });
      // Training holds the detector readout three times (weights, Adagrad sums, best epoch).
      const bytes = 3 * 4 * net.n * this.vocab.size;
      if (bytes > MAX_DETECTOR_BYTES) {
        const fit = Math.floor(MAX_DETECTOR_BYTES / (12 * this.vocab.size));
        throw new SnnlmError(
          `the detector layer would need ${(bytes / 2 ** 30).toFixed(1)} GiB to train ` +
            `(${net.n} neurons × ${this.vocab.size} symbols); at most ` +
            `${(MAX_DETECTOR_BYTES / 2 ** 30).toFixed(1)} GiB fit`,
          `set detectors to at most ${Math.max(fit, 0)}, or 0 to leave the layer out`,
        );
      }
      this.setDetectors(net);
    }
    const validIds = this.vocab.encode(validation).ids;
    this.ternaryReadout = undefined;
    this.ternaryAt = undefined;
    const report =
      this.config.readout === 'ridge'
        ? await fitRidge(this, trainIds, validIds, options)
        : await trainSoftmax(this, trainIds, validIds, options);
    if (this.config.precision !== 'ternary') return report;
    this.quantizeReadout();
    const { metrics } = await this.score(validIds, 'validate', options, 1, 1);
    return { ...report, validation: metrics };
  }

  /**
   * Installs a detector layer with zero readout weights (train() grows one; load restores
   * one, then sets its weights through detectorWeights()).
   */
  setDetectors(net: DetectorNet): void {
    this.detectors = new DetectorLayer(this.heap, net);
    this.detectorWeightsAt = this.heap.alloc(Math.max(net.n * this.vocab.size * 4, 4));
  }

  /** The detector readout weights f32[n][vocab] (a live view); empty without the layer. */
  detectorWeights(): Float32Array {
    const n = this.detectors?.net.n ?? 0;
    return this.heap.f32(this.detectorWeightsAt, n * this.vocab.size);
  }

  /** Quantises the trained f32 readout (precision 'ternary'); see src/ternary.ts. */
  quantizeReadout(): void {
    const { net, width } = this;
    const k = this.reservoir.featureSize;
    // Feature column c belongs to neuron c mod np; padding neurons have no features.
    const exists = (c: number) => c % net.np < net.n;
    this.setTernaryReadout(
      quantizeReadout(this.readoutWeights(), this.vocab.size, width, k, exists),
    );
    const det = this.detectors;
    if (det) ternarizeDetectorReadout(this.detectorWeights(), det.net.n, this.vocab.size);
  }

  /**
   * Installs a quantised readout: copies it into kernel memory and makes readoutWeights()
   * the f32 weights γ·w̃ it stands for.
   */
  setTernaryReadout(r: TernaryReadout): void {
    const v = this.vocab.size;
    if (r.k !== this.reservoir.featureSize || r.weights.length !== v * r.k) {
      throw new SnnlmError('the ternary readout does not fit this model', 'retrain the model');
    }
    this.ternaryReadout = r;
    // Named buffers, so that retraining reuses the memory.
    const w = this.buffer('ternary-readout', Math.max(r.weights.length, 4));
    const gamma = this.buffer('ternary-gamma', v * 4);
    const bias = this.buffer('ternary-bias', v * 4);
    new Int8Array(this.heap.k.memory.buffer, w, r.weights.length).set(r.weights);
    this.heap.f32(gamma, v).set(r.gamma);
    this.heap.f32(bias, v).set(r.bias);
    this.ternaryAt = { w, gamma, bias };
    this.readoutWeights().set(dequantizeReadout(r, v, this.width));
  }

  /**
   * Logits [rows][vocab] at logitsAt for feature rows at featAt (stride width): f32 matmul,
   * or int8 features against the ternary readout when one is installed.
   */
  logits(featAt: number, logitsAt: number, rows: number): void {
    const { heap, width } = this;
    const v = this.vocab.size;
    const t = this.ternaryAt;
    if (!t) {
      heap.k.matmulNT(featAt, this.readoutAt, logitsAt, rows, v, width, false);
      return;
    }
    const k = this.reservoir.featureSize;
    const qAt = this.buffer('int8-features', rows * k);
    const scaleAt = this.buffer('int8-scales', rows * 4);
    heap.k.quantizeFeaturesInt8(featAt, width, qAt, scaleAt, rows, k);
    heap.k.ternaryLogits(qAt, scaleAt, t.w, t.gamma, t.bias, logitsAt, rows, v, k);
  }

  /**
   * Adds the detector layer's logits for `rows` positions (i32 at positionsAt) of a detector
   * run into rows of `vocab` floats at logitsAt.
   */
  detectorLogits(det: DetectorSpikes, positionsAt: number, rows: number, logitsAt: number): void {
    const v = this.vocab.size;
    const { offsetsAt, spikesAt } = det;
    this.heap.k.sparseLogits(
      rows,
      positionsAt,
      offsetsAt,
      spikesAt,
      this.detectorWeightsAt,
      v,
      logitsAt,
      v,
      1,
    );
  }

  /** Bits per character, perplexity and accuracy on a held-out text. */
  async evaluate(text: string, options: RunOptions = {}): Promise<Evaluation> {
    const { ids, unknown } = this.vocab.encode(text);
    const { metrics, firingRate } = await this.score(ids, 'evaluate', options);
    return { ...metrics, unknown, firingRate };
  }

  /**
   * Scores ids from a state at rest: the character at position t+1 is predicted
   * from the features after position t, so ids.length − 1 characters are scored.
   */
  async score(
    ids: Uint16Array,
    phase: Progress['phase'],
    options: ScoreOptions = {},
    epoch = 0,
    epochs = 0,
  ): Promise<{ metrics: Metrics; firingRate: number }> {
    const { heap, reservoir, width } = this;
    const v = this.vocab.size;
    const idsAt = this.buffer('ids', ids.byteLength);
    heap.u16(idsAt, ids.length).set(ids);
    const featAt = this.featureBuffer('eval', CHUNK * SHARDS);
    const logitsAt = this.buffer('logits', CHUNK * SHARDS * v * 4);
    const total = ids.length - 1;
    const { targets, losses } = options;
    if (targets && targets.length !== ids.length) {
      throw new SnnlmError('targets must be as long as the input ids', 'pass one target per id');
    }
    // The detector layer remembers only its longest string, so one run over the whole text
    // from rest gives every shard the spikes it would have after its warm-up.
    const det = this.detectors?.spikesOf('score', idsAt, ids.length, options.pool);
    const positionsAt = this.buffer('det-positions', CHUNK * SHARDS * 4);
    const shards = split(total, SHARDS).map(([a, b], s) => {
      const state = this.stateFor(`eval${s}`);
      reservoir.reset(state);
      const warm = Math.max(0, a - WARMUP);
      if (a > warm) reservoir.run(state, idsAt + warm * 2, a - warm);
      return {
        a,
        b,
        state,
        featAt: featAt + s * CHUNK * width * 4,
        logitsAt: logitsAt + s * CHUNK * v * 4,
        positionsAt: positionsAt + s * CHUNK * 4,
      };
    });
    // The int8 path of a ternary readout uses shared scratch, so it stays on this thread.
    const ternary = this.ternaryAt !== undefined;
    const pool = ternary ? undefined : options.pool;
    const score = new Score();
    const p = new Float64Array(v);
    let done = 0;
    for (let pos = 0; done < total; pos += CHUNK) {
      const rows = shards.map((sh) => Math.max(0, Math.min(CHUNK, sh.b - sh.a - pos)));
      const calls = shards.map((sh, s): Call[] => {
        const n = rows[s];
        if (n === 0) return [];
        const own: Call[] = [
          ['runChars', sh.state, idsAt + (sh.a + pos) * 2, n, sh.featAt, width],
          [
            'standardize',
            sh.featAt,
            n,
            width,
            reservoir.featureSize,
            this.featureMeanAt,
            this.featureScaleAt,
          ],
        ];
        if (ternary) return own;
        own.push(['matmulNT', sh.featAt, this.readoutAt, sh.logitsAt, n, v, width, 0]);
        if (det) {
          const positions = heap.i32(sh.positionsAt, n);
          for (let r = 0; r < n; r++) positions[r] = sh.a + pos + r;
          own.push([
            'sparseLogits',
            n,
            sh.positionsAt,
            det.offsetsAt,
            det.spikesAt,
            this.detectorWeightsAt,
            v,
            sh.logitsAt,
            v,
            1,
          ]);
        }
        return own;
      });
      runParts(
        heap.k,
        pool,
        split(SHARDS, pool?.threads ?? 1).map(([x, y]) => calls.slice(x, y).flat()),
      );
      if (ternary) {
        shards.forEach((sh, s) => {
          if (rows[s] === 0) return;
          this.logits(sh.featAt, sh.logitsAt, rows[s]);
          if (det) {
            const positions = heap.i32(sh.positionsAt, rows[s]);
            for (let r = 0; r < rows[s]; r++) positions[r] = sh.a + pos + r;
            this.detectorLogits(det, sh.positionsAt, rows[s], sh.logitsAt);
          }
        });
      }
      const logits = heap.f32(logitsAt, CHUNK * SHARDS * v);
      for (let s = 0; s < SHARDS; s++) {
        const at = shards[s].a + pos;
        const next = targets
          ? targets.subarray(at + 1, at + 1 + rows[s])
          : heap.u16(idsAt + (at + 1) * 2, rows[s]);
        for (let r = 0; r < rows[s]; r++) {
          const arg = softmaxRow(logits, s * CHUNK + r, v, this.beta, p);
          score.add(p[next[r]], arg === next[r]);
          if (losses) losses[at + r] = -Math.log(p[next[r]]);
        }
        done += rows[s];
      }
      options.onProgress?.({ phase, epoch, epochs, done, total });
      if ((pos / CHUNK) % 16 === 15) await pause();
    }
    let spikes = 0;
    let updates = 0;
    for (const sh of shards) {
      const c = reservoir.counts(sh.state);
      spikes += c.spikes;
      updates += c.updates;
    }
    return { metrics: score.metrics(), firingRate: spikes / Math.max(1, updates) };
  }

  /** Continues a prompt by sampling from the model. */
  generate(prompt: string, options: GenerateOptions = {}): string {
    const length = options.length ?? 200;
    const temperature = options.temperature ?? 1;
    if (!Number.isInteger(length) || length < 0 || length > MAX_GENERATE) {
      throw new SnnlmError(
        `length must be a whole number from 0 to ${MAX_GENERATE}, got ${length}`,
        'pass --length 200',
      );
    }
    if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) {
      throw new SnnlmError(`the seed must be a whole number, got ${options.seed}`, 'pass --seed 1');
    }
    if (!(temperature > 0) || !Number.isFinite(temperature)) {
      throw new SnnlmError(
        `temperature must be a number > 0, got ${temperature}`,
        'pass a temperature such as 0.8',
      );
    }
    if (prompt.length === 0) {
      throw new SnnlmError('the prompt is empty', 'give at least one character, e.g. --prompt "T"');
    }
    const missing = this.vocab.unknownCharsIn(prompt);
    if (missing.length > 0) {
      throw new SnnlmError(
        `the prompt has characters outside the model's vocabulary: ${missing
          .map((c) => JSON.stringify(c))
          .join(', ')}`,
        'use only characters that occurred in the training text',
      );
    }
    const { heap, reservoir, width } = this;
    const v = this.vocab.size;
    const rng = new SamplerRng(options.seed ?? this.config.seed);
    const ids = this.vocab.encode(prompt).ids;
    const idsAt = this.buffer('gen-ids', Math.max(ids.byteLength, 2));
    heap.u16(idsAt, ids.length).set(ids);
    const featAt = this.featureBuffer('gen', 1);
    const logitsAt = this.buffer('gen-logits', v * 4);
    const state = this.stateFor('gen');
    reservoir.reset(state);
    if (ids.length > 1) reservoir.run(state, idsAt, ids.length - 1);
    const det = this.detectors;
    const detState = det?.state('gen');
    // The prompt's spikes (at most maxOrder per character) with their offsets, then room for
    // the neurons one step touches; a generated character reuses the start of it.
    const detRoom = ids.length * (det?.maxOrder ?? 0) + (det?.net.n ?? 0) + 16;
    const detOffsetsAt = this.buffer('gen-det-offsets', (ids.length + 1) * 4);
    const detSpikesAt = this.buffer('gen-det-spikes', detRoom * 4);
    const detPositionAt = this.buffer('gen-det-position', 4);
    if (det && detState) {
      det.reset(detState);
      heap.u32(detOffsetsAt, 1)[0] = 0;
      if (ids.length > 1)
        det.run(detState, idsAt, ids.length - 1, detSpikesAt, detOffsetsAt, detRoom);
    }
    let last = ids[ids.length - 1];
    const out: number[] = [];
    const p = new Float64Array(v);
    // The unknown symbol is never sampled: it stands for "not in training".
    const unknown = v - 1;
    for (let i = 0; i < length; i++) {
      heap.u16(idsAt, 1)[0] = last;
      reservoir.run(state, idsAt, 1, featAt, width);
      this.standardize(featAt, 1, width);
      this.logits(featAt, logitsAt, 1);
      if (det && detState) {
        heap.u32(detOffsetsAt, 1)[0] = 0;
        det.run(detState, idsAt, 1, detSpikesAt, detOffsetsAt, detRoom);
        heap.i32(detPositionAt, 1)[0] = 0;
        this.detectorLogits(
          { offsetsAt: detOffsetsAt, spikesAt: detSpikesAt, chars: 1 },
          detPositionAt,
          1,
          logitsAt,
        );
      }
      softmaxRow(heap.f32(logitsAt, v), 0, v, this.beta / temperature, p);
      p[unknown] = 0;
      last = rng.pick(p);
      out.push(last);
    }
    return this.vocab.decode(Uint16Array.from(out));
  }

  /** Standardises `rows` feature rows at featAt, `stride` floats apart. */
  standardize(featAt: number, rows: number, stride: number): void {
    const k = this.reservoir.featureSize;
    this.heap.k.standardize(featAt, rows, stride, k, this.featureMeanAt, this.featureScaleAt);
  }

  /**
   * Estimates each feature's mean and standard deviation from the first
   * STANDARDIZE_CHARS characters of the training text (a state at rest, in f64),
   * so that the readout sees features of comparable scale.
   */
  fitStandardization(ids: Uint16Array): void {
    const { heap, reservoir, width } = this;
    const k = reservoir.featureSize;
    const n = Math.min(ids.length, STANDARDIZE_CHARS);
    const idsAt = this.buffer('ids', ids.byteLength);
    heap.u16(idsAt, n).set(ids.subarray(0, n));
    const featAt = this.featureBuffer('eval', CHUNK);
    const state = this.stateFor('eval');
    reservoir.reset(state);
    const sum = new Float64Array(k);
    const sq = new Float64Array(k);
    for (let start = 0; start < n; start += CHUNK) {
      const rows = Math.min(CHUNK, n - start);
      reservoir.run(state, idsAt + start * 2, rows, featAt, width);
      const f = heap.f32(featAt, rows * width);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < k; i++) {
          const x = f[r * width + i];
          sum[i] += x;
          sq[i] += x * x;
        }
      }
    }
    const mean = heap.f32(this.featureMeanAt, k);
    const scale = heap.f32(this.featureScaleAt, k);
    for (let i = 0; i < k; i++) {
      const m = sum[i] / n;
      const sd = Math.sqrt(Math.max(0, sq[i] / n - m * m));
      mean[i] = m;
      scale[i] = sd > 1e-6 ? 1 / sd : 1;
    }
  }

  /** A reusable reservoir state by name. */
  stateFor(name: string): number {
    const key = `state:${name}`;
    const have = this.scratch.get(key);
    if (have) return have.at;
    const at = this.reservoir.newState();
    this.scratch.set(key, { at, bytes: 0 });
    return at;
  }

  /** A reusable scratch buffer of at least `bytes`; contents are not preserved. */
  buffer(name: string, bytes: number): number {
    const have = this.scratch.get(name);
    if (have && have.bytes >= bytes) return have.at;
    if (bytes === 0) return 0;
    const at = this.heap.alloc(bytes);
    this.scratch.set(name, { at, bytes });
    return at;
  }

  /** A scratch feature matrix [rows][width] whose bias column holds 1. */
  featureBuffer(name: string, rows: number): number {
    const key = `feat:${name}`;
    const have = this.scratch.get(key);
    if (have && have.bytes >= rows * this.width * 4) return have.at;
    const at = this.buffer(key, rows * this.width * 4);
    const f = this.heap.f32(at, rows * this.width);
    for (let r = 0; r < rows; r++) f[r * this.width + this.reservoir.featureSize] = 1;
    return at;
  }
}

/** Lets the event loop run (progress bars, a browser worker's messages). */
export function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

class SamplerRng extends Rng {
  /** Draws an index from a probability vector that sums to ≤ 1. */
  pick(p: Float64Array): number {
    let total = 0;
    for (let i = 0; i < p.length; i++) total += p[i];
    let u = this.uniform() * total;
    for (let i = 0; i < p.length; i++) {
      u -= p[i];
      if (u < 0) return i;
    }
    let lastNonZero = 0;
    for (let i = 0; i < p.length; i++) if (p[i] > 0) lastNonZero = i;
    return lastNonZero;
  }
}
