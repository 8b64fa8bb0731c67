/*
 * eltwise.cl - every element-wise op of SPEC 2.1, one kernel shell.
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

/* y[yoff + i] = op(x[xoff + i]) for i < n, ACT_ELTWISE_PER consecutive
 * elements per work-item (the prelude's choice: 1 in OpenCL, where
 * straight-line code per work-item is what PoCL's work-group vectorizer
 * handles best - a grid-stride loop here ran 3x slower; 4 on Vulkan,
 * which lavapipe runs about 2x faster), in a 1-D launch or a 2-D one
 * where one dimension cannot hold them all. */
ACT_KERNEL(act_eltwise, ACT_ELTWISE_ARGS) {
  float2 p0 = am_f2(p0h, p0l), p1 = am_f2(p1h, p1l);
  float2 p2 = am_f2(p2h, p2l), p3 = am_f2(p3h, p3l);
  uint i0 = ACT_LINEAR_ID() * ACT_ELTWISE_PER;
  for (uint k = 0u; k < ACT_ELTWISE_PER; k++) {
    uint i = i0 + k;
    if (i < n) {
      float v = LOAD(x, xoff + i);
      STORE(y, yoff + i, v != v ? v : act_op(v, p0, p1, p2, p3));
    }
  }
}

/* One element: NaN passes, else the op. */
#define ACT_ELT1(v) ((v) != (v) ? (v) : act_op((v), p0, p1, p2, p3))

#if ACT_DTYPE == 0
#define ACT_ELTWISE4_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                         \
  IN(float4, x) SEP() OUT(float4, y) SEP() ACT_ELTWISE_SCALARS(SCALAR, SEP)

/* act_eltwise over whole 16-byte vectors, the plan's choice where
 * limits.eltwise_vec4 is set (Vulkan) for f32 with n, xoff and yoff
 * multiples of 4 (counted in floats, as act_eltwise's): work-item i maps
 * elements 4i .. 4i + 3 with one vector load and store and one bounds
 * test. lavapipe runs act_eltwise's test per element as masked scalar
 * accesses: a plain copy there 0.62 -> ~0.9 Gelem/s (bench/RESULTS.md). */
ACT_KERNEL(act_eltwise4, ACT_ELTWISE4_ARGS) {
  float2 p0 = am_f2(p0h, p0l), p1 = am_f2(p1h, p1l);
  float2 p2 = am_f2(p2h, p2l), p3 = am_f2(p3h, p3l);
  uint i = ACT_LINEAR_ID();
  if (i < n / 4u) {
    float4 v = x[xoff / 4u + i];
    y[yoff / 4u + i] = act_f4(ACT_ELT1(v.x), ACT_ELT1(v.y), ACT_ELT1(v.z),
                              ACT_ELT1(v.w));
  }
}
#elif ACT_DTYPE == 1 || ACT_DTYPE == 2
#define ACT_ELTWISE4_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                         \
  IN(uint2, x) SEP() OUT(uint2, y) SEP() ACT_ELTWISE_SCALARS(SCALAR, SEP)

/* The same for f16 and bf16: four elements as two 32-bit words (element
 * 2k in the low half of word k), read and written whole - with 16-bit
 * elements packed in words, a work-item that owns all four halves needs
 * none of act_eltwise's per-half atomics. ACT_H_VALUE / ACT_H_BITS (the
 * preludes) are the dtype's exact conversions. */
ACT_KERNEL(act_eltwise4, ACT_ELTWISE4_ARGS) {
  float2 p0 = am_f2(p0h, p0l), p1 = am_f2(p1h, p1l);
  float2 p2 = am_f2(p2h, p2l), p3 = am_f2(p3h, p3l);
  uint i = ACT_LINEAR_ID();
  if (i < n / 4u) {
    uint2 w = x[xoff / 4u + i];
    float a = ACT_H_VALUE(w.x & 0xffffu), b = ACT_H_VALUE(w.x >> 16);
    float c = ACT_H_VALUE(w.y & 0xffffu), d = ACT_H_VALUE(w.y >> 16);
    uint2 r;
    r.x = ACT_H_BITS(ACT_ELT1(a)) | (ACT_H_BITS(ACT_ELT1(b)) << 16);
    r.y = ACT_H_BITS(ACT_ELT1(c)) | (ACT_H_BITS(ACT_ELT1(d)) << 16);
    y[yoff / 4u + i] = r;
  }
}
#endif

#define ACT_PRELU_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                            \
  IN(STYPE, x) SEP() IN(STYPE, alpha) SEP() OUT(STYPE, y) SEP()               \
  SCALAR(uint, n) SEP() SCALAR(uint, xoff) SEP() SCALAR(uint, aoff) SEP()     \
  SCALAR(uint, yoff) SEP() SCALAR(uint, inner) SEP() SCALAR(uint, channels)

/* prelu with a slope tensor: element i uses alpha[(i / inner) % channels]. */
ACT_KERNEL(act_prelu, ACT_PRELU_ARGS) {
  uint i = ACT_LINEAR_ID();
  if (i < n) {
    float v = LOAD(x, xoff + i);
    float a = LOAD(alpha, aoff + (i / inner) % channels);
    STORE(y, yoff + i, v >= 0.0f || v != v ? v : (a == 0.0f ? 0.0f : a * v));
  }
}
