#!/usr/bin/env python3
"""Checkpoint import/export benchmark against `cp` of the same bytes.

Writes a safetensors file of about 2 GiB shaped like a small transformer
(bf16 attention and MLP weights, f32 norms, a bf16 embedding and an f32
output head; 12 layers, d_model 2048, d_ff 8192, vocab 32000) into --dir
(tmpfs: /dev/shm by default), then repeats, interleaved:

  cp SRC COPY                                   (the floor)
  xlayout import SRC --layout ... -o CKPT       (TPU layouts: 2-D bf16
      {1,0:T(8,128)(2,1)}, the attention output projection transposed
      {0,1:T(8,128)(2,1)}, 2-D f32 {1,0:T(8,128)}, 1-D f32 {0:T(256)})
  xlayout export --checkpoint CKPT -o OUT.safetensors

Each output is removed before the next run, outside the timed region.
Prints, per operation, the time (median, min..max), the throughput
relative to cp (cp time / operation time: >= 0.7 is the goal of issue 11)
and the peak RSS of the child (/usr/bin/time), against the bound "largest tensor's
input + output + 64 MiB". The first export is checked to be bit-identical
to the source.

  bench/checkpoint_bench.py --xlayout build/release/tools/xlayout
  bench/checkpoint_bench.py --xlayout ... --reps 5 --layers 4   # smaller
"""
import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time

import numpy as np


def model(layers, d, ff, vocab):
    t = [("embed", "BF16", [vocab, d])]
    for i in range(layers):
        p = f"layer{i}."
        t += [(p + "attn_norm", "F32", [d]),
              (p + "q", "BF16", [d, d]), (p + "k", "BF16", [d, d]),
              (p + "v", "BF16", [d, d]), (p + "o", "BF16", [d, d]),
              (p + "mlp_norm", "F32", [d]),
              (p + "gate", "BF16", [d, ff]), (p + "up", "BF16", [d, ff]),
              (p + "down", "BF16", [ff, d])]
    t += [("final_norm", "F32", [d]), ("head", "F32", [d, vocab])]
    return t


def layout(name, dtype, shape):
    if len(shape) == 1:
        return "{0:T(256)}"
    if dtype == "F32":
        return "{1,0:T(8,128)}"
    if name.endswith(".o"):
        return "{0,1:T(8,128)(2,1)}"
    return "{1,0:T(8,128)(2,1)}"


def write_source(path, tensors):
    header, off = {}, 0
    for name, dtype, shape in tensors:
        n = int(np.prod(shape)) * (2 if dtype == "BF16" else 4)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [off, off + n]}
        off += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for name, dtype, shape in tensors:
            n = int(np.prod(shape)) * (2 if dtype == "BF16" else 4)
            f.write(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    return off


def run(cmd):
    """Runs cmd; returns (seconds, peak RSS in bytes). The RSS comes from
    /usr/bin/time: a child forked or vforked by this (large) Python process
    would inherit its high-water mark across exec, wait4's ru_maxrss too."""
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS_KIB %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    kib = [int(line.split()[1]) for line in p.stderr.splitlines()
           if line.startswith("MAXRSS_KIB ")]
    return elapsed, kib[-1] * 1024


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xlayout", required=True)
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    tensors = model(args.layers, 2048, 8192, 32000)
    work = os.path.join(args.dir, f"xlayout-ckpt-bench-{os.getpid()}")
    os.makedirs(work)
    try:
        src = os.path.join(work, "model.safetensors")
        data_bytes = write_source(src, tensors)
        size = os.path.getsize(src)
        largest = max(int(np.prod(s)) * (2 if d == "BF16" else 4)
                      for _, d, s in tensors)
        # Device bytes of the largest tensor ({1,0:T(8,128)} on f32[2048,32000]
        # pads 32000 to 32000: no padding) - its input + output + 64 MiB.
        bound = 2 * largest + (64 << 20)
        print(f"source {size:,} bytes ({size / 2**30:.2f} GiB), "
              f"{len(tensors)} tensors, largest {largest:,} bytes; "
              f"{args.reps} reps, --threads {args.threads}")
        ckpt = os.path.join(work, "ckpt")
        out = os.path.join(work, "out.safetensors")
        copy = os.path.join(work, "copy.safetensors")
        imp = [args.xlayout, "import", src, "--threads", str(args.threads),
               "--no-progress", "-o", ckpt]
        for name, dtype, shape in tensors:
            imp += ["--layout", f"{name}={layout(name, dtype, shape)}"]
        exp = [args.xlayout, "export", "--checkpoint", ckpt, "--threads",
               str(args.threads), "--no-progress", "-o", out]
        times = {"cp": [], "import": [], "export": []}
        rss = {"import": 0, "export": 0}
        for rep in range(args.reps):
            t, _ = run(["cp", src, copy])
            times["cp"].append(t)
            remove(copy)
            remove(ckpt)
            t, r = run(imp)
            times["import"].append(t)
            rss["import"] = max(rss["import"], r)
            t, r = run(exp)
            times["export"].append(t)
            rss["export"] = max(rss["export"], r)
            if rep == 0:
                if subprocess.run(["cmp", "-s", src, out]).returncode != 0:
                    sys.exit("export is not bit-identical to the source")
            remove(out)
        ck_bytes = sum(os.path.getsize(os.path.join(ckpt, "data", f))
                       for f in os.listdir(os.path.join(ckpt, "data")))
        print(f"checkpoint data {ck_bytes:,} bytes")
        cp_med = statistics.median(times["cp"])
        for op in ["cp", "import", "export"]:
            ts = times[op]
            med = statistics.median(ts)
            ratios = sorted(c / t for c, t in zip(times["cp"], ts))
            line = (f"{op:7s} median {med:.3f} s ({min(ts):.3f}..{max(ts):.3f}),"
                    f" {size / med / 2**30:.2f} GiB/s")
            if op != "cp":
                line += (f", throughput vs cp {cp_med / med:.2f}x (per rep "
                         f"{ratios[0]:.2f}..{ratios[-1]:.2f}), peak RSS "
                         f"{rss[op] / 2**20:.0f} MiB (bound {bound / 2**20:.0f} MiB:"
                         f" {'ok' if rss[op] < bound else 'OVER'})")
            print(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
