#!/usr/bin/env python3
"""`xlayout check` on a program with many parameters and a matching checkpoint.

Generates, in a temporary directory (tmpfs: /dev/shm by default):
  prog.hlo   an HLO text dump of module jit_bench whose ENTRY takes --params
             parameters (a mix of tiled, transposed, 1-D and scalar shapes),
             with an entry_computation_layout header like XLA's;
  model.npz  one small array per parameter (numpy);
  ck/        `xlayout import model.npz --program prog.hlo -o ck`: a checkpoint
             bound to the program and stored in its layouts.
Then times, interleaved, --reps runs of each of
  xlayout check --program prog.hlo --checkpoint ck --json > /dev/null
  xlayout check --program prog.hlo --checkpoint ck        > /dev/null  (text)
  xlayout inspect ck --json > /dev/null       (reading the manifest alone)
  xlayout signature prog.hlo --json > /dev/null   (reading the program alone)
and prints the median wall time (min..max) and user+sys CPU time of each
(CPU time is less sensitive to a loaded machine), and check over inspect.
The first check run must exit 0 with every parameter ok.

  bench/check_bench.py --xlayout build/release/tools/xlayout
  bench/check_bench.py --xlayout ... --params 100000 --reps 5
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

# (numpy dtype, dims, XLA element type, layout)
SHAPES = [
    ("<f4", (8, 128), "f32", "{1,0:T(8,128)}"),
    ("<f4", (64, 64), "f32", "{0,1:T(8,128)}"),
    ("<f4", (256,), "f32", "{0:T(256)}"),
    ("<i4", (16,), "s32", "{0}"),
    ("<f4", (3, 5, 7), "f32", "{2,1,0:T(8,128)}"),
    ("<f4", (), "f32", "{:T(128)}"),
]


def shape_text(xla, dims, layout):
    return f"{xla}[{','.join(str(d) for d in dims)}]{layout}"


def generate(work, n):
    params = [SHAPES[i % len(SHAPES)] for i in range(n)]
    shapes = [shape_text(x, d, l) for _, d, x, l in params]
    with open(os.path.join(work, "prog.hlo"), "w") as f:
        f.write("HloModule jit_bench, entry_computation_layout={(")
        f.write(", ".join(shapes))
        f.write(")->f32[]{:T(128)}}\n\n")
        decls = ", ".join(
            f"p{i}: {shape_text(x, d, '')}" for i, (_, d, x, _) in enumerate(params))
        f.write(f"ENTRY %main ({decls}) -> f32[] {{\n")
        for i, s in enumerate(shapes):
            f.write(f"  %p{i} = {s} parameter({i})\n")
        f.write("  ROOT %c = f32[]{:T(128)} constant(0)\n}\n")
    arrays = {f"p{i}": np.full(d, i % 251, dtype=t) for i, (t, d, _, _) in enumerate(params)}
    np.savez(os.path.join(work, "model.npz"), **arrays)


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def timed(cmd, expect_rc=0):
    """(wall seconds, user+sys CPU seconds) of one run of cmd."""
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    dc = cpu_seconds() - c0
    if r.returncode != expect_rc:
        sys.exit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.decode()}")
    return dt, dc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xlayout", required=True)
    ap.add_argument("--params", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=11)
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    a = ap.parse_args()
    x = os.path.abspath(a.xlayout)
    work = tempfile.mkdtemp(prefix="xlayout_check_bench.", dir=a.dir)
    try:
        t0 = time.perf_counter()
        generate(work, a.params)
        hlo = os.path.join(work, "prog.hlo")
        ck = os.path.join(work, "ck")
        subprocess.run([x, "import", os.path.join(work, "model.npz"), "--program", hlo,
                        "-o", ck, "--no-progress"], check=True, stdout=subprocess.DEVNULL)
        print(f"generated {a.params} parameters: prog.hlo {os.path.getsize(hlo):,} bytes, "
              f"manifest.json {os.path.getsize(os.path.join(ck, 'manifest.json')):,} bytes "
              f"({time.perf_counter() - t0:.1f} s)")
        r = subprocess.run([x, "check", "--program", hlo, "--checkpoint", ck, "--json"],
                           capture_output=True, check=False)
        if r.returncode != 0:
            sys.exit(f"check: exit {r.returncode}: {r.stderr.decode()}")
        j = json.loads(r.stdout)
        if j["counts"]["ok"] != a.params or not j["ok"]:
            sys.exit(f"check: not every parameter ok: {j['counts']}")
        runs = {
            "check --json": [x, "check", "--program", hlo, "--checkpoint", ck, "--json"],
            "check (text)": [x, "check", "--program", hlo, "--checkpoint", ck],
            "inspect --json (manifest alone)": [x, "inspect", ck, "--json"],
            "signature --json (program alone)": [x, "signature", hlo, "--json"],
        }
        wall = {k: [] for k in runs}
        cpu = {k: [] for k in runs}
        for _ in range(a.reps):
            for k, cmd in runs.items():
                w, c = timed(cmd)
                wall[k].append(w)
                cpu[k].append(c)
        print(f"{a.reps} runs each, per run: wall time median (min..max), "
              f"user+sys CPU median; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        for k in runs:
            w, c = wall[k], cpu[k]
            print(f"  {k:34s} {statistics.median(w) * 1e3:8.1f} ms "
                  f"({min(w) * 1e3:.1f}..{max(w) * 1e3:.1f})  "
                  f"cpu {statistics.median(c) * 1e3:7.1f} ms")
        base = "inspect --json (manifest alone)"
        for what, d in (("wall", wall), ("cpu", cpu)):
            print(f"check --json / inspect --json ({what}): "
                  f"{statistics.median(d['check --json']) / statistics.median(d[base]):.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
