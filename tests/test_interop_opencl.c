/*
 * test_interop_opencl.c - actkit on the application's own OpenCL objects
 * (include/actkit_opencl.h): a context, queues (in-order and
 * out-of-order), buffers (whole, and a region at an aligned offset) and
 * events both ways, made by this program with the OpenCL API, on every
 * OpenCL device; results against the CPU reference (docs/accuracy.md:
 * f32 element-wise 2 ulp, softmax 4 ulp); and the refusals: handles of
 * another cl_context, a region past the end, an unaligned offset, a
 * tensor larger than its wrapped buffer, an actkit context of another
 * backend, NULL - each with a clear error, nothing retained.
 *
 * A backend listed in $ACTKIT_REQUIRE_BACKENDS that has no device fails
 * the test instead of being skipped.
 */
#include "testutil.h"

#define CL_TARGET_OPENCL_VERSION 120
#include "actkit_opencl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 1000

static double max_ulp(const float *y, const float *r, size_t n) {
  double w = 0;
  for (size_t i = 0; i < n; i++) {
    double e = act_ulp_error(ACT_F32, y[i], r[i]);
    w = e > w ? e : w;
  }
  return w;
}

/* The reference of op (by name) on host x into r. */
static void reference(const char *name, const float *x, float *r, size_t n) {
  act_op_desc_t *d;
  CHECK_OK(act_op_desc_create_by_name(name, &d));
  int64_t dims[1] = {(int64_t)n};
  act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims,
                                                (void *)x)},
                    {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, r)}};
  CHECK_OK(act_reference_forward(d, 2, a));
  act_op_desc_destroy(d);
}

static act_tensor_t dev_tensor(act_buffer_t *b, int64_t n) {
  int64_t dims[1] = {n};
  act_tensor_t t = act_tensor_make(ACT_F32, 1, dims, NULL);
  t.buffer = b;
  return t;
}

