#!/usr/bin/env bash
# End-to-end tests of `xlayout relayout`: round trips through device layouts,
# JSON summary, error exit codes, and that OUT is never left half-written.
set -euo pipefail

: "${XLAYOUT:?set XLAYOUT to the xlayout binary}"
PY=/usr/bin/python3
bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../bench" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_fail.sh"

# 16*1280*40 bf16 values: a deterministic byte pattern.
$PY -c '
import sys
n = 16 * 1280 * 40 * 2
sys.stdout.buffer.write(bytes((i * 7 + (i >> 9)) & 255 for i in range(n)))' > host.bin

# Host -> E0102 "actual" layout -> "expected" layout -> host restores the bytes.
"$XLAYOUT" relayout --shape 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' --from-host host.bin a.bin \
  > out.txt 2> err.txt
[ "$(stat -c %s a.bin)" = 1638400 ] || fail "a.bin size"
grep -q 'bf16\[16,1280,40\]{1,2,0:T(8,128)(2,1)}' out.txt || fail "human summary names the shape"
[ ! -s err.txt ] || fail "stderr not empty on success: $(cat err.txt)"

"$XLAYOUT" relayout --shape 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' \
  --to '{2,1,0:T(8,128)(2,1)}' --threads 2 --json a.bin b.bin > b.json
$PY -c '
import json, sys
j = json.load(open("b.json"))
assert j["input"]["exact_bytes"] == 1638400, j
assert j["output"]["exact_bytes"] == 5242880, j
assert j["output"]["shape"] == "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}", j
assert j["threads"] == 2 and len(j["output"]["xxh3_64"]) == 16, j
' || fail "json summary"

"$XLAYOUT" relayout --shape 'bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}' --to-host b.bin back.bin >/dev/null
cmp -s host.bin back.bin || fail "host -> device -> device -> host changed the data"

# The same 16 times larger (26 MB in): read in bands of the major dimension,
# the bytes are the same.
$PY -c '
import numpy as np, sys
i = np.arange(256 * 1280 * 40 * 2, dtype=np.uint64)
sys.stdout.buffer.write(((i * 7 + (i >> 9)) & 255).astype(np.uint8).tobytes())' > big.bin
"$XLAYOUT" relayout --shape 'bf16[256,1280,40]{1,2,0:T(8,128)(2,1)}' --from-host big.bin big_a.bin >/dev/null
"$XLAYOUT" relayout --shape 'bf16[256,1280,40]{1,2,0:T(8,128)(2,1)}' \
  --to '{2,1,0:T(8,128)(2,1)}' --json big_a.bin big_b.bin > big.json
$PY -c '
import json
j = json.load(open("big.json"))
assert j["input"]["bands"] > 1, j
' || fail "a large E0102 conversion is read in bands"
"$XLAYOUT" relayout --shape 'bf16[256,1280,40]{2,1,0:T(8,128)(2,1)}' --to-host big_b.bin big_back.bin >/dev/null
cmp -s big.bin big_back.bin || fail "banded host -> device -> device -> host changed the data"
grep -q '"bands": 0' b.json || fail "a small conversion is read whole"
rm -f big.bin big_a.bin big_b.bin big_back.bin

