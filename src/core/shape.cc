#include "xlayout/shape.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace xlayout {

Shape::Shape(PrimitiveType element_type, std::vector<int64_t> dims)
    : element_type_(element_type),
      dims_(std::move(dims)),
      dynamic_(dims_.size(), false) {
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (dims_[i] == kUnboundedSize) dynamic_[i] = true;
  }
}

Shape Shape::MakeArray(PrimitiveType element_type, std::vector<int64_t> dims,
                       std::optional<Layout> layout) {
  Shape shape(element_type, std::move(dims));
  shape.layout_ = std::move(layout);
  return shape;
}

Shape Shape::MakeTuple(std::vector<Shape> elements) {
  Shape shape;
  shape.element_type_ = PrimitiveType::kTuple;
  shape.tuple_shapes_ = std::move(elements);
  return shape;
}

Shape Shape::MakeToken() { return Shape(PrimitiveType::kToken, {}); }
Shape Shape::MakeOpaque() { return Shape(PrimitiveType::kOpaque, {}); }

Shape Shape::MakeBuffer(Shape array) {
  Shape shape;
  shape.element_type_ = PrimitiveType::kBuffer;
  shape.tuple_shapes_.push_back(std::move(array));
  return shape;
}

void Shape::set_dimension(int i, int64_t size, bool is_dynamic) {
  dims_[i] = size;
  dynamic_[i] = is_dynamic || size == kUnboundedSize;
}

bool Shape::is_static() const {
  if (IsTuple() || IsBuffer()) {
    return std::all_of(tuple_shapes_.begin(), tuple_shapes_.end(),
                       [](const Shape& s) { return s.is_static(); });
  }
  return std::none_of(dynamic_.begin(), dynamic_.end(),
                      [](bool d) { return d; });
}

bool Shape::is_unbounded_dynamic() const {
  if (IsTuple() || IsBuffer()) {
    return std::any_of(tuple_shapes_.begin(), tuple_shapes_.end(),
                       [](const Shape& s) { return s.is_unbounded_dynamic(); });
  }
  return std::any_of(dims_.begin(), dims_.end(),
                     [](int64_t d) { return d == kUnboundedSize; });
}

Layout* Shape::mutable_layout() {
  if (!layout_.has_value()) layout_.emplace();
  return &*layout_;
}

std::string Shape::ToString(bool print_layout) const {
  if (IsTuple()) {
    std::string out = "(";
    for (size_t i = 0; i < tuple_shapes_.size(); ++i) {
      if (i > 0) {
        // XLA marks every fifth element so long tuples stay navigable.
        out += i % 5 == 0 ? absl::StrCat(", /*index=", i, "*/") : ", ";
      }
      out += tuple_shapes_[i].ToString(print_layout);
    }
    out += ')';
    return out;
  }
  if (IsBuffer()) {
    return absl::StrCat(
        "b(",
        tuple_shapes_.empty() ? "" : tuple_shapes_[0].ToString(print_layout),
        ")");
  }
  std::string out(PrimitiveTypeName(element_type_));
  out += '[';
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i > 0) out += ',';
    if (dims_[i] == kUnboundedSize) {
      out += '?';
    } else {
      if (dynamic_[i]) out += "<=";
      absl::StrAppend(&out, dims_[i]);
    }
  }
  out += ']';
  if (print_layout && IsArray() && layout_.has_value()) {
    std::string layout = layout_->ToString();
    // A scalar's empty layout is left out; `f32[]{:T(256)}` still prints.
    if (!(dims_.empty() && layout == "{}")) out += layout;
  }
  return out;
}

bool SameLogicalShape(const Shape& a, const Shape& b) {
  if (a.element_type() != b.element_type()) return false;
  if (a.IsTuple() || a.IsBuffer()) {
    if (a.tuple_shapes().size() != b.tuple_shapes().size()) return false;
    for (size_t i = 0; i < a.tuple_shapes().size(); ++i) {
      if (!SameLogicalShape(a.tuple_shapes(i), b.tuple_shapes(i))) return false;
    }
    return true;
  }
  return a.dimensions() == b.dimensions() &&
         a.dynamic_dimensions() == b.dynamic_dimensions();
}

}  // namespace xlayout
