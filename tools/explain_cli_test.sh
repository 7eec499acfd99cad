#!/usr/bin/env bash
# End-to-end tests of `xlayout explain`: exit codes, stdout/stderr split,
# JSON schema, grouping and the docs sample.
set -euo pipefail
: "${XLAYOUT:?path to the xlayout binary}" "${EXAMPLES:?}" "${TESTDATA:?}"
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_fail.sh"

# --- The docs sample: findings -> exit 1, explanation and fix on stdout.
expect_rc 1 "$XLAYOUT" explain "$EXAMPLES/e0102_docs_sample.log" >"$tmp/out" 2>"$tmp/err"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
grep -qF "same logical shape, different physical layout" "$tmp/out" || fail "summary"
grep -qF "dim 2 (40) is minor-most on the expected side and padded to 128 (3.2×)" "$tmp/out" \
  || fail "padding sentence"
grep -qF "xlayout relayout --shape 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' --to '{2,1,0:T(8,128)(2,1)}' IN OUT" \
  "$tmp/out" || fail "relayout command"
grep -qF "5,242,880" "$tmp/out" || fail "expected bytes"
# Not a TTY: no colour escapes.
if grep -q $'\x1b\[' "$tmp/out"; then fail "colour on a pipe"; fi

# --- JSON: the documented schema, exactly.
expect_rc 1 "$XLAYOUT" explain --json "$EXAMPLES/e0102_docs_sample.log" >"$tmp/json"
$PY - "$tmp/json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
# The envelope of docs/json.md, keys in order.
assert list(doc)[:2] == ["schema", "command"], list(doc)
assert doc["schema"] == "xlayout.v1" and doc["command"] == "explain"
assert doc["errors"] == [] and doc["unreadable"] == []
assert doc["messages"] == 1 and doc["findings_total"] == 1
findings = doc["findings"]
assert isinstance(findings, list) and len(findings) == 1, findings
f = findings[0]
assert {"kind", "program", "parameter", "replicas", "partitions",
        "expected", "actual", "classification", "consistent",
        "causes", "fix_commands", "count"} <= set(f), sorted(f)
assert doc["summary"] == [{"kind": "size", "program": "jit_embedding_pipeline_step_fn",
                           "classification": "layout", "parameters": [2482], "parameter_name": None,
                           "replicas": [0], "partitions": [0], "findings": 1,
                           "messages": 1}], doc["summary"]
assert f["kind"] == "size"
assert f["program"] == "jit_embedding_pipeline_step_fn"
assert f["parameter"] == 2482
assert f["replicas"] == [0] and f["partitions"] == [0]
assert f["classification"] == "layout"
assert f["consistent"] is True
assert f["count"] == 1
for side, shape, size in (("expected", "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}", 5242880),
                          ("actual", "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}", 1638400)):
    s = f[side]
    assert {"shape", "printed_bytes", "recomputed_bytes", "inferred_layouts"} <= set(s), s
    assert s["shape"] == shape and s["printed_bytes"] == size
    assert s["recomputed_bytes"] == size and s["inferred_layouts"] == []
assert f["fix_commands"] == ["xlayout relayout --shape 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' "
                             "--to '{2,1,0:T(8,128)(2,1)}' IN OUT"]
assert any("Checkpoint and XLA configuration mismatch" in c for c in f["causes"])
EOF

# --- Grouping across replicas: 64 glog lines + the traceback for 2482.
expect_rc 1 "$XLAYOUT" explain --json "$EXAMPLES/jax_multireplica.log" >"$tmp/multi"
$PY - "$tmp/multi" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
assert [x["parameter"] for x in f] == [2482, 2483], f
assert f[0]["count"] == 65 and f[0]["replicas"] == list(range(64)), f[0]
assert f[1]["count"] == 64 and f[1]["partitions"] == [0]
assert all(x["classification"] == "layout" for x in f)
EOF
expect_rc 1 "$XLAYOUT" explain "$EXAMPLES/jax_multireplica.log" >"$tmp/out"
grep -qF "parameter 2482 of jit_train_step on replicas 0–63, partition 0: layout (65 messages)" \
  "$tmp/out" || fail "grouped summary"
