/*
 * test_backward.c - backward (docs/ops.md, "Gradients"): the reference gradients, the API,
 * and every device against the reference.
 *
 * (a) Every element-wise derivative of the reference against a central
 *     finite difference of the reference FORWARD, evaluated unrounded in
 *     double (act__reference_eltwise_d), step 1e-6 max(1, |x|), at f32
 *     points more than 1e-3 away from the op's kinks: a wrong derivative
 *     cannot pass by agreeing with itself. Relative tolerance 1e-5, plus
 *     the finite difference's own rounding error.
 * (b) The kink conventions, exactly (relu'(0) = 0, hard_tanh'(+-1) = 1, ...).
 * (c) Special values: softplus'(1e30) = 1, sigmoid'(+-inf) = 0, NaN in x or
 *     dy gives NaN, and no NaN for any finite x (a sweep up to +-FLT_MAX)
 *     for every op and parameter set.
 * (d) Axis ops against finite differences of their forward (partial
 *     derivatives of L = sum dy y, Richardson-extrapolated central
 *     differences over f32 forward results), with masks, scale factors,
 *     given mean / variance; prelu's dalpha against a sum written here.
 * (e) Every OpenCL / Vulkan device against the reference under docs/accuracy.md
 *     (element-wise f32 2 ulp, axis ops 4 ulp, f16/bf16 1 ulp), all ops,
 *     f32/f16/bf16, several parameter sets, over the sweep of test_device
 *     (special values, +-FLT_MAX, denormals, a grid, random magnitudes);
 *     prelu's dx and dalpha; act_backward on device buffers (in place, at
 *     an offset, events) on every device including cpu. ACT_UNSUPPORTED
 *     is a failure.
 * And the validation errors of backward calls.
 */
#include "testutil.h"

#include "core/internal.h" /* act__diag_count */

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The reference forward, unrounded (src/cpu/reference.c; not public). */
double act__reference_eltwise_d(act_op_t op, const double *p, double x);

static uint32_t rng_state = 0x2545f491u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
static double unif(void) { return (rng() >> 8) * (1.0 / 16777216.0); }

/* Parameter sets per op ("" = defaults); every element-wise op also runs
 * with its defaults (threshold: with the set below). */
static const struct {
  const char *op, *params;
} param_sets[] = {
    {"relu", "negative_slope=0.1,max_value=6,threshold=1"},
    {"relu", "threshold=-0.3,negative_slope=0.2"},
    {"relu", "max_value=2.5"},
    {"leaky_relu", "negative_slope=0.3"},
    {"prelu", "alpha=-0.7"},
    {"elu", "alpha=0.3"},
    {"celu", "alpha=0.5"},
    {"celu", "alpha=-2"},
    {"gelu", "approximate=1"},
    {"silu", "beta=1.5"},
    {"silu", "beta=-0.3"},
    {"silu", "beta=0"},
    {"hard_sigmoid", "alpha=0.2,beta=0.5"},
    {"hard_sigmoid", "alpha=0.2,beta=0.2"},
    {"hard_silu", "alpha=0.2,beta=0.5"},
    {"softplus", "beta=2,threshold=20"},
    {"softplus", "beta=0.5"},
    {"softplus", "beta=-1.5"},
    {"squareplus", "b=0"},
    {"squareplus", "b=0.3"},
    {"squareplus", "b=1e35"},  /* scaled by 2^-96 (b > 2^100) */
    {"squareplus", "b=1e-35"}, /* scaled by 2^64 near 0 (b < 2^-100) */
    {"hard_shrink", "lambda=0.1"},
    {"soft_shrink", "lambda=0.1"},
    {"threshold", "threshold=-0.001,value=7"},
    {"clip", "min=-0.25,max=0.7"},
};

static act_op_desc_t *make_desc(const char *op, const char *params) {
  act_op_desc_t *d = NULL;
  act_status_t st = act_test_desc(op, params, &d);
  CHECK(st == ACT_OK, "descriptor %s(%s): %s", op, params, act_last_error());
  return d;
}

static double param(const act_op_desc_t *d, const char *name) {
  double v = NAN;
  act_op_desc_get_param(d, name, &v);
  return v;
}

/* The points where op's derivative jumps (or its formula switches). */
static int kinks(const act_op_desc_t *d, double *k) {
  const act_op_desc_t *dd = d;
  int n = 0;
  switch (act_op_desc_op(d)) {
  case ACT_OP_RELU: {
    double s = param(dd, "negative_slope"), m = param(dd, "max_value");
    double t = param(dd, "threshold");
    k[n++] = t;
    k[n++] = m;
    if (s != 0.0)
      k[n++] = t + m / s;
    break;
  }
  case ACT_OP_RELU6:
    k[n++] = 0, k[n++] = 6;
    break;
  case ACT_OP_LEAKY_RELU:
  case ACT_OP_PRELU:
  case ACT_OP_ELU:
  case ACT_OP_SELU:
  case ACT_OP_CELU:
  case ACT_OP_SQUAREPLUS:
    k[n++] = 0;
    break;
  case ACT_OP_HARD_SIGMOID:
  case ACT_OP_HARD_SILU: {
    double a = param(dd, "alpha"), b = param(dd, "beta");
    if (a != 0.0)
      k[n++] = -b / a, k[n++] = (1 - b) / a;
    break;
  }
  case ACT_OP_HARD_TANH:
  case ACT_OP_SPARSE_PLUS:
  case ACT_OP_SPARSE_SIGMOID:
    k[n++] = -1, k[n++] = 1;
    break;
  case ACT_OP_SOFTPLUS:
    k[n++] = param(dd, "threshold") / param(dd, "beta");
    break;
  case ACT_OP_HARD_SHRINK:
  case ACT_OP_SOFT_SHRINK:
    k[n++] = param(dd, "lambda"), k[n++] = -param(dd, "lambda");
    break;
  case ACT_OP_THRESHOLD:
    k[n++] = param(dd, "threshold");
    break;
  case ACT_OP_CLIP:
    k[n++] = param(dd, "min"), k[n++] = param(dd, "max");
    break;
  default:
    break;
  }
  return n;
}

/* The parameters as the reference reads them (desc->p). */
static void params_of(const act_op_desc_t *d, double p[ACT_MAX_PARAMS]) {
  const act_op_info_t *oi = act_op_info(act_op_desc_op(d));
  for (int i = 0; i < ACT_MAX_PARAMS; i++)
    p[i] = i < oi->nparams ? param(d, oi->params[i].name) : 0.0;
}

/* dx = reference backward of f32 x with dy (n elements, 1-D). */
static act_status_t ref_bwd(const act_op_desc_t *d, act_dtype_t t,
                            const void *x, const void *dy, void *dx,
                            int64_t n) {
  int64_t dims[1] = {n};
  act_arg_t a[3] = {{ACT_ARG_X, act_tensor_make(t, 1, dims, (void *)x)},
                    {ACT_ARG_DY, act_tensor_make(t, 1, dims, (void *)dy)},
                    {ACT_ARG_DX, act_tensor_make(t, 1, dims, dx)}};
  return act_reference_backward(d, 3, a);
}

/* ---- (a) element-wise derivatives vs finite differences ------------------ */

