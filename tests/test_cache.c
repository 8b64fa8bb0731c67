/*
 * test_cache.c - the on-disk program cache (docs/runtime.md), on every device whose
 * backend keeps compiled programs on disk.
 *
 * With ACTKIT_CACHE_DIR pointing at a fresh directory: a first context
 * builds from source and writes cache files; a second context (as a new
 * process would) builds nothing and loads everything. Then every file is
 * damaged in turn - truncated, a byte flipped, garbage appended, replaced
 * by another entry's file (a foreign key, as after a driver update),
 * replaced by garbage - and each time the result stays right, the damaged
 * entry is rebuilt, and the file is replaced by a good one. An unwritable
 * cache location and ACTKIT_CACHE_DIR=off build from source and still give
 * right results.
 */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

/* Runs gelu over a few values on device `dev`, checks against the
 * reference, and returns the context's statistics. */
static act_context_stats_t run_once(const char *dev, const char *what) {
  act_context_stats_t stats = {0};
  act_context_t *ctx;
  act_status_t st = act_context_create(dev, &ctx);
  CHECK(st == ACT_OK, "%s: %s", what, act_last_error());
  if (st)
    return stats;
  float x[5] = {-3.0f, -0.5f, 0.0f, 0.5f, 3.0f}, y[5], r[5];
  act_op_desc_t *d;
  CHECK_OK(act_op_desc_create(ACT_OP_GELU, &d));
  int64_t dims[1] = {5};
  act_arg_t a[2] = {{ACT_ARG_X, act_tensor_make(ACT_F32, 1, dims, x)},
                    {ACT_ARG_Y, act_tensor_make(ACT_F32, 1, dims, y)}};
  st = act_forward_host(ctx, d, 2, a);
  CHECK(st == ACT_OK, "%s: %s", what, act_last_error());
  a[1].tensor.data = r;
  CHECK_OK(act_reference_forward(d, 2, a));
  for (int i = 0; i < 5 && !st; i++)
    CHECK(act_ulp_error(ACT_F32, y[i], r[i]) <= 2.0, "%s: gelu(%g) = %.9g, "
          "want %.9g", what, x[i], y[i], r[i]);
  CHECK_OK(act_context_get_stats(ctx, &stats));
  act_op_desc_destroy(d);
  act_context_destroy(ctx);
  return stats;
}

/* The cache files in dir (up to 16). */
static int list_files(char names[16][600]) {
  DIR *dp = opendir(dir);
  int n = 0;
  if (!dp)
    return 0;
  struct dirent *e;
  while ((e = readdir(dp)) && n < 16)
    if (strstr(e->d_name, ".bin") && !strstr(e->d_name, ".tmp."))
      snprintf(names[n++], 600, "%s/%s", dir, e->d_name);
  closedir(dp);
  return n;
}

static long file_size(const char *p) {
  struct stat s;
  return stat(p, &s) == 0 ? (long)s.st_size : -1;
}

typedef enum { TRUNCATE, FLIP, APPEND, GARBAGE, FOREIGN } damage_t;
static const char *const damage_names[] = {"truncated", "byte flipped",
                                           "garbage appended", "garbage",
                                           "foreign entry"};

static void damage(const char *path, damage_t how, const char *other) {
  long n = file_size(path);
  FILE *f;
  switch (how) {
  case TRUNCATE:
    CHECK(truncate(path, n / 2) == 0, "truncate %s", path);
    break;
  case FLIP:
    f = fopen(path, "r+b");
    CHECK(f != NULL, "open %s", path);
    if (f) {
      fseek(f, n / 2, SEEK_SET);
      int c = fgetc(f);
      fseek(f, n / 2, SEEK_SET);
      fputc(c ^ 0x5a, f);
      fclose(f);
    }
    break;
  case APPEND:
    f = fopen(path, "ab");
    if (f) {
      fputs("trailing junk", f);
      fclose(f);
    }
    break;
  case GARBAGE:
    f = fopen(path, "wb");
    if (f) {
      for (int i = 0; i < 1000; i++)
        fputc((i * 7919) & 0xff, f);
      fclose(f);
    }
    break;
  case FOREIGN: { /* another entry's bytes under this name */
    FILE *src = fopen(other, "rb"), *dst = fopen(path, "wb");
    int c;
    while (src && dst && (c = fgetc(src)) != EOF)
      fputc(c, dst);
    if (src)
      fclose(src);
    if (dst)
      fclose(dst);
    break;
  }
  }
}

/* A second process: `test_cache --child DEVICE` runs one op and exits
 * with status 0 when it built nothing (everything came from disk), 3 when
 * it had to build, 2 on error. */
