// A model as a model file (src/modelfile.ts) and back. The header holds the
// configuration, the vocabulary and the readout's temperature; the sections hold
// the reservoir exactly as built (so loading never re-draws random numbers) and
// the readout weights.
//
//   section      dtype  length                 content
//   leak         f32    np                     decay per substep
//   threshold    f32    np                     firing threshold (+∞ for padding)
//   input        f32    vocab · np             input current per symbol
//   rowStart     u32    np + 1                 synapses by presynaptic neuron
//   target       u16    synapses               postsynaptic neuron (u32 when np > 65,536;
//                                              files with u32 for a smaller np load too)
//   weight       f32    synapses               synaptic weight
//   readout      f32    vocab · width          readout weights, width = features + 4
//   featureMean  f32    features               mean of each feature (standardisation)
//   featureScale f32    features               1 / standard deviation of each feature
//
// Ternary models (config.precision, src/ternary.ts) replace some of these sections:
//
//   precision 'mixed' or 'ternary': instead of rowStart, target and weight
//   ternaryBounds  u32   2 · np + 1             +1 / −1 target lists by presynaptic neuron
//   ternaryTarget  u16   synapses               postsynaptic neuron (u32 when np > 65,536)
//   header recurrentGamma                        f32 γ of the recurrent synapses
//
//   precision 'ternary': instead of input
//   inputTernary   i8    vocab · np             w̃ ∈ {−1, 0, +1}; input current γ_in · w̃
//   header inputGamma                            f32 γ_in
//
//   precision 'ternary', once trained (the quantised readout): instead of readout
//   readoutTernary i8    vocab · k              w̃, k = features (no bias block)
//   readoutGamma   f32   vocab                  γ per output character
//   readoutBias    f32   vocab                  bias per output character
//
// With a detector layer (config.detectors > 0, src/detectors.ts), once trained:
//
//   detectorChar    u16  detectors             character each detector neuron listens to
//   detectorParent  i32  detectors             neuron of its string's prefix (−1: none)
//   detectorOrder   u8   detectors             length of its string
//   detectorReadout f32  detectors · vocab     readout row added when the neuron fires
//                                              (precision 'ternary': γ_j · w̃, one γ
//                                              per column)
//   header detectors                            the number of detector neurons
//
// A ternary synapse thus takes 2 bytes (u16) where a float one takes 8; loading rebuilds the
// f32 view (±γ) of the same synapses for the reference.
import { type ModelConfig, resolveConfig } from './config.ts';
import { checkDetectorNet, type DetectorNet } from './detectors.ts';
import type { Build } from './engine.ts';
import { SnnlmError } from './errors.ts';
import { SpikingLM } from './model.ts';
import type { DecodedModelFile, SectionArray } from './modelfile.ts';
import type { Network } from './network.ts';
import {
  type TernaryLayout,
  ternarize,
  ternaryLayoutProblem,
  ternaryToCsr,
  U16_NEURONS,
} from './ternary.ts';
import { Vocabulary } from './vocab.ts';

const KIND = 'snnlm-spiking-lm';

/** The header and sections that describe a model. */
export function modelToFile(model: SpikingLM, extra: Record<string, unknown> = {}) {
  const { net } = model;
  const header: Record<string, unknown> = {
    kind: KIND,
    config: model.config,
    vocabulary: model.vocab.toJSON(),
    neurons: net.n,
    paddedNeurons: net.np,
    width: model.width,
    beta: model.beta,
    ...extra,
  };
  const sections: Record<string, SectionArray> = {
    leak: net.leak,
    threshold: net.threshold,
  };
  if (net.inputGamma === undefined) sections.input = net.input;
  else {
    header.inputGamma = net.inputGamma;
    sections.inputTernary = ternarize(net.input, net.inputGamma);
  }
  if (!net.ternary) {
    sections.rowStart = net.rowStart;
    sections.target = net.target;
    sections.weight = net.weight;
  } else {
    header.recurrentGamma = net.ternary.gamma;
    sections.ternaryBounds = net.ternary.bounds;
    sections.ternaryTarget = net.ternary.target;
  }
  const r = model.ternaryReadout;
  const k = model.reservoir.featureSize;
  sections.featureMean = model.heap.f32(model.featureMeanAt, k).slice();
  sections.featureScale = model.heap.f32(model.featureScaleAt, k).slice();
  if (!r) sections.readout = model.readoutWeights().slice();
  else {
    sections.readoutTernary = r.weights;
    sections.readoutGamma = r.gamma;
    sections.readoutBias = r.bias;
  }
  const det = model.detectors;
  if (det) {
    header.detectors = det.net.n;
    sections.detectorChar = det.net.char;
    sections.detectorParent = det.net.parent;
    sections.detectorOrder = det.net.order;
    sections.detectorReadout = model.detectorWeights().slice();
  }
  return { header, sections };
}

