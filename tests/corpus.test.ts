import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  corpusNames,
  decodePtbChar,
  decodeText,
  firstInvalidUtf8,
  loadCorpus,
  MIN_SPLIT_CHARS,
  minimumCorpusChars,
  NAMED_CORPORA,
  Vocabulary,
} from '../src/corpus.ts';
import { SnnlmError } from '../src/errors.ts';

const SHARED =
  process.env.SNNLM_DATA_DIR ?? fileURLToPath(new URL('../../shared/data', import.meta.url));

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'snnlm-corpus-'));
  temps.push(dir);
  return dir;
}

async function tempFile(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, content);
  return path;
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<SnnlmError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, SnnlmError);
    const e = err as SnnlmError;
    assert.match(e.message, pattern);
    assert.ok(e.hint.length > 0, 'every error carries a hint');
    return e;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
  throw new Error('unreachable');
}

const offline = (dir: string) => ({ dataDir: dir, cacheDir: dir, download: false });

// Deterministic and long enough: exactly 1,000 characters of varied lines.
const synthetic = Array.from(
  { length: 100 },
  (_, i) => `line ${String(i).padStart(4, '0')}\n`,
).join('');

test('names', () => {
  assert.equal(corpusNames(), ['tinyshakespeare', 'ptb-char']);
  assert.is(NAMED_CORPORA.tinyshakespeare.files[0].bytes, 1_115_394);
});

test('a path is split 80/10/10 by character index', async () => {
  const path = await tempFile('s.txt', synthetic);
  const c = await loadCorpus(path);
  assert.is(c.train.length, 800);
  assert.is(c.validation.length, 100);
  assert.is(c.test.length, 100);
  assert.is(c.train + c.validation + c.test, synthetic);
  assert.is(c.name, 's.txt');
  assert.is(c.source, path);
  assert.equal(c.notes, []);
  assert.match(c.splitNote, /first 80%/);
});

test('splits count astral characters as one and never cut them', async () => {
  const text = '\u{1F600}a'.repeat(500);
  const c = await loadCorpus(await tempFile('e.txt', text));
  assert.is([...c.train].length, 800);
  assert.is([...c.validation].length, 100);
  assert.is([...c.test].length, 100);
  assert.is(c.train + c.validation + c.test, text);
});

test('tinyshakespeare from the shared data folder', async () => {
  const cache = await tempDir();
  const c = await loadCorpus('tinyshakespeare', {
    dataDir: SHARED,
    cacheDir: cache,
    download: false,
  });
  assert.is(c.test.length, 111_540);
  assert.is(c.train.length + c.validation.length + c.test.length, 1_115_394);
  assert.is(c.train.length, Math.floor(1_115_394 * 0.8));
  assert.ok(c.train.startsWith('First Citizen:'));
  const v = Vocabulary.fromText(c.train);
  assert.is(v.size, 66);
  assert.is(v.chars[65], '\uFFFD');
  assert.is(v.encode(c.test).unknown, 0);
  assert.equal(c.notes, []);
});

test('ptb-char decoding of a handmade file', () => {
  const raw = "a _ b c _ < u n k > \n d _ N _ ' s \n ";
  assert.is(decodePtbChar(raw), "a bc <unk>\nd N 's\n");
  assert.is(decodePtbChar('x _ y'), 'x y\n');
});

test('ptb-char from the shared data folder', async () => {
  const c = await loadCorpus('ptb-char', offline(SHARED));
  const first = c.train.slice(0, c.train.indexOf('\n'));
  assert.is(first, 'consumers may want to move their telephones a little closer to the tv set');
  assert.not.match(c.train + c.validation + c.test, /_| {2}/);
  const trainAll = c.train.length + c.validation.length;
  assert.is(c.train.length, Math.floor(trainAll * 0.9));
  assert.ok(c.test.startsWith("no it was n't black monday\n"));
  assert.match(c.splitNote, /official training split is not used/);
  assert.match(c.source, /valid\.txt.*test\.txt/);
  assert.ok(c.notes.some((n) => /Penn Treebank/.test(n)));
});

test('missing file', async () => {
  await rejects(loadCorpus(join(await tempDir(), 'nope.txt')), /not found/);
});

test('directory', async () => {
  await rejects(loadCorpus(await tempDir()), /is a directory/);
});

test('empty file', async () => {
  await rejects(loadCorpus(await tempFile('empty.txt', '')), /empty/);
});

