#include "xlayout/explain.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "testing/parse.h"
#include "xlayout/log_scanner.h"
#include "xlayout/runtime_messages.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kDocsSample[] =
    "XlaRuntimeError: INVALID_ARGUMENT: "
    "Executable(jit_embedding_pipeline_step_fn) expected parameter 2482 of "
    "size 5242880 (bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) but got buffer with "
    "incompatible size 1638400 (bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}): while "
    "running replica 0 and partition 0 of a replicated computation (other "
    "replicas may have failed as well).";

constexpr auto P = test_util::ParseOrFail;

Diagnosis DiagnoseText(absl::string_view text) {
  std::vector<ScannedMessage> m = ScanText(text);
  EXPECT_EQ(m.size(), 1u) << text;
  return m.empty() ? Diagnosis() : Diagnose(m[0]);
}

TEST(ExplainTest, DocsSample) {
  Diagnosis d = DiagnoseText(kDocsSample);
  EXPECT_EQ(d.classification, Classification::kLayout);
  EXPECT_EQ(d.summary, "same logical shape, different physical layout");
  EXPECT_TRUE(d.consistent);
  EXPECT_EQ(d.expected.recomputed_bytes, 5242880);
  EXPECT_EQ(d.actual.recomputed_bytes, 1638400);
  EXPECT_THAT(d.details,
              testing::Contains("dim 2 (40) is minor-most on the expected side "
                                "and padded to 128 (3.2×)"));
  EXPECT_THAT(d.fix_commands,
              ElementsAre("xlayout relayout --shape "
                          "'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' --to "
                          "'{2,1,0:T(8,128)(2,1)}' IN OUT"));
  EXPECT_EQ(d.causes.size(), 2u);
}

TEST(InferLayoutsTest, SmallTileRankedFirst) {
  // bf16[8,3,200]: T(4,128): 8*4*256*2 = 16384; T(2,128) also rounds 3 to 4.
  std::vector<InferredLayout> c =
      InferLayouts(P("bf16[8,3,200]{2,1,0}"), 16384);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].shape, "bf16[8,3,200]{2,1,0:T(4,128)(2,1)}");
  EXPECT_THAT(c[0].rule, HasSubstr("(3–4)"));
  EXPECT_THAT(c[0].rule, HasSubstr("(2,1)"));
  EXPECT_EQ(c[1].shape, "bf16[8,3,200]{2,1,0:T(2,128)(2,1)}");
}

TEST(InferLayoutsTest, KeepsMinorToMajor) {
  // f32[300,8]{0,1}: the tile pads dim 0 (minor-most here) 300 -> 384 and
  // keeps dim 1 (8): 384*8*4 bytes; the printed {0,1} order is kept.
  std::vector<InferredLayout> c =
      InferLayouts(P("f32[300,8]{0,1}"), 384 * 8 * 4);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].shape, "f32[300,8]{0,1:T(8,128)}");
}

TEST(InferLayoutsTest, ScalarAndRank1) {
  EXPECT_THAT(
      InferLayouts(P("f32[]"), 1024),
      ElementsAre(testing::Field(&InferredLayout::shape, "f32[]{:T(256)}")));
  EXPECT_EQ(InferLayouts(P("s32[]"), 512)[0].shape, "s32[]{:T(128)}");
  EXPECT_EQ(InferLayouts(P("f32[1000]"), 4096).size(), 4u);
  EXPECT_THAT(InferLayouts(P("f32[10,10]"), 1000), IsEmpty());
}

TEST(InferLayoutsTest, EightBitGetsFourOneSubTile) {
  std::vector<InferredLayout> c = InferLayouts(P("s8[16,100]{1,0}"), 16 * 128);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].shape, "s8[16,100]{1,0:T(8,128)(4,1)}");
}

// Every candidate really reproduces the size it was inferred for.
RC_GTEST_PROP(InferLayoutsProp, CandidatesReproduceSize, ()) {
  const int rank = *rc::gen::inRange(0, 4);
  std::vector<int64_t> dims;
  for (int i = 0; i < rank; ++i) dims.push_back(*rc::gen::inRange(1, 300));
  const auto type = *rc::gen::element(PrimitiveType::kF32, PrimitiveType::kBF16,
                                      PrimitiveType::kS8, PrimitiveType::kPred);
  Shape s = Shape::MakeArray(type, dims, DefaultLayout(rank));
  const int64_t target = *rc::gen::inRange<int64_t>(1, 1 << 22);
  for (const InferredLayout& l : InferLayouts(s, target)) {
    absl::StatusOr<Shape> c = ParseShape(l.shape);
    RC_ASSERT(c.ok());
    RC_ASSERT(*XlaBytes(*c) == target);
    RC_ASSERT(c->layout().minor_to_major() == s.layout().minor_to_major());
  }
}

