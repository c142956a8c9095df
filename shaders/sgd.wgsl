// SGD update over a flat parameter vector (all layers' W and b in one buffer, see src/nn/params.ts).
//
//   plain:     w <- w - lr * (g + wd * w)
//   momentum:  v <- mu * v + (g + wd * w);  w <- w - lr * v        (PyTorch's SGD convention)
//
// Shapes: w, g, v are (P,). One thread per parameter, grid-stride so any P fits any dispatch.

// Workgroup size (threads per workgroup).
override WG: u32 = 256;
// 1 when a velocity buffer is used (momentum > 0), 0 otherwise. Fixed per pipeline so the
// momentum-free update does not read or write v.
override MOMENTUM: bool = false;

struct Params {
  count: u32,        // P: number of parameters to update
  lr: f32,           // learning rate
  weight_decay: f32, // L2 coefficient wd added to the gradient
  momentum: f32,     // mu, used only when MOMENTUM
  grid_stride: u32,  // total threads in the dispatch (workgroups * WG)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;   // (P,) parameters, updated in place
@group(0) @binding(2) var<storage, read> g: array<f32>;         // (P,) gradient of the minibatch loss
@group(0) @binding(3) var<storage, read_write> v: array<f32>;   // (P,) velocity (bind any buffer when !MOMENTUM)

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  for (var i = gid.x; i < params.count; i += params.grid_stride) {
    let wi = w[i];
    let gi = g[i] + params.weight_decay * wi;
    if (MOMENTUM) {
      let vi = params.momentum * v[i] + gi;
      v[i] = vi;
      w[i] = wi - params.lr * vi;
    } else {
      w[i] = wi - params.lr * gi;
    }
  }
}
