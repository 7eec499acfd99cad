#include "xlayout/primitive_type.h"

#include <gtest/gtest.h>

namespace xlayout {
namespace {

struct TypeCase {
  const char* name;
  int enum_number;
  int bits;
  int bytes;
};

// Every primitive type with its enum number and widths (XLA's xla_data.proto
// and primitive_util.h).
constexpr TypeCase kCases[] = {
    {"pred", 1, 1, 1},
    {"s1", 30, 1, 1},
    {"s2", 26, 2, 1},
    {"s4", 21, 4, 1},
    {"s8", 2, 8, 1},
    {"s16", 3, 16, 2},
    {"s32", 4, 32, 4},
    {"s64", 5, 64, 8},
    {"u1", 31, 1, 1},
    {"u2", 27, 2, 1},
    {"u4", 22, 4, 1},
    {"u8", 6, 8, 1},
    {"u16", 7, 16, 2},
    {"u32", 8, 32, 4},
    {"u64", 9, 64, 8},
    {"f16", 10, 16, 2},
    {"bf16", 16, 16, 2},
    {"f32", 11, 32, 4},
    {"f64", 12, 64, 8},
    {"f8e5m2", 19, 8, 1},
    {"f8e4m3", 28, 8, 1},
    {"f8e4m3fn", 20, 8, 1},
    {"f8e4m3b11fnuz", 23, 8, 1},
    {"f8e3m4", 29, 8, 1},
    {"f8e5m2fnuz", 24, 8, 1},
    {"f8e4m3fnuz", 25, 8, 1},
    {"f4e2m1fn", 32, 4, 1},
    {"f8e8m0fnu", 33, 8, 1},
    {"f6e3m2fn", 35, 6, 1},
    {"f6e2m3fn", 36, 6, 1},
    {"c64", 15, 64, 8},
    {"c128", 18, 128, 16},
};

TEST(PrimitiveTypeTest, NamesNumbersAndWidths) {
  for (const TypeCase& c : kCases) {
    std::optional<PrimitiveType> type = PrimitiveTypeFromName(c.name);
    ASSERT_TRUE(type.has_value()) << c.name;
    EXPECT_EQ(static_cast<int>(*type), c.enum_number) << c.name;
    EXPECT_EQ(PrimitiveTypeName(*type), c.name);
    EXPECT_EQ(BitWidth(*type), c.bits) << c.name;
    EXPECT_EQ(ByteWidth(*type), c.bytes) << c.name;
    EXPECT_TRUE(IsArrayType(*type)) << c.name;
  }
  EXPECT_EQ(AllArrayTypes().size(), std::size(kCases));
}

TEST(PrimitiveTypeTest, NonArrayTypes) {
  EXPECT_EQ(PrimitiveTypeFromName("token"), PrimitiveType::kToken);
  EXPECT_EQ(PrimitiveTypeFromName("opaque"), PrimitiveType::kOpaque);
  EXPECT_FALSE(IsArrayType(PrimitiveType::kToken));
  // Never type tokens, and the spelling XLA's comment promises is absent.
  EXPECT_FALSE(PrimitiveTypeFromName("tuple").has_value());
  EXPECT_FALSE(PrimitiveTypeFromName("buffer").has_value());
  EXPECT_FALSE(PrimitiveTypeFromName("opaque_type").has_value());
  EXPECT_FALSE(PrimitiveTypeFromName("F32").has_value());
  EXPECT_FALSE(PrimitiveTypeFromName("invalid").has_value());
}

TEST(PrimitiveTypeTest, Classification) {
  EXPECT_TRUE(IsSubByteNonPredType(PrimitiveType::kS4));
  EXPECT_TRUE(IsSubByteNonPredType(PrimitiveType::kF4E2M1FN));
  EXPECT_FALSE(IsSubByteNonPredType(PrimitiveType::kPred));
  EXPECT_FALSE(IsSubByteNonPredType(PrimitiveType::kS8));
  EXPECT_TRUE(IsUnsignedIntegralType(PrimitiveType::kU4));
  EXPECT_FALSE(IsUnsignedIntegralType(PrimitiveType::kS4));
  EXPECT_TRUE(IsIntegralType(PrimitiveType::kS1));
  EXPECT_FALSE(IsIntegralType(PrimitiveType::kPred));
  EXPECT_TRUE(IsFloatingPointType(PrimitiveType::kBF16));
  EXPECT_TRUE(IsComplexType(PrimitiveType::kC64));
  EXPECT_EQ(PrimitiveTypeEnumName(PrimitiveType::kBF16), "BF16");
  EXPECT_EQ(PrimitiveTypeEnumName(PrimitiveType::kOpaque), "OPAQUE_TYPE");
}

}  // namespace
}  // namespace xlayout
