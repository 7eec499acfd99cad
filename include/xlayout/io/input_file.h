// Opening and reading input files safely.
//
// Open() never blocks and never reads from what it did not mean to: the path
// is opened O_RDONLY | O_NONBLOCK | O_CLOEXEC and fstat'd before any read.
// Regular files are accepted. Directories and devices are refused, and so
// are FIFOs and sockets unless the caller allows streams. "-" is stdin when
// the caller allows it. Every error names the path (INVALID_ARGUMENT for a
// refused file type; errno codes as in io_status.h).
//
// OpenBeneath() opens a file below a directory without following any
// symbolic link, component by component (for trees whose links could lead
// out of them, e.g. checkpoint directories).
#ifndef XLAYOUT_IO_INPUT_FILE_H_
#define XLAYOUT_IO_INPUT_FILE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "xlayout/io/mapped_region.h"
#include "xlayout/io/page_buffer.h"

namespace xlayout::io {

struct InputOptions {
  // "-" reads standard input (whatever it is: file, pipe, terminal).
  bool allow_stdin = false;
  // FIFOs and sockets (e.g. bash's <(command), /dev/fd/N) are read as
  // streams. Character and block devices and directories are always refused.
  bool allow_streams = false;
};

struct MapOptions {
  // MAP_POPULATE: fault the whole range in now (read-ahead included), so
  // kernels walking it in any order take no page faults.
  bool populate = true;
};

struct BeneathOptions {
  // Says why a symbolic link is refused, after "'PATH': 'COMPONENT' is a
  // symbolic link; ".
  std::string symlink_reason =
      "links below the directory are not followed (one could lead out of it)";
};

// A directory held open, so that files opened beneath it all come from the
// same directory even if its path is renamed or replaced meanwhile.
class InputDirectory {
 public:
  // Opens `path` (which may itself be or go through a symlink). Errors are
  // "cannot open directory 'PATH': ...".
  static absl::StatusOr<InputDirectory> Open(const std::string& path);

  InputDirectory(InputDirectory&& other) noexcept;
  InputDirectory& operator=(InputDirectory&& other) noexcept;
  InputDirectory(const InputDirectory&) = delete;
  InputDirectory& operator=(const InputDirectory&) = delete;
  ~InputDirectory();

  const std::string& path() const { return path_; }

 private:
  friend class InputFile;
  InputDirectory() = default;
  int fd_ = -1;
  std::string path_;
};

// Bytes of a file for reading in any order: a piece of a read buffer, or a
// mapping (which this holds). See InputFile::ReadForRandomAccess.
struct RandomAccessBytes {
  absl::Span<const uint8_t> bytes;
  MappedRegion mapping;  // Empty when the bytes were read.
};

// Reads whose bytes are also hashed or copied on go in pieces of this size,
// half a core's L2 on this project's VM, so each piece is still in cache
// when it is used (4 MiB pieces measured 20% slower, 128 KiB the same).
inline constexpr size_t kCachePieceBytes = size_t{512} << 10;

// Above this many bytes, ReadForRandomAccess maps rather than reads.
inline constexpr int64_t kMaxReadForRandomAccess = int64_t{1} << 30;

class InputFile {
 public:
  static absl::StatusOr<InputFile> Open(const std::string& path,
                                        const InputOptions& options = {});

  // Opens the regular file `relative` ('/'-separated names; an empty, "."
  // or ".." component or a leading '/' is INVALID_ARGUMENT -- callers
  // validate names with their own messages first) below `root`, one
  // component at a time, following no symbolic link: a link anywhere is
  // INVALID_ARGUMENT "'ROOT/RELATIVE': 'COMPONENT' is a symbolic link;
  // REASON", anything but a regular file at the end INVALID_ARGUMENT
  // "'ROOT/RELATIVE' is not a regular file"; errno errors name ROOT/RELATIVE,
  // which is also the file's path().
  static absl::StatusOr<InputFile> OpenBeneath(
      const InputDirectory& root, absl::string_view relative,
      const BeneathOptions& options = {});
  // The same, opening `root` first.
  static absl::StatusOr<InputFile> OpenBeneath(
      const std::string& root, absl::string_view relative,
      const BeneathOptions& options = {});

  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&& other) noexcept;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();  // Closes the file (never stdin).

  // The path as given; "<stdin>" for "-".
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  // True for regular files (stdin too, when it is redirected from one).
  bool is_regular() const { return regular_; }
  // Size in bytes of a regular file at Open time; -1 for streams.
  int64_t size() const { return size_; }

  // Sequential read of up to `capacity` bytes at the current position;
  // 0 at end of input. Retries EINTR; waits on EAGAIN.
  absl::StatusOr<size_t> Read(void* dst, size_t capacity);
  // Reads exactly dst.size() bytes at `offset` (pread, in large blocks).
  // OUT_OF_RANGE if the file ends first (e.g. it shrank since Open).
  absl::Status ReadAt(int64_t offset, absl::Span<uint8_t> dst) const;
  // The same, kCachePieceBytes at a time, passing each piece to `on_piece`
  // right after it is read, while it is in cache (to hash it).
  absl::Status ReadAt(
      int64_t offset, absl::Span<uint8_t> dst,
      absl::FunctionRef<void(absl::Span<const uint8_t>)> on_piece) const;
  // The rest of the input in one huge-page-friendly buffer: regular files
  // with large preads, streams by reading to EOF. RESOURCE_EXHAUSTED when it
  // holds more than `max_bytes`.
  absl::StatusOr<PageBuffer> ReadAll(int64_t max_bytes = INT64_MAX);
  // A read-only mapping of [offset, offset + length) of a regular file
  // (FAILED_PRECONDITION for streams, OUT_OF_RANGE past the end). Length 0
  // gives an empty region.
  absl::StatusOr<MappedRegion> Map(int64_t offset, int64_t length,
                                   const MapOptions& options = {}) const;
  // [offset, offset + length) of a regular file, for reading in any order
  // (say, by a relayout). Read into `*buffer`, grown to fit (huge pages),
  // when `length` is at most `max_read`; else mapped, pre-faulted, which
  // costs no memory but reads slower: on this project's VM the XXH3 of a
  // 4 KiB-page mapping ran at 4 GB/s, of huge-page memory at 30 GB/s.
  // `on_piece` sees the bytes in order, kCachePieceBytes at a time, each
  // right after it is read while it is in cache (to hash them).
  absl::StatusOr<RandomAccessBytes> ReadForRandomAccess(
      int64_t offset, int64_t length, PageBuffer* buffer,
      absl::FunctionRef<void(absl::Span<const uint8_t>)> on_piece,
      int64_t max_read = kMaxReadForRandomAccess) const;

 private:
  InputFile() = default;
  int fd_ = -1;
  bool owned_ = false;
  bool regular_ = false;
  bool fifo_ = false;  // A named FIFO, read non-blocking (see Read()).
  int64_t size_ = -1;
  std::string path_;
};

// What kind of file `mode` (st_mode) is, for messages: "a directory",
// "a FIFO", "a character device", ...
const char* FileTypeName(unsigned mode);

// How an input that cannot be read a second time is named in messages:
// "standard input" for "-", "standard input (/dev/stdin)", "a pipe
// (/dev/fd/63)", "a socket (PATH)", "a character device (PATH)", "a file
// descriptor of this process (/proc/self/fd/3)". nullopt for a path that
// can be opened again for the same bytes (or cannot be stat'ed at all).
std::optional<std::string> DescribeOneShotInput(const std::string& path);

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_INPUT_FILE_H_
