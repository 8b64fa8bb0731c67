/*
 * axis.cl - the ops along an axis (docs/ops.md): softmax, log_softmax, softmin,
 * logsumexp, glu, standardize, one_hot.
 *
 * Needs: -D ACT_OP=<act_op_t value> -D ACT_DTYPE=0|1|2 (one_hot: the dtype
 * of y, 3 for i32), the ACT_OP_<NAME> defines, act_prelude_*.cl and
 * act_math.cl before it (the runtime assembles them: README.md). Only the
 * kernel of ACT_OP is compiled.
 *
 * GEOMETRY. A tensor is viewed as [outer, len, inner] around the axis
 * (src/core/internal.h); a "row" is the len elements of one (o, i), at
 * element offsets base + k * inner, base = o * len * inner + i. Rows are
 * numbered r = o * inner + i, so consecutive rows are consecutive i:
 * work-items on neighbouring rows read neighbouring addresses. All offsets
 * and counts are in elements and fit in 32 bits (the planner checks).
 *
 * TWO LAUNCH SHAPES, one kernel (scalar per_group):
 *   per_group = 0: one work-item per row; rows are walked group-uniformly
 *     (row = group * size + local id, then + groups * size), so that every
 *     work-item of a group runs the same number of row iterations;
 *   per_group = 1: one work-group per row (grid-stride over rows), lanes
 *     striding the row, then tree reductions in local memory. The group
 *     size must be a power of two <= ACT_AXIS_WG; the LOCAL arrays hold
 *     ACT_AXIS_WG entries (the host binds size * element bytes).
 * Barriers sit only under `if (per_group)` inside the group-uniform row
 * loop, so they are reached by all or none of a group.
 *
 * KERNELS AND ARGUMENTS (in ARGS order: buffers, LOCAL arrays, scalars):
 *   act_softmax (softmax, log_softmax, softmin)
 *     IN x, IN(uchar) w, OUT y, LOCAL(float2) red, LOCAL(float) redm;
 *     rows, len, inner, xoff, woff, yoff, has_where, per_group.
 *     w is the u8 mask (read only through LOADU8; any buffer when
 *     has_where = 0).
 *   act_softmax4 (the same ops and arguments, per_group = 1 only): rows
 *     of at most 4 x the group size as straight-line code (see there).
 *   act_softmax_row (the same ops, f32 only, the same arguments,
 *     per_group = 0 and inner = 1 only; CPU drivers): each row's
 *     passes as unit-stride loops (see there).
 *   act_logsumexp
 *     IN x, IN b, OUT y, OUT sgn, LOCAL(float2) red, LOCAL(float) redm;
 *     rows, len, inner, xoff, boff, bso, bsl, bsi, yoff, soff, has_b,
 *     has_sign, per_group. b element k of row (o, i) is at
 *     boff + o*bso + k*bsl + i*bsi (its broadcast in the row view; any
 *     buffer when has_b = 0); y and sgn element r at yoff + r, soff + r
 *     (sgn: any buffer when has_sign = 0).
 *   act_logsumexp_row (the same arguments, f32, per_group = 0 and
 *     inner = 1 only; CPU drivers, as act_softmax_row).
 *   act_standardize
 *     IN x, IN mean, IN var, OUT y, LOCAL(float4) red, LOCAL(float) redm;
 *     rows, len, inner, xoff, yoff, moff, mso, msl, msi, voff, vso, vsl,
 *     vsi, has_mean, has_var, per_group, eps_h, eps_l, len_h, len_l.
 *     mean/var strides as for b; (eps_h, eps_l) epsilon and (len_h, len_l)
 *     the row length as (hi, lo) float pairs.
 *   act_standardize_row, act_standardize_bwd_row (the same arguments as
 *     act_standardize / act_standardize_bwd, f32, per_group = 0, inner =
 *     1, no given mean or variance; CPU drivers, as act_softmax_row).
 *   act_glu (one work-item per output element, 1-D or 2-D launch)
 *     IN x, OUT y; ny, hlen, inner, xoff, yoff. y is [outer, hlen, inner].
 *   act_one_hot (one work-item per output element, grid-stride)
 *     IN(int) x, OUT y; ny, len, inner, xoff, yoff. len = num_classes, the
 *     view is y's; x element o * inner + i.
 * Backward (docs/ops.md, "Gradients"; src/core/plan_bwd.c), in the same launch shapes:
 *   act_softmax_bwd (softmax, log_softmax, softmin)
 *     IN y, IN(uchar) w, IN dy, OUT dx, LOCAL(float4) red, LOCAL(float)
 *     redm; rows, len, inner, yoff, woff, dyoff, dxoff, has_where,
 *     per_group.
 *   act_softmax_bwd_row (the same ops and arguments, f32, per_group = 0
 *     and inner = 1 only; CPU drivers, as act_softmax_row).
 *   act_logsumexp_bwd
 *     IN x, IN b, IN dy, OUT dx, LOCAL(float2) red, LOCAL(float) redm;
 *     rows, len, inner, xoff, boff, bso, bsl, bsi, dyoff, dxoff, has_b,
 *     has_sign, per_group. dy element r at dyoff + r.
 *   act_logsumexp_bwd_row (the same arguments, f32, per_group = 0 and
 *     inner = 1 only; CPU drivers, as act_softmax_row).
 *   act_standardize_bwd
 *     IN x, IN mean, IN var, IN dy, OUT dx, LOCAL(float4) red, LOCAL(float)
 *     redm; rows, len, inner, xoff, dyoff, dxoff, moff, mso, msl, msi,
 *     voff, vso, vsl, vsi, flags (bit 0 has_mean, 1 has_var, 2
 *     per_group), eps_h, eps_l, len_h, len_l.
 *
 * ACCURACY (docs/accuracy.md: 4 ulp for f32 axis ops, rows up to 64K). The shift
 * x_i - m is formed exactly as a double-float (two-sum) and exponentiated
 * with am_exp_dd; sums are double-float (am_dd_add), in each lane and
 * across the tree. softmax is e_i / s as e_i times 1 / s, the reciprocal
 * a double-float formed once per row and the product rounded once. log_softmax is (x_i - m) - log s with log s = e ln 2 +
 * log1p(t), s = 2^e (1 + t) split exactly (act_log_dd), so the max
 * element's result (-log s, s ~ 1) keeps its relative accuracy.
 * standardize keeps the mean and the variance as double-floats, forms
 * x - mean exactly, and scales rows of huge or tiny magnitude by a power of
 * two so that neither sums nor squares overflow or underflow. logsumexp
 * must survive cancellation (shift ~ -log|s|: a result near 0; b of both
 * signs: |s| << sum |b_i e_i|), so its terms are double-floats
 * (act_exp_dd2, ~2^-45 relative) and log|s| a double-float refined by a
 * Newton step (act_log_dd2, ~2^-46 absolute); the shift is exact. The
 * result's absolute error is then ~2^-44 max(1, |log|s||): within 4 ulp
 * unless |y| < ~2^-23 max(1, |log|s||) or the sum cancels by more than
 * ~2^18 (measured: 0-1 ulp against exact sums, results down to 1e-9).
 *
 * Special values follow src/cpu/reference.c (jax): see each op below.
 */

#define ACT_AXIS_WG 256

/* ------------------------------------------------------------------ */
/* Helpers (plain functions on values: no buffers, no pointers).        */
/* ------------------------------------------------------------------ */

/* ln 2 = HI + LO (+ LO2): HI has 16 bits, so e * HI is exact for |e| < 2^8;
 * LO2 makes the sum good to 2^-70. */
#define ACT_LN2_HI 0.693145751953125f
#define ACT_LN2_LO 1.428606765330187e-06f
#define ACT_LN2_LO2 5.497923148104107e-14f
#define ACT_INV_LN2 1.4426950216293335f
#define ACT_EXP_ZERO (-745.1332f) /* exp(d) rounds to 0 in double below */

/* Larger of two (NaN is mapped to +inf before, where it must win). */
AM_INLINE float act_max(float a, float b) { return a > b ? a : b; }

/* An int that orders as the float does (for non-NaN floats; -0 below +0):
 * the bits, with the magnitude bits flipped for negative floats. Its own
 * inverse. A max over such keys is an integer max reduction, which
 * compilers vectorize; a float one they may not reorder. */
AM_INLINE int act_fkey(float v) {
  int b = as_int(v);
  return b ^ ((b >> 31) & 0x7fffffff);
}
AM_INLINE float act_unkey(int k) { return as_float(k ^ ((k >> 31) & 0x7fffffff)); }

/* Four double-float sums at once (hi in h, lo in l), each like
 * am_dd_add_f: two-sum of the high parts, the low parts added, and the
 * pair renormalised (error ~2^-48 of the sum per step). */
#define ACT_DD4_ADD(h, l, v)                                                  \
  do {                                                                        \
    AM_PRECISE float4 s_ = (h) + (v);                                         \
    AM_PRECISE float4 bb_ = s_ - (h);                                         \
    AM_PRECISE float4 e_ = (((h) - (s_ - bb_)) + ((v) - bb_)) + (l);         \
    AM_PRECISE float4 t_ = s_ + e_;                                           \
    (l) = e_ - (t_ - s_);                                                     \
    (h) = t_;                                                                 \
  } while (false)

/* The 64 values th[0..63], and tl[0..63] when lo, into the double-float
 * chains (A0, B0), (A1, B1), and (A2, B2), (A3, B3) (the row kernels). */
#define ACT_DD4_ADD64_TO(th, tl, lo, A0, B0, A1, B1, A2, B2, A3, B3)          \
  for (uint j_ = 0u; j_ < 64u; j_ += 8u) {                                    \
    float4 va_ = act_f4(th[j_], th[j_ + 1u], th[j_ + 2u], th[j_ + 3u]);      \
    float4 vb_ = act_f4(th[j_ + 4u], th[j_ + 5u], th[j_ + 6u], th[j_ + 7u]); \
    ACT_DD4_ADD(A0, B0, va_);                                                 \
    ACT_DD4_ADD(A1, B1, vb_);                                                 \
    if (lo) {                                                                 \
      float4 vc_ = act_f4(tl[j_], tl[j_ + 1u], tl[j_ + 2u], tl[j_ + 3u]);    \
      float4 vd_ =                                                            \
          act_f4(tl[j_ + 4u], tl[j_ + 5u], tl[j_ + 6u], tl[j_ + 7u]);         \
      ACT_DD4_ADD(A2, B2, vc_);                                               \
      ACT_DD4_ADD(A3, B3, vd_);                                               \
    }                                                                         \
  }
#define ACT_DD4_ADD64(th, tl, lo)                                             \
  ACT_DD4_ADD64_TO(th, tl, lo, h0, l0, h1, l1, h2, l2, h3, l3)

/* Four double-float chains (A0, B0) .. (A3, B3) of four lanes each,
 * declared zero (ACT_DD4_CHAINS) or set back to zero (ACT_DD4_CLEAR). */
#define ACT_DD4_CHAINS(A0, B0, A1, B1, A2, B2, A3, B3)                        \
  float4 A0 = act_f4(0.0f, 0.0f, 0.0f, 0.0f), B0 = A0, A1 = A0, B1 = A0,      \
         A2 = A0, B2 = A0, A3 = A0, B3 = A0
#define ACT_DD4_CLEAR(A0, B0, A1, B1, A2, B2, A3, B3)                         \
  do {                                                                        \
    A0 = act_f4(0.0f, 0.0f, 0.0f, 0.0f);                                      \
    B0 = A0;                                                                  \
    A1 = A0;                                                                  \
    B1 = A0;                                                                  \
    A2 = A0;                                                                  \
    B2 = A0;                                                                  \
    A3 = A0;                                                                  \
    B3 = A0;                                                                  \
  } while (false)

/* The 16 elements p[j .. j + 15] into the chains h0 .. l3, one float4 of
 * them per chain (act_softmax_row, act_standardize_row). */
#define ACT_DD4_ADD16(p, j)                                                   \
  do {                                                                        \
    float4 v0_ = act_f4(LOAD(p, (j)), LOAD(p, (j) + 1u), LOAD(p, (j) + 2u),   \
                        LOAD(p, (j) + 3u));                                   \
    float4 v1_ = act_f4(LOAD(p, (j) + 4u), LOAD(p, (j) + 5u),                 \
                        LOAD(p, (j) + 6u), LOAD(p, (j) + 7u));                \
    float4 v2_ = act_f4(LOAD(p, (j) + 8u), LOAD(p, (j) + 9u),                 \
                        LOAD(p, (j) + 10u), LOAD(p, (j) + 11u));              \
    float4 v3_ = act_f4(LOAD(p, (j) + 12u), LOAD(p, (j) + 13u),               \
                        LOAD(p, (j) + 14u), LOAD(p, (j) + 15u));              \
    ACT_DD4_ADD(h0, l0, v0_);                                                 \
    ACT_DD4_ADD(h1, l1, v1_);                                                 \
    ACT_DD4_ADD(h2, l2, v2_);                                                 \
    ACT_DD4_ADD(h3, l3, v3_);                                                 \
  } while (false)

/* a + b in double-float; an infinite or NaN sum stays a plain float. */
AM_INLINE float2 act_dd_acc(float2 a, float2 b) {
  float s = a.x + b.x;
  if (!act_finite(s))
    return am_f2(s, 0.0f);
  float2 r = am_dd_add(a, b);
  return act_finite(r.x) ? r : am_f2(r.x, 0.0f);
}

/* s plus the four double-floats (h.x, l.x) ... (h.w, l.w). */
AM_INLINE float2 act_dd4_fold(float2 s, float4 h, float4 l) {
  s = act_dd_acc(s, am_dd_add(am_f2(h.x, l.x), am_f2(h.y, l.y)));
  return act_dd_acc(s, am_dd_add(am_f2(h.z, l.z), am_f2(h.w, l.w)));
}

