/*
 * test_dtype.c - f16 and bf16 storage: conversion with one rounding to
 * nearest even (act_convert), ulp distances (act_ulp_error), dtype names,
 * and that the reference rounds its double result ONCE to f16/bf16
 * (docs/accuracy.md), checked against an f16/bf16 rounding written here from long
 * double (act_test_round in testutil.c), independently of the library.
 */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- independent encoders and decoders ----------------------------------- */

static float f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* IEEE binary16 bits -> value. */
static long double f16_decode(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  long double v = e == 0      ? ldexpl(m, -24)
                  : e == 0x1f ? (m ? NAN : INFINITY)
                              : ldexpl(1024 + m, e - 25);
  return h & 0x8000 ? -v : v;
}

/* An f16 value (already representable) -> bits. NaN -> a quiet NaN. */
static uint16_t f16_encode(long double v) {
  uint16_t s = signbit(v) ? 0x8000 : 0;
  long double a = fabsl(v);
  if (isnan(v))
    return s | 0x7e00;
  if (isinf(a))
    return s | 0x7c00;
  if (a < 0x1p-14L)
    return s | (uint16_t)(a * 0x1p24L);
  int e;
  frexpl(a, &e); /* a in [2^(e-1), 2^e) */
  e -= 1;
  return s | (uint16_t)((e + 15) << 10) |
         (uint16_t)(ldexpl(a, 10 - e) - 1024.0L);
}

static long double bf16_decode(uint16_t b) {
  return f32_from_bits((uint32_t)b << 16);
}

/* A bf16 value (already representable, so a float) -> bits. */
static uint16_t bf16_encode(long double v) {
  if (isnan(v))
    return signbit(v) ? 0xffc0 : 0x7fc0;
  return (uint16_t)(f32_bits((float)v) >> 16);
}

static int is_nan16(act_dtype_t t, uint16_t b) {
  return t == ACT_F16 ? (b & 0x7c00) == 0x7c00 && (b & 0x3ff)
                      : (b & 0x7f80) == 0x7f80 && (b & 0x7f);
}

static long double decode16(act_dtype_t t, uint16_t b) {
  return t == ACT_F16 ? f16_decode(b) : bf16_decode(b);
}

static uint16_t encode16(act_dtype_t t, long double v) {
  return t == ACT_F16 ? f16_encode(v) : bf16_encode(v);
}

/* ---- round trips of every bit pattern ------------------------------------ */

static void test_round_trips(act_dtype_t t) {
  static uint16_t in[65536], back[65536];
  static float f[65536];
  const char *tn = act_dtype_name(t);
  for (int i = 0; i < 65536; i++)
    in[i] = (uint16_t)i;
  CHECK_OK(act_convert(t, in, ACT_F32, f, 65536));
  CHECK_OK(act_convert(ACT_F32, f, t, back, 65536));
  int bad_value = 0, bad_trip = 0, bad_nan = 0;
  for (int i = 0; i < 65536; i++) {
    long double want = decode16(t, in[i]);
    if (is_nan16(t, in[i])) {
      if (!isnan(f[i]) || !is_nan16(t, back[i]))
        if (bad_nan++ < 5)
          fprintf(stderr, "%s NaN 0x%04x -> %g -> 0x%04x\n", tn, i, f[i],
                  back[i]);
      continue;
    }
    /* The decoded value is exact, sign of zero included. */
    if (!((long double)f[i] == want && !signbit(f[i]) == !signbit(want)))
      if (bad_value++ < 5)
        fprintf(stderr, "%s 0x%04x decodes to %.9g, expected %.9Lg\n", tn, i,
                f[i], want);
    if (back[i] != in[i])
      if (bad_trip++ < 5)
        fprintf(stderr, "%s 0x%04x -> f32 -> 0x%04x\n", tn, i, back[i]);
  }
  CHECK(bad_value == 0, "%s -> f32: %d of 65536 patterns decode wrongly", tn,
        bad_value);
  CHECK(bad_trip == 0, "%s -> f32 -> %s: %d of 65536 patterns change", tn, tn,
        bad_trip);
  CHECK(bad_nan == 0, "%s: %d NaN patterns do not stay NaN", tn, bad_nan);
}

