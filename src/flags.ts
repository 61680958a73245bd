// Parsing the numeric flags of the experiment commands (tune, curves, ablation): each
// bad value ends in an SnnlmError that names the flag and shows a value that works.
import { SnnlmError } from './errors.ts';

/** A whole number ≥ min, e.g. --trials 16. */
export function countFlag(name: string, raw: string, min: number, example: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new SnnlmError(
      `--${name} must be a whole number ≥ ${min}, got '${raw}'`,
      `for example --${name} ${example}`,
    );
  }
  return n;
}

/** A comma-separated list of whole numbers ≥ min, e.g. --neurons 250,500,1000. */
export function listFlag(name: string, raw: string, min: number, example: string): number[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) {
    throw new SnnlmError(
      `--${name} must be a comma-separated list of whole numbers, got '${raw}'`,
      `for example --${name} ${example}`,
    );
  }
  return items.map((item) => {
    const n = Number(item);
    if (!Number.isInteger(n) || n < min) {
      throw new SnnlmError(
        `--${name} must list whole numbers ≥ ${min}; '${item}' is not one`,
        `for example --${name} ${example}`,
      );
    }
    return n;
  });
}
