/*
 * ops.c - the op table (names, aliases, parameters, defaults, checks),
 * op descriptors and framework presets.
 *
 * The public ACT_OP_MAP in actkit.h gives the enum and canonical names; this
 * file gives each op's parameters. Adding an op touches ACT_OP_MAP, one row
 * here, its reference math in src/cpu/, and its kernel in kernels/opencl/.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* How a parameter's value is checked. */
typedef enum {
  CK_FINITE,  /* any finite number */
  CK_NONZERO, /* finite, not 0 */
  CK_NONNEG,  /* finite, >= 0 */
  CK_NOTNAN,  /* anything but NaN (inf allowed) */
  CK_BOOL,    /* 0 or 1 */
  CK_COUNT    /* integer in [1, 2^31 - 1] */
} act__check_t;

#define INF_ INFINITY
#define REQ_ NAN /* a required parameter: no default */

/* One row: the public info plus the check of each parameter. */
typedef struct {
  act_op_info_t info;
  act__check_t check[ACT_MAX_PARAMS];
} act__op_row_t;

#define P_(n, d, doc) {n, d, doc}

/* clang-format off */
static const act__op_row_t act__rows[ACT_OP_COUNT] = {
  [ACT_OP_RELU] = {{ACT_OP_RELU, "relu", {NULL}, ACT_KIND_ELTWISE, 3,
    {P_("negative_slope", 0.0, "slope below the threshold (finite)"),
     P_("max_value", INF_, "upper saturation (not NaN)"),
     P_("threshold", 0.0, "values at or below it take the slope (finite)")},
    0, "x > threshold ? x : negative_slope*(x - threshold), then min(., max_value)"},
    {CK_FINITE, CK_NOTNAN, CK_FINITE}},
  [ACT_OP_RELU6] = {{ACT_OP_RELU6, "relu6", {NULL}, ACT_KIND_ELTWISE, 0, {{0}},
    0, "min(max(x, 0), 6)"}, {0}},
  [ACT_OP_LEAKY_RELU] = {{ACT_OP_LEAKY_RELU, "leaky_relu", {NULL},
    ACT_KIND_ELTWISE, 1,
    {P_("negative_slope", 0.01, "slope for x < 0 (finite)")},
    0, "x >= 0 ? x : negative_slope*x"}, {CK_FINITE}},
  [ACT_OP_PRELU] = {{ACT_OP_PRELU, "prelu", {NULL}, ACT_KIND_ELTWISE, 1,
    {P_("alpha", 0.25, "slope when no alpha tensor is given (finite)")},
    1, "x >= 0 ? x : alpha*x, alpha a tensor along the channel axis"},
    {CK_FINITE}},
  [ACT_OP_ELU] = {{ACT_OP_ELU, "elu", {NULL}, ACT_KIND_ELTWISE, 1,
    {P_("alpha", 1.0, "scale of the negative part (finite)")},
    0, "x > 0 ? x : alpha*expm1(x)"}, {CK_FINITE}},
  [ACT_OP_SELU] = {{ACT_OP_SELU, "selu", {NULL}, ACT_KIND_ELTWISE, 0, {{0}},
    0, "lambda*(x > 0 ? x : alpha*expm1(x)), lambda=1.0507.., alpha=1.6732.."},
    {0}},
  [ACT_OP_CELU] = {{ACT_OP_CELU, "celu", {NULL}, ACT_KIND_ELTWISE, 1,
    {P_("alpha", 1.0, "scale (finite, non-zero)")},
    0, "max(0, x) + min(0, alpha*expm1(x/alpha))"}, {CK_NONZERO}},
  [ACT_OP_GELU] = {{ACT_OP_GELU, "gelu", {"gelu_approx"}, ACT_KIND_ELTWISE, 1,
    {P_("approximate", 0.0, "1: tanh approximation, 0: exact erf form")},
    0, "x/2*(1 + erf(x/sqrt(2))), or the tanh form when approximate"},
    {CK_BOOL}},
  [ACT_OP_SILU] = {{ACT_OP_SILU, "silu", {"swish"}, ACT_KIND_ELTWISE, 1,
    {P_("beta", 1.0, "slope inside the sigmoid (finite)")},
    0, "x*sigmoid(beta*x)"}, {CK_FINITE}},
  [ACT_OP_SIGMOID] = {{ACT_OP_SIGMOID, "sigmoid", {"logistic"},
    ACT_KIND_ELTWISE, 0, {{0}}, 0, "1/(1 + exp(-x))"}, {0}},
  [ACT_OP_LOG_SIGMOID] = {{ACT_OP_LOG_SIGMOID, "log_sigmoid", {NULL},
    ACT_KIND_ELTWISE, 0, {{0}}, 0, "-softplus(-x)"}, {0}},
  [ACT_OP_TANH] = {{ACT_OP_TANH, "tanh", {NULL}, ACT_KIND_ELTWISE, 0, {{0}},
    0, "tanh(x)"}, {0}},
  [ACT_OP_HARD_SIGMOID] = {{ACT_OP_HARD_SIGMOID, "hard_sigmoid", {NULL},
    ACT_KIND_ELTWISE, 2,
    {P_("alpha", 1.0 / 6.0, "slope (finite)"),
     P_("beta", 0.5, "offset (finite)")},
    0, "min(1, max(0, alpha*x + beta))"}, {CK_FINITE, CK_FINITE}},
  [ACT_OP_HARD_SILU] = {{ACT_OP_HARD_SILU, "hard_silu", {"hard_swish"},
    ACT_KIND_ELTWISE, 2,
    {P_("alpha", 1.0 / 6.0, "slope of the hard sigmoid (finite)"),
     P_("beta", 0.5, "offset of the hard sigmoid (finite)")},
    0, "x*hard_sigmoid(x)"}, {CK_FINITE, CK_FINITE}},
  [ACT_OP_HARD_TANH] = {{ACT_OP_HARD_TANH, "hard_tanh", {NULL},
    ACT_KIND_ELTWISE, 0, {{0}}, 0, "x > 1 ? 1 : (x < -1 ? -1 : x)"}, {0}},
  [ACT_OP_SOFTPLUS] = {{ACT_OP_SOFTPLUS, "softplus", {NULL}, ACT_KIND_ELTWISE,
    2,
    {P_("beta", 1.0, "sharpness (finite, non-zero)"),
     P_("threshold", INF_, "beta*x above it gives x (not NaN)")},
    0, "log(1 + exp(beta*x))/beta, computed stably"},
    {CK_NONZERO, CK_NOTNAN}},
  [ACT_OP_SOFTSIGN] = {{ACT_OP_SOFTSIGN, "softsign", {"soft_sign"},
    ACT_KIND_ELTWISE, 0, {{0}}, 0, "x/(|x| + 1)"}, {0}},
  [ACT_OP_MISH] = {{ACT_OP_MISH, "mish", {NULL}, ACT_KIND_ELTWISE, 0, {{0}},
    0, "x*tanh(softplus(x))"}, {0}},
  [ACT_OP_SQUAREPLUS] = {{ACT_OP_SQUAREPLUS, "squareplus", {NULL},
    ACT_KIND_ELTWISE, 1, {P_("b", 4.0, "smoothness (finite, >= 0)")},
    0, "(x + sqrt(x^2 + b))/2"}, {CK_NONNEG}},
  [ACT_OP_SPARSE_PLUS] = {{ACT_OP_SPARSE_PLUS, "sparse_plus", {NULL},
    ACT_KIND_ELTWISE, 0, {{0}}, 0,
    "x <= -1: 0; x >= 1: x; else (x + 1)^2/4"}, {0}},
  [ACT_OP_SPARSE_SIGMOID] = {{ACT_OP_SPARSE_SIGMOID, "sparse_sigmoid", {NULL},
    ACT_KIND_ELTWISE, 0, {{0}}, 0,
    "x <= -1: 0; x >= 1: 1; else (x + 1)/2"}, {0}},
  [ACT_OP_EXP] = {{ACT_OP_EXP, "exp", {"exponential"}, ACT_KIND_ELTWISE, 0,
    {{0}}, 0, "exp(x)"}, {0}},
  [ACT_OP_LINEAR] = {{ACT_OP_LINEAR, "linear", {"identity"}, ACT_KIND_ELTWISE,
    0, {{0}}, 0, "x"}, {0}},
  [ACT_OP_GELU_QUICK] = {{ACT_OP_GELU_QUICK, "gelu_quick", {NULL},
    ACT_KIND_ELTWISE, 0, {{0}}, 0, "x*sigmoid(1.702*x)"}, {0}},
  [ACT_OP_HARD_SHRINK] = {{ACT_OP_HARD_SHRINK, "hard_shrink", {NULL},
    ACT_KIND_ELTWISE, 1, {P_("lambda", 0.5, "half-width (finite, >= 0)")},
    0, "|x| > lambda ? x : 0"}, {CK_NONNEG}},
  [ACT_OP_SOFT_SHRINK] = {{ACT_OP_SOFT_SHRINK, "soft_shrink", {NULL},
    ACT_KIND_ELTWISE, 1, {P_("lambda", 0.5, "half-width (finite, >= 0)")},
    0, "x > lambda ? x - lambda : (x < -lambda ? x + lambda : 0)"},
    {CK_NONNEG}},
  [ACT_OP_TANH_SHRINK] = {{ACT_OP_TANH_SHRINK, "tanh_shrink", {NULL},
    ACT_KIND_ELTWISE, 0, {{0}}, 0, "x - tanh(x)"}, {0}},
  [ACT_OP_THRESHOLD] = {{ACT_OP_THRESHOLD, "threshold", {NULL},
    ACT_KIND_ELTWISE, 2,
    {P_("threshold", REQ_, "required; x above it passes (not NaN)"),
     P_("value", REQ_, "required; the value at or below (not NaN)")},
    0, "x > threshold ? x : value"}, {CK_NOTNAN, CK_NOTNAN}},
  [ACT_OP_CLIP] = {{ACT_OP_CLIP, "clip", {"clipped_relu"}, ACT_KIND_ELTWISE, 2,
    {P_("min", 0.0, "lower bound (not NaN, <= max)"),
     P_("max", 6.0, "upper bound (not NaN, >= min)")},
    0, "min(max(x, min), max)"}, {CK_NOTNAN, CK_NOTNAN}},
  [ACT_OP_SOFTMAX] = {{ACT_OP_SOFTMAX, "softmax", {NULL}, ACT_KIND_AXIS, 0,
    {{0}}, -1, "exp(x - m)/sum(exp(x - m)) along the axis; where: u8 mask"},
    {0}},
  [ACT_OP_LOG_SOFTMAX] = {{ACT_OP_LOG_SOFTMAX, "log_softmax", {NULL},
    ACT_KIND_AXIS, 0, {{0}}, -1,
    "x - m - log(sum(exp(x - m))) along the axis; where: u8 mask"}, {0}},
  [ACT_OP_LOGSUMEXP] = {{ACT_OP_LOGSUMEXP, "logsumexp", {NULL}, ACT_KIND_AXIS,
    2,
    {P_("keepdims", 0.0, "1: keep the reduced axis as length 1"),
     P_("return_sign", 0.0, "1: log|sum| and its sign (ACT_ARG_SIGN)")},
    -1, "log(sum(b*exp(x))) along the axis (or all axes)"},
    {CK_BOOL, CK_BOOL}},
  [ACT_OP_SOFTMIN] = {{ACT_OP_SOFTMIN, "softmin", {NULL}, ACT_KIND_AXIS, 0,
    {{0}}, -1, "softmax(-x) along the axis; where: u8 mask"}, {0}},
  [ACT_OP_GLU] = {{ACT_OP_GLU, "glu", {NULL}, ACT_KIND_AXIS, 0, {{0}}, -1,
    "a*sigmoid(b), a and b the halves of x along the axis"}, {0}},
  [ACT_OP_STANDARDIZE] = {{ACT_OP_STANDARDIZE, "standardize", {NULL},
    ACT_KIND_AXIS, 1,
    {P_("epsilon", 1e-5, "added to the variance (finite, >= 0)")},
    -1, "(x - mean)/sqrt(variance + epsilon) along the axis"}, {CK_NONNEG}},
  [ACT_OP_ONE_HOT] = {{ACT_OP_ONE_HOT, "one_hot", {NULL}, ACT_KIND_AXIS, 1,
    {P_("num_classes", REQ_, "required; length of the new axis (>= 1)")},
    -1, "i32 indices -> 1 at the index, 0 elsewhere, along a new axis"},
    {CK_COUNT}},
};
/* clang-format on */

