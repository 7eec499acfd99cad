#include "xlayout/tiling.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/checked_math.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

// Every tile level adds dims, and each level's dims are kept (levels_), so an
// unbounded rank would make a long `T(1)(1)(1)...` cost quadratic time and
// memory. Real layouts stay far below this.
constexpr int kMaxTiledRank = 256;

absl::Status Overflow(const Shape& array) {
  return absl::OutOfRangeError(absl::StrCat(
      "the tiled size of ", array.ToString(true), " does not fit in int64"));
}

// XLA's MaxSplitSize: the largest gap between consecutive split points of the
// first split config on physical dim `physical`, or the whole extent.
absl::StatusOr<int64_t> LargestSplit(const Shape& array, int physical,
                                     int64_t extent) {
  for (const SplitConfig& config : array.layout().split_configs()) {
    if (config.dimension != physical) continue;
    int64_t previous = 0, largest = 0;
    for (int64_t index : config.split_indices) {
      if (index < previous || index > extent) {
        return absl::InvalidArgumentError(
            absl::StrCat("split config SC(", config.dimension, ":",
                         absl::StrJoin(config.split_indices, ","),
                         ") needs increasing split points within the extent ",
                         extent, " of that dimension"));
      }
      largest = std::max(largest, index - previous);
      previous = index;
    }
    return std::max(largest, extent - previous);
  }
  return extent;
}

}  // namespace

absl::StatusOr<TiledShape> TiledShape::Create(const Shape& shape,
                                              const TilingOptions& options) {
  const Shape& array = shape.IsBuffer() ? shape.buffer_shape() : shape;
  if (!array.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("physical storage is defined for arrays only, not ",
                     array.ToString(true)));
  }
  const int rank = array.rank();
  if (rank > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", rank, " is above the supported 64"));
  }
  Shape with_layout = array;
  if (!with_layout.has_layout()) with_layout.set_layout(DefaultLayout(rank));
  const Layout& layout = with_layout.layout();
  if (static_cast<int>(layout.minor_to_major().size()) != rank) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout ", layout.ToString(), " has ", layout.minor_to_major().size(),
        " dims but the shape has rank ", rank));
  }
  std::vector<bool> seen(rank, false);
  for (int64_t d : layout.minor_to_major()) {
    if (d < 0 || d >= rank || seen[d]) {
      return absl::InvalidArgumentError(
          absl::StrCat("layout ", layout.ToString(),
                       " is not a permutation of 0..", rank - 1));
    }
    seen[d] = true;
  }
  for (const SplitConfig& c : layout.split_configs()) {
    if (c.dimension < 0 || c.dimension >= rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("split config dimension ", c.dimension,
                       " is outside the rank ", rank));
    }
  }

  TiledShape result;
  std::vector<TiledDim> current;
  for (int i = 0; i < rank; ++i) {
    int64_t logical = layout.major(i);
    if (array.is_unbounded_dynamic_dimension(logical)) {
      return absl::InvalidArgumentError(
          absl::StrCat("dimension ", logical, " of ", array.ToString(true),
                       " is unbounded dynamic ('?'); it has no size"));
    }
    int64_t extent = array.dimensions(logical);
    if (options.use_largest_split) {
      XLAYOUT_ASSIGN_OR_RETURN(extent, LargestSplit(with_layout, i, extent));
    }
    result.physical_dims_.push_back(extent);
    result.physical_to_logical_.push_back(logical);
    current.push_back(TiledDim{extent, uint64_t{1} << i, false});
  }
  result.levels_.push_back(current);

  int levels = static_cast<int>(layout.tiles().size());
  if (options.max_levels >= 0) levels = std::min(levels, options.max_levels);
  for (int l = 0; l < levels; ++l) {
    const Tile& tile = layout.tiles()[l];
    const int k = tile.rank();
    if (k == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("layout ", layout.ToString(), " has an empty tile T()"));
    }
    // Output rank: untouched leading dims, then a count and a tile dim for
    // each tile dim that is not `*`.
    const int merged_dims = static_cast<int>(std::count(
        tile.dims().begin(), tile.dims().end(), Tile::kCombineDimension));
    const int out_rank = std::max(k, static_cast<int>(current.size())) - k +
                         2 * (k - merged_dims);
    if (k > kMaxTiledRank || out_rank > kMaxTiledRank) {
      return absl::InvalidArgumentError(
          absl::StrCat("tile level ", l + 1, " of ", array.ToString(false),
                       " makes a tiled shape of rank ", std::max(k, out_rank),
                       "; at most ", kMaxTiledRank, " is supported"));
    }
    // More tile dims than dims: the shape gets leading size-1 dims.
    std::vector<TiledDim> in = current;
    if (k > static_cast<int>(in.size())) {
      in.insert(in.begin(), k - in.size(), TiledDim{1, 0, false});
    }
    result.levels_.back() = in;  // Record the padded-rank input of this level.
    const size_t base = in.size() - k;
    std::vector<bool> merged(k, false);
    for (int i = 0; i < k; ++i) {
      int64_t t = tile.dimension(i);
      if (t == Tile::kCombineDimension) {
        if (i == k - 1) {
          return absl::InvalidArgumentError(
              absl::StrCat("tile ", tile.ToString(),
                           " ends in '*': the most-minor dim has no more-minor "
                           "dim to merge into"));
        }
        TiledDim& from = in[base + i];
        TiledDim& into = in[base + i + 1];
        std::optional<int64_t> size = CheckedMul(from.size, into.size);
        if (!size) return Overflow(array);
        into.size = *size;
        into.origin |= from.origin;
        merged[i] = true;
      } else if (t <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("tile ", tile.ToString(), " has dimension ", t,
                         "; tile dims must be positive or '*'"));
      }
    }
    std::vector<TiledDim> out(in.begin(), in.begin() + base);
    for (int i = 0; i < k; ++i) {
      if (merged[i]) continue;
      const TiledDim& d = in[base + i];
      out.push_back(
          TiledDim{CeilDiv(d.size, tile.dimension(i)), d.origin, false});
    }
    for (int i = 0; i < k; ++i) {
      if (merged[i]) continue;
      out.push_back(TiledDim{tile.dimension(i), in[base + i].origin, true});
    }
    result.tiles_.emplace_back(tile.dims().begin(), tile.dims().end());
    result.levels_.push_back(out);
    current = std::move(out);
  }

  // Zero-size arrays have zero elements whatever the padding.
  bool empty = std::any_of(current.begin(), current.end(),
                           [](const TiledDim& d) { return d.size == 0; });
  int64_t n = empty ? 0 : 1;
  for (const TiledDim& d : current) {
    if (empty) break;
    std::optional<int64_t> next = CheckedMul(n, d.size);
    if (!next) return Overflow(array);
    n = *next;
  }
  result.num_elements_ = n;

  // Attribute every final dim to one physical dim: merged groups go to their
  // most-minor member (the dim they were merged into).
  result.padded_.assign(rank, 1);
  std::vector<bool> has_final(rank, false);
  for (const TiledDim& d : current) {
    if (d.origin == 0) continue;
    int owner = 63 - __builtin_clzll(d.origin);
    has_final[owner] = true;
    std::optional<int64_t> p = CheckedMul(result.padded_[owner], d.size);
    result.padded_[owner] = p.value_or(0);
    if (!p) return Overflow(array);
  }
  for (int i = 0; i < rank; ++i) {
    if (!has_final[i]) result.padded_[i] = result.physical_dims_[i];
  }
  return result;
}

