// The `snnlm` command. The only module that prints. Subcommands:
//   train     fit a model on a corpus, report validation and test scores, save it
//   eval      score a saved model on a corpus split
//   generate  continue a prompt with a saved model
//   tune      search configurations by successive halving on validation bpc
//   curves    test bpc against neurons and against training characters
//   ablation  spikes, membrane and hybrid readouts over several seeds
//   compare   the spiking model against ESN, random LSTM, n-grams and a hashed control
//   energy    operation counts and energy estimates of a saved model
//   experiment  robustness, compression and scaling experiments (src/robustness.ts)
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ABLATION_FEATURES, ablation, ablationReport, spread } from './ablation.ts';
import { CONFIG_FIELDS, type ModelConfig, resolveConfig } from './config.ts';
import { readConfigFile } from './config-file.ts';
import { type Corpus, corpusNames, loadCorpus } from './corpus.ts';
import { SnnlmError } from './errors.ts';
import { commandLine, QUICK, quickSplits, writeReport } from './experiments.ts';
import { countFlag, listFlag } from './flags.ts';
import type { Metrics } from './metrics.ts';
import type { Progress } from './model.ts';
import { SpikingLM } from './model.ts';
import { loadModelFile, saveModelFile } from './modelfile-node.ts';
import { prepareOutputDir, prepareOutputFile } from './output-path.ts';
import { modelFromFile, modelToFile } from './persist.ts';
import { defaultThreads, ThreadPool } from './threads.ts';
import { checkSpace, DEFAULT_SPACE, readSpaceFile, type Trial, tune } from './tune.ts';
import { Vocabulary } from './vocab.ts';

