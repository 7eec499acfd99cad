// Runs every case of testdata/explain/corpus.txt (hand-written messages with
// hand-worked sizes) through the scanner and the diagnosis, whole and fed
// one byte at a time behind enough filler to cross chunk boundaries.
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "xlayout/explain.h"
#include "xlayout/log_scanner.h"

namespace xlayout {
namespace {

struct Case {
  std::string name;
  std::string input;
  std::vector<std::pair<std::string, std::string>> expect;
};

std::vector<Case> LoadCorpus(const char* name = "corpus.txt") {
  std::ifstream in(absl::StrCat(XLAYOUT_TESTDATA_DIR "/explain/", name));
  std::vector<Case> cases;
  std::string line;
  enum { kNone, kComment, kInput, kExpect } state = kNone;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "=== ")) {
      cases.push_back({line.substr(4), "", {}});
      state = kComment;
      continue;
    }
    if (cases.empty()) continue;
    Case& c = cases.back();
    if (line == "--- input") {
      state = kInput;
    } else if (line == "--- expect") {
      state = kExpect;
    } else if (state == kInput) {
      if (absl::EndsWith(line, "<SP>")) {
        line = absl::StrCat(line.substr(0, line.size() - 4), " ");
      }
      absl::StrAppend(&c.input, line, "\n");
    } else if (state == kExpect && !line.empty()) {
      size_t eq = line.find('=');
      c.expect.emplace_back(line.substr(0, eq),
                            eq == std::string::npos ? "" : line.substr(eq + 1));
    }
  }
  return cases;
}

std::string Opt(const std::optional<int64_t>& v) {
  return v ? absl::StrCat(*v) : "";
}

// Scanner fields that must not depend on how the input was fed.
std::string Fingerprint(const ScannedMessage& m) {
  return absl::StrCat(
      MessageKindName(m.kind), "|", m.program, "|", Opt(m.parameter), "|",
      m.expected_shape, "|", m.actual_shape, "|", Opt(m.expected_bytes), "|",
      Opt(m.actual_bytes), "|", m.expected_value, "|", m.actual_value, "|",
      Opt(m.dimension), "|", Opt(m.replica), "|", Opt(m.partition), "|",
      m.error_code, "|", m.parameter_name, "|", m.text);
}

class CorpusTest : public testing::TestWithParam<Case> {};

