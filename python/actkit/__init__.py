"""actkit: neural-network activation kernels on every OpenCL and Vulkan
device, checked against a double-precision CPU reference.

    import numpy as np, actkit
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    actkit.gelu(x, approximate=False, device="opencl:0")
    actkit.softmax(x.reshape(1, 7), axis=-1)
    actkit.vjp("gelu", x, np.ones_like(x))        # dx for dy = 1
    actkit.devices()

Every op of the catalogue is a function named after it (and its aliases),
with its parameters as arguments (docs/ops.md; docs/python.md for this
module). Arrays are numpy arrays of float32, float16 or bfloat16
(ml_dtypes) of any shape; other numbers are converted to float32. Errors
raise ActkitError carrying actkit's message. A DeviceArray (device_put)
keeps data on a device between calls.
"""
import inspect
import math
import threading

import numpy as np

from . import _lib
from ._lib import lib, byref, c_void_p, c_int, c_size_t, c_double

try:  # bfloat16 arrays, where ml_dtypes is installed
    import ml_dtypes as _ml_dtypes
    bfloat16 = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    bfloat16 = None

__version__ = lib.act_version().decode()

__all__ = ["ActkitError", "UnsupportedError", "DeviceArray", "devices",
           "device_put", "vjp", "dense", "register_custom", "verify",
           "ops", "from_dlpack", "bfloat16", "apply"]


class ActkitError(RuntimeError):
    """A call actkit refused or could not do. `status` is the C status name
    ("ACT_BAD_PARAM"), the message actkit's own (which op, which parameter,
    which value)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class UnsupportedError(ActkitError):
    """ACT_UNSUPPORTED: the device (or the op) cannot do this."""


def _check(st):
    if st:
        name = lib.act_status_name(st).decode()
        msg = lib.act_last_error().decode() or name
        cls = UnsupportedError if name == "ACT_UNSUPPORTED" else ActkitError
        raise cls(name, "%s (%s)" % (msg, name))


# ---- dtypes -------------------------------------------------------------

_F32, _F16 = np.dtype(np.float32), np.dtype(np.float16)


def _code(dt):
    dt = np.dtype(dt)
    if dt == _F32:
        return _lib.F32
    if dt == _F16:
        return _lib.F16
    if bfloat16 is not None and dt == bfloat16:
        return _lib.BF16
    if dt == np.dtype(np.int32):
        return _lib.I32
    if dt == np.dtype(np.uint8):
        return _lib.U8
    raise TypeError("actkit: dtype %s is not supported (float32, float16, "
                    "bfloat16 via ml_dtypes; int32 for one_hot)" % dt)


def _float_dtype(name):
    """A dtype argument: a numpy dtype or "float32"/"float16"/"bfloat16"."""
    if isinstance(name, str) and name in ("bfloat16", "bf16"):
        if bfloat16 is None:
            raise TypeError("actkit: bfloat16 needs ml_dtypes (pip install "
                            "ml_dtypes)")
        return bfloat16
    return np.dtype({"f32": "float32", "f16": "float16"}.get(name, name))


# ---- devices and contexts -----------------------------------------------

def _info_dict(info):
    return {"name": info.name.decode(),
            "description": info.description.decode(),
            "driver_version": info.driver_version.decode(),
            "backend": _lib.BACKENDS[info.backend],
            "type": _lib.DEVICE_TYPES[info.type],
            "fp16": bool(info.fp16), "bf16": bool(info.bf16),
            "memory_bytes": int(info.memory_bytes)}


def devices():
    """Every device actkit found, as dicts (name, description,
    driver_version, backend, type, fp16, bf16, memory_bytes), in the order
    of `actc devices`. The name ("cpu", "opencl:0", "vulkan:0") is what
    every function's `device=` takes; "auto" picks the best."""
    out = []
    for i in range(lib.act_device_count()):
        info = _lib.DeviceInfo()
        _check(lib.act_device_get_info_ex(i, byref(info),
                                          _lib.DEVICE_INFO_SIZE))
        out.append(_info_dict(info))
    return out


class _Context(object):
    """An actkit context and its queue (one thread at a time: the lock)."""

    def __init__(self, name):
        self.ptr = c_void_p()
        _check(lib.act_context_create(name.encode(), byref(self.ptr)))
        self.queue = c_void_p()
        _check(lib.act_queue_create(self.ptr, byref(self.queue)))
        self.name = name
        self.lock = threading.Lock()


