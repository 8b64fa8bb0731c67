/*
 * custom.c - the registry of custom element-wise ops (actkit.h, "Custom
 * element-wise ops"): registration from a descriptor or from an annotated
 * source file, the op info the rest of the runtime sees, the reference
 * (the parsed source evaluated in double, or the user's callbacks), and
 * the device text that kernels.c inserts into eltwise.cl / eltwise_bwd.cl
 * programs.
 *
 * Entries are made once and never change or go away, so readers take the
 * lock only to find an entry, then use it unlocked.
 */
#include "internal.h"

#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  act_op_info_t info;
  char name[64];
  char pnames[ACT_MAX_PARAMS][64];
  char formula[160];
  act__cl_t *prog;
  int fwd, dfn; /* function indices; dfn -1: no derivative */
  bool derived; /* dfn made by act__cl_derive */
  char noderiv[320]; /* why there is none, when dfn is -1 */
  act_custom_fn_t ref_f, ref_d;
  void *user;
  char *device; /* act__custom_device_source */
} act__custom_t;

static pthread_mutex_t act__custom_lock = PTHREAD_MUTEX_INITIALIZER;

/* Registration parses numbers (strtod) and writes float literals (%.9g):
 * both in the C locale, whatever the application set, so that "0.5" is
 * read and written the same everywhere. uselocale is per thread. */
static pthread_once_t act__c_locale_once = PTHREAD_ONCE_INIT;
static locale_t act__c_locale;
static void act__c_locale_init(void) {
  act__c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}
static locale_t act__c_locale_enter(void) {
  pthread_once(&act__c_locale_once, act__c_locale_init);
  return act__c_locale ? uselocale(act__c_locale) : (locale_t)0;
}
static void act__c_locale_leave(locale_t old) {
  if (old)
    uselocale(old);
}
static act__custom_t *act__customs[ACT_MAX_CUSTOM_OPS];
static int act__ncustom;

static act__custom_t *act__custom_get(int op) {
  if (op < ACT_OP_CUSTOM_BASE || op >= ACT_OP_CUSTOM_BASE + ACT_MAX_CUSTOM_OPS)
    return NULL;
  pthread_mutex_lock(&act__custom_lock);
  act__custom_t *c = op - ACT_OP_CUSTOM_BASE < act__ncustom
                         ? act__customs[op - ACT_OP_CUSTOM_BASE]
                         : NULL;
  pthread_mutex_unlock(&act__custom_lock);
  return c;
}

bool act__op_is_custom(int op) { return act__custom_get(op) != NULL; }

const act_op_info_t *act__custom_info(int op) {
  act__custom_t *c = act__custom_get(op);
  return c ? &c->info : NULL;
}

const char *act__custom_device_source(int op) {
  act__custom_t *c = act__custom_get(op);
  return c ? c->device : NULL;
}

bool act__custom_has_derivative(int op, int device) {
  act__custom_t *c = act__custom_get(op);
  return c && (c->dfn >= 0 || (!device && c->ref_d));
}

const char *act__custom_no_derivative(int op) {
  act__custom_t *c = act__custom_get(op);
  return c && c->noderiv[0] ? c->noderiv : "its source has none";
}

double act__custom_eval(int op, int deriv, const double *p, double x) {
  act__custom_t *c = act__custom_get(op);
  if (!c)
    return NAN;
  act_custom_fn_t cb = deriv ? c->ref_d : c->ref_f;
  if (cb)
    return cb(x, p, c->user);
  int fn = deriv ? c->dfn : c->fwd;
  return fn < 0 ? NAN : act__cl_eval(c->prog, fn, x, p);
}

size_t act_custom_count(void) {
  pthread_mutex_lock(&act__custom_lock);
  size_t n = (size_t)act__ncustom;
  pthread_mutex_unlock(&act__custom_lock);
  return n;
}

int act_custom_within_bound(act_dtype_t dtype, double y, double r) {
  if (isnan(r) || isnan(y))
    return isnan(r) && isnan(y);
  if (isinf(r) || isinf(y))
    return y == r;
  if (fabs(y - r) <= 0x1p-22)
    return 1;
  double u = act_ulp_error(dtype, y, r);
  return u <= (dtype == ACT_F32 ? 16.0 : 2.0);
}

static bool act__valid_name(const char *s) {
  if (!s || !(islower((unsigned char)s[0]) || s[0] == '_'))
    return false;
  size_t n = 0;
  for (; s[n]; n++)
    if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) ||
          s[n] == '_'))
      return false;
  return n < 64;
}

static void act__custom_free(act__custom_t *c) {
  if (!c)
    return;
  act__cl_free(c->prog);
  free(c->device);
  free(c);
}

