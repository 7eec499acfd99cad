#include "xlayout/io/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"

namespace xlayout::io {
namespace {

using ::testing::HasSubstr;
using testing::ReadText;
using testing::ScratchDir;
using testing::WriteText;

std::string Str(absl::Span<const uint8_t> s) {
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

TEST(InputFileTest, RegularFileReadsAndMaps) {
  ScratchDir dir;
  std::string content;
  for (int i = 0; i < 100000; ++i) content += static_cast<char>('a' + i % 26);
  WriteText(dir / "in", content);
  absl::StatusOr<InputFile> f = InputFile::Open(dir / "in");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->is_regular());
  EXPECT_EQ(f->size(), 100000);
  EXPECT_EQ(f->path(), dir / "in");

  std::string part(10, '\0');
  ASSERT_TRUE(
      f->ReadAt(4097, {reinterpret_cast<uint8_t*>(part.data()), 10}).ok());
  EXPECT_EQ(part, content.substr(4097, 10));

  for (bool populate : {true, false}) {
    absl::StatusOr<MappedRegion> m = f->Map(5000, 70000, {populate});
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(Str(m->span()), content.substr(5000, 70000));
  }
  absl::StatusOr<MappedRegion> empty = f->Map(100000, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);

  absl::StatusOr<PageBuffer> all = f->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(Str(all->span()), content);
  // Sequential reads continue after ReadAll: nothing left.
  char c;
  absl::StatusOr<size_t> n = f->Read(&c, 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST(InputFileTest, ReadForRandomAccessReadsOrMapsAndShowsEveryPiece) {
  ScratchDir dir;
  std::string content;
  for (int i = 0; i < 1500000; ++i) content += static_cast<char>(i * 7 + 3);
  WriteText(dir / "in", content);
  absl::StatusOr<InputFile> f = InputFile::Open(dir / "in");
  ASSERT_TRUE(f.ok()) << f.status();
  PageBuffer buffer;
  // Read (up to the limit), then mapped (past it): the same bytes, and the
  // pieces are those bytes in order, none above 512 KiB.
  for (int64_t max_read : {kMaxReadForRandomAccess, int64_t{1000}}) {
    std::string pieces;
    size_t largest = 0;
    absl::StatusOr<RandomAccessBytes> r = f->ReadForRandomAccess(
        5000, 1200000, &buffer,
        [&](absl::Span<const uint8_t> piece) {
          pieces += Str(piece);
          largest = std::max(largest, piece.size());
        },
        max_read);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Str(r->bytes), content.substr(5000, 1200000));
    EXPECT_EQ(pieces, Str(r->bytes));
    EXPECT_EQ(largest, size_t{512} << 10);
    EXPECT_EQ(r->mapping.size() > 0, max_read == 1000);
    EXPECT_EQ(r->bytes.data() == buffer.data(), max_read != 1000);
  }
  // A smaller read reuses the buffer.
  const uint8_t* before = buffer.data();
  absl::StatusOr<RandomAccessBytes> small =
      f->ReadForRandomAccess(7, 10, &buffer, [](absl::Span<const uint8_t>) {});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(Str(small->bytes), content.substr(7, 10));
  EXPECT_EQ(buffer.data(), before);
  // Past the end: OUT_OF_RANGE naming the file, either way.
  for (int64_t max_read : {kMaxReadForRandomAccess, int64_t{0}}) {
    absl::StatusOr<RandomAccessBytes> past = f->ReadForRandomAccess(
        1499990, 11, &buffer, [](absl::Span<const uint8_t>) {}, max_read);
    EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_THAT(past.status().message(), HasSubstr(dir / "in"));
  }
}

TEST(InputFileTest, DescribesInputsThatCannotBeReadAgain) {
  ScratchDir dir;
  WriteText(dir / "in", "x");
  EXPECT_EQ(DescribeOneShotInput(dir / "in"), std::nullopt);
  EXPECT_EQ(DescribeOneShotInput(dir / "missing"), std::nullopt);
  EXPECT_EQ(DescribeOneShotInput("-"), "standard input");
  EXPECT_EQ(DescribeOneShotInput("/dev/stdin"), "standard input (/dev/stdin)");
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(DescribeOneShotInput(dir / "fifo"),
            "a pipe (" + (dir / "fifo") + ")");
  EXPECT_EQ(DescribeOneShotInput("/dev/null"),
            "a character device (/dev/null)");
  EXPECT_EQ(DescribeOneShotInput(dir.path()),
            "a directory (" + dir.path() + ")");
  // A regular file open as a descriptor of this process.
  const int fd = open((dir / "in").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const std::string by_fd = "/proc/self/fd/" + std::to_string(fd);
  EXPECT_EQ(DescribeOneShotInput(by_fd),
            "a file descriptor of this process (" + by_fd + ")");
  close(fd);
}

TEST(InputFileTest, RangesOutsideTheFileAreOutOfRange) {
  ScratchDir dir;
  WriteText(dir / "in", "0123456789");
  absl::StatusOr<InputFile> f = InputFile::Open(dir / "in");
  ASSERT_TRUE(f.ok());
  absl::StatusOr<MappedRegion> m = f->Map(5, 6);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(m.status().message(), HasSubstr(dir / "in"));
  uint8_t buf[8];
  absl::Status s = f->ReadAt(4, {buf, 8});
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(), HasSubstr("ends at byte 10"));
  EXPECT_EQ(f->ReadAll(3).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(InputFileTest, MissingFileIsNotFoundNamingThePath) {
  ScratchDir dir;
  absl::StatusOr<InputFile> f = InputFile::Open(dir / "missing");
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.status().message(), "cannot open '" + (dir / "missing") +
                                      "': No such file or directory");
  // "-" is an ordinary name unless stdin is allowed.
  EXPECT_EQ(InputFile::Open("-").status().code(), absl::StatusCode::kNotFound);
}

TEST(InputFileTest, UnreadableFileIsPermissionDenied) {
  ScratchDir dir;
  WriteText(dir / "secret", "x");
  chmod((dir / "secret").c_str(), 0);
  absl::StatusOr<InputFile> f = InputFile::Open(dir / "secret");
  if (geteuid() == 0) {
    // Root reads anything; check the other errno path a user can hit: a
    // path through a regular file.
    EXPECT_TRUE(f.ok());
    absl::StatusOr<InputFile> g = InputFile::Open(dir / "secret/x");
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(g.status().message(), HasSubstr("Not a directory"));
  } else {
    EXPECT_EQ(f.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(f.status().message(), HasSubstr(dir / "secret"));
  }
}

TEST(InputFileTest, DirectoryIsRefused) {
  ScratchDir dir;
  absl::StatusOr<InputFile> f =
      InputFile::Open(dir.path(), {.allow_stdin = true, .allow_streams = true});
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("it is a directory"));
  EXPECT_THAT(f.status().message(), HasSubstr(dir.path()));
}

TEST(InputFileTest, SymlinkIsFollowed) {
  ScratchDir dir;
  WriteText(dir / "target", "data");
  ASSERT_EQ(symlink("target", (dir / "link").c_str()), 0);
  absl::StatusOr<InputFile> f = InputFile::Open(dir / "link");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->size(), 4);
}

TEST(InputFileTest, FifoIsRefusedWithoutBlocking) {
  ScratchDir dir;
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto result = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> done = result->get_future();
  std::thread([fifo, result] {
    result->set_value(InputFile::Open(fifo).status());
  }).detach();
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // Unblock the opener so the process can exit, then fail.
    int w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) close(w);
    FAIL() << "Open blocked on a FIFO";
  }
  absl::Status s = done.get();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("it is a FIFO, not a regular file"));
}

