// Hyperparameter search by successive halving over randomly sampled configurations:
//
//   sample N configurations from the search space (seeded, src/rng.ts)
//   rung r = 0, 1, …: train every survivor on the first budget·2^r training characters
//                     for min(r + 1, epochs) epochs, score it on the validation prefix,
//                     keep the better half (rounded up); ⌈log₂ N⌉ rungs in all, so the
//                     last trains two configurations (N = 16: rungs of 16, 8, 4, 2)
//   the best configuration of the last rung wins
//
// Only the training and validation splits are ever read: tune() is not given the test
// split, so a tuned configuration has not seen the text it will be tested on. All trials
// share the reservoir seed, so within a rung configurations differ only in the searched
// fields (common random numbers make the comparison less noisy).
import { readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG, type ModelConfig, resolveConfig } from './config.ts';
import { SnnlmError } from './errors.ts';
import { type TrainOptions, trainModel } from './experiments.ts';
import type { Progress } from './model.ts';
import { Rng, subSeed } from './rng.ts';
import { Vocabulary } from './vocab.ts';

/** A numeric field drawn uniformly between min and max, on a log or linear scale. */
export interface Range {
  min: number;
  max: number;
  /** 'log' for fields whose effect is multiplicative (rates, scales, sizes). */
  scale: 'log' | 'linear';
  /** Round the draw to a whole number. @default false */
  integer?: boolean;
}

/** A field drawn with equal probability from a list (e.g. features or readout). */
export interface Choice {
  values: (string | number)[];
}

/** For each searched field, how it is drawn; fields left out take the base configuration. */
export type SearchSpace = Partial<Record<keyof ModelConfig, Range | Choice>>;

/**
 * The default search space. Ranges are centred, on a log scale, on the defaults of
 * src/config.ts, wide enough to take in the settings that still train at all:
 *
 * | field          | from   | to    | scale  | integer |
 * |----------------|--------|-------|--------|---------|
 * | neurons        | 100    | 2000  | log    | yes     |
 * | connectivity   | 0.005  | 0.1   | log    |         |
 * | recurrentScale | 0.02   | 0.5   | log    |         |
 * | inputScale     | 0.1    | 2     | log    |         |
 * | tauMin         | 1      | 8     | log    |         |
 * | tauMax         | 20     | 2000  | log    |         |
 * | threshold      | 0.5    | 2     | log    |         |
 * | substeps       | 2      | 10    | linear | yes     |
 * | learningRate   | 3e-5   | 0.003 | log    |         |
 * | weightDecay    | 1e-6   | 1e-3  | log    |         |
 * | detectorLearningRate | 0.03 | 0.3 | log  |         |
 *
 * tauMin's range lies below tauMax's, so every draw has tauMin ≤ tauMax; a custom space
 * whose ranges overlap has the two swapped when a draw inverts them. Epochs are not
 * searched: each rung trains min(r + 1, epochs) epochs and the result keeps the base's.
 */
export const DEFAULT_SPACE: Readonly<SearchSpace> = Object.freeze({
  neurons: { min: 100, max: 2000, scale: 'log', integer: true },
  connectivity: { min: 0.005, max: 0.1, scale: 'log' },
  recurrentScale: { min: 0.02, max: 0.5, scale: 'log' },
  inputScale: { min: 0.1, max: 2, scale: 'log' },
  tauMin: { min: 1, max: 8, scale: 'log' },
  tauMax: { min: 20, max: 2000, scale: 'log' },
  threshold: { min: 0.5, max: 2, scale: 'log' },
  substeps: { min: 2, max: 10, scale: 'linear', integer: true },
  learningRate: { min: 3e-5, max: 0.003, scale: 'log' },
  weightDecay: { min: 1e-6, max: 1e-3, scale: 'log' },
  detectorLearningRate: { min: 0.03, max: 0.3, scale: 'log' },
});

/** Settings of a search. */
export interface TuneOptions {
  /** Fields not searched come from here, then from the defaults. @default {} */
  base?: Partial<ModelConfig>;
  /** @default DEFAULT_SPACE */
  space?: SearchSpace;
  /** Configurations sampled at the first rung. @default 16 */
  trials?: number;
  /** Training characters at the first rung; doubled at each rung after. @default 50000 */
  budgetChars?: number;
  /** Validation characters every trial is scored on (a prefix of the split). @default 20000 */
  validChars?: number;
  /** Most rungs to run; fewer when one configuration is left sooner. @default ⌈log₂ N⌉ */
  rungs?: number;
  /** Seed of the sampling and of every trial's reservoir. @default 1 */
  seed?: number;
  /** Threads each trial trains on (results do not depend on it). @default 1 */
  threads?: number;
  /** Called after each trial with its row of the trial table. */
  onTrial?: (trial: Trial) => void;
  /** Called as each trial trains. */
  onProgress?: (p: Progress) => void;
}

