// The main job, shortened: the default configuration trained as `npm start`
// does (Tiny Shakespeare, vocabulary of the whole training split, softmax
// readout), on a slice of the training split for 1 epoch. Reports training
// characters/s, wall time, peak resident memory (sampled) and the WebAssembly
// memory. run.ts starts this file in its own process so the memory is the job's.
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CONFIG } from '../src/config.ts';
import { loadCorpus } from '../src/corpus.ts';
import { softmaxRow } from '../src/metrics.ts';
import { type Progress, SpikingLM } from '../src/model.ts';
import { ThreadPool } from '../src/threads.ts';
import { Vocabulary } from '../src/vocab.ts';
import { DATA_DIR, fmt, note, table } from './common.ts';

const TRAIN_CHARS = 100_000;
const VALID_CHARS = 20_000;
const MiB = 1024 * 1024;

export async function mainjobBench(): Promise<void> {
  let peak = process.memoryUsage().rss;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 10);
  const rssStart = process.memoryUsage().rss;
  const t0 = performance.now();

  const corpus = await loadCorpus('tinyshakespeare', { dataDir: DATA_DIR, download: false });
  const vocab = Vocabulary.fromText(corpus.train);
  const train = corpus.train.slice(0, TRAIN_CHARS);
  const validation = corpus.validation.slice(0, VALID_CHARS);
  const config = { ...DEFAULT_CONFIG, epochs: 1 };
  const model = await SpikingLM.create(config, vocab);
  const tReady = performance.now();

  let trainEnd = 0;
  let trainDone = 0;
  const onProgress = (p: Progress) => {
    sample();
    if (p.phase === 'train') {
      trainEnd = performance.now();
      trainDone = p.done;
    }
  };
  const report = await model.train(train, validation, { onProgress });
  const tEnd = performance.now();
  clearInterval(timer);
  sample();

  const trainSeconds = (trainEnd - tReady) / 1000;
  const validSeconds = (tEnd - trainEnd) / 1000;
  const wasmBytes = model.heap.k.memory.buffer.byteLength;
  const trainCps = trainDone / trainSeconds;
  const validCps = validation.length / validSeconds;
  const fullTrain = corpus.train.length * DEFAULT_CONFIG.epochs;
  const fullValid = corpus.validation.length * DEFAULT_CONFIG.epochs;
  const estimate = fullTrain / trainCps + fullValid / validCps;

  note(
    `Default configuration (${config.neurons} neurons, connectivity ${config.connectivity}, ` +
      `${config.substeps} substeps, ${config.features} features, ${config.readout} readout, ` +
      `batch ${config.batchSize}) with epochs = 1, trained on the first ${fmt(train.length)} ` +
      `characters of the Tiny Shakespeare training split and validated on the first ` +
      `${fmt(validation.length)} of its validation split; vocabulary of the whole training ` +
      `split (${vocab.size} symbols), SIMD build. RSS sampled every 10 ms and at each ` +
      'progress report.',
  );
  table(
    'Main job, shortened run',
    ['measure', 'value'],
    [
      ['training characters (streams × steps)', fmt(trainDone)],
      ['training characters/s (reservoir + readout + Adam)', fmt(trainCps)],
      ['validation characters/s (reservoir + readout)', fmt(validCps)],
      ['setup (corpus, network, kernels) s', fmt((tReady - t0) / 1000, 2)],
      ['training s', fmt(trainSeconds, 2)],
      ['validation s', fmt(validSeconds, 2)],
      ['wall time s (setup + train())', fmt((tEnd - t0) / 1000, 2)],
      ['validation bpc after 1 epoch on the slice', report.validation.bpc.toFixed(3)],
      ['firing rate', `${(report.firingRate * 100).toFixed(2)}%`],
      ['RSS at start MiB', fmt(rssStart / MiB, 1)],
      ['peak RSS MiB', fmt(peak / MiB, 1)],
      ['WebAssembly memory MiB', fmt(wasmBytes / MiB, 1)],
      ['kernel heap in use MiB', fmt(model.heap.used / MiB, 1)],
      [
        `estimate for the full default job (${DEFAULT_CONFIG.epochs} epochs, whole splits) s`,
        fmt(estimate, 0),
      ],
    ],
  );
  note(
    'The estimate scales the measured rates to the whole training split ' +
      `(${fmt(corpus.train.length)} characters) and validation split ` +
      `(${fmt(corpus.validation.length)}) for ${DEFAULT_CONFIG.epochs} epochs; it is not measured.`,
  );
  breakdown(model, vocab.size);
  await threadsRatio(train, validation, vocab);
}

