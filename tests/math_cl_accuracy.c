/*
 * math_cl_accuracy.c - proves the accuracy of kernels/opencl/act_math.cl on
 * a real OpenCL device (PoCL in CI), independently of the rest of actkit.
 *
 * It builds act_math.cl plus one tiny test kernel per function on the
 * first OpenCL device with -cl-std=CL1.2 (no fast-math, no mad-enable),
 * twice: as OpenCL builds it (fused fma), and as Vulkan runs it (the
 * fma-free path, -D AM_FMA_FUSED=0, with fma() itself made an unfused
 * multiply-add, as Vulkan allows).  Every function runs over one large
 * input set - all the special values, a sweep of 4M float bit patterns
 * over the whole positive and negative range (every 1024th pattern, with
 * a varying low part so the mantissas are not all short), and 1M random
 * points in the regions where the functions change character - and the
 * results are compared with the correctly rounded ones, computed on the
 * host in long double (x87 80-bit on x86-64; glibc's long double functions
 * are good to ~1 ulp of 64 bits, so rounding them to float is correct but
 * in vanishingly rare ties).  The functions of several arguments
 * (am_exp_dd, am_div, am_mul_sigmoid) get 1M random tuples each.
 *
 * Error is |y - r| / ulp(r), r the correctly rounded result and ulp(r) the
 * float spacing at |r| (the spacing at FLT_MIN for |r| < FLT_MIN), so it
 * is the contract's measure (docs/accuracy.md).  The error against the exact value
 * is printed too, to show the margin.  NaN must give NaN, an infinite
 * reference must be matched exactly, and a NaN or inf where the reference
 * is finite is an infinite error.  The signs of zeros are not checked.
 *
 * Build and run (from the repository root; about 20 s on two cores):
 *   gcc -O2 -std=c11 tests/math_cl_accuracy.c -lOpenCL -lm -o math_cl_accuracy
 *   ./math_cl_accuracy [kernels/opencl/act_math.cl] [--contract-off]
 *       [--quick] [--fused-only | --fma-free-only] [--verbose]
 * --contract-off builds with "#pragma OPENCL FP_CONTRACT OFF" first (the
 * default for OpenCL C is ON): the library must meet its bounds either
 * way.  --quick uses a 16x sparser sweep and 4x fewer random points.
 * Exit status: 0 all bounds met, 1 a bound broken, 2 a setup error, 77 no
 * OpenCL device (SKIP).
 */
#define _POSIX_C_SOURCE 200809L
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS

#include <CL/cl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ACT_MATH_CL_PATH
#define ACT_MATH_CL_PATH "kernels/opencl/act_math.cl"
#endif

typedef long double ld;

/* ---- references (long double, rounded once to float by the caller) --- */

static ld ref_sigmoid(ld v) { return 1.0L / (1.0L + expl(-v)); }
static ld ref_softplus(ld x) {
  return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x));
}
static ld ref_exp(ld x) { return expl(x); }
static ld ref_expm1(ld x) { return expm1l(x); }
static ld ref_log(ld x) { return logl(x); }
static ld ref_log1p(ld x) { return log1pl(x); }
static ld ref_erf(ld x) { return erfl(x); }
static ld ref_erfc(ld x) { return erfcl(x); }
static ld ref_tanh(ld x) { return tanhl(x); }
static ld ref_sqrt(ld x) { return sqrtl(x); }
static ld ref_log_sigmoid(ld x) { return -ref_softplus(-x); }
static ld ref_gelu_erf(ld x) {
  if (isinf(x)) return x > 0 ? x : 0.0L;
  return 0.5L * x * erfcl(-x / sqrtl(2.0L));
}
static ld ref_mish(ld x) {
  /* x tanh(log1p(e^x)) = x n/(n + 2), n = e^x (e^x + 2) */
  ld t = expl(x);
  if (x > 40)
    return x; /* 1 - n/(n + 2) < 2^-115 */
  if (x < -1e4L)
    return -0.0L;
  ld n = t * (t + 2);
  return x * n / (n + 2);
}
static ld ref_gelu_tanh(ld x) {
  /* x/2 (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3);
   * the sigmoid form has no cancellation in the negative tail. */
  if (isinf(x)) return x > 0 ? x : 0.0L;
  ld v = 2.0L * sqrtl(2.0L / 3.14159265358979323846264338327950288L) *
         (x + 0.044715L * x * x * x);
  return x * ref_sigmoid(v);
}

