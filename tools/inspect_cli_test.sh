#!/usr/bin/env bash
# End-to-end tests of `xlayout inspect` and of the reader's safety rules:
# every refused case of a corrupt or hostile checkpoint (missing, truncated
# or symlinked data file, '..' and absolute names, overlapping, negative,
# unaligned or out-of-file ranges, absurd dims, bad checksums) gets a clear
# error naming the tensor and the file: exit 2, or 1 for a checksum mismatch
# found by --verify; export refuses the same checkpoints with exit 2.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

$PY -c '
import numpy as np
np.save("emb.npy", (np.arange(16 * 40) % 251).astype("<f4").reshape(16, 40))
np.save("w.npy", np.arange(8 * 8, dtype="<i4").reshape(8, 8))'
"$XLAYOUT" import emb.npy w.npy --layout 'emb={1,0:T(8,128)}' --layout 'w={0,1}' -o good > /dev/null

# --- inspect: fingerprint, per-tensor sizes and padding, totals -------------
"$XLAYOUT" inspect good > out.txt
grep -q 'f32\[16,40\]{1,0:T(8,128)}' out.txt || fail "device shape"
# emb: 16x40 f32 = 2,560 logical bytes; 16 x 128 x 4 = 8,192 device bytes.
grep -E 'emb +- +f32\[16,40\]\{1,0:T\(8,128\)\} +device +8,192 +2,560 +5,632' out.txt > /dev/null \
  || fail "emb row: $(cat out.txt)"
grep -q 'Total: 2 tensors, 8,448 device bytes' out.txt || fail "totals: $(cat out.txt)"
grep -q '5,632 bytes of padding' out.txt || fail "padding total"
grep -q 'xlayout' out.txt || fail "fingerprint"
"$XLAYOUT" inspect good --verify > out.txt || fail "verify a good checkpoint"
grep -q 'every checksum verified' out.txt || fail "verify summary"
"$XLAYOUT" inspect good --json --verify > j.json
$PY -c '
import json
j = json.load(open("j.json"))
assert j["schema"] == "xlayout.v1" and j["command"] == "inspect", j
t = j["tensors"][0]
assert (t["name"], t["exact_bytes"], t["logical_bytes"], t["padding_bytes"]) == ("emb", 8192, 2560, 5632), t
assert t["verified"] is True and j["verified"] is True
assert j["totals"] == {"tensors": 2, "exact_bytes": 8448, "logical_bytes": 2816, "padding_bytes": 5632}, j["totals"]
assert j["errors"] == []
' || fail "inspect --json"

# fresh NAME: a copy of the good checkpoint to break.
fresh() { rm -rf "$1"; cp -r good "$1"; }
# edit NAME PYTHON: apply a Python statement to the manifest dict `m`.
edit() {
  $PY - "$1/manifest.json" "$2" <<'PY'
import json, sys
path, stmt = sys.argv[1], sys.argv[2]
m = json.load(open(path))
exec(stmt)
json.dump(m, open(path, "w"), indent=2)
PY
}
refused() {  # refused DIR PATTERN: inspect and export both exit 2 with PATTERN
  expect_fail 2 "$2" "$XLAYOUT" inspect "$1"
  grep -q "$1" err.txt || fail "error does not name the checkpoint: $(cat err.txt)"
  expect_fail 2 "$2" "$XLAYOUT" export --checkpoint "$1" -o "$1.safetensors"
  [ ! -e "$1.safetensors" ] || fail "export of $1 left an output"
}

# Missing data file.
fresh c_missing; rm c_missing/data/tensors.bin
refused c_missing 'tensor "emb".*data/tensors.bin'
# Truncated data file.
fresh c_trunc; truncate -s 8300 c_trunc/data/tensors.bin
refused c_trunc 'tensor "w".*data/tensors.bin'
# '..' and absolute file names.
fresh c_dotdot; edit c_dotdot 'm["tensors"][0]["file"] = "../outside.bin"'
refused c_dotdot "tensor \"emb\".*'\.\.'"
fresh c_abs; edit c_abs 'm["tensors"][0]["file"] = "/etc/passwd"'
refused c_abs 'tensor "emb".*/etc/passwd'
# A symlink out of the directory: the data file, or a directory on its path.
fresh c_link; cp c_link/data/tensors.bin outside.bin
rm c_link/data/tensors.bin; ln -s ../../outside.bin c_link/data/tensors.bin
refused c_link 'tensor "emb" (file "data/tensors.bin").*symbolic link'
fresh c_dirlink; mkdir -p elsewhere; mv c_dirlink/data/tensors.bin elsewhere/
rm -r c_dirlink/data; ln -s ../elsewhere c_dirlink/data
refused c_dirlink 'symbolic link'
fresh c_mlink; mv c_mlink/manifest.json m.json; ln -s ../m.json c_mlink/manifest.json
refused c_mlink 'manifest.json.*symbolic link'
# Overlapping, negative, unaligned and out-of-file ranges.
fresh c_overlap; edit c_overlap 'm["tensors"][1]["offset"] = 0'
refused c_overlap 'tensor "emb": field .offset.: bytes \[0, 8192) of file "data/tensors.bin" overlap tensor "w"'
fresh c_neg; edit c_neg 'm["tensors"][1]["offset"] = -4096'
refused c_neg 'tensor "w".*offset'
fresh c_align; edit c_align 'm["tensors"][1]["offset"] = 8200'
refused c_align 'tensor "w".*multiple of 4096'
fresh c_past; edit c_past 'm["tensors"][1]["offset"] = 1 << 20'
refused c_past 'tensor "w".*data/tensors.bin'
# Absurd dims and a length that does not match the device shape.
fresh c_dims; edit c_dims 'm["tensors"][1]["dims"] = [1 << 62, 1 << 62]; m["tensors"][1]["device_shape"] = "s32[4611686018427387904,4611686018427387904]{0,1}"'
refused c_dims 'tensor "w"'
fresh c_len; edit c_len 'm["tensors"][1]["length"] = 128'
refused c_len "tensor \"w\": field 'length'"
fresh c_dup; edit c_dup 'm["tensors"][1]["name"] = "emb"'
refused c_dup 'duplicate'
fresh c_json; echo '{"format": "xlayout.checkpoint.v1", "tensors": [' > c_json/manifest.json
refused c_json 'manifest'
fresh c_big; truncate -s 300M c_big/manifest.json   # sparse: no disk, no RAM
refused c_big 'at most 268435456'
fresh c_nomanifest; rm c_nomanifest/manifest.json
refused c_nomanifest 'manifest.json'

