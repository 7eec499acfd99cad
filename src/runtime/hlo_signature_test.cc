#include "xlayout/hlo_signature.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/hlo_text.h"
#include "runtime/test_programs.h"
#include "xlayout/format.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadExample(const std::string& name) {
  std::ifstream in(std::string(XLAYOUT_EXAMPLES_DIR) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ProgramSignature MustParse(absl::string_view text,
                           const SignatureReadOptions& options = {}) {
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(text, options);
  EXPECT_TRUE(sig.ok()) << sig.status();
  return sig.ok() ? *sig : ProgramSignature();
}

std::vector<std::string> Names(const ProgramSignature& sig) {
  std::vector<std::string> out;
  for (const auto& p : sig.parameters) out.push_back(p.name);
  return out;
}

std::vector<std::string> Shapes(const ProgramSignature& sig) {
  std::vector<std::string> out;
  for (const auto& p : sig.parameters) out.push_back(p.shape.ToString(true));
  return out;
}

const char* const kExamples[] = {
    "embedding_pipeline.hlo", "old_comma_header.hlo", "tuple_parameter.hlo",
    "no_layout_header.hlo", "header_attributes.hlo"};

TEST(HloSignatureTest, EmbeddingPipelineExample) {
  ProgramSignature sig = MustParse(ReadExample("embedding_pipeline.hlo"));
  EXPECT_EQ(sig.name, "jit_embedding_pipeline_step_fn");
  EXPECT_EQ(sig.replica_count, 1);
  EXPECT_EQ(sig.num_partitions, 2);
  EXPECT_EQ(sig.layout_source, LayoutSource::kEntryComputationLayout);
  ASSERT_EQ(sig.parameters.size(), 8u);
  const ParameterSignature& p2 = sig.parameters[2];
  EXPECT_EQ(p2.name, "Arg_2.3");
  EXPECT_EQ(p2.shape.ToString(true), "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
  EXPECT_EQ(p2.xla_bytes, 5242880);
  EXPECT_EQ(p2.memory_kind, "device");
  EXPECT_EQ(p2.sharding, "{replicated}");
  EXPECT_EQ(sig.parameters[1].sharding, "{devices=[2,1]<=[2]}");
  EXPECT_EQ(sig.parameters[5].shape.ToString(true), "f32[]{:T(128)}");
  EXPECT_EQ(sig.parameters[5].xla_bytes, 512);
  EXPECT_EQ(sig.parameters[6].memory_kind, "pinned_host");
  ASSERT_TRUE(sig.result.has_value());
  EXPECT_EQ(sig.result->ToString(true),
            "(bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}, f32[]{:T(128)})");
  EXPECT_TRUE(sig.warnings.empty()) << sig.warnings[0];
}

TEST(HloSignatureTest, OldCommaJoins) {
  ProgramSignature sig = MustParse(ReadExample("old_comma_header.hlo"));
  EXPECT_EQ(sig.name, "jit_add_scaled");
  EXPECT_THAT(Shapes(sig),
              ElementsAre("f32[2,3]{1,0}", "f32[2,3]{0,1}", "s32[]"));
  EXPECT_THAT(Names(sig), ElementsAre("Arg_0.1", "Arg_1.2", "Arg_2.3"));
  EXPECT_EQ(sig.parameters[0].sharding, std::nullopt);
}

TEST(HloSignatureTest, IndexCommentsInTheHeader) {
  std::string text = testing::MakeProgramHlo("p", 12, 1, 1, {{10, "s8[3]{0}"}});
  ASSERT_THAT(text, HasSubstr("/*index=10*/s8[3]{0}"));
  ProgramSignature sig = MustParse(text);
  ASSERT_EQ(sig.parameters.size(), 12u);
  EXPECT_EQ(sig.parameters[10].shape.ToString(true), "s8[3]{0}");
  EXPECT_EQ(sig.parameters[10].name, "Arg_10.11");
}

TEST(HloSignatureTest, TupleParameterIsFlattened) {
  ProgramSignature sig = MustParse(ReadExample("tuple_parameter.hlo"));
  EXPECT_THAT(Names(sig), ElementsAre("args.1{0}", "args.1{1}", "args.1{2,0}",
                                      "args.1{2,1}"));
  EXPECT_THAT(Shapes(sig), ElementsAre("f32[8,128]{1,0}", "s32[8]{0}",
                                       "bf16[4]{0}", "pred[]"));
  EXPECT_THAT(sig.parameters[2].tuple_index, ElementsAre(2, 0));
  EXPECT_EQ(sig.parameters[3].parameter_number, 0);
  EXPECT_EQ(sig.parameters[1].sharding, "{maximal device=0}");
  EXPECT_EQ(sig.parameters[3].index, 3);
}

TEST(HloSignatureTest, TupleShardingThatDoesNotSplitIsKeptWhole) {
  ProgramSignature sig = MustParse(
      "HloModule t, entry_computation_layout={((f32[2]{0}, "
      "f32[3]{0}))->f32[2]{0}}\n"
      "ENTRY e {\n  p = (f32[2]{0}, f32[3]{0}) parameter(0), "
      "sharding={replicated}\n}\n");
  ASSERT_EQ(sig.parameters.size(), 2u);
  EXPECT_EQ(sig.parameters[0].sharding, "{replicated}");
  EXPECT_EQ(sig.parameters[1].sharding, "{replicated}");
}

// Regression (fuzzer): a sharding with bytes that are not UTF-8 gave a
// warning that changed after a JSON round trip, because JSON replaced the
// bytes and the warning was derived again from the replaced text.
TEST(HloSignatureJsonTest, InvalidUtf8InNamesAndShardingsRoundTrips) {
  ProgramSignature sig = MustParse(
      "HloModule m, entry_computation_layout={(f32[4]{0})->f32[4]{0}}, "
      "num_partitions=2\n"
      "ENTRY e {\n  p = f32[4]{0} parameter(0), "
      "sharding={replicated}\xdd\xdfmetadata={op_name=\"x\"}\n"
      "  ROOT r = f32[4]{0} add(p, p), sharding={replicated}\n}\n");
  ASSERT_EQ(sig.parameters.size(), 1u);
  ASSERT_TRUE(sig.parameters[0].sharding.has_value());
  EXPECT_TRUE(IsValidUtf8(*sig.parameters[0].sharding));
  ASSERT_EQ(sig.warnings.size(), 1u);
  EXPECT_THAT(sig.warnings[0], HasSubstr("not applied"));
  std::string json = SignatureToJson(sig);
  absl::StatusOr<ProgramSignature> back = SignatureFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(SignatureToJson(*back), json);
  EXPECT_EQ(back->warnings, sig.warnings);
}

TEST(HloSignatureTest, NoHeaderLayoutFallsBackToEntryParameters) {
  ProgramSignature sig = MustParse(ReadExample("no_layout_header.hlo"));
  EXPECT_EQ(sig.layout_source, LayoutSource::kEntryParameters);
  EXPECT_THAT(Names(sig), ElementsAre("weights", "inputs", "count"));
  // parameter(0) has no layout: XLA's parser gives it the default.
  EXPECT_THAT(Shapes(sig), ElementsAre("f32[1024,256]{1,0}",
                                       "f32[1024,256]{0,1:T(8,128)}", "s32[]"));
  EXPECT_EQ(sig.parameters[1].sharding, "{devices=[4,1]0,1,2,3}");
  EXPECT_FALSE(sig.result.has_value());
}

TEST(HloSignatureTest, UnknownAttributesAnyOrderReplicasPartitions) {
  ProgramSignature sig = MustParse(ReadExample("header_attributes.hlo"));
  EXPECT_EQ(sig.name, "pjit_train_step");
  EXPECT_EQ(sig.replica_count, 2);
  EXPECT_EQ(sig.num_partitions, 4);
  EXPECT_THAT(Shapes(sig), ElementsAre("f32[64,512]{1,0:T(8,128)}",
                                       "f32[64,512]{1,0:T(8,128)}",
                                       "u8[1024]{0:T(1024)(128)(4,1)}"));
  EXPECT_THAT(Names(sig), ElementsAre("params", "grads", "mask"));
}

TEST(HloSignatureTest, HeaderShapesWithoutLayoutsTakeEntryLayouts) {
  ProgramSignature sig = MustParse(
      "HloModule m, entry_computation_layout={(f32[4,8], f32[4,8])->f32[]}\n\n"
      "ENTRY %e {\n  %a = f32[4,8]{0,1} parameter(0)\n  %b = f32[4,8] "
      "parameter(1)\n}\n");
  EXPECT_THAT(Shapes(sig), ElementsAre("f32[4,8]{0,1}", "f32[4,8]{1,0}"));
}

TEST(HloSignatureTest, LeadingCommentsCrlfAndRootParameter) {
  ProgramSignature sig = MustParse(
      "// dumped by test\r\n\r\nHloModule m, "
      "entry_computation_layout={(f32[2]{0})->f32[2]{0}}\r\n"
      "\r\nENTRY e {\r\n  ROOT p.0 = f32[2]{0} parameter(0), sharding={maximal "
      "device=1}\r\n}\r\n");
  ASSERT_EQ(sig.parameters.size(), 1u);
  EXPECT_EQ(sig.parameters[0].name, "p.0");
  EXPECT_EQ(sig.parameters[0].sharding, "{maximal device=1}");
}

TEST(HloSignatureTest, ParametersInsideOtherComputationsAreIgnored) {
  ProgramSignature sig = MustParse(
      "HloModule m\n\n%f (x: s8[1]) -> s8[1] {\n  %x = s8[1]{0} parameter(0)\n "
      " "
      "%y = s8[1]{0} parameter(1)\n}\n\nENTRY %main {\n  %z = u8[7]{0} "
      "parameter(0), metadata={op_name=\"parameter(3)\"}\n  %w = u8[7]{0} "
      "custom-call(), custom_call_target=\"parameter(9)\"\n}\n\n%g {\n  %q = "
      "f32[9]{0} parameter(1)\n}\n");
  EXPECT_THAT(Names(sig), ElementsAre("z"));
  EXPECT_THAT(Shapes(sig), ElementsAre("u8[7]{0}"));
}

TEST(HloSignatureTest, DisagreementsBecomeWarnings) {
  ProgramSignature sig = MustParse(
      "HloModule m, entry_computation_layout={(f32[2]{0}, f32[3]{0})->f32[]}\n"
      "ENTRY e {\n  a = f32[5]{0} parameter(0)\n  c = f32[1]{0} "
      "parameter(7)\n}\n");
  EXPECT_THAT(Shapes(sig), ElementsAre("f32[2]{0}", "f32[3]{0}"));
  EXPECT_THAT(Names(sig), ElementsAre("a", ""));
  ASSERT_EQ(sig.warnings.size(), 3u);
  EXPECT_THAT(sig.warnings[0],
              HasSubstr("entry_computation_layout says f32[2]{0}"));
  EXPECT_THAT(sig.warnings[1], HasSubstr("no parameter(1)"));
  EXPECT_THAT(sig.warnings[2], HasSubstr("parameter(7) at line 4"));
}

// Regression (user trial): a dump whose ENTRY parameter has another layout
// than the header's entry_computation_layout was read without a word.
TEST(HloSignatureTest, LayoutDisagreementIsAWarning) {
  ProgramSignature sig = MustParse(
      "HloModule m, entry_computation_layout={(f32[8,128]{1,0:T(8,128)}, "
      "(f32[2]{0}, f32[4]{0:T(256)}), f32[3]{0})->f32[]}\n"
      "ENTRY e {\n  a = f32[8,128]{0,1:T(8,128)} parameter(0)\n"
      "  t = (f32[2]{0}, f32[4]{0}) parameter(1)\n"
      "  c = f32[3] parameter(2)\n}\n");
  EXPECT_THAT(Shapes(sig), ElementsAre("f32[8,128]{1,0:T(8,128)}", "f32[2]{0}",
                                       "f32[4]{0:T(256)}", "f32[3]{0}"));
  EXPECT_THAT(
      sig.warnings,
      ElementsAre(
          "parameter 0: entry_computation_layout says "
          "f32[8,128]{1,0:T(8,128)} but ENTRY parameter(0) at line 3 is "
          "f32[8,128]{0,1:T(8,128)}: the layouts differ; using the header's, "
          "which XLA's runtime checks buffers against",
          HasSubstr("parameter 1: entry_computation_layout says (f32[2]{0}, "
                    "f32[4]{0:T(256)}) but ENTRY parameter(1) at line 4")));
}

TEST(HloSignatureTest, HeaderOnlyGivesUnnamedParameters) {
  ProgramSignature sig =
      MustParse("HloModule m, entry_computation_layout={(f32[2]{0})->f32[]}");
  EXPECT_THAT(Names(sig), ElementsAre(""));
  EXPECT_THAT(sig.warnings, ElementsAre(HasSubstr("no ENTRY computation")));
}

// With the header's entry_computation_layout the parameter list is whole
// even when the ENTRY computation is cut off: a warning.
TEST(HloSignatureTest, TruncatedEntryWithAHeaderLayoutIsAWarning) {
  ProgramSignature sig = MustParse(
      "HloModule m, entry_computation_layout={(f32[2]{0})->f32[]}\n"
      "ENTRY e {\n  a = f32[2]{0} parameter(0)\n");
  EXPECT_THAT(Names(sig), ElementsAre("a"));
  EXPECT_THAT(sig.warnings, ElementsAre(HasSubstr("not closed")));
}

// Regression (new-user trial): without it the parameters come from the
// ENTRY lines alone, so a cut-off dump gave a short list that check and
// relayout took as the whole program.
TEST(HloSignatureTest, TruncatedEntryWithoutAHeaderLayoutIsAnError) {
  absl::Status s = ParseHloSignature(
                       "HloModule m\nENTRY e {\n  a = f32[2]{0} "
                       "parameter(0)\n",
                       SignatureReadOptions())
                       .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("truncated"));
}

TEST(HloSignatureTest, UndefinedSizesAreMinusOneWithAWarning) {
  ProgramSignature sig = MustParse(
      "HloModule m, entry_computation_layout={(f32[?,4]{1,0}, "
      "token[])->f32[]}\n");
  ASSERT_EQ(sig.parameters.size(), 2u);
  EXPECT_EQ(sig.parameters[0].xla_bytes, -1);
  EXPECT_EQ(sig.parameters[1].xla_bytes, 0);
  EXPECT_EQ(sig.warnings.size(), 3u);
}

struct ErrorCase {
  const char* text;
  const char* message;
};

TEST(HloSignatureTest, ErrorsSayWhereAndWhy) {
  const ErrorCase cases[] = {
      {"", "no 'HloModule' header"},
      {"// only a comment\n", "no 'HloModule' header"},
      {"ENTRY e {\n}\n", "line 1: expected the 'HloModule' header"},
      {"HloModule\n", "expected a module name"},
      {"HloModule m, replica_count=0\n",
       "replica_count must be a positive integer"},
      {"HloModule m, num_partitions=two\n",
       "num_partitions must be a positive"},
      {"HloModule m, replica_count=2, replica_count=2\n", "appears twice"},
      {"HloModule m entry_computation_layout={()->f32[]}\n", "expected ','"},
      {"HloModule m, entry_computation_layout={(f32[2]{0}->f32[]}\n",
       "col 57: '}' does not close the '(' at col 40"},
      {"HloModule m, entry_computation_layout={(f32[2]{0})->f32[]\n",
       "col 39: '{' is never closed"},
      {"HloModule m, entry_computation_layout={(f32[2]{0}, f32[x])->f32[]}\n",
       "line 1: entry_computation_layout parameter 1: col 56: "},
      {"HloModule m, entry_computation_layout={(f32[2]{0} f32[3])->f32[]}\n",
       "expected ',' or ')' after parameter 0"},
      {"HloModule m, entry_computation_layout={(f32[2]{0})f32[]}\n",
       "expected '->'"},
      {"HloModule m, entry_computation_layout={(f32[2]{0})->f32[]} }\n",
       "unbalanced '}'"},
      {"HloModule m, frontend_attributes={a=\"x}\n", "unterminated string"},
      {"HloModule m, foo\n", "expected '=' after attribute 'foo'"},
      {"HloModule m\n", "no ENTRY computation"},
      {"HloModule m\nENTRY e {\n  a = f32[2]{0} parameter(1)\n}\n",
       "has parameter(1) at line 3 but no parameter(0)"},
      {"HloModule m\nENTRY e {\n  a = f32[2]{0} parameter(0)\n  b = f32[2]{0} "
       "parameter(0)\n}\n",
       "line 4: ENTRY has two parameter(0) instructions ('a' at line 3 and "
       "'b')"},
      {"HloModule m\nENTRY e {\n  a = f32[2]{9:T(} parameter(0)\n}\n",
       "line 3: parameter instruction 'a'"},
      {"HloModule m\nENTRY e {\n  a = f32[2]{0} parameter(x)\n}\n",
       "expected parameter(N)"},
      {"HloModule m\nENTRY e {\nENTRY f {\n}\n", "line 3: a second ENTRY"},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<ProgramSignature> sig = ParseHloSignature(c.text);
    ASSERT_FALSE(sig.ok()) << c.text;
    EXPECT_EQ(sig.status().code(), absl::StatusCode::kInvalidArgument)
        << c.text;
    EXPECT_THAT(sig.status().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(HloSignatureTest, LongLinesAreSkippedUnlessTheyAreParameters) {
  std::string constant(5000, '1');
  std::string text = "HloModule m\nENTRY e {\n  c = f32[2]{0} constant({" +
                     constant + "})\n  a = f32[2]{0} parameter(0)\n}\n";
  SignatureReadOptions options;
  options.chunk_size = 64;
  options.max_line_bytes = 256;
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(text, options);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_THAT(Names(*sig), ElementsAre("a"));

  std::string long_param =
      "HloModule m\nENTRY e {\n  a = f32[2]{0} parameter(0), "
      "metadata={op_name=\"" +
      constant + "\"}\n}\n";
  absl::Status s = ParseHloSignature(long_param, options).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(),
              HasSubstr("line 3: a parameter instruction longer than 256"));

  options.max_header_bytes = 5;
  EXPECT_EQ(ParseHloSignature(text, options).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(HloSignatureTest, FileErrorsNameTheFile) {
  absl::Status s = ReadHloSignatureFile("/nonexistent/dump.txt").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/dump.txt"));
  absl::StatusOr<ProgramSignature> sig = ReadHloSignatureFile(
      std::string(XLAYOUT_EXAMPLES_DIR) + "/embedding_pipeline.hlo");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->parameters.size(), 8u);
}

// The chunk size must never change the answer: every example, every small
// chunk size (so a chunk boundary falls inside every token).
TEST(HloSignatureTest, ChunkBoundariesDoNotMatter) {
  for (const char* name : kExamples) {
    std::string text = ReadExample(name);
    std::string expected = SignatureToJson(MustParse(text));
    for (size_t chunk = 1; chunk <= 70; ++chunk) {
      SignatureReadOptions options;
      options.chunk_size = chunk;
      ASSERT_EQ(SignatureToJson(MustParse(text, options)), expected)
          << name << " chunk " << chunk;
    }
  }
}

RC_GTEST_PROP(HloSignatureProperty, ChunkSizeAndShortReadsDoNotMatter,
              (size_t chunk, std::vector<size_t> reads)) {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> t;
    for (const char* name : kExamples) t.push_back(ReadExample(name));
    return t;
  }();
  const std::string& text = texts[*rc::gen::inRange<size_t>(0, texts.size())];
  SignatureReadOptions options;
  options.chunk_size = 1 + chunk % 4096;
  // A source that returns fewer bytes than asked, as pipes do.
  size_t offset = 0, call = 0;
  ReadFn read = [&](char* dst, size_t capacity) -> absl::StatusOr<size_t> {
    size_t want =
        reads.empty() ? capacity : 1 + reads[call++ % reads.size()] % capacity;
    size_t n = std::min(want, text.size() - offset);
    std::memcpy(dst, text.data() + offset, n);
    offset += n;
    return n;
  };
  absl::StatusOr<ProgramSignature> sig = ReadHloSignature(read, options);
  RC_ASSERT(sig.ok());
  RC_ASSERT(SignatureToJson(*sig) == SignatureToJson(MustParse(text)));
}

// Memory must not grow with the body: stream a ~32 MB dump from a generator
// and watch the largest read the reader ever asks for.
TEST(HloSignatureTest, MemoryDoesNotGrowWithBodySize) {
  std::string line =
      "  %fusion = bf16[16,1280,40]{2,1,0:T(8,128)(2,1)} fusion(%a, %b), "
      "kind=kLoop, calls=%f\n";
  std::string head =
      "HloModule big, entry_computation_layout={(f32[4]{0})->f32[]}\n\n"
      "ENTRY %main {\n";
  std::string tail =
      "  %p = f32[4]{0} parameter(0), sharding={replicated}\n}\n";
  const int64_t body_lines = 400000;
  int64_t emitted = 0;
  size_t pos = 0;
  std::string current = head;
  size_t max_capacity = 0;
  ReadFn read = [&](char* dst, size_t capacity) -> absl::StatusOr<size_t> {
    max_capacity = std::max(max_capacity, capacity);
    size_t n = 0;
    while (n < capacity) {
      if (pos == current.size()) {
        if (emitted < body_lines) {
          current = line;
        } else if (emitted == body_lines) {
          current = tail;
        } else {
          break;
        }
        ++emitted;
        pos = 0;
      }
      size_t take = std::min(capacity - n, current.size() - pos);
      std::memcpy(dst + n, current.data() + pos, take);
      n += take;
      pos += take;
    }
    return n;
  };
  SignatureReadOptions options;
  options.chunk_size = 64 << 10;
  absl::StatusOr<ProgramSignature> sig = ReadHloSignature(read, options);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_THAT(Names(*sig), ElementsAre("p"));
  EXPECT_LE(max_capacity, options.chunk_size + 2 * line.size());
}

TEST(HloSignatureJsonTest, ExamplesRoundTrip) {
  for (const char* name : kExamples) {
    ProgramSignature sig = MustParse(ReadExample(name));
    std::string json = SignatureToJson(sig);
    absl::StatusOr<ProgramSignature> back = SignatureFromJson(json);
    ASSERT_TRUE(back.ok()) << name << ": " << back.status();
    EXPECT_EQ(*back, sig) << name;
    EXPECT_EQ(SignatureToJson(*back), json);
    EXPECT_EQ(SignatureToJson(*back, -1).find('\n'), std::string::npos);
  }
}

TEST(HloSignatureJsonTest, MinimalJsonFillsDerivedFields) {
  absl::StatusOr<ProgramSignature> sig = SignatureFromJson(
      R"({"name": "p", "parameters": [{"shape": "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)S(5)}"}]})");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->replica_count, 1);
  EXPECT_EQ(sig->layout_source, LayoutSource::kJson);
  EXPECT_EQ(sig->parameters[0].xla_bytes, 5242880);
  EXPECT_EQ(sig->parameters[0].memory_kind, "pinned_host");
  EXPECT_EQ(sig->parameters[0].sharding, std::nullopt);
}

