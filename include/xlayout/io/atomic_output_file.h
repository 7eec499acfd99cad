// Writing an output file so that readers see either the old file or the
// complete new one, never a partial one, and a failure leaves nothing behind.
//
// Create() decides what the path names, before writing anything:
//  - a regular file: replaced atomically; the new file keeps its mode (and
//    its owner and group when running as root);
//  - a symlink: resolved (every hop), and its target is replaced the same
//    way; the link itself is kept;
//  - nothing: a new file with mode 0666 & ~umask;
//  - "-" (when allowed): standard output, written in place;
//  - anything else (directory, device, FIFO, socket): refused with
//    INVALID_ARGUMENT, nothing touched.
// Bytes go to a temporary file ".NAME.xlayout-tmp-HOST-PID-XXXXXX" in the
// target's directory with large write(2)s (never a writable mapping: a full
// disk is a write error, RESOURCE_EXHAUSTED "No space left on device", not a
// SIGBUS). Commit() fsyncs, sets the mode, renames over the target and fsyncs
// the directory. On any write error, Abort(), or destruction without Commit(),
// the temporary file is removed. InstallSignalCleanup() also removes it on
// SIGINT, SIGTERM, SIGHUP, SIGPIPE and SIGBUS.
#ifndef XLAYOUT_IO_ATOMIC_OUTPUT_FILE_H_
#define XLAYOUT_IO_ATOMIC_OUTPUT_FILE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace xlayout::io {

struct OutputOptions {
  // "-" writes standard output in place (no temporary file, no rename).
  bool allow_stdout = false;
  // If >= 0, the size the output will have: refused up front with
  // RESOURCE_EXHAUSTED when the file system has less free space. Only an
  // early hint; write errors are what is relied on.
  int64_t expected_bytes = -1;
};

class AtomicOutputFile {
 public:
  static absl::StatusOr<AtomicOutputFile> Create(
      const std::string& path, const OutputOptions& options = {});

  AtomicOutputFile(AtomicOutputFile&& other) noexcept;
  AtomicOutputFile& operator=(AtomicOutputFile&& other) = delete;
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;
  ~AtomicOutputFile();  // Abort() unless committed.

  // Appends `size` bytes (one or more write(2) calls). On failure the
  // temporary file is removed and every later call fails.
  absl::Status Write(const void* data, size_t size);
  // Makes the output durable and visible under its name. Call once.
  absl::Status Commit();
  // Removes the temporary file now (idempotent).
  void Abort();

  const std::string& path() const { return path_; }  // As given.
  const std::string& target() const {
    return target_;
  }  // What Commit replaces.
  const std::string& temp_path() const { return temp_; }  // Empty in place.
  bool in_place() const { return in_place_; }
  mode_t mode() const { return mode_; }  // Mode the result gets.
  int64_t bytes_written() const { return written_; }

 private:
  AtomicOutputFile() = default;
  std::string path_, target_, dir_, temp_;
  int fd_ = -1;
  int slot_ = -1;  // Signal-cleanup registry slot.
  bool in_place_ = false;
  bool committed_ = false;
  bool failed_ = false;
  bool chown_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  mode_t mode_ = 0;
  int64_t written_ = 0;
};

// Installs handlers for SIGINT, SIGTERM, SIGHUP, SIGPIPE and SIGBUS that
// remove every live temporary file and directory of this process
// (AtomicOutputFile, AtomicOutputDir), then die of the same signal. SIGBUS
// comes from a mapped input cut short by another process while it is read;
// its handler says so on stderr first. Async-signal-safe: the handler only
// calls unlink, rmdir, write, signal and raise. Idempotent.
void InstallSignalCleanup();

// The directory part and the last component of `path` ("." for a bare name).
std::pair<std::string, std::string> SplitPath(const std::string& path);

// The name prefix of this process's temporaries for an output named
// `base`: ".BASE.xlayout-tmp-HOST-PID-" (a random suffix follows), so that
// a later run can tell a killed run's leftovers from a live run's files.
std::string TempPrefix(const std::string& base);

// Removes what runs on this host that were killed (SIGKILL, a crash) left
// for `base` in `dir`: temporaries named by TempPrefix whose process no
// longer runs and that belong to this user. Best effort; returns how many
// were removed. Every output's Create calls it.
int RemoveStaleTemps(const std::string& dir, const std::string& base);

// OK when `target` (what `path` resolves to) does not exist or is a
// regular file; else the INVALID_ARGUMENT every file output gives:
// "refusing to replace 'PATH' (-> 'TARGET'): it is a FIFO, not a regular
// file", then `hint` if not empty.
absl::Status CheckReplaceableFile(const std::string& path,
                                  const std::string& target,
                                  absl::string_view hint = "");

// Follows `path` through every symlink (at most 40 hops) to what it finally
// names, which need not exist. INVALID_ARGUMENT on a loop.
absl::StatusOr<std::string> ResolveSymlinks(const std::string& path);

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_ATOMIC_OUTPUT_FILE_H_
