#include "xlayout/relayout.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <list>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/checked_math.h"
#include "relayout/simd.h"
#include "relayout/transpose32.h"
#include "xlayout/physical_index.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

// ---------------------------------------------------------------------------
// Separable model of a layout. Without merges of two real dims (`*`) and with
// tiles that divide what they split, every final tiled dim holds one "digit"
// of one logical index: (i / lo) % (hi / lo), hi == 0 meaning unbounded. The
// offset is then a sum over logical dims of f_d(i_d), each linear in digits.

struct Node {
  int dim = -1;        // Logical dim; -1 for a constant-0 dim (rank padding).
  int64_t lo = 1;      // Digit = (i / lo) % (hi / lo).
  int64_t hi = 0;      // 0: unbounded (the top digit).
  int64_t size = 1;    // Memory extent of the final dim.
  int64_t stride = 0;  // Elements, in the final row-major shape.
};

struct Model {
  bool separable = false;
  std::vector<std::vector<Node>> dims;  // Nodes of each logical dim.
  std::vector<Node> constants;          // Constant-0 dims (padding only).
};

int64_t DigitOf(const Node& n, int64_t i) {
  return n.hi == 0 ? i / n.lo : (i / n.lo) % (n.hi / n.lo);
}

// f_d(i): the element offset contributed by index i of a dim.
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

// Break points of a dim's digits below its extent n, ascending from 1.
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

// ---------------------------------------------------------------------------
// Boxes: base offsets plus loops (extent, src stride, dst stride).

struct Loop {
  int64_t n = 1;
  int64_t ss = 0;
  int64_t ds = 0;
};

// A piece of one logical dim: indices start + mixed-radix digits.
struct Piece {
  int64_t src = 0;  // Element offsets of index `start`.
  int64_t dst = 0;
  std::vector<Loop> loops;  // Strides in elements.
};

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

constexpr int64_t kMaxPiecesPerDim = 1 << 16;

// Pieces covering [0, n) of one dim, linear in their digits on both sides.
// Sets *ok to false (and returns nothing) when that needs too many pieces.
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

enum class Kernel { kCopy, kTranspose, kZero, kBits };

struct Box {
  Kernel kernel = Kernel::kCopy;
  int64_t src = 0;  // Base offsets: bytes (elements for kBits).
  int64_t dst = 0;
  int64_t unit = 1;  // Bytes moved per innermost step (byte kernels).
  // Outer to inner. kTranspose: the last two are B (src-contiguous) and A
  // (dst-contiguous); kCopy/kZero: the last is the innermost strided loop.
  std::vector<Loop> loops;
  int64_t bytes = 0;  // Output bytes written, for scheduling and progress.
  // kTranspose on 8-byte units that are 2x2 blocks of 16-bit elements.
  bool shuffle = false;
  // kTranspose: the plane kernel (B x A), set when the box is final.
  void (*plane)(const uint8_t*, uint8_t*, const Loop&, const Loop&, const Loop&,
                int64_t, int64_t, bool) = nullptr;
};

// Drops unit loops, sorts by dst stride and merges loops that are one loop.
std::vector<Loop> Coalesce(std::vector<Loop> loops) {
  loops.erase(std::remove_if(loops.begin(), loops.end(),
                             [](const Loop& l) { return l.n == 1; }),
              loops.end());
  std::sort(loops.begin(), loops.end(), [](const Loop& a, const Loop& b) {
    return a.ds != b.ds ? a.ds < b.ds : a.ss < b.ss;
  });
  std::vector<Loop> out;
  for (const Loop& l : loops) {
    if (!out.empty() && out.back().ds * out.back().n == l.ds &&
        out.back().ss * out.back().n == l.ss) {
      out.back().n *= l.n;
    } else {
      out.push_back(l);
    }
  }
  return out;  // Inner to outer.
}

// Planes of 4-byte units that the blocked transpose (transpose32.h) takes:
// at least 16 rows, and 16 units per row in B alone or in B continued by C
// along the source (B then divides 16 or is a multiple of it, so whole C
// steps fill the 16-unit blocks).
bool Gather32Applies(int64_t unit, const Loop& lb, const Loop& la,
                     const Loop& lc) {
  if (unit != 4 || la.ds != 4 || lb.ss != 4 || la.n < 16) return false;
  return lb.n >= 16 || (lc.ss == lb.n * 4 && lb.n * lc.n >= 16 &&
                        (16 % lb.n == 0 || lb.n % 16 == 0));
}

// Turns loops (inner to outer, byte strides) into a scheduled box.
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
    std::vector<Loop> rest;
    for (size_t i = 0; i < loops.size(); ++i) {
      const int ii = static_cast<int>(i);
      if (ii != a && ii != b && ii != c) rest.push_back(loops[i]);
    }
    std::reverse(rest.begin(),
                 rest.end());  // Outer (largest dst stride) first.
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

// ---------------------------------------------------------------------------
// Kernels.

struct alignas(16) U128 {
  uint64_t lo, hi;
};

// The unsigned integer (or 16-byte struct) that moves one U-byte unit.
template <int U>
using UnitT = std::conditional_t<
    U == 1, uint8_t,
    std::conditional_t<
        U == 2, uint16_t,
        std::conditional_t<U == 4, uint32_t,
                           std::conditional_t<U == 8, uint64_t, U128>>>>;

template <typename T>
inline T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void Store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// Innermost strided copy of n units.
template <int U>
void CopyLoopT(const uint8_t* __restrict s, uint8_t* __restrict d, int64_t n,
               int64_t ss, int64_t ds) {
  using T = UnitT<U>;
  if (ss == U && ds == U) {
    std::memcpy(d, s, n * U);
    return;
  }
  for (int64_t i = 0; i < n; ++i) Store<T>(d + i * ds, Load<T>(s + i * ss));
}

// Runs of whole cache lines into a huge output: streaming stores skip the
// read-for-ownership of every destination line (as memcpy does for large
// copies). `d` and `ds` are 16-byte aligned.
void StreamRuns(const uint8_t* s, uint8_t* d, int64_t n, int64_t ss, int64_t ds,
                int64_t unit) {
#if defined(__SSE2__)
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* from = s + i * ss;
    uint8_t* to = d + i * ds;
    for (int64_t k = 0; k < unit; k += 64) {
      // Runs often continue along the source row after other rows' runs
      // (row-major into tiles): fetch that continuation early. Prefetches
      // never fault, even past the buffer.
      _mm_prefetch(reinterpret_cast<const char*>(from + unit + k), _MM_HINT_T0);
      __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + k)),
              v1 = _mm_loadu_si128(
                  reinterpret_cast<const __m128i*>(from + k + 16));
      __m128i v2 = _mm_loadu_si128(
                  reinterpret_cast<const __m128i*>(from + k + 32)),
              v3 = _mm_loadu_si128(
                  reinterpret_cast<const __m128i*>(from + k + 48));
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k), v0);
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k + 16), v1);
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k + 32), v2);
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k + 48), v3);
    }
  }
#else
  for (int64_t i = 0; i < n; ++i) std::memcpy(d + i * ds, s + i * ss, unit);
#endif
}

void CopyLoop(const uint8_t* s, uint8_t* d, int64_t n, int64_t ss, int64_t ds,
              int64_t unit) {
  switch (unit) {
    case 1:
      return CopyLoopT<1>(s, d, n, ss, ds);
    case 2:
      return CopyLoopT<2>(s, d, n, ss, ds);
    case 4:
      return CopyLoopT<4>(s, d, n, ss, ds);
    case 8:
      return CopyLoopT<8>(s, d, n, ss, ds);
    case 16:
      return CopyLoopT<16>(s, d, n, ss, ds);
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(d + i * ds, s + i * ss, unit);
  }
}

// A plane kernel: B x A for b in [b_lo, b_hi), repeated along lc.
using PlaneFn = void (*)(const uint8_t* s, uint8_t* d, const Loop& lb,
                         const Loop& la, const Loop& lc, int64_t b_lo,
                         int64_t b_hi, bool stream);

// A full LA x LB block: src rows (stride ssa) of LB contiguous units become
// dst rows (stride dsb) of LA contiguous units. Fixed sizes let the compiler
// build each dst row in registers (no staging buffer: storing scalars and
// reloading them as vectors stalls store forwarding).
template <int U, int LA, int LB>
inline void TransposeBlock(const uint8_t* __restrict s, int64_t ssa,
                           uint8_t* __restrict d, int64_t dsb) {
  using T = UnitT<U>;
  for (int b = 0; b < LB; ++b) {
    T row[LA];
    for (int a = 0; a < LA; ++a) row[a] = Load<T>(s + a * ssa + b * U);
    std::memcpy(d + b * dsb, row, sizeof(row));
  }
}

