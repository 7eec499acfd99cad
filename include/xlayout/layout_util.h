// Layout helpers on shapes, in one place (as XLA keeps them in
// layout_util.h): memory spaces, layout equality and keys that ignore the
// memory space.
//
// StorageBitsPerElement (physical_index.h) stays with the relayout engine:
// it says which E(n) storages the engine can address, not what a layout is.
#ifndef XLAYOUT_LAYOUT_UTIL_H_
#define XLAYOUT_LAYOUT_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "xlayout/layout.h"
#include "xlayout/shape.h"
#include "xlayout/tile.h"

namespace xlayout {

// The host layout of `shape`: same element type and dims, row-major, no
// tiles, no packing, no memory space (what .npy and safetensors hold). A
// buffer shape b(...) answers for its array.
Shape HostShape(const Shape& shape);

// The memory space of an array shape: its layout's S(n); 0 without a layout
// or for non-arrays. A buffer shape b(...) answers for its array.
int64_t MemorySpaceOf(const Shape& shape);

// `shape` with S(n) cleared (the memory kind is compared separately).
Shape WithoutMemorySpace(const Shape& shape);

// Same logical shape and same layout, ignoring S(n). Compares by value.
bool SamePhysicalLayout(const Shape& a, const Shape& b);

// A key equal for shapes with SamePhysicalLayout (by value, through
// AbslHashValue; never through printed text). Stable within one process.
uint64_t LayoutKey(const Shape& on_device_shape);

// A tile level after the first that pads the tiles of the level before it,
// e.g. bf16 T(1,128)(2,1): the (2,1) sub-tile pads each 1-row tile to 2
// rows. XLA sizes a device buffer by the first tile level only
// (ShapeUtil::ArraySize: "We assume the sub-tiles won't cause additional
// padding"), so a layout with such a level needs more bytes than a device
// buffer of that layout has: no buffer of XLA's size can hold it.
struct TileLevelPadding {
  int level = 0;  // 1-based: 2 for the second tile level.
  Tile tile;
  int64_t elements_before = 0;  // Elements after the level before it.
  int64_t elements_after = 0;   // Elements after this level.
  // "tile level 2 (2,1) pads 6144 elements to 12288".
  std::string ToString() const;
};

// The first later tile level of `array` (an array shape; the default layout
// if it has none) that pads; nullopt when none does. Errors are those of
// TiledShape::Create (malformed tiles, overflow).
absl::StatusOr<std::optional<TileLevelPadding>> FindLaterTileLevelPadding(
    const Shape& array);

}  // namespace xlayout

#endif  // XLAYOUT_LAYOUT_UTIL_H_
