/*
 * eltwise_bwd.cl - the backward pass of every element-wise op (docs/ops.md, "Gradients"):
 * dx = dy * f'(x), and prelu's slope gradient.
 *
 * Needs: -D ACT_OP=<act_op_t value, or ACT_OP_CUSTOM> -D ACT_DTYPE=0|1|2,
 * the ACT_OP_<NAME> defines (and ACT_CUSTOM_DERIVATIVE for a custom op),
 * act_prelude_*.cl and act_math.cl before it (README.md).
 * Parameters arrive as (hi, lo) float pairs, as for act_eltwise (the plan
 * passes hard_sigmoid / hard_silu in the same offset form).
 *
 * METHOD. f'(x) is formed as a double-float g (and, where it can leave the
 * float range, a power of two 2^k kept apart), then dy * g * 2^k is rounded
 * once (act_gmul_k: dy is scaled into [1, 2) first, so that neither the
 * product's low part nor a denormal result loses precision). So the error
 * is that of g (about 2^-28 relative or better) plus the final rounding.
 * Sigmoid-type factors come from act_sig (sigmoid(v), or
 * sigmoid(v) sigmoid(-v), for a double-float v) built on the exp core of
 * act_math.cl; the forms avoid cancellation: squareplus' for x < 0 as b
 * / (2 r (r + |x|)). Tails are cut only where f' times any float dy
 * rounds to 0.  The transcendental ops - sigmoid, log_sigmoid, tanh
 * (4t/(1 + t)^2, t = e^(-2|x|)), silu, gelu_quick, mish, softplus
 * (sigmoid(beta x)) and gelu (both forms) - have lean forms instead
 * (below, "THE LEAN FORMS"), which round dy f' once without act_gmul_k.
 *
 * KINKS follow docs/ops.md, "Gradients" (jax): relu'(0) = 0; relu6, hard_sigmoid,
 * sparse_sigmoid (and hard_silu's ramp term) 0 at both ends of the ramp;
 * hard_tanh'(+-1) = 1; leaky_relu'(0) = prelu'(0) = 1; elu'(0) = alpha;
 * elsewhere the branch the forward formula selects.
 *
 * NaN in x or dy gives NaN. Infinite x gives the limit of f' (times dy).
 */

#define ACT_LN2_F 0.693147182464599609375f
#define ACT_LN2_FL -1.9046542121e-09f
#define ACT_RSQRT2PI_H 0.39894229173660278f
#define ACT_RSQRT2PI_L -1.1335170136e-08f

/* dy * (g.x + g.y) * 2^k, rounded once (g normalised, finite).
 * For k = 0 (every factor without an exponent of its own: act_fac, and
 * the others where k comes out 0) it is fma(dy, g.x, dy g.y), the small
 * product rounded first: where fma is fused that is the correctly
 * rounded result but for near-ties (the small product's rounding is
 * 2^-48 of the result), and within 1 ulp where the small product is
 * denormal (its rounding is then at most 2^-150); where fma rounds twice
 * (Vulkan), within 1 ulp, 1.5 where denormal - all within the bound of
 * 2.  So a kernel whose k is the constant 0 has no other path: vector
 * code, which runs every path, used to run the scaled one below for
 * every element (leaky_relu' on PoCL ran at a third of its forward). */
AM_INLINE float act_gmul_k(float dy, float2 g, int k) {
  if (!act_finite(dy) || dy == 0.0f || g.x == 0.0f)
    return dy * g.x;
  if (k == 0) {
    AM_PRECISE float lo = dy * g.y;
    AM_PRECISE float y = fma(dy, g.x, lo);
    return y;
  }
  int e = am_ilogb(dy);
  float ds = am_ldexp(dy, -e);
  float2 p = am_dd_mul_f(g, ds);
  return am_ldexp_dd(p, e + k);
}

AM_INLINE float act_gmul(float dy, float2 g) { return act_gmul_k(dy, g, 0); }

AM_INLINE float2 act_one(void) { return am_f2(1.0f, 0.0f); }
AM_INLINE float2 act_zero(void) { return am_f2(0.0f, 0.0f); }

/* e^(h + l) = m 2^k: returns m (a double-float in [0.7, 1.42]); k is
 * act_exp_k(h). h is clamped to [-200, 200] (callers treat beyond). */
AM_INLINE float act_exp_k(float h) {
  return ami_exp_kf(ami_clampf(h, -200.0f, 200.0f));
}
AM_INLINE float2 act_exp_m(float h, float l) {
  bool outr = !(h >= -200.0f && h <= 200.0f);
  float hc = ami_clampf(h, -200.0f, 200.0f);
  float2 p = ami_expm1_red(hc, outr ? 0.0f : l, ami_exp_kf(hc));
  return ami_one_plus(p);
}

/* sigmoid(v) (deriv false) or sigmoid(v) sigmoid(-v) (deriv true) for a
 * double-float v, as (q.x, q.y, k, 0): the value is q 2^k. 0 where it is
 * below 2^-280 (|v| > 200). */
AM_INLINE float4 act_sig(float vh, float vl, bool deriv) {
  bool neg = vh < 0.0f;
  float ah = neg ? vh : -vh;
  float al = neg ? vl : -vl;
  bool far = !(ah >= -200.0f);
  ah = far ? -200.0f : ah;
  al = far ? 0.0f : al;
  float kf = ami_exp_kf(ah);
  int k = convert_int(kf);
  float2 p = ami_expm1_red(ah, al, kf);
  float2 m = ami_one_plus(p);
  float2 t = am_f2(am_ldexp(m.x, k), am_ldexp(m.y, k));
  float2 den = am_fast_two_sum(1.0f, t.x);
  den = am_fast_two_sum(den.x, den.y + t.y);
  float2 q;
  if (deriv)
    q = am_dd_div(m, am_dd_mul(den, den));
  else
    q = am_dd_div(neg ? m : act_one(), den);
  bool small = deriv || neg;
  if (far && small)
    q = act_zero();
  return act_f4(q.x, q.y, small ? kf : 0.0f, 0.0f);
}

/* A factor f'(x) = (g.x + g.y) 2^k as act_bwd returns it: (g.x, g.y, k,
 * huge), huge = 1 where f' is finite but beyond every float (g.x = inf),
 * so that dy = 0 gives 0 rather than NaN. */
AM_INLINE act_quad_t act_fq(float gh, float gl, float k, float huge) {
  act_quad_t r;
  r.x = gh;
  r.y = gl;
  r.z = k;
  r.w = huge;
  return r;
}
AM_INLINE act_quad_t act_fk(float2 g, int k) {
  return act_fq(g.x, g.y, convert_float(k), 0.0f);
}
AM_INLINE act_quad_t act_fac(float2 g) { return act_fk(g, 0); }

/* e^z for z > 200, beyond every float: inf, flagged huge (f' is finite at
 * every finite x) but for z = inf. */
AM_INLINE act_quad_t act_huge(float z) {
  return act_fq(am_inf(), 0.0f, 0.0f, am_isinf(z) ? 0.0f : 1.0f);
}

/* The gated form: sigmoid(w) (1 + s sigmoid(-w)), w and s double-floats
 * (s = x w'(x)). */
AM_INLINE act_quad_t act_gated(float2 w, float2 s) {
  /* t = e^(-|w|) = m 2^k; sigmoid(|w|) = 1/(1 + t), sigmoid(-|w|) =
   * m 2^k/(1 + t): both from one exponential */
  bool neg = w.x < 0.0f;
  float ah = neg ? w.x : -w.x;
  float al = neg ? w.y : -w.y;
  bool far = !(ah >= -200.0f);
  ah = far ? -200.0f : ah;
  al = far ? 0.0f : al;
  float kf = ami_exp_kf(ah);
  int k = convert_int(kf);
  float2 p = ami_expm1_red(ah, al, kf);
  float2 m = ami_one_plus(p);
  float2 den = am_fast_two_sum(1.0f, am_ldexp(m.x, k));
  den = am_fast_two_sum(den.x, den.y + am_ldexp(m.y, k));
  float2 big = am_dd_div(act_one(), den);     /* sigmoid(|w|) */
  float2 small = far ? act_zero() : am_dd_mul(m, big); /* / 2^k */
  float2 sa = neg ? small : big; /* sigmoid(w) = sa 2^ka */
  float2 sb = neg ? big : small; /* sigmoid(-w) = sb 2^kb */
  int ka = neg ? k : 0;
  int kb = neg ? 0 : k;
  float2 t = act_finite(s.x) ? am_dd_mul(s, sb) : am_f2(s.x * sb.x, 0.0f);
  t = act_scale2(t, kb);
  float2 B = am_dd_add_f(t, 1.0f);
  if (!act_finite(t.x))
    B = am_f2(t.x, 0.0f);
  float2 g = am_dd_mul(sa, B);
  if (!act_finite(g.x) || sa.x == 0.0f)
    g = am_f2(sa.x * B.x, 0.0f);
  return act_fk(g, ka);
}

