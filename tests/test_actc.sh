#!/usr/bin/env bash
# test_actc.sh ACTC - the command-line tool: help, list, devices, run (values,
# raw files, shapes, axes, params, presets, extra operands) and its errors.
set -u
actc="$1"
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect_out "EXPECTED" CMD... : stdout equals EXPECTED, exit 0
expect_out() {
  local want="$1"; shift
  local got
  got=$("$@" 2>"$tmp/err"); local rc=$?
  if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then ok; else
    bad "$* -> rc=$rc, got [$got], want [$want], stderr: $(cat "$tmp/err")"; fi
}
# expect_err RC PATTERN CMD... : exits RC and stderr matches PATTERN
expect_err() {
  local want_rc="$1" pat="$2"; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -eq "$want_rc" ] && grep -qE "$pat" "$tmp/err"; then ok; else
    bad "$* -> rc=$rc (want $want_rc), stderr [$(cat "$tmp/err")] !~ /$pat/"; fi
}

# Help everywhere.
for c in "" devices list run verify cache bench; do
  if $actc $c --help >"$tmp/h" 2>&1 && grep -q usage "$tmp/h"; then ok; else bad "actc $c --help"; fi
done
expect_err 2 "unknown command" $actc frobnicate

# list: every op of the catalogue and every alias, with defaults.
$actc list >"$tmp/list" || bad "actc list failed"
for op in relu relu6 leaky_relu prelu elu selu celu gelu silu sigmoid \
          log_sigmoid tanh hard_sigmoid hard_silu hard_tanh softplus softsign \
          mish squareplus sparse_plus sparse_sigmoid exp linear gelu_quick \
          hard_shrink soft_shrink tanh_shrink threshold clip softmax \
          log_softmax logsumexp softmin glu standardize one_hot \
          gelu_approx swish logistic hard_swish soft_sign exponential \
          identity clipped_relu; do
  if grep -qE "(^|[ ,(])$op([ ,)]|$)" "$tmp/list"; then ok; else bad "list lacks $op"; fi
done
grep -q "negative_slope = 0.01" "$tmp/list" && ok || bad "list lacks leaky default"
grep -q "num_classes (required)" "$tmp/list" && ok || bad "list lacks required mark"
expect_err 2 "unknown op 'nope'" $actc list nope

# devices: the reference is always there and auto picks something.
$actc devices >"$tmp/dev" && grep -q "^. cpu " "$tmp/dev" && grep -q '^\*' "$tmp/dev" && ok || bad "devices"

# run: values, shapes, params, presets, aliases.
expect_out $'0\n0\n0\n5\n10' $actc run relu --device cpu --values -10,-5,0,5,10
expect_out $'0\n0\n0\n0\n10' $actc run relu --device cpu --param threshold=5 --values -10,-5,0,5,10
expect_out $'0.200000003\n0.400000006' $actc run hard_sigmoid --device cpu --preset axon --values 0,1
expect_out $'0.25\n0.5' $actc run hard_sigmoid --device cpu --preset axon --param beta=0.25 --values 0,1.25
expect_out $'-0.158808008\n0.841192007' $actc run gelu_approx --device cpu --values -1,1
expect_out $'-0.268941432\n0.731058598' $actc run swish --device cpu --values -1,1
expect_out $'nan\ninf\n0' $actc run softplus --device cpu --values nan,inf,-inf
expect_out $'0.5\n0.5\n0.5\n0.5' $actc run softmax --device cpu --shape 2,2 --axis 0 --values 1,2,1,2
expect_out $'0\n1' $actc run softmax --device cpu --values 1,2 --where 0,1
expect_out $'3.40760589' $actc run logsumexp --device cpu --values 1,2,3 --axis all
expect_out $'-0.693147182\t-1' $actc run logsumexp --device cpu --values 0,0 --b 0.5,-1 --param return_sign=1 --axis all
expect_out $'0.731058598' $actc run glu --device cpu --values 1,1
expect_out $'0\n1\n0\n0' $actc run one_hot --device cpu --dtype i32 --param num_classes=2 --values 1,-1
expect_out $'-1\n-0.5' $actc run prelu --device cpu --shape 1,2 --alpha 1,0.5 --values -1,-1
expect_out $'1\n0.5\n0.5\n1' $actc run hard_tanh --device cpu --dtype bf16 --values 3,0.5,0.5,1
expect_out $'0.333251953' $actc run linear --device cpu --dtype f16 --values 0.33333333

