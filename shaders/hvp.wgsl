// Exact Hessian–vector products of the mean softmax cross-entropy of an MLP: Pearlmutter's
// R-operator (forward-over-reverse), R{f} = d/dε f(θ + ε·v) at ε = 0, through the dense layers,
// their activation and softmax-CE. J directions v_j are processed at once (dispatch z = vector).
//
// Network (dense_forward.wgsl): a_0 = x, z_l = a_l · W_l + b_l, a_{l+1} = φ(z_l), logits z_{L−1}.
// Backward (dense_backward.wgsl, softmax_ce.wgsl): dz_{L−1} = (p − onehot)·s (s = 1/M for the
// mean over M samples), dW_l = [a_l, 1]ᵀ·dz_l, dz_{l−1} = (dz_l·W_lᵀ) ⊙ φ'(z_{l−1}).
// V_l is the (K + HAS_BIAS, N) block of v for layer l (flat parameter layout, bias row last).
// The R-operator applied to each line (product rule), a tangent R{·} per activation:
//
//   r_forward      Rz_l  = R{a_l}·W_l + [a_l, 1]·V_l,           R{a_l} = φ'(a_l) ⊙ Rz_{l−1}
//   r_softmax_ce   Rdz_{L−1} = s·(diag(p) − p pᵀ)·Rz_{L−1}      per row: s·p ⊙ (Rz − p·Rz)
//   r_grad_weight  (Hv)_l = [a_l, 1]ᵀ·Rdz_l + R{a_l}ᵀ·dz_l      (the bias row has R{1} = 0)
//   r_grad_input   Rdz_{l−1} = φ'(a_l) ⊙ (Rdz_l·W_lᵀ + dz_l·V_lᵀ) + φ''(a_l) ⊙ Rz_{l−1} ⊙ (dz_l·W_lᵀ)
//
// V_lᵀ in r_grad_input means the weight rows only (the bias does not feed back). φ' and φ'' are
// taken from the activation's output a = φ(z) as dense_backward.wgsl does: relu' = [a > 0],
// relu'' = 0 (almost everywhere), tanh' = 1 − a², tanh'' = −2a(1 − a²), identity' = 1, '' = 0.
// R{a_l} = 0 when no layer below l is perturbed: HAS_RIN = false skips those loads and terms.
// HAS_V = false means V_l = 0 (a layer above the perturbed block that only carries tangents).
//
// Shapes (llm.c form), per vector j (stride = the dispatch's own rows m):
//   a (M, K) layer input    rzin (J, M, K) Rz of the previous layer (or of the logits, softmax)
//   w (K + b, N)            v (J, v_stride) directions in the flat layout, block at v_offset
//   dz (M, N), rdz (J, M, N) gradient and its tangent at this layer's output
//   z (M, C) logits         hv (J, out_stride) products in the flat layout, block at out_offset
// Outputs: rz_out (J, M, N), rdz_out (J, M, C), hv (accumulated when `accumulate` = 1, so row
// chunks of a large set sum into one product), rdx (J, M, K).
//
// Register blocking as dense_forward.wgsl: a {{TM}} x {{TN}} output tile per thread in unrolled
// scalar registers, clamped loads, masked stores, no workgroup memory. Correct for any shape.

override WG_X: u32 = 4;            // threads along the output's columns (each covers {{TN}})
override WG_Y: u32 = 4;            // threads along the output's rows (each covers {{TM}})
override WG: u32 = 64;             // r_softmax_ce: threads per workgroup (one row each)
override ACT: u32 = 0;             // activation φ producing `a` (0 identity, 1 relu, 2 tanh)
override HAS_BIAS: bool = false;   // the layer block has a bias row
override HAS_RIN: bool = false;    // R{a_l} ≠ 0: read rzin
override HAS_V: bool = true;       // V_l ≠ 0: read v

struct Params {
  m: u32,            // M: rows (samples) of this dispatch
  k: u32,            // K: layer inputs
  n: u32,            // N: layer outputs (classes C for r_softmax_ce)
  v_offset: u32,     // first float of the layer block inside one direction of v
  v_stride: u32,     // floats per direction in v (the flat layout's total)
  out_offset: u32,   // r_grad_weight: first float of the layer block inside one product of hv
  out_stride: u32,   // r_grad_weight: floats per product in hv
  accumulate: u32,   // r_grad_weight: 1 adds to hv, 0 overwrites
  scale: f32,        // r_softmax_ce: s, 1/M_total for the mean loss over the whole set
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;               // (M, K) layer input a_l
@group(0) @binding(2) var<storage, read> rzin: array<f32>;            // (J, M, K) Rz_{l−1}; (J, M, C) logits tangent for r_softmax_ce
@group(0) @binding(3) var<storage, read> w: array<f32>;               // (K + b, N) W_l
@group(0) @binding(4) var<storage, read> v: array<f32>;               // (J, v_stride) directions
@group(0) @binding(5) var<storage, read> dz: array<f32>;              // (M, N) dL/dz_l
@group(0) @binding(6) var<storage, read> rdz: array<f32>;             // (J, M, N) R{dz_l}
@group(0) @binding(7) var<storage, read> z: array<f32>;               // (M, C) logits
@group(0) @binding(8) var<storage, read_write> rz_out: array<f32>;    // (J, M, N) Rz_l
@group(0) @binding(9) var<storage, read_write> rdz_out: array<f32>;   // (J, M, C) R{dz_{L−1}}
@group(0) @binding(10) var<storage, read_write> hv: array<f32>;       // (J, out_stride) H·v
@group(0) @binding(11) var<storage, read_write> rdx: array<f32>;      // (J, M, K) R{dz_{l−1}}

fn d1(y: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, y > 0.0); }
    case 2u: { return 1.0 - y * y; }
    default: { return 1.0; }
  }
}