_contexts = {}
_contexts_lock = threading.Lock()


def _context(device):
    """The context of a device string, made once per process (contexts
    hold the compiled kernels; they live as long as the process)."""
    if isinstance(device, _Context):
        return device
    if isinstance(device, dict):
        device = device["name"]
    name = (device or "auto")
    if not isinstance(name, str):
        raise TypeError("actkit: device must be a string such as 'cpu', "
                        "'opencl:0', 'vulkan:0' or 'auto'")
    index = c_size_t()
    _check(lib.act_device_find(name.encode(), byref(index)))
    info = _lib.DeviceInfo()
    _check(lib.act_device_get_info_ex(index.value, byref(info),
                                      _lib.DEVICE_INFO_SIZE))
    key = info.name.decode()
    with _contexts_lock:
        ctx = _contexts.get(key)
        if ctx is None:
            ctx = _contexts[key] = _Context(key)
    return ctx


# ---- arrays ---------------------------------------------------------------

class DeviceArray(object):
    """An array in device memory: the result of device_put, and of any op
    whose input was a DeviceArray (so that a chain of ops stays on the
    device). numpy(), np.asarray() and DLPack export copy it to the host."""

    def __init__(self, ctx, shape, dtype):
        self._ctx = ctx
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self._code = _code(self.dtype)
        self.nbytes = int(np.prod(self.shape, dtype=np.int64)) * \
            self.dtype.itemsize
        self._buf = c_void_p()
        _check(lib.act_buffer_create(ctx.ptr, max(self.nbytes, 1),
                                     byref(self._buf)))

    @property
    def device(self):
        return self._ctx.name

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def _write(self, a):
        a = np.ascontiguousarray(a, dtype=self.dtype)
        with self._ctx.lock:
            _check(lib.act_buffer_write(self._ctx.queue, self._buf, 0,
                                        self.nbytes, a.ctypes.data, None))
            _check(lib.act_queue_finish(self._ctx.queue))

    def numpy(self):
        """A host copy (numpy array)."""
        out = np.empty(self.shape, self.dtype)
        if self.nbytes:
            with self._ctx.lock:
                _check(lib.act_buffer_read(self._ctx.queue, self._buf, 0,
                                           self.nbytes, out.ctypes.data,
                                           None))
                _check(lib.act_queue_finish(self._ctx.queue))
        return out

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __dlpack__(self, stream=None, **kwargs):
        """DLPack export of a host copy (the device memory itself is not
        exported)."""
        return self.numpy().__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU: what __dlpack__ hands over

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        return "DeviceArray(%r, dtype=%s, device=%r)" % (
            self.numpy(), self.dtype, self.device)

    def __del__(self):
        buf = getattr(self, "_buf", None)
        if buf and buf.value and lib is not None:
            lib.act_buffer_destroy(buf)
            self._buf = None


def device_put(x, device=None):
    """Copies x (anything numpy can read, or a DLPack host array) to a
    device and returns a DeviceArray."""
    if isinstance(x, DeviceArray):
        if device is None or _context(device) is x._ctx:
            return x
        x = x.numpy()
    a = _host(x)
    d = DeviceArray(_context(device), a.shape, a.dtype)
    if d.nbytes:
        d._write(a)
    return d


def from_dlpack(x):
    """A numpy array from any host array that implements DLPack (a torch CPU
    tensor, a jax CPU array, ...), without a copy where DLPack allows."""
    return np.from_dlpack(x)


def _host(x, dtype=None):
    """x as a contiguous numpy array of a dtype actkit takes."""
    if isinstance(x, DeviceArray):
        x = x.numpy()
    elif hasattr(x, "__dlpack__") and not isinstance(x, np.ndarray):
        try:
            x = np.from_dlpack(x)
        except (TypeError, RuntimeError, BufferError):
            x = np.asarray(x)
    a = np.asarray(x)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    elif a.dtype not in (_F32, _F16) and (bfloat16 is None or
                                           a.dtype != bfloat16):
        a = a.astype(np.float32)
    return np.ascontiguousarray(a)


