"""ctypes bindings of include/actkit.h (the structs and functions the
Python API uses). The layouts mirror the header field for field; the
header is the authority."""
import ctypes
import ctypes.util
import os
from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_int,
                    c_int64, c_size_t, c_uint64, c_uint, c_void_p, byref)

MAX_DIMS = 8
MAX_PARAMS = 4
MAX_ALIASES = 2
AXIS_ALL = 0x7FFFFFFF
OP_CUSTOM_BASE = 1024

# act_dtype_t
F32, F16, BF16, I32, U8 = 0, 1, 2, 3, 4
# act_arg_kind_t
(ARG_X, ARG_Y, ARG_WHERE, ARG_ALPHA, ARG_B, ARG_SIGN, ARG_MEAN,
 ARG_VARIANCE, ARG_DY, ARG_DX, ARG_DALPHA) = range(11)
KIND_ELTWISE, KIND_AXIS = 0, 1
BACKENDS = ("cpu", "opencl", "vulkan")
DEVICE_TYPES = ("reference", "cpu_driver", "accelerator", "integrated_gpu",
                "discrete_gpu")


class Tensor(Structure):
    _fields_ = [("dtype", c_int), ("ndim", c_int),
                ("dims", c_int64 * MAX_DIMS), ("buffer", c_void_p),
                ("offset", c_size_t), ("data", c_void_p)]


class Arg(Structure):
    _fields_ = [("kind", c_int), ("tensor", Tensor)]


class ParamInfo(Structure):
    _fields_ = [("name", c_char_p), ("default_value", c_double),
                ("doc", c_char_p)]


class OpInfo(Structure):
    _fields_ = [("op", c_int), ("name", c_char_p),
                ("aliases", c_char_p * MAX_ALIASES), ("kind", c_int),
                ("nparams", c_int), ("params", ParamInfo * MAX_PARAMS),
                ("default_axis", c_int), ("formula", c_char_p)]


class DeviceInfo(Structure):
    _fields_ = [("size", c_size_t), ("name", c_char * 64), ("description", c_char * 256),
                ("driver_version", c_char * 64), ("backend", c_int),
                ("type", c_int), ("fp16", c_int), ("bf16", c_int),
                ("memory_bytes", c_uint64), ("max_alloc_bytes", c_uint64),
                ("rank", c_int)]


class DenseDesc(Structure):
    _fields_ = [("size", c_size_t), ("activation", c_void_p),
                ("transpose_w", c_int), ("gemm", c_int)]


class CustomDesc(Structure):
    _fields_ = [("size", c_size_t), ("name", c_char_p), ("source", c_char_p),
                ("source_name", c_char_p), ("forward", c_char_p),
                ("derivative", c_char_p), ("nparams", c_int),
                ("param_names", c_char_p * MAX_PARAMS),
                ("param_defaults", c_double * MAX_PARAMS),
                ("formula", c_char_p), ("ref_forward", c_void_p),
                ("ref_derivative", c_void_p), ("user", c_void_p)]


def _find():
    """The shared library: $ACTKIT_LIBRARY, else the one installed beside
    this file (pip install), else the system's."""
    env = os.environ.get("ACTKIT_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.startswith("libactkit.so") or name in ("libactkit.dylib",
                                                         "actkit.dll"):
            return os.path.join(here, name)
    found = ctypes.util.find_library("actkit")
    if found:
        return found
    raise ImportError("actkit: the shared library libactkit.so was not found "
                      "beside the package, nor on the system; install the "
                      "package with `pip install .` from the source tree, or "
                      "set ACTKIT_LIBRARY to its path")


lib = ctypes.CDLL(_find())

