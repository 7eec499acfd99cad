// XLA's ShapeProto in protobuf text format, as `Shape::DebugString()`
// (multi-line) and `ShortDebugString()` (one line) print it, read into a
// Shape. TensorFlow's TPUExecute shape check and XLA's layout validation
// print shapes this way:
//
//   element_type: F32
//   dimensions: 512
//   dimensions: 128
//   layout {
//     minor_to_major: 1
//     minor_to_major: 0
//     tiles { dimensions: 8 dimensions: 128 }
//     tail_padding_alignment_in_elements: 1
//   }
//   is_dynamic_dimension: false
//   is_dynamic_dimension: false
//
// Whitespace is not significant, so text whose whitespace a log scanner
// removed (`element_type:F32dimensions:512...`) reads the same. Fields of
// ShapeProto: element_type, dimensions, is_dynamic_dimension, tuple_shapes,
// layout. Of LayoutProto: minor_to_major, tiles, element_size_in_bits,
// memory_space, tail_padding_alignment_in_elements, dim_level_types,
// dim_unique, dim_ordered, index_primitive_type, pointer_primitive_type,
// split_configs, physical_shape, dynamic_shape_metadata_prefix_bytes; older
// fields (format, max_sparse_elements) and unknown LayoutProto fields are
// skipped. Repeated scalars may also be written as lists (`dimensions: [2,
// 3]`).
//
// Nothing is validated beyond the syntax: a layout whose minor_to_major does
// not fit the rank is returned as printed, so that a report can say what is
// malformed (see ValidateShape in validate.h).
#ifndef XLAYOUT_SHAPE_PROTO_TEXT_H_
#define XLAYOUT_SHAPE_PROTO_TEXT_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/shape.h"

namespace xlayout {

// The result of reading a ShapeProto at the start of some text.
struct ShapeProtoRead {
  absl::Status status;  // OK, or INVALID_ARGUMENT "col N: ..." on bad syntax.
  Shape shape;          // Valid when status is OK.
  // On success: bytes read (up to the end of the last field, trailing
  // whitespace excluded). On error: where reading failed.
  size_t end = 0;
  // The text ended where the proto could still have continued (after a
  // complete field, or inside one): more text may change the result.
  bool at_end = false;
};

// Reads one ShapeProto from the start of `text` and stops before the first
// token that is not one of its fields (e.g. "; got" after the TPUExecute
// message's first shape). At least one field must be read.
ShapeProtoRead ReadShapeProtoText(absl::string_view text);

// The whole of `text` (surrounding whitespace allowed) as one ShapeProto.
absl::StatusOr<Shape> ParseShapeProtoText(absl::string_view text);

}  // namespace xlayout

#endif  // XLAYOUT_SHAPE_PROTO_TEXT_H_
