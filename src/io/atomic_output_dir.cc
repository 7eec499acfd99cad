#include "xlayout/io/atomic_output_dir.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "io/temp_registry.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/io/input_file.h"
#include "xlayout/io/io_status.h"
#include "xlayout/status_macros.h"

namespace xlayout::io {
namespace {

absl::Status SyncDirectory(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(errno, "open directory", dir);
  const bool ok = fsync(fd) == 0;
  const int err = errno;
  close(fd);
  if (!ok && err != EINVAL) return IoError(err, "sync directory", dir);
  return absl::OkStatus();
}

// Swaps two directory entries atomically (both must exist).
int ExchangePaths(const std::string& a, const std::string& b) {
  return static_cast<int>(syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD,
                                  b.c_str(), RENAME_EXCHANGE));
}

// Whether the existing directory `target` (given as `path`) may be replaced:
// the caller's rule, or by default only when it is empty. A directory the
// user may not write is never replaced (the swap would only need the
// parent's permission).
absl::Status CheckReplaceable(const std::string& path,
                              const std::string& target,
                              const AtomicOutputDirOptions& options) {
  if (access(target.c_str(), W_OK) != 0) {
    return IoError(errno, "replace directory", target);
  }
  if (options.may_replace) return options.may_replace(target);
  std::error_code ec;
  std::filesystem::directory_iterator it(target, ec);
  if (ec) return IoError(ec.value(), "list directory", target);
  if (it != std::filesystem::directory_iterator()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to replace directory '", path,
        "': it is not empty (it holds '", it->path().filename().string(),
        "'); remove it yourself or choose another output name"));
  }
  return absl::OkStatus();
}

}  // namespace

DirFileWriter::DirFileWriter(DirFileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      open_count_(std::exchange(other.open_count_, nullptr)),
      reserved_(std::exchange(other.reserved_, 0)) {}

DirFileWriter::~DirFileWriter() {
  if (fd_ >= 0) {
    close(fd_);
    if (open_count_ != nullptr) --*open_count_;
  }
}

absl::Status DirFileWriter::Write(const void* data, size_t size) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", path_, "': already closed"));
  }
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd_, p, std::min<size_t>(size, size_t{1} << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError(n < 0 ? errno : ENOSPC, "write", path_);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status DirFileWriter::WriteAt(int64_t offset, const void* data,
                                    size_t size) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", path_, "': already closed"));
  }
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = pwrite(fd_, p, std::min<size_t>(size, size_t{1} << 30),
                       static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError(n < 0 ? errno : ENOSPC, "write", path_);
    p += n;
    offset += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status DirFileWriter::CopyFrom(const InputFile& in, int64_t in_offset,
                                     int64_t offset, int64_t size) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", path_, "': already closed"));
  }
  while (size > 0) {
    loff_t from = in_offset, to = offset;
    ssize_t n = copy_file_range(in.fd(), &from, fd_, &to,
                                std::min<int64_t>(size, int64_t{1} << 30), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                  errno == EOPNOTSUPP)) {
      break;  // Not between these files: copy through memory below.
    }
    if (n < 0) {
      return IoError(errno, "copy '" + in.path() + "' into", path_);
    }
    if (n == 0) {
      return absl::DataLossError(
          absl::StrCat("'", in.path(), "' ends before byte ", in_offset + size,
                       " (it shrank while being copied)"));
    }
    in_offset += n;
    offset += n;
    size -= n;
  }
  std::vector<uint8_t> buffer(
      static_cast<size_t>(std::min<int64_t>(size, kCachePieceBytes)));
  while (size > 0) {
    absl::Span<uint8_t> piece = absl::MakeSpan(buffer).first(
        static_cast<size_t>(std::min<int64_t>(size, buffer.size())));
    if (absl::Status read = in.ReadAt(in_offset, piece); !read.ok()) {
      return absl::IsOutOfRange(read) ? absl::DataLossError(read.message())
                                      : read;
    }
    XLAYOUT_RETURN_IF_ERROR(WriteAt(offset, piece.data(), piece.size()));
    in_offset += static_cast<int64_t>(piece.size());
    offset += static_cast<int64_t>(piece.size());
    size -= static_cast<int64_t>(piece.size());
  }
  return absl::OkStatus();
}

