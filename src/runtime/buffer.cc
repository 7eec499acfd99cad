#include "xlayout/buffer.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xlayout/io/input_file.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/validate.h"
#include "xxhash.h"

namespace xlayout {

absl::string_view BufferStorageName(BufferStorage storage) {
  switch (storage) {
    case BufferStorage::kNone:
      return "none";
    case BufferStorage::kOwned:
      return "owned";
    case BufferStorage::kBorrowed:
      return "borrowed";
    case BufferStorage::kMapped:
      return "mapped";
  }
  return "unknown";
}

uint64_t MemoryKindKey(absl::string_view kind) {
  return XXH3_64bits(kind.data(), kind.size());
}

// LayoutKey and SamePhysicalLayout are in core (xlayout/layout_util.h).

absl::StatusOr<Buffer> Buffer::Make(Shape shape, absl::string_view kind) {
  if (!shape.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a buffer's on-device shape must be an array, got ",
                     shape.ToString(true)));
  }
  if (shape.is_unbounded_dynamic()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a buffer cannot have an unbounded dynamic dimension ('?'): ",
        shape.ToString(true)));
  }
  if (!shape.has_layout()) shape.set_layout(DefaultLayout(shape.rank()));
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid buffer shape ", shape.ToString(true), ": ", valid.message()));
  }
  Buffer buffer;
  buffer.cold_ = std::make_unique<Cold>();
  XLAYOUT_ASSIGN_OR_RETURN(buffer.xla_bytes_, XlaBytes(shape));
  XLAYOUT_ASSIGN_OR_RETURN(buffer.cold_->exact_bytes, ExactBytes(shape));
  buffer.cold_->memory_kind =
      kind.empty() ? MemoryKindOf(shape, MemoryKindMap()) : std::string(kind);
  buffer.kind_key_ = MemoryKindKey(buffer.cold_->memory_kind);
  buffer.layout_key_ = LayoutKey(shape);
  buffer.is_dynamic_ = !shape.is_static();
  buffer.cold_->shape = std::move(shape);
  return buffer;
}

absl::Status Buffer::CheckDataSize(size_t size, absl::string_view what) const {
  if (size != static_cast<uint64_t>(xla_bytes_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " holds ", size, " bytes but ", cold_->shape.ToString(true),
        " occupies ", xla_bytes_, " bytes on device"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Buffer> Buffer::Describe(Shape on_device_shape,
                                        absl::string_view memory_kind) {
  return Make(std::move(on_device_shape), memory_kind);
}

absl::StatusOr<Buffer> Buffer::Allocate(Shape on_device_shape,
                                        absl::string_view memory_kind) {
  XLAYOUT_ASSIGN_OR_RETURN(Buffer buffer,
                           Make(std::move(on_device_shape), memory_kind));
  buffer.cold_->owned.assign(static_cast<size_t>(buffer.xla_bytes_), 0);
  buffer.storage_ = BufferStorage::kOwned;
  buffer.data_ = buffer.cold_->owned.data();
  buffer.size_ = buffer.cold_->owned.size();
  return buffer;
}

absl::StatusOr<Buffer> Buffer::Own(Shape on_device_shape,
                                   std::vector<uint8_t> bytes,
                                   absl::string_view memory_kind) {
  XLAYOUT_ASSIGN_OR_RETURN(Buffer buffer,
                           Make(std::move(on_device_shape), memory_kind));
  XLAYOUT_RETURN_IF_ERROR(buffer.CheckDataSize(bytes.size(), "owned data"));
  buffer.cold_->owned = std::move(bytes);
  buffer.storage_ = BufferStorage::kOwned;
  buffer.data_ = buffer.cold_->owned.data();
  buffer.size_ = buffer.cold_->owned.size();
  return buffer;
}

absl::StatusOr<Buffer> Buffer::Borrow(Shape on_device_shape,
                                      absl::Span<const uint8_t> bytes,
                                      absl::string_view memory_kind) {
  XLAYOUT_ASSIGN_OR_RETURN(Buffer buffer,
                           Make(std::move(on_device_shape), memory_kind));
  XLAYOUT_RETURN_IF_ERROR(buffer.CheckDataSize(bytes.size(), "borrowed data"));
  buffer.storage_ = BufferStorage::kBorrowed;
  buffer.data_ = bytes.data();
  buffer.size_ = bytes.size();
  return buffer;
}

absl::StatusOr<Buffer> Buffer::MapFile(Shape on_device_shape,
                                       const std::string& path, int64_t offset,
                                       absl::string_view memory_kind) {
  XLAYOUT_ASSIGN_OR_RETURN(Buffer buffer,
                           Make(std::move(on_device_shape), memory_kind));
  if (offset < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot map '", path, "': negative offset ", offset));
  }
  XLAYOUT_ASSIGN_OR_RETURN(io::InputFile file, io::InputFile::Open(path));
  const int64_t need = buffer.xla_bytes_;
  if (offset > file.size() || need > file.size() - offset) {
    return absl::OutOfRangeError(absl::StrCat(
        "cannot map '", path, "': ", buffer.cold_->shape.ToString(true),
        " needs ", need, " bytes at offset ", offset, " but the file has ",
        file.size(), " bytes"));
  }
  buffer.storage_ = BufferStorage::kMapped;
  // Mapped lazily: validation reads no bytes, hashing reads them once.
  XLAYOUT_ASSIGN_OR_RETURN(buffer.cold_->mapping,
                           file.Map(offset, need, {.populate = false}));
  buffer.data_ = buffer.cold_->mapping.data();
  buffer.size_ = static_cast<size_t>(need);
  return buffer;
}

Buffer::Buffer(Buffer&& other) noexcept { *this = std::move(other); }

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this == &other) return *this;
  xla_bytes_ = other.xla_bytes_;
  kind_key_ = other.kind_key_;
  layout_key_ = other.layout_key_;
  is_dynamic_ = other.is_dynamic_;
  storage_ = std::exchange(other.storage_, BufferStorage::kNone);
  data_ = std::exchange(other.data_, nullptr);
  size_ = std::exchange(other.size_, 0);
  cold_ = std::move(other.cold_);  // Owned bytes and mappings live here.
  return *this;
}

Buffer::~Buffer() = default;

Buffer::Cold::~Cold() = default;

}  // namespace xlayout