static void check_fd_eltwise(const char *op, const char *params) {
  act_op_desc_t *d = make_desc(op, params);
  if (!d)
    return;
  double p[ACT_MAX_PARAMS], k[4];
  params_of(d, p);
  int nk = kinks(d, k);
  act_op_t o = act_op_desc_op(d);
  /* Points: a dense irregular grid on [-30, 30], small and large ones. */
  enum { NX = 700 };
  float x[NX], dy[NX], dx[NX];
  int n = 0;
  for (int i = 0; i < 600; i++)
    x[n++] = (float)(-30.0 + 60.0 * (i + 0.5 * unif()) / 600.0);
  static const float extra[] = {1e-4f, -1e-4f, 1e-2f, -1e-2f, 0.37f, -0.37f,
                                2.5f, -2.5f, 45.0f, -45.0f, 80.0f, -80.0f,
                                300.0f, -300.0f, 1e4f, -1e4f};
  for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
    x[n++] = extra[i];
  for (int i = 0; i < n; i++)
    dy[i] = 1.0f;
  act_status_t st = ref_bwd(d, ACT_F32, x, dy, dx, n);
  CHECK(st == ACT_OK, "%s(%s) backward: %s", op, params, act_last_error());
  int bad = 0;
  for (int i = 0; i < n && !st; i++) {
    double xi = x[i];
    bool near = false;
    for (int j = 0; j < nk; j++)
      if (fabs(xi - k[j]) <= 1e-3 * fmax(1.0, fabs(k[j])))
        near = true;
    if (near)
      continue;
    /* Step 1e-6 max(0.01, |x|): near 0 a step of 1e-6 would leave a
     * truncation error h^2 f'''/6 above f' itself for tanh_shrink. */
    double h = 1e-6 * fmax(0.01, fabs(xi));
    double fp = act__reference_eltwise_d(o, p, xi + h);
    double fm = act__reference_eltwise_d(o, p, xi - h);
    double fd = (fp - fm) / (2 * h);
    if (!isfinite(fp) || !isfinite(fm))
      continue;
    if (fabs(fd) > FLT_MAX / 2) { /* dx overflows f32: must be inf */
      if (!(isinf(dx[i]) && (dx[i] > 0) == (fd > 0)) && bad++ < 5)
        CHECK(false, "%s(%s)'(%.9g) = %.9g, want inf (fd %.9g)", op, params,
              xi, dx[i], fd);
      continue;
    }
    /* The difference's own rounding error, and the f32 rounding of dx. */
    double tol = 1e-5 * fabs(fd) +
                 64 * DBL_EPSILON * fmax(fabs(fp), fabs(fm)) / h +
                 (double)act_test_ulp(ACT_F32, fd);
    act_test_checks++;
    if (!(fabs(dx[i] - fd) <= tol)) {
      act_test_failures++;
      if (bad++ < 5)
        fprintf(stderr, "FAIL %s(%s)'(%.9g) = %.9g, finite difference "
                "%.12g (tol %.3g)\n", op, params, xi, dx[i], fd, tol);
    }
  }
  act_op_desc_destroy(d);
}

/* ---- (b) kinks and (c) special values ------------------------------------ */

/* f'(x) of op(params) on the reference, f32, dy = 1. */
static float dref(const char *op, const char *params, float x) {
  act_op_desc_t *d = make_desc(op, params);
  float dy = 1.0f, dx = -12345.0f;
  if (d) {
    act_status_t st = ref_bwd(d, ACT_F32, &x, &dy, &dx, 1);
    CHECK(st == ACT_OK, "%s(%s) backward: %s", op, params, act_last_error());
    act_op_desc_destroy(d);
  }
  return dx;
}

#define EXPECT_D(op, params, x, want)                                         \
  do {                                                                        \
    float got_ = dref(op, params, x);                                         \
    CHECK(got_ == (float)(want) || (isnan(got_) && isnan((float)(want))),    \
          "%s(%s)'(%.9g) = %.9g, want %.9g", op, params, (double)(x),         \
          (double)got_, (double)(want));                                      \
  } while (0)

static void check_kinks(void) {
  EXPECT_D("relu", "", 0.0f, 0);
  EXPECT_D("relu", "", -0.0f, 0);
  EXPECT_D("relu", "", 1e-30f, 1);
  EXPECT_D("relu", "threshold=1", 1.0f, 0);    /* slope branch at t */
  EXPECT_D("relu", "threshold=1,negative_slope=0.25", 1.0f, 0.25f);
  EXPECT_D("relu", "max_value=2", 2.0f, 1);    /* min() keeps x at max */
  EXPECT_D("relu", "max_value=2", 2.5f, 0);
  EXPECT_D("relu6", "", 0.0f, 0);
  EXPECT_D("relu6", "", 6.0f, 0);
  EXPECT_D("relu6", "", 3.0f, 1);
  EXPECT_D("hard_sigmoid", "", -3.0f, 0);
  EXPECT_D("hard_sigmoid", "", 3.0f, 0);
  EXPECT_D("hard_sigmoid", "", 0.0f, 1.0 / 6.0);
  EXPECT_D("hard_silu", "", -3.0f, 0);          /* h = 0, h' = 0 */
  EXPECT_D("hard_silu", "", 3.0f, 1);           /* h = 1, h' = 0 */
  EXPECT_D("hard_silu", "", 0.0f, 0.5);
  EXPECT_D("sparse_sigmoid", "", -1.0f, 0);
  EXPECT_D("sparse_sigmoid", "", 1.0f, 0);
  EXPECT_D("sparse_sigmoid", "", 0.0f, 0.5);
  EXPECT_D("sparse_plus", "", -1.0f, 0);
  EXPECT_D("sparse_plus", "", 1.0f, 1);
  EXPECT_D("hard_tanh", "", 1.0f, 1);
  EXPECT_D("hard_tanh", "", -1.0f, 1);
  EXPECT_D("hard_tanh", "", 1.5f, 0);
  EXPECT_D("leaky_relu", "", 0.0f, 1);
  EXPECT_D("leaky_relu", "", -2.0f, 0.01f);
  EXPECT_D("prelu", "", 0.0f, 1);
  EXPECT_D("prelu", "alpha=0.3", -1.0f, 0.3f);
  EXPECT_D("elu", "", 0.0f, 1);     /* alpha = 1 */
  EXPECT_D("elu", "alpha=0.3", 0.0f, 0.3f);
  EXPECT_D("elu", "alpha=0.3", 1e-30f, 1);
  EXPECT_D("selu", "", 0.0f, 1.0507009873554804934 * 1.6732632423543772848);
  EXPECT_D("celu", "alpha=0.5", 0.0f, 1);
  EXPECT_D("clip", "min=-1,max=2", -1.0f, 1);
  EXPECT_D("clip", "min=-1,max=2", 2.0f, 1);
  EXPECT_D("clip", "min=-1,max=2", 2.5f, 0);
  EXPECT_D("threshold", "threshold=1,value=5", 1.0f, 0);
  EXPECT_D("threshold", "threshold=1,value=5", 1.5f, 1);
  EXPECT_D("hard_shrink", "", 0.5f, 0);
  EXPECT_D("hard_shrink", "", -0.5f, 0);
  EXPECT_D("soft_shrink", "", 0.5f, 0);
  EXPECT_D("soft_shrink", "", 0.75f, 1);
  EXPECT_D("softplus", "beta=1,threshold=20", 20.0f, 1); /* sigmoid(20) */
  EXPECT_D("squareplus", "b=0", 0.0f, 0.5);
  EXPECT_D("squareplus", "b=0", -3.0f, 0);
  EXPECT_D("linear", "", 7.0f, 1);
  EXPECT_D("sigmoid", "", 0.0f, 0.25);
  EXPECT_D("tanh", "", 0.0f, 1);
  EXPECT_D("gelu", "", 0.0f, 0.5);
  EXPECT_D("gelu", "approximate=1", 0.0f, 0.5);
  EXPECT_D("silu", "", 0.0f, 0.5);
  EXPECT_D("mish", "", 0.0f, 0.6);
  EXPECT_D("softsign", "", 0.0f, 1);
  EXPECT_D("log_sigmoid", "", 0.0f, 0.5);
  EXPECT_D("tanh_shrink", "", 0.0f, 0);
  EXPECT_D("exp", "", 0.0f, 1);
}

