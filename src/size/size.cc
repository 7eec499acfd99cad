#include "xlayout/size.h"

#include <algorithm>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/checked_math.h"
#include "xlayout/format.h"
#include "xlayout/layout_util.h"
#include "xlayout/status_macros.h"
#include "xlayout/tiling.h"

namespace xlayout {
namespace {

absl::Status Overflow(const Shape& shape) {
  return absl::OutOfRangeError(absl::StrCat(
      "the byte size of ", shape.ToString(true), " does not fit in int64"));
}

absl::StatusOr<const Shape*> ArrayOf(const Shape& shape) {
  const Shape* array = shape.IsBuffer() ? &shape.buffer_shape() : &shape;
  if (!array->IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("array sizes are defined for arrays and buffers, not ",
                     shape.ToString(true)));
  }
  if (array->has_layout() && array->layout().IsSparse()) {
    return absl::UnimplementedError(
        absl::StrCat("sizes of sparse layouts (D(...)) are not modelled: ",
                     array->ToString(true)));
  }
  return array;
}

int64_t ElementBits(const Shape& array) {
  if (array.has_layout() && array.layout().element_size_in_bits() != 0) {
    return array.layout().element_size_in_bits();
  }
  return int64_t{8} * ByteWidth(array.element_type());
}

// Bytes for `n` elements: ceil(n * E / 8) with E(n), else n * ByteWidth.
absl::StatusOr<int64_t> BytesForElements(const Shape& array, int64_t n) {
  if (array.has_layout() && array.layout().element_size_in_bits() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("E(", array.layout().element_size_in_bits(), ") in ",
                     array.ToString(true), " must be >= 0"));
  }
  if (array.has_layout() && array.layout().element_size_in_bits() != 0) {
    __int128 bits =
        static_cast<__int128>(n) * array.layout().element_size_in_bits();
    __int128 bytes = (bits + 7) / 8;
    if (bytes > INT64_MAX) return Overflow(array);
    return static_cast<int64_t>(bytes);
  }
  std::optional<int64_t> bytes = CheckedMul(n, ByteWidth(array.element_type()));
  if (!bytes) return Overflow(array);
  return *bytes;
}

absl::StatusOr<int64_t> ElementCount(const Shape& array) {
  int64_t n = 1;
  bool empty = false;
  for (int i = 0; i < array.rank(); ++i) {
    if (array.is_unbounded_dynamic_dimension(i)) {
      return absl::InvalidArgumentError(
          absl::StrCat("dimension ", i, " of ", array.ToString(true),
                       " is unbounded dynamic ('?'); it has no size"));
    }
    if (array.dimensions(i) == 0) empty = true;
  }
  if (empty) return 0;
  for (int64_t d : array.dimensions()) {
    std::optional<int64_t> next = CheckedMul(n, d);
    if (!next) return Overflow(array);
    n = *next;
  }
  return n;
}

absl::StatusOr<int64_t> TiledBytes(const Shape& array,
                                   const TiledShape& tiled) {
  int64_t n = tiled.num_elements();
  int64_t align = array.has_layout()
                      ? array.layout().tail_padding_alignment_in_elements()
                      : 1;
  if (align <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "L(", align, ") in ", array.ToString(true), " must be positive"));
  }
  if (align != 1) {
    std::optional<int64_t> rounded = RoundUp(n, align);
    if (!rounded) return Overflow(array);
    n = *rounded;
  }
  return BytesForElements(array, n);
}

// ByteSizeOfElements: every element, no tiling.
absl::StatusOr<int64_t> ElementBytes(const Shape& array) {
  XLAYOUT_ASSIGN_OR_RETURN(int64_t n, ElementCount(array));
  return BytesForElements(array, n);
}

bool IsTiled(const Shape& array) {
  return array.has_layout() && !array.layout().tiles().empty();
}

}  // namespace

