/* loops.h - the plain C loops of bench_ops (loops.c, compiled twice). */
#ifndef BENCH_LOOPS_H
#define BENCH_LOOPS_H

#define LOOPS_SOFTMAX_ROW 1024L

typedef struct loops_fn {
  const char *name; /* the bench's op name */
  void (*run)(const float *x, float *y, long n);
} loops_fn_t;

/* NULL-terminated: -O3 and -O3 -ffast-math builds of the same loops. */
extern const loops_fn_t loops_o3_table[];
extern const loops_fn_t loops_fast_table[];
/* SLEEF's u10 functions composed into the ops (sleef.c; where built). */
extern const loops_fn_t loops_sleef_table[];

#endif
