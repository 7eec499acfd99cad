// The runner: chunks of a plan run through the box kernels; Execute and
// the thread pool that schedules them.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "relayout/bit_kernels.h"
#include "relayout/box.h"
#include "relayout/byte_kernels.h"
#include "relayout/kernel_util.h"
#include "relayout/plan.h"
#include "xlayout/physical_index.h"
#include "xlayout/relayout.h"

namespace xlayout {
namespace relayout_internal {
namespace {

// Runs one box with its loop `split` limited to iterations [lo, hi) (a
// chunk's part of the box; split < 0: the whole box).
struct Runner {
  const uint8_t* src;
  uint8_t* dst;
  const BitSides* bits;
  bool stream;  // Non-temporal stores for outputs far bigger than caches.
  Isa isa;
  int split = -1;
  int64_t lo = 0, hi = 0;

  // `origin`: the output offset (box units) that `dst` points at.
  void Run(const Box& box, int64_t origin) const {
    Nest(box, 0, box.src, box.dst - origin);
  }

  // Iterations of loop `depth` to run.
  std::pair<int64_t, int64_t> Range(const Box& box, size_t depth) const {
    if (static_cast<int>(depth) == split) return {lo, hi};
    return {0, box.loops[depth].n};
  }

  void Nest(const Box& box, size_t depth, int64_t so, int64_t dof) const {
    const size_t n = box.loops.size();
    const size_t kernel_depth =
        box.kernel == Kernel::kTranspose || box.kernel == Kernel::kBits
            ? (n < 2 ? 0 : n - 2)
            : (n == 0 ? 0 : n - 1);
    if (depth == kernel_depth) {
      Leaf(box, depth, so, dof);
      return;
    }
    const Loop& l = box.loops[depth];
    const auto [b, e] = Range(box, depth);
    if (box.kernel == Kernel::kTranspose && depth + 1 == kernel_depth) {
      // The loop right outside the kernel, without recursion.
      const Loop& lb = box.loops[depth + 1];
      const Loop& la = box.loops[depth + 2];
      const auto [b_lo, b_hi] = Range(box, depth + 1);
      box.plane(src + so + b * l.ss, dst + dof + b * l.ds, lb, la,
                Loop{e - b, l.ss, l.ds}, b_lo, b_hi, stream);
      return;
    }
    if (box.kernel == Kernel::kBits && depth + 1 == kernel_depth &&
        split <= static_cast<int>(depth)) {
      // Likewise: the sub-byte kernel's planes are only a few hundred bytes.
      const Loop& o = box.loops[depth + 1];
      const Loop& in = box.loops[depth + 2];
      if (bits->src_bits == 4 && bits->dst_bits == 4 &&
          Nibble8Rows(src, dst, so + b * l.ss, dof + b * l.ds, o, in,
                      Loop{e - b, l.ss, l.ds}, stream, isa)) {
        return;
      }
      for (int64_t i = b; i < e; ++i)
        BitPlane(src, dst, so + i * l.ss, dof + i * l.ds, o, in, *bits, isa);
      return;
    }
    for (int64_t i = b; i < e; ++i)
      Nest(box, depth + 1, so + i * l.ss, dof + i * l.ds);
  }

