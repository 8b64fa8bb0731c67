#!/usr/bin/env python3
"""
gen_math_coeffs.py - generates every polynomial coefficient set and split
constant used by kernels/opencl/act_math.cl.

Run:  python3 kernels/opencl/gen/gen_math_coeffs.py   (needs only mpmath)

Method.  Each polynomial is a weighted minimax fit computed with a plain
Remez exchange over a dense Chebyshev-spaced grid, in 40-digit mpmath
arithmetic.  The coefficients are then fixed to float32 one at a time,
highest degree first, refitting the remaining free coefficients after each
one is fixed (a greedy version of the fpminimax idea), so the printed
float literals are the ones whose error is reported.  Constants that are
carried as double-float pairs (hi + lo) are split exactly: hi is the
float32 nearest the value (or a shorter value where a product with it must
be exact), lo is the float32 nearest value - hi.

The script prints each set with its achieved maximum error; the numbers
quoted in act_math.cl's comments come from this output.
"""
import struct
import mpmath as mp

mp.mp.dps = 40
ERFC_DEG = 9


def f32(x):
    """Round to the nearest float32 (through double: fine for coefficients)."""
    return struct.unpack('<f', struct.pack('<f', float(x)))[0]


def lit(x):
    """A decimal literal that denotes exactly the float32 value x."""
    v = f32(x)
    s = repr(v)
    if 'e' not in s and '.' not in s:
        s += '.0'
    assert f32(float(s)) == v
    return s + 'f'


def solve_ref(f, w, basis, pts):
    n = len(basis)
    A = mp.matrix(n + 1, n + 1)
    b = mp.matrix(n + 1, 1)
    for i, x in enumerate(pts):
        for j, phi in enumerate(basis):
            A[i, j] = phi(x)
        A[i, n] = (-1) ** i / w(x)
        b[i] = f(x)
    s = mp.lu_solve(A, b)
    return [s[j] for j in range(n)], s[n]


def remez(f, w, basis, a, b, grid=1500, iters=60):
    """Minimises max |w(x) (f(x) - sum_j c_j basis_j(x))| over [a, b]."""
    m = len(basis) + 1
    pts = [(a + b) / 2 - (b - a) / 2 * mp.cos(mp.pi * i / (m - 1))
           for i in range(m)]
    G = [a + (b - a) * (1 - mp.cos(mp.pi * i / (grid - 1))) / 2
         for i in range(grid)]
    fG = [f(x) for x in G]
    wG = [w(x) for x in G]
    bG = [[phi(x) for phi in basis] for x in G]
    last = None
    c = None
    for _ in range(iters):
        c, E = solve_ref(f, w, basis, pts)
        ev = [wG[i] * (fG[i] - mp.fsum(cj * bj for cj, bj in zip(c, bG[i])))
              for i in range(grid)]
        ext = []
        i = 0
        while i < grid:
            s = ev[i] >= 0
            j = i
            best = i
            while j < grid and (ev[j] >= 0) == s:
                if abs(ev[j]) > abs(ev[best]):
                    best = j
                j += 1
            ext.append(best)
            i = j
        while len(ext) > m:
            if abs(ev[ext[0]]) < abs(ev[ext[-1]]):
                ext.pop(0)
            else:
                ext.pop()
        mx = max(abs(v) for v in ev)
        if len(ext) < m:
            break
        pts = [G[k] for k in ext]
        if last is not None and abs(mx - abs(E)) < 1e-3 * mx:
            break
        last = mx
    return c


def fit_float(f, w, basis, a, b, exact=()):
    """Remez fit whose coefficients are then fixed to float32 greedily,
    highest degree first, refitting the free ones each time.  Indices in
    `exact` (carried as double-float pairs) are never rounded: they are
    fixed last, at their final fitted value."""
    n = len(basis)
    fixed = {}
    order = [k for k in range(n - 1, -1, -1) if k not in exact]
    order += [k for k in range(n - 1, -1, -1) if k in exact]
    for k in order:
        free = [j for j in range(n) if j not in fixed]
        fx = dict(fixed)

        def g(x, fx=fx):
            return f(x) - mp.fsum(cj * basis[j](x) for j, cj in fx.items())
        c = remez(g, w, [basis[j] for j in free], a, b)
        v = c[free.index(k)]
        fixed[k] = v if k in exact else mp.mpf(f32(v))
    return [fixed[j] for j in range(n)]


def max_err(f, w, basis, c, a, b, n=4000):
    mx = mp.mpf(0)
    for i in range(n + 1):
        x = a + (b - a) * mp.mpf(i) / n
        p = mp.fsum(cj * phi(x) for cj, phi in zip(c, basis))
        mx = max(mx, abs(w(x) * (f(x) - p)))
    return mx


