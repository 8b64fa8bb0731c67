#!/usr/bin/env bash
# test_install.sh BUILD_DIR SOURCE_DIR - the installed package as a user
# meets it. Twice:
#  1. BUILD_DIR installed into a temporary prefix (its own libdir layout);
#  2. SOURCE_DIR configured afresh for a Debian-style /usr prefix (libdir
#     lib/<multiarch>) and installed under DESTDIR, so that every path in
#     the CMake package and the .pc file must be relative to where they
#     really are.
# Each time the README's C example is built four ways - find_package with
# actkit::actkit and with actkit::actkit_static, pkg-config shared and
# pkg-config --static - and run; the static builds must not need
# libactkit.so. Then the installed actc runs, and LICENSE and the docs are
# there.
set -eu
build="$1" src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -n '/^```c/,/^```/p' "$src/README.md" | sed '1d;$d' >"$tmp/demo.c"
grep -q act_forward_host "$tmp/demo.c"
pass=0

consumers() { # PREFIX LIBDIR TAG
  local prefix="$1" libdir="$2" tag="$3" out
  for lib in actkit::actkit actkit::actkit_static; do
    cmake -S "$src/tests/install" -B "$tmp/cm-$tag-${lib#*::}" \
      -DCMAKE_PREFIX_PATH="$prefix" -DDEMO_C="$tmp/demo.c" \
      -DACTKIT_LIB="$lib" >/dev/null
    cmake --build "$tmp/cm-$tag-${lib#*::}" >/dev/null
  done
  export PKG_CONFIG_PATH="$libdir/pkgconfig"
  pkg-config --exists actkit
  [ -f "$(pkg-config --variable=includedir actkit)/actkit.h" ] ||
    { echo "pkg-config's includedir has no actkit.h ($tag)"; exit 1; }
  cc -std=c11 "$tmp/demo.c" -o "$tmp/pc-shared-$tag" \
    $(pkg-config --cflags --libs actkit)
  cc -std=c11 "$tmp/demo.c" -o "$tmp/pc-static-$tag" \
    $(pkg-config --cflags actkit) -Wl,--as-needed \
    -Wl,-Bstatic -lactkit -Wl,-Bdynamic $(pkg-config --static --libs actkit)
  for exe in "$tmp/cm-$tag-actkit/demo" "$tmp/cm-$tag-actkit_static/demo" \
             "$tmp/pc-shared-$tag" "$tmp/pc-static-$tag"; do
    out=$(LD_LIBRARY_PATH="$libdir" ACTKIT_DEVICE=cpu "$exe")
    [ "$(echo "$out" | wc -l)" -eq 4 ] ||
      { echo "bad output from $exe: $out"; exit 1; }
    case "$exe" in
      *static*) if ldd "$exe" | grep -q libactkit; then
                  echo "$exe needs libactkit.so"; exit 1; fi ;;
    esac
    pass=$((pass + 1))
  done
  unset PKG_CONFIG_PATH
}

# 1. the build directory's own layout
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir1=$(dirname "$(find "$tmp/prefix" -name actkit.pc | head -n 1)")
consumers "$tmp/prefix" "$(dirname "$libdir1")" own
"$tmp/prefix/bin/actc" list relu >/dev/null
# The interop examples, as independent programs on the installed headers
# (actkit_opencl.h, actkit_vulkan.h) and their own API's loader; each runs
# on its own OpenCL queue / Vulkan device (77: no such device here).
for ex in opencl:OpenCL vulkan:vulkan; do
  name=${ex%%:*} lib=${ex#*:}
  pkg-config --exists "$lib" 2>/dev/null || [ -e "/usr/lib/x86_64-linux-gnu/lib$lib.so" ] || continue
  cc -std=c11 "$src/examples/interop_$name.c" -o "$tmp/interop_$name" \
    $(PKG_CONFIG_PATH="$libdir1" pkg-config --cflags --libs actkit) -l"$lib"
  rc=0
  LD_LIBRARY_PATH="$(dirname "$libdir1")" "$tmp/interop_$name" >/dev/null || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 77 ] || { echo "interop_$name failed ($rc)"; exit 1; }
  pass=$((pass + 1))
done

# 2. a /usr prefix with a multiarch libdir, installed under DESTDIR
cmake -S "$src" -B "$tmp/b2" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu \
  -DACTKIT_BUILD_TESTS=OFF -DACTKIT_BUILD_BENCH=OFF \
  -DACTKIT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$tmp/b2" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
DESTDIR="$tmp/root" cmake --install "$tmp/b2" >/dev/null
usr="$tmp/root/usr"
[ -f "$usr/lib/x86_64-linux-gnu/pkgconfig/actkit.pc" ] ||
  { echo "no multiarch actkit.pc"; exit 1; }
consumers "$usr" "$usr/lib/x86_64-linux-gnu" multiarch
for f in LICENSE CHANGELOG.md README.md accuracy.md ops.md; do
  [ -f "$usr/share/doc/actkit/$f" ] || { echo "no $f installed"; exit 1; }
done
# the shared library exports the public API only, versioned
if nm -D --defined-only "$usr/lib/x86_64-linux-gnu/libactkit.so" |
   awk '{print $3}' | grep -v '^act_[a-z]' | grep -v '^ACTKIT_0$' | grep -q .; then
  echo "libactkit.so exports more than act_*"; exit 1
fi
objdump -T "$usr/lib/x86_64-linux-gnu/libactkit.so" | grep -q 'ACTKIT_0 *act_version$' ||
  { echo "act_version is not versioned ACTKIT_0"; exit 1; }
echo "test_install: $pass passed, 0 failed"
