/*
 * plan_axis.c - kernel dispatches for the axis ops (kernels/opencl/axis.cl,
 * whose header comment lists every kernel's arguments).
 *
 * Every reducing op (softmax, log_softmax, softmin, logsumexp,
 * standardize) is one dispatch of one kernel in one of two launch shapes:
 *   - one work-item per row (many short rows; neighbouring work-items take
 *     neighbouring rows, i.e. neighbouring addresses when inner > 1);
 *   - one work-group of ACT__AXIS_WG (256, or the largest power of two the
 *     device allows) per row, with tree reductions in local memory (long
 *     rows, or too few rows to fill a device).
 *   - on CPU drivers (limits.axis_row_loops: PoCL, lavapipe), f32 softmax,
 *     softmin and (not in place) log_softmax over contiguous rows:
 *     act_softmax_row, the first shape with
 *     plain unit-stride loops, which such drivers vectorize (and their
 *     backward pass, act_softmax_bwd_row: plan_bwd.c); f32 logsumexp
 *     and standardize likewise (act_logsumexp_row, act_standardize_row,
 *     and their gradients).
 * The choice is made here (act__axis_per_group); ACTKIT_AXIS_LAUNCH=item or
 * =group forces one shape, and the generic kernels (for tests and
 * benchmarks). glu and one_hot are
 * element-wise over y. Every dispatch has at most 65535 work-groups (and at
 * most limits->max_groups[0]); the kernels walk rows and elements with
 * grid-stride loops.
 *
 * LIMITATION. The broadcast operands (logsumexp's b, standardize's mean and
 * variance) are read with three strides in the [outer, len, inner] view of
 * x (one per group of dimensions: before the axis, the axis, after it; for
 * logsumexp over all axes, one stride for every element). A broadcast
 * pattern that cannot be written so - within the dimensions before (or
 * after) the axis, some broadcast and some not, e.g. b of shape [C, 1, 1]
 * for x [C, H, W] reduced along W - is refused with ACT_UNSUPPORTED ("...
 * is not supported on device backends; expand it to x's shape"); the cpu
 * reference handles every broadcast.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define ACT__AXIS_WG 256u /* ACT_AXIS_WG in axis.cl: the LOCAL arrays */

/* The most work-groups of a dispatch. */
static uint64_t act__group_cap(const act__limits_t *lim) {
  uint64_t cap = lim->max_groups[0] ? lim->max_groups[0] : 65535;
  return cap > 65535 ? 65535 : cap;
}

/* The largest power of two <= min(ACT__AXIS_WG, max_group_size). */
uint32_t act__axis_group(const act__limits_t *lim) {
  uint32_t m = lim->max_group_size ? lim->max_group_size : 1;
  uint32_t g = ACT__AXIS_WG;
  while (g > m)
    g >>= 1;
  return g;
}

/* A 1-D dispatch of `groups` groups of `group` (groups capped, >= 1). */
void act__launch(act__dispatch_t *d, uint64_t groups, uint32_t group,
                        const act__limits_t *lim) {
  uint64_t cap = act__group_cap(lim);
  if (groups > cap)
    groups = cap;
  if (groups == 0)
    groups = 1;
  d->dims = 1;
  d->global[0] = (uint32_t)(groups * group);
  d->local[0] = group;
  d->global[1] = d->global[2] = d->local[1] = d->local[2] = 1;
}

/* One work-group per row? */
bool act__axis_per_group(uint64_t rows, uint64_t len, uint64_t inner) {
  const char *env = getenv("ACTKIT_AXIS_LAUNCH");
  if (env && strcmp(env, "group") == 0)
    return true;
  if (env && strcmp(env, "item") == 0)
    return false;
  if (len >= 1024 && (inner == 1 || rows < 65536))
    return true;
  return len >= 64 && rows < 4096;
}

