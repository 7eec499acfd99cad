#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/parse.h"
#include "xlayout/checkpoint_check.h"
#include "xlayout/checkpoint_manifest.h"
#include "xlayout/environment.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/runtime_messages.h"

namespace xlayout {
namespace {

using test_util::ParseOrFail;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Six parameters: the E0102 docs sample's bf16 activation (5,242,880 bytes
// as compiled), a square f32 matrix (same size in either tile order), an
// f32 matrix, an f32 row, an s32 vector and a pinned_host (S(5)) vector.
constexpr char kProgram[] =
    R"(HloModule jit_step, entry_computation_layout={(bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}, f32[256,256]{1,0:T(8,128)}, f32[40,40]{1,0:T(8,128)}, f32[8,128]{1,0:T(8,128)}, s32[16]{0}, f32[4]{0:T(256)S(5)})->f32[]{:T(128)}}

ENTRY %main.1 (act: bf16[16,1280,40], w: f32[256,256], k: f32[40,40], row: f32[8,128], ids: s32[16], host: f32[4]) -> f32[] {
  %act = bf16[16,1280,40]{2,1,0:T(8,128)(2,1)} parameter(0)
  %w = f32[256,256]{1,0:T(8,128)} parameter(1)
  %k = f32[40,40]{1,0:T(8,128)} parameter(2)
  %row = f32[8,128]{1,0:T(8,128)} parameter(3)
  %ids = s32[16]{0} parameter(4)
  %host = f32[4]{0:T(256)S(5)} parameter(5)
  ROOT %c = f32[]{:T(128)} constant(0)
}
)";

ProgramSignature Program() {
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(kProgram);
  EXPECT_TRUE(sig.ok()) << sig.status();
  return sig.ok() ? *std::move(sig) : ProgramSignature();
}

// A tensor record as the manifest holds it: `device` is the stored device
// shape (layout included); only the fields check reads matter here.
TensorRecord Tensor(std::string name, absl::string_view device,
                    std::optional<int64_t> parameter = std::nullopt,
                    std::string memory_kind = "device") {
  TensorRecord t;
  t.name = std::move(name);
  if (parameter.has_value()) t.binding = TensorBinding{*parameter, {}};
  t.device_shape = ParseOrFail(device);
  t.dtype = t.device_shape.element_type();
  t.dims.assign(t.device_shape.dimensions().begin(),
                t.device_shape.dimensions().end());
  t.memory_kind = std::move(memory_kind);
  t.file = "data/tensors.bin";
  return t;
}

// The checkpoint the program itself would have written: every tensor in
// its parameter's layout and memory kind, bound by the manifest.
CheckpointManifest Matching() {
  CheckpointManifest m;
  m.tensors = {
      Tensor("act", "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}", 0),
      Tensor("w", "f32[256,256]{1,0:T(8,128)}", 1),
      Tensor("k", "f32[40,40]{1,0:T(8,128)}", 2),
      Tensor("row", "f32[8,128]{1,0:T(8,128)}", 3),
      Tensor("ids", "s32[16]{0}", 4),
      Tensor("host", "f32[4]{0:T(256)}", 5, "pinned_host"),
  };
  return m;
}

CheckReport Check(const CheckpointManifest& m, CheckOptions options = {}) {
  absl::StatusOr<CheckReport> r = CheckCheckpoint(Program(), m, options);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : CheckReport();
}

TEST(CheckTest, MatchingCheckpointIsOk) {
  CheckReport r = Check(Matching());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.program, "jit_step");
  EXPECT_EQ(r.num_parameters, 6);
  EXPECT_EQ(r.counts.ok, 6);
  ASSERT_EQ(r.parameters.size(), 6u);
  for (const ParameterCheck& c : r.parameters) {
    EXPECT_EQ(c.verdict, CheckVerdict::kOk) << c.parameter;
    EXPECT_EQ(c.bound_by, BindingSource::kManifest);
    EXPECT_TRUE(c.messages.empty());
    EXPECT_EQ(c.tensor, c.parameter_name);
    EXPECT_EQ(c.expected_xla_bytes, c.actual_xla_bytes);
  }
  EXPECT_EQ(r.parameters[0].expected_xla_bytes, 5242880);
  EXPECT_EQ(r.parameters[5].expected_memory_kind, "pinned_host");
  EXPECT_FALSE(r.buffer_count_message.has_value());
  // --strict finds nothing either.
  CheckOptions strict;
  strict.strict = true;
  EXPECT_TRUE(Check(Matching(), strict).ok());
}

TEST(CheckTest, TransposedTileOrderGivesXlasSizeMessage) {
  CheckpointManifest m = Matching();
  m.tensors[0] = Tensor("act", "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}", 0);
  CheckReport r = Check(m);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.fixable_by_relayout());
  EXPECT_EQ(r.counts.needs_relayout, 1);
  EXPECT_EQ(r.counts.ok, 5);
  const ParameterCheck& c = r.parameters[0];
  EXPECT_EQ(c.verdict, CheckVerdict::kNeedsRelayout);
  EXPECT_EQ(c.actual_xla_bytes, 1638400);
  EXPECT_TRUE(c.xla_rejects);
  // XLA's message, byte for byte (common_pjrt_client.cc).
  EXPECT_THAT(c.messages,
              ElementsAre("Executable(jit_step) expected parameter 0 of size "
                          "5242880 (bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) but "
                          "got buffer with incompatible size 1638400 "
                          "(bf16[16,1280,40]{1,2,0:T(8,128)(2,1)})"));
  ASSERT_TRUE(c.classification.has_value());
  EXPECT_EQ(*c.classification, Classification::kLayout);
  EXPECT_EQ(c.summary, "same logical shape, different physical layout");
  EXPECT_FALSE(c.details.empty());
}

