// Device buffers as the runtime guard sees them: an on-device shape (shape,
// layout, memory kind) and the bytes, which may be owned, borrowed from the
// caller, or a read-only memory-mapped region of a file.
#ifndef XLAYOUT_BUFFER_H_
#define XLAYOUT_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "xlayout/io/mapped_region.h"
#include "xlayout/layout_util.h"
#include "xlayout/memory_kind.h"
#include "xlayout/shape.h"

namespace xlayout {

enum class BufferStorage {
  kNone,      // Metadata only (validation needs no bytes).
  kOwned,     // The buffer owns a heap copy.
  kBorrowed,  // Caller's memory; must outlive the buffer.
  kMapped,    // mmap(PROT_READ) of a file region; unmapped on destruction.
};
absl::string_view BufferStorageName(BufferStorage storage);

class Buffer {
 public:
  // Every factory takes an array shape (no tuples, tokens or unbounded `?`
  // dims; a missing layout becomes the default one) and a memory kind; an
  // empty kind means MemoryKindMap().KindOf(S(n) of the layout). Byte spans
  // must hold exactly on_device_size_in_bytes() (XLA's ArraySize) bytes.
  static absl::StatusOr<Buffer> Describe(Shape on_device_shape,
                                         absl::string_view memory_kind = "");
  static absl::StatusOr<Buffer> Allocate(Shape on_device_shape,
                                         absl::string_view memory_kind = "");
  static absl::StatusOr<Buffer> Own(Shape on_device_shape,
                                    std::vector<uint8_t> bytes,
                                    absl::string_view memory_kind = "");
  static absl::StatusOr<Buffer> Borrow(Shape on_device_shape,
                                       absl::Span<const uint8_t> bytes,
                                       absl::string_view memory_kind = "");
  // Maps [offset, offset + size) of `path`. Errors say which file, why
  // (missing, not a regular file, too short) and the sizes involved.
  static absl::StatusOr<Buffer> MapFile(Shape on_device_shape,
                                        const std::string& path,
                                        int64_t offset = 0,
                                        absl::string_view memory_kind = "");

  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  // Hot fields: Executable::Validate's fast path reads only these, and they
  // sit in the first cache line of a small object (the rest is out of line).
  int64_t on_device_size_in_bytes() const { return xla_bytes_; }
  uint64_t memory_kind_key() const { return kind_key_; }
  // 64-bit XXH3 of the shape and layout printed without S(n). Strict mode
  // treats equal keys as equal layouts (a collision is ~2^-64).
  uint64_t layout_key() const { return layout_key_; }
  bool is_dynamic() const { return is_dynamic_; }

  // Not to be called on a moved-from buffer.
  const Shape& on_device_shape() const { return cold_->shape; }
  const std::string& memory_kind() const { return cold_->memory_kind; }
  int64_t exact_bytes() const { return cold_->exact_bytes; }
  BufferStorage storage() const { return storage_; }
  // Empty for kNone.
  absl::Span<const uint8_t> data() const {
    return absl::Span<const uint8_t>(data_, size_);
  }

 private:
  // Everything Validate's fast path does not need. Heap-allocated once, so
  // owned bytes and mappings keep their address when the Buffer moves.
  struct Cold {
    Cold() = default;
    Cold(const Cold&) = delete;
    Cold& operator=(const Cold&) = delete;
    ~Cold();
    int64_t exact_bytes = 0;
    std::string memory_kind;
    Shape shape;
    std::vector<uint8_t> owned;
    io::MappedRegion mapping;  // kMapped: the file region, unmapped with it.
  };

  Buffer() = default;
  static absl::StatusOr<Buffer> Make(Shape shape, absl::string_view kind);
  absl::Status CheckDataSize(size_t size, absl::string_view what) const;

  int64_t xla_bytes_ = 0;
  uint64_t kind_key_ = 0;
  uint64_t layout_key_ = 0;
  bool is_dynamic_ = false;
  BufferStorage storage_ = BufferStorage::kNone;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::unique_ptr<Cold> cold_;
};

// Keys shared by buffers and executables (so both sides hash the same way).
// LayoutKey and SamePhysicalLayout are in xlayout/layout_util.h.
uint64_t MemoryKindKey(absl::string_view kind);

}  // namespace xlayout

#endif  // XLAYOUT_BUFFER_H_
