#!/usr/bin/env bash
# End-to-end tests of `xlayout relayout --program DUMP --checkpoint DIR -o
# OUT`: a checkpoint imported (from .npy files written by numpy) under
# program A is rewritten for program B (a transposed tile order with another
# size, a same-size transpose, a changed tile, a memory kind); B's check then
# passes and export gives back numpy's arrays bit for bit. Also: --verify,
# --threads, --json, provenance, refusal with check's report, outputs that
# would touch the source or unrelated files, a corrupt source, usage errors.
set -euo pipefail

: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
: "${TESTDATA:?set TESTDATA to the testdata directory}"
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

ENV_A="$TESTDATA/checkpoint/env/env_v4.json"
ENV_B="$TESTDATA/checkpoint/env/env_v5e.json"

checkpoint_fixture "$ENV_A"
# C: k has other dims; no relayout can fix that.
program C.hlo 'act:f32[16,256,40]{1,2,0:T(8,128)}' 'w:f32[256,256]{0,1:T(8,128)}' \
  'k:f32[40,41]{1,0:T(8,128)}' 'ids:s32[16]{0}' 'host:f32[4]{0:T(256)}'

"$XLAYOUT" inspect ck --verify > /dev/null || fail "source does not verify"
cp -r ck ck.orig

# --- the fix: exit 0, then check passes and export is numpy's bytes --------
run 0 "$XLAYOUT" relayout --program B.hlo --checkpoint ck --env "$ENV_B" -o ck.b
has 'Summary 3 tensors converted, 2 copied (1 to another memory kind); wrote ck.b'
has 'f32[16,256,40]{2,1,0:T(8,128)}'
has 'environment recorded: the current environment (--env)'
has "checksums: every converted tensor's source verified; 2 copied tensors carried over unread with the source's checksums (--verify re-reads them)"
[ ! -s err.txt ] || fail "stderr (no TTY: no progress bar): $(cat err.txt)"
diff -r ck ck.orig > /dev/null || fail "the source changed"
run 0 "$XLAYOUT" check --program B.hlo --checkpoint ck.b --env "$ENV_B"
has 'The checkpoint matches the program.'
has 'no changes'
# A tensor converted into another memory kind is counted with the converted
# ones, not the copies (it said "4 copied (1 to another memory kind)").
program D.hlo 'act:f32[16,256,40]{2,1,0:T(8,128)}' 'w:f32[256,256]{1,0:T(8,128)}' \
  'k:f32[40,40]{1,0:T(8,128)}' 'ids:s32[16]{0}' 'host:f32[4]{0:T(128)S(5)}'
run 0 "$XLAYOUT" relayout --program D.hlo --checkpoint ck --env "$ENV_A" -o ck.d
has 'Summary 1 tensor converted (1 to another memory kind), 4 copied; wrote ck.d'
rm -rf ck.d D.hlo
run 0 "$XLAYOUT" inspect ck.b --verify
# --threads 1024 for 5 tensors starts at most 5 workers, not 1024.
if strace -f -qq -o /dev/null true 2> /dev/null; then
  # LeakSanitizer cannot run under ptrace: off for this one run.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=clone,clone3 -o clones.txt "$XLAYOUT" relayout --program B.hlo \
    --checkpoint ck --env "$ENV_B" -o ck.t --threads 1024 > /dev/null 2> err.txt \
    || fail "relayout --threads 1024: $(cat err.txt)"
  clones=$(grep clone clones.txt | grep -vc resumed || true)
  [ "$clones" -le 5 ] || fail "--threads 1024 for 5 tensors started $clones threads"
fi
"$XLAYOUT" export --checkpoint ck.b -o exported/ > /dev/null 2> err.txt || fail "export: $(cat err.txt)"
for t in act w k ids host; do
  cmp "$t.npy" "exported/$t.npy" || fail "export of $t differs from numpy's file"
done
# Provenance and environment in the manifest.
$PY - <<'PY' || fail "manifest: $(cat ck.b/manifest.json)"
import json
m = json.load(open("ck.b/manifest.json"))
p = m["provenance"]
assert p["source_checkpoint"] == "ck", p
assert p["source_environment"]["device_kind"] == "TPU v4", p
assert m["environment"]["device_kind"] == "TPU v5 lite", m["environment"]
conv = {c["tensor"]: c["from"] for c in p["conversions"]}
assert conv == {"act": "f32[16,256,40]{2,1,0:T(8,128)}",
                "w": "f32[256,256]{1,0:T(8,128)}",
                "k": "f32[40,40]{1,0:T(8,128)}"}, conv