# run --backward: dx for the given dy (docs/ops.md, "Gradients" kink conventions).
expect_out $'0\n0\n3' $actc run relu --backward --device cpu --values -1,0,2 --dy 3,3,3
expect_out $'0.25\n0' $actc run sigmoid --backward --device cpu --values 0,inf --dy 1,1
expect_out $'1\n1\n0' $actc run hard_tanh --backward --device cpu --values -1,1,1.5 --dy 1,1,1
expect_out $'1\n0.5' $actc run leaky_relu --backward --device cpu --param negative_slope=0.5 --values 0,-2 --dy 1,1
expect_out $'0.25\n-0.25' $actc run softmax --backward --device cpu --values 0,0 --dy 1,0
expect_out $'1\n1' $actc run logsumexp --backward --device cpu --values 0,0 --dy 2
expect_out $'0.5\n1\n2\n1\ndalpha:\n-2\n-3' $actc run prelu --backward --device cpu --shape 1,2,2 --alpha 0.5,2 --values -2,2,-3,4 --dy 1,1,1,1
printf '\x00\x00\x80\x3f' >"$tmp/dy.f32"   # 1
expect_out $'0.25' $actc run sigmoid --backward --device cpu --values 0 --dy-in "$tmp/dy.f32"
expect_err 2 "one_hot has no gradient" $actc run one_hot --backward --device cpu --param num_classes=2 --values 1 --dy 1,1
expect_err 2 "needs exactly one of --dy and --dy-in" $actc run relu --backward --device cpu --values 1
expect_err 2 "dy has 1 values" $actc run relu --backward --device cpu --values 1,2 --dy 1
expect_err 2 "go with --backward" $actc run relu --device cpu --values 1 --dy 1

# raw files: f32 in, f32 out, bytes preserved.
printf '\x00\x00\x80\xbf\x00\x00\x80\x3f' >"$tmp/in.f32"   # -1, 1
$actc run relu --device cpu --in "$tmp/in.f32" --out "$tmp/out.f32" && ok || bad "run --in/--out"
if [ "$(od -An -tx1 "$tmp/out.f32" | tr -d ' \n')" = "000000000000803f" ]; then ok; else bad "raw output $(od -An -tx1 "$tmp/out.f32")"; fi

# Errors: each names the problem, exit 1 (library) or 2 (usage).
expect_err 2 "celu: parameter 'alpha' = 0" $actc run celu --device cpu --param alpha=0 --values 1
expect_err 2 "glu: axis -1 has odd length 3" $actc run glu --device cpu --values 1,2,3
expect_err 2 "unknown op 'nope'" $actc run nope --values 1
expect_err 2 "no parameter 'foo'" $actc run relu --param foo=1 --values 1
expect_err 2 "unknown preset 'pytorch'" $actc run relu --preset pytorch --values 1
expect_err 2 "device 'vulkan:9'" $actc run relu --device vulkan:9 --values 1
expect_err 2 "threshold: parameter 'threshold' is required" $actc run threshold --device cpu --values 1
expect_err 2 "exactly one of --values and --in" $actc run relu
expect_err 2 "cannot parse a number" $actc run relu --values 1,x
expect_err 2 "holds 4 elements but 3" $actc run relu --shape 2,2 --values 1,2,3
expect_err 2 "unknown option" $actc run relu --bogus 1 --values 1
expect_err 2 "needs a value" $actc run relu --values
expect_err 2 "cannot read --in" $actc run relu --in "$tmp/missing"
printf 'abc' >"$tmp/odd"
expect_err 2 "not a whole number" $actc run relu --in "$tmp/odd"
expect_err 2 "dtype" $actc run relu --dtype f64 --values 1
ACTKIT_DEVICE=nonsense expect_err 2 "ACTKIT_DEVICE='nonsense'" $actc run relu --values 1