def mono(deg):
    return [(lambda x, j=j: x ** j) for j in range(deg + 1)]


def split(v, bits=24):
    """hi with `bits` significant bits (nearest), lo = float32(v - hi)."""
    v = mp.mpf(v)
    e = mp.floor(mp.log(abs(v), 2))
    q = mp.mpf(2) ** (e - bits + 1)
    hi = mp.nint(v / q) * q
    assert mp.mpf(f32(hi)) == hi
    lo = f32(v - hi)
    return hi, mp.mpf(lo)


def show(name, coeffs, err, note):
    print('%s: max error %s (2^%.1f) %s' % (
        name, mp.nstr(err, 4), float(mp.log(err, 2)) if err else -999, note))
    for j, c in enumerate(coeffs):
        print('    c%-2d = %s' % (j, lit(c)))


def main():
    # --- exp: e^r = 1 + r + r^2/2 + r^3 C(r),  |r| <= 0.35 (> ln2/2 plus
    # the slack of k = rint(x*log2e) rounded in float).
    def C(r):
        if abs(r) < mp.mpf('1e-6'):
            return mp.mpf(1) / 6 + r / 24 + r * r / 120
        return (mp.exp(r) - 1 - r - r * r / 2) / r ** 3
    b = mono(5)
    c = fit_float(C, lambda r: 1 / C(r), b, mp.mpf('-0.35'), mp.mpf('0.35'))
    show('EXP C(r) = (e^r-1-r-r^2/2)/r^3 on [-0.35,0.35], relative', c,
         max_err(C, lambda r: 1 / C(r), b, c, mp.mpf('-0.35'), mp.mpf('0.35')),
         '')

    # --- the lean exp core (ami_expm1_lean): e^r - 1 = r + r^2 H(r),
    # H(r) = (e^r - 1 - r)/r^2 on [-0.35, 0.35], relative.
    def H(r):
        if abs(r) < mp.mpf('1e-8'):
            return mp.mpf(1) / 2 + r / 6 + r * r / 24
        return (mp.exp(r) - 1 - r) / r ** 2
    b = mono(5)
    c = fit_float(H, lambda r: 1 / H(r), b, mp.mpf('-0.35'), mp.mpf('0.35'))
    show('EXPH H(r) = (e^r-1-r)/r^2 on [-0.35,0.35], relative', c,
         max_err(H, lambda r: 1 / H(r), b, c, mp.mpf('-0.35'),
                 mp.mpf('0.35')), '')

    # --- gelu near 0 (ami_gelu_erf): x Phi(x) = x/2 + x^2 W(x^2),
    # W(s) = erf(sqrt(s/2))/(2 sqrt s) = W0 + s W1(s), W0 = 1/sqrt(2 pi)
    # carried as a pair; W1 on s in [0, 0.5625] (|x| < 0.75), relative.
    w0 = 1 / mp.sqrt(2 * mp.pi)

    def W1(s):
        if s < mp.mpf('1e-10'):
            return -w0 / 6 + w0 * s / 40
        r = mp.sqrt(s)
        return (mp.erf(r / mp.sqrt(2)) / (2 * r) - w0) / s
    b = mono(4)
    c = fit_float(W1, lambda s: 1 / W1(s), b, mp.mpf(0), mp.mpf('0.5625'))
    show('GELUW1 W1(s) on [0,0.5625], relative', c,
         max_err(W1, lambda s: 1 / W1(s), b, c, mp.mpf(0), mp.mpf('0.5625'),
                 1000), '')
    h, l = split(w0)
    print('  W0 = 1/sqrt(2 pi) = %s + %s' % (lit(h), lit(l)))

    # --- gelu's gradient near 0 (act_bwd_gelu_erf in eltwise_bwd.cl):
    # Phi(x) + x phi(x) = 1/2 + x V(x^2), V(s) = W(s) + W0 e^(-s/2) =
    # 2 W0 + s V1(s), 2 W0 carried as a pair; V1 on [0, 0.5625], relative.
    def V1(s):
        if s < mp.mpf('1e-10'):
            return -2 * w0 / 3 + 3 * w0 * s / 20
        r = mp.sqrt(s)
        return (mp.erf(r / mp.sqrt(2)) / (2 * r) + w0 * mp.exp(-s / 2)
                - 2 * w0) / s
    b = mono(5)
    c = fit_float(V1, lambda s: 1 / V1(s), b, mp.mpf(0), mp.mpf('0.5625'))
    show('GELUDV1 V1(s) on [0,0.5625], relative', c,
         max_err(V1, lambda s: 1 / V1(s), b, c, mp.mpf(0), mp.mpf('0.5625'),
                 1000), '')
    h, l = split(2 * w0)
    print('  2 W0 = 2/sqrt(2 pi) = %s + %s' % (lit(h), lit(l)))

    # --- log: log1p(f) = q + q^3 S(q^2), q = 2f/(2+f),
    # f in [sqrt(1/2)-1, sqrt(2)-1]  =>  q^2 <= 0.11775; fit on [0, 0.118].
    def S(w):
        # sum_{j>=1} w^(j-1) / (4^j (2j+1))  (2 atanh(q/2) expanded)
        return mp.nsum(lambda j: w ** (j - 1) / (4 ** j * (2 * j + 1)),
                       [1, mp.inf])
    b = mono(4)
    c = fit_float(S, lambda w: 1 / S(w), b, mp.mpf(0), mp.mpf('0.118'))
    show('LOG S(w), w = q^2 in [0,0.118], relative', c,
         max_err(S, lambda w: 1 / S(w), b, c, mp.mpf(0), mp.mpf('0.118'),
                 1000), '')

    # --- erf, small |x| < 0.5: erf(x) = x + x V(x^2),
    # V(s) = erf(sqrt s)/sqrt s - 1; error weighted relative to erf(x)/x.
    def V(s):
        if s == 0:
            return 2 / mp.sqrt(mp.pi) - 1
        r = mp.sqrt(s)
        return mp.erf(r) / r - 1
    b = mono(5)
    wv = lambda s: 1 / (1 + V(s))
    c = fit_float(V, wv, b, mp.mpf(0), mp.mpf('0.25'))
    show('ERF V(s) = erf(sqrt s)/sqrt s - 1 on [0,0.25], rel. to erf(x)/x', c,
         max_err(V, wv, b, c, mp.mpf(0), mp.mpf('0.25'), 1000), '')

    # --- erfc: Shepherd & Laframboise (Math. Comp. 36 (1981) 249-253):
    # (1 + 2z) e^(z^2) erfc(z) = P(t),  t = (z - K)/(z + K),
    # fitted for z in [0.5, 10.2] (below 0.5 act_math.cl uses 1 - erf(z);
    # erfc underflows past z = 10.06).  K = 2.5 centres t in about
    # [-0.67, 0.61], which keeps the float Horner sums small.  c0 is carried
    # as a double-float pair, so it is left unrounded (fixed last).
    K = mp.mpf('2.5')

    def P(t):
        z = K * (1 + t) / (1 - t)
        return (1 + 2 * z) * mp.erfc(z) * mp.exp(z * z)
    za, zb = mp.mpf('0.5'), mp.mpf('10.2')
    ta, tb = (za - K) / (za + K), (zb - K) / (zb + K)
    b = mono(ERFC_DEG)
    c = fit_float(P, lambda t: 1 / P(t), b, ta, tb, exact=(0,))
    err = max_err(P, lambda t: 1 / P(t), b, c, ta, tb, 2000)
    c0h = mp.mpf(f32(c[0]))
    c0l = mp.mpf(f32(c[0] - c0h))
    print('ERFC P(t), K=%s, t in [%.6f, %.6f], relative: max error %s (2^%.1f)'
          % (K, float(ta), float(tb), mp.nstr(err, 4), float(mp.log(err, 2))))
    print('    c0 hi = %s' % lit(c0h))
    print('    c0 lo = %s' % lit(c0l))
    for j in range(1, len(c)):
        print('    c%-2d = %s' % (j, lit(c[j])))

    # --- split constants
    print('constants:')
    ln2 = mp.log(2)
    h = mp.mpf(f32(ln2))
    print('  ln2 (exp reduction): L1 = %s  L2 = %s' % (lit(h), lit(ln2 - h)))
    h, l = split(ln2, 15)
    print('  ln2 (lean exp, 15-bit C1): C1 = %s  C2 = %s' % (lit(h), lit(l)))
    h, l = split(ln2, 16)
    print('  ln2 (log, 16-bit hi): %s + %s' % (lit(h), lit(l)))
    print('  log2(e) = %s' % lit(1 / ln2))
    h, l = split(1 / mp.sqrt(2))
    print('  1/sqrt(2) = %s + %s' % (lit(h), lit(l)))
    h, l = split(2 * mp.sqrt(2 / mp.pi))
    print('  2 sqrt(2/pi) = %s + %s' % (lit(h), lit(l)))
    h, l = split(mp.mpf('0.044715'))
    print('  0.044715 = %s + %s' % (lit(h), lit(l)))
    h, l = split(mp.mpf('1.702'))
    print('  1.702 = %s + %s' % (lit(h), lit(l)))


if __name__ == '__main__':
    main()
