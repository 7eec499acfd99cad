// Each runtime message against the text XLA's runtime prints for it (the
// forms listed in xlayout/runtime_messages.h), filled in by hand so a
// formatting change cannot slip through.
#include "xlayout/runtime_messages.h"

#include <gtest/gtest.h>

#include "absl/strings/cord.h"
#include "testing/parse.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

constexpr auto S = test_util::ParseOrFail;

TEST(RuntimeMessagesTest, BufferCount) {
  EXPECT_EQ(BufferCountMessage(3, 4),
            "Execution supplied 3 buffers but compiled program expected 4 "
            "buffers");
}

TEST(RuntimeMessagesTest, Size) {
  EXPECT_EQ(
      SizeMismatchMessage("jit_f", 7, 5242880,
                          S("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"), 1638400,
                          S("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}")),
      "Executable(jit_f) expected parameter 7 of size 5242880 "
      "(bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) but got buffer with "
      "incompatible size 1638400 (bf16[16,1280,40]{1,2,0:T(8,128)(2,1)})");
}

TEST(RuntimeMessagesTest, MemorySpace) {
  EXPECT_EQ(MemorySpaceMessage("jit_f", 0, "pinned_host"),
            "Executable(jit_f) got a parameter buffer for parameter 0 in an "
            "unexpected memory space 'pinned_host'");
}

TEST(RuntimeMessagesTest, DynamicShapeChecks) {
  EXPECT_EQ(ElementTypeMessage("p", 1, S("bf16[<=4]"), S("f32[<=4]")),
            "Executable(p) expected parameter 1 to have element type BF16 but "
            "got buffer with element type F32");
  EXPECT_EQ(RankMessage("p", 1, 2, 3),
            "Executable(p) expected parameter 1 to have rank 2 but got buffer "
            "with rank 3");
  EXPECT_EQ(LayoutMessage("p", 1, S("f32[<=4,2]{1,0}"), S("f32[<=4,2]{0,1}")),
            "Executable(p) expected parameter 1 to have layout {1,0} but got "
            "buffer with layout {0,1}");
  EXPECT_EQ(DynamicDimensionMessage("p", 1, 0, 4, 9),
            "Executable(p) expected parameter 1 dimension 0 runtime size <= 4, "
            "but got buffer with size 9");
}

TEST(RuntimeMessagesTest, ReplicaSuffixAndAppend) {
  EXPECT_EQ(ReplicaSuffix(3, 1),
            "while running replica 3 and partition 1 of a replicated "
            "computation (other replicas may have failed as well).");
  EXPECT_EQ(AppendContext("a", "b"), "a: b");
}

TEST(RuntimeMessagesTest, E0102Wrapper) {
  EXPECT_EQ(WrapE0102("msg"),
            "E0102: RuntimeProgramInputMismatch:\nmsg\nSee "
            "https://openxla.org/xla/errors/error_0102 for more details.");
}

TEST(RuntimeMessagesTest, RenderStatusHasNoPayloadNoise) {
  absl::Status status = absl::InvalidArgumentError("boom");
  status.SetPayload("x", absl::Cord("y"));
  EXPECT_EQ(RenderStatus(status), "INVALID_ARGUMENT: boom");
  EXPECT_EQ(RenderStatus(absl::OkStatus()), "OK");
}

}  // namespace
}  // namespace xlayout