expect_rc 1 "$XLAYOUT" explain --no-group --json "$EXAMPLES/jax_multireplica.log" >"$tmp/ng"
$PY -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"]; assert len(f) == 129, len(f)' "$tmp/ng"

# --- A log mixing runtimes and forms: every message found and classified.
expect_rc 1 "$XLAYOUT" explain --json "$EXAMPLES/mixed_runtimes.log" >"$tmp/mixed" 2>"$tmp/err"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
$PY - "$tmp/mixed" <<'EOF2'
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
got = [(x["kind"], x["classification"]) for x in f]
assert got == [("size_no_shapes", "unknown"), ("size_no_shapes", "unknown"),
               ("size", "layout"), ("memory_space", "memory_space"),
               ("host_shape", "layout"), ("incompatible_shape", "dims"),
               ("size", "element_type")], got
assert f[2]["expected"]["inferred_layouts"][0]["shape"] == "bf16[8,3,200]{2,1,0:T(4,128)(2,1)}"
EOF2

# --- The summary merges parameters with the same mismatch.
msgs=$(for p in 3 4 5 9; do
  echo "Executable(jit_f) expected parameter $p of size 16 (f32[4]{0}) but got buffer with incompatible size 20 (f32[5]{0})"
done)
expect_rc 1 "$XLAYOUT" explain -m "$msgs" >"$tmp/out"
grep -qF "parameters 3–5, 9 of jit_f: dims (4 messages)" "$tmp/out" || fail "parameter ranges"

# --- stdin, and several inputs grouped together.
expect_rc 1 "$XLAYOUT" explain --json <"$EXAMPLES/e0102_docs_sample.log" >"$tmp/stdin"
$PY -c 'import json,sys; assert json.load(open(sys.argv[1]))["findings"][0]["parameter"] == 2482' "$tmp/stdin"
expect_rc 1 "$XLAYOUT" explain --json "$EXAMPLES/e0102_docs_sample.log" - \
  <"$EXAMPLES/e0102_docs_sample.log" >"$tmp/two"
$PY -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"]; assert len(f) == 1 and f[0]["count"] == 2, f' "$tmp/two"

# --- A message given on the command line; sizes only.
expect_rc 1 "$XLAYOUT" explain --json -m 'Executable expected parameter 0 of size 4096 but got buffer with incompatible size 2048' >"$tmp/m"
$PY - "$tmp/m" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1]))["findings"][0]
assert f["kind"] == "size_no_shapes" and f["classification"] == "unknown"
assert f["program"] is None and f["expected"]["shape"] is None
assert f["expected"]["printed_bytes"] == 4096 and f["actual"]["printed_bytes"] == 2048
EOF

# --- Inferred tilings in JSON.
expect_rc 1 "$XLAYOUT" explain --json -m 'Executable(jit_s) expected parameter 1 of size 1024 (f32[]) but got buffer with incompatible size 4 (f32[])' >"$tmp/inf"
$PY - "$tmp/inf" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1]))["findings"][0]
assert f["consistent"] is False
inf = f["expected"]["inferred_layouts"]
assert inf[0]["shape"] == "f32[]{:T(256)}" and "T(256)" in inf[0]["rule"], inf
assert f["fix_commands"] == ["xlayout relayout --shape 'f32[]' --to '{:T(256)}' IN OUT"]
EOF

# --- Nothing found: exit 0, a note on stdout, valid empty JSON.
printf 'I0125 12:00:00.000000 1 a.cc:1] all good\n' >"$tmp/clean.log"
expect_rc 0 "$XLAYOUT" explain "$tmp/clean.log" >"$tmp/out"
grep -q "No program-input-mismatch" "$tmp/out" || fail "no-findings note"
expect_rc 0 "$XLAYOUT" explain --json "$tmp/clean.log" >"$tmp/out"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["findings"] == [] and d["errors"] == [] and d["messages"] == 0, d' "$tmp/out" \
  || fail "empty JSON: $(cat "$tmp/out")"

