/*
 * act_math.cl - actkit's portable f32 math library for kernels (docs/README.md, docs/accuracy.md).
 *
 * Every kernel gets its transcendental functions from here, never from the
 * driver's built-ins: Vulkan allows its exp/log/tanh large errors and
 * OpenCL's vary by vendor.  Bounds against the correctly rounded result,
 * checked by tests/math_cl_accuracy.c over the whole float range (denormal
 * inputs, +-0, +-inf, NaN -> NaN), with the largest error against the
 * exact value measured there on PoCL (the difference is the final
 * rounding; 0.5 would be correct rounding):
 *
 *   function                         bound   measured vs exact
 *   am_exp(x)  am_expm1(x)           1 ulp   0.52  0.56
 *   am_log(x)  am_log1p(x)           1 ulp   0.54  0.55
 *   am_erf(x)  am_erfc(x)          1.5 ulp   0.62  0.71  (erfc relative
 *                                                   to underflow; its
 *                                                   e^(-z^2) float-only)
 *   am_tanh(x)                     1.5 ulp   0.73  (float-only, below)
 *   am_sigmoid(x)                  1.5 ulp   0.96  (lean, below)
 *   am_log_sigmoid(x) am_softplus  1.5 ulp   0.95  0.96  (lean)
 *   am_gelu_erf(x) am_gelu_tanh(x)   2 ulp   1.00  0.97  (lean)
 *   am_mish(x)                       2 ulp   1.02  (lean)
 *   am_exp_dd(hi, lo)                1 ulp   0.52  e^(hi + lo)
 *   am_exp_dd_fast(hi, lo)           1 ulp   0.58  (float-only)
 *   am_exp_neg_lean(hi, lo)        1.5 ulp   0.95  e^(hi + lo), hi <= 0
 *                                                  (lean)
 *   am_mul_sigmoid(x, float2 v)    1.5 ulp   1.03  x sigmoid(v.x + v.y)
 *                                                  (lean)
 *   am_div(a, b)  am_sqrt(x)         1 ulp   0.50  0.50
 * (fma-free path: the same within 0.06, but erf 0.76, gelu_tanh 0.97,
 * mish 1.05, mul_sigmoid 1.36 - where a denormal result rounds twice.)
 * Helpers, exact or as commented: am_isnan, am_isinf, am_inf, am_nan,
 * am_copysign, am_ilogb, am_ldexp, am_ldexp_dd, am_fnma (an exact residual
 * c - a b, fused or not); double-float arithmetic on float2 (x = hi,
 * y = lo): am_f2, am_two_sum, am_fast_two_sum, am_two_prod, am_dd_add,
 * am_dd_add_f, am_dd_mul, am_dd_mul_f, am_dd_div.
 * Names ami_* are internal.
 *
 * The method throughout: reduce the argument exactly (Cody-Waite), take a
 * short float polynomial for the small correction terms only, and carry
 * the leading terms and every later step as an unevaluated double-float
 * pair (Knuth's two-sum, Dekker's fast-two-sum and product), rounding once
 * at the end - also into the denormal range (ami_ldexp2_dd).  Before that
 * rounding the results are within about 2^-27 relative of exact.
 * The float-only functions (am_tanh, am_erf, am_erfc,
 * am_expm1_neg_dd, am_exp_dd_fast; issue 9) keep the exact reduction and
 * the exact pairs where cancellation would amplify an error, but form the
 * polynomial part and the quotients in plain float with one correction
 * step: their error before the last rounding is below 1.4 2^-24 relative
 * (proved at each, measured above, and over every f32 input by `actc
 * verify --exhaustive`), which the 2-ulp contract leaves room for, and
 * they cost about half as many vector instructions.
 * The lean functions (issue 17: am_mul_sigmoid and so am_sigmoid and the
 * gelu tanh form, am_softplus, am_log_sigmoid, am_mish, am_gelu_erf,
 * am_exp_neg_lean; and the gradients of eltwise_bwd.cl's "lean forms")
 * go further: one reduction without an exact product (a 15-bit ln 2
 * high part), one polynomial for e^r - 1 as a single float
 * (ami_expm1_lean, within 0.77 2^-24 of e^r once 1 is added), exact pairs
 * only for the few sums and products whose rounding the op would
 * amplify, each quotient corrected once by its residual (ami_resid), and
 * the final product rounded once (ami_mul_round).  Each carries its error
 * budget - where each part of an ulp goes - beside its code; they take
 * 0.3-0.6 of the instructions of the float-only forms (bench/RESULTS.md,
 * "The sixth session").
 *
 * THE SUBSET.  This file is compiled both by OpenCL drivers (after
 * act_prelude_opencl.cl) and, after the GLSL prelude, by glslang for
 * Vulkan, so it keeps to what maps 1:1 onto GLSL 4.50:
 *   - plain functions (no static/inline/__kernel), each marked AM_INLINE
 *     and defined before use; parameters and results float, int, uint,
 *     bool, float2 only; no pointers, arrays, unions, recursion, goto or
 *     loops; no file-scope variables or constants;
 *   - float2 values are built only with am_f2(hi, lo) and read with .x/.y
 *     (no operators: OpenCL makes the pair a struct, act_prelude_opencl.cl);
 *     a float2 is never chosen by ?: or by branches (one return per
 *     float2 function; ?: per component instead): LLVM-based drivers do
 *     not vectorize a kernel across work-items with a float2 select or phi
 *     in it (PoCL: "instruction return type cannot be vectorized") - the
 *     struct makes that safe too, this keeps the code good for GPUs;
 *   - conversions only through convert_int(float), convert_uint(int),
 *     convert_float(int), always on in-range values, and the bit casts
 *     as_uint(float), as_float(uint) - no C casts, no implicit float->int;
 *   - built-ins: fma, fabs, rint (round half to even: GLSL roundEven),
 *     sqrt (in am_sqrt and act_common.cl's act_sqrt_sq_add only, whose
 *     results are corrected), and the /
 *     operator (every quotient is corrected by an exact residual, as
 *     OpenCL 1.2 and Vulkan both allow 2.5 ulp for it); nothing else - no
 *     min/max/exp/log/copysign/ldexp/isnan built-ins;
 *   - conditionals are ?: on scalar bool conditions; integer shifts only
 *     on non-negative values; int/uint literals as in C (0x...u);
 *   - decimal float literals with an f suffix, each denoting exactly the
 *     intended float (GLSL has no hexadecimal floats);
 *   - identifiers never contain "__" (reserved in GLSL);
 *   - preprocessor: #ifndef/#ifdef/#if/#define only (below).
 *
 * MACROS.  None needs to be passed; each has a default from
 * __OPENCL_VERSION__ (defined by every OpenCL C compiler, not by glslang):
 *   AM_PRECISE    empty in OpenCL C, `precise` elsewhere.  Marks the
 *                 values of the error-free transformations (and the few
 *                 other places where evaluation order matters), which
 *                 must be neither contracted nor reassociated: SPIR-V
 *                 NoContraction.  Without it Mesa, for one, rewrites
 *                 (x * 2^a) * 2^b as x * 2^(a+b).  OpenCL C never
 *                 reassociates and contracts only within one expression.
 *   AM_FMA_FUSED  1 in OpenCL C, whose fma() is correctly rounded; 0
 *                 elsewhere: SPIR-V's Fma may round like a multiply and
 *                 an add (lavapipe's does), so exact products are then
 *                 Dekker's with Veltkamp's split (|operands| < 2^115),
 *                 and plain fma() is only used where two roundings are
 *                 harmless (polynomials, small terms).  Either path gives
 *                 the bounds above; tests/math_cl_accuracy.c checks both,
 *                 the second with fma(a,b,c) replaced by an unfused a*b+c.
 * Nothing relies on contraction, and OpenCL C's default FP_CONTRACT ON
 * changes no result (the test also runs with it OFF).
 *
 * DENORMALS.  Intermediates never need them; denormal results are
 * produced, rounded once, where the device keeps denormals (PoCL and
 * lavapipe do).  Scaling by 2^k is done with exact power-of-two
 * multiplies (am_ldexp, ami_ldexp2), never a built-in.
 *
 * COEFFICIENTS.  Every polynomial is our own weighted minimax fit (Remez
 * exchange in mpmath, coefficients then fixed to float one at a time and
 * refitted) generated by gen/gen_math_coeffs.py beside this file, which
 * also prints the split constants (ln 2, 1/sqrt 2, 2 sqrt(2/pi), 0.044715,
 * and 1.702 for gelu_quick); the fitted function, interval and achieved
 * error are quoted at each use.  The erfc form (1 + 2z) e^(z^2) erfc(z) =
 * P((z - K)/(z + K)) is the transformation of W. F. Shepherd and J. G.
 * Laframboise, "Chebyshev approximation of (1 + 2x) exp(x^2) erfc x in
 * 0 <= x < infinity", Math. Comp. 36 (1981) 249-253; its coefficients are
 * ours too.
 */
#ifndef ACT_MATH_CL
#define ACT_MATH_CL

/* The qualifier that forbids contracting and reassociating a value's
 * operations: nothing to do in OpenCL C (which never reassociates and
 * does not contract across statements); GLSL's `precise` elsewhere
 * (SPIR-V NoContraction), without which Mesa, for one, reassociates
 * x * 2^a * 2^b and breaks the error-free transformations. */
#ifndef AM_PRECISE
#ifdef __OPENCL_VERSION__
#define AM_PRECISE
#else
#define AM_PRECISE precise
#endif
#endif

/* Every function here and in the kernel files is marked AM_INLINE:
 * always_inline in OpenCL C, nothing elsewhere.  An LLVM-based driver
 * (PoCL) vectorizes a kernel across work-items only if the work-item's
 * code has no calls left, and its inliner gives up on the larger
 * functions (am_mul_sigmoid, measured: cost 565 > threshold 562), which
 * left sigmoid, silu, tanh, gelu... scalar and 5-7x slower. */
#ifndef AM_INLINE
#ifdef __OPENCL_VERSION__
#define AM_INLINE __attribute__((always_inline))
#else
#define AM_INLINE
#endif
#endif

/* Whether fma() is a true fused multiply-add.  OpenCL requires it to be
 * correctly rounded (in software if need be); Vulkan does not (SPIR-V's
 * Fma may round like a multiply then an add, and lavapipe's does), so
 * elsewhere the default is the fma-free path: Dekker's product with
 * Veltkamp's split.  Both paths are exact; the fused one is faster. */
