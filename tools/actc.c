/*
 * actc - actkit's command-line tool: list devices and ops, run one op,
 * verify a device against the reference (docs/actc.md).
 *
 * Errors go to stderr. Exit status (one table for every command, in
 * actc --help): 0 success, 1 verification failed (verify, compile
 * --check), 2 usage error (the command line or its inputs: an unknown
 * command, option, op, parameter, preset or device, a bad value, a
 * missing or malformed input file), 3 runtime error (a driver or device
 * failure, out of memory, an output that cannot be written).
 */
#include "actkit.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#define EXIT_VERIFY 1
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

int actc_cmd_compile(int argc, char **argv); /* actc_compile.c */

static int die(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "actc: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return code;
}

/* The exit status of a failed library call: the caller's mistake (a
 * name, a parameter, a shape, a source file) is a usage error, anything
 * else a runtime error. */
static int status_exit(act_status_t st) {
  switch (st) {
  case ACT_INVALID_ARGUMENT: case ACT_NULL_POINTER: case ACT_UNKNOWN_OP:
  case ACT_BAD_PARAM: case ACT_BAD_SHAPE: case ACT_BAD_DTYPE:
  case ACT_NO_DEVICE: case ACT_BUILD:
    return EXIT_USAGE;
  default:
    return EXIT_RUNTIME;
  }
}

/* Reports a failed library call and returns its exit status. The
 * library's message often starts with the op's name: it is not said twice
 * ("actc: run: softmax: ..." rather than "softmax: softmax: ..."). */
static int fail(const char *what, act_status_t st) {
  const char *msg = act_last_error()[0] ? act_last_error()
                                        : act_status_string(st);
  return die(status_exit(st), "%s: %s (%s)", what, msg, act_status_name(st));
}

/* Edit distance (Levenshtein) of a and b, for did-you-mean; capped. */
static int edit_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n > 63 || m > 63)
    return 99;
  int d[64][64];
  for (size_t i = 0; i <= n; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= m; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      int x = d[i - 1][j] + 1, y = d[i][j - 1] + 1;
      d[i][j] = c < x ? (c < y ? c : y) : (x < y ? x : y);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < d[i][j])
        d[i][j] = d[i - 2][j - 2] + 1; /* a transposition */
    }
  return d[n][m];
}

/* The candidate closest to word (NULL-terminated list), or NULL when none
 * is close: at most 2 edits, and fewer than half of word's length. */
static const char *closest(const char *word, const char *const *cands) {
  const char *best = NULL;
  int bd = 3;
  size_t wl = strlen(word);
  for (int i = 0; cands[i]; i++) {
    int dd = edit_distance(word, cands[i]);
    if (dd < bd && (size_t)dd * 2 < wl + 1) {
      bd = dd;
      best = cands[i];
    }
  }
  return best;
}

/* " (did you mean 'x'?)" or "" - a static buffer, for one message. */
static const char *did_you_mean(const char *word, const char *const *cands) {
  static char buf[96];
  const char *c = closest(word, cands);
  if (!c)
    return "";
  snprintf(buf, sizeof buf, " (did you mean '%s'?)", c);
  return buf;
}

/* ---- --json: machine-readable output of list, devices, verify, bench ---- */

/* A JSON string (quoted and escaped) on stdout. */
static void jstr(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p < 0x20)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  putchar('"');
}

/* A JSON number; NaN and infinities, which JSON lacks, as null. */
static void jnum(double v) {
  if (isfinite(v))
    printf("%.17g", v);
  else
    printf("null");
}

/* Every op name and alias (built-in and custom), NULL-terminated. */
static const char *const *op_names(void) {
  static const char *names[ACT_OP_COUNT * 3 + ACT_MAX_CUSTOM_OPS + 1];
  int k = 0;
  for (int op = 0; op < ACT_OP_COUNT; op++) {
    const act_op_info_t *i = act_op_info((act_op_t)op);
    names[k++] = i->name;
    for (int a = 0; a < ACT_MAX_ALIASES && i->aliases[a]; a++)
      names[k++] = i->aliases[a];
  }
  for (size_t c = 0; c < act_custom_count() && c < ACT_MAX_CUSTOM_OPS; c++)
    names[k++] = act_op_info((act_op_t)(ACT_OP_CUSTOM_BASE + (int)c))->name;
  names[k] = NULL;
  return names;
}

/* An unknown op name: the library's message and a suggestion. */
static int unknown_op(const char *what, const char *name, act_status_t st) {
  char msg[1024]; /* listing the candidates may reset the message */
  snprintf(msg, sizeof msg, "%s", act_last_error());
  return die(EXIT_USAGE, "%s: %s (%s)%s", what, msg, act_status_name(st),
             did_you_mean(name, op_names()));
}

/* Device names for suggestions: every device's name, and the backends'. */
static const char *const *device_names(void) {
  static char store[64][64];
  static const char *names[70];
  int k = 0;
  names[k++] = "auto";
  names[k++] = "opencl";
  names[k++] = "vulkan";
  size_t n = act_device_count();
  for (size_t i = 0; i < n && i < 64; i++) {
    act_device_info_t d;
    if (act_device_get_info(i, &d))
      continue;
    snprintf(store[i], sizeof store[i], "%s", d.name);
    names[k++] = store[i];
  }
  names[k] = NULL;
  return names;
}

/* A context on device, or an exit status (unknown device: a suggestion). */
static int open_device(const char *what, const char *device,
                       act_context_t **ctx) {
  act_status_t st = act_context_create(device, ctx);
  if (!st)
    return 0;
  if (st == ACT_NO_DEVICE) {
    char msg[1024]; /* listing the devices resets the message */
    snprintf(msg, sizeof msg, "%s", act_last_error());
    return die(EXIT_USAGE, "%s: %s (%s)%s", what, msg, act_status_name(st),
               did_you_mean(device, device_names()));
  }
  return fail(what, st);
}

/* The op of a name, or an exit status (an unknown name: a suggestion). */
static int lookup_op(const char *what, const char *name, act_op_t *op) {
  act_status_t st = act_op_lookup(name, op);
  return st ? unknown_op(what, name, st) : 0;
}

static double now_s(void);

/* A first run compiles kernels (seconds on a CPU driver): say so on
 * stderr, once, with the time it took, so that a slow first call is not a
 * mystery. */
static void compile_notice(act_context_t *ctx, double seconds) {
  act_context_stats_t s = {0};
  act_device_info_t d;
  if (act_context_get_stats(ctx, &s) || !s.programs_built ||
      act_context_get_device(ctx, &d))
    return;
  fprintf(stderr, "actc: compiled %llu program%s for %s in %.1f s (kept in "
          "the program cache: later runs load them)\n",
          (unsigned long long)s.programs_built,
          s.programs_built == 1 ? "" : "s", d.name, seconds);
}

/* Was option a already given before argv[i]? (Single-valued options
 * given twice are a mistake, not "the last one wins".) */
static bool given_before(char **argv, int i, const char *a) {
  for (int j = 1; j < i; j++)
    if (strcmp(argv[j], a) == 0)
      return true;
  return false;
}