static void check_special(void) {
  EXPECT_D("softplus", "", 1e30f, 1);
  EXPECT_D("softplus", "", INFINITY, 1);
  EXPECT_D("softplus", "", -1e30f, 0);
  EXPECT_D("sigmoid", "", INFINITY, 0);
  EXPECT_D("sigmoid", "", -INFINITY, 0);
  EXPECT_D("sigmoid", "", 1e30f, 0);
  EXPECT_D("tanh", "", INFINITY, 0);
  EXPECT_D("tanh", "", -1e30f, 0);
  EXPECT_D("tanh_shrink", "", INFINITY, 1);
  EXPECT_D("log_sigmoid", "", -INFINITY, 1);
  EXPECT_D("log_sigmoid", "", INFINITY, 0);
  EXPECT_D("gelu", "", -INFINITY, 0);
  EXPECT_D("gelu", "", INFINITY, 1);
  EXPECT_D("gelu", "approximate=1", -1e30f, 0);
  EXPECT_D("gelu", "approximate=1", 1e30f, 1);
  EXPECT_D("silu", "", INFINITY, 1);
  EXPECT_D("silu", "", -INFINITY, 0);
  EXPECT_D("mish", "", INFINITY, 1);
  EXPECT_D("mish", "", -INFINITY, 0);
  EXPECT_D("mish", "", 1e30f, 1);
  EXPECT_D("squareplus", "", -INFINITY, 0);
  EXPECT_D("squareplus", "", 3e38f, 1);
  EXPECT_D("softsign", "", 3e38f, 0);
  EXPECT_D("exp", "", 100.0f, INFINITY); /* e^100 overflows f32 */
  EXPECT_D("exp", "", -INFINITY, 0);
  EXPECT_D("elu", "", -INFINITY, 0);
  EXPECT_D("hard_silu", "", INFINITY, 1);
  EXPECT_D("hard_silu", "", -INFINITY, 0);
  EXPECT_D("relu", "", NAN, NAN);
  /* NaN in dy gives NaN, even where f' = 0. */
  {
    act_op_desc_t *d = make_desc("relu", "");
    float x[2] = {-1.0f, 1.0f}, dy[2] = {NAN, NAN}, dx[2];
    CHECK_OK(ref_bwd(d, ACT_F32, x, dy, dx, 2));
    CHECK(isnan(dx[0]) && isnan(dx[1]), "relu' with dy = NaN: %g %g",
          (double)dx[0], (double)dx[1]);
    act_op_desc_destroy(d);
  }

  /* dy = 0 gives 0 wherever x is finite, even where f' overflows. */
  {
    act_op_desc_t *d = make_desc("exp", "");
    float x[3] = {710.0f, 3e38f, 100.0f}, dy[3] = {0.0f, -0.0f, 1e-30f}, dx[3];
    CHECK_OK(ref_bwd(d, ACT_F32, x, dy, dx, 3));
    CHECK(dx[0] == 0 && dx[1] == 0 && !signbit(dx[0]) && signbit(dx[1]),
          "exp' with dy = +-0 at huge x: %g %g", (double)dx[0],
          (double)dx[1]);
    CHECK(dx[2] == (float)((double)1e-30f * exp(100.0)),
          "exp'(100) * 1e-30 = %.9g, want %.9g", (double)dx[2],
          (double)(float)((double)1e-30f * exp(100.0)));
    act_op_desc_destroy(d);
    d = make_desc("celu", "alpha=-2");
    float xc[2] = {-2000.0f, -2000.0f}, dyc[2] = {0.0f, 1.0f}, dxc[2];
    CHECK_OK(ref_bwd(d, ACT_F32, xc, dyc, dxc, 2));
    CHECK(dxc[0] == 0 && isinf(dxc[1]) && dxc[1] > 0,
          "celu(alpha=-2)'(-2000) * {0, 1} = %g %g", (double)dxc[0],
          (double)dxc[1]);
    act_op_desc_destroy(d);
  }

  /* No NaN for any finite x, every op and parameter set, f32/f16/bf16. */
  enum { NS = 4000 };
  static float xs[NS], dys[NS], dxs[NS];
  static const float sp[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, -1e-38f,
                             FLT_MAX, -FLT_MAX, 1e30f, -1e30f, 88.8f, -88.8f,
                             710.0f, -710.0f, 1e20f, -1e20f};
  size_t n = 0;
  for (size_t i = 0; i < sizeof sp / sizeof *sp; i++)
    xs[n++] = sp[i];
  while (n < NS) {
    double m = pow(10.0, -45.0 + 83.5 * unif());
    xs[n++] = (float)((rng() & 1) ? -m : m);
  }
  for (size_t i = 0; i < NS; i++)
    dys[i] = (float)(0.5 + unif());
  for (int pass = 0; pass < 2; pass++) {
    size_t count = pass ? sizeof param_sets / sizeof *param_sets
                        : (size_t)ACT_OP_COUNT;
    for (size_t j = 0; j < count; j++) {
      const char *op, *params;
      if (pass) {
        op = param_sets[j].op, params = param_sets[j].params;
      } else {
        const act_op_info_t *oi = act_op_info((act_op_t)j);
        if (oi->kind != ACT_KIND_ELTWISE)
          continue;
        op = oi->name;
        params = j == ACT_OP_THRESHOLD ? "threshold=0.5,value=-2" : "";
      }
      act_op_desc_t *d = make_desc(op, params);
      if (!d)
        continue;
      static const act_dtype_t dts[] = {ACT_F32, ACT_F16, ACT_BF16};
      for (int t = 0; t < 3; t++) {
        size_t es = act_dtype_size(dts[t]);
        void *x = malloc(NS * es), *dy = malloc(NS * es), *dx = malloc(NS * es);
        act_convert(ACT_F32, xs, dts[t], x, NS);
        act_convert(ACT_F32, dys, dts[t], dy, NS);
        CHECK_OK(ref_bwd(d, dts[t], x, dy, dx, NS));
        act_convert(dts[t], dx, ACT_F32, dxs, NS);
        float xv[NS];
        act_convert(dts[t], x, ACT_F32, xv, NS);
        int nan = 0;
        for (size_t i = 0; i < NS; i++)
          if (isfinite(xv[i]) && isnan(dxs[i]) && nan++ == 0)
            CHECK(false, "%s(%s) %s: dx is NaN at finite x = %.9g", op,
                  params, act_dtype_name(dts[t]), (double)xv[i]);
        act_test_checks++;
        free(x), free(dy), free(dx);
      }
      act_op_desc_destroy(d);
    }
  }
}

/* ---- (d) axis ops vs finite differences ---------------------------------- */

/* An axis-op problem: x [R, C] (or [R, C, D] when D > 0) along `axis`
 * (or all), with its extras. */
typedef struct {
  const char *op, *params;
  int axis;
  int where, b, mean, var; /* which extra operands */
  int64_t R, C, D;
} axis_case_t;

/* Shapes of a case: x (xd), mean / variance (md: x's with the axis as 1)
 * and y (yd). */
typedef struct {
  int nd, ynd;
  int64_t xd[3], md[3], yd[3];
  int64_t n, ny;
} shapes_t;

static shapes_t case_shapes(const act_op_desc_t *d, const axis_case_t *ac) {
  shapes_t sh;
  act_op_t op = act_op_desc_op(d);
  sh.nd = ac->D ? 3 : 2;
  sh.xd[0] = ac->R, sh.xd[1] = ac->C, sh.xd[2] = ac->D;
  int ax = ac->axis == ACT_AXIS_ALL ? -1
           : ac->axis < 0           ? ac->axis + sh.nd
                                    : ac->axis;
  bool keep = param(d, "keepdims") == 1.0;
  memcpy(sh.md, sh.xd, sizeof sh.xd);
  memcpy(sh.yd, sh.xd, sizeof sh.xd);
  sh.ynd = sh.nd;
  if (ax >= 0)
    sh.md[ax] = 1;
  if (op == ACT_OP_GLU)
    sh.yd[ax] /= 2;
  if (op == ACT_OP_LOGSUMEXP) {
    if (ax < 0) {
      sh.ynd = keep ? sh.nd : 0;
      sh.yd[0] = sh.yd[1] = sh.yd[2] = 1;
    } else if (keep) {
      sh.yd[ax] = 1;
    } else {
      sh.ynd = sh.nd - 1;
      for (int k = ax; k < sh.ynd; k++)
        sh.yd[k] = sh.xd[k + 1];
    }
  }
  sh.n = sh.ny = 1;
  for (int k = 0; k < sh.nd; k++)
    sh.n *= sh.xd[k];
  for (int k = 0; k < sh.ynd; k++)
    sh.ny *= sh.yd[k];
  return sh;
}

