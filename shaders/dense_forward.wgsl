// Dense layer forward, fused: matmul + bias + activation in one pass.
//
//   Y = act(X · W + b)        x is (M, K), W is (K, N), b is (N,), Y is (M, N)
//   act: 0 identity, 1 relu, 2 tanh.  Gradients: see dense_backward.wgsl.
//
// W and b live in the flat parameter buffer as one (K + HAS_BIAS, N) row-major block: rows 0..K-1
// are W, row K (when HAS_BIAS) is b. That makes the bias gradient row K of the same dW block.
//
// Tiling: each workgroup computes a BM x BN tile of Y, stepping through K in slices of BK that are
// staged in workgroup memory; each thread accumulates a 4 x 4 micro-tile in registers (4 rows,
// one vec4 of columns), so each value loaded from workgroup memory is used 4 times.
// Correct for any M, N, K (edges are zero-padded in the tiles and masked on store).

override BM: u32 = 32;        // rows of Y per workgroup (multiple of 4)
override BN: u32 = 32;        // columns of Y per workgroup (multiple of 4)
override BK: u32 = 16;        // K slice staged per iteration
override ACT: u32 = 0;        // activation: 0 identity, 1 relu, 2 tanh
override HAS_BIAS: bool = false;
override WG_X: u32 = BN / 4u;  // threads along N: one vec4 of output columns each
override WG_Y: u32 = BM / 4u;  // threads along M: 4 output rows each

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
    case 2u: { return tanh(v); }
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
  let nthreads = (BN / 4u) * (BM / 4u);
  let t = lid.y * (BN / 4u) + lid.x;

  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < K; k0 += BK) {
    // Stage X[row0.., k0..] and W[k0.., col0..]; every slot is written (zero outside the matrix).
    for (var e = t; e < BM * BK; e += nthreads) {
      let r = e / BK;
      let c = e - r * BK;
      let gr = row0 + r;
      let gc = k0 + c;
      xs[e] = select(0.0, x[gr * K + gc], gr < M && gc < K);
    }
    for (var e = t; e < BK * BN; e += nthreads) {
      let r = e / BN;
      let c = e - r * BN;
      let gr = k0 + r;
      let gc = col0 + c;
      ws[e] = select(0.0, w[gr * N + gc], gr < K && gc < N);
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
