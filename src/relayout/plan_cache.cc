// The caller-owned plan cache and the one-call Relayout().
#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xlayout/relayout.h"
#include "xlayout/status_macros.h"

namespace xlayout {

struct RelayoutPlanCache::Entry {
  Shape from, to;
  RelayoutOptions options;
  std::shared_ptr<const RelayoutPlan> plan;
};

namespace {
bool SamePlanOptions(const RelayoutOptions& a, const RelayoutOptions& b) {
  return a.isa == b.isa &&
         a.streaming_store_threshold_bytes ==
             b.streaming_store_threshold_bytes &&
         a.min_chunk_bytes == b.min_chunk_bytes &&
         a.max_chunk_bytes == b.max_chunk_bytes;
}
}  // namespace

RelayoutPlanCache::RelayoutPlanCache(int capacity)
    : capacity_(std::max(capacity, 1)) {}

int RelayoutPlanCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(entries_.size());
}

absl::StatusOr<std::shared_ptr<const RelayoutPlan>> RelayoutPlanCache::Get(
    const Shape& from, const Shape& to, const RelayoutOptions& options) {
  {
    // std::mutex (pthread) rather than absl::Mutex: TSan sees its ordering
    // even with a system Abseil that was built without TSan annotations.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const Entry& e = **it;
      if (e.from == from && e.to == to && SamePlanOptions(e.options, options)) {
        entries_.splice(entries_.begin(), entries_, it);  // Most recent first.
        return entries_.front()->plan;
      }
    }
  }
  // Build outside the lock; a racing builder of the same key is harmless.
  XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<RelayoutPlan> plan,
                           RelayoutPlan::Create(from, to, options));
  auto entry = std::make_shared<Entry>(Entry{
      from, to, options, std::shared_ptr<const RelayoutPlan>(std::move(plan))});
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_front(entry);
  while (static_cast<int>(entries_.size()) > capacity_) entries_.pop_back();
  return entry->plan;
}

absl::Status Relayout(const Shape& from, const Shape& to,
                      absl::Span<const uint8_t> input,
                      absl::Span<uint8_t> output,
                      const RelayoutOptions& options,
                      RelayoutPlanCache* cache) {
  std::shared_ptr<const RelayoutPlan> plan;
  if (cache != nullptr) {
    XLAYOUT_ASSIGN_OR_RETURN(plan, cache->Get(from, to, options));
  } else {
    XLAYOUT_ASSIGN_OR_RETURN(plan, RelayoutPlan::Create(from, to, options));
  }
  return plan->ExecuteWithThreads(input, output, options.threads);
}

}  // namespace xlayout
