// Scatter matrix of a window of float32 rows, precise to its tail: double-single arithmetic.
//
//   S = Σ_t d_t d_tᵀ   (P, P),   d_t = x_t − μ,   μ = the window mean (covariance = S / (T − 1)).
//
// Why: when one direction holds 99.9% of the variance (Feng & Tu's drift), S's entries are set by
// it, and a float32 S (or float32 sums of float32 products) carries an error ~1e-7·‖S‖ in every
// eigenvalue — the tail σ_i² ≈ 1e-9·σ₁² is then pure round-off. WGSL has no f64, so every S entry
// is kept as an unevaluated pair hi + lo of float32 ("double-single", ~48 significant bits):
//
// 1. Centring, exact: μ is known in float64 on the CPU and given as r + m, r = float32(μ) (`ref_row`)
//    and m = float32(μ − r) (`mean_lo`, |m| ≤ ulp(r)/2). x − r is formed exactly as a pair by
//    TwoDiff (Knuth), then m is subtracted with TwoSum: d = (d_hi, d_lo) to ~2⁻⁴⁸·|d|.
// 2. Products, exact: p = a_hi·b_hi and its rounding error e = fma(a_hi, b_hi, −p) when fma is
//    fused (EXACT_FMA), else Dekker's split (a = a_h + a_l, 12-bit halves; every partial product
//    exact). The cross terms a_hi·b_lo + a_lo·b_hi are ~2⁻²⁴ of p and need no more care.
// 3. Sums, compensated: (s, c) ← TwoSum(s, p), c += err + e + cross. c is renormalised into s
//    (Fast2Sum) once per block; blocks are added into S as pairs (TwoSum of the hi parts).
// The host checks on every device that fma and TwoSum behave as IEEE float32 requires (entry
// `probe`) and that a small known problem comes out exact (src/analysis/noise/precise-scatter.ts),
// and falls back to float64 on the CPU if not. Nothing is reassociated here; a compiler that did
// would fail that check.
//
// Shapes: x (≥ row0 + R, P) rows of the window, ref_row (P,), mean_lo (P,), s_hi and s_lo (P, P)
// row-major, S = s_hi + s_lo. accumulate adds rows row0 .. row0 + R − 1 (first = 1: overwrite).
// Register-blocked like scatter.wgsl's accumulate: each thread a {{TM}} x {{TN}} tile of pairs,
// each workgroup a square (WG_T·{{TM}})² tile; only workgroup tiles on or above the diagonal are
// computed, an off-diagonal one also writes its mirror. No workgroup memory; loads clamped,
// stores masked. Correct for any P and R.

override WG_T: u32 = 4;           // accumulate: threads per side of the square workgroup tile
override EXACT_FMA: bool = true;  // fma(a, b, c) is fused (one rounding); false: Dekker's split

