#include "xlayout/checkpoint_relayout.h"

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/relayout.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"
#include "xlayout/xxh3.h"

namespace xlayout {
namespace {

using io::testing::ReadText;
using io::testing::ScratchDir;
using io::testing::WriteText;
using ::testing::HasSubstr;

// Program B: what the checkpoint must become. Parameter 0 is XLA's E0102
// sample (the checkpoint holds the transposed tile order), 1 a square f32
// matrix whose transposed layout has the same size, 2 a changed tile, 3 and
// 4 unchanged, 5 a memory-kind change only.
constexpr char kProgram[] =
    R"(HloModule jit_step, entry_computation_layout={(bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}, f32[256,256]{1,0:T(8,128)}, f32[40,300]{1,0:T(8,128)}, f32[8,128]{1,0:T(8,128)}, s32[16]{0}, f32[4]{0:T(256)S(5)})->f32[]{:T(128)}}

ENTRY %main.1 (act: bf16[16,1280,40], w: f32[256,256], k: f32[40,300], row: f32[8,128], ids: s32[16], host: f32[4]) -> f32[] {
  %act = bf16[16,1280,40]{2,1,0:T(8,128)(2,1)} parameter(0)
  %w = f32[256,256]{1,0:T(8,128)} parameter(1)
  %k = f32[40,300]{1,0:T(8,128)} parameter(2)
  %row = f32[8,128]{1,0:T(8,128)} parameter(3)
  %ids = s32[16]{0} parameter(4)
  %host = f32[4]{0:T(256)S(5)} parameter(5)
  ROOT %c = f32[]{:T(128)} constant(0)
}
)";

ProgramSignature Program(const char* text = kProgram) {
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(text);
  EXPECT_TRUE(sig.ok()) << sig.status();
  return sig.ok() ? *std::move(sig) : ProgramSignature();
}

Shape ParseOrDie(absl::string_view text) {
  absl::StatusOr<Shape> s = ParseShape(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : Shape();
}

struct SourceTensor {
  std::string name;
  std::string device;  // The stored layout.
  std::string memory_kind = "device";
};

// Environment A's tensors: 0 transposed tile order, 1 same-size transpose,
// 2 another tile, 3 and 4 as the program wants, 5 in device memory.
std::vector<SourceTensor> SourceA() {
  return {{"act", "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}"},
          {"w", "f32[256,256]{0,1:T(8,128)}"},
          {"k", "f32[40,300]{1,0:T(4,128)}"},
          {"row", "f32[8,128]{1,0:T(8,128)}"},
          {"ids", "s32[16]{0}"},
          {"host", "f32[4]{0:T(256)}"}};
}

// Deterministic row-major bytes for a tensor.
std::vector<uint8_t> LogicalBytes(const Shape& device, uint32_t seed) {
  const Shape logical =
      LogicalShape(device.element_type(),
                   {device.dimensions().begin(), device.dimensions().end()});
  std::vector<uint8_t> bytes(*ExactBytes(logical));
  uint32_t x = seed * 2654435761u + 1;
  for (uint8_t& b : bytes) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  return bytes;
}

Environment EnvA() {
  Environment e;
  e.device_kind = "TPU v4";
  e.topology = "4x4x4";
  return e;
}

// Writes a checkpoint of `tensors` (unbound) with environment A; returns the
// logical bytes of each.
std::vector<std::vector<uint8_t>> WriteSource(
    const std::string& dir, const std::vector<SourceTensor>& tensors) {
  absl::StatusOr<std::unique_ptr<CheckpointWriter>> w =
      CheckpointWriter::Create(dir);
  EXPECT_TRUE(w.ok()) << w.status();
  std::vector<std::vector<uint8_t>> logical;
  uint32_t seed = 1;
  for (const SourceTensor& s : tensors) {
    TensorRecord r;
    r.name = s.name;
    r.device_shape = ParseOrDie(s.device);
    r.dtype = r.device_shape.element_type();
    r.dims.assign(r.device_shape.dimensions().begin(),
                  r.device_shape.dimensions().end());
    r.memory_kind = s.memory_kind;
    logical.push_back(LogicalBytes(r.device_shape, seed++));
    std::vector<uint8_t> physical(*ExactBytes(r.device_shape));
    EXPECT_TRUE(Relayout(LogicalShape(r.dtype, r.dims), r.device_shape,
                         logical.back(), absl::MakeSpan(physical))
                    .ok());
    EXPECT_TRUE((*w)->BeginTensor(r).ok());
    EXPECT_TRUE((*w)->Write(physical).ok());
    EXPECT_TRUE((*w)->EndTensor(Xxh3Of(logical.back())).ok());
  }
  Provenance p;
  p.source_files = {"model.safetensors"};
  EXPECT_TRUE((*w)->Commit(EnvA(), p).ok());
  return logical;
}

// The tensor's logical bytes, read back from a checkpoint by converting its
// stored bytes to row-major.
std::vector<uint8_t> ReadLogical(const CheckpointReader& r,
                                 const TensorRecord& t) {
  std::vector<uint8_t> physical(t.length);
  EXPECT_TRUE(r.ReadTensor(t, absl::MakeSpan(physical)).ok());
  const Shape logical = LogicalShape(t.dtype, t.dims);
  std::vector<uint8_t> out(*ExactBytes(logical));
  EXPECT_TRUE(Relayout(WithoutMemorySpace(t.device_shape), logical, physical,
                       absl::MakeSpan(out))
                  .ok());
  return out;
}

std::unique_ptr<CheckpointReader> Open(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<CheckpointReader>> r =
      CheckpointReader::Open(dir);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : nullptr;
}

TEST(CheckpointRelayoutTest, ConvertsWhatNeedsItAndCopiesTheRest) {
  ScratchDir dir;
  const std::string src = dir / "a";
  std::vector<std::vector<uint8_t>> logical = WriteSource(src, SourceA());
  std::unique_ptr<CheckpointReader> source = Open(src);
  ASSERT_NE(source, nullptr);
  Environment b;
  b.device_kind = "TPU v5 lite";
  b.topology = "4x8";
  CheckpointRelayoutOptions options;
  options.check.current_environment = b;
  options.source_name = "ckpt-a";
  options.tool_version = "9.9.9";
  std::vector<std::pair<int64_t, int64_t>> progress;
  options.progress = [&](int64_t done, int64_t total) {
    progress.push_back({done, total});
  };
  absl::StatusOr<CheckpointRelayoutResult> r =
      RelayoutCheckpoint(Program(), *source, dir / "b", options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->written);
  EXPECT_FALSE(r->verified);
  EXPECT_EQ(r->report.counts.needs_relayout, 3);
  EXPECT_EQ(r->report.counts.memory_kind, 1);
  EXPECT_EQ(r->converted, 3);
  EXPECT_EQ(r->copied, 3);
  ASSERT_EQ(r->tensors.size(), 6u);
  EXPECT_TRUE(r->tensors[0].converted);
  EXPECT_EQ(r->tensors[0].bytes_in, 1638400);
  EXPECT_EQ(r->tensors[0].bytes_out, 5242880);
  EXPECT_TRUE(r->tensors[1].converted);
  EXPECT_TRUE(r->tensors[2].converted);
  EXPECT_FALSE(r->tensors[3].converted);
  EXPECT_FALSE(r->tensors[5].converted);  // Memory kind only: a copy.
  EXPECT_EQ(r->tensors[5].to_memory_kind, "pinned_host");
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().first, progress.back().second);
  EXPECT_EQ(progress.back().second, r->bytes_written);

  std::unique_ptr<CheckpointReader> out = Open(dir / "b");
  ASSERT_NE(out, nullptr);
  const CheckpointManifest& m = out->manifest();
  const ProgramSignature program = Program();
  ASSERT_EQ(m.tensors.size(), 6u);
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TensorRecord& t = m.tensors[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.device_shape, program.parameters[i].shape);
    EXPECT_EQ(t.memory_kind, program.parameters[i].memory_kind);
    ASSERT_TRUE(t.binding.has_value());
    EXPECT_EQ(t.binding->parameter, static_cast<int64_t>(i));
    EXPECT_EQ(t.xxh3_logical, Xxh3Of(logical[i]));
    EXPECT_EQ(ReadLogical(*out, t), logical[i]);
  }
  // The new checkpoint passes the check.
  absl::StatusOr<CheckReport> again = CheckCheckpoint(program, m);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->ok());
  // Environment and provenance.
  ASSERT_TRUE(m.environment.has_value());
  EXPECT_EQ(m.environment->device_kind, "TPU v5 lite");
  // Stamped like import's: who wrote it, and when.
  EXPECT_EQ(m.environment->xlayout_version, "9.9.9");
  EXPECT_TRUE(m.environment->created.has_value());
  EXPECT_EQ(m.provenance.source_checkpoint, "ckpt-a");
  ASSERT_TRUE(m.provenance.source_environment.has_value());
  EXPECT_EQ(m.provenance.source_environment->device_kind, "TPU v4");
  EXPECT_EQ(m.provenance.source_files,
            std::vector<std::string>{"model.safetensors"});
  ASSERT_EQ(m.provenance.conversions.size(), 3u);
  EXPECT_EQ(m.provenance.conversions[0].tensor, "act");
  EXPECT_EQ(m.provenance.conversions[0].from.ToString(),
            "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  // Everything checks out on a full verification too.
  absl::StatusOr<std::vector<TensorVerification>> v = VerifyCheckpoint(*out, 1);
  ASSERT_TRUE(v.ok());
  for (const TensorVerification& t : *v) {
    EXPECT_TRUE(t.physical_ok && t.logical_ok) << t.name;
  }
}

