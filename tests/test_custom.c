/*
 * test_custom.c - custom element-wise ops (actkit.h, "Custom element-wise
 * ops").
 *
 * Six ops - a scaled tanh (LeCun's 1.7159 tanh(2x/3)), swish-beta
 * from examples/custom_swish.cl (registered from the file), a bounded relu,
 * and an erf-based gelu written with a helper function, a loop and a bool
 * - exp by its Taylor series (while, break, continue, int parameters), and
 * a sum over most built-ins - are checked on the reference against closed forms, then on every
 * OpenCL and Vulkan device, forward and backward, on f32, f16 and bf16,
 * against the reference within the custom-op bound
 * (act_custom_within_bound: 16 ulp f32, 2 ulp f16/bf16, or 2^-22 near
 * zero). Then the errors a user can act on: a typo's line and column, each
 * refused construct named (pointers, arrays, recursion, forbidden
 * built-ins, preprocessor, vector types, goto), names that shadow a
 * built-in op or alias, duplicates, bad names and signatures, a source
 * whose derivative cannot be derived, NULL arguments; threads registering and using ops at once.
 * Finally a second process (this program
 * with --child) finds every compiled program in the on-disk cache: on
 * OpenCL it builds nothing; on Vulkan it runs no glslang compile (the
 * pipeline itself is the driver's: lavapipe rebuilds pipelines, reporting
 * no pipeline-cache hits).
 *
 * A backend listed in $ACTKIT_REQUIRE_BACKENDS (comma-separated) that has
 * no device fails the test instead of being skipped.
 */
#include "testutil.h"

#include "core/internal.h" /* act__glsl_count, act__diag_count */

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ACT_SOURCE_DIR
#define ACT_SOURCE_DIR "."
#endif

static const char scaled_tanh_src[] =
    "// LeCun's scaled tanh: a tanh(b x)\n"
    "float scaled_tanh(float x, float a, float b) {\n"
    "  return a * tanh(b * x);\n"
    "}\n"
    "float scaled_tanh_grad(float x, float a, float b) {\n"
    "  float t = tanh(b * x);\n"
    "  return a * b * (1.0f - t * t);\n"
    "}\n";

static const char brelu_src[] =
    "/* relu bounded above by cap; at the kinks, jax's one-sided choices */\n"
    "float brelu(float x, float cap) {\n"
    "  if (x <= 0)\n"
    "    return 0;\n"
    "  else if (x >= cap)\n"
    "    return cap;\n"
    "  return x;\n"
    "}\n"
    "float brelu_grad(float x, float cap) {\n"
    "  return x > 0.0f && x < cap ? 1 : 0.0f;\n"
    "}\n";

/* gelu(x) = x/2 erfc(-x/sqrt 2), with a helper defined after its caller, a
 * loop, a bool, compound assignments and an int division. */
static const char gelu_src[] =
    "float gelu_loop(float x) {\n"
    "  float acc = 0.0f;\n"
    "  for (int i = 0; i < 3; i++) {\n"
    "    acc += halve(x) / 3;\n"
    "  }\n"
    "  bool neg = x < 0.0f;\n"
    "  int k = 7 / 2;\n"
    "  while (k > 0) { k--; }\n"
    "  float z = x * 0.707106781186547524f;\n"
    "  return neg ? acc * erfc(-z) : acc * (1.0f + erf(z));\n"
    "}\n"
    "float halve(float v) { return v * 0.5f; }\n";

/* exp by its Taylor series on [-2, 2]: while (true), break, continue,
 * int parameters, %, a helper called with an int. */
static const char taylor_src[] =
    "float poly(float x, int n) {\n"
    "  float r = 1.0f, t = 1.0f;\n"
    "  int i = 1;\n"
    "  while (true) {\n"
    "    if (i > n)\n"
    "      break;\n"
    "    t = t * x / i;\n"
    "    i++;\n"
    "    if (i % 2 == 0) {\n"
    "      r += t;\n"
    "      continue;\n"
    "    }\n"
    "    r = r + t;\n"
    "  }\n"
    "  return r;\n"
    "}\n"
    "float exp_taylor(float x) { return poly(clamp(x, -2.0f, 2.0f), 16); }\n"
    "float exp_taylor_grad(float x) {\n"
    "  return fabs(x) < 2.0f ? poly(x, 15) : 0.0f;\n"
    "}\n";

/* Most built-ins at once, in sums without cancellation (so that the
 * device's float evaluation stays within a few ulp). */
static const char mixed_src[] =
    "float mixed(float x) {\n"
    "  float a = fabs(x);\n"
    "  if (a < 4.0f)\n"
    "    return sinh(x) * x + cosh(x) * 0.25f + rsqrt(1.0f + a) +\n"
    "           pow(1.5f, x) + fma(x, 0.5f, 8.0f);\n"
    "  float r = log1p(a) + log(a) + expm1(-a) + erfc(a) + softplus(-a) +\n"
    "            sqrt(a) + sigmoid(a) + exp(-a) + erf(a) + tanh(a);\n"
    "  if (isnan(r) || isinf(r))\n"
    "    return r;\n"
    "  return copysign(r, x) + floor(x) * 0.5f + ceil(x) * 0.25f +\n"
    "         fmin(x, 2.0f) + fmax(x, -2.0f) + clamp(x, -5.0f, 5.0f) +\n"
    "         (sin(x) * sin(x) + cos(x) * cos(x)) * 0.0f + atan(a) * 0.0f;\n"
    "}\n";

/* Plain functions, as users write them: no annotation, no derivative.
 * Each function of x that no other calls is an op (mix2 is a helper: it
 * is called, and its first parameter is not x); their derivatives are
 * derived. Together they use every built-in with a derivative rule, for,
 * while, continue, if, ?:, every compound assignment, and a helper taking
 * two floats and an int. trig's terms all increase with x (no
 * cancellation in f'); arguments are clamped where float would overflow
 * and double would not (an overflow is the source's own business). */
