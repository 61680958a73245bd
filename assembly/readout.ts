// Dense linear-algebra kernels of the readout. Matrices are row-major f32.
// Inner dimensions are multiples of 4 (the TypeScript side pads features).

/**
 * C[M][N] (+)= A[M][K] · B[N][K]ᵀ. Each row of A meets four rows of B at a time,
 * so one load of A feeds four independent accumulators.
 */
export function matmulNT(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  accumulate: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= m; i += 2) block2(a, b, c, i, m, n, k, accumulate);
  }
  for (; i < m; i++) row1(a, b, c, i, n, k, accumulate);
}

// Two rows of A against four rows of B: eight independent accumulators, and
// six loads feed eight multiply-adds.
function block2(
  a: usize,
  b: usize,
  c: usize,
  i: i32,
  m: i32,
  n: i32,
  k: i32,
  accumulate: bool,
): void {
  const rowBytes = <usize>k << 2;
  const a0 = a + <usize>i * rowBytes;
  const a1 = a0 + rowBytes;
  const c0 = c + ((<usize>i * <usize>n) << 2);
  const c1 = c0 + (<usize>n << 2);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const b0 = b + <usize>j * rowBytes;
    const b1 = b0 + rowBytes;
    const b2 = b1 + rowBytes;
    const b3 = b2 + rowBytes;
    let s00 = f32x4.splat(0);
    let s01 = f32x4.splat(0);
    let s02 = f32x4.splat(0);
    let s03 = f32x4.splat(0);
    let s10 = f32x4.splat(0);
    let s11 = f32x4.splat(0);
    let s12 = f32x4.splat(0);
    let s13 = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const x0 = v128.load(a0 + o);
      const x1 = v128.load(a1 + o);
      const y0 = v128.load(b0 + o);
      const y1 = v128.load(b1 + o);
      const y2 = v128.load(b2 + o);
      const y3 = v128.load(b3 + o);
      s00 = f32x4.add(s00, f32x4.mul(x0, y0));
      s01 = f32x4.add(s01, f32x4.mul(x0, y1));
      s02 = f32x4.add(s02, f32x4.mul(x0, y2));
      s03 = f32x4.add(s03, f32x4.mul(x0, y3));
      s10 = f32x4.add(s10, f32x4.mul(x1, y0));
      s11 = f32x4.add(s11, f32x4.mul(x1, y1));
      s12 = f32x4.add(s12, f32x4.mul(x1, y2));
      s13 = f32x4.add(s13, f32x4.mul(x1, y3));
    }
    put4(c0 + (<usize>j << 2), hsum(s00), hsum(s01), hsum(s02), hsum(s03), accumulate);
    put4(c1 + (<usize>j << 2), hsum(s10), hsum(s11), hsum(s12), hsum(s13), accumulate);
  }
  for (; j < n; j++) {
    const bj = b + <usize>j * rowBytes;
    put1(c0 + (<usize>j << 2), dot(a0, bj, k), accumulate);
    put1(c1 + (<usize>j << 2), dot(a1, bj, k), accumulate);
  }
}

// One row of A against each row of B.
function row1(a: usize, b: usize, c: usize, i: i32, n: i32, k: i32, accumulate: bool): void {
  const rowBytes = <usize>k << 2;
  const ai = a + <usize>i * rowBytes;
  const ci = c + ((<usize>i * <usize>n) << 2);
  for (let j = 0; j < n; j++) put1(ci + (<usize>j << 2), dot(ai, b + <usize>j * rowBytes, k), accumulate);
}

// @ts-ignore: decorator
@inline
function put4(at: usize, d0: f32, d1: f32, d2: f32, d3: f32, accumulate: bool): void {
  if (accumulate) {
    d0 += load<f32>(at);
    d1 += load<f32>(at, 4);
    d2 += load<f32>(at, 8);
    d3 += load<f32>(at, 12);
  }
  store<f32>(at, d0);
  store<f32>(at, d1, 4);
  store<f32>(at, d2, 8);
  store<f32>(at, d3, 12);
}

// @ts-ignore: decorator
@inline
function put1(at: usize, d: f32, accumulate: bool): void {
  store<f32>(at, accumulate ? d + load<f32>(at) : d);
}

