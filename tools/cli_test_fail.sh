# fail and expect_rc for the tools/*_cli_test.sh scripts (sourced, not run).
# A failure message goes to the stderr the test started with (kept on fd 9),
# so it reaches the test log even when the failing check's own output is
# redirected to a file the trap then removes.
exec 9>&2
fail() { echo "FAIL: $*" >&9; exit 1; }
# expect_rc WANT CMD...: CMD exits WANT.
expect_rc() {
  local want=$1
  shift
  set +e
  "$@"
  local rc=$?
  set -e
  [ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $*"
}
