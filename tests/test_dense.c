/*
 * test_dense.c - the fused dense layer, y = act(x W + b) (act_dense), on
 * the reference and on every device, against the bound stated in actkit.h.
 *
 * The bound. With S_ij = sum_k |x_ik w_kj| + |b_j|, gamma(n) = n u /
 * (1 - n u), u = 2^-24 (f32 accumulation in any order, fma fused or not),
 * E_ij = gamma(K + 1) S_ij bounds the error of the device's unrounded
 * pre-activation. Then, zr and yr being the reference's (double, rounded
 * once) z and y, and L an upper bound of |act'| (the table below):
 *   |z - zr| <= E + ulp_t(|zr| + E)
 *   |y - yr| <= L E + 3 ulp_f32(|yr| + L E) + [16-bit t] ulp_t(|yr| + L E)
 * (the activation's own 2 ulp of f32 plus the roundings of y and yr). An
 * activation without a fused GEMM variant is applied to z already rounded
 * to t: for 16-bit t that adds L ulp_t(|zr| + E) / 2.
 *
 * Shapes (M x N x K): 1x1x1, 7x13x5, 1000x1x1000, 1x1000x1000,
 * 33x65x17 and 65x130x129 (not multiples of the 64 x 64 x 16 tile),
 * 64x64x64; W as [K, N] and transposed; bias on and off; z on and off;
 * tensors at offsets in their buffers; f32, f16, bf16; activations none,
 * relu (with parameters), gelu (exact and tanh), silu, elu, softplus (no
 * fused variant: the two-pass path). Outputs are filled with NaN before
 * each call, so an element left unwritten fails. On OpenCL both GEMMs run:
 * CLBlast (f32) and our kernel. The reference is checked on its own
 * against long double sums. Custom activations (issue 8) are not tested
 * here yet. Then bad inputs, each with its status.
 *
 * A backend listed in $ACTKIT_REQUIRE_BACKENDS with no device fails.
 */
#include "testutil.h"

#include "core/internal.h" /* act__variants (which activations are fused),
                              act__diag_count */

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  int m, n, k;
} shapes[] = {{1, 1, 1},      {7, 13, 5},    {1000, 1, 1000},
              {1, 1000, 1000}, {33, 65, 17},  {65, 130, 129},
              {64, 64, 64}};

/* Activations with an upper bound L of |act'| over the reals. */
static const struct {
  const char *op, *params;
  double lip;
} acts[] = {
    {NULL, NULL, 1.0}, /* none */
    {"relu", "", 1.0},
    {"relu", "negative_slope=0.1,max_value=0.5,threshold=0.05", 1.0},
    {"gelu", "", 1.13},              /* max gelu' = 1.1289 */
    {"gelu", "approximate=1", 1.13}, /* max 1.1290 */
    {"silu", "beta=1.5", 1.1},       /* max 1.0998 for any beta > 0 */
    {"elu", "alpha=0.7", 1.0},
    {"softplus", "beta=2", 1.0},
    /* a custom op (registered in main): x sigmoid(beta x), as silu */
    {"dense_swish", "beta=1.5", 1.1},
};

/* The custom activation above: its device result may differ from the
 * reference's double evaluation by the custom-op bound
 * (act_custom_within_bound: 16 ulp, or 2^-22 near zero) rather than by a
 * built-in op's docs/accuracy.md bound. */
static const char custom_src[] =
    "// actkit: op dense_swish(beta = 1.0)\n"
    "float dense_swish(float x, float beta) {\n"
    "  return x * sigmoid(beta * x);\n"
    "}\n";

static const act_dtype_t dtypes[] = {ACT_F32, ACT_F16, ACT_BF16};

static uint32_t rng = 2463534242u;
static double rnd(void) { /* uniform in [-1, 1) */
  rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
  return (double)rng / 2147483648.0 - 1.0;
}

static bool fused(act_op_t op) {
  act__variant_t v[256];
  size_t n = act__variants("gemm.cl", v, 256);
  for (size_t i = 0; i < n && i < 256; i++)
    if (v[i].op == (int)op)
      return true;
  return false;
}

