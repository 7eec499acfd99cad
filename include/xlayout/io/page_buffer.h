// Anonymous memory for large I/O and kernel working sets: 2 MiB aligned,
// MADV_HUGEPAGE (transparent huge pages where the kernel allows them), and
// pre-faulted on request, so that no kernel loop takes a page fault on it.
#ifndef XLAYOUT_IO_PAGE_BUFFER_H_
#define XLAYOUT_IO_PAGE_BUFFER_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace xlayout::io {

class PageBuffer {
 public:
  PageBuffer() = default;
  // `size` bytes (may be 0), zero-filled. With `prefault`, every page is
  // faulted in now (MADV_POPULATE_WRITE, or touching each page).
  // ResourceExhausted when the memory cannot be mapped.
  static absl::StatusOr<PageBuffer> Allocate(size_t size, bool prefault);

  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  ~PageBuffer();

  // Grows (or shrinks) to `size` bytes, keeping the first min(old, new)
  // bytes; new bytes are zero. May move the buffer.
  absl::Status Resize(size_t size);

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  absl::Span<uint8_t> span() { return {data_, size_}; }
  absl::Span<const uint8_t> span() const { return {data_, size_}; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // Bytes mapped at data_ (a multiple of the page size).
};

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_PAGE_BUFFER_H_