struct Params {
  rows: u32,    // R: rows added by this dispatch
  cols: u32,    // P: entries per row
  row0: u32,    // first row of x added
  first: u32,   // 1: S ← this block (S is not read); 0: S ← S + this block
  n: u32,       // probe: number of (a, b) pairs
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // (T, P) rows (snapshots)
@group(0) @binding(2) var<storage, read> ref_row: array<f32>;        // (P,) r = float32(μ)
@group(0) @binding(3) var<storage, read> mean_lo: array<f32>;        // (P,) m = float32(μ − r)
@group(0) @binding(4) var<storage, read_write> s_hi: array<f32>;     // (P, P) high parts of S
@group(0) @binding(5) var<storage, read_write> s_lo: array<f32>;     // (P, P) low parts of S
@group(0) @binding(6) var<storage, read> probe_in: array<f32>;       // (2n,) probe: pairs (a, b)
@group(0) @binding(7) var<storage, read_write> probe_out: array<f32>; // (4n,) probe: p, e, s, err

// Knuth's TwoSum: s + err = a + b exactly, s = fl(a + b).
fn two_sum(a: f32, b: f32) -> vec2f {
  let s = a + b;
  let bb = s - a;
  let err = (a - (s - bb)) + (b - bb);
  return vec2f(s, err);
}

// Dekker's Fast2Sum, valid when |a| ≥ |b| (or a = 0): s + err = a + b exactly.
fn fast_two_sum(a: f32, b: f32) -> vec2f {
  let s = a + b;
  return vec2f(s, b - (s - a));
}

// Veltkamp's split: a = h + l with h holding the top 12 significand bits (both exact).
fn split(a: f32) -> vec2f {
  let c = 4097.0 * a;
  let h = c - (c - a);
  return vec2f(h, a - h);
}

// Rounding error of p = fl(a·b): a·b − p exactly (as = split(a), bs = split(b) for Dekker).
fn prod_err(a: f32, b: f32, p: f32, as_: vec2f, bs: vec2f) -> f32 {
  if (EXACT_FMA) {
    return fma(a, b, -p);
  }
  return ((as_.x * bs.x - p) + as_.x * bs.y + as_.y * bs.x) + as_.y * bs.y;
}

// The centred value of column c at row t as a pair: (x − r) − m.
fn centred(t: u32, c: u32) -> vec2f {
  let xv = x[t * params.cols + c];
  let r = ref_row[c];
  let h = two_sum(xv, -r);          // exact: x − r = h.x + h.y
  let g = two_sum(h.x, -mean_lo[c]);
  return fast_two_sum(g.x, g.y + h.y);
}

fn store_pair(r: u32, c: u32, hi: f32, lo: f32, mirror: bool) {
  let P = params.cols;
  if (r < P && c < P) {
    let i = r * P + c;
    var v = fast_two_sum(hi, lo);
    if (params.first == 0u) {
      let s = two_sum(s_hi[i], v.x);
      v = fast_two_sum(s.x, s.y + (s_lo[i] + v.y));
    }
    s_hi[i] = v.x;
    s_lo[i] = v.y;
    if (mirror) {
      let j = c * P + r;
      s_hi[j] = v.x;
      s_lo[j] = v.y;
    }
  }
}

// S ← [S +] Σ_{t in block} d_t d_tᵀ in pairs.
@compute @workgroup_size(WG_T, WG_T)
fn accumulate(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  // Upper workgroup tiles only (uniform per workgroup); this thread's first S row and column.
  let tile = vec2u(wid.y * WG_T + lid.y, wid.x * WG_T + lid.x) * vec2u({{TM}}u, {{TN}}u);
  let last = params.cols - 1u;
  if (wid.y > wid.x || tile.x > last || tile.y > last) { return; }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var h{i}_{j} = 0.0;
  var l{i}_{j} = 0.0;
  // @end
  for (var t = params.row0; t < params.row0 + params.rows; t++) {
    // Columns past the matrix are clamped onto its last one (their results are not stored).
    // @repeat i in 0..{{TM}}
    let a{i} = centred(t, min(tile.x + {i}u, last));
    var as{i} = vec2f(0.0);
    if (!EXACT_FMA) { as{i} = split(a{i}.x); }
    // @end
    // @repeat j in 0..{{TN}}
    let b{j} = centred(t, min(tile.y + {j}u, last));
    var bs{j} = vec2f(0.0);
    if (!EXACT_FMA) { bs{j} = split(b{j}.x); }
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TN}}
    {
      let p = a{i}.x * b{j}.x;
      let e = prod_err(a{i}.x, b{j}.x, p, as{i}, bs{j}) + (a{i}.x * b{j}.y + a{i}.y * b{j}.x);
      let s = two_sum(h{i}_{j}, p);
      h{i}_{j} = s.x;
      l{i}_{j} += s.y + e;
    }
    // @end
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store_pair(tile.x + {i}u, tile.y + {j}u, h{i}_{j}, l{i}_{j}, wid.y != wid.x);
  // @end
}

// Self-test of the arithmetic above on this device: for each pair (a, b), p = fl(a·b), its error
// by prod_err, s = fl(a + b) and its error by two_sum. The host compares with exact float64.
@compute @workgroup_size(64)
fn probe(@builtin(global_invocation_id) gid: vec3u) {
  let k = gid.x;
  if (k >= params.n) { return; }
  let a = probe_in[2u * k];
  let b = probe_in[2u * k + 1u];
  let p = a * b;
  let s = two_sum(a, b);
  probe_out[4u * k] = p;
  probe_out[4u * k + 1u] = prod_err(a, b, p, split(a), split(b));
  probe_out[4u * k + 2u] = s.x;
  probe_out[4u * k + 3u] = s.y;
}