  void Leaf(const Box& box, size_t depth, int64_t so, int64_t dof) const {
    switch (box.kernel) {
      case Kernel::kCopy:
        if (box.loops.empty()) {
          std::memcpy(dst + dof, src + so, box.unit);
        } else {
          const Loop& l = box.loops[depth];
          const auto [b, e] = Range(box, depth);
          if (stream && box.unit % 64 == 0 && l.ds % 16 == 0 &&
              reinterpret_cast<uintptr_t>(dst + dof) % 16 == 0) {
            StreamRuns(src + so + b * l.ss, dst + dof + b * l.ds, e - b, l.ss,
                       l.ds, box.unit);
          } else {
            CopyLoop(src + so + b * l.ss, dst + dof + b * l.ds, e - b, l.ss,
                     l.ds, box.unit);
          }
        }
        return;
      case Kernel::kZero:
        if (box.loops.empty()) {
          std::memset(dst + dof, 0, box.unit);
        } else {
          const Loop& l = box.loops[depth];
          const auto [b, e] = Range(box, depth);
          ZeroLoop(dst + dof + b * l.ds, e - b, l.ds, box.unit);
        }
        return;
      case Kernel::kTranspose: {
        const Loop& lb = box.loops[depth];
        const Loop& la = box.loops[depth + 1];
        const auto [b, e] = Range(box, depth);
        box.plane(src + so, dst + dof, lb, la, Loop{1, 0, 0}, b, e, stream);
        return;
      }
      case Kernel::kBits: {
        // Up to two loops: [o, i] (or [i], or none); a split is on the first.
        Loop o{1, 0, 0}, i{1, 0, 0};
        if (box.loops.size() >= 2) {
          o = box.loops[depth];
          i = box.loops[depth + 1];
        } else if (box.loops.size() == 1) {
          i = box.loops[depth];
        }
        Loop& ranged_loop = box.loops.size() >= 2 ? o : i;
        int64_t b = 0, e = ranged_loop.n;
        if (!box.loops.empty()) std::tie(b, e) = Range(box, depth);
        const int64_t s0 = so + b * ranged_loop.ss,
                      d0 = dof + b * ranged_loop.ds;
        ranged_loop.n = e - b;
        BitPlane(src, dst, s0, d0, o, i, *bits, isa);
        return;
      }
    }
  }
};

// Element-wise slow path for one chunk: every destination slot of
// [begin, end) from its logical index (the reference's inverse map).
// `window` holds byte `begin` of the output at [0]; it was zeroed.
void RunElementwise(const RelayoutPlan::Impl& p, const uint8_t* src,
                    uint8_t* window, int64_t begin, int64_t end) {
  const int sbits = p.src.element_bits(), dbits = p.dst.element_bits();
  const int64_t first = begin * 8 / dbits;
  const int64_t last =
      std::min<int64_t>(end * 8 / dbits, p.dst.num_storage_elements());
  for (int64_t e = first; e < last; ++e) {
    std::optional<std::vector<int64_t>> index = p.dst.LogicalIndexAt(e);
    if (!index.has_value()) continue;  // Padding: zero already.
    const int64_t so = p.src.ElementOffset(*index);
    const int64_t dof = e - first;
    if (sbits >= 8 && dbits == sbits) {
      std::memcpy(window + dof * (dbits / 8), src + so * (sbits / 8),
                  sbits / 8);
    } else {
      const uint8_t v = ReadBits(src, so, sbits) & p.bits.mask;
      if (dbits >= 8) {
        window[dof] = v;
      } else {
        WritePackedElement(window, dof, dbits, v);
      }
    }
  }
}

}  // namespace

void RunChunk(const RelayoutPlan::Impl& p, int64_t i, const uint8_t* src,
              uint8_t* window) {
  const Chunk& c = p.chunks.chunks[i];
  const int64_t len = c.end - c.begin;
  if (p.zero_all_first) {
    std::memset(window, 0, len);
  } else if (p.tail_from < c.end) {
    const int64_t from = std::max(p.tail_from, c.begin);
    std::memset(window + (from - c.begin), 0, c.end - from);
  }
  if (p.mode == RelayoutPlan::Impl::Mode::kElementwise) {
    RunElementwise(p, src, window, c.begin, c.end);
    return;
  }
  // Box offsets are relative to the output; the window starts at c.begin
  // (elements for the sub-byte kernel: c.begin is a whole byte).
  const int64_t origin_bytes = c.begin;
  const int64_t origin_elements = c.begin * 8 / p.dst.element_bits();
  for (size_t k = c.first_item; k < c.end_item; ++k) {
    const ChunkItem& item = p.chunks.items[k];
    const Box& box = p.boxes[item.box];
    const Runner runner{src,   window,     &p.bits, p.stream,
                        p.isa, item.split, item.lo, item.hi};
    runner.Run(box,
               box.kernel == Kernel::kBits ? origin_elements : origin_bytes);
  }
#if defined(__SSE2__)
  if (p.stream) _mm_sfence();  // Order streamed stores before completion.
#endif
}

}  // namespace relayout_internal

using relayout_internal::RunChunk;

int64_t RelayoutPlan::ChunkCount() const {
  return static_cast<int64_t>(impl_->chunks.chunks.size());
}

std::pair<int64_t, int64_t> RelayoutPlan::ChunkOutputRange(int64_t i) const {
  if (i < 0 || i >= ChunkCount()) std::abort();  // A caller bug.
  return {impl_->chunks.chunks[i].begin, impl_->chunks.chunks[i].end};
}

void RelayoutPlan::ExecuteChunk(int64_t i, const uint8_t* input,
                                uint8_t* output) const {
  if (i < 0 || i >= ChunkCount()) std::abort();  // A caller bug.
  RunChunk(*impl_, i, input, output + impl_->chunks.chunks[i].begin);
}

void RelayoutPlan::ExecuteChunkToWindow(int64_t i, const uint8_t* input,
                                        uint8_t* window) const {
  if (i < 0 || i >= ChunkCount()) std::abort();  // A caller bug.
  RunChunk(*impl_, i, input, window);
}

absl::Status RelayoutPlan::Execute(absl::Span<const uint8_t> input,
                                   absl::Span<uint8_t> output,
                                   const ScheduleWork& schedule_work,
                                   const RelayoutProgress& progress) const {
  const Impl& p = *impl_;
  if (static_cast<int64_t>(input.size()) != p.src.byte_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input is ", input.size(), " bytes but ", p.src.shape().ToString(true),
        " needs ", p.src.byte_size()));
  }
  if (static_cast<int64_t>(output.size()) != p.dst.byte_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output is ", output.size(), " bytes but ",
        p.dst.shape().ToString(true), " needs ", p.dst.byte_size()));
  }
  if (!output.empty() && !input.empty() &&
      input.data() < output.data() + output.size() &&
      output.data() < input.data() + input.size()) {
    return absl::InvalidArgumentError(
        "relayout input and output buffers overlap");
  }
  const int64_t total = p.dst.byte_size();
  const int64_t count = ChunkCount();
  // Shared with the scheduled closures, which may outlive this call: each
  // claims the next chunk, if any is left.
  struct State {
    std::atomic<int64_t> next{0};
    std::mutex mu;
    std::condition_variable cv;
    int64_t chunks_done = 0;
    int64_t bytes_done = 0;
  };
  auto state = std::make_shared<State>();
  const uint8_t* src = input.data();
  uint8_t* dst = output.data();
  auto run_next = [state, this, src, dst, count]() {
    const int64_t i = state->next.fetch_add(1, std::memory_order_relaxed);
    if (i >= count) return false;
    ExecuteChunk(i, src, dst);
    const auto [begin, end] = ChunkOutputRange(i);
    {
      std::lock_guard<std::mutex> lock(state->mu);
      ++state->chunks_done;
      state->bytes_done += end - begin;
    }
    state->cv.notify_all();
    return true;
  };
  if (schedule_work) {
    for (int64_t i = 0; i < count; ++i)
      schedule_work([run_next] { run_next(); });
  }
  constexpr int64_t kReportBytes = 4 << 20;
  int64_t reported = 0;
  auto report = [&](int64_t done) {
    if (progress && done - reported >= kReportBytes && done < total) {
      progress(done, total);
      reported = done;
    }
  };
  // The calling thread works too, then waits for the chunks others took.
  while (run_next()) {
    std::unique_lock<std::mutex> lock(state->mu);
    const int64_t done = state->bytes_done;
    lock.unlock();
    report(done);
  }
  while (true) {
    std::unique_lock<std::mutex> lock(state->mu);
    state->cv.wait(lock, [&] {
      return state->chunks_done == count ||
             (progress && state->bytes_done - reported >= kReportBytes);
    });
    const int64_t done = state->bytes_done;
    const bool all = state->chunks_done == count;
    lock.unlock();
    if (all) break;
    report(done);
  }
  if (progress) progress(total, total);
  return absl::OkStatus();
}

