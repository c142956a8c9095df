#!/usr/bin/env python3
"""Independent cross-check of print-table.ts (tanh mean-field numbers).

Nothing is shared with the TypeScript code except the parameter points (read from its --json
output). Different integrators and root finders:
  * 1-D Gaussian integrals: scipy.integrate.quad (adaptive Gauss-Kronrod) on [-12, 12]
    (the Gaussian tail beyond 12 is < 1e-32).
  * 2-D integrals: Gauss-Legendre product rule (600 x 600) on [-12, 12]^2 with the normal
    density as a weight, vectorised in numpy.
  * roots: scipy.optimize.brentq.
Run from the repository root:  python3 src/analysis/meanfield/crosscheck.py
"""
import json
import math
import subprocess
import sys

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq

SQ2PI = math.sqrt(2 * math.pi)


def e1(f):
    """E[f(z)], z ~ N(0,1), adaptive quadrature."""
    v, _ = quad(lambda z: f(z) * math.exp(-0.5 * z * z) / SQ2PI, -12, 12,
                epsabs=1e-15, epsrel=1e-13, limit=400, points=[0.0])
    return v


_x, _w = np.polynomial.legendre.leggauss(600)
GL_Z = 12 * _x
GL_W = 12 * _w * np.exp(-0.5 * GL_Z ** 2) / SQ2PI
# numpy's high-order Legendre weights carry ~1e-14 relative error (sum(GL_W) - 1 ~ 2e-14);
# the density integrates to 1 - 1e-33 on [-12, 12], so renormalising removes that bias.
GL_W /= GL_W.sum()
Z1, Z2 = np.meshgrid(GL_Z, GL_Z, indexing="ij")
W2 = np.outer(GL_W, GL_W)


def e2(f, q, c):
    """E[f(u1) f(u2)], (u1,u2) ~ N(0, q[[1,c],[c,1]]), Gauss-Legendre product."""
    s = math.sqrt(q)
    u1 = s * Z1
    u2 = s * (c * Z1 + math.sqrt(max(0.0, 1 - c * c)) * Z2)
    return float(np.sum(W2 * f(u1) * f(u2)))


def sech2(x):
    return 1 / np.cosh(x) ** 2


def q_star(sw2, sb2):
    h = lambda q: sw2 * e1(lambda z: math.tanh(math.sqrt(q) * z) ** 2) + sb2 - q
    if sb2 == 0 and sw2 <= 1:
        return 0.0
    lo = 1e-12 if sb2 == 0 else sb2
    return brentq(h, lo, sw2 + sb2 + 1, xtol=1e-15, rtol=1e-15, maxiter=200)


def chi1(sw2, sb2):
    q = q_star(sw2, sb2)
    return sw2 * e1(lambda z: (1 / math.cosh(math.sqrt(q) * z)) ** 4), q


def c_star(sw2, sb2, q, x1):
    if x1 <= 1:
        return 1.0
    g = lambda c: (sw2 * e2(np.tanh, q, c) + sb2) / q - c
    b = 0.5
    while g(b) >= 0:
        b = 1 - (1 - b) / 2
    return brentq(g, 0.0, b, xtol=1e-15, rtol=1e-15, maxiter=200)


def xi_c(sw2, q, c, x1):
    chi_c = x1 if c == 1.0 else sw2 * e2(sech2, q, c)
    return -1 / math.log(chi_c)


def critical(sb2):
    if sb2 == 0:
        return 1.0  # q* = 0 up to sw2 = 1 and chi1 = sw2 there; chi1 - 1 = O((sw2-1)^2) above
    return brentq(lambda w: chi1(w, sb2)[0] - 1, 1.0, 10.0, xtol=1e-14, rtol=1e-15)


def main():
    out = subprocess.run(["npx", "tsx", "src/analysis/meanfield/print-table.ts", "--json"],
                         capture_output=True, text=True, check=True).stdout
    ts = json.loads(out.strip().splitlines()[-1])
    worst = 0.0

    def cmp(label, a, b):
        nonlocal worst
        rel = abs(a - b) / max(abs(b), 1e-300)
        worst = max(worst, rel)
        print(f"  {label:<34} ts={a:.15g}  py={b:.15g}  rel={rel:.1e}")

    print("tanh critical sw2 (chi1 = 1)")
    for r in ts["critical"]:
        cmp(f"sb2={r['sb2']}", r["sw2"], critical(r["sb2"]))
    print("tanh fixed points / depth scales")
    for p in ts["points"]:
        sw2, sb2 = p["sw2"], p["sb2"]
        x1, q = chi1(sw2, sb2)
        c = c_star(sw2, sb2, q, x1)
        tag = f"sw2={sw2}, sb2={sb2}"
        cmp(tag + " q*", p["qStar"], q)
        cmp(tag + " chi1", p["chi1"], x1)
        cmp(tag + " c*", p["cStar"], c)
        cmp(tag + " xi_c", p["xiC"], xi_c(sw2, q, c, x1))
    print(f"max relative difference: {worst:.2e}")
    sys.exit(0 if worst < 1e-6 else 1)


if __name__ == "__main__":
    main()
