// The main job. First shortened, in this process: the default configuration trained as
// `npm start` does (Tiny Shakespeare, vocabulary of the whole training split, softmax
// readout) on a slice of the training split for 1 epoch, with training characters/s, peak
// resident memory (sampled), the WebAssembly memory and where a training step's time goes.
// Then the whole job as `npm start` runs it, in child processes, on one thread and on all
// cores. run.ts starts this file in its own process so the memory is the job's.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_CONFIG } from '../src/config.ts';
import { loadCorpus } from '../src/corpus.ts';
import { Heap, loadKernels } from '../src/engine.ts';
import { softmaxRow } from '../src/metrics.ts';
import { type Progress, SpikingLM } from '../src/model.ts';
import { type Call, split } from '../src/parallel.ts';
import { ThreadPool } from '../src/threads.ts';
import { Vocabulary } from '../src/vocab.ts';
import { DATA_DIR, fmt, note, ratio, table, tempDir } from './common.ts';

const run = promisify(execFile);

const TRAIN_CHARS = 100_000;
const VALID_CHARS = 20_000;
const MiB = 1024 * 1024;
const ROUNDS = 2;

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
    ],
  );
  breakdown(model, vocab.size);
  await handOver();
  await wholeJob(corpus.train.length);
}

// What a second thread costs and gives, on the pool the main job uses: a hand-over with no
// work (one kernel call of zero rows per thread), and Adam over 1 M weights, which streams
// four arrays through memory, on one thread and split over all cores.
async function handOver(): Promise<void> {
  const threads = Math.max(2, availableParallelism());
  const heap = new Heap(await loadKernels('threads'));
  const pool = await ThreadPool.start(heap.k, threads);
  const n = 1 << 20;
  const [w, g, m, s] = [0, 1, 2, 3].map(() => heap.alloc(n * 4));
  heap.f32(g, n).fill(0.01);
  const adam = ([a, b]: [number, number]): Call[] => [
    [
      'adamStep',
      b - a,
      w + a * 4,
      g + a * 4,
      m + a * 4,
      s + a * 4,
      1e-3,
      0.9,
      0.999,
      1e-8,
      0,
      1,
      1,
    ],
  ];
  const idle: Call[][] = Array.from({ length: threads }, () => [['transpose', w, g, 0, 1, 0]]);
  const perCall = (parts: Call[][], reps: number) => {
    pool.run(parts);
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) pool.run(parts);
    return ((performance.now() - t0) * 1000) / reps;
  };
  const empty = perCall(idle, 2000);
  const one = perCall([adam([0, n])], 50);
  const many = perCall(split(n, threads).map(adam), 50);
  await pool.close();
  table(
    `Threads: a hand-over, and Adam over ${fmt(n)} weights`,
    ['measure', 'µs', 'ratio'],
    [
      [`hand-over to ${threads} threads and back, no work`, fmt(empty, 1), ''],
      ['adamStep on 1 thread', fmt(one, 0), '1.00×'],
      [`adamStep split over ${threads} threads`, fmt(many, 0), ratio(one, many)],
    ],
  );
}

// The whole main job (`npm start`: the default model on the whole of Tiny Shakespeare, test
// evaluation, model file, sample), each in its own process: one thread, then all cores. The
// wall time is from start to exit, as a user waits for it; the peak memory is the process's
// own figure (worker threads included), which the CLI reports.
async function wholeJob(trainSplit: number): Promise<void> {
  const threads = Math.max(2, availableParallelism());
  // Two rounds, alternating, and the faster run of each: this machine's speed drifts by
  // more than a tenth between minutes.
  const all: JobRun[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of [1, threads]) all.push(await trainProcess(t, trainSplit));
  }
  const fastest = (t: number) =>
    all.filter((r) => r.threads === t).reduce((a, b) => (b.wall < a.wall ? b : a));
  const runs = [fastest(1), fastest(threads)];
  const [one, many] = runs;
  const trainChars = one.trainChars;
  table(
    `The whole main job (\`npm start\`, ${DEFAULT_CONFIG.epochs} epochs, ` +
      `seed ${DEFAULT_CONFIG.seed}): 1 thread against ${threads}, ` +
      `faster of ${ROUNDS} alternating runs each`,
    [
      'threads',
      'wall s',
      'training epochs s',
      'training characters/s',
      'peak resident MiB',
      'test bpc',
      'wall speed-up',
      'epochs speed-up',
    ],
    runs.map((r) => [
      String(r.threads),
      fmt(r.wall, 1),
      fmt(r.trainSeconds, 1),
      fmt(trainChars / r.trainSeconds),
      fmt(r.peak / MiB, 0),
      r.testBpc.toFixed(4),
      ratio(one.wall, r.wall),
      ratio(one.trainSeconds, r.trainSeconds),
    ]),
  );
  const same = Buffer.compare(one.file, many.file) === 0;
  note(
    `training characters/s counts ${fmt(trainChars)} characters (${DEFAULT_CONFIG.epochs} ` +
      'epochs of the training split) over the training epochs, which include scoring the ' +
      'validation split after each epoch; the wall time adds start-up, growing the detector ' +
      'layer and its spike run over the training split, the test evaluation, the model file ' +
      'and the sample. Model files of 1 and ' +
      `${threads} threads byte-identical: ${same ? 'yes' : 'NO'}.`,
  );
}

interface JobRun {
  threads: number;
  wall: number;
  trainSeconds: number;
  trainChars: number;
  peak: number;
  testBpc: number;
  file: Buffer;
}

async function trainProcess(threads: number, trainSplit: number): Promise<JobRun> {
  const out = join(tempDir(), `mainjob-${threads}.snnlm`);
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const args = [
    ...process.execArgv,
    cli,
    'train',
    '--corpus',
    'tinyshakespeare',
    '--data-dir',
    DATA_DIR,
    '--threads',
    String(threads),
    '--out',
    out,
    '--quiet',
    '--json',
  ];
  const t0 = performance.now();
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 * MiB });
  const wall = (performance.now() - t0) / 1000;
  const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  const trainChars = report.config.epochs * trainSplit;
  const file = readFileSync(out);
  rmSync(out);
  return {
    threads,
    wall,
    trainSeconds: report.trainSeconds,
    trainChars,
    peak: report.peakResidentBytes,
    testBpc: report.test.bpc,
    file,
  };
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
