#include "xlayout/io/page_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xlayout/io/io_status.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace xlayout::io {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// Maps `length` bytes (a multiple of kHugePage) aligned to kHugePage.
void* MapAligned(size_t length) {
  void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = RoundUp(start, kHugePage);
  if (aligned > start) munmap(raw, aligned - start);
  size_t tail = (start + length + kHugePage) - (aligned + length);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + length), tail);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, length, MADV_HUGEPAGE);  // Only a hint; ignore EINVAL.
  return p;
}

void Prefault(uint8_t* p, size_t length) {
  if (length == 0) return;
  if (madvise(p, length, MADV_POPULATE_WRITE) == 0) return;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (size_t i = 0; i < length; i += page) {
    reinterpret_cast<volatile uint8_t*>(p)[i] = 0;
  }
}

}  // namespace

absl::StatusOr<PageBuffer> PageBuffer::Allocate(size_t size, bool prefault) {
  PageBuffer b;
  if (size == 0) return b;
  const size_t length = RoundUp(size, kHugePage);
  void* p = MapAligned(length);
  if (p == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot allocate ", size, " bytes of memory: ", std::strerror(errno)));
  }
  b.data_ = static_cast<uint8_t*>(p);
  b.size_ = size;
  b.mapped_ = length;
  if (prefault) Prefault(b.data_, length);
  return b;
}

PageBuffer::PageBuffer(PageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, mapped_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

PageBuffer::~PageBuffer() {
  if (data_ != nullptr) munmap(data_, mapped_);
}

absl::Status PageBuffer::Resize(size_t size) {
  if (size <= mapped_) {
    if (size < size_) std::memset(data_ + size, 0, size_ - size);
    size_ = size;
    return absl::OkStatus();
  }
  // Grow geometrically so a stream read into it costs O(n) copies.
  size_t length = RoundUp(std::max(size, mapped_ * 2), kHugePage);
  void* p = MapAligned(length);
  if (p == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot allocate ", size, " bytes of memory: ", std::strerror(errno)));
  }
  if (data_ != nullptr) {
    std::memcpy(p, data_, size_);
    munmap(data_, mapped_);
  }
  data_ = static_cast<uint8_t*>(p);
  size_ = size;
  mapped_ = length;
  return absl::OkStatus();
}

}  // namespace xlayout::io
