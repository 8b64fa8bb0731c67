#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int act_test_failures;
int act_test_checks;

int act_test_finish(const char *name) {
  printf("%s: %d checks, %d failed\n", name, act_test_checks,
         act_test_failures);
  if (act_test_checks == 0) {
    printf("%s: no check ran\n", name);
    return 1;
  }
  return act_test_failures ? 1 : 0;
}

act_status_t act_test_run1d(act_context_t *ctx, const char *op,
                            const char *params, act_dtype_t dtype,
                            const float *x, float *y, int64_t n) {
  act_op_desc_t *desc;
  act_status_t st = act_op_desc_create_by_name(op, &desc);
  if (st)
    return st;
  if (params && *params) {
    char *copy = strdup(params), *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv && !st;
         kv = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(kv, '=');
      if (!eq) {
        st = ACT_BAD_PARAM;
        break;
      }
      *eq = '\0';
      if (strcmp(kv, "preset") == 0) {
        act_preset_t p;
        st = act_preset_parse(eq + 1, &p);
        if (!st)
          st = act_op_desc_set_preset(desc, p);
      } else {
        st = act_op_desc_set_param(desc, kv, strtod(eq + 1, NULL));
      }
    }
    free(copy);
  }
  size_t es = act_dtype_size(dtype);
  void *xb = malloc((size_t)n * es + 1), *yb = malloc((size_t)n * es + 1);
  if (!st && (!xb || !yb))
    st = ACT_OUT_OF_MEMORY;
  if (!st)
    st = act_convert(ACT_F32, x, dtype, xb, (size_t)n);
  if (!st) {
    int64_t d[1] = {n};
    act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(dtype, 1, d, xb)},
                      {ACT_ARG_Y, act_tensor_make(dtype, 1, d, yb)}};
    st = ctx ? act_forward_host(ctx, desc, 2, a)
             : act_reference_forward(desc, 2, a);
  }
  if (!st)
    st = act_convert(dtype, yb, ACT_F32, y, (size_t)n);
  free(xb);
  free(yb);
  act_op_desc_destroy(desc);
  return st;
}

act_status_t act_test_desc(const char *op, const char *params,
                           act_op_desc_t **desc) {
  act_op_desc_t *d = NULL;
  act_status_t st = act_op_desc_create_by_name(op, &d);
  *desc = NULL;
  if (st)
    return st;
  /* Two passes: the preset first, then everything else in order. */
  for (int pass = 0; pass < 2 && !st && params && *params; pass++) {
    char *copy = strdup(params), *save = NULL;
    if (!copy) {
      st = ACT_OUT_OF_MEMORY;
      break;
    }
    for (char *kv = strtok_r(copy, ",", &save); kv && !st;
         kv = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(kv, '=');
      if (!eq) {
        st = ACT_BAD_PARAM;
        break;
      }
      *eq = '\0';
      const char *val = eq + 1;
      bool is_preset = strcmp(kv, "preset") == 0;
      if (is_preset != (pass == 0))
        continue;
      if (is_preset) {
        act_preset_t p;
        st = act_preset_parse(val, &p);
        if (!st)
          st = act_op_desc_set_preset(d, p);
      } else if (strcmp(kv, "axis") == 0) {
        st = act_op_desc_set_axis(
            d, strcmp(val, "all") == 0 ? ACT_AXIS_ALL : atoi(val));
      } else {
        char *end;
        double v = strtod(val, &end);
        st = *val && !*end ? act_op_desc_set_param(d, kv, v) : ACT_BAD_PARAM;
      }
    }
    free(copy);
  }
  if (st) {
    act_op_desc_destroy(d);
    return st;
  }
  *desc = d;
  return ACT_OK;
}

/* Precision p (significant bits), smallest normal exponent emin and largest
 * exponent emax of each floating type. */
static void act_test_format(act_dtype_t t, int *p, int *emin, int *emax) {
  switch (t) {
  case ACT_F16:
    *p = 11, *emin = -14, *emax = 15;
    break;
  case ACT_BF16:
    *p = 8, *emin = -126, *emax = 127;
    break;
  default:
    *p = 24, *emin = -126, *emax = 127;
    break;
  }
}

long double act_test_round(act_dtype_t t, long double v) {
  if (isnan(v) || isinf(v) || v == 0.0L)
    return v;
  int p, emin, emax, e;
  act_test_format(t, &p, &emin, &emax);
  long double a = fabsl(v);
  frexpl(a, &e); /* a = m 2^e, m in [0.5, 1): the leading bit is 2^(e-1) */
  e -= 1;
  if (e < emin)
    e = emin; /* below the normals the quantum stays 2^(emin-p+1) */
  /* a / quantum: exact in long double (64-bit significand, p <= 24, and the
   * scaling is by a power of two). */
  long double q = ldexpl(a, p - 1 - e);
  long double whole = floorl(q), frac = q - whole;
  if (frac > 0.5L || (frac == 0.5L && fmodl(whole, 2.0L) == 1.0L))
    whole += 1.0L;
  long double r = ldexpl(whole, e - (p - 1));
  if (r >= ldexpl(1.0L, emax + 1))
    r = INFINITY;
  return v < 0 ? -r : r;
}

