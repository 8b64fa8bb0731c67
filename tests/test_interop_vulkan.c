/*
 * test_interop_vulkan.c - actkit on the application's own Vulkan device
 * (include/actkit_vulkan.h). This program makes its own VkInstance (with
 * the validation layers and a messenger of its own when
 * ACTKIT_VK_VALIDATION=1), VkDevice, queue and buffers, on every Vulkan
 * device; it copies its input into its buffer with its own command, hands
 * the buffers to actkit, which waits for its semaphore, runs ops and
 * signals another, after which its own command copies the result out -
 * with binary semaphores, and with timeline semaphores where the device
 * has them. Results against the CPU reference (docs/accuracy.md: f32
 * element-wise 2 ulp, softmax 4 ulp). Then the refusals: an unaligned
 * offset, no range, a tensor past the range, a queue family without
 * compute, a context of another backend, a timeline value on a device not
 * declared with them, NULL - each a clear error. Any validation message
 * (this program's or actkit's own) fails the test.
 *
 * A backend listed in $ACTKIT_REQUIRE_BACKENDS that has no device fails
 * the test instead of being skipped.
 */
#include "testutil.h"

#include "actkit_vulkan.h"
#include "core/internal.h" /* act__diag_count */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 1000

static int messages; /* this program's validation messages */

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_message(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
           VkDebugUtilsMessageTypeFlagsEXT type,
           const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
  (void)sev, (void)type, (void)user;
  messages++;
  fprintf(stderr, "validation: %s\n", data->pMessage);
  return VK_FALSE;
}

typedef struct {
  VkBuffer buf;
  VkDeviceMemory mem;
  void *map;
} hbuf_t;

/* A host-visible, coherent buffer for storage and copies. */
static int hbuf(VkPhysicalDevice pd, VkDevice dev, VkDeviceSize bytes,
                hbuf_t *b) {
  VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                           .size = bytes,
                           .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                           .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
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
  if (type == UINT32_MAX ||
      vkAllocateMemory(dev, &ai, NULL, &b->mem) != VK_SUCCESS ||
      vkBindBufferMemory(dev, b->buf, b->mem, 0) != VK_SUCCESS ||
      vkMapMemory(dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map) != VK_SUCCESS)
    return 1;
  return 0;
}

static void hbuf_free(VkDevice dev, hbuf_t *b) {
  vkUnmapMemory(dev, b->mem);
  vkDestroyBuffer(dev, b->buf, NULL);
  vkFreeMemory(dev, b->mem, NULL);
}

/* The application's own copy src -> dst, waiting for / signalling the
 * given semaphores (value 0: binary), with a fence. */
static int app_copy(VkQueue q, VkCommandBuffer cb,
                    VkBuffer src, VkDeviceSize so, VkBuffer dst,
                    VkDeviceSize dof, VkDeviceSize bytes, VkSemaphore wait,
                    uint64_t wv, VkSemaphore sig, uint64_t sv,
                    VkFence fence) {
  VkCommandBufferBeginInfo bi = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  vkResetCommandBuffer(cb, 0);
  vkBeginCommandBuffer(cb, &bi);
  VkBufferCopy region = {so, dof, bytes};
  vkCmdCopyBuffer(cb, src, dst, 1, &region);
  vkEndCommandBuffer(cb);
  VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
  VkTimelineSemaphoreSubmitInfo tsi = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .waitSemaphoreValueCount = wait ? 1u : 0u,
      .pWaitSemaphoreValues = &wv,
      .signalSemaphoreValueCount = sig ? 1u : 0u,
      .pSignalSemaphoreValues = &sv};
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                     .pNext = (wv || sv) ? &tsi : NULL,
                     .waitSemaphoreCount = wait ? 1u : 0u,
                     .pWaitSemaphores = &wait,
                     .pWaitDstStageMask = &stage,
                     .commandBufferCount = 1,
                     .pCommandBuffers = &cb,
                     .signalSemaphoreCount = sig ? 1u : 0u,
                     .pSignalSemaphores = &sig};
  return vkQueueSubmit(q, 1, &si, fence) != VK_SUCCESS;
}

static VkSemaphore semaphore(VkDevice dev, bool timeline) {
  VkSemaphoreTypeCreateInfo ti = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
  VkSemaphoreCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                              .pNext = timeline ? &ti : NULL};
  VkSemaphore s = VK_NULL_HANDLE;
  vkCreateSemaphore(dev, &ci, NULL, &s);
  return s;
}

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

/* One round: the application copies src into x; actkit (after sem a)
 * runs op x -> y (then softmax in place when chain), signals b; the
 * application copies y into dst after b. Returns the max ulp error. */
