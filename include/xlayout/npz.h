// .npz archives (np.savez / np.savez_compressed): a zip of .npy members,
// stored or deflate-compressed, read through libzip (Debian's libzip), never
// our own inflate. Members stream in chunks, so memory stays bounded by the
// chunk size, and every member has a size limit (zip bombs). libzip checks
// each member's CRC-32 when it has been read to the end.
//
// Not thread-safe: use one NpzReader per thread.
#ifndef XLAYOUT_NPZ_H_
#define XLAYOUT_NPZ_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/npy.h"

namespace xlayout {

struct NpzLimits {
  // Largest uncompressed member accepted (64 GiB by default).
  int64_t max_member_bytes = int64_t{64} << 30;
  int64_t max_members = 1'000'000;
  // Bytes per chunk handed to the sink by ReadData.
  int64_t chunk_bytes = int64_t{1} << 20;
};

struct NpzMember {
  std::string name;      // The array's name: the member name without ".npy".
  std::string zip_name;  // As stored in the archive.
  int64_t size = 0;      // Uncompressed bytes (header + data).
  int64_t compressed_size = 0;
  bool deflated = false;  // Else stored.
  uint64_t zip_index = 0;
};

class NpzReader {
 public:
  // Opens `path` read-only and lists its members. Refuses: a file that is
  // not a zip or is inconsistent, encrypted members, compression other than
  // stored/deflate, members not named *.npy, duplicate names, members over
  // `limits.max_member_bytes`. Errors start with "npz: PATH: ".
  static absl::StatusOr<std::unique_ptr<NpzReader>> Open(
      const std::string& path, const NpzLimits& limits = {});
  ~NpzReader();
  NpzReader(const NpzReader&) = delete;
  NpzReader& operator=(const NpzReader&) = delete;

  const std::string& path() const { return path_; }
  // In archive order (np.savez writes them in argument order).
  const std::vector<NpzMember>& members() const { return members_; }

  // Reads and parses member `i`'s .npy header; the header's data must fill
  // the member exactly.
  absl::StatusOr<NpyHeader> ReadHeader(
      size_t i, const NpyReadOptions& options = {}) const;

  // Streams member `i`'s array data (after the header) to `sink` in chunks
  // of at most limits.chunk_bytes, in order. Fails, naming the member, when
  // the data is shorter or longer than the header says or the CRC does not
  // match; a sink error stops the read and is returned.
  absl::Status ReadData(
      size_t i, const NpyReadOptions& options,
      const std::function<absl::Status(absl::string_view chunk)>& sink) const;

 private:
  NpzReader() = default;
  absl::Status MemberError(size_t i, absl::string_view message) const;

  std::string path_;
  NpzLimits limits_;
  void* zip_ = nullptr;  // zip_t*
  std::vector<NpzMember> members_;
};

}  // namespace xlayout

#endif  // XLAYOUT_NPZ_H_
