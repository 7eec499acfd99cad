#include "xlayout/jax_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

Layout L(const std::string& text) {
  absl::StatusOr<Layout> l = ParseLayout(text);
  EXPECT_TRUE(l.ok()) << text << ": " << l.status();
  return l.ok() ? *l : Layout();
}

TEST(JaxLayoutReprTest, MajorToMinorIsMinorToMajorReversed) {
  EXPECT_EQ(JaxLayoutRepr(L("{2,1,0:T(8,128)(2,1)}")),
            "Layout(major_to_minor=(0, 1, 2), tiling=((8, 128), (2, 1)))");
  EXPECT_EQ(JaxLayoutRepr(L("{1,2,0:T(8,128)(2,1)}")),
            "Layout(major_to_minor=(0, 2, 1), tiling=((8, 128), (2, 1)))");
  EXPECT_EQ(JaxLayoutRepr(L("{0,1}")), "Layout(major_to_minor=(1, 0))");
  // One-element tuples keep Python's trailing comma.
  EXPECT_EQ(JaxLayoutRepr(L("{0:T(1024)}")),
            "Layout(major_to_minor=(0,), tiling=((1024,),))");
  EXPECT_EQ(JaxLayoutRepr(L("{}")), "Layout(major_to_minor=())");
}

TEST(JaxLayoutReprTest, SubByteSizeOnlyWithE) {
  EXPECT_EQ(JaxLayoutRepr(L("{1,0:T(8,128)(4,1)E(4)}")),
            "Layout(major_to_minor=(0, 1), tiling=((8, 128), (4, 1)), "
            "sub_byte_element_size_in_bits=4)");
}

TEST(JaxLayoutReprTest, ReadsBackAsTheSameLayout) {
  for (const char* text :
       {"{2,1,0:T(8,128)(2,1)}", "{0,2,1,3:T(8,128)}",
        "{1,0:T(8,128)(4,1)E(4)}", "{0:T(256)}", "{3,0,2,1}"}) {
    Layout l = L(text);
    absl::StatusOr<Layout> back = ParseJaxLayout(JaxLayoutRepr(l));
    ASSERT_TRUE(back.ok()) << text << ": " << back.status();
    EXPECT_EQ(*back, l) << text;
  }
}

TEST(JaxLayoutReprTest, WhatJaxCannotSayIsEmpty) {
  EXPECT_EQ(JaxLayoutRepr(L("{1,0:T(2,*,128)}")), "");
  EXPECT_EQ(JaxLayoutRepr(L("{1,0:T(8,128)L(1024)}")), "");
  EXPECT_EQ(JaxDevicePutCode(L("{1,0:T(2,*,128)}")), "");
}

TEST(JaxDevicePutCodeTest, FormatWithTheArraysSharding) {
  EXPECT_EQ(JaxDevicePutCode(L("{2,1,0:T(8,128)(2,1)}")),
            "jax.device_put(x, Format(Layout(major_to_minor=(0, 1, 2), "
            "tiling=((8, 128), (2, 1))), x.sharding))");
  EXPECT_EQ(JaxDevicePutCode(L("{0:T(256)S(5)}"), "w", "pinned_host"),
            "jax.device_put(w, Format(Layout(major_to_minor=(0,), "
            "tiling=((256,),)), w.sharding.with_memory_kind('pinned_host')))");
}

TEST(JaxDtypeTest, Names) {
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("float32"), PrimitiveType::kF32);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("bfloat16"), PrimitiveType::kBF16);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("int8"), PrimitiveType::kS8);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("uint32"), PrimitiveType::kU32);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("int4"), PrimitiveType::kS4);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("bool"), PrimitiveType::kPred);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("complex64"), PrimitiveType::kC64);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("float8_e4m3fn"),
            PrimitiveType::kF8E4M3FN);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("float"), std::nullopt);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("f32"), std::nullopt);
  EXPECT_EQ(PrimitiveTypeFromJaxDtype("int"), std::nullopt);
}

}  // namespace
}  // namespace xlayout
