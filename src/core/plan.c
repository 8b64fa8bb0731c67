/*
 * plan.c - from a validated call to kernel dispatches (see internal.h),
 * for the element-wise kernels; plan_axis.c has the axis ops.
 *
 * Element-wise kernels take one element per work-item; a launch is 2-D
 * when one dimension cannot hold enough work-groups, so one dispatch covers
 * any tensor of up to 2^32 - 1 elements.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

int act__dtype_code(act_dtype_t t) {
  return t == ACT_F32 ? 0 : t == ACT_F16 ? 1 : t == ACT_BF16 ? 2 : -1;
}

void act__disp_buf(act__dispatch_t *d, const act_tensor_t *t) {
  d->buf[d->nbuf++] = t->buffer;
}

void act__disp_u32(act__dispatch_t *d, uint32_t v) {
  d->scalar[d->nscalar].is_float = 0;
  d->scalar[d->nscalar++].v.u = v;
}

void act__disp_f32(act__dispatch_t *d, float v) {
  d->scalar[d->nscalar].is_float = 1;
  d->scalar[d->nscalar++].v.f = v;
}

void act__disp_param(act__dispatch_t *d, double v) {
  float hi = (float)v;
  float lo = isfinite(hi) ? (float)(v - (double)hi) : 0.0f;
  act__disp_f32(d, hi);
  act__disp_f32(d, lo);
}

act_status_t act__elem_offset(const act_tensor_t *t, uint32_t *off) {
  size_t e = t->offset / act_dtype_size(t->dtype);
  if (e > UINT32_MAX)
    return act__fail(ACT_UNSUPPORTED, "a tensor offset of %zu elements is "
                     "beyond what device kernels address (2^32 - 1)", e);
  *off = (uint32_t)e;
  return ACT_OK;
}

/* A launch of exactly enough work-items for `items` elements (kernels
 * bound-check with ACT_LINEAR_ID() < n): 1-D, or 2-D when the device
 * cannot hold that many work-groups in one dimension. */
void act__launch_items(act__dispatch_t *d, uint64_t items,
                              uint32_t group, const act__limits_t *lim) {
  if (group > lim->max_group_size)
    group = lim->max_group_size;
  uint64_t groups = (items + group - 1) / group;
  uint64_t cap = lim->max_groups[0] ? lim->max_groups[0] : 65535;
  if (groups == 0)
    groups = 1;
  uint64_t gx = groups <= cap ? groups : cap;
  uint64_t gy = (groups + gx - 1) / gx;
  d->dims = gy > 1 ? 2 : 1;
  d->global[0] = (uint32_t)(gx * group);
  d->local[0] = group;
  d->global[1] = (uint32_t)gy;
  d->local[1] = 1;
  d->global[2] = d->local[2] = 1;
}

void act__kernel_params(const act_op_desc_t *desc,
                        double q[ACT_MAX_PARAMS]) {
  memcpy(q, desc->p, sizeof desc->p);
  if (desc->op == ACT_OP_HARD_SIGMOID || desc->op == ACT_OP_HARD_SILU) {
    /* The kernel evaluates alpha (x + beta/alpha): see act_ops.cl. */
    q[2] = desc->p[1];
    q[1] = desc->p[0] != 0.0 ? desc->p[1] / desc->p[0] : 0.0;
  }
}

act_op_t act__kernel_op(const act_op_desc_t *desc,
                        double q[ACT_MAX_PARAMS]) {
  act__kernel_params(desc, q);
  /* relu at its defaults (slope 0, no max_value, threshold 0) runs as
   * threshold(0, 0), x > 0 ? x : 0, forward and backward: the same value
   * for every input (NaN passes, -0 and -inf give +0; the gradient is dy
   * or dy * 0), without the general form's double-float parameter
   * arithmetic, which made f16 relu on CPU drivers instruction-bound and
   * relu's gradient 5x slower than threshold's (bench/RESULTS.md). */
  if (desc->op == ACT_OP_RELU && q[0] == 0.0 && q[1] == INFINITY &&
      q[2] == 0.0) {
    for (int i = 0; i < ACT_MAX_PARAMS; i++)
      q[i] = 0.0;
    return ACT_OP_THRESHOLD;
  }
  return desc->op;
}

