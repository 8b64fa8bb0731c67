/*
 * testutil.h - the small harness every test uses: CHECK macros that count
 * failures and report the file and line, a SKIP convention, and helpers to
 * run an op on host arrays.
 */
#ifndef ACT_TESTUTIL_H
#define ACT_TESTUTIL_H

#include "actkit.h"

#include <stdint.h>
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

/* After a test has visited every device: seen[b] is 1 for each backend b
 * that had one. A backend named in $ACTKIT_REQUIRE_BACKENDS (comma-
 * separated, e.g. "opencl,vulkan": CI sets it) without a device is a
 * failure; any other is reported as SKIP. */
void act_test_require_backends(const int seen[ACT_BACKEND_COUNT]);

/* Runs op (by name, with "k=v,k=v" params, may be NULL or "") on the given
 * device context (NULL: the reference) over f32 host arrays x[n] -> y[n],
 * element-wise or along the last axis of a 1-D tensor. Returns the status. */
act_status_t act_test_run1d(act_context_t *ctx, const char *op,
                            const char *params, act_dtype_t dtype,
                            const float *x, float *y, int64_t n);

/* Creates a descriptor for op (a name or alias) and applies "k=v,k=v"
 * params (may be NULL or ""). "preset=NAME" is applied first, whatever its
 * place in the list, so that explicit parameters override it (docs/ops.md's
 * rule); "axis=N" (or "axis=all") goes to act_op_desc_set_axis. On failure
 * *desc is NULL and the status of the failing call is returned. */
act_status_t act_test_desc(const char *op, const char *params,
                           act_op_desc_t **desc);

/* v rounded once, to nearest even, to dtype (f32, f16 or bf16), with
 * overflow to infinity and gradual underflow. Written from the formats'
 * definitions with integer arithmetic on long double, independently of the
 * library, so that tests can check the library's rounding against it. */
long double act_test_round(act_dtype_t dtype, long double v);

/* Spacing of dtype's values at |v| (the subnormal spacing below the
 * smallest normal), as docs/accuracy.md defines an ulp. Independent of the library. */
long double act_test_ulp(act_dtype_t dtype, long double v);

/* The element-wise input sweep of the device tests (docs/accuracy.md):
 * special values (signed zeros, denormals, FLT_MIN, huge magnitudes,
 * +-inf, NaN), a grid of 2001 points over [-15, 15], 4001 points over
 * [-0.01, 0.01] and 201 over +-1e-3 around each kink and ramp end (+-1,
 * +-3, +-6), and nrand log-uniform magnitudes in [1e-8, 1e4] of both
 * signs from a fixed seed. malloc'd; *n its length. */
float *act_test_sweep(size_t nrand, uint32_t seed, size_t *n);

#endif