fn d2(y: f32) -> f32 {
  switch ACT {
    case 2u: { return -2.0 * y * (1.0 - y * y); }
    default: { return 0.0; }
  }
}

// ------------------------------------------------------------------------------------------------
// Rz_l (M, N) = R{a_l}·W_l + [a_l, 1]·V_l; reduction over K.
fn store_rz(base: u32, r: u32, c: u32, val: f32) {
  if (r < params.m && c < params.n) { rz_out[base + r * params.n + c] = val; }
}

@compute @workgroup_size(WG_X, WG_Y)
fn r_forward(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let j = gid.z;
  let m0 = gid.y * {{TM}}u;
  let n0 = gid.x * {{TN}}u;
  if (m0 >= M || n0 >= N) { return; }
  let vb = j * params.v_stride + params.v_offset;
  let rb = j * M * K;
  // @repeat i in 0..{{TM}}
  let xr{i} = min(m0 + {i}u, M - 1u) * K;
  // @end
  // @repeat c in 0..{{TN}}
  let wc{c} = min(n0 + {c}u, N - 1u);
  // @end
  // @repeat i in 0..{{TM}}, c in 0..{{TN}}
  var s{i}_{c} = 0.0;
  // @end
  for (var k = 0u; k < K; k++) {
    let wk = k * N;
    if (HAS_RIN) {
      // @repeat i in 0..{{TM}}
      let ra{i} = d1(a[xr{i} + k]) * rzin[rb + xr{i} + k];
      // @end
      // @repeat c in 0..{{TN}}
      let b{c} = w[wk + wc{c}];
      // @end
      // @repeat i in 0..{{TM}}, c in 0..{{TN}}
      s{i}_{c} = fma(ra{i}, b{c}, s{i}_{c});
      // @end
    }
    if (HAS_V) {
      // @repeat i in 0..{{TM}}
      let x{i} = a[xr{i} + k];
      // @end
      // @repeat c in 0..{{TN}}
      let u{c} = v[vb + wk + wc{c}];
      // @end
      // @repeat i in 0..{{TM}}, c in 0..{{TN}}
      s{i}_{c} = fma(x{i}, u{c}, s{i}_{c});
      // @end
    }
  }
  if (HAS_V && HAS_BIAS) {
    let bk = K * N;
    // @repeat c in 0..{{TN}}
    let ub{c} = v[vb + bk + wc{c}];
    // @end
    // @repeat i in 0..{{TM}}, c in 0..{{TN}}
    s{i}_{c} += ub{c};
    // @end
  }
  let ob = j * M * N;
  // @repeat i in 0..{{TM}}, c in 0..{{TN}}
  store_rz(ob, m0 + {i}u, n0 + {c}u, s{i}_{c});
  // @end
}

// ------------------------------------------------------------------------------------------------
// R{dz_{L−1}} = s·p ⊙ (Rz − (p·Rz)) per row and direction, p = softmax(z). One thread per row.
@compute @workgroup_size(WG)
fn r_softmax_ce(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  let j = gid.z;
  let C = params.n;
  if (r >= params.m) { return; }
  let base = r * C;
  let tb = j * params.m * C + base;
  var mx = z[base];
  for (var c = 1u; c < C; c++) { mx = max(mx, z[base + c]); }
  var sum = 0.0;
  var dot = 0.0;
  for (var c = 0u; c < C; c++) {
    let e = exp(z[base + c] - mx);
    sum += e;
    dot += e * rzin[tb + c];
  }
  let inv = 1.0 / sum;
  dot *= inv;
  for (var c = 0u; c < C; c++) {
    let p = exp(z[base + c] - mx) * inv;
    rdz_out[tb + c] = params.scale * p * (rzin[tb + c] - dot);
  }
}

