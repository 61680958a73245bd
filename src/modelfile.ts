// The saved-model container. Pure byte handling with no Node imports, so that a browser can read
// models too; file access lives in modelfile-node.ts.
//
// Layout (all integers little-endian; offsets in bytes):
//
//   +-------------+--------+---------------------------------------------------------------+
//   | offset      | bytes  | content                                                       |
//   +-------------+--------+---------------------------------------------------------------+
//   | 0           | 8      | magic: 'S' 'N' 'N' 'L' 'M' 0x00 0x0D 0x0A                     |
//   | 8           | 4      | u32 format version (MODEL_FORMAT_VERSION)                     |
//   | 12          | 4      | u32 H, byte length of the JSON header                         |
//   | 16          | H      | UTF-8 JSON: { meta, sections: [{ name, dtype, length,         |
//   |             |        |   offset }], dataBytes }; offsets count from D                |
//   | 16 + H      | 0..7   | zero padding up to D = 16 + H rounded up to a multiple of 8   |
//   | D           | N      | section data, raw little-endian elements, each section        |
//   |             |        |   starting at a multiple of 8, zero padding between; N is     |
//   |             |        |   dataBytes                                                   |
//   | D + N       | 32     | SHA-256 of bytes 0 .. D + N - 1                               |
//   +-------------+--------+---------------------------------------------------------------+
//
// The NUL in the magic marks the file as binary to tools that sniff; the CR LF pair shows
// whether a text-mode transfer has mangled it.
import { SnnlmError } from './errors.ts';

/** The container format version this build writes and reads. */
export const MODEL_FORMAT_VERSION = 1;

/** Element types a section may hold. */
export type Dtype = 'f32' | 'f64' | 'i32' | 'u32' | 'u16' | 'u8' | 'i8';

/** Typed arrays that can be stored as sections. */
export type SectionArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | Int8Array;

/** A synchronous SHA-256: node:crypto in Node, a JS implementation in a browser. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;

/** One entry of the section table in the JSON header. */
export interface SectionEntry {
  name: string;
  dtype: Dtype;
  /** Element count. */
  length: number;
  /** Byte offset from the start of the data area. */
  offset: number;
}

/** What `decodeModelFile` returns: the caller's metadata and freshly allocated arrays. */
export interface DecodedModelFile {
  header: Record<string, unknown>;
  sections: Record<string, SectionArray>;
}

type SectionCtor = {
  new (length: number): SectionArray;
  new (buffer: ArrayBuffer): SectionArray;
  readonly BYTES_PER_ELEMENT: number;
};

const DTYPES: Record<Dtype, SectionCtor> = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u32: Uint32Array,
  u16: Uint16Array,
  u8: Uint8Array,
  i8: Int8Array,
};

const MAGIC = Uint8Array.of(0x53, 0x4e, 0x4e, 0x4c, 0x4d, 0x00, 0x0d, 0x0a);
const PREFIX_BYTES = 16;
const DIGEST_BYTES = 32;
/** The smallest possible model file: prefix, an empty header and the checksum. */
export const MIN_MODEL_FILE_BYTES = PREFIX_BYTES + DIGEST_BYTES;

// Sections are stored little-endian; a big-endian host has to swap while copying.
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

function dtypeOf(name: string, array: unknown): Dtype {
  for (const [dtype, ctor] of Object.entries(DTYPES)) {
    if (array instanceof ctor) return dtype as Dtype;
  }
  const kind = (array as { constructor?: { name?: string } } | null)?.constructor?.name;
  throw new SnnlmError(
    `section '${name}' is a ${kind ?? typeof array}, which a model file cannot store`,
    `store a Float32Array, Float64Array, Int32Array, Uint32Array, Uint16Array, Uint8Array or ` +
      'Int8Array',
  );
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** Serialises metadata and named typed arrays into one checksummed model file. */
export function encodeModelFile(
  header: Record<string, unknown>,
  sections: Record<string, SectionArray>,
  sha256: Sha256,
): Uint8Array {
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SnnlmError('model header must be an object', 'pass a plain object of metadata');
  }
  const table: SectionEntry[] = [];
  const arrays: SectionArray[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(sections)) {
    if (name === '') throw new SnnlmError('a section has an empty name', 'name every section');
    const dtype = dtypeOf(name, array);
    table.push({ name, dtype, length: array.length, offset });
    arrays.push(array);
    offset = align8(offset + array.byteLength);
  }
  const dataBytes = offset;
  let json: string | undefined;
  try {
    json = JSON.stringify({ meta: header, sections: table, dataBytes });
  } catch (err) {
    throw new SnnlmError(
      `model header cannot be stored as JSON: ${err instanceof Error ? err.message : err}`,
      'keep the metadata to plain objects, arrays, strings, numbers and booleans',
    );
  }
  const headerBytes = new TextEncoder().encode(json);
  const dataStart = align8(PREFIX_BYTES + headerBytes.length);
  const total = dataStart + dataBytes + DIGEST_BYTES;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, MODEL_FORMAT_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES);
  table.forEach((entry, i) => {
    const array = arrays[i];
    const at = dataStart + entry.offset;
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(at, at + array.byteLength), array.BYTES_PER_ELEMENT);
  });
  const digest = sha256(out.subarray(0, total - DIGEST_BYTES));
  if (digest.length !== DIGEST_BYTES) {
    throw new SnnlmError(
      `the SHA-256 function returned ${digest.length} bytes instead of ${DIGEST_BYTES}`,
      'pass a SHA-256 implementation',
    );
  }
  out.set(digest, total - DIGEST_BYTES);
  return out;
}

