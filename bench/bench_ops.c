/*
 * bench_ops.c - actkit against its peers, side by side in one process.
 *
 * For each op and size, runs in turn (interleaved, so that a noisy machine
 * slows every contestant alike): actkit on each OpenCL and Vulkan device,
 * oneDNN's eltwise / softmax primitives (when built with libdnnl-dev),
 * and the plain C loops of loops.c built with -O3 and with -O3
 * -ffast-math (OpenMP over every core). Prints the median Gelem/s of each,
 * then the ratios the performance targets are stated in: each device
 * against its own copy kernel and against oneDNN.
 *
 * usage: bench_ops [--n N]... [--reps R] [--device D]... [OP...]
 */
#include "actkit.h"
#include "bench_util.h"
#include "loops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef BENCH_WITH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#define MAX_CONTESTANTS 12
#define MAX_REPS 64

/* The ops compared, with what each contestant calls them. */
typedef struct bench_op {
  const char *name;      /* bench name, and loops.c's */
  const char *act;       /* actkit op name (alias allowed) */
  int dnnl_alg;          /* dnnl_alg_kind_t, 0: none, -1: softmax */
  float alpha, beta;     /* oneDNN's eltwise parameters */
} bench_op_t;

#ifdef BENCH_WITH_DNNL
#define ALG(a) dnnl_eltwise_##a
#else
#define ALG(a) 1
#endif

static const bench_op_t bench_ops[] = {
    {"copy", "linear", ALG(linear), 1.0f, 0.0f},
    {"relu", "relu", ALG(relu), 0.0f, 0.0f},
    {"sigmoid", "sigmoid", ALG(logistic), 0.0f, 0.0f},
    {"tanh", "tanh", ALG(tanh), 0.0f, 0.0f},
    {"gelu", "gelu", ALG(gelu_erf), 0.0f, 0.0f},
    {"gelu_tanh", "gelu_approx", ALG(gelu_tanh), 0.0f, 0.0f},
    {"silu", "silu", ALG(swish), 1.0f, 0.0f},
    {"softplus", "softplus", ALG(soft_relu), 1.0f, 0.0f},
    {"elu", "elu", ALG(elu), 1.0f, 0.0f},
    {"selu", "selu", 0, 0.0f, 0.0f},
    {"mish", "mish", ALG(mish), 0.0f, 0.0f},
    {"log_sigmoid", "log_sigmoid", ALG(logsigmoid), 0.0f, 0.0f},
    {"softmax", "softmax", -1, 0.0f, 0.0f},
};
#define NOPS (sizeof bench_ops / sizeof *bench_ops)


/* ---- contestants ---------------------------------------------------------- */

typedef enum { C_LOOPS, C_DNNL, C_ACT } kind_t;

typedef struct contestant {
  kind_t kind;
  char name[48];
  const loops_fn_t *loops; /* C_LOOPS */
  /* C_ACT */
  act_context_t *ctx;
  act_queue_t *q;
  act_buffer_t *bx, *by;
#ifdef BENCH_WITH_DNNL
  dnnl_engine_t eng;
  dnnl_stream_t stream;
#endif
} contestant_t;

/* One prepared run of one op by one contestant. */
typedef struct job {
  contestant_t *c;
  const bench_op_t *op;
  long n;
  const float *x;
  float *y;
  void (*loop)(const float *, float *, long);
  act_op_desc_t *desc;
  act_arg_t args[2];
#ifdef BENCH_WITH_DNNL
  dnnl_primitive_t prim;
  dnnl_memory_t mx, my;
#endif
  int ok;
  double t[MAX_REPS];
} job_t;

static int job_run(job_t *j) {
  switch (j->c->kind) {
  case C_LOOPS:
    j->loop(j->x, j->y, j->n);
    return 0;
  case C_ACT:
    return act_forward(j->c->q, j->desc, 2, j->args, NULL) ||
           act_queue_finish(j->c->q);
#ifdef BENCH_WITH_DNNL
  case C_DNNL: {
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_SRC, j->mx}, {DNNL_ARG_DST, j->my}};
    return dnnl_primitive_execute(j->prim, j->c->stream, 2, a) !=
               dnnl_success ||
           dnnl_stream_wait(j->c->stream) != dnnl_success;
  }
