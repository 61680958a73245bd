// The calling side of kernel threads, shared by Node's worker_threads
// (src/threads.ts) and the browser's Web Workers (src/threads-browser.ts); the
// worker side is src/kernel-loop.mjs. No Node imports.
//
// Work is split into parts whose boundaries do not change any result: each part
// computes its own outputs with the same kernels, and no part sums another's,
// so results are bit-identical to one thread. Part 0 runs on the calling
// thread; part w > 0 on worker w − 1. The protocol (control block and call
// slots) is drawn at the top of src/kernel-loop.mjs.
import type { Kernels } from './engine.ts';
import type { KernelWorkerSetup } from './kernel-loop.mjs';
import type { Call, KernelName, Parallel } from './parallel.ts';

const NAMES: KernelName[] = [
  'runChars',
  'matmulNT',
  'transpose',
  'adamStep',
  'standardize',
  'softmaxXent',
  'sparseLogits',
  'sparseAdagrad',
  'detectorRun',
];
const CALL_SLOTS = 4096;

/** Runs kernel calls on the calling thread and on workers that share its memory. */
export class KernelPool implements Parallel {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly slots: Float64Array;
  private seq = 0;

  protected constructor(
    private readonly kernels: Kernels,
    threads: number,
    control: SharedArrayBuffer,
    calls: SharedArrayBuffer,
  ) {
    this.threads = threads;
    this.ctl = new Int32Array(control);
    this.slots = new Float64Array(calls);
  }

  /** The buffers and the setup message of each of threads − 1 workers. */
  protected static setups(
    module: WebAssembly.Module,
    kernels: Kernels,
    threads: number,
  ): { control: SharedArrayBuffer; calls: SharedArrayBuffer; setups: KernelWorkerSetup[] } {
    const n = Math.max(1, threads);
    const control = new SharedArrayBuffer(16 * 4 * n);
    const calls = new SharedArrayBuffer(CALL_SLOTS * 8 * n);
    const setups = Array.from({ length: n - 1 }, (_, index) => ({
      module,
      memory: kernels.memory,
      control,
      calls,
      index,
      names: NAMES,
      callSlots: CALL_SLOTS,
    }));
    return { control, calls, setups };
  }

  /** Runs parts[w] on thread w and returns when all are done. */
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

  /** Tells every worker to leave its loop. */
  protected stopWorkers(): void {
    for (let w = 0; w < this.threads - 1; w++) {
      Atomics.store(this.ctl, 16 * w, -1);
      Atomics.notify(this.ctl, 16 * w);
    }
  }

  private post(worker: number, calls: Call[], seq: number): void {
    const slots = this.slots.subarray(worker * CALL_SLOTS, (worker + 1) * CALL_SLOTS);
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
