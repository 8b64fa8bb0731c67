/*
 * dense.c - the fused dense layer (act_dense in actkit.h): validation of
 * its operands, once, and the three entry points (enqueue, host
 * convenience, reference). Backends receive only prepared calls
 * (act__dense_t) through their optional `dense` entry.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static bool act__dense_float(act_dtype_t t) {
  return t == ACT_F32 || t == ACT_F16 || t == ACT_BF16;
}

/* Byte range [lo, hi) of a tensor, in its buffer (device) or in memory
 * (host), for the overlap checks. */
static void act__dense_range(const act_tensor_t *t, int host, uintptr_t *lo,
                             uintptr_t *hi) {
  size_t bytes = (size_t)act_tensor_numel(t) * act_dtype_size(t->dtype);
  *lo = host ? (uintptr_t)t->data : (uintptr_t)t->offset;
  *hi = *lo + bytes;
}

static bool act__dense_overlap(const act_tensor_t *a, const act_tensor_t *b,
                               int host) {
  if (!a || !b || (!host && a->buffer != b->buffer))
    return false;
  uintptr_t alo, ahi, blo, bhi;
  act__dense_range(a, host, &alo, &ahi);
  act__dense_range(b, host, &blo, &bhi);
  return alo < bhi && blo < ahi;
}

/* One operand on its own: present, rank, dims >= 1, dtype, storage. */
static act_status_t act__dense_tensor(const char *name,
                                      const act_tensor_t *t, int host,
                                      act_dtype_t dtype, bool first) {
  if (t->ndim != 2 && !(t->ndim == 1 && strcmp(name, "bias") == 0))
    return act__fail(ACT_BAD_SHAPE, "dense: %s has %d dimensions; it must "
                     "have 2%s", name, t->ndim,
                     strcmp(name, "bias") == 0 ? " ([1, N]) or 1 ([N])" : "");
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) {
    if (t->dims[i] < 1)
      return act__fail(ACT_BAD_SHAPE, "dense: %s dimension %d is %lld (M, N "
                       "and K must be at least 1)", name, i,
                       (long long)t->dims[i]);
    if (n > (INT64_MAX / 8) / t->dims[i])
      return act__fail(ACT_BAD_SHAPE, "dense: %s is too large", name);
    n *= t->dims[i];
  }
  if (first && !act__dense_float(t->dtype))
    return act__fail(ACT_BAD_DTYPE, "dense: x must be f32, f16 or bf16, not "
                     "%s", act_dtype_name(t->dtype) ? act_dtype_name(t->dtype)
                                                    : "an unknown dtype");
  if (t->dtype != dtype)
    return act__fail(ACT_BAD_DTYPE, "dense: %s is %s but x is %s (they must "
                     "match)", name, act_dtype_name(t->dtype)
                                         ? act_dtype_name(t->dtype)
                                         : "not an act_dtype_t",
                     act_dtype_name(dtype));
  size_t bytes = (size_t)n * act_dtype_size(t->dtype);
  if (host) {
    if (!t->data)
      return act__fail(ACT_NULL_POINTER, "dense: %s.data is NULL", name);
    return ACT_OK;
  }
  if (!t->buffer)
    return act__fail(ACT_NULL_POINTER, "dense: %s.buffer is NULL", name);
  if (t->offset > t->buffer->size || bytes > t->buffer->size - t->offset)
    return act__fail(ACT_BAD_SHAPE, "dense: %s needs %zu bytes at offset %zu "
                     "but its buffer holds %zu", name, bytes, t->offset,
                     t->buffer->size);
  if (t->offset % act_dtype_size(t->dtype))
    return act__fail(ACT_INVALID_ARGUMENT, "dense: %s offset %zu is not a "
                     "multiple of the element size", name, t->offset);
  return ACT_OK;
}

