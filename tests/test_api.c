/*
 * test_api.c - the runtime API on the cpu device: version, status names,
 * device enumeration and lookup (with $ACTKIT_DEVICE), contexts, buffers,
 * queues and events, act_forward over device buffers and act_forward_host
 * against the reference, cross-context misuse, act_op_check, that every
 * _destroy accepts NULL (docs/runtime.md; the conventions in actkit.h),
 * and the ABI rule: structs of an older (smaller) or newer (larger) size
 * than this header's still work through the _ex entries.
 */
#include "testutil.h"

#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int contains(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

static void test_version(void) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", ACT_VERSION_MAJOR,
           ACT_VERSION_MINOR, ACT_VERSION_PATCH);
  CHECK(act_version() && strcmp(act_version(), want) == 0,
        "act_version() = '%s', macros say '%s'", act_version(), want);
  CHECK(act_version_hex() == (unsigned)ACT_VERSION_HEX,
        "act_version_hex() = 0x%06x, ACT_VERSION_HEX = 0x%06x",
        act_version_hex(), (unsigned)ACT_VERSION_HEX);
  CHECK(ACT_VERSION_HEX == ((ACT_VERSION_MAJOR << 16) |
                            (ACT_VERSION_MINOR << 8) | ACT_VERSION_PATCH),
        "ACT_VERSION_HEX layout");
}