// Regression (issue 10.14): a signature written with a custom mapping read
// back without it failed ("memory_kind is \"hbm\" but ... maps to device").
TEST(HloSignatureJsonTest, RecordedMemoryKindsReadBack) {
  SignatureReadOptions options;
  absl::StatusOr<MemoryKindMap> kinds = MemoryKindMap::Parse("0=hbm,5=host");
  ASSERT_TRUE(kinds.ok());
  options.memory_kinds = *kinds;
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(
      "HloModule m, entry_computation_layout={(f32[2]{0}, "
      "f32[2]{0:S(5)})->f32[]}\n",
      options);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->memory_kinds, "0=hbm,5=host");
  EXPECT_EQ(sig->parameters[1].memory_kind, "host");
  const std::string json = SignatureToJson(*sig);
  EXPECT_NE(json.find(R"("memory_kinds": "0=hbm,5=host")"), std::string::npos)
      << json;
  absl::StatusOr<ProgramSignature> back =
      SignatureFromJson(json);  // Default map.
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->parameters[1].memory_kind, "host");
  EXPECT_EQ(back->memory_kinds, "0=hbm,5=host");
  EXPECT_FALSE(SignatureFromJson(
                   R"({"name": "p", "memory_kinds": "x", "parameters": []})")
                   .ok());
}

