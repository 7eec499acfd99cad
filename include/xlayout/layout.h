// XLA physical layout: dimension order, tiling and storage attributes.
// The text form is XLA's Layout::Print, e.g. `{2,1,0:T(8,128)(2,1)S(1)}`.
#ifndef XLAYOUT_LAYOUT_H_
#define XLAYOUT_LAYOUT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "xlayout/primitive_type.h"
#include "xlayout/tile.h"

namespace xlayout {

class Shape;

// Per-dimension storage format of sparse layouts (D(...)).
enum class DimLevelType {
  kDense = 0,
  kCompressed,
  kSingleton,
  kLooseCompressed
};

// SC(d:i,j,...): split points along the physical dimension `dimension`,
// counted from the most major.
struct SplitConfig {
  int64_t dimension = 0;
  std::vector<int64_t> split_indices;
  friend bool operator==(const SplitConfig&, const SplitConfig&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const SplitConfig& c) {
    return H::combine(std::move(h), c.dimension, c.split_indices);
  }
};

class Layout {
 public:
  Layout();
  explicit Layout(std::vector<int64_t> minor_to_major);
  Layout(std::vector<int64_t> minor_to_major, std::vector<Tile> tiles);
  Layout(const Layout& other);
  Layout& operator=(const Layout& other);
  Layout(Layout&&) noexcept;
  Layout& operator=(Layout&&) noexcept;
  ~Layout();

  // minor_to_major[0] is the fastest-varying logical dimension.
  absl::Span<const int64_t> minor_to_major() const { return minor_to_major_; }
  std::vector<int64_t>* mutable_minor_to_major() { return &minor_to_major_; }
  int64_t minor_to_major(int i) const { return minor_to_major_[i]; }
  // Logical dimension at physical position i counted from the most major.
  int64_t major(int i) const {
    return minor_to_major_[minor_to_major_.size() - 1 - i];
  }

  absl::Span<const Tile> tiles() const { return tiles_; }
  std::vector<Tile>* mutable_tiles() { return &tiles_; }

  // Sparse-array attributes. Empty vectors mean "all dense / ordered / unique".
  absl::Span<const DimLevelType> dim_level_types() const {
    return dim_level_types_;
  }
  std::vector<DimLevelType>* mutable_dim_level_types() {
    return &dim_level_types_;
  }
  const std::vector<bool>& dim_ordered() const { return dim_ordered_; }
  std::vector<bool>* mutable_dim_ordered() { return &dim_ordered_; }
  // Older XLA printed `+` for non-unique levels; kept so such text round-trips.
  const std::vector<bool>& dim_unique() const { return dim_unique_; }
  std::vector<bool>* mutable_dim_unique() { return &dim_unique_; }
  bool IsSparse() const;

  // L(n): round the tiled element count up to a multiple of n. Default 1.
  int64_t tail_padding_alignment_in_elements() const { return tail_padding_; }
  void set_tail_padding_alignment_in_elements(int64_t n) { tail_padding_ = n; }

  // #(t) and *(t); kInvalid when absent.
  PrimitiveType index_primitive_type() const { return index_type_; }
  void set_index_primitive_type(PrimitiveType t) { index_type_ = t; }
  PrimitiveType pointer_primitive_type() const { return pointer_type_; }
  void set_pointer_primitive_type(PrimitiveType t) { pointer_type_ = t; }

  // E(n): bits per element; 0 means the type's natural ByteWidth * 8.
  int64_t element_size_in_bits() const { return element_size_in_bits_; }
  void set_element_size_in_bits(int64_t n) { element_size_in_bits_ = n; }

  // S(n): backend-defined memory space; 0 is default device memory.
  int64_t memory_space() const { return memory_space_; }
  void set_memory_space(int64_t n) { memory_space_ = n; }

  absl::Span<const SplitConfig> split_configs() const { return split_configs_; }
  std::vector<SplitConfig>* mutable_split_configs() { return &split_configs_; }

  // P(shape): on-device physical shape of a sparse array.
  bool has_physical_shape() const { return physical_shape_ != nullptr; }
  const Shape& physical_shape() const { return *physical_shape_; }
  void set_physical_shape(const Shape& shape);
  void clear_physical_shape();

  // M(n): bytes of dynamic-shape metadata placed before the data.
  int64_t dynamic_shape_metadata_prefix_bytes() const {
    return metadata_prefix_bytes_;
  }
  void set_dynamic_shape_metadata_prefix_bytes(int64_t n) {
    metadata_prefix_bytes_ = n;
  }

  // XLA's Layout::Print, byte for byte (newest attribute set and order).
  std::string ToString() const;

  friend bool operator==(const Layout& a, const Layout& b);
  friend bool operator!=(const Layout& a, const Layout& b) { return !(a == b); }
  // Consistent with operator==: every compared field is hashed.
  template <typename H>
  friend H AbslHashValue(H h, const Layout& l) {
    h = H::combine(std::move(h), l.minor_to_major_, l.dim_level_types_,
                   l.dim_ordered_, l.dim_unique_, l.tiles_, l.tail_padding_,
                   l.index_type_, l.pointer_type_, l.element_size_in_bits_,
                   l.memory_space_, l.split_configs_, l.metadata_prefix_bytes_);
    // As absl hashes an optional: (value, true) or (false).
    return l.physical_shape_ != nullptr
               ? H::combine(std::move(h), *l.physical_shape_, true)
               : H::combine(std::move(h), false);
  }

 private:
  std::vector<int64_t> minor_to_major_;
  std::vector<DimLevelType> dim_level_types_;
  std::vector<bool> dim_ordered_;
  std::vector<bool> dim_unique_;
  std::vector<Tile> tiles_;
  int64_t tail_padding_ = 1;
  PrimitiveType index_type_ = PrimitiveType::kInvalid;
  PrimitiveType pointer_type_ = PrimitiveType::kInvalid;
  int64_t element_size_in_bits_ = 0;
  int64_t memory_space_ = 0;
  std::vector<SplitConfig> split_configs_;
  std::unique_ptr<Shape> physical_shape_;
  int64_t metadata_prefix_bytes_ = 0;
};

// The default (major-to-minor, row-major) layout for `rank`: {rank-1,...,0}.
Layout DefaultLayout(int rank);

// The tiling as XLA prints it in a layout, "T(8,128)(2,1)"; "" without
// tiles. The one tile printer of the library and the CLI.
std::string TilesToString(const Layout& layout);

}  // namespace xlayout

#endif  // XLAYOUT_LAYOUT_H_