absl::StatusOr<int64_t> LogicalBytes(const Shape& shape, int64_t pointer_size) {
  // XLA CHECKs this for tuples and opaque (its default of -1 means "none").
  if (pointer_size <= 0 && (shape.IsTuple() || shape.IsOpaque())) {
    return absl::InvalidArgumentError(
        absl::StrCat("the size of ", shape.ToString(true),
                     " needs a positive pointer size, got ", pointer_size));
  }
  switch (shape.element_type()) {
    case PrimitiveType::kTuple: {
      std::optional<int64_t> bytes = CheckedMul(
          pointer_size, static_cast<int64_t>(shape.tuple_shapes().size()));
      if (!bytes) return Overflow(shape);
      return *bytes;
    }
    case PrimitiveType::kToken:
      return 0;
    case PrimitiveType::kOpaque:
      return pointer_size;
    default:
      break;
  }
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* array, ArrayOf(shape));
  return ElementBytes(*array);
}

absl::StatusOr<int64_t> XlaBytes(const Shape& shape) {
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* array, ArrayOf(shape));
  // Without tiles ArraySize is plain ByteSizeOfElements: L and SC ignored.
  if (!IsTiled(*array)) return ElementBytes(*array);
  XLAYOUT_ASSIGN_OR_RETURN(
      TiledShape first,
      TiledShape::Create(*array, TilingOptions{.max_levels = 1}));
  return TiledBytes(*array, first);
}

absl::StatusOr<int64_t> ExactBytes(const Shape& shape) {
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* array, ArrayOf(shape));
  XLAYOUT_ASSIGN_OR_RETURN(TiledShape tiled, TiledShape::Create(*array));
  return TiledBytes(*array, tiled);
}

absl::StatusOr<int64_t> XlaArrayDataBytes(const Shape& shape) {
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* array, ArrayOf(shape));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t count, ElementCount(*array));
  if (count == 0) return 0;
  const int rank = array->rank();
  Layout layout = array->has_layout() ? array->layout() : DefaultLayout(rank);
  int64_t elements;
  if (rank == 0) {
    elements = 1;
  } else if (rank == 1 || layout.tiles().empty()) {
    // LinearIndex ignores tiles at rank 1; untiled arrays are dense.
    elements = count;
  } else {
    const Tile& tile = layout.tiles()[0];
    if (tile.has_combined_dims() ||
        std::any_of(tile.dims().begin(), tile.dims().end(),
                    [](int64_t t) { return t <= 0; })) {
      return absl::UnimplementedError(absl::StrCat(
          "XLA's LinearIndex is undefined for tile ", tile.ToString()));
    }
    const int k = tile.rank();
    int64_t tm = 1, wm = 1;
    __int128 linear = 0;
    for (int64_t t : tile.dims()) {
      std::optional<int64_t> next = CheckedMul(tm, t);
      if (!next) return Overflow(shape);
      tm = *next;
    }
    for (int j = 0; j < rank; ++j) {
      int64_t logical = layout.minor_to_major(j);
      int64_t extent = array->dimensions(logical);
      int64_t i = extent - 1;
      if (j < k) {
        int64_t t = tile.dimension(k - 1 - j);
        linear += static_cast<__int128>(tm) * (i / t) +
                  static_cast<__int128>(wm) * (i % t);
        std::optional<int64_t> next_tm = CheckedMul(tm, CeilDiv(extent, t));
        std::optional<int64_t> next_wm = CheckedMul(wm, t);
        if (!next_tm || !next_wm) return Overflow(shape);
        tm = *next_tm;
        wm = *next_wm;
      } else {
        linear += static_cast<__int128>(i) * tm;
        std::optional<int64_t> next_tm = CheckedMul(tm, extent);
        if (!next_tm) return Overflow(shape);
        tm = *next_tm;
      }
      if (linear >= INT64_MAX) return Overflow(shape);
    }
    elements = static_cast<int64_t>(linear) + 1;
  }
  return BytesForElements(*array, elements);
}

