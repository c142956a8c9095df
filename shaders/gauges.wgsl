// Per-sample gauges of the Cockpit kind (Schneider, Dangel & Hennig 2021): the sums behind the
// gradient signal-to-noise ratio, the norm / inner-product / orthogonality tests of batch-size
// adequacy and the step's position α on a noisy quadratic fit, from one minibatch's per-sample
// gradients, never forming a P-sized vector per sample (src/instruments/gauges.ts has the formulas
// that use these sums).
//
// A dense layer z_n = a_n·W (+ b) has the per-sample gradient g_n = [a_n, 1?] ⊗ δ_n with δ_n =
// ∂l_n/∂z_n; training stores dz_n = grad_scale·δ_n (grad_scale = 1/B, src/train/step-view.ts).
// Each layer keeps V = (3, P) (rows `vstride` floats apart, 256-byte aligned): row 0 the minibatch
// gradient ḡ, row 1 the weights θ (both copied in for this step), row 2 the previous measured
// step's direction d (written by layer_dots). The per-sample projections g_n·V_j = [a_n, 1?]ᵀ·V_j·δ_n
// go through the training's own dense_forward kernel, Y_j = [A, 1?]·V_j (B, N) per direction (the
// same B·K·N multiply-adds as a forward pass, register-tiled), and then
//
//   row_dots (one layer):    s[at + 3n + j] = S[n, j] = Σ_m Y_j[n, m]·dz[n, m] = grad_scale·g_n·V_j
//   layer_dots (one layer):  out[at .. at + 5] = [Σ_n |g_n|², ḡ·ḡ, ḡ·θ, θ·θ, θ·d, d·d]
//                            with Σ_n |g_n|² = Σ_n (|a_n|² + HAS_BIAS)·|dz_n|² / grad_scale²,
//                            then d ← −(ḡ + decay·θ): the direction of this step's update (μ = 0)
//   combine (all layers):    per sample p_j = Σ_l S_l[n, j] / grad_scale (the network's g_n·V_j),
//                            w = p_0 + decay·p_1 (= g_n·(ḡ + λθ)), l_n the sample's loss;
//                            out[at .. at + 7] = [Σ l, Σ (l − l̄)², Σ p_0, Σ (p_0 − p̄_0)²,
//                                                 Σ w, Σ (w − w̄)², Σ p_2, Σ (p_2 − p̄_2)²]
//                            (two passes: the mean first, then centred squares, so no cancellation)
//   gsnr (one layer):        per parameter i, m2_i = (1/B)·Σ_n g_n,i², ḡ_i, σ_i² = m2_i − ḡ_i²,
//                            r_i = ḡ_i²/σ_i² (Cockpit's MeanGSNR without ε; Liu et al. 2020).
//                            σ_i² ≤ 1e-6·m2_i (float32 cancellation) counts as r_i = R_MAX; m2_i = 0
//                            (every sample's gradient is 0: a dead unit) is left out.
//                            out[at .. at + 2] = [Σ min(r_i, R_MAX), #defined, #(r_i > 1)],
//                            out[at + 3 + b] = parameters in bin b of log10 r: bin 0 below LOG_LO
//                            (r = 0 included), bins 1 .. HIST − 2 equal in log10 r over
//                            [LOG_LO, LOG_HI), bin HIST − 1 at or above LOG_HI.
//
// Shapes: a is (B, K), dz (B, N), v (3, vstride) with P = (K + HAS_BIAS)·N ≤ vstride, ys (3, ystride)
// with Y_j's (B, N) in row j, grad (P,), s (L·stride) with layer l's (B, 3) at l·stride, losses
// (B,), out as large as the highest `at` used needs.
// Every entry runs as ONE workgroup: threads take strided shares, tree reductions go through
// workgroup memory (written before read), histogram counts through workgroup atomics (zeroed
// first). Loops stop at the row / block counts and the buffers' lengths; stores are masked.

override WG: u32 = 64;             // threads of the single workgroup (a power of two)
override HAS_BIAS: bool = false;   // the layer's block has a bias row: a is extended with a 1
override HIST: u32 = 34;           // gsnr: histogram bins, under- and overflow included (≥ 3)
override LOG_LO: f32 = -6.0;       // gsnr: log10 r at the lower edge of bin 1
override LOG_HI: f32 = 2.0;        // gsnr: log10 r at the lower edge of the overflow bin
override R_MAX: f32 = 1e6;         // gsnr: the value an r beyond float32's resolution counts as