interface ParsedHeader {
  meta: Record<string, unknown>;
  sections: SectionEntry[];
  dataBytes: number;
}

const DAMAGED_HINT = 'copy the file again from a good source, or retrain the model';

/** Checks and unpacks a model file; every array returned is a fresh, aligned copy. */
export function decodeModelFile(bytes: Uint8Array, sha256: Sha256): DecodedModelFile {
  const length = bytes.length;
  const magicSeen = Math.min(length, MAGIC.length);
  for (let i = 0; i < magicSeen; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new SnnlmError(
        'not a snnlm model file: it does not start with the snnlm signature',
        'give the path of a model saved by snnlm train',
      );
    }
  }
  const truncated = (expected: number): SnnlmError =>
    new SnnlmError(
      `model file is truncated: it has ${length} bytes but needs at least ${expected}`,
      `the file was cut short (an interrupted copy or download?); ${DAMAGED_HINT}`,
    );
  if (length < PREFIX_BYTES) throw truncated(MIN_MODEL_FILE_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== MODEL_FORMAT_VERSION) {
    throw new SnnlmError(
      `model file format version ${version}, this snnlm reads version ${MODEL_FORMAT_VERSION}`,
      'retrain the model, or use the snnlm version that wrote it',
    );
  }
  const headerLength = view.getUint32(12, true);
  if (PREFIX_BYTES + headerLength + DIGEST_BYTES > length) {
    throw truncated(PREFIX_BYTES + headerLength + DIGEST_BYTES);
  }
  const dataStart = align8(PREFIX_BYTES + headerLength);
  // Parse before checking the sum so that a short file is reported as truncated, not damaged;
  // a parse failure is reported only once the sum shows the bytes are as written.
  let parsed: ParsedHeader | undefined;
  let parseError = '';
  try {
    parsed = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength));
  } catch (err) {
    parseError = err instanceof Error ? err.message : String(err);
  }
  const expected = parsed ? dataStart + parsed.dataBytes + DIGEST_BYTES : undefined;
  if (expected !== undefined && length < expected) throw truncated(expected);
  const digest = sha256(bytes.subarray(0, length - DIGEST_BYTES));
  const stored = bytes.subarray(length - DIGEST_BYTES);
  if (digest.length !== DIGEST_BYTES || digest.some((b, i) => b !== stored[i])) {
    throw new SnnlmError(
      'model file checksum does not match: the file is damaged or was altered',
      DAMAGED_HINT,
    );
  }
  if (!parsed) {
    throw new SnnlmError(
      `model file header is malformed: ${parseError}`,
      'the file was not written by a working snnlm; retrain the model',
    );
  }
  if (length !== expected) {
    throw new SnnlmError(
      `model file header is malformed: it describes ${expected} bytes but the file has ${length}`,
      'the file was not written by a working snnlm; retrain the model',
    );
  }
  const sections: [string, SectionArray][] = [];
  for (const entry of parsed.sections) {
    const ctor = DTYPES[entry.dtype];
    const width = ctor.BYTES_PER_ELEMENT;
    const at = dataStart + entry.offset;
    // Not bytes.slice: on a Node Buffer that returns a view, sharing (and misaligned in) its pool.
    const copy = new Uint8Array(entry.length * width);
    copy.set(bytes.subarray(at, at + copy.length));
    if (!LITTLE_ENDIAN) swapBytes(copy, width);
    sections.push([entry.name, new ctor(copy.buffer)]);
  }
  // fromEntries defines own properties, so a section named __proto__ cannot touch the prototype.
  return { header: parsed.meta, sections: Object.fromEntries(sections) };
}

function parseHeader(raw: Uint8Array): ParsedHeader {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  const json: unknown = JSON.parse(text);
  const obj = json as Partial<ParsedHeader> | null;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new Error('the header is not a JSON object');
  }
  const { meta, sections, dataBytes } = obj;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new Error("'meta' is not an object");
  }
  if (!Number.isSafeInteger(dataBytes) || (dataBytes as number) < 0) {
    throw new Error("'dataBytes' is not a byte count");
  }
  if (!Array.isArray(sections)) throw new Error("'sections' is not a list");
  const names = new Set<string>();
  let end = 0;
  const ordered = [...sections].sort((a, b) => (a?.offset ?? 0) - (b?.offset ?? 0));
  for (const s of ordered) {
    const where = `section ${JSON.stringify(s?.name)}`;
    if (typeof s?.name !== 'string' || s.name === '') throw new Error('a section has no name');
    if (names.has(s.name)) throw new Error(`${where} appears twice`);
    names.add(s.name);
    if (!Object.hasOwn(DTYPES, s.dtype)) throw new Error(`${where} has unknown dtype`);
    if (!Number.isSafeInteger(s.length) || s.length < 0) throw new Error(`${where} bad length`);
    if (!Number.isSafeInteger(s.offset) || s.offset % 8 !== 0 || s.offset < end) {
      throw new Error(`${where} has a bad or overlapping offset`);
    }
    end = s.offset + s.length * DTYPES[s.dtype].BYTES_PER_ELEMENT;
    if (end > (dataBytes as number)) throw new Error(`${where} runs past the data area`);
  }
  return { meta: meta as Record<string, unknown>, sections, dataBytes: dataBytes as number };
}
