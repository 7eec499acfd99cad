#include "xlayout/io/atomic_output_dir.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/io/input_file.h"

namespace xlayout::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadText;
using testing::ScratchDir;
using ::testing::StartsWith;
using testing::WriteText;

absl::Span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(AtomicOutputDirTest, NewDirectoryAppearsWholeOnCommit) {
  ScratchDir dir;
  absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(dir / "ckpt");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->WriteFile("index.json", Bytes("{}")).ok());
  ASSERT_TRUE(d->MakeDirectory("shards").ok());
  absl::StatusOr<DirFileWriter> w = d->CreateFile("shards/0.bin");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->Write("abc", 3).ok());
  // Not visible yet, and an open file blocks the commit.
  EXPECT_FALSE(std::filesystem::exists(dir / "ckpt"));
  EXPECT_EQ(d->Commit().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(w->Close().ok());
  ASSERT_TRUE(d->Commit().ok());
  EXPECT_THAT(dir.List(), ElementsAre("ckpt"));
  EXPECT_EQ(ReadText(dir / "ckpt/index.json"), "{}");
  EXPECT_EQ(ReadText(dir / "ckpt/shards/0.bin"), "abc");
}

TEST(AtomicOutputDirTest, ExistingDirectoryIsReplacedWhole) {
  ScratchDir dir;
  mkdir((dir / "ckpt").c_str(), 0755);
  WriteText(dir / "ckpt/old", "old");
  // Without a rule only an empty directory is replaced.
  EXPECT_EQ(AtomicOutputDir::Create(dir / "ckpt/").status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(
      dir / "ckpt/",
      {.may_replace = [](const std::string&) { return absl::OkStatus(); }});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->WriteFile("new", Bytes("new")).ok());
  EXPECT_EQ(ReadText(dir / "ckpt/old"), "old");
  ASSERT_TRUE(d->Commit().ok());
  EXPECT_THAT(dir.List(), ElementsAre("ckpt"));
  EXPECT_FALSE(std::filesystem::exists(dir / "ckpt/old"));
  EXPECT_EQ(ReadText(dir / "ckpt/new"), "new");
}

// Regression: export replaced any directory given as -o, the user's files
// with it.
TEST(AtomicOutputDirTest, NonEmptyDirectoryIsRefusedByDefault) {
  ScratchDir dir;
  mkdir((dir / "work").c_str(), 0755);
  WriteText(dir / "work/paper.txt", "thesis");
  absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(dir / "work");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("not empty"));
  EXPECT_THAT(d.status().message(), HasSubstr("paper.txt"));
  // Filled between Create and Commit: refused then too, nothing lost.
  mkdir((dir / "empty").c_str(), 0755);
  absl::StatusOr<AtomicOutputDir> e = AtomicOutputDir::Create(dir / "empty");
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE(e->WriteFile("new", Bytes("new")).ok());
  WriteText(dir / "empty/late.txt", "late");
  EXPECT_EQ(e->Commit().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadText(dir / "empty/late.txt"), "late");
  EXPECT_EQ(ReadText(dir / "work/paper.txt"), "thesis");
}

