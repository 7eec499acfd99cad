#include "xlayout/layout_util.h"

#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "xlayout/status_macros.h"
#include "xlayout/tiling.h"

namespace xlayout {

Shape HostShape(const Shape& shape) {
  const Shape& array = shape.IsBuffer() ? shape.buffer_shape() : shape;
  Shape host = array;
  host.set_layout(DefaultLayout(array.rank()));
  return host;
}

int64_t MemorySpaceOf(const Shape& shape) {
  if (shape.IsBuffer()) return MemorySpaceOf(shape.buffer_shape());
  if (!shape.IsArray() || !shape.has_layout()) return 0;
  return shape.layout().memory_space();
}

Shape WithoutMemorySpace(const Shape& shape) {
  Shape copy = shape;
  if (copy.has_layout()) copy.mutable_layout()->set_memory_space(0);
  return copy;
}

bool SamePhysicalLayout(const Shape& a, const Shape& b) {
  return WithoutMemorySpace(a) == WithoutMemorySpace(b);
}

uint64_t LayoutKey(const Shape& on_device_shape) {
  return absl::HashOf(WithoutMemorySpace(on_device_shape));
}

std::string TileLevelPadding::ToString() const {
  return absl::StrCat("tile level ", level, " ", tile.ToString(), " pads ",
                      elements_before, " elements to ", elements_after);
}

absl::StatusOr<std::optional<TileLevelPadding>> FindLaterTileLevelPadding(
    const Shape& array) {
  if (!array.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an array shape, got ", array.ToString(true)));
  }
  Shape shape = array;
  if (!shape.has_layout()) shape.set_layout(DefaultLayout(shape.rank()));
  if (shape.layout().tiles().size() < 2) return std::nullopt;
  XLAYOUT_ASSIGN_OR_RETURN(TiledShape tiled, TiledShape::Create(shape));
  // An empty array has nothing to pad (and the products of its other dims
  // need not fit in int64).
  if (tiled.num_elements() == 0) return std::nullopt;
  for (int l = 1; l < tiled.num_levels(); ++l) {
    // Padding only grows the count, so neither product exceeds
    // num_elements() and neither overflows.
    int64_t before = 1, after = 1;
    for (const TiledDim& d : tiled.level(l)) before *= d.size;
    for (const TiledDim& d : tiled.level(l + 1)) after *= d.size;
    if (after > before) {
      TileLevelPadding p;
      p.level = l + 1;
      p.tile = Tile(
          std::vector<int64_t>(tiled.tile(l).begin(), tiled.tile(l).end()));
      p.elements_before = before;
      p.elements_after = after;
      return p;
    }
  }
  return std::nullopt;
}

}  // namespace xlayout
