/*
 * test_reference.c - the CPU reference (act_reference_forward) on the
 * cases docs/ops.md and docs/accuracy.md spell out: NaN propagation and no NaN from a non-NaN
 * input for every element-wise op and dtype, the special values and limits
 * of docs/accuracy.md, the identities that tie ops together (softmax sums to 1, silu
 * is x*sigmoid, ...), every axis op's semantics (masks, keepdims, b and
 * return_sign, glu halves, given mean/variance, one_hot out of range,
 * prelu channels), in-place calls, 8-D shapes and empty tensors.
 *
 * Expected values are computed here in long double and rounded with
 * act_test_round (testutil.c), independently of the library.
 *
 * Tolerances, one per kind of check:
 * - values docs/ops.md defines exactly (limits, masks, one_hot, prelu, the
 *   exact identities tanh/softsign odd and elu == celu(1)): bit-equal;
 * - the reference against a long double evaluation of the same formula:
 *   0.5 ulp (correctly rounded) plus a margin of 1/1000 ulp for the double
 *   computation's own error (docs/accuracy.md: "rounds once");
 * - identities between two rounded results (silu vs x*sigmoid, ...): 2 ulp,
 *   the sum of the two half-ulp roundings and the product's rounding.
 */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CR_ULP 0.501 /* correctly rounded, with the double's own error */
static const act_dtype_t float_types[3] = {ACT_F32, ACT_F16, ACT_BF16};

/* ---- helpers ------------------------------------------------------------- */

/* Host storage for n elements of any dtype, and conversion from/to double
 * through f32 (the test inputs are all f32 values). */
static void *alloc_t(act_dtype_t t, size_t n) {
  return calloc(n ? n : 1, act_dtype_size(t) ? act_dtype_size(t) : 4);
}

static void store_t(act_dtype_t t, void *dst, const double *v, size_t n) {
  float *f = malloc((n ? n : 1) * sizeof *f);
  for (size_t i = 0; i < n; i++)
    f[i] = (float)v[i];
  CHECK_OK(act_convert(ACT_F32, f, t, dst, n));
  free(f);
}

static void load_t(act_dtype_t t, const void *src, double *v, size_t n) {
  float *f = malloc((n ? n : 1) * sizeof *f);
  CHECK_OK(act_convert(t, src, ACT_F32, f, n));
  for (size_t i = 0; i < n; i++)
    v[i] = f[i];
  free(f);
}

static int64_t numel(int nd, const int64_t *d) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++)
    n *= d[i];
  return n;
}

static act_op_desc_t *desc_of(const char *op, const char *params) {
  act_op_desc_t *d = NULL;
  act_status_t st = act_test_desc(op, params, &d);
  CHECK(st == ACT_OK, "%s [%s]: %s: %s", op, params ? params : "",
        act_status_name(st), act_last_error());
  return d;
}

/*
 * Runs desc on x (values given as doubles, stored in dtype t) of shape
 * xnd/xd into y of shape ynd/yd (ynd < 0: x's shape), with extra operands,
 * and reads y back as doubles. *xin (if not NULL) receives the inputs as
 * actually stored in t. Returns the status.
 */
static act_status_t run_ex(const act_op_desc_t *desc, act_dtype_t t, int xnd,
                           const int64_t *xd, const double *x, int ynd,
                           const int64_t *yd, double *y, double *xin,
                           size_t nextra, const act_arg_t *extra) {
  if (!desc)
    return ACT_NULL_POINTER;
  if (ynd < 0) {
    ynd = xnd;
    yd = xd;
  }
  int64_t nx = numel(xnd, xd), ny = numel(ynd, yd);
  void *xb = alloc_t(t, (size_t)nx), *yb = alloc_t(t, (size_t)ny);
  act_arg_t a[2 + ACT_ARG_COUNT];
  store_t(t, xb, x, (size_t)nx);
  if (xin)
    load_t(t, xb, xin, (size_t)nx);
  a[0].kind = ACT_ARG_X;
  a[0].tensor = act_tensor_make(t, xnd, xd, xb);
  a[1].kind = ACT_ARG_Y;
  a[1].tensor = act_tensor_make(t, ynd, yd, yb);
  for (size_t i = 0; i < nextra && i < ACT_ARG_COUNT; i++)
    a[2 + i] = extra[i];
  act_status_t st = act_reference_forward(desc, 2 + nextra, a);
  CHECK(st == ACT_OK, "%s on %s: %s: %s",
        act_op_info(act_op_desc_op(desc))->name, act_dtype_name(t),
        act_status_name(st), act_last_error());
  if (!st)
    load_t(t, yb, y, (size_t)ny);
  free(xb);
  free(yb);
  return st;
}

/* 1-D convenience: n inputs, y of the same length. */
static act_status_t run1(const act_op_desc_t *desc, act_dtype_t t,
                         const double *x, double *y, double *xin, int64_t n) {
  int64_t d[1] = {n};
  return run_ex(desc, t, 1, d, x, 1, d, y, xin, 0, NULL);
}

/* One element. */
static double run_one(const char *op, const char *params, act_dtype_t t,
                      double x) {
  double y = -12345.0;
  act_op_desc_t *d = desc_of(op, params);
  run1(d, t, &x, &y, NULL, 1);
  act_op_desc_destroy(d);
  return y;
}

static int same_value(double a, double b) {
  return (isnan(a) && isnan(b)) || (a == b && !signbit(a) == !signbit(b));
}

/* A deterministic pseudo-random double in [lo, hi). */
static uint64_t rng_state = 0x243f6a8885a308d3ull;
static double urand(double lo, double hi) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return lo + (hi - lo) * (double)(rng_state >> 11) * 0x1p-53;
}

/* Sweep of inputs: +-{0, denormals, 1e-30, ..., FLT_MAX}, +-inf, and a
 * dense range -150..150 (ggml's range "to check for NaNs in GELU"). */
static int make_sweep(double *v, int max) {
  static const double mag[] = {0.0,    0x1p-149, 1e-40, 0x1p-126, 1e-30,
                               1e-8,   1e-3,     0.25,  0.5,      1.0,
                               1.5,    2.0,      3.0,   5.0,      6.0,
                               10.0,   20.0,     30.0,  88.7,     89.5,
                               100.0,  1e4,      65504, 1e5,      1e30,
                               1e38,   FLT_MAX};
  int n = 0;
  for (size_t i = 0; i < sizeof mag / sizeof *mag && n + 2 <= max; i++) {
    v[n++] = mag[i];
    v[n++] = -mag[i];
  }
  for (double x = -150.0; x <= 150.0 && n < max; x += 0.37)
    v[n++] = x;
  return n;
}

/* Parameters that make an op runnable with otherwise default values
 * (threshold has no defaults). */
static const char *default_params(act_op_t op) {
  return op == ACT_OP_THRESHOLD ? "threshold=0.5,value=-2" : "";
}

/* ---- NaN in, NaN out; no NaN otherwise ----------------------------------- */

