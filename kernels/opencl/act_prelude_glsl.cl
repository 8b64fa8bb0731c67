#version 450
#extension GL_GOOGLE_cpp_style_line_directive : require
/*
 * act_prelude_glsl.cl - maps actkit's kernel conventions onto GLSL 4.50
 * compute for Vulkan (see README.md beside this file): the twin of
 * act_prelude_opencl.cl. `actc compile` assembles a program from this file,
 * act_math.cl and a kernel file, and glslang compiles it to SPIR-V.
 *
 * The first two lines are moved to the top of the assembled program (GLSL
 * wants #version first, and the extension before the first `#line` that
 * names a file), so diagnostics carry every file's own line numbers.
 *
 * Kernels. ACT_KERNEL(name, ARGS) becomes, for the kernel being compiled:
 *   - each IN/OUT buffer: `layout(std430, binding = k) buffer` block whose
 *     one member is the argument's name, k its position among the buffers
 *     (the plan's buffer order, set 0);
 *   - each LOCAL array: `shared T name[count]` (a fixed size; the host's
 *     local byte counts are checked against it, never bound);
 *   - every SCALAR: one member each, in ARGS order, of the push-constant
 *     block (4-byte scalars at offsets 0, 4, 8, ...);
 *   - the body: `void main()`; the work-group size comes from the
 *     specialization constants 0, 1, 2 (the dispatch's local sizes).
 * A file may hold several kernels, but a GLSL program has one entry point.
 * So the macro also leaves a marker, `act_gl_kernel name`, and each buffer
 * the placeholder `act_gl_slot` for its binding; `actc compile`
 * preprocesses, keeps the kernel it compiles (dropping the others, marker
 * to closing brace, line breaks kept), numbers the slots 0, 1, ... in
 * order, and parses the result (tools/actc_compile.c).
 *
 * Storage (ACT_DTYPE): f32 and i32 are plain arrays. f16 and bf16 are
 * packed two to a 32-bit word (element i in the low half of word i/2 when
 * i is even), which needs no 16-bit storage feature: LOAD extracts and
 * widens exactly; STORE rounds to nearest even and writes its half with
 * two atomics (an AND that clears what must be 0, an OR that sets what
 * must be 1), because the other half belongs to a neighbouring work-item
 * (or to elements outside the tensor) that may be writing it at the same
 * time. Each atomic changes only its own half, so they commute. That costs
 * some bandwidth on GPUs (two atomics per stored 16-bit element) - the
 * price of one SPIR-V module for every device. So f16 and bf16 are also
 * compiled with ACT_STORAGE16 1 (dtypes f16s, bf16s; the assembler adds
 * GL_EXT_shader_16bit_storage): buffers of uint16_t, plain loads and
 * stores, the same conversions; the backend picks them on devices with
 * storageBuffer16BitAccess.
 */
#define ACT_GLSL 1

/* OpenCL C types and qualifiers the kernels use. */
#define float2 vec2
#define float3 vec3
#define float4 vec4
#define act_quad_t vec4 /* see act_prelude_opencl.cl */
#define int2 ivec2
#define int4 ivec4
#define uint2 uvec2
#define uint4 uvec4
#define uchar uint /* u8 buffers are read as words, through LOADU8 */

/* Contraction and reassociation: see act_math.cl. */
#define AM_PRECISE precise
/* SPIR-V's Fma need not be fused (lavapipe's is not): act_math.cl then
 * uses Dekker's product for its error-free transformations. */
#define AM_FMA_FUSED 0

/* Work-items. Index arguments are constants (0, 1, 2). */
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
#define get_global_id(d) (gl_GlobalInvocationID[d])
#define get_local_id(d) (gl_LocalInvocationID[d])
#define get_group_id(d) (gl_WorkGroupID[d])
#define get_local_size(d) (gl_WorkGroupSize[d])
#define get_num_groups(d) (gl_NumWorkGroups[d])
#define get_global_size(d) (gl_NumWorkGroups[d] * gl_WorkGroupSize[d])
/* Elements per invocation of act_eltwise (consecutive ones): a CPU
 * driver (lavapipe) pays per invocation, and a GPU reads the four within
 * one cache line. ACT_VK_ELTWISE_PER in src/vulkan/backend.c must match. */
