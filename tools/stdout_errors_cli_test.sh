#!/usr/bin/env bash
# Standard output that cannot be written, and misspelled options.
# Every command whose report does not reach stdout (a full device, a closed
# descriptor, a pipe without reader while SIGPIPE is ignored) fails with exit
# 2 and "error: CMD: cannot write standard output: STRERROR" on stderr, even
# when it found something (exit 1 otherwise); a command that committed an
# output (import, export, relayout -o) says that it did: "error: CMD: wrote
# 'OUT', but cannot print the report: standard output: STRERROR". A reader
# that closed the pipe still ends it by SIGPIPE, quietly. An unknown option is
# named even when a required option is missing (CLI11 checks requirements
# first): `check --progam X` is not "--program is required".
set -euo pipefail

: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
: "${EXAMPLES:?set EXAMPLES to the examples directory}"
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

S="$EXAMPLES/story"
story_checkpoint ckpt
printf 'nothing to see\n' > clean.log

# expect_stdout_error RC STRERROR WHERE CMD...: CMD, with stdout redirected to
# WHERE ("full": /dev/full, "closed": >&-), exits RC and its stderr is exactly
# the one line "error: CMD: cannot write standard output: STRERROR" (NAME,
# when set, in place of CMD; WROTE, when set: "error: CMD: wrote 'WROTE', but
# cannot print the report: standard output: STRERROR").
expect_stdout_error() {
  local want=$1 reason=$2 where=$3
  shift 3
  local name=${NAME:-$2}
  set +e
  if [ "$where" = full ]; then
    "$@" > /dev/full 2> err.txt
  else
    "$@" >&- 2> err.txt
  fi
  local rc=$?
  set -e
  [ "$rc" = "$want" ] || fail "exit $rc (want $want), stdout $where: ${*:2}: $(cat err.txt)"
  local line="error: $name: cannot write standard output: $reason"
  if [ -n "${WROTE:-}" ]; then
    line="error: $name: wrote '$WROTE', but cannot print the report: standard output: $reason"
  fi
  [ "$(cat err.txt)" = "$line" ] \
    || fail "stdout $where: ${*:2}: stderr is not '$line': $(cat err.txt)"
}

