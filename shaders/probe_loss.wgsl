// Loss-landscape probes: the full-dataset loss at many perturbed weights w* + θ_q·p_q in one pass,
// for flatness searches and mini-loss-function slices (Feng & Tu 2021).
//
// Only one dense layer l is perturbed: W_q = W* + θ_q·P_q, P_q a direction as a (K + bias, N)
// block. Its input A (M, K) over the dataset does not depend on W, so it is computed once, and so
// are Z0 = A·W* (+ b*) (M, N) and U = A·[P_0 | P_1 | …] (+ bias rows) (M, D·N) for all D directions
// (dense_forward.wgsl). A probe q (direction dir_q, step θ_q) is then elementwise:
//
//   perturb:  Y[q·M + r, c] = act(Z0[r, c] + θ_q·U[r, dir_q·N + c])      Y is (Q·M, N)
//
// the Q probes stacked as Q·M rows. Usually Y is not written at all: perturb_forward fuses it into
// the next layer's matmul, register-blocked like dense_forward.wgsl ({{TM}} x {{TN}} scalar tiles,
// clamped loads, masked stores):
//
//   perturb_forward:  Y2[q·M + r, :] = act2(act(Z0[r, :] + θ_q·U[r, dir_q·N + …]) · W2 (+ b2))
//
// then any further layers run with the ordinary dense forward kernel on the Q·M rows, and
//
//   loss:     l[q·M + r] = lse(z[q·M + r, :]) − z[q·M + r, y_r]           z is (Q·M, C) logits
//             partial[q·G + g] = Σ_{r in chunk g} l[q·M + r]           G = ceil(M / RPT) chunks
//
// a segmented sum without workgroup memory or barriers (both are slow on SwiftShader): thread g of
// probe q adds the losses of its RPT consecutive rows; the CPU adds the G partials of each probe in
// float64. Per-row losses are kept (rows) when minibatch losses L_μ of the same probes are wanted.
//
// probes is (Q, 2) f32: [dir_q, θ_q] (dir as an exactly represented small integer).

override WG: u32 = 64;     // perturb, loss: threads per workgroup
override RPT: u32 = 32;    // loss: rows summed per thread (one partial sum each)
override ACT: u32 = 0;     // activation of the perturbed layer: 0 identity, 1 relu, 2 tanh
override ACT2: u32 = 0;    // perturb_forward: activation of the next layer
override HAS_BIAS: bool = false; // perturb_forward: the next layer has a bias row
override WG_X: u32 = 4;    // perturb_forward: threads along the next layer's outputs (each {{TN}})
override WG_Y: u32 = 4;    // perturb_forward: threads along the stacked rows (each {{TM}})

struct Params {
  m: u32,        // M: dataset rows per probe
  n: u32,        // N: outputs of the perturbed layer (perturb, perturb_forward) or classes C (loss)
  dirs: u32,     // D: directions stacked in U (perturb, perturb_forward)
  probes: u32,   // Q: probes in this dispatch
  chunks: u32,   // G: partial sums per probe (loss), = ceil(M / RPT)
  c: u32,        // perturb_forward: outputs C2 of the next layer
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z0: array<f32>;          // (M, N) pre-activation at w*
@group(0) @binding(2) var<storage, read> u: array<f32>;           // (M, D·N) A·P_d for every direction
@group(0) @binding(3) var<storage, read> probe: array<f32>;       // (Q, 2) [direction, θ]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;     // (Q·M, N) perturbed layer output
@group(0) @binding(5) var<storage, read> logits: array<f32>;      // (Q·M, C) network output
@group(0) @binding(6) var<storage, read> labels: array<u32>;      // (M,) labels
@group(0) @binding(7) var<storage, read_write> rows: array<f32>;  // (Q·M,) per-row loss
@group(0) @binding(8) var<storage, read_write> partial: array<f32>; // (Q·G,) per-chunk loss sums
@group(0) @binding(9) var<storage, read> w2: array<f32>;          // (N + HAS_BIAS, C2) next layer's block
@group(0) @binding(10) var<storage, read_write> y2: array<f32>;   // (Q·M, C2) next layer's output

fn act_code(code: u32, v: f32) -> f32 {
  switch code {
    case 1u: { return max(v, 0.0); }
    // Clamped as dense_forward.wgsl: SwiftShader's tanh returns NaN for |v| >= 89.
    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }
    default: { return v; }
  }
}