static bool is_help(const char *a) {
  return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* --custom FILE: registers the custom ops the file declares (README.md,
 * "Custom activations"). Source errors are printed as the library gives
 * them, FILE:LINE:COL: error: ... Returns 0, or the exit status. Up to
 * cap ids go to ops (count in *n, may be NULL). */
static int load_custom(const char *path, act_op_t *ops, size_t cap,
                       size_t *n) {
  size_t count = 0;
  act_status_t st = act_custom_register_file(path, ops, cap, &count);
  if (st) {
    fprintf(stderr, "%s\n", act_last_error());
    return die(status_exit(st) == EXIT_RUNTIME && st != ACT_IO
                   ? EXIT_RUNTIME : EXIT_USAGE,
               "--custom %s: the file was not loaded (%s)", path,
               act_status_name(st));
  }
  if (n)
    *n = count < cap ? count : cap;
  return 0;
}

/* ---- actc devices ---------------------------------------------------------- */

static const char usage_devices[] =
    "usage: actc devices [--json]\n"
    "\n"
    "Lists every device actkit found: its name string (cpu, opencl:N,\n"
    "vulkan:N), type, driver version and description, best first. The\n"
    "device 'auto' picks is marked with '*' ($ACTKIT_DEVICE overrides it).\n"
    "--json prints them as one JSON object ({\"devices\": [...]}).\n";

static int cmd_devices(int argc, char **argv) {
  bool json = false;
  for (int i = 1; i < argc; i++) {
    if (is_help(argv[i])) {
      fputs(usage_devices, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--json") == 0) {
      json = true;
      continue;
    }
    return die(EXIT_USAGE, "devices: unexpected argument '%s'", argv[i]);
  }
  size_t n = act_device_count(), pick = 0;
  act_status_t st = act_device_find("auto", &pick);
  if (st)
    fprintf(stderr, "actc: auto: %s\n", act_last_error());
  if (json) {
    printf("{\"devices\": [\n");
    bool first = true;
    for (int rank = 4; rank >= 0; rank--)
      for (size_t i = 0; i < n; i++) {
        act_device_info_t d;
        if (act_device_get_info(i, &d) || d.rank != rank)
          continue;
        printf("%s{\"name\": ", first ? "" : ", ");
        jstr(d.name);
        printf(", \"backend\": ");
        jstr(act_backend_name(d.backend));
        printf(", \"type\": ");
        jstr(act_device_type_name(d.type));
        printf(", \"rank\": %d, \"auto\": %s, \"driver_version\": ", d.rank,
               !st && i == pick ? "true" : "false");
        jstr(d.driver_version);
        printf(", \"description\": ");
        jstr(d.description);
        printf(", \"fp16\": %s, \"bf16\": %s, \"memory_bytes\": %llu}\n",
               d.fp16 ? "true" : "false", d.bf16 ? "true" : "false",
               (unsigned long long)d.memory_bytes);
        first = false;
      }
    printf("]}\n");
    return 0;
  }
  /* Best first: by rank, then by enumeration order. */
  printf("  %-10s %-15s %-5s %-16s %s\n", "name", "type", "rank", "driver",
         "description");
  for (int rank = 4; rank >= 0; rank--)
    for (size_t i = 0; i < n; i++) {
      act_device_info_t d;
      if (act_device_get_info(i, &d) || d.rank != rank)
        continue;
      printf("%c %-10s %-15s %-5d %-16s %s%s\n", !st && i == pick ? '*' : ' ',
             d.name, act_device_type_name(d.type), d.rank, d.driver_version,
             d.description, d.fp16 ? "" : " (no native f16)");
    }
  return 0;
}

/* ---- actc list ------------------------------------------------------------- */

static const char usage_list[] =
    "usage: actc list [OP...] [--custom FILE.cl]... [--json]\n"
    "\n"
    "Lists every op (or the named ones): its aliases, kind, parameters with\n"
    "their defaults, and its definition. Presets (--preset) are listed at\n"
    "the end. --custom FILE.cl also lists the custom ops FILE declares.\n"
    "--json prints the same as one JSON object ({\"ops\": [...], \"presets\":\n"
    "[...]}; a default of +-inf is null with \"default_text\").\n";

static void print_op(const act_op_info_t *info) {
  printf("%s", info->name);
  for (int a = 0; a < ACT_MAX_ALIASES && info->aliases[a]; a++)
    printf("%s%s", a ? ", " : " (aliases: ", info->aliases[a]);
  if (info->aliases[0])
    printf(")");
  printf("  [%s]\n", info->kind == ACT_KIND_AXIS ? "axis" : "element-wise");
  printf("    %s\n", info->formula);
  if (info->kind == ACT_KIND_AXIS || info->op == ACT_OP_PRELU)
    printf("    axis = %d (default)\n", info->default_axis);
  for (int i = 0; i < info->nparams; i++) {
    const act_param_info_t *p = &info->params[i];
    if (isnan(p->default_value))
      printf("    %s (required): %s\n", p->name, p->doc);
    else
      printf("    %s = %.17g: %s\n", p->name, p->default_value, p->doc);
  }
}

static void print_op_json(const act_op_info_t *info, bool first) {
  printf("%s{\"name\": ", first ? "" : ", ");
  jstr(info->name);
  printf(", \"aliases\": [");
  for (int a = 0; a < ACT_MAX_ALIASES && info->aliases[a]; a++) {
    printf("%s", a ? ", " : "");
    jstr(info->aliases[a]);
  }
  printf("], \"kind\": \"%s\", \"custom\": %s, \"formula\": ",
         info->kind == ACT_KIND_AXIS ? "axis" : "element-wise",
         (int)info->op >= ACT_OP_CUSTOM_BASE ? "true" : "false");
  jstr(info->formula);
  if (info->kind == ACT_KIND_AXIS || info->op == ACT_OP_PRELU)
    printf(", \"default_axis\": %d", info->default_axis);
  printf(", \"params\": [");
  for (int i = 0; i < info->nparams; i++) {
    const act_param_info_t *p = &info->params[i];
    printf("%s{\"name\": ", i ? ", " : "");
    jstr(p->name);
    printf(", \"required\": %s, \"default\": ",
           isnan(p->default_value) ? "true" : "false");
    jnum(isnan(p->default_value) ? NAN : p->default_value);
    if (isinf(p->default_value))
      printf(", \"default_text\": \"%sinf\"",
             p->default_value < 0 ? "-" : "");
    printf(", \"doc\": ");
    jstr(p->doc);
    printf("}");
  }
  printf("]}\n");
}

static int cmd_list(int argc, char **argv) {
  bool any = false, json = false;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--json") == 0)
      json = true;
  if (json)
    printf("{\"ops\": [\n");
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--custom") == 0 && i + 1 < argc) {
      int rc = load_custom(argv[i + 1], NULL, 0, NULL);
      if (rc)
        return rc;
    }
  for (int i = 1; i < argc; i++) {
    if (is_help(argv[i])) {
      fputs(usage_list, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--custom") == 0) {
      i++;
      continue;
    }
    if (strcmp(argv[i], "--json") == 0)
      continue;
    act_op_t op;
    int rc = lookup_op("list", argv[i], &op);
    if (rc)
      return rc;
    if (json)
      print_op_json(act_op_info(op), !any);
    else
      print_op(act_op_info(op));
    any = true;
  }
  if (any) {
    if (json)
      printf("]}\n");
    return 0;
  }
  int k0 = 0;
  for (int op = 0; op < ACT_OP_COUNT; op++, k0++)
    if (json)
      print_op_json(act_op_info((act_op_t)op), k0 == 0);
    else
      print_op(act_op_info((act_op_t)op));
  for (size_t k = 0; k < act_custom_count(); k++)
    if (json)
      print_op_json(act_op_info((act_op_t)(ACT_OP_CUSTOM_BASE + (int)k)),
                    false);
    else
      print_op(act_op_info((act_op_t)(ACT_OP_CUSTOM_BASE + (int)k)));
  if (json) {
    printf("], \"presets\": [");
    for (int p = 1; p < ACT_PRESET_COUNT; p++) {
      printf("%s", p > 1 ? ", " : "");
      jstr(act_preset_name((act_preset_t)p));
    }
    printf("]}\n");
    return 0;
  }
  printf("\npresets (--preset): ");
  for (int p = 1; p < ACT_PRESET_COUNT; p++)
    printf("%s%s", p > 1 ? ", " : "", act_preset_name((act_preset_t)p));
  printf("\n  they set hard_sigmoid/hard_silu alpha and beta, gelu approximate,"
         "\n  leaky_relu negative_slope and the softmax-family axis to the "
         "framework's defaults\n");
  return 0;
}

/* ---- value parsing ----------------------------------------------------------- */

/* Parses "a,b,c" (the value of option `opt`) into a malloc'd array of
 * doubles; an empty list is an error. */
static int parse_list(const char *opt, const char *s, double **out,
                      size_t *n) {
  size_t cap = 16, k = 0;
  if (!*s)
    return die(EXIT_USAGE, "%s is empty (expected v1,v2,...)", opt);
  double *v = malloc(cap * sizeof *v);
  if (!v)
    return die(EXIT_RUNTIME, "out of memory");
  const char *p = s;
  while (*p) {
    char *end;
    errno = 0;
    double d = strtod(p, &end);
    if (end == p || (*end && *end != ',')) {
      free(v);
      return die(EXIT_USAGE, "%s: cannot parse a number at '%s'", opt, p);
    }
    if (k == cap) {
      double *nv = realloc(v, 2 * cap * sizeof *v);
      if (!nv) {
        free(v);
        return die(EXIT_RUNTIME, "out of memory");
      }
      v = nv, cap *= 2;
    }
    v[k++] = d;
    p = *end ? end + 1 : end;
  }
  *out = v;
  *n = k;
  return 0;
}

static int parse_shape(const char *s, act_tensor_t *t) {
  int nd = 0;
  const char *p = s;
  while (*p) {
    char *end;
    long long d = strtoll(p, &end, 10);
    if (end == p || (*end && *end != ',') || d < 0)
      return die(EXIT_USAGE, "bad --shape '%s' (expected d0,d1,... >= 0)", s);
    if (nd == ACT_MAX_DIMS)
      return die(EXIT_USAGE, "--shape '%s' has more than %d dimensions", s,
                 ACT_MAX_DIMS);
    t->dims[nd++] = d;
    p = *end ? end + 1 : end;
  }
  t->ndim = nd;
  return 0;
}

/* The bytes of a file ("-": standard input), malloc'd. */
static void *read_file(const char *path, size_t *bytes) {
  bool in = strcmp(path, "-") == 0;
  FILE *f = in ? stdin : fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (n < cap)
      break;
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb, cap *= 2;
  }
  bool err = ferror(f);
  if (!in)
    fclose(f);
  if (err) {
    free(buf);
    return NULL;
  }
  *bytes = n;
  return buf;
}

/* ---- numpy's .npy format (version 1.0-3.0, little-endian, C order) ------ */

static bool is_npy_name(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot && strcmp(dot, ".npy") == 0;
}

static const char *npy_descr(act_dtype_t t) {
  return t == ACT_F32 ? "<f4" : t == ACT_F16 ? "<f2" : t == ACT_I32 ? "<i4"
                                                                      : NULL;
}

/* Parses a .npy file's bytes (opt names it in messages): checks that its
 * dtype is `want` and it is C-ordered; its shape goes to *shape (ndim and
 * dims) and *data, *n to the elements. 0, or the exit status. */
static int npy_parse(const char *opt, const char *path, const char *buf,
                     size_t bytes, act_dtype_t want, act_tensor_t *shape,
                     const char **data, size_t *n) {
  if (bytes < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
    return die(EXIT_USAGE, "%s '%s' is not a .npy file (no \\x93NUMPY "
               "magic)", opt, path);
  unsigned major = (unsigned char)buf[6];
  size_t hl, start;
  if (major == 1) {
    hl = (unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8;
    start = 10;
  } else if ((major == 2 || major == 3) && bytes >= 12) {
    hl = (unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8 |
         (size_t)(unsigned char)buf[10] << 16 |
         (size_t)(unsigned char)buf[11] << 24;
    start = 12;
  } else {
    return die(EXIT_USAGE, "%s '%s': .npy version %u is not supported", opt,
               path, major);
  }
  if (start + hl > bytes)
    return die(EXIT_USAGE, "%s '%s': the .npy header is truncated", opt,
               path);
  char hdr[4096];
  if (hl >= sizeof hdr)
    return die(EXIT_USAGE, "%s '%s': the .npy header is too long", opt, path);
  memcpy(hdr, buf + start, hl);
  hdr[hl] = '\0';
  const char *want_d = npy_descr(want);
  if (!want_d)
    return die(EXIT_USAGE, "%s: .npy files hold f32, f16 or i32 here (numpy "
               "has no bf16 dtype: use a raw file for --dtype bf16)", opt);
  char *d = strstr(hdr, "'descr'");
  if (!d || !strstr(d, want_d))
    return die(EXIT_USAGE, "%s '%s': its dtype is not %s (%s), which --dtype "
               "asks for", opt, path, want_d, act_dtype_name(want));
  char *fo = strstr(hdr, "'fortran_order'");
  if (!fo || strncmp(strchr(fo, ':') + 1 + strspn(strchr(fo, ':') + 1, " "),
                     "False", 5) != 0)
    return die(EXIT_USAGE, "%s '%s': Fortran-ordered arrays are not "
               "supported (save a C-ordered array)", opt, path);
  char *sh = strstr(hdr, "'shape'");
  char *lp = sh ? strchr(sh, '(') : NULL;
  if (!lp)
    return die(EXIT_USAGE, "%s '%s': the .npy header has no shape", opt,
               path);
  int nd = 0;
  const char *q = lp + 1;
  size_t count = 1;
  for (;;) {
    q += strspn(q, " ,");
    if (*q == ')')
      break;
    char *end;
    long long v = strtoll(q, &end, 10);
    if (end == q || v < 0 || nd == ACT_MAX_DIMS)
      return die(EXIT_USAGE, "%s '%s': bad or too long .npy shape", opt,
                 path);
    shape->dims[nd++] = v;
    count *= (size_t)v;
    q = end;
  }
  shape->ndim = nd;
  size_t es = act_dtype_size(want);
  if (bytes - start - hl != count * es)
    return die(EXIT_USAGE, "%s '%s': holds %zu data bytes for a shape of "
               "%zu %s elements", opt, path, bytes - start - hl, count,
               act_dtype_name(want));
  *data = buf + start + hl;
  *n = count;
  return 0;
}

/* Writes a .npy (version 1.0) header for a tensor of t's dtype and shape. */
static bool npy_header(FILE *f, const act_tensor_t *t) {
  const char *descr = npy_descr(t->dtype);
  if (!descr)
    return false;
  char dict[512];
  int k = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': "
                   "False, 'shape': (", descr);
  for (int i = 0; i < t->ndim; i++)
    k += snprintf(dict + k, sizeof dict - (size_t)k, "%lld%s",
                  (long long)t->dims[i], t->ndim == 1 ? "," : i + 1 < t->ndim
                                                                ? ", " : "");
  k += snprintf(dict + k, sizeof dict - (size_t)k, "), }");
  /* pad with spaces so that the data starts at a multiple of 64 */
  size_t total = 10 + (size_t)k + 1;
  size_t pad = (64 - total % 64) % 64;
  size_t hl = (size_t)k + pad + 1;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(hl & 0xff),
                           (unsigned char)(hl >> 8)};
  if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, (size_t)k, f) !=
                                         (size_t)k)
    return false;
  for (size_t i = 0; i < pad; i++)
    if (fputc(' ', f) == EOF)
      return false;
  return fputc('\n', f) != EOF;
}

/* Are these bytes numbers written as text (digits, signs, points,
 * exponents, separators, "nan"/"inf" letters) and nothing else? */
static bool looks_like_text(const char *b, size_t n) {
  bool digit = false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)b[i];
    if (c >= '0' && c <= '9')
      digit = true;
    else if (!strchr("+-.,eE \t\r\nnaifNAIF", c) || c == 0)
      return false;
  }
  return digit;
}

/* Is path a text file of numbers by its name (.txt, .csv)? */
static bool is_text_name(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot && (strcmp(dot, ".txt") == 0 || strcmp(dot, ".csv") == 0);
}

/* The numbers of a text file's bytes (separated by commas, spaces or
 * newlines), as a value list for parse_list; malloc'd. */
static char *text_to_list(const char *opt, const char *path, char *bytes,
                          size_t n, int *rc) {
  char *list = malloc(n + 1);
  if (!list) {
    *rc = die(EXIT_RUNTIME, "out of memory");
    return NULL;
  }
  size_t k = 0;
  bool sep = true;
  for (size_t i = 0; i < n; i++) {
    char c = bytes[i];
    if (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!sep)
        list[k++] = ',';
      sep = true;
    } else if (c == '\0') {
      free(list);
      *rc = die(EXIT_USAGE, "%s '%s' is not a text file of numbers (a NUL "
                "byte; a raw file must not be named .txt or .csv)", opt,
                path);
      return NULL;
    } else {
      list[k++] = c;
      sep = false;
    }
  }
  if (k && list[k - 1] == ',')
    k--;
  list[k] = '\0';
  *rc = 0;
  return list;
}

/* ---- actc run -------------------------------------------------------------- */

static const char usage_run[] =
    "usage: actc run OP [options] (--values v1,v2,... | --in FILE)\n"
    "       actc run OP --backward [options] (--values ... | --in FILE)\n"
    "                   (--dy v1,v2,... | --dy-in FILE)\n"
    "\n"
    "Runs one op and prints the result, one value per line (%.9g), or writes\n"
    "it raw (little-endian, the dtype's format) to --out.\n"
    "\n"
    "  --device D        cpu, opencl[:N], vulkan[:N] or auto (default auto;\n"
    "                    $ACTKIT_DEVICE is honoured by auto)\n"
    "  --dtype T         f32 (default), f16 or bf16; for one_hot the output\n"
    "                    dtype (f32, f16, bf16 or i32), the input being i32\n"
    "  --shape d0,d1,..  the input's shape (default: [number of values])\n"
    "  --axis N|all      the axis of an axis op or prelu's channel axis\n"
    "  --param NAME=V    set a parameter (repeatable); see actc list OP\n"
    "  --preset P        jax, keras2, axon, kaun or torch defaults; --param\n"
    "                    and --axis override it\n"
    "  --values LIST     comma-separated input values (nan, inf accepted)\n"
    "  --in FILE         input from a file ('-': stdin): .npy (numpy's format;\n"
    "                    its shape is used), .txt/.csv (numbers as text), else\n"
    "                    raw bytes of the dtype (one_hot: i32)\n"
    "  --out FILE        write the output to a file ('-': stdout) instead of\n"
    "                    printing it: .npy, .txt/.csv (text), else raw\n"
    "  --in-format F     raw, text or npy, whatever --in's name says\n"
    "  --out-format F    raw, text or npy, whatever --out's name says\n"
    "  --where LIST      softmax/log_softmax/softmin mask (0/1), x's shape\n"
    "  --alpha LIST      prelu slopes: one per channel, or one value\n"
    "  --b LIST          logsumexp scale factors, x's shape or its last axis\n"
    "  --mean LIST       standardize mean, x's shape with the axis as 1\n"
    "  --variance LIST   standardize variance, likewise\n"
    "  --backward        run the gradient instead (docs/ops.md): prints dx, the\n"
    "                    gradient of x (x's shape), for the incoming\n"
    "                    gradient dy; the input is x as for the forward op\n"
    "                    (softmax, log_softmax, softmin and logsumexp: actc\n"
    "                    runs the forward on the same device for y first)\n"
    "  --dy LIST         backward: dy values, y's shape (glu: x's shape with\n"
    "                    the axis halved; logsumexp: the reduced shape)\n"
    "  --dy-in FILE      backward: dy as a raw file of the dtype\n"
    "  --custom FILE     load the custom ops FILE declares (README.md,\n"
    "                    \"Custom activations\"); OP may then be one, and\n"
    "                    without OP it is the file's first; without --values\n"
    "                    or --in, x is -3,-1,-0.5,0,0.5,1,3 (said on stderr)\n"
    "\n"
    "logsumexp with --param return_sign=1 prints 'value<TAB>sign' lines.\n"
    "prelu --backward with --alpha prints dx, then a line 'dalpha:', then\n"
    "the gradient of each alpha value (summed over the broadcast\n"
    "dimensions); with --out the file holds dx followed by dalpha.\n"
    "one_hot has no gradient: --backward fails.\n";

