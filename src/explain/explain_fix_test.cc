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
#include "xlayout/layout.h"
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

// The bytes of `logical` (untiled, row-major) laid out as `shape`.
std::vector<uint8_t> Place(const Shape& shape, const std::vector<uint8_t>& in) {
  Shape row_major = shape;
  row_major.set_layout(DefaultLayout(shape.rank()));
  std::vector<uint8_t> out(*XlaBytes(shape));
  EXPECT_TRUE(Relayout(row_major, shape, in, absl::MakeSpan(out)).ok());
  return out;
}

// Runs the single fix of `d` on a device buffer whose real layout is
// `actual` and checks that the program receives its data in `expected`.
void ExpectFixKeepsData(const Diagnosis& d, const std::string& actual,
                        const std::string& expected) {
  ASSERT_EQ(d.fix_commands.size(), 1u);
  absl::StatusOr<Shape> real_in = ParseShape(actual);
  absl::StatusOr<Shape> want = ParseShape(expected);
  ASSERT_TRUE(real_in.ok() && want.ok());
  std::vector<uint8_t> logical(*LogicalBytes(*real_in));
  for (size_t i = 0; i < logical.size(); ++i) {
    logical[i] = static_cast<uint8_t>(i * 7 + i / 251);
  }
  const std::vector<uint8_t> buffer = Place(*real_in, logical);
  ASSERT_EQ(static_cast<int64_t>(buffer.size()), d.actual.printed_bytes);
  absl::StatusOr<Shape> from = ParseShape(Arg(d.fix_commands[0], "--shape"));
  absl::StatusOr<Layout> to_layout =
      ParseLayout(Arg(d.fix_commands[0], "--to"));
  ASSERT_TRUE(from.ok() && to_layout.ok());
  Shape to = *from;
  to.set_layout(*to_layout);
  std::vector<uint8_t> out(*XlaBytes(to));
  ASSERT_TRUE(Relayout(*from, to, buffer, absl::MakeSpan(out)).ok());
  EXPECT_TRUE(out == Place(*want, logical))
      << d.fix_commands[0] << " permutes the data of a " << actual << " buffer";
}

