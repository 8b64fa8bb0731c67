/*
 * reference.c - the CPU reference: every op in double precision, rounded
 * once to the output type.
 *
 * This is the truth every device is checked against (docs/accuracy.md), so it favours
 * exactness: inputs are decoded exactly to double, the math runs in double
 * with C99 libm (exp, expm1, log1p, erfc, tanh, all within about one double
 * ulp in glibc) in numerically stable forms, and act__store rounds once.
 * The only error left is the double result's own (around 2^-52 relative),
 * which can flip a float rounding only when the exact value lies within
 * that distance of a rounding boundary.
 *
 * NaN in gives NaN out for every element-wise op (checked once, before the
 * op), and each op's infinite limits are handled where inf*0 would appear.
 */
#include "ref_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow, no cancellation. */
static double softplus_d(double z) {
  return (z > 0 ? z : 0.0) + log1p(exp(-fabs(z)));
}

/* x * s where s -> 0 as x -> +-inf: the limit is a zero of x's sign. */
static double mul_lim(double x, double s) {
  if (isinf(x) && s == 0.0)
    return copysign(0.0, x);
  return x * s;
}

/* a * x for x < 0: a zero slope gives 0 even at x = -inf. */
static double slope_d(double a, double x) { return a == 0.0 ? 0.0 : a * x; }

static double clamp_d(double x, double lo, double hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

/* x - tanh(x). Near 0 the difference cancels almost completely, so there
 * the Taylor series of x - tanh x is summed instead: coefficients are
 * -(-1)^n 2^(2n)(2^(2n)-1) B_2n/(2n)! for x^(2n-1) (Abramowitz & Stegun
 * 4.5.64). For |x| < 0.25 eight terms leave a relative error below 1e-13. */
static double tanh_shrink_d(double x) {
  if (fabs(x) >= 0.25)
    return x - tanh(x);
  static const double c[] = {
      1.0 / 3.0,
      -2.0 / 15.0,
      17.0 / 315.0,
      -62.0 / 2835.0,
      1382.0 / 155925.0,
      -21844.0 / 6081075.0,
      929569.0 / 638512875.0,
      -6404582.0 / 10854718875.0,
  };
  double x2 = x * x, s = 0.0;
  for (int i = 7; i >= 0; i--)
    s = s * x2 + c[i];
  return x * x2 * s;
}

/* min(1, max(0, alpha x + beta)), evaluated as alpha (x + beta/alpha): the
 * same function, but exact where the ramp starts for the usual parameters
 * (x + 3 = 0 at x = -3 for alpha = 1/6, beta = 1/2, whereas alpha x + beta
 * with alpha = double(1/6) is 5.5e-17 there). */
static double hard_sigmoid_d(double x, double alpha, double beta) {
  if (alpha == 0.0)
    return clamp_d(beta, 0.0, 1.0);
  if (isinf(x))
    return clamp_d(alpha * x, 0.0, 1.0);
  return clamp_d(alpha * (x + beta / alpha), 0.0, 1.0);
}

static double gelu_d(double x, bool approximate) {
  if (isinf(x))
    return x > 0 ? x : -0.0;
  if (!approximate) /* x/2 (1 + erf(x/sqrt2)) = x/2 erfc(-x/sqrt2) */
    return 0.5 * x * erfc(-x * INV_SQRT2);
  /* 1 + tanh(u) = 2 sigmoid(2u): no cancellation in the negative tail. */
  double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
  return x * sigmoid_d(2.0 * u);
}

/* One element of an element-wise op (x not NaN). */
static double eltwise_d(act_op_t op, const double *p, double x) {
  if ((int)op >= ACT_OP_CUSTOM_BASE)
    return act__custom_eval((int)op, 0, p, x);
  switch (op) {
  case ACT_OP_RELU: {
    double r = x > p[ACT__RELU_THRESHOLD]
                   ? x
                   : (p[ACT__RELU_SLOPE] == 0.0
                          ? 0.0
                          : p[ACT__RELU_SLOPE] * (x - p[ACT__RELU_THRESHOLD]));
    return r > p[ACT__RELU_MAX] ? p[ACT__RELU_MAX] : r;
  }
  case ACT_OP_RELU6:
    return clamp_d(x, 0.0, 6.0);
  case ACT_OP_LEAKY_RELU:
  case ACT_OP_PRELU:
    return x >= 0 ? x : slope_d(p[0], x);
  case ACT_OP_ELU:
    return x > 0 ? x : p[0] * expm1(x);
  case ACT_OP_SELU:
    return SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * expm1(x));
  case ACT_OP_CELU: /* equals max(0,x) + min(0, a*expm1(x/a)) for a != 0 */
    return x > 0 ? x : p[0] * expm1(x / p[0]);
  case ACT_OP_GELU:
    return gelu_d(x, p[0] != 0.0);
  case ACT_OP_SILU:
    return p[0] == 0.0 ? 0.5 * x : mul_lim(x, sigmoid_d(p[0] * x));
  case ACT_OP_SIGMOID:
    return sigmoid_d(x);
  case ACT_OP_LOG_SIGMOID:
    return -softplus_d(-x);
  case ACT_OP_TANH:
    return tanh(x);
  case ACT_OP_HARD_SIGMOID:
    return hard_sigmoid_d(x, p[0], p[1]);
  case ACT_OP_HARD_SILU:
    return mul_lim(x, hard_sigmoid_d(x, p[0], p[1]));
  case ACT_OP_HARD_TANH:
    return clamp_d(x, -1.0, 1.0);
  case ACT_OP_SOFTPLUS: {
    double z = p[0] * x;
    if (z > p[1])
      return x;
    return softplus_d(z) / p[0];
  }
  case ACT_OP_SOFTSIGN:
    return isinf(x) ? copysign(1.0, x) : x / (fabs(x) + 1.0);
  case ACT_OP_MISH:
    return mul_lim(x, tanh(softplus_d(x)));
  case ACT_OP_SQUAREPLUS: {
    double r = sqrt(x * x + p[0]);
    /* For x < 0 the sum cancels; multiply by the conjugate instead. */
    return x >= 0 ? 0.5 * (x + r) : 0.5 * p[0] / (r - x);
  }
  case ACT_OP_SPARSE_PLUS:
    return x <= -1.0 ? 0.0 : x >= 1.0 ? x : 0.25 * (x + 1.0) * (x + 1.0);
  case ACT_OP_SPARSE_SIGMOID:
    return x <= -1.0 ? 0.0 : x >= 1.0 ? 1.0 : 0.5 * (x + 1.0);
  case ACT_OP_EXP:
    return exp(x);
  case ACT_OP_LINEAR:
    return x;
  case ACT_OP_GELU_QUICK:
    return mul_lim(x, sigmoid_d(1.702 * x));
  case ACT_OP_HARD_SHRINK:
    return fabs(x) > p[0] ? x : 0.0;
  case ACT_OP_SOFT_SHRINK:
    return x > p[0] ? x - p[0] : x < -p[0] ? x + p[0] : 0.0;
  case ACT_OP_TANH_SHRINK:
    return tanh_shrink_d(x);
  case ACT_OP_THRESHOLD:
    return x > p[0] ? x : p[1];
  case ACT_OP_CLIP:
    return clamp_d(x, p[0], p[1]);
  default:
    return NAN;
  }
}

