// The loop a kernel worker runs, shared by Node's worker threads (src/kernel-worker.mjs) and
// the browser's Web Workers (src/kernel-worker-browser.ts), so both follow one protocol. Plain
// JavaScript without imports, so that Node loads it without a TypeScript loader.
//
// Control block (Int32Array over a SharedArrayBuffer), per worker w at 16·w:
//   [0] seq   the calling thread bumps it to hand over a batch of calls; −1 = exit
//   [1] done  the worker sets it to seq when the batch is finished
// Calls (Float64Array, per worker w at callSlots·w):
//   count, then for each call: kernel index, argument count, arguments...

/**
 * Instantiates the module on the shared memory, calls ready(), then runs batches until told to
 * exit. It blocks its thread in Atomics.wait between batches, so it never returns to the event
 * loop: the worker takes no further messages.
 */
export async function runKernelLoop(setup, ready) {
  const { module, memory, control, calls, index, names, callSlots } = setup;
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = names.map((name) => instance.exports[name]);
  const ctl = new Int32Array(control);
  const args = new Float64Array(calls, index * callSlots * 8, callSlots);
  const base = index * 16;
  let seen = 0;
  ready();

  for (;;) {
    Atomics.wait(ctl, base, seen);
    const seq = Atomics.load(ctl, base);
    if (seq < 0) break;
    seen = seq;
    let at = 1;
    for (let c = 0, count = args[0]; c < count; c++) {
      const fn = kernels[args[at]];
      const n = args[at + 1];
      const a = args.subarray(at + 2, at + 2 + n);
      fn(...a);
      at += 2 + n;
    }
    Atomics.store(ctl, base + 1, seq);
    Atomics.notify(ctl, base + 1);
  }
}
