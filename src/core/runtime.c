/*
 * runtime.c - the device registry, contexts, buffers, queues, events and
 * the calls that run ops. Everything here is backend-neutral: it validates,
 * then forwards to the device's backend through act__backend_t.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- version ------------------------------------------------------------- */

#define ACT_STR2_(x) #x
#define ACT_STR_(x) ACT_STR2_(x)

const char *act_version(void) {
  return ACT_STR_(ACT_VERSION_MAJOR) "." ACT_STR_(
      ACT_VERSION_MINOR) "." ACT_STR_(ACT_VERSION_PATCH);
}

unsigned act_version_hex(void) { return ACT_VERSION_HEX; }

/* ---- the device registry --------------------------------------------------- */

#define ACT__MAX_DEVICES 64

static act__device_t act__devices[ACT__MAX_DEVICES];
static size_t act__ndevices;
static pthread_once_t act__enum_once = PTHREAD_ONCE_INIT;

static int act__type_rank(act_device_type_t t) {
  switch (t) {
  case ACT_DEVICE_DISCRETE_GPU:
    return 4;
  case ACT_DEVICE_INTEGRATED_GPU:
    return 3;
  case ACT_DEVICE_ACCELERATOR:
    return 2;
  case ACT_DEVICE_CPU_DRIVER:
    return 1;
  default:
    return 0;
  }
}

act_status_t act__device_add(const act__backend_t *backend,
                             const act_device_info_t *info, void *handle) {
  if (act__ndevices == ACT__MAX_DEVICES)
    return ACT_OK; /* more devices than anyone has: ignore the rest */
  act__device_t *d = &act__devices[act__ndevices++];
  d->info = *info;
  d->info.rank = act__type_rank(info->type);
  d->backend = backend;
  d->handle = handle;
  return ACT_OK;
}

static void act__enumerate(void) {
  const act__backend_t *const *list = act__backend_table();
  for (size_t i = 0; list[i]; i++)
    list[i]->enumerate();
}

static void act__ensure_devices(void) {
  pthread_once(&act__enum_once, act__enumerate);
}

size_t act_device_count(void) {
  act__ensure_devices();
  return act__ndevices;
}

/* ---- structs of the caller's size (actkit.h, "ABI") ---------------------- */

/* Writes the library's struct `full` (n bytes, starting with its size_t
 * size field) into the caller's `out` of `size` bytes: the part both
 * layouts have, zeros beyond it, and in out's size field the bytes
 * written. */
static act_status_t act__out_struct(const char *who, void *out, size_t size,
                                    void *full, size_t n) {
  if (size < sizeof(size_t))
    return act__fail(ACT_INVALID_ARGUMENT, "%s: struct size %zu is smaller "
                     "than its size field", who, size);
  size_t k = size < n ? size : n;
  *(size_t *)full = k;
  memcpy(out, full, k);
  if (size > n)
    memset((char *)out + n, 0, size - n);
  return ACT_OK;
}

/* The smallest act_arg_t the library accepts: the layout of 0.1. */
#define ACT__ARG_MIN_SIZE sizeof(act_arg_t)

act_status_t act__args_in(const char *who, const act_arg_t **args,
                          size_t nargs, size_t arg_size, act_arg_t *tmp) {
  if (arg_size == sizeof(act_arg_t) || !*args)
    return ACT_OK;
  if (arg_size < ACT__ARG_MIN_SIZE)
    return act__fail(ACT_INVALID_ARGUMENT, "%s: act_arg_t size %zu is "
                     "smaller than any layout (%zu)", who, arg_size,
                     (size_t)ACT__ARG_MIN_SIZE);
  if (nargs > ACT__ARGS_CAP)
    return act__fail(ACT_INVALID_ARGUMENT, "%s: %zu operands (at most %d)",
                     who, nargs, ACT__ARGS_CAP);
  /* A newer caller's larger struct: its first fields are ours; the fields
   * this library does not know are ignored. */
  for (size_t i = 0; i < nargs; i++)
    memcpy(&tmp[i], (const char *)*args + i * arg_size, sizeof *tmp);
  *args = tmp;
  return ACT_OK;
}

