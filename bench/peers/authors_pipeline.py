#!/usr/bin/env python3
"""The Feng–Tu authors' analysis pipeline (github.com/YuFengDuke/PCA-SGD, utils_flatness.py) as a
benchmark peer, re-implemented here step for step (their code is not copied into this repository):

  pca       sklearn.decomposition.PCA(n_components=k).fit(window) on the float32 window, as their
            PCA(); its explained_variance_ are their σ_i².
  flatness  their binary_search_loss_bound for each direction p (unit, layer layout): l0 = ln L(w);
            outward from θ = 100 in steps of 100 until ln L(w + θp) > l0 + 1 (a side still below at
            |θ| > 1000 returns that |θ| as the whole flatness), then bisection of [0, θ] until the
            bracket is narrower than 0.01; F = θ_r + |θ_l|. Every loss is the full training loss
            (CrossEntropyLoss over all samples) of a deep copy of the torch model with the analysed
            layer's weight replaced, as their loss_change_by_changing_weight does.

Usage: authors_pipeline.py pca WINDOW.npy K OUT.json
       authors_pipeline.py flatness DIR STRIDE COUNT OUT.json
         DIR holds weights_layer{l}.npy (fan_in, fan_out) at w*, pca_components.npy (k, P),
         train_x.npy (M, 784) float32, train_y.npy (M,) int; layer 1 is analysed.
Times are wall-clock seconds of the work itself (imports and file reads excluded). torch keeps its
default threads, as the authors' code does (Debian's build starts one OpenMP thread here; two were
3× slower on this shared 2-core machine); sklearn's BLAS (OpenBLAS) uses every core by default. On a 10-direction check, the authors' own cal_flatness and this
re-implementation returned the same F to the printed digits in the same time (6.7 s vs 6.5 s).
"""
import copy
import json
import math
import sys
import time

import numpy as np


def pca(window_path, k, out):
    import sklearn.decomposition
    x = np.load(window_path).astype(np.float32)
    t0 = time.perf_counter()
    p = sklearn.decomposition.PCA(n_components=k)
    p.fit(x)
    sec = time.perf_counter() - t0
    json.dump({'seconds': sec, 'variances': p.explained_variance_.tolist(), 'solver': p._fit_svd_solver}, open(out, 'w'))


def flatness(d, out, stride=10, count=None):
    import torch
    import torch.nn as nn
    torch.set_grad_enabled(False)
    ws = []
    l = 0
    while True:
        try:
            ws.append(np.load(f'{d}/weights_layer{l}.npy'))
        except FileNotFoundError:
            break
        l += 1
    layers = []
    for i, w in enumerate(ws):
        lin = nn.Linear(w.shape[0], w.shape[1], bias=False)
        lin.weight.data = torch.tensor(w.T.copy())
        layers.append(lin)
        if i < len(ws) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    model.eval()
    x = torch.tensor(np.load(f'{d}/train_x.npy'))
    y = torch.tensor(np.load(f'{d}/train_y.npy').astype(np.int64))
    comps = np.load(f'{d}/pca_components.npy')
    layer = 1
    key = list(model.state_dict().keys())[layer]
    w0 = model.state_dict()[key].clone()
    loss_fn = nn.CrossEntropyLoss()
    evals = [0]

    def loss_at(direction, theta):
        # As their loss_change_by_changing_weight: a deep copy of the model with the layer replaced.
        m = copy.deepcopy(model)
        sd = m.state_dict()
        sd[key] = w0 + theta * direction
        m.load_state_dict(sd)
        evals[0] += 1
        return float(loss_fn(m(x), y))

    def side(direction, l0, sign):
        # Outward from 100 in steps of 100 (|θ| > 1000: that |θ| is returned as the whole F), then
        # bisection of [0, θ] until narrower than 0.01, testing the width after each update.
        inner, outer = 0.0, 100.0 * sign
        while math.log(loss_at(direction, outer)) <= l0 + 1:
            outer += 100 * sign
            if abs(outer) > 1000:
                return None, abs(outer)
        while True:
            mid = (inner + outer) / 2
            if math.log(loss_at(direction, mid)) > l0 + 1:
                outer = mid
            else:
                inner = mid
            if abs(outer - inner) < 0.01:
                return (inner + outer) / 2, None

    def bound(direction):
        l0 = math.log(loss_at(direction, 0))
        upper, capped = side(direction, l0, 1)
        if capped is not None:
            return capped
        lower, capped = side(direction, l0, -1)
        if capped is not None:
            return capped
        return abs(upper) + abs(lower)

    # Component rows are in the layer layout (fan_in, fan_out); torch's weight is (fan_out, fan_in).
    fan_in, fan_out = ws[layer].shape
    idx = list(range(0, comps.shape[0], stride))[: count or None]
    t0 = time.perf_counter()
    F = [bound(torch.tensor(comps[i].reshape(fan_in, fan_out).T.copy())) for i in idx]
    sec = time.perf_counter() - t0
    json.dump({'seconds': sec, 'pcs': [i + 1 for i in idx], 'F': F, 'evaluations': evals[0], 'threads': torch.get_num_threads()}, open(out, 'w'))


if __name__ == '__main__':
    if sys.argv[1] == 'pca':
        pca(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == 'flatness':
        flatness(sys.argv[2], sys.argv[5], int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)
