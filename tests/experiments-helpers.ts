// Shared by the experiment command tests: runs bin/snnlm.js in a scratch folder on a
// short slice of Tiny Shakespeare, long enough for the --quick prefixes of every split.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const dataDir = process.env.SNNLM_DATA_DIR ?? join(root, '../shared/data');
export const shakespeare = readFileSync(join(dataDir, 'tinyshakespeare.txt'), 'utf8');

/** A fresh scratch folder with the corpus file small.txt (12,000 characters) in it. */
export function scratch(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `snnlm-${prefix}-`));
  const corpus = join(dir, 'small.txt');
  writeFileSync(corpus, shakespeare.slice(0, 12_000));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const snnlm = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(root, 'bin/snnlm.js'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, SNNLM_DATA_DIR: dataDir },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  return { dir, corpus, file, snnlm };
}
