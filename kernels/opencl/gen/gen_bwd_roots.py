#!/usr/bin/env python3
"""Taylor coefficients of f' at its zero, for eltwise_bwd.cl.

gelu (erf and tanh forms), silu (in u = beta x) and mish have a minimum,
where f' = 0 and its closed forms cancel completely. eltwise_bwd.cl
evaluates f' there (|h| <= 0.25, h = x - x0 as a double-float) as
h (c1 + h Q(h)); this prints x0 and c1 as (hi, lo) float pairs and Q's
coefficients c2..cN, N the first degree whose truncation at |h| = 0.25 is
below 2^-33 of c1 h. Needs mpmath.
"""
import struct

import mpmath as mp

mp.mp.dps = 60


def f32(v):
    return struct.unpack('f', struct.pack('f', float(v)))[0]


sig = lambda v: 1 / (1 + mp.exp(-v))
C2 = 2 * mp.sqrt(2 / mp.pi)
A = mp.mpf('0.044715')


def gelu_tanh_d(x):
    v = C2 * (x + A * x**3)
    return sig(v) + x * sig(v) * sig(-v) * C2 * (1 + 3 * A * x**2)


FNS = {
    'gelu_erf': (lambda x: mp.ncdf(x) + x * mp.npdf(x), -0.75),
    'gelu_tanh': (gelu_tanh_d, -0.75),
    'mish': (lambda x: mp.diff(lambda t: t * mp.tanh(mp.log(1 + mp.exp(t))), x), -1.19),
    'silu': (lambda u: sig(u) * (1 + u * sig(-u)), -1.28),
}
H = 0.25
N = 16

for name, (f, start) in FNS.items():
    x0 = mp.findroot(f, start)
    if name == 'mish':
        g = lambda t: t * mp.tanh(mp.log(1 + mp.exp(t)))
        co = mp.taylor(g, x0, N + 1)[1:]
        co = [co[k] * (k + 1) for k in range(N + 1)]
    else:
        co = mp.taylor(f, x0, N)
    deg = N
    for d in range(2, N + 1):
        tail = sum(abs(co[k]) * H**k for k in range(d + 1, N + 1))
        if tail < 2**-33 * abs(co[1]) * H:
            deg = d
            break
    h0 = f32(x0)
    c1h = f32(co[1])
    print(name, 'x0 = %.20g' % x0, 'degree', deg)
    print('  x0h %.9e x0l %.9e c1h %.9e c1l %.9e' %
          (h0, f32(x0 - h0), c1h, f32(co[1] - c1h)))
    print('  Q (c2..c%d):' % deg,
          ', '.join('%.9e' % f32(co[k]) for k in range(2, deg + 1)))


# The error budgets of the lean gradients outside the root intervals
# (eltwise_bwd.cl): the condition number of the gated form N / (1 + t)^2
# in t = e^-|w| (silu: w = s = u; gelu tanh form: w, s of x), and for
# gelu's erf form the cancellation of B = erfcx(z)/2 - |x|/sqrt(2 pi)
# (x <= x0 - 0.25) and the share of x s V1 in f' near 0.  A 0.001 grid,
# in double precision: these are bounds on error factors, not values.
import math


def gated_cond(w, s):
    t = math.exp(-abs(w))
    if w >= 0:
        return abs(t * (1 + s) / (1 + t * (1 + s)) - 2 * t / (1 + t))
    return abs(1 + t / ((1 + s) + t) - 2 * t / (1 + t))


def grid(a, b, skip):
    n = int(round((b - a) / 0.001))
    return [a + i * 0.001 for i in range(n + 1) if abs(a + i * 0.001 - skip) > H]


c, a = float(C2), float(A)
print('silu: condition in t <= %.3f (u in [-30, 30])' % max(
    gated_cond(u, u) for u in grid(-30, 30, -1.278464556)))
print('gelu tanh form: condition in t <= %.3f (x in [-14, 7])' % max(
    gated_cond(c * x * (1 + a * x * x), c * x * (1 + 3 * a * x * x))
    for x in grid(-14, 7, -0.7524614334)))
r0 = 1 / math.sqrt(2 * math.pi)
amp = 0.0
for x in grid(-20, -1.0017915, 100):
    z = -x / math.sqrt(2)
    fh = float(mp.exp(z * z) * mp.erfc(z)) / 2
    amp = max(amp, fh / abs(fh + x * r0))
print('gelu erf form: B cancels by <= %.3f (x <= x0 - 0.25)' % amp)
share = max(abs(1 - (0.5 + x * 2 * r0) / float(mp.ncdf(x) + x * mp.npdf(x)))
            for x in grid(-0.5017915, 0.75, 100) if x != 0)
print('gelu erf form: x s V1 <= %.3f of f\' (x0 + 0.25 < x < 0.75)' % share)
