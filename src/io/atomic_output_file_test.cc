#include "xlayout/io/atomic_output_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"

namespace xlayout::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ModeOf;
using testing::ReadText;
using testing::ScratchDir;
using ::testing::StartsWith;
using testing::WriteText;

absl::Status WriteAll(AtomicOutputFile& f, const std::string& s) {
  return f.Write(s.data(), s.size());
}

// Regression (new-user trial): every SIGKILL left a full-size temporary
// behind for good. A later run removes this host's leftovers whose process
// is gone, and nothing else.
TEST(AtomicOutputFileTest, LeftoversOfKilledRunsAreRemoved) {
  ScratchDir dir;
  // A process that has exited: its pid no longer runs.
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string ours = TempPrefix("out");  // ".out.xlayout-tmp-HOST-PID-"
  const std::string host_part =
      ours.substr(0, ours.rfind('-', ours.size() - 2) + 1);
  const std::string dead = absl::StrCat(host_part, child, "-abc123");
  const std::string live = absl::StrCat(host_part, getppid(), "-abc123");
  WriteText(dir / dead, "stale");
  ASSERT_EQ(mkdir((dir / (dead + "d")).c_str(), 0755), 0);  // A directory.
  WriteText(dir / (dead + "d/inner"), "stale");
  WriteText(dir / live, "a live run's");
  WriteText(dir / ".out.xlayout-tmp-otherhost-1-abc123", "another host's");
  WriteText(dir / ".other.xlayout-tmp-x", "another output's");
  ASSERT_EQ(symlink("/etc/hostname", (dir / (dead + "l")).c_str()), 0);
  absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "out");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->Commit().ok());
  EXPECT_THAT(dir.List(),
              ::testing::UnorderedElementsAre(
                  ".other.xlayout-tmp-x", ".out.xlayout-tmp-otherhost-1-abc123",
                  dead + "l", live, "out"));
}

TEST(AtomicOutputFileTest, NewFileAppearsOnlyOnCommitWithUmaskMode) {
  ScratchDir dir;
  const mode_t old_mask = umask(022);
  absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "out");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->mode(), 0644u);
  ASSERT_TRUE(WriteAll(*f, "hello ").ok());
  ASSERT_TRUE(WriteAll(*f, "world").ok());
  // Only the temporary file exists, in the same directory.
  std::vector<std::string> names = dir.List();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_THAT(names[0], StartsWith(".out.xlayout-tmp-"));
  EXPECT_EQ(f->temp_path(), dir / names[0]);
  ASSERT_TRUE(f->Commit().ok());
  umask(old_mask);
  EXPECT_THAT(dir.List(), ElementsAre("out"));
  EXPECT_EQ(ReadText(dir / "out"), "hello world");
  EXPECT_EQ(ModeOf(dir / "out"), 0644u);
  EXPECT_EQ(f->bytes_written(), 11);
  EXPECT_EQ(f->Commit().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AtomicOutputFileTest, ExistingFileKeepsItsMode) {
  ScratchDir dir;
  WriteText(dir / "out", "old");
  chmod((dir / "out").c_str(), 0600);
  absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "out");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(WriteAll(*f, "new").ok());
  EXPECT_EQ(ReadText(dir / "out"), "old");  // Untouched until Commit.
  ASSERT_TRUE(f->Commit().ok());
  EXPECT_EQ(ReadText(dir / "out"), "new");
  EXPECT_EQ(ModeOf(dir / "out"), 0600u);
}