#ifndef AM_FMA_FUSED
#ifdef __OPENCL_VERSION__
#define AM_FMA_FUSED 1
#else
#define AM_FMA_FUSED 0
#endif
#endif

/* ------------------------------------------------------------------ */
/* Bits and classification.                                            */
/* ------------------------------------------------------------------ */

AM_INLINE
bool am_isnan(float x) { return (as_uint(x) & 0x7fffffffu) > 0x7f800000u; }

AM_INLINE
bool am_isinf(float x) { return (as_uint(x) & 0x7fffffffu) == 0x7f800000u; }

AM_INLINE float am_inf(void) { return as_float(0x7f800000u); }

AM_INLINE float am_nan(void) { return as_float(0x7fc00000u); }

/* |x| with the sign bit of s. */
AM_INLINE float am_copysign(float x, float s) {
  return as_float((as_uint(x) & 0x7fffffffu) | (as_uint(s) & 0x80000000u));
}

/* 2^k for -126 <= k <= 127 (exact, normal). */
AM_INLINE
float ami_pow2(int k) { return as_float(convert_uint(k + 127) << 23); }

/* x * 2^k for -252 <= k <= 252, as two power-of-two multiplies, by
 * 2^floor(k/2) then the rest.  For |x| near 1 the first is exact, so a
 * denormal result is rounded once and overflow happens exactly when
 * x * 2^k overflows; for other x the result is still right but for a
 * possible second rounding far below the final one. */
AM_INLINE float ami_ldexp2(float x, int k) {
  int k1 = ((k + 512) >> 1) - 256;
  AM_PRECISE float y = x * ami_pow2(k1);
  AM_PRECISE float z = y * ami_pow2(k - k1);
  return z;
}

/* x * 2^k for any finite x and any k (clamped to [-378, 378], which
 * covers every float result): beyond +-252 one multiply by 2^+-126 first,
 * then ami_ldexp2's balanced pair, so that the steps before the last stay
 * in the normal range whenever the result can be non-zero. */
AM_INLINE float am_ldexp(float x, int k) {
  int kc = k < -378 ? -378 : (k > 378 ? 378 : k);
  int s1 = kc < -252 ? -126 : (kc > 252 ? 126 : 0);
  AM_PRECISE float y = x * ami_pow2(s1);
  return ami_ldexp2(y, kc - s1);
}

/* ------------------------------------------------------------------ */
/* Double-float arithmetic: a float2 (x = hi, y = lo) stands for the    */
/* unevaluated sum hi + lo, with |lo| <= ulp(hi) once normalised.       */
/* ------------------------------------------------------------------ */

AM_INLINE float2 am_f2(float hi, float lo) {
  float2 r;
  r.x = hi;
  r.y = lo;
  return r;
}

/* Knuth's two-sum: s + e == a + b exactly, s = fl(a + b). */
AM_INLINE float2 am_two_sum(float a, float b) {
  AM_PRECISE float s = a + b;
  AM_PRECISE float bb = s - a;
  AM_PRECISE float e = (a - (s - bb)) + (b - bb);
  return am_f2(s, e);
}

/* Dekker's fast-two-sum: as am_two_sum when a == 0 or |a| >= |b|. */
AM_INLINE float2 am_fast_two_sum(float a, float b) {
  AM_PRECISE float s = a + b;
  AM_PRECISE float e = b - (s - a);
  return am_f2(s, e);
}

#if AM_FMA_FUSED
/* p + e == a * b exactly (barring underflow), p = fl(a * b). */
AM_INLINE float2 am_two_prod(float a, float b) {
  AM_PRECISE float p = a * b;
  AM_PRECISE float e = fma(a, b, -p);
  return am_f2(p, e);
}
#else
/* Veltkamp's split: hi + lo == a, each with at most 12 significant bits
 * (|a| < 2^115). */
AM_INLINE float2 ami_split(float a) {
  AM_PRECISE float c = 4097.0f * a;
  AM_PRECISE float hi = c - (c - a);
  AM_PRECISE float lo = a - hi;
  return am_f2(hi, lo);
}

/* p + e == a * b exactly (barring underflow), p = fl(a * b): Dekker's
 * product, every partial product exact. An operand above 2^100 is scaled
 * by 2^-64 first (exactly), so that neither the split (4097 a) nor the
 * partial products overflow while a * b is finite; e is scaled back. */
AM_INLINE float2 am_two_prod(float a, float b) {
  bool ba = fabs(a) > 1.267650600228229401496703205376e30f; /* 2^100 */
  bool bb = fabs(b) > 1.267650600228229401496703205376e30f;
  AM_PRECISE float as = ba ? a * 5.42101086242752217003726400434970855712890625e-20f : a;
  AM_PRECISE float bs = bb ? b * 5.42101086242752217003726400434970855712890625e-20f : b;
  float2 sa = ami_split(as);
  float2 sb = ami_split(bs);
  AM_PRECISE float p = a * b;
  AM_PRECISE float ps = as * bs;
  AM_PRECISE float e = (sa.x * sb.x - ps) + sa.x * sb.y;
  AM_PRECISE float e2 = (e + sa.y * sb.x) + sa.y * sb.y;
  AM_PRECISE float e3 = ba ? e2 * 18446744073709551616.0f : e2; /* 2^64 */
  AM_PRECISE float e4 = bb ? e3 * 18446744073709551616.0f : e3;
  return am_f2(p, am_isinf(p) ? 0.0f : e4);
}
#endif

/* c - a * b, rounded once, for c close to a * b (within a factor 2, as in
 * every residual and reduction it is used for): one fma when fused, else
 * c - p.x (exact by Sterbenz) - p.y with p = a * b exactly.  Kernels
 * should use this (or am_two_prod) rather than fma(-a, b, c) wherever the
 * fusion matters, since Vulkan's fma() may round twice. */
AM_INLINE float am_fnma(float a, float b, float c) {
#if AM_FMA_FUSED
  return fma(-a, b, c);
#else
  float2 p = am_two_prod(a, b);
  AM_PRECISE float d = (c - p.x) - p.y;
  return d;
#endif
}

/* a + b for a double-float a and a float b (relative error ~2^-44). */
AM_INLINE float2 am_dd_add_f(float2 a, float b) {
  float2 s = am_two_sum(a.x, b);
  return am_fast_two_sum(s.x, s.y + a.y);
}

/* a + b, accurate even under cancellation (relative error ~2^-44). */
AM_INLINE float2 am_dd_add(float2 a, float2 b) {
  float2 s = am_two_sum(a.x, b.x);
  float2 t = am_two_sum(a.y, b.y);
  s = am_fast_two_sum(s.x, s.y + t.x);
  return am_fast_two_sum(s.x, s.y + t.y);
}

/* a * b for a double-float a and a float b. */
AM_INLINE float2 am_dd_mul_f(float2 a, float b) {
  float2 p = am_two_prod(a.x, b);
  return am_fast_two_sum(p.x, fma(a.y, b, p.y));
}

/* a * b (relative error ~2^-44). */
AM_INLINE float2 am_dd_mul(float2 a, float2 b) {
  float2 p = am_two_prod(a.x, b.x);
  float lo = fma(a.x, b.y, p.y);
  lo = fma(a.y, b.x, lo);
  return am_fast_two_sum(p.x, lo);
}

/* a / b, b != 0 (relative error ~2^-44).  The first quotient may be a few
 * ulps off (OpenCL/Vulkan division); the fma residual corrects it. */
AM_INLINE float2 am_dd_div(float2 a, float2 b) {
  float q0 = a.x / b.x;
  float r = am_fnma(q0, b.x, a.x);
  r = r + a.y;
  r = fma(-q0, b.y, r);
  return am_fast_two_sum(q0, r / b.x);
}

/* (v.x + v.y) * 2^k rounded once, also when the result is denormal, for
 * a normalised v and |k| <= 252.  A normal result is fl(v.x + v.y) scaled
 * exactly.  Below 2^-125, where the result's ulp is 2^-149, that would
 * round twice; there y1 = v.x scaled and rounded onto that grid, and what
 * it dropped, v.x - y1 2^-k (exact), plus v.y, scaled and rounded onto
 * the same grid, is added back: y1 + rnd(d) = rnd(y1 + d) as y1 is on the
 * grid. */
AM_INLINE float ami_ldexp2_dd(float2 v, int k) {
  float y1 = ami_ldexp2(v.x, k);
  AM_PRECISE float res = (v.x - ami_ldexp2(y1, -k)) + v.y;
  AM_PRECISE float yd = y1 + ami_ldexp2(res, k);
  float yn = ami_ldexp2(v.x + v.y, k);
  return fabs(y1) < 2.350988701644575e-38f ? yd : yn;
}

/* As ami_ldexp2_dd for any k (clamped to [-378, 378]).  Each scaling is
 * am_ldexp's (by 2^s1, then ami_ldexp2), with the clamp and s1 computed
 * once for k and negated for -k: the same values as four am_ldexp calls,
 * but without two clamps side by side, which LLVM's SLP vectorizer
 * paired into a 2-lane vector that then kept PoCL from vectorizing the
 * kernel across work-items. */
AM_INLINE float am_ldexp_dd(float2 v, int k) {
  int kc = k < -378 ? -378 : (k > 378 ? 378 : k);
  int s1 = kc < -252 ? -126 : (kc > 252 ? 126 : 0);
  float up = ami_pow2(s1), down = ami_pow2(-s1);
  AM_PRECISE float vx = v.x * up;
  float y1 = ami_ldexp2(vx, kc - s1);
  AM_PRECISE float y1s = y1 * down;
  AM_PRECISE float res = (v.x - ami_ldexp2(y1s, s1 - kc)) + v.y;
  AM_PRECISE float rs = res * up;
  AM_PRECISE float yd = y1 + ami_ldexp2(rs, kc - s1);
  AM_PRECISE float vs = v.x + v.y;
  AM_PRECISE float ss = vs * up;
  float yn = ami_ldexp2(ss, kc - s1);
  return fabs(y1) < 2.350988701644575e-38f ? yd : yn;
}

/* ------------------------------------------------------------------ */
/* Division and square root, correctly rounded but for rare near-ties */
/* (OpenCL 1.2 and Vulkan allow 2.5 and 3 ulp for the operators).      */
/* ------------------------------------------------------------------ */

