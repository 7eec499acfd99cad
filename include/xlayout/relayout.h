// Relayout: convert a buffer of one physical layout into another layout of
// the same logical array, bit-exact, at close to memory bandwidth.
//
// Plan once, execute many times (in the style of HPTT and XLA's
// TransposePlan): a plan splits the conversion into boxes of strided copies
// (a common refinement of both layouts' tilings, dimensions coalesced),
// picks blocked transpose or memcpy kernels for each, and lists the output's
// padding regions, which every execution fills with zeros. The plan then cuts
// the output into chunks: contiguous byte ranges, in order, that can run
// independently. The caller decides how chunks run (inline, on its own
// pool, or one by one through a small output window).
//
// Elements keep their bits. Converting between packed (E(1), E(2), E(4)) and
// unpacked storage of a sub-byte type keeps the low bits of each element and
// zero-fills the rest. Packing order: docs/relayout.md.
#ifndef XLAYOUT_RELAYOUT_H_
#define XLAYOUT_RELAYOUT_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "xlayout/shape.h"

namespace xlayout {

// The widest vector extension the kernels may use: a cap on what the CPU
// has. kAuto is the best the CPU runs (AVX-512 means F and BW).
enum class RelayoutIsa { kAuto, kSse2, kAvx2, kAvx512 };

// "auto", "sse2", "avx2" or "avx512"; INVALID_ARGUMENT otherwise.
absl::StatusOr<RelayoutIsa> ParseRelayoutIsa(absl::string_view name);
absl::string_view RelayoutIsaName(RelayoutIsa isa);

// The default cap: XLAYOUT_RELAYOUT_ISA=sse2|avx2|avx512 if set (read once
// per process; an unknown value means kAuto), else kAuto.
RelayoutIsa DefaultRelayoutIsa();

inline constexpr int64_t kDefaultStreamingStoreThresholdBytes = 16 << 20;

struct RelayoutOptions {
  // Threads for the convenience entry points (Relayout(),
  // ExecuteWithThreads()); 1..1024. It does not change the plan.
  int threads = 1;
  RelayoutIsa isa = DefaultRelayoutIsa();
  // Outputs of at least this many bytes are written with non-temporal
  // (streaming) stores where the kernels can: caches would not keep them
  // anyway. A driver that writes chunks into a small reused window should
  // set this above the output size (INT64_MAX), so the window stays cached.
  int64_t streaming_store_threshold_bytes =
      kDefaultStreamingStoreThresholdBytes;
  // 0: the plan picks its chunks' size: at least 1 MiB, and big enough that
  // the kernels' source strips stay wide (a transpose's chunk covers whole
  // 4 KiB runs of each source row). > 0: chunks are at least this big
  // where the plan allows; tests set it small to split small plans into
  // many chunks.
  int64_t min_chunk_bytes = 0;
  // 0: no cap. Else every chunk's output range is at most this many bytes,
  // as far as the plan's granularity allows: a chunk never cuts one
  // iteration of a box's outermost loop (for the common cases one output
  // row, or one tile row), so a chunk may exceed the cap by up to that much.
  // The cap wins over min_chunk_bytes.
  int64_t max_chunk_bytes = 0;
  // Every field but `threads` is part of RelayoutPlanCache's key.
};

// Progress of a running Execute: bytes of output done so far and in all.
// Called on the thread that called Execute, at most every few MiB.
using RelayoutProgress = std::function<void(int64_t done, int64_t total)>;

// How Execute runs work: called once per chunk with a closure to run. It may
// run the closure inline or hand it to a pool; Execute blocks until all the
// work is done. A closure may run after Execute returned (it then does
// nothing), so pools may outlive the call.
using ScheduleWork = std::function<void(std::function<void()>)>;

class RelayoutPlan {
 public:
  // `from` and `to` must have the same element type and dimensions (else
  // INVALID_ARGUMENT naming both); their layouts may differ in anything.
  static absl::StatusOr<std::unique_ptr<RelayoutPlan>> Create(
      const Shape& from, const Shape& to, const RelayoutOptions& options = {});
  ~RelayoutPlan();

  const Shape& from() const;
  const Shape& to() const;
  int64_t input_bytes() const;   // ExactBytes(from)
  int64_t output_bytes() const;  // ExactBytes(to)
  const RelayoutOptions& options() const;