static void test_nan_and_sweep(void) {
  double sweep[1200];
  int ns = make_sweep(sweep, 1200 - 4);
  sweep[ns++] = INFINITY;
  sweep[ns++] = -INFINITY;
  sweep[ns++] = NAN;
  sweep[ns++] = -NAN;
  double *y = malloc(sizeof(double) * (size_t)ns);
  double *xin = malloc(sizeof(double) * (size_t)ns);
  for (int op = 0; op < ACT_OP_COUNT; op++) {
    const act_op_info_t *info = act_op_info((act_op_t)op);
    if (info->kind != ACT_KIND_ELTWISE)
      continue;
    act_op_desc_t *d = desc_of(info->name, default_params((act_op_t)op));
    for (int k = 0; k < 3; k++) {
      act_dtype_t t = float_types[k];
      if (run1(d, t, sweep, y, xin, ns))
        continue;
      int bad_nan = 0, bad_num = 0;
      for (int i = 0; i < ns; i++) {
        if (isnan(xin[i]) && !isnan(y[i]) && bad_nan++ < 3)
          fprintf(stderr, "%s %s(NaN) = %g\n", act_dtype_name(t), info->name,
                  y[i]);
        if (!isnan(xin[i]) && isnan(y[i]) && bad_num++ < 3)
          fprintf(stderr, "%s %s(%g) = NaN\n", act_dtype_name(t), info->name,
                  xin[i]);
      }
      CHECK(bad_nan == 0, "%s %s: %d NaN inputs gave a number",
            act_dtype_name(t), info->name, bad_nan);
      CHECK(bad_num == 0, "%s %s: %d non-NaN inputs gave NaN",
            act_dtype_name(t), info->name, bad_num);
    }
    act_op_desc_destroy(d);
  }

  /* The axis ops over a row of every finite sweep value: no NaN. */
  static const char *const axis_ops[] = {"softmax", "log_softmax", "softmin",
                                         "standardize", "glu", "logsumexp"};
  int nf = ns - 4; /* the finite ones */
  if (nf % 2)
    nf--; /* glu needs an even row */
  for (size_t o = 0; o < sizeof axis_ops / sizeof *axis_ops; o++)
    for (int k = 0; k < 3; k++) {
      act_dtype_t t = float_types[k];
      /* Values that overflow the dtype are not finite inputs: leave them
       * out. */
      double *row = malloc(sizeof(double) * (size_t)nf);
      int n = 0;
      for (int i = 0; i < nf; i++)
        if (isfinite((double)act_test_round(t, sweep[i])))
          row[n++] = sweep[i];
      n -= n % 2;
      act_op_desc_t *d = desc_of(axis_ops[o], "");
      int64_t xd[1] = {n}, yd[1] = {n};
      int ynd = 1;
      if (strcmp(axis_ops[o], "glu") == 0)
        yd[0] = n / 2;
      if (strcmp(axis_ops[o], "logsumexp") == 0)
        ynd = 0;
      if (!run_ex(d, t, 1, xd, row, ynd, yd, y, NULL, 0, NULL)) {
        int nan = 0;
        for (int i = 0; i < numel(ynd, yd); i++)
          nan += isnan(y[i]) != 0;
        CHECK(nan == 0, "%s %s over finite inputs: %d NaN outputs",
              act_dtype_name(t), axis_ops[o], nan);
      }
      act_op_desc_destroy(d);
      free(row);
    }
  free(y);
  free(xin);
}

/* ---- special values and limits (docs/accuracy.md) ---------------------------------- */

static void expect_value(const char *file, int line, const char *op,
                         const char *params, act_dtype_t t, double x,
                         double want, int any_zero_sign) {
  double y = run_one(op, params, t, x);
  int ok = any_zero_sign ? y == want : same_value(y, want);
  act_test_checks++;
  if (!ok) {
    act_test_failures++;
    fprintf(stderr, "%s:%d: %s %s(%g)%s%s = %.9g, expected %.9g\n", file, line,
            act_dtype_name(t), op, x, *params ? " with " : "", params, y,
            want);
  }
}
#define EXPECT_VAL(op, params, t, x, want)                                    \
  expect_value(__FILE__, __LINE__, op, params, t, x, want, 0)
#define EXPECT_ZERO(op, params, t, x)                                         \
  expect_value(__FILE__, __LINE__, op, params, t, x, 0.0, 1)

static void test_special_values(void) {
  for (int k = 0; k < 3; k++) {
    act_dtype_t t = float_types[k];
    EXPECT_VAL("sigmoid", "", t, -INFINITY, 0.0);
    EXPECT_VAL("sigmoid", "", t, INFINITY, 1.0);
    EXPECT_VAL("softplus", "", t, INFINITY, INFINITY);
    EXPECT_VAL("softplus", "", t, -INFINITY, 0.0);
    EXPECT_VAL("tanh", "", t, INFINITY, 1.0);
    EXPECT_VAL("tanh", "", t, -INFINITY, -1.0);
    EXPECT_VAL("log_sigmoid", "", t, -INFINITY, -INFINITY);
    EXPECT_ZERO("log_sigmoid", "", t, INFINITY);
    EXPECT_ZERO("gelu", "", t, -INFINITY);
    EXPECT_ZERO("gelu", "approximate=1", t, -INFINITY);
    EXPECT_VAL("gelu", "", t, INFINITY, INFINITY);
    EXPECT_VAL("gelu", "approximate=1", t, INFINITY, INFINITY);
    EXPECT_ZERO("silu", "", t, -INFINITY);
    EXPECT_ZERO("mish", "", t, -INFINITY);
    EXPECT_ZERO("gelu_quick", "", t, -INFINITY);
    EXPECT_VAL("elu", "", t, -INFINITY, -1.0);
    EXPECT_VAL("softsign", "", t, -INFINITY, -1.0);
    EXPECT_VAL("softsign", "", t, INFINITY, 1.0);
    EXPECT_ZERO("squareplus", "", t, -INFINITY);
    EXPECT_ZERO("exp", "", t, -INFINITY);
    EXPECT_VAL("exp", "", t, INFINITY, INFINITY);
    /* No overflow inside finite computations. */
    EXPECT_VAL("softplus", "", t, 100.0, 100.0);
    EXPECT_VAL("log_sigmoid", "", t, -100.0, -100.0);
    EXPECT_VAL("mish", "", t, 100.0, 100.0);
    EXPECT_VAL("silu", "", t, 100.0, 100.0);
    EXPECT_VAL("gelu", "", t, 100.0, 100.0);
    EXPECT_VAL("gelu", "approximate=1", t, 100.0, 100.0);
    EXPECT_VAL("tanh", "", t, 100.0, 1.0);
    EXPECT_VAL("tanh", "", t, -100.0, -1.0);
    /* sigmoid(-100) = 1/(1 + e^100), rounded once: 3.78e-44 in f32 (a
     * denormal), 0 in f16 and bf16. */
    double want = (double)act_test_round(t, 1.0L / (1.0L + expl(100.0L)));
    EXPECT_VAL("sigmoid", "", t, -100.0, want);
    /* relu with keras's threshold. */
    EXPECT_VAL("relu", "threshold=5", t, 5.0, 0.0);
    EXPECT_VAL("relu", "threshold=5", t, 6.0, 6.0);
    EXPECT_VAL("relu", "threshold=5,negative_slope=0.5", t, 3.0, -1.0);
    EXPECT_VAL("relu", "max_value=5", t, 7.0, 5.0);
    EXPECT_VAL("relu", "", t, -3.0, 0.0);
  }
  /* sigmoid(-100) in f32 is the denormal 27 * 2^-149. */
  CHECK(run_one("sigmoid", "", ACT_F32, -100.0) == 27 * 0x1p-149,
        "f32 sigmoid(-100) = %.9g", run_one("sigmoid", "", ACT_F32, -100.0));

  /* Limits at +-inf with non-default parameters: 0*inf must not appear. */
  static const struct {
    const char *op, *params;
    double x, want;
  } lim[] = {
      {"leaky_relu", "negative_slope=0", -INFINITY, 0.0},
      {"prelu", "alpha=0", -INFINITY, 0.0},
      {"relu", "negative_slope=0.5", -INFINITY, -INFINITY},
      {"silu", "beta=0", INFINITY, INFINITY},   /* x/2 */
      {"silu", "beta=0", -INFINITY, -INFINITY}, /* x/2 */
      {"silu", "beta=-1", INFINITY, 0.0},
      {"hard_silu", "alpha=0,beta=0.25", INFINITY, INFINITY},
      {"hard_silu", "alpha=0,beta=0", INFINITY, 0.0},
      {"elu", "alpha=0", -INFINITY, 0.0},
      {"celu", "alpha=-2", -INFINITY, -INFINITY},
      {"softplus", "beta=-1", INFINITY, 0.0},
      {"softplus", "beta=-1", -INFINITY, -INFINITY},
      {"squareplus", "b=0", -INFINITY, 0.0},
      {"hard_sigmoid", "alpha=0,beta=0.3", -INFINITY, 0.3},
  };
  for (size_t i = 0; i < sizeof lim / sizeof *lim; i++) {
    double y = run_one(lim[i].op, lim[i].params, ACT_F32, lim[i].x);
    CHECK(fabs(y - lim[i].want) < 1e-6 || y == lim[i].want,
          "%s(%g) with %s = %g, expected the limit %g", lim[i].op, lim[i].x,
          lim[i].params, y, lim[i].want);
  }
}

