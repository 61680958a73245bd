// Node-only helpers: named corpora (with download and cache) and model files on disk.
import type { Build } from './engine.ts';
import type { SpikingLM } from './model.ts';
import { loadModelFile, saveModelFile } from './modelfile-node.ts';
import { modelFromFile, modelToFile } from './persist.ts';

export { type Corpus, corpusNames, loadCorpus, NAMED_CORPORA } from './corpus.ts';
export { loadModelFile, saveModelFile } from './modelfile-node.ts';

/** Saves a model atomically: an interrupted save leaves any old file intact. */
export async function saveModel(model: SpikingLM, path: string, extra = {}): Promise<void> {
  const { header, sections } = modelToFile(model, extra);
  await saveModelFile(path, header, sections);
}

/** Loads and checks a model file written by saveModel or `snnlm train`. */
export async function loadModel(path: string, build: Build = 'simd'): Promise<SpikingLM> {
  return modelFromFile(await loadModelFile(path), build);
}
