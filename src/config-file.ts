// Reading a configuration file (JSON), as written by hand or by `snnlm tune`.
import { readFile } from 'node:fs/promises';
import type { ModelConfig } from './config.ts';
import { SnnlmError } from './errors.ts';

/** Reads a JSON configuration; a `config` member, if present, is used (tune output). */
export async function readConfigFile(path: string): Promise<Partial<ModelConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SnnlmError(
      `cannot read configuration file ${path}: ${(err as Error).message}`,
      'check the path given to --config',
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new SnnlmError(
      `configuration file ${path} is not valid JSON: ${(err as Error).message}`,
      'write the configuration as a JSON object, e.g. { "neurons": 2000 }',
    );
  }
  if (data && typeof data === 'object' && 'config' in data)
    data = (data as { config: unknown }).config;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new SnnlmError(
      `configuration file ${path} must hold a JSON object`,
      'write the configuration as a JSON object, e.g. { "neurons": 2000 }',
    );
  }
  return data as Partial<ModelConfig>;
}