#endif
  default:
    return 1;
  }
}

/* Sets a job up (and runs it once, which also builds kernels); ok = 0 when
 * the contestant lacks the op. */
static void job_init(job_t *j, contestant_t *c, const bench_op_t *op, long n,
                     const float *x, float *y) {
  memset(j, 0, sizeof *j);
  j->c = c;
  j->op = op;
  j->n = n;
  j->x = x;
  j->y = y;
  long rows = n / LOOPS_SOFTMAX_ROW;
  int softmax = strcmp(op->name, "softmax") == 0;
  if (c->kind == C_LOOPS) {
    for (const loops_fn_t *f = c->loops; f->name; f++)
      if (strcmp(f->name, op->name) == 0)
        j->loop = f->run;
    j->ok = j->loop != NULL;
  } else if (c->kind == C_ACT) {
    if (act_op_desc_create_by_name(op->act, &j->desc))
      return;
    int64_t d1[1] = {n}, d2[2] = {rows, LOOPS_SOFTMAX_ROW};
    act_tensor_t t = softmax ? act_tensor_make(ACT_F32, 2, d2, NULL)
                             : act_tensor_make(ACT_F32, 1, d1, NULL);
    j->args[0].kind = ACT_ARG_X;
    j->args[0].tensor = t;
    j->args[0].tensor.buffer = c->bx;
    j->args[1].kind = ACT_ARG_Y;
    j->args[1].tensor = t;
    j->args[1].tensor.buffer = c->by;
    j->ok = 1;
  }
#ifdef BENCH_WITH_DNNL
  else if (c->kind == C_DNNL && op->dnnl_alg != 0) {
    dnnl_memory_desc_t md;
    dnnl_dims_t d1 = {n}, d2 = {rows, LOOPS_SOFTMAX_ROW};
    if (softmax)
      dnnl_memory_desc_init_by_tag(&md, 2, d2, dnnl_f32, dnnl_ab);
    else
      dnnl_memory_desc_init_by_tag(&md, 1, d1, dnnl_f32, dnnl_a);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s;
    if (softmax) {
      dnnl_softmax_desc_t sd;
      s = dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &md, 1);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&pd, &sd, NULL, c->eng, NULL);
    } else {
      dnnl_eltwise_desc_t ed;
      s = dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference,
                                         (dnnl_alg_kind_t)op->dnnl_alg, &md,
                                         op->alpha, op->beta);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&pd, &ed, NULL, c->eng, NULL);
    }
    if (s == dnnl_success)
      s = dnnl_primitive_create(&j->prim, pd);
    if (pd)
      dnnl_primitive_desc_destroy(pd);
    if (s == dnnl_success)
      s = dnnl_memory_create(&j->mx, &md, c->eng, (void *)x);
    if (s == dnnl_success)
      s = dnnl_memory_create(&j->my, &md, c->eng, y);
    j->ok = s == dnnl_success;
  }
#endif
  if (j->ok && job_run(j)) {
    fprintf(stderr, "bench_ops: %s on %s failed: %s\n", op->name, c->name,
            c->kind == C_ACT ? act_last_error() : "error");
    j->ok = 0;
  }
}

static void job_free(job_t *j) {
  act_op_desc_destroy(j->desc);
#ifdef BENCH_WITH_DNNL
  if (j->prim)
    dnnl_primitive_destroy(j->prim);
  if (j->mx)
    dnnl_memory_destroy(j->mx);
  if (j->my)
    dnnl_memory_destroy(j->my);
#endif
}

/* The inputs the ulp table covers (a multiple of the softmax row). */
#define ULP_N 65536L

/* Runs job j once more and returns its output's max ulp error over the
 * first ULP_N inputs against the reference (-1: no figure). */
