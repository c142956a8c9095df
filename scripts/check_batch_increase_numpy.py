#!/usr/bin/env python3
"""Independent check of a `sgdscope reproduce batch-increase` run folder with plain numpy.

For every schedule in result.json: the forward pass of its saved weights
(weights_<schedule>_layer{l}.npy, z = x @ W [+ b], ReLU/tanh hidden) on the saved test indices of
MNIST-10k (rebuilt by check_run_numpy.py) gives the reported final test accuracy and loss; and the
schedule arithmetic holds: g = lr·(N/B − 1) and ⌊N/B⌋·epochs updates per phase (schedule.csv),
one metrics_<schedule>.csv row per update.

usage: check_batch_increase_numpy.py RUN_DIR [--tolerance 1e-3]     exit 0 when all agree
"""
import csv
import os
import sys

import numpy as np

from check_run_numpy import forward, loss_and_accuracy, open_run


def main():
    opened = open_run(sys.argv[1:], __doc__)
    if isinstance(opened, int):
        return opened
    run, tol, config, result, x, y, test = opened
    n_train = len(np.load(os.path.join(run, "train_indices.npy")))
    ok = True
    with open(os.path.join(run, "schedule.csv")) as f:
        phases = list(csv.DictReader(f))
    for p in phases:
        lr, b = float(p["lr"]), int(p["batch"])
        steps = n_train // b
        updates = (int(p["end_epoch"]) - int(p["start_epoch"])) * steps
        g = lr * (n_train / b - 1)
        if int(p["steps_per_epoch"]) != steps or int(p["updates"]) != updates or abs(float(p["g"]) - g) > 1e-9 * g:
            print(f"{p['schedule']} phase {p['phase']}: schedule.csv says {p['steps_per_epoch']} steps/epoch, {p['updates']} updates, g {p['g']}; numpy: {steps}, {updates}, {g}")
            ok = False
    for name, s in result["schedules"].items():
        planned = sum(int(p["updates"]) for p in phases if p["schedule"] == name)
        with open(os.path.join(run, f"metrics_{name}.csv")) as f:
            rows = sum(1 for _ in f) - 1
        if s["status"] == "completed" and not (rows == planned == s["updates"]):
            print(f"{name}: {rows} metric rows, {planned} planned updates, {s['updates']} reported")
            ok = False
        if s["final"] is None or s["final"]["test"] is None:
            continue
        loss, acc = loss_and_accuracy(forward(run, config["model"], x[test], f"{name}_"), y[test])
        final = s["final"]["test"]
        agree = abs(acc - final["accuracy"]) <= tol and abs(loss - final["loss"]) <= tol * max(1.0, abs(loss))
        ok = ok and agree
        print(f"{name}: numpy test accuracy {acc:.4f}, loss {loss:.5f}  |  sgdscope {final['accuracy']:.4f}, {final['loss']:.5f}  ({rows} updates)")
    print("agree" if ok else "DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
