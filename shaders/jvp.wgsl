// Jacobian–vector products through random deep networks at initialisation (Jacobian spectra,
// Pennington, Schoenholz & Ganguli 2017; curve lengths, Poole et al. 2016), with the layers'
// weights made on the GPU one layer at a time (src/experiments/propagation/gpu-jvp.ts).
//
// The network (S networks side by side, width N, every layer N → N):
//   h^l = φ(h^{l−1})·W^l + b^l          primal rows (P per network)
//   t^l = (φ'(h^{l−1}) ⊙ t^{l−1})·W^l    tangent rows (T per network), t = ∂h/∂(input) · direction;
//                                       tangent row r moves with primal row ⌊r / R⌋ (R = T / P)
// The products ·W^l are dense_forward.wgsl on the (N + 1, N) block [W; b] this file writes; here:
//
//   fill:        z[s, k, n] = scale(k) · normal2(counter (⌊n/2⌋, k), key (seed + s, layer))
//                (n even: the first draw, n odd: the second), scale = scale_w for k < N and scale_b
//                for the bias row k = N: exactly randnet.wgsl's Gaussian weights of that key
//                (scale_w = σ_w/√N), or the raw draws (scale 1) for an orthogonal layer.
//   householder: for each column k of the raw z (the Gaussian vector x = z[k.., k] of length N − k):
//                α = |x|, σ = sign(x_0), v = x + σα e_0 (only its first entry differs from z),
//                τ = 2/|v|² = 1/(α(α + |x_0|)), d = −σ;  coef[s] = (τ (N,), v_kk (N,), d (N,)).
//   orthogonal:  w = σ_w·Q with Q = H_0 H_1 ⋯ H_{N−1}·diag(d), H_k = I − τ_k v_k v_kᵀ (v_k zero
//                above row k), and the bias row w[N, ·] = σ_b·z[N, ·]. With iid Gaussian x's this
//                is the Q of the QR decomposition of a Gaussian matrix with R's diagonal made
//                positive (Stewart 1980; Mezzadri 2007): Haar-distributed on O(N). Thread j forms
//                column j backwards, Q e_j = H_0(⋯ H_j (d_j e_j)) (H_k leaves e_j alone for k > j):
//                (4/3)N³ flops per layer, no workgroup memory.
//   prep:        per row, in place of a layer's nonlinearity:
//                  primal r:   y[s, r, i] = φ(h[s, r, i]),                  stats = Σ_i h[s, r, i]²
//                  tangent r:  u[s, r, i] = φ'(h[s, ⌊r/R⌋, i]) · t[s, r, i], stats = Σ_i t[s, r, i]²
//                stats[stats_offset + s·(P + T) + row] with primal rows first (row = r) then the
//                tangent rows (row = P + r): the squared lengths of this layer's h and t.
//
// φ: 0 identity, 1 relu, 2 tanh (codes of dense_forward.wgsl). Shapes, per network s at s·stride:
// h, y (P, N) at h_stride; t, u (T, N) at t_stride; z, w (N + 1, N) at w_stride; coef 3N floats at
// 3N·s. Strides are padded by the host so every network's block starts 256-byte aligned (it is
// bound alone to dense_forward). Loads are clamped or guarded and stores masked (robustness is off).

override WG: u32 = 64;   // threads per workgroup (a power of two: prep's tree reduction)
override ACT: u32 = 2;   // φ: 0 identity, 1 relu, 2 tanh

struct Params {
  n: u32,             // N: width (fan-in = fan-out of every layer)
  nets: u32,          // S: networks (workgroups along z)
  p_rows: u32,        // P: primal rows per network
  t_rows: u32,        // T: tangent rows per network
  per_primal: u32,    // R = T / P: tangent row r belongs to primal row ⌊r / R⌋
  h_stride: u32,      // floats between networks' (P, N) blocks of h and y
  t_stride: u32,      // floats between networks' (T, N) blocks of t and u
  w_stride: u32,      // floats between networks' (N + 1, N) blocks of z and w
  stats_offset: u32,  // prep: float offset of this layer's S × (P + T) squared lengths
  seed: u32,          // fill: network s draws under key (seed + s, layer)
  layer: u32,         // fill: key word 1, the layer index
  scale_w: f32,       // fill: factor of rows k < N (σ_w/√N, or 1 raw); orthogonal: σ_w
  scale_b: f32,       // fill: factor of the bias row k = N (σ_b, or 1 raw); orthogonal: σ_b
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;            // (S, P, N) primal pre-activations h^l
@group(0) @binding(2) var<storage, read> t: array<f32>;            // (S, T, N) tangents t^l
@group(0) @binding(3) var<storage, read_write> y: array<f32>;      // (S, P, N) φ(h^l): the next primal input
@group(0) @binding(4) var<storage, read_write> u: array<f32>;      // (S, T, N) φ'(h^l) ⊙ t^l: the next tangent input
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;  // per layer S × (P + T) squared row lengths
@group(0) @binding(6) var<storage, read_write> z: array<f32>;      // (S, N + 1, N) drawn block (Gaussian [W; b], or raw)
@group(0) @binding(7) var<storage, read_write> w: array<f32>;      // (S, N + 1, N) orthogonal block [σ_w Q; b]
@group(0) @binding(8) var<storage, read_write> coef: array<f32>;   // (S, 3, N) Householder τ, v_kk, d

// @include lib/threefry.wgsl   // threefry, sincos, normal2 (Box–Muller with accurate sin/cos)

var<workgroup> part: array<f32, WG>;

fn phi(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    // Clamped: SwiftShader's tanh returns NaN for |v| >= 89; tanh(±15) is already ±1 in f32.
    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }
    default: { return v; }
  }
}