/* One problem: inputs (as doubles of the dtype's values and as storage),
 * the exact sums, the reference's outputs. */
typedef struct {
  int m, n, k, tw, has_bias, has_z;
  act_dtype_t dt;
  size_t es;
  double *xd, *wd, *bd;      /* values */
  void *xs, *ws, *bs;        /* storage */
  long double *zx, *s;       /* exact z and S */
  double *yr, *zr;           /* the reference */
  act_dense_desc_t desc;
  act_op_desc_t *act;
  double lip;
} prob_t;

static void *to_storage(act_dtype_t dt, const double *v, size_t n) {
  float *f = malloc(n * sizeof *f);
  void *s = malloc(n * act_dtype_size(dt));
  for (size_t i = 0; i < n; i++)
    f[i] = (float)v[i];
  act_convert(ACT_F32, f, dt, s, n);
  free(f);
  return s;
}

static double *from_storage(act_dtype_t dt, const void *s, size_t n) {
  float *f = malloc(n * sizeof *f);
  double *d = malloc(n * sizeof *d);
  act_convert(dt, s, ACT_F32, f, n);
  for (size_t i = 0; i < n; i++)
    d[i] = f[i];
  free(f);
  return d;
}

static act_tensor_t t2(act_dtype_t dt, int64_t a, int64_t b, void *data) {
  int64_t dims[2] = {a, b};
  return act_tensor_make(dt, 2, dims, data);
}

static void prob_free(prob_t *p) {
  free(p->xd), free(p->wd), free(p->bd), free(p->xs), free(p->ws);
  free(p->bs), free(p->zx), free(p->s), free(p->yr), free(p->zr);
}

static bool prob_make(prob_t *p, int m, int n, int k, act_dtype_t dt,
                      int tw, int has_bias, int has_z, act_op_desc_t *act,
                      double lip) {
  memset(p, 0, sizeof *p);
  p->m = m, p->n = n, p->k = k, p->dt = dt, p->tw = tw;
  p->has_bias = has_bias, p->has_z = has_z;
  p->es = act_dtype_size(dt);
  p->act = act, p->lip = lip;
  p->desc.activation = act;
  p->desc.transpose_w = tw;
  size_t nx = (size_t)m * k, nw = (size_t)k * n, ny = (size_t)m * n;
  p->xd = malloc(nx * sizeof *p->xd);
  p->wd = malloc(nw * sizeof *p->wd);
  p->bd = malloc((size_t)n * sizeof *p->bd);
  for (size_t i = 0; i < nx; i++)
    p->xd[i] = (double)act_test_round(dt, rnd());
  for (size_t i = 0; i < nw; i++)
    p->wd[i] = (double)act_test_round(dt, rnd());
  for (int j = 0; j < n; j++)
    p->bd[j] = has_bias ? (double)act_test_round(dt, rnd()) : 0.0;
  p->xs = to_storage(dt, p->xd, nx);
  p->ws = to_storage(dt, p->wd, nw);
  p->bs = to_storage(dt, p->bd, (size_t)n);
  p->zx = malloc(ny * sizeof *p->zx);
  p->s = malloc(ny * sizeof *p->s);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      long double z = p->bd[j], s = fabsl((long double)p->bd[j]);
      for (int kk = 0; kk < k; kk++) {
        long double w = p->wd[tw ? (size_t)j * k + kk : (size_t)kk * n + j];
        long double v = (long double)p->xd[(size_t)i * k + kk] * w;
        z += v;
        s += fabsl(v);
      }
      p->zx[(size_t)i * n + j] = z;
      p->s[(size_t)i * n + j] = s;
    }
  /* The reference, checked against the exact sums: z within half an ulp
   * of the type (it rounds a double sum once). */
  void *ys = malloc(ny * p->es), *zs = malloc(ny * p->es);
  act_tensor_t x = t2(dt, m, k, p->xs);
  act_tensor_t w = tw ? t2(dt, n, k, p->ws) : t2(dt, k, n, p->ws);
  act_tensor_t b = t2(dt, 1, n, p->bs), y = t2(dt, m, n, ys),
               z = t2(dt, m, n, zs);
  act_status_t st = act_reference_dense(&p->desc, &x, &w,
                                        has_bias ? &b : NULL, &y, &z);
  CHECK(st == ACT_OK, "reference: %s", act_last_error());
  p->yr = from_storage(dt, ys, ny);
  p->zr = from_storage(dt, zs, ny);
  free(ys), free(zs);
  if (st)
    return false;
  double worst = 0;
  for (size_t i = 0; i < ny; i++) {
    long double e = fabsl((long double)p->zr[i] - p->zx[i]) /
                    act_test_ulp(dt, p->zx[i]);
    if (e > worst)
      worst = (double)e;
  }
  CHECK(worst <= 0.5 + 1e-6, "reference z: %.3g ulp from the exact sum "
        "(%dx%dx%d %s)", worst, m, n, k, act_dtype_name(dt));
  return true;
}