bool act__axis_row_kernel(const act__limits_t *lim, uint64_t len,
                          uint64_t inner, act_dtype_t dtype) {
  const char *shape = getenv("ACTKIT_AXIS_LAUNCH");
  return len <= lim->axis_row_loops && inner == 1 && dtype == ACT_F32 &&
         !(shape && *shape);
}

/* The reducing kernels' launch: per_group as above, LOCAL arrays of
 * `group` elements of e0 and e1 bytes. */
void act__launch_rows(act__dispatch_t *d, uint64_t rows, bool per_group,
                             uint32_t e0, uint32_t e1,
                             const act__limits_t *lim) {
  uint32_t group = act__axis_group(lim);
  if (!per_group && group > 64)
    group = 64;
  d->nlocal = 2;
  d->local_bytes[0] = group * e0;
  d->local_bytes[1] = group * e1;
  act__launch(d, per_group ? rows : (rows + group - 1) / group, group, lim);
}

/* Binds t's buffer, or `other` when t is absent or empty (never read). */
void act__bind(act__dispatch_t *d, const act_tensor_t *t,
                      act_buffer_t *other) {
  d->buf[d->nbuf++] = t && t->buffer ? t->buffer : other;
}

/* Element offset of t (0 when absent), checking that t's last element is
 * addressable with 32 bits. */
act_status_t act__offset(const char *op, const char *name,
                                const act_tensor_t *t, uint32_t *off) {
  *off = 0;
  if (!t)
    return ACT_OK;
  act_status_t st = act__elem_offset(t, off);
  if (st)
    return st;
  if ((uint64_t)*off + (uint64_t)act_tensor_numel(t) > UINT32_MAX)
    return act__fail(ACT_UNSUPPORTED, "%s: %s ends beyond element 2^32 - 1 "
                     "of its buffer, more than device kernels address", op,
                     name);
  return ACT_OK;
}

/* The stride of the flattened index of x's dimensions [from, to) in a
 * broadcast operand with per-dimension strides st, if it has one. */
static bool act__flat_stride(const int64_t *st, const act_tensor_t *x,
                             int from, int to, int64_t *s) {
  int64_t p = 1;
  bool set = false;
  *s = 0;
  for (int d = to - 1; d >= from; d--) {
    if (x->dims[d] > 1) {
      if (!set) {
        if (st[d] % p)
          return false;
        *s = st[d] / p;
        set = true;
      } else if (st[d] != *s * p) {
        return false;
      }
    }
    p *= x->dims[d];
  }
  return true;
}

/* Strides (outer, len, inner) of a broadcast operand t in x's row view. */
act_status_t act__bcast_view(const act__call_t *c, const act_tensor_t *t,
                                    const char *name, uint32_t s[3]) {
  const act_tensor_t *x = c->arg[ACT_ARG_X];
  const char *op = act_op_info(c->desc->op)->name;
  int64_t st[ACT_MAX_DIMS] = {0}, v[3];
  act__broadcast_strides(t, x, st);
  int nd = x->ndim, a = c->axis;
  bool ok;
  if (a < 0) {
    v[0] = v[2] = 0;
    ok = act__flat_stride(st, x, 0, nd, &v[1]);
  } else {
    ok = act__flat_stride(st, x, 0, a, &v[0]) &&
         act__flat_stride(st, x, a, a + 1, &v[1]) &&
         act__flat_stride(st, x, a + 1, nd, &v[2]);
  }
  if (!ok)
    return act__fail(ACT_UNSUPPORTED, "%s: this broadcast of %s (%d "
                     "dimensions against x's %d, reduced along axis %d) is "
                     "not supported on device backends; expand it to x's "
                     "shape", op, name, t->ndim, nd, a);
  for (int k = 0; k < 3; k++) {
    if (v[k] < 0 || v[k] > UINT32_MAX)
      return act__fail(ACT_UNSUPPORTED, "%s: %s strides beyond 2^32 - 1",
                       op, name);
    s[k] = (uint32_t)v[k];
  }
  return ACT_OK;
}

