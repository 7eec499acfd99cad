// XXH3-64 (seed 0), the checksum of buffers, relayout outputs and checkpoint
// tensors: one place that picks the fastest implementation Debian's libxxhash
// has (SSE2, AVX2 or AVX-512, chosen at run time; the same hashes).
#ifndef XLAYOUT_XXH3_H_
#define XLAYOUT_XXH3_H_

#include <cstdint>

#include "absl/types/span.h"

namespace xlayout {

// The XXH3-64 of `bytes`.
uint64_t Xxh3Of(absl::Span<const uint8_t> bytes);

// Incremental XXH3-64: Update with consecutive pieces, Digest at any point.
class Xxh3 {
 public:
  Xxh3();
  ~Xxh3();
  Xxh3(const Xxh3&) = delete;
  Xxh3& operator=(const Xxh3&) = delete;

  void Update(absl::Span<const uint8_t> bytes);
  uint64_t Digest() const;

 private:
  void* state_;  // XXH3_state_t*, kept out of this header.
};

}  // namespace xlayout

#endif  // XLAYOUT_XXH3_H_
