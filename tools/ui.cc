#include "ui.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "xlayout/io/io_status.h"

namespace xlayout::cli {

bool ColorEnabled(FILE* stream) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return isatty(fileno(stream)) == 1;
}

std::string Style::Wrap(absl::string_view code, absl::string_view s) const {
  if (!enabled_) return std::string(s);
  return absl::StrCat("\x1b[", code, "m", s, "\x1b[0m");
}

namespace {

// Terminal columns of code point `cp`: 0 for combining marks and
// zero-width characters, 2 for East Asian wide and fullwidth characters
// (CJK, Hangul, fullwidth forms, most emoji), 1 otherwise.
size_t CodePointWidth(uint32_t cp) {
  struct Range {
    uint32_t first, last;
  };
  static constexpr Range kZero[] = {
      {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},
      {0x064b, 0x065f}, {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff}, {0x200b, 0x200f},
      {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff},
  };
  static constexpr Range kWide[] = {
      {0x1100, 0x115f},   {0x2e80, 0x303e},   {0x3041, 0x33ff},
      {0x3400, 0x4dbf},   {0x4e00, 0x9fff},   {0xa000, 0xa4cf},
      {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},
      {0xfe30, 0xfe4f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},
      {0x1f300, 0x1f64f}, {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd},
      {0x30000, 0x3fffd},
  };
  for (const Range& r : kZero) {
    if (cp >= r.first && cp <= r.last) return 0;
  }
  for (const Range& r : kWide) {
    if (cp >= r.first && cp <= r.last) return 2;
  }
  return 1;
}

}  // namespace

size_t DisplayWidth(absl::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') {
      // Skip a CSI sequence up to its final byte.
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      ++i;
      continue;
    }
    // A UTF-8 sequence (text here is already valid or escaped; a stray
    // continuation byte counts as one column).
    const size_t len = c < 0x80           ? 1
                       : (c >> 5) == 0x6  ? 2
                       : (c >> 4) == 0xe  ? 3
                       : (c >> 3) == 0x1e ? 4
                                          : 1;
    if (len == 1 || i + len > s.size()) {
      ++width;
      ++i;
      continue;
    }
    uint32_t cp = c & (0x7f >> len);
    for (size_t k = 1; k < len; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    width += CodePointWidth(cp);
    i += len;
  }
  return width;
}

Table::Table(std::vector<std::string> header, std::vector<bool> right_align)
    : right_(std::move(right_align)) {
  right_.resize(header.size(), false);
  rows_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> row) {
  rows_.push_back(std::move(row));
}

std::string Table::Render(absl::string_view indent) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line(indent);
    for (size_t c = 0; c < row.size(); ++c) {
      size_t pad = widths[c] - DisplayWidth(row[c]);
      bool right = c < right_.size() && right_[c];
      if (c > 0) line += "  ";
      if (right) line.append(pad, ' ');
      line += row[c];
      if (!right && c + 1 < row.size()) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

ProgressBar::ProgressBar(std::string label, int64_t total, Unit unit)
    : label_(std::move(label)),
      total_(total),
      unit_(unit),
      enabled_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (enabled_ && last_permille_ >= 0) std::fprintf(stderr, "\r\x1b[2K");
}

void ProgressBar::Update(int64_t done) {
  if (!enabled_ || total_ <= 0) return;
  int permille =
      static_cast<int>(std::min<double>(1000.0, 1000.0 * done / total_));
  if (permille == last_permille_) return;
  last_permille_ = permille;
  constexpr int kWidth = 30;
  int filled = permille * kWidth / 1000;
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '-');
  std::string detail;
  if (unit_ == Unit::kBytes) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    const double rate = seconds > 0 ? done / seconds : 0;
    detail = absl::StrCat(" ", HumanBytes(done), " / ", HumanBytes(total_));
    if (rate > 0) {
      absl::StrAppend(&detail, ", ", HumanBytes(static_cast<int64_t>(rate)),
                      "/s, ETA ",
                      absl::StrFormat("%.0fs", (total_ - done) / rate));
    }
  }
  std::fprintf(stderr, "\r%s [%s] %5.1f%%%s\x1b[K", label_.c_str(), bar.c_str(),
               permille / 10.0, detail.c_str());
  std::fflush(stderr);
}

