// The `snnlm` command. The only module that prints. Subcommands:
//   train     fit a model on a corpus, report validation and test scores, save it
//   eval      score a saved model on a corpus split
//   generate  continue a prompt with a saved model
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { CONFIG_FIELDS, type ModelConfig, resolveConfig } from './config.ts';
import { readConfigFile } from './config-file.ts';
import { type Corpus, corpusNames, loadCorpus } from './corpus.ts';
import { SnnlmError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import type { Progress } from './model.ts';
import { SpikingLM } from './model.ts';
import { loadModelFile, saveModelFile } from './modelfile-node.ts';
import { modelFromFile, modelToFile } from './persist.ts';
import { defaultThreads, ThreadPool } from './threads.ts';
import { Vocabulary } from './vocab.ts';

const HELP: Record<string, string> = {
  main: `snnlm: a spiking-neural-network character language model

Usage: snnlm <command> [options]

Commands:
  train      train on a corpus, report held-out scores, save the model
  eval       score a saved model on a corpus split
  generate   continue a prompt with a saved model

Run 'snnlm <command> --help' for a command's options.`,
  train: `Usage: snnlm train [options]

Trains the readout of a spiking reservoir on a corpus's training split, picks
the epoch with the best validation bits per character, scores the test split,
prints a sample and saves the model.

Options:
  --corpus NAME|PATH   ${corpusNames().join(' or ')}, or a UTF-8 text file
                       (default: tinyshakespeare)
  --data-dir DIR       folder holding named corpora (default: $SNNLM_DATA_DIR)
  --config FILE        JSON configuration; fields not given take defaults
  --set FIELD=VALUE    override one configuration field (repeatable)
  --seed N             shorthand for --set seed=N
  --out FILE           where to save the model (default: runs/CORPUS.snnlm)
  --threads N          threads for training; results do not depend on it
                       (default: all cores)
  --json               end by printing one JSON object with every figure
  --quiet              no progress bar
  -h, --help           this text

Configuration fields: ${CONFIG_FIELDS.join(', ')}`,
  eval: `Usage: snnlm eval --model FILE [options]

Scores a saved model: bits per character, perplexity and top-1 accuracy.

Options:
  --model FILE         a model saved by snnlm train (required)
  --corpus NAME|PATH   corpus to score (default: the one it was trained on)
  --split NAME         test or validation (default: test)
  --data-dir DIR       folder holding named corpora (default: $SNNLM_DATA_DIR)
  --json               print one JSON object
  --quiet              no progress bar
  -h, --help           this text`,
  generate: `Usage: snnlm generate --model FILE [options]

Continues a prompt by sampling one character at a time.

Options:
  --model FILE         a model saved by snnlm train (required)
  --prompt TEXT        text to continue (default: a newline)
  --length N           characters to generate (default: 200)
  --temperature T      softmax temperature, > 0 (default: 1)
  --seed N             sampler seed (default: the model's seed)
  -h, --help           this text`,
};

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'data-dir': { type: 'string' },
  corpus: { type: 'string' },
} as const;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP.main);
    return;
  }
  if (command === 'train') return train(rest);
  if (command === 'eval') return evaluate(rest);
  if (command === 'generate') return generate(rest);
  throw new SnnlmError(`unknown command '${command}'`, 'run snnlm --help for the commands');
}

function parse<T>(command: string, read: () => { values: T }): T {
  try {
    return read().values;
  } catch (err) {
    throw new SnnlmError((err as Error).message, `run snnlm ${command} --help for the options`);
  }
}

