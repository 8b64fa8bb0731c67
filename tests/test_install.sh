#!/usr/bin/env bash
# test_install.sh BUILD_DIR SOURCE_DIR - installs actkit into a temporary
# prefix and builds the README's C example against it twice: through
# find_package(actkit) and through pkg-config. Then runs both.
set -eu
build="$1" src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
sed -n '/^```c/,/^```/p' "$src/README.md" | sed '1d;$d' >"$tmp/demo.c"
grep -q act_forward_host "$tmp/demo.c"
cmake -S "$src/tests/install" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DDEMO_C="$tmp/demo.c" >/dev/null
cmake --build "$tmp/cm" >/dev/null
cc -std=c11 "$tmp/demo.c" -o "$tmp/demo_pc" \
  $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib64/pkgconfig" pkg-config --cflags --libs actkit)
for exe in "$tmp/cm/demo" "$tmp/demo_pc"; do
  out=$(LD_LIBRARY_PATH="$tmp/prefix/lib:$tmp/prefix/lib64" ACTKIT_DEVICE=cpu "$exe")
  [ "$(echo "$out" | wc -l)" -eq 4 ] || { echo "bad output from $exe: $out"; exit 1; }
done
"$tmp/prefix/bin/actc" list relu >/dev/null
echo "test_install: 1 passed, 0 failed"