/* ---- identities ---------------------------------------------------------- */

static void test_identities(void) {
  enum { N = 20001 };
  double *x = malloc(N * sizeof *x), *xin = malloc(N * sizeof *xin);
  double *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
  act_op_desc_t *d1, *d2;

  /* gelu: the tanh form against the erf form over [-10, 10]. The true
   * largest gap, max |gelu_tanh - gelu_erf| in long double, is 4.7324e-4
   * (at |x| = 2.699); f32 rounding moves it by ~1e-7. */
  long double true_gap = 0;
  for (int i = 0; i < N; i++) {
    x[i] = -10.0 + i * 1e-3;
    long double xl = (float)x[i];
    long double e = 0.5L * xl * erfcl(-xl / sqrtl(2.0L));
    long double u = sqrtl(2.0L / 3.14159265358979323846264338327950288L) *
                    (xl + 0.044715L * xl * xl * xl);
    long double ap = 0.5L * xl * (1.0L + tanhl(u));
    if (fabsl(ap - e) > true_gap)
      true_gap = fabsl(ap - e);
  }
  d1 = desc_of("gelu", "");
  d2 = desc_of("gelu", "approximate=1");
  if (!run1(d1, ACT_F32, x, a, xin, N) && !run1(d2, ACT_F32, x, b, NULL, N)) {
    double gap = 0;
    for (int i = 0; i < N; i++)
      gap = fmax(gap, fabs(a[i] - b[i]));
    CHECK(gap < 1e-3, "gelu approximate vs exact: gap %g", gap);
    CHECK(fabs(gap - (double)true_gap) < 1e-6,
          "gelu approximate vs exact: gap %.6g, the true gap is %.6Lg", gap,
          true_gap);
  }
  act_op_desc_destroy(d1);
  act_op_desc_destroy(d2);

  /* silu(x) = x*sigmoid(x), sigmoid from the reference too, where both
   * stay normal floats ([-80, 80]). */
  for (int i = 0; i < N; i++)
    x[i] = -80.0 + i * 0.008;
  d1 = desc_of("silu", "");
  d2 = desc_of("sigmoid", "");
  if (!run1(d1, ACT_F32, x, a, xin, N) && !run1(d2, ACT_F32, x, b, NULL, N)) {
    double worst = 0;
    for (int i = 0; i < N; i++)
      worst = fmax(worst, act_ulp_error(ACT_F32, a[i], xin[i] * b[i]));
    CHECK(worst <= 2.0, "silu vs x*sigmoid: %g ulp", worst);
  }
  act_op_desc_destroy(d1);
  act_op_desc_destroy(d2);

  /* hard_silu(x) = x*hard_sigmoid(x). */
  for (int i = 0; i < N; i++)
    x[i] = -5.0 + i * 5e-4;
  d1 = desc_of("hard_silu", "");
  d2 = desc_of("hard_sigmoid", "");
  if (!run1(d1, ACT_F32, x, a, xin, N) && !run1(d2, ACT_F32, x, b, NULL, N)) {
    double worst = 0;
    for (int i = 0; i < N; i++)
      worst = fmax(worst, act_ulp_error(ACT_F32, a[i], xin[i] * b[i]));
    CHECK(worst <= 2.0, "hard_silu vs x*hard_sigmoid: %g ulp", worst);
    CHECK(a[0] == 0.0 && b[N - 1] == 1.0, "hard_silu(-5) = %g, "
          "hard_sigmoid(5) = %g", a[0], b[N - 1]);
  }
  act_op_desc_destroy(d1);
  act_op_desc_destroy(d2);

  /* tanh and softsign are odd, exactly; elu == celu(alpha = 1) exactly. */
  double sweep[1000];
  int ns = make_sweep(sweep, 1000);
  double *neg = malloc(sizeof(double) * (size_t)ns);
  for (int i = 0; i < ns; i++)
    neg[i] = -sweep[i];
  static const char *const odd[] = {"tanh", "softsign", "linear",
                                    "hard_tanh", "tanh_shrink"};
  for (size_t o = 0; o < sizeof odd / sizeof *odd; o++) {
    d1 = desc_of(odd[o], "");
    for (int k = 0; k < 3; k++) {
      act_dtype_t t = float_types[k];
      if (run1(d1, t, sweep, a, NULL, ns) || run1(d1, t, neg, b, NULL, ns))
        continue;
      int bad = 0;
      for (int i = 0; i < ns; i++)
        if (!same_value(b[i], -a[i]) && bad++ < 3)
          fprintf(stderr, "%s %s(%g) = %g but %s(%g) = %g\n",
                  act_dtype_name(t), odd[o], sweep[i], a[i], odd[o], neg[i],
                  b[i]);
      CHECK(bad == 0, "%s %s is not odd (%d values)", act_dtype_name(t),
            odd[o], bad);
    }
    act_op_desc_destroy(d1);
  }
  d1 = desc_of("elu", "");
  d2 = desc_of("celu", "alpha=1");
  for (int k = 0; k < 3; k++) {
    act_dtype_t t = float_types[k];
    if (run1(d1, t, sweep, a, NULL, ns) || run1(d2, t, sweep, b, NULL, ns))
      continue;
    int bad = 0;
    for (int i = 0; i < ns; i++)
      bad += !same_value(a[i], b[i]);
    CHECK(bad == 0, "%s elu != celu(alpha=1) on %d values", act_dtype_name(t),
          bad);
  }
  act_op_desc_destroy(d1);
  act_op_desc_destroy(d2);
  free(neg);

  /* softmax rows sum to 1; log_softmax = log(softmax); softmin(x) =
   * softmax(-x). Rows of 1..97 values in [-10, 10], f32. */
  act_op_desc_t *sm = desc_of("softmax", ""), *lsm = desc_of("log_softmax", "");
  act_op_desc_t *smin = desc_of("softmin", "");
  double worst_sum = 0, worst_log = 0;
  int bad_min = 0;
  for (int len = 1; len <= 97; len += 8) {
    for (int i = 0; i < len; i++)
      x[i] = (float)urand(-10.0, 10.0);
    double *nx = malloc(sizeof(double) * (size_t)len);
    double *c = malloc(sizeof(double) * (size_t)len);
    for (int i = 0; i < len; i++)
      nx[i] = -x[i];
    if (run1(sm, ACT_F32, x, a, NULL, len) ||
        run1(lsm, ACT_F32, x, b, NULL, len) ||
        run1(smin, ACT_F32, nx, c, NULL, len)) {
      free(nx), free(c);
      continue;
    }
    double s = 0;
    for (int i = 0; i < len; i++) {
      s += a[i];
      /* log(y) differs from log_softmax by the rounding of y (relative
       * 2^-24, i.e. 2^-24 absolute after the log) plus log_softmax's own
       * half ulp. Measured in units of that allowance. */
      double allow = 0x1p-24 + 0.5 * (double)act_test_ulp(ACT_F32, b[i]);
      worst_log = fmax(worst_log, fabs(log(a[i]) - b[i]) / allow);
      bad_min += !same_value(c[i], a[i]);
    }
    worst_sum = fmax(worst_sum, fabs(s - 1.0));
    free(nx), free(c);
  }
  CHECK(worst_sum <= 0x1p-22, "softmax rows sum to 1 within %g (> 2 ulp)",
        worst_sum);
  CHECK(worst_log <= 2.0, "log_softmax vs log(softmax): %g allowances",
        worst_log);
  CHECK(bad_min == 0, "softmin(x) != softmax(-x) on %d values", bad_min);
  act_op_desc_destroy(sm);
  act_op_desc_destroy(lsm);
  act_op_desc_destroy(smin);
  free(x), free(xin), free(a), free(b);
}