// The runtime guard's record and the message it prints explain the same way.
// The record may add what only it knows: the shapes a message leaves out
// and the expected memory kind (Explain used to print the record and parse
// it again, dropping both).
void ExpectSameDiagnosis(const MismatchRecord& r) {
  Diagnosis from_record = Explain(r);
  Diagnosis from_text = DiagnoseText(r.message);
  EXPECT_EQ(from_record.kind, from_text.kind);
  // The buffer-count message prints no program name; the record has one.
  if (!from_text.program.empty()) {
    EXPECT_EQ(from_record.program, from_text.program);
  }
  EXPECT_EQ(from_record.parameter, from_text.parameter);
  EXPECT_EQ(from_record.classification, from_text.classification);
  EXPECT_EQ(from_record.consistent, from_text.consistent);
  EXPECT_EQ(from_record.summary, from_text.summary);
  std::vector<std::string> details = from_record.details;
  if (r.reason == MismatchReason::kMemorySpace &&
      !r.expected_memory_kind.empty()) {
    const std::string kinds =
        absl::StrCat("memory kind: expected '", r.expected_memory_kind,
                     "', got '", r.actual_memory_kind, "'");
    auto it = std::find(details.begin(), details.end(), kinds);
    ASSERT_NE(it, details.end()) << "the record's expected kind is lost";
    details.erase(it);
  }
  EXPECT_EQ(details, from_text.details);
  EXPECT_EQ(from_record.causes, from_text.causes);
  EXPECT_EQ(from_record.next_steps, from_text.next_steps);
  EXPECT_EQ(from_record.fix_commands, from_text.fix_commands);
  if (!from_text.expected.shape.empty() || !r.expected) {
    EXPECT_EQ(from_record.expected.shape, from_text.expected.shape);
  } else {
    EXPECT_EQ(from_record.expected.shape, r.expected->ToString(true));
  }
  if (!from_text.actual.shape.empty() || !r.actual) {
    EXPECT_EQ(from_record.actual.shape, from_text.actual.shape);
    EXPECT_EQ(from_record.actual.recomputed_bytes,
              from_text.actual.recomputed_bytes);
  } else {
    EXPECT_EQ(from_record.actual.shape, r.actual->ToString(true));
  }
  if (from_text.expected.printed_bytes ||
      r.reason == MismatchReason::kBufferCount || r.expected_bytes < 0) {
    EXPECT_EQ(from_record.expected.printed_bytes,
              from_text.expected.printed_bytes);
  } else {
    EXPECT_EQ(from_record.expected.printed_bytes, r.expected_bytes);
  }
  EXPECT_EQ(from_record.expected_value, from_text.expected_value);
  EXPECT_EQ(from_record.actual_value, from_text.actual_value);
}

TEST(MismatchFactTest, FromMessage) {
  ScannedMessage m = ScanText(
      "noise\nExecutable(jit_f) expected parameter 2 of size 24 "
      "(f32[2,3]) but got buffer with incompatible size 4096 "
      "(f32[2,3]{1,0:T(8,128)}): while running replica 1 and partition 0 of "
      "a replicated computation")[0];
  MismatchFact f = FactFromMessage(m, "run.log");
  EXPECT_EQ(f.kind, MessageKind::kSize);
  EXPECT_EQ(f.program, "jit_f");
  EXPECT_EQ(f.parameter, 2);
  EXPECT_EQ(f.source_file, "run.log");
  EXPECT_EQ(f.source_line, 2);
  EXPECT_EQ(f.replica, 1);
  EXPECT_EQ(f.partition, 0);
  ASSERT_TRUE(f.expected.shape.has_value());
  EXPECT_FALSE(f.expected.shape->has_layout());  // None printed, none filled.
  EXPECT_FALSE(f.expected.layout_printed);
  ASSERT_TRUE(f.actual.shape.has_value());
  EXPECT_TRUE(f.actual.layout_printed);
  EXPECT_EQ(f.expected.bytes, 24);
  EXPECT_EQ(f.actual.bytes, 4096);
  // Diagnose(fact) is what Diagnose(message) says.
  EXPECT_EQ(Diagnose(f).details, Diagnose(m).details);

  MismatchFact bad = FactFromMessage(
      ScanText("Executable(jit_f) expected parameter 2 of size 24 "
               "(f32[2,3]{5,0}) but got buffer with incompatible size 4 "
               "(q99[1])")[0]);
  EXPECT_TRUE(bad.expected.shape.has_value());  // Parses; validation later.
  EXPECT_FALSE(bad.actual.shape.has_value());
  EXPECT_EQ(bad.actual.shape_text, "q99[1]");
  EXPECT_THAT(bad.actual.shape_error, HasSubstr("unknown element type"));
}

