/*
 * backend.c - the OpenCL backend.
 *
 * The ICD loader (libOpenCL.so.1) is opened at run time with dlopen, so a
 * machine without OpenCL runs actkit fine: this backend then lists no
 * devices. Programs are built from kernels/opencl (embedded) once per
 * (file, op, dtype) and context, and kept in memory; kernels are created
 * per dispatch, because cl_kernel argument state must not be shared
 * between threads. Queues are in-order; every enqueue is asynchronous and
 * returns the cl_event of its last command. Interop (actkit_opencl.h,
 * at the end): contexts, queues and buffers around the application's
 * handles, retained and released, never destroyed; on an out-of-order
 * queue each command of ours follows a barrier.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include "../core/internal.h"
#include "actkit_opencl.h"
#include "clblast.h"

#include <CL/cl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- the entry points we use, loaded from the ICD loader ------------------- */

#define ACT_CL_FUNCS(X)                                                       \
  X(clGetPlatformIDs)                                                         \
  X(clGetPlatformInfo)                                                        \
  X(clGetDeviceIDs)                                                           \
  X(clGetDeviceInfo)                                                          \
  X(clCreateContext)                                                          \
  X(clReleaseContext)                                                         \
  X(clCreateCommandQueue)                                                     \
  X(clReleaseCommandQueue)                                                    \
  X(clCreateBuffer)                                                           \
  X(clReleaseMemObject)                                                       \
  X(clEnqueueWriteBuffer)                                                     \
  X(clEnqueueReadBuffer)                                                      \
  X(clCreateProgramWithSource)                                                \
  X(clBuildProgram)                                                           \
  X(clGetProgramBuildInfo)                                                    \
  X(clGetProgramInfo)                                                         \
  X(clCreateProgramWithBinary)                                                \
  X(clReleaseProgram)                                                         \
  X(clCreateKernel)                                                           \
  X(clReleaseKernel)                                                          \
  X(clSetKernelArg)                                                           \
  X(clGetKernelWorkGroupInfo)                                                 \
  X(clEnqueueNDRangeKernel)                                                   \
  X(clEnqueueBarrierWithWaitList)                                             \
  X(clFlush)                                                                  \
  X(clFinish)                                                                 \
  X(clWaitForEvents)                                                          \
  X(clGetEventInfo)                                                           \
  X(clReleaseEvent)                                                           \
  X(clRetainContext)                                                          \
  X(clRetainCommandQueue)                                                     \
  X(clRetainMemObject)                                                        \
  X(clRetainEvent)                                                            \
  X(clGetContextInfo)                                                         \
  X(clGetCommandQueueInfo)                                                    \
  X(clGetMemObjectInfo)                                                       \
  X(clCreateSubBuffer)                                                        \
  X(clCreateUserEvent)                                                        \
  X(clSetUserEventStatus)

static struct {
#define ACT_CL_PTR_(f) __typeof__(&f) f;
  ACT_CL_FUNCS(ACT_CL_PTR_)
#undef ACT_CL_PTR_
} cl;