absl::Status DirFileWriter::Allocate(int64_t size) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", path_, "': already closed"));
  }
  // Already reserved (e.g. again at the end): nothing to do. tmpfs would
  // walk every page of the range again.
  if (size <= reserved_) return absl::OkStatus();
  while (fallocate(fd_, 0, 0, static_cast<off_t>(size)) != 0) {
    if (errno == EINTR) continue;
    if (errno != EOPNOTSUPP && errno != ENOSYS) {
      return IoError(errno, "reserve space for", path_);
    }
    return ExtendTo(size);  // No fallocate here.
  }
  reserved_ = std::max(reserved_, size);
  return absl::OkStatus();
}

absl::Status DirFileWriter::ExtendTo(int64_t size) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", path_, "': already closed"));
  }
  struct stat st;
  if (fstat(fd_, &st) != 0) return IoError(errno, "stat", path_);
  if (st.st_size < size && ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return IoError(errno, "extend", path_);
  }
  return absl::OkStatus();
}

absl::Status DirFileWriter::Close() {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot close '", path_, "': already closed"));
  }
  const int fd = std::exchange(fd_, -1);
  if (open_count_ != nullptr) --*open_count_;
  const bool synced = fsync(fd) == 0;
  const int err = errno;
  if (close(fd) != 0 && synced) return IoError(errno, "write", path_);
  if (!synced) return IoError(err, "write", path_);
  return absl::OkStatus();
}

absl::StatusOr<AtomicOutputDir> AtomicOutputDir::Create(
    const std::string& path, const AtomicOutputDirOptions& options) {
  AtomicOutputDir d;
  d.path_ = path;
  d.options_ = options;
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  if (trimmed.empty() || trimmed == "/" || trimmed == "." || trimmed == ".." ||
      trimmed == "-") {
    return absl::InvalidArgumentError(absl::StrCat("cannot write directory '",
                                                   path,
                                                   "': give a new or existing "
                                                   "directory name"));
  }
  absl::StatusOr<std::string> target = ResolveSymlinks(trimmed);
  if (!target.ok()) return target.status();
  d.target_ = *target;
  struct stat st;
  if (stat(d.target_.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("refusing to replace '", path, "': it is ",
                       FileTypeName(st.st_mode), ", not a directory"));
    }
    XLAYOUT_RETURN_IF_ERROR(CheckReplaceable(path, d.target_, d.options_));
  } else if (errno != ENOENT) {
    return IoError(errno, "stat", d.target_);
  }
  auto [parent, base] = SplitPath(d.target_);
  d.parent_ = parent;
  RemoveStaleTemps(parent, base);
  std::string temp = absl::StrCat(parent, "/", TempPrefix(base), "XXXXXX");
  if (mkdtemp(temp.data()) == nullptr) {
    return IoError(errno, "create a temporary directory in", parent);
  }
  d.temp_ = temp;
  // mkdtemp makes it 0700; give it the usual mode.
  mode_t mask = umask(0);
  umask(mask);
  chmod(d.temp_.c_str(), 0777 & ~mask);
  d.slots_.push_back(internal::RegisterTemp(d.temp_, /*is_dir=*/true));
  return d;
}

AtomicOutputDir::AtomicOutputDir(AtomicOutputDir&& other) noexcept
    : path_(std::move(other.path_)),
      target_(std::move(other.target_)),
      parent_(std::move(other.parent_)),
      temp_(std::exchange(other.temp_, {})),
      options_(std::move(other.options_)),
      subdirs_(std::move(other.subdirs_)),
      slots_(std::move(other.slots_)),
      open_files_(std::move(other.open_files_)),
      committed_(other.committed_) {
  other.slots_.clear();
}

AtomicOutputDir::~AtomicOutputDir() {
  if (!committed_) Abort();
}

void AtomicOutputDir::Abort() {
  for (int slot : slots_) internal::UnregisterTemp(slot);
  slots_.clear();
  if (!temp_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_, ec);
    temp_.clear();
  }
}