absl::Status FlushOutput(FILE* stream, std::ostream& os) {
  // std::cout is synchronised with stdio: its flush writes into `stream`'s
  // buffer, which fflush then writes out.
  errno = 0;
  os.flush();
  int err = os.fail() ? errno : 0;
  errno = 0;
  if (std::fflush(stream) != 0 && err == 0) err = errno;
  if (err == 0 && !os.fail() && std::ferror(stream) == 0) {
    return absl::OkStatus();
  }
  if (err == 0) {
    // An earlier write failed and stdio dropped its buffer, leaving only the
    // error flag. An empty write finds the cause again for a full device and
    // a closed descriptor (pipes and files accept it: EIO then).
    errno = 0;
    if (write(fileno(stream), "", 0) < 0) err = errno;
  }
  if (err == 0) err = EIO;
  return absl::Status(
      io::ErrnoToCode(err),
      absl::StrCat("cannot write standard output: ", std::strerror(err)));
}

namespace {
std::string& OutputWrittenSlot() {
  static std::string* path = new std::string();
  return *path;
}
}  // namespace

void NoteOutputWritten(absl::string_view path) {
  OutputWrittenSlot() = std::string(path);
}

const std::string& OutputWritten() { return OutputWrittenSlot(); }

int StdoutExitCode(int rc, const absl::Status& written,
                   absl::string_view command, std::string* message) {
  message->clear();
  if (written.ok()) return rc;
  std::string text(written.message());
  if (!OutputWritten().empty()) {
    // "cannot write standard output: X" -> "wrote 'OUT', but cannot print
    // the report: standard output: X".
    absl::string_view reason = written.message();
    absl::ConsumePrefix(&reason, "cannot write standard output: ");
    text = absl::StrCat(
        "wrote '", OutputWritten(),
        "', but cannot print the report: standard output: ", reason);
  }
  *message = command.empty() ? text : absl::StrCat(command, ": ", text);
  return kExitError;
}

absl::Status OneStdinReader(
    const std::vector<std::pair<std::string, std::string>>& inputs) {
  const std::string* first = nullptr;
  for (const auto& [name, value] : inputs) {
    if (value != "-") continue;
    if (first == nullptr) {
      first = &name;
      continue;
    }
    return absl::InvalidArgumentError(
        *first == name
            ? absl::StrCat(name,
                           " is '-' twice: standard input can be read "
                           "only once")
            : absl::StrCat(*first, " and ", name,
                           " cannot both read standard input ('-')"));
  }
  return absl::OkStatus();
}

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string ClosestMatch(absl::string_view word,
                         const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    if (!word.empty() && absl::StartsWith(c, word)) return c;
    const size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

void PrintError(absl::string_view message) {
  Style style = Style::For(stderr);
  std::fprintf(stderr, "%s %s\n", style.Red(style.Bold("error:")).c_str(),
               EscapeForTerminal(message).c_str());
}

void PrintWarning(absl::string_view message) {
  Style style = Style::For(stderr);
  std::fprintf(stderr, "%s %s\n", style.Yellow(style.Bold("warning:")).c_str(),
               EscapeForTerminal(message).c_str());
}

nlohmann::ordered_json JsonEnvelope(absl::string_view command) {
  nlohmann::ordered_json j;
  j["schema"] = kJsonSchema;
  j["command"] = std::string(command);
  return j;
}

nlohmann::ordered_json JsonTextInput(absl::string_view text) {
  nlohmann::ordered_json j;
  j["text"] = std::string(text);
  return j;
}

nlohmann::ordered_json JsonFileInput(absl::string_view path, int64_t line) {
  nlohmann::ordered_json j;
  j["file"] = std::string(path);
  if (line > 0) j["line"] = line;
  return j;
}

nlohmann::ordered_json JsonErrorItem(nlohmann::ordered_json input,
                                     const absl::Status& status) {
  nlohmann::ordered_json j;
  j["input"] = std::move(input);
  j["code"] = absl::StatusCodeToString(status.code());
  j["message"] = std::string(status.message());
  return j;
}

}  // namespace xlayout::cli
