// Prints a Markdown table of the Kneser-Ney character n-gram baseline on Tiny Shakespeare,
// orders 1 to 8, trained on the first 90% and scored on the last 10%.
// Usage: npx tsx bench/ngram-table.ts [modified|single|<fixed discount, e.g. 0.75>]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateNgram, KneserNey, type KneserNeyOptions, MAX_NGRAM_ORDER } from '../src/ngram.ts';

const dataDir = process.env.SNNLM_DATA_DIR
  ? resolve(fileURLToPath(new URL('..', import.meta.url)), process.env.SNNLM_DATA_DIR)
  : fileURLToPath(new URL('../../shared/data/', import.meta.url));
const arg = process.argv[2] ?? 'modified';
const options: KneserNeyOptions =
  arg === 'modified' || arg === 'single' ? { variant: arg } : { discount: Number(arg) };
const label = options.discount === undefined ? arg : `fixed D = ${options.discount}`;
// Reference figures of the shared data README (someone else's implementation).
const REFERENCE: Record<number, number> = { 2: 3.58, 3: 2.95, 4: 2.48, 5: 2.26, 6: 2.22 };

const text = readFileSync(resolve(dataDir, 'tinyshakespeare.txt'), 'latin1');
const cut = Math.floor(text.length * 0.9);
const trainText = text.slice(0, cut);
const testText = text.slice(cut);
// Vocabulary: sorted distinct characters of the training part, then one unknown id.
const chars = [...new Set(trainText)].sort();
const index = new Map(chars.map((c, i) => [c, i]));
const vocabSize = chars.length + 1;
const encode = (s: string) => Uint16Array.from(s, (c) => index.get(c) ?? vocabSize - 1);
const trainIds = encode(trainText);
const testIds = encode(testText);

const rows = [
  `Kneser-Ney (${label}), Tiny Shakespeare: train ${trainIds.length} chars, ` +
    `test ${testIds.length} chars, vocabulary ${vocabSize}`,
  '',
  '| order | bpc | reference bpc | perplexity | accuracy | train s | contexts |',
  '|---:|---:|---:|---:|---:|---:|---:|',
];
process.stdout.write(`${rows.join('\n')}\n`);
for (let order = 1; order <= MAX_NGRAM_ORDER; order++) {
  const t0 = performance.now();
  const model = KneserNey.train(trainIds, vocabSize, order, options);
  const trainSeconds = (performance.now() - t0) / 1000;
  const s = evaluateNgram(model, testIds);
  const cells = [
    order,
    s.bpc.toFixed(3),
    REFERENCE[order]?.toFixed(2) ?? '',
    s.perplexity.toFixed(2),
    `${(s.accuracy * 100).toFixed(1)}%`,
    trainSeconds.toFixed(2),
    model.contextCount,
  ];
  process.stdout.write(`| ${cells.join(' | ')} |\n`);
}
