#include "xlayout/io/block_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace xlayout::io {

BlockReader::BlockReader(InputFile& file, size_t block_bytes) : file_(file) {
  buf_.resize(std::max<size_t>(block_bytes, 1));
}

absl::StatusOr<absl::string_view> BlockReader::Next() {
  absl::StatusOr<size_t> n = file_.Read(buf_.data(), buf_.size());
  if (!n.ok()) return n.status();
  total_ += static_cast<int64_t>(*n);
  return absl::string_view(buf_.data(), *n);
}

LineReader::LineReader(InputFile& file, size_t max_line_bytes,
                       size_t block_bytes)
    : file_(file),
      max_line_bytes_(std::max<size_t>(max_line_bytes, 1)),
      block_bytes_(std::max<size_t>(block_bytes, 1)) {}

absl::StatusOr<bool> LineReader::Next(absl::string_view* line) {
  size_t scan_from = start_;
  while (true) {
    const char* begin = buf_.data() + start_;
    const void* nl =
        std::memchr(buf_.data() + scan_from, '\n', buf_.size() - scan_from);
    if (nl != nullptr) {
      const size_t end = static_cast<const char*>(nl) - buf_.data();
      ++line_number_;
      if (end - start_ > max_line_bytes_) {
        return absl::ResourceExhaustedError(
            absl::StrCat(file_.path(), ":", line_number_, ": line longer than ",
                         max_line_bytes_, " bytes"));
      }
      *line = absl::string_view(begin, end - start_);
      start_ = end + 1;
      return true;
    }
    if (eof_) {
      if (start_ == buf_.size()) return false;
      ++line_number_;
      *line = absl::string_view(begin, buf_.size() - start_);
      start_ = buf_.size();
      return true;
    }
    if (buf_.size() - start_ > max_line_bytes_) {
      return absl::ResourceExhaustedError(
          absl::StrCat(file_.path(), ":", line_number_ + 1,
                       ": line longer than ", max_line_bytes_, " bytes"));
    }
    // Drop consumed bytes, then read another block after the rest.
    buf_.erase(0, start_);
    start_ = 0;
    scan_from = buf_.size();
    const size_t old = buf_.size();
    buf_.resize(old + block_bytes_);
    absl::StatusOr<size_t> n = file_.Read(buf_.data() + old, block_bytes_);
    if (!n.ok()) return n.status();
    buf_.resize(old + *n);
    if (*n == 0) eof_ = true;
  }
}

}  // namespace xlayout::io