#if defined(__SSE2__)
template <bool kStream>
inline void StoreRow(uint8_t* p, __m128i v) {
  if constexpr (kStream) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(p), v);
  } else {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
  }
}
inline __m128i LoadRow(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// m x m micro-transposes, m = 16 / U: one SSE register per row.
template <int U, bool kStream>
inline void Micro(const uint8_t* s, int64_t ssa, uint8_t* d, int64_t dsb) {
  if constexpr (U == 4) {
    __m128i r0 = LoadRow(s), r1 = LoadRow(s + ssa), r2 = LoadRow(s + 2 * ssa),
            r3 = LoadRow(s + 3 * ssa);
    __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpacklo_epi32(r2, r3);
    __m128i t2 = _mm_unpackhi_epi32(r0, r1), t3 = _mm_unpackhi_epi32(r2, r3);
    StoreRow<kStream>(d, _mm_unpacklo_epi64(t0, t1));
    StoreRow<kStream>(d + dsb, _mm_unpackhi_epi64(t0, t1));
    StoreRow<kStream>(d + 2 * dsb, _mm_unpacklo_epi64(t2, t3));
    StoreRow<kStream>(d + 3 * dsb, _mm_unpackhi_epi64(t2, t3));
  } else if constexpr (U == 2) {
    __m128i r[8];
    for (int i = 0; i < 8; ++i) r[i] = LoadRow(s + i * ssa);
    __m128i t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm_unpacklo_epi16(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm_unpackhi_epi16(r[2 * i], r[2 * i + 1]);
    }
    // t[0], t[2], t[4], t[6]: columns 0-3 of row pairs; odd t: columns 4-7.
    for (int h = 0; h < 2; ++h) {
      u[4 * h + 0] = _mm_unpacklo_epi32(t[h], t[h + 2]);
      u[4 * h + 1] = _mm_unpackhi_epi32(t[h], t[h + 2]);
      u[4 * h + 2] = _mm_unpacklo_epi32(t[h + 4], t[h + 6]);
      u[4 * h + 3] = _mm_unpackhi_epi32(t[h + 4], t[h + 6]);
    }
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 2; ++j) {
        __m128i lo = u[4 * h + j], hi = u[4 * h + 2 + j];
        const int col = 4 * h + 2 * j;
        StoreRow<kStream>(d + col * dsb, _mm_unpacklo_epi64(lo, hi));
        StoreRow<kStream>(d + (col + 1) * dsb, _mm_unpackhi_epi64(lo, hi));
      }
    }
  } else if constexpr (U == 8) {
    __m128i r0 = LoadRow(s), r1 = LoadRow(s + ssa);
    StoreRow<kStream>(d, _mm_unpacklo_epi64(r0, r1));
    StoreRow<kStream>(d + dsb, _mm_unpackhi_epi64(r0, r1));
  } else if constexpr (U == 16) {
    StoreRow<kStream>(d, LoadRow(s));
  }
}

// An L x L block (L = 64 / U units: one cache line per row on both sides)
// from micro-transposes; dst lines are completed by consecutive stores.
template <int U, bool kStream>
inline void SquareBlock(const uint8_t* s, int64_t ssa, uint8_t* d,
                        int64_t dsb) {
  constexpr int m = 16 / U, L = 64 / U;
  // The next blocks read on along the same source rows: prefetch a few lines
  // ahead (rows at large strides defeat the hardware prefetcher).
  constexpr int kAhead = 4 * 64;
  for (int a = 0; a < L; ++a) {
    _mm_prefetch(reinterpret_cast<const char*>(s + a * ssa + kAhead),
                 _MM_HINT_T0);
  }
  for (int bi = 0; bi < L; bi += m) {
    for (int ai = 0; ai < L; ai += m) {
      Micro<U, kStream>(s + ai * ssa + bi * U, ssa, d + bi * dsb + ai * U, dsb);
    }
  }
}

// 2 source units per row, 32-bit: groups of 4 rows become 16-byte rows of
// both dst rows.
template <bool kStream>
inline void Thin4x2(const uint8_t* s, int64_t ssa, uint8_t* d, int64_t dsb,
                    int rows) {
  for (int a = 0; a + 4 <= rows; a += 4) {
    __m128i q0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + a * ssa));
    __m128i q1 =
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + (a + 1) * ssa));
    __m128i q2 =
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + (a + 2) * ssa));
    __m128i q3 =
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + (a + 3) * ssa));
    __m128i t0 = _mm_unpacklo_epi32(q0, q1), t1 = _mm_unpacklo_epi32(q2, q3);
    StoreRow<kStream>(d + a * 4, _mm_unpacklo_epi64(t0, t1));
    StoreRow<kStream>(d + dsb + a * 4, _mm_unpackhi_epi64(t0, t1));
  }
}
#endif

template <int U>
void TransposeEdge(const uint8_t* s, int64_t ssa, uint8_t* d, int64_t dsb,
                   int64_t la, int64_t lb) {
  using T = UnitT<U>;
  for (int64_t b = 0; b < lb; ++b) {
    for (int64_t a = 0; a < la; ++a)
      Store<T>(d + b * dsb + a * U, Load<T>(s + a * ssa + b * U));
  }
}

// The B x A plane for b in [b_lo, b_hi), in LA x LB blocks.
template <int U, int LA, int LB>
inline void BlocksOne(const uint8_t* s, uint8_t* d, const Loop& lb,
                      const Loop& la, int64_t b_lo, int64_t b_hi, bool stream) {
  // A-blocks outside, B inside: the LA source rows are read sequentially
  // (prefetch-friendly), and each block completes its dst lines.
  const int64_t b_full = b_lo + (b_hi - b_lo) / LB * LB;
  const int64_t a_full = la.n / LA * LA;
#if defined(__SSE2__)
  if constexpr (LA == 2 && U <= 8 && LB * U >= 16) {
    // Two source rows interleaved into one contiguous run (e.g. bf16
    // (8,128)(2,1) packing): SSE unpacks, 16 bytes of each row at a time.
    if (lb.ds == 2 * U && la.n == 2) {
      // Strides in locals: the stores below could alias the Loop structs.
      const int64_t bss = lb.ss, bds = lb.ds, ass = la.ss;
      constexpr int kPer = 16 / U;
      int64_t b0 = b_lo;
      // Every step moves the output by 32 bytes: alignment is invariant.
      const bool nt =
          stream && reinterpret_cast<uintptr_t>(d + b0 * bds) % 16 == 0;
      for (; b0 + kPer <= b_hi; b0 += kPer) {
        if (b0 % (64 / U) == 0) {
          // Both rows run on through the next planes (C): fetch ahead.
          _mm_prefetch(reinterpret_cast<const char*>(s + b0 * bss + 512),
                       _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(s + ass + b0 * bss + 512),
                       _MM_HINT_T0);
        }
        __m128i r0 = LoadRow(s + b0 * bss), r1 = LoadRow(s + ass + b0 * bss);
        __m128i lo, hi;
        if constexpr (U == 1) {
          lo = _mm_unpacklo_epi8(r0, r1);
          hi = _mm_unpackhi_epi8(r0, r1);
        } else if constexpr (U == 2) {
          lo = _mm_unpacklo_epi16(r0, r1);
          hi = _mm_unpackhi_epi16(r0, r1);
        } else if constexpr (U == 4) {
          lo = _mm_unpacklo_epi32(r0, r1);
          hi = _mm_unpackhi_epi32(r0, r1);
        } else {
          lo = _mm_unpacklo_epi64(r0, r1);
          hi = _mm_unpackhi_epi64(r0, r1);
        }
        uint8_t* out = d + b0 * bds;
        if (nt) {
          StoreRow<true>(out, lo);
          StoreRow<true>(out + 16, hi);
        } else {
          StoreRow<false>(out, lo);
          StoreRow<false>(out + 16, hi);
        }
      }
      if (b0 < b_hi)
        TransposeEdge<U>(s + b0 * lb.ss, la.ss, d + b0 * lb.ds, lb.ds, 2,
                         b_hi - b0);
      return;
    }
  }
#endif
  // Tiles of 8 x 8 blocks keep both sides' pages (TLB) and lines in cache
  // when both extents are large; thin planes are one tile.
  // Full-line square blocks: tall tiles (256 source rows) that are 4 lines
  // wide, so the source rows' next lines (prefetched by SquareBlock) stay
  // few while each destination row gets long runs; measured best for
  // 8192 x 8192 f32 (0.66x memcpy vs 0.54x for 128 x 128 tiles).
  constexpr bool kSquare = LA == 64 / U && LB == 64 / U;
  constexpr int64_t kTileA = kSquare ? std::max(256, LA) : 8 * LA,
                    kTileB = kSquare ? 4 * LB : 8 * LB;
  for (int64_t at = 0; at < a_full; at += kTileA) {
    const int64_t a_end = std::min(a_full, at + kTileA);
    for (int64_t bt = b_lo; bt < b_full; bt += kTileB) {
      const int64_t b_end = std::min(b_full, bt + kTileB);
      for (int64_t a0 = at; a0 < a_end; a0 += LA) {
        const uint8_t* sa = s + a0 * la.ss;
        uint8_t* da = d + a0 * U;
        int64_t b0 = bt;
#if defined(__SSE2__)
        if constexpr (LA == 64 / U && LB == 64 / U && U >= 2) {
          // Streaming stores skip the read-for-ownership of huge outputs;
          // they need 16-byte aligned rows.
          if (stream &&
              (reinterpret_cast<uintptr_t>(da + b0 * lb.ds) % 16 == 0) &&
              lb.ds % 16 == 0) {
            for (; b0 < b_end; b0 += LB) {
              SquareBlock<U, true>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds,
                                   lb.ds);
            }
          } else {
            for (; b0 < b_end; b0 += LB) {
              SquareBlock<U, false>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds,
                                    lb.ds);
            }
          }
        }
#endif
#if defined(__SSE2__)
        if constexpr (U == 4 && LB == 2 && LA % 4 == 0) {
          // Rows of whole lines (LA = 16) stream when aligned.
          if (LA % 16 == 0 && stream && lb.ds % 64 == 0 &&
              reinterpret_cast<uintptr_t>(da + b0 * lb.ds) % 64 == 0) {
            for (; b0 < b_end; b0 += LB)
              Thin4x2<true>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds, lb.ds, LA);
          } else {
            for (; b0 < b_end; b0 += LB)
              Thin4x2<false>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds, lb.ds,
                             LA);
          }
        }