/* Functions of one float.  bound: max ulp error allowed (vs the correctly
 * rounded result); claim: what the library's comments promise (tighter),
 * reported but not enforced. */
typedef struct {
  const char *name;
  ld (*ref)(ld);
  double bound;
} unary_t;

#define UNARY_LIST(X)                                                         \
  X(exp, 1.0)                                                                 \
  X(expm1, 1.0)                                                               \
  X(log, 1.0)                                                                 \
  X(log1p, 1.0)                                                               \
  X(erf, 1.5)                                                                 \
  X(erfc, 1.5)                                                                \
  X(tanh, 1.0)                                                                \
  X(sigmoid, 1.5)                                                             \
  X(log_sigmoid, 1.5)                                                         \
  X(softplus, 1.5)                                                            \
  X(gelu_erf, 2.0)                                                            \
  X(gelu_tanh, 2.0)                                                           \
  X(mish, 2.0)                                                                \
  X(sqrt, 1.0)

#define X_ENTRY(n, b) {#n, ref_##n, b},
static const unary_t unary[] = {UNARY_LIST(X_ENTRY)};
#define NUNARY ((int)(sizeof unary / sizeof unary[0]))

#define X_KERNEL(n, b)                                                        \
  "__kernel void t_" #n "(__global const float *x, __global float *y) {\n"    \
  "  size_t i = get_global_id(0);\n"                                          \
  "  y[i] = am_" #n "(x[i]);\n"                                               \
  "}\n"

static const char *test_kernels =
    "\n" UNARY_LIST(X_KERNEL)
    "__kernel void t_exp_dd(__global const float *h, __global const float *l,"
    " __global float *y) {\n"
    "  size_t i = get_global_id(0);\n"
    "  y[i] = am_exp_dd(h[i], l[i]);\n"
    "}\n"
    "__kernel void t_exp_neg_lean(__global const float *h,"
    " __global const float *l, __global float *y) {\n"
    "  size_t i = get_global_id(0);\n"
    "  y[i] = am_exp_neg_lean(h[i], l[i]);\n"
    "}\n"
    "__kernel void t_exp_dd_fast(__global const float *h,"
    " __global const float *l, __global float *y) {\n"
    "  size_t i = get_global_id(0);\n"
    "  y[i] = am_exp_dd_fast(h[i], l[i]);\n"
    "}\n"
    "__kernel void t_div(__global const float *a, __global const float *b,"
    " __global float *y) {\n"
    "  size_t i = get_global_id(0);\n"
    "  y[i] = am_div(a[i], b[i]);\n"
    "}\n"
    "__kernel void t_mul_sigmoid(__global const float *x,"
    " __global const float *vh, __global const float *vl,"
    " __global float *y) {\n"
    "  size_t i = get_global_id(0);\n"
    "  y[i] = am_mul_sigmoid(x[i], am_f2(vh[i], vl[i]));\n"
    "}\n";

/* ---- small utilities ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) {
  /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static double rng_unit(void) { /* [0, 1) */
  return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}
static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* The float spacing at |r|; the spacing at FLT_MIN below FLT_MIN. */
static double ulp_at(float r) {
  float a = fabsf(r);
  if (!(a >= FLT_MIN)) return ldexp(1.0, -149);
  if (isinf(a)) a = FLT_MAX;
  int e;
  frexpf(a, &e); /* a = m 2^e, m in [0.5, 1) */
  return ldexp(1.0, e - 24);
}