static act_status_t act__dense_gemm_env(act_dense_gemm_t *g) {
  if (*g != ACT_DENSE_GEMM_AUTO)
    return ACT_OK;
  const char *e = getenv("ACTKIT_DENSE_GEMM");
  if (!e || !*e || strcmp(e, "auto") == 0)
    return ACT_OK;
  if (strcmp(e, "own") == 0)
    *g = ACT_DENSE_GEMM_OWN;
  else if (strcmp(e, "clblast") == 0)
    *g = ACT_DENSE_GEMM_CLBLAST;
  else
    return act__fail(ACT_INVALID_ARGUMENT, "dense: ACTKIT_DENSE_GEMM='%s' "
                     "is not one of auto, own, clblast", e);
  return ACT_OK;
}

/* ACTKIT_DENSE_FUSE: 0 (auto, the device's choice), 1 always, -1 never. */
static act_status_t act__dense_fuse_env(int *fuse) {
  const char *e = getenv("ACTKIT_DENSE_FUSE");
  *fuse = 0;
  if (!e || !*e || strcmp(e, "auto") == 0)
    return ACT_OK;
  if (strcmp(e, "always") == 0)
    *fuse = 1;
  else if (strcmp(e, "never") == 0)
    *fuse = -1;
  else
    return act__fail(ACT_INVALID_ARGUMENT, "dense: ACTKIT_DENSE_FUSE='%s' "
                     "is not one of auto, always, never", e);
  return ACT_OK;
}

/* Checks a dense call (host: tensor.data, else tensor.buffer) and fills c. */
static act_status_t act__dense_prepare(const act_dense_desc_t *d,
                                       const act_tensor_t *x,
                                       const act_tensor_t *w,
                                       const act_tensor_t *bias,
                                       const act_tensor_t *y,
                                       const act_tensor_t *z, int host,
                                       act__dense_t *c) {
  memset(c, 0, sizeof *c);
  if (!d)
    return act__fail(ACT_NULL_POINTER, "dense: the descriptor is NULL");
  if (d->size != 0 && d->size != sizeof *d)
    return act__fail(ACT_INVALID_ARGUMENT, "dense: desc.size is %zu; it must "
                     "be 0 or sizeof(act_dense_desc_t) = %zu", d->size,
                     sizeof *d);
  if (!x || !w || !y)
    return act__fail(ACT_NULL_POINTER, "dense: %s is NULL",
                     !x ? "x" : !w ? "w" : "y");
  if (d->transpose_w != 0 && d->transpose_w != 1)
    return act__fail(ACT_INVALID_ARGUMENT, "dense: transpose_w is %d (0 or 1)",
                     d->transpose_w);
  if ((int)d->gemm < 0 || d->gemm > ACT_DENSE_GEMM_CLBLAST)
    return act__fail(ACT_INVALID_ARGUMENT, "dense: gemm is %d, not an "
                     "act_dense_gemm_t", (int)d->gemm);
  act_status_t st;
  if (d->activation) {
    const act_op_info_t *info = act_op_info(d->activation->op);
    if (!info)
      return act__fail(ACT_INVALID_ARGUMENT, "dense: the activation holds op "
                       "%d, not an act_op_t", (int)d->activation->op);
    if (info->kind != ACT_KIND_ELTWISE)
      return act__fail(ACT_UNSUPPORTED, "dense: the activation must be "
                       "element-wise; %s works along an axis (run it with "
                       "act_forward on y)", info->name);
    if ((st = act__desc_validate(d->activation)))
      return st;
    c->act = *d->activation;
  } else {
    c->act.op = ACT_OP_LINEAR;
  }
  c->transpose_w = d->transpose_w;
  c->gemm = d->gemm;
  if ((st = act__dense_gemm_env(&c->gemm)) ||
      (st = act__dense_fuse_env(&c->fuse)))
    return st;

  act_dtype_t dt = x->dtype;
  if ((st = act__dense_tensor("x", x, host, dt, true)) ||
      (st = act__dense_tensor("w", w, host, dt, false)) ||
      (st = act__dense_tensor("y", y, host, dt, false)) ||
      (bias && (st = act__dense_tensor("bias", bias, host, dt, false))) ||
      (z && (st = act__dense_tensor("z", z, host, dt, false))))
    return st;
  c->m = x->dims[0];
  c->k = x->dims[1];
  c->n = d->transpose_w ? w->dims[0] : w->dims[1];
  int64_t wk = d->transpose_w ? w->dims[1] : w->dims[0];
  if (wk != c->k)
    return act__fail(ACT_BAD_SHAPE, "dense: x is [%lld, %lld] but w is [%lld, "
                     "%lld]%s: K must agree (w's %s dimension)",
                     (long long)c->m, (long long)c->k, (long long)w->dims[0],
                     (long long)w->dims[1],
                     d->transpose_w ? " (transposed, [N, K])" : " ([K, N])",
                     d->transpose_w ? "second" : "first");
  const act_tensor_t *out[2] = {y, z};
  for (int i = 0; i < 2; i++)
    if (out[i] && (out[i]->dims[0] != c->m || out[i]->dims[1] != c->n))
      return act__fail(ACT_BAD_SHAPE, "dense: %s is [%lld, %lld]; it must be "
                       "[M, N] = [%lld, %lld]", i ? "z" : "y",
                       (long long)out[i]->dims[0], (long long)out[i]->dims[1],
                       (long long)c->m, (long long)c->n);
  if (bias) {
    int64_t bn = bias->dims[bias->ndim - 1];
    if (bn != c->n || (bias->ndim == 2 && bias->dims[0] != 1))
      return act__fail(ACT_BAD_SHAPE, "dense: bias must be [N] or [1, N] "
                       "with N = %lld", (long long)c->n);
  }
  const act_tensor_t *in[3] = {x, w, bias};
  const char *in_names[3] = {"x", "w", "bias"};
  for (int i = 0; i < 3; i++)
    for (int o = 0; o < 2; o++)
      if (act__dense_overlap(in[i], out[o], host))
        return act__fail(ACT_INVALID_ARGUMENT, "dense: %s overlaps %s (the "
                         "outputs must not overlap an input)", o ? "z" : "y",
                         in_names[i]);
  if (act__dense_overlap(y, z, host))
    return act__fail(ACT_INVALID_ARGUMENT, "dense: y and z overlap");
  c->x = x, c->w = w, c->bias = bias, c->y = y, c->z = z;
  return ACT_OK;
}

