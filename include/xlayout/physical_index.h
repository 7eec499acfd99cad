// Physical addressing of one array layout, element by element: logical index
// -> element offset (every tile level, combined dims, L(n)), the inverse map,
// and the padding positions. This is the slow, obviously right reference
// that the fast relayout engine is tested against.
//
// Storage of one element: with E(n) set and n < 8 the elements are packed n
// bits each, XLA's order (element 0 in the most significant bits of byte 0,
// see docs/relayout.md); otherwise each element takes ByteWidth(type) bytes.
#ifndef XLAYOUT_PHYSICAL_INDEX_H_
#define XLAYOUT_PHYSICAL_INDEX_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "xlayout/shape.h"
#include "xlayout/tiling.h"

namespace xlayout {

class PhysicalLayout {
 public:
  // `array` is an array (or buffer) shape; a missing layout means the default
  // row-major one. Rejects what has no single dense buffer: split configs
  // (each split is its own buffer), sparse layouts, unbounded dims, and E(n)
  // values that are neither the natural width nor a packing of 1, 2 or 4
  // bits at least the type's bit width. Dynamic dims count at their bound.
  static absl::StatusOr<PhysicalLayout> Create(const Shape& array);

  const Shape& shape() const { return shape_; }  // With its layout filled in.
  int rank() const { return shape_.rank(); }
  // Storage bits of one element: 1, 2 or 4 (packed) or 8 * bytes.
  int element_bits() const { return element_bits_; }
  bool packed() const { return element_bits_ < 8; }
  int64_t num_logical_elements() const { return num_logical_; }
  // Elements of the final tiled shape (tile padding included, L(n) not).
  int64_t num_tiled_elements() const { return num_tiled_; }
  // num_tiled_elements rounded up to L(n): every element slot of the buffer.
  int64_t num_storage_elements() const { return num_storage_; }
  // The buffer length this layout needs; equals ExactBytes(shape()).
  int64_t byte_size() const { return byte_size_; }
  // Final tiled dims, major to minor; elements are row-major in them.
  absl::Span<const int64_t> final_dims() const {
    return levels_.back().out_sizes;
  }

  // Element offset of the logical element `index` (logical dim order, in
  // bounds; CHECKed): TiledShape::LinearIndex, the one reference address
  // computation.
  int64_t ElementOffset(absl::Span<const int64_t> index) const;
  // The logical index stored at element `offset`, or nullopt when that slot
  // is padding (tile padding or L(n) tail). 0 <= offset < num_storage_elements.
  std::optional<std::vector<int64_t>> LogicalIndexAt(int64_t offset) const;
  // Every padding slot, ascending. O(num_storage_elements); for tests.
  std::vector<int64_t> PaddingOffsets() const;

 private:
  // One tile level, as the inverse map walks it (read off tiled_).
  struct Level {
    std::vector<int64_t> in_sizes;  // Rank-padded input dims, before merging.
    int inserted = 0;               // Leading size-1 dims added for the tile.
    std::vector<int64_t> tile;      // Raw tile (kCombineDimension for `*`).
    std::vector<int64_t> out_sizes;
  };

  Shape shape_;
  int element_bits_ = 8;
  int64_t num_logical_ = 0;
  int64_t num_tiled_ = 0;
  int64_t num_storage_ = 0;
  int64_t byte_size_ = 0;
  TiledShape tiled_;
  std::vector<int64_t> physical_to_logical_;  // Major to minor.
  // levels_[0] holds only out_sizes = the physical dims; levels_[l >= 1] the
  // tile levels.
  std::vector<Level> levels_;
};

// Storage bits of one element of `array` under its layout (see above), or an
// error for an unsupported E(n).
absl::StatusOr<int> StorageBitsPerElement(const Shape& array);

// Reads / writes the element at element `offset` of a buffer whose elements
// are `bits` wide, bits in {1, 2, 4}, XLA's packing order. The value is in
// the low bits of the result; WritePackedElement keeps the other elements.
uint8_t ReadPackedElement(const uint8_t* buffer, int64_t offset, int bits);
void WritePackedElement(uint8_t* buffer, int64_t offset, int bits,
                        uint8_t value);

}  // namespace xlayout

#endif  // XLAYOUT_PHYSICAL_INDEX_H_
