// Streaming readers for logs and dumps of any size: blocks of a fixed size,
// or lines, from an InputFile, with memory bounded by the block size (plus
// the longest accepted line).
#ifndef XLAYOUT_IO_BLOCK_READER_H_
#define XLAYOUT_IO_BLOCK_READER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/io/input_file.h"

namespace xlayout::io {

// Reads `file` in blocks of up to `block_bytes`. The returned view stays
// valid until the next call; an empty view means end of input.
class BlockReader {
 public:
  explicit BlockReader(InputFile& file, size_t block_bytes = size_t{1} << 20);
  absl::StatusOr<absl::string_view> Next();
  int64_t bytes_read() const { return total_; }

 private:
  InputFile& file_;
  std::string buf_;
  int64_t total_ = 0;
};

// Reads `file` line by line. Lines are returned without their '\n' (a final
// line without one is returned too); `line_number()` is 1-based. A line
// longer than `max_line_bytes` is RESOURCE_EXHAUSTED naming the file and
// the line.
class LineReader {
 public:
  explicit LineReader(InputFile& file, size_t max_line_bytes = size_t{16} << 20,
                      size_t block_bytes = size_t{1} << 20);
  // Sets *line and returns true, or returns false at end of input. The view
  // stays valid until the next call.
  absl::StatusOr<bool> Next(absl::string_view* line);
  int64_t line_number() const { return line_number_; }

 private:
  InputFile& file_;
  size_t max_line_bytes_;
  size_t block_bytes_;
  std::string buf_;
  size_t start_ = 0;  // First unconsumed byte of buf_.
  bool eof_ = false;
  int64_t line_number_ = 0;
};

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_BLOCK_READER_H_
