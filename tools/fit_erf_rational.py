#!/usr/bin/env python3
# How the erf coefficients of runtime/util/vec_math_poly.h (erf_poly::kP, kQ) were made: erf(z) as the
# odd rational z P(z^2) / Q(z^2), P and Q of degree 5, Q(0) = 1, fitted on [0, 4] by linearised least
# squares of the rational, then reweighted towards the minimax error (Lawson), in 40-digit arithmetic.
# Prints the fit's largest absolute error, the same with the coefficients rounded to float, and the
# coefficients (highest power first, as Horner's scheme in the kernels takes them).
# Needs mpmath (python3-mpmath on Debian). Run: tools/fit_erf_rational.py [degree_p degree_q]
import math
import struct
import sys

import mpmath as mp

mp.mp.dps = 40
NP = int(sys.argv[1]) if len(sys.argv) > 1 else 5
NQ = int(sys.argv[2]) if len(sys.argv) > 2 else 5
ZMAX = mp.mpf(4)
N = 600

# Evenly spaced points plus Chebyshev points (denser at both ends of the interval).
zs = [ZMAX * mp.mpf(i + 0.5) / N for i in range(N)]
zs += [ZMAX * (1 - mp.cos(mp.pi * (i + 0.5) / N)) / 2 for i in range(N)]
fs = [mp.erf(z) / z for z in zs]
ts = [z * z for z in zs]


def horner(c, t):
    return sum(ck * t**k for k, ck in enumerate(c))


weights = [mp.mpf(1)] * len(zs)
q_prev = [mp.mpf(1)] * len(zs)
best = None
for it in range(60):
    # Unknowns p0..pNP, q1..qNQ; residual z (P - f Q) / Q_prev, i.e. the error of erf itself.
    rows, rhs = [], []
    for z, t, f, w, qp in zip(zs, ts, fs, weights, q_prev):
        s = mp.sqrt(w) * z / qp
        rows.append([s * t**k for k in range(NP + 1)] + [-s * f * t**j for j in range(1, NQ + 1)])
        rhs.append(s * f)
    A = mp.matrix(rows)
    b = mp.matrix(rhs)
    x = mp.lu_solve(A.T * A, A.T * b)
    p = [x[k] for k in range(NP + 1)]
    q = [mp.mpf(1)] + [x[NP + 1 + j] for j in range(NQ)]
    errs = [z * (horner(p, t) / horner(q, t) - f) for z, t, f in zip(zs, ts, fs)]
    worst = max(abs(e) for e in errs)
    if best is None or worst < best[0]:
        best = (worst, p, q)
    q_prev = [horner(q, t) for t in ts]
    if it >= 5:
        weights = [w * abs(e) for w, e in zip(weights, errs)]
        total = sum(weights)
        weights = [w / total * len(weights) for w in weights]


def to_f32(v):
    return struct.unpack('f', struct.pack('f', float(v)))[0]


p32 = [to_f32(c) for c in best[1]]
q32 = [to_f32(c) for c in best[2]]
worst32 = 0.0
for i in range(1, 40001):
    z = 4.0 * i / 40000
    t = z * z
    worst32 = max(worst32, abs(z * horner(p32, t) / horner(q32, t) - math.erf(z)))
print("largest |error| on [0, 4]: exact coefficients %s, float coefficients %.3g" % (mp.nstr(best[0], 3), worst32))
print("P (t^%d .. t^0):" % NP, ", ".join(repr(c) + "f" for c in reversed(p32)))
print("Q (t^%d .. t^0):" % NQ, ", ".join(repr(c) + "f" for c in reversed(q32)))
