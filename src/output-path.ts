// Checks an output path before any long computation, so that a run never ends
// in a failed write, and never writes over its own input or a device.
import { existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SnnlmError } from './errors.ts';

/**
 * Resolves `path` for writing a file: refuses an input file, a directory or
 * anything that is not a regular file, and makes the parent folder.
 */
export function prepareOutputFile(path: string, inputs: string[] = []): string {
  if (path.trim() === '') {
    throw new SnnlmError('the output path is empty', 'give a file name, e.g. --out runs/m.snnlm');
  }
  const out = resolve(path);
  for (const input of inputs) {
    if (existsSync(input) && resolve(input) === out) {
      throw new SnnlmError(
        `the output ${out} is also an input of this run; writing it would destroy the input`,
        'choose another output path',
      );
    }
  }
  if (existsSync(out) && !statSync(out).isFile()) {
    throw new SnnlmError(
      `the output ${out} exists and is not a regular file`,
      'choose a path for a new or an existing ordinary file',
    );
  }
  prepareOutputDir(dirname(out));
  return out;
}

/** Resolves and makes a folder for output files; refuses a path that is a file. */
export function prepareOutputDir(path: string): string {
  if (path.trim() === '') {
    throw new SnnlmError('the output folder is empty', 'give a folder, e.g. --out runs/report');
  }
  const dir = resolve(path);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new SnnlmError(`${dir} exists and is not a folder`, 'choose another output folder');
  }
  // Probe the nearest folder that exists with a real write, before making any: permissions
  // alone do not tell (root, read-only mounts, /sys), and making folders under /proc hangs.
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const probe = join(existing, `.snnlm-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    throw new SnnlmError(
      `cannot write in ${existing}: ${(err as Error).message}`,
      'choose a folder you can write to',
    );
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new SnnlmError(
      `cannot create the folder ${dir}: ${(err as Error).message}`,
      'choose a folder you can write to',
    );
  }
  return dir;
}