/* The exponent e of a finite non-zero x (denormals included): |x| 2^-e is
 * in [1, 2).  Zero gives -150, inf and NaN 128. */
AM_INLINE int am_ilogb(float x) {
  float ax = fabs(x);
  bool sub = ax < 1.1754943508222875e-38f;
  float xs = sub ? ax * 8388608.0f : ax;
  return convert_int(as_uint(xs) >> 23) - (sub ? 150 : 127);
}

/* a / b, correctly rounded but for rare near-ties, for any floats.  Both
 * operands are first scaled exactly into [1, 2), so that the driver's
 * quotient (any accuracy within a few ulps) can be corrected by one fma
 * residual step without the residual or the correction underflowing; the
 * exponent is put back with one rounding (denormal results included).
 * Zero, infinite and NaN operands give the driver's a / b. */
AM_INLINE float am_div(float a, float b) {
  int ea = am_ilogb(a);
  /* eb is b's exponent; the added 0 * (a finite value) makes it depend on
   * ea, and b is brought into [1, 2) through its bits while a is scaled
   * by powers of two: so LLVM's SLP vectorizer finds no two isomorphic
   * computations to pair into a 2-lane vector, which kept PoCL from
   * vectorizing whole kernels across work-items.  (0 * y is not folded:
   * it is not 0 for every float y, and nothing here allows that.) */
  int eb = am_ilogb(b + 0.0f * as_float(convert_uint(ea & 255)));
  bool plain = a == 0.0f || b == 0.0f || ea > 127 || eb > 127;
  float as = ami_ldexp2(a, plain ? 0 : -ea);
  float bn = fabs(b) < 1.1754943508222875e-38f ? b * 8388608.0f : b;
  float bs = as_float((as_uint(bn) & 0x807fffffu) | 0x3f800000u);
  bs = plain ? b : bs;
  float q = as / bs;
  float r = am_fnma(q, bs, as);
  float y = am_ldexp_dd(am_fast_two_sum(q, r / bs), ea - eb);
  return plain ? a / b : y;
}

/* sqrt(x): the driver's square root, corrected by one Newton step
 * s + (x - s^2) / (2s) with an exact residual, rounded once.  x is scaled
 * by 2^64 below 2^-100 (so the residual does not underflow) and by 2^-64
 * above 2^100 (so s^2 cannot overflow without a fused fma). */
AM_INLINE float am_sqrt(float x) {
  bool tiny = x < 7.888609052210118e-31f;
  bool huge = x > 1.2676506002282294e+30f;
  float xs = x * (tiny ? 1.8446744073709552e+19f
                       : (huge ? 5.421010862427522e-20f : 1.0f));
  float s = sqrt(xs);
  float r = am_fnma(s, s, xs);
  float y = fma(r, 0.5f / s, s);
  y = (s > 0.0f && !am_isinf(s)) ? y : s;
  return y * (tiny ? 2.3283064365386963e-10f : (huge ? 4294967296.0f : 1.0f));
}

/* ------------------------------------------------------------------ */
/* exp core.                                                            */
/* ------------------------------------------------------------------ */

/* k = the integer nearest h / ln 2, as a float; h finite, |h| < 400.
 * Rounded by adding and subtracting 1.5 2^23 (exact for |v| < 2^22, ties
 * to even), not by rint(): PoCL expands rint into ~35 vector instructions
 * (a float->int->float round trip and its fix-ups), which was a quarter
 * of sigmoid's vectorized loop.  Whether h / ln 2 is rounded first (or
 * contracted into the add) changes k only at half-way points, where
 * either neighbour keeps the reduced argument within the polynomials'
 * interval (|r| <= ln 2 / 2 + 2^-20). */
AM_INLINE float ami_exp_kf(float h) {
  AM_PRECISE float t = h * 1.4426950216293335f + 12582912.0f;
  AM_PRECISE float k = t - 12582912.0f;
  return k;
}

/* The reduced argument r = h + l - kf ln 2 as the exact pair (r, rt)
 * (see ami_expm1_red), shared by the two expm1 cores. */
AM_INLINE float2 ami_exp_reduce(float h, float l, float kf) {
  float r1 = am_fnma(kf, 0.6931471824645996f, h);
  return am_two_sum(r1, fma(-kf, -1.9046542121259336e-09f, l));
}

/* C(r) = (e^r - 1 - r - r^2/2) / r^3 on [-0.35, 0.35] (see
 * ami_expm1_red), shared by the two expm1 cores. */
AM_INLINE float ami_exp_c(float r) {
  float c = 2.482689706084784e-05f;
  c = fma(c, r, 0.00019891942793037742f);
  c = fma(c, r, 0.0013888904359191656f);
  c = fma(c, r, 0.00833331048488617f);
  c = fma(c, r, 0.0416666679084301f);
  return fma(c, r, 0.1666666716337204f);
}

/* p = e^(h + l - kf ln 2) - 1 as a double-float, for kf = ami_exp_kf(h)
 * and |l| <= 2^-16, |kf| <= 400; |p| <= 0.42, relative error ~2^-29.
 *
 * Cody-Waite: ln 2 = L1 + L2 + ..., L1 = fl(ln 2).  h - kf L1 is exact
 * (am_fnma): it is below 0.5 and a multiple of ulp(h) or of 2^-24 (the
 * ulp of L1), so it needs at most 24 bits.  l - kf L2 (below 2^-15) is added
 * with a two-sum, giving r = rh + rt with |rt| <= 2^-25 |rh|.  Then
 * e^rh - 1 = rh + rh^2/2 + rh^3 C(rh): rh and rh^2/2 exactly
 * (two-product), C(r) = (e^r - 1 - r - r^2/2) / r^3 a degree-5 minimax
 * polynomial on [-0.35, 0.35] (relative error 3.0e-8, gen_math_coeffs.py
 * "EXP"), whose rounding is scaled by rh^3/6 < 0.0072; rt is applied to
 * first order, rt e^rh ~ rt (1 + rh + rh^2/2). */
AM_INLINE float2 ami_expm1_red(float h, float l, float kf) {
  float2 rr = ami_exp_reduce(h, l, kf);
  float r = rr.x;
  float2 s = am_two_prod(r, r);
  float c = ami_exp_c(r);
  float t = (r * s.x) * c;
  float2 a = am_fast_two_sum(r, 0.5f * s.x);
  float lo = a.y + fma(0.5f, s.y, t);
  lo = lo + fma(rr.y, a.x, rr.y);
  return am_fast_two_sum(a.x, lo);
}

/* The float-only form of ami_expm1_red, for the functions whose bound
 * leaves room for it (am_tanh, ami_expm1_neg_dd, am_exp_dd_fast): p =
 * e^(h + l - kf ln 2) - 1 as the unevaluated pair (r, lo), p = r + lo,
 * with no exact product.  The reduction is the same (r1 exact, the rest
 * added with a two-sum, r + rt); then e^r - 1 = r + r^2 (1/2 + r C(r)),
 * C the same polynomial, and the small part lo = r^2 (1/2 + r C) + rt (1
 * + r) is plain float arithmetic: |lo| <= 0.21 |r| and its error is below
 * 4 roundings of lo (s = r^2, the bracket, the fma, and rt's term), so
 * the pair is e^r - 1 within 2^-22 |lo| <= 0.9 2^-24 |r|.  Against
 * e^r itself (>= 0.707) that is below 0.44 2^-24; against e^r - 1 below
 * 1.1 2^-24 (|r + lo| >= 0.8 |r| for r <= 0). */
AM_INLINE float2 ami_expm1_fast(float h, float l, float kf) {
  float2 rr = ami_exp_reduce(h, l, kf);
  float r = rr.x;
  float c = ami_exp_c(r);
  float s = r * r;
  float lo = fma(s, fma(r, c, 0.5f), fma(rr.y, r, rr.y));
  return am_f2(r, lo);
}

/* 1 + p as a normalised double-float, for p = e^r - 1 from an expm1
 * core: e^r. */
AM_INLINE float2 ami_one_plus(float2 p) {
  float2 m = am_fast_two_sum(1.0f, p.x);
  return am_fast_two_sum(m.x, m.y + p.y);
}

/* (nh + nl) / (dh + dl) as the unevaluated pair (q0, ql), for |dl| and
 * |nl| small against dh and nh: the driver's reciprocal of dh (any
 * accuracy within a few ulps) times nh, corrected once by the exact
 * residual nh - q0 dh (am_fnma) with both low parts; within ~2^-40 of
 * the quotient of the pairs.  One division (am_dd_div takes two). */
AM_INLINE float2 ami_div_rc(float nh, float nl, float dh, float dl) {
  float rc = 1.0f / dh;
  AM_PRECISE float q0 = nh * rc;
  AM_PRECISE float res = am_fnma(q0, dh, nh) + nl;
  res = fma(-q0, dl, res);
  AM_PRECISE float ql = res * rc;
  return am_f2(q0, ql);
}

/* Clamps h to [lo, hi]; a NaN becomes lo (callers restore NaN at the end). */
AM_INLINE float ami_clampf(float h, float lo, float hi) {
  float c = h > hi ? hi : h;
  return c >= lo ? c : lo;
}

/* e^x, <= 1 ulp (correctly rounded but for ~2^-28 ulp, denormal results
 * included). */
AM_INLINE float am_exp(float x) {
  float xc = ami_clampf(x, -110.0f, 90.0f);
  float kf = ami_exp_kf(xc);
  float2 p = ami_expm1_red(xc, 0.0f, kf);
  float2 m = ami_one_plus(p);
  float y = ami_ldexp2_dd(m, convert_int(kf));
  return am_isnan(x) ? x : y;
}

/* e^(hi + lo) for a double-float argument, by ami_expm1_red, or by the
 * float-only ami_expm1_fast when `fast` (a constant at every call, so
 * the other one is folded away).  (hi, lo) need not be normalised, but
 * |lo| must be small enough that hi + lo is not dominated by lo beyond
 * float range (any |lo| <= |hi| is fine).  NaN operands give NaN through
 * two selects: a short-circuit || became a branch that kept PoCL from
 * vectorizing softmax's sum. */