static double job_ulp(job_t *j, const float *x, float *y) {
  if (!j->ok || job_run(j))
    return -1.0;
  long un = j->n < ULP_N ? j->n : ULP_N;
  float *got = malloc((size_t)un * sizeof *got);
  float *ref = malloc((size_t)un * sizeof *ref);
  double worst = -1.0;
  if (!got || !ref)
    goto out;
  if (j->c->kind == C_ACT) {
    if (act_buffer_read(j->c->q, j->c->by, 0, (size_t)un * sizeof *got, got,
                        NULL) ||
        act_queue_finish(j->c->q))
      goto out;
  } else {
#ifdef BENCH_WITH_DNNL
    if (j->c->kind == C_DNNL) {
      void *h = NULL;
      if (dnnl_memory_get_data_handle(j->my, &h) != dnnl_success || !h)
        goto out;
      memcpy(got, h, (size_t)un * sizeof *got);
    } else
#endif
      memcpy(got, y, (size_t)un * sizeof *got);
  }
  act_op_desc_t *d;
  if (act_op_desc_create_by_name(j->op->act, &d))
    goto out;
  int softmax = strcmp(j->op->name, "softmax") == 0;
  int64_t d1[1] = {un}, d2[2] = {un / LOOPS_SOFTMAX_ROW, LOOPS_SOFTMAX_ROW};
  act_tensor_t tx = softmax ? act_tensor_make(ACT_F32, 2, d2, (void *)x)
                            : act_tensor_make(ACT_F32, 1, d1, (void *)x);
  act_tensor_t ty = tx;
  ty.data = ref;
  act_arg_t a[2] = {{ACT_ARG_X, tx}, {ACT_ARG_Y, ty}};
  if (!act_reference_forward(d, 2, a)) {
    worst = 0.0;
    for (long i = 0; i < un; i++) {
      double e = act_ulp_error(ACT_F32, got[i], ref[i]);
      worst = e > worst ? e : worst;
    }
  }
  act_op_desc_destroy(d);
out:
  free(got);
  free(ref);
  return worst;
}

static double job_median(job_t *j, int reps) {
  if (!j->ok)
    return 0.0;
  double t[MAX_REPS];
  memcpy(t, j->t, sizeof t);
  double med = bench_median(t, reps);
  return med > 0 ? (double)j->n / med * 1e-9 : 0.0;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void) {
  fputs("usage: bench_ops [--n N]... [--reps R] [--device D]... [OP...]\n"
        "Default: --n 1048576 --n 16777216 --reps 7, every OpenCL and\n"
        "Vulkan device, every op of the table.\n",
        stderr);
}

int main(int argc, char **argv) {
  long sizes[8];
  int nsizes = 0, reps = 7, ndev_req = 0;
  const char *devs_req[8];
  const bench_op_t *ops[NOPS];
  size_t nops = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((!strcmp(a, "--n") || !strcmp(a, "--reps") || !strcmp(a, "--device")) &&
        i + 1 < argc) {
      const char *v = argv[++i];
      if (!strcmp(a, "--n") && nsizes < 8) {
        sizes[nsizes] = strtol(v, NULL, 10);
        if (sizes[nsizes] < LOOPS_SOFTMAX_ROW || sizes[nsizes] % 1024) {
          fprintf(stderr, "bench_ops: --n must be a multiple of 1024\n");
          return 2;
        }
        nsizes++;
      } else if (!strcmp(a, "--reps")) {
        reps = atoi(v);
        if (reps < 1 || reps > MAX_REPS) {
          fprintf(stderr, "bench_ops: --reps must be 1..%d\n", MAX_REPS);
          return 2;
        }
      } else if (ndev_req < 8)
        devs_req[ndev_req++] = v;
      continue;
    }
    size_t k = 0;
    while (k < NOPS && strcmp(bench_ops[k].name, a) != 0)
      k++;
    if (k == NOPS) {
      fprintf(stderr, "bench_ops: unknown op or option '%s'\n", a);
      usage();
      return 2;
    }
    ops[nops++] = &bench_ops[k];
  }
  if (!nsizes) {
    sizes[nsizes++] = 1L << 20;
    sizes[nsizes++] = 1L << 24;
  }
  if (!nops)
    for (size_t k = 0; k < NOPS; k++)
      ops[nops++] = &bench_ops[k];
  long nmax = 0;
  for (int s = 0; s < nsizes; s++)
    nmax = sizes[s] > nmax ? sizes[s] : nmax;

  float *x = malloc((size_t)nmax * sizeof *x);
  float *y = malloc((size_t)nmax * sizeof *y);
  if (!x || !y) {
    fprintf(stderr, "bench_ops: out of memory\n");
    return 1;
  }
  /* A spread of values in [-8, 8] (as actc bench). */
  for (long i = 0; i < nmax; i++)
    x[i] = (float)((i * 7919 % 16001) - 8000) / 1000.0f;
  memset(y, 0, (size_t)nmax * sizeof *y);

  contestant_t cs[MAX_CONTESTANTS];
  int nc = 0;
  memset(cs, 0, sizeof cs);
  cs[nc].kind = C_LOOPS;
  cs[nc].loops = loops_o3_table;
  snprintf(cs[nc++].name, sizeof cs[0].name, "C -O3");
  cs[nc].kind = C_LOOPS;
  cs[nc].loops = loops_fast_table;
  snprintf(cs[nc++].name, sizeof cs[0].name, "C fast-math");