TEST(CheckpointRelayoutTest, SameBytesForAnyThreadCountOrScheduler) {
  ScratchDir dir;
  WriteSource(dir / "a", SourceA());
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  std::string reference;
  int inline_jobs = 0;
  for (int variant = 0; variant < 4; ++variant) {
    CheckpointRelayoutOptions options;
    options.verify = variant == 3;
    if (variant < 3) {
      options.threads = variant + 1;
    } else {
      // A caller-supplied scheduler that runs every job at once.
      options.schedule = [&](std::function<void()> job) {
        ++inline_jobs;
        job();
      };
    }
    const std::string out = dir / absl::StrCat("b", variant);
    absl::StatusOr<CheckpointRelayoutResult> r =
        RelayoutCheckpoint(Program(), *source, out, options);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->verified, variant == 3);
    const std::string data = ReadText(out + "/data/tensors.bin");
    if (variant == 0) {
      reference = data;
    } else {
      EXPECT_TRUE(data == reference) << "variant " << variant;
    }
  }
  EXPECT_EQ(inline_jobs, 6);
}

// "act" and "k" keep their major dimension major, so they are converted a
// band at a time; smaller bands (down to one tile row) must not change a
// byte, and every band is checked against the source's checksum.
TEST(CheckpointRelayoutTest, BandsGiveTheSameBytesAsWholeTensors) {
  ScratchDir dir;
  std::vector<std::vector<uint8_t>> logical = WriteSource(dir / "a", SourceA());
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  std::string reference;
  // 36864: "k" in bands of 24 rows and a last one of 16; 307200: "act" in
  // bands of 3 rows and a last one of 1.
  for (int64_t band_bytes :
       {int64_t{0}, int64_t{1}, int64_t{36864}, int64_t{307200},
        CheckpointRelayoutOptions().band_bytes}) {
    SCOPED_TRACE(band_bytes);
    CheckpointRelayoutOptions options;
    options.band_bytes = band_bytes;
    options.threads = 2;
    const std::string out = dir / absl::StrCat("b", band_bytes);
    absl::StatusOr<CheckpointRelayoutResult> r =
        RelayoutCheckpoint(Program(), *source, out, options);
    ASSERT_TRUE(r.ok()) << r.status();
    const std::string data = ReadText(out + "/data/tensors.bin");
    if (band_bytes == 0) {
      reference = data;
      std::unique_ptr<CheckpointReader> written = Open(out);
      ASSERT_NE(written, nullptr);
      for (size_t i = 0; i < logical.size(); ++i) {
        EXPECT_EQ(ReadLogical(*written, written->manifest().tensors[i]),
                  logical[i]);
      }
    } else {
      EXPECT_TRUE(data == reference);
    }
  }
}

