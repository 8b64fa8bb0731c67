/*
 * cache.c - the on-disk program cache (docs/runtime.md).
 *
 * Where: $ACTKIT_CACHE_DIR, else $XDG_CACHE_HOME/actkit, else
 * ~/.cache/actkit. ACTKIT_CACHE_DIR=off disables it.
 *
 * Key: a 128-bit hash of everything that determines the compiled bytes:
 * the cache format version, the library version, the backend, the device
 * name, the driver version (and, for Vulkan, the pipelineCacheUUID), the
 * kernel file name, its full assembled source and the build options. A new
 * driver or a changed kernel gives a new key, so a stale binary is never
 * looked up, let alone loaded.
 *
 * File: <dir>/<backend>-<32 hex digits of the key>.bin, holding
 *   magic "ACTKCACH" | u32 format version | u32 reserved |
 *   u64 key[2] | u64 payload size | payload | u64 checksum
 * little-endian, the checksum an FNV-1a hash of everything before it. A
 * file whose magic, version, key, size or checksum does not match is a
 * miss: it is ignored, and the next store replaces it.
 *
 * Concurrency: a store writes <name>.tmp.<pid>.<counter> and renames it
 * over the final name, which is atomic on POSIX file systems: readers see
 * the old file or the new one, never a part. Two processes filling the
 * same entry both succeed; the last rename wins with identical bytes.
 * Failures to create the directory or write a file are not errors: the
 * cache is an optimisation, so they only cost a rebuild next time.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACT_CACHE_MAGIC "ACTKCACH"
#define ACT_CACHE_FORMAT 1u
#define ACT_CACHE_HEADER 40 /* magic 8, version 4, reserved 4, key 16, size 8 */

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

void act__cache_key(const char *const *parts, size_t nparts,
                    uint64_t key[2]) {
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  uint32_t fmt = ACT_CACHE_FORMAT;
  a = fnv1a(a, &fmt, sizeof fmt);
  b = fnv1a(b, "actkit-cache", 12);
  for (size_t i = 0; i < nparts; i++) {
    const char *s = parts[i] ? parts[i] : "";
    size_t n = strlen(s);
    /* Length first, so that ("ab","c") and ("a","bc") differ. */
    a = fnv1a(a, &n, sizeof n);
    a = fnv1a(a, s, n);
    b = fnv1a(b, s, n);
    b = fnv1a(b, &n, sizeof n);
    b ^= b >> 29;
  }
  key[0] = a;
  key[1] = b;
}

/* The cache directory, or false when disabled or unknown. */
bool act__cache_dir(char *buf, size_t n) {
  const char *env = getenv("ACTKIT_CACHE_DIR");
  if (env && *env) {
    if (strcmp(env, "off") == 0)
      return false;
    return (size_t)snprintf(buf, n, "%s", env) < n;
  }
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg && *xdg)
    return (size_t)snprintf(buf, n, "%s/actkit", xdg) < n;
  const char *home = getenv("HOME");
  if (home && *home)
    return (size_t)snprintf(buf, n, "%s/.cache/actkit", home) < n;
  return false;
}

/* mkdir -p for the cache directory. */
static bool make_dirs(const char *dir) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s", dir) >= sizeof path)
    return false;
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
      return false;
    *p = '/';
  }
  return mkdir(path, 0755) == 0 || errno == EEXIST;
}

static bool entry_path(const char *backend, const uint64_t key[2], char *buf,
                       size_t n) {
  char dir[4000];
  if (!act__cache_dir(dir, sizeof dir))
    return false;
  return (size_t)snprintf(buf, n, "%s/%s-%016llx%016llx.bin", dir, backend,
                          (unsigned long long)key[0],
                          (unsigned long long)key[1]) < n;
}

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}
static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