#define ACT_ELTWISE_PER 4u

/* The linear index of a work-item in a 1-D or 2-D launch. */
#define ACT_LINEAR_ID()                                                       \
  (gl_GlobalInvocationID.x +                                                  \
   gl_GlobalInvocationID.y * (gl_NumWorkGroups.x * gl_WorkGroupSize.x))

/* ONE(i) for the invocation's linear index i < n (the OpenCL prelude's
 * ACT_ITEMS also has an untested branch for whole work-groups, for CPU
 * OpenCL drivers; lavapipe masks every access under a branch anyway). */
#define ACT_ITEMS(n, ONE)                                                     \
  {                                                                           \
    uint i_ = ACT_LINEAR_ID();                                                \
    if (i_ < (n)) {                                                           \
      ONE(i_)                                                                 \
    }                                                                         \
  }

/* GLSL's compute barrier() orders shared memory (OpControlBarrier with
 * WorkgroupMemory semantics): what CLK_LOCAL_MEM_FENCE asks for. */
#define CLK_LOCAL_MEM_FENCE 1
#define CLK_GLOBAL_MEM_FENCE 2
#define barrier(flags) barrier()

/* Built-ins under their GLSL names. */
#define fabs abs
#define rint roundEven

/* Conversions (value-converting, as OpenCL's non-saturating convert_*). */
uint convert_uint(float x) { return uint(x); }
uint convert_uint(int x) { return uint(x); }
uint convert_uint(uint x) { return x; }
int convert_int(float x) { return int(x); }
int convert_int(int x) { return x; }
int convert_int(uint x) { return int(x); }
float convert_float(float x) { return x; }
float convert_float(int x) { return float(x); }
float convert_float(uint x) { return float(x); }

/* Bit casts. */
uint as_uint(float x) { return floatBitsToUint(x); }
uint as_uint(int x) { return uint(x); }
uint as_uint(uint x) { return x; }
int as_int(float x) { return floatBitsToInt(x); }
int as_int(uint x) { return int(x); }
int as_int(int x) { return x; }
float as_float(uint x) { return uintBitsToFloat(x); }
float as_float(int x) { return intBitsToFloat(x); }
float as_float(float x) { return x; }

/* ACT_KERNEL: see the header comment. */
#define ACT_GL_IN(T, name)                                                    \
  layout(std430, binding = act_gl_slot) readonly buffer act_gl_b_##name {     \
    T name[];                                                                 \
  };
#define ACT_GL_OUT(T, name)                                                   \
  layout(std430, binding = act_gl_slot) buffer act_gl_b_##name { T name[]; };
#define ACT_GL_LOCAL(T, name, count) shared T name[count];
#define ACT_GL_SCALAR(T, name) T name;
#define ACT_GL_NONE2(T, name)
#define ACT_GL_NONE3(T, name, count)
#define ACT_GL_SEP()
#define ACT_KERNEL(name, ARGS)                                                \
  act_gl_kernel name                                                          \
  ARGS(ACT_GL_IN, ACT_GL_OUT, ACT_GL_LOCAL, ACT_GL_NONE2, ACT_GL_SEP)          \
  layout(push_constant) uniform act_gl_args_##name {                          \
    ARGS(ACT_GL_NONE2, ACT_GL_NONE2, ACT_GL_NONE3, ACT_GL_SCALAR, ACT_GL_SEP) \
  };                                                                          \
  void main()

/* Half-precision bits (low 16 bits of h) to float, exactly. */
float act_f16_value(uint h) {
  uint s = (h & 0x8000u) << 16;
  uint e = (h >> 10) & 0x1fu;
  uint m = h & 0x3ffu;
  if (e == 0x1fu)
    return uintBitsToFloat(s | 0x7f800000u | (m << 13));
  if (e == 0u) {
    float v = float(m) * 5.9604644775390625e-8f; /* m * 2^-24, exact */
    return s != 0u ? -v : v;
  }
  return uintBitsToFloat(s | ((e + 112u) << 23) | (m << 13));
}

/* float to half-precision bits, rounding to nearest even; NaN stays a
 * quiet NaN, overflow gives inf. */