/* ---- softmax family ------------------------------------------------------ */

/* Long double softmax of row v (mask m, may be NULL), rounded to f32. */
static void softmax_ld(const double *v, const uint8_t *m, int n, double *out,
                       int log_form) {
  long double mx = -INFINITY, s = 0;
  for (int i = 0; i < n; i++)
    if ((!m || m[i]) && v[i] > mx)
      mx = v[i];
  for (int i = 0; i < n; i++)
    if (!m || m[i])
      s += expl(v[i] - mx);
  for (int i = 0; i < n; i++) {
    if (m && !m[i])
      out[i] = log_form ? -INFINITY : 0.0;
    else
      out[i] = (double)act_test_round(
          ACT_F32, log_form ? v[i] - mx - logl(s) : expl(v[i] - mx) / s);
  }
}

static void test_softmax(void) {
  act_op_desc_t *sm = desc_of("softmax", ""), *lsm = desc_of("log_softmax", "");
  double y[8], want[8];

  /* where: masked elements give 0 (log: -inf) and do not count; a fully
   * masked row gives 0s (log: -inf). */
  double x[8] = {1, 2, 3, 4, 0.5, -1, 2, 7};
  uint8_t m[8] = {1, 0, 1, 1, 0, 0, 0, 0};
  int64_t d24[2] = {2, 4};
  act_arg_t w = {ACT_ARG_WHERE, act_tensor_make(ACT_U8, 2, d24, m)};
  if (!run_ex(sm, ACT_F32, 2, d24, x, 2, d24, y, NULL, 1, &w)) {
    softmax_ld(x, m, 4, want, 0);
    for (int i = 0; i < 4; i++)
      CHECK(act_ulp_error(ACT_F32, y[i], want[i]) <= CR_ULP && !signbit(y[i]),
            "masked softmax [%d] = %.9g, expected %.9g", i, y[i], want[i]);
    CHECK(y[1] == 0.0, "a masked element gives %g, not 0", y[1]);
    for (int i = 4; i < 8; i++)
      CHECK(y[i] == 0.0, "fully masked row [%d] = %g, not 0", i, y[i]);
  }
  if (!run_ex(lsm, ACT_F32, 2, d24, x, 2, d24, y, NULL, 1, &w)) {
    softmax_ld(x, m, 4, want, 1);
    for (int i = 0; i < 4; i++)
      CHECK(act_ulp_error(ACT_F32, y[i], want[i]) <= CR_ULP,
            "masked log_softmax [%d] = %.9g, expected %.9g", i, y[i],
            want[i]);
    CHECK(y[1] == -INFINITY, "masked log_softmax element = %g", y[1]);
    for (int i = 4; i < 8; i++)
      CHECK(y[i] == -INFINITY, "fully masked log_softmax [%d] = %g", i, y[i]);
  }
  /* Mask values other than 1 also mean "take part". */
  uint8_t m2[8] = {255, 0, 7, 1, 1, 1, 1, 1};
  double y2[8];
  w.tensor.data = m2;
  if (!run_ex(sm, ACT_F32, 2, d24, x, 2, d24, y2, NULL, 1, &w)) {
    softmax_ld(x, m, 4, want, 0);
    CHECK(y2[0] == want[0] && y2[2] == want[2] && y2[1] == 0.0,
          "non-zero mask values: %g %g %g", y2[0], y2[1], y2[2]);
  }

  /* A row of all -inf gives 0s; a row holding +inf gives NaN. */
  double xi[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY,
                  1.0,       INFINITY,  -2.0,      0.0};
  if (!run_ex(sm, ACT_F32, 2, d24, xi, 2, d24, y, NULL, 0, NULL)) {
    for (int i = 0; i < 4; i++)
      CHECK(y[i] == 0.0, "softmax of all -inf [%d] = %g", i, y[i]);
    for (int i = 4; i < 8; i++)
      CHECK(isnan(y[i]), "softmax of a row with +inf [%d] = %g", i, y[i]);
  }
  /* A masked-out +inf does not count; log_softmax of a row with +inf is
   * NaN too. */
  {
    double xm[4] = {INFINITY, 1.0, 2.0, 2.0};
    uint8_t mm[4] = {0, 1, 1, 1};
    int64_t d14[2] = {1, 4};
    act_arg_t wm = {ACT_ARG_WHERE, act_tensor_make(ACT_U8, 2, d14, mm)};
    if (!run_ex(sm, ACT_F32, 2, d14, xm, 2, d14, y, NULL, 1, &wm)) {
      softmax_ld(xm, mm, 4, want, 0);
      CHECK(y[0] == 0.0 && y[1] == want[1] && y[2] == want[2] &&
                y[3] == want[3],
            "softmax with a masked +inf: %g %g %g %g", y[0], y[1], y[2],
            y[3]);
    }
    if (!run_ex(lsm, ACT_F32, 2, d14, xm, 2, d14, y, NULL, 0, NULL))
      CHECK(isnan(y[0]) && isnan(y[1]) && isnan(y[2]) && isnan(y[3]),
            "log_softmax of a row with +inf: %g %g %g %g", y[0], y[1], y[2],
            y[3]);
  }
  /* softmax of [1e30, 0] is [1, 0]; of [-inf, 0] is [0, 1]. */
  double big[4] = {1e30, 0.0, -INFINITY, 0.0};
  int64_t d22[2] = {2, 2};
  if (!run_ex(sm, ACT_F32, 2, d22, big, 2, d22, y, NULL, 0, NULL))
    CHECK(y[0] == 1.0 && y[1] == 0.0 && y[2] == 0.0 && y[3] == 1.0,
          "softmax [1e30, 0] = [%g, %g], [-inf, 0] = [%g, %g]", y[0], y[1],
          y[2], y[3]);
  /* NaN in a row gives NaN in that row. */
  double xn[4] = {1.0, NAN, 0.0, 1.0};
  if (!run_ex(sm, ACT_F32, 2, d22, xn, 2, d22, y, NULL, 0, NULL))
    CHECK(isnan(y[0]) && isnan(y[1]) && !isnan(y[2]) && !isnan(y[3]),
          "softmax NaN row: %g %g %g %g", y[0], y[1], y[2], y[3]);
  /* Along axis 0 of [2, 4]: columns. */
  if (sm && !act_op_desc_set_axis(sm, 0) &&
      !run_ex(sm, ACT_F32, 2, d24, x, 2, d24, y, NULL, 0, NULL)) {
    for (int j = 0; j < 4; j++) {
      double col[2] = {x[j], x[4 + j]}, wc[2];
      softmax_ld(col, NULL, 2, wc, 0);
      CHECK(act_ulp_error(ACT_F32, y[j], wc[0]) <= CR_ULP &&
                act_ulp_error(ACT_F32, y[4 + j], wc[1]) <= CR_ULP,
            "softmax axis 0, column %d: %.9g %.9g, expected %.9g %.9g", j,
            y[j], y[4 + j], wc[0], wc[1]);
    }
  }
  act_op_desc_destroy(sm);
  act_op_desc_destroy(lsm);
}