# cache: where it is, what it holds, clearing it.
cdir="$tmp/cache"
ACTKIT_CACHE_DIR="$cdir" $actc run relu --values 1 >/dev/null || bad "run with a cache dir"
out=$(ACTKIT_CACHE_DIR="$cdir" $actc cache) && echo "$out" | grep -q "^$cdir" && ok || bad "cache shows its dir: $out"
echo junk >"$cdir/keep-me.txt" 2>/dev/null || mkdir -p "$cdir" && echo junk >"$cdir/keep-me.txt"
ACTKIT_CACHE_DIR="$cdir" $actc cache --clear >/dev/null && ok || bad "cache --clear"
[ -f "$cdir/keep-me.txt" ] && ok || bad "cache --clear removed a file that is not ours"
[ -z "$(ls "$cdir" | grep '\.bin$')" ] && ok || bad "cache --clear left entries"
out=$(ACTKIT_CACHE_DIR=off $actc cache) && echo "$out" | grep -q "off" && ok || bad "cache off: $out"
expect_err 2 "unknown option" $actc cache --bogus

# verify on the reference itself passes (0 ulp) and exits 0.
$actc verify relu gelu softmax --device cpu >"$tmp/v" && grep -q PASS "$tmp/v" && ok || bad "verify on cpu"

# Custom ops (--custom FILE): run, backward, list, verify on every device,
# and source errors reported at the file's line and column.
ex="$(cd "$(dirname "$0")/.." && pwd)/examples/custom_swish.cl"
expect_out "$(printf '%s\n' -0.268941432 0 0.731058598)" \
  $actc run swish_beta --custom "$ex" --device cpu --values -1,0,1
expect_out "$(printf '%s\n' -0.119202919 0 0.880797088)" \
  $actc run swish_beta --custom "$ex" --device cpu --param beta=2 --values -1,0,1
expect_out "$(printf '%s\n' 0.0723294914 0.5 0.927670538)" \
  $actc run swish_beta --custom "$ex" --device cpu --backward --values -1,0,1 --dy 1,1,1
# without OP and values: the file's first op on a default x
expect_out "$(printf '%s\n' -0.142277613 -0.268941432 -0.188770339 0 \
  0.311229676 0.731058598 2.85772228)" $actc run --custom "$ex" --device cpu
$actc list --custom "$ex" >"$tmp/cl" && grep -q "swish_beta" "$tmp/cl" && ok || bad "list --custom"
for dev in cpu $($actc devices | grep -oE '(opencl|vulkan):[0-9]+' | sort -u); do
  $actc verify --custom "$ex" --device "$dev" >"$tmp/cv" 2>&1 &&
    grep -q "PASS" "$tmp/cv" && grep -q "swish_beta (backward)" "$tmp/cv" && ok ||
    bad "verify --custom on $dev: $(cat "$tmp/cv")"
  # every f16 and bf16 input of the float-only kernels (act_math.cl), and
  # of relu (run as threshold(0, 0) at its defaults: src/core/plan.c)
  $actc verify --exhaustive --dtype f16 --dtype bf16 relu sigmoid tanh elu silu softplus log_sigmoid \
    --device "$dev" >"$tmp/ve" 2>&1 && grep -q "PASS: 0 of 14" "$tmp/ve" && ok ||
    bad "verify --exhaustive on $dev: $(cat "$tmp/ve")"
  # the gradients (--backward) against the reference: every op, and every
  # f16 and bf16 input of those with lean forms or a k = 0 factor
  $actc verify --backward --device "$dev" >"$tmp/vb" 2>&1 &&
    grep -q "PASS: 0 of 108" "$tmp/vb" && grep -qE '^one_hot \(backward\) +- +- +-$' "$tmp/vb" &&
    ok || bad "verify --backward on $dev: $(cat "$tmp/vb")"
  $actc verify --backward --exhaustive --dtype f16 --dtype bf16 sigmoid tanh silu gelu mish \
    softplus leaky_relu hard_sigmoid --device "$dev" >"$tmp/vbe" 2>&1 &&
    grep -q "PASS: 0 of 16" "$tmp/vbe" && ok ||
    bad "verify --backward --exhaustive on $dev: $(cat "$tmp/vbe")"
  $actc run swish_beta --custom "$ex" --device "$dev" --values 0.5 >"$tmp/cr" 2>&1 &&
    grep -qE '^0\.3112' "$tmp/cr" && ok || bad "run --custom on $dev: $(cat "$tmp/cr")"
