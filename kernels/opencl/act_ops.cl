/*
 * act_ops.cl - the math of every element-wise op of docs/ops.md as one
 * function, act_op(x, p0, p1, p2, p3), chosen at build time by -D ACT_OP.
 * Shared by the kernel files that apply an activation: eltwise.cl (one
 * element per work-item) and gemm.cl (the fused dense layer's epilogue).
 * The runtime puts it after act_common.cl in the programs of those files
 * (src/core/kernels.c); it needs the same defines as they do: -D ACT_OP
 * (an act_op_t value, or ACT_OP_CUSTOM with ACT_CUSTOM_FORWARD and the
 * custom op's functions before this file) and -D ACT_DTYPE.
 *
 * Parameters arrive as (hi, lo) float pairs (p.x + p.y is the host's double
 * value to about 2^-48), and are used at that precision where the result
 * is sensitive to them: a product with x is formed exactly (am_two_prod)
 * before anything amplifies its error.
 *
 * Exact products, residuals and quotients go through act_math.cl
 * (am_two_prod, am_two_sum, am_fnma, am_div, am_sqrt), whose results are
 * right also where fma is not fused and '/' and sqrt are not correctly
 * rounded (Vulkan allows both); double-float temporaries are AM_PRECISE so
 * that a shader compiler does not reassociate them.
 *
 * NaN is not handled here: callers pass it through (v != v ? v : act_op).
 */

/* x - tanh(x). Near 0 it cancels, so for |x| <= 1 it is x^3 P(x^2)
 * (act_tanh_shrink_p, act_common.cl). Beyond, (|x| - 1) + 2/(e^(2|x|) + 1): two
 * positive terms, no cancellation (the second from the lean exponential,
 * below). */
AM_INLINE float act_tanh_shrink(float x) {
  float a = fabs(x);
  if (a <= 1.0f) {
    /* x^3 as a double-float, P's leading coefficient 1/3 as one too, so
     * the only large errors left are the last Horner roundings. */
    float2 tt = am_two_prod(x, x);
    float t = tt.x, tl = tt.y;
    float2 ps = act_tanh_shrink_p(t, tl);
    float2 c = am_two_prod(x, t);
    AM_PRECISE float cl = c.y + x * tl;
    return fma(c.x, ps.x, fma(c.x, ps.y, cl * ps.x));
  }
  /* (a - 1) + 2 t / (1 + t), t = e^(-2a) as the lean exponential's exact
   * pair (ami_exp_t, unscaled for a <= 12), 1 + t a pair, the quotient
   * corrected once (ami_resid), and the sum rounded once after an exact
   * two-sum.  Budget: t's 0.77 u (u = 2^-24) relative, to which the
   * quotient is no more sensitive, and the last rounding: < 1.27 ulp. */
  float ac = a > 12.0f ? 12.0f : a;
  float ah = -2.0f * ac;
  float3 t = ami_exp_t(ah, 0.0f, ami_exp_kf(ah));
  AM_PRECISE float d = 1.0f + t.x;
  AM_PRECISE float dl = (t.x - (d - 1.0f)) + t.y;
  float rc = 1.0f / d;
  float q0 = ami_cut12(t.x * rc);
  AM_PRECISE float ql = ami_resid(t.x, t.y, q0, d, dl) * rc;
  AM_PRECISE float am1 = ac - 1.0f;
  float2 sm = am_two_sum(am1, 2.0f * q0);
  AM_PRECISE float yb = sm.x + (sm.y + 2.0f * ql);
  float r = a >= 12.0f ? a - 1.0f : yb;
  return am_copysign(r, x);
}

/* softsign(x) = x / (1 + |x|), <= 0.5 ulp + 2^-20 (rounded once).  The
 * denominator as an exact pair d = dh + dl (am_two_sum), the quotient q0 = x / dh corrected
 * once by its exact residual (ami_resid: x - q0 d, with the low part's
 * product rounded, ~2^-36 of q), then q0 + ql rounded once.  The driver's
 * 1/dh (2.5 ulp allowed) only scales the correction: its error is ~2^-46
 * of the result.  From |x| >= 2^25, x / (1 + |x|) is within 2^-25 of +-1
 * and rounds to it (the quotient there would need 1/dh below the normal
 * range). Branch-free: vector code runs every path. */
