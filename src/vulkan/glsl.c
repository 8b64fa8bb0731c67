/*
 * glsl.c - assembled programs to SPIR-V with glslang's C API: used by
 * `actc compile --target spirv` (the committed modules of kernels/spirv)
 * and by the Vulkan backend for custom ops at run time. Built only when
 * glslang and SPIRV-Tools are found (CMake option ACTKIT_WITH_GLSLANG);
 * glsl_none.c stands in otherwise.
 *
 * One GLSL program has one entry point, and a kernel file may hold
 * several kernels, so a program is compiled in two steps: glslang
 * preprocesses it (the prelude's ACT_KERNEL leaves a marker
 * `act_gl_kernel NAME` before each kernel and a placeholder `act_gl_slot`
 * for each buffer binding); the other kernels are then blanked out, marker
 * to closing brace, keeping line breaks, and the slots numbered 0, 1, ...
 * in order; glslang then parses that text. Its #line directives carry the
 * files' own names and lines, so diagnostics read "FILE:LINE: ...". The
 * result is SPIR-V 1.3 for Vulkan 1.1, unoptimised (the drivers optimise),
 * validated by SPIRV-Tools, and depends only on the source and glslang.
 */
#include "../core/internal.h"

#include <glslang/Include/glslang_c_interface.h>
#include <glslang/build_info.h>
#include <glslang/Public/resource_limits_c.h>
#include <pthread.h>
#include <spirv-tools/libspirv.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t act__glsl_once = PTHREAD_ONCE_INIT;
/* glslang's process state is made once and kept for the process. */
static void act__glsl_init(void) { glslang_initialize_process(); }

/* One compile at a time: glslang's C API shares state between shaders. */
static pthread_mutex_t act__glsl_lock = PTHREAD_MUTEX_INITIALIZER;

bool act__glsl_available(void) { return true; }

/* Successful compiles in this process (under act__glsl_lock). */
static uint64_t act__glsl_compiles;

uint64_t act__glsl_count(void) {
  pthread_mutex_lock(&act__glsl_lock);
  uint64_t n = act__glsl_compiles;
  pthread_mutex_unlock(&act__glsl_lock);
  return n;
}

/* The glslang the library was built with (part of the SPIR-V cache key). */
const char *act__glsl_version(void) {
#define ACT_GLSL_STR_(x) #x
#define ACT_GLSL_STR(x) ACT_GLSL_STR_(x)
  return "glslang " ACT_GLSL_STR(GLSLANG_VERSION_MAJOR) "." ACT_GLSL_STR(
      GLSLANG_VERSION_MINOR) "." ACT_GLSL_STR(GLSLANG_VERSION_PATCH)
      GLSLANG_VERSION_FLAVOR;
}

static bool is_ident(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

/* Blanks text[a, b) except line breaks. */
static void blank(char *text, size_t a, size_t b) {
  for (size_t i = a; i < b; i++)
    if (text[i] != '\n')
      text[i] = ' ';
}

/* Keeps kernel `kernel` of a preprocessed program (see the header
 * comment). Returns false with a message in err when the kernel is not
 * there exactly once or the text is not as the prelude makes it. */
static bool select_kernel(char *text, const char *kernel, char *err,
                          size_t nerr) {
  static const char marker[] = "act_gl_kernel", slot[] = "act_gl_slot";
  size_t len = strlen(text), found = 0, nslot = 0;
  for (size_t i = 0; i < len;) {
    if (!is_ident(text[i])) {
      i++;
      continue;
    }
    size_t s = i;
    while (i < len && is_ident(text[i]))
      i++;
    size_t n = i - s;
    if (n == sizeof slot - 1 && memcmp(text + s, slot, n) == 0) {
      char num[16];
      int k = snprintf(num, sizeof num, "%zu", nslot++);
      blank(text, s, i);
      memcpy(text + s, num, (size_t)k);
      continue;
    }
    if (n != sizeof marker - 1 || memcmp(text + s, marker, n) != 0)
      continue;
    /* the kernel's name */
    size_t a = i;
    while (a < len && (text[a] == ' ' || text[a] == '\t'))
      a++;
    size_t b = a;
    while (b < len && is_ident(text[b]))
      b++;
    if (b - a == strlen(kernel) && memcmp(text + a, kernel, b - a) == 0) {
      blank(text, s, b);
      found++;
      i = b;
      continue;
    }
    /* another kernel: up to `main`, its body's '{', the matching '}' */
    size_t m = b;
    while (m + 4 <= len && !(memcmp(text + m, "main", 4) == 0 &&
                             !is_ident(text[m - 1]) &&
                             (m + 4 == len || !is_ident(text[m + 4]))))
      m++;
    size_t o = m;
    while (o < len && text[o] != '{')
      o++;
    int depth = 0;
    size_t e = o;
    for (; e < len; e++) {
      if (text[e] == '{')
        depth++;
      else if (text[e] == '}' && --depth == 0)
        break;
    }
    if (m + 4 > len || o >= len || e >= len) {
      snprintf(err, nerr, "kernel %.*s: no body found after its "
               "ACT_KERNEL", (int)(b - a), text + a);
      return false;
    }
    blank(text, s, e + 1);
    i = e + 1;
  }
  if (found > 1) {
    snprintf(err, nerr, "kernel %s is defined %zu times", kernel, found);
    return false;
  }
  if (found == 0) {
    snprintf(err, nerr, "kernel %s is not in the program (is its "
             "ACT_KERNEL under an #if that is false for this op?)", kernel);
    return false;
  }
  return true;
}

static glslang_input_t glsl_input(const char *code) {
  glslang_input_t in;
  memset(&in, 0, sizeof in);
  in.language = GLSLANG_SOURCE_GLSL;
  in.stage = GLSLANG_STAGE_COMPUTE;
  in.client = GLSLANG_CLIENT_VULKAN;
  in.client_version = GLSLANG_TARGET_VULKAN_1_1;
  in.target_language = GLSLANG_TARGET_SPV;
  in.target_language_version = GLSLANG_TARGET_SPV_1_3;
  in.code = code;
  in.default_version = 450;
  in.default_profile = GLSLANG_NO_PROFILE;
  in.force_default_version_and_profile = 0;
  in.forward_compatible = 0;
  in.messages = (glslang_messages_t)(GLSLANG_MSG_SPV_RULES_BIT |
                                     GLSLANG_MSG_VULKAN_RULES_BIT);
  in.resource = glslang_default_resource();
  return in;
}

static char *dup_log(const char *s) {
  size_t n = s ? strlen(s) : 0;
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s ? s : "", n);
    d[n] = '\0';
  }
  return d;
}

