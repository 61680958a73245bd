import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnnlmError } from '../src/errors.ts';
import {
  decodeModelFile,
  encodeModelFile,
  MIN_MODEL_FILE_BYTES,
  MODEL_FORMAT_VERSION,
  type SectionArray,
} from '../src/modelfile.ts';
import { loadModelFile, nodeSha256, saveModelFile } from '../src/modelfile-node.ts';

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'snnlm-model-'));
  temps.push(dir);
  return dir;
}

function throwsSnnlm(fn: () => unknown, pattern: RegExp): SnnlmError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, SnnlmError);
    const e = err as SnnlmError;
    assert.match(e.message, pattern);
    assert.ok(e.hint.length > 0, 'every error carries a hint');
    return e;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
  throw new Error('unreachable');
}

async function rejectsSnnlm(promise: Promise<unknown>, pattern: RegExp): Promise<SnnlmError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, SnnlmError);
    assert.match((err as SnnlmError).message, pattern);
    return err as SnnlmError;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
  throw new Error('unreachable');
}

const header = { kind: 'test', vocab: { chars: ['a', 'b', '\u{1F600}'] }, step: 3, ok: true };

// Odd lengths so that padding between sections is exercised; a subarray view so that
// encoding must honour byteOffset.
function sampleSections(): Record<string, SectionArray> {
  const wide = Float64Array.of(0, 1, 2, Math.PI, -0, Number.MAX_VALUE, 7);
  return {
    weights: Float32Array.of(1.5, -2.25, Number.NaN, Number.POSITIVE_INFINITY, 1e-30),
    f64: wide.subarray(2, 6),
    i32: Int32Array.of(-2_147_483_648, 2_147_483_647, 0),
    u32: Uint32Array.of(4_294_967_295, 1),
    u16: Uint16Array.of(65_535, 0, 12_345),
    u8: Uint8Array.of(255, 0, 7),
    i8: Int8Array.of(-128, 127, -1),
    empty: new Float32Array(0),
  };
}

const encode = () => encodeModelFile(header, sampleSections(), nodeSha256);

test('round trip of every dtype', () => {
  const bytes = encode();
  assert.is(bytes.length % 8, 0);
  const out = decodeModelFile(bytes, nodeSha256);
  assert.equal(out.header, header);
  const want = sampleSections();
  assert.equal(Object.keys(out.sections), Object.keys(want));
  for (const [name, arr] of Object.entries(want)) {
    const got = out.sections[name];
    assert.is(got.constructor, arr.constructor, name);
    assert.is(got.byteOffset, 0);
    assert.equal(Array.from(got), Array.from(arr), name);
  }
  assert.ok(Object.is(out.sections.f64[2], -0), 'negative zero survives');
});

test('layout: magic, version, header length, aligned sections', () => {
  const bytes = encode();
  assert.equal([...bytes.subarray(0, 5)], [...new TextEncoder().encode('SNNLM')]);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.is(view.getUint32(8, true), MODEL_FORMAT_VERSION);
  const h = view.getUint32(12, true);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + h)));
  for (const s of json.sections) assert.is(s.offset % 8, 0);
  assert.is(json.sections[0].name, 'weights');
  assert.is(json.sections[0].dtype, 'f32');
});

test('a Buffer at an odd offset decodes', () => {
  const bytes = encode();
  const big = Buffer.alloc(bytes.length + 3);
  big.set(bytes, 3);
  const out = decodeModelFile(big.subarray(3), nodeSha256);
  assert.equal(Array.from(out.sections.i8), [-128, 127, -1]);
});

test('unsupported arrays and headers are refused', () => {
  const bad = { x: new Uint8ClampedArray(2) } as unknown as Record<string, SectionArray>;
  throwsSnnlm(() => encodeModelFile({}, bad, nodeSha256), /Uint8ClampedArray/);
  throwsSnnlm(() => encodeModelFile({ n: 1n }, {}, nodeSha256), /JSON/);
});

test('bad magic', () => {
  throwsSnnlm(
    () =>
      decodeModelFile(
        new TextEncoder().encode('hello world, not a model at all, really no'),
        nodeSha256,
      ),
    /not a snnlm model file/,
  );
  throwsSnnlm(() => decodeModelFile(Uint8Array.of(1, 2), nodeSha256), /not a snnlm model file/);
});

test('wrong version', () => {
  const bytes = encode();
  new DataView(bytes.buffer).setUint32(8, 7, true);
  const e = throwsSnnlm(() => decodeModelFile(bytes, nodeSha256), /format version 7/);
  assert.match(e.message, /reads version 1/);
  assert.match(e.hint, /retrain/);
});

