/*
 * test_device.c - every device backend against the CPU reference (docs/accuracy.md).
 *
 * For each device other than the reference (every OpenCL and Vulkan device
 * found), runs every op on f32, f16 and bf16 over a sweep of inputs
 * (special values, huge magnitudes, denormals, a dense grid, random
 * magnitudes from 1e-8 to 1e4) with several parameter sets, and compares
 * each element with the reference in ulps of the output type. Then: odd
 * sizes (1, 3, 1000003), in place, tensors at an offset in their buffer,
 * axis ops along the first, middle and last axis of 3-D tensors, and
 * prelu with a per-channel slope tensor.
 *
 * Bounds (docs/accuracy.md, one table): element-wise f32 2 ulp; axis ops f32 4 ulp;
 * f16 and bf16 1 ulp of the type.
 *
 * A backend listed in $ACTKIT_REQUIRE_BACKENDS (comma-separated, e.g.
 * "opencl,vulkan"; CI sets it) that has no device fails the test instead of
 * being skipped.
 */
#include "testutil.h"

#include "core/internal.h" /* act__diag_count */

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static double bound(act_op_t op, act_dtype_t t) {
  if (t != ACT_F32)
    return 1.0; /* compute in f32, round once to the 16-bit type */
  return act_op_info(op)->kind == ACT_KIND_ELTWISE ? 2.0 : 4.0;
}

/* Parameter sets per op ("" = defaults); the rest use defaults only. */
static const struct {
  const char *op, *params;
} param_sets[] = {
    {"relu", "negative_slope=0.1,max_value=6,threshold=1"},
    {"relu", "threshold=-0.3,negative_slope=0.2"},
    {"leaky_relu", "negative_slope=0.3"},
    {"prelu", "alpha=-0.7"},
    {"elu", "alpha=0.3"},
    {"celu", "alpha=0.5"},
    {"celu", "alpha=-2"},
    {"celu", "alpha=3"},
    {"gelu", "approximate=1"},
    {"silu", "beta=1.5"},
    {"silu", "beta=-0.3"},
    {"hard_sigmoid", "alpha=0.2,beta=0.5"},
    {"hard_sigmoid", "alpha=0.2,beta=0.2"},
    {"hard_silu", "alpha=0.2,beta=0.5"},
    {"softplus", "beta=2,threshold=20"},
    {"softplus", "beta=0.5"},
    {"squareplus", "b=0"},
    {"squareplus", "b=0.3"},
    {"squareplus", "b=1e35"},  /* scaled by 2^-96 (b > 2^100) */
    {"squareplus", "b=1e-35"}, /* scaled by 2^64 near 0 (b < 2^-100) */
    {"hard_shrink", "lambda=0.1"},
    {"soft_shrink", "lambda=0.1"},
    {"threshold", "threshold=-0.001,value=7"},
    {"clip", "min=-0.25,max=0.7"},
};

static uint32_t rng_state = 12345u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}


static act_op_desc_t *make_desc(const char *op, const char *params) {
  act_op_desc_t *d = NULL;
  if (act_op_desc_create_by_name(op, &d))
    return NULL;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", params);
  char *save = NULL;
  for (char *kv = strtok_r(buf, ",", &save); kv;
       kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq)
      continue;
    *eq = '\0';
    if (act_op_desc_set_param(d, kv, strtod(eq + 1, NULL))) {
      act_op_desc_destroy(d);
      return NULL;
    }
  }
  return d;
}

/* Max ulp error of dev vs ref over n elements of dtype t; reports the
 * worst element. */
static double max_err(act_dtype_t t, const void *dev, const void *ref,
                      const void *x, act_dtype_t xt, size_t n, size_t *worst) {
  double w = 0;
  size_t es = act_dtype_size(t), xs = act_dtype_size(xt);
  *worst = 0;
  for (size_t i = 0; i < n; i++) {
    float a, b;
    act_convert(t, (const char *)dev + i * es, ACT_F32, &a, 1);
    act_convert(t, (const char *)ref + i * es, ACT_F32, &b, 1);
    double e = act_ulp_error(t, a, b);
    if (e > w) {
      w = e;
      *worst = i;
    }
  }
  (void)x, (void)xs;
  return w;
}