#endif
        for (; b0 < b_end; b0 += LB) {
          TransposeBlock<U, LA, LB>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds,
                                    lb.ds);
        }
      }
    }
    if (b_full < b_hi) {
      TransposeEdge<U>(s + at * la.ss + b_full * lb.ss, la.ss,
                       d + at * U + b_full * lb.ds, lb.ds, a_end - at,
                       b_hi - b_full);
    }
  }
  if (a_full < la.n) {
    TransposeEdge<U>(s + a_full * la.ss + b_lo * lb.ss, la.ss,
                     d + a_full * U + b_lo * lb.ds, lb.ds, la.n - a_full,
                     b_hi - b_lo);
  }
}

// The plane repeated along lc, the loop just outside the kernel (one call
// per box row instead of one per plane: thin planes are only ~100 bytes).
template <int U, int LA, int LB>
void Blocks(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
            int64_t b_lo, int64_t b_hi, bool stream, const Loop& lc) {
  for (int64_t c = 0; c < lc.n; ++c) {
    BlocksOne<U, LA, LB>(s + c * lc.ss, d + c * lc.ds, lb, la, b_lo, b_hi,
                         stream);
  }
}

// Block side: the whole line (64 / U units) when the extent allows, else
// the largest of 8, 4, 2, 1 that fits (thin planes such as 2 x 128).
inline int BlockSide(int64_t n, int line) {
  if (n >= line) return line;
  for (int side : {8, 4, 2}) {
    if (side < line && n >= side) return side;
  }
  return 1;
}

template <int U, int LA>
void DispatchB(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
               const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream) {
  constexpr int L = 64 / U;
  const int side = BlockSide(b_hi - b_lo, L);
  if (side == L) return Blocks<U, LA, L>(s, d, lb, la, b_lo, b_hi, stream, lc);
  if constexpr (8 < L) {
    if (side == 8)
      return Blocks<U, LA, 8>(s, d, lb, la, b_lo, b_hi, stream, lc);
  }
  if constexpr (4 < L) {
    if (side == 4)
      return Blocks<U, LA, 4>(s, d, lb, la, b_lo, b_hi, stream, lc);
  }
  if constexpr (2 < L) {
    if (side == 2)
      return Blocks<U, LA, 2>(s, d, lb, la, b_lo, b_hi, stream, lc);
  }
  return Blocks<U, LA, 1>(s, d, lb, la, b_lo, b_hi, stream, lc);
}

template <int U>
PlaneFn SelectPlaneT(int64_t na) {
  constexpr int L = 64 / U;
  const int side = BlockSide(na, L);
  if (side == L) return &DispatchB<U, L>;
  if constexpr (8 < L) {
    if (side == 8) return &DispatchB<U, 8>;
  }
  if constexpr (4 < L) {
    if (side == 4) return &DispatchB<U, 4>;
  }
  if constexpr (2 < L) {
    if (side == 2) return &DispatchB<U, 2>;
  }
  return &DispatchB<U, 1>;
}

// (a, b, c, d) -> (a, c, b, d) in 16-bit lanes: a 2x2 transpose.
inline uint64_t Swap2x2(uint64_t x) {
  return (x & 0xFFFF00000000FFFFull) | ((x >> 16) & 0x00000000FFFF0000ull) |
         ((x << 16) & 0x0000FFFF00000000ull);
}

// The plane of a shuffled box: 8-byte units, each a 2x2 of 16-bit values.
template <int kBlock>
void ShuffleBlocks(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                   int64_t b_lo, int64_t b_hi) {
  int64_t a0 = 0;
  for (; a0 + kBlock <= la.n; a0 += kBlock) {
    const uint8_t* sa = s + a0 * la.ss;
    uint8_t* da = d + a0 * 8;
    int64_t b = b_lo;
#if defined(__SSE2__)
    if constexpr (kBlock % 2 == 0) {
      // 2x2 blocks of units: unpack 64-bit halves, then swap the middle
      // 16-bit lanes of each half.
      auto swap = [](__m128i v) {
        v = _mm_shufflelo_epi16(v, _MM_SHUFFLE(3, 1, 2, 0));
        return _mm_shufflehi_epi16(v, _MM_SHUFFLE(3, 1, 2, 0));
      };
      for (; b + 2 <= b_hi; b += 2) {
        for (int a = 0; a < kBlock; a += 2) {
          __m128i r0 = LoadRow(sa + a * la.ss + b * 8);
          __m128i r1 = LoadRow(sa + (a + 1) * la.ss + b * 8);
          StoreRow<false>(da + b * lb.ds + a * 8,
                          swap(_mm_unpacklo_epi64(r0, r1)));
          StoreRow<false>(da + (b + 1) * lb.ds + a * 8,
                          swap(_mm_unpackhi_epi64(r0, r1)));
        }
      }
    }
#endif
    for (; b < b_hi; ++b) {
      uint64_t row[kBlock];
      for (int a = 0; a < kBlock; ++a)
        row[a] = Swap2x2(Load<uint64_t>(sa + a * la.ss + b * 8));
      std::memcpy(da + b * lb.ds, row, sizeof(row));
    }
  }
  for (int64_t b = b_lo; b < b_hi; ++b) {
    for (int64_t a = a0; a < la.n; ++a) {
      Store<uint64_t>(d + b * lb.ds + a * 8,
                      Swap2x2(Load<uint64_t>(s + a * la.ss + b * 8)));
    }
  }
}

#if defined(__SSE2__)
// A shuffled plane whose C loop continues A in the destination (lc.ds ==
// la.n units): each destination row (fixed b) is lc.n * la.n contiguous
// units, written in one go instead of in lc.n pieces by separate planes.
// The source rows (lc.n * la.n of them) stay in L1 while b walks along them.
// With `pad` > 0, each row continues with zeros up to `pad` bytes (the plan
// checked that those bytes are all padding of the output). Rows that then
// cover whole lines are streamed entirely: mixing cached and streaming
// stores in one region lets the prefetcher pull in lines that the streaming
// stores must then evict, which is far slower than either alone.
template <bool kStream>
void ShuffleRowsT(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                  const Loop& lc, int64_t b_lo, int64_t b_hi, int64_t pad) {
  // Loop fields in locals: the stores below could alias them.
  const int64_t bss = lb.ss, bds = lb.ds, ass = la.ss, an = la.n;
  const int64_t css = lc.ss, cds = lc.ds, cn = lc.n;
  const int64_t row_bytes = cn * cds;  // A multiple of 16.
  auto swap = [](__m128i v) {
    v = _mm_shufflelo_epi16(v, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm_shufflehi_epi16(v, _MM_SHUFFLE(3, 1, 2, 0));
  };
  for (int64_t b = b_lo; b < b_hi; ++b) {
    const uint8_t* sb = s + b * bss;
    uint8_t* out = d + b * bds;
    // The cn * an source rows are read 8 bytes per b: fetch two lines ahead
    // once per line.
    const bool fetch = (b * bss) % 64 == 0;
    for (int64_t c = 0; c < cn; ++c) {
      const uint8_t* sc = sb + c * css;
      uint8_t* oc = out + c * cds;
      for (int64_t a = 0; a < an; a += 2) {
        if (fetch) {
          _mm_prefetch(reinterpret_cast<const char*>(sc + a * ass + 128),
                       _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(sc + (a + 1) * ass + 128),
                       _MM_HINT_T0);
        }
        __m128i r0 =
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + a * ass));
        __m128i r1 = _mm_loadl_epi64(
            reinterpret_cast<const __m128i*>(sc + (a + 1) * ass));
        StoreRow<kStream>(oc + a * 8, swap(_mm_unpacklo_epi64(r0, r1)));
      }
    }
    if (pad > row_bytes) {
      if constexpr (kStream) {
        const __m128i zero = _mm_setzero_si128();
        for (int64_t q = row_bytes; q < pad; q += 16)
          StoreRow<true>(out + q, zero);
      } else {
        std::memset(out + row_bytes, 0, pad - row_bytes);
      }
    }
  }
}

void ShuffleRows(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                 const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream,
                 int64_t pad) {
  if (stream && pad > 0 && pad % 64 == 0 && lb.ds % 64 == 0 &&
      reinterpret_cast<uintptr_t>(d + b_lo * lb.ds) % 64 == 0) {
    ShuffleRowsT<true>(s, d, lb, la, lc, b_lo, b_hi, pad);
  } else {
    ShuffleRowsT<false>(s, d, lb, la, lc, b_lo, b_hi, pad);
  }
}

// ShuffleRows whose rows are padded with zeros up to the next row (lb.ds).
void ShufflePaddedRows(const uint8_t* s, uint8_t* d, const Loop& lb,
                       const Loop& la, const Loop& lc, int64_t b_lo,
                       int64_t b_hi, bool stream) {
  ShuffleRows(s, d, lb, la, lc, b_lo, b_hi, stream, lb.ds);
}

bool ShuffleRowsApply(const Loop& la, const Loop& lc) {
  return lc.n > 1 && la.n % 2 == 0 && lc.ds == la.n * 8;
}
#endif

void ShufflePlane(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                  const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream) {
#if defined(__SSE2__)
  if (ShuffleRowsApply(la, lc)) {
    ShuffleRows(s, d, lb, la, lc, b_lo, b_hi, stream, 0);
    return;
  }
#endif
  for (int64_t c = 0; c < lc.n; ++c) {
    const uint8_t* sc = s + c * lc.ss;
    uint8_t* dc = d + c * lc.ds;
    // 8 units = one 64-byte dst line per b when A is long enough.
    if (la.n >= 8) {
      ShuffleBlocks<8>(sc, dc, lb, la, b_lo, b_hi);
    } else if (la.n >= 4) {
      ShuffleBlocks<4>(sc, dc, lb, la, b_lo, b_hi);
    } else {
      ShuffleBlocks<1>(sc, dc, lb, la, b_lo, b_hi);
    }
  }
}

