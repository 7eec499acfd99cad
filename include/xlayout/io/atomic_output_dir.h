// Writing a directory of files (a checkpoint) atomically: everything goes
// into a temporary directory ".NAME.xlayout-tmp-HOST-PID-XXXXXX" next to the
// target; Commit() fsyncs it and renames it into place (exchanging it with an
// existing directory of that name, which is then removed), then fsyncs the
// parent. Abort(), a failed Commit() or destruction without Commit() removes
// the temporary directory and everything in it; so do the signal handlers of
// InstallSignalCleanup() (atomic_output_file.h).
#ifndef XLAYOUT_IO_ATOMIC_OUTPUT_DIR_H_
#define XLAYOUT_IO_ATOMIC_OUTPUT_DIR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace xlayout::io {

class AtomicOutputDir;
class InputFile;

// One file being written inside an AtomicOutputDir. Close() fsyncs it; the
// directory's Commit() fails while any of its files is still open.
class DirFileWriter {
 public:
  DirFileWriter(DirFileWriter&& other) noexcept;
  DirFileWriter& operator=(DirFileWriter&&) = delete;
  DirFileWriter(const DirFileWriter&) = delete;
  DirFileWriter& operator=(const DirFileWriter&) = delete;
  ~DirFileWriter();  // Closes without fsync if Close() was not called.

  absl::Status Write(const void* data, size_t size);
  // Writes at `offset` without moving the file position (pwrite): calls on
  // distinct ranges may run concurrently from several threads.
  absl::Status WriteAt(int64_t offset, const void* data, size_t size);
  // Copies `size` bytes of `in` from `in_offset` to `offset` here, inside
  // the kernel where it can (copy_file_range: no copy through user memory,
  // a reflink where the file system shares extents), else by pread/pwrite.
  // Calls on distinct ranges may run concurrently. A short source is
  // DATA_LOSS naming it.
  absl::Status CopyFrom(const InputFile& in, int64_t in_offset, int64_t offset,
                        int64_t size);
  // Makes the file at least `size` bytes long and reserves the disk space
  // now (fallocate), so a disk too small fails here, before anything is
  // written (RESOURCE_EXHAUSTED naming the path). Where the file system has
  // no fallocate the file is only extended (sparse).
  absl::Status Allocate(int64_t size);
  // Makes the file at least `size` bytes long (a sparse extension).
  absl::Status ExtendTo(int64_t size);
  absl::Status Close();
  const std::string& path() const { return path_; }

 private:
  friend class AtomicOutputDir;
  DirFileWriter(int fd, std::string path, int* open_count)
      : fd_(fd), path_(std::move(path)), open_count_(open_count) {}
  int fd_ = -1;
  std::string path_;
  int* open_count_ = nullptr;
  int64_t reserved_ = 0;  // Bytes [0, reserved_) are allocated on disk.
};

struct AtomicOutputDirOptions {
  // Called with the resolved target when it exists (at Create and again at
  // Commit): an error refuses to replace it, e.g. a directory that is not
  // what the caller writes. Unset: only an empty directory is replaced.
  // Either way a directory the user may not write is refused.
  std::function<absl::Status(const std::string& target)> may_replace;
};

class AtomicOutputDir {
 public:
  // `path` may name an existing directory (replaced on Commit, if
  // options.may_replace allows) or nothing; a symlink is resolved and its
  // target replaced. Anything else is refused (INVALID_ARGUMENT).
  static absl::StatusOr<AtomicOutputDir> Create(
      const std::string& path, const AtomicOutputDirOptions& options = {});

  AtomicOutputDir(AtomicOutputDir&& other) noexcept;
  AtomicOutputDir& operator=(AtomicOutputDir&&) = delete;
  AtomicOutputDir(const AtomicOutputDir&) = delete;
  AtomicOutputDir& operator=(const AtomicOutputDir&) = delete;
  ~AtomicOutputDir();

  // A new file `name` (relative, no ".." and no empty components; its parent
  // must exist: see MakeDirectory), mode 0666 & ~umask.
  absl::StatusOr<DirFileWriter> CreateFile(absl::string_view name);
  // Convenience: CreateFile, Write, Close.
  absl::Status WriteFile(absl::string_view name,
                         absl::Span<const uint8_t> bytes);
  // A subdirectory `name` (same rules as CreateFile).
  absl::Status MakeDirectory(absl::string_view name);

  absl::Status Commit();
  void Abort();

  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_; }

 private:
  AtomicOutputDir() = default;
  absl::StatusOr<std::string> Child(absl::string_view name) const;
  std::string path_, target_, parent_, temp_;
  AtomicOutputDirOptions options_;
  std::vector<std::string> subdirs_;  // Relative, in creation order.
  std::vector<int> slots_;            // Signal-cleanup registry slots.
  std::unique_ptr<int> open_files_ = std::make_unique<int>(0);
  bool committed_ = false;
};

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_ATOMIC_OUTPUT_DIR_H_