/* Checks a descriptor and builds its entry (not yet registered). */
static act_status_t act__custom_make(const act_custom_desc_t *d,
                                     act__custom_t **out) {
  *out = NULL;
  if (!d->name || !d->source)
    return act__fail(ACT_NULL_POINTER, "act_custom_register: %s is NULL",
                     d->name ? "source" : "name");
  if (!act__valid_name(d->name))
    return act__fail(ACT_INVALID_ARGUMENT, "custom op name '%s' is not valid "
                     "(lower-case letters, digits and _, not starting with a "
                     "digit, at most 63 characters)", d->name);
  act_op_t existing;
  if (act_op_lookup(d->name, &existing) == ACT_OK)
    return act__fail(ACT_INVALID_ARGUMENT, "custom op '%s': the name is "
                     "taken by %s op '%s'", d->name,
                     (int)existing >= ACT_OP_CUSTOM_BASE ? "the custom"
                                                         : "the built-in",
                     act_op_info(existing)->name);
  act__clear_error();
  if (d->nparams < 0 || d->nparams > ACT_MAX_PARAMS)
    return act__fail(ACT_INVALID_ARGUMENT, "custom op '%s': nparams = %d "
                     "(0..%d)", d->name, d->nparams, ACT_MAX_PARAMS);
  for (int i = 0; i < d->nparams; i++) {
    if (!act__valid_name(d->param_names[i]))
      return act__fail(ACT_INVALID_ARGUMENT, "custom op '%s': parameter %d "
                       "name '%s' is not valid", d->name, i,
                       d->param_names[i] ? d->param_names[i] : "(NULL)");
    for (int k = 0; k < i; k++)
      if (strcmp(d->param_names[i], d->param_names[k]) == 0)
        return act__fail(ACT_INVALID_ARGUMENT, "custom op '%s': parameter "
                         "'%s' is named twice", d->name, d->param_names[i]);
    if (strcmp(d->param_names[i], "axis") == 0)
      return act__fail(ACT_INVALID_ARGUMENT, "custom op '%s': a parameter "
                       "may not be named 'axis'", d->name);
  }
  act__custom_t *c = calloc(1, sizeof *c);
  if (!c)
    return act__fail(ACT_OUT_OF_MEMORY, "custom op: out of memory");
  const char *file = d->source_name ? d->source_name : "<custom>";
  act_status_t st = act__cl_parse(d->source, file, &c->prog);
  if (st) {
    free(c);
    return st;
  }
  const char *fwd = d->forward ? d->forward : d->name;
  c->fwd = act__cl_find(c->prog, fwd);
  c->dfn = d->derivative ? act__cl_find(c->prog, d->derivative) : -1;
  if (c->fwd < 0)
    st = act__fail(ACT_INVALID_ARGUMENT, "custom op '%s': %s defines no "
                   "function '%s' (the forward function)", d->name, file,
                   fwd);
  else if (d->derivative && c->dfn < 0)
    st = act__fail(ACT_INVALID_ARGUMENT, "custom op '%s': %s defines no "
                   "function '%s' (the derivative)", d->name, file,
                   d->derivative);
  else if (!(st = act__cl_check_entry(c->prog, c->fwd, d->nparams,
                                      "forward")) &&
           c->dfn >= 0)
    st = act__cl_check_entry(c->prog, c->dfn, d->nparams, "derivative");
  if (!st && c->dfn < 0) {
    /* No derivative given: derive one. A source it cannot differentiate
     * still registers; backward then says why it has no derivative. */
    act_status_t ds = act__cl_derive(c->prog, c->fwd, d->name, &c->dfn);
    if (ds == ACT_OK) {
      c->derived = true;
    } else if (ds == ACT_OUT_OF_MEMORY) {
      st = ds;
    } else {
      snprintf(c->noderiv, sizeof c->noderiv, "%s", act_last_error());
      act__clear_error();
    }
  }
  char *text = NULL;
  if (!st)
    st = act__cl_emit(c->prog, &text);
  if (st) {
    act__custom_free(c);
    return st;
  }
  /* The device text: the functions, then the macros the shells call. */
  static const char *const args[] = {"p0", "p1", "p2", "p3"};
  char call[2][256];
  for (int k = 0; k < 2; k++) {
    int fn = k ? c->dfn : c->fwd;
    if (fn < 0) {
      snprintf(call[k], sizeof call[k], "am_nan()");
      continue;
    }
    char fname[80];
    act__cl_device_name(c->prog, fn, fname, sizeof fname);
    int n = snprintf(call[k], sizeof call[k], "%s(x", fname);
    for (int i = 0; i < d->nparams; i++)
      n += snprintf(call[k] + n, sizeof call[k] - (size_t)n, ", %s",
                    args[i]);
    snprintf(call[k] + n, sizeof call[k] - (size_t)n, ")");
  }
  size_t need = strlen(text) + 2 * 256 + 256;
  c->device = malloc(need);
  if (!c->device) {
    free(text);
    act__custom_free(c);
    return act__fail(ACT_OUT_OF_MEMORY, "custom op: out of memory");
  }
  snprintf(c->device, need,
           "%s\n#define ACT_CUSTOM_FORWARD(x, p0, p1, p2, p3) %s\n"
           "#define ACT_CUSTOM_DERIVATIVE(x, p0, p1, p2, p3) %s\n",
           text, call[0], call[1]);
  free(text);
  snprintf(c->name, sizeof c->name, "%s", d->name);
  c->info.name = c->name;
  c->info.kind = ACT_KIND_ELTWISE;
  c->info.nparams = d->nparams;
  c->info.default_axis = 0;
  for (int i = 0; i < d->nparams; i++) {
    snprintf(c->pnames[i], sizeof c->pnames[i], "%s", d->param_names[i]);
    c->info.params[i].name = c->pnames[i];
    c->info.params[i].default_value = d->param_defaults[i];
    c->info.params[i].doc = "custom op parameter (any finite value)";
  }
  if (d->formula) {
    snprintf(c->formula, sizeof c->formula, "%s", d->formula);
  } else {
    int n = snprintf(c->formula, sizeof c->formula, "custom: %s(x", fwd);
    for (int i = 0; i < d->nparams && n < (int)sizeof c->formula; i++)
      n += snprintf(c->formula + n, sizeof c->formula - (size_t)n, ", %s",
                    d->param_names[i]);
    if (n < (int)sizeof c->formula)
      snprintf(c->formula + n, sizeof c->formula - (size_t)n, ") from %s%s",
               file, c->derived ? " (derivative derived)"
                     : c->dfn >= 0 || d->ref_derivative ? ""
                                                        : " (no derivative)");
  }
  c->info.formula = c->formula;
  c->ref_f = d->ref_forward;
  c->ref_d = d->ref_derivative;
  c->user = d->user;
  *out = c;
  return ACT_OK;
}

