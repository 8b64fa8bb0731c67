/*
 * interop_opencl.c - an application that owns its OpenCL context, queue
 * and buffers runs actkit ops in its own stream of work, without copies
 * (include/actkit_opencl.h, docs/interop.md).
 *
 * It fills its cl_mem with its own write, lets actkit run gelu then
 * softmax on it (actkit waits for the application's write event), and
 * reads the result with its own read, which waits for actkit's event.
 * Then it checks the result against actkit's CPU reference (f32: within
 * 4 ulp, softmax's bound) and prints it.
 *
 *   interop_opencl [DEVICE_INDEX]   the N-th OpenCL device of the system
 *
 * Exit status: 0 ok, 1 wrong result or failure, 77 no OpenCL device.
 */
#include <actkit_opencl.h>

#include <stdio.h>
#include <stdlib.h>

#define N 8

static int check(cl_int e, const char *what) {
  if (e != CL_SUCCESS)
    fprintf(stderr, "interop_opencl: %s failed (%d)\n", what, (int)e);
  return e != CL_SUCCESS;
}

static int act_check(act_status_t st, const char *what) {
  if (st)
    fprintf(stderr, "interop_opencl: %s: %s\n", what, act_last_error());
  return st != ACT_OK;
}

int main(int argc, char **argv) {
  int want = argc > 1 ? atoi(argv[1]) : 0;
  /* --- the application's own OpenCL objects --- */
  cl_platform_id plats[8];
  cl_uint np = 0;
  cl_device_id dev = NULL;
  int seen = 0;
  if (clGetPlatformIDs(8, plats, &np) != CL_SUCCESS)
    np = 0;
  for (cl_uint p = 0; p < np && !dev; p++) {
    cl_device_id ids[8];
    cl_uint nd = 0;
    if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 8, ids, &nd) !=
        CL_SUCCESS)
      continue;
    for (cl_uint d = 0; d < nd && !dev; d++)
      if (seen++ == want)
        dev = ids[d];
  }
  if (!dev) {
    fprintf(stderr, "interop_opencl: no OpenCL device %d\n", want);
    return 77;
  }
  cl_int e;
  cl_context c = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
  if (check(e, "clCreateContext"))
    return 1;
  cl_command_queue q = clCreateCommandQueue(c, dev, 0, &e);
  if (check(e, "clCreateCommandQueue"))
    return 1;
  float x[N] = {-3.0f, -1.5f, -0.5f, 0.0f, 0.25f, 1.0f, 2.0f, 4.0f}, y[N];
  cl_mem mx = clCreateBuffer(c, CL_MEM_READ_WRITE, sizeof x, NULL, &e);
  if (check(e, "clCreateBuffer"))
    return 1;
  cl_mem my = clCreateBuffer(c, CL_MEM_READ_WRITE, sizeof y, NULL, &e);
  if (check(e, "clCreateBuffer"))
    return 1;
  cl_event wrote;
  if (check(clEnqueueWriteBuffer(q, mx, CL_FALSE, 0, sizeof x, x, 0, NULL,
                                 &wrote), "clEnqueueWriteBuffer"))
    return 1;

  /* --- actkit on them --- */
  act_context_t *ctx;
  act_queue_t *aq;
  act_buffer_t *bx, *by;
  if (act_check(act_context_create_opencl(c, dev, &ctx), "context") ||
      act_check(act_queue_create_opencl(ctx, q, &aq), "queue") ||
      act_check(act_buffer_create_opencl(ctx, mx, 0, 0, &bx), "buffer x") ||
      act_check(act_buffer_create_opencl(ctx, my, 0, 0, &by), "buffer y"))
    return 1;
  act_op_desc_t *gelu, *softmax;
  if (act_check(act_op_desc_create_by_name("gelu", &gelu), "gelu") ||
      act_check(act_op_desc_create_by_name("softmax", &softmax), "softmax"))
    return 1;
  int64_t dims[1] = {N};
  act_tensor_t tx = act_tensor_make(ACT_F32, 1, dims, NULL), ty = tx;
  tx.buffer = bx;
  ty.buffer = by;
  act_arg_t a1[2] = {{ACT_ARG_X, tx}, {ACT_ARG_Y, ty}}; /* gelu: x -> y */
  act_arg_t a2[2] = {{ACT_ARG_X, ty}, {ACT_ARG_Y, ty}}; /* softmax in place */
  act_event_t *done;
  if (act_check(act_queue_wait_opencl_event(aq, wrote), "wait") ||
      act_check(act_forward(aq, gelu, 2, a1, NULL), "gelu") ||
      act_check(act_forward(aq, softmax, 2, a2, &done), "softmax"))
    return 1;
  cl_event ready;
  if (act_check(act_event_get_opencl(done, &ready), "event"))
    return 1;
  /* the application's own read, after actkit's work */
  if (check(clEnqueueReadBuffer(q, my, CL_TRUE, 0, sizeof y, y, 1, &ready,
                                NULL), "clEnqueueReadBuffer"))
    return 1;

  /* --- the reference, and the result --- */
  float r[N];
  act_arg_t h1[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                     {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, r)}};
  act_arg_t h2[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, r)},
                     {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, r)}};
  if (act_check(act_reference_forward(gelu, 2, h1), "reference") ||
      act_check(act_reference_forward(softmax, 2, h2), "reference"))
    return 1;
  int bad = 0;
  for (int i = 0; i < N; i++) {
    double u = act_ulp_error(ACT_F32, y[i], r[i]);
    bad += u > 4.0;
    printf("softmax(gelu(%5.2f)) = %.9g (reference %.9g, %.1f ulp)\n", x[i],
           y[i], r[i], u);
  }
  act_device_info_t info;
  act_context_get_device(ctx, &info);
  printf("%s on the application's context and queue (%s): %s\n", info.name,
         info.description, bad ? "WRONG" : "ok");

  clReleaseEvent(ready);
  clReleaseEvent(wrote);
  act_event_destroy(done);
  act_op_desc_destroy(gelu);
  act_op_desc_destroy(softmax);
  act_buffer_destroy(bx);
  act_buffer_destroy(by);
  act_queue_destroy(aq);
  act_context_destroy(ctx);
  /* actkit released its references; the application's are its own */
  clReleaseMemObject(mx);
  clReleaseMemObject(my);
  clReleaseCommandQueue(q);
  clReleaseContext(c);
  return bad ? 1 : 0;
}