/* Aliases that also set a parameter. */
static const act__alias_t act__param_aliases[] = {
    {"gelu_approx", ACT_OP_GELU, "approximate", 1.0},
};

const act_op_info_t *act_op_info(act_op_t op) {
  if ((int)op >= ACT_OP_CUSTOM_BASE)
    return act__custom_info((int)op);
  if ((int)op < 0 || op >= ACT_OP_COUNT)
    return NULL;
  return &act__rows[op].info;
}

int act__param_index(act_op_t op, const char *name) {
  const act_op_info_t *info = act_op_info(op);
  for (int i = 0; i < info->nparams; i++)
    if (strcmp(info->params[i].name, name) == 0)
      return i;
  return -1;
}

act_status_t act_op_lookup(const char *name, act_op_t *op) {
  act__clear_error();
  if (!name || !op)
    return act__fail(ACT_NULL_POINTER, "act_op_lookup: NULL argument");
  for (int i = 0; i < ACT_OP_COUNT; i++) {
    const act_op_info_t *info = &act__rows[i].info;
    if (strcmp(info->name, name) == 0) {
      *op = (act_op_t)i;
      return ACT_OK;
    }
    for (int a = 0; a < ACT_MAX_ALIASES && info->aliases[a]; a++)
      if (strcmp(info->aliases[a], name) == 0) {
        *op = (act_op_t)i;
        return ACT_OK;
      }
  }
  size_t nc = act_custom_count();
  for (size_t i = 0; i < nc; i++) {
    const act_op_info_t *info = act__custom_info(ACT_OP_CUSTOM_BASE + (int)i);
    if (info && strcmp(info->name, name) == 0) {
      *op = info->op;
      return ACT_OK;
    }
  }
  return act__fail(ACT_UNKNOWN_OP, "unknown op '%s' (not a built-in op, an "
                   "alias or a registered custom op)", name);
}

