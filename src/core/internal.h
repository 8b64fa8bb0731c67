/*
 * internal.h - what the runtime's parts share: errors, the op table, op
 * descriptors, validated calls, and the backend interface.
 */
#ifndef ACT_INTERNAL_H
#define ACT_INTERNAL_H

#include "actkit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define ACT__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ACT__PRINTF(a, b)
#endif

/* ---- errors (error.c) ---------------------------------------------------- */

/* Records the message for act_last_error() and returns status. */
act_status_t act__fail(act_status_t status, const char *fmt, ...)
    ACT__PRINTF(2, 3);
/* Clears the thread's message (at the start of a public call). */
void act__clear_error(void);

/* ---- the op table (ops.c) ------------------------------------------------ */

/* An alias: another name for an op, optionally fixing one parameter. */
typedef struct act__alias {
  const char *name;
  act_op_t op;
  const char *param; /* NULL, or the parameter the alias sets */
  double value;
} act__alias_t;

extern const act_op_info_t act__op_table[ACT_OP_COUNT];

/* Index of parameter `name` of op, or -1. */
int act__param_index(act_op_t op, const char *name);

/* ---- custom ops (custom.c, custom_lang.c) --------------------------------- */

/* The value of ACT_OP in programs of custom ops (whatever their id), so
 * that a program's source, and its cache key, do not depend on the order
 * in which a process registered its ops. */
#define ACT__OP_CUSTOM_DEFINE 1024

/* True for a registered custom op id. */
bool act__op_is_custom(int op);
/* The info of a custom op, or NULL. */
const act_op_info_t *act__custom_info(int op);
/* The device text of a custom op: helpers and the user's functions, and
 * the ACT_CUSTOM_FORWARD / ACT_CUSTOM_DERIVATIVE macros; NULL if not
 * custom. Static for the life of the process. */
const char *act__custom_device_source(int op);
/* True if the custom op has a derivative: for the reference (device 0:
 * in its source or as a callback), or in its source (device 1). */
bool act__custom_has_derivative(int op, int device);
/* Why a custom op has no derivative (for messages). */
const char *act__custom_no_derivative(int op);
/* f(x) (deriv 0) or f'(x) (deriv 1) of a custom op, in double. */
double act__custom_eval(int op, int deriv, const double *p, double x);

/* The language (custom_lang.c). */
typedef struct act__cl act__cl_t;
act_status_t act__cl_parse(const char *src, const char *file,
                           act__cl_t **out);
void act__cl_free(act__cl_t *p);
int act__cl_find(const act__cl_t *p, const char *name);
act_status_t act__cl_check_entry(const act__cl_t *p, int fn, int nparams,
                                 const char *role);
double act__cl_eval(const act__cl_t *p, int fn, double x, const double *prm);
act_status_t act__cl_emit(const act__cl_t *p, char **out);
int act__cl_nfuncs(const act__cl_t *p);
const char *act__cl_fname(const act__cl_t *p, int fn);
void act__cl_device_name(const act__cl_t *p, int fn, char *buf, size_t n);
bool act__cl_plain_op(const act__cl_t *p, int fn, int *nparams,
                      const char **names);
/* Adds g_F = dF/dx for op function fn (custom_lang.c, "automatic
 * derivatives"); *grad receives its index. ACT_UNSUPPORTED names the
 * construct it cannot differentiate. */
act_status_t act__cl_derive(act__cl_t *p, int fn, const char *op,
                            int *grad);

/* ---- GLSL to SPIR-V (vulkan/glsl.c, or glsl_none.c without glslang) ------ */

/* True when this build can compile GLSL at run time. */
bool act__glsl_available(void);
/* How many programs this process compiled with glslang (for the tests:
 * a second process that finds them in the on-disk cache compiles none). */
uint64_t act__glsl_count(void);
/* "glslang MAJOR.MINOR.PATCH" (or "none"), for cache keys. */
const char *act__glsl_version(void);
/* Compiles an assembled program (act__program_source with the GLSL
 * prelude), keeping kernel `kernel`, to validated SPIR-V 1.3: *words is
 * malloc'd. *log receives glslang's messages (malloc'd, or NULL), also on
 * success (warnings). ACT_BUILD with the log in the message on failure;
 * ACT_UNSUPPORTED in a build without glslang. Thread-safe. */
