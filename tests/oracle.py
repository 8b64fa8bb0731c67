#!/usr/bin/env python3
"""oracle.py - an independent high-precision oracle for the element-wise ops.

Usage: oracle.py OUT.tsv

Writes one row per (op, params, input):

    op <TAB> params <TAB> input <TAB> exact

- op: the canonical name (docs/ops.md);
- params: "k=v,k=v" as act_op_desc_set_param takes them, or "-" for the
  library defaults (the oracle then uses the defaults written in docs/ops.md);
- input: the float32 input as 8 hex digits of its bits;
- exact: the exact mathematical value of the op at that input, as a decimal
  with 30 significant digits, or "nan", "inf", "-inf".

Every definition is the one of docs/ops.md, written out here from the text of docs/ops.md
and nothing else (no code of the library is used):
- piecewise rational ops (relu, clip, hard_sigmoid with alpha = 1/6, ...) are
  evaluated exactly with fractions.Fraction;
- the others with mpmath, at a precision raised until two evaluations at
  precisions d and 2d agree to 40 significant digits (Ziv's strategy), so
  cancellation (tanh_shrink near 0, squareplus for x << 0, 1 + erf(z) in the
  gelu tail) cannot leak into the result;
- at +-inf the value is the mathematical limit (a table below, which the
  generator checks against the op at +-1e60); NaN in gives NaN.

Parameters given as decimals ("0.1", "1.702") are the exact decimal values,
not their nearest doubles. Needs python3-mpmath.
"""
import math
import random
import struct
import sys
import time
import zlib
from fractions import Fraction

try:
    import mpmath
    from mpmath import mp, mpf
    from mpmath.libmp import to_str
except ImportError:  # pragma: no cover
    sys.stderr.write("oracle.py: mpmath is missing (Debian: python3-mpmath; "
                     "pip: mpmath)\n")
    sys.exit(2)

DIGITS = 30  # significant digits written for each exact value
AGREE = mpf(10) ** -40  # Ziv: relative agreement between precisions d, 2d
INF = float("inf")

# ---------------------------------------------------------------------------
# float32 helpers


def f32_bits(v):
    """Bits of the float32 nearest to the Python float v."""
    return struct.unpack("<I", struct.pack("<f", v))[0]


def bits_f32(b):
    """The float32 with bits b, as an (exact) Python float."""
    return struct.unpack("<f", struct.pack("<I", b))[0]


def next_up(v):
    b = f32_bits(v)
    if v == 0:
        return bits_f32(1)
    return bits_f32(b + 1 if v > 0 else b - 1)


def next_down(v):
    return -next_up(-v)


FLT_MAX = bits_f32(0x7F7FFFFF)
FLT_MIN = bits_f32(0x00800000)
DENORM_MIN = bits_f32(0x00000001)
DENORM_MAX = bits_f32(0x007FFFFF)

# ---------------------------------------------------------------------------
# The ops. Each takes x (Fraction for "rat" ops, mpf for "mp" ops) and the
# parameters P (a dict of Fractions; mp ops get them as mpf at the working
# precision). Parameter values are exact: decimals as written, 1/6 as 1/6.


def F(s):
    return Fraction(s)


# docs/ops.md defaults, written from the table of docs/ops.md.
DEFAULTS = {
    "relu": {"negative_slope": F(0), "max_value": INF, "threshold": F(0)},
    "leaky_relu": {"negative_slope": F("0.01")},
    "prelu": {"alpha": F("0.25")},  # a single value when no tensor is given
    "elu": {"alpha": F(1)},
    "celu": {"alpha": F(1)},
    "gelu": {"approximate": F(0)},
    "silu": {"beta": F(1)},
    "hard_sigmoid": {"alpha": Fraction(1, 6), "beta": F("0.5")},
    "hard_silu": {"alpha": Fraction(1, 6), "beta": F("0.5")},
    "softplus": {"beta": F(1), "threshold": INF},
    "squareplus": {"b": F(4)},
    "hard_shrink": {"lambda": F("0.5")},
    "soft_shrink": {"lambda": F("0.5")},
    "threshold": {},  # both required
    "clip": {"min": F(0), "max": F(6)},
}