static const char *cl_err(cl_int e) {
  switch (e) {
#define E_(x)                                                                 \
  case x:                                                                     \
    return #x;
    E_(CL_DEVICE_NOT_FOUND) E_(CL_DEVICE_NOT_AVAILABLE)
    E_(CL_COMPILER_NOT_AVAILABLE) E_(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    E_(CL_OUT_OF_RESOURCES) E_(CL_OUT_OF_HOST_MEMORY)
    E_(CL_BUILD_PROGRAM_FAILURE) E_(CL_INVALID_VALUE)
    E_(CL_INVALID_DEVICE) E_(CL_INVALID_CONTEXT)
    E_(CL_INVALID_COMMAND_QUEUE) E_(CL_INVALID_MEM_OBJECT)
    E_(CL_INVALID_BUILD_OPTIONS) E_(CL_INVALID_PROGRAM)
    E_(CL_INVALID_KERNEL_NAME) E_(CL_INVALID_KERNEL)
    E_(CL_INVALID_ARG_INDEX) E_(CL_INVALID_ARG_VALUE)
    E_(CL_INVALID_ARG_SIZE) E_(CL_INVALID_KERNEL_ARGS)
    E_(CL_INVALID_WORK_DIMENSION) E_(CL_INVALID_WORK_GROUP_SIZE)
    E_(CL_INVALID_WORK_ITEM_SIZE) E_(CL_INVALID_GLOBAL_OFFSET)
    E_(CL_INVALID_EVENT_WAIT_LIST) E_(CL_INVALID_EVENT)
    E_(CL_INVALID_BUFFER_SIZE) E_(CL_INVALID_GLOBAL_WORK_SIZE)
    E_(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
#undef E_
  }
  return "an OpenCL error";
}

static act_status_t cl_fail(cl_int e, const char *what) {
  act_status_t st = e == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                            e == CL_OUT_OF_HOST_MEMORY ||
                            e == CL_OUT_OF_RESOURCES
                        ? ACT_OUT_OF_MEMORY
                        : ACT_BACKEND;
  return act__fail(st, "opencl: %s failed: %s (%d)", what, cl_err(e), (int)e);
}

static bool cl_load(void) {
  static const char *const names[] = {"libOpenCL.so.1", "libOpenCL.so"};
  void *h = NULL;
  for (size_t i = 0; i < 2 && !h; i++)
    h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return false;
#define ACT_CL_LOAD_(f)                                                       \
  *(void **)&cl.f = dlsym(h, #f);                                             \
  if (!cl.f) {                                                                \
    dlclose(h);                                                               \
    return false;                                                             \
  }
  ACT_CL_FUNCS(ACT_CL_LOAD_)
#undef ACT_CL_LOAD_
  return true; /* kept open for the life of the process */
}

/* ---- devices ------------------------------------------------------------- */

typedef struct {
  cl_platform_id platform;
  cl_device_id device;
  act__limits_t limits;
} cl_dev_t;

static const act__backend_t act__opencl_backend;

static void dev_str(cl_device_id d, cl_device_info what, char *buf,
                    size_t n) {
  buf[0] = '\0';
  if (cl.clGetDeviceInfo(d, what, n, buf, NULL) != CL_SUCCESS)
    buf[0] = '\0';
  buf[n - 1] = '\0';
}

static act_status_t ocl_enumerate(void) {
  if (!cl_load())
    return ACT_OK;
  cl_uint np = 0;
  if (cl.clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0)
    return ACT_OK;
  cl_platform_id plats[16];
  if (np > 16)
    np = 16;
  if (cl.clGetPlatformIDs(np, plats, NULL) != CL_SUCCESS)
    return ACT_OK;
  int index = 0;
  for (cl_uint p = 0; p < np; p++) {
    cl_uint nd = 0;
    cl_device_id devs[16];
    if (cl.clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) !=
        CL_SUCCESS)
      continue;
    if (nd > 16)
      nd = 16;
    for (cl_uint k = 0; k < nd; k++) {
      cl_dev_t *h = calloc(1, sizeof *h);
      if (!h)
        return ACT_OK;
      h->platform = plats[p];
      h->device = devs[k];
      act_device_info_t info;
      memset(&info, 0, sizeof info);
      snprintf(info.name, sizeof info.name, "opencl:%d", index++);
      char dn[150], pn[100], ext[4096];
      dev_str(devs[k], CL_DEVICE_NAME, dn, sizeof dn);
      pn[0] = '\0';
      cl.clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pn, pn, NULL);
      pn[sizeof pn - 1] = '\0';
      snprintf(info.description, sizeof info.description, "%s (%s)", dn, pn);
      dev_str(devs[k], CL_DRIVER_VERSION, info.driver_version,
              sizeof info.driver_version);
      dev_str(devs[k], CL_DEVICE_EXTENSIONS, ext, sizeof ext);
      cl_device_type type = 0;
      cl_bool unified = CL_FALSE;
      cl.clGetDeviceInfo(devs[k], CL_DEVICE_TYPE, sizeof type, &type, NULL);
      cl.clGetDeviceInfo(devs[k], CL_DEVICE_HOST_UNIFIED_MEMORY,
                         sizeof unified, &unified, NULL);
      info.type = (type & CL_DEVICE_TYPE_GPU)
                      ? (unified ? ACT_DEVICE_INTEGRATED_GPU
                                 : ACT_DEVICE_DISCRETE_GPU)
                  : (type & CL_DEVICE_TYPE_CPU) ? ACT_DEVICE_CPU_DRIVER
                                                : ACT_DEVICE_ACCELERATOR;
      info.backend = ACT_BACKEND_OPENCL;
      info.fp16 = strstr(ext, "cl_khr_fp16") != NULL;
      info.bf16 = 0;
      cl_ulong mem = 0, alloc = 0;
      cl.clGetDeviceInfo(devs[k], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem,
                         NULL);
      cl.clGetDeviceInfo(devs[k], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc,
                         &alloc, NULL);
      info.memory_bytes = mem;
      info.max_alloc_bytes = alloc;
      size_t wg = 256;
      cl.clGetDeviceInfo(devs[k], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg,
                         &wg, NULL);
      h->limits.max_group_size = wg > 1024 ? 1024 : (uint32_t)wg;
      h->limits.max_groups[0] = h->limits.max_groups[1] =
          h->limits.max_groups[2] = UINT32_MAX;
      /* CPU drivers vectorize act_eltwise across work-items but not our
       * GEMM kernel's epilogue: the activation is faster as its own pass
       * there (bench/DENSE.md). */
      h->limits.dense_unfused = info.type == ACT_DEVICE_CPU_DRIVER;
      /* and the same for softmax's barrier regions (act_softmax_row) */
      h->limits.axis_row_loops =
          info.type == ACT_DEVICE_CPU_DRIVER ? UINT32_MAX : 0;
      act__device_add(&act__opencl_backend, &info, h);
    }
  }
  return ACT_OK;
}

/* ---- contexts and the program cache -------------------------------------- */

typedef struct cl_prog {
  struct cl_prog *next;
  const char *file; /* static strings from plans */
  int op, dtype;
  cl_program program;
} cl_prog_t;

typedef struct {
  const act__device_t *dev;
  cl_dev_t *h;
  cl_context context;
  pthread_mutex_t lock; /* guards progs and the counters */
  cl_prog_t *progs;
  uint64_t built, loaded;
} cl_state_t;

/* The state of a context on dev in cl_context context (whose reference
 * the state then owns). */
static act_status_t ocl_state_make(const act__device_t *dev,
                                   cl_context context, void **out) {
  cl_state_t *s = calloc(1, sizeof *s);
  if (!s)
    return act__fail(ACT_OUT_OF_MEMORY, "opencl: out of memory");
  s->dev = dev;
  s->h = dev->handle;
  s->context = context;
  pthread_mutex_init(&s->lock, NULL);
  *out = s;
  return ACT_OK;
}

static act_status_t ocl_context_create(const act__device_t *dev, void **out) {
  cl_dev_t *h = dev->handle;
  cl_int e;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                   (cl_context_properties)h->platform, 0};
  cl_context c = cl.clCreateContext(props, 1, &h->device, NULL, NULL, &e);
  if (!c)
    return cl_fail(e, "clCreateContext");
  act_status_t st = ocl_state_make(dev, c, out);
  if (st)
    cl.clReleaseContext(c);
  return st;
}