/** Rebuilds a model from a decoded model file. */
export async function modelFromFile(file: DecodedModelFile, build: Build = 'simd') {
  const { header, sections } = file;
  if (header.kind !== KIND) {
    throw new SnnlmError(
      `the model file holds '${String(header.kind)}', not a spiking language model`,
      'pass a file written by snnlm train',
    );
  }
  const config = resolveConfig(header.config as Partial<ModelConfig>);
  const vocab = Vocabulary.fromJSON(header.vocabulary);
  const np = Number(header.paddedNeurons);
  const ternary = config.precision !== 'float' ? ternaryLayout(file, np) : undefined;
  const synapses = ternary
    ? ternaryToCsr(ternary, np)
    : {
        rowStart: section(sections, 'rowStart', Uint32Array, np + 1),
        target: floatTargets(sections, np),
        weight: section(sections, 'weight', Float32Array),
      };
  const net: Network = {
    n: Number(header.neurons),
    np,
    vocabSize: vocab.size,
    leak: section(sections, 'leak', Float32Array, np),
    threshold: section(sections, 'threshold', Float32Array, np),
    input:
      config.precision === 'ternary'
        ? ternaryInput(file, vocab.size * np)
        : section(sections, 'input', Float32Array, vocab.size * np),
    ...synapses,
    dynamics: config.dynamics,
  };
  if (ternary) net.ternary = ternary;
  if (config.precision === 'ternary') net.inputGamma = gammaOf(header, 'inputGamma');
  checkNetwork(net, Number(header.neurons), config.neurons);
  const model = await SpikingLM.assemble(config, vocab, net, build);
  if (config.precision === 'ternary' && 'readoutTernary' in sections) {
    const v = vocab.size;
    const k = model.reservoir.featureSize;
    model.setTernaryReadout({
      k,
      weights: section(sections, 'readoutTernary', Int8Array, v * k),
      gamma: section(sections, 'readoutGamma', Float32Array, v),
      bias: section(sections, 'readoutBias', Float32Array, v),
    });
  } else {
    const readout = section(sections, 'readout', Float32Array, vocab.size * model.width);
    model.readoutWeights().set(readout);
  }
  if (header.detectors === undefined && 'detectorChar' in sections) {
    throw new SnnlmError(
      'the model file has detector sections but no detector count in its header',
      'the file is damaged; retrain the model',
    );
  }
  if (header.detectors !== undefined) {
    const n = Number(header.detectors);
    if (!Number.isInteger(n) || n < 1 || n > config.detectors) {
      throw new SnnlmError(
        'the model file has a detector count that disagrees with its configuration',
        'the file is damaged; retrain the model',
      );
    }
    const net: DetectorNet = {
      n,
      vocabSize: vocab.size,
      char: section(sections, 'detectorChar', Uint16Array, n),
      parent: section(sections, 'detectorParent', Int32Array, n),
      order: section(sections, 'detectorOrder', Uint8Array, n),
    };
    checkDetectorNet(net);
    model.setDetectors(net);
    const w = section(sections, 'detectorReadout', Float32Array, n * vocab.size);
    if (!w.every(Number.isFinite)) {
      throw new SnnlmError('the model file has non-finite detector weights', 'retrain the model');
    }
    model.detectorWeights().set(w);
  }
  const k = model.reservoir.featureSize;
  const mean = section(sections, 'featureMean', Float32Array, k);
  const scale = section(sections, 'featureScale', Float32Array, k);
  if (!mean.every(Number.isFinite) || !scale.every(Number.isFinite)) {
    throw new SnnlmError(
      'the model file has non-finite feature statistics',
      'the file is damaged; retrain the model',
    );
  }
  model.heap.f32(model.featureMeanAt, k).set(mean);
  model.heap.f32(model.featureScaleAt, k).set(scale);
  model.beta = Number(header.beta);
  if (!(model.beta > 0) || !Number.isFinite(model.beta)) {
    throw new SnnlmError('the model file has an invalid readout temperature', 'retrain the model');
  }
  if (!model.readoutWeights().every(Number.isFinite)) {
    throw new SnnlmError('the model file has non-finite readout weights', 'retrain the model');
  }
  return model;
}

