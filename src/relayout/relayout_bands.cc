#include "xlayout/relayout_bands.h"

#include <numeric>

#include "xlayout/size.h"

namespace xlayout {
namespace {

// How many rows of the major-most dimension the first tile level blocks
// together (1 when no tile covers it); nullopt for layouts that do not
// split into bands.
std::optional<int64_t> MajorTileRows(const Shape& shape) {
  if (!shape.IsArray() || !shape.is_static() || !shape.has_layout()) {
    return std::nullopt;
  }
  const Layout& layout = shape.layout();
  const int64_t rank = shape.rank();
  if (rank == 0 || layout.IsSparse() || !layout.split_configs().empty() ||
      layout.has_physical_shape() ||
      layout.dynamic_shape_metadata_prefix_bytes() != 0 ||
      layout.tail_padding_alignment_in_elements() > 1) {
    return std::nullopt;
  }
  if (layout.tiles().empty()) return 1;
  for (const Tile& tile : layout.tiles()) {
    if (tile.has_combined_dims()) return std::nullopt;
    for (int64_t size : tile.dims()) {
      if (size <= 0) return std::nullopt;
    }
  }
  const Tile& first = layout.tiles()[0];
  const int64_t tile_rank = static_cast<int64_t>(first.dims().size());
  if (tile_rank > rank) return std::nullopt;
  // Tiles cover the minor-most dimensions: the first tile dim covers the
  // major-most only when the tile has the shape's rank.
  return tile_rank == rank ? first.dimension(0) : 1;
}

// True when bands of `rows` (and the rest) add up to the whole, in bytes.
bool BandsAddUp(const Shape& shape, int64_t d, int64_t rows) {
  const int64_t n = shape.dimensions(static_cast<int>(d));
  absl::StatusOr<int64_t> whole = ExactBytes(shape);
  absl::StatusOr<int64_t> band = ExactBytes(BandShape(shape, d, rows));
  if (!whole.ok() || !band.ok()) return false;
  int64_t sum = *band * (n / rows);
  if (n % rows != 0) {
    absl::StatusOr<int64_t> rest = ExactBytes(BandShape(shape, d, n % rows));
    if (!rest.ok()) return false;
    sum += *rest;
  }
  return sum == *whole;
}

}  // namespace

Shape BandShape(const Shape& shape, int64_t dimension, int64_t rows) {
  Shape band = shape;
  band.set_dimension(static_cast<int>(dimension), rows);
  return band;
}

std::optional<RelayoutBands> FindRelayoutBands(const Shape& from,
                                               const Shape& to) {
  if (from.element_type() != to.element_type() ||
      from.dimensions() != to.dimensions()) {
    return std::nullopt;
  }
  std::optional<int64_t> from_rows = MajorTileRows(from);
  std::optional<int64_t> to_rows = MajorTileRows(to);
  if (!from_rows.has_value() || !to_rows.has_value()) return std::nullopt;
  const int64_t d = from.layout().minor_to_major().back();
  if (to.layout().minor_to_major().back() != d) return std::nullopt;
  const int64_t n = from.dimensions(static_cast<int>(d));
  if (*from_rows > n || *to_rows > n) return std::nullopt;
  int64_t multiple;
  if (__builtin_mul_overflow(*from_rows / std::gcd(*from_rows, *to_rows),
                             *to_rows, &multiple) ||
      multiple > n) {
    return std::nullopt;
  }
  if (!BandsAddUp(from, d, multiple) || !BandsAddUp(to, d, multiple)) {
    return std::nullopt;
  }
  return RelayoutBands{d, multiple};
}

}  // namespace xlayout