static void ocl_context_destroy(void *st) {
  cl_state_t *s = st;
  for (cl_prog_t *p = s->progs, *n; p; p = n) {
    n = p->next;
    cl.clReleaseProgram(p->program);
    free(p);
  }
  pthread_mutex_destroy(&s->lock);
  cl.clReleaseContext(s->context);
  free(s);
}

#define ACT_CL_OPTIONS "-cl-std=CL1.2"

/* A program from the on-disk cache, or NULL on a miss (any failure). */
static cl_program load_cached(cl_state_t *s, const uint64_t key[2]) {
  void *bin;
  size_t size;
  if (!act__cache_load("opencl", key, &bin, &size))
    return NULL;
  const unsigned char *bins[1] = {bin};
  cl_int e, bs;
  cl_program prog = cl.clCreateProgramWithBinary(s->context, 1, &s->h->device,
                                                 &size, bins, &bs, &e);
  free(bin);
  if (!prog)
    return NULL;
  if (bs != CL_SUCCESS || cl.clBuildProgram(prog, 1, &s->h->device,
                                            ACT_CL_OPTIONS, NULL,
                                            NULL) != CL_SUCCESS) {
    cl.clReleaseProgram(prog); /* a foreign or damaged binary: rebuild */
    return NULL;
  }
  return prog;
}

/* Saves a built program's binary in the on-disk cache. */
static void store_cached(cl_state_t *s, cl_program prog,
                         const uint64_t key[2]) {
  size_t size = 0;
  if (cl.clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size,
                          NULL) != CL_SUCCESS || size == 0)
    return;
  unsigned char *bin = malloc(size);
  unsigned char *bins[1] = {bin};
  if (bin && cl.clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins,
                                 NULL) == CL_SUCCESS)
    act__cache_store("opencl", key, bin, size);
  free(bin);
  (void)s;
}

/* Builds a dispatch's program: from the disk cache when it holds it, else
 * from source (then stored there). Build errors carry the driver's log,
 * whose locations are the kernel files' own (the #line directives). */
static act_status_t build_program(cl_state_t *s, const act__dispatch_t *d,
                                  const char *src, cl_program *out) {
  const act_device_info_t *info = &s->dev->info;
  const char *parts[] = {"opencl", info->description, info->driver_version,
                         act_version(), d->file, ACT_CL_OPTIONS, src};
  uint64_t key[2];
  act__cache_key(parts, sizeof parts / sizeof *parts, key);
  cl_program prog = load_cached(s, key);
  if (prog) {
    s->loaded++;
    *out = prog;
    return ACT_OK;
  }
  cl_int e;
  const char *srcs[1] = {src};
  prog = cl.clCreateProgramWithSource(s->context, 1, srcs, NULL, &e);
  if (!prog)
    return cl_fail(e, "clCreateProgramWithSource");
  e = cl.clBuildProgram(prog, 1, &s->h->device, ACT_CL_OPTIONS, NULL, NULL);
  if (e != CL_SUCCESS) {
    size_t n = 0;
    cl.clGetProgramBuildInfo(prog, s->h->device, CL_PROGRAM_BUILD_LOG, 0,
                             NULL, &n);
    char *log = malloc(n + 1);
    if (log) {
      if (cl.clGetProgramBuildInfo(prog, s->h->device, CL_PROGRAM_BUILD_LOG,
                                   n, log, NULL) != CL_SUCCESS)
        n = 0;
      log[n] = '\0';
    }
    act_status_t st = act__fail(ACT_BUILD, "opencl: building %s (op %s, "
                                "dtype %d) for %s failed: %s\n%s", d->file,
                                act_op_info(d->op)->name, d->dtype,
                                info->name, cl_err(e), log ? log : "");
    free(log);
    cl.clReleaseProgram(prog);
    return st;
  }
  s->built++;
  store_cached(s, prog, key);
  *out = prog;
  return ACT_OK;
}