/* Error of y against the exact value ref, in ulps of r = (float)ref.
 * *cr gets the error against r itself. */
static double ulp_error(float y, ld ref, double *cr) {
  if (isnan(ref)) {
    *cr = isnan(y) ? 0.0 : INFINITY;
    return *cr;
  }
  float r = (float)ref;
  if (isnan(y)) {
    *cr = INFINITY;
    return INFINITY;
  }
  if (isinf(r) || isinf(y)) {
    *cr = (y == r) ? 0.0 : INFINITY;
    return *cr;
  }
  double u = ulp_at(r);
  *cr = fabs((double)y - (double)r) / u;
  return (double)(fabsl((ld)y - ref) / (ld)u);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return NULL;
  }
  long n = ftell(f);
  rewind(f);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    fclose(f);
    return NULL;
  }
  buf[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- inputs ---- */

static const float specials[] = {
    0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 2.0f, -2.0f, 1e-30f, -1e-30f,
    1e-10f, -1e-10f, 1e-5f, -1e-5f, 0.1f, -0.1f, 0.25f, -0.25f,
    0.34657359f, -0.34657359f, 0.6931472f, -0.6931472f, 0.88137359f,
    -0.88137359f, 0.70710677f, 1.4142135f, 0.29289323f, -0.29289323f,
    0.41421357f, -0.41421357f, 0.999999f, 1.000001f, -0.999999f,
    3.0f, -3.0f, 3.92f, -3.92f, 4.5f, -4.5f, 5.0f, 8.0f, -8.0f, 9.0f, -9.0f,
    9.01f, -9.01f, 10.0f, -10.0f, 10.05f, 10.06f, 10.07f, 10.2f, -10.2f,
    11.3f, -11.3f, 12.0f, -12.0f, 14.0f, -14.0f, 14.4f, -14.4f, 16.0f,
    -16.0f, 17.0f, -17.0f, 17.33f, -17.33f, 20.0f, -20.0f, 30.0f, -30.0f,
    87.33f, -87.33f, 88.0f, -88.0f, 88.72f, 88.7228f, 88.72284f, 88.73f,
    -88.72f, 89.0f, -89.0f, 100.0f, -100.0f, -103.0f, -103.97f, -103.972f,
    -103.98f, -104.0f, -105.0f, 104.0f, 110.0f, -110.0f, 120.0f, -120.0f,
    200.0f, -200.0f, 250.0f, -250.0f, 1e6f, -1e6f, 1e19f, -1e19f, 1e30f,
    -1e30f, 1e38f, -1e38f, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
    1.4e-45f, -1.4e-45f, 1e-40f, -1e-40f, 5.9e-39f, -5.9e-39f,
    (float)INFINITY, -(float)INFINITY, NAN};
#define NSPECIAL ((int)(sizeof specials / sizeof specials[0]))

/* Fills x with: the specials; every (1 << shift)th bit pattern (low bits
 * varied); then nrand random points from several regions. */
static size_t make_inputs(float *x, int shift, size_t nrand) {
  size_t n = 0;
  for (int i = 0; i < NSPECIAL; i++) x[n++] = specials[i];
  uint32_t step = 1u << shift;
  for (uint64_t b = 0; b < (1ull << 32); b += step) {
    uint32_t lowmask = step - 1;
    uint32_t low = (uint32_t)(rng_next() & lowmask);
    x[n++] = from_bits((uint32_t)b | low);
  }
  for (size_t i = 0; i < nrand; i++) {
    double u = rng_unit();
    double s = (rng_next() & 1) ? -1.0 : 1.0;
    float v;
    switch (i % 8) {
    case 0: v = (float)(s * u); break;
    case 1: v = (float)(s * 5.0 * u); break;
    case 2: v = (float)(s * 20.0 * u); break;
    case 3: v = (float)(s * 120.0 * u); break;
    case 4: v = (float)(s * ldexp(1.0, -40 + (int)(48 * u)) *
                        (1.0 + rng_unit()));
      break;
    case 5: v = (float)(-104.5 + 17.5 * u); break; /* exp denormals */
    case 6: v = (float)(-16.0 + 6.0 * u); break;   /* gelu tails */
    default: v = (float)(1.0 + s * 0.5 * u); break; /* log near 1 */
    }
    x[n++] = v;
  }
  return n;
}

/* ---- OpenCL plumbing ---- */

typedef struct {
  cl_context ctx;
  cl_command_queue q;
  cl_program prog;
  cl_device_id dev;
} cl_env_t;

#define CLCHECK(call)                                                         \
  do {                                                                        \
    cl_int e_ = (call);                                                       \
    if (e_ != CL_SUCCESS) {                                                   \
      fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #call,    \
              (int)e_);                                                       \
      exit(2);                                                                \
    }                                                                         \
  } while (0)

