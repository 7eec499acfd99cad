#include "xlayout/io/input_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "xlayout/io/io_status.h"

namespace xlayout::io {
namespace {

constexpr size_t kReadBlock = size_t{8} << 20;

}  // namespace

const char* FileTypeName(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFIFO:
      return "a FIFO";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symlink";
    default:
      return "an unknown kind of file";
  }
}

std::optional<std::string> DescribeOneShotInput(const std::string& path) {
  if (path == "-") return "standard input";
  if (path == "/dev/stdin" || path == "/dev/fd/0" ||
      path == "/proc/self/fd/0") {
    return absl::StrCat("standard input (", path, ")");
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  const char* what;
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      // A descriptor's regular file is named by the descriptor, which a
      // second process does not have.
      if (!absl::StartsWith(path, "/dev/fd/") &&
          !absl::StartsWith(path, "/proc/self/fd/")) {
        return std::nullopt;
      }
      what = "a file descriptor of this process";
      break;
    case S_IFIFO:
      what = "a pipe";
      break;
    default:
      what = FileTypeName(st.st_mode);
  }
  return absl::StrCat(what, " (", path, ")");
}

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      length_(std::exchange(other.length_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) munmap(base_, length_);
    base_ = std::exchange(other.base_, nullptr);
    length_ = std::exchange(other.length_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedRegion::~MappedRegion() {
  if (base_ != nullptr) munmap(base_, length_);
}

absl::StatusOr<InputFile> InputFile::Open(const std::string& path,
                                          const InputOptions& options) {
  InputFile f;
  struct stat st;
  if (path == "-" && options.allow_stdin) {
    f.fd_ = STDIN_FILENO;
    f.path_ = "<stdin>";
    if (fstat(f.fd_, &st) != 0) return IoError(errno, "stat", f.path_);
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError("cannot read <stdin>: a directory");
    }
  } else {
    if (path.empty()) {
      return absl::InvalidArgumentError("cannot open '': empty file name");
    }
    f.path_ = path;
    // O_NONBLOCK: opening a FIFO must not wait for a writer before the type
    // check below.
    f.fd_ = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f.fd_ < 0) return IoError(errno, "open", path);
    f.owned_ = true;
    if (fstat(f.fd_, &st) != 0) return IoError(errno, "stat", path);
    const bool stream = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
    if (!S_ISREG(st.st_mode) && !(stream && options.allow_streams)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot read '", path, "': it is ", FileTypeName(st.st_mode),
          ", not a regular file",
          options.allow_stdin ? " (use '-' to read standard input)" : ""));
    }
    if (S_ISFIFO(st.st_mode)) {
      // The descriptor stays non-blocking: Read() polls before each read.
      // Re-opening it blocking would wait for a writer that may already have
      // written everything and closed (the data then sits in the pipe).
      f.fifo_ = true;
    } else {
      // Reads block normally from here on.
      const int flags = fcntl(f.fd_, F_GETFL);
      if (flags >= 0) fcntl(f.fd_, F_SETFL, flags & ~O_NONBLOCK);
    }
  }
  f.regular_ = S_ISREG(st.st_mode);
  f.size_ = f.regular_ ? static_cast<int64_t>(st.st_size) : -1;
  return f;
}

absl::StatusOr<InputDirectory> InputDirectory::Open(const std::string& path) {
  InputDirectory d;
  d.path_ = path;
  d.fd_ = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d.fd_ < 0) return IoError(errno, "open directory", path);
  return d;
}

