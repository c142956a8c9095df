// Benchmark only (bench/core/peak.ts): clpeak-style limits of the adapter, so every kernel's figure
// can also be read as a fraction of what this adapter can do.
//
//   fma_peak:   each thread runs 8 independent chains of vec4 FMAs, a ← a·m + c, ITERS times, and
//               writes their sum (so nothing is dead code). FLOP = threads · ITERS · 8 · 4 · 2.
//               Eight chains hide the FMA latency; vec4 fills SIMD lanes on any backend.
//   fma_scalar: the same with 8 scalar f32 chains (a backend that vectorises across invocations,
//               as SwiftShader does, may prefer this). FLOP = threads · ITERS · 8 · 2.
//   mad_peak:   as fma_peak with a·m + c written as a multiply and an add (a backend whose fma() is
//               not a single instruction runs this faster). FLOP counted the same way.
//   read_sum:   grid-stride sum of src (n vec4), one vec4 written per thread. Bytes = 16·n (+ writes).
//   copy:       grid-stride dst[i] = src[i] over n vec4. Bytes = 2 · 16·n.
//   tiny:       a one-workgroup dispatch that does nothing observable: the fixed cost of a dispatch.
//
// Loads are grid-stride inside [0, n) and stores inside the buffers the caller sized for the grid
// (robustness is off in Node); no workgroup memory.

override WG: u32 = 64;         // threads per workgroup
override ITERS: u32 = 512;     // FMA iterations per chain

struct Params {
  n: u32,        // vec4 elements in src (read_sum, copy); threads' outputs in dst (fma_*)
  stride: u32,   // total threads of the dispatch (grid stride)
  m: f32,        // FMA multiplier (close to 1, keeps values bounded)
  c: f32,        // FMA addend
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4f>;        // (n,) input
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;  // (n,) copy output, or (threads,)

@compute @workgroup_size(WG)
fn fma_peak(@builtin(global_invocation_id) gid: vec3u) {
  let f = f32(gid.x & 1023u) * 1e-3;
  let m = vec4f(params.m);
  let c = vec4f(params.c);
  var a0 = vec4f(f, f + 0.1, f + 0.2, f + 0.3);
  var a1 = a0 + 0.01; var a2 = a0 + 0.02; var a3 = a0 + 0.03;
  var a4 = a0 + 0.04; var a5 = a0 + 0.05; var a6 = a0 + 0.06; var a7 = a0 + 0.07;
  for (var i = 0u; i < ITERS; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  if (gid.x < params.n) { dst[gid.x] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)); }
}

@compute @workgroup_size(WG)
fn mad_peak(@builtin(global_invocation_id) gid: vec3u) {
  let f = f32(gid.x & 1023u) * 1e-3;
  let m = vec4f(params.m);
  let c = vec4f(params.c);
  var a0 = vec4f(f, f + 0.1, f + 0.2, f + 0.3);
  var a1 = a0 + 0.01; var a2 = a0 + 0.02; var a3 = a0 + 0.03;
  var a4 = a0 + 0.04; var a5 = a0 + 0.05; var a6 = a0 + 0.06; var a7 = a0 + 0.07;
  for (var i = 0u; i < ITERS; i++) {
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
  }
  if (gid.x < params.n) { dst[gid.x] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)); }
}

@compute @workgroup_size(WG)
fn fma_scalar(@builtin(global_invocation_id) gid: vec3u) {
  let f = f32(gid.x & 1023u) * 1e-3;
  let m = params.m;
  let c = params.c;
  var a0 = f; var a1 = f + 0.01; var a2 = f + 0.02; var a3 = f + 0.03;
  var a4 = f + 0.04; var a5 = f + 0.05; var a6 = f + 0.06; var a7 = f + 0.07;
  for (var i = 0u; i < ITERS; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  if (gid.x < params.n) { dst[gid.x] = vec4f(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))); }
}

@compute @workgroup_size(WG)
fn read_sum(@builtin(global_invocation_id) gid: vec3u) {
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  var i = gid.x;
  for (; i + params.stride < params.n; i += 2u * params.stride) {
    s0 += src[i];
    s1 += src[i + params.stride];
  }
  if (i < params.n) { s0 += src[i]; }
  dst[gid.x] = s0 + s1;
}

@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3u) {
  for (var i = gid.x; i < params.n; i += params.stride) {
    dst[i] = src[i];
  }
}

@compute @workgroup_size(WG)
fn tiny(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= params.stride) { dst[0] = src[0]; }
}
