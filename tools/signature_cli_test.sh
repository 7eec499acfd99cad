#!/usr/bin/env bash
# End-to-end tests of `xlayout signature`: exit codes, stdout/stderr split,
# JSON keys and the JSON round trip.
set -euo pipefail
: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
: "${EXAMPLES:?set EXAMPLES to the examples directory}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_fail.sh"
py=/usr/bin/python3

# Human table: program line, parameter rows, totals; nothing on stderr.
"$XLAYOUT" signature "$EXAMPLES/embedding_pipeline.hlo" >"$tmp/out" 2>"$tmp/err" ||
  fail "signature exited $?"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
grep -q '^Program jit_embedding_pipeline_step_fn$' "$tmp/out" || fail "program line"
grep -q '^Replicas 1, partitions 2, parameters 8' "$tmp/out" || fail "replicas line"
# Columns: shape, xla_bytes, exact_bytes, per device ("=": the shape), its
# xla_bytes, memory kind, sharding.
grep -Eq '^ +2 +Arg_2\.3 +bf16\[16,1280,40\]\{2,1,0:T\(8,128\)\(2,1\)\} +5,242,880 +5,242,880 += +5,242,880 +device +\{replicated\}$' \
  "$tmp/out" || fail "parameter 2 row: $(cat "$tmp/out")"
# Only entry parameters are annotated: read as a dump after partitioning,
# whose shapes are per-device already (Arg_1.2 is not divided again).
grep -q '^Read dump after SPMD partitioning — shapes are per-device already, not divided again (not certain: ' "$tmp/out" ||
  fail "stage line: $(cat "$tmp/out")"
grep -Eq '^ +1 +Arg_1\.2 +bf16\[32000,40\]\{1,0:T\(8,128\)\(2,1\)\} +8,192,000 +8,192,000 += +8,192,000 ' "$tmp/out" ||
  fail "parameter 1 row: $(cat "$tmp/out")"
grep -q 'pinned_host' "$tmp/out" || fail "memory kind column"
grep -q '^Total xla_bytes 18,782,208 (17.91 MiB), exact_bytes 18,782,208 (17.91 MiB); per device xla_bytes 18,782,208 (17.91 MiB)$' "$tmp/out" ||
  fail "totals: $(cat "$tmp/out")"

# A dump before SPMD partitioning (its ROOT still carries a sharding): the
# global shapes, what each device holds and its bytes. Worked by hand:
#   s32[32,512] over [8,1]: [4,512]; T(8,128) pads 4 rows to 8: 8*512*4 = 16,384
#   bf16[32000,1024] over [8,1]: [4000,1024], 4000*1024*2 = 8,192,000
#   bf16[1024,4096] over [1,8]: [1024,512], 1024*512*2 = 1,048,576
#   bf16[4096,1024] over [8,1]: [512,1024] in T(16,128)(2,1): 1,048,576
#   replicated: the global shape, 4,096 and 512 bytes
"$XLAYOUT" signature "$EXAMPLES/topology_8.hlo" >"$tmp/out" 2>"$tmp/err" || fail "topology_8: $(cat "$tmp/err")"
grep -q '^Read dump before SPMD partitioning — shapes are global; each device holds its sharding.s piece (instructions other than entry parameters carry sharding=' "$tmp/out" ||
  fail "stage line (before): $(cat "$tmp/out")"
for row in '0 Arg_0.1 s32\[32,512\]\{1,0:T\(8,128\)\} 65,536 65,536 s32\[4,512\] 16,384' \
           '1 Arg_1.2 bf16\[32000,1024\]\{1,0:T\(8,128\)\(2,1\)\} 65,536,000 65,536,000 bf16\[4000,1024\] 8,192,000' \
           '2 Arg_2.3 bf16\[1024,4096\]\{1,0:T\(8,128\)\(2,1\)\} 8,388,608 8,388,608 bf16\[1024,512\] 1,048,576' \
           '3 Arg_3.4 bf16\[4096,1024\]\{1,0:T\(16,128\)\(2,1\)\} 8,388,608 8,388,608 bf16\[512,1024\] 1,048,576' \
           '4 Arg_4.5 f32\[1024\]\{0:T\(256\)\} 4,096 4,096 = 4,096'; do
  grep -Eq "^ +${row// / +} +device " "$tmp/out" || fail "topology_8 row '$row': $(cat "$tmp/out")"
