/*
 * call.c - validation of a call's operands against its op, and the
 * geometry every backend uses ([outer, len, inner] around the axis).
 *
 * Everything a backend may assume is checked here, once, so that a bad
 * call fails with a message before any work is enqueued.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

static const char *const act__arg_names[ACT_ARG_COUNT] = {
    "x", "y", "where", "alpha", "b", "sign", "mean", "variance", "dy", "dx",
    "dalpha"};

static bool act__is_float(act_dtype_t t) {
  return t == ACT_F32 || t == ACT_F16 || t == ACT_BF16;
}

static void act__shape_str(const act_tensor_t *t, char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < t->ndim && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, i ? ",%lld" : "%lld",
                          (long long)t->dims[i]);
  if (k < n)
    snprintf(buf + k, n - k, "]");
}

static bool act__same_shape(const act_tensor_t *a, const act_tensor_t *b) {
  if (a->ndim != b->ndim)
    return false;
  for (int i = 0; i < a->ndim; i++)
    if (a->dims[i] != b->dims[i])
      return false;
  return true;
}

static act_status_t act__shape_mismatch(const char *op, const char *what,
                                        const act_tensor_t *got,
                                        const act_tensor_t *want) {
  char g[128], w[128];
  act__shape_str(got, g, sizeof g);
  act__shape_str(want, w, sizeof w);
  return act__fail(ACT_BAD_SHAPE, "%s: %s has shape %s, expected %s", op,
                   what, g, w);
}

/* Checks one tensor on its own: rank, dims, dtype, storage. */
static act_status_t act__check_tensor(const char *op, act_arg_kind_t kind,
                                      const act_tensor_t *t, int host) {
  const char *name = act__arg_names[kind];
  if (t->ndim < 0 || t->ndim > ACT_MAX_DIMS)
    return act__fail(ACT_BAD_SHAPE, "%s: %s has %d dimensions (0..%d)", op,
                     name, t->ndim, ACT_MAX_DIMS);
  for (int i = 0; i < t->ndim; i++)
    if (t->dims[i] < 0)
      return act__fail(ACT_BAD_SHAPE, "%s: %s dimension %d is %lld", op, name,
                       i, (long long)t->dims[i]);
  if (!act_dtype_name(t->dtype))
    return act__fail(ACT_BAD_DTYPE, "%s: %s has dtype %d, not an act_dtype_t",
                     op, name, (int)t->dtype);
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) {
    if (t->dims[i] && n > (INT64_MAX / 8) / t->dims[i])
      return act__fail(ACT_BAD_SHAPE, "%s: %s is too large", op, name);
    n *= t->dims[i];
  }
  size_t bytes = (size_t)n * act_dtype_size(t->dtype);
  if (host) {
    if (!t->data && n)
      return act__fail(ACT_NULL_POINTER, "%s: %s.data is NULL", op, name);
  } else if (n) {
    if (!t->buffer)
      return act__fail(ACT_NULL_POINTER, "%s: %s.buffer is NULL", op, name);
    if (t->offset > t->buffer->size || bytes > t->buffer->size - t->offset)
      return act__fail(ACT_BAD_SHAPE, "%s: %s needs %zu bytes at offset %zu "
                       "but its buffer holds %zu", op, name, bytes, t->offset,
                       t->buffer->size);
    if (t->offset % act_dtype_size(t->dtype))
      return act__fail(ACT_INVALID_ARGUMENT, "%s: %s offset %zu is not a "
                       "multiple of the element size", op, name, t->offset);
  }
  return ACT_OK;
}

void act__broadcast_strides(const act_tensor_t *b, const act_tensor_t *x,
                            int64_t strides[ACT_MAX_DIMS]) {
  int64_t s = 1;
  for (int i = x->ndim - 1, j = b->ndim - 1; i >= 0; i--, j--) {
    if (j >= 0 && b->dims[j] != 1) {
      strides[i] = s;
      s *= b->dims[j];
    } else {
      strides[i] = 0;
      if (j >= 0)
        s *= b->dims[j];
    }
  }
}