static cl_mem make_buf(cl_env_t *env, size_t n, const float *init) {
  cl_int err;
  cl_mem m = clCreateBuffer(env->ctx,
                            CL_MEM_READ_WRITE |
                                (init ? CL_MEM_COPY_HOST_PTR : 0),
                            n * sizeof(float), (void *)init, &err);
  CLCHECK(err);
  return m;
}

static double last_run_s; /* device time of the last timed run_kernel */

/* Runs kernel `name` over n elements with nin input arrays; y gets the
 * output.  n must be a multiple of 64. */
static void run_kernel(cl_env_t *env, const char *name, int nin,
                       const float *const *in, float *y, size_t n) {
  static const float zeros[64];
  const float *warm_in[4] = {zeros, zeros, zeros, zeros};
  float warm_out[64];
  if (n > 64) /* a first small launch: the driver's JIT is not timed */
    run_kernel(env, name, nin, warm_in, warm_out, 64);
  double t = now_s();
  cl_int err;
  cl_kernel k = clCreateKernel(env->prog, name, &err);
  CLCHECK(err);
  cl_mem bufs[4];
  for (int i = 0; i < nin; i++) bufs[i] = make_buf(env, n, in[i]);
  bufs[nin] = make_buf(env, n, NULL);
  for (int i = 0; i <= nin; i++)
    CLCHECK(clSetKernelArg(k, (cl_uint)i, sizeof(cl_mem), &bufs[i]));
  size_t global = n;
  CLCHECK(clEnqueueNDRangeKernel(env->q, k, 1, NULL, &global, NULL, 0, NULL,
                                 NULL));
  CLCHECK(clEnqueueReadBuffer(env->q, bufs[nin], CL_TRUE, 0,
                              n * sizeof(float), y, 0, NULL, NULL));
  for (int i = 0; i <= nin; i++) clReleaseMemObject(bufs[i]);
  clReleaseKernel(k);
  if (n > 64) last_run_s = now_s() - t;
}

/* ---- result bookkeeping ---- */

typedef struct {
  double max_cr, max_true, worst_true;
  float worst_in[3];
  int nworst_in;
  float worst_y;
  ld worst_ref;
  size_t n, over_half;
  double dev_s;
} stat_t;

static void stat_add(stat_t *s, const float *in, int nin, float y, ld ref) {
  double cr;
  double tr = ulp_error(y, ref, &cr);
  s->n++;
  if (cr > 0.5) s->over_half++;
  if (tr > s->max_true) s->max_true = tr;
  /* The worst input: largest error against r, then against the exact. */
  if (s->nworst_in == 0 || cr > s->max_cr ||
      (cr == s->max_cr && tr > s->worst_true)) {
    s->max_cr = cr;
    s->worst_true = tr;
    for (int i = 0; i < nin; i++) s->worst_in[i] = in[i];
    s->nworst_in = nin;
    s->worst_y = y;
    s->worst_ref = ref;
  }
}

