// Minibatch gather: copy the rows of a dataset that lives on the GPU into a contiguous batch, for
// R replicas at once, each with its own minibatch.
//
//   xb[r, i, :] = data[idx[offset + r·B + i], :]      yb[r, i] = labels[idx[offset + r·B + i]]
//   i in [0, B), r in [0, R)
//
// Shapes: data is (N, D) f32, labels is (N,) u32, idx is (S,) u32 row indices (a whole chunk of
// steps' minibatches: step s uses idx[s·R·B .. (s+1)·R·B), replica-major, so with R = 1 step s
// uses idx[s·B .. s·B + B)), xb is (R, B, D), yb is (R, B).
// One workgroup per (row, replica): its threads stride over the D columns (no division per
// element); the grid's z is the replica (shaders/README.md, "Ensembles").

// Threads per workgroup.
override WG: u32 = 64;

struct Params {
  rows: u32,        // B: rows to gather per replica (= workgroups along x)
  dim: u32,         // D: features per row
  offset: u32,      // first entry of idx for this minibatch (replica 0's row 0)
  n: u32,           // N: rows in the dataset (indices are clamped to it)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;          // (N, D) dataset features
@group(0) @binding(2) var<storage, read> labels: array<u32>;        // (N,) dataset labels
@group(0) @binding(3) var<storage, read> idx: array<u32>;           // (S,) minibatch row indices
@group(0) @binding(4) var<storage, read_write> xb: array<f32>;      // (R, B, D) gathered features
@group(0) @binding(5) var<storage, read_write> yb: array<u32>;      // (R, B) gathered labels

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x;
  if (i >= params.rows) { return; }
  let row = wid.z * params.rows + i;   // row of the (R·B, D) output
  // The CPU validates indices before upload; the clamps only keep a bug from reading another
  // buffer's memory (robustness is off in Node).
  let src = min(idx[min(params.offset + row, arrayLength(&idx) - 1u)], params.n - 1u);
  let src_row = src * params.dim;
  let dst_row = row * params.dim;
  for (var c = lid; c < params.dim; c += WG) {
    xb[dst_row + c] = data[src_row + c];
  }
  if (lid == 0u) {
    yb[row] = labels[src];
  }
}
