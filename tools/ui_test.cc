#include "ui.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace xlayout::cli {
namespace {

// WithCommas and HumanBytes are tested with the library (format_test).

TEST(UiTest, JsonEnvelopeComesFirst) {
  nlohmann::ordered_json j = JsonEnvelope("size");
  j["shapes"] = nlohmann::ordered_json::array();
  EXPECT_EQ(j.dump(),
            R"({"schema":"xlayout.v1","command":"size","shapes":[]})");
}

TEST(UiTest, JsonInputsAreObjects) {
  EXPECT_EQ(JsonTextInput("f32[2]").dump(), R"({"text":"f32[2]"})");
  EXPECT_EQ(JsonFileInput("a.log").dump(), R"({"file":"a.log"})");
  EXPECT_EQ(JsonFileInput("a.log", 7).dump(), R"({"file":"a.log","line":7})");
  EXPECT_EQ(
      JsonErrorItem(JsonFileInput("x"), absl::NotFoundError("x: no such file"))
          .dump(),
      R"({"input":{"file":"x"},"code":"NOT_FOUND","message":"x: no such file"})");
}

TEST(UiTest, StyleIsPlainWhenDisabled) {
  EXPECT_EQ(Style(false).Red("x"), "x");
  EXPECT_EQ(Style(true).Red("x"), "\x1b[31mx\x1b[0m");
  EXPECT_EQ(DisplayWidth(Style(true).Bold("abc")), 3u);
  EXPECT_EQ(DisplayWidth("3.20×"), 5u);
}

TEST(UiTest, TableAlignsColumns) {
  Table t({"dim", "extent"}, {false, true});
  t.AddRow({"0", "16"});
  t.AddRow({"12", "1,280"});
  EXPECT_EQ(t.Render(), "dim  extent\n0        16\n12    1,280\n");
}

// Regression (user trial): tensor names in CJK took two columns each on a
// terminal but were padded as one, so the table's columns drifted.
TEST(UiTest, DisplayWidthCountsTerminalColumns) {
  EXPECT_EQ(DisplayWidth("\u5d4c\u5165"), 4u);  // Two CJK ideographs.
  EXPECT_EQ(DisplayWidth("\uac00\uff21"), 4u);  // Hangul, fullwidth A.
  EXPECT_EQ(DisplayWidth("e\u0301"), 1u);       // e + combining acute.
  EXPECT_EQ(DisplayWidth("a\U0001f600b"), 4u);  // An emoji is wide.
  EXPECT_EQ(DisplayWidth("\x1b[1m\u5d4c\x1b[0mx"), 3u);
  Table t({"name", "bytes"}, {false, true});
  t.AddRow({"\u5d4c\u5165", "16"});
  t.AddRow({"embed", "1,280"});
  EXPECT_EQ(t.Render(), "name   bytes\n\u5d4c\u5165      16\nembed  1,280\n");
}

TEST(UiTest, EditDistance) {
  EXPECT_EQ(EditDistance("", "size"), 4u);
  EXPECT_EQ(EditDistance("szie", "size"), 2u);
  EXPECT_EQ(EditDistance("explian", "explain"), 2u);
  EXPECT_EQ(EditDistance("relayout", "relayout"), 0u);
}

TEST(UiTest, ClosestMatchSuggestsLikelyTypos) {
  const std::vector<std::string> commands = {"size", "relayout", "signature",
                                             "explain", "help"};
  EXPECT_EQ(ClosestMatch("sise", commands), "size");
  EXPECT_EQ(ClosestMatch("explian", commands), "explain");
  EXPECT_EQ(ClosestMatch("relay", commands), "relayout");
  EXPECT_EQ(ClosestMatch("sig", commands), "signature");
  EXPECT_EQ(ClosestMatch("bogus", commands), "");
  EXPECT_EQ(ClosestMatch("checkpointing", commands), "");
}

TEST(UiTest, NoColorDisablesColor) {
  setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(ColorEnabled(stdout));
  unsetenv("NO_COLOR");
}

TEST(UiTest, FlushOutputSucceedsWhenEverythingIsWritten) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  std::ostringstream os;
  std::fputs("report\n", f);
  os << "help\n";
  EXPECT_TRUE(FlushOutput(f, os).ok());
  std::fclose(f);
}

TEST(UiTest, FlushOutputReportsAFullDevice) {
  FILE* f = std::fopen("/dev/full", "w");
  if (f == nullptr) GTEST_SKIP() << "no /dev/full";
  std::ostringstream os;
  std::fputs("report\n", f);  // Buffered: fails only when flushed.
  const absl::Status s = FlushOutput(f, os);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "cannot write standard output: No space left on device");
  std::fclose(f);
}

TEST(UiTest, FlushOutputReportsAFailedStream) {
  std::ofstream os("/dev/full");
  if (!os.is_open()) GTEST_SKIP() << "no /dev/full";
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  os << "help\n";
  const absl::Status s = FlushOutput(f, os);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "cannot write standard output: No space left on device");
  std::fclose(f);
}

TEST(UiTest, FlushOutputReportsAnEarlierFailedWrite) {
  // Unbuffered: the write fails at once and leaves only the error flag.
  FILE* f = std::fopen("/dev/full", "w");
  if (f == nullptr) GTEST_SKIP() << "no /dev/full";
  std::setvbuf(f, nullptr, _IONBF, 0);
  std::fputs("report\n", f);
  std::ostringstream os;
  const absl::Status s = FlushOutput(f, os);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "cannot write standard output: No space left on device");
  std::fclose(f);
}

TEST(UiTest, StdoutExitCodeIsTwoWhateverTheCommandFound) {
  const absl::Status full = absl::ResourceExhaustedError(
      "cannot write standard output: No space left on device");
  std::string message;
  EXPECT_EQ(StdoutExitCode(kExitFindings, absl::OkStatus(), "check", &message),
            kExitFindings);
  EXPECT_EQ(message, "");
  EXPECT_EQ(StdoutExitCode(kExitFindings, full, "check", &message), kExitError);
  EXPECT_EQ(message,
            "check: cannot write standard output: No space left on device");
  EXPECT_EQ(StdoutExitCode(kExitOk, full, "", &message), kExitError);
  EXPECT_EQ(message, "cannot write standard output: No space left on device");
  NoteOutputWritten("r6");
  EXPECT_EQ(StdoutExitCode(kExitOk, full, "relayout", &message), kExitError);
  EXPECT_EQ(message,
            "relayout: wrote 'r6', but cannot print the report: standard "
            "output: No space left on device");
  NoteOutputWritten("");
}

}  // namespace
}  // namespace xlayout::cli
