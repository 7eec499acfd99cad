// Memory kinds: the PJRT names for XLA memory spaces. A layout's S(n) says
// where a buffer lives; the runtime compares kinds, not numbers, so the
// mapping from n to a kind string is configurable per backend.
#ifndef XLAYOUT_MEMORY_KIND_H_
#define XLAYOUT_MEMORY_KIND_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/layout_util.h"
#include "xlayout/shape.h"

namespace xlayout {

// How a memory space stores the runtime sizes of a dynamic-shape buffer.
// kPrefix (metadata in front of the data) switches the runtime from the
// byte-size check to XLA's element type / rank / layout / bound checks.
enum class DynamicShapeMetadata { kNone, kPrefix };

class MemoryKindMap {
 public:
  // XLA's conventions: 0 -> "device", 1 -> "alternate" (generic fast memory,
  // VMEM on TPU), 5 -> "pinned_host" (host memory space).
  MemoryKindMap();
  // No entries at all; every space prints as "S(n)".
  static MemoryKindMap Empty();

  // Parses "0=device,1=alternate,5=pinned_host" (replaces every entry).
  // Kinds are [A-Za-z_][A-Za-z0-9_]*; spaces are >= 0 and unique.
  static absl::StatusOr<MemoryKindMap> Parse(absl::string_view spec);

  absl::Status Set(int64_t memory_space, absl::string_view kind);
  // The kind of `memory_space`; "S(n)" when it is not mapped.
  std::string KindOf(int64_t memory_space) const;
  // The smallest memory space mapped to `kind`, if any.
  std::optional<int64_t> SpaceOf(absl::string_view kind) const;

  void SetDynamicShapeMetadata(int64_t memory_space, DynamicShapeMetadata m);
  // kNone unless set.
  DynamicShapeMetadata dynamic_shape_metadata(int64_t memory_space) const;

  // The Parse() form of the mapping, e.g. "0=device,1=alternate,5=pinned_host".
  std::string ToString() const;

  const std::map<int64_t, std::string>& kinds() const { return kinds_; }

 private:
  std::map<int64_t, std::string> kinds_;
  std::map<int64_t, DynamicShapeMetadata> dynamic_;
};

// MemorySpaceOf(shape) is in xlayout/layout_util.h.

// KindOf(MemorySpaceOf(shape)).
std::string MemoryKindOf(const Shape& shape, const MemoryKindMap& kinds);

}  // namespace xlayout

#endif  // XLAYOUT_MEMORY_KIND_H_