async function train(args: string[]): Promise<void> {
  const opts = parse('train', () =>
    parseArgs({
      args,
      strict: true,
      options: {
        ...COMMON,
        config: { type: 'string' },
        set: { type: 'string', multiple: true },
        seed: { type: 'string' },
        out: { type: 'string' },
        threads: { type: 'string' },
      },
    }),
  );
  if (opts.help) return void console.log(HELP.train);
  const log = opts.json ? console.error : console.log;

  const partial: Partial<ModelConfig> = opts.config ? await readConfigFile(opts.config) : {};
  for (const item of opts.set ?? []) Object.assign(partial, parseSetting(item));
  if (opts.seed !== undefined) Object.assign(partial, parseSetting(`seed=${opts.seed}`));
  const config = resolveConfig(partial);

  const corpusSpec = opts.corpus ?? 'tinyshakespeare';
  const corpus = await loadCorpus(corpusSpec, { dataDir: opts['data-dir'] });
  const out = resolve(opts.out ?? `runs/${corpus.name}.snnlm`);
  log(`corpus  ${corpus.name}: ${corpus.source}`);
  log(
    `splits  train ${corpus.train.length}, validation ${corpus.validation.length}, ` +
      `test ${corpus.test.length} characters. ${corpus.splitNote}`,
  );
  for (const note of corpus.notes) log(`note    ${note}`);
  log(`seed    ${config.seed}`);
  log(`config  ${JSON.stringify(config)}`);

  const threads = opts.threads === undefined ? defaultThreads() : threadsFlag(opts.threads);
  log(`threads ${threads}`);
  const vocab = Vocabulary.fromText(corpus.train);
  const model = await SpikingLM.create(config, vocab, threads > 1 ? 'threads' : 'simd');
  const pool = threads > 1 ? await ThreadPool.start(model.heap.k, threads) : undefined;
  const bar = progressBar(!opts.quiet);
  const report = await model.train(corpus.train, corpus.validation, {
    onProgress: bar.update,
    pool,
  });
  await pool?.close();
  for (const e of report.epochs) {
    log(
      `epoch ${e.epoch}  train ${fmt(e.trainBpc)} bpc  validation ${fmt(e.validation.bpc)} bpc` +
        `  ${e.seconds.toFixed(1)} s`,
    );
  }
  const test = await model.evaluate(corpus.test, { onProgress: bar.update });
  bar.stop();

  await mkdir(dirname(out), { recursive: true });
  const { header, sections } = modelToFile(model, { corpus: corpusSpec, corpusName: corpus.name });
  await saveModelFile(out, header, sections);
  const sample = model.generate('\n', { length: 200 });

  log(`kept epoch ${report.bestEpoch} (best validation bpc)`);
  log(`validation  ${line(report.validation)}`);
  log(`test        ${line(test)}${test.unknown ? `, ${test.unknown} unknown characters` : ''}`);
  log(`firing rate ${(report.firingRate * 100).toFixed(2)}% of neurons per substep`);
  log(`trained in  ${report.trainSeconds.toFixed(1)} s`);
  log(`saved       ${out}`);
  log(`sample (seed ${config.seed}, temperature 1):\n${sample}`);
  if (opts.json) {
    console.log(
      JSON.stringify({
        corpus: corpus.name,
        seed: config.seed,
        config,
        validation: pick(report.validation),
        test: pick(test),
        unknownInTest: test.unknown,
        notes: corpus.notes,
        epochs: report.epochs,
        bestEpoch: report.bestEpoch,
        firingRate: report.firingRate,
        trainSeconds: report.trainSeconds,
        model: out,
        sample,
      }),
    );
  }
}