/* Element-wise op over the sweep: device vs reference. */
static void check_eltwise(act_context_t *ctx, const char *dev, const char *op,
                          const char *params, const float *sx, size_t n) {
  /* each dtype twice: at a length that is a multiple of 4 (Vulkan:
   * act_eltwise4, whole vectors) and one less (act_eltwise, element by
   * element) */
  static const act_dtype_t dts[] = {ACT_F32, ACT_F16, ACT_BF16,
                                    ACT_F32, ACT_F16, ACT_BF16};
  act_op_desc_t *d = make_desc(op, params);
  CHECK(d != NULL, "%s %s: descriptor: %s", op, params, act_last_error());
  if (!d)
    return;
  size_t n0 = n;
  for (int k = 0; k < 6; k++) {
    act_dtype_t t = dts[k];
    size_t es = act_dtype_size(t);
    n = k >= 3 && n0 % 4 == 0 ? n0 - 1 : n0;
    void *x = malloc(n * es), *yr = malloc(n * es), *yd = malloc(n * es);
    act_convert(ACT_F32, sx, t, x, n);
    int64_t dims[1] = {(int64_t)n};
    act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(t, 1, dims, x)},
                      {ACT_ARG_Y, act_tensor_make(t, 1, dims, yr)}};
    CHECK_OK(act_reference_forward(d, 2, a));
    a[1].tensor.data = yd;
    act_status_t st = act_forward_host(ctx, d, 2, a);
    CHECK(st == ACT_OK, "%s: %s %s %s: %s", dev, op, params,
          act_dtype_name(t), act_last_error());
    if (!st) {
      size_t wi;
      double e = max_err(t, yd, yr, x, t, n, &wi);
      float xi, got, want;
      act_convert(t, (char *)x + wi * es, ACT_F32, &xi, 1);
      act_convert(t, (char *)yd + wi * es, ACT_F32, &got, 1);
      act_convert(t, (char *)yr + wi * es, ACT_F32, &want, 1);
      CHECK(e <= bound(act_op_desc_op(d), t),
            "%s: %s(%s) %s: %.2f ulp at x = %.9g: got %.9g, want %.9g", dev,
            op, params, act_dtype_name(t), e, xi, got, want);
    }
    free(x), free(yr), free(yd);
  }
  act_op_desc_destroy(d);
}

/* Runs desc with operands built by the caller on device and reference;
 * compares output `yi` (and `si` if >= 0). */
static void compare(act_context_t *ctx, const char *dev, const char *what,
                    act_op_desc_t *d, act_arg_t *a, size_t na, int yi,
                    int si) {
  act_tensor_t *y = &a[yi].tensor;
  size_t ny = (size_t)act_tensor_numel(y), es = act_dtype_size(y->dtype);
  void *ref = y->data, *dv = malloc(ny * es + 1), *sref = NULL, *sdv = NULL;
  CHECK_OK(act_reference_forward(d, na, a));
  if (si >= 0) {
    sref = a[si].tensor.data;
    sdv = malloc(ny * es + 1);
    a[si].tensor.data = sdv;
  }
  y->data = dv;
  act_status_t st = act_forward_host(ctx, d, na, a);
  CHECK(st == ACT_OK, "%s: %s: %s", dev, what, act_last_error());
  if (!st) {
    size_t wi;
    double e = max_err(y->dtype, dv, ref, NULL, y->dtype, ny, &wi);
    if (sdv) {
      size_t wj;
      double e2 = max_err(y->dtype, sdv, sref, NULL, y->dtype, ny, &wj);
      if (e2 > e)
        e = e2;
    }
    CHECK(e <= bound(act_op_desc_op(d), y->dtype), "%s: %s: %.2f ulp at "
          "element %zu", dev, what, e, wi);
  }
  y->data = ref;
  if (si >= 0)
    a[si].tensor.data = sref;
  free(dv);
  free(sdv);
}

