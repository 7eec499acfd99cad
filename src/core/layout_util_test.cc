#include "xlayout/layout_util.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash_testing.h"
#include "gtest/gtest.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

Shape P(const std::string& text) {
  absl::StatusOr<Shape> s = ParseShape(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : Shape();
}

TEST(LayoutUtilTest, MemorySpaceOf) {
  EXPECT_EQ(MemorySpaceOf(P("f32[4]{0:S(5)}")), 5);
  EXPECT_EQ(MemorySpaceOf(P("f32[4]")), 0);
  EXPECT_EQ(MemorySpaceOf(P("b(f32[4]{0:S(1)})")), 1);
  EXPECT_EQ(MemorySpaceOf(P("(f32[4]{0:S(1)})")), 0);  // Not an array.
}

TEST(LayoutUtilTest, SamePhysicalLayoutIgnoresOnlyTheMemorySpace) {
  EXPECT_TRUE(SamePhysicalLayout(P("f32[8,128]{1,0:T(8,128)}"),
                                 P("f32[8,128]{1,0:T(8,128)S(5)}")));
  EXPECT_FALSE(SamePhysicalLayout(P("f32[8,128]{1,0:T(8,128)}"),
                                  P("f32[8,128]{0,1:T(8,128)}")));
  EXPECT_EQ(LayoutKey(P("f32[8,128]{1,0:T(8,128)}")),
            LayoutKey(P("f32[8,128]{1,0:T(8,128)S(5)}")));
  EXPECT_NE(LayoutKey(P("f32[8,128]{1,0:T(8,128)}")),
            LayoutKey(P("f32[8,128]{1,0:T(8,128)(2,1)}")));
}

TEST(LayoutUtilTest, LaterTileLevelPadding) {
  // Issue 10.6: exact bytes are twice XLA's for bf16 T(1,128)(2,1).
  auto p = FindLaterTileLevelPadding(P("bf16[8,3,200]{2,1,0:T(1,128)(2,1)}"));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->has_value());
  EXPECT_EQ((*p)->ToString(), "tile level 2 (2,1) pads 6144 elements to 12288");
  for (const char* ok :
       {"bf16[8,3,200]{2,1,0:T(4,128)(2,1)}", "bf16[8,3,200]{2,1,0:T(1,128)}",
        "f32[2]{0}", "s8[1000]{0:T(1024)(128)(4,1)}",
        "bf16[0,3]{1,0:T(1,128)(2,1)}"}) {
    p = FindLaterTileLevelPadding(P(ok));
    ASSERT_TRUE(p.ok()) << ok << ": " << p.status();
    EXPECT_FALSE(p->has_value()) << ok << ": " << (*p)->ToString();
  }
  p = FindLaterTileLevelPadding(P("u8[2,1000]{1,0:T(2,128)(4,1)}"));
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->level, 2);
  EXPECT_EQ((*p)->tile, Tile({4, 1}));
  EXPECT_FALSE(FindLaterTileLevelPadding(P("(f32[2])")).ok());
}

// Shapes, layouts and tiles are compared and hashed by value, never by
// their printed text.
TEST(ValueSemanticsTest, HashIsConsistentWithEquality) {
  Shape dynamic = P("f32[<=4,2]{1,0}");
  Shape same_text_static = P("f32[4,2]{1,0}");
  EXPECT_NE(dynamic, same_text_static);
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({
      P("f32[2]{0}"),
      P("f32[2]"),
      P("f32[2]{0:T(128)}"),
      P("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"),
      P("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}"),
      P("(f32[2]{0}, s8[3]{0:E(4)})"),
      P("b(f32[2]{0:S(1)})"),
      dynamic,
      same_text_static,
      P("f32[?]{0}"),
      P("f32[4]{0:D(C)P(s32[4]{0})}"),
      P("f32[4]{0:D(C)P(s32[5]{0})}"),
      Shape(),
  }));
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly(
      {Tile({8, 128}), Tile({2, 1}), Tile({Tile::kCombineDimension, 128}),
       Tile()}));
  absl::flat_hash_set<Shape> set = {P("f32[2]{0}"), P("f32[ 2 ]{ 0 }")};
  EXPECT_EQ(set.size(), 1u);
}

}  // namespace
}  // namespace xlayout