AM_INLINE float ami_exp_pair(float hi, float lo, bool fast) {
  float2 a = am_two_sum(hi, lo);
  bool outside = !(a.x >= -110.0f && a.x <= 90.0f);
  float h = ami_clampf(a.x, -110.0f, 90.0f);
  float l = outside ? 0.0f : a.y;
  float kf = ami_exp_kf(h);
  float2 pf = ami_expm1_fast(h, l, kf);
  float2 pr = ami_expm1_red(h, l, kf);
  float px = fast ? pf.x : pr.x;
  float py = fast ? pf.y : pr.y;
  float2 m = am_fast_two_sum(1.0f, px);
  m = am_fast_two_sum(m.x, m.y + py);
  float y = ami_ldexp2_dd(m, convert_int(kf));
  float yn = am_isnan(lo) ? lo : y;
  return am_isnan(hi) ? hi : yn;
}

/* e^(hi + lo), <= 1 ulp (0.52 measured). */
AM_INLINE float am_exp_dd(float hi, float lo) {
  return ami_exp_pair(hi, lo, false);
}

/* e^(hi + lo) as am_exp_dd, float-only: <= 1 ulp still (m = 1 + p is
 * within 0.44 2^-24 of e^r before the one rounding, 0.94 ulp in all;
 * 0.61 measured), for callers whose own bound has that room (softmax's
 * e^(x - max)). */
AM_INLINE float am_exp_dd_fast(float hi, float lo) {
  return ami_exp_pair(hi, lo, true);
}

/* e^x - 1, <= 1 ulp.  With x = k ln 2 + r: e^x - 1 = 2^k ((1 - 2^-k) + p),
 * p = e^r - 1; the bracket is summed as a double-float (1 - 2^-k is exact
 * as a pair) and rounded once; the scaling is exact. */
AM_INLINE float am_expm1(float x) {
  float xc = ami_clampf(x, -30.0f, 90.0f);
  float kf = ami_exp_kf(xc);
  int k = convert_int(kf);
  float2 p = ami_expm1_red(xc, 0.0f, kf);
  float pk = ami_pow2(k > 100 ? -100 : -k);
  float2 a = am_two_sum(1.0f, -pk);
  float2 b = am_two_sum(a.x, p.x);
  float w = b.x + ((a.y + b.y) + p.y);
  float y = ami_ldexp2(w, k);
  y = (x == 0.0f) ? x : y;
  return am_isnan(x) ? x : y;
}

/* e^x - 1 for x <= 0 as a double-float (hi, lo), in float arithmetic:
 * (2^k - 1) + 2^k p, p = e^r - 1 = (r, lo) from ami_expm1_fast; 2^k - 1
 * is an exact pair and 2^k r exact, so the only error is
 * ami_expm1_fast's, below 1.1 2^-24 of the result (also for tiny x: for
 * k = 0 the result is p itself, no cancellation).  x is clamped to
 * [-30, 0] (below, e^x - 1 is -1 to 2^-43); NaN gives -1 (callers
 * restore it); x = -0 gives -0. */
AM_INLINE float2 am_expm1_neg_dd(float x) {
  float xc = ami_clampf(x, -30.0f, 0.0f);
  float kf = ami_exp_kf(xc);
  float2 p = ami_expm1_fast(xc, 0.0f, kf);
  float sk = ami_pow2(convert_int(kf));
  float2 c = am_fast_two_sum(-1.0f, sk);
  AM_PRECISE float skr = sk * p.x;
  float2 b = am_two_sum(c.x, skr);
  AM_PRECISE float blo = b.y + fma(sk, p.y, c.y);
  float2 e = am_fast_two_sum(b.x, blo);
  return am_f2(x == 0.0f ? x : e.x, x == 0.0f ? 0.0f : e.y);
}

/* ------------------------------------------------------------------ */
/* log core.                                                            */
/* ------------------------------------------------------------------ */

/* log1p(fh + fl) as a double-float, for fh in [sqrt(1/2) - 1, sqrt 2 - 1]
 * and |fl| <= 2^-23 (relative error ~2^-29).
 *
 * log1p(f) = 2 atanh(q/2) = q + q^3 S(q^2) with q = 2F/(2 + F), F = fh +
 * fl, |q| <= 0.3432.  F is first renormalised (fast-two-sum: |fl| <=
 * |fh|/2 or fh = 0), so that fl is below ulp(fh) and the high part of q
 * carries the result.  q is formed as a double-float: q0 = fl(2fh/(2+fh))
 * (any quotient within a few ulps), then the residual 2F - q0 (2 + F),
 * which is exact to first order (fh - q0 is exact by Sterbenz: q0/fh is
 * in [0.8, 1.2]), divided by 2 + F taken as a double-float too - when
 * fh = 0 the low part is the whole result (log1p of a tiny value), so its
 * divisor must keep fl.  S(w) = sum_{j>=1} w^(j-1) / (4^j (2j+1)) is a
 * degree-4 minimax polynomial on [0, 0.118] (relative error 3.0e-8,
 * gen_math_coeffs.py "LOG"), scaled in the result by q^2 S < 0.01. */
AM_INLINE float2 ami_log1p_red(float fh0, float fl0) {
  float2 f = am_fast_two_sum(fh0, fl0);
  float fh = f.x;
  float fl = f.y;
  float2 d = am_fast_two_sum(2.0f, fh);
  float dl = d.y + fl;
  float q = (2.0f * fh) / d.x;
  float r = am_fnma(q, fh, 2.0f * (fh - q));
  r = fma(fl, 2.0f - q, r);
  float ql = r / d.x;
  ql = fma(-ql, dl / d.x, ql);
  float w = q * q;
  float sp = 9.45594219956547e-05f;
  sp = fma(sp, w, 0.0004334225959610194f);
  sp = fma(sp, w, 0.0022321685682982206f);
  sp = fma(sp, w, 0.01249999925494194f);
  sp = fma(sp, w, 0.0833333358168602f);
  float t = (q * w) * sp;
  return am_fast_two_sum(q, ql + t);
}

/* ef ln 2 + log1p(fh + fl) as a double-float (fh, fl as for
 * ami_log1p_red; ef an integer, |ef| <= 256).  ln 2 is split with a
 * 16-bit high part so that ef ln2_hi is exact. */
AM_INLINE float2 ami_log1p_e(float fh, float fl, float ef) {
  float2 lg = ami_log1p_red(fh, fl);
  float2 h = am_fast_two_sum(ef * 0.693145751953125f, lg.x);
  return am_fast_two_sum(h.x, h.y + fma(ef, 1.428606765330187e-06f, lg.y));
}

/* log(uh + ul) + eadj ln 2 as a double-float, for a positive normal
 * finite uh and |ul| <= ulp(uh)/2.  uh = 2^e m with m in [sqrt(1/2),
 * sqrt 2) (from the bits: adding 1 - sqrt(1/2) in the mantissa field
 * carries into the exponent exactly when m >= sqrt 2); f = m - 1 is
 * exact. */
AM_INLINE float2 ami_log_dd(float uh, float ul, float eadj) {
  uint u2 = as_uint(uh) + 0x004afb0du;
  int e = convert_int(u2 >> 23) - 127;
  float m = as_float((u2 & 0x007fffffu) + 0x3f3504f3u);
  float fl = ul * ami_pow2(e > 126 ? -126 : -e);
  return ami_log1p_e(m - 1.0f, fl, convert_float(e) + eadj);
}

/* log(x), <= 1 ulp.  Denormal x are scaled by 2^23 first. */
AM_INLINE float am_log(float x) {
  bool sub = x < 1.1754943508222875e-38f;
  float xs = sub ? x * 8388608.0f : x;
  xs = (xs > 0.0f && !am_isinf(xs)) ? xs : 1.0f;
  float2 lg = ami_log_dd(xs, 0.0f, sub ? -23.0f : 0.0f);
  float y = lg.x + lg.y;
  y = (x == 0.0f) ? -am_inf() : y;
  y = (x < 0.0f) ? am_nan() : y;
  y = (x == am_inf()) ? x : y;
  return am_isnan(x) ? x : y;
}

/* log(1 + x), <= 1 ulp.  1 + x is formed exactly as a double-float and fed
 * to the log core, so tiny x come out exact (log1p(x) = x) and no range
 * needs its own polynomial. */
AM_INLINE float am_log1p(float x) {
  float2 u = am_two_sum(1.0f, x);
  bool ok = u.x > 0.0f && !am_isinf(u.x);
  float2 lg = ami_log_dd(ok ? u.x : 1.0f, ok ? u.y : 0.0f, 0.0f);
  float y = lg.x + lg.y;
  y = (x == -1.0f) ? -am_inf() : y;
  y = (x < -1.0f) ? am_nan() : y;
  y = (x == am_inf()) ? x : y;
  y = (x == 0.0f) ? x : y;
  return am_isnan(x) ? x : y;
}

/* ------------------------------------------------------------------ */
/* tanh, sigmoid, softplus.                                             */
/* ------------------------------------------------------------------ */

/* tanh(a) for a = |x| as a double-float: -E / (2 + E), E = e^(-2a) - 1 as
 * a double-float (no cancellation anywhere, no overflow: a is clamped to
 * 10, past which tanh rounds to 1). Shared by tanh and tanh_shrink's
 * derivative (eltwise_bwd.cl). */
AM_INLINE float2 am_tanh_abs_dd(float xa) {
  float ax = ami_clampf(xa, 0.0f, 10.0f);
  float h = -2.0f * ax;
  float kf = ami_exp_kf(h);
  int k = convert_int(kf);
  float2 p = ami_expm1_red(h, 0.0f, kf);
  float2 a = am_two_sum(1.0f, -ami_pow2(-k));
  float2 b = am_two_sum(a.x, p.x);
  float2 w = am_fast_two_sum(b.x, (a.y + b.y) + p.y);
  float sk = ami_pow2(k);
  float2 em = am_f2(w.x * sk, w.y * sk);
  float2 den = am_fast_two_sum(2.0f, em.x);
  den = am_fast_two_sum(den.x, den.y + em.y);
  return am_dd_div(am_f2(-em.x, -em.y), den);
}

/* tanh(x), <= 1.5 ulp, in float arithmetic (no double-float product):
 * tanh|x| = -E / (2 + E), E = e^(-2|x|) - 1 from am_expm1_neg_dd, a pair
 * within 1.1 2^-24 |E| (no error from cancellation, also for tiny x).  The quotient's
 * sensitivity to E is 2/(2 + E) <= 1.2 where that error matters (k = 0),
 * and less elsewhere; the quotient is the driver's reciprocal times -E,
 * corrected once by an exact residual that includes both low parts, and
 * rounded once.  |x| is clamped to 10, past which tanh rounds to 1. */
