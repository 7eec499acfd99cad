#!/usr/bin/env python3
"""`xlayout diff` of two 10,000-parameter programs against reading them.

Writes two HLO dumps of one program "compiled for two topologies" (4 and 8
partitions): --params entry parameters of mixed ranks, element types,
tilings and shardings. B differs from A in a known way: every sharded
parameter is split 8 ways instead of 4, every 7th 2-D parameter has tiling
(16,128)(2,1) instead of (8,128)(2,1), every 11th 3-D parameter has its two
minor dims swapped, and every 13th is in pinned_host memory (S(5)).

Then repeats, interleaved, and reports the median (min..max) wall time of

  xlayout signature A ; xlayout signature B   (reading both, the floor)
  xlayout diff A B                            (reading both + comparing)
  xlayout diff --json A B

with the output to /dev/null, plus the summary line `diff` printed, which is
checked against the counts the generator made.

  bench/diff_bench.py --xlayout build/release/tools/xlayout
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def make_program(n, partitions, variant):
    shapes, shardings, names = [], [], []
    expect = {"tiling": 0, "swap": 0, "memory": 0, "sharded": 0}
    for i in range(n):
        kind = i % 4
        mem = "S(5)" if variant and i % 13 == 0 else ""
        if variant and i % 13 == 0:
            expect["memory"] += 1
        if kind == 0:  # 2-D bf16 weight, row-sharded
            tile = "(16,128)(2,1)" if variant and i % 7 == 0 else "(8,128)(2,1)"
            if variant and i % 7 == 0:
                expect["tiling"] += 1
            shapes.append(f"bf16[{1024 + 8 * (i % 16)},4096]{{1,0:T{tile}{mem}}}")
            shardings.append(f"{{devices=[{partitions},1]<=[{partitions}]}}")
            expect["sharded"] += 1
        elif kind == 1:  # 3-D activation, replicated
            order = "1,2,0" if variant and i % 11 == 1 else "2,1,0"
            if variant and i % 11 == 1:
                expect["swap"] += 1
            shapes.append(f"bf16[16,1280,{40 + i % 3 * 8}]{{{order}:T(8,128)(2,1){mem}}}")
            shardings.append("{replicated}")
        elif kind == 2:  # 1-D f32 norm scale
            shapes.append(f"f32[{256 * (1 + i % 8)}]{{0:T(256){mem}}}")
            shardings.append("{replicated}")
        else:  # column-sharded f32 matrix
            shapes.append(f"f32[512,{2048 + 128 * (i % 4)}]{{1,0:T(8,128){mem}}}")
            shardings.append(f"{{devices=[1,{partitions}]<=[{partitions}]}}")
            expect["sharded"] += 1
        names.append(f"Arg_{i}.{i + 1}")
    header = ("HloModule jit_bench_step, entry_computation_layout={("
              + ", ".join(shapes) + ")->f32[]{:T(128)}}, "
              f"num_partitions={partitions}\n\n")
    plain = [s.split("{")[0] for s in shapes]
    lines = [header,
             "ENTRY %main (" + ", ".join(f"{names[i]}: {plain[i]}" for i in range(n))
             + ") -> f32[] {\n"]
    for i in range(n):
        lines.append(f"  %{names[i]} = {shapes[i]} parameter({i}), "
                     f"sharding={shardings[i]}\n")
    lines.append("  ROOT %c = f32[]{:T(128)} constant(0)\n}\n")
    return "".join(lines), expect


def run(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.decode()}")
    return dt


def fmt(ts):
    return (f"{statistics.median(ts) * 1e3:8.1f} ms  "
            f"({min(ts) * 1e3:.1f}..{max(ts) * 1e3:.1f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xlayout", required=True)
    ap.add_argument("--params", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        a_path, b_path = os.path.join(d, "a.hlo"), os.path.join(d, "b.hlo")
        a_text, _ = make_program(args.params, 4, False)
        b_text, expect = make_program(args.params, 8, True)
        open(a_path, "w").write(a_text)
        open(b_path, "w").write(b_text)
        out = subprocess.run([args.xlayout, "diff", a_path, b_path],
                             capture_output=True, text=True)
        if out.returncode != 1:
            sys.exit(f"diff exited {out.returncode}: {out.stderr}")
        summary = next(l for l in out.stdout.splitlines()
                       if l.startswith("Summary"))
        want_sharding = f"{expect['sharded']:,} changed sharding"
        want_memory = f"{expect['memory']:,} changed memory kind"
        for want in (want_sharding, want_memory,
                     f"{expect['tiling']:,}: tiling (8,128)(2,1)→(16,128)(2,1)",
                     f"{expect['swap']:,}: dims 1↔2 swapped"):
            if want not in summary:
                sys.exit(f"summary lacks '{want}': {summary}")
        sizes = os.path.getsize(a_path) + os.path.getsize(b_path)
        reads, diffs, jsons = [], [], []
        for _ in range(args.reps):
            reads.append(run([args.xlayout, "signature", a_path]) +
                         run([args.xlayout, "signature", b_path]))
            diffs.append(run([args.xlayout, "diff", a_path, b_path]))
            jsons.append(run([args.xlayout, "diff", "--json", a_path, b_path]))
        print(f"{args.params:,} parameters per program, {sizes / 2**20:.1f} MiB "
              f"of HLO, {args.reps} reps, median (min..max)")
        print(f"  signature A + signature B  {fmt(reads)}")
        print(f"  diff A B                   {fmt(diffs)}")
        print(f"  diff --json A B            {fmt(jsons)}")
        print(f"  {summary}")


if __name__ == "__main__":
    main()