static const char plain_src[] =
    "float mish_p(float x) { return x * tanh(softplus(x)); }\n"
    "float gelu_p(float x) { return 0.5f * x * (1.0f + erf(x * "
    "0.707106781f)); }\n"
    "float mix2(float a, float b, int k) { return a * b + k * a; }\n"
    "float flow(float x, float s) {\n"
    "  float t = clamp(x, -8.0f, 8.0f);\n"
    "  float y = 1.0f, acc = 0.0f;\n"
    "  for (int i = 0; i < 3; i++) { y *= t; acc += y; }\n"
    "  acc -= 0.5f * t;\n"
    "  acc /= 1.0f + t * t;\n"
    "  int i = 0;\n"
    "  while (i < 4) {\n"
    "    i++;\n"
    "    if (i == 2)\n"
    "      continue;\n"
    "    acc += i > 2 ? t * t : -t;\n"
    "  }\n"
    "  return acc + mix2(t, s * t, 2) + mix2(s, t, 1);\n"
    "}\n"
    "float kinks(float x) {\n"
    "  return fmax(x, 0.0f) + fabs(x) + (x > 1.0f ? x : 1.0f) +\n"
    "         0.125f * floor(x) +\n"
    "         clamp(x, -2.0f, 2.0f);\n"
    "}\n"
    "float trig(float x) {\n"
    "  float c = clamp(x, -1.5f, 1.5f);\n"
    "  return sin(c) + atan(x) + sinh(c) + cos(c - 1.5f) + cosh(c + 2.0f) +\n"
    "         rsqrt(4.0f - c) + log1p(c + 2.0f) + log(2.0f + c) - expm1(-c) +\n"
    "         exp(c) - erfc(c) + pow(2.0f + c, 1.5f) + copysign(c, x + 3.0f) +\n"
    "         fma(c, 0.5f, c) + fmin(c, 1.0f) + fmax(c, -1.0f) + floor(c) +\n"
    "         ceil(c) + 40.0f;\n"
    "}\n";

typedef struct {
  const char *name;
  act_op_t op;
  bool deriv;
  double (*exact)(double x, const double *p); /* closed form, or NULL */
  double (*dexact)(double x, const double *p); /* f', or NULL */
  const char *params; /* more parameters for the device sweep, or NULL */
} custom_t;

static double exact_scaled_tanh(double x, const double *p) {
  return p[0] * tanh(p[1] * x);
}
static double exact_swish(double x, const double *p) {
  return x / (1.0 + exp(-p[0] * x));
}
static double exact_brelu(double x, const double *p) {
  return x <= 0 ? 0 : (x >= p[0] ? p[0] : x);
}
static double exact_gelu(double x, const double *p) {
  (void)p;
  return 0.5 * x * erfc(-x / sqrt(2.0));
}
static const double PI = 3.14159265358979323846;
static double dexact_gelu(double x, const double *p) {
  (void)p;
  return 0.5 * erfc(-x / sqrt(2.0)) + x * exp(-0.5 * x * x) / sqrt(2 * PI);
}
static double exact_taylor(double x, const double *p) {
  (void)p;
  x = fmin(fmax(x, -2.0), 2.0);
  double r = 1, t = 1;
  for (int k = 1; k <= 16; k++)
    r += (t *= x / k);
  return r;
}

static double exact_mixed(double x, const double *p) {
  (void)p;
  double a = fabs(x);
  if (a < 4)
    return sinh(x) * x + cosh(x) * 0.25 + 1 / sqrt(1 + a) + pow(1.5, x) +
           (x * 0.5 + 8);
  double r = log1p(a) + log(a) + expm1(-a) + erfc(a) + log1p(exp(-a)) +
             sqrt(a) + 1 / (1 + exp(-a)) + exp(-a) + erf(a) + tanh(a);
  if (isinf(r))
    return r;
  return copysign(r, x) + floor(x) * 0.5 + ceil(x) * 0.25 + fmin(x, 2) +
         fmax(x, -2) + fmin(fmax(x, -5), 5);
}

static double sp(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }
static double exact_mish(double x, const double *p) {
  (void)p;
  return x * tanh(sp(x));
}
static double dexact_mish(double x, const double *p) {
  (void)p;
  double t = tanh(sp(x));
  return t + x * (1 - t * t) * sig(x);
}
static const double gelu_c = 0.707106781; /* the source's literal */
static double exact_gelu_p(double x, const double *p) {
  (void)p;
  return 0.5 * x * (1 + erf(x * gelu_c));
}
static double dexact_gelu_p(double x, const double *p) {
  (void)p;
  return 0.5 * (1 + erf(x * gelu_c)) +
         x * gelu_c / sqrt(PI) * exp(-x * x * gelu_c * gelu_c);
}
static double exact_flow(double x, const double *p) {
  double t = fmin(fmax(x, -8), 8), s = p[0];
  return (0.5 * t + t * t + t * t * t) / (1 + t * t) + 2 * t * t - t +
         s * t * t + 2 * t + s * t + s;
}
static double dexact_flow(double x, const double *p) {
  if (fabs(x) > 8)
    return 0;
  double t = x, s = p[0], q = 1 + t * t;
  return ((0.5 + 2 * t + 3 * t * t) * q - (0.5 * t + t * t + t * t * t) * 2 * t) /
             (q * q) +
         4 * t - 1 + 2 * s * t + 2 + s;
}
static double exact_kinks(double x, const double *p) {
  (void)p;
  return fmax(x, 0) + fabs(x) + (x > 1 ? x : 1) + 0.125 * floor(x) +
         fmin(fmax(x, -2), 2);
}
/* away from the kinks (0, 1, +-2 and the integers) */
static double dexact_kinks(double x, const double *p) {
  (void)p;
  return (x > 0) + (x > 0 ? 1 : -1) + (x > 1) + (fabs(x) < 2);
}
static double exact_trig(double x, const double *p) {
  (void)p;
  double c = fmin(fmax(x, -1.5), 1.5);
  return sin(c) + atan(x) + sinh(c) + cos(c - 1.5) + cosh(c + 2) +
         1 / sqrt(4 - c) + log1p(c + 2) + log(2 + c) - expm1(-c) + exp(c) -
         erfc(c) + pow(2 + c, 1.5) + copysign(c, x + 3) + fma(c, 0.5, c) +
         fmin(c, 1) + fmax(c, -1) + floor(c) + ceil(c) + 40;
}

