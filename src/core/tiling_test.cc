#include "xlayout/tiling.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TiledShape Tiled(absl::string_view text, TilingOptions options = {}) {
  absl::StatusOr<Shape> shape = ParseShape(text);
  EXPECT_TRUE(shape.ok()) << shape.status();
  absl::StatusOr<TiledShape> tiled = TiledShape::Create(*shape, options);
  EXPECT_TRUE(tiled.ok()) << tiled.status();
  return *std::move(tiled);
}

std::vector<int64_t> Sizes(absl::Span<const TiledDim> dims) {
  std::vector<int64_t> out;
  for (const TiledDim& d : dims) out.push_back(d.size);
  return out;
}

// tiled_layout.md: F32[3,5]{1,0:T(2,2)}, element (2,3) is at linear index 17.
TEST(TiledShapeTest, DocExampleOneLevel) {
  TiledShape t = Tiled("f32[3,5]{1,0:T(2,2)}");
  EXPECT_THAT(Sizes(t.dims()), ElementsAre(2, 3, 2, 2));
  EXPECT_EQ(t.LinearIndex({2, 3}), 17);
  EXPECT_EQ(t.num_elements(), 24);
}

// tiled_layout.md: 8x8 with (2,4)(2,1,1,1), element (6,5) is at 51.
TEST(TiledShapeTest, DocExampleTileReachingAcrossTiles) {
  TiledShape t = Tiled("f32[8,8]{1,0:T(2,4)(2,1,1,1)}");
  EXPECT_THAT(Sizes(t.level(1)), ElementsAre(4, 2, 2, 4));
  EXPECT_THAT(Sizes(t.dims()), ElementsAre(2, 2, 2, 4, 2, 1, 1, 1));
  EXPECT_EQ(t.LinearIndex({6, 5}), 51);
}

// tiled_layout.md: F32[2,7,8,11,10] with (*,*,2,*,3) is F32[112,110] tiled by
// (2,3).
TEST(TiledShapeTest, CombinedDims) {
  TiledShape t = Tiled("f32[2,7,8,11,10]{4,3,2,1,0:T(*,*,2,*,3)}");
  EXPECT_THAT(Sizes(t.dims()), ElementsAre(56, 37, 2, 3));
  // Element (1,6,7,10,9) is row (1*7+6)*8+7 = 111, column 10*10+9 = 109 of
  // 112x110.
  EXPECT_EQ(t.LinearIndex({1, 6, 7, 10, 9}), (55 * 37 + 36) * 6 + 1 * 3 + 1);
  EXPECT_EQ(t.LinearIndex({0, 0, 0, 0, 0}), 0);
}

TEST(TiledShapeTest, RankBelowTileRankPadsMissingDims) {
  TiledShape t = Tiled("f32[3]{0:T(8,128)}");
  EXPECT_EQ(t.num_elements(), 1024);
  EXPECT_EQ(t.LinearIndex({2}), 2);
  TiledShape scalar = Tiled("f32[]{:T(256)}");
  EXPECT_EQ(scalar.num_elements(), 256);
  EXPECT_EQ(scalar.LinearIndex({}), 0);
}

TEST(TiledShapeTest, PaddedPhysicalDims) {
  TiledShape t = Tiled("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
  EXPECT_THAT(t.padded_physical_dims(), ElementsAre(16, 1280, 128));
  EXPECT_THAT(t.physical_to_logical(), ElementsAre(0, 1, 2));
  TiledShape u = Tiled("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  EXPECT_THAT(u.physical_to_logical(), ElementsAre(0, 2, 1));
  EXPECT_THAT(u.padded_physical_dims(), ElementsAre(16, 40, 1280));
  TiledShape odd = Tiled("bf16[16,1272,40]{2,1,0:T(8,128)(2,1,1,1)}");
  EXPECT_THAT(odd.padded_physical_dims(), ElementsAre(16, 1280, 128));
}

TEST(TiledShapeTest, FirstLevelOnly) {
  TiledShape t = Tiled("bf16[5,100]{1,0:T(3,128)(2,1)}", {.max_levels = 1});
  EXPECT_EQ(t.num_elements(), 768);
  EXPECT_EQ(t.num_levels(), 1);
}

// Every element lands on a distinct in-bounds offset.
TEST(TiledShapeTest, LinearIndexIsInjective) {
  for (absl::string_view text :
       {"f32[5,7]{0,1:T(2,4)(2,1,1,1)}", "bf16[3,9,5]{2,0,1:T(2,*,4)(2,1)}",
        "s8[9,130]{1,0:T(8,128)(4,1)}"}) {
    absl::StatusOr<Shape> shape = ParseShape(text);
    ASSERT_TRUE(shape.ok());
    TiledShape t = Tiled(text);
    std::vector<bool> used(t.num_elements(), false);
    std::vector<int64_t> index(shape->rank(), 0);
    int64_t count = 0;
    while (true) {
      int64_t offset = t.LinearIndex(index);
      ASSERT_GE(offset, 0) << text;
      ASSERT_LT(offset, t.num_elements()) << text;
      ASSERT_FALSE(used[offset]) << text << " offset " << offset;
      used[offset] = true;
      ++count;
      int d = shape->rank() - 1;
      while (d >= 0 && ++index[d] == shape->dimensions(d)) index[d--] = 0;
      if (d < 0) break;
    }
    EXPECT_GT(count, 0);
  }
}

TEST(TiledShapeTest, Errors) {
  auto create = [](absl::string_view text) {
    absl::StatusOr<Shape> shape = ParseShape(text);
    EXPECT_TRUE(shape.ok()) << shape.status();
    return TiledShape::Create(*shape).status();
  };
  EXPECT_THAT(std::string(create("f32[2,3]{1,0:T(2,*)}").message()),
              HasSubstr("ends in '*'"));
  EXPECT_THAT(std::string(create("f32[2,3]{1,0:T(2,0)}").message()),
              HasSubstr("tile dims must be positive"));
  EXPECT_THAT(std::string(create("f32[?,3]").message()),
              HasSubstr("unbounded dynamic"));
  EXPECT_EQ(create("f32[9223372036854775807,2]{1,0:T(8,128)}").code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(create("f32[10,4]{1,0:SC(0:8,4)}").message()),
              HasSubstr("increasing split points"));
}

// Each level keeps its dims, so thousands of levels must be refused, not
// cost quadratic time and memory (a 48 KB string took 10 s and 3 GB).
TEST(TiledShapeTest, TiledRankIsBounded) {
  std::string text = "f32[2]{0:T";
  for (int i = 0; i < 16000; ++i) text += "(1)";
  text += "}";
  absl::StatusOr<Shape> shape = ParseShape(text);
  ASSERT_TRUE(shape.ok());
  absl::StatusOr<TiledShape> tiled = TiledShape::Create(*shape);
  ASSERT_FALSE(tiled.ok());
  EXPECT_EQ(tiled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tiled.status().message()),
              HasSubstr("at most 256 is supported"));
  std::string wide = "f32[2]{0:T(1";
  for (int i = 1; i < 300; ++i) wide += ",1";
  wide += ")}";
  shape = ParseShape(wide);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_FALSE(TiledShape::Create(*shape).ok());
  // Levels that keep the rank constant (`*` merges) are fine in any number.
  TiledShape ok = Tiled("f32[4,4]{1,0:T(*,1)(*,1)(*,1)(*,1)(*,1)}");
  EXPECT_EQ(ok.num_elements(), 16);
}

}  // namespace
}  // namespace xlayout
