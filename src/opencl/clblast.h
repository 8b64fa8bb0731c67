/*
 * clblast.h - the OpenCL backend's optional vendor GEMM (clblast.c when
 * built with CLBlast, clblast_none.c otherwise). Private to src/opencl/.
 */
#ifndef ACT_OPENCL_CLBLAST_H
#define ACT_OPENCL_CLBLAST_H

#define CL_TARGET_OPENCL_VERSION 120
#include "../core/internal.h"

#include <CL/cl.h>

/* Whether CLBlast can be used (built in, and libclblast found at run time;
 * looked up once). When not, *why says why. */
bool act__clblast_available(const char **why);

/* Enqueues dest = x W (dest: c->z when given, else c->y) on the in-order
 * queue q with CLBlast's SGEMM (f32 only); *ev receives its event. */
act_status_t act__clblast_sgemm(cl_command_queue q, const act__dense_t *c,
                                cl_event *ev);

#endif