bool act__cache_load(const char *backend, const uint64_t key[2], void **data,
                     size_t *size) {
  char path[4096];
  if (!entry_path(backend, key, path, sizeof path))
    return false;
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  unsigned char head[ACT_CACHE_HEADER], tail[8];
  void *payload = NULL;
  bool ok = fread(head, 1, sizeof head, f) == sizeof head &&
            memcmp(head, ACT_CACHE_MAGIC, 8) == 0 &&
            get_u32(head + 8) == ACT_CACHE_FORMAT &&
            get_u64(head + 16) == key[0] && get_u64(head + 24) == key[1];
  uint64_t n = ok ? get_u64(head + 32) : 0;
  ok = ok && n > 0 && n < ((uint64_t)1 << 31);
  if (ok) {
    struct stat stt;
    /* The size must match the file exactly: no truncation, no tail. */
    ok = fstat(fileno(f), &stt) == 0 &&
         (uint64_t)stt.st_size == ACT_CACHE_HEADER + n + 8;
  }
  if (ok) {
    payload = malloc((size_t)n);
    ok = payload && fread(payload, 1, (size_t)n, f) == n &&
         fread(tail, 1, 8, f) == 8;
  }
  if (ok) {
    uint64_t h = fnv1a(0xcbf29ce484222325ull, head, sizeof head);
    h = fnv1a(h, payload, (size_t)n);
    ok = get_u64(tail) == h;
  }
  fclose(f);
  if (!ok) {
    free(payload);
    return false;
  }
  *data = payload;
  *size = (size_t)n;
  return true;
}

void act__cache_store(const char *backend, const uint64_t key[2],
                      const void *data, size_t size) {
  static atomic_uint counter;
  char path[4096], tmp[4200], dir[4000];
  if (!size || !act__cache_dir(dir, sizeof dir) || !make_dirs(dir) ||
      !entry_path(backend, key, path, sizeof path))
    return;
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(),
           atomic_fetch_add(&counter, 1));
  unsigned char head[ACT_CACHE_HEADER], tail[8];
  memcpy(head, ACT_CACHE_MAGIC, 8);
  put_u32(head + 8, ACT_CACHE_FORMAT);
  put_u32(head + 12, 0);
  put_u64(head + 16, key[0]);
  put_u64(head + 24, key[1]);
  put_u64(head + 32, size);
  uint64_t h = fnv1a(0xcbf29ce484222325ull, head, sizeof head);
  put_u64(tail, fnv1a(h, data, size));
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return;
  bool ok = fwrite(head, 1, sizeof head, f) == sizeof head &&
            fwrite(data, 1, size, f) == size && fwrite(tail, 1, 8, f) == 8;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0)
    remove(tmp);
}

/* An actkit cache file name: <backend>-<32 hex>.bin, or its temporary. */
static bool is_cache_file(const char *name) {
  const char *dash = strchr(name, '-');
  if (!dash || dash == name)
    return false;
  for (const char *p = name; p < dash; p++)
    if (*p < 'a' || *p > 'z')
      return false;
  const char *h = dash + 1;
  for (int i = 0; i < 32; i++)
    if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
      return false;
  return strncmp(h + 32, ".bin", 4) == 0 &&
         (h[36] == '\0' || strncmp(h + 36, ".tmp.", 5) == 0);
}

act_status_t act_cache_path(char *buf, size_t size) {
  act__clear_error();
  if (!buf)
    return act__fail(ACT_NULL_POINTER, "act_cache_path: buf is NULL");
  char dir[4096];
  if (!act__cache_dir(dir, sizeof dir))
    dir[0] = '\0';
  if (strlen(dir) + 1 > size)
    return act__fail(ACT_INVALID_ARGUMENT, "act_cache_path: %zu bytes are "
                     "too few for '%s'", size, dir);
  memcpy(buf, dir, strlen(dir) + 1);
  return ACT_OK;
}

act_status_t act_cache_clear(size_t *removed) {
  act__clear_error();
  char dir[4096], path[4400];
  size_t n = 0;
  if (removed)
    *removed = 0;
  if (!act__cache_dir(dir, sizeof dir))
    return ACT_OK;
  DIR *d = opendir(dir);
  if (!d)
    return ACT_OK; /* nothing cached yet */
  struct dirent *e;
  act_status_t st = ACT_OK;
  while ((e = readdir(d))) {
    if (!is_cache_file(e->d_name))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (remove(path) == 0)
      n++;
    else if (errno != ENOENT)
      st = act__fail(ACT_IO, "act_cache_clear: cannot remove %s: %s", path,
                     strerror(errno));
  }
  closedir(d);
  if (removed)
    *removed = n;
  return st;
}
