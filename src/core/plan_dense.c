/*
 * plan_dense.c - the dense layer as kernel dispatches (see internal.h),
 * for every backend that runs plans (OpenCL, Vulkan).
 *
 * Our GEMM (gemm.cl, act_gemm) applies the activation in its epilogue when
 * it has a variant for it (src/core/variants.c: the common activations)
 * and the device does not prefer a separate pass (act__limits_t
 * .dense_unfused, ACTKIT_DENSE_FUSE); any other element-wise op runs as
 * act_gemm with ACT_OP linear followed by act_eltwise in place on y.
 * After a vendor GEMM (CLBlast) the bias and
 * activation are one element-wise pass (act_dense_epilogue), which OpenCL
 * builds for every op.
 */
#include "internal.h"

#include <string.h>

#define ACT__GEMM_WG 16u
#define ACT__GEMM_TILE 64u
#define ACT__GEMM_KS 16u

/* Whether act_gemm has a variant with op fused (variants.c). */
static bool act__gemm_fuses(int op) {
  act__variant_t v[128];
  size_t n = act__variants("gemm.cl", v, 128);
  for (size_t i = 0; i < n && i < 128; i++)
    if (strcmp(v[i].kernel, "act_gemm") == 0 && v[i].op == op)
      return true;
  return false;
}

/* The element offset of t (0 when absent), checking that its last element
 * is addressable with 32 bits, as the kernels index. */
static act_status_t act__dense_off(const char *name, const act_tensor_t *t,
                                   uint32_t *off) {
  *off = 0;
  if (!t)
    return ACT_OK;
  act_status_t st = act__elem_offset(t, off);
  if (st)
    return st;
  uint64_t last = (uint64_t)*off + (uint64_t)act_tensor_numel(t);
  if (last > UINT32_MAX)
    return act__fail(ACT_UNSUPPORTED, "dense: %s ends at element %llu, "
                     "beyond what device kernels address (2^32 - 1)", name,
                     (unsigned long long)last);
  return ACT_OK;
}

typedef struct {
  uint32_t x, w, b, y, z;
} act__dense_offs_t;

static act_status_t act__dense_offsets(const act__dense_t *c,
                                       act__dense_offs_t *o) {
  act_status_t st;
  if ((st = act__dense_off("x", c->x, &o->x)) ||
      (st = act__dense_off("w", c->w, &o->w)) ||
      (st = act__dense_off("bias", c->bias, &o->b)) ||
      (st = act__dense_off("y", c->y, &o->y)) ||
      (st = act__dense_off("z", c->z, &o->z)))
    return st;
  return ACT_OK;
}

static void act__dense_params(act__dispatch_t *d, const act_op_desc_t *a) {
  double q[ACT_MAX_PARAMS];
  act__kernel_params(a, q);
  for (int i = 0; i < ACT_MAX_PARAMS; i++)
    act__disp_param(d, q[i]);
}

/* act_eltwise in place on y (the activation when act_gemm has no variant
 * for it): as plan.c plans it, splittable. */
static void act__dense_act_pass(const act__dense_t *c, uint32_t yoff,
                                const act__limits_t *lim, act__dispatch_t *d) {
  uint32_t n = (uint32_t)(c->m * c->n);
  d->file = "eltwise.cl";
  d->op = c->act.op;
  double q[ACT_MAX_PARAMS];
  act__kernel_params(&c->act, q);
  d->kernel = act__eltwise_kernel(d->op, q, false);
  d->dtype = act__dtype_code(c->y->dtype);
  act__disp_buf(d, c->y);
  act__disp_buf(d, c->y);
  act__disp_u32(d, n);
  act__disp_u32(d, yoff);
  act__disp_u32(d, yoff);
  act__dense_params(d, &c->act);
  d->split = 1;
  d->split_n = 0;
  d->split_off[0] = 1 + 1;
  d->split_off[1] = 1 + 2;
  d->split_quantum = 1;
  act__launch_items(d, n, 256, lim);
}

