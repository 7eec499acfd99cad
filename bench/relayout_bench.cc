// Relayout throughput on the seven cases against memcpy of the same
// byte count, measured so that the figures hold up on a noisy shared VM:
//
//   - working sets well above the last-level cache: by default each case's
//     input is about 1 GiB (case 1, whose output is 3.2x its input, has a
//     400 MiB input and a 1.25 GiB output); --size=small runs the older
//     256 MiB shapes;
//   - memcpy and relayout repetitions interleaved in one run (the order
//     alternates each round), so a change in machine load hits both;
//   - the ratio of each round (memcpy time / relayout time: both move the
//     same bytes) reported as min / median / max over the rounds;
//   - "cpu share": the lowest, over all timed runs, of the CPU time the
//     process got over the wall time (per working thread). Below ~0.95 the
//     scheduler took the core away during a run: that run measured the
//     machine's load, not the code.
//
//   bench/relayout_bench [--cases=1,2] [--rounds=7] [--threads=1,2]
//                        [--size=large|small] [--plans] [--json=FILE]
//                        [--min-chunk=BYTES] [--stream-from=BYTES]
//                        [--isa=auto|sse2|avx2|avx512]
//                        [--from=SHAPE --to=LAYOUT]  (one other conversion)
//
// --min-chunk, --stream-from and --isa set RelayoutOptions' min_chunk_bytes,
// streaming_store_threshold_bytes and isa (defaults: the plan's choice,
// 16 MiB, XLAYOUT_RELAYOUT_ISA or the best the CPU has).
//
// Bytes counted are read + written. The memcpy baseline copies
// (in + out) / 2 bytes, so both move the same number of bytes; it reuses
// the relayout buffers (same pages). With --threads=2 the baseline is
// memcpy on 2 threads (halves), and relayout runs on RelayoutThreadPool.
// XLAYOUT_BENCH_HUGEPAGES=1 asks for transparent huge pages for the buffers.
// --json writes the medians in the shape bench/relayout_numpy.py
// --bench-json reads.
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "xlayout/relayout.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

struct Case {
  const char* name;
  const char* large;  // About 1 GiB in (case 1: 400 MiB in, 1.25 GiB out).
  const char* small;  // The 256 MiB shapes of earlier figures.
  const char* to_layout;
};

const Case kCases[] = {
    {"1_e0102_bf16_3d", "bf16[4096,1280,40]{1,2,0:T(8,128)(2,1)}",
     "bf16[256,1280,40]{1,2,0:T(8,128)(2,1)}", "{2,1,0:T(8,128)(2,1)}"},
    {"2_f32_transpose", "f32[16384,16384]{1,0}", "f32[8192,8192]{1,0}",
     "{0,1}"},
    {"3_f32_tile_8x128", "f32[16384,16384]{1,0}", "f32[8192,8192]{1,0}",
     "{1,0:T(8,128)}"},
    {"4_bf16_tile_2x1", "bf16[16384,32768]{1,0}", "bf16[8192,8192]{1,0}",
     "{1,0:T(8,128)(2,1)}"},
    {"5_s8_transposed_tile_4x1", "s8[32768,32768]{1,0}", "s8[8192,8192]{1,0}",
     "{0,1:T(8,128)(4,1)}"},
    {"6_s4_packed_tile", "s4[32768,65536]{1,0:E(4)}", "s4[8192,8192]{1,0:E(4)}",
     "{1,0:T(64,128)(8,1)E(4)}"},
    {"7_f32_rank5_permute", "f32[256,32,64,16,32]{4,3,2,1,0}",
     "f32[64,32,64,16,32]{4,3,2,1,0}", "{2,4,0,3,1}"},
};

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is KiB on Linux.
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

struct Free {
  void operator()(uint8_t* p) const { std::free(p); }
};
using BufferPtr = std::unique_ptr<uint8_t[], Free>;