done
# A plain function (no annotation, no derivative): an op named after it,
# its gradient derived, forward and backward on every device.
px="$(cd "$(dirname "$0")/.." && pwd)/examples/custom_plain.cl"
expect_out "$(printf '%s\n' 0.104993582 0.25 0.786447704)" \
  $actc run penalized_tanh --custom "$px" --device cpu --param a=0.25 --backward --values -1,0,0.5 --dy 1,1,1
for dev in $($actc devices | grep -oE '(opencl|vulkan):[0-9]+' | sort -u); do
  $actc run penalized_tanh --custom "$px" --device "$dev" --param a=0.25 --backward \
    --values -1,0,0.5 --dy 1,1,1 >"$tmp/pb" 2>"$tmp/pbe" &&
    [ "$(tr '\n' ' ' <"$tmp/pb" | grep -cE '^0\.10499[0-9]* 0\.25 0\.78644[0-9]* $')" = 1 ] && ok ||
    bad "run --custom --backward (derived) on $dev: $(cat "$tmp/pb" "$tmp/pbe")"
  $actc verify --custom "$px" --device "$dev" >"$tmp/pv" 2>&1 &&
    grep -q "PASS" "$tmp/pv" && grep -q "penalized_tanh (backward)" "$tmp/pv" && ok ||
    bad "verify --custom (derived) on $dev: $(cat "$tmp/pv")"
done
printf 'float f(float v) { return v; }\n' >"$tmp/noop.cl"
expect_err 2 "declares no op" $actc run --custom "$tmp/noop.cl" --values 1
printf '// actkit: op typo_op\nfloat typo_op(float x) {\n  return x * sigmoid(x)\n}\n' >"$tmp/typo.cl"
expect_err 2 "typo.cl:4:1: error: expected ';'" $actc run typo_op --custom "$tmp/typo.cl" --values 1
printf '// actkit: op relu\nfloat relu(float x) { return x; }\n' >"$tmp/shadow.cl"
expect_err 2 "taken by the built-in op 'relu'" $actc run relu --custom "$tmp/shadow.cl" --values 1
printf '// actkit: op ptr\nfloat ptr(float x) {\n  float *p;\n  return x;\n}\n' >"$tmp/ptr.cl"
expect_err 2 "ptr.cl:3:9: error: pointers are not allowed" $actc verify --custom "$tmp/ptr.cl" --device cpu
expect_err 2 "cannot open" $actc run x --custom "$tmp/missing.cl" --values 1

