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
// Tiling of project as dense_forward.wgsl: BM x BN tiles of S, BK slices of p in workgroup memory
// (written before any read: workgroup memory is not zero-initialised on this device), a 4 x 4
// register micro-tile per thread. Correct for any M, K, N, J.

override BM: u32 = 32;          // project: rows of S (samples) per workgroup (multiple of 4)
override BN: u32 = 32;          // project: columns of S (directions) per workgroup (multiple of 4)
override BK: u32 = 16;          // project: slice of the P parameters staged per iteration
override HAS_BIAS: bool = false; // the layer block has a bias row (a is extended with a 1)
override WG: u32 = 256;          // materialize: threads per workgroup (along P)
override WG_X: u32 = BN / 4u;    // project: threads along directions, one vec4 of columns each
override WG_Y: u32 = BM / 4u;    // project: threads along samples, 4 rows each

struct Params {
  m: u32,     // M: samples in this dispatch (rows of G or S)
  k: u32,     // K: input features of the layer
  n: u32,     // N: output features of the layer
  j: u32,     // J: directions (project only; any value for materialize)
  row0: u32,  // first sample: rows row0 .. row0 + M − 1 of a and δ
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;           // (≥ row0 + M, K) layer inputs
@group(0) @binding(2) var<storage, read> delta: array<f32>;       // (≥ row0 + M, N) per-sample dl/dz
@group(0) @binding(3) var<storage, read_write> g: array<f32>;     // materialize: (M, P) per-sample gradients
@group(0) @binding(4) var<storage, read> v: array<f32>;           // project: (J, P) directions
@group(0) @binding(5) var<storage, read_write> s: array<f32>;     // project: (M, J) projections

var<workgroup> gs: array<f32, BM * BK>;   // implicit G tile (BM samples, BK parameters)
var<workgroup> vs: array<f32, BK * BN>;   // Vᵀ tile (BK parameters, BN directions)

fn a_aug(row: u32, kk: u32, K: u32) -> f32 {
  if (kk < K) { return a[row * K + kk]; }
  return 1.0;   // bias row (only reached when HAS_BIAS)
}

@compute @workgroup_size(WG)
fn materialize(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let K = params.k;
  let N = params.n;
  let P = (K + select(0u, 1u, HAS_BIAS)) * N;
  let p = wid.x * WG + lid.x;
  let r = wid.y;   // local row (dispatch y covers M)
  if (p >= P || r >= params.m) { return; }
  let row = params.row0 + r;
  let kk = p / N;
  let mm = p - kk * N;
  g[r * P + p] = a_aug(row, kk, K) * delta[row * N + mm];
}

@compute @workgroup_size(WG_X, WG_Y)
fn project(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let J = params.j;
  let P = (K + select(0u, 1u, HAS_BIAS)) * N;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let nthreads = (BN / 4u) * (BM / 4u);
  let t = lid.y * (BN / 4u) + lid.x;

  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var p0 = 0u; p0 < P; p0 += BK) {
    // Stage G[row0.., p0..] = a_aug ⊗ δ and Vᵀ[p0.., col0..]; every slot written (zero outside).
    for (var e = t; e < BM * BK; e += nthreads) {
      let r = e / BK;
      let c = e - r * BK;
      let gr = row0 + r;
      let gp = p0 + c;
      var val = 0.0;
      if (gr < M && gp < P) {
        let row = params.row0 + gr;
        let kk = gp / N;
        let mm = gp - kk * N;
        val = a_aug(row, kk, K) * delta[row * N + mm];
      }
      gs[e] = val;
    }
    for (var e = t; e < BK * BN; e += nthreads) {
      let r = e / BN;
      let c = e - r * BN;
      let gp = p0 + r;
      let gj = col0 + c;
      vs[e] = select(0.0, v[gj * P + gp], gp < P && gj < J);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let vb = kk * BN + lid.x * 4u;
      let b = vec4<f32>(vs[vb], vs[vb + 1u], vs[vb + 2u], vs[vb + 3u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += gs[(lid.y * 4u + i) * BK + kk] * b;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= M) { break; }
    for (var jj = 0u; jj < 4u; jj++) {
      let c = col0 + lid.x * 4u + jj;
      if (c < J) { s[r * J + c] = acc[i][jj]; }
    }
  }
}
