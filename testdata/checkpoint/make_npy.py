#!/usr/bin/python3
"""Writes the .npy/.npz test files in testdata/checkpoint/npy/ with numpy.

These files come from numpy itself (an independent writer), so the npy header
parser is tested against what numpy really writes. Run with Debian's
/usr/bin/python3 (python3-numpy); the output is deterministic and committed:

    /usr/bin/python3 testdata/checkpoint/make_npy.py

Every array holds np.arange(size) cast to its dtype, so a test can check the
first elements' bytes.
"""
import io
import os
import sys
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def arange(dtype, shape, order="C"):
    n = int(np.prod(shape)) if shape else 1
    a = np.arange(n).astype(dtype).reshape(shape)
    return np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)


def save(name, array, version=None, allow_pickle=False):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version,
                                  allow_pickle=allow_pickle)


def main():
    os.makedirs(OUT, exist_ok=True)
    # Every numeric dtype, little-endian (or byte-order free), C order.
    for code in ["?", "i1", "u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8",
                 "<f2", "<f4", "<f8", "<c8", "<c16"]:
        dt = np.dtype(code)
        save("%s_2x3.npy" % dt.str.replace("<", "le_").replace("|", "na_"),
             arange(dt, (2, 3)))
    # Big-endian.
    for code in [">i2", ">f4", ">f8", ">c8", ">u8"]:
        save("%s_2x3.npy" % code.replace(">", "be_"), arange(code, (2, 3)))
    # Fortran order.
    save("fortran_f4_3x4.npy", arange("<f4", (3, 4), order="F"))
    save("fortran_i2_2x3x4.npy", arange("<i2", (2, 3, 4), order="F"))
    # Ranks and empty arrays.
    save("scalar_f8.npy", np.array(7.5, dtype="<f8"))
    save("vector_i4_5.npy", arange("<i4", (5,)))
    save("empty_f4_0x3.npy", np.zeros((0, 3), dtype="<f4"))
    # Format versions 2.0 and 3.0.
    save("v2_f4_2x3.npy", arange("<f4", (2, 3)), version=(2, 0))
    save("v3_f4_2x3.npy", arange("<f4", (2, 3)), version=(3, 0))
    # Raw 2-byte void, as np.save writes ml_dtypes' bfloat16: the bf16 bit
    # patterns of 0..5 (1.0 = 0x3f80) viewed as V2.
    bf16_bits = (arange("<f4", (2, 3)).view("<u4") >> 16).astype("<u2")
    save("void_v2_2x3.npy", bf16_bits.view("V2"))
    # Raw 1-byte void, as np.save writes ml_dtypes' float8 types (and int4,
    # which has no .npy form here).
    save("void_v1_2x3.npy", (arange("<u1", (2, 3)) % 16).view("V1"))
    # Refused kinds.
    save("object.npy", np.array([1, "x", None], dtype=object),
         allow_pickle=True)
    save("structured.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))
    save("unicode.npy", np.array(["ab", "c"], dtype="<U2"))
    save("longdouble.npy", np.zeros(2, dtype=np.longdouble))
    save("datetime.npy", np.array(["2026-01-01"], dtype="datetime64[D]"))
    # npz, stored and deflated (for the npz reader).
    np.savez(os.path.join(OUT, "stored.npz"), a=arange("<f4", (2, 3)),
             b=arange("<i8", (4,)))
    np.savez_compressed(os.path.join(OUT, "deflated.npz"),
                        a=arange("<f4", (2, 3)), b=arange("<i8", (4,)))
    # npz archives numpy would not write: a non-array member, and a member
    # compressed with bzip2 (only stored and deflate are read).
    member = io.BytesIO()
    np.lib.format.write_array(member, arange("<f4", (2, 3)))
    def info(name, compression=zipfile.ZIP_STORED):
        i = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        i.compress_type = compression
        return i
    with zipfile.ZipFile(os.path.join(OUT, "extra_member.npz"), "w") as z:
        z.writestr(info("a.npy"), member.getvalue())
        z.writestr(info("readme.txt"), "not an array")
    with zipfile.ZipFile(os.path.join(OUT, "bzip2.npz"), "w") as z:
        z.writestr(info("a.npy", zipfile.ZIP_BZIP2), member.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