/* NEAR THE ZERO OF f' (gelu, silu, gelu_quick, mish have a minimum) the
 * closed forms cancel completely; there, |h| <= 0.25 with h = x - x0 (or
 * u - u0 for silu's u = beta x) formed exactly as a double-float, f' =
 * h (c1 + h Q(h)), Q from the Taylor series of f' at its zero x0
 * (degree 10-11, truncation below 2^-33 relative; printed by
 * gen/gen_bwd_roots.py beside this file), so f' keeps its relative
 * accuracy however close x is to x0. */
AM_INLINE float2 act_root_h(float2 v, float x0h, float x0l) {
  float2 s = am_two_sum(v.x, -x0h);
  return am_fast_two_sum(s.x, s.y + (v.y - x0l));
}
AM_INLINE float2 act_root_g(float2 h, float q, float c1h, float c1l) {
  float2 t = am_two_prod(h.x, q);
  float2 P = am_two_sum(c1h, t.x);
  P = am_fast_two_sum(P.x, P.y + (t.y + (c1l + h.y * q)));
  return am_dd_mul(h, P);
}
#define ACT_H3(q, h, a, b, c) q = fma(q, h, a); q = fma(q, h, b); q = fma(q, h, c)

/* THE LEAN FORMS (issue 17): sigmoid, log_sigmoid, tanh, silu,
 * gelu_quick, mish, softplus and gelu take dx in one step from the lean
 * exponential (act_math.cl, ami_expm1_lean) instead of a double-float
 * factor and act_gmul_k.  act_bwd_direct returns (dx for a
 * finite dy, a number with the sign of f' that is 0 where f' is 0 in
 * float), which the kernel's inf and NaN handling uses as it uses F.x. */
#if ACT_OP == ACT_OP_SIGMOID || ACT_OP == ACT_OP_TANH ||                      \
    ACT_OP == ACT_OP_LOG_SIGMOID || ACT_OP == ACT_OP_MISH ||                  \
    ACT_OP == ACT_OP_SILU || ACT_OP == ACT_OP_GELU_QUICK ||                \
    ACT_OP == ACT_OP_SOFTPLUS || ACT_OP == ACT_OP_GELU ||                  \
    ACT_OP == ACT_OP_SOFTSIGN || ACT_OP == ACT_OP_TANH_SHRINK
#define ACT_BWD_DIRECT 1

/* dy c t / (1 + t)^2, t = e^a (a <= 0): sigmoid' (c = 1, a = -|x|) and
 * tanh' (c = 4, a = -2|x|), rounded once but for denormal results.  t and
 * 1 + t are the exact pairs of am_mul_sigmoid (ami_exp_t, scaled by 2^j
 * for a < -69.3), (1 + t)^2 an exact product plus its cross term; the quotient
 * is corrected once by its residual (ami_resid) and dx = fma(dy, q0, dy
 * ql).  Budget, u = 2^-24: t's 0.77 u times the sensitivity (1 - t)/(1 +
 * t) <= 1, the pairs and quotient below 0.001 u, the final rounding 0.5
 * ulp: < 1.27 ulp (+1/4 where dx is denormal).  a < -194: f' < 2^-279,
 * dx = 0 (f' counted 0). */
AM_INLINE float2 act_bwd_sig2(float a, float c, float g) {
  bool far = !(a >= -194.0f);
  float ah = far ? -194.0f : a;
  float kf = ami_exp_kf(ah);
  float3 t = ami_exp_t(ah, 0.0f, kf);
  float th = t.x, tl = t.y;
  AM_PRECISE float d = 1.0f + th;
  AM_PRECISE float dl = (th - (d - 1.0f)) + tl;
  float2 d2 = am_two_prod(d, d);
  AM_PRECISE float d2l = fma(2.0f * d, dl, d2.y);
  float rc = 1.0f / d2.x;
  float q0 = ami_cut12(th * rc);
  AM_PRECISE float ql = ami_resid(th, tl, q0, d2.x, d2l) * rc;
  float cq0 = c * q0;
  float y0 = ami_mul_round(g, cq0, c * ql);
  float sj = t.z;
  AM_PRECISE float y1 = y0 * sj;
  AM_PRECISE float y = y1 * sj;
  return am_f2(far ? am_copysign(0.0f, g) : y, far ? 0.0f : cq0);
}

/* Where the lean gradients of the gated and mish forms cut f' to 0: below
 * it |f'| <= 3 |w| e^w < 2^-278 (w the exponent's argument; the factor is
 * |u| for silu and mish, ~3 |w| for gelu's tanh form), so dy f' rounds to
 * 0 for every float dy (|dy| < 2^128).  At -194, where it stood, dy near
 * 3e38 left nonzero denormal products up to -198 (silu', mish',
 * gelu_quick' 26 ulp, gelu' tanh form 72: found by actc verify --backward
 * --exhaustive).  ami_exp_t takes arguments down to -202. */
#define ACT_LEAN_FAR -200.0f

/* dx = dy (f0 + f1) sj^2 for q = (q0, ql, sj), or (rg.x + rg.y) sj^2 in
 * the root lanes, rounded once but for denormal results; (dx, f0) as
 * act_bwd_direct returns them.  far: f' counted 0; one: f' = 1.  The
 * gradients of mish, silu, gelu_quick and gelu end here. */
AM_INLINE float2 act_lean_dx(float g, float3 q, bool root, float2 rg,
                              bool far, bool one) {
  float f0 = root ? rg.x : q.x;
  float f1 = root ? rg.y : q.y;
  f0 = one ? 1.0f : f0;
  f1 = one ? 0.0f : f1;
  /* ami_mul_round wants a 12-bit head where fma is not fused (the root
   * expansion's and the erf form's heads are not cut): the rest moves to
   * the low part exactly (nothing where fma is fused) */
  float fc = ami_cut12(f0);
  AM_PRECISE float fcl = f1 + (f0 - fc);
  float y0 = ami_mul_round(g, fc, fcl);
  AM_PRECISE float y1 = y0 * q.z;
  AM_PRECISE float y = y1 * q.z;
  return am_f2(far ? g * 0.0f : y, far ? 0.0f : f0);
}
#if ACT_OP == ACT_OP_SOFTSIGN
/* softsign'(x) = w^2, w = 1 / (1 + |x|): dx = dy w^2 rounded once (but
 * for denormal results).  d = 1 + |x| as act_softsign's exact pair,
 * scaled by sj = 2^-60 (|x| > 2^60) or 2^-100 (|x| > 2^100), so that w
 * and w^2 stay normal and dy w^2 finite (w <= 1); w = q0 + ql, the
 * quotient corrected once by its residual (ami_resid, ~2^-36 relative),
 * w^2 = q0^2 (exact, am_two_prod) + ql (2 q0 + ql) (ql^2 counts where
 * fma is not fused: q0 is then cut to 12 bits, ql up to 2^-12 of it),
 * and act_lean_dx rounds dy
 * (f0 + f1) once and applies sj twice.  Budget: the pair ~2^-34, the
 * final rounding 0.5 ulp: <= 0.51 ulp.  x = +-inf: f' = 0. */
