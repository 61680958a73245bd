// A Web Worker that runs kernels on a training worker's shared WebAssembly memory: the browser
// side of src/threads-browser.ts. Its first message is the setup; it answers 'ready' (or the
// error) and from then on blocks in the shared loop of ./kernel-loop.mjs. Bundle it as its own
// module entry and give its URL to BrowserThreadPool.start.
import { type KernelWorkerSetup, runKernelLoop } from './kernel-loop.mjs';

// lib.dom types `self` as a Window; this is the slice of a worker's global scope used here.
const scope = self as unknown as {
  postMessage(message: string): void;
  onmessage: ((event: MessageEvent<KernelWorkerSetup>) => void) | null;
};

scope.onmessage = (event) => {
  scope.onmessage = null;
  runKernelLoop(event.data, () => scope.postMessage('ready')).catch((err: unknown) =>
    scope.postMessage(err instanceof Error ? err.message : String(err)),
  );
};
