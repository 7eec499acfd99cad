#include "xlayout/executable.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/test_programs.h"
#include "testing/parse.h"
#include "xlayout/runtime_messages.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kDocsShape[] = "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}";
constexpr char kDocsWrongShape[] = "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}";

constexpr auto S = test_util::ParseOrFail;

Buffer B(const char* shape, absl::string_view kind = "") {
  absl::StatusOr<Buffer> b = Buffer::Describe(S(shape), kind);
  EXPECT_TRUE(b.ok()) << b.status();
  return *std::move(b);
}

Executable Exe(const std::string& hlo, const MemoryKindMap& kinds = {}) {
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(hlo);
  EXPECT_TRUE(sig.ok()) << sig.status();
  absl::StatusOr<Executable> exe = Executable::Create(*sig, kinds);
  EXPECT_TRUE(exe.ok()) << exe.status();
  return *std::move(exe);
}

std::string Program(const std::vector<std::string>& shapes,
                    const std::string& name = "jit_f", int replicas = 1,
                    int partitions = 1) {
  std::map<int64_t, std::string> m;
  for (size_t i = 0; i < shapes.size(); ++i) m[i] = shapes[i];
  return testing::MakeProgramHlo(name, shapes.size(), replicas, partitions, m);
}

DeviceArguments Dev(std::vector<const Buffer*> buffers, int64_t replica = 0,
                    int64_t partition = 0) {
  return DeviceArguments{replica, partition, std::move(buffers)};
}

// The E0102 sample of XLA's docs (docs/errors/error_0102.md), rebuilt from a
// 2483-parameter program and one wrong buffer on replica 0, partition 0 of a
// two-partition run.
TEST(ExecutableTest, ReproducesTheDocsSampleByteForByte) {
  const int64_t n = 2483;
  Executable exe = Exe(testing::MakeProgramHlo("jit_embedding_pipeline_step_fn",
                                               n, 1, 2, {{2482, kDocsShape}}));
  ASSERT_EQ(exe.num_parameters(), n);
  Buffer filler = B("f32[128]{0:T(128)}");
  Buffer right = B(kDocsShape);
  Buffer wrong = B(kDocsWrongShape);
  std::vector<const Buffer*> dev0(n, &filler), dev1(n, &filler);
  dev0[2482] = &wrong;
  dev1[2482] = &right;
  std::vector<DeviceArguments> args = {Dev(dev0, 0, 0), Dev(dev1, 0, 1)};
  bool launched = false;
  absl::Status status = exe.Execute(args, [&](auto) {
    launched = true;
    return absl::OkStatus();
  });
  EXPECT_FALSE(launched);
  EXPECT_EQ(
      RenderStatus(status),
      "INVALID_ARGUMENT: Executable(jit_embedding_pipeline_step_fn) expected "
      "parameter 2482 of size 5242880 (bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) "
      "but got buffer with incompatible size 1638400 "
      "(bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}): while running replica 0 and "
      "partition 0 of a replicated computation (other replicas may have failed "
      "as well).");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExecutableTest, SizeMessageWithoutSuffixOnOneDevice) {
  Executable exe = Exe(Program({"f32[2,3]{1,0}", kDocsShape}));
  Buffer a = B("f32[2,3]{1,0}"), bad = B(kDocsWrongShape);
  std::vector<DeviceArguments> args = {Dev({&a, &bad})};
  ValidationResult r = exe.Validate(args);
  EXPECT_EQ(
      r.status.message(),
      "Executable(jit_f) expected parameter 1 of size 5242880 "
      "(bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) but got buffer with "
      "incompatible size 1638400 (bf16[16,1280,40]{1,2,0:T(8,128)(2,1)})");
  ASSERT_EQ(r.findings.size(), 1u);
  const MismatchRecord& m = r.findings[0];
  EXPECT_EQ(m.reason, MismatchReason::kSize);
  EXPECT_EQ(m.program, "jit_f");
  EXPECT_EQ(m.parameter, 1);
  EXPECT_EQ(m.parameter_name, "Arg_1.2");
  EXPECT_EQ(m.replica, 0);
  EXPECT_EQ(m.partition, 0);
  EXPECT_EQ(m.expected->ToString(true), kDocsShape);
  EXPECT_EQ(m.actual->ToString(true), kDocsWrongShape);
  EXPECT_EQ(m.expected_bytes, 5242880);
  EXPECT_EQ(m.actual_bytes, 1638400);
  EXPECT_EQ(m.expected_memory_kind, "device");
  EXPECT_EQ(m.actual_memory_kind, "device");
  EXPECT_EQ(m.message, r.status.message());
}

