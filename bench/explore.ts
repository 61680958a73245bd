// Configuration variants side by side, scored on the validation split only (the
// way choices about the defaults are made; the test split is never read here).
// Each argument is a JSON object of fields that differ from the defaults:
//   npx tsx bench/explore.ts '{}' '{"recurrentScale":0.1}' '{"neurons":2000}'
import { pathToFileURL } from 'node:url';
import { DEFAULT_CONFIG, type ModelConfig } from '../src/config.ts';
import { loadCorpus } from '../src/corpus.ts';
import { SpikingLM } from '../src/model.ts';
import { defaultThreads, ThreadPool } from '../src/threads.ts';
import { Vocabulary } from '../src/vocab.ts';
import { DATA_DIR, note, table } from './common.ts';

export async function exploreBench(variants: Partial<ModelConfig>[]): Promise<void> {
  const corpus = await loadCorpus('tinyshakespeare', { dataDir: DATA_DIR, download: false });
  const vocab = Vocabulary.fromText(corpus.train);
  const threads = defaultThreads();
  const rows: string[][] = [];
  for (const variant of variants.length > 0 ? variants : [{}]) {
    const model = await SpikingLM.create(variant, vocab, threads > 1 ? 'threads' : 'simd');
    const pool = threads > 1 ? await ThreadPool.start(model.heap.k, threads) : undefined;
    const report = await model.train(corpus.train, corpus.validation, { pool });
    await pool?.close();
    rows.push([
      JSON.stringify(variant),
      report.epochs.map((e) => e.validation.bpc.toFixed(3)).join(' → '),
      report.validation.bpc.toFixed(4),
      `${(report.firingRate * 100).toFixed(2)}%`,
      report.trainSeconds.toFixed(0),
    ]);
  }
  note(
    `Tiny Shakespeare, trained on the training split, scored on the whole validation split; ` +
      `every field not shown is the default (${JSON.stringify(DEFAULT_CONFIG)}).`,
  );
  table(
    'Configuration variants',
    ['variant', 'validation bpc by epoch', 'kept', 'firing rate', 'seconds'],
    rows,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await exploreBench(process.argv.slice(2).map((a) => JSON.parse(a) as Partial<ModelConfig>));
}