TEST(CheckTest, SameSizeTransposeIsFlaggedWithoutStrictAndErrorWithStrict) {
  CheckpointManifest m = Matching();
  m.tensors[1] = Tensor("w", "f32[256,256]{0,1:T(8,128)}", 1);
  CheckReport r = Check(m);
  EXPECT_FALSE(r.ok());
  const ParameterCheck& c = r.parameters[1];
  EXPECT_EQ(c.verdict, CheckVerdict::kNeedsRelayout);
  EXPECT_EQ(c.expected_xla_bytes, 262144);
  EXPECT_EQ(c.actual_xla_bytes, 262144);
  EXPECT_FALSE(c.xla_rejects);
  EXPECT_TRUE(c.messages.empty());  // XLA would run it on permuted data.
  EXPECT_THAT(c.note, HasSubstr("permuted data"));
  ASSERT_TRUE(c.classification.has_value());
  EXPECT_EQ(*c.classification, Classification::kLayout);

  CheckOptions strict;
  strict.strict = true;
  CheckReport s = Check(m, strict);
  const ParameterCheck& cs = s.parameters[1];
  EXPECT_EQ(cs.verdict, CheckVerdict::kNeedsRelayout);
  EXPECT_FALSE(cs.xla_rejects);
  EXPECT_THAT(cs.messages, ElementsAre(StrictLayoutMessage(
                               "jit_step", 1, 262144,
                               ParseOrFail("f32[256,256]{1,0:T(8,128)}"),
                               ParseOrFail("f32[256,256]{0,1:T(8,128)}"))));
}

TEST(CheckTest, ChangedTileNeedsRelayout) {
  CheckpointManifest m = Matching();
  // T(8,128) -> T(4,128): one tile column, so each row is 128 elements
  // after the one before either way: the same bytes, nothing to relayout.
  m.tensors[2] = Tensor("k", "f32[40,40]{1,0:T(4,128)}", 2);
  CheckReport same = Check(m);
  EXPECT_EQ(same.parameters[2].verdict, CheckVerdict::kOk);
  EXPECT_THAT(same.parameters[2].note, HasSubstr("store the same bytes"));
  // T(8,128) -> T(8,128)(2,1): pairs of rows interleaved, same size.
  m.tensors[2] = Tensor("k", "f32[40,40]{1,0:T(8,128)(2,1)}", 2);
  CheckReport r = Check(m);
  EXPECT_EQ(r.parameters[2].verdict, CheckVerdict::kNeedsRelayout);
  EXPECT_EQ(r.parameters[2].expected_xla_bytes, 20480);
  EXPECT_EQ(r.parameters[2].actual_xla_bytes, 20480);
  EXPECT_FALSE(r.parameters[2].xla_rejects);
}

TEST(CheckTest, DtypeAndDimsAreIncompatible) {
  CheckpointManifest m = Matching();
  m.tensors[2] = Tensor("k", "bf16[40,40]{1,0:T(8,128)(2,1)}", 2);
  m.tensors[3] = Tensor("row", "f32[128,8]{1,0:T(8,128)}", 3);
  CheckReport r = Check(m);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.fixable_by_relayout());
  EXPECT_EQ(r.counts.incompatible, 2);
  const ParameterCheck& k = r.parameters[2];
  EXPECT_EQ(k.verdict, CheckVerdict::kIncompatible);
  ASSERT_TRUE(k.classification.has_value());
  EXPECT_EQ(*k.classification, Classification::kElementType);
  EXPECT_EQ(k.summary, "different element type");
  const ParameterCheck& row = r.parameters[3];
  EXPECT_EQ(row.verdict, CheckVerdict::kIncompatible);
  ASSERT_TRUE(row.classification.has_value());
  EXPECT_EQ(*row.classification, Classification::kDims);
  EXPECT_EQ(row.summary, "different dims");
  EXPECT_TRUE(row.xla_rejects);
  ASSERT_EQ(row.messages.size(), 1u);
  EXPECT_EQ(row.messages[0],
            SizeMismatchMessage("jit_step", 3, 4096,
                                ParseOrFail("f32[8,128]{1,0:T(8,128)}"), 65536,
                                ParseOrFail("f32[128,8]{1,0:T(8,128)}")));
}

TEST(CheckTest, SameSizeOtherDimsAreIncompatibleNotOk) {
  CheckpointManifest m = Matching();
  // s32[16] and f32[16] have the same 64 bytes: XLA would accept it.
  m.tensors[4] = Tensor("ids", "f32[16]{0}", 4);
  CheckReport r = Check(m);
  const ParameterCheck& c = r.parameters[4];
  EXPECT_EQ(c.verdict, CheckVerdict::kIncompatible);
  EXPECT_FALSE(c.xla_rejects);
  EXPECT_TRUE(c.messages.empty());
  EXPECT_THAT(c.note, HasSubstr("another shape"));
  ASSERT_TRUE(c.classification.has_value());
  EXPECT_EQ(*c.classification, Classification::kElementType);
}

TEST(CheckTest, MemoryKindMismatch) {
  CheckpointManifest m = Matching();
  m.tensors[5] = Tensor("host", "f32[4]{0:T(256)}", 5, "device");
  CheckReport r = Check(m);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.fixable_by_relayout());
  const ParameterCheck& c = r.parameters[5];
  EXPECT_EQ(c.verdict, CheckVerdict::kMemoryKind);
  EXPECT_TRUE(c.xla_rejects);
  EXPECT_THAT(c.messages,
              ElementsAre(MemorySpaceMessage("jit_step", 5, "device")));
  EXPECT_EQ(c.expected_memory_kind, "pinned_host");
  EXPECT_EQ(c.actual_memory_kind, "device");
  ASSERT_TRUE(c.classification.has_value());
  EXPECT_EQ(*c.classification, Classification::kMemorySpace);
}

