#!/usr/bin/env python3
"""Writes a .safetensors file of random tensors, by hand (stdlib + numpy; no
safetensors package): an independent writer for the CLI tests.

  random_safetensors.py OUT SEED NAME:DTYPE:D0xD1x... ...

DTYPE is BF16 or F32; dims are joined by 'x' (none for a scalar). The format:
an 8-byte little-endian header length, the JSON header (padded with spaces
to a multiple of 8), then the tensors' bytes back to back in argument order.
"""
import json
import struct
import sys

import numpy as np

WIDTH = {"BF16": 2, "F32": 4}


def main():
    out, seed, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    rng = np.random.default_rng(seed)
    header, data, off = {}, [], 0
    for spec in specs:
        name, dtype, dims = spec.split(":")
        shape = [int(d) for d in dims.split("x")] if dims else []
        n = int(np.prod(shape)) * WIDTH[dtype]
        data.append(rng.integers(0, 256, n, dtype="u1").tobytes())
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [off, off + n]}
        off += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(data))


if __name__ == "__main__":
    main()
