# Shared set-up for the tools/*_cli_test.sh scripts (sourced, not run):
# a scratch directory that is removed on exit and made the working
# directory, numpy's Python, and the two assertion helpers.
: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_fail RC PATTERN CMD...: CMD exits RC and its stderr matches PATTERN
# (stdout is left in out.txt, stderr in err.txt).
expect_fail() {
  local want=$1 pattern=$2
  shift 2
  set +e
  "$@" > out.txt 2> err.txt
  local rc=$?
  set -e
  [ "$rc" = "$want" ] || fail "exit $rc (want $want): $*: $(cat err.txt)"
  grep -q -- "$pattern" err.txt || fail "stderr lacks '$pattern': $*: $(cat err.txt)"
}