/* Runs the forward: y (and sign) from f32 x. */
static act_status_t fwd_axis(const act_op_desc_t *d, const axis_case_t *ac,
                             const float *x, const uint8_t *w,
                             const float *b, const float *mean,
                             const float *var, float *y, float *s) {
  shapes_t sh = case_shapes(d, ac);
  act_arg_t a[8];
  size_t na = 0;
  a[na++] = (act_arg_t){ACT_ARG_X,
                        act_tensor_make(ACT_F32, sh.nd, sh.xd, (void *)x)};
  a[na++] = (act_arg_t){ACT_ARG_Y, act_tensor_make(ACT_F32, sh.ynd, sh.yd, y)};
  if (ac->where)
    a[na++] = (act_arg_t){ACT_ARG_WHERE,
                          act_tensor_make(ACT_U8, sh.nd, sh.xd, (void *)w)};
  if (ac->b)
    a[na++] = (act_arg_t){ACT_ARG_B,
                          act_tensor_make(ACT_F32, sh.nd, sh.xd, (void *)b)};
  if (ac->mean)
    a[na++] = (act_arg_t){ACT_ARG_MEAN, act_tensor_make(ACT_F32, sh.nd, sh.md,
                                                        (void *)mean)};
  if (ac->var)
    a[na++] = (act_arg_t){ACT_ARG_VARIANCE,
                          act_tensor_make(ACT_F32, sh.nd, sh.md, (void *)var)};
  if (param(d, "return_sign") == 1.0)
    a[na++] = (act_arg_t){ACT_ARG_SIGN,
                          act_tensor_make(ACT_F32, sh.ynd, sh.yd, s)};
  return act_reference_forward(d, na, a);
}

/* The backward on the reference, or on ctx's device. */
static act_status_t bwd_axis(act_context_t *ctx, const act_op_desc_t *d,
                             const axis_case_t *ac, act_dtype_t t,
                             const void *x, const void *y, const void *dy,
                             const uint8_t *w, const void *b,
                             const void *mean, const void *var, void *dx) {
  shapes_t sh = case_shapes(d, ac);
  act_op_t op = act_op_desc_op(d);
  bool from_y = op == ACT_OP_SOFTMAX || op == ACT_OP_LOG_SOFTMAX ||
                op == ACT_OP_SOFTMIN;
  act_arg_t a[8];
  size_t na = 0;
  if (!from_y)
    a[na++] = (act_arg_t){ACT_ARG_X,
                          act_tensor_make(t, sh.nd, sh.xd, (void *)x)};
  if (from_y || op == ACT_OP_LOGSUMEXP)
    a[na++] = (act_arg_t){ACT_ARG_Y,
                          act_tensor_make(t, sh.ynd, sh.yd, (void *)y)};
  a[na++] = (act_arg_t){ACT_ARG_DY,
                        act_tensor_make(t, sh.ynd, sh.yd, (void *)dy)};
  a[na++] = (act_arg_t){ACT_ARG_DX, act_tensor_make(t, sh.nd, sh.xd, dx)};
  if (ac->where)
    a[na++] = (act_arg_t){ACT_ARG_WHERE,
                          act_tensor_make(ACT_U8, sh.nd, sh.xd, (void *)w)};
  if (ac->b)
    a[na++] = (act_arg_t){ACT_ARG_B,
                          act_tensor_make(t, sh.nd, sh.xd, (void *)b)};
  if (ac->mean)
    a[na++] = (act_arg_t){ACT_ARG_MEAN,
                          act_tensor_make(t, sh.nd, sh.md, (void *)mean)};
  if (ac->var)
    a[na++] = (act_arg_t){ACT_ARG_VARIANCE,
                          act_tensor_make(t, sh.nd, sh.md, (void *)var)};
  return ctx ? act_backward_host(ctx, d, na, a)
             : act_reference_backward(d, na, a);
}

enum { MAXN = 64 };

/* Fills the inputs of a case: x multiples of 2^-10 in [-4, 4] (so that
 * x +- 2^-6 is exact in f32), dy in [-1, 1], mask, b, mean, variance. */
static void fill_case(const axis_case_t *ac, float *x, float *dy, uint8_t *w,
                      float *b, float *mean, float *var) {
  int64_t n = ac->R * ac->C * (ac->D ? ac->D : 1);
  for (int64_t i = 0; i < n; i++) {
    x[i] = (float)(floor((unif() * 8.0 - 4.0) * 1024.0) / 1024.0);
    dy[i] = (float)(unif() * 2.0 - 1.0);
    w[i] = (rng() % 4) != 0;
    b[i] = (float)(0.25 + unif());
  }
  w[0] = 1;
  if (strstr(ac->params, "return_sign")) /* every other row negative (a */
    for (int64_t i = 0; i < n; i++)      /* whole row: no near-0 sums) */
      if ((i / ac->C) % 2)
        b[i] = -b[i];
  for (int64_t r = 0; r < n; r++) { /* more than mean/variance hold */
    mean[r] = (float)(unif() - 0.5);
    var[r] = (float)(0.5 + unif() * 4.0);
  }
}

static void check_fd_axis(const axis_case_t *ac) {
  act_op_desc_t *d = make_desc(ac->op, ac->params);
  if (!d)
    return;
  CHECK_OK(act_op_desc_set_axis(d, ac->axis));
  float x[MAXN], dyv[MAXN], b[MAXN], mean[MAXN], var[MAXN], y[MAXN];
  float s[MAXN], dx[MAXN], yp[MAXN], sp[MAXN];
  uint8_t w[MAXN];
  shapes_t sh = case_shapes(d, ac);
  int64_t n = sh.n, ny = sh.ny;
  fill_case(ac, x, dyv, w, b, mean, var);
  act_status_t st = fwd_axis(d, ac, x, w, b, mean, var, y, s);
  CHECK(st == ACT_OK, "%s forward: %s", ac->op, act_last_error());
  if (!st) {
    st = bwd_axis(NULL, d, ac, ACT_F32, x, y, dyv, w, b, mean, var, dx);
    CHECK(st == ACT_OK, "%s(%s) backward: %s", ac->op, ac->params,
          act_last_error());
  }
  /* L(x) = sum dy y (finite y only: masked log_softmax gives -inf). */
  const double h = 1.0 / 64.0;
  int bad = 0;
  for (int64_t i = 0; i < n && !st; i++) {
    double L[4], mag = 0;
    const double steps[4] = {-2 * h, -h, h, 2 * h};
    for (int k = 0; k < 4; k++) {
      float save = x[i];
      x[i] = (float)(save + steps[k]);
      fwd_axis(d, ac, x, w, b, mean, var, yp, sp);
      x[i] = save;
      L[k] = 0;
      for (int64_t j = 0; j < ny; j++)
        if (isfinite(yp[j])) {
          L[k] += (double)dyv[j] * yp[j];
          mag = fmax(mag, fabs((double)dyv[j] * yp[j]));
        }
    }
    double d1 = (L[2] - L[1]) / (2 * h), d2 = (L[3] - L[0]) / (4 * h);
    double fd = (4 * d1 - d2) / 3;
    /* Rounding of the f32 y's, amplified by 1/h; Richardson's remainder. */
    double tol = 1e-4 * fabs(fd) +
                 (double)ny * mag * 2 * FLT_EPSILON / h + 2e-5;
    act_test_checks++;
    if (!(fabs(dx[i] - fd) <= tol)) {
      act_test_failures++;
      if (bad++ < 4)
        fprintf(stderr, "FAIL %s(%s) axis %d: dx[%lld] = %.9g, finite "
                "difference %.9g (tol %.3g)\n", ac->op, ac->params, ac->axis,
                (long long)i, (double)dx[i], fd, tol);
    }
  }
  act_op_desc_destroy(d);
}

