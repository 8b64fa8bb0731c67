/*
 * variants.c - every kernel program a device plan can dispatch: one
 * (file, kernel, op, dtype) per row of plan.c and plan_axis.c. Backends
 * that load precompiled modules (Vulkan) look them up by these names, and
 * `actc compile` compiles exactly these, so the two cannot drift apart
 * silently: a dispatch whose variant is not listed here fails with a
 * message naming it.
 *
 * Adding a kernel: add its row here (and its plan), then regenerate
 * kernels/spirv (`cmake --build build --target spirv`).
 */
#include "internal.h"

#include <string.h>

#define ACT__DT_FLOAT 0x7u /* f32, f16, bf16 */
#define ACT__ALL_ELTWISE (-1) /* every element-wise op */

static const struct {
  const char *file, *kernel;
  int op;           /* an act_op_t, or ACT__ALL_ELTWISE */
  unsigned dtypes;  /* bit d: ACT_DTYPE d (0 f32, 1 f16, 2 bf16, 3 i32) */
} act__variant_rows[] = {
    {"eltwise.cl", "act_eltwise", ACT__ALL_ELTWISE, ACT__DT_FLOAT},
    /* Vulkan's whole vectors of four (limits.eltwise_vec4) */
    {"eltwise.cl", "act_eltwise4", ACT__ALL_ELTWISE, ACT__DT_FLOAT},
    /* the second form of gelu (tanh), softplus (beta != 1) and celu
     * (alpha != 1): eltwise.cl, "two forms" */
    {"eltwise.cl", "act_eltwise_alt", ACT_OP_GELU, ACT__DT_FLOAT},
    {"eltwise.cl", "act_eltwise_alt", ACT_OP_SOFTPLUS, ACT__DT_FLOAT},
    {"eltwise.cl", "act_eltwise_alt", ACT_OP_CELU, ACT__DT_FLOAT},
    {"eltwise.cl", "act_eltwise4_alt", ACT_OP_GELU, ACT__DT_FLOAT},
    {"eltwise.cl", "act_eltwise4_alt", ACT_OP_SOFTPLUS, ACT__DT_FLOAT},
    {"eltwise.cl", "act_eltwise4_alt", ACT_OP_CELU, ACT__DT_FLOAT},
    {"eltwise.cl", "act_prelu", ACT_OP_PRELU, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax", ACT_OP_SOFTMAX, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax", ACT_OP_LOG_SOFTMAX, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax", ACT_OP_SOFTMIN, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax4", ACT_OP_SOFTMAX, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax4", ACT_OP_LOG_SOFTMAX, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax4", ACT_OP_SOFTMIN, ACT__DT_FLOAT},
    /* CPU drivers' softmax (limits.axis_row_loops): f32 only */
    {"axis.cl", "act_softmax_row", ACT_OP_SOFTMAX, 0x1u},
    {"axis.cl", "act_softmax_row", ACT_OP_LOG_SOFTMAX, 0x1u},
    {"axis.cl", "act_softmax_row", ACT_OP_SOFTMIN, 0x1u},
    {"axis.cl", "act_logsumexp", ACT_OP_LOGSUMEXP, ACT__DT_FLOAT},
    {"axis.cl", "act_logsumexp_row", ACT_OP_LOGSUMEXP, 0x1u},
    {"axis.cl", "act_standardize", ACT_OP_STANDARDIZE, ACT__DT_FLOAT},
    {"axis.cl", "act_standardize_row", ACT_OP_STANDARDIZE, 0x1u},
    {"axis.cl", "act_glu", ACT_OP_GLU, ACT__DT_FLOAT},
    {"axis.cl", "act_one_hot", ACT_OP_ONE_HOT, ACT__DT_FLOAT | 0x8u},
    /* the dense layer (plan_dense.c): act_gemm with the common
     * activations fused (linear: none); other ops run act_eltwise after
     * it. act_dense_epilogue (after CLBlast) is OpenCL-only: no rows. */
    {"gemm.cl", "act_gemm", ACT_OP_LINEAR, ACT__DT_FLOAT},
    {"gemm.cl", "act_gemm", ACT_OP_RELU, ACT__DT_FLOAT},
    {"gemm.cl", "act_gemm", ACT_OP_LEAKY_RELU, ACT__DT_FLOAT},
    {"gemm.cl", "act_gemm", ACT_OP_ELU, ACT__DT_FLOAT},
    {"gemm.cl", "act_gemm", ACT_OP_GELU, ACT__DT_FLOAT},
    {"gemm.cl", "act_gemm", ACT_OP_SILU, ACT__DT_FLOAT},
    {"gemm.cl", "act_gemm", ACT_OP_SIGMOID, ACT__DT_FLOAT},
    {"gemm.cl", "act_gemm", ACT_OP_TANH, ACT__DT_FLOAT},
    /* backward (plan_bwd.c) */
    {"eltwise_bwd.cl", "act_eltwise_bwd", ACT__ALL_ELTWISE, ACT__DT_FLOAT},
    /* gelu's tanh form (approximate != 0) */
    {"eltwise_bwd.cl", "act_eltwise_bwd_gelu_tanh", ACT_OP_GELU, ACT__DT_FLOAT},
    /* Vulkan's whole vectors of four (limits.eltwise_vec4) */
    {"eltwise_bwd.cl", "act_eltwise_bwd4", ACT__ALL_ELTWISE, ACT__DT_FLOAT},
    {"eltwise_bwd.cl", "act_eltwise_bwd4_gelu_tanh", ACT_OP_GELU,
     ACT__DT_FLOAT},
    {"eltwise_bwd.cl", "act_prelu_bwd", ACT_OP_PRELU, ACT__DT_FLOAT},
    {"eltwise_bwd.cl", "act_prelu_dalpha", ACT_OP_PRELU, ACT__DT_FLOAT},
    {"eltwise_bwd.cl", "act_glu_bwd", ACT_OP_GLU, ACT__DT_FLOAT},
    {"axis.cl", "act_logsumexp_bwd", ACT_OP_LOGSUMEXP, ACT__DT_FLOAT},
    {"axis.cl", "act_logsumexp_bwd_row", ACT_OP_LOGSUMEXP, 0x1u},
    {"axis.cl", "act_softmax_bwd", ACT_OP_SOFTMAX, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax_bwd", ACT_OP_LOG_SOFTMAX, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax_bwd", ACT_OP_SOFTMIN, ACT__DT_FLOAT},
    {"axis.cl", "act_softmax_bwd_row", ACT_OP_SOFTMAX, 0x1u},
    {"axis.cl", "act_softmax_bwd_row", ACT_OP_LOG_SOFTMAX, 0x1u},
    {"axis.cl", "act_softmax_bwd_row", ACT_OP_SOFTMIN, 0x1u},
    {"axis.cl", "act_standardize_bwd", ACT_OP_STANDARDIZE, ACT__DT_FLOAT},
    {"axis.cl", "act_standardize_bwd_row", ACT_OP_STANDARDIZE, 0x1u},
};

