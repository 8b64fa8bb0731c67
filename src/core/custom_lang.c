/*
 * custom_lang.c - the language of custom ops (kernels/opencl/README.md,
 * "Custom ops"): a tokenizer, a recursive-descent parser with type checks,
 * a tree-walking evaluator in double (the CPU reference of a custom op),
 * and an emitter that writes the checked functions back as OpenCL C that
 * also compiles as GLSL.
 *
 * The language is a small subset of OpenCL C: functions returning float,
 * int or bool, taking float, int or bool parameters; local declarations of
 * those types; = += -= *= /= ++ --; if/else, for, while, break, continue,
 * return; ?: and the arithmetic, comparison and logical operators; decimal
 * literals; calls to the source's other functions (in any order; recursion,
 * direct or mutual, is refused) and to the built-ins of act__cl_builtins.
 * Everything else is refused with the construct's name at the user's
 * line:column, so that a mistake is reported before any backend sees it.
 *
 * The emitter renames every user identifier with a `u_` prefix (no clash
 * with the kernels' names or with GLSL keywords), gives literals an `f`,
 * makes int-to-float conversions explicit (convert_float), writes float
 * division as am_div and maps built-ins to act_math.cl, and keeps each
 * statement on its source line under a `#line N "file"` per function, so
 * that driver and glslang messages (which should not happen) still point
 * at the user's lines.
 */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What a user's source may have. */
#define ACT__CL_MAX_FUNCS 32
#define ACT__CL_MAX_LOCALS 64
#define ACT__CL_MAX_ARGS 8
/* Room for what act__cl_derive adds: a jvp function per user function
 * (twice the parameters: each float one with its tangent) and the
 * derivative's entry function. */
#define ACT__CL_FUNCS_CAP (2 * ACT__CL_MAX_FUNCS + 1)
#define ACT__CL_ARGS_CAP (2 * ACT__CL_MAX_ARGS)
/* The evaluator stops a loop after this many iterations (then NaN). */
#define ACT__CL_MAX_ITER 1000000L

enum { T_VOID, T_FLOAT, T_INT, T_BOOL };
static const char *const act__cl_tname[] = {"void", "float", "int", "bool"};

/* ---- built-ins ----------------------------------------------------------- */

enum {
  B_EXP, B_EXPM1, B_LOG, B_LOG1P, B_TANH, B_SINH, B_COSH, B_ERF, B_ERFC,
  B_SQRT, B_RSQRT, B_POW, B_FABS, B_FMIN, B_FMAX, B_CLAMP, B_COPYSIGN,
  B_FLOOR, B_CEIL, B_SIN, B_COS, B_ATAN, B_FMA, B_ISNAN, B_ISINF,
  B_SIGMOID, B_SOFTPLUS,
  B_USER_COUNT, /* the rest only in derived code (act__cl_derive) */
  B_DTANH = B_USER_COUNT, B_DERF, B_COUNT
};

static const struct {
  const char *name, *device;
  int nargs, ret;
} act__cl_builtins[B_COUNT] = {
    [B_EXP] = {"exp", "am_exp", 1, T_FLOAT},
    [B_EXPM1] = {"expm1", "am_expm1", 1, T_FLOAT},
    [B_LOG] = {"log", "am_log", 1, T_FLOAT},
    [B_LOG1P] = {"log1p", "am_log1p", 1, T_FLOAT},
    [B_TANH] = {"tanh", "am_tanh", 1, T_FLOAT},
    [B_SINH] = {"sinh", "act_cu_sinh", 1, T_FLOAT},
    [B_COSH] = {"cosh", "act_cu_cosh", 1, T_FLOAT},
    [B_ERF] = {"erf", "am_erf", 1, T_FLOAT},
    [B_ERFC] = {"erfc", "am_erfc", 1, T_FLOAT},
    [B_SQRT] = {"sqrt", "am_sqrt", 1, T_FLOAT},
    [B_RSQRT] = {"rsqrt", "act_cu_rsqrt", 1, T_FLOAT},
    [B_POW] = {"pow", "act_cu_pow", 2, T_FLOAT},
    [B_FABS] = {"fabs", "fabs", 1, T_FLOAT},
    [B_FMIN] = {"fmin", "act_cu_fmin", 2, T_FLOAT},
    [B_FMAX] = {"fmax", "act_cu_fmax", 2, T_FLOAT},
    [B_CLAMP] = {"clamp", "act_cu_clamp", 3, T_FLOAT},
    [B_COPYSIGN] = {"copysign", "am_copysign", 2, T_FLOAT},
    [B_FLOOR] = {"floor", "floor", 1, T_FLOAT},
    [B_CEIL] = {"ceil", "ceil", 1, T_FLOAT},
    [B_SIN] = {"sin", "sin", 1, T_FLOAT},
    [B_COS] = {"cos", "cos", 1, T_FLOAT},
    [B_ATAN] = {"atan", "atan", 1, T_FLOAT},
    [B_FMA] = {"fma", "act_cu_fma", 3, T_FLOAT},
    [B_ISNAN] = {"isnan", "am_isnan", 1, T_BOOL},
    [B_ISINF] = {"isinf", "am_isinf", 1, T_BOOL},
    [B_SIGMOID] = {"sigmoid", "am_sigmoid", 1, T_FLOAT},
    [B_SOFTPLUS] = {"softplus", "am_softplus", 1, T_FLOAT},
    [B_DTANH] = {"dtanh", "act_cu_dtanh", 1, T_FLOAT},
    [B_DERF] = {"derf", "act_cu_derf", 1, T_FLOAT},
};

/* Helpers the emitted code calls (placed before the user's functions).
 * Every emitted function is AM_INLINE, as act_math.cl's are where it
 * defines that (PoCL vectorizes inlined code across work-items). */
static const char act__cl_helpers[] =
    "#ifndef AM_INLINE\n#define AM_INLINE\n#endif\n"
    "AM_INLINE float act_cu_fmin(float a, float b) {\n"
    "  return a != a ? b : (b != b ? a : (b < a ? b : a));\n}\n"
    "AM_INLINE float act_cu_fmax(float a, float b) {\n"
    "  return a != a ? b : (b != b ? a : (b > a ? b : a));\n}\n"
    "AM_INLINE float act_cu_clamp(float x, float lo, float hi) {\n"
    "  return act_cu_fmin(act_cu_fmax(x, lo), hi);\n}\n"
    "AM_INLINE float act_cu_rsqrt(float x) { return am_div(1.0f, am_sqrt(x)); }\n"
    "AM_INLINE float act_cu_fma(float a, float b, float c) {\n"
    "  float2 p = am_two_prod(a, b);\n"
    "  float2 s = am_two_sum(p.x, c);\n"
    "  return s.x + (s.y + p.y);\n}\n"
    "AM_INLINE float act_cu_sinh(float x) {\n"
    "  float a = fabs(x);\n"
    "  float e = am_expm1(a);\n"
    "  float r = a > 88.0f ? am_exp(a - 0.693147182f)\n"
    "                      : 0.5f * (e + am_div(e, e + 1.0f));\n"
    "  return am_copysign(r, x);\n}\n"
    "AM_INLINE float act_cu_cosh(float x) {\n"
    "  float a = fabs(x);\n"
    "  if (a > 88.0f)\n"
    "    return am_exp(a - 0.693147182f);\n"
    "  float e = am_exp(a);\n"
    "  return 0.5f * (e + am_div(1.0f, e));\n}\n"
    /* tanh'(x) = 1/cosh(x)^2 (no cancellation where tanh is near 1) */
    "AM_INLINE float act_cu_dtanh(float x) {\n"
    "  float c = act_cu_cosh(x);\n"
    "  return am_div(1.0f, c * c);\n}\n"
    /* erf'(x) = 2/sqrt(pi) e^(-x^2), with x^2 as an exact pair; 0 past
     * |x| = 11, where it is below float's least denormal and x^2's pair
     * could overflow */
    "AM_INLINE float act_cu_derf(float x) {\n"
    "  float2 q = am_two_prod(x, x);\n"
    "  return fabs(x) >= 11.0f ? 0.0f\n"
    "                          : 1.12837917f * am_exp(-q.x) * (1.0f - q.y);\n"
    "}\n"
    "AM_INLINE float act_cu_pow(float x, float y) {\n"
    "  if (y == 0.0f || x == 1.0f)\n"
    "    return 1.0f;\n"
    "  if (x != x || y != y)\n"
    "    return x + y;\n"
    "  bool yint = floor(y) == y;\n"
    "  if (x < 0.0f && !yint)\n"
    "    return am_nan();\n"
    "  float ax = fabs(x);\n"
    "  float r = ax == 0.0f ? (y > 0.0f ? 0.0f : am_inf())\n"
    "                       : am_exp(y * am_log(ax));\n"
    "  bool odd = yint && fabs(y) < 16777216.0f &&\n"
    "             floor(y * 0.5f) * 2.0f != y;\n"
    "  return x < 0.0f && odd ? -r : r;\n}\n";

/* Names a user may not call, each with the reason. */
static const char *act__cl_forbidden(const char *name) {
  static const char *const work[] = {
      "get_global_id", "get_local_id", "get_group_id", "get_global_size",
      "get_local_size", "get_num_groups", "get_work_dim",
      "get_global_offset", "barrier", "mem_fence", "read_mem_fence",
      "write_mem_fence", "work_group_barrier", "printf",
      "async_work_group_copy", "wait_group_events", "prefetch", NULL};
  for (int i = 0; work[i]; i++)
    if (strcmp(name, work[i]) == 0)
      return "work-item functions, barriers, memory operations and printf "
             "are not available to custom ops";
  if (strncmp(name, "atomic_", 7) == 0 || strncmp(name, "atom_", 5) == 0)
    return "atomics are not available to custom ops";
  if (strncmp(name, "vload", 5) == 0 || strncmp(name, "vstore", 6) == 0 ||
      strncmp(name, "read_image", 10) == 0 ||
      strncmp(name, "write_image", 11) == 0)
    return "memory access is not available to custom ops";
  return NULL;
}

/* ---- tokens -------------------------------------------------------------- */

enum { K_EOF, K_IDENT, K_INT, K_FLOAT, K_PUNCT };

typedef struct {
  int kind, line, col;
  char text[64];
  double num;
} tok_t;

typedef struct node node_t;

/* What a function is: the user's, or made by act__cl_derive. The emitter
 * names each kind with its own prefix, so that no made name can clash
 * with a user's. */
enum { F_USER, F_JVP, F_GRAD };
static const char *const act__cl_fprefix[] = {"u_", "j_", "g_"};

typedef struct {
  char name[64];
  int role; /* F_USER, F_JVP (of the user function `name`), F_GRAD */
  int ret, nparams, nlocals;
  int ptype[ACT__CL_ARGS_CAP];
  int ltype[ACT__CL_MAX_LOCALS];
  char lname[ACT__CL_MAX_LOCALS][64];
  unsigned char ltan[ACT__CL_MAX_LOCALS]; /* 1: a tangent (named t_NAME) */
  int line, col;
  node_t *body;
  unsigned calls; /* bit f: calls user function f */
} func_t;

struct act__cl {
  char file[128];
  int nfuncs;
  func_t f[ACT__CL_FUNCS_CAP];
  int order[ACT__CL_FUNCS_CAP]; /* callees before callers */
  int norder;                   /* entries in order (all functions) */
  node_t *nodes;                /* every node, for freeing */
};

/* Node kinds: expressions first, then statements. */
enum {
  N_NUM, N_VAR, N_NEG, N_NOT, N_BIN, N_ASSIGN, N_INCDEC, N_COND, N_CALL,
  N_BUILTIN, N_TOFLOAT,
  S_DECL, S_EXPR, S_IF, S_FOR, S_WHILE, S_RETURN, S_BREAK, S_CONTINUE,
  S_BLOCK
};

struct node {
  int kind, type, line;
  int op;      /* N_BIN / N_ASSIGN: operator char or code; N_INCDEC: +-1 */
  int post;    /* N_INCDEC: postfix */
  int slot;    /* N_VAR, N_ASSIGN, N_INCDEC, S_DECL */
  int fn;      /* N_CALL: function index; N_BUILTIN: built-in */
  double num;  /* N_NUM */
  node_t *a, *b, *c, *d;
  node_t *args[ACT__CL_ARGS_CAP];
  int nargs;
  node_t *next;     /* statement lists */
  node_t *all_next; /* every node */
};

/* Binary operator codes beyond single characters. */
enum { OP_LE = 256, OP_GE, OP_EQ, OP_NE, OP_AND, OP_OR };

typedef struct {
  const char *src, *p;
  const char *file;
  int line, col;
  tok_t t, peek;
  bool has_peek;
  act__cl_t *prog;
  func_t *fn;
  /* scopes: visible locals, innermost last */
  int scope[ACT__CL_MAX_LOCALS];
  int nscope;
  int loops;
  bool failed;
  /* the signatures of every top-level function (prescan), so that calls
   * are typed wherever the callee is defined */
  struct {
    char name[64];
    int ret, nparams, ptype[ACT__CL_MAX_ARGS];
  } sig[ACT__CL_MAX_FUNCS];
  int nsig;
} parser_t;

static act_status_t perr(parser_t *ps, int line, int col, const char *fmt,
                         ...) ACT__PRINTF(4, 5);