fn dphi(v: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, v > 0.0); }
    case 2u: { let th = tanh(clamp(v, -15.0, 15.0)); return 1.0 - th * th; }
    default: { return 1.0; }
  }
}

// Grid (⌈⌈N/2⌉ / WG⌉, N + 1, S): one column pair of one row per thread.
@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u) {
  let N = params.n;
  let p = gid.x;
  let k = gid.y;
  let s = gid.z;
  if (s >= params.nets || k > N || 2u * p >= N) { return; }
  let v = normal2(vec2u(p, k), vec2u(params.seed + s, params.layer));
  let scale = select(params.scale_w, params.scale_b, k == N);
  let base = s * params.w_stride + k * N + 2u * p;
  z[base] = scale * v.x;
  if (2u * p + 1u < N) { z[base + 1u] = scale * v.y; }
}

// Grid (⌈N / WG⌉, 1, S): one column k per thread.
@compute @workgroup_size(WG)
fn householder(@builtin(global_invocation_id) gid: vec3u) {
  let N = params.n;
  let k = gid.x;
  let s = gid.z;
  if (s >= params.nets || k >= N) { return; }
  let zb = s * params.w_stride;
  var norm2 = 0.0;
  for (var i = k; i < N; i++) {
    let x = z[zb + i * N + k];
    norm2 = fma(x, x, norm2);
  }
  let x0 = z[zb + k * N + k];
  let alpha = sqrt(norm2);
  let sgn = select(-1.0, 1.0, x0 >= 0.0);
  let denom = alpha * (alpha + abs(x0));
  let cb = 3u * N * s;
  coef[cb + k] = select(0.0, 1.0 / denom, denom > 0.0);   // τ_k (0: no reflection)
  coef[cb + N + k] = x0 + sgn * alpha;                     // v_k[k]
  coef[cb + 2u * N + k] = -sgn;                            // d_k
}

// Grid (⌈N / WG⌉, 1, S): one column j of σ_w·Q per thread, and its bias entry.
@compute @workgroup_size(WG)
fn orthogonal(@builtin(global_invocation_id) gid: vec3u) {
  let N = params.n;
  let j = gid.x;
  let s = gid.z;
  if (s >= params.nets || j >= N) { return; }
  let zb = s * params.w_stride;
  let cb = 3u * N * s;
  for (var i = 0u; i < N; i++) { w[zb + i * N + j] = 0.0; }
  w[zb + j * N + j] = params.scale_w * coef[cb + 2u * N + j];
  for (var kk = 0u; kk <= j; kk++) {
    let k = j - kk;
    let tau = coef[cb + k];
    let vkk = coef[cb + N + k];
    var dot = vkk * w[zb + k * N + j];
    for (var i = k + 1u; i < N; i++) { dot = fma(z[zb + i * N + k], w[zb + i * N + j], dot); }
    let f = tau * dot;
    w[zb + k * N + j] -= f * vkk;
    for (var i = k + 1u; i < N; i++) { w[zb + i * N + j] -= f * z[zb + i * N + k]; }
  }
  w[zb + N * N + j] = params.scale_b * z[zb + N * N + j];
}

// Grid (P + T, 1, S): one row per workgroup, reduced over N in workgroup memory (every slot is
// written before it is read: workgroup memory is not zero-initialised in Node).
@compute @workgroup_size(WG)
fn prep(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let N = params.n;
  let P = params.p_rows;
  let row = wid.x;
  let s = wid.z;
  if (row >= P + params.t_rows || s >= params.nets) { return; }   // uniform per workgroup
  var acc = 0.0;
  if (row < P) {
    let base = s * params.h_stride + row * N;
    for (var i = lid; i < N; i += WG) {
      let x = h[base + i];
      y[base + i] = phi(x);
      acc = fma(x, x, acc);
    }
  } else {
    let r = row - P;
    let base = s * params.t_stride + r * N;
    let pb = s * params.h_stride + min(r / max(params.per_primal, 1u), P - 1u) * N;
    for (var i = lid; i < N; i += WG) {
      let x = t[base + i];
      u[base + i] = dphi(h[pb + i]) * x;
      acc = fma(x, x, acc);
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { part[lid] += part[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { stats[params.stats_offset + s * (P + params.t_rows) + row] = part[0]; }
}
