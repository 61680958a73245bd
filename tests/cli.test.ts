// The command line on bad input: a clear message, a non-zero exit, and no
// half-written file left behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'snnlm-cli-'));
const dataDir = process.env.SNNLM_DATA_DIR ?? join(root, '../shared/data');
const shakespeare = readFileSync(join(dataDir, 'tinyshakespeare.txt'), 'utf8');

function snnlm(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/snnlm.js'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SNNLM_DATA_DIR: dataDir },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const tiny = ['--set', 'neurons=20', '--set', 'epochs=1', '--set', 'batchSize=8', '--quiet'];
const model = join(dir, 'tiny.snnlm');
const small = file('small.txt', shakespeare.slice(0, 6000));

test('train, eval and generate work on a small text and agree', () => {
  const r = snnlm('train', '--corpus', small, ...tiny, '--out', model, '--json');
  assert.is(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  for (const key of ['corpus', 'seed', 'config', 'validation', 'test', 'firingRate']) {
    assert.ok(key in report, key);
  }
  assert.is(report.model, model);

  const e = snnlm('eval', '--model', model, '--corpus', small, '--json');
  assert.is(e.code, 0, e.err);
  assert.is(JSON.parse(e.out).test.bpc.toFixed(6), report.test.bpc.toFixed(6));

  const g = snnlm('generate', '--model', model, '--prompt', 'First', '--length', '40');
  assert.is(g.code, 0, g.err);
  assert.ok(g.out.startsWith('First') && g.out.length > 40);
});

const cases: [string, () => string[], RegExp][] = [
  ['a missing file', () => ['train', '--corpus', join(dir, 'nope.txt')], /not found|no such/i],
  ['an empty file', () => ['train', '--corpus', file('empty.txt', '')], /empty/i],
  [
    'a binary file',
    () => ['train', '--corpus', file('bin.txt', new Uint8Array([80, 75, 3, 4, 0, 0, 1, 2]))],
    /binary/i,
  ],
  [
    'invalid UTF-8',
    () => ['train', '--corpus', file('bad.txt', new Uint8Array([104, 105, 0xc3, 0x28, 33]))],
    /UTF-8/,
  ],
  [
    'a corpus too short',
    () => ['train', '--corpus', file('short.txt', 'hello\n'.repeat(20))],
    /short/i,
  ],
  [
    'a configuration value out of range',
    () => ['train', '--corpus', small, '--set', 'neurons=-3'],
    /'neurons'.*integer ≥ 4/,
  ],
  [
    'a configuration value of the wrong type',
    () => ['train', '--corpus', small, '--set', 'features=loud'],
    /'features'.*one of 'hybrid', 'spikes', 'membrane'/,
  ],
  ['an unknown configuration field', () => ['train', '--set', 'nuerons=3'], /unknown.*nuerons/],
  [
    'a truncated model file',
    () => ['eval', '--model', file('cut.snnlm', readFileSync(model).subarray(0, 300))],
    /truncated|shorter/i,
  ],
  [
    'an altered model file',
    () => {
      const bytes = new Uint8Array(readFileSync(model));
      bytes[bytes.length - 100] ^= 0x40;
      return ['eval', '--model', file('altered.snnlm', bytes)];
    },
    /checksum|damaged|altered/i,
  ],
  [
    'a model file from another format version',
    () => {
      const bytes = new Uint8Array(readFileSync(model));
      new DataView(bytes.buffer).setUint32(8, 7, true);
      return ['eval', '--model', file('v7.snnlm', bytes)];
    },
    /version 7/,
  ],
  [
    'a prompt outside the vocabulary',
    () => ['generate', '--model', model, '--prompt', 'Zürich'],
    /outside the model's vocabulary:.*"ü"/,
  ],
  ['an unknown option', () => ['train', '--nuerons', '3'], /nuerons/],
];

for (const [what, args, message] of cases) {
  test(`${what} gets a clear error and a non-zero exit`, () => {
    const r = snnlm(...args());

    assert.is.not(r.code, 0);
    assert.match(r.err, message);
    assert.match(r.err, /hint: /);
    assert.not.match(r.err, /at .*\.ts:\d+/, 'no stack trace for bad input');
  });
}

test('a failed training run leaves no half-written model', () => {
  const out = join(dir, 'never.snnlm');
  snnlm('train', '--corpus', file('short2.txt', 'x'.repeat(100)), '--out', out);

  assert.not.ok(readdirSync(dir).some((f) => f.startsWith('never')));
});

test('an output folder that cannot be written is refused before training', () => {
  const r = snnlm('train', '--corpus', small, '--out', '/proc/snnlm-nowhere/m.snnlm', '--quiet');

  assert.is.not(r.code, 0);
  assert.match(r.err, /cannot write in \/proc/);
  assert.not.match(r.out + r.err, /epoch 1/, 'it must fail before training');
});

test('CRLF line endings and a byte-order mark are normalised and reported', () => {
  const crlf = file('crlf.txt', `\ufeff${shakespeare.slice(0, 6000).replaceAll('\n', '\r\n')}`);

  const r = snnlm('train', '--corpus', crlf, ...tiny, '--out', join(dir, 'crlf.snnlm'));

  assert.is(r.code, 0, r.err);
  assert.match(r.out, /byte-order mark/);
  assert.match(r.out, /CRLF/);
});

test.run();
