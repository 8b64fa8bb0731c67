/*
 * reference_bwd.c - the CPU reference of backward (docs/ops.md, "Gradients"): every op's
 * gradient in double precision from its closed form, rounded once to the
 * output type (dx = dy * f'(x), computed in double, then one rounding).
 *
 * Kinks follow the one-sided derivative of the branch the docs/ops.md formula
 * selects at the kink, with jax's exceptions (relu'(0) = 0; relu6,
 * hard_sigmoid and sparse_sigmoid have derivative 0 at both ends of their
 * ramp, and hard_silu uses that; hard_tanh'(+-1) = 1; leaky_relu'(0) =
 * prelu'(0) = 1; elu'(0) = alpha). Every derivative is written so that a
 * finite x never meets inf*0 or an overflow inside (tanh' as
 * 4e^-2|x|/(1 + e^-2|x|)^2, sigmoid' from e^-|x|, mish from e^-x for x > 0,
 * gelu from erfc and e^(-x^2/2)); at x = +-inf each gives its limit. NaN in
 * x or dy gives NaN. f'(x) itself may overflow for a finite x (exp at
 * x > 709, celu with a negative alpha): dx is then dy * inf, and 0 for
 * dy = 0 (f' is finite at every finite x; only x = +-inf gives 0 * inf).
 *
 * Axis ops (dy is the gradient of the forward output):
 *   softmax      dx = y (dy - sum(dy y)), masked elements 0
 *   softmin      the negative of that (y = softmax(-x))
 *   log_softmax  dx = dy - e^y sum(dy), masked elements 0
 *   logsumexp    dx = dy b e^(x - m) / sum(b e^(x - m)) (from x, not y)
 *   glu          da = dy sigmoid(b), db = dy a sigmoid(b) sigmoid(-b)
 *   standardize  through the computed mean and variance (jax: variance =
 *                mean(x^2) - mean^2); a given mean or variance is a constant
 *   prelu        dx, and dalpha summed over the broadcast dimensions
 */
#include "ref_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define INV_SQRT_2PI 0.39894228040143267793994605993438

/* sigmoid'(x) = sigmoid(x) sigmoid(-x) = e^-|x| / (1 + e^-|x|)^2. */
static double dsigmoid_d(double x) {
  double t = exp(-fabs(x));
  return t / ((1.0 + t) * (1.0 + t));
}

/* d/dx x sigmoid(z), z = beta x: sigmoid(z) + z sigmoid(z) sigmoid(-z). */
static double dswish_d(double x, double beta) {
  if (beta == 0.0)
    return 0.5; /* x sigmoid(0) = x/2, also at x = +-inf */
  double z = beta * x;
  if (isinf(z))
    return z > 0 ? 1.0 : 0.0;
  return sigmoid_d(z) + z * dsigmoid_d(z);
}