#define NOPS 11
static custom_t ops[NOPS] = {
    {"scaled_tanh", 0, true, exact_scaled_tanh, NULL, NULL},
    {"swish_beta", 0, true, exact_swish, NULL, "beta=1.702"},
    {"brelu", 0, true, exact_brelu, NULL, "cap=1"},
    /* the rest without a derivative in their source: derived */
    {"gelu_loop", 0, true, exact_gelu, dexact_gelu, NULL},
    {"exp_taylor", 0, true, exact_taylor, NULL, NULL},
    {"mixed", 0, true, exact_mixed, NULL, NULL},
    {"mish_p", 0, true, exact_mish, dexact_mish, NULL},
    {"gelu_p", 0, true, exact_gelu_p, dexact_gelu_p, NULL},
    {"flow", 0, true, exact_flow, dexact_flow, "s=1.5"},
    {"kinks", 0, true, exact_kinks, dexact_kinks, NULL},
    {"trig", 0, true, exact_trig, NULL, NULL},
};

static act_status_t reg(const char *name, const char *src, const char *file,
                        const char *fwd, const char *deriv, int np,
                        const char *const *pn, const double *pd,
                        act_op_t *op) {
  act_custom_desc_t d;
  memset(&d, 0, sizeof d);
  d.name = name;
  d.source = src;
  d.source_name = file;
  d.forward = fwd;
  d.derivative = deriv;
  d.nparams = np;
  for (int i = 0; i < np; i++) {
    d.param_names[i] = pn[i];
    d.param_defaults[i] = pd[i];
  }
  return act_custom_register(&d, op);
}

static void register_all(void) {
  static const char *const tn[] = {"a", "b"};
  static const double td[] = {1.7159, 2.0 / 3.0};
  CHECK_OK(reg("scaled_tanh", scaled_tanh_src, "scaled_tanh.cl", NULL,
               "scaled_tanh_grad", 2, tn, td, &ops[0].op));
  size_t n = 0;
  CHECK_OK(act_custom_register_file(ACT_SOURCE_DIR
                                    "/examples/custom_swish.cl",
                                    &ops[1].op, 1, &n));
  CHECK(n == 1, "custom_swish.cl declares %zu ops", n);
  static const char *const bn[] = {"cap"};
  static const double bd[] = {6.0};
  CHECK_OK(reg("brelu", brelu_src, "brelu.cl", NULL, "brelu_grad", 1, bn,
               bd, &ops[2].op));
  CHECK_OK(reg("gelu_loop", gelu_src, "gelu_loop.cl", NULL, NULL, 0, NULL,
               NULL, &ops[3].op));
  CHECK_OK(reg("exp_taylor", taylor_src, "exp_taylor.cl", NULL,
               "exp_taylor_grad", 0, NULL, NULL, &ops[4].op));
  CHECK_OK(reg("mixed", mixed_src, "mixed.cl", NULL, NULL, 0, NULL, NULL,
               &ops[5].op));
  act_op_t plain[8];
  CHECK_OK(act_custom_register_source(plain_src, "plain.cl", plain, 8, &n));
  CHECK(n == 5, "plain.cl declares %zu ops (want 5: mix2 is a helper)", n);
  for (size_t i = 0; i < n && i < 5; i++) {
    ops[6 + i].op = plain[i];
    CHECK(strcmp(act_op_info(plain[i])->name, ops[6 + i].name) == 0,
          "plain op %zu is %s, want %s", i, act_op_info(plain[i])->name,
          ops[6 + i].name);
  }
  act_op_t op;
  CHECK(act_op_lookup("mix2", &op) == ACT_UNKNOWN_OP, "the helper mix2 "
        "became an op");
  const act_op_info_t *fi = act_op_info(ops[8].op);
  CHECK(fi && fi->nparams == 1 && strcmp(fi->params[0].name, "s") == 0 &&
            fi->params[0].default_value == 0.0,
        "flow's parameter: s = 0");
}

/* The reference against each op's closed form (f32 results: 2 ulp, as
 * the evaluator computes in double what the closed form does). */
static void check_reference(void) {
  size_t n;
  float *x = act_test_sweep(2000, 777u, &n);
  float *y = malloc(n * sizeof *y);
  for (int k = 0; k < NOPS && x && y; k++) {
    act_op_desc_t *d;
    CHECK_OK(act_op_desc_create(ops[k].op, &d));
    if (!d)
      continue;
    const act_op_info_t *info = act_op_info(ops[k].op);
    CHECK(info && strcmp(info->name, ops[k].name) == 0, "info of %s",
          ops[k].name);
    CHECK(info && info->kind == ACT_KIND_ELTWISE, "%s kind", ops[k].name);
    double p[ACT_MAX_PARAMS] = {0};
    for (int i = 0; info && i < info->nparams; i++)
      CHECK_OK(act_op_desc_get_param(d, info->params[i].name, &p[i]));
    int64_t dims[1] = {(int64_t)n};
    act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                      {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)}};
    CHECK_OK(act_reference_forward(d, 2, a));
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
      double r = isnan(x[i]) ? x[i] : ops[k].exact(x[i], p);
      float rf = (float)r;
      if (act_ulp_error(ACT_F32, y[i], rf) > 2.0 && bad++ < 5)
        CHECK(false, "reference %s(%.9g) = %.9g, closed form %.9g",
              ops[k].name, x[i], y[i], rf);
    }
    act_op_desc_destroy(d);
  }
  free(x);
  free(y);
}

