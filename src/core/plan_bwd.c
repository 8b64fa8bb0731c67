/*
 * plan_bwd.c - kernel dispatches for backward calls (docs/ops.md, "Gradients"): the
 * element-wise ops, prelu's slope gradient and glu run from
 * kernels/opencl/eltwise_bwd.cl; softmax, log_softmax, softmin, logsumexp
 * and standardize from axis.cl (act_softmax_bwd, act_logsumexp_bwd,
 * act_standardize_bwd), in the
 * launch shapes of their forward kernels (plan_axis.c).
 *
 * Operands (act__call_prepare_bwd): element-wise X, DY -> DX (prelu: ALPHA
 * -> DALPHA too); softmax family Y, DY (+ WHERE) -> DX; logsumexp X, Y,
 * DY (+ B) -> DX; glu and standardize X, DY -> DX (+ MEAN / VARIANCE).
 */
#include "internal.h"

#include <string.h>

/* Element-wise: dx = dy f'(x), one dispatch (split like the forward). */
static act_status_t act__plan_eltwise_bwd(const act__call_t *c,
                                          const act__limits_t *lim,
                                          act__plan_t *plan) {
  const act_op_desc_t *desc = c->desc;
  const char *name = act_op_info(desc->op)->name;
  const act_tensor_t *x = c->arg[ACT_ARG_X], *dy = c->arg[ACT_ARG_DY];
  const act_tensor_t *dx = c->arg[ACT_ARG_DX];
  const act_tensor_t *alpha = c->arg[ACT_ARG_ALPHA];
  const act_tensor_t *dalpha = c->arg[ACT_ARG_DALPHA];
  if (c->n > UINT32_MAX)
    return act__fail(ACT_UNSUPPORTED, "%s: %lld elements is more than one "
                     "device call handles (2^32 - 1)", name, (long long)c->n);
  if (c->n == 0 && !(dalpha && act_tensor_numel(dalpha) > 0))
    return ACT_OK;
  uint32_t xo, dyo, dxo, ao = 0, dao = 0;
  act_status_t st;
  if ((st = act__offset(name, "x", x, &xo)) ||
      (st = act__offset(name, "dy", dy, &dyo)) ||
      (st = act__offset(name, "dx", dx, &dxo)))
    return st;
  int dt = act__dtype_code(x->dtype);
  bool tensor_alpha = desc->op == ACT_OP_PRELU && alpha;
  bool one = tensor_alpha && act_tensor_numel(alpha) == 1;
  uint32_t inner = one ? 1u : (uint32_t)c->inner;
  uint32_t channels = one ? 1u : (uint32_t)c->len;
  if (tensor_alpha && (st = act__offset(name, "alpha", alpha, &ao)))
    return st;
  if (desc->op == ACT_OP_PRELU && dalpha) {
    /* dalpha first: dx may overwrite x or dy (in place). One work-group
     * per channel; over all elements when alpha is one value. */
    if ((st = act__offset(name, "dalpha", dalpha, &dao)))
      return st;
    uint64_t nch = (uint64_t)act_tensor_numel(dalpha);
    uint32_t ch = nch == 1 ? 1u : channels;
    uint32_t in = nch == 1 ? 1u : inner;
    uint64_t per = (uint64_t)ch * in;
    uint64_t outer = per ? (uint64_t)c->n / per : 0;
    act__dispatch_t *d = &plan->d[plan->n++];
    d->file = "eltwise_bwd.cl";
    d->kernel = "act_prelu_dalpha";
    d->op = desc->op;
    d->dtype = dt;
    act__bind(d, x, dalpha->buffer);
    act__bind(d, dy, dalpha->buffer);
    act__bind(d, dalpha, dalpha->buffer);
    uint32_t group = act__axis_group(lim);
    d->nlocal = 1;
    d->local_bytes[0] = group * 8u;
    act__disp_u32(d, (uint32_t)outer);
    act__disp_u32(d, ch);
    act__disp_u32(d, in);
    act__disp_u32(d, xo);
    act__disp_u32(d, dyo);
    act__disp_u32(d, dao);
    act__launch(d, ch, group, lim);
  }
  if (c->n == 0)
    return ACT_OK;
  act__dispatch_t *d = &plan->d[plan->n++];
  d->file = "eltwise_bwd.cl";
  d->op = desc->op;
  d->dtype = dt;
  bool vec4 = false;
  if (tensor_alpha) {
    d->kernel = "act_prelu_bwd";
    act__disp_buf(d, x);
    act__disp_buf(d, alpha);
    act__disp_buf(d, dy);
    act__disp_buf(d, dx);
    act__disp_u32(d, (uint32_t)c->n);
    act__disp_u32(d, xo);
    act__disp_u32(d, ao);
    act__disp_u32(d, dyo);
    act__disp_u32(d, dxo);
    act__disp_u32(d, inner);
    act__disp_u32(d, channels);
    d->split = 1;
    d->split_n = 0;
    d->split_off[0] = 1 + 1;
    d->split_off[2] = 1 + 3;
    d->split_off[3] = 1 + 4;
    d->split_quantum = one ? 1u : inner * channels;
  } else {
    /* whole vectors of 4 elements (Vulkan): act_eltwise_bwd4 */
    vec4 = lim->eltwise_vec4 && !act__op_is_custom(desc->op) &&
           c->n % 4 == 0 && xo % 4 == 0 && dyo % 4 == 0 && dxo % 4 == 0;
    d->kernel = vec4 ? "act_eltwise_bwd4" : "act_eltwise_bwd";
    act__disp_buf(d, x);
    act__disp_buf(d, dy);
    act__disp_buf(d, dx);
    act__disp_u32(d, (uint32_t)c->n);
    act__disp_u32(d, xo);
    act__disp_u32(d, dyo);
    act__disp_u32(d, dxo);
    d->split = 1;
    d->split_n = 0;
    d->split_off[0] = 1 + 1;
    d->split_off[1] = 1 + 2;
    d->split_off[2] = 1 + 3;
    d->split_quantum = vec4 ? 4 : 1;
    d->split_per = vec4 ? 4 : 1;
    double q[ACT_MAX_PARAMS];
    d->op = act__kernel_op(desc, q);
    /* gelu's forms are two kernels (eltwise_bwd.cl) */
    if (d->op == ACT_OP_GELU && q[0] != 0.0)
      d->kernel = vec4 ? "act_eltwise_bwd4_gelu_tanh"
                       : "act_eltwise_bwd_gelu_tanh";
    for (int i = 0; i < ACT_MAX_PARAMS; i++)
      act__disp_param(d, q[i]);
  }
  uint64_t per = vec4 ? 4 : 1;
  act__launch_items(d, ((uint64_t)c->n + per - 1) / per, 256, lim);
  return ACT_OK;
}