// Regression: the writer (as in `cat f > fifo &`) was waiting in open(2),
// wrote everything and closed as soon as Open() had opened the FIFO; Open()
// then re-opened it blocking and waited forever for a second writer
// (env diff timed out in CI).
TEST(InputFileTest, FifoWriterThatFinishedBeforeTheFirstReadIsNotWaitedFor) {
  ScratchDir dir;
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::promise<void> writer_done;
  std::thread writer([&] {
    int w = open(fifo.c_str(), O_WRONLY);  // Waits for the reader.
    if (w >= 0) {
      EXPECT_EQ(write(w, "abc", 3), 3);
      close(w);
    }
    writer_done.set_value();
  });
  auto result = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
  std::future<absl::StatusOr<std::string>> done = result->get_future();
  std::future<void> written = writer_done.get_future();
  std::thread([fifo, result, &written] {
    absl::StatusOr<InputFile> f =
        InputFile::Open(fifo, {.allow_streams = true});
    if (!f.ok()) {
      result->set_value(f.status());
      return;
    }
    written.wait();  // The writer has closed before anything is read.
    absl::StatusOr<PageBuffer> all = f->ReadAll();
    if (!all.ok()) {
      result->set_value(all.status());
      return;
    }
    result->set_value(Str(all->span()));
  }).detach();
  const bool ready =
      done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!ready) {
    // Unblock the reader so the process can exit, then fail.
    int w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) close(w);
  }
  writer.join();
  ASSERT_TRUE(ready) << "reading a FIFO whose writer had finished blocked";
  absl::StatusOr<std::string> text = done.get();
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "abc");
}