/* One element of an element-wise op in double, before rounding (prelu: the
 * slope in p[0]). For tests that need the forward unrounded (the finite
 * differences of tests/test_backward.c); not public. */
double act__reference_eltwise_d(act_op_t op, const double *p, double x);
double act__reference_eltwise_d(act_op_t op, const double *p, double x) {
  return isnan(x) ? x : eltwise_d(op, p, x);
}

/* ---- element-wise driver ------------------------------------------------ */

#define TILE 2048

static void run_eltwise(const act__call_t *c) {
  const act_tensor_t *x = c->arg[ACT_ARG_X], *y = c->arg[ACT_ARG_Y];
  const act_tensor_t *alpha = c->arg[ACT_ARG_ALPHA];
  act_op_t op = c->desc->op;
  double p[ACT_MAX_PARAMS];
  memcpy(p, c->desc->p, sizeof p);
  if (op == ACT_OP_PRELU && alpha && act_tensor_numel(alpha) == 1) {
    p[0] = act__load(alpha->dtype, alpha->data, 0);
    alpha = NULL;
  }
  double buf[TILE];
  for (int64_t base = 0; base < c->n; base += TILE) {
    int64_t m = c->n - base < TILE ? c->n - base : TILE;
    for (int64_t i = 0; i < m; i++)
      buf[i] = act__load(x->dtype, x->data, base + i);
    if (alpha) { /* prelu, one slope per channel */
      for (int64_t i = 0; i < m; i++) {
        int64_t ch = ((base + i) / c->inner) % c->len;
        double a = act__load(alpha->dtype, alpha->data, ch);
        double v = buf[i];
        buf[i] = isnan(v) ? v : v >= 0 ? v : slope_d(a, v);
      }
    } else {
      for (int64_t i = 0; i < m; i++)
        if (!isnan(buf[i]))
          buf[i] = eltwise_d(op, p, buf[i]);
    }
    for (int64_t i = 0; i < m; i++)
      act__store(y->dtype, y->data, base + i, buf[i]);
  }
}

