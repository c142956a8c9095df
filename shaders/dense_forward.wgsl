// Dense layer forward, fused: matmul + bias + activation in one pass, for R replicas at once.
//
//   Y_r = act(X_r · W_r + b_r)    x is (M, K), W is (K, N), b is (N,), Y is (M, N), per replica r
//   act: 0 identity, 1 relu, 2 tanh.  Gradients: see dense_backward.wgsl.
//
// Replicas (shaders/README.md, "Ensembles"): the dispatch grid's z is the replica r; every operand
// of replica r starts r·stride floats into its binding (x_stride 0: all replicas read one X, e.g.
// an evaluation set). R = 1 is the same code with z = 1. Each output is one sequential fma chain
// over k = 0..K-1 whatever the tile, the load width or R, so a replica's result is bit-identical
// to the same network computed alone, with any tiles.
//
// W and b live in the flat parameter buffer as one (K + HAS_BIAS, N) row-major block: rows 0..K-1
// are W, row K (when HAS_BIAS) is b. That makes the bias gradient row K of the same dW block.
//
// Rows of X: row m of replica r is x[r·x_stride + m·K ..], or with INDEXED the dataset row
// rows[idx_offset + r·idx_stride + m] of x (the minibatch gather fused into the layer that reads
// it: one index load per row and thread, before the K loop).
//
// Register blocking without workgroup memory: each thread owns a TM x TN tile of Y held in
// TM·TN scalar registers (unrolled from the template, src/gpu/template.ts), and per k loads TM
// values of X and TN of W, so each load feeds TN (or TM) FMAs. On SwiftShader this beats every
// shared-memory variant measured (barriers and workgroup-memory traffic cost more than they save);
// on GPUs the L1 cache does the sharing. X4 reads X as vec4 along K (K, x_stride and the binding
// offset multiples of 4): one load instruction per four k, and the K loop runs K/4 times — on
// SwiftShader every storage load is a per-lane gather, so what this saves is the loop and index
// work around the loads, not the loads. Loads use clamped indices, so the kernel never reads out
// of bounds even with robustness disabled; stores are masked. Correct for any M, N, K, R.

override WG_X: u32 = 4;         // threads along N per workgroup (each covers {{TN}} columns)
override WG_Y: u32 = 4;         // threads along M per workgroup (each covers {{TM}} rows)
override ACT: u32 = 0;          // activation: 0 identity, 1 relu, 2 tanh
override HAS_BIAS: bool = false;
override X4: bool = false;      // read X through x4 (vec4 along K) instead of x
override INDEXED: bool = false; // X rows through rows[] (a minibatch of a dataset) instead of in order

struct Params {
  m: u32,           // M: rows of X and Y per replica (batch)
  k: u32,           // K: input features
  n: u32,           // N: output features
  x_stride: u32,    // floats between replicas' X (0: one X for all; unused when INDEXED)
  w_stride: u32,    // floats between replicas' parameter blocks
  y_stride: u32,    // floats between replicas' Y
  idx_offset: u32,  // INDEXED: first entry of rows[] of replica 0
  idx_stride: u32,  // INDEXED: entries of rows[] between replicas
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;         // (R or 1, M, K) input activations, or (rows, K) a dataset
@group(0) @binding(2) var<storage, read> w: array<f32>;         // R blocks (K + HAS_BIAS, N) of weights, bias row last
@group(0) @binding(3) var<storage, read_write> y: array<f32>;   // (R, M, N) output activations
@group(0) @binding(4) var<storage, read> x4: array<vec4<f32>>;  // x again, as vec4 (bound to the same range)
@group(0) @binding(5) var<storage, read> rows: array<u32>;      // INDEXED: row indices into x (else any small buffer)

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    // Clamped: SwiftShader's tanh returns NaN for |v| >= 89; tanh(±15) is already ±1 in f32.
    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }
    default: { return v; }
  }
}

// Float offset of row m (clamped to M - 1) of replica r's X.
fn x_row(r: u32, m: u32) -> u32 {
  let mm = min(m, params.m - 1u);
  if (INDEXED) {
    let i = min(params.idx_offset + r * params.idx_stride + mm, arrayLength(&rows) - 1u);
    // The CPU validates indices before upload; the clamp keeps a bad one inside the dataset.
    return min(rows[i], arrayLength(&x) / params.k - 1u) * params.k;
  }
  return r * params.x_stride + mm * params.k;
}

fn store(r: u32, row: u32, c: u32, acc: f32) {
  if (row < params.m && c < params.n) {
    var v = acc;
    if (HAS_BIAS) { v += w[r * params.w_stride + params.k * params.n + c]; }
    y[r * params.y_stride + row * params.n + c] = activate(v);
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let K = params.k;
  let N = params.n;
  let r = gid.z;
  let m0 = gid.y * {{TM}}u;
  let n0 = gid.x * {{TN}}u;
  if (m0 >= params.m || n0 >= N) { return; }
  let wr = r * params.w_stride;
  // Row offsets into X and column indices into W, clamped to the matrix.
  // @repeat i in 0..{{TM}}
  let xr{i} = x_row(r, m0 + {i}u);
  // @end
  // @repeat j in 0..{{TN}}
  let wc{j} = wr + min(n0 + {j}u, N - 1u);
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var s{i}_{j} = 0.0;
  // @end
  if (X4) {
    // @repeat i in 0..{{TM}}
    let xq{i} = xr{i} / 4u;
    // @end
    for (var k = 0u; k < K; k += 4u) {
      // @repeat i in 0..{{TM}}
      let a{i} = x4[xq{i} + k / 4u];
      // @end
      // @repeat u in 0..4
      let wk{u} = (k + {u}u) * N;
      // @end
      // @repeat u in 0..4, j in 0..{{TN}}
      let b{u}_{j} = w[wk{u} + wc{j}];
      // @end
      // The same chain as four steps of the scalar loop: k, k+1, k+2, k+3 in order.
      // @repeat i in 0..{{TM}}, j in 0..{{TN}}
      s{i}_{j} = fma(a{i}.w, b3_{j}, fma(a{i}.z, b2_{j}, fma(a{i}.y, b1_{j}, fma(a{i}.x, b0_{j}, s{i}_{j}))));
      // @end
    }
  } else {
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
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store(r, m0 + {i}u, n0 + {j}u, s{i}_{j});
  // @end
}