AM_INLINE float act_softsign(float x) {
  float ax = fabs(x);
  float2 d = am_two_sum(1.0f, ax);
  float rc = 1.0f / d.x;
  float q0 = ami_cut12(x * rc);
  AM_PRECISE float ql = ami_resid(x, 0.0f, q0, d.x, d.y) * rc;
  AM_PRECISE float y = q0 + ql;
  return ax >= 33554432.0f ? am_copysign(1.0f, x) : y;
}

/* squareplus(x) = (x + s) / 2, s = sqrt(x^2 + b), b = bh + bl >= 0;
 * for x < 0 the conjugate b / (2 (s + |x|)), which does not cancel.
 * Branch-free (vector code runs every path), in three steps:
 *  - SCALE by sc (act_sqp_scale: 2^-96 for huge |x| or b, 2^64 for tiny
 *    ones, else 1): X = |x| sc, B = b sc^2, S = s sc.
 *  - S AS A PAIR sh + sl to ~2^-28 (act_sqrt_sq_add).
 *  - THE SUM OR THE QUOTIENT. (sh, X) by Dekker's fast-two-sum (within
 *    a factor 2 of each other, or sh the larger), its low part plus sl:
 *    for x >= 0, Y = that sum, rounded once, y = Y / (2 sc) (exact: y >=
 *    sqrt(b) / 2 is normal); for x < 0 it is the denominator D = S + X,
 *    the quotient q = N / D of N = b sc (or b unscaled where b < 1 and
 *    sc = 2^-96, so that N stays normal) corrected once by its residual
 *    (ami_resid), q0 + ql rounded once and scaled by the power of two
 *    sc b / (2 N) (a second rounding where y is denormal).
 * Budget: 0.5 ulp for the last rounding, S's and D's errors and the
 * quotient's correction below 2^-20 ulp: <= 0.51 ulp (about 1 where y
 * is denormal). b = 0: max(x, 0); x = +-inf: its limit (inf, 0). */
AM_INLINE float act_squareplus(float x, float bh, float bl) {
  float ax = fabs(x);
  float sc = act_sqp_scale(ax, bh);
  bool big = sc < 1.0f, small = sc > 1.0f;
  AM_PRECISE float axs = ax * sc;
  AM_PRECISE float b2h = (bh * sc) * sc;
  AM_PRECISE float b2l = (bl * sc) * sc;
  float2 s = act_sqrt_sq_add(axs, b2h, b2l);
  float2 u = am_fast_two_sum(s.x, axs);
  AM_PRECISE float ul = u.y + s.y;
  /* x >= 0 */
  AM_PRECISE float ys = u.x + ul;
  float yp = ys * (big ? 39614081257132168796771975168.0f /* 2^95 */
                       : (small ? 2.710505431213761085e-20f : 0.5f));
  /* x < 0: N = b sc, or b where that would leave the normal range */
  bool nb = big && bh < 1.0f;
  float nh = nb ? bh : bh * sc;
  float nl = nb ? bl : bl * sc;
  float fac = nb ? 6.3108872417680944432938285e-30f /* 2^-97 */ : 0.5f;
  float rc = 1.0f / u.x;
  float q0 = ami_cut12(nh * rc);
  AM_PRECISE float ql = ami_resid(nh, nl, q0, u.x, ul) * rc;
  AM_PRECISE float q = q0 + ql;
  AM_PRECISE float yn = q * fac;
  float y = x >= 0.0f ? yp : yn;
  bool lim = am_isinf(x) || (bh == 0.0f && bl == 0.0f);
  return lim ? (x > 0.0f ? x : 0.0f) : y;
}

/* x * s(x) where s -> 0 as x -> -inf: a zero of x's sign at the limit. */
AM_INLINE float act_mul_lim(float x, float s) {
  return (am_isinf(x) && s == 0.0f) ? am_copysign(0.0f, x) : x * s;
}

