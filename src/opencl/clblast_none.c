/*
 * clblast_none.c - a build without CLBlast (ACTKIT_CLBLAST=OFF, or
 * libclblast-dev not found): the dense layer uses our own GEMM kernel.
 */
#include "clblast.h"

bool act__clblast_available(const char **why) {
  *why = "this build has no CLBlast (configured with ACTKIT_CLBLAST=OFF, or "
         "clblast_c.h was not found)";
  return false;
}

act_status_t act__clblast_sgemm(cl_command_queue q, const act__dense_t *c,
                                cl_event *ev) {
  (void)q, (void)c, (void)ev;
  return act__fail(ACT_UNSUPPORTED, "dense: this build has no CLBlast");
}
