#!/usr/bin/env python3
"""Coefficients of eltwise.cl that are not in act_math.cl.

tanh_shrink: (x - tanh x)/x^3 = P(x^2) on x^2 in [0, 1], a degree-9
Chebyshev fit (mpmath.chebyfit), printed highest degree first and rounded
to float32 as the kernel uses them. Needs python3-mpmath.
"""
import struct
from mpmath import mp, mpf, tanh, sqrt, chebyfit

mp.dps = 50


def g(t):
    if t == 0:
        return mpf(1) / 3
    x = sqrt(t)
    return (x - tanh(x)) / x**3


def f32(v):
    return struct.unpack('f', struct.pack('f', float(v)))[0]


poly, err = chebyfit(g, [0, 1], 10, error=True)
print('tanh_shrink: relative error of the fit %.3g' % float(err / g(mpf(1))))
print(', '.join('%.9ef' % f32(c) for c in poly))
