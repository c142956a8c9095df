// Dense layer backward: the two matmuls of the gradient, with the activation derivative fused into
// the producer's epilogue so no separate elementwise pass exists.
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
// Register blocking as in dense_forward.wgsl: a {{TM}} x {{TN}} tile of the output per thread in
// unrolled scalar registers, clamped loads, masked stores, no workgroup memory.

override WG_X: u32 = 4;          // threads along the output's columns (each covers {{TN}})
override WG_Y: u32 = 4;          // threads along the output's rows (each covers {{TM}})
override ACT: u32 = 0;           // grad_input: activation of the previous layer (0 identity, 1 relu, 2 tanh)
override HAS_BIAS: bool = false; // grad_weight: also write the bias gradient as row K

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

fn act_deriv_from_output(yv: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, yv > 0.0); }
    case 2u: { return 1.0 - yv * yv; }
    default: { return 1.0; }
  }
}

fn store_dw(r: u32, c: u32, v: f32) {
  if (r < params.k + select(0u, 1u, HAS_BIAS) && c < params.n) { dw[r * params.n + c] = v; }
}

fn store_dx(r: u32, c: u32, v: f32) {
  if (r < params.m && c < params.k) {
    let i = r * params.k + c;
    dx[i] = v * act_deriv_from_output(x[i]);
  }
}

// dW_aug (K + HAS_BIAS, N) = [X, 1]ᵀ (K + HAS_BIAS, M) · dZ (M, N); reduction over the batch M.
@compute @workgroup_size(WG_X, WG_Y)
fn grad_weight(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let rows = K + select(0u, 1u, HAS_BIAS);
  let i0 = gid.y * {{TM}}u;   // output rows = input features (and the bias row K)
  let n0 = gid.x * {{TN}}u;
  if (i0 >= rows || n0 >= N) { return; }
  // Feature columns of X (clamped) and whether a row is the bias row (X extended with ones).
  // @repeat i in 0..{{TM}}
  let xc{i} = min(i0 + {i}u, K - 1u);
  let one{i} = i0 + {i}u >= K;
  // @end
  // @repeat j in 0..{{TN}}
  let dc{j} = min(n0 + {j}u, N - 1u);
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var s{i}_{j} = 0.0;
  // @end
  for (var m = 0u; m < M; m++) {
    let xm = m * K;
    // @repeat i in 0..{{TM}}
    let a{i} = select(x[xm + xc{i}], 1.0, one{i});
    // @end
    let dm = m * N;
    // @repeat j in 0..{{TN}}
    let b{j} = dz[dm + dc{j}];
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TN}}
    s{i}_{j} = fma(a{i}, b{j}, s{i}_{j});
    // @end
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store_dw(i0 + {i}u, n0 + {j}u, s{i}_{j});
  // @end
}

// dZprev (M, K) = (dZ (M, N) · Wᵀ (N, K)) ⊙ act'(X); reduction over the layer's outputs N.
@compute @workgroup_size(WG_X, WG_Y)
fn grad_input(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let m0 = gid.y * {{TM}}u;   // batch rows
  let k0 = gid.x * {{TN}}u;   // input features
  if (m0 >= M || k0 >= K) { return; }
  // @repeat i in 0..{{TM}}
  let dr{i} = min(m0 + {i}u, M - 1u) * N;
  // @end
  // @repeat j in 0..{{TN}}
  let wr{j} = min(k0 + {j}u, K - 1u) * N;
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var s{i}_{j} = 0.0;
  // @end
  for (var n = 0u; n < N; n++) {
    // @repeat i in 0..{{TM}}
    let a{i} = dz[dr{i} + n];
    // @end
    // @repeat j in 0..{{TN}}
    let b{j} = w[wr{j} + n];
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TN}}
    s{i}_{j} = fma(a{i}, b{j}, s{i}_{j});
    // @end
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store_dx(m0 + {i}u, k0 + {j}u, s{i}_{j});
  // @end
}