/* ---- checks --------------------------------------------------------------- */

static act_status_t act__check_value(const act_op_info_t *info, int i,
                                     double v) {
  const char *what = NULL;
  if ((int)info->op >= ACT_OP_CUSTOM_BASE) {
    if (!isfinite(v))
      return act__fail(ACT_BAD_PARAM, "%s: parameter '%s' = %.17g must be "
                       "finite", info->name, info->params[i].name, v);
    return ACT_OK;
  }
  switch (act__rows[info->op].check[i]) {
  case CK_FINITE:
    if (!isfinite(v))
      what = "must be finite";
    break;
  case CK_NONZERO:
    if (!isfinite(v) || v == 0.0)
      what = "must be finite and non-zero";
    break;
  case CK_NONNEG:
    if (!isfinite(v) || v < 0.0)
      what = "must be finite and >= 0";
    break;
  case CK_NOTNAN:
    if (isnan(v))
      what = "must not be NaN";
    break;
  case CK_BOOL:
    if (v != 0.0 && v != 1.0)
      what = "must be 0 or 1";
    break;
  case CK_COUNT:
    if (!(v >= 1.0 && v <= 2147483647.0) || v != floor(v))
      what = "must be an integer >= 1";
    break;
  }
  if (what)
    return act__fail(ACT_BAD_PARAM, "%s: parameter '%s' = %.17g %s",
                     info->name, info->params[i].name, v, what);
  return ACT_OK;
}