#ifdef BENCH_WITH_SLEEF
  cs[nc].kind = C_LOOPS;
  cs[nc].loops = loops_sleef_table;
  snprintf(cs[nc++].name, sizeof cs[0].name, "SLEEF u10");
#endif
  int dnnl_col = -1;
#ifdef BENCH_WITH_DNNL
  if (dnnl_engine_create(&cs[nc].eng, dnnl_cpu, 0) == dnnl_success &&
      dnnl_stream_create(&cs[nc].stream, cs[nc].eng,
                         dnnl_stream_default_flags) == dnnl_success) {
    const dnnl_version_t *v = dnnl_version();
    cs[nc].kind = C_DNNL;
    snprintf(cs[nc].name, sizeof cs[0].name, "oneDNN %d.%d", v->major,
             v->minor);
    dnnl_col = nc++;
  }
#endif
  size_t ndev = act_device_count();
  for (size_t d = 0; d < ndev && nc < MAX_CONTESTANTS; d++) {
    act_device_info_t info;
    if (act_device_get_info(d, &info) || info.backend == ACT_BACKEND_CPU)
      continue;
    int want = ndev_req == 0;
    for (int k = 0; k < ndev_req; k++)
      want |= strcmp(devs_req[k], info.name) == 0;
    if (!want)
      continue;
    contestant_t *c = &cs[nc];
    c->kind = C_ACT;
    snprintf(c->name, sizeof c->name, "%.40s", info.name);
    size_t bytes = (size_t)nmax * sizeof(float);
    if (act_context_create(info.name, &c->ctx) ||
        act_queue_create(c->ctx, &c->q) ||
        act_buffer_create(c->ctx, bytes, &c->bx) ||
        act_buffer_create(c->ctx, bytes, &c->by) ||
        act_buffer_write(c->q, c->bx, 0, bytes, x, NULL) ||
        act_queue_finish(c->q)) {
      fprintf(stderr, "bench_ops: %s: %s (skipped)\n", info.name,
              act_last_error());
      continue;
    }
    printf("%-12s %s\n", info.name, info.description);
    nc++;
  }

  static job_t jobs[NOPS][MAX_CONTESTANTS];
  for (int s = 0; s < nsizes; s++) {
    long n = sizes[s];
    printf("\nn = %ld f32 elements (softmax: rows of %ld), median of %d "
           "interleaved runs, Gelem/s\n",
           n, LOOPS_SOFTMAX_ROW, reps);
    printf("%-12s", "op");
    for (int c = 0; c < nc; c++)
      printf(" %12s", cs[c].name);
    printf("\n");
    double g[NOPS][MAX_CONTESTANTS], u[NOPS][MAX_CONTESTANTS];
    for (size_t o = 0; o < nops; o++) {
      for (int c = 0; c < nc; c++)
        job_init(&jobs[o][c], &cs[c], ops[o], n, x, y);
      for (int r = 0; r < reps; r++)
        for (int c = 0; c < nc; c++) {
          job_t *j = &jobs[o][c];
          if (!j->ok)
            continue;
          double t0 = bench_now();
          if (job_run(j))
            j->ok = 0;
          j->t[r] = bench_now() - t0;
        }
      printf("%-12s", ops[o]->name);
      for (int c = 0; c < nc; c++) {
        u[o][c] = job_ulp(&jobs[o][c], x, y);
        g[o][c] = job_median(&jobs[o][c], reps);
        if (g[o][c] > 0)
          printf(" %12.3f", g[o][c]);
        else
          printf(" %12s", "-");
        job_free(&jobs[o][c]);
      }
      printf("\n");
      fflush(stdout);
    }
    /* Accuracy beside the speed: each contestant's max ulp error against
     * actkit's double-precision reference (docs/accuracy.md) over the
     * first ULP_N inputs. */
    long un = n < ULP_N ? n : ULP_N;
    printf("\nmax ulp error of each column over the first %ld inputs (in "
           "[-8, 8]), against the double-precision reference (actkit's "
           "bound: 2, softmax 4)\n", un);
    printf("%-12s", "op");
    for (int c = 0; c < nc; c++)
      printf(" %12s", cs[c].name);
    printf("\n");
    for (size_t o = 0; o < nops; o++) {
      printf("%-12s", ops[o]->name);
      for (int c = 0; c < nc; c++)
        if (u[o][c] >= 0)
          printf(" %12.2f", u[o][c]);
        else
          printf(" %12s", "-");
      printf("\n");
    }
    /* Ratios: each actkit device against its own copy and against
     * oneDNN; the C loops against the C copy. */
    size_t copy_row = nops;
    for (size_t o = 0; o < nops; o++)
      if (strcmp(ops[o]->name, "copy") == 0)
        copy_row = o;
    printf("\nratios at n = %ld: each column's op / the same column's copy "
           "(\"/copy\"), and / oneDNN's same op (\"/dnnl\")\n",
           n);
    printf("%-12s", "op");
    for (int c = 0; c < nc; c++) {
      if (cs[c].kind == C_DNNL)
        continue;
      char h[64];
      snprintf(h, sizeof h, "%.6s/copy", cs[c].name);
      printf(" %12s", h);
      if (dnnl_col >= 0) {
        snprintf(h, sizeof h, "%.6s/dnnl", cs[c].name);
        printf(" %12s", h);
      }
    }
    printf("\n");
    for (size_t o = 0; o < nops; o++) {
      printf("%-12s", ops[o]->name);
      for (int c = 0; c < nc; c++) {
        if (cs[c].kind == C_DNNL)
          continue;
        double cp = copy_row < nops ? g[copy_row][c] : 0;
        if (cp > 0 && g[o][c] > 0)
          printf(" %12.2f", g[o][c] / cp);
        else
          printf(" %12s", "-");
        if (dnnl_col >= 0) {
          double dn = g[o][dnnl_col];
          if (dn > 0 && g[o][c] > 0)
            printf(" %12.2f", g[o][c] / dn);
          else
            printf(" %12s", "-");
        }
      }
      printf("\n");
    }
  }

  for (int c = 0; c < nc; c++) {
    if (cs[c].kind == C_ACT) {
      act_buffer_destroy(cs[c].bx);
      act_buffer_destroy(cs[c].by);
      act_queue_destroy(cs[c].q);
      act_context_destroy(cs[c].ctx);
    }
#ifdef BENCH_WITH_DNNL
    if (cs[c].kind == C_DNNL) {
      dnnl_stream_destroy(cs[c].stream);
      dnnl_engine_destroy(cs[c].eng);
    }
#endif
  }
  free(x);
  free(y);
  return 0;
}