static double max_err_y, max_err_z; /* in units of the bound, all runs */
/* f32 z against the exact sum, in units of E = gamma(K + 1) S: how much
 * of the accumulation bound the devices use. */
static double max_acc;

/* Compares a device's y and z (storage) with the bound; returns the
 * number of bad elements. */
static int compare(const prob_t *p, const void *ys, const void *zs,
                   const char *who) {
  size_t ny = (size_t)p->m * p->n;
  double *y = from_storage(p->dt, ys, ny);
  double *z = zs ? from_storage(p->dt, zs, ny) : NULL;
  const long double u = ldexpl(1.0L, -24);
  long double kk = (long double)p->k + 1;
  long double gamma = kk * u / (1 - kk * u);
  act_op_t op = p->act ? act_op_desc_op(p->act) : ACT_OP_LINEAR;
  const char *fe = getenv("ACTKIT_DENSE_FUSE");
  bool two_pass = (!fused(op) || (fe && strcmp(fe, "never") == 0)) &&
                  p->dt != ACT_F32;
  int bad = 0;
  for (size_t i = 0; i < ny; i++) {
    long double e = gamma * p->s[i];
    long double le = p->lip * e;
    long double tol = le + 3 * act_test_ulp(ACT_F32, fabsl(p->yr[i]) + le);
    if (p->dt != ACT_F32)
      tol += act_test_ulp(p->dt, fabsl(p->yr[i]) + le);
    if (two_pass)
      tol += p->lip * act_test_ulp(p->dt, fabsl(p->zr[i]) + e) / 2;
    if (op >= ACT_OP_CUSTOM_BASE) /* the custom-op bound, not docs/accuracy.md's */
      tol += 13 * act_test_ulp(ACT_F32, fabsl(p->yr[i]) + le) +
             ldexpl(1.0L, -22);
    long double err = fabsl((long double)y[i] - p->yr[i]);
    if (!(err <= tol)) {
      if (bad++ < 3)
        CHECK(false, "%s: y[%zu] = %.9g, reference %.9g, |diff| %.3Lg > "
              "bound %.3Lg", who, i, y[i], p->yr[i], err, tol);
    } else if ((double)(err / tol) > max_err_y) {
      max_err_y = (double)(err / tol);
    }
    if (!z)
      continue;
    if (p->dt == ACT_F32 && e > 0) {
      long double a = fabsl((long double)z[i] - p->zx[i]) / e;
      CHECK(a <= 1, "%s: z[%zu] = %.9g, exact %.9Lg: accumulation error "
            "%.3Lg E", who, i, z[i], p->zx[i], a);
      if ((double)a > max_acc)
        max_acc = (double)a;
    }
    long double tz = e + act_test_ulp(p->dt, fabsl(p->zr[i]) + e);
    err = fabsl((long double)z[i] - p->zr[i]);
    if (!(err <= tz)) {
      if (bad++ < 3)
        CHECK(false, "%s: z[%zu] = %.9g, reference %.9g, |diff| %.3Lg > "
              "bound %.3Lg", who, i, z[i], p->zr[i], err, tz);
    } else if ((double)(err / tz) > max_err_z) {
      max_err_z = (double)(err / tz);
    }
  }
  if (bad > 3)
    CHECK(false, "%s: %d elements out of bound in all", who, bad);
  free(y), free(z);
  return bad;
}