// ------------------------------------------------------------------------------------------------
// (Hv)_l (K + b, N) = [a_l, 1]ᵀ·Rdz_l + R{a_l}ᵀ·dz_l; reduction over the batch M.
fn store_hv(base: u32, r: u32, c: u32, val: f32) {
  if (r < params.k + select(0u, 1u, HAS_BIAS) && c < params.n) {
    let i = base + r * params.n + c;
    if (params.accumulate != 0u) { hv[i] += val; } else { hv[i] = val; }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn r_grad_weight(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let j = gid.z;
  let rows = K + select(0u, 1u, HAS_BIAS);
  let i0 = gid.y * {{TM}}u;
  let n0 = gid.x * {{TN}}u;
  if (i0 >= rows || n0 >= N) { return; }
  let rb = j * M * K;
  let tb = j * M * N;
  // @repeat i in 0..{{TM}}
  let xc{i} = min(i0 + {i}u, K - 1u);
  let one{i} = i0 + {i}u >= K;
  // @end
  // @repeat c in 0..{{TN}}
  let dc{c} = min(n0 + {c}u, N - 1u);
  // @end
  // @repeat i in 0..{{TM}}, c in 0..{{TN}}
  var s{i}_{c} = 0.0;
  // @end
  for (var m = 0u; m < M; m++) {
    let xm = m * K;
    let dm = m * N;
    // @repeat i in 0..{{TM}}
    let x{i} = select(a[xm + xc{i}], 1.0, one{i});
    // @end
    // @repeat c in 0..{{TN}}
    let t{c} = rdz[tb + dm + dc{c}];
    // @end
    // @repeat i in 0..{{TM}}, c in 0..{{TN}}
    s{i}_{c} = fma(x{i}, t{c}, s{i}_{c});
    // @end
    if (HAS_RIN) {
      // @repeat i in 0..{{TM}}
      let ra{i} = select(d1(a[xm + xc{i}]) * rzin[rb + xm + xc{i}], 0.0, one{i});
      // @end
      // @repeat c in 0..{{TN}}
      let g{c} = dz[dm + dc{c}];
      // @end
      // @repeat i in 0..{{TM}}, c in 0..{{TN}}
      s{i}_{c} = fma(ra{i}, g{c}, s{i}_{c});
      // @end
    }
  }
  let ob = j * params.out_stride + params.out_offset;
  // @repeat i in 0..{{TM}}, c in 0..{{TN}}
  store_hv(ob, i0 + {i}u, n0 + {c}u, s{i}_{c});
  // @end
}

// ------------------------------------------------------------------------------------------------
// R{dz_{l−1}} (M, K) = φ'(a) ⊙ (Rdz·Wᵀ + dz·Vᵀ) + φ''(a) ⊙ Rz_{l−1} ⊙ (dz·Wᵀ); reduction over N.
// The last term exists only for tanh (φ'' ≠ 0); relu and identity skip its loads and FMAs.
fn store_rdx(base: u32, r: u32, c: u32, s1: f32, s2: f32) {
  if (r < params.m && c < params.k) {
    let i = r * params.k + c;
    let y = a[i];
    var val = d1(y) * s1;
    if (ACT == 2u) { val += d2(y) * rzin[base + i] * s2; }
    rdx[base + i] = val;
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn r_grad_input(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let j = gid.z;
  let m0 = gid.y * {{TM}}u;
  let k0 = gid.x * {{TN}}u;
  if (m0 >= M || k0 >= K) { return; }
  let vb = j * params.v_stride + params.v_offset;
  let tb = j * M * N;
  // @repeat i in 0..{{TM}}
  let dr{i} = min(m0 + {i}u, M - 1u) * N;
  // @end
  // @repeat c in 0..{{TN}}
  let wr{c} = min(k0 + {c}u, K - 1u) * N;
  // @end
  // @repeat i in 0..{{TM}}, c in 0..{{TN}}
  var s{i}_{c} = 0.0;
  var q{i}_{c} = 0.0;
  // @end
  for (var n = 0u; n < N; n++) {
    // @repeat i in 0..{{TM}}
    let t{i} = rdz[tb + dr{i} + n];
    // @end
    // @repeat c in 0..{{TN}}
    let b{c} = w[wr{c} + n];
    // @end
    // @repeat i in 0..{{TM}}, c in 0..{{TN}}
    s{i}_{c} = fma(t{i}, b{c}, s{i}_{c});
    // @end
    if (HAS_V || ACT == 2u) {
      // @repeat i in 0..{{TM}}
      let g{i} = dz[dr{i} + n];
      // @end
      if (HAS_V) {
        // @repeat c in 0..{{TN}}
        let u{c} = v[vb + wr{c} + n];
        // @end
        // @repeat i in 0..{{TM}}, c in 0..{{TN}}
        s{i}_{c} = fma(g{i}, u{c}, s{i}_{c});
        // @end
      }
      if (ACT == 2u) {
        // @repeat i in 0..{{TM}}, c in 0..{{TN}}
        q{i}_{c} = fma(g{i}, b{c}, q{i}_{c});
        // @end
      }
    }
  }
  let ob = j * M * K;
  // @repeat i in 0..{{TM}}, c in 0..{{TN}}
  store_rdx(ob, m0 + {i}u, k0 + {c}u, s{i}_{c}, q{i}_{c});
  // @end
}
