#!/usr/bin/env bash
# Sets everything up and runs the main job: installs the Debian packages,
# builds, lists the devices, verifies the best device against the
# reference (docs/accuracy.md), and runs a few ops on it.
# Usage: scripts/demo.sh [--no-deps] [--device D]
set -euo pipefail
cd "$(dirname "$0")/.."
deps=1 device=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --no-deps) deps=0 ;;
    --device) device="$2"; shift ;;
    *) echo "usage: scripts/demo.sh [--no-deps] [--device D]" >&2; exit 2 ;;
  esac
  shift
done
[ "$deps" = 1 ] && scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target actc
actc=build/actc
echo "== devices"; $actc devices
echo "== verify on $device"; $actc verify --device "$device"
echo "== gelu on $device"
$actc run gelu --device "$device" --values -3,-1,0,1,3
echo "== softmax over the last axis of a 2x3 tensor"
$actc run softmax --device "$device" --shape 2,3 --values 1,2,3,-1,0,1
echo "== a custom activation (examples/custom_swish.cl) on $device"
$actc run swish_beta --custom examples/custom_swish.cl --device "$device" \
  --param beta=2 --values -1,0,1
$actc verify --custom examples/custom_swish.cl --device "$device"
echo "== a plain function, its gradient derived (examples/custom_plain.cl) on $device"
$actc run penalized_tanh --custom examples/custom_plain.cl --device "$device" \
  --param a=0.25 --values -1,0,0.5
$actc run penalized_tanh --custom examples/custom_plain.cl --device "$device" \
  --param a=0.25 --backward --values -1,0,0.5 --dy 1,1,1
