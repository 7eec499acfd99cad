#include "xlayout/size.h"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "testing/parse.h"
#include "testing/test_data.h"
#include "xlayout/shape_parser.h"
#include "xlayout/tiling.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto Parse = test_util::ParseOrFail;

void ExpectSize(absl::StatusOr<int64_t> got, const std::string& want,
                const std::string& what, int line) {
  if (want == "-") return;
  if (!got.ok()) {
    ADD_FAILURE() << "line " << line << " " << what << ": " << got.status();
    return;
  }
  EXPECT_EQ(*got, std::stoll(want)) << "line " << line << " " << what;
}

TEST(SizeTest, Vectors) {
  // Every row is checked and every failing row reported (no ASSERT inside
  // the loop); rows with the wrong field count are failures, not skips.
  auto rows = test_util::ReadTsv("sizes.tsv", 5);
  ASSERT_GE(rows.size(), 30u);
  for (const auto& row : rows) {
    if (row.fields.size() != 5u) continue;  // Reported by ReadTsv.
    Shape shape = Parse(row.fields[0]);
    ExpectSize(LogicalBytes(shape), row.fields[1], "logical_bytes", row.line);
    ExpectSize(XlaBytes(shape), row.fields[2], "xla_bytes", row.line);
    ExpectSize(ExactBytes(shape), row.fields[3], "exact_bytes", row.line);
    ExpectSize(XlaArrayDataBytes(shape), row.fields[4], "array_data_bytes",
               row.line);
  }
}

TEST(SizeTest, E0102SampleBothNumbers) {
  absl::StatusOr<ArraySizes> expected =
      ComputeArraySizes(Parse("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"));
  absl::StatusOr<ArraySizes> got =
      ComputeArraySizes(Parse("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}"));
  ASSERT_TRUE(expected.ok() && got.ok());
  EXPECT_EQ(expected->xla_bytes, 5242880);
  EXPECT_EQ(got->xla_bytes, 1638400);
  EXPECT_DOUBLE_EQ(expected->padding_factor, 3.2);
  ASSERT_EQ(expected->dims.size(), 3u);
  EXPECT_EQ(expected->dims[2].dim, 2);
  EXPECT_EQ(expected->dims[2].extent, 40);
  EXPECT_EQ(expected->dims[2].padded_extent, 128);
  EXPECT_EQ(expected->dims[2].tile, 128);
  EXPECT_EQ(expected->dims[0].tile, std::nullopt);
  EXPECT_TRUE(expected->notes.empty()) << expected->notes[0];
}

