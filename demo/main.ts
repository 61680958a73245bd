// The demo page: wires the controls to the worker (worker.ts) and draws what it reports. All
// engine work happens in the worker; this thread only handles the DOM and the canvas.
import type { DemoConfig, ModelInfo, RasterChunk, Reply, Request } from './protocol.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page lacks #${id}`);
  return el as T;
};

const ui = {
  engine: $('engine'),
  isolated: $('isolated'),
  threads: $('threads'),
  threadsNote: $('threads-note'),
  text: $<HTMLTextAreaElement>('text'),
  sample: $<HTMLButtonElement>('sample'),
  textFile: $<HTMLInputElement>('textfile'),
  textStats: $('text-stats'),
  neurons: $<HTMLInputElement>('neurons'),
  epochs: $<HTMLInputElement>('epochs'),
  batch: $<HTMLInputElement>('batch'),
  seed: $<HTMLInputElement>('seed'),
  train: $<HTMLButtonElement>('train'),
  progress: $<HTMLProgressElement>('progress'),
  progressLabel: $('progress-label'),
  bpc: $('bpc'),
  rate: $('rate'),
  best: $('best'),
  time: $('time'),
  epochsTable: $<HTMLTableElement>('epochs-table'),
  modelFile: $<HTMLInputElement>('modelfile'),
  download: $<HTMLButtonElement>('download'),
  modelInfo: $('model-info'),
  raster: $<HTMLCanvasElement>('raster'),
  rasterCaption: $('raster-caption'),
  rasterHover: $('raster-hover'),
  liveRate: $('live-rate'),
  prompt: $<HTMLInputElement>('prompt'),
  length: $<HTMLInputElement>('length'),
  temperature: $<HTMLInputElement>('temperature'),
  genSeed: $<HTMLInputElement>('genseed'),
  generate: $<HTMLButtonElement>('generate'),
  output: $('output'),
  generateInfo: $('generate-info'),
  status: $('status'),
};

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
/** ?threads=N caps the training threads, e.g. 1 to compare with one thread; else no cap. */
const threadCap = ((): number | undefined => {
  const n = Number(new URLSearchParams(location.search).get('threads') ?? Number.NaN);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
})();
let ready = false;
let busy = false;
let hasModel = false;
let promptEdited = false;

function send(request: Request, transfer: Transferable[] = []): void {
  busy = true;
  refresh();
  worker.postMessage(request, transfer);
}

/** Enables exactly the controls that can act now. */
function refresh(): void {
  const idle = ready && !busy;
  ui.train.disabled = !idle || ui.text.value.length === 0;
  ui.generate.disabled = !idle || !hasModel;
  ui.download.disabled = !idle || !hasModel;
  ui.modelFile.disabled = !idle;
  ui.sample.disabled = !idle;
  document.body.dataset.state = !ready ? 'loading' : busy ? 'busy' : 'idle';
}

/** Shows how many threads training uses (before any training: would use). */
function showThreads(threads: number, isolated: boolean, trained: boolean): void {
  ui.threads.textContent = `Threads: ${threads}`;
  ui.threads.classList.toggle('yes', threads > 1);
  ui.threads.classList.toggle('no', threads === 1);
  ui.threads.dataset.value = String(threads);
  const why = !isolated
    ? 'the page is not cross-origin isolated, which shared memory needs'
    : threadCap !== undefined && threads === threadCap
      ? `the page's ?threads=${threadCap} asks for at most ${threadCap}`
      : 'the browser reports a single core, or lacks WebAssembly SIMD';
  ui.threadsNote.textContent =
    threads > 1
      ? `Training ${trained ? 'ran' : 'runs'} in a Web Worker, so this page stays responsive, ` +
        `and on ${threads} threads over shared WebAssembly memory (the worker and ` +
        `${threads - 1} more), with the same result as one thread.`
      : `Training ${trained ? 'ran' : 'runs'} in one Web Worker, so this page stays ` +
        `responsive, on a single thread: ${why}.`;
}

function status(message: string, error = false): void {
  ui.status.textContent = message;
  ui.status.classList.toggle('error', error);
}

const percent = (x: number): string => `${(x * 100).toFixed(2)}%`;
const count = (n: number): string => n.toLocaleString('en-US');

// The raster: one column per character, one row per neuron, scrolled as columns arrive.
const raster = {
  columns: [] as { counts: Uint8Array; char: string }[],
  rows: 0,
  substeps: 1,
  max: 450,
};