static double round_trip(VkDevice dev, VkQueue q, const VkCommandBuffer *cb,
                         VkFence fence, act_queue_t *aq, act_buffer_t *bx,
                         act_buffer_t *by, hbuf_t *src, hbuf_t *xb,
                         VkDeviceSize xoff, hbuf_t *yb, hbuf_t *dst,
                         VkSemaphore a, uint64_t av, VkSemaphore b,
                         uint64_t bv, const char *op, bool chain) {
  float *x = src->map, r[N];
  CHECK(!app_copy(q, cb[0], src->buf, 0, xb->buf, xoff, N * 4,
                  VK_NULL_HANDLE, 0, a, av, VK_NULL_HANDLE),
        "the application's first submission");
  CHECK_OK(act_queue_wait_vulkan_semaphore(aq, a, av));
  act_op_desc_t *d, *sm;
  CHECK_OK(act_op_desc_create_by_name(op, &d));
  CHECK_OK(act_op_desc_create_by_name("softmax", &sm));
  act_arg_t a1[2] = {{ACT_ARG_X, dev_tensor(bx, N)},
                     {ACT_ARG_Y, dev_tensor(by, N)}};
  act_arg_t a2[2] = {{ACT_ARG_X, dev_tensor(by, N)},
                     {ACT_ARG_Y, dev_tensor(by, N)}};
  CHECK_OK(act_forward(aq, d, 2, a1, NULL));
  if (chain)
    CHECK_OK(act_forward(aq, sm, 2, a2, NULL));
  CHECK_OK(act_queue_signal_vulkan_semaphore(aq, b, bv));
  CHECK(!app_copy(q, cb[1], yb->buf, 0, dst->buf, 0, N * 4, b, bv,
                  VK_NULL_HANDLE, 0, fence),
        "the application's second submission");
  vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX);
  vkResetFences(dev, 1, &fence);
  reference(op, x, r, N);
  if (chain)
    reference("softmax", r, r, N);
  double w = 0;
  const float *y = dst->map;
  for (int i = 0; i < N; i++) {
    double e = act_ulp_error(ACT_F32, y[i], r[i]);
    w = e > w ? e : w;
  }
  memset(dst->map, 0, N * 4);
  act_op_desc_destroy(d);
  act_op_desc_destroy(sm);
  return w;
}