TEST(InputFileTest, FifoIsReadAsAStreamWhenAllowed) {
  ScratchDir dir;
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // The writer comes late: reads wait for it (as after a blocking open(2))
  // instead of seeing an empty stream.
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int w = open(fifo.c_str(), O_WRONLY);
    std::string big(3 << 20, 'z');
    big += "end";
    for (size_t off = 0; off < big.size();) {
      ssize_t n = write(w, big.data() + off, big.size() - off);
      if (n <= 0) break;
      off += n;
    }
    close(w);
  });
  absl::StatusOr<InputFile> f = InputFile::Open(fifo, {.allow_streams = true});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->is_regular());
  EXPECT_EQ(f->size(), -1);
  absl::StatusOr<PageBuffer> all = f->ReadAll();
  writer.join();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), (3u << 20) + 3);
  EXPECT_EQ(Str(all->span().subspan(all->size() - 4)), "zend");
  EXPECT_EQ(f->Map(0, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(InputFileTest, DeviceNodeIsRefusedEvenWhenStreamsAreAllowed) {
  ScratchDir dir;
  const std::string dev = dir / "null";
  if (mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "mknod not permitted here: " << std::strerror(errno);
  }
  absl::StatusOr<InputFile> f = InputFile::Open(dev, {.allow_streams = true});
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("it is a character device"));
}

TEST(OpenBeneathTest, RegularFileBelowTheDirectoryIsOpened) {
  ScratchDir dir;
  ASSERT_EQ(mkdir((dir / "a").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir / "a/b").c_str(), 0700), 0);
  WriteText(dir / "a/b/f", "0123456789");
  absl::StatusOr<InputDirectory> root = InputDirectory::Open(dir.path());
  ASSERT_TRUE(root.ok()) << root.status();
  absl::StatusOr<InputFile> f = InputFile::OpenBeneath(*root, "a/b/f");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->is_regular());
  EXPECT_EQ(f->size(), 10);
  EXPECT_EQ(f->path(), dir / "a/b/f");
  uint8_t buf[4];
  ASSERT_TRUE(f->ReadAt(3, {buf, 4}).ok());
  EXPECT_EQ(Str({buf, 4}), "3456");
  // The path overload opens the directory itself.
  absl::StatusOr<InputFile> g = InputFile::OpenBeneath(dir.path(), "a/b/f");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->size(), 10);
}

TEST(OpenBeneathTest, FilesComeFromTheDirectoryOpenedFirst) {
  ScratchDir dir;
  ASSERT_EQ(mkdir((dir / "old").c_str(), 0700), 0);
  WriteText(dir / "old/f", "old");
  absl::StatusOr<InputDirectory> root = InputDirectory::Open(dir / "old");
  ASSERT_TRUE(root.ok());
  // The path now names another directory; the held one is still read.
  ASSERT_EQ(rename((dir / "old").c_str(), (dir / "moved").c_str()), 0);
  ASSERT_EQ(mkdir((dir / "old").c_str(), 0700), 0);
  WriteText(dir / "old/f", "new!");
  absl::StatusOr<InputFile> f = InputFile::OpenBeneath(*root, "f");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->size(), 3);
}

