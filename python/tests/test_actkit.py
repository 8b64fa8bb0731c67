"""Tests of the Python package: every result against a double-precision
formula written here with numpy and math (never against actkit itself),
on cpu and on the first OpenCL and Vulkan devices present, within the
bounds of docs/accuracy.md; against jax.nn where jax is installed.

A backend listed in $ACTKIT_REQUIRE_BACKENDS (comma-separated) that has no
device fails test_required_backends instead of being skipped."""
import math
import os

import numpy as np
import pytest

import actkit

try:
    import ml_dtypes
    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    BF16 = None


def _first(backend):
    for d in actkit.devices():
        if d["backend"] == backend:
            return d["name"]
    return None


DEVICES = ["cpu"] + [d for d in (_first("opencl"), _first("vulkan")) if d]


def test_required_backends():
    have = {d["backend"] for d in actkit.devices()}
    assert "cpu" in have
    for b in filter(None, os.environ.get("ACTKIT_REQUIRE_BACKENDS",
                                         "").split(",")):
        assert b in have, "backend %s is required but has no device" % b


# ---- exact formulas and ulps (independent of actkit) ----------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def sig(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                    np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


EXACT = {
    "relu": (dict(), lambda x: np.maximum(x, 0)),
    "leaky_relu": (dict(negative_slope=0.2),
                   lambda x: np.where(x >= 0, x, 0.2 * x)),
    "elu": (dict(alpha=1.5),
            lambda x: np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0)))),
    "gelu": (dict(approximate=False),
             lambda x: 0.5 * x * _erfc(-x / math.sqrt(2))),
    "gelu_tanh": (dict(approximate=True),
                  # x (1 + tanh z) / 2 = x sigmoid(2z), without the
                  # cancellation of 1 + tanh z for z << 0
                  lambda x: x * sig(2 * math.sqrt(2 / math.pi) *
                                    (x + 0.044715 * x ** 3))),
    "silu": (dict(), lambda x: x * sig(x)),
    "sigmoid": (dict(), sig),
    "log_sigmoid": (dict(), lambda x: -softplus(-x)),
    "tanh": (dict(), np.tanh),
    "softplus": (dict(), softplus),
    "mish": (dict(), lambda x: x * np.tanh(softplus(x))),
    "softsign": (dict(), lambda x: x / (np.abs(x) + 1)),
    "hard_sigmoid": (dict(preset="keras2"),
                     lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    "squareplus": (dict(b=4.0), lambda x: (x + np.sqrt(x * x + 4)) / 2),
}


def ulps(y, r, dt):
    """|y - r| in ulps of dtype dt at r (the spacing at the smallest
    normal below it); NaN/inf must match exactly."""
    y = np.asarray(y, np.float64)
    r = np.asarray(r, np.float64)
    mant, tiny = {np.dtype(np.float32): (23, 2.0 ** -126),
                  np.dtype(np.float16): (10, 2.0 ** -14)}.get(
                      np.dtype(dt), (7, 2.0 ** -126))
    with np.errstate(all="ignore"):
        _, e = np.frexp(np.maximum(np.abs(r), tiny))
        err = np.abs(y - r) / np.ldexp(1.0, e - 1 - mant)
    same = (y == r) | (np.isnan(y) & np.isnan(r))
    bad = ~same & ~(np.isfinite(y) & np.isfinite(r))
    return np.where(same, 0.0, np.where(bad, np.inf, err))


def rounded(r, dt):
    """The double r rounded once to dt."""
    return np.asarray(r, np.float64).astype(dt)


def inputs():
    grid = np.linspace(-20, 20, 2001)
    special = [0.0, -0.0, 1e-30, -1e-30, 1e-6, -1e-6, 88.7, -88.7, 100.0,
               -100.0, 1e4, -1e4]
    return np.concatenate([grid, special]).astype(np.float32)