SELU_LAMBDA = "1.0507009873554804934193349852946"
SELU_ALPHA = "1.6732632423543772848170429916717"


# -- piecewise rational ops: exact ------------------------------------------

def r_relu(x, P):
    thr, slope, mx = P["threshold"], P["negative_slope"], P["max_value"]
    r = x if x > thr else slope * (x - thr)
    return r if mx == INF or r <= mx else Fraction(mx)


def r_relu6(x, P):
    return min(max(x, F(0)), F(6))


def r_leaky(x, P):
    return x if x >= 0 else P["negative_slope"] * x


def r_prelu(x, P):
    return x if x >= 0 else P["alpha"] * x


def r_hard_sigmoid(x, P):
    return min(F(1), max(F(0), P["alpha"] * x + P["beta"]))


def r_hard_silu(x, P):
    return x * r_hard_sigmoid(x, P)


def r_hard_tanh(x, P):
    return F(1) if x > 1 else (F(-1) if x < -1 else x)


def r_softsign(x, P):
    return x / (abs(x) + 1)


def r_sparse_plus(x, P):
    if x <= -1:
        return F(0)
    if x >= 1:
        return x
    return (x + 1) ** 2 / 4


def r_sparse_sigmoid(x, P):
    if x <= -1:
        return F(0)
    if x >= 1:
        return F(1)
    return (x + 1) / 2


def r_linear(x, P):
    return x


def r_hard_shrink(x, P):
    return x if abs(x) > P["lambda"] else F(0)


def r_soft_shrink(x, P):
    lam = P["lambda"]
    return x - lam if x > lam else (x + lam if x < -lam else F(0))


def r_threshold(x, P):
    return x if x > P["threshold"] else P["value"]


def r_clip(x, P):
    return min(max(x, P["min"]), P["max"])


# -- transcendental ops: mpmath ---------------------------------------------

def m_elu(x, P):
    return x if x > 0 else P["alpha"] * mp.expm1(x)


def m_selu(x, P):
    return mpf(SELU_LAMBDA) * (x if x > 0 else mpf(SELU_ALPHA) * mp.expm1(x))


def m_celu(x, P):
    a = P["alpha"]
    return max(mpf(0), x) + min(mpf(0), a * mp.expm1(x / a))


def m_gelu_erf_naive(x):
    return x / 2 * (1 + mp.erf(x / mp.sqrt(2)))


def m_gelu_erf_tail(x):
    # 1 + erf(t) = erfc(-t): the same number, without the cancellation that
    # would need ~z^2/2.3 digits for x -> -inf.
    return x / 2 * mp.erfc(-x / mp.sqrt(2))


def m_gelu_tanh_u(x):
    return mp.sqrt(2 / mp.pi) * (x + mpf("0.044715") * x ** 3)


def m_gelu_tanh_naive(x):
    return x / 2 * (1 + mp.tanh(m_gelu_tanh_u(x)))


def m_gelu_tanh_tail(x):
    # 1 + tanh(u) = 2/(1 + e^(-2u)), exactly.
    return x / (1 + mp.exp(-2 * m_gelu_tanh_u(x)))


def m_gelu(x, P):
    if P["approximate"] != 0:
        return m_gelu_tanh_naive(x) if x >= 0 else m_gelu_tanh_tail(x)
    return m_gelu_erf_naive(x) if x >= 0 else m_gelu_erf_tail(x)


def m_sigmoid_of(z):
    return 1 / (1 + mp.exp(-z))


def m_silu(x, P):
    return x * m_sigmoid_of(P["beta"] * x)


def m_sigmoid(x, P):
    return m_sigmoid_of(x)


def m_softplus_of(z):
    # log(1 + e^z); log1p is log(1 + t) evaluated accurately for tiny t.
    return mp.log1p(mp.exp(z))


def m_log_sigmoid(x, P):
    return -m_softplus_of(-x)


def m_tanh(x, P):
    return mp.tanh(x)


def m_softplus(x, P):
    beta, thr = P["beta"], P["threshold"]
    if thr != INF and beta * x > thr:
        return x
    return m_softplus_of(beta * x) / beta


