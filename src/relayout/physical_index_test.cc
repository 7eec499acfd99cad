#include "xlayout/physical_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "xlayout/shape_parser.h"
#include "xlayout/size.h"
#include "xlayout/tiling.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

PhysicalLayout Make(absl::string_view text) {
  absl::StatusOr<Shape> shape = ParseShape(text);
  EXPECT_TRUE(shape.ok()) << shape.status();
  absl::StatusOr<PhysicalLayout> p = PhysicalLayout::Create(*shape);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return *std::move(p);
}

// Calls fn(index) for every logical index, row-major.
template <typename Fn>
void ForEachIndex(absl::Span<const int64_t> dims, Fn fn) {
  for (int64_t d : dims) {
    if (d == 0) return;
  }
  std::vector<int64_t> index(dims.size(), 0);
  while (true) {
    fn(index);
    int d = static_cast<int>(dims.size()) - 1;
    for (; d >= 0; --d) {
      if (++index[d] < dims[d]) break;
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

// tiled_layout.md: f32[3,5]{1,0:T(2,2)}, element (2,3) is at 17.
TEST(PhysicalLayoutTest, DocExampleOneLevel) {
  PhysicalLayout p = Make("f32[3,5]{1,0:T(2,2)}");
  EXPECT_EQ(p.ElementOffset({2, 3}), 17);
  EXPECT_THAT(p.final_dims(), ElementsAre(2, 3, 2, 2));
  EXPECT_THAT(p.LogicalIndexAt(17), testing::Optional(ElementsAre(2, 3)));
  EXPECT_EQ(p.byte_size(), 96);
}

// tiled_layout.md: 8x8 with (2,4)(2,1,1,1), element (6,5) is at 51.
TEST(PhysicalLayoutTest, DocExampleTileAcrossTiles) {
  PhysicalLayout p = Make("f32[8,8]{1,0:T(2,4)(2,1,1,1)}");
  EXPECT_EQ(p.ElementOffset({6, 5}), 51);
  EXPECT_THAT(p.final_dims(), ElementsAre(2, 2, 2, 4, 2, 1, 1, 1));
  EXPECT_THAT(p.LogicalIndexAt(51), testing::Optional(ElementsAre(6, 5)));
}

TEST(PhysicalLayoutTest, CombinedDims) {
  PhysicalLayout p = Make("f32[2,7,8,11,10]{4,3,2,1,0:T(*,*,2,*,3)}");
  EXPECT_EQ(p.ElementOffset({1, 6, 7, 10, 9}), (55 * 37 + 36) * 6 + 1 * 3 + 1);
}

// Inverse map, padding enumeration, sizes and the lead's TiledShape agree.
TEST(PhysicalLayoutTest, InverseAndPaddingOnManyLayouts) {
  for (const char* text : {
           "f32[3,5]{1,0:T(2,2)}",
           "f32[8,8]{1,0:T(2,4)(2,1,1,1)}",
           "f32[7,9]{1,0:T(2,4)(2,1,1,1)}",
           "bf16[5,40,17]{1,2,0:T(8,128)(2,1)}",
           "bf16[5,17,40]{2,1,0:T(8,128)(2,1)}",
           "s8[9,130]{0,1:T(8,128)(4,1)}",
           "s4[70,130]{1,0:T(64,128)(8,1)E(4)}",
           "pred[3,200]{1,0:T(2,128)E(1)}",
           "f32[3]{0:T(8,128)}",
           "f32[]{:T(256)}",
           "u8[3000]{0:T(1024)(128)(4,1)}",
           "f32[2,7,8,11,10]{4,3,2,1,0:T(*,*,2,*,3)}",
           "f32[4,3,5]{0,2,1:T(2,*,2)L(7)}",
           "c128[3,2]{0,1:T(2,2)}",
           "u2[5,13]{1,0:T(2,4)L(5)E(2)}",
           "s16[4,0,3]{2,1,0:T(2,2)}",
       }) {
    SCOPED_TRACE(text);
    PhysicalLayout p = Make(text);
    absl::StatusOr<TiledShape> tiled = TiledShape::Create(p.shape());
    ASSERT_TRUE(tiled.ok()) << tiled.status();
    absl::StatusOr<int64_t> exact = ExactBytes(p.shape());
    ASSERT_TRUE(exact.ok());
    EXPECT_EQ(p.byte_size(), *exact);
    EXPECT_EQ(p.num_tiled_elements(), tiled->num_elements());
    std::set<int64_t> used;
    ForEachIndex(
        p.shape().dimensions(), [&](const std::vector<int64_t>& index) {
          int64_t offset = p.ElementOffset(index);
          EXPECT_EQ(offset, tiled->LinearIndex(index));
          EXPECT_LT(offset, p.num_tiled_elements());
          EXPECT_TRUE(used.insert(offset).second)
              << "two elements at " << offset;
          std::optional<std::vector<int64_t>> back = p.LogicalIndexAt(offset);
          ASSERT_TRUE(back.has_value());
          EXPECT_EQ(*back, index);
        });
    EXPECT_EQ(static_cast<int64_t>(used.size()), p.num_logical_elements());
    std::vector<int64_t> padding = p.PaddingOffsets();
    EXPECT_EQ(static_cast<int64_t>(padding.size()),
              p.num_storage_elements() - p.num_logical_elements());
    for (int64_t offset : padding) EXPECT_EQ(used.count(offset), 0u);
  }
}

TEST(PhysicalLayoutTest, StorageBits) {
  EXPECT_EQ(Make("s4[4]{0:E(4)}").element_bits(), 4);
  EXPECT_EQ(Make("s4[4]").element_bits(), 8);
  EXPECT_EQ(Make("pred[4]{0:E(1)}").element_bits(), 1);
  EXPECT_EQ(Make("c128[4]").element_bits(), 128);
  EXPECT_EQ(Make("s4[64,128]{1,0:E(4)}").byte_size(), 4096);
  EXPECT_EQ(Make("s4[9216,6144]{1,0:T(64,128)(8,1)E(4)}").byte_size(),
            28311552);
  EXPECT_EQ(Make("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}").byte_size(), 5242880);
  EXPECT_EQ(Make("f32[3,5]{1,0:T(2,2)L(7)}").num_storage_elements(), 28);
}

TEST(PhysicalLayoutTest, Rejections) {
  auto status = [](absl::string_view text) {
    absl::StatusOr<Shape> shape = ParseShape(text);
    EXPECT_TRUE(shape.ok()) << shape.status();
    return PhysicalLayout::Create(*shape).status();
  };
  EXPECT_THAT(status("s8[4]{0:E(3)}").message(), HasSubstr("E(3)"));
  EXPECT_THAT(status("s4[4]{0:E(2)}").message(), HasSubstr("at least 4 bits"));
  // Regression (issue 10.9): widening is refused with one clear sentence.
  EXPECT_EQ(status("f32[2]{0:E(64)}").code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(status("f32[2]{0:E(64)}").message(),
              HasSubstr("E(64) on f32: how XLA places a 32-bit value in a "
                        "64-bit slot is not defined"));
  EXPECT_EQ(status("f32[10,20]{1,0:SC(0:5)}").code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(status("f32[10,?]").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status("(f32[2], s8[3])").code(),
            absl::StatusCode::kInvalidArgument);
}

// XLA packs element 0 into the most significant bits (xla/util.h PackIntN).
TEST(PackedElementTest, XlaOrder) {
  const uint8_t nibbles[] = {0x12, 0x34};
  EXPECT_EQ(ReadPackedElement(nibbles, 0, 4), 1);
  EXPECT_EQ(ReadPackedElement(nibbles, 1, 4), 2);
  EXPECT_EQ(ReadPackedElement(nibbles, 3, 4), 4);
  const uint8_t crumbs[] = {0b11'10'01'00};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ReadPackedElement(crumbs, i, 2), 3 - i);
  uint8_t bits[1] = {0};
  WritePackedElement(bits, 0, 1, 1);
  WritePackedElement(bits, 7, 1, 1);
  EXPECT_EQ(bits[0], 0x81);
  WritePackedElement(bits, 0, 1, 0);
  EXPECT_EQ(bits[0], 0x01);
}

}  // namespace
}  // namespace xlayout
