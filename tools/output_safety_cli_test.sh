#!/bin/bash
# Regressions: outputs that would have overwritten or deleted the user's
# files. Every command refuses, with exit 2, an output that is its input, lies
# inside it or contains it (also through symlinks and hard links), and a
# directory output that holds anything it did not write itself. Each case
# then checks that nothing was lost.
set -euo pipefail
source "$(dirname "$0")/cli_test_lib.sh"

$PY - <<'PY'
import numpy as np
np.save("a.npy", np.arange(64, dtype="<f4").reshape(8, 8))
np.save("b.npy", np.arange(16, dtype="<i4"))
PY
"$XLAYOUT" import a.npy b.npy --layout 'a={0,1}' --layout 'b={0}' -o ck > /dev/null 2> err.txt ||
  fail "import: $(cat err.txt)"
cp -r ck ck.orig
intact() { diff -r ck ck.orig > /dev/null || fail "the checkpoint changed: $*"; }

# --- export -------------------------------------------------------------------
expect_fail 2 "is the source checkpoint 'ck' itself" "$XLAYOUT" export --checkpoint ck -o ck
intact "export -o ck"
expect_fail 2 'inside the source checkpoint' "$XLAYOUT" export --checkpoint ck -o ck/data/
intact "export -o ck/data/"
ln -s ck/data/tensors.bin t.safetensors
expect_fail 2 'inside the source checkpoint' "$XLAYOUT" export --checkpoint ck -o t.safetensors
intact "export -o a symlink into the checkpoint"
mkdir ws && cp -r ck ws/ck && echo thesis > ws/paper.txt
expect_fail 2 'contains the source checkpoint' "$XLAYOUT" export --checkpoint ws/ck -o ws/
[ "$(cat ws/paper.txt)" = thesis ] && [ -f ws/ck/manifest.json ] || fail "ws/ changed"
# A directory of other files is not an earlier export.
mkdir notes && echo keep > notes/todo.txt
expect_fail 2 "holds 'todo.txt', which is not a .npy file" "$XLAYOUT" export --checkpoint ck -o notes/
[ "$(cat notes/todo.txt)" = keep ] || fail "notes/ changed"
# An earlier export (only .npy files) and an empty directory are replaced.
run 0 "$XLAYOUT" export --checkpoint ck -o out/
run 0 "$XLAYOUT" export --checkpoint ck -o out/
mkdir empty && run 0 "$XLAYOUT" export --checkpoint ck -o empty/
[ -f empty/a.npy ] || fail "export into an empty directory"

# --- import -------------------------------------------------------------------
mkdir src && cp a.npy src/
expect_fail 2 'contains the source file' "$XLAYOUT" import src/a.npy --host -o src
[ -f src/a.npy ] || fail "import deleted its source"
expect_fail 2 "is the source file 'a.npy' itself" "$XLAYOUT" import a.npy --host -o a.npy
# A checkpoint that also holds the user's files is not replaced.
cp -r ck c2 && echo n > c2/NOTES.md
expect_fail 2 "also holds 'NOTES.md'" "$XLAYOUT" import a.npy --host -o c2
[ "$(cat c2/NOTES.md)" = n ] || fail "c2/NOTES.md lost"
rm c2/NOTES.md && mkdir c2/data/logs
expect_fail 2 "also holds 'data/logs'" "$XLAYOUT" import a.npy --host -o c2
rmdir c2/data/logs
# Only a manifest naming the format: not a checkpoint and nothing else.
mkdir -p h/p && echo tex > h/p/t.tex && echo '{"format":"xlayout.checkpoint.v1"}' > h/manifest.json
expect_fail 2 "also holds" "$XLAYOUT" import a.npy --host -o h
[ "$(cat h/p/t.tex)" = tex ] || fail "h/p/t.tex lost"
# A real checkpoint alone is replaced.
run 0 "$XLAYOUT" import a.npy --host -o c2
"$XLAYOUT" inspect c2 > out.txt 2> err.txt || fail "inspect c2: $(cat err.txt)"
has '1 tensor'

