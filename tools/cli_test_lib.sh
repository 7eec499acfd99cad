# Shared set-up for the tools/*_cli_test.sh scripts (sourced, not run):
# a scratch directory that is removed on exit and made the working
# directory, numpy's Python, the assertion helpers (fail and expect_rc
# from cli_test_fail.sh, expect_fail, run, has, lacks) and program(),
# which writes a small HLO dump.
: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_fail.sh"
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

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

# run RC CMD...: CMD exits RC; stdout in out.txt, stderr in err.txt.
run() {
  local want=$1
  shift
  set +e
  "$@" > out.txt 2> err.txt
  local rc=$?
  set -e
  [ "$rc" = "$want" ] || fail "exit $rc (want $want): $*: $(cat err.txt) $(cat out.txt)"
}
# has TEXT [FILE]: FILE (out.txt) contains TEXT; lacks: it does not.
has() { grep -qF -- "$1" "${2:-out.txt}" || fail "${2:-out.txt} lacks '$1': $(cat "${2:-out.txt}")"; }
lacks() { ! grep -qF -- "$1" "${2:-out.txt}" || fail "${2:-out.txt} has '$1': $(cat "${2:-out.txt}")"; }

# program FILE PARAMS...: an HLO dump of module jit_step whose ENTRY takes
# PARAMS (each "name:shape-with-layout"), in order.
program() {
  local out=$1
  shift
  local shapes=() decls=() lines=() i=0
  for p in "$@"; do
    local n=${p%%:*} s=${p#*:}
    shapes+=("$s")
    decls+=("$n: ${s%%\{*}")
    lines+=("  %$n = $s parameter($i)")
    i=$((i + 1))
  done
  local IFS=,
  {
    echo "HloModule jit_step, entry_computation_layout={(${shapes[*]})->f32[]{:T(128)}}"
    echo
    echo "ENTRY %main.1 (${decls[*]}) -> f32[] {"
    printf '%s\n' "${lines[@]}"
    echo "  ROOT %c = f32[]{:T(128)} constant(0)"
    echo "}"
  } > "$out"
}

# checkpoint_fixture ENV_A: the checkpoint `ck` imported (from .npy files
# numpy writes) under program A.hlo and ENV_A, and program B.hlo, which
# wants act's tile order transposed (another size), w transposed (same
# size), k's rows interleaved in pairs by a (2,1) sub-tile (same size; T(4,128)
# would store k's bytes unchanged) and host in pinned_host memory.
checkpoint_fixture() {
  $PY - <<'PY'
import numpy as np
rng = np.random.default_rng(12)
np.save("act.npy", rng.standard_normal((16, 256, 40), dtype=np.float32))
np.save("w.npy", rng.standard_normal((256, 256), dtype=np.float32))
np.save("k.npy", rng.standard_normal((40, 40), dtype=np.float32))
np.save("ids.npy", np.arange(16, dtype="<i4"))
np.save("host.npy", np.arange(4, dtype="<f4"))
PY
  program A.hlo 'act:f32[16,256,40]{2,1,0:T(8,128)}' 'w:f32[256,256]{1,0:T(8,128)}' \
    'k:f32[40,40]{1,0:T(8,128)}' 'ids:s32[16]{0}' 'host:f32[4]{0:T(256)}'
  program B.hlo 'act:f32[16,256,40]{1,2,0:T(8,128)}' 'w:f32[256,256]{0,1:T(8,128)}' \
    'k:f32[40,40]{1,0:T(8,128)(2,1)}' 'ids:s32[16]{0}' 'host:f32[4]{0:T(256)S(5)}'
  "$XLAYOUT" import act.npy w.npy k.npy ids.npy host.npy --program A.hlo \
    --env "$1" -o ck > /dev/null 2> err.txt || fail "import: $(cat err.txt)"
}

# story_checkpoint DIR: the bundled story's model imported under program A
# (with environment A) into DIR.
story_checkpoint() {
  local S="$EXAMPLES/story"
  "$XLAYOUT" import "$S/model.safetensors" --program "$S/program_a.hlo" \
    --env "$S/env_a.json" -o "$1" > /dev/null 2> err.txt || fail "import $1: $(cat err.txt)"
}