act_status_t act_dense_ex(act_queue_t *q, const act_dense_desc_t *desc,
                          const act_tensor_t *x, const act_tensor_t *w,
                          const act_tensor_t *bias, const act_tensor_t *y,
                          const act_tensor_t *z, size_t tensor_size,
                          act_event_t **event) {
  act__clear_error();
  act_tensor_t tx_, tw_, tb_, ty_, tz_;
  act_status_t tst_;
  if ((tst_ = act__tensor_in("act_dense", &x, tensor_size, &tx_)) ||
      (tst_ = act__tensor_in("act_dense", &w, tensor_size, &tw_)) ||
      (tst_ = act__tensor_in("act_dense", &bias, tensor_size, &tb_)) ||
      (tst_ = act__tensor_in("act_dense", &y, tensor_size, &ty_)) ||
      (tst_ = act__tensor_in("act_dense", &z, tensor_size, &tz_)))
    return tst_;
  if (!q)
    return act__fail(ACT_NULL_POINTER, "act_dense: queue is NULL");
  act__dense_t c;
  act_status_t st = act__dense_prepare(desc, x, w, bias, y, z, 0, &c);
  if (st)
    return st;
  const act_tensor_t *t[5] = {x, w, bias, y, z};
  for (int i = 0; i < 5; i++)
    if (t[i] && t[i]->buffer->ctx != q->ctx)
      return act__fail(ACT_INVALID_ARGUMENT, "dense: a buffer belongs to "
                       "another context than the queue");
  const act__device_t *dev = q->ctx->device;
  if (!dev->backend->dense)
    return act__fail(ACT_UNSUPPORTED, "dense: not supported on device %s "
                     "(%s backend)", dev->info.name, dev->backend->name);
  void *h = NULL;
  if ((st = dev->backend->dense(q->handle, &c, &h)))
    return st;
  return act__event_out(q, h, event);
}