static int child(const char *dev) {
  act_context_stats_t s = run_once(dev, "second process");
  if (act_test_failures)
    return 2;
  printf("second process on %s: built %llu, loaded %llu\n", dev,
         (unsigned long long)s.programs_built,
         (unsigned long long)s.programs_loaded);
  return s.programs_built == 0 && s.programs_loaded >= 1 ? 0 : 3;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--child") == 0)
    return child(argv[2]);
  size_t nd = act_device_count();
  int tested = 0;
  snprintf(dir, sizeof dir, "/tmp/actkit-test-cache-%ld", (long)getpid());
  for (size_t i = 0; i < nd; i++) {
    act_device_info_t info;
    CHECK_OK(act_device_get_info(i, &info));
    if (info.backend != ACT_BACKEND_OPENCL)
      continue; /* the backends with a program cache on disk */
    tested++;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    setenv("ACTKIT_CACHE_DIR", dir, 1);

    act_context_stats_t s1 = run_once(info.name, "cold cache");
    CHECK(s1.programs_built >= 1 && s1.programs_loaded == 0,
          "%s cold: built %llu, loaded %llu", info.name,
          (unsigned long long)s1.programs_built,
          (unsigned long long)s1.programs_loaded);
    char files[16][600];
    int nf = list_files(files);
    CHECK(nf >= 1, "%s: no cache file written in %s", info.name, dir);

    act_context_stats_t s2 = run_once(info.name, "warm cache");
    CHECK(s2.programs_built == 0 && s2.programs_loaded == s1.programs_built,
          "%s warm: built %llu, loaded %llu (want 0, %llu)", info.name,
          (unsigned long long)s2.programs_built,
          (unsigned long long)s2.programs_loaded,
          (unsigned long long)s1.programs_built);

    /* A new process: it builds nothing. */
    char childcmd[1024];
    snprintf(childcmd, sizeof childcmd, "'%s' --child %s", argv[0], info.name);
    int crc = system(childcmd);
    CHECK(crc == 0, "%s: a second process built programs again, or failed "
          "(status %d)", info.name, crc);

    /* Two processes filling an empty cache at once both succeed, and what
     * they leave behind is whole: a third process builds nothing. */
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    char pair[2300];
    snprintf(pair, sizeof pair, "%s & p=$!; %s; a=$?; wait $p; b=$?; "
             "[ $a -ne 2 ] && [ $b -ne 2 ]", childcmd, childcmd);
    CHECK(system(pair) == 0, "%s: two processes filling the cache at once: "
          "one failed", info.name);
    crc = system(childcmd);
    CHECK(crc == 0, "%s: after two concurrent fills, a third process built "
          "again (status %d)", info.name, crc);
    nf = list_files(files);

    /* A second entry, so that one can stand in for a foreign file. */
    char other[300] = "";
    if (nf >= 1) {
      snprintf(other, sizeof other, "%s/other.bin.orig", dir);
      FILE *src = fopen(files[0], "rb"), *dst = fopen(other, "wb");
      int c;
      while (src && dst && (c = fgetc(src)) != EOF)
        fputc(c, dst);
      if (src)
        fclose(src);
      if (dst)
        fclose(dst);
      /* Make it foreign: change its key bytes (offset 16). */
      FILE *f = fopen(other, "r+b");
      if (f) {
        fseek(f, 16, SEEK_SET);
        fputc(0xee, f);
        fclose(f);
      }
    }
    for (int how = TRUNCATE; how <= FOREIGN && nf >= 1; how++) {
      damage(files[0], (damage_t)how, other);
      act_context_stats_t s = run_once(info.name, damage_names[how]);
      CHECK(s.programs_built >= 1, "%s: a %s cache file was trusted",
            info.name, damage_names[how]);
      act_context_stats_t again = run_once(info.name, "after repair");
      CHECK(again.programs_built == 0, "%s: after a %s file, the repaired "
            "cache was not used", info.name, damage_names[how]);
    }

    /* Unwritable location: a path under a regular file. */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/other.bin.orig/sub", dir);
    setenv("ACTKIT_CACHE_DIR", bad, 1);
    act_context_stats_t s3 = run_once(info.name, "unwritable cache");
    CHECK(s3.programs_built >= 1, "%s: unwritable cache: nothing built",
          info.name);

    /* off: no files at all. */
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    setenv("ACTKIT_CACHE_DIR", "off", 1);
    act_context_stats_t s4 = run_once(info.name, "cache off");
    CHECK(s4.programs_built >= 1 && s4.programs_loaded == 0,
          "%s: cache off: built %llu loaded %llu", info.name,
          (unsigned long long)s4.programs_built,
          (unsigned long long)s4.programs_loaded);
    struct stat st;
    CHECK(stat(dir, &st) != 0, "%s: ACTKIT_CACHE_DIR=off still wrote %s",
          info.name, dir);
  }
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
  if (!tested) {
    printf("SKIP test_cache: no device with an on-disk program cache\n");
    return 77;
  }
  return act_test_finish("test_cache");
}