absl::StatusOr<ArraySizes> ComputeArraySizes(const Shape& shape) {
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* array, ArrayOf(shape));
  Shape with_layout = *array;
  if (!with_layout.has_layout())
    with_layout.set_layout(DefaultLayout(array->rank()));
  const Layout& layout = with_layout.layout();

  ArraySizes sizes;
  XLAYOUT_ASSIGN_OR_RETURN(sizes.logical_bytes, LogicalBytes(with_layout));
  XLAYOUT_ASSIGN_OR_RETURN(TiledShape exact, TiledShape::Create(with_layout));
  XLAYOUT_ASSIGN_OR_RETURN(sizes.exact_bytes, TiledBytes(with_layout, exact));
  XLAYOUT_ASSIGN_OR_RETURN(TiledShape first,
                           TiledShape::Create(with_layout, {.max_levels = 1}));
  if (IsTiled(with_layout)) {
    XLAYOUT_ASSIGN_OR_RETURN(sizes.xla_bytes, TiledBytes(with_layout, first));
  } else {
    XLAYOUT_ASSIGN_OR_RETURN(sizes.xla_bytes, ElementBytes(with_layout));
  }
  sizes.metadata_prefix_bytes = layout.dynamic_shape_metadata_prefix_bytes();
  sizes.padding_factor =
      sizes.logical_bytes == 0
          ? 1.0
          : static_cast<double>(sizes.exact_bytes) / sizes.logical_bytes;

  const int rank = array->rank();
  const Tile* tile0 = layout.tiles().empty() ? nullptr : &layout.tiles()[0];
  for (int i = 0; i < rank; ++i) {
    DimSizeInfo info;
    info.dim = exact.physical_to_logical()[i];
    info.extent = array->dimensions(info.dim);
    info.padded_extent = exact.padded_physical_dims()[i];
    info.xla_padded_extent = first.padded_physical_dims()[i];
    if (tile0 != nullptr) {
      int t = i - (rank - tile0->rank());
      if (t >= 0) info.tile = tile0->dimension(t);
    }
    sizes.dims.push_back(info);
  }

  // Notes: where exact and XLA's number part ways, and why.
  auto& notes = sizes.notes;
  // Later tile levels that pad. A zero-size array has nothing to pad (and the
  // products of its other dims need not fit in int64).
  std::vector<std::string> level_notes;
  for (int l = 1; l < exact.num_levels() && exact.num_elements() > 0; ++l) {
    // Padding only grows the count, so both products are at most
    // num_elements() and cannot overflow.
    int64_t before = 1, after = 1;
    for (const TiledDim& d : exact.level(l)) before *= d.size;
    for (const TiledDim& d : exact.level(l + 1)) after *= d.size;
    if (after > before) {
      level_notes.push_back(absl::StrCat(
          "tile level ", l + 1, " ",
          Tile(std::vector<int64_t>(exact.tile(l).begin(), exact.tile(l).end()))
              .ToString(),
          " pads ", before, " elements to ", after));
    }
  }
  if (sizes.exact_bytes != sizes.xla_bytes) {
    // Say why: untiled layouts lose L(n) and SC in ArraySize; tiled ones
    // lose the padding of later tile levels.
    notes.push_back(absl::StrCat(
        "exact_bytes (", sizes.exact_bytes, ") differs from xla_bytes (",
        sizes.xla_bytes, "), the size XLA's runtime compares: ",
        layout.tiles().empty()
            ? "XLA's ArraySize ignores L(n) and split configs on untiled "
              "layouts"
            : "XLA's ArraySize applies only the first tile level and assumes "
              "later levels add no padding"));
  }
  notes.insert(notes.end(), level_notes.begin(), level_notes.end());
  if (tile0 != nullptr && tile0->rank() > rank) {
    notes.push_back(absl::StrCat(
        "tile ", tile0->ToString(), " has more dims than the rank ", rank,
        ": the missing major dims count as size 1 and are "
        "padded to the tile"));
  }
  bool combined =
      std::any_of(layout.tiles().begin(), layout.tiles().end(),
                  [](const Tile& t) { return t.has_combined_dims(); });
  if (combined) {
    notes.push_back(
        "combined dims ('*') are merged into the next more-minor dim before "
        "tiling, as XLA's "
        "tiled-layout doc describes; XLA's ArraySize itself does not support "
        "them");
  }
  if (!layout.split_configs().empty()) {
    notes.push_back(
        layout.tiles().empty()
            ? "split configs (SC): exact_bytes is the largest split; XLA's "
              "ArraySize ignores SC on untiled layouts"
            : "split configs (SC): sizes are those of the largest split, each "
              "split "
              "being allocated on its own");
  }
  if (layout.tail_padding_alignment_in_elements() != 1 &&
      layout.tiles().empty()) {
    notes.push_back(absl::StrCat(
        "L(", layout.tail_padding_alignment_in_elements(),
        ") is applied by exact_bytes; XLA's ArraySize ignores it on "
        "untiled layouts"));
  }
  if (sizes.metadata_prefix_bytes > 0) {
    notes.push_back(absl::StrCat(
        "M(", sizes.metadata_prefix_bytes, "): ", sizes.metadata_prefix_bytes,
        " bytes of dynamic-shape metadata precede the data and are counted "
        "in neither size"));
  }
  if (!array->is_static())
    notes.push_back("dynamic dims are sized at their bound");
  if (ElementBits(with_layout) < 8 * ByteWidth(array->element_type())) {
    const int64_t bits = ElementBits(with_layout);
    notes.push_back(absl::StrCat("E(", bits, "): elements are packed ", bits,
                                 bits == 1 ? " bit" : " bits", " each"));
  } else if (BitWidth(array->element_type()) < 8 &&
             layout.element_size_in_bits() == 0) {
    notes.push_back(
        absl::StrCat(PrimitiveTypeName(array->element_type()),
                     " is stored unpacked, one byte per element (no E(n))"));
  }
  return sizes;
}

}  // namespace xlayout

