// Issue 10.6: every relayout command `explain` prints must work on buffers
// of the sizes the message printed. Runs each fix through the relayout
// library: the corpus, the docs' examples, and random mismatches whose
// sizes come from TPU tilings that the message leaves out.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "xlayout/explain.h"
#include "xlayout/log_scanner.h"
#include "xlayout/relayout.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"

namespace xlayout {
namespace {

// The quoted argument after `flag` in a fix command.
std::string Arg(const std::string& command, const std::string& flag) {
  size_t at = command.find(flag + " '");
  if (at == std::string::npos) return "";
  at += flag.size() + 2;
  return command.substr(at, command.find('\'', at) - at);
}

// Runs every fix of `d` on buffers of the printed sizes; returns the
// failures, one line each.
std::vector<std::string> RunFixes(const Diagnosis& d) {
  std::vector<std::string> failures;
  for (const std::string& fix : d.fix_commands) {
    absl::StatusOr<Shape> from = ParseShape(Arg(fix, "--shape"));
    absl::StatusOr<Layout> to_layout = ParseLayout(Arg(fix, "--to"));
    if (!from.ok() || !to_layout.ok()) {
      failures.push_back(absl::StrCat(fix, ": does not parse"));
      continue;
    }
    Shape to = *from;
    to.set_layout(*to_layout);
    absl::StatusOr<int64_t> in_bytes = XlaBytes(*from);
    absl::StatusOr<int64_t> out_bytes = XlaBytes(to);
    if (!in_bytes.ok() || !out_bytes.ok()) {
      failures.push_back(absl::StrCat(fix, ": no size"));
      continue;
    }
    // A buffer of the printed size (the printed shape's size when the
    // message printed none).
    std::vector<uint8_t> in(d.actual.printed_bytes.value_or(*in_bytes), 0x5a);
    std::vector<uint8_t> out(d.expected.printed_bytes.value_or(*out_bytes));
    absl::Status s = Relayout(*from, to, in, absl::MakeSpan(out));
    if (!s.ok()) failures.push_back(absl::StrCat(fix, ": ", s.message()));
  }
  return failures;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ExplainFixTest, CorpusFixesRunOnPrintedSizes) {
  const std::string corpus =
      ReadFile(XLAYOUT_TESTDATA_DIR "/explain/corpus.txt");
  ASSERT_FALSE(corpus.empty());
  int fixes = 0;
  for (const ScannedMessage& m : ScanText(corpus)) {
    Diagnosis d = Diagnose(m);
    fixes += static_cast<int>(d.fix_commands.size());
    EXPECT_THAT(RunFixes(d), testing::IsEmpty()) << m.text;
  }
  EXPECT_GE(fixes, 5);
}

// The families of issue 13 (TPUExecute, PJRT, JAX): every relayout command
// runs, and the JAX statement next to it asks for the same layout as its
// --to (read back through the JAX repr reader).
TEST(ExplainFixTest, FamiliesFixesRunAndJaxFixesAgree) {
  const std::string corpus =
      ReadFile(XLAYOUT_TESTDATA_DIR "/explain/families.txt");
  ASSERT_FALSE(corpus.empty());
  int fixes = 0, jax_fixes = 0;
  for (const ScannedMessage& m : ScanText(corpus)) {
    Diagnosis d = Diagnose(m);
    fixes += static_cast<int>(d.fix_commands.size());
    EXPECT_THAT(RunFixes(d), testing::IsEmpty()) << m.text;
    if (d.jax_fix.empty()) continue;
    ++jax_fixes;
    ASSERT_EQ(d.fix_commands.size(), 1u) << m.text;
    const std::string prefix = "jax.device_put(x, Format(";
    const size_t end = d.jax_fix.rfind(", x.sharding");
    ASSERT_TRUE(absl::StartsWith(d.jax_fix, prefix) && end != std::string::npos)
        << d.jax_fix;
    absl::StatusOr<Layout> jax =
        ParseJaxLayout(d.jax_fix.substr(prefix.size(), end - prefix.size()));
    ASSERT_TRUE(jax.ok()) << d.jax_fix << ": " << jax.status();
    absl::StatusOr<Layout> to = ParseLayout(Arg(d.fix_commands[0], "--to"));
    ASSERT_TRUE(to.ok());
    EXPECT_EQ(*jax, *to) << d.jax_fix << " vs " << d.fix_commands[0];
  }
  EXPECT_GE(fixes, 8);
  EXPECT_EQ(jax_fixes, fixes);
}

TEST(ExplainFixTest, SubTileThatPadsIsNotInferred) {
  // docs/explain.md's example: the actual side printed 12,288 bytes fits
  // bf16 T(1,128) by XLA's size, but with the (2,1) sub-tile the layout
  // needs 24,576 bytes; the fix used to fail on the printed buffer.
  Diagnosis d = Diagnose(ScanText(
      "Executable(jit_attn) expected parameter 9 of size 16384 "
      "(bf16[8,3,200]{2,1,0}) but got buffer with incompatible size 12288 "
      "(bf16[8,3,200]{2,1,0})")[0]);
  ASSERT_EQ(d.fix_commands.size(), 1u);
  EXPECT_EQ(d.fix_commands[0],
            "xlayout relayout --shape 'bf16[8,3,200]{2,1,0:T(1,128)}' --to "
            "'{2,1,0:T(4,128)(2,1)}' IN OUT");
  EXPECT_THAT(RunFixes(d), testing::IsEmpty());
  ASSERT_FALSE(d.actual.inferred_layouts.empty());
  EXPECT_THAT(d.actual.inferred_layouts[0].rule,
              testing::HasSubstr("without the sub-tile (2,1)"));

  // The other direction: the fix wrote 24,576 bytes where the program
  // expects 12,288.
  d = Diagnose(ScanText(
      "Executable(jit_attn) expected parameter 9 of size 12288 "
      "(bf16[8,3,200]{2,1,0}) but got buffer with incompatible size 16384 "
      "(bf16[8,3,200]{2,1,0:T(4,128)(2,1)})")[0]);
  ASSERT_EQ(d.fix_commands.size(), 1u);
  EXPECT_EQ(d.fix_commands[0],
            "xlayout relayout --shape 'bf16[8,3,200]{2,1,0:T(4,128)(2,1)}' "
            "--to '{2,1,0:T(1,128)}' IN OUT");
  EXPECT_THAT(RunFixes(d), testing::IsEmpty());
}

TEST(ExplainFixTest, NoFixWhenAPrintedSizeFitsNoConvertibleLayout) {
  // A printed tiled layout whose sub-tile pads: XLA's size is printed, the
  // layout needs twice that; no command can work on this buffer.
  Diagnosis d = Diagnose(ScanText(
      "Executable(jit_attn) expected parameter 9 of size 16384 "
      "(bf16[8,3,200]{2,1,0:T(4,128)(2,1)}) but got buffer with incompatible "
      "size 12288 (bf16[8,3,200]{2,1,0:T(1,128)(2,1)})")[0]);
  EXPECT_EQ(d.classification, Classification::kLayout);
  EXPECT_THAT(d.fix_commands, testing::IsEmpty());
  EXPECT_THAT(d.next_steps,
              testing::Contains(testing::HasSubstr("No relayout command")));
}

// Random 2-D/3-D mismatches: each side printed without its layout, with the
// size of a TPU tiling; whatever explain infers, its fix must run.
RC_GTEST_PROP(ExplainFixTest, InferredFixesRunOnPrintedSizes, ()) {
  const auto type = *rc::gen::element(std::string("bf16"), std::string("f32"),
                                      std::string("u8"), std::string("s8"));
  const int rank = *rc::gen::inRange(2, 4);
  std::string dims;
  for (int i = 0; i < rank; ++i) {
    absl::StrAppend(&dims, i ? "," : "", *rc::gen::inRange(1, 40));
  }
  std::string m2m;
  for (int i = rank - 1; i >= 0; --i) {
    absl::StrAppend(&m2m, i == rank - 1 ? "" : ",", i);
  }
  const auto tile = [&] {
    return *rc::gen::element(std::string("T(8,128)"), std::string("T(4,128)"),
                             std::string("T(2,128)"), std::string("T(1,128)"));
  };
  const std::string plain = absl::StrCat(type, "[", dims, "]{", m2m, "}");
  absl::StatusOr<Shape> e =
      ParseShape(absl::StrCat(type, "[", dims, "]{", m2m, ":", tile(), "}"));
  absl::StatusOr<Shape> a =
      ParseShape(absl::StrCat(type, "[", dims, "]{", m2m, ":", tile(), "}"));
  RC_ASSERT(e.ok() && a.ok());
  const std::string message = absl::StrCat(
      "Executable(jit_p) expected parameter 0 of size ", *XlaBytes(*e), " (",
      plain, ") but got buffer with incompatible size ", *XlaBytes(*a), " (",
      plain, ")");
  std::vector<ScannedMessage> found = ScanText(message);
  RC_ASSERT(found.size() == 1u);
  Diagnosis d = Diagnose(found[0]);
  std::vector<std::string> failures = RunFixes(d);
  RC_ASSERT(failures.empty());
}

}  // namespace
}  // namespace xlayout
