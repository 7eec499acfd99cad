#include "xlayout/validate.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "xlayout/primitive_type.h"
#include "xlayout/status_macros.h"

namespace xlayout {

absl::Status ValidateLayoutForShape(const Layout& layout, const Shape& shape) {
  if (shape.IsTuple()) {
    for (const Shape& element : shape.tuple_shapes())
      XLAYOUT_RETURN_IF_ERROR(ValidateShape(element));
    return absl::OkStatus();
  }
  if (!shape.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shape ", shape.ToString(false),
                     " has a layout but is not an array shape"));
  }
  const int rank = shape.rank();
  auto m2m = layout.minor_to_major();
  if (static_cast<int>(m2m.size()) != rank) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "layout minor_to_major field contains %d elements, but shape is rank "
        "%d: {%s}; "
        "shape: %s",
        m2m.size(), rank, absl::StrJoin(m2m, ", "), shape.ToString(false)));
  }
  std::vector<bool> seen(rank, false);
  for (int64_t d : m2m) {
    // XLA's exact text: "{0, 2}; shape: f32[2,3]".
    if (d < 0 || d >= rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layout minor_to_major field has out-of-bounds value: {",
          absl::StrJoin(m2m, ", "), "}; shape: ", shape.ToString(false)));
    }
    if (seen[d]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layout minor_to_major field has duplicate values: {",
          absl::StrJoin(m2m, ", "), "}; shape: ", shape.ToString(false)));
    }
    seen[d] = true;
  }
  auto check_len = [&](size_t n, const char* field) -> absl::Status {
    if (n != 0 && static_cast<int>(n) != rank) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "layout %s field contains %d elements, but shape is rank %d: %s",
          field, n, rank, layout.ToString()));
    }
    return absl::OkStatus();
  };
  XLAYOUT_RETURN_IF_ERROR(
      check_len(layout.dim_level_types().size(), "dim_level_types"));
  XLAYOUT_RETURN_IF_ERROR(
      check_len(layout.dim_ordered().size(), "dim_ordered"));
  XLAYOUT_RETURN_IF_ERROR(check_len(layout.dim_unique().size(), "dim_unique"));
  if (layout.tail_padding_alignment_in_elements() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("layout tail_padding_alignment_in_elements must be "
                     "positive (L(n) with n > 0): ",
                     layout.ToString()));
  }
  if (layout.IsSparse()) {
    if (!layout.tiles().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("layout has tiles, but the shape is a sparse array: ",
                       layout.ToString()));
    }
  } else {
    if (layout.index_primitive_type() != PrimitiveType::kInvalid) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layout has a index_primitive_type, but is not a sparse array: ",
          layout.ToString()));
    }
    if (layout.pointer_primitive_type() != PrimitiveType::kInvalid) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layout has a pointer_primitive_type, but is not a sparse array: ",
          layout.ToString()));
    }
    if (layout.has_physical_shape()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layout has a physical_shape, but is not a sparse array: ",
          layout.ToString()));
    }
    for (const Tile& tile : layout.tiles()) {
      if (tile.rank() == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("layout has an empty tile T(): ", layout.ToString()));
      }
      for (int64_t d : tile.dims()) {
        if (d == 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "layout has a tile with a zero dimension: ", layout.ToString()));
        }
      }
    }
  }
  if (layout.element_size_in_bits() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout element_size_in_bits must be >= 0: ", layout.ToString()));
  }
  // E(n) may pack a sub-byte type (s4 as E(4)) or widen an element (TPU's
  // pred as E(32)), never cut one: XLA's CPU/GPU shape verifier rejects
  // custom element sizes on any type that is not sub-byte
  // (cpu_gpu_shape_verifier.cc), and fewer bits than the type's width cannot
  // hold its values, so sizes computed from them describe no real buffer.
  const int64_t e = layout.element_size_in_bits();
  if (e != 0 && shape.IsArray() && e < BitWidth(shape.element_type())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "E(", e, ") in ", shape.ToString(true), " gives each element ", e,
        " bits, fewer than the ", BitWidth(shape.element_type()), " bits of ",
        PrimitiveTypeName(shape.element_type()),
        "; element_size_in_bits must be 0 (the natural size) or at least the "
        "type's bit width"));
  }
  return absl::OkStatus();
}

absl::Status ValidateShape(const Shape& shape) {
  switch (shape.element_type()) {
    case PrimitiveType::kTuple:
      for (const Shape& element : shape.tuple_shapes())
        XLAYOUT_RETURN_IF_ERROR(ValidateShape(element));
      return absl::OkStatus();
    case PrimitiveType::kBuffer:
      if (shape.tuple_shapes().size() != 1 || !shape.buffer_shape().IsArray()) {
        return absl::InvalidArgumentError(
            "a buffer shape must hold exactly one array shape");
      }
      return ValidateShape(shape.buffer_shape());
    case PrimitiveType::kToken:
    case PrimitiveType::kOpaque:
      return absl::OkStatus();
    default:
      break;
  }
  if (!shape.IsArray()) {
    return absl::InvalidArgumentError("shape has an invalid element type");
  }
  if (shape.dynamic_dimensions().size() != shape.dimensions().size()) {
    return absl::InvalidArgumentError(
        "shape dynamic_dimensions and dimensions differ in length");
  }
  for (int i = 0; i < shape.rank(); ++i) {
    int64_t d = shape.dimensions(i);
    bool ok =
        d >= 0 || (shape.is_dynamic_dimension(i) && d == Shape::kUnboundedSize);
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrFormat("shape's dimension %d has invalid size %d: %s", i, d,
                          shape.ToString(false)));
    }
  }
  if (shape.has_layout())
    XLAYOUT_RETURN_IF_ERROR(ValidateLayoutForShape(shape.layout(), shape));
  return absl::OkStatus();
}

}  // namespace xlayout
