#include "xlayout/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::HasSubstr;

absl::Status Validate(absl::string_view text) {
  absl::StatusOr<Shape> shape = ParseShape(text);
  if (!shape.ok()) return shape.status();
  return ValidateShape(*shape);
}

TEST(ValidateTest, AcceptsValidShapes) {
  for (absl::string_view s :
       {"f32[2,3]{0,1}", "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}",
        "f32[]{:T(256)}", "(f32[2], token[], opaque[])", "b(s4[8]{0:E(4)})",
        "f32[?,3]", "f32[2]{0:D(C)#(u32)}", "f32[2]{0:L(4)}"}) {
    EXPECT_TRUE(Validate(s).ok()) << s << ": " << Validate(s);
  }
}

TEST(ValidateTest, RejectsWithXlaMessages) {
  // Byte for byte as LayoutUtil::ValidateLayoutForShape words them.
  EXPECT_EQ(Validate("f32[2,3]{0,0}").message(),
            "layout minor_to_major field has duplicate values: {0, 0}; shape: "
            "f32[2,3]");
  EXPECT_EQ(Validate("f32[2,<=3]{0,2}").message(),
            "layout minor_to_major field has out-of-bounds value: {0, 2}; "
            "shape: f32[2,<=3]");
  EXPECT_THAT(
      std::string(Validate("f32[2]{0:#(u32)}").message()),
      HasSubstr(
          "layout has a index_primitive_type, but is not a sparse array"));
  EXPECT_THAT(std::string(Validate("(f32[2], f32[2,3]{1,1})").message()),
              HasSubstr("duplicate values"));
}

TEST(ValidateTest, LayoutRankMismatchByConstruction) {
  Shape s = Shape::MakeArray(PrimitiveType::kF32, {2, 3}, Layout({0}));
  absl::Status status = ValidateShape(s);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("layout minor_to_major field contains 1 elements, but "
                        "shape is rank 2"));
}

}  // namespace
}  // namespace xlayout