static void test_status(void) {
  int n = 0;
#define ACT_TEST_STATUS_(name, code, desc)                                    \
  n++;                                                                        \
  CHECK((int)ACT_##name == code, "ACT_" #name " = %d", (int)ACT_##name);      \
  CHECK(strcmp(act_status_name(ACT_##name), "ACT_" #name) == 0,               \
        "act_status_name(%d) = '%s'", code, act_status_name(ACT_##name));     \
  CHECK(strcmp(act_status_string(ACT_##name), desc) == 0,                     \
        "act_status_string(%d) = '%s'", code, act_status_string(ACT_##name));
  ACT_STATUS_MAP(ACT_TEST_STATUS_)
#undef ACT_TEST_STATUS_
  CHECK(n == 14, "%d statuses", n);
  CHECK(ACT_OK == 0, "ACT_OK is not 0");
  CHECK(strcmp(act_status_name((act_status_t)99), "ACT_UNKNOWN_STATUS") == 0,
        "act_status_name(99) = '%s'", act_status_name((act_status_t)99));
  CHECK(act_status_string((act_status_t)-1) != NULL &&
            *act_status_string((act_status_t)-1),
        "act_status_string(-1) is empty");
}

static void test_devices(void) {
  size_t n = act_device_count();
  CHECK(n >= 1, "act_device_count() = %zu", n);
  act_device_info_t info;
  memset(&info, 0, sizeof info);
  CHECK_OK(act_device_get_info(0, &info));
  CHECK(strcmp(info.name, "cpu") == 0, "device 0 is '%s'", info.name);
  CHECK(info.type == ACT_DEVICE_REFERENCE, "device 0 type %d", (int)info.type);
  CHECK(info.backend == ACT_BACKEND_CPU, "device 0 backend %d",
        (int)info.backend);
  CHECK(info.description[0] != '\0', "cpu has no description");
  size_t best = 0;
  int best_rank = -1;
  for (size_t i = 0; i < n; i++) {
    act_device_info_t d;
    CHECK_OK(act_device_get_info(i, &d));
    CHECK(d.name[0] != '\0' && act_backend_name(d.backend) &&
              act_device_type_name(d.type),
          "device %zu is not described", i);
    if (d.rank > best_rank) {
      best_rank = d.rank;
      best = i;
    }
    for (size_t j = 0; j < i; j++) {
      act_device_info_t e;
      if (act_device_get_info(j, &e) == ACT_OK)
        CHECK(strcmp(d.name, e.name) != 0, "two devices named '%s'", d.name);
    }
    /* Every device is found by its own name. */
    size_t idx = 999;
    CHECK_OK(act_device_find(d.name, &idx));
    CHECK(idx == i, "act_device_find('%s') = %zu, expected %zu", d.name, idx,
          i);
  }
  act_status_t st = act_device_get_info(n, &info);
  CHECK(st == ACT_NO_DEVICE && *act_last_error(),
        "act_device_get_info(count) -> %s", act_status_name(st));

  CHECK(strcmp(act_backend_name(ACT_BACKEND_CPU), "cpu") == 0 &&
            strcmp(act_backend_name(ACT_BACKEND_OPENCL), "opencl") == 0 &&
            strcmp(act_backend_name(ACT_BACKEND_VULKAN), "vulkan") == 0 &&
            act_backend_name(ACT_BACKEND_COUNT) == NULL,
        "act_backend_name");
  CHECK(act_device_type_name(ACT_DEVICE_REFERENCE) &&
            act_device_type_name(ACT_DEVICE_DISCRETE_GPU) &&
            act_device_type_name((act_device_type_t)42) == NULL,
        "act_device_type_name");

  /* Lookup by string. */
  unsetenv("ACTKIT_DEVICE");
  size_t idx = 999;
  CHECK_OK(act_device_find("cpu", &idx));
  CHECK(idx == 0, "act_device_find('cpu') = %zu", idx);
  idx = 999;
  CHECK_OK(act_device_find("auto", &idx));
  CHECK(idx == best, "auto picked %zu, the highest rank is %zu", idx, best);
  idx = 999;
  CHECK_OK(act_device_find(NULL, &idx));
  CHECK(idx == best, "NULL picked %zu, the highest rank is %zu", idx, best);
  static const char *const junk[] = {"nonsense", "opencl:99", "vulkan:99",
                                     "opencl:x", "vulkan:-1", "cpuu"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
    idx = 777;
    st = act_device_find(junk[i], &idx);
    CHECK(st == ACT_NO_DEVICE, "act_device_find('%s') -> %s", junk[i],
          act_status_name(st));
    CHECK(contains(act_last_error(), junk[i]),
          "act_device_find('%s'): message '%s' does not name it", junk[i],
          act_last_error());
    CHECK(idx == 777, "a failed act_device_find wrote its index");
  }

  /* $ACTKIT_DEVICE steers "auto" (and only "auto"). */
  setenv("ACTKIT_DEVICE", "cpu", 1);
  idx = 999;
  CHECK_OK(act_device_find("auto", &idx));
  CHECK(idx == 0, "ACTKIT_DEVICE=cpu: auto picked %zu", idx);
  idx = 999;
  CHECK_OK(act_device_find(NULL, &idx));
  CHECK(idx == 0, "ACTKIT_DEVICE=cpu: NULL picked %zu", idx);
  setenv("ACTKIT_DEVICE", "junk", 1);
  st = act_device_find("auto", &idx);
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", act_last_error());
  CHECK(st == ACT_NO_DEVICE, "ACTKIT_DEVICE=junk: auto -> %s",
        act_status_name(st));
  CHECK(contains(msg, "ACTKIT_DEVICE") && contains(msg, "junk"),
        "ACTKIT_DEVICE=junk: message '%s' names neither", msg);
  /* The message also says why (the inner lookup's reason), once. */
  CHECK(contains(msg, "unknown device name"),
        "ACTKIT_DEVICE=junk: message '%s' lost the reason", msg);
  CHECK(strlen(msg) < 300, "ACTKIT_DEVICE=junk: message of %zu chars: '%s'",
        strlen(msg), msg);
  act_context_t *ctx = NULL;
  st = act_context_create("auto", &ctx);
  CHECK(st == ACT_NO_DEVICE && ctx == NULL,
        "ACTKIT_DEVICE=junk: act_context_create(auto) -> %s",
        act_status_name(st));
  idx = 999;
  CHECK_OK(act_device_find("cpu", &idx)); /* explicit names ignore it */
  CHECK(idx == 0, "explicit cpu with ACTKIT_DEVICE=junk: %zu", idx);
  setenv("ACTKIT_DEVICE", "auto", 1);
  idx = 999;
  CHECK_OK(act_device_find("auto", &idx));
  CHECK(idx == best, "ACTKIT_DEVICE=auto: picked %zu", idx);
  /* ACTKIT_DEVICE=opencl / vulkan: auto picks that backend's best device,
   * or fails, naming the variable, when the backend has none. */
  for (int b = ACT_BACKEND_OPENCL; b < ACT_BACKEND_COUNT; b++) {
    const char *bn = act_backend_name((act_backend_t)b);
    size_t have = SIZE_MAX;
    for (size_t i = 0; i < act_device_count(); i++) {
      act_device_info_t di;
      act_device_get_info(i, &di);
      if ((int)di.backend == b && have == SIZE_MAX)
        have = i;
    }
    setenv("ACTKIT_DEVICE", bn, 1);
    idx = 999;
    st = act_device_find("auto", &idx);
    if (have == SIZE_MAX) {
      CHECK(st == ACT_NO_DEVICE && contains(act_last_error(), "ACTKIT_DEVICE"),
            "ACTKIT_DEVICE=%s without such a device: %s '%s'", bn,
            act_status_name(st), act_last_error());
    } else {
      act_device_info_t di;
      CHECK(st == ACT_OK, "ACTKIT_DEVICE=%s: %s", bn, act_last_error());
      CHECK(!act_device_get_info(idx, &di) && (int)di.backend == b,
            "ACTKIT_DEVICE=%s: auto picked %zu", bn, idx);
      act_context_t *c = NULL;
      CHECK_OK(act_context_create(NULL, &c));
      act_device_info_t ci;
      CHECK(c && !act_context_get_device(c, &ci) && (int)ci.backend == b,
            "ACTKIT_DEVICE=%s: a default context is not on it", bn);
      act_context_destroy(c);
    }
  }
  unsetenv("ACTKIT_DEVICE");
}

/* Runs op on host arrays with the reference and returns the status. */
static act_status_t ref(const act_op_desc_t *d, size_t n, const act_arg_t *a) {
  act_status_t st = act_reference_forward(d, n, a);
  CHECK(st == ACT_OK, "reference: %s", act_last_error());
  return st;
}

static void test_buffers_and_queues(act_context_t *ctx) {
  act_device_info_t info;
  CHECK_OK(act_context_get_device(ctx, &info));
  CHECK(strcmp(info.name, "cpu") == 0, "context device '%s'", info.name);

  act_buffer_t *buf = (act_buffer_t *)&info;
  act_status_t st = act_buffer_create(ctx, 0, &buf);
  CHECK(st != ACT_OK && *act_last_error(), "a buffer of 0 bytes -> %s",
        act_status_name(st));
  CHECK(buf == (act_buffer_t *)&info, "a failed create wrote *buf");
  buf = NULL;
  st = act_buffer_create(ctx, SIZE_MAX - 8, &buf);
  CHECK(st == ACT_OUT_OF_MEMORY && buf == NULL,
        "a buffer of SIZE_MAX - 8 bytes -> %s", act_status_name(st));

  act_buffer_t *b = NULL;
  act_queue_t *q = NULL, *q2 = NULL;
  CHECK_OK(act_buffer_create(ctx, 256, &b));
  CHECK_OK(act_queue_create(ctx, &q));
  CHECK_OK(act_queue_create(ctx, &q2));
  if (!b || !q || !q2)
    goto out;
  CHECK(act_buffer_size(b) == 256, "act_buffer_size = %zu",
        act_buffer_size(b));

  unsigned char src[256], dst[256];
  for (int i = 0; i < 256; i++)
    src[i] = (unsigned char)(i * 7 + 3);
  act_event_t *ev = NULL;
  CHECK_OK(act_buffer_write(q, b, 0, 256, src, &ev));
  CHECK(ev != NULL, "act_buffer_write gave no event");
  if (ev) {
    CHECK_OK(act_event_wait(ev));
    CHECK(act_event_done(ev) == 1, "event not done after wait");
    CHECK_OK(act_event_wait(ev)); /* waiting twice is fine */
    /* Another queue of the context may wait for it. */
    CHECK_OK(act_queue_wait_event(q2, ev));
    act_event_destroy(ev);
  }
  memset(dst, 0, sizeof dst);
  ev = NULL;
  CHECK_OK(act_buffer_read(q2, b, 0, 256, dst, &ev));
  CHECK(ev != NULL, "act_buffer_read gave no event");
  if (ev) {
    CHECK_OK(act_event_wait(ev));
    CHECK(act_event_done(ev) == 1, "read event not done");
    act_event_destroy(ev);
  }
  CHECK(memcmp(src, dst, 256) == 0, "read back differs from what was written");

  /* Partial transfers at an offset; NULL event allowed. */
  unsigned char part[16];
  memset(part, 0xee, sizeof part);
  CHECK_OK(act_buffer_write(q, b, 100, 16, part, NULL));
  CHECK_OK(act_queue_flush(q));
  CHECK_OK(act_queue_finish(q));
  CHECK_OK(act_buffer_read(q, b, 96, 24, dst, NULL));
  CHECK_OK(act_queue_finish(q));
  CHECK(memcmp(dst, src + 96, 4) == 0 && memcmp(dst + 4, part, 16) == 0 &&
            memcmp(dst + 20, src + 116, 4) == 0,
        "partial write/read at offset 100");
  /* Zero bytes at the end is fine. */
  CHECK_OK(act_buffer_write(q, b, 256, 0, src, NULL));

  /* Out of range: an error, and no event. */
  static const struct {
    size_t off, bytes;
  } bad[] = {{0, 257}, {250, 7}, {257, 0}, {8, SIZE_MAX}, {SIZE_MAX, 2}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ev = NULL;
    st = act_buffer_write(q, b, bad[i].off, bad[i].bytes, src, &ev);
    CHECK(st != ACT_OK && *act_last_error(),
          "write of %zu bytes at %zu -> %s", bad[i].bytes, bad[i].off,
          act_status_name(st));
    CHECK(ev == NULL, "a failed write returned an event");
    st = act_buffer_read(q, b, bad[i].off, bad[i].bytes, dst, &ev);
    CHECK(st != ACT_OK && *act_last_error(), "read of %zu bytes at %zu -> %s",
          bad[i].bytes, bad[i].off, act_status_name(st));
    CHECK(ev == NULL, "a failed read returned an event");
  }

  /* A buffer and an event of another context are refused. */
  act_context_t *other = NULL;
  CHECK_OK(act_context_create("cpu", &other));
  if (other) {
    act_buffer_t *ob = NULL;
    act_queue_t *oq = NULL;
    CHECK_OK(act_buffer_create(other, 64, &ob));
    CHECK_OK(act_queue_create(other, &oq));
    ev = NULL;
    st = act_buffer_write(q, ob, 0, 16, src, &ev);
    CHECK(st == ACT_INVALID_ARGUMENT && ev == NULL &&
              contains(act_last_error(), "context"),
          "write to another context's buffer -> %s (%s)", act_status_name(st),
          act_last_error());
    st = act_buffer_read(q, ob, 0, 16, dst, &ev);
    CHECK(st == ACT_INVALID_ARGUMENT && ev == NULL,
          "read from another context's buffer -> %s", act_status_name(st));
    act_event_t *oev = NULL;
    CHECK_OK(act_buffer_write(oq, ob, 0, 16, src, &oev));
    if (oev) {
      st = act_queue_wait_event(q, oev);
      CHECK(st == ACT_INVALID_ARGUMENT && *act_last_error(),
            "waiting on another context's event -> %s", act_status_name(st));
      act_event_destroy(oev);
    }
    /* act_forward with one operand in another context's buffer. */
    act_op_desc_t *d = NULL;
    CHECK_OK(act_op_desc_create(ACT_OP_RELU, &d));
    int64_t n4[1] = {4};
    act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, n4, NULL)},
                      {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, n4, NULL)}};
    a[0].tensor.buffer = b;
    a[1].tensor.buffer = ob;
    ev = NULL;
    st = act_forward(q, d, 2, a, &ev);
    CHECK(st == ACT_INVALID_ARGUMENT && ev == NULL &&
              contains(act_last_error(), "context"),
          "act_forward with another context's buffer -> %s (%s)",
          act_status_name(st), act_last_error());
    act_op_desc_destroy(d);
    act_queue_destroy(oq);
    act_buffer_destroy(ob);
    act_context_destroy(other);
  }
out:
  act_queue_destroy(q2);
  act_queue_destroy(q);
  act_buffer_destroy(b);
}

/* One op over device buffers: x uploaded into one buffer, y (and other
 * operands) in others, at non-zero offsets; the result read back must equal
 * the reference on host arrays bit for bit. */
static void test_forward(act_context_t *ctx) {
  enum { N = 1000 };
  act_queue_t *q = NULL;
  act_buffer_t *bx = NULL, *by = NULL;
  CHECK_OK(act_queue_create(ctx, &q));
  CHECK_OK(act_buffer_create(ctx, 64 + N * 4, &bx));
  CHECK_OK(act_buffer_create(ctx, 128 + N * 4, &by));
  float x[N];
  for (int i = 0; i < N; i++)
    x[i] = -12.0f + 24.0f * (float)i / N;
  x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[3] = -0.0f;
  if (!q || !bx || !by)
    goto out;

  static const struct {
    const char *op, *params;
    act_dtype_t t;
    int ndim;
    int64_t dims[2];
  } cases[] = {
      {"gelu", "", ACT_F32, 1, {N, 0}},
      {"gelu", "approximate=1", ACT_F16, 2, {10, 100}},
      {"sigmoid", "", ACT_BF16, 1, {N, 0}},
      {"softmax", "", ACT_F32, 2, {8, 125}},
      {"log_softmax", "axis=0", ACT_F16, 2, {8, 125}},
      {"standardize", "", ACT_F32, 2, {4, 250}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    act_op_desc_t *d = NULL;
    act_status_t st = act_test_desc(cases[c].op, cases[c].params, &d);
    CHECK(st == ACT_OK, "%s: %s", cases[c].op, act_last_error());
    if (st)
      continue;
    act_dtype_t t = cases[c].t;
    size_t bytes = N * act_dtype_size(t);
    unsigned char xs[N * 4], yd[N * 4], yr[N * 4];
    CHECK_OK(act_convert(ACT_F32, x, t, xs, N));
    memset(yd, 0x11, sizeof yd);
    memset(yr, 0x22, sizeof yr);

    act_event_t *ew = NULL, *ef = NULL, *er = NULL;
    CHECK_OK(act_buffer_write(q, bx, 64, bytes, xs, &ew));
    act_arg_t a[2];
    a[0].kind = ACT_ARG_X;
    a[0].tensor = act_tensor_make(t, cases[c].ndim, cases[c].dims, NULL);
    a[0].tensor.buffer = bx;
    a[0].tensor.offset = 64;
    a[1].kind = ACT_ARG_Y;
    a[1].tensor = a[0].tensor;
    a[1].tensor.buffer = by;
    a[1].tensor.offset = 128;
    CHECK_OK(act_forward(q, d, 2, a, &ef));
    CHECK(ef != NULL, "act_forward gave no event");
    CHECK_OK(act_buffer_read(q, by, 128, bytes, yd, &er));
    if (er)
      CHECK_OK(act_event_wait(er));
    if (ef) {
      CHECK_OK(act_event_wait(ef));
      CHECK(act_event_done(ef) == 1, "forward event not done");
    }
    act_event_destroy(ew);
    act_event_destroy(ef);
    act_event_destroy(er);

    a[0].tensor.buffer = a[1].tensor.buffer = NULL;
    a[0].tensor.offset = a[1].tensor.offset = 0;
    a[0].tensor.data = xs;
    a[1].tensor.data = yr;
    if (!ref(d, 2, a))
      CHECK(memcmp(yd, yr, bytes) == 0,
            "%s %s on device buffers differs from the reference", cases[c].op,
            act_dtype_name(t));
    /* act_forward_host: the same again, synchronously. */
    memset(yd, 0x33, sizeof yd);
    a[1].tensor.data = yd;
    CHECK_OK(act_forward_host(ctx, d, 2, a));
    CHECK(memcmp(yd, yr, bytes) == 0,
          "%s %s act_forward_host differs from the reference", cases[c].op,
          act_dtype_name(t));
    /* act_op_check agrees that this call is valid, and nothing ran. */
    memset(yd, 0x44, sizeof yd);
    CHECK_OK(act_op_check(d, 2, a));
    CHECK(yd[0] == 0x44 && yd[bytes - 1] == 0x44, "act_op_check wrote y");
    act_op_desc_destroy(d);
  }

  /* Operands beyond the plain x and y: a softmax mask and logsumexp's
   * sign, each in its own buffer, through act_forward_host and on the
   * queue. */
  {
    act_op_desc_t *d = NULL;
    CHECK_OK(act_test_desc("logsumexp", "return_sign=1", &d));
    float xb[12], b[4] = {1, -2, 0.5f, 0}, yh[3], sh[3], yr2[3], sr[3];
    for (int i = 0; i < 12; i++)
      xb[i] = (float)(i % 5) - 2.0f;
    int64_t xd[2] = {3, 4}, bd[1] = {4}, yd3[1] = {3};
    act_arg_t a[4] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 2, xd, xb)},
                      {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, yd3, yh)},
                      {ACT_ARG_B, act_tensor_make(ACT_F32, 1, bd, b)},
                      {ACT_ARG_SIGN, act_tensor_make(ACT_F32, 1, yd3, sh)}};
    if (d)
      CHECK_OK(act_forward_host(ctx, d, 4, a));
    a[1].tensor.data = yr2;
    a[3].tensor.data = sr;
    if (d && !ref(d, 4, a))
      CHECK(memcmp(yh, yr2, sizeof yh) == 0 && memcmp(sh, sr, sizeof sh) == 0,
            "logsumexp with b and sign: act_forward_host differs");
    act_op_desc_destroy(d);
  }

  /* Misplaced device tensors are refused before anything runs. */
  {
    act_op_desc_t *d = NULL;
    CHECK_OK(act_op_desc_create(ACT_OP_EXP, &d));
    int64_t n[1] = {N};
    act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, n, NULL)},
                      {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, n, NULL)}};
    a[0].tensor.buffer = bx;
    a[1].tensor.buffer = by;
    a[0].tensor.offset = 65; /* 4000 bytes from there run past the end */
    act_event_t *ev = NULL;
    act_status_t st = act_forward(q, d, 2, a, &ev);
    CHECK(st == ACT_BAD_SHAPE && ev == NULL, "x past its buffer -> %s",
          act_status_name(st));
    a[0].tensor.offset = 2; /* not a multiple of 4 */
    st = act_forward(q, d, 2, a, &ev);
    CHECK(st == ACT_INVALID_ARGUMENT && ev == NULL,
          "misaligned offset -> %s (%s)", act_status_name(st),
          act_last_error());
    a[0].tensor.offset = 0;
    a[1].tensor.buffer = NULL;
    st = act_forward(q, d, 2, a, &ev);
    CHECK(st == ACT_NULL_POINTER && ev == NULL, "y without buffer -> %s",
          act_status_name(st));
    act_op_desc_destroy(d);
  }
  CHECK_OK(act_queue_finish(q));
