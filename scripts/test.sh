#!/usr/bin/env bash
# Sets everything up and runs the tests: installs the Debian packages,
# builds (normal, and AddressSanitizer + UBSan without CLBlast), runs ctest
# on both, then test_custom in a build without glslang.
# Usage: scripts/test.sh [--no-deps] [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."
deps=1 asan=1
for a in "$@"; do
  case "$a" in
    --no-deps) deps=0 ;;
    --no-asan) asan=0 ;;
    *) echo "usage: scripts/test.sh [--no-deps] [--no-asan]" >&2; exit 2 ;;
  esac
done
[ "$deps" = 1 ] && scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
if [ "$asan" = 1 ]; then
  # The sanitizer build also checks the dense layer without CLBlast at
  # build time (our GEMM kernel on OpenCL too).
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DACTKIT_SANITIZE=ON \
    -DACTKIT_CLBLAST=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"
fi
# A build without glslang (an optional dependency of the library): custom
# ops on Vulkan must give a clear "not available in this build" error and
# everything else must work (test_custom checks both).
cmake -S . -B build-noglsl -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DACTKIT_WITH_GLSLANG=OFF -DACTKIT_BUILD_BENCH=OFF >/dev/null
cmake --build build-noglsl -j"$jobs" --target test_custom
ctest --test-dir build-noglsl --output-on-failure -R '^test_custom$'