TEST(HloSignatureJsonTest, ErrorsNameTheField) {
  const ErrorCase cases[] = {
      {"not json", "not valid JSON"},
      {"[]", "expected an object"},
      {R"({"parameters": []})", "name: missing"},
      {R"({"name": "p"})", "parameters: missing"},
      {R"({"name": "p", "format": "v0", "parameters": []})", "format"},
      {R"({"name": "p", "replica_count": 0, "parameters": []})",
       "replica_count"},
      {R"({"name": "p", "parameters": [{"shape": "f32[x]"}]})",
       "parameters[0].shape"},
      {R"j({"name": "p", "parameters": [{"shape": "(f32[2])"}]})j",
       "flatten tuples"},
      {R"({"name": "p", "parameters": [{"index": 1, "shape": "f32[2]"}]})",
       "index must be 0"},
      {R"({"name": "p", "parameters": [{"shape": "f32[2]", "xla_bytes": 9}]})",
       "xla_bytes is 9 but f32[2]{0} has 8"},
      // A per-device count names the per-device shape, not the global one.
      {R"({"name": "p", "num_partitions": 2, "parameters": [{"shape": "f32[10,7]{1,0:T(8,128)}", "sharding": "{devices=[2,1]0,1}", "per_device_xla_bytes": 5}]})",
       "per_device_xla_bytes is 5 but f32[5,7]{1,0:T(8,128)} has 4096"},
      {R"({"name": "p", "parameters": [{"shape": "f32[2]", "memory_kind": "pinned_host"}]})",
       "maps to \"device\""},
      {R"({"name": "p", "parameters": [{"shape": "f32[2]", "sharding": 3}]})",
       "sharding must be a string or null"},
      {R"({"name": "p", "layout_source": "x", "parameters": []})",
       "layout_source"},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<ProgramSignature> sig = SignatureFromJson(c.text);
    ASSERT_FALSE(sig.ok()) << c.text;
    EXPECT_THAT(sig.status().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(HloSignatureJsonTest, ReadSignatureFileTellsJsonFromHlo) {
  const std::string hlo =
      std::string(XLAYOUT_EXAMPLES_DIR) + "/header_attributes.hlo";
  absl::StatusOr<ProgramSignature> from_hlo = ReadSignatureFile(hlo);
  ASSERT_TRUE(from_hlo.ok()) << from_hlo.status();
  const char* dir = std::getenv("TMPDIR");
  const std::string json_path = std::string(dir != nullptr ? dir : "/tmp") +
                                "/xlayout_sig_test_" +
                                std::to_string(::getpid()) + ".json";
  {
    std::ofstream out(json_path);
    out << "\n  " << SignatureToJson(*from_hlo);
  }
  absl::StatusOr<ProgramSignature> from_json = ReadSignatureFile(json_path);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(*from_json, *from_hlo);
  {
    std::ofstream out(json_path);
    out << "{\"name\": 3}";
  }
  absl::Status bad = ReadSignatureFile(json_path).status();
  EXPECT_THAT(bad.message(), HasSubstr(json_path + ": JSON signature: name"));
  std::remove(json_path.c_str());
}

RC_GTEST_PROP(HloSignatureJsonProperty, RoundTrips, ()) {
  static const char* const kShapes[] = {"f32[]",
                                        "f32[]{:T(256)}",
                                        "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}",
                                        "s8[7,9]{0,1:T(8,128)(4,1)}",
                                        "f32[<=10,3]{1,0}",
                                        "pred[3]{0:S(5)}",
                                        "u4[64]{0:E(4)}",
                                        "f16[2,3,4]{1,2,0:T(2,128)(2,1)S(1)}"};
  ProgramSignature sig;
  sig.name = *rc::gen::element<std::string>("jit_f", "main.1", "x-y_z.2");
  sig.replica_count = *rc::gen::inRange<int64_t>(1, 5);
  sig.num_partitions = *rc::gen::inRange<int64_t>(1, 5);
  const int n = *rc::gen::inRange(0, 12);
  for (int i = 0; i < n; ++i) {
    ParameterSignature p;
    p.index = i;
    p.parameter_number = i;
    p.name = absl::StrCat("Arg_", i);
    p.shape =
        *ParseShape(kShapes[*rc::gen::inRange<size_t>(0, std::size(kShapes))]);
    if (*rc::gen::arbitrary<bool>()) p.sharding = "{devices=[2,1]0,1}";
    sig.parameters.push_back(p);
  }
  FillDerivedFields(&sig, MemoryKindMap());
  absl::StatusOr<ProgramSignature> back =
      SignatureFromJson(SignatureToJson(sig));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == sig);
}

// Regression: tuple shardings of 6 or more elements (XLA prints
// /*index=5*/ before the sixth) were kept whole on every leaf by a separate
// splitter; the sharding module's parser now splits them.
TEST(HloSignatureTest, TupleShardingOfSixOrMoreElementsIsSplit) {
  ProgramSignature sig = MustParse(
      "HloModule t, entry_computation_layout={((f32[8]{0}, f32[8]{0}, "
      "f32[8]{0}, f32[8]{0}, f32[8]{0}, /*index=5*/f32[8]{0}, f32[6]{0}))"
      "->f32[]}, num_partitions=2\n"
      "ENTRY e {\n  p = (f32[8]{0}, f32[8]{0}, f32[8]{0}, f32[8]{0}, "
      "f32[8]{0}, /*index=5*/f32[8]{0}, f32[6]{0}) parameter(0), "
      "sharding={{replicated}, {replicated}, {replicated}, {replicated}, "
      "{maximal device=1}, /*index=5*/{devices=[2]<=[2]}, "
      "{devices=[2]0,1 metadata={op_name=\"x\"}}}\n"
      "  ROOT c = f32[] constant(0), sharding={replicated}\n}\n");
  ASSERT_EQ(sig.parameters.size(), 7u);
  EXPECT_EQ(sig.parameters[0].sharding, "{replicated}");
  EXPECT_EQ(sig.parameters[4].sharding, "{maximal device=1}");
  EXPECT_EQ(sig.parameters[5].sharding, "{devices=[2]<=[2]}");
  EXPECT_EQ(sig.parameters[6].sharding,
            "{devices=[2]0,1 metadata={op_name=\"x\"}}");
  // Before partitioning (the ROOT carries a sharding): leaf 5 is cut in
  // two, leaf 6 unevenly (f32[6] over 2 is 3 each).
  EXPECT_EQ(sig.dump_stage, DumpStage::kBeforePartitioning);
  EXPECT_EQ(sig.parameters[5].per_device_shape.ToString(true), "f32[4]{0}");
  EXPECT_EQ(sig.parameters[6].per_device_shape.ToString(true), "f32[3]{0}");
  EXPECT_EQ(sig.parameters[4].per_device_shape.ToString(true), "f32[8]{0}");
}

constexpr char kUnevenProgram[] =
    "HloModule m, entry_computation_layout={(f32[10,7]{1,0:T(8,128)}, "
    "bf16[4096,1024]{1,0:T(8,128)(2,1)}, s32[]{:T(128)})->f32[]}, "
    "num_partitions=8\n"
    "ENTRY %main {\n"
    "  %a = f32[10,7]{1,0:T(8,128)} parameter(0), "
    "sharding={devices=[4,2]<=[8]}\n"
    "  %w = bf16[4096,1024]{1,0:T(8,128)(2,1)} parameter(1), "
    "sharding={devices=[8,1]<=[8]}\n"
    "  %s = s32[]{:T(128)} parameter(2), sharding={replicated}\n"
    "  ROOT %c = f32[] constant(0)\n"
    "}\n";

// Regression (user trial): shardings were not checked against the
// module's partitions, so a sharding XLA rejects got a per-device size.
TEST(HloSignatureTest, ShardingsThatDoNotFitThePartitionsAreWarnedAbout) {
  ProgramSignature sig = MustParse(
      "HloModule m, entry_computation_layout={(f32[8]{0}, f32[8]{0}, "
      "f32[8]{0}, f32[8]{0}, f32[8]{0})->f32[]}, num_partitions=4\n"
      "ENTRY %main {\n"
      "  %a = f32[8]{0} parameter(0), sharding={maximal device=-1}\n"
      "  %b = f32[8]{0} parameter(1), sharding={devices=[2]<=[2]}\n"
      "  %c = f32[8]{0} parameter(2), sharding={devices=[8]<=[8]}\n"
      "  %e = f32[8]{0} parameter(3), sharding={maximal device=7}\n"
      "  %g = f32[8]{0} parameter(4), sharding={devices=[4]<=[4]}\n"
      "  ROOT %r = f32[] constant(0)\n}\n");
  ASSERT_EQ(sig.parameters.size(), 5u);
  EXPECT_THAT(sig.warnings,
              ElementsAre(HasSubstr("parameter 0 (a): sharding {maximal "
                                    "device=-1}: device -1 is negative"),
                          HasSubstr("uses 2 devices but the module has 4"),
                          HasSubstr("device 4 is out of range"),
                          HasSubstr("device 7 is out of range")));
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(sig.parameters[i].per_device_known) << i;
    EXPECT_EQ(sig.parameters[i].per_device_xla_bytes, -1) << i;
  }
  EXPECT_TRUE(sig.parameters[4].per_device_known);
  EXPECT_EQ(sig.parameters[4].per_device_xla_bytes, 32);
}

TEST(HloSignatureTest, DumpStageFromTheFileNameAndPerDeviceShapes) {
  // Only entry parameters are annotated: after partitioning, not certain.
  ProgramSignature after = MustParse(kUnevenProgram);
  EXPECT_EQ(after.dump_stage, DumpStage::kAfterPartitioning);
  EXPECT_FALSE(after.dump_stage_certain);
  EXPECT_EQ(after.parameters[0].per_device_shape, after.parameters[0].shape);
  EXPECT_EQ(after.parameters[0].per_device_xla_bytes, 8192);
  // XLA's name for the dump taken before any pass: global shapes.
  SignatureReadOptions options;
  options.file_name = "module_0001.jit_m.before_optimizations.txt";
  ProgramSignature before = MustParse(kUnevenProgram, options);
  EXPECT_EQ(before.dump_stage, DumpStage::kBeforePartitioning);
  EXPECT_TRUE(before.dump_stage_certain);
  EXPECT_THAT(before.dump_stage_reason, HasSubstr("before_optimizations"));
  // f32[10,7] over [4,2]: ceil(10/4) = 3, ceil(7/2) = 4, padded by the
  // (8,128) tile to 8*128*4 = 4,096 bytes (the global 16*128*4 = 8,192).
  const ParameterSignature& a = before.parameters[0];
  EXPECT_EQ(a.per_device_shape.ToString(true), "f32[3,4]{1,0:T(8,128)}");
  EXPECT_EQ(a.xla_bytes, 8192);
  EXPECT_EQ(a.per_device_xla_bytes, 4096);
  EXPECT_EQ(a.per_device_exact_bytes, 4096);
  // bf16[4096,1024] over 8 rows: [512,1024], 1 MiB per device.
  const ParameterSignature& w = before.parameters[1];
  EXPECT_EQ(w.per_device_shape.ToString(true),
            "bf16[512,1024]{1,0:T(8,128)(2,1)}");
  EXPECT_EQ(w.per_device_xla_bytes, 1048576);
  EXPECT_EQ(before.parameters[2].per_device_xla_bytes, 512);
  // Regression (user trial): cut off inside ENTRY, the dump cannot show
  // the instructions that would say "before", so the stage is unknown (and
  // shapes are taken as global), not "after" (which made the per-device
  // total 8x the real one).
  std::string cut = kUnevenProgram;
  cut.resize(cut.find("  %s = s32"));
  ProgramSignature truncated = MustParse(cut);
  EXPECT_EQ(truncated.dump_stage, DumpStage::kUnknown);
  EXPECT_THAT(truncated.dump_stage_reason, HasSubstr("ends inside ENTRY"));
  EXPECT_EQ(truncated.parameters[0].per_device_xla_bytes, 4096);
  // A sharded non-parameter instruction says "before" too.
  std::string text = kUnevenProgram;
  text.replace(text.find("constant(0)"), 11,
               "constant(0), sharding={replicated}");
  EXPECT_EQ(MustParse(text).dump_stage, DumpStage::kBeforePartitioning);
  // ... but not on an infeed, which the partitioner keeps.
  text = kUnevenProgram;
  text.replace(text.find("  ROOT %c"), 0,
               "  %in = (f32[2]{0}, token[]) infeed(%tok), "
               "sharding={{replicated}, {replicated}}\n");
  EXPECT_EQ(MustParse(text).dump_stage, DumpStage::kAfterPartitioning);
  // One partition: every device holds the global shape.
  text = kUnevenProgram;
  text.replace(text.find("num_partitions=8"), 16, "num_partitions=1");
  ProgramSignature single = MustParse(text, options);
  EXPECT_EQ(single.dump_stage, DumpStage::kSinglePartition);
  EXPECT_EQ(single.parameters[0].per_device_xla_bytes, 8192);
}

TEST(HloSignatureTest, JsonRecordsTheStageAndPerDeviceFields) {
  SignatureReadOptions options;
  options.file_name = "x.before_optimizations.txt";
  ProgramSignature sig = MustParse(kUnevenProgram, options);
  std::string json = SignatureToJson(sig);
  EXPECT_THAT(json, HasSubstr("\"dump_stage\": \"before_spmd_partitioning\""));
  EXPECT_THAT(json,
              HasSubstr("\"per_device_shape\": \"f32[3,4]{1,0:T(8,128)}\""));
  EXPECT_THAT(json, HasSubstr("\"per_device_xla_bytes\": 4096"));
  absl::StatusOr<ProgramSignature> back = SignatureFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, sig);
  // A per-device shape that the sharding does not give is refused.
  std::string edited = json;
  edited.replace(edited.find("f32[3,4]"), 8, "f32[5,4]");
  absl::Status bad = SignatureFromJson(edited).status();
  EXPECT_THAT(bad.message(), HasSubstr("per_device_shape is \"f32[5,4]"));
  EXPECT_THAT(bad.message(), HasSubstr("gives f32[3,4]{1,0:T(8,128)}"));
  // An older file without dump_stage: unknown, shapes taken as global.
  edited = json;
  edited.replace(edited.find("\"dump_stage\": \"before_spmd_partitioning\","),
                 44, "");
  back = SignatureFromJson(edited);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dump_stage, DumpStage::kUnknown);
  EXPECT_EQ(back->parameters[0].per_device_xla_bytes, 4096);
  // After partitioning: per-device == shape, and it round-trips.
  ProgramSignature after = MustParse(kUnevenProgram);
  back = SignatureFromJson(SignatureToJson(after));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, after);
  EXPECT_EQ(back->parameters[0].per_device_xla_bytes, 8192);
  EXPECT_FALSE(
      SignatureFromJson("{\"name\": \"m\", \"dump_stage\": \"before\", "
                        "\"parameters\": []}")
          .ok());
}

