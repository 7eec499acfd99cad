#include "xlayout/physical_index.h"

#include <algorithm>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/checked_math.h"
#include "xlayout/status_macros.h"
#include "xlayout/tiling.h"

namespace xlayout {
namespace {

absl::Status TooBig(const Shape& shape) {
  return absl::OutOfRangeError(absl::StrCat(
      "the element count of ", shape.ToString(true), " does not fit in int64"));
}

}  // namespace

absl::StatusOr<int> StorageBitsPerElement(const Shape& array) {
  const int natural = 8 * ByteWidth(array.element_type());
  const int64_t e =
      array.has_layout() ? array.layout().element_size_in_bits() : 0;
  if (e == 0 || e == natural) return natural;
  if ((e == 1 || e == 2 || e == 4) && e >= BitWidth(array.element_type())) {
    return static_cast<int>(e);
  }
  const std::string what = absl::StrCat(
      "E(", e, ") on ", PrimitiveTypeName(array.element_type()), ": ");
  if (e < BitWidth(array.element_type())) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "an element needs at least ",
                     BitWidth(array.element_type()), " bits"));
  }
  if (e > natural) {
    // Widening has a size in XLA but no documented placement of the
    // value's bits, so no conversion is defined.
    return absl::UnimplementedError(absl::StrCat(
        what, "how XLA places a ", natural, "-bit value in a ", e,
        "-bit slot is not defined, so xlayout does not convert it; relayout "
        "converts the natural width or sub-byte packing into 1, 2 or 4 bits"));
  }
  return absl::UnimplementedError(
      absl::StrCat(what, "relayout converts the natural width (", natural,
                   " bits) or sub-byte packing into 1, 2 or 4 bits"));
}

absl::StatusOr<PhysicalLayout> PhysicalLayout::Create(const Shape& shape) {
  const Shape& array = shape.IsBuffer() ? shape.buffer_shape() : shape;
  if (!array.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("physical addressing needs an array shape, not ",
                     array.ToString(true)));
  }
  PhysicalLayout result;
  result.shape_ = array;
  if (!result.shape_.has_layout())
    result.shape_.set_layout(DefaultLayout(array.rank()));
  const Layout& layout = result.shape_.layout();
  if (layout.IsSparse()) {
    return absl::UnimplementedError(absl::StrCat(
        "sparse layouts (D(...)) have no dense buffer to address: ",
        array.ToString(true)));
  }
  if (!layout.split_configs().empty()) {
    return absl::UnimplementedError(
        absl::StrCat("split layouts (SC) store each split in its own buffer; "
                     "relayout one split at a time: ",
                     array.ToString(true)));
  }
  if (layout.tail_padding_alignment_in_elements() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("L(", layout.tail_padding_alignment_in_elements(), ") in ",
                     array.ToString(true), " must be positive"));
  }
  // TiledShape validates the permutation, tiles and unbounded dims for us.
  XLAYOUT_ASSIGN_OR_RETURN(TiledShape tiled, TiledShape::Create(result.shape_));
  XLAYOUT_ASSIGN_OR_RETURN(result.element_bits_,
                           StorageBitsPerElement(result.shape_));

  // The levels of the inverse map (LogicalIndexAt), read off the tiled
  // shape: level l's input is TiledShape's level l (rank-padded for its
  // tile), its output the next level without that level's rank padding.
  const std::vector<int64_t> physical_to_logical(
      tiled.physical_to_logical().begin(), tiled.physical_to_logical().end());
  result.physical_to_logical_ = physical_to_logical;
  auto sizes = [](absl::Span<const TiledDim> dims) {
    std::vector<int64_t> out;
    for (const TiledDim& d : dims) out.push_back(d.size);
    return out;
  };
  Level physical;
  physical.out_sizes.assign(tiled.physical_dims().begin(),
                            tiled.physical_dims().end());
  result.levels_.push_back(physical);
  for (int l = 0; l < tiled.num_levels(); ++l) {
    Level level;
    level.tile.assign(tiled.tile(l).begin(), tiled.tile(l).end());
    level.in_sizes = sizes(tiled.level(l));
    level.inserted = static_cast<int>(level.in_sizes.size() -
                                      result.levels_.back().out_sizes.size());
    const int k = static_cast<int>(level.tile.size());
    int kept = 0;
    for (int64_t t : level.tile) kept += t != Tile::kCombineDimension;
    const size_t out_rank = level.in_sizes.size() - k + 2 * kept;
    std::vector<int64_t> next = sizes(tiled.level(l + 1));
    level.out_sizes.assign(next.end() - out_rank, next.end());
    result.levels_.push_back(std::move(level));
  }
  result.tiled_ = std::move(tiled);

  int64_t logical = 1;
  for (int64_t d : array.dimensions()) {
    std::optional<int64_t> next = CheckedMul(logical, d);
    if (!next) return TooBig(array);
    logical = *next;
  }
  result.num_logical_ = logical;
  const int64_t tiled_count = result.tiled_.num_elements();
  result.num_tiled_ = tiled_count;
  std::optional<int64_t> storage =
      RoundUp(tiled_count, layout.tail_padding_alignment_in_elements());
  if (!storage) return TooBig(array);
  result.num_storage_ = *storage;
  __int128 bits =
      static_cast<__int128>(result.num_storage_) * result.element_bits_;
  if ((bits + 7) / 8 > INT64_MAX) return TooBig(array);
  result.byte_size_ = static_cast<int64_t>((bits + 7) / 8);
  return result;
}

