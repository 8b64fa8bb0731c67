/*
 * test_oracle.c - the CPU reference against an independent high-precision
 * oracle (tests/oracle.py, mpmath), for every element-wise op (docs/ops.md).
 *
 * Usage: test_oracle ORACLE.tsv
 *
 * Each row of the TSV gives op, params ("k=v,..." or "-"), a float32 input
 * (8 hex digits of its bits) and the exact value of the op there (a decimal
 * of 30 significant digits, or nan / inf / -inf). The rows of one (op,
 * params) group run through act_reference_forward in one f32 call of shape
 * [n], and each result is checked to be correctly rounded (docs/accuracy.md: the
 * reference computes in double and rounds once):
 *
 *   |y - exact| <= (0.5 + 1e-6) ulp(exact)
 *
 * ulp(exact) is the spacing of float32 at |exact| (at FLT_MIN below it); the
 * 1e-6 allows for the double rounding (exact -> double -> float) when the
 * exact value lies within ~2^-53 relative of a rounding boundary. The exact
 * decimal is parsed with strtold, and the difference is formed in long
 * double. NaN must give NaN; an exact inf must be that inf; a finite exact
 * value at or beyond FLT_MAX + ulp/2 (which rounds to inf) must be inf.
 *
 * The test fails on any row past the bound, on a TSV with fewer than
 * MIN_ROWS rows, and on an element-wise op of the catalogue that the TSV
 * does not cover, so that a broken or stale generator cannot pass.
 */
#include "testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_ROWS 1000
#define MIN_GROUP_ROWS 100
#define BOUND_ULP (0.5L + 1e-6L)
#define MAX_REPORTS 50 /* failing rows printed in full */

typedef struct {
  uint32_t xbits;
  char *exact; /* the decimal, "nan", "inf" or "-inf" */
} row_t;

typedef struct {
  char *op, *params;
  row_t *rows;
  size_t n, cap;
} group_t;

static group_t *groups;
static size_t ngroups, capgroups;

static void *xrealloc(void *p, size_t bytes) {
  void *q = realloc(p, bytes);
  if (!q) {
    fprintf(stderr, "test_oracle: out of memory\n");
    exit(1);
  }
  return q;
}

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (!d) {
    fprintf(stderr, "test_oracle: out of memory\n");
    exit(1);
  }
  return d;
}

static group_t *group_for(const char *op, const char *params) {
  if (ngroups && strcmp(groups[ngroups - 1].op, op) == 0 &&
      strcmp(groups[ngroups - 1].params, params) == 0)
    return &groups[ngroups - 1];
  for (size_t i = 0; i < ngroups; i++)
    if (strcmp(groups[i].op, op) == 0 && strcmp(groups[i].params, params) == 0)
      return &groups[i];
  if (ngroups == capgroups) {
    capgroups = capgroups ? 2 * capgroups : 64;
    groups = xrealloc(groups, capgroups * sizeof *groups);
  }
  group_t *g = &groups[ngroups++];
  memset(g, 0, sizeof *g);
  g->op = xstrdup(op);
  g->params = xstrdup(params);
  return g;
}

/* Reads the TSV; returns the number of rows, or -1 (reported) on a bad
 * file. */
static long read_tsv(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "test_oracle: cannot open %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  char line[4096];
  long nrows = 0, lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    size_t len = strlen(line);
    if (len && line[len - 1] != '\n' && !feof(f)) {
      fprintf(stderr, "%s:%ld: line too long\n", path, lineno);
      fclose(f);
      return -1;
    }
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (len == 0 || line[0] == '#')
      continue;
    char *field[4];
    int nf = 0;
    char *s = line;
    while (nf < 4) {
      field[nf++] = s;
      char *tab = strchr(s, '\t');
      if (!tab)
        break;
      *tab = '\0';
      s = tab + 1;
    }
    char *end;
    errno = 0;
    unsigned long bits = nf == 4 ? strtoul(field[2], &end, 16) : 0;
    if (nf != 4 || strlen(field[2]) != 8 || *end || errno ||
        !*field[3] || strchr(field[3], '\t')) {
      fprintf(stderr, "%s:%ld: expected op<TAB>params<TAB>bits<TAB>exact\n",
              path, lineno);
      fclose(f);
      return -1;
    }
    group_t *g = group_for(field[0], field[1]);
    if (g->n == g->cap) {
      g->cap = g->cap ? 2 * g->cap : 512;
      g->rows = xrealloc(g->rows, g->cap * sizeof *g->rows);
    }
    g->rows[g->n].xbits = (uint32_t)bits;
    g->rows[g->n].exact = xstrdup(field[3]);
    g->n++;
    nrows++;
  }
  fclose(f);
  return nrows;
}

static float f32_of(uint32_t bits) {
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* An op descriptor for op with "k=v,k=v" (or "-") parameters. */
static act_status_t make_desc(const char *op, const char *params,
                              act_op_desc_t **desc) {
  act_status_t st = act_op_desc_create_by_name(op, desc);
  if (st || strcmp(params, "-") == 0)
    return st;
  char *copy = xstrdup(params), *save = NULL;
  for (char *kv = strtok_r(copy, ",", &save); kv && !st;
       kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq) {
      st = ACT_BAD_PARAM;
      break;
    }
    *eq = '\0';
    st = act_op_desc_set_param(*desc, kv, strtod(eq + 1, NULL));
  }
  free(copy);
  if (st) {
    act_op_desc_destroy(*desc);
    *desc = NULL;
  }
  return st;
}

