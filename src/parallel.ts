// Splitting kernel work into parts, without any Node import, so that the
// training code stays browser-safe; src/threads.ts runs the parts on threads.

/** Kernels that may run on any thread. */
export type KernelName =
  | 'runChars'
  | 'matmulNT'
  | 'transpose'
  | 'adamStep'
  | 'standardize'
  | 'softmaxXent'
  | 'sparseLogits'
  | 'sparseAdagrad'
  | 'detectorRun';

/** A kernel call: its export name and numeric arguments. */
export type Call = [name: KernelName, ...args: number[]];

/** Runs parts of kernel calls on a pool's threads, or here one after another. */
export function runParts(kernels: object, pool: Parallel | undefined, parts: Call[][]): void {
  if (pool) {
    pool.run(parts);
    return;
  }
  const k = kernels as Record<string, (...a: number[]) => void>;
  for (const part of parts) for (const [name, ...args] of part) k[name](...args);
}

/** Something that runs parts of kernel calls, one part per thread. */
export interface Parallel {
  readonly threads: number;
  run(parts: Call[][]): void;
}

/** Splits [0, n) into `parts` contiguous ranges, sizes rounded to multiples of `step`. */
export function split(n: number, parts: number, step = 1): [number, number][] {
  const out: [number, number][] = [];
  const units = Math.ceil(n / step);
  for (let p = 0; p < parts; p++) {
    const a = Math.min(n, Math.floor((units * p) / parts) * step);
    const b = Math.min(n, Math.floor((units * (p + 1)) / parts) * step);
    out.push([a, b]);
  }
  return out;
}