// A dump before SPMD partitioning (the ROOT still carries a sharding): the
// guard compares each device's buffer with the global shape cut by the
// sharding, as the runtime does. f32[10,7] over devices=[4,2] is f32[3,4]
// on every device (ceil(10/4) = 3, ceil(7/2) = 4); with T(8,128) that is
// 8*128*4 = 4,096 bytes against 16*128*4 = 8,192 for the global array.
constexpr char kShardedBefore[] =
    "HloModule jit_f, entry_computation_layout={(f32[10,7]{1,0:T(8,128)}, "
    "f32[6]{0})->f32[]}, num_partitions=8\n"
    "ENTRY %main {\n"
    "  %a = f32[10,7]{1,0:T(8,128)} parameter(0), "
    "sharding={devices=[4,2]<=[8]}\n"
    "  %b = f32[6]{0} parameter(1), sharding={replicated}\n"
    "  ROOT %c = f32[] constant(0), sharding={replicated}\n"
    "}\n";

TEST(ExecutableTest, ComparesPerDeviceBuffersOfAShardedProgram) {
  Executable exe = Exe(kShardedBefore);
  EXPECT_EQ(exe.signature().dump_stage, DumpStage::kBeforePartitioning);
  Buffer shard = B("f32[3,4]{1,0:T(8,128)}"),
         global = B("f32[10,7]{1,0:T(8,128)}");
  Buffer b = B("f32[6]{0}");
  ValidationResult ok = exe.Validate({Dev({&shard, &b})});
  EXPECT_TRUE(ok.ok()) << ok.status;
  ValidationResult r = exe.Validate({Dev({&global, &b})});
  EXPECT_EQ(r.status.message(),
            "Executable(jit_f) expected parameter 0 of size 4096 "
            "(f32[3,4]{1,0:T(8,128)}) but got buffer with incompatible size "
            "8192 (f32[10,7]{1,0:T(8,128)})");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].expected->ToString(true), "f32[3,4]{1,0:T(8,128)}");
  EXPECT_EQ(r.findings[0].expected_bytes, 4096);
  // Strict mode compares the per-device layout too.
  Buffer transposed = B("f32[3,4]{0,1:T(8,128)}");
  ValidationOptions strict;
  strict.strict_layout = true;
  r = exe.Validate({Dev({&transposed, &b})}, strict);
  EXPECT_EQ(r.status.message(),
            "Executable(jit_f) expected parameter 0 as f32[3,4]{1,0:T(8,128)} "
            "but got buffer f32[3,4]{0,1:T(8,128)} with the same size 4096 and "
            "a different shape or physical layout (strict layout check)");
  // After partitioning (no sharding but on entry parameters) the shapes are
  // per-device already: nothing is cut again.
  std::string after = kShardedBefore;
  after.replace(after.find(", sharding={replicated}\n}"), 22, "");
  Executable exe_after = Exe(after);
  EXPECT_EQ(exe_after.signature().dump_stage, DumpStage::kAfterPartitioning);
  EXPECT_TRUE(exe_after.Validate({Dev({&global, &b})}).ok());
  EXPECT_FALSE(exe_after.Validate({Dev({&shard, &b})}).ok());
}

TEST(ExecutableTest, BufferCountMessage) {
  Executable exe = Exe(Program({"f32[2]{0}", "f32[2]{0}"}, "p", 2, 1));
  Buffer a = B("f32[2]{0}");
  std::vector<DeviceArguments> args = {Dev({&a}, 1, 0), Dev({&a, &a}, 0, 0)};
  ValidationResult r = exe.Validate(args);
  EXPECT_EQ(RenderStatus(r.status),
            "INVALID_ARGUMENT: Execution supplied 1 buffers but compiled "
            "program expected 2 buffers: while running replica 1 and partition "
            "0 of a replicated computation (other replicas may have failed as "
            "well).");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].reason, MismatchReason::kBufferCount);
  EXPECT_EQ(r.findings[0].parameter, -1);
  EXPECT_EQ(r.findings[0].expected_bytes, 2);
  EXPECT_EQ(r.findings[0].actual_bytes, 1);
}