typedef struct {
  act_arg_kind_t kind;
  const char *opt;
  const char *text;
} extra_arg_t;

/* Builds a tensor for an extra operand from a value list. Shapes: the
 * full x shape when the counts match; for mean/variance, x's shape with
 * the axis set to 1; otherwise a 1-D tensor (broadcast on the last axis,
 * or prelu's channels). */
static int make_extra(const extra_arg_t *e, const act_tensor_t *x, int axis,
                      act_dtype_t dtype, act_arg_t *arg, void **storage) {
  double *v;
  size_t n;
  int rc = parse_list(e->opt, e->text, &v, &n);
  if (rc)
    return rc;
  act_tensor_t t = *x;
  t.data = NULL;
  int64_t nx = act_tensor_numel(x);
  if ((int64_t)n == nx) {
    /* x's own shape */
  } else if ((e->kind == ACT_ARG_MEAN || e->kind == ACT_ARG_VARIANCE) &&
             x->ndim > 0) {
    int a = axis < 0 ? axis + x->ndim : axis;
    if (a >= 0 && a < x->ndim)
      t.dims[a] = 1;
    if ((int64_t)n != act_tensor_numel(&t)) {
      t.ndim = 1;
      t.dims[0] = (int64_t)n;
    }
  } else {
    t.ndim = 1;
    t.dims[0] = (int64_t)n;
  }
  t.dtype = e->kind == ACT_ARG_WHERE ? ACT_U8 : dtype;
  size_t es = act_dtype_size(t.dtype);
  void *buf = malloc(n * es + 1);
  if (!buf) {
    free(v);
    return die(EXIT_RUNTIME, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    float f = (float)v[i];
    if (t.dtype == ACT_U8) {
      ((unsigned char *)buf)[i] = v[i] != 0.0;
    } else if (act_convert(ACT_F32, &f, t.dtype, (char *)buf + i * es, 1)) {
      free(v);
      free(buf);
      return fail(e->opt, ACT_BAD_DTYPE);
    }
  }
  free(v);
  t.data = buf;
  arg->kind = e->kind;
  arg->tensor = t;
  *storage = buf;
  return 0;
}

static void fprint_value(FILE *out, act_dtype_t t, const void *data,
                         int64_t i) {
  if (t == ACT_I32) {
    fprintf(out, "%d", ((const int32_t *)data)[i]);
    return;
  }
  float f;
  act_convert(t, (const char *)data + (size_t)i * act_dtype_size(t), ACT_F32,
              &f, 1);
  fprintf(out, "%.9g", f);
}

static void print_value(act_dtype_t t, const void *data, int64_t i) {
  fprint_value(stdout, t, data, i);
}

/* The format of a data file: --in-format / --out-format when given, else
 * by its name (.npy: numpy's; .txt, .csv: numbers as text; else raw
 * bytes of the dtype). 'n', 't', 'r', or 0 for a bad explicit format. */
static char file_format(const char *path, const char *explicit) {
  if (explicit)
    return strcmp(explicit, "npy") == 0    ? 'n'
           : strcmp(explicit, "text") == 0 ? 't'
           : strcmp(explicit, "raw") == 0  ? 'r'
                                           : 0;
  return is_npy_name(path) ? 'n' : is_text_name(path) ? 't' : 'r';
}

/* actc run --backward: reads dy (y's shape), runs the forward first where
 * the backward works from y (softmax family, logsumexp), then backward.
 * args holds x, y (written by the forward), maybe sign, and the extra
 * operands. Returns dx (x's shape) in *dxbuf and, for prelu with an alpha
 * tensor, dalpha in *dabuf (*nda values). */
static int run_backward(act_context_t *ctx, const act_op_desc_t *desc,
                        const char *opname, const act_arg_t *args,
                        size_t nargs, const char *dy_s, const char *dy_in,
                        void **dybuf, void **dxbuf, void **dabuf,
                        int64_t *nda) {
  act_op_t op = act_op_desc_op(desc);
  const act_tensor_t *x = NULL, *y = NULL, *alpha = NULL;
  for (size_t i = 0; i < nargs; i++) {
    if (args[i].kind == ACT_ARG_X)
      x = &args[i].tensor;
    else if (args[i].kind == ACT_ARG_Y)
      y = &args[i].tensor;
    else if (args[i].kind == ACT_ARG_ALPHA)
      alpha = &args[i].tensor;
  }
  if (op == ACT_OP_ONE_HOT)
    return die(EXIT_USAGE, "run: one_hot has no gradient (--backward)");
  act_dtype_t t = x->dtype;
  size_t es = act_dtype_size(t);
  int64_t ny = act_tensor_numel(y), nx = act_tensor_numel(x);
  size_t n = 0;
  if (dy_s) {
    double *v;
    int rc = parse_list("--dy", dy_s, &v, &n);
    if (rc)
      return rc;
    *dybuf = malloc(n * es + 1);
    if (!*dybuf) {
      free(v);
      return die(EXIT_RUNTIME, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
      act_convert(ACT_F32, &(float){(float)v[i]}, t,
                  (char *)*dybuf + i * es, 1);
    free(v);
  } else {
    size_t bytes;
    *dybuf = read_file(dy_in, &bytes);
    if (!*dybuf)
      return die(EXIT_USAGE, "run: cannot read --dy-in '%s': %s", dy_in,
                 strerror(errno));
    if (bytes % es)
      return die(EXIT_USAGE, "run: --dy-in '%s' holds %zu bytes, not a whole number "
                 "of %s elements", dy_in, bytes, act_dtype_name(t));
    n = bytes / es;
  }
  if ((int64_t)n != ny)
    return die(EXIT_USAGE, "run: --backward: dy has %zu values but %s's "
               "output y has %lld", n, opname, (long long)ny);
  *dxbuf = malloc((size_t)nx * es + 1);
  if (!*dxbuf)
    return die(EXIT_RUNTIME, "out of memory");
  bool from_y = op == ACT_OP_SOFTMAX || op == ACT_OP_LOG_SOFTMAX ||
                op == ACT_OP_SOFTMIN || op == ACT_OP_LOGSUMEXP;
  act_status_t st;
  if (from_y && (st = act_forward_host(ctx, desc, nargs, args)))
    return fail(opname, st);
  act_arg_t b[ACT_ARG_COUNT];
  size_t nb = 0;
  for (size_t i = 0; i < nargs; i++) {
    act_arg_kind_t k = args[i].kind;
    if (k == ACT_ARG_SIGN || (k == ACT_ARG_Y && !from_y) ||
        (k == ACT_ARG_X && from_y && op != ACT_OP_LOGSUMEXP))
      continue;
    b[nb++] = args[i];
  }
  act_tensor_t dy = *y, dx = *x;
  dy.data = *dybuf;
  dx.data = *dxbuf;
  b[nb++] = (act_arg_t){ACT_ARG_DY, dy};
  b[nb++] = (act_arg_t){ACT_ARG_DX, dx};
  if (op == ACT_OP_PRELU && alpha) {
    *nda = act_tensor_numel(alpha);
    *dabuf = malloc((size_t)*nda * es + 1);
    if (!*dabuf)
      return die(EXIT_RUNTIME, "out of memory");
    act_tensor_t da = *alpha;
    da.data = *dabuf;
    b[nb++] = (act_arg_t){ACT_ARG_DALPHA, da};
  }
  if ((st = act_backward_host(ctx, desc, nb, b))) {
    char what[96];
    snprintf(what, sizeof what, "%s --backward", opname);
    return fail(what, st);
  }
  return 0;
}

/* The input x from a value list (the value of option opt): n elements of
 * xtype in a malloc'd *xbuf. Floats go through float, so that f16/bf16
 * inputs round once from the shortest decimal a user typed (exact for
 * representable ones); one_hot's indices must be int32 values. */
static int values_to_x(const char *opt, const char *list, act_dtype_t xtype,
                       void **xbuf, size_t *n) {
  double *v;
  int rc = parse_list(opt, list, &v, n);
  if (rc)
    return rc;
  size_t es = act_dtype_size(xtype);
  char *x = malloc(*n * es + 1);
  if (!x) {
    free(v);
    return die(EXIT_RUNTIME, "out of memory");
  }
  for (size_t i = 0; i < *n; i++) {
    if (xtype == ACT_I32) {
      if (v[i] != floor(v[i]) || fabs(v[i]) > 2147483647.0) {
        rc = die(EXIT_USAGE, "run: %s: one_hot index %.17g is not an int32",
                 opt, v[i]);
        break;
      }
      ((int32_t *)(void *)x)[i] = (int32_t)v[i];
    } else {
      act_convert(ACT_F32, &(float){(float)v[i]}, xtype, x + i * es, 1);
    }
  }
  free(v);
  if (rc) {
    free(x);
    return rc;
  }
  *xbuf = x;
  return 0;
}

static int cmd_run(int argc, char **argv) {
  const char *opname = NULL, *device = "auto", *values = NULL, *in = NULL;
  const char *out = NULL, *shape = NULL, *axis_s = NULL, *preset_s = NULL;
  const char *dy_s = NULL, *dy_in = NULL;
  const char *in_format = NULL, *out_format = NULL;
  const char *first_custom = NULL; /* the first op of a --custom file */
  bool backward = false;
  const char *params[64];
  int nparams = 0;
  act_dtype_t dtype = ACT_F32;
  extra_arg_t extras[5];
  int nextra = 0;
  static const struct {
    const char *opt;
    act_arg_kind_t kind;
  } extra_opts[] = {{"--where", ACT_ARG_WHERE},
                    {"--alpha", ACT_ARG_ALPHA},
                    {"--b", ACT_ARG_B},
                    {"--mean", ACT_ARG_MEAN},
                    {"--variance", ACT_ARG_VARIANCE}};

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (is_help(a)) {
      fputs(usage_run, stdout);
      return 0;
    }
    if (a[0] != '-') {
      if (opname)
        return die(EXIT_USAGE, "run: unexpected argument '%s' (one op only)",
                   a);
      opname = a;
      continue;
    }
    if (strcmp(a, "--backward") == 0) {
      backward = true;
      continue;
    }
    if (i + 1 >= argc)
      return die(EXIT_USAGE, "run: option %s needs a value", a);
    const char *v = argv[++i];
    /* Single-valued options given twice are a mistake, not "the last one
     * wins" (--param, --custom and the operand options are checked
     * below or may repeat). */
    static const char *const once[] = {"--device", "--dtype", "--shape",
                                       "--axis", "--preset", "--values",
                                       "--in", "--out", "--dy", "--dy-in",
                                       "--in-format", "--out-format", NULL};
    for (int k = 0; once[k]; k++)
      if (strcmp(a, once[k]) == 0) {
        for (int j = 1; j < i - 1; j++)
          if (strcmp(argv[j], a) == 0)
            return die(EXIT_USAGE, "run: %s given twice", a);
      }
    if (strcmp(a, "--device") == 0)
      device = v;
    else if (strcmp(a, "--dtype") == 0) {
      if (act_dtype_parse(v, &dtype))
        return die(EXIT_USAGE, "run: %s", act_last_error());
    } else if (strcmp(a, "--shape") == 0)
      shape = v;
    else if (strcmp(a, "--axis") == 0)
      axis_s = v;
    else if (strcmp(a, "--param") == 0) {
      if (nparams == 64)
        return die(EXIT_USAGE, "run: too many --param");
      params[nparams++] = v;
    } else if (strcmp(a, "--preset") == 0)
      preset_s = v;
    else if (strcmp(a, "--values") == 0)
      values = v;
    else if (strcmp(a, "--in") == 0)
      in = v;
    else if (strcmp(a, "--out") == 0)
      out = v;
    else if (strcmp(a, "--dy") == 0)
      dy_s = v;
    else if (strcmp(a, "--dy-in") == 0)
      dy_in = v;
    else if (strcmp(a, "--in-format") == 0)
      in_format = v;
    else if (strcmp(a, "--out-format") == 0)
      out_format = v;
    else if (strcmp(a, "--custom") == 0) {
      act_op_t cops[1];
      size_t nc = 0;
      int rc = load_custom(v, cops, 1, &nc);
      if (rc)
        return rc;
      if (nc && !first_custom)
        first_custom = act_op_info(cops[0])->name;
    } else {
      bool found = false;
      for (size_t k = 0; k < sizeof extra_opts / sizeof *extra_opts; k++)
        if (strcmp(a, extra_opts[k].opt) == 0) {
          for (int q = 0; q < nextra; q++)
            if (extras[q].kind == extra_opts[k].kind)
              return die(EXIT_USAGE, "run: %s given twice", a);
          extras[nextra++] = (extra_arg_t){extra_opts[k].kind, a, v};
          found = true;
        }
      if (!found) {
        static const char *const opts[] = {
            "--device", "--dtype", "--shape", "--axis", "--param", "--preset",
            "--values", "--in", "--out", "--dy", "--dy-in", "--custom",
            "--in-format", "--out-format",
            "--backward", "--where", "--alpha", "--b", "--mean", "--variance",
            "--help", NULL};
        return die(EXIT_USAGE, "run: unknown option '%s'%s (see actc run "
                   "--help)", a, did_you_mean(a, opts));
      }
    }
  }
  if (!opname && first_custom)
    opname = first_custom;
  if (!opname)
    return die(EXIT_USAGE, "run: which op? (actc list shows them)");
  if (first_custom && !values && !in && !backward) {
    values = "-3,-1,-0.5,0,0.5,1,3";
    fprintf(stderr, "actc: run %s: x = %s\n", opname, values);
  }
  if (!values == !in)
    return die(EXIT_USAGE, "run: give exactly one of --values and --in");
  if (backward && !dy_s == !dy_in)
    return die(EXIT_USAGE, "run: --backward needs exactly one of --dy and "
               "--dy-in (the incoming gradient)");
  if (!backward && (dy_s || dy_in))
    return die(EXIT_USAGE, "run: --dy and --dy-in go with --backward");
  char fin = in ? file_format(in, in_format) : 'r';
  char fout = out ? file_format(out, out_format) : 'r';
  if (!fin || !fout)
    return die(EXIT_USAGE, "run: --%s-format must be raw, text or npy, not "
               "'%s'", !fin ? "in" : "out", !fin ? in_format : out_format);
  if ((in_format && !in) || (out_format && !out))
    return die(EXIT_USAGE, "run: --%s-format goes with --%s",
               in_format && !in ? "in" : "out", in_format && !in ? "in"
                                                                 : "out");

  act_op_desc_t *desc = NULL;
  act_status_t st = act_op_desc_create_by_name(opname, &desc);
  if (st == ACT_UNKNOWN_OP)
    return unknown_op("run", opname, st);
  if (st)
    return fail("run", st);
  int rc = 0;
  void *xbuf = NULL, *ybuf = NULL, *sbuf = NULL, *extra_bufs[5] = {0};
  void *dybuf = NULL, *dxbuf = NULL, *dabuf = NULL;
  int64_t nda = 0;
  act_context_t *ctx = NULL;
  act_arg_t args[ACT_ARG_COUNT];
  size_t nargs = 0;
  act_op_t op = act_op_desc_op(desc);
  act_dtype_t xtype = op == ACT_OP_ONE_HOT ? ACT_I32 : dtype;
  act_tensor_t x = act_tensor_make(xtype, 0, NULL, NULL);

  if (preset_s) {
    act_preset_t p;
    if ((st = act_preset_parse(preset_s, &p)) ||
        (st = act_op_desc_set_preset(desc, p))) {
      static const char *const presets[] = {"jax", "keras2", "axon", "kaun",
                                            "torch", "none", NULL};
      rc = die(EXIT_USAGE, "run --preset: %s (%s)%s", act_last_error(),
               act_status_name(st), did_you_mean(preset_s, presets));
      goto done;
    }
  }
  for (int i = 0; i < nparams; i++) {
    char name[64];
    const char *eq = strchr(params[i], '=');
    if (!eq || eq == params[i] || (size_t)(eq - params[i]) >= sizeof name) {
      rc = die(EXIT_USAGE, "run: --param expects NAME=VALUE, got '%s'",
               params[i]);
      goto done;
    }
    memcpy(name, params[i], (size_t)(eq - params[i]));
    name[eq - params[i]] = '\0';
    char *end;
    double val = strtod(eq + 1, &end);
    if (end == eq + 1 || *end) {
      rc = die(EXIT_USAGE, "run: --param %s: '%s' is not a number", name,
               eq + 1);
      goto done;
    }
    if ((st = act_op_desc_set_param(desc, name, val))) {
      const act_op_info_t *oi = act_op_info(op);
      const char *pn[ACT_MAX_PARAMS + 1] = {NULL};
      for (int k = 0; k < oi->nparams; k++)
        pn[k] = oi->params[k].name;
      rc = die(EXIT_USAGE, "run --param: %s (%s)%s", act_last_error(),
               act_status_name(st), did_you_mean(name, pn));
      goto done;
    }
  }
  if (axis_s) {
    char *end;
    long ax = strcmp(axis_s, "all") == 0 ? ACT_AXIS_ALL
                                         : strtol(axis_s, &end, 10);
    if (strcmp(axis_s, "all") != 0 && (end == axis_s || *end)) {
      rc = die(EXIT_USAGE, "run: bad --axis '%s'", axis_s);
      goto done;
    }
    if ((st = act_op_desc_set_axis(desc, (int)ax))) {
      rc = fail("run --axis", st);
      goto done;
    }
  }

  /* The input. */
  size_t es = act_dtype_size(xtype), n = 0;
  if (values) {
    if ((rc = values_to_x("--values", values, xtype, &xbuf, &n)))
      goto done;
  } else {
    size_t bytes;
    xbuf = read_file(in, &bytes);
    if (!xbuf) {
      rc = die(EXIT_USAGE, "run: cannot read --in '%s': %s", in,
               strerror(errno));
      goto done;
    }
    act_tensor_t npy_shape = x;
    if (fin == 'n') {
      const char *data = NULL;
      if ((rc = npy_parse("--in", in, xbuf, bytes, xtype, &npy_shape, &data,
                          &n)))
        goto done;
      memmove(xbuf, data, n * es);
      bytes = n * es;
      if (!shape) { /* the file's shape, unless --shape gives another */
        x.ndim = npy_shape.ndim;
        memcpy(x.dims, npy_shape.dims, sizeof x.dims);
      }
    }
    if (fin == 't') {
      /* numbers as text: parsed as --values would be */
      char *list = text_to_list("--in", in, xbuf, bytes, &rc);
      free(xbuf);
      xbuf = NULL;
      if (!list)
        goto done;
      rc = values_to_x("--in", list, xtype, &xbuf, &n);
      free(list);
      if (rc)
        goto done;
      bytes = n * es;
    }
    if (fin == 'r' && !in_format && bytes && looks_like_text(xbuf, bytes)) {
      /* a file of numbers as text under another name: refused rather
       * than read as raw bytes (real raw data is never all digits) */
      rc = die(EXIT_USAGE, "run: --in '%s' looks like numbers as text, not "
               "raw %s bytes: name it .txt or .csv, or say --in-format text "
               "(or --in-format raw to read its bytes anyway)", in,
               act_dtype_name(xtype));
      goto done;
    }
    if (bytes % es) {
      rc = die(EXIT_USAGE, "run: --in '%s' holds %zu bytes, not a whole number of %s "
               "elements", in, bytes, act_dtype_name(xtype));
      goto done;
    }
    n = bytes / es;
  }
  x.data = xbuf;
  bool shape_from_npy = in && fin == 'n' && !shape;
  if (shape_from_npy) {
    /* x's shape is the .npy file's (set above) */
  } else if (shape) {
    if ((rc = parse_shape(shape, &x)))
      goto done;
    if ((size_t)act_tensor_numel(&x) != n) {
      rc = die(EXIT_USAGE, "run: --shape %s holds %lld elements but %zu were "
               "given", shape, (long long)act_tensor_numel(&x), n);
      goto done;
    }
  } else {
    x.ndim = 1;
    x.dims[0] = (int64_t)n;
  }

  /* The output's shape follows from the op. */
  act_tensor_t y = x;
  y.dtype = dtype;
  int axis = act_op_desc_get_axis(desc);
  double pv = 0;
  if (op == ACT_OP_ONE_HOT) {
    double nc = NAN;
    act_op_desc_get_param(desc, "num_classes", &nc);
    if (isnan(nc)) {
      rc = die(EXIT_USAGE, "run: one_hot needs --param num_classes=N");
      goto done;
    }
    int a = axis < 0 ? axis + x.ndim + 1 : axis;
    if (a < 0 || a > x.ndim || x.ndim >= ACT_MAX_DIMS) {
      rc = die(EXIT_USAGE, "run: one_hot axis %d is out of range", axis);
      goto done;
    }
    y.ndim = x.ndim + 1;
    for (int i = 0, j = 0; i < y.ndim; i++)
      y.dims[i] = i == a ? (int64_t)nc : x.dims[j++];
  } else if (op == ACT_OP_GLU || op == ACT_OP_LOGSUMEXP) {
    int a = axis < 0 ? axis + x.ndim : axis;
    bool keep = op == ACT_OP_LOGSUMEXP &&
                !act_op_desc_get_param(desc, "keepdims", &pv) && pv != 0.0;
    if (axis == ACT_AXIS_ALL) {
      y.ndim = keep ? x.ndim : 0;
      for (int i = 0; i < y.ndim; i++)
        y.dims[i] = 1;
    } else if (a >= 0 && a < x.ndim) {
      if (op == ACT_OP_GLU)
        y.dims[a] = x.dims[a] / 2 + x.dims[a] % 2; /* odd: the library says */
      else if (keep)
        y.dims[a] = 1;
      else {
        y.ndim--;
        for (int i = a; i < y.ndim; i++)
          y.dims[i] = x.dims[i + 1];
      }
    }
  }
  int64_t ny = act_tensor_numel(&y);
  size_t yes = act_dtype_size(dtype);
  ybuf = malloc((size_t)ny * yes + 1);
  if (!ybuf) {
    rc = die(EXIT_RUNTIME, "out of memory");
    goto done;
  }
  y.data = ybuf;
  args[nargs++] = (act_arg_t){ACT_ARG_X, x};
  args[nargs++] = (act_arg_t){ACT_ARG_Y, y};
  bool want_sign = op == ACT_OP_LOGSUMEXP &&
                   !act_op_desc_get_param(desc, "return_sign", &pv) &&
                   pv != 0.0;
  if (want_sign) {
    sbuf = malloc((size_t)ny * yes + 1);
    if (!sbuf) {
      rc = die(EXIT_RUNTIME, "out of memory");
      goto done;
    }
    act_tensor_t s = y;
    s.data = sbuf;
    args[nargs++] = (act_arg_t){ACT_ARG_SIGN, s};
  }
  for (int i = 0; i < nextra; i++)
    if ((rc = make_extra(&extras[i], &x, axis, dtype, &args[nargs++],
                         &extra_bufs[i])))
      goto done;

  if ((rc = open_device("run --device", device, &ctx)))
    goto done;
  double t0 = now_s();
  if (backward) {
    if ((rc = run_backward(ctx, desc, opname, args, nargs, dy_s, dy_in,
                           &dybuf, &dxbuf, &dabuf, &nda)))
      goto done;
    /* What is printed or written below: dx (x's shape), then dalpha. */
    ybuf = (free(ybuf), dxbuf);
    dxbuf = NULL;
    ny = act_tensor_numel(&x);
    want_sign = false;
  } else if ((st = act_forward_host(ctx, desc, nargs, args))) {
    rc = fail("run", st);
    goto done;
  }
  compile_notice(ctx, now_s() - t0);
  if (out && fout == 'n' && (nda || want_sign)) {
    rc = die(EXIT_USAGE, "run: --out %s: a .npy file holds one array "
             "(prelu's dalpha and logsumexp's sign need a raw --out)", out);
    goto done;
  }
  if (out) {
    bool std_out = strcmp(out, "-") == 0;
    FILE *f = std_out ? stdout : fopen(out, fout == 't' ? "w" : "wb");
    act_tensor_t oshape = backward ? x : y;
    oshape.dtype = dtype;
    if (f && fout == 't') {
      /* as printed, one value per line (dalpha after a line 'dalpha:') */
      for (int64_t i = 0; i < ny; i++) {
        fprint_value(f, dtype, ybuf, i);
        if (want_sign) {
          fputc('\t', f);
          fprint_value(f, dtype, sbuf, i);
        }
        fputc('\n', f);
      }
      if (nda) {
        fprintf(f, "dalpha:\n");
        for (int64_t i = 0; i < nda; i++) {
          fprint_value(f, dtype, dabuf, i);
          fputc('\n', f);
        }
      }
      if (ferror(f) | (std_out ? fflush(f) : fclose(f))) {
        rc = die(EXIT_RUNTIME, "run: cannot write --out '%s': %s", out,
                 strerror(errno));
        goto done;
      }
      goto written;
    }
    if (f && fout == 'n' && !npy_header(f, &oshape)) {
      if (!std_out) {
        fclose(f);
        remove(out);
      }
      rc = die(!npy_descr(dtype) ? EXIT_USAGE : EXIT_RUNTIME,
               "run: cannot write --out '%s'%s", out,
               npy_descr(dtype) ? "" : ": numpy has no bf16 dtype (use a "
                                       "raw file)");
      goto done;
    }
    if (!f || fwrite(ybuf, yes, (size_t)ny, f) != (size_t)ny) {
      if (f)
        fclose(f);
      rc = die(EXIT_RUNTIME, "run: cannot write --out '%s': %s", out,
               strerror(errno));
      goto done;
    }
    if (nda && fwrite(dabuf, yes, (size_t)nda, f) != (size_t)nda) {
      fclose(f);
      rc = die(EXIT_RUNTIME, "run: cannot write --out '%s': %s", out,
               strerror(errno));
      goto done;
    }
    if (std_out ? fflush(f) : fclose(f)) {
      rc = die(EXIT_RUNTIME, "run: cannot write --out '%s': %s", out,
               strerror(errno));
      goto done;
    }
  written:;
  } else {
    for (int64_t i = 0; i < ny; i++) {
      print_value(dtype, ybuf, i);
      if (want_sign) {
        putchar('\t');
        print_value(dtype, sbuf, i);
      }
      putchar('\n');
    }
    if (nda) {
      printf("dalpha:\n");
      for (int64_t i = 0; i < nda; i++) {
        print_value(dtype, dabuf, i);
        putchar('\n');
      }
    }
  }
done:
  free(dybuf);
  free(dxbuf);
  free(dabuf);
  act_context_destroy(ctx);
  act_op_desc_destroy(desc);
  free(xbuf);
  free(ybuf);
  free(sbuf);
  for (int i = 0; i < 5; i++)
    free(extra_bufs[i]);
  return rc;
}

/* ---- actc verify ----------------------------------------------------------- */

static const char usage_verify[] =
    "usage: actc verify [OP...] [--device D] [--dtype T]... [--backward]\n"
    "                   [--exhaustive] [--json]\n"
    "\n"
    "Runs ops on a device and on the double-precision reference over a sweep\n"
    "of inputs (special values, a dense grid, points packed around 0 and the\n"
    "kinks at +-1, +-3, +-6, random magnitudes from 1e-8 to 1e4 of both\n"
    "signs) and prints the maximum error per op and dtype, in ulps of the\n"
    "output type. Exits 1 if any op is outside the bounds of\n"
    "docs/accuracy.md: "
    "2 ulp for element-wise f32, 4 ulp for axis ops, 1 ulp for f16/bf16.\n"
    "\n"
    "  --device D   the device to check (default auto)\n"
    "  --dtype T    f32, f16 or bf16 (repeatable; default all three)\n"
    "  --backward   check the gradients instead (docs/ops.md, \"Gradients\"):\n"
    "               dx from dy in +-[0.25, 2.25), with one element in 89\n"
    "               given a far dy (+-inf, NaN, 3e38, 1e-30, denormals);\n"
    "               the softmax family from the reference's y, logsumexp\n"
    "               with a scale b; one_hot has no gradient (shown as -)\n"
    "  --custom F   load the custom ops file F declares, and check them\n"
    "               (forward, and backward: given or derived)\n"
    "               against the reference's double evaluation of the same\n"
    "               source, within |y - r| <= 16 ulp (f32) or 2 ulp (f16,\n"
    "               bf16) of r, or 2^-22 near zero (actkit.h,\n"
    "               act_custom_within_bound); repeatable\n"
    "  --exhaustive element-wise ops over every input of the dtype instead\n"
    "               of the sweep: all 2^32 f32 bit patterns (in chunks of\n"
    "               2^24; minutes per op on a CPU driver), all 2^16 for\n"
    "               f16 and bf16; axis ops keep their random rows; with\n"
    "               --backward, each x with its dy as above\n"
    "  --json       one JSON object: the device, a result per op, direction\n"
    "               and dtype (max_ulp, bound, ok), outside, pass\n"
    "  OP...        ops to check (default: every op, or with --custom the\n"
    "               custom ops only)\n";

/* Deterministic inputs: xorshift, so runs are reproducible. */
static uint32_t rng_state = 0x9e3779b9u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* The element-wise sweep: specials, a grid over [-20, 20], and random
 * log-uniform magnitudes in [1e-8, 1e4] of both signs. */
static float *sweep(size_t *n) {
  static const float special[] = {
      0.0f, -0.0f, 1e-45f, -1e-45f, 1.17549435e-38f, -1.17549435e-38f,
      1e-30f, -1e-30f, 1e-8f, -1e-8f, 0.5f, -0.5f, 1.0f, -1.0f, 2.0f, -2.0f,
      6.0f, -6.0f, 10.0f, -10.0f, 20.0f, -20.0f, 88.7f, -88.7f, 100.0f,
      -100.0f, 1e4f, -1e4f, 1e30f, -1e30f, 3.40282347e38f, -3.40282347e38f,
      INFINITY, -INFINITY, NAN};
  /* the kinks and ramp ends of the catalogue, swept densely around */
  static const float kinks[] = {-6.0f, -3.0f, -1.0f, 1.0f, 3.0f, 6.0f};
  size_t ns = sizeof special / sizeof *special, ngrid = 4001, nrand = 20000;
  size_t nzero = 4001, nk = sizeof kinks / sizeof *kinks, nkink = 201, nnext = 8;
  float *x = malloc((ns + ngrid + nzero + nk * (nkink + 2 * nnext) + nrand) *
                    sizeof *x);
  if (!x)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < ns; i++)
    x[k++] = special[i];
  for (size_t i = 0; i < ngrid; i++)
    x[k++] = -20.0f + 40.0f * (float)i / (float)(ngrid - 1);
  /* steps of 5e-6 over [-0.01, 0.01], where a formula's small terms
   * decide the last bits (the misses of squareplus and hard_silu near 0
   * that a sweep like this found) */
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
  for (size_t i = 0; i < nrand; i++) {
    double u = (rng() >> 8) * (1.0 / 16777216.0);
    double m = pow(10.0, -8.0 + 12.0 * u);
    x[k++] = (float)((rng() & 1) ? -m : m);
  }
  *n = k;
  return x;
}

/* The ulp error that custom ops report: 0 where |y - r| is within the
 * bound's absolute floor (2^-22, near zero), where a ulp count says
 * nothing (the user's float code rounds its larger intermediates). */
static double custom_ulp(act_dtype_t dt, float a, float b) {
  double d = fabs((double)a - (double)b);
  if (d <= 0x1p-22)
    return 0.0;
  return act_ulp_error(dt, a, b);
}

/* The max ulp error of n elements of dt, got against want (the
 * contract's measure, act_ulp_error); with nbad, the custom ops' measure
 * (custom_ulp), and the elements outside their bound counted in *nbad. */
static double max_ulp(act_dtype_t dt, const void *got, const void *want,
                      size_t n, int64_t *nbad) {
  size_t es = act_dtype_size(dt);
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    float a, b;
    act_convert(dt, (const char *)got + i * es, ACT_F32, &a, 1);
    act_convert(dt, (const char *)want + i * es, ACT_F32, &b, 1);
    double e = nbad ? custom_ulp(dt, a, b) : act_ulp_error(dt, a, b);
    worst = e > worst ? e : worst;
    if (nbad && !act_custom_within_bound(dt, a, b))
      ++*nbad;
  }
  return worst;
}

