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
// Shapes: z (logits) is (B, C), y is (B,) u32, dz is (B, C), losses is (B,), metrics is (2*S*R,).
// One workgroup per replica: B*C is small (50x10 in the seed run; eval chunks of ~1000x10), and a
// single workgroup lets the row sums be reduced in workgroup memory without atomics on floats.
//
// Replicas (shaders/README.md, "Ensembles"): workgroup z is the replica r. Its logits, dz and
// losses are the r-th blocks of block_rows rows (its first B rows used); its labels the r-th (B,) block of y (y_stride = B), or
// one label vector for all (y_stride = 0: an evaluation set), or with INDEXED the dataset labels
// y[rows[idx_offset + r·idx_stride + i]] (the minibatch gather fused in). Its sums go to
// metrics[2·(slot·R + r)] and metrics[2·(slot·R + r) + 1]: with R = 1 exactly the layout above.

// Threads in the single workgroup (a power of two, for the tree reduction).
override WG: u32 = 128;
// Whether to write dz (training) or only the losses and metrics (evaluation, probes).
override WRITE_GRAD: bool = true;
// Labels through rows[] (a minibatch of a dataset) instead of in order.
override INDEXED: bool = false;

struct Params {
  rows: u32,        // B: rows (samples)
  classes: u32,     // C: classes
  grad_scale: f32,  // factor on dz, 1/B for the gradient of the mean loss
  slot: u32,        // metrics slot written by this dispatch
  replicas: u32,    // R: replicas in the dispatch (metrics of a slot are R pairs)
  block_rows: u32,  // rows between replicas' blocks of z, dz and losses (≥ rows: a short last chunk)
  y_stride: u32,    // labels between replicas' label vectors (0: one for all; unused when INDEXED)
  idx_offset: u32,  // INDEXED: first entry of rows[] of replica 0
  idx_stride: u32,  // INDEXED: entries of rows[] between replicas
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;              // (R, B, C) logits
@group(0) @binding(2) var<storage, read> y: array<u32>;              // (R or 1, B) labels, or a dataset's (INDEXED)
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;       // (R, B, C) d(loss)/d(logits), scaled
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;   // (R, B) per-sample loss
@group(0) @binding(5) var<storage, read_write> metrics: array<f32>;  // (2*S*R,) per-slot, per-replica [loss sum, correct count]
@group(0) @binding(6) var<storage, read> rows: array<u32>;           // INDEXED: dataset rows of the minibatch (else any small buffer)

var<workgroup> loss_part: array<f32, WG>;
var<workgroup> correct_part: array<f32, WG>;

fn label_of(rep: u32, i: u32) -> u32 {
  if (INDEXED) {
    let at = min(params.idx_offset + rep * params.idx_stride + i, arrayLength(&rows) - 1u);
    return y[min(rows[at], arrayLength(&y) - 1u)];
  }
  return y[rep * params.y_stride + i];
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let C = params.classes;
  let rep = wid.z;
  var loss_sum = 0.0;
  var correct = 0.0;
  for (var i = lid; i < params.rows; i += WG) {
    let r = rep * params.block_rows + i;   // row of this replica's block
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
    // The label is clamped into the classes: an out-of-range label must not read past the row.
    let label = min(label_of(rep, i), C - 1u);
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
    let at = 2u * (params.slot * params.replicas + rep);
    metrics[at] = loss_part[0];
    metrics[at + 1u] = correct_part[0];
  }
}
