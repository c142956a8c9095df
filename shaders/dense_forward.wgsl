// Dense layer forward, fused: matmul + bias + activation in one pass.
//
//   Y = act(X · W + b)        x is (M, K), W is (K, N), b is (N,), Y is (M, N)
//   act: 0 identity, 1 relu, 2 tanh.  Gradients: see dense_backward.wgsl.
//
// W and b live in the flat parameter buffer as one (K + HAS_BIAS, N) row-major block: rows 0..K-1
// are W, row K (when HAS_BIAS) is b. That makes the bias gradient row K of the same dW block.
//
// Register blocking without workgroup memory: each thread owns a TM x TN tile of Y held in
// TM·TN scalar registers (unrolled from the template, src/gpu/template.ts), and per k loads TM
// values of X and TN of W, so each load feeds TN (or TM) FMAs. On SwiftShader this beats every
// shared-memory variant measured (barriers and workgroup-memory traffic cost more than they save);
// on GPUs the L1 cache does the sharing. Loads use clamped indices, so the kernel never reads out
// of bounds even with robustness disabled; stores are masked. Correct for any M, N, K.

override WG_X: u32 = 4;       // threads along N per workgroup (each covers {{TN}} columns)
override WG_Y: u32 = 4;       // threads along M per workgroup (each covers {{TM}} rows)
override ACT: u32 = 0;        // activation: 0 identity, 1 relu, 2 tanh
override HAS_BIAS: bool = false;

struct Params {
  m: u32,   // M: rows of X and Y (batch)
  k: u32,   // K: input features
  n: u32,   // N: output features
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;         // (M, K) input activations
@group(0) @binding(2) var<storage, read> w: array<f32>;         // (K + HAS_BIAS, N) weights, bias row last
@group(0) @binding(3) var<storage, read_write> y: array<f32>;   // (M, N) output activations

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    // Clamped: SwiftShader's tanh returns NaN for |v| >= 89; tanh(±15) is already ±1 in f32.
    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }
    default: { return v; }
  }
}

fn store(r: u32, c: u32, acc: f32) {
  if (r < params.m && c < params.n) {
    var v = acc;
    if (HAS_BIAS) { v += w[params.k * params.n + c]; }
    y[r * params.n + c] = activate(v);
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let m0 = gid.y * {{TM}}u;
  let n0 = gid.x * {{TN}}u;
  if (m0 >= M || n0 >= N) { return; }
  // Row offsets into X and column indices into W, clamped to the matrix.
  // @repeat i in 0..{{TM}}
  let xr{i} = min(m0 + {i}u, M - 1u) * K;
  // @end
  // @repeat j in 0..{{TN}}
  let wc{j} = min(n0 + {j}u, N - 1u);
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var s{i}_{j} = 0.0;
  // @end
  for (var k = 0u; k < K; k++) {
    // @repeat i in 0..{{TM}}
    let a{i} = x[xr{i} + k];
    // @end
    let wk = k * N;
    // @repeat j in 0..{{TN}}
    let b{j} = w[wk + wc{j}];
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TN}}
    s{i}_{j} = fma(a{i}, b{j}, s{i}_{j});
    // @end
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store(m0 + {i}u, n0 + {j}u, s{i}_{j});
  // @end
}
