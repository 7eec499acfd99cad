#include "xlayout/shape.h"

#include <gtest/gtest.h>

namespace xlayout {
namespace {

// Shape printing vectors built by construction, after XLA's shape_test.
TEST(ShapeTest, ToStringLikeXla) {
  EXPECT_EQ(Shape::MakeOpaque().ToString(true), "opaque[]");
  EXPECT_EQ(Shape::MakeToken().ToString(true), "token[]");
  Shape scalar = Shape::MakeArray(PrimitiveType::kF32, {}, Layout());
  EXPECT_EQ(scalar.ToString(true), "f32[]");
  Shape tiled_scalar =
      Shape::MakeArray(PrimitiveType::kF32, {}, Layout({}, {Tile({256})}));
  EXPECT_EQ(tiled_scalar.ToString(true), "f32[]{:T(256)}");
  Shape matrix =
      Shape::MakeArray(PrimitiveType::kU32, {1, 2}, DefaultLayout(2));
  EXPECT_EQ(matrix.ToString(true), "u32[1,2]{1,0}");
  EXPECT_EQ(matrix.ToString(false), "u32[1,2]");
  Shape col = Shape::MakeArray(PrimitiveType::kS32, {3, 4}, Layout({0, 1}));
  EXPECT_EQ(col.ToString(true), "s32[3,4]{0,1}");
  Shape tuple = Shape::MakeTuple({Shape::MakeOpaque(), scalar, matrix, col});
  EXPECT_EQ(tuple.ToString(true),
            "(opaque[], f32[], u32[1,2]{1,0}, s32[3,4]{0,1})");
  EXPECT_EQ(tuple.ToString(false), "(opaque[], f32[], u32[1,2], s32[3,4])");
  Shape nested = Shape::MakeTuple({tuple, matrix, Shape::MakeToken()});
  EXPECT_EQ(nested.ToString(true),
            "((opaque[], f32[], u32[1,2]{1,0}, s32[3,4]{0,1}), u32[1,2]{1,0}, "
            "token[])");

  Shape dynamic(PrimitiveType::kF32, {23, 44, 55});
  dynamic.set_dimension(0, 23, true);
  dynamic.set_dimension(2, 55, true);
  EXPECT_EQ(dynamic.ToString(false), "f32[<=23,44,<=55]");
  dynamic.set_dimension(2, 55, false);
  EXPECT_EQ(dynamic.ToString(false), "f32[<=23,44,55]");
  Shape unbounded(PrimitiveType::kF32, {Shape::kUnboundedSize, 784});
  EXPECT_EQ(unbounded.ToString(false), "f32[?,784]");
  EXPECT_TRUE(unbounded.is_unbounded_dynamic());
  EXPECT_FALSE(unbounded.is_static());
}

TEST(ShapeTest, TupleIndexComments) {
  std::vector<Shape> elements;
  for (int i = 0; i < 6; ++i) elements.push_back(Shape::MakeToken());
  EXPECT_EQ(
      Shape::MakeTuple(elements).ToString(),
      "(token[], token[], token[], token[], token[], /*index=5*/token[])");
  EXPECT_EQ(Shape::MakeTuple({}).ToString(), "()");
}

TEST(ShapeTest, Buffer) {
  Shape b = Shape::MakeBuffer(
      Shape::MakeArray(PrimitiveType::kF32, {2}, DefaultLayout(1)));
  EXPECT_TRUE(b.IsBuffer());
  EXPECT_EQ(b.ToString(), "b(f32[2]{0})");
}

TEST(ShapeTest, SameLogicalShapeIgnoresLayouts) {
  Shape a =
      Shape::MakeArray(PrimitiveType::kBF16, {16, 1280, 40}, Layout({2, 1, 0}));
  Shape b =
      Shape::MakeArray(PrimitiveType::kBF16, {16, 1280, 40}, Layout({1, 2, 0}));
  EXPECT_TRUE(SameLogicalShape(a, b));
  EXPECT_NE(a, b);
  Shape c = Shape::MakeArray(PrimitiveType::kF32, {16, 1280, 40});
  EXPECT_FALSE(SameLogicalShape(a, c));
}

}  // namespace
}  // namespace xlayout
