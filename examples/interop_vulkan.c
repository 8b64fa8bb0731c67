/*
 * interop_vulkan.c - an application that owns its Vulkan instance,
 * device, queue and buffers runs actkit ops on them, in its own stream of
 * work, without copies (include/actkit_vulkan.h, docs/interop.md).
 *
 * It uploads its input into its own buffer with its own command, which
 * signals a semaphore; actkit waits for it, runs gelu then softmax on the
 * application's buffers and signals a second semaphore; the application's
 * own copy waits for that one and reads the result. Then it checks the
 * result against actkit's CPU reference (within 4 ulp) and prints it.
 *
 * Exit status: 0 ok, 1 wrong result or failure, 77 no Vulkan device.
 */
#include <actkit_vulkan.h>

#include <stdio.h>
#include <string.h>

#define N 8

typedef struct {
  VkBuffer buf;
  VkDeviceMemory mem;
  float *map;
} buffer_t;

static int make_buffer(VkPhysicalDevice pd, VkDevice dev, buffer_t *b) {
  VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                           .size = N * sizeof(float),
                           .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT};
  if (vkCreateBuffer(dev, &bi, NULL, &b->buf) != VK_SUCCESS)
    return 1;
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(dev, b->buf, &req);
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(pd, &mp);
  VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                               VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  uint32_t type = UINT32_MAX;
  for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
    if ((req.memoryTypeBits >> i & 1u) &&
        (mp.memoryTypes[i].propertyFlags & want) == want)
      type = i;
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req.size,
                             .memoryTypeIndex = type};
  return type == UINT32_MAX ||
         vkAllocateMemory(dev, &ai, NULL, &b->mem) != VK_SUCCESS ||
         vkBindBufferMemory(dev, b->buf, b->mem, 0) != VK_SUCCESS ||
         vkMapMemory(dev, b->mem, 0, VK_WHOLE_SIZE, 0, (void **)&b->map) !=
             VK_SUCCESS;
}

/* The application's own command: copy src -> dst, waiting for `wait`
 * and signalling `sig` (either may be VK_NULL_HANDLE). */
static int copy(VkQueue q, VkCommandBuffer cb, VkBuffer src, VkBuffer dst,
                VkSemaphore wait, VkSemaphore sig, VkFence fence) {
  VkCommandBufferBeginInfo bi = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  VkBufferCopy region = {0, 0, N * sizeof(float)};
  vkBeginCommandBuffer(cb, &bi);
  vkCmdCopyBuffer(cb, src, dst, 1, &region);
  vkEndCommandBuffer(cb);
  VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                     .waitSemaphoreCount = wait ? 1u : 0u,
                     .pWaitSemaphores = &wait,
                     .pWaitDstStageMask = &stage,
                     .commandBufferCount = 1,
                     .pCommandBuffers = &cb,
                     .signalSemaphoreCount = sig ? 1u : 0u,
                     .pSignalSemaphores = &sig};
  return vkQueueSubmit(q, 1, &si, fence) != VK_SUCCESS;
}

static int act_check(act_status_t st, const char *what) {
  if (st)
    fprintf(stderr, "interop_vulkan: %s: %s\n", what, act_last_error());
  return st != ACT_OK;
}

