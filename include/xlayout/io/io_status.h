// One mapping from errno to canonical status codes for every file operation
// in xlayout, with one message shape: "cannot OPERATION 'PATH': strerror".
#ifndef XLAYOUT_IO_IO_STATUS_H_
#define XLAYOUT_IO_IO_STATUS_H_

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

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_IO_STATUS_H_
