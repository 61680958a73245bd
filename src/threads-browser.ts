// Kernels on several threads in a browser: module Web Workers over one shared
// WebAssembly memory, the counterpart of src/threads.ts (see src/kernel-pool.ts).
// Needs a cross-origin isolated page (SharedArrayBuffer, shared memory), and
// run() blocks in Atomics.wait, which browsers allow in workers only: create the
// pool inside a Web Worker. Imports nothing from Node.
import { type Kernels, kernelModule } from './engine.ts';
import { KernelPool } from './kernel-pool.ts';

/** A pool of Web Workers that run kernel calls on the kernels' shared memory. */
export class BrowserThreadPool extends KernelPool {
  private constructor(
    kernels: Kernels,
    private readonly workers: Worker[],
    control: SharedArrayBuffer,
    calls: SharedArrayBuffer,
  ) {
    super(kernels, workers.length + 1, control, calls);
  }

  /**
   * Starts threads − 1 workers on the kernels of a model made with the 'threads' build.
   * `workerUrl` is the bundled src/kernel-worker-browser.ts: where it lives depends on the
   * bundler, so the page says.
   */
  static async start(
    kernels: Kernels,
    threads: number,
    workerUrl: URL | string,
  ): Promise<BrowserThreadPool> {
    const module = await kernelModule('threads');
    const { control, calls, setups } = KernelPool.setups(module, kernels, threads);
    const workers = setups.map(
      (_, i) => new Worker(workerUrl, { type: 'module', name: `snnlm kernels ${i + 1}` }),
    );
    const started = workers.map(
      (worker, i) =>
        new Promise<void>((resolve, reject) => {
          worker.onmessage = (event: MessageEvent<string>) => {
            if (event.data === 'ready') resolve();
            else reject(new Error(`kernel worker ${i + 1}: ${event.data}`));
          };
          worker.onerror = (event) => {
            event.preventDefault();
            reject(new Error(`kernel worker ${i + 1} failed: ${event.message || 'unknown error'}`));
          };
          worker.postMessage(setups[i]);
        }),
    );
    // All start at once: the page waits for the slowest, not for the sum.
    await Promise.all(started).catch((err: unknown) => {
      for (const worker of workers) worker.terminate();
      throw err;
    });
    return new BrowserThreadPool(kernels, workers, control, calls);
  }

  /** Stops the workers. */
  close(): void {
    this.stopWorkers();
    for (const worker of this.workers) worker.terminate();
  }
}
