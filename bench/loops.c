/*
 * loops.c - the plain C contestants of bench_ops: the obvious float loop of
 * each op, parallelised with OpenMP over the machine's cores. CMake
 * compiles this file twice, with -O3 and with -O3 -ffast-math, and
 * LOOPS_PREFIX names the two sets of functions apart (bench_ops.c).
 *
 * These are what a user would write by hand; they are the baseline, not
 * actkit's reference (which works in double and is much slower).
 */
#include "loops.h"

#include <math.h>
#include <string.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(LOOPS_PREFIX, name)

#define LOOP(name, expr)                                                  \
  static void FN(name)(const float *restrict x, float *restrict y,       \
                       long n) {                                         \
    _Pragma("omp parallel for simd schedule(static)")                    \
    for (long i = 0; i < n; i++) {                                       \
      float v = x[i];                                                    \
      y[i] = (expr);                                                     \
    }                                                                    \
  }

LOOP(copy, v)
LOOP(relu, v > 0.0f ? v : 0.0f)
LOOP(sigmoid, 1.0f / (1.0f + expf(-v)))
LOOP(tanh, tanhf(v))
LOOP(gelu, 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)))
LOOP(gelu_tanh,
     0.5f * v *
         (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v))))
LOOP(silu, v / (1.0f + expf(-v)))
LOOP(softplus, v > 20.0f ? v : log1pf(expf(v)))
LOOP(elu, v > 0.0f ? v : expm1f(v))
LOOP(selu, 1.0507009873554805f *
               (v > 0.0f ? v : 1.6732632423543772f * expm1f(v)))
LOOP(mish, v * tanhf(v > 20.0f ? v : log1pf(expf(v))))
LOOP(log_sigmoid, -(v < -20.0f ? -v : log1pf(expf(-v))))

/* Rows of `len`: max, sum of exp, scale. */
static void FN(softmax)(const float *restrict x, float *restrict y, long n) {
  const long len = LOOPS_SOFTMAX_ROW;
  long rows = n / len;
#pragma omp parallel for schedule(static)
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * len;
    float *yr = y + r * len;
    float m = -INFINITY, s = 0.0f;
    for (long i = 0; i < len; i++)
      m = xr[i] > m ? xr[i] : m;
    for (long i = 0; i < len; i++) {
      yr[i] = expf(xr[i] - m);
      s += yr[i];
    }
    float inv = 1.0f / s;
    for (long i = 0; i < len; i++)
      yr[i] *= inv;
  }
}

const loops_fn_t FN(table)[] = {
    {"copy", FN(copy)},         {"relu", FN(relu)},
    {"sigmoid", FN(sigmoid)},   {"tanh", FN(tanh)},
    {"gelu", FN(gelu)},         {"gelu_tanh", FN(gelu_tanh)},
    {"silu", FN(silu)},         {"softplus", FN(softplus)},
    {"elu", FN(elu)},           {"selu", FN(selu)},
    {"mish", FN(mish)},         {"log_sigmoid", FN(log_sigmoid)},
    {"softmax", FN(softmax)},   {NULL, NULL},
};
