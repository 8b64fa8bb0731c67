/*
 * backend.c - the cpu backend: the reference behind the backend interface.
 *
 * Buffers are host memory; queues run each operation at once, in the
 * caller's thread, so every event is complete when it is returned (the
 * interface allows that: NULL events mean "already done").
 */
#include "../core/internal.h"

#include <stdlib.h>
#include <string.h>

static const act__backend_t act__cpu_backend;

static act_status_t cpu_enumerate(void) {
  act_device_info_t info;
  memset(&info, 0, sizeof info);
  snprintf(info.name, sizeof info.name, "cpu");
  snprintf(info.description, sizeof info.description,
           "actkit reference (double precision, host)");
  snprintf(info.driver_version, sizeof info.driver_version, "%s",
           act_version());
  info.backend = ACT_BACKEND_CPU;
  info.type = ACT_DEVICE_REFERENCE;
  info.fp16 = 1; /* f16/bf16 are converted exactly in software */
  info.bf16 = 1;
  return act__device_add(&act__cpu_backend, &info, NULL);
}

static act_status_t cpu_context_create(const act__device_t *dev, void **st) {
  (void)dev;
  *st = NULL;
  return ACT_OK;
}

static void cpu_context_destroy(void *st) { (void)st; }

static act_status_t cpu_supports(void *st, const act__call_t *c) {
  (void)st, (void)c;
  return ACT_OK; /* the reference runs every op on every dtype */
}

static act_status_t cpu_buffer_create(void *st, size_t bytes, void **buf) {
  (void)st;
  /* Round up so that aligned_alloc's size rule holds. */
  size_t n = (bytes + 63) / 64 * 64;
  void *p = n >= bytes ? aligned_alloc(64, n) : NULL;
  if (!p)
    return act__fail(ACT_OUT_OF_MEMORY, "cpu: cannot allocate %zu bytes",
                     bytes);
  *buf = p;
  return ACT_OK;
}

static void cpu_buffer_destroy(void *st, void *buf) {
  (void)st;
  free(buf);
}

static void *cpu_buffer_host_ptr(void *buf) { return buf; }

static act_status_t cpu_queue_create(void *st, void **q) {
  (void)st;
  *q = (void *)&act__cpu_backend; /* stateless: any non-NULL token */
  return ACT_OK;
}

static void cpu_queue_destroy(void *q) { (void)q; }

static act_status_t cpu_write(void *q, void *buf, size_t off, size_t bytes,
                              const void *src, void **ev) {
  (void)q;
  memcpy((char *)buf + off, src, bytes);
  *ev = NULL;
  return ACT_OK;
}

static act_status_t cpu_read(void *q, void *buf, size_t off, size_t bytes,
                             void *dst, void **ev) {
  (void)q;
  memcpy(dst, (const char *)buf + off, bytes);
  *ev = NULL;
  return ACT_OK;
}

static act_status_t cpu_forward(void *q, const act__call_t *c, void **ev) {
  (void)q;
  /* The same call over host pointers into the buffers. */
  act_tensor_t t[ACT_ARG_COUNT];
  act__call_t hc = *c;
  for (int k = 0; k < ACT_ARG_COUNT; k++) {
    if (!c->arg[k])
      continue;
    t[k] = *c->arg[k];
    t[k].data = t[k].buffer ? (char *)t[k].buffer->handle + t[k].offset
                            : NULL;
    hc.arg[k] = &t[k];
  }
  *ev = NULL;
  return act__reference_run(&hc);
}

static act_status_t cpu_dense(void *q, const act__dense_t *c, void **ev) {
  (void)q;
  /* The same call over host pointers into the buffers. */
  const act_tensor_t *in[5] = {c->x, c->w, c->bias, c->y, c->z};
  act_tensor_t t[5];
  for (int i = 0; i < 5; i++)
    if (in[i]) {
      t[i] = *in[i];
      t[i].data = (char *)t[i].buffer->handle + t[i].offset;
    }
  act__dense_t hc = *c;
  hc.x = &t[0], hc.w = &t[1], hc.y = &t[3];
  hc.bias = c->bias ? &t[2] : NULL;
  hc.z = c->z ? &t[4] : NULL;
  *ev = NULL;
  return act__reference_dense(&hc);
}

static act_status_t cpu_nothing(void *q) {
  (void)q;
  return ACT_OK;
}

static act_status_t cpu_wait_event(void *q, void *ev) {
  (void)q, (void)ev;
  return ACT_OK;
}

static act_status_t cpu_event_wait(void *ev) {
  (void)ev;
  return ACT_OK;
}

static int cpu_event_done(void *ev) {
  (void)ev;
  return 1;
}

static void cpu_event_release(void *ev) { (void)ev; }

static const act__backend_t act__cpu_backend = {
    .name = "cpu",
    .enumerate = cpu_enumerate,
    .context_create = cpu_context_create,
    .context_destroy = cpu_context_destroy,
    .supports = cpu_supports,
    .buffer_create = cpu_buffer_create,
    .buffer_destroy = cpu_buffer_destroy,
    .buffer_host_ptr = cpu_buffer_host_ptr,
    .queue_create = cpu_queue_create,
    .queue_destroy = cpu_queue_destroy,
    .write = cpu_write,
    .read = cpu_read,
    .forward = cpu_forward,
    .backward = cpu_forward, /* act__reference_run follows call->backward */
    .dense = cpu_dense,
    .wait_event = cpu_wait_event,
    .flush = cpu_nothing,
    .finish = cpu_nothing,
    .event_wait = cpu_event_wait,
    .event_done = cpu_event_done,
    .event_release = cpu_event_release,
};

const act__backend_t *act__cpu_backend_get(void) { return &act__cpu_backend; }
