/*
 * dtype.c - data types, f16/bf16 conversion with one rounding, ulp
 * distances.
 *
 * Every conversion from double rounds exactly once, to nearest even, into
 * the target's value set: the value is scaled by a power of two so that the
 * target's last significant bit becomes the units digit, rounded with
 * nearbyint (the default rounding mode is round-to-nearest-even), and scaled
 * back. Below the target's smallest normal the quantum stays that of the
 * subnormals, which gives gradual underflow. A rounded magnitude of
 * 2^(emax+1) or more is infinity. All steps are exact in double.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

static const struct {
  const char *name, *alt1, *alt2;
  size_t size;
} act__dtypes[ACT_DTYPE_COUNT] = {
    [ACT_F32] = {"f32", "float32", "float", 4},
    [ACT_F16] = {"f16", "float16", "half", 2},
    [ACT_BF16] = {"bf16", "bfloat16", NULL, 2},
    [ACT_I32] = {"i32", "int32", NULL, 4},
    [ACT_U8] = {"u8", "uint8", NULL, 1},
};

const char *act_dtype_name(act_dtype_t t) {
  return (int)t >= 0 && t < ACT_DTYPE_COUNT ? act__dtypes[t].name : NULL;
}

size_t act_dtype_size(act_dtype_t t) {
  return (int)t >= 0 && t < ACT_DTYPE_COUNT ? act__dtypes[t].size : 0;
}

act_status_t act_dtype_parse(const char *name, act_dtype_t *t) {
  act__clear_error();
  if (!name || !t)
    return act__fail(ACT_NULL_POINTER, "act_dtype_parse: NULL argument");
  for (int i = 0; i < ACT_DTYPE_COUNT; i++) {
    if (strcmp(name, act__dtypes[i].name) == 0 ||
        strcmp(name, act__dtypes[i].alt1) == 0 ||
        (act__dtypes[i].alt2 && strcmp(name, act__dtypes[i].alt2) == 0)) {
      *t = (act_dtype_t)i;
      return ACT_OK;
    }
  }
  return act__fail(ACT_BAD_DTYPE, "unknown dtype '%s' (f32, f16, bf16, i32, "
                   "u8)", name);
}

/* Rounds v to p significant bits, exponents in [emin, emax]. */
static double act__round_format(double v, int p, int emin, int emax) {
  if (isnan(v) || isinf(v) || v == 0.0)
    return v;
  double a = fabs(v);
  int e = ilogb(a);
  if (e < emin)
    e = emin;
  double q = nearbyint(ldexp(a, p - 1 - e));
  q = ldexp(q, e - (p - 1));
  if (q >= ldexp(1.0, emax + 1))
    q = INFINITY;
  return copysign(q, v);
}

double act__round_f16(double v) { return act__round_format(v, 11, -14, 15); }
double act__round_bf16(double v) {
  return act__round_format(v, 8, -126, 127);
}

uint16_t act__f16_bits(double v) {
  uint16_t sign = signbit(v) ? 0x8000u : 0u;
  if (isnan(v))
    return sign | 0x7e00u;
  double a = fabs(act__round_f16(v));
  if (isinf(a))
    return sign | 0x7c00u;
  if (a < 0x1p-14) /* subnormal or zero: multiple of 2^-24 */
    return sign | (uint16_t)(a * 0x1p24);
  int e = ilogb(a);
  uint16_t mant = (uint16_t)(ldexp(a, 10 - e) - 1024.0);
  return sign | (uint16_t)((e + 15) << 10) | mant;
}

double act__f16_value(uint16_t h) {
  int e = (h >> 10) & 0x1f;
  int m = h & 0x3ff;
  double v;
  if (e == 0x1f)
    v = m ? NAN : INFINITY;
  else if (e == 0)
    v = ldexp(m, -24);
  else
    v = ldexp(m + 1024, e - 25);
  return (h & 0x8000u) ? -v : v;
}