long double act_test_ulp(act_dtype_t t, long double v) {
  int p, emin, emax, e;
  act_test_format(t, &p, &emin, &emax);
  if (v == 0.0L || isinf(v) || isnan(v))
    e = v == 0.0L ? emin : emax;
  else {
    frexpl(fabsl(v), &e);
    e -= 1;
  }
  if (e < emin)
    e = emin;
  return ldexpl(1.0L, e - (p - 1));
}

float *act_test_sweep(size_t nrand, uint32_t seed, size_t *n) {
  static const float special[] = {
      0.0f, -0.0f, 1e-45f, -1e-45f, 1e-40f, -1e-40f, 1.17549435e-38f,
      -1.17549435e-38f, 1e-30f, -1e-30f, 1e-8f, -1e-8f, 1e-4f, -1e-4f, 0.5f,
      -0.5f, 1.0f, -1.0f, 3.0f, -3.0f, 6.0f, -6.0f, 10.0f, -10.0f, 20.0f,
      -20.0f, 88.7f, -88.7f, 89.0f, -89.0f, 100.0f, -100.0f, 104.0f, -104.0f,
      1e4f, -1e4f, 1e30f, -1e30f, 3.40282347e38f, -3.40282347e38f, INFINITY,
      -INFINITY, NAN};
  /* the kinks and ramp ends of the catalogue, swept densely around */
  static const float kinks[] = {-6.0f, -3.0f, -1.0f, 1.0f, 3.0f, 6.0f};
  size_t ns = sizeof special / sizeof *special, ngrid = 2001, nzero = 4001;
  size_t nk = sizeof kinks / sizeof *kinks, nkink = 201, nnext = 8;
  float *x = malloc((ns + ngrid + nzero + nk * (nkink + 2 * nnext) + nrand) *
                    sizeof *x);
  if (!x)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < ns; i++)
    x[k++] = special[i];
  for (size_t i = 0; i < ngrid; i++)
    x[k++] = -15.0f + 30.0f * (float)i / (float)(ngrid - 1);
  /* densely around 0 (steps of 5e-6 on [-0.01, 0.01]), where a formula's
   * small terms decide the last bits (squareplus, hard_silu near 0) */
  for (size_t i = 0; i < nzero; i++)
    x[k++] = (float)(-0.01 + 0.02 * (double)i / (double)(nzero - 1));
  for (size_t j = 0; j < nk; j++)
    for (size_t i = 0; i < nkink; i++)
      x[k++] = kinks[j] +
               (float)(-1e-3 + 2e-3 * (double)i / (double)(nkink - 1));
  /* and the nearest floats on both sides of each: a kink decided on a
   * rounded sum (hard_sigmoid's x + 3 = 6 at x = 3 - 2^-22) shows there */
  for (size_t j = 0; j < nk; j++) {
    float lo = kinks[j], hi = kinks[j];
    for (size_t i = 0; i < nnext; i++) {
      lo = nextafterf(lo, -INFINITY);
      hi = nextafterf(hi, INFINITY);
      x[k++] = lo;
      x[k++] = hi;
    }
  }
  uint32_t s = seed ? seed : 1u;
  for (size_t i = 0; i < nrand; i++) {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5; /* xorshift32 */
    double m = pow(10.0, -8.0 + 12.0 * ((s >> 8) * (1.0 / 16777216.0)));
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    x[k++] = (float)((s & 1) ? -m : m);
  }
  *n = k;
  return x;
}

void act_test_require_backends(const int seen[ACT_BACKEND_COUNT]) {
  const char *req = getenv("ACTKIT_REQUIRE_BACKENDS");
  for (int b = 1; b < ACT_BACKEND_COUNT; b++) {
    const char *name = act_backend_name((act_backend_t)b);
    bool required = false;
    for (const char *p = req ? strstr(req, name) : NULL; p && !required;
         p = strstr(p + 1, name)) {
      size_t l = strlen(name);
      required = (p == req || p[-1] == ',') && (p[l] == '\0' || p[l] == ',');
    }
    if (seen[b])
      continue;
    if (required)
      CHECK(false, "backend %s is required ($ACTKIT_REQUIRE_BACKENDS=%s) "
            "but has no device here", name, req);
    else
      printf("SKIP %s: no device (set ACTKIT_REQUIRE_BACKENDS to make this "
             "a failure)\n", name);
  }
}