/* Spacing of float32 at |e| (at FLT_MIN for |e| < FLT_MIN). */
static long double ulp_f32(long double e) {
  long double a = fabsl(e);
  if (a < (long double)FLT_MIN)
    return ldexpl(1.0L, -149);
  return ldexpl(1.0L, ilogbl(a) - 23);
}

/* Error of got against the exact decimal, in ulps: 0 for a match of the
 * special values, INFINITY for a mismatch of them. */
static long double ulp_err(float got, const char *exact) {
  if (strcmp(exact, "nan") == 0)
    return isnan(got) ? 0.0L : INFINITY;
  if (isnan(got))
    return INFINITY;
  errno = 0;
  char *end;
  long double e = strtold(exact, &end);
  if (*end || end == exact)
    return NAN; /* unparseable: reported as a failure */
  /* Overflow of long double (|exact| > ~1e4932) gives +-HUGE_VALL = inf;
   * underflow gives a tiny or zero value: both are right for this use. */
  const long double to_inf = ldexpl(1.0L, 128) - ldexpl(1.0L, 103);
  if (isinf(e) || fabsl(e) >= to_inf) /* rounds to inf: must be inf */
    return isinf(got) && !signbit(got) == !signbit(e) ? 0.0L : INFINITY;
  if (isinf(got))
    return INFINITY;
  return fabsl((long double)got - e) / ulp_f32(e);
}

static int failures_printed;

static void check_group(const group_t *g, long double *max_err,
                        uint32_t *worst) {
  *max_err = 0.0L;
  *worst = 0;
  act_op_desc_t *desc = NULL;
  act_status_t st = make_desc(g->op, g->params, &desc);
  CHECK(st == ACT_OK, "%s %s: descriptor: %s: %s", g->op, g->params,
        act_status_name(st), act_last_error());
  if (st)
    return;
  float *x = malloc(g->n * sizeof *x), *y = malloc(g->n * sizeof *y);
  if (!x || !y) {
    fprintf(stderr, "test_oracle: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < g->n; i++) {
    x[i] = f32_of(g->rows[i].xbits);
    y[i] = 1234.5f; /* so that an unwritten output shows */
  }
  int64_t dims[1] = {(int64_t)g->n};
  act_arg_t args[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                       {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)}};
  CHECK_OK(st = act_reference_forward(desc, 2, args));
  if (!st) {
    for (size_t i = 0; i < g->n; i++) {
      const row_t *r = &g->rows[i];
      long double err = ulp_err(y[i], r->exact);
      bool ok = err <= BOUND_ULP; /* false for NaN */
      act_test_checks++;
      if (!ok) {
        act_test_failures++;
        if (failures_printed++ < MAX_REPORTS)
          fprintf(stderr,
                  "FAIL %s [%s] x = %08x (%.9g): got %.9g (%a), exact %s: "
                  "%.6Lg ulp > 0.5 + 1e-6\n",
                  g->op, g->params, (unsigned)r->xbits, (double)x[i],
                  (double)y[i], (double)y[i], r->exact, err);
      }
      if (!(err <= *max_err)) { /* NaN and inf count as the worst */
        *max_err = isnan(err) ? INFINITY : err;
        *worst = r->xbits;
      }
    }
  }
  free(x);
  free(y);
  act_op_desc_destroy(desc);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_oracle ORACLE.tsv (from tests/oracle.py)\n");
    return 2;
  }
  long nrows = read_tsv(argv[1]);
  CHECK(nrows >= MIN_ROWS, "%s: %ld rows; the oracle must give >= %d",
        argv[1], nrows, MIN_ROWS);
  if (nrows < 0)
    return act_test_finish("test_oracle");

  /* Every element-wise op of the catalogue must be covered. */
  for (int op = 0; op < ACT_OP_COUNT; op++) {
    const act_op_info_t *info = act_op_info((act_op_t)op);
    if (!info || info->kind != ACT_KIND_ELTWISE)
      continue;
    size_t rows = 0;
    for (size_t i = 0; i < ngroups; i++) {
      act_op_t gop;
      if (act_op_lookup(groups[i].op, &gop) == ACT_OK && gop == (act_op_t)op)
        rows += groups[i].n;
    }
    CHECK(rows >= MIN_GROUP_ROWS, "op %s: %zu oracle rows (want >= %d)",
          info->name, rows, MIN_GROUP_ROWS);
  }

  printf("%-14s %-44s %6s %15s  %s\n", "op", "params", "rows", "max ulp",
         "at input");
  long double overall = 0.0L;
  for (size_t i = 0; i < ngroups; i++) {
    const group_t *g = &groups[i];
    CHECK(g->n >= MIN_GROUP_ROWS, "%s %s: %zu rows (want >= %d)", g->op,
          g->params, g->n, MIN_GROUP_ROWS);
    long double mx;
    uint32_t worst;
    check_group(g, &mx, &worst);
    printf("%-14s %-44s %6zu %15.12Lf  %08x (%.9g)\n", g->op, g->params, g->n,
           mx, (unsigned)worst, (double)f32_of(worst));
    if (!(mx <= overall))
      overall = mx;
  }
  printf("%zu groups, %ld rows, max %.12Lf ulp (bound 0.5 + 1e-6)\n", ngroups,
         nrows, overall);
  if (failures_printed > MAX_REPORTS)
    fprintf(stderr, "(%d failing rows, first %d shown)\n", failures_printed,
            MAX_REPORTS);

  for (size_t i = 0; i < ngroups; i++) {
    for (size_t k = 0; k < groups[i].n; k++)
      free(groups[i].rows[k].exact);
    free(groups[i].rows);
    free(groups[i].op);
    free(groups[i].params);
  }
  free(groups);
  return act_test_finish("test_oracle");
}
