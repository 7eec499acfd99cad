#include "xlayout/log_scanner.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace xlayout {
namespace {

using ::testing::HasSubstr;

constexpr char kMessage[] =
    "Executable(jit_f) expected parameter 3 of size 4096 "
    "(f32[8,128]{1,0:T(8,128)}) but got buffer with incompatible size 65536 "
    "(f32[8,128]{0,1:T(8,128)})";

TEST(LogPrefixLengthTest, Glog) {
  absl::string_view line =
      "E0125 15:22:55.460935   12345 pjrt_client.cc:123] Executable(x)";
  EXPECT_EQ(line.substr(LogPrefixLength(line)), "Executable(x)");
}

TEST(LogPrefixLengthTest, TimestampsAndTags) {
  for (absl::string_view line : {
           "2024-01-25T15:22:55.123456Z stderr F Executable(x)",
           "2024-01-25 15:22:55,460 ERROR Executable(x)",
           "[host-3] [2024-01-25 15:22:55] Executable(x)",
           "(TrainWorker pid=12, ip=10.0.0.1) Executable(x)",
           "worker-1  | Executable(x)",
           "15:22:55.123 Executable(x)",
           "E       Executable(x)",
       }) {
    EXPECT_EQ(line.substr(LogPrefixLength(line)), "Executable(x)") << line;
  }
}

TEST(LogPrefixLengthTest, LeavesMessageTextAlone) {
  for (absl::string_view line : {
           "E0102: RuntimeProgramInputMismatch:",
           "128)(2,1)}) but got buffer",
           "16,1280,40]{2,1,0:T(8,128)(2,1)})",
           "Executable(x) expected parameter 0",
           "(bf16[16,1280,40]{1,2,0:T(8,128)(2,1)})",
       }) {
    EXPECT_EQ(LogPrefixLength(line), 0u) << line;
  }
}

TEST(LogScannerTest, FindsMessageAndPosition) {
  std::string text =
      absl::StrCat("line one\nline two\nprefix: ", kMessage, "\nline four\n");
  std::vector<ScannedMessage> m = ScanText(text);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].line, 3);
  EXPECT_EQ(m[0].offset, static_cast<int64_t>(text.find("Executable")));
  EXPECT_EQ(m[0].text, kMessage);
  EXPECT_EQ(m[0].program, "jit_f");
  EXPECT_EQ(m[0].parameter, 3);
  EXPECT_FALSE(m[0].replica.has_value());
}

TEST(LogScannerTest, ReportsUnparsedCandidates) {
  std::vector<UnparsedCandidate> bad;
  std::vector<ScannedMessage> good;
  LogScanner scanner([&](ScannedMessage m) { good.push_back(m); },
                     [&](UnparsedCandidate u) { bad.push_back(u); });
  scanner.Feed(
      "ok\nExecutable(jit_f) expected parameter 3 of size 12 (f32[3]{0}) but "
      "got a buffer that is wrong\n");
  scanner.Finish();
  EXPECT_TRUE(good.empty());
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_THAT(bad[0].reason,
              HasSubstr("expected ') but got buffer with incompatible size'"));
  EXPECT_THAT(bad[0].excerpt, HasSubstr("Executable(jit_f)"));
  EXPECT_EQ(scanner.unparsed_candidates(), 1);
}

TEST(LogScannerTest, HugeNumbersAreRejectedNotWrapped) {
  std::vector<UnparsedCandidate> bad;
  LogScanner scanner([](ScannedMessage) {},
                     [&](UnparsedCandidate u) { bad.push_back(u); });
  scanner.Feed(
      "Executable expected parameter 1 of size 99999999999999999999999 but "
      "got buffer with incompatible size 4\n");
  scanner.Finish();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_THAT(bad[0].reason,
              HasSubstr("number too large (limit 9223372036854775807): "
                        "99999999999999999999999"));
}

TEST(LogScannerTest, MemoryStaysBoundedOnLongInput) {
  // 64 MiB without newlines or anchors, then a message: the carry-over never
  // holds more than a chunk plus the windows, and the message is found.
  int found = 0;
  ScanOptions options;
  options.chunk_bytes = 1 << 16;
  LogScanner scanner([&](ScannedMessage) { ++found; }, nullptr, options);
  std::string block(1 << 20, 'x');
  const size_t capacity = scanner.buffer_capacity();
  EXPECT_LE(capacity, (1u << 16) + options.max_back_bytes +
                          options.max_forward_bytes + 64);
  for (int i = 0; i < 64; ++i) scanner.Feed(block);
  EXPECT_EQ(scanner.buffer_capacity(), capacity);
  scanner.Feed(absl::StrCat("\n", kMessage, "\n"));
  scanner.Finish();
  EXPECT_EQ(found, 1);
  EXPECT_EQ(scanner.bytes_scanned(),
            64 * (1 << 20) + static_cast<int64_t>(sizeof(kMessage)) + 1);
}

TEST(LogScannerTest, AnchorSplitAcrossFeeds) {
  std::string text = absl::StrCat(std::string(5000, '.'), "\n", kMessage, "\n");
  for (size_t split = 5000; split < text.size(); split += 7) {
    std::vector<ScannedMessage> out;
    LogScanner scanner([&](ScannedMessage m) { out.push_back(m); });
    scanner.Feed(absl::string_view(text).substr(0, split));
    scanner.Feed(absl::string_view(text).substr(split));
    scanner.Finish();
    ASSERT_EQ(out.size(), 1u) << split;
    EXPECT_EQ(out[0].actual_bytes, 65536);
  }
}

// Any split of any mix of messages and noise gives the same messages.
RC_GTEST_PROP(LogScannerProp, SplitInvariant, ()) {
  const std::vector<std::string> pieces = {
      kMessage,
      "Executable expected parameter 0 of size 8 but got buffer with "
      "incompatible size 4 ",
      ": while running replica 2 and partition 1 of a replicated computation "
      "(other replicas may have failed as well).",
      "\n",
      "E0125 15:22:55.460935 1 x.cc:1] ",
      "noise expected parameter words ",
      "E0102: RuntimeProgramInputMismatch:\n",
      "Executable(jit_g) got a parameter buffer for parameter 1 in an "
      "unexpected memory space 'pinned_host'",
  };
  std::string text;
  const int n = *rc::gen::inRange(1, 30);
  for (int i = 0; i < n; ++i) {
    text += pieces[*rc::gen::inRange<size_t>(0, pieces.size())];
  }
  auto fingerprint = [](const std::vector<ScannedMessage>& ms) {
    std::string out;
    for (const ScannedMessage& m : ms) {
      absl::StrAppend(&out, m.offset, ":", m.line, ":", m.text, "|",
                      m.replica.value_or(-1), "\n");
    }
    return out;
  };
  const std::string whole = fingerprint(ScanText(text));
  std::vector<ScannedMessage> split;
  LogScanner scanner([&](ScannedMessage m) { split.push_back(m); });
  size_t pos = 0;
  while (pos < text.size()) {
    size_t len = *rc::gen::inRange<size_t>(1, 64);
    scanner.Feed(absl::string_view(text).substr(pos, len));
    pos += len;
  }
  scanner.Finish();
  RC_ASSERT(fingerprint(split) == whole);
}

}  // namespace
}  // namespace xlayout