/* Sum of the four lanes' double-floats of each chain pair, in order. */
AM_INLINE float2 act_dd4_total(float2 s, float4 a0, float4 b0, float4 a1,
                               float4 b1, float4 a2, float4 b2, float4 a3,
                               float4 b3) {
  s = act_dd4_fold(act_dd4_fold(s, a0, b0), a1, b1);
  return act_dd4_fold(act_dd4_fold(s, a2, b2), a3, b3);
}

/* a * b in double-float, non-finite products as plain floats. */
AM_INLINE float2 act_dd_mulr(float2 a, float2 b) {
  float p = a.x * b.x;
  if (!act_finite(p) || !act_finite(a.x) || !act_finite(b.x))
    return am_f2(p, 0.0f);
  return am_dd_mul(a, b);
}

/* a / b in double-float, non-finite quotients as plain floats. */
AM_INLINE float2 act_dd_divr(float2 a, float2 b) {
  float q = a.x / b.x;
  if (!act_finite(q) || !act_finite(b.x) || b.x == 0.0f)
    return am_f2(q, 0.0f);
  return am_dd_div(a, b);
}

/* log(s) as a double-float for a normalised pair with s.x > 0 finite.
 * s = 2^e (1 + t) with 1 + t in [sqrt(1/2), sqrt 2): t is exact as a pair
 * (Sterbenz), log s = e ln 2 + log1p(t), |log1p(t)| <= 0.35, so the error
 * is that of am_log1p on the small part only (about 2^-26 absolute). */
AM_INLINE float2 act_log_dd(float2 s) {
  bool sub = s.x < 1.17549435e-38f;
  float sh = sub ? s.x * 18446744073709551616.0f : s.x; /* 2^64 */
  float sl = sub ? s.y * 18446744073709551616.0f : s.y;
  uint u2 = as_uint(sh) + 0x004afb0du;
  int e = convert_int(u2 >> 23) - 127;
  float m = as_float((u2 & 0x007fffffu) + 0x3f3504f3u);
  float2 t = am_two_sum(m - 1.0f, am_ldexp(sl, -e));
  float l = am_log1p(t.x);
  float lc = t.y / (1.0f + t.x);
  float ef = convert_float(e) - (sub ? 64.0f : 0.0f);
  float2 h = am_fast_two_sum(ef * ACT_LN2_HI, l);
  return am_fast_two_sum(h.x, h.y + (lc + ef * ACT_LN2_LO));
}

/* e^r as a double-float for |r| <= 0.35 (r = r.x + r.y), relative error
 * about 2^-46: the Taylor series to degree 11 (remainder < 2^-47), its terms
 * of degree 9 and up in float (they are below 2^-32), the rest by Horner's
 * rule in double-float with (hi, lo) coefficients 1/n!. Uses only
 * double-float arithmetic and fma (no built-in exp). */
AM_INLINE float2 act_exp_small_dd(float2 r) {
  float q = fma(2.5052107943679403e-08f, r.x, 2.755731998149713e-07f);
  q = fma(q, r.x, 2.7557318844628753e-06f);
  float2 p = am_f2(q, 0.0f);
  p = am_dd_add(am_dd_mul(p, r),
                am_f2(2.4801587642286904e-05f, -3.40699609366682e-13f));
  p = am_dd_add(am_dd_mul(p, r),
                am_f2(0.00019841270113829523f, -2.725596874933456e-12f));
  p = am_dd_add(am_dd_mul(p, r),
                am_f2(0.0013888889225199819f, -3.3631094437103215e-11f));
  p = am_dd_add(am_dd_mul(p, r),
                am_f2(0.008333333767950535f, -4.34617203337595e-10f));
  p = am_dd_add(am_dd_mul(p, r),
                am_f2(0.0416666679084301f, -1.2417634698280722e-09f));
  p = am_dd_add(am_dd_mul(p, r),
                am_f2(0.1666666716337204f, -4.967053879312289e-09f));
  p = am_dd_add(am_dd_mul(p, r), am_f2(0.5f, 0.0f));
  p = am_dd_add(am_dd_mul(p, r), am_f2(1.0f, 0.0f));
  return am_dd_add(am_dd_mul(p, r), am_f2(1.0f, 0.0f));
}

/* e^(dh + dl) as a double-float (relative error about 2^-45) for
 * dh <= 88; (0, 0) below -110, where e^d is below every float. With
 * k = round(d / ln 2), r = d - k ln 2 is formed exactly enough: dh - k HI is
 * exact (k HI has <= 24 bits and the difference < 0.35 in magnitude), the
 * rest joins in double-float; then 2^k e^r, the scaling exact. */
AM_INLINE float2 act_exp_dd2(float dh, float dl) {
  if (!(dh >= -110.0f))
    return am_f2(0.0f, 0.0f);
  float kf = rint(dh * ACT_INV_LN2);
  float2 r = am_two_sum(dh - kf * ACT_LN2_HI, dl);
  float2 kl = am_two_prod(kf, ACT_LN2_LO);
  r = am_dd_add(r, am_f2(-kl.x, -kl.y));
  r = am_dd_add_f(r, -kf * ACT_LN2_LO2);
  float2 e = act_exp_small_dd(r);
  int k = convert_int(kf);
  return am_f2(am_ldexp(e.x, k), am_ldexp(e.y, k));
}

/* log(s) as a double-float good to about 2^-46 absolute (plus |e| 2^-70),
 * for a normalised pair with s.x > 0 finite: act_log_dd's split s = 2^e u,
 * u = 1 + t in [sqrt(1/2), sqrt 2), l = am_log1p(t), then one Newton step
 * log u = l + log(u e^-l), u e^-l - 1 = rho ~ 2^-24 from act_exp_small_dd,
 * log(1 + rho) = rho - rho^2/2. */
AM_INLINE float2 act_log_dd2(float2 s) {
  bool sub = s.x < 1.17549435e-38f;
  float sh = sub ? s.x * 18446744073709551616.0f : s.x; /* 2^64 */
  float sl = sub ? s.y * 18446744073709551616.0f : s.y;
  uint u2 = as_uint(sh) + 0x004afb0du;
  int e = convert_int(u2 >> 23) - 127;
  float m = as_float((u2 & 0x007fffffu) + 0x3f3504f3u);
  float ul = am_ldexp(sl, -e);
  float l = am_log1p(am_two_sum(m - 1.0f, ul).x);
  float2 p = am_dd_mul(am_f2(m, ul), act_exp_small_dd(am_f2(-l, 0.0f)));
  float rho = (p.x - 1.0f) + p.y;
  float lc = fma(-0.5f * rho, rho, rho);
  float ef = convert_float(e) - (sub ? 64.0f : 0.0f);
  float2 h = am_fast_two_sum(ef * ACT_LN2_HI, l);
  h = am_dd_add(h, am_two_prod(ef, ACT_LN2_LO));
  return am_dd_add_f(h, fma(ef, ACT_LN2_LO2, lc));
}

/* e^(v - m) for finite m and v <= m (v may be -inf): the difference is
 * exact as a double-float; 0 where it is -inf. */
AM_INLINE float act_exp_diff(float v, float m) {
  float2 d = am_two_sum(v, -m);
  bool ninf = d.x == -am_inf();
  float e = am_exp_neg_lean(ninf ? 0.0f : d.x, ninf ? 0.0f : d.y);
  return ninf ? 0.0f : e;
}

/* sqrt of a double-float: am_sqrt of the high part, then one Newton
 * step on the exact residual (am_fnma). */
AM_INLINE float2 act_sqrt_dd(float2 v) {
  float s = am_sqrt(v.x);
  if (!(v.x > 0.0f) || !act_finite(v.x))
    return am_f2(s, 0.0f);
  float r = am_fnma(s, s, v.x) + v.y;
  return am_fast_two_sum(s, r / (2.0f * s));
}

/* d / sqrt(v) as a double-float. */
AM_INLINE float2 act_div_sqrt(float2 d, float2 v) {
  return act_dd_divr(d, act_sqrt_dd(v));
}

/* The same times 2^k, rounded once (denormal results included). */
AM_INLINE float act_div_sqrt_k(float2 d, float2 v, int k) {
  float2 q = act_div_sqrt(d, v);
  return act_finite(q.x) ? am_ldexp_dd(q, k) : am_ldexp(q.x, k);
}

/* Work-group tree reduction of v (every lane's value) with combine;
 * needs lid, lsz (a power of two) in scope; all lanes get the result. */
#define ACT_REDUCE(arr, v, combine)                                           \
  arr[lid] = v;                                                               \
  barrier(CLK_LOCAL_MEM_FENCE);                                               \
  for (uint s_ = lsz >> 1; s_ > 0u; s_ >>= 1) {                               \
    if (lid < s_)                                                             \
      arr[lid] = combine(arr[lid], arr[lid + s_]);                            \
    barrier(CLK_LOCAL_MEM_FENCE);                                             \
  }                                                                           \
  v = arr[0];                                                                 \
  barrier(CLK_LOCAL_MEM_FENCE)

/* The row loop of both launch shapes (see the header). Defines lid, lsz,
 * lane, lanes; the body sees r (the row), live (r < rows), o, i, base. */
