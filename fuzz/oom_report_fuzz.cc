// Fuzzes the out-of-memory report recogniser: any input must scan without
// crashing, give the same reports whether fed whole or in pieces of any
// size, and every report must analyse, describe and serialise (shape
// parsing, tiling inference, dim orders, printed-size intervals).
// fuzz/corpus/oom_report has a seed for each report form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "xlayout/oom_report.h"

namespace {

std::string Fingerprint(const std::vector<xlayout::OomReport>& reports) {
  std::string out;
  for (const xlayout::OomReport& r : reports) {
    absl::StrAppend(
        &out,
        xlayout::OomReportToJson(r).dump(
            -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
        "@", r.offset, "\n");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the piece size for the split feed.
  const size_t piece = 1 + data[0] % 61;
  absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<xlayout::OomReport> whole = xlayout::ScanOomReports(text);
  for (const xlayout::OomReport& r : whole) {
    for (const std::string& line : xlayout::DescribeOomReport(r)) {
      if (line.empty()) std::abort();
    }
    for (const xlayout::OomBuffer& b : r.buffers) {
      // Recomputed sizes are consistent with each other.
      if (b.device_bytes && b.logical_bytes &&
          *b.padding_bytes != *b.device_bytes - *b.logical_bytes) {
        std::abort();
      }
      for (const xlayout::OomRemedy& m : b.remedies) {
        if (b.device_bytes &&
            m.saved_bytes != *b.device_bytes - m.device_bytes) {
          std::abort();
        }
      }
    }
  }
  std::vector<xlayout::OomReport> split;
  xlayout::OomReportScanner scanner(
      [&](xlayout::OomReport r) { split.push_back(std::move(r)); });
  for (size_t i = 0; i < text.size(); i += piece) {
    scanner.Feed(text.substr(i, piece));
  }
  scanner.Finish();
  if (Fingerprint(whole) != Fingerprint(split)) std::abort();

  // Printed sizes: the interval read back is ordered.
  std::optional<xlayout::PrintedSize> s =
      xlayout::ParsePrintedSize(text.substr(0, 40));
  if (s && s->min_bytes > s->max_bytes) std::abort();
  return 0;
}
