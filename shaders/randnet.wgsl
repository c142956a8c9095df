// Random deep networks that are never stored: dense layers whose Gaussian weights are regenerated
// on the fly from a counter-based generator, for signal-propagation experiments at any width ×
// depth (src/analysis/propagation/). S networks (seeds) run side by side, one per workgroup z.
//
// Weights of layer `layer` of network s, a (K + 1, N) block whose last row is the bias:
//   z[k, n] = Box–Muller(threefry2x32_20(counter = (⌊n/2⌋, k), key = (seed + s, layer)))
//             (n even: the cosine draw, n odd: the sine draw; src/kernels/threefry.ts is the spec;
//             threefry and normal2 come from shaders/lib/threefry.wgsl by the @include below)
//   W[k, n] = scale_w · z[k, n]  (scale_w = σ_w/√K),   b[n] = scale_b · z[K, n]  (scale_b = σ_b)
//
//   forward:      h[s, m, n] = scale_w · Σ_k a[s, m, k] z[k, n] + scale_b · z[K, n]
//                 a is (S, M, K) (a_stride = M·K) or one (M, K) block shared by all networks
//                 (a_stride = 0: the data inputs); h is (S, M, N) at h_offset.
//   backward:     g[s, m, k] = scale_w · Σ_n d[s, m, n] z[k, n]    (= dE/da for dE/dh = d)
//                 d is (S, M, N), g is (S, M, K): the gradient through the same weights.
//   fill_normal:  g[s, m, n] = scale_w · z'[m, n] under key (seed + s, layer): a random readout
//                 vector (layer = READOUT_STREAM in threefry.ts), g is (S, M, N).
//
// Register tiles as in dense_forward.wgsl, from the template: a thread owns {{TM}} rows m and
// {{TW}} weight lines — column pairs (forward) or rows k of W (backward) — so every generated
// weight feeds {{TM}} FMAs and each pair of draws costs one threefry call. No workgroup memory.
// Loads are clamped, stores masked (robustness is off in Node).

override WG_X: u32 = 64;   // threads along the weight lines
override WG_Y: u32 = 1;    // threads along the rows m

struct Params {
  m: u32,          // M: input rows per network
  k: u32,          // K: fan-in (rows of W)
  n: u32,          // N: fan-out (columns of W)
  nets: u32,       // S: networks (workgroups along z)
  a_stride: u32,   // floats between networks' blocks of a (0: one shared block)
  h_offset: u32,   // float offset of the output block in h (forward)
  seed: u32,       // network s uses key word 0 = seed + s
  layer: u32,      // key word 1: the layer index, or the readout stream
  scale_w: f32,    // σ_w/√K (forward, backward); the readout's standard deviation (fill_normal)
  scale_b: f32,    // σ_b (forward)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;          // (S, M, K) or (M, K) layer input
@group(0) @binding(2) var<storage, read_write> h: array<f32>;    // (S, M, N) pre-activations at h_offset
@group(0) @binding(3) var<storage, read> d: array<f32>;          // (S, M, N) dE/dh of this layer
@group(0) @binding(4) var<storage, read_write> g: array<f32>;    // (S, M, K) dE/da (backward); (S, M, N) readout

// @include lib/threefry.wgsl   // threefry, sincos, normal2 (Box–Muller with accurate sin/cos)

fn store_h(s: u32, r: u32, c: u32, v: f32) {
  if (r < params.m && c < params.n) { h[params.h_offset + (s * params.m + r) * params.n + c] = v; }
}

fn store_g(s: u32, r: u32, c: u32, cols: u32, v: f32) {
  if (r < params.m && c < cols) { g[(s * params.m + r) * cols + c] = v; }
}

// Grid (⌈N / (2·TW·WG_X)⌉, ⌈M / (TM·WG_Y)⌉, S).
@compute @workgroup_size(WG_X, WG_Y)
fn forward(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let s = gid.z;
  let p0 = gid.x * {{TW}}u;   // first column pair of the tile
  let m0 = gid.y * {{TM}}u;
  if (s >= params.nets || 2u * p0 >= N || m0 >= M) { return; }
  let key = vec2u(params.seed + s, params.layer);
  let base = s * params.a_stride;
  // @repeat i in 0..{{TM}}
  let ar{i} = base + min(m0 + {i}u, M - 1u) * K;
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TW}}
  var e{i}_{j} = 0.0;
  var o{i}_{j} = 0.0;
  // @end
  for (var k = 0u; k < K; k++) {
    // @repeat i in 0..{{TM}}
    let a{i} = a[ar{i} + k];
    // @end
    // @repeat j in 0..{{TW}}
    let z{j} = normal2(vec2u(p0 + {j}u, k), key);
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TW}}
    e{i}_{j} = fma(a{i}, z{j}.x, e{i}_{j});
    o{i}_{j} = fma(a{i}, z{j}.y, o{i}_{j});
    // @end
  }
  let sw = params.scale_w;
  // @repeat j in 0..{{TW}}
  let b{j} = params.scale_b * normal2(vec2u(p0 + {j}u, K), key);
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TW}}
  store_h(s, m0 + {i}u, 2u * (p0 + {j}u), fma(sw, e{i}_{j}, b{j}.x));
  store_h(s, m0 + {i}u, 2u * (p0 + {j}u) + 1u, fma(sw, o{i}_{j}, b{j}.y));
  // @end
}

// Grid (⌈K / (TW·WG_X)⌉, ⌈M / (TM·WG_Y)⌉, S).
@compute @workgroup_size(WG_X, WG_Y)
fn backward(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let s = gid.z;
  let k0 = gid.x * {{TW}}u;   // first row of W in the tile
  let m0 = gid.y * {{TM}}u;
  if (s >= params.nets || k0 >= K || m0 >= M) { return; }
  let key = vec2u(params.seed + s, params.layer);
  // @repeat i in 0..{{TM}}
  let dr{i} = (s * M + min(m0 + {i}u, M - 1u)) * N;
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TW}}
  var t{i}_{j} = 0.0;
  // @end
  let pairs = (N + 1u) / 2u;
  for (var p = 0u; p < pairs; p++) {
    let ce = 2u * p;
    let co = min(ce + 1u, N - 1u);
    let odd = select(0.0, 1.0, ce + 1u < N);   // the last pair of an odd N has no odd column
    // @repeat i in 0..{{TM}}
    let ve{i} = d[dr{i} + ce];
    let vo{i} = odd * d[dr{i} + co];
    // @end
    // @repeat j in 0..{{TW}}
    let z{j} = normal2(vec2u(p, k0 + {j}u), key);
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TW}}
    t{i}_{j} = fma(ve{i}, z{j}.x, fma(vo{i}, z{j}.y, t{i}_{j}));
    // @end
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TW}}
  store_g(s, m0 + {i}u, k0 + {j}u, K, params.scale_w * t{i}_{j});
  // @end
}

// Grid (⌈N / (2·WG_X)⌉, M, S): one column pair per thread.
@compute @workgroup_size(WG_X, WG_Y)
fn fill_normal(@builtin(global_invocation_id) gid: vec3u) {
  let p = gid.x;
  let r = gid.y;
  let s = gid.z;
  if (s >= params.nets || r >= params.m || 2u * p >= params.n) { return; }
  let z = params.scale_w * normal2(vec2u(p, r), vec2u(params.seed + s, params.layer));
  store_g(s, r, 2u * p, params.n, z.x);
  store_g(s, r, 2u * p + 1u, params.n, z.y);
}
