#include "xlayout/layout.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "xlayout/shape.h"

namespace xlayout {

Layout::Layout() = default;
Layout::Layout(std::vector<int64_t> minor_to_major)
    : minor_to_major_(std::move(minor_to_major)) {}
Layout::Layout(std::vector<int64_t> minor_to_major, std::vector<Tile> tiles)
    : minor_to_major_(std::move(minor_to_major)), tiles_(std::move(tiles)) {}
Layout::Layout(const Layout& other) { *this = other; }
Layout& Layout::operator=(const Layout& other) {
  if (this == &other) return *this;
  minor_to_major_ = other.minor_to_major_;
  dim_level_types_ = other.dim_level_types_;
  dim_ordered_ = other.dim_ordered_;
  dim_unique_ = other.dim_unique_;
  tiles_ = other.tiles_;
  tail_padding_ = other.tail_padding_;
  index_type_ = other.index_type_;
  pointer_type_ = other.pointer_type_;
  element_size_in_bits_ = other.element_size_in_bits_;
  memory_space_ = other.memory_space_;
  split_configs_ = other.split_configs_;
  physical_shape_ = other.physical_shape_ == nullptr
                        ? nullptr
                        : std::make_unique<Shape>(*other.physical_shape_);
  metadata_prefix_bytes_ = other.metadata_prefix_bytes_;
  return *this;
}
Layout::Layout(Layout&&) noexcept = default;
Layout& Layout::operator=(Layout&&) noexcept = default;
Layout::~Layout() = default;

bool Layout::IsSparse() const {
  return std::any_of(dim_level_types_.begin(), dim_level_types_.end(),
                     [](DimLevelType t) { return t != DimLevelType::kDense; });
}

void Layout::set_physical_shape(const Shape& shape) {
  physical_shape_ = std::make_unique<Shape>(shape);
}
void Layout::clear_physical_shape() { physical_shape_.reset(); }

bool operator==(const Layout& a, const Layout& b) {
  bool physical_equal =
      (a.physical_shape_ == nullptr) == (b.physical_shape_ == nullptr) &&
      (a.physical_shape_ == nullptr ||
       *a.physical_shape_ == *b.physical_shape_);
  return physical_equal && a.minor_to_major_ == b.minor_to_major_ &&
         a.dim_level_types_ == b.dim_level_types_ &&
         a.dim_ordered_ == b.dim_ordered_ && a.dim_unique_ == b.dim_unique_ &&
         a.tiles_ == b.tiles_ && a.tail_padding_ == b.tail_padding_ &&
         a.index_type_ == b.index_type_ && a.pointer_type_ == b.pointer_type_ &&
         a.element_size_in_bits_ == b.element_size_in_bits_ &&
         a.memory_space_ == b.memory_space_ &&
         a.split_configs_ == b.split_configs_ &&
         a.metadata_prefix_bytes_ == b.metadata_prefix_bytes_;
}

namespace {

char DimLevelLetter(DimLevelType t) {
  switch (t) {
    case DimLevelType::kDense:
      return 'D';
    case DimLevelType::kCompressed:
      return 'C';
    case DimLevelType::kSingleton:
      return 'S';
    case DimLevelType::kLooseCompressed:
      return 'H';
  }
  return '?';
}

// #(t) / *(t) print the type only when it is integral, as XLA does.
std::string IndexTypeText(PrimitiveType t) {
  return IsIntegralType(t) ? std::string(PrimitiveTypeName(t)) : "invalid";
}

}  // namespace

std::string Layout::ToString() const {
  std::string out = "{";
  out += absl::StrJoin(minor_to_major_, ",");
  bool colon = false;
  auto attr = [&]() -> std::string& {
    if (!colon) {
      out += ':';
      colon = true;
    }
    return out;
  };
  if (IsSparse()) {
    std::string& s = attr();
    s += "D(";
    for (size_t i = 0; i < dim_level_types_.size(); ++i) {
      if (i > 0) s += ',';
      s += DimLevelLetter(dim_level_types_[i]);
      if (i < dim_unique_.size() && !dim_unique_[i]) s += '+';
      if (i < dim_ordered_.size() && !dim_ordered_[i]) s += '~';
    }
    s += ')';
  }
  if (!tiles_.empty()) attr() += TilesToString(*this);
  if (tail_padding_ != 1) absl::StrAppend(&attr(), "L(", tail_padding_, ")");
  if (index_type_ != PrimitiveType::kInvalid) {
    absl::StrAppend(&attr(), "#(", IndexTypeText(index_type_), ")");
  }
  if (pointer_type_ != PrimitiveType::kInvalid) {
    absl::StrAppend(&attr(), "*(", IndexTypeText(pointer_type_), ")");
  }
  if (element_size_in_bits_ != 0) {
    absl::StrAppend(&attr(), "E(", element_size_in_bits_, ")");
  }
  if (memory_space_ != 0) absl::StrAppend(&attr(), "S(", memory_space_, ")");
  if (!split_configs_.empty()) {
    std::string& s = attr();
    s += "SC";
    for (const SplitConfig& c : split_configs_) {
      absl::StrAppend(&s, "(", c.dimension, ":",
                      absl::StrJoin(c.split_indices, ","), ")");
    }
  }
  if (physical_shape_ != nullptr) {
    absl::StrAppend(&attr(), "P(", physical_shape_->ToString(true), ")");
  }
  if (metadata_prefix_bytes_ > 0) {
    absl::StrAppend(&attr(), "M(", metadata_prefix_bytes_, ")");
  }
  out += '}';
  return out;
}

Layout DefaultLayout(int rank) {
  std::vector<int64_t> m2m(rank);
  for (int i = 0; i < rank; ++i) m2m[i] = rank - 1 - i;
  return Layout(std::move(m2m));
}

std::string TilesToString(const Layout& layout) {
  if (layout.tiles().empty()) return "";
  std::string s = "T";
  for (const Tile& tile : layout.tiles()) s += tile.ToString();
  return s;
}

}  // namespace xlayout