# --- checksums: --verify exits 1 naming the tensor; export refuses (2) ------
fresh c_bits
$PY -c '
f = open("c_bits/data/tensors.bin", "r+b"); f.seek(8192 + 5); b = f.read(1)
f.seek(8192 + 5); f.write(bytes([b[0] ^ 1]))'
"$XLAYOUT" inspect c_bits > /dev/null || fail "inspect without --verify reads no data"
expect_fail 1 'tensor "w" (file "data/tensors.bin"): physical checksum mismatch' "$XLAYOUT" inspect c_bits --verify
grep -q MISMATCH out.txt || fail "table marks the mismatch"
grep -q 'tensor "emb"' err.txt && fail "a good tensor reported as mismatched"
expect_fail 2 'tensor "w" (file "data/tensors.bin"): physical checksum mismatch' \
  "$XLAYOUT" export --checkpoint c_bits -o bits.safetensors
[ ! -e bits.safetensors ] || fail "export wrote a corrupt tensor"
fresh c_logical; edit c_logical 'm["tensors"][0]["xxh3_logical"] = "0123456789abcdef"'
expect_fail 1 'tensor "emb" (file "data/tensors.bin"): logical checksum mismatch' "$XLAYOUT" inspect c_logical --verify
expect_fail 2 'tensor "emb".*logical checksum mismatch' "$XLAYOUT" export --checkpoint c_logical -o out_dir/
[ ! -e out_dir ] || fail "export left a directory"
"$XLAYOUT" inspect c_logical --verify --json > j.json || true
$PY -c '
import json
j = json.load(open("j.json"))
assert j["verified"] is False and j["tensors"][0]["verified"] is False and j["tensors"][1]["verified"] is True
assert len(j["mismatches"]) == 1 and "emb" in j["mismatches"][0]
' || fail "--json --verify mismatch"

# Provenance of a relayout: the source checkpoint, what changed from its
# environment, and what was converted from which layout (text and JSON).
S="$EXAMPLES/story"
"$XLAYOUT" import "$S/model.safetensors" --program "$S/program_a.hlo" \
  --env "$S/env_a.json" -o prov_a > /dev/null
"$XLAYOUT" relayout --program "$S/program_b.hlo" --checkpoint prov_a \
  --env "$S/env_b.json" -o prov_b > /dev/null
run 0 "$XLAYOUT" inspect prov_b
grep -q '^  relayout of          prov_a$' out.txt || fail "relayout of: $(cat out.txt)"
grep -q '^  environment changes  .*device kind: TPU v4 → TPU v5 lite; topology: 4x4x4 → 4x8' out.txt \
  || fail "environment changes: $(cat out.txt)"
grep -q '^  converted            3: embeddings (from bf16\[16,128,40\]{1,2,0:T(8,128)(2,1)}), ' out.txt \
  || fail "converted: $(cat out.txt)"
run 0 "$XLAYOUT" inspect prov_a
grep -q 'relayout of' out.txt && fail "an import is no relayout"
"$XLAYOUT" inspect prov_b --json > prov.json
$PY -c '
import json
p = json.load(open("prov.json"))["provenance"]
assert p["source_checkpoint"] == "prov_a", p
assert p["source_environment"]["device_kind"] == "TPU v4", p
assert [c["tensor"] for c in p["conversions"]] == ["embeddings", "attn_wq", "mlp_w_out"], p
' || fail "inspect --json provenance"

expect_fail 2 'usage\|required\|DIR' "$XLAYOUT" inspect
expect_fail 2 'nope' "$XLAYOUT" inspect nope
# Regression: XLA_FLAGS values are quoted where needed, so the line can be
# pasted back (it printed --xla_a=x y for --xla_a="x y").
printf '%s' '{"format": "xlayout.environment.v1", "xla_flags": "--xla_a=\"x y\" --xla_b=1"}' > eq.json
$PY -c 'import numpy as np; np.save("q.npy", np.zeros(3, np.float32))'
"$XLAYOUT" import q.npy --host --env eq.json -o ckq > /dev/null 2> err.txt \
  || fail "import --env eq.json: $(cat err.txt)"
"$XLAYOUT" inspect ckq > out.txt 2> err.txt || fail "inspect ckq: $(cat err.txt)"
grep -qF -- 'XLA_FLAGS  --xla_a="x y" --xla_b=1' out.txt || fail "XLA_FLAGS quoting: $(grep XLA_FLAGS out.txt)"
echo PASS