act_status_t act__tensor_in(const char *who, const act_tensor_t **t,
                            size_t tensor_size, act_tensor_t *tmp) {
  if (tensor_size == sizeof(act_tensor_t) || !*t)
    return ACT_OK;
  if (tensor_size < sizeof(act_tensor_t))
    return act__fail(ACT_INVALID_ARGUMENT, "%s: act_tensor_t size %zu is "
                     "smaller than any layout (%zu)", who, tensor_size,
                     sizeof(act_tensor_t));
  memcpy(tmp, *t, sizeof *tmp);
  *t = tmp;
  return ACT_OK;
}

act_status_t act_device_get_info_ex(size_t index, act_device_info_t *info,
                                    size_t info_size) {
  act__clear_error();
  act__ensure_devices();
  if (!info)
    return act__fail(ACT_NULL_POINTER, "act_device_get_info: info is NULL");
  if (index >= act__ndevices)
    return act__fail(ACT_NO_DEVICE, "act_device_get_info: no device %zu "
                     "(%zu devices)", index, act__ndevices);
  act_device_info_t full = act__devices[index].info;
  return act__out_struct("act_device_get_info", info, info_size, &full,
                         sizeof full);
}

static const char *const act__backend_names[ACT_BACKEND_COUNT] = {
    "cpu", "opencl", "vulkan"};

const char *act_backend_name(act_backend_t b) {
  return (int)b >= 0 && b < ACT_BACKEND_COUNT ? act__backend_names[b] : NULL;
}

const char *act_device_type_name(act_device_type_t t) {
  switch (t) {
  case ACT_DEVICE_REFERENCE:
    return "reference";
  case ACT_DEVICE_CPU_DRIVER:
    return "cpu-driver";
  case ACT_DEVICE_ACCELERATOR:
    return "accelerator";
  case ACT_DEVICE_INTEGRATED_GPU:
    return "integrated-gpu";
  case ACT_DEVICE_DISCRETE_GPU:
    return "discrete-gpu";
  }
  return NULL;
}

/* The best device among those of `backend` (or any, for COUNT). */
static bool act__best(act_backend_t backend, size_t *index) {
  bool found = false;
  for (size_t i = 0; i < act__ndevices; i++) {
    const act_device_info_t *d = &act__devices[i].info;
    if (backend != ACT_BACKEND_COUNT && d->backend != backend)
      continue;
    if (!found || d->rank > act__devices[*index].info.rank) {
      *index = i;
      found = true;
    }
  }
  return found;
}

static act_status_t act__no_device(const char *name, const char *why) {
  char list[512] = "";
  for (size_t i = 0; i < act__ndevices; i++) {
    strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
    strncat(list, act__devices[i].info.name, sizeof list - strlen(list) - 1);
  }
  return act__fail(ACT_NO_DEVICE, "device '%s': %s (devices here: %s; or "
                   "auto)", name, why, list);
}