InputDirectory::InputDirectory(InputDirectory&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

InputDirectory& InputDirectory::operator=(InputDirectory&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

InputDirectory::~InputDirectory() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<InputFile> InputFile::OpenBeneath(
    const std::string& root, absl::string_view relative,
    const BeneathOptions& options) {
  absl::StatusOr<InputDirectory> dir = InputDirectory::Open(root);
  if (!dir.ok()) return dir.status();
  return OpenBeneath(*dir, relative, options);
}

absl::StatusOr<InputFile> InputFile::OpenBeneath(
    const InputDirectory& root, absl::string_view relative,
    const BeneathOptions& options) {
  InputFile f;
  f.path_ = absl::StrCat(root.path(), "/", relative);
  const std::vector<std::string> parts = absl::StrSplit(relative, '/');
  for (const std::string& part : parts) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", f.path_, "': '", relative,
          "' is not a relative path of names below the directory"));
    }
  }
  // `fd` is the directory the next component is looked up in: root's (not
  // owned) or one opened on the way (owned, closed when replaced).
  int fd = root.fd_;
  auto release = [&] {
    if (fd != root.fd_) close(fd);
  };
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    struct stat st;
    if (fstatat(fd, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int err = errno;
      release();
      return IoError(err, "open", f.path_);
    }
    if (S_ISLNK(st.st_mode)) {
      release();
      return absl::InvalidArgumentError(
          absl::StrCat("'", f.path_, "': '", parts[i], "' is a symbolic link; ",
                       options.symlink_reason));
    }
    // O_NOFOLLOW: a component replaced by a link since the fstatat fails
    // with ELOOP. O_NONBLOCK: a FIFO must not block before the type check.
    const int flags =
        O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? O_NONBLOCK : O_DIRECTORY);
    const int next = openat(fd, parts[i].c_str(), flags);
    const int err = errno;
    release();
    if (next < 0) return IoError(err, "open", f.path_);
    fd = next;
  }
  f.fd_ = fd;
  f.owned_ = true;
  struct stat st;
  if (fstat(f.fd_, &st) != 0) return IoError(errno, "stat", f.path_);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", f.path_, "' is not a regular file"));
  }
  // Reads block normally from here on.
  const int fl = fcntl(f.fd_, F_GETFL);
  if (fl >= 0) fcntl(f.fd_, F_SETFL, fl & ~O_NONBLOCK);
  f.regular_ = true;
  f.size_ = static_cast<int64_t>(st.st_size);
  return f;
}

