// The character vocabulary: built from the training split only, with one
// explicit unknown symbol for characters never seen in training. No Node
// imports, so the browser can use it.
import { SnnlmError } from './errors.ts';

/** What `Vocabulary.toJSON` produces and `Vocabulary.fromJSON` reads. */
export interface VocabularyJSON {
  chars: string[];
}

/**
 * The characters of the training split, sorted by code point, plus one unknown symbol (last id,
 * shown as U+FFFD) for anything the training split never showed.
 */
export class Vocabulary {
  /** How the unknown symbol is displayed. */
  static readonly UNKNOWN_CHAR = '\uFFFD';
  /** Largest vocabulary, since ids are stored as 16-bit integers. */
  static readonly MAX_SIZE = 65_535;

  /** Every symbol by id; the last one is the unknown symbol. */
  readonly chars: readonly string[];
  /** Number of symbols, the unknown one included. */
  readonly size: number;
  /** The id of the unknown symbol, always `size - 1`. */
  readonly unknownId: number;
  // A flat table for the Basic Multilingual Plane keeps encoding fast; astral ones are rare.
  private readonly bmp = new Int32Array(0x10000).fill(-1);
  private readonly astral = new Map<number, number>();

  private constructor(known: string[]) {
    if (known.length + 1 > Vocabulary.MAX_SIZE) {
      throw new SnnlmError(
        `the training text has ${known.length} distinct characters; a vocabulary holds at most ` +
          `${Vocabulary.MAX_SIZE - 1} plus the unknown symbol`,
        'train on a text with fewer distinct characters',
      );
    }
    known.forEach((ch, id) => {
      const cp = ch.codePointAt(0) as number;
      if (cp < 0x10000) this.bmp[cp] = id;
      else this.astral.set(cp, id);
    });
    this.chars = Object.freeze([...known, Vocabulary.UNKNOWN_CHAR]);
    this.size = known.length + 1;
    this.unknownId = known.length;
  }

  /** Builds the vocabulary of a (training) text. */
  static fromText(text: string): Vocabulary {
    const seen = new Set<number>();
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i) as number;
      seen.add(cp);
      i += cp > 0xffff ? 2 : 1;
    }
    const sorted = [...seen].sort((a, b) => a - b);
    return new Vocabulary(sorted.map((cp) => String.fromCodePoint(cp)));
  }

  /** Rebuilds a vocabulary stored in a model file, rejecting anything malformed. */
  static fromJSON(json: unknown): Vocabulary {
    const chars = (json as VocabularyJSON | null)?.chars;
    const bad = (why: string): SnnlmError =>
      new SnnlmError(
        `the stored vocabulary is malformed: ${why}`,
        'the model file is damaged or was not written by snnlm; retrain the model',
      );
    if (!Array.isArray(chars)) throw bad('it has no character list');
    let prev = -1;
    for (const ch of chars) {
      if (typeof ch !== 'string' || ch.length === 0) throw bad('an entry is not a character');
      const cp = ch.codePointAt(0) as number;
      if (String.fromCodePoint(cp) !== ch)
        throw bad(`entry ${JSON.stringify(ch)} is not one character`);
      if (cp <= prev) throw bad('the characters are not sorted and distinct');
      prev = cp;
    }
    return new Vocabulary(chars as string[]);
  }

  /** The storable form: the known characters in id order. */
  toJSON(): VocabularyJSON {
    return { chars: this.chars.slice(0, -1) };
  }

  /** The id of a known character, or -1 (the unknown symbol is not a character). */
  idOf(ch: string): number {
    const cp = ch.codePointAt(0);
    if (cp === undefined || String.fromCodePoint(cp) !== ch) return -1;
    return cp < 0x10000 ? this.bmp[cp] : (this.astral.get(cp) ?? -1);
  }

  /** Maps text to ids; characters outside the vocabulary become the unknown id and are counted. */
  encode(text: string): { ids: Uint16Array; unknown: number } {
    const ids = new Uint16Array(text.length);
    let n = 0;
    let unknown = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i) as number;
      i += cp > 0xffff ? 2 : 1;
      let id = cp < 0x10000 ? this.bmp[cp] : (this.astral.get(cp) ?? -1);
      if (id < 0) {
        id = this.unknownId;
        unknown++;
      }
      ids[n++] = id;
    }
    return { ids: n === ids.length ? ids : ids.slice(0, n), unknown };
  }

  /** Maps ids back to text; the unknown id shows as U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    const parts: string[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const ch = this.chars[id];
      if (ch === undefined || !Number.isInteger(id)) {
        throw new SnnlmError(
          `id ${id} at position ${i} is outside the vocabulary of ${this.size} symbols`,
          'decode only ids produced by this vocabulary',
        );
      }
      parts[i] = ch;
    }
    return parts.join('');
  }

  /** The distinct characters of `text` the vocabulary lacks, in order of first appearance. */
  unknownCharsIn(text: string): string[] {
    const missing = new Set<string>();
    for (const ch of text) if (this.idOf(ch) < 0) missing.add(ch);
    return [...missing];
  }
}
