#include "core/hlo_text.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xlayout::hlo_text {
namespace {

using ::testing::HasSubstr;

TEST(ModuleHeaderTest, CountsBeyondInt64AreTooLargeNotNonPositive) {
  // Issue 10.10: this said "must be a positive integer".
  absl::StatusOr<ModuleHeader> h =
      ParseModuleHeader("HloModule m, replica_count=99999999999999999999");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(std::string(h.status().message()),
            "col 28: number too large (limit 9223372036854775807) "
            "(replica_count)");
  h = ParseModuleHeader("HloModule m, num_partitions= 9223372036854775808 ");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(std::string(h.status().message()),
            "col 30: number too large (limit 9223372036854775807) "
            "(num_partitions)");
  h = ParseModuleHeader("HloModule m, replica_count=9223372036854775807");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->replica_count, 9223372036854775807);
}

TEST(ModuleHeaderTest, NonPositiveAndNonNumericCounts) {
  for (const char* line :
       {"HloModule m, replica_count=0", "HloModule m, replica_count=-3",
        "HloModule m, replica_count=2x", "HloModule m, replica_count=two"}) {
    absl::StatusOr<ModuleHeader> h = ParseModuleHeader(line);
    ASSERT_FALSE(h.ok()) << line;
    EXPECT_THAT(std::string(h.status().message()),
                HasSubstr("col 28: replica_count must be a positive integer"))
        << line;
  }
  absl::StatusOr<ModuleHeader> h =
      ParseModuleHeader("HloModule m, replica_count= 4 , num_partitions=2\r");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->replica_count, 4);
  EXPECT_EQ(h->num_partitions, 2);
}

TEST(ModuleHeaderTest, ShapeErrorsCarryAbsoluteColumns) {
  absl::StatusOr<ModuleHeader> h = ParseModuleHeader(
      "HloModule m, entry_computation_layout={(f32[2]{0}, "
      "f32[18446744073709551615])->f32[]}");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(std::string(h.status().message()),
            "entry_computation_layout parameter 1: col 56: number too large "
            "(limit 9223372036854775807) (dimension size)");
}

TEST(ModuleHeaderTest, ExcerptsAreEscapedNotQuestionMarks) {
  // ESC was shown as '?'; it is "\x1b", as PrintError shows input.
  absl::StatusOr<ModuleHeader> h =
      ParseModuleHeader("HloModule m\x1b[2J, replica_count=2");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(),
              HasSubstr("got '\\x1b[2J, replica_count=2'"));
  // A UTF-8 character is not cut in two at the end of the excerpt.
  h = ParseModuleHeader("HloModule m\x1b" + std::string(22, 'x') + "é, a=1");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(
      h.status().message(),
      HasSubstr(absl::StrCat("got '\\x1b", std::string(22, 'x'), "...'")));
}

TEST(ParameterInstructionTest, HugeParameterNumber) {
  auto instr = ParseParameterInstruction(
      "  %p = f32[2]{0} parameter(99999999999999999999)");
  ASSERT_FALSE(instr.ok());
  EXPECT_EQ(std::string(instr.status().message()),
            "parameter instruction 'p': col 28: number too large (limit "
            "9223372036854775807) (parameter number)");
  instr = ParseParameterInstruction("  %p = f32[2]{0} parameter( 7 )");
  ASSERT_TRUE(instr.ok()) << instr.status();
  ASSERT_TRUE(instr->has_value());
  EXPECT_EQ((*instr)->number, 7);
  instr = ParseParameterInstruction("  %p = f32[2]{0} parameter(7x)");
  ASSERT_FALSE(instr.ok());
  EXPECT_THAT(std::string(instr.status().message()),
              HasSubstr("expected parameter(N)"));
}

TEST(InstructionOpcodeTest, OpcodeAfterTheShape) {
  EXPECT_EQ(
      InstructionOpcode("  %a = f32[2]{0} add(%x, %y), sharding={replicated}"),
      "add");
  EXPECT_EQ(InstructionOpcode(
                "  ROOT %t = (f32[2]{0}, /*index=5*/s32[]) tuple(%a, %b)"),
            "tuple");
  EXPECT_EQ(InstructionOpcode("  sd = token[] send-done(s), channel_id=1"),
            "send-done");
  EXPECT_EQ(InstructionOpcode("  %p = f32[2]{0} parameter(0)"), "parameter");
  EXPECT_EQ(InstructionOpcode("ENTRY %main (a: f32[2]) -> f32[2] {"), "");
  EXPECT_EQ(InstructionOpcode("}"), "");
  EXPECT_EQ(InstructionOpcode("  %a = f32[2 add(%x)"), "");
}

TEST(SkipSpaceAndCommentsTest, SharedTrivia) {
  EXPECT_EQ(SkipSpaceAndComments(" /* a */ // b\nx", 0), 14u);
  EXPECT_EQ(SkipSpaceAndComments("  /* open", 0), absl::string_view::npos);
}

}  // namespace
}  // namespace xlayout::hlo_text