static act_status_t act__find(const char *name, size_t *index, int depth) {
  if (!name || !*name || strcmp(name, "auto") == 0) {
    const char *env = getenv("ACTKIT_DEVICE");
    if (depth == 0 && env && *env && strcmp(env, "auto") != 0) {
      act_status_t st = act__find(env, index, 1);
      if (st) {
        char why[512]; /* act__fail overwrites the message being quoted */
        snprintf(why, sizeof why, "%s", act_last_error());
        return act__fail(st, "ACTKIT_DEVICE='%s' names no device here: %s",
                         env, why);
      }
      return ACT_OK;
    }
    act__best(ACT_BACKEND_COUNT, index);
    return ACT_OK;
  }
  for (int b = 0; b < ACT_BACKEND_COUNT; b++) {
    const char *bn = act__backend_names[b];
    size_t n = strlen(bn);
    if (strncmp(name, bn, n) != 0)
      continue;
    if (name[n] == '\0') {
      if (act__best((act_backend_t)b, index))
        return ACT_OK;
      return act__no_device(name, "this backend found no device");
    }
    if (name[n] != ':' || b == ACT_BACKEND_CPU)
      break;
    char *end;
    long k = strtol(name + n + 1, &end, 10);
    if (end == name + n + 1 || *end || k < 0)
      return act__no_device(name, "expected an index after ':'");
    for (size_t i = 0; i < act__ndevices; i++)
      if (strcmp(act__devices[i].info.name, name) == 0) {
        *index = i;
        return ACT_OK;
      }
    return act__no_device(name, "no device with that index");
  }
  return act__no_device(name, "unknown device name");
}

act_status_t act_device_find(const char *name, size_t *index) {
  act__clear_error();
  act__ensure_devices();
  if (!index)
    return act__fail(ACT_NULL_POINTER, "act_device_find: index is NULL");
  return act__find(name, index, 0);
}

/* ---- contexts ------------------------------------------------------------- */

act_status_t act_context_create(const char *device, act_context_t **ctx) {
  act__clear_error();
  if (!ctx)
    return act__fail(ACT_NULL_POINTER, "act_context_create: ctx is NULL");
  size_t idx;
  act_status_t st = act_device_find(device, &idx);
  if (st)
    return st;
  act_context_t *c = calloc(1, sizeof *c);
  if (!c)
    return act__fail(ACT_OUT_OF_MEMORY, "act_context_create: out of memory");
  c->device = &act__devices[idx];
  st = c->device->backend->context_create(c->device, &c->state);
  if (st) {
    free(c);
    return st;
  }
  *ctx = c;
  return ACT_OK;
}

/* The registered device whose backend is be and whose handle matches
 * (interop: the application's device), or NULL. */
const act__device_t *act__device_match(const act__backend_t *be,
                                       bool (*match)(void *handle,
                                                     const void *key),
                                       const void *key) {
  act__ensure_devices();
  for (size_t i = 0; i < act__ndevices; i++)
    if (act__devices[i].backend == be && match(act__devices[i].handle, key))
      return &act__devices[i];
  return NULL;
}

act_status_t act__context_wrap(const act__device_t *dev, void *state,
                               act_context_t **out) {
  act_context_t *c = calloc(1, sizeof *c);
  if (!c)
    return act__fail(ACT_OUT_OF_MEMORY, "out of memory");
  c->device = dev;
  c->state = state;
  *out = c;
  return ACT_OK;
}

act_status_t act__queue_wrap(act_context_t *ctx, void *handle,
                             act_queue_t **out) {
  act_queue_t *q = calloc(1, sizeof *q);
  if (!q)
    return act__fail(ACT_OUT_OF_MEMORY, "out of memory");
  q->ctx = ctx;
  q->handle = handle;
  *out = q;
  return ACT_OK;
}

act_status_t act__buffer_wrap(act_context_t *ctx, void *handle, size_t size,
                              act_buffer_t **out) {
  act_buffer_t *b = calloc(1, sizeof *b);
  if (!b)
    return act__fail(ACT_OUT_OF_MEMORY, "out of memory");
  b->ctx = ctx;
  b->handle = handle;
  b->size = size;
  *out = b;
  return ACT_OK;
}

void act_context_destroy(act_context_t *ctx) {
  if (!ctx)
    return;
  ctx->device->backend->context_destroy(ctx->state);
  free(ctx);
}

act_status_t act_context_get_device_ex(const act_context_t *ctx,
                                       act_device_info_t *info,
                                       size_t info_size) {
  act__clear_error();
  if (!ctx || !info)
    return act__fail(ACT_NULL_POINTER, "act_context_get_device: NULL "
                     "argument");
  act_device_info_t full = ctx->device->info;
  return act__out_struct("act_context_get_device", info, info_size, &full,
                         sizeof full);
}