/* Runs desc over args on the device and the reference; returns the max
 * ulp error of y (and sign) or a negative number after printing an error. */
static double compare_run(act_context_t *ctx, const act_op_desc_t *desc,
                          act_arg_t *args, size_t nargs, int yi, int si,
                          int64_t *nbad) {
  act_tensor_t *y = &args[yi].tensor;
  int64_t ny = act_tensor_numel(y);
  size_t bytes = (size_t)ny * act_dtype_size(y->dtype);
  void *dev = malloc(bytes + 1), *sdev = NULL;
  void *ref = y->data;
  if (!dev)
    return -1;
  act_status_t st = act_reference_forward(desc, nargs, args);
  void *sref = si >= 0 ? args[si].tensor.data : NULL;
  if (!st) {
    y->data = dev;
    if (si >= 0) {
      sdev = malloc(bytes + 1);
      args[si].tensor.data = sdev;
    }
    st = act_forward_host(ctx, desc, nargs, args);
    y->data = ref;
    if (si >= 0)
      args[si].tensor.data = sref;
  }
  double worst = 0;
  if (st) {
    fprintf(stderr, "actc: verify %s: %s\n",
            act_op_info(act_op_desc_op(desc))->name, act_last_error());
    worst = -1;
  } else {
    worst = max_ulp(y->dtype, dev, ref, (size_t)ny, nbad);
    if (sdev) {
      double e = max_ulp(y->dtype, sdev, sref, (size_t)ny, NULL);
      worst = e > worst ? e : worst;
    }
  }
  free(dev);
  free(sdev);
  return worst;
}