act_status_t act__glsl_compile(const char *src, const char *kernel,
                               uint32_t **words, size_t *nwords, char **log);

/* ---- op descriptors ------------------------------------------------------ */

struct act_op_desc {
  act_op_t op;
  double p[ACT_MAX_PARAMS]; /* in the order of act_op_info()->params */
  int axis;
};

/* Names of the parameters of each op, used by the math code to index p[].
 * They must follow the order of the table in ops.c (checked there). */
enum {
  ACT__RELU_SLOPE = 0, ACT__RELU_MAX = 1, ACT__RELU_THRESHOLD = 2,
  ACT__P0 = 0, ACT__P1 = 1, ACT__P2 = 2, ACT__P3 = 3
};

/* Checks every parameter of desc (required ones present, ranges). */
act_status_t act__desc_validate(const act_op_desc_t *desc);

/* ---- validated calls (call.c) -------------------------------------------- */

/*
 * A call after act__call_prepare: the operands by role, the axis
 * normalised, and the derived geometry. Backends receive only prepared
 * calls, so they need not re-check anything.
 */
typedef struct act__call {
  const act_op_desc_t *desc;
  const act_tensor_t *arg[ACT_ARG_COUNT]; /* NULL when absent */
  /* Axis geometry: the tensor is viewed as [outer, len, inner] around the
   * axis (for element-wise ops: [1, n, 1]). For logsumexp over all axes:
   * [1, n, 1]. For one_hot, len = num_classes and the view is of y. */
  int axis;        /* normalised axis, or -1 for "all"/element-wise */
  int64_t outer, len, inner;
  int64_t n;       /* elements of x */
  int64_t ny;      /* elements of y */
  int backward;    /* 1: a backward call (DY, DX, ...; act__call_prepare_bwd) */
} act__call_t;

/* host: 1 to check tensor.data, 0 to check tensor.buffer. */
act_status_t act__call_prepare(const act_op_desc_t *desc, size_t nargs,
                               const act_arg_t *args, int host,
                               act__call_t *call);

/* The same for a backward call (see act_backward in actkit.h): checks the
 * operands and sets call->backward; the geometry is that of the forward
 * call (x's view around the axis). */
act_status_t act__call_prepare_bwd(const act_op_desc_t *desc, size_t nargs,
                                   const act_arg_t *args, int host,
                                   act__call_t *call);

/* Strides (in elements) to read a broadcast operand `b` (numpy rules,
 * aligned to the right) over x's shape; 0 where b is broadcast. */
void act__broadcast_strides(const act_tensor_t *b, const act_tensor_t *x,
                            int64_t strides[ACT_MAX_DIMS]);

/* ---- number formats (dtype.c) -------------------------------------------- */

/* Rounds a double once, to nearest even, into the format's value set
 * (including overflow to inf and gradual underflow). */
double act__round_f16(double v);
double act__round_bf16(double v);
uint16_t act__f16_bits(double v);  /* rounds once, then encodes */
uint16_t act__bf16_bits(double v); /* rounds once, then encodes */
double act__f16_value(uint16_t bits);
double act__bf16_value(uint16_t bits);
/* Element i of a tensor's data as double. */
double act__load(act_dtype_t t, const void *data, int64_t i);
/* Stores v into element i, rounding once to the type. */
void act__store(act_dtype_t t, void *data, int64_t i, double v);

/* ---- backends ------------------------------------------------------------ */

typedef struct act__device act__device_t;
typedef struct act__backend act__backend_t;

/*
 * A dense call after act__dense_prepare (dense.c): y = act(x W + b), with
 * the shapes checked and the activation resolved (op ACT_OP_LINEAR when
 * there is none). Tensors are NULL when absent (bias, z).
 */
typedef struct act__dense {
  act_op_desc_t act;     /* the activation (a copy) */
  int transpose_w;       /* w is [N, K] */
  act_dense_gemm_t gemm; /* the caller's choice, AUTO resolved from env */
  int fuse;              /* ACTKIT_DENSE_FUSE: 0 auto, 1 always, -1 never */
  const act_tensor_t *x, *w, *bias, *y, *z;
  int64_t m, n, k;
} act__dense_t;