test('binary file', async () => {
  const bytes = new Uint8Array(2000).fill(65);
  bytes[1234] = 0;
  await rejects(loadCorpus(await tempFile('b.bin', bytes)), /binary.*offset 1234/);
});

test('UTF-16 file is named as such', async () => {
  const utf16 = Buffer.from(`\uFEFF${synthetic}`, 'utf16le');
  const e = await rejects(loadCorpus(await tempFile('w.txt', utf16)), /binary.*UTF-16/);
  assert.match(e.hint, /iconv/);
});

test('invalid UTF-8 names the byte offset', async () => {
  const bytes = new TextEncoder().encode(synthetic);
  const bad = new Uint8Array(bytes.length + 1);
  bad.set(bytes.subarray(0, 700));
  bad[700] = 0xe9; // Latin-1 'é' followed by ASCII: not UTF-8
  bad.set(bytes.subarray(700), 701);
  await rejects(loadCorpus(await tempFile('l.txt', bad)), /not valid UTF-8.*offset 700/);
});

test('firstInvalidUtf8 finds overlongs, surrogates and cut-off sequences', () => {
  const u = (...b: number[]) => Uint8Array.from(b);
  assert.is(firstInvalidUtf8(new TextEncoder().encode('h\u00e9\u20ac\u{1F600}')), -1);
  assert.is(firstInvalidUtf8(u(0x41, 0xc0, 0x80)), 1);
  assert.is(firstInvalidUtf8(u(0x41, 0xed, 0xa0, 0x80)), 1);
  assert.is(firstInvalidUtf8(u(0x41, 0x42, 0xe2, 0x82)), 2);
  assert.is(firstInvalidUtf8(u(0xf4, 0x90, 0x80, 0x80)), 0);
  assert.is(firstInvalidUtf8(u(0x80)), 0);
});

test('too short says how long it is and how long it must be', async () => {
  const e = await rejects(loadCorpus(await tempFile('t.txt', 'x'.repeat(300))), /too short/);
  assert.match(e.message, /300 characters/);
  assert.match(e.message, new RegExp(`at least ${minimumCorpusChars()} characters`));
  const need = minimumCorpusChars();
  // About ten times the split minimum, give or take floor rounding.
  assert.ok(need > 9 * MIN_SPLIT_CHARS && need <= 10 * MIN_SPLIT_CHARS + 10);
  await loadCorpus(await tempFile('ok.txt', 'x'.repeat(need)));
  await rejects(loadCorpus(await tempFile('short.txt', 'x'.repeat(need - 1))), /too short/);
});

test('BOM and line endings are normalised and reported', async () => {
  const text = `\uFEFF${synthetic.replaceAll('\n', '\r\n').slice(0, 600)}\rend\r${synthetic}`;
  const c = await loadCorpus(await tempFile('crlf.txt', text));
  const all = c.train + c.validation + c.test;
  assert.not.match(all, /\r|\uFEFF/);
  const crlf = synthetic.replaceAll('\n', '\r\n').slice(0, 600).split('\r\n').length - 1;
  assert.equal(c.notes, [
    'removed a UTF-8 byte-order mark',
    `converted ${crlf} CRLF line endings to LF`,
    'converted 2 CR line endings to LF',
  ]);
  assert.equal(decodeText(new TextEncoder().encode('a\r\nb'), 'x').notes, [
    'converted 1 CRLF line ending to LF',
  ]);
});

test('sha256 mismatch in a data folder names file and both hashes', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'tinyshakespeare.txt'), synthetic);
  const actual = createHash('sha256').update(synthetic).digest('hex');
  const e = await rejects(loadCorpus('tinyshakespeare', offline(dir)), /wrong SHA-256/);
  assert.match(e.message, /tinyshakespeare\.txt/);
  assert.match(e.message, new RegExp(NAMED_CORPORA.tinyshakespeare.files[0].sha256));
  assert.match(e.message, new RegExp(actual));
});

test('offline without a copy says where it looked and how to fix it', async () => {
  const data = await tempDir();
  const cache = await tempDir();
  const e = await rejects(
    loadCorpus('tinyshakespeare', { dataDir: data, cacheDir: cache, download: false }),
    /could not be found or downloaded/,
  );
  assert.match(e.message, new RegExp(join(data, 'tinyshakespeare.txt')));
  assert.match(e.message, new RegExp(join(cache, 'tinyshakespeare.txt')));
  assert.match(e.hint, /SNNLM_DATA_DIR/);
  assert.match(e.hint, /--data-dir/);
  assert.match(e.hint, /raw\.githubusercontent\.com/);
});

