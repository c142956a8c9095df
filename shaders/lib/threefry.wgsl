// Counter-based random numbers, shared by every kernel that draws them (dropout.wgsl,
// randnet.wgsl, jvp.wgsl, toy_walkers.wgsl) through `// @include lib/threefry.wgsl` (src/gpu/template.ts).
// Pure functions only: no bindings, no overrides, no entry points; valid WGSL on its own.
//
// Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011; the Random123 default). Counter c = (c0, c1), key k = (k0, k1):
//   key schedule  ks = (k0, k1, k2),  k2 = 0x1BD11BDA ⊕ k0 ⊕ k1   (Skein parity)
//   start         x0 = c0 + k0,  x1 = c1 + k1
//   round r       x0 += x1;  x1 = rotl(x1, R[r mod 8]) ⊕ x0,   R = 13 15 26 6 17 29 16 24
//   after round 4i (i = 1..5): x0 += ks[i mod 3],  x1 += ks[(i + 1) mod 3] + i
// all arithmetic mod 2³². The output (x0, x1) is two uniformly random u32, a pure function of
// (counter, key): no state is stored, any element of a stream can be regenerated alone.
//
// Box–Muller on the top 24 bits of each word (normal2):
//   u1 = ((x0 >> 8) + 1)·2⁻²⁴ ∈ (0, 1],   θ = π·((x1 >> 8)·2⁻²³ − 1) ∈ [−π, π)
//   (z0, z1) = √(−2 ln u1)·(cos θ, sin θ)
//
// src/kernels/threefry.ts is the CPU spec (threefry2x32, normalPair), checked against the
// Random123 known-answer vectors in tests/propagation-kernels.test.ts. The integer part is exact
// on both sides; the Gaussian transform is float32 here and float64 there (agree to ~1e-6).

fn rotl(x: u32, r: u32) -> u32 {
  return (x << r) | (x >> (32u - r));
}

// Threefry-2x32-20 of counter c under key: the 20 rounds unrolled, a key injection every 4.
fn threefry(c: vec2u, key: vec2u) -> vec2u {
  let k0 = key.x;
  let k1 = key.y;
  let k2 = 0x1BD11BDAu ^ k0 ^ k1;
  var x0 = c.x + k0;
  var x1 = c.y + k1;
  x0 += x1; x1 = rotl(x1, 13u) ^ x0;
  x0 += x1; x1 = rotl(x1, 15u) ^ x0;
  x0 += x1; x1 = rotl(x1, 26u) ^ x0;
  x0 += x1; x1 = rotl(x1, 6u) ^ x0;
  x0 += k1; x1 += k2 + 1u;
  x0 += x1; x1 = rotl(x1, 17u) ^ x0;
  x0 += x1; x1 = rotl(x1, 29u) ^ x0;
  x0 += x1; x1 = rotl(x1, 16u) ^ x0;
  x0 += x1; x1 = rotl(x1, 24u) ^ x0;
  x0 += k2; x1 += k0 + 2u;
  x0 += x1; x1 = rotl(x1, 13u) ^ x0;
  x0 += x1; x1 = rotl(x1, 15u) ^ x0;
  x0 += x1; x1 = rotl(x1, 26u) ^ x0;
  x0 += x1; x1 = rotl(x1, 6u) ^ x0;
  x0 += k0; x1 += k1 + 3u;
  x0 += x1; x1 = rotl(x1, 17u) ^ x0;
  x0 += x1; x1 = rotl(x1, 29u) ^ x0;
  x0 += x1; x1 = rotl(x1, 16u) ^ x0;
  x0 += x1; x1 = rotl(x1, 24u) ^ x0;
  x0 += k1; x1 += k2 + 4u;
  x0 += x1; x1 = rotl(x1, 13u) ^ x0;
  x0 += x1; x1 = rotl(x1, 15u) ^ x0;
  x0 += x1; x1 = rotl(x1, 26u) ^ x0;
  x0 += x1; x1 = rotl(x1, 6u) ^ x0;
  x0 += k2; x1 += k0 + 5u;
  return vec2u(x0, x1);
}

// Box–Muller radius and angle of a threefry output x: (√(−2 ln u1), θ) as in the header.
fn box_muller_polar(x: vec2u) -> vec2f {
  let u1 = f32((x.x >> 8u) + 1u) * 5.9604644775390625e-8;
  let t = 3.14159265358979 * (f32(x.y >> 8u) * 1.1920928955078125e-7 - 1.0);
  return vec2f(sqrt(-2.0 * log(u1)), t);
}

// sin θ and cos θ for θ in [−π, π] to ~1e-7 by Taylor polynomials at θ/2 ∈ [−π/2, π/2] and the
// double-angle formulas. The built-in sin/cos are only required to be within 2^-11 (Vulkan), and
// SwiftShader's are off by 2e-4: random networks on the GPU would then differ from the reference.
fn sincos(theta: f32) -> vec2f {
  let x = 0.5 * theta;
  let x2 = x * x;
  let s = x * (1.0 + x2 * (-1.6666666666666667e-1 + x2 * (8.3333333333333333e-3 + x2 * (-1.9841269841269841e-4
          + x2 * (2.7557319223985891e-6 + x2 * -2.5052108385441719e-8)))));
  let c = 1.0 + x2 * (-0.5 + x2 * (4.1666666666666667e-2 + x2 * (-1.3888888888888889e-3 + x2 * (2.4801587301587302e-5
          + x2 * (-2.7557319223985891e-7 + x2 * 2.0876756987868099e-9)))));
  return vec2f(2.0 * s * c, (c - s) * (c + s));
}

// Two N(0, 1) draws from counter c under key (normalPair in src/kernels/threefry.ts), with the
// accurate sincos above: z = √(−2 ln u1)·(cos θ, sin θ).
fn normal2(c: vec2u, key: vec2u) -> vec2f {
  let rt = box_muller_polar(threefry(c, key));
  let sc = sincos(rt.y);
  return vec2f(rt.x * sc.y, rt.x * sc.x);
}