act_status_t act_context_get_stats_ex(const act_context_t *ctx,
                                      act_context_stats_t *stats,
                                      size_t stats_size) {
  act__clear_error();
  if (!ctx || !stats)
    return act__fail(ACT_NULL_POINTER, "act_context_get_stats: NULL "
                     "argument");
  act_context_stats_t full;
  memset(&full, 0, sizeof full);
  if (ctx->device->backend->stats)
    ctx->device->backend->stats(ctx->state, &full);
  return act__out_struct("act_context_get_stats", stats, stats_size, &full,
                         sizeof full);
}

/* ---- buffers -------------------------------------------------------------- */

act_status_t act_buffer_create(act_context_t *ctx, size_t bytes,
                               act_buffer_t **buf) {
  act__clear_error();
  if (!ctx || !buf)
    return act__fail(ACT_NULL_POINTER, "act_buffer_create: NULL argument");
  if (bytes == 0)
    return act__fail(ACT_INVALID_ARGUMENT, "act_buffer_create: size is 0");
  uint64_t max = ctx->device->info.max_alloc_bytes;
  if (max && bytes > max)
    return act__fail(ACT_OUT_OF_MEMORY, "act_buffer_create: %zu bytes is "
                     "more than %s can allocate at once (%llu)", bytes,
                     ctx->device->info.name, (unsigned long long)max);
  act_buffer_t *b = calloc(1, sizeof *b);
  if (!b)
    return act__fail(ACT_OUT_OF_MEMORY, "act_buffer_create: out of memory");
  act_status_t st =
      ctx->device->backend->buffer_create(ctx->state, bytes, &b->handle);
  if (st) {
    free(b);
    return st;
  }
  b->ctx = ctx;
  b->size = bytes;
  *buf = b;
  return ACT_OK;
}

void act_buffer_destroy(act_buffer_t *buf) {
  if (!buf)
    return;
  buf->ctx->device->backend->buffer_destroy(buf->ctx->state, buf->handle);
  free(buf);
}

size_t act_buffer_size(const act_buffer_t *buf) { return buf ? buf->size : 0; }

/* ---- queues and events ---------------------------------------------------- */

act_status_t act_queue_create(act_context_t *ctx, act_queue_t **q) {
  act__clear_error();
  if (!ctx || !q)
    return act__fail(ACT_NULL_POINTER, "act_queue_create: NULL argument");
  act_queue_t *qq = calloc(1, sizeof *qq);
  if (!qq)
    return act__fail(ACT_OUT_OF_MEMORY, "act_queue_create: out of memory");
  act_status_t st =
      ctx->device->backend->queue_create(ctx->state, &qq->handle);
  if (st) {
    free(qq);
    return st;
  }
  qq->ctx = ctx;
  *q = qq;
  return ACT_OK;
}

void act_queue_destroy(act_queue_t *q) {
  if (!q)
    return;
  const act__backend_t *be = q->ctx->device->backend;
  be->finish(q->handle);
  be->queue_destroy(q->handle);
  free(q);
}

act_status_t act_queue_flush(act_queue_t *q) {
  act__clear_error();
  if (!q)
    return act__fail(ACT_NULL_POINTER, "act_queue_flush: q is NULL");
  return q->ctx->device->backend->flush(q->handle);
}

act_status_t act_queue_finish(act_queue_t *q) {
  act__clear_error();
  if (!q)
    return act__fail(ACT_NULL_POINTER, "act_queue_finish: q is NULL");
  return q->ctx->device->backend->finish(q->handle);
}

act_status_t act_queue_wait_event(act_queue_t *q, act_event_t *ev) {
  act__clear_error();
  if (!q || !ev)
    return act__fail(ACT_NULL_POINTER, "act_queue_wait_event: NULL argument");
  if (ev->queue->ctx != q->ctx)
    return act__fail(ACT_INVALID_ARGUMENT, "act_queue_wait_event: the event "
                     "belongs to another context");
  if (!ev->handle)
    return ACT_OK; /* already complete */
  return q->ctx->device->backend->wait_event(q->handle, ev->handle);
}