/* Returns 1 if actkit took dev (one of its devices), else 0. */
static int run_device(cl_device_id dev, act_context_t *cpu) {
  cl_int e;
  cl_context c = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
  CHECK(e == CL_SUCCESS, "clCreateContext %d", (int)e);
  if (e)
    return 0;
  cl_command_queue q = clCreateCommandQueue(c, dev, 0, &e);
  CHECK(e == CL_SUCCESS, "clCreateCommandQueue %d", (int)e);
  cl_uint bits = 0;
  clGetDeviceInfo(dev, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits,
                  NULL);
  size_t align = bits >= 8 ? bits / 8 : 4;
  size_t off = align > 4 ? align : 64; /* an aligned region's start */
  cl_mem mx = clCreateBuffer(c, CL_MEM_READ_WRITE, off + N * 4, NULL, &e);
  cl_mem my = clCreateBuffer(c, CL_MEM_READ_WRITE, N * 4, NULL, &e);
  CHECK(e == CL_SUCCESS, "clCreateBuffer %d", (int)e);

  float *x = malloc(N * 4), *y = malloc(N * 4), *r = malloc(N * 4);
  for (int i = 0; i < N; i++)
    x[i] = -12.0f + 24.0f * (float)i / (N - 1);

  act_context_t *ctx = NULL;
  act_queue_t *aq = NULL;
  act_buffer_t *bx = NULL, *by = NULL;
  int took = 0;
  act_status_t cst = act_context_create_opencl(c, dev, &ctx);
  CHECK(cst == ACT_OK || cst == ACT_NO_DEVICE, "act_context_create_opencl: "
        "%s", act_last_error());
  if (!ctx)
    goto out;
  took = 1;
  act_device_info_t info;
  CHECK_OK(act_context_get_device(ctx, &info));
  const char *name = info.name;
  printf("device %s: %s\n", info.name, info.description);
  CHECK_OK(act_queue_create_opencl(ctx, q, &aq));
  CHECK_OK(act_buffer_create_opencl(ctx, mx, off, N * 4, &bx));
  CHECK_OK(act_buffer_create_opencl(ctx, my, 0, 0, &by));
  if (!aq || !bx || !by)
    goto out;
  CHECK(act_buffer_size(bx) == N * 4 && act_buffer_size(by) == N * 4,
        "wrapped sizes %zu %zu", act_buffer_size(bx), act_buffer_size(by));
  cl_context gc;
  cl_device_id gd;
  cl_command_queue gq;
  cl_mem gm;
  CHECK_OK(act_context_get_opencl(ctx, &gc, &gd));
  CHECK_OK(act_queue_get_opencl(aq, &gq));
  CHECK_OK(act_buffer_get_opencl(by, &gm));
  CHECK(gc == c && gd == dev && gq == q && gm == my, "handles given back");

  /* The application writes x at the region with its own command; actkit
   * waits for it, runs sigmoid into y; the application reads y after
   * actkit's event. */
  cl_event wrote, ready;
  e = clEnqueueWriteBuffer(q, mx, CL_FALSE, off, N * 4, x, 0, NULL, &wrote);
  CHECK(e == CL_SUCCESS, "clEnqueueWriteBuffer %d", (int)e);
  CHECK_OK(act_queue_wait_opencl_event(aq, wrote));
  act_op_desc_t *sig, *tanh_, *sm;
  CHECK_OK(act_op_desc_create_by_name("sigmoid", &sig));
  CHECK_OK(act_op_desc_create_by_name("tanh", &tanh_));
  CHECK_OK(act_op_desc_create_by_name("softmax", &sm));
  act_arg_t a[2] = {{ACT_ARG_X, dev_tensor(bx, N)},
                    {ACT_ARG_Y, dev_tensor(by, N)}};
  act_event_t *ev = NULL;
  CHECK_OK(act_forward(aq, sig, 2, a, &ev));
  CHECK_OK(act_event_get_opencl(ev, &ready));
  e = clEnqueueReadBuffer(q, my, CL_TRUE, 0, N * 4, y, 1, &ready, NULL);
  CHECK(e == CL_SUCCESS, "clEnqueueReadBuffer %d", (int)e);
  reference("sigmoid", x, r, N);
  double u = max_ulp(y, r, N);
  CHECK(u <= 2, "%s: sigmoid on the application's objects: %.1f ulp", name,
        u);
  printf("  %s in-order queue: sigmoid %.1f ulp\n", name, u);
  clReleaseEvent(ready);
  clReleaseEvent(wrote);
  act_event_destroy(ev);

  /* An out-of-order queue of the application: three dependent ops in a
   * row (softmax(tanh(x)) in place) with no waits between them. */
  cl_command_queue oq = clCreateCommandQueue(
      c, dev, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &e);
  if (e == CL_SUCCESS) {
    act_queue_t *ao = NULL;
    CHECK_OK(act_queue_create_opencl(ctx, oq, &ao));
    act_arg_t b1[2] = {{ACT_ARG_X, dev_tensor(bx, N)},
                       {ACT_ARG_Y, dev_tensor(by, N)}};
    act_arg_t b2[2] = {{ACT_ARG_X, dev_tensor(by, N)},
                       {ACT_ARG_Y, dev_tensor(by, N)}};
    CHECK_OK(act_buffer_write(ao, bx, 0, N * 4, x, NULL));
    CHECK_OK(act_forward(ao, tanh_, 2, b1, NULL));
    CHECK_OK(act_forward(ao, sm, 2, b2, NULL));
    CHECK_OK(act_buffer_read(ao, by, 0, N * 4, y, NULL));
    CHECK_OK(act_queue_finish(ao));
    reference("tanh", x, r, N);
    reference("softmax", r, r, N);
    u = max_ulp(y, r, N);
    /* tanh within 2 ulp, then softmax of it within 4 */
    CHECK(u <= 8, "%s: out-of-order queue: softmax(tanh) %.1f ulp", name,
          u);
    printf("  %s out-of-order queue: softmax(tanh) %.1f ulp\n", name, u);
    act_queue_destroy(ao);
    clReleaseCommandQueue(oq);
  } else {
    printf("  %s: no out-of-order queues (%d)\n", name, (int)e);
  }

  /* Refusals: handles of another cl_context, a region past the end, an
   * unaligned offset, a tensor larger than its buffer, NULL, a context
   * of another backend. */
  cl_context c2 = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
  cl_mem m2 = clCreateBuffer(c2, CL_MEM_READ_WRITE, 64, NULL, &e);
  cl_command_queue q2 = clCreateCommandQueue(c2, dev, 0, &e);
  cl_event u2 = clCreateUserEvent(c2, &e);
  act_buffer_t *bad = NULL;
  act_queue_t *badq = NULL;
  act_status_t st = act_buffer_create_opencl(ctx, m2, 0, 0, &bad);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "another"),
        "a cl_mem of another context: %s %s", act_status_name(st),
        act_last_error());
  st = act_queue_create_opencl(ctx, q2, &badq);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "another"),
        "a queue of another context: %s %s", act_status_name(st),
        act_last_error());
  st = act_queue_wait_opencl_event(aq, u2);
  CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "another"),
        "an event of another context: %s %s", act_status_name(st),
        act_last_error());
  st = act_buffer_create_opencl(ctx, my, 16, N * 4, &bad);
  CHECK(st == ACT_BAD_SHAPE && strstr(act_last_error(), "not inside"),
        "a region past the end: %s %s", act_status_name(st),
        act_last_error());
  if (align > 4) {
    st = act_buffer_create_opencl(ctx, mx, 4, 64, &bad);
    CHECK(st == ACT_INVALID_ARGUMENT &&
              strstr(act_last_error(), "CL_DEVICE_MEM_BASE_ADDR_ALIGN"),
          "an unaligned offset: %s %s", act_status_name(st),
          act_last_error());
  }
  act_buffer_t *small = NULL;
  CHECK_OK(act_buffer_create_opencl(ctx, my, 0, 64, &small));
  act_arg_t big[2] = {{ACT_ARG_X, dev_tensor(bx, N)},
                      {ACT_ARG_Y, dev_tensor(small, N)}};
  st = act_forward(aq, sig, 2, big, NULL);
  CHECK(st == ACT_BAD_SHAPE, "a tensor larger than its wrapped buffer: %s "
        "%s", act_status_name(st), act_last_error());
  act_buffer_destroy(small);
  CHECK(bad == NULL && badq == NULL, "a refused call returned an object");
  act_context_t *none = NULL;
  CHECK(act_context_create_opencl(NULL, dev, &none) == ACT_NULL_POINTER,
        "NULL context");
  CHECK(act_buffer_create_opencl(cpu, my, 0, 0, &bad) ==
            ACT_INVALID_ARGUMENT &&
            strstr(act_last_error(), "not an OpenCL context"),
        "a cpu context: %s", act_last_error());
  /* an event of a cpu queue has no cl_event */
  act_queue_t *cq = NULL;
  act_event_t *cev = NULL;
  float one = 1;
  act_buffer_t *cb = NULL;
  CHECK_OK(act_queue_create(cpu, &cq));
  CHECK_OK(act_buffer_create(cpu, 4, &cb));
  CHECK_OK(act_buffer_write(cq, cb, 0, 4, &one, &cev));
  cl_event ce = NULL;
  CHECK(act_event_get_opencl(cev, &ce) == ACT_INVALID_ARGUMENT && !ce,
        "a cpu event as a cl_event: %s", act_last_error());
  act_event_destroy(cev);
  act_buffer_destroy(cb);
  act_queue_destroy(cq);
  clReleaseEvent(u2);
  clReleaseCommandQueue(q2);
  clReleaseMemObject(m2);
  clReleaseContext(c2);
  act_op_desc_destroy(sig);
  act_op_desc_destroy(tanh_);
  act_op_desc_destroy(sm);