# Standard input from a file is read from where it stands: a header the
# caller read first is not part of the buffer.
{ printf 'HEADER0123456789'; cat a.bin; } > hdr.bin
( dd bs=16 count=1 of=/dev/null status=none
  "$XLAYOUT" relayout --shape 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' \
    --to '{2,1,0:T(8,128)(2,1)}' - hdr_b.bin >/dev/null ) < hdr.bin || fail "stdin after a header"
cmp -s b.bin hdr_b.bin || fail "stdin after a header: other bytes"

# A file size limit is a write error like a full disk: exit 2, named, and
# no temporary file left (not death by SIGXFSZ).
mkdir lim
set +e
( ulimit -f 100
  "$XLAYOUT" relayout --shape 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' \
    --to '{2,1,0:T(8,128)(2,1)}' a.bin lim/out.bin ) >/dev/null 2>lim.err
rc=$?
set -e
[ "$rc" = 2 ] || fail "ulimit -f: exit $rc"
grep -q 'File too large' lim.err || fail "ulimit -f: $(cat lim.err)"
[ -z "$(ls -A lim)" ] || fail "ulimit -f left $(ls -A lim)"

# Padding is zero: the 40-wide minor dim is padded to 128 in b.bin. Every
# 512-byte (8,128)(2,1) tile row pair has 80 data bytes, then zeros.
$PY -c '
data = open("b.bin", "rb").read()
for t in range(0, len(data), 512):
    assert data[t + 160:t + 512] == bytes(352), t
' || fail "padding not zero"

# --to may be a whole shape; a different logical array is an error naming both.
"$XLAYOUT" relayout --shape 'bf16[16,1280,40]' --to 'bf16[16,1280,40]{0,1,2}' host.bin c.bin >/dev/null
set +e
"$XLAYOUT" relayout --shape 'bf16[16,1280,40]' --to 'f32[16,1280,40]' host.bin d.bin > out.txt 2> err.txt
rc=$?
set -e
[ "$rc" = 2 ] || fail "mismatched element type: exit $rc"
grep -q 'bf16\[16,1280,40\]' err.txt && grep -q 'f32\[16,1280,40\]' err.txt || fail "error names both shapes"
[ ! -s out.txt ] || fail "stdout not empty on error"
[ ! -e d.bin ] || fail "output created on error"

# Wrong input length: refused before anything is written; OUT untouched.
echo keep > e.bin
set +e
"$XLAYOUT" relayout --shape 'bf16[16,1280,41]' --to-host host.bin e.bin 2> err.txt
rc=$?
set -e
[ "$rc" = 2 ] || fail "wrong input size: exit $rc"
grep -q '1638400 bytes' err.txt && grep -q '1679360' err.txt || fail "size error message: $(cat err.txt)"
[ "$(cat e.bin)" = keep ] || fail "existing OUT was modified"
ls -a | grep -q 'xlayout-tmp' && fail "temporary file left behind"

# An output that cannot fit on the disk (a 4 PB tile) is refused up front.
printf '\x00\x00\x80\x3f' > one.bin
set +e
"$XLAYOUT" relayout --shape 'f32[1]' --from-host --to '{0:T(1000000000000000)}' one.bin huge.bin \
  2> err.txt
rc=$?
set -e
[ "$rc" = 2 ] || fail "huge output: exit $rc"
grep -q 'are free' err.txt || fail "huge output message: $(cat err.txt)"
[ ! -e huge.bin ] || fail "huge output created"

# Usage errors exit 2.
set +e
"$XLAYOUT" relayout --shape 'bf16[4]' host.bin f.bin 2>/dev/null; rc1=$?
"$XLAYOUT" relayout --shape 'bf16[4' --to-host host.bin f.bin 2>/dev/null; rc2=$?
"$XLAYOUT" relayout --shape 'bf16[4]' --to-host --threads 0 host.bin f.bin 2>/dev/null; rc3=$?
"$XLAYOUT" relayout --shape 'bf16[4]' --to-host missing.bin f.bin 2>/dev/null; rc4=$?
set -e
[ "$rc1$rc2$rc3$rc4" = 2222 ] || fail "usage errors exit $rc1 $rc2 $rc3 $rc4"

# Sub-byte packing: s4 E(4) puts element 0 in the high nibble (XLA's order).
printf '\x01\x02\x03\x04' > s4.bin
"$XLAYOUT" relayout --shape 's4[4]{0:E(4)}' --from-host s4.bin packed.bin >/dev/null
[ "$(od -An -tx1 packed.bin | tr -d ' \n')" = 1234 ] || fail "s4 packing order: $(od -An -tx1 packed.bin)"

# An independent oracle: bench/relayout_numpy.py does the benchmark's
# conversions with numpy pad/reshape/transpose; both must agree bit for bit.
if $PY -c 'import numpy' 2>/dev/null; then
  $PY - "$XLAYOUT" "$bench_dir" <<'PYEOF' || fail "numpy oracle disagrees"
import subprocess, sys
import numpy as np
sys.path.insert(0, sys.argv[2])
import relayout_numpy as R
cases = [
    ("bf16[16,128,40]{1,2,0:T(8,128)(2,1)}", "{2,1,0:T(8,128)(2,1)}", np.uint16, (16, 128, 40),
     ((1, 2, 0), [(8, 128), (2, 1)]), ((2, 1, 0), [(8, 128), (2, 1)]), False),
    ("f32[64,96]{1,0}", "{0,1}", np.float32, (64, 96), ((1, 0), []), ((0, 1), []), False),
    ("f32[40,300]{1,0}", "{1,0:T(8,128)}", np.float32, (40, 300), ((1, 0), []),
     ((1, 0), [(8, 128)]), False),
    ("bf16[40,300]{1,0}", "{1,0:T(8,128)(2,1)}", np.uint16, (40, 300), ((1, 0), []),
     ((1, 0), [(8, 128), (2, 1)]), False),
    ("s8[40,300]{1,0}", "{0,1:T(8,128)(4,1)}", np.int8, (40, 300), ((1, 0), []),
     ((0, 1), [(8, 128), (4, 1)]), False),
    ("s4[128,256]{1,0:E(4)}", "{1,0:T(64,128)(8,1)E(4)}", np.uint8, (128, 256), ((1, 0), []),
     ((1, 0), [(64, 128), (8, 1)]), True),
    ("f32[4,3,6,5,2]{4,3,2,1,0}", "{2,4,0,3,1}", np.float32, (4, 3, 6, 5, 2),
     ((4, 3, 2, 1, 0), []), ((2, 4, 0, 3, 1), []), False),
]
for shape, to, dtype, dims, src, dst, packed in cases:
    buf = R.input_buffer(dtype, dims, src, packed)
    want = R.convert(buf, dtype, dims, src, dst, packed)
    buf.tofile("oracle_in.bin")
    subprocess.run([sys.argv[1], "relayout", "--shape", shape, "--to", to, "oracle_in.bin",
                    "oracle_out.bin"], check=True, stdout=subprocess.DEVNULL)
    got = open("oracle_out.bin", "rb").read()
    assert got == want.tobytes(), (shape, to)
PYEOF
else
  echo "numpy not available: skipping the numpy oracle"
fi


# ---- File safety (issue 10.1-10.3): what OUT and IN point at. ----
T='f32[8,8]{1,0}'
$PY -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' > t.bin
"$XLAYOUT" relayout --shape "$T" --to '{0,1}' t.bin t_ref.bin >/dev/null

# --to takes a JAX Layout(...) repr, as --shape does.
"$XLAYOUT" relayout --shape "$T" --to 'Layout(major_to_minor=(1, 0), tiling=(), sub_byte_element_size_in_bits=0)' \
  t.bin t_jax.bin >/dev/null || fail "--to with a JAX Layout repr"
cmp -s t_ref.bin t_jax.bin || fail "--to Layout(...) gave other bytes than --to '{0,1}'"
"$XLAYOUT" relayout --shape 'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' \
  --to 'Layout(major_to_minor=(0, 1, 2), tiling=((8, 128), (2, 1)))' a.bin b_jax.bin >/dev/null
cmp -s b.bin b_jax.bin || fail "--to Layout(...) with tiles"

# A symlink as OUT: its target is replaced, the link stays a link.
mkdir -p sub && echo old > sub/target && ln -s sub/target link.bin
"$XLAYOUT" relayout --shape "$T" --to '{0,1}' t.bin link.bin >/dev/null
[ -L link.bin ] || fail "symlink OUT was replaced by a regular file"
cmp -s sub/target t_ref.bin || fail "symlink target not written"

# An existing 0600 OUT keeps its mode.
echo old > private.bin && chmod 600 private.bin
"$XLAYOUT" relayout --shape "$T" --to '{0,1}' t.bin private.bin >/dev/null
[ "$(stat -c %a private.bin)" = 600 ] || fail "mode of OUT changed to $(stat -c %a private.bin)"
cmp -s private.bin t_ref.bin || fail "0600 OUT not written"

# A directory, a FIFO or a device as OUT is refused with exit 2 and left alone.
mkdir outdir
set +e
"$XLAYOUT" relayout --shape "$T" --to '{0,1}' t.bin outdir 2> err.txt; rc=$?
set -e
[ "$rc" = 2 ] || fail "directory OUT: exit $rc"
grep -q "it is a directory" err.txt || fail "directory OUT message: $(cat err.txt)"
[ -d outdir ] && [ -z "$(ls -A outdir)" ] || fail "directory OUT touched"
if mknod chardev c 1 3 2>/dev/null; then
  set +e
  "$XLAYOUT" relayout --shape "$T" --to '{0,1}' t.bin chardev 2> err.txt; rc=$?
  set -e
  [ "$rc" = 2 ] || fail "char device OUT: exit $rc"
  [ -c chardev ] || fail "char device OUT was replaced"
  grep -q "character device" err.txt || fail "char device message: $(cat err.txt)"
else
  echo "mknod not permitted: skipping the device-node OUT case"
fi

# A FIFO as IN is refused at once (no writer ever comes), not waited on.
mkfifo in.fifo
set +e
timeout 5 "$XLAYOUT" relayout --shape "$T" --to '{0,1}' in.fifo f.bin 2> err.txt; rc=$?
set -e
[ "$rc" = 2 ] || fail "FIFO IN: exit $rc (124 = hung)"
grep -q "it is a FIFO" err.txt || fail "FIFO IN message: $(cat err.txt)"
[ ! -e f.bin ] || fail "output created for a FIFO IN"

# '-' reads stdin and writes stdout (a pipe both ways).
cat t.bin | "$XLAYOUT" relayout --shape "$T" --to '{0,1}' - - | cat > piped.bin
cmp -s piped.bin t_ref.bin || fail "stdin/stdout relayout differs"
"$XLAYOUT" relayout --shape "$T" --to '{0,1}' --json - - < t.bin > piped2.bin 2> summary.json
cmp -s piped2.bin t_ref.bin || fail "--json with stdout: data differs"
$PY -c 'import json; assert json.load(open("summary.json"))["output"]["exact_bytes"] == 256' \
  || fail "--json with '-' OUT puts the summary on stderr"
ls -a | grep -q 'xlayout-tmp' && fail "temporary file left behind"

# A full disk: exit 2, the path and ENOSPC named, no temporary file left.
mkdir small
if mount -t tmpfs -o size=1m tmpfs small 2>/dev/null; then
  head -c $((2 << 20)) /dev/zero > big.bin
  head -c $((8 << 20)) /dev/zero > band.bin
  # A transpose (mapped input) and a tiling read in bands.
  for args in "f32[512,1024]{1,0} {0,1} big.bin" "f32[2048,1024]{1,0} {1,0:T(8,128)} band.bin"; do
    set -- $args
    set +e
    "$XLAYOUT" relayout --shape "$1" --to "$2" "$3" small/out.bin 2> err.txt; rc=$?
    set -e
    ls -A small > left.txt
    [ "$rc" = 2 ] || fail "ENOSPC ($3): exit $rc"
    grep -q "small/out.bin': No space left on device" err.txt || fail "ENOSPC message ($3): $(cat err.txt)"
    [ ! -s left.txt ] || fail "left behind on a full disk ($3): $(cat left.txt)"
  done
  umount small
  rm -f band.bin
else
  echo "cannot mount a tmpfs here: skipping the ENOSPC case"
fi

# kill -9 during a banded run (through a symlink to the input): the input
# is intact, OUT is either absent or the whole right output, and nothing is
# left but the documented temporary file, which the next run to OUT removes.
$PY -c '
import numpy as np, sys
i = np.arange(4096 * 2048, dtype=np.uint64)
sys.stdout.buffer.write(((i * 13 + (i >> 11)) & 255).astype(np.uint8).tobytes())' > kin.bin
ln -s kin.bin kin_link.bin
kin_sum=$(sha256sum < kin.bin)
mkdir killed
krun() {
  "$XLAYOUT" relayout --shape 'f32[4096,512]{1,0}' --to '{1,0:T(8,128)}' --json "$@"
}
krun kin_link.bin kref.bin > kref.json
$PY -c 'import json; assert json.load(open("kref.json"))["input"]["bands"] > 1' || fail "kill test: not banded"
for delay in 0.005 0.01 0.02 0.03 0.05 0.08; do
  krun kin_link.bin killed/out.bin > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$(sha256sum < kin.bin)" = "$kin_sum" ] || fail "kill -9 after ${delay}s changed the input"
  if [ -e killed/out.bin ]; then
    cmp -s kref.bin killed/out.bin || fail "kill -9 after ${delay}s left a partial OUT"
  fi
  for f in $(ls -A killed); do
    case "$f" in
      out.bin|.out.bin.xlayout-tmp-*) ;;
      *) fail "kill -9 after ${delay}s left $f" ;;
    esac
  done
  krun kin_link.bin killed/out.bin > /dev/null || fail "rerun after kill -9 (${delay}s)"
  cmp -s kref.bin killed/out.bin || fail "rerun after kill -9 (${delay}s): other bytes"
  [ "$(ls -A killed)" = out.bin ] || fail "rerun after kill -9 left $(ls -A killed)"
  rm killed/out.bin
