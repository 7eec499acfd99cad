// Relayout throughput on the seven cases, each against memcpy of the
// same byte count measured in the same run.
//
//   bench/relayout_bench [--benchmark_filter=...]
//
// bytes_per_second counts bytes read + written. For every case the memcpy
// baseline copies (in + out) / 2 bytes, so both move the same number of
// bytes; `x_memcpy` is relayout throughput / memcpy throughput (1 thread).
// `x_1thread` is the 2-thread run over the 1-thread run; `x_memcpy_2t` the
// 2-thread run over memcpy on 2 threads (the bandwidth two cores get).
// `peak_rss_MiB` is the process's peak RSS so far (getrusage).
// XLAYOUT_BENCH_HUGEPAGES=1 asks for transparent huge pages for every buffer.
#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "xlayout/relayout.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

struct Case {
  const char* name;
  const char* from;
  const char* to_layout;
};

const Case kCases[] = {
    {"1_e0102_bf16_3d", "bf16[256,1280,40]{1,2,0:T(8,128)(2,1)}",
     "{2,1,0:T(8,128)(2,1)}"},
    {"2_f32_transpose", "f32[8192,8192]{1,0}", "{0,1}"},
    {"3_f32_tile_8x128", "f32[8192,8192]{1,0}", "{1,0:T(8,128)}"},
    {"4_bf16_tile_2x1", "bf16[8192,8192]{1,0}", "{1,0:T(8,128)(2,1)}"},
    {"5_s8_transposed_tile_4x1", "s8[8192,8192]{1,0}", "{0,1:T(8,128)(4,1)}"},
    {"6_s4_packed_tile", "s4[8192,8192]{1,0:E(4)}", "{1,0:T(64,128)(8,1)E(4)}"},
    {"7_f32_rank5_permute", "f32[64,32,64,16,32]{4,3,2,1,0}", "{2,4,0,3,1}"},
};

std::map<std::string, double>& MemcpyRate() {
  static auto* rates = new std::map<std::string, double>();
  return *rates;
}

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is KiB on Linux.
}

// Page-backed, touched buffers (first-touch faults stay out of timings).
// With XLAYOUT_BENCH_HUGEPAGES=1 the buffers (memcpy's too) ask for
// transparent huge pages, which removes most TLB misses of strided access.
struct Free {
  void operator()(uint8_t* p) const { std::free(p); }
};
using BufferPtr = std::unique_ptr<uint8_t[], Free>;

BufferPtr Buffer(int64_t bytes, uint8_t fill) {
  constexpr int64_t kHuge = 2 << 20;
  const int64_t size =
      (std::max<int64_t>(bytes, 1) + kHuge - 1) / kHuge * kHuge;
  BufferPtr b(static_cast<uint8_t*>(std::aligned_alloc(kHuge, size)));
  static const bool huge = std::getenv("XLAYOUT_BENCH_HUGEPAGES") != nullptr;
  if (huge) madvise(b.get(), size, MADV_HUGEPAGE);
  std::memset(b.get(), fill, bytes);
  return b;
}

struct Prepared {
  Shape from, to;
  std::unique_ptr<RelayoutPlan> plan;
};

Prepared Prepare(const Case& c, int threads) {
  Prepared p;
  p.from = *ParseShape(c.from);
  p.to = p.from;
  p.to.set_layout(*ParseLayout(c.to_layout));
  p.plan = *RelayoutPlan::Create(p.from, p.to, {.threads = threads});
  return p;
}

// memcpy on 1 or 2 threads (halves; a thread per run, as Execute does):
// the 2-thread rate shows how much bandwidth a second core adds.
void BM_Memcpy(benchmark::State& state, const Case& c) {
  const int threads = static_cast<int>(state.range(0));
  Prepared p = Prepare(c, 1);
  const int64_t n = (p.plan->input_bytes() + p.plan->output_bytes()) / 2;
  auto src = Buffer(n, 1), dst = Buffer(n, 0);
  const int64_t half = n / 2 / 64 * 64;
  for (auto _ : state) {
    if (threads == 1) {
      std::memcpy(dst.get(), src.get(), n);
    } else {
      std::thread other(
          [&] { std::memcpy(dst.get() + half, src.get() + half, n - half); });
      std::memcpy(dst.get(), src.get(), half);
      other.join();
    }
    benchmark::DoNotOptimize(dst.get());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 * n);
  state.counters["peak_rss_MiB"] = PeakRssMiB();
}

void BM_Relayout(benchmark::State& state, const Case& c) {
  const int threads = static_cast<int>(state.range(0));
  Prepared p = Prepare(c, threads);
  auto src = Buffer(p.plan->input_bytes(), 3);
  auto dst = Buffer(p.plan->output_bytes(), 0);
  absl::Span<const uint8_t> in(src.get(), p.plan->input_bytes());
  absl::Span<uint8_t> out(dst.get(), p.plan->output_bytes());
  for (auto _ : state) {
    absl::Status s = p.plan->Execute(in, out);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() *
                          (p.plan->input_bytes() + p.plan->output_bytes()));
  state.counters["peak_rss_MiB"] = PeakRssMiB();
  state.counters["MiB_in"] = p.plan->input_bytes() / 1048576.0;
  state.counters["MiB_out"] = p.plan->output_bytes() / 1048576.0;
}

// Memcpy of each case runs right before the case, and a reporter computes
// the ratio from both results.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> copy = runs;
    for (Run& run : copy) {
      // With --benchmark_repetitions, ratios use single runs and medians.
      if (!run.aggregate_name.empty() && run.aggregate_name != "median") {
        continue;
      }
      const std::string name = run.benchmark_name();
      auto bps = run.counters.find("bytes_per_second");
      if (bps == run.counters.end()) continue;
      const double rate = bps->second.value;
      const bool two = name.find("threads:2") != std::string::npos;
      if (name.rfind("memcpy/", 0) == 0) {
        std::string key = name.substr(7, name.find('/', 7) - 7);
        MemcpyRate()[two ? key + "/2" : key] = rate;
      } else if (name.rfind("relayout/", 0) == 0) {
        std::string key = name.substr(9, name.find('/', 9) - 9);
        auto it = MemcpyRate().find(key);
        if (it != MemcpyRate().end() && it->second > 0) {
          run.counters["x_memcpy"] = benchmark::Counter(rate / it->second);
        }
        // 2 threads against memcpy on 2 threads: how close to the
        // bandwidth the second core adds.
        auto it2 = MemcpyRate().find(key + "/2");
        if (two && it2 != MemcpyRate().end() && it2->second > 0) {
          run.counters["x_memcpy_2t"] = benchmark::Counter(rate / it2->second);
        }
        if (name.find("threads:1") != std::string::npos) single_[key] = rate;
        auto one = single_.find(key);
        if (one != single_.end() && one->second > 0) {
          run.counters["x_1thread"] = benchmark::Counter(rate / one->second);
        }
      }
    }
    ConsoleReporter::ReportRuns(copy);
  }

 private:
  std::map<std::string, double> single_;
};

}  // namespace
}  // namespace xlayout

int main(int argc, char** argv) {
  using namespace xlayout;
  for (const Case& c : kCases) {
    benchmark::RegisterBenchmark(absl::StrCat("memcpy/", c.name).c_str(),
                                 BM_Memcpy, c)
        ->ArgName("threads")
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(absl::StrCat("relayout/", c.name).c_str(),
                                 BM_Relayout, c)
        ->ArgName("threads")
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
