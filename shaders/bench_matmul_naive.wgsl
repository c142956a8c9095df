// Benchmark only (bench/, matmul ladder rung 0): the textbook dense forward, one output per thread.
//
//   Y = act(X · W)        x is (M, K), W is (K, N), Y is (M, N); act: 0 identity, 1 relu, 2 tanh
//
// Same bindings and uniform struct as dense_forward.wgsl (without the bias row), so the benchmark
// binds every rung of the ladder the same way. Every load of the K loop feeds one FMA: 2 loads per
// FMA, against dense_forward.wgsl's (TM + TN) / (TM·TN). Threads outside Y return before any load.

override WG_X: u32 = 16;   // threads along N (one column each)
override WG_Y: u32 = 16;   // threads along M (one row each)
override ACT: u32 = 0;     // activation: 0 identity, 1 relu, 2 tanh

struct Params {
  m: u32,   // M: rows of X and Y
  k: u32,   // K: input features
  n: u32,   // N: output features
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;         // (M, K)
@group(0) @binding(2) var<storage, read> w: array<f32>;         // (K, N)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;   // (M, N)

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    case 2u: { return tanh(clamp(v, -15.0, 15.0)); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let r = gid.y;
  let c = gid.x;
  if (r >= M || c >= N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < K; k++) {
    acc = fma(x[r * K + k], w[k * N + c], acc);
  }
  y[r * N + c] = activate(acc);
}
