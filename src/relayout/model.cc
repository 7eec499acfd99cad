#include "relayout/model.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/types/span.h"
#include "base/checked_math.h"

namespace xlayout::relayout_internal {

int64_t DigitOf(const Node& n, int64_t i) {
  return n.hi == 0 ? i / n.lo : (i / n.lo) % (n.hi / n.lo);
}

int64_t DimOffset(const std::vector<Node>& nodes, int64_t i) {
  int64_t offset = 0;
  for (const Node& n : nodes) offset += DigitOf(n, i) * n.stride;
  return offset;
}

Model BuildModel(const PhysicalLayout& p) {
  Model model;
  const Shape& shape = p.shape();
  const Layout& layout = shape.layout();
  std::vector<Node> cur;
  for (int i = 0; i < shape.rank(); ++i) {
    int64_t d = layout.major(i);
    cur.push_back(Node{static_cast<int>(d), 1, 0, shape.dimensions(d), 0});
  }
  for (const Tile& tile : layout.tiles()) {
    const int k = tile.rank();
    if (k > static_cast<int>(cur.size())) {
      cur.insert(cur.begin(), k - cur.size(), Node{-1, 1, 0, 1, 0});
    }
    const size_t base = cur.size() - k;
    std::vector<Node> group(cur.begin() + base, cur.end());
    std::vector<bool> merged(k, false);
    for (int i = 0; i + 1 < k; ++i) {
      if (tile.dimension(i) != Tile::kCombineDimension) continue;
      merged[i] = true;
      // Only merges with a size-1 partner keep the offset separable.
      if (group[i].size == 1) continue;
      if (group[i + 1].size == 1) {
        group[i + 1] = group[i];
        continue;
      }
      return model;
    }
    std::vector<Node> out(cur.begin(), cur.begin() + base), within;
    for (int i = 0; i < k; ++i) {
      if (merged[i]) continue;
      const Node& x = group[i];
      const int64_t t = tile.dimension(i);
      Node count{-1, 1, 0, CeilDiv(x.size, t), 0};
      Node inner{-1, 1, 0, t, 0};
      if (x.dim >= 0) {
        const int64_t span = x.hi == 0 ? 0 : x.hi / x.lo;
        if (span == 0 || span % t == 0) {
          std::optional<int64_t> lo_t = CheckedMul(x.lo, t);
          if (!lo_t) return model;
          inner = Node{x.dim, x.lo, *lo_t, t, 0};
          if (x.hi == 0 || *lo_t < x.hi)
            count = Node{x.dim, *lo_t, x.hi, count.size, 0};
        } else if (t >= span) {
          inner = Node{x.dim, x.lo, x.hi, t, 0};
        } else {
          return model;  // A tile that does not divide the digit it splits.
        }
      }
      out.push_back(count);
      within.push_back(inner);
    }
    out.insert(out.end(), within.begin(), within.end());
    cur = std::move(out);
  }
  // The model must describe the same final shape as the reference.
  absl::Span<const int64_t> final_dims = p.final_dims();
  if (final_dims.size() != cur.size()) return model;
  int64_t stride = 1;
  for (size_t i = cur.size(); i-- > 0;) {
    if (cur[i].size != final_dims[i]) return model;
    cur[i].stride = stride;
    stride *= std::max<int64_t>(cur[i].size, 1);
  }
  model.dims.resize(shape.rank());
  for (const Node& n : cur) {
    if (n.dim >= 0) {
      model.dims[n.dim].push_back(n);
    } else if (n.size > 1) {
      model.constants.push_back(n);
    }
  }
  model.separable = true;
  return model;
}

std::vector<int64_t> Breaks(const std::vector<Node>& nodes, int64_t n) {
  std::vector<int64_t> b{1};
  for (const Node& x : nodes) {
    if (x.lo < n) b.push_back(x.lo);
    if (x.hi != 0 && x.hi < n) b.push_back(x.hi);
  }
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return b;
}

namespace {

void AddPieces(const std::vector<Node>& s, const std::vector<Node>& d,
               std::vector<int64_t> chain, int64_t start, int64_t n,
               std::vector<Piece>* out) {
  if (n <= 0) return;
  while (chain.back() > n) chain.pop_back();
  const int64_t top = chain.back();
  const int64_t q = n / top;
  Piece piece{DimOffset(s, start), DimOffset(d, start), {}};
  for (size_t j = 0; j + 1 < chain.size(); ++j) {
    piece.loops.push_back(Loop{chain[j + 1] / chain[j], DimOffset(s, chain[j]),
                               DimOffset(d, chain[j])});
  }
  piece.loops.push_back(Loop{q, DimOffset(s, top), DimOffset(d, top)});
  out->push_back(std::move(piece));
  chain.pop_back();
  if (chain.empty()) chain.push_back(1);
  AddPieces(s, d, std::move(chain), start + q * top, n - q * top, out);
}

}  // namespace

std::vector<Piece> DimPieces(const std::vector<Node>& s,
                             const std::vector<Node>& d, int64_t n, bool* ok) {
  std::vector<int64_t> chain = Breaks(s, n);
  std::vector<int64_t> dst_breaks = Breaks(d, n);
  chain.insert(chain.end(), dst_breaks.begin(), dst_breaks.end());
  std::sort(chain.begin(), chain.end());
  chain.erase(std::unique(chain.begin(), chain.end()), chain.end());
  bool nested = true;
  for (size_t j = 0; j + 1 < chain.size(); ++j)
    nested &= chain[j + 1] % chain[j] == 0;
  std::vector<Piece> pieces;
  if (nested) {
    AddPieces(s, d, chain, 0, n, &pieces);
  } else if (n <= kMaxPiecesPerDim) {
    // Tiles that do not nest (say 3 and 2): one piece per index.
    for (int64_t i = 0; i < n; ++i)
      pieces.push_back(Piece{DimOffset(s, i), DimOffset(d, i), {}});
  } else {
    *ok = false;  // Too many: the caller falls back to element-wise copies.
  }
  return pieces;
}

}  // namespace xlayout::relayout_internal
