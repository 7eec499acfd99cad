#!/usr/bin/env bash
# End-to-end tests of `xlayout import` and `export`: round trips for every
# dtype and a spread of device layouts (tiled, transposed, packed E(4)),
# from files written by numpy and by an independent safetensors writer
# (testdata/checkpoint/make_roundtrip.py), back to the same format
# bit-identically; --program binding and its errors; refused sources.
set -euo pipefail

: "${TESTDATA:?set TESTDATA to the testdata directory}"
: "${EXAMPLES:?set EXAMPLES to the examples directory}"
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

$PY "$TESTDATA/checkpoint/make_roundtrip.py" src

# --- safetensors, every dtype, each in another device layout ---------------
layouts=(
  t_bool='{0,1:T(32,128)(4,1)}'
  t_u8='{1,0:T(32,128)(4,1)}'
  t_i8='{0,1}'
  t_f8_e5m2='{1,0:T(32,128)(4,1)}'
  t_f8_e4m3='{0,1:T(8,128)(4,1)}'
  t_f8_e8m0='{1,0:T(8,128)}'
  t_f8_e4m3fnuz='{1,0}'
  t_f8_e5m2fnuz='{0,1:T(32,128)(4,1)}'
  t_i16='{1,0:T(8,128)(2,1)}'
  t_u16='{0,1:T(8,128)(2,1)}'
  t_f16='{1,0:T(16,128)(2,1)}'
  t_bf16='{0,1:T(8,128)(2,1)}'
  t_i32='{1,0:T(8,128)}'
  t_u32='{0,1:T(8,128)}'
  t_f32='{0,1:T(8,128)}'
  t_c64='{0,1}'
  t_f64='{0,1:T(4,128)}'
  t_i64='{0,1}'
  t_u64='{1,0:T(2,64)}'
  t_f4='{1,0:T(8,128)(2,1)E(4)}'
)
args=()
for l in "${layouts[@]}"; do args+=(--layout "$l"); done
"$XLAYOUT" import src/every.safetensors "${args[@]}" -o ck1 > out.txt 2> err.txt \
  || fail "import every dtype: $(cat err.txt)"
grep -q 'imported 20 tensors' out.txt || fail "import summary: $(cat out.txt)"
[ -f ck1/manifest.json ] && [ -f ck1/data/tensors.bin ] || fail "checkpoint files"
"$XLAYOUT" inspect ck1 --verify > out.txt || fail "inspect --verify after import"
grep -q 'bf16\[20,136\]{0,1:T(8,128)(2,1)}' out.txt || fail "inspect shows device shapes"
# Every offset is 4 KiB-aligned and the device bytes differ from the source.
$PY - <<'PY' || fail "manifest offsets / lengths"
import json
m = json.load(open("ck1/manifest.json"))
assert m["format"] == "xlayout.checkpoint.v1"
assert len(m["tensors"]) == 20
for t in m["tensors"]:
    assert t["offset"] % 4096 == 0, t
bf16 = [t for t in m["tensors"] if t["name"] == "t_bf16"][0]
assert bf16["length"] == 136 * 128 * 2, bf16   # {0,1}: 20 minor, padded to 128
assert len(m["provenance"]["conversions"]) == 19, m["provenance"]  # all but the {1,0} one
assert m["environment"]["xlayout_version"]
PY
"$XLAYOUT" export --checkpoint ck1 -o back.safetensors > out.txt 2> err.txt \
  || fail "export: $(cat err.txt)"
cmp src/every.safetensors back.safetensors || fail "safetensors round trip not bit-identical"

# Row-major (--host) and a second pass through other layouts give the same bytes.
"$XLAYOUT" import src/every.safetensors --host -o ck_host > /dev/null
"$XLAYOUT" export --checkpoint ck_host -o back_host.safetensors > /dev/null
cmp src/every.safetensors back_host.safetensors || fail "--host round trip"
# The logical checksums do not depend on the layout.
$PY - <<'PY' || fail "logical checksums differ between layouts"
import json
a = {t["name"]: t["xxh3_logical"] for t in json.load(open("ck1/manifest.json"))["tensors"]}
b = {t["name"]: t["xxh3_logical"] for t in json.load(open("ck_host/manifest.json"))["tensors"]}
assert a == b
PY