TEST(CheckpointRelayoutTest, CorruptBandedTensorStopsTheRunWithNoOutput) {
  ScratchDir dir;
  WriteSource(dir / "a", SourceA());
  {
    // Flip a byte in the last band of "act" (the first tensor).
    std::fstream f(dir / "a/data/tensors.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1638400 - 7);
    f.put('\x5a');
  }
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  CheckpointRelayoutOptions options;
  options.band_bytes = 1;
  absl::StatusOr<CheckpointRelayoutResult> r =
      RelayoutCheckpoint(Program(), *source, dir / "b", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("tensor \"act\""));
  EXPECT_THAT(r.status().message(), HasSubstr("physical checksum mismatch"));
  EXPECT_EQ(dir.List(), std::vector<std::string>{"a"});
}

TEST(CheckpointRelayoutTest, IncompatibleParameterWritesNothing) {
  ScratchDir dir;
  std::vector<SourceTensor> tensors = SourceA();
  tensors[2].device = "f32[40,299]{1,0:T(8,128)}";  // Other dims.
  WriteSource(dir / "a", tensors);
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  absl::StatusOr<CheckpointRelayoutResult> r =
      RelayoutCheckpoint(Program(), *source, dir / "b", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->written);
  EXPECT_EQ(r->report.counts.incompatible, 1);
  EXPECT_EQ(dir.List(), std::vector<std::string>{"a"});
}

TEST(CheckpointRelayoutTest, RefusesOutputsThatWouldTouchTheSource) {
  ScratchDir dir;
  WriteSource(dir / "a", SourceA());
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  const std::string before = ReadText(dir / "a/data/tensors.bin");
  ASSERT_EQ(symlink("a", (dir / "link").c_str()), 0);
  for (const std::string& out :
       {dir / "a", dir / "a/", dir / "a/sub", dir / "link", dir.path()}) {
    SCOPED_TRACE(out);
    absl::StatusOr<CheckpointRelayoutResult> r =
        RelayoutCheckpoint(Program(), *source, out, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("source"));
  }
  EXPECT_EQ(ReadText(dir / "a/data/tensors.bin"), before);
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"a", "link"}));
}