def m_mish(x, P):
    return x * mp.tanh(m_softplus_of(x))


def m_squareplus(x, P):
    return (x + mp.sqrt(x * x + P["b"])) / 2


def m_exp(x, P):
    return mp.exp(x)


def m_gelu_quick(x, P):
    return x * m_sigmoid_of(mpf("1.702") * x)


def m_tanh_shrink(x, P):
    return x - mp.tanh(x)


# op name -> (kind, function, limit at -inf, limit at +inf). A limit is a
# function of the parameters (dict of Fractions/INF) giving a Fraction or
# +-INF.
def _const(v):
    return lambda P: v


OPS = {
    "relu": ("rat", r_relu,
             lambda P: F(0) if P["negative_slope"] == 0 else
             (-INF if P["negative_slope"] > 0 else INF),
             lambda P: P["max_value"]),
    "relu6": ("rat", r_relu6, _const(F(0)), _const(F(6))),
    "leaky_relu": ("rat", r_leaky, _const(-INF), _const(INF)),
    "prelu": ("rat", r_prelu, _const(-INF), _const(INF)),
    "elu": ("mp", m_elu, lambda P: -P["alpha"], _const(INF)),
    "selu": ("mp", m_selu, lambda P: -Fraction(SELU_LAMBDA) *
             Fraction(SELU_ALPHA), _const(INF)),
    "celu": ("mp", m_celu,
             lambda P: -P["alpha"] if P["alpha"] > 0 else -INF,
             _const(INF)),
    "gelu": ("mp", m_gelu, _const(F(0)), _const(INF)),
    "silu": ("mp", m_silu, _const(F(0)), _const(INF)),  # beta > 0 here
    "sigmoid": ("mp", m_sigmoid, _const(F(0)), _const(F(1))),
    "log_sigmoid": ("mp", m_log_sigmoid, _const(-INF), _const(F(0))),
    "tanh": ("mp", m_tanh, _const(F(-1)), _const(F(1))),
    "hard_sigmoid": ("rat", r_hard_sigmoid, _const(F(0)), _const(F(1))),
    "hard_silu": ("rat", r_hard_silu, _const(F(0)), _const(INF)),
    "hard_tanh": ("rat", r_hard_tanh, _const(F(-1)), _const(F(1))),
    "softplus": ("mp", m_softplus, _const(F(0)), _const(INF)),
    "softsign": ("rat", r_softsign, _const(F(-1)), _const(F(1))),
    "mish": ("mp", m_mish, _const(F(0)), _const(INF)),
    "squareplus": ("mp", m_squareplus, _const(F(0)), _const(INF)),
    "sparse_plus": ("rat", r_sparse_plus, _const(F(0)), _const(INF)),
    "sparse_sigmoid": ("rat", r_sparse_sigmoid, _const(F(0)), _const(F(1))),
    "exp": ("mp", m_exp, _const(F(0)), _const(INF)),
    "linear": ("rat", r_linear, _const(-INF), _const(INF)),
    "gelu_quick": ("mp", m_gelu_quick, _const(F(0)), _const(INF)),
    "hard_shrink": ("rat", r_hard_shrink, _const(-INF), _const(INF)),
    "soft_shrink": ("rat", r_soft_shrink, _const(-INF), _const(INF)),
    "tanh_shrink": ("mp", m_tanh_shrink, _const(-INF), _const(INF)),
    "threshold": ("rat", r_threshold, lambda P: P["value"], _const(INF)),
    "clip": ("rat", r_clip, lambda P: P["min"], lambda P: P["max"]),
}