TEST(ExplainRecordTest, RecordKeepsMemoryKindsShapesAndCounts) {
  MismatchRecord r;
  r.reason = MismatchReason::kMemorySpace;
  r.program = "jit_f";
  r.parameter = 3;
  r.expected = P("f32[8,128]{1,0:T(8,128)}");
  r.actual = P("f32[8,128]{1,0:T(8,128)S(5)}");
  r.expected_memory_kind = "device";
  r.actual_memory_kind = "unpinned_host";  // No S(n) says this.
  r.message = MemorySpaceMessage(r.program, r.parameter, "unpinned_host");
  Diagnosis d = Explain(r);
  EXPECT_EQ(d.expected.memory_kind, "device");
  EXPECT_EQ(d.actual.memory_kind, "unpinned_host");
  EXPECT_EQ(d.actual.shape, "f32[8,128]{1,0:T(8,128)S(5)}");
  EXPECT_EQ(d.expected.element_type, "f32");
  EXPECT_THAT(
      d.details,
      testing::Contains("memory kind: expected 'device', got 'unpinned_host'"));
  // The message alone knows only the buffer's kind.
  Diagnosis t = DiagnoseText(r.message);
  EXPECT_EQ(t.expected.memory_kind, "");
  EXPECT_EQ(t.actual.memory_kind, "unpinned_host");

  MismatchFact f = FactFromRecord(r);
  EXPECT_EQ(f.kind, MessageKind::kMemorySpace);
  ASSERT_TRUE(f.actual.shape.has_value());
  EXPECT_EQ(f.actual.shape->layout().memory_space(), 5);
  EXPECT_EQ(f.expected.memory_kind, "device");

  MismatchRecord c;
  c.reason = MismatchReason::kBufferCount;
  c.program = "jit_f";
  c.expected_bytes = 4;
  c.actual_bytes = 3;
  c.message = BufferCountMessage(3, 4);
  Diagnosis dc = Explain(c);
  EXPECT_EQ(dc.expected.buffer_count, 4);
  EXPECT_EQ(dc.actual.buffer_count, 3);
  Diagnosis tc = DiagnoseText(c.message);
  EXPECT_EQ(tc.expected.buffer_count, 4);
  EXPECT_EQ(tc.actual.buffer_count, 3);
}

