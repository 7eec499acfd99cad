#!/usr/bin/env bash
# Crash test of `xlayout relayout --checkpoint`: SIGKILL at random points of
# a run over a checkpoint of 61 MiB (72 MiB after the relayout), on one or
# two threads, with or without --verify, TRIALS times (default 24;
# TRIALS=500 for a long run). Every trial must leave
#   - the source checkpoint intact: `inspect --verify` passes and its files
#     are byte for byte what they were;
#   - under OUT's name either nothing (or, when a checkpoint was there
#     before, that old checkpoint) or a complete new checkpoint that passes
#     `inspect --verify` and equals an uninterrupted run's output;
#   - nothing else in OUT's parent directory but the temporary directory
#     the tool documents, ".OUT.xlayout-tmp-HOST-PID-XXXXXX" (kept after a
#     SIGKILL until the next run to OUT removes it);
# and a rerun must then succeed and give the uninterrupted run's output.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"
trials=${TRIALS:-24}
# Kills land in [0, SPREAD% of an uninterrupted run's time]: past the end too,
# so some trials catch the commit (rename, removal of a replaced checkpoint).
spread=${SPREAD:-120}

# The source: a checkpoint imported under program A. Program B wants four
# tensors in another layout (a transposed tile order that grows 3.2x, a
# transpose of the same size, a changed tile, a plain transpose) and keeps
# three, so a kill can land in a conversion, in a copy, between tensors, or
# in the manifest / fsync / rename.
mkdir src_files dest
$PY "$(dirname "${BASH_SOURCE[0]}")/random_safetensors.py" src_files/model.safetensors 20261130 \
  emb:BF16:4096x2048 act:BF16:64x1024x40 wq:F32:2048x2048 w_out:BF16:2040x2048 \
  head:BF16:2048x4096 ln:F32:2048 bias:F32:40
program A.hlo 'emb:bf16[4096,2048]{1,0:T(8,128)(2,1)}' 'act:bf16[64,1024,40]{1,2,0:T(8,128)(2,1)}' \
  'wq:f32[2048,2048]{1,0:T(8,128)}' 'w_out:bf16[2040,2048]{1,0:T(8,128)(2,1)}' \
  'head:bf16[2048,4096]{1,0:T(8,128)(2,1)}' 'ln:f32[2048]{0:T(256)}' 'bias:f32[40]{0:T(256)}'
program B.hlo 'emb:bf16[4096,2048]{0,1:T(8,128)(2,1)}' 'act:bf16[64,1024,40]{2,1,0:T(8,128)(2,1)}' \
  'wq:f32[2048,2048]{0,1:T(8,128)}' 'w_out:bf16[2040,2048]{1,0:T(16,128)(2,1)}' \
  'head:bf16[2048,4096]{1,0:T(8,128)(2,1)}' 'ln:f32[2048]{0:T(256)}' 'bias:f32[40]{0:T(256)}'
"$XLAYOUT" import src_files/model.safetensors --program A.hlo -o src > /dev/null
rm -r src_files
src_sums=$(cd src && sha256sum manifest.json data/tensors.bin)
src_intact() {
  "$XLAYOUT" inspect src --verify > /dev/null 2> err.txt \
    || fail "$1: the source no longer verifies: $(cat err.txt)"
  [ "$(cd src && sha256sum manifest.json data/tensors.bin)" = "$src_sums" ] \
    || fail "$1: the source's files changed"
}
args=(relayout --program B.hlo --checkpoint src -o dest/out --no-progress)

# An uninterrupted run: its output is the reference every complete output
# must equal. Then the time of a run as the trials make it (warm caches, no
# OUT yet; the median of three), to spread the kills over it. Each trial's
# rerun updates it (a moving average), so the kills keep spanning the run
# when the machine's load changes.
"$XLAYOUT" relayout --program B.hlo --checkpoint src -o full --no-progress > /dev/null
timed_run() {
  local start
  start=$(date +%s%N)
  "$XLAYOUT" "${args[@]}" > /dev/null 2> err.txt || return 1
  run_ms=$(( ($(date +%s%N) - start) / 1000000 ))
}
times=()
for i in 1 2 3; do
  rm -rf dest/out
  timed_run || fail "a calibration run failed: $(cat err.txt)"
  times+=("$run_ms")