/* Axis ops on a 3-D tensor [5, 6, 7] along each axis, every dtype. */
static void check_axis(act_context_t *ctx, const char *dev) {
  static const act_dtype_t dts[] = {ACT_F32, ACT_F16, ACT_BF16};
  static const char *ops[] = {"softmax", "log_softmax", "softmin",
                              "logsumexp", "glu", "standardize"};
  int64_t dims[3] = {6, 8, 10};
  size_t n = 6 * 8 * 10;
  float fx[480];
  uint8_t mask[480];
  for (size_t i = 0; i < n; i++) {
    fx[i] = (float)(((rng() >> 8) * (1.0 / 16777216.0)) * 40.0 - 20.0);
    mask[i] = (rng() % 5) != 0;
  }
  fx[3] = 1e30f; /* a huge logit */
  /* Three times: the plan's own launch choice (one row per work-item for
   * these short rows; on CPU OpenCL drivers act_softmax_row for f32
   * softmax along the last axis), then one work-group per row
   * (ACTKIT_AXIS_LAUNCH=group: act_softmax4 and the other kernels'
   * per-group paths), then one row per work-item forced
   * (ACTKIT_AXIS_LAUNCH=item: act_softmax's loops everywhere). */
  for (int mode = 0; mode < 3; mode++) {
  if (mode)
    setenv("ACTKIT_AXIS_LAUNCH", mode == 1 ? "group" : "item", 1);
  for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
    for (int axis = 0; axis < 3; axis++)
      for (int k = 0; k < 3; k++) {
        act_dtype_t t = dts[k];
        size_t es = act_dtype_size(t);
        act_op_desc_t *d = make_desc(ops[o], "");
        CHECK_OK(act_op_desc_set_axis(d, axis - 3 + (axis == 1 ? 3 : 0)));
        void *x = malloc(n * es), *y = malloc(n * es);
        act_convert(ACT_F32, fx, t, x, n);
        int64_t yd[3] = {dims[0], dims[1], dims[2]};
        int ynd = 3;
        if (strcmp(ops[o], "glu") == 0)
          yd[axis] /= 2;
        if (strcmp(ops[o], "logsumexp") == 0)
          yd[axis] = 1;
        act_arg_t a[3] = {{ACT_ARG_X, act_tensor_make(t, 3, dims, x)},
                          {ACT_ARG_Y, act_tensor_make(t, ynd, yd, y)}};
        size_t na = 2;
        if (strcmp(ops[o], "logsumexp") == 0)
          CHECK_OK(act_op_desc_set_param(d, "keepdims", 1));
        if (strcmp(ops[o], "softmax") == 0 || strcmp(ops[o], "log_softmax") == 0)
          a[na++] = (act_arg_t){ACT_ARG_WHERE,
                                act_tensor_make(ACT_U8, 3, dims, mask)};
        char what[128];
        snprintf(what, sizeof what, "%s axis %d %s%s", ops[o], axis,
                 act_dtype_name(t),
                 mode == 1 ? " (per group)" : mode == 2 ? " (per item)" : "");
        compare(ctx, dev, what, d, a, na, 1, -1);
        free(x), free(y);
        act_op_desc_destroy(d);
      }
  }
  unsetenv("ACTKIT_AXIS_LAUNCH");
  /* Long rows. With ACTKIT_AXIS_LAUNCH=group, one work-group each: 1000
   * elements fill all 4 lanes of act_softmax4's work-items (256 of them);
   * 1500 and more are act_softmax's loops. By the plan's own choice, on
   * CPU drivers: act_softmax_row up to its limit (lavapipe: 16384),
   * beyond it (40000) the work-group kernels. */
  static const int64_t lens[] = {1000, 1500, 16384, 40000};
  for (int mode = 0; mode < 2; mode++)
  for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
    int64_t L = lens[li];
    enum { R = 3 };
    static float lx[R * 40000], ly[R * 40000];
    static uint8_t lm[R * 40000];
    if (mode)
      setenv("ACTKIT_AXIS_LAUNCH", "group", 1);
    for (size_t i = 0; i < (size_t)(R * L); i++) {
      lx[i] = (float)(((rng() >> 8) * (1.0 / 16777216.0)) * 60.0 - 30.0);
      lm[i] = (rng() % 7) != 0;
    }
    int64_t ld[2] = {R, L};
    for (int o = 0; o < 2; o++) {
      act_op_desc_t *d = make_desc(o ? "log_softmax" : "softmax", "");
      act_arg_t a[3] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 2, ld, lx)},
                        {ACT_ARG_Y, act_tensor_make(ACT_F32, 2, ld, ly)},
                        {ACT_ARG_WHERE, act_tensor_make(ACT_U8, 2, ld, lm)}};
      char what[64];
      snprintf(what, sizeof what, "%s rows of %lld%s",
               o ? "log_softmax" : "softmax", (long long)L,
               mode ? " (per group)" : "");
      compare(ctx, dev, what, d, a, 3, 1, -1);
      act_op_desc_destroy(d);
    }
    unsetenv("ACTKIT_AXIS_LAUNCH");
  }
  /* one_hot, axis first and last, f32 and i32 outputs. */
  int32_t idx[12] = {0, 1, 2, 3, 4, -1, 5, 9, 2, 2, 100, 0};
  for (int axis = 0; axis < 2; axis++)
    for (int k = 0; k < 2; k++) {
      act_dtype_t t = k ? ACT_I32 : ACT_F32;
      act_op_desc_t *d = make_desc("one_hot", "num_classes=6");
      CHECK_OK(act_op_desc_set_axis(d, axis ? -1 : 0));
      int64_t xd[2] = {3, 4}, yd[3] = {3, 4, 4};
      if (axis)
        yd[2] = 6;
      else
        yd[0] = 6, yd[1] = 3, yd[2] = 4;
      void *y = malloc(6 * 12 * 4);
      act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_I32, 2, xd, idx)},
                        {ACT_ARG_Y, act_tensor_make(t, 3, yd, y)}};
      compare(ctx, dev, axis ? "one_hot axis -1" : "one_hot axis 0", d, a, 2,
              1, -1);
      free(y);
      act_op_desc_destroy(d);
    }
  /* logsumexp over all axes with b and return_sign. */
  {
    act_op_desc_t *d = make_desc("logsumexp", "return_sign=1");
    CHECK_OK(act_op_desc_set_axis(d, ACT_AXIS_ALL));
    float b[480], y = 0, s = 0;
    for (size_t i = 0; i < n; i++)
      b[i] = (float)((int)(rng() % 5) - 2);
    act_arg_t a[4] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 3, dims, fx)},
                      {ACT_ARG_Y, act_tensor_make(ACT_F32, 0, NULL, &y)},
                      {ACT_ARG_SIGN, act_tensor_make(ACT_F32, 0, NULL, &s)},
                      {ACT_ARG_B, act_tensor_make(ACT_F32, 3, dims, b)}};
    compare(ctx, dev, "logsumexp all axes, b, sign", d, a, 4, 1, 2);
    act_op_desc_destroy(d);
  }
  /* logsumexp along rows of 200 (CPU drivers' row kernel: blocks of 64
   * and a tail; its fast sum, and the exact path for rows that need it):
   * a plain row, a row whose result is near 0, rows holding NaN, +inf,
   * only -inf, a huge value; then with b >= 0 (zeros among them), and
   * with b of both signs and an infinite b, with the sign. */
  {
    enum { R = 6, C = 200 };
    static float lx[R * C], lb[R * C], ly[R], ls[R];
    int64_t ld[2] = {R, C}, lyd[1] = {R};
    for (int i = 0; i < R * C; i++) {
      lx[i] = (float)(((rng() >> 8) * (1.0 / 16777216.0)) * 40.0 - 20.0);
      lb[i] = (float)(0.25 + (rng() >> 8) * (1.0 / 16777216.0));
      if (i % 7 == 3)
        lb[i] = 0.0f;
    }
    for (int j = 0; j < C; j++) {
      /* sum e^x ~ 1: y ~ 1e-5, where the terms' rounding would show */
      lx[1 * C + j] = (float)(-5.298317366548036 + 0.01 * (j % 5 - 2));
      lb[1 * C + j] = 1.0f;
      lx[4 * C + j] = -INFINITY;
    }
    lx[2 * C + 150] = NAN;
    lx[3 * C + 9] = INFINITY;
    lx[5 * C + 100] = 1e30f;
    for (int v = 0; v < 3; v++) {
      act_op_desc_t *d = make_desc("logsumexp", v == 2 ? "return_sign=1" : "");
      if (v == 2) {
        lb[0 * C + 5] = -3.0f;       /* b of both signs */
        lb[5 * C + 50] = INFINITY;   /* an infinite b */
      }
      act_arg_t a[4] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 2, ld, lx)},
                        {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, lyd, ly)},
                        {ACT_ARG_B, act_tensor_make(ACT_F32, 2, ld, lb)},
                        {ACT_ARG_SIGN, act_tensor_make(ACT_F32, 1, lyd, ls)}};
      const char *what[3] = {"logsumexp rows of 200", "logsumexp rows of 200, b",
                             "logsumexp rows of 200, b of both signs, sign"};
      compare(ctx, dev, what[v], d, a, v == 0 ? 2 : v == 1 ? 3 : 4, 1,
              v == 2 ? 3 : -1);
      act_op_desc_destroy(d);
    }
  }
  /* standardize along rows of 200 (CPU drivers' row kernel: blocks of
   * 64, a tail; its vectorized path, and act_standardize's code for the
   * rows that need scaling or hold NaN): a plain row, NaN, huge and tiny
   * magnitudes, a constant row; with the default epsilon and with 0. */
  {
    enum { R = 5, C = 200 };
    static float sx[R * C], sy[R * C];
    int64_t sd[2] = {R, C};
    for (int i = 0; i < R * C; i++) {
      double u = (rng() >> 8) * (1.0 / 16777216.0) * 40.0 - 20.0;
      int r = i / C;
      sx[i] = (float)(r == 2 ? u * 1e35 / 20 : r == 3 ? u * 1e-30 : u);
      if (r == 4)
        sx[i] = 3.0f;
    }
    sx[1 * C + 77] = NAN;
    for (int v = 0; v < 2; v++) {
      act_op_desc_t *d = make_desc("standardize", v ? "epsilon=0" : "");
      act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 2, sd, sx)},
                        {ACT_ARG_Y, act_tensor_make(ACT_F32, 2, sd, sy)}};
      compare(ctx, dev, v ? "standardize rows of 200, epsilon 0"
                          : "standardize rows of 200", d, a, 2, 1, -1);
      act_op_desc_destroy(d);
    }
  }
  /* prelu with a per-channel slope tensor on [2, 3, 5]. */
  {
    act_op_desc_t *d = make_desc("prelu", "");
    int64_t xd[3] = {2, 3, 5}, ad[1] = {3};
    float alpha[3] = {0.25f, -1.5f, 0.0f}, y[30];
    act_arg_t a[3] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 3, xd, fx)},
                      {ACT_ARG_Y, act_tensor_make(ACT_F32, 3, xd, y)},
                      {ACT_ARG_ALPHA, act_tensor_make(ACT_F32, 1, ad, alpha)}};
    compare(ctx, dev, "prelu per-channel alpha", d, a, 3, 1, -1);
    act_op_desc_destroy(d);
  }
}