/* One element of op k's reference backward (dy = 1) at x, under params. */
static float ref_grad(act_op_desc_t *d, float x) {
  float g = 1.0f, dx = NAN;
  int64_t dims[1] = {1};
  act_arg_t a[3] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, &x)},
                    {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, dims, &g)},
                    {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, dims, &dx)}};
  act_status_t st = act_reference_backward(d, 3, a);
  CHECK(st == ACT_OK, "reference backward %s(%g): %s",
        act_op_info(act_op_desc_op(d))->name, x, act_last_error());
  return dx;
}

/* The reference's derivatives, hand-written or derived, against central
 * differences of the forward in double (1e-6 relative, at points 0.0377
 * or more from every kink and jump of these ops) and against the closed
 * form f' where there is one (2 ulp). */
static void check_derivatives(void) {
  for (int k = 0; k < NOPS; k++)
    for (int withp = 0; withp < (ops[k].params ? 2 : 1); withp++) {
      act_op_desc_t *d;
      const char *pr = withp ? ops[k].params : "";
      if (act_test_desc(ops[k].name, pr, &d)) {
        CHECK(false, "desc %s(%s): %s", ops[k].name, pr, act_last_error());
        continue;
      }
      const act_op_info_t *info = act_op_info(ops[k].op);
      double p[ACT_MAX_PARAMS] = {0};
      for (int i = 0; i < info->nparams; i++)
        CHECK_OK(act_op_desc_get_param(d, info->params[i].name, &p[i]));
      int bad = 0;
      for (int i = 0; i <= 120; i++) {
        float x = (float)(-6.0377 + 0.1 * i);
        float g = ref_grad(d, x);
        double h = 1e-5 * fmax(1.0, fabs(x));
        double fd = (act__custom_eval(ops[k].op, 0, p, x + h) -
                     act__custom_eval(ops[k].op, 0, p, x - h)) / (2 * h);
        if (!(fabs(g - fd) <= 1e-6 * fmax(1.0, fabs(fd))) && bad++ < 3)
          CHECK(false, "%s(%s)'(%.9g) = %.9g, central difference %.9g",
                ops[k].name, pr, x, g, fd);
        if (ops[k].dexact) {
          float r = (float)ops[k].dexact(x, p);
          if (act_ulp_error(ACT_F32, g, r) > 2 && fabs(g - r) > 1e-12 &&
              bad++ < 3)
            CHECK(false, "%s(%s)'(%.9g) = %.9g, closed form %.9g",
                  ops[k].name, pr, x, g, r);
        }
      }
      CHECK(isnan(ref_grad(d, NAN)), "%s'(NaN) is a number", ops[k].name);
      act_op_desc_destroy(d);
    }
}

/* jax's conventions where a derived derivative has a choice (kinks: fmax
 * at a tie halves, fabs'(0) = 1, the branch selected, floor' = 0, clamp
 * at its ends halves; sqrt'(0) = inf); a hand-written derivative beats a
 * derived one; an annotated op and a plain one in one file. */
static void check_conventions(void) {
  act_op_desc_t *d;
  CHECK_OK(act_op_desc_create(ops[9].op, &d));
  static const float xs[] = {0.0f, -0.0f, 1.0f, 2.0f, -2.0f, 0.5f, -0.5f};
  static const float want[] = {2.5f, 2.5f, 3.0f, 3.5f, -0.5f, 3.0f, 0.0f};
  for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
    float g = ref_grad(d, xs[i]);
    CHECK(g == want[i], "kinks'(%g) = %g, want %g", xs[i], g, want[i]);
  }
  act_op_desc_destroy(d);
  act_op_t op[4];
  size_t n = 0;
  CHECK_OK(act_custom_register_source(
      "float sqrt_abs(float x) { return sqrt(fabs(x)); }\n", "sq.cl", op, 4,
      &n));
  CHECK_OK(act_op_desc_create(op[0], &d));
  float g = ref_grad(d, 0.0f);
  CHECK(isinf(g) && g > 0, "sqrt(|x|)'(0) = %g, want +inf (jax)", g);
  act_op_desc_destroy(d);
  static const char hand[] =
      "// actkit: op hand_d(k = 2) derivative hand_d_grad\n"
      "float hand_d(float x, float k) { return k * x; }\n"
      "float hand_d_grad(float x, float k) { return 42.0f; }\n"
      "float also_plain(float x) { return x * x * x; }\n";
  CHECK_OK(act_custom_register_source(hand, "hand.cl", op, 4, &n));
  CHECK(n == 2, "hand.cl: %zu ops, want 2 (hand_d, also_plain)", n);
  act_op_t none;
  CHECK(act_op_lookup("hand_d_grad", &none) == ACT_UNKNOWN_OP,
        "the annotation's derivative became an op");
  CHECK_OK(act_op_desc_create(op[0], &d));
  double k = 0;
  CHECK_OK(act_op_desc_get_param(d, "k", &k));
  CHECK(k == 2.0, "hand_d's k = %g, want the annotation's 2", k);
  g = ref_grad(d, 1.0f);
  CHECK(g == 42.0f, "hand_d' = %g: the hand-written derivative lost", g);
  act_op_desc_destroy(d);
  CHECK_OK(act_op_desc_create(op[1], &d));
  g = ref_grad(d, 2.0f);
  CHECK(g == 12.0f, "also_plain'(2) = %g, want 12", g);
  act_op_desc_destroy(d);
  /* refused by the derivation, with the construct named */
  CHECK_OK(act_custom_register_source(
      "float step_op(float x) {\n  float t = 0.0f;\n"
      "  for (int i = 0; i < 2; t += x) { i++; }\n  return t;\n}\n",
      "step.cl", op, 4, &n));
  CHECK_OK(act_op_desc_create(op[0], &d));
  float x = 1, y = 0, dy = 1;
  int64_t dims[1] = {1};
  act_arg_t b[3] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, &x)},
                    {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, dims, &dy)},
                    {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, dims, &y)}};
  act_status_t st = act_reference_backward(d, 3, b);
  CHECK(st == ACT_UNSUPPORTED && strstr(act_last_error(), "step.cl:3:") &&
            strstr(act_last_error(), "for loop's step"),
        "a float update in a for step: %s %s", act_status_name(st),
        act_last_error());
  act_op_desc_destroy(d);
}

