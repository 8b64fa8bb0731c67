/*
 * dense.c - benchmark of the fused dense layer (act_dense), bench_dense.
 *
 * On each device given (default: every OpenCL and Vulkan device), f32,
 * y = act(x W + b), for square shapes (M = N = K = 256, 512, 1024) and
 * skinny ones (inference batches: M = 1, 8, 64 with K = N = 1024), and
 * two with a short K (1024 x 1024 x 64, 16384 x 1024 x 8: the output's
 * traffic weighs most there, so fusion saves most), the
 * median time of R runs (each enqueue + act_queue_finish, after a warm-up
 * that builds the programs; the variants' runs interleaved) of:
 *   fused    our GEMM kernel with bias + activation in its epilogue;
 *   unfused  our GEMM kernel with the bias, then act_forward over y;
 *   gemm     our GEMM kernel alone (no bias, no activation);
 * and on OpenCL, with CLBlast:
 *   cb+epi   CLBlast's SGEMM, then the bias + activation pass;
 *   cb+act   CLBlast's SGEMM, the bias pass, then act_forward over y;
 *   cb gemm  CLBlast's SGEMM alone.
 * Rates are GFLOP/s of the GEMM (2 M N K over the whole time); the ratios
 * compare variants timed in the same run: fused/unfused (> 1: fusion
 * wins), own/CLBlast for the bare GEMMs and for the fused layer.
 *
 * usage: bench_dense [--device D]... [--act OP] [--runs R] [--quick]
 *                    [--shape MxNxK]
 */
#include <actkit.h>

#include "bench_util.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


typedef struct {
  act_context_t *ctx;
  act_queue_t *q;
  act_tensor_t x, w, b, y;
  act_op_desc_t *act;
} bench_t;

enum { FUSED, UNFUSED, GEMM };

/* One run of a variant; ACT_OK or the failure. */
static act_status_t run_once(bench_t *B, int kind, act_dense_gemm_t g) {
  act_dense_desc_t d = {0};
  d.gemm = g;
  d.activation = kind == FUSED ? B->act : NULL;
  act_status_t st = act_dense(B->q, &d, &B->x, &B->w,
                              kind == GEMM ? NULL : &B->b, &B->y, NULL, NULL);
  if (!st && kind == UNFUSED) {
    act_arg_t args[2] = {{ACT_ARG_X, B->y}, {ACT_ARG_Y, B->y}};
    args[0].tensor.ndim = args[1].tensor.ndim = 1;
    args[0].tensor.dims[0] = args[1].tensor.dims[0] =
        B->y.dims[0] * B->y.dims[1];
    st = act_forward(B->q, B->act, 2, args, NULL);
  }
  act_status_t fin = act_queue_finish(B->q);
  return st ? st : fin;
}

/* Median seconds of `runs` runs of each of the nv variants (kind, gemm),
 * interleaved run by run so that a change in the machine's load touches
 * every variant alike; t[v] < 0 when variant v is unsupported. */
static void timed(bench_t *B, int nv, const int *kind,
                  const act_dense_gemm_t *g, int runs, double *t) {
  double s[8][32];
  bool ok[8];
  for (int v = 0; v < nv; v++) /* warm-up: builds the programs */
    ok[v] = run_once(B, kind[v], g[v]) == ACT_OK;
  for (int r = 0; r < runs; r++)
    for (int v = 0; v < nv; v++) {
      if (!ok[v])
        continue;
      double t0 = bench_now();
      ok[v] = run_once(B, kind[v], g[v]) == ACT_OK;
      s[v][r] = bench_now() - t0;
    }
  for (int v = 0; v < nv; v++) {
    t[v] = -1.0;
    if (!ok[v])
      continue;
    t[v] = bench_median(s[v], runs);
  }
}

static void fill(act_queue_t *q, act_buffer_t *b, size_t n) {
  float *v = malloc(n * sizeof *v);
  uint32_t s = 12345u;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    v[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
  }
  act_buffer_write(q, b, 0, n * sizeof *v, v, NULL);
  act_queue_finish(q);
  free(v);
}

static int one_shape[3];

