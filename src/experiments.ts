// What the experiment commands (tune, curves, ablation) share: training one model on
// given text with or without worker threads, the small settings of their --quick
// variants, summary statistics, and writing their reports to disk. Node-only (threads).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from './config.ts';
import type { Metrics } from './metrics.ts';
import { type Progress, SpikingLM, type TrainReport } from './model.ts';
import { ThreadPool } from './threads.ts';
import type { Vocabulary } from './vocab.ts';

/** The three splits of a corpus as the experiments see them. */
export interface Splits {
  train: string;
  validation: string;
  test: string;
}

/** How to run one training. */
export interface TrainOptions {
  /** Threads to train on; above 1 the model uses the 'threads' build and a pool. @default 1 */
  threads?: number;
  onProgress?: (p: Progress) => void;
}

/** A trained model and how its training went. */
export interface TrainedModel {
  model: SpikingLM;
  report: TrainReport;
  /** Wall-clock seconds, including building the reservoir and starting threads. */
  seconds: number;
}

/**
 * Builds a model from `config` and fits its readout on `train`, keeping the epoch best on
 * `validation`. Results do not depend on `threads` (src/threads.ts is bit-identical).
 */
export async function trainModel(
  config: Partial<ModelConfig>,
  vocab: Vocabulary,
  train: string,
  validation: string,
  options: TrainOptions = {},
): Promise<TrainedModel> {
  const started = performance.now();
  const threads = options.threads ?? 1;
  const model = await SpikingLM.create(config, vocab, threads > 1 ? 'threads' : 'simd');
  const pool = threads > 1 ? await ThreadPool.start(model.heap.k, threads) : undefined;
  try {
    const report = await model.train(train, validation, { pool, onProgress: options.onProgress });
    return { model, report, seconds: (performance.now() - started) / 1000 };
  } finally {
    await pool?.close();
  }
}

/**
 * What --quick shrinks, so that a whole experiment finishes in seconds: each split is cut
 * to a prefix, and the model is small with a short batch (the default 128 parallel streams
 * would leave each stream a few characters of a 3,000-character text).
 */
export const QUICK = Object.freeze({
  trainChars: 3000,
  validationChars: 1000,
  testChars: 1000,
  config: Object.freeze({ neurons: 20, epochs: 1, batchSize: 16 }) as Partial<ModelConfig>,
});

/** The splits cut to the --quick sizes. */
export function quickSplits(s: Splits): Splits {
  return {
    train: s.train.slice(0, QUICK.trainChars),
    validation: s.validation.slice(0, QUICK.validationChars),
    test: s.test.slice(0, QUICK.testChars),
  };
}

/** Held-out scores as stored in experiment reports. */
export function scores(m: Metrics) {
  return { bpc: m.bpc, perplexity: m.perplexity, accuracy: m.accuracy, chars: m.chars };
}

/** Mean and sample standard deviation (n − 1); the deviation of one value is NaN. */
export function meanSd(xs: number[]): { mean: number; sd: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: Number.NaN };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** A command line as one copyable string; arguments with spaces or quotes are quoted. */
export function commandLine(args: string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);
  return ['snnlm', ...args].map(quote).join(' ');
}

/** Where a report came from, printed at its top. */
export interface ReportMeta {
  /** The command line that made it. */
  command: string;
  corpus: string;
}

/** A Markdown table; numbers are given already formatted. */
export function markdownTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A fixed number of decimals, or '—' for NaN and infinities. */
export function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

/**
 * Writes report files into `dir` (created if missing), each through a temporary file and a
 * rename, so that an interrupted run never leaves a half-written report. Returns the paths.
 */
export async function writeReport(dir: string, files: Record<string, string>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFile(`${path}.tmp`, content);
    await rename(`${path}.tmp`, path);
    paths.push(path);
  }
  return paths;
}