# --- A candidate that cannot be read: warning on stderr, not a finding.
printf 'Executable(jit_f) expected parameter 3 of size 12 (f32[3]{0}) but then garbage\n' >"$tmp/bad.log"
expect_rc 0 "$XLAYOUT" explain "$tmp/bad.log" >"$tmp/out" 2>"$tmp/err"
grep -q "1 place looks like a program-input-mismatch message but could not be read (.*); first at .*bad.log:1: " "$tmp/err" \
  || fail "warning: $(cat "$tmp/err")"

# --- Input errors: exit 2, message on stderr, nothing on stdout (regression
# 10.15: "No ... messages found" was printed for a file never read).
expect_rc 2 "$XLAYOUT" explain "$tmp/does-not-exist.log" >"$tmp/out" 2>"$tmp/err"
grep -q "does-not-exist.log" "$tmp/err" || fail "missing-file error"
[ ! -s "$tmp/out" ] || fail "stdout on error: $(cat "$tmp/out")"
# With --json: the envelope with the error object (docs/json.md).
expect_rc 2 "$XLAYOUT" explain --json "$tmp/does-not-exist.log" >"$tmp/out" 2>"$tmp/err"
$PY - "$tmp/out" <<'PYEND'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "xlayout.v1" and d["findings"] == [], d
(e,) = d["errors"]
assert list(e) == ["input", "code", "message"], e
assert e["input"]["file"].endswith("does-not-exist.log") and e["code"] == "NOT_FOUND", e
PYEND
expect_rc 2 "$XLAYOUT" explain "$tmp" >"$tmp/out" 2>"$tmp/err"
grep -q "is a directory" "$tmp/err" || fail "directory error"
expect_rc 2 "$XLAYOUT" explain --bogus-flag >"$tmp/out" 2>"$tmp/err"

# --- Help describes the command.
"$XLAYOUT" explain --help >"$tmp/help"
grep -q "E0102" "$tmp/help" || fail "help text"
grep -q -- "--json" "$tmp/help" || fail "help lists --json"

# --- The whole corpus explains without an unreadable candidate.
sed -n '/^--- input$/,/^--- expect$/p' "$TESTDATA/explain/corpus.txt" \
  | grep -v '^--- ' | sed 's/<SP>$/ /' >"$tmp/corpus.log"
expect_rc 1 "$XLAYOUT" explain --no-group --json "$tmp/corpus.log" >"$tmp/c.json" 2>"$tmp/err"
$PY -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"]; assert len(f) >= 40, len(f)' "$tmp/c.json"

# --- Regression 10.11: each -m takes one value; the next word is a file.
expect_rc 2 "$XLAYOUT" explain -m 'Executable(jit_s) expected parameter 1 of size 1024 (f32[]) but got buffer with incompatible size 4 (f32[])' \
  "$tmp/missing.log" >"$tmp/out" 2>"$tmp/err"
grep -q "missing.log" "$tmp/err" || fail "-m swallowed the file: $(cat "$tmp/err")"
expect_rc 1 "$XLAYOUT" explain --json -m "$msgs" \
  -m 'Executable(jit_g) expected parameter 1 of size 16 (f32[4]{0}) but got buffer with incompatible size 20 (f32[5]{0})' \
  "$EXAMPLES/e0102_docs_sample.log" >"$tmp/mm"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["messages"] == 6, d["messages"]' "$tmp/mm"

# --- Regression 10.5: terminal escapes from a log are printed escaped.
printf 'INVALID_ARGUMENT: Executable(jit_\033[31mevil\033]0;pwned\007) expected parameter 2 of size 5242880 (bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) but got buffer with incompatible size 1638400 (bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}): while running replica 0 and partition 0 of a replicated computation (other replicas may have failed as well).\n' \
  >"$tmp/esc.log"
