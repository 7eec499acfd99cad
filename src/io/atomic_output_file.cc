#include "xlayout/io/atomic_output_file.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "io/temp_registry.h"
#include "xlayout/io/input_file.h"
#include "xlayout/io/io_status.h"
#include "xlayout/status_macros.h"

namespace xlayout::io {
namespace internal {
namespace {

constexpr int kSlots = 256;
struct Slot {
  // 0 free, 1 being filled, 2 a file, 3 a directory.
  std::atomic<int> state{0};
  char path[PATH_MAX] = {};
};
// Zero in .bss, not set by a static constructor: one would touch its 1 MiB
// (256 page faults, 3 ms of every run on this project's VM).
constinit Slot g_slots[kSlots];

void CleanupAndDie(int signo) {
  if (signo == SIGBUS) {
    static constexpr char kMessage[] =
        "error: an input file mapped for reading was cut short "
        "(truncated by another process?) while it was read (SIGBUS); "
        "temporary output removed, nothing written\n";
    ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    (void)ignored;
  }
  // Files first (they may sit in registered directories), then directories
  // in reverse order of creation (children before parents).
  for (int i = 0; i < kSlots; ++i) {
    if (g_slots[i].state.load(std::memory_order_acquire) == 2) {
      unlink(g_slots[i].path);
    }
  }
  for (int i = kSlots - 1; i >= 0; --i) {
    if (g_slots[i].state.load(std::memory_order_acquire) == 3) {
      rmdir(g_slots[i].path);
    }
  }
  signal(signo, SIG_DFL);
  raise(signo);
}

}  // namespace

int RegisterTemp(const std::string& path, bool is_dir) {
  if (path.size() >= PATH_MAX) return -1;
  // Directories scan downwards from the top so that, in the handler's
  // reverse walk, later (inner) directories come first: give directories
  // increasing slots from 0 and files from the top.
  for (int k = 0; k < kSlots; ++k) {
    const int i = is_dir ? k : kSlots - 1 - k;
    int expected = 0;
    if (g_slots[i].state.compare_exchange_strong(expected, 1,
                                                 std::memory_order_acq_rel)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].state.store(is_dir ? 3 : 2, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

void UnregisterTemp(int slot) {
  if (slot >= 0 && slot < kSlots) {
    g_slots[slot].state.store(0, std::memory_order_release);
  }
}

}  // namespace internal

void InstallSignalCleanup() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  struct sigaction action {};
  action.sa_handler = internal::CleanupAndDie;
  sigemptyset(&action.sa_mask);
  for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGBUS}) {
    sigaddset(&action.sa_mask, signo);
  }
  action.sa_flags = SA_RESETHAND;
  for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGBUS}) {
    struct sigaction old {};
    // Keep an inherited "ignore" (e.g. nohup).
    if (sigaction(signo, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) {
      continue;
    }
    sigaction(signo, &action, nullptr);
  }
}

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

namespace {

// This host's name as it appears in temporary names: letters, digits, '.'
// and '_' kept, anything else (including '-', the field separator) '_'.
const std::string& HostTag() {
  static const std::string* const tag = [] {
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
      std::strcpy(name, "localhost");
    }
    auto* t = new std::string(name);
    for (char& c : *t) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
          c != '_') {
        c = '_';
      }
    }
    return t;
  }();
  return *tag;
}

}  // namespace

std::string TempPrefix(const std::string& base) {
  return absl::StrCat(".", base, ".xlayout-tmp-", HostTag(), "-", getpid(),
                      "-");
}

int RemoveStaleTemps(const std::string& dir, const std::string& base) {
  const std::string ours =
      absl::StrCat(".", base, ".xlayout-tmp-", HostTag(), "-");
  std::error_code ec;
  int removed = 0;
  std::vector<std::filesystem::path> stale;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.compare(0, ours.size(), ours) != 0) continue;
    // PID-SUFFIX after the prefix.
    const std::string rest = name.substr(ours.size());
    const size_t dash = rest.find('-');
    int pid = 0;
    if (dash == std::string::npos ||
        !absl::SimpleAtoi(absl::string_view(rest).substr(0, dash), &pid) ||
        pid <= 0 || pid == getpid()) {
      continue;
    }
    // A process that still runs (or that we may not signal) keeps its files.
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;
    struct stat st;
    if (lstat(e.path().c_str(), &st) != 0 || st.st_uid != geteuid() ||
        !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
      continue;
    }
    stale.push_back(e.path());
  }
  for (const auto& path : stale) {
    std::filesystem::remove_all(path, ec);
    if (!ec) ++removed;
  }
  return removed;
}

absl::Status CheckReplaceableFile(const std::string& path,
                                  const std::string& target,
                                  absl::string_view hint) {
  struct stat st;
  if (stat(target.c_str(), &st) != 0 || S_ISREG(st.st_mode)) {
    return absl::OkStatus();  // Absent (or unreadable: the writer says why).
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "refusing to replace '", path, "'",
      target == path ? "" : absl::StrCat(" (-> '", target, "')"), ": it is ",
      FileTypeName(st.st_mode), ", not a regular file", hint));
}