PlaneFn SelectPlane(int64_t unit, int64_t na);

// Gather32Applies planes: the 16-row, 16-unit core goes to the blocked
// transpose, edges to the plain plane kernels.
template <relayout_internal::Isa kIsa>
void Gather32Plane(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                   const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream) {
  using relayout_internal::Plane32;
  const int64_t rows = la.n / 16 * 16;
  if (rows > 0) {
    Plane32 p;
    p.src_row_stride = la.ss;
    p.rows = rows;
    p.inner_stride = lb.ds;
    const int64_t merged = lb.n * lc.n / 16 * 16;
    if (lc.n > 1 && lc.ss == lb.n * 4 && b_lo == 0 && b_hi == lb.n &&
        merged > 0 && merged % lb.n == 0) {
      // C continues B's source run: one plane of lb.n * lc.n units, and the
      // last whole C steps that don't fill 16 units.
      p.src = s;
      p.dst = d;
      p.cols = merged;
      p.inner = lb.n;
      p.outer_stride = lc.ds;
      relayout_internal::TransposePlane32(p, stream, kIsa);
      const int64_t c0 = merged / lb.n;
      if (c0 < lc.n) {
        SelectPlane(4, rows)(s + c0 * lc.ss, d + c0 * lc.ds, lb,
                             Loop{rows, la.ss, la.ds},
                             Loop{lc.n - c0, lc.ss, lc.ds}, b_lo, b_hi, stream);
      }
    } else {
      const int64_t cols = (b_hi - b_lo) / 16 * 16;
      for (int64_t c = 0; c < lc.n && cols > 0; ++c) {
        p.src = s + c * lc.ss + b_lo * lb.ss;
        p.dst = d + c * lc.ds + b_lo * lb.ds;
        p.cols = cols;
        p.inner = cols;
        p.outer_stride = 0;
        relayout_internal::TransposePlane32(p, stream, kIsa);
      }
      if (b_lo + cols < b_hi) {
        SelectPlane(4, rows)(s, d, lb, Loop{rows, la.ss, la.ds}, lc,
                             b_lo + cols, b_hi, stream);
      }
    }
  }
  if (rows < la.n) {
    SelectPlane(4, la.n - rows)(s + rows * la.ss, d + rows * la.ds, lb,
                                Loop{la.n - rows, la.ss, la.ds}, lc, b_lo, b_hi,
                                stream);
  }
}

PlaneFn SelectGather32Plane(relayout_internal::Isa isa) {
  return isa == relayout_internal::Isa::kAvx512
             ? &Gather32Plane<relayout_internal::Isa::kAvx512>
             : &Gather32Plane<relayout_internal::Isa::kSse2>;
}

// The plane kernel for a unit size and A extent, chosen once per box.
PlaneFn SelectPlane(int64_t unit, int64_t na) {
  switch (unit) {
    case 1:
      return SelectPlaneT<1>(na);
    case 2:
      return SelectPlaneT<2>(na);
    case 4:
      return SelectPlaneT<4>(na);
    case 8:
      return SelectPlaneT<8>(na);
    default:
      return SelectPlaneT<16>(na);
  }
}

void ZeroLoop(uint8_t* d, int64_t n, int64_t ds, int64_t unit) {
  if (ds == unit) {
    std::memset(d, 0, n * unit);
    return;
  }
  for (int64_t i = 0; i < n; ++i) std::memset(d + i * ds, 0, unit);
}

// Sub-byte: elements read and written bit by bit (dst pre-zeroed, OR-ed in).
struct BitSides {
  int src_bits = 8;
  int dst_bits = 8;
  uint8_t mask = 0xff;
};

inline uint8_t ReadBits(const uint8_t* buf, int64_t e, int bits) {
  if (bits >= 8) return buf[e];
  return ReadPackedElement(buf, e, bits);
}

// Element e of a buffer of SB-bit elements (8: one per byte), XLA's order.
template <int SB>
inline uint8_t ReadBitsT(const uint8_t* buf, int64_t e) {
  if constexpr (SB == 8) {
    return buf[e];
  } else {
    constexpr int kPer = 8 / SB, kShift = SB == 1 ? 3 : SB == 2 ? 2 : 1;
    const int shift = 8 - SB * (static_cast<int>(e & (kPer - 1)) + 1);
    return static_cast<uint8_t>((buf[e >> kShift] >> shift) & ((1u << SB) - 1));
  }
}

// Two innermost loops (outer o, inner i) of a sub-byte box. The output was
// zeroed first; packed elements are OR-ed into place.
template <int SB, int DB>
void BitPlaneT(const uint8_t* __restrict s, uint8_t* __restrict d, int64_t so,
               int64_t dof, const Loop& o, const Loop& i, uint8_t mask) {
  for (int64_t y = 0; y < o.n; ++y) {
    const int64_t sy = so + y * o.ss, dy = dof + y * o.ds;
    for (int64_t x = 0; x < i.n; ++x) {
      const uint8_t v = ReadBitsT<SB>(s, sy + x * i.ss) & mask;
      const int64_t e = dy + x * i.ds;
      if constexpr (DB == 8) {
        d[e] = v;
      } else {
        constexpr int kPer = 8 / DB, kShift = DB == 1 ? 3 : DB == 2 ? 2 : 1;
        d[e >> kShift] |= static_cast<uint8_t>(
            v << (8 - DB * (static_cast<int>(e & (kPer - 1)) + 1)));
      }
    }
  }
}

template <int SB>
void BitPlaneS(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
               const Loop& o, const Loop& i, int db, uint8_t mask) {
  switch (db) {
    case 1:
      return BitPlaneT<SB, 1>(s, d, so, dof, o, i, mask);
    case 2:
      return BitPlaneT<SB, 2>(s, d, so, dof, o, i, mask);
    case 4:
      return BitPlaneT<SB, 4>(s, d, so, dof, o, i, mask);
    default:
      return BitPlaneT<SB, 8>(s, d, so, dof, o, i, mask);
  }
}

// Packed 4-bit to packed 4-bit where the inner loop gathers 8 rows into one
// 32-bit dst word (the (8,1) E(4) tile) and the outer loop walks columns of
// a row-major source: two columns share each source byte, so 8 source bytes
// give two dst words. Needs byte-aligned groups.
#if defined(__x86_64__) || defined(__i386__)
// Nibble8Rows' vector loop on 64 columns at a time (AVX2, chosen at run time:
// the build stays portable). Returns the columns done (a multiple of 64).
// Repeated `reps` times, rows and output advancing by rss and rds bytes.
__attribute__((target("avx2"))) int64_t Nibble8RowsAvx2(
    const uint8_t* const* row_ptrs, uint8_t* out_base, int64_t n, int64_t reps,
    int64_t rss, int64_t rds) {
  const __m256i hi_mask = _mm256_set1_epi8(static_cast<char>(0xF0));
  const __m256i lo_mask = _mm256_set1_epi8(0x0F);
  const int64_t n64 = n / 64 * 64;
  for (int64_t rep = 0; rep < reps; ++rep) {
    // A local copy: the stores below could alias the caller's array.
    const uint8_t* rows[8];
    for (int k = 0; k < 8; ++k) rows[k] = row_ptrs[k] + rep * rss;
    uint8_t* out = out_base + rep * rds;
    for (int64_t y = 0; y < n64; y += 64) {
      __m256i x[4][2];
      for (int j = 0; j < 4; ++j) {
        const __m256i ra = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(rows[2 * j] + y / 2));
        const __m256i rb = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(rows[2 * j + 1] + y / 2));
        const __m256i even = _mm256_or_si256(
            _mm256_and_si256(ra, hi_mask),
            _mm256_and_si256(_mm256_srli_epi16(rb, 4), lo_mask));
        const __m256i odd =
            _mm256_or_si256(_mm256_and_si256(_mm256_slli_epi16(ra, 4), hi_mask),
                            _mm256_and_si256(rb, lo_mask));
        // Per 128-bit lane (lane 1 = columns 32-63): columns 0-15, 16-31.
        x[j][0] = _mm256_unpacklo_epi8(even, odd);
        x[j][1] = _mm256_unpackhi_epi8(even, odd);
      }
      for (int h = 0; h < 2; ++h) {
        const __m256i p0 = _mm256_unpacklo_epi8(x[0][h], x[1][h]);
        const __m256i p1 = _mm256_unpackhi_epi8(x[0][h], x[1][h]);
        const __m256i q0 = _mm256_unpacklo_epi8(x[2][h], x[3][h]);
        const __m256i q1 = _mm256_unpackhi_epi8(x[2][h], x[3][h]);
        const __m256i w0 = _mm256_unpacklo_epi16(p0, q0);  // Columns 0-3.
        const __m256i w1 = _mm256_unpackhi_epi16(p0, q0);  // 4-7.
        const __m256i w2 = _mm256_unpacklo_epi16(p1, q1);  // 8-11.
        const __m256i w3 = _mm256_unpackhi_epi16(p1, q1);  // 12-15.
        uint8_t* lo = out + (y + 16 * h) * 4;
        uint8_t* hi = out + (y + 32 + 16 * h) * 4;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo),
                            _mm256_permute2x128_si256(w0, w1, 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + 32),
                            _mm256_permute2x128_si256(w2, w3, 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi),
                            _mm256_permute2x128_si256(w0, w1, 0x31));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + 32),
                            _mm256_permute2x128_si256(w2, w3, 0x31));
      }
    }
  }
  return n64;
}