// Regression (user trial 2): a sharding that does not parse gave the
// global size as the per-device size (4x too big for devices=[4,1]). It is
// unknown now: a warning, per_device_known false, sizes -1, null in JSON.
constexpr absl::string_view kJunkShardingProgram =
    "HloModule m, entry_computation_layout={(f32[64,256]{1,0})->f32[]}, "
    "num_partitions=4\n"
    "ENTRY e {\n"
    "  p = f32[64,256]{1,0} parameter(0), sharding={devices=[4,1]<=[4] "
    "junk}\n"
    "  c = f32[] constant(0), sharding={replicated}\n"
    "}\n";

TEST(HloSignatureTest, ShardingThatDoesNotParseGivesNoPerDeviceSize) {
  ProgramSignature sig = MustParse(kJunkShardingProgram);
  EXPECT_EQ(sig.dump_stage, DumpStage::kBeforePartitioning);
  ASSERT_EQ(sig.parameters.size(), 1u);
  const ParameterSignature& p = sig.parameters[0];
  EXPECT_EQ(p.xla_bytes, 65536);
  EXPECT_FALSE(p.per_device_known);
  EXPECT_EQ(p.per_device_xla_bytes, -1);
  EXPECT_EQ(p.per_device_exact_bytes, -1);
  ASSERT_EQ(sig.warnings.size(), 1u);
  EXPECT_THAT(sig.warnings[0],
              HasSubstr("parameter 0 (p): sharding {devices=[4,1]<=[4] junk} "
                        "not applied (col 21: unknown word 'junk'"));
  EXPECT_THAT(
      sig.warnings[0],
      ::testing::EndsWith("); its per-device shape and size are unknown"));
  std::string json = SignatureToJson(sig);
  EXPECT_THAT(json, HasSubstr("\"per_device_shape\": null,\n"
                              "      \"per_device_xla_bytes\": null,\n"
                              "      \"per_device_exact_bytes\": null"));
  absl::StatusOr<ProgramSignature> back = SignatureFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, sig);
  EXPECT_EQ(SignatureToJson(*back), json);
}