/* ---- logsumexp ----------------------------------------------------------- */

static void test_logsumexp(void) {
  double y[64], s[64];
  act_op_desc_t *d = desc_of("logsumexp", "");
  double ninf[2] = {-INFINITY, -INFINITY};
  int64_t d2[1] = {2};
  if (!run_ex(d, ACT_F32, 1, d2, ninf, 0, NULL, y, NULL, 0, NULL))
    CHECK(y[0] == -INFINITY, "logsumexp [-inf, -inf] = %g", y[0]);
  double pinf[2] = {INFINITY, 1.0};
  if (!run_ex(d, ACT_F32, 1, d2, pinf, 0, NULL, y, NULL, 0, NULL))
    CHECK(y[0] == INFINITY, "logsumexp [inf, 1] = %g", y[0]);
  double huge[2] = {1e30, 1e30};
  if (!run_ex(d, ACT_F32, 1, d2, huge, 0, NULL, y, NULL, 0, NULL))
    CHECK(y[0] == (double)(float)1e30, "logsumexp [1e30, 1e30] = %g", y[0]);
  act_op_desc_destroy(d);

  /* A [2, 3, 4] tensor, each axis, with and without keepdims. */
  int64_t xd[3] = {2, 3, 4};
  double x[24];
  for (int i = 0; i < 24; i++)
    x[i] = (float)urand(-5, 5);
  for (int axis = -3; axis < 3; axis++)
    for (int keep = 0; keep < 2; keep++) {
      char params[64];
      snprintf(params, sizeof params, "axis=%d,keepdims=%d", axis, keep);
      d = desc_of("logsumexp", params);
      int a = axis < 0 ? axis + 3 : axis, ynd = keep ? 3 : 2;
      int64_t yd[3];
      for (int i = 0, j = 0; i < 3; i++) {
        if (i == a) {
          if (keep)
            yd[j++] = 1;
        } else {
          yd[j++] = xd[i];
        }
      }
      if (!run_ex(d, ACT_F32, 3, xd, x, ynd, yd, y, NULL, 0, NULL)) {
        /* Element (i0, i1, i2) with index a summed. */
        int64_t st[3] = {12, 4, 1}, k = 0;
        for (int i0 = 0; i0 < (a == 0 ? 1 : 2); i0++)
          for (int i1 = 0; i1 < (a == 1 ? 1 : 3); i1++)
            for (int i2 = 0; i2 < (a == 2 ? 1 : 4); i2++, k++) {
              long double sum = 0;
              for (int r = 0; r < xd[a]; r++)
                sum += expl(x[i0 * st[0] + i1 * st[1] + i2 * st[2] +
                              r * st[a]]);
              double want = (double)act_test_round(ACT_F32, logl(sum));
              CHECK(act_ulp_error(ACT_F32, y[k], want) <= CR_ULP,
                    "logsumexp %s [%lld] = %.9g, expected %.9g", params,
                    (long long)k, y[k], want);
            }
      }
      act_op_desc_destroy(d);
    }

  /* All axes: a scalar (ndim 0), or [1, 1, 1] with keepdims. */
  long double sum = 0;
  for (int i = 0; i < 24; i++)
    sum += expl(x[i]);
  double want_all = (double)act_test_round(ACT_F32, logl(sum));
  for (int keep = 0; keep < 2; keep++) {
    act_op_desc_t *da = desc_of("logsumexp", keep ? "keepdims=1" : "");
    if (da)
      CHECK_OK(act_op_desc_set_axis(da, ACT_AXIS_ALL));
    int64_t ones[3] = {1, 1, 1};
    y[0] = 0;
    if (!run_ex(da, ACT_F32, 3, xd, x, keep ? 3 : 0, ones, y, NULL, 0, NULL))
      CHECK(act_ulp_error(ACT_F32, y[0], want_all) <= CR_ULP,
            "logsumexp all axes (keepdims %d) = %.9g, expected %.9g", keep,
            y[0], want_all);
    /* The other output shape is refused. */
    float yy[1];
    float xf[24];
    for (int i = 0; i < 24; i++)
      xf[i] = (float)x[i];
    act_arg_t bad[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 3, xd, xf)},
                        {ACT_ARG_Y, act_tensor_make(ACT_F32, keep ? 0 : 3,
                                                    ones, yy)}};
    CHECK(act_reference_forward(da, 2, bad) == ACT_BAD_SHAPE,
          "logsumexp all axes keepdims %d accepted the wrong y shape", keep);
    act_op_desc_destroy(da);
  }

  /* With b, broadcast along the last axis ([4] over [2, 3, 4]): log sum
   * b*e^x. Rows where b makes the sum negative give NaN, or with
   * return_sign log|sum| and sign -1. */
  float bpos[4] = {0.5f, 1.0f, 2.0f, 0.25f}, bneg[4] = {-3.0f, 0.5f, 0, 0};
  int64_t bd[1] = {4};
  for (int variant = 0; variant < 3; variant++) {
    const float *bv = variant == 0 ? bpos : bneg;
    int sign = variant == 2;
    d = desc_of("logsumexp", sign ? "return_sign=1" : "");
    int64_t yd[2] = {2, 3};
    act_arg_t extra[2];
    extra[0].kind = ACT_ARG_B;
    extra[0].tensor = act_tensor_make(ACT_F32, 1, bd, (void *)bv);
    float sbuf[6] = {9, 9, 9, 9, 9, 9};
    extra[1].kind = ACT_ARG_SIGN;
    extra[1].tensor = act_tensor_make(ACT_F32, 2, yd, sbuf);
    if (!run_ex(d, ACT_F32, 3, xd, x, 2, yd, y, NULL, sign ? 2 : 1, extra)) {
      for (int r = 0; r < 6; r++) {
        long double acc = 0;
        for (int k = 0; k < 4; k++)
          acc += (long double)bv[k] * expl(x[r * 4 + k]);
        double mag = (double)act_test_round(ACT_F32, logl(fabsl(acc)));
        if (acc > 0 || sign) {
          CHECK(act_ulp_error(ACT_F32, y[r], mag) <= CR_ULP,
                "logsumexp with b (variant %d) row %d = %.9g, expected %.9g",
                variant, r, y[r], mag);
        } else {
          CHECK(isnan(y[r]), "logsumexp with a negative sum, row %d = %g "
                "(expected NaN)", r, y[r]);
        }
        if (sign) {
          s[r] = sbuf[r];
          CHECK(s[r] == (acc > 0 ? 1.0 : acc < 0 ? -1.0 : 0.0),
                "logsumexp sign row %d = %g (sum %Lg)", r, s[r], acc);
        }
      }
    }
    act_op_desc_destroy(d);
  }
  /* A sum that cancels to exactly 0: log|0| = -inf, sign 0. */
  {
    double xz[2] = {0.5, 0.5};
    float bz[2] = {1.0f, -1.0f}, sg[1] = {9};
    int64_t dd[1] = {2};
    act_arg_t e[2] = {{ACT_ARG_B, act_tensor_make(ACT_F32, 1, dd, bz)},
                      {ACT_ARG_SIGN, act_tensor_make(ACT_F32, 0, NULL, sg)}};
    d = desc_of("logsumexp", "return_sign=1");
    if (!run_ex(d, ACT_F32, 1, dd, xz, 0, NULL, y, NULL, 2, e))
      CHECK(y[0] == -INFINITY && sg[0] == 0.0,
            "logsumexp of a zero sum: %g, sign %g", y[0], sg[0]);
    act_op_desc_destroy(d);
  }
  /* b of x's shape with zeros: terms with b = 0 do not take part, so
   * x = +inf there does not poison the sum. */
  {
    double xz[3] = {INFINITY, 0.0, 1.0};
    float bz[3] = {0.0f, 1.0f, 1.0f};
    int64_t d3[1] = {3};
    act_arg_t e = {ACT_ARG_B, act_tensor_make(ACT_F32, 1, d3, bz)};
    d = desc_of("logsumexp", "");
    if (!run_ex(d, ACT_F32, 1, d3, xz, 0, NULL, y, NULL, 1, &e)) {
      double want = (double)act_test_round(ACT_F32,
                                            logl(1.0L + expl(1.0L)));
      CHECK(act_ulp_error(ACT_F32, y[0], want) <= CR_ULP,
            "logsumexp with b = 0 at +inf: %.9g, expected %.9g", y[0], want);
    }
    act_op_desc_destroy(d);
  }
}