done
rm -rf kin.bin kin_link.bin kref.bin killed

# An input cut short by another process while it is mapped (a transpose is
# mapped, not banded): the run dies of SIGBUS saying why, and leaves no
# temporary file (it was left before). The temporary file appears after the
# input is mapped. ASan would take SIGBUS for itself: handle_sigbus=0.
mkdir cut
truncate -s 512M cut/in.bin  # f32[8192,16384], sparse.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_sigbus=0" "$XLAYOUT" relayout \
  --shape 'f32[8192,16384]{1,0}' --to '{0,1}' cut/in.bin cut/out.bin \
  > /dev/null 2> cut.err &
pid=$!
for _ in $(seq 1000); do
  ls -A cut | grep -q xlayout-tmp && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
truncate -s 0 cut/in.bin
rc=0
wait "$pid" || rc=$?
if [ "$rc" = 0 ]; then
  echo "the relayout finished before its input was cut: SIGBUS case not run"
else
  [ "$rc" = 135 ] || fail "cut input: exit $rc, not SIGBUS (135): $(cat cut.err)"
  grep -q 'error: an input file mapped for reading was cut short.*SIGBUS' cut.err ||
    fail "cut input: no message: $(cat cut.err)"
  [ "$(ls -A cut)" = in.bin ] || fail "cut input left $(ls -A cut)"
