// Internal: one loop of a relayout box, the unit every planning pass and
// kernel speaks.
#ifndef XLAYOUT_SRC_RELAYOUT_LOOP_H_
#define XLAYOUT_SRC_RELAYOUT_LOOP_H_

#include <cstdint>
#include <string>
#include <vector>

namespace xlayout::relayout_internal {

// n iterations; each moves the source by ss and the destination by ds
// (elements or bytes, as the owner says).
struct Loop {
  int64_t n = 1;
  int64_t ss = 0;
  int64_t ds = 0;

  friend bool operator==(const Loop&, const Loop&) = default;
};

// "n:ss/ds n:ss/ds ..." in the given order (DebugString and tests).
std::string LoopsToString(const std::vector<Loop>& loops);

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_LOOP_H_