/* Custom ops, backward: dx = dy f'(x) over the sweep, dy in [-2, 2];
 * the max ulp error of dx, elements outside the custom bound in *nbad. */
static double verify_custom_bwd(act_context_t *ctx, act_op_t op,
                                act_dtype_t dt, const float *sx, size_t sn,
                                int64_t *nbad) {
  act_op_desc_t *desc;
  if (act_op_desc_create(op, &desc))
    return -1;
  size_t es = act_dtype_size(dt);
  int64_t d[1] = {(int64_t)sn};
  void *x = malloc(sn * es), *dy = malloc(sn * es), *dx = malloc(sn * es);
  void *rx = malloc(sn * es);
  float *fdy = malloc(sn * sizeof *fdy);
  double worst = -1;
  if (x && dy && dx && rx && fdy) {
    for (size_t i = 0; i < sn; i++)
      fdy[i] = (float)(((rng() >> 8) * (1.0 / 16777216.0)) * 4.0 - 2.0);
    act_convert(ACT_F32, sx, dt, x, sn);
    act_convert(ACT_F32, fdy, dt, dy, sn);
    act_arg_t args[3] = {
        {ACT_ARG_X, act_tensor_make(dt, 1, d, x)},
        {ACT_ARG_DY, act_tensor_make(dt, 1, d, dy)},
        {ACT_ARG_DX, act_tensor_make(dt, 1, d, rx)}};
    act_status_t st = act_reference_backward(desc, 3, args);
    args[2].tensor.data = dx;
    if (!st)
      st = act_backward_host(ctx, desc, 3, args);
    if (st)
      fprintf(stderr, "actc: verify %s backward: %s\n",
              act_op_info(op)->name, act_last_error());
    else
      worst = max_ulp(dt, dx, rx, sn, nbad);
  }
  free(x), free(dy), free(dx), free(rx), free(fdy);
  act_op_desc_destroy(desc);
  return worst;
}

/* Verifies one op on one dtype; returns the max ulp error (< 0: error).
 * For custom ops, *nbad counts the elements outside their bound. */
static double verify_op(act_context_t *ctx, const char *name, act_dtype_t dt,
                        const float *sx, size_t sn, int64_t *nbad) {
  act_op_desc_t *desc;
  if (act_op_desc_create_by_name(name, &desc))
    return -1;
  act_op_t op = act_op_desc_op(desc);
  const act_op_info_t *info = act_op_info(op);
  size_t es = act_dtype_size(dt);
  double worst = -1;
  void *x = NULL, *y = NULL, *aux = NULL, *aux2 = NULL;
  act_arg_t args[4];
  size_t nargs = 2;
  int si = -1;
  /* Axis ops: 61 rows of 257 random values in [-30, 30] along the last
   * axis (glu: an even 258), one_hot: 1000 indices, some out of range. */
  int64_t rows = 61, cols = op == ACT_OP_GLU ? 258 : 257;
  if (op == ACT_OP_THRESHOLD) {
    act_op_desc_set_param(desc, "threshold", 0.5);
    act_op_desc_set_param(desc, "value", -2.0);
  }
  if (op == ACT_OP_ONE_HOT)
    act_op_desc_set_param(desc, "num_classes", 10);
  if (info->kind == ACT_KIND_ELTWISE) {
    int64_t d[1] = {(int64_t)sn};
    x = malloc(sn * es);
    y = malloc(sn * es);
    if (!x || !y)
      goto done;
    act_convert(ACT_F32, sx, dt, x, sn);
    args[0] = (act_arg_t){ACT_ARG_X, act_tensor_make(dt, 1, d, x)};
    args[1] = (act_arg_t){ACT_ARG_Y, act_tensor_make(dt, 1, d, y)};
  } else if (op == ACT_OP_ONE_HOT) {
    int64_t d[1] = {1000}, dy[2] = {1000, 10};
    int32_t *ix = malloc(1000 * sizeof *ix);
    x = ix;
    y = malloc(10000 * es);
    if (!x || !y)
      goto done;
    for (int i = 0; i < 1000; i++)
      ix[i] = (int32_t)(rng() % 14) - 2;
    args[0] = (act_arg_t){ACT_ARG_X, act_tensor_make(ACT_I32, 1, d, x)};
    args[1] = (act_arg_t){ACT_ARG_Y, act_tensor_make(dt, 2, dy, y)};
  } else {
    int64_t d[2] = {rows, cols}, dy[2] = {rows, cols};
    size_t n = (size_t)(rows * cols);
    float *fx = malloc(n * sizeof *fx);
    x = malloc(n * es);
    y = malloc(n * es);
    if (!fx || !x || !y) {
      free(fx);
      goto done;
    }
    for (size_t i = 0; i < n; i++)
      fx[i] = (float)(((rng() >> 8) * (1.0 / 16777216.0)) * 60.0 - 30.0);
    act_convert(ACT_F32, fx, dt, x, n);
    free(fx);
    if (op == ACT_OP_GLU)
      dy[1] = cols / 2;
    if (op == ACT_OP_LOGSUMEXP)
      dy[1] = 1;
    args[0] = (act_arg_t){ACT_ARG_X, act_tensor_make(dt, 2, d, x)};
    args[1] = (act_arg_t){ACT_ARG_Y, act_tensor_make(dt, op == ACT_OP_LOGSUMEXP
                                                             ? 1 : 2, dy, y)};
    if (op == ACT_OP_SOFTMAX || op == ACT_OP_LOG_SOFTMAX ||
        op == ACT_OP_SOFTMIN) {
      unsigned char *m = malloc(n);
      aux = m;
      if (!m)
        goto done;
      for (size_t i = 0; i < n; i++)
        m[i] = (rng() % 8) != 0; /* about one in eight masked out */
      for (int64_t c = 0; c < cols; c++)
        m[c] = 0; /* a fully masked row */
      args[nargs++] =
          (act_arg_t){ACT_ARG_WHERE, act_tensor_make(ACT_U8, 2, d, m)};
    }
    if (op == ACT_OP_LOGSUMEXP) {
      act_op_desc_set_param(desc, "return_sign", 1);
      aux = malloc((size_t)rows * es);
      float *fb = malloc(n * sizeof *fb);
      aux2 = malloc(n * es);
      if (!aux || !fb || !aux2) {
        free(fb);
        goto done;
      }
      for (size_t i = 0; i < n; i++)
        fb[i] = (float)((rng() % 5) * 0.5 - 0.5); /* some 0, some < 0 */
      act_convert(ACT_F32, fb, dt, aux2, n);
      free(fb);
      si = (int)nargs;
      args[nargs++] =
          (act_arg_t){ACT_ARG_SIGN, act_tensor_make(dt, 1, dy, aux)};
      args[nargs++] = (act_arg_t){ACT_ARG_B, act_tensor_make(dt, 2, d, aux2)};
    }
  }
  worst = compare_run(ctx, desc, args, nargs, 1, si, nbad);
done:
  free(x);
  free(y);
  free(aux);
  free(aux2);
  act_op_desc_destroy(desc);
  return worst;
}