# One exit-code table (actc --help): 2 for every usage error, with a
# suggestion where a name is close to a known one.
expect_err 2 "unknown command 'rnu' \(did you mean 'run'\?\)" $actc rnu
expect_err 2 "unknown op 'gelux'.*did you mean 'gelu'" $actc run gelux --values 1
expect_err 2 "unknown op 'gelux'.*did you mean 'gelu'" $actc verify gelux --device cpu
expect_err 2 "unknown option '--devcie' \(did you mean '--device'\?\)" $actc run relu --devcie cpu --values 1
expect_err 2 "did you mean 'torch'" $actc run relu --preset pytorch --values 1
expect_err 2 "did you mean 'negative_slope'" $actc run leaky_relu --param negative_slop=1 --values 1
expect_err 2 "device 'cpux'.*did you mean 'cpu'" $actc run relu --device cpux --values 1
expect_err 2 "unknown option '--exhaustiv'.*did you mean '--exhaustive'" $actc verify --exhaustiv
# empty and malformed values name the option; repeated options are refused
expect_err 2 "^actc: --values is empty" $actc run relu --device cpu --values ''
expect_err 2 "^actc: --values: cannot parse a number at 'abc'" $actc run relu --device cpu --values abc
expect_err 2 "^actc: --dy: cannot parse" $actc run relu --device cpu --values 1 --backward --dy x
expect_err 2 "run: --device given twice" $actc run relu --device cpu --device cpu --values 1
# no doubled prefix: "run: softmax: ...", not "softmax: softmax: ..."
"$actc" run softmax --device cpu --values 1,2 --axis 3 2>"$tmp/err" >/dev/null
grep -q "softmax: softmax:" "$tmp/err" && bad "doubled prefix: $(cat "$tmp/err")" || ok
# --opt=value, text input by extension, - for stdin and stdout
expect_out "$(printf '%s\n' 1 0)" $actc run relu --device=cpu --values=1,-2
printf '1 -2\n3,-4\n' >"$tmp/x.txt"
expect_out "$(printf '%s\n' 1 0 3 0)" $actc run relu --device cpu --in "$tmp/x.txt"
printf 'abc\n' >"$tmp/bad.txt"
expect_err 2 "^actc: --in: cannot parse a number at 'abc'" $actc run relu --device cpu --in "$tmp/bad.txt"
printf '\000\000\200\277\000\000\000\100' | "$actc" run relu --device cpu --in - --out - >"$tmp/o.bin" &&
  [ "$(od -An -tf4 "$tmp/o.bin" | tr -s ' ' | sed 's/^ //')" = "0 2" ] && ok ||
  bad "--in - --out -: $(od -An -tf4 "$tmp/o.bin")"
# a first run says that it compiled, and how long it took
for dev in $($actc devices | grep -oE 'opencl:[0-9]+' | head -n 1); do
  ACTKIT_CACHE_DIR="$tmp/cache1" $actc run sigmoid --device "$dev" --values 1 >/dev/null 2>"$tmp/n1" &&
    grep -qE "^actc: compiled [0-9]+ programs? for $dev in [0-9.]+ s" "$tmp/n1" && ok ||
    bad "no compile notice on a cold cache: $(cat "$tmp/n1")"
  ACTKIT_CACHE_DIR="$tmp/cache1" $actc run sigmoid --device "$dev" --values 1 >/dev/null 2>"$tmp/n2" &&
    ! grep -q "compiled" "$tmp/n2" && ok || bad "a compile notice on a warm cache: $(cat "$tmp/n2")"
done
# stdout is line-buffered: a killed run keeps what it printed
( timeout -s KILL 3 $actc verify relu --exhaustive --device cpu --dtype f32 >"$tmp/lb" ) 2>/dev/null
[ -s "$tmp/lb" ] && ok || bad "verify killed midway left an empty log"
# the library's own messages give no command-line advice
"$actc" run nope --values 1 2>"$tmp/err"; grep -q "actc list" "$tmp/err" && bad "library message names actc: $(cat "$tmp/err")" || ok

# .npy in and out (numpy's format): the shape travels with the data
$actc run linear --device cpu --values 1,-2,3,-4 --shape 2,2 --out "$tmp/x.npy" &&
  [ "$(head -c 6 "$tmp/x.npy" | tail -c 5)" = "NUMPY" ] &&
  grep -aq "'shape': (2, 2)" "$tmp/x.npy" && ok || bad "--out x.npy header"
