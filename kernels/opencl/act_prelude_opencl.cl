/*
 * act_prelude_opencl.cl - maps actkit's kernel conventions onto OpenCL C
 * (see README.md beside this file). Needs -D ACT_DTYPE=0|1|2.
 */
#define ACT_OPENCL 1

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

#if ACT_DTYPE == 0
#define STYPE float
#define LOAD(p, i) ((p)[i])
#define STORE(p, i, v) ((p)[i] = (v))
#elif ACT_DTYPE == 1
/* half pointers are allowed for storage without cl_khr_fp16. */
#define STYPE half
#define LOAD(p, i) vload_half((i), (p))
#define STORE(p, i, v) vstore_half_rte((v), (i), (p))
#elif ACT_DTYPE == 2
#define STYPE ushort
#define LOAD(p, i) as_float((uint)(p)[i] << 16)
#define STORE(p, i, v) ((p)[i] = act_bf16_bits(v))
#else
#error "ACT_DTYPE must be 0 (f32), 1 (f16) or 2 (bf16)"
#endif
