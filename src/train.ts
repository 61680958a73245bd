// Fitting the readout. Two ways, both selected on the validation split only:
//
// - softmax: multinomial logistic regression on the reservoir features, Adam
//   with decoupled weight decay, in minibatches drawn from `batchSize` parallel
//   streams (each stream runs through its own contiguous segment of the
//   training text, so one minibatch holds characters from far-apart places);
//   the epoch with the best validation bpc is kept.
// - ridge: least squares onto one-hot targets, W = (XᵀX + λI)⁻¹ XᵀY, with the
//   Gram matrix accumulated by the kernels and solved by ml-matrix; its outputs
//   become probabilities through softmax(β·Wf), β fitted on validation.
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { SnnlmError } from './errors.ts';
import { type Metrics, Score, softmaxRow } from './metrics.ts';
import type { EpochReport, RunOptions, SpikingLM, TrainReport } from './model.ts';
import { pause } from './model.ts';
import { type Call, runParts, split } from './parallel.ts';

const STEPS_PER_CHUNK = 32;

interface Streams {
  states: number[];
  idsAt: number;
  segment: number;
}

function openStreams(model: SpikingLM, ids: Uint16Array, count: number): Streams {
  const segment = Math.floor((ids.length - 1) / count);
  if (segment < 1) {
    throw new SnnlmError(
      `the training text (${ids.length} characters) is too short for ${count} parallel streams`,
      'use a longer text or a smaller batchSize',
    );
  }
  const idsAt = model.buffer('train-ids', ids.byteLength);
  model.heap.u16(idsAt, ids.length).set(ids);
  const states: number[] = [];
  for (let b = 0; b < count; b++) states.push(model.stateFor(`stream${b}`));
  return { states, idsAt, segment };
}

/** Where the training targets are: the training ids, or options.trainTargets put in memory. */
function trainTargets(
  model: SpikingLM,
  streams: Streams,
  ids: Uint16Array,
  options: RunOptions,
): number {
  if (options.trainTargets === undefined) return streams.idsAt;
  const targets = model.vocab.encode(options.trainTargets).ids;
  if (targets.length !== ids.length) {
    throw new SnnlmError(
      `the targets (${targets.length} characters) must be as long as the training text ` +
        `(${ids.length})`,
      'pass a target text of the same length',
    );
  }
  const at = model.buffer('train-targets', targets.byteLength);
  model.heap.u16(at, targets.length).set(targets);
  return at;
}

/** Reservoir calls that advance every stream by `rows` characters from `pos`. */
function streamCalls(
  model: SpikingLM,
  streams: Streams,
  pos: number,
  rows: number,
  featAt: number,
  parts: number,
): Call[][] {
  const { width } = model;
  const batch = streams.states.length;
  return split(batch, parts).map(([b0, b1]) => {
    const calls: Call[] = [];
    for (let b = b0; b < b1; b++) {
      const at = streams.idsAt + (b * streams.segment + pos) * 2;
      calls.push(['runChars', streams.states[b], at, rows, featAt + b * width * 4, batch * width]);
    }
    return calls;
  });
}

/** Calls that standardise `rows` contiguous feature rows at featAt, split in parts. */
function standardizeCalls(model: SpikingLM, featAt: number, rows: number, parts: number): Call[][] {
  const { width } = model;
  const k = model.reservoir.featureSize;
  return split(rows, parts).map(([a, b]) => [
    [
      'standardize',
      featAt + a * width * 4,
      b - a,
      width,
      k,
      model.featureMeanAt,
      model.featureScaleAt,
    ],
  ]);
}