AM_INLINE float2 act_bwd_softsign(float x, float g) {
  bool inf = am_isinf(x);
  float ax = inf ? 0.0f : fabs(x);
  float sj = ax > 1.2676506002282294e30f
                 ? 7.888609052210118054117285652827862e-31f /* 2^-100 */
                 : (ax > 1.152921504606846976e18f
                        ? 8.67361737988403547205962240695953e-19f /* 2^-60 */
                        : 1.0f);
  float2 d0 = am_two_sum(1.0f, ax);
  AM_PRECISE float dh = d0.x * sj;
  AM_PRECISE float dl = d0.y * sj;
  float rc = 1.0f / dh;
  float q0 = ami_cut12(rc);
  AM_PRECISE float ql = ami_resid(1.0f, 0.0f, q0, dh, dl) * rc;
  float2 p = am_two_prod(q0, q0);
  AM_PRECISE float f1 = p.y + ql * (2.0f * q0 + ql);
  float3 q3;
  q3.x = p.x;
  q3.y = f1;
  q3.z = sj;
  return act_lean_dx(g, q3, false, am_f2(0.0f, 0.0f), inf, false);
}
#endif

#if ACT_OP == ACT_OP_TANH_SHRINK
/* tanh_shrink'(x) = tanh(x)^2, a = |x|: dx = dy w^2 rounded once (but for
 * denormal results), w = tanh a as a pair:
 *   a <= 1: a (1 - c), c = a^2 P(a^2) (act_tanh_shrink_p, the forward's
 *           fit) below 0.24, so 1 - c does not cancel: c an exact product
 *           plus its low terms, 1 - c by a fast-two-sum, w = a times it;
 *   a >  1: (1 - t) / (1 + t), t = e^(-2a) the lean exponential's exact
 *           pair (a clamped to 12, where w^2 rounds to 1 against any dy),
 *           the quotient corrected once (ami_resid); w's sensitivity to t
 *           is 2t / (1 - t^2) <= 0.28, so t's 0.77 u (u = 2^-24) gives
 *           0.21 u.
 * w^2 = wh^2 exactly plus wl (2 wh + wl) (wl up to 2^-12 of wh where fma
 * is not fused and the quotient's head is cut to 12 bits), then
 * act_lean_dx.  Budget: w's 0.21 u doubled, the pairs ~2^-40, the final
 * rounding 0.5 ulp: < 0.95 ulp.  a < 2^-32: w = a (tanh a = a to 2^-65),
 * and dy a a as the exact pair dy a times a, rounded once (ami_mul_pair_
 * round): w^2 alone would leave the normal range.  x = 0: f' = 0. */
AM_INLINE float2 act_bwd_tanh_shrink(float x, float g) {
  float a = fabs(x);
  float ac = a > 12.0f ? 12.0f : a;
  /* a <= 1 */
  float2 tt = am_two_prod(ac, ac);
  float2 pp = act_tanh_shrink_p(tt.x, tt.y);
  float2 c = am_two_prod(tt.x, pp.x);
  AM_PRECISE float cl = c.y + (tt.x * pp.y + tt.y * pp.x);
  float2 m = am_fast_two_sum(1.0f, -c.x);
  AM_PRECISE float ml = m.y - cl;
  float2 w1 = am_two_prod(ac, m.x);
  AM_PRECISE float w1l = w1.y + ac * ml;
  /* a > 1 */
  float ah = -2.0f * (ac > 1.0f ? ac : 1.0f);
  float3 t = ami_exp_t(ah, 0.0f, ami_exp_kf(ah));
  float2 n = am_fast_two_sum(1.0f, -t.x);
  AM_PRECISE float nl = n.y - t.y;
  AM_PRECISE float d = 1.0f + t.x;
  AM_PRECISE float dl = (t.x - (d - 1.0f)) + t.y;
  float rc = 1.0f / d;
  float q0 = ami_cut12(n.x * rc);
  AM_PRECISE float ql = ami_resid(n.x, nl, q0, d, dl) * rc;
  bool small = ac <= 1.0f;
  float wh = small ? w1.x : q0;
  float wl = small ? w1l : ql;
  float2 f = am_two_prod(wh, wh);
  AM_PRECISE float f1 = f.y + wl * (2.0f * wh + wl);
  float3 q3;
  q3.x = f.x;
  q3.y = f1;
  q3.z = 1.0f;
  float2 r = act_lean_dx(g, q3, false, am_f2(0.0f, 0.0f), false, false);
  /* a < 2^-32 */
  float2 z = am_two_prod(g, a);
  float rt = ami_mul_pair_round(a, z.x, z.y);
  bool tiny = a < 2.3283064365386963e-10f;
  return am_f2(tiny ? rt : r.x, tiny ? a : r.y);
}
#endif

#if ACT_OP == ACT_OP_MISH
/* mish'(x) = R + x R', R = tanh(softplus(x)) = A / D as in ami_mish: with
 * s = e^-|x| = 2^k (1 + p) and
 *   x <= 0: A = s (s + 2), D = A + 2,          B = s (s + 1);
 *   x >  0: A = 1 + 2s,    D = A + 2 s^2,      B = s^2 (1 + s),
 * R' = 4 B / D^2, so mish' = N / D^2, N = A D + 4 x B, every term a
 * double-float (exact sums and products of the pair s = sh + sl) and N's
 * sum a double-float sum (it cancels for x < 0), then the quotient
 * corrected once by its residual and dx = fma(dy, q0, dy ql).  The
 * condition number of mish' with respect to a relative error in s is at
 * most 1.53 outside |x - x0| <= 0.25, x0 = -1.1924 its zero (measured
 * on a 0.01 grid over [-20, 20]), so s's 0.77 u gives < 1.2 u, the
 * pairs ~2^-40, and the final rounding 0.5 ulp: < 1.7 ulp.  Within 0.25
 * of x0 the root expansion (act_root_g), as before.  x > 20: 1 (mish' - 1
 * < 2^-50); x < ACT_LEAN_FAR: 0; x < -69.3 scales s by 2^j (ami_exp_t). */
AM_INLINE float2 act_bwd_mish(float x, float g) {
  bool far = !(x >= ACT_LEAN_FAR);
  bool one = x > 20.0f;
  float xe = far ? ACT_LEAN_FAR : (one ? 20.0f : x);
  bool pos = xe > 0.0f;
  float ah = -fabs(xe);
  float kf = ami_exp_kf(ah);
  float3 sp = ami_exp_t(ah, 0.0f, kf);
  float sh = sp.x, sl = sp.y;
  float2 s1 = am_f2(sp.x, sp.y);
  float2 s2 = ami_sq_pair(s1);
  float2 a = ami_mish_a(s1, s2, pos);
  float2 d = ami_mish_d(a, s2, pos);
  /* B = b1 + b2 (+ bl): s + s^2 (x <= 0) or s^2 + s^3 (x > 0) */
  float2 s3 = am_two_prod(s2.x, sh);
  float b1 = pos ? s2.x : sh;
  float b2 = pos ? s3.x : s2.x;
  float2 b = am_fast_two_sum(b1, b2);
  AM_PRECISE float bl3 = fma(s2.y, sh, fma(s2.x, sl, s3.y));
  AM_PRECISE float bl = b.y + (pos ? s2.y + bl3 : sl + s2.y);
  /* N = A D + 4 x B */
  float2 ad = am_dd_mul(a, d);
  float2 xb = am_dd_mul_f(am_f2(b.x, bl), 4.0f * xe);
  float2 nn = am_dd_add(ad, xb);
  float2 dd = am_dd_mul(d, d);
  float rc = 1.0f / dd.x;
  float q0 = ami_cut12(nn.x * rc);
  AM_PRECISE float ql = ami_resid(nn.x, nn.y, q0, dd.x, dd.y) * rc;
  /* near the zero */
  float2 h = act_root_h(am_f2(xe, 0.0f), -1.192431211e+00f, -3.043937546e-09f);
  float q = -5.582891390e-05f;
  ACT_H3(q, h.x, -4.196149530e-05f, 2.541293507e-04f, 9.898181306e-04f);
  ACT_H3(q, h.x, 1.092405524e-03f, -3.360684961e-03f, -1.582112722e-02f);
  ACT_H3(q, h.x, -2.027182281e-02f, 4.190782085e-02f, 2.047312707e-01f);
  float2 rg = act_root_g(h, q, 2.669479251e-01f, -1.104125502e-08f);
  bool root = fabs(xe + 1.192431211f) <= 0.25f;
  float3 q3;
  q3.x = q0;
  q3.y = ql;
  q3.z = sp.z;
  return act_lean_dx(g, q3, root, rg, far, one);
}
#endif