/* f16 <-> bf16 directly: one rounding of the exact value. */
static void test_cross(act_dtype_t from, act_dtype_t to) {
  static uint16_t in[65536], out[65536];
  for (int i = 0; i < 65536; i++)
    in[i] = (uint16_t)i;
  CHECK_OK(act_convert(from, in, to, out, 65536));
  int bad = 0;
  for (int i = 0; i < 65536; i++) {
    if (is_nan16(from, in[i])) {
      bad += !is_nan16(to, out[i]);
      continue;
    }
    long double want = act_test_round(to, decode16(from, in[i]));
    uint16_t wb = encode16(to, want);
    if (out[i] != wb && bad++ < 5)
      fprintf(stderr, "%s 0x%04x -> %s 0x%04x, expected 0x%04x\n",
              act_dtype_name(from), i, act_dtype_name(to), out[i], wb);
  }
  CHECK(bad == 0, "%s -> %s: %d of 65536 patterns wrong",
        act_dtype_name(from), act_dtype_name(to), bad);
}

/* ---- f32 -> f16/bf16 rounding, case by case ------------------------------ */

/* One f32 value converted to t must give bits `want`. */
static void conv1(const char *file, int line, act_dtype_t t, float v,
                  uint16_t want) {
  uint16_t got = 0xdead;
  act_status_t st = act_convert(ACT_F32, &v, t, &got, 1);
  act_test_checks++;
  if (st != ACT_OK || got != want) {
    act_test_failures++;
    fprintf(stderr, "%s:%d: %s(%.9g = %a) -> 0x%04x (%s), expected 0x%04x\n",
            file, line, act_dtype_name(t), v, v, got, act_status_name(st),
            want);
  }
}
#define CONV(t, v, want) conv1(__FILE__, __LINE__, t, v, want)