TEST(CheckTest, RelayoutAndMemoryKindTogetherIsOneVerdict) {
  CheckpointManifest m = Matching();
  m.tensors[5] = Tensor("host", "f32[4]{0}", 5, "device");
  CheckReport r = Check(m);
  const ParameterCheck& c = r.parameters[5];
  EXPECT_EQ(c.verdict, CheckVerdict::kNeedsRelayout);
  EXPECT_EQ(r.counts.memory_kind, 0);
  EXPECT_THAT(c.details, testing::Contains(
                             HasSubstr("memory kind: expected 'pinned_host'")));
}

TEST(CheckTest, MissingAndExtra) {
  CheckpointManifest m = Matching();
  m.tensors.erase(m.tensors.begin() + 4);  // No "ids".
  m.tensors.push_back(Tensor("optimizer_state", "f32[2]{0}", 9));
  CheckReport r = Check(m);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.fixable_by_relayout());
  EXPECT_EQ(r.counts.missing, 1);
  EXPECT_EQ(r.counts.extra, 1);
  ASSERT_EQ(r.parameters.size(), 7u);
  EXPECT_EQ(r.parameters[4].verdict, CheckVerdict::kMissing);
  EXPECT_EQ(r.parameters[4].parameter_name, "ids");
  EXPECT_TRUE(r.parameters[4].tensor.empty());
  EXPECT_TRUE(r.parameters[4].messages.empty());
  const ParameterCheck& extra = r.parameters[6];
  EXPECT_EQ(extra.verdict, CheckVerdict::kExtra);
  EXPECT_EQ(extra.parameter, -1);
  EXPECT_EQ(extra.tensor, "optimizer_state");
  EXPECT_EQ(extra.note,
            "the manifest binds it to parameter 9, which program 'jit_step' "
            "does not have: it has parameters 0 to 5");
  // Six tensors for six parameters: the counts agree.
  EXPECT_FALSE(r.buffer_count_message.has_value());

  m.tensors.pop_back();
  CheckReport fewer = Check(m);
  ASSERT_TRUE(fewer.buffer_count_message.has_value());
  EXPECT_EQ(*fewer.buffer_count_message, BufferCountMessage(5, 6));
  EXPECT_EQ(*fewer.buffer_count_message,
            "Execution supplied 5 buffers but compiled program expected 6 "
            "buffers");
}

TEST(CheckTest, ExtraTensorsAloneAreOk) {
  CheckpointManifest m = Matching();
  m.tensors.push_back(Tensor("step", "s32[]", std::nullopt));
  CheckReport r = Check(m);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.counts.extra, 1);
  EXPECT_THAT(r.parameters.back().note, HasSubstr("every parameter is taken"));
}

TEST(CheckTest, BindsByOrderWhenTheManifestHasNoBindings) {
  CheckpointManifest m = Matching();
  for (TensorRecord& t : m.tensors) t.binding.reset();
  CheckReport r = Check(m);
  EXPECT_TRUE(r.ok());
  for (const ParameterCheck& c : r.parameters) {
    EXPECT_EQ(c.bound_by, BindingSource::kOrder);
    EXPECT_EQ(c.tensor, c.parameter_name);
  }
  // Out of order, order binding pairs the wrong tensors: incompatible.
  std::swap(m.tensors[2], m.tensors[3]);
  CheckReport swapped = Check(m);
  EXPECT_EQ(swapped.parameters[2].tensor, "row");
  EXPECT_EQ(swapped.parameters[2].verdict, CheckVerdict::kIncompatible);
}

TEST(CheckTest, ManifestBindingBeatsOrder) {
  CheckpointManifest m = Matching();
  std::reverse(m.tensors.begin(), m.tensors.end());
  CheckReport r = Check(m);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.parameters[0].tensor, "act");
}

TEST(CheckTest, MapOverridesTheManifest) {
  CheckpointManifest m = Matching();
  for (TensorRecord& t : m.tensors) t.binding.reset();
  std::swap(m.tensors[2], m.tensors[3]);  // row, k: order is wrong.
  CheckOptions o;
  o.map = {{"k", {2, {}}}, {"row", {3, {}}}};
  CheckReport r = Check(m, o);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.parameters[2].tensor, "k");
  EXPECT_EQ(r.parameters[2].bound_by, BindingSource::kMap);
  EXPECT_EQ(r.parameters[4].bound_by, BindingSource::kOrder);

  // A manifest binding displaced by --map makes its tensor extra.
  CheckpointManifest bound = Matching();
  CheckOptions over;
  over.map = {{"k", {3, {}}}};
  CheckReport d = Check(bound, over);
  EXPECT_EQ(d.parameters[3].tensor, "k");
  EXPECT_EQ(d.parameters[3].verdict, CheckVerdict::kIncompatible);
  EXPECT_EQ(d.parameters[2].verdict, CheckVerdict::kMissing);
  ASSERT_EQ(d.parameters.size(), 7u);
  EXPECT_EQ(d.parameters[6].tensor, "row");
  EXPECT_THAT(d.parameters[6].note, HasSubstr("already bound to tensor \"k\""));
}

