/*
 * eltwise.cl - every element-wise op of docs/ops.md, one kernel shell.
 *
 * Needs: -D ACT_OP=<act_op_t value> -D ACT_DTYPE=0|1|2, the ACT_OP_<NAME>
 * defines, act_prelude_*.cl, act_math.cl, act_common.cl and act_ops.cl
 * (the ops' math, act_op) before it (the runtime assembles them:
 * README.md).
 *
 * NaN in gives NaN out for every op (tested once, in the shell).
 */

#define ACT_ELTWISE_SCALARS(SCALAR, SEP)                                      \
  SCALAR(uint, n) SEP() SCALAR(uint, xoff) SEP() SCALAR(uint, yoff) SEP()     \
  SCALAR(float, p0h) SEP() SCALAR(float, p0l) SEP()                           \
  SCALAR(float, p1h) SEP() SCALAR(float, p1l) SEP()                           \
  SCALAR(float, p2h) SEP() SCALAR(float, p2l) SEP()                           \
  SCALAR(float, p3h) SEP() SCALAR(float, p3l)
#define ACT_ELTWISE_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                          \
  IN(STYPE, x) SEP() OUT(STYPE, y) SEP() ACT_ELTWISE_SCALARS(SCALAR, SEP)

/* The op's parameters as pairs, p0 .. p3, from the scalars.
 *
 * TWO FORMS. gelu (p0 approximate: the erf or the tanh form), softplus
 * (p0 beta: the lean beta = 1 form or the general one) and celu (p0
 * alpha: 1, or x / alpha as a pair) choose their form by p0, and a choice
 * per element made vector code run both forms (PoCL if-converted it in
 * the backward, lavapipe ran softplus at a third of log_sigmoid's speed
 * and celu at 0.7 of elu's).  So each is two kernels, the plan choosing
 * by the parameter (plan.c): act_eltwise[4] with p0 a constant that folds
 * the choice (gelu's erf form, softplus's beta = 1, celu's alpha = 1),
 * and act_eltwise[4]_alt with the other (gelu's tanh form; softplus and
 * celu with p0 as given). */
#if ACT_OP == ACT_OP_GELU
#define ACT_P0_MAIN am_f2(0.0f, 0.0f)
#define ACT_P0_ALT am_f2(1.0f, 0.0f)
#elif ACT_OP == ACT_OP_SOFTPLUS || ACT_OP == ACT_OP_CELU
#define ACT_P0_MAIN am_f2(1.0f, 0.0f)
#define ACT_P0_ALT am_f2(p0h, p0l)
#else
#define ACT_P0_MAIN am_f2(p0h, p0l)
#endif
#define ACT_ELTWISE_PARAMS_P0(P0)                                             \
  float2 p0 = P0, p1 = am_f2(p1h, p1l);                                       \
  float2 p2 = am_f2(p2h, p2l), p3 = am_f2(p3h, p3l)
#define ACT_ELTWISE_PARAMS ACT_ELTWISE_PARAMS_P0(ACT_P0_MAIN)

/* One element: NaN passes, else the op. */
#define ACT_ELT1(v) ((v) != (v) ? (v) : act_op((v), p0, p1, p2, p3))

/* y[yoff + i] = op(x[xoff + i]) for i < n, ACT_ELTWISE_PER consecutive
 * elements per work-item (the prelude's choice: 1 in OpenCL, where
 * straight-line code per work-item is what PoCL's work-group vectorizer
 * handles best - a grid-stride loop here ran 3x slower; 4 on Vulkan,
 * which lavapipe runs about 2x faster), in a 1-D launch or a 2-D one
 * where one dimension cannot hold them all. In OpenCL through ACT_ITEMS
 * (the prelude), whose whole work-groups run without the bounds test. */
#define ACT_ELTWISE_ONE(i)                                                    \
  {                                                                           \
    float v_ = LOAD(x, xoff + (i));                                           \
    STORE(y, yoff + (i), ACT_ELT1(v_));                                       \
  }
