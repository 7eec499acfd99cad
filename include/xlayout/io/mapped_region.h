// A read-only memory mapping of a file range, unmapped on destruction.
// Created by InputFile::Map.
#ifndef XLAYOUT_IO_MAPPED_REGION_H_
#define XLAYOUT_IO_MAPPED_REGION_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace xlayout::io {

class MappedRegion {
 public:
  MappedRegion() = default;
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  ~MappedRegion();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  absl::Span<const uint8_t> span() const { return {data_, size_}; }

 private:
  friend class InputFile;
  MappedRegion(void* base, size_t length, const uint8_t* data, size_t size)
      : base_(base), length_(length), data_(data), size_(size) {}
  void* base_ = nullptr;  // Page-aligned mmap start, for munmap.
  size_t length_ = 0;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_MAPPED_REGION_H_