static void ocl_stats(void *st, act_context_stats_t *stats) {
  cl_state_t *s = st;
  pthread_mutex_lock(&s->lock);
  stats->programs_built = s->built;
  stats->programs_loaded = s->loaded;
  pthread_mutex_unlock(&s->lock);
}

/* Builds (or finds) the program of a dispatch. The lock is held during a
 * build so that two threads never build the same variant twice. */
static act_status_t get_program(cl_state_t *s, const act__dispatch_t *d,
                                cl_program *out) {
  pthread_mutex_lock(&s->lock);
  for (cl_prog_t *p = s->progs; p; p = p->next)
    if (p->op == d->op && p->dtype == d->dtype &&
        strcmp(p->file, d->file) == 0) {
      *out = p->program;
      pthread_mutex_unlock(&s->lock);
      return ACT_OK;
    }
  char *src = NULL;
  act_status_t st = act__program_source("act_prelude_opencl.cl", d->file,
                                        d->op, d->dtype, &src);
  cl_prog_t *p = NULL;
  if (st)
    goto out;
  cl_program prog = NULL;
  if ((st = build_program(s, d, src, &prog)))
    goto out;
  p = calloc(1, sizeof *p);
  if (!p) {
    cl.clReleaseProgram(prog);
    st = act__fail(ACT_OUT_OF_MEMORY, "opencl: out of memory");
    goto out;
  }
  p->file = d->file;
  p->op = d->op;
  p->dtype = d->dtype;
  p->program = prog;
  p->next = s->progs;
  s->progs = p;
  *out = prog;
out:
  pthread_mutex_unlock(&s->lock);
  free(src);
  return st;
}

static act_status_t ocl_program_binary(void *st, const char *file, int op,
                                       int dtype, void **bin, size_t *size) {
  cl_state_t *s = st;
  act__dispatch_t d;
  memset(&d, 0, sizeof d);
  d.file = file;
  d.op = op;
  d.dtype = dtype;
  cl_program prog;
  act_status_t r = get_program(s, &d, &prog);
  if (r)
    return r;
  size_t n = 0;
  cl_int e = cl.clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof n, &n,
                                 NULL);
  if (e != CL_SUCCESS)
    return cl_fail(e, "clGetProgramInfo");
  unsigned char *b = malloc(n ? n : 1);
  unsigned char *bins[1] = {b};
  if (!b)
    return act__fail(ACT_OUT_OF_MEMORY, "opencl: out of memory");
  e = cl.clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL);
  if (e != CL_SUCCESS) {
    free(b);
    return cl_fail(e, "clGetProgramInfo");
  }
  *bin = b;
  *size = n;
  return ACT_OK;
}

static act_status_t ocl_supports(void *st, const act__call_t *c) {
  cl_state_t *s = st;
  act__plan_t plan; /* planning checks what the kernels can do */
  return act__plan_build(c, &s->h->limits, &plan);
}

/* ---- buffers and queues -------------------------------------------------- */

static act_status_t ocl_buffer_create(void *st, size_t bytes, void **buf) {
  cl_state_t *s = st;
  cl_int e;
  cl_mem m = cl.clCreateBuffer(s->context, CL_MEM_READ_WRITE, bytes, NULL, &e);
  if (!m)
    return cl_fail(e, "clCreateBuffer");
  *buf = m;
  return ACT_OK;
}

static void ocl_buffer_destroy(void *st, void *buf) {
  (void)st;
  cl.clReleaseMemObject((cl_mem)buf);
}

typedef struct {
  cl_state_t *s;
  cl_command_queue q;
  bool ooo; /* out-of-order (an application's queue): a barrier first */
} cl_queue_t;

/* On an out-of-order queue, a barrier before each command of ours, so that
 * it runs after everything enqueued before it (ours included). */
static cl_int ooo_fence(cl_queue_t *q) {
  return q->ooo ? cl.clEnqueueBarrierWithWaitList(q->q, 0, NULL, NULL)
                : CL_SUCCESS;
}

static act_status_t ocl_queue_create(void *st, void **out) {
  cl_state_t *s = st;
  cl_queue_t *q = calloc(1, sizeof *q);
  if (!q)
    return act__fail(ACT_OUT_OF_MEMORY, "opencl: out of memory");
  cl_int e;
  q->s = s;
  q->q = cl.clCreateCommandQueue(s->context, s->h->device, 0, &e);
  if (!q->q) {
    free(q);
    return cl_fail(e, "clCreateCommandQueue");
  }
  *out = q;
  return ACT_OK;
}

static void ocl_queue_destroy(void *qq) {
  cl_queue_t *q = qq;
  cl.clReleaseCommandQueue(q->q);
  free(q);
}

static act_status_t ocl_write(void *qq, void *buf, size_t off, size_t bytes,
                              const void *src, void **ev) {
  cl_queue_t *q = qq;
  cl_event e = NULL;
  cl_int r = ooo_fence(q);
  if (r == CL_SUCCESS)
    r = cl.clEnqueueWriteBuffer(q->q, (cl_mem)buf, CL_FALSE, off, bytes, src,
                                0, NULL, &e);
  if (r != CL_SUCCESS)
    return cl_fail(r, "clEnqueueWriteBuffer");
  *ev = e;
  return ACT_OK;
}