# The groups written: (op, params string for the library, or "-").
GROUPS = [
    ("relu", "-"),
    ("relu", "negative_slope=0.1,max_value=6,threshold=1"),
    ("relu6", "-"),
    ("leaky_relu", "-"),
    ("prelu", "alpha=0.25"),
    ("elu", "-"),
    ("selu", "-"),
    ("celu", "alpha=1"),
    ("celu", "alpha=0.5"),
    ("celu", "alpha=-2"),
    ("gelu", "approximate=0"),
    ("gelu", "approximate=1"),
    ("silu", "beta=1"),
    ("silu", "beta=1.5"),
    ("sigmoid", "-"),
    ("log_sigmoid", "-"),
    ("tanh", "-"),
    ("hard_sigmoid", "-"),
    ("hard_silu", "-"),
    ("hard_tanh", "-"),
    ("softplus", "-"),
    ("softplus", "beta=2,threshold=20"),
    ("softsign", "-"),
    ("mish", "-"),
    ("squareplus", "-"),
    ("sparse_plus", "-"),
    ("sparse_sigmoid", "-"),
    ("exp", "-"),
    ("linear", "-"),
    ("gelu_quick", "-"),
    ("hard_shrink", "-"),
    ("soft_shrink", "-"),
    ("tanh_shrink", "-"),
    ("threshold", "threshold=0.5,value=-2"),
    ("clip", "-"),
]


def params_of(op, pstr):
    P = dict(DEFAULTS.get(op, {}))
    if pstr != "-":
        for kv in pstr.split(","):
            k, v = kv.split("=")
            if k not in P and op != "threshold":
                raise ValueError("%s: unknown parameter %s" % (op, k))
            P[k] = INF if v in ("inf", "+inf") else Fraction(v)
    return P


# ---------------------------------------------------------------------------
# Evaluation


def mp_params(P):
    return {k: (mpf("inf") if v == INF else
                mpf(v.numerator) / v.denominator) for k, v in P.items()}


def eval_mp(fn, x, P, start=50, limit=20000):
    """fn(x, P) to >= 40 correct significant digits: evaluated at doubling
    precisions until two consecutive results agree. A zero result is taken
    only at x = 0: for x != 0 every op here (a transcendental function on
    the branch that reaches mpmath) is non-zero, and a 0 means that the
    precision was too low for the cancellation (x - tanh x at a denormal x),
    so the precision goes on rising."""
    prev = None
    dps = start
    while dps <= limit:
        with mp.workdps(dps):
            v = fn(mpf(x), mp_params(P))
        if v == 0 and x == 0:
            return v
        if prev is not None and v != 0:
            with mp.workdps(dps):
                if v == prev or abs(v - prev) <= AGREE * abs(v):
                    return v
        prev = v
        dps *= 2
    raise RuntimeError("no convergence at x=%r" % (x,))


def fmt_exact(v):
    """A Fraction, INF/-INF or mpf as the TSV's decimal string."""
    if isinstance(v, float):
        assert math.isinf(v)
        return "inf" if v > 0 else "-inf"
    if isinstance(v, Fraction):
        if v == 0:
            return "0"
        with mp.workdps(DIGITS + 40):
            v = mpf(v.numerator) / v.denominator
    if mpmath.isinf(v):
        return "inf" if v > 0 else "-inf"
    if mpmath.isnan(v):
        return "nan"
    if v == 0:
        return "0"
    return to_str(v._mpf_, DIGITS)


def exact_value(op, P, x):
    """The exact value (Fraction, mpf, float inf, or None for NaN)."""
    kind, fn, lim_lo, lim_hi = OPS[op]
    if math.isnan(x):
        return None
    if math.isinf(x):
        return lim_hi(P) if x > 0 else lim_lo(P)
    if kind == "rat":
        return fn(Fraction(x), P)
    return eval_mp(fn, x, P)


def check_limits(op, P):
    """The +-inf table against the op at +-1e60 (a self-check)."""
    for sign, lim in ((-1, OPS[op][2](P)), (1, OPS[op][3](P))):
        x = sign * 1e60
        v = exact_value(op, P, x)
        v = mpf(v.numerator) / v.denominator if isinstance(v, Fraction) \
            else mpf(v)
        if lim in (INF, -INF):
            ok = abs(v) > mpf(10) ** 50 and (v > 0) == (lim > 0)
        else:
            L = mpf(lim.numerator) / lim.denominator
            ok = abs(v - L) <= mpf(10) ** -20 * (1 + abs(L))
        if not ok:
            raise AssertionError("%s %s: limit at %sinf is %r but f(%g) = %s"
                                 % (op, P, "+" if sign > 0 else "-", lim, x,
                                    mpmath.nstr(v, 20)))