def _tensor(a, code=None):
    """An act_tensor_t over a numpy array or a DeviceArray."""
    t = _lib.Tensor()
    shape = a.shape
    if len(shape) > _lib.MAX_DIMS:
        raise ActkitError("ACT_BAD_SHAPE", "actkit: %d dimensions; at most %d"
                          % (len(shape), _lib.MAX_DIMS))
    t.dtype = _code(a.dtype) if code is None else code
    t.ndim = len(shape)
    for i, d in enumerate(shape):
        t.dims[i] = d
    if isinstance(a, DeviceArray):
        t.buffer = a._buf.value
        t.offset = 0
    else:
        t.data = a.ctypes.data
    return t


# ---- op descriptors ----------------------------------------------------------

class _Desc(object):
    def __init__(self, name, params=None, axis=None, preset=None):
        self.ptr = c_void_p()
        _check(lib.act_op_desc_create_by_name(name.encode(),
                                              byref(self.ptr)))
        try:
            if preset is not None:
                p = c_int()
                _check(lib.act_preset_parse(str(preset).encode(), byref(p)))
                _check(lib.act_op_desc_set_preset(self.ptr, p.value))
            for k, v in (params or {}).items():
                _check(lib.act_op_desc_set_param(self.ptr, k.encode(),
                                                 float(v)))
            if axis is not None:
                _check(lib.act_op_desc_set_axis(self.ptr, int(axis)))
        except BaseException:
            self.close()
            raise

    @property
    def axis(self):
        return lib.act_op_desc_get_axis(self.ptr)

    def param(self, name):
        v = c_double()
        _check(lib.act_op_desc_get_param(self.ptr, name.encode(), byref(v)))
        return v.value

    def close(self):
        if self.ptr:
            lib.act_op_desc_destroy(self.ptr)
            self.ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _info(name):
    op = c_int()
    _check(lib.act_op_lookup(name.encode(), byref(op)))
    return lib.act_op_info(op.value).contents


# ---- running -------------------------------------------------------------------

def _on_device(x, *others):
    for a in (x,) + others:
        if isinstance(a, DeviceArray):
            return a._ctx
    return None


def _execute(backward, desc, ctx, ins, outs):
    """Runs desc over inputs ins [(kind, array)] into outputs
    outs [(kind, shape, dtype)] on ctx; returns the output arrays. With a
    DeviceArray among the inputs everything runs on its device (host inputs
    are uploaded) and the outputs are DeviceArrays."""
    dev = _on_device(*[a for _, a in ins])
    if dev is not None:
        if ctx is not None and ctx is not dev:
            raise ActkitError("ACT_INVALID_ARGUMENT", "actkit: the inputs "
                              "live on %s but device=%s was asked for"
                              % (dev.name, ctx.name))
        ctx = dev
        ins = [(k, a if isinstance(a, DeviceArray) and a._ctx is ctx
                else device_put(a, ctx)) for k, a in ins]
        res = [DeviceArray(ctx, s, d) for _, s, d in outs]
    else:
        res = [np.empty(s, d) for _, s, d in outs]
    args = (_lib.Arg * (len(ins) + len(outs)))()
    for i, (k, a) in enumerate(ins):
        args[i].kind = k
        args[i].tensor = _tensor(a)
    for j, ((k, _, _), a) in enumerate(zip(outs, res)):
        args[len(ins) + j].kind = k
        args[len(ins) + j].tensor = _tensor(a)
    n = len(ins) + len(outs)
    if dev is not None:
        fn = lib.act_backward_ex if backward else lib.act_forward_ex
        with ctx.lock:
            _check(fn(ctx.queue, desc.ptr, n, args, _lib.ARG_SIZE, None))
            _check(lib.act_queue_finish(ctx.queue))
    else:
        fn = lib.act_backward_host_ex if backward else \
            lib.act_forward_host_ex
        _check(fn(ctx.ptr, desc.ptr, n, args, _lib.ARG_SIZE))
    return res


def _norm_axis(axis, ndim):
    return axis + ndim if axis < 0 else axis


