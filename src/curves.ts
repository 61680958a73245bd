// Learning curves: test bits per character against reservoir size (every model trained on
// the whole training split) and against the number of training characters (a prefix of
// the training split, at the base configuration's neurons). Every other field is the
// base configuration's. Each model keeps the epoch with the best validation bpc and is
// scored once on the test split.

import { lineChartSvg } from './chart.ts';
import { type ModelConfig, resolveConfig } from './config.ts';
import { SnnlmError } from './errors.ts';
import {
  fixed,
  markdownTable,
  type ReportMeta,
  type Splits,
  scores,
  type TrainOptions,
  trainModel,
} from './experiments.ts';
import type { Progress } from './model.ts';
import { Vocabulary } from './vocab.ts';

/** Reservoir sizes of the neuron curve when none are given. */
export const DEFAULT_NEURONS = [250, 500, 1000, 2000];
/** The --quick curves, for the 3,000-character training prefix of QUICK. */
export const QUICK_CURVES = Object.freeze({ neurons: [10, 20, 40], chars: [750, 1500, 3000] });

/** Which quantity a curve varies. */
export type CurveKind = 'neurons' | 'chars';

/** One trained and tested model of a curve. */
export interface CurvePoint {
  curve: CurveKind;
  neurons: number;
  trainChars: number;
  test: { bpc: number; perplexity: number; accuracy: number; chars: number };
  validationBpc: number;
  bestEpoch: number;
  firingRate: number;
  seconds: number;
}

/** Settings of the curves. */
export interface CurvesOptions {
  /** Every field but the varied one. @default the defaults of src/config.ts */
  base?: Partial<ModelConfig>;
  /** Reservoir sizes, trained on the whole training split. @default DEFAULT_NEURONS */
  neurons?: number[];
  /**
   * Training characters, at the base's neurons. @default 100,000 doubled while below the
   * training split's length, then the whole split
   */
  chars?: number[];
  /** Threads each model trains on (results do not depend on it). @default 1 */
  threads?: number;
  /** Called after each model with its point. */
  onPoint?: (point: CurvePoint, index: number, total: number) => void;
  onProgress?: (p: Progress) => void;
}

/** Both curves and what they were measured with. */
export interface CurvesResult {
  config: ModelConfig;
  seed: number;
  trainChars: number;
  testChars: number;
  neurons: CurvePoint[];
  chars: CurvePoint[];
}

/** Trains and tests one model per point of each curve. */
export async function learningCurves(
  splits: Splits,
  options: CurvesOptions = {},
): Promise<CurvesResult> {
  const config = resolveConfig(options.base);
  const total = splits.train.length;
  const neurons = ascending(options.neurons ?? DEFAULT_NEURONS);
  const chars = ascending(options.chars ?? defaultChars(total));
  for (const n of chars) {
    if (n > total) {
      throw new SnnlmError(
        `--chars asks for ${n} training characters, but the training split has ${total}`,
        `give values up to ${total}`,
      );
    }
  }
  for (const n of neurons) resolveConfig({ ...config, neurons: n });

  const vocab = Vocabulary.fromText(splits.train);
  const run: TrainOptions = { threads: options.threads, onProgress: options.onProgress };
  const jobs = [
    ...neurons.map((n) => ({ curve: 'neurons' as const, neurons: n, trainChars: total })),
    ...chars.map((n) => ({ curve: 'chars' as const, neurons: config.neurons, trainChars: n })),
  ];
  const points: CurvePoint[] = [];
  for (const [i, job] of jobs.entries()) {
    const { model, report, seconds } = await trainModel(
      { ...config, neurons: job.neurons },
      vocab,
      splits.train.slice(0, job.trainChars),
      splits.validation,
      run,
    );
    const test = await model.evaluate(splits.test, { onProgress: options.onProgress });
    const point: CurvePoint = {
      ...job,
      test: scores(test),
      validationBpc: report.validation.bpc,
      bestEpoch: report.bestEpoch,
      firingRate: report.firingRate,
      seconds,
    };
    points.push(point);
    options.onPoint?.(point, i + 1, jobs.length);
  }
  return {
    config,
    seed: config.seed,
    trainChars: total,
    testChars: splits.test.length,
    neurons: points.filter((p) => p.curve === 'neurons'),
    chars: points.filter((p) => p.curve === 'chars'),
  };
}

/** 100,000 characters doubled while below `total`, then `total` itself. */
export function defaultChars(total: number): number[] {
  const out: number[] = [];
  for (let n = 100_000; n < total; n *= 2) out.push(n);
  out.push(total);
  return out;
}

function ascending(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

/** The report files: curves.md, curves.json, neurons.svg and chars.svg. */
export async function curvesReport(
  result: CurvesResult,
  meta: ReportMeta,
): Promise<Record<string, string>> {
  const chart = (curve: CurveKind, xTitle: string) =>
    lineChartSvg({
      title: `${meta.corpus}: test bpc against ${xTitle.toLowerCase()}`,
      xTitle,
      yTitle: 'test bits per character',
      points: result[curve].map((p) => ({
        x: curve === 'neurons' ? p.neurons : p.trainChars,
        y: p.test.bpc,
      })),
      xLog: true,
    });
  return {
    'curves.md': curvesMarkdown(result, meta),
    'curves.json': `${JSON.stringify({ ...meta, ...result }, null, 2)}\n`,
    'neurons.svg': await chart('neurons', 'Neurons'),
    'chars.svg': await chart('chars', 'Training characters'),
  };
}

/** The Markdown report: how it was made, then one table and chart per curve. */
export function curvesMarkdown(result: CurvesResult, meta: ReportMeta): string {
  const table = (points: CurvePoint[]) =>
    markdownTable(
      [
        'neurons',
        'training chars',
        'test bpc',
        'perplexity',
        'accuracy',
        'validation bpc',
        'firing rate',
        'seconds',
      ],
      points.map((p) => [
        String(p.neurons),
        String(p.trainChars),
        fixed(p.test.bpc, 4),
        fixed(p.test.perplexity, 3),
        `${fixed(p.test.accuracy * 100, 2)}%`,
        fixed(p.validationBpc, 4),
        `${fixed(p.firingRate * 100, 2)}%`,
        fixed(p.seconds, 1),
      ]),
    );
  return [
    `# Learning curves: ${meta.corpus}`,
    '',
    `Command: \`${meta.command}\``,
    '',
    `Seed: ${result.seed}. Every model keeps the epoch with the best validation bpc and is ` +
      `scored on the test split (${result.testChars} characters).`,
    '',
    `## Test bpc against neurons (${result.trainChars} training characters)`,
    '',
    table(result.neurons),
    '',
    '![test bpc against neurons](neurons.svg)',
    '',
    `## Test bpc against training characters (${result.config.neurons} neurons)`,
    '',
    table(result.chars),
    '',
    '![test bpc against training characters](chars.svg)',
    '',
    '## Configuration',
    '',
    '```json',
    JSON.stringify(result.config, null, 2),
    '```',
    '',
  ].join('\n');
}