def cross_check():
    """The gelu tails are evaluated through erfc / 2/(1+e^-2u); where the
    naive 1 + erf / 1 + tanh form is still affordable, both must agree."""
    for k in range(-400, 0):
        x = k / 20.0  # -20 .. -0.05
        pairs = [(m_gelu_erf_naive, m_gelu_erf_tail, "erf")]
        if x >= -12:  # 1 + tanh(u) ~ 1e-62 there
            pairs.append((m_gelu_tanh_naive, m_gelu_tanh_tail, "tanh"))
        for f, g, what in pairs:
            u = eval_mp(lambda t, P: f(t), x, {})
            w = eval_mp(lambda t, P: g(t), x, {})
            if abs(u - w) > mpf(10) ** -35 * abs(u):
                raise AssertionError("gelu %s forms disagree at %g: %s %s"
                                     % (what, x, u, w))


# ---------------------------------------------------------------------------
# Inputs


def special_inputs():
    base = [0.0, DENORM_MIN, DENORM_MAX, FLT_MIN, 1e-30, 1e-8, 1e-4, 0.5, 1.0,
            3.0, 10.0, 20.0, 88.7, 100.0, 1e4, 1e30, FLT_MAX, INF]
    out = []
    for v in base:
        out += [v, -v]
    out.append(float("nan"))
    # Edges of the piecewise definitions and of the algorithms one may use:
    # kinks (0.5, 1, 3, 6), softplus's threshold (10 for beta 2), the
    # switch of a series (0.25), exp's overflow/underflow boundaries
    # (log FLT_MAX, log FLT_MIN, log of the smallest denormal), far tails.
    edges = [0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 10.0, 88.72283935546875,
             87.33654785156250, 103.97207641601562, 14.0, 40.0]
    for v in edges:
        for w in (v, -v):
            out += [next_down(w), next_up(w)]
    out += [1.5, -1.5, 5.0, -5.0, 6.0, -6.0, 12.0, -12.0, 15.0, -15.0,
            30.0, -30.0, 60.0, -60.0, 0.1, -0.1, 2.0, -2.0]
    return [bits_f32(f32_bits(v)) if not math.isnan(v) else v for v in out]


def random_inputs(rng, n_log=200, n_lin=100):
    out = []
    for _ in range(n_log):
        m = 10.0 ** rng.uniform(-8.0, 4.0)
        out.append(bits_f32(f32_bits(m if rng.random() < 0.5 else -m)))
    for _ in range(n_lin):
        out.append(bits_f32(f32_bits(rng.uniform(-12.0, 12.0))))
    return out


def input_bits(x):
    if math.isnan(x):
        return 0x7FC00000
    return f32_bits(x)


# ---------------------------------------------------------------------------


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: oracle.py OUT.tsv\n")
        return 2
    t0 = time.time()
    mp.dps = 50
    cross_check()
    rows = []
    specials = special_inputs()
    for op, pstr in GROUPS:
        P = params_of(op, pstr)
        check_limits(op, P)
        rng = random.Random(0x5EED ^ zlib.crc32(("%s|%s" % (op, pstr))
                                                 .encode()))
        for x in specials + random_inputs(rng):
            v = exact_value(op, P, x)
            s = "nan" if v is None else fmt_exact(v)
            rows.append("%s\t%s\t%08x\t%s\n" % (op, pstr, input_bits(x), s))
    covered = {op for op, _ in GROUPS}
    missing = set(OPS) - covered
    if missing:
        raise AssertionError("ops without a group: %s" % sorted(missing))
    tmp = argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write("# actkit element-wise oracle (tests/oracle.py), mpmath %s\n"
                % mpmath.__version__)
        f.write("# op\tparams\tinput_f32_bits\texact\n")
        f.writelines(rows)
    import os
    os.replace(tmp, argv[1])
    sys.stderr.write("oracle.py: %d rows, %d groups, %.1f s\n"
                     % (len(rows), len(GROUPS), time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