#if ACT_OP == ACT_OP_SILU || ACT_OP == ACT_OP_GELU_QUICK || ACT_OP == ACT_OP_GELU
/* THE GATED FORM, lean: d/dx [x sigmoid(w(x))] = sigmoid(w) (1 + s
 * sigmoid(-w)), s = x w'(x) (silu, gelu_quick: w = s = u = beta x; the
 * gelu tanh form: w = c x (1 + a x^2), s = c x (1 + 3 a x^2)), for pairs
 * w = (wh, wl), s = (sh, sl): N / (1 + t)^2 with t = e^-|w| = 2^k (1 + p)
 * and
 *   w >= 0: N = 1 + t (1 + s);   w < 0: N = t ((1 + s) + t),
 * 1 + s, t (an exact pair as in ami_mul_sigmoid), their products and sums
 * double-floats, the quotient q0 + ql corrected once (ami_resid).  Returns
 * (q0, ql, the 2^(-j/2) that scales dy q back, applied twice by
 * act_lean_dx).  The caller clamps wh to [ACT_LEAN_FAR, 30] (0 and 1
 * beyond) and replaces the lanes near the zero of f' by its root
 * expansion.
 * Condition number in t, outside the root interval |x - x0| <= 0.25 (a
 * 0.001 grid; gen/gen_bwd_roots.py): silu <= 1.56 (over u in [-30, 30]),
 * gelu tanh form <= 1.11 (over x in [-14, 7]): t's 0.77 u gives < 1.2 u,
 * the pairs ~2^-40, the final rounding 0.5 ulp: < 1.7 ulp. */
AM_INLINE float3 act_gated_q(float wh, float wl, float sh, float sl) {
  bool pos = wh >= 0.0f;
  float ah = -fabs(wh);
  float al = wl * (pos ? -1.0f : 1.0f);
  float kf = ami_exp_kf(ah);
  float3 te = ami_exp_t(ah, al, kf);
  float th = te.x, tl = te.y;
  float2 t = am_f2(th, tl);
  float2 w = am_two_sum(1.0f, sh);
  w = am_fast_two_sum(w.x, w.y + sl);
  float2 wt = am_dd_add(w, t);
  float2 X = am_f2(pos ? w.x : wt.x, pos ? w.y : wt.y);
  float2 P = am_dd_mul(t, X);
  float2 P1 = am_dd_add_f(P, 1.0f);
  float2 nn = am_f2(pos ? P1.x : P.x, pos ? P1.y : P.y);
  AM_PRECISE float d = 1.0f + th;
  AM_PRECISE float dl = (th - (d - 1.0f)) + tl;
  float2 dd = am_dd_mul(am_f2(d, dl), am_f2(d, dl));
  float rc = 1.0f / dd.x;
  float q0 = ami_cut12(nn.x * rc);
  AM_PRECISE float ql = ami_resid(nn.x, nn.y, q0, dd.x, dd.y) * rc;
  float3 r;
  r.x = q0;
  r.y = ql;
  r.z = pos ? 1.0f : te.z;
  return r;
}

#endif

#if ACT_OP == ACT_OP_SILU || ACT_OP == ACT_OP_GELU_QUICK
/* silu' (beta x = u, a pair): the gated form with w = s = u; u > 30: 1
 * (f' - 1 < 2^-38); u < ACT_LEAN_FAR: 0; near u0 = -1.2785, the zero of
 * f', the root expansion in u - u0. */
AM_INLINE float2 act_bwd_silu(float2 u0, float g) {
  bool far = !(u0.x >= ACT_LEAN_FAR);
  bool one = u0.x > 30.0f;
  float uh = far ? ACT_LEAN_FAR : (one ? 30.0f : u0.x);
  float ul = (far || one) ? 0.0f : u0.y;
  float3 q3 = act_gated_q(uh, ul, uh, ul);
  /* near the zero */
  float2 h = act_root_h(am_f2(uh, ul), -1.278464556e+00f, 1.297928254e-08f);
  float q = -2.973354276e-05f;
  q = fma(q, h.x, -4.090534276e-05f);
  ACT_H3(q, h.x, 1.857072493e-04f, 7.985218544e-04f, 1.266274048e-04f);
  ACT_H3(q, h.x, -6.606589071e-03f, -1.522265561e-02f, 1.887481473e-02f);
  q = fma(q, h.x, 1.466487944e-01f);
  float2 rg = act_root_g(h, q, 2.178117037e-01f, 2.037854330e-09f);
  bool root = fabs(uh + 1.278464556f) <= 0.25f;
  return act_lean_dx(g, q3, root, rg, far, one);
}
#endif

#if ACT_OP == ACT_OP_GELU
/* gelu' (tanh form): the gated form with w = c x (1 + a x^2) and s = c x
 * (1 + 3 a x^2), c = 2 sqrt(2/pi), a = 0.044715, both pairs
 * (ami_gelu_tanh_w); w > 30 (x > 6.5): 1 (f' - 1 < 2^-37); w <
 * ACT_LEAN_FAR (x < -13.5): 0; near x0 = -0.75246, the zero of f', the
 * root expansion in x - x0. */
AM_INLINE float2 act_bwd_gelu_tanh(float x, float g) {
  float xc = ami_clampf(x, -20.0f, 20.0f);
  float2 w = ami_gelu_tanh_w(xc, AMI_GELU_CA);
  float2 s = ami_gelu_tanh_w(xc, AMI_GELU_3CA);
  bool far = !(w.x >= ACT_LEAN_FAR);
  bool one = w.x > 30.0f;
  bool cut = far || one;
  float wh = far ? ACT_LEAN_FAR : (one ? 30.0f : w.x);
  float3 q3 = act_gated_q(wh, cut ? 0.0f : w.y, cut ? wh : s.x,
                          cut ? 0.0f : s.y);
  float2 h = act_root_h(am_f2(xc, 0.0f), -7.524614334e-01f, 1.133962790e-08f);
  float q = 1.242522849e-04f;
  ACT_H3(q, h.x, 2.639276499e-04f, -9.274420445e-04f, -2.422731835e-03f);
  ACT_H3(q, h.x, 5.261059385e-03f, 1.968230866e-02f, -1.661932841e-02f);
  ACT_H3(q, h.x, -1.139444858e-01f, -1.578285359e-02f, 3.875184357e-01f);
  float2 rg = act_root_g(h, q, 4.304001033e-01f, -1.230575375e-08f);
  bool root = fabs(xc + 0.7524614334f) <= 0.25f;
  return act_lean_dx(g, q3, root, rg, far, one);
}
#endif

#if ACT_OP == ACT_OP_GELU
/* gelu' (erf form), lean: f' = Phi(x) + x phi(x), from one lean
 * exponential and ami_erfcx_lean, the region chosen per lane:
 *   root, |x - x0| <= 0.25 (x0 = -0.75179, the zero of f'): the root
 *     expansion;
 *   small, x0 + 0.25 < x < 0.75: f' = 1/2 + x V(x^2), V(s) = 2 W0 + s
 *     V1(s), 2 W0 = 2/sqrt(2 pi) a pair and V1 degree 5 on [0, 0.5625]
 *     (relative 2.9e-8, gen_math_coeffs.py "GELUDV1"): 1/2 + x 2 W0 an
 *     exact two-product and two-sum, x s V1 in float - at most 0.24 of
 *     f' (x = -0.50), so its fit and ~3 roundings count < 0.25 u; < 0.8
 *     ulp with the final rounding;
 *   big, the rest of [-20, 8]: with E = e^(-x^2/2), z = |x|/sqrt 2 and B
 *     = erfcx(z)/2 - |x|/sqrt(2 pi): f' = E B for x < 0, 1 - E B for x > 0.
 *     erfcx(z) within 0.2 u (ami_erfcx_lean; for z > 10.2, x < -14.42,
 *     the asymptotic series: F/2 = |x|/sqrt(2 pi) as/x^2, as = 1 - 1/(2
 *     z^2) + 3/(4 z^4) - 15/(8 z^6), F's share of B below 1/x^2 <
 *     0.005); B a pair whose head is the exact two-sum of F/2 and the
 *     exact product |x| R0h.  For x < 0, B cancels by at most 1.89 (x =
 *     -1.0018: 0.2614 against 0.3997), so F's 0.2 u counts < 0.4 u; E =
 *     2^(k+j) (th + tl) (ami_exp_t, 0.77 u; j scales x < -11.9 back at
 *     the end), M = B (th + tl) a pair.  Budget for x < 0: 0.77 + 0.4 +
 *     0.01 + the final 0.5 < 1.7 ulp (+1/4 where dx is denormal); for x >
 *     0, |E B| <= 0.13 beside 1: < 0.6 ulp.
 * x > 8: 1 (f' - 1 < 2^-44); x < -20: 0 (f' < 2^-280).  dx = dy (f0 + f1)
 * rounded once (ami_mul_round), as the gated forms. */