async function evaluate(args: string[]): Promise<void> {
  const opts = parse('eval', () =>
    parseArgs({
      args,
      strict: true,
      options: {
        ...COMMON,
        model: { type: 'string' },
        split: { type: 'string' },
      },
    }),
  );
  if (opts.help) return void console.log(HELP.eval);
  const model = await loadModel(opts.model, 'eval');
  const split = opts.split ?? 'test';
  if (split !== 'test' && split !== 'validation') {
    throw new SnnlmError(`unknown split '${split}'`, 'use --split test or --split validation');
  }
  const spec = opts.corpus ?? String(model.trainedOn ?? 'tinyshakespeare');
  const corpus: Corpus = await loadCorpus(spec, { dataDir: opts['data-dir'] });
  const bar = progressBar(!opts.quiet && !opts.json);
  const result = await model.lm.evaluate(corpus[split], { onProgress: bar.update });
  bar.stop();
  if (opts.json) {
    console.log(JSON.stringify({ corpus: corpus.name, [split]: pick(result) }));
  } else {
    console.log(`${corpus.name} ${split}: ${line(result)}`);
    if (result.unknown) console.log(`${result.unknown} characters were outside the vocabulary`);
  }
}

async function generate(args: string[]): Promise<void> {
  const opts = parse('generate', () =>
    parseArgs({
      args,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        model: { type: 'string' },
        prompt: { type: 'string' },
        length: { type: 'string' },
        temperature: { type: 'string' },
        seed: { type: 'string' },
      },
    }),
  );
  if (opts.help) return void console.log(HELP.generate);
  const { lm } = await loadModel(opts.model, 'generate');
  const text = lm.generate(opts.prompt ?? '\n', {
    length: opts.length === undefined ? undefined : numberFlag('length', opts.length),
    temperature:
      opts.temperature === undefined ? undefined : numberFlag('temperature', opts.temperature),
    seed: opts.seed === undefined ? undefined : numberFlag('seed', opts.seed),
  });
  console.log(`${opts.prompt ?? ''}${text}`);
}

async function loadModel(path: string | undefined, command: string) {
  if (!path) {
    throw new SnnlmError(`snnlm ${command} needs --model FILE`, 'pass a file saved by snnlm train');
  }
  const file = await loadModelFile(path);
  return { lm: await modelFromFile(file), trainedOn: file.header.corpus };
}

function parseSetting(item: string): Partial<ModelConfig> {
  const eq = item.indexOf('=');
  if (eq < 1) {
    throw new SnnlmError(
      `--set expects FIELD=VALUE, got '${item}'`,
      'for example --set neurons=2000',
    );
  }
  const key = item.slice(0, eq);
  const raw = item.slice(eq + 1);
  const value = raw !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  return { [key]: value } as Partial<ModelConfig>;
}

function threadsFlag(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new SnnlmError(
      `--threads must be a whole number from 1 to 64, got '${raw}'`,
      '--threads 2',
    );
  }
  return n;
}

function numberFlag(name: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new SnnlmError(`--${name} must be a number, got '${raw}'`, `for example --${name} 1`);
  }
  return value;
}

function progressBar(enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) {
    return { update: (_: Progress) => {}, stop: () => {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        '{phase} {epoch} [{bar}] {percentage}% {value}/{total} chars | {rate} chars/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let key = '';
  let started = 0;
  let t0 = 0;
  return {
    update(p: Progress) {
      const k = `${p.phase}${p.epoch}`;
      const epoch = p.epochs > 0 ? `${p.epoch}/${p.epochs}` : '';
      if (k !== key) {
        if (started) bar.stop();
        bar.start(p.total, 0, { phase: p.phase, epoch, rate: '-' });
        key = k;
        started = 1;
        t0 = performance.now();
      }
      const rate = Math.round(p.done / ((performance.now() - t0) / 1000 + 1e-9));
      bar.update(p.done, { phase: p.phase, epoch, rate });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function pick(m: Metrics) {
  return { bpc: m.bpc, perplexity: m.perplexity, accuracy: m.accuracy, chars: m.chars };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : '-';
}

function line(m: Metrics): string {
  return (
    `${fmt(m.bpc)} bpc, perplexity ${m.perplexity.toFixed(3)}, ` +
    `accuracy ${(m.accuracy * 100).toFixed(2)}%, ${m.chars} characters`
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof SnnlmError) {
    console.error(`snnlm: ${err.message}`);
    if (err.hint) console.error(`hint: ${err.hint}`);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
