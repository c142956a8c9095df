// Dense layer backward: the two matmuls of the gradient, with the activation derivative fused into
// the producer's epilogue so no separate elementwise pass exists. R replicas at once.
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
// Replicas as in dense_forward.wgsl: grid z = replica r, each operand of r at r·stride floats (the
// weight blocks w_stride apart), every output one sequential fma chain over the reduction index
// (m for grad_weight, n for grad_input) whatever the tile, so replica r is bit-identical to the
// network alone. grad_weight reads X like dense_forward: in order or, with INDEXED, dataset rows
// through rows[] (the input layer of a training step reads its minibatch straight from the
// dataset); with X4, four consecutive features of a row per vec4 load (K % 4 == 0, TM % 4 == 0).
//
// With UPDATE, grad_weight does not store dW: it applies the SGD step of sgd.wgsl to the layer's
// weights in its epilogue, with the same expressions (so the same bits), replica r's lr, weight
// decay and momentum read from its settings record — one dispatch and one pass over the
// gradient fewer per layer and step. grad_input of the layer, which reads W, must run first.
//
// Register blocking as in dense_forward.wgsl: a {{TM}} x {{TN}} tile of the output per thread in
// unrolled scalar registers, clamped loads, masked stores, no workgroup memory.

override WG_X: u32 = 4;          // threads along the output's columns (each covers {{TN}})
override WG_Y: u32 = 4;          // threads along the output's rows (each covers {{TM}})
override ACT: u32 = 0;           // grad_input: activation of the previous layer (0 identity, 1 relu, 2 tanh)
override HAS_BIAS: bool = false; // grad_weight: also write the bias gradient as row K
override X4: bool = false;       // grad_weight: read X through x4 (vec4 along K)
override INDEXED: bool = false;  // grad_weight: X rows through rows[] instead of in order
override UPDATE: bool = false;   // grad_weight: apply the SGD update to wu (and v) instead of storing dW
override MOMENTUM: bool = false; // grad_weight, UPDATE: the update keeps a velocity v

struct Params {
  m: u32,           // M: batch rows per replica
  k: u32,           // K: input features of the layer
  n: u32,           // N: output features of the layer
  x_stride: u32,    // floats between replicas' X (0: shared; unused when INDEXED)
  w_stride: u32,    // floats between replicas' weight blocks (grad_input) and dW blocks (grad_weight)
  dz_stride: u32,   // floats between replicas' dZ
  dx_stride: u32,   // grad_input: floats between replicas' dZprev (and X, which has the same shape)
  idx_offset: u32,  // grad_weight, INDEXED: first entry of rows[] of replica 0
  idx_stride: u32,  // grad_weight, INDEXED: entries of rows[] between replicas
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (R, M, K) layer input (previous layer's output), or a dataset
@group(0) @binding(2) var<storage, read> w: array<f32>;          // R blocks (K + HAS_BIAS, N) of layer weights (grad_input)
@group(0) @binding(3) var<storage, read> dz: array<f32>;         // (R, M, N) dL/dZ of this layer
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;   // R blocks (K + HAS_BIAS, N) of weight (+bias) gradient
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;   // (R, M, K) dL/dZ of the previous layer
@group(0) @binding(6) var<storage, read> x4: array<vec4<f32>>;   // grad_weight: x again, as vec4
@group(0) @binding(7) var<storage, read> rows: array<u32>;       // grad_weight, INDEXED: row indices into x
@group(0) @binding(8) var<storage, read_write> wu: array<f32>;   // grad_weight, UPDATE: the weights (laid out as dw), updated in place
@group(0) @binding(9) var<storage, read_write> vel: array<f32>;  // grad_weight, UPDATE with MOMENTUM: velocity (laid out as dw)
// grad_weight, UPDATE: the ReplicaSettings records of sgd.wgsl as raw words, 8 per replica:
// [lr, weight_decay, momentum, …] (src/kernels/replica-settings.ts).
@group(0) @binding(10) var<storage, read> settings: array<f32>;

fn act_deriv_from_output(yv: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, yv > 0.0); }
    case 2u: { return 1.0 - yv * yv; }
    default: { return 1.0; }
  }
}

// Float offset of row m of replica r's X (m < M).
fn x_row(r: u32, m: u32) -> u32 {
  if (INDEXED) {
    let i = min(params.idx_offset + r * params.idx_stride + m, arrayLength(&rows) - 1u);
    return min(rows[i], arrayLength(&x) / params.k - 1u) * params.k;
  }
  return r * params.x_stride + m * params.k;
}

// Replica r's [lr, weight decay, momentum] (UPDATE), read once per thread.
fn hyper_of(r: u32) -> vec3<f32> {
  if (!UPDATE) { return vec3<f32>(0.0); }
  let h = min(r, arrayLength(&settings) / 8u - 1u) * 8u;
  return vec3<f32>(settings[h], settings[h + 1u], settings[h + 2u]);
}

