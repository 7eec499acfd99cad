#include "xlayout/signature_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/memory_kind.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Param {
  Param(std::string n, std::string s,
        std::optional<std::string> sh = std::nullopt)
      : name(std::move(n)), shape(std::move(s)), sharding(std::move(sh)) {}
  std::string name;
  std::string shape;
  std::optional<std::string> sharding;
};

ProgramSignature Program(std::vector<Param> params, int64_t partitions = 1,
                         std::string name = "jit_step") {
  ProgramSignature sig;
  sig.name = std::move(name);
  sig.num_partitions = partitions;
  for (size_t i = 0; i < params.size(); ++i) {
    ParameterSignature p;
    p.index = static_cast<int64_t>(i);
    p.parameter_number = p.index;
    p.name = params[i].name;
    absl::StatusOr<Shape> shape = ParseShape(params[i].shape);
    EXPECT_TRUE(shape.ok()) << params[i].shape << ": " << shape.status();
    p.shape = *shape;
    p.sharding = params[i].sharding;
    sig.parameters.push_back(std::move(p));
  }
  FillDerivedFields(&sig, MemoryKindMap());
  return sig;
}

SignatureDiff Diff(const ProgramSignature& a, const ProgramSignature& b,
                   bool by_name = false) {
  absl::StatusOr<SignatureDiff> d = DiffSignatures(a, b, {by_name});
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : SignatureDiff();
}

std::vector<std::string> Changes(const ParameterDiff& d) {
  std::vector<std::string> out;
  for (const SignatureChange& c : d.changes) out.push_back(c.ToString());
  return out;
}

TEST(SignatureDiffTest, IdenticalProgramsHaveNoChanges) {
  ProgramSignature a = Program({{"x", "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"},
                                {"y", "f32[40]{0:T(256)}"}});
  SignatureDiff d = Diff(a, a);
  EXPECT_TRUE(d.identical());
  EXPECT_EQ(d.matched, 2);
  EXPECT_EQ(SummarizeSignatureDiff(d), "identical: 2 parameters");
}

TEST(SignatureDiffTest, TilingChange) {
  SignatureDiff d = Diff(Program({{"x", "bf16[64,256]{1,0:T(8,128)(2,1)}"}}),
                         Program({{"x", "bf16[64,256]{1,0:T(16,128)(2,1)}"}}));
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_THAT(Changes(d.changed[0]),
              ElementsAre("layout: tiling (8,128)(2,1)→(16,128)(2,1)"));
}

TEST(SignatureDiffTest, SwappedMinorDimsAndTheirBytes) {
  // The README's E0102: 40 minor-most pads to 128 under (8,128).
  SignatureDiff d =
      Diff(Program({{"x", "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"}}),
           Program({{"x", "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}"}}));
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_THAT(Changes(d.changed[0]),
              ElementsAre("layout: dims 1↔2 swapped",
                          "size: xla_bytes 5,242,880→1,638,400, exact_bytes "
                          "5,242,880→1,638,400"));
}

TEST(SignatureDiffTest, OtherDimOrderIsPrintedWhole) {
  SignatureDiff d = Diff(Program({{"x", "f32[2,3,4]{2,1,0}"}}),
                         Program({{"x", "f32[2,3,4]{0,2,1}"}}));
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].changes[0].detail, "minor_to_major {2,1,0}→{0,2,1}");
}

TEST(SignatureDiffTest, DtypeAndDims) {
  SignatureDiff d = Diff(Program({{"x", "bf16[16,1280]{1,0}"}}),
                         Program({{"x", "f32[16,2560]{1,0}"}}));
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_THAT(Changes(d.changed[0]),
              ElementsAre("dtype: bf16→f32", "dims: [16,1280]→[16,2560]",
                          "size: xla_bytes 40,960→163,840, exact_bytes "
                          "40,960→163,840"));
}

TEST(SignatureDiffTest, MemoryKindIsNotALayoutChange) {
  SignatureDiff d =
      Diff(Program({{"x", "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"}}),
           Program({{"x", "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)S(5)}"}}));
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_THAT(Changes(d.changed[0]),
              ElementsAre("memory kind: device→pinned_host"));
}

TEST(SignatureDiffTest, ShardingPartitionCountAndPerDeviceShape) {
  SignatureDiff d = Diff(
      Program(
          {{"w", "bf16[1024,4096]{1,0:T(8,128)(2,1)}", "{devices=[1,4]<=[4]}"}},
          4),
      Program(
          {{"w", "bf16[1024,4096]{1,0:T(8,128)(2,1)}", "{devices=[1,8]<=[8]}"}},
          8));
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_THAT(Changes(d.changed[0]),
              ElementsAre("sharding: devices=[1,4]→[1,8]",
                          "per-device shape: "
                          "bf16[1024,1024]{1,0:T(8,128)(2,1)}→"
                          "bf16[1024,512]{1,0:T(8,128)(2,1)}"));
  EXPECT_EQ(d.changed[0].a.device_xla_bytes, 1024 * 1024 * 2);
  EXPECT_EQ(d.changed[0].b.device_xla_bytes, 1024 * 512 * 2);
  ASSERT_EQ(d.program_changes.size(), 1u);
  EXPECT_EQ(d.program_changes[0].ToString(), "num_partitions 4→8");
  EXPECT_EQ(SummarizeSignatureDiff(d),
            "1 parameter; num_partitions 4→8; 1 changed sharding (1: "
            "devices=[1,4]→[1,8]); 1 changed per-device shape; device "
            "bytes -50.0% "
            "(2,097,152→1,048,576)");
}