static const axis_case_t axis_cases[] = {
    {"softmax", "", -1, 0, 0, 0, 0, 3, 7, 0},
    {"softmax", "", 0, 0, 0, 0, 0, 3, 7, 0},
    {"softmax", "", -1, 1, 0, 0, 0, 3, 7, 0},
    {"log_softmax", "", -1, 0, 0, 0, 0, 3, 7, 0},
    {"log_softmax", "", -1, 1, 0, 0, 0, 3, 7, 0},
    {"softmin", "", -1, 0, 0, 0, 0, 3, 7, 0},
    {"softmin", "", 1, 1, 0, 0, 0, 2, 5, 0},
    {"logsumexp", "", -1, 0, 0, 0, 0, 3, 7, 0},
    {"logsumexp", "keepdims=1", 0, 0, 0, 0, 0, 3, 7, 0},
    {"logsumexp", "", ACT_AXIS_ALL, 0, 0, 0, 0, 3, 5, 0},
    {"logsumexp", "", -1, 0, 1, 0, 0, 3, 7, 0},
    {"logsumexp", "return_sign=1", -1, 0, 1, 0, 0, 4, 6, 0},
    {"glu", "", -1, 0, 0, 0, 0, 3, 8, 0},
    {"glu", "", 0, 0, 0, 0, 0, 4, 3, 0},
    {"standardize", "", -1, 0, 0, 0, 0, 3, 7, 0},
    {"standardize", "epsilon=0.1", 0, 0, 0, 0, 0, 5, 4, 0},
    {"standardize", "", -1, 0, 0, 1, 0, 3, 7, 0},
    {"standardize", "", -1, 0, 0, 0, 1, 3, 7, 0},
    {"standardize", "", -1, 0, 0, 1, 1, 3, 7, 0},
    /* A middle axis: outer and inner both > 1. */
    {"softmax", "", 1, 1, 0, 0, 0, 2, 4, 3},
    {"log_softmax", "", 1, 0, 0, 0, 0, 2, 4, 3},
    {"logsumexp", "", 1, 0, 1, 0, 0, 2, 4, 3},
    {"glu", "", 1, 0, 0, 0, 0, 2, 4, 3},
    {"standardize", "", 1, 0, 0, 1, 0, 2, 4, 3},
    {"standardize", "", 1, 0, 0, 0, 0, 2, 4, 3},
};

/* prelu with a per-channel alpha: dx by finite differences of the forward
 * (as above) and dalpha against the sum of dy x over x < 0 per channel. */
static void check_prelu_dalpha(void) {
  act_op_desc_t *d = make_desc("prelu", "");
  if (!d)
    return;
  int64_t xd[3] = {2, 3, 5}, ad[1] = {3}, sd[1] = {1};
  float x[30], dy[30], dx[30], alpha[3] = {0.25f, -1.5f, 0.0f}, da[3];
  for (int i = 0; i < 30; i++) {
    x[i] = (float)(unif() * 8 - 4);
    dy[i] = (float)(unif() * 2 - 1);
  }
  x[0] = 0.0f;
  act_arg_t a[5] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 3, xd, x)},
                    {ACT_ARG_DY, act_tensor_make(ACT_F32, 3, xd, dy)},
                    {ACT_ARG_DX, act_tensor_make(ACT_F32, 3, xd, dx)},
                    {ACT_ARG_ALPHA, act_tensor_make(ACT_F32, 1, ad, alpha)},
                    {ACT_ARG_DALPHA, act_tensor_make(ACT_F32, 1, ad, da)}};
  CHECK_OK(act_reference_backward(d, 5, a));
  double want[3] = {0, 0, 0};
  for (int i = 0; i < 30; i++) {
    int ch = (i / 5) % 3;
    if (x[i] < 0)
      want[ch] += (double)dy[i] * x[i];
    float wdx = x[i] >= 0 ? dy[i] : (float)((double)alpha[ch] * dy[i]);
    CHECK(dx[i] == wdx, "prelu dx[%d] = %.9g, want %.9g", i, (double)dx[i],
          (double)wdx);
  }
  for (int c = 0; c < 3; c++)
    CHECK(da[c] == (float)want[c], "prelu dalpha[%d] = %.9g, want %.9g", c,
          (double)da[c], want[c]);
  /* One shared slope: dalpha is the sum over everything. */
  float a1 = 0.3f, da1 = 0;
  a[3].tensor = act_tensor_make(ACT_F32, 1, sd, &a1);
  a[4].tensor = act_tensor_make(ACT_F32, 1, sd, &da1);
  CHECK_OK(act_reference_backward(d, 5, a));
  CHECK(da1 == (float)(want[0] + want[1] + want[2]),
        "prelu dalpha (one slope) = %.9g, want %.9g", (double)da1,
        want[0] + want[1] + want[2]);
  /* Without dalpha (and without an alpha tensor) dx only. */
  CHECK_OK(act_reference_backward(d, 4, a));
  CHECK_OK(act_reference_backward(d, 3, a));
  CHECK(dx[1] == (x[1] >= 0 ? dy[1] : (float)(0.25 * dy[1])),
        "prelu default slope: dx[1] = %.9g", (double)dx[1]);
  act_op_desc_destroy(d);
}

/* In place: dx written over dy (element-wise) and over y (softmax). */
static void check_in_place(void) {
  act_op_desc_t *d = make_desc("gelu", "");
  float x[5] = {-2, -0.5f, 0, 0.5f, 2}, dy[5] = {1, 2, 3, 4, 5}, want[5];
  CHECK_OK(ref_bwd(d, ACT_F32, x, dy, want, 5));
  CHECK_OK(ref_bwd(d, ACT_F32, x, dy, dy, 5));
  CHECK(memcmp(dy, want, sizeof want) == 0, "gelu backward in place differs");
  act_op_desc_destroy(d);
  d = make_desc("softmax", "");
  int64_t dims[1] = {5};
  float y[5], y2[5], g[5] = {1, -1, 0.5f, 0, 2}, dx[5];
  float xs[5] = {0.1f, 2, -1, 0, 1};
  act_arg_t f[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, xs)},
                    {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)}};
  CHECK_OK(act_reference_forward(d, 2, f));
  memcpy(y2, y, sizeof y);
  act_arg_t a[3] = {{ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)},
                    {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, dims, g)},
                    {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, dims, dx)}};
  CHECK_OK(act_reference_backward(d, 3, a));
  a[2].tensor.data = y2; /* dx over y */
  a[0].tensor.data = y2;
  CHECK_OK(act_reference_backward(d, 3, a));
  CHECK(memcmp(dx, y2, sizeof dx) == 0, "softmax backward in place differs");
  act_op_desc_destroy(d);
}

/* ---- validation ---------------------------------------------------------- */

