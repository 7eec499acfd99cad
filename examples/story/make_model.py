#!/usr/bin/python3
"""Writes examples/story/model.safetensors: the small model of the E0102 story.

The model stands for a checkpoint exported under environment A (env_a.json,
a TPU v4 4x4x4 slice) from the program in program_a.hlo: eight tensors, one
per parameter of that program, in parameter order.

This writer is independent of xlayout: it uses only the Python standard
library and numpy, and writes the safetensors format by hand:

  bytes 0..7   N, the length of the JSON header, unsigned 64-bit little-endian
  bytes 8..8+N the header: a JSON object mapping each tensor name to
               {"dtype": "BF16" | "F32", "shape": [...],
                "data_offsets": [begin, end]}, offsets relative to the end
               of the header; written compact (no spaces), the tensors in
               data order, and padded with spaces to a multiple of 8 bytes
  then         the tensors' bytes, back to back, row-major, little-endian

bf16 values are float32 values rounded to nearest, ties to even, keeping
the upper 16 bits. The values are deterministic (numpy's PCG64 generator
with a fixed seed), so running the script again gives the same bytes:

  /usr/bin/python3 examples/story/make_model.py examples/story/model.safetensors
"""
import json
import struct
import sys

import numpy as np

# name, dtype, shape: parameter order of program_a.hlo / program_b.hlo.
TENSORS = [
    ("tok_emb", "BF16", [128, 128]),
    ("pos_emb", "F32", [64, 128]),
    ("embeddings", "BF16", [16, 128, 40]),
    ("attn_wq", "F32", [128, 128]),
    ("mlp_w_out", "BF16", [40, 128]),
    ("ln_scale", "F32", [128]),
    ("bias", "F32", [40]),
    ("loss_scale", "F32", []),
]


def to_bf16_bits(values):
    """float32 array -> uint16 bf16 bit patterns, round to nearest even."""
    bits = np.ascontiguousarray(values, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype("<u2")


def tensor_bytes(rng, dtype, shape):
    values = (rng.standard_normal(shape, dtype=np.float32) * 0.05).astype("<f4")
    if dtype == "BF16":
        return to_bf16_bits(values).tobytes()
    return values.tobytes()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "model.safetensors"
    rng = np.random.Generator(np.random.PCG64(20261130))
    header, blobs, offset = {}, [], 0
    for name, dtype, shape in TENSORS:
        blob = tensor_bytes(rng, dtype, shape)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


if __name__ == "__main__":
    main()
