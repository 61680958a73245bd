// The public API of snnlm. Browser-safe: nothing here imports a Node module at
// load time (corpus downloads and model files on disk are in './node.ts').
export {
  CONFIG_FIELDS,
  DEFAULT_CONFIG,
  type FeatureKind,
  type ModelConfig,
  type ReadoutKind,
  resolveConfig,
} from './config.ts';
export { type Build, Heap, type Kernels, loadKernels, Reservoir } from './engine.ts';
export { SnnlmError } from './errors.ts';
export { type Metrics, metricsFromNats, Score } from './metrics.ts';
export {
  type EpochReport,
  type Evaluation,
  type GenerateOptions,
  type Progress,
  type RunOptions,
  SpikingLM,
  type TrainReport,
} from './model.ts';
export { decodeModelFile, encodeModelFile, MODEL_FORMAT_VERSION } from './modelfile.ts';
export { buildNetwork, type Network } from './network.ts';
export { modelFromFile, modelToFile } from './persist.ts';
export { ReferenceReservoir } from './reference.ts';
export { Vocabulary } from './vocab.ts';
