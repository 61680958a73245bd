// The readout-features ablation: the same configuration trained with the readout seeing
// spike counts only, membrane potentials only, or both (the hybrid), once per seed. A seed
// draws the reservoir, so for one seed the three models share every weight and differ
// only in what the readout reads. Scores are test bpc, perplexity and accuracy, given as
// mean ± sample standard deviation over the seeds.
import { type FeatureKind, type ModelConfig, resolveConfig } from './config.ts';
import { SnnlmError } from './errors.ts';
import {
  fixed,
  markdownTable,
  meanSd,
  type ReportMeta,
  type Splits,
  scores,
  type TrainOptions,
  trainModel,
} from './experiments.ts';
import type { Progress } from './model.ts';
import { Vocabulary } from './vocab.ts';

/** The readouts compared, ablations first. */
export const ABLATION_FEATURES: readonly FeatureKind[] = ['spikes', 'membrane', 'hybrid'];

/** Settings of an ablation. */
export interface AblationOptions {
  /** Every field but features and seed. @default the defaults of src/config.ts */
  base?: Partial<ModelConfig>;
  /** One model per feature kind per seed. @default [1, 2, 3] */
  seeds?: number[];
  /** Threads each model trains on (results do not depend on it). @default 1 */
  threads?: number;
  /** Called after each model. */
  onRun?: (run: AblationRun, index: number, total: number) => void;
  onProgress?: (p: Progress) => void;
}

/** One trained and tested model. */
export interface AblationRun {
  features: FeatureKind;
  seed: number;
  test: { bpc: number; perplexity: number; accuracy: number; chars: number };
  validationBpc: number;
  firingRate: number;
  seconds: number;
}

/** Mean and sample standard deviation over seeds (sd is NaN for one seed). */
export interface Spread {
  mean: number;
  sd: number;
}

/** One row of the summary table. */
export interface AblationSummary {
  features: FeatureKind;
  bpc: Spread;
  perplexity: Spread;
  accuracy: Spread;
  validationBpc: Spread;
}

/** Every run and the summary per feature kind. */
export interface AblationResult {
  /** The configuration every run shares: all fields but features and seed. */
  config: Omit<ModelConfig, 'features' | 'seed'>;
  seeds: number[];
  testChars: number;
  runs: AblationRun[];
  summary: AblationSummary[];
}

/** Trains and tests every feature kind for every seed. */
export async function ablation(
  splits: Splits,
  options: AblationOptions = {},
): Promise<AblationResult> {
  const seeds = options.seeds ?? [1, 2, 3];
  if (seeds.length === 0 || new Set(seeds).size !== seeds.length) {
    throw new SnnlmError('the seeds must be a non-empty list without repeats', '--seeds 1,2,3');
  }
  const config = resolveConfig(options.base);
  for (const seed of seeds) resolveConfig({ ...config, seed });

  const vocab = Vocabulary.fromText(splits.train);
  const run: TrainOptions = { threads: options.threads, onProgress: options.onProgress };
  const total = seeds.length * ABLATION_FEATURES.length;
  const runs: AblationRun[] = [];
  for (const seed of seeds) {
    for (const features of ABLATION_FEATURES) {
      const trained = await trainModel(
        { ...config, seed, features },
        vocab,
        splits.train,
        splits.validation,
        run,
      );
      const test = await trained.model.evaluate(splits.test, { onProgress: options.onProgress });
      const result: AblationRun = {
        features,
        seed,
        test: scores(test),
        validationBpc: trained.report.validation.bpc,
        firingRate: trained.report.firingRate,
        seconds: trained.seconds,
      };
      runs.push(result);
      options.onRun?.(result, runs.length, total);
    }
  }

  const summary = ABLATION_FEATURES.map((features) => {
    const mine = runs.filter((r) => r.features === features);
    return {
      features,
      bpc: meanSd(mine.map((r) => r.test.bpc)),
      perplexity: meanSd(mine.map((r) => r.test.perplexity)),
      accuracy: meanSd(mine.map((r) => r.test.accuracy)),
      validationBpc: meanSd(mine.map((r) => r.validationBpc)),
    };
  });
  const { seed: _seed, features: _features, ...shared } = config;
  return {
    config: shared,
    seeds,
    testChars: splits.test.length,
    runs,
    summary,
  };
}

/** "mean ± sd" with a fixed number of decimals; one seed has no deviation to show. */
export function spread(s: Spread, digits: number, scale = 1): string {
  const sd = Number.isFinite(s.sd) ? ` ± ${(s.sd * scale).toFixed(digits)}` : '';
  return `${fixed(s.mean * scale, digits)}${sd}`;
}

/** The report files: ablation.md and ablation.json. */
export function ablationReport(result: AblationResult, meta: ReportMeta): Record<string, string> {
  return {
    'ablation.md': ablationMarkdown(result, meta),
    'ablation.json': `${JSON.stringify({ ...meta, ...result }, null, 2)}\n`,
  };
}

/** The Markdown report: how it was made, the summary, then every run. */
export function ablationMarkdown(result: AblationResult, meta: ReportMeta): string {
  const summary = markdownTable(
    ['features', 'test bpc', 'perplexity', 'accuracy (%)', 'validation bpc', 'seeds'],
    result.summary.map((s) => [
      s.features,
      spread(s.bpc, 4),
      spread(s.perplexity, 3),
      spread(s.accuracy, 2, 100),
      spread(s.validationBpc, 4),
      String(result.seeds.length),
    ]),
  );
  const runs = markdownTable(
    ['features', 'seed', 'test bpc', 'perplexity', 'accuracy (%)', 'firing rate (%)', 'seconds'],
    result.runs.map((r) => [
      r.features,
      String(r.seed),
      fixed(r.test.bpc, 4),
      fixed(r.test.perplexity, 3),
      fixed(r.test.accuracy * 100, 2),
      fixed(r.firingRate * 100, 2),
      fixed(r.seconds, 1),
    ]),
  );
  return [
    `# Readout features ablation: ${meta.corpus}`,
    '',
    `Command: \`${meta.command}\``,
    '',
    `Seeds: ${result.seeds.join(', ')}. For one seed the three models share the reservoir ` +
      'and differ only in what the readout sees. Scores are on the test split ' +
      `(${result.testChars} characters), as mean ± sample standard deviation (n − 1) over ` +
      'the seeds; perplexity is averaged as it is, not recomputed from the mean bpc.',
    '',
    summary,
    '',
    '## Every run',
    '',
    runs,
    '',
    '## Configuration (besides features and seed)',
    '',
    '```json',
    JSON.stringify(result.config, null, 2),
    '```',
    '',
  ].join('\n');
}
