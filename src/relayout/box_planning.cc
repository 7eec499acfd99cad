#include "relayout/box_planning.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

#include "relayout/bit_kernels.h"
#include "relayout/byte_kernels.h"

namespace xlayout::relayout_internal {

std::vector<Loop> RemoveTrivialLoops(std::vector<Loop> loops) {
  loops.erase(std::remove_if(loops.begin(), loops.end(),
                             [](const Loop& l) { return l.n == 1; }),
              loops.end());
  return loops;
}

std::vector<Loop> SortLoopsByDstStride(std::vector<Loop> loops) {
  std::stable_sort(loops.begin(), loops.end(),
                   [](const Loop& a, const Loop& b) {
                     return a.ds != b.ds ? a.ds < b.ds : a.ss < b.ss;
                   });
  return loops;
}

std::vector<Loop> CoalesceLoops(const std::vector<Loop>& loops) {
  std::vector<Loop> out;
  for (const Loop& l : loops) {
    if (!out.empty() && out.back().ds * out.back().n == l.ds &&
        out.back().ss * out.back().n == l.ss) {
      out.back().n *= l.n;
    } else {
      out.push_back(l);
    }
  }
  return out;
}

std::vector<Loop> Coalesce(std::vector<Loop> loops) {
  return CoalesceLoops(
      SortLoopsByDstStride(RemoveTrivialLoops(std::move(loops))));
}

std::optional<std::vector<std::vector<Piece>>> AllDimPieces(
    const Model& src, const Model& dst, absl::Span<const int64_t> dims) {
  if (!src.separable || !dst.separable) return std::nullopt;
  const int rank = static_cast<int>(dims.size());
  std::vector<std::vector<Piece>> pieces(rank);
  int64_t combos = 1;
  for (int d = 0; d < rank; ++d) {
    bool ok = true;
    pieces[d] = DimPieces(src.dims[d], dst.dims[d], dims[d], &ok);
    if (!ok) return std::nullopt;
    combos *= std::max<int64_t>(static_cast<int64_t>(pieces[d].size()), 1);
    if (combos > kMaxBoxes) return std::nullopt;
  }
  return pieces;
}

std::vector<BoxLoops> PieceProduct(
    const std::vector<std::vector<Piece>>& pieces) {
  std::vector<BoxLoops> out;
  const int rank = static_cast<int>(pieces.size());
  for (const std::vector<Piece>& p : pieces) {
    if (p.empty()) return out;  // An empty dim: no elements.
  }
  std::vector<size_t> pick(rank, 0);
  while (true) {
    BoxLoops box;
    for (int d = 0; d < rank; ++d) {
      const Piece& pc = pieces[d][pick[d]];
      box.src += pc.src;
      box.dst += pc.dst;
      box.loops.insert(box.loops.end(), pc.loops.begin(), pc.loops.end());
    }
    out.push_back(std::move(box));
    int d = rank - 1;
    for (; d >= 0; --d) {
      if (++pick[d] < pieces[d].size()) break;
      pick[d] = 0;
    }
    if (d < 0) break;
  }
  return out;
}

namespace {

// `rest` holds a shuffle's outer loops, outermost first. The loop that
// continues B's source run (the rest of a (2,1) tile's 512-byte pair rows)
// moves innermost, so consecutive planes read on along the lines the last
// one fetched: each source tile is read whole, in 2 KiB runs, instead of
// 32 bytes of every tile in a column per sweep. On
// bf16[16384,32768]{1,0:T(8,128)(2,1)} -> {0,1:T(8,128)(2,1)} (1 thread,
// bench/relayout_bench) this took 0.38x memcpy to 0.45-0.47x.
void MoveSourceContinuationInward(std::vector<Loop>& rest, const Loop& lb) {
  for (size_t i = 0; i + 1 < rest.size(); ++i) {
    if (rest[i].ss == lb.ss * lb.n) {
      const Loop moved = rest[i];
      rest.erase(rest.begin() + i);
      rest.push_back(moved);
      return;
    }
  }
}

}  // namespace

Box MakeByteBox(int64_t src, int64_t dst, int64_t unit, std::vector<Loop> loops,
                bool zero) {
  Box box;
  box.src = src;
  box.dst = dst;
  loops = Coalesce(std::move(loops));
  // Widen the unit while the innermost loop is contiguous on both sides.
  if (!loops.empty() && loops[0].ds == unit && (zero || loops[0].ss == unit)) {
    unit *= loops[0].n;
    loops.erase(loops.begin());
  }
  box.unit = unit;
  int64_t count = 1;
  for (const Loop& l : loops) count *= l.n;
  box.bytes = count * unit;
  if (zero) {
    box.kernel = Kernel::kZero;
    std::reverse(loops.begin(), loops.end());
    box.loops = std::move(loops);
    return box;
  }
  int a = -1, b = -1;
  for (size_t i = 0; i < loops.size(); ++i) {
    if (loops[i].ds == unit && a < 0) a = static_cast<int>(i);
    if (loops[i].ss == unit && b < 0) b = static_cast<int>(i);
  }
  // Two 16-bit rows interleaved on both sides, transposed ((2,1) tiles on
  // swapped dims, the E0102 case): each 8-byte group is a 2x2 transpose, so
  // move 8-byte units and swap their middle lanes.
  if (a >= 0 && b >= 0 && a != b && unit == 2 && loops[a].n == 2 &&
      loops[b].n == 2 && loops[b].ds == 4 && loops[a].ss == 4) {
    std::vector<Loop> outer;
    int a2 = -1, b2 = -1;
    for (size_t i = 0; i < loops.size(); ++i) {
      if (static_cast<int>(i) == a || static_cast<int>(i) == b) continue;
      outer.push_back(loops[i]);
      if (loops[i].ds == 8 && a2 < 0) a2 = static_cast<int>(outer.size()) - 1;
      if (loops[i].ss == 8 && b2 < 0) b2 = static_cast<int>(outer.size()) - 1;
    }
    if (a2 >= 0 && b2 >= 0 && a2 != b2) {
      box.shuffle = true;
      unit = 8;
      box.unit = 8;
      loops = std::move(outer);
      a = a2;
      b = b2;
    }
  }
  const bool pow2_unit =
      unit == 1 || unit == 2 || unit == 4 || unit == 8 || unit == 16;
  if (a >= 0 && b >= 0 && a != b && pow2_unit) {
    box.kernel = Kernel::kTranspose;
    Loop la = loops[a], lb = loops[b];
    // C continues B's contiguous source run: kept right outside the kernel so
    // consecutive kernels read on along the same source lines.
    int c = -1;
    for (size_t i = 0; i < loops.size(); ++i) {
      if (static_cast<int>(i) != a && loops[i].ss == lb.ss * lb.n)
        c = static_cast<int>(i);
    }
#if defined(__SSE2__)
    if (box.shuffle) {
      // Shuffles prefer a C that continues A's destination rows: the plane
      // then writes whole rows (ShuffleRows) instead of 32-byte pieces.
      for (size_t i = 0; i < loops.size(); ++i) {
        const int ii = static_cast<int>(i);
        if (ii != a && ii != b && ShuffleRowsApply(la, loops[i])) c = ii;
      }
    }
#endif
    std::vector<Loop> rest;
    for (size_t i = 0; i < loops.size(); ++i) {
      const int ii = static_cast<int>(i);
      if (ii != a && ii != b && ii != c) rest.push_back(loops[i]);
    }
    std::reverse(rest.begin(),
                 rest.end());  // Outer (largest dst stride) first.
    if (box.shuffle && c >= 0) MoveSourceContinuationInward(rest, lb);
    const int64_t line = 64 / unit;
    if (c >= 0 && lb.n * unit < 64) {
      // Few source units per row: block A outside C, so a kernel's rows stay
      // cached while C walks along them.
      if (la.n > line && la.n % line == 0 &&
          !Gather32Applies(unit, lb, la, loops[c])) {
        rest.push_back(Loop{la.n / line, la.ss * line, la.ds * line});
        la.n = line;
      }
      rest.push_back(loops[c]);
    } else if (c >= 0) {
      rest.push_back(loops[c]);
    }
    rest.push_back(lb);
    rest.push_back(la);
    box.loops = std::move(rest);
    return box;
  }
  box.kernel = Kernel::kCopy;
  std::reverse(loops.begin(), loops.end());
  box.loops = std::move(loops);
  return box;
}

void SelectPlaneKernel(Box* box, Isa isa) {
  if (box->kernel != Kernel::kTranspose) return;
  if (box->shuffle) {
    box->plane = SelectShufflePlane(isa);
    return;
  }
  const size_t n = box->loops.size();
  box->plane = SelectPlane(box->unit, box->loops.back().n, isa);
  const Loop none{1, 0, 0};
  if (n >= 2 && Gather32Applies(box->unit, box->loops[n - 2], box->loops[n - 1],
                                n >= 3 ? box->loops[n - 3] : none)) {
    box->plane = SelectGather32Plane(isa);
  }
}

Box MakeBitBox(int64_t src, int64_t dst, std::vector<Loop> loops,
               int dst_bits) {
  Box box;
  box.kernel = Kernel::kBits;
  box.src = src;
  box.dst = dst;
  std::vector<Loop> c = Coalesce(std::move(loops));
  std::reverse(c.begin(), c.end());
  // A loop that continues the kernel's outer loop along the source goes
  // right outside the kernel, so consecutive kernels read on along the same
  // source rows (s4 into (8,1) tiles: 8 rows read sequentially instead of
  // 64 rows a line at a time). loops[0] stays in place.
  if (c.size() >= 4) {
    const size_t n = c.size();
    const Loop& o = c[n - 2];
    for (size_t j = 1; j + 3 < n; ++j) {
      if (c[j].ss == o.n * o.ss) {
        Loop moved = c[j];
        c.erase(c.begin() + j);
        c.insert(c.begin() + (n - 3), moved);
        break;
      }
    }
  }
  int64_t count = 1;
  for (const Loop& l : c) count *= l.n;
  box.bytes = std::max<int64_t>(1, count * dst_bits / 8);
  box.loops = std::move(c);
  return box;
}

std::vector<Box> DataBoxes(const std::vector<std::vector<Piece>>& pieces,
                           const PhysicalLayout& src, const PhysicalLayout& dst,
                           Isa isa) {
  std::vector<Box> boxes;
  if (src.num_logical_elements() == 0) return boxes;
  const bool bits =
      src.packed() || dst.packed() || src.element_bits() != dst.element_bits();
  const int64_t src_unit = src.element_bits() / 8,
                dst_unit = dst.element_bits() / 8;
  for (BoxLoops& b : PieceProduct(pieces)) {
    if (bits) {
      boxes.push_back(
          MakeBitBox(b.src, b.dst, std::move(b.loops), dst.element_bits()));
      continue;
    }
    for (Loop& l : b.loops) {
      l.ss *= src_unit;
      l.ds *= dst_unit;
    }
    Box box = MakeByteBox(b.src * src_unit, b.dst * dst_unit, src_unit,
                          std::move(b.loops), false);
    SelectPlaneKernel(&box, isa);
    boxes.push_back(std::move(box));
  }
  return boxes;
}

namespace {

// Offsets (elements) of dst padding along one dim, as runs along its lowest
// digit, and the dim's valid part as pieces.
struct DimFill {
  std::vector<Piece> valid;    // Dst-side loops only (ss unused).
  std::vector<Piece> padding;  // Each one loop: run of padding slots.
  Piece all;                   // Every slot of the dim.
};

DimFill MakeDimFill(const std::vector<Node>& nodes, int64_t n) {
  DimFill fill;
  fill.all.loops.reserve(nodes.size());
  for (const Node& x : nodes)
    fill.all.loops.push_back(Loop{x.size, 0, x.stride});
  bool ok = true;  // Same chain on both sides: always nested.
  fill.valid = DimPieces(nodes, nodes, n, &ok);
  // The lowest digit (lo == 1) gives the runs; odometer over the others.
  std::vector<Node> sorted = nodes;
  std::sort(sorted.begin(), sorted.end(),
            [](const Node& a, const Node& b) { return a.lo < b.lo; });
  if (sorted.empty()) return fill;
  const Node low = sorted[0];
  std::vector<Node> high(sorted.begin() + 1, sorted.end());
  std::vector<int64_t> x(high.size(), 0);
  const int64_t low_span =
      low.hi == 0 ? low.size : std::min(low.size, low.hi / low.lo);
  while (true) {
    bool ok = true;
    int64_t r = 0, offset = 0;
    for (size_t k = 0; k < high.size(); ++k) {
      if (high[k].hi != 0 && x[k] >= high[k].hi / high[k].lo) ok = false;
      r += x[k] * high[k].lo;
      offset += x[k] * high[k].stride;
    }
    int64_t valid = ok && r < n ? std::min(low_span, n - r) : 0;
    if (valid < low.size) {
      fill.padding.push_back(Piece{0,
                                   offset + valid * low.stride,
                                   {Loop{low.size - valid, 0, low.stride}}});
    }
    size_t k = 0;
    for (; k < high.size(); ++k) {
      if (++x[k] < high[k].size) break;
      x[k] = 0;
    }
    if (k == high.size()) break;
  }
  return fill;
}

// Calls f(offset) for every iteration of `loops` (outer first), offsets
// relative to `base` along the dst strides.
template <typename F>
void ForEachDstOffset(const std::vector<Loop>& loops, int64_t base, F&& f) {
  std::vector<int64_t> idx(loops.size(), 0);
  while (true) {
    int64_t off = base;
    for (size_t j = 0; j < loops.size(); ++j) off += idx[j] * loops[j].ds;
    f(off);
    size_t j = loops.size();
    while (j-- > 0) {
      if (++idx[j] < loops[j].n) break;
      idx[j] = 0;
    }
    if (j == static_cast<size_t>(-1)) break;
  }
}

}  // namespace

std::optional<std::vector<Box>> PaddingBoxes(const Model& md,
                                             const PhysicalLayout& dst) {
  std::vector<Box> zero_boxes;
  if (dst.num_tiled_elements() == dst.num_logical_elements() ||
      dst.num_logical_elements() == 0) {
    return zero_boxes;
  }
  const int64_t dst_unit = dst.element_bits() / 8;
  // Padding regions of the output: union over dims d of
  // valid(<d) x padding(d) x all(>d), constant dims last.
  std::vector<DimFill> fills;
  for (int d = 0; d < dst.rank(); ++d) {
    fills.push_back(MakeDimFill(md.dims[d], dst.shape().dimensions(d)));
  }
  for (const Node& c : md.constants) {
    Node only = c;
    only.dim = 0;
    only.lo = 1;
    only.hi = 0;
    fills.push_back(MakeDimFill({only}, 1));
  }
  int64_t fill_boxes = 0;
  for (size_t d = 0; d < fills.size(); ++d) {
    std::vector<std::vector<Piece>> choice;
    int64_t n = 1;
    for (size_t e = 0; e < fills.size(); ++e) {
      if (e < d) choice.push_back(fills[e].valid);
      if (e == d) choice.push_back(fills[e].padding);
      if (e > d) choice.push_back({fills[e].all});
      n *= choice.back().size();
    }
    if (n == 0) continue;
    fill_boxes += n;
    if (fill_boxes > kMaxBoxes) return std::nullopt;
    std::vector<size_t> pick(choice.size(), 0);
    while (true) {
      int64_t dof = 0;
      std::vector<Loop> loops;
      for (size_t e = 0; e < choice.size(); ++e) {
        const Piece& pc = choice[e][pick[e]];
        dof += pc.dst;
        for (Loop l : pc.loops) {
          l.ss = 0;
          l.ds *= dst_unit;
          loops.push_back(l);
        }
      }
      zero_boxes.push_back(
          MakeByteBox(0, dof * dst_unit, dst_unit, std::move(loops), true));
      size_t e = choice.size();
      while (e-- > 0) {
        if (++pick[e] < choice[e].size()) break;
        pick[e] = 0;
      }
      if (e == static_cast<size_t>(-1)) break;
    }
  }
  return zero_boxes;
}

bool FuseRowPadding(std::vector<Box>* boxes) {
  if (PaddedRowsPlane() == nullptr) return false;
  constexpr int64_t kMaxRuns = 1 << 22;
  std::vector<std::pair<int64_t, int64_t>> zero;  // [start, end) in bytes.
  std::vector<size_t> data;
  for (size_t i = 0; i < boxes->size(); ++i) {
    const Box& b = (*boxes)[i];
    if (b.kernel == Kernel::kZero) {
      int64_t runs = 1;
      for (const Loop& l : b.loops) runs *= l.n;
      if (runs > kMaxRuns ||
          static_cast<int64_t>(zero.size()) + runs > kMaxRuns) {
        return false;
      }
      ForEachDstOffset(b.loops, b.dst, [&](int64_t o) {
        zero.push_back({o, o + b.unit});
      });
    } else if (b.kernel == Kernel::kTranspose && b.shuffle) {
      data.push_back(i);
    } else {
      return false;
    }
  }
  if (zero.empty() || data.empty()) return false;
  std::sort(zero.begin(), zero.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& z : zero) {
    if (!merged.empty() && z.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, z.second);
    } else {
      merged.push_back(z);
    }
  }
  int64_t zero_total = 0;
  for (const auto& z : merged) zero_total += z.second - z.first;
  int64_t tail_total = 0;
  for (size_t i : data) {
    const Box& b = (*boxes)[i];
    const size_t n = b.loops.size();
    // Four loops at least: C must not be the loop that work items split.
    if (n < 4) return false;
    const Loop& lc = b.loops[n - 3];
    const Loop& lb = b.loops[n - 2];
    const Loop& la = b.loops[n - 1];
    if (!ShuffleRowsApply(la, lc)) return false;
    const int64_t row = lc.n * lc.ds;
    if (lb.ds <= row) return false;
    std::vector<Loop> rows(b.loops.begin(), b.loops.begin() + (n - 3));
    rows.push_back(lb);
    int64_t count = 1;
    for (const Loop& l : rows) count *= l.n;
    if (count > kMaxRuns) return false;
    bool ok = true;
    ForEachDstOffset(rows, b.dst, [&](int64_t o) {
      if (!ok) return;
      const int64_t lo = o + row, hi = o + lb.ds;
      auto it = std::upper_bound(
          merged.begin(), merged.end(),
          std::pair<int64_t, int64_t>{lo, std::numeric_limits<int64_t>::max()});
      if (it == merged.begin() || std::prev(it)->second < hi) ok = false;
    });
    if (!ok) return false;
    tail_total += count * (lb.ds - row);
  }
  // Tails are disjoint (each lies in padding, so no row starts inside
  // another's tail) and inside the padding: equal totals mean they are all
  // of it.
  if (tail_total != zero_total) return false;
  for (size_t i : data) {
    Box& b = (*boxes)[i];
    b.plane = PaddedRowsPlane(ShufflePlaneIsa(b.plane));
    b.pads_rows = true;
    b.bytes = b.bytes /
              (b.loops[b.loops.size() - 3].n * b.loops[b.loops.size() - 1].n *
               b.unit) *
              b.loops[b.loops.size() - 2].ds;
  }
  boxes->erase(
      std::remove_if(boxes->begin(), boxes->end(),
                     [](const Box& b) { return b.kernel == Kernel::kZero; }),
      boxes->end());
  return true;
}

bool WholeByteNibbles(const std::vector<Box>& boxes) {
  if (boxes.empty()) return false;
  for (const Box& box : boxes) {
    const size_t n = box.loops.size();
    if (box.kernel != Kernel::kBits || n < 3) return false;
    // The kernel's test, for every iteration's base offsets: the loops
    // outside it keep byte alignment (even element strides).
    if (!Nibble8RowsApply(box.src, box.dst, box.loops[n - 2], box.loops[n - 1],
                          Loop{1, 0, 0})) {
      return false;
    }
    for (size_t k = 0; k + 2 < n; ++k) {
      if (box.loops[k].ss % 2 != 0 || box.loops[k].ds % 2 != 0) return false;
    }
  }
  return true;
}

}  // namespace xlayout::relayout_internal