/* Max ulp error and elements outside the bound over the sweep, forward
 * (bwd 0) or backward (bwd 1), of op k on ctx in dtype t. */
static void check_device(act_context_t *ctx, const char *dev, int k,
                         act_dtype_t t, int bwd, const char *params,
                         const float *sx, size_t n) {
  act_op_desc_t *d;
  if (act_test_desc(ops[k].name, params, &d)) {
    CHECK(false, "%s: desc %s(%s): %s", dev, ops[k].name, params,
          act_last_error());
    return;
  }
  size_t es = act_dtype_size(t);
  int64_t dims[1] = {(int64_t)n};
  void *x = malloc(n * es), *g = malloc(n * es), *yd = malloc(n * es);
  void *yr = malloc(n * es);
  float *fg = malloc(n * sizeof *fg);
  if (!x || !g || !yd || !yr || !fg) {
    CHECK(false, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    fg[i] = (float)(0.25 + (double)(i % 13) * 0.125) * (i % 2 ? -1 : 1);
  act_convert(ACT_F32, sx, t, x, n);
  act_convert(ACT_F32, fg, t, g, n);
  act_arg_t a[3];
  size_t na;
  if (bwd) {
    a[0] = (act_arg_t){ACT_ARG_X, act_tensor_make(t, 1, dims, x)};
    a[1] = (act_arg_t){ACT_ARG_DY, act_tensor_make(t, 1, dims, g)};
    a[2] = (act_arg_t){ACT_ARG_DX, act_tensor_make(t, 1, dims, yr)};
    na = 3;
  } else {
    a[0] = (act_arg_t){ACT_ARG_X, act_tensor_make(t, 1, dims, x)};
    a[1] = (act_arg_t){ACT_ARG_Y, act_tensor_make(t, 1, dims, yr)};
    na = 2;
  }
  act_status_t st = bwd ? act_reference_backward(d, na, a)
                        : act_reference_forward(d, na, a);
  CHECK(st == ACT_OK, "reference %s: %s", ops[k].name, act_last_error());
  a[na - 1].tensor.data = yd;
  st = bwd ? act_backward_host(ctx, d, na, a)
           : act_forward_host(ctx, d, na, a);
  CHECK(st == ACT_OK, "%s %s %s %s: %s", dev, ops[k].name,
        act_dtype_name(t), bwd ? "backward" : "forward", act_last_error());
  if (st)
    goto done;
  double worst = 0, worst_far = 0;
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    float v, r;
    act_convert(t, (char *)yd + i * es, ACT_F32, &v, 1);
    act_convert(t, (char *)yr + i * es, ACT_F32, &r, 1);
    double e = act_ulp_error(t, v, r);
    worst = e > worst ? e : worst;
    if (fabs((double)v - (double)r) > 0x1p-22 && e > worst_far)
      worst_far = e;
    if (!act_custom_within_bound(t, v, r) && bad++ < 5) {
      float xi;
      act_convert(t, (char *)x + i * es, ACT_F32, &xi, 1);
      CHECK(false, "%s %s(%s) %s %s: x = %.9g: %.9g, reference %.9g "
            "(%.1f ulp)", dev, ops[k].name, params, act_dtype_name(t),
            bwd ? "backward" : "forward", xi, v, r, e);
    }
  }
  printf("  %-12s %-9s %-5s %-8s max %7.2f ulp, %7.2f ulp beyond 2^-22\n",
         ops[k].name, params[0] ? params : "defaults", act_dtype_name(t),
         bwd ? "backward" : "forward", worst, worst_far);
done:
  free(x), free(g), free(yd), free(yr), free(fg);
  act_op_desc_destroy(d);
}

/* Every op, dtype, direction on one device. */
static void check_all(act_context_t *ctx, const char *dev) {
  size_t n;
  float *sx = act_test_sweep(4000, 4242u, &n);
  static const act_dtype_t dts[3] = {ACT_F32, ACT_F16, ACT_BF16};
  for (int k = 0; k < NOPS && sx; k++)
    for (int t = 0; t < 3; t++)
      for (int bwd = 0; bwd < (ops[k].deriv ? 2 : 1); bwd++) {
        check_device(ctx, dev, k, dts[t], bwd, "", sx, n);
        if (ops[k].params && t == 0)
          check_device(ctx, dev, k, dts[t], bwd, ops[k].params, sx, n);
      }
  free(sx);
}

/* Expects a registration of src to fail with status want and a message
 * containing each of the strings (NULL-terminated). */
static void expect_error(const char *src, act_status_t want,
                         const char *const *has) {
  act_op_t op;
  act_status_t st = reg("bad_op", src, "bad.cl", "f", NULL, 0, NULL, NULL,
                        &op);
  CHECK(st == want, "%s -> %s (want %s): %s", src, act_status_name(st),
        act_status_name(want), act_last_error());
  for (int i = 0; has[i]; i++)
    CHECK(strstr(act_last_error(), has[i]) != NULL, "message '%s' lacks "
          "'%s' (source: %s)", act_last_error(), has[i], src);
  CHECK(act_op_lookup("bad_op", &op) == ACT_UNKNOWN_OP, "a failed "
        "registration left bad_op behind");
}

#define HAS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void check_errors(void) {
  /* a typo: the user's line and column */
  expect_error("float f(float x) {\n  float y = x * 2.0f;\n  retrun y;\n}\n",
               ACT_BUILD, HAS("bad.cl:3:3: error: 'retrun' is not declared"));
  expect_error("float f(float x) {\n  return tahn(x);\n}\n", ACT_BUILD,
               HAS("bad.cl:2:10: error: unknown function 'tahn'"));
  expect_error("float f(float x) {\n  return x * 2.0f\n}\n", ACT_BUILD,
               HAS("bad.cl:3:1: error: expected ';'"));
  expect_error("float f(float x) {\n  return x +* 2.0f;\n}\n", ACT_BUILD,
               HAS("bad.cl:2:13: error: pointer dereference"));
  /* refused constructs, each named */
  expect_error("float f(float *x) { return 0.0f; }", ACT_BUILD,
               HAS("bad.cl:1:15:", "pointers are not allowed"));
  expect_error("float f(float x) { float a[4]; return x; }", ACT_BUILD,
               HAS("bad.cl:1:27:", "arrays are not allowed"));
  expect_error("float f(float x) { return g(x); }\n"
               "float g(float x) { return h(x) + 1.0f; }\n"
               "float h(float x) { return f(x); }\n",
               ACT_BUILD, HAS("recursion: f calls itself via g, h"));
  expect_error("float f(float x) { return x > 0.0f ? f(x - 1.0f) : x; }",
               ACT_BUILD, HAS("bad.cl:1:7:", "recursion: f calls itself"));
  expect_error("float f(float x) {\n  uint i = get_global_id(0);\n"
               "  return x;\n}\n",
               ACT_BUILD, HAS("bad.cl:2:3:", "type 'uint' is not allowed"));
  expect_error("float f(float x) {\n  return x + get_global_id(0);\n}\n",
               ACT_BUILD, HAS("bad.cl:2:14:",
                              "forbidden built-in 'get_global_id'"));
  expect_error("float f(float x) { barrier(0); return x; }", ACT_BUILD,
               HAS("forbidden built-in 'barrier'"));
  expect_error("float f(float x) { return atomic_add(x, 1); }", ACT_BUILD,
               HAS("forbidden built-in 'atomic_add'", "atomics"));
  expect_error("#define K 2\nfloat f(float x) { return x; }", ACT_BUILD,
               HAS("bad.cl:1:1:", "preprocessor"));
  expect_error("float f(float x) { float4 v; return x; }", ACT_BUILD,
               HAS("vector type 'float4'"));
  expect_error("float f(float x) { goto out; return x; }", ACT_BUILD,
               HAS("goto"));
  expect_error("float f(float x) { return &x == 0; }", ACT_BUILD,
               HAS("address-of"));
  expect_error("struct s { float a; };\nfloat f(float x) { return x; }",
               ACT_BUILD, HAS("bad.cl:1:1:", "structs"));
  expect_error("__kernel float f(float x) { return x; }", ACT_BUILD,
               HAS("'__kernel' is not allowed"));
  expect_error("float f(float x) { return 0x1p3f; }", ACT_BUILD,
               HAS("hexadecimal"));
  expect_error("float f(float x) { int i = x; return i; }", ACT_BUILD,
               HAS("no implicit float to int conversion"));
  expect_error("float f(float x) { if (x) return x; return 0.0f; }",
               ACT_BUILD, HAS("must be bool"));
  expect_error("float f(float x) { if (x > 0.0f) return x; }", ACT_BUILD,
               HAS("may end without returning"));
  expect_error("float f(float x) { return x & 1; }", ACT_BUILD,
               HAS("bitwise"));
  expect_error("float f(float x) { return x; /* open", ACT_BUILD,
               HAS("unterminated comment"));
  /* signatures and names */
  expect_error("float g(float x) { return x; }", ACT_INVALID_ARGUMENT,
               HAS("no function 'f'"));
  expect_error("float f(float x, float y) { return x; }",
               ACT_INVALID_ARGUMENT, HAS("must be float f(float x)"));
  act_op_t op;
  static const char ok[] = "float f(float x) { return x; }";
  act_status_t st = reg("gelu", ok, "x.cl", "f", NULL, 0, NULL, NULL, &op);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "built-in"),
        "shadowing gelu: %s %s", act_status_name(st), act_last_error());
  st = reg("swish", ok, "x.cl", "f", NULL, 0, NULL, NULL, &op);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "silu"),
        "shadowing the alias swish: %s %s", act_status_name(st),
        act_last_error());
  st = reg("brelu", ok, "x.cl", "f", NULL, 0, NULL, NULL, &op);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "custom"),
        "registering brelu twice: %s %s", act_status_name(st),
        act_last_error());
  st = reg("Bad-Name", ok, "x.cl", "f", NULL, 0, NULL, NULL, &op);
  CHECK(st == ACT_INVALID_ARGUMENT, "a bad name: %s", act_status_name(st));
  static const char *const dup[] = {"a", "a"};
  static const double dd[] = {1, 2};
  st = reg("dup_params", "float f(float x, float a, float b) { return x; }",
           "x.cl", "f", NULL, 2, dup, dd, &op);
  CHECK(st == ACT_INVALID_ARGUMENT, "a parameter named twice: %s",
        act_status_name(st));
  CHECK(act_custom_register(NULL, &op) == ACT_NULL_POINTER, "NULL desc");
  act_custom_desc_t d;
  memset(&d, 0, sizeof d);
  d.name = "nosrc";
  d.size = sizeof d + 8;
  CHECK(act_custom_register(&d, &op) == ACT_INVALID_ARGUMENT,
        "a desc.size from a newer header");
  d.size = sizeof d;
  CHECK(act_custom_register(&d, &op) == ACT_NULL_POINTER, "NULL source");
  d.source = ok;
  d.forward = "f";
  CHECK(act_custom_register(&d, NULL) == ACT_NULL_POINTER, "NULL op");
  CHECK(act_custom_register_file(NULL, NULL, 0, NULL) == ACT_NULL_POINTER,
        "NULL path");
  CHECK(act_custom_register_file("/nonexistent/x.cl", NULL, 0, NULL) ==
            ACT_IO,
        "a missing file");
  /* annotations: errors at their line and column; nothing registered */
  st = act_custom_register_source("// actkit: op twice(k = ) forward f\n"
                                  "float f(float x, float k) { return x; }",
                                  "ann.cl", NULL, 0, NULL);
  CHECK(st == ACT_BUILD && strstr(act_last_error(), "ann.cl:1:25:"),
        "bad annotation: %s %s", act_status_name(st), act_last_error());
  st = act_custom_register_source("// actkit: op ok_one forward f\n"
                                  "// actkit: op relu forward f\n"
                                  "float f(float x) { return x; }",
                                  "two.cl", NULL, 0, NULL);
  CHECK(st == ACT_INVALID_ARGUMENT, "a file with a built-in name: %s",
        act_status_name(st));
  CHECK(act_op_lookup("ok_one", &op) == ACT_UNKNOWN_OP, "a file whose "
        "second op failed registered its first");
  st = act_custom_register_source("float f(float v) { return v; }", "n.cl",
                                  NULL, 0, NULL);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "no op"),
        "a file with no op (no annotation, no function of x): %s %s",
        act_status_name(st), act_last_error());
}