expect_rc 1 "$XLAYOUT" explain "$tmp/esc.log" >"$tmp/out" 2>"$tmp/err"
if LC_ALL=C grep -q $'[\x1b\x07]' "$tmp/out" "$tmp/err"; then fail "raw control bytes echoed"; fi
grep -qF 'jit_\x1b[31mevil\x1b]0;pwned\x07' "$tmp/out" || fail "escaped program name: $(head -3 "$tmp/out")"
# JSON keeps the exact text (JSON escapes it).
expect_rc 1 "$XLAYOUT" explain --json "$tmp/esc.log" >"$tmp/out"
$PY -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"][0]; assert f["program"] == "jit_\x1b[31mevil\x1b]0;pwned\x07", f["program"]' "$tmp/out"
# An unreadable candidate with escapes: the warning is escaped too.
printf 'Executable(jit_\033[2J) expected parameter 3 of size 12 (f32[3]{0}) but then garbage\n' >"$tmp/bad2.log"
expect_rc 0 "$XLAYOUT" explain "$tmp/bad2.log" >"$tmp/out" 2>"$tmp/err"
if LC_ALL=C grep -q $'\x1b' "$tmp/err"; then fail "raw ESC in a warning"; fi

# --- Regression 10.15: output at scale. 3,000 distinct findings and 2,000
# unreadable candidates: --limit, --summary, one warning per kind.
$PY - "$tmp/scale.log" <<'PYEND'
import sys
with open(sys.argv[1], "w") as f:
    for p in range(3000):
        f.write(f"Executable(jit_big) expected parameter {p} of size 16 (f32[4]{{0}}) "
                f"but got buffer with incompatible size {4 * (p + 25)} (f32[{p + 25}]{{0}})\n")
    for i in range(2000):
        f.write("Executable(jit_big) expected parameter 1 of size 12 (f32[3]{0}) but then garbage\n")
PYEND
expect_rc 1 "$XLAYOUT" explain "$tmp/scale.log" >"$tmp/out" 2>"$tmp/err"
[ "$(grep -c '^\[[0-9]*\] ' "$tmp/out")" -eq 50 ] || fail "default limit: $(grep -c '^\[' "$tmp/out")"
grep -qF "2,950 more findings not shown" "$tmp/out" || fail "limit note"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "one warning per kind: $(head -3 "$tmp/err")"
grep -qF "2,000 places look like a program-input-mismatch message" "$tmp/err" || fail "warning count: $(cat "$tmp/err")"
expect_rc 1 "$XLAYOUT" explain --limit 3 "$tmp/scale.log" >"$tmp/out" 2>/dev/null
[ "$(grep -c '^\[[0-9]*\] ' "$tmp/out")" -eq 3 ] || fail "--limit 3"
expect_rc 1 "$XLAYOUT" explain --summary "$tmp/scale.log" >"$tmp/out" 2>/dev/null
if grep -q '^\[[0-9]*\] ' "$tmp/out"; then fail "--summary printed findings"; fi
grep -q "^Summary" "$tmp/out" || fail "--summary: no summary"
expect_rc 1 "$XLAYOUT" explain --json --limit 10 "$tmp/scale.log" >"$tmp/out" 2>/dev/null
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["findings"]) == 10 and d["findings_total"] == 3000 and d["unreadable"][0]["count"] == 2000, (len(d["findings"]), d["findings_total"])' "$tmp/out"
expect_rc 2 "$XLAYOUT" explain --limit -1 "$tmp/scale.log" >/dev/null 2>&1
# Echoed input is cut to a readable length.
$PY -c 'print("Executable(jit_" + "x" * 3000 + ") expected parameter 3 of size 12 (f32[3]{0}) but got buffer with incompatible size 16 (f32[4]{0})")' >"$tmp/long.log"
expect_rc 1 "$XLAYOUT" explain "$tmp/long.log" >"$tmp/out" 2>/dev/null
! grep -q "x\{1000\}" "$tmp/out" || fail "long program name echoed whole: $(wc -c <"$tmp/out") bytes"
grep -qF "more bytes)" "$tmp/out" || fail "no truncation mark"

