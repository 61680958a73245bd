// Operation counts and energy estimates (issue #6): what one character costs a saved model,
// component by component (input projection, recurrence, membrane update, readout), in
// arithmetic and in memory reads, priced with published per-operation energies
// (src/energy-profiles.json, every constant with its source; users add profiles in a file of
// the same shape).
//
// Where the counts come from:
// - the kernels' own counters (Reservoir.counts: spikes, synaptic events, membrane updates and
//   characters; for ternary synapses, integer +1 and −1 events). They are always on: each is
//   a plain integer add per substep or per call, so counting needs no switch and costs
//   nothing measurable;
// - exact formulas for the dense parts, with compare.ts's conventions, so that these figures
//   and the comparison table's agree:
//     membrane update, per neuron per substep, v ← leak·v + (drive + rec): one add of the
//       input drive (booked to the input projection), one multiply (leak·v) and one add (the
//       sum) booked to the membrane update, one threshold comparison (counted, not priced);
//     synaptic event: one add (an f32 weight, or for ternary synapses an integer increment
//       of the +1 or the −1 count); a ternary membrane update also subtracts the two counts
//       (one integer add) and scales the difference by γ (one multiply);
//     readout: readoutOps from src/baselines.ts, vocab × features multiply-accumulates plus
//       one multiply and one add per feature to standardise it; softmax left out.
// - "dense" is the same reservoir with every synapse visited at every substep (one multiply
//   and one add per synapse, as compare.ts's "if dense" column).
import {
  type BaselineKind,
  type BaselineSource,
  createBaselineModel,
  readoutOps,
} from './baselines.ts';
import type { DetectorCounts } from './detectors.ts';
import PROFILES from './energy-profiles.json' with { type: 'json' };
import { Reservoir, type ReservoirCounts } from './engine.ts';
import { SnnlmError } from './errors.ts';
import { type Metrics, Score, softmaxRow } from './metrics.ts';
import type { SpikingLM } from './model.ts';
import { ReferenceDetectors, ReferenceReservoir } from './reference.ts';
import { U16_NEURONS } from './ternary.ts';

