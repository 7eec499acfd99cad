#!/usr/bin/env bash
# End-to-end tests of `xlayout size`: output, JSON keys, exit codes, stderr.
set -euo pipefail
x=${XLAYOUT:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_fail.sh"
py=/usr/bin/python3

# The E0102 sample: both numbers, the padded dim, the comparison verdict.
"$x" size 'bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}' 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' \
  >"$tmp/out" 2>"$tmp/err" || fail "size exited $?"
grep -q 'xla_bytes      5,242,880' "$tmp/out" || fail "expected xla_bytes 5,242,880"
grep -q 'xla_bytes      1,638,400' "$tmp/out" || fail "expected xla_bytes 1,638,400"
grep -q 'dim 2 (40): padded to 128 in #1, 40 in #2' "$tmp/out" || fail "comparison line"
grep -q 'fails with E0102' "$tmp/out" || fail "verdict"
grep -q 'xla_bytes differ (5,242,880 vs 1,638,400: #1 is 3.2× #2)' "$tmp/out" || fail "the factor names the larger"

# Regression (user trial): shapes keep their argument's number after one
# that fails, and a smaller first shape is not reported as 0.98x.
set +e
"$x" size 'f32[1000]' 'f32[2' 'f32[1000]{0:T(256)}' >"$tmp/out2" 2>"$tmp/err2"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a bad shape among good ones exits $rc, not 2"
grep -q '#1 and #3 are the same logical shape' "$tmp/out2" || fail "numbering after a failed argument: $(cat "$tmp/out2")"
grep -q '(4,000 vs 4,096: #3 is 1.02× #1)' "$tmp/out2" || fail "factor of the larger"
grep -q 'padded to 1,000 in #1, 1,024 in #3' "$tmp/out2" || fail "dim line numbering"
"$x" size 'u1[9]{0:E(1)}' | grep -q 'packed 1 bit each' || fail "1 bit, not 1 bits"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
if grep -q $'\x1b\[' "$tmp/out"; then fail "colour on a pipe"; fi

# JSON: stable keys and values; tuples report their elements.
"$x" size --json 'bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}' '(f32[3,5]{1,0:T(2,2)}, token[])' >"$tmp/json"
$py - "$tmp/json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
# docs/json.md: the envelope first, keys in schema order (not sorted).
assert list(doc) == ["schema", "command", "shapes", "comparisons", "errors"], list(doc)
assert doc["schema"] == "xlayout.v1" and doc["command"] == "size" and doc["errors"] == []
d = doc["shapes"]
assert len(d) == 2, d
a = d[0]
assert list(a) == ["input", "shape", "xla_bytes", "exact_bytes", "logical_bytes",
                   "padding_factor", "metadata_prefix_bytes", "memory_space",
                   "dims", "notes"], list(a)
assert a["input"] == {"text": "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"}, a["input"]
assert a["xla_bytes"] == 5242880 and a["exact_bytes"] == 5242880 and a["logical_bytes"] == 1638400
assert abs(a["padding_factor"] - 3.2) < 1e-9
assert [x["dim"] for x in a["dims"]] == [0, 1, 2]
assert a["dims"][2] == {"dim": 2, "extent": 40, "padded_extent": 128, "xla_padded_extent": 128, "tile": 128}, a["dims"][2]
assert a["dims"][0]["tile"] is None
t = d[1]
assert t["shape"] == "(f32[3,5]{1,0:T(2,2)}, token[])"
assert len(t["elements"]) == 2 and t["elements"][0]["xla_bytes"] == 96
assert t["xla_bytes"] == 96
PY

# A bad shape: reported on stderr with its column; the others still reported; exit 2.
set +e
"$x" size 'f32[2]' 'f32[1 2]' 'f32[3]' >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad shape: exit $rc, want 2"
grep -q "col 7: expected ',' or ']' after dimension" "$tmp/err" || fail "error text: $(cat "$tmp/err")"
grep -q '^f32\[2\]{0}' "$tmp/out" && grep -q '^f32\[3\]{0}' "$tmp/out" || fail "other shapes not reported"

# Regression (user trial 2): a tuple with an opaque[] element had a made-up
# total (8 bytes for (f32[2], opaque[])). Its total is unknown, with a note
# naming the element; the elements keep their own sizes.
"$x" size '(f32[2], opaque[])' >"$tmp/out" 2>"$tmp/err" || fail "opaque tuple exited $?"
cat >"$tmp/want" <<'EOF2'
(f32[2]{0}, opaque[])
  element {1}: opaque[] has a backend-defined size (a pointer), so the tuple has no total size
  f32[2]{0}
    xla_bytes          8  8 B  what XLA's runtime compares (first tile level)
    exact_bytes        8  8 B  every tile level applied
    logical_bytes      8  8 B  no tiling (ByteSizeOf)
    padding           1×       exact / logical
    physical dims, major to minor:
    dim  extent  padded  tile  padding
      0       2       2     -
  opaque[]
    opaque[] has a backend-defined size (a pointer)
EOF2
diff -u "$tmp/want" "$tmp/out" || fail "opaque tuple text output"
[ ! -s "$tmp/err" ] || fail "opaque tuple stderr: $(cat "$tmp/err")"
"$x" size --json '(f32[2], ((opaque[]), token[]))' >"$tmp/json" || fail "opaque tuple --json exited $?"
$py - "$tmp/json" <<'PY'
import json, sys
(t,) = json.load(open(sys.argv[1]))["shapes"]
for k in ("xla_bytes", "exact_bytes", "logical_bytes", "padding_factor"):
    assert t[k] is None, (k, t)
assert t["notes"] == ["element {1,0,0}: opaque[] has a backend-defined size (a pointer), "
                      "so the tuple has no total size"], t["notes"]
a, inner = t["elements"]
assert a["xla_bytes"] == 8 and a["notes"] == [], a
assert inner["xla_bytes"] is None and inner["notes"] == [
    "element {0,0}: opaque[] has a backend-defined size (a pointer), so the tuple has no total size"], inner
assert inner["elements"][1]["xla_bytes"] == 0, inner  # token[]: 0, known
PY

# Validation errors are input errors too.
set +e
"$x" size 'f32[2,3]{0,0}' >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q 'duplicate values' "$tmp/err" || fail "validation: rc=$rc"

# JAX layout input.
"$x" size --json 'bf16[16,1280,40] Layout(major_to_minor=(0, 1, 2), tiling=((8, 128), (2, 1)), sub_byte_element_size_in_bits=0)' \
  | $py -c 'import json,sys; d=json.load(sys.stdin)["shapes"]; assert d[0]["shape"]=="bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}", d'

# Older JAX DeviceLocalLayout repr (underscore fields).
"$x" size --json 'f32[8,4] DeviceLocalLayout(major_to_minor=(0, 1), _tiling=((8, 128),), _sub_byte_element_size_in_bits=0)' \
  | $py -c 'import json,sys; d=json.load(sys.stdin)["shapes"]; assert d[0]["shape"]=="f32[8,4]{1,0:T(8,128)}" and d[0]["xla_bytes"]==4096, d'

# JAX's Format(...) wrapper around the layout, as compiled.input_formats prints it.
"$x" size --json "bf16[16,1280,40] Format(layout=Layout(major_to_minor=(0, 2, 1), tiling=((8, 128), (2, 1)), sub_byte_element_size_in_bits=0), sharding=SingleDeviceSharding(device=TpuDevice(id=0, process_index=0, coords=(0,0,0), core_on_chip=0), memory_kind=device))" \
  | $py -c 'import json,sys; d=json.load(sys.stdin)["shapes"]; assert d[0]["shape"]=="bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}" and d[0]["xla_bytes"]==1638400, d'

# An untiled difference is explained by L(n), not by tile levels.
"$x" size --json 's8[3]{0:L(4)}' | $py -c '
import json,sys
d=json.load(sys.stdin)["shapes"][0]
assert (d["xla_bytes"], d["exact_bytes"]) == (3, 4), d
assert "ignores L(n) and split configs on untiled layouts" in d["notes"][0], d["notes"]
assert not any("tile level" in n for n in d["notes"]), d["notes"]'

# M(n) < 0 cannot round-trip through XLA's printer: rejected with its column.
set +e
"$x" size 'f32[2]{0:M(-2)}' >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q 'col 12: M(n) counts metadata bytes and must be >= 0' "$tmp/err" \
  || fail "M(-2): rc=$rc $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "M(-2): unexpected stdout"

# Input bytes that are not UTF-8 (here inside a comment) must not crash
# --json: they are replaced in the output.
"$x" size --json $'f32[2] /*\xff*/' >"$tmp/json" || fail "non-UTF-8 --json exited $?"
$py -c 'import json,sys; d=json.load(open(sys.argv[1]))["shapes"]; assert d[0]["shape"]=="f32[2]{0}", d' "$tmp/json"

# Usage errors exit 2; --help exits 0.
set +e
"$x" size >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "no shapes: exit $rc"
"$x" size --help | grep -q 'xla_bytes' || fail "--help"
# Regression 10.7: a tuple total that does not fit in int64 is OUT_OF_RANGE,
# exit 2 (it printed -2 bytes and exited 0).
set +e
"$x" size '(u8[9223372036854775807], u8[9223372036854775807])' >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "tuple overflow: exit $rc, want 2"
grep -q 'does not fit in int64' "$tmp/err" || fail "tuple overflow message: $(cat "$tmp/err")"
if grep -q -- '-2' "$tmp/out"; then fail "tuple overflow printed a wrapped size"; fi
set +e
"$x" size --json '(u8[9223372036854775807], u8[9223372036854775807])' >"$tmp/json" 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "tuple overflow --json: exit $rc"
$py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["shapes"] == [] and d["errors"][0]["code"] == "OUT_OF_RANGE" and d["errors"][0]["input"] == {"text": "(u8[9223372036854775807], u8[9223372036854775807])"}, d' "$tmp/json"

# Regression 10.8: say what really differs.
"$x" size 'f32[8,128]{1,0:T(8,128)}' 'f32[8,128]{1,0:T(8,128)S(5)}' >"$tmp/out"
grep -q 'different memory spaces (S(0) vs S(5)): a copy between memories, no relayout needed' "$tmp/out" \
  || fail "memory-space verdict: $(tail -2 "$tmp/out")"
if grep -q 'relayout needed)' "$tmp/out"; then fail "memory-space move called a relayout"; fi
"$x" size 'f32[2]{0}' 'f32[2]{0:E(32)}' >"$tmp/out"
grep -q 'nothing differs physically (no relayout needed)' "$tmp/out" || fail "E(32) verdict: $(tail -2 "$tmp/out")"
"$x" size 'f32[8,128]{1,0}' 'f32[8,128]{0,1}' >"$tmp/out"
grep -q 'bytes differ in order (relayout needed)' "$tmp/out" || fail "reorder verdict"
"$x" size --json 'f32[8,128]{1,0:T(8,128)}' 'f32[8,128]{1,0:T(8,128)S(5)}' 'f32[8,128]{1,0:T(8,128)E(32)}' 'bf16[16,1280,40]' >"$tmp/json"
$py -c '
import json,sys
c = json.load(open(sys.argv[1]))["comparisons"]
assert c == [{"a": 0, "b": 1, "difference": "memory_space", "relayout_needed": False},
             {"a": 0, "b": 2, "difference": "equivalent", "relayout_needed": False},
             {"a": 0, "b": 3, "difference": "logical_shape", "relayout_needed": False}], c' "$tmp/json"

# Regression: one T(8,128) tile covers f32[8,128], so the row-major bytes are
# the tiled ones: equivalent, not "reordered"; f32[8,256] has two tiles in a
# row and is reordered.
"$x" size --json 'f32[8,128]{1,0:T(8,128)}' 'f32[8,128]{1,0}' >"$tmp/json"
$py -c '
import json,sys
c = json.load(open(sys.argv[1]))["comparisons"]
assert c == [{"a": 0, "b": 1, "difference": "equivalent", "relayout_needed": False}], c' "$tmp/json"
"$x" size --json 'f32[8,256]{1,0:T(8,128)}' 'f32[8,256]{1,0}' >"$tmp/json"
$py -c '
import json,sys
c = json.load(open(sys.argv[1]))["comparisons"]
assert c[0]["difference"] == "reordered", c' "$tmp/json"

# Regression 10.9: E(n) narrower than the element type is one clear error,
# the same in size and relayout (size said 1 byte and exited 0).
set +e
"$x" size 'f32[2]{0:E(4)}' >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "E(4) on f32: exit $rc, want 2"
want='E(4) in f32[2]{0:E(4)} gives each element 4 bits, fewer than the 32 bits of f32'
grep -qF "$want" "$tmp/err" || fail "E(4) message: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "E(4): unexpected stdout"
printf '01234567' >"$tmp/in.bin"
set +e
"$x" relayout --shape 'f32[2]{0:E(4)}' --to '{0}' "$tmp/in.bin" "$tmp/out.bin" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "relayout E(4): exit $rc"
grep -qF "$want" "$tmp/err" || fail "relayout E(4) message: $(cat "$tmp/err")"
"$x" size 's4[8]{0:E(4)}' 'pred[8]{0:E(32)}' >/dev/null || fail "packing and widening stay valid"

# Regression 10.5: input echoed in errors is escaped.
set +e
"$x" size $'f32[2]\x1b[31m' >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "escape shape: exit $rc"
if LC_ALL=C grep -q $'\x1b' "$tmp/err"; then fail "raw ESC in the error"; fi
grep -qF 'f32[2]\x1b[31m' "$tmp/err" || fail "escaped echo: $(cat -v "$tmp/err")"

# Regression 10.13: usage errors name the command and point to its help.
set +e
"$x" bogus >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "unknown command 'bogus'" "$tmp/err" || fail "bogus: rc=$rc $(cat "$tmp/err")"
if grep -q 'A subcommand is required' "$tmp/err"; then fail "bogus: CLI11 message"; fi
set +e
"$x" sise 'f32[2]' >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "Did you mean 'xlayout size'?" "$tmp/err" || fail "suggestion: $(cat "$tmp/err")"
"$x" help >"$tmp/out" || fail "xlayout help exited $?"
grep -q 'signature' "$tmp/out" || fail "xlayout help lists commands"
"$x" help size >"$tmp/out" || fail "xlayout help size exited $?"
grep -q 'Usage: xlayout size' "$tmp/out" || fail "help size: $(head -3 "$tmp/out")"
set +e
"$x" help bogus >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "unknown command 'bogus'" "$tmp/err" || fail "help bogus"
set +e
"$x" size >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
grep -q "Run 'xlayout size --help'" "$tmp/err" || fail "subcommand error points to its help: $(cat "$tmp/err")"
set +e
"$x" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q 'no command given' "$tmp/err" || fail "no command"

set +e
"$x" --bogus >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "unknown option '--bogus'" "$tmp/err" || fail "--bogus: $(cat "$tmp/err")"

# Regression 16: --version names the commit (or says it is unknown).
"$x" --version >"$tmp/out"
grep -Eq '^xlayout [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,}|unknown|[0-9A-Za-z._-]+)(-dirty)?\)$' "$tmp/out" \
  || fail "--version: $(cat "$tmp/out")"
echo "size_cli_test: all passed"
