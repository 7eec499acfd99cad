#include "xlayout/memory_kind.h"

#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace xlayout {
namespace {

bool IsKindName(absl::string_view kind) {
  if (kind.empty()) return false;
  if (!absl::ascii_isalpha(kind[0]) && kind[0] != '_') return false;
  for (char c : kind) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

MemoryKindMap::MemoryKindMap()
    : kinds_{{0, "device"}, {1, "alternate"}, {5, "pinned_host"}} {}

MemoryKindMap MemoryKindMap::Empty() {
  MemoryKindMap map;
  map.kinds_.clear();
  return map;
}

absl::StatusOr<MemoryKindMap> MemoryKindMap::Parse(absl::string_view spec) {
  MemoryKindMap map = Empty();
  if (absl::StripAsciiWhitespace(spec).empty()) {
    return absl::InvalidArgumentError(
        "empty memory-kind mapping; expected entries like "
        "'0=device,1=alternate,5=pinned_host'");
  }
  for (absl::string_view entry : absl::StrSplit(spec, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    std::vector<absl::string_view> parts = absl::StrSplit(entry, '=');
    int64_t space = 0;
    // A plain decimal space: no sign, no leading zeros, no inner spaces.
    const bool plain = parts.size() == 2 && !parts[0].empty() &&
                       absl::c_all_of(parts[0], absl::ascii_isdigit) &&
                       (parts[0] == "0" || parts[0][0] != '0');
    if (!plain || !absl::SimpleAtoi(parts[0], &space)) {
      return absl::InvalidArgumentError(
          absl::StrCat("memory-kind entry '", entry,
                       "' is not of the form SPACE=KIND (e.g. 5=pinned_host)"));
    }
    if (map.kinds_.count(space) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "memory space ", space, " is mapped twice in '", spec, "'"));
    }
    absl::Status status = map.Set(space, parts[1]);
    if (!status.ok()) return status;
  }
  // The mapping replaces the defaults. Space 0 is where every buffer
  // without S(n) lives; left out, those would all be kind "S(0)" and
  // differ from any buffer named with a kind.
  if (map.kinds_.count(0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory-kind mapping '", spec,
        "' does not name memory space 0, XLA's default memory (the mapping "
        "replaces the default '0=device,1=alternate,5=pinned_host'); add it, "
        "e.g. '0=device,",
        spec, "'"));
  }
  return map;
}

absl::Status MemoryKindMap::Set(int64_t memory_space, absl::string_view kind) {
  if (memory_space < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory space must be >= 0, got ", memory_space));
  }
  if (!IsKindName(kind)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory kind '", kind, "' is not a name ([A-Za-z_][A-Za-z0-9_]*)"));
  }
  kinds_[memory_space] = std::string(kind);
  return absl::OkStatus();
}

std::string MemoryKindMap::KindOf(int64_t memory_space) const {
  auto it = kinds_.find(memory_space);
  if (it != kinds_.end()) return it->second;
  return absl::StrCat("S(", memory_space, ")");
}

std::optional<int64_t> MemoryKindMap::SpaceOf(absl::string_view kind) const {
  for (const auto& [space, name] : kinds_) {
    if (name == kind) return space;
  }
  return std::nullopt;
}

void MemoryKindMap::SetDynamicShapeMetadata(int64_t memory_space,
                                            DynamicShapeMetadata m) {
  dynamic_[memory_space] = m;
}

DynamicShapeMetadata MemoryKindMap::dynamic_shape_metadata(
    int64_t memory_space) const {
  auto it = dynamic_.find(memory_space);
  return it == dynamic_.end() ? DynamicShapeMetadata::kNone : it->second;
}

std::string MemoryKindMap::ToString() const {
  return absl::StrJoin(kinds_, ",", [](std::string* out, const auto& entry) {
    absl::StrAppend(out, entry.first, "=", entry.second);
  });
}

std::string MemoryKindOf(const Shape& shape, const MemoryKindMap& kinds) {
  return kinds.KindOf(MemorySpaceOf(shape));
}

}  // namespace xlayout