TEST(HloSignatureTest, ShardingThatDoesNotFitGivesNoPerDeviceSize) {
  std::string text(kJunkShardingProgram);
  const std::string junk = "{devices=[4,1]<=[4] junk}";
  text.replace(text.find(junk), junk.size(), "{devices=[2,1,2]<=[4]}");
  ProgramSignature sig = MustParse(text);
  ASSERT_EQ(sig.parameters.size(), 1u);
  EXPECT_FALSE(sig.parameters[0].per_device_known);
  EXPECT_EQ(sig.parameters[0].per_device_xla_bytes, -1);
  ASSERT_EQ(sig.warnings.size(), 1u);
  EXPECT_THAT(sig.warnings[0],
              HasSubstr("its per-device shape and size are unknown"));
  // A sharding that parses and fits still cuts the shape.
  text = std::string(kJunkShardingProgram);
  text.replace(text.find(junk), junk.size(), "{devices=[4,1]<=[4]}");
  sig = MustParse(text);
  EXPECT_TRUE(sig.parameters[0].per_device_known);
  EXPECT_EQ(sig.parameters[0].per_device_xla_bytes, 16384);
  EXPECT_TRUE(sig.warnings.empty());
}

// The same rule for a JSON signature: "total garbage" is accepted, its
// per-device values are unknown, and values a file gives for them (as files
// written before the fix did) are ignored with a warning.
TEST(HloSignatureJsonTest, ShardingThatDoesNotParseGivesNoPerDeviceSize) {
  const std::string json =
      "{\"name\": \"m\", \"num_partitions\": 4, "
      "\"dump_stage\": \"before_spmd_partitioning\", \"parameters\": ["
      "{\"shape\": \"s32[32,512]{1,0:T(8,128)}\", \"sharding\": \"total "
      "garbage\", \"per_device_shape\": \"s32[32,512]{1,0:T(8,128)}\", "
      "\"per_device_xla_bytes\": 65536, \"per_device_exact_bytes\": null}, "
      "{\"shape\": \"f32[8]{0}\", \"sharding\": \"{devices=[4]<=[4]}\"}]}";
  absl::StatusOr<ProgramSignature> sig = SignatureFromJson(json);
  ASSERT_TRUE(sig.ok()) << sig.status();
  ASSERT_EQ(sig->parameters.size(), 2u);
  const ParameterSignature& p = sig->parameters[0];
  EXPECT_FALSE(p.per_device_known);
  EXPECT_EQ(p.per_device_xla_bytes, -1);
  EXPECT_EQ(p.per_device_exact_bytes, -1);
  EXPECT_TRUE(sig->parameters[1].per_device_known);
  EXPECT_EQ(sig->parameters[1].per_device_xla_bytes, 8);
  ASSERT_EQ(sig->warnings.size(), 3u)
      << ::testing::PrintToString(sig->warnings);
  EXPECT_THAT(sig->warnings[0],
              HasSubstr("parameter 0 (): sharding total garbage not applied"));
  EXPECT_EQ(sig->warnings[1],
            "parameters[0]: per_device_shape \"s32[32,512]{1,0:T(8,128)}\" "
            "ignored: the sharding does not apply, so it cannot be derived");
  EXPECT_EQ(sig->warnings[2],
            "parameters[0]: per_device_xla_bytes 65536 ignored: the sharding "
            "does not apply, so it cannot be derived");
  EXPECT_THAT(SignatureToJson(*sig, -1),
              HasSubstr("\"per_device_shape\":null,\"per_device_xla_bytes\":"
                        "null,\"per_device_exact_bytes\":null}"));
}