// The same on 128 columns at a time with AVX-512BW: one 64-byte load per
// row, selects in one ternary-logic op, and whole output lines (streamed
// when `nt`, which needs a 64-byte aligned output). Returns the columns
// done (a multiple of 128).
__attribute__((target("avx512f,avx512bw"))) int64_t Nibble8RowsAvx512(
    const uint8_t* const* row_ptrs, uint8_t* out_base, int64_t n, int64_t reps,
    int64_t rss, int64_t rds, bool nt) {
  const __m512i hi_mask = _mm512_set1_epi8(static_cast<char>(0xF0));
  const int64_t n128 = n / 128 * 128;
  for (int64_t rep = 0; rep < reps; ++rep) {
    const uint8_t* rows[8];
    for (int k = 0; k < 8; ++k) rows[k] = row_ptrs[k] + rep * rss;
    uint8_t* out = out_base + rep * rds;
    for (int64_t y = 0; y < n128; y += 128) {
      __m512i x[4][2];
      for (int j = 0; j < 4; ++j) {
        const __m512i ra = _mm512_loadu_si512(rows[2 * j] + y / 2);
        const __m512i rb = _mm512_loadu_si512(rows[2 * j + 1] + y / 2);
        // mask ? a : b, bitwise (0xE4).
        const __m512i even = _mm512_ternarylogic_epi32(
            ra, _mm512_srli_epi16(rb, 4), hi_mask, 0xE4);
        const __m512i odd = _mm512_ternarylogic_epi32(_mm512_slli_epi16(ra, 4),
                                                      rb, hi_mask, 0xE4);
        // Lane L holds columns 32 L + 0..15 (h = 0) and + 16..31 (h = 1).
        x[j][0] = _mm512_unpacklo_epi8(even, odd);
        x[j][1] = _mm512_unpackhi_epi8(even, odd);
      }
      for (int h = 0; h < 2; ++h) {
        const __m512i p0 = _mm512_unpacklo_epi8(x[0][h], x[1][h]);
        const __m512i p1 = _mm512_unpackhi_epi8(x[0][h], x[1][h]);
        const __m512i q0 = _mm512_unpacklo_epi8(x[2][h], x[3][h]);
        const __m512i q1 = _mm512_unpackhi_epi8(x[2][h], x[3][h]);
        // w_k lane L: the words of columns 32 L + 16 h + 4 k .. + 3.
        const __m512i w0 = _mm512_unpacklo_epi16(p0, q0);
        const __m512i w1 = _mm512_unpackhi_epi16(p0, q0);
        const __m512i w2 = _mm512_unpacklo_epi16(p1, q1);
        const __m512i w3 = _mm512_unpackhi_epi16(p1, q1);
        // Output line L = lane L of w0..w3: a 4x4 transpose of lanes.
        const __m512i a = _mm512_shuffle_i64x2(w0, w1, 0x44),
                      b = _mm512_shuffle_i64x2(w0, w1, 0xEE),
                      c = _mm512_shuffle_i64x2(w2, w3, 0x44),
                      d = _mm512_shuffle_i64x2(w2, w3, 0xEE);
        const __m512i line[4] = {
            _mm512_shuffle_i64x2(a, c, 0x88), _mm512_shuffle_i64x2(a, c, 0xDD),
            _mm512_shuffle_i64x2(b, d, 0x88), _mm512_shuffle_i64x2(b, d, 0xDD)};
        for (int l = 0; l < 4; ++l) {
          void* at = out + (y + 32 * l + 16 * h) * 4;
          if (nt) {
            _mm512_stream_si512(reinterpret_cast<__m512i*>(at), line[l]);
          } else {
            _mm512_storeu_si512(at, line[l]);
          }
        }
      }
    }
  }
  return n128;
}

#endif

// One plane of Nibble8Rows: n columns (even) of 8 rows `iss` elements apart.
void Nibble8RowsOne(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
                    int64_t n, int64_t iss, int64_t y) {
  constexpr uint64_t kLow = 0x0F0F0F0F0F0F0F0Full;
  // Nibbles in bytes 0..7 (element k in byte k) -> 4 bytes, element 0 high.
  auto pack = [](uint64_t v) {
    uint64_t t = ((v << 4) | (v >> 8)) & 0x00FF00FF00FF00FFull;
    t = (t | (t >> 8)) & 0x0000FFFF0000FFFFull;
    return static_cast<uint32_t>(t | (t >> 16));
  };
  const uint8_t* rows[8];
  for (int k = 0; k < 8; ++k) rows[k] = s + (so + k * iss) / 2;
  uint8_t* out = d + dof / 2;
#if defined(__SSE2__)
  // 32 columns at a time. Rows 2j and 2j+1 give dst byte j of every column:
  // (high nibbles of both) for even columns, (low nibbles) for odd ones;
  // interleaving those, then the four byte planes, gives each column's word.
  const __m128i hi_mask = _mm_set1_epi8(static_cast<char>(0xF0));
  const __m128i lo_mask = _mm_set1_epi8(0x0F);
  for (; y + 32 <= n; y += 32) {
    __m128i x[4][2];
    for (int j = 0; j < 4; ++j) {
      const __m128i ra = LoadRow(rows[2 * j] + y / 2);
      const __m128i rb = LoadRow(rows[2 * j + 1] + y / 2);
      const __m128i even =
          _mm_or_si128(_mm_and_si128(ra, hi_mask),
                       _mm_and_si128(_mm_srli_epi16(rb, 4), lo_mask));
      const __m128i odd =
          _mm_or_si128(_mm_and_si128(_mm_slli_epi16(ra, 4), hi_mask),
                       _mm_and_si128(rb, lo_mask));
      x[j][0] = _mm_unpacklo_epi8(even, odd);  // Columns 0-15.
      x[j][1] = _mm_unpackhi_epi8(even, odd);  // Columns 16-31.
    }
    for (int h = 0; h < 2; ++h) {
      const __m128i p0 = _mm_unpacklo_epi8(x[0][h], x[1][h]);
      const __m128i p1 = _mm_unpackhi_epi8(x[0][h], x[1][h]);
      const __m128i q0 = _mm_unpacklo_epi8(x[2][h], x[3][h]);
      const __m128i q1 = _mm_unpackhi_epi8(x[2][h], x[3][h]);
      uint8_t* at = out + (y + 16 * h) * 4;
      StoreRow<false>(at, _mm_unpacklo_epi16(p0, q0));
      StoreRow<false>(at + 16, _mm_unpackhi_epi16(p0, q0));
      StoreRow<false>(at + 32, _mm_unpacklo_epi16(p1, q1));
      StoreRow<false>(at + 48, _mm_unpackhi_epi16(p1, q1));
    }
  }
#endif
  for (; y < n; y += 2) {
    uint64_t x = 0;
    for (int k = 0; k < 8; ++k)
      x |= static_cast<uint64_t>(rows[k][y / 2]) << (8 * k);
    Store<uint32_t>(out + y * 4, pack((x >> 4) & kLow));
    Store<uint32_t>(out + y * 4 + 4, pack(x & kLow));
  }
}

// Runs the plane `r.n` times along loop r (element strides), which must keep
// the byte alignment too.
bool Nibble8Rows(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
                 const Loop& o, const Loop& i, const Loop& r, bool stream,
                 relayout_internal::Isa isa) {
  using relayout_internal::Isa;
  if (i.n != 8 || i.ds != 1 || o.ss != 1 || o.ds != 8 || o.n % 2 != 0 ||
      so % 2 != 0 || dof % 2 != 0 || i.ss % 2 != 0 ||
      (r.n > 1 && (r.ss % 2 != 0 || r.ds % 2 != 0))) {
    return false;
  }
  int64_t done = 0;  // Columns of each plane done with AVX2.
#if defined(__x86_64__) || defined(__i386__)
  const uint8_t* rows[8];
  for (int k = 0; k < 8; ++k) rows[k] = s + (so + k * i.ss) / 2;
  if (o.n >= 128 && isa == Isa::kAvx512) {
    uint8_t* out = d + dof / 2;
    const bool nt = stream && reinterpret_cast<uintptr_t>(out) % 64 == 0 &&
                    (r.n == 1 || (r.ds / 2) % 64 == 0);
    done = Nibble8RowsAvx512(rows, out, o.n, r.n, r.ss / 2, r.ds / 2, nt);
  } else if (o.n >= 64 && isa >= Isa::kAvx2) {
    done = Nibble8RowsAvx2(rows, d + dof / 2, o.n, r.n, r.ss / 2, r.ds / 2);
  }
#endif
  if (done < o.n) {
    for (int64_t k = 0; k < r.n; ++k)
      Nibble8RowsOne(s, d, so + k * r.ss, dof + k * r.ds, o.n, i.ss, done);
  }
  return true;
}

void BitPlane(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
              const Loop& o, const Loop& i, const BitSides& b,
              relayout_internal::Isa isa) {
  if (b.src_bits == 4 && b.dst_bits == 4 &&
      Nibble8Rows(s, d, so, dof, o, i, Loop{1, 0, 0}, false, isa)) {
    return;
  }
  switch (b.src_bits) {
    case 1:
      return BitPlaneS<1>(s, d, so, dof, o, i, b.dst_bits, b.mask);
    case 2:
      return BitPlaneS<2>(s, d, so, dof, o, i, b.dst_bits, b.mask);
    case 4:
      return BitPlaneS<4>(s, d, so, dof, o, i, b.dst_bits, b.mask);
    default:
      return BitPlaneS<8>(s, d, so, dof, o, i, b.dst_bits, b.mask);
  }
}