# --- Issue 13 families: the families corpus as one log. Every message is
# found, none is unreadable, and the negatives report nothing.
sed -n '/^--- input$/,/^--- expect$/p' "$TESTDATA/explain/families.txt" \
  | grep -v '^--- ' | sed 's/<SP>$/ /' >"$tmp/families.log"
expect_rc 1 "$XLAYOUT" explain --no-group --json "$tmp/families.log" >"$tmp/fam.json" 2>"$tmp/err"
[ ! -s "$tmp/err" ] || fail "families: unexpected stderr: $(cat "$tmp/err")"
$PY - "$tmp/fam.json" <<'PYEND'
import json, sys
doc = json.load(open(sys.argv[1]))
f = doc["findings"]
kinds = {}
for x in f:
    kinds[x["kind"]] = kinds.get(x["kind"], 0) + 1
    assert "parameter_name" in x and "jax_fix" in x, sorted(x)
want = {"tpu_execute": 5, "jax_layout": 7, "invalid_buffer": 4,
        "malformed_layout": 2, "mosaic_layout": 3, "incompatible_shape": 2}
assert kinds == want, kinds
assert doc["unreadable"] == [], doc["unreadable"]
tpu = [x for x in f if x["kind"] == "tpu_execute"][0]
assert tpu["parameter"] == 3 and tpu["parameter_name"] == "cluster_train_function/_variable_7:0", tpu
assert tpu["expected"]["shape"] == "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}", tpu["expected"]
assert tpu["expected"]["recomputed_bytes"] == 5242880 and tpu["actual"]["recomputed_bytes"] == 1638400
assert tpu["classification"] == "layout"
assert tpu["jax_fix"] == ("jax.device_put(x, Format(Layout(major_to_minor=(0, 1, 2), "
                          "tiling=((8, 128), (2, 1))), x.sharding))"), tpu["jax_fix"]
jax = [x for x in f if x["kind"] == "jax_layout"][0]
assert jax["parameter_name"] == "params['embed']" and jax["classification"] == "layout", jax
assert jax["fix_commands"] == ["xlayout relayout --shape 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' "
                               "--to '{2,1,0:T(8,128)(2,1)}' IN OUT"], jax["fix_commands"]
inv = [x for x in f if x["kind"] == "invalid_buffer"]
assert all(x["classification"] == "invalid_buffer" and x["fix_commands"] == [] for x in inv), inv
bad = [x for x in f if x["kind"] == "malformed_layout"]
assert all(x["classification"] == "malformed_layout" for x in bad), bad
mos = [x for x in f if x["kind"] == "mosaic_layout"]
assert all(x["fix_commands"] == [] and x["jax_fix"] is None for x in mos), mos
PYEND

# Human output: the argument name in the title, the JAX fix next to the
# relayout command, the invalid-buffer advice.
expect_rc 1 "$XLAYOUT" explain "$tmp/families.log" >"$tmp/out" 2>"$tmp/err"
grep -qF "parameter 3 (cluster_train_function/_variable_7:0)" "$tmp/out" || fail "TPUExecute title"
grep -qF "argument params['embed']" "$tmp/out" || fail "JAX argument title"
grep -qF "in JAX: jax.device_put(x, Format(Layout(major_to_minor=(0, 1, 2), tiling=((8, 128), (2, 1))), x.sharding))" \
  "$tmp/out" || fail "JAX fix line"
grep -qF "deleted or donated buffer" "$tmp/out" || fail "invalid buffer summary"
grep -qF "donate_argnums" "$tmp/out" || fail "donation advice"
grep -qF "malformed layout" "$tmp/out" || fail "malformed layout summary"

# A message of the families quoted in JSON on stdin, from -m too.
printf '%s\n' '{"msg": "RuntimeError: Invalid buffer passed to Execute() as argument 4 to replica 2: Invalid argument: Buffer has been deleted or donated.", "level": "error"}' \
  | { set +e; "$XLAYOUT" explain --json >"$tmp/out"; echo $? >"$tmp/rc"; }