TEST(HloTextTest, MayBeParameterInstruction) {
  EXPECT_TRUE(
      hlo_text::MayBeParameterInstruction("  %p = f32[2]{0} parameter(0)"));
  EXPECT_TRUE(hlo_text::MayBeParameterInstruction(
      "  p = (f32[2]{0}, /*index=5*/s32[]) parameter(0)"));
  EXPECT_TRUE(
      hlo_text::MayBeParameterInstruction("  p = f32[ 2 ] parameter(0)"));
  EXPECT_FALSE(
      hlo_text::MayBeParameterInstruction("  %a = f32[2]{0} add(%x, %y)"));
  EXPECT_FALSE(
      hlo_text::MayBeParameterInstruction("  ROOT %t = (f32[2]) tuple(%p)"));
}

// Issue 10.4: a binary file is refused from its first bytes (not after
// reading up to max_header_bytes of it), and the message shows the bytes
// escaped instead of stopping at the first NUL.
TEST(HloSignatureFileTest, BinaryFileIsRefusedFromItsFirstBytes) {
  char dir_template[] = "/tmp/xlayout-sig-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string sparse = dir + "/zeros.bin";
  {
    std::ofstream out(sparse, std::ios::binary);
    out << std::string(16, '\0');
  }
  // 4 GiB of zeros (sparse): the old reader took it for one header line.
  ASSERT_EQ(truncate(sparse.c_str(), int64_t{4} << 30), 0);
  const auto start = std::chrono::steady_clock::now();
  absl::Status s = ReadSignatureFile(sparse).status();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              ::testing::HasSubstr(
                  "not a text HLO dump or JSON signature (binary data: "
                  "\\x00\\x00"));
  EXPECT_LT(seconds, 2.0);
  const std::string latin1 = dir + "/latin1.txt";
  {
    std::ofstream out(latin1, std::ios::binary);
    out << "HloModule m\xff\xfe, entry_computation_layout={()->()}\n";
  }
  absl::Status bad_utf8 = ReadSignatureFile(latin1).status();
  EXPECT_EQ(bad_utf8.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_utf8.message(), ::testing::HasSubstr("HloModule m\\xff"));
  // Devices are refused before any read.
  absl::Status dev = ReadSignatureFile("/dev/zero").status();
  EXPECT_EQ(dev.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dev.message(), ::testing::HasSubstr("character device"));
  unlink(sparse.c_str());
  unlink(latin1.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace xlayout
