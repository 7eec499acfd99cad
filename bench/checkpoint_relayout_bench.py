#!/usr/bin/env python3
"""Checkpoint relayout benchmark against `cp -r` of the same directory.

Imports the ~2 GiB transformer-like model of checkpoint_bench.py (12
layers, d_model 2048, d_ff 8192, vocab 32000; bf16 weights, f32 norms and
head) under program A (TPU layouts), then repeats, interleaved:

  cp -r CKPT COPY                                         (the baseline)
  xlayout relayout --program B --checkpoint CKPT -o OUT --threads 1
  xlayout relayout --program B --checkpoint CKPT -o OUT --threads 2
  relayout_io_floor PLAN                                  (the I/O floor)

Program B changes the layout of about half the bytes: every gate and up
projection transposed ({0,1:T(8,128)(2,1)}), q and k transposed (same
size), and the embedding's tile changed to T(16,128)(2,1). The rest is
copied. Each output is removed, and `sync` run, before the next run,
outside the timed region. Prints per run kind the time (median, min..max), the throughput
relative to cp -r (cp time / relayout time; >= 0.7 is the goal of issue
12) with the per-round spread, and the peak RSS (/usr/bin/time). The first
output is checked with `check` (must pass) and `inspect --verify`.

The I/O floor (bench/relayout_io_floor.cc, built beside xlayout) makes a
one-thread relayout's system calls without its work: each tensor B
converts is read into memory and written back unchanged, the rest copied
in the kernel, the output preallocated and fsynced. Its time is what any
one-thread relayout must spend here; the relayout's time over it is the
conversion and the checksums.

--durable-cp also times `cp -r` followed by an fsync of every file and
directory it made. The relayout fsyncs its output; on tmpfs (the default
--dir, /dev/shm) that costs nothing, on a disk it is most of the time.

  bench/checkpoint_relayout_bench.py --xlayout build/release/tools/xlayout
  bench/checkpoint_relayout_bench.py --xlayout ... --dir /var/tmp --durable-cp
  bench/checkpoint_relayout_bench.py --xlayout ... --reps 3 --layers 4
"""
import argparse
import json
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


def write_floor_plan(plan, ckpt, out, tensors):
    """relayout_io_floor's plan: R (read, write) for each tensor B converts,
    C (copy in the kernel) for the rest, at the manifest's offsets."""
    dtype_of = {n: d for n, d, _ in tensors}
    shape_of = {n: s for n, _, s in tensors}
    with open(os.path.join(ckpt, "manifest.json")) as f:
        manifest = json.load(f)
    with open(plan, "w") as f:
        for t in manifest["tensors"]:
            name = t["name"]
            a, b = (layout(name, dtype_of[name], shape_of[name], p)
                    for p in "AB")
            f.write(f"{'R' if a != b else 'C'} "
                    f"{os.path.join(ckpt, t['file'])} {t['offset']} "
                    f"{t['length']} {os.path.join(out, t['file'])}\n")


def make_dirs(plan):
    """Creates the directories of the plan's outputs."""
    with open(plan) as f:
        for line in f:
            os.makedirs(os.path.dirname(line.split()[-1]), exist_ok=True)


def tree_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f))
               for d, _, fs in os.walk(path) for f in fs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xlayout", required=True)
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--durable-cp", action="store_true",
                    help="also time `cp -r` followed by an fsync of every "
                    "file and directory it made (as the relayout does): on "
                    "a disk, what a copy that survives a crash costs")
    ap.add_argument("--floor", help="relayout_io_floor (default: "
                    "bench/relayout_io_floor of --xlayout's build tree)")
    args = ap.parse_args()
    floor = args.floor or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(args.xlayout))),
        "bench", "relayout_io_floor")
    if not os.access(floor, os.X_OK):
        floor = None
        print("no relayout_io_floor binary: the I/O floor is not measured")

    tensors = model(args.layers, 2048, 8192, 32000)
    work = os.path.join(args.dir, f"xlayout-relayout-bench-{os.getpid()}")
    if floor and any(c.isspace() for c in work):
        sys.exit(f"--dir '{args.dir}' has white space, which the floor's "
                 "plan cannot hold")
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
        floor_out = os.path.join(work, "floor")
        plan = os.path.join(work, "floor.plan")
        if floor:
            write_floor_plan(plan, ckpt, floor_out, tensors)
        kinds = ["cp -r", "relayout 1 thread", "relayout 2 threads"]
        if floor:
            kinds.append("I/O floor, 1 thread")
        if args.durable_cp:
            kinds.insert(1, "cp -r + fsync")
        times = {k: [] for k in kinds}
        rss = {k: 0 for k in kinds}
        for rep in range(args.reps):
            for kind in kinds:
                if kind == "cp -r":
                    t, r = run(["cp", "-r", ckpt, copy])
                    remove(copy)
                elif kind == "cp -r + fsync":
                    t, r = run(["sh", "-c", 'cp -r "$1" "$2" && find "$2" '
                                '-exec sync {} + && sync "$(dirname "$2")"',
                                "sh", ckpt, copy])
                    remove(copy)
                elif kind.startswith("I/O floor"):
                    make_dirs(plan)
                    t, r = run([floor, plan])
                    remove(floor_out)
                else:
                    t, r = run(relayout + [kind.split()[1]])
                    if rep == 0 and kind == "relayout 1 thread":
                        out_bytes = tree_bytes(out)
                        for check in (["check", "--program", b_hlo,
                                       "--checkpoint", out],
                                      ["inspect", out, "--verify"]):
                            if subprocess.run([args.xlayout] + check,
                                              stdout=subprocess.DEVNULL
                                              ).returncode != 0:
                                sys.exit(f"output fails {check[0]}")
                    remove(out)
                subprocess.run(["sync"], check=True)  # Nothing left to flush.
                times[kind].append(t)
                rss[kind] = max(rss[kind], r)
        if floor:
            with open(plan) as f:
                converted = sum(int(line.split()[3]) for line in f
                                if line.startswith("R"))
            print(f"the I/O floor reads and writes back the "
                  f"{converted:,} bytes B converts, copies the rest")
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
