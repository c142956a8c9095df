// Benchmark only (bench/, matmul ladder rung 6): dense_forward.wgsl's register-blocked kernel with
// the K loop unrolled by 4 and each output's four products summed as a tree before they meet the
// accumulator (s += a0·b0 + a1·b1 + a2·b2 + a3·b3, the form jax-js generates), so per K step of 4
// the loop overhead is paid once and the loop-carried dependency is one add per output.
//
//   Y = act(X · W)        x is (M, K), W is (K, N), Y is (M, N); act: 0 identity, 1 relu, 2 tanh
//
// Each thread owns a {{TM}} x {{TN}} tile of Y in unrolled scalar registers (src/gpu/template.ts);
// row offsets and columns are clamped into the matrices once, before the loop, and stores are
// masked, so no load is ever out of bounds (robustness is off in Node). A remainder loop handles
// K mod 4. No workgroup memory. Same bindings and uniforms as dense_forward.wgsl (no bias row).

override WG_X: u32 = 4;     // threads along N (each covers {{TN}} columns)
override WG_Y: u32 = 4;     // threads along M (each covers {{TM}} rows)
override ACT: u32 = 0;      // activation: 0 identity, 1 relu, 2 tanh

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

fn store(r: u32, c: u32, acc: f32) {
  if (r < params.m && c < params.n) { y[r * params.n + c] = activate(acc); }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let M = params.m;
  let K = params.k;
  let N = params.n;
  let m0 = gid.y * {{TM}}u;
  let n0 = gid.x * {{TN}}u;
  if (m0 >= M || n0 >= N) { return; }
  // @repeat i in 0..{{TM}}
  let xr{i} = min(m0 + {i}u, M - 1u) * K;
  // @end
  // @repeat j in 0..{{TN}}
  let wc{j} = min(n0 + {j}u, N - 1u);
  // @end
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  var s{i}_{j} = 0.0;
  // @end
  var k = 0u;
  for (; k + 4u <= K; k += 4u) {
    // @repeat u in 0..4, i in 0..{{TM}}
    let a{u}_{i} = x[xr{i} + k + {u}u];
    // @end
    // @repeat u in 0..4, j in 0..{{TN}}
    let b{u}_{j} = w[(k + {u}u) * N + wc{j}];
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TN}}
    s{i}_{j} += a0_{i} * b0_{j} + a1_{i} * b1_{j} + a2_{i} * b2_{j} + a3_{i} * b3_{j};
    // @end
  }
  for (; k < K; k++) {
    // @repeat i in 0..{{TM}}
    let a{i} = x[xr{i} + k];
    // @end
    // @repeat j in 0..{{TN}}
    let b{j} = w[k * N + wc{j}];
    // @end
    // @repeat i in 0..{{TM}}, j in 0..{{TN}}
    s{i}_{j} = fma(a{i}, b{j}, s{i}_{j});
    // @end
  }
  // @repeat i in 0..{{TM}}, j in 0..{{TN}}
  store(m0 + {i}u, n0 + {j}u, s{i}_{j});
  // @end
}