// The same shortened job on one thread and on all cores (worker threads over
// shared memory), alternating so that drifting machine speed hits both alike.
async function threadsRatio(train: string, validation: string, vocab: Vocabulary): Promise<void> {
  const threads = Math.max(2, availableParallelism());
  const config = { ...DEFAULT_CONFIG, epochs: 1 };
  const seconds: Record<string, number[]> = { one: [], many: [] };
  let same = true;
  for (let round = 0; round < 2; round++) {
    const one = await SpikingLM.create(config, vocab, 'simd');
    let t0 = performance.now();
    await one.train(train, validation);
    seconds.one.push((performance.now() - t0) / 1000);

    const many = await SpikingLM.create(config, vocab, 'threads');
    const pool = await ThreadPool.start(many.heap.k, threads);
    t0 = performance.now();
    await many.train(train, validation, { pool });
    seconds.many.push((performance.now() - t0) / 1000);
    await pool.close();
    same &&= one.readoutWeights().every((w, i) => Object.is(w, many.readoutWeights()[i]));
  }
  const best = (xs: number[]) => Math.min(...xs);
  table(
    `Training (train + validation, 1 epoch on the slice): 1 thread against ${threads}`,
    ['threads', 'best of 2 s', 'speed-up'],
    [
      ['1', fmt(best(seconds.one), 2), '1.00×'],
      [
        String(threads),
        fmt(best(seconds.many), 2),
        `${(best(seconds.one) / best(seconds.many)).toFixed(2)}×`,
      ],
    ],
  );
  note(`Readout weights bit-identical between 1 and ${threads} threads: ${same ? 'yes' : 'NO'}.`);
}

// One training step's parts, timed one by one on the model's own buffers and
// shapes (train.ts runs them in this order for every row of a chunk).
function breakdown(model: SpikingLM, v: number): void {
  const { heap, width, reservoir } = model;
  const k = heap.k;
  const batch = DEFAULT_CONFIG.batchSize;
  const rowsPerChunk = 32;
  const weights = v * width;
  const featAt = model.featureBuffer('train', rowsPerChunk * batch);
  const xtAt = model.buffer('train-xt', width * batch * 4);
  const logitsAt = model.buffer('train-logits', batch * v * 4);
  const gtAt = model.buffer('train-gt', v * batch * 4);
  const gradAt = model.buffer('grad', weights * 4);
  const mAt = model.buffer('adam-m', weights * 4);
  const sAt = model.buffer('adam-s', weights * 4);
  const idsAt = model.buffer('train-ids', 2);
  const p = new Float64Array(v);
  const states = Array.from({ length: batch }, (_, b) => model.stateFor(`stream${b}`));
  const steps = 64;
  const time = (fn: () => void, reps: number) => {
    fn();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    return ((performance.now() - t0) * 1e6) / reps;
  };
  const parts: [string, number][] = [
    [
      'reservoir (runChars, features written), per step of the batch',
      time(() => {
        for (let b = 0; b < batch; b++) {
          reservoir.run(states[b], idsAt, rowsPerChunk, featAt + b * width * 4, batch * width);
        }
      }, 4) / rowsPerChunk,
    ],
    [
      'matmulNT forward [batch×width]·[vocab×width]ᵀ',
      time(() => {
        k.matmulNT(featAt, model.readoutAt, logitsAt, batch, v, width, false);
      }, steps),
    ],
    [
      'softmax + gradient rows (TypeScript)',
      time(() => {
        const logits = heap.f32(logitsAt, batch * v);
        const gT = heap.f32(gtAt, v * batch);
        for (let b = 0; b < batch; b++) {
          softmaxRow(logits, b, v, 1, p);
          for (let j = 0; j < v; j++) gT[j * batch + b] = (p[j] - (j === 0 ? 1 : 0)) / batch;
        }
      }, steps),
    ],
    ['transpose [batch×width]', time(() => k.transpose(featAt, xtAt, batch, width, batch), steps)],
    [
      'matmulNT gradient [vocab×batch]·[width×batch]ᵀ',
      time(() => {
        k.matmulNT(gtAt, xtAt, gradAt, v, width, batch, false);
      }, steps),
    ],
    [
      'adamStep',
      time(() => {
        k.adamStep(weights, model.readoutAt, gradAt, mAt, sAt, 0, 0.9, 0.999, 1e-8, 0, 1, 1);
      }, steps),
    ],
  ];
  const total = parts.reduce((sum, [, ns]) => sum + ns, 0);
  table(
    `One training step (${batch} characters), part by part`,
    ['part', 'µs/step', 'ns/char', 'share'],
    parts.map(([name, ns]) => [
      name,
      fmt(ns / 1000, 0),
      fmt(ns / batch, 0),
      `${((ns / total) * 100).toFixed(1)}%`,
    ]),
  );
  note(
    `Sum ${fmt(total / 1000, 0)} µs per step, ${fmt(total / batch, 0)} ns per character ` +
      `(${fmt((1e9 * batch) / total, 0)} characters/s if nothing else ran).`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await mainjobBench();
}
