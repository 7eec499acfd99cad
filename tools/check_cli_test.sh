#!/usr/bin/env bash
# End-to-end tests of `xlayout check`: a checkpoint imported (from .npy files
# written by numpy) under program A and environment A, checked against A
# (ok) and against program B compiled under environment B (a transposed
# tile order with another size, a same-size transpose, a changed tile, a
# memory kind), with XLA's exact E0102 message, the environment diff, the
# fix command, --strict, --json, binding by order and --map, missing and
# extra tensors, incompatible shapes, input errors and escaping.
set -euo pipefail

: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
: "${TESTDATA:?set TESTDATA to the testdata directory}"
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

ENV_A="$TESTDATA/checkpoint/env/env_v4.json"
ENV_B="$TESTDATA/checkpoint/env/env_v5e.json"

checkpoint_fixture "$ENV_A"

# --- the checkpoint's own program: ok, exit 0 -------------------------------
run 0 "$XLAYOUT" check --program A.hlo --checkpoint ck --env "$ENV_A"
has 'The checkpoint matches the program.'
has 'no changes'
has 'Summary 5 parameters: 5 ok'
lacks 'Fix:'
[ ! -s err.txt ] || fail "stderr on success: $(cat err.txt)"
run 0 "$XLAYOUT" check --program A.hlo --checkpoint ck --strict

# --- program B under environment B: exit 1 ----------------------------------
run 1 "$XLAYOUT" check --program B.hlo --checkpoint ck --env "$ENV_B"
cp out.txt b.txt
# XLA's E0102 message, byte for byte (2,097,152 = 16*256*128*4 as compiled
# under A; 655,360 = 16*40*256*4 under B's tile order).
has 'Executable(jit_step) expected parameter 0 of size 655360 (f32[16,256,40]{1,2,0:T(8,128)}) but got buffer with incompatible size 2097152 (f32[16,256,40]{2,1,0:T(8,128)})'
has "Executable(jit_step) got a parameter buffer for parameter 4 in an unexpected memory space 'device'"
has 'parameter 1 (w) ← tensor "w" (by manifest): needs relayout: same logical shape, different physical layout'
has 'note: same xla_bytes (262144): XLA accepts this buffer'
has 'parameter 2 (k) ← tensor "k" (by manifest): needs relayout'
has 'parameter 4 (host) ← tensor "host" (by manifest): memory kind'
lacks 'memory kind: memory space'
has 'Summary 5 parameters: 1 ok, 3 need relayout, 1 in another memory kind'
# Environment: layout-affecting changes first, in DiffEnvironments' order.
$PY - <<'PY' || fail "environment order: $(cat b.txt)"
lines = open("b.txt", encoding="utf-8").read().split("\n")
i = lines.index("  changes that can affect layouts:")
j = lines.index("  other changes:")
affecting = [l.strip() for l in lines[i + 1:j]]
assert affecting[0] == "libtpu 0.0.17 → 0.0.18", affecting
assert "flag --xla_tpu_foo: false → true" in affecting, affecting
assert "LIBTPU_INIT_ARGS --xla_tpu_megacore_fusion_allow_ags: (unset) → false" in affecting, affecting
assert affecting.index("device kind: TPU v4 → TPU v5 lite") > affecting.index("flag --xla_tpu_foo: false → true")
assert "topology: 4x4x4 → 4x8" in affecting, affecting
assert "device count: 64 → 32" in affecting, affecting
others = [l.strip() for l in lines[j + 1:] if l.startswith("    ")]
assert "jaxlib 0.4.30 → 0.4.31" in others, others
PY
# The text ends with the command that fixes the checkpoint.
fix="xlayout relayout --program B.hlo --checkpoint ck --env $ENV_B -o ck.relayout"
[ "$(tail -n 1 b.txt)" = "Fix: $fix" ] || fail "fix line: $(tail -n 1 b.txt)"
# The fix works: run it as printed, and the result checks clean.
(xlayout() { "$XLAYOUT" "$@"; }; eval "$fix") > fix.txt 2>&1 || fail "the printed fix failed: $(cat fix.txt)"
"$XLAYOUT" check --program B.hlo --checkpoint ck.relayout --env "$ENV_B" > fixed.txt 2>&1 \
  || fail "check after the fix: $(cat fixed.txt)"
