// Scatter (covariance) matrix of a sequence of P-vectors — weight snapshots w_t of a layer, or
// per-sample gradients g_n — accumulated block by block on the GPU, safe when the mean is large
// against the fluctuations:
//
//   S = Σ_t (w_t − μ)(w_t − μ)ᵀ   (P, P),  μ = the mean of all T rows;  covariance = S / (T − 1).
//
// x is (T, P) row-major (row t = w_t); a block is rows row0 .. row0 + R − 1.
// 1. Centre on a reference r (P,), e.g. the first snapshot: y_t = w_t − r. Differences of nearby
//    float32 values are (nearly) exact, so y carries the fluctuations at full relative precision
//    whatever |μ| is; forming Σ w wᵀ − T μ μᵀ instead would cancel away ~log10(|μ|/spread)·2 digits.
// 2. Per block B (column_stats, center): its mean m_B of y and its centred rows D = y − m_B.
// 3. Merge into the running (n_A, m_A, S_A) with Chan, Golub & LeVeque's pairwise update
//    (accumulate, merge_mean):
//      n = n_A + n_B,  δ = m_B − m_A,
//      S = S_A + Dᵀ·D + (n_A·n_B / n)·δ δᵀ,      m = m_A + (n_B / n)·δ
//    Every term is a product of fluctuation-sized numbers; no large mean is ever squared.
//    The final mean of the w_t is r + m.
// column_stats also gives, per column, the centred sum of squares and the least-squares slope in t
// (for the linear detrending of a window: r_t = y_t − m − slope·(t − t̄), t̄ = (R − 1)/2); center
// subtracts `detrend`·slope·(t − t̄) as well, so the detrended window's scatter is accumulate on it
// with coef 0. diagonal copies S's diagonal (trace = total variance · (T − 1)).
//
// Shapes: x (≥ row0 + R, P), ref (P,), stats (3P,) = [mean | centred sum of squares | slope per
// step], d (R, P) centred block, s (P, P), mean_run (P,), diag (P,).
// accumulate is a SYRK, register-blocked like dense_forward.wgsl: each thread owns a {{TM}} x {{TN}}
// tile of S in unrolled scalars, each workgroup a square WG_T·{{TM}} x WG_T·{{TN}} tile ({{TM}} =
// {{TN}}); only workgroup tiles on or above the diagonal are computed and an off-diagonal one also
// writes its mirror, halving the work. No workgroup memory; load indices are clamped into the
// matrix (robustness is off in Node) and stores masked. Correct for any P, R.

override WG: u32 = 256;       // column_stats, center, merge_mean, diagonal: threads per workgroup
override WG_T: u32 = 4;       // accumulate: threads per side of the square workgroup tile