static int stat_print(const char *name, double bound, const stat_t *s) {
  int ok = s->max_cr <= bound;
  char inbuf[96] = "";
  size_t off = 0;
  for (int i = 0; i < s->nworst_in; i++)
    off += (size_t)snprintf(inbuf + off, sizeof inbuf - off, "%s%.9g",
                            i ? "," : "", (double)s->worst_in[i]);
  printf("%-12s %5.1f %8.3f %8.3f %9.5f%% %7.1f  %-34s %-15.9g %-15.9g %s\n",
         name, bound, s->max_cr, s->max_true,
         100.0 * (double)s->over_half / (double)(s->n ? s->n : 1),
         1e9 * s->dev_s / (double)(s->n ? s->n : 1), inbuf,
         (double)s->worst_y, (double)(float)s->worst_ref, ok ? "ok" : "FAIL");
  return ok;
}

/* ---- the test cases ---- */

/* Two builds of the same source: the default one, and the fma-free path
 * (-D AM_FMA_FUSED=0) that the Vulkan build uses, compiled here with fma()
 * itself replaced by an unfused multiply-add (contraction off), the worst
 * case Vulkan allows (lavapipe's Fma rounds twice) - so PoCL also checks
 * the code Vulkan devices run. */
#define NVARIANT 2
static const char *variant_opts[NVARIANT] = {
    "-cl-std=CL1.2", "-cl-std=CL1.2 -D AM_FMA_FUSED=0 -w"};
static const char *variant_prefix[NVARIANT] = {
    "", "#pragma OPENCL FP_CONTRACT OFF\n"
        "#define fma(a, b, c) ((a) * (b) + (c))\n"};
static const char *variant_name[NVARIANT] = {
    "default build (fused fma)",
    "-D AM_FMA_FUSED=0, fma(a,b,c) = a*b+c unfused (the Vulkan path)"};

enum { T_UNARY, T_EXP_DD, T_DIV, T_MUL_SIGMOID, T_EXP_NEG };

typedef struct {
  const char *name;
  double bound;
  int kind;
  int unary; /* index into unary[] for T_UNARY */
} test_t;

static ld test_ref(const test_t *t, const float *in) {
  switch (t->kind) {
  case T_UNARY: return unary[t->unary].ref((ld)in[0]);
  case T_EXP_DD:
  case T_EXP_NEG: return expl((ld)in[0] + (ld)in[1]);
  case T_DIV: return (ld)in[0] / (ld)in[1];
  default: {
    ld sg = ref_sigmoid((ld)in[1] + (ld)in[2]);
    return (isinf(in[0]) && sg == 0) ? 0.0L : (ld)in[0] * sg;
  }
  }
}

