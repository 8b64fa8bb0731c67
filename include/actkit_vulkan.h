/*
 * actkit_vulkan.h - actkit on the application's own Vulkan device.
 *
 * An engine that already has a VkDevice, a compute-capable VkQueue and its
 * tensors in VkBuffers runs actkit ops on them, in its own stream of work,
 * without copies and without a second device:
 *
 *   act_vulkan_device_desc_t d = {0};
 *   d.instance = inst; d.physical_device = pd; d.device = dev;
 *   d.queue_family = family; d.queue = queue;
 *   act_context_create_vulkan(&d, &ctx);
 *   act_queue_create(ctx, &q);                 // submits to the app's queue
 *   act_buffer_create_vulkan(ctx, my_x, 0, bytes, &bx);
 *   act_queue_wait_vulkan_semaphore(q, uploaded, 0);   // after my upload
 *   act_forward(q, gelu, 2, args, NULL);
 *   act_queue_signal_vulkan_semaphore(q, done, 0);     // my next work waits
 *
 * This header includes <vulkan/vulkan.h> (Debian libvulkan-dev); actkit.h
 * itself needs no API headers.
 *
 * Synchronization: semaphores. actkit records its work into command
 * buffers of its own and submits them to the application's VkQueue.
 * act_queue_wait_vulkan_semaphore makes actkit's next submission wait for
 * a semaphore the application signals (after it wrote the inputs);
 * act_queue_signal_vulkan_semaphore submits what was enqueued so far with
 * a semaphore that the application's next submission waits for (before it
 * reads the outputs). A value of 0 is a binary semaphore; another value is
 * a timeline semaphore's value, which needs timelineSemaphore enabled on
 * the device (say so in timeline_semaphores). Semaphore waits and signals
 * carry the memory dependency, so nothing else is needed between the
 * application's work and actkit's. actkit events and act_queue_finish
 * work as on actkit's own devices (fences of actkit's submissions).
 *
 * Ownership. actkit never destroys what it was given: act_context_destroy
 * leaves the VkDevice, act_buffer_destroy the VkBuffer. Destroy actkit's
 * queues, buffers and context before the device, and finish actkit's work
 * (act_queue_finish) before destroying or reusing a wrapped buffer.
 *
 * Threading. vkQueueSubmit on a VkQueue must be externally synchronized:
 * actkit submits to the application's queue from inside act_forward and
 * the other enqueueing calls (when a batch is full), act_queue_flush,
 * act_queue_finish, event waits and the semaphore calls. The application
 * must not submit to that VkQueue from another thread while such a call
 * runs. Otherwise the rules of actkit.h hold.
 *
 * Requirements. The device must be one actkit enumerated (the same
 * physical device; act_device_count), created for Vulkan 1.1 or later
 * (api_version), with the queue in a family that has VK_QUEUE_COMPUTE_BIT.
 * Buffers are used as storage buffers and copied to and from: create them
 * with VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT
 * | VK_BUFFER_USAGE_TRANSFER_DST_BIT. Vulkan cannot tell a buffer's size or
 * device, so the range must be given and belong to ctx's device (the
 * validation layers check that); a tensor past the range is refused.
 */
#ifndef ACTKIT_VULKAN_H
#define ACTKIT_VULKAN_H

#include <actkit.h>

#include <vulkan/vulkan.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The application's device. Zero-initialisable; each field's default. */
typedef struct act_vulkan_device_desc {
  size_t size;                      /* sizeof(act_vulkan_device_desc_t), or 0 */
  VkInstance instance;              /* required */
  VkPhysicalDevice physical_device; /* required */
  VkDevice device;                  /* required */
  uint32_t queue_family;            /* the queue's family (compute) */
  VkQueue queue;                    /* required: actkit submits to it */
  PFN_vkGetInstanceProcAddr get_instance_proc_addr; /* the application's;
                                       NULL: the Vulkan loader's */
  uint32_t api_version;             /* the device's API version; 0: 1.1 */
  int storage_buffer_16bit;         /* 1: created with
                                       storageBuffer16BitAccess enabled
                                       (f16/bf16 then use 16-bit storage) */
  int timeline_semaphores;          /* 1: timelineSemaphore enabled */
} act_vulkan_device_desc_t;

/* A context on the application's device. Queues made with
 * act_queue_create on it submit to desc->queue. */
ACT_API act_status_t act_context_create_vulkan(
    const act_vulkan_device_desc_t *desc, act_context_t **ctx);

/* An actkit buffer over bytes [offset, offset + range) of the
 * application's VkBuffer, without a copy. offset must be a multiple of the
 * device's minStorageBufferOffsetAlignment. */
ACT_API act_status_t act_buffer_create_vulkan(act_context_t *ctx,
                                              VkBuffer buffer,
                                              VkDeviceSize offset,
                                              VkDeviceSize range,
                                              act_buffer_t **buf);

/* actkit's next submission on q waits for semaphore (value: a timeline
 * value, or 0 for a binary semaphore). At most 8 waits pending. */
ACT_API act_status_t act_queue_wait_vulkan_semaphore(act_queue_t *q,
                                                     VkSemaphore semaphore,
                                                     uint64_t value);

/* Submits the work enqueued on q so far, signalling semaphore (value as
 * above) when it has finished. */
ACT_API act_status_t act_queue_signal_vulkan_semaphore(act_queue_t *q,
                                                       VkSemaphore semaphore,
                                                       uint64_t value);

/* The Vulkan handles of actkit objects (valid while they live), whether
 * actkit made them or wraps the application's. */
ACT_API act_status_t act_context_get_vulkan(const act_context_t *ctx,
                                            VkDevice *device,
                                            VkQueue *queue);
ACT_API act_status_t act_buffer_get_vulkan(const act_buffer_t *buf,
                                           VkBuffer *buffer,
                                           VkDeviceSize *offset);

#ifdef __cplusplus
}
#endif
#endif /* ACTKIT_VULKAN_H */
