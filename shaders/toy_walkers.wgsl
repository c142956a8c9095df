// Many independent SGD walkers on the 2-D toy landscape of Yang, Tang & Tu (PRL 130, 237101):
// a valley of degenerate minima (y = 0 for every x) whose sharpness varies along it,
//
//   L(x, y) = λ(x)·y²/2 + kx·(x − x0)²/2,     λ(x) = lam0·exp(c·x),   x in [x_lo, x_hi] (reflecting)
//
// (kx = 0 is the valley; c = 0, kx > 0 is a plain harmonic well, for the closed-form test).
// One SGD step of walker w at global step t (1-based), with gradient noise η:
//
//   s   = 1 (constant noise) or (λ(x)/lam_ref)^noise_pow (noise variance ∝ local curvature, as
//         minibatch noise is: Fisher ≈ Hessian)
//   η_x = sqrt(2Δ·s/(α·κ))·n0,   η_y = sqrt(2Δ·s/α)·n1,
//   (n0, n1) = Box–Muller(threefry2x32_20(counter = (w, t), key = (seed, TOY_STREAM)))
//   x ← x − α·(c·λ(x)·y²/2 + kx·(x − x0) + η_x),   y ← y − α·(λ(x)·y + η_y)     (both at the old x, y)
//   x folded back into [x_lo, x_hi] (mirror walls, any overshoot)
//
// so the per-step noise variance of the position is 2αΔs along y and 2αΔs/κ along x: in the time
// t = α·steps the diffusion constants are Δs and Δs/κ ("noise Δ along the sharp direction, Δ/κ
// along the flat one"). src/kernels/toy_walkers.ref.ts is the spec (float64, same draws).
// threefry and the Box–Muller radius/angle come from shaders/lib/threefry.wgsl (@include below);
// the cos/sin are the built-ins here (normal2_builtin), not the library's polynomial sincos.
//
// A walker whose loss exceeds esc_loss (or becomes non-finite) has left the valley: its status is
// set to the step it happened at and it stops moving. While t ≥ record_from and
// (t − record_from) % record_every == 0, every live walker adds one count to the histogram bin of
// (x, u), u = y·sqrt(λ(x)/Δ) (the sharp coordinate in units of the idealised thermal width), on an
// nx × nu grid over [x_lo, x_hi] × [−u_max, u_max] (u outside is clamped into the edge bins).
//
// One thread per walker, `steps` steps per dispatch in registers. Loads are guarded, the walker
// index is checked before any access (robustness is off in Node); the histogram uses atomics only.

override WG: u32 = 64;

struct Params {
  walkers: u32,       // W
  steps: u32,         // steps in this dispatch
  step0: u32,         // global steps already done (this dispatch does step0 + 1 .. step0 + steps)
  seed: u32,          // key word 0
  stream: u32,        // key word 1 (TOY_STREAM)
  lr: f32,            // α
  delta: f32,         // Δ: noise strength (diffusion constant along the sharp direction)
  kappa: f32,         // κ: ratio of sharp to flat noise variance
  lam0: f32,          // λ(x) = lam0·exp(c·x)
  c: f32,
  kx: f32,            // harmonic confinement along x (0 for the valley)
  x0: f32,
  x_lo: f32,          // reflecting walls
  x_hi: f32,
  noise_pow: f32,     // 0: constant noise; 1: variance ∝ λ(x)/lam_ref
  lam_ref: f32,
  esc_loss: f32,      // a walker with L > esc_loss has escaped
  record_from: u32,   // first global step recorded in the histogram (0xffffffff: never)
  record_every: u32,  // record every this many steps (≥ 1)
  nx: u32,            // histogram bins along x
  nu: u32,            // histogram bins along u
  u_max: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> pos: array<f32>;           // (W, 2) [x, y]
@group(0) @binding(2) var<storage, read_write> status: array<u32>;        // (W,) 0 = in the valley, else the escape step
@group(0) @binding(3) var<storage, read_write> hist: array<atomic<u32>>;  // (nx, nu) counts

// @include lib/threefry.wgsl   // threefry, box_muller_polar

// Two N(0, 1) draws (src/kernels/threefry.ts normalPair): normal2 of lib/threefry.wgsl, but with
// the built-in cos/sin (up to ~2e-4 off on SwiftShader, within the tolerance of the float64
// reference test). Kept as it was written so the walkers' noise stream stays the same.
fn normal2_builtin(c: vec2u, key: vec2u) -> vec2f {
  let rt = box_muller_polar(threefry(c, key));
  return vec2f(rt.x * cos(rt.y), rt.x * sin(rt.y));
}

// Mirror x into [lo, hi] for any overshoot (period 2·(hi − lo)).
fn fold(x: f32, lo: f32, hi: f32) -> f32 {
  let w = hi - lo;
  var t = (x - lo) - 2.0 * w * floor((x - lo) / (2.0 * w));
  if (t > w) { t = 2.0 * w - t; }
  return lo + clamp(t, 0.0, w);
}

fn noise_scale(lam: f32) -> f32 {
  if (params.noise_pow == 0.0) { return 1.0; }
  return pow(lam / params.lam_ref, params.noise_pow);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = gid.x;
  if (w >= params.walkers) { return; }
  if (status[w] != 0u) { return; }
  var x = pos[2u * w];
  var y = pos[2u * w + 1u];
  let a = params.lr;
  let key = vec2u(params.seed, params.stream);
  let sy = sqrt(2.0 * params.delta / a);
  let sx = sqrt(2.0 * params.delta / (a * params.kappa));
  let nx = params.nx;
  let nu = params.nu;
  let inv_dx = f32(nx) / (params.x_hi - params.x_lo);
  var escaped = 0u;
  for (var i = 0u; i < params.steps; i++) {
    let t = params.step0 + i + 1u;
    let lam = params.lam0 * exp(params.c * x);
    let s = sqrt(noise_scale(lam));
    let n = normal2_builtin(vec2u(w, t), key);
    let gx = params.c * lam * y * y * 0.5 + params.kx * (x - params.x0) + sx * s * n.x;
    let gy = lam * y + sy * s * n.y;
    x = fold(x - a * gx, params.x_lo, params.x_hi);
    y = y - a * gy;
    let lam1 = params.lam0 * exp(params.c * x);
    let loss = 0.5 * lam1 * y * y + 0.5 * params.kx * (x - params.x0) * (x - params.x0);
    // NaN compares false: !(loss <= esc) catches NaN and ±Inf as well.
    if (!(loss <= params.esc_loss)) {
      escaped = t;
      break;
    }
    if (t >= params.record_from && (t - params.record_from) % params.record_every == 0u) {
      let bx = min(u32(max((x - params.x_lo) * inv_dx, 0.0)), nx - 1u);
      let u = y * sqrt(lam1 / params.delta);
      let fu = (u + params.u_max) / (2.0 * params.u_max) * f32(nu);
      let bu = min(u32(max(fu, 0.0)), nu - 1u);
      atomicAdd(&hist[bx * nu + bu], 1u);
    }
  }
  pos[2u * w] = x;
  pos[2u * w + 1u] = y;
  if (escaped != 0u) { status[w] = escaped; }
}