TEST(OpenBeneathTest, SymlinkComponentsAreRefused) {
  ScratchDir dir;
  ASSERT_EQ(mkdir((dir / "real").c_str(), 0700), 0);
  WriteText(dir / "real/f", "data");
  ASSERT_EQ(symlink("real", (dir / "dirlink").c_str()), 0);
  ASSERT_EQ(symlink("f", (dir / "real/filelink").c_str()), 0);
  const BeneathOptions options{.symlink_reason = "no links here"};
  // A link in the middle and at the end, even to a file inside the tree.
  absl::StatusOr<InputFile> f =
      InputFile::OpenBeneath(dir.path(), "dirlink/f", options);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(),
            "'" + (dir / "dirlink/f") +
                "': 'dirlink' is a symbolic link; no links here");
  absl::StatusOr<InputFile> g =
      InputFile::OpenBeneath(dir.path(), "real/filelink", options);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g.status().message(),
            "'" + (dir / "real/filelink") +
                "': 'filelink' is a symbolic link; no links here");
  // The default reason.
  EXPECT_THAT(
      InputFile::OpenBeneath(dir.path(), "dirlink/f").status().message(),
      HasSubstr("is a symbolic link; links below the directory are "
                "not followed"));
  // The root itself may be reached through a link.
  absl::StatusOr<InputFile> h = InputFile::OpenBeneath(dir / "dirlink", "f");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->size(), 4);
}

TEST(OpenBeneathTest, DirectoriesAndFifosAreRefused) {
  ScratchDir dir;
  ASSERT_EQ(mkdir((dir / "sub").c_str(), 0700), 0);
  absl::StatusOr<InputFile> f = InputFile::OpenBeneath(dir.path(), "sub");
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(),
            "'" + (dir / "sub") + "' is not a regular file");
  // A FIFO is refused without waiting for a writer.
  ASSERT_EQ(mkfifo((dir / "sub/fifo").c_str(), 0600), 0);
  absl::StatusOr<InputFile> g = InputFile::OpenBeneath(dir.path(), "sub/fifo");
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(), HasSubstr("is not a regular file"));
  // A regular file where a directory is expected.
  WriteText(dir / "file", "x");
  absl::StatusOr<InputFile> h = InputFile::OpenBeneath(dir.path(), "file/x");
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(h.status().message(), HasSubstr("Not a directory"));
}

TEST(OpenBeneathTest, MissingFilesAndDirectoriesAreNotFound) {
  ScratchDir dir;
  absl::StatusOr<InputFile> f = InputFile::OpenBeneath(dir.path(), "a/b");
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.status().message(),
            "cannot open '" + (dir / "a/b") + "': No such file or directory");
  absl::StatusOr<InputFile> g = InputFile::OpenBeneath(dir / "none", "f");
  EXPECT_EQ(g.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(g.status().message(), "cannot open directory '" + (dir / "none") +
                                      "': No such file or directory");
}

TEST(OpenBeneathTest, NamesThatLeaveTheDirectoryAreRefused) {
  ScratchDir dir;
  ASSERT_EQ(mkdir((dir / "sub").c_str(), 0700), 0);
  WriteText(dir / "outside", "x");
  // "sub/../outside" would stay inside here, but ".." can climb out of the
  // root, so it is refused wherever it is; so are empty and "." components.
  for (const char* name : {"../outside", "sub/../outside", "./outside",
                           "sub//f", "/outside", "sub/", ""}) {
    absl::StatusOr<InputFile> f = InputFile::OpenBeneath(dir / "sub", name);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(
        f.status().message(),
        HasSubstr("is not a relative path of names below the directory"))
        << name;
  }
}

TEST(PageBufferTest, AllocatesZeroedAndResizesKeepingContent) {
  absl::StatusOr<PageBuffer> b = PageBuffer::Allocate(5 << 20, true);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 5u << 20);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data()) % (2 << 20), 0u);
  for (size_t i = 0; i < b->size(); i += 4096) ASSERT_EQ(b->data()[i], 0);
  b->data()[12] = 7;
  ASSERT_TRUE(b->Resize(9 << 20).ok());
  EXPECT_EQ(b->data()[12], 7);
  EXPECT_EQ(b->data()[(9 << 20) - 1], 0);
  ASSERT_TRUE(b->Resize(100).ok());
  EXPECT_EQ(b->size(), 100u);
  PageBuffer moved = std::move(*b);
  EXPECT_EQ(moved.data()[12], 7);
  absl::StatusOr<PageBuffer> empty = PageBuffer::Allocate(0, true);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->data(), nullptr);
}

}  // namespace
}  // namespace xlayout::io