absl::StatusOr<std::string> ResolveSymlinks(const std::string& path) {
  std::string current = path;
  for (int hop = 0; hop < 40; ++hop) {
    struct stat st;
    if (lstat(current.c_str(), &st) != 0) {
      if (errno == ENOENT) return current;  // A new file at the end.
      return IoError(errno, "stat", current);
    }
    if (!S_ISLNK(st.st_mode)) return current;
    char buf[PATH_MAX];
    ssize_t n = readlink(current.c_str(), buf, sizeof(buf) - 1);
    if (n < 0) return IoError(errno, "read symlink", current);
    std::string link(buf, static_cast<size_t>(n));
    if (link.empty() || link[0] != '/') {
      link = absl::StrCat(SplitPath(current).first, "/", link);
    }
    current = std::move(link);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot resolve '", path, "': too many levels of symlinks"));
}

absl::StatusOr<AtomicOutputFile> AtomicOutputFile::Create(
    const std::string& path, const OutputOptions& options) {
  AtomicOutputFile f;
  f.path_ = path;
  if (path == "-" && options.allow_stdout) {
    f.in_place_ = true;
    f.fd_ = STDOUT_FILENO;
    f.target_ = "<stdout>";
    return f;
  }
  if (path.empty() || path.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write '", path, "': not a file name"));
  }
  absl::StatusOr<std::string> target = ResolveSymlinks(path);
  if (!target.ok()) return target.status();
  f.target_ = *target;
  XLAYOUT_RETURN_IF_ERROR(CheckReplaceableFile(
      path, f.target_,
      options.allow_stdout ? " (use '-' to write to standard output)" : ""));
  struct stat st;
  if (stat(f.target_.c_str(), &st) == 0) {
    f.mode_ = st.st_mode & 07777;
    if (geteuid() == 0) {
      f.chown_ = true;
      f.uid_ = st.st_uid;
      f.gid_ = st.st_gid;
    }
  } else if (errno == ENOENT) {
    mode_t mask = umask(0);
    umask(mask);
    f.mode_ = 0666 & ~mask;
  } else {
    return IoError(errno, "stat", f.target_);
  }
  auto [dir, base] = SplitPath(f.target_);
  f.dir_ = dir;
  RemoveStaleTemps(dir, base);
  std::string temp = absl::StrCat(dir, "/", TempPrefix(base), "XXXXXX");
  f.fd_ = mkostemp(temp.data(), O_CLOEXEC);
  if (f.fd_ < 0) {
    return IoError(
        errno, absl::StrCat("create a temporary file for '", f.target_, "' in"),
        dir);
  }
  f.temp_ = temp;
  f.slot_ = internal::RegisterTemp(f.temp_, /*is_dir=*/false);
  if (options.expected_bytes >= 0) {
    struct statvfs fs;
    if (fstatvfs(f.fd_, &fs) == 0) {
      const __int128 free_bytes =
          static_cast<__int128>(fs.f_bavail) * fs.f_frsize;
      if (options.expected_bytes > free_bytes) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "cannot write '", path, "': ", std::strerror(ENOSPC), " (it needs ",
            options.expected_bytes, " bytes, ",
            static_cast<int64_t>(free_bytes), " are free in '", dir, "')"));
      }
    }
  }
  return f;
}

AtomicOutputFile::AtomicOutputFile(AtomicOutputFile&& other) noexcept
    : path_(std::move(other.path_)),
      target_(std::move(other.target_)),
      dir_(std::move(other.dir_)),
      temp_(std::exchange(other.temp_, {})),
      fd_(std::exchange(other.fd_, -1)),
      slot_(std::exchange(other.slot_, -1)),
      in_place_(std::exchange(other.in_place_, false)),
      committed_(other.committed_),
      failed_(other.failed_),
      chown_(other.chown_),
      uid_(other.uid_),
      gid_(other.gid_),
      mode_(other.mode_),
      written_(other.written_) {}

AtomicOutputFile::~AtomicOutputFile() {
  if (!committed_) Abort();
}

void AtomicOutputFile::Abort() {
  if (in_place_) return;
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (!temp_.empty()) {
    unlink(temp_.c_str());
    temp_.clear();
  }
  internal::UnregisterTemp(slot_);
  slot_ = -1;
  failed_ = true;
}

absl::Status AtomicOutputFile::Write(const void* data, size_t size) {
  if (failed_ || committed_ || fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", path_, "': the output was already ",
                     committed_ ? "committed" : "abandoned after an error"));
  }
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd_, p, std::min<size_t>(size, size_t{1} << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      absl::Status s = IoError(err, "write", path_);
      Abort();
      return s;
    }
    p += n;
    size -= static_cast<size_t>(n);
    written_ += n;
  }
  return absl::OkStatus();
}

absl::Status AtomicOutputFile::Commit() {
  if (failed_ || committed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot commit '", path_, "': the output was already ",
                     committed_ ? "committed" : "abandoned after an error"));
  }
  if (in_place_) {
    committed_ = true;
    return absl::OkStatus();
  }
  auto fail = [&](int err, absl::string_view what, const std::string& where) {
    absl::Status s = IoError(err, what, where);
    Abort();
    return s;
  };
  if (fsync(fd_) != 0) return fail(errno, "write", path_);
  if (chown_ && fchown(fd_, uid_, gid_) != 0) {
    return fail(errno, "set the owner of", path_);
  }
  if (fchmod(fd_, mode_) != 0) return fail(errno, "set the mode of", path_);
  const int fd = std::exchange(fd_, -1);
  if (close(fd) != 0) return fail(errno, "write", path_);
  if (rename(temp_.c_str(), target_.c_str()) != 0) {
    return fail(errno, "replace", target_);
  }
  committed_ = true;
  internal::UnregisterTemp(slot_);
  slot_ = -1;
  temp_.clear();
  // Make the rename itself durable.
  int dir = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return IoError(errno, "open directory", dir_);
  const bool synced = fsync(dir) == 0;
  const int err = errno;
  close(dir);
  if (!synced && err != EINVAL) return IoError(err, "sync directory", dir_);
  return absl::OkStatus();
}

}  // namespace xlayout::io