act_status_t act__desc_validate(const act_op_desc_t *desc) {
  const act_op_info_t *info = act_op_info(desc->op);
  for (int i = 0; i < info->nparams; i++) {
    if (isnan(desc->p[i]) && isnan(info->params[i].default_value))
      return act__fail(ACT_BAD_PARAM, "%s: parameter '%s' is required",
                       info->name, info->params[i].name);
    act_status_t st = act__check_value(info, i, desc->p[i]);
    if (st)
      return st;
  }
  if (desc->op == ACT_OP_CLIP && desc->p[0] > desc->p[1])
    return act__fail(ACT_BAD_PARAM, "clip: min = %.17g is greater than "
                     "max = %.17g", desc->p[0], desc->p[1]);
  return ACT_OK;
}

/* ---- descriptors ---------------------------------------------------------- */

act_status_t act_op_desc_create(act_op_t op, act_op_desc_t **desc) {
  act__clear_error();
  if (!desc)
    return act__fail(ACT_NULL_POINTER, "act_op_desc_create: desc is NULL");
  const act_op_info_t *info = act_op_info(op);
  if (!info)
    return act__fail(ACT_UNKNOWN_OP, "act_op_desc_create: op %d is not an "
                     "act_op_t or a registered custom op", (int)op);
  act_op_desc_t *d = calloc(1, sizeof *d);
  if (!d)
    return act__fail(ACT_OUT_OF_MEMORY, "act_op_desc_create: out of memory");
  d->op = op;
  for (int i = 0; i < ACT_MAX_PARAMS; i++)
    d->p[i] = i < info->nparams ? info->params[i].default_value : 0.0;
  d->axis = info->default_axis;
  *desc = d;
  return ACT_OK;
}