/* Wraps a backend event (or NULL: complete) for the caller. On failure the
 * backend event is released and nothing is returned. */
act_status_t act__event_out(act_queue_t *q, void *handle,
                            act_event_t **out) {
  const act__backend_t *be = q->ctx->device->backend;
  if (!out) {
    if (handle)
      be->event_release(handle);
    return ACT_OK;
  }
  act_event_t *ev = calloc(1, sizeof *ev);
  if (!ev) {
    if (handle) {
      be->event_wait(handle);
      be->event_release(handle);
    }
    return act__fail(ACT_OUT_OF_MEMORY, "out of memory for an event");
  }
  ev->queue = q;
  ev->backend = be;
  ev->handle = handle;
  ev->status = ACT_OK;
  *out = ev;
  return ACT_OK;
}

act_status_t act_event_wait(act_event_t *ev) {
  act__clear_error();
  if (!ev)
    return act__fail(ACT_NULL_POINTER, "act_event_wait: ev is NULL");
  if (ev->handle) {
    ev->status = ev->backend->event_wait(ev->handle);
    ev->backend->event_release(ev->handle);
    ev->handle = NULL;
  }
  return ev->status;
}

int act_event_done(act_event_t *ev) {
  if (!ev)
    return 1;
  return ev->handle ? ev->backend->event_done(ev->handle) : 1;
}

void act_event_destroy(act_event_t *ev) {
  if (!ev)
    return;
  if (ev->handle)
    ev->backend->event_release(ev->handle);
  free(ev);
}

/* ---- transfers ------------------------------------------------------------ */

static act_status_t act__check_range(const char *fn, act_queue_t *q,
                                     act_buffer_t *buf, size_t off,
                                     size_t bytes, const void *host) {
  if (!q || !buf || (!host && bytes))
    return act__fail(ACT_NULL_POINTER, "%s: NULL argument", fn);
  if (buf->ctx != q->ctx)
    return act__fail(ACT_INVALID_ARGUMENT, "%s: the buffer belongs to "
                     "another context", fn);
  if (off > buf->size || bytes > buf->size - off)
    return act__fail(ACT_INVALID_ARGUMENT, "%s: %zu bytes at offset %zu "
                     "exceed the buffer's %zu bytes", fn, bytes, off,
                     buf->size);
  return ACT_OK;
}

act_status_t act_buffer_write(act_queue_t *q, act_buffer_t *buf,
                              size_t offset, size_t bytes, const void *src,
                              act_event_t **event) {
  act__clear_error();
  act_status_t st =
      act__check_range("act_buffer_write", q, buf, offset, bytes, src);
  if (st)
    return st;
  void *h = NULL;
  if (bytes &&
      (st = q->ctx->device->backend->write(q->handle, buf->handle, offset,
                                           bytes, src, &h)))
    return st;
  return act__event_out(q, h, event);
}

act_status_t act_buffer_read(act_queue_t *q, act_buffer_t *buf, size_t offset,
                             size_t bytes, void *dst, act_event_t **event) {
  act__clear_error();
  act_status_t st =
      act__check_range("act_buffer_read", q, buf, offset, bytes, dst);
  if (st)
    return st;
  void *h = NULL;
  if (bytes &&
      (st = q->ctx->device->backend->read(q->handle, buf->handle, offset,
                                          bytes, dst, &h)))
    return st;
  return act__event_out(q, h, event);
}

/* ---- running ops ---------------------------------------------------------- */

act_status_t act_op_check_ex(const act_op_desc_t *desc, size_t nargs,
                             const act_arg_t *args, size_t arg_size) {
  act__clear_error();
  ACT__ARGS_IN("act_op_check", args, nargs, arg_size);
  act__call_t c;
  return act__call_prepare(desc, nargs, args, 1, &c);
}