TEST(ExecutableTest, MemorySpaceMessage) {
  Executable exe = Exe(Program({"f32[4]{0}", "f32[4]{0:S(5)}"}));
  Buffer dev = B("f32[4]{0}"), host = B("f32[4]{0:S(5)}");
  std::vector<DeviceArguments> args = {Dev({&host, &dev})};
  ValidationResult r = exe.Validate(args);
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.status.message(),
            "Executable(jit_f) got a parameter buffer for parameter 0 in an "
            "unexpected memory space 'pinned_host'");
  EXPECT_EQ(r.findings[1].message,
            "Executable(jit_f) got a parameter buffer for parameter 1 in an "
            "unexpected memory space 'device'");
  EXPECT_EQ(r.findings[0].reason, MismatchReason::kMemorySpace);
  EXPECT_EQ(r.findings[0].expected_memory_kind, "device");
  EXPECT_EQ(r.findings[0].actual_memory_kind, "pinned_host");
}

TEST(ExecutableTest, ExplicitBufferKindAndCustomMapping) {
  absl::StatusOr<MemoryKindMap> kinds = MemoryKindMap::Parse("0=hbm,5=host");
  ASSERT_TRUE(kinds.ok());
  Executable exe = Exe(Program({"f32[4]{0:S(5)}"}), *kinds);
  EXPECT_EQ(exe.signature().parameters[0].memory_kind, "host");
  Buffer ok = B("f32[4]{0}", "host"), bad = B("f32[4]{0}", "hbm");
  std::vector<DeviceArguments> good = {Dev({&ok})}, wrong = {Dev({&bad})};
  EXPECT_TRUE(exe.Validate(good).ok());
  EXPECT_THAT(exe.Validate(wrong).status.message(),
              HasSubstr("unexpected memory space 'hbm'"));
}

TEST(ExecutableTest, DynamicShapeChecksInPrefixMemorySpaces) {
  MemoryKindMap kinds;
  kinds.SetDynamicShapeMetadata(0, DynamicShapeMetadata::kPrefix);
  Executable exe = Exe(Program({"bf16[<=8,4]{1,0}"}), kinds);
  struct Case {
    const char* buffer;
    MismatchReason reason;
    const char* message;
  } cases[] = {
      {"f32[<=8,4]{1,0}", MismatchReason::kElementType,
       "Executable(jit_f) expected parameter 0 to have element type BF16 but "
       "got buffer with element type F32"},
      {"bf16[<=8,4,1]{2,1,0}", MismatchReason::kRank,
       "Executable(jit_f) expected parameter 0 to have rank 2 but got buffer "
       "with rank 3"},
      {"bf16[<=8,4]{0,1}", MismatchReason::kLayout,
       "Executable(jit_f) expected parameter 0 to have layout {1,0} but got "
       "buffer with layout {0,1}"},
      {"bf16[<=9,4]{1,0}", MismatchReason::kDynamicDimension,
       "Executable(jit_f) expected parameter 0 dimension 0 runtime size <= 8, "
       "but got buffer with size 9"},
  };
  for (const Case& c : cases) {
    Buffer b = B(c.buffer);
    std::vector<DeviceArguments> args = {Dev({&b})};
    ValidationResult r = exe.Validate(args);
    ASSERT_FALSE(r.findings.empty()) << c.buffer;
    EXPECT_EQ(r.findings[0].reason, c.reason) << c.buffer;
    EXPECT_EQ(r.status.message(), c.message);
  }
  // Within bounds and same layout: passes although the byte sizes differ.
  Buffer smaller = B("bf16[<=3,4]{1,0}");
  std::vector<DeviceArguments> args = {Dev({&smaller})};
  EXPECT_TRUE(exe.Validate(args).ok());
  // Without the prefix kind, the same buffer fails XLA's size check.
  Executable plain = Exe(Program({"bf16[<=8,4]{1,0}"}));
  ValidationResult r = plain.Validate(args);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].reason, MismatchReason::kSize);
  EXPECT_EQ(r.findings[0].dimension, -1);
}

