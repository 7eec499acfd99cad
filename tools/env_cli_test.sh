#!/usr/bin/env bash
# End-to-end tests of `xlayout env diff`: exit codes, layout-affecting
# components first, JSON keys, errors naming the file.
set -euo pipefail
: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
: "${TESTDATA:?set TESTDATA to the testdata directory}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_fail.sh"
py=/usr/bin/python3
v4="$TESTDATA/checkpoint/env/env_v4.json"
v5="$TESTDATA/checkpoint/env/env_v5e.json"

# The same file: exit 0, nothing on stderr.
"$XLAYOUT" env diff "$v4" "$v4" >"$tmp/out" 2>"$tmp/err" || fail "same file exited $?"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
grep -q '^Summary identical environments$' "$tmp/out" || fail "identical summary: $(cat "$tmp/out")"

# Two generations: exit 1, layout-affecting section before the other one.
rc=0
"$XLAYOUT" env diff "$v4" "$v5" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "differing environments exited $rc"
[ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
grep -q '^Summary 9 components differ; 6 can change layouts$' "$tmp/out" || fail "summary: $(cat "$tmp/out")"
layout_line=$(grep -n '^Can change layouts' "$tmp/out" | cut -d: -f1)
other_line=$(grep -n '^Other' "$tmp/out" | cut -d: -f1)
[ -n "$layout_line" ] && [ -n "$other_line" ] && [ "$layout_line" -lt "$other_line" ] ||
  fail "layout-affecting changes not first: $(cat "$tmp/out")"
# Every line in the first section is a layout-affecting component.
sed -n "$((layout_line + 1)),$((other_line - 2))p" "$tmp/out" >"$tmp/layout"
grep -q 'device kind: TPU v4 → TPU v5 lite' "$tmp/layout" || fail "device kind: $(cat "$tmp/layout")"
grep -q 'topology: 4x4x4 → 4x8' "$tmp/layout" || fail "topology"
grep -q 'xla_tpu_foo' "$tmp/layout" || fail "flag change"
! grep -q 'jax' "$tmp/layout" || fail "jax version listed as layout-affecting"
# The dump-only flag --xla_dump_to is not a difference.
! grep -q 'xla_dump_to' "$tmp/out" || fail "dump-only flag reported"

# --json: envelope, keys, order of changes.
rc=0
"$XLAYOUT" env diff --json "$v4" "$v5" >"$tmp/j" || rc=$?
[ "$rc" = 1 ] || fail "--json exited $rc"
$py - "$tmp/j" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["schema", "command", "inputs", "identical", "summary",
                   "layout_affecting", "not_compared", "changes", "errors"], list(d)
assert d["schema"] == "xlayout.v1" and d["command"] == "env diff"
assert d["inputs"][0]["file"].endswith("env_v4.json")
assert d["identical"] is False and d["errors"] == []
c = d["changes"]
assert d["layout_affecting"] == sum(x["affects_layout"] for x in c) == 6
flags = [x["affects_layout"] for x in c]
assert flags == sorted(flags, reverse=True), flags  # layout-affecting first
for x in c:
    assert list(x) == ["component", "flag", "before", "after", "affects_layout", "text"], list(x)
topo = [x for x in c if x["component"] == "topology"][0]
assert (topo["before"], topo["after"]) == ("4x4x4", "4x8"), topo
PY

# A missing file: exit 2, named on stderr and in errors.
rc=0
"$XLAYOUT" env diff "$v4" "$tmp/nope.json" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "missing file exited $rc"
grep -q "nope.json" "$tmp/err" || fail "error does not name the file"
# Regression: env files are read through the io layer (they were read with
# ifstream): a device is refused, "-" is stdin, and a FIFO nobody writes to
# is read as a stream.
rc=0
"$XLAYOUT" env diff "$v4" /dev/zero >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "device exited $rc"
grep -q "/dev/zero" "$tmp/err" || fail "device error does not name the file: $(cat "$tmp/err")"
"$XLAYOUT" env diff "$v4" - <"$v4" >"$tmp/out" || fail "stdin as B"
grep -q '^Summary identical environments$' "$tmp/out" || fail "stdin summary: $(cat "$tmp/out")"
mkfifo "$tmp/fifo"
(cat "$v4" >"$tmp/fifo" &)
timeout 10 "$XLAYOUT" env diff "$v4" "$tmp/fifo" >"$tmp/out" || fail "fifo as B"
grep -q '^Summary identical environments$' "$tmp/out" || fail "fifo summary"
# Malformed JSON: exit 2, with --json the error in errors.
echo '{"format": "xlayout.environment.v1", "device_count": "x"}' >"$tmp/bad.json"
rc=0
"$XLAYOUT" env diff --json "$tmp/bad.json" "$v4" >"$tmp/j" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "malformed file exited $rc"
$py - "$tmp/j" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "env diff" and len(d["errors"]) == 1, d
assert d["errors"][0]["input"]["file"].endswith("bad.json")
assert "device_count" in d["errors"][0]["message"], d
PY
# Usage: env without a subcommand, diff with one file.
rc=0; "$XLAYOUT" env >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "env alone exited $rc"
grep -q 'subcommands are: diff' "$tmp/err" || fail "env alone: $(cat "$tmp/err")"
rc=0; "$XLAYOUT" env bogus >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "env bogus exited $rc"
rc=0; "$XLAYOUT" env diff "$v4" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "one file exited $rc"

# What is not compared is said: dump flags always, a flag variable that
# only one side records.
$py -c '
import json, sys
e = json.load(open(sys.argv[1])); e.pop("xla_flags", None)
json.dump(e, open(sys.argv[2], "w"))' "$v4" "$tmp/noflags.json"
rc=0; "$XLAYOUT" env diff "$v4" "$v4" > "$tmp/out" || rc=$?
[ "$rc" = 0 ] || fail "identical exited $rc"
grep -q '^Not compared: --xla_dump_\* flags (they only control debug output)$' "$tmp/out" \
  || fail "not compared: $(cat "$tmp/out")"
rc=0; "$XLAYOUT" env diff "$v4" "$tmp/noflags.json" > "$tmp/out" || rc=$?
grep -q 'Not compared: .*; XLA_FLAGS (B does not record them)$' "$tmp/out" \
  || fail "not compared XLA_FLAGS: $(cat "$tmp/out")"
"$XLAYOUT" env diff "$tmp/noflags.json" "$v4" --json > "$tmp/j" || true
$py -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["not_compared"][1] == "XLA_FLAGS (A does not record them)", j["not_compared"]' "$tmp/j" \
  || fail "not_compared JSON"

# `xlayout help env diff` is `xlayout env diff --help`.
"$XLAYOUT" help env diff > "$tmp/help.txt"
grep -q '^Usage: xlayout env diff \[OPTIONS\] A B' "$tmp/help.txt" \
  || fail "help env diff: $(cat "$tmp/help.txt")"
"$XLAYOUT" env diff --help > "$tmp/direct.txt"
cmp "$tmp/help.txt" "$tmp/direct.txt" || fail "help env diff differs from env diff --help"
rc=0; "$XLAYOUT" help env bogus > /dev/null 2> "$tmp/err.txt" || rc=$?
[ "$rc" = 2 ] || fail "help env bogus exited $rc"
grep -q "'xlayout env' has no subcommand 'bogus'" "$tmp/err.txt" || fail "help env bogus: $(cat "$tmp/err.txt")"
echo PASS