/* One device found by a backend. */
struct act__device {
  act_device_info_t info;
  const act__backend_t *backend;
  void *handle; /* the backend's own device handle */
};

/* Events are generic: a status, a done flag, and an optional backend
 * payload that knows how to wait. */
struct act_event {
  act_queue_t *queue;
  const act__backend_t *backend;
  void *handle;       /* backend event, or NULL when already complete */
  act_status_t status; /* result once complete */
};

/*
 * The backend interface. Every entry must be set unless marked optional.
 * Locking: entries taking a context may be called from several threads at
 * once and must lock what they share; entries taking a queue are called by
 * one thread at a time per queue.
 */
struct act__backend {
  const char *name;
  /* Appends the backend's devices with act__device_add(). No driver or no
   * loader is not an error: add nothing, return ACT_OK. Called once. */
  act_status_t (*enumerate)(void);
  /* Creates the backend state of a context on dev. */
  act_status_t (*context_create)(const act__device_t *dev, void **state);
  void (*context_destroy)(void *state);
  /* ACT_OK if the device can run this prepared call, else ACT_UNSUPPORTED
   * with a message naming what is missing. */
  act_status_t (*supports)(void *state, const act__call_t *call);
  act_status_t (*buffer_create)(void *state, size_t bytes, void **buf);
  void (*buffer_destroy)(void *state, void *buf);
  /* A host pointer to the buffer's memory, or NULL (optional entry: only
   * for backends whose buffers live in host memory). */
  void *(*buffer_host_ptr)(void *buf);
  act_status_t (*queue_create)(void *state, void **q);
  void (*queue_destroy)(void *q);
  /* Asynchronous copies and ops; *ev receives a backend event or NULL when
   * the work has already completed. */
  act_status_t (*write)(void *q, void *buf, size_t off, size_t bytes,
                        const void *src, void **ev);
  act_status_t (*read)(void *q, void *buf, size_t off, size_t bytes,
                       void *dst, void **ev);
  act_status_t (*forward)(void *q, const act__call_t *call, void **ev);
  /* Backward calls (call->backward = 1). Optional: NULL means ACT_UNSUPPORTED
   * for every backward call on this backend. */
  act_status_t (*backward)(void *q, const act__call_t *call, void **ev);
  /* A fused dense layer (act_dense; a prepared act__dense_t). Optional:
   * NULL means ACT_UNSUPPORTED. Nothing may be enqueued when it fails. */
  act_status_t (*dense)(void *q, const struct act__dense *call, void **ev);
  act_status_t (*wait_event)(void *q, void *ev);
  act_status_t (*flush)(void *q);
  act_status_t (*finish)(void *q);
  act_status_t (*event_wait)(void *ev);
  int (*event_done)(void *ev);
  void (*event_release)(void *ev);
  /* Optional: program statistics of a context. */
  void (*stats)(void *state, act_context_stats_t *stats);
  /* Optional: the device binary of the program of (file, op, dtype), built
   * as a dispatch would build it (actc compile --target opencl); *bin is
   * malloc'd. */
  act_status_t (*program_binary)(void *state, const char *file, int op,
                                 int dtype, void **bin, size_t *size);
};

/* Registers a device (from a backend's enumerate). */
act_status_t act__device_add(const act__backend_t *backend,
                             const act_device_info_t *info, void *handle);

struct act_context {
  const act__device_t *device;
  void *state;
};

struct act_buffer {
  act_context_t *ctx;
  void *handle;
  size_t size;
};

struct act_queue {
  act_context_t *ctx;
  void *handle;
};

/* Calls take the caller's struct sizes (actkit.h, "ABI"): these make the
 * library's own layout of them, in tmp when they differ (runtime.c). */
#define ACT__ARGS_CAP 32
act_status_t act__args_in(const char *who, const act_arg_t **args,
                          size_t nargs, size_t arg_size, act_arg_t *tmp);
act_status_t act__tensor_in(const char *who, const act_tensor_t **t,
                            size_t tensor_size, act_tensor_t *tmp);