// The kernels index memory with these arrays, so a file whose checksum was
// recomputed over forged numbers must not reach them.
function checkNetwork(net: Network, neurons: number, configured: number): void {
  const { np, rowStart, target, weight } = net;
  const bad = (what: string) =>
    new SnnlmError(`the model file has ${what}`, 'the file is damaged; retrain the model');
  if (
    !Number.isInteger(np) ||
    np % 4 !== 0 ||
    neurons !== configured ||
    np !== Math.ceil(neurons / 4) * 4
  ) {
    throw bad('neuron counts that disagree with its configuration');
  }
  if (target.length !== weight.length || rowStart[0] !== 0 || rowStart[np] !== target.length) {
    throw bad('inconsistent synapse sections');
  }
  for (let j = 0; j < np; j++)
    if (rowStart[j + 1] < rowStart[j]) throw bad('unordered synapse rows');
  for (let i = 0; i < np; i++) {
    const leak = net.leak[i];
    if (!(leak >= 0 && leak < 1)) throw bad('a membrane decay outside [0, 1)');
  }
  if (!weight.every(Number.isFinite) || !net.input.every(Number.isFinite)) {
    throw bad('non-finite weights');
  }
}

// Float synapse targets as u16 or u32, in the width the kernels read fastest for np (files
// written before u16 targets hold u32 ones). The kernels index memory with them, so each is
// checked to be a neuron.
function floatTargets(sections: Record<string, SectionArray>, np: number) {
  const s = sections.target;
  const target = s instanceof Uint16Array ? s : section(sections, 'target', Uint32Array);
  for (let e = 0; e < target.length; e++) {
    if (target[e] >= np) {
      throw new SnnlmError(
        `the model file's synapse ${e} targets neuron ${target[e]}, beyond the ${np} neurons`,
        'the file is damaged; retrain the model',
      );
    }
  }
  if (np <= U16_NEURONS && target instanceof Uint32Array) return Uint16Array.from(target);
  return target;
}

function gammaOf(header: Record<string, unknown>, name: string): number {
  const g = header[name];
  if (typeof g !== 'number' || !Number.isFinite(g) || g < 0) {
    throw new SnnlmError(
      `the model file's header field '${name}' is missing or not a number ≥ 0`,
      'the file was not written by this version of snnlm; retrain the model',
    );
  }
  return Math.fround(g);
}

function ternaryLayout(file: DecodedModelFile, np: number): TernaryLayout {
  const wide = np > U16_NEURONS;
  const layout: TernaryLayout = {
    gamma: gammaOf(file.header, 'recurrentGamma'),
    bounds: section(file.sections, 'ternaryBounds', Uint32Array, 2 * np + 1),
    target: wide
      ? section(file.sections, 'ternaryTarget', Uint32Array)
      : section(file.sections, 'ternaryTarget', Uint16Array),
  };
  const problem = ternaryLayoutProblem(layout, np);
  if (problem) {
    throw new SnnlmError(
      `the model file's ternary synapses are invalid: ${problem}`,
      'retrain the model',
    );
  }
  return layout;
}

// Input currents γ_in · w̃ from the i8 section, exactly as buildNetwork made them.
function ternaryInput(file: DecodedModelFile, length: number): Float32Array {
  const q = section(file.sections, 'inputTernary', Int8Array, length);
  const gamma = gammaOf(file.header, 'inputGamma');
  const input = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    if (q[i] < -1 || q[i] > 1) {
      throw new SnnlmError('the model file has an input weight outside −1, 0, +1', 'retrain');
    }
    input[i] = q[i] * gamma;
  }
  return input;
}

function section<T extends SectionArray>(
  sections: Record<string, SectionArray>,
  name: string,
  type: { new (n: number): T; name: string },
  length?: number,
): T {
  const s = sections[name];
  if (!(s instanceof type) || (length !== undefined && s.length !== length)) {
    throw new SnnlmError(
      `the model file's section '${name}' is missing or has the wrong type or length`,
      'the file was not written by this version of snnlm; retrain the model',
    );
  }
  return s as T;
}