struct Params {
  rows: u32,         // B: samples of the minibatch
  k: u32,            // K: input features of the layer (layer_dots, gsnr)
  n: u32,            // N: output features of the layer (layer_dots, gsnr)
  p: u32,            // P: floats of the layer's block, (K + HAS_BIAS)·N (layer_dots, gsnr)
  at: u32,           // first float of out this dispatch writes (row_dots: of s, the layer's S block)
  layers: u32,       // combine: L, layers whose S blocks are summed
  stride: u32,       // combine: floats between consecutive layers' S blocks
  vstride: u32,      // layer_dots: floats between the rows of v (≥ P)
  ystride: u32,      // row_dots: floats between the rows of y (≥ B·N)
  grad_scale: f32,   // dz = grad_scale·δ and S = grad_scale·g·V (1/B in training)
  decay: f32,        // λ, the weight decay: the step's direction is −(ḡ + λ·θ)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;             // (B, K) the layer's input
@group(0) @binding(2) var<storage, read> dz: array<f32>;            // (B, N) ∂L_B/∂z = grad_scale·δ
@group(0) @binding(3) var<storage, read_write> v: array<f32>;       // (3, P) ḡ, θ, d of the layer (layer_dots rewrites d)
@group(0) @binding(4) var<storage, read> grad: array<f32>;          // (P,) the layer's block of ḡ (gsnr)
@group(0) @binding(5) var<storage, read_write> s: array<f32>;       // (L·stride) per-layer S = (B, 3) projections (row_dots writes, combine reads)
@group(0) @binding(6) var<storage, read> losses: array<f32>;        // (B,) per-sample losses l_n (combine)
@group(0) @binding(7) var<storage, read_write> out: array<f32>;     // the measured step's floats
@group(0) @binding(8) var<storage, read> ys: array<f32>;            // (3, ystride) Y_j = [A, 1?]·V_j of the layer (row_dots)

var<workgroup> part: array<vec4f, WG>;
var<workgroup> part2: array<vec4f, WG>;
var<workgroup> hist: array<atomic<u32>, HIST>;

// Tree sum of part and part2 over the workgroup; every thread gets the totals.
fn reduce2(lid: u32, x: vec4f, y: vec4f) -> array<vec4f, 2> {
  part[lid] = x;
  part2[lid] = y;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      part[lid] = part[lid] + part[lid + stride];
      part2[lid] = part2[lid] + part2[lid + stride];
    }
    workgroupBarrier();
  }
  let r = array<vec4f, 2>(part[0], part2[0]);
  workgroupBarrier();
  return r;
}

fn put(i: u32, x: f32) {
  if (i < arrayLength(&out)) { out[i] = x; }
}

@compute @workgroup_size(WG)
fn row_dots(@builtin(local_invocation_index) lid: u32) {
  let N = params.n;
  let YS = params.ystride;
  let B = min(params.rows, arrayLength(&dz) / max(N, 1u));
  for (var r = lid; r < B; r = r + WG) {
    var acc = vec3f(0.0);
    for (var m = 0u; m < N; m++) {
      let i = r * N + m;
      if (2u * YS + i >= arrayLength(&ys)) { break; }
      acc = acc + dz[i] * vec3f(ys[i], ys[YS + i], ys[2u * YS + i]);
    }
    let o = params.at + 3u * r;
    if (o + 2u < arrayLength(&s)) {
      s[o] = acc.x;
      s[o + 1u] = acc.y;
      s[o + 2u] = acc.z;
    }
  }
}

@compute @workgroup_size(WG)
fn layer_dots(@builtin(local_invocation_index) lid: u32) {
  let K = params.k;
  let N = params.n;
  let B = min(params.rows, min(arrayLength(&a) / max(K, 1u), arrayLength(&dz) / max(N, 1u)));
  var norms = 0.0;
  for (var r = lid; r < B; r = r + WG) {
    var aa = select(0.0, 1.0, HAS_BIAS);
    for (var i = 0u; i < K; i++) { let x = a[r * K + i]; aa = fma(x, x, aa); }
    var dd = 0.0;
    for (var j = 0u; j < N; j++) { let x = dz[r * N + j]; dd = fma(x, x, dd); }
    norms = fma(aa, dd, norms);
  }
  let VS = params.vstride;
  let room = select(0u, arrayLength(&v) - 2u * VS, arrayLength(&v) >= 2u * VS);  // row 2 must fit
  let P = min(params.p, min(VS, room));
  var x = vec4f(norms / (params.grad_scale * params.grad_scale), 0.0, 0.0, 0.0);  // Σ|g_n|², ḡ·ḡ, ḡ·θ, θ·θ
  var e = vec4f(0.0);                                                              // θ·d, d·d
  for (var i = lid; i < P; i = i + WG) {
    let g = v[i];
    let th = v[VS + i];
    let d = v[2u * VS + i];
    x = x + vec4f(0.0, g * g, g * th, th * th);
    e = e + vec4f(th * d, d * d, 0.0, 0.0);
    // This element's old d has been read (by this thread only): the new direction replaces it.
    v[2u * VS + i] = -(g + params.decay * th);
  }
  let t = reduce2(lid, x, e);
  if (lid == 0u) {
    put(params.at, t[0].x);
    put(params.at + 1u, t[0].y);
    put(params.at + 2u, t[0].z);
    put(params.at + 3u, t[0].w);
    put(params.at + 4u, t[1].x);
    put(params.at + 5u, t[1].y);
  }
}

