// Each planning pass of RelayoutPlan::Create on its own: given loops (or
// layouts) in, the loops, boxes or chunks expected out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <vector>

#include "relayout/box_planning.h"
#include "relayout/chunking.h"
#include "relayout/model.h"
#include "testing/parse.h"
#include "xlayout/physical_index.h"

namespace xlayout::relayout_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto Parse = test_util::ParseOrFail;

PhysicalLayout Physical(absl::string_view text) {
  absl::StatusOr<PhysicalLayout> p = PhysicalLayout::Create(Parse(text));
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return *std::move(p);
}

// Pass 1.
TEST(BuildModelTest, TilesBecomeDigitsOfTheirDims) {
  Model m = BuildModel(Physical("f32[16,256]{1,0:T(8,128)}"));
  ASSERT_TRUE(m.separable);
  // Final dims [2, 2, 8, 128]: tile counts, then the tile.
  EXPECT_THAT(m.dims[0],
              ElementsAre(Node{0, 8, 0, 2, 2048}, Node{0, 1, 8, 8, 128}));
  EXPECT_THAT(m.dims[1],
              ElementsAre(Node{1, 128, 0, 2, 1024}, Node{1, 1, 128, 128, 1}));
  EXPECT_TRUE(m.constants.empty());
  EXPECT_EQ(DimOffset(m.dims[0], 9), 2048 + 128);
  EXPECT_EQ(DimOffset(m.dims[1], 130), 1024 + 2);
}

TEST(BuildModelTest, RankPaddingIsAConstantDim) {
  // A rank-2 tile on a rank-1 array adds a leading dim of size 1, whose tile
  // count is 1 and whose tile dim (2) is padding only.
  Model m = BuildModel(Physical("f32[6]{0:T(2,4)}"));
  ASSERT_TRUE(m.separable);
  ASSERT_EQ(m.constants.size(), 1u);
  EXPECT_EQ(m.constants[0].size, 2);
}

TEST(BuildModelTest, NonSeparableLayouts) {
  // `*` merging two real dims, and a tile that does not divide the digit it
  // splits (8 by 3).
  EXPECT_FALSE(BuildModel(Physical("f32[4,6]{1,0:T(*,2)}")).separable);
  EXPECT_FALSE(BuildModel(Physical("f32[12]{0:T(8)(3)}")).separable);
  // `*` with a size-1 partner keeps it.
  EXPECT_TRUE(BuildModel(Physical("f32[1,6]{1,0:T(*,2)}")).separable);
}

// Pass 2.
TEST(DimPiecesTest, NestedBreaksGiveMixedRadixPieces) {
  // A dim of 300: row-major in the source, tiles of 128 in the destination.
  const std::vector<Node> s = {Node{0, 1, 0, 300, 1}};
  const std::vector<Node> d = {Node{0, 128, 0, 3, 1024},
                               Node{0, 1, 128, 128, 1}};
  bool ok = true;
  std::vector<Piece> pieces = DimPieces(s, d, 300, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].src, 0);
  EXPECT_EQ(pieces[0].dst, 0);
  EXPECT_THAT(pieces[0].loops,
              ElementsAre(Loop{128, 1, 1}, Loop{2, 128, 1024}));
  EXPECT_EQ(pieces[1].src, 256);
  EXPECT_EQ(pieces[1].dst, 2048);
  EXPECT_THAT(pieces[1].loops, ElementsAre(Loop{44, 1, 1}));
}