export const COMPONENTS = ['input', 'recurrence', 'membrane', 'detectors', 'readout'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Priced arithmetic: 32-bit float and integer adds and multiplies, 8-bit multiplies. */
export const ARITHMETIC = ['fpAdd', 'fpMul', 'intAdd', 'intMul', 'int8Mul'] as const;
export type ArithKind = (typeof ARITHMETIC)[number];

/** What memory reads are of; each is counted in bytes. */
export const READS = [
  'inputWeights',
  'synapseIndex',
  'synapseWeights',
  'accumulator',
  'membraneState',
  'neuronParams',
  'readoutWeights',
  'readoutParams',
  'features',
] as const;
export type ReadKind = (typeof READS)[number];

/** Operations of one component, totals over a run (or per character once divided). */
export interface Tally {
  fpAdd: number;
  fpMul: number;
  intAdd: number;
  intMul: number;
  int8Mul: number;
  /** Threshold comparisons, tanh, logistic, rounding, division, square root: not priced. */
  nonlinear: number;
  /** Synaptic events (spikes × fan-out). */
  events: number;
  /** Multiply-accumulates of the readout (also in the adds and multiplies above). */
  macs: number;
  /** Bytes read, by kind. */
  reads: Record<ReadKind, number>;
}

export type Breakdown = Record<Component, Tally>;

/** One model's counts: event-driven or dense arithmetic, per character. */
export interface ModelCounts {
  model: string;
  description: string;
  /** Event-driven (spiking, priced per event on neuromorphic hardware) or dense. */
  style: 'event-driven' | 'dense';
  perChar: Breakdown;
}

/** One energy cost with where it comes from. */
export interface Cost {
  pJ: number;
  source: string;
}

export const COST_KEYS = [
  'fpAdd',
  'fpMul',
  'intAdd',
  'intMul',
  'int8Add',
  'int8Mul',
  'read64',
  'event',
  'snnOp',
  'dnnOp',
] as const;
export type CostKey = (typeof COST_KEYS)[number];

/** A set of energy costs; a missing key leaves that kind of work unpriced. */
export interface Profile {
  id: string;
  title: string;
  costs: Partial<Record<CostKey, Cost>>;
}

/** Energy of one component under one profile, pJ per character. */
export interface Priced {
  arithmetic: number;
  memory: number;
  /** Synaptic events priced whole (neuromorphic profiles). */
  events: number;
  total: number;
  /** Kinds of work that had counts but no price in the profile. */
  unpriced: string[];
}

/** The whole estimate. */
export interface EnergyResult {
  chars: number;
  scored: Metrics;
  config: SpikingLM['config'];
  vocabSize: number;
  neurons: number;
  synapses: number;
  features: number;
  firingRate: number;
  /** Raw counters of the spiking run (totals over `chars`). */
  counters: ReservoirCounts;
  /** Raw counters of the detector layer over the same run; null without one. */
  detectorCounters: DetectorCounts | null;
  /** Totals over the run of the event-driven spiking model (integers). */
  totals: Breakdown;
  models: ModelCounts[];
  /** Per training character per epoch (softmax readout); null for ridge. */
  training: Breakdown | null;
  profiles: Profile[];
  /** profile id → model → component → energy. */
  energy: Record<string, Record<string, Record<Component, Priced>>>;
  prototype: PrototypeRow[] | null;
}

/** The prototype's energy ratio recomputed, beside symmetric counts. */
export interface PrototypeRow {
  comparison: string;
  denseOps: number;
  eventOps: number;
  /** dense ops × dnnOp / (event-driven ops × snnOp): how the prototype priced them. */
  prototypeRatio: number;
  /** Same price per operation for both: the ratio of the operation counts. */
  symmetricOps: number;
  /** Arithmetic priced by kind with the reference CMOS profile, the same for both. */
  symmetricArithmetic: number | null;
  /** Arithmetic and memory reads with the reference CMOS profile. */
  symmetricTotal: number | null;
}

/** The profile the charts and symmetric ratios use. */
export const REFERENCE_PROFILE = 'cmos45-sram';

export function emptyTally(): Tally {
  const reads = Object.fromEntries(READS.map((k) => [k, 0])) as Record<ReadKind, number>;
  return {
    fpAdd: 0,
    fpMul: 0,
    intAdd: 0,
    intMul: 0,
    int8Mul: 0,
    nonlinear: 0,
    events: 0,
    macs: 0,
    reads,
  };
}

function emptyBreakdown(): Breakdown {
  return {
    input: emptyTally(),
    recurrence: emptyTally(),
    membrane: emptyTally(),
    detectors: emptyTally(),
    readout: emptyTally(),
  };
}

/** Adds. */
export function additions(t: Tally): number {
  return t.fpAdd + t.intAdd;
}

/** Multiplies. */
export function multiplications(t: Tally): number {
  return t.fpMul + t.intMul + t.int8Mul;
}

/** Bytes read. */
export function bytesRead(t: Tally): number {
  return READS.reduce((a, k) => a + t.reads[k], 0);
}

/** The sum of every component. */
export function sumTally(b: Breakdown): Tally {
  const out = emptyTally();
  for (const c of COMPONENTS) addInto(out, b[c], 1);
  return out;
}

function addInto(out: Tally, t: Tally, scale: number): void {
  for (const k of [...ARITHMETIC, 'nonlinear', 'events', 'macs'] as const) out[k] += t[k] * scale;
  for (const k of READS) out.reads[k] += t.reads[k] * scale;
}

function scaled(b: Breakdown, s: number): Breakdown {
  const out = emptyBreakdown();
  for (const c of COMPONENTS) addInto(out[c], b[c], s);
  return out;
}

/**
 * Bytes per synapse index the kernels read: u16 for up to 65,536 neurons (float) or 65,536
 * accumulator slots (ternary, two per neuron), else u32.
 */
function indexBytes(model: SpikingLM): number {
  const { net } = model;
  if (net.ternary) return 2 * net.np <= U16_NEURONS ? 2 : 4;
  return net.target instanceof Uint16Array ? 2 : 4;
}

/** The readout's work for `chars` characters, float or quantised (precision 'ternary'). */
function readoutTally(model: SpikingLM, chars: number): Tally {
  const t = emptyTally();
  const k = model.reservoir.featureSize;
  const v = model.vocab.size;
  const out = readoutOps(k, v);
  t.macs = chars * v * k;
  t.reads.readoutParams = chars * 2 * k * 4;
  t.reads.features = chars * k * 4;
  if (!model.ternaryReadout) {
    t.fpMul = chars * out.mul;
    t.fpAdd = chars * out.add;
    t.reads.readoutWeights = chars * v * k * 4;
    return t;
  }
  // Standardise (k × and k +), quantise to int8 (k ×; absmax and rounding are not priced),
  // int8 × ternary dot products accumulated in i32, then γ_j · s · sum + bias_j per output.
  t.fpMul = chars * (2 * k + 2 * v);
  t.fpAdd = chars * (k + v);
  t.int8Mul = chars * v * k;
  t.intAdd = chars * v * k;
  t.nonlinear = chars * 2 * k;
  t.reads.readoutWeights = chars * v * k;
  t.reads.readoutParams += chars * v * 8;
  return t;
}

/**
 * The event-driven spiking model's totals from its counters (see the top of this file).
 * Reads: per membrane update the drive, v, leak, θ and rec (4 bytes each); per synaptic event
 * the target index, the weight (float synapses) and the accumulator; per spike the row
 * bounds (two u32, or three for the ternary +1/−1 lists).
 */
export function spikingTotals(model: SpikingLM, c: ReservoirCounts, d?: DetectorCounts): Breakdown {
  const b = emptyBreakdown();
  const u = c.updates;
  const ternary = model.net.ternary !== undefined;
  const idx = indexBytes(model);

  b.input.fpAdd = u;
  b.input.reads.inputWeights = u * 4;

  b.recurrence.events = c.events;
  if (ternary) b.recurrence.intAdd = (c.adds ?? 0) + (c.subs ?? 0);
  else b.recurrence.fpAdd = c.floatAdds ?? c.events;
  b.recurrence.reads.synapseIndex = c.events * idx + c.spikes * (ternary ? 12 : 8);
  b.recurrence.reads.synapseWeights = ternary ? 0 : c.events * 4;
  b.recurrence.reads.accumulator = c.events * 4;

  // Ternary: rec holds integer counts of +1 and of −1 events; each update subtracts them
  // (one integer add) and scales the difference by γ (one more multiply).
  b.membrane.fpMul = ternary ? 2 * u : u;
  b.membrane.fpAdd = u;
  if (ternary) b.membrane.intAdd = u;
  b.membrane.nonlinear = u;
  b.membrane.reads.membraneState = u * 4;
  b.membrane.reads.neuronParams = u * 8;
  b.membrane.reads.accumulator = u * (ternary ? 8 : 4);

  b.readout = readoutTally(model, c.chars);
  if (d) detectorTally(model, d, b);
  return b;
}

/** The detector layer's work alone (component 'detectors', and its readout additions). */
export function detectorTotals(model: SpikingLM, d: DetectorCounts): Breakdown {
  const b = emptyBreakdown();
  detectorTally(model, d, b);
  return b;
}

/**
 * The detector layer's work (src/detectors.ts) from its kernel counters: each synaptic event
 * (input or recurrent) one f32 add; each membrane update one multiply (the decay since the
 * neuron's last update) and one threshold comparison; reads of the input weight, the target
 * index and weight of each recurrent synapse, the row bounds of each spike, v and the step of
 * the last update, and the decay factor. Its readout adds the weight row of each spike:
 * vocab f32 additions and no multiplication.
 */
function detectorTally(model: SpikingLM, d: DetectorCounts, b: Breakdown): void {
  const t = b.detectors;
  const events = d.inputEvents + d.recurrentEvents;
  t.events = events;
  t.fpAdd = events;
  t.fpMul = d.updates;
  t.nonlinear = d.updates;
  t.reads.inputWeights = d.inputEvents * 4;
  t.reads.synapseIndex = d.recurrentEvents * 4 + d.spikes * 8;
  t.reads.synapseWeights = d.recurrentEvents * 4;
  t.reads.membraneState = d.updates * 8;
  t.reads.neuronParams = d.updates * 4;
  const v = model.vocab.size;
  b.readout.fpAdd += d.spikes * v;
  b.readout.reads.readoutWeights += d.spikes * v * 4;
}

/**
 * The detector layer run densely: every neuron decays and takes its input-row entry at every
 * step (one multiply, one add), every recurrent synapse is visited (one multiply, one add),
 * and the readout is a dense product over all its neurons (vocab multiply-accumulates each).
 */
function denseDetectorTally(model: SpikingLM, chars: number, b: Breakdown): void {
  const det = model.detectors;
  if (!det) return;
  const n = det.net.n;
  const synapses = det.net.parent.reduce((a, p) => a + (p >= 0 ? 1 : 0), 0);
  const v = model.vocab.size;
  const t = emptyTally();
  t.fpMul = chars * (n + synapses);
  t.fpAdd = chars * (n + synapses);
  t.nonlinear = chars * n;
  t.reads.inputWeights = chars * n * 4;
  t.reads.synapseIndex = chars * (synapses * 4 + n * 8);
  t.reads.synapseWeights = chars * synapses * 4;
  t.reads.membraneState = chars * n * 4;
  b.detectors = t;
  const r = b.readout;
  r.fpMul += chars * n * v;
  r.fpAdd += chars * n * v;
  r.macs += chars * n * v;
  r.reads.readoutWeights += chars * n * v * 4;
}

/**
 * The same reservoir with every synapse visited at every substep: one multiply and one add
 * per synapse (in the synapses' number format) instead of one add per event, reading every
 * synapse's index, weight and accumulator; the row bounds of every neuron are read too.
 */
export function denseTotals(model: SpikingLM, c: ReservoirCounts): Breakdown {
  const b = spikingTotals(model, c);
  denseDetectorTally(model, c.chars, b);
  const ternary = model.net.ternary !== undefined;
  const visits = model.net.target.length * model.config.substeps * c.chars;
  const r = emptyTally();
  if (ternary) {
    r.intMul = visits;
    r.intAdd = visits;
  } else {
    r.fpMul = visits;
    r.fpAdd = visits;
  }
  r.reads.synapseIndex = visits * indexBytes(model) + c.updates * 8;
  r.reads.synapseWeights = ternary ? 0 : visits * 4;
  r.reads.accumulator = visits * 4;
  b.recurrence = r;
  return b;
}

/**
 * A baseline's totals from its kernel counters (compare.ts's conventions for arithmetic).
 * Reads per character: every synapse's u32 index, its weight(s) and accumulator(s) (four
 * gates for the LSTM), every unit's row bounds, state and input row.
 */
export function baselineTotals(source: BaselineSource, desc: number, vocab: number): Breakdown {
  const c = source.ops(desc);
  const w = source.weights;
  const gates = w.kind === 'lstm' ? 4 : 1;
  const nnz = w.target.length;
  const b = emptyBreakdown();
  b.input.fpMul = c.inputMul;
  b.input.fpAdd = c.inputAdd;
  b.input.reads.inputWeights = c.chars * w.np * gates * 4;
  b.recurrence.fpMul = c.recurrentMul;
  b.recurrence.fpAdd = c.recurrentAdd;
  b.recurrence.nonlinear = c.nonlinear;
  b.recurrence.reads.synapseIndex = c.chars * (nnz * 4 + w.np * 8);
  b.recurrence.reads.synapseWeights = c.chars * nnz * gates * 4;
  b.recurrence.reads.accumulator = c.chars * nnz * gates * 4;
  b.recurrence.reads.membraneState = c.chars * w.np * (w.kind === 'lstm' ? 8 : 4);
  const k = source.featureSize;
  const out = readoutOps(k, vocab);
  b.readout.fpMul = c.chars * out.mul;
  b.readout.fpAdd = c.chars * out.add;
  b.readout.macs = c.chars * vocab * k;
  b.readout.reads.readoutWeights = c.chars * vocab * k * 4;
  b.readout.reads.readoutParams = c.chars * 2 * k * 4;
  b.readout.reads.features = c.chars * k * 4;
  return b;
}

/**
 * Readout training per training character per epoch (softmax readout with Adam), on top of
 * the reservoir's inference work: the forward pass (readoutOps), the gradient (one
 * multiply-accumulate per weight and one add per bias), and Adam once per minibatch over the
 * vocab × (features + 1) trainable parameters: 9 multiplies, 5 adds, a division and a square
 * root each, reading weight, gradient and both moments. With a detector layer, each detector
 * spike also adds its row to the logits (vocab adds) and takes an Adagrad step on it: per
 * weight 3 multiplies (g², lr·g, and the division's), 2 adds, a square root and a division,
 * reading and writing the weight and its accumulator.
 */
export function trainingPerChar(
  model: SpikingLM,
  inference: Breakdown,
  detectorSpikesPerChar = 0,
): Breakdown | null {
  if (model.config.readout !== 'softmax') return null;
  const b = scaled(inference, 1);
  const k = model.reservoir.featureSize;
  const v = model.vocab.size;
  const params = v * (k + 1);
  const perStep = 1 / model.config.batchSize;
  const out = readoutOps(k, v);
  const r = emptyTally();
  r.fpMul = out.mul + v * k + 9 * params * perStep;
  r.fpAdd = out.add + v * (k + 1) + 5 * params * perStep;
  r.nonlinear = 2 * params * perStep;
  r.macs = 2 * v * k;
  r.reads.readoutWeights = v * k * 4 + params * 16 * perStep;
  r.reads.readoutParams = 2 * k * 4;
  r.reads.features = 2 * k * 4;
  const spikeWeights = detectorSpikesPerChar * v;
  r.fpAdd += 3 * spikeWeights;
  r.fpMul += 3 * spikeWeights;
  r.nonlinear += 2 * spikeWeights;
  r.reads.readoutWeights += spikeWeights * 4 * 3;
  b.readout = r;
  return b;
}

/** Runs ids through a model from rest, standardising, computing logits and scoring. */
async function measure(model: SpikingLM, ids: Uint16Array) {
  const { heap, reservoir, width } = model;
  const v = model.vocab.size;
  const chunk = 256;
  const state = model.stateFor('energy');
  reservoir.reset(state);
  const idsAt = model.buffer('energy-ids', ids.byteLength);
  heap.u16(idsAt, ids.length).set(ids);
  const featAt = model.featureBuffer('energy', chunk);
  const logitsAt = model.buffer('energy-logits', chunk * v * 4);
  const positionsAt = model.buffer('energy-positions', chunk * 4);
  const det = model.detectors?.spikesOf('energy', idsAt, ids.length);
  const score = new Score();
  const p = new Float64Array(v);
  for (let pos = 0; pos < ids.length; pos += chunk) {
    const rows = Math.min(chunk, ids.length - pos);
    reservoir.run(state, idsAt + pos * 2, rows, featAt, width);
    model.standardize(featAt, rows, width);
    model.logits(featAt, logitsAt, rows);
    if (det) {
      const positions = heap.i32(positionsAt, rows);
      for (let r = 0; r < rows; r++) positions[r] = pos + r;
      model.detectorLogits(det, positionsAt, rows, logitsAt);
    }
    const logits = heap.f32(logitsAt, rows * v);
    for (let r = 0; r < rows && pos + r + 1 < ids.length; r++) {
      const next = ids[pos + r + 1];
      const arg = softmaxRow(logits, r, v, model.beta, p);
      score.add(p[next], arg === next);
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return {
    counts: reservoir.counts(state),
    detectorCounts: model.detectors?.countsOf('energy'),
    scored: score.metrics(),
  };
}

/** The built-in profiles, then those of `extra` (same shape), replacing by id. */
export function loadProfiles(extra?: unknown): Profile[] {
  const base = checkProfiles(PROFILES, 'src/energy-profiles.json');
  if (extra === undefined) return base;
  const added = checkProfiles(extra, '--profiles');
  const byId = new Map(base.map((p) => [p.id, p]));
  for (const p of added) byId.set(p.id, p);
  return [...byId.values()];
}

function checkProfiles(data: unknown, where: string): Profile[] {
  const hint =
    'give { "profiles": [ { "id", "title", "costs": { "fpAdd": { "pJ", "source" } } } ] }';
  const list = (data as { profiles?: unknown })?.profiles;
  if (!Array.isArray(list)) throw new SnnlmError(`${where}: no "profiles" list`, hint);
  return list.map((raw, i) => {
    const p = raw as Partial<Profile>;
    if (typeof p?.id !== 'string' || p.id === '' || typeof p.costs !== 'object' || !p.costs) {
      throw new SnnlmError(`${where}: profile ${i + 1} needs an "id" and "costs"`, hint);
    }
    for (const [key, cost] of Object.entries(p.costs)) {
      if (!(COST_KEYS as readonly string[]).includes(key)) {
        throw new SnnlmError(
          `${where}: profile '${p.id}' has an unknown cost '${key}'`,
          `cost keys: ${COST_KEYS.join(', ')}`,
        );
      }
      const c = cost as Partial<Cost>;
      if (typeof c?.pJ !== 'number' || !(c.pJ >= 0) || !Number.isFinite(c.pJ)) {
        throw new SnnlmError(`${where}: '${p.id}'.${key} needs "pJ", a number ≥ 0`, hint);
      }
      if (typeof c.source !== 'string' || c.source.trim() === '') {
        throw new SnnlmError(
          `${where}: '${p.id}'.${key} has no "source"`,
          'every constant must say where it comes from',
        );
      }
    }
    return { id: p.id, title: typeof p.title === 'string' ? p.title : p.id, costs: p.costs };
  });
}

/** Profiles with flat per-operation prices (the prototype's) only enter the ratio table. */
function isFlat(p: Profile): boolean {
  return p.costs.snnOp !== undefined || p.costs.dnnOp !== undefined;
}

/**
 * Energy of one component per character. Under a profile with an `event` price, the
 * recurrence of an event-driven model is priced per synaptic event, which stands for its
 * arithmetic and memory together; everything else is priced by kind where the profile has
 * a price, and listed as unpriced where it has none.
 */
export function price(t: Tally, p: Profile, component: Component, style: string): Priced {
  const out: Priced = { arithmetic: 0, memory: 0, events: 0, total: 0, unpriced: [] };
  const event = p.costs.event?.pJ;
  const synaptic = component === 'recurrence' || component === 'detectors';
  if (synaptic && style === 'event-driven' && event !== undefined) {
    out.events = t.events * event;
    out.total = out.events;
    return out;
  }
  for (const k of ARITHMETIC) {
    if (t[k] === 0) continue;
    const cost = p.costs[k]?.pJ;
    if (cost === undefined) out.unpriced.push(k);
    else out.arithmetic += t[k] * cost;
  }
  const bytes = bytesRead(t);
  const read64 = p.costs.read64?.pJ;
  if (bytes > 0 && read64 === undefined) out.unpriced.push('memory reads');
  else out.memory = (bytes / 8) * (read64 ?? 0);
  out.total = out.arithmetic + out.memory;
  return out;
}

/** Adds and multiplies of a breakdown, all components or the reservoir's only. */
function ops(b: Breakdown, reservoirOnly = false): number {
  const parts = reservoirOnly ? COMPONENTS.filter((c) => c !== 'readout') : COMPONENTS;
  return parts.reduce((a, c) => a + additions(b[c]) + multiplications(b[c]), 0);
}

function priceSum(b: Breakdown, p: Profile | undefined, reservoirOnly: boolean, memory: boolean) {
  if (!p) return null;
  const parts = reservoirOnly ? COMPONENTS.filter((c) => c !== 'readout') : COMPONENTS;
  let e = 0;
  for (const c of parts) {
    const x = price(b[c], p, c, 'dense');
    if (x.unpriced.length > 0) return null;
    e += memory ? x.total : x.arithmetic;
  }
  return e;
}

/**
 * The prototype's "dense ops × 5.0 pJ against event-driven ops × 0.5 pJ", recomputed for this
 * model, beside symmetric counts that price the same kinds of operation the same for both.
 */
function prototypeRows(models: ModelCounts[], profiles: Profile[]): PrototypeRow[] | null {
  const flat = profiles.find((p) => p.costs.snnOp && p.costs.dnnOp);
  if (!flat?.costs.snnOp || !flat.costs.dnnOp) return null;
  const snn = flat.costs.snnOp.pJ;
  const dnn = flat.costs.dnnOp.pJ;
  const ref = profiles.find((p) => p.id === REFERENCE_PROFILE);
  const spiking = models[0].perChar;
  const rows: PrototypeRow[] = [];
  const add = (comparison: string, dense: Breakdown, reservoirOnly: boolean) => {
    const d = ops(dense, reservoirOnly);
    const e = ops(spiking, reservoirOnly);
    const ratio = (x: number | null, y: number | null) => (x === null || y === null ? null : x / y);
    rows.push({
      comparison,
      denseOps: d,
      eventOps: e,
      prototypeRatio: (d * dnn) / (e * snn),
      symmetricOps: d / e,
      symmetricArithmetic: ratio(
        priceSum(dense, ref, reservoirOnly, false),
        priceSum(spiking, ref, reservoirOnly, false),
      ),
      symmetricTotal: ratio(
        priceSum(dense, ref, reservoirOnly, true),
        priceSum(spiking, ref, reservoirOnly, true),
      ),
    });
  };
  for (const m of models.slice(1)) {
    add(`${m.model} vs spiking (reservoir: input, recurrence, membrane)`, m.perChar, true);
    add(`${m.model} vs spiking (whole model, readout included)`, m.perChar, false);
  }
  return rows;
}

/** Settings of an estimate. */
export interface EnergyOptions {
  /** Held-out characters to run. @default 10000 */
  chars?: number;
  /** Profiles to price with. @default loadProfiles() */
  profiles?: Profile[];
  /** Also count the ESN and random LSTM of the same size. @default false */
  baselines?: boolean;
}

/** Runs the model on the first `chars` characters of `text` and prices what it did. */
export async function estimateEnergy(
  model: SpikingLM,
  text: string,
  options: EnergyOptions = {},
): Promise<EnergyResult> {
  if (!(model.reservoir instanceof Reservoir)) {
    throw new SnnlmError('energy estimates need a spiking model', 'pass a model saved by train');
  }
  const want = options.chars ?? 10_000;
  const ids = model.vocab.encode(Array.from(text).slice(0, want).join('')).ids;
  if (ids.length < 2) {
    throw new SnnlmError('the held-out text is too short to measure', 'use a longer corpus');
  }
  const profiles = options.profiles ?? loadProfiles();
  const { counts, detectorCounts, scored } = await measure(model, ids);
  const n = counts.chars;
  const totals = spikingTotals(model, counts, detectorCounts);
  const perChar = (b: Breakdown) => scaled(b, 1 / n);
  const models: ModelCounts[] = [
    {
      model: 'spiking',
      description: 'this model, event-driven: only the synapses of neurons that fired',
      style: 'event-driven',
      perChar: perChar(totals),
    },
    {
      model: 'spiking, dense',
      description:
        'the same reservoir visiting every synapse at every substep (and the detector layer ' +
        'updating every neuron at every character, read by a dense readout)',
      style: 'dense',
      perChar: perChar(denseTotals(model, counts)),
    },
  ];
  if (options.baselines) {
    const kinds: [BaselineKind, string, string][] = [
      ['esn', 'ESN', 'echo state network, x ← tanh(W_in[c] + W x), same synapses'],
      ['lstm', 'random LSTM', 'random LSTM cell on the same synapse pattern, features [h, c]'],
    ];
    for (const [kind, name, description] of kinds) {
      models.push({
        model: name,
        description,
        style: 'dense',
        perChar: perChar(await runBaseline(kind, model, ids)),
      });
    }
  }
  const energy: EnergyResult['energy'] = {};
  for (const p of profiles.filter((x) => !isFlat(x))) {
    energy[p.id] = {};
    for (const m of models) {
      energy[p.id][m.model] = Object.fromEntries(
        COMPONENTS.map((c) => [c, price(m.perChar[c], p, c, m.style)]),
      ) as Record<Component, Priced>;
    }
  }
  return {
    chars: n,
    scored,
    config: model.config,
    vocabSize: model.vocab.size,
    neurons: model.net.n,
    synapses: model.net.target.length,
    features: model.reservoir.featureSize,
    firingRate: counts.spikes / Math.max(1, counts.updates),
    counters: counts,
    detectorCounters: detectorCounts ?? null,
    totals,
    models,
    training: trainingPerChar(
      model,
      models[0].perChar,
      detectorCounts ? detectorCounts.spikes / Math.max(1, detectorCounts.chars) : 0,
    ),
    profiles,
    energy,
    prototype: prototypeRows(models, profiles),
  };
}

// The baselines are not trained here: their operation counts do not depend on their weights.
async function runBaseline(kind: BaselineKind, model: SpikingLM, ids: Uint16Array) {
  const { model: lm, source } = await createBaselineModel(kind, model.config, model.vocab);
  const state = source.newState();
  const idsAt = lm.buffer('energy-ids', ids.byteLength);
  lm.heap.u16(idsAt, ids.length).set(ids);
  source.reset(state);
  source.run(state, idsAt, ids.length);
  return baselineTotals(source, state, model.vocab.size);
}

/** One counter as the kernels' report has it and as the TypeScript reference counts it. */
export interface CountCheck {
  counter: string;
  report: number;
  reference: number;
}

/**
 * Counts the same characters with the plain TypeScript reservoir and detector layer
 * (src/reference.ts), which share no code with the kernels, and sets their events,
 * additions and multiplications beside the report's. The LIF step costs, per neuron per substep,
 * one multiply (leak · v) and two additions (drive + rec, then the sum); each
 * synaptic event one addition. Float synapses only.
 */
export function checkAgainstReference(
  model: SpikingLM,
  text: string,
  chars: number,
  totals: Breakdown,
): CountCheck[] {
  const ids = model.vocab.encode(Array.from(text).slice(0, chars).join('')).ids;
  const ref = new ReferenceReservoir(model.net, model.config.substeps);
  for (const id of ids) ref.char(id, model.config.features);
  const reservoir = [totals.input, totals.recurrence, totals.membrane];
  const sum = (f: (t: Tally) => number) => reservoir.reduce((a, t) => a + f(t), 0);
  const detectorChecks: CountCheck[] = [];
  if (model.detectors) {
    // Each event one addition, each membrane update one multiply; spikes × vocab readout adds.
    const d = new ReferenceDetectors(model.detectors.net);
    for (const id of ids) d.step(id);
    const t = totals.detectors;
    const v = model.vocab.size;
    detectorChecks.push(
      {
        counter: 'detector synaptic events',
        report: t.events,
        reference: d.inputEvents + d.recurrentEvents,
      },
      {
        counter: 'detector additions',
        report: additions(t),
        reference: d.inputEvents + d.recurrentEvents,
      },
      { counter: 'detector multiplications', report: multiplications(t), reference: d.updates },
      {
        counter: 'readout additions of detector spikes',
        report: additions(totals.readout) - additions(readoutTally(model, ids.length)),
        reference: d.spikes * v,
      },
    );
  }
  return [
    { counter: 'synaptic events', report: totals.recurrence.events, reference: ref.events },
    {
      counter: 'reservoir additions',
      report: sum(additions),
      reference: 2 * ref.updates + ref.events,
    },
    { counter: 'reservoir multiplications', report: sum(multiplications), reference: ref.updates },
    ...detectorChecks,
  ];
}