  // Chunks partition [0, output_bytes()) into contiguous ranges in
  // increasing order: chunk i writes exactly output bytes
  // [ChunkOutputRange(i).first, .second), padding included, and reads only
  // the input. Chunks are independent and may run concurrently. An empty
  // output has no chunks.
  int64_t ChunkCount() const;
  std::pair<int64_t, int64_t> ChunkOutputRange(int64_t i) const;
  // Runs chunk i (0 <= i < ChunkCount(), CHECKed). `input` is the whole
  // input buffer and `output` the whole output buffer; no length checks.
  void ExecuteChunk(int64_t i, const uint8_t* input, uint8_t* output) const;
  // Same, but `window` holds only chunk i's bytes: window[0] is output byte
  // ChunkOutputRange(i).first. Lets a file driver stream the output through
  // one small reused buffer.
  void ExecuteChunkToWindow(int64_t i, const uint8_t* input,
                            uint8_t* window) const;

  // Converts `input` (laid out as from()) into `output` (as to()), writing
  // every output byte: elements moved, padding zeroed. Lengths and overlap
  // are checked before any byte is touched (INVALID_ARGUMENT). Every chunk
  // goes through `schedule_work` (nullptr: all run inline); the calling
  // thread runs chunks too while it waits. Thread-safe: one plan may run on
  // many buffers at once.
  absl::Status Execute(absl::Span<const uint8_t> input,
                       absl::Span<uint8_t> output,
                       const ScheduleWork& schedule_work = nullptr,
                       const RelayoutProgress& progress = nullptr) const;
  // Execute on `threads` threads: the caller and threads - 1 workers.
  absl::Status ExecuteWithThreads(
      absl::Span<const uint8_t> input, absl::Span<uint8_t> output, int threads,
      const RelayoutProgress& progress = nullptr) const;

  // How the plan works, for --verbose and tests: kernel kinds, boxes, loops,
  // chunks.
  std::string DebugString() const;

  struct Impl;

 private:
  explicit RelayoutPlan(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A fixed set of worker threads that runs closures in order of arrival: a
// ScheduleWork for Execute (the CLI's --threads, Relayout()). Joins the
// workers on destruction, after running what was scheduled.
class RelayoutThreadPool {
 public:
  explicit RelayoutThreadPool(int workers);
  ~RelayoutThreadPool();
  RelayoutThreadPool(const RelayoutThreadPool&) = delete;
  RelayoutThreadPool& operator=(const RelayoutThreadPool&) = delete;

  int workers() const;
  // A ScheduleWork that queues closures on this pool (valid while it lives).
  ScheduleWork Scheduler();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Caller-owned cache of plans, keyed by both shapes (with layouts) and the
// options that shape a plan (all but `threads`). Least recently used plans
// go first. Thread-safe.
class RelayoutPlanCache {
 public:
  explicit RelayoutPlanCache(int capacity = 16);
  // The cached plan, or a new one (created outside the lock; a racing
  // creator of the same key is harmless).
  absl::StatusOr<std::shared_ptr<const RelayoutPlan>> Get(
      const Shape& from, const Shape& to, const RelayoutOptions& options = {});
  int size() const;

 private:
  struct Entry;
  const int capacity_;
  mutable std::mutex mu_;
  std::list<std::shared_ptr<Entry>> entries_;  // Most recent first.
};

// Plan (from `cache` when given, else a plan for this call only) + execute
// on options.threads threads, in one call.
absl::Status Relayout(const Shape& from, const Shape& to,
                      absl::Span<const uint8_t> input,
                      absl::Span<uint8_t> output,
                      const RelayoutOptions& options = {},
                      RelayoutPlanCache* cache = nullptr);

// OK when `from` and `to` (arrays, or buffers of arrays) are the same
// logical array, element type and dimensions, as a relayout needs; else
// INVALID_ARGUMENT naming both.
absl::Status CheckSameLogicalArray(const Shape& from, const Shape& to);

// The element-by-element reference: for every logical element, computes both
// offsets with PhysicalLayout and copies the bits; then zeroes every padding
// slot. Slow and obviously right; the fast engine is tested against it.
absl::Status ReferenceRelayout(const Shape& from, const Shape& to,
                               absl::Span<const uint8_t> input,
                               absl::Span<uint8_t> output);

}  // namespace xlayout

#endif  // XLAYOUT_RELAYOUT_H_