// Sample n's projections on ḡ, θ, d summed over the layers (p_0, p_1, p_2), unscaled.
fn projections(n: u32) -> vec3f {
  var p = vec3f(0.0);
  for (var l = 0u; l < params.layers; l++) {
    let at = l * params.stride + 3u * n;
    if (at + 2u < arrayLength(&s)) { p = p + vec3f(s[at], s[at + 1u], s[at + 2u]); }
  }
  return p / params.grad_scale;
}

@compute @workgroup_size(WG)
fn combine(@builtin(local_invocation_index) lid: u32) {
  let B = min(params.rows, arrayLength(&losses));
  var x = vec4f(0.0);  // Σ l, Σ p_0, Σ w, Σ p_2
  for (var n = lid; n < B; n = n + WG) {
    let p = projections(n);
    x = x + vec4f(losses[n], p.x, p.x + params.decay * p.y, p.z);
  }
  let sums = reduce2(lid, x, vec4f(0.0))[0];
  let mean = sums / f32(max(B, 1u));
  var y = vec4f(0.0);  // centred squares
  for (var n = lid; n < B; n = n + WG) {
    let p = projections(n);
    let e = vec4f(losses[n], p.x, p.x + params.decay * p.y, p.z) - mean;
    y = y + e * e;
  }
  let sq = reduce2(lid, y, vec4f(0.0))[0];
  if (lid == 0u) {
    put(params.at, sums.x);
    put(params.at + 1u, sq.x);
    put(params.at + 2u, sums.y);
    put(params.at + 3u, sq.y);
    put(params.at + 4u, sums.z);
    put(params.at + 5u, sq.z);
    put(params.at + 6u, sums.w);
    put(params.at + 7u, sq.w);
  }
}

@compute @workgroup_size(WG)
fn gsnr(@builtin(local_invocation_index) lid: u32) {
  for (var b = lid; b < HIST; b = b + WG) { atomicStore(&hist[b], 0u); }
  workgroupBarrier();
  let K = params.k;
  let N = params.n;
  let B = min(params.rows, min(arrayLength(&a) / max(K, 1u), arrayLength(&dz) / max(N, 1u)));
  let P = min(params.p, arrayLength(&grad));
  let inv = 1.0 / (params.grad_scale * params.grad_scale * f32(max(B, 1u)));
  var x = vec4f(0.0);  // Σ min(r, R_MAX), #defined, #(r > 1)
  for (var i = lid; i < P; i = i + WG) {
    let kk = i / N;
    let m = i - kk * N;
    var s2 = 0.0;
    for (var r = 0u; r < B; r++) {
      let av = select(a[r * K + min(kk, K - 1u)], 1.0, kk >= K);
      let dv = dz[r * N + m];
      let gv = av * dv;
      s2 = fma(gv, gv, s2);
    }
    let m2 = s2 * inv;
    if (m2 <= 0.0) { continue; }
    let g = grad[i];
    let sigma2 = m2 - g * g;
    var ratio = R_MAX;
    if (sigma2 > 1e-6 * m2) { ratio = min(g * g / sigma2, R_MAX); }
    var bin = 0u;
    if (ratio > 0.0) {
      let pos = (log2(ratio) * 0.30102999566 - LOG_LO) / (LOG_HI - LOG_LO) * f32(HIST - 2u);
      bin = u32(clamp(floor(pos) + 1.0, 0.0, f32(HIST - 1u)));
    }
    atomicAdd(&hist[bin], 1u);
    x = x + vec4f(ratio, 1.0, select(0.0, 1.0, ratio > 1.0), 0.0);
  }
  let t = reduce2(lid, x, vec4f(0.0))[0];
  if (lid == 0u) {
    put(params.at, t.x);
    put(params.at + 1u, t.y);
    put(params.at + 2u, t.z);
  }
  for (var b = lid; b < HIST; b = b + WG) { put(params.at + 3u + b, f32(atomicLoad(&hist[b]))); }
}