expect_out "$(printf '%s\n' 0.952574134 0.0474258736 0.999088943 0.000911051175)" \
  $actc run softmax --device cpu --in "$tmp/x.npy"
expect_out "$(printf '%s\n' 1 0 3 0)" $actc run relu --device cpu --in "$tmp/x.npy"
expect_err 2 "its dtype is not <f2" $actc run relu --device cpu --dtype f16 --in "$tmp/x.npy"
printf 'not a npy' >"$tmp/bad.npy"
expect_err 2 "is not a .npy file" $actc run relu --device cpu --in "$tmp/bad.npy"
expect_err 2 "numpy has no bf16" $actc run relu --device cpu --dtype bf16 --values 1 --out "$tmp/b.npy"
[ ! -e "$tmp/b.npy" ] && ok || bad "a failed .npy write left a file"
if python3 -c 'import numpy' 2>/dev/null; then
  python3 -c "import numpy as n; a = n.load('$tmp/x.npy'); assert a.shape == (2, 2) and a.dtype == n.float32 and a[1, 1] == -4, a" &&
    ok || bad "numpy cannot read actc's .npy"
fi
# a text file under another name is not read as raw bytes silently
printf '1.5, -2\n' >"$tmp/nums.dat"
expect_err 2 "looks like numbers as text" $actc run relu --device cpu --in "$tmp/nums.dat"
# explicit formats, and text out
printf '5 -1' >"$tmp/in.dat"
expect_out "$(printf '%s\n' 5 0)" $actc run relu --device cpu --in "$tmp/in.dat" --in-format text
$actc run relu --device cpu --values 2,-3 --out "$tmp/o.txt" && [ "$(cat "$tmp/o.txt")" = "$(printf '2\n0')" ] &&
  ok || bad "--out o.txt: $(cat "$tmp/o.txt")"
expect_err 2 "in-format must be raw, text or npy" $actc run relu --device cpu --in "$tmp/in.dat" --in-format json
expect_err 2 "verify: --device given twice" $actc verify relu --device cpu --device cpu
# --json: list, devices, verify and bench are one JSON document each
for c in "list" "list relu gelu" "devices" "verify relu softmax --device cpu --dtype f32" \
         "bench relu --device cpu --n 4096 --reps 1"; do
  $actc $c --json >"$tmp/j" 2>/dev/null &&
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/j" && ok ||
    bad "actc $c --json is not JSON: $(head -c 300 "$tmp/j")"
done
$actc verify relu softmax --device cpu --dtype f32 --json >"$tmp/j" &&
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["pass"] and d["pairs"] == 2 and d["results"][0]["op"] == "relu", d' "$tmp/j" &&
  ok || bad "verify --json content: $(cat "$tmp/j")"
$actc verify --backward relu one_hot softmax --device cpu --dtype f32 --json >"$tmp/j" &&
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); r = d["results"]; assert d["pass"] and d["pairs"] == 3 and all(x["direction"] == "backward" for x in r) and r[1]["op"] == "one_hot" and r[1]["no_gradient"] and r[2]["max_ulp"] == 0, d' "$tmp/j" &&
  ok || bad "verify --backward --json content: $(cat "$tmp/j")"
# an alias is checked with its parameters, under its own name
$actc verify gelu_approx --backward --device cpu --dtype f32 --json >"$tmp/j" &&
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["pass"] and d["results"][0]["op"] == "gelu_approx", d' "$tmp/j" &&
  ok || bad "verify of an alias: $(cat "$tmp/j")"
$actc list relu --json >"$tmp/j" &&
  python3 -c 'import json, sys; o = json.load(open(sys.argv[1]))["ops"][0]; assert o["name"] == "relu" and o["params"][1]["default_text"] == "inf", o' "$tmp/j" &&
  ok || bad "list --json content: $(cat "$tmp/j")"

echo "test_actc: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
