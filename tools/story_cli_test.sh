#!/usr/bin/env bash
# The E0102 story of scripts/demo as an integration test, on the bundled data
# in examples/story/: a model exported under environment A (TPU v4, 4x4x4),
# imported with program A's layouts; `check` against program B (TPU v5 lite,
# 4x8) gives XLA's exact E0102 messages, a verdict for every parameter and
# the environment changes; `explain` diagnoses the check's output; the fix
# `check` prints (a checkpoint `relayout`) runs; `check` then passes; and
# `export` gives back model.safetensors byte for byte. Exit codes and key
# lines are exact.
set -euo pipefail

: "${EXAMPLES:?set EXAMPLES to the examples directory}"
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

# line TEXT [FILE]: FILE (out.txt) has a line that is exactly TEXT.
line() { grep -qxF -- "$1" "${2:-out.txt}" || fail "${2:-out.txt} lacks the line '$1': $(cat "${2:-out.txt}")"; }
no_stderr() { [ ! -s err.txt ] || fail "stderr: $(cat err.txt)"; }

# As the demo: the paths print as examples/story/...
ln -s "$EXAMPLES" examples
s=examples/story

# The bundled model is what its independent writer produces.
$PY $s/make_model.py regen.safetensors
cmp regen.safetensors $s/model.safetensors || fail "make_model.py does not give model.safetensors"
[ "$(stat -c %s $s/model.safetensors)" -le $((400 << 10)) ] || fail "the bundled model grew past 400 KiB"

# --- import under A -----------------------------------------------------------
run 0 "$XLAYOUT" import $s/model.safetensors --program $s/program_a.hlo --env $s/env_a.json -o ckpt
no_stderr
line 'imported 8 tensors into ckpt'
line '  embeddings          2  bf16[16,128,40]{1,2,0:T(8,128)(2,1)}       163,840'
line '  attn_wq             3  f32[128,128]{1,0:T(8,128)}                  65,536'
line '  mlp_w_out           4  bf16[40,128]{1,0:T(8,128)(2,1)}             10,240'
grep -q '^  305,828 logical bytes -> 307,712 device bytes, ' out.txt || fail "import totals: $(cat out.txt)"
run 0 "$XLAYOUT" check --program $s/program_a.hlo --checkpoint ckpt --env $s/env_a.json
line 'Summary 8 parameters: 8 ok'
line '  no changes'