/* ---- glu, standardize, one_hot, prelu ------------------------------------ */

static long double sigmoid_ld(long double v) {
  return v >= 0 ? 1.0L / (1.0L + expl(-v)) : expl(v) / (1.0L + expl(v));
}

static void test_glu(void) {
  int64_t xd[2] = {4, 6};
  double x[24], y[24];
  for (int i = 0; i < 24; i++)
    x[i] = (float)urand(-6, 6);
  /* axis 0: halves are rows 0-1 and 2-3. */
  act_op_desc_t *d = desc_of("glu", "axis=0");
  int64_t y0[2] = {2, 6}, y1[2] = {4, 3};
  if (!run_ex(d, ACT_F32, 2, xd, x, 2, y0, y, NULL, 0, NULL))
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 6; j++) {
        double want = (double)act_test_round(
            ACT_F32, x[i * 6 + j] * sigmoid_ld(x[(i + 2) * 6 + j]));
        CHECK(act_ulp_error(ACT_F32, y[i * 6 + j], want) <= CR_ULP,
              "glu axis 0 [%d,%d] = %.9g, expected %.9g", i, j, y[i * 6 + j],
              want);
      }
  act_op_desc_destroy(d);
  /* axis -1: halves are columns 0-2 and 3-5. */
  d = desc_of("glu", "axis=-1");
  if (!run_ex(d, ACT_F32, 2, xd, x, 2, y1, y, NULL, 0, NULL))
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 3; j++) {
        double want = (double)act_test_round(
            ACT_F32, x[i * 6 + j] * sigmoid_ld(x[i * 6 + j + 3]));
        CHECK(act_ulp_error(ACT_F32, y[i * 3 + j], want) <= CR_ULP,
              "glu axis -1 [%d,%d] = %.9g, expected %.9g", i, j, y[i * 3 + j],
              want);
      }
  act_op_desc_destroy(d);
}

static void test_standardize(void) {
  enum { R = 3, C = 50 };
  int64_t xd[2] = {R, C};
  double x[R * C], y[R * C];
  /* Row 0: variance ~1e-4, where epsilon = 1e-5 matters (the output's
   * variance is v/(v + eps) ~ 0.9); rows 1-2: variance ~ 4 and ~ 1e4. */
  static const double spread[R] = {0.017, 3.5, 170};
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++)
      x[r * C + c] = (float)(10.0 * r + urand(-spread[r], spread[r]));
  act_op_desc_t *d = desc_of("standardize", "");
  if (!run_ex(d, ACT_F32, 2, xd, x, 2, xd, y, NULL, 0, NULL))
    for (int r = 0; r < R; r++) {
      long double mu = 0, v = 0, zm = 0, zv = 0;
      for (int c = 0; c < C; c++)
        mu += x[r * C + c];
      mu /= C;
      for (int c = 0; c < C; c++)
        v += (x[r * C + c] - mu) * (x[r * C + c] - mu);
      v /= C;
      for (int c = 0; c < C; c++)
        zm += y[r * C + c];
      zm /= C;
      for (int c = 0; c < C; c++)
        zv += (y[r * C + c] - zm) * (y[r * C + c] - zm);
      zv /= C;
      long double want_v = v / (v + 1e-5L);
      CHECK(fabsl(zm) < 1e-6L, "standardize row %d: mean %Lg", r, zm);
      CHECK(fabsl(zv - want_v) < 1e-6L,
            "standardize row %d: variance %.9Lg, expected v/(v+eps) = %.9Lg",
            r, zv, want_v);
      int bad = 0;
      for (int c = 0; c < C; c++) {
        double want = (double)act_test_round(
            ACT_F32, (x[r * C + c] - mu) / sqrtl(v + 1e-5L));
        bad += act_ulp_error(ACT_F32, y[r * C + c], want) > CR_ULP;
      }
      CHECK(bad == 0, "standardize row %d: %d values not correctly rounded",
            r, bad);
    }
  act_op_desc_destroy(d);

  /* Given mean and variance, broadcast per row ([R, 1]) and per column
   * ([C]); given mean only: variance = mean(x^2) - mean^2 (jax). */
  float mrow[R] = {0.5f, -1.0f, 2.0f}, vrow[R] = {4.0f, 0.25f, 1e-6f};
  float mcol[C], vcol[C];
  for (int c = 0; c < C; c++) {
    mcol[c] = (float)urand(-1, 1);
    vcol[c] = (float)urand(0.1, 3);
  }
  int64_t rd[2] = {R, 1}, cd[1] = {C};
  for (int variant = 0; variant < 3; variant++) {
    d = desc_of("standardize", "epsilon=0.001");
    act_arg_t e[2];
    size_t ne = variant == 2 ? 1 : 2;
    const float *mv = variant == 1 ? mcol : mrow, *vv = variant == 1 ? vcol
                                                                     : vrow;
    if (variant == 1) {
      e[0] = (act_arg_t){ACT_ARG_MEAN, act_tensor_make(ACT_F32, 1, cd,
                                                       (void *)mv)};
      e[1] = (act_arg_t){ACT_ARG_VARIANCE, act_tensor_make(ACT_F32, 1, cd,
                                                           (void *)vv)};
    } else {
      e[0] = (act_arg_t){ACT_ARG_MEAN, act_tensor_make(ACT_F32, 2, rd,
                                                       (void *)mv)};
      e[1] = (act_arg_t){ACT_ARG_VARIANCE, act_tensor_make(ACT_F32, 2, rd,
                                                           (void *)vv)};
    }
    if (!run_ex(d, ACT_F32, 2, xd, x, 2, xd, y, NULL, ne, e)) {
      int bad = 0;
      for (int r = 0; r < R; r++) {
        long double sq = 0;
        for (int c = 0; c < C; c++)
          sq += (long double)x[r * C + c] * x[r * C + c];
        sq /= C;
        for (int c = 0; c < C; c++) {
          long double m = variant == 1 ? mv[c] : mv[r];
          long double v = variant == 2   ? sq - m * m
                          : variant == 1 ? vv[c]
                                         : vv[r];
          double want = (double)act_test_round(
              ACT_F32, (x[r * C + c] - m) / sqrtl(v + 0.001L));
          if (act_ulp_error(ACT_F32, y[r * C + c], want) > CR_ULP &&
              bad++ < 3)
            fprintf(stderr, "standardize variant %d [%d,%d] = %.9g, "
                    "expected %.9g\n", variant, r, c, y[r * C + c], want);
        }
      }
      CHECK(bad == 0, "standardize with given %s: %d values wrong",
            variant == 2 ? "mean" : "mean and variance", bad);
    }
    act_op_desc_destroy(d);
  }
}

