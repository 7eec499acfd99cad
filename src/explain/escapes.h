// Terminal escape sequences in log text (module internal; used by
// log_scanner.cc and oom_report.cc, tested by log_scanner_test.cc and
// oom_report_test.cc). Loggers and terminal captures put colour codes
// inside messages and around whole lines.
#ifndef XLAYOUT_EXPLAIN_ESCAPES_H_
#define XLAYOUT_EXPLAIN_ESCAPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace xlayout::explain_internal {

// `line` without ANSI escape sequences: CSI ("ESC [ params final"), OSC
// ("ESC ] ... BEL" or "ESC ] ... ESC \\") and two-byte escapes. map[k] is
// the index in `line` of clean[k].
void StripEscapes(absl::string_view line, std::string* clean,
                  std::vector<uint32_t>* map);

}  // namespace xlayout::explain_internal

#endif  // XLAYOUT_EXPLAIN_ESCAPES_H_
