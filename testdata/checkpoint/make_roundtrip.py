#!/usr/bin/python3
"""Round-trip inputs for tools/import_cli_test.sh, written by independent
writers: numpy (np.save, np.savez, np.savez_compressed) and a safetensors
writer made of json + struct (the layout the safetensors library writes:
compact JSON header in data order, space-padded to a multiple of 8).

usage: make_roundtrip.py OUTDIR
"""
import json
import os
import struct
import sys

import numpy as np

# safetensors dtype -> (bits, numpy dtype used to make the bytes)
ST_DTYPES = {
    "BOOL": (8, "u1"), "U8": (8, "u1"), "I8": (8, "i1"),
    "F8_E5M2": (8, "u1"), "F8_E4M3": (8, "u1"), "F8_E8M0": (8, "u1"),
    "F8_E4M3FNUZ": (8, "u1"), "F8_E5M2FNUZ": (8, "u1"),
    "I16": (16, "<i2"), "U16": (16, "<u2"), "F16": (16, "<f2"),
    "BF16": (16, "<u2"), "I32": (32, "<i4"), "U32": (32, "<u4"),
    "F32": (32, "<f4"), "C64": (64, "<c8"), "F64": (64, "<f8"),
    "I64": (64, "<i8"), "U64": (64, "<u8"), "F4": (4, "u1"),
}
SHAPE = [20, 136]  # not a multiple of any tile: every layout pads


def st_bytes(dtype, seed):
    bits, np_dtype = ST_DTYPES[dtype]
    n = SHAPE[0] * SHAPE[1]
    rng = np.random.default_rng(seed)
    if dtype == "BOOL":
        return (rng.integers(0, 2, n)).astype("u1").tobytes()
    nbytes = n * bits // 8
    return rng.integers(0, 256, nbytes, dtype="u1").tobytes()


def write_safetensors(path, tensors):
    header, data, offset = {}, b"", 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "npy"), exist_ok=True)
    tensors = [("t_" + d.lower(), d, SHAPE, st_bytes(d, i))
               for i, d in enumerate(ST_DTYPES)]
    write_safetensors(os.path.join(out, "every.safetensors"), tensors)

    rng = np.random.default_rng(7)
    arrays = {}
    for code in ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4",
                 "<u8", "<f2", "<f4", "<f8", "<c8", "<c16"]:
        raw = rng.integers(0, 256, SHAPE[0] * SHAPE[1] * np.dtype(code).itemsize,
                           dtype="u1")
        a = raw.view(code).reshape(SHAPE) if code != "|b1" else (
            raw.reshape(SHAPE) % 2 == 1)
        name = "a_" + code[1:]
        arrays[name] = a
        np.save(os.path.join(out, "npy", name + ".npy"), a)
    # ml_dtypes' bfloat16 as np.save writes it: raw 2-byte void.
    bf16 = rng.integers(0, 65536, SHAPE, dtype="<u2").view("V2")
    np.save(os.path.join(out, "npy", "a_bf16.npy"), bf16)
    arrays["a_bf16"] = bf16
    np.savez(os.path.join(out, "stored.npz"), **arrays)
    np.savez_compressed(os.path.join(out, "deflated.npz"), **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main())
