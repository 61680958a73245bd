// The demo's engine side: a module Web Worker that owns the model, so training (seconds to
// minutes of WebAssembly) never blocks the page. It answers the requests in protocol.ts.
import { sha256 } from '@noble/hashes/sha2.js';
import {
  type Build,
  decodeModelFile,
  encodeModelFile,
  loadKernels,
  modelFromFile,
  modelToFile,
  type Progress,
  Reservoir,
  SnnlmError,
  SpikingLM,
  Vocabulary,
} from '../src/index.ts';
import { BrowserThreadPool } from '../src/threads-browser.ts';
import type { DemoConfig, ModelInfo, RasterChunk, Reply, Request } from './protocol.ts';

// lib.dom types `self` as a Window; this is the slice of a worker's global scope used here.
const scope = self as unknown as {
  crossOriginIsolated: boolean;
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<Request>) => void) | null;
};

/** Model files carry a SHA-256; the browser's own (crypto.subtle) is async only. */
const hash = (bytes: Uint8Array): Uint8Array => sha256(bytes);

/** Rows of the raster the page draws; bigger reservoirs show their first neurons. */
const MAX_ROWS = 192;
/** The training raster advances this many characters per update. */
const PROBE_CHARS = 6;
/** Characters of prompt and output whose raster is shown after generating. */
const RASTER_AFTER_GENERATE = 400;
/** Minimum milliseconds between progress messages, so the page is not flooded. */
const PROGRESS_EVERY = 60;
/** Most threads training uses: past a few, the serial parts and startup outweigh the gain. */
const MAX_THREADS = 4;
/** The bundled src/kernel-worker-browser.ts, next to this bundle (demo/build.ts). */
const KERNEL_WORKER = new URL('./kernel-worker.js', import.meta.url);

let model: SpikingLM | undefined;
let info: ModelInfo | undefined;
let busy = false;

// SIMD is what the CLI runs, so generation matches it bit for bit; the scalar build is a fallback
// for browsers without WebAssembly SIMD.
const build: Promise<Build> = loadKernels('simd').then(
  () => 'simd',
  () => 'scalar',
);

/**
 * Threads training can use: more than one only where shared memory works (a cross-origin
 * isolated page), there are cores to spare, and the shared-memory build loads.
 */
const threadsAvailable: Promise<number> = build.then(async (b) => {
  const cores = Math.min(navigator.hardwareConcurrency || 1, MAX_THREADS);
  if (b !== 'simd' || !scope.crossOriginIsolated || cores < 2) return 1;
  return loadKernels('threads').then(
    () => cores,
    () => 1,
  );
});

