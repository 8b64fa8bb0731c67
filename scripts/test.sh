#!/usr/bin/env bash
# Sets everything up and runs the tests: installs the Debian packages,
# builds (normal, and AddressSanitizer + UBSan without CLBlast), runs ctest
# on both, then test_custom in a build without glslang, then the Python
# package's tests (pip install . in a fresh virtual environment, pytest).
# Usage: scripts/test.sh [--no-deps] [--no-asan] [--no-python]
set -euo pipefail
cd "$(dirname "$0")/.."
deps=1 asan=1 python=1
for a in "$@"; do
  case "$a" in
    --no-deps) deps=0 ;;
    --no-asan) asan=0 ;;
    --no-python) python=0 ;;
    *) echo "usage: scripts/test.sh [--no-deps] [--no-asan] [--no-python]" >&2; exit 2 ;;
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
# The Python package (docs/python.md): pip builds the library with CMake
# (scikit-build-core, from PyPI) into a fresh virtual environment; pytest
# checks it against double-precision formulas, and against jax.nn when jax
# could be installed (its test is skipped, and says so, otherwise).
if [ "$python" = 1 ]; then
  py=${PYTHON:-python3}
  rm -rf build-py/venv
  "$py" -m venv build-py/venv
  build-py/venv/bin/pip install -q --disable-pip-version-check numpy pytest ml_dtypes
  build-py/venv/bin/pip install -q --disable-pip-version-check jax ||
    echo "test.sh: jax could not be installed; the jax.nn comparison is skipped"
  build-py/venv/bin/pip install -q --disable-pip-version-check .
  (cd build-py && venv/bin/python -m pytest -q -rs ../python/tests)
fi
