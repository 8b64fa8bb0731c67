/*
 * gemm.cl - the dense layer: y = act(x W + b), optionally z = x W + b.
 *
 * Needs: -D ACT_OP=<an element-wise act_op_t; linear for no activation>
 * -D ACT_DTYPE=0|1|2, the ACT_OP_<NAME> defines, act_prelude_*.cl,
 * act_math.cl, act_common.cl and act_ops.cl (act_op) before it (the
 * runtime assembles them: README.md).
 *
 * act_gemm: a work-group of 16 x 16 work-items computes a 64 x 64 tile of
 * the output; each work-item a 4 x 4 block of it (rows ty + 16 i, columns
 * tx + 16 j, so that neighbouring work-items read neighbouring local
 * words). K is walked in steps of 16: each step stages a 64 x 16 slice of
 * x and a 16 x 64 slice of W in local memory (k-major, zero-padded past
 * the edges of the matrices, so M, N and K need not be multiples of
 * anything), then every work-item accumulates its 16 outputs with fma in
 * f32. The bias and the activation are applied on the way out, before
 * the single store of y (and of z when asked): see the epilogue.
 * Products are accumulated in f32 whatever the storage type; fused or not
 * (Vulkan's fma need not be),
 * the error of each output is within gamma(K + 1) of sum |x w| + |b|
 * (actkit.h, act_dense). Work-items whose rows are all past M skip the
 * arithmetic (skinny M, inference batches).
 *
 * act_dense_epilogue: the bias + activation pass after a vendor GEMM
 * (CLBlast, OpenCL only) wrote x W into y, or into z when z is asked for:
 * one element per work-item, in place.
 */

#define ACT_GEMM_WG 16u   /* work-items per side of a work-group */
#define ACT_GEMM_TILE 64u /* outputs per side of a work-group's tile */
#define ACT_GEMM_KS 16u   /* K per step */

/* flags: bit 0 W is [N, K] (transposed), bit 1 a bias, bit 2 write z. */
#define ACT_GEMM_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                             \
  IN(STYPE, x) SEP() IN(STYPE, w) SEP() IN(STYPE, bias) SEP()                 \
  OUT(STYPE, y) SEP() OUT(STYPE, z) SEP()                                     \
  LOCAL(float, xs, 1024) SEP() LOCAL(float, ws, 1024) SEP()                   \
  SCALAR(uint, rows) SEP() SCALAR(uint, cols) SEP() SCALAR(uint, depth) SEP() \
  SCALAR(uint, xoff) SEP() SCALAR(uint, woff) SEP() SCALAR(uint, boff) SEP()  \
  SCALAR(uint, yoff) SEP() SCALAR(uint, zoff) SEP() SCALAR(uint, flags) SEP() \
  SCALAR(float, p0h) SEP() SCALAR(float, p0l) SEP()                           \
  SCALAR(float, p1h) SEP() SCALAR(float, p1l) SEP()                           \
  SCALAR(float, p2h) SEP() SCALAR(float, p2l) SEP()                           \
  SCALAR(float, p3h) SEP() SCALAR(float, p3l)

/* The kernel is written as straight-line code (these macros, expanded a
 * fixed number of times) rather than loops inside a work-item: PoCL
 * vectorizes across work-items only the code outside a work-item's own
 * loops, and accumulators indexed by constants stay in registers. */

/* Element e (0..3) of this work-item's share of the x slice and of the W
 * slice of step k0: consecutive work-items read consecutive elements of a
 * row of memory. */
#define ACT_GEMM_LOADX(e)                                                     \
  do {                                                                        \
    uint idx = lid + (e) * 256u;                                              \
    uint r = idx / ACT_GEMM_KS, kk = idx % ACT_GEMM_KS;                       \
    uint gr = row0 + r, gk = k0 + kk;                                         \
    float v = 0.0f;                                                           \
    if (gr < rows && gk < depth)                                              \
      v = LOAD(x, xoff + gr * depth + gk);                                    \
    xs[kk * ACT_GEMM_TILE + r] = v;                                           \
  } while (false)
#define ACT_GEMM_LOADW(e)                                                     \
  do {                                                                        \
    uint idx = lid + (e) * 256u;                                              \
    uint c = tw ? idx / ACT_GEMM_KS : idx % ACT_GEMM_TILE;                    \
    uint kk = tw ? idx % ACT_GEMM_KS : idx / ACT_GEMM_TILE;                   \
    uint gc = col0 + c, gk = k0 + kk;                                         \
    float v = 0.0f;                                                           \
    if (gc < cols && gk < depth)                                              \
      v = tw ? LOAD(w, woff + gc * depth + gk)                                \
             : LOAD(w, woff + gk * cols + gc);                                \
    ws[kk * ACT_GEMM_TILE + c] = v;                                           \
  } while (false)