_sigs = {
    "act_version": (c_char_p, []),
    "act_status_name": (c_char_p, [c_int]),
    "act_last_error": (c_char_p, []),
    "act_op_info": (POINTER(OpInfo), [c_int]),
    "act_op_lookup": (c_int, [c_char_p, POINTER(c_int)]),
    "act_preset_parse": (c_int, [c_char_p, POINTER(c_int)]),
    "act_op_desc_create": (c_int, [c_int, POINTER(c_void_p)]),
    "act_op_desc_create_by_name": (c_int, [c_char_p, POINTER(c_void_p)]),
    "act_op_desc_destroy": (None, [c_void_p]),
    "act_op_desc_op": (c_int, [c_void_p]),
    "act_op_desc_set_param": (c_int, [c_void_p, c_char_p, c_double]),
    "act_op_desc_get_param": (c_int, [c_void_p, c_char_p, POINTER(c_double)]),
    "act_op_desc_set_axis": (c_int, [c_void_p, c_int]),
    "act_op_desc_get_axis": (c_int, [c_void_p]),
    "act_op_desc_set_preset": (c_int, [c_void_p, c_int]),
    "act_device_count": (c_size_t, []),
    "act_device_get_info_ex": (c_int, [c_size_t, POINTER(DeviceInfo),
                                       c_size_t]),
    "act_device_find": (c_int, [c_char_p, POINTER(c_size_t)]),
    "act_context_create": (c_int, [c_char_p, POINTER(c_void_p)]),
    "act_context_destroy": (None, [c_void_p]),
    "act_buffer_create": (c_int, [c_void_p, c_size_t, POINTER(c_void_p)]),
    "act_buffer_destroy": (None, [c_void_p]),
    "act_queue_create": (c_int, [c_void_p, POINTER(c_void_p)]),
    "act_queue_destroy": (None, [c_void_p]),
    "act_queue_finish": (c_int, [c_void_p]),
    "act_buffer_write": (c_int, [c_void_p, c_void_p, c_size_t, c_size_t,
                                 c_void_p, c_void_p]),
    "act_buffer_read": (c_int, [c_void_p, c_void_p, c_size_t, c_size_t,
                                c_void_p, c_void_p]),
    # the _ex entries take the caller's struct sizes (actkit.h, "ABI")
    "act_forward_ex": (c_int, [c_void_p, c_void_p, c_size_t, POINTER(Arg),
                               c_size_t, c_void_p]),
    "act_forward_host_ex": (c_int, [c_void_p, c_void_p, c_size_t,
                                    POINTER(Arg), c_size_t]),
    "act_backward_ex": (c_int, [c_void_p, c_void_p, c_size_t, POINTER(Arg),
                                c_size_t, c_void_p]),
    "act_backward_host_ex": (c_int, [c_void_p, c_void_p, c_size_t,
                                     POINTER(Arg), c_size_t]),
    "act_custom_register_source": (c_int, [c_char_p, c_char_p,
                                           POINTER(c_int), c_size_t,
                                           POINTER(c_size_t)]),
    "act_custom_within_bound": (c_int, [c_int, c_double, c_double]),
    "act_dense_host_ex": (c_int, [c_void_p, POINTER(DenseDesc),
                                  POINTER(Tensor), POINTER(Tensor),
                                  POINTER(Tensor), POINTER(Tensor),
                                  POINTER(Tensor), c_size_t]),
    "act_dense_ex": (c_int, [c_void_p, POINTER(DenseDesc), POINTER(Tensor),
                             POINTER(Tensor), POINTER(Tensor),
                             POINTER(Tensor), POINTER(Tensor), c_size_t,
                             c_void_p]),
    "act_ulp_error": (c_double, [c_int, c_double, c_double]),
}
ARG_SIZE = ctypes.sizeof(Arg)
TENSOR_SIZE = ctypes.sizeof(Tensor)
DEVICE_INFO_SIZE = ctypes.sizeof(DeviceInfo)

for _name, (_res, _args) in _sigs.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

__all__ = ["lib", "byref", "c_void_p", "c_int", "c_size_t", "c_double",
           "c_uint", "Tensor", "Arg", "OpInfo", "DeviceInfo", "DenseDesc",
           "CustomDesc"]
