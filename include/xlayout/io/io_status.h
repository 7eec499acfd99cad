// One mapping from errno to canonical status codes for every file operation
// in xlayout, with one message shape: "cannot OPERATION 'PATH': strerror".
#ifndef XLAYOUT_IO_IO_STATUS_H_
#define XLAYOUT_IO_IO_STATUS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace xlayout::io {

// ENOENT NotFound; EACCES, EPERM, EROFS PermissionDenied; ENOSPC, EDQUOT,
// EFBIG, ENOMEM, EMFILE, ENFILE ResourceExhausted; EEXIST AlreadyExists;
// EISDIR, ENOTDIR, EINVAL, ENAMETOOLONG, ELOOP, ESPIPE InvalidArgument;
// ENOTEMPTY, EBUSY, ETXTBSY, EXDEV FailedPrecondition; EIO DataLoss;
// EAGAIN, EINTR Unavailable; anything else Internal.
absl::StatusCode ErrnoToCode(int err);

// `operation` is a verb phrase ("open", "write", "rename temporary file
// over"); the message is "cannot OPERATION 'PATH': STRERROR(err)".
absl::Status IoError(int err, absl::string_view operation,
                     absl::string_view path);

// Marks `status` (not OK) as being about the input file `path`, for callers
// that report errors per input (the JSON `input` of an error); the message
// is unchanged. An OK status is returned as it is.
absl::Status WithInputFile(absl::Status status, absl::string_view path);

// The path WithInputFile attached, if any.
std::optional<std::string> InputFileOf(const absl::Status& status);

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_IO_STATUS_H_