const char *act__eltwise_kernel(act_op_t op, const double q[ACT_MAX_PARAMS],
                                bool vec4) {
  /* gelu's tanh form, softplus with beta != 1 and celu with alpha != 1
   * are kernels of their own (eltwise.cl, "two forms") */
  bool alt = (op == ACT_OP_GELU && q[0] != 0.0) ||
             (op == ACT_OP_SOFTPLUS && q[0] != 1.0) ||
             (op == ACT_OP_CELU && q[0] != 1.0);
  if (alt)
    return vec4 ? "act_eltwise4_alt" : "act_eltwise_alt";
  return vec4 ? "act_eltwise4" : "act_eltwise";
}

act_status_t act__plan_build(const act__call_t *c, const act__limits_t *lim,
                             act__plan_t *plan) {
  memset(plan, 0, sizeof *plan);
  if (c->backward)
    return act__plan_backward(c, lim, plan);
  const act_op_desc_t *desc = c->desc;
  if (act_op_info(desc->op)->kind != ACT_KIND_ELTWISE)
    return act__plan_axis(c, lim, plan);
  if (c->n > UINT32_MAX)
    return act__fail(ACT_UNSUPPORTED, "%s: %lld elements is more than one "
                     "device call handles (2^32 - 1)",
                     act_op_info(desc->op)->name, (long long)c->n);
  if (c->n == 0)
    return ACT_OK;
  const act_tensor_t *x = c->arg[ACT_ARG_X], *y = c->arg[ACT_ARG_Y];
  const act_tensor_t *alpha = c->arg[ACT_ARG_ALPHA];
  uint32_t xo = 0, yo = 0, ao = 0;
  act_status_t st;
  if ((st = act__elem_offset(x, &xo)) || (st = act__elem_offset(y, &yo)))
    return st;
  act__dispatch_t *d = &plan->d[plan->n++];
  d->file = "eltwise.cl";
  d->op = desc->op;
  d->dtype = act__dtype_code(x->dtype);
  if (desc->op == ACT_OP_PRELU && alpha) {
    /* Slopes from a tensor: one per channel, or one for all (channels =
     * inner = 1 make every element read slope 0). */
    bool one = act_tensor_numel(alpha) == 1;
    if ((st = act__elem_offset(alpha, &ao)))
      return st;
    d->kernel = "act_prelu";
    act__disp_buf(d, x);
    act__disp_buf(d, alpha);
    act__disp_buf(d, y);
    act__disp_u32(d, (uint32_t)c->n);
    act__disp_u32(d, xo);
    act__disp_u32(d, ao);
    act__disp_u32(d, yo);
    act__disp_u32(d, one ? 1u : (uint32_t)c->inner);
    act__disp_u32(d, one ? 1u : (uint32_t)c->len);
    /* Pieces must start at a multiple of inner * channels, so that each
     * keeps its elements' slopes; alpha is read whole. */
    d->split = 1;
    d->split_n = 0;
    d->split_off[0] = 1 + 1;
    d->split_off[2] = 1 + 3;
    d->split_quantum = one ? 1u : (uint32_t)(c->inner * c->len);
  } else {
    /* whole vectors of 4 elements (Vulkan): act_eltwise4 (eltwise.cl) */
    bool vec4 = lim->eltwise_vec4 && !act__op_is_custom(desc->op) &&
                c->n % 4 == 0 && xo % 4 == 0 && yo % 4 == 0;
    d->kernel = vec4 ? "act_eltwise4" : "act_eltwise";
    act__disp_buf(d, x);
    act__disp_buf(d, y);
    d->split = 1; /* n, xoff, yoff: scalars 0, 1, 2 */
    d->split_n = 0;
    d->split_off[0] = 1 + 1;
    d->split_off[1] = 1 + 2;
    d->split_quantum = vec4 ? 4 : 1;
    act__disp_u32(d, (uint32_t)c->n);
    act__disp_u32(d, xo);
    act__disp_u32(d, yo);
    double q[ACT_MAX_PARAMS];
    d->op = act__kernel_op(desc, q);
    d->kernel = act__eltwise_kernel(d->op, q, vec4);
    for (int i = 0; i < ACT_MAX_PARAMS; i++)
      act__disp_param(d, q[i]);
    d->split_per = vec4 ? 4 : (lim->eltwise_per > 1 ? lim->eltwise_per : 1);
  }
  uint32_t per = d->split_per > 1 ? d->split_per : 1;
  act__launch_items(d, ((uint64_t)c->n + per - 1) / per, 256, lim);
  return ACT_OK;
}