#ifdef ACT_OPENCL
#define ACT_ELTWISE_BODY ACT_ITEMS(n, ACT_ELTWISE_ONE)
#else
#define ACT_ELTWISE_BODY                                                      \
  uint i0 = ACT_LINEAR_ID() * ACT_ELTWISE_PER;                                \
  for (uint k = 0u; k < ACT_ELTWISE_PER; k++) {                               \
    uint i = i0 + k;                                                          \
    if (i < n)                                                                \
      ACT_ELTWISE_ONE(i)                                                      \
  }
#endif
ACT_KERNEL(act_eltwise, ACT_ELTWISE_ARGS) {
  ACT_ELTWISE_PARAMS;
  ACT_ELTWISE_BODY
}
#ifdef ACT_P0_ALT
ACT_KERNEL(act_eltwise_alt, ACT_ELTWISE_ARGS) {
  ACT_ELTWISE_PARAMS_P0(ACT_P0_ALT);
  ACT_ELTWISE_BODY
}
#endif

/* act_eltwise over whole vectors of four elements, the plan's choice
 * where limits.eltwise_vec4 is set (Vulkan) for n, xoff and yoff
 * multiples of 4 (counted in elements, as act_eltwise's): work-item i
 * maps elements 4i .. 4i + 3 with one vector load and store and one
 * bounds test. lavapipe runs act_eltwise's test per element as masked
 * scalar accesses: a plain copy there 0.62 -> ~1.0 Gelem/s
 * (bench/RESULTS.md). The stored vector is ACT_V4 (act_common.cl): a
 * work-item that owns all four halves of two f16 or bf16 words needs
 * none of act_eltwise's per-half atomics. */
#ifdef ACT_V4
#define ACT_ELTWISE4_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                         \
  IN(ACT_V4, x) SEP() OUT(ACT_V4, y) SEP() ACT_ELTWISE_SCALARS(SCALAR, SEP)

#define ACT_ELTWISE4_BODY                                                     \
  uint i = ACT_LINEAR_ID();                                                   \
  if (i < n / 4u) {                                                           \
    ACT_V4 w = x[xoff / 4u + i];                                              \
    float4 v = ACT_V4_GET(w);                                                 \
    y[yoff / 4u + i] = ACT_V4_PUT(ACT_ELT1(v.x), ACT_ELT1(v.y),               \
                                  ACT_ELT1(v.z), ACT_ELT1(v.w));              \
  }
ACT_KERNEL(act_eltwise4, ACT_ELTWISE4_ARGS) {
  ACT_ELTWISE_PARAMS;
  ACT_ELTWISE4_BODY
}
#ifdef ACT_P0_ALT
ACT_KERNEL(act_eltwise4_alt, ACT_ELTWISE4_ARGS) {
  ACT_ELTWISE_PARAMS_P0(ACT_P0_ALT);
  ACT_ELTWISE4_BODY
}
#endif
#endif

#define ACT_PRELU_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                            \
  IN(STYPE, x) SEP() IN(STYPE, alpha) SEP() OUT(STYPE, y) SEP()               \
  SCALAR(uint, n) SEP() SCALAR(uint, xoff) SEP() SCALAR(uint, aoff) SEP()     \
  SCALAR(uint, yoff) SEP() SCALAR(uint, inner) SEP() SCALAR(uint, channels)

/* prelu with a slope tensor: element i uses alpha[(i / inner) % channels]. */
#define ACT_PRELU_ONE(i)                                                      \
  {                                                                           \
    float v = LOAD(x, xoff + (i));                                            \
    float a = LOAD(alpha, aoff + ((i) / inner) % channels);                   \
    STORE(y, yoff + (i),                                                      \
          v >= 0.0f || v != v ? v : (a == 0.0f ? 0.0f : a * v));              \
  }
ACT_KERNEL(act_prelu, ACT_PRELU_ARGS) {
  ACT_ITEMS(n, ACT_PRELU_ONE)
}
