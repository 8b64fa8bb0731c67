/*
 * math_cl_accuracy.c - proves the accuracy of kernels/opencl/act_math.cl on
 * a real OpenCL device (PoCL in CI), independently of the rest of actkit.
 *
 * It builds act_math.cl plus one tiny test kernel per function on the
 * first OpenCL device with -cl-std=CL1.2 (no fast-math, no mad-enable),
 * runs every function over one large input set - all the special values,
 * a sweep of 4M float bit patterns spread over the whole positive and
 * negative range (every 1024th pattern, with a varying low part so the
 * mantissas are not all short), and random points in the regions where
 * the functions change character - and compares each result with the
 * correctly rounded one, computed on the host in long double (x87 80-bit
 * on x86-64; glibc's long double functions are good to ~1 ulp of 64 bits,
 * so rounding them to float is correct but in vanishingly rare ties).
 *
 * Error is |y - r| / ulp(r), r the correctly rounded result and ulp(r) the
 * float spacing at |r| (the spacing at FLT_MIN for |r| < FLT_MIN), so it
 * is the contract's measure (SPEC 4).  The error against the exact value
 * is printed too, to show the margin.  NaN must give NaN, an infinite
 * reference must be matched exactly, and a NaN or inf where the reference
 * is finite is an infinite error.  The signs of zeros are not checked.
 *
 * Build and run (from the repository root):
 *   gcc -O2 -std=c11 tests/math_cl_accuracy.c -lOpenCL -lm -o math_cl_accuracy
 *   ./math_cl_accuracy [kernels/opencl/act_math.cl] [--contract-off]
 *                      [--quick] [--verbose]
 * --contract-off builds with "#pragma OPENCL FP_CONTRACT OFF" first (the
 * default for OpenCL C is ON): the library must meet its bounds either
 * way.  --quick uses a 16x sparser sweep.  Exit status: 0 all bounds met,
 * 1 a bound broken, 2 a setup error, 77 no OpenCL device (SKIP).
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
static ld ref_log_sigmoid(ld x) { return -ref_softplus(-x); }
static ld ref_gelu_erf(ld x) {
  if (isinf(x)) return x > 0 ? x : 0.0L;
  return 0.5L * x * erfcl(-x / sqrtl(2.0L));
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
  X(gelu_tanh, 2.0)

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

/* Runs kernel `name` over n elements with nin input arrays; y gets the
 * output.  n must be a multiple of 64. */
static void run_kernel(cl_env_t *env, const char *name, int nin,
                       const float *const *in, float *y, size_t n) {
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
}

/* ---- result bookkeeping ---- */

typedef struct {
  const char *name;
  double bound;
  double max_cr, max_true;
  float worst_in[3];
  int nworst_in;
  float worst_y;
  ld worst_ref;
  size_t n, over_half;
} stat_t;

static void stat_add(stat_t *s, const float *in, int nin, float y, ld ref) {
  double cr;
  double tr = ulp_error(y, ref, &cr);
  s->n++;
  if (cr > 0.5) s->over_half++;
  if (tr > s->max_true) s->max_true = tr;
  if (s->nworst_in == 0 || cr > s->max_cr) {
    s->max_cr = cr;
    for (int i = 0; i < nin; i++) s->worst_in[i] = in[i];
    s->nworst_in = nin;
    s->worst_y = y;
    s->worst_ref = ref;
  }
}

static int stat_print(const stat_t *s) {
  int ok = s->max_cr <= s->bound;
  char inbuf[96] = "";
  size_t off = 0;
  for (int i = 0; i < s->nworst_in; i++)
    off += (size_t)snprintf(inbuf + off, sizeof inbuf - off, "%s%.9g",
                            i ? "," : "", (double)s->worst_in[i]);
  printf("%-12s %5.1f %9.3f %9.3f  %8.5f%%  %-34s %-16.9g %-16.9g %s\n",
         s->name, s->bound, s->max_cr, s->max_true,
         100.0 * (double)s->over_half / (double)(s->n ? s->n : 1), inbuf,
         (double)s->worst_y, (double)(float)s->worst_ref,
         ok ? "ok" : "FAIL");
  return ok;
}

