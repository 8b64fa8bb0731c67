/*
 * custom_demo.c - a custom activation from a file (README.md, "Custom
 * activations"): registers the ops examples/custom_swish.cl declares, runs
 * swish_beta forward and backward on a device, and compares with the CPU
 * reference.
 *
 *   custom_demo [FILE.cl] [DEVICE]     (defaults: custom_swish.cl, auto)
 */
#include <actkit.h>
#include <stdio.h>

int main(int argc, char **argv) {
  const char *file = argc > 1 ? argv[1] : "examples/custom_swish.cl";
  const char *device = argc > 2 ? argv[2] : "auto";
  act_op_t op;
  act_context_t *ctx = NULL;
  act_op_desc_t *desc = NULL;
  /* A typo in the file is reported here, as FILE:LINE:COL: error: ... */
  if (act_custom_register_file(file, &op, 1, NULL) ||
      act_op_desc_create(op, &desc) ||
      act_op_desc_set_param(desc, "beta", 1.5) ||
      act_context_create(device, &ctx)) {
    fprintf(stderr, "%s\n", act_last_error());
    act_op_desc_destroy(desc);
    return 1;
  }
  act_device_info_t info;
  act_context_get_device(ctx, &info);
  float x[5] = {-4.0f, -1.0f, 0.0f, 1.0f, 4.0f}, y[5], r[5];
  float dy[5] = {1, 1, 1, 1, 1}, dx[5];
  int64_t dims[1] = {5};
  act_arg_t fwd[] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                     {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)}};
  act_arg_t ref[] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                     {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, r)}};
  act_arg_t bwd[] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                     {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, dims, dy)},
                     {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, dims, dx)}};
  int rc = 0;
  if (act_forward_host(ctx, desc, 2, fwd) ||
      act_reference_forward(desc, 2, ref) ||
      act_backward_host(ctx, desc, 3, bwd)) {
    fprintf(stderr, "%s\n", act_last_error());
    rc = 1;
  } else {
    printf("%s on %s, beta = 1.5\n", act_op_info(op)->name, info.name);
    printf("%8s %14s %14s %14s\n", "x", "y", "reference", "dy/dx");
    for (int i = 0; i < 5; i++) {
      printf("%8g %14.9g %14.9g %14.9g\n", x[i], y[i], r[i], dx[i]);
      if (!act_custom_within_bound(ACT_F32, y[i], r[i]))
        rc = 1;
    }
  }
  act_context_destroy(ctx);
  act_op_desc_destroy(desc);
  return rc;
}
