// libFuzzer target for the checkpoint manifest (manifest.json). Beyond "no
// crash": a manifest that parses must serialise, parse back to the same
// value, and serialise to the same text; its ranges must pass against file
// sizes that cover them and fail against a missing file.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "xlayout/checkpoint_manifest.h"

namespace {

void Check(bool condition, const char* what, const std::string& input) {
  if (condition) return;
  std::fprintf(stderr, "invariant failed: %s\ninput: %s\n", what,
               input.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<xlayout::CheckpointManifest> m = xlayout::ParseManifest(input);
  if (!m.ok()) {
    Check(m.status().message().rfind("manifest: ", 0) == 0,
          "error does not say it is about the manifest", input);
    return 0;
  }
  absl::StatusOr<std::string> text = xlayout::SerializeManifest(*m);
  Check(text.ok(), "a parsed manifest does not serialise", input);
  absl::StatusOr<xlayout::CheckpointManifest> again =
      xlayout::ParseManifest(*text);
  Check(again.ok(), "serialised manifest does not parse", input);
  Check(*again == *m, "serialised manifest parses to another value", input);
  absl::StatusOr<std::string> text2 = xlayout::SerializeManifest(*again);
  Check(text2.ok() && *text2 == *text, "serialisation is not a fixed point",
        input);
  std::map<std::string, int64_t, std::less<>> sizes;
  for (const xlayout::TensorRecord& t : m->tensors) {
    int64_t end = t.offset + t.length;  // Validated not to overflow.
    if (sizes[t.file] < end) sizes[t.file] = end;
  }
  Check(xlayout::ValidateDataFileSizes(*m, sizes).ok(),
        "ranges fail against covering file sizes", input);
  if (!m->tensors.empty()) {
    sizes.erase(m->tensors[0].file);
    Check(!xlayout::ValidateDataFileSizes(*m, sizes).ok(),
          "a missing data file passes", input);
  }
  return 0;
}