TEST(DimPiecesTest, TilesThatDoNotNestGoIndexByIndex) {
  const std::vector<Node> s = {Node{0, 3, 0, 2, 3}, Node{0, 1, 3, 3, 1}};
  const std::vector<Node> d = {Node{0, 2, 0, 3, 2}, Node{0, 1, 2, 2, 1}};
  bool ok = true;
  std::vector<Piece> pieces = DimPieces(s, d, 6, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(pieces.size(), 6u);
  for (const Piece& p : pieces) EXPECT_TRUE(p.loops.empty());
  EXPECT_EQ(pieces[4].src, 4);  // 4 = 1 * 3 + 1.
  EXPECT_EQ(pieces[4].dst, 4);  // 4 = 2 * 2 + 0.
}

// Pass 3: the loop passes.
TEST(LoopPassesTest, RemoveTrivialLoops) {
  EXPECT_THAT(RemoveTrivialLoops({{1, 4, 4}, {3, 8, 16}, {1, 0, 0}}),
              ElementsAre(Loop{3, 8, 16}));
}

TEST(LoopPassesTest, SortLoopsByDstStride) {
  EXPECT_THAT(SortLoopsByDstStride({{2, 4, 64}, {8, 8, 4}, {3, 1, 4}}),
              ElementsAre(Loop{3, 1, 4}, Loop{8, 8, 4}, Loop{2, 4, 64}));
}

TEST(LoopPassesTest, CoalesceLoopsMergesOnlyWhereBothSidesContinue) {
  // 4 x 16: contiguous on both sides -> one loop of 64; then a loop that
  // continues only the destination stays.
  EXPECT_THAT(CoalesceLoops({{4, 4, 4}, {16, 16, 16}, {2, 1024, 256}}),
              ElementsAre(Loop{64, 4, 4}, Loop{2, 1024, 256}));
  EXPECT_THAT(Coalesce({{16, 16, 16}, {1, 7, 7}, {4, 4, 4}}),
              ElementsAre(Loop{64, 4, 4}));
}

TEST(PieceProductTest, EveryCombinationOnce) {
  std::vector<std::vector<Piece>> pieces = {
      {Piece{0, 0, {{2, 10, 1}}}, Piece{20, 2, {{1, 10, 1}}}},
      {Piece{0, 0, {{5, 1, 3}}}}};
  std::vector<BoxLoops> boxes = PieceProduct(pieces);
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_EQ(boxes[1].src, 20);
  EXPECT_EQ(boxes[1].dst, 2);
  EXPECT_THAT(boxes[1].loops, ElementsAre(Loop{1, 10, 1}, Loop{5, 1, 3}));
  EXPECT_TRUE(PieceProduct({{}, {Piece{}}}).empty());  // An empty dim.
}

// Pass 3: kernel choice.
TEST(MakeByteBoxTest, ContiguousLoopsWidenIntoOneCopy) {
  Box box = MakeByteBox(8, 16, 4, {{16, 4, 4}, {4, 64, 64}}, false);
  EXPECT_EQ(box.kernel, Kernel::kCopy);
  EXPECT_EQ(box.unit, 256);
  EXPECT_TRUE(box.loops.empty());
  EXPECT_EQ(box.bytes, 256);
  EXPECT_EQ(box.src, 8);
  EXPECT_EQ(box.dst, 16);
}

TEST(MakeByteBoxTest, SwappedStridesMakeATransposeOfBThenA) {
  // f32[64,96]{1,0} -> {0,1}: dim 0 is contiguous in the destination (A),
  // dim 1 in the source (B).
  Box box = MakeByteBox(0, 0, 4, {{64, 384, 4}, {96, 4, 256}}, false);
  EXPECT_EQ(box.kernel, Kernel::kTranspose);
  EXPECT_EQ(box.unit, 4);
  EXPECT_THAT(box.loops, ElementsAre(Loop{96, 4, 256}, Loop{64, 384, 4}));
  SelectPlaneKernel(&box, Isa::kSse2);
  EXPECT_STREQ(PlaneName(box.plane), " (blocked 32-bit units, sse2)");
}

TEST(MakeByteBoxTest, Interleaved16BitPairsBecomeShuffledUnits) {
  // 2x2 blocks of 16-bit values transposed ((2,1) tiles on swapped dims):
  // 8-byte units, and the outer loops transposed.
  Box box = MakeByteBox(0, 0, 2, {{2, 4, 2}, {2, 2, 4}, {4, 64, 8}, {4, 8, 32}},
                        false);
  EXPECT_EQ(box.kernel, Kernel::kTranspose);
  EXPECT_TRUE(box.shuffle);
  EXPECT_EQ(box.unit, 8);
  EXPECT_THAT(box.loops, ElementsAre(Loop{4, 8, 32}, Loop{4, 64, 8}));
}

TEST(MakeByteBoxTest, ZeroBoxesKeepDestinationLoopsOnly) {
  Box box = MakeByteBox(0, 40, 4, {{3, 0, 8}, {2, 0, 100}}, true);
  EXPECT_EQ(box.kernel, Kernel::kZero);
  EXPECT_THAT(box.loops, ElementsAre(Loop{2, 0, 100}, Loop{3, 0, 8}));
  EXPECT_EQ(box.bytes, 24);
}

TEST(MakeBitBoxTest, SourceContinuationMovesRightOutsideTheKernel) {
  Box box = MakeBitBox(
      0, 0,
      {{8, 64, 1}, {16, 1, 8}, {2, 4096, 128}, {4, 16, 1024}, {3, 8192, 4096}},
      4);
  EXPECT_EQ(box.kernel, Kernel::kBits);
  // Outer to inner; {4, 16, 1024} continues the kernel's outer loop (16
  // columns) along the source.
  EXPECT_THAT(box.loops,
              ElementsAre(Loop{3, 8192, 4096}, Loop{2, 4096, 128},
                          Loop{4, 16, 1024}, Loop{16, 1, 8}, Loop{8, 64, 1}));
  EXPECT_EQ(box.bytes, 3 * 2 * 4 * 16 * 8 / 2);
}

// The set of destination bytes a list of zero boxes writes.
std::set<int64_t> ZeroedBytes(const std::vector<Box>& boxes) {
  std::set<int64_t> bytes;
  for (const Box& b : boxes) {
    EXPECT_EQ(b.kernel, Kernel::kZero);
    std::vector<int64_t> idx(b.loops.size(), 0);
    while (true) {
      int64_t at = b.dst;
      for (size_t j = 0; j < idx.size(); ++j) at += idx[j] * b.loops[j].ds;
      for (int64_t k = 0; k < b.unit; ++k) bytes.insert(at + k);
      size_t j = idx.size();
      while (j-- > 0) {
        if (++idx[j] < b.loops[j].n) break;
        idx[j] = 0;
      }
      if (j == static_cast<size_t>(-1)) break;
    }
  }
  return bytes;
}

// Pass 4.
TEST(PaddingBoxesTest, CoverExactlyTheTilePadding) {
  for (const char* text :
       {"f32[3,5]{1,0:T(2,2)}", "bf16[5,300]{1,0:T(8,128)(2,1)}",
        "s8[3,7,9]{0,2,1:T(2,4)}", "f32[6]{0:T(2,4)}"}) {
    SCOPED_TRACE(text);
    PhysicalLayout dst = Physical(text);
    std::optional<std::vector<Box>> boxes = PaddingBoxes(BuildModel(dst), dst);
    ASSERT_TRUE(boxes.has_value());
    const int64_t width = dst.element_bits() / 8;
    std::set<int64_t> want;
    for (int64_t slot : dst.PaddingOffsets()) {
      if (slot >= dst.num_tiled_elements()) continue;  // L(n): zeroed apart.
      for (int64_t k = 0; k < width; ++k) want.insert(slot * width + k);
    }
    EXPECT_EQ(ZeroedBytes(*boxes), want);
  }
  PhysicalLayout none = Physical("f32[4,4]{1,0:T(2,2)}");
  EXPECT_TRUE(PaddingBoxes(BuildModel(none), none)->empty());
}

std::vector<Box> PlanBoxes(absl::string_view from_text,
                           absl::string_view to_text) {
  PhysicalLayout src = Physical(from_text), dst = Physical(to_text);
  Model ms = BuildModel(src), md = BuildModel(dst);
  auto pieces = AllDimPieces(ms, md, src.shape().dimensions());
  EXPECT_TRUE(pieces.has_value());
  if (!pieces.has_value()) return {};
  std::vector<Box> boxes = DataBoxes(*pieces, src, dst, Isa::kSse2);
  if (!dst.packed()) {
    std::optional<std::vector<Box>> padding = PaddingBoxes(md, dst);
    EXPECT_TRUE(padding.has_value());
    for (Box& b : *padding) boxes.push_back(std::move(b));
  }
  return boxes;
}

// A shuffled box reads each (2,1) source tile whole: the loop that
// continues B's source run (the rest of the 512-byte pair rows) sits right
// outside the kernel's C, B, A loops.
TEST(MakeByteBoxTest, ShuffleReadsOnAlongTheSourceRunBeforeMovingOn) {
#if !defined(__SSE2__)
  GTEST_SKIP() << "ShuffleRows needs SSE2";
#endif
  std::vector<Box> boxes = PlanBoxes("bf16[256,1024]{1,0:T(8,128)(2,1)}",
                                     "bf16[256,1024]{0,1:T(8,128)(2,1)}");
  ASSERT_EQ(boxes.size(), 1u);
  const Box& box = boxes[0];
  ASSERT_TRUE(box.shuffle);
  const size_t n = box.loops.size();
  ASSERT_GE(n, 4u);
  const Loop& lb = box.loops[n - 2];
  EXPECT_EQ(lb.ss, 8);  // B: 8-byte units along the source row.
  EXPECT_EQ(box.loops[n - 4].ss, lb.ss * lb.n);
  // The source run continues within one 512-byte pair row of a tile.
  EXPECT_EQ(box.loops[n - 4].ss * box.loops[n - 4].n, 512);
}

// Pass 5.
TEST(FuseRowPaddingTest, E0102RowsZeroTheirOwnPadding) {
  std::vector<Box> boxes = PlanBoxes("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}",
                                     "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
  int zero = 0, data = 0;
  for (const Box& b : boxes) (b.kernel == Kernel::kZero ? zero : data)++;
  ASSERT_GT(zero, 0);
  if (PaddedRowsPlane() == nullptr) GTEST_SKIP() << "no SSE2";
  ASSERT_TRUE(FuseRowPadding(&boxes));
  ASSERT_EQ(static_cast<int>(boxes.size()), data);
  for (const Box& b : boxes) {
    EXPECT_TRUE(b.pads_rows);
    EXPECT_EQ(b.plane, PaddedRowsPlane());
  }
  // Each row runs on to the next: 40 of 128 columns hold data.
  int64_t bytes = 0;
  for (const Box& b : boxes) bytes += b.bytes;
  EXPECT_EQ(bytes, 16 * 1280 * 128 * 2);
}

TEST(FuseRowPaddingTest, OtherPlansStayAsTheyAre) {
  std::vector<Box> boxes = PlanBoxes("f32[3,5]{1,0}", "f32[3,5]{1,0:T(2,2)}");
  const size_t before = boxes.size();
  EXPECT_FALSE(FuseRowPadding(&boxes));
  EXPECT_EQ(boxes.size(), before);
}

// Pass 6.
TEST(WholeByteNibblesTest, OnlyWhenTheNibbleKernelWritesEveryByte) {
  EXPECT_TRUE(WholeByteNibbles(PlanBoxes(
      "s4[128,256]{1,0:E(4)}", "s4[128,256]{1,0:T(64,128)(8,1)E(4)}")));
  // A column-major source: the generic bit kernel.
  EXPECT_FALSE(WholeByteNibbles(PlanBoxes(
      "s4[128,256]{0,1:E(4)}", "s4[128,256]{1,0:T(64,128)(8,1)E(4)}")));
  EXPECT_FALSE(WholeByteNibbles({}));
}

// Pass 7.
TEST(ChunkingTest, SpanSplitsAlongTheLargestDisjointStride) {
  // f32[256,256] transposed: B (output rows of 1 KiB) is the split loop.
  Box t = MakeByteBox(0, 0, 4, {{256, 1024, 4}, {256, 4, 1024}}, false);
  BoxSpan span = SpanOf(t, 32);
  EXPECT_EQ(span.depth, 0);
  EXPECT_EQ(span.n, 256);
  EXPECT_EQ(span.IterStart(3), 3072);
  EXPECT_EQ(span.IterEnd(3), 4096);
  EXPECT_EQ(ValidCut({span}, 1500, true), 2048);
  EXPECT_EQ(ValidCut({span}, 1500, false), 1024);
  EXPECT_EQ(ValidCut({span}, 2048, true), 2048);
  // A box whose loops interleave in the output has no split loop.
  Box z = MakeByteBox(0, 0, 4, {{4, 0, 8}, {4, 0, 12}}, true);
  BoxSpan whole = SpanOf(z, 32);
  EXPECT_EQ(whole.depth, -1);
  EXPECT_EQ(whole.hi, 3 * 12 + 3 * 8 + 4);
  EXPECT_EQ(ValidCut({whole}, 10, true), whole.hi);
  EXPECT_EQ(ValidCut({whole}, 10, false), 0);
}

TEST(ChunkingTest, SplitLoopNeedNotBeOutermost) {
  // s8 into transposed (4,1) tiles: the loop with the largest output stride
  // (tile columns) runs inside the loop over 128-row groups.
  std::vector<Box> boxes =
      PlanBoxes("s8[1024,1024]{1,0}", "s8[1024,1024]{0,1:T(8,128)(4,1)}");
  ASSERT_EQ(boxes.size(), 1u);
  BoxSpan span = SpanOf(boxes[0], 8);
  ASSERT_GE(span.depth, 0);
  EXPECT_GT(span.depth, 0) << LoopsToString(boxes[0].loops);
  EXPECT_EQ(boxes[0].loops[span.depth].ds, 8192);
}

TEST(ChunkingTest, PackedBoxesCutOnlyBetweenBytes) {
  // 4-bit elements, outer stride of 3 elements: iterations share bytes.
  Box odd = MakeBitBox(0, 0, {{3, 1, 1}, {5, 7, 3}}, 4);
  ASSERT_EQ(odd.loops.size(), 2u);
  EXPECT_EQ(SpanOf(odd, 4).depth, -1);
  Box even = MakeBitBox(0, 0, {{4, 1, 1}, {5, 9, 4}}, 4);
  ASSERT_EQ(even.loops.size(), 2u);
  BoxSpan span = SpanOf(even, 4);
  EXPECT_EQ(span.depth, 0);
  EXPECT_EQ(span.IterStart(1), 2);
}

TEST(ChunkingTest, ChunksPartitionTheOutputUnderTheCap) {
  Box t = MakeByteBox(0, 0, 4, {{256, 1024, 4}, {256, 4, 1024}}, false);
  ChunkPlan plan = PlanChunks({t}, ChunkingInput{.output_bytes = 256 * 1024,
                                                 .src_bits = 32,
                                                 .dst_bits = 32,
                                                 .max_chunk_bytes = 4096});
  ASSERT_EQ(plan.chunks.size(), 64u);
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const Chunk& c = plan.chunks[i];
    EXPECT_EQ(c.begin, static_cast<int64_t>(i) * 4096);
    EXPECT_EQ(c.end, c.begin + 4096);
    ASSERT_EQ(c.end_item - c.first_item, 1u);
    EXPECT_EQ(plan.items[c.first_item],
              (ChunkItem{0, 0, static_cast<int64_t>(4 * i),
                         static_cast<int64_t>(4 * i + 4)}));
  }
  // A cap below one row: one row per chunk.
  plan = PlanChunks({t}, ChunkingInput{.output_bytes = 256 * 1024,
                                       .src_bits = 32,
                                       .dst_bits = 32,
                                       .max_chunk_bytes = 1000});
  EXPECT_EQ(plan.chunks.size(), 256u);
  // By default the transpose keeps 4 KiB source runs: 1024 B-rows, the
  // whole plane here.
  plan = PlanChunks(
      {t}, ChunkingInput{
               .output_bytes = 256 * 1024, .src_bits = 32, .dst_bits = 32});
  EXPECT_EQ(plan.chunks.size(), 1u);
  // Element-wise plans cut between whole elements.
  plan = PlanChunks({}, ChunkingInput{.output_bytes = 300,
                                      .src_bits = 32,
                                      .dst_bits = 32,
                                      .elementwise = true,
                                      .min_chunk_bytes = 7});
  for (const Chunk& c : plan.chunks) EXPECT_EQ(c.begin % 4, 0);
  EXPECT_EQ(plan.chunks.back().end, 300);
}

}  // namespace
}  // namespace xlayout::relayout_internal