// Runs box.loops[depth..] with loops[0] limited to [lo, hi).
struct Runner {
  const uint8_t* src;
  uint8_t* dst;
  const BitSides* bits;
  bool stream;  // Non-temporal stores for outputs far bigger than caches.
  relayout_internal::Isa isa;

  void Run(const Box& box, int64_t lo, int64_t hi) const {
    Nest(box, 0, box.src, box.dst, lo, hi);
  }

  void Nest(const Box& box, size_t depth, int64_t so, int64_t dof, int64_t lo,
            int64_t hi) const {
    const size_t n = box.loops.size();
    const size_t kernel_depth =
        box.kernel == Kernel::kTranspose || box.kernel == Kernel::kBits
            ? (n < 2 ? 0 : n - 2)
            : (n == 0 ? 0 : n - 1);
    if (depth == kernel_depth) {
      Leaf(box, depth, so, dof, lo, hi);
      return;
    }
    const Loop& l = box.loops[depth];
    if (depth > 0) {
      lo = 0;
      hi = l.n;
    }
    if (box.kernel == Kernel::kTranspose && depth + 1 == kernel_depth) {
      // The loop right outside the kernel, without recursion.
      const Loop& lb = box.loops[depth + 1];
      const Loop& la = box.loops[depth + 2];
      box.plane(src + so + lo * l.ss, dst + dof + lo * l.ds, lb, la,
                Loop{hi - lo, l.ss, l.ds}, 0, lb.n, stream);
      return;
    }
    if (box.kernel == Kernel::kBits && depth + 1 == kernel_depth) {
      // Likewise: the sub-byte kernel's planes are only a few hundred bytes.
      const Loop& o = box.loops[depth + 1];
      const Loop& in = box.loops[depth + 2];
      if (bits->src_bits == 4 && bits->dst_bits == 4 &&
          Nibble8Rows(src, dst, so + lo * l.ss, dof + lo * l.ds, o, in,
                      Loop{hi - lo, l.ss, l.ds}, stream, isa)) {
        return;
      }
      for (int64_t i = lo; i < hi; ++i)
        BitPlane(src, dst, so + i * l.ss, dof + i * l.ds, o, in, *bits, isa);
      return;
    }
    for (int64_t i = lo; i < hi; ++i) {
      Nest(box, depth + 1, so + i * l.ss, dof + i * l.ds, 0,
           box.loops[depth + 1].n);
    }
  }

  void Leaf(const Box& box, size_t depth, int64_t so, int64_t dof, int64_t lo,
            int64_t hi) const {
    const bool ranged = depth == 0;  // The split loop is the kernel's own.
    switch (box.kernel) {
      case Kernel::kCopy:
        if (box.loops.empty()) {
          std::memcpy(dst + dof, src + so, box.unit);
        } else {
          const Loop& l = box.loops[depth];
          int64_t b = ranged ? lo : 0, e = ranged ? hi : l.n;
          if (stream && box.unit % 64 == 0 && l.ds % 16 == 0 &&
              reinterpret_cast<uintptr_t>(dst + dof) % 16 == 0) {
            StreamRuns(src + so + b * l.ss, dst + dof + b * l.ds, e - b, l.ss,
                       l.ds, box.unit);
          } else {
            CopyLoop(src + so + b * l.ss, dst + dof + b * l.ds, e - b, l.ss,
                     l.ds, box.unit);
          }
        }
        return;
      case Kernel::kZero:
        if (box.loops.empty()) {
          std::memset(dst + dof, 0, box.unit);
        } else {
          const Loop& l = box.loops[depth];
          int64_t b = ranged ? lo : 0, e = ranged ? hi : l.n;
          ZeroLoop(dst + dof + b * l.ds, e - b, l.ds, box.unit);
        }
        return;
      case Kernel::kTranspose: {
        const Loop& lb = box.loops[depth];
        const Loop& la = box.loops[depth + 1];
        int64_t b = ranged ? lo : 0, e = ranged ? hi : lb.n;
        box.plane(src + so, dst + dof, lb, la, Loop{1, 0, 0}, b, e, stream);
        return;
      }
      case Kernel::kBits: {
        // Up to two loops: [o, i] (or [i], or none).
        Loop o{1, 0, 0}, i{1, 0, 0};
        if (box.loops.size() >= 2) {
          o = box.loops[depth];
          i = box.loops[depth + 1];
        } else if (box.loops.size() == 1) {
          i = box.loops[depth];
        }
        Loop& ranged_loop = box.loops.size() >= 2 ? o : i;
        int64_t b = ranged ? lo : 0, e = ranged ? hi : ranged_loop.n;
        const int64_t s0 = so + b * ranged_loop.ss,
                      d0 = dof + b * ranged_loop.ds;
        ranged_loop.n = e - b;
        BitPlane(src, dst, s0, d0, o, i, *bits, isa);
        return;
      }
    }
  }
};

struct WorkItem {
  int box = 0;
  int64_t lo = 0, hi = 0;  // Range of the box's outermost loop.
  int64_t bytes = 0;
};

absl::Status SameLogicalArrays(const Shape& from, const Shape& to) {
  const Shape& a = from.IsBuffer() ? from.buffer_shape() : from;
  const Shape& b = to.IsBuffer() ? to.buffer_shape() : to;
  if (!a.IsArray() || !b.IsArray() || a.element_type() != b.element_type() ||
      a.dimensions() != b.dimensions()) {
    return absl::InvalidArgumentError(
        absl::StrCat("relayout needs the same logical array on both sides "
                     "(element type and dimensions); "
                     "from is ",
                     from.ToString(true), ", to is ", to.ToString(true)));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------

struct RelayoutPlan::Impl {
  Shape from, to;
  PhysicalLayout src, dst;
  int threads = 1;
  enum class Mode { kBoxes, kElementwise } mode = Mode::kBoxes;
  bool zero_all_first = false;  // Sub-byte output or too many padding boxes.
  int64_t tail_from = 0;        // Output bytes from here on are zeroed.
  BitSides bits;
  relayout_internal::Isa isa = relayout_internal::Isa::kSse2;
  std::vector<Box> boxes;
  std::vector<WorkItem> items;
  int64_t total_bytes = 0;
};

RelayoutPlan::RelayoutPlan(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
RelayoutPlan::~RelayoutPlan() = default;
const Shape& RelayoutPlan::from() const { return impl_->src.shape(); }
const Shape& RelayoutPlan::to() const { return impl_->dst.shape(); }
int64_t RelayoutPlan::input_bytes() const { return impl_->src.byte_size(); }
int64_t RelayoutPlan::output_bytes() const { return impl_->dst.byte_size(); }
int RelayoutPlan::threads() const { return impl_->threads; }

namespace {

constexpr int64_t kMaxBoxes = 1 << 16;

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

#if defined(__SSE2__)
// Shuffled transposes whose every destination row is followed by padding up
// to the next row (E0102: 40 of 128 columns hold data) zero that padding in
// the same pass, whole lines streamed, and the zero boxes go: one write of
// each line instead of a partial write plus a second pass. Applied only when
// the rows' tails are exactly the output's padding (checked run by run).
void FuseRowPadding(std::vector<Box>* boxes) {
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
        return;
      }
      ForEachDstOffset(b.loops, b.dst, [&](int64_t o) {
        zero.push_back({o, o + b.unit});
      });
    } else if (b.kernel == Kernel::kTranspose && b.shuffle) {
      data.push_back(i);
    } else {
      return;
    }
  }
  if (zero.empty() || data.empty()) return;
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
    if (n < 4) return;
    const Loop& lc = b.loops[n - 3];
    const Loop& lb = b.loops[n - 2];
    const Loop& la = b.loops[n - 1];
    if (!ShuffleRowsApply(la, lc)) return;
    const int64_t row = lc.n * lc.ds;
    if (lb.ds <= row) return;
    std::vector<Loop> rows(b.loops.begin(), b.loops.begin() + (n - 3));
    rows.push_back(lb);
    int64_t count = 1;
    for (const Loop& l : rows) count *= l.n;
    if (count > kMaxRuns) return;
    bool ok = true;
    ForEachDstOffset(rows, b.dst, [&](int64_t o) {
      if (!ok) return;
      const int64_t lo = o + row, hi = o + lb.ds;
      auto it = std::upper_bound(
          merged.begin(), merged.end(),
          std::pair<int64_t, int64_t>{lo, std::numeric_limits<int64_t>::max()});
      if (it == merged.begin() || std::prev(it)->second < hi) ok = false;
    });
    if (!ok) return;
    tail_total += count * (lb.ds - row);
  }
  // Tails are disjoint (each lies in padding, so no row starts inside
  // another's tail) and inside the padding: equal totals mean they are all
  // of it.
  if (tail_total != zero_total) return;
  for (size_t i : data) {
    Box& b = (*boxes)[i];
    b.plane = &ShufflePaddedRows;
    b.bytes = b.bytes /
              (b.loops[b.loops.size() - 3].n * b.loops[b.loops.size() - 1].n *
               b.unit) *
              b.loops[b.loops.size() - 2].ds;
  }
  boxes->erase(
      std::remove_if(boxes->begin(), boxes->end(),
                     [](const Box& b) { return b.kernel == Kernel::kZero; }),
      boxes->end());
}
#endif

}  // namespace