# --- check against B: exit 1 ---------------------------------------------------
run 1 "$XLAYOUT" check --program $s/program_b.hlo --checkpoint ckpt --env $s/env_b.json
no_stderr
cp out.txt check.txt
# XLA's E0102 messages, byte for byte: the transposed tile order (embeddings,
# 3.2x the bytes) and the changed tile (mlp_w_out, 40 rows padded to 48).
line '    Executable(jit_embed_step) expected parameter 2 of size 524288 (bf16[16,128,40]{2,1,0:T(8,128)(2,1)}) but got buffer with incompatible size 163840 (bf16[16,128,40]{1,2,0:T(8,128)(2,1)})'
line '    Executable(jit_embed_step) expected parameter 4 of size 12288 (bf16[40,128]{1,0:T(16,128)(2,1)}) but got buffer with incompatible size 10240 (bf16[40,128]{1,0:T(8,128)(2,1)})'
[ "$(grep -c 'Executable(jit_embed_step)' out.txt)" = 2 ] || fail "E0102 messages: $(grep 'Executable' out.txt)"
# Every parameter's verdict.
line '  0  Arg_0.1    tok_emb     ok              bf16[128,128]{1,0:T(8,128)(2,1)}      ='
line '  1  Arg_1.2    pos_emb     ok              f32[64,128]{1,0:T(8,128)}             ='
line '  2  Arg_2.3    embeddings  needs relayout  bf16[16,128,40]{2,1,0:T(8,128)(2,1)}  bf16[16,128,40]{1,2,0:T(8,128)(2,1)}'
line '  3  Arg_3.4    attn_wq     needs relayout  f32[128,128]{0,1:T(8,128)}            f32[128,128]{1,0:T(8,128)}'
line '  4  Arg_4.5    mlp_w_out   needs relayout  bf16[40,128]{1,0:T(16,128)(2,1)}      bf16[40,128]{1,0:T(8,128)(2,1)}'
line '  5  Arg_5.6    ln_scale    ok              f32[128]{0:T(256)}                    ='
line '  6  Arg_6.7    bias        ok              f32[40]{0:T(256)}                     ='
line '  7  Arg_7.8    loss_scale  ok              f32[]{:T(128)}                        ='
# The same-size transpose: XLA would accept it and read permuted data.
line '    note: same xla_bytes (65536): XLA accepts this buffer without an error and the program reads its bytes as the program'"'"'s layout (permuted data)'
line 'Summary 8 parameters: 5 ok, 3 need relayout'
# The environment changes, the layout-affecting ones first, exactly.
$PY - <<'PY' || fail "environment section: $(cat check.txt)"
lines = open("check.txt", encoding="utf-8").read().split("\n")
i = lines.index("Environment (checkpoint → current)")
j = lines.index("Summary 8 parameters: 5 ok, 3 need relayout")
got = [l for l in lines[i + 1:j] if l]
want = [
    "  changes that can affect layouts:",
    "    libtpu 0.0.5 → 0.0.8",
    "    flag --xla_tpu_enable_data_parallel_all_reduce_opt: false → true",
    "    LIBTPU_INIT_ARGS --xla_tpu_megacore_fusion_allow_ags: false → true",
    "    device kind: TPU v4 → TPU v5 lite",
    "    topology: 4x4x4 → 4x8",
    "    device count: 64 → 32",
    "  other changes:",
    "    jax 0.4.35 → 0.4.38",
    "    jaxlib 0.4.35 → 0.4.38",
    "    process count: 16 → 8",
]
assert got == want, got
PY
fix='xlayout relayout --program examples/story/program_b.hlo --checkpoint ckpt --env examples/story/env_b.json -o ckpt.relayout'
[ "$(tail -n 1 check.txt)" = "Fix: $fix" ] || fail "fix line: $(tail -n 1 check.txt)"
# The same verdicts in JSON, for CI gates.
run 1 "$XLAYOUT" check --program $s/program_b.hlo --checkpoint ckpt --env $s/env_b.json --json
$PY - <<'PY' || fail "check --json: $(cat out.txt)"
import json
j = json.load(open("out.txt"))
v = [(r["parameter"], r["tensor"], r["verdict"], r["xla_rejects"]) for r in j["parameters"]]
assert v == [(0, "tok_emb", "ok", False), (1, "pos_emb", "ok", False),
             (2, "embeddings", "needs_relayout", True), (3, "attn_wq", "needs_relayout", False),
             (4, "mlp_w_out", "needs_relayout", True), (5, "ln_scale", "ok", False),
             (6, "bias", "ok", False), (7, "loss_scale", "ok", False)], v
assert j["counts"]["ok"] == 5 and j["counts"]["needs_relayout"] == 3, j["counts"]
assert j["fix"]["fixable_by_relayout"] is True
changed = {c["component"] for c in j["environment"]["changes"] if c["affects_layout"]}
assert {"device_kind", "topology", "libtpu_version"} <= changed, changed
PY

# --- explain on the check's output: exit 1, two findings -----------------------
run 1 "$XLAYOUT" explain check.txt
line '2 findings from 2 messages'
line '[1] parameter 2 of jit_embed_step — same logical shape, different physical layout'
line '[2] parameter 4 of jit_embed_step — same logical shape, different physical layout'
line '    • dim 2 (40) is minor-most on the expected side and padded to 128 (3.2×)'
line '    • tiling changed: T(16,128)(2,1) expected, T(8,128)(2,1) got'
line "    \$ xlayout relayout --shape 'bf16[16,128,40]{1,2,0:T(8,128)(2,1)}' --to '{2,1,0:T(8,128)(2,1)}' IN OUT"
line '  parameter 2 of jit_embed_step: layout (1 message)'
line '  parameter 4 of jit_embed_step: layout (1 message)'

# --- the fix, as check printed it ------------------------------------------------
(xlayout() { "$XLAYOUT" "$@"; }; eval "$fix") > out.txt 2> err.txt || fail "the printed fix failed: $(cat err.txt)"
no_stderr
line 'Relayout ckpt → ckpt.relayout for program jit_embed_step (examples/story/program_b.hlo)'
line '  embeddings  bf16[16,128,40]{1,2,0:T(8,128)(2,1)}  bf16[16,128,40]{2,1,0:T(8,128)(2,1)}  163,840 → 524,288'
line '  attn_wq     f32[128,128]{1,0:T(8,128)}            f32[128,128]{0,1:T(8,128)}              65,536 → 65,536'
line '  mlp_w_out   bf16[40,128]{1,0:T(8,128)(2,1)}       bf16[40,128]{1,0:T(16,128)(2,1)}        10,240 → 12,288'
grep -q '^Summary 3 tensors converted, 5 copied; wrote ckpt.relayout (654.50 KiB) in ' out.txt \
  || fail "relayout summary: $(cat out.txt)"
