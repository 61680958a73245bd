// Types of src/kernel-loop.mjs, which stays plain JavaScript for Node's worker threads.

/** What a kernel worker needs: the compiled 'threads' build and the shared buffers. */
export interface KernelWorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  calls: SharedArrayBuffer;
  /** Which worker this is: its slice of the control block and of the call slots. */
  index: number;
  /** Kernel exports, in the order the call slots number them. */
  names: readonly string[];
  callSlots: number;
}

/** Runs batches of kernel calls until told to exit; calls ready() once instantiated. */
export function runKernelLoop(setup: KernelWorkerSetup, ready: () => void): Promise<void>;