TEST(ExecutableTest, StrictModeCatchesSameSizeDifferentLayouts) {
  struct Case {
    const char* expected;
    const char* actual;
  } cases[] = {
      {"f32[512,512]{1,0}", "f32[512,512]{0,1}"},
      // Different tilings that pad to the same byte count.
      {"f32[8,128]{1,0:T(8,128)}", "f32[8,128]{1,0:T(4,128)}"},
      {"bf16[16,256]{1,0:T(8,128)(2,1)}", "bf16[16,256]{1,0:T(16,128)(2,1)}"},
      // Same bytes, other logical shape.
      {"f32[4,4]{1,0}", "s32[16]{0}"},
  };
  for (const Case& c : cases) {
    Executable exe = Exe(Program({c.expected}));
    Buffer b = B(c.actual);
    ASSERT_EQ(b.on_device_size_in_bytes(),
              exe.signature().parameters[0].xla_bytes)
        << c.actual;
    std::vector<DeviceArguments> args = {Dev({&b})};
    EXPECT_TRUE(exe.Validate(args).ok())
        << "XLA lets " << c.actual << " through";
    ValidationOptions strict;
    strict.strict_layout = true;
    ValidationResult r = exe.Validate(args, strict);
    ASSERT_EQ(r.findings.size(), 1u) << c.actual;
    EXPECT_EQ(r.findings[0].reason, MismatchReason::kStrictLayout);
    EXPECT_EQ(r.status.message(),
              StrictLayoutMessage("jit_f", 0, b.on_device_size_in_bytes(),
                                  S(c.expected), S(c.actual)));
    // The identical layout passes strict mode, in any memory space check.
    Buffer same = B(c.expected);
    std::vector<DeviceArguments> same_args = {Dev({&same})};
    EXPECT_TRUE(exe.Validate(same_args, strict).ok());
  }
}

TEST(ExecutableTest, EveryFindingUpToMaxErrors) {
  Executable exe =
      Exe(Program({"f32[4]{0}", "f32[8]{0}", "f32[16]{0}"}, "p", 1, 2));
  Buffer small = B("f32[1]{0}"), host = B("f32[1]{0:S(5)}");
  std::vector<DeviceArguments> args = {Dev({&small, &small, &host}, 0, 0),
                                       Dev({&small, &small, &small}, 0, 1)};
  ValidationResult all = exe.Validate(args);
  // Device 0: 3 sizes + 1 memory space; device 1: 3 sizes.
  ASSERT_EQ(all.findings.size(), 7u);
  EXPECT_FALSE(all.truncated);
  EXPECT_EQ(all.findings[3].reason, MismatchReason::kMemorySpace);
  EXPECT_EQ(all.findings[4].partition, 1);
  EXPECT_THAT(
      all.findings[6].message,
      HasSubstr("parameter 2 of size 64 (f32[16]{0}) but got buffer with "
                "incompatible size 4 (f32[1]{0}): while running replica 0 "
                "and partition 1"));
  EXPECT_EQ(all.status.message(), all.findings[0].message);

  ValidationOptions two;
  two.max_errors = 2;
  ValidationResult some = exe.Validate(args, two);
  EXPECT_EQ(some.findings.size(), 2u);
  EXPECT_TRUE(some.truncated);
  ValidationOptions one;
  one.max_errors = 1;
  EXPECT_EQ(exe.Validate(args, one).findings.size(), 1u);
}