act_status_t act__plan_dense(const act__dense_t *c, const act__limits_t *lim,
                             act__plan_t *plan) {
  memset(plan, 0, sizeof *plan);
  act__dense_offs_t o;
  act_status_t st = act__dense_offsets(c, &o);
  if (st)
    return st;
  if (lim->max_group_size < ACT__GEMM_WG * ACT__GEMM_WG)
    return act__fail(ACT_UNSUPPORTED, "dense: the GEMM kernel needs "
                     "work-groups of %u work-items; the device allows %u",
                     ACT__GEMM_WG * ACT__GEMM_WG, lim->max_group_size);
  uint64_t gx = ((uint64_t)c->n + ACT__GEMM_TILE - 1) / ACT__GEMM_TILE;
  uint64_t gy = ((uint64_t)c->m + ACT__GEMM_TILE - 1) / ACT__GEMM_TILE;
  uint32_t capx = lim->max_groups[0] ? lim->max_groups[0] : 65535;
  uint32_t capy = lim->max_groups[1] ? lim->max_groups[1] : 65535;
  if (gx > capx || gy > capy)
    return act__fail(ACT_UNSUPPORTED, "dense: [%lld, %lld] needs %llu x %llu "
                     "work-groups; the device dispatches at most %u x %u",
                     (long long)c->m, (long long)c->n, (unsigned long long)gx,
                     (unsigned long long)gy, capx, capy);
  /* The device may prefer a separate pass, for f32 only: a 16-bit y
   * between the passes would add a rounding (the bound's L ulp(z) / 2). */
  bool fused = act__gemm_fuses(c->act.op) && c->fuse >= 0 &&
               !(c->fuse == 0 && lim->dense_unfused && c->x->dtype == ACT_F32);
  act__dispatch_t *d = &plan->d[plan->n++];
  d->file = "gemm.cl";
  d->kernel = "act_gemm";
  d->op = fused ? (int)c->act.op : ACT_OP_LINEAR;
  d->dtype = act__dtype_code(c->x->dtype);
  act__disp_buf(d, c->x);
  act__disp_buf(d, c->w);
  act__bind(d, c->bias, c->x->buffer); /* never read when absent */
  act__disp_buf(d, c->y);
  act__bind(d, c->z, c->y->buffer);    /* never written when absent */
  d->nlocal = 2;
  d->local_bytes[0] = d->local_bytes[1] =
      ACT__GEMM_TILE * ACT__GEMM_KS * (uint32_t)sizeof(float);
  act__disp_u32(d, (uint32_t)c->m);
  act__disp_u32(d, (uint32_t)c->n);
  act__disp_u32(d, (uint32_t)c->k);
  act__disp_u32(d, o.x);
  act__disp_u32(d, o.w);
  act__disp_u32(d, o.b);
  act__disp_u32(d, o.y);
  act__disp_u32(d, o.z);
  act__disp_u32(d, (c->transpose_w ? 1u : 0u) | (c->bias ? 2u : 0u) |
                       (c->z ? 4u : 0u));
  act_op_desc_t linear;
  memset(&linear, 0, sizeof linear);
  linear.op = ACT_OP_LINEAR;
  act__dense_params(d, fused ? &c->act : &linear);
  d->dims = 2;
  d->local[0] = d->local[1] = ACT__GEMM_WG;
  d->local[2] = 1;
  d->global[0] = (uint32_t)gx * ACT__GEMM_WG;
  d->global[1] = (uint32_t)gy * ACT__GEMM_WG;
  d->global[2] = 1;
  if (!fused)
    act__dense_act_pass(c, o.y, lim, &plan->d[plan->n++]);
  return ACT_OK;
}

act_status_t act__plan_dense_epilogue(const act__dense_t *c,
                                      const act__limits_t *lim,
                                      act__plan_t *plan) {
  memset(plan, 0, sizeof *plan);
  act__dense_offs_t o;
  act_status_t st = act__dense_offsets(c, &o);
  if (st)
    return st;
  uint64_t count = (uint64_t)c->m * (uint64_t)c->n;
  act__dispatch_t *d = &plan->d[plan->n++];
  d->file = "gemm.cl";
  d->kernel = "act_dense_epilogue";
  d->op = c->act.op;
  d->dtype = act__dtype_code(c->y->dtype);
  act__bind(d, c->bias, c->y->buffer); /* never read when absent */
  act__disp_buf(d, c->y);
  act__bind(d, c->z, c->y->buffer);    /* never used when absent */
  act__disp_u32(d, (uint32_t)count);
  act__disp_u32(d, (uint32_t)c->n);
  act__disp_u32(d, o.b);
  act__disp_u32(d, o.y);
  act__disp_u32(d, o.z);
  act__disp_u32(d, (c->bias ? 2u : 0u) | (c->z ? 4u : 0u));
  act__dense_params(d, &c->act);
  act__launch_items(d, count, 256, lim);
  return ACT_OK;
}
