/*
 * test_threads.c - several threads, each with its own queue, on one shared
 * context per device, enqueueing small ops asynchronously and checking
 * every result against the reference (docs/runtime.md: a context may be shared by
 * many threads; a queue is used by one thread at a time).
 *
 * Runs for $ACTKIT_STRESS_SECONDS seconds per device (default 2) with
 * $ACTKIT_STRESS_THREADS threads (default 8).
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const act_op_t ops[] = {ACT_OP_RELU, ACT_OP_GELU, ACT_OP_SILU,
                               ACT_OP_TANH, ACT_OP_SIGMOID, ACT_OP_ELU,
                               ACT_OP_SOFTPLUS, ACT_OP_MISH};

typedef struct {
  act_context_t *ctx;
  const char *dev;
  double seconds;
  unsigned seed;
  atomic_int *failures;
  long ops_done;
} worker_t;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *work(void *arg) {
  worker_t *w = arg;
  act_queue_t *q = NULL;
  if (act_queue_create(w->ctx, &q)) {
    atomic_fetch_add(w->failures, 1);
    fprintf(stderr, "%s: queue: %s\n", w->dev, act_last_error());
    return NULL;
  }
  act_op_desc_t *descs[sizeof ops / sizeof *ops];
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    act_op_desc_create(ops[i], &descs[i]);
  enum { BATCH = 8, MAXN = 333 };
  float x[BATCH][MAXN], y[BATCH][MAXN], r[MAXN];
  act_buffer_t *bx = NULL, *by = NULL;
  act_buffer_create(w->ctx, BATCH * MAXN * 4, &bx);
  act_buffer_create(w->ctx, BATCH * MAXN * 4, &by);
  double end = now() + w->seconds;
  unsigned s = w->seed;
  while (now() < end && bx && by) {
    /* A batch of ops enqueued back to back, then one wait. */
    size_t opi[BATCH];
    int64_t n[BATCH];
    act_event_t *last = NULL;
    for (int b = 0; b < BATCH; b++) {
      s = s * 1103515245u + 12345u;
      opi[b] = (s >> 16) % (sizeof ops / sizeof *ops);
      n[b] = 1 + (int64_t)((s >> 8) % MAXN);
      for (int64_t i = 0; i < n[b]; i++) {
        s = s * 1103515245u + 12345u;
        x[b][i] = ((float)((s >> 8) & 0xffff) / 65536.0f - 0.5f) * 40.0f;
      }
      act_tensor_t tx = act_tensor_make(ACT_F32, 1, &n[b], NULL);
      tx.buffer = bx;
      tx.offset = (size_t)b * MAXN * 4;
      act_tensor_t ty = tx;
      ty.buffer = by;
      act_arg_t a[2] = {{ACT_ARG_X, tx}, {ACT_ARG_Y, ty}};
      act_status_t st =
          act_buffer_write(q, bx, tx.offset, (size_t)n[b] * 4, x[b], NULL);
      if (!st)
        st = act_forward(q, descs[opi[b]], 2, a, NULL);
      if (!st) {
        if (last)
          act_event_destroy(last);
        last = NULL;
        st = act_buffer_read(q, by, ty.offset, (size_t)n[b] * 4, y[b], &last);
      }
      if (st) {
        atomic_fetch_add(w->failures, 1);
        fprintf(stderr, "%s: enqueue: %s\n", w->dev, act_last_error());
        break;
      }
    }
    act_status_t st = last ? act_event_wait(last) : ACT_OK;
    act_event_destroy(last);
    if (!st)
      st = act_queue_finish(q);
    if (st) {
      atomic_fetch_add(w->failures, 1);
      fprintf(stderr, "%s: wait: %s\n", w->dev, act_last_error());
      break;
    }
    for (int b = 0; b < BATCH; b++) {
      act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, &n[b], x[b])},
                        {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, &n[b], r)}};
      act_reference_forward(descs[opi[b]], 2, a);
      for (int64_t i = 0; i < n[b]; i++)
        if (act_ulp_error(ACT_F32, y[b][i], r[i]) > 2.0) {
          atomic_fetch_add(w->failures, 1);
          fprintf(stderr, "%s: %s(%.9g) = %.9g, want %.9g\n", w->dev,
                  act_op_info(ops[opi[b]])->name, x[b][i], y[b][i], r[i]);
          break;
        }
      w->ops_done++;
    }
  }
  act_buffer_destroy(bx);
  act_buffer_destroy(by);
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    act_op_desc_destroy(descs[i]);
  act_queue_destroy(q);
  return NULL;
}

int main(void) {
  const char *es = getenv("ACTKIT_STRESS_SECONDS");
  const char *et = getenv("ACTKIT_STRESS_THREADS");
  double seconds = es ? atof(es) : 2.0;
  int nthreads = et ? atoi(et) : 8;
  if (nthreads < 1 || nthreads > 64)
    nthreads = 8;
  for (size_t d = 0; d < act_device_count(); d++) {
    act_device_info_t info;
    CHECK_OK(act_device_get_info(d, &info));
    act_context_t *ctx;
    act_status_t st = act_context_create(info.name, &ctx);
    CHECK(st == ACT_OK, "%s: %s", info.name, act_last_error());
    if (st)
      continue;
    atomic_int failures = 0;
    pthread_t th[64];
    worker_t w[64];
    for (int i = 0; i < nthreads; i++) {
      w[i] = (worker_t){ctx, info.name, seconds, 7u + 31u * (unsigned)i,
                        &failures, 0};
      CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0, "pthread_create");
    }
    long total = 0;
    for (int i = 0; i < nthreads; i++) {
      pthread_join(th[i], NULL);
      total += w[i].ops_done;
    }
    CHECK(failures == 0, "%s: %d failures", info.name, (int)failures);
    CHECK(total > 0, "%s: no op completed", info.name);
    printf("%s: %d threads, %ld ops checked in %.1f s\n", info.name,
           nthreads, total, seconds);
    act_context_destroy(ctx);
  }
  return act_test_finish("test_threads");
}