#define ACT_ROWS_BEGIN                                                        \
  uint lid = convert_uint(get_local_id(0));                                   \
  uint lsz = convert_uint(get_local_size(0));                                 \
  uint grp = convert_uint(get_group_id(0));                                   \
  uint ngrp = convert_uint(get_num_groups(0));                                \
  bool pg = per_group != 0u;                                                  \
  uint lane = pg ? lid : 0u;                                                  \
  uint lanes = pg ? lsz : 1u;                                                 \
  uint rstep = pg ? ngrp : ngrp * lsz;                                         \
  for (uint rb = pg ? grp : grp * lsz; rb < rows;                             \
       rb = (rows - rb > rstep) ? rb + rstep : rows) {                          \
    uint r = pg ? rb : rb + lid;                                              \
    bool live = r < rows;                                                     \
    uint o = r / inner;                                                       \
    uint i = r - o * inner;                                                   \
    uint base = o * len * inner + i;                                          \
    uint nk = live ? len : 0u;
#define ACT_ROWS_END }

/* Grid-stride loop over n elements (j), safe up to n = 2^32 - 1. */
#define ACT_ELEMS_BEGIN(n)                                                    \
  uint gstride = convert_uint(get_global_size(0));                            \
  for (uint j = convert_uint(get_global_id(0)); j < (n);                      \
       j = ((n) - j > gstride) ? j + gstride : (n)) {
#define ACT_ELEMS_END }

/* ------------------------------------------------------------------ */
/* softmax, log_softmax, softmin.                                       */
/* ------------------------------------------------------------------ */
#if ACT_OP == ACT_OP_SOFTMAX || ACT_OP == ACT_OP_LOG_SOFTMAX ||              \
    ACT_OP == ACT_OP_SOFTMIN

/* The value that takes part: -x for softmin; NaN counts as +inf (a row
 * holding NaN or +inf is NaN wherever unmasked, as in jax). */
AM_INLINE float act_sm_val(float v) {
#if ACT_OP == ACT_OP_SOFTMIN
  v = -v;
#endif
  return am_isnan(v) ? am_inf() : v;
}

#if ACT_OP == ACT_OP_LOG_SOFTMAX
#define ACT_SM_EMPTY (-am_inf())
#else
#define ACT_SM_EMPTY 0.0f
#endif

/* What a row's outputs need of its sum s (>= 1; pass 1 for a row that
 * has none): log s for log_softmax (act_log_dd), else 1 / s as a
 * double-float (relative error ~2^-46), so that each output is a product
 * rather than a double-float division (two divisions per element). */
AM_INLINE float2 act_sm_row(float2 s) {
#if ACT_OP == ACT_OP_LOG_SOFTMAX
  return act_log_dd(s);
#else
  return am_dd_div(am_f2(1.0f, 0.0f), s);
#endif
}

/* softmax's output e / s for e = e^(v - m), from r = act_sm_row(s):
 * e r.x exactly (am_two_prod) plus e r.y, rounded once: within 0.5 ulp +
 * ~2^-21 ulp of e / s (denormal results: of the grid at FLT_MIN). */
AM_INLINE float act_sm_div(float e, float2 r) {
  float2 p = am_two_prod(e, r.x);
  return p.x + (p.y + e * r.y);
}

/* One output for a row with finite max m and R = act_sm_row(sum). */
AM_INLINE float act_sm_out(float v, float m, float2 R) {
#if ACT_OP == ACT_OP_LOG_SOFTMAX
  float2 d = am_two_sum(v, -m);
  if (d.x == -am_inf())
    return d.x;
  float2 t = am_two_sum(d.x, -R.x);
  return t.x + ((t.y + d.y) - R.y);
#else
  return act_sm_div(act_exp_diff(v, m), R);
#endif
}

#define ACT_SOFTMAX_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                          \
  IN(STYPE, x) SEP() IN(uchar, w) SEP() OUT(STYPE, y) SEP()                   \
  LOCAL(float2, red, ACT_AXIS_WG) SEP() LOCAL(float, redm, ACT_AXIS_WG) SEP() \
  SCALAR(uint, rows) SEP() SCALAR(uint, len) SEP() SCALAR(uint, inner) SEP()  \
  SCALAR(uint, xoff) SEP() SCALAR(uint, woff) SEP() SCALAR(uint, yoff) SEP()  \
  SCALAR(uint, has_where) SEP() SCALAR(uint, per_group)

/* Masked-out elements give 0 (log_softmax: -inf); a row with nothing
 * unmasked, or only -inf, gives that everywhere; NaN or +inf among the
 * unmasked makes them all NaN. */
ACT_KERNEL(act_softmax, ACT_SOFTMAX_ARGS) {
  ACT_ROWS_BEGIN
  float m = -am_inf();
  for (uint k = lane; k < nk; k += lanes) {
    uint e = base + k * inner;
    if (has_where == 0u || LOADU8(w, woff + e) != 0u)
      m = act_max(m, act_sm_val(LOAD(x, xoff + e)));
  }
  if (pg) {
    ACT_REDUCE(redm, m, act_max);
  }
  bool fin = act_finite(m);
  float2 s = am_f2(0.0f, 0.0f);
  for (uint k = lane; k < (fin ? nk : 0u); k += lanes) {
    uint e = base + k * inner;
    if (has_where == 0u || LOADU8(w, woff + e) != 0u)
      s = am_dd_add_f(s, act_exp_diff(act_sm_val(LOAD(x, xoff + e)), m));
  }
  if (pg) {
    ACT_REDUCE(red, s, am_dd_add);
  }
  float2 R = act_sm_row(fin && live ? s : am_f2(1.0f, 0.0f));
  for (uint k = lane; k < nk; k += lanes) {
    uint e = base + k * inner;
    float res = ACT_SM_EMPTY;
    if (has_where == 0u || LOADU8(w, woff + e) != 0u) {
      if (fin)
        res = act_sm_out(act_sm_val(LOAD(x, xoff + e)), m, R);
      else if (m > 0.0f)
        res = am_nan();
    }
    STORE(y, yoff + e, res);
  }
  ACT_ROWS_END
}

/* The same for rows of at most 4 x the work-group size, one row per
 * work-group (the plan's choice for such rows when it launches per
 * group): each work-item handles lanes lid, lid + lsz, lid + 2 lsz and
 * lid + 3 lsz of the row as straight-line code, in the same order as
 * act_softmax's loops (so the results are the same bits), with every load
 * at a valid address and every conditional update done per component.
 * CPU drivers (PoCL) vectorize such code across work-items, but not the
 * loops of act_softmax, whose trip count they cannot determine. */
#define ACT_SM4_IDX(j)                                                        \
  uint k##j = lid + (j) * lsz;                                                \
  bool in##j = k##j < nk;                                                     \
  uint e##j = base + (in##j ? k##j : 0u) * inner;                             \
  bool on##j = in##j && (has_where == 0u || LOADU8(w, woff + e##j) != 0u);    \
  float v##j = act_sm_val(LOAD(x, xoff + e##j))
#define ACT_SM4_SUM(j)                                                        \
  do {                                                                        \
    float2 t_ = am_dd_add_f(s, act_exp_diff(v##j, m));                        \
    bool u_ = on##j && fin;                                                   \
    s = am_f2(u_ ? t_.x : s.x, u_ ? t_.y : s.y);                              \
  } while (false)
#define ACT_SM4_OUT(j)                                                        \
  do {                                                                        \
    float o_ = fin ? act_sm_out(v##j, m, am_f2(rh, rl))                      \
                   : (m > 0.0f ? am_nan() : ACT_SM_EMPTY);                    \
    if (in##j)                                                                \
      STORE(y, yoff + e##j, on##j ? o_ : ACT_SM_EMPTY);                       \
  } while (false)

ACT_KERNEL(act_softmax4, ACT_SOFTMAX_ARGS) {
  ACT_ROWS_BEGIN
  ACT_SM4_IDX(0);
  ACT_SM4_IDX(1);
  ACT_SM4_IDX(2);
  ACT_SM4_IDX(3);
  float m = -am_inf();
  m = on0 ? act_max(m, v0) : m;
  m = on1 ? act_max(m, v1) : m;
  m = on2 ? act_max(m, v2) : m;
  m = on3 ? act_max(m, v3) : m;
  ACT_REDUCE(redm, m, act_max);
  bool fin = act_finite(m);
  float2 s = am_f2(0.0f, 0.0f);
  ACT_SM4_SUM(0);
  ACT_SM4_SUM(1);
  ACT_SM4_SUM(2);
  ACT_SM4_SUM(3);
  ACT_REDUCE(red, s, am_dd_add);
  /* the row's constant as floats from here (a float2 kept across a
   * barrier stops PoCL's vectorizer) */
  bool use = fin && live;
  float2 R = act_sm_row(am_f2(use ? s.x : 1.0f, use ? s.y : 0.0f));
  float rh = R.x, rl = R.y;
  ACT_SM4_OUT(0);
  ACT_SM4_OUT(1);
  ACT_SM4_OUT(2);
  ACT_SM4_OUT(3);
  ACT_ROWS_END
}

#if ACT_DTYPE == 0
/* softmax, log_softmax and softmin for CPU drivers (the plan's choice
 * where limits.axis_row_loops is set: PoCL, lavapipe): one work-item per
 * row of contiguous f32 elements (inner = 1), four passes over the row,
 * each a counted unit-stride loop without barriers, which PoCL's loop
 * vectorizer takes (it runs the barrier regions of act_softmax4 mostly as
 * scalar code over per-work-item context arrays; lavapipe, which runs
 * invocations in SIMD lanes, is 3-4x faster this way too). The passes:
 * the max, as an integer max of act_fkey keys (a float max reduction is
 * not vectorized: its order would change); e^(v - max) into y; the sum of
 * y as a double-float in 16 chains held in float4 pairs (ACT_DD4_ADD:
 * vector code); the output, rounded once by act_sm_out's formulas:
 * softmax/softmin y times 1 / sum, from y (so y may be x:
 * nothing reads x after the second pass); log_softmax (v - max) - log sum,
 * from x (the plan does not use this kernel for it when y and x share a
 * buffer). The mask is tested in separate loops, so that w is read only
 * when there is one. */
#if ACT_OP == ACT_OP_LOG_SOFTMAX
#define ACT_SMR_OUT(k) act_sm_out(act_sm_val(LOAD(x, xb + (k))), mf, R)
#else
#define ACT_SMR_OUT(k) act_sm_div(LOAD(y, yb + (k)), R)
#endif

ACT_KERNEL(act_softmax_row, ACT_SOFTMAX_ARGS) {
  ACT_ROWS_BEGIN
  uint xb = xoff + base, yb = yoff + base, wb = woff + base;
  bool mw = has_where != 0u;
  int mk = act_fkey(-am_inf());
  if (mw) {
    for (uint k = 0u; k < nk; k++) {
      int v = act_fkey(act_sm_val(LOAD(x, xb + k)));
      mk = LOADU8(w, wb + k) != 0u && v > mk ? v : mk;
    }
  } else {
    for (uint k = 0u; k < nk; k++) {
      int v = act_fkey(act_sm_val(LOAD(x, xb + k)));
      mk = v > mk ? v : mk;
    }
  }
  float m = act_unkey(mk);
  bool fin = act_finite(m);
  float mf = fin ? m : 0.0f;
  if (mw) {
    for (uint k = 0u; k < nk; k++) {
      float e = act_exp_diff(act_sm_val(LOAD(x, xb + k)), mf);
      STORE(y, yb + k, LOADU8(w, wb + k) != 0u && fin ? e : 0.0f);
    }
  } else {
    for (uint k = 0u; k < nk; k++) {
      float e = act_exp_diff(act_sm_val(LOAD(x, xb + k)), mf);
      STORE(y, yb + k, fin ? e : 0.0f);
    }
  }
  /* 16 double-float chains, as four float4 pairs (vector code on CPU
   * drivers); then the tail into the first, and a tree. */
  ACT_DD4_CHAINS(h0, l0, h1, l1, h2, l2, h3, l3);
  uint k16 = nk & ~15u;
  for (uint k = 0u; k < k16; k += 16u)
    ACT_DD4_ADD16(y, yb + k);
  float2 s0 = am_f2(h0.x, l0.x);
  for (uint k = k16; k < nk; k++)
    s0 = am_dd_add_f(s0, LOAD(y, yb + k));
  float2 a0 = am_dd_add(s0, am_f2(h0.y, l0.y));
  float2 a1 = am_dd_add(am_f2(h0.z, l0.z), am_f2(h0.w, l0.w));
  float2 a2 = am_dd_add(am_f2(h1.x, l1.x), am_f2(h1.y, l1.y));
  float2 a3 = am_dd_add(am_f2(h1.z, l1.z), am_f2(h1.w, l1.w));
  float2 a4 = am_dd_add(am_f2(h2.x, l2.x), am_f2(h2.y, l2.y));
  float2 a5 = am_dd_add(am_f2(h2.z, l2.z), am_f2(h2.w, l2.w));
  float2 a6 = am_dd_add(am_f2(h3.x, l3.x), am_f2(h3.y, l3.y));
  float2 a7 = am_dd_add(am_f2(h3.z, l3.z), am_f2(h3.w, l3.w));
  float2 s = am_dd_add(am_dd_add(am_dd_add(a0, a1), am_dd_add(a2, a3)),
                       am_dd_add(am_dd_add(a4, a5), am_dd_add(a6, a7)));
  /* s >= 1 when fin (the max contributes e^0); otherwise unused */
  s = am_f2(fin ? s.x : 1.0f, fin ? s.y : 0.0f);
  float2 R = act_sm_row(s);
  float bad = m > 0.0f ? am_nan() : ACT_SM_EMPTY;
  if (mw) {
    for (uint k = 0u; k < nk; k++) {
      float q = ACT_SMR_OUT(k);
      STORE(y, yb + k, LOADU8(w, wb + k) == 0u ? ACT_SM_EMPTY : (fin ? q : bad));
    }
  } else {
    for (uint k = 0u; k < nk; k++) {
      float q = ACT_SMR_OUT(k);
      STORE(y, yb + k, fin ? q : bad);
    }
  }
  ACT_ROWS_END
}
#endif

/* ---- backward: softmax dx = y (dy - sum dy y) (softmin: its negation),
 * log_softmax dx = dy - e^y sum dy; masked-out elements get 0.
 * dy - S cancels completely for the dominant element of a peaked row
 * (y ~ 1), so the sum S is a triple-float (relative error ~2^-70) and the
 * difference is formed from it exactly before the single rounding;
 * log_softmax's e^y is act_exp_dd2 (~2^-45). Over the row: a triple-float
 * tree in local memory (float4), deterministic. ---- */

/* A float4 (x, y, z) holding the unevaluated sum x + y + z, |y| <=
 * ulp(x), |z| <= ulp(y) (roughly); w unused. */
AM_INLINE float4 act_t3_add_f(float4 s, float a) {
  float2 t = am_two_sum(s.x, a);
  float2 u = am_two_sum(s.y, t.y);
  AM_PRECISE float z = s.z + u.y;
  float2 v = am_two_sum(t.x, u.x);
  float2 w = am_two_sum(v.y, z);
  float2 h = am_fast_two_sum(v.x, w.x);
  return act_f4(h.x, h.y, w.y, 0.0f);
}

/* a + b; an infinite or NaN sum stays a plain float. */
AM_INLINE float4 act_t3_add(float4 a, float4 b) {
  float t = a.x + b.x;
  if (!act_finite(t))
    return act_f4(t, 0.0f, 0.0f, 0.0f);
  float4 r = act_t3_add_f(a, b.x);
  r = act_t3_add_f(r, b.y);
  r = act_t3_add_f(r, b.z);
  return act_finite(r.x) ? r : act_f4(r.x, 0.0f, 0.0f, 0.0f);
}

/* a + p for a double-float p. */
AM_INLINE float4 act_t3_add_dd(float4 a, float2 p) {
  return act_t3_add(a, act_f4(p.x, p.y, 0.0f, 0.0f));
}

/* y * (d.x + d.y) rounded once (finite operands). */
AM_INLINE float act_mul_df(float yv, float2 d) {
  float2 p = am_two_prod(yv, d.x);
  if (!act_finite(p.x))
    return p.x;
  return p.x + fma(yv, d.y, p.y);
}

#define ACT_SOFTMAX_BWD_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                      \
  IN(STYPE, y) SEP() IN(uchar, w) SEP() IN(STYPE, dy) SEP()                   \
  OUT(STYPE, dx) SEP()                                                        \
  LOCAL(float4, red, ACT_AXIS_WG) SEP() LOCAL(float, redm, ACT_AXIS_WG) SEP() \
  SCALAR(uint, rows) SEP() SCALAR(uint, len) SEP() SCALAR(uint, inner) SEP()  \
  SCALAR(uint, yoff) SEP() SCALAR(uint, woff) SEP() SCALAR(uint, dyoff) SEP() \
  SCALAR(uint, dxoff) SEP() SCALAR(uint, has_where) SEP()                     \
  SCALAR(uint, per_group)

ACT_KERNEL(act_softmax_bwd, ACT_SOFTMAX_BWD_ARGS) {
  ACT_ROWS_BEGIN
  float4 s = act_f4(0.0f, 0.0f, 0.0f, 0.0f);
  for (uint k = lane; k < nk; k += lanes) {
    uint e = base + k * inner;
    if (has_where == 0u || LOADU8(w, woff + e) != 0u) {
      float g = LOAD(dy, dyoff + e);
#if ACT_OP == ACT_OP_LOG_SOFTMAX
      s = act_t3_add(s, act_f4(g, 0.0f, 0.0f, 0.0f));
#else
      float yv = LOAD(y, yoff + e);
      float2 p = am_two_prod(g, yv);
      s = act_t3_add_dd(s, act_finite(p.x) ? p : am_f2(g * yv, 0.0f));
#endif

    }
  }
  if (pg) {
    ACT_REDUCE(red, s, act_t3_add);
  }
  for (uint k = lane; k < nk; k += lanes) {
    uint e = base + k * inner;
    float res = 0.0f;
    if (has_where == 0u || LOADU8(w, woff + e) != 0u) {
      float g = LOAD(dy, dyoff + e);
      float yv = LOAD(y, yoff + e);
#if ACT_OP == ACT_OP_LOG_SOFTMAX
      /* dy - e^y s */
      if (!act_finite(s.x) || !act_finite(g) || !(yv > -100.0f) ||
          !(yv <= 80.0f)) {
        res = g - am_exp(yv) * s.x;
      } else {
        float2 ey = act_exp_dd2(yv, 0.0f);
        float2 sh = am_fast_two_sum(s.x, s.y + s.z);
        float2 t = am_dd_mul(ey, sh);
        float4 r = act_t3_add_dd(act_f4(g, 0.0f, 0.0f, 0.0f),
                                 am_f2(-t.x, -t.y));
        /* e^y s within ~2^-45: unlike softmax's, this difference does
         * not cancel by construction in peaked rows */
        res = r.x + (r.y + r.z);
      }
#else
      float4 r = act_t3_add(act_f4(g, 0.0f, 0.0f, 0.0f),
                            act_f4(-s.x, -s.y, -s.z, 0.0f));
      float2 d = am_fast_two_sum(r.x, r.y + r.z);
      res = (act_finite(d.x) && act_finite(yv)) ? act_mul_df(yv, d)
                                                : yv * d.x;
#if ACT_OP == ACT_OP_SOFTMIN
      res = -res;
#endif
#endif
    }
    STORE(dx, dxoff + e, res);
  }
  ACT_ROWS_END
}

#if ACT_DTYPE == 0
/* Four triple-float sums at once (float4 parts x, y, z; as act_t3_add_f
 * per component) plus the float4 a: vector code on CPU drivers. */
#define ACT_T3X4_ADD(sx, sy, sz, a)                                            \
  do {                                                                        \
    AM_PRECISE float4 t_ = (sx) + (a);                                        \
    AM_PRECISE float4 tb_ = t_ - (sx);                                        \
    AM_PRECISE float4 te_ = ((sx) - (t_ - tb_)) + ((a) - tb_);                \
    AM_PRECISE float4 u_ = (sy) + te_;                                        \
    AM_PRECISE float4 ub_ = u_ - (sy);                                        \
    AM_PRECISE float4 ue_ = ((sy) - (u_ - ub_)) + (te_ - ub_);                \
    AM_PRECISE float4 z_ = (sz) + ue_;                                        \
    AM_PRECISE float4 v_ = t_ + u_;                                           \
    AM_PRECISE float4 vb_ = v_ - t_;                                          \
    AM_PRECISE float4 ve_ = (t_ - (v_ - vb_)) + (u_ - vb_);                   \
    AM_PRECISE float4 w_ = ve_ + z_;                                          \
    AM_PRECISE float4 wb_ = w_ - ve_;                                         \
    AM_PRECISE float4 we_ = (ve_ - (w_ - wb_)) + (z_ - wb_);                  \
    AM_PRECISE float4 h_ = v_ + w_;                                           \
    (sy) = w_ - (h_ - v_);                                                    \
    (sx) = h_;                                                                \
    (sz) = we_;                                                               \
  } while (false)

/* The term of S (sum dy y, log_softmax: sum dy) that element k adds, as
 * a double-float (exact product; masked out: 0). */
#if ACT_OP == ACT_OP_LOG_SOFTMAX
#define ACT_SMB_TERM(k, hi, lo)                                               \
  float hi = ACT_SMB_ON(k) ? LOAD(dy, db + (k)) : 0.0f;                        \
  float lo = 0.0f
#else
#define ACT_SMB_TERM(k, hi, lo)                                               \
  float2 pp_##hi = am_two_prod(LOAD(dy, db + (k)), LOAD(y, yb + (k)));        \
  bool pf_##hi = act_finite(pp_##hi.x) && ACT_SMB_ON(k);                      \
  float hi = ACT_SMB_ON(k) ? pp_##hi.x : 0.0f;                                \
  float lo = pf_##hi ? pp_##hi.y : 0.0f
#endif
#define ACT_SMB_ON(k) (!mwc || LOADU8(w, wb + (k)) != 0u)

/* The row kernel's loops are written once here and run twice over, in
 * `if (mw)` with mwc a constant true and in its else with mwc false
 * (ACT_SMB_VERSIONS): with has_where tested per element, the mask byte
 * was a load under a condition, which AVX2 cannot vectorize (no masked
 * byte loads; AVX-512 has them), so the loops ran scalar on AVX2 CPUs
 * (PoCL on an AMD EPYC: softmax 0.05 -> 0.21 Gelem/s, log_softmax
 * 0.008 -> 0.062; bench/RESULTS.md). */
#define ACT_SMB_VERSIONS(LOOPS)                                               \
  if (mw) {                                                                   \
    const bool mwc = true;                                                    \
    LOOPS                                                                     \
  } else {                                                                    \
    const bool mwc = false;                                                   \
    LOOPS                                                                     \
  }

/* The eight terms from k (of S's sum, in float4 triple-float chains). */
#if ACT_OP == ACT_OP_LOG_SOFTMAX
#define ACT_SMB_LO8
#else
#define ACT_SMB_LO8                                                           \
  float4 vc = act_f4(l0, l1, l2, l3), ve = act_f4(l4, l5, l6, l7);            \
  ACT_T3X4_ADD(cx, cy, cz, vc);                                               \
  ACT_T3X4_ADD(ex, ey, ez, ve);
#endif
#define ACT_SMB_SUM                                                           \
  for (uint k = 0u; k < k8; k += 8u) {                                        \
    ACT_SMB_TERM(k, h0, l0);                                                  \
    ACT_SMB_TERM(k + 1u, h1, l1);                                             \
    ACT_SMB_TERM(k + 2u, h2, l2);                                             \
    ACT_SMB_TERM(k + 3u, h3, l3);                                             \
    ACT_SMB_TERM(k + 4u, h4, l4);                                             \
    ACT_SMB_TERM(k + 5u, h5, l5);                                             \
    ACT_SMB_TERM(k + 6u, h6, l6);                                             \
    ACT_SMB_TERM(k + 7u, h7, l7);                                             \
    float4 va = act_f4(h0, h1, h2, h3), vb = act_f4(h4, h5, h6, h7);          \
    ACT_T3X4_ADD(ax, ay, az, va);                                             \
    ACT_T3X4_ADD(bx, by, bz, vb);                                             \
    pa = pa + va;                                                             \
    pb = pb + vb;                                                             \
    ACT_SMB_LO8                                                               \
  }                                                                           \
  for (uint k = k8; k < nk; k++) {                                            \
    ACT_SMB_TERM(k, hk, lk);                                                  \
    ACT_T3_ADD_F(s0, s1, s2, hk);                                             \
    ACT_T3_ADD_F(s0, s1, s2, lk);                                             \
    ps = ps + hk;                                                             \
  }

/* dx[k] from S (sx, sy, sz; sh for log_softmax), g = dy[k], yv = y[k]. */
#if ACT_OP == ACT_OP_LOG_SOFTMAX
/* dy - e^y s */
#define ACT_SMB_RES                                                           \
  bool plain = !sfin || !act_finite(g) || !(yv > -100.0f) || !(yv <= 80.0f); \
  float yc = plain ? 0.0f : yv;                                               \
  float2 e = act_exp_dd2(yc, 0.0f);                                           \
  float2 tt = am_dd_mul(e, sh);                                               \
  float r0 = g, r1 = 0.0f, r2 = 0.0f;                                         \
  ACT_T3_ADD_F(r0, r1, r2, -tt.x);                                            \
  ACT_T3_ADD_F(r0, r1, r2, -tt.y);                                            \
  float res = plain ? g - am_exp(yv) * sx : r0 + (r1 + r2);
#else
#if ACT_OP == ACT_OP_SOFTMIN
#define ACT_SMB_SIGN -
#else
#define ACT_SMB_SIGN
#endif
/* y (dy - S): dy - S as a double-float, then one rounding */
#define ACT_SMB_RES                                                           \
  float r0 = g, r1 = 0.0f, r2 = 0.0f;                                         \
  ACT_T3_ADD_F(r0, r1, r2, -sx);                                              \
  ACT_T3_ADD_F(r0, r1, r2, -sy);                                              \
  ACT_T3_ADD_F(r0, r1, r2, -sz);                                              \
  bool fin = sfin && act_finite(g) && act_finite(r0);                         \
  float2 d = am_fast_two_sum(fin ? r0 : 0.0f, fin ? r1 + r2 : 0.0f);          \
  float dh = fin ? d.x : g - sx;                                              \
  float2 pr = am_two_prod(yv, d.x);                                           \
  float res = ACT_SMB_SIGN(                                                   \
      (act_finite(dh) && act_finite(yv) && act_finite(pr.x))                  \
          ? pr.x + fma(yv, d.y, pr.y)                                         \
          : yv * dh);
#endif
#define ACT_SMB_OUT                                                           \
  for (uint k = 0u; k < nk; k++) {                                            \
    float g = LOAD(dy, db + k);                                               \
    float yv = LOAD(y, yb + k);                                               \
    ACT_SMB_RES                                                               \
    STORE(dx, xb + k, ACT_SMB_ON(k) ? res : 0.0f);                            \
  }

/* A triple-float (s0, s1, s2) plus the float a, renormalised: as
 * act_t3_add_f, on floats. */
#define ACT_T3_ADD_F(s0, s1, s2, a)                                           \
  do {                                                                        \
    float2 t_ = am_two_sum(s0, a);                                            \
    float2 u_ = am_two_sum(s1, t_.y);                                         \
    AM_PRECISE float z_ = (s2) + u_.y;                                        \
    float2 v_ = am_two_sum(t_.x, u_.x);                                       \
    float2 w_ = am_two_sum(v_.y, z_);                                         \
    float2 h_ = am_fast_two_sum(v_.x, w_.x);                                  \
    s0 = h_.x;                                                                \
    s1 = h_.y;                                                                \
    s2 = w_.y;                                                                \
  } while (false)

/* The backward pass of softmax, log_softmax and softmin for CPU drivers
 * (the plan's choice where act_softmax_row is: limits.axis_row_loops, f32,
 * inner = 1): one work-item per row, two unit-stride loops without
 * barriers or branches. S is summed as 16 triple-floats held in float4
 * parts (ACT_T3X4_ADD; the same error-free steps as act_t3_add_f, in
 * another order: relative error ~2^-70 again), then combined; each output
 * is formed from S as act_softmax_bwd forms it, with selects in place of
 * its early exits. dx may be y or dy (each element reads its own). */
ACT_KERNEL(act_softmax_bwd_row, ACT_SOFTMAX_BWD_ARGS) {
  ACT_ROWS_BEGIN
  uint yb = yoff + base, db = dyoff + base, wb = woff + base;
  uint xb = dxoff + base;
  bool mw = has_where != 0u;
  float4 z4 = act_f4(0.0f, 0.0f, 0.0f, 0.0f);
  float4 ax = z4, ay = z4, az = z4, bx = z4, by = z4, bz = z4;
  float4 cx = z4, cy = z4, cz = z4, ex = z4, ey = z4, ez = z4;
  float4 pa = z4, pb = z4; /* plain sums: S when it is not finite */
  uint k8 = nk & ~7u;
  /* the 16 partial sums and the tail, then into one, in a fixed order */
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, ps = 0.0f;
  ACT_SMB_VERSIONS(ACT_SMB_SUM)
  pa = pa + pb;
  ps = ps + ((pa.x + pa.y) + (pa.z + pa.w));
  float4 S = act_f4(s0, s1, s2, 0.0f);
  S = act_t3_add(S, act_f4(ax.x, ay.x, az.x, 0.0f));
  S = act_t3_add(S, act_f4(ax.y, ay.y, az.y, 0.0f));
  S = act_t3_add(S, act_f4(ax.z, ay.z, az.z, 0.0f));
  S = act_t3_add(S, act_f4(ax.w, ay.w, az.w, 0.0f));
  S = act_t3_add(S, act_f4(bx.x, by.x, bz.x, 0.0f));
  S = act_t3_add(S, act_f4(bx.y, by.y, bz.y, 0.0f));
  S = act_t3_add(S, act_f4(bx.z, by.z, bz.z, 0.0f));
  S = act_t3_add(S, act_f4(bx.w, by.w, bz.w, 0.0f));
  S = act_t3_add(S, act_f4(cx.x, cy.x, cz.x, 0.0f));
  S = act_t3_add(S, act_f4(cx.y, cy.y, cz.y, 0.0f));
  S = act_t3_add(S, act_f4(cx.z, cy.z, cz.z, 0.0f));
  S = act_t3_add(S, act_f4(cx.w, cy.w, cz.w, 0.0f));
  S = act_t3_add(S, act_f4(ex.x, ey.x, ez.x, 0.0f));
  S = act_t3_add(S, act_f4(ex.y, ey.y, ez.y, 0.0f));
  S = act_t3_add(S, act_f4(ex.z, ey.z, ez.z, 0.0f));
  S = act_t3_add(S, act_f4(ex.w, ey.w, ez.w, 0.0f));
  /* a product that overflowed, or inf/NaN terms: a plain float sum */
  bool sfin = act_finite(S.x) && act_finite(ps);
  float sx = sfin ? S.x : ps, sy = sfin ? S.y : 0.0f, sz = sfin ? S.z : 0.0f;
#if ACT_OP == ACT_OP_LOG_SOFTMAX
  float2 sh = am_fast_two_sum(sx, sy + sz);
#endif
  ACT_SMB_VERSIONS(ACT_SMB_OUT)
  ACT_ROWS_END
}
#endif
#endif

/* ------------------------------------------------------------------ */
/* logsumexp (jax.nn.logsumexp semantics).                              */
/* ------------------------------------------------------------------ */
#if ACT_OP == ACT_OP_LOGSUMEXP

/* The term b e^(v - shift) of one element with b != 0, as a double-float.
 * pinf: the row's max is +inf (shift 0), where only infinite and NaN
 * terms matter. Infinite b follow the double reference: b where e^(v -
 * shift) is positive in double, NaN (inf * 0) where it underflows. */
AM_INLINE float2 act_lse_term(float v, float bv, float shift, bool pinf) {
  if (am_isnan(v))
    return am_f2(v, 0.0f);
  if (pinf) {
    if (v == am_inf())
      return am_f2(bv * v, 0.0f);
    bool big = am_isinf(bv) || am_isnan(bv);
    return am_f2(big ? (v < ACT_EXP_ZERO ? bv * 0.0f : bv) : 0.0f, 0.0f);
  }
  float2 d = am_two_sum(v, -shift);
  if (am_isinf(bv))
    return am_f2(d.x < ACT_EXP_ZERO ? am_nan() : bv, 0.0f);
  float2 e = act_exp_dd2(d.x, d.x == -am_inf() ? 0.0f : d.y);
  return am_dd_mul_f(e, bv);
}

/* act_lse_term for a finite shift and a finite b, without branches: 0
 * for b = 0 (where x may be NaN). */
AM_INLINE float2 act_lse_term_fin(float v, float bv, float shift) {
  float2 d = am_two_sum(bv != 0.0f ? v : shift, -shift);
  bool zero = d.x == -am_inf() || bv == 0.0f;
  float2 e = act_exp_dd2(zero ? -200.0f : d.x, zero ? 0.0f : d.y);
  float2 t = am_dd_mul_f(e, bv);
  return am_f2(zero ? 0.0f : t.x, zero ? 0.0f : t.y);
}

/* y = shift + log|s| for the row's sum s (NaN for NaN, or for s < 0
 * unless with_sign; -inf for s = 0; inf for an infinite s), and sign(s)
 * (0 for 0, NaN for NaN). */
AM_INLINE float act_lse_result(float2 s, float shift, bool with_sign) {
  bool neg = s.x < 0.0f;
  float ah = neg ? -s.x : s.x, al = neg ? -s.y : s.y;
  bool ok = ah > 0.0f && act_finite(ah);
  float2 L = act_log_dd2(am_f2(ok ? ah : 1.0f, ok ? al : 0.0f));
  float2 t = am_two_sum(shift, L.x);
  float res = t.x + (t.y + L.y);
  res = am_isinf(s.x) ? am_inf() : res;
  res = s.x == 0.0f ? -am_inf() : res;
  return (am_isnan(s.x) || (s.x < 0.0f && !with_sign)) ? am_nan() : res;
}
AM_INLINE float act_lse_sign(float2 s) {
  return s.x > 0.0f ? 1.0f : (s.x < 0.0f ? -1.0f : s.x);
}

#define ACT_LSE_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                              \
  IN(STYPE, x) SEP() IN(STYPE, b) SEP() OUT(STYPE, y) SEP()                   \
  OUT(STYPE, sgn) SEP()                                                       \
  LOCAL(float2, red, ACT_AXIS_WG) SEP() LOCAL(float, redm, ACT_AXIS_WG) SEP() \
  SCALAR(uint, rows) SEP() SCALAR(uint, len) SEP() SCALAR(uint, inner) SEP()  \
  SCALAR(uint, xoff) SEP() SCALAR(uint, boff) SEP() SCALAR(uint, bso) SEP()   \
  SCALAR(uint, bsl) SEP() SCALAR(uint, bsi) SEP() SCALAR(uint, yoff) SEP()    \
  SCALAR(uint, soff) SEP() SCALAR(uint, has_b) SEP()                          \
  SCALAR(uint, has_sign) SEP() SCALAR(uint, per_group)

/* y = shift + log|s|, s = sum of b e^(x - shift) over the terms with
 * b != 0, shift = their max (0 when that is not finite); a negative s
 * gives NaN unless has_sign; sgn = sign(s) (0 for s = 0, NaN for NaN). */
ACT_KERNEL(act_logsumexp, ACT_LSE_ARGS) {
  ACT_ROWS_BEGIN
  uint bb = boff + o * bso + i * bsi;
  float m = -am_inf();
  for (uint k = lane; k < nk; k += lanes) {
    float bv = has_b != 0u ? LOAD(b, bb + k * bsl) : 1.0f;
    if (bv != 0.0f) {
      float v = LOAD(x, xoff + base + k * inner);
      m = act_max(m, am_isnan(v) ? am_inf() : v);
    }
  }
  if (pg) {
    ACT_REDUCE(redm, m, act_max);
  }
  bool pinf = m == am_inf();
  float shift = act_finite(m) ? m : 0.0f;
  float2 s = am_f2(0.0f, 0.0f);
  for (uint k = lane; k < nk; k += lanes) {
    float bv = has_b != 0u ? LOAD(b, bb + k * bsl) : 1.0f;
    if (bv != 0.0f)
      s = act_dd_acc(s, act_lse_term(LOAD(x, xoff + base + k * inner), bv,
                                     shift, pinf));
  }
  if (pg) {
    ACT_REDUCE(red, s, act_dd_acc);
  }
  if (live && lane == 0u) {
    STORE(y, yoff + r, act_lse_result(s, shift, has_sign != 0u));
    if (has_sign != 0u)
      STORE(sgn, soff + r, act_lse_sign(s));
  }
  ACT_ROWS_END
}

#if ACT_DTYPE == 0
/* The terms of act_logsumexp_row's fast sum, 8 elements a step: e^(x -
 * shift) (act_exp_diff, float-only, within 1 ulp), times b as an exact
 * pair (two-product) when there is b; 0 where b = 0. */
#define ACT_LSE_E(j)                                                          \
  float e##j = act_exp_diff(LOAD(x, xb + k + (j)), shift);                    \
  float b##j = hb ? LOAD(b, bb + (k + (j)) * bsl) : 1.0f;                     \
  float2 t##j = am_two_prod(b##j, b##j != 0.0f ? e##j : 0.0f)

/* logsumexp for CPU drivers (the plan's choice where limits.axis_row_loops
 * is set: f32, inner = 1, a reduction along the last axis): one work-item
 * per row, unit-stride loops. Pass 1: the max of the elements with b != 0
 * (act_fkey keys: an integer max, vector code), and whether every b is
 * finite and >= 0. Then, where the max is finite and b is so, a fast sum:
 * terms from the float-only exponential (act_exp_diff: within 1.5 2^-23
 * of exact), so s (>= the max's b > 0) is within 1.5 2^-23 relative
 * (no cancellation: every term >= 0; the double-float chains add ~2^-48),
 * log s within that absolute, and y = shift + log s within 1.5 2^-23 +
 * 2^-46 absolute before its rounding: at most 2 ulp where |y| >= 1. Rows
 * where that does not hold (|y| < 1, a sum that overflows, b of both signs
 * or not finite, a max that is not) take act_logsumexp's exact path: its
 * terms (act_lse_term: act_exp_dd2, ~2^-45) and the same result. */
ACT_KERNEL(act_logsumexp_row, ACT_LSE_ARGS) {
  ACT_ROWS_BEGIN
  uint bb = boff + o * bso + i * bsi;
  uint xb = xoff + base;
  bool hb = has_b != 0u;
  int mk = act_fkey(-am_inf());
  int bad = 0;
  if (hb) {
    for (uint k = 0u; k < nk; k++) {
      float bv = LOAD(b, bb + k * bsl);
      float v = LOAD(x, xb + k);
      int kv = act_fkey(am_isnan(v) ? am_inf() : v);
      mk = (bv != 0.0f && kv > mk) ? kv : mk;
      bad = (bv >= 0.0f && bv < am_inf()) ? bad : 1;
    }
  } else {
    for (uint k = 0u; k < nk; k++) {
      float v = LOAD(x, xb + k);
      int kv = act_fkey(am_isnan(v) ? am_inf() : v);
      mk = kv > mk ? kv : mk;
    }
  }
  float m = act_unkey(mk);
  bool pinf = m == am_inf();
  float shift = act_finite(m) ? m : 0.0f;
  float res = 0.0f;
  bool done = false;
  if (act_finite(m) && bad == 0) {
    ACT_DD4_CHAINS(h0, l0, h1, l1, h2, l2, h3, l3);
    /* blocks of 64: the terms into private arrays (a loop without a
     * reduction, which CPU drivers vectorize), then their sum */
    float th[64], tl[64];
    uint k64 = nk & ~63u;
    for (uint kb = 0u; kb < k64; kb += 64u) {
      if (hb) {
        for (uint j = 0u; j < 64u; j++) {
          float ej = act_exp_diff(LOAD(x, xb + kb + j), shift);
          float bj = LOAD(b, bb + (kb + j) * bsl);
          float2 tj = am_two_prod(bj, bj != 0.0f ? ej : 0.0f);
          th[j] = tj.x;
          tl[j] = tj.y;
        }
      } else {
        for (uint j = 0u; j < 64u; j++) {
          th[j] = act_exp_diff(LOAD(x, xb + kb + j), shift);
          tl[j] = 0.0f;
        }
      }
      ACT_DD4_ADD64(th, tl, hb);
    }
    float2 s = am_f2(0.0f, 0.0f);
    for (uint k = k64; k < nk; k++) {
      ACT_LSE_E(0);
      s = am_dd_add(s, t0);
    }
    s = act_dd4_total(s, h0, l0, h1, l1, h2, l2, h3, l3);
    /* s >= 2^-60: the products' underflow (below 2^-150 each) is
     * negligible against it */
    if (s.x >= 8.6736173798840355e-19f && act_finite(s.x)) {
      res = act_lse_result(s, shift, false);
      done = fabs(res) >= 1.0f;
    }
  }
  if (!done) {
    float2 s = am_f2(0.0f, 0.0f);
    for (uint k = 0u; k < nk; k++) {
      float bv = hb ? LOAD(b, bb + k * bsl) : 1.0f;
      if (bv != 0.0f)
        s = act_dd_acc(s, act_lse_term(LOAD(x, xb + k), bv, shift, pinf));
    }
    res = act_lse_result(s, shift, has_sign != 0u);
    if (live && has_sign != 0u)
      STORE(sgn, soff + r, act_lse_sign(s));
  } else if (live && has_sign != 0u) {
    STORE(sgn, soff + r, 1.0f);
  }
  if (live)
    STORE(y, yoff + r, res);
  ACT_ROWS_END
}
#endif

/* ---- backward: dx = dy b e^(x - m) / s with the row's max m and sum s
 * recomputed from x as the forward does (not from y, whose rounding would
 * be amplified by |y|); NaN for the rows the forward makes NaN; 0 where
 * nothing takes part. ---- */

/* y * (d.x + d.y) rounded once (finite operands). */
AM_INLINE float act_lse_mul(float yv, float2 d) {
  float2 p = am_two_prod(yv, d.x);
  if (!act_finite(p.x))
    return p.x;
  return p.x + fma(yv, d.y, p.y);
}

/* One output of act_logsumexp_bwd: dy b e^(x - m) / s for the element
 * (v, bv) of a row with sum s, shift, pinf and gy = dy (NaN for a bad
 * row; 0 where b or s is 0). */
AM_INLINE float act_lse_dx_exact(float v, float bv, float shift, bool pinf,
                                 float2 s, float gy, bool bad) {
  if (bad)
    return am_nan();
  if (bv == 0.0f || s.x == 0.0f)
    return 0.0f;
  float2 t = act_lse_term(v, bv, shift, pinf);
  if (t.x == 0.0f)
    return 0.0f;
  if (!act_finite(s.x) || !act_finite(t.x))
    return gy * (t.x / s.x);
  return act_lse_mul(gy, act_dd_divr(t, s));
}

#define ACT_LSE_BWD_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                          \
  IN(STYPE, x) SEP() IN(STYPE, b) SEP() IN(STYPE, dy) SEP()                   \
  OUT(STYPE, dx) SEP()                                                        \
  LOCAL(float2, red, ACT_AXIS_WG) SEP() LOCAL(float, redm, ACT_AXIS_WG) SEP() \
  SCALAR(uint, rows) SEP() SCALAR(uint, len) SEP() SCALAR(uint, inner) SEP()  \
  SCALAR(uint, xoff) SEP() SCALAR(uint, boff) SEP() SCALAR(uint, bso) SEP()   \
  SCALAR(uint, bsl) SEP() SCALAR(uint, bsi) SEP() SCALAR(uint, dyoff) SEP()   \
  SCALAR(uint, dxoff) SEP() SCALAR(uint, has_b) SEP()                         \
  SCALAR(uint, has_sign) SEP() SCALAR(uint, per_group)

ACT_KERNEL(act_logsumexp_bwd, ACT_LSE_BWD_ARGS) {
  ACT_ROWS_BEGIN
  uint bb = boff + o * bso + i * bsi;
  float m = -am_inf();
  float hasnan = 0.0f; /* 1: a NaN takes part */
  for (uint k = lane; k < nk; k += lanes) {
    float bv = has_b != 0u ? LOAD(b, bb + k * bsl) : 1.0f;
    if (bv != 0.0f) {
      float v = LOAD(x, xoff + base + k * inner);
      hasnan = (am_isnan(v) || am_isnan(bv)) ? 1.0f : hasnan;
      m = act_max(m, am_isnan(v) ? -am_inf() : v);
    }
  }
  if (pg) {
    ACT_REDUCE(redm, m, act_max);
    ACT_REDUCE(redm, hasnan, act_max);
  }
  float shift = act_finite(m) ? m : 0.0f;
  bool pinf = m == am_inf();
  float2 s = am_f2(0.0f, 0.0f);
  for (uint k = lane; k < nk; k += lanes) {
    float bv = has_b != 0u ? LOAD(b, bb + k * bsl) : 1.0f;
    float v = LOAD(x, xoff + base + k * inner);
    if (bv != 0.0f && !am_isnan(v) && !am_isnan(bv))
      s = act_dd_acc(s, act_lse_term(v, bv, shift, pinf));
  }
  if (pg) {
    ACT_REDUCE(red, s, act_dd_acc);
  }
  float gy = live ? LOAD(dy, dyoff + r) : 0.0f;
  bool bad = hasnan != 0.0f || am_isnan(gy) || am_isnan(s.x) ||
             (has_sign == 0u && s.x < 0.0f);
  for (uint k = lane; k < nk; k += lanes) {
    uint e = base + k * inner;
    float bv = has_b != 0u ? LOAD(b, bb + k * bsl) : 1.0f;
    STORE(dx, dxoff + e,
          act_lse_dx_exact(LOAD(x, xoff + e), bv, shift, pinf, s, gy, bad));
  }
  ACT_ROWS_END
}

#if ACT_DTYPE == 0
/* One output of act_logsumexp_bwd_row: gy t / s for the term t, from
 * rs = 1 / s as a double-float (act_dd_divr, ~2^-46): gy t exactly, times
 * rs, rounded once; where something is not finite, gy (t / s) as
 * act_logsumexp_bwd has it; 0 where t or s is 0; NaN for a bad row. */
AM_INLINE float act_lse_dx(float t, float2 rs, float s, float gy, bool bad) {
  float2 p = am_two_prod(gy, t);
  float2 q = am_dd_mul(p, rs);
  float res = q.x + q.y;
  bool fin = act_finite(p.x) && act_finite(rs.x) && act_finite(res);
  res = fin ? res : gy * (t / s);
  res = (t == 0.0f || s == 0.0f) ? 0.0f : res;
  return bad ? am_nan() : res;
}

/* logsumexp's gradient for CPU drivers (where act_logsumexp_row runs):
 * one work-item per row. Rows whose max is finite, with finite b and no
 * NaN taking part (the rest take act_logsumexp_bwd's path as it is): s
 * from act_logsumexp_bwd's terms (act_lse_term_fin: the same values),
 * formed in vectorized blocks of 64, summed in double-float chains, and
 * their high parts kept in dx (x is not read after that, so dx may be x);
 * then each output from its term: dy t / s rounded once (act_lse_dx),
 * within 1.5 ulp (t's high part 0.5, 1 / s ~2^-46, the rounding 0.5). */
ACT_KERNEL(act_logsumexp_bwd_row, ACT_LSE_BWD_ARGS) {
  ACT_ROWS_BEGIN
  uint bb = boff + o * bso + i * bsi;
  uint xb = xoff + base, gb = dxoff + base;
  bool hb = has_b != 0u;
  int mk = act_fkey(-am_inf());
  int odd = 0; /* a NaN takes part, or b is not finite */
  for (uint k = 0u; k < nk; k++) {
    float bv = hb ? LOAD(b, bb + k * bsl) : 1.0f;
    float v = LOAD(x, xb + k);
    int kv = act_fkey(am_isnan(v) ? -am_inf() : v);
    mk = (bv != 0.0f && kv > mk) ? kv : mk;
    bool nan = bv != 0.0f && (am_isnan(v) || am_isnan(bv));
    odd = (nan || am_isinf(bv) || am_isnan(bv)) ? 1 : odd;
  }
  float m = act_unkey(mk);
  float shift = act_finite(m) ? m : 0.0f;
  float gy = live ? LOAD(dy, dyoff + r) : 0.0f;
  if (act_finite(m) && odd == 0) {
    ACT_DD4_CHAINS(h0, l0, h1, l1, h2, l2, h3, l3);
    float th[64], tl[64];
    uint k64 = nk & ~63u;
    for (uint kb = 0u; kb < k64; kb += 64u) {
      if (hb) {
        for (uint j = 0u; j < 64u; j++) {
          float bj = LOAD(b, bb + (kb + j) * bsl);
          float2 tj = act_lse_term_fin(LOAD(x, xb + kb + j), bj, shift);
          th[j] = tj.x;
          tl[j] = tj.y;
          STORE(dx, gb + kb + j, tj.x);
        }
      } else {
        for (uint j = 0u; j < 64u; j++) {
          float2 tj = act_lse_term_fin(LOAD(x, xb + kb + j), 1.0f, shift);
          th[j] = tj.x;
          tl[j] = tj.y;
          STORE(dx, gb + kb + j, tj.x);
        }
      }
      ACT_DD4_ADD64(th, tl, true);
    }
    float2 s = am_f2(0.0f, 0.0f);
    for (uint k = k64; k < nk; k++) {
      float bv = hb ? LOAD(b, bb + k * bsl) : 1.0f;
      float2 tk = act_lse_term_fin(LOAD(x, xb + k), bv, shift);
      s = am_dd_add(s, tk);
      STORE(dx, gb + k, tk.x);
    }
    s = act_dd4_total(s, h0, l0, h1, l1, h2, l2, h3, l3);
    bool bad = am_isnan(gy) || am_isnan(s.x) || (has_sign == 0u && s.x < 0.0f);
    /* each output from its term, kept in dx (its high part: within
     * 2^-24, so the output within 1.5 ulp) */
    bool sfin = act_finite(s.x) && s.x != 0.0f;
    float2 rs = act_dd_divr(am_f2(1.0f, 0.0f),
                            am_f2(sfin ? s.x : 1.0f, sfin ? s.y : 0.0f));
    rs = am_f2(sfin ? rs.x : am_inf(), sfin ? rs.y : 0.0f);
    for (uint k = 0u; k < nk; k++)
      STORE(dx, gb + k, act_lse_dx(LOAD(dx, gb + k), rs, s.x, gy, bad));
  } else {
    /* act_logsumexp_bwd's path, one work-item per row */
    bool pinf = m == am_inf();
    int nanr = 0;
    for (uint k = 0u; k < nk; k++) {
      float bv = hb ? LOAD(b, bb + k * bsl) : 1.0f;
      float v = LOAD(x, xb + k);
      nanr = (bv != 0.0f && (am_isnan(v) || am_isnan(bv))) ? 1 : nanr;
    }
    float2 s = am_f2(0.0f, 0.0f);
    for (uint k = 0u; k < nk; k++) {
      float bv = hb ? LOAD(b, bb + k * bsl) : 1.0f;
      float v = LOAD(x, xb + k);
      if (bv != 0.0f && !am_isnan(v) && !am_isnan(bv))
        s = act_dd_acc(s, act_lse_term(v, bv, shift, pinf));
    }
    bool bad = nanr != 0 || am_isnan(gy) || am_isnan(s.x) ||
               (has_sign == 0u && s.x < 0.0f);
    for (uint k = 0u; k < nk; k++) {
      float bv = hb ? LOAD(b, bb + k * bsl) : 1.0f;
      STORE(dx, gb + k,
            act_lse_dx_exact(LOAD(x, xb + k), bv, shift, pinf, s, gy, bad));
    }
  }
  ACT_ROWS_END
}
#endif
#endif

/* ------------------------------------------------------------------ */
/* standardize (jax.nn.standardize semantics).                          */
/* ------------------------------------------------------------------ */
#if ACT_OP == ACT_OP_STANDARDIZE

#define ACT_BIG 1152921504606846976.0f /* 2^60 */
#define ACT_INV_BIG 5.42101086242752217e-20f /* 2^-64 */
#define ACT_P64 18446744073709551616.0f /* 2^64 */

/* Sum of two pairs of double-floats (x, y) and (z, w). */
AM_INLINE float4 act_add4(float4 a, float4 b) {
  float2 p = act_dd_acc(am_f2(a.x, a.y), am_f2(b.x, b.y));
  float2 q = act_dd_acc(am_f2(a.z, a.w), am_f2(b.z, b.w));
  return act_f4(p.x, p.y, q.x, q.y);
}

/* The row's scale: 2^k brings max |x| to [1, 2), or k = 0 when squares of
 * the row can neither overflow nor underflow (max |x| in [2^-40, 2^40]). */
AM_INLINE int act_std_scale(float amax) {
  if (!act_finite(amax) || amax == 0.0f ||
      (amax >= 9.094947017729282e-13f && amax <= 1099511627776.0f))
    return 0;
  bool sub = amax < 1.17549435e-38f;
  float a = sub ? amax * ACT_P64 : amax;
  int e = convert_int(as_uint(a) >> 23) - 127 - (sub ? 64 : 0);
  return -e;
}

/* For the bits amk of a row's max |x| (as an int: NaN and inf above
 * every finite value): whether act_std_scale leaves the row unscaled
 * (max |x| in [2^-40, 2^40]) - the row kernels' vectorized paths. */
AM_INLINE bool act_std_unscaled(int amk) {
  return amk >= as_int(9.094947017729282e-13f) &&
         amk <= as_int(1099511627776.0f);
}

/* One output, everything in units scaled by 2^k (exact power-of-two
 * scalings). mus: the row mean times 2^k and var_s: the variance about it
 * times 4^k (double-floats); mg / vg: the element's given mean / variance. */
AM_INLINE
float act_std_out(float v, float2 mus, float mg, float vg, bool has_mean,
                  bool has_var, int k, float2 var_s, float2 eps) {
  if (has_var && has_mean) {
    /* (v - m) / sqrt(vg + eps); scaled by 2^-8 where v - m could overflow */
    int sc = (fabs(v) > 1.329228e36f || fabs(mg) > 1.329228e36f) ? -8 : 0;
    float2 d = am_two_sum(am_ldexp(v, sc), -am_ldexp(mg, sc));
    float2 V = act_dd_acc(am_f2(vg, 0.0f), eps);
    return act_div_sqrt_k(d, V, -sc);
  }
  if (has_var) {
    /* (v 2^k - mus) / sqrt(vg + eps), scaled back */
    float2 d = act_dd_acc(am_f2(am_ldexp(v, k), 0.0f), am_f2(-mus.x, -mus.y));
    float2 V = act_dd_acc(am_f2(vg, 0.0f), eps);
    return act_div_sqrt_k(d, V, -k);
  }
  /* E = eps 4^k; huge: the row is so tiny that eps dominates its
   * variance (by more than 2^62), which is then dropped */
  float2 E = am_f2(0.0f, 0.0f);
  bool huge = false;
  if (eps.x > 0.0f) {
    huge = 2 * k > 200;
    int k2 = 2 * k < -252 ? -252 : (huge ? 0 : 2 * k);
    E = act_scale2(eps, k2);
    huge = huge || E.x > ACT_P64;
  }
  if (k > 0 && huge) {
    /* y = (v 2^k - m 2^k) / sqrt(eps + mu^2 - m^2) 2^-k, mu^2 dropped */
    float2 V = eps;
    float2 d = act_dd_acc(am_f2(am_ldexp(v, k), 0.0f), am_f2(-mus.x, -mus.y));
    if (has_mean) {
      float ms = am_ldexp(mg, k);
      V = act_dd_acc(V, act_dd_mulr(am_f2(-mg, 0.0f), am_f2(mg, 0.0f)));
      if (!(fabs(ms) <= ACT_BIG)) /* m far above the row: unscaled */
        return act_div_sqrt_k(am_two_sum(v, -mg), V, 0);
      d = am_two_sum(am_ldexp(v, k), -ms);
    }
    return act_div_sqrt_k(d, V, -k);
  }
  /* y = (v - m) 2^k / sqrt(var_s + (mu - m)(mu + m) 4^k + eps 4^k) */
  float2 ms = has_mean ? am_f2(am_ldexp(mg, k), 0.0f) : mus;
  float2 d = act_dd_acc(am_f2(am_ldexp(v, k), 0.0f), am_f2(-ms.x, -ms.y));
  float2 V = act_dd_acc(var_s, E);
  if (has_mean)
    V = act_dd_acc(V, act_dd_mulr(act_dd_acc(mus, am_f2(-ms.x, -ms.y)),
                                  act_dd_acc(mus, ms)));
  if (d.x == 0.0f && V.x == 0.0f && eps.x > 0.0f)
    return 0.0f; /* eps vanished in the scaling: 0 / sqrt(eps) */
  return act_div_sqrt_k(d, V, 0);
}

#define ACT_STD_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                              \
  IN(STYPE, x) SEP() IN(STYPE, mean) SEP() IN(STYPE, var) SEP()               \
  OUT(STYPE, y) SEP()                                                         \
  LOCAL(float4, red, ACT_AXIS_WG) SEP() LOCAL(float, redm, ACT_AXIS_WG) SEP() \
  SCALAR(uint, rows) SEP() SCALAR(uint, len) SEP() SCALAR(uint, inner) SEP()  \
  SCALAR(uint, xoff) SEP() SCALAR(uint, yoff) SEP() SCALAR(uint, moff) SEP()  \
  SCALAR(uint, mso) SEP() SCALAR(uint, msl) SEP() SCALAR(uint, msi) SEP()     \
  SCALAR(uint, voff) SEP() SCALAR(uint, vso) SEP() SCALAR(uint, vsl) SEP()    \
  SCALAR(uint, vsi) SEP() SCALAR(uint, has_mean) SEP()                        \
  SCALAR(uint, has_var) SEP() SCALAR(uint, per_group) SEP()                   \
  SCALAR(float, eps_h) SEP() SCALAR(float, eps_l) SEP()                       \
  SCALAR(float, len_h) SEP() SCALAR(float, len_l)

/* y = (x - mean) / sqrt(variance + eps); without a given variance it is
 * mean(x^2) - mean^2 about the given mean, i.e. var + (mu - m)(mu + m)
 * with var the two-pass variance about the row mean mu (as the reference
 * computes it). Rows whose max |x| is outside [2^-40, 2^40] are scaled by
 * a power of two 2^k first (act_std_scale), so that neither the sum nor
 * the squares overflow or underflow. */
/* The forward pass of one row (the body of act_standardize's row loop),
 * with its lanes LANE, LANES and whether the row is a work-group's (PG:
 * its sums are then reduced in local memory). */
#define ACT_STD_FWD_ROW(LANE, LANES, PG)                                      \
  uint mb = moff + o * mso + i * msi;                                         \
  uint vb = voff + o * vso + i * vsi;                                         \
  /* pass 1: the sum, |x| >= 2^60 summed apart scaled by 2^-64 so that it     \
   * cannot overflow, and max |x| for the scale k; then the mean times 2^k    \
   * (scaled before the division: exact for sums of tiny numbers) */          \
  float2 mus = am_f2(0.0f, 0.0f);                                             \
  int ks = 0;                                                                 \
  if (!hm || !hv) {                                                           \
    float4 acc = act_f4(0.0f, 0.0f, 0.0f, 0.0f);                              \
    float amax = 0.0f;                                                        \
    for (uint k = (LANE); k < nk; k += (LANES)) {                             \
      float v = LOAD(x, xoff + base + k * inner);                             \
      float a = fabs(v);                                                      \
      amax = a > amax ? a : amax;                                             \
      if (a >= ACT_BIG) {                                                     \
        float2 p = act_dd_acc(am_f2(acc.z, acc.w),                            \
                              am_f2(v * ACT_INV_BIG, 0.0f));                  \
        acc.z = p.x;                                                          \
        acc.w = p.y;                                                          \
      } else {                                                                \
        float2 p = act_dd_acc(am_f2(acc.x, acc.y), am_f2(v, 0.0f));           \
        acc.x = p.x;                                                          \
        acc.y = p.y;                                                          \
      }                                                                       \
    }                                                                         \
    if (PG) {                                                                 \
      ACT_REDUCE(red, acc, act_add4);                                         \
      ACT_REDUCE(redm, amax, act_max);                                        \
    }                                                                         \
    ks = act_std_scale(amax);                                                 \
    mus = act_dd_acc(                                                         \
        act_dd_divr(act_scale2(am_f2(acc.z, acc.w), 64 + ks), lenp),          \
        act_dd_divr(act_scale2(am_f2(acc.x, acc.y), ks), lenp));              \
  }                                                                           \
  /* pass 2: the variance about mu, times 4^k */                              \
  float2 var_s = am_f2(0.0f, 0.0f);                                           \
  if (!hv) {                                                                  \
    float2 acc2 = am_f2(0.0f, 0.0f);                                          \
    for (uint k = (LANE); k < nk; k += (LANES)) {                             \
      float v = LOAD(x, xoff + base + k * inner);                             \
      float2 d = act_dd_acc(am_f2(am_ldexp(v, ks), 0.0f),                     \
                            am_f2(-mus.x, -mus.y));                           \
      acc2 = act_dd_acc(acc2, act_dd_mulr(d, d));                             \
    }                                                                         \
    if (PG) {                                                                 \
      float4 a4 = act_f4(acc2.x, acc2.y, 0.0f, 0.0f);                         \
      ACT_REDUCE(red, a4, act_add4);                                          \
      acc2 = am_f2(a4.x, a4.y);                                               \
    }                                                                         \
    var_s = act_dd_divr(acc2, lenp);                                          \
  }                                                                           \
  /* pass 3: the outputs */                                                   \
  for (uint k = (LANE); k < nk; k += (LANES)) {                               \
    uint e = base + k * inner;                                                \
    float v = LOAD(x, xoff + e);                                              \
    float mg = hm ? LOAD(mean, mb + k * msl) : 0.0f;                          \
    float vg = hv ? LOAD(var, vb + k * vsl) : 0.0f;                           \
    STORE(y, yoff + e, act_std_out(v, mus, mg, vg, hm, hv, ks, var_s, eps));  \
  }

ACT_KERNEL(act_standardize, ACT_STD_ARGS) {
  float2 eps = am_f2(eps_h, eps_l);
  float2 lenp = am_f2(len_h, len_l);
  bool hm = has_mean != 0u, hv = has_var != 0u;
  ACT_ROWS_BEGIN
  ACT_STD_FWD_ROW(lane, lanes, pg)
  ACT_ROWS_END
}

#if ACT_DTYPE == 0
/* standardize for CPU drivers (the plan's choice where act_softmax_row is,
 * without a given mean or variance): one work-item per row. Rows whose
 * max |x| is in [2^-40, 2^40] (so act_std_scale's k is 0: nothing to
 * scale, no element >= 2^60) and whose variance plus eps is positive and
 * finite take a vectorized path with act_standardize's values: max |x| as
 * an integer max of the bits (NaN and inf above every finite bits); the
 * sum in double-float float4 chains; (x - mu)^2 as double-floats in
 * blocks of 64, summed so; each output (x - mu) times 1 / sqrt(V + eps),
 * the reciprocal a double-float formed once (~2^-44 against the
 * quotient's ~2^-46), rounded once. Other rows: act_standardize's code. */
ACT_KERNEL(act_standardize_row, ACT_STD_ARGS) {
  float2 eps = am_f2(eps_h, eps_l);
  float2 lenp = am_f2(len_h, len_l);
  bool hm = has_mean != 0u, hv = has_var != 0u;
  ACT_ROWS_BEGIN
  uint xb = xoff + base, yb = yoff + base;
  int amk = 0;
  for (uint k = 0u; k < nk; k++)
    amk = max(amk, as_int(fabs(LOAD(x, xb + k))));
  bool fast = !hm && !hv && act_std_unscaled(amk);
  float2 V = am_f2(0.0f, 0.0f), mus = V;
  if (fast) {
    ACT_DD4_CHAINS(h0, l0, h1, l1, h2, l2, h3, l3);
    uint k16 = nk & ~15u;
    for (uint k = 0u; k < k16; k += 16u)
      ACT_DD4_ADD16(x, xb + k);
    float2 s = am_f2(0.0f, 0.0f);
    for (uint k = k16; k < nk; k++)
      s = am_dd_add_f(s, LOAD(x, xb + k));
    s = act_dd4_total(s, h0, l0, h1, l1, h2, l2, h3, l3);
    mus = act_dd_divr(s, lenp);
    /* the squares about mu, in blocks of 64 */
    ACT_DD4_CLEAR(h0, l0, h1, l1, h2, l2, h3, l3);
    float th[64], tl[64];
    uint k64 = nk & ~63u;
    for (uint kb = 0u; kb < k64; kb += 64u) {
      for (uint j = 0u; j < 64u; j++) {
        float2 d = am_dd_add(am_f2(LOAD(x, xb + kb + j), 0.0f),
                             am_f2(-mus.x, -mus.y));
        float2 q = am_dd_mul(d, d);
        th[j] = q.x;
        tl[j] = q.y;
      }
      ACT_DD4_ADD64(th, tl, true);
    }
    float2 s2 = am_f2(0.0f, 0.0f);
    for (uint k = k64; k < nk; k++) {
      float2 d = am_dd_add(am_f2(LOAD(x, xb + k), 0.0f), am_f2(-mus.x, -mus.y));
      s2 = am_dd_add(s2, am_dd_mul(d, d));
    }
    s2 = act_dd4_total(s2, h0, l0, h1, l1, h2, l2, h3, l3);
    V = act_dd_acc(act_dd_divr(s2, lenp), eps);
    fast = V.x > 0.0f && act_finite(V.x);
  }
  if (fast) {
    float2 rs = act_dd_divr(am_f2(1.0f, 0.0f), act_sqrt_dd(V));
    for (uint k = 0u; k < nk; k++) {
      float2 d = am_dd_add(am_f2(LOAD(x, xb + k), 0.0f), am_f2(-mus.x, -mus.y));
      float2 q = am_dd_mul(d, rs);
      STORE(y, yb + k, q.x + q.y);
    }
  } else {
    ACT_STD_FWD_ROW(0u, 1u, false)
  }
  ACT_ROWS_END
}
#endif

/* ---- backward (jax semantics: mean and variance computed from x take
 * part in the derivative; given ones are constants). With s_i =
 * sqrt(V_i + eps):
 *   mean and variance given:  dx = dy / s;
 *   variance given:           dx_j = dy_j / s_j - (1/n) sum dy_i / s_i;
 *   mean m given (V = mean(x^2) - m^2):
 *                             dx_j = dy_j / s_j - x_j (1/n) sum dy_i (x_i -
 *                                    m_i) / s_i^3;
 *   neither (mu, V the row's): dx_j = (dy_j - mean(dy) - (x_j - mu)
 *                                    mean((dy - mean(dy)) (x - mu)) /
 *                                    (V + eps)) / s.
 * Sums in double-float; rows of huge (or, with eps = 0, tiny) values are
 * scaled by a power of two as in the forward kernel. ---- */

AM_INLINE float2 act_neg2(float2 a) { return am_f2(-a.x, -a.y); }

#define ACT_STD_BWD_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                          \
  IN(STYPE, x) SEP() IN(STYPE, mean) SEP() IN(STYPE, var) SEP()               \
  IN(STYPE, dy) SEP() OUT(STYPE, dx) SEP()                                    \
  LOCAL(float4, red, ACT_AXIS_WG) SEP() LOCAL(float, redm, ACT_AXIS_WG) SEP() \
  SCALAR(uint, rows) SEP() SCALAR(uint, len) SEP() SCALAR(uint, inner) SEP()  \
  SCALAR(uint, xoff) SEP() SCALAR(uint, dyoff) SEP() SCALAR(uint, dxoff) SEP()\
  SCALAR(uint, moff) SEP()                                                    \
  SCALAR(uint, mso) SEP() SCALAR(uint, msl) SEP() SCALAR(uint, msi) SEP()     \
  SCALAR(uint, voff) SEP() SCALAR(uint, vso) SEP() SCALAR(uint, vsl) SEP()    \
  SCALAR(uint, vsi) SEP() SCALAR(uint, flags) SEP()                           \
  SCALAR(float, eps_h) SEP() SCALAR(float, eps_l) SEP()                       \
  SCALAR(float, len_h) SEP() SCALAR(float, len_l)

/* flags: bit 0 has_mean, bit 1 has_var, bit 2 per_group. */
/* The backward pass of one row (the body of act_standardize_bwd's row
 * loop), with its lanes LANE, LANES and whether the row is a
 * work-group's (PG: its sums are then reduced in local memory). */
#define ACT_STD_BWD_ROW(LANE, LANES, PG)                                      \
  uint mb = moff + o * mso + i * msi;                                         \
  uint vb = voff + o * vso + i * vsi;                                         \
  /* pass 0 (when the variance is computed): max |x|, for the scale 2^ks      \
   * of the forward kernel (act_std_scale); rows of tiny values are scaled    \
   * up only when eps = 0 (else eps dominates their variance anyway). In      \
   * scaled units x_s = x 2^ks, every formula above keeps its form and dx     \
   * is the result times 2^ks. */                                             \
  int ks = 0;                                                                 \
  if (!hv) {                                                                  \
    float amax = 0.0f;                                                        \
    for (uint k = (LANE); k < nk; k += (LANES)) {                             \
      float a = fabs(LOAD(x, xoff + base + k * inner));                       \
      amax = a > amax ? a : amax;                                             \
    }                                                                         \
    if (PG) {                                                                 \
      ACT_REDUCE(redm, amax, act_max);                                        \
    }                                                                         \
    ks = act_std_scale(amax);                                                 \
    ks = (ks > 0 && eps.x > 0.0f) ? 0 : ks;                                   \
  }                                                                           \
  float2 epss = act_scale2(eps, 2 * ks);                                      \
  /* pass 1: sum x_s (or sum x_s^2 when the mean is given), sum dy */         \
  float4 a1 = act_f4(0.0f, 0.0f, 0.0f, 0.0f);                                 \
  if (!hv) {                                                                  \
    for (uint k = (LANE); k < nk; k += (LANES)) {                             \
      float v = am_ldexp(LOAD(x, xoff + base + k * inner), ks);               \
      float g = LOAD(dy, dyoff + base + k * inner);                           \
      float2 t = hm ? act_dd_mulr(am_f2(v, 0.0f), am_f2(v, 0.0f))             \
                    : am_f2(v, 0.0f);                                         \
      a1 = act_add4(a1, act_f4(t.x, t.y, g, 0.0f));                           \
    }                                                                         \
    if (PG) {                                                                 \
      ACT_REDUCE(red, a1, act_add4);                                          \
    }                                                                         \
  }                                                                           \
  float2 mu = act_dd_divr(am_f2(a1.x, a1.y), lenp); /* mean, or mean(x^2) */  \
  float2 mdy = act_dd_divr(am_f2(a1.z, a1.w), lenp);                          \
  /* pass 2 */                                                                \
  float4 a2 = act_f4(0.0f, 0.0f, 0.0f, 0.0f);                                 \
  if (!(hm && hv)) {                                                          \
    for (uint k = (LANE); k < nk; k += (LANES)) {                             \
      float v = am_ldexp(LOAD(x, xoff + base + k * inner), ks);               \
      float g = LOAD(dy, dyoff + base + k * inner);                           \
      if (!hm && !hv) {                                                       \
        /* sum (x - mu)^2, sum (dy - mean dy) (x - mu): centring dy           \
         * first takes out the cancellation of rows where dy is nearly        \
         * constant */                                                        \
        float2 d = act_dd_acc(am_f2(v, 0.0f), act_neg2(mu));                  \
        float2 q = act_dd_mulr(d, d);                                         \
        float2 r = act_dd_mulr(act_dd_acc(am_f2(g, 0.0f), act_neg2(mdy)), d); \
        a2 = act_add4(a2, act_f4(q.x, q.y, r.x, r.y));                        \
      } else if (hv) {                                                        \
        /* sum dy / s */                                                      \
        float vg = LOAD(var, vb + k * vsl);                                   \
        float2 q = act_div_sqrt(am_f2(g, 0.0f), act_dd_acc(am_f2(vg, 0.0f), eps)); \
        a2 = act_add4(a2, act_f4(q.x, q.y, 0.0f, 0.0f));                      \
      } else {                                                                \
        /* sum dy (x - m) / s^3, V = mean(x^2) - m^2 */                       \
        float mg = am_ldexp(LOAD(mean, mb + k * msl), ks);                    \
        float2 V = act_dd_acc(act_dd_acc(mu, act_dd_mulr(am_f2(-mg, 0.0f),    \
                                                         am_f2(mg, 0.0f))),   \
                              epss);                                          \
        float2 d = am_two_sum(v, -mg);                                        \
        float2 q = act_dd_divr(act_div_sqrt(act_dd_mulr(am_f2(g, 0.0f), d), V), V); \
        a2 = act_add4(a2, act_f4(q.x, q.y, 0.0f, 0.0f));                      \
      }                                                                       \
    }                                                                         \
    if (PG) {                                                                 \
      ACT_REDUCE(red, a2, act_add4);                                          \
    }                                                                         \
  }                                                                           \
  float2 s2 = act_dd_divr(am_f2(a2.x, a2.y), lenp);                           \
  float2 s3 = act_dd_divr(am_f2(a2.z, a2.w), lenp);                           \
  /* pass 3: the outputs */                                                   \
  for (uint k = (LANE); k < nk; k += (LANES)) {                               \
    uint e = base + k * inner;                                                \
    float v = am_ldexp(LOAD(x, xoff + e), ks);                                \
    float g = LOAD(dy, dyoff + e);                                            \
    float res;                                                                \
    if (hm && hv) {                                                           \
      float vg = LOAD(var, vb + k * vsl);                                     \
      res = act_div_sqrt_k(am_f2(g, 0.0f), act_dd_acc(am_f2(vg, 0.0f), eps), 0); \
    } else if (hv) {                                                          \
      float vg = LOAD(var, vb + k * vsl);                                     \
      float2 q = act_div_sqrt(am_f2(g, 0.0f), act_dd_acc(am_f2(vg, 0.0f), eps)); \
      float2 t = act_dd_acc(q, act_neg2(s2));                                 \
      res = t.x + t.y;                                                        \
    } else if (hm) {                                                          \
      float mg = am_ldexp(LOAD(mean, mb + k * msl), ks);                      \
      float2 V = act_dd_acc(act_dd_acc(mu, act_dd_mulr(am_f2(-mg, 0.0f),      \
                                                       am_f2(mg, 0.0f))),     \
                            epss);                                            \
      float2 q = act_div_sqrt(am_f2(g, 0.0f), V);                             \
      float2 t = act_dd_acc(q, act_neg2(act_dd_mulr(am_f2(v, 0.0f), s2)));    \
      res = act_finite(t.x) ? am_ldexp_dd(t, ks) : am_ldexp(t.x, ks);         \
    } else {                                                                  \
      float2 V = act_dd_acc(s2, epss);                                        \
      float2 d = act_dd_acc(am_f2(v, 0.0f), act_neg2(mu));                    \
      float2 t = act_dd_acc(am_f2(g, 0.0f), act_neg2(mdy));                   \
      t = act_dd_acc(t, act_neg2(act_dd_mulr(d, act_dd_divr(s3, V))));        \
      res = act_div_sqrt_k(t, V, ks);                                         \
    }                                                                         \
    STORE(dx, dxoff + e, res);                                                \
  }

ACT_KERNEL(act_standardize_bwd, ACT_STD_BWD_ARGS) {
  float2 eps = am_f2(eps_h, eps_l);
  float2 lenp = am_f2(len_h, len_l);
  bool hm = (flags & 1u) != 0u, hv = (flags & 2u) != 0u;
  uint per_group = (flags >> 2) & 1u;
  ACT_ROWS_BEGIN
  ACT_STD_BWD_ROW(lane, lanes, pg)
  ACT_ROWS_END
}

#if ACT_DTYPE == 0
/* standardize's gradient for CPU drivers (where act_standardize_row
 * runs: no given mean or variance): one work-item per row. Rows whose x
 * needs no scaling (max |x| in [2^-40, 2^40], as act_standardize_row),
 * whose dy is finite, and whose sums and V + eps are finite (V + eps >
 * 0) take a vectorized path with act_standardize_bwd's formulas: the sums
 * of x and dy in double-float float4 chains, (x - mu)^2 and (dy - mean
 * dy)(x - mu) as double-floats in blocks of 64, summed so; each output
 * ((dy - mean dy) - (x - mu) c) times 1 / sqrt(V + eps), c = mean((dy -
 * mean dy)(x - mu)) / (V + eps), both per-row double-floats, rounded once.
 * Other rows: act_standardize_bwd's code, one work-item per row. */
ACT_KERNEL(act_standardize_bwd_row, ACT_STD_BWD_ARGS) {
  float2 eps = am_f2(eps_h, eps_l);
  float2 lenp = am_f2(len_h, len_l);
  bool hm = (flags & 1u) != 0u, hv = (flags & 2u) != 0u;
  uint per_group = 0u;
  ACT_ROWS_BEGIN
  uint xb = xoff + base, gb = dyoff + base, ob = dxoff + base;
  int amk = 0, gmk = 0;
  for (uint k = 0u; k < nk; k++) {
    amk = max(amk, as_int(fabs(LOAD(x, xb + k))));
    gmk = max(gmk, as_int(fabs(LOAD(dy, gb + k))));
  }
  bool fast = !hm && !hv && act_std_unscaled(amk) && gmk < as_int(am_inf());
  float2 mu = am_f2(0.0f, 0.0f), mdy = mu, V = mu, c = mu;
  if (fast) {
    ACT_DD4_CHAINS(h0, l0, h1, l1, h2, l2, h3, l3);
    ACT_DD4_CHAINS(p0, q0, p1, q1, p2, q2, p3, q3);
    uint k8 = nk & ~7u;
    for (uint k = 0u; k < k8; k += 8u) {
      float4 v0 = act_f4(LOAD(x, xb + k), LOAD(x, xb + k + 1u),
                         LOAD(x, xb + k + 2u), LOAD(x, xb + k + 3u));
      float4 v1 = act_f4(LOAD(x, xb + k + 4u), LOAD(x, xb + k + 5u),
                         LOAD(x, xb + k + 6u), LOAD(x, xb + k + 7u));
      float4 g0 = act_f4(LOAD(dy, gb + k), LOAD(dy, gb + k + 1u),
                         LOAD(dy, gb + k + 2u), LOAD(dy, gb + k + 3u));
      float4 g1 = act_f4(LOAD(dy, gb + k + 4u), LOAD(dy, gb + k + 5u),
                         LOAD(dy, gb + k + 6u), LOAD(dy, gb + k + 7u));
      ACT_DD4_ADD(h0, l0, v0);
      ACT_DD4_ADD(h1, l1, v1);
      ACT_DD4_ADD(p0, q0, g0);
      ACT_DD4_ADD(p1, q1, g1);
    }
    float2 sx = am_f2(0.0f, 0.0f), sg = sx;
    for (uint k = k8; k < nk; k++) {
      sx = am_dd_add_f(sx, LOAD(x, xb + k));
      sg = am_dd_add_f(sg, LOAD(dy, gb + k));
    }
    sx = act_dd4_fold(act_dd4_fold(sx, h0, l0), h1, l1);
    sg = act_dd4_fold(act_dd4_fold(sg, p0, q0), p1, q1);
    mu = act_dd_divr(sx, lenp);
    mdy = act_dd_divr(sg, lenp);
    /* the squares and the products about the means, in blocks of 64 */
    ACT_DD4_CLEAR(h0, l0, h1, l1, h2, l2, h3, l3);
    ACT_DD4_CLEAR(p0, q0, p1, q1, p2, q2, p3, q3);
    float th[64], tl[64], uh[64], ul[64];
    uint k64 = nk & ~63u;
    for (uint kb = 0u; kb < k64; kb += 64u) {
      for (uint j = 0u; j < 64u; j++) {
        float2 d = am_dd_add(am_f2(LOAD(x, xb + kb + j), 0.0f),
                             am_f2(-mu.x, -mu.y));
        float2 gd = am_dd_add(am_f2(LOAD(dy, gb + kb + j), 0.0f),
                              am_f2(-mdy.x, -mdy.y));
        float2 q = am_dd_mul(d, d);
        float2 r = am_dd_mul(gd, d);
        th[j] = q.x;
        tl[j] = q.y;
        uh[j] = r.x;
        ul[j] = r.y;
      }
      ACT_DD4_ADD64(th, tl, true);
      ACT_DD4_ADD64_TO(uh, ul, true, p0, q0, p1, q1, p2, q2, p3, q3);
    }
    float2 s2 = am_f2(0.0f, 0.0f), s3 = s2;
    for (uint k = k64; k < nk; k++) {
      float2 d = am_dd_add(am_f2(LOAD(x, xb + k), 0.0f), am_f2(-mu.x, -mu.y));
      float2 gd = am_dd_add(am_f2(LOAD(dy, gb + k), 0.0f),
                            am_f2(-mdy.x, -mdy.y));
      s2 = am_dd_add(s2, am_dd_mul(d, d));
      s3 = am_dd_add(s3, am_dd_mul(gd, d));
    }
    s2 = act_dd4_total(s2, h0, l0, h1, l1, h2, l2, h3, l3);
    s3 = act_dd4_total(s3, p0, q0, p1, q1, p2, q2, p3, q3);
    V = act_dd_acc(act_dd_divr(s2, lenp), eps);
    c = act_dd_divr(act_dd_divr(s3, lenp), V);
    fast = V.x > 0.0f && act_finite(V.x) && act_finite(c.x) &&
           act_finite(mdy.x);
  }
  if (fast) {
    float2 rs = act_dd_divr(am_f2(1.0f, 0.0f), act_sqrt_dd(V));
    for (uint k = 0u; k < nk; k++) {
      float2 d = am_dd_add(am_f2(LOAD(x, xb + k), 0.0f), am_f2(-mu.x, -mu.y));
      float2 tt = am_dd_add(am_f2(LOAD(dy, gb + k), 0.0f),
                            am_f2(-mdy.x, -mdy.y));
      float2 dc = am_dd_mul(d, c);
      tt = am_dd_add(tt, am_f2(-dc.x, -dc.y));
      float2 q = am_dd_mul(tt, rs);
      STORE(dx, ob + k, q.x + q.y);
    }
  } else {
    ACT_STD_BWD_ROW(0u, 1u, false)
  }
  ACT_ROWS_END
}
#endif
#endif

/* ------------------------------------------------------------------ */
/* glu: a * sigmoid(b), a and b the two halves of the row.              */
/* ------------------------------------------------------------------ */
#if ACT_OP == ACT_OP_GLU

/* a * sigmoid(b) rounded once (am_mul_sigmoid); NaN in either gives NaN;
 * infinite a: a where sigmoid(b) > 0 in double, else a zero of a's sign. */
AM_INLINE float act_glu_val(float a, float b) {
  if (am_isnan(a) || am_isnan(b))
    return am_nan();
  if (am_isinf(a))
    return b < ACT_EXP_ZERO ? am_copysign(0.0f, a) : a;
  return am_mul_sigmoid(a, am_f2(b, 0.0f));
}

#define ACT_GLU_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                              \
  IN(STYPE, x) SEP() OUT(STYPE, y) SEP() SCALAR(uint, ny) SEP()               \
  SCALAR(uint, hlen) SEP() SCALAR(uint, inner) SEP() SCALAR(uint, xoff) SEP() \
  SCALAR(uint, yoff)

/* One work-item per output element (a 1-D or 2-D launch, as act_eltwise:
 * no loop in the body, so that CPU drivers vectorize across items). */
#define ACT_GLU_ONE(j)                                                        \
  {                                                                           \
    uint xa = xoff + act_glu_a((j), hlen, inner);                             \
    float a = LOAD(x, xa);                                                    \
    float b = LOAD(x, xa + hlen * inner);                                     \
    STORE(y, yoff + (j), act_glu_val(a, b));                                  \
  }
ACT_KERNEL(act_glu, ACT_GLU_ARGS) {
  ACT_ITEMS(ny, ACT_GLU_ONE)
}
#endif

/* ------------------------------------------------------------------ */
/* one_hot: 1 at the index, 0 elsewhere (out of range: all 0).          */
/* ------------------------------------------------------------------ */
#if ACT_OP == ACT_OP_ONE_HOT

#define ACT_ONE_HOT_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                          \
  IN(int, x) SEP() OUT(STYPE, y) SEP() SCALAR(uint, ny) SEP()                 \
  SCALAR(uint, len) SEP() SCALAR(uint, inner) SEP() SCALAR(uint, xoff) SEP()  \
  SCALAR(uint, yoff)

ACT_KERNEL(act_one_hot, ACT_ONE_HOT_ARGS) {
  ACT_ELEMS_BEGIN(ny)
  uint i = j % inner;
  uint t = j / inner;
  uint k = t % len;
  uint o = t / len;
  int idx = x[xoff + o * inner + i];
  bool hit = idx >= 0 && convert_uint(idx) == k;
  STORE(y, yoff + j, hit ? 1.0f : 0.0f);
  ACT_ELEMS_END
}
#endif