/* Runs p on ctx through the queue API, inputs and outputs at an offset of
 * `off` elements in their buffers, outputs filled with NaN first. */
static act_status_t run_device(act_context_t *ctx, const prob_t *p,
                               act_dense_gemm_t gemm, int off,
                               const char *who) {
  size_t es = p->es, ny = (size_t)p->m * p->n;
  size_t nb[5] = {(size_t)p->m * p->k, (size_t)p->k * p->n, (size_t)p->n, ny,
                  ny};
  const void *src[3] = {p->xs, p->ws, p->bs};
  act_buffer_t *buf[5] = {0};
  act_queue_t *q = NULL;
  act_status_t st = act_queue_create(ctx, &q);
  CHECK(st == ACT_OK, "%s: queue: %s", who, act_last_error());
  if (st)
    return st;
  void *nan = malloc((ny + off) * es);
  memset(nan, 0xff, (ny + off) * es); /* NaN in every float format */
  for (int i = 0; i < 5 && !st; i++) {
    size_t bytes = (nb[i] + off) * es;
    st = act_buffer_create(ctx, bytes, &buf[i]);
    if (!st)
      st = i < 3 ? act_buffer_write(q, buf[i], off * es, nb[i] * es, src[i],
                                    NULL)
                 : act_buffer_write(q, buf[i], 0, bytes, nan, NULL);
  }
  act_tensor_t x = t2(p->dt, p->m, p->k, NULL);
  act_tensor_t w = p->tw ? t2(p->dt, p->n, p->k, NULL)
                         : t2(p->dt, p->k, p->n, NULL);
  int64_t bn = p->n;
  act_tensor_t b = act_tensor_make(p->dt, 1, &bn, NULL);
  act_tensor_t y = t2(p->dt, p->m, p->n, NULL), z = y;
  act_tensor_t *t[5] = {&x, &w, &b, &y, &z};
  for (int i = 0; i < 5; i++)
    t[i]->buffer = buf[i], t[i]->offset = off * es;
  void *ys = malloc(ny * es), *zs = malloc(ny * es);
  act_dense_desc_t d = p->desc;
  d.gemm = gemm;
  act_event_t *ev = NULL;
  if (!st)
    st = act_dense(q, &d, &x, &w, p->has_bias ? &b : NULL, &y,
                   p->has_z ? &z : NULL, &ev);
  if (!st) {
    CHECK(ev != NULL, "%s: no event", who);
    act_status_t r1 = act_buffer_read(q, buf[3], off * es, ny * es, ys, NULL);
    act_status_t r2 = act_buffer_read(q, buf[4], off * es, ny * es, zs, NULL);
    act_status_t w1 = act_event_wait(ev);
    st = act_queue_finish(q);
    CHECK(!r1 && !r2 && !w1 && !st, "%s: read/wait/finish: %s", who,
          act_last_error());
    if (!r1 && !r2 && !st)
      compare(p, ys, p->has_z ? zs : NULL, who);
  }
  act_event_destroy(ev);
  act_queue_destroy(q);
  for (int i = 0; i < 5; i++)
    act_buffer_destroy(buf[i]);
  free(nan), free(ys), free(zs);
  return st;
}

/* Every shape x dtype x activation on ctx, with transposition, bias, z and
 * offsets cycling through their combinations. */