done
grep -q '; per device xla_bytes 10,310,144 (9.83 MiB)$' "$tmp/out" || fail "per-device total: $(cat "$tmp/out")"
"$XLAYOUT" signature --json "$EXAMPLES/topology_8.hlo" >"$tmp/t8.json"
$py - "$tmp/t8.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["dump_stage"] == "before_spmd_partitioning" and s["dump_stage_certain"] is True, s
p = s["parameters"]
assert [q["per_device_shape"] for q in p[:4]] == [
    "s32[4,512]{1,0:T(8,128)}", "bf16[4000,1024]{1,0:T(8,128)(2,1)}",
    "bf16[1024,512]{1,0:T(8,128)(2,1)}", "bf16[512,1024]{1,0:T(16,128)(2,1)}"], p
assert [q["per_device_xla_bytes"] for q in p] == [16384, 8192000, 1048576, 1048576, 4096, 512], p
assert [q["per_device_exact_bytes"] for q in p] == [16384, 8192000, 1048576, 1048576, 4096, 512], p
PY
# It reads back, stage and per-device fields included.
"$XLAYOUT" signature --json "$tmp/t8.json" >"$tmp/t8b.json"
$py -c 'import json,sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
a.pop("input"); b.pop("input")
assert a == b, (a, b)' "$tmp/t8.json" "$tmp/t8b.json" || fail "topology_8 JSON round trip"
"$XLAYOUT" signature "$tmp/t8.json" | grep -q '^Read dump before SPMD partitioning' || fail "stage from JSON"

# --json: stable keys and values.
"$XLAYOUT" signature --json "$EXAMPLES/embedding_pipeline.hlo" >"$tmp/sig.json"
$py - "$tmp/sig.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
# docs/json.md: the envelope, then the signature's own keys.
assert list(s)[:3] == ["schema", "command", "input"], list(s)
assert s["schema"] == "xlayout.v1" and s["command"] == "signature"
assert s["input"]["file"].endswith("embedding_pipeline.hlo"), s["input"]
assert s["errors"] == [] and s["memory_kinds"] == "0=device,1=alternate,5=pinned_host", s["memory_kinds"]
for k in ("name", "replica_count", "num_partitions", "parameters", "dump_stage",
          "dump_stage_certain", "dump_stage_reason"):
    assert k in s, k
assert s["name"] == "jit_embedding_pipeline_step_fn"
assert (s["replica_count"], s["num_partitions"]) == (1, 2)
p = s["parameters"]
assert len(p) == 8
for q in p:
    for k in ("index", "name", "shape", "xla_bytes", "exact_bytes", "memory_kind", "sharding",
              "per_device_shape", "per_device_xla_bytes", "per_device_exact_bytes"):
        assert k in q, k
assert p[2] == {**p[2], "index": 2, "name": "Arg_2.3",
                "shape": "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}",
                "xla_bytes": 5242880, "exact_bytes": 5242880,
                "memory_kind": "device", "sharding": "{replicated}"}, p[2]
assert p[6]["memory_kind"] == "pinned_host"
assert s["dump_stage"] == "after_spmd_partitioning" and s["dump_stage_certain"] is False, s
# After partitioning the shapes are per-device already.
assert p[1]["per_device_shape"] == p[1]["shape"] and p[1]["per_device_xla_bytes"] == 8192000, p[1]
PY

