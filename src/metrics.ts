// Held-out scores. Every model in snnlm reports the same four numbers.

/** Scores on a held-out text. */
export interface Metrics {
  /** Bits per character: mean of −log₂ p(next character). */
  bpc: number;
  /** Perplexity per character: 2^bpc = exp(mean −ln p). */
  perplexity: number;
  /** Top-1 accuracy: how often the most probable character was the next one. */
  accuracy: number;
  /** Characters scored. */
  chars: number;
}

/** Running sums from which Metrics are made. */
export class Score {
  nats = 0;
  correct = 0;
  chars = 0;

  /** Adds one prediction: the probability given to the true next character, and a hit. */
  add(pTrue: number, hit: boolean): void {
    this.nats -= Math.log(pTrue);
    if (hit) this.correct++;
    this.chars++;
  }

  /** Adds one prediction given its negative log-likelihood in nats. */
  addNats(nats: number, hit: boolean): void {
    this.nats += nats;
    if (hit) this.correct++;
    this.chars++;
  }

  metrics(): Metrics {
    return metricsFromNats(this.nats, this.correct, this.chars);
  }
}

/** Metrics from a summed negative log-likelihood in nats. */
export function metricsFromNats(nats: number, correct: number, chars: number): Metrics {
  const bpc = chars > 0 ? nats / chars / Math.LN2 : Number.NaN;
  return { bpc, perplexity: 2 ** bpc, accuracy: chars > 0 ? correct / chars : Number.NaN, chars };
}

/**
 * Softmax of row r of logits [rows][V] at temperature-scale beta, in place into
 * `out`; returns the index of the largest logit. Subtracts the max for stability.
 */
export function softmaxRow(
  logits: Float32Array,
  r: number,
  v: number,
  beta: number,
  out: Float64Array,
): number {
  const base = r * v;
  let max = Number.NEGATIVE_INFINITY;
  let arg = 0;
  for (let j = 0; j < v; j++) {
    const z = logits[base + j];
    if (z > max) {
      max = z;
      arg = j;
    }
  }
  let sum = 0;
  for (let j = 0; j < v; j++) {
    const e = Math.exp(beta * (logits[base + j] - max));
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < v; j++) out[j] /= sum;
  return arg;
}