/* Parameters, lookup, no derivative, callbacks. */
static int calls;
static double cb_fwd(double x, const double *p, void *user) {
  (void)user;
  calls++;
  return x * p[0];
}
static double cb_der(double x, const double *p, void *user) {
  (void)x, (void)user;
  return p[0];
}

static void check_api(void) {
  act_op_t op;
  CHECK_OK(act_op_lookup("swish_beta", &op));
  CHECK(op == ops[1].op && (int)op >= ACT_OP_CUSTOM_BASE, "lookup");
  act_op_desc_t *d;
  CHECK_OK(act_op_desc_create_by_name("swish_beta", &d));
  double v = 0;
  CHECK_OK(act_op_desc_get_param(d, "beta", &v));
  CHECK(v == 1.0, "beta default %g", v);
  CHECK_OK(act_op_desc_set_param(d, "beta", 2.5));
  CHECK(act_op_desc_set_param(d, "beta", NAN) == ACT_BAD_PARAM, "NaN beta");
  CHECK(act_op_desc_set_param(d, "gamma", 1) == ACT_BAD_PARAM, "no gamma");
  CHECK(act_op_desc_set_axis(d, 0) == ACT_BAD_PARAM, "no axis");
  float x[3] = {-1, 0.5f, 2}, y[3], y2[3];
  int64_t dims[1] = {3};
  act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                    {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)}};
  CHECK_OK(act_op_check(d, 2, a));
  CHECK_OK(act_reference_forward(d, 2, a));
  CHECK(act_ulp_error(ACT_F32, y[2], 2.0 / (1.0 + exp(-5.0))) <= 1,
        "swish_beta(2; 2.5) = %.9g", y[2]);
  act_op_desc_destroy(d);
  /* no derivative: a source automatic differentiation refuses (a float
   * assignment inside an expression) registers, and its backward says
   * why it has none */
  act_op_t nod;
  CHECK_OK(reg("no_deriv", "float f(float x) {\n  float y = 0.0f;\n"
               "  float z = (y = x) * 2.0f;\n  return z + y;\n}\n",
               "nod.cl", "f", NULL, 0, NULL, NULL, &nod));
  CHECK_OK(act_op_desc_create(nod, &d));
  float g[3] = {1, 1, 1};
  act_arg_t b[3] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                    {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, dims, g)},
                    {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, dims, y)}};
  act_status_t st = act_reference_backward(d, 3, b);
  CHECK(st == ACT_UNSUPPORTED && strstr(act_last_error(), "no_deriv") &&
            strstr(act_last_error(), "no derivative") &&
            strstr(act_last_error(), "nod.cl:3:") &&
            strstr(act_last_error(), "++/-- inside an expression"),
        "backward without a derivative: %s %s", act_status_name(st),
        act_last_error());
  b[2].tensor.data = y2;
  a[1].tensor.data = y2;
  CHECK_OK(act_reference_forward(d, 2, a));
  CHECK(y2[1] == 1.5f, "no_deriv forward(0.5) = %g", y2[1]);
  a[1].tensor.data = y;
  b[2].tensor.data = y;
  act_op_desc_destroy(d);
  /* callbacks override the evaluator in the reference */
  act_custom_desc_t cd;
  memset(&cd, 0, sizeof cd);
  cd.name = "scale_cb";
  cd.source = "float scale_cb(float x, float k) { return x * k; }";
  cd.nparams = 1;
  cd.param_names[0] = "k";
  cd.param_defaults[0] = 3.0;
  cd.ref_forward = cb_fwd;
  cd.ref_derivative = cb_der;
  CHECK_OK(act_custom_register(&cd, &op));
  CHECK_OK(act_op_desc_create(op, &d));
  a[1].tensor.data = y2;
  calls = 0;
  CHECK_OK(act_reference_forward(d, 2, a));
  CHECK(calls == 3 && y2[2] == 6.0f, "callback: %d calls, %g", calls, y2[2]);
  b[2].tensor.data = y2;
  CHECK_OK(act_reference_backward(d, 3, b));
  CHECK(y2[0] == 3.0f, "callback derivative %g", y2[0]);
  act_op_desc_destroy(d);
  CHECK(act_custom_count() >= 6, "count %zu", act_custom_count());
  CHECK(act_op_desc_create((act_op_t)(ACT_OP_CUSTOM_BASE + 200), &d) ==
            ACT_UNKNOWN_OP,
        "an unregistered custom id");
}

