// Streaming a relayout's output through one small reused window: the output
// of a plan is produced chunk by chunk (RelayoutPlan::ExecuteChunkToWindow)
// into a pre-faulted huge-page buffer that stays in cache and in the TLB, and
// handed to a sink (a file write, a hash) in order. Memory stays at the input
// plus the window, whatever the output's size. Used by the file driver
// (relayout_file.h) and by checkpoint import and export.
#ifndef XLAYOUT_RELAYOUT_STREAM_H_
#define XLAYOUT_RELAYOUT_STREAM_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "xlayout/io/page_buffer.h"
#include "xlayout/relayout.h"

namespace xlayout {

// Receives consecutive pieces of the output; an error stops the stream.
using ByteSink = std::function<absl::Status(absl::Span<const uint8_t>)>;

class RelayoutStreamer {
 public:
  // `threads` run the chunks of each window (1: the calling thread only).
  // Worker threads start when a window first has chunks for them, and no
  // more than the windows have chunks to run at once (a small tensor never
  // starts threads - 1 idle workers).
  explicit RelayoutStreamer(int threads,
                            int64_t window_bytes = int64_t{4} << 20);
  ~RelayoutStreamer();
  RelayoutStreamer(const RelayoutStreamer&) = delete;
  RelayoutStreamer& operator=(const RelayoutStreamer&) = delete;

  int threads() const { return threads_; }
  int64_t window_bytes() const { return window_bytes_; }

  // `base` with what streaming needs: chunks of at most window / threads
  // bytes and cached stores (the window is reused, so non-temporal stores
  // would only evict it).
  RelayoutOptions PlanOptions(const RelayoutOptions& base = {}) const {
    return PlanOptionsFor(base, threads_, window_bytes_);
  }
  // The same, without a streamer (and its threads).
  static RelayoutOptions PlanOptionsFor(const RelayoutOptions& base,
                                        int threads, int64_t window_bytes);

  // Runs `plan` (made with PlanOptions) on `input` (plan.input_bytes()
  // bytes) and hands the output to `sink` in order, about a window at a
  // time. `progress`, when set, gets the bytes of output done after each
  // window.
  absl::Status Run(const RelayoutPlan& plan, const uint8_t* input,
                   const ByteSink& sink,
                   const RelayoutProgress& progress = nullptr);

 private:
  // At least min(wanted, threads_ - 1) workers in pool_.
  void EnsureWorkers(int64_t wanted);

  int threads_;
  int64_t window_bytes_;
  std::unique_ptr<RelayoutThreadPool> pool_;
  io::PageBuffer window_;
};

}  // namespace xlayout

#endif  // XLAYOUT_RELAYOUT_STREAM_H_