AM_INLINE float act_clamp(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

#define SELU_LAMBDA_HI 1.05070102214813232421875f
#define SELU_LAMBDA_LO -3.4792651830799415e-08f /* lambda - LAMBDA_HI */
#define SELU_LA_HI 1.7580993175506591796875f   /* lambda*alpha */
#define SELU_LA_LO 2.3296717680252718e-08f /* lambda alpha - LA_HI */

AM_INLINE float act_op(float x, float2 p0, float2 p1, float2 p2, float2 p3) {
#if ACT_OP == ACT_OP_RELU
  /* p0 negative_slope, p1 max_value, p2 threshold (Keras semantics). */
  float r;
  if (act_gt_p(x, p2))
    r = x;
  else if (p0.x == 0.0f)
    r = 0.0f;
  else if (am_isinf(x))
    r = p0.x * x;
  else
    r = act_mul_p(act_sub_p(x, p2), p0);
  return act_gt_p(r, p1) ? p1.x : r;
#elif ACT_OP == ACT_OP_RELU6
  return act_clamp(x, 0.0f, 6.0f);
#elif ACT_OP == ACT_OP_LEAKY_RELU || ACT_OP == ACT_OP_PRELU
  return x >= 0.0f ? x : act_mul_p(x, p0);
#elif ACT_OP == ACT_OP_ELU
  /* alpha (e^x - 1): the double-float e^x - 1 times alpha, one rounding */
  return x > 0.0f ? x : act_mul_pp(am_expm1_neg_dd(x), p0);
#elif ACT_OP == ACT_OP_SELU
  return x > 0.0f ? act_mul_p(x, am_f2(SELU_LAMBDA_HI, SELU_LAMBDA_LO))
                  : act_mul_pp(am_expm1_neg_dd(x), am_f2(SELU_LA_HI, SELU_LA_LO));
#elif ACT_OP == ACT_OP_CELU
  if (x > 0.0f)
    return x;
  if (p0.x == 1.0f && p0.y == 0.0f) {
    float2 e1 = am_expm1_neg_dd(x);
    return e1.x + e1.y;
  }
  /* z = x / alpha in double-float: the driver's quotient (any accuracy
   * within a few ulps - the head of the pair need not be correctly
   * rounded, am_div's exponent scaling bought only that) and its
   * residual, exact by am_fnma, divided again. */
  float zh = x / p0.x;
  float zl = (am_fnma(zh, p0.x, x) - zh * p0.y) / p0.x;
  if (am_isinf(zh))
    zl = 0.0f;
  float e = am_expm1(zh);
  e = am_isinf(e) ? e : fma(zl, e + 1.0f, e);
  return act_mul_p(e, p0);
#elif ACT_OP == ACT_OP_GELU
  return p0.x != 0.0f ? am_gelu_tanh(x) : ami_gelu_erf(x);
#elif ACT_OP == ACT_OP_SILU
  /* x * sigmoid(beta x), beta x carried as a double-float */
  if (p0.x == 0.0f)
    return 0.5f * x;
  return ami_mul_sigmoid(x, act_mul_dd(x, p0));
#elif ACT_OP == ACT_OP_SIGMOID
  return am_sigmoid(x);
#elif ACT_OP == ACT_OP_LOG_SIGMOID
  return -ami_softplus(-x);
#elif ACT_OP == ACT_OP_TANH
  return am_tanh(x);
#elif ACT_OP == ACT_OP_HARD_SIGMOID || ACT_OP == ACT_OP_HARD_SILU
  /* alpha (x + beta/alpha): p0 alpha, p1 the offset beta/alpha, p2 beta
   * (the plan computes the offset in double). The offset form is exact
   * where the ramp starts: x + 3 = 0 at x = -3 for (1/6, 1/2). */
  float h, hl = 0.0f; /* on the ramp, h + hl as a double-float */
  if (p0.x == 0.0f && p0.y == 0.0f) {
    h = act_clamp(p2.x, 0.0f, 1.0f);
  } else if (am_isinf(x)) {
    h = act_clamp(p0.x * x, 0.0f, 1.0f);
  } else {
    float2 hh = act_hs_pair(x, p0, p1);
    bool lo = hh.x < 0.0f || (hh.x == 0.0f && hh.y <= 0.0f);
    bool hi = hh.x > 1.0f || (hh.x == 1.0f && hh.y >= 0.0f);
    h = lo ? 0.0f : (hi ? 1.0f : hh.x);
    hl = lo || hi ? 0.0f : hh.y;
  }
#if ACT_OP == ACT_OP_HARD_SIGMOID
  return h;
#else
  if (hl == 0.0f)
    return act_mul_lim(x, h);
  float2 q = am_two_prod(x, h);
  AM_PRECISE float r = q.x + (q.y + x * hl);
  return r;
#endif
#elif ACT_OP == ACT_OP_HARD_TANH
  return act_clamp(x, -1.0f, 1.0f);
#elif ACT_OP == ACT_OP_SOFTPLUS
  /* p0 beta, p1 threshold: beta*x > threshold gives x (torch). */
  if (p0.x == 1.0f && p0.y == 0.0f)
    return act_gt_p(x, p1) ? x : ami_softplus(x);
  float2 z = act_mul_dd(x, p0);
  if (act_gt_p(z.x + z.y, p1))
    return x;
  float sp;
  if (z.x > 0.0f) /* z + log1p(e^-z) */
    sp = z.x + (z.y + am_log1p(am_exp_dd(-z.x, -z.y)));
  else
    sp = am_log1p(am_exp_dd(z.x, z.y));
  /* divide by beta with one correction step */
  float q = am_div(sp, p0.x);
  q = q + (am_fnma(q, p0.x, sp) - q * p0.y) / p0.x;
  return am_isinf(sp) ? sp / p0.x : q;
#elif ACT_OP == ACT_OP_SOFTSIGN
  return act_softsign(x);
#elif ACT_OP == ACT_OP_MISH
  return ami_mish(x);
#elif ACT_OP == ACT_OP_SQUAREPLUS
  return act_squareplus(x, p0.x, p0.y);
#elif ACT_OP == ACT_OP_SPARSE_PLUS
  if (x <= -1.0f)
    return 0.0f;
  if (x >= 1.0f)
    return x;
  /* x + 1 = th + tl exactly (two-sum), h = th / 2 (exact: th >= 2^-24
   * here): (x + 1)^2 / 4 = h^2 + h tl + tl^2 / 4 = h (h + tl) to 2^-48,
   * rounded once (ami_mul_pair_round).  0.25 t t rounded x + 1 first and
   * then twice: 2 ulp. */
  float2 t = am_two_sum(x, 1.0f);
  float h = 0.5f * t.x;
  return ami_mul_pair_round(h, h, t.y);
#elif ACT_OP == ACT_OP_SPARSE_SIGMOID
  return x <= -1.0f ? 0.0f : (x >= 1.0f ? 1.0f : 0.5f * (x + 1.0f));
#elif ACT_OP == ACT_OP_EXP
  return am_exp(x);
#elif ACT_OP == ACT_OP_LINEAR
  return x;
#elif ACT_OP == ACT_OP_GELU_QUICK
  /* 1.702 as (hi, lo): 1.70200002193450927734375 - 2.1934509e-08 */
  float2 c = am_f2(1.70200002193450927734375f, -2.19345092773437500e-08f);
  return ami_mul_sigmoid(x, act_mul_dd(x, c));
#elif ACT_OP == ACT_OP_HARD_SHRINK
  return (act_gt_p(x, p0) || act_lt_p(x, act_neg_p(p0))) ? x : 0.0f;
#elif ACT_OP == ACT_OP_SOFT_SHRINK
  if (act_gt_p(x, p0))
    return act_sub_p(x, p0);
  if (act_lt_p(x, act_neg_p(p0)))
    return act_sub_p(x, act_neg_p(p0));
  return 0.0f;
#elif ACT_OP == ACT_OP_TANH_SHRINK
  return act_tanh_shrink(x);
#elif ACT_OP == ACT_OP_THRESHOLD
  return act_gt_p(x, p0) ? x : p1.x;
#elif ACT_OP == ACT_OP_CLIP
  return act_lt_p(x, p0) ? p0.x : (act_gt_p(x, p1) ? p1.x : x);
#elif ACT_OP == ACT_OP_CUSTOM
  /* A custom op (README.md, "Custom ops"): the runtime inserts its
   * functions and ACT_CUSTOM_FORWARD before this file; parameters go to
   * them as floats. */
  return ACT_CUSTOM_FORWARD(x, p0.x, p1.x, p2.x, p3.x);
#else
#error "act_ops.cl: ACT_OP is not an element-wise op"
#endif
}