int main(void) {
  /* --- the application's own Vulkan objects --- */
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "interop_vulkan",
                           .apiVersion = VK_API_VERSION_1_1};
  VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                              .pApplicationInfo = &app};
  VkInstance inst;
  if (vkCreateInstance(&ici, NULL, &inst) != VK_SUCCESS)
    return 77;
  uint32_t n = 1;
  VkPhysicalDevice pd;
  if (vkEnumeratePhysicalDevices(inst, &n, &pd) < 0 || n == 0) {
    fprintf(stderr, "interop_vulkan: no Vulkan device\n");
    return 77;
  }
  uint32_t nq = 8, family = UINT32_MAX;
  VkQueueFamilyProperties qf[8];
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
  for (uint32_t i = 0; i < nq && family == UINT32_MAX; i++)
    if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
      family = i;
  float prio = 1.0f;
  VkDeviceQueueCreateInfo qi = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = family,
      .queueCount = 1,
      .pQueuePriorities = &prio};
  VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                            .queueCreateInfoCount = 1,
                            .pQueueCreateInfos = &qi};
  VkDevice dev;
  if (family == UINT32_MAX ||
      vkCreateDevice(pd, &dci, NULL, &dev) != VK_SUCCESS)
    return 77;
  VkQueue queue;
  vkGetDeviceQueue(dev, family, 0, &queue);
  buffer_t up, x, y, down;
  if (make_buffer(pd, dev, &up) || make_buffer(pd, dev, &x) ||
      make_buffer(pd, dev, &y) || make_buffer(pd, dev, &down))
    return 1;
  const float in[N] = {-3.0f, -1.5f, -0.5f, 0.0f, 0.25f, 1.0f, 2.0f, 4.0f};
  memcpy(up.map, in, sizeof in);
  VkCommandPoolCreateInfo pci = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .queueFamilyIndex = family};
  VkCommandPool pool;
  vkCreateCommandPool(dev, &pci, NULL, &pool);
  VkCommandBufferAllocateInfo cai = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 2};
  VkCommandBuffer cb[2];
  vkAllocateCommandBuffers(dev, &cai, cb);
  VkSemaphoreCreateInfo sci = {.sType =
                                   VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  VkSemaphore uploaded, computed;
  vkCreateSemaphore(dev, &sci, NULL, &uploaded);
  vkCreateSemaphore(dev, &sci, NULL, &computed);
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence;
  vkCreateFence(dev, &fci, NULL, &fence);

  /* --- actkit on them --- */
  act_vulkan_device_desc_t d = {0};
  d.instance = inst;
  d.physical_device = pd;
  d.device = dev;
  d.queue_family = family;
  d.queue = queue;
  d.get_instance_proc_addr = vkGetInstanceProcAddr;
  act_context_t *ctx;
  act_queue_t *q;
  act_buffer_t *bx, *by;
  act_op_desc_t *gelu, *softmax;
  if (act_check(act_context_create_vulkan(&d, &ctx), "context") ||
      act_check(act_queue_create(ctx, &q), "queue") ||
      act_check(act_buffer_create_vulkan(ctx, x.buf, 0, sizeof in, &bx),
                "buffer x") ||
      act_check(act_buffer_create_vulkan(ctx, y.buf, 0, sizeof in, &by),
                "buffer y") ||
      act_check(act_op_desc_create_by_name("gelu", &gelu), "gelu") ||
      act_check(act_op_desc_create_by_name("softmax", &softmax), "softmax"))
    return 1;
  int64_t dims[1] = {N};
  act_tensor_t tx = act_tensor_make(ACT_F32, 1, dims, NULL), ty = tx;
  tx.buffer = bx;
  ty.buffer = by;
  act_arg_t a1[2] = {{ACT_ARG_X, tx}, {ACT_ARG_Y, ty}};
  act_arg_t a2[2] = {{ACT_ARG_X, ty}, {ACT_ARG_Y, ty}};

  /* the application's upload; actkit's ops; the application's readback */
  if (copy(queue, cb[0], up.buf, x.buf, VK_NULL_HANDLE, uploaded,
           VK_NULL_HANDLE) ||
      act_check(act_queue_wait_vulkan_semaphore(q, uploaded, 0), "wait") ||
      act_check(act_forward(q, gelu, 2, a1, NULL), "gelu") ||
      act_check(act_forward(q, softmax, 2, a2, NULL), "softmax") ||
      act_check(act_queue_signal_vulkan_semaphore(q, computed, 0),
                "signal") ||
      copy(queue, cb[1], y.buf, down.buf, computed, VK_NULL_HANDLE, fence))
    return 1;
  vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX);

  /* --- the reference, and the result --- */
  float r[N];
  act_arg_t h1[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims,
                                                 (void *)in)},
                     {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, r)}};
  act_arg_t h2[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, r)},
                     {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, r)}};
  if (act_check(act_reference_forward(gelu, 2, h1), "reference") ||
      act_check(act_reference_forward(softmax, 2, h2), "reference"))
    return 1;
  int bad = 0;
  for (int i = 0; i < N; i++) {
    double u = act_ulp_error(ACT_F32, down.map[i], r[i]);
    bad += u > 4.0;
    printf("softmax(gelu(%5.2f)) = %.9g (reference %.9g, %.1f ulp)\n", in[i],
           down.map[i], r[i], u);
  }
  act_device_info_t info;
  act_context_get_device(ctx, &info);
  printf("%s on the application's VkDevice and queue (%s): %s\n", info.name,
         info.description, bad ? "WRONG" : "ok");

  act_op_desc_destroy(gelu);
  act_op_desc_destroy(softmax);
  act_buffer_destroy(bx);
  act_buffer_destroy(by);
  act_queue_destroy(q);
  act_context_destroy(ctx); /* the device stays the application's */
  vkDestroyFence(dev, fence, NULL);
  vkDestroySemaphore(dev, uploaded, NULL);
  vkDestroySemaphore(dev, computed, NULL);
  vkDestroyCommandPool(dev, pool, NULL);
  buffer_t *all[4] = {&up, &x, &y, &down};
  for (int i = 0; i < 4; i++) {
    vkDestroyBuffer(dev, all[i]->buf, NULL);
    vkFreeMemory(dev, all[i]->mem, NULL);
  }
  vkDestroyDevice(dev, NULL);
  vkDestroyInstance(inst, NULL);
  return bad ? 1 : 0;
}