/* Registers n made entries at once, or none (names taken meanwhile, or no
 * room). */
static act_status_t act__custom_add(act__custom_t **cs, size_t n,
                                    act_op_t *ops, size_t cap) {
  pthread_mutex_lock(&act__custom_lock);
  act_status_t st = ACT_OK;
  if ((size_t)act__ncustom + n > ACT_MAX_CUSTOM_OPS)
    st = act__fail(ACT_OUT_OF_MEMORY, "custom ops: at most %d per process",
                   ACT_MAX_CUSTOM_OPS);
  for (size_t i = 0; !st && i < n; i++) {
    for (int k = 0; !st && k < act__ncustom; k++)
      if (strcmp(act__customs[k]->name, cs[i]->name) == 0)
        st = act__fail(ACT_INVALID_ARGUMENT, "custom op '%s' is already "
                       "registered", cs[i]->name);
    for (size_t k = 0; !st && k < i; k++)
      if (strcmp(cs[k]->name, cs[i]->name) == 0)
        st = act__fail(ACT_INVALID_ARGUMENT, "custom op '%s' is declared "
                       "twice", cs[i]->name);
  }
  if (!st)
    for (size_t i = 0; i < n; i++) {
      int id = ACT_OP_CUSTOM_BASE + act__ncustom;
      cs[i]->info.op = (act_op_t)id;
      act__customs[act__ncustom++] = cs[i];
      if (i < cap && ops)
        ops[i] = (act_op_t)id;
    }
  pthread_mutex_unlock(&act__custom_lock);
  return st;
}

act_status_t act_custom_register(const act_custom_desc_t *desc,
                                 act_op_t *op) {
  act__clear_error();
  if (!desc || !op)
    return act__fail(ACT_NULL_POINTER, "act_custom_register: NULL argument");
  if (desc->size != 0 && desc->size != sizeof *desc)
    return act__fail(ACT_INVALID_ARGUMENT, "act_custom_register: desc.size "
                     "is %zu; it must be 0 or sizeof(act_custom_desc_t) = "
                     "%zu", desc->size, sizeof *desc);
  act__custom_t *c;
  locale_t old = act__c_locale_enter();
  act_status_t st = act__custom_make(desc, &c);
  act__c_locale_leave(old);
  if (st)
    return st;
  if ((st = act__custom_add(&c, 1, op, 1)))
    act__custom_free(c);
  return st;
}

