// Runs every tests/*.test.ts file under uvu and ends with one summary line,
// "N passed, N failed", that CI reads.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from 'uvu/run';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let printed = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  if (printed.length > 4096) printed = printed.slice(-4096);
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

await run(
  files.map((name) => ({ name, file: `${dir}${name}` })),
  { bail: false },
);

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips colour codes
const plain = printed.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
process.stdout.write = write;
// uvu's total leaves out skipped tests.
console.log(`${passed} passed, ${total - passed} failed, ${skipped} skipped`);
if (total === 0) process.exitCode = 1;