TEST(CheckTest, BadMapsAreErrors) {
  CheckpointManifest m = Matching();
  auto error = [&](std::vector<std::pair<std::string, TensorBinding>> map) {
    CheckOptions o;
    o.map = std::move(map);
    absl::StatusOr<CheckReport> r = CheckCheckpoint(Program(), m, o);
    EXPECT_FALSE(r.ok());
    return std::string(r.status().message());
  };
  EXPECT_THAT(error({{"nope", {1, {}}}}),
              HasSubstr("no tensor named \"nope\""));
  EXPECT_THAT(error({{"k", {6, {}}}}),
              HasSubstr("has no parameter 6: it has parameters 0 to 5"));
  EXPECT_THAT(error({{"k", {2, {0}}}}),
              HasSubstr("has no parameter 2{0}: parameter 2 is not a tuple"));
  EXPECT_THAT(error({{"k", {2, {}}}, {"k", {3, {}}}}),
              HasSubstr("given twice"));
  EXPECT_THAT(error({{"k", {2, {}}}, {"row", {2, {}}}}),
              HasSubstr("already bound to tensor \"k\""));
}

TEST(CheckTest, ParseTensorMapping) {
  absl::StatusOr<std::pair<std::string, TensorBinding>> kv =
      ParseTensorMapping("a=b=12");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->first, "a=b");
  EXPECT_EQ(kv->second, (TensorBinding{12, {}}));
  kv = ParseTensorMapping("w=0{1,2}");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->first, "w");
  EXPECT_EQ(kv->second, (TensorBinding{0, {1, 2}}));
  EXPECT_FALSE(ParseTensorMapping("a=0{").ok());
  EXPECT_FALSE(ParseTensorMapping("a=0{}").ok());
  EXPECT_FALSE(ParseTensorMapping("a=0{1,}").ok());
  EXPECT_FALSE(ParseTensorMapping("a={1}").ok());
  EXPECT_FALSE(ParseTensorMapping("a=0{1}x").ok());
  EXPECT_FALSE(ParseTensorMapping("a").ok());
  EXPECT_FALSE(ParseTensorMapping("=3").ok());
  EXPECT_FALSE(ParseTensorMapping("a=-1").ok());
  EXPECT_FALSE(ParseTensorMapping("a=x").ok());
  EXPECT_FALSE(ParseTensorMapping("a=+1").ok());
  EXPECT_FALSE(ParseTensorMapping("a= 1").ok());
  EXPECT_FALSE(ParseTensorMapping("a=").ok());
  EXPECT_FALSE(ParseTensorMapping("a=99999999999999999999").ok());
}

// A program whose parameter 0 is a tuple of two leaves, 1 an array.
constexpr char kTuple[] =
    R"(HloModule tup, entry_computation_layout={((f32[8]{0}, s32[4]{0}), f32[2]{0})->f32[]}

ENTRY %main (p: (f32[8], s32[4]), q: f32[2]) -> f32[] {
  %p = (f32[8]{0}, s32[4]{0}) parameter(0)
  %q = f32[2]{0} parameter(1)
  ROOT %c = f32[] constant(0)
}
)";

TEST(CheckTest, TupleParameterLeavesBindByTupleIndex) {
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(kTuple);
  ASSERT_TRUE(sig.ok()) << sig.status();
  ASSERT_EQ(sig->parameters.size(), 3u);
  CheckpointManifest m;
  m.tensors = {Tensor("q", "f32[2]{0}", 1), Tensor("b", "s32[4]{0}", 0),
               Tensor("a", "f32[8]{0}", 0)};
  m.tensors[1].binding->tuple_index = {1};
  m.tensors[2].binding->tuple_index = {0};
  absl::StatusOr<CheckReport> r = CheckCheckpoint(*sig, m);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->parameters[0].tensor, "a");
  EXPECT_EQ(r->parameters[1].tensor, "b");
  EXPECT_EQ(r->parameters[2].tensor, "q");

  // Bindings that name no leaf say why.
  m.tensors[0].binding->tuple_index = {0};  // q is no tuple.
  m.tensors[2].binding->tuple_index = {};   // p is a tuple.
  m.tensors[1].binding->tuple_index = {5};  // p has leaves {0}, {1}.
  r = CheckCheckpoint(*sig, m);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> notes;
  for (const ParameterCheck& c : r->parameters) {
    if (c.verdict == CheckVerdict::kExtra) notes.push_back(c.note);
  }
  EXPECT_THAT(notes, ::testing::UnorderedElementsAre(
                         "the manifest binds it to parameter 1{0}, which "
                         "program 'tup' does not have: parameter 1 is not a "
                         "tuple",
                         "the manifest binds it to parameter 0, which program "
                         "'tup' does not have: parameter 0 is a tuple (leaves "
                         "{0} to {1})",
                         "the manifest binds it to parameter 0{5}, which "
                         "program 'tup' does not have: parameter 0 is a tuple "
                         "(leaves {0} to {1})"));
}

// Regression: --map and reports number parameters as XLA does (parameter
// N, leaf N{i} of a tuple parameter), not by the flattened position; a bare
// N naming a tuple parameter is an error that names its leaves.
TEST(CheckTest, MapAndReportsUseXlasParameterNumbers) {
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(kTuple);
  ASSERT_TRUE(sig.ok()) << sig.status();
  CheckpointManifest m;
  m.tensors = {Tensor("q", "f32[2]{0}"), Tensor("b", "s32[4]{0}"),
               Tensor("a", "f32[8]{0}")};
  CheckOptions o;
  o.map = {{"q", {1, {}}}, {"b", {0, {1}}}, {"a", {0, {0}}}};
  absl::StatusOr<CheckReport> r = CheckCheckpoint(*sig, m, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok());
  ASSERT_EQ(r->parameters.size(), 3u);
  EXPECT_EQ(r->parameters[0].tensor, "a");
  EXPECT_EQ(r->parameters[0].parameter_number, 0);
  EXPECT_THAT(r->parameters[0].tuple_index, ElementsAre(0));
  EXPECT_EQ(r->parameters[1].tensor, "b");
  EXPECT_THAT(r->parameters[1].tuple_index, ElementsAre(1));
  EXPECT_EQ(r->parameters[2].tensor, "q");
  EXPECT_EQ(r->parameters[2].parameter, 2);  // Position.
  EXPECT_EQ(r->parameters[2].parameter_number, 1);
  EXPECT_TRUE(r->parameters[2].tuple_index.empty());

  o.map = {{"q", {0, {}}}};
  r = CheckCheckpoint(*sig, m, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "--map q=0: program 'tup' has no parameter 0: parameter 0 is a "
            "tuple (leaves {0} to {1}): bind a leaf, as q=0{0}");
  o.map = {{"q", {2, {}}}};
  r = CheckCheckpoint(*sig, m, o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("has no parameter 2: it has parameters 0 to 1"));
}

