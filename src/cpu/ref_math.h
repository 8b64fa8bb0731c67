/*
 * ref_math.h - what the reference's forward (reference.c) and backward
 * (reference_bwd.c) share: constants, stable double-precision building
 * blocks, and operand indexing. Private to src/cpu/.
 */
#ifndef ACT_REF_MATH_H
#define ACT_REF_MATH_H

#include "../core/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* SELU constants (Klambauer et al. 2017, as in docs/ops.md). */
#define SELU_LAMBDA 1.0507009873554804934193349852946
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SQRT_2_OVER_PI 0.79788456080286535587989211986876
#define INV_SQRT2 0.70710678118654752440084436210485

/* 1/(1 + e^-x) without overflow for any x. */
static inline double sigmoid_d(double x) {
  if (x >= 0)
    return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

/* Linear index into a broadcast operand for x's linear index j. */
static inline int64_t bcast_index(int64_t j, const act_tensor_t *x,
                                  const int64_t strides[ACT_MAX_DIMS]) {
  int64_t off = 0;
  for (int d = x->ndim - 1; d >= 0; d--) {
    off += (j % x->dims[d]) * strides[d];
    j /= x->dims[d];
  }
  return off;
}

/* Whether two host tensors' memory overlaps (in-place calls). */
static inline bool overlaps(const act_tensor_t *a, const act_tensor_t *y) {
  const char *pa = a->data, *py = y->data;
  size_t na = (size_t)act_tensor_numel(a) * act_dtype_size(a->dtype);
  size_t ny = (size_t)act_tensor_numel(y) * act_dtype_size(y->dtype);
  return na && ny && pa < py + ny && py < pa + na;
}

/* Inputs that overlap the output `out` (an in-place call) are replaced in
 * c by private copies, so that writing the output cannot change what is
 * still to be read. Operands whose bit is set in `outputs` are left alone.
 * owned[] receives the copies; free them with ref_free_copies. */
static inline act_status_t ref_copy_inputs(act__call_t *c,
                                           const act_tensor_t *out,
                                           unsigned outputs,
                                           act_tensor_t copies[ACT_ARG_COUNT],
                                           void *owned[ACT_ARG_COUNT]) {
  for (int k = 0; k < ACT_ARG_COUNT; k++)
    owned[k] = NULL;
  for (int k = 0; k < ACT_ARG_COUNT; k++) {
    const act_tensor_t *a = c->arg[k];
    if (!a || (outputs & (1u << k)) || !overlaps(a, out))
      continue;
    size_t bytes = (size_t)act_tensor_numel(a) * act_dtype_size(a->dtype);
    owned[k] = malloc(bytes);
    if (!owned[k])
      return act__fail(ACT_OUT_OF_MEMORY, "reference: out of memory");
    memcpy(owned[k], a->data, bytes);
    copies[k] = *a;
    copies[k].data = owned[k];
    c->arg[k] = &copies[k];
  }
  return ACT_OK;
}

static inline void ref_free_copies(void *owned[ACT_ARG_COUNT]) {
  for (int k = 0; k < ACT_ARG_COUNT; k++)
    free(owned[k]);
}

#endif /* ACT_REF_MATH_H */