TEST(ExplainRecordTest, SizeRecordMatchesMessage) {
  MismatchRecord r;
  r.reason = MismatchReason::kSize;
  r.program = "jit_embedding_pipeline_step_fn";
  r.parameter = 2482;
  r.expected = P("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
  r.actual = P("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  r.expected_bytes = 5242880;
  r.actual_bytes = 1638400;
  r.message = std::string(kDocsSample).substr(35);  // From "Executable(".
  ExpectSameDiagnosis(r);
  EXPECT_EQ(Explain(r).replica, 0);
}

// A strict-layout record of two same-size layouts.
MismatchRecord StrictRecord(const std::string& program, int64_t parameter,
                            const std::string& expected,
                            const std::string& actual, int64_t bytes) {
  MismatchRecord r;
  r.reason = MismatchReason::kStrictLayout;
  r.program = program;
  r.parameter = parameter;
  r.expected = P(expected);
  r.actual = P(actual);
  r.expected_bytes = r.actual_bytes = bytes;
  return r;
}

TEST(ExplainRecordTest, StrictLayoutRecord) {
  Diagnosis d = Explain(StrictRecord("jit_f", 1, "f32[512,512]{1,0}",
                                     "f32[512,512]{0,1}", 512 * 512 * 4));
  EXPECT_EQ(d.kind, MessageKind::kStrictLayout);
  EXPECT_EQ(d.classification, Classification::kLayout);
  EXPECT_THAT(d.details, testing::Contains(HasSubstr("same number of bytes")));
  EXPECT_THAT(d.fix_commands,
              ElementsAre("xlayout relayout --shape 'f32[512,512]{0,1}' --to "
                          "'{1,0}' IN OUT"));
}

// A record's shapes are the buffers' whole layouts: an untiled buffer (a
// host-layout checkpoint tensor, as `check` feeds the guard) is untiled, not
// a TPU buffer whose tiling a message left out. Inferring the other side's
// tiling made `check` call these "identical shapes, different sizes" (they
// are neither).
TEST(ExplainRecordTest, UntiledRecordSideIsNotAnOmittedTiling) {
  Diagnosis d = Explain(StrictRecord("jit_g", 2, "f32[16,128]{1,0:T(8,128)}",
                                     "f32[16,128]{1,0}", 16 * 128 * 4));
  EXPECT_EQ(d.actual.shape, "f32[16,128]{1,0}");
  EXPECT_TRUE(d.actual.inferred_layouts.empty());
  EXPECT_NE(d.summary, "identical shapes, different sizes");
  EXPECT_THAT(d.details,
              testing::Not(testing::Contains(HasSubstr("without a tiling"))));
  EXPECT_THAT(d.details,
              testing::Contains(HasSubstr("T(8,128) expected, no tiling got")));
  EXPECT_THAT(d.fix_commands,
              ElementsAre("xlayout relayout --shape 'f32[16,128]{1,0}' --to "
                          "'{1,0:T(8,128)}' IN OUT"));
}

// A buffer in another memory space is moved to the memory the program
// expects, which is not always 'device' (the advice always said 'device').
TEST(ExplainTest, MemorySpaceMoveNamesTheExpectedKind) {
  Diagnosis t = DiagnoseText(
      "Executable(jit_g) expected parameter 1 of size 1024 "
      "(f32[4]{0:T(256)S(5)}) but got buffer with incompatible size 16 "
      "(f32[4]{0})");
  // The tiling differs too: a layout difference that includes the move.
  EXPECT_EQ(t.classification, Classification::kLayout);
  EXPECT_THAT(t.next_steps,
              testing::Contains(HasSubstr("with_memory_kind('pinned_host')")));
}

TEST(ExplainRecordTest, OtherReasonsMatchMessages) {
  MismatchRecord r;
  r.program = "jit_dyn";
  r.parameter = 0;

  r.reason = MismatchReason::kMemorySpace;
  r.expected_memory_kind = "device";
  r.actual_memory_kind = "pinned_host";
  r.message =
      "Executable(jit_dyn) got a parameter buffer for parameter 0 in an "
      "unexpected memory space 'pinned_host'";
  ExpectSameDiagnosis(r);

  r.reason = MismatchReason::kElementType;
  r.expected = P("bf16[<=8,4]{1,0}");
  r.actual = P("f32[<=8,4]{1,0}");
  r.message =
      "Executable(jit_dyn) expected parameter 0 to have element type BF16 but "
      "got buffer with element type F32";
  ExpectSameDiagnosis(r);

  r.reason = MismatchReason::kRank;
  r.actual = P("bf16[<=8,4,2]{2,1,0}");
  r.message =
      "Executable(jit_dyn) expected parameter 0 to have rank 2 but got buffer "
      "with rank 3";
  ExpectSameDiagnosis(r);

  r.reason = MismatchReason::kLayout;
  r.expected = P("f32[<=8,4]{1,0}");
  r.actual = P("f32[<=8,4]{0,1}");
  r.message =
      "Executable(jit_dyn) expected parameter 0 to have layout {1,0} but got "
      "buffer with layout {0,1}";
  ExpectSameDiagnosis(r);

  r.reason = MismatchReason::kDynamicDimension;
  r.dimension = 0;
  r.expected = P("f32[<=8,4]{1,0}");
  r.actual = P("f32[<=10,4]{1,0}");
  r.message =
      "Executable(jit_dyn) expected parameter 0 dimension 0 runtime size <= "
      "8, but got buffer with size 10";
  ExpectSameDiagnosis(r);

  r = MismatchRecord();
  r.reason = MismatchReason::kBufferCount;
  r.program = "jit_dyn";
  r.expected_bytes = 4;
  r.actual_bytes = 3;
  r.message =
      "Execution supplied 3 buffers but compiled program expected 4 buffers";
  ExpectSameDiagnosis(r);
}

// Messages exactly as the runtime guard formats them (runtime_messages.h),
// with the E0102 wrapper and the replica suffix, explain like the records.
TEST(ExplainRecordTest, GuardMessagesExplainLikeRecords) {
  MismatchRecord r;
  r.program = "jit_f";
  r.parameter = 4;
  r.replica = 3;
  r.partition = 1;
  r.expected = P("f32[100,256]{1,0:T(8,128)}");
  r.actual = P("f32[100,256]{0,1:T(8,128)}");
  r.expected_bytes = 104 * 256 * 4;
  r.actual_bytes = 256 * 128 * 4;
  r.reason = MismatchReason::kSize;
  r.message = RenderStatus(absl::InvalidArgumentError(AppendContext(
      WrapE0102(SizeMismatchMessage(r.program, r.parameter, r.expected_bytes,
                                    *r.expected, r.actual_bytes, *r.actual)),
      ReplicaSuffix(r.replica, r.partition))));
  ExpectSameDiagnosis(r);
  Diagnosis d = DiagnoseText(r.message);
  EXPECT_TRUE(d.error_code);
  EXPECT_EQ(d.replica, 3);
  EXPECT_EQ(d.partition, 1);

  r.reason = MismatchReason::kStrictLayout;
  r.expected = P("f32[512,512]{1,0}");
  r.actual = P("f32[512,512]{0,1}");
  r.expected_bytes = r.actual_bytes = 512 * 512 * 4;
  r.message = StrictLayoutMessage(r.program, r.parameter, r.expected_bytes,
                                  *r.expected, *r.actual);
  ExpectSameDiagnosis(r);
  EXPECT_EQ(DiagnoseText(r.message).kind, MessageKind::kStrictLayout);

  r.reason = MismatchReason::kMemorySpace;
  r.actual_memory_kind = "pinned_host";
  r.message = MemorySpaceMessage(r.program, r.parameter, "pinned_host");
  ExpectSameDiagnosis(r);
}

TEST(FindingGrouperTest, GroupsAcrossReplicasAndPartitions) {
  FindingGrouper g;
  for (int replica = 0; replica < 64; ++replica) {
    ScannedMessage m = ScanText(kDocsSample)[0];
    m.replica = replica;
    m.partition = replica % 2;
    g.Add(Diagnose(m), "log", replica + 1);
  }
  ScannedMessage other = ScanText(kDocsSample)[0];
  other.parameter = 7;
  g.Add(Diagnose(other), "log", 100);
  ASSERT_EQ(g.findings().size(), 2u);
  const Finding& f = g.findings()[0];
  EXPECT_EQ(f.count, 64);
  EXPECT_EQ(f.line, 1);
  EXPECT_EQ(FormatRanges(f.replicas), "0–63");
  EXPECT_EQ(FormatRanges(f.partitions), "0–1");
  EXPECT_EQ(g.messages(), 65);
}

TEST(FindingGrouperTest, MessagePathMatchesDiagnosisPath) {
  FindingGrouper by_message, by_diagnosis;
  std::string log;
  for (int replica = 0; replica < 8; ++replica) {
    absl::StrAppend(&log,
                    absl::string_view(kDocsSample)
                        .substr(0, std::string(kDocsSample).find(": while")),
                    ": while running replica ", replica,
                    " and partition 0 of a replicated computation (other "
                    "replicas may have failed as well).\n");
  }
  absl::StrAppend(&log,
                  "Executable expected parameter 1 of size 8 but got buffer "
                  "with incompatible size 4\n");
  for (const ScannedMessage& m : ScanText(log)) {
    by_message.Add(m, "log");
    by_diagnosis.Add(Diagnose(m), "log", m.line);
  }
  ASSERT_EQ(by_message.findings().size(), 2u);
  ASSERT_EQ(by_diagnosis.findings().size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(FindingToJson(by_message.findings()[i]),
              FindingToJson(by_diagnosis.findings()[i]));
    EXPECT_EQ(by_message.findings()[i].line, by_diagnosis.findings()[i].line);
  }
  EXPECT_EQ(by_message.findings()[0].count, 8);
  EXPECT_EQ(FormatRanges(by_message.findings()[0].replicas), "0–7");
  EXPECT_EQ(by_message.messages(), 9);
}

TEST(FormatRangesTest, Ranges) {
  EXPECT_EQ(FormatRanges({}), "");
  EXPECT_EQ(FormatRanges({3}), "3");
  EXPECT_EQ(FormatRanges({0, 2, 3, 4, 5, 9}), "0, 2–5, 9");
  EXPECT_EQ(FormatRanges({1, 2}), "1–2");
}

TEST(FindingToJsonTest, StableSchema) {
  FindingGrouper g;
  g.Add(DiagnoseText(kDocsSample));
  nlohmann::ordered_json j = FindingToJson(g.findings()[0]);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_THAT(keys,
              testing::ElementsAre(
                  "kind", "program", "parameter", "parameter_name", "replicas",
                  "partitions", "expected", "actual", "classification",
                  "consistent", "summary", "details", "causes", "fix_commands",
                  "jax_fix", "next_steps", "count", "source", "line"));
  EXPECT_EQ(j["parameter_name"], nullptr);
  EXPECT_EQ(j["jax_fix"],
            "jax.device_put(x, Format(Layout(major_to_minor=(0, 1, 2), "
            "tiling=((8, 128), (2, 1))), x.sharding))");
  EXPECT_EQ(j["kind"], "size");
  EXPECT_EQ(j["parameter"], 2482);
  EXPECT_EQ(j["replicas"], nlohmann::ordered_json::array({0}));
  EXPECT_EQ(j["classification"], "layout");
  EXPECT_EQ(j["expected"]["printed_bytes"], 5242880);
  EXPECT_EQ(j["expected"]["recomputed_bytes"], 5242880);
  EXPECT_EQ(j["expected"]["inferred_layouts"], nlohmann::ordered_json::array());
  EXPECT_EQ(j["actual"]["shape"], "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  EXPECT_EQ(j["count"], 1);
  EXPECT_EQ(j["consistent"], true);
  // What the text prints under "What differs" and "Next steps".
  const Diagnosis d = DiagnoseText(kDocsSample);
  EXPECT_EQ(j["summary"], d.summary);
  EXPECT_FALSE(d.details.empty());
  EXPECT_EQ(j["details"], nlohmann::ordered_json(d.details));
  EXPECT_EQ(j["next_steps"], nlohmann::ordered_json(d.next_steps));

  // Sizes-only messages have null shapes.
  FindingGrouper g2;
  g2.Add(
      DiagnoseText("Executable expected parameter 0 of size 8 but got "
                   "buffer with incompatible size 4"));
  nlohmann::ordered_json k = FindingToJson(g2.findings()[0]);
  EXPECT_TRUE(k["program"].is_null());
  EXPECT_TRUE(k["expected"]["shape"].is_null());
  EXPECT_TRUE(k["expected"]["recomputed_bytes"].is_null());
  EXPECT_EQ(k["classification"], "unknown");
}

// Issue 10.12: --json carried fewer facts than the text.
TEST(FindingToJsonTest, CarriesComparedFactsAndSource) {
  FindingGrouper g;
  g.Add(DiagnoseText(kDocsSample), "train.log", 17);
  nlohmann::ordered_json j = FindingToJson(g.findings()[0]);
  EXPECT_EQ(j["source"], "train.log");
  EXPECT_EQ(j["line"], 17);
  EXPECT_EQ(j["expected"]["element_type"], "bf16");
  EXPECT_EQ(j["actual"]["element_type"], "bf16");
  EXPECT_TRUE(j["expected"]["memory_kind"].is_null());
  EXPECT_TRUE(j["expected"]["buffer_count"].is_null());
  std::vector<std::string> side_keys;
  for (auto it = j["actual"].begin(); it != j["actual"].end(); ++it) {
    side_keys.push_back(it.key());
  }
  EXPECT_THAT(side_keys,
              testing::ElementsAre("shape", "printed_bytes", "recomputed_bytes",
                                   "inferred_layouts", "element_type",
                                   "memory_kind", "buffer_count"));

  // Element types named without shapes (the dynamic-shape check).
  FindingGrouper types;
  types.Add(DiagnoseText(
      "Executable(jit_dyn) expected parameter 0 to have element type BF16 but "
      "got buffer with element type F32"));
  j = FindingToJson(types.findings()[0]);
  EXPECT_EQ(j["expected"]["element_type"], "bf16");
  EXPECT_EQ(j["actual"]["element_type"], "f32");
  EXPECT_TRUE(j["source"].is_null());
  EXPECT_TRUE(j["line"].is_null());

  FindingGrouper kinds;
  kinds.Add(DiagnoseText(
      "Executable(jit_f) got a parameter buffer for parameter 0 in an "
      "unexpected memory space 'pinned_host'"));
  j = FindingToJson(kinds.findings()[0]);
  EXPECT_EQ(j["actual"]["memory_kind"], "pinned_host");
  EXPECT_TRUE(j["expected"]["memory_kind"].is_null());

  FindingGrouper counts;
  counts.Add(DiagnoseText(
      "Execution supplied 3 buffers but compiled program expected 4 buffers"));
  j = FindingToJson(counts.findings()[0]);
  EXPECT_EQ(j["expected"]["buffer_count"], 4);
  EXPECT_EQ(j["actual"]["buffer_count"], 3);

  // A record's memory kinds reach the JSON too.
  MismatchRecord r;
  r.reason = MismatchReason::kMemorySpace;
  r.program = "jit_f";
  r.parameter = 0;
  r.expected_memory_kind = "device";
  r.actual_memory_kind = "pinned_host";
  r.message = MemorySpaceMessage(r.program, r.parameter, "pinned_host");
  FindingGrouper records;
  records.Add(Explain(r));
  j = FindingToJson(records.findings()[0]);
  EXPECT_EQ(j["expected"]["memory_kind"], "device");
  EXPECT_EQ(j["actual"]["memory_kind"], "pinned_host");
}

TEST(FindingToJsonTest, InvalidUtf8IsReplaced) {
  // Found by the fuzzer: a log byte that is not UTF-8 inside a shape.
  FindingGrouper g;
  g.Add(DiagnoseText(
      "Executable(jit_\xbd) expected parameter 1 of size 8 (f32[2]{0\xbd}) "
      "but got buffer with incompatible size 4 (f32[1]{0})"));
  ASSERT_EQ(g.findings().size(), 1u);
  std::string dumped;
  EXPECT_NO_THROW(dumped = FindingToJson(g.findings()[0]).dump());
  EXPECT_THAT(dumped, HasSubstr("jit_\xEF\xBF\xBD"));
}

TEST(ExplainTest, InvalidLayoutIsAnErrorNotACrash) {
  // Found by the fuzzer: {4,1,0} is no permutation of 0..2.
  Diagnosis d = DiagnoseText(
      "Executable(jit_f) expected parameter 0 of size 5242880 "
      "(bf16[16,1280,40]{4,1,0:T(8,128)(2,1)}) but got buffer with "
      "incompatible size 1638400 (bf16[16,1280,40]{1,2,0:T(8,128)(2,1)})");
  EXPECT_EQ(d.classification, Classification::kUnknown);
  EXPECT_THAT(d.expected.error, HasSubstr("invalid shape"));
  EXPECT_TRUE(d.fix_commands.empty());
}

TEST(ExplainTest, UnparseableShapeFallsBackToSizes) {
  Diagnosis d = DiagnoseText(
      "Executable(jit_f) expected parameter 0 of size 8 (f32[2]{0:Q(1)}) but "
      "got buffer with incompatible size 4 (f32[1]{0})");
  EXPECT_EQ(d.classification, Classification::kUnknown);
  EXPECT_FALSE(d.expected.error.empty());
  EXPECT_THAT(d.details, testing::Contains(HasSubstr("expected shape")));
}

// Issue 14: dims that differ by a whole factor are named as a partition
// count change (InferPartitionCountChange in the sharding module); a
// partial batch is not.
TEST(ExplainTest, DimsNameAPartitionCountChange) {
  Diagnosis d = DiagnoseText(
      "Executable(pjit_f) expected parameter 3 of size 4194304 "
      "(bf16[1024,2048]{1,0:T(8,128)(2,1)}) but got buffer with incompatible "
      "size 8388608 (bf16[1024,4096]{1,0:T(8,128)(2,1)})");
  EXPECT_THAT(d.details,
              testing::Contains(
                  "sharding: dim 1 is 2048 on the expected side and 4096 on "
                  "the actual one: this matches devices=[1,2] against [1,1] "
                  "(or other counts in that ratio), a different partition "
                  "count"));
  d = DiagnoseText(
      "Executable(pjit_f) expected parameter 0 of size 65536 "
      "(f32[16,1024]{1,0}) but got buffer with incompatible size 49152 "
      "(f32[12,1024]{1,0})");
  EXPECT_THAT(d.details, testing::Not(testing::Contains(
                             HasSubstr("a different partition count"))));
}

// User trial, defect 2 (spec §3.1): XLA's CPU and GPU runtimes size a
// dynamic shape's buffer with 4 bytes of metadata per dim. f32[2,<=512]:
// 2*512*4 = 4,096 + 2*4 = 4,104; f32[2,<=514]: 2*514*4 = 4,112 + 8 = 4,120.
// Both sizes used to be marked inconsistent, and the layout-bug cause was
// listed twice.
TEST(ExplainTest, DynamicShapeMetadataIsPartOfTheSize) {
  Diagnosis d = DiagnoseText(
      "Executable(jit_e) expected parameter 0 of size 4104 "
      "(f32[2,<=512]{1,0}) but got buffer with incompatible size 4120 "
      "(f32[2,<=514]{1,0})");
  EXPECT_TRUE(d.consistent);
  EXPECT_EQ(d.expected.recomputed_bytes, 4104);
  EXPECT_EQ(d.actual.recomputed_bytes, 4120);
  EXPECT_THAT(d.expected.inferred_layouts, IsEmpty());
  EXPECT_EQ(d.classification, Classification::kDims);
  EXPECT_THAT(
      d.details,
      ElementsAre(
          "the expected size 4,104 is 4,096 bytes of data plus 8 bytes of "
          "dynamic-shape metadata (4 bytes per dim, as XLA's CPU and GPU "
          "runtimes add to a dynamic shape's buffer)",
          "the actual size 4,120 is 4,112 bytes of data plus 8 bytes of "
          "dynamic-shape metadata (4 bytes per dim, as XLA's CPU and GPU "
          "runtimes add to a dynamic shape's buffer)",
          "dim 1: expected <=512, got <=514 (257/256): the bound of a dynamic "
          "dim differs (the program was compiled for another bound)"));
  EXPECT_THAT(d.causes, testing::Not(testing::Contains(
                            HasSubstr("compiler or runtime layout bug"))));
  EXPECT_THAT(d.causes[0], HasSubstr("A dynamic dim's bound"));

  // A dynamic parameter given a static array of the same data.
  d = DiagnoseText(
      "Executable(jit_e) expected parameter 0 of size 4104 "
      "(f32[2,<=512]{1,0}) but got buffer with incompatible size 4096 "
      "(f32[2,512]{1,0})");
  EXPECT_TRUE(d.consistent);
  EXPECT_THAT(d.details,
              testing::Contains("dim 1: expected <=512, got 512 (dynamic vs "
                                "static): the program was compiled for a "
                                "dynamic dim"));

  // Without the metadata the size is the data's (TPU): consistent too.
  d = DiagnoseText(
      "Executable(jit_e) expected parameter 0 of size 4096 "
      "(f32[2,<=512]{1,0}) but got buffer with incompatible size 4112 "
      "(f32[2,<=514]{1,0})");
  EXPECT_TRUE(d.consistent);
  EXPECT_EQ(d.expected.recomputed_bytes, 4096);
}

TEST(ExplainTest, SizesOnlyNameDynamicShapeMetadata) {
  Diagnosis d = DiagnoseText(
      "Executable expected parameter 0 of size 4104 but got buffer with "
      "incompatible size 4096");
  EXPECT_THAT(
      d.details,
      testing::Contains(
          "the sizes differ by 8 bytes = 4 × 2: the dynamic-shape metadata "
          "of a rank-2 array (one int32 per dim, which XLA's CPU and GPU "
          "runtimes add to a dynamic shape's buffer); the expected side may "
          "be a dynamic (bounded) shape with the same data as a static shape "
          "on the other"));
  ASSERT_FALSE(d.causes.empty());
  EXPECT_EQ(d.causes[0],
            "A dynamic shape against a static one: the program was compiled "
            "for a dynamic (bounded) shape and got a static array whose data "
            "has the same size; the 8 bytes are the dynamic-shape metadata");
  // A difference that is no metadata does not mention it.
  d = DiagnoseText(
      "Executable expected parameter 0 of size 65536 but got buffer with "
      "incompatible size 49152");
  EXPECT_THAT(d.details,
              testing::Not(testing::Contains(HasSubstr("metadata"))));
}

// Both sides' sizes fit no documented tiling: the cause is listed once.
TEST(ExplainTest, SameCauseListedOnce) {
  Diagnosis d = DiagnoseText(
      "Executable(jit_f) expected parameter 0 of size 1000 "
      "(f32[10,10]{1,0}) but got buffer with incompatible size 1004 "
      "(f32[10,10]{0,1})");
  EXPECT_FALSE(d.consistent);
  EXPECT_EQ(std::count_if(d.causes.begin(), d.causes.end(),
                          [](const std::string& c) {
                            return absl::StrContains(
                                c, "A compiler or runtime layout bug");
                          }),
            1);
  std::vector<std::string> sorted = d.causes;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

// User trial 3, finding 2: a dim-order change hid behind a memory-space
// change (classified memory_space, no layout facts, no relayout), and the
// advice moved the buffer to 'device' where it already was.
TEST(ExplainTest, MemorySpaceOnlyWhenItIsTheOnlyDifference) {
  Diagnosis d = DiagnoseText(
      "Executable(jit_f) expected parameter 1 of size 4096 "
      "(f32[8,128]{1,0:T(8,128)S(5)}) but got buffer with incompatible size "
      "65536 (f32[8,128]{0,1:T(8,128)})");
  EXPECT_EQ(d.classification, Classification::kLayout);
  EXPECT_EQ(d.expected.memory_kind, "pinned_host");
  EXPECT_EQ(d.actual.memory_kind, "device");
  EXPECT_THAT(d.details, testing::Contains(HasSubstr("memory space S(5)")));
  EXPECT_THAT(d.details, testing::Contains(HasSubstr("minor_to_major {1,0}")));
  EXPECT_THAT(d.next_steps,
              testing::Contains(HasSubstr("with_memory_kind('pinned_host')")));
  EXPECT_THAT(
      d.next_steps,
      testing::Not(testing::Contains(HasSubstr("with_memory_kind('device')"))));
  ASSERT_EQ(d.fix_commands.size(), 1u);
  EXPECT_THAT(d.fix_commands[0], HasSubstr("--to '{1,0:T(8,128)S(5)}'"));

  // Only S(n) differs: memory_space, advice towards the expected kind.
  d = DiagnoseText(
      "Executable(jit_f) expected parameter 1 of size 4096 "
      "(f32[8,128]{1,0:T(8,128)S(1)}) but got buffer with incompatible size "
      "4096 (f32[8,128]{1,0:T(8,128)})");
  EXPECT_EQ(d.classification, Classification::kMemorySpace);
  EXPECT_EQ(d.expected.memory_kind, "alternate");
  EXPECT_EQ(d.actual.memory_kind, "device");
  EXPECT_THAT(d.next_steps,
              testing::Contains(HasSubstr("with_memory_kind('alternate')")));
  d = DiagnoseText(
      "Executable(jit_f) expected parameter 1 of size 4096 "
      "(f32[8,128]{1,0:T(8,128)}) but got buffer with incompatible size "
      "4096 (f32[8,128]{1,0:T(8,128)S(5)})");
  EXPECT_EQ(d.classification, Classification::kMemorySpace);
  EXPECT_THAT(d.next_steps,
              testing::Contains(HasSubstr("with_memory_kind('device')")));
}

// User trial 3, finding 4. Next steps never offer a command and then say
// there is none.
void ExpectNoContradiction(const Diagnosis& d) {
  const bool offered = std::any_of(
      d.next_steps.begin(), d.next_steps.end(), [](const std::string& s) {
        return absl::StrContains(s, "with the command below");
      });
  EXPECT_EQ(offered, !d.fix_commands.empty());
  if (offered) {
    EXPECT_THAT(d.next_steps,
                testing::Not(testing::Contains(HasSubstr("No relayout"))));
  }
}

TEST(ExplainTest, IdenticalTokensWithDifferentSizesAreUnknown) {
  Diagnosis d = DiagnoseText(
      "Executable(jit_f) expected parameter 1 of size 16 (token[]) but got "
      "buffer with incompatible size 0 (token[])");
  EXPECT_EQ(d.classification, Classification::kUnknown);
  EXPECT_EQ(d.summary, "identical shapes, different sizes");
  EXPECT_THAT(d.details, testing::Not(testing::Contains(
                             HasSubstr("agree except in their layouts"))));
  ExpectNoContradiction(d);
}

TEST(ExplainTest, UncomputableSizeIsNotConsistent) {
  Diagnosis d = DiagnoseText(
      "Executable(jit_f) expected parameter 1 of size 64 "
      "(f32[4]{0:T(9223372036854775807)}) but got buffer with incompatible "
      "size 16 (f32[4]{0})");
  EXPECT_FALSE(d.expected.recomputed_bytes.has_value());
  EXPECT_FALSE(d.consistent);
  EXPECT_EQ(d.classification, Classification::kUnknown);
  EXPECT_THAT(d.details,
              testing::Contains(HasSubstr("the expected size 64 cannot be "
                                          "checked")));
  ExpectNoContradiction(d);
  // A relayout that xlayout cannot do is not offered first.
  d = DiagnoseText(
      "Executable(jit_f) expected parameter 0 of size 1000 "
      "(f32[10,10]{1,0}) but got buffer with incompatible size 1004 "
      "(f32[10,10]{0,1})");
  ExpectNoContradiction(d);
  d = DiagnoseText(kDocsSample);
  ASSERT_FALSE(d.fix_commands.empty());
  ExpectNoContradiction(d);
}

// Regression (UBSan in CI, from `check` of a program whose size is
// undefined): dims near 2^62 overflowed the halved/doubled test (y * 2).
TEST(ExplainRecordTest, HugeDimsDoNotOverflow) {
  MismatchRecord r;
  r.reason = MismatchReason::kSize;
  r.program = "jit_f";
  r.parameter = 0;
  r.expected = P("f32[4611686018427387904,4]{1,0}");
  r.actual = P("f32[2305843009213693952,4]{1,0}");
  r.expected_bytes = -1;
  r.actual_bytes = -1;
  Diagnosis d = Explain(r);
  EXPECT_THAT(d.details, testing::Contains(HasSubstr("halved")));
  r.actual = P("f32[3,5]{1,0}");
  r.actual_bytes = 60;
  d = Explain(r);
  EXPECT_THAT(d.details, testing::Contains(HasSubstr("dim 0: expected")));
}

// The host-shape check compares layouts, not sizes: it is not "XLA's size
// check passes" when XLA raised this very error.
TEST(ExplainTest, HostShapeIsNotTheSizeCheck) {
  Diagnosis d = DiagnoseText(
      "Argument does not match host shape or layout of computation parameter "
      "0: want f32[2,3]{1,0}, got f32[2,3]{0,1}");
  EXPECT_EQ(d.kind, MessageKind::kHostShape);
  EXPECT_THAT(
      d.details,
      testing::Not(testing::Contains(HasSubstr("XLA's size check passes"))));
  EXPECT_THAT(d.details, testing::Contains(HasSubstr("compares the layouts")));
}

}  // namespace
}  // namespace xlayout
