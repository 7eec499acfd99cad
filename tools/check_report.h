// Printing a CheckReport (xlayout/checkpoint_check.h), shared by `check` and
// by `relayout --checkpoint`, which shows the same report when it refuses to
// write: the text report, its JSON members (docs/json.md) and the command
// that fixes the checkpoint.
#ifndef XLAYOUT_TOOLS_CHECK_REPORT_H_
#define XLAYOUT_TOOLS_CHECK_REPORT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "xlayout/checkpoint_check.h"

namespace xlayout::cli {

// The inputs as the user named them (for the header line and the fix).
struct CheckInputs {
  std::string program;
  std::string checkpoint;
  std::string env;               // "" when not given.
  std::vector<std::string> map;  // --map values, as given.
  std::string memory_kinds;      // --memory-kinds, as given.
};

// `xlayout relayout --program P --checkpoint C ... -o C.relayout`: the
// command that rewrites the checkpoint in the program's layouts, binding
// tensors as the check did. A program or --env that cannot be read again
// under its name (`-`, a pipe such as bash's <(...), any path that is not a
// regular file) is named by a placeholder, PROGRAM.hlo or ENV.json.
std::string CheckFixCommand(const CheckInputs& in);

// One line per placeholder in CheckFixCommand, saying where that input was
// read from and that it must be given again as a file; empty when the
// command names every input as given.
std::vector<std::string> CheckFixNotes(const CheckInputs& in);

// The report's JSON members, in schema order: program, strict, ok, counts,
// parameters, buffer_count_message, environment, fix, warnings (the
// program's reader warnings, ProgramSignature::warnings, as `signature`
// prints them).
nlohmann::ordered_json CheckReportJson(
    const CheckInputs& in, const CheckReport& r, bool strict,
    const std::vector<std::string>& program_warnings);

// The text report on stdout; `show_fix` ends it with the fix command (and
// CheckFixNotes) when a relayout can fix everything.
void PrintCheckReportText(const CheckInputs& in, const CheckReport& r,
                          bool show_fix);

}  // namespace xlayout::cli

#endif  // XLAYOUT_TOOLS_CHECK_REPORT_H_
