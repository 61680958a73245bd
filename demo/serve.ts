// The demo's web server: builds the bundles (demo/build.ts), then serves the page, the bundles
// and the kernels on localhost. Every response carries COOP/COEP so the page is cross-origin
// isolated, as shared-memory threads require.
//
//   tsx demo/serve.ts [--port N] [--host H] [--no-build]
//
// The port comes from --port, else $SNNLM_DEMO_PORT, else $PORT, else 8484; 0 picks a free one.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDemo, outdir, root } from './build.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  // Rebuilt on every start; a cached bundle would hide the change.
  'Cache-Control': 'no-store',
};

/** Longest sample served, in characters: enough to learn from, quick to train on. */
const SAMPLE_CHARS = 100_000;

// A fixed table rather than a folder: nothing outside it can be requested, whatever the path.
const ROUTES: Record<string, string> = {
  '/': join(root, 'demo/index.html'),
  '/index.html': join(root, 'demo/index.html'),
  '/style.css': join(root, 'demo/style.css'),
  '/dist/main.js': join(outdir, 'main.js'),
  '/dist/main.js.map': join(outdir, 'main.js.map'),
  '/dist/worker.js': join(outdir, 'worker.js'),
  '/dist/worker.js.map': join(outdir, 'worker.js.map'),
  '/dist/kernel-worker.js': join(outdir, 'kernel-worker.js'),
  '/dist/kernel-worker.js.map': join(outdir, 'kernel-worker.js.map'),
};

/** The compiled kernels, any build: /build/NAME.wasm, a plain name, never a path. */
const WASM = /^\/build\/([\w.-]+\.wasm)$/;

/** The start of tinyshakespeare from the shared corpora, if they are on this machine. */
async function sample(): Promise<Buffer | undefined> {
  const dirs = [process.env.SNNLM_DATA_DIR, join(root, '../shared/data')];
  for (const dir of dirs) {
    if (!dir) continue;
    const text = await readFile(join(dir, 'tinyshakespeare.txt'), 'utf8').catch(() => undefined);
    if (text) return Buffer.from(text.slice(0, SAMPLE_CHARS));
  }
  return undefined;
}

function portFrom(raw: string | undefined): number {
  const port = Number(raw ?? process.env.SNNLM_DEMO_PORT ?? process.env.PORT ?? 8484);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a whole number from 0 to 65535, got '${raw}'`);
  }
  return port;
}

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'no-build': { type: 'boolean' },
  },
});
const port = portFrom(opts.port);
if (!opts['no-build']) {
  await buildDemo().catch((err: Error) => {
    console.error(`snnlm demo: the build failed: ${err.message}`);
    process.exit(1);
  });
}

const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...HEADERS, Allow: 'GET, HEAD' }).end();
    return;
  }
  const wasm = WASM.exec(path)?.[1];
  const file = ROUTES[path] ?? (wasm ? join(root, 'build', wasm) : undefined);
  const body = file ? await readFile(file).catch(() => undefined) : undefined;
  // No corpus here is not an error of the page: an empty sample tells it to say so politely.
  const content = path === '/sample.txt' ? ((await sample()) ?? Buffer.alloc(0)) : body;
  if (!content) {
    res.writeHead(404, { ...HEADERS, 'Content-Type': TYPES['.txt'] }).end(`not found: ${path}\n`);
    return;
  }
  const ext = path === '/' ? '.html' : path.slice(path.lastIndexOf('.'));
  res.writeHead(200, {
    ...HEADERS,
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': content.length,
  });
  res.end(req.method === 'HEAD' ? undefined : content);
});

server.on('error', (err: NodeJS.ErrnoException) => {
  const hint = err.code === 'EADDRINUSE' ? ' (in use: pass another --port, or --port 0)' : '';
  console.error(`snnlm demo: cannot listen on ${opts.host}:${port}: ${err.message}${hint}`);
  process.exit(1);
});

server.listen(port, opts.host, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const host = opts.host === '127.0.0.1' || opts.host === '::1' ? 'localhost' : opts.host;
  console.log(`snnlm demo: http://${host}:${bound}/`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
