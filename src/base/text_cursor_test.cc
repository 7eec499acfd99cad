#include "base/text_cursor.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xlayout {
namespace {

using ::testing::HasSubstr;

TEST(ParseDecimalTest, LimitsAreExact) {
  EXPECT_EQ(ParseDecimal("0").value, 0);
  EXPECT_EQ(ParseDecimal("007").value, 7);
  EXPECT_EQ(ParseDecimal("9223372036854775807").value,
            std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(ParseDecimal("9223372036854775808").value.has_value());
  EXPECT_EQ(ParseDecimal("9223372036854775808", /*negative=*/true).value,
            std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(ParseDecimal("9223372036854775809", true).value.has_value());
  // Values that a uint64 read would bit-cast to -1 or wrap.
  EXPECT_FALSE(ParseDecimal("18446744073709551615").value.has_value());
  EXPECT_FALSE(ParseDecimal("99999999999999999999").value.has_value());
  EXPECT_FALSE(ParseDecimal("").value.has_value());
  EXPECT_FALSE(ParseDecimal("12a").value.has_value());
  EXPECT_EQ(ParseDecimal("99999999999999999999").error.Message(),
            "number too large (limit 9223372036854775807)");
  EXPECT_EQ(ParseDecimal("99999999999999999999", true).error.Message(),
            "number too large (limit -9223372036854775808)");
}

TEST(TextCursorTest, ReadInt64ReportsTheColumnOfTheNumber) {
  TextCursor c("ab 18446744073709551615");
  c.set_pos(3);
  absl::StatusOr<int64_t> v = c.ReadInt64("dimension size");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "col 4: number too large (limit 9223372036854775807) (dimension "
            "size)");
  EXPECT_EQ(c.pos(), 3u);  // Not consumed.
  c.set_pos(0);
  v = c.ReadInt64("x");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "col 1: expected an integer (x), got 'ab'");
  TextCursor d("-42,");
  v = d.ReadInt64("x");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, -42);
  EXPECT_EQ(d.Peek(), ',');
}

TEST(TextCursorTest, TriviaAndIdentifiers) {
  TextCursor c("  /* a */ // b\n f32.x-1[");
  ASSERT_TRUE(c.SkipTrivia().ok());
  EXPECT_EQ(c.ReadIdentifier(), "f32.x-1");
  EXPECT_EQ(c.Peek(), '[');
  EXPECT_TRUE(c.ReadIdentifier().empty());
  TextCursor bad("  /* open");
  absl::Status s = bad.SkipTrivia();
  EXPECT_EQ(s.message(), "col 3: unterminated /* comment");
  EXPECT_EQ(bad.pos(), 2u);
}

TEST(TextCursorTest, LinesAndColumns) {
  TextCursor c("ab\ncd\n\nx");
  EXPECT_EQ(c.Location(0), "col 1");
  EXPECT_EQ(c.Location(2), "col 3");
  EXPECT_EQ(c.Location(3), "line 2 col 1");
  EXPECT_EQ(c.Location(4), "line 2 col 2");
  EXPECT_EQ(c.Location(7), "line 4 col 1");
  EXPECT_EQ(c.Location(100), "line 4 col 2");  // Clamped to the end.
  EXPECT_THAT(c.Describe(7), "'x'");
  EXPECT_THAT(c.Describe(2), "byte 0x0a");
  EXPECT_THAT(c.Describe(8), HasSubstr("end of input"));
}

TEST(TextCursorTest, ConsumeAndLiterals) {
  TextCursor c("->x");
  EXPECT_FALSE(c.Consume('x'));
  EXPECT_TRUE(c.ConsumeLiteral("->"));
  EXPECT_TRUE(c.Consume('x'));
  EXPECT_TRUE(c.AtEnd());
  EXPECT_FALSE(c.Consume('\0'));
}

}  // namespace
}  // namespace xlayout