AM_INLINE float2 act_bwd_gelu_erf(float x, float g) {
  bool far = !(x >= -20.0f);
  bool one = x > 8.0f;
  bool neg = x < 0.0f;
  /* small */
  float s = x * x;
  float v = 8.27635722089326e-06f;
  v = fma(v, s, -0.00011268426897004247f);
  v = fma(v, s, 0.0011541576823219657f);
  v = fma(v, s, -0.009498600848019123f);
  v = fma(v, s, 0.0598413422703743f);
  v = fma(v, s, -0.26596152782440186f);
  float2 a = am_two_prod(x, 0.7978845834732056f);
  float2 b = am_two_sum(0.5f, a.x);
  AM_PRECISE float sl =
      b.y + (fma(x, -2.2670340271702116e-08f, a.y) + (x * s) * v);
  float2 sm = am_fast_two_sum(b.x, sl);
  /* big */
  float xb = ami_clampf(fabs(x), 0.75f, 20.0f);
  float xc = xb < 14.42f ? xb : 14.42f;
  float2 z = am_dd_mul_f(am_f2(0.7071067690849304f, 1.2101617485882343e-08f),
                         xc);
  float2 F = ami_erfcx_lean(z.x, z.y);
  float2 xb2 = am_two_prod(xb, xb);
  float h = -0.5f * xb2.x;
  float kf = ami_exp_kf(h);
  float3 te = ami_exp_t(h, -0.5f * xb2.y, kf);
  float2 r0 = am_two_prod(xb, ACT_RSQRT2PI_H);
  AM_PRECISE float r0l = fma(xb, ACT_RSQRT2PI_L, r0.y);
  float iz = 2.0f / xb2.x; /* 1/z^2 */
  float as = fma(fma(fma(-1.875f, iz, 0.75f), iz, -0.5f), iz, 1.0f);
  bool asym = xb > 14.42f;
  float fh = asym ? r0.x * (0.5f * iz * as) : 0.5f * F.x;
  float fl = asym ? 0.0f : 0.5f * F.y;
  float2 bb = am_two_sum(fh, -r0.x);
  AM_PRECISE float bl = bb.y + (fl - r0l);
  float2 m = am_two_prod(bb.x, te.x);
  AM_PRECISE float ml = m.y + fma(bb.x, te.y, bl * te.x);
  float2 o = am_fast_two_sum(1.0f, -m.x);
  AM_PRECISE float ol = o.y - ml;
  /* near the zero */
  float2 hr = act_root_h(am_f2(x, 0.0f), -7.517915368e-01f, 1.211444989e-08f);
  float q = 8.615948173e-05f;
  ACT_H3(q, hr.x, 1.863397483e-04f, -7.448268589e-04f, -2.239538124e-03f);
  ACT_H3(q, hr.x, 4.539228510e-03f, 1.942167990e-02f, -1.477152202e-02f);
  ACT_H3(q, hr.x, -1.140082330e-01f, -1.819967665e-02f, 3.882849813e-01f);
  float2 rg = act_root_g(hr, q, 4.314939976e-01f, -5.259805480e-09f);
  bool root = fabs(x + 0.7517915368f) <= 0.25f;
  bool small = x > -0.5017915368f && x < 0.75f;
  float f0 = neg ? m.x : o.x;
  float f1 = neg ? ml : ol;
  f0 = small ? sm.x : f0;
  f1 = small ? sm.y : f1;
  float3 q3;
  q3.x = f0;
  q3.y = f1;
  q3.z = neg ? te.z : 1.0f;
  return act_lean_dx(g, q3, root, rg, far, one);
}
#endif

AM_INLINE float2 act_bwd_direct(float x, float g, float2 p0, float2 p1,
                                float2 p2, float2 p3) {
#if ACT_OP == ACT_OP_SILU || ACT_OP == ACT_OP_GELU_QUICK
#if ACT_OP == ACT_OP_SILU
  float2 beta = p0;
#else
  float2 beta = am_f2(1.70200002193450927734375f, -2.19345092773437500e-08f);
#endif
  float2 r = act_bwd_silu(act_mul_dd(x, beta), g);
  /* beta = 0: x / 2, f' = 1/2 */
  return beta.x == 0.0f ? am_f2(0.5f * g, 0.5f) : r;
#elif ACT_OP == ACT_OP_GELU
  /* p0 approximate, a constant in each of gelu's two kernels (below) */
  return p0.x != 0.0f ? act_bwd_gelu_tanh(x, g) : act_bwd_gelu_erf(x, g);
#elif ACT_OP == ACT_OP_MISH
  return act_bwd_mish(x, g);
#elif ACT_OP == ACT_OP_SIGMOID
  return act_bwd_sig2(-fabs(x), 1.0f, g);
#elif ACT_OP == ACT_OP_TANH
  return act_bwd_sig2(-2.0f * fabs(x), 4.0f, g);
#elif ACT_OP == ACT_OP_SOFTPLUS
  /* softplus' = sigmoid(z), z = beta x as an exact pair (p0 beta, p1
   * threshold): dy sigmoid(z) rounded once (ami_mul_sigmoid, < 1.52 ulp,
   * the pair keeping z's rounding out of the far tail, where it would
   * count |z| times); 1 where z > threshold (the forward's linear part) */
  float2 zm = act_mul_dd(x, p0);
  float zh = zm.x;
  float zl = act_finite(zm.x) ? zm.y : 0.0f;
  bool top = act_gt_p(zh + zl, p1);
  float r = ami_mul_sigmoid(g, am_f2(zh, zl));
  return am_f2(top ? g : r, (top || zh >= -104.0f) ? 1.0f : 0.0f);
#elif ACT_OP == ACT_OP_SOFTSIGN
  return act_bwd_softsign(x, g);
#elif ACT_OP == ACT_OP_TANH_SHRINK
  return act_bwd_tanh_shrink(x, g);
#else
  /* log_sigmoid' = sigmoid(-x): dy sigmoid(-x) rounded once; 0 in float
   * below x = -104 on the sigmoid's side, i.e. x > 104 */
  float r = ami_mul_sigmoid(g, am_f2(-x, 0.0f));
  return am_f2(r, x > 104.0f ? 0.0f : 1.0f);
#endif
}
#endif


#if ACT_OP == ACT_OP_SQUAREPLUS
/* squareplus'(x) = y / s (s = sqrt(x^2 + b)), in act_squareplus's scaled
 * X = |x| sc, S = sh + sl (act_sqp_scale, act_sqrt_sq_add), D = S + X:
 *   x >= 0: 1/2 + (X / S) / 2, in [1/2, 1], no exponent;
 *   x <  0: b / (2 D S) sc^2 (the conjugate: no cancellation), as
 *           b' / (2 P') 2^k with b' and P' = D S (an exact product plus
 *           its cross terms) brought into [1, 2) by their exponents (a
 *           factor in (1/4, 1); f' itself reaches 2^-256 for b = 4 and
 *           x = -FLT_MAX).
 * Each quotient q0 + ql is corrected once by its residual (ami_resid),
 * ~2^-36; with S's ~2^-28 the factor is within ~2^-27 of f':
 * act_gmul_k's one rounding
 * gives <= 0.51 ulp.  b = 0: 1 (x > 0), 1/2 (x = 0), 0; x = +-inf: 1 or
 * 0. */
