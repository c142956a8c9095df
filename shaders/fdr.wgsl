// Fluctuation–dissipation meter (Yaida, ICLR 2019): the per-layer dot products behind both sides
// of the first fluctuation–dissipation relation of SGD, for one step, in one dispatch.
//
// The update (shaders/sgd.wgsl), with u_t = g_t + λ·θ_{t−1} (g_t = ∇L_B(θ_{t−1}), λ = weight decay):
//   μ = 0:  θ_t = θ_{t−1} − η·u_t
//   μ > 0:  v_t = μ·v_{t−1} + u_t,  θ_t = θ_{t−1} − η·v_t
// At stationarity E|θ_t|² = E|θ_{t−1}|² (and E θ_t·v_t = E θ_{t−1}·v_{t−1}) give, for every block
// of parameters the update treats coordinate-wise (a layer, the network):
//   ⟨θ·u⟩ = (η/2)·(1 + μ)·⟨|v_t|²⟩          (μ = 0: v_t = u_t, Yaida's ⟨θ·∇L_B⟩ = (η/2)⟨|∇L_B|²⟩)
// Both sides are sums of these dot products over the block (src/instruments/fdr.ts):
//   θ·u   = θθ·λ + θg                       |u|² = gg + 2λ·θg + λ²·θθ
//   |v_t|² = μ²·vv + 2μ·(vg + λ·vθ) + |u|²
// so `dots` writes, for layer l, out[6l .. 6l+5] = [θθ, θg, gg, vv, vg, vθ] (the last three 0
// without MOMENTUM), at the 'gradient' moment of the step (params θ_{t−1}, grads g_t, velocity v_{t−1}).
//
// Shapes: theta, grad, vel are the flat (P_total,) buffers of src/nn/params.ts; ranges is (L, 2):
// the offset and size (floats) of each layer's block; out is (6L,). One workgroup per layer
// (workgroup id = layer): each thread sums a strided share of the block, then a tree reduction in
// workgroup memory (written before it is read). Loads stop at the block end and at the buffers'
// lengths, the layer index is checked against `layers`, stores are masked.

override WG: u32 = 64;            // threads per workgroup (a power of two; 64: SwiftShader runs a 256-thread reduction ~5× slower)
override MOMENTUM: bool = false;  // the run has a velocity buffer: vv, vg, vθ are measured

struct Params {
  layers: u32,  // L: layers (workgroups) measured; out holds 6·L floats
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ranges: array<u32>;       // (L, 2): block offset and size in floats
@group(0) @binding(2) var<storage, read> theta: array<f32>;        // θ_{t−1}, flat layout
@group(0) @binding(3) var<storage, read> grad: array<f32>;         // g_t = ∇L_B(θ_{t−1}) (data loss only), flat layout
@group(0) @binding(4) var<storage, read> vel: array<f32>;          // v_{t−1} (MOMENTUM; any buffer otherwise), flat layout
@group(0) @binding(5) var<storage, read_write> out: array<f32>;    // (L, 6): θθ, θg, gg, vv, vg, vθ per layer

var<workgroup> part_a: array<vec3f, WG>;  // θθ, θg, gg
var<workgroup> part_b: array<vec3f, WG>;  // vv, vg, vθ

@compute @workgroup_size(WG)
fn dots(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let l = wid.x;
  let ok = l < params.layers && 2u * l + 1u < arrayLength(&ranges);
  // An invalid layer sums nothing (no early return: the barriers below need the whole workgroup).
  let r = min(2u * l, arrayLength(&ranges) - 2u);
  let first = select(0u, ranges[r], ok);
  var end = select(0u, ranges[r] + ranges[r + 1u], ok);
  end = min(end, min(arrayLength(&theta), arrayLength(&grad)));
  if (MOMENTUM) { end = min(end, arrayLength(&vel)); }
  var a = vec3f(0.0);
  var b = vec3f(0.0);
  for (var i = first + lid; i < end; i = i + WG) {
    let th = theta[i];
    let g = grad[i];
    a = a + vec3f(th * th, th * g, g * g);
    if (MOMENTUM) {
      let v = vel[i];
      b = b + vec3f(v * v, v * g, v * th);
    }
  }
  part_a[lid] = a;
  part_b[lid] = b;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      part_a[lid] = part_a[lid] + part_a[lid + stride];
      part_b[lid] = part_b[lid] + part_b[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u && ok && 6u * l + 5u < arrayLength(&out)) {
    let sa = part_a[0];
    let sb = part_b[0];
    out[6u * l] = sa.x;
    out[6u * l + 1u] = sa.y;
    out[6u * l + 2u] = sa.z;
    out[6u * l + 3u] = sb.x;
    out[6u * l + 4u] = sb.y;
    out[6u * l + 5u] = sb.z;
  }
}
