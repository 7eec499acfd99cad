#!/usr/bin/env bash
# Crash test of `xlayout export`: SIGKILL at random points, 12 trials each
# for .npz (written through libzip) and .safetensors. Each trial must leave
# the target absent, or the file it replaced unchanged, or complete and equal
# to an uninterrupted export; the checkpoint untouched; and the next run
# must succeed and remove what the killed runs left.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

$PY "$(dirname "${BASH_SOURCE[0]}")/random_safetensors.py" model.safetensors 1 \
  emb:BF16:4096x1024 w1:F32:1024x1000 b1:F32:1000 w2:BF16:1000x1024 \
  ln:F32:1024 head:BF16:1024x2040
"$XLAYOUT" import model.safetensors --layout 'emb={0,1:T(8,128)(2,1)}' \
  --layout 'w1={0,1:T(8,128)}' --layout 'b1={0:T(256)}' \
  --layout 'w2={1,0:T(8,128)(2,1)}' --layout 'ln={0:T(256)}' \
  --layout 'head={0,1:T(8,128)(2,1)}' -o ck > /dev/null
ck_sum() { cat ck/manifest.json ck/data/* | sha256sum | cut -d' ' -f1; }
# same A B: the same export. An .npz is compared member by member (its
# headers carry the time of writing), and must be a whole, valid zip.
same() {
  case "$1" in
    *.npz) $PY -c '
import sys, zipfile
a, b = (zipfile.ZipFile(p) for p in sys.argv[1:3])
assert a.testzip() is None and b.testzip() is None
assert a.namelist() == b.namelist(), (a.namelist(), b.namelist())
for n in a.namelist():
    assert a.read(n) == b.read(n), n
' "$1" "$2" 2> /dev/null ;;
    *) cmp -s "$1" "$2" ;;
  esac
}
before=$(ck_sum)

for ext in npz safetensors; do
  start=$(date +%s%N)
  "$XLAYOUT" export --checkpoint ck -o "full.$ext" > /dev/null
  full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ "$full_ms" -ge 1 ] || full_ms=1
  echo "old contents" > old.bin
  trials=12 absent=0 complete=0 old=0
  for trial in $(seq 1 $trials); do
    rm -f "target.$ext"
    replace=$(( trial % 2 ))
    [ $replace = 1 ] && cp old.bin "target.$ext"
    delay_ms=$(( (RANDOM * 7919 + trial * 104729) % (full_ms + full_ms / 4 + 1) ))
    "$XLAYOUT" export --checkpoint ck -o "target.$ext" > /dev/null 2>&1 &
    pid=$!
    sleep "$(printf '0.%03d' $((delay_ms % 1000)))"
    [ $delay_ms -ge 1000 ] && sleep $((delay_ms / 1000))
    kill -KILL $pid 2> /dev/null || true
    wait $pid 2> /dev/null || true
    if [ ! -e "target.$ext" ]; then
      [ $replace = 0 ] || fail "$ext trial $trial: the file it replaces disappeared"
      absent=$((absent + 1))
    elif cmp -s "target.$ext" old.bin; then
      [ $replace = 1 ] || fail "$ext trial $trial: unexpected old contents"
      old=$((old + 1))
    else
      same "target.$ext" "full.$ext" \
        || fail "$ext trial $trial (kill after ${delay_ms} ms): target.$ext is neither absent, the old file nor complete"
      complete=$((complete + 1))
    fi
    [ "$(ck_sum)" = "$before" ] || fail "$ext trial $trial: the checkpoint changed"
  done
  # The next run succeeds and removes the killed runs' temporaries.
  "$XLAYOUT" export --checkpoint ck -o "target.$ext" > /dev/null
  same "target.$ext" "full.$ext" || fail "$ext: the run after the kills differs"
  left=$(find . -maxdepth 1 -name ".target.$ext.xlayout-tmp-*" | wc -l)
  [ "$left" = 0 ] || fail "$ext: $left temporaries left after a clean run: $(ls -a)"
  echo "$ext: $trials trials: $absent absent, $old old file kept, $complete complete (full export ${full_ms} ms)"
done
echo PASS