// Regression: a tiled layout that stores the same bytes as the checkpoint's
// untiled one (one T(8,128) tile covers f32[8,128]; an empty array) is ok,
// with a note, even in strict mode; a same-size reorder (f32[16,256]) needs
// relayout, worded from the exact layouts (no "printed"/"inferred").
TEST(CheckTest, LayoutsStoringTheSameBytesAreOk) {
  constexpr char kHlo[] =
      R"(HloModule jit_8, entry_computation_layout={(f32[8,128]{1,0:T(8,128)}, f32[16,256]{1,0:T(8,128)}, f32[0,5]{0,1:T(8,128)})->f32[]}

ENTRY %main (a: f32[8,128], b: f32[16,256], z: f32[0,5]) -> f32[] {
  %a = f32[8,128]{1,0:T(8,128)} parameter(0)
  %b = f32[16,256]{1,0:T(8,128)} parameter(1)
  %z = f32[0,5]{0,1:T(8,128)} parameter(2)
  ROOT %r = f32[] constant(0)
}
)";
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(kHlo);
  ASSERT_TRUE(sig.ok()) << sig.status();
  CheckpointManifest m;
  m.tensors = {Tensor("a", "f32[8,128]{1,0}"), Tensor("b", "f32[16,256]{1,0}"),
               Tensor("z", "f32[0,5]{1,0}")};
  for (bool strict : {false, true}) {
    CheckOptions o;
    o.strict = strict;
    absl::StatusOr<CheckReport> r = CheckCheckpoint(*sig, m, o);
    ASSERT_TRUE(r.ok()) << r.status();
    const ParameterCheck& a = r->parameters[0];
    EXPECT_EQ(a.verdict, CheckVerdict::kOk);
    EXPECT_TRUE(a.messages.empty());
    EXPECT_THAT(a.note, HasSubstr("store the same bytes"));
    EXPECT_EQ(r->parameters[2].verdict, CheckVerdict::kOk);
    const ParameterCheck& b = r->parameters[1];
    EXPECT_EQ(b.verdict, CheckVerdict::kNeedsRelayout);
    EXPECT_EQ(b.classification, Classification::kLayout);
    EXPECT_EQ(b.summary, "same logical shape, different physical layout");
    // Both layouts are stated in full: no tiling is inferred for the
    // untiled one (as explain does for a log that prints none).
    EXPECT_THAT(b.details,
                testing::Contains("tiling changed: T(8,128) expected, no "
                                  "tiling got"));
    EXPECT_THAT(
        b.details,
        testing::Contains(HasSubstr("the bytes would be in the wrong order")));
    EXPECT_THAT(b.details,
                testing::Not(testing::Contains(HasSubstr("without a tiling"))));
    EXPECT_EQ(r->counts.ok, 2);
  }
}

// Regression: when the program's size is undefined the guard skips its size
// check, so whether XLA accepts the buffer is unknown: no "same xla_bytes".
TEST(CheckTest, UndefinedProgramSizeLeavesXlaRejectsUnknown) {
  constexpr char kHlo[] =
      R"(HloModule jit_u, entry_computation_layout={(f32[4611686018427387904,4]{1,0:T(8,128)})->f32[]}

ENTRY %main (a: f32[4611686018427387904,4]) -> f32[] {
  %a = f32[4611686018427387904,4]{1,0:T(8,128)} parameter(0)
  ROOT %r = f32[] constant(0)
}
)";
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(kHlo);
  ASSERT_TRUE(sig.ok()) << sig.status();
  CheckpointManifest m;
  m.tensors = {Tensor("a", "f32[3,5]{1,0}")};
  absl::StatusOr<CheckReport> r = CheckCheckpoint(*sig, m);
  ASSERT_TRUE(r.ok()) << r.status();
  const ParameterCheck& c = r->parameters[0];
  EXPECT_EQ(c.verdict, CheckVerdict::kIncompatible);
  EXPECT_FALSE(c.xla_rejects_known);
  EXPECT_THAT(c.note, HasSubstr("whether XLA accepts this buffer is unknown"));
  EXPECT_THAT(c.note, ::testing::Not(HasSubstr("same xla_bytes")));
}

// A sharding the reader cannot apply leaves what each device holds unknown:
// no per-device shape is reported (not the global one as if it were), the
// layout is still checked, and the note says why.
TEST(CheckTest, ShardingThatDoesNotApplyLeavesPerDeviceUnknown) {
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(
      R"(HloModule m, entry_computation_layout={(f32[64,256]{1,0})->f32[]}, num_partitions=4
ENTRY e {
  p = f32[64,256]{1,0} parameter(0), sharding={devices=[4,1]<=[4] junk}
  c = f32[] constant(0), sharding={replicated}
}
)");
  ASSERT_TRUE(sig.ok()) << sig.status();
  ASSERT_FALSE(sig->parameters[0].per_device_known);
  CheckpointManifest m;
  m.tensors = {Tensor("p", "f32[64,256]{1,0}", 0)};
  absl::StatusOr<CheckReport> r = CheckCheckpoint(*sig, m);
  ASSERT_TRUE(r.ok()) << r.status();
  const ParameterCheck& c = r->parameters[0];
  EXPECT_EQ(c.verdict, CheckVerdict::kOk);
  EXPECT_FALSE(c.expected_per_device.has_value());
  EXPECT_EQ(c.expected_per_device_bytes, -1);
  EXPECT_THAT(c.note, HasSubstr("does not apply: what each device holds is "
                                "unknown, so only the layout was checked"));
  m.tensors = {Tensor("p", "f32[64,256]{0,1}", 0)};
  r = CheckCheckpoint(*sig, m);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->parameters[0].verdict, CheckVerdict::kNeedsRelayout);
}

