// Gradient noise scale (McCandlish et al. 2018): the two sums behind B_simple = tr(Σ)/|G|² of one
// dense layer's parameter block, from one minibatch, without forming a per-sample gradient.
//
// A dense layer z_n = x_n·W (+ b) has the per-sample gradient g_n = [x_n, 1?] ⊗ δ_n, δ_n = ∂l_n/∂z_n.
// Training stores dz_n = grad_scale·δ_n (grad_scale = 1/B: the gradient of the minibatch MEAN loss,
// src/train/step-view.ts), so δ_n = dz_n / grad_scale and
//
//   sample_norms:  s = Σ_n |g_n|² = Σ_n (|x_n|² + HAS_BIAS)·|dz_n|² / grad_scale²
//   grad_sq:       q = |Ĝ|² = Σ_p grad[p]²        Ĝ = (1/B)·Σ_n g_n, the minibatch gradient (the layer's block of grads)
//
// written to out[2·slot] and out[2·slot + 1]. From them (src/instruments/grad-noise-scale.ts):
// tr Σ̂ = (s − B·q)/(B − 1) and the unbiased |G|² = q − (1 − B/M)·tr Σ̂/B.
//
// Shapes: x is (B, K), dz is (B, N), grad is (P,) = ((K + HAS_BIAS)·N,), out is (≥ 2·slot + 2,).
// One workgroup per dispatch (a batch is at most a few thousand rows, a block at most ~10⁵ floats):
// each thread sums a strided share, then a tree reduction in workgroup memory (written before it
// is read). Every load is inside its array: loops stop at the row or block count.

override WG: u32 = 64;            // threads of the single workgroup (a power of two)
override HAS_BIAS: bool = false;  // the block has a bias row: x is extended with a 1

struct Params {
  rows: u32,         // B: samples of the minibatch
  k: u32,            // K: input features of the layer
  n: u32,            // N: output features of the layer
  p: u32,            // P: floats of the layer's block, (K + HAS_BIAS)·N
  slot: u32,         // which pair of out to write
  grad_scale: f32,   // dz = grad_scale · ∂l_n/∂z_n (1/B in training)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;            // (B, K) the layer's input
@group(0) @binding(2) var<storage, read> dz: array<f32>;           // (B, N) ∂L_B/∂z
@group(0) @binding(3) var<storage, read> grad: array<f32>;         // (P,) the layer's block of the minibatch gradient
@group(0) @binding(4) var<storage, read_write> out: array<f32>;    // [s, q] per slot

var<workgroup> part: array<f32, WG>;

fn reduce_to(lid: u32, at: u32) {
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { part[lid] = part[lid] + part[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[at] = part[0]; }
}

@compute @workgroup_size(WG)
fn sample_norms(@builtin(local_invocation_index) lid: u32) {
  let K = params.k;
  let N = params.n;
  var acc = 0.0;
  for (var r = lid; r < params.rows; r = r + WG) {
    var xx = select(0.0, 1.0, HAS_BIAS);
    for (var i = 0u; i < K; i++) { let v = x[r * K + i]; xx = fma(v, v, xx); }
    var dd = 0.0;
    for (var j = 0u; j < N; j++) { let v = dz[r * N + j]; dd = fma(v, v, dd); }
    acc = fma(xx, dd, acc);
  }
  part[lid] = acc / (params.grad_scale * params.grad_scale);
  reduce_to(lid, 2u * params.slot);
}

@compute @workgroup_size(WG)
fn grad_sq(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < params.p; i = i + WG) { let v = grad[i]; acc = fma(v, v, acc); }
  part[lid] = acc;
  reduce_to(lid, 2u * params.slot + 1u);
}
