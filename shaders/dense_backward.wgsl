// Dense layer backward: the two matmuls of the gradient, with the activation derivative fused into
// the producer so no separate elementwise pass exists.
//
// Forward (dense_forward.wgsl): Z = X · W + b, Y = act(Z); x is (M, K), W is (K, N), Y is (M, N).
// Given dZ = dL/dZ (M, N) of this layer (for the last layer, softmax_ce.wgsl's dz):
//
//   grad_weight:  dW = Xᵀ · dZ          (K, N)     db = Σ_m dZ[m, :]   (N,)
//                 written as one (K + HAS_BIAS, N) block matching the parameter layout, the bias
//                 gradient being row K: X is extended with a column of ones.
//   grad_input:   dZprev = (dZ · Wᵀ) ⊙ act'(X)    (M, K)
//                 X is the previous layer's output Y_prev = act(Z_prev), so act' is taken from it:
//                 relu'(z) = [y > 0], tanh'(z) = 1 - y², identity' = 1. The result is dL/dZprev,
//                 ready for the previous layer's grad_weight. Skipped for the first layer.
//
// Tiling as in dense_forward.wgsl: BM x BN output tiles, BK reduction slices in workgroup memory,
// a 4 x 4 register micro-tile per thread. Correct for any shape.

override BM: u32 = 32;          // rows of the output per workgroup (multiple of 4)
override BN: u32 = 32;          // columns of the output per workgroup (multiple of 4)
override BK: u32 = 16;          // reduction slice staged per iteration
override ACT: u32 = 0;          // grad_input: activation of the previous layer (0 identity, 1 relu, 2 tanh)
override HAS_BIAS: bool = false; // grad_weight: also write the bias gradient as row K
override WG_X: u32 = BN / 4u;    // threads along the output columns: one vec4 each
override WG_Y: u32 = BM / 4u;    // threads along the output rows: 4 rows each

struct Params {
  m: u32,   // M: batch rows
  k: u32,   // K: input features of the layer
  n: u32,   // N: output features of the layer
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (M, K) layer input (previous layer's output)
@group(0) @binding(2) var<storage, read> w: array<f32>;          // (K + HAS_BIAS, N) layer weights (grad_input)
@group(0) @binding(3) var<storage, read> dz: array<f32>;         // (M, N) dL/dZ of this layer
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;   // (K + HAS_BIAS, N) weight (+bias) gradient
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;   // (M, K) dL/dZ of the previous layer

// The 4 x 4 register micro-tile of one thread: 4 rows, one vec4 of columns each.
alias MicroTile = array<vec4<f32>, 4>;

var<workgroup> as_: array<f32, BM * BK>;   // left operand tile (BM, BK)
var<workgroup> bs: array<f32, BK * BN>;    // right operand tile (BK, BN)

fn act_deriv_from_output(yv: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, yv > 0.0); }
    case 2u: { return 1.0 - yv * yv; }
    default: { return 1.0; }
  }
}

// Multiplies the staged tiles into the 4 x 4 accumulator of this thread.
fn mac(acc: ptr<function, MicroTile>, lid: vec3u) {
  for (var kk = 0u; kk < BK; kk++) {
    let bb = kk * BN + lid.x * 4u;
    let b = vec4<f32>(bs[bb], bs[bb + 1u], bs[bb + 2u], bs[bb + 3u]);
    for (var i = 0u; i < 4u; i++) {
      (*acc)[i] += as_[(lid.y * 4u + i) * BK + kk] * b;
    }
  }
}

// dW_aug (K + HAS_BIAS, N) = X_augᵀ (K + HAS_BIAS, M) · dZ (M, N); reduction over the batch M.
@compute @workgroup_size(WG_X, WG_Y)
fn grad_weight(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let rows = K + select(0u, 1u, HAS_BIAS);
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let nthreads = (BN / 4u) * (BM / 4u);
  let t = lid.y * (BN / 4u) + lid.x;
  var acc: MicroTile;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var m0 = 0u; m0 < M; m0 += BK) {
    for (var e = t; e < BM * BK; e += nthreads) {
      let r = e / BK;           // output row = input feature
      let c = e - r * BK;       // batch row within the slice
      let gr = row0 + r;
      let gm = m0 + c;
      var v = 0.0;
      if (gm < M) {
        if (gr < K) { v = x[gm * K + gr]; } else if (gr < rows) { v = 1.0; }
      }
      as_[e] = v;
    }
    for (var e = t; e < BK * BN; e += nthreads) {
      let r = e / BN;
      let c = e - r * BN;
      let gm = m0 + r;
      let gc = col0 + c;
      bs[e] = select(0.0, dz[gm * N + gc], gm < M && gc < N);
    }
    workgroupBarrier();
    mac(&acc, lid);
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= rows) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c < N) { dw[r * N + c] = acc[i][j]; }
    }
  }
}

// dZprev (M, K) = (dZ (M, N) · Wᵀ (N, K)) ⊙ act'(X); reduction over the layer's outputs N.
@compute @workgroup_size(WG_X, WG_Y)
fn grad_input(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let row0 = wid.y * BM;   // batch rows
  let col0 = wid.x * BN;   // input features
  let nthreads = (BN / 4u) * (BM / 4u);
  let t = lid.y * (BN / 4u) + lid.x;
  var acc: MicroTile;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var n0 = 0u; n0 < N; n0 += BK) {
    for (var e = t; e < BM * BK; e += nthreads) {
      let r = e / BK;
      let c = e - r * BK;
      let gr = row0 + r;
      let gn = n0 + c;
      as_[e] = select(0.0, dz[gr * N + gn], gr < M && gn < N);
    }
    for (var e = t; e < BK * BN; e += nthreads) {
      let r = e / BN;          // output unit n
      let c = e - r * BN;      // input feature k
      let gn = n0 + r;
      let gk = col0 + c;
      bs[e] = select(0.0, w[gk * N + gn], gn < N && gk < K);
    }
    workgroupBarrier();
    mac(&acc, lid);
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c < K) { dx[r * K + c] = acc[i][j] * act_deriv_from_output(x[r * K + c]); }
    }
  }
}