struct Params {
  rows: u32,      // R: rows of the block (accumulate: rows of d)
  cols: u32,      // P: entries per row
  row0: u32,      // first row of the block in x (column_stats, center)
  detrend: f32,   // center: 1 to also subtract slope·(t − t̄), 0 for plain centring
  beta: f32,      // accumulate: S ← beta·S + …  (0: overwrite; S is then never read)
  coef: f32,      // accumulate: weight of δδᵀ, n_A·n_B/(n_A + n_B) (0 for the first block)
  frac: f32,      // merge_mean: n_B/(n_A + n_B) (1 for the first block: m ← m_B)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // (T, P) rows (snapshots)
@group(0) @binding(2) var<storage, read> ref_row: array<f32>;        // (P,) reference r
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;    // (3P,) block mean | centred SS | slope
@group(0) @binding(4) var<storage, read> stats_in: array<f32>;       // (3P,) the same, read side
@group(0) @binding(5) var<storage, read_write> d: array<f32>;        // (R, P) centred block
@group(0) @binding(6) var<storage, read> d_in: array<f32>;           // (R, P) centred block, read side
@group(0) @binding(7) var<storage, read_write> s: array<f32>;        // (P, P) scatter matrix
@group(0) @binding(8) var<storage, read_write> mean_run: array<f32>; // (P,) running mean m of y
@group(0) @binding(9) var<storage, read_write> diag: array<f32>;     // (P,) diagonal of S

// Mean, centred sum of squares and LS slope of column p of y = x − r over the block (two passes).
@compute @workgroup_size(WG)
fn column_stats(@builtin(global_invocation_id) gid: vec3u) {
  let P = params.cols;
  let R = params.rows;
  let p = gid.x;
  if (p >= P) { return; }
  let r = ref_row[p];
  var sum = 0.0;
  for (var t = 0u; t < R; t++) { sum += x[(params.row0 + t) * P + p] - r; }
  let mean = sum / f32(R);
  let tbar = 0.5 * f32(R - 1u);
  var ss = 0.0;
  var sty = 0.0;
  for (var t = 0u; t < R; t++) {
    let e = (x[(params.row0 + t) * P + p] - r) - mean;
    ss += e * e;
    sty += (f32(t) - tbar) * e;
  }
  let fr = f32(R);
  let stt = fr * (fr * fr - 1.0) / 12.0;
  stats[p] = mean;
  stats[P + p] = ss;
  stats[2u * P + p] = select(0.0, sty / stt, R > 1u);
}

// d[t, p] = (x[row0 + t, p] − r[p]) − mean[p] − detrend·slope[p]·(t − t̄).
@compute @workgroup_size(WG)
fn center(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let P = params.cols;
  let R = params.rows;
  let total = R * P;
  let stride = nwg.x * WG;
  let tbar = 0.5 * f32(R - 1u);
  for (var i = gid.x; i < total; i += stride) {
    let t = i / P;
    let p = i - t * P;
    let y = x[(params.row0 + t) * P + p] - ref_row[p];
    d[i] = (y - stats_in[p]) - params.detrend * stats_in[2u * P + p] * (f32(t) - tbar);
  }
}

fn store_s(r: u32, c: u32, acc: f32, mirror: bool) {
  let P = params.cols;
  if (r < P && c < P) {
    let dr = stats_in[r] - mean_run[r];
    let dc = stats_in[c] - mean_run[c];
    var val = acc + params.coef * dr * dc;
    if (params.beta != 0.0) { val += params.beta * s[r * P + c]; }
    s[r * P + c] = val;
    if (mirror) { s[c * P + r] = val; }
  }
}

// S ← beta·S + d_inᵀ·d_in + coef·δδᵀ with δ = block mean (stats_in) − mean_run.
@compute @workgroup_size(WG_T, WG_T)
fn accumulate(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  // Upper workgroup tiles only (tile row ≤ tile column): uniform per workgroup.
  if (wid.y > wid.x) { return; }
  let P = params.cols;
  let R = params.rows;
  let i0 = (wid.y * WG_T + lid.y) * {{TM}}u;   // S rows
  let j0 = (wid.x * WG_T + lid.x) * {{TN}}u;   // S columns
  if (i0 >= P || j0 >= P) { return; }
  let mirror = wid.y != wid.x;
  // @repeat i in 0..{{TM}}
  let ci{i} = min(i0 + {i}u, P - 1u);
  // @end
  // @repeat j in 0..{{TN}}
  let cj{j} = min(j0 + {j}u, P - 1u);
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var s{i}_{j} = 0.0;
  // @end
  for (var t = 0u; t < R; t++) {
    let o = t * P;
    // @repeat i in 0..{{TM}}
    let a{i} = d_in[o + ci{i}];
    // @end
    // @repeat j in 0..{{TN}}
    let b{j} = d_in[o + cj{j}];
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TN}}
    s{i}_{j} = fma(a{i}, b{j}, s{i}_{j});
    // @end
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store_s(i0 + {i}u, j0 + {j}u, s{i}_{j}, mirror);
  // @end
}

// mean_run ← mean_run + frac·(block mean − mean_run)   (frac ≥ 1: mean_run ← block mean).
@compute @workgroup_size(WG)
fn merge_mean(@builtin(global_invocation_id) gid: vec3u) {
  let p = gid.x;
  if (p >= params.cols) { return; }
  let b = stats_in[p];
  if (params.frac >= 1.0) {
    mean_run[p] = b;
  } else {
    mean_run[p] = mean_run[p] + params.frac * (b - mean_run[p]);
  }
}

@compute @workgroup_size(WG)
fn diagonal(@builtin(global_invocation_id) gid: vec3u) {
  let p = gid.x;
  let P = params.cols;
  if (p >= P) { return; }
  diag[p] = s[p * P + p];
}
