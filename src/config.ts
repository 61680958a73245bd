// The model's configuration: data with defaults, each field documented, and one
// validator that names the field and its allowed range when a value is wrong.
import { SnnlmError } from './errors.ts';

/** Which per-character quantities the readout sees. */
export type FeatureKind = 'hybrid' | 'spikes' | 'membrane';
/** How the readout is fitted. */
export type ReadoutKind = 'softmax' | 'ridge';
/**
 * Weight precision, BitNet b1.58 style (src/ternary.ts): a layer's weights become γ·w̃ with
 * w̃ ∈ {−1, 0, +1} and γ = mean |w| over the synapses that exist.
 * - 'float': every weight f32.
 * - 'mixed': ternary recurrent synapses (quantised when the network is built); input and
 *   readout f32.
 * - 'ternary': also ternary input weights (quantised at build time), and a ternary readout:
 *   trained in f32, then quantised once after training with one γ per output character (its
 *   bias stays f32); at inference each character's feature vector is quantised to int8 with
 *   its own absmax scale s, and logit_j = γ_j · s · Σ w̃_ji q_i + bias_j.
 */
export type Precision = 'float' | 'mixed' | 'ternary';
/**
 * The order of a substep's operations (assembly/lif.ts). Both integrate
 * v ← leak·v + (drive + rec) and reset a spiking neuron to 0; they differ in when:
 * - 'standard': integrate (rec from the previous substep's spikes), then spike where v ≥ θ
 *   and reset at once.
 * - 'prototype': the order of the Python prototype and of shared/bench-refs: spike where
 *   v > θ (strict) on the potential the previous substep left, propagate those spikes,
 *   integrate, then reset them. A crossing is reported one substep later and the
 *   integration of the substep a neuron spikes in is discarded (in effect a one-substep
 *   refractory period), so the same parameters fire less often than 'standard'.
 */
export type Dynamics = 'standard' | 'prototype';

/** Everything that defines a model and how it is trained. */
export interface ModelConfig {
  /** Number of LIF neurons in the reservoir. @default 1000 */
  neurons: number;
  /** Fraction of possible recurrent synapses that exist (random, fixed). @default 0.02 */
  connectivity: number;
  /** Standard deviation of recurrent synaptic weights. @default 0.02 */
  recurrentScale: number;
  /** Standard deviation of input weights (current per substep, threshold units). @default 0.5 */
  inputScale: number;
  /** Fraction of (character, neuron) input weights that are non-zero. @default 1 */
  inputConnectivity: number;
  /** Shortest membrane time constant, in substeps. @default 2 */
  tauMin: number;
  /**
   * Longest membrane time constant, in substeps; τ is log-uniform in [tauMin, tauMax].
   * @default 400
   */
  tauMax: number;
  /** Firing threshold of the membrane potential. @default 1 */
  threshold: number;
  /** Substeps per character (T). @default 5 */
  substeps: number;
  /** Order of a substep: 'standard', or the prototype's (see Dynamics). @default 'standard' */
  dynamics: Dynamics;
  /** Readout features: spike counts, membrane potentials, or both. @default 'hybrid' */
  features: FeatureKind;
  /** Readout fitting: softmax with Adam, or closed-form ridge. @default 'softmax' */
  readout: ReadoutKind;
  /** Passes over the training split (softmax readout). @default 2 */
  epochs: number;
  /** Characters per minibatch; also the number of parallel training streams. @default 128 */
  batchSize: number;
  /**
   * Adam learning rate of the reservoir's readout at the start; it decays to a tenth by the
   * last epoch. @default 0.00015
   */
  learningRate: number;
  /** Decoupled weight decay of the softmax readout. @default 0.0001 */
  weightDecay: number;
  /** Ridge penalty λ, relative to the mean diagonal of the Gram matrix. @default 0.001 */
  ridgeLambda: number;
  /** All f32, ternary reservoir, or ternary input, reservoir and readout. @default 'float' */
  precision: Precision;
  /**
   * Most neurons of the detector layer (src/detectors.ts), which fire for exact strings of
   * recent characters; 0 leaves the layer out. Needs the softmax readout. @default 100000
   */
  detectors: number;
  /** Longest string a detector neuron stands for. @default 7 */
  detectorOrder: number;
  /** Fewest occurrences in the training text of a string that gets a detector. @default 2 */
  detectorMinCount: number;
  /** Adagrad learning rate of the detector neurons' readout weights. @default 0.1 */
  detectorLearningRate: number;
  /** Seed of every random choice: weights, time constants, sampling. @default 1 */
  seed: number;
}

/** The defaults of every field. */
export const DEFAULT_CONFIG: Readonly<ModelConfig> = Object.freeze({
  neurons: 1000,
  connectivity: 0.02,
  recurrentScale: 0.02,
  inputScale: 0.5,
  inputConnectivity: 1,
  tauMin: 2,
  tauMax: 400,
  threshold: 1,
  substeps: 5,
  dynamics: 'standard',
  features: 'hybrid',
  readout: 'softmax',
  epochs: 2,
  batchSize: 128,
  learningRate: 0.00015,
  weightDecay: 0.0001,
  ridgeLambda: 0.001,
  precision: 'float',
  detectors: 100_000,
  detectorOrder: 7,
  detectorMinCount: 2,
  detectorLearningRate: 0.1,
  seed: 1,
});

/**
 * The reservoir alone, as tuned before the detector layer: no detectors, and the readout's
 * schedule that suits reservoir features (4 epochs from a rate of 0.002), with time constants
 * up to 40 substeps. The experiments that compare reservoirs with each other (robustness, the
 * ternary benchmark) start from it.
 */
