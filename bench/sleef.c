/*
 * sleef.c - the accurate anchor of bench_ops: the ops composed from
 * SLEEF's u10 functions (Debian libsleef-dev; erfc is SLEEF's u15), in
 * OpenMP loops over 8-wide AVX vectors (SLEEF's dispatching entry points
 * pick the machine's best version), scalar SLEEF calls for the tails.
 * This is what an accurate vector math library gives, composed the
 * obvious stable way; bench_ops prints its speed and its ulp error beside
 * oneDNN's and actkit's (bench/RESULTS.md).
 */
#include "loops.h"

#include <math.h>
#include <sleef.h>

#if defined(__AVX__)
#include <immintrin.h>
#define W 8
typedef __m256 vf;
#define SET1(v) _mm256_set1_ps(v)
#define LOAD(p) _mm256_loadu_ps(p)
#define STORE(p, v) _mm256_storeu_ps(p, v)
#define ADD(a, b) _mm256_add_ps(a, b)
#define SUB(a, b) _mm256_sub_ps(a, b)
#define MUL(a, b) _mm256_mul_ps(a, b)
#define DIV(a, b) _mm256_div_ps(a, b)
#define MAX(a, b) _mm256_max_ps(a, b)
#define ABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a)
#define EXP(a) Sleef_expf8_u10(a)
#define TANH(a) Sleef_tanhf8_u10(a)
#define LOG1P(a) Sleef_log1pf8_u10(a)
#define ERFC(a) Sleef_erfcf8_u15(a)
#else
#define W 1
typedef float vf;
#define SET1(v) (v)
#define LOAD(p) (*(p))
#define STORE(p, v) (*(p) = (v))
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define DIV(a, b) ((a) / (b))
#define MAX(a, b) fmaxf(a, b)
#define ABS(a) fabsf(a)
#define EXP(a) Sleef_expf_u10(a)
#define TANH(a) Sleef_tanhf_u10(a)
#define LOG1P(a) Sleef_log1pf_u10(a)
#define ERFC(a) Sleef_erfcf_u15(a)
#endif

/* Scalar forms of the same compositions, for the tail. */
static float s_sigmoid(float v) { return 1.0f / (1.0f + Sleef_expf_u10(-v)); }
static float s_softplus(float v) {
  return fmaxf(v, 0.0f) + Sleef_log1pf_u10(Sleef_expf_u10(-fabsf(v)));
}

/* One loop per op: vectors, then the scalar tail. */
#define SLOOP(name, vexpr, sexpr)                                         \
  static void name(const float *restrict x, float *restrict y, long n) { \
    long nv = n / W * W;                                                 \
    _Pragma("omp parallel for schedule(static)")                         \
    for (long i = 0; i < nv; i += W) {                                   \
      vf v = LOAD(x + i);                                                \
      STORE(y + i, (vexpr));                                             \
    }                                                                    \
    for (long i = nv; i < n; i++) {                                      \
      float v = x[i];                                                    \
      y[i] = (sexpr);                                                    \
    }                                                                    \
  }

static vf v_sigmoid(vf v) {
  return DIV(SET1(1.0f), ADD(SET1(1.0f), EXP(SUB(SET1(0.0f), v))));
}
static vf v_softplus(vf v) {
  return ADD(MAX(v, SET1(0.0f)), LOG1P(EXP(SUB(SET1(0.0f), ABS(v)))));
}

SLOOP(sl_copy, v, v)
SLOOP(sl_relu, MAX(v, SET1(0.0f)), fmaxf(v, 0.0f))
SLOOP(sl_sigmoid, v_sigmoid(v), s_sigmoid(v))
SLOOP(sl_tanh, TANH(v), Sleef_tanhf_u10(v))
/* x/2 erfc(-x/sqrt 2): no cancellation in the negative tail */
SLOOP(sl_gelu, MUL(MUL(SET1(0.5f), v), ERFC(MUL(v, SET1(-0.70710678118654752f)))),
      0.5f * v * Sleef_erfcf_u15(-0.70710678118654752f * v))
SLOOP(sl_silu, MUL(v, v_sigmoid(v)), v * s_sigmoid(v))
SLOOP(sl_softplus, v_softplus(v), s_softplus(v))
SLOOP(sl_mish, MUL(v, TANH(v_softplus(v))), v * Sleef_tanhf_u10(s_softplus(v)))

/* Rows of LOOPS_SOFTMAX_ROW: max, exp, sum, scale. */
static void sl_softmax(const float *restrict x, float *restrict y, long n) {
  const long len = LOOPS_SOFTMAX_ROW;
  long rows = n / len;
#pragma omp parallel for schedule(static)
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * len;
    float *yr = y + r * len;
    float m = -INFINITY, s = 0.0f;
    for (long i = 0; i < len; i++)
      m = xr[i] > m ? xr[i] : m;
    long i = 0;
    for (; i + W <= len; i += W)
      STORE(yr + i, EXP(SUB(LOAD(xr + i), SET1(m))));
    for (; i < len; i++)
      yr[i] = Sleef_expf_u10(xr[i] - m);
    for (i = 0; i < len; i++)
      s += yr[i];
    float inv = 1.0f / s;
    for (i = 0; i < len; i++)
      yr[i] *= inv;
  }
}

const loops_fn_t loops_sleef_table[] = {
    {"copy", sl_copy},         {"relu", sl_relu},
    {"sigmoid", sl_sigmoid},   {"tanh", sl_tanh},
    {"gelu", sl_gelu},         {"silu", sl_silu},
    {"softplus", sl_softplus}, {"mish", sl_mish},
    {"softmax", sl_softmax},   {NULL, NULL},
};