static act_status_t ocl_read(void *qq, void *buf, size_t off, size_t bytes,
                             void *dst, void **ev) {
  cl_queue_t *q = qq;
  cl_event e = NULL;
  cl_int r = ooo_fence(q);
  if (r == CL_SUCCESS)
    r = cl.clEnqueueReadBuffer(q->q, (cl_mem)buf, CL_FALSE, off, bytes, dst,
                               0, NULL, &e);
  if (r != CL_SUCCESS)
    return cl_fail(r, "clEnqueueReadBuffer");
  *ev = e;
  return ACT_OK;
}

/* Enqueues one dispatch; *ev receives its event. */
static act_status_t run_dispatch(cl_queue_t *q, const act__dispatch_t *d,
                                 cl_event *ev) {
  cl_program prog;
  act_status_t st = get_program(q->s, d, &prog);
  if (st)
    return st;
  cl_int e;
  cl_kernel k = cl.clCreateKernel(prog, d->kernel, &e);
  if (!k)
    return cl_fail(e, "clCreateKernel");
  cl_uint a = 0;
  for (int i = 0; i < d->nbuf && e == CL_SUCCESS; i++) {
    cl_mem m = (cl_mem)d->buf[i]->handle;
    e = cl.clSetKernelArg(k, a++, sizeof m, &m);
  }
  for (int i = 0; i < d->nlocal && e == CL_SUCCESS; i++)
    e = cl.clSetKernelArg(k, a++, d->local_bytes[i], NULL);
  for (int i = 0; i < d->nscalar && e == CL_SUCCESS; i++)
    e = cl.clSetKernelArg(k, a++, 4, &d->scalar[i].v);
  if (e != CL_SUCCESS) {
    cl.clReleaseKernel(k);
    return cl_fail(e, "clSetKernelArg");
  }
  size_t global[3], local[3];
  for (int i = 0; i < 3; i++)
    global[i] = d->global[i], local[i] = d->local[i];
  size_t kwg = 0;
  cl.clGetKernelWorkGroupInfo(k, q->s->h->device, CL_KERNEL_WORK_GROUP_SIZE,
                              sizeof kwg, &kwg, NULL);
  size_t group = local[0] * local[1] * local[2];
  if (kwg && group > kwg) {
    if (d->nlocal || d->dims != 1) {
      cl.clReleaseKernel(k);
      return act__fail(ACT_UNSUPPORTED, "opencl: kernel %s needs work-groups "
                       "of %zu but %s allows %zu", d->kernel, group,
                       q->s->dev->info.name, kwg);
    }
    /* Element-wise kernels bound-check their linear index, so a smaller
     * group over at least as many work-items works. */
    local[0] = kwg;
    global[0] = (global[0] + kwg - 1) / kwg * kwg;
  }
  e = ooo_fence(q);
  if (e == CL_SUCCESS)
    e = cl.clEnqueueNDRangeKernel(q->q, k, (cl_uint)d->dims, NULL, global,
                                  local[0] ? local : NULL, 0, NULL, ev);
  cl.clReleaseKernel(k); /* the queue keeps it alive while it runs */
  if (e != CL_SUCCESS)
    return cl_fail(e, "clEnqueueNDRangeKernel");
  return ACT_OK;
}

/* A plan's dispatches in order; *ev the last one's event (NULL for an
 * empty plan: already complete). On an error, earlier dispatches of the
 * in-order queue are harmless. */
static act_status_t run_plan(cl_queue_t *q, const act__plan_t *plan,
                             void **ev) {
  cl_event last = NULL;
  for (int i = 0; i < plan->n; i++) {
    if (last)
      cl.clReleaseEvent(last);
    last = NULL;
    act_status_t st = run_dispatch(q, &plan->d[i], &last);
    if (st)
      return st;
  }
  *ev = last;
  return ACT_OK;
}

/* Forward and backward calls alike: the plan (act__plan_build hands
 * backward calls to act__plan_backward), its dispatches in order. */
static act_status_t ocl_run_call(void *qq, const act__call_t *c, void **ev) {
  cl_queue_t *q = qq;
  act__plan_t plan;
  act_status_t st = act__plan_build(c, &q->s->h->limits, &plan);
  if (st)
    return st;
  return run_plan(q, &plan, ev);
}

/* The dense layer: CLBlast's SGEMM then act_dense_epilogue (f32, where
 * CLBlast is there and not declined), else our act_gemm (plan_dense.c).
 * Every program is built before anything is enqueued, so a failure
 * enqueues nothing; the queue is in order, so the epilogue runs after the
 * GEMM without an explicit wait. */
