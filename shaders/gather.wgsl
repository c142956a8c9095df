// Minibatch gather: copy the rows of a dataset that lives on the GPU into a contiguous batch.
//
//   xb[r, :] = data[idx[offset + r], :]      yb[r] = labels[idx[offset + r]]      r in [0, B)
//
// Shapes: data is (N, D) f32, labels is (N,) u32, idx is (S,) u32 row indices (a whole chunk of
// steps' minibatches, step s using idx[s*B .. s*B+B)), xb is (B, D), yb is (B,).
// One thread per element of xb, grid-stride.

// Threads per workgroup.
override WG: u32 = 256;

struct Params {
  rows: u32,        // B: rows to gather
  dim: u32,         // D: features per row
  offset: u32,      // first entry of idx for this minibatch
  n: u32,           // N: rows in the dataset (indices are checked against it)
  grid_stride: u32, // total threads in the dispatch
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;          // (N, D) dataset features
@group(0) @binding(2) var<storage, read> labels: array<u32>;        // (N,) dataset labels
@group(0) @binding(3) var<storage, read> idx: array<u32>;           // (S,) minibatch row indices
@group(0) @binding(4) var<storage, read_write> xb: array<f32>;      // (B, D) gathered features
@group(0) @binding(5) var<storage, read_write> yb: array<u32>;      // (B,) gathered labels

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let total = params.rows * params.dim;
  for (var i = gid.x; i < total; i += params.grid_stride) {
    let r = i / params.dim;
    let c = i - r * params.dim;
    // An out-of-range index would read another buffer's memory on some drivers; clamp (the CPU
    // side validates indices before upload, this only keeps a bug from becoming a crash).
    let src = min(idx[params.offset + r], params.n - 1u);
    xb[i] = data[src * params.dim + c];
    if (c == 0u) {
      yb[r] = labels[src];
    }
  }
}