t = {t["name"]: t for t in m["tensors"]}
assert t["host"]["memory_kind"] == "pinned_host", t["host"]
assert t["act"]["binding"] == {"parameter": 0}, t["act"]
PY

# --- --threads 2 and --verify: the same bytes -------------------------------
run 0 "$XLAYOUT" relayout --program B.hlo --checkpoint ck --env "$ENV_B" -o ck.b2 --threads 2 --verify
has 'the output re-read and every physical and logical checksum verified, copies included'
cmp ck.b/data/tensors.bin ck.b2/data/tensors.bin || fail "--threads 2 wrote other bytes"
cmp ck.b/manifest.json ck.b2/manifest.json || fail "--threads 2 wrote another manifest"
# Rerun over an existing output: replaced.
run 0 "$XLAYOUT" relayout --program B.hlo --checkpoint ck --env "$ENV_B" -o ck.b2
ls -a | grep -q 'xlayout-tmp' && fail "temporary directory left: $(ls -a)"

# --- --json ------------------------------------------------------------------
run 0 "$XLAYOUT" relayout --program B.hlo --checkpoint ck --env "$ENV_B" -o ck.b3 --json
$PY - <<'PY' || fail "json: $(cat out.txt)"
import json
j = json.load(open("out.txt"))
assert j["schema"] == "xlayout.v1" and j["command"] == "relayout", j
assert list(j)[:5] == ["schema", "command", "input", "program_input", "env_input"], list(j)
assert list(j)[-1] == "errors" and j["errors"] == []
assert j["written"] is True and j["output"]["file"] == "ck.b3"
assert j["counts"] == {"tensors": 5, "converted": 3, "copied": 2}, j["counts"]
act = j["tensors"][0]
assert act["tensor"] == "act" and act["action"] == "converted", act
assert act["from"] == {"shape": "f32[16,256,40]{2,1,0:T(8,128)}", "exact_bytes": 2097152, "memory_kind": "device"}, act
assert act["to"]["exact_bytes"] == 655360, act
assert j["check"]["counts"]["needs_relayout"] == 3 and j["check"]["ok"] is False
assert j["bytes_written"] == sum(t["to"]["exact_bytes"] for t in j["tensors"])
PY

# --- refused: an incompatible parameter; check's report, nothing written ----
run 1 "$XLAYOUT" relayout --program C.hlo --checkpoint ck -o ck.c
has 'parameter 2 (k) ← tensor "k" (by manifest): incompatible'
has 'Summary 5 parameters:'
grep -q 'Fix:' out.txt && fail "a refused relayout prints a fix"
grep -q 'nothing written' err.txt || fail "stderr: $(cat err.txt)"
[ ! -e ck.c ] || fail "ck.c written"
run 1 "$XLAYOUT" relayout --program C.hlo --checkpoint ck -o ck.c --json
$PY -c 'import json; j = json.load(open("out.txt")); assert j["written"] is False and j["output"] is None and j["check"]["counts"]["incompatible"] == 1 and j["counts"] == {"tensors": 5, "converted": 0, "copied": 0}, j'