TEST(SizeTest, NotesExplainWhereExactDiffers) {
  absl::StatusOr<ArraySizes> s =
      ComputeArraySizes(Parse("bf16[16,1272,40]{2,1,0:T(8,128)(2,1,1,1)}"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->xla_bytes, 5210112);
  EXPECT_EQ(s->exact_bytes, 5242880);
  ASSERT_GE(s->notes.size(), 2u);
  EXPECT_THAT(s->notes[0], HasSubstr("differs from xla_bytes"));
  EXPECT_THAT(s->notes[1], HasSubstr("tile level 2 (2,1,1,1) pads"));
}

// Without tiles the difference comes from L(n) or SC, which ArraySize
// ignores there; the note must not blame later tile levels.
TEST(SizeTest, NotesForUntiledDifferencesNameTheRightCause) {
  for (absl::string_view text : {"s8[3]{0:L(4)}", "f32[10,4]{1,0:SC(0:4)}"}) {
    absl::StatusOr<ArraySizes> s = ComputeArraySizes(Parse(text));
    ASSERT_TRUE(s.ok()) << text;
    ASSERT_FALSE(s->notes.empty()) << text;
    EXPECT_THAT(s->notes[0], HasSubstr("differs from xla_bytes"));
    EXPECT_THAT(s->notes[0],
                HasSubstr("ignores L(n) and split configs on untiled layouts"))
        << text;
    EXPECT_THAT(s->notes[0], ::testing::Not(HasSubstr("tile level")));
  }
}

// A zero-size array whose other dims multiply past int64 at an inner tile
// level: sizes are 0, and the padding notes must not overflow (UBSan).
TEST(SizeTest, ZeroSizeWithHugeDimsAndSeveralLevels) {
  absl::StatusOr<ArraySizes> s = ComputeArraySizes(
      Parse("u8[0,4294967296,4294967296]{2,1,0:T(1,1,1)(1,1)}"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->logical_bytes, 0);
  EXPECT_EQ(s->xla_bytes, 0);
  EXPECT_EQ(s->exact_bytes, 0);
  // Found by the fuzzer: signed overflow in the notes of this empty array.
  s = ComputeArraySizes(Parse("f32[0]{0:T(8)(55555551,8999999,999999)}"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->exact_bytes, 0);
}

// E(n) < 0 fails validation; the size functions must not return a negative
// byte count for it either.
TEST(SizeTest, NegativeElementSizeIsAnError) {
  Shape s = Parse("f32[100]{0:E(-8)}");
  EXPECT_EQ(LogicalBytes(s).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(XlaBytes(s).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExactBytes(s).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(XlaArrayDataBytes(s).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// layout_util_test MaxSplitSize: f32[150,200,100]{0,1,2} with
// SC(0:30)(1:40,130) sizes dims 0, 1, 2 as 150, 90, 70.
TEST(SizeTest, MaxSplitSize) {
  Shape s = Parse("f32[150,200,100]{0,1,2:SC(0:30)(1:40,130)}");
  absl::StatusOr<TiledShape> t = TiledShape::Create(s);
  ASSERT_TRUE(t.ok());
  // Physical order is 2,1,0.
  EXPECT_THAT(t->physical_dims(), ::testing::ElementsAre(70, 90, 150));
  absl::StatusOr<int64_t> exact = ExactBytes(s);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(*exact, 150 * 90 * 70 * 4);
}

TEST(SizeTest, Errors) {
  EXPECT_EQ(ExactBytes(Parse("f32[?,2]")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LogicalBytes(Parse("f32[?,2]")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(XlaBytes(Parse("f32[4611686018427387904,4]")).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(LogicalBytes(Parse("f32[4611686018427387904,4]")).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(
      ExactBytes(Parse("s4[9223372036854775807]{0:E(4)}")).status().code(),
      absl::StatusCode::kOk);
  EXPECT_EQ(ExactBytes(Parse("f32[2]{0:T(*)}")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExactBytes(Parse("(f32[2])")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExactBytes(Parse("f32[2]{0:D(C)}")).status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(XlaBytes(Parse("f32[2]{0:T(2)L(0)}")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SizeTest, LogicalBytesOfNonArrays) {
  EXPECT_EQ(*LogicalBytes(Parse("token[]")), 0);
  EXPECT_EQ(*LogicalBytes(Parse("opaque[]")), 8);
  EXPECT_EQ(*LogicalBytes(Parse("(f32[2], f32[3], token[])"), 8), 24);
  // XLA CHECKs pointer_size > 0 here; a negative size is an error, not -16.
  EXPECT_EQ(LogicalBytes(Parse("(f32[2], f32[3])"), -8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LogicalBytes(Parse("opaque[]"), 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*LogicalBytes(Parse("f32[2]"), -1), 8);
}

// The TSV reader reports every row with a wrong field count, not only the
// first, and a missing file (issue 9: tests that cannot fail).
TEST(TestDataTest, ReportsEveryBadRow) {
  ::testing::TestPartResultArray failures;
  size_t rows = 0;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::
            INTERCEPT_ONLY_CURRENT_THREAD,
        &failures);
    rows = test_util::ReadTsv("sizes.tsv", 4).size();  // It has 5 fields.
    test_util::ReadTsv("no-such-file.tsv");
  }
  ASSERT_GE(rows, 30u);
  ASSERT_EQ(static_cast<size_t>(failures.size()), rows + 1);
  EXPECT_THAT(failures.GetTestPartResult(0).message(),
              HasSubstr("5 tab-separated fields, expected 4"));
  EXPECT_THAT(failures.GetTestPartResult(failures.size() - 1).message(),
              HasSubstr("cannot open test vectors"));
}

// Regression (issue 10.7): tuple totals wrapped to -2 bytes.
TEST(ShapeSizesTest, TupleTotalOverflowIsOutOfRange) {
  absl::StatusOr<ShapeSizes> sizes = ComputeShapeSizes(
      Parse("(u8[9223372036854775807], u8[9223372036854775807])"));
  ASSERT_FALSE(sizes.ok());
  EXPECT_EQ(sizes.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(sizes.status().message()),
              HasSubstr("does not fit in int64"));
}

TEST(ShapeSizesTest, TupleSumsElements) {
  absl::StatusOr<ShapeSizes> sizes = ComputeShapeSizes(
      Parse("(bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}, f32[3]{0}, token[], "
            "(f32[2]{0}))"));
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  ASSERT_EQ(sizes->elements.size(), 4u);
  EXPECT_EQ(sizes->sizes.xla_bytes, 5242880 + 12 + 8);
  EXPECT_EQ(sizes->sizes.exact_bytes, 5242880 + 12 + 8);
  EXPECT_EQ(sizes->sizes.logical_bytes, 1638400 + 12 + 8);
  EXPECT_TRUE(sizes->has_size);
  EXPECT_TRUE(sizes->sizes.notes.empty());
}

// Regression (user trial 2): (f32[2], opaque[]) had a total of 8 bytes, the
// opaque element silently left out. A total over an element of unknown size
// is unknown, at any depth, and the note says which element.
TEST(ShapeSizesTest, TupleWithAnOpaqueElementHasNoTotal) {
  absl::StatusOr<ShapeSizes> sizes =
      ComputeShapeSizes(Parse("(f32[2], opaque[])"));
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  EXPECT_FALSE(sizes->has_size);
  EXPECT_THAT(sizes->sizes.notes,
              ElementsAre("element {1}: opaque[] has a backend-defined size "
                          "(a pointer), so the tuple has no total size"));
  ASSERT_EQ(sizes->elements.size(), 2u);
  EXPECT_TRUE(sizes->elements[0].has_size);
  EXPECT_EQ(sizes->elements[0].sizes.xla_bytes, 8);
  EXPECT_FALSE(sizes->elements[1].has_size);

  sizes = ComputeShapeSizes(
      Parse("(f32[2], (token[], opaque[]), (f32[1]), opaque[])"));
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  EXPECT_FALSE(sizes->has_size);
  EXPECT_THAT(
      sizes->sizes.notes,
      ElementsAre("element {1,1}: opaque[] has a backend-defined size (a "
                  "pointer), so the tuple has no total size",
                  "element {3}: opaque[] has a backend-defined size (a "
                  "pointer), so the tuple has no total size"));
  EXPECT_FALSE(sizes->elements[1].has_size);
  EXPECT_THAT(sizes->elements[1].sizes.notes,
              ElementsAre("element {1}: opaque[] has a backend-defined size "
                          "(a pointer), so the tuple has no total size"));
  EXPECT_TRUE(sizes->elements[2].has_size);
  EXPECT_EQ(sizes->elements[2].sizes.xla_bytes, 4);
}

TEST(ShapeSizesTest, SumBytes) {
  EXPECT_EQ(*SumBytes({1, 2, 3}, "x"), 6);
  absl::StatusOr<int64_t> s =
      SumBytes({INT64_MAX, 1}, "xla_bytes of the parameters");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(s.status().message(),
            "total xla_bytes of the parameters does not fit in int64");
}

PhysicalDifference Compare(const char* a, const char* b) {
  absl::StatusOr<PhysicalDifference> d = ComparePhysical(Parse(a), Parse(b));
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : PhysicalDifference::kDifferentLogicalShape;
}

// Regression (issue 10.8): size called these "relayout needed".
TEST(ComparePhysicalTest, MemorySpaceOnly) {
  EXPECT_EQ(Compare("f32[8,128]{1,0:T(8,128)}", "f32[8,128]{1,0:T(8,128)S(5)}"),
            PhysicalDifference::kMemorySpaceOnly);
}

TEST(ComparePhysicalTest, NaturalElementSizeIsEquivalent) {
  EXPECT_EQ(Compare("f32[2]{0}", "f32[2]{0:E(32)}"),
            PhysicalDifference::kEquivalent);
  // A missing layout is the default one.
  EXPECT_EQ(Compare("f32[2]", "f32[2]{0}"), PhysicalDifference::kIdentical);
  EXPECT_EQ(Compare("f32[2]{0}", "f32[2]{0}"), PhysicalDifference::kIdentical);
}

// Regression: a tile that covers the whole array stores the row-major bytes;
// size called the two "reordered" and check "needs relayout".
TEST(ComparePhysicalTest, WholeArrayTileIsEquivalent) {
  EXPECT_EQ(Compare("f32[8,128]{1,0:T(8,128)}", "f32[8,128]{1,0}"),
            PhysicalDifference::kEquivalent);
  EXPECT_EQ(Compare("f32[8,128]{1,0}", "f32[8,128]{1,0:T(8,128)S(1)}"),
            PhysicalDifference::kMemorySpaceOnly);
  // Tiles side by side along the minor dim: each holds 8 rows of 128, so
  // the bytes are not row-major.
  EXPECT_EQ(Compare("f32[8,256]{1,0:T(8,128)}", "f32[8,256]{1,0}"),
            PhysicalDifference::kSameSizeReordered);
  EXPECT_EQ(Compare("f32[16,128]{1,0:T(8,128)}", "f32[16,128]{1,0}"),
            PhysicalDifference::kEquivalent);
  EXPECT_EQ(Compare("f32[16,256]{1,0:T(8,128)}", "f32[16,256]{1,0}"),
            PhysicalDifference::kSameSizeReordered);
  // Size-1 dims go anywhere.
  EXPECT_EQ(Compare("f32[1,5]{1,0}", "f32[1,5]{0,1}"),
            PhysicalDifference::kEquivalent);
  // An empty array of the same length (0 bytes) under any layout.
  EXPECT_EQ(Compare("f32[0,5]{1,0}", "f32[0,5]{0,1:T(8,128)}"),
            PhysicalDifference::kEquivalent);
  absl::StatusOr<bool> same = SameStoredBytes(
      Parse("f32[8,128]{1,0:T(8,128)}"), Parse("f32[8,128]{1,0:T(8,128)}"));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(*same);
  same = SameStoredBytes(Parse("f32[8,100]{1,0:T(8,128)}"),
                         Parse("f32[8,100]{1,0}"));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_FALSE(*same);  // Padded: 4,096 bytes against 3,200.
}

TEST(ComparePhysicalTest, RealDifferences) {
  EXPECT_EQ(Compare("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}",
                    "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}"),
            PhysicalDifference::kDifferentSize);
  EXPECT_EQ(Compare("f32[8,128]{1,0}", "f32[8,128]{0,1}"),
            PhysicalDifference::kSameSizeReordered);
  EXPECT_EQ(Compare("f32[8,128]{1,0}", "bf16[8,128]{1,0}"),
            PhysicalDifference::kDifferentLogicalShape);
  EXPECT_EQ(PhysicalDifferenceName(PhysicalDifference::kMemorySpaceOnly),
            "memory_space");
}

// Regression (issue 10.6): a later tile level that pads cannot sit in a
// device buffer, which XLA sizes by the first level only.
TEST(CheckFitsDeviceBufferTest, LaterTileLevelPaddingIsRefused) {
  EXPECT_TRUE(
      CheckFitsDeviceBuffer(Parse("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"))
          .ok());
  EXPECT_TRUE(CheckFitsDeviceBuffer(Parse("f32[3,5]{0,1}")).ok());
  absl::Status s =
      CheckFitsDeviceBuffer(Parse("bf16[8,3,200]{2,1,0:T(1,128)(2,1)}"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), testing::HasSubstr("tile level 2 (2,1) pads"));
  EXPECT_THAT(s.message(), testing::HasSubstr("(12,288 bytes)"));
  EXPECT_THAT(s.message(), testing::HasSubstr("the 24,576 bytes"));
}

}  // namespace
}  // namespace xlayout