/** Trains the softmax readout with Adam; keeps the epoch best on validation. */
export async function trainSoftmax(
  model: SpikingLM,
  trainIds: Uint16Array,
  validIds: Uint16Array,
  options: RunOptions,
): Promise<TrainReport> {
  const { heap, reservoir, width, config } = model;
  const v = model.vocab.size;
  const batch = config.batchSize;
  const streams = openStreams(model, trainIds, batch);
  const targetsAt = trainTargets(model, streams, trainIds, options);
  const weights = v * width;
  const gradAt = model.buffer('grad', weights * 4);
  const mAt = model.buffer('adam-m', weights * 4);
  const sAt = model.buffer('adam-s', weights * 4);
  const bestAt = model.buffer('best', weights * 4);
  heap.f32(mAt, weights).fill(0);
  heap.f32(sAt, weights).fill(0);
  heap.f32(model.readoutAt, weights).fill(0);
  const featAt = model.featureBuffer('train', STEPS_PER_CHUNK * batch);
  const featTAt = model.buffer('train-xt', width * batch * 4);
  const logitsAt = model.buffer('train-logits', batch * v * 4);
  const gTAt = model.buffer('train-gt', v * batch * 4);
  const nllAt = model.buffer('train-nll', batch * 4);
  const hitAt = model.buffer('train-hit', batch * 4);
  // The detector layer: its spikes over the whole training text, computed once (they do not
  // depend on the readout), and Adagrad state for its readout rows.
  const det = model.detectors;
  const detWeights = model.detectorWeights().length;
  const detSpikes = det?.spikesOf('train', streams.idsAt, trainIds.length, options.pool);
  const detSqAt = model.buffer('det-adagrad', detWeights * 4);
  const detBestAt = model.buffer('det-best', detWeights * 4);
  const detGradAt = model.buffer('det-grad', v * 4);
  const positionsAt = model.buffer('train-positions', batch * 4);
  model.detectorWeights().fill(0);
  heap.f32(detSqAt, detWeights).fill(0);

  const stepsPerEpoch = streams.segment;
  const totalSteps = stepsPerEpoch * config.epochs;
  const started = performance.now();
  const reports: EpochReport[] = [];
  let best = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let step = 0;
  let spikes = 0;
  let updates = 0;

  const pool = options.pool;
  const parts = pool?.threads ?? 1;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const epochStart = performance.now();
    for (const s of streams.states) reservoir.reset(s);
    const score = new Score();
    for (let pos = 0; pos < stepsPerEpoch; pos += STEPS_PER_CHUNK) {
      const rows = Math.min(STEPS_PER_CHUNK, stepsPerEpoch - pos);
      runParts(model.heap.k, pool, streamCalls(model, streams, pos, rows, featAt, parts));
      runParts(model.heap.k, pool, standardizeCalls(model, featAt, rows * batch, parts));
      for (let r = 0; r < rows; r++) {
        const x = featAt + r * batch * width * 4;
        // logits[B][V] = X[B][F] · W[V][F]ᵀ (plus the detector rows of the neurons that
        // fired), then softmax, loss and Gᵀ, split by rows of X.
        const targets = targetsAt + (pos + r + 1) * 2;
        if (detSpikes) {
          const positions = heap.i32(positionsAt, batch);
          for (let b = 0; b < batch; b++) positions[b] = b * streams.segment + pos + r;
        }
        runParts(
          model.heap.k,
          pool,
          split(batch, parts).map(([a, b]) => [
            ...(detSpikes
              ? [
                  [
                    'sparseLogits',
                    b - a,
                    positionsAt + a * 4,
                    detSpikes.offsetsAt,
                    detSpikes.spikesAt,
                    model.detectorWeightsAt,
                    v,
                    logitsAt + a * v * 4,
                    v,
                    0,
                  ] as Call,
                ]
              : []),
            [
              'matmulNT',
              x + a * width * 4,
              model.readoutAt,
              logitsAt + a * v * 4,
              b - a,
              v,
              width,
              detSpikes ? 1 : 0,
            ],
            ['transpose', x + a * width * 4, featTAt + a * 4, b - a, width, batch],
            [
              'softmaxXent',
              logitsAt + a * v * 4,
              b - a,
              v,
              targets + a * streams.segment * 2,
              streams.segment * 2,
              gTAt + a * 4,
              batch,
              1 / batch,
              nllAt + a * 4,
              hitAt + a * 4,
            ],
          ]),
        );
        const nll = heap.f32(nllAt, batch);
        const hit = heap.i32(hitAt, batch);
        for (let b = 0; b < batch; b++) score.addNats(nll[b], hit[b] === 1);
        step++;
        const lr = config.learningRate * (1 - 0.9 * (step / totalSteps));
        const c1 = 1 / (1 - 0.9 ** step);
        const c2 = 1 / (1 - 0.999 ** step);
        // grad[V][F] = Gᵀ[V][B] · Xᵀ[F][B]ᵀ, split by rows of Gᵀ; then Adam on those rows,
        // and Adagrad on the same columns of the detector readout.
        runParts(
          model.heap.k,
          pool,
          split(v, parts).map(([a, b]) => {
            const off = a * width * 4;
            const n = (b - a) * width;
            return [
              ...(detSpikes
                ? [
                    [
                      'sparseAdagrad',
                      batch,
                      positionsAt,
                      detSpikes.offsetsAt,
                      detSpikes.spikesAt,
                      model.detectorWeightsAt,
                      detSqAt,
                      v,
                      gTAt,
                      batch,
                      1 / batch,
                      config.detectorLearningRate,
                      detGradAt,
                      a,
                      b,
                    ] as Call,
                  ]
                : []),
              ['matmulNT', gTAt + a * batch * 4, featTAt, gradAt + off, b - a, width, batch, 0],
              [
                'adamStep',
                n,
                model.readoutAt + off,
                gradAt + off,
                mAt + off,
                sAt + off,
                lr,
                0.9,
                0.999,
                1e-8,
                config.weightDecay,
                c1,
                c2,
              ],
            ];
          }),
        );
      }
      options.onProgress?.({
        phase: 'train',
        epoch,
        epochs: config.epochs,
        done: (pos + rows) * batch,
        total: stepsPerEpoch * batch,
      });
      await pause();
    }
    for (const s of streams.states) {
      const c = reservoir.counts(s);
      spikes += c.spikes;
      updates += c.updates;
    }
    const { metrics } = await model.score(validIds, 'validate', options, epoch, config.epochs);
    reports.push({
      epoch,
      trainBpc: score.metrics().bpc,
      validation: metrics,
      seconds: (performance.now() - epochStart) / 1000,
    });
    if (metrics.bpc < best) {
      best = metrics.bpc;
      bestEpoch = epoch;
      heap.f32(bestAt, weights).set(heap.f32(model.readoutAt, weights));
      heap.f32(detBestAt, detWeights).set(model.detectorWeights());
    }
  }
  if (bestEpoch === 0) {
    throw new SnnlmError(
      `training diverged: the validation bits per character were not finite in any epoch ` +
        `(learning rate ${config.learningRate})`,
      'lower learningRate (the default is 0.00015) or detectorLearningRate',
    );
  }
  heap.f32(model.readoutAt, weights).set(heap.f32(bestAt, weights));
  model.detectorWeights().set(heap.f32(detBestAt, detWeights));
  return {
    epochs: reports,
    bestEpoch,
    validation: reports[bestEpoch - 1].validation,
    firingRate: spikes / Math.max(1, updates),
    trainSeconds: (performance.now() - started) / 1000,
  };
}