AM_INLINE float am_tanh(float x) {
  float2 e = am_expm1_neg_dd(-2.0f * ami_clampf(fabs(x), 0.0f, 10.0f));
  float2 den = am_fast_two_sum(2.0f, e.x);
  AM_PRECISE float dl = den.y + e.y;
  float2 q = ami_div_rc(-e.x, -e.y, den.x, dl);
  float y = am_copysign(q.x + q.y, x);
  return am_isnan(x) ? x : y;
}

/* ------------------------------------------------------------------ */
/* The lean exp core (issue 17): one float polynomial, no pairs inside. */
/* ------------------------------------------------------------------ */

/* p = e^r - 1 as one float, for r = h + l - kf ln 2, kf = ami_exp_kf(h),
 * |kf| < 2^9, |l| <= 2^-20 |h| or |l| <= 2^-30; so that e^(h + l) =
 * 2^kf (1 + p).  The sigmoid family (am_mul_sigmoid) and softplus build on
 * it; where the pair m = 1 + p is used unevaluated, its relative error
 * against e^r is below 0.77 u (u = 2^-24), budgeted here.
 *
 * Reduction, Cody-Waite with two constants: ln 2 = C1 + C2 + C3, C1 =
 * 0.693145751953125 with 15 significant bits, so that kf C1 is exact in a
 * plain multiply (|kf| < 2^9) - no fma is needed, and the fma-free path
 * (Vulkan) costs the same; h - kf C1 is exact (Sterbenz: for kf != 0,
 * h / (kf C1) is in [1/2, 3/2]); r = that + (l - kf C2) is rounded once,
 * |r| <= 0.347, an error below 2^-26 absolute: 0.25 u relative to e^r.
 * C3 = 5.5e-14 is dropped (|kf C3| < 2^-34).
 *
 * e^r - 1 = r + r^2 H(r), H(r) = (e^r - 1 - r) / r^2 a degree-5 minimax
 * polynomial on [-0.35, 0.35] (relative error 1.05e-8 with its float
 * coefficients, gen_math_coeffs.py "EXPH"); p = fma(r^2, H, r).  H is
 * evaluated in Estrin's form, H = E + s F, E = 1/2 + c1 r, F = (c2 + c3
 * r) + s (c4 + c5 r), s = r^2: the same seven operations as Horner's, but
 * a dependency chain of four instead of six (the kernels are bound by the
 * latency of their chains: bench/RESULTS.md, "The eighth session").  Its
 * two roundings that matter, E's and H's, are each ulp(H)/2: for r < 0 (H
 * < 1/2) 2^-26 each, together the 2^-25 budgeted below; for r >= 0 up
 * to 2^-24, but there m >= 1 and p's rounding is at most 2^-26, and that
 * side totals < 0.68 u.
 * Budget for m = 1 + p against e^r, relative (m in [0.707, 1.415]):
 *   r's rounding                                   0.25 u
 *   p's rounding, ulp(p)/2 = 2^-26 over m >= 0.707  0.36 u
 *   r^2's rounding, times H <= 0.56, over m        0.05 u
 *   H's roundings (2^-25 together), times r^2      0.09 u
 *   H's fit, times r^2 H / m                       0.02 u
 *                                          total < 0.77 u
 * (fma-free: r^2 H is rounded before the add, below 0.06 u more.) */
AM_INLINE float ami_expm1_lean(float h, float l, float kf) {
  AM_PRECISE float r1 = h - kf * 0.693145751953125f;
  AM_PRECISE float r = r1 + (l - kf * 1.428606765330187e-06f);
  float s = r * r;
  float a = fma(0.00019858128507621586f, r, 0.0013934486778452992f);
  float b = fma(0.008333361707627773f, r, 0.041666459292173386f);
  float e = fma(0.1666666716337204f, r, 0.5f);
  float f = fma(a, s, b);
  float c = fma(f, s, e);
  return fma(s, c, r);
}

/* e^(h + l) for h <= 0 (|l| <= 2^-20 |h|, or |l| <= 2^-30), rounded once
 * also where the result is denormal: <= 1.5 ulp (1.27: ami_expm1_lean's
 * 0.77 u and the rounding), for the softmax family's e^(x - max).  2^k
 * is a normal float for k >= -126 and the exact denormal 2^k below (down
 * to 2^-149), so y = fma(2^k, p, 2^k) rounds once; k < -149 (h < -103.6)
 * gives 0, within an ulp of e^h <= 2^-149.  NaN h gives a number (callers
 * handle NaN). */
AM_INLINE float am_exp_neg_lean(float h, float l) {
  bool beyond = !(h >= -104.0f);
  float hc = beyond ? -104.0f : (h < 0.0f ? h : 0.0f);
  float kf = ami_exp_kf(hc);
  int k = convert_int(kf);
  float p = ami_expm1_lean(hc, beyond ? 0.0f : l, kf);
  uint kb = k < -149 ? 0u : convert_uint(k + 149);
  uint bits = k >= -126 ? convert_uint(k + 127) << 23 : (1u << kb);
  float sk = as_float(k < -149 ? 0u : bits);
  return fma(sk, p, sk);
}

/* x (q0 + ql) rounded once (but for the tiny low terms), for q0 from
 * ami_cut12 and |ql| <= 2^-11 |q0|: fma(x, q0, x ql) where fma is
 * fused; elsewhere x is split into 12-bit halves, so that both partial
 * products with the 12-bit q0 are exact, and only the last add rounds
 * (tiny x scaled by 2^64 around it).
 * ami_fma_pair(a, b, c): a b + c as a pair (hi, lo) for |c| >= |a b|
 * (roughly): fused, hi = fma(a, b, c) and lo = fma(a, b, c - hi) (c - hi
 * is exact by Sterbenz; lo is hi's error to 2^-24 of itself); elsewhere
 * Dekker's exact product and a fast-two-sum. */
#if AM_FMA_FUSED
AM_INLINE float ami_mul_round(float x, float q0, float ql) {
  AM_PRECISE float xq = x * ql;
  AM_PRECISE float y = fma(x, q0, xq);
  return y;
}
AM_INLINE float2 ami_fma_pair(float a, float b, float c) {
  AM_PRECISE float hi = fma(a, b, c);
  AM_PRECISE float lo = fma(a, b, c - hi);
  return am_f2(hi, lo);
}
#else
AM_INLINE float ami_mul_round(float x, float q0, float ql) {
  /* tiny x scaled by 2^64 first, so that the partial products do not
   * underflow (the scaling back rounds once, where y is denormal) */
  bool tiny = fabs(x) < 7.8886090522101181e-31f; /* 2^-100 */
  AM_PRECISE float xs = tiny ? x * 18446744073709551616.0f : x;
  float xh = as_float(as_uint(xs) & 0xfffff000u);
  AM_PRECISE float xl = xs - xh;
  AM_PRECISE float lo = xl * q0 + xs * ql;
  AM_PRECISE float y = xh * q0 + lo;
  AM_PRECISE float yb = y * (tiny ? 5.42101086242752217003726400434970855712890625e-20f : 1.0f);
  return am_isinf(x) ? x * q0 : yb;
}
AM_INLINE float2 ami_fma_pair(float a, float b, float c) {
  float2 p = am_two_prod(a, b);
  float2 s = am_fast_two_sum(c, p.x);
  AM_PRECISE float lo = s.y + p.y;
  return am_f2(s.x, lo);
}
#endif

/* x (h + l) rounded once (but for x l's rounding), any h: ami_mul_round
 * without its 12-bit condition (Dekker's product where fma is not
 * fused). */
AM_INLINE float ami_mul_pair_round(float x, float h, float l) {
#if AM_FMA_FUSED
  AM_PRECISE float xl = x * l;
  AM_PRECISE float y = fma(x, h, xl);
#else
  float2 p = am_two_prod(x, h);
  AM_PRECISE float y = p.x + (p.y + x * l);
#endif
  return y;
}

/* n - q0 (d + dl) + nl, the residual of a quotient q0 ~ (n + nl) / (d +
 * dl) for d in [1, 2] and |dl|, |nl| tiny, with n - q0 d formed exactly:
 * one fma where fma is fused; elsewhere q0 comes cut to 12 significant
 * bits (ami_cut12) and d is split into 12-bit halves, so each partial
 * product is exact in a plain multiply and n - q0 dh is exact by Sterbenz
 * - four operations instead of Dekker's product.  The low terms are
 * rounded (they are 2^-11 of n or below: their roundings are 2^-35), and
 * summed beside r0 rather than after it: one step less in the chain of
 * dependent operations that bounds the kernels' speed. */
#if AM_FMA_FUSED
AM_INLINE float ami_cut12(float q) { return q; }
AM_INLINE float ami_resid(float n, float nl, float q0, float d, float dl) {
  AM_PRECISE float r0 = fma(-q0, d, n);
  AM_PRECISE float r1 = fma(-q0, dl, nl);
  AM_PRECISE float r = r0 + r1;
  return r;
}
#else
AM_INLINE float ami_cut12(float q) {
  return as_float(as_uint(q) & 0xfffff000u);
}
AM_INLINE float ami_resid(float n, float nl, float q0, float d, float dl) {
  float dh = ami_cut12(d);
  AM_PRECISE float r0 = (n - q0 * dh) - q0 * (d - dh);
  AM_PRECISE float r1 = nl - q0 * dl;
  AM_PRECISE float r = r0 + r1;
  return r;
}
#endif

/* t = e^(ah + al) for ah in [-202, 0] (callers clamp; |al| as for
 * ami_expm1_lean), as the exact pair th + tl (x, y) of t 2^j that the lean ops
 * share: t = 2^k (1 + p) (ami_expm1_lean), tp = 2^(k+j) p exact, th =
 * fl(2^(k+j) + tp) and tl by Dekker's fast-two-sum (|tp| < 2^(k+j)).  tp
 * must not underflow (its rounding there would be up to 2^-150, a whole
 * u against 2^-126): for k < -100 (ah < -69.3) t is formed scaled by 2^j,
 * j the least multiple of 64 with k + j >= -100 (at most 192), and the
 * caller scales its result back by the third component (z), 2^(-j/2)
 * (1 where j = 0), twice: two exact multiplies, the second rounding only
 * where the result is denormal.  The scaled t is then at most 2^-36:
 * left in a sum such as 1 + t it costs below 2^-36.  kf =
 * ami_exp_kf(ah), computed by the caller (which needs it too). */