/** One row of the trial table: one configuration trained at one rung. */
export interface Trial {
  rung: number;
  /** Which sampled configuration (1-based), the same across rungs. */
  id: number;
  /** Position within the rung (1-based) and the rung's size. */
  index: number;
  of: number;
  budgetChars: number;
  epochs: number;
  /** Searched fields and base settings that differ from DEFAULT_CONFIG (seed left out). */
  diff: Partial<ModelConfig>;
  validationBpc: number;
  seconds: number;
}

/** The outcome of a search. */
export interface TuneResult {
  /** The winning configuration, complete, with the base's epochs and the search seed. */
  config: ModelConfig;
  seed: number;
  best: { id: number; rung: number; validationBpc: number };
  search: {
    trials: number;
    rungs: number;
    budgetChars: number;
    validChars: number;
    trainChars: number;
    space: SearchSpace;
  };
  trials: Trial[];
}

/** Searches for the configuration with the lowest validation bpc by successive halving. */
export async function tune(
  data: { train: string; validation: string },
  options: TuneOptions = {},
): Promise<TuneResult> {
  const seed = options.seed ?? 1;
  const space = options.space ?? DEFAULT_SPACE;
  const n = options.trials ?? 16;
  const budget0 = options.budgetChars ?? 50_000;
  const validChars = options.validChars ?? 20_000;
  checkCount('trials', n, 1);
  checkCount('budget-chars', budget0, 2);
  checkCount('valid-chars', validChars, 2);
  if (options.rungs !== undefined) checkCount('rungs', options.rungs, 1);
  const rungs = Math.min(options.rungs ?? Infinity, n > 1 ? Math.ceil(Math.log2(n)) : 1);
  const base = resolveConfig({ ...options.base, seed });
  checkSpace(space, base);

  // Draw every configuration before training any, so the draws do not depend on results.
  // Through subSeed: a raw small seed makes xoroshiro's first draw ≈ 1 (always the top of
  // the first range). Part 100 keeps clear of the parts src/network.ts uses.
  const rng = new Rng(subSeed(seed, 100));
  const sampled = Array.from({ length: n }, () => sample(space, base, rng));
  const vocab = Vocabulary.fromText(data.train);
  // A detector layer smaller than the vocabulary is refused at training time; say so now.
  for (const config of sampled) {
    if (config.detectors > 0 && config.detectors < vocab.size) {
      throw new SnnlmError(
        `a trial draws detectors ${config.detectors}, below the vocabulary size (${vocab.size})`,
        `keep 'detectors' at 0 or at least ${vocab.size} in the search space`,
      );
    }
  }
  const validation = data.validation.slice(0, validChars);
  const run: TrainOptions = { threads: options.threads, onProgress: options.onProgress };
  const table: Trial[] = [];
  let alive = sampled.map((config, i) => ({ id: i + 1, config, bpc: Number.NaN }));

  for (let rung = 0; rung < rungs; rung++) {
    const budgetChars = Math.min(budget0 * 2 ** rung, data.train.length);
    const epochs = Math.min(rung + 1, base.epochs);
    for (const [i, t] of alive.entries()) {
      const config = { ...t.config, epochs };
      const { report, seconds } = await trainModel(
        config,
        vocab,
        data.train.slice(0, budgetChars),
        validation,
        run,
      );
      t.bpc = report.validation.bpc;
      const trial: Trial = {
        rung: rung + 1,
        id: t.id,
        index: i + 1,
        of: alive.length,
        budgetChars,
        epochs,
        diff: diffFromDefaults(t.config),
        validationBpc: t.bpc,
        seconds,
      };
      table.push(trial);
      options.onTrial?.(trial);
    }
    // A diverged trial (NaN bpc) ranks last; ties keep the sampling order.
    const key = (bpc: number) => (Number.isFinite(bpc) ? bpc : Infinity);
    alive = [...alive].sort((a, b) => key(a.bpc) - key(b.bpc) || a.id - b.id);
    if (rung < rungs - 1) alive = alive.slice(0, Math.ceil(alive.length / 2));
    if (alive.length === 1) break;
  }

  const winner = alive[0];
  const lastRung = table[table.length - 1].rung;
  return {
    config: winner.config,
    seed,
    best: { id: winner.id, rung: lastRung, validationBpc: winner.bpc },
    search: {
      trials: n,
      rungs: lastRung,
      budgetChars: budget0,
      validChars: validation.length,
      trainChars: data.train.length,
      space,
    },
    trials: table,
  };
}

