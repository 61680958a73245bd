// The Node side of model files: reading and writing them on disk, with node:crypto's SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises';
import { SnnlmError } from './errors.ts';
import {
  type DecodedModelFile,
  decodeModelFile,
  encodeModelFile,
  type SectionArray,
} from './modelfile.ts';

/** SHA-256 by node:crypto, in the shape `encodeModelFile` and `decodeModelFile` take. */
export function nodeSha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** Hooks for tests; `write` replaces the step that puts the bytes into the temp file. */
export interface SaveModelOptions {
  write?: (file: FileHandle, bytes: Uint8Array) => Promise<void>;
}

/**
 * Writes a model file atomically: the bytes go to a temp file beside `path`, are synced, then
 * renamed over it, so a crash or error leaves either the old file or the new one, never a mix.
 */
export async function saveModelFile(
  path: string,
  header: Record<string, unknown>,
  sections: Record<string, SectionArray>,
  options: SaveModelOptions = {},
): Promise<void> {
  // Encode first: a bad section then fails before anything touches the disk.
  const bytes = encodeModelFile(header, sections, nodeSha256);
  const write = options.write ?? ((file, data) => file.writeFile(data));
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  let handle: FileHandle | undefined;
  pending.add(tmp);
  cleanUpOnSignals();
  try {
    handle = await open(tmp, 'wx');
    await write(handle, bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
    pending.delete(tmp);
  } catch (err) {
    pending.delete(tmp);
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    const reason = err instanceof Error ? err.message : String(err);
    throw new SnnlmError(
      `could not save the model to ${path}: ${reason}`,
      code === 'ENOENT'
        ? 'create the folder first, or choose another output path'
        : 'check that the folder is writable and the disk has space; any old file there is intact',
    );
  }
}

// Temp files of saves in progress. Ctrl-C or a kill during a save removes them
// (the target is untouched until the rename), then exits as the signal would.
const pending = new Set<string>();
let handlersInstalled = false;

function cleanUpOnSignals(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      for (const tmp of pending) rmSync(tmp, { force: true });
      process.exit(code);
    });
  }
}

/** Reads and checks a model file from disk. */
export async function loadModelFile(path: string): Promise<DecodedModelFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SnnlmError(
        `model file not found: ${path}`,
        'check the path, or train a model first with snnlm train',
      );
    }
    if (code === 'EISDIR') {
      throw new SnnlmError(`model path ${path} is a directory`, 'give the path of a model file');
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new SnnlmError(`cannot read model file ${path}: ${reason}`, 'check its permissions');
  }
  try {
    return decodeModelFile(bytes, nodeSha256);
  } catch (err) {
    // The pure decoder does not know the path; the user needs it to know which file is bad.
    if (err instanceof SnnlmError) throw new SnnlmError(`${path}: ${err.message}`, err.hint);
    throw err;
  }
}