AM_INLINE int ami_exp_t_j(int k) {
  return k < -100 ? ((-37 - k) >> 6) << 6 : 0;
}
AM_INLINE float3 ami_exp_t(float ah, float al, float kf) {
  int k = convert_int(kf);
  int j = ami_exp_t_j(k);
  float p = ami_expm1_lean(ah, al, kf);
  float sk = ami_pow2(k + j);
  AM_PRECISE float tp = sk * p;
  AM_PRECISE float th = sk + tp;
  AM_PRECISE float tl = tp - (th - sk);
  float3 r;
  r.x = th;
  r.y = tl;
  r.z = ami_pow2(-(j >> 1));
  return r;
}

/* x * sigmoid(v.x + v.y) for a float x and a double-float v (|v.y| <=
 * ulp(v.x)), <= 2 ulp, rounded once but for denormal results: the form
 * every sigmoid-based op needs without losing the argument's precision:
 * sigmoid (x = 1), silu (x, beta x), gelu_quick (x, 1.702 x), the gelu
 * tanh form (x, 2u).
 *
 * With a = -|v| and t = e^a = 2^k (1 + p) (ami_expm1_lean, k <= 0):
 *   v >= 0: sigmoid = 1 / (1 + t);   v < 0: sigmoid = t / (1 + t).
 * t is the exact pair th + tl of ami_exp_t (scaled by 2^j for a < -69.3;
 * for v < 0 the product with x is scaled back at the end, for v >= 0 the
 * scaled t in 1 + t costs below 2^-36), and so is 1 + t = d + dl.  a is
 * clamped to -194: past it |x| sigmoid(v) < 2^128 e^-194 < 2^-151 rounds
 * to 0, and those lanes return a zero of x's sign (for infinite x too: x
 * times the limit 0).
 * q = N / (d + dl), N = 1 or th + tl, is the driver's reciprocal rc of d
 * (any accuracy within a few ulps) times N, q0, corrected once by the
 * residual (ami_resid): ql = res rc, q0 + ql within 2^-33 of the quotient.
 * y = fma(x, q0, x ql), rounded once; q <= 1, so x q cannot overflow.
 * Budget, relative to the exact x sigmoid(v), in u = 2^-24 (< 1 ulp):
 *   m = 1 + p (0.77 u) times the sensitivity of sigmoid to t,
 *     t / (1 + t) <= 1/2 for v >= 0, 1 / (1 + t) <= 1 for v < 0    0.77 u
 *   the quotient and the dropped terms                          < 0.001 u
 *   the final rounding                                          0.5 ulp
 * so < 1.27 ulp for normal results; a denormal result's first rounding
 * (of y0, |y0 2^-j| < 2^-126) adds below 2^-151, 1/4 ulp: < 1.52 ulp.
 * Where fma is not fused x q0 is rounded before the add: < 1.77 ulp. */
/* ami_mul_sigmoid has no NaN test (for callers whose x and v are not NaN:
 * the element-wise kernels pass NaN through before the op); a NaN v gives
 * a number.  am_mul_sigmoid below adds the test. */
AM_INLINE float ami_mul_sigmoid(float x, float2 v) {
  bool neg = v.x < 0.0f;
  bool far = v.x < -194.0f;
  float ah = -fabs(v.x);
  ah = ah >= -194.0f ? ah : -194.0f; /* and NaN: restored at the end */
  /* -|v|'s low part (0 where ah is clamped) by a product, not a select
   * like ah's: LLVM's SLP vectorizer paired two select chains on (hi, lo)
   * into <2 x float> code on AVX2, which stopped PoCL's loop vectorizer */
  float al = v.y * (fabs(v.x) > 194.0f ? 0.0f : (neg ? 1.0f : -1.0f));
  float kf = ami_exp_kf(ah);
  float3 t = ami_exp_t(ah, al, kf);
  float th = t.x, tl = t.y;
  AM_PRECISE float d = 1.0f + th;
  AM_PRECISE float dl = (th - (d - 1.0f)) + tl;
  float nh = neg ? th : 1.0f;
  float nl = tl * (neg ? 1.0f : 0.0f);
  float rc = 1.0f / d;
  float q0 = ami_cut12(nh * rc);
  AM_PRECISE float ql = ami_resid(nh, nl, q0, d, dl) * rc;
  float y0 = ami_mul_round(x, q0, ql);
  float sj = (neg ? t.z : 1.0f);
  AM_PRECISE float y1 = y0 * sj;
  AM_PRECISE float y = y1 * sj;
  y = am_isinf(x) ? x : y; /* x times a positive q */
  return far ? am_copysign(0.0f, x) : y;
}

/* NaN in x, v.x or v.y gives NaN: one test on |x| + |v.x| + |v.y| (NaN
 * exactly when one of them is; three tests or-ed made LLVM build 16-bit
 * masks, 40 more instructions per vector). */
AM_INLINE float am_mul_sigmoid(float x, float2 v) {
  float y = ami_mul_sigmoid(x, v);
  return am_isnan(fabs(x) + fabs(v.x) + fabs(v.y)) ? am_nan() : y;
}

/* sigmoid(x) = 1 / (1 + e^-x), <= 1.5 ulp (budget at am_mul_sigmoid:
 * < 1.27 ulp normal, < 1.52 denormal); exact 0 below -103.97. */
AM_INLINE
float am_sigmoid(float x) {
  float y = ami_mul_sigmoid(1.0f, am_f2(x, 0.0f));
  return am_isnan(x) ? x : y;
}

/* mish(x) = x tanh(softplus(x)), <= 2 ulp (budget below; 1.27 before the
 * fma-free path's extra rounding), from one lean exponential.  With n =
 * e^x (e^x + 2), tanh(log(1 + e^x)) = n / (n + 2) = A / (A + B), where,
 * for s = e^-|x| = 2^k (1 + p) (ami_expm1_lean, k <= 0, s <= 1):
 *   x <= 0:  A = s (s + 2) = 2s + s^2,  B = 2;
 *   x >  0:  A = 1 + 2s,                B = 2 s^2
 * (n (s^2) and n + 2 multiplied through by s^2 for x > 0), so that every
 * term is at most 5 and nothing overflows.  s is the exact pair sh + sl
 * (ami_exp_t), s^2 an exact product plus its cross term; A and
 * D = A + B are formed by Dekker's fast-two-sum (its condition holds:
 * 2s >= s^2, 1 and 2s share an exponent or 1 is larger, 2 and A <= 3
 * share one, A >= 2 s^2), so both are pairs within 2^-44; the quotient
 * A/D is corrected once by its residual (ami_resid) and y = fma(x, q0, x
 * ql) rounds once.
 * Budget, relative, u = 2^-24: s's error (0.77 u) times the sensitivity
 * of A/D to s (|d ln(A/D) / d ln s| = 2/(n + 2) (2t + 2)/(t + 2) <= 1 for
 * x <= 0, t = e^x; <= 0.6 for x > 0): 0.77 u; pairs and quotient below
 * 0.001 u; the final rounding 0.5 ulp: < 1.27 ulp.
 * For x < -69.3 s is formed scaled by 2^j (ami_exp_t), and the result
 * scaled back: the scaled s (<= 2^-36) in
 * s + 2 and A + 2 costs below 2^-36.  x < -194 gives -0 (|mish| <
 * 194 e^-194), and so does -inf (the limit); +inf gives +inf. */
/* s^2 for the pair s = sh + sl: an exact product plus its cross term. */
AM_INLINE float2 ami_sq_pair(float2 sp) {
  float2 s2 = am_two_prod(sp.x, sp.x);
  AM_PRECISE float s2l = fma(2.0f * sp.x, sp.y, s2.y);
  return am_f2(s2.x, s2l);
}

/* mish's A (below) as a pair, from the pairs s and s^2: 2s + s^2 (x <= 0)
 * or 1 + 2s (x > 0). */
AM_INLINE float2 ami_mish_a(float2 sp, float2 s2, bool pos) {
  float a1 = pos ? 1.0f : 2.0f * sp.x;
  float a2 = pos ? 2.0f * sp.x : s2.x;
  float2 a = am_fast_two_sum(a1, a2);
  AM_PRECISE float al = a.y + (2.0f * sp.y + s2.y * (pos ? 0.0f : 1.0f));
  return am_f2(a.x, al);
}

/* mish's D = A + B as a pair: A + 2 (x <= 0) or A + 2 s^2 (x > 0). */
AM_INLINE float2 ami_mish_d(float2 a, float2 s2, bool pos) {
  float d1 = pos ? a.x : 2.0f;
  float d2 = pos ? 2.0f * s2.x : a.x;
  float2 d = am_fast_two_sum(d1, d2);
  AM_PRECISE float dl = d.y + (a.y + s2.y * (pos ? 2.0f : 0.0f));
  return am_f2(d.x, dl);
}

AM_INLINE float ami_mish(float x) {
  bool pos = x > 0.0f;
  bool far = x < -194.0f;
  float ah = -fabs(x);
  ah = ah >= -194.0f ? ah : -194.0f;
  float kf = ami_exp_kf(ah);
  float3 sp = ami_exp_t(ah, 0.0f, kf);
  float2 s1 = am_f2(sp.x, sp.y);
  float2 s2 = ami_sq_pair(s1);
  float2 a = ami_mish_a(s1, s2, pos);
  float2 d = ami_mish_d(a, s2, pos);
  float rc = 1.0f / d.x;
  float q0 = ami_cut12(a.x * rc);
  AM_PRECISE float ql = ami_resid(a.x, a.y, q0, d.x, d.y) * rc;
  float y0 = ami_mul_round(x, q0, ql);
  float sj = (!pos ? sp.z : 1.0f);
  AM_PRECISE float y1 = y0 * sj;
  AM_PRECISE float y = y1 * sj;
  y = am_isinf(x) ? x : y;
  return far ? -0.0f : y;
}

/* mish(x), NaN -> NaN (ami_mish for callers that pass NaN through). */
AM_INLINE float am_mish(float x) {
  float y = ami_mish(x);
  return am_isnan(x) ? x : y;
}