static void test_f32_cases(void) {
  /* f16: 1 = 0x3c00, its ulp is 2^-10. */
  CONV(ACT_F16, 1.0f, 0x3c00);
  CONV(ACT_F16, 1.0f + 0x1p-11f, 0x3c00);          /* tie -> even (1) */
  CONV(ACT_F16, 1.0f + 3 * 0x1p-11f, 0x3c02);      /* tie -> even (1+2^-9) */
  CONV(ACT_F16, 1.0f + 0x1p-11f - 0x1p-23f, 0x3c00); /* just below a tie */
  CONV(ACT_F16, 1.0f + 0x1p-11f + 0x1p-23f, 0x3c01); /* just above */
  CONV(ACT_F16, 1.0f + 3 * 0x1p-11f - 0x1p-23f, 0x3c01);
  CONV(ACT_F16, -(1.0f + 0x1p-11f + 0x1p-23f), 0xbc01);
  CONV(ACT_F16, 2.0f - 0x1p-12f, 0x4000); /* rounds up into the next binade */
  CONV(ACT_F16, 65504.0f, 0x7bff);        /* the largest f16 */
  CONV(ACT_F16, 65519.99f, 0x7bff);       /* below max + ulp/2 */
  CONV(ACT_F16, 65520.0f, 0x7c00);        /* max + ulp/2: tie -> inf */
  CONV(ACT_F16, -65520.0f, 0xfc00);
  CONV(ACT_F16, 1e6f, 0x7c00);
  CONV(ACT_F16, FLT_MAX, 0x7c00);
  CONV(ACT_F16, INFINITY, 0x7c00);
  CONV(ACT_F16, -INFINITY, 0xfc00);
  CONV(ACT_F16, 0.0f, 0x0000);
  CONV(ACT_F16, -0.0f, 0x8000);
  /* f16 subnormals: quantum 2^-24. */
  CONV(ACT_F16, 0x1p-24f, 0x0001);
  CONV(ACT_F16, 0x1p-25f, 0x0000);     /* tie -> even (0) */
  CONV(ACT_F16, -0x1p-25f, 0x8000);    /* ... keeping the sign */
  CONV(ACT_F16, 0x1p-25f + 0x1p-40f, 0x0001);
  CONV(ACT_F16, 3 * 0x1p-26f, 0x0001); /* 0.75 quantum */
  CONV(ACT_F16, 3 * 0x1p-25f, 0x0002); /* 1.5 quanta: tie -> even (2) */
  CONV(ACT_F16, 5 * 0x1p-25f, 0x0002); /* 2.5 quanta: tie -> even (2) */
  CONV(ACT_F16, 1023 * 0x1p-24f, 0x03ff);   /* the largest subnormal */
  CONV(ACT_F16, 1023.5f * 0x1p-24f, 0x0400); /* tie -> the smallest normal */
  CONV(ACT_F16, 0x1p-14f, 0x0400);
  CONV(ACT_F16, 0x1p-30f, 0x0000);
  CONV(ACT_F16, 0x1p-149f, 0x0000);

  /* bf16: 1 = 0x3f80, its ulp is 2^-7. */
  CONV(ACT_BF16, 1.0f, 0x3f80);
  CONV(ACT_BF16, 1.0f + 0x1p-8f, 0x3f80);      /* tie -> even */
  CONV(ACT_BF16, 1.0f + 3 * 0x1p-8f, 0x3f82);  /* tie -> even */
  CONV(ACT_BF16, 1.0f + 0x1p-8f - 0x1p-23f, 0x3f80);
  CONV(ACT_BF16, 1.0f + 0x1p-8f + 0x1p-23f, 0x3f81);
  CONV(ACT_BF16, -(1.0f + 0x1p-8f + 0x1p-23f), 0xbf81);
  CONV(ACT_BF16, 0x1.fep127f, 0x7f7f);         /* the largest bf16 */
  CONV(ACT_BF16, 0x1.fefffep127f, 0x7f7f);     /* just below max + ulp/2 */
  CONV(ACT_BF16, 0x1.ffp127f, 0x7f80);         /* max + ulp/2: tie -> inf */
  CONV(ACT_BF16, FLT_MAX, 0x7f80);             /* rounds to 2^128: inf */
  CONV(ACT_BF16, -FLT_MAX, 0xff80);
  CONV(ACT_BF16, INFINITY, 0x7f80);
  CONV(ACT_BF16, -INFINITY, 0xff80);
  CONV(ACT_BF16, 0.0f, 0x0000);
  CONV(ACT_BF16, -0.0f, 0x8000);
  /* bf16 subnormals: quantum 2^-133. */
  CONV(ACT_BF16, 0x1p-126f, 0x0080); /* FLT_MIN */
  CONV(ACT_BF16, 0x1p-133f, 0x0001);
  CONV(ACT_BF16, 0x1p-134f, 0x0000);      /* tie -> even (0) */
  CONV(ACT_BF16, -0x1p-134f, 0x8000);
  CONV(ACT_BF16, 3 * 0x1p-135f, 0x0001);  /* 0.75 quantum */
  CONV(ACT_BF16, 3 * 0x1p-134f, 0x0002);  /* 1.5: tie -> even (2) */
  CONV(ACT_BF16, 0x1p-134f + 0x1p-149f, 0x0001);
  CONV(ACT_BF16, 0x1p-149f, 0x0000);
  CONV(ACT_BF16, 0x1.fcp-127f, 0x007f); /* the largest subnormal */

  /* NaN stays NaN. */
  uint16_t h = 0, b = 0;
  float nan = NAN;
  CHECK_OK(act_convert(ACT_F32, &nan, ACT_F16, &h, 1));
  CHECK_OK(act_convert(ACT_F32, &nan, ACT_BF16, &b, 1));
  CHECK(is_nan16(ACT_F16, h), "f16(NaN) = 0x%04x", h);
  CHECK(is_nan16(ACT_BF16, b), "bf16(NaN) = 0x%04x", b);
  /* A NaN whose payload sits only in the low 16 bits must not become inf
   * in bf16 (truncation would give 0x7f80). */
  float lownan = f32_from_bits(0x7f800001u);
  CHECK_OK(act_convert(ACT_F32, &lownan, ACT_BF16, &b, 1));
  CHECK(is_nan16(ACT_BF16, b), "bf16(NaN 0x7f800001) = 0x%04x", b);
  CHECK_OK(act_convert(ACT_F32, &lownan, ACT_F16, &h, 1));
  CHECK(is_nan16(ACT_F16, h), "f16(NaN 0x7f800001) = 0x%04x", h);
}