test('truncated at every kind of place', () => {
  const bytes = encode();
  for (const cut of [5, 15, 20, bytes.length - 40, bytes.length - 1]) {
    throwsSnnlm(() => decodeModelFile(bytes.subarray(0, cut), nodeSha256), /truncated/);
  }
  throwsSnnlm(() => decodeModelFile(new Uint8Array(0), nodeSha256), /truncated/);
  assert.ok(MIN_MODEL_FILE_BYTES >= 48);
});

test('one flipped byte in a section fails the checksum', () => {
  const bytes = encode();
  const h = new DataView(bytes.buffer).getUint32(12, true);
  const dataStart = Math.ceil((16 + h) / 8) * 8;
  bytes[dataStart + 1] ^= 0x01; // inside the first element of 'weights'
  const e = throwsSnnlm(() => decodeModelFile(bytes, nodeSha256), /checksum/);
  assert.match(e.message, /damaged or was altered/);
});

test('extra bytes after the end fail the checksum', () => {
  const bytes = encode();
  const longer = new Uint8Array(bytes.length + 8);
  longer.set(bytes);
  throwsSnnlm(() => decodeModelFile(longer, nodeSha256), /checksum/);
});

test('malformed header JSON with a valid checksum', () => {
  const json = new TextEncoder().encode('{"meta": {}, "sections": [');
  const total = Math.ceil((16 + json.length) / 8) * 8 + 32;
  const bytes = new Uint8Array(total);
  bytes.set(new TextEncoder().encode('SNNLM'));
  bytes.set([0, 0x0d, 0x0a], 5);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 1, true);
  view.setUint32(12, json.length, true);
  bytes.set(json, 16);
  bytes.set(nodeSha256(bytes.subarray(0, total - 32)), total - 32);
  throwsSnnlm(() => decodeModelFile(bytes, nodeSha256), /header is malformed/);
});

test('save and load through the file system', async () => {
  const path = join(await tempDir(), 'm.snnlm');
  await saveModelFile(path, header, sampleSections());
  const out = await loadModelFile(path);
  assert.equal(out.header, header);
  assert.equal(Array.from(out.sections.u16), [65_535, 0, 12_345]);
  // Overwriting replaces the file whole.
  await saveModelFile(path, { v: 2 }, { a: Uint8Array.of(9) });
  assert.equal((await loadModelFile(path)).header, { v: 2 });
  assert.equal(await readdir(join(path, '..')), ['m.snnlm']);
});

test('load errors name the path', async () => {
  const dir = await tempDir();
  await rejectsSnnlm(loadModelFile(join(dir, 'missing.snnlm')), /not found/);
  await rejectsSnnlm(loadModelFile(dir), /directory/);
  const damaged = join(dir, 'damaged.snnlm');
  const bytes = encode();
  bytes[bytes.length - 40] ^= 0xff;
  await writeFile(damaged, bytes);
  await rejectsSnnlm(loadModelFile(damaged), new RegExp(`${damaged}: .*checksum`));
});

test('a failure mid-save leaves the old file intact and no temp file', async () => {
  const dir = await tempDir();
  const path = join(dir, 'm.snnlm');
  await saveModelFile(path, header, sampleSections());
  const before = await readFile(path);
  await rejectsSnnlm(
    saveModelFile(path, { v: 2 }, sampleSections(), {
      write: async (file, bytes) => {
        await file.write(bytes.subarray(0, 10));
        throw new Error('disk full (simulated)');
      },
    }),
    /could not save.*disk full/,
  );
  assert.equal(await readFile(path), before);
  assert.equal(await readdir(dir), ['m.snnlm']);
});

test('a section that cannot be stored fails before touching the disk', async () => {
  const dir = await tempDir();
  const path = join(dir, 'm.snnlm');
  const bad = { x: [1, 2] } as unknown as Record<string, SectionArray>;
  await rejectsSnnlm(saveModelFile(path, {}, bad), /cannot store/);
  assert.not.ok(existsSync(path));
  assert.equal(await readdir(dir), []);
});

test('saving into a missing folder says so', async () => {
  const path = join(await tempDir(), 'no', 'such', 'm.snnlm');
  const e = await rejectsSnnlm(saveModelFile(path, {}, {}), /could not save/);
  assert.match(e.hint, /folder/);
});

test.after(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

test.run();
