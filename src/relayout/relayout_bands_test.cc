#include "xlayout/relayout_bands.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "testing/parse.h"

namespace xlayout {
namespace {

std::optional<RelayoutBands> Bands(const std::string& from,
                                   const std::string& to) {
  return FindRelayoutBands(test_util::ParseOrFail(from),
                           test_util::ParseOrFail(to));
}

// The band height multiple, or nullopt when the conversion does not split.
std::optional<int64_t> Rows(const std::string& from, const std::string& to) {
  std::optional<RelayoutBands> b = Bands(from, to);
  if (!b.has_value()) return std::nullopt;
  return b->rows_multiple;
}

TEST(RelayoutBandsTest, TheSameMajorDimensionSplits) {
  // The E0102 example: dim 0 is major-most on both sides, no tile covers it.
  std::optional<RelayoutBands> b =
      Bands("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}",
            "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->dimension, 0);
  EXPECT_EQ(b->rows_multiple, 1);
  // Major dimension 1 (layout {0,2,1}... here {2,0,1}).
  b = Bands("f32[4,6,8]{2,0,1}", "f32[4,6,8]{0,2,1}");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->dimension, 1);
}

TEST(RelayoutBandsTest, TilesOverTheMajorDimensionSetTheBandRows) {
  EXPECT_EQ(Rows("f32[20,300]{1,0}", "f32[20,300]{1,0:T(8,128)}"), 8);
  EXPECT_EQ(Rows("bf16[64,260]{1,0:T(8,128)(2,1)}",
                 "bf16[64,260]{1,0:T(16,128)(2,1)}"),
            16);
  EXPECT_EQ(Rows("f32[24,300]{1,0:T(8,128)}", "f32[24,300]{1,0:T(3,128)}"), 24);
  EXPECT_EQ(Rows("f32[1000]{0}", "f32[1000]{0:T(256)}"), 256);
  // A rank-2 tile on a rank-3 shape leaves the major dimension alone.
  EXPECT_EQ(Rows("f32[5,20,300]{2,1,0}", "f32[5,20,300]{2,1,0:T(8,128)}"), 1);
}

// Regression (RapidCheck, CI of stop 20): a later tile level as long as
// the shape it tiles blocks the major dimension too: T(16)(3,2) on a rank-1
// array holds 3 tiles of 16 rows together. Bands of 128 rows added up to
// the whole's bytes but misplaced the rows of tiles 9-11.
TEST(RelayoutBandsTest, LaterTileLevelsOverTheMajorDimensionCount) {
  // lcm(128, 3 * 16).
  EXPECT_EQ(Rows("f16[1000]{0:T(128)}", "f16[1000]{0:T(16)(3,2)}"), 384);
  EXPECT_FALSE(
      Bands("f16[145]{0:T(128)}", "f16[145]{0:T(16)(3,2)}").has_value());
  // (2,1) tiles the 2-D tiled shape's minor dims only: still 8 rows.
  EXPECT_EQ(Rows("bf16[64,260]{1,0}", "bf16[64,260]{1,0:T(8,128)(2,1)}"), 8);
  // A 4-D second level over a 2-D first one covers the row blocks.
  EXPECT_EQ(Rows("f32[64,256]{1,0}", "f32[64,256]{1,0:T(2,128)(2,1,1,1)}"), 4);
}

// Regression (RapidCheck, CI of stop 20): packed elements can leave a band
// a fraction of a byte long. pred[2,21]{1,0:E(1)} rows are 21 bits; two
// 3-byte bands add up to the 6-byte whole but the second starts at bit 21.
TEST(RelayoutBandsTest, BandsOfPackedElementsStartOnAByte) {
  EXPECT_FALSE(
      Bands("pred[2,21]{1,0:E(1)}", "pred[2,21]{1,0:T(4)E(2)}").has_value());
  // 8 rows of 21 bits are 21 bytes.
  EXPECT_EQ(Rows("pred[64,21]{1,0:E(1)}", "pred[64,21]{1,0:T(4)E(2)}"), 8);
  // Odd rows of nibbles pair up.
  EXPECT_EQ(Rows("s4[9,3]{1,0:E(4)}", "s4[9,3]{1,0}"), 2);
  // Rows are whole bytes already.
  EXPECT_EQ(Rows("u2[12,4]{1,0:E(2)}", "u2[12,4]{1,0}"), 1);
}

TEST(RelayoutBandsTest, OtherConversionsDoNotSplit) {
  // Another major-most dimension.
  EXPECT_FALSE(Bands("f32[64,48]{1,0}", "f32[64,48]{0,1}").has_value());
  EXPECT_FALSE(Bands("f32[4,6,8]{2,1,0}", "f32[4,6,8]{2,0,1}").has_value());
  // Tile rows larger than the dimension: one band at most.
  EXPECT_FALSE(
      Bands("f32[6,300]{1,0}", "f32[6,300]{1,0:T(8,128)}").has_value());
  // Combined tile dims, tiles of a higher rank than the shape.
  EXPECT_FALSE(
      Bands("f32[16,300]{1,0}", "f32[16,300]{1,0:T(2,*)}").has_value());
  EXPECT_FALSE(Bands("f32[300]{0}", "f32[300]{0:T(8,128)}").has_value());
  // Scalars, different arrays.
  EXPECT_FALSE(Bands("f32[]", "f32[]").has_value());
  EXPECT_FALSE(Bands("f32[8,8]{1,0}", "s32[8,8]{1,0}").has_value());
}

TEST(RelayoutBandsTest, BandShapeChangesOneDimension) {
  const Shape s = test_util::ParseOrFail("bf16[37,260]{1,0:T(8,128)(2,1)}");
  EXPECT_EQ(BandShape(s, 0, 16).ToString(true),
            "bf16[16,260]{1,0:T(8,128)(2,1)}");
}

}  // namespace
}  // namespace xlayout
