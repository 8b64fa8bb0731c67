/*
 * test_params.c - validation: every bad op name, parameter, operand and
 * pointer gives the right status and a message that names what is wrong
 * (docs/runtime.md, "Errors"); a failed call changes nothing; aliases and framework
 * presets (docs/ops.md) set what docs/ops.md says.
 */
#include "testutil.h"

#include <math.h>
#include <string.h>

/* Checks that `got` is `want` and that act_last_error() is non-empty and
 * contains each of the words (NULL-terminated list). */
static void expect_impl(const char *file, int line, const char *what,
                        act_status_t got, act_status_t want,
                        const char *const *words) {
  const char *msg = act_last_error();
  act_test_checks++;
  if (got != want) {
    act_test_failures++;
    fprintf(stderr, "%s:%d: %s: got %s, expected %s (message: '%s')\n", file,
            line, what, act_status_name(got), act_status_name(want), msg);
    return;
  }
  act_test_checks++;
  if (!msg || !*msg) {
    act_test_failures++;
    fprintf(stderr, "%s:%d: %s: %s with an empty act_last_error()\n", file,
            line, what, act_status_name(got));
    return;
  }
  for (; *words; words++) {
    act_test_checks++;
    if (!strstr(msg, *words)) {
      act_test_failures++;
      fprintf(stderr, "%s:%d: %s: message '%s' does not name '%s'\n", file,
              line, what, msg, *words);
    }
  }
}

