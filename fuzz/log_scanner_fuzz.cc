// Fuzzes the log scanner and the diagnosis: any input must scan without
// crashing, give the same messages whether fed whole or in pieces, and every
// message must diagnose (shape parsing, sizes, tiling inference, JSON).
// The grammars include issue 13's families (TPUExecute with ShapeProto
// text, JAX's layout check and its reprs, invalid buffers, malformed
// layouts); fuzz/corpus/log_scanner has a seed for each.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "xlayout/explain.h"
#include "xlayout/log_scanner.h"

namespace {

std::string Fingerprint(const xlayout::ScannedMessage& m) {
  return absl::StrCat(
      xlayout::MessageKindName(m.kind), "|", m.program, "|",
      m.parameter.value_or(-1), "|", m.expected_shape, "|", m.actual_shape, "|",
      m.expected_bytes.value_or(-1), "|", m.actual_bytes.value_or(-1), "|",
      m.replica.value_or(-1), "|", m.expected_value, "|", m.actual_value, "|",
      m.parameter_name, "|", m.line, "|", m.offset, "|", m.text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the piece size for the split feed.
  const size_t piece = 1 + data[0] % 61;
  absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  // The smallest windows, so that inputs of a few KiB already exercise
  // deferred anchors and the carry-over compaction.
  xlayout::ScanOptions options;
  options.chunk_bytes = 4096;
  options.max_back_bytes = 256;
  options.max_forward_bytes = 1024;

  std::vector<std::string> whole;
  xlayout::FindingGrouper grouper;
  {
    xlayout::LogScanner scanner(
        [&](xlayout::ScannedMessage m) {
          whole.push_back(Fingerprint(m));
          grouper.Add(xlayout::Diagnose(m));
        },
        [](xlayout::UnparsedCandidate) {}, options);
    scanner.Feed(text);
    scanner.Finish();
  }
  for (const xlayout::Finding& f : grouper.findings()) {
    (void)xlayout::FindingToJson(f).dump();
  }

  std::vector<std::string> split;
  {
    xlayout::LogScanner scanner(
        [&](xlayout::ScannedMessage m) { split.push_back(Fingerprint(m)); },
        nullptr, options);
    for (size_t i = 0; i < text.size(); i += piece) {
      scanner.Feed(text.substr(i, piece));
    }
    scanner.Finish();
  }
  if (whole != split) __builtin_trap();
  return 0;
}