int main(int argc, char **argv) {
  const char *path = ACT_MATH_CL_PATH;
  int contract_off = 0, quick = 0, verbose = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--contract-off")) contract_off = 1;
    else if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--verbose")) verbose = 1;
    else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [act_math.cl] [--contract-off] [--quick]"
                      " [--verbose]\n", argv[0]);
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
  size_t total = strlen(pre) + srclen + strlen(test_kernels) + 1;
  char *full = malloc(total);
  snprintf(full, total, "%s%s%s", pre, src, test_kernels);
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
  const char *srcs[1] = {full};
  env.prog = clCreateProgramWithSource(env.ctx, 1, srcs, NULL, &err);
  CLCHECK(err);
  const char *opts = "-cl-std=CL1.2";
  err = clBuildProgram(env.prog, 1, &env.dev, opts, NULL, NULL);
  {
    size_t loglen = 0;
    clGetProgramBuildInfo(env.prog, env.dev, CL_PROGRAM_BUILD_LOG, 0, NULL,
                          &loglen);
    char *log = malloc(loglen + 1);
    clGetProgramBuildInfo(env.prog, env.dev, CL_PROGRAM_BUILD_LOG, loglen,
                          log, NULL);
    log[loglen] = 0;
    if (err != CL_SUCCESS || (verbose && loglen > 1))
      fprintf(stderr, "build log:\n%s\n", log);
    free(log);
  }
  if (err != CL_SUCCESS) {
    fprintf(stderr, "clBuildProgram failed: %d\n", (int)err);
    return 2;
  }
  double t_build = now_s();

  /* Inputs shared by the unary functions. */
  int shift = quick ? 14 : 10;
  size_t nrand = quick ? 200000 : 1000000;
  size_t cap = (size_t)NSPECIAL + (1ull << (32 - shift)) + nrand + 64;
  float *x = malloc(cap * sizeof(float));
  float *y = malloc(cap * sizeof(float));
  size_t n = make_inputs(x, shift, nrand);
  size_t npad = (n + 63) / 64 * 64;
  for (size_t i = n; i < npad; i++) x[i] = 0.0f;

  printf("device: %s (%s)%s\n", devname, devver,
         contract_off ? ", FP_CONTRACT OFF" : "");
  printf("%zu inputs per unary function (%d specials, every %uth bit "
         "pattern, %zu random)\n\n", n, NSPECIAL, 1u << shift, nrand);
  printf("%-12s %5s %9s %9s  %9s  %-34s %-16s %-16s\n", "function", "bound",
         "max_ulp", "vs_exact", ">0.5ulp", "worst input", "got", "want");

  int all_ok = 1;
  double t_dev = 0, t_host = 0;
  for (int f = 0; f < NUNARY; f++) {
    char kname[64];
    snprintf(kname, sizeof kname, "t_%s", unary[f].name);
    double ta = now_s();
    const float *ins[1] = {x};
    run_kernel(&env, kname, 1, ins, y, npad);
    double tb = now_s();
    stat_t s = {unary[f].name, unary[f].bound, 0, 0, {0}, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
      stat_add(&s, &x[i], 1, y[i], unary[f].ref((ld)x[i]));
    t_dev += tb - ta;
    t_host += now_s() - tb;
    all_ok &= stat_print(&s);
  }

  /* am_exp_dd(hi, lo): hi over the whole useful range, lo up to ulp(hi). */
  {
    size_t m = quick ? 262144 : 1048576;
    float *h = malloc(m * sizeof(float)), *l = malloc(m * sizeof(float));
    float *out = malloc(m * sizeof(float));
    for (size_t i = 0; i < m; i++) {
      double u = rng_unit();
      float hv = (i % 4 == 0) ? (float)(-110.0 + 200.0 * u)
               : (i % 4 == 1) ? (float)(-104.5 + 17.5 * u)
               : (i % 4 == 2) ? (float)(ldexp(1.0, -30 + (int)(36 * u)) *
                                         ((rng_next() & 1) ? -1 : 1))
                              : (float)(-1.0 + 2.0 * u);
      h[i] = hv;
      l[i] = (float)((rng_unit() * 2.0 - 1.0) * ulp_at(hv));
    }
    h[0] = 88.7228f; l[0] = 0.0f;
    h[1] = -103.972f; l[1] = 1e-6f;
    h[2] = (float)INFINITY; l[2] = 0.0f;
    h[3] = -(float)INFINITY; l[3] = 0.0f;
    h[4] = NAN; l[4] = 0.0f;
    h[5] = 0.0f; l[5] = 1e-9f;
    double ta = now_s();
    const float *ins[2] = {h, l};
    run_kernel(&env, "t_exp_dd", 2, ins, out, m);
    double tb = now_s();
    stat_t s = {"exp_dd", 1.0, 0, 0, {0}, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < m; i++) {
      float in2[2] = {h[i], l[i]};
      stat_add(&s, in2, 2, out[i], expl((ld)h[i] + (ld)l[i]));
    }
    t_dev += tb - ta;
    t_host += now_s() - tb;
    all_ok &= stat_print(&s);
    free(h);
    free(l);
    free(out);
  }

  /* am_mul_sigmoid(x, v): x of any size, v a double-float. */
  {
    size_t m = quick ? 262144 : 1048576;
    float *xs = malloc(m * sizeof(float)), *vh = malloc(m * sizeof(float));
    float *vl = malloc(m * sizeof(float)), *out = malloc(m * sizeof(float));
    for (size_t i = 0; i < m; i++) {
      double u = rng_unit();
      float xv = (float)(ldexp(1.0, -20 + (int)(40 * rng_unit())) *
                         (1.0 + rng_unit()) * ((rng_next() & 1) ? -1 : 1));
      if (i % 16 == 0) xv = from_bits((uint32_t)rng_next() & 0x7f7fffffu);
      float v = (i % 3 == 0) ? (float)(-130.0 + 160.0 * u)
              : (i % 3 == 1) ? (float)(-20.0 + 40.0 * u)
                             : (float)(ldexp(1.0, -30 + (int)(40 * u)) *
                                       ((rng_next() & 1) ? -1 : 1));
      xs[i] = xv;
      vh[i] = v;
      vl[i] = (float)((rng_unit() * 2.0 - 1.0) * ulp_at(v) * 0.5);
    }
    float sp[][3] = {{1.0f, 0.0f, 0.0f},     {-3e38f, -250.0f, 0.0f},
                     {3e38f, -130.0f, 0.0f}, {-1e30f, -1e30f, 0.0f},
                     {(float)INFINITY, 1.0f, 0.0f},
                     {-(float)INFINITY, -(float)INFINITY, 0.0f},
                     {2.0f, NAN, 0.0f},      {NAN, 1.0f, 0.0f},
                     {1.0f, -103.97f, 1e-6f}};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
      xs[i] = sp[i][0];
      vh[i] = sp[i][1];
      vl[i] = sp[i][2];
    }
    double ta = now_s();
    const float *ins[3] = {xs, vh, vl};
    run_kernel(&env, "t_mul_sigmoid", 3, ins, out, m);
    double tb = now_s();
    stat_t s = {"mul_sigmoid", 1.5, 0, 0, {0}, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < m; i++) {
      float in3[3] = {xs[i], vh[i], vl[i]};
      ld sg = ref_sigmoid((ld)vh[i] + (ld)vl[i]);
      ld ref = (isinf(xs[i]) && sg == 0) ? 0.0L : (ld)xs[i] * sg;
      stat_add(&s, in3, 3, out[i], ref);
    }
    t_dev += tb - ta;
    t_host += now_s() - tb;
    all_ok &= stat_print(&s);
    free(xs);
    free(vh);
    free(vl);
    free(out);
  }

  printf("\nmax_ulp: max |y - r| / ulp(r), r correctly rounded (the "
         "contract);\nvs_exact: the same against the exact value; "
         ">0.5ulp: share of results not correctly rounded.\n");
  printf("time: build %.1f s, device %.1f s, host reference %.1f s, total "
         "%.1f s\n", t_build - t0, t_dev, t_host, now_s() - t0);
  printf("%s\n", all_ok ? "PASS" : "FAIL");
  free(x);
  free(y);
  free(full);
  clReleaseProgram(env.prog);
  clReleaseCommandQueue(env.q);
  clReleaseContext(env.ctx);
  return all_ok ? 0 : 1;
}