TEST(CheckTest, EnvironmentDiffLayoutAffectingFirst) {
  CheckpointManifest m = Matching();
  absl::StatusOr<Environment> before = ParseEnvironment(R"({
    "format": "xlayout.environment.v1", "jaxlib_version": "0.4.30",
    "device_kind": "TPU v4", "topology": "4x4x4",
    "xla_flags": "--xla_tpu_foo=false"})");
  absl::StatusOr<Environment> after = ParseEnvironment(R"({
    "format": "xlayout.environment.v1", "jaxlib_version": "0.4.31",
    "device_kind": "TPU v5 lite", "topology": "4x8",
    "xla_flags": "--xla_tpu_foo=true"})");
  ASSERT_TRUE(before.ok() && after.ok());
  CheckOptions o;
  CheckReport none = Check(m, o);
  EXPECT_FALSE(none.environment_compared);
  EXPECT_THAT(none.environment_note, HasSubstr("--env"));
  o.current_environment = *after;
  CheckReport unrecorded = Check(m, o);
  EXPECT_FALSE(unrecorded.environment_compared);
  EXPECT_THAT(unrecorded.environment_note, HasSubstr("records no environment"));
  m.environment = *before;
  CheckReport r = Check(m, o);
  EXPECT_TRUE(r.environment_compared);
  std::vector<std::string> texts;
  for (const EnvironmentChange& c : r.environment_changes) {
    texts.push_back(c.ToString());
  }
  EXPECT_THAT(texts,
              ElementsAre("flag --xla_tpu_foo: false → true",
                          "device kind: TPU v4 → TPU v5 lite",
                          "topology: 4x4x4 → 4x8", "jaxlib 0.4.30 → 0.4.31"));
  EXPECT_TRUE(r.environment_changes[0].affects_layout);
  EXPECT_FALSE(r.environment_changes[3].affects_layout);
  // The writer's xlayout version is not a change when the current
  // environment does not name one; another version is.
  m.environment->xlayout_version = "0.1.0";
  EXPECT_EQ(Check(m, o).environment_changes.size(), 4u);
  o.current_environment->xlayout_version = "0.2.0";
  CheckReport versions = Check(m, o);
  ASSERT_EQ(versions.environment_changes.size(), 5u);
  EXPECT_EQ(versions.environment_changes[4].ToString(),
            "xlayout 0.1.0 → 0.2.0");
}

// Regression: a component one side does not record is "not recorded ...;
// not compared", not a change from or to (unset) (as flags already were).
TEST(CheckTest, EnvironmentComponentsOneSideLacksAreNotCompared) {
  CheckpointManifest m = Matching();
  absl::StatusOr<Environment> before = ParseEnvironment(R"({
    "format": "xlayout.environment.v1", "jaxlib_version": "0.4.30"})");
  absl::StatusOr<Environment> after = ParseEnvironment(R"({
    "format": "xlayout.environment.v1", "jaxlib_version": "0.4.30",
    "libtpu_version": "0.0.8", "device_kind": "TPU v5 lite",
    "xla_flags": "--xla_tpu_foo=true"})");
  ASSERT_TRUE(before.ok() && after.ok());
  m.environment = *before;
  CheckOptions o;
  o.current_environment = *after;
  CheckReport r = Check(m, o);
  EXPECT_TRUE(r.environment_compared);
  EXPECT_TRUE(r.environment_changes.empty());
  EXPECT_THAT(r.environment_not_recorded_checkpoint,
              ElementsAre("XLA_FLAGS", "libtpu", "device kind"));
  EXPECT_TRUE(r.environment_not_recorded_current.empty());
  // The other way round.
  m.environment = *after;
  o.current_environment = *before;
  r = Check(m, o);
  EXPECT_TRUE(r.environment_changes.empty());
  EXPECT_THAT(r.environment_not_recorded_current,
              ElementsAre("XLA_FLAGS", "libtpu", "device kind"));
}

// A program dumped before SPMD partitioning over 8 partitions (the ROOT
// still carries a sharding): global shapes, each cut by its sharding.
//   0 w_out bf16[4096,1024] T(16,128)(2,1), [8,1]: [512,1024] per device
//   1 odd   f32[10,7] T(8,128), [4,2]: [3,4] per device (uneven: 10 = 3+3+3+1,
//           7 = 4+3), 8*128*4 = 4,096 bytes against 16*128*4 = 8,192 global
//   2 w_in  bf16[1024,4096] T(8,128)(2,1), [1,8]: [1024,512] per device
//   3 scale f32[1024] replicated: the global shape on every device
//   4 sq    f32[128,128] T(8,128), [8,1]: [16,128], 8,192 bytes per device
constexpr char kShardedProgram[] =
    R"(HloModule jit_step, entry_computation_layout={(bf16[4096,1024]{1,0:T(16,128)(2,1)}, f32[10,7]{1,0:T(8,128)}, bf16[1024,4096]{1,0:T(8,128)(2,1)}, f32[1024]{0:T(256)}, f32[128,128]{1,0:T(8,128)})->f32[]{:T(128)}}, num_partitions=8

