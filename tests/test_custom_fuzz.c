/*
 * test_custom_fuzz.c - the custom-op language against damaged sources:
 * realistic custom ops with bytes deleted, inserted and replaced, 100,000
 * times from a fixed seed. Every registration must either succeed or
 * return a status with a message; nothing may crash, read out of bounds
 * or leak (this suite earns its keep in the ASan/UBSan build). Sources
 * that still register are evaluated by the reference on special values.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const seeds[] = {
    "// actkit: op swish_beta(beta = 1.0) forward swish_beta derivative "
    "swish_beta_grad\n"
    "float swish_beta(float x, float beta) {\n"
    "  return x * sigmoid(beta * x);\n"
    "}\n"
    "float swish_beta_grad(float x, float beta) {\n"
    "  float bx = beta * x;\n"
    "  float s = sigmoid(bx);\n"
    "  float t = fabs(bx) > 100.0f ? 0.0f : bx * (1.0f - s);\n"
    "  return s * (1.0f + t);\n"
    "}\n",
    "// actkit: op loopy(a = 2.0, b = 0.5)\n"
    "float h(float v) { int i; float s = 0.0f; for (i = 0; i < 4; i++) "
    "{ s += v * 0.25f; } return s; }\n"
    "float loopy(float x, float a, float b) {\n"
    "  if (x > a) { return h(x) - b; } else if (x < -a) return -1.0f;\n"
    "  while (x > 1.0e3f) x = x / 2.0f;\n"
    "  bool c = x == 0.0f && !(b != b);\n"
    "  return c ? 0.0f : tanh(x) * erf(x) + pow(fabs(x), b) +\n"
    "         clamp(x, -1.0f, 1.0f);\n"
    "}\n",
};

static unsigned rs = 20261123u;
static unsigned rnd(void) {
  rs = rs * 1103515245u + 12345u;
  return rs >> 8;
}

int main(void) {
  static const char toks[] =
      "(){};,+-*/%<>=!&|?:.#\"'\\ \n\tefx0123456789_";
  int ok = 0, refused = 0;
  for (int it = 0; it < 100000 && act_custom_count() < 200; it++) {
    const char *seed = seeds[rnd() % 2];
    size_t n = strlen(seed);
    char *s = malloc(n + 64);
    if (!s)
      return 1;
    memcpy(s, seed, n + 1);
    int muts = 1 + (int)(rnd() % 4);
    for (int m = 0; m < muts; m++) {
      size_t len = strlen(s), pos = rnd() % (len ? len : 1);
      unsigned kind = rnd() % 3;
      char c = toks[rnd() % (sizeof toks - 1)];
      if (kind == 0 && len > 1) {
        memmove(s + pos, s + pos + 1, len - pos);
      } else if (kind == 1 && len < n + 60) {
        memmove(s + pos + 1, s + pos, len - pos + 1);
        s[pos] = c;
      } else {
        s[pos] = c;
      }
    }
    act_op_t ops[4];
    size_t cnt = 0;
    act_status_t st = act_custom_register_source(s, "fuzz.cl", ops, 4, &cnt);
    if (st == ACT_OK) {
      ok++;
      for (size_t k = 0; k < cnt && k < 4; k++) {
        act_op_desc_t *d;
        CHECK_OK(act_op_desc_create(ops[k], &d));
        float xs[7] = {0.0f, -1.5f, 3.0f, 1e30f, -1e-30f, INFINITY, NAN};
        float ys[7];
        int64_t dim[1] = {7};
        act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dim, xs)},
                          {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dim, ys)}};
        CHECK_OK(act_reference_forward(d, 2, a));
        act_op_desc_destroy(d);
      }
    } else {
      refused++;
      CHECK(*act_last_error() != '\0', "status %s without a message for:\n%s",
            act_status_name(st), s);
    }
    free(s);
  }
  printf("%d damaged sources registered, %d refused with a message\n", ok,
         refused);
  CHECK(refused > 1000 && ok > 10, "the mutations should give both");
  return act_test_finish("test_custom_fuzz");
}