act_status_t act__plan_backward(const act__call_t *c,
                                const act__limits_t *lim, act__plan_t *plan) {
  memset(plan, 0, sizeof *plan);
  const act_op_desc_t *desc = c->desc;
  act_op_t op = desc->op;
  const char *name = act_op_info(op)->name;
  if (act__op_is_custom(op) && !act__custom_has_derivative(op, 1))
    return act__fail(ACT_UNSUPPORTED, "custom op '%s' has no derivative in "
                     "its source (%s): no backward on devices", name,
                     act__custom_no_derivative(op));
  if (act_op_info(op)->kind == ACT_KIND_ELTWISE)
    return act__plan_eltwise_bwd(c, lim, plan);
  if (op == ACT_OP_ONE_HOT)
    return act__fail(ACT_UNSUPPORTED, "one_hot has no gradient");
  const act_tensor_t *x = c->arg[ACT_ARG_X], *y = c->arg[ACT_ARG_Y];
  const act_tensor_t *dy = c->arg[ACT_ARG_DY], *dx = c->arg[ACT_ARG_DX];
  if (c->n > UINT32_MAX || c->ny > UINT32_MAX)
    return act__fail(ACT_UNSUPPORTED, "%s: %lld elements is more than one "
                     "device call handles (2^32 - 1)", name,
                     (long long)(c->n > c->ny ? c->n : c->ny));
  if (c->n == 0 || !dx || !dx->buffer)
    return ACT_OK;
  act_status_t st;
  uint32_t xo = 0, yo = 0, dyo = 0, dxo = 0;
  if ((st = act__offset(name, "x", x, &xo)) ||
      (st = act__offset(name, "y", y, &yo)) ||
      (st = act__offset(name, "dy", dy, &dyo)) ||
      (st = act__offset(name, "dx", dx, &dxo)))
    return st;
  act_buffer_t *ob = dx->buffer;
  const act_tensor_t *src = x ? x : y;
  act__dispatch_t *d = &plan->d[plan->n++];
  d->op = op;
  d->dtype = act__dtype_code(src->dtype);
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
    /* CPU drivers: contiguous f32 rows as loops in one work-item each
     * (act_softmax_bwd_row), as for the forward pass (plan_axis.c) */
    bool rowk = act__axis_row_kernel(lim, len, inner, y->dtype);
    if (rowk)
      pg = false;
    d->file = "axis.cl";
    /* LOCAL float4 red, float redm (unused by the row kernel) */
    d->kernel = rowk ? "act_softmax_bwd_row" : "act_softmax_bwd";
    act__bind(d, y, ob);
    act__bind(d, w, ob);
    act__bind(d, dy, ob);
    act__bind(d, dx, ob);
    act__disp_u32(d, (uint32_t)rows);
    act__disp_u32(d, (uint32_t)len);
    act__disp_u32(d, (uint32_t)inner);
    act__disp_u32(d, yo);
    act__disp_u32(d, wo);
    act__disp_u32(d, dyo);
    act__disp_u32(d, dxo);
    act__disp_u32(d, w != NULL);
    act__disp_u32(d, pg);
    act__launch_rows(d, rows, pg, 16, 4, lim);
    return ACT_OK;
  }
  case ACT_OP_LOGSUMEXP: {
    /* the row's max and sum recomputed from x (axis.cl) */
    const act_tensor_t *b = c->arg[ACT_ARG_B];
    uint32_t bo, bs[3] = {0, 0, 0};
    if ((st = act__offset(name, "b", b, &bo)))
      return st;
    if (b && (st = act__bcast_view(c, b, "b", bs)))
      return st;
    if (c->axis < 0) {
      rows = 1;
      len = (uint64_t)c->n;
      inner = 1;
    }
    bool pg = act__axis_per_group(rows, len, inner);
    /* CPU drivers: as act_logsumexp_row (plan_axis.c) */
    bool rowk = act__axis_row_kernel(lim, len, inner, x->dtype);
    if (rowk)
      pg = false;
    d->file = "axis.cl";
    d->kernel = rowk ? "act_logsumexp_bwd_row" : "act_logsumexp_bwd";
    act__bind(d, x, ob);
    act__bind(d, b, ob);
    act__bind(d, dy, ob);
    act__bind(d, dx, ob);
    act__disp_u32(d, (uint32_t)rows);
    act__disp_u32(d, (uint32_t)len);
    act__disp_u32(d, (uint32_t)inner);
    act__disp_u32(d, xo);
    act__disp_u32(d, bo);
    for (int k = 0; k < 3; k++)
      act__disp_u32(d, bs[k]);
    act__disp_u32(d, dyo);
    act__disp_u32(d, dxo);
    act__disp_u32(d, b != NULL);
    act__disp_u32(d, desc->p[1] != 0.0);
    act__disp_u32(d, pg);
    act__launch_rows(d, rows, pg, 8, 4, lim);
    return ACT_OK;
  }
  case ACT_OP_GLU: {
    uint64_t ny = (uint64_t)c->n / 2;
    d->file = "eltwise_bwd.cl";
    d->kernel = "act_glu_bwd";
    act__bind(d, x, ob);
    act__bind(d, dy, ob);
    act__bind(d, dx, ob);
    act__disp_u32(d, (uint32_t)ny);
    act__disp_u32(d, (uint32_t)(len / 2));
    act__disp_u32(d, (uint32_t)inner);
    act__disp_u32(d, xo);
    act__disp_u32(d, dyo);
    act__disp_u32(d, dxo);
    /* one work-item per element of y (eltwise_bwd.cl) */
    act__launch_items(d, ny, act__axis_group(lim), lim);
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
    /* CPU drivers: as act_standardize_row (plan_axis.c) */
    bool rowk = !m && !v && act__axis_row_kernel(lim, len, inner, x->dtype);
    if (rowk)
      pg = false;
    d->file = "axis.cl";
    d->kernel = rowk ? "act_standardize_bwd_row" : "act_standardize_bwd";
    act__bind(d, x, ob);
    act__bind(d, m, ob);
    act__bind(d, v, ob);
    act__bind(d, dy, ob);
    act__bind(d, dx, ob);
    act__disp_u32(d, (uint32_t)rows);
    act__disp_u32(d, (uint32_t)len);
    act__disp_u32(d, (uint32_t)inner);
    act__disp_u32(d, xo);
    act__disp_u32(d, dyo);
    act__disp_u32(d, dxo);
    act__disp_u32(d, mo);
    for (int k = 0; k < 3; k++)
      act__disp_u32(d, ms[k]);
    act__disp_u32(d, vo);
    for (int k = 0; k < 3; k++)
      act__disp_u32(d, vs[k]);
    act__disp_u32(d, (m != NULL) | (v != NULL) << 1 | (uint32_t)pg << 2);
    act__disp_param(d, desc->p[0]);
    act__disp_param(d, (double)len);
    act__launch_rows(d, rows, pg, 16, 4, lim);
    return ACT_OK;
  }
  default:
    break;
  }
  return act__fail(ACT_INTERNAL, "%s: no backward plan", name);
}