TEST(CheckpointRelayoutTest, NeverReplacesADirectoryThatIsNotACheckpoint) {
  ScratchDir dir;
  WriteSource(dir / "a", SourceA());
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  ASSERT_EQ(mkdir((dir / "home").c_str(), 0755), 0);
  WriteText(dir / "home/notes.txt", "precious");
  absl::StatusOr<CheckpointRelayoutResult> r =
      RelayoutCheckpoint(Program(), *source, dir / "home", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("not an xlayout checkpoint"));
  EXPECT_EQ(ReadText(dir / "home/notes.txt"), "precious");
  // An earlier output (a checkpoint) is replaced.
  ASSERT_TRUE(RelayoutCheckpoint(Program(), *source, dir / "b", {}).ok());
  ASSERT_TRUE(RelayoutCheckpoint(Program(), *source, dir / "b", {}).ok());
  EXPECT_EQ(dir.List(), (std::vector<std::string>{"a", "b", "home"}));
}

TEST(CheckpointRelayoutTest, CorruptSourceTensorStopsTheRunWithNoOutput) {
  ScratchDir dir;
  WriteSource(dir / "a", SourceA());
  {
    // Flip one byte of "w" (the second tensor, 4 KiB aligned after "act").
    std::fstream f(dir / "a/data/tensors.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1638400 + 100);
    f.put('\x5a');
  }
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  for (int threads : {1, 2}) {
    CheckpointRelayoutOptions options;
    options.threads = threads;
    absl::StatusOr<CheckpointRelayoutResult> r =
        RelayoutCheckpoint(Program(), *source, dir / "b", options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(r.status().message(), HasSubstr("tensor \"w\""));
    EXPECT_EQ(dir.List(), std::vector<std::string>{"a"});
  }
}

// Copies are made in the kernel, unread: a copied tensor larger than any
// buffer comes out exact, and one with a flipped byte is copied with the
// source's checksum, so the flip is never blessed: reading the output finds
// it, and --verify stops the run with nothing written.
TEST(CheckpointRelayoutTest, CopiesAreExactAndKeepTheSourceChecksum) {
  constexpr char kBig[] =
      R"(HloModule jit_step, entry_computation_layout={(f32[1024,1100]{1,0:T(8,128)}, f32[40,300]{1,0:T(8,128)})->f32[]{:T(128)}}

ENTRY %main.1 (big: f32[1024,1100], k: f32[40,300]) -> f32[] {
  %big = f32[1024,1100]{1,0:T(8,128)} parameter(0)
  %k = f32[40,300]{1,0:T(8,128)} parameter(1)
  ROOT %c = f32[]{:T(128)} constant(0)
}
)";
  ScratchDir dir;
  const std::vector<std::vector<uint8_t>> logical =
      WriteSource(dir / "a", {{"big", "f32[1024,1100]{1,0:T(8,128)}"},
                              {"k", "f32[40,300]{1,0:T(4,128)}"}});
  {
    std::unique_ptr<CheckpointReader> source = Open(dir / "a");
    ASSERT_NE(source, nullptr);
    ASSERT_GT(source->manifest().tensors[0].length, int64_t{4} << 20);
    for (int threads : {1, 2}) {
      const std::string out = dir / absl::StrCat("b", threads);
      CheckpointRelayoutOptions options;
      options.threads = threads;
      absl::StatusOr<CheckpointRelayoutResult> r =
          RelayoutCheckpoint(Program(kBig), *source, out, options);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->copied, 1);
      EXPECT_EQ(r->converted, 1);
      std::unique_ptr<CheckpointReader> written = Open(out);
      ASSERT_NE(written, nullptr);
      const TensorRecord& big = written->manifest().tensors[0];
      EXPECT_EQ(big.xxh3_physical, source->manifest().tensors[0].xxh3_physical);
      EXPECT_EQ(ReadLogical(*written, big), logical[0]);
      EXPECT_EQ(ReadLogical(*written, written->manifest().tensors[1]),
                logical[1]);
    }
  }
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  const TensorRecord big = source->manifest().tensors[0];
  {
    std::fstream f(dir / "a/data/tensors.bin",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(big.offset + big.length - 3);
    f.put('\x5a');
  }
  for (int threads : {1, 2}) {
    CheckpointRelayoutOptions options;
    options.threads = threads;
    const std::string out = dir / absl::StrCat("c", threads);
    absl::StatusOr<CheckpointRelayoutResult> r =
        RelayoutCheckpoint(Program(kBig), *source, out, options);
    ASSERT_TRUE(r.ok()) << r.status();
    std::unique_ptr<CheckpointReader> written = Open(out);
    ASSERT_NE(written, nullptr);
    const TensorRecord& copied = written->manifest().tensors[0];
    EXPECT_EQ(copied.xxh3_physical, big.xxh3_physical);
    std::vector<uint8_t> bytes(static_cast<size_t>(copied.length));
    absl::Status read = written->ReadTensor(copied, absl::MakeSpan(bytes));
    EXPECT_EQ(read.code(), absl::StatusCode::kDataLoss) << read;
    EXPECT_EQ(bytes[bytes.size() - 3], 0x5a);

    options.verify = true;
    r = RelayoutCheckpoint(Program(kBig), *source, dir / "d", options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(r.status().message(), HasSubstr("tensor \"big\""));
    EXPECT_THAT(r.status().message(),
                HasSubstr("verification of the output failed: tensor \"big\" "
                          "was copied unread from a corrupt source: "
                          "checkpoint '" +
                          (dir / "a") + "': tensor \"big\""));
    EXPECT_THAT(r.status().message(), HasSubstr("physical checksum mismatch"));
  }
  EXPECT_EQ(dir.List(),
            (std::vector<std::string>{"a", "b1", "b2", "c1", "c2"}));
}

TEST(CheckpointRelayoutTest, EnvironmentWithoutEnvOption) {
  ScratchDir dir;
  WriteSource(dir / "a", SourceA());
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  // Layouts change and the program's environment is unknown: none recorded.
  absl::StatusOr<CheckpointRelayoutResult> r =
      RelayoutCheckpoint(Program(), *source, dir / "b", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(Open(dir / "b")->manifest().environment.has_value());
  // Nothing to convert: a verified copy.
  CheckpointRelayoutOptions options;
  options.verify = true;
  r = RelayoutCheckpoint(Program(), *Open(dir / "b"), dir / "d", options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->converted, 0);
  EXPECT_EQ(r->copied, 6);
  EXPECT_TRUE(r->verified);
  EXPECT_EQ(ReadText(dir / "d/data/tensors.bin"),
            ReadText(dir / "b/data/tensors.bin"));
}

TEST(CheckpointRelayoutTest, ZeroThreadsIsAnError) {
  ScratchDir dir;
  WriteSource(dir / "a", SourceA());
  std::unique_ptr<CheckpointReader> source = Open(dir / "a");
  ASSERT_NE(source, nullptr);
  CheckpointRelayoutOptions options;
  options.threads = 0;
  absl::StatusOr<CheckpointRelayoutResult> r =
      RelayoutCheckpoint(Program(), *source, dir / "b", options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace xlayout
