// Property tests: random shapes (rank 0-6), random layouts (permutations,
// 1-3 tile levels, `*`, small and 1-D tiles, E(n), L(n)) and element types
// from pred and s4 to c128.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <ostream>
#include <vector>

#include "xlayout/layout_util.h"
#include "xlayout/physical_index.h"
#include "xlayout/relayout.h"
#include "xlayout/relayout_bands.h"

namespace xlayout {
namespace {

constexpr int64_t kMaxElements = 4096;    // Logical elements.
constexpr int64_t kMaxStorage = 1 << 16;  // Elements of either buffer.

const std::vector<PrimitiveType>& Types() {
  static const auto* types = new std::vector<PrimitiveType>{
      PrimitiveType::kPred, PrimitiveType::kS4,  PrimitiveType::kU2,
      PrimitiveType::kU1,   PrimitiveType::kS8,  PrimitiveType::kBF16,
      PrimitiveType::kF16,  PrimitiveType::kF32, PrimitiveType::kS64,
      PrimitiveType::kC64,  PrimitiveType::kC128};
  return *types;
}

rc::Gen<Tile> GenTile(int rank, bool first) {
  return rc::gen::exec([rank, first] {
    const int k = *rc::gen::inRange(1, std::max(rank, 1) + 2);
    std::vector<int64_t> dims;
    for (int i = 0; i < k; ++i) {
      if (first && i + 1 < k && *rc::gen::inRange(0, 6) == 0) {
        dims.push_back(Tile::kCombineDimension);
      } else if (first && i == k - 1) {
        dims.push_back(
            *rc::gen::element<int64_t>(1, 2, 3, 4, 8, 16, 128, 1024));
      } else if (first && i == k - 2) {
        dims.push_back(*rc::gen::element<int64_t>(1, 2, 3, 4, 8, 128));
      } else {
        dims.push_back(*rc::gen::element<int64_t>(1, 1, 2, 3, 4, 8));
      }
    }
    return Tile(dims);
  });
}

// A random layout for `dims`; the tiled buffer stays small.
rc::Gen<Layout> GenLayout(PrimitiveType type, std::vector<int64_t> dims) {
  return rc::gen::exec([type, dims] {
    const int rank = static_cast<int>(dims.size());
    std::vector<int64_t> m2m(rank);
    std::iota(m2m.begin(), m2m.end(), 0);
    m2m = *rc::gen::exec([m2m] {
      std::vector<int64_t> p = m2m;
      for (size_t i = p.size(); i > 1; --i)
        std::swap(p[i - 1], p[*rc::gen::inRange<size_t>(0, i)]);
      return p;
    });
    Layout layout(m2m);
    const int levels = *rc::gen::inRange(0, 4);
    int current_rank = rank;
    for (int l = 0; l < levels; ++l) {
      Tile t = *GenTile(current_rank, l == 0);
      int merged = 0;
      for (int64_t d : t.dims()) merged += d == Tile::kCombineDimension;
      current_rank = std::max(current_rank, t.rank()) + t.rank() - 2 * merged;
      layout.mutable_tiles()->push_back(t);
    }
    if (*rc::gen::inRange(0, 5) == 0) {
      layout.set_tail_padding_alignment_in_elements(
          *rc::gen::element<int64_t>(2, 3, 8));
    }
    if (BitWidth(type) < 8 && *rc::gen::inRange(0, 2) == 0) {
      int bits = BitWidth(type) == 1   ? *rc::gen::element(1, 2, 4)
                 : BitWidth(type) == 2 ? *rc::gen::element(2, 4)
                                       : 4;
      layout.set_element_size_in_bits(bits);
    }
    return layout;
  });
}

struct Case {
  Shape from, to;
};

// RapidCheck prints a falsifying case with this (found by ADL).
void showValue(const Case& c, std::ostream& os) {
  os << c.from.ToString() << " -> " << c.to.ToString();
}

std::optional<PhysicalLayout> Usable(const Shape& s) {
  absl::StatusOr<PhysicalLayout> p = PhysicalLayout::Create(s);
  if (!p.ok() || p->num_storage_elements() > kMaxStorage) return std::nullopt;
  return *std::move(p);
}

rc::Gen<Case> GenCase() {
  return rc::gen::exec([] {
    const PrimitiveType type = *rc::gen::elementOf(Types());
    const int rank = *rc::gen::inRange(0, 7);
    std::vector<int64_t> dims;
    int64_t count = 1;
    for (int i = 0; i < rank; ++i) {
      int64_t limit =
          std::max<int64_t>(1, kMaxElements / std::max<int64_t>(count, 1));
      int64_t d = *rc::gen::inRange<int64_t>(
          0, std::min<int64_t>(limit, i < 2 ? 300 : 9) + 1);
      if (d == 0 && *rc::gen::inRange(0, 4) != 0)
        d = 1;  // Empty arrays now and then.
      dims.push_back(d);
      count *= std::max<int64_t>(d, 1);
    }
    Case c{Shape(type, dims), Shape(type, dims)};
    c.from.set_layout(*GenLayout(type, dims));
    c.to.set_layout(*GenLayout(type, dims));
    RC_PRE(Usable(c.from).has_value() && Usable(c.to).has_value());
    return c;
  });
}

// A valid buffer of `shape`: random element bits, zero padding.
std::vector<uint8_t> RandomBuffer(const Shape& shape) {
  Shape host = HostShape(shape);
  std::vector<uint8_t> h(PhysicalLayout::Create(host)->byte_size());
  const int bits = BitWidth(shape.element_type());
  const uint8_t mask = bits < 8 ? static_cast<uint8_t>((1u << bits) - 1) : 0xff;
  for (uint8_t& b : h) b = *rc::gen::arbitrary<uint8_t>() & mask;
  std::vector<uint8_t> out(PhysicalLayout::Create(shape)->byte_size());
  RC_ASSERT(ReferenceRelayout(host, shape, h, absl::MakeSpan(out)).ok());
  return out;
}

std::vector<uint8_t> Run(const Shape& from, const Shape& to,
                         const std::vector<uint8_t>& in, int threads,
                         uint8_t garbage) {
  // Small chunks (down to single bytes) so that several threads share even
  // small plans.
  const int64_t min_chunk = *rc::gen::element<int64_t>(1, 64, 4096);
  auto plan = RelayoutPlan::Create(from, to, {.min_chunk_bytes = min_chunk});
  RC_ASSERT(plan.ok());
  std::vector<uint8_t> out((*plan)->output_bytes(), garbage);
  RC_ASSERT((*plan)->ExecuteWithThreads(in, absl::MakeSpan(out), threads).ok());
  return out;
}

RC_GTEST_PROP(RelayoutProperty, FastEqualsReference, ()) {
  Case c = *GenCase();
  // Any bytes in, even non-zero padding and high bits of unpacked sub-byte
  // elements: both must agree on every output byte.
  std::vector<uint8_t> in(PhysicalLayout::Create(c.from)->byte_size());
  for (uint8_t& b : in) b = *rc::gen::arbitrary<uint8_t>();
  std::vector<uint8_t> want(PhysicalLayout::Create(c.to)->byte_size());
  RC_ASSERT(ReferenceRelayout(c.from, c.to, in, absl::MakeSpan(want)).ok());
  const int threads = *rc::gen::inRange(1, 4);
  RC_TAG(c.from.rank(),
         !c.from.layout().tiles().empty() || !c.to.layout().tiles().empty(),
         PhysicalLayout::Create(c.from)->num_logical_elements() > 64);
  std::vector<uint8_t> got =
      Run(c.from, c.to, in, threads, *rc::gen::arbitrary<uint8_t>());
  RC_ASSERT(got == want);
}

// A case whose conversion splits into bands (relayout_bands.h): random
// layouts seldom share the major-most dimension, so the target's is set to
// the source's.
rc::Gen<Case> GenBandedCase() {
  return rc::gen::suchThat(
      rc::gen::exec([] {
        Case c = *GenCase();
        if (c.from.rank() > 0) {
          Layout to = c.to.layout();
          std::vector<int64_t>& m2m = *to.mutable_minor_to_major();
          const int64_t major = c.from.layout().minor_to_major().back();
          std::swap(*std::find(m2m.begin(), m2m.end(), major), m2m.back());
          c.to.set_layout(to);
        }
        return c;
      }),
      [](const Case& c) {
        return Usable(c.to).has_value() &&
               FindRelayoutBands(c.from, c.to).has_value();
      });
}

// Converting band by band gives the whole conversion's bytes, for any band
// height the bands allow.
RC_GTEST_PROP(RelayoutProperty, BandsEqualTheWhole, ()) {
  const Case c = *GenBandedCase();
  const std::optional<RelayoutBands> bands = FindRelayoutBands(c.from, c.to);
  RC_ASSERT(bands.has_value());
  const int64_t d = bands->dimension;
  const int64_t n = c.from.dimensions(static_cast<int>(d));
  const int64_t rows =
      bands->rows_multiple *
      *rc::gen::inRange<int64_t>(1, n / bands->rows_multiple + 1);
  RC_TAG(rows < n,
         !c.from.layout().tiles().empty() || !c.to.layout().tiles().empty());
  std::vector<uint8_t> in(PhysicalLayout::Create(c.from)->byte_size());
  for (uint8_t& b : in) b = *rc::gen::arbitrary<uint8_t>();
  std::vector<uint8_t> want(PhysicalLayout::Create(c.to)->byte_size());
  RC_ASSERT(ReferenceRelayout(c.from, c.to, in, absl::MakeSpan(want)).ok());
  std::vector<uint8_t> got;
  size_t offset = 0;
  for (int64_t start = 0; start < n; start += rows) {
    const int64_t k = std::min(rows, n - start);
    const Shape from = BandShape(c.from, d, k);
    const Shape to = BandShape(c.to, d, k);
    const size_t in_bytes = PhysicalLayout::Create(from)->byte_size();
    RC_ASSERT(offset + in_bytes <= in.size());
    std::vector<uint8_t> out(PhysicalLayout::Create(to)->byte_size());
    RC_ASSERT(ReferenceRelayout(
                  from, to, absl::MakeConstSpan(in).subspan(offset, in_bytes),
                  absl::MakeSpan(out))
                  .ok());
    got.insert(got.end(), out.begin(), out.end());
    offset += in_bytes;
  }
  RC_ASSERT(offset == in.size());
  RC_ASSERT(got == want);
}

RC_GTEST_PROP(RelayoutProperty, RoundTripRestoresContents, ()) {
  Case c = *GenCase();
  std::vector<uint8_t> a = RandomBuffer(c.from);
  std::vector<uint8_t> b = Run(c.from, c.to, a, *rc::gen::inRange(1, 3), 0x5A);
  std::vector<uint8_t> back =
      Run(c.to, c.from, b, *rc::gen::inRange(1, 3), 0xA5);
  RC_ASSERT(back == a);
}

RC_GTEST_PROP(RelayoutProperty, HostRoundTrip, ()) {
  Case c = *GenCase();
  Shape host = HostShape(c.to);
  std::vector<uint8_t> x(PhysicalLayout::Create(host)->byte_size());
  const int bits = BitWidth(host.element_type());
  for (uint8_t& b : x)
    b = *rc::gen::arbitrary<uint8_t>() & (bits < 8 ? (1u << bits) - 1 : 0xff);
  std::vector<uint8_t> device = Run(host, c.to, x, 2, 0xFF);
  RC_ASSERT(Run(c.to, host, device, 1, 0x11) == x);
}

RC_GTEST_PROP(RelayoutProperty, PaddingIsZero, ()) {
  Case c = *GenCase();
  std::vector<uint8_t> in(PhysicalLayout::Create(c.from)->byte_size());
  for (uint8_t& b : in) b = *rc::gen::arbitrary<uint8_t>() | 1;
  std::vector<uint8_t> out =
      Run(c.from, c.to, in, *rc::gen::inRange(1, 4), 0xEE);
  PhysicalLayout dst = *PhysicalLayout::Create(c.to);
  const int bits = dst.element_bits();
  for (int64_t offset : dst.PaddingOffsets()) {
    if (bits < 8) {
      RC_ASSERT(ReadPackedElement(out.data(), offset, bits) == 0);
    } else {
      for (int i = 0; i < bits / 8; ++i)
        RC_ASSERT(out[offset * (bits / 8) + i] == 0);
    }
  }
  // Bits past the last slot of a packed buffer are zero too.
  const int64_t used_bits = dst.num_storage_elements() * bits;
  if (used_bits % 8 != 0) {
    RC_ASSERT((out.back() & ((1u << (8 - used_bits % 8)) - 1)) == 0);
  }
}

// 16-bit (2,1) pair kernels (split, join, 2x2 shuffle) of every ISA the
// CPU has: random 2-D and 3-D shapes between host, tiled and transposed
// tiled layouts, chunk sizes, streaming stores and unaligned buffers.
RC_GTEST_PROP(RelayoutProperty, PairKernelsOfEveryIsaEqualReference, ()) {
  const PrimitiveType type =
      *rc::gen::element(PrimitiveType::kBF16, PrimitiveType::kF16);
  const int rank = *rc::gen::inRange(2, 4);
  std::vector<int64_t> dims;
  for (int i = 0; i < rank; ++i) {
    dims.push_back(i + 2 < rank ? *rc::gen::inRange<int64_t>(1, 4)
                                : *rc::gen::inRange<int64_t>(1, 300));
  }
  auto layout = [&]() {
    std::vector<int64_t> m2m(rank);
    std::iota(m2m.rbegin(), m2m.rend(), 0);  // Row-major.
    const int kind = *rc::gen::inRange(0, 3);
    if (kind == 2) std::swap(m2m[0], m2m[1]);
    Layout l(m2m);
    if (kind > 0 || *rc::gen::arbitrary<bool>()) {
      l.mutable_tiles()->push_back(
          Tile({*rc::gen::element<int64_t>(2, 4, 8, 16),
                *rc::gen::element<int64_t>(8, 16, 20, 32, 64, 128)}));
      l.mutable_tiles()->push_back(Tile({2, 1}));
    }
    return l;
  };
  Shape from(type, dims), to(type, dims);
  from.set_layout(layout());
  to.set_layout(layout());
  RC_PRE(Usable(from).has_value() && Usable(to).has_value());
  std::vector<uint8_t> in = RandomBuffer(from);
  std::vector<uint8_t> want(PhysicalLayout::Create(to)->byte_size());
  RC_ASSERT(ReferenceRelayout(from, to, in, absl::MakeSpan(want)).ok());
  const RelayoutIsa isa = *rc::gen::element(
      RelayoutIsa::kSse2, RelayoutIsa::kAvx2, RelayoutIsa::kAvx512);
  auto plan = RelayoutPlan::Create(
      from, to,
      {.isa = isa,
       .streaming_store_threshold_bytes =
           *rc::gen::element<int64_t>(0, 1 << 30),
       .min_chunk_bytes = *rc::gen::element<int64_t>(0, 1, 64, 4096)});
  RC_ASSERT(plan.ok());
  // Offsets that leave both buffers unaligned now and then.
  const size_t in_off = *rc::gen::inRange<size_t>(0, 64),
               out_off = *rc::gen::inRange<size_t>(0, 64);
  std::vector<uint8_t> src(in_off + in.size()),
      dst(out_off + want.size(), 0xA5);
  std::copy(in.begin(), in.end(), src.begin() + in_off);
  RC_ASSERT((*plan)
                ->ExecuteWithThreads(absl::MakeConstSpan(src).subspan(in_off),
                                     absl::MakeSpan(dst).subspan(out_off),
                                     *rc::gen::inRange(1, 3))
                .ok());
  RC_ASSERT(std::equal(want.begin(), want.end(), dst.begin() + out_off));
}

}  // namespace
}  // namespace xlayout
