#include "xlayout/memory_kind.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::HasSubstr;

TEST(MemoryKindMapTest, DefaultsFollowXla) {
  MemoryKindMap kinds;
  EXPECT_EQ(kinds.KindOf(0), "device");
  EXPECT_EQ(kinds.KindOf(1), "alternate");
  EXPECT_EQ(kinds.KindOf(5), "pinned_host");
  EXPECT_EQ(kinds.KindOf(7), "S(7)");
  EXPECT_EQ(kinds.SpaceOf("pinned_host"), 5);
  EXPECT_EQ(kinds.SpaceOf("unpinned_host"), std::nullopt);
  EXPECT_EQ(kinds.ToString(), "0=device,1=alternate,5=pinned_host");
}

TEST(MemoryKindMapTest, ParseReplacesTheMapping) {
  absl::StatusOr<MemoryKindMap> kinds =
      MemoryKindMap::Parse(" 0=hbm , 2=vmem,5=pinned_host");
  ASSERT_TRUE(kinds.ok()) << kinds.status();
  EXPECT_EQ(kinds->KindOf(0), "hbm");
  EXPECT_EQ(kinds->KindOf(1), "S(1)");
  EXPECT_EQ(kinds->KindOf(2), "vmem");
  EXPECT_EQ(kinds->ToString(), "0=hbm,2=vmem,5=pinned_host");
  absl::StatusOr<MemoryKindMap> again = MemoryKindMap::Parse(kinds->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kinds(), kinds->kinds());
}

TEST(MemoryKindMapTest, ParseErrorsSayWhatIsWrong) {
  EXPECT_THAT(MemoryKindMap::Parse("").status().message(), HasSubstr("empty"));
  EXPECT_THAT(MemoryKindMap::Parse("device").status().message(),
              HasSubstr("SPACE=KIND"));
  EXPECT_THAT(MemoryKindMap::Parse("x=device").status().message(),
              HasSubstr("SPACE=KIND"));
  EXPECT_THAT(MemoryKindMap::Parse("0=device,0=hbm").status().message(),
              HasSubstr("mapped twice"));
  // Spaces are plain decimal numbers (regression, second trial: signs,
  // leading zeros and inner spaces were accepted).
  for (const char* bad : {"-1=device", "-0=device", "+0=device", "00=device",
                          "0 =device", "0= device"}) {
    EXPECT_FALSE(MemoryKindMap::Parse(bad).ok()) << bad;
  }
  EXPECT_THAT(MemoryKindMap::Parse("-1=device").status().message(),
              HasSubstr("SPACE=KIND"));
  EXPECT_TRUE(MemoryKindMap::Parse("0=device, 10=vmem").ok());
  EXPECT_THAT(MemoryKindMap::Parse("0=has space").status().message(),
              HasSubstr("not a name"));
  EXPECT_THAT(MemoryKindMap::Parse("0=").status().message(),
              HasSubstr("not a name"));
  // Regression (new-user trial): '5=device' silently named space 0 "S(0)".
  EXPECT_THAT(MemoryKindMap::Parse("5=device").status().message(),
              HasSubstr("does not name memory space 0"));
}

TEST(MemoryKindMapTest, KindOfShapeUsesMemorySpace) {
  MemoryKindMap kinds;
  EXPECT_EQ(MemoryKindOf(*ParseShape("f32[2]{0:S(5)}"), kinds), "pinned_host");
  EXPECT_EQ(MemoryKindOf(*ParseShape("f32[2]{0:T(128)S(1)}"), kinds),
            "alternate");
  EXPECT_EQ(MemoryKindOf(*ParseShape("f32[2]"), kinds), "device");
  EXPECT_EQ(MemorySpaceOf(*ParseShape("(f32[2]{0:S(5)})")), 0);
}

TEST(MemoryKindMapTest, DynamicShapeMetadataIsPerSpace) {
  MemoryKindMap kinds;
  EXPECT_EQ(kinds.dynamic_shape_metadata(0), DynamicShapeMetadata::kNone);
  kinds.SetDynamicShapeMetadata(0, DynamicShapeMetadata::kPrefix);
  EXPECT_EQ(kinds.dynamic_shape_metadata(0), DynamicShapeMetadata::kPrefix);
  EXPECT_EQ(kinds.dynamic_shape_metadata(5), DynamicShapeMetadata::kNone);
}

}  // namespace
}  // namespace xlayout