absl::Status RelayoutPlan::ExecuteWithThreads(
    absl::Span<const uint8_t> input, absl::Span<uint8_t> output, int threads,
    const RelayoutProgress& progress) const {
  const int64_t workers =
      std::min<int64_t>(threads - 1, std::max<int64_t>(ChunkCount() - 1, 0));
  if (workers <= 0) return Execute(input, output, nullptr, progress);
  RelayoutThreadPool pool(static_cast<int>(workers));
  return Execute(input, output, pool.Scheduler(), progress);
}

// ---------------------------------------------------------------------------
// Thread pool.

struct RelayoutThreadPool::State {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool stop = false;
  std::vector<std::thread> threads;
};

RelayoutThreadPool::RelayoutThreadPool(int workers)
    : state_(std::make_shared<State>()) {
  for (int t = 0; t < workers; ++t) {
    state_->threads.emplace_back([s = state_.get()] {
      while (true) {
        std::function<void()> work;
        {
          std::unique_lock<std::mutex> lock(s->mu);
          s->cv.wait(lock, [&] { return s->stop || !s->queue.empty(); });
          if (s->queue.empty()) return;  // Stopped and drained.
          work = std::move(s->queue.front());
          s->queue.pop_front();
        }
        work();
      }
    });
  }
}

RelayoutThreadPool::~RelayoutThreadPool() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  for (std::thread& t : state_->threads) t.join();
}

int RelayoutThreadPool::workers() const {
  return static_cast<int>(state_->threads.size());
}

ScheduleWork RelayoutThreadPool::Scheduler() {
  return [s = state_.get()](std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->queue.push_back(std::move(work));
    }
    s->cv.notify_one();
  };
}

}  // namespace xlayout
