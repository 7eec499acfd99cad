// Internal: what a RelayoutPlan holds (built by the planning passes in
// relayout.cc, run by runner.cc).
#ifndef XLAYOUT_SRC_RELAYOUT_PLAN_H_
#define XLAYOUT_SRC_RELAYOUT_PLAN_H_

#include <cstdint>
#include <vector>

#include "relayout/bit_kernels.h"
#include "relayout/box.h"
#include "relayout/chunking.h"
#include "relayout/transpose32.h"
#include "xlayout/physical_index.h"
#include "xlayout/relayout.h"
#include "xlayout/shape.h"

namespace xlayout {

struct RelayoutPlan::Impl {
  Shape from, to;
  PhysicalLayout src, dst;
  RelayoutOptions options;
  // kElementwise: no digit model (or too many boxes): every chunk copies
  // its destination slots one by one through the reference addressing.
  enum class Mode { kBoxes, kElementwise } mode = Mode::kBoxes;
  bool zero_all_first = false;  // Sub-byte output or too many padding boxes.
  int64_t tail_from = 0;        // Output bytes from here on are zeroed.
  relayout_internal::BitSides bits;
  relayout_internal::Isa isa = relayout_internal::Isa::kSse2;
  bool stream = false;  // Output at least options.streaming_store_threshold.
  std::vector<relayout_internal::Box> boxes;
  relayout_internal::ChunkPlan chunks;
};

namespace relayout_internal {
// Runs chunk i of a plan into `window` (output byte chunks[i].begin at
// window[0]).
void RunChunk(const RelayoutPlan::Impl& p, int64_t i, const uint8_t* src,
              uint8_t* window);
}  // namespace relayout_internal

}  // namespace xlayout

#endif  // XLAYOUT_SRC_RELAYOUT_PLAN_H_
