/*
 * actkit.h - neural-network activation kernels on every OpenCL and Vulkan
 * device, checked against a CPU reference.
 *
 * This is the only public header of actkit. Everything is C11.
 *
 * Conventions
 * - Every function that can fail returns act_status_t. ACT_OK is 0. On any
 *   other status nothing happened: no event was created, no output was
 *   written, nothing leaked. act_last_error() then says what went wrong, in
 *   words (which call, which op, which parameter, which value).
 * - Handles (act_context_t, act_buffer_t, ...) are opaque. Each has one
 *   _create/_destroy pair. _destroy accepts NULL.
 * - Structs that may grow (act_device_info_t, act_tensor_t, ...) are
 *   zero-initialisable: a zero field means its documented default.
 * - The library never aborts, never prints, and never calls exit().
 *
 * Threading
 * - Device enumeration, act_last_error(), op descriptors owned by one thread,
 *   and the reference calls are thread-safe.
 * - A context may be shared by many threads: creating and destroying
 *   buffers, queues and op descriptors on one context from several threads
 *   at once is safe.
 * - A queue is used by one thread at a time (the caller serialises).
 * - Events may be waited on from any thread.
 * - An op descriptor may be read (used in act_forward) by many threads at
 *   once, but not modified while it is in use.
 *
 * ABI: within one major version, existing functions keep their signatures
 * and struct fields keep their offsets; new fields are only appended. So
 * that structs can grow, the calls that take or fill them are macros that
 * pass the caller's sizeof to an _ex function: act_forward(q, d, n, args,
 * ev) is act_forward_ex(q, d, n, args, sizeof(act_arg_t), ev). A program
 * built against an older header passes its older sizes, and the library
 * reads and writes only that much (fields it does not see take their
 * zero defaults); structs the library fills also say in their `size`
 * field how many bytes it wrote (docs/runtime.md, "Versions and ABI").
 */
#ifndef ACTKIT_H
#define ACTKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(ACTKIT_SHARED_BUILD)
#define ACT_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define ACT_API __attribute__((visibility("default")))
#else
#define ACT_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

#define ACT_VERSION_MAJOR 0
#define ACT_VERSION_MINOR 1
#define ACT_VERSION_PATCH 0
/* One number that grows with every release: 0x00MMmmpp. */
#define ACT_VERSION_HEX                                                     \
  ((ACT_VERSION_MAJOR << 16) | (ACT_VERSION_MINOR << 8) | ACT_VERSION_PATCH)