// Page-backed, touched buffers (first-touch faults stay out of timings).
BufferPtr Buffer(int64_t bytes, bool huge) {
  constexpr int64_t kHuge = 2 << 20;
  const int64_t size =
      (std::max<int64_t>(bytes, 1) + kHuge - 1) / kHuge * kHuge;
  BufferPtr b(static_cast<uint8_t*>(std::aligned_alloc(kHuge, size)));
  if (b == nullptr) {
    std::fprintf(stderr, "cannot allocate %lld bytes\n",
                 static_cast<long long>(size));
    std::exit(1);
  }
  if (huge) madvise(b.get(), size, MADV_HUGEPAGE);
  for (int64_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(i * 131 >> 7);
  return b;
}

void Memcpy(uint8_t* dst, const uint8_t* src, int64_t n, int threads) {
  if (threads == 1) {
    std::memcpy(dst, src, n);
    return;
  }
  const int64_t part = n / threads / 64 * 64;
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    const int64_t lo = part * t, hi = t + 1 == threads ? n : part * (t + 1);
    pool.emplace_back([=] { std::memcpy(dst + lo, src + lo, hi - lo); });
  }
  std::memcpy(dst, src, part);
  for (std::thread& t : pool) t.join();
}

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Wall time of f(), and the CPU time the process got meanwhile (per thread
// of work: with `threads` threads busy, cpu / threads / wall is the share
// of the run the threads were on a core).
template <typename F>
std::pair<double, double> Time(F&& f) {
  const double cpu0 = ProcessCpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  f();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return {wall, ProcessCpuSeconds() - cpu0};
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double at = q * (v.size() - 1);
  const size_t i = static_cast<size_t>(at);
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (at - i) * (v[i + 1] - v[i]);
}

struct Result {
  std::string name;
  int threads = 1;
  double relayout_rate = 0;  // Median bytes/s.
};

int Run(int argc, char** argv) {
  std::vector<int> cases, thread_counts{1};
  int rounds = 7;
  bool small = false, plans = false;
  std::string json;
  RelayoutOptions options;
  std::string custom_from, custom_to = "{0,1}";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const size_t n = std::strlen(flag);
      return arg.compare(0, n, flag) == 0 ? argv[i] + n : nullptr;
    };
    auto ints = [](const char* text) {
      std::vector<int> out;
      for (absl::string_view s : absl::StrSplit(text, ',')) {
        int v = 0;
        if (!absl::SimpleAtoi(s, &v)) {
          std::fprintf(stderr, "not a number: %s\n", std::string(s).c_str());
          std::exit(2);
        }
        out.push_back(v);
      }
      return out;
    };
    if (const char* v = value("--cases=")) {
      cases = ints(v);
    } else if (const char* v = value("--threads=")) {
      thread_counts = ints(v);
    } else if (const char* v = value("--rounds=")) {
      rounds = std::max(1, ints(v)[0]);
    } else if (const char* v = value("--size=")) {
      small = std::string(v) == "small";
    } else if (const char* v = value("--json=")) {
      json = v;
    } else if (const char* v = value("--min-chunk=")) {
      options.min_chunk_bytes = ints(v)[0];
    } else if (const char* v = value("--from=")) {
      custom_from = v;
    } else if (const char* v = value("--to=")) {
      custom_to = v;
    } else if (const char* v = value("--isa=")) {
      absl::StatusOr<RelayoutIsa> isa = ParseRelayoutIsa(v);
      if (!isa.ok()) {
        std::fprintf(stderr, "%s\n", isa.status().ToString().c_str());
        return 2;
      }
      options.isa = *isa;
    } else if (const char* v = value("--stream-from=")) {
      options.streaming_store_threshold_bytes = std::atoll(v);
    } else if (arg == "--plans") {
      plans = true;
    } else {
      std::fprintf(stderr,
                   "usage: relayout_bench [--cases=1,2] [--rounds=N] "
                   "[--threads=1,2] [--size=large|small] [--plans] "
                   "[--json=FILE]\n");
      return 2;
    }
  }
  const bool huge = std::getenv("XLAYOUT_BENCH_HUGEPAGES") != nullptr;
  std::printf("load average at start: %s; %d rounds, %s sizes%s\n",
              LoadAverage().c_str(), rounds, small ? "small" : "large",
              huge ? ", huge pages" : "");
  std::printf("%-26s %3s %8s %8s %9s %9s  %s  %s\n", "case", "thr", "MiB_in",
              "MiB_out", "memcpy", "relayout", "x memcpy: min / median / max",
              "cpu share");
  std::vector<Result> results;
  std::vector<Case> all(std::begin(kCases), std::end(kCases));
  if (!custom_from.empty()) {
    all = {Case{"custom", custom_from.c_str(), custom_from.c_str(),
                custom_to.c_str()}};
    cases.clear();
  }
  for (int ci = 0; ci < static_cast<int>(all.size()); ++ci) {
    if (!cases.empty() &&
        std::find(cases.begin(), cases.end(), ci + 1) == cases.end()) {
      continue;
    }
    const Case& c = all[ci];
    absl::StatusOr<Shape> from = ParseShape(small ? c.small : c.large);
    absl::StatusOr<Layout> to_layout = ParseLayout(c.to_layout);
    if (!from.ok() || !to_layout.ok()) {
      std::fprintf(stderr, "%s: bad case\n", c.name);
      return 1;
    }
    Shape to = *from;
    to.set_layout(*to_layout);
    absl::StatusOr<std::unique_ptr<RelayoutPlan>> plan =
        RelayoutPlan::Create(*from, to, options);
    if (!plan.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name,
                   plan.status().ToString().c_str());
      return 1;
    }
    const RelayoutPlan& p = **plan;
    if (plans) std::printf("%s", p.DebugString().c_str());
    const int64_t in = p.input_bytes(), out = p.output_bytes();
    const int64_t n = (in + out) / 2;
    BufferPtr src = Buffer(std::max(in, n), huge);
    BufferPtr dst = Buffer(std::max(out, n), huge);
    absl::Span<const uint8_t> in_span(src.get(), in);
    absl::Span<uint8_t> out_span(dst.get(), out);
    for (int threads : thread_counts) {
      std::unique_ptr<RelayoutThreadPool> pool;
      if (threads > 1) pool = std::make_unique<RelayoutThreadPool>(threads - 1);
      auto relayout = [&] {
        return Time([&] {
          absl::Status s =
              pool == nullptr ? p.Execute(in_span, out_span)
                              : p.Execute(in_span, out_span, pool->Scheduler());
          if (!s.ok()) {
            std::fprintf(stderr, "%s: %s\n", c.name, s.ToString().c_str());
            std::exit(1);
          }
        });
      };
      auto copy = [&] {
        return Time([&] { Memcpy(dst.get(), src.get(), n, threads); });
      };
      copy();  // Warm-up of both.
      relayout();
      std::vector<double> tm, tr, ratio, share;
      for (int r = 0; r < rounds; ++r) {
        std::pair<double, double> m, x;
        if (r % 2 == 0) {
          m = copy();
          x = relayout();
        } else {
          x = relayout();
          m = copy();
        }
        tm.push_back(m.first);
        tr.push_back(x.first);
        ratio.push_back(m.first / x.first);
        share.push_back(std::min(m.second / m.first, x.second / x.first) /
                        threads);
      }
      const double moved = 2.0 * n;
      const double copy_rate = moved / Quantile(tm, 0.5);
      const double relayout_rate = moved / Quantile(tr, 0.5);
      std::printf(
          "%-26s %3d %8.0f %8.0f %7.2fGB/s %7.2fGB/s  %.2f / %.2f / %.2f"
          "    %.2f\n",
          c.name, threads, in / 1048576.0, out / 1048576.0, copy_rate / 1e9,
          relayout_rate / 1e9, Quantile(ratio, 0), Quantile(ratio, 0.5),
          Quantile(ratio, 1), Quantile(share, 0));
      std::fflush(stdout);
      results.push_back(Result{c.name, threads, relayout_rate});
    }
  }
  std::printf("load average at end: %s; peak RSS %.0f MiB\n",
              LoadAverage().c_str(), PeakRssMiB());
  if (!json.empty()) {
    std::ofstream f(json);
    f << "{\"benchmarks\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      f << (i ? ",\n" : "\n") << "  {\"name\": \"relayout/" << results[i].name
        << "/threads:" << results[i].threads
        << "\", \"run_type\": \"aggregate\", \"aggregate_name\": \"median\", "
           "\"bytes_per_second\": "
        << results[i].relayout_rate << "}";
    }
    f << "\n]}\n";
  }
  return 0;
}

}  // namespace
}  // namespace xlayout

int main(int argc, char** argv) { return xlayout::Run(argc, argv); }