static int run_device(VkInstance inst, VkPhysicalDevice pd,
                      act_context_t *cpu) {
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties(pd, &props);
  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
  VkQueueFamilyProperties qf[16];
  nq = nq > 16 ? 16 : nq;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
  uint32_t family = UINT32_MAX;
  for (uint32_t i = 0; i < nq && family == UINT32_MAX; i++)
    if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
      family = i;
  if (family == UINT32_MAX)
    return 0;
  VkPhysicalDeviceTimelineSemaphoreFeatures tf = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
  VkPhysicalDeviceFeatures2 f2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &tf};
  bool v12 = props.apiVersion >= VK_API_VERSION_1_2;
  if (v12)
    vkGetPhysicalDeviceFeatures2(pd, &f2);
  bool timeline = v12 && tf.timelineSemaphore;
  VkPhysicalDeviceTimelineSemaphoreFeatures en = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
      .timelineSemaphore = VK_TRUE};
  float prio = 1.0f;
  VkDeviceQueueCreateInfo qi = {.sType =
                                    VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                .queueFamilyIndex = family,
                                .queueCount = 1,
                                .pQueuePriorities = &prio};
  VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                           .pNext = timeline ? &en : NULL,
                           .queueCreateInfoCount = 1,
                           .pQueueCreateInfos = &qi};
  VkDevice dev;
  if (vkCreateDevice(pd, &di, NULL, &dev) != VK_SUCCESS) {
    CHECK(false, "vkCreateDevice on %s", props.deviceName);
    return 0;
  }
  VkQueue q;
  vkGetDeviceQueue(dev, family, 0, &q);

  act_vulkan_device_desc_t d;
  memset(&d, 0, sizeof d);
  d.size = sizeof d;
  d.instance = inst;
  d.physical_device = pd;
  d.device = dev;
  d.queue_family = family;
  d.queue = q;
  d.get_instance_proc_addr = vkGetInstanceProcAddr;
  d.api_version = v12 ? VK_API_VERSION_1_2 : VK_API_VERSION_1_1;
  d.timeline_semaphores = timeline;
  act_context_t *ctx = NULL;
  act_status_t st = act_context_create_vulkan(&d, &ctx);
  CHECK(st == ACT_OK || st == ACT_NO_DEVICE, "act_context_create_vulkan: %s",
        act_last_error());
  int took = ctx != NULL;
  if (!ctx) {
    vkDestroyDevice(dev, NULL);
    return 0;
  }
  act_device_info_t info;
  CHECK_OK(act_context_get_device(ctx, &info));
  printf("device %s: %s (the application's VkDevice)\n", info.name,
         info.description);
  VkDeviceSize align = props.limits.minStorageBufferOffsetAlignment;
  VkDeviceSize xoff = align > 16 ? align : 64;
  hbuf_t src, xb, yb, dst;
  CHECK(!hbuf(pd, dev, N * 4, &src) && !hbuf(pd, dev, xoff + N * 4, &xb) &&
            !hbuf(pd, dev, N * 4, &yb) && !hbuf(pd, dev, N * 4, &dst),
        "buffers");
  float *x = src.map;
  for (int i = 0; i < N; i++)
    x[i] = -12.0f + 24.0f * (float)i / (N - 1);
  VkCommandPoolCreateInfo pi = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
      .queueFamilyIndex = family};
  VkCommandPool pool;
  vkCreateCommandPool(dev, &pi, NULL, &pool);
  VkCommandBufferAllocateInfo cai = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 2};
  VkCommandBuffer cb[2]; /* the upload's and the readback's */
  vkAllocateCommandBuffers(dev, &cai, cb);
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence;
  vkCreateFence(dev, &fci, NULL, &fence);

  act_queue_t *aq = NULL;
  act_buffer_t *bx = NULL, *by = NULL;
  CHECK_OK(act_queue_create(ctx, &aq));
  CHECK_OK(act_buffer_create_vulkan(ctx, xb.buf, xoff, N * 4, &bx));
  CHECK_OK(act_buffer_create_vulkan(ctx, yb.buf, 0, N * 4, &by));
  VkDevice gd;
  VkQueue gq;
  VkBuffer gb;
  VkDeviceSize go;
  CHECK_OK(act_context_get_vulkan(ctx, &gd, &gq));
  CHECK_OK(act_buffer_get_vulkan(bx, &gb, &go));
  CHECK(gd == dev && gq == q && gb == xb.buf && go == xoff,
        "handles given back");
  if (aq && bx && by) {
    VkSemaphore s1 = semaphore(dev, false), s2 = semaphore(dev, false);
    double u = round_trip(dev, q, cb, fence, aq, bx, by, &src, &xb, xoff, &yb,
                          &dst, s1, 0, s2, 0, "gelu", false);
    CHECK(u <= 2, "%s: gelu on the application's device: %.1f ulp",
          info.name, u);
    printf("  %s binary semaphores: gelu %.1f ulp\n", info.name, u);
    u = round_trip(dev, q, cb, fence, aq, bx, by, &src, &xb, xoff, &yb, &dst,
                   s1, 0, s2, 0, "tanh", true);
    CHECK(u <= 8, "%s: softmax(tanh): %.1f ulp", info.name, u);
    if (timeline) {
      VkSemaphore t = semaphore(dev, true);
      u = round_trip(dev, q, cb, fence, aq, bx, by, &src, &xb, xoff, &yb,
                     &dst, t, 1, t, 2, "sigmoid", false);
      CHECK(u <= 2, "%s: timeline semaphores: sigmoid %.1f ulp", info.name,
            u);
      printf("  %s timeline semaphores: sigmoid %.1f ulp\n", info.name, u);
      /* the spec allows destroying a semaphore once the fence that
       * followed its last use has signalled, but lavapipe's queue thread
       * may still touch it then (a SEGV in its mutex under load, seen
       * once under ASan): drain the queue first */
      vkQueueWaitIdle(q);
      vkDestroySemaphore(dev, t, NULL);
    } else {
      printf("  %s: no timeline semaphores\n", info.name);
    }
    CHECK_OK(act_queue_finish(aq));

    /* refusals */
    act_buffer_t *bad = NULL;
    if (align > 4) {
      st = act_buffer_create_vulkan(ctx, xb.buf, 4, 64, &bad);
      CHECK(st == ACT_INVALID_ARGUMENT &&
                strstr(act_last_error(), "minStorageBufferOffsetAlignment"),
            "an unaligned offset: %s", act_last_error());
    }
    st = act_buffer_create_vulkan(ctx, xb.buf, 0, 0, &bad);
    CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "range"),
          "no range: %s", act_last_error());
    act_buffer_t *small = NULL;
    CHECK_OK(act_buffer_create_vulkan(ctx, yb.buf, 0, 64, &small));
    act_arg_t big[2] = {{ACT_ARG_X, dev_tensor(bx, N)},
                        {ACT_ARG_Y, dev_tensor(small, N)}};
    act_op_desc_t *relu;
    CHECK_OK(act_op_desc_create_by_name("relu", &relu));
    st = act_forward(aq, relu, 2, big, NULL);
    CHECK(st == ACT_BAD_SHAPE, "a tensor past the wrapped range: %s %s",
          act_status_name(st), act_last_error());
    act_op_desc_destroy(relu);
    act_buffer_destroy(small);
    CHECK(act_buffer_create_vulkan(cpu, xb.buf, 0, 64, &bad) ==
                  ACT_INVALID_ARGUMENT &&
              strstr(act_last_error(), "not a Vulkan context"),
          "a cpu context: %s", act_last_error());
    if (!timeline) {
      st = act_queue_signal_vulkan_semaphore(aq, s1, 5);
      CHECK(st == ACT_UNSUPPORTED, "a timeline value undeclared: %s",
            act_last_error());
    }
    CHECK(bad == NULL, "a refused call returned a buffer");
    act_vulkan_device_desc_t wrong = d;
    wrong.queue_family = 99;
    act_context_t *none = NULL;
    st = act_context_create_vulkan(&wrong, &none);
    CHECK(st == ACT_INVALID_ARGUMENT && strstr(act_last_error(), "family"),
          "a queue family without compute: %s", act_last_error());
    wrong = d;
    wrong.device = VK_NULL_HANDLE;
    CHECK(act_context_create_vulkan(&wrong, &none) == ACT_NULL_POINTER &&
              strstr(act_last_error(), "device"),
          "no device: %s", act_last_error());
    CHECK(none == NULL, "a refused call returned a context");
    vkQueueWaitIdle(q); /* as for t above */
    vkDestroySemaphore(dev, s1, NULL);
    vkDestroySemaphore(dev, s2, NULL);
  }
  act_buffer_destroy(bx);
  act_buffer_destroy(by);
  act_queue_destroy(aq);
  act_context_destroy(ctx);
  /* the application's device and buffers are still its own */
  CHECK(vkDeviceWaitIdle(dev) == VK_SUCCESS, "the device after actkit");
  vkDestroyFence(dev, fence, NULL);
  vkDestroyCommandPool(dev, pool, NULL);
  hbuf_free(dev, &src), hbuf_free(dev, &xb), hbuf_free(dev, &yb);
  hbuf_free(dev, &dst);
  vkDestroyDevice(dev, NULL);
  return took;
}

