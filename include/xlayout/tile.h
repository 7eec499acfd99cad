// One level of tiling in an XLA layout, e.g. (8,128) or (2,*,128).
#ifndef XLAYOUT_TILE_H_
#define XLAYOUT_TILE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"

namespace xlayout {

class Tile {
 public:
  // A tile dim that merges its dimension into the next more-minor one before
  // tiling. XLA stores INT64_MIN and prints `*`.
  static constexpr int64_t kCombineDimension =
      std::numeric_limits<int64_t>::min();

  Tile() = default;
  explicit Tile(std::vector<int64_t> dims) : dims_(std::move(dims)) {}
  Tile(std::initializer_list<int64_t> dims) : dims_(dims) {}

  // Most-major first; the last entry tiles minor_to_major[0].
  absl::Span<const int64_t> dims() const { return dims_; }
  int64_t dimension(int i) const { return dims_[i]; }
  int rank() const { return static_cast<int>(dims_.size()); }
  bool has_combined_dims() const;

  // "(8,128)", combined dims as "*". Other negative values print the way XLA
  // prints them ("Invalid value -2") so nothing is hidden.
  std::string ToString() const;

  friend bool operator==(const Tile&, const Tile&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Tile& t) {
    return H::combine(std::move(h), t.dims_);
  }

 private:
  std::vector<int64_t> dims_;
};

}  // namespace xlayout

#endif  // XLAYOUT_TILE_H_