static void run_all(act_context_t *ctx, const char *dev, act_dense_gemm_t g) {
  int combo = 0;
  for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++)
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
      for (size_t ai = 0; ai < sizeof acts / sizeof *acts; ai++, combo++) {
        act_op_desc_t *act = NULL;
        if (acts[ai].op)
          CHECK_OK(act_test_desc(acts[ai].op, acts[ai].params, &act));
        prob_t p;
        /* every activation and dtype meets 7 of the 8 combinations of
         * W^T, bias and z over the shapes */
        int v = (int)(si + ai + 3 * di);
        int tw = v & 1, bias = !(v & 2), z = (v >> 2) & 1;
        if (prob_make(&p, shapes[si].m, shapes[si].n, shapes[si].k,
                      dtypes[di], tw, bias, z, act, acts[ai].lip)) {
          char who[256];
          snprintf(who, sizeof who, "%s%s %s %dx%dx%d %s%s%s%s %s%s", dev,
                   g == ACT_DENSE_GEMM_CLBLAST ? " (clblast)"
                   : g == ACT_DENSE_GEMM_OWN   ? " (own)"
                                               : "",
                   act_dtype_name(dtypes[di]), p.m, p.n, p.k,
                   tw ? "W^T " : "", bias ? "bias " : "", z ? "z " : "",
                   acts[ai].op ? acts[ai].op : "none",
                   acts[ai].params ? acts[ai].params : "",
                   combo % 3 ? "" : " offset");
          if (!ctx) { /* the reference through the cpu device */
            act_context_t *cpu;
            CHECK_OK(act_context_create("cpu", &cpu));
            run_device(cpu, &p, g, combo % 3 ? 0 : 3, who);
            act_context_destroy(cpu);
          } else {
            bool blast_na = g == ACT_DENSE_GEMM_CLBLAST &&
                            dtypes[di] != ACT_F32;
            act_status_t st = run_device(ctx, &p, g, combo % 3 ? 0 : 3, who);
            if (blast_na)
              CHECK(st == ACT_UNSUPPORTED, "%s: CLBlast on %s: %s", who,
                    act_dtype_name(dtypes[di]), act_status_name(st));
            else
              CHECK(st == ACT_OK, "%s: %s", who, act_last_error());
          }
        }
        prob_free(&p);
        act_op_desc_destroy(act);
      }
}

/* act_dense_host on a device: one case per dtype, checked the same way
 * (blast_f32: CLBlast is forced, so 16-bit dtypes are ACT_UNSUPPORTED). */
static void run_host(act_context_t *ctx, const char *dev, bool blast_f32) {
  for (size_t di = 0; di < 3; di++) {
    act_op_desc_t *gelu;
    CHECK_OK(act_test_desc("gelu", "", &gelu));
    prob_t p;
    if (prob_make(&p, 9, 70, 33, dtypes[di], 0, 1, 1, gelu, 1.13)) {
      size_t ny = (size_t)p.m * p.n;
      void *ys = malloc(ny * p.es), *zs = malloc(ny * p.es);
      act_tensor_t x = t2(p.dt, p.m, p.k, p.xs), w = t2(p.dt, p.k, p.n, p.ws);
      int64_t bn = p.n;
      act_tensor_t b = act_tensor_make(p.dt, 1, &bn, p.bs);
      act_tensor_t y = t2(p.dt, p.m, p.n, ys), z = t2(p.dt, p.m, p.n, zs);
      char who[128];
      snprintf(who, sizeof who, "%s act_dense_host %s", dev,
               act_dtype_name(p.dt));
      act_status_t st = act_dense_host(ctx, &p.desc, &x, &w, &b, &y, &z);
      if (blast_f32 && p.dt != ACT_F32)
        CHECK(st == ACT_UNSUPPORTED, "%s: %s", who, act_status_name(st));
      else
        CHECK(st == ACT_OK, "%s: %s", who, act_last_error());
      if (!st)
        compare(&p, ys, zs, who);
      free(ys), free(zs);
    }
    prob_free(&p);
    act_op_desc_destroy(gelu);
  }
}