out:
  act_queue_destroy(q);
  act_buffer_destroy(bx);
  act_buffer_destroy(by);
}

/* The error message is per thread: a failure in another thread does not
 * change this thread's message, and the reference runs from several
 * threads at once with the same results. */
static act_status_t thread_status;
static char thread_msg[256];
static float thread_y[4096];

static void *thread_main(void *arg) {
  (void)arg;
  act_op_t op;
  thread_status = act_op_lookup("thread_only_op", &op);
  snprintf(thread_msg, sizeof thread_msg, "%s", act_last_error());
  float x[4096];
  for (int i = 0; i < 4096; i++)
    x[i] = (float)i / 512.0f - 4.0f;
  act_test_run1d(NULL, "mish", NULL, ACT_F32, x, thread_y, 4096);
  return NULL;
}

static void test_threads(void) {
  act_op_t op;
  act_status_t st = act_op_lookup("main_only_op", &op);
  CHECK(st == ACT_UNKNOWN_OP, "lookup -> %s", act_status_name(st));
  pthread_t th;
  float x[4096], y[4096];
  for (int i = 0; i < 4096; i++)
    x[i] = (float)i / 512.0f - 4.0f;
  if (pthread_create(&th, NULL, thread_main, NULL) != 0) {
    CHECK(0, "pthread_create failed");
    return;
  }
  CHECK_OK(act_test_run1d(NULL, "mish", NULL, ACT_F32, x, y, 4096));
  pthread_join(th, NULL);
  CHECK(thread_status == ACT_UNKNOWN_OP &&
            contains(thread_msg, "thread_only_op"),
        "thread's message: '%s'", thread_msg);
  st = act_op_lookup("main_only_op", &op);
  CHECK(contains(act_last_error(), "main_only_op") &&
            !contains(act_last_error(), "thread_only_op"),
        "main thread's message: '%s'", act_last_error());
  CHECK(memcmp(y, thread_y, sizeof y) == 0,
        "mish from two threads differs");
}