/* Threads registering ops (distinct names, and one name all want) and
 * using them at once: ids are distinct, exactly one wins the shared name,
 * and every reference result is right. */
typedef struct {
  int id;
  act_op_t mine;
  act_status_t shared;
  int bad;
} thr_t;

static void *thr_main(void *arg) {
  thr_t *t = arg;
  char name[32];
  snprintf(name, sizeof name, "thr_op_%d", t->id);
  static const char *const pn[] = {"k"};
  static const double pd[] = {2.0};
  act_status_t st = reg(name, "float f(float x, float k) { return k * x; }",
                        "thr.cl", "f", NULL, 1, pn, pd, &t->mine);
  if (st)
    t->bad++;
  act_op_t sh;
  t->shared = reg("thr_shared", "float f(float x) { return x; }", "thr.cl",
                  "f", NULL, 0, NULL, NULL, &sh);
  act_op_desc_t *d;
  for (int it = 0; !st && it < 200; it++) {
    if (act_op_desc_create_by_name(name, &d)) {
      t->bad++;
      break;
    }
    float x[4] = {1, 2, 3, (float)t->id}, y[4];
    int64_t dims[1] = {4};
    act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                      {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)}};
    if (act_reference_forward(d, 2, a) || y[3] != 2.0f * (float)t->id)
      t->bad++;
    act_op_desc_destroy(d);
  }
  return NULL;
}