/* One k of the staged slices: the 4 x 4 outer product into acc. */
#define ACT_GEMM_STEP(kk)                                                     \
  do {                                                                        \
    uint xb = (kk) * ACT_GEMM_TILE + ty, wb = (kk) * ACT_GEMM_TILE + tx;      \
    float a0 = xs[xb], a1 = xs[xb + 16u], a2 = xs[xb + 32u];                  \
    float a3 = xs[xb + 48u];                                                  \
    float b0 = ws[wb], b1 = ws[wb + 16u], b2 = ws[wb + 32u];                  \
    float b3 = ws[wb + 48u];                                                  \
    acc[0] = fma(a0, b0, acc[0]), acc[1] = fma(a0, b1, acc[1]);               \
    acc[2] = fma(a0, b2, acc[2]), acc[3] = fma(a0, b3, acc[3]);               \
    acc[4] = fma(a1, b0, acc[4]), acc[5] = fma(a1, b1, acc[5]);               \
    acc[6] = fma(a1, b2, acc[6]), acc[7] = fma(a1, b3, acc[7]);               \
    acc[8] = fma(a2, b0, acc[8]), acc[9] = fma(a2, b1, acc[9]);               \
    acc[10] = fma(a2, b2, acc[10]), acc[11] = fma(a2, b3, acc[11]);           \
    acc[12] = fma(a3, b0, acc[12]), acc[13] = fma(a3, b1, acc[13]);           \
    acc[14] = fma(a3, b2, acc[14]), acc[15] = fma(a3, b3, acc[15]);           \
  } while (false)

/* Output e (0..3) of this work-item in the staged 16 rows i of the tile:
 * bias, z, activation, store. */
#define ACT_GEMM_OUT(e)                                                       \
  do {                                                                        \
    uint idx = lid + (e) * 256u;                                              \
    uint r = row0 + i * ACT_GEMM_WG + idx / ACT_GEMM_TILE;                    \
    uint c = col0 + idx % ACT_GEMM_TILE;                                      \
    if (r < rows && c < cols) {                                               \
      float v = xs[idx];                                                      \
      if ((flags & 2u) != 0u)                                                 \
        v = v + LOAD(bias, boff + c);                                         \
      if ((flags & 4u) != 0u)                                                 \
        STORE(z, zoff + r * cols + c, v);                                     \
      STORE(y, yoff + r * cols + c, v != v ? v : act_op(v, p0, p1, p2, p3));  \
    }                                                                         \
  } while (false)

