#!/usr/bin/env python3
"""Checkpoint relayout benchmark against `cp -r` of the same directory.

Imports the ~2 GiB transformer-like model of checkpoint_bench.py (12
layers, d_model 2048, d_ff 8192, vocab 32000; bf16 weights, f32 norms and
head) under program A (TPU layouts), then repeats, interleaved:

  cp -r CKPT COPY                                         (the floor)
  xlayout relayout --program B --checkpoint CKPT -o OUT --threads 1
  xlayout relayout --program B --checkpoint CKPT -o OUT --threads 2

Program B changes the layout of about half the bytes: every gate and up
projection transposed ({0,1:T(8,128)(2,1)}), q and k transposed (same
size), and the embedding's tile changed to T(16,128)(2,1). The rest is
copied. Each output is removed before the next run, outside the timed
region. Prints per run kind the time (median, min..max), the throughput
relative to cp -r (cp time / relayout time; >= 0.7 is the goal of issue
12) with the per-round spread, and the peak RSS (/usr/bin/time). The first
output is checked with `check` (must pass) and `inspect --verify`.

  bench/checkpoint_relayout_bench.py --xlayout build/release/tools/xlayout
  bench/checkpoint_relayout_bench.py --xlayout ... --reps 3 --layers 4
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_bench import model, remove, run, write_source  # noqa: E402

ELEMENT = {"BF16": "bf16", "F32": "f32"}


def layout(name, dtype, shape, program):
    if len(shape) == 1:
        return "{0:T(256)}"
    if dtype == "F32":
        return "{1,0:T(8,128)}"
    if program == "B":
        if name.endswith((".gate", ".up", ".q", ".k")):
            return "{0,1:T(8,128)(2,1)}"
        if name == "embed":
            return "{1,0:T(16,128)(2,1)}"
    return "{1,0:T(8,128)(2,1)}"


def write_program(path, tensors, program):
    shapes = [f"{ELEMENT[d]}[{','.join(map(str, s))}]"
              f"{layout(n, d, s, program)}" for n, d, s in tensors]
    with open(path, "w") as f:
        f.write(f"HloModule jit_train_step, entry_computation_layout="
                f"{{({', '.join(shapes)})->f32[]{{:T(128)}}}}\n\n")
        decls = ", ".join(f"p{i}: {s.split('{')[0]}"
                          for i, s in enumerate(shapes))
        f.write(f"ENTRY %main ({decls}) -> f32[] {{\n")
        for i, s in enumerate(shapes):
            f.write(f"  %p{i} = {s} parameter({i})\n")
        f.write("  ROOT %c = f32[]{:T(128)} constant(0)\n}\n")


def tree_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f))
               for d, _, fs in os.walk(path) for f in fs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xlayout", required=True)
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--layers", type=int, default=12)
    args = ap.parse_args()

    tensors = model(args.layers, 2048, 8192, 32000)
    work = os.path.join(args.dir, f"xlayout-relayout-bench-{os.getpid()}")
    os.makedirs(work)
    try:
        src = os.path.join(work, "model.safetensors")
        write_source(src, tensors)
        a_hlo, b_hlo = (os.path.join(work, f"{p}.hlo") for p in "AB")
        write_program(a_hlo, tensors, "A")
        write_program(b_hlo, tensors, "B")
        ckpt = os.path.join(work, "ckpt")
        subprocess.run([args.xlayout, "import", src, "--program", a_hlo,
                        "--no-progress", "-o", ckpt], check=True,
                       stdout=subprocess.DEVNULL)
        os.remove(src)  # Keep the working set to what is measured.
        size = tree_bytes(ckpt)
        out = os.path.join(work, "out")
        copy = os.path.join(work, "copy")
        relayout = [args.xlayout, "relayout", "--program", b_hlo,
                    "--checkpoint", ckpt, "--no-progress", "-o", out,
                    "--threads"]
        kinds = ["cp -r", "relayout 1 thread", "relayout 2 threads"]
        times = {k: [] for k in kinds}
        rss = {k: 0 for k in kinds}
        for rep in range(args.reps):
            for kind in kinds:
                if kind == "cp -r":
                    t, r = run(["cp", "-r", ckpt, copy])
                    remove(copy)
                else:
                    t, r = run(relayout + [kind.split()[1]])
                    if rep == 0 and kind == kinds[1]:
                        out_bytes = tree_bytes(out)
                        for check in (["check", "--program", b_hlo,
                                       "--checkpoint", out],
                                      ["inspect", out, "--verify"]):
                            if subprocess.run([args.xlayout] + check,
                                              stdout=subprocess.DEVNULL
                                              ).returncode != 0:
                                sys.exit(f"output fails {check[0]}")
                    remove(out)
                times[kind].append(t)
                rss[kind] = max(rss[kind], r)
        print(f"checkpoint {size:,} bytes ({size / 2**30:.2f} GiB), "
              f"{len(tensors)} tensors; output {out_bytes:,} bytes; "
              f"{args.reps} rounds, interleaved")
        cp = times["cp -r"]
        cp_med = statistics.median(cp)
        for kind in kinds:
            ts = times[kind]
            med = statistics.median(ts)
            line = (f"{kind:19s} median {med:.3f} s ({min(ts):.3f}.."
                    f"{max(ts):.3f}), peak RSS {rss[kind] / 2**20:.0f} MiB")
            if kind != "cp -r":
                ratios = sorted(c / t for c, t in zip(cp, ts))
                line += (f", throughput vs cp -r {cp_med / med:.2f}x (per "
                         f"round {ratios[0]:.2f}..{ratios[-1]:.2f})")
            print(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
