#!/usr/bin/env python3
"""`xlayout explain` on a large log without messages, against grep.

Writes a glog-style training log (default 1 GiB) that holds no message
`explain` reports, then repeats, interleaved:

  grep -c ZZZ LOG                      (a literal grep skips through fastest)
  grep -c 'expected parameter' LOG     (one E0102 phrase)
  grep -c -F -f PHRASES LOG            (grep doing explain's job: every
                                        phrase the scanners look for)
  xlayout explain LOG                  (the whole command: reading, the
                                        message scanner, the OOM scanner)

and prints, per grep, explain's throughput relative to it (grep time /
explain time) as min / median / max over the rounds (issue 13's goal is
>= 0.5x grep -c). With --memory every line also says "memory" (a logger
of memory statistics), which the out-of-memory scanner must look at.

  bench/explain_cli_bench.py --xlayout build/release/tools/xlayout
  bench/explain_cli_bench.py --xlayout ... --memory --reps 5
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

# Every phrase explain's scanners start from (log_scanner.cc's anchors and
# the out-of-memory scanner's triggers).
PHRASES = [
    "expected parameter", "incompatible size", "incompatible shape",
    "unexpected memory space", "does not match host shape",
    "compiled program expected", "RuntimeProgramInputMismatch",
    "Run-time shape mismatch", "TPUExecute argument", "compiled for input",
    "of arguments passed to it", "compiled object was called with",
    "Invalid buffer passed", "passed to Execute()",
    "Array has been deleted with", "minor_to_major field contains",
    "Mosaic kernel operand", "does not match Mosaic layout",
    "does not match MLIR layout", "Oom", "OOM", "ut of memory",
    "exceed memory", "memory in memory space",
]


def write_log(path, size, memory):
    lines = []
    step = 0
    block = 0
    with open(path, "w") as f:
        while f.tell() < size:
            lines.clear()
            for _ in range(100000):
                step += 1
                t = step % 86400
                line = (f"I1130 {t // 3600:02d}:{t // 60 % 60:02d}:"
                        f"{t % 60:02d}.{step * 7919 % 1000000:06d} "
                        f"{1000 + step % 64:5d} train.py:{88 + step % 7}] "
                        f"step {step} loss={(step * 37 % 10007) / 4003:.4f} "
                        f"lr={(step % 1000) * 3e-7:.6f} "
                        f"tokens/s={(step * 131) % 900000 / 7:.1f} "
                        f"grad_norm={(step * 17 % 997) / 331:.3f}")
                if memory:
                    line += (f" hbm memory used {(step * 13) % 160 / 10:.1f}G"
                             f" of 16.0G")
                lines.append(line)
            f.write("\n".join(lines) + "\n")
            block += 1
    return os.path.getsize(path)


def timed(cmd, ok=(0,)):
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if p.returncode not in ok:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n"
                 f"{p.stderr.decode(errors='replace')}")
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xlayout", required=True)
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--memory", action="store_true")
    args = ap.parse_args()

    log = os.path.join(args.dir, f"xlayout-explain-bench-{os.getpid()}.log")
    phrases = log + ".phrases"
    try:
        size = write_log(log, args.size_mib << 20, args.memory)
        with open(phrases, "w") as f:
            f.write("\n".join(PHRASES) + "\n")
        # No finding: explain exits 0 and grep -c exits 1 (no line matched).
        explain = [args.xlayout, "explain", log]
        greps = {
            "grep -c ZZZ": ["grep", "-c", "ZZZ", log],
            "grep -c 'expected parameter'":
                ["grep", "-c", "expected parameter", log],
            "grep -c -F -f PHRASES": ["grep", "-c", "-F", "-f", phrases, log],
        }
        timed(["cat", log])  # Warm the page cache.
        times = {name: [] for name in greps}
        times["explain"] = []
        for _ in range(args.reps):
            for name, cmd in greps.items():
                times[name].append(timed(cmd, ok=(1,)))
            times["explain"].append(timed(explain))
        gb = size / 1e9
        print(f"log: {size / 2**20:.0f} MiB, "
              f"{'a memory figure on every line' if args.memory else 'no'}"
              f"{'' if args.memory else ' memory words'}; {args.reps} rounds")
        e = times["explain"]
        print(f"  {'xlayout explain':32s} {gb / statistics.median(e):6.2f} "
              f"GB/s (median)")
        for name in greps:
            g = times[name]
            ratios = sorted(gt / et for gt, et in zip(g, e))
            print(f"  {name:32s} {gb / statistics.median(g):6.2f} GB/s; "
                  f"explain = {ratios[0]:.2f} / "
                  f"{statistics.median(ratios):.2f} / {ratios[-1]:.2f}x "
                  f"(min / median / max)")
        print(f"  load average: {os.getloadavg()[0]:.1f}")
    finally:
        for p in (log, phrases):
            if os.path.exists(p):
                os.remove(p)


if __name__ == "__main__":
    main()