act_status_t act_op_desc_create_by_name(const char *name,
                                        act_op_desc_t **desc) {
  act_op_t op;
  act_status_t st = act_op_lookup(name, &op);
  if (st)
    return st;
  st = act_op_desc_create(op, desc);
  if (st)
    return st;
  for (size_t i = 0; i < sizeof act__param_aliases / sizeof *act__param_aliases;
       i++) {
    const act__alias_t *a = &act__param_aliases[i];
    if (strcmp(a->name, name) == 0)
      (*desc)->p[act__param_index(a->op, a->param)] = a->value;
  }
  return ACT_OK;
}

void act_op_desc_destroy(act_op_desc_t *desc) { free(desc); }

act_op_t act_op_desc_op(const act_op_desc_t *desc) {
  return desc ? desc->op : ACT_OP_COUNT;
}

act_status_t act_op_desc_set_param(act_op_desc_t *desc, const char *name,
                                   double value) {
  act__clear_error();
  if (!desc || !name)
    return act__fail(ACT_NULL_POINTER, "act_op_desc_set_param: NULL argument");
  const act_op_info_t *info = act_op_info(desc->op);
  int i = act__param_index(desc->op, name);
  if (i < 0) {
    if (strcmp(name, "axis") == 0)
      return act_op_desc_set_axis(desc, (int)value);
    char list[256] = "";
    for (int k = 0; k < info->nparams; k++) {
      strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
      strncat(list, info->params[k].name, sizeof list - strlen(list) - 1);
    }
    return act__fail(ACT_BAD_PARAM, "%s: no parameter '%s' (it has: %s)",
                     info->name, name, info->nparams ? list : "none");
  }
  act_status_t st = act__check_value(info, i, value);
  if (st)
    return st;
  if (desc->op == ACT_OP_CLIP) {
    double lo = i == 0 ? value : desc->p[0], hi = i == 1 ? value : desc->p[1];
    if (lo > hi)
      return act__fail(ACT_BAD_PARAM, "clip: min = %.17g is greater than "
                       "max = %.17g", lo, hi);
  }
  desc->p[i] = value;
  return ACT_OK;
}

act_status_t act_op_desc_get_param(const act_op_desc_t *desc,
                                   const char *name, double *value) {
  act__clear_error();
  if (!desc || !name || !value)
    return act__fail(ACT_NULL_POINTER, "act_op_desc_get_param: NULL argument");
  int i = act__param_index(desc->op, name);
  if (i < 0)
    return act__fail(ACT_BAD_PARAM, "%s: no parameter '%s'",
                     act_op_info(desc->op)->name, name);
  *value = desc->p[i];
  return ACT_OK;
}

static bool act__has_axis(act_op_t op) {
  return act_op_info(op)->kind == ACT_KIND_AXIS || op == ACT_OP_PRELU;
}

