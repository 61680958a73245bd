// Messages between the demo page (main.ts) and its training worker (worker.ts). Both sides
// import these types so a renamed field fails the type check instead of the page.
import type { EpochReport, ModelConfig, Progress } from '../src/index.ts';

/** The configuration fields the page lets you set; the rest take the engine's defaults. */
export type DemoConfig = Pick<ModelConfig, 'neurons' | 'epochs' | 'batchSize' | 'seed'>;

export type Request =
  /** `threads` caps the threads training may use (the page's ?threads=N); default all. */
  | { type: 'train'; text: string; config: DemoConfig; threads?: number }
  | { type: 'load'; bytes: Uint8Array; name: string }
  | { type: 'generate'; prompt: string; length: number; temperature: number; seed?: number }
  | { type: 'save' };

/** What the page shows about the model in the worker. */
export interface ModelInfo {
  source: string;
  neurons: number;
  vocabSize: number;
  substeps: number;
  seed: number;
  /** Characters of the vocabulary, for the prompt hint. */
  chars: string;
}

/**
 * Spike counts of consecutive characters: `counts[c * neurons + i]` is how often neuron i fired
 * while character c was presented (0 .. substeps).
 */
export interface RasterChunk {
  neurons: number;
  substeps: number;
  counts: Uint8Array;
  chars: string;
  /** Fraction of neurons firing per substep over these characters. */
  firingRate: number;
}

export type Reply =
  /** `threads`: how many threads training would use here, uncapped. */
  | { type: 'ready'; crossOriginIsolated: boolean; simd: boolean; threads: number }
  | { type: 'split'; train: number; validation: number }
  | { type: 'progress'; progress: Progress }
  | { type: 'raster'; raster: RasterChunk; reset: boolean }
  | { type: 'epoch'; epoch: EpochReport }
  | {
      type: 'trained';
      info: ModelInfo;
      validationBpc: number;
      bestEpoch: number;
      firingRate: number;
      seconds: number;
      /** Threads the training ran on. */
      threads: number;
    }
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'generated'; prompt: string; text: string; seed: number; ms: number }
  | { type: 'saved'; bytes: Uint8Array }
  | { type: 'error'; message: string; hint?: string };
