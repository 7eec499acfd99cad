#include "xlayout/relayout_bands.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "xlayout/physical_index.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

// How many rows of the major-most dimension the tiling blocks together (1
// when no tile covers it); nullopt for layouts that do not split into bands.
// Each level tiles the shape the previous one made; a level as long as that
// shape covers its major-most dimension, which is the original major-most
// dimension or its count of blocks, so the block grows by its first dim.
std::optional<int64_t> MajorTileRows(const Shape& shape) {
  if (!shape.IsArray() || !shape.is_static() || !shape.has_layout()) {
    return std::nullopt;
  }
  const Layout& layout = shape.layout();
  if (shape.rank() == 0 || layout.IsSparse() ||
      !layout.split_configs().empty() || layout.has_physical_shape() ||
      layout.dynamic_shape_metadata_prefix_bytes() != 0 ||
      layout.tail_padding_alignment_in_elements() > 1) {
    return std::nullopt;
  }
  int64_t rows = 1;
  int64_t rank = shape.rank();
  for (const Tile& tile : layout.tiles()) {
    if (tile.has_combined_dims()) return std::nullopt;
    for (int64_t size : tile.dims()) {
      if (size <= 0) return std::nullopt;
    }
    const int64_t tile_rank = static_cast<int64_t>(tile.dims().size());
    // A longer tile pads the shape with leading 1s, which would move the
    // major-most dimension off the front.
    if (tile_rank > rank) return std::nullopt;
    if (tile_rank == rank &&
        __builtin_mul_overflow(rows, tile.dimension(0), &rows)) {
      return std::nullopt;
    }
    rank += tile_rank;
  }
  return rows;
}

// The storage bits of `shape` (packed elements take fewer than 8).
std::optional<int64_t> StorageBits(const Shape& shape) {
  absl::StatusOr<PhysicalLayout> layout = PhysicalLayout::Create(shape);
  int64_t bits;
  if (!layout.ok() || __builtin_mul_overflow(layout->num_storage_elements(),
                                             layout->element_bits(), &bits)) {
    return std::nullopt;
  }
  return bits;
}

// The smallest multiple of `rows` whose bands start on a byte: packed
// elements can leave a band a fraction of a byte long.
std::optional<int64_t> ByteAlignedRows(const Shape& shape, int64_t d,
                                       int64_t rows) {
  std::optional<int64_t> bits = StorageBits(BandShape(shape, d, rows));
  if (!bits.has_value()) return std::nullopt;
  int64_t aligned;
  if (__builtin_mul_overflow(rows, 8 / std::gcd<int64_t>(*bits, 8), &aligned)) {
    return std::nullopt;
  }
  return aligned;
}

// True when bands of `rows` (and the rest) add up to the whole, in bits:
// every band but the last a whole number of bytes.
bool BandsAddUp(const Shape& shape, int64_t d, int64_t rows) {
  const int64_t n = shape.dimensions(static_cast<int>(d));
  std::optional<int64_t> whole = StorageBits(shape);
  std::optional<int64_t> band = StorageBits(BandShape(shape, d, rows));
  if (!whole.has_value() || !band.has_value() || *band % 8 != 0) return false;
  int64_t sum;
  if (__builtin_mul_overflow(*band, n / rows, &sum)) return false;
  if (n % rows != 0) {
    std::optional<int64_t> rest = StorageBits(BandShape(shape, d, n % rows));
    if (!rest.has_value()) return false;
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
  for (const Shape* shape : {&from, &to}) {
    std::optional<int64_t> aligned = ByteAlignedRows(*shape, d, multiple);
    if (!aligned.has_value() || *aligned > n) return std::nullopt;
    multiple = *aligned;
  }
  if (!BandsAddUp(from, d, multiple) || !BandsAddUp(to, d, multiple)) {
    return std::nullopt;
  }
  return RelayoutBands{d, multiple};
}

absl::StatusOr<std::optional<RelayoutBandPlans>> PlanRelayoutBands(
    const Shape& from, const Shape& to, int64_t target_bytes,
    BandPlanner plan) {
  std::optional<RelayoutBands> bands = FindRelayoutBands(from, to);
  if (!bands.has_value()) return std::nullopt;
  const int64_t d = bands->dimension;
  const int64_t n = from.dimensions(static_cast<int>(d));
  XLAYOUT_ASSIGN_OR_RETURN(
      int64_t unit_bytes, ExactBytes(BandShape(from, d, bands->rows_multiple)));
  // At most enough bands to cover n: an input that fits in one band is
  // converted whole.
  const int64_t units = std::clamp<int64_t>(
      target_bytes / std::max<int64_t>(unit_bytes, 1), 1,
      (n + bands->rows_multiple - 1) / bands->rows_multiple);
  RelayoutBandPlans plans;
  plans.dimension = d;
  plans.rows = units * bands->rows_multiple;
  if (plans.rows >= n) return std::nullopt;
  auto plan_for = [&](int64_t rows) {
    return plan(BandShape(from, d, rows), BandShape(to, d, rows));
  };
  XLAYOUT_ASSIGN_OR_RETURN(plans.full, plan_for(plans.rows));
  if (n % plans.rows != 0) {
    XLAYOUT_ASSIGN_OR_RETURN(plans.rest, plan_for(n % plans.rows));
  }
  plans.count = (n + plans.rows - 1) / plans.rows;
  XLAYOUT_ASSIGN_OR_RETURN(int64_t input_bytes, ExactBytes(from));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t output_bytes, ExactBytes(to));
  const int64_t full = n / plans.rows;
  const int64_t in = plans.full->input_bytes() * full +
                     (plans.rest ? plans.rest->input_bytes() : 0);
  const int64_t out = plans.full->output_bytes() * full +
                      (plans.rest ? plans.rest->output_bytes() : 0);
  if (in != input_bytes || out != output_bytes) {
    return absl::InternalError(
        absl::StrCat("bands of ", from.ToString(true), " -> ",
                     to.ToString(true), " add up to ", in, " -> ", out,
                     " bytes, not ", input_bytes, " -> ", output_bytes));
  }
  return plans;
}

}  // namespace xlayout
