#include "xlayout/layout.h"

#include <gtest/gtest.h>

#include "xlayout/shape.h"

namespace xlayout {
namespace {

// Layout printing vectors built by construction, after XLA's layout_test.
TEST(LayoutTest, PrintsLikeXla) {
  EXPECT_EQ(Layout().ToString(), "{}");
  EXPECT_EQ(Layout({1, 2, 0}).ToString(), "{1,2,0}");

  Layout sparse({0});
  sparse.mutable_dim_level_types()->push_back(DimLevelType::kCompressed);
  EXPECT_EQ(sparse.ToString(), "{0:D(C)}");
  (*sparse.mutable_dim_level_types())[0] = DimLevelType::kSingleton;
  EXPECT_EQ(sparse.ToString(), "{0:D(S)}");
  (*sparse.mutable_dim_level_types())[0] = DimLevelType::kLooseCompressed;
  EXPECT_EQ(sparse.ToString(), "{0:D(H)}");
  (*sparse.mutable_dim_level_types())[0] = DimLevelType::kCompressed;
  sparse.mutable_dim_ordered()->push_back(false);
  EXPECT_EQ(sparse.ToString(), "{0:D(C~)}");
  sparse.mutable_dim_unique()->push_back(false);
  EXPECT_EQ(sparse.ToString(), "{0:D(C+~)}");

  Layout dense({1, 0});
  dense.mutable_dim_level_types()->assign(2, DimLevelType::kDense);
  EXPECT_EQ(dense.ToString(), "{1,0}");

  Layout mixed({1, 0});
  *mixed.mutable_dim_level_types() = {DimLevelType::kDense,
                                      DimLevelType::kCompressed};
  EXPECT_EQ(mixed.ToString(), "{1,0:D(D,C)}");

  EXPECT_EQ(Layout({3, 2, 1, 0}, {Tile({42, 123}), Tile({4, 5})}).ToString(),
            "{3,2,1,0:T(42,123)(4,5)}");
  EXPECT_EQ(Layout({3, 2, 1, 0}, {Tile({Tile::kCombineDimension,
                                        Tile::kCombineDimension, 42, 123})})
                .ToString(),
            "{3,2,1,0:T(*,*,42,123)}");

  Layout l({3, 2, 1, 0});
  l.set_tail_padding_alignment_in_elements(100);
  EXPECT_EQ(l.ToString(), "{3,2,1,0:L(100)}");
  l = Layout({3, 2, 1, 0});
  l.set_index_primitive_type(PrimitiveType::kU32);
  EXPECT_EQ(l.ToString(), "{3,2,1,0:#(u32)}");
  l = Layout({3, 2, 1, 0});
  l.set_pointer_primitive_type(PrimitiveType::kU16);
  EXPECT_EQ(l.ToString(), "{3,2,1,0:*(u16)}");
  l = Layout({3, 2, 1, 0});
  l.set_index_primitive_type(
      PrimitiveType::kF32);  // Non-integral prints "invalid".
  EXPECT_EQ(l.ToString(), "{3,2,1,0:#(invalid)}");
  l = Layout({3, 2, 1, 0});
  l.set_element_size_in_bits(42);
  EXPECT_EQ(l.ToString(), "{3,2,1,0:E(42)}");
  l = Layout({3, 2, 1, 0});
  l.set_memory_space(3);
  EXPECT_EQ(l.ToString(), "{3,2,1,0:S(3)}");

  Layout split({0, 1});
  split.mutable_split_configs()->push_back({0, {3}});
  split.mutable_split_configs()->push_back({1, {0, 4}});
  EXPECT_EQ(split.ToString(), "{0,1:SC(0:3)(1:0,4)}");

  Layout physical({0, 1});
  physical.set_physical_shape(
      Shape::MakeArray(PrimitiveType::kS32, {10, 20}, Layout({1, 0})));
  EXPECT_EQ(physical.ToString(), "{0,1:P(s32[10,20]{1,0})}");
  Layout copy = physical;  // Deep copy of P.
  EXPECT_EQ(copy, physical);
  EXPECT_EQ(copy.ToString(), physical.ToString());

  Layout meta({0, 1});
  meta.set_dynamic_shape_metadata_prefix_bytes(123);
  EXPECT_EQ(meta.ToString(), "{0,1:M(123)}");

  Layout all({3, 2, 1, 0}, {Tile({42, 123}), Tile({4, 5})});
  all.set_tail_padding_alignment_in_elements(100);
  all.set_element_size_in_bits(42);
  EXPECT_EQ(all.ToString(), "{3,2,1,0:T(42,123)(4,5)L(100)E(42)}");
}

TEST(TileTest, Printing) {
  EXPECT_EQ(Tile({7, 8}).ToString(), "(7,8)");
  EXPECT_EQ(Tile({-2, 55}).ToString(), "(Invalid value -2,55)");
  EXPECT_EQ(Tile({2, Tile::kCombineDimension, 128}).ToString(), "(2,*,128)");
  EXPECT_TRUE(Tile({2, Tile::kCombineDimension}).has_combined_dims());
}

TEST(LayoutTest, DefaultLayoutIsMajorToMinor) {
  EXPECT_EQ(DefaultLayout(3).ToString(), "{2,1,0}");
  EXPECT_EQ(DefaultLayout(0).ToString(), "{}");
  Layout l = DefaultLayout(3);
  EXPECT_EQ(l.major(0), 0);
  EXPECT_EQ(l.major(2), 2);
}

TEST(LayoutTest, Equality) {
  Layout a({1, 0}, {Tile({8, 128})});
  Layout b({1, 0}, {Tile({8, 128})});
  EXPECT_EQ(a, b);
  b.set_memory_space(1);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace xlayout