# ---- element-wise ops ---------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(EXACT))
def test_eltwise_f32(device, name):
    kw, f = EXACT[name]
    op = "gelu" if name == "gelu_tanh" else name
    x = inputs()
    y = getattr(actkit, op)(x, device=device, **kw)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    assert y.shape == x.shape
    r = rounded(f(x.astype(np.float64)), np.float32)
    err = ulps(y, r, np.float32)
    assert err.max() <= 2, "%s on %s: %.1f ulp at x = %r" % (
        name, device, err.max(), x[np.argmax(err)])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_gelu_16bit(device, dt):
    if dt == "bfloat16" and BF16 is None:
        pytest.skip("ml_dtypes is not installed")
    dtype = BF16 if dt == "bfloat16" else np.dtype(np.float16)
    x = np.linspace(-8, 8, 513).astype(dtype)
    y = actkit.gelu(x, device=device)
    assert y.dtype == dtype
    r = rounded(0.5 * x.astype(np.float64) *
                _erfc(-x.astype(np.float64) / math.sqrt(2)), dtype)
    assert ulps(y, r, dtype).max() <= 1


def test_nan_and_limits():
    x = np.array([np.nan, np.inf, -np.inf], np.float32)
    s = actkit.sigmoid(x, device="cpu")
    assert np.isnan(s[0]) and s[1] == 1 and s[2] == 0
    assert actkit.softplus(np.float32([100]), device="cpu")[0] == 100


def test_aliases_and_presets():
    x = np.float32([-3, 0, 3])
    np.testing.assert_array_equal(actkit.swish(x, device="cpu"),
                                  actkit.silu(x, device="cpu"))
    np.testing.assert_array_equal(actkit.gelu_approx(x, device="cpu"),
                                  actkit.gelu(x, approximate=True,
                                              device="cpu"))
    # jax's gelu is the tanh form; an explicit argument beats the preset
    np.testing.assert_array_equal(actkit.gelu(x, preset="jax", device="cpu"),
                                  actkit.gelu_approx(x, device="cpu"))
    np.testing.assert_array_equal(
        actkit.gelu(x, approximate=False, preset="jax", device="cpu"),
        actkit.gelu(x, device="cpu"))
    assert actkit.hard_shrink(np.float32([1.0]), lambd=1.5,
                              device="cpu")[0] == 0
    assert "gelu" in actkit.ops and "swish" in actkit.ops


# ---- ops along an axis --------------------------------------------------------------

def _rows(seed=3, shape=(6, 50)):
    return (np.random.default_rng(seed).standard_normal(shape) *
            5).astype(np.float32)


@pytest.mark.parametrize("device", DEVICES)
def test_softmax_family(device):
    x = _rows()
    xd = x.astype(np.float64)
    e = np.exp(xd - xd.max(-1, keepdims=True))
    sm = e / e.sum(-1, keepdims=True)
    assert ulps(actkit.softmax(x, device=device), rounded(sm, np.float32),
                np.float32).max() <= 4
    lsm = xd - xd.max(-1, keepdims=True) - np.log(e.sum(-1, keepdims=True))
    assert ulps(actkit.log_softmax(x, axis=-1, device=device),
                rounded(lsm, np.float32), np.float32).max() <= 4
    # axis 0, and a mask
    e0 = np.exp(xd - xd.max(0, keepdims=True))
    assert ulps(actkit.softmax(x, axis=0, device=device),
                rounded(e0 / e0.sum(0, keepdims=True), np.float32),
                np.float32).max() <= 4
    where = (np.arange(50) % 3 != 0)[None, :].repeat(6, 0)
    em = np.where(where, np.exp(xd - np.where(where, xd, -np.inf).max(
        -1, keepdims=True)), 0)
    ym = actkit.softmax(x, where=where, device=device)
    assert ulps(ym, rounded(em / em.sum(-1, keepdims=True), np.float32),
                np.float32).max() <= 4
    assert np.all(ym[~where] == 0)


@pytest.mark.parametrize("device", DEVICES)
def test_logsumexp_glu_standardize_one_hot(device):
    x = _rows(5)
    xd = x.astype(np.float64)
    m = xd.max(-1)
    lse = m + np.log(np.exp(xd - m[:, None]).sum(-1))
    y = actkit.logsumexp(x, device=device)
    assert y.shape == (6,)
    assert ulps(y, rounded(lse, np.float32), np.float32).max() <= 4
    assert actkit.logsumexp(x, axis=None, device=device).shape == ()
    assert actkit.logsumexp(x, keepdims=True, device=device).shape == (6, 1)
    g = actkit.glu(x, device=device)
    gr = xd[:, :25] * sig(xd[:, 25:])
    assert g.shape == (6, 25)
    assert ulps(g, rounded(gr, np.float32), np.float32).max() <= 2
    mu = xd.mean(-1, keepdims=True)
    var = ((xd - mu) ** 2).mean(-1, keepdims=True)
    st = actkit.standardize(x, device=device)
    assert ulps(st, rounded((xd - mu) / np.sqrt(var + 1e-5), np.float32),
                np.float32).max() <= 4
    oh = actkit.one_hot(np.array([0, 2, 7, -1]), 4, device=device)
    np.testing.assert_array_equal(oh, np.eye(4, dtype=np.float32)[[0, 2]]
                                  .tolist() + [[0] * 4, [0] * 4])