// User trial, defect 1: the runtime printed both shapes without their
// tiling. The actual size 1,638,400 = 16*40*1280*2 fits untiled storage
// and also {1,2,0:T(8,128)(2,1)} (dim 1: 1280, a multiple of 128; dim 2:
// 40, a multiple of 8), the tiling the expected size 5,242,880 =
// 16*1280*128*2 needs. The command used to read the buffer as untiled and
// so permuted the data of the real (tiled) buffer.
TEST(ExplainFixTest, OmittedTilingOfTheBufferIsInferredNotAssumedUntiled) {
  Diagnosis d = Diagnose(ScanText(
      "Executable(jit_s) expected parameter 2482 of size 5242880 "
      "(bf16[16,1280,40]{2,1,0}) but got buffer with incompatible size "
      "1638400 (bf16[16,1280,40]{1,2,0})")[0]);
  EXPECT_EQ(d.classification, Classification::kLayout);
  EXPECT_THAT(
      d.fix_commands,
      testing::ElementsAre("xlayout relayout --shape "
                           "'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' --to "
                           "'{2,1,0:T(8,128)(2,1)}' IN OUT"));
  EXPECT_THAT(d.details,
              testing::Contains("tiling T(8,128)(2,1) on both sides (the "
                                "actual side's inferred from its printed "
                                "size)"));
  EXPECT_THAT(
      d.details,
      testing::Not(testing::Contains(testing::HasSubstr("tiling changed"))));
  EXPECT_THAT(
      d.details,
      testing::Contains(
          "the actual shape bf16[16,1280,40]{1,2,0} is printed without a "
          "tiling; its printed 1,638,400 bytes fit untiled storage, and also "
          "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)} with the other side's "
          "tiling, which a TPU buffer has: taken as that (inferred); 3 other "
          "tiling(s) fit too"));
  EXPECT_THAT(d.next_steps, testing::Contains(testing::HasSubstr(
                                "The layout in the command was inferred")));
  ASSERT_EQ(d.actual.inferred_layouts.size(), 5u);
  EXPECT_EQ(d.actual.inferred_layouts.front().shape,
            "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  EXPECT_EQ(d.actual.inferred_layouts.back().shape, "bf16[16,1280,40]{1,2,0}");
  // The expected side's printed shape needs 1,638,400 bytes, not 5,242,880.
  EXPECT_FALSE(d.consistent);
  EXPECT_THAT(RunFixes(d), testing::IsEmpty());
  ExpectFixKeepsData(d, "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}",
                     "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");

  Finding f;
  f.diagnosis = d;
  f.count = 1;
  nlohmann::ordered_json j = FindingToJson(f);
  EXPECT_EQ(j["actual"]["recomputed_bytes"], 1638400);
  EXPECT_EQ(j["actual"]["inferred_layouts"][0]["shape"],
            "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  EXPECT_EQ(j["actual"]["inferred_layouts"][4]["rule"],
            "untiled, as printed (the logical size, as on CPU/GPU)");
}

// The same with f32[1280,40]: {1,0:T(8,128)} is 1280*128*4 = 655,360; {0,1}
// is 40*1280*4 = 204,800 untiled and under T(8,128) (1280 is a multiple of
// 128, 40 of 8).
TEST(ExplainFixTest, OmittedTilingF32) {
  Diagnosis d = Diagnose(ScanText(
      "Executable(jit_t) expected parameter 1 of size 655360 "
      "(f32[1280,40]{1,0}) but got buffer with incompatible size 204800 "
      "(f32[1280,40]{0,1})")[0]);
  EXPECT_THAT(d.fix_commands,
              testing::ElementsAre("xlayout relayout --shape "
                                   "'f32[1280,40]{0,1:T(8,128)}' --to "
                                   "'{1,0:T(8,128)}' IN OUT"));
  EXPECT_THAT(d.details,
              testing::Contains("tiling T(8,128) on both sides (the actual "
                                "side's inferred from its printed size)"));
  ExpectFixKeepsData(d, "f32[1280,40]{0,1:T(8,128)}",
                     "f32[1280,40]{1,0:T(8,128)}");

  // The other direction: the expected side is printed untiled and fits
  // untiled storage; the buffer's printed tiling fits it too.
  d = Diagnose(ScanText(
      "Executable(jit_t) expected parameter 1 of size 204800 "
      "(f32[1280,40]{0,1}) but got buffer with incompatible size 655360 "
      "(f32[1280,40]{1,0:T(8,128)})")[0]);
  EXPECT_THAT(d.fix_commands,
              testing::ElementsAre("xlayout relayout --shape "
                                   "'f32[1280,40]{1,0:T(8,128)}' --to "
                                   "'{0,1:T(8,128)}' IN OUT"));
  EXPECT_THAT(d.details,
              testing::Contains("tiling T(8,128) on both sides (the expected "
                                "side's inferred from its printed size)"));
  ExpectFixKeepsData(d, "f32[1280,40]{1,0:T(8,128)}",
                     "f32[1280,40]{0,1:T(8,128)}");
}

// f32[1280,36]: the expected size 655,360 = 1280*128*4 needs a tiling
// (T(8,128) first). The actual {0,1} is 36*1280*4 = 184,320 untiled and
// under T(4,128), T(2,128), T(1,128) (36 is a multiple of 4), but 40*1280*4
// = 204,800 under T(8,128): the buffer's layout is unknown, so no command.
TEST(ExplainFixTest, NoRunnableCommandWhenTheBufferTilingIsUnknown) {
  Diagnosis d = Diagnose(ScanText(
      "Executable(jit_u) expected parameter 1 of size 655360 "
      "(f32[1280,36]{1,0}) but got buffer with incompatible size 184320 "
      "(f32[1280,36]{0,1})")[0]);
  EXPECT_EQ(d.classification, Classification::kLayout);
  EXPECT_THAT(d.fix_commands, testing::IsEmpty());
  EXPECT_THAT(
      d.details,
      testing::Not(testing::Contains(testing::HasSubstr("tiling changed"))));
  EXPECT_THAT(d.details,
              testing::Contains(
                  "tiling: T(8,128) on the expected side; the actual side's "
                  "tiling is unknown: the message leaves it out and its "
                  "printed size fits 4 layouts (untiled storage and other "
                  "tilings), not the expected side's"));
  EXPECT_THAT(d.next_steps,
              testing::Contains(
                  "No relayout command: the actual side's tiling is unknown "
                  "(its printed size fits every layout listed for it above); "
                  "confirm it first from the HLO dump (--xla_dump_to) or, in "
                  "JAX, the array's format (x.format), then run xlayout "
                  "relayout --shape 'f32[1280,36]{0,1:<TILING>}' --to "
                  "'{1,0:T(8,128)}' IN OUT with <TILING> replaced by the "
                  "confirmed tiling; a wrong tiling permutes the data without "
                  "an error"));
  std::vector<std::string> shapes;
  for (const InferredLayout& l : d.actual.inferred_layouts) {
    shapes.push_back(l.shape);
  }
  EXPECT_THAT(shapes, testing::ElementsAre("f32[1280,36]{0,1:T(2,128)}",
                                           "f32[1280,36]{0,1:T(4,128)}",
                                           "f32[1280,36]{0,1:T(1,128)}",
                                           "f32[1280,36]{0,1}"));
  // JAX knows the array's layout: its conversion stays safe.
  EXPECT_EQ(d.jax_fix,
            "jax.device_put(x, Format(Layout(major_to_minor=(0, 1), "
            "tiling=((8, 128),)), x.sharding))");

  // The expected side unknown: neither command nor JAX statement.
  d = Diagnose(ScanText(
      "Executable(jit_u) expected parameter 1 of size 184320 "
      "(f32[1280,36]{0,1}) but got buffer with incompatible size 655360 "
      "(f32[1280,36]{1,0:T(8,128)})")[0]);
  EXPECT_THAT(d.fix_commands, testing::IsEmpty());
  EXPECT_EQ(d.jax_fix, "");
  EXPECT_THAT(d.next_steps, testing::Contains(testing::HasSubstr(
                                "--shape 'f32[1280,36]{1,0:T(8,128)}' --to "
                                "'{0,1:<TILING>}' IN OUT")));
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