ACT_KERNEL(act_gemm, ACT_GEMM_ARGS) {
  float2 p0 = am_f2(p0h, p0l), p1 = am_f2(p1h, p1l);
  float2 p2 = am_f2(p2h, p2l), p3 = am_f2(p3h, p3l);
  uint tx = convert_uint(get_local_id(0));
  uint ty = convert_uint(get_local_id(1));
  uint col0 = convert_uint(get_group_id(0)) * ACT_GEMM_TILE;
  uint row0 = convert_uint(get_group_id(1)) * ACT_GEMM_TILE;
  uint lid = ty * ACT_GEMM_WG + tx;
  bool tw = (flags & 1u) != 0u;
  /* Rows past M compute nothing (skinny M: most of the tile). Row ty is
   * this work-item's first; ty is uniform along a SIMD row of work-items. */
  bool busy = row0 + ty < rows;
  float acc[16];
  acc[0] = 0.0f, acc[1] = 0.0f, acc[2] = 0.0f, acc[3] = 0.0f;
  acc[4] = 0.0f, acc[5] = 0.0f, acc[6] = 0.0f, acc[7] = 0.0f;
  acc[8] = 0.0f, acc[9] = 0.0f, acc[10] = 0.0f, acc[11] = 0.0f;
  acc[12] = 0.0f, acc[13] = 0.0f, acc[14] = 0.0f, acc[15] = 0.0f;
  for (uint k0 = 0u; k0 < depth; k0 += ACT_GEMM_KS) {
    /* Stage x[row0 .. +64, k0 .. +16] and W[k0 .. +16, col0 .. +64],
     * 1024 elements each, 4 per work-item. */
    ACT_GEMM_LOADX(0u);
    ACT_GEMM_LOADX(1u);
    ACT_GEMM_LOADX(2u);
    ACT_GEMM_LOADX(3u);
    ACT_GEMM_LOADW(0u);
    ACT_GEMM_LOADW(1u);
    ACT_GEMM_LOADW(2u);
    ACT_GEMM_LOADW(3u);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (busy) {
      ACT_GEMM_STEP(0u);
      ACT_GEMM_STEP(1u);
      ACT_GEMM_STEP(2u);
      ACT_GEMM_STEP(3u);
      ACT_GEMM_STEP(4u);
      ACT_GEMM_STEP(5u);
      ACT_GEMM_STEP(6u);
      ACT_GEMM_STEP(7u);
      ACT_GEMM_STEP(8u);
      ACT_GEMM_STEP(9u);
      ACT_GEMM_STEP(10u);
      ACT_GEMM_STEP(11u);
      ACT_GEMM_STEP(12u);
      ACT_GEMM_STEP(13u);
      ACT_GEMM_STEP(14u);
      ACT_GEMM_STEP(15u);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  /* The epilogue, 16 rows of the tile at a time: the accumulators go to
   * local memory (xs, free now) and come back one element per work-item
   * and step, in row order, for the bias, z, the activation and the
   * single store of y. So act_op is expanded four times, not sixteen,
   * and acc is only indexed by constants (a dynamic index would put it
   * in memory on some compilers). */
  for (uint i = 0u; i < 4u; i++) {
    float s0 = i == 0u ? acc[0] : (i == 1u ? acc[4] : (i == 2u ? acc[8] : acc[12]));
    float s1 = i == 0u ? acc[1] : (i == 1u ? acc[5] : (i == 2u ? acc[9] : acc[13]));
    float s2 = i == 0u ? acc[2] : (i == 1u ? acc[6] : (i == 2u ? acc[10] : acc[14]));
    float s3 = i == 0u ? acc[3] : (i == 1u ? acc[7] : (i == 2u ? acc[11] : acc[15]));
    uint base = ty * ACT_GEMM_TILE + tx;
    xs[base] = s0;
    xs[base + ACT_GEMM_WG] = s1;
    xs[base + 2u * ACT_GEMM_WG] = s2;
    xs[base + 3u * ACT_GEMM_WG] = s3;
    barrier(CLK_LOCAL_MEM_FENCE);
    ACT_GEMM_OUT(0u);
    ACT_GEMM_OUT(1u);
    ACT_GEMM_OUT(2u);
    ACT_GEMM_OUT(3u);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
}

/* flags: bit 1 a bias, bit 2 the GEMM wrote z (read it, write it back
 * with the bias); else it wrote y. */
#define ACT_DENSE_EPILOGUE_ARGS(IN, OUT, LOCAL, SCALAR, SEP)                   \
  IN(STYPE, bias) SEP() OUT(STYPE, y) SEP() OUT(STYPE, z) SEP()               \
  SCALAR(uint, count) SEP() SCALAR(uint, cols) SEP() SCALAR(uint, boff) SEP() \
  SCALAR(uint, yoff) SEP() SCALAR(uint, zoff) SEP() SCALAR(uint, flags) SEP() \
  SCALAR(float, p0h) SEP() SCALAR(float, p0l) SEP()                           \
  SCALAR(float, p1h) SEP() SCALAR(float, p1l) SEP()                           \
  SCALAR(float, p2h) SEP() SCALAR(float, p2l) SEP()                           \
  SCALAR(float, p3h) SEP() SCALAR(float, p3l)

#define ACT_DENSE_EPILOGUE_ONE(i)                                             \
  {                                                                           \
    bool wz = (flags & 4u) != 0u;                                             \
    float v = wz ? LOAD(z, zoff + (i)) : LOAD(y, yoff + (i));                 \
    if ((flags & 2u) != 0u)                                                   \
      v = v + LOAD(bias, boff + (i) % cols);                                  \
    if (wz)                                                                   \
      STORE(z, zoff + (i), v);                                                \
    STORE(y, yoff + (i), v != v ? v : act_op(v, p0, p1, p2, p3));             \
  }
ACT_KERNEL(act_dense_epilogue, ACT_DENSE_EPILOGUE_ARGS) {
  float2 p0 = am_f2(p0h, p0l), p1 = am_f2(p1h, p1l);
  float2 p2 = am_f2(p2h, p2l), p3 = am_f2(p3h, p3l);
  ACT_ITEMS(count, ACT_DENSE_EPILOGUE_ONE)
}
