// Device byte sizes of shapes, three ways:
//   logical_bytes: XLA's ShapeUtil::ByteSizeOf; tiling ignored.
//   xla_bytes:     XLA's ShapeUtil::ArraySize; first tile level only. This is
//                  the number the runtime compares (E0102).
//   exact_bytes:   the real footprint; every tile level, combined dims, L(n),
//                  E(n) and split configs applied.
// All arithmetic is overflow-checked; a size that does not fit in int64 is an
// OUT_OF_RANGE error, never a wrong number.
#ifndef XLAYOUT_SIZE_H_
#define XLAYOUT_SIZE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "xlayout/shape.h"

namespace xlayout {

// ByteSizeOf. Tuples count `pointer_size` bytes per direct element (the
// index table), opaque is `pointer_size`, token is 0.
absl::StatusOr<int64_t> LogicalBytes(const Shape& shape,
                                     int64_t pointer_size = 8);

// ArraySize for an array (or buffer) shape.
absl::StatusOr<int64_t> XlaBytes(const Shape& shape);

// The exact footprint of an array (or buffer) shape, M(n) prefix excluded.
absl::StatusOr<int64_t> ExactBytes(const Shape& shape);

// ArrayDataSize: offset of the last element + 1, by XLA's LinearIndex (first
// tile level; rank 1 ignores tiles).
absl::StatusOr<int64_t> XlaArrayDataBytes(const Shape& shape);

// OK when a device buffer of `array`'s layout can hold its bytes, that is
// when ExactBytes == XlaBytes. XLA sizes a device buffer by the first tile
// level only (ShapeUtil::ArraySize); a later level that pads, as bf16
// T(1,128)(2,1) does, needs more bytes than that buffer has.
// FAILED_PRECONDITION naming the level and both sizes otherwise. The commands
// that write device buffers (relayout, checkpoint import) refuse such layouts.
absl::Status CheckFitsDeviceBuffer(const Shape& array);

// One physical dimension, most major first.
struct DimSizeInfo {
  int64_t dim = 0;                // Logical dimension number.
  int64_t extent = 0;             // Logical extent (bound for dynamic dims).
  int64_t padded_extent = 0;      // After every tile level (exact).
  int64_t xla_padded_extent = 0;  // After the first tile level only.
  // The first-level tile dim that pads it; nullopt when untiled; kCombine
  // (INT64_MIN) when merged into the next dim by `*`.
  std::optional<int64_t> tile;
};

struct ArraySizes {
  int64_t logical_bytes = 0;
  int64_t xla_bytes = 0;
  int64_t exact_bytes = 0;
  int64_t metadata_prefix_bytes = 0;  // M(n); counted by neither size.
  // exact_bytes / logical_bytes; 1 when logical_bytes is 0.
  double padding_factor = 1.0;
  std::vector<DimSizeInfo> dims;
  // Why exact and XLA differ, and where XLA's own function is undefined.
  std::vector<std::string> notes;
};

// All of the above for an array or buffer shape. Tuples: use the elements.
absl::StatusOr<ArraySizes> ComputeArraySizes(const Shape& shape);

// Sizes of any shape, with tuples broken down into their elements.
struct ShapeSizes {
  Shape shape;
  // False for opaque[] (a backend-defined pointer) and for a tuple with such
  // an element at any depth: its total would be made up. The byte counts are
  // then meaningless (0) and sizes.notes say why; for a tuple, one note per
  // unsized leaf: "element {1,0}: opaque[] has a backend-defined size (a
  // pointer), so the tuple has no total size". Token and empty tuples have
  // size 0.
  bool has_size = true;
  // Arrays: ComputeArraySizes. Tuples with a size: logical, xla and exact
  // bytes are the checked sums over the elements (no index table, as the
  // runtime's per-buffer sizes), padding_factor is exact / logical, dims are
  // empty.
  ArraySizes sizes;
  std::vector<ShapeSizes> elements;  // Tuple elements, in order.
};

// Every sum is overflow-checked: OUT_OF_RANGE names the shape whose total
// does not fit in int64.
absl::StatusOr<ShapeSizes> ComputeShapeSizes(const Shape& shape);

// The checked sum of byte counts; OUT_OF_RANGE "total <what> does not fit in
// int64" on overflow.
absl::StatusOr<int64_t> SumBytes(absl::Span<const int64_t> bytes,
                                 absl::string_view what);

// What physically differs between two shapes, for someone holding a buffer
// in layout `a` that a program expects in layout `b`.
enum class PhysicalDifference {
  kIdentical,          // Same shape, same layout text.
  kEquivalent,         // Layouts spelled differently (e.g. E(32) on f32,
                       // or a tile covering the whole array) that describe
                       // the same bytes (SameStoredBytes): nothing to do.
  kMemorySpaceOnly,    // Same bytes in the same order in another memory
                       // space S(n): a copy between memories, no relayout.
  kSameSizeReordered,  // Same xla_bytes, different element order: XLA's size
                       // check passes but the buffer needs a relayout.
  kDifferentSize,      // Different xla_bytes: E0102, relayout needed.
  kDifferentLogicalShape,  // Different element type or dims: no relayout.
};

// "identical", "equivalent", "memory_space", "reordered", "size",
// "logical_shape".
absl::string_view PhysicalDifferenceName(PhysicalDifference difference);

// Whether two array shapes (a missing layout is the default one) store the
// same bytes: same logical shape, and every element at the same bit offset
// in buffers of the same length, ignoring S(n). E.g. f32[8,128]{1,0} and
// {1,0:T(8,128)} (one tile covers the array), or any two layouts of an
// empty array with the same length. Conservative: false for what it cannot
// compare cheaply (split configs, combined dims, dynamic dims, sparse
// layouts, dims summing over 4M). Errors as ComputeArraySizes.
absl::StatusOr<bool> SameStoredBytes(const Shape& a, const Shape& b);

// Compares two array shapes (a missing layout is the default one). Errors as
// ComputeArraySizes.
absl::StatusOr<PhysicalDifference> ComparePhysical(const Shape& a,
                                                   const Shape& b);

}  // namespace xlayout

#endif  // XLAYOUT_SIZE_H_