/* dy for the gradient checks, element i: a value in +-[0.25, 2.25), and
 * for one element in 89 a far one (an infinity, NaN, products that
 * overflow or round to denormals), as tests/test_backward.c uses.  A
 * hash of i, so that the exhaustive mode pairs each x with the same dy
 * on every run. */
static float verify_dy(uint64_t i) {
  static const float far[] = {INFINITY, -INFINITY, NAN,    3.4028235e38f,
                              -3e38f,   1e-30f,    1e-40f, -1.4e-45f,
                              -2e-38f};
  if (i % 89 == 7)
    return far[(i / 89) % (sizeof far / sizeof *far)];
  uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  float m = 0.25f + 2.0f * (float)(h >> 40) * (1.0f / 16777216.0f);
  return (h & 1) ? -m : m;
}

/* A value in [-s/2, s/2) from rng(). */
static float verify_rand(float s) {
  return (float)(((rng() >> 8) * (1.0 / 16777216.0)) - 0.5) * s;
}

/* The gradient of op on dt against the reference's, over the operands of
 * act_backward (actkit.h): element-wise ops at the points sx, each with
 * verify_dy(base + i); axis ops over the rows of verify_op with dy in
 * [-2, 2] (the softmax family from the reference's y, with a where mask;
 * logsumexp with a scale b >= 0).  Returns the max ulp error of dx, -1
 * on an error, -2 for an op without a gradient (one_hot). */
static double verify_op_bwd(act_context_t *ctx, const char *name,
                            act_dtype_t dt, const float *sx, size_t sn,
                            uint64_t base) {
  act_op_desc_t *desc;
  if (act_op_desc_create_by_name(name, &desc))
    return -1;
  act_op_t op = act_op_desc_op(desc);
  if (op == ACT_OP_ONE_HOT) {
    act_op_desc_destroy(desc);
    return -2;
  }
  if (op == ACT_OP_THRESHOLD) {
    act_op_desc_set_param(desc, "threshold", 0.5);
    act_op_desc_set_param(desc, "value", -2.0);
  }
  bool elt = act_op_info(op)->kind == ACT_KIND_ELTWISE;
  bool sm = op == ACT_OP_SOFTMAX || op == ACT_OP_LOG_SOFTMAX ||
            op == ACT_OP_SOFTMIN;
  int64_t rows = 61, cols = op == ACT_OP_GLU ? 258 : 257;
  size_t n = elt ? sn : (size_t)(rows * cols); /* x and dx */
  size_t ny = op == ACT_OP_GLU        ? n / 2
              : op == ACT_OP_LOGSUMEXP ? (size_t)rows
                                       : n; /* y and dy */
  size_t es = act_dtype_size(dt);
  float *fx = malloc(n * sizeof *fx), *fdy = malloc(ny * sizeof *fdy);
  void *x = malloc(n * es), *y = malloc(ny * es), *dy = malloc(ny * es);
  void *dx = malloc(n * es), *rdx = malloc(n * es), *aux = NULL;
  double worst = -1;
  act_status_t st = ACT_OK;
  if (!fx || !fdy || !x || !y || !dy || !dx || !rdx)
    goto done;
  for (size_t i = 0; i < n; i++)
    fx[i] = elt ? sx[i] : verify_rand(60.0f);
  for (size_t i = 0; i < ny; i++)
    fdy[i] = elt ? verify_dy(base + i) : verify_rand(4.0f);
  act_convert(ACT_F32, fx, dt, x, n);
  act_convert(ACT_F32, fdy, dt, dy, ny);
  int64_t d1[1] = {(int64_t)n}, d2[2] = {rows, cols};
  int64_t e1[1] = {(int64_t)ny}, e2[2] = {rows, (int64_t)ny / rows};
  act_tensor_t tx = elt ? act_tensor_make(dt, 1, d1, x)
                        : act_tensor_make(dt, 2, d2, x);
  act_tensor_t tdy = elt || op == ACT_OP_LOGSUMEXP
                         ? act_tensor_make(dt, 1, e1, dy)
                         : act_tensor_make(dt, 2, e2, dy);
  act_tensor_t ty = tdy, tdx = tx;
  ty.data = y;
  tdx.data = rdx;
  act_arg_t a[5];
  size_t na = 0;
  if (sm || op == ACT_OP_LOGSUMEXP) {
    /* the forward output y, from the reference, as a caller keeps it */
    act_arg_t extra;
    if (sm) {
      unsigned char *m = malloc(n);
      if (!(aux = m))
        goto done;
      for (size_t i = 0; i < n; i++)
        m[i] = (i < (size_t)cols) ? 0 : (rng() % 8) != 0; /* row 0 masked */
      extra = (act_arg_t){ACT_ARG_WHERE, act_tensor_make(ACT_U8, 2, d2, m)};
    } else {
      float *fb = malloc(n * sizeof *fb);
      if (!fb || !(aux = malloc(n * es))) {
        free(fb);
        goto done;
      }
      for (size_t i = 0; i < n; i++)
        fb[i] = (float)(rng() % 4) * 0.5f; /* 0, 0.5, 1, 1.5 */
      act_convert(ACT_F32, fb, dt, aux, n);
      free(fb);
      extra = (act_arg_t){ACT_ARG_B, act_tensor_make(dt, 2, d2, aux)};
    }
    act_arg_t fa[3] = {{ACT_ARG_X, tx}, {ACT_ARG_Y, ty}, extra};
    if ((st = act_reference_forward(desc, 3, fa)))
      goto report;
    if (op == ACT_OP_LOGSUMEXP)
      a[na++] = (act_arg_t){ACT_ARG_X, tx};
    a[na++] = (act_arg_t){ACT_ARG_Y, ty};
    a[na++] = (act_arg_t){ACT_ARG_DY, tdy};
    a[na++] = extra;
  } else {
    a[na++] = (act_arg_t){ACT_ARG_X, tx};
    a[na++] = (act_arg_t){ACT_ARG_DY, tdy};
  }
  a[na++] = (act_arg_t){ACT_ARG_DX, tdx};
  st = act_reference_backward(desc, na, a);
  a[na - 1].tensor.data = dx;
  if (!st)
    st = act_backward_host(ctx, desc, na, a);
report:
  if (st)
    fprintf(stderr, "actc: verify %s backward: %s\n", act_op_info(op)->name,
            act_last_error());
  else
    worst = max_ulp(dt, dx, rdx, n, NULL);
done:
  free(fx), free(fdy), free(x), free(y), free(dy), free(dx), free(rdx);
  free(aux);
  act_op_desc_destroy(desc);
  return worst;
}

/* verify_op (or, with bwd, verify_op_bwd) over every input of dt (f32:
 * all 2^32 bit patterns, 2^24 at a time; f16/bf16: all 2^16), NaN
 * patterns included; the max ulp error, or -1 on an error. Progress on
 * stderr for f32. */
static double verify_exhaustive(act_context_t *ctx, const char *name,
                                act_dtype_t dt, bool bwd) {
  const size_t chunk = (size_t)1 << 24;
  uint64_t total = dt == ACT_F32 ? (uint64_t)1 << 32 : (uint64_t)1 << 16;
  float *cx = malloc(chunk * sizeof *cx);
  uint16_t *h = dt == ACT_F32 ? NULL : malloc(((size_t)1 << 16) * sizeof *h);
  if (!cx || (dt != ACT_F32 && !h)) {
    free(cx);
    free(h);
    return -1;
  }
  double worst = 0;
  for (uint64_t base = 0; base < total && worst >= 0; base += chunk) {
    size_t n = total - base < chunk ? (size_t)(total - base) : chunk;
    if (dt == ACT_F32) {
      for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)(base + i);
        memcpy(&cx[i], &bits, sizeof bits);
      }
      fprintf(stderr, "\r  %s: %3u%%", name,
              (unsigned)(base * 100 / total));
    } else {
      for (size_t i = 0; i < n; i++)
        h[i] = (uint16_t)(base + i);
      act_convert(dt, h, ACT_F32, cx, n); /* exact: every 16-bit value */
    }
    double e = bwd ? verify_op_bwd(ctx, name, dt, cx, n, base)
                   : verify_op(ctx, name, dt, cx, n, NULL);
    worst = e < 0 ? -1 : (e > worst ? e : worst);
  }
  if (dt == ACT_F32)
    fprintf(stderr, "\r%*s\r", 40, "");
  free(cx);
  free(h);
  return worst;
}