absl::StatusOr<std::string> AtomicOutputDir::Child(
    absl::string_view name) const {
  if (temp_.empty() || committed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot add '", name, "' to '", path_, "': already ",
                     committed_ ? "committed" : "abandoned"));
  }
  bool ok = !name.empty() && name.front() != '/';
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot add '", name, "' to '", path_,
                     "': not a relative name without '.' or '..'"));
  }
  return absl::StrCat(temp_, "/", name);
}

absl::StatusOr<DirFileWriter> AtomicOutputDir::CreateFile(
    absl::string_view name) {
  absl::StatusOr<std::string> child = Child(name);
  if (!child.ok()) return child.status();
  int fd = open(child->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return IoError(errno, "create", absl::StrCat(path_, "/", name));
  slots_.push_back(internal::RegisterTemp(*child, /*is_dir=*/false));
  ++*open_files_;
  return DirFileWriter(fd, absl::StrCat(path_, "/", name), open_files_.get());
}

absl::Status AtomicOutputDir::WriteFile(absl::string_view name,
                                        absl::Span<const uint8_t> bytes) {
  absl::StatusOr<DirFileWriter> file = CreateFile(name);
  if (!file.ok()) return file.status();
  absl::Status s = file->Write(bytes.data(), bytes.size());
  if (!s.ok()) return s;
  return file->Close();
}

absl::Status AtomicOutputDir::MakeDirectory(absl::string_view name) {
  absl::StatusOr<std::string> child = Child(name);
  if (!child.ok()) return child.status();
  if (mkdir(child->c_str(), 0777) != 0) {
    return IoError(errno, "create directory", absl::StrCat(path_, "/", name));
  }
  slots_.push_back(internal::RegisterTemp(*child, /*is_dir=*/true));
  subdirs_.push_back(std::string(name));
  return absl::OkStatus();
}

absl::Status AtomicOutputDir::Commit() {
  if (temp_.empty() || committed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot commit '", path_, "': already ",
                     committed_ ? "committed" : "abandoned"));
  }
  if (*open_files_ > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot commit '", path_, "': ", *open_files_,
                     " of its files are still open"));
  }
  auto fail = [&](absl::Status s) {
    Abort();
    return s;
  };
  for (auto it = subdirs_.rbegin(); it != subdirs_.rend(); ++it) {
    absl::Status s = SyncDirectory(absl::StrCat(temp_, "/", *it));
    if (!s.ok()) return fail(s);
  }
  if (absl::Status s = SyncDirectory(temp_); !s.ok()) return fail(s);
  struct stat st;
  bool exists = false;
  for (int attempt = 0;; ++attempt) {
    exists = stat(target_.c_str(), &st) == 0;
    if (exists && !S_ISDIR(st.st_mode)) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("refusing to replace '", path_, "': it is ",
                       FileTypeName(st.st_mode), ", not a directory")));
    }
    if (exists) {
      if (absl::Status s = CheckReplaceable(path_, target_, options_);
          !s.ok()) {
        return fail(s);
      }
      // The new tree keeps the old one's mode (a private 0700 stays
      // private).
      if (chmod(temp_.c_str(), st.st_mode & 07777) != 0) {
        return fail(IoError(errno, "set the mode of", temp_));
      }
      // Swap new and old in one step; the old tree then sits at temp_.
      if (ExchangePaths(temp_, target_) != 0) {
        return fail(IoError(errno, "replace directory", target_));
      }
      break;
    }
    if (rename(temp_.c_str(), target_.c_str()) == 0) break;
    // Another run committed the same target since the stat: replace its
    // output as if it had been there.
    if ((errno == ENOTEMPTY || errno == EEXIST) && attempt < 2) continue;
    return fail(IoError(errno, "create directory", target_));
  }
  committed_ = true;
  for (int slot : slots_) internal::UnregisterTemp(slot);
  slots_.clear();
  absl::Status synced = SyncDirectory(parent_);
  if (exists) {
    std::error_code ec;
    std::filesystem::remove_all(temp_, ec);
  }
  temp_.clear();
  return synced;
}

}  // namespace xlayout::io