/** Σ x[i]·y[i] over k floats (k a multiple of 4). */
export function dot(x: usize, y: usize, k: i32): f32 {
  const bytes = <usize>k << 2;
  if (ASC_FEATURE_SIMD) {
    // One accumulator, as in block2, so that every output of matmulNT is summed
    // in the same order whichever path computes it (threads split rows freely).
    let s = f32x4.splat(0);
    for (let o: usize = 0; o < bytes; o += 16) {
      s = f32x4.add(s, f32x4.mul(v128.load(x + o), v128.load(y + o)));
    }
    return hsum(s);
  }
  let d: f32 = 0;
  for (let o: usize = 0; o < bytes; o += 4) d += load<f32>(x + o) * load<f32>(y + o);
  return d;
}

/** dst[j][i] = src[i][j] for i < m, j < n; rows of dst are ld floats apart. */
export function transpose(src: usize, dst: usize, m: i32, n: i32, ld: i32): void {
  const rowBytes = <usize>n << 2;
  const ldBytes = <usize>ld << 2;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // 4 × 4 blocks: four row loads, eight shuffles, four column stores.
    for (; i + 4 <= m; i += 4) {
      const r0 = src + <usize>i * rowBytes;
      const r1 = r0 + rowBytes;
      const r2 = r1 + rowBytes;
      const r3 = r2 + rowBytes;
      const d = dst + (<usize>i << 2);
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j << 2;
        const a = v128.load(r0 + o);
        const b = v128.load(r1 + o);
        const c = v128.load(r2 + o);
        const e = v128.load(r3 + o);
        const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
        const ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
        const ce01 = v128.shuffle<f32>(c, e, 0, 4, 1, 5);
        const ce23 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
        const at = d + <usize>j * ldBytes;
        v128.store(at, v128.shuffle<f32>(ab01, ce01, 0, 1, 4, 5));
        v128.store(at + ldBytes, v128.shuffle<f32>(ab01, ce01, 2, 3, 6, 7));
        v128.store(at + 2 * ldBytes, v128.shuffle<f32>(ab23, ce23, 0, 1, 4, 5));
        v128.store(at + 3 * ldBytes, v128.shuffle<f32>(ab23, ce23, 2, 3, 6, 7));
      }
      for (; j < n; j++) {
        const at = d + <usize>j * ldBytes;
        const o = <usize>j << 2;
        store<f32>(at, load<f32>(r0 + o));
        store<f32>(at, load<f32>(r1 + o), 4);
        store<f32>(at, load<f32>(r2 + o), 8);
        store<f32>(at, load<f32>(r3 + o), 12);
      }
    }
  }
  for (; i < m; i++) {
    const row = src + <usize>i * rowBytes;
    for (let j = 0; j < n; j++) {
      store<f32>(dst + <usize>j * ldBytes + (<usize>i << 2), load<f32>(row + (<usize>j << 2)));
    }
  }
}

/**
 * One Adam step with decoupled weight decay (Loshchilov & Hutter 2019) over
 * count floats (a multiple of 4): m ← β1 m + (1-β1) g, s ← β2 s + (1-β2) g²,
 * w ← w - lr (m̂ / (√ŝ + ε) + wd·w), with bias corrections c1 = 1/(1-β1^t),
 * c2 = 1/(1-β2^t) passed in.
 */
export function adamStep(
  count: i32,
  w: usize,
  g: usize,
  m: usize,
  s: usize,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  wd: f32,
  c1: f32,
  c2: f32,
): void {
  const bytes = <usize>count << 2;
  if (ASC_FEATURE_SIMD) {
    const b1 = f32x4.splat(beta1);
    const b1c = f32x4.splat(1 - beta1);
    const b2 = f32x4.splat(beta2);
    const b2c = f32x4.splat(1 - beta2);
    const vlr = f32x4.splat(lr);
    const veps = f32x4.splat(eps);
    const vwd = f32x4.splat(wd);
    const vc1 = f32x4.splat(c1);
    const vc2 = f32x4.splat(c2);
    for (let o: usize = 0; o < bytes; o += 16) {
      const gi = v128.load(g + o);
      const mi = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(b1c, gi));
      const si = f32x4.add(f32x4.mul(b2, v128.load(s + o)), f32x4.mul(b2c, f32x4.mul(gi, gi)));
      v128.store(m + o, mi);
      v128.store(s + o, si);
      const wi = v128.load(w + o);
      const step = f32x4.add(
        f32x4.div(f32x4.mul(mi, vc1), f32x4.add(f32x4.sqrt(f32x4.mul(si, vc2)), veps)),
        f32x4.mul(vwd, wi),
      );
      v128.store(w + o, f32x4.sub(wi, f32x4.mul(vlr, step)));
    }
  } else {
    for (let o: usize = 0; o < bytes; o += 4) {
      const gi = load<f32>(g + o);
      const mi = beta1 * load<f32>(m + o) + (1 - beta1) * gi;
      const si = beta2 * load<f32>(s + o) + (1 - beta2) * gi * gi;
      store<f32>(m + o, mi);
      store<f32>(s + o, si);
      const wi = load<f32>(w + o);
      const step = (mi * c1) / (Mathf.sqrt(si * c2) + eps) + wd * wi;
      store<f32>(w + o, wi - lr * step);
    }
  }
}

