#!/usr/bin/env bash
# End-to-end tests of `xlayout export`: the three output forms, --json,
# atomic replacement of an existing output, and refusals (unknown format, a
# type the format cannot hold, a checkpoint that is not one). Round trips
# for every dtype are in import_cli_test.sh; corrupt checkpoints in
# inspect_cli_test.sh.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

$PY -c '
import numpy as np
np.save("a.npy", np.arange(24, dtype="<f4").reshape(2, 3, 4))
np.save("b.npy", np.arange(300, dtype="<i2").reshape(10, 30))'
"$XLAYOUT" import a.npy b.npy --layout 'a={0,2,1:T(2,128)}' --layout 'b={0,1:T(8,128)(2,1)}' -o ck > /dev/null

"$XLAYOUT" export --checkpoint ck -o out.safetensors > out.txt
grep -q 'exported 2 tensors (696 logical bytes) to out.safetensors (safetensors), every checksum verified' out.txt \
  || fail "summary: $(cat out.txt)"
"$XLAYOUT" export --checkpoint ck -o out.npz --json > j.json
$PY -c '
import json, numpy as np
j = json.load(open("j.json"))
assert j["command"] == "export" and j["format"] == "npz" and j["tensors"] == 2 and j["verified"] is True, j
z = np.load("out.npz")
assert (z["a"] == np.arange(24, dtype="<f4").reshape(2, 3, 4)).all()
assert (z["b"] == np.arange(300, dtype="<i2").reshape(10, 30)).all()
' || fail "npz export"
"$XLAYOUT" export --checkpoint ck -o dir/ > /dev/null
cmp a.npy dir/a.npy && cmp b.npy dir/b.npy || fail "npy directory"
# An earlier export is replaced as a whole (kept private if it was); a
# directory with a .npy this export does not write is refused, the user's
# file kept (regression, second trial: it was deleted); an existing file is
# replaced atomically and keeps its mode.
chmod 700 dir
"$XLAYOUT" export --checkpoint ck -o dir > /dev/null
[ "$(stat -c %a dir)" = 700 ] || fail "the replaced directory's mode: $(stat -c %a dir)"
echo mine > dir/my_own_weights.npy
expect_fail 2 "holds 'my_own_weights.npy', which this export does not write" "$XLAYOUT" export --checkpoint ck -o dir
[ "$(cat dir/my_own_weights.npy)" = mine ] || fail "the user's .npy was deleted"
rm dir/my_own_weights.npy
"$XLAYOUT" export --checkpoint ck -o p.npz > /dev/null && chmod 600 p.npz
"$XLAYOUT" export --checkpoint ck -o p.npz > /dev/null
[ "$(stat -c %a p.npz)" = 600 ] || fail "the replaced .npz's mode: $(stat -c %a p.npz)"
echo old > out.safetensors
"$XLAYOUT" export --checkpoint ck -o out.safetensors > /dev/null
! cmp -s <(echo old) out.safetensors || fail "file not replaced"