grep -q 'The checkpoint matches the program.' fixed.txt || fail "fixed: $(cat fixed.txt)"
# Nothing on stderr: findings are the report, not errors.
[ ! -s err.txt ] || fail "stderr: $(cat err.txt)"
# "--checkpoint ." names the fixed copy after the directory, next to it
# (regression, second trial: "-o ..relayout" was inside the source).
(cd ck && "$XLAYOUT" check --program ../B.hlo --checkpoint . --env "$ENV_B" > ../dot.txt 2>&1) || true
tail -n 1 dot.txt | grep -q -- " -o ../ck.relayout$" || fail "fix line for '.': $(tail -n 1 dot.txt)"
# A checkpoint path with a newline and a quote: the printed fix is bash's
# $'...' form, which names the same path (regression, new-user trial: it
# was printed as 'nl\nck', another path).
cp -r ck "$(printf "nl\nit's")"
set +e
"$XLAYOUT" check --program B.hlo --checkpoint "$(printf "nl\nit's")" --env "$ENV_B" > nl.txt 2> err.txt
set -e
fix_nl=$(tail -n 1 nl.txt)
[ "$fix_nl" = "Fix: xlayout relayout --program B.hlo --checkpoint \$'nl\\nit\\'s' --env $ENV_B -o \$'nl\\nit\\'s.relayout'" ] \
  || fail "fix line for a path with a newline: $fix_nl"
