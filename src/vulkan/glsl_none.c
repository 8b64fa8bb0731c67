/*
 * glsl_none.c - stands in for glsl.c in a build without glslang
 * (ACTKIT_WITH_GLSLANG off, or glslang-dev / spirv-tools not found): no
 * run-time SPIR-V, so custom ops are not available on Vulkan.
 */
#include "../core/internal.h"

bool act__glsl_available(void) { return false; }

const char *act__glsl_version(void) { return "none"; }

uint64_t act__glsl_count(void) { return 0; }

act_status_t act__glsl_compile(const char *src, const char *kernel,
                               uint32_t **words, size_t *nwords, char **log) {
  (void)src, (void)words, (void)nwords;
  *log = NULL;
  return act__fail(ACT_UNSUPPORTED, "glslang: kernel %s: run-time SPIR-V "
                   "compilation is not available in this build (actkit was "
                   "built without glslang)", kernel);
}