done
full_ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
"$XLAYOUT" inspect full --verify > /dev/null || fail "an uninterrupted relayout does not verify"
[ "$full_ms" -ge 1 ] || full_ms=1
[ "$(grep -c '"from"' full/manifest.json)" = 4 ] || fail "the reference converted $(grep -c '"from"' full/manifest.json) tensors, want 4"
same_as_full() {
  cmp -s "$1/data/tensors.bin" full/data/tensors.bin || return 1
  # The manifests differ only where they name the output or a time.
  diff <(grep -v '"created"' "$1/manifest.json") <(grep -v '"created"' full/manifest.json) > /dev/null
}
# litter_ok: OUT's parent holds only `out` and the documented temporary dirs.
litter_ok() {
  local e
  for e in $(ls -A dest); do
    [[ $e == out || $e =~ ^\.out\.xlayout-tmp-.+-[0-9]+-[A-Za-z0-9]{6}$ ]] || fail "$1: unexpected '$e' in OUT's parent"
  done
}

absent=0 complete=0 old=0 litter=0 killed=0
for trial in $(seq 1 "$trials"); do
  rm -rf dest
  mkdir dest
  replace=$(( trial % 2 ))
  # Every other trial: an existing checkpoint (the source's copy) under OUT.
  [ $replace = 0 ] || cp -r src dest/out
  delay_ms=$(( (RANDOM * 32768 + RANDOM) % (full_ms * spread / 100 + 1) ))
  # The binary itself in the background (not a shell function: $! would be
  # a subshell, and killing it would leave xlayout running).
  # Trials 3, 4, 7, 8, ...: two threads (tensors written in parallel);
  # every third trial with --verify (the output re-read before the rename).
  threads=$(( 1 + (trial / 2) % 2 ))
  verify=()
  [ $((trial % 3)) != 0 ] || verify=(--verify)
  "$XLAYOUT" "${args[@]}" --threads $threads "${verify[@]}" > /dev/null 2>&1 &
  pid=$!
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  kill -KILL $pid 2> /dev/null || true
  # 137: killed while running; 0: it had finished (a zombie ignores the kill).
  rc=0
  wait $pid 2> /dev/null || rc=$?
  case $rc in
    137) killed=$((killed + 1)) ;;
    0) ;;
    *) fail "trial $trial: relayout exited $rc before the kill" ;;
  esac
  what="trial $trial ($threads thread(s)${verify:+, --verify}, kill after $delay_ms ms of ~$full_ms)"
  src_intact "$what"
  if [ ! -e dest/out ]; then
    [ $replace = 0 ] || fail "$what: the existing checkpoint disappeared"
    absent=$((absent + 1))
  else
    "$XLAYOUT" inspect dest/out --verify > /dev/null 2> err.txt \
      || fail "$what: OUT exists but does not verify: $(cat err.txt)"
    if same_as_full dest/out; then
      complete=$((complete + 1))
    else
      [ $replace = 1 ] || fail "$what: OUT is neither absent nor the complete output"
      [ "$(cd dest/out && sha256sum manifest.json data/tensors.bin)" = "$src_sums" ] \
        || fail "$what: OUT is neither the old checkpoint nor the complete output"
      old=$((old + 1))
    fi
  fi
  litter_ok "$what"
  ls -A dest | grep -q xlayout-tmp && litter=$((litter + 1))
  # A rerun succeeds and gives the complete output.
  timed_run || fail "$what: the rerun failed: $(cat err.txt)"
  full_ms=$(( (3 * full_ms + run_ms + 2) / 4 ))
  same_as_full dest/out || fail "$what: the rerun's output differs from an uninterrupted run"
  litter_ok "$what, after the rerun"
  # The rerun removed what the killed run left.
  ! ls -A dest | grep -q xlayout-tmp || fail "$what: a temporary is left after the rerun: $(ls -A dest)"
done
src_intact "the end"
echo "PASS: $trials trials ($killed killed while running): $absent absent, $old old checkpoint kept, $complete complete; $litter left a documented temporary directory, removed by the rerun (an uninterrupted run: ${times[*]} ms at the start, ${full_ms} ms at the end)"
