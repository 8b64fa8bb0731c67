/*
 * plan_axis.c - kernel dispatches for the axis ops (kernels/opencl/axis.cl).
 */
#include "internal.h"

act_status_t act__plan_axis(const act__call_t *c, const act__limits_t *lim,
                            act__plan_t *plan) {
  (void)lim;
  (void)plan;
  return act__fail(ACT_UNSUPPORTED, "%s: not yet available on device "
                   "backends (use the cpu device)",
                   act_op_info(c->desc->op)->name);
}