/* The version of the library actually loaded, as "MAJOR.MINOR.PATCH". */
ACT_API const char *act_version(void);
/* The same, as ACT_VERSION_HEX of the loaded library. */
ACT_API unsigned act_version_hex(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/* XX(NAME, code, description) */
#define ACT_STATUS_MAP(XX)                                                  \
  XX(OK, 0, "success")                                                      \
  XX(INVALID_ARGUMENT, 1, "invalid argument")                               \
  XX(NULL_POINTER, 2, "a required pointer is NULL")                        \
  XX(UNKNOWN_OP, 3, "unknown op name")                                      \
  XX(BAD_PARAM, 4, "bad op parameter")                                      \
  XX(BAD_SHAPE, 5, "bad tensor shape or size")                              \
  XX(BAD_DTYPE, 6, "unsupported data type for this op")                     \
  XX(NO_DEVICE, 7, "no such device")                                        \
  XX(UNSUPPORTED, 8, "not supported on this device")                        \
  XX(OUT_OF_MEMORY, 9, "out of memory")                                     \
  XX(BACKEND, 10, "device driver error")                                    \
  XX(BUILD, 11, "kernel build error")                                       \
  XX(IO, 12, "file input/output error")                                     \
  XX(INTERNAL, 13, "internal error")

typedef enum act_status {
#define ACT_STATUS_ENUM_(name, code, desc) ACT_##name = code,
  ACT_STATUS_MAP(ACT_STATUS_ENUM_)
#undef ACT_STATUS_ENUM_
} act_status_t;

/* "ACT_BAD_PARAM" for ACT_BAD_PARAM; "ACT_UNKNOWN_STATUS" otherwise. */
ACT_API const char *act_status_name(act_status_t status);
/* A short description of the status ("bad op parameter"). */
ACT_API const char *act_status_string(act_status_t status);
/* The message of the last failed call on this thread, in words: names the
 * call, op, parameter and value. "" if no call has failed yet. The pointer
 * stays valid until the next actkit call on this thread. */
ACT_API const char *act_last_error(void);

/* ------------------------------------------------------------------------ */
/* Data types and tensors                                                   */
/* ------------------------------------------------------------------------ */

typedef enum act_dtype {
  ACT_F32 = 0,  /* IEEE binary32 */
  ACT_F16 = 1,  /* IEEE binary16 (storage; compute is f32 or better) */
  ACT_BF16 = 2, /* bfloat16 (storage; compute is f32 or better) */
  ACT_I32 = 3,  /* int32: one_hot indices, and one_hot output */
  ACT_U8 = 4,   /* uint8: masks ("where"); non-zero means "take part" */
  ACT_DTYPE_COUNT
} act_dtype_t;

/* "f32", "f16", "bf16", "i32", "u8"; NULL for a bad value. */
ACT_API const char *act_dtype_name(act_dtype_t dtype);
/* Bytes per element; 0 for a bad value. */
ACT_API size_t act_dtype_size(act_dtype_t dtype);
/* Parses "f32"/"float32"/"float", "f16"/"float16"/"half", "bf16"/"bfloat16",
 * "i32"/"int32", "u8"/"uint8". */
ACT_API act_status_t act_dtype_parse(const char *name, act_dtype_t *dtype);

#define ACT_MAX_DIMS 8

typedef struct act_buffer act_buffer_t;

/*
 * A tensor: dense, contiguous, row-major (the last dimension varies
 * fastest), of up to ACT_MAX_DIMS dimensions. ndim = 0 is a scalar (one
 * element). Used in two ways:
 * - device calls (act_forward) read `buffer` and `offset` (bytes);
 * - host calls (act_forward_host, act_reference_forward) read `data`.
 * The other pair is ignored.
 */
typedef struct act_tensor {
  act_dtype_t dtype;            /* default ACT_F32 */
  int ndim;                     /* 0..ACT_MAX_DIMS */
  int64_t dims[ACT_MAX_DIMS];   /* each >= 1 (0 allowed: an empty tensor) */
  act_buffer_t *buffer;         /* device calls: the buffer */
  size_t offset;                /* device calls: byte offset in buffer */
  void *data;                   /* host calls: the elements */
} act_tensor_t;

/* Number of elements of t (1 for ndim 0); 0 on a bad tensor. */
ACT_API int64_t act_tensor_numel(const act_tensor_t *t);
/* A tensor of the given dtype and shape (ndim clamped to 0..ACT_MAX_DIMS;
 * dims and data may be NULL). Inline: it builds the caller's own layout. */
static inline act_tensor_t act_tensor_make(act_dtype_t dtype, int ndim,
                                           const int64_t *dims, void *data) {
  act_tensor_t t = {dtype, 0, {0}, NULL, 0, NULL};
  t.ndim = ndim < 0 ? 0 : ndim > ACT_MAX_DIMS ? ACT_MAX_DIMS : ndim;
  for (int i = 0; i < t.ndim && dims; i++)
    t.dims[i] = dims[i];
  t.data = data;
  return t;
}

/* ------------------------------------------------------------------------ */
/* The op catalogue                                                         */
/* ------------------------------------------------------------------------ */

/* XX(ENUM, "name", kind) with kind ELTWISE (element-wise) or AXIS. The
 * parameters, aliases and defaults of each are listed by act_op_info(). */
#define ACT_OP_MAP(XX)                                                      \
  XX(RELU, "relu", ELTWISE)                                                 \
  XX(RELU6, "relu6", ELTWISE)                                               \
  XX(LEAKY_RELU, "leaky_relu", ELTWISE)                                     \
  XX(PRELU, "prelu", ELTWISE)                                               \
  XX(ELU, "elu", ELTWISE)                                                   \
  XX(SELU, "selu", ELTWISE)                                                 \
  XX(CELU, "celu", ELTWISE)                                                 \
  XX(GELU, "gelu", ELTWISE)                                                 \
  XX(SILU, "silu", ELTWISE)                                                 \
  XX(SIGMOID, "sigmoid", ELTWISE)                                           \
  XX(LOG_SIGMOID, "log_sigmoid", ELTWISE)                                   \
  XX(TANH, "tanh", ELTWISE)                                                 \
  XX(HARD_SIGMOID, "hard_sigmoid", ELTWISE)                                 \
  XX(HARD_SILU, "hard_silu", ELTWISE)                                       \
  XX(HARD_TANH, "hard_tanh", ELTWISE)                                       \
  XX(SOFTPLUS, "softplus", ELTWISE)                                         \
  XX(SOFTSIGN, "softsign", ELTWISE)                                         \
  XX(MISH, "mish", ELTWISE)                                                 \
  XX(SQUAREPLUS, "squareplus", ELTWISE)                                     \
  XX(SPARSE_PLUS, "sparse_plus", ELTWISE)                                   \
  XX(SPARSE_SIGMOID, "sparse_sigmoid", ELTWISE)                             \
  XX(EXP, "exp", ELTWISE)                                                   \
  XX(LINEAR, "linear", ELTWISE)                                             \
  XX(GELU_QUICK, "gelu_quick", ELTWISE)                                     \
  XX(HARD_SHRINK, "hard_shrink", ELTWISE)                                   \
  XX(SOFT_SHRINK, "soft_shrink", ELTWISE)                                   \
  XX(TANH_SHRINK, "tanh_shrink", ELTWISE)                                   \
  XX(THRESHOLD, "threshold", ELTWISE)                                       \
  XX(CLIP, "clip", ELTWISE)                                                 \
  XX(SOFTMAX, "softmax", AXIS)                                              \
  XX(LOG_SOFTMAX, "log_softmax", AXIS)                                      \
  XX(LOGSUMEXP, "logsumexp", AXIS)                                          \
  XX(SOFTMIN, "softmin", AXIS)                                              \
  XX(GLU, "glu", AXIS)                                                      \
  XX(STANDARDIZE, "standardize", AXIS)                                      \
  XX(ONE_HOT, "one_hot", AXIS)

typedef enum act_op {
#define ACT_OP_ENUM_(id, name, kind) ACT_OP_##id,
  ACT_OP_MAP(ACT_OP_ENUM_)
#undef ACT_OP_ENUM_
  ACT_OP_COUNT
} act_op_t;

typedef enum act_op_kind {
  ACT_KIND_ELTWISE = 0, /* y[i] = f(x[i]); y has x's shape */
  ACT_KIND_AXIS = 1     /* works along one axis (or all, for logsumexp) */
} act_op_kind_t;

/* "all axes", for logsumexp's axis. */
#define ACT_AXIS_ALL 0x7fffffff

/* One parameter of an op, as act_op_info() describes it. */
typedef struct act_param_info {
  const char *name;     /* "negative_slope" */
  double default_value; /* NaN when the parameter is required */
  const char *doc;      /* one line: meaning and constraints */
} act_param_info_t;

#define ACT_MAX_PARAMS 4
#define ACT_MAX_ALIASES 2

/* Static description of an op. All strings are static. */
typedef struct act_op_info {
  act_op_t op;
  const char *name;                      /* canonical snake_case name */
  const char *aliases[ACT_MAX_ALIASES];  /* NULL-terminated early */
  act_op_kind_t kind;
  int nparams;
  act_param_info_t params[ACT_MAX_PARAMS];
  int default_axis;     /* axis ops and prelu: the default axis */
  const char *formula;  /* one line: the definition */
} act_op_info_t;

/* The static description of op; NULL if op is out of range. */
ACT_API const act_op_info_t *act_op_info(act_op_t op);
/* Looks up a canonical name or an alias ("swish" -> ACT_OP_SILU).
 * ACT_UNKNOWN_OP with a message for unknown names. An alias may also carry
 * parameter values ("gelu_approx" is gelu with approximate = 1): those are
 * applied by act_op_desc_create_by_name, not by this call. */
ACT_API act_status_t act_op_lookup(const char *name, act_op_t *op);

/* Framework presets (docs/ops.md): parameter defaults of a framework. */
typedef enum act_preset {
  ACT_PRESET_NONE = 0, /* actkit's own defaults (the table of docs/ops.md) */
  ACT_PRESET_JAX,      /* jax.nn / Flax */
  ACT_PRESET_KERAS2,   /* tf_keras */
  ACT_PRESET_AXON,     /* Elixir Axon */
  ACT_PRESET_KAUN,     /* OCaml Kaun */
  ACT_PRESET_TORCH,    /* PyTorch */
  ACT_PRESET_COUNT
} act_preset_t;

/* "jax", "keras2", "axon", "kaun", "torch" (and "none"). */
ACT_API act_status_t act_preset_parse(const char *name, act_preset_t *preset);
ACT_API const char *act_preset_name(act_preset_t preset);

/*
 * An op descriptor: which op, with which parameter values and axis. Created
 * with every parameter at its default. Owned by the caller; independent of
 * any context (it can be used on every device).
 */
typedef struct act_op_desc act_op_desc_t;

ACT_API act_status_t act_op_desc_create(act_op_t op, act_op_desc_t **desc);
/* By canonical name or alias; an alias that implies parameter values
 * (gelu_approx) sets them. */
ACT_API act_status_t act_op_desc_create_by_name(const char *name,
                                                act_op_desc_t **desc);
ACT_API void act_op_desc_destroy(act_op_desc_t *desc);
ACT_API act_op_t act_op_desc_op(const act_op_desc_t *desc);

/* Sets a parameter by name. ACT_BAD_PARAM names the op, the parameter and
 * the value when the parameter does not exist or the value is not allowed
 * (celu alpha = 0, NaN, clip min > max, ...); the descriptor is then
 * unchanged. */
ACT_API act_status_t act_op_desc_set_param(act_op_desc_t *desc,
                                           const char *name, double value);
ACT_API act_status_t act_op_desc_get_param(const act_op_desc_t *desc,
                                           const char *name, double *value);
/* The axis of an axis op (negative counts from the end; ACT_AXIS_ALL for
 * logsumexp), or prelu's channel axis. ACT_BAD_PARAM for ops without one. */
ACT_API act_status_t act_op_desc_set_axis(act_op_desc_t *desc, int axis);
ACT_API int act_op_desc_get_axis(const act_op_desc_t *desc);
/* Sets every parameter and axis that the framework defines for this op to
 * that framework's default; others keep their values. Parameters set after
 * this call override it. */
ACT_API act_status_t act_op_desc_set_preset(act_op_desc_t *desc,
                                            act_preset_t preset);

/* ------------------------------------------------------------------------ */
/* Operands                                                                 */
/* ------------------------------------------------------------------------ */

/* The role of a tensor in a call (as oneDNN's DNNL_ARG_*). */
typedef enum act_arg_kind {
  ACT_ARG_X = 0,     /* input (one_hot: i32 indices) */
  ACT_ARG_Y,         /* output */
  ACT_ARG_WHERE,     /* softmax/log_softmax/softmin: u8 mask, x's shape */
  ACT_ARG_ALPHA,     /* prelu: slopes, [C] along the channel axis, or [1] */
  ACT_ARG_B,         /* logsumexp: scale factors, broadcastable to x */
  ACT_ARG_SIGN,      /* logsumexp with return_sign: sign output, y's shape */
  ACT_ARG_MEAN,      /* standardize: given mean, broadcastable to x */
  ACT_ARG_VARIANCE,  /* standardize: given variance, broadcastable to x */
  ACT_ARG_DY,        /* backward: incoming gradient, y's shape */
  ACT_ARG_DX,        /* backward: outgoing gradient, x's shape */
  ACT_ARG_DALPHA,    /* prelu backward: gradient of alpha, alpha's shape */
  ACT_ARG_COUNT
} act_arg_kind_t;

typedef struct act_arg {
  act_arg_kind_t kind;
  act_tensor_t tensor;
} act_arg_t;

/*
 * Shapes, per op:
 * - element-wise: y has x's shape and dtype (f32/f16/bf16); x == y (same
 *   buffer and offset, or same data pointer) runs in place.
 * - softmax, log_softmax, softmin, standardize: y has x's shape.
 * - logsumexp: y is x reduced along the axis (kept as 1 with keepdims = 1;
 *   a scalar, ndim 0 or all-ones, for ACT_AXIS_ALL).
 * - glu: y is x with the axis halved (odd axis length: ACT_BAD_SHAPE).
 * - one_hot: x is i32 of shape S, y is S with num_classes inserted at the
 *   axis; y's dtype is any of f32/f16/bf16/i32.
 * x and y must have the same dtype except for one_hot; alpha, b, mean and
 * variance have x's dtype too.
 */

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum act_backend {
  ACT_BACKEND_CPU = 0, /* the reference: double precision, always there */
  ACT_BACKEND_OPENCL,  /* through the OpenCL ICD loader */
  ACT_BACKEND_VULKAN,  /* through the Vulkan loader */
  ACT_BACKEND_COUNT
} act_backend_t;

typedef enum act_device_type {
  ACT_DEVICE_REFERENCE = 0, /* actkit's own CPU reference */
  ACT_DEVICE_CPU_DRIVER,    /* a driver running on the CPU (PoCL, lavapipe) */
  ACT_DEVICE_ACCELERATOR,   /* other accelerator */
  ACT_DEVICE_INTEGRATED_GPU,
  ACT_DEVICE_DISCRETE_GPU
} act_device_type_t;

typedef struct act_device_info {
  size_t size;             /* set by the library: the bytes it filled */
  char name[64];           /* "cpu", "opencl:0", "vulkan:1" */
  char description[256];   /* the driver's device name */
  char driver_version[64]; /* the driver's version string */
  act_backend_t backend;
  act_device_type_t type;
  int fp16;                /* 1: native f16 arithmetic/storage */
  int bf16;                /* 1: native bf16 support */
  uint64_t memory_bytes;   /* global memory; 0 when unknown */
  uint64_t max_alloc_bytes; /* largest single buffer; 0 when unknown */
  int rank;                /* selection rank: higher is preferred by auto */
} act_device_info_t;

/* Number of devices found (at least 1: the cpu reference). Enumeration
 * happens once per process, on first use. */
ACT_API size_t act_device_count(void);
/* Describes device `index` (0 <= index < act_device_count()). */
ACT_API act_status_t act_device_get_info_ex(size_t index,
                                            act_device_info_t *info,
                                            size_t info_size);
#define act_device_get_info(index, info)                                    \
  act_device_get_info_ex((index), (info), sizeof(act_device_info_t))
/* Resolves a device string: "cpu", "opencl", "opencl:N", "vulkan",
 * "vulkan:N", "auto" or NULL. "auto" honours $ACTKIT_DEVICE, else picks the
 * highest rank (discrete GPU > integrated GPU > accelerator > CPU driver >
 * cpu reference). "opencl" / "vulkan" is the best device of that backend.
 * ACT_NO_DEVICE names the string when nothing matches. */
ACT_API act_status_t act_device_find(const char *name, size_t *index);
ACT_API const char *act_backend_name(act_backend_t backend);
ACT_API const char *act_device_type_name(act_device_type_t type);

/* ------------------------------------------------------------------------ */
/* Contexts, buffers, queues, events                                        */
/* ------------------------------------------------------------------------ */

typedef struct act_context act_context_t;
typedef struct act_queue act_queue_t;
typedef struct act_event act_event_t;

/* A context on one device (a device string, as act_device_find). It holds
 * the compiled kernels. Thread-safe: share it between threads. */
ACT_API act_status_t act_context_create(const char *device,
                                        act_context_t **ctx);
/* Destroys ctx. Every buffer, queue and event of it must be destroyed
 * first. */
ACT_API void act_context_destroy(act_context_t *ctx);
ACT_API act_status_t act_context_get_device_ex(const act_context_t *ctx,
                                               act_device_info_t *info,
                                               size_t info_size);
#define act_context_get_device(ctx, info)                                   \
  act_context_get_device_ex((ctx), (info), sizeof(act_device_info_t))

/* What a context has compiled: kernels built from source, and kernels
 * loaded from the on-disk program cache (docs/runtime.md). */
typedef struct act_context_stats {
  size_t size;              /* set by the library: the bytes it filled */
  uint64_t programs_built;  /* compiled from source by the driver */
  uint64_t programs_loaded; /* taken from the on-disk cache */
} act_context_stats_t;

ACT_API act_status_t act_context_get_stats_ex(const act_context_t *ctx,
                                              act_context_stats_t *stats,
                                              size_t stats_size);
#define act_context_get_stats(ctx, stats)                                   \
  act_context_get_stats_ex((ctx), (stats), sizeof(act_context_stats_t))

/* The on-disk program cache (docs/runtime.md): $ACTKIT_CACHE_DIR, else
 * $XDG_CACHE_HOME/actkit, else ~/.cache/actkit; ACTKIT_CACHE_DIR=off
 * disables it. Writes the directory into buf ("" when disabled).
 * ACT_INVALID_ARGUMENT when buf is too small. */
ACT_API act_status_t act_cache_path(char *buf, size_t size);
/* Deletes every actkit cache file in that directory (nothing else); the
 * count removed goes to *removed (may be NULL). Safe while other processes
 * use the cache: they rebuild what they miss. */
ACT_API act_status_t act_cache_clear(size_t *removed);

/* Device memory of `bytes` bytes (> 0), uninitialised. */
ACT_API act_status_t act_buffer_create(act_context_t *ctx, size_t bytes,
                                       act_buffer_t **buf);
/* Frees buf. Work using it must have finished. */
ACT_API void act_buffer_destroy(act_buffer_t *buf);
ACT_API size_t act_buffer_size(const act_buffer_t *buf);

/* An in-order queue: work runs in the order enqueued. One thread at a
 * time. */
ACT_API act_status_t act_queue_create(act_context_t *ctx, act_queue_t **q);
/* Waits for the queue's work to finish, then destroys it. */
ACT_API void act_queue_destroy(act_queue_t *q);
/* Starts the work enqueued so far without waiting for it. */
ACT_API act_status_t act_queue_flush(act_queue_t *q);
/* Waits until everything enqueued on q has finished. */
ACT_API act_status_t act_queue_finish(act_queue_t *q);
/* Later work on q waits for ev (which may come from another queue of the
 * same context). */
ACT_API act_status_t act_queue_wait_event(act_queue_t *q, act_event_t *ev);

/* Enqueues a copy of `bytes` bytes from host memory `src` into buf at
 * `offset`. Returns at once. `src` must stay valid and unchanged until the
 * copy has finished (wait on the event, or finish the queue). `event` may be
 * NULL; otherwise *event receives an event that the caller destroys. */
ACT_API act_status_t act_buffer_write(act_queue_t *q, act_buffer_t *buf,
                                      size_t offset, size_t bytes,
                                      const void *src, act_event_t **event);
/* Enqueues a copy from buf at `offset` into host memory `dst`. `dst` is
 * written when the event completes. */
ACT_API act_status_t act_buffer_read(act_queue_t *q, act_buffer_t *buf,
                                     size_t offset, size_t bytes, void *dst,
                                     act_event_t **event);

/* Blocks until ev has completed. Returns the status of the work it stands
 * for (an error during execution is reported here). */
ACT_API act_status_t act_event_wait(act_event_t *ev);
/* 1 if ev has completed, 0 if not. */
ACT_API int act_event_done(act_event_t *ev);
ACT_API void act_event_destroy(act_event_t *ev);

/* ------------------------------------------------------------------------ */
/* Running ops                                                              */
/* ------------------------------------------------------------------------ */

/* Checks that the op, its parameters and the operands fit together (shapes,
 * dtypes, required operands), without running anything. */
ACT_API act_status_t act_op_check_ex(const act_op_desc_t *desc,
                                     size_t nargs, const act_arg_t *args,
                                     size_t arg_size);
#define act_op_check(desc, nargs, args)                                     \
  act_op_check_ex((desc), (nargs), (args), sizeof(act_arg_t))

/* Enqueues the op on q over device tensors (args[i].tensor.buffer; each
 * buffer of q's context). Returns at once. `event` may be NULL.
 * ACT_UNSUPPORTED when the device cannot run this op with these dtypes. */
ACT_API act_status_t act_forward_ex(act_queue_t *q,
                                    const act_op_desc_t *desc, size_t nargs,
                                    const act_arg_t *args, size_t arg_size,
                                    act_event_t **event);
#define act_forward(q, desc, nargs, args, event)                            \
  act_forward_ex((q), (desc), (nargs), (args), sizeof(act_arg_t), (event))

/* Synchronous convenience: runs the op on ctx's device over host arrays
 * (args[i].tensor.data), uploading, running and downloading, and returns
 * when the outputs are written. */
ACT_API act_status_t act_forward_host_ex(act_context_t *ctx,
                                         const act_op_desc_t *desc,
                                         size_t nargs, const act_arg_t *args,
                                         size_t arg_size);
#define act_forward_host(ctx, desc, nargs, args)                            \
  act_forward_host_ex((ctx), (desc), (nargs), (args), sizeof(act_arg_t))

/* The reference: runs the op on the host in double precision and rounds
 * once to the output type (docs/accuracy.md). Host arrays. No context
 * needed. Thread-safe. */
ACT_API act_status_t act_reference_forward_ex(const act_op_desc_t *desc,
                                              size_t nargs,
                                              const act_arg_t *args,
                                              size_t arg_size);
#define act_reference_forward(desc, nargs, args)                            \
  act_reference_forward_ex((desc), (nargs), (args), sizeof(act_arg_t))

/*
 * Backward (docs/ops.md, "Gradients"): given dy, writes dx (and, for prelu with an alpha
 * tensor, dalpha = the sum of dy * dy/dalpha over the broadcast
 * dimensions). The operands, per op:
 * - element-wise: X, DY -> DX (prelu: also ALPHA -> DALPHA, optional);
 * - softmax, log_softmax, softmin: Y (the forward output), DY -> DX, with
 *   the same WHERE as the forward call, if any;
 * - logsumexp: X, Y (the forward output), DY -> DX (B as in the forward);
 * - glu, standardize: X, DY -> DX (standardize: MEAN / VARIANCE as in the
 *   forward call are constants);
 * - one_hot has no gradient: ACT_UNSUPPORTED.
 * At kinks, jax's one-sided conventions (docs/ops.md, "Gradients"). In the same style as
 * act_forward: enqueue, host convenience, reference.
 */
ACT_API act_status_t act_backward_ex(act_queue_t *q,
                                     const act_op_desc_t *desc, size_t nargs,
                                     const act_arg_t *args, size_t arg_size,
                                     act_event_t **event);
#define act_backward(q, desc, nargs, args, event)                           \
  act_backward_ex((q), (desc), (nargs), (args), sizeof(act_arg_t), (event))
ACT_API act_status_t act_backward_host_ex(act_context_t *ctx,
                                          const act_op_desc_t *desc,
                                          size_t nargs, const act_arg_t *args,
                                          size_t arg_size);
#define act_backward_host(ctx, desc, nargs, args)                           \
  act_backward_host_ex((ctx), (desc), (nargs), (args), sizeof(act_arg_t))
ACT_API act_status_t act_reference_backward_ex(const act_op_desc_t *desc,
                                               size_t nargs,
                                               const act_arg_t *args,
                                               size_t arg_size);
#define act_reference_backward(desc, nargs, args)                           \
  act_reference_backward_ex((desc), (nargs), (args), sizeof(act_arg_t))

/* ------------------------------------------------------------------------ */
/* Custom element-wise ops                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A custom op is an element-wise op y = f(x; p0..p3) written by the user
 * as source text in a small subset of OpenCL C (docs/custom-ops.md:
 * float/int/bool scalars, if/for/while, the user's own functions and an
 * allow-list of math built-ins; no pointers, arrays, recursion or
 * work-item functions). Its derivative is derived from the source
 * (forward mode on the checked source, jax's conventions at kinks) unless
 * one is given; a source the derivation cannot handle (an assignment
 * inside an expression, a float update in a for loop's step) still
 * registers, and backward then returns ACT_UNSUPPORTED saying why. Once
 * registered it works wherever a built-in element-wise op does:
 * act_op_info, act_op_lookup, descriptors and parameters by name,
 * act_forward / act_backward (and _host), the reference, on f32/f16/bf16,
 * on every backend. The source is checked when it is registered: a syntax
 * error or a refused construct fails the registration with ACT_BUILD and
 * "FILE:LINE:COL: error: ..." in act_last_error().
 *
 * The reference evaluates the same source in double precision (every float
 * as a double, built-ins from libm), unless C callbacks are given.
 * Devices compile it at run time: the OpenCL driver, or glslang for Vulkan
 * (a build without glslang gives ACT_UNSUPPORTED there). Compiled programs
 * go through the program cache like built-ins.
 *
 * Custom ops get ids from ACT_OP_CUSTOM_BASE up, in registration order.
 * The registry is process-wide and thread-safe; registrations last for the
 * life of the process (there is no unregister), ACT_MAX_CUSTOM_OPS at most.
 */
#define ACT_OP_CUSTOM_BASE 1024
#define ACT_MAX_CUSTOM_OPS 256

/* A reference callback: f(x) or f'(x) in double, params in the order of
 * act_custom_desc_t.param_names. */
typedef double (*act_custom_fn_t)(double x, const double *params,
                                  void *user);

typedef struct act_custom_desc {
  size_t size;             /* sizeof(act_custom_desc_t), or 0 */
  const char *name;        /* required: [a-z_][a-z0-9_]*, at most 63
                              characters, not a built-in op or alias */
  const char *source;      /* required: the functions, as text */
  const char *source_name; /* file name for messages; default "<custom>" */
  const char *forward;     /* float FN(float x, float p0, ...): default name */
  const char *derivative;  /* float FN(float x, float p0, ...) = df/dx;
                              default NULL: derived from forward */
  int nparams;             /* 0..ACT_MAX_PARAMS; default 0 */
  const char *param_names[ACT_MAX_PARAMS];  /* required for each param */
  double param_defaults[ACT_MAX_PARAMS];    /* default 0; NaN: required */
  const char *formula;     /* one line for act_op_info; default generated */
  act_custom_fn_t ref_forward;    /* optional: the reference's f */
  act_custom_fn_t ref_derivative; /* optional: the reference's f' */
  void *user;              /* passed to the callbacks */
} act_custom_desc_t;

/* Registers a custom op; *op receives its id. ACT_BUILD (with
 * FILE:LINE:COL) for a source error; ACT_INVALID_ARGUMENT for a bad or
 * taken name, a missing function or a wrong signature. */
ACT_API act_status_t act_custom_register(const act_custom_desc_t *desc,
                                         act_op_t *op);

/*
 * Registers the custom ops of a source file:
 * - each annotation line
 *     // actkit: op NAME(PARAM = DEFAULT, ...) [forward FN] [derivative FN]
 *   declares op NAME (forward defaults to NAME; without derivative, the
 *   derivative is derived);
 * - each other function `float NAME(float x, float p...)` - first
 *   parameter named x, all float - that no other function of the file
 *   calls and no annotation names is op NAME too, with parameters p...
 *   (default 0) and a derived derivative. Functions called by others are
 *   helpers.
 * Every op of the file is registered, or none (at most 16 a file). Up to
 * cap ids go to ops (may be NULL with cap 0), in the order above (the
 * annotations first, then the plain functions in source order); *count
 * (may be NULL) receives how many the file declares.
 */
ACT_API act_status_t act_custom_register_file(const char *path,
                                              act_op_t *ops, size_t cap,
                                              size_t *count);

/* The same for source text already in memory (source_name for messages). */
ACT_API act_status_t act_custom_register_source(const char *source,
                                                const char *source_name,
                                                act_op_t *ops, size_t cap,
                                                size_t *count);

/* The number of custom ops registered so far (their ids are
 * ACT_OP_CUSTOM_BASE + 0 .. count - 1). */
ACT_API size_t act_custom_count(void);

/* The accuracy bound of custom ops (actc verify --custom): 1 if a device
 * result y is close enough to the reference r, else 0. The user's float
 * code composes roundings that docs/accuracy.md's per-op bounds do not allow for, so
 * the bound is |y - r| <= 16 ulp(r) for f32 (2 ulp of the type for f16 and
 * bf16), or an absolute 2^-22 near zero; NaN must match NaN and infinities
 * must match exactly. */
ACT_API int act_custom_within_bound(act_dtype_t dtype, double y, double r);

/* ------------------------------------------------------------------------ */
/* The fused dense layer                                                    */
/* ------------------------------------------------------------------------ */

/* Which GEMM runs a dense layer on an OpenCL device. */
typedef enum act_dense_gemm {
  ACT_DENSE_GEMM_AUTO = 0, /* $ACTKIT_DENSE_GEMM (own|clblast), else CLBlast
                              where it can run the call, else our kernel */
  ACT_DENSE_GEMM_OWN,      /* our tiled kernel (kernels/opencl/gemm.cl) */
  ACT_DENSE_GEMM_CLBLAST   /* CLBlast; ACT_UNSUPPORTED where it cannot run
                              the call (not built in, not installed, not
                              f32, not OpenCL) */
} act_dense_gemm_t;

/* What a dense layer computes besides its operands. Zero-initialised: no
 * activation, W not transposed, the GEMM picked automatically. */
typedef struct act_dense_desc {
  size_t size;                     /* sizeof(act_dense_desc_t), or 0 */
  const act_op_desc_t *activation; /* an element-wise op; NULL: identity */
  int transpose_w;                 /* 0: w is [K, N]; 1: w is [N, K] */
  act_dense_gemm_t gemm;           /* OpenCL only; default AUTO */
} act_dense_desc_t;

/*
 * A dense layer with its activation fused: y = act(x W + b), for x [M, K],
 * W [K, N] (or [N, K] with transpose_w), an optional bias b [N] (or
 * [1, N]), y [M, N]; optionally also z = x W + b (the pre-activation, for a
 * backward pass), [M, N]. Every tensor has the same dtype, f32, f16 or
 * bf16 (storage; products are accumulated in f32 on devices, double on the
 * reference). The activation is any element-wise op of docs/ops.md that takes
 * only x (prelu uses its scalar alpha; an alpha tensor cannot be given),
 * with its parameters. y must not overlap x, W, b or z.
 *
 * Accuracy. With S_ij = sum_k |x_ik w_kj| + |b_j| and gamma(n) =
 * n u / (1 - n u), u = 2^-24 (f32 accumulation, fused or not, in any
 * order), the device's pre-activation z_ij (before its storage rounding)
 * satisfies |z_ij - zr_ij| <= gamma(K + 1) S_ij, zr the exact value. So
 * |y_ij - act(zr_ij)| <= L gamma(K + 1) S_ij + the activation's own error
 * (docs/accuracy.md) + the rounding of y to its dtype, L the largest slope of act
 * between z_ij and zr_ij; z is within gamma(K + 1) S_ij plus its own
 * rounding. tests/test_dense.c checks exactly that, with a table of L.
 *
 * On OpenCL, f32 runs CLBlast's SGEMM (where built in and installed; see
 * act_dense_gemm_t) followed by a bias + activation kernel; otherwise, and
 * on Vulkan, one tiled kernel applies bias and activation before its
 * single store. The common activations (relu, leaky_relu, elu, gelu, silu,
 * sigmoid, tanh) are fused there; any other runs as a second pass over y,
 * which then applies it to z rounded to the dtype (for f16/bf16 that adds
 * L ulp(z) / 2 to the bound). The cpu device runs the reference.
 */
ACT_API act_status_t act_dense_ex(act_queue_t *q,
                                  const act_dense_desc_t *desc,
                                  const act_tensor_t *x, const act_tensor_t *w,
                                  const act_tensor_t *bias,
                                  const act_tensor_t *y, const act_tensor_t *z,
                                  size_t tensor_size, act_event_t **event);
#define act_dense(q, desc, x, w, bias, y, z, event)                         \
  act_dense_ex((q), (desc), (x), (w), (bias), (y), (z),                     \
               sizeof(act_tensor_t), (event))
/* Synchronous convenience over host arrays (tensor.data). */
ACT_API act_status_t act_dense_host_ex(act_context_t *ctx,
                                       const act_dense_desc_t *desc,
                                       const act_tensor_t *x,
                                       const act_tensor_t *w,
                                       const act_tensor_t *bias,
                                       const act_tensor_t *y,
                                       const act_tensor_t *z,
                                       size_t tensor_size);
#define act_dense_host(ctx, desc, x, w, bias, y, z)                         \
  act_dense_host_ex((ctx), (desc), (x), (w), (bias), (y), (z),              \
                    sizeof(act_tensor_t))
/* The reference: every z_ij accumulated in double and rounded once to the
 * dtype; y_ij = act(z_ij) from the unrounded double, rounded once. Host
 * arrays; thread-safe. */
ACT_API act_status_t act_reference_dense_ex(const act_dense_desc_t *desc,
                                            const act_tensor_t *x,
                                            const act_tensor_t *w,
                                            const act_tensor_t *bias,
                                            const act_tensor_t *y,
                                            const act_tensor_t *z,
                                            size_t tensor_size);
#define act_reference_dense(desc, x, w, bias, y, z)                         \
  act_reference_dense_ex((desc), (x), (w), (bias), (y), (z),                \
                         sizeof(act_tensor_t))

/* ------------------------------------------------------------------------ */
/* Verification helpers                                                     */
/* ------------------------------------------------------------------------ */

/* Distance between a result y and a reference r, in units in the last place
 * of `dtype` at r (the spacing at the smallest normal for tiny r).
 * NaN vs NaN and equal values (including -0 vs +0) are 0; NaN vs number,
 * or inf vs anything else, is INFINITY. */
ACT_API double act_ulp_error(act_dtype_t dtype, double y, double r);

/* Converts n elements between dtypes through double, rounding once to the
 * nearest even. Used to prepare inputs and read outputs of f16/bf16. */
ACT_API act_status_t act_convert(act_dtype_t src_type, const void *src,
                                 act_dtype_t dst_type, void *dst, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* ACTKIT_H */