uint16_t act__bf16_bits(double v) {
  if (isnan(v))
    return signbit(v) ? 0xffc0u : 0x7fc0u;
  float f = (float)act__round_bf16(v); /* exact: bf16 values are floats */
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)(u >> 16);
}

double act__bf16_value(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

double act__load(act_dtype_t t, const void *data, int64_t i) {
  switch (t) {
  case ACT_F32:
    return ((const float *)data)[i];
  case ACT_F16:
    return act__f16_value(((const uint16_t *)data)[i]);
  case ACT_BF16:
    return act__bf16_value(((const uint16_t *)data)[i]);
  case ACT_I32:
    return ((const int32_t *)data)[i];
  case ACT_U8:
    return ((const uint8_t *)data)[i];
  default:
    return NAN;
  }
}

void act__store(act_dtype_t t, void *data, int64_t i, double v) {
  switch (t) {
  case ACT_F32:
    ((float *)data)[i] = (float)v; /* one rounding, nearest even */
    break;
  case ACT_F16:
    ((uint16_t *)data)[i] = act__f16_bits(v);
    break;
  case ACT_BF16:
    ((uint16_t *)data)[i] = act__bf16_bits(v);
    break;
  case ACT_I32:
    ((int32_t *)data)[i] = isnan(v) ? 0
                           : v >= 2147483647.0 ? INT32_MAX
                           : v <= -2147483648.0 ? INT32_MIN
                                               : (int32_t)nearbyint(v);
    break;
  case ACT_U8:
    ((uint8_t *)data)[i] = isnan(v) ? 0 : v >= 255.0 ? 255
                           : v <= 0.0 ? 0 : (uint8_t)nearbyint(v);
    break;
  default:
    break;
  }
}

act_status_t act_convert(act_dtype_t st, const void *src, act_dtype_t dt,
                         void *dst, size_t n) {
  act__clear_error();
  if ((!src || !dst) && n)
    return act__fail(ACT_NULL_POINTER, "act_convert: NULL buffer");
  if (!act_dtype_name(st) || !act_dtype_name(dt))
    return act__fail(ACT_BAD_DTYPE, "act_convert: bad dtype %d -> %d",
                     (int)st, (int)dt);
  if (st == dt) {
    memmove(dst, src, n * act_dtype_size(st));
    return ACT_OK;
  }
  for (size_t i = 0; i < n; i++)
    act__store(dt, dst, (int64_t)i, act__load(st, src, (int64_t)i));
  return ACT_OK;
}

/* Spacing of the type's values at |r|, taking the spacing at the smallest
 * normal for smaller values (docs/accuracy.md). */
static double act__ulp(act_dtype_t t, double r) {
  int p, emin;
  switch (t) {
  case ACT_F16:
    p = 11, emin = -14;
    break;
  case ACT_BF16:
    p = 8, emin = -126;
    break;
  case ACT_F32:
    p = 24, emin = -126;
    break;
  default:
    return 1.0;
  }
  double a = fabs(r);
  int e = a == 0.0 ? emin : ilogb(a);
  if (e < emin)
    e = emin;
  return ldexp(1.0, e - (p - 1));
}

double act_ulp_error(act_dtype_t t, double y, double r) {
  if (isnan(y) && isnan(r))
    return 0.0;
  if (isnan(y) || isnan(r))
    return INFINITY;
  if (y == r)
    return 0.0;
  if (isinf(y) || isinf(r)) {
    /* An infinity against anything else is never within a bound. */
    return INFINITY;
  }
  return fabs(y - r) / act__ulp(t, r);
}

int64_t act_tensor_numel(const act_tensor_t *t) {
  if (!t || t->ndim < 0 || t->ndim > ACT_MAX_DIMS)
    return 0;
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) {
    if (t->dims[i] < 0)
      return 0;
    if (t->dims[i] && n > INT64_MAX / t->dims[i])
      return 0;
    n *= t->dims[i];
  }
  return n;
}