// Stores dW[row, c] of replica r, or (UPDATE) applies sgd.wgsl's update of that parameter with
// its expressions as written there; hp = hyper_of(r). lr 0 (hp.x): a frozen replica, left alone.
fn store_dw(r: u32, row: u32, c: u32, g: f32, hp: vec3<f32>) {
  if (row < params.k + select(0u, 1u, HAS_BIAS) && c < params.n) {
    let i = r * params.w_stride + row * params.n + c;
    if (!UPDATE) {
      dw[i] = g;
      return;
    }
    if (hp.x == 0.0) { return; }
    let wi = wu[i];
    let gi = g + hp.y * wi;
    if (MOMENTUM) {
      let vi = hp.z * vel[i] + gi;
      vel[i] = vi;
      wu[i] = wi - hp.x * vi;
    } else {
      wu[i] = wi - hp.x * gi;
    }
  }
}

fn store_dx(r: u32, row: u32, c: u32, g: f32) {
  if (row < params.m && c < params.k) {
    let i = r * params.dx_stride + row * params.k + c;
    dx[i] = g * act_deriv_from_output(x[i]);
  }
}

// dW_aug (K + HAS_BIAS, N) = [X, 1]ᵀ (K + HAS_BIAS, M) · dZ (M, N); reduction over the batch M.
// The tile's rows are numbered i = 4·v + c (v < TM/4, c < 4) so that, with X4, row group v is one
// vec4 of X: the register tile is the same {{TM}} x {{TN}} either way (TM a multiple of 4).
@compute @workgroup_size(WG_X, WG_Y)
fn grad_weight(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let r = gid.z;
  let rowsOut = K + select(0u, 1u, HAS_BIAS);
  let i0 = gid.y * {{TM}}u;   // output rows = input features (and the bias row K)
  let n0 = gid.x * {{TN}}u;
  if (i0 >= rowsOut || n0 >= N) { return; }
  // Feature columns of X (clamped) and whether a row is the bias row (X extended with ones).
  // @repeat v in 0..{{TM4}}, c in 0..4
  let xc{v}_{c} = min(i0 + 4u * {v}u + {c}u, K - 1u);
  let one{v}_{c} = i0 + 4u * {v}u + {c}u >= K;
  // @end
  // @repeat v in 0..{{TM4}}
  let xq{v} = min(i0 / 4u + {v}u, K / 4u - 1u);
  // @end
  // @repeat j in 0..{{TN}}
  let dc{j} = r * params.dz_stride + min(n0 + {j}u, N - 1u);
  // @end
  // @repeat v in 0..{{TM4}}, c in 0..4, j in 0..{{TN}}
  var s{v}_{c}_{j} = 0.0;
  // @end
  for (var m = 0u; m < M; m++) {
    let xm = x_row(r, m);
    // @repeat v in 0..{{TM4}}, c in 0..4
    var a{v}_{c} = 1.0;
    // @end
    if (X4) {
      // Features i0 + 4v .. i0 + 4v + 3 of the row as one vec4 (clamped to the row's last vec4).
      let q = xm / 4u;
      // @repeat v in 0..{{TM4}}
      let xv{v} = x4[q + xq{v}];
      a{v}_0 = xv{v}.x;
      a{v}_1 = xv{v}.y;
      a{v}_2 = xv{v}.z;
      a{v}_3 = xv{v}.w;
      // @end
    } else {
      // @repeat v in 0..{{TM4}}, c in 0..4
      a{v}_{c} = x[xm + xc{v}_{c}];
      // @end
    }
    // @repeat v in 0..{{TM4}}, c in 0..4
    a{v}_{c} = select(a{v}_{c}, 1.0, one{v}_{c});
    // @end
    let dm = m * N;
    // @repeat j in 0..{{TN}}
    let b{j} = dz[dm + dc{j}];
    // @end
    // @repeat v in 0..{{TM4}}, c in 0..4, j in 0..{{TN}}
    s{v}_{c}_{j} = fma(a{v}_{c}, b{j}, s{v}_{c}_{j});
    // @end
  }
  let hp = hyper_of(r);
  // @repeat v in 0..{{TM4}}, c in 0..4, j in 0..{{TN}}
  store_dw(r, i0 + 4u * {v}u + {c}u, n0 + {j}u, s{v}_{c}_{j}, hp);
  // @end
}

// dZprev (M, K) = (dZ (M, N) · Wᵀ (N, K)) ⊙ act'(X); reduction over the layer's outputs N.
@compute @workgroup_size(WG_X, WG_Y)
fn grad_input(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let r = gid.z;
  let m0 = gid.y * {{TM}}u;   // batch rows
  let k0 = gid.x * {{TN}}u;   // input features
  if (m0 >= M || k0 >= K) { return; }
  // @repeat i in 0..{{TM}}
  let dr{i} = r * params.dz_stride + min(m0 + {i}u, M - 1u) * N;
  // @end
  // @repeat j in 0..{{TN}}
  let wr{j} = r * params.w_stride + min(k0 + {j}u, K - 1u) * N;
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
  store_dx(r, m0 + {i}u, k0 + {j}u, s{i}_{j});
  // @end
}