/* ef ln 2 + log1p(fh + fl), in float arithmetic (the float-only twin of
 * ami_log1p_e, for ami_softplus), as the unevaluated sum (x, y) of a big
 * part x = fl(ef ln 2 + 2 q0) and the rest y, |y| <= 0.011 |x|: fh in
 * [-0.3, sqrt 2 - 1], |fl| <= 2^-23 |fh| or fh = 0, ef 0 or 1.  log1p(F)
 * = 2 atanh(q) = 2q + q^3 (2/3 + 2w/5 + 2w^2/7 + 2w^3/9 + 2w^4/11), q =
 * F/(2 + F), w = q^2, |q| <= 0.172 (the atanh series itself; its first
 * omitted term is below 2^-30 of the result).  q is the driver's
 * reciprocal of 2 + F (an exact pair) times F, corrected once by an
 * exact residual that keeps both low parts, so (q0, ql) is F/(2 + F)
 * within ~2^-40; the series part is below 0.01 of 2q, so its float
 * rounding (Estrin's form) counts for < 2^-30.  x + y is within 2^-29
 * relative of the exact value (|x| >= 0.34 when ef = 1).  The pair is
 * left unnormalised: the big part is known before the series, so that a
 * caller's sum with it need not wait for the series (ami_softplus). */
AM_INLINE float2 ami_log1p_fast(float fh, float fl, float ef) {
  float2 d = am_fast_two_sum(2.0f, fh);
  AM_PRECISE float dl = d.y + fl;
  float2 q = ami_div_rc(fh, fl, d.x, dl);
  float q0 = q.x, ql = q.y;
  float w = q0 * q0;
  float w2 = w * w;
  float e = fma(0.4000000059604645f, w, 0.6666666865348816f);
  float f = fma(0.2222222238779068f, w, 0.2857142984867096f);
  float g = fma(0.18181818723678589f, w2, f);
  float c = fma(g, w2, e);
  AM_PRECISE float lo = fma(q0 * w, c, 2.0f * ql);
  float2 h = am_fast_two_sum(ef * 0.6931471824645996f, 2.0f * q0);
  AM_PRECISE float rest = h.y + fma(ef, -1.9046542121259336e-09f, lo);
  return am_f2(h.x, rest);
}

/* softplus(x) = max(x, 0) + log1p(e^-|x|), <= 1.5 ulp, from the lean
 * exponential (issue 17): s = e^-|x| = 2^k (1 + p) (ami_expm1_lean,
 * within 0.77 u relative) as the exact pair sh + sl (ami_exp_t), handed
 * to ami_log1p_fast without forming 1 + s in
 * float (which would round s when it is tiny): s <= sqrt 2 - 1 is its
 * argument itself; above, 1 + s = 2 (1 + f) with f = (s - 1)/2 formed
 * exactly.  The sensitivity of log1p(s) to s is at most 1 and
 * ami_log1p_fast is within 2^-29, so the log term is within 0.78 u
 * before its one rounding, and so is x + log1p(s) (x >= 0 there, added
 * to the log's big part by a two-sum, then the small parts, whose own
 * rounding is below 0.02 u): < 1.3 ulp.  The tiny values for x << 0 (=
 * s - s^2/2) keep their relative accuracy; for x < -69.3 s is formed
 * scaled by 2^j
 * (ami_exp_t) and the result is s itself (s^2/2 is below
 * 2^-100 of it), scaled back exactly - rounded a second time only where
 * it is denormal (+1/4 ulp); below -104 it is 0 (e^x < 2^-150); past x =
 * 16 the log term is below half an ulp of x. */
AM_INLINE float ami_softplus(float x) {
  float ah = -fabs(x);
  ah = ah >= -104.0f ? ah : -104.0f;
  float kf = ami_exp_kf(ah);
  float3 sp = ami_exp_t(ah, 0.0f, kf);
  float sh = sp.x, sl = sp.y;
  bool big = sh > 0.41421356f;
  float2 d = am_two_sum(sh, -1.0f);
  float2 lg = ami_log1p_fast(big ? 0.5f * d.x : sh,
                             big ? 0.5f * (d.y + sl) : sl, big ? 1.0f : 0.0f);
  float xp = x > 0.0f ? x : 0.0f;
  float2 s = am_two_sum(xp, lg.x);
  AM_PRECISE float y = s.x + (s.y + lg.y);
  float sj = sp.z;
  AM_PRECISE float yd1 = (sh + sl) * sj;
  AM_PRECISE float yd = yd1 * sj;
  y = sj < 1.0f ? yd : y; /* t formed scaled (ami_exp_t) */
  y = (x < -104.0f) ? 0.0f : y;
  return (x >= 16.0f) ? x : y;
}

/* softplus, NaN -> NaN. */
AM_INLINE float am_softplus(float x) {
  float y = ami_softplus(x);
  return am_isnan(x) ? x : y;
}

/* log(sigmoid(x)) = -softplus(-x), <= 1.5 ulp. */
AM_INLINE float am_log_sigmoid(float x) { return -am_softplus(-x); }

/* ------------------------------------------------------------------ */
/* erf, erfc.                                                           */
/* ------------------------------------------------------------------ */

/* V(s) = erf(sqrt s)/sqrt s - 1 for 0 <= s <= 0.25, so that erf(z) =
 * z + z V(z^2) for |z| <= 0.5: a degree-5 minimax polynomial (error 8.6e-10
 * relative to erf(z)/z, gen_math_coeffs.py "ERF"). */
AM_INLINE float ami_erf_v(float s) {
  float v = -0.0007692853105254471f;
  v = fma(v, s, 0.005200308281928301f);
  v = fma(v, s, -0.02686312049627304f);
  v = fma(v, s, 0.11283773928880692f);
  v = fma(v, s, -0.37612637877464294f);
  return fma(v, s, 0.12837916612625122f);
}

/* e^(z^2) erfc(z) as a double-float for 0.5 <= z <= 10.2, z = zh + zl
 * (relative error ~2^-28).
 *
 * Shepherd & Laframboise's form: (1 + 2z) e^(z^2) erfc(z) = P(t),
 * t = (z - 2.5)/(z + 2.5) in [-0.667, 0.607], P a degree-9 minimax
 * polynomial (relative error 2.8e-9, gen_math_coeffs.py "ERFC"), c0
 * carried as a double-float pair.  t is formed as a double-float (its
 * rounding would otherwise be amplified by |P'/P| ~ 1); the last two
 * Horner steps, c0 + t (c1 + t R(t)), and the division by 1 + 2z are done
 * in double-float, so R's rounding is damped by t^2 <= 0.45.
 * Below z = 0.5 callers use 1 - erf(z) instead: near t = -1 the Horner
 * sums of this form grow and lose accuracy. */
AM_INLINE float2 ami_erfcx_dd(float zh, float zl) {
  float2 n = am_two_sum(zh, -2.5f);
  float2 d = am_two_sum(zh, 2.5f);
  float2 t0 = ami_div_rc(n.x, n.y + zl, d.x, d.y + zl);
  float2 t = am_fast_two_sum(t0.x, t0.y);
  float tt = t.x;
  float q = 0.000533387647010386f;
  q = fma(q, tt, 0.00041148148011416197f);
  q = fma(q, tt, -0.004347573034465313f);
  q = fma(q, tt, 0.0009583743521943688f);
  q = fma(q, tt, 0.032755296677351f);
  q = fma(q, tt, -0.10297064483165741f);
  q = fma(q, tt, 0.1576303243637085f);
  q = fma(q, tt, -0.09902437776327133f);
  float2 tq = am_two_prod(tt, q);
  tq.y = fma(t.y, q, tq.y);
  float2 s1 = am_two_sum(-0.12235677242279053f, tq.x);
  s1.y = s1.y + tq.y;
  float2 u = am_two_prod(tt, s1.x);
  u.y = fma(tt, s1.y, fma(t.y, s1.x, u.y));
  float2 pp = am_fast_two_sum(1.2648382186889648f, u.x);
  pp.y = pp.y + (u.y + -3.3335130211753494e-08f);
  float2 den = am_two_sum(1.0f, 2.0f * zh);
  den = am_fast_two_sum(den.x, den.y + 2.0f * zl);
  return am_dd_div(pp, den);
}

/* erfc(z) = 2^k M for z = zh + zl in [0.5, 10.2] with z^2 = (z2h, z2l):
 * returns M = e^(-z^2 - k ln 2) erfcx(z); kf must be ami_exp_kf(-z2h). */
AM_INLINE
float2 ami_erfc_m(float zh, float zl, float z2h, float z2l, float kf) {
  float2 p = ami_expm1_fast(-z2h, -z2l, kf);
  float2 e = am_fast_two_sum(1.0f, p.x);
  e.y = e.y + p.y;
  return am_dd_mul(e, ami_erfcx_dd(zh, zl));
}

/* erfc(x), <= 1.5 ulp (in fact <= 1), relative in the tail down to the
 * denormal range (erfc underflows past x = 10.06).
 * |x| < 0.5: 1 - x - x V(x^2) in double-float (no cancellation: the
 * result is in [0.47, 1.53]).  x >= 0.5: 2^k M, rounded once (denormals
 * included).  x <= -0.5: 2 - 2^k M in double-float. */
AM_INLINE float am_erfc(float x) {
  float ax = fabs(x);
  float2 a = am_fast_two_sum(1.0f, -x);
  AM_PRECISE float ysmall = a.x + fma(-x, ami_erf_v(x * x), a.y);
  float z = ami_clampf(ax, 0.5f, 10.2f);
  float2 z2 = am_two_prod(z, z);
  float kf = ami_exp_kf(-z2.x);
  int k = convert_int(kf);
  float2 mm = ami_erfc_m(z, 0.0f, z2.x, z2.y, kf);
  float ypos = ami_ldexp2_dd(mm, k);
  float sk = am_ldexp(1.0f, k);
  float2 s = am_two_sum(2.0f, -(mm.x * sk));
  float yneg = s.x + (s.y - mm.y * sk);
  float y = x < 0.0f ? yneg : ypos;
  y = ax < 0.5f ? ysmall : y;
  return am_isnan(x) ? x : y;
}

/* erf(x), <= 1.5 ulp (in fact <= 1).
 * |x| < 0.5: x + x V(x^2), the last step one fma.
 * |x| >= 0.5: erf|x| = 1 - erfc|x| in double-float (erfc|x| <= 0.48, so
 * there is no harmful cancellation); |x| is clamped to 4.5, past which
 * erf rounds to 1. */
