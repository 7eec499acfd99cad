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
  return absl::UnimplementedError(
      absl::StrCat("E(", e, ") on ", PrimitiveTypeName(array.element_type()),
                   ": only the natural width (", natural,
                   " bits) or packing into 1, 2 or 4 bits, at least ",
                   BitWidth(array.element_type()),
                   " bits per element, have a defined storage"));
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
  XLAYOUT_ASSIGN_OR_RETURN(result.element_bits_, StorageBitsPerElement(result.shape_));

  const int rank = array.rank();
  Level physical;
  for (int i = 0; i < rank; ++i) {
    int64_t logical = layout.major(i);
    result.physical_to_logical_.push_back(logical);
    physical.out_sizes.push_back(array.dimensions(logical));
  }
  result.levels_.push_back(physical);
  for (const Tile& tile : layout.tiles()) {
    Level level;
    level.tile.assign(tile.dims().begin(), tile.dims().end());
    const int k = tile.rank();
    level.in_sizes = result.levels_.back().out_sizes;
    if (k > static_cast<int>(level.in_sizes.size())) {
      level.inserted = k - static_cast<int>(level.in_sizes.size());
      level.in_sizes.insert(level.in_sizes.begin(), level.inserted, 1);
    }
    const size_t base = level.in_sizes.size() - k;
    std::vector<int64_t> merged(level.in_sizes.begin() + base,
                                level.in_sizes.end());
    for (int i = 0; i + 1 < k; ++i) {
      if (level.tile[i] != Tile::kCombineDimension) continue;
      std::optional<int64_t> m = CheckedMul(merged[i], merged[i + 1]);
      if (!m) return TooBig(array);
      merged[i + 1] = *m;
    }
    level.out_sizes.assign(level.in_sizes.begin(),
                           level.in_sizes.begin() + base);
    for (int i = 0; i < k; ++i) {
      if (level.tile[i] != Tile::kCombineDimension) {
        level.out_sizes.push_back(CeilDiv(merged[i], level.tile[i]));
      }
    }
    for (int i = 0; i < k; ++i) {
      if (level.tile[i] != Tile::kCombineDimension)
        level.out_sizes.push_back(level.tile[i]);
    }
    result.levels_.push_back(std::move(level));
  }

  int64_t logical = 1;
  for (int64_t d : array.dimensions()) {
    std::optional<int64_t> next = CheckedMul(logical, d);
    if (!next) return TooBig(array);
    logical = *next;
  }
  result.num_logical_ = logical;
  int64_t tiled_count = logical == 0 ? 0 : 1;
  for (int64_t d : result.final_dims()) {
    if (tiled_count == 0) break;
    std::optional<int64_t> next = CheckedMul(tiled_count, d);
    if (!next) return TooBig(array);
    tiled_count = *next;
  }
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
  std::vector<int64_t> v(rank);
  for (int i = 0; i < rank; ++i) {
    v[i] = index[physical_to_logical_[i]];
    if (v[i] < 0 || v[i] >= levels_[0].out_sizes[i]) std::abort();
  }
  for (size_t l = 1; l < levels_.size(); ++l) {
    const Level& level = levels_[l];
    v.insert(v.begin(), level.inserted, 0);
    const int k = static_cast<int>(level.tile.size());
    const size_t base = v.size() - k;
    std::vector<int64_t> out(v.begin(), v.begin() + base), within;
    int64_t carry = 0;
    for (int i = 0; i < k; ++i) {
      // A merged dim's index is a mixed-radix number of the dims merged in.
      int64_t value = carry * level.in_sizes[base + i] + v[base + i];
      if (level.tile[i] == Tile::kCombineDimension) {
        carry = value;
        continue;
      }
      carry = 0;
      out.push_back(value / level.tile[i]);
      within.push_back(value % level.tile[i]);
    }
    out.insert(out.end(), within.begin(), within.end());
    v = std::move(out);
  }
  const std::vector<int64_t>& dims = levels_.back().out_sizes;
  int64_t linear = 0;
  for (size_t i = 0; i < dims.size(); ++i) linear = linear * dims[i] + v[i];
  return linear;
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