static void bench_device(const char *dev, const char *opname, int runs,
                         bool quick) {
  static const int all_shapes[][3] = {{256, 256, 256},  {512, 512, 512},
                                  {1024, 1024, 1024}, {1, 1024, 1024},
                                  {8, 1024, 1024},  {64, 1024, 1024},
                                  {1024, 1024, 64}, {16384, 1024, 8}};
  const int(*shapes)[3] = one_shape[0] ? (const int(*)[3]) &one_shape : all_shapes;
  size_t nshapes = one_shape[0] ? 1 : sizeof all_shapes / sizeof *all_shapes;
  bench_t B;
  memset(&B, 0, sizeof B);
  act_device_info_t info;
  size_t idx;
  if (act_device_find(dev, &idx) || act_device_get_info(idx, &info) ||
      act_context_create(dev, &B.ctx) || act_queue_create(B.ctx, &B.q) ||
      act_op_desc_create_by_name(opname, &B.act)) {
    fprintf(stderr, "bench_dense: %s: %s\n", dev, act_last_error());
    act_queue_destroy(B.q);
    act_context_destroy(B.ctx);
    return;
  }
  bool cl = info.backend == ACT_BACKEND_OPENCL;
  printf("\ndevice %s: %s\nf32, y = %s(x W + b), GFLOP/s (2MNK / median of "
         "%d runs)\n", dev, info.description, opname, runs);
  printf("%-16s %8s %8s %8s %7s", "M x N x K", "fused", "unfused", "gemm",
         "f/unf");
  if (cl)
    printf(" %8s %8s %8s %7s %7s %7s", "cb+epi", "cb+act", "cb gemm",
           "epi/act", "own/cb", "fus/cb");
  printf("\n");
  for (size_t s = 0; s < nshapes; s++) {
    int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    if (quick && m * n * k > 64 * 1024 * 1024)
      continue;
    act_buffer_t *bx, *bw, *bb, *by;
    if (act_buffer_create(B.ctx, (size_t)(m * k) * 4, &bx) ||
        act_buffer_create(B.ctx, (size_t)(k * n) * 4, &bw) ||
        act_buffer_create(B.ctx, (size_t)n * 4, &bb) ||
        act_buffer_create(B.ctx, (size_t)(m * n) * 4, &by)) {
      fprintf(stderr, "bench_dense: %s\n", act_last_error());
      return;
    }
    fill(B.q, bx, (size_t)(m * k));
    fill(B.q, bw, (size_t)(k * n));
    fill(B.q, bb, (size_t)n);
    int64_t dx[2] = {m, k}, dw[2] = {k, n}, dy[2] = {m, n};
    B.x = act_tensor_make(ACT_F32, 2, dx, NULL);
    B.w = act_tensor_make(ACT_F32, 2, dw, NULL);
    B.b = act_tensor_make(ACT_F32, 1, &n, NULL);
    B.y = act_tensor_make(ACT_F32, 2, dy, NULL);
    B.x.buffer = bx, B.w.buffer = bw, B.b.buffer = bb, B.y.buffer = by;
    double flop = 2.0 * (double)m * (double)n * (double)k;
    double t[6];
    static const int kinds[6] = {FUSED, UNFUSED, GEMM, FUSED, UNFUSED, GEMM};
    static const act_dense_gemm_t gemms[6] = {
        ACT_DENSE_GEMM_OWN,     ACT_DENSE_GEMM_OWN,     ACT_DENSE_GEMM_OWN,
        ACT_DENSE_GEMM_CLBLAST, ACT_DENSE_GEMM_CLBLAST, ACT_DENSE_GEMM_CLBLAST};
    timed(&B, cl ? 6 : 3, kinds, gemms, runs, t);
    char shape[72];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)m,
             (long long)n, (long long)k);
    printf("%-16s", shape);
    for (int v = 0; v < 3; v++)
      printf(" %8.2f", t[v] > 0 ? flop / t[v] * 1e-9 : 0.0);
    printf(" %7.2f", t[0] > 0 && t[1] > 0 ? t[1] / t[0] : 0.0);
    if (cl) {
      for (int v = 3; v < 6; v++)
        printf(" %8.2f", t[v] > 0 ? flop / t[v] * 1e-9 : 0.0);
      printf(" %7.2f %7.2f %7.2f", t[3] > 0 && t[4] > 0 ? t[4] / t[3] : 0.0,
             t[2] > 0 && t[5] > 0 ? t[5] / t[2] : 0.0,
             t[0] > 0 && t[3] > 0 ? t[3] / t[0] : 0.0);
    }
    printf("\n");
    fflush(stdout);
    act_buffer_destroy(bx);
    act_buffer_destroy(bw);
    act_buffer_destroy(bb);
    act_buffer_destroy(by);
  }
  act_op_desc_destroy(B.act);
  act_queue_destroy(B.q);
  act_context_destroy(B.ctx);
}

int main(int argc, char **argv) {
  /* "fused" is the fused kernel on every device, also where act_dense's
   * default for f32 is a separate pass (CPU OpenCL drivers); set
   * ACTKIT_DENSE_FUSE=auto to time the default instead. */
  setenv("ACTKIT_DENSE_FUSE", "always", 0);
  const char *devs[16];
  int ndev = 0, runs = 5;
  const char *op = "gelu";
  bool quick = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--device") == 0 && i + 1 < argc && ndev < 16)
      devs[ndev++] = argv[++i];
    else if (strcmp(argv[i], "--act") == 0 && i + 1 < argc)
      op = argv[++i];
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--quick") == 0)
      quick = true;
    else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc &&
             sscanf(argv[i + 1], "%dx%dx%d", &one_shape[0], &one_shape[1],
                    &one_shape[2]) == 3 && one_shape[0] > 0 &&
             one_shape[1] > 0 && one_shape[2] > 0)
      i++;
    else {
      fprintf(stderr, "usage: bench_dense [--device D]... [--act OP] "
                      "[--runs R] [--quick] [--shape MxNxK]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > 32)
    runs = 5;
  if (ndev == 0) {
    static char names[16][64];
    for (size_t i = 0; i < act_device_count() && ndev < 16; i++) {
      act_device_info_t info;
      if (act_device_get_info(i, &info) == ACT_OK &&
          info.backend != ACT_BACKEND_CPU) {
        snprintf(names[ndev], sizeof names[ndev], "%s", info.name);
        devs[ndev] = names[ndev];
        ndev++;
      }
    }
  }
  for (int i = 0; i < ndev; i++)
    bench_device(devs[i], op, runs, quick);
  return 0;
}