export const RESERVOIR_ONLY: Readonly<Partial<ModelConfig>> = Object.freeze({
  detectors: 0,
  epochs: 4,
  learningRate: 0.002,
  tauMax: 40,
});

type Rule =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number; openMin?: boolean }
  | { kind: 'enum'; values: readonly string[] };

const RULES: Record<keyof ModelConfig, Rule> = {
  neurons: { kind: 'int', min: 4, max: 1_000_000 },
  connectivity: { kind: 'number', min: 0, max: 1 },
  recurrentScale: { kind: 'number', min: 0, max: 100 },
  inputScale: { kind: 'number', min: 0, max: 100 },
  inputConnectivity: { kind: 'number', min: 0, max: 1, openMin: true },
  tauMin: { kind: 'number', min: 0, max: 1e6, openMin: true },
  tauMax: { kind: 'number', min: 0, max: 1e6, openMin: true },
  threshold: { kind: 'number', min: 0, max: 1e6, openMin: true },
  substeps: { kind: 'int', min: 1, max: 1000 },
  dynamics: { kind: 'enum', values: ['standard', 'prototype'] },
  features: { kind: 'enum', values: ['hybrid', 'spikes', 'membrane'] },
  readout: { kind: 'enum', values: ['softmax', 'ridge'] },
  epochs: { kind: 'int', min: 1, max: 1000 },
  batchSize: { kind: 'int', min: 4, max: 65536 },
  learningRate: { kind: 'number', min: 0, max: 10, openMin: true },
  weightDecay: { kind: 'number', min: 0, max: 10 },
  ridgeLambda: { kind: 'number', min: 0, max: 1e6, openMin: true },
  precision: { kind: 'enum', values: ['float', 'mixed', 'ternary'] },
  detectors: { kind: 'int', min: 0, max: 1_000_000 },
  detectorOrder: { kind: 'int', min: 1, max: 64 },
  detectorMinCount: { kind: 'int', min: 1, max: 1_000_000_000 },
  detectorLearningRate: { kind: 'number', min: 0, max: 10, openMin: true },
  seed: { kind: 'int', min: -2147483648, max: 2147483647 },
};

function describe(rule: Rule): string {
  if (rule.kind === 'enum') return `one of ${rule.values.map((v) => `'${v}'`).join(', ')}`;
  const lo = rule.kind === 'number' && rule.openMin ? `> ${rule.min}` : `≥ ${rule.min}`;
  const what = rule.kind === 'int' ? 'an integer' : 'a number';
  return `${what} ${lo} and ≤ ${rule.max}`;
}

function check(field: string, value: unknown, rule: Rule): void {
  const fail = (got: string) =>
    new SnnlmError(
      `configuration field '${field}' is ${got}; it must be ${describe(rule)}`,
      `set '${field}' to ${describe(rule)}, or leave it out for the default`,
    );
  if (rule.kind === 'enum') {
    if (typeof value !== 'string' || !rule.values.includes(value))
      throw fail(JSON.stringify(value));
    return;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw fail(
      `${typeof value === 'number' ? String(value) : JSON.stringify(value)} (${typeof value})`,
    );
  }
  if (rule.kind === 'int' && !Number.isInteger(value)) throw fail(String(value));
  const low = rule.kind === 'number' && rule.openMin ? value <= rule.min : value < rule.min;
  if (low || value > rule.max) throw fail(String(value));
}

/** Most recurrent synapses a network may have: 150 M synapses take about 1 GiB. */
export const MAX_SYNAPSES = 150_000_000;

/** Fills defaults into a partial configuration and checks every field. */
export function resolveConfig(partial: Partial<ModelConfig> = {}): ModelConfig {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new SnnlmError(
      'the configuration must be an object',
      'pass an object such as { "neurons": 1000 }',
    );
  }
  for (const key of Object.keys(partial)) {
    if (!Object.hasOwn(RULES, key)) {
      throw new SnnlmError(
        `unknown configuration field '${key}'`,
        `known fields: ${Object.keys(RULES).join(', ')}`,
      );
    }
  }
  const config = { ...DEFAULT_CONFIG, ...partial } as ModelConfig;
  for (const [field, rule] of Object.entries(RULES)) {
    check(field, config[field as keyof ModelConfig], rule);
  }
  if (config.tauMax < config.tauMin) {
    throw new SnnlmError(
      `configuration field 'tauMax' (${config.tauMax}) is below 'tauMin' (${config.tauMin})`,
      'set tauMax ≥ tauMin',
    );
  }
  // Synapses are held in WebAssembly memory (up to 2 GiB here) at 6 to 8 bytes each.
  const synapses = config.neurons * config.neurons * config.connectivity;
  if (synapses > MAX_SYNAPSES) {
    throw new SnnlmError(
      `the configuration asks for about ${Math.round(synapses).toLocaleString('en')} recurrent ` +
        `synapses (neurons² × connectivity); at most ${MAX_SYNAPSES.toLocaleString('en')} fit`,
      'lower neurons or connectivity',
    );
  }
  if (config.batchSize % 4 !== 0) {
    throw new SnnlmError(
      `configuration field 'batchSize' is ${config.batchSize}; it must be a multiple of 4`,
      'the readout kernels work on groups of four rows; round batchSize to a multiple of 4',
    );
  }
  if (config.detectors > 0 && config.readout === 'ridge') {
    throw new SnnlmError(
      `the detector layer (detectors ${config.detectors}) is trained with the softmax ` +
        "readout, not 'ridge'",
      "set detectors=0 to use readout 'ridge', or readout 'softmax'",
    );
  }
  return config;
}

/** Names of all configuration fields. */
export const CONFIG_FIELDS = Object.keys(RULES) as (keyof ModelConfig)[];