static act_status_t perr(parser_t *ps, int line, int col, const char *fmt,
                         ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ps->failed = true;
  return act__fail(ACT_BUILD, "%s:%d:%d: error: %s", ps->file, line, col,
                   msg);
}

static act_status_t lex(parser_t *ps, tok_t *t) {
  const char *p = ps->p;
  for (;;) {
    if (*p == '\n') {
      p++, ps->line++, ps->col = 1;
    } else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' ||
               *p == '\v') {
      p++, ps->col++;
    } else if (p[0] == '/' && p[1] == '/') {
      while (*p && *p != '\n')
        p++;
    } else if (p[0] == '/' && p[1] == '*') {
      int l = ps->line, c = ps->col;
      p += 2, ps->col += 2;
      while (*p && !(p[0] == '*' && p[1] == '/')) {
        if (*p == '\n')
          ps->line++, ps->col = 1;
        else
          ps->col++;
        p++;
      }
      if (!*p) {
        ps->p = p;
        return perr(ps, l, c, "unterminated comment");
      }
      p += 2, ps->col += 2;
    } else {
      break;
    }
  }
  memset(t, 0, sizeof *t);
  t->line = ps->line, t->col = ps->col;
  const char *s = p;
  if (!*p) {
    t->kind = K_EOF;
    strcpy(t->text, "end of file");
  } else if (isalpha((unsigned char)*p) || *p == '_') {
    while (isalnum((unsigned char)*p) || *p == '_')
      p++;
    if ((size_t)(p - s) >= sizeof t->text)
      return perr(ps, t->line, t->col, "identifier is too long (at most 63 "
                  "characters)");
    t->kind = K_IDENT;
    memcpy(t->text, s, (size_t)(p - s));
  } else if (isdigit((unsigned char)*p) ||
             (*p == '.' && isdigit((unsigned char)p[1]))) {
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
      return perr(ps, t->line, t->col, "hexadecimal literals are not "
                  "allowed: write the number in decimal");
    bool isf = false;
    while (isdigit((unsigned char)*p))
      p++;
    if (*p == '.') {
      isf = true;
      p++;
      while (isdigit((unsigned char)*p))
        p++;
    }
    if (*p == 'e' || *p == 'E') {
      const char *q = p + 1;
      if (*q == '+' || *q == '-')
        q++;
      if (!isdigit((unsigned char)*q))
        return perr(ps, t->line, t->col + (int)(q - s),
                    "exponent has no digits");
      while (isdigit((unsigned char)*q))
        q++;
      p = q;
      isf = true;
    }
    size_t n = (size_t)(p - s);
    if (n >= sizeof t->text)
      return perr(ps, t->line, t->col, "number is too long");
    memcpy(t->text, s, n);
    if (*p == 'f' || *p == 'F') {
      isf = true;
      p++;
    } else if (isalnum((unsigned char)*p) || *p == '_') {
      return perr(ps, t->line, t->col + (int)n, "invalid suffix '%c' on a "
                  "number (only 'f' is allowed)", *p);
    }
    if (!isf && n > 1 && s[0] == '0')
      return perr(ps, t->line, t->col, "octal literals are not allowed: "
                  "write '%s' without its leading zero", t->text);
    t->num = strtod(t->text, NULL);
    t->kind = isf ? K_FLOAT : K_INT;
    if (!isf && t->num > 2147483647.0)
      return perr(ps, t->line, t->col, "integer literal %s is too large",
                  t->text);
    if (isf && !isfinite((float)t->num))
      return perr(ps, t->line, t->col, "literal %s is out of float's range",
                  t->text);
  } else {
    static const char *const multi[] = {"<<=", ">>=", "++", "--", "+=", "-=",
                                        "*=", "/=", "%=", "&=", "|=", "^=",
                                        "<=", ">=", "==", "!=", "&&", "||",
                                        "<<", ">>", "->", NULL};
    size_t n = 1;
    for (int i = 0; multi[i]; i++)
      if (strncmp(p, multi[i], strlen(multi[i])) == 0) {
        n = strlen(multi[i]);
        break;
      }
    if (*p == '#')
      return perr(ps, t->line, t->col, "preprocessor directives (#) are not "
                  "allowed in custom ops");
    if (!strchr("+-*/%<>=!&|^~?:;,(){}[].", *p))
      return perr(ps, t->line, t->col, "unexpected character '%c'", *p);
    t->kind = K_PUNCT;
    memcpy(t->text, p, n);
    p += n;
  }
  ps->col += (int)(p - s);
  ps->p = p;
  return ACT_OK;
}

static act_status_t next(parser_t *ps) {
  if (ps->has_peek) {
    ps->t = ps->peek;
    ps->has_peek = false;
    return ACT_OK;
  }
  return lex(ps, &ps->t);
}

static act_status_t peek(parser_t *ps, tok_t **t) {
  if (!ps->has_peek) {
    act_status_t st = lex(ps, &ps->peek);
    if (st)
      return st;
    ps->has_peek = true;
  }
  *t = &ps->peek;
  return ACT_OK;
}

static bool is_p(const tok_t *t, const char *s) {
  return t->kind == K_PUNCT && strcmp(t->text, s) == 0;
}
static bool is_id(const tok_t *t, const char *s) {
  return t->kind == K_IDENT && strcmp(t->text, s) == 0;
}

static act_status_t expect(parser_t *ps, const char *s, const char *after) {
  if (!is_p(&ps->t, s))
    return perr(ps, ps->t.line, ps->t.col, "expected '%s'%s%s, found '%s'",
                s, after ? " " : "", after ? after : "", ps->t.text);
  return next(ps);
}

/* The type named by an identifier token, or T_VOID; refuses the types and
 * qualifiers of OpenCL C that custom ops do not have. */
static act_status_t type_of(parser_t *ps, const tok_t *t, int *type) {
  *type = T_VOID;
  if (t->kind != K_IDENT)
    return ACT_OK;
  if (strcmp(t->text, "float") == 0)
    *type = T_FLOAT;
  else if (strcmp(t->text, "int") == 0)
    *type = T_INT;
  else if (strcmp(t->text, "bool") == 0)
    *type = T_BOOL;
  if (*type)
    return ACT_OK;
  static const char *const scalar[] = {"double", "half", "long", "short",
                                       "char", "uchar", "ushort", "uint",
                                       "ulong", "unsigned", "signed",
                                       "size_t", "void", NULL};
  for (int i = 0; scalar[i]; i++)
    if (strcmp(t->text, scalar[i]) == 0)
      return perr(ps, t->line, t->col, "type '%s' is not allowed: custom ops "
                  "use float, int and bool", t->text);
  static const char *const vec[] = {"float", "double", "half", "int", "uint",
                                    "char", "uchar", "short", "ushort",
                                    "long", "ulong", "vec", "ivec", "uvec",
                                    "bvec", "dvec", "mat", NULL};
  for (int i = 0; vec[i]; i++) {
    size_t n = strlen(vec[i]);
    if (strncmp(t->text, vec[i], n) == 0 && isdigit((unsigned char)t->text[n]))
      return perr(ps, t->line, t->col, "vector type '%s' is not allowed: "
                  "custom ops work on scalars", t->text);
  }
  static const char *const qual[] = {
      "kernel", "__kernel", "global", "__global", "local", "__local",
      "constant", "__constant", "private", "__private", "static", "extern",
      "volatile", "restrict", "const", "inline", "register", "auto",
      "__attribute__", NULL};
  for (int i = 0; qual[i]; i++)
    if (strcmp(t->text, qual[i]) == 0)
      return perr(ps, t->line, t->col, "'%s' is not allowed: custom ops are "
                  "plain functions of float, int and bool values", t->text);
  if (strcmp(t->text, "struct") == 0 || strcmp(t->text, "union") == 0 ||
      strcmp(t->text, "enum") == 0 || strcmp(t->text, "typedef") == 0)
    return perr(ps, t->line, t->col, "'%s' is not allowed: structs, unions, "
                "enums and typedefs are not part of custom ops", t->text);
  return ACT_OK;
}

static bool reserved_word(const char *s) {
  static const char *const kw[] = {
      "if", "else", "for", "while", "do", "return", "break", "continue",
      "switch", "case", "default", "goto", "sizeof", "true", "false", NULL};
  for (int i = 0; kw[i]; i++)
    if (strcmp(s, kw[i]) == 0)
      return true;
  return false;
}

/* A new node of program p (on its list of every node), or NULL. */
static node_t *node_new(act__cl_t *p, int kind, int type, int line) {
  node_t *n = calloc(1, sizeof *n);
  if (!n)
    return NULL;
  n->kind = kind, n->type = type, n->line = line;
  n->all_next = p->nodes;
  p->nodes = n;
  return n;
}

static node_t *mk(parser_t *ps, int kind, int type, int line) {
  node_t *n = node_new(ps->prog, kind, type, line);
  if (!n) {
    if (!ps->failed)
      act__fail(ACT_OUT_OF_MEMORY, "custom op: out of memory parsing %s",
                ps->file);
    ps->failed = true;
  }
  return n;
}

/* Converts e to type want (int -> float only), or fails naming what. */
static act_status_t coerce(parser_t *ps, node_t **e, int want,
                           const tok_t *at, const char *what) {
  int have = (*e)->type;
  if (have == want)
    return ACT_OK;
  if (have == T_INT && want == T_FLOAT) {
    node_t *c = mk(ps, N_TOFLOAT, T_FLOAT, (*e)->line);
    if (!c)
      return ACT_OUT_OF_MEMORY;
    c->a = *e;
    *e = c;
    return ACT_OK;
  }
  return perr(ps, at->line, at->col, "%s: %s where %s is needed%s", what,
              act__cl_tname[have], act__cl_tname[want],
              have == T_FLOAT && want == T_INT
                  ? " (no implicit float to int conversion)"
                  : "");
}

static int find_local(parser_t *ps, const char *name) {
  for (int i = ps->nscope - 1; i >= 0; i--)
    if (ps->scope[i] >= 0 && strcmp(ps->fn->lname[ps->scope[i]], name) == 0)
      return ps->scope[i];
  return -1;
}

static int find_func(const act__cl_t *p, const char *name) {
  for (int i = 0; i < p->nfuncs; i++)
    if (p->f[i].role == F_USER && strcmp(p->f[i].name, name) == 0)
      return i;
  return -1;
}

static int find_builtin(const char *name) {
  for (int i = 0; i < B_USER_COUNT; i++)
    if (strcmp(act__cl_builtins[i].name, name) == 0)
      return i;
  return -1;
}

static act_status_t expr(parser_t *ps, node_t **out);

/* Calls: the callee is resolved after the whole source is parsed (any
 * order); here it is recorded by name in a pending list. */
typedef struct pending {
  node_t *call;
  char name[64];
  int line, col;
  int caller;
} pending_t;
static _Thread_local pending_t *act__cl_pending;
static _Thread_local int act__cl_npending, act__cl_cpending;

