// Benchmark only (bench/ and the kernel lab's reduction problem): row sums of a matrix, one
// workgroup per row. Each thread sums a strided slice of its row, then the workgroup adds the
// partial sums as a tree in workgroup memory.
//
//   y[r] = Σ_c x[r, c]        x is (M, N), y is (M,)
//
// FLOP = M·N adds, bytes = 4·(M·N + M): memory-bound on any adapter. Dispatch (M, 1, 1) workgroups
// (M ≤ maxComputeWorkgroupsPerDimension). Every load is inside the matrix (c < N, r < M) and
// workgroup memory is written by every thread before the barrier that precedes any read.

override WG: u32 = 256;   // threads per row (a power of two, for the tree)

struct Params {
  m: u32,   // M: rows
  n: u32,   // N: columns (summed)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;         // (M, N)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;   // (M,) row sums

var<workgroup> part: array<f32, WG>;   // one partial sum per thread

@compute @workgroup_size(WG)
fn row_sum(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= params.m) { return; }
  let N = params.n;
  let base = r * N;
  var s = 0.0;
  for (var c = lid; c < N; c += WG) {
    s += x[base + c];
  }
  part[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { part[lid] += part[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { y[r] = part[0]; }
}
