#!/usr/bin/env python3
"""Independent check of a `sgdscope reproduce feng-tu` run folder with plain numpy.

From trajectory.npy alone (float32 (T, P): the analysed layer at every step of the window): centre
in float64, form the covariance C = XᵀX/(T − 1) and diagonalise it (LAPACK eigh). Compares
  - σ_i² with pca_variance.npy, for every i ≤ k with σ_i² ≥ 1e-9·σ₁² (the precision goal: 1e-3)
    and, separately, for the PCs the run marked trusted (spectra.csv `trusted`);
  - D90/D99 (all, PC1 left out) with summary.json;
  - |cos| of pca_components.npy's PCs 1–5 with the float64 eigenvectors;
  - ψ refitted by least squares of ln σ² on ln F over summary.json's fit.pcs (spectra.csv F).
It also reports what sklearn's route would give: float32 centring and a float32 eigensolver of the
float32 covariance (the precision the authors' PCA of float32 snapshots has), σ₂² and D99 w/o PC1.

usage: check_fengtu_numpy.py RUN_DIR [--tolerance 1e-3]    exit 0 when everything agrees
"""
import csv
import json
import os
import sys

import numpy as np


def dims(v, total):
    c = np.cumsum(v) / total
    return [int(np.argmax(c >= f * (1 - 1e-12)) + 1) if c[-1] >= f * (1 - 1e-12) else None for f in (0.9, 0.99)]


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    run = args[0]
    tol = float(args[args.index('--tolerance') + 1]) if '--tolerance' in args else 1e-3
    x = np.load(os.path.join(run, 'trajectory.npy'))
    T, P = x.shape
    got = np.load(os.path.join(run, 'pca_variance.npy'))
    k = got.shape[0]
    summary = json.load(open(os.path.join(run, 'summary.json')))
    xd = x.astype(np.float64)
    xd -= xd.mean(axis=0)
    C = xd.T @ xd / (T - 1)
    w, V = np.linalg.eigh(C)
    w, V = w[::-1], V[:, ::-1]
    total = np.trace(C)
    ok = True

    sel = w[:k] >= 1e-9 * w[0]
    rel = np.abs(got[sel] - w[:k][sel]) / w[:k][sel]
    print(f'window T = {T}, P = {P}, k = {k}; PC1 holds {100 * w[0] / total:.3f}% of the variance')
    print(f'σ_i² vs float64 eigh over the {sel.sum()} PCs with σ_i² ≥ 1e-9·σ₁² (down to {w[:k][sel][-1] / w[0]:.1e}·σ₁²): worst relative error {rel.max():.2e} (goal {tol})')
    ok &= bool(rel.max() <= tol)
    rows = list(csv.DictReader(open(os.path.join(run, 'spectra.csv'))))
    trusted = np.array([r['trusted'] == '1' for r in rows])
    if trusted.any():
        rt = np.abs(got[trusted] - w[:k][trusted]) / w[:k][trusted]
        print(f'  the {trusted.sum()} PCs marked trusted: worst {rt.max():.2e}')
        ok &= bool(rt.max() <= tol)

    d_all = dims(w, total)
    d_rest = dims(w[1:], total - w[0])
    D = summary['D']
    print(f'D90/D99 all {d_all} (run {D["all"]["d90"]}, {D["all"]["d99"]}); PC1 left out {d_rest} (run {D["pc1Removed"]["d90"]}, {D["pc1Removed"]["d99"]})')
    ok &= d_all == [D['all']['d90'], D['all']['d99']] and d_rest == [D['pc1Removed']['d90'], D['pc1Removed']['d99']]

    comps = np.load(os.path.join(run, 'pca_components.npy'))
    cos = [abs(float(comps[i] @ V[:, i])) / np.linalg.norm(comps[i]) for i in range(min(5, k))]
    print(f'|cos| of PCs 1–{len(cos)} with the float64 eigenvectors: {", ".join(f"{c:.6f}" for c in cos)}')
    ok &= min(cos) > 0.999

    fit = summary.get('fit') or {}
    if 'pcs' in fit:
        F = {int(r['i']): float(r['F']) for r in rows if r['F']}
        pcs = fit['pcs']
        slope = np.polyfit(np.log([F[i] for i in pcs]), np.log([got[i - 1] for i in pcs]), 1)[0]
        slope64 = np.polyfit(np.log([F[i] for i in pcs]), np.log([w[i - 1] for i in pcs]), 1)[0]
        print(f'ψ over PCs {fit["pcRange"]}: {-slope:.4f} from the run\'s σ², {-slope64:.4f} with float64 σ² (run {fit["psi"]:.4f})')
        ok &= abs(-slope - fit['psi']) < 1e-6 and abs(slope - slope64) < 1e-3

    # The authors' route: float32 centring, float32 covariance and eigensolver (sklearn on float32 data).
    x32 = x - x.mean(axis=0, dtype=np.float32)
    w32 = np.linalg.eigvalsh((x32.T @ x32 / np.float32(T - 1)).astype(np.float32))[::-1].astype(np.float64)
    bad = np.where(np.abs(w32[:k] - w[:k]) > 0.01 * w[:k])[0]
    print(f'float32 route (for comparison): σ₂² off by {100 * (w32[1] - w[1]) / w[1]:+.1f}%, first PC off by > 1% at i = {bad[0] + 1 if len(bad) else "none"}, '
          f'σ_k² ×{w32[k - 1] / w[k - 1]:.2f}, {int((w32[:k] < 0).sum())} negative; D99 without PC1 {dims(np.maximum(w32[1:], 0), total - w32[0])[1]}')
    print('agree' if ok else 'DISAGREE')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
