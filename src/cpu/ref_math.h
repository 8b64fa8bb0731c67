/*
 * ref_math.h - what the reference's forward (reference.c) and backward
 * (reference_bwd.c) share: constants, stable double-precision building
 * blocks, and operand indexing. Private to src/cpu/.
 */
#ifndef ACT_REF_MATH_H
#define ACT_REF_MATH_H

#include "../core/internal.h"

#include <math.h>

/* SELU constants (Klambauer et al. 2017, as in SPEC 2.1). */
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

#endif /* ACT_REF_MATH_H */