namespace xlayout {

absl::StatusOr<int64_t> SumBytes(absl::Span<const int64_t> bytes,
                                 absl::string_view what) {
  int64_t total = 0;
  for (int64_t b : bytes) {
    std::optional<int64_t> sum = CheckedAdd(total, b);
    if (!sum) {
      return absl::OutOfRangeError(
          absl::StrCat("total ", what, " does not fit in int64"));
    }
    total = *sum;
  }
  return total;
}

namespace {

// The notes of every leaf of `r`'s tuple elements that has no size, prefixed
// with its index path: "element {1,0}: opaque[] has ...".
void CollectUnsized(const ShapeSizes& r, const std::string& path,
                    std::vector<std::string>& notes) {
  for (size_t i = 0; i < r.elements.size(); ++i) {
    const ShapeSizes& e = r.elements[i];
    const std::string index =
        path.empty() ? absl::StrCat(i) : absl::StrCat(path, ",", i);
    if (e.has_size) continue;
    if (e.shape.IsTuple()) {
      CollectUnsized(e, index, notes);
      continue;
    }
    if (e.sizes.notes.empty()) {
      notes.push_back(absl::StrCat("element {", index,
                                   "}: ", e.shape.ToString(true),
                                   " has no known size"));
    }
    for (const std::string& note : e.sizes.notes) {
      notes.push_back(absl::StrCat("element {", index, "}: ", note));
    }
  }
}

}  // namespace

absl::StatusOr<ShapeSizes> ComputeShapeSizes(const Shape& shape) {
  ShapeSizes out;
  out.shape = shape;
  if (shape.IsTuple()) {
    std::vector<int64_t> logical, xla, exact;
    for (const Shape& element : shape.tuple_shapes()) {
      XLAYOUT_ASSIGN_OR_RETURN(ShapeSizes e, ComputeShapeSizes(element));
      logical.push_back(e.sizes.logical_bytes);
      xla.push_back(e.sizes.xla_bytes);
      exact.push_back(e.sizes.exact_bytes);
      out.elements.push_back(std::move(e));
    }
    // A total over elements of unknown size would be a made-up number: the
    // tuple has no size either, and says which elements are to blame.
    std::vector<std::string> unsized;
    CollectUnsized(out, "", unsized);
    if (!unsized.empty()) {
      out.has_size = false;
      for (const std::string& note : unsized) {
        out.sizes.notes.push_back(
            absl::StrCat(note, ", so the tuple has no total size"));
      }
      return out;
    }
    const std::string where = absl::StrCat("of ", shape.ToString(true));
    XLAYOUT_ASSIGN_OR_RETURN(out.sizes.logical_bytes,
                             SumBytes(logical, "logical_bytes " + where));
    XLAYOUT_ASSIGN_OR_RETURN(out.sizes.xla_bytes,
                             SumBytes(xla, "xla_bytes " + where));
    XLAYOUT_ASSIGN_OR_RETURN(out.sizes.exact_bytes,
                             SumBytes(exact, "exact_bytes " + where));
    out.sizes.padding_factor =
        out.sizes.logical_bytes == 0
            ? 1.0
            : static_cast<double>(out.sizes.exact_bytes) /
                  out.sizes.logical_bytes;
    return out;
  }
  if (shape.IsToken()) return out;
  if (shape.IsOpaque()) {
    out.has_size = false;
    out.sizes.notes.push_back(
        "opaque[] has a backend-defined size (a pointer)");
    return out;
  }
  XLAYOUT_ASSIGN_OR_RETURN(out.sizes, ComputeArraySizes(shape));
  return out;
}

absl::string_view PhysicalDifferenceName(PhysicalDifference difference) {
  switch (difference) {
    case PhysicalDifference::kIdentical:
      return "identical";
    case PhysicalDifference::kEquivalent:
      return "equivalent";
    case PhysicalDifference::kMemorySpaceOnly:
      return "memory_space";
    case PhysicalDifference::kSameSizeReordered:
      return "reordered";
    case PhysicalDifference::kDifferentSize:
      return "size";
    case PhysicalDifference::kDifferentLogicalShape:
      return "logical_shape";
  }
  return "size";
}

namespace {

// The layout with what does not change the bytes' placement spelled one way:
// the default layout when none is given, E(n) equal to the type's natural
// width as E(0), and (when `drop_memory_space`) S(0).
Layout Canonical(const Shape& array, bool drop_memory_space) {
  Layout layout =
      array.has_layout() ? array.layout() : DefaultLayout(array.rank());
  if (layout.element_size_in_bits() ==
      int64_t{8} * ByteWidth(array.element_type())) {
    layout.set_element_size_in_bits(0);
  }
  if (drop_memory_space) layout.set_memory_space(0);
  return layout;
}

// Whether the element order of `x` and `y` (same logical shape, no split
// configs, no combined dims) is the same: the offset of a logical index is
// the sum over its dims of a per-dim term, since every tiled dim derives
// from one physical dim, so comparing each dim's terms (the other indices 0)
// compares every element. Checks at most 4M indices; false beyond that.
absl::StatusOr<bool> SameElementOffsets(const Shape& x, const Shape& y) {
  constexpr int64_t kBudget = int64_t{1} << 22;
  XLAYOUT_ASSIGN_OR_RETURN(TiledShape tx, TiledShape::Create(x));
  XLAYOUT_ASSIGN_OR_RETURN(TiledShape ty, TiledShape::Create(y));
  int64_t checked = 0;
  std::vector<int64_t> index(static_cast<size_t>(x.rank()), 0);
  for (int d = 0; d < x.rank(); ++d) {
    const int64_t n = x.dimensions(d);
    if (n > kBudget - checked) return false;
    checked += n;
    for (int64_t i = 0; i < n; ++i) {
      index[d] = i;
      if (tx.LinearIndex(index) != ty.LinearIndex(index)) return false;
    }
    index[d] = 0;
  }
  return true;
}

bool HasCombinedDims(const Layout& layout) {
  for (const Tile& t : layout.tiles()) {
    for (int64_t d : t.dims()) {
      if (d == Tile::kCombineDimension) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<bool> SameStoredBytes(const Shape& a, const Shape& b) {
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* pa, ArrayOf(a));
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* pb, ArrayOf(b));
  if (!SameLogicalShape(*pa, *pb)) return false;
  Shape x = *pa, y = *pb;
  x.set_layout(Canonical(*pa, true));
  y.set_layout(Canonical(*pb, true));
  if (x.layout() == y.layout()) return true;
  const Layout& lx = x.layout();
  const Layout& ly = y.layout();
  // Only what element offsets and the length describe: the same storage
  // width, dense, unsplit, no combined dims, no dynamic dims.
  if (lx.element_size_in_bits() != ly.element_size_in_bits() || lx.IsSparse() ||
      ly.IsSparse() || !lx.split_configs().empty() ||
      !ly.split_configs().empty() || lx.has_physical_shape() ||
      ly.has_physical_shape() || HasCombinedDims(lx) || HasCombinedDims(ly) ||
      absl::c_linear_search(x.dynamic_dimensions(), true) ||
      absl::c_linear_search(y.dynamic_dimensions(), true)) {
    return false;
  }
  XLAYOUT_ASSIGN_OR_RETURN(int64_t exact_x, ExactBytes(x));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t exact_y, ExactBytes(y));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t xla_x, XlaBytes(x));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t xla_y, XlaBytes(y));
  if (exact_x != exact_y || xla_x != xla_y) return false;
  // An empty array: no element to place, the lengths say it all.
  for (int d = 0; d < x.rank(); ++d) {
    if (x.dimensions(d) == 0) return true;
  }
  return SameElementOffsets(x, y);
}

