// Benchmark only (bench/, matmul ladder rung 1): the shared-memory tiled dense forward this project
// started from (git 4e8674f, shaders/dense_forward.wgsl), kept so the ladder shows what workgroup
// memory buys or costs on this adapter. The one change: the staging loads are clamped into the
// matrix (the original loaded through select(), which evaluates both sides; robustness is off in
// Node, so every load index must be in bounds).
//
//   Y = act(X · W + b)        x is (M, K), W is (K + HAS_BIAS, N) with the bias row last, Y is (M, N)
//
// Tiling: each workgroup computes a BM x BN tile of Y, stepping through K in slices of BK that are
// staged in workgroup memory; each thread accumulates a 4 x 4 micro-tile (4 rows, one vec4 of
// columns, in a private array), so each value loaded from workgroup memory is used 4 times.
// Workgroup memory is written in full (zeros outside the matrix) before the barrier that precedes
// every read.

override BM: u32 = 32;        // rows of Y per workgroup (multiple of 4)
override BN: u32 = 32;        // columns of Y per workgroup (multiple of 4)
override BK: u32 = 16;        // K slice staged per iteration
override ACT: u32 = 0;        // activation: 0 identity, 1 relu, 2 tanh
override HAS_BIAS: bool = false;
override WG_X: u32 = 8;       // threads along N: BN / 4 (one vec4 of output columns each)
override WG_Y: u32 = 8;       // threads along M: BM / 4 (4 output rows each)

struct Params {
  m: u32,   // M: rows of X and Y (batch)
  k: u32,   // K: input features
  n: u32,   // N: output features
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;         // (M, K) input activations
@group(0) @binding(2) var<storage, read> w: array<f32>;         // (K + HAS_BIAS, N) weights, bias row last
@group(0) @binding(3) var<storage, read_write> y: array<f32>;   // (M, N) output activations

var<workgroup> xs: array<f32, BM * BK>;   // X tile (BM, BK)
var<workgroup> ws: array<f32, BK * BN>;   // W tile (BK, BN)

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let nthreads = WG_X * WG_Y;
  let t = lid.y * WG_X + lid.x;

  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < K; k0 += BK) {
    for (var e = t; e < BM * BK; e += nthreads) {
      let r = e / BK;
      let c = e - r * BK;
      let gr = row0 + r;
      let gc = k0 + c;
      let v = x[min(gr, M - 1u) * K + min(gc, K - 1u)];
      xs[e] = select(0.0, v, gr < M && gc < K);
    }
    for (var e = t; e < BK * BN; e += nthreads) {
      let r = e / BN;
      let c = e - r * BN;
      let gr = k0 + r;
      let gc = col0 + c;
      let v = w[min(gr, K - 1u) * N + min(gc, N - 1u)];
      ws[e] = select(0.0, v, gr < K && gc < N);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let wb = kk * BN + lid.x * 4u;
      let b = vec4<f32>(ws[wb], ws[wb + 1u], ws[wb + 2u], ws[wb + 3u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += xs[(lid.y * 4u + i) * BK + kk] * b;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c < N) {
        var v = acc[i][j];
        if (HAS_BIAS) { v += w[K * N + c]; }
        y[r * N + c] = activate(v);
      }
    }
  }
}
