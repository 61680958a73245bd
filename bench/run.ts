// Runs the benchmarks: `npm run bench` runs the default set, `npm run bench -- kernels
// firing` runs the named ones. Each prints Markdown tables whose ratios were measured
// in the same run, since this machine's absolute speed drifts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Bench {
  about: string;
  run: () => Promise<void>;
  /** Not part of the default set. */
  optional?: boolean;
}

const BENCHES: Record<string, Bench> = {
  kernels: {
    about: 'each kernel: SIMD build vs scalar build vs plain TypeScript',
    run: async () => (await import('./kernels.ts')).kernelsBench(),
  },
  reservoir: {
    about: 'whole reservoir vs the native C and numpy yardsticks, 1,000 and 4,000 neurons',
    run: async () => (await import('./reservoir.ts')).reservoirBench(),
  },
  tfjs: {
    about: "a dense reservoir step on TensorFlow.js's WebAssembly backend vs the engine",
    run: async () => (await import('./tfjs.ts')).tfjsBench(),
  },
  firing: {
    about: 'time per character against firing rate: cost follows spikes × fan-out',
    run: async () => (await import('./firing.ts')).firingBench(),
  },
  detectors: {
    about: 'the detector layer: event-driven kernel vs plain TypeScript; add-only vs dense readout',
    run: async () => (await import('./detectors.ts')).detectorsBench(),
  },
  mainjob: {
    about: "the default model's training: characters/s, wall time, peak memory",
    // Its own process, so that the peak memory is the job's alone.
    run: () => runScript('mainjob.ts', []),
  },
  ternary: {
    about: 'BitNet b1.58: ternary vs float propagation speed, bytes per synapse, test bpc',
    run: () => runScript('ternary.ts', []),
  },
  experimental: {
    about: 'candidate propagate kernels (bench/assembly/) vs the engine and native C',
    run: async () => (await import('./experimental.ts')).experimentalBench(),
  },
  ngram: {
    about: 'Kneser-Ney n-gram baseline table (bench/ngram-table.ts)',
    optional: true,
    run: () => runScript('ngram-table.ts', []),
  },
};

function runScript(file: string, args: string[]): Promise<void> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} exited with ${code}`)),
    );
  });
}

function usage(): string {
  const lines = Object.entries(BENCHES).map(
    ([name, b]) => `  ${name.padEnd(13)}${b.about}${b.optional ? ' (optional)' : ''}`,
  );
  return `usage: npm run bench [-- NAME...]\n\nbenches:\n${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage());
    return;
  }
  const unknown = args.filter((a) => !(a in BENCHES));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench: ${unknown.join(', ')}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const names = args.length > 0 ? args : Object.keys(BENCHES).filter((n) => !BENCHES[n].optional);
  process.stdout.write(
    `snnlm benchmarks (node ${process.version}, ${process.platform}/${process.arch})\n\n`,
  );
  for (const name of names) {
    process.stdout.write(`## ${name}: ${BENCHES[name].about}\n\n`);
    const t0 = performance.now();
    await BENCHES[name].run();
    process.stdout.write(`(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)\n\n`);
  }
}

await main();
