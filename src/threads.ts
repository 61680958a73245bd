// Kernels on several threads (Node's worker_threads) over one shared
// WebAssembly memory. Work is split into parts whose boundaries do not depend
// on the number of threads' scheduling: each part computes its own outputs with
// the same kernels, and no part sums another's, so results are bit-identical
// to one thread. Part 0 runs on the calling thread; part w > 0 on worker w − 1.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Kernels, kernelModule } from './engine.ts';
import type { Call, KernelName, Parallel } from './parallel.ts';

const NAMES: KernelName[] = ['runChars', 'matmulNT', 'transpose', 'adamStep', 'standardize'];
const CALL_SLOTS = 4096;

/** The number of cores, the default for --threads. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** A pool of threads that run kernel calls on shared memory. */
export class ThreadPool implements Parallel {
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

  /** Starts threads − 1 workers on the kernels' shared memory. */
  static async start(kernels: Kernels, threads: number): Promise<ThreadPool> {
    const module = await kernelModule('threads');
    const control = new SharedArrayBuffer(16 * 4 * Math.max(1, threads));
    const calls = new SharedArrayBuffer(CALL_SLOTS * 8 * Math.max(1, threads));
    const workers: Worker[] = [];
    for (let i = 0; i < threads - 1; i++) {
      const worker = new Worker(new URL('./kernel-worker.mjs', import.meta.url), {
        workerData: {
          module,
          memory: kernels.memory,
          control,
          calls,
          index: i,
          names: NAMES,
          callSlots: CALL_SLOTS,
        },
      });
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      worker.unref();
      workers.push(worker);
    }
    return new ThreadPool(kernels, workers, control, calls);
  }

  /** Runs parts[w] on thread w and returns when all are done. */
  run(parts: Call[][]): void {
    const seq = ++this.seq;
    for (let w = 1; w < parts.length; w++) this.post(w - 1, parts[w], seq);
    for (const call of parts[0] ?? []) this.call(call);
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
  async close(): Promise<void> {
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctl, 16 * w, -1);
      Atomics.notify(this.ctl, 16 * w);
    }
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private call([name, ...args]: Call): void {
    (this.kernels[name] as (...a: number[]) => void)(...args);
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