act_status_t act__plan_axis(const act__call_t *c, const act__limits_t *lim,
                            act__plan_t *plan) {
  const act_op_desc_t *desc = c->desc;
  act_op_t op = desc->op;
  const char *name = act_op_info(op)->name;
  const act_tensor_t *x = c->arg[ACT_ARG_X], *y = c->arg[ACT_ARG_Y];
  if (c->n > UINT32_MAX || c->ny > UINT32_MAX)
    return act__fail(ACT_UNSUPPORTED, "%s: %lld elements is more than one "
                     "device call handles (2^32 - 1)", name,
                     (long long)(c->n > c->ny ? c->n : c->ny));
  if (c->ny == 0)
    return ACT_OK; /* nothing to write (x may hold elements: glu of 0) */
  act_status_t st;
  uint32_t xo, yo;
  if ((st = act__offset(name, "x", x, &xo)) ||
      (st = act__offset(name, "y", y, &yo)))
    return st;
  act_buffer_t *yb = y->buffer; /* non-NULL: y has elements */
  act__dispatch_t *d = &plan->d[plan->n++];
  d->file = "axis.cl";
  d->op = op;
  d->dtype = act__dtype_code(x->dtype);
  uint64_t len = (uint64_t)c->len, inner = (uint64_t)c->inner;
  uint64_t rows = (uint64_t)c->outer * inner;

  switch (op) {
  case ACT_OP_SOFTMAX:
  case ACT_OP_LOG_SOFTMAX:
  case ACT_OP_SOFTMIN: {
    const act_tensor_t *w = c->arg[ACT_ARG_WHERE];
    uint32_t wo;
    if ((st = act__offset(name, "where", w, &wo)))
      return st;
    bool pg = act__axis_per_group(rows, len, inner);
    /* Rows of up to 4 lanes per work-item: the straight-line kernel, which
     * GPUs run well (axis.cl). CPU drivers: f32 softmax-family rows as
     * loops in one work-item each (act_softmax_row), unless
     * ACTKIT_AXIS_LAUNCH forces a shape. */
    /* (log_softmax's last pass reads x after y is written: not in place) */
    bool rowk = act__axis_row_kernel(lim, len, inner, x->dtype) &&
                !(op == ACT_OP_LOG_SOFTMAX && x->buffer == y->buffer);
    if (rowk)
      pg = false;
    d->kernel = rowk ? "act_softmax_row"
                : pg && len <= 4u * act__axis_group(lim) ? "act_softmax4"
                                                         : "act_softmax";
    act__bind(d, x, yb);
    act__bind(d, w, yb);
    act__bind(d, y, yb);
    act__disp_u32(d, (uint32_t)rows);
    act__disp_u32(d, (uint32_t)len);
    act__disp_u32(d, (uint32_t)inner);
    act__disp_u32(d, xo);
    act__disp_u32(d, wo);
    act__disp_u32(d, yo);
    act__disp_u32(d, w != NULL);
    act__disp_u32(d, pg);
    act__launch_rows(d, rows, pg, 8, 4, lim);
    return ACT_OK;
  }
  case ACT_OP_LOGSUMEXP: {
    const act_tensor_t *b = c->arg[ACT_ARG_B], *sg = c->arg[ACT_ARG_SIGN];
    uint32_t bo, so, bs[3] = {0, 0, 0};
    if ((st = act__offset(name, "b", b, &bo)) ||
        (st = act__offset(name, "sign", sg, &so)))
      return st;
    if (b && (st = act__bcast_view(c, b, "b", bs)))
      return st;
    if (c->axis < 0) { /* all axes: one row of every element */
      rows = 1;
      len = (uint64_t)c->n;
      inner = 1;
    }
    bool pg = act__axis_per_group(rows, len, inner);
    /* CPU drivers: f32 rows of contiguous elements as loops in one
     * work-item each, with a fast sum where it is accurate enough
     * (act_logsumexp_row), as for softmax */
    bool rowk = act__axis_row_kernel(lim, len, inner, x->dtype);
    if (rowk)
      pg = false;
    d->kernel = rowk ? "act_logsumexp_row" : "act_logsumexp";
    act__bind(d, x, yb);
    act__bind(d, b, yb);
    act__bind(d, y, yb);
    act__bind(d, sg, yb);
    act__disp_u32(d, (uint32_t)rows);
    act__disp_u32(d, (uint32_t)len);
    act__disp_u32(d, (uint32_t)inner);
    act__disp_u32(d, xo);
    act__disp_u32(d, bo);
    act__disp_u32(d, bs[0]);
    act__disp_u32(d, bs[1]);
    act__disp_u32(d, bs[2]);
    act__disp_u32(d, yo);
    act__disp_u32(d, so);
    act__disp_u32(d, b != NULL);
    act__disp_u32(d, sg != NULL);
    act__disp_u32(d, pg);
    act__launch_rows(d, rows, pg, 8, 4, lim);
    return ACT_OK;
  }
  case ACT_OP_STANDARDIZE: {
    const act_tensor_t *m = c->arg[ACT_ARG_MEAN], *v = c->arg[ACT_ARG_VARIANCE];
    uint32_t mo, vo, ms[3] = {0, 0, 0}, vs[3] = {0, 0, 0};
    if ((st = act__offset(name, "mean", m, &mo)) ||
        (st = act__offset(name, "variance", v, &vo)))
      return st;
    if ((m && (st = act__bcast_view(c, m, "mean", ms))) ||
        (v && (st = act__bcast_view(c, v, "variance", vs))))
      return st;
    bool pg = act__axis_per_group(rows, len, inner);
    /* CPU drivers, no given mean or variance: f32 rows as loops in one
     * work-item each (act_standardize_row), as for softmax */
    bool rowk = !m && !v && act__axis_row_kernel(lim, len, inner, x->dtype);
    if (rowk)
      pg = false;
    d->kernel = rowk ? "act_standardize_row" : "act_standardize";
    act__bind(d, x, yb);
    act__bind(d, m, yb);
    act__bind(d, v, yb);
    act__bind(d, y, yb);
    act__disp_u32(d, (uint32_t)rows);
    act__disp_u32(d, (uint32_t)len);
    act__disp_u32(d, (uint32_t)inner);
    act__disp_u32(d, xo);
    act__disp_u32(d, yo);
    act__disp_u32(d, mo);
    for (int k = 0; k < 3; k++)
      act__disp_u32(d, ms[k]);
    act__disp_u32(d, vo);
    for (int k = 0; k < 3; k++)
      act__disp_u32(d, vs[k]);
    act__disp_u32(d, m != NULL);
    act__disp_u32(d, v != NULL);
    act__disp_u32(d, pg);
    act__disp_param(d, desc->p[0]);
    act__disp_param(d, (double)len);
    act__launch_rows(d, rows, pg, 16, 4, lim);
    return ACT_OK;
  }
  case ACT_OP_GLU:
  case ACT_OP_ONE_HOT: {
    d->kernel = op == ACT_OP_GLU ? "act_glu" : "act_one_hot";
    if (op == ACT_OP_ONE_HOT)
      d->dtype = y->dtype == ACT_I32 ? 3 : act__dtype_code(y->dtype);
    act__bind(d, x, yb);
    act__bind(d, y, yb);
    act__disp_u32(d, (uint32_t)c->ny);
    act__disp_u32(d, (uint32_t)(op == ACT_OP_GLU ? len / 2 : len));
    act__disp_u32(d, (uint32_t)inner);
    act__disp_u32(d, xo);
    act__disp_u32(d, yo);
    uint32_t group = act__axis_group(lim);
    if (op == ACT_OP_GLU) /* one work-item per element (axis.cl) */
      act__launch_items(d, (uint64_t)c->ny, group, lim);
    else
      act__launch(d, ((uint64_t)c->ny + group - 1) / group, group, lim);
    return ACT_OK;
  }
  default:
    break;
  }
  return act__fail(ACT_INTERNAL, "%s: not an axis op", name);
}