/* In a public entry: `args` becomes the library's layout, or it returns. */
#define ACT__ARGS_IN(who, args, nargs, arg_size)                              \
  act_arg_t act__args_tmp_[ACT__ARGS_CAP];                                    \
  do {                                                                        \
    act_status_t act__st_ =                                                   \
        act__args_in(who, &(args), (nargs), (arg_size), act__args_tmp_);      \
    if (act__st_)                                                             \
      return act__st_;                                                        \
  } while (0)

/* Wraps a backend event (NULL: complete) for the caller, or releases it
 * when out is NULL (runtime.c). */
act_status_t act__event_out(act_queue_t *q, void *handle, act_event_t **out);

/* Interop (include/actkit_opencl.h, actkit_vulkan.h): the registered
 * device of backend be whose handle matches key, and actkit objects
 * around backend state the backend made from the application's handles
 * (runtime.c). */
const act__device_t *act__device_match(const act__backend_t *be,
                                       bool (*match)(void *handle,
                                                     const void *key),
                                       const void *key);
act_status_t act__context_wrap(const act__device_t *dev, void *state,
                               act_context_t **out);
act_status_t act__queue_wrap(act_context_t *ctx, void *handle,
                             act_queue_t **out);
act_status_t act__buffer_wrap(act_context_t *ctx, void *handle, size_t size,
                              act_buffer_t **out);

/* The backends compiled into this build, NULL-terminated (backends.c).
 * Called only under the registry's one-time initialisation. */
const act__backend_t *const *act__backend_table(void);

/* ---- the reference (cpu/) ------------------------------------------------- */

/* Runs a prepared host call in double precision (forward or backward,
 * after call->backward). */
act_status_t act__reference_run(const act__call_t *call);
/* Runs a prepared dense call over host pointers (tensor.data). */
act_status_t act__reference_dense(const act__dense_t *call);


/* ---- device plans (plan.c, plan_axis.c) ----------------------------------- */

/*
 * What a device backend runs for a call: a short list of kernel
 * dispatches, each naming its kernel file, kernel, build defines, buffer
 * arguments, work-group memory and scalars in the order of the kernel's
 * ARGS X-macro (kernels/opencl/README.md). Backend-neutral: the OpenCL and
 * Vulkan backends both execute plans, so each op's launch logic is written
 * once.
 */
#define ACT__MAX_DISPATCH 4
#define ACT__MAX_BUFS 6
#define ACT__MAX_SCALARS 20

typedef struct act__dispatch {
  const char *file;   /* "eltwise.cl" */
  const char *kernel; /* "act_eltwise" */
  int op;             /* -D ACT_OP (an act_op_t) */
  int dtype;          /* -D ACT_DTYPE: 0 f32, 1 f16, 2 bf16 */
  int nbuf;
  act_buffer_t *buf[ACT__MAX_BUFS];
  int nlocal;
  uint32_t local_bytes[2];
  int nscalar;
  struct {
    int is_float;
    union {
      uint32_t u;
      float f;
    } v;
  } scalar[ACT__MAX_SCALARS];
  uint32_t global[3]; /* work-items per dimension (a multiple of local) */
  uint32_t local[3];  /* work-group size; 0 in local[0]: the driver picks */
  int dims;
  /* Splitting, for backends that bind buffer ranges of limited size
   * (Vulkan's maxStorageBufferRange): split = 1 says that the dispatch
   * treats elements [0, scalar[split_n]) independently, so that it may run
   * as several dispatches over consecutive pieces, each starting at a
   * multiple of split_quantum elements; split_off[k] is 1 + the index of
   * the scalar holding buffer k's element offset (0: buffer k is read
   * whole, at the offsets the kernel computes). Launch sizes are then
   * recomputed per piece (1-D, or 2-D as plan.c makes them). 0: not
   * splittable. */
  int split;
  int split_n;
  /* Elements per work-item of a splittable dispatch (0 or 1: one); a
   * piece of m elements then launches ceil(m / split_per) work-items. */
  uint32_t split_per;
  int split_off[ACT__MAX_BUFS];
  uint32_t split_quantum;
} act__dispatch_t;

typedef struct act__plan {
  int n;
  act__dispatch_t d[ACT__MAX_DISPATCH];
} act__plan_t;

