#include "xlayout/finding_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "xlayout/log_scanner.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;

std::string Message(int parameter, int replica, const char* actual_layout) {
  return absl::StrCat(
      "INVALID_ARGUMENT: Executable(jit_step) expected parameter ", parameter,
      " of size 5242880 (bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) but got "
      "buffer with incompatible size 1638400 (bf16[16,1280,40]{",
      actual_layout, ":T(8,128)(2,1)}): while running replica ", replica,
      " and partition 0 of a replicated computation (other replicas may have "
      "failed as well).\n");
}

void Scan(const std::string& log, FindingCollector& collector) {
  LogScanner scanner([&](ScannedMessage m) { collector.Add(m, "train.log"); });
  scanner.Feed(log);
  scanner.Finish();
}

std::string Log() {
  return Message(7, 0, "1,2,0") + Message(7, 1, "1,2,0") +
         Message(8, 0, "1,2,0") + Message(8, 1, "1,2,0");
}

TEST(FindingCollectorTest, GroupsAcrossReplicas) {
  FindingCollector collector;
  Scan(Log(), collector);
  EXPECT_EQ(collector.messages(), 4);
  ASSERT_EQ(collector.findings().size(), 2u);
  EXPECT_THAT(collector.findings()[0].replicas, ElementsAre(0, 1));
  EXPECT_EQ(collector.findings()[0].count, 2);
}

// --no-group: one finding per message, each with its own line.
TEST(FindingCollectorTest, UngroupedKeepsEveryMessage) {
  FindingCollector collector(/*group=*/false);
  Scan(Log(), collector);
  EXPECT_EQ(collector.messages(), 4);
  ASSERT_EQ(collector.findings().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const Finding& f = collector.findings()[i];
    EXPECT_EQ(f.count, 1);
    EXPECT_EQ(f.line, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(f.source, "train.log");
    EXPECT_THAT(f.replicas, ElementsAre(static_cast<int64_t>(i % 2)));
  }
}

TEST(SummarizeFindingsTest, OneLinePerMismatchAcrossParameters) {
  for (bool group : {true, false}) {
    FindingCollector collector(group);
    Scan(Log() + Message(9, 3, "2,1,0"), collector);
    std::vector<FindingSummary> summary =
        SummarizeFindings(collector.findings());
    ASSERT_EQ(summary.size(), 2u) << "group=" << group;
    EXPECT_THAT(summary[0].parameters, ElementsAre(7, 8));
    EXPECT_THAT(summary[0].replicas, ElementsAre(0, 1));
    EXPECT_EQ(summary[0].messages, 4);
    EXPECT_EQ(summary[0].program, "jit_step");
    EXPECT_EQ(summary[0].classification, Classification::kLayout);
    EXPECT_THAT(summary[1].parameters, ElementsAre(9));
    EXPECT_EQ(summary[1].messages, 1);
  }
}

TEST(UnparsedTallyTest, OneEntryPerReason) {
  UnparsedTally tally;
  for (int i = 1; i <= 1000; ++i) {
    tally.Add({i, 0, i % 2 ? "expected 'of size'" : "expected ')'",
               absl::StrCat("line ", i)},
              "a.log");
  }
  EXPECT_EQ(tally.total(), 1000);
  ASSERT_EQ(tally.entries().size(), 2u);
  EXPECT_EQ(tally.entries()[0].reason, "expected 'of size'");
  EXPECT_EQ(tally.entries()[0].count, 500);
  EXPECT_EQ(tally.entries()[0].line, 1);
  EXPECT_EQ(tally.entries()[0].excerpt, "line 1");
  EXPECT_EQ(tally.entries()[1].line, 2);
}

// User trial 3, finding 5: JAX's per-argument messages print a name but no
// parameter number; t['k_bias'] and t['o_bias'] shared one summary line
// labelled "an argument". Each argument now has its own line, named.
TEST(SummarizeFindingsTest, ArgumentsWithoutNumbersAreToldApartByName) {
  const std::string log =
      "Computation was compiled for input layouts that disagree with the "
      "layouts of arguments passed to it. Here are the 2 mismatches:\n"
      "Argument t['k_bias'] with shape float32[2048]:\n"
      "  Passed layout: Layout(major_to_minor=(0,), tiling=((1024,),), "
      "sub_byte_element_size_in_bits=0)\n"
      "  Required layout: Layout(major_to_minor=(0,), tiling=(), "
      "sub_byte_element_size_in_bits=0)\n"
      "Argument t['o_bias'] with shape float32[2048]:\n"
      "  Passed layout: Layout(major_to_minor=(0,), tiling=((1024,),), "
      "sub_byte_element_size_in_bits=0)\n"
      "  Required layout: Layout(major_to_minor=(0,), tiling=(), "
      "sub_byte_element_size_in_bits=0)\n";
  FindingCollector collector;
  Scan(log, collector);
  const std::vector<Finding>& findings = collector.findings();
  ASSERT_EQ(findings.size(), 2u);
  const std::vector<FindingSummary> summary = SummarizeFindings(findings);
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_EQ(summary[0].parameter_name, "t['k_bias']");
  EXPECT_EQ(summary[1].parameter_name, "t['o_bias']");
  EXPECT_EQ(summary[0].messages, 1);
  EXPECT_TRUE(summary[0].parameters.empty());
  // Numbered parameters still share a line across parameters.
  FindingCollector numbered;
  Scan(Log(), numbered);
  const std::vector<FindingSummary> lines =
      SummarizeFindings(numbered.findings());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].parameter_name, "");
  EXPECT_THAT(lines[0].parameters, ElementsAre(7, 8));
}

}  // namespace
}  // namespace xlayout