TEST(SignatureDiffTest, IotaAndExplicitDeviceListsAreTheSameSharding) {
  SignatureDiff d =
      Diff(Program({{"w", "f32[8,8]{1,0}", "{devices=[2,2]<=[4]}"}}, 4),
           Program({{"w", "f32[8,8]{1,0}",
                     "{devices=[2,2]0,1,2,3 metadata={op_name=\"w\"}}"}},
                   4));
  EXPECT_TRUE(d.identical());
}

TEST(SignatureDiffTest, DeviceOrderAndReplicatedToTiled) {
  SignatureDiff d =
      Diff(Program({{"w", "f32[8,8]{1,0}", "{devices=[2,2]<=[4]}"},
                    {"v", "f32[8,8]{1,0}", "{replicated}"}},
                   4),
           Program({{"w", "f32[8,8]{1,0}", "{devices=[2,2]<=[2,2]T(1,0)}"},
                    {"v", "f32[8,8]{1,0}", "{devices=[4,1]<=[4]}"}},
                   4));
  ASSERT_EQ(d.changed.size(), 2u);
  EXPECT_EQ(d.changed[0].changes[0].detail,
            "device order devices=[2,2]<=[4]→[2,2]<=[2,2]T(1,0)");
  EXPECT_THAT(Changes(d.changed[1]),
              ElementsAre("sharding: {replicated}→{devices=[4,1]<=[4]}",
                          "per-device shape: f32[8,8]{1,0}→f32[2,8]{1,0}"));
}

TEST(SignatureDiffTest, UnparseableShardingIsComparedAsText) {
  SignatureDiff d = Diff(Program({{"w", "f32[8]{0}", "{bogus}"}}, 2),
                         Program({{"w", "f32[8]{0}", "{bogus2}"}}, 2));
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].changes[0].ToString(), "sharding: {bogus}→{bogus2}");
  EXPECT_FALSE(d.device_bytes_a.has_value());
  EXPECT_THAT(d.warnings, testing::Contains(HasSubstr("not understood")));
}

TEST(SignatureDiffTest, OnePartitionKeepsGlobalShapesWhateverTheSharding) {
  // With num_partitions 1 every device holds the whole array, so even an
  // annotation that cannot be read leaves the per-device size known.
  SignatureDiff d = Diff(Program({{"w", "f32[8]{0}", "{bogus}"}}, 1),
                         Program({{"w", "f32[8]{0}", "{bogus}"}}, 1));
  EXPECT_TRUE(d.identical());
  EXPECT_EQ(d.device_bytes_a, 32);
  EXPECT_EQ(d.device_bytes_b, 32);
}

TEST(SignatureDiffTest, AfterPartitioningShapesAreNotDividedAgain) {
  // A dump after SPMD partitioning holds per-device shapes already: 4 rows
  // per device of an 8-way split stay 4 rows (16 bytes), where a program
  // of global shapes gives each device 8/4 = 2 rows (8 bytes).
  ProgramSignature after =
      Program({{"w", "f32[4]{0}", "{devices=[4]<=[4]}"}}, 4);
  after.dump_stage = DumpStage::kAfterPartitioning;
  FillDerivedFields(&after, MemoryKindMap());
  ProgramSignature global =
      Program({{"w", "f32[8]{0}", "{devices=[4]<=[4]}"}}, 4);
  EXPECT_EQ(after.parameters[0].per_device_xla_bytes, 16);
  EXPECT_EQ(global.parameters[0].per_device_xla_bytes, 8);
  SignatureDiff d = Diff(after, after);
  EXPECT_TRUE(d.identical());
  EXPECT_EQ(d.device_bytes_a, 16);
  d = Diff(global, after);
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_THAT(Changes(d.changed[0]),
              testing::Contains("per-device shape: f32[2]{0}→f32[4]{0}"));
}

TEST(SignatureDiffTest, ByIndexReportsAddedAndRemoved) {
  ProgramSignature a = Program({{"x", "f32[4]{0}"}, {"y", "f32[4]{0}"}});
  ProgramSignature b =
      Program({{"x", "f32[4]{0}"}, {"y", "f32[4]{0}"}, {"z", "f32[2]{0}"}});
  SignatureDiff d = Diff(a, b);
  EXPECT_TRUE(d.changed.empty());
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].name, "z");
  EXPECT_TRUE(d.removed.empty());
  EXPECT_FALSE(d.identical());
  EXPECT_EQ(SummarizeSignatureDiff(d),
            "2→3 parameters (1 added, 0 removed); device bytes +25.0% "
            "(32→40)");
}