/* ---- axis ops ------------------------------------------------------------- */

/* Softmax family over one row of doubles v[0..len) with mask m (NULL: all
 * take part). mode: 0 softmax, 1 log_softmax. */
static void softmax_row(double *v, const unsigned char *m, int64_t len,
                        int mode) {
  double mx = -INFINITY;
  bool any = false, nan = false;
  for (int64_t k = 0; k < len; k++) {
    if (m && !m[k])
      continue;
    any = true;
    if (isnan(v[k]))
      nan = true;
    else if (v[k] > mx)
      mx = v[k];
  }
  double empty = mode ? -INFINITY : 0.0;
  if (!any || (mx == -INFINITY && !nan)) {
    /* Nothing takes part, or every part is -inf: 0s (log: -inf). */
    for (int64_t k = 0; k < len; k++)
      v[k] = empty;
    return;
  }
  /* s = 1 + rest, where rest sums every term but one maximum's (which is
   * e^0 = 1): log(s) = log1p(rest) keeps its digits when rest is tiny. */
  double rest = 0.0;
  bool skipped = false;
  for (int64_t k = 0; k < len; k++) {
    if (m && !m[k])
      continue;
    if (!skipped && v[k] == mx && isfinite(mx)) {
      skipped = true;
      continue;
    }
    rest += exp(v[k] - mx);
  }
  /* +inf as the maximum gives inf - inf = NaN in its own term: NaN
   * everywhere (jax documents this), like a NaN anywhere in the row. */
  if (!skipped)
    rest = NAN;
  double s = 1.0 + rest;
  double ls = log1p(rest);
  for (int64_t k = 0; k < len; k++) {
    if (m && !m[k])
      v[k] = empty;
    else if (mode)
      v[k] = (v[k] - mx) - ls;
    else
      v[k] = exp(v[k] - mx) / s;
  }
}

/* Inputs that overlap y are copied first, so that writing y cannot change
 * what is still to be read (in-place axis ops). */