/* Fills the nin input arrays of a non-unary test; returns the count. */
static size_t make_multi_inputs(int kind, float **in, size_t m) {
  if (kind == T_EXP_NEG) {
    /* am_exp_neg_lean takes h <= 0 (NaN is the caller's): the T_EXP_DD
     * set reflected, NaN replaced by -0 */
    size_t n = make_multi_inputs(T_EXP_DD, in, m);
    for (size_t i = 0; i < m; i++) {
      if (isnan(in[0][i]))
        in[0][i] = -0.0f;
      if (in[0][i] > 0 || (in[0][i] == 0 && in[1][i] > 0)) {
        in[0][i] = -in[0][i];
        in[1][i] = -in[1][i];
      }
    }
    return n;
  }
  for (size_t i = 0; i < m; i++) {
    double u = rng_unit();
    if (kind == T_EXP_DD) {
      /* hi over the whole useful range, lo up to ulp(hi). */
      float hv = (i % 4 == 0) ? (float)(-110.0 + 200.0 * u)
               : (i % 4 == 1) ? (float)(-104.5 + 17.5 * u)
               : (i % 4 == 2) ? (float)(ldexp(1.0, -30 + (int)(36 * u)) *
                                         ((rng_next() & 1) ? -1 : 1))
                              : (float)(-1.0 + 2.0 * u);
      in[0][i] = hv;
      in[1][i] = (float)((rng_unit() * 2.0 - 1.0) * ulp_at(hv));
    } else if (kind == T_DIV) {
      /* Random bit patterns, and pairs whose quotient is near 1, denormal
       * or near overflow. */
      float a = from_bits((uint32_t)rng_next());
      in[0][i] = a;
      in[1][i] = (i % 2) ? from_bits((uint32_t)rng_next())
                         : (float)((double)a * (0.5 + rng_unit()) *
                                   ldexp(1.0, (int)(rng_next() % 300) - 150));
    } else {
      /* x of any size, v a double-float. */
      float xv = (float)(ldexp(1.0, -20 + (int)(40 * rng_unit())) *
                         (1.0 + rng_unit()) * ((rng_next() & 1) ? -1 : 1));
      if (i % 16 == 0) xv = from_bits((uint32_t)rng_next() & 0x7f7fffffu);
      if (i % 16 == 1) xv = from_bits((uint32_t)rng_next() & 0x807fffffu);
      float v = (i % 3 == 0) ? (float)(-130.0 + 160.0 * u)
              : (i % 3 == 1) ? (float)(-20.0 + 40.0 * u)
                             : (float)(ldexp(1.0, -30 + (int)(40 * u)) *
                                       ((rng_next() & 1) ? -1 : 1));
      in[0][i] = xv;
      in[1][i] = v;
      in[2][i] = (float)((rng_unit() * 2.0 - 1.0) * ulp_at(v) * 0.5);
    }
  }
  if (kind == T_EXP_DD) {
    static const float sp[][2] = {{88.7228f, 0.0f},   {-103.972f, 1e-6f},
                                  {INFINITY, 0.0f},   {-INFINITY, 0.0f},
                                  {NAN, 0.0f},        {0.0f, 1e-9f},
                                  {88.72284f, 1e-6f}, {-103.97f, 0.0f}};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
      in[0][i] = sp[i][0];
      in[1][i] = sp[i][1];
    }
  } else if (kind == T_DIV) {
    for (int i = 0; i < NSPECIAL; i++) {
      in[0][i] = specials[i];
      in[1][i] = specials[(i * 7 + 3) % NSPECIAL];
    }
  } else {
    static const float sp[][3] = {
        {1.0f, 0.0f, 0.0f},        {-3e38f, -250.0f, 0.0f},
        {3e38f, -130.0f, 0.0f},    {-1e30f, -1e30f, 0.0f},
        {INFINITY, 1.0f, 0.0f},    {-INFINITY, -INFINITY, 0.0f},
        {2.0f, NAN, 0.0f},         {NAN, 1.0f, 0.0f},
        {1.0f, -103.97f, 1e-6f},   {1e-45f, 0.0f, 0.0f},
        {FLT_MAX, 100.0f, 0.0f},   {-FLT_MAX, -100.0f, 0.0f}};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
      in[0][i] = sp[i][0];
      in[1][i] = sp[i][1];
      in[2][i] = sp[i][2];
    }
  }
  return m;
}

static cl_program build_program(cl_env_t *env, const char *src,
                                const char *opts, int verbose) {
  cl_int err;
  const char *srcs[1] = {src};
  cl_program prog = clCreateProgramWithSource(env->ctx, 1, srcs, NULL, &err);
  CLCHECK(err);
  err = clBuildProgram(prog, 1, &env->dev, opts, NULL, NULL);
  size_t loglen = 0;
  clGetProgramBuildInfo(prog, env->dev, CL_PROGRAM_BUILD_LOG, 0, NULL,
                        &loglen);
  char *log = malloc(loglen + 1);
  clGetProgramBuildInfo(prog, env->dev, CL_PROGRAM_BUILD_LOG, loglen, log,
                        NULL);
  log[loglen] = 0;
  if (err != CL_SUCCESS || (verbose && loglen > 1))
    fprintf(stderr, "build log (%s):\n%s\n", opts, log);
  free(log);
  if (err != CL_SUCCESS) {
    fprintf(stderr, "clBuildProgram(%s) failed: %d\n", opts, (int)err);
    exit(2);
  }
  return prog;
}

