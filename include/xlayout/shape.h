// XLA shapes: arrays (static, bounded-dynamic and unbounded dims), tuples,
// token[], opaque[] and buffers. The logical shape; its physical storage is
// described by the optional Layout.
#ifndef XLAYOUT_SHAPE_H_
#define XLAYOUT_SHAPE_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "xlayout/layout.h"
#include "xlayout/primitive_type.h"

namespace xlayout {

class Shape {
 public:
  // Size stored for an unbounded dynamic dimension (`?`).
  static constexpr int64_t kUnboundedSize = std::numeric_limits<int64_t>::min();

  Shape() = default;
  // An array (or token/opaque with no dims).
  Shape(PrimitiveType element_type, std::vector<int64_t> dims);
  static Shape MakeArray(PrimitiveType element_type, std::vector<int64_t> dims,
                         std::optional<Layout> layout = std::nullopt);
  static Shape MakeTuple(std::vector<Shape> elements);
  static Shape MakeToken();
  static Shape MakeOpaque();
  // b(array): a buffer holding an array.
  static Shape MakeBuffer(Shape array);

  PrimitiveType element_type() const { return element_type_; }
  void set_element_type(PrimitiveType t) { element_type_ = t; }
  bool IsArray() const { return IsArrayType(element_type_); }
  bool IsTuple() const { return element_type_ == PrimitiveType::kTuple; }
  bool IsToken() const { return element_type_ == PrimitiveType::kToken; }
  bool IsOpaque() const { return element_type_ == PrimitiveType::kOpaque; }
  bool IsBuffer() const { return element_type_ == PrimitiveType::kBuffer; }

  // Array dimensions. A dynamic dim stores its bound, or kUnboundedSize.
  int rank() const { return static_cast<int>(dims_.size()); }
  absl::Span<const int64_t> dimensions() const { return dims_; }
  int64_t dimensions(int i) const { return dims_[i]; }
  // There is no mutable_dimensions(): a dim changes with set_dimension, which
  // keeps its dynamic flag in step (a `?` size is always dynamic).
  bool is_dynamic_dimension(int i) const { return dynamic_[i]; }
  const std::vector<bool>& dynamic_dimensions() const { return dynamic_; }
  void set_dimension(int i, int64_t size, bool is_dynamic = false);
  bool is_unbounded_dynamic_dimension(int i) const {
    return dims_[i] == kUnboundedSize;
  }
  bool is_static() const;
  bool is_unbounded_dynamic() const;

  bool has_layout() const { return layout_.has_value(); }
  const Layout& layout() const { return *layout_; }
  Layout* mutable_layout();  // Creates an empty layout if there is none.
  void set_layout(Layout layout) { layout_ = std::move(layout); }
  void clear_layout() { layout_.reset(); }

  // Tuple elements, or the single array of a buffer.
  absl::Span<const Shape> tuple_shapes() const { return tuple_shapes_; }
  std::vector<Shape>* mutable_tuple_shapes() { return &tuple_shapes_; }
  const Shape& tuple_shapes(int i) const { return tuple_shapes_[i]; }
  // The array inside b(...).
  const Shape& buffer_shape() const { return tuple_shapes_[0]; }

  // XLA's Shape::ToString(print_layout): HumanString / HumanStringWithLayout.
  std::string ToString(bool print_layout = true) const;

  // By value: element type, dims, dynamic-ness, layout, tuple elements.
  friend bool operator==(const Shape& a, const Shape& b) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Shape& s) {
    h = H::combine(std::move(h), s.element_type_, s.dims_, s.dynamic_);
    // As absl hashes an optional: (value, true) or (false).
    h = s.layout_.has_value() ? H::combine(std::move(h), *s.layout_, true)
                              : H::combine(std::move(h), false);
    return H::combine(std::move(h), s.tuple_shapes_);
  }

 private:
  PrimitiveType element_type_ = PrimitiveType::kInvalid;
  std::vector<int64_t> dims_;
  std::vector<bool> dynamic_;
  std::optional<Layout> layout_;
  std::vector<Shape> tuple_shapes_;
};

// Same element type, dims and dynamic-ness, ignoring layouts.
bool SameLogicalShape(const Shape& a, const Shape& b);

}  // namespace xlayout

#endif  // XLAYOUT_SHAPE_H_