fn activate(v: f32) -> f32 {
  return act_code(ACT, v);
}

// Dispatch (x, Q): workgroups along x stride over the M·N entries of probe q = workgroup y.
@compute @workgroup_size(WG)
fn perturb(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let M = params.m;
  let N = params.n;
  let q = gid.y;
  if (q >= params.probes) { return; }
  let dir = u32(probe[2u * q]);
  let theta = probe[2u * q + 1u];
  let DN = params.dirs * N;
  let total = M * N;
  let stride = nwg.x * WG;
  for (var i = gid.x; i < total; i += stride) {
    let r = i / N;
    let c = i - r * N;
    y[q * total + i] = activate(z0[i] + theta * u[r * DN + dir * N + c]);
  }
}

// Dispatch (ceil(G / WG), Q): thread g of probe q = workgroup y sums rows g·RPT .. g·RPT + RPT − 1.
@compute @workgroup_size(WG)
fn loss(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let C = params.n;
  let q = gid.y;
  let g = gid.x;
  if (g >= params.chunks || q >= params.probes) { return; }
  let r1 = min(M, (g + 1u) * RPT);
  var sum = 0.0;
  for (var r = g * RPT; r < r1; r++) {
    let base = (q * M + r) * C;
    var mx = logits[base];
    for (var c = 1u; c < C; c++) { mx = max(mx, logits[base + c]); }
    var se = 0.0;
    for (var c = 0u; c < C; c++) { se += exp(logits[base + c] - mx); }
    let l = (mx - logits[base + labels[r]]) + log(se);
    rows[q * M + r] = l;
    sum += l;
  }
  partial[q * params.chunks + g] = sum;
}

fn store_y2(row: u32, col: u32, acc: f32, stacked: u32) {
  if (row < stacked && col < params.c) {
    var v = acc;
    if (HAS_BIAS) { v += w2[params.n * params.c + col]; }
    y2[row * params.c + col] = act_code(ACT2, v);
  }
}

// Dispatch covering (Q·M) rows × C2 columns with {{TM}} x {{TN}} tiles per thread.
@compute @workgroup_size(WG_X, WG_Y)
fn perturb_forward(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let N = params.n;
  let C2 = params.c;
  // (Names of locals must differ from the bindings': wgsl_reflect would count them as uses.)
  let stacked = params.probes * M;
  let m0 = gid.y * {{TM}}u;
  let c0 = gid.x * {{TN}}u;
  if (m0 >= stacked || c0 >= C2) { return; }
  let DN = params.dirs * N;
  // Per stacked row: its dataset row r, its probe's θ and the offsets of Z0[r] and U[r, dir].
  // @repeat i in 0..{{TM}}
  let R{i} = min(m0 + {i}u, stacked - 1u);
  let q{i} = R{i} / M;
  let r{i} = R{i} - q{i} * M;
  let th{i} = probe[2u * q{i} + 1u];
  let zr{i} = r{i} * N;
  let ur{i} = r{i} * DN + u32(probe[2u * q{i}]) * N;
  // @end
  // @repeat j in 0..{{TN}}
  let wc{j} = min(c0 + {j}u, C2 - 1u);
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var s{i}_{j} = 0.0;
  // @end
  for (var n = 0u; n < N; n++) {
    // @repeat i in 0..{{TM}}
    let a{i} = activate(z0[zr{i} + n] + th{i} * u[ur{i} + n]);
    // @end
    let wn = n * C2;
    // @repeat j in 0..{{TN}}
    let b{j} = w2[wn + wc{j}];
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TN}}
    s{i}_{j} = fma(a{i}, b{j}, s{i}_{j});
    // @end
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store_y2(m0 + {i}u, c0 + {j}u, s{i}_{j}, stacked);
  // @end
}