/** Fits a ridge readout in one pass, then its softmax temperature on validation. */
export async function fitRidge(
  model: SpikingLM,
  trainIds: Uint16Array,
  validIds: Uint16Array,
  options: RunOptions,
): Promise<TrainReport> {
  const { heap, reservoir, width, config } = model;
  const k = heap.k;
  const v = model.vocab.size;
  const batch = config.batchSize;
  if (options.trainTargets !== undefined) {
    throw new SnnlmError(
      'separate training targets need the softmax readout',
      "set readout 'softmax'",
    );
  }
  const started = performance.now();
  const streams = openStreams(model, trainIds, batch);
  const gramAt = model.buffer('gram', width * width * 4);
  const crossAt = model.buffer('cross', v * width * 4);
  heap.f32(gramAt, width * width).fill(0);
  heap.f32(crossAt, v * width).fill(0);
  const featAt = model.featureBuffer('train', STEPS_PER_CHUNK * batch);
  const featTAt = model.buffer('train-xt', width * batch * 4);
  const yTAt = model.buffer('train-gt', v * batch * 4);
  for (const s of streams.states) reservoir.reset(s);

  for (let pos = 0; pos < streams.segment; pos += STEPS_PER_CHUNK) {
    const rows = Math.min(STEPS_PER_CHUNK, streams.segment - pos);
    for (let b = 0; b < batch; b++) {
      const at = streams.idsAt + (b * streams.segment + pos) * 2;
      reservoir.run(streams.states[b], at, rows, featAt + b * width * 4, batch * width);
    }
    model.standardize(featAt, rows * batch, width);
    for (let r = 0; r < rows; r++) {
      const x = featAt + r * batch * width * 4;
      k.transpose(x, featTAt, batch, width, batch);
      k.matmulNT(featTAt, featTAt, gramAt, width, width, batch, true);
      const yT = heap.f32(yTAt, v * batch).fill(0);
      for (let b = 0; b < batch; b++) {
        yT[trainIds[b * streams.segment + pos + r + 1] * batch + b] = 1;
      }
      k.matmulNT(yTAt, featTAt, crossAt, v, width, batch, true);
    }
    options.onProgress?.({
      phase: 'ridge',
      epoch: 1,
      epochs: 1,
      done: (pos + rows) * batch,
      total: streams.segment * batch,
    });
    await pause();
  }

  // Solve (G + λ·mean(diag G)·I) W = C with a Cholesky factorisation.
  const gram = heap.f32(gramAt, width * width);
  const G = new Matrix(width, width);
  let trace = 0;
  for (let i = 0; i < width; i++) trace += gram[i * width + i];
  const ridge = config.ridgeLambda * (trace / width);
  for (let i = 0; i < width; i++) {
    for (let j = 0; j < width; j++) G.set(i, j, gram[i * width + j] + (i === j ? ridge : 0));
  }
  const cross = heap.f32(crossAt, v * width);
  const C = new Matrix(width, v);
  for (let j = 0; j < v; j++) for (let i = 0; i < width; i++) C.set(i, j, cross[j * width + i]);
  const W = new CholeskyDecomposition(G).solve(C);
  const w = heap.f32(model.readoutAt, v * width);
  for (let j = 0; j < v; j++) for (let i = 0; i < width; i++) w[j * width + i] = W.get(i, j);

  model.beta = await fitTemperature(model, validIds);
  const { metrics } = await model.score(validIds, 'validate', options, 1, 1);
  let spikes = 0;
  let updates = 0;
  for (const s of streams.states) {
    const c = reservoir.counts(s);
    spikes += c.spikes;
    updates += c.updates;
  }
  return {
    epochs: [
      {
        epoch: 1,
        trainBpc: Number.NaN,
        validation: metrics,
        seconds: (performance.now() - started) / 1000,
      },
    ],
    bestEpoch: 1,
    validation: metrics,
    firingRate: spikes / Math.max(1, updates),
    trainSeconds: (performance.now() - started) / 1000,
  };
}

