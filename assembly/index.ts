// snnlm kernels. Kernels only: no policy and no I/O. All arrays live in this
// module's linear memory; the TypeScript side lays them out from heapBase()
// upward and passes byte addresses.

export {
  detectSpikes,
  lifStep,
  lifStepPrototype,
  lifStepPrototypeTernary,
  lifStepTernary,
} from './lif';
export { propagate, propagateU16 } from './propagate';
export { runChars, DESC_BYTES } from './reservoir';
export {
  propagateTernaryU16,
  propagateTernaryU32,
  quantizeFeaturesInt8,
  ternaryLogits,
} from './ternary';
export { matmulNT, dot, transpose, adamStep, standardize, softmaxXent } from './readout';
export { runBaseline, tanhInto } from './baselines';
export { detectorRun, sparseLogits, sparseAdagrad } from './detectors';

/** First free byte after the module's static data; the host allocates from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 when this build uses 128-bit SIMD, 0 for the scalar build. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