static void check_errors(void) {
  int64_t d4[1] = {4}, d3[1] = {3}, d2[1] = {2};
  float x[4] = {0}, dy[4] = {0}, dx[4];
  int32_t idx[4] = {0};
  act_op_desc_t *d = make_desc("one_hot", "num_classes=3");
  act_arg_t oh[3] = {{ACT_ARG_X, act_tensor_make(ACT_I32, 1, d4, idx)},
                     {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, d4, dy)},
                     {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, d4, dx)}};
  act_status_t st = act_reference_backward(d, 3, oh);
  CHECK(st == ACT_UNSUPPORTED && strstr(act_last_error(), "one_hot has no "
        "gradient"), "one_hot backward: %s: %s", act_status_name(st),
        act_last_error());
  act_op_desc_destroy(d);

  d = make_desc("relu", "");
  act_arg_t a[3] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, d4, x)},
                    {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, d4, dx)},
                    {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, d4, dy)}};
  st = act_reference_backward(d, 2, a);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "'dy' is "
        "missing"), "missing dy: %s: %s", act_status_name(st),
        act_last_error());
  a[2].tensor = act_tensor_make(ACT_F32, 1, d3, dy);
  st = act_reference_backward(d, 3, a);
  CHECK(st == ACT_BAD_SHAPE && strstr(act_last_error(), "dy"),
        "dy of the wrong shape: %s: %s", act_status_name(st),
        act_last_error());
  a[2].tensor = act_tensor_make(ACT_F16, 1, d4, dy);
  st = act_reference_backward(d, 3, a);
  CHECK(st == ACT_BAD_DTYPE, "dy of another dtype: %s: %s",
        act_status_name(st), act_last_error());
  a[2].tensor = act_tensor_make(ACT_F32, 1, d4, dy);
  a[1].tensor = act_tensor_make(ACT_F32, 1, d3, dx);
  st = act_reference_backward(d, 3, a);
  CHECK(st == ACT_BAD_SHAPE && strstr(act_last_error(), "dx"),
        "dx of the wrong shape: %s: %s", act_status_name(st),
        act_last_error());
  a[1].tensor = act_tensor_make(ACT_F32, 1, d4, dx);
  st = act_reference_backward(d, 2, a + 1); /* no x */
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "'x'"),
        "missing x: %s: %s", act_status_name(st), act_last_error());
  /* A forward output is not an operand of element-wise backward. */
  act_arg_t a4[4] = {a[0], a[1], a[2],
                     {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, d4, dy)}};
  st = act_reference_backward(d, 4, a4);
  CHECK(st == ACT_INVALID_ARGUMENT, "relu backward with y: %s",
        act_status_name(st));
  CHECK_OK(act_reference_backward(d, 3, a));
  act_op_desc_destroy(d);

  /* softmax backward works from y, not x. */
  d = make_desc("softmax", "");
  a[0].kind = ACT_ARG_X;
  st = act_reference_backward(d, 3, a);
  CHECK(st == ACT_INVALID_ARGUMENT, "softmax backward with x: %s: %s",
        act_status_name(st), act_last_error());
  a[0].kind = ACT_ARG_Y;
  CHECK_OK(act_reference_backward(d, 3, a));
  act_op_desc_destroy(d);
  a[0].kind = ACT_ARG_X;

  /* glu: dy has x's shape halved. */
  d = make_desc("glu", "");
  st = act_reference_backward(d, 3, a);
  CHECK(st == ACT_BAD_SHAPE && strstr(act_last_error(), "dy"),
        "glu dy of x's shape: %s: %s", act_status_name(st), act_last_error());
  a[2].tensor = act_tensor_make(ACT_F32, 1, d2, dy);
  CHECK_OK(act_reference_backward(d, 3, a));
  act_op_desc_destroy(d);
  a[2].tensor = act_tensor_make(ACT_F32, 1, d4, dy);

  /* prelu: dalpha needs alpha, of alpha's shape. */
  d = make_desc("prelu", "");
  float al[1] = {0.5f}, dal[2];
  act_arg_t p[5] = {a[0], a[1], a[2],
                    {ACT_ARG_DALPHA, act_tensor_make(ACT_F32, 1, d2, dal)},
                    {ACT_ARG_ALPHA, act_tensor_make(ACT_F32, 0, NULL, al)}};
  st = act_reference_backward(d, 4, p);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "alpha"),
        "dalpha without alpha: %s: %s", act_status_name(st),
        act_last_error());
  st = act_reference_backward(d, 5, p);
  CHECK(st == ACT_BAD_SHAPE && strstr(act_last_error(), "dalpha"),
        "dalpha of the wrong shape: %s: %s", act_status_name(st),
        act_last_error());
  p[3].tensor = act_tensor_make(ACT_F32, 0, NULL, dal);
  CHECK_OK(act_reference_backward(d, 5, p));
  act_op_desc_destroy(d);

  /* act_op_check-like NULLs. */
  CHECK(act_reference_backward(NULL, 3, a) == ACT_NULL_POINTER, "NULL desc");
  CHECK(act_backward(NULL, NULL, 0, NULL, NULL) == ACT_NULL_POINTER,
        "NULL queue");
  CHECK(act_backward_host(NULL, NULL, 0, NULL) == ACT_NULL_POINTER,
        "NULL context");
}

/* The cpu device runs backward through the queue API as the reference. */
static void check_cpu_device(void) {
  act_context_t *ctx;
  CHECK_OK(act_context_create("cpu", &ctx));
  act_op_desc_t *d = make_desc("mish", "");
  float x[4] = {-3, -0.5f, 0.25f, 4}, dy[4] = {1, -2, 0.5f, 3}, r[4], g[4];
  int64_t dims[1] = {4};
  act_arg_t a[3] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                    {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, dims, dy)},
                    {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, dims, r)}};
  CHECK_OK(act_reference_backward(d, 3, a));
  a[2].tensor.data = g;
  CHECK_OK(act_backward_host(ctx, d, 3, a));
  CHECK(memcmp(r, g, sizeof r) == 0, "cpu device backward != reference");
  act_op_desc_destroy(d);
  act_context_destroy(ctx);
}

/* ---- (e) devices ---------------------------------------------------------- */

static double bound(act_op_t op, act_dtype_t t) {
  if (t != ACT_F32)
    return 1.0;
  return act_op_info(op)->kind == ACT_KIND_ELTWISE ? 2.0 : 4.0;
}

static double max_err(act_dtype_t t, const void *dev, const void *ref,
                      size_t n, size_t *worst) {
  double w = 0;
  size_t es = act_dtype_size(t);
  *worst = 0;
  for (size_t i = 0; i < n; i++) {
    float a, b;
    act_convert(t, (const char *)dev + i * es, ACT_F32, &a, 1);
    act_convert(t, (const char *)ref + i * es, ACT_F32, &b, 1);
    double e = act_ulp_error(t, a, b);
    if (e > w || isnan(e)) {
      w = isnan(e) ? INFINITY : e;
      *worst = i;
    }
  }
  return w;
}


static void dev_eltwise(act_context_t *ctx, const char *dev, const char *op,
                        const char *params, const float *sx,
                        const float *sdy, size_t n) {
  /* each dtype twice: a length that is a multiple of 4 (Vulkan runs it
   * as whole vectors of four, act_eltwise_bwd4) and an odd one (one
   * element per work-item) */
  static const act_dtype_t dts[] = {ACT_F32, ACT_F16, ACT_BF16,
                                    ACT_F32, ACT_F16, ACT_BF16};
  act_op_desc_t *d = make_desc(op, params);
  if (!d)
    return;
  size_t n0 = n;
  for (int k = 0; k < 6; k++) {
    act_dtype_t t = dts[k];
    n = k < 3 ? n0 & ~(size_t)3 : (n0 % 2 ? n0 : n0 - 1);
    size_t es = act_dtype_size(t);
    void *x = malloc(n * es), *dy = malloc(n * es), *r = malloc(n * es),
         *g = malloc(n * es);
    act_convert(ACT_F32, sx, t, x, n);
    act_convert(ACT_F32, sdy, t, dy, n);
    int64_t dims[1] = {(int64_t)n};
    act_arg_t a[3] = {{ACT_ARG_X, act_tensor_make(t, 1, dims, x)},
                      {ACT_ARG_DY, act_tensor_make(t, 1, dims, dy)},
                      {ACT_ARG_DX, act_tensor_make(t, 1, dims, r)}};
    CHECK_OK(act_reference_backward(d, 3, a));
    a[2].tensor.data = g;
    act_status_t st = act_backward_host(ctx, d, 3, a);
    CHECK(st == ACT_OK, "%s: %s(%s) %s backward: %s: %s", dev, op, params,
          act_dtype_name(t), act_status_name(st), act_last_error());
    if (!st) {
      size_t wi;
      double e = max_err(t, g, r, n, &wi);
      float xi, dyi, got, want;
      act_convert(t, (char *)x + wi * es, ACT_F32, &xi, 1);
      act_convert(t, (char *)dy + wi * es, ACT_F32, &dyi, 1);
      act_convert(t, (char *)g + wi * es, ACT_F32, &got, 1);
      act_convert(t, (char *)r + wi * es, ACT_F32, &want, 1);
      CHECK(e <= bound(act_op_desc_op(d), t),
            "%s: %s(%s)' %s (n %zu): %.2f ulp at x = %.9g, dy = %.9g: got "
            "%.9g, want %.9g", dev, op, params, act_dtype_name(t), n, e, xi,
            dyi, got, want);
    }
    free(x), free(dy), free(r), free(g);
  }
  act_op_desc_destroy(d);
}

