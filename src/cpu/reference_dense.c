/*
 * reference_dense.c - the dense layer on the reference: every z_ij
 * accumulated in double (x and W are read exactly from their storage
 * type), the bias added, z rounded once to the dtype, and y = act(z) from
 * the unrounded double, rounded once.
 */
#include "ref_math.h"

double act__reference_eltwise_d(act_op_t op, const double *p, double x);

act_status_t act__reference_dense(const act__dense_t *c) {
  int64_t m = c->m, n = c->n, k = c->k;
  act_dtype_t t = c->x->dtype;
  /* W as doubles, [K, N] whatever its layout, so the inner loop is
   * contiguous. */
  double *wd = malloc((size_t)(k * n) * sizeof *wd);
  double *xr = malloc((size_t)k * sizeof *xr);
  double *acc = malloc((size_t)n * sizeof *acc);
  if (!wd || !xr || !acc) {
    free(wd), free(xr), free(acc);
    return act__fail(ACT_OUT_OF_MEMORY, "reference dense: out of memory "
                     "(%lld x %lld weights as doubles)", (long long)k,
                     (long long)n);
  }
  for (int64_t kk = 0; kk < k; kk++)
    for (int64_t j = 0; j < n; j++)
      wd[kk * n + j] = act__load(t, c->w->data,
                                 c->transpose_w ? j * k + kk : kk * n + j);
  for (int64_t i = 0; i < m; i++) {
    for (int64_t kk = 0; kk < k; kk++)
      xr[kk] = act__load(t, c->x->data, i * k + kk);
    for (int64_t j = 0; j < n; j++)
      acc[j] = c->bias ? act__load(t, c->bias->data, j) : 0.0;
    for (int64_t kk = 0; kk < k; kk++) {
      const double a = xr[kk], *wr = wd + kk * n;
      for (int64_t j = 0; j < n; j++)
        acc[j] += a * wr[j];
    }
    for (int64_t j = 0; j < n; j++) {
      double v = acc[j];
      if (c->z)
        act__store(t, c->z->data, i * n + j, v);
      act__store(t, c->y->data, i * n + j,
                 act__reference_eltwise_d(c->act.op, c->act.p, v));
    }
  }
  free(wd), free(xr), free(acc);
  return ACT_OK;
}
