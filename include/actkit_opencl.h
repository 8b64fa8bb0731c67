/*
 * actkit_opencl.h - actkit on the application's own OpenCL objects.
 *
 * An engine that already has a cl_context, a cl_command_queue and its
 * tensors in cl_mem buffers runs actkit ops in its own stream of work,
 * without copies and without a second context:
 *
 *   act_context_create_opencl(my_ctx, my_dev, &ctx);
 *   act_queue_create_opencl(ctx, my_queue, &q);
 *   act_buffer_create_opencl(ctx, my_x, 0, 0, &bx);   // the whole cl_mem
 *   act_buffer_create_opencl(ctx, my_y, 0, 0, &by);
 *   act_forward(q, gelu, 2, args, &ev);               // enqueued on my_queue
 *   act_event_get_opencl(ev, &cl_ev);                 // for my next command
 *
 * This header includes <CL/cl.h> (the Khronos headers, Debian
 * opencl-headers); actkit.h itself needs no API headers. Link as for
 * actkit.h: the library opens the ICD loader at run time.
 *
 * Ownership. actkit never destroys what it was given: each call retains
 * the handle (clRetain*) and the matching actkit _destroy releases it
 * (clRelease*), so the application may release its own references at any
 * time after the call. Work actkit enqueued must finish before the
 * application frees the memory behind a wrapped cl_mem
 * (act_queue_finish, or wait on the event).
 *
 * Ordering. On an in-order cl_command_queue, actkit's commands run in
 * order with the application's, where they were enqueued. On an
 * out-of-order queue actkit puts a barrier (clEnqueueBarrierWithWaitList)
 * before each of its commands, so they run after everything enqueued
 * before them, in order; the application's later commands that need
 * actkit's results wait on its events (act_event_get_opencl). A cl_event
 * of the application's (of the same cl_context) is waited for with
 * act_queue_wait_opencl_event.
 *
 * Threading. As actkit.h says: an actkit queue is used by one thread at a
 * time; the application may enqueue on the same cl_command_queue from its
 * own threads (OpenCL allows it), the order between those enqueues being
 * the application's. act_queue_destroy waits for the queue (clFinish: the
 * application's commands on it too).
 *
 * Errors. A handle that does not fit - a cl_device_id actkit did not
 * enumerate (sub-devices are not supported) or that is not in the
 * context, a queue, buffer or event of another cl_context, a region past
 * the end of a cl_mem, an actkit object of another backend - is refused
 * with ACT_INVALID_ARGUMENT (ACT_NO_DEVICE, ACT_BAD_SHAPE) and a message
 * naming it; nothing is retained then.
 */
#ifndef ACTKIT_OPENCL_H
#define ACTKIT_OPENCL_H

#include <actkit.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A context on the application's cl_context for its device (one of the
 * context's devices, and one that actkit enumerated: act_device_count).
 * actkit builds its programs in that context (and keeps them in the
 * program cache). act_context_destroy releases the cl_context. */
ACT_API act_status_t act_context_create_opencl(cl_context context,
                                               cl_device_id device,
                                               act_context_t **ctx);

/* An actkit queue that enqueues on the application's command queue (of
 * ctx's cl_context and device; in-order or out-of-order). */
ACT_API act_status_t act_queue_create_opencl(act_context_t *ctx,
                                             cl_command_queue queue,
                                             act_queue_t **q);

/* An actkit buffer over bytes [offset, offset + size) of the application's
 * cl_mem (size 0: to its end), without a copy. A non-zero offset must be a
 * multiple of the device's CL_DEVICE_MEM_BASE_ADDR_ALIGN (it becomes a
 * sub-buffer). Tensors then address it from 0 as with act_buffer_create. */
ACT_API act_status_t act_buffer_create_opencl(act_context_t *ctx, cl_mem mem,
                                              size_t offset, size_t size,
                                              act_buffer_t **buf);

/* Later work on q waits for the application's event (of q's cl_context). */
ACT_API act_status_t act_queue_wait_opencl_event(act_queue_t *q,
                                                 cl_event event);

/* The cl_event of an actkit event of an OpenCL queue, retained for the
 * caller (who releases it); for an event that had completed when it was
 * made, a user event already complete. */
ACT_API act_status_t act_event_get_opencl(act_event_t *ev, cl_event *event);

/* The OpenCL handles of actkit objects (not retained: valid while the
 * object lives), whether actkit made them or wraps the application's. */
ACT_API act_status_t act_context_get_opencl(const act_context_t *ctx,
                                            cl_context *context,
                                            cl_device_id *device);
ACT_API act_status_t act_queue_get_opencl(const act_queue_t *q,
                                          cl_command_queue *queue);
ACT_API act_status_t act_buffer_get_opencl(const act_buffer_t *buf,
                                           cl_mem *mem);

#ifdef __cplusplus
}
#endif
#endif /* ACTKIT_OPENCL_H */