/* Axis ops on [R, C] along each axis, f32/f16/bf16: device vs reference. */
static void dev_axis(act_context_t *ctx, const char *dev) {
  static const act_dtype_t dts[] = {ACT_F32, ACT_F16, ACT_BF16};
  static const axis_case_t cases[] = {
      {"softmax", "", -1, 0, 0, 0, 0, 12, 40, 0},
      {"softmax", "", 0, 1, 0, 0, 0, 12, 40, 0},
      {"log_softmax", "", -1, 1, 0, 0, 0, 12, 40, 0},
      {"log_softmax", "", 0, 0, 0, 0, 0, 12, 40, 0},
      {"softmin", "", -1, 0, 0, 0, 0, 12, 40, 0},
      /* rows whose length is no multiple of 8 (CPU drivers' row kernel:
       * 8 elements a step, then one at a time) */
      {"softmax", "", -1, 1, 0, 0, 0, 5, 37, 0},
      {"log_softmax", "", -1, 0, 0, 0, 0, 5, 37, 0},
      {"softmin", "", -1, 1, 0, 0, 0, 3, 7, 0},
      {"logsumexp", "", -1, 0, 0, 0, 0, 12, 40, 0},
      {"logsumexp", "keepdims=1", 0, 0, 1, 0, 0, 12, 40, 0},
      {"logsumexp", "", ACT_AXIS_ALL, 0, 0, 0, 0, 12, 40, 0},
      {"logsumexp", "return_sign=1", -1, 0, 1, 0, 0, 12, 40, 0},
      {"glu", "", -1, 0, 0, 0, 0, 12, 40, 0},
      {"glu", "", 0, 0, 0, 0, 0, 12, 40, 0},
      {"standardize", "", -1, 0, 0, 0, 0, 12, 40, 0},
      {"standardize", "", 0, 0, 0, 0, 0, 12, 40, 0},
      {"standardize", "", -1, 0, 0, 1, 1, 12, 40, 0},
      /* A middle axis of a 3-D tensor. */
      {"softmax", "", 1, 1, 0, 0, 0, 4, 30, 5},
      {"log_softmax", "", -2, 0, 0, 0, 0, 4, 30, 5},
      {"softmin", "", 1, 1, 0, 0, 0, 4, 30, 5},
      {"logsumexp", "", 1, 0, 1, 0, 0, 4, 30, 5},
      {"glu", "", 1, 0, 0, 0, 0, 4, 30, 5},
      {"standardize", "", 1, 0, 0, 1, 1, 4, 30, 5},
      {"standardize", "", 1, 0, 0, 0, 0, 4, 30, 5},
      /* Rows of 64K elements (docs/accuracy.md: axis ops on rows up to 64K). */
      {"softmax", "", -1, 0, 0, 0, 0, 2, 65536, 0},
      {"log_softmax", "", -1, 0, 0, 0, 0, 2, 65536, 0},
      {"logsumexp", "", -1, 0, 0, 0, 0, 2, 65536, 0},
      {"standardize", "", -1, 0, 0, 0, 0, 2, 65536, 0},
      {"glu", "", -1, 0, 0, 0, 0, 2, 65536, 0},
  };
  enum { N = 2 * 65536 };
  static float fx[N], fdy[N], fb[N], fm[N], fv[N], fy[N], fs[N];
  static uint8_t w[N];
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    const axis_case_t *ac = &cases[c];
    act_op_desc_t *d = make_desc(ac->op, ac->params);
    if (!d)
      continue;
    CHECK_OK(act_op_desc_set_axis(d, ac->axis));
    shapes_t sh = case_shapes(d, ac);
    size_t n = (size_t)sh.n;
    fill_case(ac, fx, fdy, w, fb, fm, fv);
    for (size_t i = 0; i < n; i++)
      fx[i] = (float)(unif() * 40 - 20);
    act_op_t o = act_op_desc_op(d);
    if (o == ACT_OP_SOFTMAX || o == ACT_OP_LOG_SOFTMAX || o == ACT_OP_SOFTMIN)
      fx[3] = 1e30f; /* a huge logit */
    if (o == ACT_OP_STANDARDIZE && ac->axis == -1 && ac->R > 2) {
      /* a row of huge values and one holding NaN (CPU drivers' row
       * kernel runs act_standardize_bwd's code there) */
      for (int64_t j = 0; j < ac->C; j++)
        fx[ac->C + j] *= 1e35f;
      fx[2 * ac->C + 1] = NAN;
    }
    if (o == ACT_OP_LOGSUMEXP && ac->axis == -1 && ac->R > 2) {
      /* rows holding NaN and +inf (CPU drivers' row kernel takes its
       * exact path there) */
      fx[3] = NAN;
      fx[ac->C + 2] = INFINITY;
    }
    for (int k = 0; k < 3; k++) {
      act_dtype_t t = dts[k];
      size_t es = act_dtype_size(t);
      /* y from the reference forward, in the dtype. */
      char *x = malloc(n * es), *y = malloc(n * es), *dy = malloc(n * es),
           *b = malloc(n * es), *m = malloc(n * es), *v = malloc(n * es),
           *r = malloc(n * es), *g = malloc(n * es);
      act_convert(ACT_F32, fx, t, x, n);
      act_convert(t, x, ACT_F32, fx, n);
      act_convert(ACT_F32, fb, t, b, n);
      act_convert(ACT_F32, fm, t, m, n);
      act_convert(ACT_F32, fv, t, v, n);
      act_convert(ACT_F32, fdy, t, dy, n);
      CHECK_OK(fwd_axis(d, ac, fx, w, fb, fm, fv, fy, fs));
      act_convert(ACT_F32, fy, t, y, (size_t)sh.ny);
      act_status_t st = bwd_axis(NULL, d, ac, t, x, y, dy, w, b, m, v, r);
      CHECK(st == ACT_OK, "reference %s backward: %s", ac->op,
            act_last_error());
      st = bwd_axis(ctx, d, ac, t, x, y, dy, w, b, m, v, g);
      CHECK(st == ACT_OK, "%s: %s(%s) axis %d %s backward: %s: %s", dev,
            ac->op, ac->params, ac->axis, act_dtype_name(t),
            act_status_name(st), act_last_error());
      if (!st) {
        size_t wi;
        double e = max_err(t, g, r, n, &wi);
        CHECK(e <= bound(o, t),
              "%s: %s(%s) axis %d shape [%lld,%lld,%lld] %s backward: %.2f "
              "ulp at element %zu", dev, ac->op, ac->params, ac->axis,
              (long long)ac->R, (long long)ac->C, (long long)ac->D,
              act_dtype_name(t), e, wi);
      }
      free(x), free(y), free(dy), free(b), free(m), free(v), free(r),
          free(g);
    }
    act_op_desc_destroy(d);
  }
  /* prelu with a per-channel alpha tensor: dx and dalpha. */
  for (int k = 0; k < 3; k++) {
    act_dtype_t t = dts[k];
    size_t es = act_dtype_size(t);
    act_op_desc_t *d = make_desc("prelu", "");
    int64_t xd[3] = {4, 3, 10}, ad[1] = {3};
    float fa[3] = {0.25f, -1.5f, 0.0f};
    char x[240 * 4], dy[240 * 4], r[240 * 4], g[240 * 4], al[12], dr[12],
        dg[12];
    for (int i = 0; i < 120; i++) {
      fx[i] = (float)(unif() * 8 - 4);
      fdy[i] = (float)(unif() * 2 - 1);
    }
    act_convert(ACT_F32, fx, t, x, 120);
    act_convert(ACT_F32, fdy, t, dy, 120);
    act_convert(ACT_F32, fa, t, al, 3);
    act_arg_t a[5] = {{ACT_ARG_X, act_tensor_make(t, 3, xd, x)},
                      {ACT_ARG_DY, act_tensor_make(t, 3, xd, dy)},
                      {ACT_ARG_DX, act_tensor_make(t, 3, xd, r)},
                      {ACT_ARG_ALPHA, act_tensor_make(t, 1, ad, al)},
                      {ACT_ARG_DALPHA, act_tensor_make(t, 1, ad, dr)}};
    CHECK_OK(act_reference_backward(d, 5, a));
    a[2].tensor.data = g;
    a[4].tensor.data = dg;
    act_status_t st = act_backward_host(ctx, d, 5, a);
    CHECK(st == ACT_OK, "%s: prelu per-channel %s backward: %s: %s", dev,
          act_dtype_name(t), act_status_name(st), act_last_error());
    if (!st) {
      size_t wi;
      double e = max_err(t, g, r, 120, &wi);
      CHECK(e <= bound(ACT_OP_PRELU, t), "%s: prelu %s dx: %.2f ulp at %zu",
            dev, act_dtype_name(t), e, wi);
      /* dalpha is a sum over 40 elements: the axis-op bound. */
      e = max_err(t, dg, dr, 3, &wi);
      CHECK(e <= bound(ACT_OP_SOFTMAX, t), "%s: prelu %s dalpha: %.2f ulp at "
            "%zu", dev, act_dtype_name(t), e, wi);
    }
    act_op_desc_destroy(d);
    (void)es;
  }
}