def _out_shape(name, shape, desc):
    """The forward output's shape (docs/ops.md, "Ops along an axis")."""
    if name == "glu":
        ax = _norm_axis(desc.axis, len(shape))
        if 0 <= ax < len(shape):
            return shape[:ax] + (shape[ax] // 2,) + shape[ax + 1:]
        return shape
    if name == "logsumexp":
        keep = desc.param("keepdims") != 0
        if desc.axis == _lib.AXIS_ALL:
            return tuple(1 for _ in shape) if keep else ()
        ax = _norm_axis(desc.axis, len(shape))
        if not 0 <= ax < len(shape):
            return shape
        return (shape[:ax] + ((1,) if keep else ()) + shape[ax + 1:])
    if name == "one_hot":
        nc = int(desc.param("num_classes"))
        ax = _norm_axis(desc.axis, len(shape) + 1)
        ax = min(max(ax, 0), len(shape))
        return shape[:ax] + (nc,) + shape[ax:]
    return shape


_OPERANDS = {"where": _lib.ARG_WHERE, "b": _lib.ARG_B,
             "mean": _lib.ARG_MEAN, "variance": _lib.ARG_VARIANCE}
# The extra operands each op takes (arrays, not parameters).
_EXTRA = {"softmax": ["where"], "log_softmax": ["where"],
          "softmin": ["where"], "logsumexp": ["b"],
          "standardize": ["mean", "variance"]}


def _split(name, given):
    """Splits the arguments a user gave into the op's parameters, its axis,
    its extra operands, and the call's options."""
    given = dict(given)
    opts = {k: given.pop(k, None) for k in ("device", "preset")}
    canon = _info(name).name.decode()
    axis = given.pop("axis", None)
    operands = {}
    for k in list(given):
        if k in _EXTRA.get(canon, ()):
            v = given.pop(k)
            if v is not None:
                operands[k] = v
    out_dtype = given.pop("dtype", None)
    if canon == "prelu" and "alpha" in given and \
            np.ndim(given["alpha"]) > 0:
        operands["alpha"] = given.pop("alpha")
    params = {}
    for k, v in given.items():
        if v is None:
            continue
        params[_C_NAMES.get(k, k)] = float(v)
    return canon, params, axis, operands, out_dtype, opts


def apply(name, x, **kwargs):
    """Runs op `name` (a built-in op, an alias or a custom op) forward on x
    with keyword parameters, as the named functions do."""
    return _forward(name, x, kwargs)


def _forward(name, x, given):
    canon, params, axis, operands, out_dtype, opts = _split(name, given)
    if canon == "logsumexp" and "axis" in given and given["axis"] is None:
        axis = _lib.AXIS_ALL
    ctx = _context(opts["device"]) if opts["device"] is not None or \
        _on_device(x, *operands.values()) is None else None
    xin = x if isinstance(x, DeviceArray) else \
        _host(x, np.int32 if canon == "one_hot" else None)
    with _Desc(name, params, axis, opts["preset"]) as desc:
        ins = [(_lib.ARG_X, xin)]
        for k, v in operands.items():
            kind = _lib.ARG_ALPHA if k == "alpha" else _OPERANDS[k]
            dt = np.uint8 if k == "where" else xin.dtype
            ins.append((kind, v if isinstance(v, DeviceArray) else
                        _host(v, dt)))
        shape = _out_shape(canon, tuple(xin.shape), desc)
        if canon == "one_hot":
            ydt = _float_dtype(out_dtype) if out_dtype is not None else _F32
        else:
            ydt = xin.dtype
        outs = [(_lib.ARG_Y, shape, ydt)]
        sign = canon == "logsumexp" and desc.param("return_sign") != 0
        if sign:
            outs.append((_lib.ARG_SIGN, shape, ydt))
        res = _execute(False, desc, ctx, ins, outs)
    if sign:
        return res[0], res[1]
    return res[0]


def vjp(op, x, dy, y=None, **kwargs):
    """The gradient of op at x for the incoming gradient dy: dx, the
    vector-Jacobian product (docs/ops.md, "Gradients"), with the op's
    parameters as keywords. prelu with an alpha array returns
    (dx, dalpha). Runs on `device=` (or where x lives). The softmax family
    and logsumexp work from the forward output: give it as y if you have
    it, else vjp computes it first on the same device."""
    name = op if isinstance(op, str) else getattr(op, "_actkit_name", None)
    if name is None:
        raise TypeError("actkit.vjp: op must be an op name or an actkit op "
                        "function")
    canon, params, axis, operands, _, opts = _split(name, kwargs)
    if canon == "logsumexp" and "axis" in kwargs and kwargs["axis"] is None:
        axis = _lib.AXIS_ALL
    ctx = _context(opts["device"]) if opts["device"] is not None or \
        _on_device(x, dy, *operands.values()) is None else None
    xin = x if isinstance(x, DeviceArray) else _host(x)
    dyin = dy if isinstance(dy, DeviceArray) else _host(dy, xin.dtype)
    with _Desc(name, params, axis, opts["preset"]) as desc:
        extra = []
        for k, v in operands.items():
            kind = _lib.ARG_ALPHA if k == "alpha" else _OPERANDS[k]
            dt = np.uint8 if k == "where" else xin.dtype
            extra.append((kind, v if isinstance(v, DeviceArray) else
                          _host(v, dt)))
        fwd_kw = dict(kwargs)
        if ctx is not None:
            fwd_kw["device"] = ctx.name
        if canon in ("softmax", "log_softmax", "softmin", "logsumexp"):
            if y is None:
                y = _forward(name, x, fwd_kw)
            elif not isinstance(y, DeviceArray):
                y = _host(y, xin.dtype)
        if canon in ("softmax", "log_softmax", "softmin"):
            ins = [(_lib.ARG_Y, y), (_lib.ARG_DY, dyin)] + extra
        elif canon == "logsumexp":
            ins = [(_lib.ARG_X, xin), (_lib.ARG_Y, y),
                   (_lib.ARG_DY, dyin)] + extra
        else:
            ins = [(_lib.ARG_X, xin), (_lib.ARG_DY, dyin)] + extra
        outs = [(_lib.ARG_DX, tuple(xin.shape), xin.dtype)]
        has_alpha = "alpha" in operands
        if has_alpha:
            a = extra[[k for k, _ in extra].index(_lib.ARG_ALPHA)][1]
            outs.append((_lib.ARG_DALPHA, tuple(a.shape), xin.dtype))
        res = _execute(True, desc, ctx, ins, outs)
    return (res[0], res[1]) if has_alpha else res[0]


def dense(x, w, b=None, activation=None, *, activation_params=None,
          transpose_w=False, return_preactivation=False, device=None,
          preset=None):
    """y = activation(x @ w + b) in one call (docs/dense.md): x [M, K], w
    [K, N] ([N, K] with transpose_w), b [N] or None; activation an op name
    (element-wise; parameters in activation_params) or None. With
    return_preactivation, returns (y, x @ w + b)."""
    ctx = _context(device) if device is not None or \
        _on_device(x, w, b) is None else None
    on = _on_device(x, w, b)
    xs = x if isinstance(x, DeviceArray) else _host(x)
    ws = w if isinstance(w, DeviceArray) else _host(w, xs.dtype)
    bs = None if b is None else (b if isinstance(b, DeviceArray)
                                 else _host(b, xs.dtype))
    if len(xs.shape) != 2 or len(ws.shape) != 2:
        raise ActkitError("ACT_BAD_SHAPE", "actkit.dense: x and w must be "
                          "2-D (got %s and %s)" % (xs.shape, ws.shape))
    n = ws.shape[0] if transpose_w else ws.shape[1]
    shape = (xs.shape[0], n)
    desc = _lib.DenseDesc()
    act = _Desc(activation, activation_params, None, preset) \
        if activation is not None else None
    try:
        desc.activation = act.ptr.value if act else None
        desc.transpose_w = 1 if transpose_w else 0
        if on is not None:
            ctx = on
            xs, ws = device_put(xs, ctx), device_put(ws, ctx)
            bs = None if bs is None else device_put(bs, ctx)
            y = DeviceArray(ctx, shape, xs.dtype)
            z = DeviceArray(ctx, shape, xs.dtype) \
                if return_preactivation else None
        else:
            y = np.empty(shape, xs.dtype)
            z = np.empty(shape, xs.dtype) if return_preactivation else None
        tx, tw, ty = _tensor(xs), _tensor(ws), _tensor(y)
        tb = _tensor(bs) if bs is not None else None
        tz = _tensor(z) if z is not None else None
        p = lambda t: byref(t) if t is not None else None
        if on is not None:
            with ctx.lock:
                _check(lib.act_dense_ex(ctx.queue, byref(desc), byref(tx),
                                        byref(tw), p(tb), byref(ty), p(tz),
                                        _lib.TENSOR_SIZE, None))
                _check(lib.act_queue_finish(ctx.queue))
        else:
            _check(lib.act_dense_host_ex(ctx.ptr, byref(desc), byref(tx),
                                         byref(tw), p(tb), byref(ty), p(tz),
                                         _lib.TENSOR_SIZE))
    finally:
        if act:
            act.close()
    return (y, z) if return_preactivation else y


# ---- the op functions ------------------------------------------------------------

_P = inspect.Parameter
# C parameter names that are Python keywords (hard_shrink's lambda is
# `lambd`, as in PyTorch).
_PY_NAMES = {"lambda": "lambd"}
_C_NAMES = {v: k for k, v in _PY_NAMES.items()}


def _signature(info):
    """The Python signature of an op: x, the axis (axis ops, prelu), the
    parameters in the C table's order, the extra operands; then device and
    preset as keywords."""
    name = info.name.decode()
    ps = [_P("x", _P.POSITIONAL_OR_KEYWORD)]
    if name == "one_hot":
        ps.append(_P("num_classes", _P.POSITIONAL_OR_KEYWORD))
    if info.kind == _lib.KIND_AXIS:
        ps.append(_P("axis", _P.POSITIONAL_OR_KEYWORD,
                     default=info.default_axis))
    for i in range(info.nparams):
        pn = info.params[i].name.decode()
        pn = _PY_NAMES.get(pn, pn)
        if pn == "num_classes":
            continue
        dv = info.params[i].default_value
        if pn in ("approximate", "keepdims", "return_sign"):
            dv = bool(dv)
        ps.append(_P(pn, _P.POSITIONAL_OR_KEYWORD,
                     default=_P.empty if math.isnan(dv) else dv))
    if name == "prelu":
        ps.append(_P("axis", _P.POSITIONAL_OR_KEYWORD,
                     default=info.default_axis))
    for e in _EXTRA.get(name, []):
        ps.append(_P(e, _P.POSITIONAL_OR_KEYWORD, default=None))
    if name == "one_hot":
        ps.append(_P("dtype", _P.KEYWORD_ONLY, default="float32"))
    ps.append(_P("device", _P.KEYWORD_ONLY, default=None))
    ps.append(_P("preset", _P.KEYWORD_ONLY, default=None))
    return inspect.Signature(ps)


def _make_op(name, info):
    sig = _signature(info)

    def op(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        given = dict(bound.arguments)  # only what the caller gave
        x = given.pop("x")
        return _forward(name, x, given)

    op.__name__ = op.__qualname__ = name
    op.__signature__ = sig
    op._actkit_name = name
    lines = [info.formula.decode() if info.formula else name, ""]
    for i in range(info.nparams):
        pi = info.params[i]
        pn = pi.name.decode()
        lines.append("%s: %s" % (_PY_NAMES.get(pn, pn),
                                 pi.doc.decode() if pi.doc else ""))
    lines.append("device: 'cpu', 'opencl:N', 'vulkan:N' or 'auto' "
                 "(default: where x lives, else auto)")
    lines.append("preset: 'jax', 'keras2', 'axon', 'kaun' or 'torch' "
                 "defaults (explicit arguments override it)")
    op.__doc__ = "\n".join(lines)
    return op


ops = {}


def _publish(opid):
    info = lib.act_op_info(opid).contents
    name = info.name.decode()
    names = [name] + [a.decode() for a in info.aliases if a]
    made = []
    for n in names:
        f = _make_op(n, info)
        ops[n] = f
        if n.isidentifier() and n not in globals():
            globals()[n] = f
            __all__.append(n)
        made.append(f)
    return made[0]


_opid = 0
while bool(lib.act_op_info(_opid)):
    _publish(_opid)
    _opid += 1
del _opid


def register_custom(source, source_name="<python>"):
    """Registers the custom ops of source text (docs/custom-ops.md: each
    function `float NAME(float x, ...)` that no other calls is an op, its
    gradient derived) and returns their functions, also in actkit.ops."""
    if not isinstance(source, str):
        raise TypeError("actkit.register_custom: source must be a str")
    ids = (c_int * 16)()
    n = c_size_t()
    _check(lib.act_custom_register_source(source.encode(),
                                          source_name.encode(), ids, 16,
                                          byref(n)))
    return tuple(_publish(ids[i]) for i in range(n.value))


# ---- verify --------------------------------------------------------------------------

def _sweep(seed=1234, nrand=2000):
    special = [0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40, 1.17549435e-38,
               1e-30, -1e-30, 1e-8, -1e-8, 1e-4, -1e-4, 0.5, -0.5, 1.0,
               -1.0, 3.0, -3.0, 6.0, -6.0, 10.0, -10.0, 20.0, -20.0, 88.7,
               -88.7, 89.0, -89.0, 100.0, -100.0, 1e4, -1e4, 1e30, -1e30,
               3.4028235e38, -3.4028235e38, np.inf, -np.inf, np.nan]
    rng = np.random.default_rng(seed)
    mags = 10.0 ** rng.uniform(-8, 4, nrand)
    rand = np.where(rng.random(nrand) < 0.5, -mags, mags)
    grid = np.linspace(-15, 15, 2001)
    return np.concatenate([special, grid, rand]).astype(np.float32)


def _ulps(dt, y, r):
    """|y - r| in ulps of dt at r (docs/accuracy.md), vectorized."""
    y = y.astype(np.float64)
    r = r.astype(np.float64)
    tiny = {_lib.F32: 2.0 ** -126, _lib.F16: 2.0 ** -14,
            _lib.BF16: 2.0 ** -126}[dt]
    mant = {_lib.F32: 23, _lib.F16: 10, _lib.BF16: 7}[dt]
    a = np.maximum(np.abs(r), tiny)
    with np.errstate(all="ignore"):
        _, e = np.frexp(a)
        ulp = np.ldexp(1.0, e - 1 - mant)
        err = np.abs(y - r) / ulp
    same = (y == r) | (np.isnan(y) & np.isnan(r))
    err = np.where(same, 0.0, err)
    err = np.where(~same & (np.isnan(y) | np.isnan(r) | np.isinf(y) |
                            np.isinf(r)), np.inf, err)
    return err


_VERIFY_PARAMS = {"threshold": {"threshold": 0.5, "value": -2.0},
                  "one_hot": {"num_classes": 5}}


def verify(ops_=None, device=None, dtypes=("float32", "float16", "bfloat16"),
           backward=True):
    """Runs ops on a device and on the reference over a sweep (special
    values, a grid, random magnitudes; random rows for axis ops) and returns
    a list of dicts: op, direction, dtype, max_ulp, bound, ok. The bounds
    are docs/accuracy.md's (custom ops: act_custom_within_bound)."""
    names = list(ops_) if ops_ else sorted(
        {f._actkit_name for f in ops.values()
         if _info(f._actkit_name).name.decode() == f._actkit_name})
    ctx = _context(device)
    xs = _sweep()
    rows = []
    for name in names:
        info = _info(name)
        canon = info.name.decode()
        custom = info.op >= _lib.OP_CUSTOM_BASE
        if canon == "one_hot":
            continue
        for dtn in dtypes:
            try:
                dt = _float_dtype(dtn)
            except TypeError:
                continue
            code = _code(dt)
            if info.kind == _lib.KIND_AXIS:
                rng = np.random.default_rng(7)
                x = (rng.standard_normal((16, 64)) * 4).astype(dt)
            else:
                with np.errstate(over="ignore"):
                    x = xs.astype(dt)
            kw = dict(_VERIFY_PARAMS.get(canon, {}))
            for direction in ("forward", "backward") if backward else \
                    ("forward",):
                try:
                    if direction == "forward":
                        y = _forward(name, x, dict(kw, device=ctx.name))
                        r = _forward(name, x, dict(kw, device="cpu"))
                    else:
                        # both from the same forward output (the
                        # reference's), as the contract compares them
                        yr = _forward(name, x, dict(kw, device="cpu"))
                        dy = np.resize(np.array([0.5, -1.25, 2.0], dt),
                                       np.shape(yr))
                        y = vjp(name, x, dy, y=yr, device=ctx.name, **kw)
                        r = vjp(name, x, dy, y=yr, device="cpu", **kw)
                except UnsupportedError:
                    continue
                y = np.asarray(y, dtype=np.float64).ravel()
                r = np.asarray(r, dtype=np.float64).ravel()
                if custom:
                    ok = all(lib.act_custom_within_bound(code, a, b)
                             for a, b in zip(y, r))
                    bound = "custom"
                else:
                    bound = 1.0 if code != _lib.F32 else (
                        4.0 if info.kind == _lib.KIND_AXIS and
                        canon != "glu" else 2.0)
                    ok = None
                err = _ulps(code, y, r)
                worst = float(np.max(err)) if err.size else 0.0
                if ok is None:
                    ok = worst <= bound
                rows.append({"op": name, "direction": direction,
                             "dtype": str(dt), "max_ulp": worst,
                             "bound": bound, "ok": bool(ok)})
    return rows
