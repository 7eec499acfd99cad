#!/usr/bin/env bash
# End-to-end tests of `xlayout explain` on out-of-memory reports: the text
# section, the `oom_reports` JSON key, exit codes, and logs without reports.
set -euo pipefail
: "${XLAYOUT:?path to the xlayout binary}" "${TESTDATA:?}"
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
oom="$TESTDATA/explain/oom"

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_fail.sh"

# --- A TPU HBM report: a finding (exit 1), recomputed sizes and the fixes.
expect_rc 1 "$XLAYOUT" explain "$oom/tpu_hbm_e1000.log" >"$tmp/out" 2>"$tmp/err"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
grep -qF "Out-of-memory reports (1)" "$tmp/out" || fail "section title"
grep -qF "TPU out of memory in hbm — E1000 CompileTimeHbmOom" "$tmp/out" || fail "title"
grep -qF "size 64.00M → 67,108,864 ✓" "$tmp/out" || fail "buffer 1 size"
grep -qF "unpadded 61.25M → 64,225,280 ✓" "$tmp/out" || fail "buffer 1 unpadded"
grep -qF "dim 1 (245) padded to 256 by tile 128: +11" "$tmp/out" || fail "padded dim"
grep -qF "minor_to_major {0,2,1} instead of {1,2,0} puts dim 0 (1024, a multiple of 128) minor-most: 64,225,280 bytes instead of 67,108,864, saves 2,883,584" \
  "$tmp/out" || fail "reorder fix"
grep -qF "printed without its tiling; the size fits bf16[1024,8,40]{2,1,0:T(8,128)(2,1)}" \
  "$tmp/out" || fail "inferred tile"
grep -qF "padding in the 3 listed buffers: 7,929,856 bytes" "$tmp/out" || fail "total"
if grep -q $'\x1b\[' "$tmp/out"; then fail "colour on a pipe"; fi

# --- JSON: the oom_reports key, exact numbers.
expect_rc 1 "$XLAYOUT" explain --json "$oom/tpu_hbm_e1000.log" "$oom/gpu_bfc.log" \
  "$oom/tpu_vmem_e1001.log" >"$tmp/json"
$PY - "$tmp/json" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "xlayout.v1" and doc["command"] == "explain"
assert doc["findings"] == [] and doc["errors"] == []
reports = doc["oom_reports"]
assert [r["kind"] for r in reports] == [
    "tpu_memory_space", "gpu_allocator", "gpu_allocator", "gpu_allocator",
    "tpu_scoped_vmem"], [r["kind"] for r in reports]
hbm = reports[0]
assert list(hbm) == ["kind", "memory_space", "error_code", "error_name", "used",
                     "capacity", "exceeded", "allocation_bytes", "memory_bytes",
                     "used_check", "tensor_shape", "tensor_logical_bytes", "op",
                     "buffers", "totals", "notes", "source", "line", "count"], list(hbm)
assert hbm["error_code"] == "E1000" and hbm["memory_space"] == "hbm"
assert hbm["used"] == {"text": "17.25G", "min_bytes": 18516803584,
                       "max_bytes": 18528337919}, hbm["used"]
assert hbm["line"] == 2 and hbm["source"].endswith("tpu_hbm_e1000.log")
b = hbm["buffers"]
assert [x["device_bytes"] for x in b] == [67108864, 5242880, 2097152]
assert [x["logical_bytes"] for x in b] == [64225280, 1638400, 655360]
assert [x["size_check"] for x in b] == ["match"] * 3
assert b[2]["tile_inferred"] and b[2]["shape"] == "bf16[1024,8,40]{2,1,0:T(8,128)(2,1)}"
assert b[0]["padded_dims"] == [{"dim": 1, "extent": 245, "padded_extent": 256,
                                "tile": 128, "padding_bytes": 2883584}]
assert b[0]["remedies"][0]["kind"] == "reorder"
assert b[0]["remedies"][0]["saved_bytes"] == 2883584
assert hbm["totals"] == {"buffers_sized": 3, "device_bytes": 74448896,
                         "logical_bytes": 66519040, "padding_bytes": 7929856,
                         "savable_bytes": 7929856}, hbm["totals"]
gpu = reports[2]
assert gpu["allocation_bytes"] == 1073741824 and gpu["used_check"] == "match"
assert gpu["tensor_shape"] == "f32[1024,1024,256]"
assert gpu["tensor_logical_bytes"] == 1073741824
vmem = reports[4]
assert vmem["error_code"] == "E1001" and vmem["totals"]["padding_bytes"] == 481536
PYEOF

# --- The same report from stdin and from -m; 4 copies group into one.
expect_rc 1 "$XLAYOUT" explain --json - <"$oom/tpu_vmem_e1001.log" >"$tmp/stdin.json"
grep -qF '"source": "<stdin>"' "$tmp/stdin.json" || fail "stdin source"
cat "$oom/tpu_vmem_e1001.log" "$oom/tpu_vmem_e1001.log" "$oom/tpu_vmem_e1001.log" \
  "$oom/tpu_vmem_e1001.log" >"$tmp/four.log"
expect_rc 1 "$XLAYOUT" explain "$tmp/four.log" >"$tmp/four.out"
grep -qF "TPU scoped VMEM out of memory — E1001 CompileTimeScopedVmemOom · 4 identical reports" \
  "$tmp/four.out" || fail "grouping: $(cat "$tmp/four.out")"
expect_rc 1 "$XLAYOUT" explain -m "$(cat "$oom/tpu_wrapped.log")" >"$tmp/m.out"
grep -qF "#1 f32[4,1000,200]{2,1,0:T(8,128)}" "$tmp/m.out" || fail "-m wrapped shape"

# --- Nothing to report: exit 0, and no OOM section.
expect_rc 0 "$XLAYOUT" explain "$oom/negative.log" >"$tmp/neg.out"
if grep -qF "Out-of-memory" "$tmp/neg.out"; then fail "negative reported"; fi
expect_rc 0 "$XLAYOUT" explain --json "$oom/negative.log" >"$tmp/neg.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["oom_reports"] == [], d' "$tmp/neg.json"

# --- A missing file is an input error (2), with or without reports elsewhere.
expect_rc 2 "$XLAYOUT" explain "$oom/tpu_hbm_e1000.log" "$tmp/missing.log" >/dev/null 2>"$tmp/err"
grep -qF "missing.log" "$tmp/err" || fail "error names the path"
echo "explain_oom_cli_test: OK"