out:
  act_buffer_destroy(bx);
  act_buffer_destroy(by);
  act_queue_destroy(aq);
  act_context_destroy(ctx);
  /* actkit released what it retained: the application's objects are
   * still its own, and still work */
  float z[4] = {0};
  e = clEnqueueReadBuffer(q, my, CL_TRUE, 0, sizeof z, z, 0, NULL, NULL);
  CHECK(e == CL_SUCCESS, "the application's buffer after actkit let go: %d",
        (int)e);
  clReleaseMemObject(mx);
  clReleaseMemObject(my);
  clReleaseCommandQueue(q);
  clReleaseContext(c);
  free(x), free(y), free(r);
  return took;
}

int main(void) {
  int seen[ACT_BACKEND_COUNT] = {0};
  seen[ACT_BACKEND_VULKAN] = 1; /* not this test's: test_interop_vulkan */
  act_context_t *cpu = NULL;
  CHECK_OK(act_context_create("cpu", &cpu));
  /* every OpenCL device of the system, as an application finds them;
   * those actkit enumerated it takes */
  cl_platform_id plats[8];
  cl_uint np = 0;
  if (clGetPlatformIDs(8, plats, &np) != CL_SUCCESS)
    np = 0;
  for (cl_uint p = 0; p < np; p++) {
    cl_device_id ids[16];
    cl_uint n = 0;
    if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, ids, &n) !=
        CL_SUCCESS)
      continue;
    for (cl_uint d = 0; d < n; d++)
      seen[ACT_BACKEND_OPENCL] |= run_device(ids[d], cpu);
  }
  act_context_destroy(cpu);
  act_test_require_backends(seen);
  return act_test_finish("test_interop_opencl");
}