# The new manifest: B's fingerprint, and where it came from.
$PY - <<'PY' || fail "relayout manifest"
import json
m = json.load(open("ckpt.relayout/manifest.json"))
env, prov = m["environment"], m["provenance"]
assert env["device_kind"] == "TPU v5 lite" and env["topology"] == "4x8", env
assert prov["source_checkpoint"] == "ckpt", prov
assert prov["source_environment"]["device_kind"] == "TPU v4", prov
assert prov["conversions"] == [
    {"tensor": "embeddings", "from": "bf16[16,128,40]{1,2,0:T(8,128)(2,1)}"},
    {"tensor": "attn_wq", "from": "f32[128,128]{1,0:T(8,128)}"},
    {"tensor": "mlp_w_out", "from": "bf16[40,128]{1,0:T(8,128)(2,1)}"}], prov["conversions"]
src = {t["name"]: t for t in json.load(open("ckpt/manifest.json"))["tensors"]}
for t in m["tensors"]:
    assert t["xxh3_logical"] == src[t["name"]]["xxh3_logical"], t["name"]
    if t["name"] in ("embeddings", "attn_wq", "mlp_w_out"):
        assert t["device_shape"] != src[t["name"]]["device_shape"], t
    else:
        assert t["device_shape"] == src[t["name"]]["device_shape"], t
        assert t["xxh3_physical"] == src[t["name"]]["xxh3_physical"], t
PY
run 0 "$XLAYOUT" inspect ckpt.relayout --verify
line 'every checksum verified'
# --verify and --threads 2 give the same bytes.
run 0 "$XLAYOUT" relayout --program $s/program_b.hlo --checkpoint ckpt --env $s/env_b.json --verify --threads 2 -o ckpt.t2
cmp ckpt.relayout/data/tensors.bin ckpt.t2/data/tensors.bin || fail "--threads 2 --verify changed the data"
# --json: one record per tensor, converted or copied.
run 0 "$XLAYOUT" relayout --program $s/program_b.hlo --checkpoint ckpt --env $s/env_b.json --json -o ckpt.json
$PY - <<'PY' || fail "relayout --json: $(cat out.txt)"
import json
j = json.load(open("out.txt"))
assert j["schema"] == "xlayout.v1" and j["command"] == "relayout" and j["written"] is True, j
assert j["counts"] == {"tensors": 8, "converted": 3, "copied": 5}, j["counts"]
acts = [(t["tensor"], t["action"], t["from"]["exact_bytes"], t["to"]["exact_bytes"]) for t in j["tensors"]]
assert acts == [("tok_emb", "copied", 32768, 32768), ("pos_emb", "copied", 32768, 32768),
                ("embeddings", "converted", 163840, 524288), ("attn_wq", "converted", 65536, 65536),
                ("mlp_w_out", "converted", 10240, 12288), ("ln_scale", "copied", 1024, 1024),
                ("bias", "copied", 1024, 1024), ("loss_scale", "copied", 512, 512)], acts
assert j["errors"] == []
PY
cmp ckpt.relayout/data/tensors.bin ckpt.json/data/tensors.bin || fail "--json changed the data"

# --- check passes now -------------------------------------------------------------
run 0 "$XLAYOUT" check --program $s/program_b.hlo --checkpoint ckpt.relayout --env $s/env_b.json
no_stderr
line 'Summary 8 parameters: 8 ok'
line '  no changes'
line 'The checkpoint matches the program.'
! grep -q 'Fix:' out.txt || fail "a fix on a passing check"
# ... and the old checkpoint still fits program A.
run 0 "$XLAYOUT" check --program $s/program_a.hlo --checkpoint ckpt --env $s/env_a.json

# --- export gives back the original file, byte for byte ------------------------------
run 0 "$XLAYOUT" export --checkpoint ckpt.relayout -o back.safetensors
line 'exported 8 tensors (305,828 logical bytes) to back.safetensors (safetensors), every checksum verified'
cmp $s/model.safetensors back.safetensors || fail "export differs from model.safetensors"

echo "PASS: story: import, check (2 E0102 messages, 5 ok, 3 need relayout, 6 layout-affecting changes), explain, relayout, check, export (bit for bit)"