/* The asynchronous call on device buffers: x, and dy at an offset in one
 * buffer, dx written over dy (in place); events; every device including
 * the cpu one. */
static void check_async(act_context_t *ctx, const char *dev) {
  enum { N = 1003, OFF = 24 };
  act_op_desc_t *d = make_desc("gelu", "");
  float x[N], dy[N], want[N], got[N], guard[4] = {7, 7, 7, 7}, gback[4];
  for (int i = 0; i < N; i++) {
    x[i] = (float)(unif() * 16 - 8);
    dy[i] = (float)(unif() * 2 - 1);
  }
  CHECK_OK(ref_bwd(d, ACT_F32, x, dy, want, N));
  act_queue_t *q = NULL;
  act_buffer_t *b = NULL;
  act_status_t st = act_queue_create(ctx, &q);
  if (!st)
    st = act_buffer_create(ctx, (OFF + 2 * N + 4) * 4, &b);
  CHECK(st == ACT_OK, "%s: queue/buffer: %s", dev, act_last_error());
  if (!st) {
    int64_t dims[1] = {N};
    act_tensor_t tx = act_tensor_make(ACT_F32, 1, dims, NULL), tg;
    tx.buffer = b;
    tg = tx;
    tg.offset = (OFF + N) * 4;
    act_arg_t a[3] = {{ACT_ARG_X, tx}, {ACT_ARG_DY, tg}, {ACT_ARG_DX, tg}};
    act_event_t *ev = NULL;
    CHECK_OK(act_buffer_write(q, b, 0, N * 4, x, NULL));
    CHECK_OK(act_buffer_write(q, b, (OFF + N) * 4, N * 4, dy, NULL));
    CHECK_OK(act_buffer_write(q, b, (OFF + 2 * N) * 4, 16, guard, NULL));
    st = act_backward(q, d, 3, a, &ev);
    CHECK(st == ACT_OK, "%s: act_backward (in place, at an offset): %s: %s",
          dev, act_status_name(st), act_last_error());
    CHECK_OK(act_buffer_read(q, b, (OFF + N) * 4, N * 4, got, NULL));
    CHECK_OK(act_buffer_read(q, b, (OFF + 2 * N) * 4, 16, gback, NULL));
    CHECK_OK(act_queue_finish(q));
    if (!st) {
      CHECK_OK(act_event_wait(ev));
      size_t wi;
      double e = max_err(ACT_F32, got, want, N, &wi);
      CHECK(e <= 2.0, "%s: gelu backward in place: %.2f ulp at %zu", dev, e,
            wi);
      CHECK(memcmp(guard, gback, sizeof guard) == 0,
            "%s: backward wrote past dx", dev);
    }
    act_event_destroy(ev);
    /* A buffer of another context is refused. */
    act_context_t *other = NULL;
    act_buffer_t *ob = NULL;
    if (!act_context_create("cpu", &other) &&
        !act_buffer_create(other, N * 4, &ob)) {
      a[0].tensor.buffer = ob;
      a[0].tensor.offset = 0;
      CHECK(act_backward(q, d, 3, a, NULL) == ACT_INVALID_ARGUMENT,
            "%s: backward with a buffer of another context", dev);
    }
    act_buffer_destroy(ob);
    act_context_destroy(other);
  }
  act_buffer_destroy(b);
  act_queue_destroy(q);
  act_op_desc_destroy(d);
}

static void check_devices(void) {
  size_t nd = act_device_count(), ns;
  float *sw = act_test_sweep(6000, 12345u, &ns);
  /* First, the far tails against the largest and infinite dy: around
   * where the lean gradients cut f' to 0 (silu' and mish' near -200,
   * gelu_quick' near -117, the gelu tanh form near -13.5; a cut at -194
   * left products of 3e38 and f' that are small denormals, 26-72 ulp
   * off) and where the reference's own f' turns 0 (the gelu erf form at
   * -38.5755: inf or NaN). Then the sweep. */
  static const float tail_x[] = {-194.0f, -195.0f, -196.5f, -198.0f, -199.5f,
                                 -200.5f, -114.0f, -114.5f, -116.0f,
                                 -118.0f, -13.42f, -13.44f, -13.48f,
                                 -13.55f, -38.57f, -38.5754967f,
                                 -38.5755005f, -38.58f};
  static const float tail_dy[] = {FLT_MAX, -3e38f, INFINITY, -INFINITY};
  size_t nt = sizeof tail_x / sizeof *tail_x * 4, n = nt + ns;
  float *sx = malloc(n * sizeof *sx), *sdy = malloc(n * sizeof *sdy);
  for (size_t i = 0; i < nt; i++)
    sx[i] = tail_x[i / 4], sdy[i] = tail_dy[i % 4];
  memcpy(sx + nt, sw, ns * sizeof *sw);
  free(sw);
  for (size_t i = nt; i < n; i++)
    sdy[i] = (float)((rng() & 1 ? -1 : 1) * (0.25 + 2 * unif()));
  for (size_t i = nt + 5; i < n; i += 97) /* NaN in dy gives NaN; dy = 0 */
    sdy[i] = i % 2 ? NAN : 0.0f;
  /* infinite dy (+-inf, or NaN where f' is 0 in double too), and dy at
   * the ends of the range (products that overflow or round to denormals) */
  static const float edge[] = {INFINITY, -INFINITY, FLT_MAX, -3e38f,
                               1e-40f, -1.4e-45f, 1e-30f, -2e-38f};
  for (size_t i = nt + 7, k = 0; i < n; i += 89, k++)
    sdy[i] = edge[k % (sizeof edge / sizeof edge[0])];
  for (size_t i = 0; i < nd; i++) {
    act_device_info_t info;
    CHECK_OK(act_device_get_info(i, &info));
    if (info.backend == ACT_BACKEND_CPU) {
      act_context_t *cpu = NULL;
      if (!act_context_create(info.name, &cpu))
        check_async(cpu, info.name);
      act_context_destroy(cpu);
      continue;
    }
    printf("device %s: %s\n", info.name, info.description);
    act_context_t *ctx;
    act_status_t st = act_context_create(info.name, &ctx);
    CHECK(st == ACT_OK, "%s: context: %s", info.name, act_last_error());
    if (st)
      continue;
    int before = act_test_failures;
    for (int op = 0; op < ACT_OP_COUNT; op++) {
      const act_op_info_t *oi = act_op_info((act_op_t)op);
      if (oi->kind != ACT_KIND_ELTWISE)
        continue;
      dev_eltwise(ctx, info.name, oi->name,
                  op == ACT_OP_THRESHOLD ? "threshold=0.5,value=-2" : "", sx,
                  sdy, n);
    }
    for (size_t k = 0; k < sizeof param_sets / sizeof *param_sets; k++)
      dev_eltwise(ctx, info.name, param_sets[k].op, param_sets[k].params, sx,
                  sdy, n);
    dev_axis(ctx, info.name);
    check_async(ctx, info.name);
    printf("device %s: backward %s\n", info.name,
           act_test_failures == before ? "ok" : "FAILED");
    act_context_destroy(ctx);
  }
  free(sx);
  free(sdy);
  CHECK(act__diag_count() == 0, "%llu driver validation message(s)",
        (unsigned long long)act__diag_count());
}

int main(void) {
  for (int op = 0; op < ACT_OP_COUNT; op++) {
    const act_op_info_t *oi = act_op_info((act_op_t)op);
    if (oi->kind == ACT_KIND_ELTWISE)
      check_fd_eltwise(oi->name,
                       op == ACT_OP_THRESHOLD ? "threshold=0.5,value=-2" : "");
  }
  for (size_t k = 0; k < sizeof param_sets / sizeof *param_sets; k++)
    check_fd_eltwise(param_sets[k].op, param_sets[k].params);
  check_kinks();
  check_special();
  for (size_t k = 0; k < sizeof axis_cases / sizeof *axis_cases; k++)
    check_fd_axis(&axis_cases[k]);
  check_prelu_dalpha();
  check_in_place();
  check_errors();
  check_cpu_device();
  check_devices();
  return act_test_finish("test_backward");
}
