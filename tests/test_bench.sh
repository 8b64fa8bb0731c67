#!/usr/bin/env bash
# bench/bench_ops builds, runs, and prints its table: every contestant
# (the C loops, oneDNN when built in, each OpenCL/Vulkan device) gives a
# figure for every op, and the ratio table follows. Speed itself is not
# asserted (bench/RESULTS.md records it).
set -euo pipefail
bench="$1"
out=$("$bench" --n 4096 --reps 1 copy relu sigmoid gelu softmax 2>&1) || {
  echo "$out"; echo "FAIL: bench_ops exited with an error"; exit 1; }
echo "$out"
grep -q "ratios at n = 4096" <<<"$out" || { echo "FAIL: no ratio table"; exit 1; }
# The Gelem/s table: 5 op rows, none with a missing figure ("-").
rows=$(awk '/Gelem\/s$/{t=1; getline; next} /^$/{t=0} t' <<<"$out")
[ "$(wc -l <<<"$rows")" -eq 5 ] || { echo "FAIL: expected 5 op rows"; exit 1; }
if grep -qE '(^| )-( |$)' <<<"$rows"; then
  echo "FAIL: a contestant gave no figure"; exit 1
fi
IFS=, read -ra want <<<"${ACTKIT_REQUIRE_BACKENDS:-}"
for b in "${want[@]}"; do
  [ -z "$b" ] && continue
  grep -q "^$b:0 " <<<"$out" || { echo "FAIL: no $b device in the bench"; exit 1; }
done
echo "PASS"