/* Random f32 bit patterns (every exponent) against the independent
 * rounding. */
static void test_f32_random(void) {
  enum { N = 1 << 18 };
  float *x = malloc(N * sizeof *x);
  uint16_t *h = malloc(N * 2), *b = malloc(N * 2);
  CHECK(x && h && b, "out of memory");
  if (!x || !h || !b)
    goto out;
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < N; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t u = (uint32_t)(s >> 32);
    /* Half of them near the f16 range, where f16 rounding is busy. */
    if (i & 1)
      u = (u & 0x807fffffu) | ((uint32_t)(100 + (u >> 23) % 60) << 23);
    x[i] = f32_from_bits(u);
  }
  CHECK_OK(act_convert(ACT_F32, x, ACT_F16, h, N));
  CHECK_OK(act_convert(ACT_F32, x, ACT_BF16, b, N));
  int bad_h = 0, bad_b = 0;
  for (int i = 0; i < N; i++) {
    if (isnan(x[i])) {
      bad_h += !is_nan16(ACT_F16, h[i]);
      bad_b += !is_nan16(ACT_BF16, b[i]);
      continue;
    }
    uint16_t wh = f16_encode(act_test_round(ACT_F16, x[i]));
    uint16_t wb = bf16_encode(act_test_round(ACT_BF16, x[i]));
    if (h[i] != wh && bad_h++ < 5)
      fprintf(stderr, "f16(%a) = 0x%04x, expected 0x%04x\n", x[i], h[i], wh);
    if (b[i] != wb && bad_b++ < 5)
      fprintf(stderr, "bf16(%a) = 0x%04x, expected 0x%04x\n", x[i], b[i], wb);
  }
  CHECK(bad_h == 0, "f32 -> f16: %d of %d random values wrong", bad_h, N);
  CHECK(bad_b == 0, "f32 -> bf16: %d of %d random values wrong", bad_b, N);
out:
  free(x), free(h), free(b);
}

/* ---- the reference rounds its double result once ------------------------- */

/* Runs op (with params) on one element of dtype t given as bits. */
static uint16_t run16(const char *op, const char *params, act_dtype_t t,
                      uint16_t xb) {
  act_op_desc_t *d;
  uint16_t yb = 0xdead;
  act_status_t st = act_test_desc(op, params, &d);
  CHECK(st == ACT_OK, "%s %s: %s", op, params, act_last_error());
  if (st)
    return yb;
  int64_t one[1] = {1};
  act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(t, 1, one, &xb)},
                    {ACT_ARG_Y, act_tensor_make(t, 1, one, &yb)}};
  CHECK_OK(act_reference_forward(d, 2, a));
  act_op_desc_destroy(d);
  return yb;
}