function addRaster(chunk: RasterChunk, reset: boolean): void {
  if (reset) raster.columns = [];
  raster.rows = chunk.neurons;
  raster.substeps = chunk.substeps;
  const chars = [...chunk.chars];
  for (let c = 0; c < chars.length; c++) {
    const counts = chunk.counts.subarray(c * chunk.neurons, (c + 1) * chunk.neurons);
    raster.columns.push({ counts, char: chars[c] });
  }
  if (raster.columns.length > raster.max)
    raster.columns.splice(0, raster.columns.length - raster.max);
  if (chars.length > 0) ui.liveRate.textContent = percent(chunk.firingRate);
  drawRaster();
}

function drawRaster(): void {
  const { columns, rows, substeps } = raster;
  const canvas = ui.raster;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  // One device pixel per cell would be too small to see; cells are at least 2 by 1.
  const width = Math.max(columns.length, 1) * 2;
  const height = Math.max(rows, 1);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const image = ctx.createImageData(width, height);
  const px = image.data;
  for (let c = 0; c < columns.length; c++) {
    const counts = columns[c].counts;
    for (let r = 0; r < rows; r++) {
      const level = counts[r] / substeps;
      // Dark navy at rest, through blue to warm yellow for a neuron firing every substep.
      const red = level === 0 ? 11 : 60 + 195 * level;
      const green = level === 0 ? 16 : 110 + 110 * level;
      const blue = level === 0 ? 32 : 230 - 130 * level;
      for (let dx = 0; dx < 2; dx++) {
        const i = (r * width + c * 2 + dx) * 4;
        px[i] = red;
        px[i + 1] = green;
        px[i + 2] = blue;
        px[i + 3] = 255;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
}

ui.raster.addEventListener('mousemove', (event) => {
  const box = ui.raster.getBoundingClientRect();
  const c = Math.floor(((event.clientX - box.left) / box.width) * (ui.raster.width / 2));
  const column = raster.columns[c];
  if (!column) return;
  let active = 0;
  for (const n of column.counts) if (n > 0) active++;
  ui.rasterHover.textContent = `character ${JSON.stringify(column.char)}: ${active} of ${
    raster.rows
  } neurons fired`;
});

function showModel(info: ModelInfo): void {
  hasModel = true;
  ui.modelInfo.textContent =
    `Model: ${info.source}. ${count(info.neurons)} neurons, ${info.substeps} substeps per ` +
    `character, ${info.vocabSize} symbols, seed ${info.seed}.`;
  ui.genSeed.placeholder = `${info.seed}`;
  // A prompt must use the model's characters; start from one that surely does.
  if (!promptEdited || [...ui.prompt.value].some((ch) => !info.chars.includes(ch))) {
    const text = ui.text.value;
    ui.prompt.value = text.length > 0 && info.chars.includes(text[0]) ? text.slice(0, 4) : '';
    if ([...ui.prompt.value].some((ch) => !info.chars.includes(ch))) ui.prompt.value = '';
    if (ui.prompt.value === '') ui.prompt.value = info.chars.includes(' ') ? ' ' : info.chars[0];
  }
  const rows = Math.min(info.neurons, 192);
  ui.rasterCaption.textContent =
    `${rows === info.neurons ? 'All' : `The first ${rows} of`} ${count(info.neurons)} neurons ` +
    '(rows) × characters (columns); brighter means more spikes while that character was presented.';
}

worker.onmessage = (event: MessageEvent<Reply>) => {
  const reply = event.data;
  switch (reply.type) {
    case 'ready': {
      ready = true;
      const isolated = self.crossOriginIsolated && reply.crossOriginIsolated;
      ui.engine.textContent = `Engine: WebAssembly ${reply.simd ? 'SIMD' : 'scalar (no SIMD)'}`;
      ui.engine.classList.add(reply.simd ? 'yes' : 'no');
      ui.isolated.textContent = `Cross-origin isolated: ${isolated ? 'yes' : 'no'}`;
      ui.isolated.classList.add(isolated ? 'yes' : 'no');
      ui.isolated.dataset.value = String(isolated);
      showThreads(Math.min(reply.threads, threadCap ?? reply.threads), isolated, false);
      status('Ready. Paste or load a text, then train, or load a model file.');
      break;
    }
    case 'split':
      status(
        `Training on ${count(reply.train)} characters, validating on ${count(reply.validation)}…`,
      );
      break;
    case 'progress': {
      const p = reply.progress;
      const epoch = p.epochs > 0 ? ` ${p.epoch}/${p.epochs}` : '';
      const name = {
        train: 'training epoch',
        validate: 'validating epoch',
        evaluate: 'scoring',
        ridge: 'fitting ridge',
      }[p.phase];
      ui.progress.value = p.total > 0 ? p.done / p.total : 0;
      ui.progressLabel.textContent = `${name}${epoch}: ${count(p.done)} / ${count(p.total)} characters`;
      break;
    }
    case 'raster':
      addRaster(reply.raster, reply.reset);
      break;
    case 'epoch': {
      const e = reply.epoch;
      ui.epochsTable.hidden = false;
      const row = ui.epochsTable.tBodies[0].insertRow();
      for (const cell of [
        String(e.epoch),
        e.trainBpc.toFixed(4),
        e.validation.bpc.toFixed(4),
        e.seconds.toFixed(1),
      ]) {
        row.insertCell().textContent = cell;
      }
      break;
    }
    case 'trained':
      busy = false;
      ui.progress.value = 1;
      ui.progressLabel.textContent = 'done';
      ui.bpc.textContent = `${reply.validationBpc.toFixed(4)} bpc`;
      ui.bpc.dataset.value = String(reply.validationBpc);
      ui.rate.textContent = percent(reply.firingRate);
      ui.best.textContent = String(reply.bestEpoch);
      ui.time.textContent = `${reply.seconds.toFixed(1)} s`;
      showThreads(reply.threads, ui.isolated.dataset.value === 'true', true);
      showModel(reply.info);
      status('Trained. Generate text below, or download the model for the CLI.');
      break;
    case 'loaded':
      busy = false;
      showModel(reply.info);
      // The scores shown were of the model this one replaces.
      ui.bpc.textContent = ui.rate.textContent = ui.best.textContent = ui.time.textContent = '–';
      ui.epochsTable.hidden = true;
      ui.progress.value = 0;
      ui.progressLabel.textContent = 'idle';
      status('Model file loaded and checked. Generate text below.');
      break;
    case 'generated': {
      busy = false;
      ui.output.replaceChildren();
      const prompt = document.createElement('span');
      prompt.className = 'prompt';
      prompt.textContent = reply.prompt;
      const text = document.createElement('span');
      text.textContent = reply.text;
      ui.output.append(prompt, text);
      ui.generateInfo.textContent =
        `${count([...reply.text].length)} characters, seed ${reply.seed}, ` +
        `${reply.ms.toFixed(0)} ms. The same seed, prompt, length and temperature give the same ` +
        'text in snnlm generate.';
      status('Generated.');
      break;
    }
    case 'saved': {
      busy = false;
      const url = URL.createObjectURL(new Blob([reply.bytes as BlobPart]));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'browser.snnlm';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      status('Model file saved: use it with snnlm generate --model browser.snnlm.');
      break;
    }
    case 'error':
      busy = false;
      status(`${reply.message}${reply.hint ? ` (${reply.hint})` : ''}`, true);
      break;
  }
  refresh();
};

worker.onerror = (event) => {
  busy = false;
  status(`The worker failed: ${event.message}`, true);
  refresh();
};

function numberOf(input: HTMLInputElement): number {
  return Number(input.value);
}

function updateTextStats(): void {
  ui.textStats.textContent = `${count(ui.text.value.length)} characters`;
  refresh();
}

ui.text.addEventListener('input', updateTextStats);
ui.prompt.addEventListener('input', () => {
  promptEdited = true;
});

ui.sample.addEventListener('click', async () => {
  const response = await fetch('sample.txt');
  const text = response.ok ? await response.text() : '';
  if (text === '') {
    status('This server has no sample text: paste a text or open a file.', true);
    return;
  }
  ui.text.value = text;
  updateTextStats();
});

ui.textFile.addEventListener('change', async () => {
  const file = ui.textFile.files?.[0];
  if (!file) return;
  ui.text.value = await file.text();
  ui.textFile.value = '';
  updateTextStats();
});

ui.train.addEventListener('click', () => {
  const config: DemoConfig = {
    neurons: numberOf(ui.neurons),
    epochs: numberOf(ui.epochs),
    batchSize: numberOf(ui.batch),
    seed: numberOf(ui.seed),
  };
  hasModel = false;
  ui.epochsTable.tBodies[0].replaceChildren();
  ui.epochsTable.hidden = true;
  ui.bpc.textContent = ui.rate.textContent = ui.best.textContent = ui.time.textContent = '–';
  ui.progress.value = 0;
  send({ type: 'train', text: ui.text.value, config, threads: threadCap });
});

ui.modelFile.addEventListener('change', async () => {
  const file = ui.modelFile.files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  ui.modelFile.value = '';
  hasModel = false;
  send({ type: 'load', bytes, name: file.name }, [bytes.buffer]);
});

ui.generate.addEventListener('click', () => {
  const seed = ui.genSeed.value.trim();
  send({
    type: 'generate',
    prompt: ui.prompt.value,
    length: numberOf(ui.length),
    temperature: numberOf(ui.temperature),
    seed: seed === '' ? undefined : Number(seed),
  });
});

ui.download.addEventListener('click', () => send({ type: 'save' }));

status('Loading the WebAssembly engine…');
refresh();
