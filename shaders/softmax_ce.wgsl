// Softmax cross-entropy, fused and numerically stable (log-sum-exp), for one minibatch or one
// evaluation chunk.
//
//   m_r      = max_c z[r, c]
//   s_r      = sum_c exp(z[r, c] - m_r)
//   loss_r   = (m_r - z[r, y_r]) + log(s_r)        (= lse_r - z[r, y_r], without rounding lse_r at |z| ~ 1e4)
//   dz[r, c] = (exp(z[r, c] - m_r) / s_r - [c == y_r]) * grad_scale      (grad_scale = 1/B for the mean loss)
//   correct_r = [argmax_c z[r, c] == y_r]   (ties: the first maximum, as numpy/PyTorch argmax)
//
// and the sums over rows, written to metrics[2*slot] = sum_r loss_r, metrics[2*slot+1] = sum_r correct_r,
// so one buffer holds the loss and accuracy of every step of a chunk (read back once per chunk).
//
// Shapes: z (logits) is (B, C), y is (B,) u32, dz is (B, C), losses is (B,), metrics is (2*S,).
// One workgroup: B*C is small (50x10 in the seed run; eval chunks of ~1000x10), and a single
// workgroup lets the row sums be reduced in workgroup memory without atomics on floats.

// Threads in the single workgroup (a power of two, for the tree reduction).
override WG: u32 = 128;
// Whether to write dz (training) or only the losses and metrics (evaluation, probes).
override WRITE_GRAD: bool = true;

struct Params {
  rows: u32,        // B: rows (samples)
  classes: u32,     // C: classes
  grad_scale: f32,  // factor on dz, 1/B for the gradient of the mean loss
  slot: u32,        // metrics slot written by this dispatch
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;              // (B, C) logits
@group(0) @binding(2) var<storage, read> y: array<u32>;              // (B,) labels
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;       // (B, C) d(loss)/d(logits), scaled
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;   // (B,) per-sample loss
@group(0) @binding(5) var<storage, read_write> metrics: array<f32>;  // (2*S,) per-slot [loss sum, correct count]

var<workgroup> loss_part: array<f32, WG>;
var<workgroup> correct_part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let C = params.classes;
  var loss_sum = 0.0;
  var correct = 0.0;
  for (var r = lid; r < params.rows; r += WG) {
    let base = r * C;
    var m = z[base];
    var best = 0u;
    for (var c = 1u; c < C; c++) {
      let v = z[base + c];
      if (v > m) { m = v; best = c; }
    }
    var s = 0.0;
    for (var c = 0u; c < C; c++) {
      s += exp(z[base + c] - m);
    }
    let label = y[r];
    let loss = (m - z[base + label]) + log(s);
    losses[r] = loss;
    loss_sum += loss;
    if (best == label) { correct += 1.0; }
    if (WRITE_GRAD) {
      for (var c = 0u; c < C; c++) {
        let p = exp(z[base + c] - m) / s;
        dz[base + c] = (p - select(0.0, 1.0, c == label)) * params.grad_scale;
      }
    }
  }
  // Every thread writes its slot before any is read (required: workgroup memory is not zeroed).
  loss_part[lid] = loss_sum;
  correct_part[lid] = correct;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      loss_part[lid] += loss_part[lid + stride];
      correct_part[lid] += correct_part[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    metrics[2u * params.slot] = loss_part[0];
    metrics[2u * params.slot + 1u] = correct_part[0];
  }
}