int64_t TiledShape::LinearIndex(absl::Span<const int64_t> index) const {
  const int rank = static_cast<int>(physical_dims_.size());
  // Physical index vector (major to minor).
  std::vector<int64_t> v(rank);
  for (int i = 0; i < rank; ++i) v[i] = index[physical_to_logical_[i]];
  for (size_t l = 0; l < tiles_.size(); ++l) {
    const std::vector<TiledDim>& in =
        levels_[l];  // Rank-padded input of level l.
    const std::vector<int64_t>& tile = tiles_[l];
    const int k = static_cast<int>(tile.size());
    if (in.size() > v.size()) v.insert(v.begin(), in.size() - v.size(), 0);
    const size_t base = in.size() - k;
    // levels_[l] holds the pre-merge sizes: merging a into b gives the index
    // v_a * size_b + v_b, chained left to right.
    const std::vector<int64_t> pre = [&] {
      std::vector<int64_t> sizes;
      for (const TiledDim& d : in) sizes.push_back(d.size);
      return sizes;
    }();
    std::vector<int64_t> counts, within;
    std::vector<int64_t> out(v.begin(), v.begin() + base);
    int64_t carry = -1;
    for (int i = 0; i < k; ++i) {
      int64_t value =
          carry >= 0 ? carry * pre[base + i] + v[base + i] : v[base + i];
      if (tile[i] == Tile::kCombineDimension) {
        carry = value;
        continue;
      }
      carry = -1;
      counts.push_back(value / tile[i]);
      within.push_back(value % tile[i]);
    }
    out.insert(out.end(), counts.begin(), counts.end());
    out.insert(out.end(), within.begin(), within.end());
    v = std::move(out);
  }
  const std::vector<TiledDim>& final_dims = levels_.back();
  int64_t linear = 0;
  for (size_t i = 0; i < final_dims.size(); ++i)
    linear = linear * final_dims[i].size + v[i];
  return linear;
}

}  // namespace xlayout