static act_status_t act__check_broadcast(const char *op, const char *name,
                                         const act_tensor_t *b,
                                         const act_tensor_t *x) {
  bool ok = b->ndim <= x->ndim;
  for (int i = x->ndim - 1, j = b->ndim - 1; ok && j >= 0; i--, j--)
    ok = b->dims[j] == 1 || b->dims[j] == x->dims[i];
  if (!ok) {
    char g[128], w[128];
    act__shape_str(b, g, sizeof g);
    act__shape_str(x, w, sizeof w);
    return act__fail(ACT_BAD_SHAPE, "%s: %s of shape %s does not broadcast "
                     "to x's shape %s", op, name, g, w);
  }
  return ACT_OK;
}

/* Sorts the operands by role, checking each tensor on its own. */
static act_status_t act__collect(const char *op, size_t nargs,
                                 const act_arg_t *args, int host,
                                 const act_tensor_t *arg[ACT_ARG_COUNT]) {
  for (size_t i = 0; i < nargs; i++) {
    act_arg_kind_t k = args[i].kind;
    if ((int)k < 0 || k >= ACT_ARG_COUNT)
      return act__fail(ACT_INVALID_ARGUMENT, "%s: args[%zu].kind = %d is not "
                       "an act_arg_kind_t", op, i, (int)k);
    if (arg[k])
      return act__fail(ACT_INVALID_ARGUMENT, "%s: operand '%s' given twice",
                       op, act__arg_names[k]);
    act_status_t st = act__check_tensor(op, k, &args[i].tensor, host);
    if (st)
      return st;
    arg[k] = &args[i].tensor;
  }
  return ACT_OK;
}

/* Normalises axis against ndim (negative counts from the end). */
static act_status_t act__norm_axis(const char *op, int axis, int ndim,
                                   int *out) {
  int a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim)
    return act__fail(ACT_BAD_PARAM, "%s: axis %d is out of range for a "
                     "tensor of %d dimensions", op, axis, ndim);
  *out = a;
  return ACT_OK;
}

static void act__geometry(const act_tensor_t *t, int axis, act__call_t *c) {
  c->outer = c->inner = 1;
  for (int i = 0; i < axis; i++)
    c->outer *= t->dims[i];
  c->len = t->dims[axis];
  for (int i = axis + 1; i < t->ndim; i++)
    c->inner *= t->dims[i];
}