TEST(ExecutableTest, E0102FormWithSuffixPlacement) {
  Executable exe = Exe(Program({kDocsShape}, "jit_f", 2, 1));
  Buffer bad = B(kDocsWrongShape), good = B(kDocsShape);
  const std::string msg =
      "Executable(jit_f) expected parameter 0 of size 5242880 "
      "(bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) but got buffer with "
      "incompatible size 1638400 (bf16[16,1280,40]{1,2,0:T(8,128)(2,1)})";
  const std::string suffix =
      "while running replica 1 and partition 0 of a replicated computation "
      "(other replicas may have failed as well).";
  const std::string docs =
      "See https://openxla.org/xla/errors/error_0102 for more details.";
  ValidationOptions e0102;
  e0102.e0102_format = true;
  std::vector<DeviceArguments> one = {Dev({&bad}, 1, 0)};
  EXPECT_EQ(RenderStatus(exe.Validate(one, e0102).status),
            "INVALID_ARGUMENT: E0102: RuntimeProgramInputMismatch:\n" + msg +
                "\n" + docs);
  std::vector<DeviceArguments> two = {Dev({&good}, 0, 0), Dev({&bad}, 1, 0)};
  // XLA's AppendStatus appends to the whole message, docs line included.
  EXPECT_EQ(exe.Validate(two, e0102).status.message(),
            "E0102: RuntimeProgramInputMismatch:\n" + msg + "\n" + docs + ": " +
                suffix);
  e0102.suffix_before_docs_line = true;
  EXPECT_EQ(exe.Validate(two, e0102).status.message(),
            "E0102: RuntimeProgramInputMismatch:\n" + msg + ": " + suffix +
                "\n" + docs);
}

TEST(ExecutableTest, LaunchRunsOnlyAfterEverythingPasses) {
  Executable exe = Exe(Program({"f32[2]{0}"}, "p", 1, 2));
  Buffer a = B("f32[2]{0}");
  std::vector<DeviceArguments> args = {Dev({&a}, 0, 0), Dev({&a}, 0, 1)};
  int calls = 0;
  absl::Status s =
      exe.Execute(args, [&](absl::Span<const DeviceArguments> got) {
        ++calls;
        EXPECT_EQ(got.size(), 2u);
        return absl::InternalError("device lost");
      });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);

  Buffer b = B("f32[3]{0}");
  args[1].buffers[0] = &b;
  std::vector<MismatchRecord> findings;
  s = exe.Execute(
      args,
      [&](auto) {
        ++calls;
        return absl::OkStatus();
      },
      {}, &findings);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].partition, 1);
}

TEST(ExecutableTest, UsageErrorsAreNotFindings) {
  Executable exe = Exe(Program({"f32[2]{0}"}, "p", 2, 1));
  Buffer a = B("f32[2]{0}");
  EXPECT_THAT(exe.Validate({}).status.message(),
              HasSubstr("no device arguments"));
  std::vector<DeviceArguments> out_of_range = {Dev({&a}, 2, 0)};
  EXPECT_THAT(exe.Validate(out_of_range).status.message(),
              HasSubstr("there is no replica 2 partition 0"));
  std::vector<DeviceArguments> twice = {Dev({&a}, 1, 0), Dev({&a}, 1, 0)};
  EXPECT_THAT(exe.Validate(twice).status.message(), HasSubstr("given twice"));
  std::vector<DeviceArguments> null = {Dev({nullptr})};
  ValidationResult r = exe.Validate(null);
  EXPECT_THAT(r.status.message(), HasSubstr("null buffer for parameter 0"));
  EXPECT_TRUE(r.findings.empty());
}

TEST(ExecutableTest, CreateRejectsBadSignatures) {
  ProgramSignature sig;
  EXPECT_FALSE(Executable::Create(sig).ok());
  sig.name = "p";
  sig.num_partitions = 0;
  EXPECT_FALSE(Executable::Create(sig).ok());
  sig.num_partitions = INT64_MAX;
  sig.replica_count = 2;
  EXPECT_THAT(Executable::Create(sig).status().message(),
              HasSubstr("overflows"));
}

TEST(ExecutableTest, UnknownExpectedSizeSkipsOnlyTheSizeCheck) {
  Executable exe = Exe(Program({"f32[?,4]{1,0}"}));
  Buffer b = B("f32[3,4]{1,0}"), host = B("f32[3,4]{1,0:S(5)}");
  std::vector<DeviceArguments> ok = {Dev({&b})}, bad = {Dev({&host})};
  EXPECT_TRUE(exe.Validate(ok).ok());
  EXPECT_EQ(exe.Validate(bad).findings.at(0).reason,
            MismatchReason::kMemorySpace);
}

}  // namespace
}  // namespace xlayout