/* f'(x) of an element-wise op (x not NaN; prelu's slope in p[0]). */
static double deriv_d(act_op_t op, const double *p, double x) {
  if ((int)op >= ACT_OP_CUSTOM_BASE)
    return act__custom_eval((int)op, 1, p, x);
  switch (op) {
  case ACT_OP_RELU: {
    /* The same branches as the forward: x > threshold ? x : slope*(x - t),
     * then min(., max_value) (taken only when strictly above). */
    double s = p[ACT__RELU_SLOPE], t = p[ACT__RELU_THRESHOLD];
    double m = p[ACT__RELU_MAX];
    if (x > t)
      return x > m ? 0.0 : 1.0;
    double r = s == 0.0 ? 0.0 : s * (x - t);
    return r > m ? 0.0 : s;
  }
  case ACT_OP_RELU6:
    return x > 0.0 && x < 6.0 ? 1.0 : 0.0;
  case ACT_OP_LEAKY_RELU:
  case ACT_OP_PRELU:
    return x >= 0 ? 1.0 : p[0];
  case ACT_OP_ELU:
    return x > 0 ? 1.0 : p[0] * exp(x);
  case ACT_OP_SELU:
    return SELU_LAMBDA * (x > 0 ? 1.0 : SELU_ALPHA * exp(x));
  case ACT_OP_CELU:
    return x > 0 ? 1.0 : exp(x / p[0]);
  case ACT_OP_GELU: {
    if (isinf(x))
      return x > 0 ? 1.0 : 0.0;
    if (p[0] == 0.0) {
      /* Phi(x) + x phi(x); in the left tail both are tiny, and Phi is
       * x^2 times smaller than x phi: no cancellation there. */
      double phi = INV_SQRT_2PI * exp(-0.5 * x * x);
      return 0.5 * erfc(-x * INV_SQRT2) + x * phi;
    }
    /* x sigmoid(2u), u = k (x + c x^3): sigmoid(2u) + x sigmoid'(2u) 2u'. */
    double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
    double du = SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x);
    double ds = dsigmoid_d(2.0 * u);
    return sigmoid_d(2.0 * u) + (ds == 0.0 ? 0.0 : 2.0 * x * ds * du);
  }
  case ACT_OP_SILU:
    return dswish_d(x, p[0]);
  case ACT_OP_GELU_QUICK:
    return dswish_d(x, 1.702);
  case ACT_OP_SIGMOID:
    return dsigmoid_d(x);
  case ACT_OP_LOG_SIGMOID:
    return sigmoid_d(-x);
  case ACT_OP_TANH: {
    double t = exp(-2.0 * fabs(x));
    return 4.0 * t / ((1.0 + t) * (1.0 + t));
  }
  case ACT_OP_HARD_SIGMOID:
  case ACT_OP_HARD_SILU: {
    /* h = clamp(alpha (x + beta/alpha), 0, 1), the forward's expression;
     * h' = alpha strictly inside the ramp, 0 at and beyond its ends. */
    double a = p[0], b = p[1], r, h, dh;
    if (a == 0.0) {
      h = b < 0 ? 0.0 : b > 1 ? 1.0 : b;
      dh = 0.0;
    } else {
      r = isinf(x) ? a * x : a * (x + b / a);
      h = r < 0 ? 0.0 : r > 1 ? 1.0 : r;
      dh = r > 0.0 && r < 1.0 ? a : 0.0;
    }
    if (op == ACT_OP_HARD_SIGMOID)
      return dh;
    return dh == 0.0 ? h : h + x * dh; /* (x h)' = h + x h' */
  }
  case ACT_OP_HARD_TANH:
    return x >= -1.0 && x <= 1.0 ? 1.0 : 0.0;
  case ACT_OP_SOFTPLUS: {
    double z = p[0] * x;
    if (z > p[1])
      return 1.0; /* the linear branch */
    return sigmoid_d(z);
  }
  case ACT_OP_SOFTSIGN: {
    double d = 1.0 + fabs(x);
    return 1.0 / (d * d);
  }
  case ACT_OP_MISH: {
    /* mish' = tanh(sp) + x sech^2(sp) sigmoid(x), sp = softplus(x). With
     * e = e^x: tanh(sp) = e(e + 2)/(e(e + 2) + 2), and x sech^2(sp)
     * sigmoid(x) = x 4e(1 + e)/((1 + e)^2 + 1)^2; for x > 0 the same in
     * q = e^-x, so nothing overflows. */
    if (isinf(x))
      return x > 0 ? 1.0 : 0.0;
    if (x <= 0) {
      double e = exp(x), w = e * (e + 2.0), d = (1.0 + e) * (1.0 + e) + 1.0;
      return w / (w + 2.0) + x * 4.0 * e * (1.0 + e) / (d * d);
    }
    double q = exp(-x), d = (1.0 + q) * (1.0 + q) + q * q;
    return (1.0 + 2.0 * q) / (1.0 + 2.0 * q + 2.0 * q * q) +
           x * 4.0 * q * q * (1.0 + q) / (d * d);
  }
  case ACT_OP_SQUAREPLUS: {
    /* (1 + x/r)/2, r = sqrt(x^2 + b); for x < 0 the sum cancels, so
     * 1 + x/r = b/((r - x) r). b = 0 at x = 0: 1/2. */
    if (isinf(x))
      return x > 0 ? 1.0 : 0.0;
    double r = sqrt(x * x + p[0]);
    if (r == 0.0)
      return 0.5;
    return x >= 0 ? 0.5 * (1.0 + x / r) : 0.5 * p[0] / ((r - x) * r);
  }
  case ACT_OP_SPARSE_PLUS:
    return x <= -1.0 ? 0.0 : x >= 1.0 ? 1.0 : 0.5 * (x + 1.0);
  case ACT_OP_SPARSE_SIGMOID:
    return x > -1.0 && x < 1.0 ? 0.5 : 0.0;
  case ACT_OP_EXP:
    return exp(x);
  case ACT_OP_LINEAR:
    return 1.0;
  case ACT_OP_HARD_SHRINK:
    return fabs(x) > p[0] ? 1.0 : 0.0;
  case ACT_OP_SOFT_SHRINK:
    return x > p[0] || x < -p[0] ? 1.0 : 0.0;
  case ACT_OP_TANH_SHRINK: { /* 1 - tanh'(x) = tanh(x)^2 */
    double t = tanh(x);
    return t * t;
  }
  case ACT_OP_THRESHOLD:
    return x > p[0] ? 1.0 : 0.0;
  case ACT_OP_CLIP: /* min(max(x, lo), hi): x itself on [lo, hi] */
    return x < p[0] || x > p[1] ? 0.0 : 1.0;
  default:
    return NAN;
  }
}