static void test_single_rounding_cases(void) {
  /* hard_sigmoid = alpha*x + beta is exact in double: with x = 1,
   * alpha = 2^-12 + 2^-41 and beta = 0.5 the result is 0.5 + 2^-12 + 2^-41,
   * just above the f16 tie 0.5 + 2^-12, so it rounds up to 0.5 + 2^-11
   * (0x3801). Rounding first to f32 (spacing 2^-24 there) would land on the
   * tie itself and then give 0.5 (0x3800). */
  CHECK(run16("hard_sigmoid", "alpha=0x1.00000008p-12,beta=0.5", ACT_F16,
              0x3c00) == 0x3801,
        "f16 hard_sigmoid double-rounds 0.5 + 2^-12 + 2^-41");
  /* The same for bf16: 0.5 + 2^-9 + 2^-40 -> 0.5 + 2^-8 (0x3f01), not 0.5. */
  CHECK(run16("hard_sigmoid", "alpha=0x1.00000002p-9,beta=0.5", ACT_BF16,
              0x3f80) == 0x3f01,
        "bf16 hard_sigmoid double-rounds 0.5 + 2^-9 + 2^-40");
  /* relu below its threshold is negative_slope*(x - threshold): with
   * x = 1, threshold = 2 and slope -(1 + 2^-11 + 2^-40) the exact value is
   * 1 + 2^-11 + 2^-40, which must round up to 1 + 2^-10 (0x3c01). */
  CHECK(run16("relu", "negative_slope=-0x1.0020000001p0,threshold=2",
              ACT_F16, 0x3c00) == 0x3c01,
        "f16 relu double-rounds 1 + 2^-11 + 2^-40");
  /* And exactly on the tie, to even. */
  CHECK(run16("relu", "negative_slope=-0x1.002p0,threshold=2", ACT_F16,
              0x3c00) == 0x3c00,
        "f16 relu: 1 + 2^-11 must round to even (1)");
}

/* Independent long double definitions of a few ops (docs/ops.md), in forms
 * accurate to well below an f16/bf16 ulp for every input. */
static long double oracle(const char *op, long double x) {
  if (strcmp(op, "exp") == 0)
    return expl(x);
  if (strcmp(op, "sigmoid") == 0)
    return x >= 0 ? 1.0L / (1.0L + expl(-x)) : expl(x) / (1.0L + expl(x));
  if (strcmp(op, "tanh") == 0)
    return tanhl(x);
  if (strcmp(op, "log_sigmoid") == 0) /* -(max(-x,0) + log1p(e^-|x|)) */
    return -((x < 0 ? -x : 0.0L) + log1pl(expl(-fabsl(x))));
  if (strcmp(op, "softplus") == 0)
    return (x > 0 ? x : 0.0L) + log1pl(expl(-fabsl(x)));
  if (strcmp(op, "elu") == 0)
    return x > 0 ? x : expm1l(x);
  if (strcmp(op, "gelu") == 0) {
    if (isinf(x))
      return x > 0 ? x : 0.0L;
    return 0.5L * x * erfcl(-x / sqrtl(2.0L));
  }
  if (strcmp(op, "silu") == 0) {
    if (isinf(x))
      return x > 0 ? x : 0.0L;
    return x >= 0 ? x / (1.0L + expl(-x)) : x * expl(x) / (1.0L + expl(x));
  }
  if (strcmp(op, "softsign") == 0)
    return isinf(x) ? copysignl(1.0L, x) : x / (fabsl(x) + 1.0L);
  return NAN;
}

/* Every finite f16 (or bf16) input of each op: the reference's output bits
 * equal the oracle rounded once. Rounding the double result to f32 first
 * would differ on a few dozen inputs per op. */