static act_status_t ocl_dense(void *qq, const act__dense_t *c, void **ev) {
  cl_queue_t *q = qq;
  const char *why = NULL;
  bool f32 = c->x->dtype == ACT_F32;
  bool blast = false;
  if (c->gemm == ACT_DENSE_GEMM_CLBLAST) {
    if (!f32)
      return act__fail(ACT_UNSUPPORTED, "dense: CLBlast runs f32 only here "
                       "(its f16 GEMM accumulates in f16); %s goes through "
                       "our kernel (gemm = own or auto)",
                       act_dtype_name(c->x->dtype));
    if (!act__clblast_available(&why))
      return act__fail(ACT_UNSUPPORTED, "dense: CLBlast: %s", why);
    if (q->ooo)
      return act__fail(ACT_UNSUPPORTED, "dense: CLBlast needs an in-order "
                       "queue, and this one is out-of-order (gemm = own or "
                       "auto runs our kernel)");
    blast = true;
  } else if (c->gemm == ACT_DENSE_GEMM_AUTO) {
    /* (not on an out-of-order queue: CLBlast's commands take no barrier) */
    blast = f32 && !q->ooo && act__clblast_available(&why);
  }
  act__plan_t plan;
  act_status_t st = blast ? act__plan_dense_epilogue(c, &q->s->h->limits, &plan)
                          : act__plan_dense(c, &q->s->h->limits, &plan);
  /* A bare GEMM (no bias, activation or z) needs no epilogue. */
  if (!st && blast && c->act.op == ACT_OP_LINEAR && !c->bias && !c->z)
    plan.n = 0;
  for (int i = 0; !st && i < plan.n; i++) {
    cl_program prog;
    st = get_program(q->s, &plan.d[i], &prog);
  }
  if (st)
    return st;
  cl_event e = NULL;
  if (blast) {
    st = act__clblast_sgemm(q->q, c, &e);
    if (st && c->gemm == ACT_DENSE_GEMM_AUTO) {
      /* CLBlast failed on this device (it enqueues nothing then): the
       * automatic choice falls back to our kernel. */
      act__plan_t own;
      if ((st = act__plan_dense(c, &q->s->h->limits, &own)))
        return st;
      for (int i = 0; !st && i < own.n; i++) {
        cl_program prog;
        st = get_program(q->s, &own.d[i], &prog);
      }
      if (st)
        return st;
      plan = own;
      blast = false;
    } else if (st) {
      return st;
    }
  }
  if (blast) {
    if (plan.n == 0) {
      *ev = e;
      return ACT_OK;
    }
    if (e)
      cl.clReleaseEvent(e);
  }
  return run_plan(q, &plan, ev);
}

static act_status_t ocl_wait_event(void *qq, void *ev) {
  cl_queue_t *q = qq;
  cl_event e = ev;
  cl_int r = cl.clEnqueueBarrierWithWaitList(q->q, 1, &e, NULL);
  return r == CL_SUCCESS ? ACT_OK : cl_fail(r, "clEnqueueBarrierWithWaitList");
}

static act_status_t ocl_flush(void *qq) {
  cl_int r = cl.clFlush(((cl_queue_t *)qq)->q);
  return r == CL_SUCCESS ? ACT_OK : cl_fail(r, "clFlush");
}

static act_status_t ocl_finish(void *qq) {
  cl_int r = cl.clFinish(((cl_queue_t *)qq)->q);
  return r == CL_SUCCESS ? ACT_OK : cl_fail(r, "clFinish");
}

static act_status_t ocl_event_wait(void *ev) {
  cl_event e = ev;
  cl_int r = cl.clWaitForEvents(1, &e);
  if (r != CL_SUCCESS)
    return cl_fail(r, "clWaitForEvents");
  cl_int status = CL_COMPLETE;
  cl.clGetEventInfo(e, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status,
                    &status, NULL);
  return status < 0 ? cl_fail(status, "a command") : ACT_OK;
}

static int ocl_event_done(void *ev) {
  cl_int status = CL_COMPLETE;
  cl.clGetEventInfo((cl_event)ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
                    sizeof status, &status, NULL);
  return status == CL_COMPLETE || status < 0;
}

static void ocl_event_release(void *ev) { cl.clReleaseEvent((cl_event)ev); }

static const act__backend_t act__opencl_backend = {
    .name = "opencl",
    .enumerate = ocl_enumerate,
    .context_create = ocl_context_create,
    .context_destroy = ocl_context_destroy,
    .supports = ocl_supports,
    .buffer_create = ocl_buffer_create,
    .buffer_destroy = ocl_buffer_destroy,
    .buffer_host_ptr = NULL,
    .queue_create = ocl_queue_create,
    .queue_destroy = ocl_queue_destroy,
    .write = ocl_write,
    .read = ocl_read,
    .forward = ocl_run_call,
    .backward = ocl_run_call,
    .dense = ocl_dense,
    .wait_event = ocl_wait_event,
    .flush = ocl_flush,
    .finish = ocl_finish,
    .event_wait = ocl_event_wait,
    .event_done = ocl_event_done,
    .event_release = ocl_event_release,
    .stats = ocl_stats,
    .program_binary = ocl_program_binary,
};

const act__backend_t *act__opencl_backend_get(void) {
  return &act__opencl_backend;
}

/* ---- interop (include/actkit_opencl.h) ------------------------------------ */

static bool match_device(void *handle, const void *key) {
  return ((cl_dev_t *)handle)->device == *(const cl_device_id *)key;
}