/* Compensated (Neumaier) summation: the sums of backward (sum dy y, the
 * dalpha sums, ...) are of exact double products of f32 values, and a
 * difference like dy - sum(dy y) may cancel, so the sums are kept to
 * about twice double precision. Infinities and NaN propagate as in a
 * plain sum. */
typedef struct {
  long double s, c;
} ksum_t;

static void ksum_add(ksum_t *k, long double v) {
  long double t = k->s + v;
  if (isfinite(t)) {
    if (fabsl(k->s) >= fabsl(v))
      k->c += (k->s - t) + v;
    else
      k->c += (v - t) + k->s;
  }
  k->s = t;
}

static long double ksum_get(const ksum_t *k) {
  return isfinite(k->s) ? k->s + k->c : k->s;
}

/* ---- element-wise --------------------------------------------------------- */

#define TILE 2048

static act_status_t run_eltwise_bwd(const act__call_t *c) {
  const act_tensor_t *x = c->arg[ACT_ARG_X], *dy = c->arg[ACT_ARG_DY];
  const act_tensor_t *dx = c->arg[ACT_ARG_DX];
  const act_tensor_t *alpha = c->arg[ACT_ARG_ALPHA];
  const act_tensor_t *dalpha = c->arg[ACT_ARG_DALPHA];
  act_op_t op = c->desc->op;
  double p[ACT_MAX_PARAMS];
  memcpy(p, c->desc->p, sizeof p);
  int64_t na = alpha ? act_tensor_numel(alpha) : 0;
  ksum_t *da = NULL;
  if (dalpha) {
    da = calloc((size_t)(na ? na : 1), sizeof *da);
    if (!da)
      return act__fail(ACT_OUT_OF_MEMORY, "reference: out of memory");
  }
  double *al = NULL;
  if (alpha) {
    al = malloc(sizeof *al * (size_t)(na ? na : 1));
    if (!al) {
      free(da);
      return act__fail(ACT_OUT_OF_MEMORY, "reference: out of memory");
    }
    for (int64_t k = 0; k < na; k++)
      al[k] = act__load(alpha->dtype, alpha->data, k);
  }
  double xv[TILE], gv[TILE];
  for (int64_t base = 0; base < c->n; base += TILE) {
    int64_t m = c->n - base < TILE ? c->n - base : TILE;
    for (int64_t i = 0; i < m; i++) {
      xv[i] = act__load(x->dtype, x->data, base + i);
      gv[i] = act__load(dy->dtype, dy->data, base + i);
    }
    for (int64_t i = 0; i < m; i++) {
      double v = xv[i], g = gv[i];
      if (al) { /* prelu with a slope tensor: one per channel, or one */
        int64_t ch = na == 1 ? 0 : ((base + i) / c->inner) % c->len;
        p[0] = al[ch];
        if (da) /* d y / d alpha = x for x < 0, else 0 */
          ksum_add(&da[ch], isnan(v) ? NAN : g * (v < 0 ? v : 0.0));
      }
      if (isnan(v) || isnan(g)) {
        gv[i] = NAN;
      } else {
        /* f'(x) is finite for every finite x, so dy = 0 gives 0 even
         * where f' overflows double (exp past x = 709.78). */
        double f = deriv_d(op, p, v);
        gv[i] = g == 0.0 && isfinite(v) ? g * copysign(0.0, f) : g * f;
      }
    }
    for (int64_t i = 0; i < m; i++)
      act__store(dx->dtype, dx->data, base + i, gv[i]);
  }
  if (da)
    for (int64_t k = 0; k < na; k++)
      act__store(dalpha->dtype, dalpha->data, k, ksum_get(&da[k]));
  free(da);
  free(al);
  return ACT_OK;
}

/* ---- axis ops ------------------------------------------------------------- */