static void test_one_hot(void) {
  int32_t idx[6] = {0, 2, 5, -1, 3, 1}; /* 5 and -1: out of [0, 4) */
  int64_t xd[2] = {2, 3};
  static const act_dtype_t out_types[4] = {ACT_F32, ACT_I32, ACT_F16,
                                           ACT_BF16};
  for (int ax = 0; ax < 2; ax++)
    for (int k = 0; k < 4; k++) {
      act_dtype_t t = out_types[k];
      act_op_desc_t *d = desc_of("one_hot", ax ? "num_classes=4,axis=-1"
                                               : "num_classes=4,axis=0");
      int64_t yd[3];
      if (ax) {
        yd[0] = 2, yd[1] = 3, yd[2] = 4;
      } else {
        yd[0] = 4, yd[1] = 2, yd[2] = 3;
      }
      void *yb = alloc_t(t, 24);
      memset(yb, 0x5a, 24 * act_dtype_size(t));
      act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_I32, 2, xd, idx)},
                        {ACT_ARG_Y, act_tensor_make(t, 3, yd, yb)}};
      act_status_t st = act_reference_forward(d, 2, a);
      CHECK(st == ACT_OK, "one_hot %s: %s", act_dtype_name(t),
            act_last_error());
      if (!st) {
        double y[24];
        if (t == ACT_I32)
          for (int i = 0; i < 24; i++)
            y[i] = ((int32_t *)yb)[i];
        else
          load_t(t, yb, y, 24);
        int bad = 0;
        for (int i = 0; i < 6; i++)
          for (int c = 0; c < 4; c++) {
            int pos = ax ? i * 4 + c : c * 6 + i;
            double want = idx[i] == c ? 1.0 : 0.0;
            if (y[pos] != want && bad++ < 3)
              fprintf(stderr, "one_hot axis %d %s: index %d class %d = %g\n",
                      ax ? -1 : 0, act_dtype_name(t), idx[i], c, y[pos]);
          }
        CHECK(bad == 0, "one_hot axis %d to %s: %d wrong values", ax ? -1 : 0,
              act_dtype_name(t), bad);
      }
      free(yb);
      act_op_desc_destroy(d);
    }
}

static void test_prelu(void) {
  enum { N = 2, C = 3, H = 4 };
  int64_t xd[3] = {N, C, H};
  double x[N * C * H], y[N * C * H];
  for (int i = 0; i < N * C * H; i++)
    x[i] = (float)urand(-4, 4);
  x[0] = -0.0, x[1] = 0.0;
  float alpha[C] = {0.1f, -0.5f, 2.0f}, one[1] = {0.3f}, ah[H] = {1, 2, 3, 4};
  int64_t ad[1] = {C}, od[1] = {1}, hd[1] = {H};
  act_op_desc_t *d = desc_of("prelu", "");
  act_arg_t e = {ACT_ARG_ALPHA, act_tensor_make(ACT_F32, 1, ad, alpha)};
  /* Per channel, channel axis 1 (the default). */
  if (!run_ex(d, ACT_F32, 3, xd, x, 3, xd, y, NULL, 1, &e)) {
    int bad = 0;
    for (int i = 0; i < N * C * H; i++) {
      int c = (i / H) % C;
      double want = x[i] >= 0 ? x[i] : (double)(float)((double)alpha[c] * x[i]);
      bad += !same_value(y[i], want);
    }
    CHECK(bad == 0, "prelu per channel: %d wrong values", bad);
  }
  /* A single slope. */
  e.tensor = act_tensor_make(ACT_F32, 1, od, one);
  if (!run_ex(d, ACT_F32, 3, xd, x, 3, xd, y, NULL, 1, &e)) {
    int bad = 0;
    for (int i = 0; i < N * C * H; i++) {
      double want = x[i] >= 0 ? x[i] : (double)(float)(0.3f * x[i]);
      bad += !same_value(y[i], want);
    }
    CHECK(bad == 0, "prelu scalar alpha: %d wrong values", bad);
  }
  /* No alpha tensor: the alpha parameter (default 0.25). */
  if (!run_ex(d, ACT_F32, 3, xd, x, 3, xd, y, NULL, 0, NULL)) {
    int bad = 0;
    for (int i = 0; i < N * C * H; i++)
      bad += !same_value(y[i], x[i] >= 0 ? x[i] : 0.25 * x[i]);
    CHECK(bad == 0, "prelu default alpha: %d wrong values", bad);
  }
  act_op_desc_destroy(d);
  /* Channel axis -1. */
  d = desc_of("prelu", "axis=-1");
  e.tensor = act_tensor_make(ACT_F32, 1, hd, ah);
  if (!run_ex(d, ACT_F32, 3, xd, x, 3, xd, y, NULL, 1, &e)) {
    int bad = 0;
    for (int i = 0; i < N * C * H; i++)
      bad += !same_value(y[i], x[i] >= 0 ? x[i]
                                         : (double)(float)(ah[i % H] * x[i]));
    CHECK(bad == 0, "prelu axis -1: %d wrong values", bad);
  }
  act_op_desc_destroy(d);
  /* f16 alpha with f16 x. */
  d = desc_of("prelu", "");
  uint16_t ah16[C];
  CHECK_OK(act_convert(ACT_F32, alpha, ACT_F16, ah16, C));
  e.tensor = act_tensor_make(ACT_F16, 1, ad, ah16);
  double xin[N * C * H];
  if (!run_ex(d, ACT_F16, 3, xd, x, 3, xd, y, xin, 1, &e)) {
    int bad = 0;
    for (int i = 0; i < N * C * H; i++) {
      int c = (i / H) % C;
      long double a16 = act_test_round(ACT_F16, alpha[c]);
      double want = xin[i] >= 0
                        ? xin[i]
                        : (double)act_test_round(ACT_F16, a16 * xin[i]);
      bad += !same_value(y[i], want);
    }
    CHECK(bad == 0, "prelu f16 per channel: %d wrong values", bad);
  }
  act_op_desc_destroy(d);
}

/* ---- in place, 8-D, empty ------------------------------------------------ */

/* Runs desc with y at x's own storage (y of shape ynd/yd, at the same base
 * pointer) and compares with the out-of-place result, bit for bit. */
static void check_in_place(const char *what, act_op_desc_t *d, act_dtype_t t,
                           int xnd, const int64_t *xd, int ynd,
                           const int64_t *yd, const double *x) {
  int64_t nx = numel(xnd, xd), ny = numel(ynd, yd);
  size_t es = act_dtype_size(t);
  void *xb = alloc_t(t, (size_t)nx), *yb = alloc_t(t, (size_t)ny);
  store_t(t, xb, x, (size_t)nx);
  act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(t, xnd, xd, xb)},
                    {ACT_ARG_Y, act_tensor_make(t, ynd, yd, yb)}};
  CHECK_OK(act_reference_forward(d, 2, a));
  a[1].tensor.data = xb; /* in place */
  CHECK_OK(act_reference_forward(d, 2, a));
  CHECK(memcmp(xb, yb, (size_t)ny * es) == 0,
        "%s %s in place differs from out of place", what, act_dtype_name(t));
  free(xb);
  free(yb);
}