act_status_t act__call_prepare(const act_op_desc_t *desc, size_t nargs,
                               const act_arg_t *args, int host,
                               act__call_t *c) {
  memset(c, 0, sizeof *c);
  if (!desc)
    return act__fail(ACT_NULL_POINTER, "op descriptor is NULL");
  if (nargs && !args)
    return act__fail(ACT_NULL_POINTER, "args is NULL but nargs = %zu", nargs);
  const act_op_info_t *info = act_op_info(desc->op);
  const char *op = info->name;
  act_status_t st = act__desc_validate(desc);
  if (st)
    return st;
  c->desc = desc;
  if ((st = act__collect(op, nargs, args, host, c->arg)))
    return st;
  const act_tensor_t *x = c->arg[ACT_ARG_X], *y = c->arg[ACT_ARG_Y];
  if (!x || !y)
    return act__fail(ACT_INVALID_ARGUMENT, "%s: operand '%s' is missing", op,
                     x ? "y" : "x");

  /* Operands this op does not take are refused rather than ignored. */
  static const unsigned takes[] = {
      [ACT_OP_PRELU] = 1u << ACT_ARG_ALPHA,
      [ACT_OP_SOFTMAX] = 1u << ACT_ARG_WHERE,
      [ACT_OP_LOG_SOFTMAX] = 1u << ACT_ARG_WHERE,
      [ACT_OP_SOFTMIN] = 1u << ACT_ARG_WHERE,
      [ACT_OP_LOGSUMEXP] = (1u << ACT_ARG_B) | (1u << ACT_ARG_SIGN),
      [ACT_OP_STANDARDIZE] = (1u << ACT_ARG_MEAN) | (1u << ACT_ARG_VARIANCE),
  };
  unsigned allowed = (1u << ACT_ARG_X) | (1u << ACT_ARG_Y);
  if ((size_t)desc->op < sizeof takes / sizeof *takes)
    allowed |= takes[desc->op];
  for (int k = 0; k < ACT_ARG_COUNT; k++)
    if (c->arg[k] && !(allowed & (1u << k)))
      return act__fail(ACT_INVALID_ARGUMENT, "%s: takes no '%s' operand", op,
                       act__arg_names[k]);

  c->n = act_tensor_numel(x);
  c->ny = act_tensor_numel(y);
  c->axis = -1;
  c->outer = 1, c->len = c->n, c->inner = 1;

  if (desc->op == ACT_OP_ONE_HOT) {
    if (x->dtype != ACT_I32)
      return act__fail(ACT_BAD_DTYPE, "one_hot: x must be i32 indices, not %s",
                       act_dtype_name(x->dtype));
    if (!act__is_float(y->dtype) && y->dtype != ACT_I32)
      return act__fail(ACT_BAD_DTYPE, "one_hot: y must be f32, f16, bf16 or "
                       "i32, not %s", act_dtype_name(y->dtype));
    if (x->ndim >= ACT_MAX_DIMS)
      return act__fail(ACT_BAD_SHAPE, "one_hot: x has %d dimensions; the "
                       "output would exceed %d", x->ndim, ACT_MAX_DIMS);
    int axis;
    st = act__norm_axis(op, desc->axis, x->ndim + 1, &axis);
    if (st)
      return st;
    act_tensor_t want = *x;
    want.ndim = x->ndim + 1;
    for (int i = 0, j = 0; i < want.ndim; i++)
      want.dims[i] = i == axis ? (int64_t)desc->p[0] : x->dims[j++];
    if (!act__same_shape(y, &want))
      return act__shape_mismatch(op, "y", y, &want);
    c->axis = axis;
    act__geometry(y, axis, c);
    return ACT_OK;
  }

  if (!act__is_float(x->dtype))
    return act__fail(ACT_BAD_DTYPE, "%s: x must be f32, f16 or bf16, not %s",
                     op, act_dtype_name(x->dtype));
  if (y->dtype != x->dtype)
    return act__fail(ACT_BAD_DTYPE, "%s: y is %s but x is %s", op,
                     act_dtype_name(y->dtype), act_dtype_name(x->dtype));

  switch (desc->op) {
  case ACT_OP_LOGSUMEXP: {
    bool keep = desc->p[0] != 0.0, sign = desc->p[1] != 0.0;
    act_tensor_t want = *x;
    if (desc->axis == ACT_AXIS_ALL) {
      want.ndim = keep ? x->ndim : 0;
      for (int i = 0; i < want.ndim; i++)
        want.dims[i] = 1;
    } else {
      int axis = 0;
      st = act__norm_axis(op, desc->axis, x->ndim, &axis);
      if (st)
        return st;
      c->axis = axis;
      act__geometry(x, axis, c);
      if (keep) {
        want.dims[axis] = 1;
      } else {
        want.ndim = x->ndim - 1;
        for (int i = axis; i < want.ndim; i++)
          want.dims[i] = x->dims[i + 1];
      }
    }
    if (!act__same_shape(y, &want))
      return act__shape_mismatch(op, "y", y, &want);
    const act_tensor_t *b = c->arg[ACT_ARG_B], *s = c->arg[ACT_ARG_SIGN];
    if (b) {
      if (b->dtype != x->dtype)
        return act__fail(ACT_BAD_DTYPE, "logsumexp: b is %s but x is %s (they "
                         "must match)", act_dtype_name(b->dtype),
                         act_dtype_name(x->dtype));
      if ((st = act__check_broadcast(op, "b", b, x)))
        return st;
    }
    if (sign && !s)
      return act__fail(ACT_INVALID_ARGUMENT, "logsumexp: return_sign = 1 "
                       "needs a 'sign' operand");
    if (!sign && s)
      return act__fail(ACT_INVALID_ARGUMENT, "logsumexp: a 'sign' operand "
                       "needs return_sign = 1");
    if (s && (!act__same_shape(s, y) || s->dtype != y->dtype))
      return act__fail(ACT_BAD_SHAPE, "logsumexp: sign must have y's shape "
                       "and dtype");
    return ACT_OK;
  }
  case ACT_OP_GLU: {
    int axis;
    if ((st = act__norm_axis(op, desc->axis, x->ndim, &axis)))
      return st;
    if (x->dims[axis] % 2)
      return act__fail(ACT_BAD_SHAPE, "glu: axis %d has odd length %lld; it "
                       "must split in two halves", desc->axis,
                       (long long)x->dims[axis]);
    act_tensor_t want = *x;
    want.dims[axis] /= 2;
    if (!act__same_shape(y, &want))
      return act__shape_mismatch(op, "y", y, &want);
    c->axis = axis;
    act__geometry(x, axis, c);
    return ACT_OK;
  }
  default:
    break;
  }

  if (!act__same_shape(y, x))
    return act__shape_mismatch(op, "y", y, x);

  switch (desc->op) {
  case ACT_OP_PRELU: {
    const act_tensor_t *a = c->arg[ACT_ARG_ALPHA];
    if (!a)
      return ACT_OK;
    if (a->dtype != x->dtype)
      return act__fail(ACT_BAD_DTYPE, "prelu: alpha is %s but x is %s (they "
                       "must match)", act_dtype_name(a->dtype),
                       act_dtype_name(x->dtype));
    int64_t na = act_tensor_numel(a);
    if (na == 1)
      return ACT_OK;
    int axis;
    if ((st = act__norm_axis(op, desc->axis, x->ndim, &axis)))
      return act__fail(ACT_BAD_SHAPE, "prelu: alpha has %lld values but x "
                       "has no channel axis %d", (long long)na, desc->axis);
    if (na != x->dims[axis])
      return act__fail(ACT_BAD_SHAPE, "prelu: alpha has %lld values; channel "
                       "axis %d of x has %lld (alpha needs 1 or that many)",
                       (long long)na, desc->axis, (long long)x->dims[axis]);
    c->axis = axis;
    act__geometry(x, axis, c);
    return ACT_OK;
  }
  case ACT_OP_SOFTMAX:
  case ACT_OP_LOG_SOFTMAX:
  case ACT_OP_SOFTMIN:
  case ACT_OP_STANDARDIZE: {
    int axis;
    if ((st = act__norm_axis(op, desc->axis, x->ndim, &axis)))
      return st;
    c->axis = axis;
    act__geometry(x, axis, c);
    const act_tensor_t *w = c->arg[ACT_ARG_WHERE];
    if (w && w->dtype != ACT_U8)
      return act__fail(ACT_BAD_DTYPE, "%s: where must be u8, not %s", op,
                       act_dtype_name(w->dtype));
    if (w && !act__same_shape(w, x))
      return act__shape_mismatch(op, "where", w, x);
    for (int k = ACT_ARG_MEAN; k <= ACT_ARG_VARIANCE; k++) {
      const act_tensor_t *m = c->arg[k];
      if (!m)
        continue;
      if (m->dtype != x->dtype)
        return act__fail(ACT_BAD_DTYPE, "standardize: %s is %s but x is %s "
                         "(they must match)", act__arg_names[k],
                         act_dtype_name(m->dtype), act_dtype_name(x->dtype));
      if ((st = act__check_broadcast(op, act__arg_names[k], m, x)))
        return st;
    }
    return ACT_OK;
  }
  default:
    return ACT_OK;
  }
}