int64_t PhysicalLayout::ElementOffset(absl::Span<const int64_t> index) const {
  const int rank = this->rank();
  // Out-of-bounds indices are caller bugs, never input: fail loudly.
  if (static_cast<int>(index.size()) != rank) std::abort();
  for (int i = 0; i < rank; ++i) {
    if (index[physical_to_logical_[i]] < 0 ||
        index[physical_to_logical_[i]] >= levels_[0].out_sizes[i]) {
      std::abort();
    }
  }
  // The one reference address computation: XLA's LinearIndex on the tiled
  // shape.
  return tiled_.LinearIndex(index);
}

std::optional<std::vector<int64_t>> PhysicalLayout::LogicalIndexAt(
    int64_t offset) const {
  if (offset < 0 || offset >= num_tiled_) return std::nullopt;  // L(n) tail.
  // Row-major digits of the offset in the final dims.
  const std::vector<int64_t>& dims = levels_.back().out_sizes;
  std::vector<int64_t> v(dims.size());
  for (size_t i = dims.size(); i-- > 0;) {
    v[i] = offset % dims[i];
    offset /= dims[i];
  }
  for (size_t l = levels_.size() - 1; l >= 1; --l) {
    const Level& level = levels_[l];
    const int k = static_cast<int>(level.tile.size());
    const size_t base = level.in_sizes.size() - k;
    int kept = 0;
    for (int64_t t : level.tile) kept += t != Tile::kCombineDimension;
    // v = base dims, `kept` tile counts, `kept` within-tile indices.
    std::vector<int64_t> in(v.begin(), v.begin() + base);
    int j = 0;
    std::vector<int64_t> tile_part(k, 0);
    // Walk the tile positions; each kept one ends a merged group.
    int group_start = 0;
    for (int i = 0; i < k; ++i) {
      if (level.tile[i] == Tile::kCombineDimension) continue;
      int64_t value = v[base + j] * level.tile[i] + v[base + kept + j];
      ++j;
      // Split the merged value back into the dims of its group, minor first.
      for (int g = i; g >= group_start; --g) {
        int64_t size = level.in_sizes[base + g];
        if (g == group_start) {
          if (value >= size) return std::nullopt;  // Tile padding.
          tile_part[g] = value;
        } else {
          tile_part[g] = value % size;
          value /= size;
        }
      }
      group_start = i + 1;
    }
    in.insert(in.end(), tile_part.begin(), tile_part.end());
    // Dims inserted for a tile of higher rank are size 1: only index 0 is real.
    for (int i = 0; i < level.inserted; ++i) {
      if (in[i] != 0) return std::nullopt;
    }
    in.erase(in.begin(), in.begin() + level.inserted);
    v = std::move(in);
  }
  std::vector<int64_t> index(rank());
  for (int i = 0; i < rank(); ++i) {
    if (v[i] >= levels_[0].out_sizes[i]) return std::nullopt;
    index[physical_to_logical_[i]] = v[i];
  }
  return index;
}

std::vector<int64_t> PhysicalLayout::PaddingOffsets() const {
  std::vector<int64_t> padding;
  for (int64_t offset = 0; offset < num_storage_; ++offset) {
    if (!LogicalIndexAt(offset).has_value()) padding.push_back(offset);
  }
  return padding;
}

uint8_t ReadPackedElement(const uint8_t* buffer, int64_t offset, int bits) {
  const int per_byte = 8 / bits;
  const int slot = static_cast<int>(offset % per_byte);
  const int shift = 8 - bits * (slot + 1);  // Element 0 in the high bits.
  return static_cast<uint8_t>((buffer[offset / per_byte] >> shift) &
                              ((1u << bits) - 1));
}

void WritePackedElement(uint8_t* buffer, int64_t offset, int bits,
                        uint8_t value) {
  const int per_byte = 8 / bits;
  const int slot = static_cast<int>(offset % per_byte);
  const int shift = 8 - bits * (slot + 1);
  const uint8_t mask = static_cast<uint8_t>(((1u << bits) - 1) << shift);
  uint8_t& byte = buffer[offset / per_byte];
  byte = static_cast<uint8_t>((byte & ~mask) | ((value << shift) & mask));
}

}  // namespace xlayout