# --- relayout of a checkpoint -----------------------------------------------
program P.hlo 'a:f32[8,8]{1,0}' 'b:s32[16]{0}'
cp -r ck c3 && echo n > c3/NOTES.md
expect_fail 2 "also holds 'NOTES.md'" "$XLAYOUT" relayout --program P.hlo --checkpoint ck -o c3
[ "$(cat c3/NOTES.md)" = n ] || fail "c3/NOTES.md lost"
intact "relayout --checkpoint"

# The program given to relayout is an input too (regression, second trial:
# a program inside the output directory was deleted with it).
cp -r ck ckG && cp P.hlo ckG/data/tensors.bin
expect_fail 2 "contains the program" "$XLAYOUT" relayout --program ckG/data/tensors.bin --checkpoint ck -o ckG
cmp -s P.hlo ckG/data/tensors.bin || fail "the program was deleted"
# "-o -" is not a directory name (it made a directory named "-").
expect_fail 2 "cannot write directory '-'" "$XLAYOUT" import a.npy --host -o -
expect_fail 2 "cannot write directory '-'" "$XLAYOUT" relayout --program P.hlo --checkpoint ck -o -
[ ! -e ./- ] || fail "a directory named '-' was made"
# Concurrent runs to one new directory all succeed (one of four failed when
# another committed between its check and its rename).
for round in 1 2 3; do
  pids=()
  for i in 1 2 3 4; do
    "$XLAYOUT" export --checkpoint ck -o "cn$round/" > /dev/null 2> "cn$round.$i.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || fail "a concurrent export failed: $(cat cn$round.*.err)"; done
  ! ls -A | grep -q "^\.cn$round\.xlayout-tmp" || fail "temporaries left by concurrent exports"
done

# --- relayout of a buffer -----------------------------------------------------
head -c 256 /dev/urandom > buf.bin && cp buf.bin buf.orig && ln -s buf.bin buf.link && ln buf.bin buf.hard
for out in buf.bin buf.link buf.hard ./buf.bin; do
  expect_fail 2 'itself' "$XLAYOUT" relayout --shape 'f32[8,8]{1,0}' --to '{0,1}' buf.bin "$out"
  cmp -s buf.bin buf.orig || fail "relayout overwrote its input through $out"
done
# Standard output or input pointed at the input by the shell.
set +e
"$XLAYOUT" relayout --shape 'f32[8,8]{1,0}' --to '{0,1}' buf.bin - 1<> buf.bin 2> err.txt
rc1=$?
"$XLAYOUT" relayout --shape 'f32[8,8]{1,0}' --to '{0,1}' - buf.bin < buf.bin 2> err2.txt
rc2=$?
set -e
[ $rc1 = 2 ] && grep -q 'standard output is the input' err.txt || fail "IN - 1<>IN: exit $rc1: $(cat err.txt)"
[ $rc2 = 2 ] && grep -q '(standard input) itself' err2.txt || fail "- IN < IN: exit $rc2: $(cat err2.txt)"
cmp -s buf.bin buf.orig || fail "relayout overwrote its input through a standard stream"
# A read-only directory is not replaced (as a user who cannot write it).
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
  mkdir -m 777 shared && mkdir -m 555 shared/ro
  chmod 755 ck ck/data && chmod 644 ck/manifest.json ck/data/tensors.bin
  set +e
  setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$XLAYOUT" export --checkpoint "$PWD/ck" -o "$PWD/shared/ro/" > out.txt 2> err.txt
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "export into a read-only directory: exit $rc: $(cat err.txt)"
  has 'ermission denied' err.txt
  [ "$(stat -c %a shared/ro)" = 555 ] || fail "shared/ro was replaced"
fi
echo "output_safety_cli_test: ok"