AM_INLINE act_quad_t act_bwd_squareplus(float x, float2 b) {
  bool b0 = b.x == 0.0f && b.y == 0.0f;
  bool inf = am_isinf(x);
  float ax = inf ? 1.0f : fabs(x);
  float sc = act_sqp_scale(ax, b.x);
  int ksc = sc < 1.0f ? -192 : (sc > 1.0f ? 128 : 0); /* log2(sc^2) */
  AM_PRECISE float axs = ax * sc;
  AM_PRECISE float b2h = (b.x * sc) * sc;
  AM_PRECISE float b2l = (b.y * sc) * sc;
  float2 s = act_sqrt_sq_add(axs, b2h, b2l);
  /* x >= 0: 1/2 + X / (2 S) */
  float rs = 1.0f / s.x;
  float r0 = ami_cut12(axs * rs);
  AM_PRECISE float r1 = ami_resid(axs, 0.0f, r0, s.x, s.y) * rs;
  float2 fp = am_fast_two_sum(0.5f, 0.5f * r0);
  AM_PRECISE float fpl = fp.y + 0.5f * r1;
  /* x < 0: b' / (2 P') 2^(eb - eP + ksc), P = D S (normal: D and S lie
   * in [2^-50, 2^61] after the scaling); P' and b' in [1, 2) */
  float2 u = am_fast_two_sum(s.x, axs);
  AM_PRECISE float ul = u.y + s.y;
  float2 pp = am_two_prod(u.x, s.x);
  AM_PRECISE float ppl = pp.y + (u.x * s.y + ul * s.x);
  /* P' through its bits and one multiply (two multiplies by one factor
   * become a 2-lane vector in LLVM's SLP vectorizer, which stops PoCL's
   * loop vectorizer: the gradient ran 5x slower) */
  int ep = convert_int(as_uint(pp.x) >> 23) - 127;
  float ph = as_float((as_uint(pp.x) & 0x007fffffu) | 0x3f800000u);
  float pl = ppl * as_float(convert_uint(127 - ep) << 23);
  int eb = am_ilogb(b.x); /* b is uniform: hoisted out of the loop */
  float bnh = am_ldexp(b.x, -eb), bnl = am_ldexp(b.y, -eb);
  float rd = 1.0f / ph;
  float q0 = ami_cut12(bnh * rd);
  AM_PRECISE float q1 = ami_resid(bnh, bnl, q0, ph, pl) * rd;
  float2 fn = am_fast_two_sum(0.5f * q0, 0.5f * q1);
  bool pos = x >= 0.0f;
  float f0 = pos ? fp.x : fn.x;
  float f1 = pos ? fpl : fn.y;
  int k = pos ? 0 : eb - ep + ksc;
  /* the limits: b = 0 (f' = 1, 1/2 or 0) and x = +-inf */
  bool lim = b0 || inf;
  float fl = x > 0.0f ? 1.0f : (x < 0.0f || inf ? 0.0f : 0.5f);
  return act_fk(am_f2(lim ? fl : f0, lim ? 0.0f : f1), lim ? 0 : k);
}
#endif

#ifndef ACT_BWD_DIRECT
/* f'(x) for every op but prelu with a slope tensor, as a factor (act_fk):
 * the kernel multiplies dy by it once (act_gmul_k), so that vector code,
 * which runs every branch, has one such product. */
AM_INLINE act_quad_t act_bwd(float x, float2 p0, float2 p1, float2 p2,
                             float2 p3) {
#if ACT_OP == ACT_OP_RELU
  /* p0 negative_slope, p1 max_value, p2 threshold */
  float r;
  float2 g;
  if (act_gt_p(x, p2)) {
    r = x;
    g = act_one();
  } else {
    r = (p0.x == 0.0f) ? 0.0f
                       : (am_isinf(x) ? p0.x * x : act_mul_p(act_sub_p(x, p2), p0));
    g = p0;
  }
  if (act_gt_p(r, p1))
    g = act_zero();
  return act_fac(g);
#elif ACT_OP == ACT_OP_RELU6
  return act_fac((x > 0.0f && x < 6.0f) ? act_one() : act_zero());
#elif ACT_OP == ACT_OP_LEAKY_RELU || ACT_OP == ACT_OP_PRELU
  return act_fac(x >= 0.0f ? act_one() : p0);
#elif ACT_OP == ACT_OP_ELU || ACT_OP == ACT_OP_SELU
#if ACT_OP == ACT_OP_ELU
  float2 c1 = act_one(), c2 = p0;
#else
  float2 c1 = am_f2(1.05070102214813232421875f, -3.4792651830799415e-08f);
  float2 c2 = am_f2(1.7580993175506591796875f, 2.3296717680252718e-08f);
#endif
  if (x > 0.0f)
    return act_fac(c1);
  if (x < -200.0f)
    return act_fac(act_zero());
  float2 m = act_exp_m(x, 0.0f);
  return act_fk(am_dd_mul(m, c2), convert_int(act_exp_k(x)));
#elif ACT_OP == ACT_OP_CELU
  if (x > 0.0f)
    return act_fac(act_one());
  float zh = x, zl = 0.0f;
  if (!(p0.x == 1.0f && p0.y == 0.0f)) {
    /* z = x / alpha as a pair, by two plain divisions (act_ops.cl, celu) */
    zh = x / p0.x;
    zl = (am_fnma(zh, p0.x, x) - zh * p0.y) / p0.x;
    if (!act_finite(zh))
      zl = 0.0f;
  }
  if (!(zh >= -200.0f))
    return act_fac(act_zero());
  if (zh > 200.0f) /* alpha < 0: e^(x/alpha) far above float range */
    return act_huge(zh);
  return act_fk(act_exp_m(zh, zl), convert_int(act_exp_k(zh)));
#elif ACT_OP == ACT_OP_EXP
  if (x > 200.0f)
    return act_huge(x);
  if (x < -200.0f)
    return act_fac(act_zero());
  return act_fk(act_exp_m(x, 0.0f), convert_int(act_exp_k(x)));
#elif ACT_OP == ACT_OP_HARD_SIGMOID || ACT_OP == ACT_OP_HARD_SILU
  /* p0 alpha, p1 beta/alpha, p2 beta.  s = alpha (x + beta/alpha) as the
   * forward's pair (act_hs_pair, ~2^-48): the ramp is 0 < s < 1.  A rounded s put x = 3 - 2^-22 for (1/6, 1/2)
   * on the ramp's end (x + 3 rounds to 6: f' 0 for 1/6; found by actc
   * verify --backward --exhaustive).  s > 0 is decided exactly (the
   * sign of the exact x + beta/alpha); s < 1 where the pair is below 1 by
   * more than 2^-44, its error: where s is 1 to within that (x at the
   * end, as x = 3 here) the reference's own rounding says 1, f' = 0. */
  float2 hh = act_hs_pair(x, p0, p1);
  bool a0 = p0.x == 0.0f && p0.y == 0.0f;
  bool inf = am_isinf(x);
  bool pos = hh.x > 0.0f || (hh.x == 0.0f && hh.y > 0.0f);
  bool below1 = hh.x < 1.0f || (hh.x == 1.0f && hh.y < -5.684341886080802e-14f);
  bool ramp = !a0 && !inf && pos && below1;
#if ACT_OP == ACT_OP_HARD_SIGMOID
  return act_fac(ramp ? p0 : act_zero());
#else
  /* off the ramp f' = h, 0 or 1 (x = +-inf: by alpha x's sign; alpha =
   * 0: beta clamped) */
  float hs = a0 ? p2.x : (inf ? p0.x * x : (hh.x > 0.5f ? 1.0f : 0.0f));
  float h = hs >= 1.0f ? 1.0f : (hs <= 0.0f ? 0.0f : hs);
  /* on the ramp h + x alpha = alpha (2x + beta/alpha) */
  float2 u = am_two_sum(2.0f * x, p1.x);
  u = am_fast_two_sum(u.x, u.y + p1.y);
  float2 g = am_dd_mul(u, p0);
  return act_fac(am_f2(ramp ? g.x : h, ramp ? g.y : 0.0f));
#endif
#elif ACT_OP == ACT_OP_HARD_TANH
  return act_fac((x >= -1.0f && x <= 1.0f) ? act_one() : act_zero());
#elif ACT_OP == ACT_OP_SQUAREPLUS
  return act_bwd_squareplus(x, p0);
#elif ACT_OP == ACT_OP_SPARSE_PLUS
  if (x <= -1.0f)
    return act_fac(act_zero());
  if (x >= 1.0f)
    return act_fac(act_one());
  float2 t = am_two_sum(x, 1.0f);
  return act_fac(am_f2(0.5f * t.x, 0.5f * t.y));
#elif ACT_OP == ACT_OP_SPARSE_SIGMOID
  return act_fac((x > -1.0f && x < 1.0f) ? am_f2(0.5f, 0.0f) : act_zero());
#elif ACT_OP == ACT_OP_LINEAR
  return act_fac(act_one());
#elif ACT_OP == ACT_OP_HARD_SHRINK || ACT_OP == ACT_OP_SOFT_SHRINK
  return act_fac((act_gt_p(x, p0) || act_lt_p(x, act_neg_p(p0))) ? act_one()
                                                          : act_zero());
#elif ACT_OP == ACT_OP_THRESHOLD
  return act_fac(act_gt_p(x, p0) ? act_one() : act_zero());
#elif ACT_OP == ACT_OP_CLIP
  return act_fac((act_lt_p(x, p0) || act_gt_p(x, p1)) ? act_zero()
                                                          : act_one());
#elif ACT_OP == ACT_OP_CUSTOM
  /* a custom op's derivative f'(x) (README.md, "Custom ops") */
  return act_fac(am_f2(ACT_CUSTOM_DERIVATIVE(x, p0.x, p1.x, p2.x, p3.x), 0.0f));
#else
  return act_fac(am_f2(am_nan(), 0.0f)); /* not element-wise: unused */
#endif
}
#endif /* !ACT_BWD_DIRECT */

