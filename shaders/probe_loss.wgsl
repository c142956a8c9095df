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
// the Q probes stacked as Q·M rows; the layers above run on Y with the ordinary dense forward
// kernel (one dispatch per layer for all probes), and then
//
//   loss:     l[q·M + r] = lse(z[q·M + r, :]) − z[q·M + r, y_r]           z is (Q·M, C) logits
//             partial[q·G + g] = Σ_{r in chunk g} l[q·M + r]           G = ceil(M / WG) chunks
//
// a segmented sum: workgroup (g, q) reduces WG rows of probe q in workgroup memory (every slot is
// written before it is read: workgroup memory is not zero-initialised here); the CPU adds the G
// partials of each probe in float64. Per-row losses are kept (rows) when minibatch losses L_μ of
// the same probes are wanted.
//
// probes is (Q, 2) f32: [dir_q, θ_q] (dir as an exactly represented small integer).

override WG: u32 = 256;    // threads per workgroup (a power of two, for the tree reduction)
override ACT: u32 = 0;     // activation of the perturbed layer: 0 identity, 1 relu, 2 tanh

struct Params {
  m: u32,        // M: dataset rows per probe
  n: u32,        // N: outputs of the perturbed layer (perturb) or classes C (loss)
  dirs: u32,     // D: directions stacked in U (perturb)
  probes: u32,   // Q: probes in this dispatch
  chunks: u32,   // G: partial sums per probe (loss), = ceil(M / WG)
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

var<workgroup> part: array<f32, WG>;

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    case 2u: { return tanh(v); }
    default: { return v; }
  }
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

// Dispatch (G, Q): workgroup (g, q) handles rows g·WG .. g·WG + WG − 1 of probe q.
@compute @workgroup_size(WG)
fn loss(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let M = params.m;
  let C = params.n;
  let q = wid.y;
  let r = wid.x * WG + lid;
  var l = 0.0;
  if (r < M) {
    let base = (q * M + r) * C;
    var mx = logits[base];
    for (var c = 1u; c < C; c++) { mx = max(mx, logits[base + c]); }
    var se = 0.0;
    for (var c = 0u; c < C; c++) { se += exp(logits[base + c] - mx); }
    l = (mx - logits[base + labels[r]]) + log(se);
    rows[q * M + r] = l;
  }
  part[lid] = l;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { part[lid] += part[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partial[q * params.chunks + wid.x] = part[0]; }
}