act_status_t act_dense_host_ex(act_context_t *ctx,
                               const act_dense_desc_t *desc,
                               const act_tensor_t *x, const act_tensor_t *w,
                               const act_tensor_t *bias,
                               const act_tensor_t *y, const act_tensor_t *z,
                               size_t tensor_size) {
  act__clear_error();
  act_tensor_t tx_, tw_, tb_, ty_, tz_;
  act_status_t tst_;
  if ((tst_ = act__tensor_in("act_dense_host", &x, tensor_size, &tx_)) ||
      (tst_ = act__tensor_in("act_dense_host", &w, tensor_size, &tw_)) ||
      (tst_ = act__tensor_in("act_dense_host", &bias, tensor_size, &tb_)) ||
      (tst_ = act__tensor_in("act_dense_host", &y, tensor_size, &ty_)) ||
      (tst_ = act__tensor_in("act_dense_host", &z, tensor_size, &tz_)))
    return tst_;
  if (!ctx)
    return act__fail(ACT_NULL_POINTER, "act_dense_host: ctx is NULL");
  act__dense_t c;
  act_status_t st = act__dense_prepare(desc, x, w, bias, y, z, 1, &c);
  if (st)
    return st;
  if (ctx->device->info.backend == ACT_BACKEND_CPU)
    return act__reference_dense(&c);

  /* Device copies: upload x, w, bias; run; read y (and z). */
  const act_tensor_t *host[5] = {x, w, bias, y, z};
  act_tensor_t dev[5];
  act_buffer_t *bufs[5] = {0};
  act_queue_t *q = NULL;
  if ((st = act_queue_create(ctx, &q)))
    return st;
  for (int i = 0; i < 5 && !st; i++) {
    if (!host[i])
      continue;
    size_t bytes = (size_t)act_tensor_numel(host[i]) *
                   act_dtype_size(host[i]->dtype);
    dev[i] = *host[i];
    dev[i].data = NULL;
    dev[i].offset = 0;
    if ((st = act_buffer_create(ctx, bytes, &bufs[i])))
      break;
    dev[i].buffer = bufs[i];
    if (i < 3)
      st = act_buffer_write(q, bufs[i], 0, bytes, host[i]->data, NULL);
  }
  if (!st)
    st = act_dense(q, desc, &dev[0], &dev[1], bias ? &dev[2] : NULL, &dev[3],
                   z ? &dev[4] : NULL, NULL);
  for (int i = 3; i < 5 && !st; i++)
    if (host[i])
      st = act_buffer_read(q, bufs[i], 0,
                           (size_t)act_tensor_numel(host[i]) *
                               act_dtype_size(host[i]->dtype),
                           host[i]->data, NULL);
  return act__host_finish(q, st, bufs, 5);
}

act_status_t act_reference_dense_ex(const act_dense_desc_t *desc,
                                    const act_tensor_t *x,
                                    const act_tensor_t *w,
                                    const act_tensor_t *bias,
                                    const act_tensor_t *y,
                                    const act_tensor_t *z,
                                    size_t tensor_size) {
  act__clear_error();
  act_tensor_t tx_, tw_, tb_, ty_, tz_;
  act_status_t tst_;
  if ((tst_ = act__tensor_in("act_reference_dense", &x, tensor_size, &tx_)) ||
      (tst_ = act__tensor_in("act_reference_dense", &w, tensor_size, &tw_)) ||
      (tst_ = act__tensor_in("act_reference_dense", &bias, tensor_size, &tb_)) ||
      (tst_ = act__tensor_in("act_reference_dense", &y, tensor_size, &ty_)) ||
      (tst_ = act__tensor_in("act_reference_dense", &z, tensor_size, &tz_)))
    return tst_;
  act__dense_t c;
  act_status_t st = act__dense_prepare(desc, x, w, bias, y, z, 1, &c);
  if (st)
    return st;
  return act__reference_dense(&c);
}