static void test_single_rounding_all(act_dtype_t t) {
  static const char *const ops[] = {"exp", "sigmoid", "tanh", "log_sigmoid",
                                    "softplus", "elu", "gelu", "silu",
                                    "softsign"};
  static uint16_t x[65536], y[65536];
  int n = 0;
  for (int i = 0; i < 65536; i++)
    if (!is_nan16(t, (uint16_t)i))
      x[n++] = (uint16_t)i;
  int64_t dims[1] = {n};
  for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
    act_op_desc_t *d = NULL;
    CHECK_OK(act_op_desc_create_by_name(ops[k], &d));
    if (!d)
      continue;
    act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(t, 1, dims, x)},
                      {ACT_ARG_Y, act_tensor_make(t, 1, dims, y)}};
    CHECK_OK(act_reference_forward(d, 2, a));
    act_op_desc_destroy(d);
    int bad = 0;
    for (int i = 0; i < n; i++) {
      long double xv = decode16(t, x[i]);
      uint16_t want = encode16(t, act_test_round(t, oracle(ops[k], xv)));
      /* -0 and +0 are the same value (ulp error 0); compare values. */
      int ok = y[i] == want || (((y[i] | want) & 0x7fff) == 0);
      if (!ok && bad++ < 5)
        fprintf(stderr, "%s %s(%.9Lg) = 0x%04x (%.9Lg), expected 0x%04x "
                "(%.9Lg)\n", act_dtype_name(t), ops[k], xv, y[i],
                decode16(t, y[i]), want, decode16(t, want));
    }
    CHECK(bad == 0, "%s %s: %d of %d inputs not correctly rounded",
          act_dtype_name(t), ops[k], bad, n);
  }
}

/* ---- act_ulp_error ------------------------------------------------------- */

static void test_ulp_error(void) {
  CHECK(act_ulp_error(ACT_F32, 1.0, 1.0) == 0.0, "equal");
  CHECK(act_ulp_error(ACT_F32, 1.0 + 0x1p-23, 1.0) == 1.0, "f32 1 ulp at 1");
  CHECK(act_ulp_error(ACT_F32, 1.0 - 0x1p-24, 1.0) == 0.5,
        "f32: the spacing is taken at r (1), not below it");
  CHECK(act_ulp_error(ACT_F32, 2.0, 2.0 - 0x1p-23) == 1.0,
        "f32 just below 2: spacing 2^-23");
  CHECK(act_ulp_error(ACT_F32, -3.0, -3.0 - 0x1p-22) == 1.0, "f32 at -3");
  CHECK(act_ulp_error(ACT_F32, 1.5, 1.0) == 0x1p22, "0.5 at 1 is 2^22 ulp");
  CHECK(act_ulp_error(ACT_F16, 1.0 + 0x1p-10, 1.0) == 1.0, "f16 1 ulp at 1");
  CHECK(act_ulp_error(ACT_BF16, 1.0 + 0x1p-7, 1.0) == 1.0, "bf16 1 ulp");
  CHECK(act_ulp_error(ACT_F16, 65504.0, 65472.0) == 1.0, "f16 at its max");
  /* Tiny r: the spacing at the smallest normal. */
  CHECK(act_ulp_error(ACT_F32, 0x1p-149, 0.0) == 1.0, "f32 at 0");
  CHECK(act_ulp_error(ACT_F32, 0x1p-140, 0x1p-141) == 0x1p8, "f32 denormal");
  CHECK(act_ulp_error(ACT_F16, 0x1p-24, 0.0) == 1.0, "f16 at 0");
  CHECK(act_ulp_error(ACT_F16, 0x1p-20, 0x1p-21) == 8.0, "f16 subnormal");
  CHECK(act_ulp_error(ACT_BF16, 0x1p-133, 0.0) == 1.0, "bf16 at 0");
  /* Zeros, NaN, inf. */
  CHECK(act_ulp_error(ACT_F32, -0.0, 0.0) == 0.0, "-0 vs +0");
  CHECK(act_ulp_error(ACT_F32, NAN, NAN) == 0.0, "NaN vs NaN");
  CHECK(isinf(act_ulp_error(ACT_F32, NAN, 1.0)), "NaN vs 1");
  CHECK(isinf(act_ulp_error(ACT_F32, 1.0, NAN)), "1 vs NaN");
  CHECK(act_ulp_error(ACT_F32, INFINITY, INFINITY) == 0.0, "inf vs inf");
  CHECK(isinf(act_ulp_error(ACT_F32, INFINITY, -INFINITY)), "inf vs -inf");
  CHECK(isinf(act_ulp_error(ACT_F32, INFINITY, FLT_MAX)), "inf vs FLT_MAX");
  CHECK(isinf(act_ulp_error(ACT_F32, FLT_MAX, INFINITY)), "FLT_MAX vs inf");
  /* Symmetric in the sign. */
  CHECK(act_ulp_error(ACT_F32, -1.0 - 0x1p-23, -1.0) == 1.0, "negative");
}