TEST(AtomicOutputFileTest, SymlinkTargetIsReplacedAndLinkKept) {
  ScratchDir dir;
  mkdir((dir / "sub").c_str(), 0755);
  WriteText(dir / "sub/target", "old");
  chmod((dir / "sub/target").c_str(), 0640);
  ASSERT_EQ(symlink("sub/target", (dir / "link").c_str()), 0);
  ASSERT_EQ(symlink("link", (dir / "link2").c_str()), 0);
  absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "link2");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->target(), dir / "sub/target");
  ASSERT_TRUE(WriteAll(*f, "new").ok());
  ASSERT_TRUE(f->Commit().ok());
  struct stat st;
  ASSERT_EQ(lstat((dir / "link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(lstat((dir / "link2").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(ReadText(dir / "sub/target"), "new");
  EXPECT_EQ(ModeOf(dir / "sub/target"), 0640u);
  EXPECT_THAT(dir.List(), ElementsAre("link", "link2", "sub"));
}

TEST(AtomicOutputFileTest, DanglingSymlinkCreatesItsTarget) {
  ScratchDir dir;
  ASSERT_EQ(symlink("new", (dir / "link").c_str()), 0);
  absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "link");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(WriteAll(*f, "x").ok());
  ASSERT_TRUE(f->Commit().ok());
  EXPECT_EQ(ReadText(dir / "new"), "x");
  struct stat st;
  ASSERT_EQ(lstat((dir / "link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST(AtomicOutputFileTest, SymlinkLoopIsRefused) {
  ScratchDir dir;
  ASSERT_EQ(symlink("b", (dir / "a").c_str()), 0);
  ASSERT_EQ(symlink("a", (dir / "b").c_str()), 0);
  absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "a");
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("too many levels of symlinks"));
}

void ExpectRefused(const std::string& path, const std::string& kind) {
  absl::StatusOr<AtomicOutputFile> f =
      AtomicOutputFile::Create(path, {.allow_stdout = true});
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << path;
  EXPECT_THAT(f.status().message(),
              HasSubstr("refusing to replace '" + path + "'"));
  EXPECT_THAT(f.status().message(), HasSubstr("it is " + kind));
  EXPECT_THAT(f.status().message(), HasSubstr("use '-'"));
}

TEST(AtomicOutputFileTest, NonRegularTargetsAreRefusedAndUntouched) {
  ScratchDir dir;
  mkdir((dir / "d").c_str(), 0755);
  ExpectRefused(dir / "d", "a directory");
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  ExpectRefused(dir / "fifo", "a FIFO");
  ASSERT_EQ(symlink("fifo", (dir / "fifolink").c_str()), 0);
  ExpectRefused(dir / "fifolink", "a FIFO");
  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = dir / "sock";
  if (sock_path.size() < sizeof(addr.sun_path)) {
    std::strcpy(addr.sun_path, sock_path.c_str());
    ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ExpectRefused(sock_path, "a socket");
  }
  close(sock);
  if (mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    ExpectRefused(dir / "null", "a character device");
    struct stat st;
    ASSERT_EQ(lstat((dir / "null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
  } else {
    std::printf("skipping the device node case: mknod: %s\n",
                std::strerror(errno));
  }
  // Nothing was created next to them.
  for (const std::string& name : dir.List()) {
    EXPECT_THAT(name, ::testing::Not(HasSubstr("xlayout-tmp")));
  }
  EXPECT_EQ(AtomicOutputFile::Create(dir / "d/").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AtomicOutputFile::Create(dir / "nodir/out").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(AtomicOutputFileTest, AbortAndDestructionRemoveTheTemporary) {
  ScratchDir dir;
  WriteText(dir / "out", "old");
  {
    absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "out");
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(WriteAll(*f, "partial").ok());
    EXPECT_EQ(dir.List().size(), 2u);
  }
  EXPECT_THAT(dir.List(), ElementsAre("out"));
  absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "out");
  ASSERT_TRUE(f.ok());
  AtomicOutputFile moved = std::move(*f);
  ASSERT_TRUE(WriteAll(moved, "partial").ok());
  moved.Abort();
  EXPECT_THAT(dir.List(), ElementsAre("out"));
  EXPECT_EQ(ReadText(dir / "out"), "old");
  EXPECT_EQ(WriteAll(moved, "more").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(moved.Commit().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AtomicOutputFileTest, DashWritesStandardOutputInPlace) {
  ScratchDir dir;
  fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  int fd = open((dir / "captured").c_str(), O_WRONLY | O_CREAT, 0644);
  dup2(fd, STDOUT_FILENO);
  close(fd);
  absl::StatusOr<AtomicOutputFile> f =
      AtomicOutputFile::Create("-", {.allow_stdout = true});
  absl::Status w = f.ok() ? WriteAll(*f, "to stdout") : f.status();
  absl::Status c = f.ok() ? f->Commit() : f.status();
  dup2(saved, STDOUT_FILENO);
  close(saved);
  ASSERT_TRUE(w.ok()) << w;
  ASSERT_TRUE(c.ok()) << c;
  EXPECT_TRUE(f->in_place());
  EXPECT_EQ(ReadText(dir / "captured"), "to stdout");
  EXPECT_THAT(dir.List(), ElementsAre("captured"));
  // Without allow_stdout, "-" is a file name.
  absl::StatusOr<AtomicOutputFile> g = AtomicOutputFile::Create(dir / "-");
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->in_place());
}

// A 1 MiB tmpfs for the test, or skip when mounting is not allowed.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string& path) : path_(path) {
    mkdir(path.c_str(), 0755);
    mounted_ = mount("tmpfs", path.c_str(), "tmpfs", 0, "size=1m") == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

TEST(AtomicOutputFileTest, FullDiskIsResourceExhaustedAndLeavesNothing) {
  ScratchDir dir;
  SmallTmpfs fs(dir / "small");
  if (!fs.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << fs.error()
                 << "); the ENOSPC case is not tested";
  }
  const std::string out = dir / "small/out";
  absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(out);
  ASSERT_TRUE(f.ok()) << f.status();
  std::string block(256 << 10, 'x');
  absl::Status s;
  for (int i = 0; i < 8 && s.ok(); ++i) s = WriteAll(*f, block);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "cannot write '" + out + "': No space left on device");
  EXPECT_TRUE(std::filesystem::is_empty(dir / "small"));
  // The free-space hint refuses before writing anything.
  absl::StatusOr<AtomicOutputFile> g =
      AtomicOutputFile::Create(out, {.expected_bytes = 8 << 20});
  EXPECT_EQ(g.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(g.status().message(),
              HasSubstr("No space left on device (it needs 8388608 bytes"));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "small"));
}

TEST(AtomicOutputFileTest, SignalRemovesTheTemporary) {
  ScratchDir dir;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    InstallSignalCleanup();
    absl::StatusOr<AtomicOutputFile> f = AtomicOutputFile::Create(dir / "out");
    if (!f.ok() || !WriteAll(*f, "partial").ok()) _exit(3);
    raise(SIGTERM);
    _exit(4);  // Not reached.
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_TRUE(dir.List().empty());
}

TEST(SplitPathTest, DirectoryAndName) {
  EXPECT_EQ(SplitPath("a"), std::make_pair(std::string("."), std::string("a")));
  EXPECT_EQ(SplitPath("/a"),
            std::make_pair(std::string("/"), std::string("a")));
  EXPECT_EQ(SplitPath("x/y/z"),
            std::make_pair(std::string("x/y"), std::string("z")));
}

}  // namespace
}  // namespace xlayout::io