test('a failing download is reported like an offline one', async () => {
  const dir = await tempDir();
  const fetchFail = (async () => {
    throw new TypeError('fetch failed');
  }) as typeof fetch;
  const e = await rejects(
    loadCorpus('tinyshakespeare', { dataDir: dir, cacheDir: dir, fetch: fetchFail }),
    /could not be found or downloaded.*fetch failed/,
  );
  assert.match(e.hint, /SNNLM_DATA_DIR/);
  const http404 = (async () => new Response('no', { status: 404 })) as typeof fetch;
  await rejects(
    loadCorpus('tinyshakespeare', { dataDir: dir, cacheDir: dir, fetch: http404 }),
    /HTTP 404/,
  );
  assert.equal(await readdir(dir), []);
});

test('a download is verified, then kept in the cache without a temp file', async () => {
  const cache = await tempDir();
  const empty = await tempDir();
  const real = await readFile(join(SHARED, 'ptb-char', 'valid.txt'));
  const realTest = await readFile(join(SHARED, 'ptb-char', 'test.txt'));
  const urls: string[] = [];
  const fake = (async (url: string | URL | Request) => {
    urls.push(String(url));
    return new Response(String(url).endsWith('valid.txt') ? real : realTest);
  }) as typeof fetch;
  const c = await loadCorpus('ptb-char', { dataDir: empty, cacheDir: cache, fetch: fake });
  assert.is(urls.length, 2);
  assert.equal(await readdir(join(cache, 'ptb-char')), ['test.txt', 'valid.txt']);
  assert.match(c.source, new RegExp(join(cache, 'ptb-char', 'valid.txt')));
  // Second time round the cache answers and the network is not asked.
  await loadCorpus('ptb-char', { dataDir: empty, cacheDir: cache, fetch: fake });
  assert.is(urls.length, 2);
});

test('a corrupted download is refused and nothing is kept', async () => {
  const cache = await tempDir();
  const fake = (async () => new Response('not shakespeare')) as typeof fetch;
  await rejects(
    loadCorpus('tinyshakespeare', { cacheDir: cache, dataDir: cache, fetch: fake }),
    /SHA-256/,
  );
  assert.equal(await readdir(cache), []);
});

test('vocabulary: sorted by code point, astral-safe, unknown last', () => {
  const v = Vocabulary.fromText('ba\u{1F600}c\uFFEEa');
  assert.equal(v.chars, ['a', 'b', 'c', '\uFFEE', '\u{1F600}', '\uFFFD']);
  assert.is(v.size, 6);
  assert.is(v.unknownId, 5);
  assert.is(v.idOf('\u{1F600}'), 4);
  assert.is(v.idOf('z'), -1);
  assert.is(v.idOf('\uFFFD'), -1);
  const { ids, unknown } = v.encode('a\u{1F600}zz\u{1F601}b');
  assert.equal([...ids], [0, 4, 5, 5, 5, 1]);
  assert.is(unknown, 3);
  assert.is(v.decode(ids), 'a\u{1F600}\uFFFD\uFFFD\uFFFDb');
  assert.equal(v.unknownCharsIn('zaz\u{1F601}y'), ['z', '\u{1F601}', 'y']);
  assert.throws(
    () => v.decode([6]),
    (e: unknown) => e instanceof SnnlmError,
  );
});

test('vocabulary JSON round trip and validation', () => {
  const v = Vocabulary.fromText('hello, world\n\u{1F600}');
  const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
  assert.equal(back.chars, v.chars);
  assert.equal([...back.encode('low').ids], [...v.encode('low').ids]);
  for (const bad of [null, {}, { chars: ['b', 'a'] }, { chars: ['ab'] }, { chars: [1] }]) {
    assert.throws(
      () => Vocabulary.fromJSON(bad),
      (e: unknown) => e instanceof SnnlmError,
    );
  }
});

test('vocabulary larger than 65,535 symbols is refused', () => {
  let text = '';
  for (let cp = 0x10000; cp < 0x10000 + 65_535; cp++) text += String.fromCodePoint(cp);
  assert.throws(
    () => Vocabulary.fromText(text),
    (e: unknown) => e instanceof SnnlmError && /65534/.test(e.message),
  );
  assert.is(Vocabulary.fromText(text.slice(0, -2)).size, 65_535);
});

test.after(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

test.run();
