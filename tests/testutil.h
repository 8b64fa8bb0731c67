/*
 * testutil.h - the small harness every test uses: CHECK macros that count
 * failures and report the file and line, a SKIP convention, and helpers to
 * run an op on host arrays.
 */
#ifndef ACT_TESTUTIL_H
#define ACT_TESTUTIL_H

#include "actkit.h"

#include <stdio.h>

extern int act_test_failures;
extern int act_test_checks;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    act_test_checks++;                                                        \
    if (!(cond)) {                                                            \
      act_test_failures++;                                                    \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__,        \
              #cond);                                                         \
      fprintf(stderr, __VA_ARGS__);                                           \
      fprintf(stderr, "\n");                                                  \
    }                                                                         \
  } while (0)

/* Checks that a call returned ACT_OK, printing act_last_error() if not. */
#define CHECK_OK(call)                                                        \
  do {                                                                        \
    act_status_t st_ = (call);                                                \
    CHECK(st_ == ACT_OK, "%s -> %s: %s", #call, act_status_name(st_),         \
          act_last_error());                                                  \
  } while (0)

/* Prints the summary line ctest output readers understand and returns the
 * process exit code. */
int act_test_finish(const char *name);

/* Runs op (by name, with "k=v,k=v" params, may be NULL or "") on the given
 * device context (NULL: the reference) over f32 host arrays x[n] -> y[n],
 * element-wise or along the last axis of a 1-D tensor. Returns the status. */
act_status_t act_test_run1d(act_context_t *ctx, const char *op,
                            const char *params, act_dtype_t dtype,
                            const float *x, float *y, int64_t n);

#endif
