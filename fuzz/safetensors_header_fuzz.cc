// libFuzzer target for safetensors headers. The input is a whole file. A
// header that parses must describe contiguous ranges from 0, and writing its
// tensors back with WriteSafetensorsHeader must parse to the same tensors.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "xlayout/safetensors.h"

namespace {

void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "invariant failed: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  // Once with the real file size (exact coverage), once without.
  (void)xlayout::ParseSafetensorsPrefix(input, static_cast<int64_t>(size));
  absl::StatusOr<xlayout::SafetensorsHeader> h =
      xlayout::ParseSafetensorsPrefix(input, std::nullopt);
  if (!h.ok()) return 0;
  int64_t offset = 0;
  std::vector<xlayout::SafetensorsEntry> entries;
  for (const xlayout::SafetensorsTensor& t : h->tensors) {
    Check(t.begin == offset && t.end >= t.begin, "ranges not contiguous");
    offset = t.end;
    entries.push_back({t.name, t.dtype.type, t.shape});
  }
  Check(offset == h->data_bytes, "data_bytes is not the last end");
  absl::StatusOr<std::string> prefix = xlayout::WriteSafetensorsHeader(
      entries, h->metadata.value_or(std::map<std::string, std::string>()));
  if (!prefix.ok()) {
    // Only a header grown past the limit by re-serialisation may fail.
    Check(prefix.status().message().find("exceeds the limit") !=
              std::string::npos,
          "a parsed header cannot be written back");
    return 0;
  }
  absl::StatusOr<xlayout::SafetensorsHeader> again =
      xlayout::ParseSafetensorsPrefix(*prefix, std::nullopt);
  Check(again.ok(), "written header does not parse");
  Check(again->tensors.size() == h->tensors.size(), "tensor count changed");
  Check(again->data_bytes == h->data_bytes, "data size changed");
  for (size_t i = 0; i < h->tensors.size(); ++i) {
    const auto& a = h->tensors[i];
    const auto& b = again->tensors[i];
    Check(a.begin == b.begin && a.end == b.end && a.shape == b.shape &&
              a.dtype.type == b.dtype.type,
          "written header describes other data");
  }
  return 0;
}
