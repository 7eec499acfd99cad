#!/usr/bin/env bash
# Crash test of `xlayout import`: SIGKILL at random points, 24 trials. Each
# trial must leave the target either absent (or, when it existed, the old
# checkpoint) or a complete new checkpoint that passes `inspect --verify`,
# and the source untouched (checksum before and after).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

# About 24 MiB of tensors in several sizes, so a kill can land in any tensor,
# between tensors, or during the manifest / fsync / rename.
$PY "$(dirname "${BASH_SOURCE[0]}")/random_safetensors.py" model.safetensors 1 \
  emb:BF16:4096x1024 w1:F32:1024x1000 b1:F32:1000 w2:BF16:1000x1024 \
  ln:F32:1024 head:BF16:1024x2040
layouts=(--layout 'emb={0,1:T(8,128)(2,1)}' --layout 'w1={0,1:T(8,128)}'
         --layout 'b1={0:T(256)}' --layout 'w2={1,0:T(8,128)(2,1)}'
         --layout 'ln={0:T(256)}' --layout 'head={0,1:T(8,128)(2,1)}')
before=$(sha256sum model.safetensors | cut -d' ' -f1)

# How long a whole import takes, to spread the kills over it.
start=$(date +%s%N)
"$XLAYOUT" import model.safetensors "${layouts[@]}" -o full > /dev/null
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
"$XLAYOUT" inspect full --verify > /dev/null || fail "uninterrupted import does not verify"
[ "$full_ms" -ge 1 ] || full_ms=1

trials=24 absent=0 complete=0 old=0
for trial in $(seq 1 $trials); do
  rm -rf target .target.xlayout-tmp-*
  replace=$(( trial % 2 ))
  if [ $replace = 1 ]; then
    # An existing checkpoint under the target name (row-major layouts).
    "$XLAYOUT" import model.safetensors --host -o target > /dev/null
  fi
  delay_ms=$(( (RANDOM * 7919 + trial * 104729) % (full_ms + full_ms / 4 + 1) ))
  "$XLAYOUT" import model.safetensors "${layouts[@]}" -o target > /dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%03d' $((delay_ms % 1000)))"
  [ $delay_ms -ge 1000 ] && sleep $((delay_ms / 1000))
  kill -KILL $pid 2> /dev/null || true
  wait $pid 2> /dev/null || true
  if [ ! -e target ]; then
    [ $replace = 0 ] || fail "trial $trial: the existing checkpoint disappeared"
    absent=$((absent + 1))
  else
    "$XLAYOUT" inspect target --verify > /dev/null 2> err.txt \
      || fail "trial $trial (kill after ${delay_ms} ms): target exists but does not verify: $(cat err.txt)"
    if grep -q 'T(8,128)' target/manifest.json; then
      complete=$((complete + 1))
      cmp target/data/tensors.bin full/data/tensors.bin || fail "trial $trial: data differs from a full import"
    else
      [ $replace = 1 ] || fail "trial $trial: unexpected checkpoint"
      old=$((old + 1))
    fi
  fi
  [ "$(sha256sum model.safetensors | cut -d' ' -f1)" = "$before" ] || fail "trial $trial: source changed"
done
echo "PASS: $trials trials: $absent absent, $old old checkpoint kept, $complete complete (full import ${full_ms} ms)"