AM_INLINE float am_erf(float x) {
  float ax = fabs(x);
  AM_PRECISE float ysmall = fma(x, ami_erf_v(x * x), x);
  float z = ami_clampf(ax, 0.5f, 4.5f);
  float2 z2 = am_two_prod(z, z);
  float kf = ami_exp_kf(-z2.x);
  int k = convert_int(kf);
  float2 mm = ami_erfc_m(z, 0.0f, z2.x, z2.y, kf);
  float sk = ami_pow2(k);
  float2 d = am_fast_two_sum(1.0f, -(mm.x * sk));
  float ybig = am_copysign(d.x + (d.y - mm.y * sk), x);
  float y = ax < 0.5f ? ysmall : ybig;
  return am_isnan(x) ? x : y;
}

/* ------------------------------------------------------------------ */
/* gelu.                                                                */
/* ------------------------------------------------------------------ */

/* erfcx(z) = e^(z^2) erfc(z) for z = zh + zl in [0.5, 10.2] as a pair
 * f0 + fl (f0 cut to 12 bits), within 0.2 u: Shepherd and Laframboise's
 * (1 + 2z) erfcx(z) = P(t), t = (z - 2.5) / (z + 2.5) (ami_erfcx_dd's
 * polynomial, relative error 2.8e-9), in float but for the pairs below:
 *   t as a corrected quotient of two exact sums (t0 + tl, ~2^-33);
 *   P = c0 + t Q(t), Q in float Horner: |t Q / P| <= 0.074, so Q's
 *     error counts < 0.15 u; c0 + t Q as a pair (one fma, and its
 *     error by a second: c0 - ph is exact);
 *   F = P / (1 + 2z), a corrected quotient of pairs (~2^-33).
 * The lean gelu and its gradient use it (ami_gelu_erf, eltwise_bwd.cl). */
AM_INLINE float2 ami_erfcx_lean(float zh, float zl) {
  float2 n = am_two_sum(zh, -2.5f);
  float2 d = am_two_sum(zh, 2.5f);
  float rc = 1.0f / d.x;
  float t0 = ami_cut12(n.x * rc);
  AM_PRECISE float tl = ami_resid(n.x, n.y + zl, t0, d.x, d.y + zl) * rc;
  AM_PRECISE float t = t0 + tl;
  float q = 0.000533387647010386f;
  q = fma(q, t, 0.00041148148011416197f);
  q = fma(q, t, -0.004347573034465313f);
  q = fma(q, t, 0.0009583743521943688f);
  q = fma(q, t, 0.032755296677351f);
  q = fma(q, t, -0.10297064483165741f);
  q = fma(q, t, 0.1576303243637085f);
  q = fma(q, t, -0.09902437776327133f);
  q = fma(q, t, -0.12235677242279053f);
  float2 pp = ami_fma_pair(t, q, 1.2648382186889648f);
  float ph = pp.x;
  AM_PRECISE float pl = pp.y + -3.3335130211753494e-08f;
  float2 e = am_fast_two_sum(2.0f * zh, 1.0f);
  float rc2 = 1.0f / e.x;
  float f0 = ami_cut12(ph * rc2);
  AM_PRECISE float fl =
      ami_resid(ph, pl, f0, e.x, e.y + 2.0f * zl) * rc2;
  return am_f2(f0, fl);
}

/* gelu(x) = x Phi(x) = x/2 erfc(-x/sqrt 2), <= 2 ulp (budget below), in
 * float arithmetic but for a few exact pairs (the lean form, issue 17).
 *
 * |x| < 0.75: x Phi(x) = x/2 + x^2 W(x^2), W(s) = erf(sqrt(s/2)) / (2
 *   sqrt s) = W0 + s W1(s), W0 = 1/sqrt(2 pi) as a pair and W1 a degree-4
 *   minimax polynomial on [0, 0.5625] (relative error 3.1e-8,
 *   gen_math_coeffs.py "GELUW1"); x^2 and x^2 W0's leading product are
 *   exact (two-products), x/2 + that by fast-two-sum (|x/2| >= x^2 W0
 *   here), the small terms added before one rounding.  |x^2 W / y| <= 1.2
 *   and s W1 is below 0.1 of W, so W1's rounding counts < 0.15 u: < 0.7
 *   ulp.
 * |x| >= 0.75: T = x/2 erfc(z), z = |x|/sqrt 2 (a pair; z^2 = x^2/2
 *   exact): gelu = T for x < 0, x - T for x > 0 (T <= 0.23 x there, so
 *   T's error counts 0.3 times).  erfc(z) = e^(-z^2) erfcx(z):
 *     F = erfcx(z) as a pair within 0.2 u (ami_erfcx_lean);
 *     e^(-z^2) = 2^k (1 + p) (ami_expm1_lean, 0.77 u), and M = F (1 + p)
 *       as a pair (one fma and its error);
 *     T = x M 2^(k-1): one rounding (fma), then the exact scaling, which
 *       rounds again only where T is denormal (x < -13.2: <= 1/4 ulp).
 *   Budget for x < 0, u = 2^-24 relative: e^(-z^2) 0.77 u, Q 0.15 u, P's
 *   fit 0.05 u, pairs and quotients 0.01 u; the final rounding 0.5 ulp:
 *   < 1.5 ulp (1.75 for denormal results).  For x > 0: T's ~1 u and its
 *   rounding times 0.3, and the rounding of x - T: < 1 ulp.
 * Where fma is not fused (Vulkan) the second fmas are not exact; the
 * fma-free bound is measured (tests/math_cl_accuracy.c).
 * x > 8: x (Phi(-8) < 2^-50); x < -14.42: -0 (|gelu| < 2^-151); -inf:
 * -0, +inf: +inf. */
AM_INLINE float ami_gelu_erf(float x) {
  /* |x| < 0.75 */
  float2 x2 = am_two_prod(x, x);
  float s = x2.x;
  float w = -8.556979992135894e-06f;
  w = fma(w, s, 0.00011500432447064668f);
  w = fma(w, s, -0.0011872421018779278f);
  w = fma(w, s, 0.009973551146686077f);
  w = fma(w, s, -0.06649038195610046f);
  float2 a = am_two_prod(s, 0.3989422917366028f);
  float2 b = am_fast_two_sum(0.5f * x, a.x);
  AM_PRECISE float wl = fma(s, w, -1.1335170135851058e-08f);
  AM_PRECISE float lo = b.y + (a.y + fma(x2.y, 0.3989422917366028f, s * wl));
  float ysmall = b.x + lo;
  /* |x| >= 0.75 */
  float xt = ami_clampf(fabs(x), 0.75f, 14.42f);
  float2 z = am_dd_mul_f(am_f2(0.7071067690849304f, 1.2101617485882343e-08f),
                         xt);
  float2 xt2 = am_two_prod(xt, xt);
  float h = -0.5f * xt2.x;
  float kf = ami_exp_kf(h);
  int k = convert_int(kf);
  float p = ami_expm1_lean(h, -0.5f * xt2.y, kf);
  float2 F = ami_erfcx_lean(z.x, z.y);
  float f0 = F.x;
  AM_PRECISE float fl = F.y;
  float2 mm = ami_fma_pair(f0, p, f0);
  AM_PRECISE float ml = mm.y + fl * (1.0f + p);
  float xs = am_copysign(xt, x);
  float y0 = ami_mul_pair_round(xs, mm.x, ml);
  float tt = ami_ldexp2(y0, k - 1);
  float y = x < 0.0f ? tt : x - tt;
  y = fabs(x) < 0.75f ? ysmall : y;
  y = (x > 8.0f || x == 0.0f) ? x : y;
  return x < -14.42f ? -0.0f : y;
}

/* gelu (erf form), NaN -> NaN. */
AM_INLINE float am_gelu_erf(float x) {
  float y = ami_gelu_erf(x);
  return am_isnan(x) ? x : y;
}

/* c x + k x^3 as a pair (hi, lo), |lo| <= 2^-22 |hi|, within ~2^-44 of
 * it (relative), for |x| <= 20 and k = (kh, kl) > 0 a pair: the argument
 * of the gelu tanh form, c = 2 sqrt(2/pi) and k = c a (w, below) or 3 c a
 * (x w'(x), its gradient), a = 0.044715.  The two terms have x's sign,
 * so their sum cannot cancel: each is an exact two-product (x^3 = (x^2) x,
 * with x^2's low part carried) plus its small terms, and one two-sum adds
 * them - a shorter chain of dependent operations than c x (1 + a x^2) in
 * double-float arithmetic (the chains bound the kernels' speed:
 * bench/RESULTS.md, "The eighth session").  Where x^2 or c x underflows
 * the lost low parts are below 2^-149, against a v that then only moves
 * sigmoid(v) by v/4. */
AM_INLINE float2 ami_gelu_tanh_w(float x, float kh, float kl) {
  float2 t = am_two_prod(x, x);
  float2 x3 = am_two_prod(t.x, x);
  AM_PRECISE float x3l = x3.y + t.y * x;
  float2 q = am_two_prod(kh, x3.x);
  AM_PRECISE float ql = q.y + (kh * x3l + kl * x3.x);
  float2 p = am_two_prod(1.5957691669464111f, x); /* c, hi */
  AM_PRECISE float pl = p.y + -4.534068054340423e-08f * x; /* c, lo */
  float2 s = am_two_sum(p.x, q.x);
  AM_PRECISE float lo = s.y + (pl + ql);
  return am_f2(s.x, lo);
}
/* c a and 3 c a as hi + lo (ami_gelu_tanh_w) */
#define AMI_GELU_CA 0.07135481387376785f, 2.3988324659995897e-09f
#define AMI_GELU_3CA 0.21406444907188416f, -2.540834209696641e-10f

/* gelu, tanh form: x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3),
 * <= 2 ulp (in fact <= 1).  1 + tanh(u) = 2 sigmoid(2u), so the result is
 * x sigmoid(v), v = 2 sqrt(2/pi) (x + 0.044715 x^3), with v carried as a
 * double-float (ami_gelu_tanh_w): in the far negative tail the result is
 * ~x e^v and an error in v is amplified by |v| (~100 where the result
 * underflows, x ~ -11.3).  x is clamped to [-20, 20]. */
AM_INLINE float am_gelu_tanh(float x) {
  float xc = ami_clampf(x, -20.0f, 20.0f);
  float2 v = ami_gelu_tanh_w(xc, AMI_GELU_CA);
  float y = ami_mul_sigmoid(xc, v);
  y = (x > 20.0f || x == 0.0f) ? x : y;
  return am_isnan(x) ? x : y;
}

#endif /* ACT_MATH_CL */