/* Device limits a plan must respect. */
typedef struct act__limits {
  uint32_t max_group_size;     /* largest work-group */
  uint32_t max_groups[3];      /* largest dispatch, in work-groups */
  /* Elements each work-item of act_eltwise handles: ACT_ELTWISE_PER of
   * the backend's prelude (0 means 1). */
  uint32_t eltwise_per;
  /* 1: a dense layer's f32 activation runs as a separate act_eltwise pass
   * even where gemm.cl has a fused variant (CPU OpenCL drivers: PoCL
   * vectorizes act_eltwise but not the GEMM kernel's epilogue, bench/
   * DENSE.md); 0: fused. ACTKIT_DENSE_FUSE=always|never overrides. */
  int dense_unfused;
  /* Non-zero: f32 softmax-family rows of contiguous elements, up to this
   * length, run as act_softmax_row, one work-item per row with
   * unit-stride loops (CPU drivers: PoCL vectorizes those loops but runs
   * act_softmax4's barrier regions mostly scalar; lavapipe runs them 3-4x
   * faster than a work-group per row, but only for rows below ~32K: its
   * shader loops stop early beyond, so 16384 there; bench/RESULTS.md).
   * 0: never. ACTKIT_AXIS_LAUNCH=item|group overrides. */
  uint32_t axis_row_loops;
  /* Non-zero: element-wise ops whose length and offsets are multiples of
   * 4 run as act_eltwise4, four elements per work-item as one vector (f32:
   * 16 bytes; f16, bf16: two words) (Vulkan, where storage buffers bind
   * at offsets of 16 bytes or a multiple: a split dispatch keeps its
   * pieces vector-aligned). */
  int eltwise_vec4;
} act__limits_t;

/* The end of a synchronous host call (act_forward_host, act_dense_host,
 * ...) after its reads were enqueued with status st: finishes q, keeping
 * the first failure's status and message, destroys q and the nbufs
 * buffers (NULL ones skipped), and returns that status. */
act_status_t act__host_finish(act_queue_t *q, act_status_t st,
                              act_buffer_t **bufs, size_t nbufs);

/* Builds the plan for a prepared device call; ACT_UNSUPPORTED with a
 * message for what the kernels cannot do. */
act_status_t act__plan_build(const act__call_t *call,
                             const act__limits_t *limits, act__plan_t *plan);
/* Axis ops (plan_axis.c). */
act_status_t act__plan_axis(const act__call_t *call,
                            const act__limits_t *limits, act__plan_t *plan);
/* Backward calls (plan_bwd.c): act__plan_build hands them here. */
act_status_t act__plan_backward(const act__call_t *call,
                                const act__limits_t *limits,
                                act__plan_t *plan);

/* A dense layer with our GEMM kernel (plan_dense.c); ACT_UNSUPPORTED with a
 * message for what it cannot do. */
act_status_t act__plan_dense(const act__dense_t *c,
                             const act__limits_t *limits, act__plan_t *plan);
/* The bias + activation pass after a vendor GEMM wrote x W into y (or z):
 * y = act(y + b), z = y + b (plan_dense.c). */
act_status_t act__plan_dense_epilogue(const act__dense_t *c,
                                      const act__limits_t *limits,
                                      act__plan_t *plan);
/* The parameters of an element-wise op as its kernels take them (a few
 * are transformed in double first: see plan.c). */
void act__kernel_params(const act_op_desc_t *desc,
                        double q[ACT_MAX_PARAMS]);
/* The op an element-wise kernel is built for (forward or backward) and
 * its parameters: act__kernel_params, except that an op may run as a
 * simpler one that gives the same values (relu at its defaults). */
act_op_t act__kernel_op(const act_op_desc_t *desc, double q[ACT_MAX_PARAMS]);
/* The element-wise forward kernel for a kernel op and its parameters q
 * (act_eltwise, or act_eltwise4 for whole vectors of four; the _alt
 * kernels for gelu's tanh form and softplus with beta != 1). */
const char *act__eltwise_kernel(act_op_t op, const double q[ACT_MAX_PARAMS],
                                bool vec4);

/* Launch helpers shared by the planners (plan.c, plan_axis.c). */
void act__launch_items(act__dispatch_t *d, uint64_t items, uint32_t group,
                       const act__limits_t *lim);
