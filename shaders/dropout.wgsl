// Inverted dropout on a hidden activation, with a counter-based mask that needs no stored random
// state (the same function of (seed, layer, step, element) in every run, on every device).
//
// h is the layer's output act(z), (M, N) row-major, count = M·N elements. For element i:
//   (u0, u1) = threefry2x32_20(counter = (⌊i/2⌋, step), key = (seed, DROPOUT_STREAM + layer))
//   u[i]     = u0 if i is even, u1 if odd          (one threefry call per pair of elements)
//   keep[i]  = u[i] ≥ threshold,   threshold = min(round(p·2³²), 2³² − 1)  → P(drop) = threshold/2³²
//   mask[i]  = keep[i] ? scale : 0,  scale = 1/(1 − p)    (inverted dropout: E[mask] = 1)
// src/kernels/dropout.ref.ts is the spec (bit-exact keep decisions; threefry from
// src/kernels/threefry.ts, Random123 known-answer vectors in the tests). The GPU threefry is the
// shared one of shaders/lib/threefry.wgsl, pulled in by the @include line below the bindings.
//
//   forward:   mask[i] = as above;  y[i] = h[i]·mask[i]
//              The next layer reads y (forward and its weight gradient); h is kept for act'.
//   backward:  dz[i] = dz[i]·mask[i]
//              Run on dL/dz of this layer after dense_backward.grad_input computed
//              (dL/dy·Wᵀ) ⊙ act'(h): dL/dz = dL/dy ⊙ mask ⊙ act'(z), elementwise, so the order of
//              the two products does not matter. The mask of the forward pass is reused as stored.
//
// One thread per pair of elements; the grid may be 2-D (x·WG·ny) for large counts. Stores are
// masked (robustness is off in Node); no workgroup memory.
//
// Replicas (shaders/README.md, "Ensembles"): the grid's z is the replica r; its elements are the
// r-th block of count (h, y, mask, dz alike), its seed, threshold and scale are settings[r] (the
// record sgd.wgsl reads), and the counter is the element index within the block: replica r's mask
// is the mask of a network trained alone with its seed.

override WG: u32 = 64;   // threads per workgroup

struct Params {
  count: u32,       // M·N elements per replica
  stream: u32,      // key word 1: DROPOUT_STREAM + layer
  step: u32,        // counter word 1: the SGD step (1-based)
  row_pairs: u32,   // pairs per grid row (workgroups along x · WG)
}

// One replica's settings (src/kernels/replica-settings.ts; the same record as in sgd.wgsl).
struct ReplicaSettings {
  lr: f32,            // (sgd.wgsl)
  weight_decay: f32,  // (sgd.wgsl)
  momentum: f32,      // (sgd.wgsl)
  drop_scale: f32,    // 1/(1 − p)
  drop_seed: u32,     // key word 0: the replica's seed
  drop_threshold: u32,// drop when u < threshold (= round(p·2³²), clamped)
  pad0: u32,          // (padding to 32 bytes)
  pad1: u32,          // (padding)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;              // (R, count) activation before dropout
@group(0) @binding(2) var<storage, read_write> y: array<f32>;        // (R, count) activation after dropout
@group(0) @binding(3) var<storage, read_write> mask: array<f32>;     // (R, count) 0 or scale
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;       // (R, count) gradient scaled in place (backward)
@group(0) @binding(5) var<storage, read> settings: array<ReplicaSettings>; // (R,) per-replica seed, threshold, scale

// @include lib/threefry.wgsl   // rotl, threefry (Threefry-2x32-20)

fn mask_value(u: u32, s: ReplicaSettings) -> f32 {
  return select(0.0, s.drop_scale, u >= s.drop_threshold);
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u) {
  let pair = gid.y * params.row_pairs + gid.x;
  if (2u * pair >= params.count) { return; }
  let s = settings[min(gid.z, arrayLength(&settings) - 1u)];
  let u = threefry(vec2u(pair, params.step), vec2u(s.drop_seed, params.stream));
  let i0 = gid.z * params.count + 2u * pair;
  let m0 = mask_value(u.x, s);
  mask[i0] = m0;
  y[i0] = h[i0] * m0;
  if (2u * pair + 1u < params.count) {
    let m1 = mask_value(u.y, s);
    mask[i0 + 1u] = m1;
    y[i0 + 1u] = h[i0 + 1u] * m1;
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u) {
  let pair = gid.y * params.row_pairs + gid.x;
  if (2u * pair >= params.count) { return; }
  let i0 = gid.z * params.count + 2u * pair;
  dz[i0] = dz[i0] * mask[i0];
  if (2u * pair + 1u < params.count) { dz[i0 + 1u] = dz[i0 + 1u] * mask[i0 + 1u]; }
}