absl::StatusOr<std::unique_ptr<RelayoutPlan>> RelayoutPlan::Create(
    const Shape& from, const Shape& to, const RelayoutOptions& options) {
  XLAYOUT_RETURN_IF_ERROR(SameLogicalArrays(from, to));
  if (options.threads < 1 || options.threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be in 1..1024, not ", options.threads));
  }
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout src, PhysicalLayout::Create(from));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout dst, PhysicalLayout::Create(to));
  // The buffer sizes are the project's exact sizes.
  XLAYOUT_ASSIGN_OR_RETURN(int64_t src_bytes, ExactBytes(src.shape()));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t dst_bytes, ExactBytes(dst.shape()));
  if (src_bytes != src.byte_size() || dst_bytes != dst.byte_size()) {
    return absl::InternalError(absl::StrCat(
        "buffer size disagreement: ExactBytes says ", src_bytes, "/", dst_bytes,
        ", addressing says ", src.byte_size(), "/", dst.byte_size()));
  }
  auto impl = std::make_unique<Impl>(Impl{from,
                                          to,
                                          std::move(src),
                                          std::move(dst),
                                          1,
                                          Impl::Mode::kBoxes,
                                          false,
                                          0,
                                          BitSides{},
                                          relayout_internal::BestIsa(),
                                          {},
                                          {},
                                          0});
  Impl& p = *impl;
  p.threads = options.threads;
  const int rank = p.src.rank();
  const bool bits = p.src.packed() || p.dst.packed() ||
                    p.src.element_bits() != p.dst.element_bits();
  p.bits.src_bits = p.src.element_bits();
  p.bits.dst_bits = p.dst.element_bits();
  const int keep = std::min(p.bits.src_bits, p.bits.dst_bits);
  p.bits.mask = keep >= 8 ? 0xff : static_cast<uint8_t>((1u << keep) - 1);
  const int64_t src_unit = p.src.element_bits() / 8,
                dst_unit = p.dst.element_bits() / 8;
  // Bytes of the tiled part; the rest (L(n) tail, partial last byte) is zeroed.
  p.tail_from =
      static_cast<int64_t>((static_cast<__int128>(p.dst.num_tiled_elements()) *
                            p.dst.element_bits()) /
                           8);
  if (p.dst.packed()) p.zero_all_first = true;

  Model ms = BuildModel(p.src), md = BuildModel(p.dst);
  std::vector<std::vector<Piece>> pieces(rank);
  int64_t combos = 1;
  bool pieces_ok = true;
  if (ms.separable && md.separable) {
    for (int d = 0; d < rank && combos <= kMaxBoxes && pieces_ok; ++d) {
      pieces[d] = DimPieces(ms.dims[d], md.dims[d], p.src.shape().dimensions(d),
                            &pieces_ok);
      combos *= std::max<size_t>(pieces[d].size(), 1);
    }
  }
  if (!ms.separable || !md.separable || !pieces_ok || combos > kMaxBoxes) {
    p.mode = Impl::Mode::kElementwise;
    p.zero_all_first = true;
  }

  if (p.mode == Impl::Mode::kBoxes && p.src.num_logical_elements() > 0) {
    // Cartesian product of the dims' pieces.
    std::vector<size_t> pick(rank, 0);
    while (true) {
      int64_t so = 0, dof = 0;
      std::vector<Loop> loops;
      for (int d = 0; d < rank; ++d) {
        const Piece& pc = pieces[d][pick[d]];
        so += pc.src;
        dof += pc.dst;
        loops.insert(loops.end(), pc.loops.begin(), pc.loops.end());
      }
      if (bits) {
        Box box;
        box.kernel = Kernel::kBits;
        box.src = so;
        box.dst = dof;
        std::vector<Loop> c = Coalesce(loops);
        std::reverse(c.begin(), c.end());
        // A loop that continues the kernel's outer loop along the source goes
        // right outside the kernel, so consecutive kernels read on along the
        // same source rows (s4 into (8,1) tiles: 8 rows read sequentially
        // instead of 64 rows a line at a time). loops[0], which work items
        // split, stays in place.
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
        box.bytes = std::max<int64_t>(1, count * p.dst.element_bits() / 8);
        box.loops = std::move(c);
        p.boxes.push_back(std::move(box));
      } else {
        for (Loop& l : loops) {
          l.ss *= src_unit;
          l.ds *= dst_unit;
        }
        Box box =
            MakeByteBox(so * src_unit, dof * dst_unit, src_unit, loops, false);
        if (box.kernel == Kernel::kTranspose) {
          box.plane = box.shuffle ? &ShufflePlane
                                  : SelectPlane(box.unit, box.loops.back().n);
          const size_t n = box.loops.size();
          const Loop none{1, 0, 0};
          if (!box.shuffle && n >= 2 &&
              Gather32Applies(box.unit, box.loops[n - 2], box.loops[n - 1],
                              n >= 3 ? box.loops[n - 3] : none)) {
            box.plane = SelectGather32Plane(p.isa);
          }
        }
        p.boxes.push_back(std::move(box));
      }
      int d = rank - 1;
      for (; d >= 0; --d) {
        if (++pick[d] < pieces[d].size()) break;
        pick[d] = 0;
      }
      if (d < 0) break;
    }
  }

  // Padding regions of the output: union over dims d of
  // valid(<d) x padding(d) x all(>d), constant dims last.
  if (!p.zero_all_first &&
      p.dst.num_tiled_elements() > p.dst.num_logical_elements() &&
      p.dst.num_logical_elements() > 0) {
    std::vector<DimFill> fills;
    for (int d = 0; d < rank; ++d) {
      fills.push_back(MakeDimFill(md.dims[d], p.dst.shape().dimensions(d)));
    }
    for (const Node& c : md.constants) {
      Node only = c;
      only.dim = 0;
      only.lo = 1;
      only.hi = 0;
      fills.push_back(MakeDimFill({only}, 1));
    }
    int64_t fill_boxes = 0;
    std::vector<Box> zero_boxes;
    for (size_t d = 0; d < fills.size() && fill_boxes <= kMaxBoxes; ++d) {
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
      if (fill_boxes > kMaxBoxes) break;
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
            MakeByteBox(0, dof * dst_unit, dst_unit, loops, true));
        size_t e = choice.size();
        while (e-- > 0) {
          if (++pick[e] < choice[e].size()) break;
          pick[e] = 0;
        }
        if (e == static_cast<size_t>(-1)) break;
      }
    }
    if (fill_boxes > kMaxBoxes) {
      p.zero_all_first = true;
    } else {
      for (Box& b : zero_boxes) p.boxes.push_back(std::move(b));
    }
  }
#if defined(__SSE2__)
  if (!p.zero_all_first && p.mode == Impl::Mode::kBoxes)
    FuseRowPadding(&p.boxes);
#endif

  // Work items: big boxes split along their outermost loop.
  constexpr int64_t kSplitBytes = 1 << 20;
  for (size_t i = 0; i < p.boxes.size(); ++i) {
    const Box& box = p.boxes[i];
    const int64_t outer = box.loops.empty() ? 1 : box.loops[0].n;
    int64_t chunks = 1;
    // Packed outputs share bytes between elements: split only along a loop
    // whose every step starts on a byte boundary (the outermost loop has the
    // largest stride, so the steps' bytes are disjoint).
    const bool splittable = box.kernel != Kernel::kBits ||
                            (!box.loops.empty() &&
                             (box.loops[0].ds * p.dst.element_bits()) % 8 == 0);
    if (box.bytes >= 2 * kSplitBytes && splittable) {
      chunks = std::min<int64_t>(outer,
                                 std::max<int64_t>(1, box.bytes / kSplitBytes));
      // A transpose whose outermost loop is the kernel's B loop: narrow
      // strips of B would reread every source line once per strip.
      if (box.kernel == Kernel::kTranspose && box.loops.size() <= 2)
        chunks = std::min<int64_t>(chunks, std::max<int64_t>(1, outer / 256));
    }
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t lo = outer * c / chunks, hi = outer * (c + 1) / chunks;
      if (hi > lo) {
        p.items.push_back(WorkItem{static_cast<int>(i), lo, hi,
                                   box.bytes * (hi - lo) / outer});
      }
    }
    p.total_bytes += box.bytes;
  }
  // A packed output needs no pre-zeroing when it has no padding and every
  // box takes the whole-byte nibble kernel (checked with the same tests the
  // kernel applies, for every iteration's base offsets).
  if (p.zero_all_first && p.mode == Impl::Mode::kBoxes &&
      p.bits.src_bits == 4 && p.bits.dst_bits == 4 &&
      p.dst.num_storage_elements() == p.dst.num_logical_elements() &&
      p.tail_from == p.dst.byte_size() && !p.boxes.empty()) {
    bool whole_bytes = true;
    for (const Box& box : p.boxes) {
      const size_t n = box.loops.size();
      if (box.kernel != Kernel::kBits || n < 2) {
        whole_bytes = false;
        break;
      }
      const Loop& o = box.loops[n - 2];
      const Loop& i = box.loops[n - 1];
      bool ok = i.n == 8 && i.ds == 1 && o.ss == 1 && o.ds == 8 &&
                o.n % 2 == 0 && i.ss % 2 == 0 && box.src % 2 == 0 &&
                box.dst % 2 == 0;
      for (size_t k = 0; k + 2 < n; ++k)
        ok &= box.loops[k].ss % 2 == 0 && box.loops[k].ds % 2 == 0;
      whole_bytes &= ok;
    }
    if (whole_bytes) p.zero_all_first = false;
  }
  return std::unique_ptr<RelayoutPlan>(new RelayoutPlan(std::move(impl)));
}

constexpr int64_t kStreamBytes = 16 << 20;