# The commands, each as it exits with a writable stdout (0 or 1).
run 0 "$XLAYOUT" check --program "$S/program_a.hlo" --checkpoint ckpt --json
[ "$(wc -c < out.txt)" -gt 4096 ] || fail "check --json is small: stdio keeps it whole"
run 1 "$XLAYOUT" check --program "$S/program_b.hlo" --checkpoint ckpt
run 0 "$XLAYOUT" inspect ckpt --verify --json
run 0 "$XLAYOUT" size 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}'
run 0 "$XLAYOUT" signature "$S/program_a.hlo" --json
run 1 "$XLAYOUT" explain "$EXAMPLES/e0102_docs_sample.log"
run 0 "$XLAYOUT" explain clean.log
run 1 "$XLAYOUT" check --program "$S/program_b.hlo" --checkpoint ckpt --json
run 1 "$XLAYOUT" diff "$EXAMPLES/topology_4.hlo" "$EXAMPLES/topology_8.hlo"
run 1 "$XLAYOUT" env diff "$S/env_a.json" "$S/env_b.json"
# A checkpoint whose data no longer matches its checksums.
cp -r ckpt bad
$PY - bad/data/*.bin <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    b = f.read(1)
    f.seek(0)
    f.write(bytes([b[0] ^ 0xff]))
PY
run 1 "$XLAYOUT" inspect bad --verify

for where in full closed; do
  if [ "$where" = full ]; then reason='No space left on device'; else reason='Bad file descriptor'; fi
  # More than stdio's buffer (written, failed and dropped before the end) ...
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" check --program "$S/program_a.hlo" \
    --checkpoint ckpt --json
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" inspect ckpt --verify --json
  # ... and less (written at the end).
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" check --program "$S/program_a.hlo" \
    --checkpoint ckpt
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" inspect ckpt
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" size 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}'
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" size --json 'f32[8]{0}'
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" signature "$S/program_a.hlo"
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" signature "$S/program_a.hlo" --json
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" explain clean.log
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" explain --json clean.log
  # A command that found something (exit 1 with a writable stdout) exits 2
  # too, and says why its report is missing.
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" check --program "$S/program_b.hlo" \
    --checkpoint ckpt
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" check --program "$S/program_b.hlo" \
    --checkpoint ckpt --json
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" explain "$EXAMPLES/e0102_docs_sample.log"
  expect_stdout_error 2 "$reason" $where "$XLAYOUT" diff "$EXAMPLES/topology_4.hlo" \
    "$EXAMPLES/topology_8.hlo"
  NAME='env diff' expect_stdout_error 2 "$reason" $where "$XLAYOUT" env diff \
    "$S/env_a.json" "$S/env_b.json"
  # (its mismatch is reported on stderr first)
  set +e
  if [ "$where" = full ]; then
    "$XLAYOUT" inspect bad --verify > /dev/full 2> err.txt
  else
    "$XLAYOUT" inspect bad --verify >&- 2> err.txt
  fi
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "inspect bad --verify, stdout $where: exit $rc"
  [ "$(tail -n 1 err.txt)" = "error: inspect: cannot write standard output: $reason" ] \
    || fail "inspect bad --verify, stdout $where: $(cat err.txt)"
  # A command that wrote its output: still exit 2, but the output is there,
  # and the message says so.
  rm -rf "r6_$where" "i_$where" "e_$where.safetensors"
  WROTE="r6_$where" expect_stdout_error 2 "$reason" $where "$XLAYOUT" relayout \
    --program "$S/program_b.hlo" --checkpoint ckpt --env "$S/env_b.json" -o "r6_$where"
  run 0 "$XLAYOUT" inspect "r6_$where" --verify
  WROTE="i_$where" expect_stdout_error 2 "$reason" $where "$XLAYOUT" import \
    "$S/model.safetensors" --program "$S/program_a.hlo" --env "$S/env_a.json" \
    -o "i_$where" --json
  run 0 "$XLAYOUT" inspect "i_$where" --verify
  WROTE="e_$where.safetensors" expect_stdout_error 2 "$reason" $where "$XLAYOUT" \
    export --checkpoint ckpt -o "e_$where.safetensors"
  [ -s "e_$where.safetensors" ] || fail "export to e_$where.safetensors left nothing"
done

# An input error keeps its code and its own message (first).
set +e
"$XLAYOUT" inspect missing_ckpt > /dev/full 2> err.txt
rc=$?
set -e
[ "$rc" = 2 ] || fail "inspect missing_ckpt: exit $rc"
head -n 1 err.txt | grep -q "^error: inspect: .*missing_ckpt" || fail "inspect missing_ckpt: $(cat err.txt)"

# Help and --version go to stdout too (no command name to prefix).
for args in --help --version 'help check' 'check --help'; do
  set +e
  # shellcheck disable=SC2086
  "$XLAYOUT" $args > /dev/full 2> err.txt
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$args > /dev/full: exit $rc"
  [ "$(cat err.txt)" = "error: cannot write standard output: No space left on device" ] \
    || fail "$args > /dev/full: $(cat err.txt)"
done

# With stdout closed, the files a command opens do not take its descriptor:
# the summary of import does not end up in the checkpoint, which is the same
# as the one imported with stdout open.
WROTE=ckpt2 expect_stdout_error 2 'Bad file descriptor' closed "$XLAYOUT" import "$S/model.safetensors" \
  --program "$S/program_a.hlo" --env "$S/env_a.json" -o ckpt2
run 0 "$XLAYOUT" inspect ckpt2 --verify
diff -r ckpt ckpt2 > /dev/null || fail "ckpt2 differs from ckpt: $(diff -r ckpt ckpt2 | head -c 300)"

# A pipe whose reader is gone: SIGPIPE kills the process quietly, as for any
# tool; with SIGPIPE ignored, the write fails with EPIPE and is reported.
$PY - "$XLAYOUT" <<'PY'
import os, signal, subprocess, sys
xlayout = sys.argv[1]
def run(ignore):
    r, w = os.pipe()
    os.close(r)
    pre = (lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN)) if ignore else None
    p = subprocess.run([xlayout, "size", "f32[8]{0}"], stdout=w,
                       stderr=subprocess.PIPE, preexec_fn=pre)
    os.close(w)
    return p.returncode, p.stderr.decode()
rc, err = run(False)
assert rc == -signal.SIGPIPE and err == "", (rc, err)
rc, err = run(True)
want = "error: size: cannot write standard output: Broken pipe\n"
assert rc == 2 and err == want, (rc, err)
PY

# --- misspelled options: named, not "X is required" -------------------------
expect_fail 2 "^error: The following arguments were not expected: --progam X$" \
  "$XLAYOUT" check --progam X --checkpoint ckpt
lacks 'is required' err.txt
has "Run 'xlayout check --help' for its usage." err.txt
[ ! -s out.txt ] || fail "stdout on a usage error: $(cat out.txt)"
expect_fail 2 "^error: The following argument was not expected: --checkpiont=ckpt$" \
  "$XLAYOUT" check --program "$S/program_a.hlo" --checkpiont=ckpt
has "Did you mean '--checkpoint'?" err.txt
lacks 'is required' err.txt
# signature's DUMP is a required positional.
expect_fail 2 "^error: The following argument was not expected: --jsn$" \
  "$XLAYOUT" signature --jsn
has "Did you mean '--json'?" err.txt
lacks 'is required' err.txt
# Several: in command-line order.
expect_fail 2 "^error: The following arguments were not expected: --bogus --bad2 pos$" \
  "$XLAYOUT" check --program P --checkpoint C --bogus --bad2 pos
lacks 'Did you mean' err.txt
# Nothing misspelled: the requirement is still reported.
expect_fail 2 "^error: --program is required$" "$XLAYOUT" check --checkpoint ckpt

echo PASS