const HELP: Record<string, string> = {
  main: `snnlm: a spiking-neural-network character language model

Usage: snnlm <command> [options]

Commands:
  train      train on a corpus, report held-out scores, save the model
  eval       score a saved model on a corpus split
  generate   continue a prompt with a saved model
  tune       search configurations by successive halving on validation bpc
  curves     learning curves: test bpc against neurons and training characters
  ablation   compare spike, membrane and hybrid readouts over several seeds
  compare    the comparison table: spiking readouts, ESN, random LSTM,
             Kneser-Ney n-grams and a hashed n-gram softmax control
  energy     operation counts and energy estimates per character of a saved model
  experiment robustness, compression and scaling: noise, prune, quantize, scale,
             context, for the spiking model, an ESN and a random LSTM

Run 'snnlm <command> --help' for a command's options.`,
  train: `Usage: snnlm train [options]

Grows the detector layer from a corpus's training split, trains the readout of
the spiking reservoir and the detector layer on it, picks the epoch with the
best validation bits per character, scores the test split, prints a sample and
saves the model.

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
  tune: `Usage: snnlm tune --corpus NAME|PATH [options]

Searches configurations by successive halving: samples N configurations from a
search space, trains each on a budget of training characters, keeps the better
half by validation bits per character, doubles the budget and repeats; the best
of the last rung (two configurations) wins. Only the training and validation
splits are read, never the test split.
Writes the best configuration, the seed, the search settings and every trial to
a JSON file that 'snnlm train --config FILE' accepts.

Options:
  --corpus NAME|PATH   ${corpusNames().join(' or ')}, or a UTF-8 text
                       file (required)
  --data-dir DIR       folder holding named corpora (default: $SNNLM_DATA_DIR)
  --trials N           configurations sampled at the first rung (default: 16)
  --budget-chars N     training characters at the first rung, doubled at each
                       rung after (default: 50000)
  --valid-chars N      validation characters each trial is scored on
                       (default: 20000)
  --rungs N            at most this many rungs (default: ⌈log₂ trials⌉)
  --space FILE         JSON search space, e.g.
                       { "neurons": { "min": 100, "max": 2000,
                                      "scale": "log", "integer": true },
                         "features": { "values": ["hybrid", "membrane"] } }
                       (default: the table in src/tune.ts)
  --config FILE        base configuration for the fields not searched
  --set FIELD=VALUE    override one base field (repeatable)
  --seed N             seed of the sampling and of every reservoir (default: 1)
  --out FILE           where to write the result
                       (default: runs/tune-CORPUS.json)
  --threads N          threads per trial; results do not depend on it
                       (default: all cores)
  --quick              3 trials, 2 rungs, 20 neurons (not searched), 1,500 then
                       3,000 training and 1,000 validation characters
  --json               end by printing the result as one JSON object
  --quiet              no progress bar
  -h, --help           this text`,
  curves: `Usage: snnlm curves --corpus NAME|PATH [options]

Learning curves: test bits per character against the number of neurons (each
model trained on the whole training split) and against the number of training
characters (at the configuration's neurons). Writes curves.md (with the command
and seed), curves.json, neurons.svg and chars.svg.

Options:
  --corpus NAME|PATH   ${corpusNames().join(' or ')}, or a UTF-8 text
                       file (required)
  --data-dir DIR       folder holding named corpora (default: $SNNLM_DATA_DIR)
  --neurons LIST       comma-separated sizes (default: 250,500,1000,2000)
  --chars LIST         comma-separated training characters (default: 100000,
                       doubled while below the training split, then all of it)
  --config FILE        every other configuration field (default: the defaults)
  --set FIELD=VALUE    override one configuration field (repeatable)
  --seed N             shorthand for --set seed=N
  --out DIR            where to write the report (default: runs/curves-CORPUS)
  --threads N          threads per model; results do not depend on it
                       (default: all cores)
  --quick              splits cut to 3,000/1,000/1,000 characters, epochs 1,
                       batchSize 16, --neurons 10,20,40 --chars 750,1500,3000
  --json               end by printing the result as one JSON object
  --quiet              no progress bar
  -h, --help           this text`,
  ablation: `Usage: snnlm ablation --corpus NAME|PATH [options]

Trains the configuration with each readout feature kind (spikes, membrane,
hybrid) once per seed and reports test bits per character, perplexity and
accuracy as mean ± standard deviation over the seeds. Writes ablation.md (with
the command and seeds) and ablation.json.

Options:
  --corpus NAME|PATH   ${corpusNames().join(' or ')}, or a UTF-8 text
                       file (required)
  --data-dir DIR       folder holding named corpora (default: $SNNLM_DATA_DIR)
  --seeds LIST         comma-separated seeds (default: 1,2,3)
  --config FILE        the configuration (features and seed are varied)
  --set FIELD=VALUE    override one configuration field (repeatable)
  --out DIR            where to write the report (default: runs/ablation-CORPUS)
  --threads N          threads per model; results do not depend on it
                       (default: all cores)
  --quick              splits cut to 3,000/1,000/1,000 characters, 20 neurons,
                       epochs 1, batchSize 16
  --json               end by printing the result as one JSON object
  --quiet              no progress bar
  -h, --help           this text`,
  compare: `Usage: snnlm compare --corpus NAME|PATH [options]

The comparison table. Trains, once per seed, the spiking model with each readout
(hybrid, spike-only, membrane-only), an echo state network and a random LSTM of
the same size and sparsity (same softmax readout, epochs and learning rate);
counts Kneser-Ney n-grams of orders 1 to 8 and a modified one of order 6;
trains a softmax over hashed n-gram indicator features as a control; and trains
an LSTM (TensorFlow.js, every weight trained) for as long as the seed's hybrid
spiking model took to train. Reports test bits per character, perplexity,
accuracy, parameters, operations per character (input projection, recurrence,
readout; multiplies and additions), training time and, for the trained LSTM,
the characters it trained on. Writes compare.md (with the command and seeds)
and compare.json.

Options:
  --corpus NAME|PATH   ${corpusNames().join(' or ')}, or a UTF-8 text
                       file (required)
  --data-dir DIR       folder holding named corpora (default: $SNNLM_DATA_DIR)
  --seeds LIST         comma-separated seeds of the random models (default: 1,2,3)
  --config FILE        the spiking configuration; sizes the ESN and LSTM too
  --set FIELD=VALUE    override one configuration field (repeatable)
  --ngram-text WHICH   what the n-grams count: train+validation (default; they
                       have nothing to tune) or train
  --hash-bits N        log2 buckets of the hashed control (default: 18)
  --hash-orders N      context lengths 1..N of the hashed control (default: 5)
  --hash-lr X          its Adagrad learning rate (default: 0.1)
  --lstm-hidden N      hidden units of the trained LSTM (default: 256)
  --no-trained-lstm    leave the trained LSTM out
  --out DIR            where to write the report (default: runs/compare-CORPUS)
  --threads N          threads per spiking model (the baselines use one);
                       results do not depend on it (default: all cores)
  --quick              splits cut to 3,000/1,000/1,000 characters, 20 neurons,
                       epochs 1, batchSize 16, --hash-bits 12, an LSTM of 32
                       units given at least 2 s
  --json               end by printing the result as one JSON object
  --quiet              no progress bar
  -h, --help           this text`,
  energy: `Usage: snnlm energy --model FILE [options]

Runs a saved model on held-out characters and reports, per character, what it
computed (synaptic events, additions, multiplications, membrane updates, readout
multiply-accumulates, memory reads by kind), by component (input projection,
recurrence, membrane update, readout), event-driven against dense (every synapse
every substep), priced with published energies per operation (45 nm CMOS, Loihi,
TrueNorth) and with the research prototype's convention beside a symmetric one.
Writes energy.md, energy.json, energy.html (self-contained, inline SVG charts)
and the charts as SVG files.

Options:
  --model FILE         a model saved by snnlm train (required)
  --corpus NAME|PATH   corpus whose test split is run (default: the one it was
                       trained on)
  --data-dir DIR       folder holding named corpora (default: $SNNLM_DATA_DIR)
  --chars N            test characters to run, from its start (default: 10000)
  --profiles FILE      JSON energy profiles added to src/energy-profiles.json
                       (same shape; a profile with the same id replaces it)
  --baselines          also count an ESN and a random LSTM of the same size
  --out DIR            where to write the report (default: runs/energy-CORPUS)
  --verify             recount events, additions and multiplications with the
                       plain TypeScript reservoir and fail unless they are equal
  --json               end by printing the result as one JSON object
  -h, --help           this text`,
  experiment: `Usage: snnlm experiment NAME --corpus NAME|PATH [options]

Runs one experiment for the spiking model (its reservoir, without the detector
layer; epochs, learningRate and tauMax default to the reservoir's own 4, 0.002
and 40), an echo state network and a random LSTM reservoir of the same size,
once per seed, scored on the test split as
mean ± standard deviation over the seeds. NAME is one of:
  noise      input characters replaced at random (0, 5, 10, 20, 30%), at test
             time only and in training and test alike; Gaussian noise added to
             the input drive (σ = 0, 0.25, 0.5, 1, 2 × inputScale)
  prune      neurons removed after training, keeping 100, 80, 60, 40, 20%, at
             random or by readout-weight importance, with the readout kept or
             refitted
  quantize   post-training symmetric uniform quantisation of the input,
             recurrent and readout weights to 8, 4, 3 and 2 bits, each matrix
             alone and all together, with the model's size in bytes
  scale      test bpc, training time and firing rate against neurons (¼ to 2×),
             substeps (1, 2, 5, 10), training characters (⅛ to all) and
             connectivity (0.005 to 0.05)
  context    the change in test bpc when the character k positions back is
             replaced at random, k = 1 to 64
Writes NAME.md (with the command, seeds and sizes), NAME.json and NAME.svg
(scale also scale-seconds.svg and scale-firing.svg).

Options:
  --corpus NAME|PATH   ${corpusNames().join(' or ')}, or a UTF-8 text
                       file (required)
  --data-dir DIR       folder holding named corpora (default: $SNNLM_DATA_DIR)
  --seeds LIST         comma-separated seeds (default: 1,2,3)
  --models LIST        comma-separated, of spiking, esn, lstm (default: all)
  --train-chars N      train on the first N characters of the training split
                       (default: all of it)
  --small              the reduced sizes of the README figures: 250 neurons,
                       epochs 2, --train-chars 200000 (validation and test
                       splits whole); --set and --train-chars override them
  --config FILE        the configuration; sizes the ESN and LSTM too
  --set FIELD=VALUE    override one configuration field (repeatable)
  --out DIR            where to write the report (default: runs/NAME-CORPUS)
  --threads N          threads per spiking model (the baselines use one);
                       results do not depend on it (default: all cores)
  --quick              splits cut to 3,000/1,000/1,000 characters, 20 neurons,
                       epochs 1, batchSize 16, shorter scale sweeps
  --json               end by printing the result as one JSON object
  --quiet              no progress bar
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
  if (command === 'tune') return tuneCommand(rest);
  if (command === 'curves') return curvesCommand(rest);
  if (command === 'ablation') return ablationCommand(rest);
  if (command === 'compare') return compareCommand(rest);
  if (command === 'energy') return energyCommand(rest);
  if (command === 'experiment') return experimentCommand(rest);
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

  const named = corpusNames().includes(opts.corpus ?? 'tinyshakespeare');
  // A path is stored absolute, so that eval finds it from any folder.
  const corpusSpec = named ? (opts.corpus ?? 'tinyshakespeare') : resolve(opts.corpus as string);
  const corpus = await loadCorpus(corpusSpec, { dataDir: opts['data-dir'] });
  const out = prepareOutputFile(
    opts.out ?? `runs/${corpus.name}.snnlm`,
    corpus.source.split(',').map((s) => s.trim()),
  );
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

  for (const e of report.epochs) {
    log(
      `epoch ${e.epoch}  train ${fmt(e.trainBpc)} bpc  validation ${fmt(e.validation.bpc)} bpc` +
        `  ${e.seconds.toFixed(1)} s`,
    );
  }
  const test = await model.evaluate(corpus.test, { onProgress: bar.update, pool });
  await pool?.close();
  bar.stop();

  const { header, sections } = modelToFile(model, { corpus: corpusSpec, corpusName: corpus.name });
  await saveModelFile(out, header, sections);
  // A newline starts the sample where the text has one; otherwise its first character.
  const start = vocab.idOf('\n') >= 0 ? '\n' : Array.from(corpus.train)[0];
  const sample = model.generate(start, { length: 200 });

  log(`kept epoch ${report.bestEpoch} (best validation bpc)`);
  log(`validation  ${line(report.validation)}`);
  log(`test        ${line(test)}${test.unknown ? `, ${test.unknown} unknown characters` : ''}`);
  log(`firing rate ${(report.firingRate * 100).toFixed(2)}% of neurons per substep`);
  log(`trained in  ${report.trainSeconds.toFixed(1)} s`);
  // The operating system's figure for the whole process, worker threads included.
  const peakResidentBytes = process.resourceUsage().maxRSS * 1024;
  log(`peak memory ${(peakResidentBytes / 2 ** 20).toFixed(0)} MiB resident`);
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
        peakResidentBytes,
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

// Options every experiment command (tune, curves, ablation) takes.
const EXPERIMENT = {
  ...COMMON,
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  threads: { type: 'string' },
  quick: { type: 'boolean' },
} as const;

interface ExperimentFlags {
  corpus?: string;
  'data-dir'?: string;
  config?: string;
  set?: string[];
  threads?: string;
  quick?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/**
 * What every experiment command starts from: the base configuration (file, then --quick's
 * small model, then --set), the corpus (cut to --quick's sizes) and the thread count.
 * Prints what it loaded; with --json everything but the final object goes to stderr.
 */
async function experimentSetup(
  command: string,
  opts: ExperimentFlags,
  extra = {},
  check: (base: ModelConfig) => void = () => {},
) {
  const log = opts.json ? console.error : console.log;
  if (!opts.corpus) {
    throw new SnnlmError(
      `snnlm ${command} needs --corpus NAME|PATH`,
      `for example snnlm ${command} --corpus tinyshakespeare --quick`,
    );
  }
  const base: Partial<ModelConfig> = opts.config ? await readConfigFile(opts.config) : {};
  if (opts.quick) Object.assign(base, QUICK.config);
  for (const item of opts.set ?? []) Object.assign(base, parseSetting(item));
  Object.assign(base, extra);
  check(resolveConfig(base));
  const threads = opts.threads === undefined ? defaultThreads() : threadsFlag(opts.threads);

  const corpus = await loadCorpus(opts.corpus, { dataDir: opts['data-dir'] });
  const splits = opts.quick ? quickSplits(corpus) : corpus;
  log(`corpus  ${corpus.name}: ${corpus.source}`);
  log(
    `splits  train ${splits.train.length}, validation ${splits.validation.length}, ` +
      `test ${splits.test.length} characters${opts.quick ? ' (--quick prefixes)' : ''}`,
  );
  for (const note of corpus.notes) log(`note    ${note}`);
  log(`threads ${threads}`);

  // A progress bar per model: stopped before each printed line, started anew after.
  let bar = progressBar(!opts.quiet);
  const progress = {
    update: (p: Progress) => bar.update(p),
    pause() {
      bar.stop();
      bar = progressBar(!opts.quiet);
    },
  };
  return { log, base, corpus, splits, threads, progress };
}

async function tuneCommand(args: string[]): Promise<void> {
  const opts = parse('tune', () =>
    parseArgs({
      args,
      strict: true,
      options: {
        ...EXPERIMENT,
        trials: { type: 'string' },
        'budget-chars': { type: 'string' },
        'valid-chars': { type: 'string' },
        rungs: { type: 'string' },
        space: { type: 'string' },
        seed: { type: 'string' },
      },
    }),
  );
  if (opts.help) return void console.log(HELP.tune);
  const quick = opts.quick === true;
  const trials = countFlag('trials', opts.trials ?? (quick ? '3' : '16'), 1, '16');
  const budgetChars = countFlag(
    'budget-chars',
    opts['budget-chars'] ?? (quick ? String(QUICK.trainChars / 2) : '50000'),
    2,
    '50000',
  );
  const validChars = countFlag(
    'valid-chars',
    opts['valid-chars'] ?? (quick ? String(QUICK.validationChars) : '20000'),
    2,
    '20000',
  );
  const rungs = opts.rungs === undefined ? undefined : countFlag('rungs', opts.rungs, 1, '3');
  const seed = opts.seed === undefined ? 1 : numberFlag('seed', opts.seed);
  // --quick fixes neurons at 20, so it is left out of the default space.
  const { neurons: _fixed, ...quickSpace } = DEFAULT_SPACE;
  const space = opts.space ? await readSpaceFile(opts.space) : quick ? quickSpace : DEFAULT_SPACE;
  const { log, base, corpus, splits, threads, progress } = await experimentSetup(
    'tune',
    opts,
    { seed },
    (config) => checkSpace(space, config),
  );
  const out = prepareOutputFile(opts.out ?? `runs/tune-${corpus.name}.json`, [corpus.source]);
  log(`seed    ${seed}`);
  log(
    `search  ${trials} trials from ${budgetChars} training characters, scored on ` +
      `${Math.min(validChars, splits.validation.length)} validation characters`,
  );
  log(`space   ${Object.keys(space).join(', ')}`);

  const started = performance.now();
  const result = await tune(splits, {
    base,
    space,
    trials,
    budgetChars,
    validChars,
    rungs,
    seed,
    threads,
    onProgress: progress.update,
    onTrial: (t: Trial) => {
      progress.pause();
      const diff = Object.entries(t.diff)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      log(
        `rung ${t.rung} trial ${t.index}/${t.of} #${t.id}  ${t.budgetChars} chars ` +
          `${t.epochs} ep  validation ${fmt(t.validationBpc)} bpc  ${t.seconds.toFixed(1)} s  ` +
          (diff || '(defaults)'),
      );
    },
  });
  progress.pause();

  const report = { command: commandLine(['tune', ...args]), corpus: corpus.name, ...result };
  await writeReport(dirname(out), { [basename(out)]: `${JSON.stringify(report, null, 2)}\n` });
  log(
    `best    #${result.best.id}: validation ${fmt(result.best.validationBpc)} bpc ` +
      `at rung ${result.best.rung}`,
  );
  log(`config  ${JSON.stringify(result.config)}`);
  log(`took    ${((performance.now() - started) / 1000).toFixed(1)} s`);
  log(`wrote   ${out}`);
  log(`next    snnlm train --corpus ${opts.corpus} --config ${out}`);
  if (opts.json) console.log(JSON.stringify({ ...report, out }));
}

async function curvesCommand(args: string[]): Promise<void> {
  const opts = parse('curves', () =>
    parseArgs({
      args,
      strict: true,
      options: {
        ...EXPERIMENT,
        neurons: { type: 'string' },
        chars: { type: 'string' },
        seed: { type: 'string' },
      },
    }),
  );
  if (opts.help) return void console.log(HELP.curves);
  // Imported here: the charting libraries take a second to load, which no other
  // command should pay.
  const { QUICK_CURVES, curvesReport, learningCurves } = await import('./curves.ts');
  const neurons = opts.neurons
    ? listFlag('neurons', opts.neurons, 4, '250,500,1000')
    : opts.quick
      ? QUICK_CURVES.neurons
      : undefined;
  const chars = opts.chars
    ? listFlag('chars', opts.chars, 2, '100000,200000')
    : opts.quick
      ? QUICK_CURVES.chars
      : undefined;
  const extra = opts.seed === undefined ? {} : parseSetting(`seed=${opts.seed}`);
  const { log, base, corpus, splits, threads, progress } = await experimentSetup(
    'curves',
    opts,
    extra,
  );
  const outDir = prepareOutputDir(opts.out ?? `runs/curves-${corpus.name}`);

  const result = await learningCurves(splits, {
    base,
    neurons,
    chars,
    threads,
    onProgress: progress.update,
    onPoint: (p, i, total) => {
      progress.pause();
      log(
        `${i}/${total}  ${p.neurons} neurons  ${p.trainChars} chars  test ${fmt(p.test.bpc)} bpc` +
          `  validation ${fmt(p.validationBpc)} bpc  ${p.seconds.toFixed(1)} s`,
      );
    },
  });
  progress.pause();

  const meta = { command: commandLine(['curves', ...args]), corpus: corpus.name };
  const paths = await writeReport(outDir, await curvesReport(result, meta));
  log(`seed    ${result.seed}`);
  for (const path of paths) log(`wrote   ${path}`);
  if (opts.json) console.log(JSON.stringify({ ...meta, ...result, files: paths }));
}

async function ablationCommand(args: string[]): Promise<void> {
  const opts = parse('ablation', () =>
    parseArgs({
      args,
      strict: true,
      options: { ...EXPERIMENT, seeds: { type: 'string' } },
    }),
  );
  if (opts.help) return void console.log(HELP.ablation);
  const seeds = opts.seeds ? listFlag('seeds', opts.seeds, -2147483648, '1,2,3') : [1, 2, 3];
  const { log, base, corpus, splits, threads, progress } = await experimentSetup('ablation', opts);
  const outDir = prepareOutputDir(opts.out ?? `runs/ablation-${corpus.name}`);
  log(`seeds   ${seeds.join(', ')}`);
  log(`compare ${ABLATION_FEATURES.join(', ')}`);

  const result = await ablation(splits, {
    base,
    seeds,
    threads,
    onProgress: progress.update,
    onRun: (r, i, total) => {
      progress.pause();
      log(
        `${i}/${total}  seed ${r.seed}  ${r.features.padEnd(8)}  test ${fmt(r.test.bpc)} bpc, ` +
          `perplexity ${r.test.perplexity.toFixed(3)}, ` +
          `accuracy ${(r.test.accuracy * 100).toFixed(2)}%  ${r.seconds.toFixed(1)} s`,
      );
    },
  });
  progress.pause();

  const meta = { command: commandLine(['ablation', ...args]), corpus: corpus.name };
  const paths = await writeReport(outDir, ablationReport(result, meta));
  for (const s of result.summary) {
    log(
      `${s.features.padEnd(8)}  test ${spread(s.bpc, 4)} bpc, ` +
        `perplexity ${spread(s.perplexity, 3)}, accuracy ${spread(s.accuracy, 2, 100)}%`,
    );
  }
  for (const path of paths) log(`wrote   ${path}`);
  if (opts.json) console.log(JSON.stringify({ ...meta, ...result, files: paths }));
}

async function compareCommand(args: string[]): Promise<void> {
  const opts = parse('compare', () =>
    parseArgs({
      args,
      strict: true,
      options: {
        ...EXPERIMENT,
        seeds: { type: 'string' },
        'ngram-text': { type: 'string' },
        'hash-bits': { type: 'string' },
        'hash-orders': { type: 'string' },
        'hash-lr': { type: 'string' },
        'lstm-hidden': { type: 'string' },
        'no-trained-lstm': { type: 'boolean' },
      },
    }),
  );
  if (opts.help) return void console.log(HELP.compare);
  const { QUICK_LSTM, compare, compareReport } = await import('./compare.ts');
  const seeds = opts.seeds ? listFlag('seeds', opts.seeds, -2147483648, '1,2,3') : [1, 2, 3];
  const ngramText = opts['ngram-text'] ?? 'train+validation';
  if (ngramText !== 'train' && ngramText !== 'train+validation') {
    throw new SnnlmError(
      `--ngram-text must be train or train+validation, got '${ngramText}'`,
      '--ngram-text train+validation',
    );
  }
  const hashBits = countFlag('hash-bits', opts['hash-bits'] ?? (opts.quick ? '12' : '18'), 1, '18');
  if (hashBits > 24) {
    throw new SnnlmError(`--hash-bits must be at most 24, got ${hashBits}`, '--hash-bits 18');
  }
  const hashOrders = countFlag('hash-orders', opts['hash-orders'] ?? '5', 1, '5');
  const hashLearningRate =
    opts['hash-lr'] === undefined ? 0.1 : numberFlag('hash-lr', opts['hash-lr']);
  if (!(hashLearningRate > 0)) {
    throw new SnnlmError(`--hash-lr must be > 0, got ${hashLearningRate}`, '--hash-lr 0.1');
  }
  const lstmHidden = opts['lstm-hidden'] && countFlag('lstm-hidden', opts['lstm-hidden'], 1, '256');
  const trainedLstm = opts['no-trained-lstm']
    ? false
    : { ...(opts.quick ? QUICK_LSTM : {}), ...(lstmHidden ? { hidden: lstmHidden } : {}) };
  const { log, base, corpus, splits, threads, progress } = await experimentSetup('compare', opts);
  const outDir = prepareOutputDir(opts.out ?? `runs/compare-${corpus.name}`);
  log(`seeds   ${seeds.join(', ')}`);

  const result = await compare(splits, {
    base,
    seeds,
    threads,
    hashBits,
    hashOrders,
    hashLearningRate,
    ngramTraining: ngramText,
    trainedLstm,
    onProgress: progress.update,
    onRun: (r, i) => {
      progress.pause();
      log(
        `${i}  ${r.model}${r.seed === undefined ? '' : ` (seed ${r.seed})`}  ` +
          `test ${fmt(r.test.bpc)} bpc, accuracy ${(r.test.accuracy * 100).toFixed(2)}%  ` +
          `${r.trainSeconds.toFixed(1)} s`,
      );
    },
  });
  progress.pause();

  const meta = { command: commandLine(['compare', ...args]), corpus: corpus.name };
  const paths = await writeReport(outDir, compareReport(result, meta));
  for (const path of paths) log(`wrote   ${path}`);
  if (opts.json) console.log(JSON.stringify({ ...meta, ...result, files: paths }));
}

async function energyCommand(args: string[]): Promise<void> {
  const opts = parse('energy', () =>
    parseArgs({
      args,
      strict: true,
      options: {
        ...COMMON,
        model: { type: 'string' },
        chars: { type: 'string' },
        profiles: { type: 'string' },
        baselines: { type: 'boolean' },
        out: { type: 'string' },
        verify: { type: 'boolean' },
      },
    }),
  );
  if (opts.help) return void console.log(HELP.energy);
  const log = opts.json ? console.error : console.log;
  // Imported here, as for curves: the charting libraries take a second to load.
  const { checkAgainstReference, estimateEnergy, loadProfiles } = await import('./energy.ts');
  const { energy, energyReport } = await import('./energy-report.ts');
  const chars = countFlag('chars', opts.chars ?? '10000', 2, '10000');
  const extra = opts.profiles ? await readJsonFile(opts.profiles) : undefined;
  const profiles = loadProfiles(extra);
  const model = await loadModel(opts.model, 'energy');
  if (opts.verify && model.lm.config.precision !== 'float') {
    throw new SnnlmError(
      "--verify covers float synapses only; this model's precision is " +
        `'${model.lm.config.precision}'`,
      'leave out --verify',
    );
  }
  const spec = opts.corpus ?? String(model.trainedOn ?? 'tinyshakespeare');
  const corpus = await loadCorpus(spec, { dataDir: opts['data-dir'] });
  const outDir = prepareOutputDir(opts.out ?? `runs/energy-${corpus.name}`);
  log(`corpus  ${corpus.name}: test split, first ${chars} characters`);
  log(`profiles ${profiles.map((p) => p.id).join(', ')}`);

  const result = await estimateEnergy(model.lm, corpus.test, {
    chars,
    profiles,
    baselines: opts.baselines === true,
  });
  const meta = { command: commandLine(['energy', ...args]), corpus: corpus.name };
  const paths = await writeReport(outDir, await energyReport(result, meta));
  const ref = result.energy['cmos45-sram'];
  for (const m of result.models) {
    const parts = ref ? Object.values(ref[m.model]) : [];
    const total = parts.reduce((a, x) => a + x.total, 0);
    log(`${m.model.padEnd(15)} ${ref ? `${energy(total)} per character (cmos45-sram)` : ''}`);
  }
  for (const path of paths) log(`wrote   ${path}`);
  let verified: unknown;
  if (opts.verify) {
    const checks = checkAgainstReference(model.lm, corpus.test, chars, result.totals);
    for (const c of checks) {
      const same = c.report === c.reference ? 'equal' : 'DIFFERENT';
      log(`verify  ${c.counter}: report ${c.report}, TypeScript reference ${c.reference}, ${same}`);
    }
    verified = checks;
    if (checks.some((c) => c.report !== c.reference)) {
      throw new SnnlmError(
        "the kernels' counts differ from the TypeScript reference",
        'this is a bug in snnlm; please report it with the model file',
      );
    }
  }
  if (opts.json) console.log(JSON.stringify({ ...meta, ...result, verified, files: paths }));
}

async function experimentCommand(args: string[]): Promise<void> {
  // The whole parse (values and the positional NAME), not only the values.
  const opts = parse('experiment', () => ({
    values: parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        ...EXPERIMENT,
        seeds: { type: 'string' },
        models: { type: 'string' },
        'train-chars': { type: 'string' },
        small: { type: 'boolean' },
      },
    }),
  }));
  if (opts.values.help) return void console.log(HELP.experiment);
  // Imported here, as for curves: the charting libraries take a second to load.
  const robustness = await import('./robustness.ts');
  const { EXPERIMENT_NAMES, QUICK_SWEEPS, SMALL, MODEL_LABELS } = robustness;
  const { MODEL_KINDS } = await import('./perturb.ts');
  const flags = opts.values;
  const [name, ...extra] = opts.positionals;
  const names = EXPERIMENT_NAMES.join(', ');
  if (!name || extra.length > 0) {
    throw new SnnlmError(
      name
        ? `snnlm experiment takes one NAME, got ${opts.positionals.join(' ')}`
        : 'snnlm experiment needs a NAME',
      `one of ${names}, e.g. snnlm experiment noise --corpus tinyshakespeare --quick`,
    );
  }
  const experiment = EXPERIMENT_NAMES.find((n) => n === name);
  if (!experiment) throw new SnnlmError(`unknown experiment '${name}'`, `use one of ${names}`);
  if (flags.quick && flags.small) {
    throw new SnnlmError('--quick and --small are two different sizes', 'give one of them');
  }
  const seeds = flags.seeds ? listFlag('seeds', flags.seeds, -2147483648, '1,2,3') : [1, 2, 3];
  const models = (flags.models ?? MODEL_KINDS.join(',')).split(',').map((m: string) => m.trim());
  const kinds = MODEL_KINDS.filter((k) => models.includes(k));
  const unknown = models.filter((m: string) => !(MODEL_KINDS as readonly string[]).includes(m));
  if (unknown.length > 0 || kinds.length !== models.length) {
    throw new SnnlmError(
      `--models must list ${MODEL_KINDS.join(', ')} without repeats, got '${flags.models}'`,
      `for example --models ${MODEL_KINDS.join(',')}`,
    );
  }
  // --small goes in as --set items before the user's, so that theirs win.
  const small = Object.entries(flags.small ? SMALL.config : {}).map(([k, v]) => `${k}=${v}`);
  const trainChars =
    flags['train-chars'] !== undefined
      ? countFlag('train-chars', flags['train-chars'], 2, '200000')
      : flags.small
        ? SMALL.trainChars
        : undefined;
  const { log, base, corpus, splits, threads, progress } = await experimentSetup('experiment', {
    ...flags,
    set: [...small, ...(flags.set ?? [])],
  });
  if (trainChars !== undefined) {
    if (trainChars > splits.train.length) {
      throw new SnnlmError(
        `--train-chars asks for ${trainChars} characters, but the training split has ` +
          `${splits.train.length}`,
        `give at most ${splits.train.length}`,
      );
    }
    splits.train = splits.train.slice(0, trainChars);
    log(`train   the first ${trainChars} characters of the training split`);
  }
  const outDir = prepareOutputDir(flags.out ?? `runs/${experiment}-${corpus.name}`);
  log(`seeds   ${seeds.join(', ')}`);
  log(`models  ${kinds.map((k) => MODEL_LABELS[k]).join(', ')}`);
  log(`config  ${JSON.stringify(resolveConfig(base))}`);

  const started = performance.now();
  const result = await robustness.runExperiment(experiment, splits, {
    base,
    seeds,
    models: kinds,
    threads,
    sweeps: flags.quick ? QUICK_SWEEPS : undefined,
    onProgress: progress.update,
    onPoint: (p, i, total) => {
      // The context experiment has 64 points per model; the powers of 2 are shown.
      if (experiment === 'context' && (p.x & (p.x - 1)) !== 0) return;
      progress.pause();
      const delta = p.delta === null ? '' : `  Δ ${p.delta >= 0 ? '+' : ''}${fmt(p.delta)}`;
      const acc = p.accuracy === null ? '' : `, accuracy ${(p.accuracy * 100).toFixed(2)}%`;
      log(
        `${i}/${total}  seed ${p.seed}  ${MODEL_LABELS[p.model]}  ${p.series} ${p.x}: ` +
          `test ${fmt(p.bpc)} bpc${acc}${delta}`,
      );
    },
  });
  progress.pause();

  const meta = { command: commandLine(['experiment', ...args]), corpus: corpus.name };
  const paths = await writeReport(outDir, await robustness.robustnessReport(result, meta));
  for (const c of result.claims) log(`claim   ${c.claim}: ${c.verdict}`);
  log(`took    ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const path of paths) log(`wrote   ${path}`);
  if (opts.values.json) console.log(JSON.stringify({ ...meta, ...result, files: paths }));
}

async function readJsonFile(path: string): Promise<unknown> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new SnnlmError(`cannot read ${path}`, 'check the path of --profiles');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SnnlmError(`${path} is not valid JSON: ${(err as Error).message}`, 'fix the file');
  }
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
  // Plain decimal numbers only: '0x10' or 'Infinity' stay strings, which the field refuses.
  const decimal = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw.trim());
  const value = decimal ? Number(raw) : raw;
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

// A reader that goes away (`snnlm generate | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const system = err as NodeJS.ErrnoException;
  if (err instanceof SnnlmError) {
    console.error(`snnlm: ${err.message}`);
    if (err.hint) console.error(`hint: ${err.hint}`);
  } else if (system?.code && system.syscall) {
    // A file-system error from writing a report: say what failed, without a stack trace.
    console.error(`snnlm: ${system.message}`);
    console.error('hint: check that the output path is a folder or file you can write to');
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
