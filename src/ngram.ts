// Character n-gram language model with interpolated Kneser-Ney smoothing: the classical
// baseline the spiking model is measured against.
//
// Formulas follow S. F. Chen and J. Goodman, "An Empirical Study of Smoothing Techniques for
// Language Modeling", Harvard TR-10-98 (1998): interpolated Kneser-Ney (their eq. 17 with
// continuation counts for the lower orders) and its modified variant with three discounts
// D1, D2, D3+ per order estimated from count-of-counts (their eq. 19 and 26).

import { SnnlmError } from './errors.ts';

/** Largest n-gram order the model accepts. */
export const MAX_NGRAM_ORDER = 8;

/** Training options of {@link KneserNey.train}. */
export interface KneserNeyOptions {
  /** 'modified' (three discounts per order, the default) or 'single' (one discount). */
  variant?: 'modified' | 'single';
  /** Fixed discount for every order and count, overriding the estimate (for hand checks). */
  discount?: number;
}

/** Scores of {@link evaluateNgram} on one held-out sequence. */
export interface NgramScore {
  /** Mean negative log2 probability per character. */
  bpc: number;
  /** 2^bpc. */
  perplexity: number;
  /** Fraction of positions where the most probable symbol is the target. */
  accuracy: number;
  /** Number of positions scored. */
  chars: number;
}

/**
 * Open-addressing hash index from a pair of non-negative int32 keys to dense ids 0..size-1.
 * A JS Map with millions of entries costs several times more memory than these typed arrays.
 * Each slot holds (a, b, id + 1, unused) side by side so a probe touches one cache line.
 */
class PairIndex {
  size = 0;
  keyA: Int32Array;
  keyB: Int32Array;
  private slots: Int32Array; // id + 1 at offset 2 of each 4-int slot; 0 marks an empty slot
  private mask: number;

  constructor(capacity = 1 << 12) {
    this.slots = new Int32Array(capacity * 8);
    this.mask = capacity * 2 - 1;
    this.keyA = new Int32Array(capacity);
    this.keyB = new Int32Array(capacity);
  }

  private static hash(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return h ^ (h >>> 12);
  }

  /** Id of (a, b), or -1 when absent. */
  find(a: number, b: number): number {
    const { slots, mask } = this;
    let i = PairIndex.hash(a, b) & mask;
    for (;;) {
      const at = i << 2;
      const s = slots[at + 2];
      if (s === 0) return -1;
      if (slots[at] === a && slots[at + 1] === b) return s - 1;
      i = (i + 1) & mask;
    }
  }

  /** Id of (a, b), adding it when absent; new ids are always equal to the old size. */
  add(a: number, b: number): number {
    const { slots, mask } = this;
    let i = PairIndex.hash(a, b) & mask;
    for (;;) {
      const at = i << 2;
      const s = slots[at + 2];
      if (s === 0) break;
      if (slots[at] === a && slots[at + 1] === b) return s - 1;
      i = (i + 1) & mask;
    }
    const id = this.size++;
    if (id === this.keyA.length) {
      const grownA = new Int32Array(id * 2);
      const grownB = new Int32Array(id * 2);
      grownA.set(this.keyA);
      grownB.set(this.keyB);
      this.keyA = grownA;
      this.keyB = grownB;
    }
    this.keyA[id] = a;
    this.keyB[id] = b;
    const at = i << 2;
    slots[at] = a;
    slots[at + 1] = b;
    slots[at + 2] = id + 1;
    // Keep the load factor at or below one half so linear probes stay short.
    if (this.size * 2 > mask + 1) this.rehash((mask + 1) * 2);
    return id;
  }