act_status_t act_op_desc_set_axis(act_op_desc_t *desc, int axis) {
  act__clear_error();
  if (!desc)
    return act__fail(ACT_NULL_POINTER, "act_op_desc_set_axis: desc is NULL");
  const char *name = act_op_info(desc->op)->name;
  if (!act__has_axis(desc->op))
    return act__fail(ACT_BAD_PARAM, "%s: element-wise op has no axis", name);
  if (axis == ACT_AXIS_ALL && desc->op != ACT_OP_LOGSUMEXP)
    return act__fail(ACT_BAD_PARAM, "%s: only logsumexp takes all axes", name);
  if (axis != ACT_AXIS_ALL && (axis < -ACT_MAX_DIMS - 1 || axis > ACT_MAX_DIMS))
    return act__fail(ACT_BAD_PARAM, "%s: axis %d is out of range", name, axis);
  desc->axis = axis;
  return ACT_OK;
}

int act_op_desc_get_axis(const act_op_desc_t *desc) {
  return desc ? desc->axis : 0;
}

/* ---- presets -------------------------------------------------------------- */

static const char *const act__preset_names[ACT_PRESET_COUNT] = {
    "none", "jax", "keras2", "axon", "kaun", "torch"};

/* Per preset: hard_sigmoid alpha, beta; gelu approximate; leaky_relu slope;
 * softmax-family axis (ACT_AXIS_ALL + 1 = leave unchanged). Sources: the
 * docs/ops.md preset table (jax.nn, tf_keras, Axon and Kaun documentation). */
static const struct {
  double hs_alpha, hs_beta, gelu_approx, leaky_slope;
  int axis;
  bool set_axis;
} act__presets[ACT_PRESET_COUNT] = {
    [ACT_PRESET_NONE] = {1.0 / 6.0, 0.5, 0.0, 0.01, -1, true},
    [ACT_PRESET_JAX] = {1.0 / 6.0, 0.5, 1.0, 0.01, -1, true},
    [ACT_PRESET_KERAS2] = {0.2, 0.5, 0.0, 0.3, -1, true},
    [ACT_PRESET_AXON] = {0.2, 0.2, 0.0, 0.01, 1, true},
    [ACT_PRESET_KAUN] = {1.0 / 6.0, 0.5, 0.0, 0.01, -1, true},
    [ACT_PRESET_TORCH] = {1.0 / 6.0, 0.5, 0.0, 0.01, -1, false},
};

act_status_t act_preset_parse(const char *name, act_preset_t *preset) {
  act__clear_error();
  if (!name || !preset)
    return act__fail(ACT_NULL_POINTER, "act_preset_parse: NULL argument");
  for (int i = 0; i < ACT_PRESET_COUNT; i++)
    if (strcmp(name, act__preset_names[i]) == 0) {
      *preset = (act_preset_t)i;
      return ACT_OK;
    }
  return act__fail(ACT_BAD_PARAM, "unknown preset '%s' (jax, keras2, axon, "
                   "kaun, torch, none)", name);
}

const char *act_preset_name(act_preset_t preset) {
  if ((int)preset < 0 || preset >= ACT_PRESET_COUNT)
    return NULL;
  return act__preset_names[preset];
}

act_status_t act_op_desc_set_preset(act_op_desc_t *desc,
                                    act_preset_t preset) {
  act__clear_error();
  if (!desc)
    return act__fail(ACT_NULL_POINTER, "act_op_desc_set_preset: desc is NULL");
  if ((int)preset < 0 || preset >= ACT_PRESET_COUNT)
    return act__fail(ACT_BAD_PARAM, "preset %d is not an act_preset_t",
                     (int)preset);
  switch (desc->op) {
  case ACT_OP_HARD_SIGMOID:
  case ACT_OP_HARD_SILU:
    desc->p[0] = act__presets[preset].hs_alpha;
    desc->p[1] = act__presets[preset].hs_beta;
    break;
  case ACT_OP_GELU:
    desc->p[0] = act__presets[preset].gelu_approx;
    break;
  case ACT_OP_LEAKY_RELU:
    desc->p[0] = act__presets[preset].leaky_slope;
    break;
  case ACT_OP_SOFTMAX:
  case ACT_OP_LOG_SOFTMAX:
  case ACT_OP_SOFTMIN:
  case ACT_OP_LOGSUMEXP:
    if (act__presets[preset].set_axis)
      desc->axis = act__presets[preset].axis;
    break;
  default:
    break;
  }
  return ACT_OK;
}