int main(void) {
  int seen[ACT_BACKEND_COUNT] = {0};
  seen[ACT_BACKEND_OPENCL] = 1; /* not this test's: test_interop_opencl */
  act_context_t *cpu = NULL;
  CHECK_OK(act_context_create("cpu", &cpu));
  const char *val = getenv("ACTKIT_VK_VALIDATION");
  bool validate = val && strcmp(val, "1") == 0;
  uint32_t api = VK_API_VERSION_1_1;
  PFN_vkEnumerateInstanceVersion ver =
      (PFN_vkEnumerateInstanceVersion)vkGetInstanceProcAddr(
          NULL, "vkEnumerateInstanceVersion");
  if (ver)
    ver(&api);
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "test_interop_vulkan",
                           .apiVersion = api >= VK_API_VERSION_1_2
                                             ? VK_API_VERSION_1_2
                                             : VK_API_VERSION_1_1};
  const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
  const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
  VkDebugUtilsMessengerCreateInfoEXT dbg = {
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
      .pfnUserCallback = on_message};
  VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                             .pNext = validate ? &dbg : NULL,
                             .pApplicationInfo = &app,
                             .enabledLayerCount = validate ? 1u : 0u,
                             .ppEnabledLayerNames = layers,
                             .enabledExtensionCount = validate ? 1u : 0u,
                             .ppEnabledExtensionNames = exts};
  VkInstance inst = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  if (vkCreateInstance(&ci, NULL, &inst) == VK_SUCCESS) {
    PFN_vkCreateDebugUtilsMessengerEXT cm =
        (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            inst, "vkCreateDebugUtilsMessengerEXT");
    if (validate && cm)
      cm(inst, &dbg, NULL, &messenger);
    uint32_t n = 0;
    vkEnumeratePhysicalDevices(inst, &n, NULL);
    VkPhysicalDevice pds[16];
    n = n > 16 ? 16 : n;
    vkEnumeratePhysicalDevices(inst, &n, pds);
    for (uint32_t i = 0; i < n; i++)
      seen[ACT_BACKEND_VULKAN] |= run_device(inst, pds[i], cpu);
    if (messenger) {
      PFN_vkDestroyDebugUtilsMessengerEXT dm =
          (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
              inst, "vkDestroyDebugUtilsMessengerEXT");
      if (dm)
        dm(inst, messenger, NULL);
    }
    vkDestroyInstance(inst, NULL);
  }
  act_context_destroy(cpu);
  CHECK(messages == 0, "%d validation message(s) on the application's "
        "instance", messages);
  CHECK(act__diag_count() == 0, "%llu validation message(s) on actkit's",
        (unsigned long long)act__diag_count());
  act_test_require_backends(seen);
  return act_test_finish("test_interop_vulkan");
}