TEST(SignatureDiffTest, ByNameMatchesReorderedParameters) {
  ProgramSignature a = Program({{"x", "f32[4]{0}"}, {"y", "bf16[8]{0}"}});
  ProgramSignature b =
      Program({{"y", "bf16[8]{0}"}, {"w", "f32[1]{0}"}, {"x", "f32[4]{0}"}});
  SignatureDiff by_index = Diff(a, b);
  EXPECT_EQ(by_index.changed.size(), 2u);
  SignatureDiff d = Diff(a, b, /*by_name=*/true);
  EXPECT_TRUE(d.changed.empty());
  EXPECT_EQ(d.matched, 2);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].name, "w");
  EXPECT_EQ(d.added[0].index, 1);
  // A parameter only in A is removed.
  SignatureDiff back = Diff(b, a, true);
  ASSERT_EQ(back.removed.size(), 1u);
  EXPECT_EQ(back.removed[0].name, "w");
}

TEST(SignatureDiffTest, ByNameRefusesRepeatedOrEmptyNames) {
  ProgramSignature dup = Program({{"x", "f32[4]{0}"}, {"x", "f32[4]{0}"}});
  absl::StatusOr<SignatureDiff> d = DiffSignatures(dup, dup, {true});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(d.status().message(),
              HasSubstr("'x' appears twice in A (parameters 0 and 1)"));
  ProgramSignature unnamed = Program({{"", "f32[4]{0}"}});
  d = DiffSignatures(unnamed, unnamed, {true});
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("parameter 0 of A has no name"));
}

TEST(SignatureDiffTest, SummaryGroupsParametersThatChangedTheSameWay) {
  std::vector<Param> pa, pb;
  for (int i = 0; i < 5; ++i) {
    pa.push_back({absl::StrCat("t", i), "bf16[64,256]{1,0:T(8,128)(2,1)}"});
    pb.push_back({absl::StrCat("t", i), "bf16[64,256]{1,0:T(16,128)(2,1)}"});
  }
  for (int i = 0; i < 2; ++i) {
    pa.push_back(
        {absl::StrCat("s", i), "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"});
    pb.push_back(
        {absl::StrCat("s", i), "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}"});
  }
  pa.push_back({"u", "f32[8]{0}"});
  pb.push_back({"u", "f32[8]{0}"});
  SignatureDiff d = Diff(Program(pa), Program(pb));
  EXPECT_EQ(d.CountWith(SignatureChangeKind::kLayout), 7);
  EXPECT_EQ(SummarizeSignatureDiff(d),
            "8 parameters; 7 changed layout (5: tiling (8,128)(2,1)→"
            "(16,128)(2,1); 2: dims 1↔2 swapped); 2 changed size; device bytes "
            "-67.7% (10,649,632→3,440,672)");
  std::vector<ChangeGroup> groups = GroupSignatureChanges(d);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].changed.size(), 5u);
  EXPECT_EQ(groups[1].detail, "dims 1↔2 swapped");
  EXPECT_THAT(groups[1].changed, ElementsAre(5, 6));
  // Only max_groups details per kind.
  EXPECT_THAT(SummarizeSignatureDiff(d, 1),
              HasSubstr("7 changed layout (5: tiling (8,128)(2,1)→"
                        "(16,128)(2,1); 1 more)"));
}

TEST(SignatureDiffTest, DeviceByteTotalsDoNotOverflow) {
  // Each is 2^62 bytes; two of them do not fit in int64.
  ProgramSignature big = Program({{"a", "u8[4611686018427387904]{0}"},
                                  {"b", "u8[4611686018427387904]{0}"}});
  ProgramSignature small = Program({{"a", "u8[4]{0}"}, {"b", "u8[4]{0}"}});
  SignatureDiff d = Diff(small, big);
  EXPECT_EQ(d.device_bytes_a, 8);
  EXPECT_FALSE(d.device_bytes_b.has_value());
  EXPECT_THAT(d.warnings, testing::Contains(HasSubstr("does not fit")));
  EXPECT_THAT(SummarizeSignatureDiff(d), HasSubstr("device bytes unknown"));
}

TEST(SignatureDiffTest, ProgramNameChangeAloneIsADifference) {
  ProgramSignature a = Program({{"x", "f32[4]{0}"}}, 1, "jit_a");
  ProgramSignature b = Program({{"x", "f32[4]{0}"}}, 1, "jit_b");
  SignatureDiff d = Diff(a, b);
  EXPECT_FALSE(d.identical());
  EXPECT_EQ(SummarizeSignatureDiff(d),
            "1 parameter; name jit_a→jit_b; device bytes unchanged");
}

}  // namespace
}  // namespace xlayout
