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
//   target       u32    synapses               postsynaptic neuron
//   weight       f32    synapses               synaptic weight
//   readout      f32    vocab · width          readout weights, width = features + 4
import { type ModelConfig, resolveConfig } from './config.ts';
import type { Build } from './engine.ts';
import { SnnlmError } from './errors.ts';
import { SpikingLM } from './model.ts';
import type { DecodedModelFile, SectionArray } from './modelfile.ts';
import type { Network } from './network.ts';
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
    input: net.input,
    rowStart: net.rowStart,
    target: net.target,
    weight: net.weight,
    readout: model.readoutWeights().slice(),
  };
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
  const net: Network = {
    n: Number(header.neurons),
    np,
    vocabSize: vocab.size,
    leak: section(sections, 'leak', Float32Array, np),
    threshold: section(sections, 'threshold', Float32Array, np),
    input: section(sections, 'input', Float32Array, vocab.size * np),
    rowStart: section(sections, 'rowStart', Uint32Array, np + 1),
    target: section(sections, 'target', Uint32Array),
    weight: section(sections, 'weight', Float32Array),
  };
  if (net.target.length !== net.weight.length || net.rowStart[np] !== net.target.length) {
    throw new SnnlmError('the model file has inconsistent synapse sections', 'retrain the model');
  }
  const model = await SpikingLM.assemble(config, vocab, net, build);
  const readout = section(sections, 'readout', Float32Array, vocab.size * model.width);
  model.readoutWeights().set(readout);
  model.beta = Number(header.beta);
  return model;
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