/* ---- names, sizes, parsing, act_convert's other types -------------------- */

static void test_names(void) {
  static const struct {
    act_dtype_t t;
    const char *name;
    size_t size;
    const char *aliases[3];
  } dt[] = {
      {ACT_F32, "f32", 4, {"float32", "float", NULL}},
      {ACT_F16, "f16", 2, {"float16", "half", NULL}},
      {ACT_BF16, "bf16", 2, {"bfloat16", NULL}},
      {ACT_I32, "i32", 4, {"int32", NULL}},
      {ACT_U8, "u8", 1, {"uint8", NULL}},
  };
  CHECK(ACT_DTYPE_COUNT == 5, "ACT_DTYPE_COUNT = %d", (int)ACT_DTYPE_COUNT);
  for (size_t i = 0; i < sizeof dt / sizeof *dt; i++) {
    act_dtype_t p = ACT_DTYPE_COUNT;
    CHECK(act_dtype_name(dt[i].t) && strcmp(act_dtype_name(dt[i].t),
                                            dt[i].name) == 0,
          "name of %d", (int)dt[i].t);
    CHECK(act_dtype_size(dt[i].t) == dt[i].size, "size of %s", dt[i].name);
    CHECK_OK(act_dtype_parse(dt[i].name, &p));
    CHECK(p == dt[i].t, "parse %s", dt[i].name);
    for (int a = 0; dt[i].aliases[a]; a++) {
      p = ACT_DTYPE_COUNT;
      CHECK_OK(act_dtype_parse(dt[i].aliases[a], &p));
      CHECK(p == dt[i].t, "parse %s", dt[i].aliases[a]);
    }
  }
  CHECK(act_dtype_name(ACT_DTYPE_COUNT) == NULL, "name of COUNT");
  CHECK(act_dtype_name((act_dtype_t)-1) == NULL, "name of -1");
  CHECK(act_dtype_size(ACT_DTYPE_COUNT) == 0, "size of COUNT");
  CHECK(act_dtype_size((act_dtype_t)-1) == 0, "size of -1");
  static const char *const bad[] = {"f64", "F32", "", "fp16", "bf16 ", "int"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    act_dtype_t p = ACT_U8;
    act_status_t st = act_dtype_parse(bad[i], &p);
    CHECK(st == ACT_BAD_DTYPE, "parse '%s' -> %s", bad[i],
          act_status_name(st));
    CHECK(st == ACT_OK || (*act_last_error() && strstr(act_last_error(),
                                                        bad[i])),
          "parse '%s': message '%s'", bad[i], act_last_error());
    CHECK(p == ACT_U8, "a failed parse wrote its output");
  }
}