absl::Status RelayoutPlan::Execute(absl::Span<const uint8_t> input,
                                   absl::Span<uint8_t> output,
                                   const RelayoutProgress& progress) const {
  const Impl& p = *impl_;
  if (static_cast<int64_t>(input.size()) != p.src.byte_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input is ", input.size(), " bytes but ", p.src.shape().ToString(true),
        " needs ", p.src.byte_size()));
  }
  if (static_cast<int64_t>(output.size()) != p.dst.byte_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output is ", output.size(), " bytes but ",
        p.dst.shape().ToString(true), " needs ", p.dst.byte_size()));
  }
  if (!output.empty() && !input.empty() &&
      input.data() < output.data() + output.size() &&
      output.data() < input.data() + input.size()) {
    return absl::InvalidArgumentError(
        "relayout input and output buffers overlap");
  }
  const uint8_t* src = input.data();
  uint8_t* dst = output.data();
  const int64_t total = p.dst.byte_size();
  if (p.zero_all_first) {
    if (total > 0) std::memset(dst, 0, total);
  } else if (p.tail_from < total) {
    std::memset(dst + p.tail_from, 0, total - p.tail_from);
  }

  if (p.mode == Impl::Mode::kElementwise) {
    // Odometer over logical indices; addresses from the reference.
    const int rank = p.src.rank();
    const int64_t count = p.src.num_logical_elements();
    std::vector<int64_t> index(rank, 0);
    const int sbits = p.src.element_bits(), dbits = p.dst.element_bits();
    for (int64_t e = 0; e < count; ++e) {
      const int64_t so = p.src.ElementOffset(index),
                    dof = p.dst.ElementOffset(index);
      if (sbits >= 8 && dbits == sbits) {
        std::memcpy(dst + dof * (dbits / 8), src + so * (sbits / 8), sbits / 8);
      } else {
        uint8_t v = ReadBits(src, so, sbits) & p.bits.mask;
        if (dbits >= 8) {
          dst[dof] = v;
        } else {
          WritePackedElement(dst, dof, dbits, v);
        }
      }
      for (int d = rank - 1; d >= 0; --d) {
        if (++index[d] < p.src.shape().dimensions(d)) break;
        index[d] = 0;
      }
      if (progress && (e & 0xfffff) == 0)
        progress(e * p.dst.byte_size() / count, total);
    }
    if (progress) progress(total, total);
    return absl::OkStatus();
  }

  // Outputs of 16 MiB and more are streamed (non-temporal stores, as memcpy
  // does for large copies): caches would not keep them while the input
  // passes through, and streaming skips each line's read-for-ownership.
  // Measured on s4 (32 MiB): 0.9x memcpy streamed vs 0.64x cached.
  const Runner runner{src, dst, &p.bits, total >= kStreamBytes, p.isa};
  int64_t work_bytes = 0;
  for (const WorkItem& w : p.items) work_bytes += w.bytes;
  int threads = static_cast<int>(std::min<int64_t>(
      std::min<int64_t>(p.threads, static_cast<int64_t>(p.items.size())),
      std::max<int64_t>(1, work_bytes / (1 << 20))));
  // Packed outputs: boxes may share bytes at their edges, so several boxes
  // run on one thread; a single box's items never share a byte.
  if (p.dst.packed() && p.boxes.size() > 1) threads = 1;
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  auto worker = [&](bool reports) {
    int64_t reported = 0;
    while (true) {
      size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= p.items.size()) break;
      const WorkItem& w = p.items[i];
      runner.Run(p.boxes[w.box], w.lo, w.hi);
#if defined(__SSE2__)
      if (runner.stream) _mm_sfence();  // Order streamed stores before join.
#endif
      int64_t now =
          done.fetch_add(w.bytes, std::memory_order_relaxed) + w.bytes;
      if (reports && progress && now - reported >= (4 << 20)) {
        progress(std::min(now, total), total);
        reported = now;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, false);
  worker(true);
  for (std::thread& t : pool) t.join();
  if (progress) progress(total, total);
  return absl::OkStatus();
}

namespace {
const char* IsaName(relayout_internal::Isa isa) {
  switch (isa) {
    case relayout_internal::Isa::kSse2:
      return "sse2";
    case relayout_internal::Isa::kAvx2:
      return "avx2";
    case relayout_internal::Isa::kAvx512:
      return "avx512";
  }
  return "?";
}
}  // namespace

std::string RelayoutPlan::DebugString() const {
  const Impl& p = *impl_;
  std::string out = absl::StrCat(
      p.src.shape().ToString(true), " -> ", p.dst.shape().ToString(true),
      "\n  mode: ",
      p.mode == Impl::Mode::kBoxes ? "boxes" : "elementwise (slow path)",
      p.zero_all_first ? ", output zeroed first" : "",
      "\n  threads: ", p.threads, ", work items: ", p.items.size(),
      ", isa: ", IsaName(p.isa), "\n");
  int shown = 0;
  for (const Box& b : p.boxes) {
    if (++shown > 16) {
      absl::StrAppend(&out, "  ... ", p.boxes.size() - 16, " more boxes\n");
      break;
    }
    const char* kind = b.kernel == Kernel::kCopy        ? "copy"
                       : b.kernel == Kernel::kTranspose ? "transpose"
                       : b.kernel == Kernel::kZero      ? "zero"
                                                        : "bits";
    std::vector<std::string> loops;
    for (const Loop& l : b.loops)
      loops.push_back(absl::StrCat(l.n, ":", l.ss, "/", l.ds));
    absl::StrAppend(
        &out, "  ", kind, b.shuffle ? " (2x2 16-bit lanes in each unit)" : "",
#if defined(__SSE2__)
        b.plane == &ShufflePaddedRows ? " (rows zero-padded to the next row)"
                                      : "",
#endif
        b.plane == &Gather32Plane<relayout_internal::Isa::kAvx512>
            ? " (blocked 32-bit units, avx512)"
        : b.plane == &Gather32Plane<relayout_internal::Isa::kSse2>
            ? " (blocked 32-bit units, sse2)"
            : "",
        " unit=", b.unit, " src=", b.src, " dst=", b.dst, " loops[",
        absl::StrJoin(loops, " "), "] bytes=", b.bytes, "\n");
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const RelayoutPlan>> GetCachedRelayoutPlan(
    const Shape& from, const Shape& to, const RelayoutOptions& options) {
  // std::mutex (pthread) rather than absl::Mutex: TSan sees its ordering
  // even with a system Abseil that was built without TSan annotations.
  static std::mutex mu;
  static auto* cache = new std::list<
      std::pair<std::string, std::shared_ptr<const RelayoutPlan>>>();
  constexpr size_t kCapacity = 16;
  const std::string key = absl::StrCat(from.ToString(true), "|",
                                       to.ToString(true), "|", options.threads);
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = cache->begin(); it != cache->end(); ++it) {
      if (it->first == key) {
        cache->splice(cache->begin(), *cache, it);  // Most recent first.
        return cache->front().second;
      }
    }
  }
  // Build outside the lock; a racing builder of the same key is harmless.
  XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<RelayoutPlan> plan,
                   RelayoutPlan::Create(from, to, options));
  std::shared_ptr<const RelayoutPlan> shared(std::move(plan));
  std::lock_guard<std::mutex> lock(mu);
  cache->emplace_front(key, shared);
  if (cache->size() > kCapacity) cache->pop_back();
  return shared;
}

absl::Status Relayout(const Shape& from, const Shape& to,
                      absl::Span<const uint8_t> input,
                      absl::Span<uint8_t> output,
                      const RelayoutOptions& options) {
  XLAYOUT_ASSIGN_OR_RETURN(std::shared_ptr<const RelayoutPlan> plan,
                   GetCachedRelayoutPlan(from, to, options));
  return plan->Execute(input, output);
}

absl::Status ReferenceRelayout(const Shape& from, const Shape& to,
                               absl::Span<const uint8_t> input,
                               absl::Span<uint8_t> output) {
  XLAYOUT_RETURN_IF_ERROR(SameLogicalArrays(from, to));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout src, PhysicalLayout::Create(from));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout dst, PhysicalLayout::Create(to));
  if (static_cast<int64_t>(input.size()) != src.byte_size() ||
      static_cast<int64_t>(output.size()) != dst.byte_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("buffer lengths ", input.size(), " and ", output.size(),
                     " differ from the required ", src.byte_size(), " and ",
                     dst.byte_size()));
  }
  // Every slot starts as zero; only slots that hold an element change.
  if (!output.empty()) std::memset(output.data(), 0, output.size());
  const int sbits = src.element_bits(), dbits = dst.element_bits();
  const int keep = std::min(sbits, dbits);
  const uint8_t mask =
      keep >= 8 ? 0xff : static_cast<uint8_t>((1u << keep) - 1);
  const int rank = src.rank();
  std::vector<int64_t> index(rank, 0);
  for (int64_t e = 0; e < src.num_logical_elements(); ++e) {
    const int64_t so = src.ElementOffset(index), dof = dst.ElementOffset(index);
    if (sbits >= 8 && dbits >= 8) {
      std::memcpy(output.data() + dof * (dbits / 8),
                  input.data() + so * (sbits / 8), sbits / 8);
    } else {
      uint8_t v = (sbits >= 8 ? input[so]
                              : ReadPackedElement(input.data(), so, sbits)) &
                  mask;
      if (dbits >= 8) {
        output[dof] = v;
      } else {
        WritePackedElement(output.data(), dof, dbits, v);
      }
    }
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < src.shape().dimensions(d)) break;
      index[d] = 0;
    }
  }
  return absl::OkStatus();
}

Shape HostShape(const Shape& shape) {
  const Shape& array = shape.IsBuffer() ? shape.buffer_shape() : shape;
  Shape host = array;
  host.set_layout(DefaultLayout(array.rank()));
  return host;
}

}  // namespace xlayout