int main(int argc, char **argv) {
  const char *path = ACT_MATH_CL_PATH;
  int contract_off = 0, quick = 0, verbose = 0, only = -1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--contract-off")) contract_off = 1;
    else if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--verbose")) verbose = 1;
    else if (!strcmp(argv[i], "--fused-only")) only = 0;
    else if (!strcmp(argv[i], "--fma-free-only")) only = 1;
    else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [act_math.cl] [--contract-off] [--quick]"
                      " [--fused-only | --fma-free-only] [--verbose]\n",
              argv[0]);
      return 2;
    } else path = argv[i];
  }
  double t0 = now_s();

  size_t srclen;
  char *src = read_file(path, &srclen);
  if (!src) {
    fprintf(stderr, "cannot read %s\n", path);
    return 2;
  }
  const char *pre = contract_off ? "#pragma OPENCL FP_CONTRACT OFF\n" : "";
  char *full[NVARIANT];
  for (int v = 0; v < NVARIANT; v++) {
    size_t total = strlen(pre) + strlen(variant_prefix[v]) + srclen +
                   strlen(test_kernels) + 1;
    full[v] = malloc(total);
    snprintf(full[v], total, "%s%s%s%s", pre, variant_prefix[v], src,
             test_kernels);
  }
  free(src);

  /* First device of the first platform that has one. */
  cl_uint nplat = 0;
  if (clGetPlatformIDs(0, NULL, &nplat) != CL_SUCCESS || nplat == 0) {
    printf("SKIP: no OpenCL platform\n");
    return 77;
  }
  cl_platform_id plats[16];
  if (nplat > 16) nplat = 16;
  CLCHECK(clGetPlatformIDs(nplat, plats, NULL));
  cl_env_t env = {0};
  for (cl_uint p = 0; p < nplat && !env.dev; p++) {
    cl_uint nd = 0;
    if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 1, &env.dev, &nd) !=
        CL_SUCCESS)
      env.dev = NULL;
  }
  if (!env.dev) {
    printf("SKIP: no OpenCL device\n");
    return 77;
  }
  char devname[256] = "", devver[256] = "";
  clGetDeviceInfo(env.dev, CL_DEVICE_NAME, sizeof devname, devname, NULL);
  clGetDeviceInfo(env.dev, CL_DRIVER_VERSION, sizeof devver, devver, NULL);
  cl_int err;
  env.ctx = clCreateContext(NULL, 1, &env.dev, NULL, NULL, &err);
  CLCHECK(err);
  env.q = clCreateCommandQueue(env.ctx, env.dev, 0, &err);
  CLCHECK(err);
  cl_program progs[NVARIANT] = {0};
  for (int v = 0; v < NVARIANT; v++)
    if (only < 0 || only == v)
      progs[v] = build_program(&env, full[v], variant_opts[v], verbose);
  double t_build = now_s();

  /* The test list: every unary function, then the multi-input ones. */
  test_t tests[NUNARY + 5];
  int ntests = 0;
  for (int f = 0; f < NUNARY; f++)
    tests[ntests++] = (test_t){unary[f].name, unary[f].bound, T_UNARY, f};
  tests[ntests++] = (test_t){"exp_dd", 1.0, T_EXP_DD, 0};
  tests[ntests++] = (test_t){"exp_dd_fast", 1.0, T_EXP_DD, 0};
  tests[ntests++] = (test_t){"exp_neg_lean", 1.5, T_EXP_NEG, 0};
  tests[ntests++] = (test_t){"div", 1.0, T_DIV, 0};
  tests[ntests++] = (test_t){"mul_sigmoid", 1.5, T_MUL_SIGMOID, 0};
  static stat_t stats[NVARIANT][NUNARY + 5];

  /* Inputs shared by the unary functions. */
  int shift = quick ? 14 : 10;
  size_t nrand = quick ? 200000 : 1000000;
  size_t cap = (size_t)NSPECIAL + (1ull << (32 - shift)) + nrand + 64;
  size_t mmulti = quick ? 262144 : 1048576;
  if (cap < mmulti) cap = mmulti;
  float *ux = malloc(cap * sizeof(float));
  size_t nunary = make_inputs(ux, shift, nrand);
  size_t npad = (nunary + 63) / 64 * 64;
  for (size_t i = nunary; i < npad; i++) ux[i] = 0.0f;
  float *min[3];
  for (int j = 0; j < 3; j++) min[j] = malloc(mmulti * sizeof(float));
  float *out[NVARIANT];
  for (int v = 0; v < NVARIANT; v++) out[v] = malloc(cap * sizeof(float));

  double t_dev = 0, t_host = 0;
  for (int t = 0; t < ntests; t++) {
    const test_t *tc = &tests[t];
    int nin = tc->kind == T_UNARY ? 1 : tc->kind == T_MUL_SIGMOID ? 3 : 2;
    size_t n = nunary, nrun = npad;
    float *in[3] = {ux, NULL, NULL};
    if (tc->kind != T_UNARY) {
      n = nrun = make_multi_inputs(tc->kind, min, mmulti);
      for (int j = 0; j < 3; j++) in[j] = min[j];
    }
    char kname[64];
    snprintf(kname, sizeof kname, "t_%s", tc->name);
    double ta = now_s();
    for (int v = 0; v < NVARIANT; v++) {
      if (!progs[v]) continue;
      env.prog = progs[v];
      const float *ins[3] = {in[0], in[1], in[2]};
      run_kernel(&env, kname, nin, ins, out[v], nrun);
      stats[v][t].dev_s = last_run_s;
    }
    double tb = now_s();
    for (size_t i = 0; i < n; i++) {
      float iv[3] = {in[0][i], nin > 1 ? in[1][i] : 0, nin > 2 ? in[2][i] : 0};
      ld ref = test_ref(tc, iv);
      for (int v = 0; v < NVARIANT; v++)
        if (progs[v]) stat_add(&stats[v][t], iv, nin, out[v][i], ref);
    }
    t_dev += tb - ta;
    t_host += now_s() - tb;
  }

  printf("device: %s (%s)%s\n", devname, devver,
         contract_off ? ", FP_CONTRACT OFF" : "");
  printf("%zu inputs per unary function (%d specials, every %uth bit "
         "pattern, %zu random); %zu per multi-input function\n", nunary,
         NSPECIAL, 1u << shift, nrand, mmulti);
  int all_ok = 1;
  for (int v = 0; v < NVARIANT; v++) {
    if (!progs[v]) continue;
    printf("\n%s:\n", variant_name[v]);
    printf("%-12s %5s %8s %8s %10s %7s  %-34s %-15s %-15s\n", "function",
           "bound", "max_ulp", "vs_exact", ">0.5ulp", "ns/elt",
           "worst input", "got", "want");
    for (int t = 0; t < ntests; t++)
      all_ok &= stat_print(tests[t].name, tests[t].bound, &stats[v][t]);
  }
  printf("\nmax_ulp: max |y - r| / ulp(r), r correctly rounded (the "
         "contract);\nvs_exact: the same against the exact value; "
         ">0.5ulp: share of results not correctly rounded;\nns/elt: device "
         "time per element (after a warm-up launch), buffer transfers "
         "included; rough.\n");
  printf("time: build %.1f s, device %.1f s, host reference %.1f s, total "
         "%.1f s\n", t_build - t0, t_dev, t_host, now_s() - t0);
  printf("%s\n", all_ok ? "PASS" : "FAIL");
  free(ux);
  for (int j = 0; j < 3; j++) free(min[j]);
  for (int v = 0; v < NVARIANT; v++) {
    free(out[v]);
    free(full[v]);
    if (progs[v]) clReleaseProgram(progs[v]);
  }
  clReleaseCommandQueue(env.q);
  clReleaseContext(env.ctx);
  return all_ok ? 0 : 1;
}