/* ctx's OpenCL state, or NULL with a message (another backend). */
static cl_state_t *ocl_state_of(const act_context_t *ctx, const char *who) {
  if (ctx->device->backend != &act__opencl_backend) {
    act__fail(ACT_INVALID_ARGUMENT, "%s: context on %s is not an OpenCL "
              "context", who, ctx->device->info.name);
    return NULL;
  }
  return ctx->state;
}

act_status_t act_context_create_opencl(cl_context context,
                                       cl_device_id device,
                                       act_context_t **ctx) {
  act__clear_error();
  if (!context || !device || !ctx)
    return act__fail(ACT_NULL_POINTER, "act_context_create_opencl: NULL "
                     "argument");
  const act__device_t *dev =
      act__device_match(&act__opencl_backend, match_device, &device);
  if (!dev)
    return act__fail(ACT_NO_DEVICE, "act_context_create_opencl: the "
                     "cl_device_id is not one of the OpenCL devices actkit "
                     "found (sub-devices are not supported)");
  cl_uint nd = 0;
  cl_device_id ids[64];
  cl_int r = cl.clGetContextInfo(context, CL_CONTEXT_NUM_DEVICES, sizeof nd,
                                 &nd, NULL);
  if (r != CL_SUCCESS)
    return cl_fail(r, "act_context_create_opencl: clGetContextInfo (is it a "
                   "cl_context?)");
  if (nd > 64)
    nd = 64;
  r = cl.clGetContextInfo(context, CL_CONTEXT_DEVICES, nd * sizeof *ids, ids,
                          NULL);
  bool in = false;
  for (cl_uint i = 0; r == CL_SUCCESS && i < nd; i++)
    in = in || ids[i] == device;
  if (!in)
    return act__fail(ACT_INVALID_ARGUMENT, "act_context_create_opencl: "
                     "device %s is not a device of the cl_context",
                     dev->info.name);
  if ((r = cl.clRetainContext(context)) != CL_SUCCESS)
    return cl_fail(r, "clRetainContext");
  void *state = NULL;
  act_status_t st = ocl_state_make(dev, context, &state);
  if (st) {
    cl.clReleaseContext(context);
    return st;
  }
  if ((st = act__context_wrap(dev, state, ctx)))
    ocl_context_destroy(state);
  return st;
}

act_status_t act_queue_create_opencl(act_context_t *ctx,
                                     cl_command_queue queue,
                                     act_queue_t **q) {
  act__clear_error();
  if (!ctx || !queue || !q)
    return act__fail(ACT_NULL_POINTER, "act_queue_create_opencl: NULL "
                     "argument");
  cl_state_t *s = ocl_state_of(ctx, "act_queue_create_opencl");
  if (!s)
    return ACT_INVALID_ARGUMENT;
  cl_context qc = NULL;
  cl_device_id qd = NULL;
  cl_command_queue_properties props = 0;
  cl_int r = cl.clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qc,
                                      &qc, NULL);
  if (r == CL_SUCCESS)
    r = cl.clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof qd, &qd,
                                 NULL);
  if (r == CL_SUCCESS)
    r = cl.clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof props,
                                 &props, NULL);
  if (r != CL_SUCCESS)
    return cl_fail(r, "act_queue_create_opencl: clGetCommandQueueInfo (is "
                   "it a cl_command_queue?)");
  if (qc != s->context || qd != s->h->device)
    return act__fail(ACT_INVALID_ARGUMENT, "act_queue_create_opencl: the "
                     "command queue belongs to another %s than the context's",
                     qc != s->context ? "cl_context" : "device");
  cl_queue_t *cq = calloc(1, sizeof *cq);
  if (!cq)
    return act__fail(ACT_OUT_OF_MEMORY, "opencl: out of memory");
  if ((r = cl.clRetainCommandQueue(queue)) != CL_SUCCESS) {
    free(cq);
    return cl_fail(r, "clRetainCommandQueue");
  }
  cq->s = s;
  cq->q = queue;
  cq->ooo = (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0;
  act_status_t st = act__queue_wrap(ctx, cq, q);
  if (st)
    ocl_queue_destroy(cq);
  return st;
}

