// Internal: a box, the unit of a relayout plan: base offsets, loops and the
// kernel that runs them.
#ifndef XLAYOUT_SRC_RELAYOUT_BOX_H_
#define XLAYOUT_SRC_RELAYOUT_BOX_H_

#include <cstdint>
#include <vector>

#include "relayout/byte_kernels.h"
#include "relayout/loop.h"

namespace xlayout::relayout_internal {

enum class Kernel { kCopy, kTranspose, kZero, kBits };

struct Box {
  Kernel kernel = Kernel::kCopy;
  int64_t src = 0;  // Base offsets: bytes (elements for kBits).
  int64_t dst = 0;
  int64_t unit = 1;  // Bytes moved per innermost step (byte kernels).
  // Outer to inner. kTranspose: the last two are B (src-contiguous) and A
  // (dst-contiguous); kCopy/kZero: the last is the innermost strided loop;
  // kBits: the last two are the kernel's outer and inner loops.
  std::vector<Loop> loops;
  int64_t bytes = 0;  // Output bytes written.
  // kTranspose on 8-byte units that are 2x2 blocks of 16-bit elements.
  bool shuffle = false;
  // kTranspose with a fused row padding: each B row is written (data, then
  // zeros) up to the next B row, lb.ds bytes.
  bool pads_rows = false;
  // kTranspose: the plane kernel (B x A), set when the box is final.
  PlaneFn plane = nullptr;
};

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_BOX_H_