#define EXPECT(call, want, ...)                                               \
  do {                                                                        \
    act_status_t st__ = (call);                                               \
    const char *const w__[] = {__VA_ARGS__, NULL};                            \
    expect_impl(__FILE__, __LINE__, #call, st__, want, w__);                  \
  } while (0)

/* EXPECT without words to look for (only a non-empty message). */
#define EXPECT_ST(call, want)                                                 \
  do {                                                                        \
    act_status_t st__ = (call);                                               \
    const char *const w__[] = {NULL};                                         \
    expect_impl(__FILE__, __LINE__, #call, st__, want, w__);                  \
  } while (0)

static act_op_desc_t *make(const char *name) {
  act_op_desc_t *d = NULL;
  CHECK_OK(act_op_desc_create_by_name(name, &d));
  return d;
}

static double get(const act_op_desc_t *d, const char *name) {
  double v = NAN;
  CHECK_OK(act_op_desc_get_param(d, name, &v));
  return v;
}

/* All parameters and the axis of d, to compare before and after a call. */
typedef struct {
  double p[ACT_MAX_PARAMS];
  int axis;
} snapshot_t;

static snapshot_t snap(const act_op_desc_t *d) {
  snapshot_t s;
  memset(&s, 0, sizeof s);
  const act_op_info_t *info = act_op_info(act_op_desc_op(d));
  for (int i = 0; i < info->nparams; i++)
    act_op_desc_get_param(d, info->params[i].name, &s.p[i]);
  s.axis = act_op_desc_get_axis(d);
  return s;
}

static int same_snap(const snapshot_t *a, const snapshot_t *b) {
  for (int i = 0; i < ACT_MAX_PARAMS; i++)
    if (!(a->p[i] == b->p[i] || (isnan(a->p[i]) && isnan(b->p[i]))))
      return 0;
  return a->axis == b->axis;
}

/* A failing set_param: right status, message naming op and parameter, and
 * the descriptor unchanged. */
static void bad_param(const char *file, int line, const char *op,
                      const char *param, double value, act_status_t want) {
  act_op_desc_t *d = make(op);
  if (!d)
    return;
  snapshot_t before = snap(d);
  act_status_t st = act_op_desc_set_param(d, param, value);
  char what[160];
  snprintf(what, sizeof what, "%s.set_param(%s, %g)", op, param, value);
  const char *const words[] = {act_op_info(act_op_desc_op(d))->name, param,
                               NULL};
  expect_impl(file, line, what, st, want, words);
  snapshot_t after = snap(d);
  act_test_checks++;
  if (!same_snap(&before, &after)) {
    act_test_failures++;
    fprintf(stderr, "%s:%d: %s: the descriptor changed\n", file, line, what);
  }
  act_op_desc_destroy(d);
}

#define BAD_PARAM(op, param, value)                                           \
  bad_param(__FILE__, __LINE__, op, param, value, ACT_BAD_PARAM)

/* f32 x and y of shape [2, 3] (the usual case of the operand checks). */
static float xs[6] = {-1, 0, 1, 2, 3, 4}, ys[6];
static const int64_t d23[2] = {2, 3};

static act_arg_t arg(act_arg_kind_t k, act_dtype_t t, int nd,
                     const int64_t *dims, void *data) {
  act_arg_t a;
  a.kind = k;
  a.tensor = act_tensor_make(t, nd, dims, data);
  return a;
}

static void test_names(void) {
  act_op_t op;
  act_op_desc_t *d = (act_op_desc_t *)&op; /* must be left alone */
  EXPECT(act_op_lookup("nonsense_op", &op), ACT_UNKNOWN_OP, "nonsense_op");
  EXPECT(act_op_desc_create_by_name("nonsense_op", &d), ACT_UNKNOWN_OP,
         "nonsense_op");
  CHECK(d == (act_op_desc_t *)&op, "a failed create wrote *desc");
  EXPECT_ST(act_op_lookup("", &op), ACT_UNKNOWN_OP);
  EXPECT(act_op_lookup("RELU", &op), ACT_UNKNOWN_OP, "RELU");
  EXPECT(act_op_desc_create(ACT_OP_COUNT, &d), ACT_UNKNOWN_OP,
         "act_op_desc_create");
  EXPECT(act_op_desc_create((act_op_t)-1, &d), ACT_UNKNOWN_OP,
         "act_op_desc_create");
  CHECK(act_op_info(ACT_OP_COUNT) == NULL, "act_op_info(COUNT) not NULL");
  CHECK(act_op_info((act_op_t)-1) == NULL, "act_op_info(-1) not NULL");
}

static void test_param_values(void) {
  BAD_PARAM("relu", "slope", 1.0); /* unknown parameter */
  BAD_PARAM("relu6", "alpha", 1.0); /* an op without parameters */
  BAD_PARAM("celu", "alpha", 0.0);
  BAD_PARAM("celu", "alpha", -0.0);
  BAD_PARAM("celu", "alpha", NAN);
  BAD_PARAM("relu", "negative_slope", NAN);
  BAD_PARAM("relu", "max_value", NAN);
  BAD_PARAM("relu", "threshold", NAN);
  BAD_PARAM("leaky_relu", "negative_slope", NAN);
  BAD_PARAM("leaky_relu", "negative_slope", INFINITY);
  BAD_PARAM("elu", "alpha", NAN);
  BAD_PARAM("silu", "beta", NAN);
  BAD_PARAM("hard_sigmoid", "alpha", NAN);
  BAD_PARAM("hard_silu", "beta", NAN);
  BAD_PARAM("softplus", "beta", 0.0);
  BAD_PARAM("softplus", "beta", NAN);
  BAD_PARAM("softplus", "threshold", NAN);
  BAD_PARAM("gelu", "approximate", 2.0);
  BAD_PARAM("gelu", "approximate", 0.5);
  BAD_PARAM("gelu", "approximate", NAN);
  BAD_PARAM("squareplus", "b", -1.0);
  BAD_PARAM("squareplus", "b", -1e-300);
  BAD_PARAM("squareplus", "b", NAN);
  BAD_PARAM("hard_shrink", "lambda", -0.5);
  BAD_PARAM("soft_shrink", "lambda", -0.5);
  BAD_PARAM("soft_shrink", "lambda", NAN);
  BAD_PARAM("threshold", "threshold", NAN);
  BAD_PARAM("threshold", "value", NAN);
  BAD_PARAM("clip", "min", NAN);
  BAD_PARAM("clip", "max", NAN);
  BAD_PARAM("clip", "min", 7.0);  /* greater than the default max 6 */
  BAD_PARAM("clip", "max", -1.0); /* less than the default min 0 */
  BAD_PARAM("logsumexp", "keepdims", 2.0);
  BAD_PARAM("logsumexp", "return_sign", -1.0);
  BAD_PARAM("standardize", "epsilon", -1e-5);
  BAD_PARAM("standardize", "epsilon", NAN);
  BAD_PARAM("one_hot", "num_classes", 0.0);
  BAD_PARAM("one_hot", "num_classes", 2.5);
  BAD_PARAM("one_hot", "num_classes", NAN);

  /* Limits that are allowed. */
  act_op_desc_t *d = make("squareplus");
  if (d) {
    CHECK_OK(act_op_desc_set_param(d, "b", 0.0));
    CHECK(get(d, "b") == 0.0, "squareplus b = 0 not stored");
    act_op_desc_destroy(d);
  }
  d = make("clip");
  if (d) {
    CHECK_OK(act_op_desc_set_param(d, "max", 0.0)); /* min == max */
    CHECK_OK(act_op_desc_set_param(d, "min", -INFINITY));
    CHECK(get(d, "min") == -INFINITY && get(d, "max") == 0.0,
          "clip bounds not stored");
    /* A failed set after successful ones keeps the successful values. */
    snapshot_t before = snap(d);
    EXPECT(act_op_desc_set_param(d, "min", 1.0), ACT_BAD_PARAM, "clip",
           "min");
    snapshot_t after = snap(d);
    CHECK(same_snap(&before, &after), "failed clip min changed the desc");
    act_op_desc_destroy(d);
  }
  d = make("relu");
  if (d) {
    CHECK_OK(act_op_desc_set_param(d, "max_value", INFINITY));
    EXPECT(act_op_desc_get_param(d, "nope", &(double){0}), ACT_BAD_PARAM,
           "relu", "nope");
    act_op_desc_destroy(d);
  }
}

/* Runs desc over args with the reference, the host path on the cpu
 * device, and act_op_check; all three must give `want`, with a message
 * naming each word, and y must be left as it was. */
static void run_bad(const char *file, int line, act_context_t *ctx,
                    const act_op_desc_t *desc, size_t n, const act_arg_t *a,
                    act_status_t want, const char *w1, const char *w2) {
  const char *const words[] = {w1, w2, NULL};
  const char *const *wp = w1 ? words : words + 2;
  for (int i = 0; i < 6; i++)
    ys[i] = 42.0f;
  char what[160];
  snprintf(what, sizeof what, "act_reference_forward(%s)",
           desc ? act_op_info(act_op_desc_op(desc))->name : "NULL");
  expect_impl(file, line, what, act_reference_forward(desc, n, a), want, wp);
  snprintf(what, sizeof what, "act_op_check(%s)",
           desc ? act_op_info(act_op_desc_op(desc))->name : "NULL");
  expect_impl(file, line, what, act_op_check(desc, n, a), want, wp);
  if (ctx) {
    snprintf(what, sizeof what, "act_forward_host(%s)",
             desc ? act_op_info(act_op_desc_op(desc))->name : "NULL");
    expect_impl(file, line, what, act_forward_host(ctx, desc, n, a), want,
                wp);
  }
  int untouched = 1;
  for (int i = 0; i < 6; i++)
    untouched &= ys[i] == 42.0f;
  act_test_checks++;
  if (!untouched) {
    act_test_failures++;
    fprintf(stderr, "%s:%d: a failed call wrote y\n", file, line);
  }
}

#define RUN_BAD(desc, n, args, want, w1, w2)                                  \
  run_bad(__FILE__, __LINE__, ctx, desc, n, args, want, w1, w2)

static void test_operands(act_context_t *ctx) {
  act_op_desc_t *relu = make("relu"), *sm = make("softmax");
  act_op_desc_t *thr = make("threshold"), *oh = make("one_hot");
  act_op_desc_t *glu = make("glu"), *lse = make("logsumexp");
  act_op_desc_t *prelu = make("prelu");
  if (!relu || !sm || !thr || !oh || !glu || !lse || !prelu)
    goto out;

  act_arg_t ok[2] = {arg(ACT_ARG_X, ACT_F32, 2, d23, xs),
                     arg(ACT_ARG_Y, ACT_F32, 2, d23, ys)};
  CHECK_OK(act_op_check(relu, 2, ok));

  /* threshold without its required parameters: refused when run. */
  RUN_BAD(thr, 2, ok, ACT_BAD_PARAM, "threshold", NULL);
  CHECK_OK(act_op_desc_set_param(thr, "threshold", 0.5));
  RUN_BAD(thr, 2, ok, ACT_BAD_PARAM, "threshold", "value");
  CHECK_OK(act_op_desc_set_param(thr, "value", -1.0));
  CHECK_OK(act_reference_forward(thr, 2, ok));

  /* one_hot without num_classes. */
  {
    int32_t idx[2] = {0, 1};
    int64_t d2[1] = {2}, d22[2] = {2, 2};
    act_arg_t a[2] = {arg(ACT_ARG_X, ACT_I32, 1, d2, idx),
                      arg(ACT_ARG_Y, ACT_F32, 2, d22, ys)};
    RUN_BAD(oh, 2, a, ACT_BAD_PARAM, "one_hot", "num_classes");
    CHECK_OK(act_op_desc_set_param(oh, "num_classes", 2));
    CHECK_OK(act_op_check(oh, 2, a));
    /* y of the wrong shape for num_classes 3. */
    CHECK_OK(act_op_desc_set_param(oh, "num_classes", 3));
    RUN_BAD(oh, 2, a, ACT_BAD_SHAPE, "one_hot", "y");
    /* x that is not i32 indices; y of an unsupported dtype. */
    CHECK_OK(act_op_desc_set_param(oh, "num_classes", 2));
    a[0].tensor.dtype = ACT_F32;
    RUN_BAD(oh, 2, a, ACT_BAD_DTYPE, "one_hot", "i32");
    a[0].tensor.dtype = ACT_I32;
    a[1].tensor.dtype = ACT_U8;
    RUN_BAD(oh, 2, a, ACT_BAD_DTYPE, "one_hot", "u8");
  }

  /* glu on an odd axis; then y of the wrong shape. */
  {
    act_arg_t a[2] = {arg(ACT_ARG_X, ACT_F32, 2, d23, xs),
                      arg(ACT_ARG_Y, ACT_F32, 2, d23, ys)};
    RUN_BAD(glu, 2, a, ACT_BAD_SHAPE, "glu", "3"); /* the odd length */
    int64_t d32[2] = {3, 2}, d31[2] = {3, 1};
    a[0].tensor = act_tensor_make(ACT_F32, 2, d32, xs);
    RUN_BAD(glu, 2, a, ACT_BAD_SHAPE, "glu", "y");
    a[1].tensor = act_tensor_make(ACT_F32, 2, d31, ys);
    CHECK_OK(act_op_check(glu, 2, a));
  }

  /* Axis out of range: when set, and against the tensor at run time. */
  EXPECT(act_op_desc_set_axis(sm, 9), ACT_BAD_PARAM, "softmax", "9");
  EXPECT(act_op_desc_set_axis(sm, -10), ACT_BAD_PARAM, "softmax", "-10");
  EXPECT(act_op_desc_set_axis(sm, ACT_AXIS_ALL), ACT_BAD_PARAM, "softmax");
  EXPECT(act_op_desc_set_axis(relu, 0), ACT_BAD_PARAM, "relu");
  EXPECT(act_op_desc_set_param(relu, "axis", 0), ACT_BAD_PARAM, "relu");
  CHECK(act_op_desc_get_axis(sm) == -1, "softmax axis changed by failures");
  CHECK_OK(act_op_desc_set_axis(sm, 2));
  RUN_BAD(sm, 2, ok, ACT_BAD_PARAM, "softmax", "axis 2");
  CHECK_OK(act_op_desc_set_axis(sm, -3));
  RUN_BAD(sm, 2, ok, ACT_BAD_PARAM, "softmax", "axis -3");
  CHECK_OK(act_op_desc_set_axis(sm, -2));
  CHECK_OK(act_op_check(sm, 2, ok));
  CHECK_OK(act_op_desc_set_axis(sm, -1));
  CHECK_OK(act_op_desc_set_axis(lse, ACT_AXIS_ALL));
  CHECK(act_op_desc_get_axis(lse) == ACT_AXIS_ALL, "logsumexp all axes");
  CHECK_OK(act_op_desc_set_axis(lse, -1));

  /* y of the wrong shape and dtype; x of an integer dtype. */
  {
    int64_t d32[2] = {3, 2};
    act_arg_t a[2] = {ok[0], arg(ACT_ARG_Y, ACT_F32, 2, d32, ys)};
    RUN_BAD(relu, 2, a, ACT_BAD_SHAPE, "relu", "y");
    a[1] = arg(ACT_ARG_Y, ACT_F32, 1, (int64_t[]){6}, ys);
    RUN_BAD(relu, 2, a, ACT_BAD_SHAPE, "relu", "y");
    a[1] = arg(ACT_ARG_Y, ACT_F16, 2, d23, ys);
    RUN_BAD(relu, 2, a, ACT_BAD_DTYPE, "relu", "f16");
    a[0] = arg(ACT_ARG_X, ACT_I32, 2, d23, xs);
    a[1] = arg(ACT_ARG_Y, ACT_I32, 2, d23, ys);
    RUN_BAD(relu, 2, a, ACT_BAD_DTYPE, "relu", "i32");
    a[0] = arg(ACT_ARG_X, ACT_U8, 2, d23, xs);
    a[1] = arg(ACT_ARG_Y, ACT_U8, 2, d23, ys);
    RUN_BAD(relu, 2, a, ACT_BAD_DTYPE, "relu", "u8");
    a[0] = arg(ACT_ARG_X, (act_dtype_t)77, 2, d23, xs);
    a[1] = ok[1];
    RUN_BAD(relu, 2, a, ACT_BAD_DTYPE, "relu", "77");
    /* logsumexp's y must be the reduced shape. */
    RUN_BAD(lse, 2, ok, ACT_BAD_SHAPE, "logsumexp", "y");
  }

  /* Missing x or y, a duplicate operand, an operand the op doesn't take, a
   * bad operand kind. */
  {
    RUN_BAD(relu, 1, &ok[1], ACT_INVALID_ARGUMENT, "relu", "'x'");
    RUN_BAD(relu, 1, &ok[0], ACT_INVALID_ARGUMENT, "relu", "'y'");
    RUN_BAD(relu, 0, NULL, ACT_INVALID_ARGUMENT, "relu", "'x'");
    act_arg_t a[3] = {ok[0], ok[1], ok[0]};
    RUN_BAD(relu, 3, a, ACT_INVALID_ARGUMENT, "relu", "'x'");
    uint8_t m[6] = {1, 1, 1, 1, 1, 1};
    a[2] = arg(ACT_ARG_WHERE, ACT_U8, 2, d23, m);
    RUN_BAD(relu, 3, a, ACT_INVALID_ARGUMENT, "relu", "where");
    a[2] = arg(ACT_ARG_ALPHA, ACT_F32, 1, (int64_t[]){1}, xs);
    RUN_BAD(sm, 3, a, ACT_INVALID_ARGUMENT, "softmax", "alpha");
    a[2] = arg(ACT_ARG_B, ACT_F32, 2, d23, xs);
    RUN_BAD(sm, 3, a, ACT_INVALID_ARGUMENT, "softmax", "'b'");
    a[2] = arg(ACT_ARG_MEAN, ACT_F32, 2, d23, xs);
    RUN_BAD(sm, 3, a, ACT_INVALID_ARGUMENT, "softmax", "mean");
    a[2] = arg((act_arg_kind_t)ACT_ARG_COUNT, ACT_F32, 2, d23, xs);
    RUN_BAD(relu, 3, a, ACT_INVALID_ARGUMENT, "relu", "not an act_arg_kind_t");
  }

  /* NULL data, too many dimensions, a negative dimension. */
  {
    act_arg_t a[2] = {ok[0], ok[1]};
    a[0].tensor.data = NULL;
    RUN_BAD(relu, 2, a, ACT_NULL_POINTER, "relu", "x");
    a[0] = ok[0];
    a[1].tensor.data = NULL;
    RUN_BAD(relu, 2, a, ACT_NULL_POINTER, "relu", "y");
    a[1] = ok[1];
    /* act_tensor_make clamps ndim, so build the 9-D tensor by hand. */
    act_tensor_t t9;
    memset(&t9, 0, sizeof t9);
    t9.dtype = ACT_F32;
    t9.ndim = 9; /* dims[] holds 8; the check must come before reading */
    for (int i = 0; i < ACT_MAX_DIMS; i++)
      t9.dims[i] = 1;
    t9.data = xs;
    a[0].tensor = t9;
    RUN_BAD(relu, 2, a, ACT_BAD_SHAPE, "relu", "9");
    a[0].tensor.ndim = -1;
    RUN_BAD(relu, 2, a, ACT_BAD_SHAPE, "relu", "-1");
    a[0] = arg(ACT_ARG_X, ACT_F32, 2, (int64_t[]){2, -3}, xs);
    a[1] = arg(ACT_ARG_Y, ACT_F32, 2, (int64_t[]){2, -3}, ys);
    RUN_BAD(relu, 2, a, ACT_BAD_SHAPE, "relu", "-3");
    CHECK(act_tensor_numel(&a[0].tensor) == 0, "numel of a negative dim");
  }

  /* logsumexp: return_sign without a sign operand, and the reverse; sign of
   * the wrong shape. */
  {
    float s[2];
    int64_t d2[1] = {2};
    act_arg_t a[3] = {ok[0], arg(ACT_ARG_Y, ACT_F32, 1, d2, ys),
                      arg(ACT_ARG_SIGN, ACT_F32, 1, d2, s)};
    CHECK_OK(act_op_check(lse, 2, a));
    RUN_BAD(lse, 3, a, ACT_INVALID_ARGUMENT, "logsumexp", "return_sign");
    CHECK_OK(act_op_desc_set_param(lse, "return_sign", 1));
    RUN_BAD(lse, 2, a, ACT_INVALID_ARGUMENT, "logsumexp", "sign");
    CHECK_OK(act_op_check(lse, 3, a));
    a[2] = arg(ACT_ARG_SIGN, ACT_F32, 1, (int64_t[]){1}, s);
    RUN_BAD(lse, 3, a, ACT_BAD_SHAPE, "logsumexp", "sign");
    /* b that does not broadcast. */
    CHECK_OK(act_op_desc_set_param(lse, "return_sign", 0));
    a[2] = arg(ACT_ARG_B, ACT_F32, 1, (int64_t[]){2}, xs);
    RUN_BAD(lse, 3, a, ACT_BAD_SHAPE, "logsumexp", "b");
  }

  /* where of the wrong dtype and shape. */
  {
    uint8_t m[6] = {1, 1, 1, 1, 1, 1};
    act_arg_t a[3] = {ok[0], ok[1], arg(ACT_ARG_WHERE, ACT_U8, 2, d23, m)};
    CHECK_OK(act_op_check(sm, 3, a));
    a[2] = arg(ACT_ARG_WHERE, ACT_F32, 2, d23, xs);
    RUN_BAD(sm, 3, a, ACT_BAD_DTYPE, "softmax", "where");
    a[2] = arg(ACT_ARG_WHERE, ACT_U8, 2, (int64_t[]){3, 2}, m);
    RUN_BAD(sm, 3, a, ACT_BAD_SHAPE, "softmax", "where");
    a[2] = arg(ACT_ARG_WHERE, ACT_U8, 1, (int64_t[]){3}, m);
    RUN_BAD(sm, 3, a, ACT_BAD_SHAPE, "softmax", "where");
  }

  /* prelu alpha of the wrong length (channel axis 1 of [2, 3] has 3). */
  {
    float al[3] = {0.1f, 0.2f, 0.3f};
    act_arg_t a[3] = {ok[0], ok[1],
                      arg(ACT_ARG_ALPHA, ACT_F32, 1, (int64_t[]){3}, al)};
    CHECK_OK(act_op_check(prelu, 3, a));
    a[2] = arg(ACT_ARG_ALPHA, ACT_F32, 1, (int64_t[]){2}, al);
    RUN_BAD(prelu, 3, a, ACT_BAD_SHAPE, "prelu", "alpha");
    a[2] = arg(ACT_ARG_ALPHA, ACT_I32, 1, (int64_t[]){3}, al);
    RUN_BAD(prelu, 3, a, ACT_BAD_DTYPE, "prelu", "alpha");
  }

  /* A descriptor whose parameters bypass set_param cannot exist, but a NULL
   * descriptor and NULL args can. */
  RUN_BAD(NULL, 2, ok, ACT_NULL_POINTER, NULL, NULL);
  RUN_BAD(relu, 2, NULL, ACT_NULL_POINTER, NULL, NULL);

out:
  act_op_desc_destroy(relu);
  act_op_desc_destroy(sm);
  act_op_desc_destroy(thr);
  act_op_desc_destroy(oh);
  act_op_desc_destroy(glu);
  act_op_desc_destroy(lse);
  act_op_desc_destroy(prelu);
}

/* Every public function that takes a pointer returns ACT_NULL_POINTER for
 * a NULL one (and does not crash). */
static void test_null_pointers(act_context_t *ctx) {
  act_op_t op;
  act_dtype_t dt;
  act_preset_t pr;
  act_op_desc_t *d = make("relu");
  double v;
  act_device_info_t info;
  act_buffer_t *buf = NULL;
  act_queue_t *q = NULL;
  act_event_t *ev = NULL;
  char host[16] = {0};
  if (!d)
    return;
  EXPECT_ST(act_dtype_parse(NULL, &dt), ACT_NULL_POINTER);
  EXPECT_ST(act_dtype_parse("f32", NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_op_lookup(NULL, &op), ACT_NULL_POINTER);
  EXPECT_ST(act_op_lookup("relu", NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_preset_parse(NULL, &pr), ACT_NULL_POINTER);
  EXPECT_ST(act_preset_parse("jax", NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_create(ACT_OP_RELU, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_create_by_name(NULL, &d), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_create_by_name("relu", NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_set_param(NULL, "threshold", 1), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_set_param(d, NULL, 1), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_get_param(NULL, "threshold", &v), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_get_param(d, NULL, &v), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_get_param(d, "threshold", NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_set_axis(NULL, 0), ACT_NULL_POINTER);
  EXPECT_ST(act_op_desc_set_preset(NULL, ACT_PRESET_JAX), ACT_NULL_POINTER);
  EXPECT_ST(act_device_get_info(0, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_device_find("cpu", NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_context_create("cpu", NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_context_get_device(NULL, &info), ACT_NULL_POINTER);
  EXPECT_ST(act_context_get_device(ctx, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_buffer_create(NULL, 16, &buf), ACT_NULL_POINTER);
  EXPECT_ST(act_buffer_create(ctx, 16, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_queue_create(NULL, &q), ACT_NULL_POINTER);
  EXPECT_ST(act_queue_create(ctx, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_queue_flush(NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_queue_finish(NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_event_wait(NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_convert(ACT_F32, NULL, ACT_F16, host, 1), ACT_NULL_POINTER);
  EXPECT_ST(act_convert(ACT_F32, host, ACT_F16, NULL, 1), ACT_NULL_POINTER);
  EXPECT_ST(act_op_check(NULL, 0, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_reference_forward(NULL, 0, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_forward_host(NULL, d, 0, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_forward_host(ctx, NULL, 0, NULL), ACT_NULL_POINTER);
  EXPECT_ST(act_forward(NULL, d, 0, NULL, &ev), ACT_NULL_POINTER);
  CHECK(ev == NULL, "a failed act_forward returned an event");
  if (act_buffer_create(ctx, 16, &buf) == ACT_OK &&
      act_queue_create(ctx, &q) == ACT_OK) {
    act_event_t *real = NULL;
    CHECK_OK(act_buffer_write(q, buf, 0, 16, host, &real));
    EXPECT_ST(act_queue_wait_event(NULL, real), ACT_NULL_POINTER);
    act_event_destroy(real);
    EXPECT_ST(act_queue_wait_event(q, NULL), ACT_NULL_POINTER);
    EXPECT_ST(act_buffer_write(NULL, buf, 0, 16, host, &ev),
              ACT_NULL_POINTER);
    EXPECT_ST(act_buffer_write(q, NULL, 0, 16, host, &ev), ACT_NULL_POINTER);
    EXPECT_ST(act_buffer_write(q, buf, 0, 16, NULL, &ev), ACT_NULL_POINTER);
    EXPECT_ST(act_buffer_read(NULL, buf, 0, 16, host, &ev), ACT_NULL_POINTER);
    EXPECT_ST(act_buffer_read(q, NULL, 0, 16, host, &ev), ACT_NULL_POINTER);
    EXPECT_ST(act_buffer_read(q, buf, 0, 16, NULL, &ev), ACT_NULL_POINTER);
    CHECK(ev == NULL, "a failed transfer returned an event");
    EXPECT_ST(act_forward(q, NULL, 0, NULL, &ev), ACT_NULL_POINTER);
    EXPECT_ST(act_forward(q, d, 2, NULL, &ev), ACT_NULL_POINTER);
    CHECK(ev == NULL, "a failed act_forward returned an event");
  } else {
    CHECK(0, "cannot make a buffer and a queue: %s", act_last_error());
  }
  /* The accessors that return a value for NULL rather than a status. */
  CHECK(act_op_desc_op(NULL) == ACT_OP_COUNT, "act_op_desc_op(NULL)");
  CHECK(act_buffer_size(NULL) == 0, "act_buffer_size(NULL)");
  CHECK(act_tensor_numel(NULL) == 0, "act_tensor_numel(NULL)");
  CHECK(act_op_desc_get_axis(NULL) == 0, "act_op_desc_get_axis(NULL)");
  CHECK(act_event_done(NULL) == 1, "act_event_done(NULL)");
  act_tensor_t t = act_tensor_make(ACT_F32, 2, NULL, NULL);
  CHECK(t.ndim == 2 && t.dims[0] == 0 && t.data == NULL,
        "act_tensor_make with NULL dims");
  act_queue_destroy(q);
  act_buffer_destroy(buf);
  act_op_desc_destroy(d);
}

static void test_aliases(void) {
  static const struct {
    const char *alias;
    act_op_t op;
  } al[] = {
      {"swish", ACT_OP_SILU},          {"logistic", ACT_OP_SIGMOID},
      {"hard_swish", ACT_OP_HARD_SILU}, {"soft_sign", ACT_OP_SOFTSIGN},
      {"exponential", ACT_OP_EXP},     {"identity", ACT_OP_LINEAR},
      {"clipped_relu", ACT_OP_CLIP},   {"gelu_approx", ACT_OP_GELU},
  };
  for (size_t i = 0; i < sizeof al / sizeof *al; i++) {
    act_op_t op = ACT_OP_COUNT;
    act_op_desc_t *d = NULL;
    CHECK_OK(act_op_lookup(al[i].alias, &op));
    CHECK(op == al[i].op, "%s resolves to %d, expected %s", al[i].alias,
          (int)op, act_op_info(al[i].op)->name);
    CHECK_OK(act_op_desc_create_by_name(al[i].alias, &d));
    CHECK(d && act_op_desc_op(d) == al[i].op, "desc of %s", al[i].alias);
    /* The alias appears in the op's info. */
    const act_op_info_t *info = act_op_info(al[i].op);
    int listed = 0;
    for (int a = 0; a < ACT_MAX_ALIASES && info->aliases[a]; a++)
      listed |= strcmp(info->aliases[a], al[i].alias) == 0;
    CHECK(listed, "%s is not among %s's aliases", al[i].alias, info->name);
    act_op_desc_destroy(d);
  }
  /* gelu_approx sets approximate = 1; gelu keeps 0; swish keeps beta 1. */
  act_op_desc_t *d = make("gelu_approx");
  if (d) {
    CHECK(get(d, "approximate") == 1.0, "gelu_approx approximate = %g",
          get(d, "approximate"));
    act_op_desc_destroy(d);
  }
  d = make("gelu");
  if (d) {
    CHECK(get(d, "approximate") == 0.0, "gelu approximate = %g",
          get(d, "approximate"));
    act_op_desc_destroy(d);
  }
  d = make("swish");
  if (d) {
    CHECK(get(d, "beta") == 1.0, "swish beta = %g", get(d, "beta"));
    act_op_desc_destroy(d);
  }
  /* Every canonical name and listed alias resolves, and defaults of
   * optional parameters are stored. */
  for (int i = 0; i < ACT_OP_COUNT; i++) {
    const act_op_info_t *info = act_op_info((act_op_t)i);
    act_op_t op = ACT_OP_COUNT;
    CHECK(info && info->op == (act_op_t)i, "act_op_info(%d)", i);
    if (!info)
      continue;
    CHECK_OK(act_op_lookup(info->name, &op));
    CHECK(op == (act_op_t)i, "%s resolves to %d", info->name, (int)op);
    for (int a = 0; a < ACT_MAX_ALIASES && info->aliases[a]; a++) {
      CHECK_OK(act_op_lookup(info->aliases[a], &op));
      CHECK(op == (act_op_t)i, "%s resolves to %d", info->aliases[a],
            (int)op);
    }
    act_op_desc_t *od = NULL;
    CHECK_OK(act_op_desc_create((act_op_t)i, &od));
    for (int p = 0; od && p < info->nparams; p++) {
      double v = get(od, info->params[p].name), def =
                                                    info->params[p]
                                                        .default_value;
      CHECK(v == def || (isnan(v) && isnan(def)), "%s %s = %g, default %g",
            info->name, info->params[p].name, v, def);
    }
    act_op_desc_destroy(od);
  }
}

/* Applies preset `name` to a fresh op and returns the descriptor. */
static act_op_desc_t *with_preset(const char *op, const char *name) {
  act_op_desc_t *d = make(op);
  act_preset_t p;
  CHECK_OK(act_preset_parse(name, &p));
  if (d)
    CHECK_OK(act_op_desc_set_preset(d, p));
  return d;
}

static void test_presets(void) {
  static const char *const names[] = {"none", "jax", "keras2", "axon",
                                      "kaun", "torch"};
  for (int i = 0; i < ACT_PRESET_COUNT; i++) {
    act_preset_t p = ACT_PRESET_COUNT;
    CHECK_OK(act_preset_parse(names[i], &p));
    CHECK(p == (act_preset_t)i, "preset %s parsed as %d", names[i], (int)p);
    CHECK(act_preset_name((act_preset_t)i) &&
              strcmp(act_preset_name((act_preset_t)i), names[i]) == 0,
          "act_preset_name(%d)", i);
  }
  act_preset_t p;
  EXPECT(act_preset_parse("pytorch2", &p), ACT_BAD_PARAM, "pytorch2");
  CHECK(act_preset_name(ACT_PRESET_COUNT) == NULL, "preset name of COUNT");

  /* The docs/ops.md preset table, one row per framework:
   * hard_sigmoid/hard_silu (alpha, beta), gelu approximate, leaky slope,
   * softmax axis. */
  static const struct {
    const char *name;
    double hs_alpha, hs_beta, gelu, leaky;
    int axis; /* 99: leaves the axis as set */
  } table[] = {
      {"jax", 1.0 / 6.0, 0.5, 1, 0.01, -1},
      {"keras2", 0.2, 0.5, 0, 0.3, -1},
      {"axon", 0.2, 0.2, 0, 0.01, 1},
      {"kaun", 1.0 / 6.0, 0.5, 0, 0.01, -1},
      {"torch", 1.0 / 6.0, 0.5, 0, 0.01, 99},
  };
  for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
    const char *n = table[i].name;
    const char *hs_ops[2] = {"hard_sigmoid", "hard_silu"};
    for (int k = 0; k < 2; k++) {
      act_op_desc_t *d = with_preset(hs_ops[k], n);
      if (!d)
        continue;
      CHECK(fabs(get(d, "alpha") - table[i].hs_alpha) < 1e-15 &&
                fabs(get(d, "beta") - table[i].hs_beta) < 1e-15,
            "%s %s: alpha %g beta %g, expected %g %g", n, hs_ops[k],
            get(d, "alpha"), get(d, "beta"), table[i].hs_alpha,
            table[i].hs_beta);
      act_op_desc_destroy(d);
    }
    act_op_desc_t *d = with_preset("gelu", n);
    if (d) {
      CHECK(get(d, "approximate") == table[i].gelu, "%s gelu approximate %g",
            n, get(d, "approximate"));
      act_op_desc_destroy(d);
    }
    d = with_preset("leaky_relu", n);
    if (d) {
      CHECK(get(d, "negative_slope") == table[i].leaky,
            "%s leaky_relu slope %g, expected %g", n,
            get(d, "negative_slope"), table[i].leaky);
      act_op_desc_destroy(d);
    }
    /* softmax: start from axis 0 so that "left as set" is visible. */
    d = make("softmax");
    if (d) {
      act_preset_t pp;
      CHECK_OK(act_op_desc_set_axis(d, 0));
      CHECK_OK(act_preset_parse(n, &pp));
      CHECK_OK(act_op_desc_set_preset(d, pp));
      int want = table[i].axis == 99 ? 0 : table[i].axis;
      CHECK(act_op_desc_get_axis(d) == want, "%s softmax axis %d, expected %d",
            n, act_op_desc_get_axis(d), want);
      act_op_desc_destroy(d);
    }
    /* A preset leaves ops it does not define alone. */
    d = make("elu");
    if (d) {
      act_preset_t pp;
      CHECK_OK(act_op_desc_set_param(d, "alpha", 2.5));
      CHECK_OK(act_preset_parse(n, &pp));
      CHECK_OK(act_op_desc_set_preset(d, pp));
      CHECK(get(d, "alpha") == 2.5, "%s changed elu alpha", n);
      act_op_desc_destroy(d);
    }
  }
  /* Parameters set after a preset override it. */
  act_op_desc_t *d = with_preset("hard_sigmoid", "axon");
  if (d) {
    CHECK_OK(act_op_desc_set_param(d, "beta", 0.5));
    CHECK(get(d, "alpha") == 0.2 && get(d, "beta") == 0.5,
          "override after preset: alpha %g beta %g", get(d, "alpha"),
          get(d, "beta"));
    EXPECT(act_op_desc_set_preset(d, (act_preset_t)99), ACT_BAD_PARAM,
           "99");
    CHECK(get(d, "beta") == 0.5, "failed preset changed beta");
    act_op_desc_destroy(d);
  }
}

int main(void) {
  act_context_t *ctx = NULL;
  CHECK_OK(act_context_create("cpu", &ctx));
  test_names();
  test_param_values();
  test_operands(ctx);
  if (ctx)
    test_null_pointers(ctx);
  test_aliases();
  test_presets();
  act_context_destroy(ctx);
  return act_test_finish("test_params");
}
