// Minibatch gather: copy the rows of a dataset that lives on the GPU into a contiguous batch.
//
//   xb[r, :] = data[idx[offset + r], :]      yb[r] = labels[idx[offset + r]]      r in [0, B)
//
// Shapes: data is (N, D) f32, labels is (N,) u32, idx is (S,) u32 row indices (a whole chunk of
// steps' minibatches, step s using idx[s*B .. s*B+B)), xb is (B, D), yb is (B,).
// One workgroup per row, its threads striding over the D columns (no division per element).

// Threads per workgroup.
override WG: u32 = 64;

struct Params {
  rows: u32,        // B: rows to gather (= workgroups dispatched)
  dim: u32,         // D: features per row
  offset: u32,      // first entry of idx for this minibatch
  n: u32,           // N: rows in the dataset (indices are clamped to it)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;          // (N, D) dataset features
@group(0) @binding(2) var<storage, read> labels: array<u32>;        // (N,) dataset labels
@group(0) @binding(3) var<storage, read> idx: array<u32>;           // (S,) minibatch row indices
@group(0) @binding(4) var<storage, read_write> xb: array<f32>;      // (B, D) gathered features
@group(0) @binding(5) var<storage, read_write> yb: array<u32>;      // (B,) gathered labels

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= params.rows) { return; }
  // The CPU validates indices before upload; the clamp only keeps a bug from reading another
  // buffer's memory (robustness is off in Node).
  let src = min(idx[params.offset + r], params.n - 1u);
  let src_row = src * params.dim;
  let dst_row = r * params.dim;
  for (var c = lid; c < params.dim; c += WG) {
    xb[dst_row + c] = data[src_row + c];
  }
  if (lid == 0u) {
    yb[r] = labels[src];
  }
}