[ "$(cat "$tmp/rc")" -eq 1 ] || fail "stdin invalid buffer: exit $(cat "$tmp/rc")"
$PY -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"][0]; assert (f["kind"], f["parameter"], f["replicas"]) == ("invalid_buffer", 4, [2]), f' "$tmp/out"

# A negative --limit is a usage error with a short message (regression,
# new-user trial: CLI11 printed a 300-digit range).
expect_rc 2 "$XLAYOUT" explain --limit -1 "$EXAMPLES/e0102_docs_sample.log" >"$tmp/out" 2>"$tmp/err"
grep -q "expected a count >= 0, got '-1'" "$tmp/err" || fail "--limit -1: $(cat "$tmp/err")"
[ "$(wc -c < "$tmp/err")" -lt 200 ] || fail "--limit -1: a long message: $(cat "$tmp/err")"

# Binary input is refused from its first bytes, not scanned into bogus
# findings (regression, new-user trial: the xlayout binary gave an OOM
# "finding"); UTF-16 and gzip logs say what to do.
expect_rc 2 "$XLAYOUT" explain "$XLAYOUT" >"$tmp/out" 2>"$tmp/err"
grep -q "not a text log (binary data: " "$tmp/err" || fail "binary: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "binary: stdout: $(cat "$tmp/out")"
printf 'E0102 log' | iconv -f UTF-8 -t UTF-16 > "$tmp/u16.log"
expect_rc 2 "$XLAYOUT" explain "$tmp/u16.log" >"$tmp/out" 2>"$tmp/err"
grep -q "UTF-16 text; convert it with iconv" "$tmp/err" || fail "UTF-16: $(cat "$tmp/err")"
printf 'E0102 log' | iconv -f UTF-8 -t UTF-16LE > "$tmp/u16le.log"
expect_rc 2 "$XLAYOUT" explain "$tmp/u16le.log" >"$tmp/out" 2>"$tmp/err"
grep -q "UTF-16 text" "$tmp/err" || fail "UTF-16LE without a BOM: $(cat "$tmp/err")"
# A stray Latin-1 byte or a crash's trailing NULs do not make a log binary
# (regression, second trial: the first fix refused them).
{ printf 'user=Jos\xe9\n'; cat "$EXAMPLES/e0102_docs_sample.log"; head -c 100 /dev/zero; } > "$tmp/latin1.log"
expect_rc 1 "$XLAYOUT" explain "$tmp/latin1.log" >"$tmp/out" 2>"$tmp/err"
grep -q "parameter 2482 of jit_embedding_pipeline_step_fn" "$tmp/out" || fail "latin1 log: $(cat "$tmp/out" "$tmp/err")"
# A run of NULs at the start (logrotate's copytruncate) is skipped with a
# warning saying how many bytes and why, and the log is scanned (regression,
# third trial: 64 NULs made it "binary data: " with an empty excerpt).
for n in 64:64 65536:65,536; do
  { head -c "${n%%:*}" /dev/zero; printf 'E0101 Executable(jit_f) expected parameter 3 of size 4096 (f32[32,32]{1,0}) but got buffer with incompatible size 2048 (f32[32,16]{1,0})\n'; } > "$tmp/nul.log"
  expect_rc 1 "$XLAYOUT" explain "$tmp/nul.log" >"$tmp/out" 2>"$tmp/err"
  grep -q "parameter 3 of jit_f" "$tmp/out" || fail "leading NULs ($n): $(cat "$tmp/out" "$tmp/err")"
  grep -q "nul.log: skipped ${n#*:} NUL bytes at the start (what logrotate's copytruncate" "$tmp/err" || fail "leading NULs ($n): $(cat "$tmp/err")"