static void test_convert_misc(void) {
  /* Integers: exact both ways, and rounding to nearest even into them. */
  float f[8] = {2.5f, 3.5f, -2.5f, -0.4f, 1e6f, -7.0f, 0.5f, 1.5f};
  int32_t i32[8];
  uint8_t u8[4];
  CHECK_OK(act_convert(ACT_F32, f, ACT_I32, i32, 8));
  static const int32_t wi[8] = {2, 4, -2, 0, 1000000, -7, 0, 2};
  for (int i = 0; i < 8; i++)
    CHECK(i32[i] == wi[i], "i32(%g) = %d, expected %d", f[i], i32[i], wi[i]);
  float g[4] = {2.5f, 3.5f, 254.6f, 0.5f};
  CHECK_OK(act_convert(ACT_F32, g, ACT_U8, u8, 4));
  CHECK(u8[0] == 2 && u8[1] == 4 && u8[2] == 255 && u8[3] == 0,
        "u8: %d %d %d %d", u8[0], u8[1], u8[2], u8[3]);
  int32_t big[3] = {16777217, -16777217, 2147483647};
  float bf[3];
  CHECK_OK(act_convert(ACT_I32, big, ACT_F32, bf, 3));
  CHECK(bf[0] == 16777216.0f && bf[1] == -16777216.0f &&
            bf[2] == 2147483648.0f,
        "i32 -> f32 rounds to nearest even: %.9g %.9g %.9g", bf[0], bf[1],
        bf[2]);
  uint16_t h[2];
  uint8_t m[2] = {0, 255};
  CHECK_OK(act_convert(ACT_U8, m, ACT_F16, h, 2));
  CHECK(h[0] == 0x0000 && h[1] == 0x5bf8, "u8 -> f16: 0x%04x 0x%04x", h[0],
        h[1]);
  CHECK_OK(act_convert(ACT_I32, (int32_t[]){65519}, ACT_F16, h, 1));
  CHECK(h[0] == 0x7bff, "i32 65519 -> f16 0x%04x", h[0]);
  /* Same type: a copy, also in place. */
  float c[3] = {1, -0.0f, NAN}, d[3];
  CHECK_OK(act_convert(ACT_F32, c, ACT_F32, d, 3));
  CHECK(d[0] == 1 && signbit(d[1]) && isnan(d[2]), "f32 copy");
  CHECK_OK(act_convert(ACT_F32, c, ACT_F32, c, 3));
  /* Nothing to do: NULL pointers allowed with n = 0. */
  CHECK_OK(act_convert(ACT_F32, NULL, ACT_F16, NULL, 0));
  act_status_t st = act_convert(ACT_F32, c, ACT_DTYPE_COUNT, d, 1);
  CHECK(st == ACT_BAD_DTYPE && *act_last_error(), "bad dtype -> %s",
        act_status_name(st));
  st = act_convert((act_dtype_t)-1, c, ACT_F32, d, 1);
  CHECK(st == ACT_BAD_DTYPE && *act_last_error(), "bad dtype -> %s",
        act_status_name(st));
}

/* The independent helpers themselves, on values whose rounding is known,
 * so that a mistake in them cannot hide one in the library. */
static void test_helpers(void) {
  CHECK(act_test_round(ACT_F16, 1.0L + 0x1p-11L) == 1.0L, "helper tie");
  CHECK(act_test_round(ACT_F16, 1.0L + 0x1p-11L + 0x1p-60L) ==
            1.0L + 0x1p-10L, "helper above tie");
  CHECK(act_test_round(ACT_F16, 65520.0L) == INFINITY, "helper overflow");
  CHECK(act_test_round(ACT_F16, 0x1p-25L) == 0.0L, "helper underflow tie");
  CHECK(act_test_round(ACT_BF16, 0x1p-134L * 3) == 0x1p-132L, "helper bf16");
  CHECK(act_test_round(ACT_F32, 1.0L + 0x1p-24L) == 1.0L, "helper f32 tie");
  CHECK(act_test_round(ACT_F32, 0x1p-150L) == 0.0L, "helper f32 tiny");
  CHECK(f16_encode(f16_decode(0x3555)) == 0x3555, "helper f16 codec");
  CHECK(f16_encode(-0x1p-24L) == 0x8001, "helper f16 subnormal");
}

int main(void) {
  test_helpers();
  test_round_trips(ACT_F16);
  test_round_trips(ACT_BF16);
  test_cross(ACT_F16, ACT_BF16);
  test_cross(ACT_BF16, ACT_F16);
  test_f32_cases();
  test_f32_random();
  test_single_rounding_cases();
  test_single_rounding_all(ACT_F16);
  test_single_rounding_all(ACT_BF16);
  test_ulp_error();
  test_names();
  test_convert_misc();
  return act_test_finish("test_dtype");
}