static act_status_t primary(parser_t *ps, node_t **out) {
  tok_t t = ps->t;
  act_status_t st;
  if (t.kind == K_INT || t.kind == K_FLOAT) {
    node_t *n = mk(ps, N_NUM, t.kind == K_INT ? T_INT : T_FLOAT, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    n->num = t.num;
    *out = n;
    return next(ps);
  }
  if (is_id(&t, "true") || is_id(&t, "false")) {
    node_t *n = mk(ps, N_NUM, T_BOOL, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    n->num = is_id(&t, "true");
    *out = n;
    return next(ps);
  }
  if (is_p(&t, "(")) {
    tok_t *pk;
    if ((st = peek(ps, &pk)))
      return st;
    int ty;
    if ((st = type_of(ps, pk, &ty)))
      return st;
    if (ty)
      return perr(ps, pk->line, pk->col, "casts are not allowed: an int "
                  "converts to float by itself, and float to int is not "
                  "available");
    if ((st = next(ps)) || (st = expr(ps, out)))
      return st;
    return expect(ps, ")", "to close '('");
  }
  if (t.kind != K_IDENT)
    return perr(ps, t.line, t.col, "expected an expression, found '%s'",
                t.text);
  int ty;
  if ((st = type_of(ps, &t, &ty)))
    return st;
  if (ty)
    return perr(ps, t.line, t.col, "expected an expression, found the type "
                "'%s' (declarations go at the start of a statement)", t.text);
  if (reserved_word(t.text))
    return perr(ps, t.line, t.col, "'%s' is not allowed here%s", t.text,
                strcmp(t.text, "goto") == 0 ? ": goto is not part of custom "
                                              "ops" : "");
  if ((st = next(ps)))
    return st;
  if (is_p(&ps->t, "(")) {
    /* a call */
    const char *why = act__cl_forbidden(t.text);
    if (why)
      return perr(ps, t.line, t.col, "forbidden built-in '%s': %s", t.text,
                  why);
    node_t *args[ACT__CL_MAX_ARGS];
    int na = 0;
    if ((st = next(ps)))
      return st;
    if (!is_p(&ps->t, ")"))
      for (;;) {
        if (na == ACT__CL_MAX_ARGS)
          return perr(ps, ps->t.line, ps->t.col, "too many arguments (at "
                      "most %d)", ACT__CL_MAX_ARGS);
        if ((st = expr(ps, &args[na])))
          return st;
        na++;
        if (!is_p(&ps->t, ","))
          break;
        if ((st = next(ps)))
          return st;
      }
    if ((st = expect(ps, ")", "after the arguments")))
      return st;
    int b = find_builtin(t.text);
    if (b >= 0) {
      if (na != act__cl_builtins[b].nargs)
        return perr(ps, t.line, t.col, "%s takes %d argument%s, not %d",
                    t.text, act__cl_builtins[b].nargs,
                    act__cl_builtins[b].nargs == 1 ? "" : "s", na);
      node_t *n = mk(ps, N_BUILTIN, act__cl_builtins[b].ret, t.line);
      if (!n)
        return ACT_OUT_OF_MEMORY;
      n->fn = b;
      n->nargs = na;
      for (int i = 0; i < na; i++) {
        char what[160];
        snprintf(what, sizeof what, "argument %d of %s", i + 1, t.text);
        if ((st = coerce(ps, &args[i], T_FLOAT, &t, what)))
          return st;
        n->args[i] = args[i];
      }
      *out = n;
      return ACT_OK;
    }
    int sg = -1;
    for (int i = 0; i < ps->nsig; i++)
      if (strcmp(ps->sig[i].name, t.text) == 0)
        sg = i;
    if (sg < 0)
      return perr(ps, t.line, t.col, "unknown function '%s' (custom ops may "
                  "call their own functions and the built-ins exp, expm1, "
                  "log, log1p, tanh, sinh, cosh, erf, erfc, sqrt, rsqrt, pow, "
                  "fabs, fmin, fmax, clamp, copysign, floor, ceil, sin, cos, "
                  "atan, fma, isnan, isinf, sigmoid, softplus)", t.text);
    if (ps->sig[sg].nparams != na)
      return perr(ps, t.line, t.col, "%s takes %d argument%s, not %d", t.text,
                  ps->sig[sg].nparams, ps->sig[sg].nparams == 1 ? "" : "s",
                  na);
    node_t *n = mk(ps, N_CALL, ps->sig[sg].ret, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    n->nargs = na;
    for (int i = 0; i < na; i++) {
      char what[160];
      snprintf(what, sizeof what, "argument %d of %s", i + 1, t.text);
      if ((st = coerce(ps, &args[i], ps->sig[sg].ptype[i], &t, what)))
        return st;
      n->args[i] = args[i];
    }
    if (act__cl_npending == act__cl_cpending) {
      int nc = act__cl_cpending ? 2 * act__cl_cpending : 16;
      pending_t *np = realloc(act__cl_pending, (size_t)nc * sizeof *np);
      if (!np)
        return act__fail(ACT_OUT_OF_MEMORY, "custom op: out of memory");
      act__cl_pending = np, act__cl_cpending = nc;
    }
    pending_t *pd = &act__cl_pending[act__cl_npending++];
    pd->call = n;
    snprintf(pd->name, sizeof pd->name, "%s", t.text);
    pd->line = t.line, pd->col = t.col;
    pd->caller = (int)(ps->fn - ps->prog->f);
    *out = n;
    return ACT_OK;
  }
  int slot = find_local(ps, t.text);
  if (slot < 0) {
    if (find_builtin(t.text) >= 0)
      return perr(ps, t.line, t.col, "built-in '%s' is a function: call it",
                  t.text);
    return perr(ps, t.line, t.col, "'%s' is not declared", t.text);
  }
  node_t *n = mk(ps, N_VAR, ps->fn->ltype[slot], t.line);
  if (!n)
    return ACT_OUT_OF_MEMORY;
  n->slot = slot;
  *out = n;
  return ACT_OK;
}

static act_status_t postfix(parser_t *ps, node_t **out) {
  act_status_t st = primary(ps, out);
  if (st)
    return st;
  if (is_p(&ps->t, "["))
    return perr(ps, ps->t.line, ps->t.col, "arrays are not allowed in "
                "custom ops");
  if (is_p(&ps->t, ".") || is_p(&ps->t, "->"))
    return perr(ps, ps->t.line, ps->t.col, "'%s' is not allowed: custom ops "
                "have no structs or vectors", ps->t.text);
  if (is_p(&ps->t, "++") || is_p(&ps->t, "--")) {
    if ((*out)->kind != N_VAR || (*out)->type == T_BOOL)
      return perr(ps, ps->t.line, ps->t.col, "'%s' needs an int or float "
                  "variable", ps->t.text);
    node_t *n = mk(ps, N_INCDEC, (*out)->type, ps->t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    n->slot = (*out)->slot;
    n->op = is_p(&ps->t, "++") ? 1 : -1;
    n->post = 1;
    *out = n;
    return next(ps);
  }
  return ACT_OK;
}

static act_status_t unary(parser_t *ps, node_t **out) {
  tok_t t = ps->t;
  act_status_t st;
  if (is_p(&t, "*"))
    return perr(ps, t.line, t.col, "pointer dereference ('*') is not "
                "allowed: custom ops have no pointers");
  if (is_p(&t, "&"))
    return perr(ps, t.line, t.col, "address-of ('&') is not allowed: custom "
                "ops have no pointers");
  if (is_p(&t, "~"))
    return perr(ps, t.line, t.col, "bitwise operator '~' is not allowed");
  if (is_p(&t, "++") || is_p(&t, "--")) {
    if ((st = next(ps)) || (st = unary(ps, out)))
      return st;
    if ((*out)->kind != N_VAR || (*out)->type == T_BOOL)
      return perr(ps, t.line, t.col, "'%s' needs an int or float variable",
                  t.text);
    node_t *n = mk(ps, N_INCDEC, (*out)->type, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    n->slot = (*out)->slot;
    n->op = is_p(&t, "++") ? 1 : -1;
    *out = n;
    return ACT_OK;
  }
  if (is_p(&t, "-") || is_p(&t, "+") || is_p(&t, "!")) {
    if ((st = next(ps)) || (st = unary(ps, out)))
      return st;
    if (is_p(&t, "!")) {
      if ((*out)->type != T_BOOL)
        return perr(ps, t.line, t.col, "'!' needs a bool (a comparison), "
                    "not %s", act__cl_tname[(*out)->type]);
      node_t *n = mk(ps, N_NOT, T_BOOL, t.line);
      if (!n)
        return ACT_OUT_OF_MEMORY;
      n->a = *out;
      *out = n;
      return ACT_OK;
    }
    if ((*out)->type == T_BOOL)
      return perr(ps, t.line, t.col, "unary '%s' on a bool", t.text);
    if (is_p(&t, "+"))
      return ACT_OK;
    node_t *n = mk(ps, N_NEG, (*out)->type, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    n->a = *out;
    *out = n;
    return ACT_OK;
  }
  return postfix(ps, out);
}

/* Binary operators by precedence level (higher binds tighter). */
static int binop(const tok_t *t, int *prec) {
  static const struct {
    const char *s;
    int op, prec;
  } ops[] = {{"||", OP_OR, 1},  {"&&", OP_AND, 2}, {"==", OP_EQ, 3},
             {"!=", OP_NE, 3},  {"<", '<', 4},     {">", '>', 4},
             {"<=", OP_LE, 4},  {">=", OP_GE, 4},  {"+", '+', 5},
             {"-", '-', 5},     {"*", '*', 6},     {"/", '/', 6},
             {"%", '%', 6}};
  if (t->kind != K_PUNCT)
    return 0;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (strcmp(t->text, ops[i].s) == 0) {
      *prec = ops[i].prec;
      return ops[i].op;
    }
  return 0;
}

static const char *opname(int op) {
  static char s[2];
  switch (op) {
  case OP_LE: return "<=";
  case OP_GE: return ">=";
  case OP_EQ: return "==";
  case OP_NE: return "!=";
  case OP_AND: return "&&";
  case OP_OR: return "||";
  default: s[0] = (char)op; s[1] = 0; return s;
  }
}

static act_status_t binary(parser_t *ps, int minp, node_t **out) {
  act_status_t st = unary(ps, out);
  if (st)
    return st;
  for (;;) {
    tok_t t = ps->t;
    if (is_p(&t, "&") || is_p(&t, "|") || is_p(&t, "^") || is_p(&t, "<<") ||
        is_p(&t, ">>"))
      return perr(ps, t.line, t.col, "bitwise operator '%s' is not allowed",
                  t.text);
    int prec = 0, op = binop(&t, &prec);
    if (!op || prec < minp)
      return ACT_OK;
    node_t *r;
    if ((st = next(ps)) || (st = binary(ps, prec + 1, &r)))
      return st;
    node_t *l = *out;
    int type;
    char what[160];
    snprintf(what, sizeof what, "operand of '%s'", t.text);
    if (op == OP_AND || op == OP_OR) {
      if (l->type != T_BOOL || r->type != T_BOOL)
        return perr(ps, t.line, t.col, "operands of '%s' must be bool "
                    "(comparisons), not %s and %s", t.text,
                    act__cl_tname[l->type], act__cl_tname[r->type]);
      type = T_BOOL;
    } else if ((op == OP_EQ || op == OP_NE) && l->type == T_BOOL &&
               r->type == T_BOOL) {
      type = T_BOOL;
    } else {
      if (l->type == T_BOOL || r->type == T_BOOL)
        return perr(ps, t.line, t.col, "'%s' on a bool", t.text);
      int num = l->type == T_FLOAT || r->type == T_FLOAT ? T_FLOAT : T_INT;
      if (op == '%' && num == T_FLOAT)
        return perr(ps, t.line, t.col, "'%%' needs int operands (there is "
                    "no fmod for custom ops)");
      if ((st = coerce(ps, &l, num, &t, what)) ||
          (st = coerce(ps, &r, num, &t, what)))
        return st;
      type = (op == '+' || op == '-' || op == '*' || op == '/' || op == '%')
                 ? num
                 : T_BOOL;
    }
    node_t *n = mk(ps, N_BIN, type, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    n->op = op;
    n->a = l, n->b = r;
    *out = n;
  }
}

static act_status_t ternary(parser_t *ps, node_t **out) {
  act_status_t st = binary(ps, 1, out);
  if (st || !is_p(&ps->t, "?"))
    return st;
  tok_t t = ps->t;
  if ((*out)->type != T_BOOL)
    return perr(ps, t.line, t.col, "the condition of '?:' must be bool (a "
                "comparison), not %s", act__cl_tname[(*out)->type]);
  node_t *a, *b;
  if ((st = next(ps)) || (st = expr(ps, &a)) ||
      (st = expect(ps, ":", "in '?:'")) || (st = ternary(ps, &b)))
    return st;
  int type = a->type;
  if (a->type != b->type) {
    if (a->type == T_BOOL || b->type == T_BOOL)
      return perr(ps, t.line, t.col, "the branches of '?:' have types %s "
                  "and %s", act__cl_tname[a->type], act__cl_tname[b->type]);
    type = T_FLOAT;
    if ((st = coerce(ps, &a, type, &t, "branch of '?:'")) ||
        (st = coerce(ps, &b, type, &t, "branch of '?:'")))
      return st;
  }
  node_t *n = mk(ps, N_COND, type, t.line);
  if (!n)
    return ACT_OUT_OF_MEMORY;
  n->a = *out, n->b = a, n->c = b;
  *out = n;
  return ACT_OK;
}

/* Assignment (right-associative) or a conditional expression. */
static act_status_t expr(parser_t *ps, node_t **out) {
  act_status_t st = ternary(ps, out);
  if (st)
    return st;
  tok_t t = ps->t;
  if (t.kind != K_PUNCT)
    return ACT_OK;
  static const char *const as[] = {"=", "+=", "-=", "*=", "/=", "%=", NULL};
  int k = -1;
  for (int i = 0; as[i]; i++)
    if (strcmp(t.text, as[i]) == 0)
      k = i;
  if (k < 0) {
    if (is_p(&t, "&=") || is_p(&t, "|=") || is_p(&t, "^=") ||
        is_p(&t, "<<=") || is_p(&t, ">>="))
      return perr(ps, t.line, t.col, "bitwise operator '%s' is not allowed",
                  t.text);
    return ACT_OK;
  }
  if ((*out)->kind != N_VAR)
    return perr(ps, t.line, t.col, "the left of '%s' must be a variable",
                t.text);
  node_t *r;
  if ((st = next(ps)) || (st = expr(ps, &r)))
    return st;
  int lt = (*out)->type;
  char what[160];
  snprintf(what, sizeof what, "'%s' to %s '%s'", t.text,
           act__cl_tname[lt], ps->fn->lname[(*out)->slot]);
  if (k > 0 && lt == T_BOOL)
    return perr(ps, t.line, t.col, "'%s' on a bool", t.text);
  if (k == 5 && (lt != T_INT || r->type != T_INT))
    return perr(ps, t.line, t.col, "'%%=' needs int operands");
  if ((st = coerce(ps, &r, lt, &t, what)))
    return st;
  node_t *n = mk(ps, N_ASSIGN, lt, t.line);
  if (!n)
    return ACT_OUT_OF_MEMORY;
  n->op = k == 0 ? '=' : "=+-*/%"[k];
  n->slot = (*out)->slot;
  n->a = r;
  *out = n;
  return ACT_OK;
}

static act_status_t add_local(parser_t *ps, const tok_t *t, int type,
                              int *slot) {
  func_t *f = ps->fn;
  if (reserved_word(t->text))
    return perr(ps, t->line, t->col, "'%s' is a keyword", t->text);
  if (strstr(t->text, "__"))
    return perr(ps, t->line, t->col, "identifier '%s' is reserved (two "
                "underscores)", t->text);
  if (find_builtin(t->text) >= 0)
    return perr(ps, t->line, t->col, "'%s' is the name of a built-in",
                t->text);
  for (int i = ps->nscope - 1; i >= 0; i--) {
    /* only the innermost block's names clash; tracked by a -1 marker */
    int s = ps->scope[i];
    if (s < 0)
      break;
    if (strcmp(f->lname[s], t->text) == 0)
      return perr(ps, t->line, t->col, "'%s' is already declared in this "
                  "block", t->text);
  }
  if (f->nlocals == ACT__CL_MAX_LOCALS || ps->nscope == ACT__CL_MAX_LOCALS)
    return perr(ps, t->line, t->col, "too many variables in %s (at most %d)",
                f->name, ACT__CL_MAX_LOCALS);
  *slot = f->nlocals++;
  f->ltype[*slot] = type;
  snprintf(f->lname[*slot], sizeof f->lname[*slot], "%s", t->text);
  ps->scope[ps->nscope++] = *slot;
  return ACT_OK;
}


static act_status_t statement(parser_t *ps, node_t **out);

static act_status_t block(parser_t *ps, node_t **out) {
  /* ps->t is '{' */
  node_t *b = mk(ps, S_BLOCK, T_VOID, ps->t.line);
  if (!b)
    return ACT_OUT_OF_MEMORY;
  act_status_t st = next(ps);
  if (st)
    return st;
  int saved = ps->nscope;
  if (ps->nscope == ACT__CL_MAX_LOCALS)
    return perr(ps, ps->t.line, ps->t.col, "blocks are nested too deeply");
  ps->scope[ps->nscope++] = -1; /* block marker, see add_local */
  node_t **tail = &b->a;
  while (!is_p(&ps->t, "}")) {
    if (ps->t.kind == K_EOF)
      return perr(ps, ps->t.line, ps->t.col, "expected '}' before the end "
                  "of the file");
    node_t *s;
    if ((st = statement(ps, &s)))
      return st;
    if (s) {
      *tail = s;
      while (s->next)
        s = s->next;
      tail = &s->next;
    }
  }
  ps->nscope = saved;
  *out = b;
  return next(ps);
}

/* A declaration `T a = e, b;` (ps->t is the type), as S_DECL nodes. */
static act_status_t declaration(parser_t *ps, int type, node_t **out) {
  act_status_t st = next(ps);
  if (st)
    return st;
  node_t *first = NULL, **tail = &first;
  for (;;) {
    tok_t t = ps->t;
    if (is_p(&t, "*"))
      return perr(ps, t.line, t.col, "pointers are not allowed in custom "
                  "ops");
    if (t.kind != K_IDENT)
      return perr(ps, t.line, t.col, "expected a variable name, found '%s'",
                  t.text);
    int ty;
    if ((st = type_of(ps, &t, &ty)))
      return st;
    if (ty)
      return perr(ps, t.line, t.col, "expected a variable name, found the "
                  "type '%s'", t.text);
    if ((st = next(ps)))
      return st;
    if (is_p(&ps->t, "["))
      return perr(ps, ps->t.line, ps->t.col, "arrays are not allowed in "
                  "custom ops");
    if (is_p(&ps->t, "("))
      return perr(ps, ps->t.line, ps->t.col, "functions are defined at the "
                  "top level only");
    node_t *init = NULL;
    if (is_p(&ps->t, "=")) {
      tok_t eq = ps->t;
      if ((st = next(ps)) || (st = ternary(ps, &init)))
        return st;
      char what[160];
      snprintf(what, sizeof what, "initialising %s '%s'", act__cl_tname[type],
               t.text);
      if ((st = coerce(ps, &init, type, &eq, what)))
        return st;
    }
    int slot;
    if ((st = add_local(ps, &t, type, &slot)))
      return st;
    node_t *d = mk(ps, S_DECL, type, t.line);
    if (!d)
      return ACT_OUT_OF_MEMORY;
    d->slot = slot;
    d->a = init;
    *tail = d;
    tail = &d->next;
    if (!is_p(&ps->t, ","))
      break;
    if ((st = next(ps)))
      return st;
  }
  *out = first;
  return ACT_OK;
}

static act_status_t condition(parser_t *ps, const char *what, node_t **out) {
  act_status_t st = expect(ps, "(", what);
  tok_t t = ps->t;
  if (st || (st = expr(ps, out)))
    return st;
  if ((*out)->type != T_BOOL)
    return perr(ps, t.line, t.col, "the condition %s must be bool (a "
                "comparison), not %s", what, act__cl_tname[(*out)->type]);
  return expect(ps, ")", "after the condition");
}

static act_status_t statement(parser_t *ps, node_t **out) {
  tok_t t = ps->t;
  act_status_t st;
  *out = NULL;
  if (is_p(&t, "{"))
    return block(ps, out);
  if (is_p(&t, ";"))
    return next(ps);
  int ty;
  if ((st = type_of(ps, &t, &ty)))
    return st;
  if (ty) {
    if ((st = declaration(ps, ty, out)))
      return st;
    return expect(ps, ";", "after the declaration");
  }
  if (is_id(&t, "if")) {
    node_t *n = mk(ps, S_IF, T_VOID, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    if ((st = next(ps)) || (st = condition(ps, "of 'if'", &n->a)) ||
        (st = statement(ps, &n->b)))
      return st;
    if (is_id(&ps->t, "else"))
      if ((st = next(ps)) || (st = statement(ps, &n->c)))
        return st;
    *out = n;
    return ACT_OK;
  }
  if (is_id(&t, "while")) {
    node_t *n = mk(ps, S_WHILE, T_VOID, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    if ((st = next(ps)) || (st = condition(ps, "of 'while'", &n->a)))
      return st;
    ps->loops++;
    st = statement(ps, &n->b);
    ps->loops--;
    *out = n;
    return st;
  }
  if (is_id(&t, "for")) {
    node_t *n = mk(ps, S_FOR, T_VOID, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    int saved = ps->nscope;
    if ((st = next(ps)) || (st = expect(ps, "(", "after 'for'")))
      return st;
    ps->scope[ps->nscope++] = -1;
    if (!is_p(&ps->t, ";")) {
      if ((st = type_of(ps, &ps->t, &ty)))
        return st;
      if (ty)
        st = declaration(ps, ty, &n->a);
      else
        st = expr(ps, &n->a);
      if (st)
        return st;
    }
    if ((st = expect(ps, ";", "in 'for'")))
      return st;
    if (!is_p(&ps->t, ";")) {
      tok_t c = ps->t;
      if ((st = expr(ps, &n->b)))
        return st;
      if (n->b->type != T_BOOL)
        return perr(ps, c.line, c.col, "the condition of 'for' must be bool "
                    "(a comparison), not %s", act__cl_tname[n->b->type]);
    }
    if ((st = expect(ps, ";", "in 'for'")))
      return st;
    if (!is_p(&ps->t, ")") && (st = expr(ps, &n->c)))
      return st;
    if ((st = expect(ps, ")", "after 'for' (...")))
      return st;
    ps->loops++;
    st = statement(ps, &n->d);
    ps->loops--;
    ps->nscope = saved;
    *out = n;
    return st;
  }
  if (is_id(&t, "return")) {
    node_t *n = mk(ps, S_RETURN, T_VOID, t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    if ((st = next(ps)))
      return st;
    if (is_p(&ps->t, ";"))
      return perr(ps, ps->t.line, ps->t.col, "return needs a value (%s "
                  "returns %s)", ps->fn->name, act__cl_tname[ps->fn->ret]);
    tok_t v = ps->t;
    if ((st = expr(ps, &n->a)))
      return st;
    char what[160];
    snprintf(what, sizeof what, "return value of %s", ps->fn->name);
    if ((st = coerce(ps, &n->a, ps->fn->ret, &v, what)))
      return st;
    *out = n;
    return expect(ps, ";", "after the return value");
  }
  if (is_id(&t, "break") || is_id(&t, "continue")) {
    if (!ps->loops)
      return perr(ps, t.line, t.col, "'%s' outside a loop", t.text);
    node_t *n = mk(ps, is_id(&t, "break") ? S_BREAK : S_CONTINUE, T_VOID,
                   t.line);
    if (!n)
      return ACT_OUT_OF_MEMORY;
    *out = n;
    if ((st = next(ps)))
      return st;
    return expect(ps, ";", is_id(&t, "break") ? "after 'break'"
                                              : "after 'continue'");
  }
  if (is_id(&t, "goto"))
    return perr(ps, t.line, t.col, "goto is not allowed in custom ops");
  if (is_id(&t, "switch") || is_id(&t, "case") || is_id(&t, "default") ||
      is_id(&t, "do"))
    return perr(ps, t.line, t.col, "'%s' is not supported in custom ops (use "
                "if/else, for or while)", t.text);
  if (is_id(&t, "else"))
    return perr(ps, t.line, t.col, "'else' without 'if'");
  node_t *n = mk(ps, S_EXPR, T_VOID, t.line);
  if (!n)
    return ACT_OUT_OF_MEMORY;
  if ((st = expr(ps, &n->a)))
    return st;
  *out = n;
  return expect(ps, ";", "after the expression");
}


/* Does every path through s end in a return? (Conservative.) */
static bool returns(const node_t *s) {
  for (; s; s = s->next) {
    if (s->kind == S_RETURN)
      return true;
    if (s->kind == S_BLOCK && returns(s->a))
      return true;
    if (s->kind == S_IF && s->c && returns(s->b) && returns(s->c))
      return true;
  }
  return false;
}

static act_status_t function(parser_t *ps) {
  tok_t t = ps->t;
  act_status_t st;
  int ret;
  if ((st = type_of(ps, &t, &ret)))
    return st;
  if (!ret) {
    if (t.kind == K_IDENT && act__cl_forbidden(t.text) == NULL &&
        !reserved_word(t.text))
      return perr(ps, t.line, t.col, "expected a function definition "
                  "(float NAME(float x, ...) { ... }), found '%s'", t.text);
    return perr(ps, t.line, t.col, "expected a function definition, found "
                "'%s'", t.text);
  }
  if ((st = next(ps)))
    return st;
  if (is_p(&ps->t, "*"))
    return perr(ps, ps->t.line, ps->t.col, "pointers are not allowed in "
                "custom ops");
  tok_t name = ps->t;
  if (name.kind != K_IDENT || reserved_word(name.text))
    return perr(ps, name.line, name.col, "expected a function name, found "
                "'%s'", name.text);
  int ty;
  if ((st = type_of(ps, &name, &ty)))
    return st;
  if (ty)
    return perr(ps, name.line, name.col, "expected a function name, found "
                "the type '%s'", name.text);
  if (find_builtin(name.text) >= 0 || act__cl_forbidden(name.text))
    return perr(ps, name.line, name.col, "'%s' is the name of a built-in",
                name.text);
  if (strstr(name.text, "__"))
    return perr(ps, name.line, name.col, "identifier '%s' is reserved (two "
                "underscores)", name.text);
  int prev = find_func(ps->prog, name.text);
  if (prev >= 0)
    return perr(ps, name.line, name.col, "function '%s' is defined twice "
                "(first at line %d)", name.text, ps->prog->f[prev].line);
  if (ps->prog->nfuncs == ACT__CL_MAX_FUNCS)
    return perr(ps, name.line, name.col, "too many functions (at most %d)",
                ACT__CL_MAX_FUNCS);
  func_t *f = &ps->prog->f[ps->prog->nfuncs++];
  memset(f, 0, sizeof *f);
  snprintf(f->name, sizeof f->name, "%s", name.text);
  f->ret = ret, f->line = name.line, f->col = name.col;
  ps->fn = f;
  ps->nscope = 0;
  if ((st = next(ps)))
    return st;
  if (is_p(&ps->t, "="))
    return perr(ps, ps->t.line, ps->t.col, "global variables are not "
                "allowed in custom ops");
  if ((st = expect(ps, "(", "after the function name")))
    return st;
  if (is_id(&ps->t, "void")) {
    tok_t *pk;
    if ((st = peek(ps, &pk)))
      return st;
    if (is_p(pk, ")") && (st = next(ps)))
      return st;
  }
  if (!is_p(&ps->t, ")"))
    for (;;) {
      tok_t pt = ps->t;
      if ((st = type_of(ps, &pt, &ty)))
        return st;
      if (!ty)
        return perr(ps, pt.line, pt.col, "expected a parameter type (float, "
                    "int or bool), found '%s'", pt.text);
      if ((st = next(ps)))
        return st;
      if (is_p(&ps->t, "*"))
        return perr(ps, ps->t.line, ps->t.col, "pointers are not allowed in "
                    "custom ops");
      tok_t pn = ps->t;
      if (pn.kind != K_IDENT)
        return perr(ps, pn.line, pn.col, "expected a parameter name, found "
                    "'%s'", pn.text);
      if (f->nparams == ACT__CL_MAX_ARGS)
        return perr(ps, pn.line, pn.col, "too many parameters (at most %d)",
                    ACT__CL_MAX_ARGS);
      int slot;
      if ((st = add_local(ps, &pn, ty, &slot)))
        return st;
      f->ptype[f->nparams++] = ty;
      if ((st = next(ps)))
        return st;
      if (is_p(&ps->t, "["))
        return perr(ps, ps->t.line, ps->t.col, "arrays are not allowed in "
                    "custom ops");
      if (!is_p(&ps->t, ","))
        break;
      if ((st = next(ps)))
        return st;
    }
  if ((st = expect(ps, ")", "after the parameters")))
    return st;
  if (is_p(&ps->t, ";"))
    return perr(ps, ps->t.line, ps->t.col, "function declarations without "
                "a body are not needed: functions may be defined in any "
                "order");
  if (!is_p(&ps->t, "{"))
    return perr(ps, ps->t.line, ps->t.col, "expected '{' to start the body "
                "of %s, found '%s'", f->name, ps->t.text);
  if ((st = block(ps, &f->body)))
    return st;
  if (!returns(f->body->a))
    return perr(ps, f->line, f->col, "%s may end without returning a value "
                "(end every path with return)", f->name);
  return ACT_OK;
}

/* ---- program ------------------------------------------------------------- */

void act__cl_free(act__cl_t *p) {
  if (!p)
    return;
  for (node_t *n = p->nodes, *nx; n; n = nx) {
    nx = n->all_next;
    free(n);
  }
  free(p);
}

/* Finds a cycle through f in the call graph (DFS); fills path. */
static bool cycle(const act__cl_t *p, int f, int *state, int *stack,
                  int depth, int *path, int *plen) {
  state[f] = 1;
  stack[depth] = f;
  for (int g = 0; g < p->nfuncs; g++) {
    if (!(p->f[f].calls >> g & 1u))
      continue;
    if (state[g] == 1) {
      int k = depth;
      while (stack[k] != g)
        k--;
      *plen = 0;
      for (int i = k; i <= depth; i++)
        path[(*plen)++] = stack[i];
      return true;
    }
    if (state[g] == 0 && cycle(p, g, state, stack, depth + 1, path, plen))
      return true;
  }
  state[f] = 2;
  return false;
}

static void topo(act__cl_t *p, int f, bool *done, int *n) {
  if (done[f])
    return;
  done[f] = true;
  for (int g = 0; g < p->nfuncs; g++)
    if (p->f[f].calls >> g & 1u)
      topo(p, g, done, n);
  p->order[(*n)++] = f;
}

static int tname(const tok_t *t) {
  if (t->kind != K_IDENT)
    return T_VOID;
  for (int i = T_FLOAT; i <= T_BOOL; i++)
    if (strcmp(t->text, act__cl_tname[i]) == 0)
      return i;
  return T_VOID;
}

/* Records the signature of every top-level `T name(T a, ...)`. Errors are
 * ignored: the parse proper reports them. */
static void prescan(parser_t *ps) {
  parser_t q = *ps;
  tok_t t, p1, p2;
  memset(&p1, 0, sizeof p1);
  memset(&p2, 0, sizeof p2);
  int depth = 0;
  while (!lex(&q, &t) && t.kind != K_EOF) {
    if (is_p(&t, "{")) {
      depth++;
    } else if (is_p(&t, "}")) {
      depth--;
    } else if (depth == 0 && is_p(&t, "(") && p1.kind == K_IDENT &&
               tname(&p2) && ps->nsig < ACT__CL_MAX_FUNCS) {
      int k = ps->nsig;
      snprintf(ps->sig[k].name, sizeof ps->sig[k].name, "%s", p1.text);
      ps->sig[k].ret = tname(&p2);
      int np = 0;
      bool ok = true;
      for (;;) {
        if (lex(&q, &t) || t.kind == K_EOF)
          return;
        if (is_p(&t, ")"))
          break;
        if (np == 0 && is_id(&t, "void"))
          continue;
        int ty = tname(&t);
        if (!ty || np == ACT__CL_MAX_ARGS || lex(&q, &t) ||
            t.kind != K_IDENT || lex(&q, &t)) {
          ok = false;
          break;
        }
        ps->sig[k].ptype[np++] = ty;
        if (is_p(&t, ")"))
          break;
        if (!is_p(&t, ",")) {
          ok = false;
          break;
        }
      }
      ps->sig[k].nparams = ok ? np : -1;
      ps->nsig++;
      memset(&t, 0, sizeof t);
    }
    p2 = p1;
    p1 = t;
  }
}

act_status_t act__cl_parse(const char *src, const char *file,
                           act__cl_t **out) {
  *out = NULL;
  act__cl_t *prog = calloc(1, sizeof *prog);
  if (!prog)
    return act__fail(ACT_OUT_OF_MEMORY, "custom op: out of memory");
  snprintf(prog->file, sizeof prog->file, "%s", file);
  for (char *c = prog->file; *c; c++)
    if (*c == '"' || *c == '\\' || *c == '\n')
      *c = '_'; /* it goes into #line "..." */
  parser_t ps;
  memset(&ps, 0, sizeof ps);
  ps.src = ps.p = src;
  ps.file = prog->file;
  ps.line = ps.col = 1;
  ps.prog = prog;
  act__cl_npending = 0;
  prescan(&ps);
  act_status_t st = next(&ps);
  while (!st && ps.t.kind != K_EOF)
    st = function(&ps);
  if (!st && prog->nfuncs == 0)
    st = perr(&ps, ps.t.line, ps.t.col, "no function defined");
  /* resolve calls: the prescan's signatures are those parsed */
  for (int i = 0; !st && i < act__cl_npending; i++) {
    pending_t *pd = &act__cl_pending[i];
    int g = find_func(prog, pd->name);
    if (g < 0) {
      st = perr(&ps, pd->line, pd->col, "unknown function '%s'", pd->name);
      break;
    }
    pd->call->fn = g;
    prog->f[pd->caller].calls |= 1u << g;
  }
  if (!st) {
    int state[ACT__CL_MAX_FUNCS] = {0}, stack[ACT__CL_MAX_FUNCS];
    int path[ACT__CL_MAX_FUNCS], plen = 0;
    for (int f = 0; f < prog->nfuncs; f++)
      if (state[f] == 0 && cycle(prog, f, state, stack, 0, path, &plen)) {
        const func_t *h = &prog->f[path[0]];
        char via[256] = "";
        for (int k = 1; k < plen; k++) {
          strncat(via, k == 1 ? " via " : ", ", sizeof via - strlen(via) - 1);
          strncat(via, prog->f[path[k]].name, sizeof via - strlen(via) - 1);
        }
        st = perr(&ps, h->line, h->col, "recursion: %s calls itself%s (custom "
                  "ops may not recurse)", h->name, via);
        break;
      }
  }
  if (!st) {
    bool done[ACT__CL_MAX_FUNCS] = {false};
    int n = 0;
    for (int f = 0; f < prog->nfuncs; f++)
      topo(prog, f, done, &n);
    prog->norder = n;
  }
  free(act__cl_pending);
  act__cl_pending = NULL;
  act__cl_npending = act__cl_cpending = 0;
  if (st) {
    act__cl_free(prog);
    return st;
  }
  *out = prog;
  return ACT_OK;
}

int act__cl_find(const act__cl_t *p, const char *name) {
  return find_func(p, name);
}

/* ACT_OK if function fn is `float fn(float x, float p1, ..., float pn)`
 * with n = nparams; else ACT_INVALID_ARGUMENT saying what it is. */
act_status_t act__cl_check_entry(const act__cl_t *p, int fn, int nparams,
                                 const char *role) {
  const func_t *f = &p->f[fn];
  bool ok = f->ret == T_FLOAT && f->nparams == 1 + nparams;
  for (int i = 0; ok && i < f->nparams; i++)
    ok = f->ptype[i] == T_FLOAT;
  if (!ok)
    return act__fail(ACT_INVALID_ARGUMENT, "%s:%d:%d: error: the %s function "
                     "%s must be float %s(float x%s) with %d parameter%s "
                     "after x", p->file, f->line, f->col, role, f->name,
                     f->name, nparams ? ", float ..." : "", nparams,
                     nparams == 1 ? "" : "s");
  return ACT_OK;
}

/* ---- evaluation (the reference) ------------------------------------------ */

typedef struct {
  const act__cl_t *p;
  long iter;
} eval_t;

enum { FLOW_NONE, FLOW_BREAK, FLOW_CONTINUE, FLOW_RETURN };

static double call_fn(eval_t *e, int fn, const double *args);

static double int32(double v) {
  /* C int arithmetic, wrapping as the devices do */
  if (!isfinite(v))
    return 0.0;
  double m = fmod(v, 4294967296.0);
  if (m < 0)
    m += 4294967296.0;
  uint32_t u = (uint32_t)m;
  return (double)(int32_t)u;
}

static double ev(eval_t *e, const node_t *n, double *loc) {
  switch (n->kind) {
  case N_NUM:
    return n->num;
  case N_VAR:
    return loc[n->slot];
  case N_NEG:
    return n->type == T_INT ? int32(-ev(e, n->a, loc)) : -ev(e, n->a, loc);
  case N_NOT:
    return ev(e, n->a, loc) == 0.0;
  case N_TOFLOAT:
    return ev(e, n->a, loc);
  case N_BIN: {
    if (n->op == OP_AND)
      return ev(e, n->a, loc) != 0.0 && ev(e, n->b, loc) != 0.0;
    if (n->op == OP_OR)
      return ev(e, n->a, loc) != 0.0 || ev(e, n->b, loc) != 0.0;
    double a = ev(e, n->a, loc), b = ev(e, n->b, loc);
    bool isint = n->a->type == T_INT;
    switch (n->op) {
    case '+': return isint ? int32(a + b) : a + b;
    case '-': return isint ? int32(a - b) : a - b;
    case '*': return isint ? int32(a * b) : a * b;
    case '/':
      if (isint)
        return b == 0.0 ? 0.0 : int32(trunc(a / b));
      return a / b;
    case '%':
      return b == 0.0 ? 0.0 : int32(fmod(a, b));
    case '<': return a < b;
    case '>': return a > b;
    case OP_LE: return a <= b;
    case OP_GE: return a >= b;
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    }
    return NAN;
  }
  case N_ASSIGN: {
    double r = ev(e, n->a, loc), v = loc[n->slot];
    bool isint = n->type == T_INT;
    switch (n->op) {
    case '=': v = r; break;
    case '+': v = v + r; break;
    case '-': v = v - r; break;
    case '*': v = v * r; break;
    case '/': v = isint ? (r == 0.0 ? 0.0 : trunc(v / r)) : v / r; break;
    case '%': v = r == 0.0 ? 0.0 : fmod(v, r); break;
    }
    loc[n->slot] = isint ? int32(v) : v;
    return loc[n->slot];
  }
  case N_INCDEC: {
    double old = loc[n->slot], v = old + n->op;
    loc[n->slot] = n->type == T_INT ? int32(v) : v;
    return n->post ? old : loc[n->slot];
  }
  case N_COND:
    return ev(e, n->a, loc) != 0.0 ? ev(e, n->b, loc) : ev(e, n->c, loc);
  case N_CALL: {
    double args[ACT__CL_ARGS_CAP];
    for (int i = 0; i < n->nargs; i++)
      args[i] = ev(e, n->args[i], loc);
    return call_fn(e, n->fn, args);
  }
  case N_BUILTIN: {
    double a[3] = {0, 0, 0};
    for (int i = 0; i < n->nargs; i++)
      a[i] = ev(e, n->args[i], loc);
    switch (n->fn) {
    case B_EXP: return exp(a[0]);
    case B_EXPM1: return expm1(a[0]);
    case B_LOG: return log(a[0]);
    case B_LOG1P: return log1p(a[0]);
    case B_TANH: return tanh(a[0]);
    case B_SINH: return sinh(a[0]);
    case B_COSH: return cosh(a[0]);
    case B_ERF: return erf(a[0]);
    case B_ERFC: return erfc(a[0]);
    case B_SQRT: return sqrt(a[0]);
    case B_RSQRT: return 1.0 / sqrt(a[0]);
    case B_POW: return pow(a[0], a[1]);
    case B_FABS: return fabs(a[0]);
    case B_FMIN: return fmin(a[0], a[1]);
    case B_FMAX: return fmax(a[0], a[1]);
    case B_CLAMP: return fmin(fmax(a[0], a[1]), a[2]);
    case B_COPYSIGN: return copysign(a[0], a[1]);
    case B_FLOOR: return floor(a[0]);
    case B_CEIL: return ceil(a[0]);
    case B_SIN: return sin(a[0]);
    case B_COS: return cos(a[0]);
    case B_ATAN: return atan(a[0]);
    case B_FMA: return fma(a[0], a[1], a[2]);
    case B_ISNAN: return isnan(a[0]) ? 1.0 : 0.0;
    case B_ISINF: return isinf(a[0]) ? 1.0 : 0.0;
    case B_SIGMOID:
      return a[0] >= 0 ? 1.0 / (1.0 + exp(-a[0]))
                       : exp(a[0]) / (1.0 + exp(a[0]));
    case B_SOFTPLUS:
      return a[0] > 0 ? a[0] + log1p(exp(-a[0])) : log1p(exp(a[0]));
    case B_DTANH: {
      double c = cosh(a[0]);
      return 1.0 / (c * c);
    }
    case B_DERF:
      return 1.1283791670955126 * exp(-a[0] * a[0]);
    }
    return NAN;
  }
  }
  return NAN;
}

static int run_list(eval_t *e, const node_t *s, double *loc, double *ret);

/* Runs one statement (NULL: the empty one); *ret receives a returned
 * value. */
static int run_one(eval_t *e, const node_t *s, double *loc, double *ret) {
  if (!s)
    return FLOW_NONE;
  switch (s->kind) {
  case S_DECL:
    loc[s->slot] = s->a ? ev(e, s->a, loc) : 0.0;
    return FLOW_NONE;
  case S_EXPR:
    ev(e, s->a, loc);
    return FLOW_NONE;
  case S_BLOCK:
    return run_list(e, s->a, loc, ret);
  case S_IF:
    return run_one(e, ev(e, s->a, loc) != 0.0 ? s->b : s->c, loc, ret);
  case S_WHILE:
  case S_FOR: {
    bool isfor = s->kind == S_FOR;
    if (isfor && s->a) {
      if (s->a->kind == S_DECL)
        run_list(e, s->a, loc, ret);
      else
        ev(e, s->a, loc);
    }
    for (;;) {
      const node_t *cond = isfor ? s->b : s->a;
      if (cond && ev(e, cond, loc) == 0.0)
        break;
      if (++e->iter > ACT__CL_MAX_ITER) {
        *ret = NAN;
        return FLOW_RETURN;
      }
      int f = run_one(e, isfor ? s->d : s->b, loc, ret);
      if (f == FLOW_RETURN)
        return f;
      if (f == FLOW_BREAK)
        break;
      if (isfor && s->c)
        ev(e, s->c, loc);
    }
    return FLOW_NONE;
  }
  case S_RETURN:
    *ret = ev(e, s->a, loc);
    return FLOW_RETURN;
  case S_BREAK:
    return FLOW_BREAK;
  case S_CONTINUE:
    return FLOW_CONTINUE;
  }
  return FLOW_NONE;
}

static int run_list(eval_t *e, const node_t *s, double *loc, double *ret) {
  for (; s; s = s->next) {
    int f = run_one(e, s, loc, ret);
    if (f != FLOW_NONE)
      return f;
  }
  return FLOW_NONE;
}

static double call_fn(eval_t *e, int fn, const double *args) {
  const func_t *f = &e->p->f[fn];
  double loc[ACT__CL_MAX_LOCALS];
  for (int i = 0; i < f->nlocals; i++)
    loc[i] = i < f->nparams ? args[i] : 0.0;
  double r = NAN;
  run_list(e, f->body->a, loc, &r);
  return r;
}

double act__cl_eval(const act__cl_t *p, int fn, double x, const double *prm) {
  eval_t e = {p, 0};
  double args[ACT__CL_ARGS_CAP] = {x};
  for (int i = 1; i < p->f[fn].nparams; i++)
    args[i] = prm[i - 1];
  return call_fn(&e, fn, args);
}

/* ---- emission ------------------------------------------------------------ */

typedef struct {
  char *buf;
  size_t len, cap;
  bool oom;
  int line; /* the source line the output is on */
  const func_t *f;
  const act__cl_t *p;
} out_t;

static void put(out_t *o, const char *fmt, ...) ACT__PRINTF(2, 3);
static void put(out_t *o, const char *fmt, ...) {
  if (o->oom)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf ? o->buf + o->len : NULL,
                      o->buf ? o->cap - o->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      o->oom = true;
      return;
    }
    if (o->buf && o->len + (size_t)n < o->cap) {
      o->len += (size_t)n;
      return;
    }
    size_t nc = o->cap ? o->cap * 2 : 4096;
    while (nc < o->len + (size_t)n + 1)
      nc *= 2;
    char *nb = realloc(o->buf, nc);
    if (!nb) {
      o->oom = true;
      return;
    }
    o->buf = nb, o->cap = nc;
  }
}

/* Moves the output to source line `line` (never back). */
static void to_line(out_t *o, int line) {
  while (o->line < line) {
    put(o, "\n");
    o->line++;
  }
}

static void emit_expr(out_t *o, const node_t *n);

/* A local's emitted name: u_NAME, or t_NAME for a tangent. */
static void put_local(out_t *o, int slot) {
  put(o, "%s%s", o->f->ltan[slot] ? "t_" : "u_", o->f->lname[slot]);
}

static void emit_num(out_t *o, double v, int type) {
  if (type == T_BOOL) {
    put(o, v != 0.0 ? "true" : "false");
  } else if (type == T_INT) {
    put(o, "%d", (int)v);
  } else {
    char s[40];
    snprintf(s, sizeof s, "%.9g", (double)(float)v);
    put(o, "%s%sf", s, strpbrk(s, ".e") ? "" : ".0");
  }
}

static void emit_expr(out_t *o, const node_t *n) {
  switch (n->kind) {
  case N_NUM:
    emit_num(o, n->num, n->type);
    return;
  case N_VAR:
    put_local(o, n->slot);
    return;
  case N_NEG:
    put(o, "(-");
    emit_expr(o, n->a);
    put(o, ")");
    return;
  case N_NOT:
    put(o, "(!");
    emit_expr(o, n->a);
    put(o, ")");
    return;
  case N_TOFLOAT:
    if (n->a->kind == N_NUM) {
      emit_num(o, n->a->num, T_FLOAT);
      return;
    }
    put(o, "convert_float(");
    emit_expr(o, n->a);
    put(o, ")");
    return;
  case N_BIN:
    if (n->op == '/' && n->type == T_FLOAT) {
      put(o, "am_div(");
      emit_expr(o, n->a);
      put(o, ", ");
      emit_expr(o, n->b);
      put(o, ")");
      return;
    }
    put(o, "(");
    emit_expr(o, n->a);
    put(o, " %s ", opname(n->op));
    emit_expr(o, n->b);
    put(o, ")");
    return;
  case N_ASSIGN:
    put(o, "(");
    put_local(o, n->slot);
    put(o, " = ");
    if (n->op != '=') {
      if (n->op == '/' && n->type == T_FLOAT) {
        put(o, "am_div(");
        put_local(o, n->slot);
        put(o, ", ");
        emit_expr(o, n->a);
        put(o, "))");
        return;
      }
      put_local(o, n->slot);
      put(o, " %c ", n->op);
    }
    put(o, "(");
    emit_expr(o, n->a);
    put(o, "))");
    return;
  case N_INCDEC:
    put(o, "(%s", n->post ? "" : n->op > 0 ? "++" : "--");
    put_local(o, n->slot);
    put(o, "%s)", !n->post ? "" : n->op > 0 ? "++" : "--");
    return;
  case N_COND:
    put(o, "(");
    emit_expr(o, n->a);
    put(o, " ? ");
    emit_expr(o, n->b);
    put(o, " : ");
    emit_expr(o, n->c);
    put(o, ")");
    return;
  case N_CALL:
    put(o, "%s%s(", act__cl_fprefix[o->p->f[n->fn].role],
        o->p->f[n->fn].name);
    break;
  case N_BUILTIN:
    put(o, "%s(", act__cl_builtins[n->fn].device);
    break;
  default:
    return;
  }
  for (int i = 0; i < n->nargs; i++) {
    if (i)
      put(o, ", ");
    emit_expr(o, n->args[i]);
  }
  put(o, ")");
}

static void emit_stmt(out_t *o, const node_t *s, int depth);

static void emit_list(out_t *o, const node_t *s, int depth) {
  for (; s; s = s->next)
    emit_stmt(o, s, depth);
}

static void emit_stmt(out_t *o, const node_t *s, int depth) {
  if (!s)
    return;
  to_line(o, s->line);
  put(o, " ");
  switch (s->kind) {
  case S_DECL:
    put(o, "%s ", act__cl_tname[s->type]);
    put_local(o, s->slot);
    if (s->a) {
      put(o, " = ");
      emit_expr(o, s->a);
    }
    put(o, ";");
    return;
  case S_EXPR:
    emit_expr(o, s->a);
    put(o, ";");
    return;
  case S_BLOCK:
    put(o, "{");
    emit_list(o, s->a, depth + 1);
    put(o, " }");
    return;
  case S_IF:
    put(o, "if (");
    emit_expr(o, s->a);
    put(o, ") {");
    emit_stmt(o, s->b, depth + 1);
    put(o, " }");
    if (s->c) {
      put(o, " else {");
      emit_stmt(o, s->c, depth + 1);
      put(o, " }");
    }
    return;
  case S_WHILE:
    put(o, "while (");
    emit_expr(o, s->a);
    put(o, ") {");
    if (s->b)
      emit_stmt(o, s->b, depth + 1);
    put(o, " }");
    return;
  case S_FOR:
    /* the init may declare: a block around the loop scopes it */
    put(o, "{");
    if (s->a) {
      if (s->a->kind == S_DECL)
        emit_list(o, s->a, depth + 1);
      else {
        emit_expr(o, s->a);
        put(o, ";");
      }
    }
    put(o, " for (; ");
    if (s->b)
      emit_expr(o, s->b);
    put(o, "; ");
    if (s->c)
      emit_expr(o, s->c);
    put(o, ") {");
    if (s->d)
      emit_stmt(o, s->d, depth + 1);
    put(o, " } }");
    return;
  case S_RETURN:
    put(o, "return ");
    emit_expr(o, s->a);
    put(o, ";");
    return;
  case S_BREAK:
    put(o, "break;");
    return;
  case S_CONTINUE:
    put(o, "continue;");
    return;
  }
}

/* The device text of the program: helpers, then every function (callees
 * first), each under `#line` of its source line. *out is malloc'd. */
act_status_t act__cl_emit(const act__cl_t *p, char **out) {
  out_t o;
  memset(&o, 0, sizeof o);
  o.p = p;
  put(&o, "%s", act__cl_helpers);
  for (int k = 0; k < p->norder; k++) {
    const func_t *f = &p->f[p->order[k]];
    o.f = f;
    put(&o, "#line %d \"%s\"\n", f->line, p->file);
    o.line = f->line;
    put(&o, "AM_INLINE %s %s%s(", act__cl_tname[f->ret],
        act__cl_fprefix[f->role], f->name);
    for (int i = 0; i < f->nparams; i++) {
      put(&o, "%s%s ", i ? ", " : "", act__cl_tname[f->ptype[i]]);
      put_local(&o, i);
    }
    put(&o, ") {");
    emit_list(&o, f->body->a, 1);
    put(&o, " }\n");
  }
  if (o.oom) {
    free(o.buf);
    return act__fail(ACT_OUT_OF_MEMORY, "custom op: out of memory");
  }
  *out = o.buf;
  return ACT_OK;
}

/* ---- queries for registration -------------------------------------------- */

int act__cl_nfuncs(const act__cl_t *p) {
  int n = 0;
  while (n < p->nfuncs && p->f[n].role == F_USER)
    n++;
  return n;
}

const char *act__cl_fname(const act__cl_t *p, int fn) {
  return p->f[fn].name;
}

/* Writes the name function fn has in the device text (u_NAME, g_NAME). */
void act__cl_device_name(const act__cl_t *p, int fn, char *buf, size_t n) {
  snprintf(buf, n, "%s%s", act__cl_fprefix[p->f[fn].role], p->f[fn].name);
}

/* Is user function fn `float fn(float x, float ...)`, called by no other
 * function of the source? Then it is an op of its own (act_custom_register
 * _source); *nparams receives its parameter count after x and names[i]
 * their names. */
bool act__cl_plain_op(const act__cl_t *p, int fn, int *nparams,
                      const char **names) {
  const func_t *f = &p->f[fn];
  if (f->role != F_USER || f->ret != T_FLOAT || f->nparams < 1 ||
      strcmp(f->lname[0], "x") != 0)
    return false;
  for (int i = 0; i < f->nparams; i++)
    if (f->ptype[i] != T_FLOAT)
      return false;
  for (int g = 0; g < p->nfuncs; g++)
    if (p->f[g].role == F_USER && (p->f[g].calls >> fn & 1u))
      return false;
  *nparams = f->nparams - 1;
  for (int i = 1; i < f->nparams; i++)
    names[i - 1] = f->lname[i];
  return true;
}

/* ---- automatic derivatives ------------------------------------------------
 *
 * act__cl_derive writes, for the op function F(x, p...), the function
 * g_F(x, p...) = dF/dx, as more functions of the same program: so the
 * evaluator gives the reference (in double) and the emitter the device
 * code, as for the user's own functions.
 *
 * It is forward mode on the checked tree. Each user function G that the
 * derivative needs gets a companion j_G(a..., t_a...) with a tangent
 * parameter after the parameters for each float parameter, that returns
 * the tangent of G's result: dG = sum_k dG/da_k t_a_k. Its body is G's
 * body with a tangent local t_v beside every float local v; each
 * statement that writes v is preceded by one that writes t_v from the
 * values before the write (v *= e: t_v = t_v e + v de). Conditions, loops,
 * ints and bools are kept as they are, so the derivative is that of the
 * branch the forward takes: at a kink (x > 0 ? x : 0 at 0) the one-sided
 * derivative of the branch selected, as jax differentiates jnp.where and
 * lax.cond. Built-ins follow jax's rules where they have a choice:
 * fabs'(0) = 1; fmin/fmax at a tie split the tangent equally (jax's
 * balanced min/max); floor and ceil have derivative 0; sqrt'(0) = +inf.
 * g_F is NaN where x is NaN.
 *
 * Each rule uses a form that keeps its accuracy where the obvious one
 * would not: tanh' = 1/cosh^2 (not 1 - tanh^2, which cancels where tanh
 * is near 1), sigmoid' = sigmoid(a) sigmoid(-a), erf' from x^2 as an exact
 * pair, (a/b)' = (a' - (a/b) b')/b.
 *
 * Refused, with the line: an assignment or ++/-- to a float inside a
 * larger expression (differentiating the expression would repeat it) and
 * a float assignment in a for loop's step. */

/* The function being written: j_G from user function G. */
typedef struct {
  func_t *dst;
  int remap[ACT__CL_MAX_LOCALS]; /* G's slot -> dst's slot */
  int tan[ACT__CL_MAX_LOCALS];   /* dst slot -> its tangent's slot, or -1 */
} ad_frame_t;

typedef struct {
  act__cl_t *p;
  const char *op; /* for messages */
  act_status_t st; /* the first failure */
  bool failed;
  int jvp[ACT__CL_MAX_FUNCS]; /* user function -> its j_ function, or -1 */
  ad_frame_t *fr;
} ad_t;

static act_status_t ad_fail(ad_t *a, int line, const char *what) {
  if (!a->failed)
    a->st = act__fail(ACT_UNSUPPORTED, "%s:%d: no automatic derivative for "
                      "%s: %s (write it as a statement of its own, or give "
                      "a derivative)", a->p->file, line, a->op, what);
  a->failed = true;
  return a->st;
}

static node_t *ad_mk(ad_t *a, int kind, int type, int line) {
  node_t *n = node_new(a->p, kind, type, line);
  if (!n) {
    if (!a->failed)
      a->st = act__fail(ACT_OUT_OF_MEMORY, "custom op: out of memory "
                        "deriving %s", a->op);
    a->failed = true;
  }
  return n;
}

static node_t *ad_num(ad_t *a, double v, int line) {
  node_t *n = ad_mk(a, N_NUM, T_FLOAT, line);
  if (n)
    n->num = v;
  return n;
}

static node_t *ad_var(ad_t *a, int slot, int line) {
  node_t *n = ad_mk(a, N_VAR, a->fr->dst->ltype[slot], line);
  if (n)
    n->slot = slot;
  return n;
}

static node_t *ad_bin(ad_t *a, int op, int type, node_t *l, node_t *r) {
  if (!l || !r)
    return NULL;
  node_t *n = ad_mk(a, N_BIN, type, l->line);
  if (n)
    n->op = op, n->a = l, n->b = r;
  return n;
}

static node_t *ad_un(ad_t *a, int kind, int type, node_t *x) {
  if (!x)
    return NULL;
  node_t *n = ad_mk(a, kind, type, x->line);
  if (n)
    n->a = x;
  return n;
}

static node_t *ad_cond(ad_t *a, node_t *c, node_t *t, node_t *f) {
  if (!c || !t || !f)
    return NULL;
  node_t *n = ad_mk(a, N_COND, T_FLOAT, c->line);
  if (n)
    n->a = c, n->b = t, n->c = f;
  return n;
}

static node_t *ad_call(ad_t *a, int b, node_t *x, node_t *y) {
  if (!x || (act__cl_builtins[b].nargs > 1 && !y))
    return NULL;
  node_t *n = ad_mk(a, N_BUILTIN, act__cl_builtins[b].ret, x->line);
  if (n) {
    n->fn = b;
    n->nargs = act__cl_builtins[b].nargs;
    n->args[0] = x, n->args[1] = y;
  }
  return n;
}

/* Tangent arithmetic: NULL is a tangent known to be zero. */
static node_t *ad_add(ad_t *a, node_t *x, node_t *y) {
  return !x ? y : !y ? x : ad_bin(a, '+', T_FLOAT, x, y);
}
static node_t *ad_neg(ad_t *a, node_t *x) {
  return x ? ad_un(a, N_NEG, T_FLOAT, x) : NULL;
}
static node_t *ad_sub(ad_t *a, node_t *x, node_t *y) {
  return !y ? x : !x ? ad_neg(a, y) : ad_bin(a, '-', T_FLOAT, x, y);
}
static node_t *ad_mul(ad_t *a, node_t *x, node_t *y) {
  return x && y ? ad_bin(a, '*', T_FLOAT, x, y) : NULL;
}
static node_t *ad_div(ad_t *a, node_t *x, node_t *y) {
  return x && y ? ad_bin(a, '/', T_FLOAT, x, y) : NULL;
}
static node_t *ad_or0(ad_t *a, node_t *t, int line) {
  return t ? t : ad_num(a, 0.0, line);
}

/* Does e hold a node of kind k1 or k2 with type `type` (T_VOID: any)? */
static bool ad_has(const node_t *e, int k1, int k2, int type) {
  if (!e)
    return false;
  if ((e->kind == k1 || e->kind == k2) && (type == T_VOID || e->type == type))
    return true;
  if (ad_has(e->a, k1, k2, type) || ad_has(e->b, k1, k2, type) ||
      ad_has(e->c, k1, k2, type))
    return true;
  for (int i = 0; i < e->nargs; i++)
    if (ad_has(e->args[i], k1, k2, type))
      return true;
  return false;
}
/* Does e write any variable? */
static bool ad_writes(const node_t *e) {
  return ad_has(e, N_ASSIGN, N_INCDEC, T_VOID);
}

/* A copy of src expression e in dst's slots. */
static node_t *ad_clone(ad_t *a, const node_t *e) {
  if (!e)
    return NULL;
  node_t *n = ad_mk(a, e->kind, e->type, e->line);
  if (!n)
    return NULL;
  node_t *keep = n->all_next;
  *n = *e;
  n->all_next = keep;
  n->next = NULL;
  if (e->kind == N_VAR || e->kind == N_ASSIGN || e->kind == N_INCDEC ||
      e->kind == S_DECL)
    n->slot = a->fr->remap[e->slot];
  n->a = ad_clone(a, e->a);
  n->b = ad_clone(a, e->b);
  n->c = ad_clone(a, e->c);
  for (int i = 0; i < e->nargs; i++)
    n->args[i] = ad_clone(a, e->args[i]);
  return n;
}

static int ad_jvp(ad_t *a, int g);

/* The tangent of dst expression e (NULL: zero). */
static node_t *ad_d(ad_t *a, node_t *e) {
  if (!e || a->failed || e->type != T_FLOAT)
    return NULL;
  int ln = e->line;
  node_t *x = e->nargs > 0 ? e->args[0] : NULL;
  node_t *y = e->nargs > 1 ? e->args[1] : NULL;
  node_t *dx = e->kind == N_BUILTIN ? ad_d(a, x) : NULL;
  switch (e->kind) {
  case N_NUM:
  case N_TOFLOAT:
    return NULL;
  case N_VAR:
    return a->fr->tan[e->slot] >= 0 ? ad_var(a, a->fr->tan[e->slot], ln)
                                    : NULL;
  case N_NEG:
    return ad_neg(a, ad_d(a, e->a));
  case N_BIN: {
    node_t *da = ad_d(a, e->a), *db = ad_d(a, e->b);
    switch (e->op) {
    case '+': return ad_add(a, da, db);
    case '-': return ad_sub(a, da, db);
    case '*': return ad_add(a, ad_mul(a, da, e->b), ad_mul(a, e->a, db));
    case '/': /* (a' - (a/b) b')/b: e itself is a/b */
      return ad_div(a, ad_sub(a, da, ad_mul(a, e, db)), e->b);
    }
    return NULL;
  }
  case N_COND: {
    node_t *db = ad_d(a, e->b), *dc = ad_d(a, e->c);
    if (!db && !dc)
      return NULL;
    return ad_cond(a, e->a, ad_or0(a, db, ln), ad_or0(a, dc, ln));
  }
  case N_CALL: {
    const func_t *g = &a->p->f[e->fn];
    node_t *t[ACT__CL_MAX_ARGS];
    bool any = false;
    for (int i = 0; i < e->nargs; i++)
      if (g->ptype[i] == T_FLOAT)
        any |= (t[i] = ad_d(a, e->args[i])) != NULL;
    if (!any || a->failed)
      return NULL;
    int j = ad_jvp(a, e->fn);
    if (j < 0)
      return NULL;
    node_t *n = ad_mk(a, N_CALL, T_FLOAT, ln);
    if (!n)
      return NULL;
    n->fn = j;
    for (int i = 0; i < e->nargs; i++)
      n->args[n->nargs++] = e->args[i];
    for (int i = 0; i < e->nargs; i++)
      if (g->ptype[i] == T_FLOAT)
        n->args[n->nargs++] = ad_or0(a, t[i], ln);
    return n;
  }
  case N_BUILTIN:
    break;
  default: /* N_ASSIGN, N_INCDEC: refused before */
    return NULL;
  }
  node_t *dy = y ? ad_d(a, y) : NULL;
  switch (e->fn) {
  case B_EXP:
    return ad_mul(a, e, dx);
  case B_EXPM1:
    return dx ? ad_mul(a, ad_call(a, B_EXP, x, NULL), dx) : NULL;
  case B_LOG:
    return ad_div(a, dx, x);
  case B_LOG1P:
    return dx ? ad_div(a, dx, ad_bin(a, '+', T_FLOAT, ad_num(a, 1, ln), x))
              : NULL;
  case B_TANH:
    return dx ? ad_mul(a, ad_call(a, B_DTANH, x, NULL), dx) : NULL;
  case B_SINH:
    return dx ? ad_mul(a, ad_call(a, B_COSH, x, NULL), dx) : NULL;
  case B_COSH:
    return dx ? ad_mul(a, ad_call(a, B_SINH, x, NULL), dx) : NULL;
  case B_ERF:
    return dx ? ad_mul(a, ad_call(a, B_DERF, x, NULL), dx) : NULL;
  case B_ERFC:
    return dx ? ad_neg(a, ad_mul(a, ad_call(a, B_DERF, x, NULL), dx)) : NULL;
  case B_SQRT: /* x' / (2 sqrt(x)) */
    return ad_div(a, dx, ad_mul(a, ad_num(a, 2, ln), e));
  case B_RSQRT: /* -x' rsqrt(x) / (2x) */
    return ad_neg(a, ad_div(a, ad_mul(a, dx, e),
                            ad_mul(a, ad_num(a, 2, ln), x)));
  case B_POW: { /* y x^(y-1) x' + x^y log(x) y' */
    node_t *t1 = NULL, *t2 = NULL;
    if (dx)
      t1 = ad_mul(a, ad_mul(a, y, ad_call(a, B_POW, x,
                                          ad_bin(a, '-', T_FLOAT, y,
                                                 ad_num(a, 1, ln)))),
                  dx);
    if (dy)
      t2 = ad_mul(a, ad_mul(a, e, ad_call(a, B_LOG, x, NULL)), dy);
    return ad_add(a, t1, t2);
  }
  case B_FABS: /* jax: the tangent itself at 0 */
    return dx ? ad_cond(a, ad_bin(a, OP_GE, T_BOOL, x, ad_num(a, 0, ln)), dx,
                        ad_neg(a, dx))
              : NULL;
  case B_FMIN:
  case B_FMAX: {
    if (!dx && !dy)
      return NULL;
    /* the argument fmin/fmax returns (a NaN loses); a tie halves each */
    int lt = e->fn == B_FMIN ? '<' : '>';
    node_t *ta = ad_or0(a, dx, ln), *tb = ad_or0(a, dy, ln);
    node_t *pick_a = ad_bin(a, OP_OR, T_BOOL,
                            ad_bin(a, OP_NE, T_BOOL, y, y),
                            ad_bin(a, lt, T_BOOL, x, y));
    node_t *pick_b = ad_bin(a, OP_OR, T_BOOL,
                            ad_bin(a, OP_NE, T_BOOL, x, x),
                            ad_bin(a, lt, T_BOOL, y, x));
    node_t *half = ad_mul(a, ad_num(a, 0.5, ln), ad_add(a, ta, tb));
    return ad_cond(a, pick_a, ta, ad_cond(a, pick_b, tb, half));
  }
  case B_CLAMP: { /* as fmin(fmax(x, lo), hi) */
    node_t *in = ad_call(a, B_FMAX, x, y);
    node_t *out = ad_call(a, B_FMIN, in, e->args[2]);
    return out ? ad_d(a, out) : NULL;
  }
  case B_COPYSIGN: { /* |x| sgn(y): x' sgn(x) sgn(y), sgn(+-0) = 1 */
    if (!dx)
      return NULL;
    node_t *s = ad_call(a, B_COPYSIGN, ad_num(a, 1, ln), y);
    node_t *t = ad_mul(a, s, dx);
    return ad_cond(a, ad_bin(a, OP_GE, T_BOOL, x, ad_num(a, 0, ln)), t,
                   ad_neg(a, t));
  }
  case B_FLOOR:
  case B_CEIL:
    return NULL;
  case B_SIN:
    return dx ? ad_mul(a, ad_call(a, B_COS, x, NULL), dx) : NULL;
  case B_COS:
    return dx ? ad_neg(a, ad_mul(a, ad_call(a, B_SIN, x, NULL), dx)) : NULL;
  case B_ATAN:
    return ad_div(a, dx, ad_bin(a, '+', T_FLOAT, ad_num(a, 1, ln),
                                ad_mul(a, x, x)));
  case B_FMA: {
    node_t *dz = ad_d(a, e->args[2]);
    return ad_add(a, ad_add(a, ad_mul(a, dx, y), ad_mul(a, x, dy)), dz);
  }
  case B_SIGMOID:
    return dx ? ad_mul(a, ad_mul(a, e, ad_call(a, B_SIGMOID,
                                               ad_neg(a, x), NULL)),
                       dx)
              : NULL;
  case B_SOFTPLUS:
    return dx ? ad_mul(a, ad_call(a, B_SIGMOID, x, NULL), dx) : NULL;
  }
  return NULL;
}

static node_t *ad_stmt(ad_t *a, const node_t *s);

/* A statement slot of if/while/for: the transformed statement, in a block
 * when it became more than one. */
static node_t *ad_body(ad_t *a, const node_t *s) {
  if (!s)
    return NULL;
  node_t *l = ad_stmt(a, s);
  if (!l || !l->next)
    return l;
  node_t *b = ad_mk(a, S_BLOCK, T_VOID, s->line);
  if (b)
    b->a = l;
  return b;
}

/* The statement that updates the tangent of dst slot v for `v op= r`
 * (r and its tangent dr in dst), or NULL when it stays. */
static node_t *ad_update(ad_t *a, int v, int op, node_t *r, node_t *dr,
                         int line) {
  int tv = a->fr->tan[v];
  node_t *t = NULL;
  int aop = '=';
  switch (op) {
  case '=':
    t = ad_or0(a, dr, line);
    break;
  case '+':
  case '-':
    if (!dr)
      return NULL;
    t = dr, aop = op;
    break;
  case '*': /* t_v = t_v r + v dr */
    t = ad_add(a, ad_mul(a, ad_var(a, tv, line), r),
               ad_mul(a, ad_var(a, v, line), dr));
    break;
  case '/': /* t_v = (t_v - (v/r) dr) / r */
    t = ad_div(a, ad_sub(a, ad_var(a, tv, line),
                         ad_mul(a, ad_bin(a, '/', T_FLOAT,
                                          ad_var(a, v, line), r),
                                dr)),
               r);
    break;
  }
  node_t *as = ad_mk(a, N_ASSIGN, T_FLOAT, line);
  node_t *st = ad_mk(a, S_EXPR, T_VOID, line);
  if (!as || !st || !t)
    return NULL;
  as->op = aop, as->slot = tv, as->a = t;
  st->a = as;
  return st;
}

/* An expression kept as it is (a condition, an int update): it may write
 * ints, and floats only by ++/-- (which leave the tangent). */
static node_t *ad_kept(ad_t *a, const node_t *e, int line) {
  if (ad_has(e, N_ASSIGN, N_ASSIGN, T_FLOAT)) {
    ad_fail(a, line, "an assignment or ++/-- inside an expression");
    return NULL;
  }
  return ad_clone(a, e);
}

/* src statement s (one, not its list) as a list of dst statements. */
static node_t *ad_stmt(ad_t *a, const node_t *s) {
  if (!s || a->failed)
    return NULL;
  int ln = s->line;
  node_t *n = NULL;
  switch (s->kind) {
  case S_DECL: {
    if (s->type == T_FLOAT && ad_writes(s->a)) {
      ad_fail(a, ln, "an assignment or ++/-- inside an expression");
      return NULL;
    }
    n = ad_mk(a, S_DECL, s->type, ln);
    if (!n)
      return NULL;
    n->slot = a->fr->remap[s->slot];
    n->a = s->type == T_FLOAT ? ad_clone(a, s->a) : ad_kept(a, s->a, ln);
    if (s->type != T_FLOAT)
      return n;
    node_t *t = ad_mk(a, S_DECL, T_FLOAT, ln);
    if (!t)
      return NULL;
    t->slot = a->fr->tan[n->slot];
    t->a = ad_or0(a, n->a ? ad_d(a, n->a) : NULL, ln);
    t->next = n;
    return t;
  }
  case S_EXPR: {
    const node_t *e = s->a;
    n = ad_mk(a, S_EXPR, T_VOID, ln);
    if (!n)
      return NULL;
    if (e->kind == N_ASSIGN && e->type == T_FLOAT) {
      if (ad_writes(e->a)) {
        ad_fail(a, ln, "an assignment or ++/-- inside an expression");
        return NULL;
      }
      n->a = ad_clone(a, e);
      if (!n->a)
        return NULL;
      node_t *u = ad_update(a, n->a->slot, e->op, n->a->a,
                            ad_d(a, n->a->a), ln);
      if (u)
        u->next = n;
      return u ? u : n;
    }
    n->a = ad_kept(a, e, ln);
    return n;
  }
  case S_BLOCK: {
    n = ad_mk(a, S_BLOCK, T_VOID, ln);
    if (!n)
      return NULL;
    node_t **tail = &n->a;
    for (const node_t *q = s->a; q && !a->failed; q = q->next) {
      *tail = ad_stmt(a, q);
      while (*tail)
        tail = &(*tail)->next;
    }
    return n;
  }
  case S_IF:
  case S_WHILE:
    n = ad_mk(a, s->kind, T_VOID, ln);
    if (!n)
      return NULL;
    n->a = ad_kept(a, s->a, ln);
    n->b = ad_body(a, s->b);
    n->c = ad_body(a, s->c);
    return n;
  case S_FOR: {
    n = ad_mk(a, S_FOR, T_VOID, ln);
    if (!n)
      return NULL;
    node_t *before = NULL;
    if (s->a && s->a->kind == S_DECL) {
      node_t **tail = &n->a;
      for (const node_t *q = s->a; q && !a->failed; q = q->next) {
        *tail = ad_stmt(a, q);
        while (*tail)
          tail = &(*tail)->next;
      }
    } else if (s->a && s->a->kind == N_ASSIGN && s->a->type == T_FLOAT) {
      /* `for (v = e; ...)`: the tangent's update goes before the loop */
      if (ad_writes(s->a->a)) {
        ad_fail(a, ln, "an assignment or ++/-- inside an expression");
        return NULL;
      }
      n->a = ad_clone(a, s->a);
      if (n->a)
        before = ad_update(a, n->a->slot, s->a->op, n->a->a,
                           ad_d(a, n->a->a), ln);
    } else {
      n->a = ad_kept(a, s->a, ln);
    }
    n->b = ad_kept(a, s->b, ln);
    if (ad_has(s->c, N_ASSIGN, N_ASSIGN, T_FLOAT)) {
      ad_fail(a, ln, "a float assignment in a for loop's step");
      return NULL;
    }
    n->c = ad_kept(a, s->c, ln);
    n->d = ad_body(a, s->d);
    if (before)
      before->next = n;
    return before ? before : n;
  }
  case S_RETURN:
    if (ad_writes(s->a)) {
      ad_fail(a, ln, "an assignment or ++/-- inside an expression");
      return NULL;
    }
    n = ad_mk(a, S_RETURN, T_VOID, ln);
    if (!n)
      return NULL;
    n->a = ad_or0(a, ad_d(a, ad_clone(a, s->a)), ln);
    return n;
  case S_BREAK:
  case S_CONTINUE:
    return ad_mk(a, s->kind, T_VOID, ln);
  }
  return NULL;
}

/* Makes j_G for user function g (once); returns its index, or -1. */
static int ad_jvp(ad_t *a, int g) {
  if (a->jvp[g] >= 0)
    return a->jvp[g];
  act__cl_t *p = a->p;
  const func_t *src = &p->f[g];
  if (p->nfuncs == ACT__CL_FUNCS_CAP) {
    ad_fail(a, src->line, "too many functions");
    return -1;
  }
  int nfp = 0;
  for (int i = 0; i < src->nparams; i++)
    nfp += src->ptype[i] == T_FLOAT;
  int need = src->nlocals + nfp;
  for (int i = src->nparams; i < src->nlocals; i++)
    need += src->ltype[i] == T_FLOAT;
  if (need > ACT__CL_MAX_LOCALS) {
    ad_fail(a, src->line, "too many float variables to differentiate "
            "(at most 32 with their tangents)");
    return -1;
  }
  int idx = p->nfuncs++;
  func_t *dst = &p->f[idx];
  memset(dst, 0, sizeof *dst);
  memcpy(dst->name, src->name, sizeof dst->name);
  dst->role = F_JVP;
  dst->ret = T_FLOAT;
  dst->line = src->line, dst->col = src->col;
  /* slots: parameters, tangent parameters, locals, tangent locals */
  int k = src->nparams;
  for (int i = 0; i < src->nparams; i++) {
    dst->ptype[i] = src->ptype[i];
    dst->ltype[i] = src->ltype[i];
    memcpy(dst->lname[i], src->lname[i], sizeof dst->lname[i]);
  }
  int tan_of[ACT__CL_MAX_LOCALS];
  for (int i = 0; i < ACT__CL_MAX_LOCALS; i++)
    tan_of[i] = -1;
  for (int i = 0; i < src->nparams; i++)
    if (src->ptype[i] == T_FLOAT) {
      dst->ptype[k] = dst->ltype[k] = T_FLOAT;
      dst->ltan[k] = 1;
      memcpy(dst->lname[k], src->lname[i], sizeof dst->lname[k]);
      tan_of[i] = k++;
    }
  dst->nparams = k;
  int remap[ACT__CL_MAX_LOCALS];
  for (int i = 0; i < src->nlocals; i++) {
    int s = i < src->nparams ? i : k++;
    remap[i] = s;
    if (i >= src->nparams) {
      dst->ltype[s] = src->ltype[i];
      memcpy(dst->lname[s], src->lname[i], sizeof dst->lname[s]);
    }
  }
  for (int i = src->nparams; i < src->nlocals; i++)
    if (src->ltype[i] == T_FLOAT) {
      dst->ltype[k] = T_FLOAT;
      dst->ltan[k] = 1;
      memcpy(dst->lname[k], src->lname[i], sizeof dst->lname[k]);
      tan_of[i] = k++;
    }
  dst->nlocals = k;
  /* the body, in a frame of its own (the callees' j_ are made inside) */
  ad_frame_t fr, *outer = a->fr;
  fr.dst = dst;
  for (int i = 0; i < src->nlocals; i++)
    fr.remap[i] = remap[i];
  for (int i = 0; i < ACT__CL_MAX_LOCALS; i++)
    fr.tan[i] = -1;
  for (int i = 0; i < src->nlocals; i++)
    if (tan_of[i] >= 0)
      fr.tan[remap[i]] = tan_of[i];
  a->fr = &fr;
  a->jvp[g] = idx;
  dst->body = ad_stmt(a, src->body);
  a->fr = outer;
  if (a->failed || !dst->body)
    return -1;
  /* emitted after every j_ its body calls (those were made meanwhile) */
  p->order[p->norder++] = idx;
  return idx;
}

act_status_t act__cl_derive(act__cl_t *p, int fn, const char *op,
                            int *grad) {
  *grad = -1;
  int nf = p->nfuncs, no = p->norder;
  ad_t a;
  memset(&a, 0, sizeof a);
  a.p = p;
  a.op = op;
  for (int i = 0; i < ACT__CL_MAX_FUNCS; i++)
    a.jvp[i] = -1;
  const func_t *f = &p->f[fn];
  int j = ad_jvp(&a, fn);
  if (j >= 0 && p->nfuncs == ACT__CL_FUNCS_CAP)
    ad_fail(&a, f->line, "too many functions");
  if (a.failed || j < 0) {
    p->nfuncs = nf, p->norder = no;
    return a.st ? a.st : ACT_UNSUPPORTED;
  }
  /* g_F(x, p...) { if (isnan(x)) return x; return j_F(x, p..., 1, 0...); } */
  int gi = p->nfuncs++;
  func_t *g = &p->f[gi];
  memset(g, 0, sizeof *g);
  memcpy(g->name, f->name, sizeof g->name);
  g->role = F_GRAD;
  g->ret = T_FLOAT;
  g->line = f->line, g->col = f->col;
  g->nparams = g->nlocals = f->nparams;
  for (int i = 0; i < f->nparams; i++) {
    g->ptype[i] = g->ltype[i] = f->ptype[i];
    memcpy(g->lname[i], f->lname[i], sizeof g->lname[i]);
  }
  ad_frame_t fr = {g, {0}, {0}};
  a.fr = &fr;
  int ln = f->line;
  node_t *call = ad_mk(&a, N_CALL, T_FLOAT, ln);
  node_t *ret = ad_mk(&a, S_RETURN, T_VOID, ln);
  node_t *nan = ad_mk(&a, S_IF, T_VOID, ln);
  node_t *ret_x = ad_mk(&a, S_RETURN, T_VOID, ln);
  node_t *body = ad_mk(&a, S_BLOCK, T_VOID, ln);
  if (call && ret && nan && ret_x && body) {
    call->fn = j;
    for (int i = 0; i < f->nparams; i++)
      call->args[call->nargs++] = ad_var(&a, i, ln);
    for (int i = 0; i < f->nparams; i++)
      call->args[call->nargs++] = ad_num(&a, i == 0 ? 1.0 : 0.0, ln);
    ret->a = call;
    nan->a = ad_call(&a, B_ISNAN, ad_var(&a, 0, ln), NULL);
    ret_x->a = ad_var(&a, 0, ln);
    nan->b = ret_x;
    nan->next = ret;
    body->a = nan;
    g->body = body;
  }
  if (a.failed) {
    p->nfuncs = nf, p->norder = no;
    return a.st;
  }
  p->order[p->norder++] = gi;
  *grad = gi;
  return ACT_OK;
}