static int cmd_verify(int argc, char **argv) {
  const char *device = "auto";
  act_op_t ops[ACT_OP_COUNT + 64];
  /* the names as given: an alias (gelu_approx) carries its parameters */
  const char *names[ACT_OP_COUNT + 64];
  int nops = 0, ndt = 0, maxops = ACT_OP_COUNT + 64;
  bool exhaustive = false, json = false, backward = false;
  act_op_t customs[64];
  size_t ncustom = 0;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--custom") == 0 && i + 1 < argc) {
      size_t n = 0;
      int rc = load_custom(argv[i + 1], customs + ncustom, 64 - ncustom, &n);
      if (rc)
        return rc;
      ncustom += n;
    }
  act_dtype_t dts[3];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (is_help(a)) {
      fputs(usage_verify, stdout);
      return 0;
    }
    if (strcmp(a, "--device") == 0 || strcmp(a, "--dtype") == 0) {
      if (i + 1 >= argc)
        return die(EXIT_USAGE, "verify: option %s needs a value", a);
      const char *v = argv[++i];
      if (a[2] == 'd' && a[3] == 'e') {
        if (given_before(argv, i - 1, a))
          return die(EXIT_USAGE, "verify: %s given twice", a);
        device = v;
      } else {
        act_dtype_t t;
        if (act_dtype_parse(v, &t) || t == ACT_I32 || t == ACT_U8)
          return die(EXIT_USAGE, "verify: --dtype must be f32, f16 or bf16");
        if (ndt < 3)
          dts[ndt++] = t;
      }
      continue;
    }
    if (strcmp(a, "--custom") == 0) {
      i++; /* loaded above */
      continue;
    }
    if (strcmp(a, "--exhaustive") == 0) {
      exhaustive = true;
      continue;
    }
    if (strcmp(a, "--backward") == 0) {
      backward = true;
      continue;
    }
    if (strcmp(a, "--json") == 0) {
      json = true;
      continue;
    }
    if (a[0] == '-') {
      static const char *const opts[] = {"--device",     "--dtype",
                                         "--custom",     "--exhaustive",
                                         "--backward",   "--json",
                                         "--help",       NULL};
      return die(EXIT_USAGE, "verify: unknown option '%s'%s", a,
                 did_you_mean(a, opts));
    }
    act_op_t op;
    int lrc = lookup_op("verify", a, &op);
    if (lrc)
      return lrc;
    if (nops < maxops) {
      names[nops] = a;
      ops[nops++] = op;
    }
  }
  if (!nops && ncustom)
    for (size_t k = 0; k < ncustom; k++) {
      names[nops] = act_op_info(customs[k])->name;
      ops[nops++] = customs[k];
    }
  else if (!nops)
    for (int op = 0; op < ACT_OP_COUNT; op++) {
      names[nops] = act_op_info((act_op_t)op)->name;
      ops[nops++] = (act_op_t)op;
    }
  if (!ndt) {
    dts[0] = ACT_F32, dts[1] = ACT_F16, dts[2] = ACT_BF16;
    ndt = 3;
  }
  act_context_t *ctx;
  int orc = open_device("verify --device", device, &ctx);
  if (orc)
    return orc;
  double t_open = now_s();
  act_device_info_t info;
  act_context_get_device(ctx, &info);
  size_t sn;
  float *sx = sweep(&sn);
  if (!sx) {
    act_context_destroy(ctx);
    return die(EXIT_RUNTIME, "out of memory");
  }
  if (json) {
    printf("{\"device\": ");
    jstr(info.name);
    printf(", \"description\": ");
    jstr(info.description);
    printf(", \"backend\": ");
    jstr(act_backend_name(info.backend));
    printf(", \"results\": [\n");
  } else {
    printf("device %s: %s (%s)\n", info.name, info.description,
           act_backend_name(info.backend));
    printf("%-*s", backward ? 26 : 16, "op");
    for (int d = 0; d < ndt; d++)
      printf(" %10s", act_dtype_name(dts[d]));
    printf("   max ulp (bound)\n");
  }
  bool jfirst = true;
  int bad = 0, rows = 0;
  bool any_custom = false;
  for (int i = 0; i < nops; i++) {
    const act_op_info_t *oi = act_op_info(ops[i]);
    bool custom = (int)ops[i] >= ACT_OP_CUSTOM_BASE;
    any_custom = any_custom || custom;
    /* custom ops: forward, and backward when they have a derivative */
    act_op_desc_t *probe = NULL;
    bool bwd = false;
    if (custom && !act_op_desc_create(ops[i], &probe)) {
      float px = 0.5f, pdy = 1.0f, pdx;
      int64_t d1[1] = {1};
      act_arg_t pa[3] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, d1, &px)},
                         {ACT_ARG_DY, act_tensor_make(ACT_F32, 1, d1, &pdy)},
                         {ACT_ARG_DX, act_tensor_make(ACT_F32, 1, d1, &pdx)}};
      bwd = act_reference_backward(probe, 3, pa) == ACT_OK;
      act_op_desc_destroy(probe);
    }
    /* pass 0 forward, pass 1 backward: --backward runs pass 1 alone */
    for (int pass = backward; pass < (backward || bwd ? 2 : 1); pass++) {
      char label[80];
      snprintf(label, sizeof label, "%s%s", names[i],
               pass ? " (backward)" : custom ? " (custom)" : "");
      if (!json)
        printf("%-*s", backward ? 26 : 16, label);
      rows++;
      for (int d = 0; d < ndt; d++) {
        double bound = dts[d] != ACT_F32               ? 1.0
                       : oi->kind == ACT_KIND_ELTWISE ? 2.0
                                                      : 4.0;
        int64_t nbad = 0;
        bool whole = exhaustive && !custom && oi->kind == ACT_KIND_ELTWISE;
        double e;
        if (pass && custom) /* -2: no gradient */
          e = bwd ? verify_custom_bwd(ctx, ops[i], dts[d], sx, sn, &nbad)
                  : -2;
        else if (pass)
          e = whole ? verify_exhaustive(ctx, names[i], dts[d], true)
                    : verify_op_bwd(ctx, names[i], dts[d], sx, sn, 0);
        else
          e = whole ? verify_exhaustive(ctx, names[i], dts[d], false)
                    : verify_op(ctx, names[i], dts[d], sx, sn,
                                custom ? &nbad : NULL);
        bool none = e == -2;
        bool out = none ? false : custom ? nbad > 0 : e > bound;
        if (json) {
          printf("%s{\"op\": ", jfirst ? "" : ", ");
          jstr(names[i]);
          printf(", \"direction\": \"%s\", \"custom\": %s, \"dtype\": "
                 "\"%s\", \"max_ulp\": ", pass ? "backward" : "forward",
                 custom ? "true" : "false", act_dtype_name(dts[d]));
          jnum(e < 0 ? NAN : e);
          printf(", \"bound\": ");
          if (custom)
            printf("\"custom\"");
          else
            jnum(bound);
          printf(", \"ok\": %s%s}\n", none || (e >= 0 && !out) ? "true"
                                                                   : "false",
                 none ? ", \"no_gradient\": true"
                      : e < 0 ? ", \"error\": true" : "");
          jfirst = false;
          bad += !none && (e < 0 || out);
        } else if (none) {
          printf(" %10s", "-");
        } else if (e < 0) {
          printf(" %10s", "ERROR");
          bad++;
        } else {
          printf(" %8.2f%s", e, out ? " !" : "  ");
          bad += out;
        }
      }
      if (!json)
        printf("\n");
    }
  }
  if (json) {
    printf("], \"outside\": %d, \"pairs\": %d, \"pass\": %s}\n", bad,
           rows * ndt, bad ? "false" : "true");
  } else {
    if (any_custom)
      printf("custom ops: bound |y - r| <= 16 ulp (f32) / 2 ulp (f16, bf16) "
             "of r, or <= 2^-22 near zero; their max ulp counts only the "
             "elements beyond that 2^-22\n");
    printf("%s: %d of %d op/dtype pairs outside the bounds of "
           "docs/accuracy.md%s\n", bad ? "FAIL" : "PASS", bad, rows * ndt,
           any_custom ? " (custom ops: their bound)" : "");
  }
  compile_notice(ctx, now_s() - t_open);
  free(sx);
  act_context_destroy(ctx);
  return bad ? EXIT_VERIFY : 0;
}

/* ---- actc bench ------------------------------------------------------------ */

static const char usage_bench[] =
    "usage: actc bench [OP...] [--device D] [--n N] [--dtype T] [--reps R]\n"
    "                  [--backward] [--json]\n"
    "\n"
    "Throughput of ops on a device: for each op, the median time of R runs\n"
    "(default 7) over N elements (default 16777216), as Gelem/s and GB/s\n"
    "(bytes read + written), and as a ratio of that GB/s to a copy's (the\n"
    "linear op) timed in the same run, which is what the device's memory\n"
    "system gives. OPs: element-wise ops (default: all of them) and the\n"
    "axis ops but one_hot, along rows of 1024. --backward times the\n"
    "gradient instead (x, dy -> dx; softmax family: y, dy -> dx;\n"
    "logsumexp: x, y, dy -> dx).\n"
    "Then the latency of one tiny op (upload, op, download, wait) and the\n"
    "throughput of 1000 tiny ops enqueued back to back vs waited one by one.\n"
    "Times include the enqueue; the data stays on the device. --json prints\n"
    "one JSON object (device, copy, ops [{op, gelem_s, gb_s, vs_copy}],\n"
    "tiny_op_us, tiny_ops_batched_ms, tiny_ops_waited_ms).\n";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One enqueue of desc: forward (args x, y) when nbwd is 0, else backward
 * with nbwd args. */
static act_status_t run_once(act_queue_t *q, const act_op_desc_t *desc,
                             int nbwd, act_arg_t *args) {
  return nbwd ? act_backward(q, desc, (size_t)nbwd, args, NULL)
              : act_forward(q, desc, 2, args, NULL);
}