static act_status_t run_axis_bwd(const act__call_t *c0) {
  act__call_t call = *c0, *c = &call;
  act_tensor_t copies[ACT_ARG_COUNT];
  void *owned[ACT_ARG_COUNT];
  const act_tensor_t *dx = c->arg[ACT_ARG_DX];
  double *v = NULL, *g = NULL, *w = NULL;
  unsigned char *mv = NULL;
  /* Inputs that overlap dx are read from copies (dx written in place). */
  act_status_t st = ref_copy_inputs(c, dx, 1u << ACT_ARG_DX, copies, owned);
  if (st)
    goto done;
  act_op_t op = c->desc->op;
  const double *p = c->desc->p;
  /* x's layout: softmax family reads y, of the same shape. */
  const act_tensor_t *x = c->arg[ACT_ARG_X] ? c->arg[ACT_ARG_X]
                                             : c->arg[ACT_ARG_Y];
  const act_tensor_t *y = c->arg[ACT_ARG_Y], *dy = c->arg[ACT_ARG_DY];
  int64_t len = c->len, inner = c->inner, outer = c->outer;
  if (op == ACT_OP_LOGSUMEXP && c->axis < 0) {
    outer = inner = 1;
    len = c->n;
  }
  size_t rl = (size_t)(len ? len : 1);
  v = malloc(sizeof *v * rl);
  g = malloc(sizeof *g * rl);
  w = malloc(sizeof *w * rl);
  mv = malloc(rl);
  if (!v || !g || !w || !mv) {
    st = act__fail(ACT_OUT_OF_MEMORY, "reference: out of memory for a row "
                   "of %lld elements", (long long)len);
    goto done;
  }
  const act_tensor_t *where = c->arg[ACT_ARG_WHERE], *b = c->arg[ACT_ARG_B];
  const act_tensor_t *mean = c->arg[ACT_ARG_MEAN];
  const act_tensor_t *var = c->arg[ACT_ARG_VARIANCE];
  int64_t bs[ACT_MAX_DIMS], ms[ACT_MAX_DIMS], vs[ACT_MAX_DIMS];
  if (b)
    act__broadcast_strides(b, x, bs);
  if (mean)
    act__broadcast_strides(mean, x, ms);
  if (var)
    act__broadcast_strides(var, x, vs);
  bool with_sign = op == ACT_OP_LOGSUMEXP && p[1] != 0.0;

  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * len * inner + i;
      for (int64_t k = 0; k < len; k++)
        v[k] = act__load(x->dtype, x->data, base + k * inner);
      switch (op) {
      case ACT_OP_SOFTMAX:
      case ACT_OP_SOFTMIN:
      case ACT_OP_LOG_SOFTMAX: {
        /* v is y here. */
        for (int64_t k = 0; k < len; k++) {
          g[k] = act__load(dy->dtype, dy->data, base + k * inner);
          mv[k] = !where ||
                  ((const uint8_t *)where->data)[base + k * inner] != 0;
        }
        ksum_t ks = {0, 0};
        for (int64_t k = 0; k < len; k++)
          if (mv[k])
            ksum_add(&ks, op == ACT_OP_LOG_SOFTMAX
                              ? (long double)g[k]
                              : (long double)g[k] * (long double)v[k]);
        /* In long double: dy - sum(dy y) cancels on peaked rows, and the
         * products' double roundings would show through it. */
        long double s = ksum_get(&ks);
        for (int64_t k = 0; k < len; k++) {
          long double r;
          if (!mv[k])
            r = 0.0;
          else if (op == ACT_OP_LOG_SOFTMAX)
            r = g[k] - expl((long double)v[k]) * s;
          else
            r = v[k] * ((long double)g[k] - s);
          if (op == ACT_OP_SOFTMIN)
            r = -r;
          act__store(dx->dtype, dx->data, base + k * inner, (double)r);
        }
        break;
      }
      case ACT_OP_LOGSUMEXP: {
        /* dx_k = dy b_k e^(x_k - m) / s, s = sum b e^(x - m) over the
         * terms that take part (b != 0), m their max (0 if not finite),
         * as the forward computes them. */
        double gy = act__load(dy->dtype, dy->data, o * inner + i);
        double mx = -INFINITY;
        bool nan = isnan(gy);
        for (int64_t k = 0; k < len; k++) {
          w[k] = b ? act__load(b->dtype, b->data,
                               bcast_index(base + k * inner, x, bs))
                   : 1.0;
          if (w[k] == 0.0)
            continue;
          if (isnan(v[k]) || isnan(w[k]))
            nan = true;
          else if (v[k] > mx)
            mx = v[k];
        }
        if (!isfinite(mx))
          mx = 0.0;
        ksum_t ks = {0, 0};
        for (int64_t k = 0; k < len; k++) {
          g[k] = w[k] == 0.0 ? 0.0 : w[k] * exp(v[k] - mx);
          ksum_add(&ks, g[k]);
        }
        double s = (double)ksum_get(&ks);
        bool bad = nan || (!with_sign && s < 0); /* the forward's NaNs */
        for (int64_t k = 0; k < len; k++) {
          double r;
          if (bad)
            r = NAN;
          else if (s == 0.0 || g[k] == 0.0)
            r = 0.0; /* nothing takes part (all -inf): no gradient */
          else
            r = gy * (g[k] / s);
          act__store(dx->dtype, dx->data, base + k * inner, r);
        }
        break;
      }
      case ACT_OP_GLU: {
        int64_t h = len / 2;
        for (int64_t k = 0; k < h; k++) {
          double a = v[k], z = v[k + h];
          double gk = act__load(dy->dtype, dy->data,
                                o * h * inner + k * inner + i);
          double da, db;
          if (isnan(a) || isnan(z) || isnan(gk)) {
            da = db = NAN;
          } else {
            double sz = dsigmoid_d(z);
            da = gk * sigmoid_d(z);
            db = gk * (sz == 0.0 ? 0.0 : a * sz);
          }
          act__store(dx->dtype, dx->data, base + k * inner, da);
          act__store(dx->dtype, dx->data, base + (k + h) * inner, db);
        }
        break;
      }
      case ACT_OP_STANDARDIZE: {
        /* y_k = (x_k - m_k)/sigma_k, sigma_k = sqrt(v_k + eps), with m the
         * computed mean mu (or a given constant) and v = mean(x^2) - m^2
         * (or a given constant). Then
         *   dx_j = dy_j/sigma_j - [m computed] A/n
         *          - [v computed] B (x_j - [m computed] mu)/n,
         *   A = sum dy_k/sigma_k, B = sum dy_k (x_k - m_k)/sigma_k^3. */
        double n = (double)len;
        ksum_t kmu = {0, 0}, kss = {0, 0}, kA = {0, 0}, kB = {0, 0};
        for (int64_t k = 0; k < len; k++)
          ksum_add(&kmu, v[k]);
        double mu = (double)(ksum_get(&kmu) / n);
        for (int64_t k = 0; k < len; k++)
          ksum_add(&kss, (v[k] - mu) * (v[k] - mu));
        double var_mu = (double)(ksum_get(&kss) / n);
        for (int64_t k = 0; k < len; k++) {
          int64_t j = base + k * inner;
          double m = mean ? act__load(mean->dtype, mean->data,
                                      bcast_index(j, x, ms))
                          : mu;
          double vr = var ? act__load(var->dtype, var->data,
                                      bcast_index(j, x, vs))
                          : var_mu + (mu - m) * (mu + m);
          double sg = sqrt(vr + p[0]);
          g[k] = act__load(dy->dtype, dy->data, j);
          w[k] = sg;
          long double sl = sg;
          ksum_add(&kA, g[k] / sl);
          ksum_add(&kB, g[k] * ((long double)v[k] - m) / (sl * sl * sl));
        }
        /* The terms below cancel on rows with few elements: long double. */
        long double A = ksum_get(&kA), B = ksum_get(&kB);
        for (int64_t k = 0; k < len; k++) {
          long double r = g[k] / (long double)w[k];
          if (!mean)
            r -= A / n;
          if (!var)
            r -= B * ((long double)v[k] - (mean ? 0.0 : mu)) / n;
          act__store(dx->dtype, dx->data, base + k * inner, (double)r);
        }
        break;
      }
      default:
        break;
      }
    }
done:
  free(v), free(g), free(w), free(mv);
  ref_free_copies(owned);
  (void)y;
  return st;
}

act_status_t act__reference_run_bwd(const act__call_t *c) {
  if (c->n == 0 && c->ny == 0) {
    /* Nothing to differentiate; dalpha of an empty x is 0. */
    const act_tensor_t *da = c->arg[ACT_ARG_DALPHA];
    for (int64_t k = 0; da && k < act_tensor_numel(da); k++)
      act__store(da->dtype, da->data, k, 0.0);
    return ACT_OK;
  }
  if (act_op_info(c->desc->op)->kind == ACT_KIND_ELTWISE)
    return run_eltwise_bwd(c);
  return run_axis_bwd(c);
}
