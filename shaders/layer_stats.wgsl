// Per-layer statistics of S networks × M inputs for signal-propagation experiments
// (src/experiments/propagation/), plus the elementwise step between the randnet.wgsl matmuls.
//
//   gram:   G[s, a, b] = (1/N) Σ_i h[s, a, i] h[s, b, i]           pre-activation Gram matrix
//           (its diagonal is the length q^l of each input, G_ab/√(G_aa G_bb) the correlation c^l);
//           the diagonal workgroups also write y = φ(h) (the next layer's input) and
//           P[s, a] = (1/N) Σ_i φ(h[s, a, i])².
//   delta:  δ[s, a, i] = φ'(h[s, a, i]) · g[s, a, i]  (in place; deriv = 0: δ = g, the readout),
//           D[s, a] = (1/N) Σ_i δ[s, a, i]²          squared length of the backpropagated gradient.
//
// φ: 0 identity, 1 relu, 2 tanh, 3 erf(√π x / 2) (φ'(0) = 1, as src/analysis/meanfield).
// Shapes: h, y, g are (S, M, N) blocks (h at h_offset). A layer's statistics are S blocks of
// stats_stride = M·M + 2M floats at stats_offset: [G (M, M) | P (M,) | D (M,)].
// One workgroup per (a, b, s) (gram) or (a, s) (delta), reducing over N in workgroup memory
// (every slot is written before any is read: workgroup memory is not zero-initialised in Node).

override WG: u32 = 64;   // threads per workgroup (a power of two, for the tree reduction)
override ACT: u32 = 2;   // φ: 0 identity, 1 relu, 2 tanh, 3 erf

struct Params {
  m: u32,             // M: inputs per network
  n: u32,             // N: layer width
  h_offset: u32,      // float offset of the layer's (S, M, N) block in h
  stats_offset: u32,  // float offset of the layer's S statistics blocks in stats
  stats_stride: u32,  // floats per network in a layer's statistics (M·M + 2M)
  deriv: u32,         // delta: 1 multiplies g by φ'(h), 0 only measures it (readout layer)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;            // pre-activations, (S, M, N) at h_offset
@group(0) @binding(2) var<storage, read_write> y: array<f32>;      // (S, M, N) φ(h), the next layer's input
@group(0) @binding(3) var<storage, read_write> g: array<f32>;      // (S, M, N) dE/dy in, dE/dh out (delta)
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;  // per layer S × [G | P | D]

var<workgroup> part: array<f32, WG>;
var<workgroup> part2: array<f32, WG>;

// erf(x) by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7).
fn erf_as(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-ax * ax));
}

fn phi(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    // Clamped: SwiftShader's tanh returns NaN for |v| >= 89; tanh(±15) is already ±1 in f32.
    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }
    case 3u: { return erf_as(0.886226925452758 * v); }
    default: { return v; }
  }
}

fn dphi(v: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, v > 0.0); }
    case 2u: { let t = tanh(clamp(v, -15.0, 15.0)); return 1.0 - t * t; }
    case 3u: { return exp(-0.785398163397448 * v * v); }
    default: { return 1.0; }
  }
}

// Tree reduction of part (and part2) to slot 0. Every thread calls it (uniform control flow).
fn reduce(lid: u32) {
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      part[lid] += part[lid + stride];
      part2[lid] += part2[lid + stride];
    }
    workgroupBarrier();
  }
}

// Grid (M, M, S).
@compute @workgroup_size(WG)
fn gram(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let M = params.m;
  let N = params.n;
  let a = wid.x;
  let b = wid.y;
  let s = wid.z;
  if (a >= M || b >= M) { return; }   // uniform per workgroup
  let ra = (s * M + a) * N;
  let rb = (s * M + b) * N;
  let diag = a == b;
  var acc = 0.0;
  var acc2 = 0.0;
  for (var i = lid; i < N; i += WG) {
    let x = h[params.h_offset + ra + i];
    acc = fma(x, h[params.h_offset + rb + i], acc);
    if (diag) {
      let v = phi(x);
      y[ra + i] = v;
      acc2 = fma(v, v, acc2);
    }
  }
  part[lid] = acc;
  part2[lid] = acc2;
  reduce(lid);
  if (lid == 0u) {
    let base = params.stats_offset + s * params.stats_stride;
    let inv = 1.0 / f32(N);
    stats[base + a * M + b] = part[0] * inv;
    if (diag) { stats[base + M * M + a] = part2[0] * inv; }
  }
}

// Grid (M, 1, S).
@compute @workgroup_size(WG)
fn delta(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let M = params.m;
  let N = params.n;
  let a = wid.x;
  let s = wid.z;
  if (a >= M) { return; }
  let r = (s * M + a) * N;
  var acc = 0.0;
  for (var i = lid; i < N; i += WG) {
    var v = g[r + i];
    if (params.deriv != 0u) {
      v *= dphi(h[params.h_offset + r + i]);
      g[r + i] = v;
    }
    acc = fma(v, v, acc);
  }
  part[lid] = acc;
  part2[lid] = 0.0;
  reduce(lid);
  if (lid == 0u) {
    stats[params.stats_offset + s * params.stats_stride + M * M + M + a] = part[0] / f32(N);
  }
}
