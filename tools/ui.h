// Terminal output shared by the subcommands: colour (TTY only, NO_COLOR
// respected), aligned tables, byte counts and a stderr progress bar.
#ifndef XLAYOUT_TOOLS_UI_H_
#define XLAYOUT_TOOLS_UI_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "xlayout/format.h"

namespace xlayout::cli {

// Exit codes, as git/cargo use them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitError = 2;

// True when `stream` is a terminal, NO_COLOR is unset and TERM is not "dumb".
bool ColorEnabled(FILE* stream);

// ANSI styling that turns into plain text when colour is off.
class Style {
 public:
  explicit Style(bool enabled) : enabled_(enabled) {}
  static Style For(FILE* stream) { return Style(ColorEnabled(stream)); }
  std::string Bold(absl::string_view s) const { return Wrap("1", s); }
  std::string Dim(absl::string_view s) const { return Wrap("2", s); }
  std::string Red(absl::string_view s) const { return Wrap("31", s); }
  std::string Green(absl::string_view s) const { return Wrap("32", s); }
  std::string Yellow(absl::string_view s) const { return Wrap("33", s); }
  std::string Cyan(absl::string_view s) const { return Wrap("36", s); }
  bool enabled() const { return enabled_; }

 private:
  std::string Wrap(absl::string_view code, absl::string_view s) const;
  bool enabled_;
};

// Visible width of `s`, ignoring ANSI escapes and counting UTF-8 code points.
size_t DisplayWidth(absl::string_view s);

// A table with a header row; columns are padded to their widest cell.
// Right-aligned columns suit numbers.
class Table {
 public:
  explicit Table(std::vector<std::string> header,
                 std::vector<bool> right_align = {});
  void AddRow(std::vector<std::string> row);
  // Each line is prefixed by `indent`.
  std::string Render(absl::string_view indent = "") const;

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

// Numbers and input text are formatted by xlayout/format.h (WithCommas,
// HumanBytes, FormatFactor, EscapeForTerminal): one of each, shared with the
// library.

// A progress bar on stderr, drawn only when stderr is a TTY. Thread-compatible.
// Counting bytes, it also shows done / total, the rate and the time left:
//   relayout [#########---------------------]  30.2% 618.0 MiB / 2.00 GiB,
//   1.21 GiB/s, ETA 1s
class ProgressBar {
 public:
  enum class Unit { kItems, kBytes };
  ProgressBar(std::string label, int64_t total, Unit unit = Unit::kItems);
  ~ProgressBar();  // Clears the line.
  void Update(int64_t done);

 private:
  std::string label_;
  int64_t total_;
  Unit unit_;
  bool enabled_;
  int last_permille_ = -1;
  std::chrono::steady_clock::time_point start_;
};

// Prints a JSON document (nlohmann::json or ordered_json) on stdout, two-space
// indented. Inputs are arbitrary bytes (file names, log text, comments), so
// invalid UTF-8 becomes U+FFFD instead of making dump() throw.
template <typename Json>
void PrintJson(const Json& j) {
  std::printf("%s\n",
              j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
}

// Flushes `os` and then `stream` (std::cout and stdout, which the commands
// and CLI11 write to) and reports whether everything written to them reached
// the file: a failed flush, or an error flag left by an earlier failed write,
// is the IoError "cannot write standard output: STRERROR" (errno of the
// failing write; when stdio kept only its error flag, that of an empty write
// to the descriptor, or EIO).
absl::Status FlushOutput(FILE* stream, std::ostream& os);

// Records that the command committed its output `path` (a checkpoint or a
// file; not "-"): if its report then cannot reach standard output, the error
// says that `path` was written all the same. Empty until called.
void NoteOutputWritten(absl::string_view path);
const std::string& OutputWritten();

// The exit status and the message ("" for none) of a command that returned
// `rc` and whose standard output ended with `written`: any failure to write
// standard output is exit 2, whatever the command found (README, "Exit
// status"); the message names the command and, when it committed an output,
// says that the output was written.
int StdoutExitCode(int rc, const absl::Status& written,
                   absl::string_view command, std::string* message);

// A usage check for commands with several inputs: standard input can be
// read once, so at most one of `inputs` (what names it, e.g. "--program",
// and the value given) may be "-". Otherwise the usage error
// "--program and --env cannot both read standard input ('-')".
absl::Status OneStdinReader(
    const std::vector<std::pair<std::string, std::string>>& inputs);

// Levenshtein distance (byte-wise insertions, deletions, substitutions).
size_t EditDistance(absl::string_view a, absl::string_view b);

// The candidate closest to `word` by EditDistance, if it is close enough to
// be a likely typo (distance at most max(2, |word| / 3), or `word` is a
// prefix of it); "" otherwise. Ties go to the earlier candidate.
std::string ClosestMatch(absl::string_view word,
                         const std::vector<std::string>& candidates);

// Prints "error: <message>" to stderr (red on a TTY). The message is passed
// through EscapeForTerminal: it may repeat input (file names, shapes).
void PrintError(absl::string_view message);
void PrintWarning(absl::string_view message);

// The JSON envelope of every command's --json output (docs/json.md):
// {"schema": "xlayout.v1", "command": NAME, ...payload..., "errors": [...]}.
// Keys are in insertion order; payload keys follow "command".
inline constexpr char kJsonSchema[] = "xlayout.v1";
nlohmann::ordered_json JsonEnvelope(absl::string_view command);

// Where a value came from: {"text": "..."} for text given on the command
// line, {"file": "path"} (or {"file": "path", "line": n}) for a file, "-"
// for stdin. Every command's "input" has this type.
nlohmann::ordered_json JsonTextInput(absl::string_view text);
nlohmann::ordered_json JsonFileInput(absl::string_view path, int64_t line = 0);

// One element of "errors": {"input": INPUT-or-null, "code": "INVALID_ARGUMENT",
// "message": "..."}.
nlohmann::ordered_json JsonErrorItem(nlohmann::ordered_json input,
                                     const absl::Status& status);

}  // namespace xlayout::cli

#endif  // XLAYOUT_TOOLS_UI_H_