/** Draws one configuration: the base with every searched field replaced by a draw. */
export function sample(space: SearchSpace, base: ModelConfig, rng: Rng): ModelConfig {
  const drawn: Record<string, string | number> = {};
  for (const [field, dim] of Object.entries(space)) {
    if (!dim) continue;
    if ('values' in dim) {
      drawn[field] = dim.values[rng.int(0, dim.values.length - 1)];
      continue;
    }
    // Whole numbers are drawn on [min, max + 1) and floored, so that min and max are as
    // likely as the values between them (rounding would halve their chances).
    const lo = dim.min;
    const hi = dim.integer ? dim.max + 1 : dim.max;
    const u = rng.uniform();
    const x =
      dim.scale === 'log'
        ? Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo)))
        : lo + u * (hi - lo);
    // Three significant digits: finer steps make no measurable difference, and the
    // configuration reads well in the progress lines and the output file.
    drawn[field] = dim.integer ? Math.min(dim.max, Math.floor(x)) : Number(x.toPrecision(3));
  }
  const config = { ...base, ...drawn } as ModelConfig;
  if (config.tauMax < config.tauMin)
    [config.tauMin, config.tauMax] = [config.tauMax, config.tauMin];
  return resolveConfig(config);
}

/** Fields of `config` that differ from DEFAULT_CONFIG, the seed left out. */
export function diffFromDefaults(config: ModelConfig): Partial<ModelConfig> {
  const diff: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(config)) {
    if (field !== 'seed' && DEFAULT_CONFIG[field as keyof ModelConfig] !== value) {
      diff[field] = value;
    }
  }
  return diff as Partial<ModelConfig>;
}

/**
 * Checks a search space as read from a file: known numeric fields with a valid range, or a
 * non-empty list of values, every end of every range a valid value of its field.
 */
export function checkSpace(space: unknown, base: ModelConfig): asserts space is SearchSpace {
  const hint =
    'write the space as { "FIELD": { "min": A, "max": B, "scale": "log" }, ... } or ' +
    '{ "FIELD": { "values": [...] } }';
  if (!space || typeof space !== 'object' || Array.isArray(space)) {
    throw new SnnlmError('the search space must be a JSON object', hint);
  }
  const entries = Object.entries(space as Record<string, unknown>);
  if (entries.length === 0) throw new SnnlmError('the search space has no fields', hint);
  for (const [field, dim] of entries) {
    if (field === 'seed') {
      throw new SnnlmError('the search space cannot search the seed', 'pass --seed instead');
    }
    if (!(field in base)) {
      throw new SnnlmError(
        `unknown configuration field '${field}' in the search space`,
        `known fields: ${Object.keys(base).join(', ')}`,
      );
    }
    const ends = spaceEnds(field, dim, hint);
    for (const value of ends) {
      try {
        resolveConfig({ ...base, tauMin: 1e-9, tauMax: 1e6, [field]: value });
      } catch (err) {
        throw new SnnlmError(
          `search space field '${field}' allows ${JSON.stringify(value)}: ` +
            (err as Error).message,
          `keep '${field}' to values the configuration accepts`,
        );
      }
    }
  }
}

function spaceEnds(field: string, dim: unknown, hint: string): unknown[] {
  const bad = (what: string) => new SnnlmError(`search space field '${field}' ${what}`, hint);
  if (!dim || typeof dim !== 'object') throw bad('must be an object');
  if ('values' in dim) {
    const values = (dim as { values: unknown }).values;
    if (!Array.isArray(values) || values.length === 0) throw bad('needs a non-empty values list');
    return values;
  }
  const { min, max, scale, integer } = dim as Record<string, unknown>;
  if (typeof min !== 'number' || typeof max !== 'number' || !(min <= max)) {
    throw bad('needs numbers min ≤ max');
  }
  if (scale !== 'log' && scale !== 'linear') throw bad("needs scale 'log' or 'linear'");
  if (scale === 'log' && !(min > 0)) throw bad('on a log scale needs min > 0');
  if (integer !== undefined && typeof integer !== 'boolean') throw bad('has a non-boolean integer');
  if (integer && !(Number.isInteger(min) && Number.isInteger(max))) {
    throw bad('is whole-numbered, so needs whole min and max');
  }
  return [min, max];
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new SnnlmError(
      `--${name} must be a whole number ≥ ${min}, got ${value}`,
      `for example --${name} ${Math.max(min, 4)}`,
    );
  }
}

/** Reads a search space from a JSON file (see checkSpace for its shape). */
export async function readSpaceFile(path: string): Promise<SearchSpace> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SnnlmError(
      `cannot read search space file ${path}: ${(err as Error).message}`,
      'check the path given to --space',
    );
  }
  try {
    return JSON.parse(text) as SearchSpace;
  } catch (err) {
    throw new SnnlmError(
      `search space file ${path} is not valid JSON: ${(err as Error).message}`,
      'write it as { "neurons": { "min": 100, "max": 2000, "scale": "log", "integer": true } }',
    );
  }
}
