#include "testutil.h"

#include <stdlib.h>
#include <string.h>

int act_test_failures;
int act_test_checks;

int act_test_finish(const char *name) {
  printf("%s: %d checks, %d failed\n", name, act_test_checks,
         act_test_failures);
  if (act_test_checks == 0) {
    printf("%s: no check ran\n", name);
    return 1;
  }
  return act_test_failures ? 1 : 0;
}

act_status_t act_test_run1d(act_context_t *ctx, const char *op,
                            const char *params, act_dtype_t dtype,
                            const float *x, float *y, int64_t n) {
  act_op_desc_t *desc;
  act_status_t st = act_op_desc_create_by_name(op, &desc);
  if (st)
    return st;
  if (params && *params) {
    char *copy = strdup(params), *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv && !st;
         kv = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(kv, '=');
      if (!eq) {
        st = ACT_BAD_PARAM;
        break;
      }
      *eq = '\0';
      if (strcmp(kv, "preset") == 0) {
        act_preset_t p;
        st = act_preset_parse(eq + 1, &p);
        if (!st)
          st = act_op_desc_set_preset(desc, p);
      } else {
        st = act_op_desc_set_param(desc, kv, strtod(eq + 1, NULL));
      }
    }
    free(copy);
  }
  size_t es = act_dtype_size(dtype);
  void *xb = malloc((size_t)n * es + 1), *yb = malloc((size_t)n * es + 1);
  if (!st && (!xb || !yb))
    st = ACT_OUT_OF_MEMORY;
  if (!st)
    st = act_convert(ACT_F32, x, dtype, xb, (size_t)n);
  if (!st) {
    int64_t d[1] = {n};
    act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(dtype, 1, d, xb)},
                      {ACT_ARG_Y, act_tensor_make(dtype, 1, d, yb)}};
    st = ctx ? act_forward_host(ctx, desc, 2, a)
             : act_reference_forward(desc, 2, a);
  }
  if (!st)
    st = act_convert(dtype, yb, ACT_F32, y, (size_t)n);
  free(xb);
  free(yb);
  act_op_desc_destroy(desc);
  return st;
}