absl::StatusOr<PhysicalDifference> ComparePhysical(const Shape& a,
                                                   const Shape& b) {
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* x, ArrayOf(a));
  XLAYOUT_ASSIGN_OR_RETURN(const Shape* y, ArrayOf(b));
  if (!SameLogicalShape(*x, *y)) {
    return PhysicalDifference::kDifferentLogicalShape;
  }
  const Layout lx = x->has_layout() ? x->layout() : DefaultLayout(x->rank());
  const Layout ly = y->has_layout() ? y->layout() : DefaultLayout(y->rank());
  if (lx == ly) return PhysicalDifference::kIdentical;
  if (Canonical(*x, false) == Canonical(*y, false)) {
    return PhysicalDifference::kEquivalent;
  }
  if (Canonical(*x, true) == Canonical(*y, true)) {
    return PhysicalDifference::kMemorySpaceOnly;
  }
  XLAYOUT_ASSIGN_OR_RETURN(const bool same_bytes, SameStoredBytes(*x, *y));
  if (same_bytes) {
    return MemorySpaceOf(*x) == MemorySpaceOf(*y)
               ? PhysicalDifference::kEquivalent
               : PhysicalDifference::kMemorySpaceOnly;
  }
  XLAYOUT_ASSIGN_OR_RETURN(int64_t bx, XlaBytes(*x));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t by, XlaBytes(*y));
  return bx == by ? PhysicalDifference::kSameSizeReordered
                  : PhysicalDifference::kDifferentSize;
}

absl::Status CheckFitsDeviceBuffer(const Shape& array) {
  XLAYOUT_ASSIGN_OR_RETURN(std::optional<TileLevelPadding> padding,
                           FindLaterTileLevelPadding(array));
  if (!padding.has_value()) return absl::OkStatus();
  XLAYOUT_ASSIGN_OR_RETURN(int64_t xla, XlaBytes(array));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t exact, ExactBytes(array));
  return absl::FailedPreconditionError(absl::StrCat(
      array.ToString(true), ": ", padding->ToString(),
      "; XLA sizes a device buffer of this layout by its first tile level (",
      WithCommas(xla), " bytes), which cannot hold the ", WithCommas(exact),
      " bytes every tile level needs"));
}

}  // namespace xlayout