InputFile::InputFile(InputFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      owned_(std::exchange(other.owned_, false)),
      regular_(other.regular_),
      fifo_(other.fifo_),
      size_(other.size_),
      path_(std::move(other.path_)) {}

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this != &other) {
    if (owned_ && fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    owned_ = std::exchange(other.owned_, false);
    regular_ = other.regular_;
    fifo_ = other.fifo_;
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

InputFile::~InputFile() {
  if (owned_ && fd_ >= 0) close(fd_);
}

absl::StatusOr<size_t> InputFile::Read(void* dst, size_t capacity) {
  while (true) {
    if (fifo_) {
      // A FIFO opened with O_NONBLOCK reads as empty (0) while no writer has
      // come yet; poll waits for data or for the last writer to hang up
      // (Linux reports no hang-up before a first writer was seen).
      struct pollfd p = {fd_, POLLIN, 0};
      if (poll(&p, 1, -1) < 0) {
        if (errno == EINTR) continue;
        return IoError(errno, "poll", path_);
      }
    }
    ssize_t n = read(fd_, dst, capacity);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {  // Someone else made the descriptor non-blocking.
      struct pollfd p = {fd_, POLLIN, 0};
      poll(&p, 1, -1);
      continue;
    }
    return IoError(errno, "read", path_);
  }
}

absl::Status InputFile::ReadAt(int64_t offset, absl::Span<uint8_t> dst) const {
  size_t done = 0;
  while (done < dst.size()) {
    const size_t want = std::min(dst.size() - done, kReadBlock);
    ssize_t n =
        pread(fd_, dst.data() + done, want, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(errno, "read", path_);
    }
    if (n == 0) {
      return absl::OutOfRangeError(absl::StrCat(
          "cannot read '", path_, "': it ends at byte ", offset + done,
          ", expected ", dst.size() - done, " more bytes"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status InputFile::ReadAt(
    int64_t offset, absl::Span<uint8_t> dst,
    absl::FunctionRef<void(absl::Span<const uint8_t>)> on_piece) const {
  for (size_t done = 0; done < dst.size(); done += kCachePieceBytes) {
    absl::Span<uint8_t> piece = dst.subspan(done, kCachePieceBytes);
    absl::Status read = ReadAt(offset + static_cast<int64_t>(done), piece);
    if (!read.ok()) return read;
    on_piece(piece);
  }
  return absl::OkStatus();
}

absl::StatusOr<PageBuffer> InputFile::ReadAll(int64_t max_bytes) {
  if (regular_) {
    off_t pos = lseek(fd_, 0, SEEK_CUR);
    if (pos < 0) pos = 0;
    const int64_t n = std::max<int64_t>(size_ - pos, 0);
    if (n > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot read '", path_, "': ", n,
                       " bytes is more than the limit of ", max_bytes));
    }
    absl::StatusOr<PageBuffer> buf =
        PageBuffer::Allocate(static_cast<size_t>(n), /*prefault=*/true);
    if (!buf.ok()) {
      return absl::Status(
          buf.status().code(),
          absl::StrCat("reading '", path_, "': ", buf.status().message()));
    }
    absl::Status s = ReadAt(pos, buf->span());
    if (!s.ok()) return s;
    lseek(fd_, pos + n, SEEK_SET);
    return buf;
  }
  absl::StatusOr<PageBuffer> buf = PageBuffer::Allocate(kReadBlock, true);
  if (!buf.ok()) return buf.status();
  size_t len = 0;
  while (true) {
    if (buf->size() - len < kReadBlock / 2) {
      absl::Status s = buf->Resize(buf->size() * 2);
      if (!s.ok()) return s;
    }
    absl::StatusOr<size_t> n = Read(buf->data() + len, buf->size() - len);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    len += *n;
    if (static_cast<int64_t>(len) > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot read '", path_, "': more than the limit of ",
                       max_bytes, " bytes"));
    }
  }
  absl::Status s = buf->Resize(len);
  if (!s.ok()) return s;
  return buf;
}

absl::StatusOr<MappedRegion> InputFile::Map(int64_t offset, int64_t length,
                                            const MapOptions& options) const {
  if (!regular_) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot map '", path_, "': not a regular file"));
  }
  if (offset < 0 || length < 0 || offset > size_ || length > size_ - offset) {
    return absl::OutOfRangeError(absl::StrCat(
        "cannot map '", path_, "': bytes [", offset, ", ", offset + length,
        ") are not inside the file's ", size_, " bytes"));
  }
  if (length == 0) return MappedRegion();
  const int64_t page = sysconf(_SC_PAGESIZE);
  const int64_t aligned = offset - offset % page;
  const size_t map_length = static_cast<size_t>(length + (offset - aligned));
  int flags = MAP_PRIVATE | (options.populate ? MAP_POPULATE : 0);
  void* base = mmap(nullptr, map_length, PROT_READ, flags, fd_,
                    static_cast<off_t>(aligned));
  if (base == MAP_FAILED) return IoError(errno, "map", path_);
  return MappedRegion(base, map_length,
                      static_cast<const uint8_t*>(base) + (offset - aligned),
                      static_cast<size_t>(length));
}

absl::StatusOr<RandomAccessBytes> InputFile::ReadForRandomAccess(
    int64_t offset, int64_t length, PageBuffer* buffer,
    absl::FunctionRef<void(absl::Span<const uint8_t>)> on_piece,
    int64_t max_read) const {
  RandomAccessBytes out;
  if (length > max_read) {
    absl::StatusOr<MappedRegion> mapped = Map(offset, length);
    if (!mapped.ok()) return mapped.status();
    out.mapping = *std::move(mapped);
    out.bytes = out.mapping.span();
    for (size_t done = 0; done < out.bytes.size(); done += kCachePieceBytes) {
      on_piece(out.bytes.subspan(done, kCachePieceBytes));
    }
    return out;
  }
  if (offset < 0 || length < 0 || offset > size_ || length > size_ - offset) {
    return absl::OutOfRangeError(absl::StrCat(
        "cannot read '", path_, "': bytes [", offset, ", ", offset + length,
        ") are not inside the file's ", size_, " bytes"));
  }
  const size_t n = static_cast<size_t>(length);
  if (buffer->size() < n) {
    *buffer = PageBuffer();  // Free the old one first.
    absl::StatusOr<PageBuffer> grown =
        PageBuffer::Allocate(n, /*prefault=*/true);
    if (!grown.ok()) return grown.status();
    *buffer = *std::move(grown);
  }
  absl::Span<uint8_t> dst = buffer->span().first(n);
  absl::Status read = ReadAt(offset, dst, on_piece);
  if (!read.ok()) return read;
  out.bytes = dst;
  return out;
}

}  // namespace xlayout::io