  private rehash(capacity: number): void {
    const slots = new Int32Array(capacity * 4);
    const mask = capacity - 1;
    for (let id = 0; id < this.size; id++) {
      const a = this.keyA[id];
      const b = this.keyB[id];
      let i = PairIndex.hash(a, b) & mask;
      while (slots[(i << 2) + 2] !== 0) i = (i + 1) & mask;
      slots[i << 2] = a;
      slots[(i << 2) + 1] = b;
      slots[(i << 2) + 2] = id + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/**
 * Discounts for counts 0, 1, 2, 3+ of one order from its count-of-counts n[1..4]
 * (Chen & Goodman 1998, eq. 26: Y = n1/(n1+2n2), Dk = k - (k+1) Y n(k+1)/nk). Each Dk is
 * clamped to [0, k] so no adjusted count goes negative and every level still sums to one.
 */
function estimateDiscounts(n: Float64Array, variant: 'modified' | 'single'): number[] {
  const [, n1, n2, n3, n4] = n;
  // Too few counts for the estimate (tiny corpora): fall back to a common absolute discount.
  if (n1 === 0 || n2 === 0) return [0, 0.5, 0.5, 0.5];
  const y = n1 / (n1 + 2 * n2);
  if (variant === 'single') return [0, y, y, y];
  const d1 = 1 - (2 * y * n2) / n1;
  const d2 = 2 - (3 * y * n3) / n2;
  const d3 = n3 > 0 ? 3 - (4 * y * n4) / n3 : d2;
  const clamp = (d: number, k: number) => Math.min(k, Math.max(0, d));
  return [0, clamp(d1, 1), clamp(d2, 2), clamp(d3, 3)];
}

/** Character n-gram model with interpolated (modified) Kneser-Ney smoothing. */
export class KneserNey {
  /** Number of symbols, including the trailing unknown id. */
  readonly vocabSize: number;
  /** n-gram order: the model conditions on at most order - 1 previous symbols. */
  readonly order: number;
  /** Discounts by order index (context length) and count 0..3+, for raw counts. */
  readonly rawDiscounts: Float64Array;
  /** Discounts by order index (context length) and count 0..3+, for continuation counts. */
  readonly contDiscounts: Float64Array;

  // Context trie keyed by (parent context id, symbol), the symbol being the one further
  // back in time, so every suffix of a context is one of its ancestors. Root is id 0.
  private readonly trie: PairIndex;
  private readonly ctxCount: number;
  // Per context: raw total c(h) and continuation total N1+(.h.), with the back-off weight
  // gamma(h) = sum_k Dk Nk(h.) / total for each kind of count (Chen & Goodman eq. 19).
  private readonly rawTotal: Int32Array;
  private readonly contTotal: Int32Array;
  private readonly rawGamma: Float64Array;
  private readonly contGamma: Float64Array;
  // Children of each context in CSR form, sorted by symbol: start offsets, symbols, raw
  // counts c(hw) and continuation counts N1+(.hw).
  private readonly childStart: Int32Array;
  private readonly childSym: Int32Array;
  private readonly childRaw: Int32Array;
  private readonly childCont: Int32Array;
  // Scratch for the context ids of one query, by depth.
  private readonly nodes: Int32Array;

  private constructor(vocabSize: number, order: number, ids: Uint16Array, opts: KneserNeyOptions) {
    this.vocabSize = vocabSize;
    this.order = order;
    this.nodes = new Int32Array(order);
    const maxDepth = order - 1;
    const trie = new PairIndex(1 << 16);
    const events = new PairIndex(1 << 16);
    let raw = new Int32Array(1 << 16);
    let cont = new Int32Array(1 << 16);
    const path = new Int32Array(order);

    for (let i = 0; i < ids.length; i++) {
      const w = ids[i];
      const depth = Math.min(i, maxDepth);
      for (let d = 1; d <= depth; d++) path[d] = trie.add(path[d - 1], ids[i - d]) + 1;
      for (let d = 0; d <= depth; d++) {
        const e = events.add(path[d], w);
        if (e >= raw.length) {
          const r = new Int32Array(raw.length * 2);
          const c = new Int32Array(raw.length * 2);
          r.set(raw);
          c.set(cont);
          raw = r;
          cont = c;
        }
        raw[e]++;
      }
    }
    // Continuation count N1+(.hw): each distinct event with context xh (x one symbol further
    // back) is one distinct left extension of the event hw, whose context is its trie parent.
    const ctxCount = trie.size + 1;
    const depthOf = new Uint8Array(ctxCount);
    const parentOf = new Int32Array(ctxCount);
    for (let c = 1; c < ctxCount; c++) parentOf[c] = trie.keyA[c - 1];
    for (let c = 1; c < ctxCount; c++) depthOf[c] = depthOf[parentOf[c]] + 1;
    for (let e = 0; e < events.size; e++) {
      const c = events.keyA[e];
      if (c !== 0) cont[events.find(parentOf[c], events.keyB[e])]++;
    }

    // Count-of-counts n1..n4 per depth for raw and continuation counts, then the discounts.
    const variant = opts.variant ?? 'modified';
    const nRaw = new Float64Array(order * 5);
    const nCont = new Float64Array(order * 5);
    for (let e = 0; e < events.size; e++) {
      const base = depthOf[events.keyA[e]] * 5;
      if (raw[e] <= 4) nRaw[base + raw[e]]++;
      if (cont[e] <= 4) nCont[base + cont[e]]++;
    }
    this.rawDiscounts = new Float64Array(order * 4);
    this.contDiscounts = new Float64Array(order * 4);
    for (let d = 0; d <= maxDepth; d++) {
      const fixed = opts.discount;
      const dr = estimateDiscounts(nRaw.subarray(d * 5, d * 5 + 5), variant);
      const dc = estimateDiscounts(nCont.subarray(d * 5, d * 5 + 5), variant);
      for (let k = 1; k <= 3; k++) {
        this.rawDiscounts[d * 4 + k] = fixed === undefined ? dr[k] : Math.min(k, fixed);
        this.contDiscounts[d * 4 + k] = fixed === undefined ? dc[k] : Math.min(k, fixed);
      }
    }

    // Per-context totals, gammas and sorted child lists.
    this.ctxCount = ctxCount;
    this.trie = trie;
    const rawTotal = new Int32Array(ctxCount);
    const contTotal = new Int32Array(ctxCount);
    const rawMass = new Float64Array(ctxCount);
    const contMass = new Float64Array(ctxCount);
    const childStart = new Int32Array(ctxCount + 1);
    for (let e = 0; e < events.size; e++) {
      const c = events.keyA[e];
      const base = depthOf[c] * 4;
      childStart[c + 1]++;
      rawTotal[c] += raw[e];
      contTotal[c] += cont[e];
      rawMass[c] += this.rawDiscounts[base + Math.min(raw[e], 3)];
      contMass[c] += this.contDiscounts[base + Math.min(cont[e], 3)];
    }
    for (let c = 0; c < ctxCount; c++) childStart[c + 1] += childStart[c];
    const fill = childStart.slice(0, ctxCount);
    const childSym = new Int32Array(events.size);
    const childRaw = new Int32Array(events.size);
    const childCont = new Int32Array(events.size);
    for (let e = 0; e < events.size; e++) {
      const at = fill[events.keyA[e]]++;
      childSym[at] = events.keyB[e];
      childRaw[at] = raw[e];
      childCont[at] = cont[e];
    }
    for (let c = 0; c < ctxCount; c++) {
      // Insertion sort by symbol: lists are short (at most V) and mostly tiny.
      for (let i = childStart[c] + 1; i < childStart[c + 1]; i++) {
        const s = childSym[i];
        const r = childRaw[i];
        const n = childCont[i];
        let j = i - 1;
        while (j >= childStart[c] && childSym[j] > s) {
          childSym[j + 1] = childSym[j];
          childRaw[j + 1] = childRaw[j];
          childCont[j + 1] = childCont[j];
          j--;
        }
        childSym[j + 1] = s;
        childRaw[j + 1] = r;
        childCont[j + 1] = n;
      }
    }
    const rawGamma = new Float64Array(ctxCount);
    const contGamma = new Float64Array(ctxCount);
    for (let c = 0; c < ctxCount; c++) {
      rawGamma[c] = rawTotal[c] > 0 ? rawMass[c] / rawTotal[c] : 1;
      contGamma[c] = contTotal[c] > 0 ? contMass[c] / contTotal[c] : 1;
    }
    this.rawTotal = rawTotal;
    this.contTotal = contTotal;
    this.rawGamma = rawGamma;
    this.contGamma = contGamma;
    this.childStart = childStart;
    this.childSym = childSym;
    this.childRaw = childRaw;
    this.childCont = childCont;
  }

  /** Counts n-grams of `ids` (symbols 0..vocabSize-1) up to `order` and builds the model. */
  static train(
    ids: Uint16Array,
    vocabSize: number,
    order: number,
    options: KneserNeyOptions = {},
  ): KneserNey {
    if (!Number.isInteger(order) || order < 1 || order > MAX_NGRAM_ORDER) {
      throw new SnnlmError(
        `n-gram order ${order} is out of range`,
        `use an integer from 1 to ${MAX_NGRAM_ORDER}`,
      );
    }
    if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 65536) {
      throw new SnnlmError(
        `vocabulary size ${vocabSize} is out of range`,
        'use an integer from 1 to 65536',
      );
    }
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] >= vocabSize) {
        throw new SnnlmError(
          `symbol id ${ids[i]} at position ${i} is not below the vocabulary size ${vocabSize}`,
          'encode the text with the same vocabulary whose size is passed to train()',
        );
      }
    }
    const d = options.discount;
    if (d !== undefined && !(d >= 0 && d <= 3)) {
      throw new SnnlmError(`discount ${d} is out of range`, 'use a number from 0 to 3');
    }
    return new KneserNey(vocabSize, order, ids, options);
  }

  /** Number of distinct contexts (including the empty one) the model stores. */
  get contextCount(): number {
    return this.ctxCount;
  }

  /**
   * Fills this.nodes with the context ids for depths 0..top found in the trie, reading the
   * history backwards from seq[end - 1] with `avail` symbols available. Returns top, negated
   * minus one when the top level must use continuation counts (the full requested context
   * was not seen, so it is a back-off estimate rather than a maximum-likelihood one).
   */
  private locate(seq: ArrayLike<number>, end: number, avail: number): number {
    const want = Math.min(avail, this.order - 1);
    const nodes = this.nodes;
    nodes[0] = 0;
    let top = 0;
    while (top < want) {
      const id = this.trie.find(nodes[top], seq[end - top - 1]);
      if (id < 0) break;
      nodes[++top] = id + 1;
    }
    return top === want ? top : -top - 1;
  }

  private findChild(c: number, w: number): number {
    let lo = this.childStart[c];
    let hi = this.childStart[c + 1] - 1;
    const sym = this.childSym;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = sym[mid];
      if (s === w) return mid;
      if (s < w) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private probAt(located: number, w: number): number {
    const full = located >= 0;
    const top = full ? located : -located - 1;
    // Bottom of the interpolation: uniform over the vocabulary, so unseen symbols get mass.
    let p = 1 / this.vocabSize;
    for (let d = 0; d <= top; d++) {
      const c = this.nodes[d];
      const useRaw = full && d === top;
      const total = useRaw ? this.rawTotal[c] : this.contTotal[c];
      if (total === 0) continue;
      const at = this.findChild(c, w);
      const n = at < 0 ? 0 : useRaw ? this.childRaw[at] : this.childCont[at];
      const disc = useRaw ? this.rawDiscounts : this.contDiscounts;
      const gamma = useRaw ? this.rawGamma[c] : this.contGamma[c];
      p = (n - disc[d * 4 + Math.min(n, 3)]) / total + gamma * p;
    }
    return p;
  }

  private distributionAt(located: number, out: Float64Array): void {
    const full = located >= 0;
    const top = full ? located : -located - 1;
    const v = this.vocabSize;
    out.fill(1 / v, 0, v);
    for (let d = 0; d <= top; d++) {
      const c = this.nodes[d];
      const useRaw = full && d === top;
      const total = useRaw ? this.rawTotal[c] : this.contTotal[c];
      if (total === 0) continue;
      const gamma = useRaw ? this.rawGamma[c] : this.contGamma[c];
      const counts = useRaw ? this.childRaw : this.childCont;
      const disc = useRaw ? this.rawDiscounts : this.contDiscounts;
      for (let w = 0; w < v; w++) out[w] *= gamma;
      for (let i = this.childStart[c]; i < this.childStart[c + 1]; i++) {
        const n = counts[i];
        out[this.childSym[i]] += (n - disc[d * 4 + Math.min(n, 3)]) / total;
      }
    }
  }

  private checkSymbol(next: number): void {
    if (!Number.isInteger(next) || next < 0 || next >= this.vocabSize) {
      throw new SnnlmError(
        `symbol id ${next} is not in the vocabulary of size ${this.vocabSize}`,
        'encode text with the vocabulary the model was trained with',
      );
    }
  }

  /** Probability of symbol `next` after `context` (only its last order - 1 symbols matter). */
  prob(context: ArrayLike<number>, next: number): number {
    this.checkSymbol(next);
    return this.probAt(this.locate(context, context.length, context.length), next);
  }

  /** Writes the full next-symbol distribution after `context` into out[0..vocabSize-1]. */
  distribution(context: ArrayLike<number>, out: Float64Array): void {
    if (out.length < this.vocabSize) {
      throw new SnnlmError(
        `output array of length ${out.length} is shorter than the vocabulary`,
        `pass a Float64Array of length ${this.vocabSize}`,
      );
    }
    this.distributionAt(this.locate(context, context.length, context.length), out);
  }

  /** Distribution for position `end` of `seq`, with history seq[0..end) (internal use). */
  distributionInSequence(seq: Uint16Array, end: number, out: Float64Array): void {
    this.distributionAt(this.locate(seq, end, end), out);
  }
}

/**
 * Scores every position of a held-out sequence from its own start (early positions use the
 * shorter history available). Symbols must be below the model's vocabulary size.
 */
export function evaluateNgram(model: KneserNey, ids: Uint16Array): NgramScore {
  const v = model.vocabSize;
  const dist = new Float64Array(v);
  let bits = 0;
  let correct = 0;
  for (let i = 0; i < ids.length; i++) {
    const target = ids[i];
    if (target >= v) {
      throw new SnnlmError(
        `symbol id ${target} at position ${i} is not below the vocabulary size ${v}`,
        'map characters missing from the training vocabulary to the unknown id',
      );
    }
    model.distributionInSequence(ids, i, dist);
    let best = 0;
    for (let w = 1; w < v; w++) if (dist[w] > dist[best]) best = w;
    if (best === target) correct++;
    bits -= Math.log2(dist[target]);
  }
  const chars = ids.length;
  const bpc = chars > 0 ? bits / chars : 0;
  return { bpc, perplexity: 2 ** bpc, accuracy: chars > 0 ? correct / chars : 0, chars };
}
