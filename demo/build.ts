// Bundles the demo page and its worker for the browser with esbuild, into build/demo/. The
// engine's one Node import (node:fs/promises, taken only when the wasm URL is a file: URL) stays
// external; any other Node module reaching the bundle fails the build, because it would break
// the page. Run directly (`tsx demo/build.ts`) or through demo/serve.ts, which builds first.
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const outdir = fileURLToPath(new URL('../build/demo/', import.meta.url));

/** Where engine.ts may import Node, guarded by a file: URL check. */
const ALLOWED_NODE_IMPORTS = new Map([['src/engine.ts', ['node:fs/promises']]]);

export async function buildDemo(): Promise<void> {
  for (const wasm of ['build/snnlm.wasm', 'build/snnlm-scalar.wasm', 'build/snnlm-threads.wasm']) {
    await stat(`${root}${wasm}`).catch(() => {
      throw new Error(`missing ${wasm}: run 'npm run build' to compile the kernels first`);
    });
  }
  const result = await esbuild.build({
    absWorkingDir: root,
    // The kernel worker is an entry of its own: the training worker starts it by URL, next to
    // its own bundle in /dist/ (demo/worker.ts).
    entryPoints: {
      main: 'demo/main.ts',
      worker: 'demo/worker.ts',
      'kernel-worker': 'src/kernel-worker-browser.ts',
    },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    // Keeps `import.meta.url` meaningful: the bundles are served from /dist/, so engine.ts's
    // '../build/snnlm.wasm' resolves to /build/snnlm.wasm, which the server maps to build/.
    external: ['node:*'],
    metafile: true,
    logLevel: 'warning',
  });
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    const allowed = ALLOWED_NODE_IMPORTS.get(file) ?? [];
    for (const imp of input.imports) {
      const builtin = imp.path.startsWith('node:') || imp.external;
      if (builtin && !allowed.includes(imp.path)) {
        throw new Error(`${file} imports ${imp.path}, which a browser cannot load`);
      }
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDemo().then(
    () => console.log(`built ${outdir}`),
    (err: Error) => {
      console.error(`snnlm demo: the build failed: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