(xlayout() { "$XLAYOUT" "$@"; }; eval "${fix_nl#Fix: }") > fix.txt 2>&1 || fail "the printed fix failed: $(cat fix.txt)"
[ -f "$(printf "nl\nit's.relayout")/manifest.json" ] || fail "the fix wrote elsewhere: $(ls -A)"

# --strict: the same-size transpose gets the strict guard's error too.
run 1 "$XLAYOUT" check --program B.hlo --checkpoint ck --strict
has 'Executable(jit_step) expected parameter 1 as f32[256,256]{0,1:T(8,128)} but got buffer f32[256,256]{1,0:T(8,128)} with the same size 262144 and a different shape or physical layout (strict layout check)'
has 'not compared: no current environment given (--env)'

# --- --json: one record per parameter, stable keys ---------------------------
run 1 "$XLAYOUT" check --program B.hlo --checkpoint ck --env "$ENV_B" --json
$PY - "$ENV_B" <<'PY' || fail "json: $(cat out.txt)"
import json, sys
j = json.load(open("out.txt"))
assert j["schema"] == "xlayout.v1" and j["command"] == "check", j
assert list(j)[-1] == "errors" and j["errors"] == []
assert list(j)[:5] == ["schema", "command", "input", "program_input", "env_input"], list(j)
assert j["input"] == {"file": "ck"} and j["program_input"] == {"file": "B.hlo"}
assert j["env_input"] == {"file": sys.argv[1]}
assert j["program"] == "jit_step" and j["ok"] is False and j["strict"] is False
assert j["counts"] == {"parameters": 5, "tensors": 5, "ok": 1, "needs_relayout": 3,
                       "incompatible": 0, "memory_kind": 1, "missing": 0, "extra": 0}, j["counts"]
keys = ["parameter", "tuple_index", "name", "tensor", "bound_by", "verdict", "expected", "actual",
        "per_device", "message", "messages", "xla_rejects", "classification", "summary", "details", "note"]
for r in j["parameters"]:
    assert list(r) == keys, list(r)
v = [(r["parameter"], r["name"], r["tensor"], r["verdict"]) for r in j["parameters"]]
assert v == [(0, "act", "act", "needs_relayout"), (1, "w", "w", "needs_relayout"),
             (2, "k", "k", "needs_relayout"), (3, "ids", "ids", "ok"),
             (4, "host", "host", "memory_kind")], v
p0, p1, p2, p3, p4 = j["parameters"]
assert p0["expected"] == {"shape": "f32[16,256,40]{1,2,0:T(8,128)}", "xla_bytes": 655360, "memory_kind": "device"}, p0
assert p0["actual"] == {"shape": "f32[16,256,40]{2,1,0:T(8,128)}", "xla_bytes": 2097152, "memory_kind": "device"}, p0
assert p0["message"].startswith("Executable(jit_step) expected parameter 0 of size 655360 "), p0
assert p0["xla_rejects"] is True and p0["classification"] == "layout"
assert p1["message"] is None and p1["messages"] == [] and p1["xla_rejects"] is False, p1
assert p1["expected"]["xla_bytes"] == p1["actual"]["xla_bytes"] == 262144
assert "permuted" in p1["note"]
assert p3["message"] is None and p3["classification"] is None and p3["details"] == []
assert p4["expected"]["memory_kind"] == "pinned_host" and p4["actual"]["memory_kind"] == "device"
assert p4["classification"] == "memory_space"
# One partition: every device receives the whole tensor.
assert p0["per_device"] == {"sharding": None, "num_partitions": 1,
                            "expected": {"shape": p0["expected"]["shape"], "xla_bytes": 655360},
                            "actual": {"shape": p0["actual"]["shape"], "xla_bytes": 2097152},
                            "sharding_change": None}, p0["per_device"]
env = j["environment"]
assert env["compared"] is True and env["note"] is None
flags = [c["affects_layout"] for c in env["changes"]]
assert flags == sorted(flags, reverse=True), flags  # layout-affecting first
first = env["changes"][0]
assert first == {"component": "libtpu_version", "flag": None, "before": "0.0.17",
                 "after": "0.0.18", "affects_layout": True,
                 "text": "libtpu 0.0.17 → 0.0.18"}, first
foo = [c for c in env["changes"] if c["flag"] == "xla_tpu_foo"]
assert foo and foo[0]["before"] == "false" and foo[0]["after"] == "true", foo
assert j["fix"]["fixable_by_relayout"] is True
assert j["fix"]["command"].startswith("xlayout relayout --program B.hlo --checkpoint ck "), j["fix"]
assert j["fix"]["note"] is None, j["fix"]
assert j["warnings"] == [], j["warnings"]
assert j["buffer_count_message"] is None
PY
run 0 "$XLAYOUT" check --program A.hlo --checkpoint ck --json
$PY -c '
import json
j = json.load(open("out.txt"))
assert j["ok"] is True and j["counts"]["ok"] == 5
assert all(r["verdict"] == "ok" and r["message"] is None for r in j["parameters"])
assert j["fix"] == {"fixable_by_relayout": False, "command": None, "note": None}
assert j["environment"]["compared"] is False and j["env_input"] is None
assert list(j)[-2:] == ["warnings", "errors"] and j["warnings"] == [], list(j)
' || fail "json ok: $(cat out.txt)"

# --- incompatible: no relayout can fix it ------------------------------------
program C.hlo 'act:f32[16,256,40]{2,1,0:T(8,128)}' 'w:f32[256,256]{0,1:T(8,128)}' \
  'k:f32[40,48]{1,0:T(8,128)}' 'ids:s32[16]{0}' 'host:f32[4]{0:T(256)}'
run 1 "$XLAYOUT" check --program C.hlo --checkpoint ck
has 'parameter 2 (k) ← tensor "k" (by manifest): incompatible: different dims'
has 'Nothing can fix 1 incompatible parameter:'
has 'Summary 5 parameters: 3 ok, 1 needs relayout, 1 incompatible'
has 'once the ones above are resolved, check again'
lacks 'Fix:'
# Same size, other dtype: XLA would accept it; check does not.
program D.hlo 'act:f32[16,256,40]{2,1,0:T(8,128)}' 'w:f32[256,256]{1,0:T(8,128)}' \
  'k:f32[40,40]{1,0:T(8,128)}' 'ids:f32[16]{0}' 'host:f32[4]{0:T(256)}'
run 1 "$XLAYOUT" check --program D.hlo --checkpoint ck --json
$PY -c '
import json
j = json.load(open("out.txt"))
r = j["parameters"][3]
assert r["verdict"] == "incompatible" and r["classification"] == "element_type", r
assert r["message"] is None and r["xla_rejects"] is False, r
assert j["fix"]["fixable_by_relayout"] is False and j["fix"]["command"] is None
' || fail "same-size dtype: $(cat out.txt)"

# --- missing and extra -------------------------------------------------------
program E.hlo 'act:f32[16,256,40]{2,1,0:T(8,128)}' 'w:f32[256,256]{1,0:T(8,128)}' \
  'k:f32[40,40]{1,0:T(8,128)}' 'ids:s32[16]{0}' 'host:f32[4]{0:T(256)}' 'step:s32[]'
run 1 "$XLAYOUT" check --program E.hlo --checkpoint ck
has 'parameter 5 (step): missing'
has 'feeding every tensor: Execution supplied 5 buffers but compiled program expected 6 buffers'
has '1 parameter has no tensor of the checkpoint'
# A program without `host`: its tensor is extra, the rest is ok: exit 0.
program F.hlo 'act:f32[16,256,40]{2,1,0:T(8,128)}' 'w:f32[256,256]{1,0:T(8,128)}' \
  'k:f32[40,40]{1,0:T(8,128)}' 'ids:s32[16]{0}'
run 0 "$XLAYOUT" check --program F.hlo --checkpoint ck
has 'tensor "host": extra'
has "which program 'jit_step' does not have"
has '1 extra tensor bound to no parameter'
has 'The checkpoint matches the program.'

# --- binding by order, and --map ---------------------------------------------
"$XLAYOUT" import k.npy act.npy w.npy ids.npy host.npy \
  --layout 'k={1,0:T(8,128)}' --layout 'act={2,1,0:T(8,128)}' \
  --layout 'w={1,0:T(8,128)}' --layout 'ids={0}' --layout 'host={0:T(256)}' \
  -o unbound > /dev/null 2> err.txt || fail "import unbound: $(cat err.txt)"
run 1 "$XLAYOUT" check --program A.hlo --checkpoint unbound --json
$PY -c '
import json
j = json.load(open("out.txt"))
v = [(r["tensor"], r["bound_by"], r["verdict"]) for r in j["parameters"]]
assert v[0] == ("k", "order", "incompatible") and v[1] == ("act", "order", "incompatible"), v
' || fail "order binding: $(cat out.txt)"
run 0 "$XLAYOUT" check --program A.hlo --checkpoint unbound --map act=0 --map k=2
has 'The checkpoint matches the program.'
run 0 "$XLAYOUT" check --program A.hlo --checkpoint unbound --map act=0 --map k=2 --json
$PY -c '
import json
j = json.load(open("out.txt"))
v = [(r["tensor"], r["bound_by"]) for r in j["parameters"]]
assert v == [("act", "map"), ("w", "order"), ("k", "map"), ("ids", "order"), ("host", "order")], v
' || fail "--map binding: $(cat out.txt)"

# --- errors: exit 2, the cause on stderr, JSON errors ------------------------
run 2 "$XLAYOUT" check --program nope.hlo --checkpoint ck
has 'nope.hlo' err.txt
run 2 "$XLAYOUT" check --program A.hlo --checkpoint nope --json
has 'nope' err.txt
$PY -c '
import json
j = json.load(open("out.txt"))
assert j["command"] == "check" and len(j["errors"]) == 1, j
assert j["errors"][0]["input"] == {"file": "nope"}, j
' || fail "error json: $(cat out.txt)"
run 2 "$XLAYOUT" check --program A.hlo --checkpoint ck --map nope=1
has 'no tensor named "nope"' err.txt
run 2 "$XLAYOUT" check --program A.hlo --checkpoint ck --map k=9
has 'has no parameter 9: it has parameters 0 to 4' err.txt
run 2 "$XLAYOUT" check --program A.hlo --checkpoint ck --map k
has "expected NAME=N (XLA's parameter N) or NAME=N{i}" err.txt
echo '{"format": "xlayout.environment.v1", "device_count": "x"}' > bad_env.json
run 2 "$XLAYOUT" check --program A.hlo --checkpoint ck --env bad_env.json
has "--env 'bad_env.json'" err.txt
has "field 'device_count'" err.txt
echo 'not an hlo dump' > junk.hlo
run 2 "$XLAYOUT" check --program junk.hlo --checkpoint ck
run 2 "$XLAYOUT" check --checkpoint ck

# --- a dump that contradicts itself: the reader's warnings, as signature's ---
# (regression, user trial: check printed nothing on stderr while
# `xlayout signature` warned.) The header says ids is s32[9]; the ENTRY
# parameter says s32[16]; the reader takes the header.
sed '1s/s32\[16\]{0}/s32[9]{0}/' A.hlo > A9.hlo
run 0 "$XLAYOUT" signature A9.hlo
cp err.txt sig_err.txt
run 1 "$XLAYOUT" check --program A9.hlo --checkpoint ck
[ "$(cat err.txt)" = 'warning: parameter 3: entry_computation_layout says s32[9]{0} but ENTRY parameter(3) at line 7 is s32[16]{0}; using the header' ] \
  || fail "check's warnings: $(cat err.txt)"
cmp err.txt sig_err.txt || fail "check warns otherwise than signature: $(cat err.txt) / $(cat sig_err.txt)"
has 'parameter 3 (ids) ← tensor "ids" (by manifest): incompatible: different dims'
run 1 "$XLAYOUT" check --program A9.hlo --checkpoint ck --json
cmp err.txt sig_err.txt || fail "check --json warns otherwise than signature: $(cat err.txt)"
"$XLAYOUT" signature A9.hlo --json > sig.json 2> /dev/null || fail "signature --json A9.hlo"
$PY - <<'PY' || fail "check --json warnings: $(cat out.txt)"
import json
j = json.load(open("out.txt"))
sig = json.load(open("sig.json"))
assert list(j)[-3:] == ["fix", "warnings", "errors"], list(j)
assert j["warnings"] == sig["warnings"] == [
    "parameter 3: entry_computation_layout says s32[9]{0} but ENTRY parameter(3) "
    "at line 7 is s32[16]{0}; using the header"], (j["warnings"], sig["warnings"])
PY
# A dump cut after the ENTRY line: the header alone matches the checkpoint
# (exit 0), but check says the names are unknown and the dump truncated.
head -n 3 A.hlo > cut.hlo
run 0 "$XLAYOUT" check --program cut.hlo --checkpoint ck
has 'The checkpoint matches the program.'
has 'warning: ENTRY has no parameter(0); its name is unknown' err.txt
has "warning: the ENTRY computation is not closed by '}': the dump looks truncated" err.txt
[ "$(wc -l < err.txt)" = 6 ] || fail "warnings for the cut dump: $(cat err.txt)"
"$XLAYOUT" signature cut.hlo > /dev/null 2> sig_err.txt
cmp err.txt sig_err.txt || fail "check warns otherwise than signature: $(cat err.txt)"
# An unreadable dump is still an error, with no warnings.
run 2 "$XLAYOUT" check --program junk.hlo --checkpoint ck
lacks 'warning:' err.txt

# --- the fix names a placeholder for a program or --env read from stdin or a
# pipe (regression, user trial: "Fix: xlayout relayout --program - ..." and
# "--program /dev/fd/63" cannot be run).
set +e
"$XLAYOUT" check --program - --checkpoint ck < B.hlo > stdin.txt 2> err.txt
rc=$?
set -e
[ "$rc" = 1 ] || fail "check --program -: exit $rc: $(cat err.txt)"
[ ! -s err.txt ] || fail "stderr: $(cat err.txt)"
has 'Program jit_step (-), 5 parameters' stdin.txt
[ "$(tail -n 2 stdin.txt)" = 'Fix: xlayout relayout --program PROGRAM.hlo --checkpoint ck -o ck.relayout
  the program was read from standard input and cannot be read again: give it as a file in place of PROGRAM.hlo' ] \
  || fail "fix for --program -: $(tail -n 2 stdin.txt)"
# Given the file in place of the placeholder, the fix runs and fixes.
fix=$(tail -n 2 stdin.txt | head -n 1)
fix=${fix#Fix: }
rm -rf ck.relayout
(xlayout() { "$XLAYOUT" "$@"; }; eval "${fix/PROGRAM.hlo/B.hlo}") > fix.txt 2>&1 \
  || fail "the fix with the file: $(cat fix.txt)"
run 0 "$XLAYOUT" check --program B.hlo --checkpoint ck.relayout
set +e
"$XLAYOUT" check --program <(cat B.hlo) --checkpoint ck --env <(cat "$ENV_B") > pipe.txt 2> err.txt
rc=$?
set -e
[ "$rc" = 1 ] || fail "check --program <(...): exit $rc: $(cat err.txt)"
tail -n 3 pipe.txt > pipe_tail.txt
$PY - <<'PY' || fail "fix for pipes: $(cat pipe_tail.txt)"
import re
lines = open("pipe_tail.txt", encoding="utf-8").read().split("\n")
assert lines[0] == "Fix: xlayout relayout --program PROGRAM.hlo --checkpoint ck --env ENV.json -o ck.relayout", lines
assert re.fullmatch(r"  the program was read from a pipe \(/dev/fd/\d+\) and cannot be read again: "
                    r"give it as a file in place of PROGRAM\.hlo", lines[1]), lines
assert re.fullmatch(r"  --env was read from a pipe \(/dev/fd/\d+\) and cannot be read again: "
                    r"give it as a file in place of ENV\.json", lines[2]), lines
PY
# A named FIFO: not a regular file either.
mkfifo prog.fifo
cat B.hlo > prog.fifo &
run 1 "$XLAYOUT" check --program prog.fifo --checkpoint ck --env "$ENV_B"
wait
[ "$(tail -n 2 out.txt)" = "Fix: xlayout relayout --program PROGRAM.hlo --checkpoint ck --env $ENV_B -o ck.relayout
  the program was read from a pipe (prog.fifo) and cannot be read again: give it as a file in place of PROGRAM.hlo" ] \
  || fail "fix for a FIFO: $(tail -n 2 out.txt)"
# --env from stdin, the program a file.
run 1 "$XLAYOUT" check --program B.hlo --checkpoint ck --env - --json < "$ENV_B"
$PY - <<'PY' || fail "json fix for --env -: $(cat out.txt)"
import json
fix = json.load(open("out.txt"))["fix"]
assert fix == {"fixable_by_relayout": True,
               "command": "xlayout relayout --program B.hlo --checkpoint ck --env ENV.json -o ck.relayout",
               "note": "--env was read from standard input and cannot be read again: "
                       "give it as a file in place of ENV.json"}, fix
PY
# A regular file named through a symlink is named as given.
ln -s B.hlo link.hlo
run 1 "$XLAYOUT" check --program link.hlo --checkpoint ck
[ "$(tail -n 1 out.txt)" = 'Fix: xlayout relayout --program link.hlo --checkpoint ck -o ck.relayout' ] \
  || fail "fix for a symlink: $(tail -n 1 out.txt)"

# --- --help says what is read of the checkpoint (regression: it said "only
# its manifest", but the data files' sizes are checked too) ------------------
run 0 "$XLAYOUT" check --help
has "its manifest is read and every tensor's byte range is checked against the size of its data file; no tensor data is read"
lacks 'only its manifest'
cp -r ck short
$PY -c 'import os; os.truncate("short/data/tensors.bin", os.path.getsize("short/data/tensors.bin") - 1)'
run 2 "$XLAYOUT" check --program A.hlo --checkpoint short
has "lie past the end of data file \"data/tensors.bin\"" err.txt
has 'the file is truncated' err.txt

# --- control characters from the input are escaped in text output -----------
evil=$'ev\x1b[31mil'
cp k.npy "$evil.npy"
"$XLAYOUT" import "$evil.npy" --layout "$evil={0,1}" -o evil > /dev/null 2> err.txt \
  || fail "import evil: $(cat err.txt)"
run 1 "$XLAYOUT" check --program A.hlo --checkpoint evil
! grep -q $'\x1b' out.txt || fail "raw ESC in text output"
has 'ev\x1b[31mil'
run 1 "$XLAYOUT" check --program A.hlo --checkpoint evil --json
$PY -c '
import json
j = json.load(open("out.txt"))
assert j["parameters"][0]["tensor"] == "ev\x1b[31mil", j["parameters"][0]
' || fail "json keeps the name: $(cat out.txt)"
# Bidi controls (U+202E RIGHT-TO-LEFT OVERRIDE reorders what follows on a
# terminal) are escaped too, in inspect, check and relayout.
bidi=$'rl\u202ett\u2066x'
cp k.npy "$bidi.npy"
"$XLAYOUT" import "$bidi.npy" --layout "$bidi={0,1}" -o bidi > /dev/null 2> err.txt \
  || fail "import bidi: $(cat err.txt)"
run 0 "$XLAYOUT" inspect bidi
has 'rl\u202ett\u2066x'
! grep -q $'\u202e' out.txt || fail "raw U+202E in inspect output"
run 1 "$XLAYOUT" check --program A.hlo --checkpoint bidi
has 'rl\u202ett\u2066x'
! grep -q $'\u202e\|\u2066' out.txt || fail "raw bidi control in check output"
run 1 "$XLAYOUT" relayout --program A.hlo --checkpoint bidi --map "$bidi=0" -o bidi2
has 'rl\u202ett\u2066x'
! grep -q $'\u202e\|\u2066' out.txt || fail "raw bidi control in relayout output"

# --- a sharded program: per-device buffers (issue 14) -------------------------
# The model of examples/topology_4.hlo as global arrays (numpy-written;
# bf16 as raw 2-byte values), imported for 4 partitions, then checked
# against the same model compiled for 8 (examples/topology_8.hlo: another
# sharding everywhere, and mlp_w_out tiled (16,128)(2,1) in place of
# (8,128)(2,1)). The checkpoint holds global arrays; check cuts each one as
# topology_8 shards it and compares what each device would receive.
: "${EXAMPLES:?set EXAMPLES to the examples directory}"
mkdir topo && (cd topo && $PY - <<'PY'
import numpy as np
rng = np.random.default_rng(14)
bf16 = lambda *s: rng.integers(0, 1 << 16, size=s, dtype=np.uint16).view("V2")
np.save("tokens.npy", rng.integers(0, 32000, size=(32, 512), dtype="<i4"))
np.save("embedding_table.npy", bf16(32000, 1024))
np.save("mlp_w_in.npy", bf16(1024, 4096))
np.save("mlp_w_out.npy", bf16(4096, 1024))
np.save("ln_scale.npy", rng.standard_normal(1024, dtype=np.float32))
np.save("step.npy", np.array(7, dtype="<i4"))
PY
)
t=topo
"$XLAYOUT" import $t/tokens.npy $t/embedding_table.npy $t/mlp_w_in.npy $t/mlp_w_out.npy \
  $t/ln_scale.npy $t/step.npy --dtype embedding_table=bf16 --dtype mlp_w_in=bf16 \
  --dtype mlp_w_out=bf16 --program "$EXAMPLES/topology_4.hlo" -o ck4 > /dev/null 2> err.txt \
  || fail "import for topology_4: $(cat err.txt)"
run 0 "$XLAYOUT" check --program "$EXAMPLES/topology_4.hlo" --checkpoint ck4
has 'The checkpoint matches the program.'
run 1 "$XLAYOUT" check --program "$EXAMPLES/topology_8.hlo" --checkpoint ck4
has 'Summary 6 parameters: 5 ok, 1 needs relayout'
# The per-device column: global shapes cut by topology_8's shardings (s32
# [4,512] pads to 8 rows of T(8,128): 8*512*4 = 16,384 bytes).
has 'per device'
has 's32[4,512] 16,384 B'
has 'bf16[4000,1024] 8,192,000 B'
has 'bf16[1024,512] 1,048,576 B'
has 'parameter 3 (Arg_3.4) ← tensor "mlp_w_out" (by manifest): needs relayout'
has '- per device ({devices=[8,1]<=[8]} over 8 partitions): the program expects bf16[512,1024]{1,0:T(16,128)(2,1)} (1048576 bytes), each device would receive bf16[512,1024]{1,0:T(8,128)(2,1)} (1048576 bytes)'
has 'note: same xla_bytes (1048576): XLA accepts this buffer'
# --strict: the guard's message names the per-device buffers, as XLA would.
run 1 "$XLAYOUT" check --program "$EXAMPLES/topology_8.hlo" --checkpoint ck4 --strict
has 'Executable(jit_train_step) expected parameter 3 as bf16[512,1024]{1,0:T(16,128)(2,1)} but got buffer bf16[512,1024]{1,0:T(8,128)(2,1)} with the same size 1048576 and a different shape or physical layout (strict layout check)'
run 1 "$XLAYOUT" check --program "$EXAMPLES/topology_8.hlo" --checkpoint ck4 --json
$PY - <<'PY' || fail "sharded json: $(cat out.txt)"
import json
j = json.load(open("out.txt"))
v = [r["verdict"] for r in j["parameters"]]
assert v == ["ok", "ok", "ok", "needs_relayout", "ok", "ok"], v
r = j["parameters"][3]
# expected/actual keep the global shapes; per_device is what is compared.
assert r["expected"]["shape"] == "bf16[4096,1024]{1,0:T(16,128)(2,1)}", r
assert r["actual"]["shape"] == "bf16[4096,1024]{1,0:T(8,128)(2,1)}", r
assert r["per_device"] == {
    "sharding": "{devices=[8,1]<=[8]}", "num_partitions": 8,
    "expected": {"shape": "bf16[512,1024]{1,0:T(16,128)(2,1)}", "xla_bytes": 1048576},
    "actual": {"shape": "bf16[512,1024]{1,0:T(8,128)(2,1)}", "xla_bytes": 1048576},
    "sharding_change": None}, r["per_device"]
t = j["parameters"][0]["per_device"]
assert t["expected"] == {"shape": "s32[4,512]{1,0:T(8,128)}", "xla_bytes": 16384}, t
assert j["parameters"][4]["per_device"]["expected"]["shape"] == "f32[1024]{0:T(256)}"
PY
# A tensor saved as one device's piece under 4 partitions (mlp_w_in is
# [1024,1024] there): check names the partition-count change.
$PY -c 'import numpy as np; np.save("topo/mlp_w_in.npy", np.zeros((1024, 1024), dtype="<u2").view("V2"))'
"$XLAYOUT" import topo/mlp_w_in.npy --dtype mlp_w_in=bf16 --layout 'mlp_w_in={1,0:T(8,128)(2,1)}' \
  -o piece > /dev/null 2> err.txt || fail "import piece: $(cat err.txt)"
run 1 "$XLAYOUT" check --program "$EXAMPLES/topology_8.hlo" --checkpoint piece --map mlp_w_in=2
has 'parameter 2 (Arg_2.3) ← tensor "mlp_w_in" (by map): incompatible'
has '- sharding: dim 1 is 512 on the expected side and 1024 on the actual one: this matches devices=[1,8] against [1,4], a different partition count (the tensor looks like one device'"'"'s piece, not the global array)'

# --- layouts that store the same bytes (regression) --------------------------
# One T(8,128) tile covers f32[8,128]: the row-major bytes are the program's,
# so a --host checkpoint is ok (with a note); f32[16,256] is the same size
# in another order and needs relayout, worded from the exact layouts (no
# tiling inferred for the untiled one).
$PY -c 'import numpy as np; np.save("m8.npy", np.arange(1024, dtype=np.float32).reshape(8, 128)); np.save("m16.npy", np.arange(4096, dtype=np.float32).reshape(16, 256))'
program p8.hlo 'a:f32[8,128]{1,0:T(8,128)}' 'b:f32[16,256]{1,0:T(8,128)}'
"$XLAYOUT" import m8.npy m16.npy --host -o c8 > /dev/null 2> err.txt || fail "import c8: $(cat err.txt)"
run 1 "$XLAYOUT" check --program p8.hlo --checkpoint c8
has 'Summary 2 parameters: 1 ok, 1 needs relayout'
has '- tiling changed: T(8,128) expected, no tiling got'
has 'the bytes would be in the wrong order'
lacks 'printed'
lacks 'inferred'
"$XLAYOUT" check --program p8.hlo --checkpoint c8 --json > j8.json || true
$PY - <<'PY'
import json
a, b = json.load(open("j8.json"))["parameters"]
assert a["verdict"] == "ok" and a["messages"] == [], a
assert "store the same bytes" in a["note"], a
assert b["verdict"] == "needs_relayout" and b["classification"] == "layout", b
PY

# --- an undefined program size: XLA's verdict is unknown (regression) ---------
$PY -c 'import numpy as np; np.save("f35.npy", np.zeros((3, 5), np.float32))'
program pu.hlo 'a:f32[4611686018427387904,4]{1,0:T(8,128)}'
"$XLAYOUT" import f35.npy --host -o cu > /dev/null 2> err.txt || fail "import cu: $(cat err.txt)"
run 1 "$XLAYOUT" check --program pu.hlo --checkpoint cu
has 'whether XLA accepts this buffer is unknown'
lacks 'same xla_bytes'
"$XLAYOUT" check --program pu.hlo --checkpoint cu --json > ju.json 2> /dev/null || true
$PY -c 'import json; r = json.load(open("ju.json"))["parameters"][0]; assert r["xla_rejects"] is None, r'

# --- tuple parameters: XLA's numbering everywhere (regression) ----------------
# Parameter 0 is a tuple of two leaves (0{0}, 0{1}), parameter 1 a scalar.
$PY -c 'import numpy as np; np.save("v2.npy", np.zeros(2, np.float32)); np.save("f32.npy", np.zeros((3, 5), np.float32)); np.save("s.npy", np.int32(7))'
cat > tup.hlo <<'HLO'
HloModule jit_tup, entry_computation_layout={((f32[2]{0:T(256)}, f32[3,5]{0,1:T(8,128)}), s32[]{:T(128)})->f32[]{:T(128)}}

ENTRY %main (p: (f32[2], f32[3,5]), q: s32[]) -> f32[] {
  %p = (f32[2]{0:T(256)}, f32[3,5]{0,1:T(8,128)}) parameter(0)
  %q = s32[]{:T(128)} parameter(1)
  ROOT %c = f32[]{:T(128)} constant(0)
}
HLO
"$XLAYOUT" import s.npy v2.npy f32.npy --program tup.hlo --map s=1 --map 'f32=0{1}' \
  --json -o ctup > jt.json 2> err.txt || fail "import tup: $(cat err.txt)"
$PY - <<'PY'
import json
t = {x["name"]: (x["parameter"], x["tuple_index"]) for x in json.load(open("jt.json"))["tensors"]}
assert t == {"s": (1, []), "v2": (0, [0]), "f32": (0, [1])}, t
PY
run 0 "$XLAYOUT" check --program tup.hlo --checkpoint ctup --map s=1 --map 'v2=0{0}'
"$XLAYOUT" check --program tup.hlo --checkpoint ctup --json > jc.json || fail "check tup"
$PY - <<'PY'
import json
v = [(r["parameter"], r["tuple_index"], r["tensor"]) for r in json.load(open("jc.json"))["parameters"]]
assert v == [(0, [0], "v2"), (0, [1], "f32"), (1, [], "s")], v
PY
expect_fail 2 "--map s=0: program 'jit_tup' has no parameter 0: parameter 0 is a tuple (leaves {0} to {1}): bind a leaf, as s=0{0}" \
  "$XLAYOUT" check --program tup.hlo --checkpoint ctup --map s=0
expect_fail 2 "has no parameter 2: it has parameters 0 to 1" \
  "$XLAYOUT" import s.npy --program tup.hlo --map s=2 -o ctup2

# --- environment components one side lacks are not compared (regression) ----
# A checkpoint imported without --env records only xlayout's version: the
# current environment's libtpu, device kind, ... are "not recorded", not
# changes from (unset).
"$XLAYOUT" import m8.npy --host -o cnoenv > /dev/null 2> err.txt || fail "import cnoenv: $(cat err.txt)"
program p1.hlo 'm8:f32[8,128]{1,0}'
run 0 "$XLAYOUT" check --program p1.hlo --checkpoint cnoenv --env "$ENV_B"
has '  no changes in what both sides record'
has '  not recorded by the checkpoint (not compared): XLA_FLAGS, LIBTPU_INIT_ARGS, libtpu, device kind, topology, device count'
lacks '(unset)'
"$XLAYOUT" check --program p1.hlo --checkpoint cnoenv --env "$ENV_B" --json > je.json || fail "check cnoenv --json"
$PY - <<'PY'
import json
e = json.load(open("je.json"))["environment"]
assert e["changes"] == [], e
assert "device kind" in e["not_recorded"]["checkpoint"] and e["not_recorded"]["current"] == [], e
PY

echo "check_cli_test: ok"