expect_fail 2 'OUT.safetensors, OUT.npz' "$XLAYOUT" export --checkpoint ck -o out.bin
expect_fail 2 "checkpoint 'nope'" "$XLAYOUT" export --checkpoint nope -o x.safetensors
# Packed 4-bit (safetensors F4) has no numpy dtype: refused for .npy/.npz,
# naming the tensor; safetensors takes it back bit-identically.
$PY -c '
import json, struct
h = json.dumps({"f4": {"dtype": "F4", "shape": [4, 8], "data_offsets": [0, 16]}}, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
open("f4.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(range(16)))'
"$XLAYOUT" import f4.safetensors --layout 'f4={0,1:T(8,128)E(4)}' -o ck_f4 > /dev/null
expect_fail 2 'tensor "f4" (f4e2m1fn\[4,8\]) cannot be exported to .npy: numpy has no sub-byte' \
  "$XLAYOUT" export --checkpoint ck_f4 -o f4_dir/
expect_fail 2 'tensor "f4"' "$XLAYOUT" export --checkpoint ck_f4 -o f4.npz
[ ! -e f4_dir ] && [ ! -e f4.npz ] || fail "refused export left output"
"$XLAYOUT" export --checkpoint ck_f4 -o f4_back.safetensors > /dev/null
cmp f4.safetensors f4_back.safetensors || fail "F4 round trip"
expect_fail 2 "in 'missing_dir/sub': No such file or directory" "$XLAYOUT" export --checkpoint ck -o missing_dir/sub/x.safetensors
# .npz (written through libzip) refuses and words the same as .safetensors.
expect_fail 2 "cannot create a temporary file for 'missing_dir/sub/x.npz' in 'missing_dir/sub': No such file or directory" \
  "$XLAYOUT" export --checkpoint ck -o missing_dir/sub/x.npz
mkfifo fifo.npz fifo.safetensors
for f in fifo.npz fifo.safetensors; do
  expect_fail 2 "refusing to replace '$f': it is a FIFO, not a regular file" \
    "$XLAYOUT" export --checkpoint ck -o "$f"
  [ -p "$f" ] || fail "$f was replaced"
done
rm -f fifo.npz fifo.safetensors
# Flax-style names with '/' (np.savez writes them as member paths) go back
# into an .npz; a .npy directory cannot hold them (regression, new-user
# trial).
$PY -c "
import numpy as np
np.savez('flax.npz', **{'params/Dense_0/kernel': np.arange(16, dtype='<f4').reshape(4, 4)})
"
"$XLAYOUT" import flax.npz --host -o ck_flax > /dev/null 2> err.txt || fail "import flax.npz: $(cat err.txt)"
"$XLAYOUT" export --checkpoint ck_flax -o flax_back.npz > /dev/null 2> err.txt || fail "export flax: $(cat err.txt)"
$PY -c "
import numpy as np
a, b = np.load('flax.npz'), np.load('flax_back.npz')
assert a.files == b.files == ['params/Dense_0/kernel'], (a.files, b.files)
assert (a['params/Dense_0/kernel'] == b['params/Dense_0/kernel']).all()
" || fail "flax-style npz round trip"
expect_fail 2 'cannot be exported to a .npy file name' "$XLAYOUT" export --checkpoint ck_flax -o flax_dir/
# A name that cannot be a file or member name: the refusal says which rule
# it breaks (it said only "not a safe name").
$PY - <<'PY'
import json, struct
h = json.dumps({"tab\there": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                "../up": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}).encode()
open("names.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(2))
PY
"$XLAYOUT" import names.safetensors --host -o ck_names > /dev/null
expect_fail 2 '^error: export: tensor "tab\\there" (u8\[1\]) cannot be exported to an .npz member name: the member name "tab\\there.npy" contains a control character (member names follow the rules of file names)$' \
  "$XLAYOUT" export --checkpoint ck_names -o names.npz
expect_fail 2 '^error: export: tensor "tab\\there" (u8\[1\]) cannot be exported to a .npy file name: the name is not a safe file name: "tab\\there.npy" contains a control character$' \
  "$XLAYOUT" export --checkpoint ck_names -o names_dir/
expect_fail 2 "cannot be exported to a .npy file name: the name has a '/' (names with '/' go to .npz only)" \
  "$XLAYOUT" export --checkpoint ck_flax -o flax_dir/
$PY - <<'PY'
import json, struct
h = json.dumps({"../up": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}).encode()
open("up.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(1))
PY
"$XLAYOUT" import up.safetensors --host -o ck_up > /dev/null
expect_fail 2 "the member name \"../up.npy\" has a '..' component" \
  "$XLAYOUT" export --checkpoint ck_up -o up.npz
[ ! -e names.npz ] && [ ! -e names_dir ] && [ ! -e up.npz ] || fail "a refused export wrote its output"
# --json on an error: the envelope names OUT too, and an error's input is
# the checkpoint only when reading it failed (it was the checkpoint for -o
# and write errors as well).
cp -r ck ck_bad
$PY -c '
import json
m = json.load(open("ck_bad/manifest.json"))
t = m["tensors"][0]
with open("ck_bad/data/" + t["file"].split("/")[-1], "r+b") as f:
    f.seek(t["offset"]); b = f.read(1); f.seek(t["offset"]); f.write(bytes([b[0] ^ 1]))'
expect_fail 2 'physical checksum mismatch' "$XLAYOUT" export --checkpoint ck_bad -o bad.npz --json
cp out.txt e_bad.json
expect_fail 2 "checkpoint 'nope'" "$XLAYOUT" export --checkpoint nope -o x.safetensors --json
cp out.txt e_nope.json
expect_fail 2 'OUT.safetensors, OUT.npz' "$XLAYOUT" export --checkpoint ck -o out.bin --json
cp out.txt e_format.json
expect_fail 2 "in 'missing_dir/sub'" "$XLAYOUT" export --checkpoint ck -o missing_dir/sub/x.npz --json
cp out.txt e_write.json
$PY - <<'PY' || fail "export --json error inputs"
import json
def doc(name):
    j = json.load(open(name))
    assert j["command"] == "export" and len(j["errors"]) == 1, j
    return j
j = doc("e_bad.json")
assert j["input"] == {"file": "ck_bad"} and j["output"] == {"file": "bad.npz"}, j
assert j["errors"][0]["input"] == {"file": "ck_bad"} and j["errors"][0]["code"] == "DATA_LOSS", j
j = doc("e_nope.json")
assert j["errors"][0]["input"] == {"file": "nope"}, j
j = doc("e_format.json")
assert j["output"] == {"file": "out.bin"} and j["errors"][0]["input"] is None, j
j = doc("e_write.json")
assert j["errors"][0]["input"] is None, j
PY
[ ! -e bad.npz ] || fail "a corrupt checkpoint was exported"
[ -z "$(ls -A | grep xlayout-tmp || true)" ] || fail "temporary files left"
echo PASS