act_status_t act_forward_ex(act_queue_t *q, const act_op_desc_t *desc,
                            size_t nargs, const act_arg_t *args,
                            size_t arg_size, act_event_t **event) {
  act__clear_error();
  ACT__ARGS_IN("act_forward", args, nargs, arg_size);
  if (!q)
    return act__fail(ACT_NULL_POINTER, "act_forward: queue is NULL");
  act__call_t c;
  act_status_t st = act__call_prepare(desc, nargs, args, 0, &c);
  if (st)
    return st;
  for (int k = 0; k < ACT_ARG_COUNT; k++)
    if (c.arg[k] && c.arg[k]->buffer && c.arg[k]->buffer->ctx != q->ctx)
      return act__fail(ACT_INVALID_ARGUMENT, "%s: a buffer belongs to "
                       "another context than the queue",
                       act_op_info(desc->op)->name);
  const act__backend_t *be = q->ctx->device->backend;
  if ((st = be->supports(q->ctx->state, &c)))
    return st;
  void *h = NULL;
  if ((st = be->forward(q->handle, &c, &h)))
    return st;
  return act__event_out(q, h, event);
}

act_status_t act__host_finish(act_queue_t *q, act_status_t st,
                              act_buffer_t **bufs, size_t nbufs) {
  /* Keep the first failure's message: the calls below reset it. */
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", act_last_error());
  act_status_t fin = act_queue_finish(q);
  if (!st && fin) {
    st = fin;
    snprintf(msg, sizeof msg, "%s", act_last_error());
  }
  act_queue_destroy(q);
  for (size_t k = 0; k < nbufs; k++)
    act_buffer_destroy(bufs[k]);
  if (st)
    return act__fail(st, "%s", msg);
  return ACT_OK;
}

/* act_forward_host and act_backward_host: runs a prepared host call on ctx's
 * device (the reference directly on the cpu device): device copies of every
 * operand, then one queue: upload the inputs, run, read the outputs. */
static act_status_t act__run_host(act_context_t *ctx,
                                  const act_op_desc_t *desc, size_t nargs,
                                  const act_arg_t *args, int backward) {
  const char *fn = backward ? "act_backward_host" : "act_forward_host";
  if (!ctx)
    return act__fail(ACT_NULL_POINTER, "%s: ctx is NULL", fn);
  act__call_t c;
  act_status_t st = backward ? act__call_prepare_bwd(desc, nargs, args, 1, &c)
                             : act__call_prepare(desc, nargs, args, 1, &c);
  if (st)
    return st;
  if (ctx->device->info.backend == ACT_BACKEND_CPU)
    return act__reference_run(&c);

  /* The operands the call writes. */
  unsigned outputs = backward ? (1u << ACT_ARG_DX) | (1u << ACT_ARG_DALPHA)
                              : (1u << ACT_ARG_Y) | (1u << ACT_ARG_SIGN);
  act_arg_t dev[ACT_ARG_COUNT];
  act_buffer_t *bufs[ACT_ARG_COUNT] = {0};
  act_queue_t *q = NULL;
  size_t n = 0;
  if ((st = act_queue_create(ctx, &q)))
    return st;
  for (int k = 0; k < ACT_ARG_COUNT && !st; k++) {
    if (!c.arg[k])
      continue;
    const act_tensor_t *t = c.arg[k];
    size_t bytes = (size_t)act_tensor_numel(t) * act_dtype_size(t->dtype);
    dev[n].kind = (act_arg_kind_t)k;
    dev[n].tensor = *t;
    dev[n].tensor.data = NULL;
    dev[n].tensor.offset = 0;
    if ((st = act_buffer_create(ctx, bytes ? bytes : 1, &bufs[k])))
      break;
    dev[n].tensor.buffer = bufs[k];
    if (!(outputs & (1u << k)) && bytes)
      st = act_buffer_write(q, bufs[k], 0, bytes, t->data, NULL);
    n++;
  }
  if (!st)
    st = backward ? act_backward(q, desc, n, dev, NULL)
                  : act_forward(q, desc, n, dev, NULL);
  for (int k = 0; !st && k < ACT_ARG_COUNT; k++) {
    if (!c.arg[k] || !(outputs & (1u << k)))
      continue;
    const act_tensor_t *t = c.arg[k];
    size_t bytes = (size_t)act_tensor_numel(t) * act_dtype_size(t->dtype);
    if (bytes)
      st = act_buffer_read(q, bufs[k], 0, bytes, t->data, NULL);
  }
  return act__host_finish(q, st, bufs, ACT_ARG_COUNT);
}