/* For dy = +-inf: the sign of f'(x) where act_bwd's f' is 0 in float
 * but not in double (the reference's dy f' is then +-inf, not NaN): the
 * far tails, down to where double's e^t underflows (t < -745.13). 0 where
 * f' is 0 in double too. */
AM_INLINE float act_tail(float x, float2 p0, float2 p1) {
  float lim = -745.13f;
#if ACT_OP == ACT_OP_ELU
  return x > lim ? p0.x : 0.0f;
#elif ACT_OP == ACT_OP_SELU || ACT_OP == ACT_OP_EXP
  return x > lim ? 1.0f : 0.0f;
#elif ACT_OP == ACT_OP_CELU
  return x / p0.x > lim ? 1.0f : 0.0f;
#elif ACT_OP == ACT_OP_GELU
  if (p0.x != 0.0f)
    return 1.5957691669464111f * (x + 0.044715f * x * x * x) > lim ? -1.0f
                                                                    : 0.0f;
  /* the erf form: the reference's x phi(x), phi = exp(-x^2/2) / sqrt(2
   * pi) in double, is 0 from x = -38.5755005 down (-x^2/2 = -744.03: exp
   * gives one denormal ulp, and the product with 1/sqrt(2 pi) rounds to
   * 0), before exp itself underflows at lim */
  return x > -38.5755005f ? -1.0f : 0.0f;
#elif ACT_OP == ACT_OP_SILU || ACT_OP == ACT_OP_GELU_QUICK
#if ACT_OP == ACT_OP_SILU
  float u = p0.x * x;
#else
  float u = 1.702f * x;
#endif
  return u > lim ? -1.0f : 0.0f;
#elif ACT_OP == ACT_OP_MISH
  return x > lim ? -1.0f : 0.0f;
#elif ACT_OP == ACT_OP_SIGMOID
  return -fabs(x) > lim ? 1.0f : 0.0f;
#elif ACT_OP == ACT_OP_LOG_SIGMOID
  return -x > lim ? 1.0f : 0.0f;
#elif ACT_OP == ACT_OP_TANH
  return -2.0f * fabs(x) > lim ? 1.0f : 0.0f;
#elif ACT_OP == ACT_OP_SOFTPLUS
  return act_mul_p(x, p0) > lim ? 1.0f : 0.0f;
#elif ACT_OP == ACT_OP_SOFTSIGN
  return 1.0f;
#elif ACT_OP == ACT_OP_SQUAREPLUS
  return p0.x > 0.0f ? 1.0f : 0.0f;
#elif ACT_OP == ACT_OP_TANH_SHRINK
  return x != 0.0f ? 1.0f : 0.0f;
#else
  return 0.0f;
#endif
}

#define ACT_ELTWISE_BWD_SCALARS(SCALAR, SEP)                                  \
  SCALAR(uint, n) SEP() SCALAR(uint, xoff) SEP() SCALAR(uint, dyoff) SEP()    \
  SCALAR(uint, dxoff) SEP()                                                   \
  SCALAR(float, p0h) SEP() SCALAR(float, p0l) SEP()                           \
  SCALAR(float, p1h) SEP() SCALAR(float, p1l) SEP()                           \
  SCALAR(float, p2h) SEP() SCALAR(float, p2l) SEP()                           \
  SCALAR(float, p3h) SEP() SCALAR(float, p3l)
#define ACT_ELTWISE_BWD_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                      \
  IN(STYPE, x) SEP() IN(STYPE, dy) SEP() OUT(STYPE, dx) SEP()                 \
  ACT_ELTWISE_BWD_SCALARS(SCALAR, SEP)

/* dx[dxoff + i] = dy[dyoff + i] * f'(x[xoff + i]) for one i < n. One
 * factor for every case, and selects (vector code on CPU drivers). An
 * infinite dy gives +-inf by the sign of f', or NaN (inf * 0) where f' is
 * 0 in double too (act_tail) - decided without an inf * 0 that a shader
 * compiler may fold to 0. */
#ifdef ACT_BWD_DIRECT
#define ACT_BWD_FACTOR(v, g, r, fx)                                           \
  float2 D = act_bwd_direct(v, g, p0, p1, p2, p3);                            \
  float r = D.x, fx = D.y;
#else
#define ACT_BWD_FACTOR(v, g, r, fx)                                           \
  act_quad_t F = act_bwd(v, p0, p1, p2, p3);                                  \
  float r = act_gmul_k(g, am_f2(F.x, F.y), convert_int(F.z));                 \
  r = (F.w != 0.0f && g == 0.0f) ? g : r;                                     \
  float fx = F.x;
#endif
#define ACT_BWD_ELT(V, G, OUT)                                                \
  {                                                                           \
    float v = (V), g = (G);                                                   \
    ACT_BWD_FACTOR(v, g, r, fx)                                               \
    float ft = (fx == 0.0f && act_finite(v)) ? act_tail(v, p0, p1) : fx;      \
    float rinf = ft == 0.0f ? am_nan()                                        \
                 : ((ft > 0.0f) == (g > 0.0f) ? am_inf() : -am_inf());        \
    r = am_isinf(g) ? rinf : r;                                               \
    OUT = (v != v || g != g) ? v + g : r;                                     \
  }
#define ACT_ELTWISE_BWD_ONE(i)                                                \
  {                                                                           \
    float o_;                                                                 \
    ACT_BWD_ELT(LOAD(x, xoff + (i)), LOAD(dy, dyoff + (i)), o_)               \
    STORE(dx, dxoff + (i), o_);                                               \
  }

/* The same over whole vectors of four elements (act_eltwise_bwd4), the
 * plan's choice where limits.eltwise_vec4 is set (Vulkan) and n and the
 * three offsets are multiples of 4: one vector load of x and dy and one
 * store of dx per work-item, as act_eltwise4. lavapipe ran the kernel of
 * one element per work-item at a fifth of the forward's speed for relu's
 * gradient (0.04 Gelem/s, its masked scalar accesses). */
#ifdef ACT_V4
#define ACT_ELTWISE_BWD4_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                     \
  IN(ACT_V4, x) SEP() IN(ACT_V4, dy) SEP() OUT(ACT_V4, dx) SEP()              \
  ACT_ELTWISE_BWD_SCALARS(SCALAR, SEP)
