/*
 * act_common.cl - small helpers every kernel file may use: parameters as
 * (hi, lo) float pairs (kernels/opencl/README.md), and vector building
 * without vector literals (the GLSL-compatible subset). The runtime puts
 * this file after act_math.cl in every program. Needs no -D.
 */

/* x * (p.x + p.y), with the product's own rounding only. */
AM_INLINE float act_mul_p(float x, float2 p) {
  if (p.x == 0.0f)
    return 0.0f; /* a zero factor wins, even against inf */
  return am_isinf(x) ? p.x * x : fma(p.x, x, p.y * x);
}

/* (e.x + e.y) * (p.x + p.y) rounded once (finite e; p.x == 0 gives 0):
 * the product of a double-float result and a parameter.  The leading
 * product is exact (am_two_prod), so the one rounding is the last add
 * also where fma() is not fused (Vulkan). */
AM_INLINE float act_mul_pp(float2 e, float2 p) {
  if (p.x == 0.0f)
    return 0.0f;
  float2 h = am_two_prod(p.x, e.x);
  AM_PRECISE float lo = h.y + fma(p.x, e.y, p.y * e.x);
  AM_PRECISE float y = h.x + lo;
  return y;
}

/* x * (p.x + p.y) as an unevaluated (hi, lo) pair: hi*x exactly.  One
 * return, and ?: per component: a float2-valued branch or ?: keeps
 * LLVM-based drivers from vectorizing a kernel across work-items. */
AM_INLINE float2 act_mul_dd(float x, float2 p) {
  float2 h = am_two_prod(p.x, x);
  AM_PRECISE float l = h.y + p.y * x;
  float2 s = am_fast_two_sum(h.x, l);
  bool inf = am_isinf(h.x);
  return am_f2(inf ? h.x : s.x, inf ? 0.0f : s.y);
}

/* x > p.x + p.y for a float x (|p.y| <= ulp(p.x)/2). */
AM_INLINE bool act_gt_p(float x, float2 p) {
  return x > p.x || (x == p.x && p.y < 0.0f);
}

/* x < p.x + p.y. */
AM_INLINE bool act_lt_p(float x, float2 p) {
  return x < p.x || (x == p.x && p.y > 0.0f);
}

/* (x - p) rounded once: Knuth's two-sum gives x - p.x exactly as s + e,
 * then the low part joins before the single final rounding. */
AM_INLINE float act_sub_p(float x, float2 p) {
  float2 s = am_two_sum(x, -p.x);
  if (am_isinf(s.x))
    return s.x;
  AM_PRECISE float r = s.x + (s.y - p.y);
  return r;
}

/* glu: the element of x holding the first half's value for element j of
 * y = [outer, hlen, inner] (x is [outer, 2 hlen, inner]); the second
 * half's is hlen * inner further. */
AM_INLINE uint act_glu_a(uint j, uint hlen, uint inner) {
  uint i = j % inner;
  uint t = j / inner;
  uint k = t % hlen;
  uint o = t / hlen;
  return (o * 2u * hlen + k) * inner + i;
}

/* -p for a parameter pair (pairs take no operators: see am_f2). */
AM_INLINE float2 act_neg_p(float2 p) { return am_f2(-p.x, -p.y); }

/* A float4 without a vector literal. */
AM_INLINE float4 act_f4(float a, float b, float c, float d) {
  float4 r;
  r.x = a;
  r.y = b;
  r.z = c;
  r.w = d;
  return r;
}

/* ACT_V4: four consecutive elements as one stored vector, for the
 * kernels over whole vectors of four (act_eltwise4, act_eltwise_bwd4):
 * f32 a float4; f16 and bf16 two 32-bit words (element 2k in the low half
 * of word k), converted by the dtype's exact ACT_H_VALUE / ACT_H_BITS
 * (the preludes). ACT_V4_GET gives the four values as a float4,
 * ACT_V4_PUT stores four. */
#if ACT_DTYPE == 0
#define ACT_V4 float4
#define ACT_V4_GET(w) (w)
#define ACT_V4_PUT(a, b, c, d) act_f4(a, b, c, d)
#elif ACT_DTYPE == 1 || ACT_DTYPE == 2
AM_INLINE uint2 act_u2(uint a, uint b) {
  uint2 r;
  r.x = a;
  r.y = b;
  return r;
}
#define ACT_V4 uint2
#define ACT_V4_GET(w)                                                         \
  act_f4(ACT_H_VALUE((w).x & 0xffffu), ACT_H_VALUE((w).x >> 16),              \
         ACT_H_VALUE((w).y & 0xffffu), ACT_H_VALUE((w).y >> 16))
#define ACT_V4_PUT(a, b, c, d)                                                \
  act_u2(ACT_H_BITS(a) | (ACT_H_BITS(b) << 16),                               \
         ACT_H_BITS(c) | (ACT_H_BITS(d) << 16))