# The JSON signature reads back to the same JSON (all but "input", which
# names the file read).
same_but_input() {
  $py -c 'import json,sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
a.pop("input"); b.pop("input")
assert json.dumps(a) == json.dumps(b), (a, b)' "$1" "$2"
}
"$XLAYOUT" signature --json "$tmp/sig.json" >"$tmp/again.json"
same_but_input "$tmp/sig.json" "$tmp/again.json" || fail "JSON does not round-trip"
"$XLAYOUT" signature --json - <"$tmp/sig.json" >"$tmp/stdin.json"
same_but_input "$tmp/sig.json" "$tmp/stdin.json" || fail "JSON from stdin differs"

# Every bundled example parses, and stdin works.
for f in "$EXAMPLES"/*.hlo; do
  "$XLAYOUT" signature --json "$f" >/dev/null || fail "$f"
done
"$XLAYOUT" signature --json - <"$EXAMPLES/tuple_parameter.hlo" >"$tmp/t.json"
$py -c 'import json,sys; s=json.load(open(sys.argv[1])); assert [p["name"] for p in s["parameters"]] == ["args.1{0}","args.1{1}","args.1{2,0}","args.1{2,1}"], s' "$tmp/t.json"
"$XLAYOUT" signature --json "$EXAMPLES/no_layout_header.hlo" >"$tmp/n.json"
$py -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["layout_source"] == "entry_parameters"; assert s["parameters"][0]["sharding"] is None' "$tmp/n.json"

# A custom memory-kind mapping.
"$XLAYOUT" signature --json --memory-kinds '0=hbm,5=host' "$EXAMPLES/embedding_pipeline.hlo" >"$tmp/k.json"
$py -c 'import json,sys; s=json.load(open(sys.argv[1])); assert [p["memory_kind"] for p in s["parameters"]][5:7] == ["hbm","host"]' "$tmp/k.json"
# Regression 10.14: the output reads back without the flag (it records its
# mapping), to the same signature.
"$XLAYOUT" signature --json "$tmp/k.json" >"$tmp/k2.json" 2>"$tmp/err" || fail "--memory-kinds output does not read back: $(cat "$tmp/err")"
same_but_input "$tmp/k.json" "$tmp/k2.json" || fail "--memory-kinds round trip"

# Warnings go to stderr, the table still to stdout; -q silences them.
printf 'HloModule m, entry_computation_layout={(f32[2]{0})->f32[]}\n' >"$tmp/header_only.hlo"
"$XLAYOUT" signature "$tmp/header_only.hlo" >"$tmp/out" 2>"$tmp/err"
grep -q 'no ENTRY computation' "$tmp/err" || fail "warning missing"
grep -q 'f32\[2\]{0}' "$tmp/out" || fail "table missing"
"$XLAYOUT" signature -q "$tmp/header_only.hlo" >/dev/null 2>"$tmp/err"
[ ! -s "$tmp/err" ] || fail "-q printed: $(cat "$tmp/err")"

# Input errors: exit 2, message on stderr naming file and line, nothing on stdout.
expect_error() {
  local want=$1; shift
  set +e
  "$XLAYOUT" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "'$*' exited $rc, want 2"
  [ ! -s "$tmp/out" ] || fail "'$*' wrote stdout: $(cat "$tmp/out")"
  grep -q -- "$want" "$tmp/err" || fail "'$*' stderr lacks '$want': $(cat "$tmp/err")"
}
# With --json an input error prints the envelope with one error object.
set +e
"$XLAYOUT" signature --json "$tmp/missing.hlo" >"$tmp/out" 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--json missing file: exit $rc"
$py -c 'import json,sys; d=json.load(open(sys.argv[1])); (e,)=d["errors"]; assert d["command"]=="signature" and list(e)==["input","code","message"] and e["code"]=="NOT_FOUND", d' "$tmp/out" \
  || fail "--json error object: $(cat "$tmp/out")"
expect_error "cannot open '$tmp/missing.hlo'" signature "$tmp/missing.hlo"
printf 'HloModule m, entry_computation_layout={(f32[2]{0}, f32[x])->f32[]}\n' >"$tmp/bad.hlo"
expect_error "bad.hlo: line 1: entry_computation_layout parameter 1: col 56" signature "$tmp/bad.hlo"
printf 'not hlo\n' >"$tmp/bad2.hlo"
expect_error "line 1: expected the 'HloModule' header" signature "$tmp/bad2.hlo"
printf '{"name": "p", "parameters": [{"shape": "f32[2]", "xla_bytes": 9}]}' >"$tmp/bad.json"
expect_error "xla_bytes is 9" signature "$tmp/bad.json"
expect_error "memory-kinds" signature --memory-kinds 'x' "$EXAMPLES/old_comma_header.hlo"
# A bad --memory-kinds is a usage error: nothing on stdout, even with --json.
set +e
"$XLAYOUT" signature --json --memory-kinds bad "$EXAMPLES/old_comma_header.hlo" \
  >"$tmp/mk.out" 2>"$tmp/mk.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "--json --memory-kinds bad: exit $rc"
[ ! -s "$tmp/mk.out" ] || fail "--json --memory-kinds bad printed JSON: $(cat "$tmp/mk.out")"
grep -q "^error: --memory-kinds: " "$tmp/mk.err" || fail "--memory-kinds bad: $(cat "$tmp/mk.err")"
expect_error "DUMP is required" signature

# --help describes the command.
"$XLAYOUT" signature --help | grep -q 'entry_computation_layout\|HLO text dump' || fail "help"
# Regression 10.7: totals are checked sums, not wrapped ones.
printf 'HloModule big, entry_computation_layout={(u8[9223372036854775807]{0}, u8[9223372036854775807]{0})->f32[]}\n' >"$tmp/big.hlo"
expect_error "total xla_bytes of the parameters does not fit in int64" signature "$tmp/big.hlo"

# Regression 10.5: a program name with terminal escapes is printed escaped.
printf 'HloModule jit_\033[31mred\033]0;title\007, entry_computation_layout={(f32[2]{0})->f32[]}\n' >"$tmp/esc.hlo"
"$XLAYOUT" signature -q "$tmp/esc.hlo" >"$tmp/out" 2>&1 || true
if LC_ALL=C grep -q $'[\x1b\x07]' "$tmp/out"; then fail "raw control bytes echoed: $(cat -v "$tmp/out")"; fi

# Regression (user trial 2): a sharding that does not parse gave the global
# size as the per-device one (4x too big). It is unknown: a warning, exit 0,
# "unknown" in the table and the per-device total, null in JSON.
cat >"$tmp/junk.hlo" <<'EOF2'
HloModule m, entry_computation_layout={(f32[64,256]{1,0})->f32[]}, num_partitions=4
ENTRY e {
  p = f32[64,256]{1,0} parameter(0), sharding={devices=[4,1]<=[4] junk}
  c = f32[] constant(0), sharding={replicated}
}
EOF2
"$XLAYOUT" signature "$tmp/junk.hlo" >"$tmp/out" 2>"$tmp/err" || fail "junk sharding exited $?"
cat >"$tmp/want" <<'EOF2'
Program m
Replicas 1, partitions 4, parameters 1  (layouts from entry_computation_layout)
Read dump before SPMD partitioning — shapes are global; each device holds its sharding's piece (instructions other than entry parameters carry sharding=; the SPMD partitioner clears those)

  #  name  shape             xla_bytes  exact_bytes  per device  device bytes  memory kind  sharding
  0  p     f32[64,256]{1,0}     65,536       65,536  unknown          unknown  device       {devices=[4,1]<=[4] junk}

Total xla_bytes 65,536 (64.00 KiB), exact_bytes 65,536 (64.00 KiB); per device xla_bytes unknown (a sharding does not apply, see warnings)
EOF2
diff -u "$tmp/want" "$tmp/out" || fail "junk sharding text output"
cat >"$tmp/want" <<'EOF2'
warning: parameter 0 (p): sharding {devices=[4,1]<=[4] junk} not applied (col 21: unknown word 'junk' in sharding: expected replicated, manual, unknown, unreduced, maximal, devices=, last_tile_dim_replicate, last_tile_dims=, shard_as, shard_like or metadata=); its per-device shape and size are unknown
EOF2
diff -u "$tmp/want" "$tmp/err" || fail "junk sharding warning"
"$XLAYOUT" signature --json "$tmp/junk.hlo" >"$tmp/junk.json" 2>/dev/null || fail "junk --json exited $?"
$py - "$tmp/junk.json" <<'PY'
import json, sys
(p,) = json.load(open(sys.argv[1]))["parameters"]
assert p["xla_bytes"] == 65536, p
assert p["per_device_shape"] is None and p["per_device_xla_bytes"] is None \
    and p["per_device_exact_bytes"] is None, p
PY
# It reads back, and stays unknown.
"$XLAYOUT" signature --json "$tmp/junk.json" >"$tmp/junk2.json" 2>/dev/null || fail "junk json read back exited $?"
$py -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); del a["input"], b["input"]; assert a == b, (a, b)' \
  "$tmp/junk.json" "$tmp/junk2.json" || fail "junk sharding JSON round trip"
# A JSON signature whose sharding is "total garbage": the same rule; the
# per-device values it gives (written before the fix) are ignored, warned.
cat >"$tmp/garbage.json" <<'EOF2'
{"name": "g", "num_partitions": 4, "dump_stage": "before_spmd_partitioning",
 "parameters": [{"index": 0, "name": "a", "shape": "s32[32,512]{1,0:T(8,128)}",
   "sharding": "total garbage", "per_device_shape": "s32[32,512]{1,0:T(8,128)}",
   "per_device_xla_bytes": 65536, "per_device_exact_bytes": 65536}]}
EOF2
"$XLAYOUT" signature "$tmp/garbage.json" >"$tmp/out" 2>"$tmp/err" || fail "garbage json exited $?"
grep -Eq '^  0  a     s32\[32,512\]\{1,0:T\(8,128\)\}     65,536       65,536  unknown          unknown  device       total garbage$' "$tmp/out" ||
  fail "garbage json row: $(cat "$tmp/out")"
grep -q 'per device xla_bytes unknown (a sharding does not apply, see warnings)$' "$tmp/out" || fail "garbage json total"
cat >"$tmp/want" <<'EOF2'
warning: parameter 0 (a): sharding total garbage not applied (col 1: expected '{' to start a sharding, got 'total'); its per-device shape and size are unknown
warning: parameters[0]: per_device_shape "s32[32,512]{1,0:T(8,128)}" ignored: the sharding does not apply, so it cannot be derived
warning: parameters[0]: per_device_xla_bytes 65536 ignored: the sharding does not apply, so it cannot be derived
warning: parameters[0]: per_device_exact_bytes 65536 ignored: the sharding does not apply, so it cannot be derived
EOF2
diff -u "$tmp/want" "$tmp/err" || fail "garbage json warnings"

# Regression (user trial 2): one partition was explained twice ("... every
# device holds the global shapes (num_partitions is 1: every device holds
# the global shapes)").
"$XLAYOUT" signature "$EXAMPLES/old_comma_header.hlo" >"$tmp/out" 2>/dev/null || fail "single partition exited $?"
grep -qx 'Read one partition (num_partitions is 1) — every device holds the global shapes' "$tmp/out" ||
  fail "single partition stage line: $(sed -n 3p "$tmp/out")"
[ "$(grep -o 'every device holds the global shapes' "$tmp/out" | wc -l)" -eq 1 ] || fail "stage said twice"

echo "signature CLI tests passed"
