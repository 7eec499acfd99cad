#!/usr/bin/env bash
# Full disk: `xlayout import` and `xlayout relayout --checkpoint` writing to a
# small tmpfs (8 MiB) that cannot hold their output. Each must fail with exit
# 2 and an ENOSPC message naming the path, leave its source intact (the
# .safetensors byte for byte; a source checkpoint verified with `inspect
# --verify`) and leave no partial output: no OUT, no temporary directory, an
# existing checkpoint under OUT's name unchanged. Cases: the data file does
# not fit; the data fits but the manifest does not; an existing checkpoint
# is to be replaced; the source checkpoint lives on the full disk itself.
# Needs root (mount); prints SKIP and passes where mount is not permitted.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

mkdir disk
if ! mount -t tmpfs -o size=8m tmpfs disk 2> /dev/null; then
  echo "SKIP: cannot mount tmpfs"
  exit 0
fi
trap 'umount "$work/disk" 2> /dev/null || true; rm -rf "$work"' EXIT
free_pages() { df -B4096 --output=avail disk | tail -n 1 | tr -d ' '; }
[ "$(free_pages)" = 2048 ] || fail "the tmpfs is not 8 MiB: $(df -B4096 disk)"

# Sources on the ordinary disk: big (12 MiB of tensors: no 8 MiB disk holds
# it) and small (1.5 MiB); act.safetensors converts from 2.5 MiB to 8 MiB.
$PY - <<'PY'
import json, struct
import numpy as np
rng = np.random.default_rng(8)
def write(path, tensors):
    header, data, off = {}, [], 0
    for name, dt, shape in tensors:
        n = int(np.prod(shape)) * (2 if dt == "BF16" else 4)
        data.append(rng.integers(0, 256, n, dtype="u1").tobytes())
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + n]}
        off += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(data))
write("big.safetensors", [("a", "F32", [1024, 1024]), ("b", "BF16", [2048, 1024]),
                          ("c", "F32", [1024, 1024])])
write("small.safetensors", [("a", "F32", [256, 1000]), ("b", "BF16", [300, 1024])])
write("act.safetensors", [("act", "BF16", [64, 512, 40]), ("w", "F32", [512, 512]),
                          ("ln", "F32", [512])])
PY
sha() { sha256sum "$1" | cut -d' ' -f1; }
big_sha=$(sha big.safetensors) small_sha=$(sha small.safetensors)

# expect_enospc WHAT PATH CMD...: CMD exits 2 and stderr says "cannot write"
# a file under PATH and "No space left on device".
expect_enospc() {
  local what=$1 path=$2
  shift 2
  set +e
  "$@" > out.txt 2> err.txt
  local rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$what: exit $rc (want 2): $(cat err.txt)"
  grep -q "'$path[^']*': No space left on device" err.txt \
    || fail "$what: stderr does not name '$path' and ENOSPC: $(cat err.txt)"
  [ "$(wc -l < err.txt)" = 1 ] || fail "$what: more than one line on stderr: $(cat err.txt)"
}
# only_on_disk NAMES...: the tmpfs holds exactly NAMES (sorted), nothing else.
only_on_disk() {
  local want got
  want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
  got=$(ls -A disk | sort)
  [ "$got" = "$want" ] || fail "the tmpfs holds [$(echo $got)], want [$(echo $want)]"
}

# --- import ----------------------------------------------------------------
# 1. The data file does not fit.
expect_enospc "import, data too big" "disk/ck" \
  "$XLAYOUT" import big.safetensors --layout 'a={0,1:T(8,128)}' \
  --layout 'b={1,0:T(8,128)(2,1)}' --layout 'c={1,0:T(8,128)}' -o disk/ck
grep -q "^error: import: cannot write 'disk/ck/" err.txt || fail "import message: $(cat err.txt)"
only_on_disk
[ "$(sha big.safetensors)" = "$big_sha" ] || fail "import changed its source"
[ "$(free_pages)" = 2048 ] || fail "import left space in use: $(free_pages) pages free"

# 2. The data fits, the manifest does not: the disk is filled so that exactly
# the data file's pages are free.
"$XLAYOUT" import small.safetensors --host -o ref > /dev/null
data_pages=$(( ($(stat -c %s ref/data/tensors.bin) + 4095) / 4096 ))
fallocate -l $(( (2048 - data_pages) * 4096 )) disk/filler
[ "$(free_pages)" = "$data_pages" ] || fail "filler: $(free_pages) pages free, want $data_pages"
expect_enospc "import, manifest too big" "disk/ck/manifest.json" \
  "$XLAYOUT" import small.safetensors --host -o disk/ck
only_on_disk filler
[ "$(free_pages)" = "$data_pages" ] || fail "import left space in use: $(free_pages) pages free"
[ "$(sha small.safetensors)" = "$small_sha" ] || fail "import changed its source"
rm disk/filler