done
# Binary data after the NULs is still refused, with an escaped excerpt in
# which a literal backslash is doubled.
# The random tail is seeded: CI once drew a tail with few control bytes,
# which the old binary test took for text.
for seed in 1 2 3 4 5 6 7 8; do
{ head -c 5000 /dev/zero; printf '\001\002\\x41\177ELF'
  $PY -c 'import random,sys; r=random.Random(int(sys.argv[1])); sys.stdout.buffer.write(bytes(r.randrange(1, 256) for _ in range(100)))' "$seed"; } > "$tmp/nulbin"
expect_rc 2 "$XLAYOUT" explain "$tmp/nulbin" >"$tmp/out" 2>"$tmp/err"
grep -qF 'not a text log (binary data: \x01\x02\\x41\x7fELF' "$tmp/err" || fail "binary after NULs (seed $seed): $(cat "$tmp/err")"
done
gzip -c "$EXAMPLES/e0102_docs_sample.log" > "$tmp/log.gz"
expect_rc 2 "$XLAYOUT" explain "$tmp/log.gz" >"$tmp/out" 2>"$tmp/err"
grep -q "gzip data; decompress it" "$tmp/err" || fail "gzip: $(cat "$tmp/err")"

# Each -m takes one value, and help says so (regression, third trial: it
# showed `TEXT ...`); several -m are all explained.
"$XLAYOUT" explain --help > "$tmp/help"
grep -qE -- '-m,--message TEXT +Explain' "$tmp/help" || fail "help -m: $(grep -- -m, "$tmp/help")"
expect_rc 1 "$XLAYOUT" explain --summary \
  -m 'Executable(jit_f) expected parameter 1 of size 16 (f32[4]) but got buffer with incompatible size 8 (f32[2])' \
  -m 'Executable(jit_g) expected parameter 1 of size 16 (f32[4]) but got buffer with incompatible size 8 (f32[2])' >"$tmp/out" 2>"$tmp/err"
grep -q "2 findings from 2 messages" "$tmp/out" || fail "two -m: $(cat "$tmp/out" "$tmp/err")"
# An inferred tiling's rule is xlayout's own text: never cut (regression,
# third trial: "… (76 more bytes)").
expect_rc 1 "$XLAYOUT" explain -m 'Executable(jit_attn) expected parameter 9 of size 16384 (bf16[8,3,200]{2,1,0}) but got buffer with incompatible size 12288 (bf16[8,3,200]{2,1,0})' >"$tmp/out" 2>"$tmp/err"
grep -qF "(XLA sizes buffers by the first tile level)" "$tmp/out" || fail "rule cut: $(grep 'actual #1' "$tmp/out")"

# The explain transcripts in docs/explain.md and README.md are what the tool
# prints, line for line ("..." marks lines left out).
(cd "$TESTDATA/.." && NO_COLOR=1 $PY - "$XLAYOUT" docs/explain.md README.md <<'PYEOF') || fail "docs transcripts"
import shlex, subprocess, sys
xlayout, paths = sys.argv[1], sys.argv[2:]
bad = 0
for path in paths:
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if not (lines[i].startswith("```") and i + 1 < len(lines)
                and lines[i + 1].startswith("$ xlayout explain ")):
            i += 1
            continue
        cmd = lines[i + 1][2:].split("   #")[0]
        j = i + 2
        while not lines[j].startswith("```"):
            j += 1
        body = lines[i + 2:j]
        i = j + 1
        if "|" in cmd or "check.txt" in cmd:
            continue  # Pipelines and files of another transcript.
        out = subprocess.run(shlex.quote(xlayout) + cmd[len("xlayout"):], shell=True,
                             capture_output=True, text=True).stdout.split("\n")
        k, gap = 0, False
        for want in body:
            if want.strip() == "...":
                gap = True
                continue
            if gap:
                while k < len(out) and out[k] != want:
                    k += 1
            if k < len(out) and out[k] == want:
                k += 1
                gap = False
                continue
            print(f"{path}: '{cmd}': want {want!r}, got "
                  f"{out[k] if k < len(out) else None!r}", file=sys.stderr)
            bad += 1
            break
sys.exit(1 if bad else 0)
PYEOF

echo "explain CLI tests passed"
