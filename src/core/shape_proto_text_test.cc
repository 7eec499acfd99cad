#include "xlayout/shape_proto_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_replace.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::HasSubstr;

// What TensorFlow's TPUExecute check prints (Shape::DebugString).
constexpr char kMultiLine[] = R"(element_type: BF16
dimensions: 16
dimensions: 1280
dimensions: 40
layout {
  minor_to_major: 2
  minor_to_major: 1
  minor_to_major: 0
  tiles {
    dimensions: 8
    dimensions: 128
  }
  tiles {
    dimensions: 2
    dimensions: 1
  }
  tail_padding_alignment_in_elements: 1
}
is_dynamic_dimension: false
is_dynamic_dimension: false
is_dynamic_dimension: false
)";

Shape Xla(const std::string& text) {
  absl::StatusOr<Shape> s = ParseShape(text);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Shape();
}

std::string NoSpace(std::string s) {
  return absl::StrReplaceAll(s, {{" ", ""}, {"\n", ""}, {"\t", ""}});
}

TEST(ShapeProtoTextTest, MultiLineDebugString) {
  absl::StatusOr<Shape> s = ParseShapeProtoText(kMultiLine);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, Xla("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"));
  EXPECT_EQ(s->ToString(), "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
}

TEST(ShapeProtoTextTest, WhitespaceRemovedReadsTheSame) {
  absl::StatusOr<Shape> s = ParseShapeProtoText(NoSpace(kMultiLine));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, Xla("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"));
}

TEST(ShapeProtoTextTest, OneLineEveryLayoutAttribute) {
  const std::string text =
      "element_type: S4 dimensions: 256 dimensions: 128 layout { "
      "minor_to_major: 0 minor_to_major: 1 tiles { dimensions: 8 dimensions: "
      "128 } tiles { dimensions: 8 dimensions: 1 } element_size_in_bits: 4 "
      "memory_space: 1 tail_padding_alignment_in_elements: 2 } "
      "is_dynamic_dimension: false is_dynamic_dimension: false";
  for (const std::string& t : {text, NoSpace(text)}) {
    absl::StatusOr<Shape> s = ParseShapeProtoText(t);
    ASSERT_TRUE(s.ok()) << s.status();
    const Layout& l = s->layout();
    EXPECT_EQ(l.element_size_in_bits(), 4);
    EXPECT_EQ(l.memory_space(), 1);
    EXPECT_EQ(l.tail_padding_alignment_in_elements(), 2);
    EXPECT_EQ(*s, Xla("s4[256,128]{0,1:T(8,128)(8,1)L(2)E(4)S(1)}"));
  }
}

TEST(ShapeProtoTextTest, StopsBeforeTheTextAfterIt) {
  const std::string text =
      std::string(kMultiLine) + "; got element_type: F32\ndimensions: 3\n";
  ShapeProtoRead r = ReadShapeProtoText(text);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(text.substr(r.end, 6), "\n; got");
  EXPECT_FALSE(r.at_end);
  // Without whitespace, an upper-case word after an enum value is left
  // alone too.
  ShapeProtoRead scalar = ReadShapeProtoText("element_type:F32Traceback");
  ASSERT_TRUE(scalar.status.ok()) << scalar.status;
  EXPECT_EQ(scalar.end, 16u);
  EXPECT_EQ(scalar.shape, Shape(PrimitiveType::kF32, {}));
}

TEST(ShapeProtoTextTest, TextEndingAfterAFieldMayContinue) {
  ShapeProtoRead r = ReadShapeProtoText("element_type: F32\ndimensions: 51");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.at_end);
  ShapeProtoRead inside = ReadShapeProtoText("element_type: F32 layout { mino");
  EXPECT_FALSE(inside.status.ok());
  EXPECT_TRUE(inside.at_end);
  ShapeProtoRead done =
      ReadShapeProtoText("element_type: F32 dimensions: 5 ; got");
  ASSERT_TRUE(done.status.ok());
  EXPECT_FALSE(done.at_end);
}

TEST(ShapeProtoTextTest, DynamicTupleListsAndCombinedDims) {
  absl::StatusOr<Shape> dyn = ParseShapeProtoText(
      "element_type: F32 dimensions: [8, 128] is_dynamic_dimension: [true, "
      "false]");
  ASSERT_TRUE(dyn.ok()) << dyn.status();
  EXPECT_TRUE(dyn->is_dynamic_dimension(0));
  EXPECT_FALSE(dyn->is_dynamic_dimension(1));
  EXPECT_EQ(dyn->ToString(), "f32[<=8,128]");

  absl::StatusOr<Shape> tuple = ParseShapeProtoText(
      "element_type: TUPLE tuple_shapes { element_type: S32 } tuple_shapes { "
      "element_type: F32 dimensions: 2 layout { minor_to_major: 0 } }");
  ASSERT_TRUE(tuple.ok()) << tuple.status();
  EXPECT_EQ(tuple->ToString(), "(s32[], f32[2]{0})");

  absl::StatusOr<Shape> combined = ParseShapeProtoText(
      "element_type: F32 dimensions: 4 dimensions: 8 layout { minor_to_major: "
      "1 minor_to_major: 0 tiles { dimensions: -9223372036854775808 "
      "dimensions: 128 } }");
  ASSERT_TRUE(combined.ok()) << combined.status();
  EXPECT_EQ(combined->ToString(), "f32[4,8]{1,0:T(*,128)}");
}

TEST(ShapeProtoTextTest, OlderAndUnknownLayoutFieldsAreSkipped) {
  absl::StatusOr<Shape> s = ParseShapeProtoText(
      "element_type: F32 dimensions: 2 layout { format: DENSE minor_to_major: "
      "0 max_sparse_elements: 0 some_future_field { x: 1 } }");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToString(), "f32[2]{0}");
}

TEST(ShapeProtoTextTest, MalformedLayoutIsReturnedAsPrinted) {
  absl::StatusOr<Shape> s = ParseShapeProtoText(
      "element_type: F32 dimensions: 2 dimensions: 3 dimensions: 4 "
      "dimensions: 5 layout { tail_padding_alignment_in_elements: 1 }");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rank(), 4);
  ASSERT_TRUE(s->has_layout());
  EXPECT_TRUE(s->layout().minor_to_major().empty());
}

TEST(ShapeProtoTextTest, Errors) {
  auto error = [](const std::string& text) {
    absl::StatusOr<Shape> s = ParseShapeProtoText(text);
    EXPECT_FALSE(s.ok()) << text;
    return s.ok() ? std::string() : std::string(s.status().message());
  };
  EXPECT_THAT(error("element_type: F33"), HasSubstr("unknown element type"));
  EXPECT_THAT(error("dimensions: 3"), HasSubstr("no element_type"));
  EXPECT_THAT(error("hello"), HasSubstr("expected a ShapeProto"));
  EXPECT_THAT(error("element_type: F32 dimensions: -2"), HasSubstr("negative"));
  EXPECT_THAT(error("element_type: F32 layout { tiles { dimensions: 0 } }"),
              HasSubstr("not positive"));
  EXPECT_THAT(error("element_type: F32 dimensions: 99999999999999999999"),
              HasSubstr("number too large"));
  EXPECT_THAT(error("element_type: F32 dimensions: 2 is_dynamic_dimension: "
                    "true is_dynamic_dimension: false"),
              HasSubstr("2 entries for 1 dimensions"));
  EXPECT_THAT(error("element_type: F32 layout { minor_to_major: x }"),
              HasSubstr("expected an integer"));
}

}  // namespace
}  // namespace xlayout