/* Sizes 1, 3 and 1000003; in place; a tensor at an offset. Uses device
 * buffers and the asynchronous calls directly. */
static void check_buffers(act_context_t *ctx, const char *dev) {
  static const size_t sizes[] = {1, 3, 1000003};
  act_queue_t *q;
  CHECK_OK(act_queue_create(ctx, &q));
  /* gelu, and softmax and log_softmax over the one axis (on CPU OpenCL
   * drivers act_softmax_row, which writes y before its last pass: the
   * plan must keep in place right) */
  static const char *const opnames[] = {"gelu", "softmax", "log_softmax"};
  for (int op = 0; op < 3; op++) {
  const char *opname = opnames[op];
  double bound = op ? 4.0 : 2.0;
  act_op_desc_t *d = make_desc(opname, "");
  for (size_t s = 0; s < 3; s++) {
    size_t n = sizes[s], off = 16; /* elements before the tensor */
    float *x = malloc(n * 4), *y = malloc(n * 4), *r = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
      x[i] = (float)(((rng() >> 8) * (1.0 / 16777216.0)) * 20.0 - 10.0);
    int64_t dims[1] = {(int64_t)n};
    act_arg_t ra[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                       {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, r)}};
    CHECK_OK(act_reference_forward(d, 2, ra));
    act_buffer_t *b;
    CHECK_OK(act_buffer_create(ctx, (n + off + 8) * 4, &b));
    float guard[8] = {42, 42, 42, 42, 42, 42, 42, 42}, gback[8];
    float junk[16] = {0};
    CHECK_OK(act_buffer_write(q, b, 0, sizeof junk, junk, NULL));
    CHECK_OK(act_buffer_write(q, b, (off + n) * 4, sizeof guard, guard, NULL));
    CHECK_OK(act_buffer_write(q, b, off * 4, n * 4, x, NULL));
    /* In place: x and y are the same tensor of the same buffer. */
    act_tensor_t t = act_tensor_make(ACT_F32, 1, dims, NULL);
    t.buffer = b;
    t.offset = off * 4;
    act_arg_t da[2] = {{ACT_ARG_X, t}, {ACT_ARG_Y, t}};
    act_event_t *ev = NULL;
    CHECK_OK(act_forward(q, d, 2, da, &ev));
    CHECK_OK(act_buffer_read(q, b, off * 4, n * 4, y, NULL));
    CHECK_OK(act_buffer_read(q, b, (off + n) * 4, sizeof gback, gback, NULL));
    CHECK_OK(act_queue_finish(q));
    CHECK(ev && act_event_done(ev), "%s: event not done after finish", dev);
    CHECK_OK(act_event_wait(ev));
    act_event_destroy(ev);
    size_t wi;
    double e = max_err(ACT_F32, y, r, x, ACT_F32, n, &wi);
    CHECK(e <= bound, "%s: %s in place, n = %zu, offset %zu: %.2f ulp", dev,
          opname, n, off, e);
    CHECK(memcmp(guard, gback, sizeof guard) == 0,
          "%s: n = %zu: elements after the tensor were overwritten", dev, n);
    act_buffer_destroy(b);
    free(x), free(y), free(r);
  }
  act_op_desc_destroy(d);
  }

  /* A tensor of 40M f32 elements (160 MB: more than lavapipe's 128 MiB
   * storage-buffer range, so the backend must split it). relu is exact. */
  {
    size_t n = 40u * 1000u * 1000u;
    float *x = malloc(n * 4), *y = malloc(n * 4);
    act_buffer_t *bx = NULL, *by = NULL;
    act_op_desc_t *relu = make_desc("relu", "");
    if (x && y && !act_buffer_create(ctx, n * 4, &bx) &&
        !act_buffer_create(ctx, n * 4, &by)) {
      for (size_t i = 0; i < n; i++)
        x[i] = (float)((int)(i % 2001) - 1000) * 0.5f;
      int64_t dims[1] = {(int64_t)n};
      act_tensor_t tx = act_tensor_make(ACT_F32, 1, dims, NULL), ty;
      tx.buffer = bx;
      ty = tx;
      ty.buffer = by;
      act_arg_t da[2] = {{ACT_ARG_X, tx}, {ACT_ARG_Y, ty}};
      CHECK_OK(act_buffer_write(q, bx, 0, n * 4, x, NULL));
      CHECK_OK(act_forward(q, relu, 2, da, NULL));
      CHECK_OK(act_buffer_read(q, by, 0, n * 4, y, NULL));
      CHECK_OK(act_queue_finish(q));
      size_t bad = 0, first = 0;
      for (size_t i = 0; i < n; i++)
        if (y[i] != (x[i] > 0.0f ? x[i] : 0.0f) && !bad++)
          first = i;
      CHECK(bad == 0, "%s: relu over 40M elements: %zu wrong, first at %zu",
            dev, bad, first);
    } else {
      CHECK(false, "%s: cannot allocate 2 x 160 MB: %s", dev,
            act_last_error());
    }
    act_buffer_destroy(bx);
    act_buffer_destroy(by);
    act_op_desc_destroy(relu);
    free(x);
    free(y);
  }
  act_queue_destroy(q);
}

