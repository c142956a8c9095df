#!/usr/bin/env python3
"""The float64 reference of a window's PCA for bench/fengtu.ts: centre the float32 window in float64,
form C = XᵀX/(T − 1) and diagonalise it with LAPACK (numpy.linalg.eigvalsh). Also D99 with PC1
left out. Usage: float64_reference.py WINDOW.npy K OUT.json"""
import json
import sys
import time

import numpy as np

x = np.load(sys.argv[1]).astype(np.float64)
k = int(sys.argv[2])
t0 = time.perf_counter()
x -= x.mean(axis=0)
c = x.T @ x / (x.shape[0] - 1)
w = np.linalg.eigvalsh(c)[::-1]
sec = time.perf_counter() - t0
json.dump({'seconds': sec, 'variances': w[:k].tolist(), 'total': float(np.trace(c))}, open(sys.argv[3], 'w'))