#define CHECK_ST(want, call)                                                  \
  do {                                                                        \
    act_status_t st_ = (call);                                                \
    CHECK(st_ == (want), "%s -> %s (want %s): %s", #call,                     \
          act_status_name(st_), act_status_name(want), act_last_error());     \
    CHECK(st_ == ACT_OK || *act_last_error(), "%s: no message", #call);       \
  } while (0)

static void bad_inputs(void) {
  float xv[12] = {0}, wv[12] = {0}, bv[4] = {0}, yv[16], zv[16];
  act_dense_desc_t d = {0};
  act_tensor_t x = t2(ACT_F32, 3, 4, xv), w = t2(ACT_F32, 4, 3, wv);
  act_tensor_t y = t2(ACT_F32, 3, 3, yv), z = t2(ACT_F32, 3, 3, zv);
  int64_t three = 3;
  act_tensor_t b = act_tensor_make(ACT_F32, 1, &three, bv);
  CHECK_OK(act_reference_dense(&d, &x, &w, &b, &y, &z));
  CHECK_ST(ACT_NULL_POINTER, act_reference_dense(NULL, &x, &w, &b, &y, &z));
  CHECK_ST(ACT_NULL_POINTER, act_reference_dense(&d, NULL, &w, &b, &y, &z));
  CHECK_ST(ACT_NULL_POINTER, act_reference_dense(&d, &x, &w, &b, NULL, &z));
  act_tensor_t bad = x;
  bad.data = NULL;
  CHECK_ST(ACT_NULL_POINTER, act_reference_dense(&d, &bad, &w, &b, &y, &z));
  bad = x;
  bad.ndim = 3, bad.dims[2] = 1;
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&d, &bad, &w, &b, &y, &z));
  bad = x;
  bad.dims[1] = 5; /* K disagrees */
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&d, &bad, &w, &b, &y, &z));
  bad = x;
  bad.dims[0] = 0; /* M = 0 */
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&d, &bad, &w, &b, &y, &z));
  bad = x;
  bad.dims[0] = INT64_MAX / 2; /* overflow */
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&d, &bad, &w, &b, &y, &z));
  bad = y;
  bad.dims[1] = 4;
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&d, &x, &w, &b, &bad, &z));
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&d, &x, &w, &b, &y, &bad));
  bad = b;
  bad.dims[0] = 4;
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&d, &x, &w, &bad, &y, &z));
  bad = t2(ACT_F32, 2, 3, bv); /* [2, N] */
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&d, &x, &w, &bad, &y, &z));
  bad = t2(ACT_F32, 1, 3, bv); /* [1, N]: fine */
  CHECK_OK(act_reference_dense(&d, &x, &w, &bad, &y, &z));
  bad = w;
  bad.dtype = ACT_F16;
  CHECK_ST(ACT_BAD_DTYPE, act_reference_dense(&d, &x, &bad, &b, &y, &z));
  bad = x;
  bad.dtype = ACT_I32;
  CHECK_ST(ACT_BAD_DTYPE, act_reference_dense(&d, &bad, &w, &b, &y, &z));
  /* y overlapping an input, or z */
  bad = t2(ACT_F32, 3, 3, xv);
  CHECK_ST(ACT_INVALID_ARGUMENT,
           act_reference_dense(&d, &x, &w, &b, &bad, &z));
  CHECK_ST(ACT_INVALID_ARGUMENT,
           act_reference_dense(&d, &x, &w, &b, &y, &y));
  act_dense_desc_t dd = d;
  dd.transpose_w = 2;
  CHECK_ST(ACT_INVALID_ARGUMENT,
           act_reference_dense(&dd, &x, &w, &b, &y, &z));
  dd = d;
  dd.size = 3;
  CHECK_ST(ACT_INVALID_ARGUMENT,
           act_reference_dense(&dd, &x, &w, &b, &y, &z));
  dd = d;
  dd.gemm = (act_dense_gemm_t)7;
  CHECK_ST(ACT_INVALID_ARGUMENT,
           act_reference_dense(&dd, &x, &w, &b, &y, &z));
  /* transposed W is [N, K] */
  dd = d;
  dd.transpose_w = 1;
  CHECK_ST(ACT_BAD_SHAPE, act_reference_dense(&dd, &x, &w, &b, &y, &z));
  act_tensor_t wt = t2(ACT_F32, 3, 4, wv);
  CHECK_OK(act_reference_dense(&dd, &x, &wt, &b, &y, &z));
  /* activations: axis ops are refused; prelu uses its scalar alpha */
  act_op_desc_t *sm, *pr;
  CHECK_OK(act_op_desc_create(ACT_OP_SOFTMAX, &sm));
  CHECK_OK(act_op_desc_create(ACT_OP_PRELU, &pr));
  dd = d;
  dd.activation = sm;
  CHECK_ST(ACT_UNSUPPORTED, act_reference_dense(&dd, &x, &w, &b, &y, &z));
  dd.activation = pr;
  CHECK_OK(act_reference_dense(&dd, &x, &w, &b, &y, &z));
  act_op_desc_destroy(sm);
  act_op_desc_destroy(pr);
  /* a bad environment choice */
  setenv("ACTKIT_DENSE_GEMM", "fastest", 1);
  CHECK_ST(ACT_INVALID_ARGUMENT, act_reference_dense(&d, &x, &w, &b, &y, &z));
  unsetenv("ACTKIT_DENSE_GEMM");

  /* device calls: NULL queue, small buffers, another context's buffer */
  act_context_t *c1, *c2;
  CHECK_OK(act_context_create("cpu", &c1));
  CHECK_OK(act_context_create("cpu", &c2));
  act_queue_t *q;
  CHECK_OK(act_queue_create(c1, &q));
  act_buffer_t *b1, *b2;
  CHECK_OK(act_buffer_create(c1, 256, &b1));
  CHECK_OK(act_buffer_create(c2, 256, &b2));
  act_tensor_t dx = t2(ACT_F32, 3, 4, NULL), dw = t2(ACT_F32, 4, 3, NULL);
  act_tensor_t dy = t2(ACT_F32, 3, 3, NULL);
  dx.buffer = dw.buffer = dy.buffer = b1;
  dw.offset = 64, dy.offset = 128;
  CHECK_OK(act_dense(q, &d, &dx, &dw, NULL, &dy, NULL, NULL));
  CHECK_ST(ACT_NULL_POINTER, act_dense(NULL, &d, &dx, &dw, NULL, &dy, NULL,
                                       NULL));
  act_tensor_t e = dy;
  e.offset = 250;
  CHECK_ST(ACT_BAD_SHAPE, act_dense(q, &d, &dx, &dw, NULL, &e, NULL, NULL));
  e = dy;
  e.buffer = b2;
  CHECK_ST(ACT_INVALID_ARGUMENT,
           act_dense(q, &d, &dx, &dw, NULL, &e, NULL, NULL));
  e = dy;
  e.offset = 32; /* overlaps x in the same buffer */
  CHECK_ST(ACT_INVALID_ARGUMENT,
           act_dense(q, &d, &dx, &dw, NULL, &e, NULL, NULL));
  act_buffer_destroy(b1);
  act_buffer_destroy(b2);
  act_queue_destroy(q);
  act_context_destroy(c1);
  act_context_destroy(c2);
}

