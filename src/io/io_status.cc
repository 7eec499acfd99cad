#include "xlayout/io/io_status.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace xlayout::io {

absl::StatusCode ErrnoToCode(int err) {
  switch (err) {
    case ENOENT:
      return absl::StatusCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return absl::StatusCode::kResourceExhausted;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case EISDIR:
    case ENOTDIR:
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case ESPIPE:
    case ENXIO:
      return absl::StatusCode::kInvalidArgument;
    case ENOTEMPTY:
    case EBUSY:
    case ETXTBSY:
    case EXDEV:
      return absl::StatusCode::kFailedPrecondition;
    case EIO:
      return absl::StatusCode::kDataLoss;
    case EAGAIN:
    case EINTR:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status IoError(int err, absl::string_view operation,
                     absl::string_view path) {
  return absl::Status(ErrnoToCode(err),
                      absl::StrCat("cannot ", operation, " '", path,
                                   "': ", std::strerror(err)));
}

namespace {
constexpr absl::string_view kInputFileUrl = "xlayout.dev/input_file";
}  // namespace

absl::Status WithInputFile(absl::Status status, absl::string_view path) {
  if (!status.ok()) status.SetPayload(kInputFileUrl, absl::Cord(path));
  return status;
}

std::optional<std::string> InputFileOf(const absl::Status& status) {
  auto path = status.GetPayload(kInputFileUrl);
  if (!path.has_value()) return std::nullopt;
  return std::string(*path);
}

}  // namespace xlayout::io