size_t act__variants(const char *file, act__variant_t *out, size_t cap) {
  size_t n = 0;
  size_t nrows = sizeof act__variant_rows / sizeof *act__variant_rows;
  for (size_t r = 0; r < nrows; r++) {
    if (file && strcmp(file, act__variant_rows[r].file) != 0)
      continue;
    for (int op = 0; op < ACT_OP_COUNT; op++) {
      int want = act__variant_rows[r].op;
      if (want == ACT__ALL_ELTWISE
              ? act_op_info((act_op_t)op)->kind != ACT_KIND_ELTWISE
              : op != want)
        continue;
      /* 4 and 5: f16 and bf16 in native 16-bit storage (Vulkan) */
      for (int dt = 0; dt < 6; dt++) {
        if (!(act__variant_rows[r].dtypes >> (dt >= 4 ? dt - 3 : dt) & 1u))
          continue;
        if (n < cap) {
          out[n].file = act__variant_rows[r].file;
          out[n].kernel = act__variant_rows[r].kernel;
          out[n].op = op;
          out[n].dtype = dt;
        }
        n++;
      }
    }
  }
  return n;
}

static const char *const act__dtype_codes[6] = {"f32",  "f16",  "bf16",
                                                "i32",  "f16s", "bf16s"};

bool act__variant_name(const char *file, const char *kernel, int op,
                       int dtype, char *buf, size_t n) {
  if (op < 0 || op >= ACT_OP_COUNT || dtype < 0 || dtype > 5)
    return false;
  size_t stem = strlen(file);
  if (stem > 3 && strcmp(file + stem - 3, ".cl") == 0)
    stem -= 3;
  int k = snprintf(buf, n, "%.*s.%s.%s.%s.spv", (int)stem, file, kernel,
                   act_op_info((act_op_t)op)->name, act__dtype_codes[dtype]);
  return k > 0 && (size_t)k < n;
}