int main(void) {
  act_op_t custom;
  size_t ncustom = 0;
  CHECK_OK(act_custom_register_source(custom_src, "dense_swish.cl", &custom,
                                      1, &ncustom));
  CHECK(ncustom == 1, "the custom activation: %zu ops", ncustom);
  bad_inputs();
  /* the reference (cpu device) */
  run_all(NULL, "cpu", ACT_DENSE_GEMM_AUTO);
  int seen[ACT_BACKEND_COUNT] = {0};
  size_t nd = act_device_count();
  for (size_t i = 0; i < nd; i++) {
    act_device_info_t info;
    CHECK_OK(act_device_get_info(i, &info));
    if (info.backend == ACT_BACKEND_CPU)
      continue;
    seen[info.backend] = 1;
    act_context_t *ctx;
    act_status_t st = act_context_create(info.name, &ctx);
    CHECK(st == ACT_OK, "%s: context: %s", info.name, act_last_error());
    if (st)
      continue;
    int before = act_test_failures;
    printf("device %s: %s\n", info.name, info.description);
    /* the fused kernels, whatever the device's default (a CPU OpenCL
     * driver's is a separate activation pass, which run_host checks) */
    setenv("ACTKIT_DENSE_FUSE", "always", 1);
    run_all(ctx, info.name, ACT_DENSE_GEMM_OWN);
    unsetenv("ACTKIT_DENSE_FUSE");
    run_host(ctx, info.name, false);
    setenv("ACTKIT_DENSE_FUSE", "never", 1);
    run_host(ctx, info.name, false);
    setenv("ACTKIT_DENSE_FUSE", "bogus", 1);
    {
      act_op_desc_t *g;
      CHECK_OK(act_test_desc("gelu", "", &g));
      float hx[4] = {1, 2, 3, 4}, hy[4];
      act_tensor_t x = t2(ACT_F32, 2, 2, hx), y = t2(ACT_F32, 2, 2, hy);
      act_dense_desc_t d = {0};
      d.activation = g;
      d.gemm = ACT_DENSE_GEMM_OWN;
      act_status_t bst = act_dense_host(ctx, &d, &x, &x, NULL, &y, NULL);
      CHECK(bst == ACT_INVALID_ARGUMENT && strstr(act_last_error(),
                                                   "ACTKIT_DENSE_FUSE"),
            "%s: a bad ACTKIT_DENSE_FUSE: %s %s", info.name,
            act_status_name(bst), act_last_error());
      act_op_desc_destroy(g);
    }
    unsetenv("ACTKIT_DENSE_FUSE");
    if (info.backend == ACT_BACKEND_OPENCL) {
      /* CLBlast where this build and machine have it */
      act_tensor_t x = t2(ACT_F32, 1, 1, NULL);
      act_buffer_t *b;
      act_queue_t *q;
      CHECK_OK(act_buffer_create(ctx, 64, &b));
      CHECK_OK(act_queue_create(ctx, &q));
      x.buffer = b;
      act_tensor_t w = x, y = x;
      w.offset = 16, y.offset = 32;
      act_dense_desc_t d = {0};
      d.gemm = ACT_DENSE_GEMM_CLBLAST;
      st = act_dense(q, &d, &x, &w, NULL, &y, NULL, NULL);
      char why[512];
      snprintf(why, sizeof why, "%s", act_last_error());
      act_queue_finish(q);
      act_queue_destroy(q);
      act_buffer_destroy(b);
      if (st == ACT_OK) {
        run_all(ctx, info.name, ACT_DENSE_GEMM_CLBLAST);
        /* the environment's choice, both ways */
        setenv("ACTKIT_DENSE_GEMM", "own", 1);
        run_host(ctx, info.name, false);
        setenv("ACTKIT_DENSE_GEMM", "clblast", 1);
        run_host(ctx, info.name, true);
        unsetenv("ACTKIT_DENSE_GEMM");
      } else {
        CHECK(st == ACT_UNSUPPORTED, "%s: CLBlast: %s", info.name, why);
        printf("SKIP %s CLBlast: %s\n", info.name, why);
      }
    }
    printf("device %s: %s\n", info.name,
           act_test_failures == before ? "ok" : "FAILED");
    act_context_destroy(ctx);
  }
  act_test_require_backends(seen);
  /* Driver diagnostics (the Vulkan validation layers, with
   * ACTKIT_VK_VALIDATION=1) are failures: each was printed above. */
  CHECK(act__diag_count() == 0, "%llu driver validation message(s)",
        (unsigned long long)act__diag_count());
  printf("largest error seen: y %.3f, z %.3f of the bound; f32 z vs the "
         "exact sum %.4f of gamma(K + 1) S\n", max_err_y, max_err_z, max_acc);
  return act_test_finish("test_dense");
}