# ---- gradients ------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_vjp(device):
    x = inputs()
    xd = x.astype(np.float64)
    dy = np.full_like(x, 1.0)
    ds = actkit.vjp("sigmoid", x, dy, device=device)
    assert ulps(ds, rounded(sig(xd) * sig(-xd), np.float32),
                np.float32).max() <= 2
    dg = actkit.vjp(actkit.gelu, x, dy, device=device)
    dgr = 0.5 * _erfc(-xd / math.sqrt(2)) + xd * np.exp(-xd * xd / 2) / \
        math.sqrt(2 * math.pi)
    assert ulps(dg, rounded(dgr, np.float32), np.float32).max() <= 2
    r = _rows(9)
    rd = r.astype(np.float64)
    g = np.random.default_rng(1).standard_normal(r.shape).astype(np.float32)
    e = np.exp(rd - rd.max(-1, keepdims=True))
    sm = e / e.sum(-1, keepdims=True)
    want = sm * (g - (g * sm).sum(-1, keepdims=True))
    got = actkit.vjp("softmax", r, g, device=device)
    # the contract's 4 ulp, or 2^-22 of the row's largest term where the
    # sum cancels (the result is then far below its terms)
    tol = np.maximum(4 * np.spacing(np.abs(want).astype(np.float32)),
                     2.0 ** -22 * np.abs(g * sm).max(-1, keepdims=True))
    assert np.all(np.abs(got - want) <= tol)


def test_prelu_dalpha():
    x = np.float32([[-1, 2, -3], [4, -5, 6]])
    alpha = np.float32([0.1, 0.2])
    dy = np.ones_like(x)
    dx, da = actkit.vjp("prelu", x, dy, alpha=alpha, axis=0, device="cpu")
    np.testing.assert_allclose(dx, [[0.1, 1, 0.1], [1, 0.2, 1]], rtol=1e-7)
    np.testing.assert_allclose(da, [-4, -5], rtol=1e-7)


# ---- device arrays and DLPack -------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_device_arrays(device):
    x = _rows(11)
    d = actkit.device_put(x, device)
    assert isinstance(d, actkit.DeviceArray) and d.device == device
    y = actkit.softmax(actkit.gelu(d))
    assert isinstance(y, actkit.DeviceArray) and y.shape == x.shape
    host = actkit.softmax(actkit.gelu(x, device=device), device=device)
    np.testing.assert_array_equal(y.numpy(), host)
    np.testing.assert_array_equal(np.asarray(y), host)
    np.testing.assert_array_equal(np.from_dlpack(y), host)
    dx = actkit.vjp("gelu", d, actkit.device_put(np.ones_like(x), device))
    assert isinstance(dx, actkit.DeviceArray)
    np.testing.assert_array_equal(
        dx.numpy(), actkit.vjp("gelu", x, np.ones_like(x), device=device))


def test_dlpack_input():
    class HostOnly(object):
        """Exposes only DLPack, as a torch or jax CPU array would."""

        def __init__(self, a):
            self.a = a

        def __dlpack__(self, **kw):
            return self.a.__dlpack__(**kw)

        def __dlpack_device__(self):
            return self.a.__dlpack_device__()

    x = np.float32([-1, 0, 2])
    np.testing.assert_array_equal(actkit.relu(HostOnly(x), device="cpu"),
                                  [0, 0, 2])
    np.testing.assert_array_equal(actkit.from_dlpack(HostOnly(x)), x)