act_status_t act_buffer_create_opencl(act_context_t *ctx, cl_mem mem,
                                      size_t offset, size_t size,
                                      act_buffer_t **buf) {
  act__clear_error();
  if (!ctx || !mem || !buf)
    return act__fail(ACT_NULL_POINTER, "act_buffer_create_opencl: NULL "
                     "argument");
  cl_state_t *s = ocl_state_of(ctx, "act_buffer_create_opencl");
  if (!s)
    return ACT_INVALID_ARGUMENT;
  cl_context mc = NULL;
  size_t total = 0;
  cl_int r = cl.clGetMemObjectInfo(mem, CL_MEM_CONTEXT, sizeof mc, &mc, NULL);
  if (r == CL_SUCCESS)
    r = cl.clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof total, &total, NULL);
  if (r != CL_SUCCESS)
    return cl_fail(r, "act_buffer_create_opencl: clGetMemObjectInfo (is it "
                   "a cl_mem buffer?)");
  if (mc != s->context)
    return act__fail(ACT_INVALID_ARGUMENT, "act_buffer_create_opencl: the "
                     "cl_mem belongs to another cl_context than the "
                     "context's");
  if (offset > total || (size && size > total - offset) ||
      (!size && offset == total))
    return act__fail(ACT_BAD_SHAPE, "act_buffer_create_opencl: bytes [%zu, "
                     "%zu) are not inside the cl_mem's %zu bytes", offset,
                     size ? offset + size : total, total);
  if (!size)
    size = total - offset;
  cl_mem m = mem;
  if (offset) {
    cl_uint bits = 0;
    cl.clGetDeviceInfo(s->h->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN,
                       sizeof bits, &bits, NULL);
    size_t align = bits >= 8 ? bits / 8 : 1;
    if (offset % align)
      return act__fail(ACT_INVALID_ARGUMENT, "act_buffer_create_opencl: "
                       "offset %zu is not a multiple of %s's "
                       "CL_DEVICE_MEM_BASE_ADDR_ALIGN (%zu bytes)", offset,
                       ctx->device->info.name, align);
    cl_buffer_region region = {offset, size};
    m = cl.clCreateSubBuffer(mem, 0, CL_BUFFER_CREATE_TYPE_REGION, &region,
                             &r);
    if (!m)
      return cl_fail(r, "act_buffer_create_opencl: clCreateSubBuffer");
  } else if ((r = cl.clRetainMemObject(mem)) != CL_SUCCESS) {
    return cl_fail(r, "clRetainMemObject");
  }
  act_status_t st = act__buffer_wrap(ctx, m, size, buf);
  if (st)
    cl.clReleaseMemObject(m);
  return st;
}

act_status_t act_queue_wait_opencl_event(act_queue_t *q, cl_event event) {
  act__clear_error();
  if (!q || !event)
    return act__fail(ACT_NULL_POINTER, "act_queue_wait_opencl_event: NULL "
                     "argument");
  cl_state_t *s = ocl_state_of(q->ctx, "act_queue_wait_opencl_event");
  if (!s)
    return ACT_INVALID_ARGUMENT;
  cl_context ec = NULL;
  cl_int r = cl.clGetEventInfo(event, CL_EVENT_CONTEXT, sizeof ec, &ec, NULL);
  if (r != CL_SUCCESS)
    return cl_fail(r, "act_queue_wait_opencl_event: clGetEventInfo (is it a "
                   "cl_event?)");
  if (ec != s->context)
    return act__fail(ACT_INVALID_ARGUMENT, "act_queue_wait_opencl_event: "
                     "the event belongs to another cl_context than the "
                     "queue's");
  return ocl_wait_event(q->handle, event);
}

act_status_t act_event_get_opencl(act_event_t *ev, cl_event *event) {
  act__clear_error();
  if (!ev || !event)
    return act__fail(ACT_NULL_POINTER, "act_event_get_opencl: NULL "
                     "argument");
  if (ev->backend != &act__opencl_backend)
    return act__fail(ACT_INVALID_ARGUMENT, "act_event_get_opencl: not an "
                     "event of an OpenCL queue");
  cl_int r;
  if (ev->handle) {
    if ((r = cl.clRetainEvent((cl_event)ev->handle)) != CL_SUCCESS)
      return cl_fail(r, "clRetainEvent");
    *event = ev->handle;
    return ACT_OK;
  }
  /* complete when it was made: a user event set complete */
  cl_state_t *s = ev->queue->ctx->state;
  cl_event u = cl.clCreateUserEvent(s->context, &r);
  if (!u)
    return cl_fail(r, "clCreateUserEvent");
  if ((r = cl.clSetUserEventStatus(u, CL_COMPLETE)) != CL_SUCCESS) {
    cl.clReleaseEvent(u);
    return cl_fail(r, "clSetUserEventStatus");
  }
  *event = u;
  return ACT_OK;
}

act_status_t act_context_get_opencl(const act_context_t *ctx,
                                    cl_context *context,
                                    cl_device_id *device) {
  act__clear_error();
  if (!ctx)
    return act__fail(ACT_NULL_POINTER, "act_context_get_opencl: NULL "
                     "context");
  cl_state_t *s = ocl_state_of(ctx, "act_context_get_opencl");
  if (!s)
    return ACT_INVALID_ARGUMENT;
  if (context)
    *context = s->context;
  if (device)
    *device = s->h->device;
  return ACT_OK;
}

act_status_t act_queue_get_opencl(const act_queue_t *q,
                                  cl_command_queue *queue) {
  act__clear_error();
  if (!q || !queue)
    return act__fail(ACT_NULL_POINTER, "act_queue_get_opencl: NULL "
                     "argument");
  if (!ocl_state_of(q->ctx, "act_queue_get_opencl"))
    return ACT_INVALID_ARGUMENT;
  *queue = ((cl_queue_t *)q->handle)->q;
  return ACT_OK;
}

act_status_t act_buffer_get_opencl(const act_buffer_t *buf, cl_mem *mem) {
  act__clear_error();
  if (!buf || !mem)
    return act__fail(ACT_NULL_POINTER, "act_buffer_get_opencl: NULL "
                     "argument");
  if (!ocl_state_of(buf->ctx, "act_buffer_get_opencl"))
    return ACT_INVALID_ARGUMENT;
  *mem = buf->handle;
  return ACT_OK;
}