uint32_t act__axis_group(const act__limits_t *lim);
void act__launch(act__dispatch_t *d, uint64_t groups, uint32_t group,
                 const act__limits_t *lim);
bool act__axis_per_group(uint64_t rows, uint64_t len, uint64_t inner);
/* The CPU drivers' row kernels (act_*_row in axis.cl: one work-item per
 * row, unit-stride loops): for contiguous f32 rows (inner = 1) up to
 * limits.axis_row_loops long, unless ACTKIT_AXIS_LAUNCH forces a shape. */
bool act__axis_row_kernel(const act__limits_t *lim, uint64_t len,
                          uint64_t inner, act_dtype_t dtype);
void act__launch_rows(act__dispatch_t *d, uint64_t rows, bool per_group,
                      uint32_t e0, uint32_t e1, const act__limits_t *lim);
void act__bind(act__dispatch_t *d, const act_tensor_t *t,
               act_buffer_t *other);
act_status_t act__offset(const char *op, const char *name,
                         const act_tensor_t *t, uint32_t *off);
act_status_t act__bcast_view(const act__call_t *c, const act_tensor_t *t,
                             const char *name, uint32_t s[3]);

/* Dispatch building helpers. */
void act__disp_buf(act__dispatch_t *d, const act_tensor_t *t);
void act__disp_u32(act__dispatch_t *d, uint32_t v);
void act__disp_f32(act__dispatch_t *d, float v);
/* A double parameter as (hi, lo) floats. */
void act__disp_param(act__dispatch_t *d, double v);
/* Element offset of a tensor (its byte offset / element size), or an error
 * when it does not fit in 32 bits. */
act_status_t act__elem_offset(const act_tensor_t *t, uint32_t *off);
int act__dtype_code(act_dtype_t t);

/* ---- program variants (variants.c) ---------------------------------------- */

/* One program a plan can dispatch (see variants.c). */
typedef struct act__variant {
  const char *file, *kernel;
  int op, dtype; /* ACT_DTYPE; 4 f16 and 5 bf16 in native 16-bit storage */
} act__variant_t;

/* The variants of kernel file `file` (NULL: of every file): writes up to
 * cap of them to out and returns how many there are. */
size_t act__variants(const char *file, act__variant_t *out, size_t cap);
/* The module name of a variant, "<file stem>.<kernel>.<op>.<dtype>.spv"
 * (dtype f32, f16, bf16, i32, f16s or bf16s); false if it does not fit or
 * is invalid. */
bool act__variant_name(const char *file, const char *kernel, int op,
                       int dtype, char *buf, size_t n);

/* ---- driver diagnostics --------------------------------------------------- */

/* Messages a driver layer reported (the Vulkan validation layers, when
 * ACTKIT_VK_VALIDATION=1): counted here for the tests, which fail on any. */
void act__diag_count_add(void);
uint64_t act__diag_count(void);

/* ---- the on-disk program cache (cache.c) ---------------------------------- */

/* A 128-bit key over parts (strings; NULL is ""), with the format version. */
void act__cache_key(const char *const *parts, size_t nparts, uint64_t key[2]);
/* The cache directory; false when disabled (ACTKIT_CACHE_DIR=off) or when
 * no location is known. */
bool act__cache_dir(char *buf, size_t n);
/* A cached payload (malloc'd) for the key, or false on any miss. */
bool act__cache_load(const char *backend, const uint64_t key[2], void **data,
                     size_t *size);
/* Stores a payload atomically; failures are silent (a later rebuild). */
void act__cache_store(const char *backend, const uint64_t key[2],
                      const void *data, size_t size);

/* ---- kernel sources (kernels.c) ------------------------------------------ */

/* The text of a kernel file: embedded at build time, or read from
 * $ACTKIT_KERNEL_DIR when set (development). *text is malloc'd. */
act_status_t act__kernel_source(const char *file, char **text, size_t *size);
/* The full source of a program: defines, prelude, act_math.cl and the
 * file, each after a #line directive. *src is malloc'd. */
act_status_t act__program_source(const char *prelude, const char *file,
                                 int op, int dtype, char **src);

#endif /* ACT_INTERNAL_H */
