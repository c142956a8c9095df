#!/usr/bin/env python3
"""The README's tables of the fluctuation–dissipation meter and the per-sample gauges, recomputed
with plain numpy from a `sgdscope train --instrument pca-window,fdr,gauges` run folder.

FDR: R = Σ lhs / Σ rhs over the blocks of fdr.csv inside a stretch (block means of θ·u and
(η/2)(1+μ)|v|²), standard error by the delta method on the block means (as src/instruments/
fdr-stats.ts): SE = sqrt(Σ (a_k − R b_k)² / (n(n−1))) / mean b. The PCA window's ratio is checked
against the instrument's own fdr_window.csv. Gauges: medians over the measured steps of each
stretch of gauges.csv and gauges_alpha.csv.

usage: fdr_gauges_tables.py RUN_DIR [--stretches 1-480,481-1600,...]
       (default: the steps before the PCA window in two halves, then the window)
exit 0 when the recomputed window ratio agrees with fdr_window.csv
"""
import os
import sys

import numpy as np

np.seterr(all="ignore")


def table(path):
    """A CSV written by sgdscope as a dict of float columns (empty cells: NaN)."""
    with open(path) as f:
        head = f.readline().strip().split(",")
        rows = [[float(v) if v != "" else np.nan for v in line.strip().split(",")] for line in f if line.strip()]
    data = np.asarray(rows, dtype=np.float64).reshape(-1, len(head))
    return {c: data[:, i] for i, c in enumerate(head)}


def ratio_se(a, b):
    n = len(a)
    if n == 0 or b.sum() == 0:
        return np.nan, np.nan
    r = a.sum() / b.sum()
    if n < 2:
        return r, np.nan
    return r, np.sqrt(((a - r * b) ** 2).sum() / (n * (n - 1))) / abs(b.mean())


def groups(blocks):
    return [c[6:] for c in blocks if c.startswith("ratio_")]


def fdr_row(blocks, first, last):
    inside = (blocks["first_step"] >= first) & (blocks["step"] <= last)
    return {g: ratio_se(blocks[f"lhs_{g}"][inside], blocks[f"rhs_{g}"][inside]) for g in groups(blocks)}, int(inside.sum())


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    run = args[0]
    blocks = table(os.path.join(run, "fdr.csv"))
    window = table(os.path.join(run, "fdr_window.csv"))
    w0, w1 = int(window["first_step"][0]), int(window["last_step"][0])
    if "--stretches" in args:
        spec = args[args.index("--stretches") + 1]
        stretches = [tuple(int(v) for v in s.split("-")) for s in spec.split(",")]
    else:
        mid = (w0 - 1) // 2
        stretches = [(1, mid), (mid + 1, w0 - 1), (w0, w1)]
    stretches = [(a, b) for a, b in stretches if a <= b]

    gs = groups(blocks)
    name = lambda g: "network" if g == "net" else f"layer {g[1:]}"
    print(f"FDR ratio ± standard error (block means; {run})\n")
    print("| steps | blocks | " + " | ".join(name(g) for g in gs) + " |")
    print("|---|---|" + "---|" * len(gs))
    for a, b in stretches:
        r, n = fdr_row(blocks, a, b)
        print(f"| {a}–{b} | {n} | " + " | ".join(f"{r[g][0]:.3g} ± {r[g][1]:.2g}" for g in gs) + " |")

    ok = True
    r, _ = fdr_row(blocks, w0, w1)
    for g in gs:
        mine, theirs = r[g][0], window[f"ratio_{g}"][0]
        if not np.isclose(mine, theirs, rtol=1e-6, atol=1e-9):
            print(f"window ratio of {name(g)}: numpy {mine} vs fdr_window.csv {theirs}", file=sys.stderr)
            ok = False
    print(f"\nPCA window {w0}–{w1}: numpy agrees with fdr_window.csv: {ok}\n")

    steps = table(os.path.join(run, "gauges.csv"))
    alpha = table(os.path.join(run, "gauges_alpha.csv"))
    print("Gauges: medians over the measured steps (α: median and quartiles)\n")
    print("| steps | θ_norm | B asked (norm) | θ_ip | B asked (ip) | ν_orth | GSNR mean / median | no gradient | α median (IQR) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for a, b in stretches:
        s = (steps["step"] >= a) & (steps["step"] <= b)
        al = alpha["alpha"][(alpha["step"] >= a) & (alpha["step"] <= b)]
        al = al[np.isfinite(al)]
        med = lambda c: np.nanmedian(steps[c][s]) if s.any() else np.nan
        q = np.percentile(al, [50, 25, 75]) if len(al) else [np.nan] * 3
        print(
            f"| {a}–{b} | {med('norm_test'):.2f} | {med('norm_batch'):.0f} | {med('inner_test'):.2f} | {med('inner_batch'):.0f} | "
            f"{med('ortho_test'):.2f} | {med('gsnr_mean'):.3f} / {med('gsnr_median'):.3f} | {100 * med('gsnr_dead'):.0f}% | "
            f"{q[0]:.2f} ({q[1]:.2f} … {q[2]:.2f}) |"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
