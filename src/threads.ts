// Kernels on several threads in Node: worker_threads over one shared
// WebAssembly memory (see src/kernel-pool.ts for how work is split and why the
// results equal one thread's).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Kernels, kernelModule } from './engine.ts';
import { KernelPool } from './kernel-pool.ts';

/** The number of cores, the default for --threads. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** A pool of worker threads that run kernel calls on the kernels' shared memory. */
export class ThreadPool extends KernelPool {
  private constructor(
    kernels: Kernels,
    private readonly workers: Worker[],
    control: SharedArrayBuffer,
    calls: SharedArrayBuffer,
  ) {
    super(kernels, workers.length + 1, control, calls);
  }

  /** Starts threads − 1 workers on the kernels of a model made with the 'threads' build. */
  static async start(kernels: Kernels, threads: number): Promise<ThreadPool> {
    const module = await kernelModule('threads');
    const { control, calls, setups } = KernelPool.setups(module, kernels, threads);
    const workers = setups.map(
      (workerData) => new Worker(new URL('./kernel-worker.mjs', import.meta.url), { workerData }),
    );
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('message', () => resolve());
            worker.once('error', reject);
          }),
      ),
    );
    for (const worker of workers) worker.unref();
    return new ThreadPool(kernels, workers, control, calls);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    this.stopWorkers();
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
