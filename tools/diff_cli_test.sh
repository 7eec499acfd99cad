#!/usr/bin/env bash
# End-to-end tests of `xlayout diff`: the example programs for two
# topologies, identical programs, --by-name, JSON keys, exit codes.
set -euo pipefail
: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
: "${EXAMPLES:?set EXAMPLES to the examples directory}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_fail.sh"
py=/usr/bin/python3
t4="$EXAMPLES/topology_4.hlo"
t8="$EXAMPLES/topology_8.hlo"

# Identical programs: exit 0, "identical" summary, nothing on stderr.
"$XLAYOUT" diff "$t4" "$t4" >"$tmp/out" 2>"$tmp/err" || fail "identical exited $?"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
grep -qx 'Summary identical: 6 parameters' "$tmp/out" || fail "identical summary: $(cat "$tmp/out")"
# A dump and its own JSON signature are the same program.
"$XLAYOUT" signature --json "$t8" >"$tmp/t8.json"
"$XLAYOUT" diff "$t8" "$tmp/t8.json" >"$tmp/out" || fail "dump vs its JSON exited $?"

# The two topologies: exit 1 and the expected summary.
rc=0
"$XLAYOUT" diff "$t4" "$t8" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "differing programs exited $rc"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
expected='Summary 6 parameters; num_partitions 4→8; 1 changed layout (1: tiling (8,128)(2,1)→(16,128)(2,1)); 4 changed sharding (3: devices=[4,1]→[8,1]; 1: devices=[1,4]→[1,8]); 4 changed per-device shape; device bytes -49.9% (20,599,296→10,310,144)'
grep -qxF "$expected" "$tmp/out" || fail "summary: $(grep Summary "$tmp/out")"
# Details grouped by kind, with the parameters.
grep -qxF 'layout: tiling (8,128)(2,1)→(16,128)(2,1)  1 parameter' "$tmp/out" || fail "layout group: $(cat "$tmp/out")"
grep -qF '#3 Arg_3.4  bf16[4096,1024]{1,0:T(8,128)(2,1)} → bf16[4096,1024]{1,0:T(16,128)(2,1)}' "$tmp/out" ||
  fail "layout detail line"
grep -qxF 'sharding: devices=[4,1]→[8,1]  3 parameters' "$tmp/out" || fail "sharding group"
summary_line=$(grep -n '^Summary' "$tmp/out" | cut -d: -f1)
group_line=$(grep -n '^layout:' "$tmp/out" | cut -d: -f1)
[ "$summary_line" -lt "$group_line" ] || fail "summary is not first"

# --json: envelope, keys, counts.
rc=0
"$XLAYOUT" diff --json "$t4" "$t8" >"$tmp/j" || rc=$?
[ "$rc" = 1 ] || fail "--json exited $rc"
$py - "$tmp/j" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["schema", "command", "inputs", "match", "identical", "summary",
                   "parameters", "program_changes", "counts", "groups", "changed",
                   "added", "removed", "device_bytes", "warnings", "errors"], list(d)
assert d["schema"] == "xlayout.v1" and d["command"] == "diff" and d["match"] == "index"
assert d["identical"] is False and d["errors"] == []
assert d["parameters"] == {"a": 6, "b": 6, "matched": 6, "changed": 4, "added": 0, "removed": 0}, d["parameters"]
assert d["counts"] == {"dtype": 0, "dims": 0, "layout": 1, "memory_kind": 0, "sharding": 4,
                       "per_device_shape": 4, "bytes": 0}, d["counts"]
assert d["program_changes"] == [{"field": "num_partitions", "before": 4, "after": 8}]
g = d["groups"][0]
assert (g["kind"], g["detail"], g["parameters"]) == ("layout", "tiling (8,128)(2,1)→(16,128)(2,1)", [3]), g
side = d["changed"][0]["a"]
assert list(side) == ["index", "name", "shape", "sharding", "memory_kind", "per_device_shape",
                      "xla_bytes", "exact_bytes", "device_xla_bytes"], list(side)
assert side["per_device_shape"] == "s32[8,512]{1,0:T(8,128)}" and side["device_xla_bytes"] == 16384, side
assert d["device_bytes"] == {"a": 20599296, "b": 10310144}, d["device_bytes"]
PY
rc=0; "$XLAYOUT" diff --json "$t4" "$t4" >"$tmp/j" || rc=$?
[ "$rc" = 0 ] || fail "identical --json exited $rc"
$py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["identical"] is True and d["changed"] == [], d' "$tmp/j"

# --by-name: the same parameters in another order are identical; by index
# they are not.
$py - "$tmp/t8.json" "$tmp/shuffled.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for k in ("schema", "command", "input", "errors"):
    s.pop(k, None)
p = s["parameters"]
p.reverse()
for i, q in enumerate(p):
    q["index"] = i
json.dump(s, open(sys.argv[2], "w"))
PY
rc=0; "$XLAYOUT" diff "$t8" "$tmp/shuffled.json" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "reordered by index exited $rc"
"$XLAYOUT" diff --by-name "$t8" "$tmp/shuffled.json" >"$tmp/out" 2>"$tmp/err" ||
  fail "reordered --by-name exited $?: $(cat "$tmp/err")"

# Errors: a missing file exits 2 and is named; with --json it is in errors.
rc=0
"$XLAYOUT" diff --json "$t4" "$tmp/nope.hlo" >"$tmp/j" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "missing file exited $rc"
grep -q 'nope.hlo' "$tmp/err" || fail "error does not name the file"
$py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["errors"][0]["input"]["file"].endswith("nope.hlo"), d' "$tmp/j"
rc=0; "$XLAYOUT" diff "$t4" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "one argument exited $rc"
echo PASS
