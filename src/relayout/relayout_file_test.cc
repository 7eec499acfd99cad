#include "xlayout/relayout_file.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"
#include "testing/parse.h"
#include "xlayout/relayout.h"
#include "xlayout/relayout_bands.h"
#include "xlayout/size.h"

namespace xlayout {
namespace {

using io::testing::ModeOf;
using io::testing::ReadText;
using io::testing::ScratchDir;
using io::testing::WriteText;
using ::testing::HasSubstr;

std::string Pattern(int64_t n) {
  std::string s(static_cast<size_t>(n), '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string Expected(const Shape& from, const Shape& to,
                     const std::string& in) {
  std::string out(static_cast<size_t>(*ExactBytes(to)), '\x55');
  absl::Status s = ReferenceRelayout(
      from, to, {reinterpret_cast<const uint8_t*>(in.data()), in.size()},
      {reinterpret_cast<uint8_t*>(out.data()), out.size()});
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

struct Case {
  const char* from;
  const char* to;
};

TEST(RelayoutFileTest, MatchesTheReferenceThroughSmallWindows) {
  const Case cases[] = {
      {"f32[64,48]{1,0}", "f32[64,48]{0,1}"},
      {"bf16[16,130,40]{1,2,0:T(8,128)(2,1)}",
       "bf16[16,130,40]{2,1,0:T(8,128)(2,1)}"},
      {"u8[300,7]{1,0}", "u8[300,7]{0,1:T(8,128)}"},
      {"s4[33,65]{1,0:E(4)}", "s4[33,65]{0,1:T(8,128)(2,1)E(4)}"},
      // These split into bands of the major dimension (with a last band
      // of the rest, and bands of tile rows).
      {"f32[20,300]{1,0}", "f32[20,300]{1,0:T(8,128)}"},
      {"bf16[37,260]{1,0:T(8,128)(2,1)}", "bf16[37,260]{1,0:T(16,128)(2,1)}"},
      {"f32[1000]{0}", "f32[1000]{0:T(256)}"},
      {"s4[33,65]{1,0:E(4)}", "s4[33,65]{1,0:T(8,128)(2,1)E(4)}"},
      {"u8[5,9,300]{2,1,0}", "u8[5,9,300]{1,2,0:T(8,128)(4,1)}"},
      // Regressions: a second tile level over the row blocks (bands of
      // 384 rows, not 128), packed rows of 21 bits (bands of 8 rows). The
      // short one was split wrongly into two bands that added up.
      {"f16[1000]{0:T(128)}", "f16[1000]{0:T(16)(3,2)}"},
      {"pred[64,21]{1,0:E(1)}", "pred[64,21]{1,0:T(4)E(2)}"},
      {"pred[2,21]{1,0:E(1)}", "pred[2,21]{1,0:T(4)E(2)}"},
  };
  for (const Case& c : cases) {
    const Shape from = test_util::ParseOrFail(c.from);
    const Shape to = test_util::ParseOrFail(c.to);
    const std::string in = Pattern(*ExactBytes(from));
    const std::string want = Expected(from, to, in);
    const bool splits = FindRelayoutBands(from, to).has_value();
    // band_bytes 1: a band per multiple of the tile rows; 0: no bands.
    for (auto [mode, band_bytes] :
         {std::pair{RelayoutFileOptions::InputMode::kMap, int64_t{0}},
          std::pair{RelayoutFileOptions::InputMode::kRead, int64_t{0}},
          std::pair{RelayoutFileOptions::InputMode::kMap, int64_t{1}},
          std::pair{RelayoutFileOptions::InputMode::kMap, int64_t{3000}}}) {
      for (int threads : {1, 3}) {
        ScratchDir dir;
        WriteText(dir / "in", in);
        RelayoutFileOptions options;
        options.window_bytes = 4096;
        options.input_mode = mode;
        options.band_bytes = band_bytes;
        options.relayout.threads = threads;
        int64_t last_progress = -1;
        options.progress = [&](int64_t done, int64_t total) {
          EXPECT_GT(done, last_progress);
          EXPECT_EQ(total, static_cast<int64_t>(want.size()));
          last_progress = done;
        };
        absl::StatusOr<RelayoutFileResult> r =
            RelayoutFile(from, to, dir / "in", dir / "out", options);
        ASSERT_TRUE(r.ok()) << c.from << ": " << r.status();
        EXPECT_EQ(ReadText(dir / "out"), want) << c.from << " -> " << c.to;
        EXPECT_EQ(r->output_bytes, static_cast<int64_t>(want.size()));
        EXPECT_EQ(r->xxh3_64, XXH3_64bits(want.data(), want.size()));
        EXPECT_EQ(last_progress, static_cast<int64_t>(want.size()));
        EXPECT_EQ(dir.List().size(), 2u);  // in, out: no temporary left.
        if (band_bytes == 0) {
          EXPECT_EQ(r->bands, 0) << c.from;
        } else if (band_bytes == 1) {
          EXPECT_EQ(r->bands > 1, splits) << c.from;
        }
      }
    }
  }
}

TEST(RelayoutFileTest, WrongInputSizeWritesNothing) {
  ScratchDir dir;
  WriteText(dir / "in", std::string(100, 'x'));
  WriteText(dir / "out", "keep");
  absl::StatusOr<RelayoutFileResult> r = RelayoutFile(
      test_util::ParseOrFail("f32[8,8]{1,0}"),
      test_util::ParseOrFail("f32[8,8]{0,1}"), dir / "in", dir / "out");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("input '" + (dir / "in") +
                        "' is 100 bytes but f32[8,8]{1,0} needs 256 bytes"));
  EXPECT_EQ(ReadText(dir / "out"), "keep");
  EXPECT_EQ(dir.List().size(), 2u);
}

TEST(RelayoutFileTest, RefusesNonRegularFilesAndKeepsMode) {
  ScratchDir dir;
  const Shape from = test_util::ParseOrFail("f32[8,8]{1,0}");
  const Shape to = test_util::ParseOrFail("f32[8,8]{0,1}");
  WriteText(dir / "in", Pattern(256));
  mkdir((dir / "d").c_str(), 0755);
  EXPECT_EQ(RelayoutFile(from, to, dir / "d", dir / "out").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RelayoutFile(from, to, dir / "in", dir / "d").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  absl::StatusOr<RelayoutFileResult> r =
      RelayoutFile(from, to, dir / "fifo", dir / "out");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("it is a FIFO"));
  WriteText(dir / "out", "old");
  chmod((dir / "out").c_str(), 0600);
  ASSERT_TRUE(RelayoutFile(from, to, dir / "in", dir / "out").ok());
  EXPECT_EQ(ModeOf(dir / "out"), 0600u);
  EXPECT_EQ(ReadText(dir / "out"), Expected(from, to, Pattern(256)));
}

TEST(RelayoutFileTest, StdinAndStdout) {
  ScratchDir dir;
  const Shape from = test_util::ParseOrFail("u8[40,30]{1,0}");
  const Shape to = test_util::ParseOrFail("u8[40,30]{0,1}");
  const std::string in = Pattern(1200);
  // stdin from a pipe (a stream, read into memory), stdout to a file.
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  ASSERT_EQ(write(pipefd[1], in.data(), in.size()), 1200);
  close(pipefd[1]);
  const int saved_in = dup(STDIN_FILENO), saved_out = dup(STDOUT_FILENO);
  dup2(pipefd[0], STDIN_FILENO);
  close(pipefd[0]);
  int out = open((dir / "captured").c_str(), O_WRONLY | O_CREAT, 0644);
  dup2(out, STDOUT_FILENO);
  close(out);
  absl::StatusOr<RelayoutFileResult> r = RelayoutFile(from, to, "-", "-");
  dup2(saved_in, STDIN_FILENO);
  dup2(saved_out, STDOUT_FILENO);
  close(saved_in);
  close(saved_out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ReadText(dir / "captured"), Expected(from, to, in));
  EXPECT_EQ(r->output_target, "<stdout>");
}

TEST(RelayoutFileTest, FullDiskIsResourceExhaustedAndLeavesNothing) {
  ScratchDir dir;
  mkdir((dir / "small").c_str(), 0755);
  if (mount("tmpfs", (dir / "small").c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "); the ENOSPC case is not tested";
  }
  const Shape from = test_util::ParseOrFail("f32[512,1024]{1,0}");
  const Shape to = test_util::ParseOrFail("f32[512,1024]{0,1}");
  WriteText(dir / "in", Pattern(2 << 20));
  for (bool precheck : {true, false}) {
    RelayoutFileOptions options;
    options.precheck_free_space = precheck;
    absl::StatusOr<RelayoutFileResult> r =
        RelayoutFile(from, to, dir / "in", dir / "small/out", options);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(r.status().message(),
                HasSubstr("cannot write '" + (dir / "small/out") +
                          "': No space left on device"));
    EXPECT_TRUE(std::filesystem::is_empty(dir / "small"));
  }
  umount2((dir / "small").c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace xlayout
