#!/usr/bin/env python3
"""CLI-level relayout benchmark: `xlayout relayout IN OUT` against the copy
floor `cat IN > A` + `cat B > C` (B a file of the output's size), on tmpfs.

For each of the 7 cases of bench/relayout_bench.cc it creates the input file
(random bytes) in --dir, then repeats, interleaved: cat of the input, cat of
an output-sized file, relayout. Each output is deleted before the next run,
outside the timed region. Prints per case the ratio
relayout / (cat in + cat out) as median and spread (min..max) over the
repetitions, and the relayout's peak RSS (wait4 rusage of the child).

  bench/relayout_cli_bench.py --xlayout build/release/tools/xlayout
  bench/relayout_cli_bench.py --small --reps 5     # 256 MiB cases

Goal (issue 9): ratio <= 1.5 on every case, one thread.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# name, large shape (about 1 GiB in, working sets well above the 384 MiB
# L3), small shape (256 MiB), target layout: as bench/relayout_bench.cc.
CASES = [
    ("1_e0102_bf16_3d", "bf16[4096,1280,40]{1,2,0:T(8,128)(2,1)}",
     "bf16[256,1280,40]{1,2,0:T(8,128)(2,1)}", "{2,1,0:T(8,128)(2,1)}"),
    ("2_f32_transpose", "f32[16384,16384]{1,0}", "f32[8192,8192]{1,0}",
     "{0,1}"),
    ("3_f32_tile_8x128", "f32[16384,16384]{1,0}", "f32[8192,8192]{1,0}",
     "{1,0:T(8,128)}"),
    ("4_bf16_tile_2x1", "bf16[16384,32768]{1,0}", "bf16[8192,8192]{1,0}",
     "{1,0:T(8,128)(2,1)}"),
    ("5_s8_transposed_tile_4x1", "s8[32768,32768]{1,0}", "s8[8192,8192]{1,0}",
     "{0,1:T(8,128)(4,1)}"),
    ("6_s4_packed_tile", "s4[32768,65536]{1,0:E(4)}",
     "s4[8192,8192]{1,0:E(4)}", "{1,0:T(64,128)(8,1)E(4)}"),
    ("7_f32_rank5_permute", "f32[256,32,64,16,32]{4,3,2,1,0}",
     "f32[64,32,64,16,32]{4,3,2,1,0}", "{2,4,0,3,1}"),
]


def find_key(j, key):
    if isinstance(j, dict):
        if key in j:
            return j[key]
        j = list(j.values())
    if isinstance(j, list):
        for v in j:
            r = find_key(v, key)
            if r is not None:
                return r
    return None


def run(argv, stdout=subprocess.DEVNULL):
    """Runs argv; returns (seconds, peak RSS KiB). Raises on failure."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({p.returncode}): {err}")
    return seconds, usage.ru_maxrss


def cat(src, dst):
    with open(dst, "wb") as f:
        return run(["cat", src], stdout=f)[0]


def make_file(path, size):
    with open(path, "wb") as f:
        left = size
        block = os.urandom(1 << 24)
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--xlayout", default=os.environ.get(
        "XLAYOUT", "build/release/tools/xlayout"))
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--small", action="store_true",
                    help="256 MiB cases instead of about 1 GiB")
    ap.add_argument("--cases", default="", help="comma-separated case numbers")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    wanted = {int(c) for c in args.cases.split(",") if c}
    work = os.path.join(args.dir, f"xlayout-cli-bench-{os.getpid()}")
    os.makedirs(work)
    print(f"# {args.xlayout} relayout on {args.dir}, {args.threads} thread(s),"
          f" {args.reps} interleaved repetitions; ratio = relayout / "
          f"(cat IN > A + cat B > C), B of the output's size")
    print(f"{'case':<26} {'in MiB':>7} {'out MiB':>7} {'cat in':>7} "
          f"{'cat out':>7} {'relayout':>8} {'ratio':>6} {'spread':>12} "
          f"{'RSS MiB':>8}")
    worst = 0.0
    try:
        for i, (name, large, small, to) in enumerate(CASES, 1):
            if wanted and i not in wanted:
                continue
            shape = small if args.small else large
            size_json = subprocess.run(
                [args.xlayout, "size", "--json", shape], check=True,
                capture_output=True).stdout
            in_bytes = find_key(json.loads(size_json), "exact_bytes")
            src = os.path.join(work, "in.bin")
            out = os.path.join(work, "out.bin")
            make_file(src, in_bytes)
            argv = [args.xlayout, "relayout", "--no-progress", "--threads",
                    str(args.threads), "--shape", shape, "--to", to, src, out]
            run(argv)  # Warm-up; its output is the output-sized cat source.
            out_src = os.path.join(work, "out_src.bin")
            os.rename(out, out_src)
            out_bytes = os.path.getsize(out_src)
            ratios, rss, t_in, t_out, t_rel = [], 0, [], [], []
            for _ in range(args.reps):
                a = os.path.join(work, "a.bin")
                t_in.append(cat(src, a))
                os.unlink(a)
                t_out.append(cat(out_src, a))
                os.unlink(a)
                seconds, peak = run(argv)
                os.unlink(out)
                t_rel.append(seconds)
                rss = max(rss, peak)
                ratios.append(seconds / (t_in[-1] + t_out[-1]))
            med = statistics.median(ratios)
            worst = max(worst, med)
            print(f"{name:<26} {in_bytes / 2**20:7.0f} {out_bytes / 2**20:7.0f}"
                  f" {statistics.median(t_in):7.3f} "
                  f"{statistics.median(t_out):7.3f} "
                  f"{statistics.median(t_rel):8.3f} {med:6.2f} "
                  f"{min(ratios):5.2f}..{max(ratios):<5.2f} {rss / 1024:8.0f}",
                  flush=True)
            for f in (src, out_src):
                os.unlink(f)
    finally:
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)
    print(f"# worst median ratio {worst:.2f} (goal <= 1.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