static act_status_t run_axis(const act__call_t *c0) {
  act__call_t call = *c0, *c = &call;
  act_tensor_t copies[ACT_ARG_COUNT];
  void *owned[ACT_ARG_COUNT];
  const act_tensor_t *y = c->arg[ACT_ARG_Y];
  act_status_t st = ref_copy_inputs(c, y, (1u << ACT_ARG_Y) |
                                    (1u << ACT_ARG_SIGN), copies, owned);
  if (st)
    goto done;
  const act_tensor_t *x = c->arg[ACT_ARG_X];
  act_op_t op = c->desc->op;
  const double *p = c->desc->p;
  int64_t len = c->len, inner = c->inner, outer = c->outer;

  if (op == ACT_OP_ONE_HOT) {
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t idx = (int64_t)act__load(ACT_I32, x->data, o * inner + i);
        for (int64_t k = 0; k < len; k++)
          act__store(y->dtype, y->data, (o * len + k) * inner + i,
                     k == idx ? 1.0 : 0.0);
      }
    goto done;
  }

  if (op == ACT_OP_LOGSUMEXP && c->axis < 0) {
    outer = inner = 1; /* all axes: one row of every element */
    len = c->n;
  }
  double *v = malloc(sizeof(double) * (size_t)(len ? len : 1));
  double *bv = malloc(sizeof(double) * (size_t)(len ? len : 1));
  unsigned char *mv = malloc((size_t)(len ? len : 1));
  if (!v || !bv || !mv) {
    free(v), free(bv), free(mv);
    st = act__fail(ACT_OUT_OF_MEMORY, "reference: out of memory for a row "
                   "of %lld elements", (long long)len);
    goto done;
  }
  const act_tensor_t *where = c->arg[ACT_ARG_WHERE], *b = c->arg[ACT_ARG_B];
  const act_tensor_t *sign = c->arg[ACT_ARG_SIGN];
  const act_tensor_t *mean = c->arg[ACT_ARG_MEAN];
  const act_tensor_t *var = c->arg[ACT_ARG_VARIANCE];
  int64_t bs[ACT_MAX_DIMS], ms[ACT_MAX_DIMS], vs[ACT_MAX_DIMS];
  if (b)
    act__broadcast_strides(b, x, bs);
  if (mean)
    act__broadcast_strides(mean, x, ms);
  if (var)
    act__broadcast_strides(var, x, vs);

  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * len * inner + i;
      for (int64_t k = 0; k < len; k++)
        v[k] = act__load(x->dtype, x->data, base + k * inner);
      switch (op) {
      case ACT_OP_SOFTMAX:
      case ACT_OP_LOG_SOFTMAX:
      case ACT_OP_SOFTMIN: {
        if (op == ACT_OP_SOFTMIN)
          for (int64_t k = 0; k < len; k++)
            v[k] = -v[k];
        if (where)
          for (int64_t k = 0; k < len; k++)
            mv[k] = ((const uint8_t *)where->data)[base + k * inner] != 0;
        softmax_row(v, where ? mv : NULL, len, op == ACT_OP_LOG_SOFTMAX);
        for (int64_t k = 0; k < len; k++)
          act__store(y->dtype, y->data, base + k * inner, v[k]);
        break;
      }
      case ACT_OP_LOGSUMEXP: {
        /* jax.nn.logsumexp: terms with b = 0 do not take part; the shift
         * is the max over the rest, replaced by 0 when not finite. */
        double mx = -INFINITY;
        bool nan = false;
        for (int64_t k = 0; k < len; k++) {
          bv[k] = b ? act__load(b->dtype, b->data,
                                bcast_index(base + k * inner, x, bs))
                    : 1.0;
          if (bv[k] == 0.0)
            continue;
          if (isnan(v[k]))
            nan = true;
          else if (v[k] > mx)
            mx = v[k];
        }
        if (!isfinite(mx))
          mx = 0.0;
        /* s = b_j e^0 + rest for one maximum j; when b_j = 1 and rest is
         * small, log(s) = log1p(rest) keeps the digits log(s) loses. */
        double s = 0.0, rest = 0.0, bj = 0.0;
        bool skipped = false;
        for (int64_t k = 0; k < len; k++) {
          if (bv[k] == 0.0 && !isnan(bv[k]))
            continue;
          double t = bv[k] * exp(v[k] - mx);
          s += t;
          if (!skipped && v[k] == mx) {
            skipped = true;
            bj = bv[k];
          } else {
            rest += t;
          }
        }
        if (nan)
          s = NAN;
        double sg = s > 0 ? 1.0 : s < 0 ? -1.0 : s == 0 ? 0.0 : NAN;
        double ls = log(fabs(s));
        if (skipped && !nan && fabs((bj - 1.0) + rest) < 0.25)
          ls = log1p((bj - 1.0) + rest);
        double r = ls + mx;
        if (!sign && s < 0)
          r = NAN;
        act__store(y->dtype, y->data, o * inner + i, r);
        if (sign)
          act__store(sign->dtype, sign->data, o * inner + i, sg);
        break;
      }
      case ACT_OP_GLU: {
        int64_t h = len / 2;
        for (int64_t k = 0; k < h; k++) {
          double a = v[k], g = sigmoid_d(v[k + h]);
          act__store(y->dtype, y->data, o * h * inner + k * inner + i,
                     isnan(a) || isnan(g) ? NAN : mul_lim(a, g));
        }
        break;
      }
      case ACT_OP_STANDARDIZE: {
        /* jax.nn.standardize: variance = mean(x^2) - mean^2, with mean the
         * given one or the computed one mu. That equals var + (mu - m)(mu +
         * m) with var the two-pass variance about mu, which avoids the
         * cancellation of mean(x^2) - mu^2. */
        double mu = 0.0, ss = 0.0;
        for (int64_t k = 0; k < len; k++)
          mu += v[k];
        mu /= (double)len;
        for (int64_t k = 0; k < len; k++)
          ss += (v[k] - mu) * (v[k] - mu);
        double var_mu = ss / (double)len;
        for (int64_t k = 0; k < len; k++) {
          int64_t j = base + k * inner;
          double m = mean ? act__load(mean->dtype, mean->data,
                                      bcast_index(j, x, ms))
                          : mu;
          double vr = var ? act__load(var->dtype, var->data,
                                      bcast_index(j, x, vs))
                          : var_mu + (mu - m) * (mu + m);
          act__store(y->dtype, y->data, j, (v[k] - m) / sqrt(vr + p[0]));
        }
        break;
      }
      default:
        break;
      }
    }
  free(v), free(bv), free(mv);
done:
  ref_free_copies(owned);
  return st;
}

/* The backward half (reference_bwd.c). */
act_status_t act__reference_run_bwd(const act__call_t *c);

act_status_t act__reference_run(const act__call_t *c) {
  if (c->backward)
    return act__reference_run_bwd(c);
  if (c->n == 0 && c->ny == 0)
    return ACT_OK;
  if (act_op_info(c->desc->op)->kind == ACT_KIND_ELTWISE) {
    run_eltwise(c);
    return ACT_OK;
  }
  return run_axis(c);
}
