/*
 * clblast.c - CLBlast's SGEMM for the dense layer (its C API,
 * clblast_c.h). libclblast.so.1 is opened at run time, like the ICD
 * loader: it links libOpenCL.so.1 itself, which is then the loader this
 * backend already opened (one process, one soname), so the cl_mem and
 * cl_command_queue handles are shared as they are. A machine without
 * libclblast runs the dense layer through our own kernel.
 */
#include "clblast.h"

#include <clblast_c.h>
#include <dlfcn.h>
#include <pthread.h>

static struct {
  __typeof__(&CLBlastSgemm) sgemm;
  const char *why;
} act__blast;

static pthread_once_t act__blast_once = PTHREAD_ONCE_INIT;

static void act__blast_load(void) {
  static const char *const names[] = {"libclblast.so.1", "libclblast.so"};
  void *h = NULL;
  for (size_t i = 0; i < 2 && !h; i++)
    h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    act__blast.why = "libclblast.so.1 is not installed (Debian: libclblast1)";
    return;
  }
  *(void **)&act__blast.sgemm = dlsym(h, "CLBlastSgemm");
  if (!act__blast.sgemm) {
    act__blast.why = "libclblast has no CLBlastSgemm";
    dlclose(h);
  } /* else kept open for the life of the process */
}

bool act__clblast_available(const char **why) {
  pthread_once(&act__blast_once, act__blast_load);
  *why = act__blast.why;
  return act__blast.sgemm != NULL;
}

act_status_t act__clblast_sgemm(cl_command_queue q, const act__dense_t *c,
                                cl_event *ev) {
  const char *why;
  if (!act__clblast_available(&why))
    return act__fail(ACT_UNSUPPORTED, "dense: CLBlast: %s", why);
  const act_tensor_t *dst = c->z ? c->z : c->y;
  size_t m = (size_t)c->m, n = (size_t)c->n, k = (size_t)c->k;
  cl_command_queue queue = q;
  CLBlastStatusCode r = act__blast.sgemm(
      CLBlastLayoutRowMajor, CLBlastTransposeNo,
      c->transpose_w ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k,
      1.0f, (cl_mem)c->x->buffer->handle, c->x->offset / sizeof(float), k,
      (cl_mem)c->w->buffer->handle, c->w->offset / sizeof(float),
      c->transpose_w ? k : n, 0.0f, (cl_mem)dst->buffer->handle,
      dst->offset / sizeof(float), n, &queue, ev);
  if (r != CLBlastSuccess)
    return act__fail(r == CLBlastOpenCLOutOfResources ||
                             r == CLBlastTempBufferAllocFailure
                         ? ACT_OUT_OF_MEMORY
                         : ACT_BACKEND,
                     "dense: CLBlastSgemm(%zu x %zu x %zu) failed with status "
                     "%d", m, n, k, (int)r);
  return ACT_OK;
}
