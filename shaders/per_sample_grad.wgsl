// Per-sample gradients of one dense layer, materialised or projected on directions.
//
// Layer (dense_forward.wgsl): z_n = a_n · W (+ b), a is (M, K), W is (K + HAS_BIAS, N) in the flat
// parameter layout (row k of the block = input feature k, the bias row last). Given the per-sample
// output gradients δ (M, N), δ_n = dl_n/dz_n of the per-sample loss l_n (softmax − onehot
// backpropagated WITHOUT the 1/B of a minibatch mean), the gradient of l_n w.r.t. the block is the
// outer product a_aug,n ⊗ δ_n, a_aug = [a, 1] with a bias, else a:
//
//   g_n[k·N + m] = a_aug[n, k] · δ[n, m]            P = (K + HAS_BIAS) · N entries per sample
//
//   materialize:  G (M, P),  G[n, p] = g_n[p]                    one thread per entry
//   project:      S (M, J),  S[n, j] = g_n · V_j = a_aug,nᵀ · V_j · δ_n
//                 V is (J, P): J directions, each a (K + HAS_BIAS, N) block in the layer layout.
//                 A tiled matmul S = G · Vᵀ in which the tile of G is built on the fly from a and δ
//                 while staging (G is never written): cost M·P·J multiply-adds, memory M·J.
//
// The mean over the M rows of G is the minibatch gradient dense_backward.wgsl's grad_weight
// computes from dz = δ/M. Rows are taken from row0 on (a and δ are bound whole; G/S rows are local),
// so a large M·P can be materialised in row chunks that fit maxStorageBufferBindingSize.
// Replicas (shaders/README.md, "Ensembles"): the grid's z is the replica r; its a, δ, V and G/S
// are the blocks r·a_stride, r·delta_stride, r·v_stride and r·out_stride floats into their
// bindings (v_stride 0: one set of directions for all replicas).
// project is register-blocked as dense_forward.wgsl: each thread owns a {{TM}} x {{TN}} tile of S
// (samples × directions) in unrolled scalar registers; per input feature k it loads {{TM}} values
// of a, and per output m {{TM}} of δ and {{TN}} of V. No workgroup memory; every load index is
// clamped into its matrix (robustness is off in Node) and stores are masked. Correct for any shape.

override HAS_BIAS: bool = false; // the layer block has a bias row (a is extended with a 1)
override WG: u32 = 256;          // materialize: threads per workgroup (along P)
override WG_X: u32 = 4;          // project: threads along directions (each covers {{TN}})
override WG_Y: u32 = 4;          // project: threads along samples (each covers {{TM}})

struct Params {
  m: u32,     // M: samples in this dispatch (rows of G or S)
  k: u32,     // K: input features of the layer
  n: u32,     // N: output features of the layer
  j: u32,     // J: directions (project only; any value for materialize)
  row0: u32,  // first sample: rows row0 .. row0 + M − 1 of a and δ
  a_stride: u32,      // floats between replicas' a
  delta_stride: u32,  // floats between replicas' δ
  v_stride: u32,      // project: floats between replicas' directions V (0: shared)
  out_stride: u32,    // floats between replicas' G (materialize) or S (project)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;           // (R, ≥ row0 + M, K) layer inputs
@group(0) @binding(2) var<storage, read> delta: array<f32>;       // (R, ≥ row0 + M, N) per-sample dl/dz
@group(0) @binding(3) var<storage, read_write> g: array<f32>;     // materialize: (R, M, P) per-sample gradients
@group(0) @binding(4) var<storage, read> v: array<f32>;           // project: (R or 1, J, P) directions
@group(0) @binding(5) var<storage, read_write> s: array<f32>;     // project: (R, M, J) projections

@compute @workgroup_size(WG)
fn materialize(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let K = params.k;
  let N = params.n;
  let P = (K + select(0u, 1u, HAS_BIAS)) * N;
  let p = wid.x * WG + lid.x;
  let r = wid.y;   // local row (dispatch y covers M)
  let rep = wid.z;
  if (p >= P || r >= params.m) { return; }
  let row = params.row0 + r;
  let kk = p / N;
  let mm = p - kk * N;
  var av = 1.0;    // bias row
  if (kk < K) { av = a[rep * params.a_stride + row * K + kk]; }
  g[rep * params.out_stride + r * P + p] = av * delta[rep * params.delta_stride + row * N + mm];
}

fn store_s(rep: u32, r: u32, c: u32, val: f32) {
  if (r < params.m && c < params.j) { s[rep * params.out_stride + r * params.j + c] = val; }
}

@compute @workgroup_size(WG_X, WG_Y)
fn project(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let J = params.j;
  let P = (K + select(0u, 1u, HAS_BIAS)) * N;
  let rep = gid.z;
  let m0 = gid.y * {{TM}}u;
  let j0 = gid.x * {{TN}}u;
  if (m0 >= M || j0 >= J) { return; }
  // Sample rows of a and δ, and direction rows of V, clamped.
  // @repeat i in 0..{{TM}}
  let ar{i} = rep * params.a_stride + (params.row0 + min(m0 + {i}u, M - 1u)) * K;
  let dr{i} = rep * params.delta_stride + (params.row0 + min(m0 + {i}u, M - 1u)) * N;
  // @end
  // @repeat j in 0..{{TN}}
  let vr{j} = rep * params.v_stride + min(j0 + {j}u, J - 1u) * P;
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var s{i}_{j} = 0.0;
  // @end
  let rowsK = K + select(0u, 1u, HAS_BIAS);
  for (var k = 0u; k < rowsK; k++) {
    let bias = k >= K;
    let kc = min(k, K - 1u);
    // @repeat i in 0..{{TM}}
    let a{i} = select(a[ar{i} + kc], 1.0, bias);
    // @end
    let pk = k * N;
    for (var m = 0u; m < N; m++) {
      // @repeat i in 0..{{TM}}
      let g{i} = a{i} * delta[dr{i} + m];
      // @end
      // @repeat j in 0..{{TN}}
      let b{j} = v[vr{j} + pk + m];
      // @end
      // @repeat i in 0..{{TM}}, j in 0..{{TN}}
      s{i}_{j} = fma(g{i}, b{j}, s{i}_{j});
      // @end
    }
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store_s(rep, m0 + {i}u, j0 + {j}u, s{i}_{j});
  // @end
}
