// SGD update over a flat parameter vector (all layers' W and b in one buffer, see src/nn/params.ts),
// for R replicas at once, each with its own learning rate, weight decay and momentum.
//
//   plain:     w <- w - lr * (g + wd * w)
//   momentum:  v <- mu * v + (g + wd * w);  w <- w - lr * v        (PyTorch's SGD convention)
//
// Shapes: w, g, v are (R, P) with replica r's vector at r·stride. One thread per parameter,
// grid-stride along P so any P fits any dispatch; the grid's z is the replica r, whose lr, wd and
// mu are hyper[r] (per-replica values in a buffer, written when they change, not per dispatch).
// A replica with mu = 0 in a MOMENTUM pipeline computes v = g + wd·w and w - lr·v: the same bits as
// the plain update, so one pipeline serves an ensemble that mixes momentum and plain SGD.
// lr = 0 freezes a replica (one that diverged or reached its target): its w and v are left as they
// are, whatever its gradient holds (w - 0·NaN would not be w).

// Workgroup size (threads per workgroup).
override WG: u32 = 256;
// 1 when a velocity buffer is used (some replica has momentum > 0), 0 otherwise. Fixed per
// pipeline so the momentum-free update does not read or write v.
override MOMENTUM: bool = false;

struct Params {
  count: u32,        // P: parameters per replica
  stride: u32,       // floats between replicas' vectors (w, g and v alike)
  grid_stride: u32,  // threads along x in the dispatch (workgroups.x * WG)
}

// One replica's settings (src/kernels/replica-settings.ts packs them; dropout.wgsl reads the same record).
struct ReplicaSettings {
  lr: f32,            // learning rate
  weight_decay: f32,  // L2 coefficient wd added to the gradient
  momentum: f32,      // mu, used only when MOMENTUM
  drop_scale: f32,    // dropout.wgsl: 1/(1 − p)
  drop_seed: u32,     // dropout.wgsl: key word 0 of the mask stream
  drop_threshold: u32,// dropout.wgsl: drop when the draw is below it
  pad0: u32,          // (padding to 32 bytes)
  pad1: u32,          // (padding)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;              // (R, P) parameters, updated in place
@group(0) @binding(2) var<storage, read> g: array<f32>;                    // (R, P) gradient of the minibatch loss
@group(0) @binding(3) var<storage, read_write> v: array<f32>;              // (R, P) velocity (bind any buffer when !MOMENTUM)
@group(0) @binding(4) var<storage, read> hyper: array<ReplicaSettings>;    // (R,) per-replica settings

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.z;
  let h = hyper[min(r, arrayLength(&hyper) - 1u)];
  if (h.lr == 0.0) { return; }
  let base = r * params.stride;
  for (var p = gid.x; p < params.count; p += params.grid_stride) {
    let i = base + p;
    let wi = w[i];
    let gi = g[i] + h.weight_decay * wi;
    if (MOMENTUM) {
      let vi = h.momentum * v[i] + gi;
      v[i] = vi;
      w[i] = wi - h.lr * vi;
    } else {
      w[i] = wi - h.lr * gi;
    }
  }
}