TEST(AtomicOutputDirTest, AbortAndDestructionRemoveEverything) {
  ScratchDir dir;
  {
    absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(dir / "ckpt");
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->MakeDirectory("a").ok());
    ASSERT_TRUE(d->WriteFile("a/f", Bytes("x")).ok());
    ASSERT_EQ(dir.List().size(), 1u);
    EXPECT_THAT(dir.List()[0], StartsWith(".ckpt.xlayout-tmp-"));
  }
  EXPECT_TRUE(dir.List().empty());
  absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(dir / "ckpt");
  ASSERT_TRUE(d.ok());
  AtomicOutputDir moved = std::move(*d);
  ASSERT_TRUE(moved.WriteFile("f", Bytes("x")).ok());
  moved.Abort();
  EXPECT_TRUE(dir.List().empty());
  EXPECT_EQ(moved.Commit().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AtomicOutputDirTest, BadNamesAndNonDirectoryTargetsAreRefused) {
  ScratchDir dir;
  WriteText(dir / "file", "x");
  absl::StatusOr<AtomicOutputDir> bad = AtomicOutputDir::Create(dir / "file");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("it is a regular file"));
  absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(dir / "ckpt");
  ASSERT_TRUE(d.ok());
  for (const char* name : {"", "/abs", "../up", "a/../b", "a//b", "."}) {
    EXPECT_EQ(d->WriteFile(name, Bytes("x")).code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  EXPECT_EQ(d->WriteFile("missing/f", Bytes("x")).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(d->WriteFile("f", Bytes("x")).ok());
  EXPECT_EQ(d->WriteFile("f", Bytes("x")).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(AtomicOutputDirTest, SignalRemovesTheTemporaryTree) {
  ScratchDir dir;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    InstallSignalCleanup();
    absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(dir / "ckpt");
    if (!d.ok() || !d->MakeDirectory("a").ok() ||
        !d->WriteFile("a/f", Bytes("x")).ok() ||
        !d->WriteFile("g", Bytes("y")).ok()) {
      _exit(3);
    }
    raise(SIGINT);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_TRUE(dir.List().empty());
}

std::string PatternText(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + i / 7);
  return s;
}

// Copies `size` bytes of `source` at `from` into a new file at `to` (the
// file otherwise zeros), and checks them.
void ExpectCopy(const std::string& source, const std::string& dir, int64_t from,
                int64_t to, int64_t size) {
  absl::StatusOr<InputFile> in = InputFile::Open(source);
  ASSERT_TRUE(in.ok()) << in.status();
  absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(dir + "/out");
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<DirFileWriter> w = d->CreateFile("data.bin");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->Allocate(to + size).ok());
  absl::Status s = w->CopyFrom(*in, from, to, size);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(w->Close().ok());
  ASSERT_TRUE(d->Commit().ok());
  const std::string got = ReadText(dir + "/out/data.bin");
  const std::string all = ReadText(source);
  EXPECT_EQ(got, std::string(static_cast<size_t>(to), '\0') +
                     all.substr(static_cast<size_t>(from),
                                static_cast<size_t>(size)));
}

TEST(AtomicOutputDirTest, CopyFromCopiesARangeInTheKernelOrThroughMemory) {
  ScratchDir dir;
  const std::string text = PatternText((3 << 20) + 5);
  WriteText(dir / "src", text);
  // The same file system (copy_file_range), unaligned on both sides.
  ExpectCopy(dir / "src", dir.path(), 4097, 100, (2 << 20) + 3);
  // Another file system, where copy_file_range gives EXDEV and the bytes
  // go through memory.
  ScratchDir other;
  const std::string shm =
      "/dev/shm/xlayout-copy-test-" + std::to_string(getpid());
  WriteText(shm, text);
  ExpectCopy(shm, other.path(), 0, 4096, static_cast<int64_t>(text.size()));
  unlink(shm.c_str());
}

TEST(AtomicOutputDirTest, CopyFromAShortSourceIsDataLossNamingIt) {
  ScratchDir dir;
  WriteText(dir / "src", PatternText(1000));
  absl::StatusOr<InputFile> in = InputFile::Open(dir / "src");
  ASSERT_TRUE(in.ok());
  absl::StatusOr<AtomicOutputDir> d = AtomicOutputDir::Create(dir / "out");
  ASSERT_TRUE(d.ok());
  absl::StatusOr<DirFileWriter> w = d->CreateFile("data.bin");
  ASSERT_TRUE(w.ok());
  // The source shrinks after it was opened.
  ASSERT_EQ(truncate((dir / "src").c_str(), 500), 0);
  absl::Status s = w->CopyFrom(*in, 400, 0, 200);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr(dir / "src"));
  EXPECT_THAT(s.message(), HasSubstr("shrank"));
}

TEST(AtomicOutputDirTest, FullDiskFailsTheWriteAndCleansUp) {
  ScratchDir dir;
  mkdir((dir / "small").c_str(), 0755);
  if (mount("tmpfs", (dir / "small").c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "); the ENOSPC case is not tested";
  }
  {
    absl::StatusOr<AtomicOutputDir> d =
        AtomicOutputDir::Create(dir / "small/ckpt");
    ASSERT_TRUE(d.ok());
    std::string big(2 << 20, 'x');
    absl::Status s = d->WriteFile("big", Bytes(big));
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
    EXPECT_THAT(s.message(), HasSubstr("ckpt/big"));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir / "small"));
  umount2((dir / "small").c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace xlayout::io
