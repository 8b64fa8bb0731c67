/*
 * act_prelude_opencl.cl - maps actkit's kernel conventions onto OpenCL C
 * (see README.md beside this file). Needs -D ACT_DTYPE=0|1|2|3 (3: int
 * storage, only for one_hot's i32 output).
 */
#define ACT_OPENCL 1

/* The linear index of a work-item in a 1-D or 2-D launch. */
#define ACT_LINEAR_ID()                                                       \
  convert_uint(get_global_id(0) + get_global_id(1) * get_global_size(0))

/* Runs ONE(i) for the work-item's linear index i < n, ONE a statement
 * macro (the kernel's body for one index). A work-group that lies wholly
 * below n (1-D groups; a 2-D launch's rows are groups of one row) takes a
 * branch without the bounds test: the condition is uniform over the
 * group, so PoCL keeps it outside its vectorized work-item loop, and that
 * loop's loads and stores are plain vector ones. Under the per-item test
 * they become masked (vmaskmovps), which AMD's Zen cores run microcoded:
 * a copy there 0.26 -> ~2 Gelem/s (bench/RESULTS.md). Only the last
 * group of a launch takes the tested branch. */
#define ACT_ITEMS(n, ONE)                                                     \
  {                                                                           \
    uint i_ = ACT_LINEAR_ID();                                                \
    if (act_group_full(n)) {                                                  \
      ONE(i_)                                                                 \
    } else if (i_ < (n)) {                                                    \
      ONE(i_)                                                                 \
    }                                                                         \
  }
bool act_group_full(uint n) {
  uint w = convert_uint(get_local_size(0));
  uint base = convert_uint(get_group_id(0) * get_local_size(0) +
                           get_group_id(1) * get_global_size(0));
  return get_local_size(1) == 1 && base < n && n - base >= w;
}

/* Elements per work-item of act_eltwise: one, since PoCL vectorizes
 * across work-items and a loop in the body would stop that. */
#define ACT_ELTWISE_PER 1u

/* The double-float pair (act_math.cl) as a struct of scalars rather than
 * OpenCL's float2 vector. The kernels only build it with am_f2 and read
 * .x/.y, so this changes no value. Why: a function that returns a small
 * struct or a float2 returns it, on x86-64, as an LLVM <2 x float>, and
 * a select or phi of that type, once inlined, stops the loop vectorizer
 * of CPU drivers (PoCL: "instruction return type cannot be vectorized"),
 * so the kernel runs one work-item at a time. A struct of more than 16
 * bytes is returned through memory instead, which inlining turns into
 * separate scalars: the pad makes it 20 bytes (registers hold only the
 * parts used; local arrays of pairs take 20 bytes an element). Measured
 * on PoCL: the backward element-wise kernels 2-3x faster, the forward
 * ones unchanged. */
typedef struct {
  float x;
  float y;
  float pad_[3];
} act_pair_t;
#define float2 act_pair_t
/* Four floats returned from functions that choose among branches (a
 * backward factor: eltwise_bwd.cl), for the same reason; GLSL's vec4. */
typedef struct {
  float x;
  float y;
  float z;
  float w;
  float pad_;
} act_quad_t;

/* Kernel signatures from an argument X-macro. */
#define ACT_CL_IN(T, name) __global const T *restrict name
#define ACT_CL_OUT(T, name) __global T *restrict name
#define ACT_CL_LOCAL(T, name, count) __local T *name
#define ACT_CL_SCALAR(T, name) const T name
#define ACT_CL_SEP() ,
#define ACT_KERNEL(name, ARGS)                                                \
  __kernel void name(ARGS(ACT_CL_IN, ACT_CL_OUT, ACT_CL_LOCAL, ACT_CL_SCALAR,  \
                          ACT_CL_SEP))

/* bf16 from f32, rounding to nearest even; NaN stays a quiet NaN. */
ushort act_bf16_bits(float v) {
  uint u = as_uint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (ushort)((u >> 16) | 0x40u);
  return (ushort)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* f16 bits from f32, rounding to nearest even (overflow to inf, gradual
 * underflow); NaN stays a quiet NaN of the same sign. Normal results: the
 * exponent rebiased by -112 and 13 bits rounded off with the carry into
 * the exponent; below 2^-14 the value times 2^24, rounded by rint (exact
 * scaling, so one rounding), is the subnormal's encoding (1024 is the
 * smallest normal's). */
ushort act_f16_bits(float v) {
  uint u = as_uint(v);
  uint a = u & 0x7fffffffu;
  uint nrm = ((a - 0x38000000u) + 0xfffu + ((a >> 13) & 1u)) >> 13;
  /* rounded to an integer by adding and removing 2^23 (exact below 2^23;
   * one round-to-nearest-even) */
  float sv = as_float(a < 0x38800000u ? a : 0u) * 16777216.0f + 8388608.0f;
  uint sub = as_uint(sv) - 0x4b000000u;
  uint r = a > 0x7f800000u ? 0x7e00u
                           : (a >= 0x477ff000u ? 0x7c00u
                                               : (a >= 0x38800000u ? nrm : sub));
  return convert_ushort(((u >> 16) & 0x8000u) | r);
}

/* The f32 value of f16 bits (exact). */
float act_f16_value(ushort b) {
  uint h = convert_uint(b);
  uint a = h & 0x7fffu;
  float m = a >= 0x7c00u ? as_float(((a - 0x7c00u) << 13) | 0x7f800000u)
            : (a >= 0x0400u ? as_float((a << 13) + 0x38000000u)
                            : convert_float(a) * 5.9604644775390625e-08f);
  return as_float(as_uint(m) | ((h & 0x8000u) << 16));
}

/* A 16-bit element's value from the low 16 bits of h, and its bits from
 * v (in the low 16 bits), for dtypes 1 and 2: act_eltwise4. */
#if ACT_DTYPE == 1
#define ACT_H_VALUE(h) act_f16_value(convert_ushort(h))
#define ACT_H_BITS(v) convert_uint(act_f16_bits(v))
#elif ACT_DTYPE == 2
#define ACT_H_VALUE(h) as_float((h) << 16)
#define ACT_H_BITS(v) convert_uint(act_bf16_bits(v))
#endif

#if ACT_DTYPE == 0
#define STYPE float
#define LOAD(p, i) ((p)[i])
#define STORE(p, i, v) ((p)[i] = (v))
#elif ACT_DTYPE == 1
/* f16 as 16-bit words, converted by act_f16_value / act_f16_bits: exact
 * and round-to-nearest-even like vload_half / vstore_half_rte, but plain
 * integer code that a CPU driver vectorizes (PoCL's vstore_half_rte is a
 * library call that kept f16 kernels scalar: 5x slower than f32). */
#define STYPE ushort
#define LOAD(p, i) act_f16_value((p)[i])
#define STORE(p, i, v) ((p)[i] = act_f16_bits(v))
#elif ACT_DTYPE == 2
#define STYPE ushort
#define LOAD(p, i) as_float((uint)(p)[i] << 16)
#define STORE(p, i, v) ((p)[i] = act_bf16_bits(v))
#elif ACT_DTYPE == 3
/* i32 storage (one_hot's integer output): values are small integers. */
#define STYPE int
#define LOAD(p, i) convert_float((p)[i])
#define STORE(p, i, v) ((p)[i] = convert_int(v))
#else
#error "ACT_DTYPE must be 0 (f32), 1 (f16), 2 (bf16) or 3 (i32)"
#endif

/* Byte i of a u8 buffer (masks); the GLSL prelude unpacks it from words. */
#define LOADU8(w, i) ((w)[i])