function post(message: Reply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/**
 * Runs characters one at a time through a state of its own and records each one's spike counts;
 * it never touches the states training uses, so it can run between training steps.
 */
class Probe {
  private readonly state: number;
  private readonly idsAt: number;
  private ids: Uint16Array = new Uint16Array(0);
  private chars: string[] = [];
  private pos = 0;

  constructor(private readonly lm: SpikingLM) {
    // Allocated up front: nothing grows the heap from inside a progress callback.
    this.state = lm.stateFor('demo-probe');
    this.idsAt = lm.buffer('demo-probe-id', 16);
  }

  /** Starts over on a text (its first 50,000 characters) from the network at rest. */
  start(text: string): void {
    this.chars = [...text.slice(0, 50_000)];
    this.ids = this.lm.vocab.encode(this.chars.join('')).ids;
    this.pos = 0;
    this.lm.reservoir.reset(this.state);
  }

  /** Presents the next `count` characters without recording them. */
  skip(count: number): void {
    for (let c = 0; c < count; c++) this.present();
  }

  /** Presents the next `count` characters (wrapping around) and returns their raster. */
  next(count: number): RasterChunk {
    const { lm } = this;
    const reservoir = lm.reservoir as Reservoir;
    const rows = Math.min(lm.net.n, MAX_ROWS);
    const counts = new Uint8Array(count * rows);
    const before = reservoir.counts(this.state);
    let shown = '';
    for (let c = 0; c < count && this.ids.length > 0; c++) {
      shown += this.present();
      counts.set(Uint8Array.from(reservoir.spikeCounts(this.state).subarray(0, rows)), c * rows);
    }
    const after = reservoir.counts(this.state);
    // A wrap resets the counters; the rate is then that of the characters since the wrap.
    const wrapped = after.updates < before.updates;
    const spikes = after.spikes - (wrapped ? 0 : before.spikes);
    const updates = after.updates - (wrapped ? 0 : before.updates);
    return {
      neurons: rows,
      substeps: lm.config.substeps,
      counts,
      chars: shown,
      firingRate: spikes / Math.max(1, updates),
    };
  }

  private present(): string {
    if (this.ids.length === 0) return '';
    if (this.pos >= this.ids.length) {
      this.pos = 0;
      this.lm.reservoir.reset(this.state);
    }
    this.lm.heap.u16(this.idsAt, 1)[0] = this.ids[this.pos];
    this.lm.reservoir.run(this.state, this.idsAt, 1);
    return this.chars[this.pos++];
  }
}

function describe(lm: SpikingLM, source: string): ModelInfo {
  return {
    source,
    neurons: lm.net.n,
    vocabSize: lm.vocab.size,
    substeps: lm.config.substeps,
    seed: lm.config.seed,
    chars: lm.vocab.chars.slice(0, -1).join(''),
  };
}

/** Splits at a code point boundary, 90% training and 10% validation. */
function split(text: string): { train: string; validation: string } {
  let at = Math.floor(text.length * 0.9);
  const unit = text.charCodeAt(at);
  if (unit >= 0xdc00 && unit <= 0xdfff) at--;
  return { train: text.slice(0, at), validation: text.slice(at) };
}

async function train(text: string, config: DemoConfig, cap = Infinity): Promise<void> {
  if (text.length < 200) {
    throw new SnnlmError(
      `the text has ${text.length} characters; training needs at least 200`,
      'paste a longer text or load the sample',
    );
  }
  const parts = split(text);
  post({ type: 'split', train: parts.train.length, validation: parts.validation.length });
  model = undefined;
  info = undefined;
  const threads = Math.max(1, Math.min(cap, await threadsAvailable));
  // The 'threads' build is the SIMD build over shared memory: the same model, bit for bit.
  const lm = await SpikingLM.create(
    config,
    Vocabulary.fromText(parts.train),
    threads > 1 ? 'threads' : await build,
  );
  if (!(lm.reservoir instanceof Reservoir)) throw new Error('expected a spiking reservoir');
  const probe = new Probe(lm);
  probe.start(parts.train);
  post({ type: 'raster', raster: probe.next(0), reset: true });
  let last = 0;
  let phase = '';
  const onProgress = (progress: Progress): void => {
    const now = performance.now();
    const key = `${progress.phase}${progress.epoch}`;
    if (now - last < PROGRESS_EVERY && key === phase && progress.done < progress.total) return;
    last = now;
    phase = key;
    post({ type: 'progress', progress });
    const raster = probe.next(PROBE_CHARS);
    post({ type: 'raster', raster, reset: false }, [raster.counts.buffer]);
  };
  const pool =
    threads > 1 ? await BrowserThreadPool.start(lm.heap.k, threads, KERNEL_WORKER) : undefined;
  // Generating afterwards is sequential, so the workers are not kept.
  const report = await lm
    .train(parts.train, parts.validation, { onProgress, pool })
    .finally(() => pool?.close());
  for (const epoch of report.epochs) post({ type: 'epoch', epoch });
  model = lm;
  info = describe(lm, 'trained in this page');
  post({
    type: 'trained',
    info,
    validationBpc: report.validation.bpc,
    bestEpoch: report.bestEpoch,
    firingRate: report.firingRate,
    seconds: report.trainSeconds,
    threads,
  });
}

async function load(bytes: Uint8Array, name: string): Promise<void> {
  const file = decodeModelFile(bytes, hash);
  const lm = await modelFromFile(file, await build);
  if (!(lm.reservoir instanceof Reservoir)) throw new Error('expected a spiking reservoir');
  model = lm;
  const from =
    typeof file.header.corpusName === 'string' ? `, trained on ${file.header.corpusName}` : '';
  info = describe(lm, `${name}${from}`);
  post({ type: 'loaded', info });
}

function generate(prompt: string, length: number, temperature: number, seed?: number): void {
  if (!model) throw new SnnlmError('there is no model yet', 'train one or load a model file');
  const started = performance.now();
  const used = seed ?? model.config.seed;
  const text = model.generate(prompt, { length, temperature, seed: used });
  const ms = performance.now() - started;
  post({ type: 'generated', prompt, text, seed: used, ms });
  // The raster of what the network saw while generating: the prompt, then its own output.
  const probe = new Probe(model);
  const seen = [...(prompt + text)];
  const shown = Math.min(seen.length, RASTER_AFTER_GENERATE);
  probe.start(seen.join(''));
  probe.skip(seen.length - shown);
  const raster = probe.next(shown);
  post({ type: 'raster', raster, reset: true }, [raster.counts.buffer]);
}

function save(): void {
  if (!model) throw new SnnlmError('there is no model yet', 'train one or load a model file');
  const { header, sections } = modelToFile(model, { corpus: 'browser demo' });
  const bytes = encodeModelFile(header, sections, hash);
  post({ type: 'saved', bytes }, [bytes.buffer]);
}

async function handle(request: Request): Promise<void> {
  if (request.type === 'train') return train(request.text, request.config, request.threads);
  if (request.type === 'load') return load(request.bytes, request.name);
  if (request.type === 'generate') {
    return generate(request.prompt, request.length, request.temperature, request.seed);
  }
  return save();
}

scope.onmessage = (event) => {
  if (busy) {
    post({ type: 'error', message: 'the worker is busy', hint: 'wait for the current step' });
    return;
  }
  busy = true;
  handle(event.data)
    .catch((err: unknown) => {
      if (err instanceof SnnlmError) post({ type: 'error', message: err.message, hint: err.hint });
      else post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    })
    .finally(() => {
      busy = false;
    });
};

Promise.all([build, threadsAvailable]).then(([b, threads]) =>
  post({
    type: 'ready',
    crossOriginIsolated: scope.crossOriginIsolated,
    simd: b === 'simd',
    threads,
  }),
);