/* ---- annotated sources ----------------------------------------------------- */

typedef struct {
  const char *p;
  int line, col0; /* col0: the column of the line's first character */
  const char *line_start;
  const char *file;
} ann_t;

static act_status_t ann_err(const ann_t *a, const char *at, const char *msg,
                            const char *arg) {
  return act__fail(ACT_BUILD, "%s:%d:%d: error: %s%s%s", a->file, a->line,
                   (int)(at - a->line_start) + 1, msg, arg ? " " : "",
                   arg ? arg : "");
}

static const char *ann_ws(const char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* An identifier into buf; returns the end, or NULL. */
static const char *ann_ident(const char *p, char *buf, size_t n) {
  size_t k = 0;
  if (!(isalpha((unsigned char)*p) || *p == '_'))
    return NULL;
  while ((isalnum((unsigned char)*p) || *p == '_') && k + 1 < n)
    buf[k++] = *p++;
  buf[k] = '\0';
  return (isalnum((unsigned char)*p) || *p == '_') ? NULL : p;
}

/* Parses one annotation (after "actkit:") into d (strings in store). */
static act_status_t ann_parse(ann_t *a, const char *p, act_custom_desc_t *d,
                              char store[8][64]) {
  char word[64];
  p = ann_ws(p);
  const char *q = ann_ident(p, word, sizeof word);
  if (!q || strcmp(word, "op") != 0)
    return ann_err(a, p, "expected 'op NAME(...)' after 'actkit:'", NULL);
  p = ann_ws(q);
  q = ann_ident(p, store[0], 64);
  if (!q)
    return ann_err(a, p, "expected the op's name", NULL);
  d->name = store[0];
  p = ann_ws(q);
  if (*p == '(') {
    p = ann_ws(p + 1);
    while (*p != ')') {
      if (d->nparams == ACT_MAX_PARAMS)
        return ann_err(a, p, "too many parameters (at most 4)", NULL);
      q = ann_ident(p, store[1 + d->nparams], 64);
      if (!q)
        return ann_err(a, p, "expected a parameter name", NULL);
      d->param_names[d->nparams] = store[1 + d->nparams];
      p = ann_ws(q);
      if (*p != '=')
        return ann_err(a, p, "expected '= DEFAULT' after parameter",
                       d->param_names[d->nparams]);
      p = ann_ws(p + 1);
      char *end;
      double v = strtod(p, &end);
      if (end == p)
        return ann_err(a, p, "expected a number", NULL);
      d->param_defaults[d->nparams++] = v;
      p = ann_ws(end);
      if (*p == ',')
        p = ann_ws(p + 1);
      else if (*p != ')')
        return ann_err(a, p, "expected ',' or ')'", NULL);
    }
    p = ann_ws(p + 1);
  }
  while (*p && *p != '\n' && *p != '\r') {
    q = ann_ident(p, word, sizeof word);
    if (!q || (strcmp(word, "forward") != 0 &&
               strcmp(word, "derivative") != 0))
      return ann_err(a, p, "expected 'forward FN' or 'derivative FN'", NULL);
    bool fwd = strcmp(word, "forward") == 0;
    p = ann_ws(q);
    q = ann_ident(p, store[fwd ? 5 : 6], 64);
    if (!q)
      return ann_err(a, p, "expected a function name", NULL);
    if (fwd)
      d->forward = store[5];
    else
      d->derivative = store[6];
    p = ann_ws(q);
  }
  return ACT_OK;
}

/* The source's plain ops (actkit.h, act_custom_register_source): each
 * function `float NAME(float x, float p...)` that no other function calls
 * and no annotation names, added to d[*n...] with parameters p... (default
 * 0). */
static act_status_t act__plain_ops(const char *source, const char *file,
                                   act_custom_desc_t *d, char (*store)[8][64],
                                   size_t *n, size_t maxn) {
  act__cl_t *prog;
  act_status_t st = act__cl_parse(source, file, &prog);
  if (st)
    return st;
  size_t nann = *n;
  int nf = act__cl_nfuncs(prog);
  for (int fn = 0; fn < nf && !st; fn++) {
    const char *names[8];
    int np;
    const char *fname = act__cl_fname(prog, fn);
    if (!act__cl_plain_op(prog, fn, &np, names))
      continue;
    bool named = false;
    for (size_t i = 0; i < nann && !named; i++)
      named = strcmp(d[i].name, fname) == 0 ||
              (d[i].forward && strcmp(d[i].forward, fname) == 0) ||
              (d[i].derivative && strcmp(d[i].derivative, fname) == 0);
    if (named)
      continue;
    if (*n == maxn) {
      st = act__fail(ACT_INVALID_ARGUMENT, "%s: too many ops in one file "
                     "(at most %zu)", file, maxn);
      break;
    }
    if (np > ACT_MAX_PARAMS) {
      st = act__fail(ACT_INVALID_ARGUMENT, "%s: custom op '%s' has %d "
                     "parameters after x (at most %d)", file, fname, np,
                     ACT_MAX_PARAMS);
      break;
    }
    act_custom_desc_t *e = &d[*n];
    char (*sv)[64] = store[*n];
    snprintf(sv[0], 64, "%s", fname);
    e->name = e->forward = sv[0];
    e->nparams = np;
    for (int i = 0; i < np; i++) {
      snprintf(sv[1 + i], 64, "%s", names[i]);
      e->param_names[i] = sv[1 + i];
      e->param_defaults[i] = 0.0;
    }
    e->source = source;
    e->source_name = file;
    (*n)++;
  }
  act__cl_free(prog);
  return st;
}

act_status_t act_custom_register_source(const char *source,
                                        const char *source_name,
                                        act_op_t *ops, size_t cap,
                                        size_t *count) {
  act__clear_error();
  if (!source)
    return act__fail(ACT_NULL_POINTER, "act_custom_register_source: source "
                     "is NULL");
  enum { MAXN = 16 };
  act_custom_desc_t d[MAXN];
  char (*store)[8][64] = calloc(MAXN, sizeof *store);
  act__custom_t *cs[MAXN] = {NULL};
  if (!store)
    return act__fail(ACT_OUT_OF_MEMORY, "custom ops: out of memory");
  memset(d, 0, sizeof d);
  ann_t a = {source, 1, 0, source, source_name ? source_name : "<custom>"};
  size_t n = 0;
  act_status_t st = ACT_OK;
  locale_t old = act__c_locale_enter();
  for (const char *p = source; *p && !st;) {
    const char *eol = strchr(p, '\n');
    a.line_start = p;
    const char *s = ann_ws(p);
    if (strncmp(s, "//", 2) == 0) {
      s = ann_ws(s + 2);
      if (strncmp(s, "actkit:", 7) == 0) {
        if (n == MAXN)
          st = ann_err(&a, s, "too many ops in one file (at most 16)", NULL);
        else if (!(st = ann_parse(&a, s + 7, &d[n], store[n]))) {
          d[n].source = source;
          d[n].source_name = a.file;
          n++;
        }
      }
    }
    if (!eol)
      break;
    p = eol + 1;
    a.line++;
  }
  if (!st)
    st = act__plain_ops(source, a.file, d, store, &n, MAXN);
  if (!st && n == 0)
    st = act__fail(ACT_INVALID_ARGUMENT, "%s declares no op: define `float "
                   "NAME(float x, ...)` (a function no other calls), or "
                   "annotate one with `// actkit: op NAME(PARAM = DEFAULT, "
                   "...) forward FN derivative FN`", a.file);
  for (size_t i = 0; !st && i < n; i++)
    st = act__custom_make(&d[i], &cs[i]);
  act__c_locale_leave(old);
  if (!st)
    st = act__custom_add(cs, n, ops, cap);
  if (st)
    for (size_t i = 0; i < n; i++)
      act__custom_free(cs[i]);
  else if (count)
    *count = n;
  free(store);
  return st;
}

act_status_t act_custom_register_file(const char *path, act_op_t *ops,
                                      size_t cap, size_t *count) {
  act__clear_error();
  if (!path)
    return act__fail(ACT_NULL_POINTER, "act_custom_register_file: path is "
                     "NULL");
  FILE *f = fopen(path, "rb");
  if (!f)
    return act__fail(ACT_IO, "cannot open %s", path);
  size_t cap2 = 1 << 14, len = 0;
  char *buf = malloc(cap2 + 1);
  while (buf) {
    len += fread(buf + len, 1, cap2 - len, f);
    if (len < cap2 || cap2 >= (1u << 24))
      break;
    char *nb = realloc(buf, 2 * cap2 + 1);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb, cap2 *= 2;
  }
  bool err = ferror(f);
  fclose(f);
  if (!buf)
    return act__fail(ACT_OUT_OF_MEMORY, "out of memory reading %s", path);
  if (err || len == cap2) {
    free(buf);
    return act__fail(ACT_IO, "cannot read %s%s", path,
                     err ? "" : " (larger than 16 MiB)");
  }
  buf[len] = '\0';
  /* messages name the file as given */
  act_status_t st = act_custom_register_source(buf, path, ops, cap, count);
  free(buf);
  return st;
}