static void test_in_place(void) {
  double x[4 * 66];
  for (int i = 0; i < 4 * 66; i++)
    x[i] = urand(-8, 8);
  int64_t d1[1] = {4 * 66}, d2[2] = {4, 66}, g0[2] = {2, 66}, g1[2] = {4, 33};
  for (int k = 0; k < 3; k++) {
    act_dtype_t t = float_types[k];
    act_op_desc_t *d = desc_of("gelu", "");
    check_in_place("gelu", d, t, 1, d1, 1, d1, x);
    act_op_desc_destroy(d);
    d = desc_of("softmax", "");
    check_in_place("softmax axis -1", d, t, 2, d2, 2, d2, x);
    act_op_desc_set_axis(d, 0);
    check_in_place("softmax axis 0", d, t, 2, d2, 2, d2, x);
    act_op_desc_destroy(d);
    d = desc_of("glu", "");
    check_in_place("glu axis -1", d, t, 2, d2, 2, g1, x);
    act_op_desc_set_axis(d, 0);
    check_in_place("glu axis 0", d, t, 2, d2, 2, g0, x);
    act_op_desc_destroy(d);
    d = desc_of("standardize", "");
    check_in_place("standardize", d, t, 2, d2, 2, d2, x);
    act_op_desc_destroy(d);
    d = desc_of("logsumexp", "axis=0");
    int64_t l0[1] = {66};
    check_in_place("logsumexp axis 0", d, t, 2, d2, 1, l0, x);
    act_op_desc_destroy(d);
  }
}

static void test_eight_dims(void) {
  int64_t xd[8] = {2, 1, 3, 1, 2, 2, 1, 2}; /* 48 elements */
  enum { N = 48 };
  double x[N], y[N], y1[N];
  for (int i = 0; i < N; i++)
    x[i] = (float)urand(-3, 3);
  /* Element-wise: the same as on a flat tensor. */
  act_op_desc_t *d = desc_of("tanh", "");
  if (!run_ex(d, ACT_F32, 8, xd, x, 8, xd, y, NULL, 0, NULL) &&
      !run1(d, ACT_F32, x, y1, NULL, N)) {
    int bad = 0;
    for (int i = 0; i < N; i++)
      bad += y[i] != y1[i];
    CHECK(bad == 0, "8-D tanh differs from 1-D on %d values", bad);
  }
  act_op_desc_destroy(d);
  /* softmax along axis 2 (length 3, stride 8) and axis 4 (length 2). */
  int64_t stride[8];
  stride[7] = 1;
  for (int i = 6; i >= 0; i--)
    stride[i] = stride[i + 1] * xd[i + 1];
  for (int axis = 2; axis <= 4; axis += 2) {
    char p[32];
    snprintf(p, sizeof p, "axis=%d", axis);
    d = desc_of("softmax", p);
    if (!run_ex(d, ACT_F32, 8, xd, x, 8, xd, y, NULL, 0, NULL)) {
      int bad = 0;
      for (int i = 0; i < N; i++) {
        int64_t pos = (i / stride[axis]) % xd[axis];
        int64_t base = i - pos * stride[axis];
        long double mx = -INFINITY, s = 0;
        for (int r = 0; r < xd[axis]; r++)
          mx = fmaxl(mx, x[base + r * stride[axis]]);
        for (int r = 0; r < xd[axis]; r++)
          s += expl(x[base + r * stride[axis]] - mx);
        double want = (double)act_test_round(ACT_F32, expl(x[i] - mx) / s);
        bad += act_ulp_error(ACT_F32, y[i], want) > CR_ULP;
      }
      CHECK(bad == 0, "8-D softmax axis %d: %d wrong values", axis, bad);
    }
    act_op_desc_destroy(d);
  }
  /* glu on the last axis of an 8-D tensor. */
  int64_t yd[8];
  memcpy(yd, xd, sizeof yd);
  yd[7] = 1;
  d = desc_of("glu", "");
  if (!run_ex(d, ACT_F32, 8, xd, x, 8, yd, y, NULL, 0, NULL)) {
    int bad = 0;
    for (int i = 0; i < N / 2; i++) {
      double want = (double)act_test_round(
          ACT_F32, x[2 * i] * sigmoid_ld(x[2 * i + 1]));
      bad += act_ulp_error(ACT_F32, y[i], want) > CR_ULP;
    }
    CHECK(bad == 0, "8-D glu: %d wrong values", bad);
  }
  act_op_desc_destroy(d);
}

static void test_empty(void) {
  float sentinel[4] = {7, 7, 7, 7}, xs[4] = {1, 2, 3, 4};
  int32_t idx[1] = {0};
  static const struct {
    const char *op, *params;
    int xnd;
    int64_t xd[3];
    int ynd;
    int64_t yd[3];
  } cases[] = {
      {"relu", "", 2, {3, 0}, 2, {3, 0}},
      {"gelu", "", 1, {0}, 1, {0}},
      {"softmax", "", 2, {0, 4}, 2, {0, 4}},
      {"softmax", "", 2, {4, 0}, 2, {4, 0}},
      {"log_softmax", "axis=0", 2, {0, 4}, 2, {0, 4}},
      {"glu", "", 2, {0, 4}, 2, {0, 2}},
      {"glu", "", 2, {3, 0}, 2, {3, 0}},
      {"standardize", "", 3, {2, 0, 3}, 3, {2, 0, 3}},
      {"logsumexp", "", 2, {0, 3}, 1, {0}},
      {"prelu", "", 3, {0, 3, 2}, 3, {0, 3, 2}},
      {"one_hot", "num_classes=3", 1, {0}, 2, {0, 3}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    act_op_desc_t *d = desc_of(cases[i].op, cases[i].params);
    act_dtype_t xt = strcmp(cases[i].op, "one_hot") == 0 ? ACT_I32 : ACT_F32;
    act_arg_t a[2] = {
        {ACT_ARG_X, act_tensor_make(xt, cases[i].xnd, cases[i].xd,
                                    xt == ACT_I32 ? (void *)idx : xs)},
        {ACT_ARG_Y, act_tensor_make(ACT_F32, cases[i].ynd, cases[i].yd,
                                    sentinel)}};
    act_status_t st = act_reference_forward(d, 2, a);
    CHECK(st == ACT_OK, "empty %s: %s: %s", cases[i].op, act_status_name(st),
          act_last_error());
    CHECK(sentinel[0] == 7 && sentinel[3] == 7, "empty %s wrote y",
          cases[i].op);
    /* NULL data is fine for an empty tensor. */
    a[0].tensor.data = NULL;
    a[1].tensor.data = NULL;
    st = act_reference_forward(d, 2, a);
    CHECK(st == ACT_OK, "empty %s with NULL data: %s: %s", cases[i].op,
          act_status_name(st), act_last_error());
    act_op_desc_destroy(d);
  }
  /* logsumexp over an empty axis is -inf (the log of an empty sum), as in
   * jax; the output itself is not empty. */
  act_op_desc_t *d = desc_of("logsumexp", "");
  int64_t xd[2] = {3, 0}, yd[1] = {3};
  double y[3] = {0, 0, 0};
  if (!run_ex(d, ACT_F32, 2, xd, NULL, 1, yd, y, NULL, 0, NULL))
    CHECK(y[0] == -INFINITY && y[1] == -INFINITY && y[2] == -INFINITY,
          "logsumexp over an empty axis: %g %g %g", y[0], y[1], y[2]);
  act_op_desc_destroy(d);
}

int main(void) {
  test_nan_and_sweep();
  test_special_values();
  test_identities();
  test_softmax();
  test_logsumexp();
  test_glu();
  test_standardize();
  test_one_hot();
  test_prelu();
  test_in_place();
  test_eight_dims();
  test_empty();
  return act_test_finish("test_reference");
}
