#include "xlayout/io/io_status.h"

#include <cerrno>

#include "gtest/gtest.h"

namespace xlayout::io {
namespace {

TEST(ErrnoToCodeTest, CanonicalCodes) {
  EXPECT_EQ(ErrnoToCode(ENOENT), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToCode(EACCES), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToCode(EPERM), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToCode(ENOSPC), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToCode(EDQUOT), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToCode(EEXIST), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrnoToCode(EISDIR), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrnoToCode(ENOTDIR), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrnoToCode(ENOTEMPTY), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrnoToCode(EIO), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrnoToCode(EOWNERDEAD), absl::StatusCode::kInternal);
}

TEST(IoErrorTest, NamesOperationPathAndReason) {
  absl::Status s = IoError(ENOSPC, "write", "/data/out.bin");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "cannot write '/data/out.bin': No space left on device");
}

TEST(WithInputFileTest, AttachesThePathAndKeepsTheMessage) {
  absl::Status s = WithInputFile(absl::InvalidArgumentError("bad"), "a.npz");
  EXPECT_EQ(s.message(), "bad");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InputFileOf(s), "a.npz");
  EXPECT_EQ(InputFileOf(absl::InvalidArgumentError("bad")), std::nullopt);
  EXPECT_TRUE(WithInputFile(absl::OkStatus(), "a.npz").ok());
}

}  // namespace
}  // namespace xlayout::io
