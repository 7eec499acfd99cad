#!/usr/bin/env bash
# Standard input can be read once: a command given '-' for two of its inputs
# is a usage error (exit 2, nothing on stdout, even with --json) that names
# both, not an error about whichever input read the empty rest.
set -euo pipefail

: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
: "${EXAMPLES:?set EXAMPLES to the examples directory}"
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

S="$EXAMPLES/story"
story_checkpoint ckpt

# twice RC MESSAGE CMD...: CMD, with env_b.json on stdin, exits 2 with the
# one-line error MESSAGE and prints nothing on stdout.
twice() {
  local message=$1
  shift
  set +e
  "$@" < "$S/env_b.json" > out.txt 2> err.txt
  local rc=$?
  set -e
  [ "$rc" = 2 ] || fail "exit $rc (want 2): $*: $(cat err.txt)"
  [ "$(cat err.txt)" = "error: $message" ] || fail "$*: stderr: $(cat err.txt)"
  [ ! -s out.txt ] || fail "$*: stdout: $(cat out.txt)"
}

for json in "" --json; do
  twice "check: --program and --env cannot both read standard input ('-')" \
    "$XLAYOUT" check --program - --checkpoint ckpt --env - $json
  twice "relayout: --program and --env cannot both read standard input ('-')" \
    "$XLAYOUT" relayout --program - --checkpoint ckpt --env - -o r $json
  twice "import: --program and --env cannot both read standard input ('-')" \
    "$XLAYOUT" import "$S/model.safetensors" --program - --env - -o i $json
  twice "A and B cannot both read standard input ('-')" "$XLAYOUT" diff - - $json
  twice "A and B cannot both read standard input ('-')" "$XLAYOUT" env diff - - $json
  twice "FILE is '-' twice: standard input can be read only once" \
    "$XLAYOUT" explain - - $json
done
[ ! -e r ] && [ ! -e i ] || fail "an output was written"

# One '-' is still read.
run 0 "$XLAYOUT" env diff - "$S/env_b.json" < "$S/env_b.json"
run 1 "$XLAYOUT" check --program "$S/program_b.hlo" --checkpoint ckpt --env - < "$S/env_b.json"
echo PASS