# ---- dense, custom ops, verify ---------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_dense(device):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((17, 33)).astype(np.float32)
    w = rng.standard_normal((33, 9)).astype(np.float32)
    b = rng.standard_normal(9).astype(np.float32)
    y, z = actkit.dense(x, w, b, "relu", return_preactivation=True,
                        device=device)
    zr = x.astype(np.float64) @ w.astype(np.float64) + b
    s = np.abs(x.astype(np.float64)) @ np.abs(w.astype(np.float64)) + \
        np.abs(b)
    bound = 34 * 2.0 ** -24 / (1 - 34 * 2.0 ** -24) * s + \
        3 * np.spacing(np.abs(zr).astype(np.float32))
    assert np.all(np.abs(z - zr) <= bound)
    assert np.all(np.abs(y - np.maximum(zr, 0)) <= bound)


_CUSTOM = None


def _softclip():
    global _CUSTOM
    if _CUSTOM is None:
        (_CUSTOM,) = actkit.register_custom(
            "float py_softclip(float x, float k) {\n"
            "  return x / (1.0f + fabs(k * x));\n}\n", "softclip.cl")
    return _CUSTOM


@pytest.mark.parametrize("device", DEVICES)
def test_custom_op_forward_and_derived_gradient(device):
    f = _softclip()
    assert f.__name__ == "py_softclip" and "py_softclip" in actkit.ops
    x = np.linspace(-10, 10, 401).astype(np.float32)
    xd = x.astype(np.float64)
    y = f(x, k=2.0, device=device)
    dx = actkit.vjp(f, x, np.ones_like(x), k=2.0, device=device)
    for got, want in ((y, xd / (1 + np.abs(2 * xd))),
                      (dx, 1 / (1 + np.abs(2 * xd)) ** 2)):
        err = ulps(got, rounded(want, np.float32), np.float32)
        near0 = np.abs(got - want) <= 2.0 ** -22
        assert np.all((err <= 16) | near0)


def test_custom_errors():
    with pytest.raises(actkit.ActkitError) as e:
        actkit.register_custom("float bad_one(float x) {\n  return x +;\n}\n",
                               "bad.cl")
    assert e.value.status == "ACT_BUILD" and "bad.cl:2:" in str(e.value)


@pytest.mark.parametrize("device", DEVICES)
def test_verify(device):
    rows = actkit.verify(["relu", "gelu", "sigmoid", "softmax"],
                         device=device)
    assert rows and all(r["ok"] for r in rows), rows


# ---- errors --------------------------------------------------------------------------------

def test_errors():
    x = np.float32([1, 2, 3])
    with pytest.raises(actkit.ActkitError) as e:
        actkit.celu(x, alpha=0, device="cpu")
    assert e.value.status == "ACT_BAD_PARAM" and "alpha" in str(e.value)
    with pytest.raises(actkit.ActkitError) as e:
        actkit.apply("no_such_op", x, device="cpu")
    assert e.value.status == "ACT_UNKNOWN_OP"
    with pytest.raises(actkit.ActkitError) as e:
        actkit.glu(x, device="cpu")
    assert e.value.status == "ACT_BAD_SHAPE"
    with pytest.raises(actkit.ActkitError) as e:
        actkit.relu(x, device="opencl:99")
    assert e.value.status == "ACT_NO_DEVICE"
    with pytest.raises(TypeError):
        actkit.relu(x, no_such_param=1)
    with pytest.raises(TypeError):
        actkit.vjp(42, x, x)


# ---- against jax.nn, where installed ---------------------------------------------------------

def test_against_jax():
    jax = pytest.importorskip("jax")
    jnn = jax.nn
    x = inputs()[:2001]  # the grid: jax's own f32 results carry roundings
    pairs = [(actkit.gelu(x, approximate=False, device="cpu"),
              jnn.gelu(x, approximate=False)),
             (actkit.gelu(x, preset="jax", device="cpu"), jnn.gelu(x)),
             (actkit.silu(x, device="cpu"), jnn.silu(x)),
             (actkit.softplus(x, device="cpu"), jnn.softplus(x)),
             (actkit.log_sigmoid(x, device="cpu"), jnn.log_sigmoid(x)),
             (actkit.softmax(x.reshape(1, -1), device="cpu"),
              jnn.softmax(x.reshape(1, -1))),
             (actkit.hard_sigmoid(x, preset="jax", device="cpu"),
              jnn.hard_sigmoid(x))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5,
                                   atol=1e-6)