ENTRY %main.1 (w_out: bf16[4096,1024], odd: f32[10,7], w_in: bf16[1024,4096], scale: f32[1024], sq: f32[128,128]) -> f32[] {
  %w_out = bf16[4096,1024]{1,0:T(16,128)(2,1)} parameter(0), sharding={devices=[8,1]<=[8]}
  %odd = f32[10,7]{1,0:T(8,128)} parameter(1), sharding={devices=[4,2]<=[8]}
  %w_in = bf16[1024,4096]{1,0:T(8,128)(2,1)} parameter(2), sharding={devices=[1,8]<=[8]}
  %scale = f32[1024]{0:T(256)} parameter(3), sharding={replicated}
  %sq = f32[128,128]{1,0:T(8,128)} parameter(4), sharding={devices=[8,1]<=[8]}
  ROOT %c = f32[]{:T(128)} constant(0), sharding={replicated}
}
)";

ProgramSignature Sharded(std::string text = kShardedProgram) {
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(text);
  EXPECT_TRUE(sig.ok()) << sig.status();
  return sig.ok() ? *std::move(sig) : ProgramSignature();
}

CheckpointManifest ShardedMatching() {
  CheckpointManifest m;
  m.tensors = {
      Tensor("w_out", "bf16[4096,1024]{1,0:T(16,128)(2,1)}", 0),
      Tensor("odd", "f32[10,7]{1,0:T(8,128)}", 1),
      Tensor("w_in", "bf16[1024,4096]{1,0:T(8,128)(2,1)}", 2),
      Tensor("scale", "f32[1024]{0:T(256)}", 3),
      Tensor("sq", "f32[128,128]{1,0:T(8,128)}", 4),
  };
  return m;
}

CheckReport CheckSharded(const CheckpointManifest& m, CheckOptions options = {},
                         std::string text = kShardedProgram) {
  absl::StatusOr<CheckReport> r = CheckCheckpoint(Sharded(text), m, options);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : CheckReport();
}

TEST(CheckShardedTest, GlobalTensorsAreCutLikeTheProgram) {
  CheckReport r = CheckSharded(ShardedMatching());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.dump_stage, DumpStage::kBeforePartitioning);
  const ParameterCheck& w = r.parameters[0];
  // expected/actual stay the global shapes; the per-device ones are beside.
  EXPECT_EQ(w.expected->ToString(true), "bf16[4096,1024]{1,0:T(16,128)(2,1)}");
  EXPECT_EQ(w.actual->ToString(true), "bf16[4096,1024]{1,0:T(16,128)(2,1)}");
  EXPECT_EQ(w.expected_xla_bytes, 8388608);
  EXPECT_EQ(w.expected_per_device->ToString(true),
            "bf16[512,1024]{1,0:T(16,128)(2,1)}");
  EXPECT_EQ(w.actual_per_device->ToString(true),
            "bf16[512,1024]{1,0:T(16,128)(2,1)}");
  EXPECT_EQ(w.expected_per_device_bytes, 1048576);
  EXPECT_EQ(w.actual_per_device_bytes, 1048576);
  EXPECT_EQ(w.sharding, "{devices=[8,1]<=[8]}");
  EXPECT_EQ(w.num_partitions, 8);
  const ParameterCheck& odd = r.parameters[1];
  EXPECT_EQ(odd.expected_per_device->ToString(true), "f32[3,4]{1,0:T(8,128)}");
  EXPECT_EQ(odd.expected_xla_bytes, 8192);
  EXPECT_EQ(odd.expected_per_device_bytes, 4096);
  const ParameterCheck& scale = r.parameters[3];
  EXPECT_EQ(*scale.expected_per_device, *scale.expected);
  EXPECT_EQ(scale.expected_per_device_bytes, scale.expected_xla_bytes);
}

TEST(CheckShardedTest, MessagesAreXlasForThePerDeviceBuffers) {
  // sq in {0,1}: the global arrays are the same size (128*128*4 = 65,536
  // either way), but a device's [16,128] piece is 8,192 bytes in {1,0} and
  // 128*128*4 = 65,536 in {0,1} (its 16 pads to 128): XLA rejects it.
  CheckpointManifest m = ShardedMatching();
  m.tensors[4] = Tensor("sq", "f32[128,128]{0,1:T(8,128)}", 4);
  CheckReport r = CheckSharded(m);
  const ParameterCheck& sq = r.parameters[4];
  EXPECT_EQ(sq.verdict, CheckVerdict::kNeedsRelayout);
  EXPECT_EQ(sq.expected_xla_bytes, sq.actual_xla_bytes);
  EXPECT_TRUE(sq.xla_rejects);
  EXPECT_THAT(sq.messages,
              ElementsAre("Executable(jit_step) expected parameter 4 of size "
                          "8192 (f32[16,128]{1,0:T(8,128)}) but got buffer "
                          "with incompatible size 65536 "
                          "(f32[16,128]{0,1:T(8,128)})"));
  // odd in {0,1}: the global sizes differ (8,192 vs 8*128*4 = 4,096) but
  // the per-device [3,4] pieces are both 4,096 bytes: XLA accepts it, and
  // check still flags it.
  m = ShardedMatching();
  m.tensors[1] = Tensor("odd", "f32[10,7]{0,1:T(8,128)}", 1);
  r = CheckSharded(m);
  const ParameterCheck& odd = r.parameters[1];
  EXPECT_EQ(odd.verdict, CheckVerdict::kNeedsRelayout);
  EXPECT_NE(odd.expected_xla_bytes, odd.actual_xla_bytes);
  EXPECT_EQ(odd.actual_per_device_bytes, 4096);
  EXPECT_TRUE(odd.messages.empty());
  EXPECT_FALSE(odd.xla_rejects);
  EXPECT_THAT(odd.note, HasSubstr("same xla_bytes (4096)"));
  // A changed tile of the same per-device size: strict mode's message names
  // the per-device shapes.
  m = ShardedMatching();
  m.tensors[0] = Tensor("w_out", "bf16[4096,1024]{1,0:T(8,128)(2,1)}", 0);
  CheckOptions strict;
  strict.strict = true;
  r = CheckSharded(m, strict);
  EXPECT_EQ(r.parameters[0].verdict, CheckVerdict::kNeedsRelayout);
  EXPECT_THAT(
      r.parameters[0].messages,
      ElementsAre("Executable(jit_step) expected parameter 0 as "
                  "bf16[512,1024]{1,0:T(16,128)(2,1)} but got buffer "
                  "bf16[512,1024]{1,0:T(8,128)(2,1)} with the same size "
                  "1048576 and a different shape or physical layout (strict "
                  "layout check)"));
}