# --threads gives the same checkpoint bytes.
"$XLAYOUT" import src/every.safetensors "${args[@]}" --threads 2 -o ck1t > /dev/null
cmp ck1/data/tensors.bin ck1t/data/tensors.bin || fail "--threads 2 changed the data"

# --- .npy: every numeric dtype, ml_dtypes' bf16 as |V2 --------------------
npys=(src/npy/*.npy)
nargs=()
for f in "${npys[@]}"; do
  n=$(basename "$f" .npy)
  case $n in
    a_b1|a_i1|a_u1) nargs+=(--layout "$n={0,1:T(32,128)(4,1)}") ;;
    a_i2|a_u2|a_f2|a_bf16) nargs+=(--layout "$n={1,0:T(8,128)(2,1)}") ;;
    a_i4|a_u4|a_f4) nargs+=(--layout "$n={0,1:T(8,128)}") ;;
    *) nargs+=(--layout "$n={0,1}") ;;
  esac
done
expect_fail 2 'a_bf16' "$XLAYOUT" import "${npys[@]}" "${nargs[@]}" -o ck2
[ ! -e ck2 ] || fail "a refused import left a checkpoint"
"$XLAYOUT" import "${npys[@]}" "${nargs[@]}" --dtype a_bf16=bf16 -o ck2 > /dev/null 2> err.txt \
  || fail "npy import: $(cat err.txt)"
"$XLAYOUT" inspect ck2 --verify > /dev/null || fail "inspect npy checkpoint"
"$XLAYOUT" export --checkpoint ck2 -o npy_back/ > /dev/null 2> err.txt || fail "npy export: $(cat err.txt)"
for f in "${npys[@]}"; do
  cmp "$f" "npy_back/$(basename "$f")" || fail "npy round trip: $f"
done

# --- .npz: stored and deflated ---------------------------------------------
for z in stored deflated; do
  "$XLAYOUT" import "src/$z.npz" "${nargs[@]}" --dtype a_bf16=bf16 -o "ck_$z" > /dev/null 2> err.txt \
    || fail "npz import ($z): $(cat err.txt)"
  "$XLAYOUT" export --checkpoint "ck_$z" -o "back_$z.npz" > /dev/null 2> err.txt \
    || fail "npz export ($z): $(cat err.txt)"
  $PY - "src/$z.npz" "back_$z.npz" <<'PY' || fail "npz round trip ($z)"
import sys, zipfile
a, b = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
assert a.namelist() == b.namelist(), (a.namelist(), b.namelist())
for name in a.namelist():
    assert a.read(name) == b.read(name), name       # each .npy bit-identical
    assert b.getinfo(name).compress_type == zipfile.ZIP_STORED
PY
done
# numpy itself reads the exported archive.
$PY -c '
import numpy as np
z = np.load("back_stored.npz")
a = np.load("src/npy/a_f4.npy")
assert (z["a_f4"].view("u4") == a.view("u4")).all()
' || fail "numpy reads the exported npz"

# --- --program: binding by order and by --map; fit errors -------------------
cat > sig.json <<'J'
{"format": "xlayout.signature.v1", "name": "jit_step",
 "parameters": [
  {"index": 0, "shape": "f32[20,136]{0,1:T(8,128)}"},
  {"index": 1, "shape": "bf16[20,136]{1,0:T(8,128)(2,1)}"},
  {"index": 2, "shape": "s32[4]{0:T(256)}"}]}
J
"$XLAYOUT" signature sig.json > /dev/null 2> err.txt || fail "signature json: $(cat err.txt)"
"$XLAYOUT" import src/npy/a_f4.npy src/npy/a_bf16.npy --dtype a_bf16=bf16 \
  --program sig.json -o ck3 > out.txt 2> err.txt || fail "import --program: $(cat err.txt)"
grep -q 'no tensor for parameter 2' err.txt || fail "unbound parameter warning: $(cat err.txt)"
# With --json too: warnings always go to stderr (docs/json.md).
rm -rf ck3j
"$XLAYOUT" import src/npy/a_f4.npy src/npy/a_bf16.npy --dtype a_bf16=bf16 \
  --program sig.json -o ck3j --json > out.txt 2> err.txt || fail "import --json: $(cat err.txt)"
grep -q 'no tensor for parameter 2' err.txt || fail "--json: no unbound parameter warning: $(cat err.txt)"
# A JSON error about a named file gives that file as its input.
expect_fail 2 "is given twice" "$XLAYOUT" import --json src/npy/a_f4.npy src/npy/a_f4.npy --host -o ck3k
$PY - <<'PY' || fail "import --json error input: $(cat out.txt)"
import json
e = json.load(open("out.txt"))["errors"][0]
assert e["input"] == {"file": "src/npy/a_f4.npy"}, e
PY
expect_fail 2 "cannot open 'nope.npy'" "$XLAYOUT" import --json nope.npy --host -o ck3k
grep -q '"file": "nope.npy"' out.txt || fail "import --json missing source: $(cat out.txt)"
expect_fail 2 "cannot open 'nope.hlo'" "$XLAYOUT" import --json src/npy/a_f4.npy \
  --program nope.hlo -o ck3k
grep -q '"file": "nope.hlo"' out.txt || fail "import --json missing program: $(cat out.txt)"
$PY - <<'PY' || fail "--program bindings"
import json
m = json.load(open("ck3/manifest.json"))
t = {t["name"]: t for t in m["tensors"]}
assert t["a_f4"]["binding"] == {"parameter": 0}, t["a_f4"]
assert t["a_f4"]["device_shape"] == "f32[20,136]{0,1:T(8,128)}"
assert t["a_bf16"]["binding"] == {"parameter": 1}
PY
expect_fail 2 'tensor "a_f4" (f32\[20,136\]) does not fit parameter 1 (.*element type f32, the parameter.s is bf16' \
  "$XLAYOUT" import src/npy/a_f4.npy --program sig.json --map a_f4=1 -o ck4
$PY -c '
import numpy as np
np.save("v.npy", np.arange(5, dtype="<i4"))'
expect_fail 2 'tensor "v" (s32\[5\]) does not fit parameter 2 (s32\[4\]{0:T(256)}): dim 0 is 5, the parameter.s is 4' \
  "$XLAYOUT" import v.npy --program sig.json --map v=2 -o ck4
expect_fail 2 'rank 2, the parameter.s is 1' \
  "$XLAYOUT" import src/npy/a_i4.npy --program sig.json --map a_i4=2 -o ck4
expect_fail 2 "has no parameter 7: it has parameters 0 to 2" \
  "$XLAYOUT" import src/npy/a_f4.npy --program sig.json --map a_f4=7 -o ck4
# --map takes NAME=N (or N{i}) as check and relayout do: split at the last '='
# (names may contain '='), N plain digits.
expect_fail 2 "--map 'a_f4=+1': expected NAME=N (XLA's parameter N) or NAME=N{i}" \
  "$XLAYOUT" import src/npy/a_f4.npy --program sig.json --map a_f4=+1 -o ck4
expect_fail 2 '--map a_f4=v=1: no source holds a tensor "a_f4=v"' \
  "$XLAYOUT" import src/npy/a_f4.npy --program sig.json --map a_f4=v=1 -o ck4
[ ! -e ck4 ] || fail "failed import left a checkpoint"
# The HLO dump of the examples binds too (its parameter 3 is f32[40,40]).
$PY -c '
import numpy as np
np.save("w.npy", np.arange(1600, dtype="<f4").reshape(40, 40))' 
"$XLAYOUT" import w.npy --program "$EXAMPLES/embedding_pipeline.hlo" --map w=3 -o ck5 > /dev/null \
  || fail "import --program HLO dump"
grep -q '"device_shape": "f32\[40,40\]{1,0:T(8,128)}"' ck5/manifest.json || fail "HLO layout"
# Regression: a dump taken after SPMD partitioning states one device's
# shape (Arg_1.2 is bf16[32000,40] of a [2,1] sharding); a checkpoint holds
# global arrays, so import takes the global bf16[64000,40] (as check does,
# which then finds it ok) and refuses one device's piece.
$PY -c 'import numpy as np; np.save("bg.npy", np.zeros((64000, 40), np.uint16).view("V2")); np.save("b.npy", np.zeros((32000, 40), np.uint16).view("V2"))'
"$XLAYOUT" import bg.npy --dtype bg=bf16 --program "$EXAMPLES/embedding_pipeline.hlo" --map bg=1 \
  -o ckg > /dev/null 2> err.txt || fail "import global: $(cat err.txt)"
grep -q '"device_shape": "bf16\[64000,40\]{1,0:T(8,128)(2,1)}"' ckg/manifest.json || fail "global shape"
"$XLAYOUT" check --program "$EXAMPLES/embedding_pipeline.hlo" --checkpoint ckg --json > jg.json || true
$PY -c 'import json; r = json.load(open("jg.json"))["parameters"][1]; assert r["verdict"] == "ok", r'
expect_fail 2 'does not fit parameter 1 (Arg_1.2: bf16\[32000,40\]{1,0:T(8,128)(2,1)} per device; global bf16\[64000,40\]{1,0:T(8,128)(2,1)} under sharding {devices=\[2,1\]<=\[2\]}): dim 0 is 32000, the parameter.s is 64000' \
  "$XLAYOUT" import b.npy --dtype b=bf16 --program "$EXAMPLES/embedding_pipeline.hlo" --map b=1 -o ckp

# Regression: --layout splits NAME=LAYOUT like --map: NAME may hold '=', so
# the split is at the first '=' followed by a well-formed layout (a JAX
# repr's own '=' stays in the value).
$PY -c 'import numpy as np; np.save("a=b.npy", np.arange(6, dtype="<f4").reshape(2, 3))'
"$XLAYOUT" import 'a=b.npy' --layout 'a=b={0,1}' -o ck_eq > /dev/null 2> err.txt \
  || fail "--layout with '=' in the name: $(cat err.txt)"
grep -q '"device_shape": "f32\[2,3\]{0,1}"' ck_eq/manifest.json || fail "a=b layout"
"$XLAYOUT" import 'a=b.npy' --layout 'a=b=Layout(major_to_minor=(1, 0), tiling=((8, 128),))' \
  -o ck_eq2 > /dev/null 2> err.txt || fail "--layout JAX repr: $(cat err.txt)"
grep -q '"device_shape": "f32\[2,3\]{0,1:T(8,128)}"' ck_eq2/manifest.json || fail "a=b JAX layout"
"$XLAYOUT" import 'a=b.npy' --program "$EXAMPLES/embedding_pipeline.hlo" --map 'a=b=4' -o ck_eq3 \
  > /dev/null 2> err.txt && fail "a=b (f32[2,3]) fits f32[40]?"
grep -q 'tensor "a=b" (f32\[2,3\]) does not fit parameter 4' err.txt || fail "--map a=b=4: $(cat err.txt)"

# One value per --layout/--map/--dtype: a source after them stays a source.
"$XLAYOUT" import --layout 'w={0,1}' w.npy -o ck_order > /dev/null 2> err.txt \
  || fail "SRC after --layout: $(cat err.txt)"

# --env: the fingerprint is recorded; a malformed file names the field.
"$XLAYOUT" import w.npy --host --env "$TESTDATA/checkpoint/env/env_v4.json" -o ck6 > /dev/null
"$XLAYOUT" inspect ck6 --json > ins.json
$PY -c '
import json
j = json.load(open("ins.json"))
assert j["environment"]["device_kind"] == "TPU v4", j["environment"]
assert j["tensors"][0]["padding_bytes"] == 0
' || fail "env recorded"
echo '{"format": "xlayout.environment.v1", "device_count": "x"}' > bad_env.json
expect_fail 2 "field 'device_count'" "$XLAYOUT" import w.npy --host --env bad_env.json -o ck7

# --- refused sources: exit 2, the file named, no checkpoint -----------------
st="$TESTDATA/checkpoint/safetensors"
expect_fail 2 'bad_header_too_large.safetensors' "$XLAYOUT" import "$st/bad_header_too_large.safetensors" --host -o ck8
expect_fail 2 '100000000' "$XLAYOUT" import "$st/bad_header_too_large.safetensors" --host -o ck8
expect_fail 2 'bad_gap.safetensors' "$XLAYOUT" import "$st/bad_gap.safetensors" --host -o ck8
expect_fail 2 'bad_overlap' "$XLAYOUT" import "$st/bad_overlap.safetensors" --host -o ck8
expect_fail 2 'bad_not_from_zero' "$XLAYOUT" import "$st/bad_not_from_zero.safetensors" --host -o ck8
expect_fail 2 'bad_length_mismatch' "$XLAYOUT" import "$st/bad_length_mismatch.safetensors" --host -o ck8
expect_fail 2 'bad_truncated' "$XLAYOUT" import "$st/bad_truncated.safetensors" --host -o ck8
expect_fail 2 'bad_trailing_bytes' "$XLAYOUT" import "$st/bad_trailing_bytes.safetensors" --host -o ck8
expect_fail 2 'duplicate' "$XLAYOUT" import "$st/bad_duplicate_name.safetensors" --host -o ck8
expect_fail 2 'bad_overflow' "$XLAYOUT" import "$st/bad_overflow.safetensors" --host -o ck8
expect_fail 2 'bad_utf8' "$XLAYOUT" import "$st/bad_utf8.safetensors" --host -o ck8
expect_fail 2 'object.npy' "$XLAYOUT" import "$TESTDATA/checkpoint/npy/object.npy" --host -o ck8
expect_fail 2 'pickle' "$XLAYOUT" import "$TESTDATA/checkpoint/npy/object.npy" --host -o ck8
expect_fail 2 'bzip2.npz' "$XLAYOUT" import "$TESTDATA/checkpoint/npy/bzip2.npz" --host -o ck8
expect_fail 2 "source 'w.npy' is given twice" "$XLAYOUT" import w.npy w.npy --host -o ck8
ln -f w.npy w_link.npy
expect_fail 2 "sources 'w.npy' and './w_link.npy' are the same file" \
  "$XLAYOUT" import w.npy ./w_link.npy --host -o ck8
mkdir -p other && cp w.npy other/w.npy
# Not next to each other, with another file between.
expect_fail 2 "sources 'w.npy' and './w_link.npy' are the same file" \
  "$XLAYOUT" import w.npy other/w.npy ./w_link.npy --host -o ck8
expect_fail 2 "tensor \"w\" is in both 'w.npy' and 'other/w.npy'" \
  "$XLAYOUT" import w.npy other/w.npy --host -o ck8
expect_fail 2 'no --layout for tensor "w"' "$XLAYOUT" import w.npy src/npy/a_f4.npy --layout 'a_f4={0,1}' -o ck8
expect_fail 2 'exactly one of' "$XLAYOUT" import w.npy -o ck8
expect_fail 2 'unknown kind of file' "$XLAYOUT" import sig.json --host -o ck8
# numpy's header limit (10,000 characters), in a version 2.0 header.
$PY -c '
import struct
d = "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (2,), }"
d = d.ljust(20031) + "\n"
open("long_header.npy", "wb").write(b"\x93NUMPY\x02\x00" + struct.pack("<I", len(d)) + d.encode() + bytes(8))'
expect_fail 2 "long_header.npy.*over numpy's limit of 10000" "$XLAYOUT" import long_header.npy --host -o ck8
[ ! -e ck8 ] || fail "refused import left a checkpoint"
ls -A | grep -q xlayout-tmp && fail "temporary files left behind"
# Version 2.0 and 3.0 headers are read.
"$XLAYOUT" import "$TESTDATA/checkpoint/npy/v2_f4_2x3.npy" "$TESTDATA/checkpoint/npy/v3_f4_2x3.npy" \
  --host -o ck_v23 > /dev/null || fail "npy 2.0 / 3.0 headers"
# Big-endian and Fortran-order arrays import as what they are.
"$XLAYOUT" import "$TESTDATA/checkpoint/npy/be_f4_2x3.npy" "$TESTDATA/checkpoint/npy/fortran_f4_3x4.npy" \
  --host -o ck9 > /dev/null
"$XLAYOUT" export --checkpoint ck9 -o ck9_out/ > /dev/null
$PY -c '
import numpy as np
t = "'"$TESTDATA"'/checkpoint/npy/"
for a, b in [("be_f4_2x3", "be_f4_2x3"), ("fortran_f4_3x4", "fortran_f4_3x4")]:
    x, y = np.load(t + a + ".npy"), np.load("ck9_out/" + b + ".npy")
    assert (x == y).all() and x.shape == y.shape, a
    assert y.dtype.str == "<f4" and y.flags.c_contiguous
' || fail "big-endian / Fortran arrays"

# --- npz member names as numpy reads them ------------------------------------
# Written by Python's zipfile (not our exporter): an ASCII name with control
# bytes (no UTF-8 flag: libzip's guess would read ESC as CP437's U+2190), a
# non-ASCII name (UTF-8 flag set), and a name stored as CP437 bytes without
# the flag (0x82 is 'é' in code page 437).
$PY - <<'PY'
import io, zipfile, numpy as np
def npy(v):
    b = io.BytesIO()
    np.save(b, np.array([v], "<f4"))
    return b.getvalue()
with zipfile.ZipFile("names.npz", "w") as z:
    z.writestr("a\x1b[2J.npy", npy(1))
    z.writestr("\u00e9t\u00e9 \u2192.npy", npy(2))
    z.writestr("Qx.npy", npy(3))
data = open("names.npz", "rb").read()
assert data.count(b"Qx.npy") == 2
open("names.npz", "wb").write(data.replace(b"Qx.npy", b"\x82x.npy"))
with zipfile.ZipFile("dup.npz", "w") as z:
    import warnings
    warnings.simplefilter("ignore")
    z.writestr("w.npy", npy(1))
    z.writestr("w.npy", npy(2))
PY
"$XLAYOUT" import names.npz --host -o ck_names > /dev/null 2> err.txt || fail "names.npz: $(cat err.txt)"
"$XLAYOUT" inspect ck_names --json > names.json
$PY - <<'PY' || fail "npz member names differ from numpy's keys"
import json, numpy as np
want = sorted(np.load("names.npz").files)
got = sorted(t["name"] for t in json.load(open("names.json"))["tensors"])
assert want == ["a\x1b[2J", "\u00e9t\u00e9 \u2192", "\u00e9x"], want
assert got == want, (got, want)
PY
expect_fail 2 "dup.npz: the archive has two members named \"w.npy\"" \
  "$XLAYOUT" import dup.npz --host -o ck_dup
# A safetensors name with an escaped NUL: refused while the source is named.
$PY - <<'PY'
import json, struct
h = json.dumps({"a\u0000b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}).encode()
open("nul.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(4))
PY
expect_fail 2 "^error: import: source 'nul.safetensors': safetensors: tensor \"a\\\\u0000b\": the name contains a NUL character" \
  "$XLAYOUT" import nul.safetensors --host -o ck_nul
lacks manifest err.txt
# --dtype on a safetensors tensor: said to apply to .npy/.npz arrays only,
# not "no array is named".
$PY - <<'PY'
import json, struct
h = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
open("w1.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(8))
PY
expect_fail 2 "^error: import: --dtype w=f32: tensor \"w\" comes from the safetensors file 'w1.safetensors', whose header gives its dtype; --dtype applies only to .npy and .npz arrays" \
  "$XLAYOUT" import w1.safetensors --host --dtype w=f32 -o ck_dt
# An .npz member whose .npy header is damaged is reported as corrupt (the
# CRC-32 checked at the member's end), not as a bad header; a member
# written with a bad header (intact CRC) is still refused for its header.
$PY - <<'PY'
import io, zipfile
import numpy as np
np.savez("hdr.npz", a=np.arange(6, dtype="<f4"))
b = bytearray(open("hdr.npz", "rb").read())
i = b.index(b"'descr': '<f4'") + len("'descr': '<f4'") - 1
b[i] = ord("x")
open("hdr_crc.npz", "wb").write(bytes(b))
with zipfile.ZipFile("hdr_bad.npz", "w") as z:
    z.writestr("a.npy", b"not numpy at all")
PY
expect_fail 2 "^error: import: npz: hdr_crc.npz: member \"a.npy\": CRC error: the member is corrupt (its .npy header did not parse: npy: " \
  "$XLAYOUT" import hdr_crc.npz --host -o ck_hdr
[ ! -e ck_hdr ] || fail "corrupt npz member wrote ck_hdr"
expect_fail 2 "^error: import: npz: hdr_bad.npz: member \"a.npy\": npy: not an .npy file" \
  "$XLAYOUT" import hdr_bad.npz --host -o ck_hdr
# An .npz source that is a directory: named as such, as for .npy (libzip
# said "not a valid zip archive: Operation not supported").
mkdir dir.npz
expect_fail 2 "^error: import: npz: dir.npz: it is a directory, not a regular file$" \
  "$XLAYOUT" import dir.npz --host -o ck_dir
# --dtype given twice for one array: refused like a second --layout (the
# first used to win silently over a conflicting second).
expect_fail 2 "^error: import: --dtype a_bf16 is given twice (bf16 and f16)$" \
  "$XLAYOUT" import src/npy/a_bf16.npy --host --dtype a_bf16=bf16 --dtype a_bf16=f16 -o ck_dt2
[ ! -e ck_dt2 ] || fail "--dtype twice wrote ck_dt2"
echo PASS