act_status_t act_forward_host_ex(act_context_t *ctx,
                                 const act_op_desc_t *desc, size_t nargs,
                                 const act_arg_t *args, size_t arg_size) {
  act__clear_error();
  ACT__ARGS_IN("act_forward_host", args, nargs, arg_size);
  return act__run_host(ctx, desc, nargs, args, 0);
}

act_status_t act_reference_forward_ex(const act_op_desc_t *desc,
                                      size_t nargs, const act_arg_t *args,
                                      size_t arg_size) {
  act__clear_error();
  ACT__ARGS_IN("act_reference_forward", args, nargs, arg_size);
  act__call_t c;
  act_status_t st = act__call_prepare(desc, nargs, args, 1, &c);
  if (st)
    return st;
  return act__reference_run(&c);
}

/* ---- backward ------------------------------------------------------------- */

act_status_t act_backward_ex(act_queue_t *q, const act_op_desc_t *desc,
                             size_t nargs, const act_arg_t *args,
                             size_t arg_size, act_event_t **event) {
  act__clear_error();
  ACT__ARGS_IN("act_backward", args, nargs, arg_size);
  if (!q)
    return act__fail(ACT_NULL_POINTER, "act_backward: queue is NULL");
  act__call_t c;
  act_status_t st = act__call_prepare_bwd(desc, nargs, args, 0, &c);
  if (st)
    return st;
  for (int k = 0; k < ACT_ARG_COUNT; k++)
    if (c.arg[k] && c.arg[k]->buffer && c.arg[k]->buffer->ctx != q->ctx)
      return act__fail(ACT_INVALID_ARGUMENT, "%s backward: a buffer belongs "
                       "to another context than the queue",
                       act_op_info(desc->op)->name);
  const act__device_t *dev = q->ctx->device;
  const act__backend_t *be = dev->backend;
  /* Checked before supports(): a backend without backward entry may not
   * know how to plan a backward call. */
  if (!be->backward)
    return act__fail(ACT_UNSUPPORTED, "%s backward is not supported on "
                     "device %s (%s backend: no backward kernels)",
                     act_op_info(desc->op)->name, dev->info.name, be->name);
  if ((st = be->supports(q->ctx->state, &c)))
    return st;
  void *h = NULL;
  if ((st = be->backward(q->handle, &c, &h)))
    return st;
  return act__event_out(q, h, event);
}

act_status_t act_backward_host_ex(act_context_t *ctx,
                                  const act_op_desc_t *desc, size_t nargs,
                                  const act_arg_t *args, size_t arg_size) {
  act__clear_error();
  ACT__ARGS_IN("act_backward_host", args, nargs, arg_size);
  return act__run_host(ctx, desc, nargs, args, 1);
}

act_status_t act_reference_backward_ex(const act_op_desc_t *desc,
                                       size_t nargs, const act_arg_t *args,
                                       size_t arg_size) {
  act__clear_error();
  ACT__ARGS_IN("act_reference_backward", args, nargs, arg_size);
  act__call_t c;
  act_status_t st = act__call_prepare_bwd(desc, nargs, args, 1, &c);
  if (st)
    return st;
  return act__reference_run(&c);
}