TEST_P(CorpusTest, ScansAndDiagnoses) {
  const Case& c = GetParam();
  std::vector<ScannedMessage> messages = ScanText(c.input);

  // Same result fed byte by byte behind 100 KiB of log lines: the message
  // crosses chunk boundaries and the carry-over is compacted on the way.
  std::string filler;
  int filler_lines = 0;
  while (filler.size() < (100 << 10)) {
    absl::StrAppend(&filler, "I0125 15:22:55.000001 1 main.py:10] step ",
                    filler_lines, " loss 0.25 parameter count 12\n");
    ++filler_lines;
  }
  std::vector<ScannedMessage> streamed;
  {
    ScanOptions options;
    options.chunk_bytes = 4096;
    LogScanner scanner([&](ScannedMessage m) { streamed.push_back(m); },
                       nullptr, options);
    scanner.Feed(filler);
    for (char ch : c.input) scanner.Feed(absl::string_view(&ch, 1));
    scanner.Finish();
  }
  ASSERT_EQ(messages.size(), streamed.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(Fingerprint(messages[i]), Fingerprint(streamed[i]));
    EXPECT_EQ(messages[i].line + filler_lines, streamed[i].line);
    EXPECT_EQ(messages[i].offset + static_cast<int64_t>(filler.size()),
              streamed[i].offset);
  }

  std::vector<Diagnosis> diagnoses;
  for (const ScannedMessage& m : messages) diagnoses.push_back(Diagnose(m));

  for (const auto& expectation : c.expect) {
    const std::string& full_key = expectation.first;
    const std::string& value = expectation.second;
    SCOPED_TRACE(absl::StrCat(c.name, ": ", full_key, "=", value));
    if (full_key == "messages") {
      EXPECT_EQ(absl::StrCat(messages.size()), value);
      continue;
    }
    size_t index = 0;
    std::string key = full_key;
    std::vector<std::string> parts = absl::StrSplit(full_key, '.');
    if (parts.size() == 2) {
      ASSERT_TRUE(absl::SimpleAtoi(parts[0], &index));
      --index;
      key = parts[1];
    }
    ASSERT_LT(index, messages.size());
    const ScannedMessage& m = messages[index];
    const Diagnosis& d = diagnoses[index];
    auto inferred = [](const SideReport& s) {
      return s.inferred_layouts.empty() ? std::string("none")
                                        : s.inferred_layouts.front().shape;
    };
    auto any_contains = [&](const std::vector<std::string>& lines) {
      for (const std::string& l : lines) {
        if (absl::StrContains(l, value)) return true;
      }
      return false;
    };
    if (key == "kind") {
      EXPECT_EQ(MessageKindName(m.kind), value);
    } else if (key == "program") {
      EXPECT_EQ(m.program, value);
    } else if (key == "parameter") {
      EXPECT_EQ(Opt(m.parameter), value);
    } else if (key == "parameter_name") {
      EXPECT_EQ(m.parameter_name, value);
      EXPECT_EQ(d.parameter_name, value);
    } else if (key == "actual_display") {
      EXPECT_EQ(d.actual.shape, value);
    } else if (key == "jax_fix") {
      EXPECT_EQ(d.jax_fix, value);
    } else if (key == "expected_shape") {
      EXPECT_EQ(m.expected_shape, value);
    } else if (key == "actual_shape") {
      EXPECT_EQ(m.actual_shape, value);
    } else if (key == "expected_bytes") {
      EXPECT_EQ(Opt(m.expected_bytes), value);
    } else if (key == "actual_bytes") {
      EXPECT_EQ(Opt(m.actual_bytes), value);
    } else if (key == "expected_display") {
      EXPECT_EQ(d.expected.shape, value);
    } else if (key == "expected_value") {
      EXPECT_EQ(m.expected_value, value);
    } else if (key == "actual_value") {
      EXPECT_EQ(m.actual_value, value);
    } else if (key == "dimension") {
      EXPECT_EQ(Opt(m.dimension), value);
    } else if (key == "replica") {
      EXPECT_EQ(Opt(m.replica), value);
    } else if (key == "partition") {
      EXPECT_EQ(Opt(m.partition), value);
    } else if (key == "error_code") {
      EXPECT_EQ(m.error_code ? "1" : "0", value);
    } else if (key == "classification") {
      EXPECT_EQ(ClassificationName(d.classification), value);
    } else if (key == "consistent") {
      EXPECT_EQ(d.consistent ? "true" : "false", value);
    } else if (key == "expected_recomputed") {
      EXPECT_EQ(Opt(d.expected.recomputed_bytes), value);
    } else if (key == "actual_recomputed") {
      EXPECT_EQ(Opt(d.actual.recomputed_bytes), value);
    } else if (key == "expected_inferred") {
      EXPECT_EQ(inferred(d.expected), value);
    } else if (key == "actual_inferred") {
      EXPECT_EQ(inferred(d.actual), value);
    } else if (key == "expected_inferred_count") {
      EXPECT_EQ(absl::StrCat(d.expected.inferred_layouts.size()), value);
    } else if (key == "actual_inferred_count") {
      EXPECT_EQ(absl::StrCat(d.actual.inferred_layouts.size()), value);
    } else if (key == "fix") {
      EXPECT_TRUE(any_contains(d.fix_commands) &&
                  std::find(d.fix_commands.begin(), d.fix_commands.end(),
                            value) != d.fix_commands.end())
          << "fix commands: " << testing::PrintToString(d.fix_commands);
    } else if (key == "detail") {
      EXPECT_TRUE(any_contains(d.details))
          << "details: " << testing::PrintToString(d.details);
    } else if (key == "cause") {
      EXPECT_TRUE(any_contains(d.causes))
          << "causes: " << testing::PrintToString(d.causes);
    } else {
      ADD_FAILURE() << "unknown key " << key;
    }
  }
}

std::string CaseName(const testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusTest, testing::ValuesIn(LoadCorpus()),
                         CaseName);
INSTANTIATE_TEST_SUITE_P(Families, CorpusTest,
                         testing::ValuesIn(LoadCorpus("families.txt")),
                         CaseName);
// Regression inputs of the second user trial: interleaved writers, messages
// wrapped by a terminal, colour codes inside a message, a log cut inside one.
INSTANTIATE_TEST_SUITE_P(UserTrial2, CorpusTest,
                         testing::ValuesIn(LoadCorpus("user_trial2.txt")),
                         CaseName);

// Every case of the families corpus fed in two pieces, split at every byte
// position, with the smallest windows: the same messages as a whole feed.
TEST(FamiliesCorpus, SplitAtEveryByte) {
  ScanOptions options;
  options.chunk_bytes = 4096;
  options.max_back_bytes = 256;
  options.max_forward_bytes = 4096;
  auto scan = [&](absl::string_view a, absl::string_view b) {
    std::vector<std::string> out;
    LogScanner scanner(
        [&](ScannedMessage m) {
          out.push_back(
              absl::StrCat(Fingerprint(m), "|", m.line, "|", m.offset));
        },
        nullptr, options);
    scanner.Feed(a);
    scanner.Feed(b);
    scanner.Finish();
    return out;
  };
  const std::vector<Case> cases = LoadCorpus("families.txt");
  ASSERT_GE(cases.size(), 15u);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::string_view in = c.input;
    const std::vector<std::string> whole = scan(in, "");
    for (size_t k = 1; k < in.size(); ++k) {
      ASSERT_EQ(scan(in.substr(0, k), in.substr(k)), whole) << "split at " << k;
    }
  }
}

TEST(CorpusSize, UserTrial2CasesAreRead) {
  EXPECT_EQ(LoadCorpus("user_trial2.txt").size(), 11u);
}

TEST(CorpusSize, AtLeastFortyMessages) {
  size_t total = 0;
  for (const Case& c : LoadCorpus()) total += ScanText(c.input).size();
  EXPECT_GE(total, 40u);
}

}  // namespace
}  // namespace xlayout
