#include "xlayout/io/output_overlap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"

namespace xlayout::io {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::WriteText;

absl::Status Check(const std::string& output, const std::string& input) {
  return CheckOutputApartFromInputs(output, {{input, "the input"}});
}

TEST(OutputOverlapTest, SeparatePathsAreFine) {
  ScratchDir dir;
  WriteText(dir / "in.bin", "x");
  EXPECT_TRUE(Check(dir / "out.bin", dir / "in.bin").ok());
  EXPECT_TRUE(Check(dir / "in.bin2", dir / "in.bin").ok());
  EXPECT_TRUE(Check("-", dir / "in.bin").ok());
  EXPECT_TRUE(Check(dir / "out.bin", "-").ok());
}

TEST(OutputOverlapTest, TheInputItselfUnderAnyName) {
  ScratchDir dir;
  WriteText(dir / "in.bin", "x");
  ASSERT_EQ(symlink((dir / "in.bin").c_str(), (dir / "link").c_str()), 0);
  ASSERT_EQ(link((dir / "in.bin").c_str(), (dir / "hard").c_str()), 0);
  for (const std::string& out :
       {dir / "in.bin", dir / "link", dir / "hard", dir / "./in.bin"}) {
    absl::Status s = Check(out, dir / "in.bin");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << out;
    EXPECT_THAT(s.message(), HasSubstr("itself")) << out;
  }
}

TEST(OutputOverlapTest, InsideOrContainingAnInputDirectory) {
  ScratchDir dir;
  ASSERT_EQ(mkdir((dir / "ck").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir / "ck/data").c_str(), 0755), 0);
  WriteText(dir / "ck/data/t.bin", "x");
  ASSERT_EQ(symlink((dir / "ck/data/t.bin").c_str(), (dir / "t.st").c_str()),
            0);
  EXPECT_THAT(Check(dir / "ck/data", dir / "ck").message(),
              HasSubstr("inside the input"));
  // A symlink whose target is inside the input.
  EXPECT_THAT(Check(dir / "t.st", dir / "ck").message(),
              HasSubstr("inside the input"));
  EXPECT_THAT(Check(dir.path(), dir / "ck").message(),
              HasSubstr("contains the input"));
  EXPECT_THAT(Check(dir.path() + "/", dir / "ck/data/t.bin").message(),
              HasSubstr("contains the input"));
  EXPECT_TRUE(Check(dir / "ck2", dir / "ck").ok());
  EXPECT_EQ(CheckOutputApartFromInputs("", {}).code(),
            absl::StatusCode::kInvalidArgument);
}

// Regression (second trial): "relayout IN - 1<>IN" and "relayout - IN < IN"
// overwrote the input through standard output or input.
TEST(OutputOverlapTest, StandardStreamsPointingAtTheOtherFile) {
  ScratchDir dir;
  WriteText(dir / "in.bin", "x");
  WriteText(dir / "other.bin", "y");
  const int saved_out = dup(STDOUT_FILENO), saved_in = dup(STDIN_FILENO);
  const int fd = open((dir / "in.bin").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
  absl::Status s = Check("-", dir / "in.bin");
  const absl::Status other = Check("-", dir / "other.bin");
  dup2(saved_out, STDOUT_FILENO);
  EXPECT_THAT(s.message(), HasSubstr("standard output is the input"));
  EXPECT_TRUE(other.ok()) << other;
  ASSERT_EQ(dup2(fd, STDIN_FILENO), STDIN_FILENO);
  s = Check(dir / "in.bin", "-");
  const absl::Status fine = Check(dir / "other.bin", "-");
  dup2(saved_in, STDIN_FILENO);
  EXPECT_THAT(s.message(), HasSubstr("(standard input) itself"));
  EXPECT_TRUE(fine.ok()) << fine;
  close(fd);
  close(saved_out);
  close(saved_in);
}

}  // namespace
}  // namespace xlayout::io