static act_status_t compile_locked(const char *src, const char *kernel,
                                   uint32_t **words, size_t *nwords,
                                   char **log) {
  act_status_t st = ACT_BUILD;
  char err[512] = "";
  glslang_input_t in = glsl_input(src);
  glslang_shader_t *pre = glslang_shader_create(&in), *sh = NULL;
  glslang_program_t *prog = NULL;
  char *text = NULL;
  if (!pre || !glslang_shader_preprocess(pre, &in)) {
    if (pre)
      *log = dup_log(glslang_shader_get_info_log(pre));
    snprintf(err, sizeof err, "preprocessing failed");
    goto out;
  }
  text = dup_log(glslang_shader_get_preprocessed_code(pre));
  if (!text) {
    st = ACT_OUT_OF_MEMORY;
    snprintf(err, sizeof err, "out of memory");
    goto out;
  }
  if (!select_kernel(text, kernel, err, sizeof err))
    goto out;
  in = glsl_input(text);
  sh = glslang_shader_create(&in);
  if (!sh || !glslang_shader_preprocess(sh, &in) ||
      !glslang_shader_parse(sh, &in)) {
    if (sh)
      *log = dup_log(glslang_shader_get_info_log(sh));
    snprintf(err, sizeof err, "compilation failed");
    goto out;
  }
  prog = glslang_program_create();
  glslang_program_add_shader(prog, sh);
  if (!glslang_program_link(prog, GLSLANG_MSG_SPV_RULES_BIT |
                                      GLSLANG_MSG_VULKAN_RULES_BIT)) {
    *log = dup_log(glslang_program_get_info_log(prog));
    snprintf(err, sizeof err, "linking failed");
    goto out;
  }
  glslang_spv_options_t opt;
  memset(&opt, 0, sizeof opt);
  opt.disable_optimizer = true; /* the drivers optimise; keep it literal */
  glslang_program_SPIRV_generate_with_options(prog, GLSLANG_STAGE_COMPUTE,
                                              &opt);
  const char *msg = glslang_program_SPIRV_get_messages(prog);
  if (msg && *msg)
    *log = dup_log(msg);
  size_t n = glslang_program_SPIRV_get_size(prog);
  uint32_t *w = malloc((n ? n : 1) * sizeof *w);
  if (!w || n == 0) {
    free(w);
    snprintf(err, sizeof err, "glslang produced no SPIR-V");
    goto out;
  }
  glslang_program_SPIRV_get(prog, w);
  /* spirv-val, with Vulkan 1.1's rules */
  spv_context vctx = spvContextCreate(SPV_ENV_VULKAN_1_1);
  spv_const_binary_t bin = {w, n};
  spv_diagnostic diag = NULL;
  if (spvValidate(vctx, &bin, &diag) != SPV_SUCCESS) {
    snprintf(err, sizeof err, "SPIR-V validation failed: %s",
             diag && diag->error ? diag->error : "?");
    free(w);
  } else {
    *words = w;
    *nwords = n;
    st = ACT_OK;
  }
  spvDiagnosticDestroy(diag);
  spvContextDestroy(vctx);
out:
  if (prog)
    glslang_program_delete(prog);
  if (sh)
    glslang_shader_delete(sh);
  if (pre)
    glslang_shader_delete(pre);
  free(text);
  if (st)
    act__fail(st, "glslang: kernel %s: %s%s%s", kernel, err,
              *log && **log ? ":\n" : "", *log ? *log : "");
  return st;
}

act_status_t act__glsl_compile(const char *src, const char *kernel,
                               uint32_t **words, size_t *nwords, char **log) {
  *log = NULL;
  pthread_once(&act__glsl_once, act__glsl_init);
  pthread_mutex_lock(&act__glsl_lock);
  act_status_t st = compile_locked(src, kernel, words, nwords, log);
  act__glsl_compiles += st == ACT_OK;
  pthread_mutex_unlock(&act__glsl_lock);
  return st;
}