TEST(CheckShardedTest, ATensorCutForAnotherPartitionCount) {
  // w_in saved as one device's piece under 4 partitions: [1024,1024] where
  // the program's devices hold [1024,512] of the global [1024,4096].
  CheckpointManifest m = ShardedMatching();
  m.tensors[2] = Tensor("w_in", "bf16[1024,1024]{1,0:T(8,128)(2,1)}", 2);
  CheckReport r = CheckSharded(m);
  const ParameterCheck& w = r.parameters[2];
  EXPECT_EQ(w.verdict, CheckVerdict::kIncompatible);
  EXPECT_EQ(w.sharding_change,
            "dim 1 is 512 on the expected side and 1024 on the actual one: "
            "this matches devices=[1,8] against [1,4], a different partition "
            "count");
  EXPECT_THAT(w.details, testing::Contains(HasSubstr(
                             "sharding: dim 1 is 512 on the expected side")));
  // Not every dims change is one: [1024,3000] fits no count.
  m.tensors[2] = Tensor("w_in", "bf16[1024,3000]{1,0:T(8,128)(2,1)}", 2);
  r = CheckSharded(m);
  EXPECT_EQ(r.parameters[2].verdict, CheckVerdict::kIncompatible);
  EXPECT_EQ(r.parameters[2].sharding_change, "");
}

TEST(CheckShardedTest, AfterPartitioningTheShapesArePerDeviceAlready) {
  // The same program dumped after partitioning: per-device shapes, shardings
  // on the entry parameters only.
  std::string after = kShardedProgram;
  auto sub = [&](const std::string& from, const std::string& to) {
    size_t at;
    while ((at = after.find(from)) != std::string::npos) {
      after.replace(at, from.size(), to);
    }
  };
  sub("bf16[4096,1024]", "bf16[512,1024]");
  sub("f32[10,7]", "f32[3,4]");
  sub(" constant(0), sharding={replicated}", " constant(0)");
  ProgramSignature sig = Sharded(after);
  ASSERT_EQ(sig.dump_stage, DumpStage::kAfterPartitioning);
  ASSERT_EQ(sig.parameters[1].shape.ToString(true), "f32[3,4]{1,0:T(8,128)}");
  CheckpointManifest m = ShardedMatching();
  m.tensors.resize(2);
  // The global arrays are cut once (w_in, scale and sq keep global shapes in
  // this dump and would be compared as per-device ones: left out).
  CheckOptions options;
  options.map = {{"w_out", {0, {}}}, {"odd", {1, {}}}};
  absl::StatusOr<CheckReport> r = CheckCheckpoint(sig, m, options);
  ASSERT_TRUE(r.ok()) << r.status();
  const ParameterCheck& w = r->parameters[0];
  EXPECT_EQ(w.verdict, CheckVerdict::kOk);
  // The global shape is the tensor's, in the program's layout.
  EXPECT_EQ(w.expected->ToString(true), "bf16[4096,1024]{1,0:T(16,128)(2,1)}");
  EXPECT_EQ(w.expected_per_device->ToString(true),
            "bf16[512,1024]{1,0:T(16,128)(2,1)}");
  EXPECT_EQ(r->parameters[1].verdict, CheckVerdict::kOk);
  EXPECT_EQ(r->parameters[1].expected->ToString(true),
            "f32[10,7]{1,0:T(8,128)}");
  // f32[12,8] is cut into [3,4] too, so it fits this program's per-device
  // shape; f32[13,7] is not (ceil(13/4) = 4).
  m.tensors[1] = Tensor("odd", "f32[13,7]{1,0:T(8,128)}", 1);
  r = CheckCheckpoint(sig, m, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->parameters[1].verdict, CheckVerdict::kIncompatible);
  // The global shape: dim 0 from the even split (3*4; 13 is not in
  // 9..12), dim 1 the tensor's 7 (in 7..8: ceil(7/2) = 4).
  EXPECT_EQ(r->parameters[1].expected->ToString(true),
            "f32[12,7]{1,0:T(8,128)}");
}

TEST(CheckTest, VerdictNames) {
  EXPECT_EQ(CheckVerdictName(CheckVerdict::kOk), "ok");
  EXPECT_EQ(CheckVerdictName(CheckVerdict::kNeedsRelayout), "needs_relayout");
  EXPECT_EQ(CheckVerdictName(CheckVerdict::kIncompatible), "incompatible");
  EXPECT_EQ(CheckVerdictName(CheckVerdict::kMemoryKind), "memory_kind");
  EXPECT_EQ(CheckVerdictName(CheckVerdict::kMissing), "missing");
  EXPECT_EQ(CheckVerdictName(CheckVerdict::kExtra), "extra");
}

}  // namespace
}  // namespace xlayout
