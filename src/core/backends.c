/*
 * backends.c - the list of backends compiled into this build. CMake defines
 * ACT_HAVE_<BACKEND> for each backend folder it adds; the cpu reference is
 * always there.
 */
#include "internal.h"

const act__backend_t *act__cpu_backend_get(void);
#ifdef ACT_HAVE_OPENCL
const act__backend_t *act__opencl_backend_get(void);
#endif
#ifdef ACT_HAVE_VULKAN
const act__backend_t *act__vulkan_backend_get(void);
#endif

static const act__backend_t *act__backend_list[4];

const act__backend_t *const *act__backend_table(void) {
  if (!act__backend_list[0]) {
    int n = 0;
    act__backend_list[n++] = act__cpu_backend_get();
#ifdef ACT_HAVE_OPENCL
    act__backend_list[n++] = act__opencl_backend_get();
#endif
#ifdef ACT_HAVE_VULKAN
    act__backend_list[n++] = act__vulkan_backend_get();
#endif
    act__backend_list[n] = NULL;
  }
  return act__backend_list;
}

/* Driver diagnostics (internal.h): a process-wide count. */
#include <stdatomic.h>

static atomic_uint_fast64_t act__diag_messages;

void act__diag_count_add(void) { atomic_fetch_add(&act__diag_messages, 1); }

uint64_t act__diag_count(void) {
  return (uint64_t)atomic_load(&act__diag_messages);
}