# --- a dump that contradicts itself: the reader's warnings on stderr, as
# `signature` prints them (regression, user trial: relayout said nothing) ---
# C9: C with the header saying ids is s32[9] (the ENTRY says s32[16]).
sed '1s/s32\[16\]{0}/s32[9]{0}/' C.hlo > C9.hlo
"$XLAYOUT" signature C9.hlo > /dev/null 2> sig_err.txt || fail "signature C9.hlo: $(cat sig_err.txt)"
run 1 "$XLAYOUT" relayout --program C9.hlo --checkpoint ck -o ck.c9
[ "$(cat err.txt)" = "$(cat sig_err.txt)
error: relayout: nothing written: 2 parameter(s) cannot be fixed by a relayout (2 incompatible, 0 missing); see the report above" ] \
  || fail "stderr of a refused relayout of C9.hlo: $(cat err.txt)"
has 'warning: parameter 3: entry_computation_layout says s32[9]{0} but ENTRY parameter(3) at line 7 is s32[16]{0}; using the header' err.txt
has 'parameter 3 (ids) ← tensor "ids" (by manifest): incompatible: different dims'
[ ! -e ck.c9 ] || fail "ck.c9 written"
# B cut after its ENTRY line: the header is whole, so the relayout runs
# (exit 0) and warns that the names are unknown and the dump truncated.
head -n 3 B.hlo > cut.hlo
"$XLAYOUT" signature cut.hlo > /dev/null 2> sig_err.txt || fail "signature cut.hlo: $(cat sig_err.txt)"
run 0 "$XLAYOUT" relayout --program cut.hlo --checkpoint ck -o ck.cut --json
cmp err.txt sig_err.txt || fail "relayout warns otherwise than signature: $(cat err.txt)"
has "warning: the ENTRY computation is not closed by '}': the dump looks truncated" err.txt
$PY - <<'PY' || fail "relayout --json warnings: $(cat out.txt)"
import json
j = json.load(open("out.txt"))
assert j["written"] is True, j
w = j["check"]["warnings"]
assert list(j["check"])[-2:] == ["fix", "warnings"], list(j["check"])
assert w == ["ENTRY has no parameter(%d); its name is unknown" % i for i in range(5)] + [
    "the ENTRY computation is not closed by '}': the dump looks truncated"], w
PY
cmp ck.b/data/tensors.bin ck.cut/data/tensors.bin || fail "the cut dump wrote other bytes"
# The program from stdin: the check's fix names a placeholder.
run 0 "$XLAYOUT" relayout --program - --checkpoint ck -o ck.stdin --json < B.hlo
[ ! -s err.txt ] || fail "stderr: $(cat err.txt)"
$PY - <<'PY' || fail "relayout --json fix for stdin: $(cat out.txt)"
import json
j = json.load(open("out.txt"))
assert j["program_input"] == {"file": "-"} and j["check"]["warnings"] == [], j
assert j["check"]["fix"] == {
    "fixable_by_relayout": True,
    "command": "xlayout relayout --program PROGRAM.hlo --checkpoint ck -o ck.relayout",
    "note": "the program was read from standard input and cannot be read again: "
            "give it as a file in place of PROGRAM.hlo"}, j["check"]["fix"]
PY
cmp ck.b/data/tensors.bin ck.stdin/data/tensors.bin || fail "stdin's program wrote other bytes"

# --- outputs that would touch the source or unrelated files: exit 2 --------
expect_fail 2 "is the source checkpoint 'ck' itself" "$XLAYOUT" relayout --program B.hlo --checkpoint ck -o ck/
expect_fail 2 'inside the source checkpoint' "$XLAYOUT" relayout --program B.hlo --checkpoint ck -o ck/sub
expect_fail 2 'contains the source checkpoint' "$XLAYOUT" relayout --program B.hlo --checkpoint ck -o .
mkdir notes && echo precious > notes/todo.txt
expect_fail 2 'not an xlayout checkpoint' "$XLAYOUT" relayout --program B.hlo --checkpoint ck -o notes
[ "$(cat notes/todo.txt)" = precious ] || fail "notes/ touched"
diff -r ck ck.orig > /dev/null || fail "the source changed"

# --- a corrupt source tensor: DATA_LOSS naming it, no output ---------------
cp -r ck bad
$PY - <<'PY'
import json
m = json.load(open("bad/manifest.json"))
w = [t for t in m["tensors"] if t["name"] == "w"][0]
with open("bad/data/tensors.bin", "r+b") as f:
    f.seek(w["offset"] + 10)
    b = f.read(1)
    f.seek(w["offset"] + 10)
    f.write(bytes([b[0] ^ 1]))
PY
expect_fail 2 'tensor "w".*checksum mismatch' "$XLAYOUT" relayout --program B.hlo --checkpoint bad -o bad.b
[ ! -e bad.b ] || fail "bad.b written"

# --- usage ---------------------------------------------------------------
expect_fail 2 'output' "$XLAYOUT" relayout --program B.hlo --checkpoint ck
expect_fail 2 'checkpoint' "$XLAYOUT" relayout --program B.hlo -o x
expect_fail 2 'excludes' "$XLAYOUT" relayout --program B.hlo --checkpoint ck -o x --shape 'f32[2]{0}'
expect_fail 2 'give --shape' "$XLAYOUT" relayout
expect_fail 2 'NOT_FOUND\|No such file' "$XLAYOUT" relayout --program B.hlo --checkpoint nope -o x
echo PASS