static void check_threads(void) {
  enum { NT = 6 };
  pthread_t th[NT];
  thr_t t[NT];
  for (int i = 0; i < NT; i++) {
    t[i] = (thr_t){i, 0, ACT_OK, 0};
    CHECK(pthread_create(&th[i], NULL, thr_main, &t[i]) == 0, "thread");
  }
  int winners = 0;
  for (int i = 0; i < NT; i++) {
    pthread_join(th[i], NULL);
    CHECK(t[i].bad == 0, "thread %d: %d bad results", i, t[i].bad);
    winners += t[i].shared == ACT_OK;
    CHECK(t[i].shared == ACT_OK || t[i].shared == ACT_INVALID_ARGUMENT,
          "thread %d: shared name -> %s", i, act_status_name(t[i].shared));
    for (int k = 0; k < i; k++)
      CHECK(t[i].mine != t[k].mine, "threads %d and %d got one id", i, k);
  }
  CHECK(winners == 1, "%d threads registered the same name", winners);
}

/* One pass over every op on dev (for the child process). */
static act_context_stats_t run_light(const char *dev) {
  act_context_stats_t s = {0};
  act_context_t *ctx;
  if (act_context_create(dev, &ctx))
    return s;
  size_t n;
  float *sx = act_test_sweep(100, 1u, &n);
  for (int k = 0; k < NOPS && sx; k++)
    for (int bwd = 0; bwd < (ops[k].deriv ? 2 : 1); bwd++)
      check_device(ctx, dev, k, ACT_F32, bwd, "", sx, n);
  free(sx);
  CHECK_OK(act_context_get_stats(ctx, &s));
  act_context_destroy(ctx);
  return s;
}

static int child(const char *dev) {
  register_all();
  act_context_stats_t s = run_light(dev);
  uint64_t glsl = act__glsl_count();
  printf("child %s: built %llu, loaded %llu, glslang compiles %llu\n", dev,
         (unsigned long long)s.programs_built,
         (unsigned long long)s.programs_loaded, (unsigned long long)glsl);
  if (strncmp(dev, "opencl", 6) == 0)
    CHECK(s.programs_built == 0, "%s: the second process built %llu "
          "programs", dev, (unsigned long long)s.programs_built);
  CHECK(glsl == 0, "%s: the second process compiled %llu programs with "
        "glslang", dev, (unsigned long long)glsl);
  return act_test_failures ? 3 : 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--child") == 0)
    return child(argv[2]);
  register_all();
  check_reference();
  check_derivatives();
  check_conventions();
  check_errors();
  check_api();
  check_threads();

  char dir[128];
  snprintf(dir, sizeof dir, "/tmp/actkit-test-custom-%ld", (long)getpid());
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0, "%s", cmd);
  setenv("ACTKIT_CACHE_DIR", dir, 1);

  int seen[ACT_BACKEND_COUNT] = {0};
  size_t nd = act_device_count();
  for (size_t i = 0; i < nd; i++) {
    act_device_info_t info;
    CHECK_OK(act_device_get_info(i, &info));
    act_context_t *ctx;
    act_status_t st = act_context_create(info.name, &ctx);
    CHECK(st == ACT_OK, "%s: %s", info.name, act_last_error());
    if (st)
      continue;
    seen[info.backend] = 1;
    printf("device %s: %s\n", info.name, info.description);
    if (info.backend == ACT_BACKEND_VULKAN && !act__glsl_available()) {
      /* a build without glslang: a clear refusal, not a crash */
      float x[2] = {1, 2}, y[2];
      int64_t dims[1] = {2};
      act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                        {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)}};
      act_op_desc_t *d;
      CHECK_OK(act_op_desc_create(ops[0].op, &d));
      st = act_forward_host(ctx, d, 2, a);
      CHECK(st == ACT_UNSUPPORTED &&
                strstr(act_last_error(), "not available in this build"),
            "%s without glslang: %s %s", info.name, act_status_name(st),
            act_last_error());
      printf("  built without glslang: %s\n", act_last_error());
      act_op_desc_destroy(d);
      act_context_destroy(ctx);
      continue;
    }
    check_all(ctx, info.name);
    act_context_stats_t s;
    CHECK_OK(act_context_get_stats(ctx, &s));
    act_context_destroy(ctx);
    if (info.backend == ACT_BACKEND_CPU)
      continue;
    printf("  first process: built %llu, loaded %llu\n",
           (unsigned long long)s.programs_built,
           (unsigned long long)s.programs_loaded);
    /* a new process finds everything in the cache */
    char childcmd[1024];
    snprintf(childcmd, sizeof childcmd, "'%s' --child %s", argv[0],
             info.name);
    fflush(stdout);
    int crc = system(childcmd);
    CHECK(crc == 0, "%s: the second process built programs again, or "
          "failed (status %d)", info.name, crc);
  }
  act_test_require_backends(seen);
  /* Driver diagnostics (the Vulkan validation layers, with
   * ACTKIT_VK_VALIDATION=1) are failures: each was printed above. */
  CHECK(act__diag_count() == 0, "%llu driver validation message(s)",
        (unsigned long long)act__diag_count());
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
  return act_test_finish("test_custom");
}