// Golden-section search of β ∈ [0.1, 200] (log scale) for the lowest
// validation bpc of softmax(β · ridge outputs). The outputs are computed once.
async function fitTemperature(model: SpikingLM, validIds: Uint16Array): Promise<number> {
  const v = model.vocab.size;
  const n = validIds.length - 1;
  const logitsAt = model.buffer('valid-logits', n * v * 4);
  const featAt = model.featureBuffer('eval', 256);
  const idsAt = model.buffer('ids', validIds.byteLength);
  model.heap.u16(idsAt, validIds.length).set(validIds);
  const state = model.stateFor('eval');
  model.reservoir.reset(state);
  for (let start = 0; start < n; start += 256) {
    const rows = Math.min(256, n - start);
    model.reservoir.run(state, idsAt + start * 2, rows, featAt, model.width);
    model.standardize(featAt, rows, model.width);
    model.heap.k.matmulNT(
      featAt,
      model.readoutAt,
      logitsAt + start * v * 4,
      rows,
      v,
      model.width,
      false,
    );
  }
  await pause();
  const logits = model.heap.f32(logitsAt, n * v);
  const p = new Float64Array(v);
  const bpcAt = (logBeta: number): number => {
    const score = new Score();
    for (let r = 0; r < n; r++) {
      const arg = softmaxRow(logits, r, v, Math.exp(logBeta), p);
      score.add(Math.max(p[validIds[r + 1]], 1e-300), arg === validIds[r + 1]);
    }
    return score.metrics().bpc;
  };
  let lo = Math.log(0.1);
  let hi = Math.log(200);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = bpcAt(a);
  let fb = bpcAt(b);
  for (let i = 0; i < 25; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = bpcAt(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = bpcAt(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}

export type { Metrics };
