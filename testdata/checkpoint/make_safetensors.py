#!/usr/bin/python3
"""Writes the .safetensors test files in testdata/checkpoint/safetensors/.

An independent writer: it follows the format description (8-byte
little-endian header length, JSON header, data) with Python's json and
struct modules and numpy for the bytes, without the safetensors package or
any xlayout code. The output is deterministic and committed:

    /usr/bin/python3 testdata/checkpoint/make_safetensors.py

good_*.safetensors are valid; bad_*.safetensors each break one rule the
safetensors library enforces (the reason is in the name).
"""
import json
import os
import struct
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors")

# dtype -> (bits per element, numpy dtype used for the bytes). Types numpy
# lacks are written as raw bit patterns of an unsigned type of their width.
DTYPES = {
    "BOOL": (8, "?"), "U8": (8, "u1"), "I8": (8, "i1"),
    "F8_E5M2": (8, "u1"), "F8_E4M3": (8, "u1"), "F8_E8M0": (8, "u1"),
    "F8_E4M3FNUZ": (8, "u1"), "F8_E5M2FNUZ": (8, "u1"),
    "I16": (16, "<i2"), "U16": (16, "<u2"), "F16": (16, "<f2"),
    "BF16": (16, "<u2"), "I32": (32, "<i4"), "U32": (32, "<u4"),
    "F32": (32, "<f4"), "C64": (64, "<c8"), "F64": (64, "<f8"),
    "I64": (64, "<i8"), "U64": (64, "<u8"),
    "F4": (4, "u1"), "F6_E2M3": (6, "u1"), "F6_E3M2": (6, "u1"),
}


def tensor_bytes(dtype, shape, seed):
    bits, np_dtype = DTYPES[dtype]
    n = int(np.prod(shape)) if shape else 1
    nbytes = n * bits // 8
    if bits < 8:  # packed: arbitrary bytes
        return bytes((seed + i * 37) % 256 for i in range(nbytes))
    a = (np.arange(n) * 3 + seed).astype(np_dtype)
    if dtype == "BOOL":
        a = (np.arange(n) + seed) % 2 == 1
    return a.astype(np_dtype).tobytes()


def header_json(entries, metadata=None, pad=True):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, begin, end in entries:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [begin, end]}
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return text


def write(name, header, data, length=None):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<Q", len(header) if length is None else length))
        f.write(header)
        f.write(data)


def layout(tensors):
    """tensors: [(name, dtype, shape)] -> entries with contiguous offsets."""
    entries, data, offset = [], b"", 0
    for i, (name, dtype, shape) in enumerate(tensors):
        b = tensor_bytes(dtype, shape, i)
        entries.append((name, dtype, shape, offset, offset + len(b)))
        data += b
        offset += len(b)
    return entries, data


def main():
    os.makedirs(OUT, exist_ok=True)
    every = [("t_" + d.lower(), d, [2, 4]) for d in DTYPES]
    entries, data = layout(every)
    write("good_every_dtype.safetensors",
          header_json(entries, {"format": "np"}), data)
    entries, data = layout([("emb", "BF16", [16, 40]), ("w", "F32", [40, 8]),
                            ("scalar", "F64", []), ("empty", "I32", [0, 3])])
    write("good_small_model.safetensors", header_json(entries), data)
    write("good_unpadded_header.safetensors",
          header_json(entries, pad=False), data)
    # Header entries in reverse file order (safetensors sorts by offset).
    write("good_reordered_entries.safetensors",
          header_json(list(reversed(entries))), data)

    entries, data = layout([("a", "F32", [2, 2]), ("b", "U8", [4])])
    a, b = entries
    write("bad_gap.safetensors",
          header_json([a, ("b", "U8", [4], 20, 24)]), data + b"\0" * 4)
    write("bad_overlap.safetensors",
          header_json([a, ("b", "U8", [4], 12, 16)]), data[:16])
    write("bad_not_from_zero.safetensors",
          header_json([("a", "F32", [2, 2], 4, 20)]), b"\0" * 20)
    write("bad_length_mismatch.safetensors",
          header_json([("a", "F32", [2, 3], 0, 16), b]), data)
    write("bad_trailing_bytes.safetensors", header_json(entries), data + b"x")
    write("bad_truncated.safetensors", header_json(entries), data[:-1])
    write("bad_unknown_dtype.safetensors",
          header_json([("a", "F12", [2, 2], 0, 16), b]), data)
    write("bad_overflow.safetensors",
          header_json([("a", "F32", [2**62, 8], 0, 16)]), data[:16])
    write("bad_header_too_large.safetensors", header_json(entries), data,
          length=100_000_001)
    write("bad_header_past_eof.safetensors", header_json(entries), b"",
          length=4096)
    dup = (b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
           b'"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}')
    write("bad_duplicate_name.safetensors", dup, b"\0" * 8)
    write("bad_utf8.safetensors",
          b'{"\xff":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\0")
    write("bad_json.safetensors", b'{"a":{"dtype":"U8",', b"")
    write("bad_metadata_value.safetensors",
          header_json(entries, {"n": 1}), data)
    with open(os.path.join(OUT, "bad_short.safetensors"), "wb") as f:
        f.write(b"\x08\0\0\0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
