// A worker thread that runs kernels on the main thread's shared WebAssembly
// memory. Plain JavaScript so that it starts without a TypeScript loader; the
// protocol and the loop are in ./kernel-loop.mjs, shared with the browser.
import { parentPort, workerData } from 'node:worker_threads';
import { runKernelLoop } from './kernel-loop.mjs';

await runKernelLoop(workerData, () => parentPort.postMessage('ready'));