# 3. An existing checkpoint under the target's name stays as it was.
cp -r ref disk/ck
old_manifest=$(sha disk/ck/manifest.json)
expect_enospc "import over a checkpoint" "disk/ck" \
  "$XLAYOUT" import big.safetensors --host -o disk/ck
only_on_disk ck
[ "$(sha disk/ck/manifest.json)" = "$old_manifest" ] || fail "the existing manifest changed"
"$XLAYOUT" inspect disk/ck --verify > /dev/null 2> err.txt \
  || fail "the existing checkpoint no longer verifies: $(cat err.txt)"
cmp disk/ck/data/tensors.bin ref/data/tensors.bin || fail "the existing data changed"
rm -rf disk/ck

# --- relayout --checkpoint ---------------------------------------------------
# A source checkpoint of 2.6 MiB whose `act` takes 8 MiB in program B's
# layout (dim 2, 40, minor-most and padded to 128).
cat > A.hlo << 'EOF'
HloModule jit_step, entry_computation_layout={(bf16[64,512,40]{1,2,0:T(8,128)(2,1)}, f32[512,512]{1,0:T(8,128)}, f32[512]{0:T(256)})->f32[]{:T(128)}}

ENTRY %main.1 (act: bf16[64,512,40], w: f32[512,512], ln: f32[512]) -> f32[] {
  %act = bf16[64,512,40]{1,2,0:T(8,128)(2,1)} parameter(0)
  %w = f32[512,512]{1,0:T(8,128)} parameter(1)
  %ln = f32[512]{0:T(256)} parameter(2)
  ROOT %c = f32[]{:T(128)} constant(0)
}
EOF
sed -e 's/bf16\[64,512,40\]{1,2,0:/bf16[64,512,40]{2,1,0:/g' -e 's/f32\[512,512\]{1,0:/f32[512,512]{0,1:/g' A.hlo > B.hlo
grep -q '{2,1,0:T(8,128)(2,1)}' B.hlo && grep -q '{0,1:T(8,128)}' B.hlo || fail "B.hlo"
"$XLAYOUT" import act.safetensors --program A.hlo -o src > /dev/null
"$XLAYOUT" inspect src --verify > /dev/null
src_manifest=$(sha src/manifest.json) src_data=$(sha src/data/tensors.bin)
src_intact() {
  "$XLAYOUT" inspect "$1" --verify > /dev/null 2> err2.txt \
    || fail "$2: the source no longer verifies: $(cat err2.txt)"
  [ "$(sha "$1/manifest.json")" = "$src_manifest" ] \
    && [ "$(sha "$1/data/tensors.bin")" = "$src_data" ] || fail "$2: the source changed"
}

# 4. The output does not fit the tmpfs.
expect_enospc "relayout, output too big" "disk/out" \
  "$XLAYOUT" relayout --program B.hlo --checkpoint src -o disk/out --no-progress
only_on_disk
src_intact src "relayout, output too big"
[ "$(free_pages)" = 2048 ] || fail "relayout left space in use: $(free_pages) pages free"

# 5. The source checkpoint lives on the full disk itself.
cp -r src disk/src
expect_enospc "relayout on the source's disk" "disk/out" \
  "$XLAYOUT" relayout --program B.hlo --checkpoint disk/src -o disk/out --no-progress
only_on_disk src
src_intact disk/src "relayout on the source's disk"

# 6. An existing checkpoint under OUT's name stays as it was.
cp -r src disk/out
expect_enospc "relayout over a checkpoint" "disk/out" \
  "$XLAYOUT" relayout --program B.hlo --checkpoint disk/src -o disk/out --no-progress
only_on_disk src out
src_intact disk/src "relayout over a checkpoint (source)"
src_intact disk/out "relayout over a checkpoint (the existing OUT)"
rm -rf disk/src disk/out

# 7. With room, the same commands succeed (the failures above were the disk).
"$XLAYOUT" relayout --program B.hlo --checkpoint src -o out --no-progress > /dev/null 2> err.txt \
  || fail "relayout with room: $(cat err.txt)"
"$XLAYOUT" inspect out --verify > /dev/null || fail "relayout with room: output does not verify"
[ "$(stat -c %s out/data/tensors.bin)" -gt $((8 << 20)) ] || fail "the output would have fit the tmpfs"
"$XLAYOUT" import small.safetensors --host -o disk/ck > /dev/null || fail "import with room"
"$XLAYOUT" inspect disk/ck --verify > /dev/null || fail "import with room: does not verify"

echo "PASS: full disk: import (data, manifest, existing checkpoint) and relayout (output, source on the same disk, existing checkpoint) fail with ENOSPC and leave nothing behind"