#define ACT_ELTWISE_BWD4_BODY                                                 \
  uint i4 = ACT_LINEAR_ID();                                                  \
  if (i4 < n / 4u) {                                                          \
    float4 xv4 = ACT_V4_GET(x[xoff / 4u + i4]);                               \
    float4 gv4 = ACT_V4_GET(dy[dyoff / 4u + i4]);                             \
    float o0, o1, o2, o3;                                                     \
    ACT_BWD_ELT(xv4.x, gv4.x, o0)                                             \
    ACT_BWD_ELT(xv4.y, gv4.y, o1)                                             \
    ACT_BWD_ELT(xv4.z, gv4.z, o2)                                             \
    ACT_BWD_ELT(xv4.w, gv4.w, o3)                                             \
    dx[dxoff / 4u + i4] = ACT_V4_PUT(o0, o1, o2, o3);                         \
  }
#endif

/* gelu's two forms are two kernels, p0 (approximate) a constant in each
 * (act_eltwise_bwd: the erf form; act_eltwise_bwd_gelu_tanh, which the
 * plan dispatches for approximate != 0): a select per element would run
 * both forms in vector code, and a branch on the argument was
 * if-converted the same way. */
#if ACT_OP == ACT_OP_GELU
#define ACT_BWD_P0 am_f2(0.0f, 0.0f)
#else
#define ACT_BWD_P0 am_f2(p0h, p0l)
#endif
#define ACT_BWD_PARAMS(P0)                                                    \
  float2 p0 = P0, p1 = am_f2(p1h, p1l);                                       \
  float2 p2 = am_f2(p2h, p2l), p3 = am_f2(p3h, p3l)
ACT_KERNEL(act_eltwise_bwd, ACT_ELTWISE_BWD_ARGS) {
  ACT_BWD_PARAMS(ACT_BWD_P0);
  ACT_ITEMS(n, ACT_ELTWISE_BWD_ONE)
}
#ifdef ACT_V4
ACT_KERNEL(act_eltwise_bwd4, ACT_ELTWISE_BWD4_ARGS) {
  ACT_BWD_PARAMS(ACT_BWD_P0);
  ACT_ELTWISE_BWD4_BODY
}
#endif

#if ACT_OP == ACT_OP_GELU
ACT_KERNEL(act_eltwise_bwd_gelu_tanh, ACT_ELTWISE_BWD_ARGS) {
  ACT_BWD_PARAMS(am_f2(1.0f, 0.0f));
  ACT_ITEMS(n, ACT_ELTWISE_BWD_ONE)
}
#ifdef ACT_V4
ACT_KERNEL(act_eltwise_bwd4_gelu_tanh, ACT_ELTWISE_BWD4_ARGS) {
  ACT_BWD_PARAMS(am_f2(1.0f, 0.0f));
  ACT_ELTWISE_BWD4_BODY
}
#endif
#endif

#define ACT_PRELU_BWD_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                        \
  IN(STYPE, x) SEP() IN(STYPE, alpha) SEP() IN(STYPE, dy) SEP()               \
  OUT(STYPE, dx) SEP()                                                        \
  SCALAR(uint, n) SEP() SCALAR(uint, xoff) SEP() SCALAR(uint, aoff) SEP()     \
  SCALAR(uint, dyoff) SEP() SCALAR(uint, dxoff) SEP() SCALAR(uint, inner)     \
  SEP() SCALAR(uint, channels)

/* prelu with a slope tensor: dx = dy (x >= 0) or alpha dy. */
#define ACT_PRELU_BWD_ONE(i)                                                  \
  {                                                                           \
    float v = LOAD(x, xoff + (i));                                            \
    float g = LOAD(dy, dyoff + (i));                                          \
    float a = LOAD(alpha, aoff + ((i) / inner) % channels);                   \
    float r = (v != v) ? v : (v >= 0.0f ? g : a * g);                         \
    STORE(dx, dxoff + (i), r);                                                \
  }
ACT_KERNEL(act_prelu_bwd, ACT_PRELU_BWD_ARGS) {
  ACT_ITEMS(n, ACT_PRELU_BWD_ONE)
}

#define ACT_PRELU_DALPHA_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                     \
  IN(STYPE, x) SEP() IN(STYPE, dy) SEP() OUT(STYPE, dalpha) SEP()             \
  LOCAL(float2, red, 256) SEP()                                               \
  SCALAR(uint, outer) SEP() SCALAR(uint, channels) SEP()                      \
  SCALAR(uint, inner) SEP() SCALAR(uint, xoff) SEP() SCALAR(uint, dyoff)      \
  SEP() SCALAR(uint, daoff)

/* dalpha[c] = sum of dy x over the elements of channel c with x < 0 (x
 * NaN: NaN), one work-group per channel (grid-stride over channels, the
 * group size a power of two <= 256): exact products summed in
 * double-float per lane, then a fixed tree, so the result does not depend
 * on timing. */
ACT_KERNEL(act_prelu_dalpha, ACT_PRELU_DALPHA_ARGS) {
  uint lid = convert_uint(get_local_id(0));
  uint lsz = convert_uint(get_local_size(0));
  uint grp = convert_uint(get_group_id(0));
  uint ngrp = convert_uint(get_num_groups(0));
  uint m = outer * inner;
  for (uint c = grp; c < channels;
       c = (channels - c > ngrp) ? c + ngrp : channels) {
    float2 s = am_f2(0.0f, 0.0f);
    for (uint j = lid; j < m; j += lsz) {
      uint o = j / inner;
      uint i = j - o * inner;
      uint e = (o * channels + c) * inner + i;
      float v = LOAD(x, xoff + e);
      float g = LOAD(dy, dyoff + e);
      /* the term dy * (x < 0 ? x : 0): NaN also for inf * 0 */
      if (v < 0.0f || v != v || !act_finite(g)) {
        float2 p = am_two_prod(g, v < 0.0f ? v : 0.0f);
        p = act_finite(p.x) ? p : am_f2(v != v ? v : p.x, 0.0f);
        float t = s.x + p.x;
        s = act_finite(t) && act_finite(p.x) ? am_dd_add(s, p) : am_f2(t, 0.0f);
      }
    }
    red[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = lsz >> 1; h > 0u; h >>= 1) {
      if (lid < h) {
        float2 a = red[lid], b = red[lid + h];
        float t = a.x + b.x;
        red[lid] = act_finite(t) ? am_dd_add(a, b) : am_f2(t, 0.0f);
      }
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0u)
      STORE(dalpha, daoff + c, red[0].x + red[0].y);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
}

/* ------------------------------------------------------------------ */
/* glu, whose backward is element-wise over y.                          */
/* ------------------------------------------------------------------ */
#if ACT_OP == ACT_OP_GLU

#define ACT_GLU_BWD_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                          \
  IN(STYPE, x) SEP() IN(STYPE, dy) SEP() OUT(STYPE, dx) SEP()                 \
  SCALAR(uint, ny) SEP() SCALAR(uint, hlen) SEP() SCALAR(uint, inner) SEP()   \
  SCALAR(uint, xoff) SEP() SCALAR(uint, dyoff) SEP() SCALAR(uint, dxoff)

/* y = a sigmoid(b): da = dy sigmoid(b), db = dy a sigmoid(b) sigmoid(-b),
 * one work-item per element of y, as act_glu. */
ACT_KERNEL(act_glu_bwd, ACT_GLU_BWD_ARGS) {
  uint j = ACT_LINEAR_ID();
  if (j < ny) {
    uint xa = act_glu_a(j, hlen, inner);
    uint xb = xa + hlen * inner;
    float a = LOAD(x, xoff + xa);
    float b = LOAD(x, xoff + xb);
    float g = LOAD(dy, dyoff + j);
    float da, db;
    if (am_isnan(a) || am_isnan(b) || am_isnan(g)) {
      da = am_nan();
      db = am_nan();
    } else {
      da = am_mul_sigmoid(g, am_f2(b, 0.0f));
      if (am_isinf(b)) {
        db = g * 0.0f;
      } else {
        float4 s = act_sig(b, 0.0f, true);
        float2 p = am_two_prod(g, a);
        if (!act_finite(p.x) || p.x == 0.0f)
          db = p.x * s.x;
        else {
          int e = am_ilogb(p.x);
          float2 ps = act_scale2(p, -e);
          db = am_ldexp_dd(am_dd_mul(ps, am_f2(s.x, s.y)),
                           e + convert_int(s.z));
        }
      }
    }
    STORE(dx, dxoff + xa, da);
    STORE(dx, dxoff + xb, db);
  }
}
#endif
