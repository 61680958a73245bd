// Kernels on several threads in a browser: module Web Workers over one shared WebAssembly
// memory, the counterpart of src/threads.ts (Node's worker_threads) with the same protocol and
// worker loop (src/kernel-loop.mjs), so results are bit-identical to one thread there too.
// Needs a cross-origin isolated page (SharedArrayBuffer, shared memory), and run() blocks in
// Atomics.wait, which browsers allow in workers only: create the pool inside a Web Worker.
// Imports nothing from Node.
import { type Kernels, kernelModule } from './engine.ts';
import type { KernelWorkerSetup } from './kernel-loop.mjs';
import type { Call, KernelName, Parallel } from './parallel.ts';

const NAMES: KernelName[] = ['runChars', 'matmulNT', 'transpose', 'adamStep', 'standardize'];
const CALL_SLOTS = 4096;

/** A pool of Web Workers that run kernel calls on the kernels' shared memory. */
export class BrowserThreadPool implements Parallel {
  readonly threads: number;
  private readonly kernels: Kernels;
  private readonly workers: Worker[];
  private readonly ctl: Int32Array;
  private readonly calls: Float64Array;
  private seq = 0;

  private constructor(
    kernels: Kernels,
    workers: Worker[],
    control: SharedArrayBuffer,
    calls: SharedArrayBuffer,
  ) {
    this.kernels = kernels;
    this.workers = workers;
    this.threads = workers.length + 1;
    this.ctl = new Int32Array(control);
    this.calls = new Float64Array(calls);
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
    const n = Math.max(1, threads);
    const control = new SharedArrayBuffer(16 * 4 * n);
    const calls = new SharedArrayBuffer(CALL_SLOTS * 8 * n);
    const workers: Worker[] = [];
    const started: Promise<void>[] = [];
    for (let i = 0; i < n - 1; i++) {
      const worker = new Worker(workerUrl, { type: 'module', name: `snnlm kernels ${i + 1}` });
      workers.push(worker);
      started.push(
        new Promise<void>((resolve, reject) => {
          worker.onmessage = (event: MessageEvent<string>) => {
            if (event.data === 'ready') resolve();
            else reject(new Error(`kernel worker ${i + 1}: ${event.data}`));
          };
          worker.onerror = (event) => {
            event.preventDefault();
            reject(new Error(`kernel worker ${i + 1} failed: ${event.message || 'unknown error'}`));
          };
        }),
      );
      const setup: KernelWorkerSetup = {
        module,
        memory: kernels.memory,
        control,
        calls,
        index: i,
        names: NAMES,
        callSlots: CALL_SLOTS,
      };
      worker.postMessage(setup);
    }
    // All start at once: the page waits for the slowest, not for the sum.
    await Promise.all(started).catch((err: unknown) => {
      for (const worker of workers) worker.terminate();
      throw err;
    });
    return new BrowserThreadPool(kernels, workers, control, calls);
  }

  /** Runs parts[w] on thread w (part 0 here) and returns when all are done. */
  run(parts: Call[][]): void {
    if (parts.length > this.threads) throw new Error(`${parts.length} parts for ${this.threads}`);
    const seq = ++this.seq;
    for (let w = 1; w < parts.length; w++) this.post(w - 1, parts[w], seq);
    for (const [name, ...args] of parts[0] ?? []) {
      (this.kernels[name] as (...a: number[]) => void)(...args);
    }
    for (let w = 1; w < parts.length; w++) {
      const at = 16 * (w - 1) + 1;
      for (;;) {
        const done = Atomics.load(this.ctl, at);
        if (done === seq) break;
        Atomics.wait(this.ctl, at, done);
      }
    }
  }

  /** Stops the workers. */
  close(): void {
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctl, 16 * w, -1);
      Atomics.notify(this.ctl, 16 * w);
      this.workers[w].terminate();
    }
  }

  private post(worker: number, calls: Call[], seq: number): void {
    const slots = this.calls.subarray(worker * CALL_SLOTS, (worker + 1) * CALL_SLOTS);
    let at = 1;
    for (const [name, ...args] of calls) {
      if (at + 2 + args.length > CALL_SLOTS) throw new Error('too many kernel calls in one part');
      slots[at] = NAMES.indexOf(name);
      slots[at + 1] = args.length;
      slots.set(args, at + 2);
      at += 2 + args.length;
    }
    slots[0] = calls.length;
    Atomics.store(this.ctl, 16 * worker, seq);
    Atomics.notify(this.ctl, 16 * worker);
  }
}