// @ts-ignore: decorator
@inline
function hsum(s: v128): f32 {
  return (
    f32x4.extract_lane(s, 0) +
    f32x4.extract_lane(s, 1) +
    (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3))
  );
}

/**
 * Standardises feature rows in place: x[r][i] ← (x[r][i] − mean[i]) · scale[i]
 * for i < k (a multiple of 4), rows `stride` floats apart. Membrane potentials
 * of neurons with long time constants reach tens of threshold units while
 * spike rates stay in [0, 1]; without this the readout's optimiser sees
 * features on very different scales.
 */
export function standardize(
  x: usize,
  rows: i32,
  stride: i32,
  k: i32,
  mean: usize,
  scale: usize,
): void {
  const bytes = <usize>k << 2;
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>stride) << 2);
    if (ASC_FEATURE_SIMD) {
      for (let o: usize = 0; o < bytes; o += 16) {
        const d = f32x4.sub(v128.load(row + o), v128.load(mean + o));
        v128.store(row + o, f32x4.mul(d, v128.load(scale + o)));
      }
    } else {
      for (let o: usize = 0; o < bytes; o += 4) {
        store<f32>(row + o, (load<f32>(row + o) - load<f32>(mean + o)) * load<f32>(scale + o));
      }
    }
  }
}

/**
 * Softmax cross-entropy of rows a[rows][v] against targets, for a minibatch.
 * Target r is the u16 at targets + r·targetStride bytes. Writes, per row, the
 * negative log-likelihood in nats (nll[r]) and whether the target was the most
 * probable symbol (hit[r] = 1 or 0), and the gradient of the mean loss with
 * respect to the logits, transposed: gT[j][r] = (p_j − [j = target]) · scale,
 * rows of gT ldg floats apart. Rows are independent, so threads may split them.
 */
export function softmaxXent(
  a: usize,
  rows: i32,
  v: i32,
  targets: usize,
  targetStride: i32,
  gT: usize,
  ldg: i32,
  scale: f32,
  nll: usize,
  hit: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const row = a + ((<usize>r * <usize>v) << 2);
    const t = <i32>load<u16>(targets + <usize>r * <usize>targetStride);
    let max = load<f32>(row);
    let arg = 0;
    for (let j = 1; j < v; j++) {
      const z = load<f32>(row + (<usize>j << 2));
      if (z > max) {
        max = z;
        arg = j;
      }
    }
    // −ln p_t = ln Σ e^(z_j − max) − (z_t − max): no underflow of p_t.
    const zt = load<f32>(row + (<usize>t << 2)) - max;
    let sum: f32 = 0;
    for (let j = 0; j < v; j++) {
      const e = Mathf.exp(load<f32>(row + (<usize>j << 2)) - max);
      store<f32>(row + (<usize>j << 2), e);
      sum += e;
    }
    const inv: f32 = 1 / sum;
    store<f32>(nll + (<usize>r << 2), Mathf.log(sum) - zt);
    store<i32>(hit + (<usize>r << 2), arg == t ? 1 : 0);
    for (let j = 0; j < v; j++) {
      const g = load<f32>(row + (<usize>j << 2)) * inv - (j == t ? <f32>1 : <f32>0);
      store<f32>(gT + ((<usize>j * <usize>ldg + <usize>r) << 2), g * scale);
    }
  }
}