/* Callers built against other versions of actkit.h (actkit.h, "ABI"). */
static void test_abi(act_context_t *ctx) {
  /* An older act_device_info_t that ends before driver_version: the
   * library writes only that much, and says so in size. */
  unsigned char buf[sizeof(act_device_info_t) + 64];
  size_t old = offsetof(act_device_info_t, driver_version);
  memset(buf, 0xab, sizeof buf);
  CHECK_OK(act_device_get_info_ex(0, (act_device_info_t *)buf, old));
  act_device_info_t got;
  memcpy(&got, buf, old);
  CHECK(got.size == old, "older info: size %zu, want %zu", got.size, old);
  CHECK(strcmp(got.name, "cpu") == 0, "older info: name '%s'", got.name);
  int intact = 1;
  for (size_t i = old; i < sizeof buf; i++)
    intact &= buf[i] == 0xab;
  CHECK(intact, "an older-sized act_device_info_t was written past its end");
  /* A newer, larger one: what this library knows, then zeros. */
  memset(buf, 0xab, sizeof buf);
  CHECK_OK(act_device_get_info_ex(0, (act_device_info_t *)buf, sizeof buf));
  memcpy(&got, buf, sizeof got);
  CHECK(got.size == sizeof got, "newer info: size %zu", got.size);
  int zeros = 1;
  for (size_t i = sizeof got; i < sizeof buf; i++)
    zeros &= buf[i] == 0;
  CHECK(zeros, "a newer act_device_info_t's unknown fields are not zeroed");
  CHECK(act_device_get_info_ex(0, (act_device_info_t *)buf, 4) ==
            ACT_INVALID_ARGUMENT && contains(act_last_error(), "size"),
        "a struct smaller than its size field: %s", act_last_error());
  act_device_info_t cur;
  CHECK_OK(act_device_get_info(0, &cur));
  CHECK(cur.size == sizeof cur, "act_device_get_info: size %zu", cur.size);
  /* An older act_context_stats_t (programs_built only). */
  unsigned char sb[sizeof(act_context_stats_t) + 8];
  size_t olds = offsetof(act_context_stats_t, programs_loaded);
  memset(sb, 0xab, sizeof sb);
  CHECK_OK(act_context_get_stats_ex(ctx, (act_context_stats_t *)sb, olds));
  intact = 1;
  for (size_t i = olds; i < sizeof sb; i++)
    intact &= sb[i] == 0xab;
  CHECK(intact, "an older act_context_stats_t was written past its end");
  CHECK_OK(act_context_get_device_ex(ctx, (act_device_info_t *)buf, old));

  /* Operands of a newer header: act_arg_t and act_tensor_t with fields
   * this library does not know (zero, as zero-initialised structs have
   * them) - a larger stride through the array. */
  struct newer_arg {
    act_arg_t a;
    char future[24];
  } args[2];
  memset(args, 0, sizeof args);
  float x[4] = {-2, -0.5f, 0.5f, 2}, y[4] = {0}, r[4] = {0};
  int64_t dims[1] = {4};
  args[0].a = (act_arg_t){ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)};
  args[1].a = (act_arg_t){ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)};
  act_op_desc_t *d;
  CHECK_OK(act_op_desc_create(ACT_OP_SIGMOID, &d));
  CHECK_OK(act_reference_forward_ex(d, 2, &args[0].a, sizeof args[0]));
  act_arg_t plain[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                        {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, r)}};
  CHECK_OK(act_reference_forward(d, 2, plain));
  CHECK(memcmp(y, r, sizeof y) == 0, "a larger act_arg_t stride gave "
        "other results");
  memset(y, 0, sizeof y);
  CHECK_OK(act_forward_host_ex(ctx, d, 2, &args[0].a, sizeof args[0]));
  CHECK(memcmp(y, r, sizeof y) == 0, "act_forward_host_ex with a larger "
        "stride");
  CHECK(act_forward_host_ex(ctx, d, 2, &args[0].a, sizeof(act_arg_t) - 8) ==
            ACT_INVALID_ARGUMENT && contains(act_last_error(), "act_arg_t"),
        "an act_arg_t smaller than any layout: %s", act_last_error());
  act_op_desc_destroy(d);
  /* The dense layer with newer act_tensor_t's. */
  struct newer_tensor {
    act_tensor_t t;
    char future[24];
  } tx, tw, ty;
  memset(&tx, 0, sizeof tx), memset(&tw, 0, sizeof tw);
  memset(&ty, 0, sizeof ty);
  float xm[2] = {1, 2}, wm[2] = {3, 4}, ym[1] = {0};
  int64_t d12[2] = {1, 2}, d21[2] = {2, 1}, d11[2] = {1, 1};
  tx.t = act_tensor_make(ACT_F32, 2, d12, xm);
  tw.t = act_tensor_make(ACT_F32, 2, d21, wm);
  ty.t = act_tensor_make(ACT_F32, 2, d11, ym);
  act_dense_desc_t dd = {0};
  CHECK_OK(act_dense_host_ex(ctx, &dd, &tx.t, &tw.t, NULL, &ty.t, NULL,
                             sizeof tx));
  CHECK(ym[0] == 11.0f, "dense with newer tensors: %g, want 11", ym[0]);
}

int main(void) {
  /* Before anything has failed, the message is empty. */
  CHECK(act_last_error() != NULL && act_last_error()[0] == '\0',
        "initial act_last_error() = '%s'", act_last_error());
  test_version();
  test_status();
  test_devices();
  act_context_t *ctx = NULL;
  CHECK_OK(act_context_create("cpu", &ctx));
  if (ctx) {
    test_buffers_and_queues(ctx);
    test_forward(ctx);
    test_abi(ctx);
  }
  test_threads();
  /* Every _destroy accepts NULL (a crash here fails the test). */
  act_op_desc_destroy(NULL);
  act_event_destroy(NULL);
  act_buffer_destroy(NULL);
  act_queue_destroy(NULL);
  act_context_destroy(NULL);
  act_context_destroy(ctx);
  return act_test_finish("test_api");
}