int main(void) {
  size_t nd = act_device_count();
  int seen[ACT_BACKEND_COUNT] = {0};
  size_t n;
  float *sx = act_test_sweep(8000, 12345u, &n);
  for (size_t i = 0; i < nd; i++) {
    act_device_info_t info;
    CHECK_OK(act_device_get_info(i, &info));
    if (info.backend == ACT_BACKEND_CPU)
      continue;
    seen[info.backend] = 1;
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
      const char *dflt = op == ACT_OP_THRESHOLD ? "threshold=0.5,value=-2" : "";
      check_eltwise(ctx, info.name, oi->name, dflt, sx, n);
    }
    for (size_t k = 0; k < sizeof param_sets / sizeof *param_sets; k++)
      check_eltwise(ctx, info.name, param_sets[k].op, param_sets[k].params,
                    sx, n);
    check_axis(ctx, info.name);
    check_buffers(ctx, info.name);
    printf("device %s: %s\n", info.name,
           act_test_failures == before ? "ok" : "FAILED");
    act_context_destroy(ctx);
  }
  free(sx);
  int tested = 0;
  for (int b = 1; b < ACT_BACKEND_COUNT; b++)
    tested += seen[b];
  /* Backends CI expects must be there: a missing one fails, not skips. */
  act_test_require_backends(seen);
  /* Driver diagnostics (the Vulkan validation layers, with
   * ACTKIT_VK_VALIDATION=1) are failures: each was printed above. */
  CHECK(act__diag_count() == 0, "%llu driver validation message(s)",
        (unsigned long long)act__diag_count());
  if (!tested && act_test_failures == 0) {
    printf("SKIP test_device: no OpenCL or Vulkan device here\n");
    return 77; /* ctest SKIP_RETURN_CODE */
  }
  return act_test_finish("test_device");
}