fi
rm -rf cut cut.err

# An empty IN or OUT is named as such, not taken for a missing form.
for args in "host.bin ''" "'' out.bin"; do
  rc=0
  eval "\"\$XLAYOUT\" relayout --shape 'f32[4]{0}' --to '{0:T(2)}' $args" 2> err.txt || rc=$?
  [ "$rc" = 2 ] || fail "empty path ($args): exit $rc"
  grep -q "^error: relayout: \(IN\|OUT\) is an empty path$" err.txt || fail "empty path ($args): $(cat err.txt)"
done

# --help describes the command.
"$XLAYOUT" relayout --help > help.txt || fail "help exit"
grep -q -- '--from-host' help.txt || fail "help"
grep -q -- '--checkpoint' help.txt || fail "help: no checkpoint form"
# Options that do not say where to convert to are a usage error: nothing on
# stdout with --json (no JSON blaming IN), exit 2.
for opts in "" "--to-host --from-host" "--to-host --to {0}"; do
  set +e
  # shellcheck disable=SC2086
  "$XLAYOUT" relayout --json --shape 'f32[2]' $opts host.bin u.bin > out.txt 2> err.txt
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "relayout --json $opts: exit $rc"
  [ ! -s out.txt ] || fail "relayout --json $opts: JSON on a usage error: $(cat out.txt)"
  grep -q "^error: relayout: " err.txt || fail "relayout --json $opts: $(cat err.txt)"
done
# An output that is a directory is "a directory", even one holding the input.
printf '12345678' > h8.bin
set +e
"$XLAYOUT" relayout --shape 'f32[2]' --to '{0}' h8.bin . > out.txt 2> err.txt
rc=$?
set -e
[ "$rc" = 2 ] || fail "relayout into .: exit $rc"
grep -q "^error: relayout: refusing to replace '.': it is a directory, not a regular file" err.txt \
  || fail "relayout into .: $(cat err.txt)"
# --to text that is no layout says what --to takes.
set +e
"$XLAYOUT" relayout --shape 'f32[2]' --to AUTO h8.bin o8.bin > out.txt 2> err.txt
rc=$?
set -e
[ "$rc" = 2 ] || fail "--to AUTO: exit $rc"
grep -q "^error: relayout: --to 'AUTO' is not a layout: expected one in braces" err.txt \
  || fail "--to AUTO: $(cat err.txt)"
! grep -q 'element type' err.txt || fail "--to AUTO: $(cat err.txt)"
echo "relayout CLI tests passed"