/* ---- backward calls -------------------------------------------------------- */

/*
 * A backward call is checked by building the forward call it differentiates
 * (the "forward view": x, the y that forward would write, and the forward
 * operands) and preparing that with act__call_prepare, which validates the
 * parameters, the axis and the forward operands and gives the geometry.
 * The gradients are then checked against the view: dy has y's shape, dx
 * x's, dalpha alpha's, all of x's dtype.
 */
act_status_t act__call_prepare_bwd(const act_op_desc_t *desc, size_t nargs,
                                   const act_arg_t *args, int host,
                                   act__call_t *c) {
  memset(c, 0, sizeof *c);
  if (!desc)
    return act__fail(ACT_NULL_POINTER, "op descriptor is NULL");
  if (nargs && !args)
    return act__fail(ACT_NULL_POINTER, "args is NULL but nargs = %zu", nargs);
  const act_op_info_t *info = act_op_info(desc->op);
  if (!info)
    return act__fail(ACT_INVALID_ARGUMENT, "op descriptor holds op %d, not "
                     "an act_op_t", (int)desc->op);
  const char *op = info->name;
  if (desc->op == ACT_OP_ONE_HOT)
    return act__fail(ACT_UNSUPPORTED, "one_hot has no gradient (its input "
                     "is integer indices): no backward");
  if (act__op_is_custom(desc->op) && !act__custom_has_derivative(desc->op, 0))
    return act__fail(ACT_UNSUPPORTED, "custom op '%s' has no derivative "
                     "(%s): no backward", op,
                     act__custom_no_derivative(desc->op));
  char who[64];
  snprintf(who, sizeof who, "%s backward", op);
  const act_tensor_t *arg[ACT_ARG_COUNT] = {0};
  act_status_t st = act__collect(who, nargs, args, host, arg);
  if (st)
    return st;

  /* What each op's backward takes (act_backward in actkit.h). */
  bool softmax_like = desc->op == ACT_OP_SOFTMAX ||
                      desc->op == ACT_OP_LOG_SOFTMAX ||
                      desc->op == ACT_OP_SOFTMIN;
  unsigned need = (1u << ACT_ARG_DY) | (1u << ACT_ARG_DX), extra = 0;
  if (softmax_like) {
    need |= 1u << ACT_ARG_Y;
    extra = 1u << ACT_ARG_WHERE;
  } else if (desc->op == ACT_OP_LOGSUMEXP) {
    need |= (1u << ACT_ARG_X) | (1u << ACT_ARG_Y);
    extra = 1u << ACT_ARG_B;
  } else {
    need |= 1u << ACT_ARG_X;
    if (desc->op == ACT_OP_PRELU)
      extra = (1u << ACT_ARG_ALPHA) | (1u << ACT_ARG_DALPHA);
    else if (desc->op == ACT_OP_STANDARDIZE)
      extra = (1u << ACT_ARG_MEAN) | (1u << ACT_ARG_VARIANCE);
  }
  for (int k = 0; k < ACT_ARG_COUNT; k++) {
    if (!arg[k] && (need & (1u << k)))
      return act__fail(ACT_INVALID_ARGUMENT, "%s: operand '%s' is missing "
                       "(%s)", who, act__arg_names[k],
                       k == ACT_ARG_DY   ? "the incoming gradient"
                       : k == ACT_ARG_DX ? "the gradient to write"
                       : k == ACT_ARG_Y  ? "the forward output"
                                         : "the forward input");
    if (arg[k] && !((need | extra) & (1u << k)))
      return act__fail(ACT_INVALID_ARGUMENT, "%s: takes no '%s' operand%s",
                       who, act__arg_names[k],
                       softmax_like && k == ACT_ARG_X
                           ? " (it works from y, the forward output)"
                           : "");
  }
  if (arg[ACT_ARG_DALPHA] && !arg[ACT_ARG_ALPHA])
    return act__fail(ACT_INVALID_ARGUMENT, "prelu backward: 'dalpha' needs "
                     "the 'alpha' tensor it is the gradient of");

  /* The forward view. x: the forward input (softmax family: y, of the
   * same shape); y: what forward would write. */
  const act_tensor_t *x = softmax_like ? arg[ACT_ARG_Y] : arg[ACT_ARG_X];
  const char *xname = softmax_like ? "y" : "x";
  if (!act__is_float(x->dtype))
    return act__fail(ACT_BAD_DTYPE, "%s: %s must be f32, f16 or bf16, not %s",
                     who, xname, act_dtype_name(x->dtype));
  act_tensor_t fy = *x; /* element-wise and most axis ops: x's shape */
  if (desc->op == ACT_OP_LOGSUMEXP)
    fy = *arg[ACT_ARG_Y];
  if (desc->op == ACT_OP_GLU && x->ndim > 0) {
    int a = desc->axis < 0 ? desc->axis + x->ndim : desc->axis;
    if (a >= 0 && a < x->ndim)
      fy.dims[a] /= 2; /* odd lengths and bad axes: act__call_prepare says */
  }
  act_arg_t view[ACT_ARG_COUNT];
  size_t nv = 0;
  view[nv++] = (act_arg_t){ACT_ARG_X, *x};
  view[nv++] = (act_arg_t){ACT_ARG_Y, fy};
  static const act_arg_kind_t fwd_extra[] = {ACT_ARG_WHERE, ACT_ARG_ALPHA,
                                             ACT_ARG_B, ACT_ARG_MEAN,
                                             ACT_ARG_VARIANCE};
  for (size_t i = 0; i < sizeof fwd_extra / sizeof *fwd_extra; i++)
    if (arg[fwd_extra[i]])
      view[nv++] = (act_arg_t){fwd_extra[i], *arg[fwd_extra[i]]};
  if (desc->op == ACT_OP_LOGSUMEXP && desc->p[1] != 0.0)
    view[nv++] = (act_arg_t){ACT_ARG_SIGN, fy}; /* not needed backward */
  act__call_t fc;
  if ((st = act__call_prepare(desc, nv, view, host, &fc)))
    return st;

  /* The gradients against the view. */
  const act_tensor_t *dy = arg[ACT_ARG_DY], *dx = arg[ACT_ARG_DX];
  if (dy->dtype != x->dtype)
    return act__fail(ACT_BAD_DTYPE, "%s: dy is %s but %s is %s (they must "
                     "match)", who, act_dtype_name(dy->dtype), xname,
                     act_dtype_name(x->dtype));
  if (dx->dtype != x->dtype)
    return act__fail(ACT_BAD_DTYPE, "%s: dx is %s but %s is %s (they must "
                     "match)", who, act_dtype_name(dx->dtype), xname,
                     act_dtype_name(x->dtype));
  if (!act__same_shape(dy, &fy))
    return act__shape_mismatch(who, desc->op == ACT_OP_GLU
                                        ? "dy (y's shape: x halved)"
                                        : "dy (y's shape)",
                               dy, &fy);
  if (!act__same_shape(dx, x))
    return act__shape_mismatch(who, softmax_like ? "dx (y's shape)"
                                                 : "dx (x's shape)",
                               dx, x);
  const act_tensor_t *da = arg[ACT_ARG_DALPHA], *al = arg[ACT_ARG_ALPHA];
  if (da) {
    if (da->dtype != al->dtype)
      return act__fail(ACT_BAD_DTYPE, "%s: dalpha is %s but alpha is %s "
                       "(they must match)", who, act_dtype_name(da->dtype),
                       act_dtype_name(al->dtype));
    if (!act__same_shape(da, al))
      return act__shape_mismatch(who, "dalpha (alpha's shape)", da, al);
  }

  /* The prepared call: the forward geometry, the backward operands. */
  *c = fc;
  memcpy(c->arg, arg, sizeof c->arg);
  c->n = act_tensor_numel(x);
  c->ny = act_tensor_numel(dy);
  c->backward = 1;
  return ACT_OK;
}