/* Median seconds of `reps` runs of desc over device tensors. */
static double time_op(act_queue_t *q, const act_op_desc_t *desc,
                      int nbwd, act_arg_t *args, int reps) {
  double t[64];
  if (reps > 64)
    reps = 64;
  /* One warm-up run builds the kernel. */
  if (run_once(q, desc, nbwd, args) || act_queue_finish(q))
    return -1;
  for (int r = 0; r < reps; r++) {
    double t0 = now_s();
    if (run_once(q, desc, nbwd, args) || act_queue_finish(q))
      return -1;
    t[r] = now_s() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  return t[reps / 2];
}

static int cmd_bench(int argc, char **argv) {
  const char *device = "auto";
  long long n = 16777216;
  int reps = 7;
  act_dtype_t dt = ACT_F32;
  act_op_t ops[ACT_OP_COUNT];
  /* the names as given: an alias (gelu_approx) carries its parameters */
  const char *names[ACT_OP_COUNT];
  int nops = 0, backward = 0;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (is_help(a)) {
      fputs(usage_bench, stdout);
      return 0;
    }
    if (strcmp(a, "--json") == 0) {
      json = true;
      continue;
    }
    if (strcmp(a, "--backward") == 0) {
      backward = 1;
      continue;
    }
    if (a[0] == '-') {
      if (i + 1 >= argc)
        return die(EXIT_USAGE, "bench: option %s needs a value", a);
      const char *v = argv[++i];
      char *end;
      if (given_before(argv, i - 1, a))
        return die(EXIT_USAGE, "bench: %s given twice", a);
      if (strcmp(a, "--device") == 0)
        device = v;
      else if (strcmp(a, "--n") == 0) {
        n = strtoll(v, &end, 10);
        if (*end || n < 1 || n > 4294967295LL)
          return die(EXIT_USAGE, "bench: bad --n '%s'", v);
      } else if (strcmp(a, "--reps") == 0) {
        reps = (int)strtol(v, &end, 10);
        if (*end || reps < 1 || reps > 64)
          return die(EXIT_USAGE, "bench: --reps must be 1..64");
      } else if (strcmp(a, "--dtype") == 0) {
        if (act_dtype_parse(v, &dt) || dt == ACT_I32 || dt == ACT_U8)
          return die(EXIT_USAGE, "bench: --dtype must be f32, f16 or bf16");
      } else {
        static const char *const opts[] = {"--device", "--n", "--reps",
                                           "--dtype", "--backward", "--json",
                                           "--help", NULL};
        return die(EXIT_USAGE, "bench: unknown option '%s'%s", a,
                   did_you_mean(a, opts));
      }
      continue;
    }
    act_op_t op;
    int lrc = lookup_op("bench", a, &op);
    if (lrc)
      return lrc;
    if (op == ACT_OP_ONE_HOT)
      return die(EXIT_USAGE, "bench: one_hot is not benchmarked (its input "
                 "is integer class indices)");
    if (nops < ACT_OP_COUNT) {
      names[nops] = a;
      ops[nops++] = op;
    }
  }
  if (!nops)
    for (int op = 0; op < ACT_OP_COUNT; op++)
      if (act_op_info((act_op_t)op)->kind == ACT_KIND_ELTWISE &&
          op != ACT_OP_PRELU && op != ACT_OP_THRESHOLD) {
        names[nops] = act_op_info((act_op_t)op)->name;
        ops[nops++] = (act_op_t)op;
      }
  act_context_t *ctx;
  int orc = open_device("bench --device", device, &ctx);
  if (orc)
    return orc;
  double t_open = now_s();
  act_status_t st;
  act_device_info_t info;
  act_context_get_device(ctx, &info);
  act_queue_t *q = NULL;
  act_buffer_t *bx = NULL, *by = NULL, *bz = NULL;
  size_t es = act_dtype_size(dt), bytes = (size_t)n * es;
  int rc = 0;
  if ((st = act_queue_create(ctx, &q)) ||
      (st = act_buffer_create(ctx, bytes, &bx)) ||
      (st = act_buffer_create(ctx, bytes, &by)) ||
      (backward && (st = act_buffer_create(ctx, bytes, &bz)))) {
    rc = fail("bench", st);
    goto done;
  }
  /* Inputs: a spread of values in [-8, 8]. */
  {
    float *h = malloc(bytes > 4 * (size_t)n ? bytes : 4 * (size_t)n);
    if (!h) {
      rc = die(EXIT_RUNTIME, "out of memory");
      goto done;
    }
    for (long long i = 0; i < n; i++)
      h[i] = (float)((i * 7919 % 16001) - 8000) / 1000.0f;
    void *hx = malloc(bytes);
    if (hx)
      act_convert(ACT_F32, h, dt, hx, (size_t)n);
    st = hx ? act_buffer_write(q, bx, 0, bytes, hx, NULL) : ACT_OUT_OF_MEMORY;
    if (!st && backward) /* dy: the same values */
      st = act_buffer_write(q, by, 0, bytes, hx, NULL);
    if (!st)
      st = act_queue_finish(q);
    free(hx);
    free(h);
    if (st) {
      rc = fail("bench upload", st);
      goto done;
    }
  }
  if (json) {
    printf("{\"device\": ");
    jstr(info.name);
    printf(", \"description\": ");
    jstr(info.description);
    printf(", \"n\": %lld, \"dtype\": \"%s\", \"reps\": %d, "
           "\"direction\": \"%s\", ", n, act_dtype_name(dt), reps,
           backward ? "backward" : "forward");
  } else {
    printf("device %s: %s\n", info.name, info.description);
    printf("n = %lld %s elements, median of %d runs\n", n,
           act_dtype_name(dt), reps);
  }
  int64_t dims[2] = {n, 1};
  act_tensor_t tx = act_tensor_make(dt, 1, dims, NULL), ty;
  tx.buffer = bx;
  ty = tx;
  ty.buffer = by;
  act_arg_t args[2] = {{ACT_ARG_X, tx}, {ACT_ARG_Y, ty}};
  act_op_desc_t *copy;
  act_op_desc_create(ACT_OP_LINEAR, &copy);
  double tc = time_op(q, copy, 0, args, reps);
  if (tc <= 0) {
    rc = fail("bench copy", ACT_BACKEND);
    act_op_desc_destroy(copy);
    goto done;
  }
  if (json) {
    printf("\"copy\": {\"gelem_s\": ");
    jnum(n / tc * 1e-9);
    printf(", \"gb_s\": ");
    jnum(2.0 * bytes / tc * 1e-9);
    printf("}, \"ops\": [\n");
  } else {
    if (backward)
      printf("backward: x (softmax family: y), dy -> dx\n");
    printf("%-16s %10s %10s %10s\n", "op", "Gelem/s", "GB/s", "vs copy");
    printf("%-16s %10.3f %10.2f %10.2f\n", "copy (linear)", n / tc * 1e-9,
           2.0 * bytes / tc * 1e-9, 1.0);
  }
  bool jfirst = true;
  for (int i = 0; i < nops; i++) {
    act_op_desc_t *d;
    if (act_op_desc_create_by_name(names[i], &d))
      act_op_desc_create(ops[i], &d);
    /* forward x -> y; backward x (softmax family: y) in bx, dy in by ->
     * dx in bz (logsumexp: y and dy both in by) */
    act_tensor_t t0 = tx;
    int64_t rows[2] = {n / 1024, 1024};
    act_op_t op = ops[i];
    int axis = act_op_info(op)->kind == ACT_KIND_AXIS;
    int from_y = op == ACT_OP_SOFTMAX || op == ACT_OP_LOG_SOFTMAX ||
                 op == ACT_OP_SOFTMIN;
    if (axis) {
      if (n < 1024) {
        act_op_desc_destroy(d);
        continue;
      }
      t0 = act_tensor_make(dt, 2, rows, NULL);
      t0.buffer = bx;
    }
    act_tensor_t t1 = t0, t2 = t0;
    t1.buffer = by;
    t2.buffer = bz;
    if (op == ACT_OP_LOGSUMEXP)
      t1 = act_tensor_make(dt, 1, rows, NULL); /* y: one per row */
    else if (op == ACT_OP_GLU)
      t1.dims[1] = 512; /* y: half of each row */
    t1.buffer = by;
    act_arg_t a3[4] = {{ACT_ARG_X, t0}, {ACT_ARG_Y, t1}, {ACT_ARG_DX, t2}};
    size_t na = 3;
    if (backward) {
      a3[0].kind = from_y ? ACT_ARG_Y : ACT_ARG_X;
      a3[1].kind = ACT_ARG_DY;
      if (op == ACT_OP_LOGSUMEXP) { /* the forward's y, then dy after it */
        a3[3] = (act_arg_t){ACT_ARG_Y, t1};
        a3[1].tensor.offset = (size_t)rows[0] * es;
        na = 4;
      }
    }
    double t = time_op(q, d, backward ? (int)na : 0, a3, reps);
    /* bytes read and written: x, y (forward); x or y, dy, dx (backward) */
    double ny = (double)act_tensor_numel(&t1) * (double)es;
    double moved = backward ? 2.0 * (double)bytes + ny : (double)bytes + ny;
    if (backward && op == ACT_OP_LOGSUMEXP)
      moved += ny; /* its y as well */
    if (json) {
      printf("%s{\"op\": ", jfirst ? "" : ", ");
      jstr(names[i]);
      if (t <= 0) {
        printf(", \"error\": ");
        jstr(act_last_error());
      } else {
        printf(", \"gelem_s\": ");
        jnum(n / t * 1e-9);
        printf(", \"gb_s\": ");
        jnum(moved / t * 1e-9);
        printf(", \"vs_copy\": ");
        jnum(moved / t / (2.0 * bytes / tc));
      }
      printf("}\n");
      jfirst = false;
    } else if (t <= 0)
      printf("%-16s %s\n", names[i], act_last_error());
    else
      printf("%-16s %10.3f %10.2f %10.2f\n", names[i],
             n / t * 1e-9, moved / t * 1e-9, moved / t / (2.0 * bytes / tc));
    act_op_desc_destroy(d);
  }
  /* Tiny ops: latency, and batched vs waited throughput. */
  {
    float hx[16] = {1, 2, 3}, hy[16];
    int64_t d16[1] = {16};
    act_tensor_t sx = act_tensor_make(ACT_F32, 1, d16, NULL);
    sx.buffer = bx;
    act_tensor_t sy = sx;
    sy.buffer = by;
    act_arg_t sa[2] = {{ACT_ARG_X, sx}, {ACT_ARG_Y, sy}};
    act_op_desc_t *relu;
    act_op_desc_create(ACT_OP_RELU, &relu);
    double lat[64];
    for (int r = 0; r < 21; r++) {
      double t0 = now_s();
      act_event_t *ev = NULL;
      if (act_buffer_write(q, bx, 0, sizeof hx, hx, NULL) ||
          act_forward(q, relu, 2, sa, NULL) ||
          act_buffer_read(q, by, 0, sizeof hy, hy, &ev) || act_event_wait(ev)) {
        act_event_destroy(ev);
        rc = fail("bench tiny op", ACT_BACKEND);
        break;
      }
      act_event_destroy(ev);
      lat[r] = now_s() - t0;
    }
    qsort(lat, 21, sizeof *lat, cmp_double);
    double t0 = now_s();
    for (int r = 0; r < 1000; r++)
      act_forward(q, relu, 2, sa, NULL);
    act_queue_finish(q);
    double batched = now_s() - t0;
    t0 = now_s();
    for (int r = 0; r < 1000; r++) {
      act_event_t *ev = NULL;
      act_forward(q, relu, 2, sa, &ev);
      act_event_wait(ev);
      act_event_destroy(ev);
    }
    double waited = now_s() - t0;
    if (json) {
      printf("], \"tiny_op_us\": ");
      jnum(lat[10] * 1e6);
      printf(", \"tiny_ops_batched_ms\": ");
      jnum(batched * 1e3);
      printf(", \"tiny_ops_waited_ms\": ");
      jnum(waited * 1e3);
      printf("}\n");
    } else {
      printf("tiny op round trip (upload, relu, download): %.1f us "
             "(median)\n", lat[10] * 1e6);
      printf("1000 tiny ops: back to back %.2f ms, waited one by one %.2f ms "
             "(%.1fx)\n", batched * 1e3, waited * 1e3, waited / batched);
    }
    act_op_desc_destroy(relu);
  }
  act_op_desc_destroy(copy);
  compile_notice(ctx, now_s() - t_open);
done:
  act_buffer_destroy(bx);
  act_buffer_destroy(by);
  act_buffer_destroy(bz);
  act_queue_destroy(q);
  act_context_destroy(ctx);
  return rc;
}

/* ---- actc cache ------------------------------------------------------------ */

static const char usage_cache[] =
    "usage: actc cache [--clear]\n"
    "\n"
    "Shows where the on-disk program cache is ($ACTKIT_CACHE_DIR, else\n"
    "$XDG_CACHE_HOME/actkit, else ~/.cache/actkit; ACTKIT_CACHE_DIR=off\n"
    "disables it) and what it holds: entries per backend and their size.\n"
    "\n"
    "  --clear   delete every actkit cache file there (nothing else)\n";

static int cmd_cache(int argc, char **argv) {
  bool clear = false;
  for (int i = 1; i < argc; i++) {
    if (is_help(argv[i])) {
      fputs(usage_cache, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--clear") == 0)
      clear = true;
    else {
      static const char *const opts[] = {"--clear", "--help", NULL};
      return die(EXIT_USAGE, "cache: unknown option '%s'%s", argv[i],
                 did_you_mean(argv[i], opts));
    }
  }
  char dir[4096];
  act_status_t st = act_cache_path(dir, sizeof dir);
  if (st)
    return fail("cache", st);
  if (!dir[0]) {
    printf("the on-disk cache is off (ACTKIT_CACHE_DIR=off, or no HOME)\n");
    return 0;
  }
  if (clear) {
    size_t n;
    if ((st = act_cache_clear(&n)))
      return fail("cache --clear", st);
    printf("%s: removed %zu entries\n", dir, n);
    return 0;
  }
  printf("%s\n", dir);
  DIR *d = opendir(dir);
  if (!d) {
    printf("  empty (not created yet)\n");
    return 0;
  }
  struct {
    char name[16];
    unsigned long count;
    unsigned long long bytes;
  } per[8];
  int nb = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *dash = strchr(e->d_name, '-');
    size_t len = strlen(e->d_name);
    if (!dash || len < 4 || strcmp(e->d_name + len - 4, ".bin") != 0 ||
        (size_t)(dash - e->d_name) >= sizeof per[0].name)
      continue;
    char path[8200];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat sb;
    if (stat(path, &sb) != 0)
      continue;
    int k = 0;
    while (k < nb && strncmp(per[k].name, e->d_name,
                             (size_t)(dash - e->d_name)) != 0)
      k++;
    if (k == nb) {
      if (nb == 8)
        continue;
      memset(&per[k], 0, sizeof per[k]);
      memcpy(per[k].name, e->d_name, (size_t)(dash - e->d_name));
      nb++;
    }
    per[k].count++;
    per[k].bytes += (unsigned long long)sb.st_size;
  }
  closedir(d);
  if (!nb)
    printf("  empty\n");
  for (int k = 0; k < nb; k++)
    printf("  %-8s %lu entries, %.1f KiB\n", per[k].name, per[k].count,
           per[k].bytes / 1024.0);
  return 0;
}

/* ---- main ------------------------------------------------------------------ */

static const char usage_main[] =
    "usage: actc COMMAND [options]\n"
    "\n"
    "actkit's tool: activation ops on every OpenCL and Vulkan device,\n"
    "checked against a double-precision CPU reference.\n"
    "\n"
    "commands:\n"
    "  devices   list the devices found, best first\n"
    "  list      list every op, its aliases, parameters and defaults\n"
    "  run       run one op on values or a raw file\n"
    "  verify    check a device against the reference (docs/accuracy.md)\n"
    "  compile   compile kernel files offline (SPIR-V, OpenCL binaries)\n"
    "  bench     throughput and latency of ops on a device\n"
    "  cache     show or clear the on-disk program cache\n"
    "\n"
    "actc COMMAND --help describes each. actc --version prints the version.\n"
    "Options take their value as the next argument or after '='\n"
    "(--device=opencl:0).\n"
    "\n"
    "exit status: 0 success; 1 verification failed (verify, compile\n"
    "--check); 2 usage error (an unknown command, option, op, parameter,\n"
    "preset or device, a bad value, a missing or malformed input file);\n"
    "3 runtime error (a driver or device failure, out of memory, an output\n"
    "that cannot be written).\n";

/* Splits every --option=value into --option value: a new argv in one
 * allocation (the pointers, then copies of the option names), or NULL
 * when nothing needs splitting or memory is short. */
static char **split_equals(int *argc, char **argv) {
  int n = *argc;
  size_t names = 0;
  bool any = false;
  for (int i = 1; i < n; i++) {
    char *eq = strncmp(argv[i], "--", 2) == 0 ? strchr(argv[i], '=') : NULL;
    if (eq && eq > argv[i] + 2) {
      names += (size_t)(eq - argv[i]) + 1;
      any = true;
    }
  }
  if (!any)
    return NULL;
  char **out = malloc((size_t)(2 * n + 1) * sizeof *out + names);
  if (!out)
    return NULL;
  char *store = (char *)(out + 2 * n + 1);
  int k = 0;
  for (int i = 0; i < n; i++) {
    char *eq = strncmp(argv[i], "--", 2) == 0 ? strchr(argv[i], '=') : NULL;
    if (i > 0 && eq && eq > argv[i] + 2) {
      size_t l = (size_t)(eq - argv[i]);
      memcpy(store, argv[i], l);
      store[l] = '\0';
      out[k++] = store;
      out[k++] = eq + 1;
      store += l + 1;
    } else {
      out[k++] = argv[i];
    }
  }
  out[k] = NULL;
  *argc = k;
  return out;
}

static int run_command(int argc, char **argv);

int main(int argc, char **argv) {
  /* Line by line, so that a log of a long run killed midway has every
   * line printed so far. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  char **split = split_equals(&argc, argv);
  int rc = run_command(argc, split ? split : argv);
  free(split);
  return rc;
}

static int run_command(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_main, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (is_help(cmd) || strcmp(cmd, "help") == 0) {
    fputs(usage_main, stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("actc %s\n", act_version());
    return 0;
  }
  if (strcmp(cmd, "devices") == 0)
    return cmd_devices(argc - 1, argv + 1);
  if (strcmp(cmd, "list") == 0)
    return cmd_list(argc - 1, argv + 1);
  if (strcmp(cmd, "run") == 0)
    return cmd_run(argc - 1, argv + 1);
  if (strcmp(cmd, "verify") == 0)
    return cmd_verify(argc - 1, argv + 1);
  if (strcmp(cmd, "compile") == 0)
    return actc_cmd_compile(argc - 1, argv + 1);
  if (strcmp(cmd, "cache") == 0)
    return cmd_cache(argc - 1, argv + 1);
  if (strcmp(cmd, "bench") == 0)
    return cmd_bench(argc - 1, argv + 1);
  static const char *const cmds[] = {"devices", "list", "run", "verify",
                                     "compile", "bench", "cache", "help",
                                     NULL};
  return die(EXIT_USAGE, "unknown command '%s'%s (actc --help lists them)",
             cmd, did_you_mean(cmd, cmds));
}