uint act_f16_bits(float v) {
  uint u = floatBitsToUint(v);
  uint s = (u >> 16) & 0x8000u;
  uint a = u & 0x7fffffffu;
  if (a > 0x7f800000u)
    return s | 0x7e00u | ((a >> 13) & 0x3ffu);
  if (a >= 0x477ff000u) /* 65520 and above round to inf */
    return s | 0x7c00u;
  if (a >= 0x38800000u) { /* a normal half: rebias, round the mantissa */
    uint r = a - 0x38000000u;
    return s | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13);
  }
  /* denormal half or zero: a multiple of 2^-24 below 2^-14; the scaling
   * is exact, so roundEven rounds once */
  return s | uint(roundEven(uintBitsToFloat(a) * 16777216.0f));
}

/* bf16 bits to float (exact) and float to bf16 bits (nearest even; NaN
 * stays a quiet NaN). */
float act_bf16_value(uint h) { return uintBitsToFloat((h & 0xffffu) << 16); }
uint act_bf16_bits(float v) {
  uint u = floatBitsToUint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (u >> 16) | 0x40u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/* The 16-bit half of word w that holds element i. */
#define ACT_GL_HALF(w, i) ((w) >> (((i) & 1u) << 4))
/* Writes the 16 bits b into element i's half of the word array p. */
#define ACT_GL_STORE16(p, i, b)                                               \
  do {                                                                        \
    uint act_gl_i = (i);                                                      \
    uint act_gl_sh = (act_gl_i & 1u) << 4;                                    \
    uint act_gl_v = (b) << act_gl_sh;                                         \
    atomicAnd(p[act_gl_i >> 1], act_gl_v | ~(0xffffu << act_gl_sh));          \
    atomicOr(p[act_gl_i >> 1], act_gl_v);                                     \
  } while (false)

/* A 16-bit element's value from the low 16 bits of h, and its bits from
 * v, for dtypes 1 and 2 (act_eltwise4; as act_prelude_opencl.cl). */
#if ACT_DTYPE == 1
#define ACT_H_VALUE(h) act_f16_value(h)
#define ACT_H_BITS(v) act_f16_bits(v)
#elif ACT_DTYPE == 2
#define ACT_H_VALUE(h) act_bf16_value(h)
#define ACT_H_BITS(v) act_bf16_bits(v)
#endif

#if ACT_DTYPE == 0
#define STYPE float
#define LOAD(p, i) ((p)[i])
#define STORE(p, i, v) ((p)[i] = (v))
#elif ACT_STORAGE16 && (ACT_DTYPE == 1 || ACT_DTYPE == 2)
/* Native 16-bit storage (GL_EXT_shader_16bit_storage): one uint16_t per
 * element, converted with the same exact routines as the packed path. */
#define STYPE uint16_t
#if ACT_DTYPE == 1
#define LOAD(p, i) act_f16_value(uint((p)[i]))
#define STORE(p, i, v) ((p)[i] = uint16_t(act_f16_bits(v)))
#else
#define LOAD(p, i) act_bf16_value(uint((p)[i]))
#define STORE(p, i, v) ((p)[i] = uint16_t(act_bf16_bits(v)))
#endif
#elif ACT_DTYPE == 1
#define STYPE uint
#define LOAD(p, i) act_f16_value(ACT_GL_HALF((p)[(i) >> 1], (i)))
#define STORE(p, i, v) ACT_GL_STORE16(p, i, act_f16_bits(v))
#elif ACT_DTYPE == 2
#define STYPE uint
#define LOAD(p, i) act_bf16_value(ACT_GL_HALF((p)[(i) >> 1], (i)))
#define STORE(p, i, v) ACT_GL_STORE16(p, i, act_bf16_bits(v))
#elif ACT_DTYPE == 3
/* i32 storage (one_hot's integer output): values are small integers. */
#define STYPE int
#define LOAD(p, i) float((p)[i])
#define STORE(p, i, v) ((p)[i] = int(v))
#else
#error "ACT_DTYPE must be 0 (f32), 1 (f16), 2 (bf16) or 3 (i32)"
#endif

/* Byte i of a u8 buffer (masks), declared IN(uchar, w): words here. */
#define LOADU8(w, i) (((w)[(i) >> 2] >> (((i) & 3u) << 3)) & 0xffu)
