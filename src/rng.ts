// Seeded random numbers for network construction and sampling. The generator is
// pure-rand's xoroshiro128+; the same seed gives the same stream on every
// platform because it works on 32-bit integers only.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A seeded stream of uniform, integer and Gaussian numbers. */
export class Rng {
  private readonly gen;
  private spare: number | null = null;

  constructor(seed: number) {
    // xoroshiro128+ seeded with a small integer starts with poorly mixed output
    // (its first uniform() is close to 1 for seeds 0 to 3); hashing the seed
    // first spreads its bits over the state.
    // The first few outputs are dropped for the same reason.
    this.gen = xoroshiro128plus(mix((seed | 0) ^ 0x6d2b79f5));
    for (let i = 0; i < 8; i++) this.gen.next();
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }

  /** Standard normal, by the Box–Muller transform (pairs are cached). */
  gaussian(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** Derives an independent sub-seed, so that each part of a model has its own stream. */
export function subSeed(seed: number, part: number): number {
  return mix(seed ^ Math.imul(part + 1, 0x9e3779b1));
}

// The 32-bit finaliser of MurmurHash3: every input bit affects every output bit.
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) | 0;
}
