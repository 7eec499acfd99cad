#include "xlayout/relayout_stream.h"

#include <algorithm>
#include <latch>
#include <utility>

#include "xlayout/status_macros.h"

namespace xlayout {

namespace {
int ClampThreads(int threads) { return std::clamp(threads, 1, 1024); }
int64_t ClampWindow(int64_t bytes) { return std::max<int64_t>(bytes, 4096); }
}  // namespace

RelayoutStreamer::RelayoutStreamer(int threads, int64_t window_bytes)
    : threads_(ClampThreads(threads)),
      window_bytes_(ClampWindow(window_bytes)) {}

void RelayoutStreamer::EnsureWorkers(int64_t wanted) {
  const int64_t cap = std::min<int64_t>(wanted, threads_ - 1);
  const int have = pool_ == nullptr ? 0 : pool_->workers();
  if (cap <= have) return;
  // Grown geometrically, so a run of windows that each want a few more
  // workers starts O(threads) of them in all. No work is queued between
  // windows: the old pool is idle when it is replaced.
  const int64_t workers = std::min<int64_t>(
      threads_ - 1, std::max<int64_t>(cap, int64_t{2} * have));
  pool_ = std::make_unique<RelayoutThreadPool>(static_cast<int>(workers));
}

RelayoutStreamer::~RelayoutStreamer() = default;

RelayoutOptions RelayoutStreamer::PlanOptionsFor(const RelayoutOptions& base,
                                                 int threads,
                                                 int64_t window_bytes) {
  threads = ClampThreads(threads);
  RelayoutOptions options = base;
  options.threads = threads;
  options.streaming_store_threshold_bytes = INT64_MAX;
  options.max_chunk_bytes =
      std::max<int64_t>(ClampWindow(window_bytes) / threads, 1);
  options.min_chunk_bytes =
      std::min(options.min_chunk_bytes, options.max_chunk_bytes);
  return options;
}

absl::Status RelayoutStreamer::Run(const RelayoutPlan& plan,
                                   const uint8_t* input, const ByteSink& sink,
                                   const RelayoutProgress& progress) {
  const int64_t chunks = plan.ChunkCount();
  // The window holds at least the largest chunk: a plan's granularity may
  // exceed max_chunk_bytes.
  int64_t capacity = std::min(window_bytes_, plan.output_bytes());
  for (int64_t i = 0; i < chunks; ++i) {
    auto [begin, end] = plan.ChunkOutputRange(i);
    capacity = std::max(capacity, end - begin);
  }
  if (static_cast<int64_t>(window_.size()) < capacity) {
    XLAYOUT_ASSIGN_OR_RETURN(
        window_, io::PageBuffer::Allocate(static_cast<size_t>(capacity),
                                          /*prefault=*/true));
  }
  uint8_t* const window = window_.data();
  for (int64_t first = 0; first < chunks;) {
    // As many consecutive chunks as fit in the window.
    const int64_t start = plan.ChunkOutputRange(first).first;
    int64_t last = first + 1;
    while (last < chunks &&
           plan.ChunkOutputRange(last).second - start <= capacity) {
      ++last;
    }
    const int64_t end = plan.ChunkOutputRange(last - 1).second;
    auto run = [&plan, input, window, start](int64_t i) {
      plan.ExecuteChunkToWindow(
          i, input, window + (plan.ChunkOutputRange(i).first - start));
    };
    if (threads_ > 1) EnsureWorkers(last - first - 1);
    if (pool_ == nullptr || last - first == 1) {
      for (int64_t i = first; i < last; ++i) run(i);
    } else {
      std::latch done(last - first - 1);
      ScheduleWork schedule = pool_->Scheduler();
      for (int64_t i = first + 1; i < last; ++i) {
        schedule([&run, &done, i] {
          run(i);
          done.count_down();
        });
      }
      run(first);
      done.wait();
    }
    XLAYOUT_RETURN_IF_ERROR(
        sink(absl::MakeConstSpan(window, static_cast<size_t>(end - start))));
    if (progress) progress(end, plan.output_bytes());
    first = last;
  }
  return absl::OkStatus();
}

}  // namespace xlayout