#endif

/* Both halves of a double-float times 2^k (am_ldexp: exact but for
 * underflow). */
AM_INLINE float2 act_scale2(float2 a, int k) {
  return am_f2(am_ldexp(a.x, k), am_ldexp(a.y, k));
}

AM_INLINE bool act_finite(float a) { return fabs(a) < am_inf(); }

/* hard_sigmoid's s = alpha (x + beta/alpha) as a pair (finite x; p0
 * alpha, p1 the offset beta/alpha that the plan computes in double): the
 * sum exact (two-sum), the leading product exact (two-prod), within
 * ~2^-48 of s - so hard_sigmoid rounds once, hard_silu's x h takes the low
 * part too (also where fma is not fused, as on Vulkan), and the gradient
 * decides the ramp's ends on it, not on a rounded s (act_ops.cl,
 * eltwise_bwd.cl). */
AM_INLINE float2 act_hs_pair(float x, float2 p0, float2 p1) {
  float2 t = am_two_sum(x, p1.x);
  AM_PRECISE float tl = t.y + p1.y;
  float2 m = am_two_prod(p0.x, t.x);
  AM_PRECISE float ml = m.y + (p0.x * tl + p0.y * t.x);
  return am_fast_two_sum(m.x, ml);
}

/* P(t) = (x - tanh x) / x^3 for t = x^2 + tl in [0, 1], as a pair: a
 * degree-9 Chebyshev fit (relative error 5e-11; computed with
 * mpmath.chebyfit by gen/gen_eltwise_coeffs.py), its leading coefficient
 * 1/3 as a pair too, so that only the last Horner roundings are left
 * (tanh_shrink and its gradient). */
AM_INLINE float2 act_tanh_shrink_p(float t, float tl) {
  float p = -1.645079101e-05f;
  p = fma(p, t, 1.228446636e-04f);
  p = fma(p, t, -4.778967123e-04f);
  p = fma(p, t, 1.384797739e-03f);
  p = fma(p, t, -3.563045757e-03f);
  p = fma(p, t, 8.855802938e-03f);
  p = fma(p, t, -2.186837979e-02f);
  p = fma(p, t, 5.396816880e-02f);
  p = fma(p, t, -1.333333254e-01f);
  /* 1/3 = 0.3333333432674407958984375 - 9.934107481e-09 */
  float2 pt = am_two_prod(p, t);
  float2 ps = am_two_sum(pt.x, 0.3333333432674407958984375f);
  AM_PRECISE float pe = ps.y + (pt.y + fma(p, tl, -9.934107481e-09f));
  return am_f2(ps.x, pe);
}

/* squareplus's scaling (act_ops.cl, eltwise_bwd.cl) for |x| = ax and b's
 * head bh: 2^-96 where ax > 2^60 or bh > 2^100 (x^2 + b stays finite),
 * 2^64 where ax < 2^-50 and bh < 2^-100 (x^2's exact error stays normal),
 * else 1.  Its log2 is -96, 64 or 0. */
AM_INLINE float act_sqp_scale(float ax, float bh) {
  bool big = ax > 1.152921504606846976e18f || bh > 1.2676506002282294e30f;
  bool small = ax < 8.8817841970012523e-16f && bh < 7.8886090522101181e-31f;
  return big ? 1.2621774483536188886587657e-29f /* 2^-96 */
             : (small ? 18446744073709551616.0f : 1.0f);
}

/* sqrt(a^2 + b) for a >= 0 and b = bh + bl >= 0 (scaled by
 * act_sqp_scale) as a pair sh + sl, to ~2^-28 relative: t = a^2 + b as
 * p + pe + bh + bl, p = a^2 rounded and pe its exact error (am_fnma); sh
 * the driver's sqrt of t's head (3 ulp allowed: this is the one other
 * place act_math.cl's subset lets sqrt in, corrected as in am_sqrt),
 * then one Newton step sl = (t - sh^2) / (2 sh) with t's head minus sh^2
 * exact (am_fnma, Sterbenz) plus t's low terms.  The step leaves
 * (3u)^2 / 2, the residual's and sl's roundings ~30 u^2 (u = 2^-24). */
AM_INLINE float2 act_sqrt_sq_add(float a, float bh, float bl) {
  AM_PRECISE float p = a * a;
  AM_PRECISE float pe = -am_fnma(a, a, p);
  float2 t = am_two_sum(p, bh);
  AM_PRECISE float tl = t.y + (pe + bl);
  float sh = sqrt(t.x);
  AM_PRECISE float res = am_fnma(sh, sh, t.x) + tl;
  float sl = t.x > 0.0f ? res / (2.0f * sh) : 0.0f;
  return am_f2(sh, sl);
}
