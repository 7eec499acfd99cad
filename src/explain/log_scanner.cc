// Streaming scanner for program-input-mismatch messages.
//
// Fast path: one pass of a Wu-Manber style multi-keyword search (shift table
// on hashed 4-byte blocks) finds anchor phrases that every message form
// contains. Only around an anchor is text normalised (log-line prefixes of
// continuation lines dropped, all whitespace removed, line breaks remembered)
// and parsed with the message grammar. Removing whitespace makes messages
// that loggers or people wrapped (even mid-token) read like unwrapped ones.
#include "xlayout/log_scanner.h"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/text_cursor.h"
#include "explain/escapes.h"
#include "explain/newlines.h"
#include "xlayout/io/block_reader.h"
#include "xlayout/io/input_file.h"
#include "xlayout/shape_proto_text.h"
#include "xlayout/status_macros.h"

namespace xlayout {

namespace {

// ---------------------------------------------------------------------------
// Anchor search.

// Phrases of which every message form contains at least one. Several per form
// so that a message is still found when a wrap splits one of them.
// Every anchor is at least 17 bytes long: the shortest anchor bounds the
// search's skip distance, and so its speed on logs without messages.
constexpr std::array<absl::string_view, 21> kAnchors = {
    "expected parameter",
    "incompatible size",
    "incompatible shape",
    "unexpected memory space",
    "does not match host shape",
    "compiled program expected",
    "RuntimeProgramInputMismatch",
    // TensorFlow's TPUExecute shape check.
    "Run-time shape mismatch",
    "TPUExecute argument",
    // JAX's layout check: current and older wording.
    "compiled for input",
    "of arguments passed to it",
    "compiled object was called with",
    // Invalid (deleted or donated) buffers.
    "Invalid buffer passed",
    "passed to Execute()",
    "Array has been deleted with",
    // XLA's layout validation.
    "minor_to_major field contains",
    // Mosaic (Pallas TPU) operand layouts, newer and older wording.
    "Mosaic kernel operand",
    "does not match Mosaic layout",
    "does not match MLIR layout",
    // With "incompatible size", the phrase "but got buffer with incompatible
    // size" holds three anchors placed so that a terminal that wraps every
    // 30 or more columns leaves at least one of them whole, wherever the
    // breaks fall.
    "but got buffer with",
    "buffer with incompat",
};
constexpr size_t kAnchorRuntimeProgramInputMismatch = 6;
constexpr size_t kBlock = 4;

class AnchorMatcher {
 public:
  AnchorMatcher() {
    min_len_ = kAnchors[0].size();
    max_len_ = 0;
    for (absl::string_view a : kAnchors) {
      min_len_ = std::min(min_len_, a.size());
      max_len_ = std::max(max_len_, a.size());
    }
    shift_.fill(static_cast<uint8_t>(min_len_ - kBlock + 1));
    for (size_t k = 0; k < kAnchors.size(); ++k) {
      const char* a = kAnchors[k].data();
      // The hash of the block that ends the search window: only anchors
      // with that hash are compared where the shift is 0.
      last_hash_[k] = Hash(a + min_len_ - kBlock);
      for (size_t q = 0; q + kBlock <= min_len_; ++q) {
        uint32_t h = Hash(a + q);
        size_t s = min_len_ - kBlock - q;
        if (s < shift_[h]) shift_[h] = static_cast<uint8_t>(s);
      }
    }
  }

  size_t max_len() const { return max_len_; }

  // First position >= begin where an anchor lies entirely in [begin, end);
  // `end` if none. `*which` gets the anchor index.
  //
  // Each step of the search waits for the table load of the step before,
  // so one cursor is bound by latency. Long ranges are searched by eight
  // independent cursors at once, one per part, which the CPU overlaps: the
  // first part's first match is the answer; a later part's counts only when
  // the parts before it have none.
  size_t Find(const char* data, size_t begin, size_t end, size_t* which) const {
    if (end < begin || end - begin < min_len_) return end;
    const size_t back = min_len_ - kBlock;
    // One cursor over the first 16 KiB: where messages are dense (every
    // line), the next anchor is near and the other cursors would work for
    // nothing. Several cursors only over long stretches without one.
    constexpr size_t kHead = size_t{16} << 10;
    const size_t head = std::min(end, begin + kHead);
    const size_t r = FindFrom(data, begin + back, head + back, end, which);
    if (r != end || head == end) return r;
    begin = head;
    if (end - begin < 4 * kHead) {
      return FindFrom(data, begin + back, end, end, which);
    }
    // Cursor i covers match starts in [first[i], first[i + 1]); a match may
    // run past its part (the data is there up to `end`). Each cursor stops
    // at its first match.
    constexpr int kCursors = 8;
    const size_t part = (end - begin) / kCursors;
    size_t pos[kCursors], stop[kCursors], found[kCursors],
        found_which[kCursors];
    bool active[kCursors];
    for (int i = 0; i < kCursors; ++i) {
      pos[i] = begin + i * part + back;
      stop[i] =
          i + 1 < kCursors ? begin + (i + 1) * part + back : end - kBlock + 1;
      found[i] = end;
      found_which[i] = 0;
      active[i] = true;
    }
    int running = kCursors;
    while (running > 0) {
      // While every cursor is far from its stop and no block needs a
      // check, advance all of them without the per-cursor bookkeeping:
      // rounds of as many steps as the nearest stop allows (a step moves a
      // cursor at most max_shift), so the inner loop has no bound checks.
      if (running == kCursors) {
        constexpr size_t kMargin = 32;  // More than the largest shift.
        const size_t max_shift = min_len_ - kBlock + 1;
        bool hit = false;
        while (!hit) {
          size_t gap = stop[0] > pos[0] ? stop[0] - pos[0] : 0;
          for (int i = 1; i < kCursors; ++i) {
            gap = std::min(gap, stop[i] > pos[i] ? stop[i] - pos[i] : 0);
          }
          if (gap <= kMargin) break;
          // Before each step, pos + kMargin < stop for every cursor.
          for (size_t steps = (gap - kMargin - 1) / max_shift + 1; steps > 0;
               --steps) {
            uint8_t shift[kCursors];
            bool any_zero = false;
            for (int i = 0; i < kCursors; ++i) {
              shift[i] = shift_[Hash(data + pos[i])];
              any_zero |= shift[i] == 0;
            }
            if (any_zero) {
              hit = true;
              break;
            }
            for (int i = 0; i < kCursors; ++i) pos[i] += shift[i];
          }
        }
      }
      for (int i = 0; i < kCursors; ++i) {
        if (!active[i]) continue;
        if (pos[i] >= stop[i]) {
          active[i] = false;
          --running;
          continue;
        }
        const uint32_t h = Hash(data + pos[i]);
        uint8_t s = shift_[h];
        if (s == 0) {
          if (Verify(data, pos[i] - back, end, h, &found_which[i])) {
            found[i] = pos[i] - back;
            // The first part's first match is the answer.
            if (i == 0) {
              *which = found_which[0];
              return found[0];
            }
            active[i] = false;
            --running;
            continue;
          }
          s = 1;
        }
        pos[i] += s;
      }
    }
    for (int i = 0; i < kCursors; ++i) {
      if (found[i] != end) {
        *which = found_which[i];
        return found[i];
      }
    }
    return end;
  }

 private:
  static constexpr int kHashBits = 12;
  static uint32_t Hash(const char* p) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    return (x * 2654435761u) >> (32 - kHashBits);
  }

  // Whether an anchor starts at `start` (its window's last block hashes to
  // `h`); *which gets the first such anchor.
  bool Verify(const char* data, size_t start, size_t end, uint32_t h,
              size_t* which) const {
    for (size_t k = 0; k < kAnchors.size(); ++k) {
      const absl::string_view a = kAnchors[k];
      if (last_hash_[k] == h && start + a.size() <= end &&
          std::memcmp(data + start, a.data(), a.size()) == 0) {
        *which = k;
        return true;
      }
    }
    return false;
  }

  // One cursor from window end-block `pos` while pos < stop (match starts
  // before stop - back); the data ends at `end`. Returns `end` if no match.
  size_t FindFrom(const char* data, size_t pos, size_t stop, size_t end,
                  size_t* which) const {
    const size_t back = min_len_ - kBlock;
    while (pos < stop && pos + kBlock <= end) {
      const uint32_t h = Hash(data + pos);
      const uint8_t s = shift_[h];
      if (s != 0) {
        pos += s;
        continue;
      }
      if (Verify(data, pos - back, end, h, which)) return pos - back;
      ++pos;
    }
    return end;
  }
  std::array<uint8_t, size_t{1} << kHashBits> shift_;
  std::array<uint32_t, kAnchors.size()> last_hash_;
  size_t min_len_;
  size_t max_len_;
};

const AnchorMatcher& Anchors() {
  static const AnchorMatcher* const matcher = new AnchorMatcher();
  return *matcher;
}

// ---------------------------------------------------------------------------
// Log-line prefixes.

bool IsDigit(char c) { return IsAsciiDigit(c); }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

// Number of leading digits of s at i, at most `max`.
size_t Digits(absl::string_view s, size_t i, size_t max = 32) {
  size_t n = 0;
  while (i + n < s.size() && n < max && IsDigit(s[i + n])) ++n;
  return n;
}

// hh:mm:ss with optional [.,]fraction at i; returns its length or 0.
size_t TimeOfDay(absl::string_view s, size_t i) {
  size_t j = i;
  for (int part = 0; part < 3; ++part) {
    if (Digits(s, j, 2) != 2) return 0;
    j += 2;
    if (part < 2) {
      if (j >= s.size() || s[j] != ':') return 0;
      ++j;
    }
  }
  if (j < s.size() && (s[j] == '.' || s[j] == ',')) {
    size_t d = Digits(s, j + 1);
    if (d > 0) j += 1 + d;
  }
  return j - i;
}

// glog / absl log: "E0125 15:22:55.460935 12345 file.cc:123] ".
size_t GlogPrefix(absl::string_view s, size_t i) {
  if (i >= s.size() || std::strchr("IWEF", s[i]) == nullptr || s[i] == 0) {
    return 0;
  }
  size_t j = i + 1;
  if (Digits(s, j, 4) != 4) return 0;
  j += 4;
  if (j >= s.size() || s[j] != ' ') return 0;
  while (j < s.size() && s[j] == ' ') ++j;
  size_t t = TimeOfDay(s, j);
  if (t == 0) return 0;
  j += t;
  while (j < s.size() && s[j] == ' ') ++j;
  j += Digits(s, j);  // Thread id.
  while (j < s.size() && s[j] == ' ') ++j;
  // file:line]
  size_t k = j;
  while (k < s.size() && k - j < 256 && s[k] != ']' && !IsSpace(s[k])) ++k;
  if (k >= s.size() || s[k] != ']' || k == j) return 0;
  size_t d = 0;
  while (k - d > j && IsDigit(s[k - 1 - d])) ++d;
  if (d == 0 || s[k - 1 - d] != ':') return 0;
  return k + 1 - i;
}

// ISO-like date and time: 2024-01-25T15:22:55.123Z, 2024/01/25 15:22:55,123.
size_t DatePrefix(absl::string_view s, size_t i) {
  size_t j = i;
  if (Digits(s, j, 4) != 4) return 0;
  j += 4;
  if (j >= s.size() || (s[j] != '-' && s[j] != '/')) return 0;
  char sep = s[j++];
  if (Digits(s, j, 2) != 2) return 0;
  j += 2;
  if (j >= s.size() || s[j] != sep) return 0;
  ++j;
  if (Digits(s, j, 2) != 2) return 0;
  j += 2;
  if (j < s.size() && (s[j] == 'T' || s[j] == ' ')) {
    size_t t = TimeOfDay(s, j + 1);
    if (t > 0) {
      j += 1 + t;
      if (j < s.size() && s[j] == 'Z') {
        ++j;
      } else if (j < s.size() && (s[j] == '+' || s[j] == '-') &&
                 Digits(s, j + 1, 2) == 2) {
        j += 3;
        if (j < s.size() && s[j] == ':') ++j;
        j += Digits(s, j, 2);
      }
    }
  }
  if (j < s.size() && !IsSpace(s[j]) && s[j] != ']' && s[j] != '|' &&
      s[j] != ',' && s[j] != ':') {
    return 0;
  }
  if (j < s.size() && (s[j] == ':' || s[j] == ',')) ++j;
  return j - i;
}

size_t TimePrefix(absl::string_view s, size_t i) {
  size_t t = TimeOfDay(s, i);
  if (t == 0) return 0;
  if (i + t < s.size() && !IsSpace(s[i + t])) return 0;
  return t;
}

// "[anything]" (process/host tags, bracketed timestamps and levels). Not
// a shape's dims ("[16,1280,40]{2,1,0}" at the start of a line that a
// terminal wrapped): brackets holding only digits and commas must be
// followed by whitespace, '<' or '[' (Open MPI's "[1,0]<stderr>:").
size_t BracketPrefix(absl::string_view s, size_t i) {
  if (i >= s.size() || s[i] != '[') return 0;
  bool dims = true;
  for (size_t j = i + 1; j < s.size() && j - i <= 96; ++j) {
    if (s[j] == ']') {
      if (dims) {
        if (j == i + 1) return 0;
        if (j + 1 < s.size() && !IsSpace(s[j + 1]) && s[j + 1] != '<' &&
            s[j + 1] != '[') {
          return 0;
        }
      }
      return j + 1 - i;
    }
    if (s[j] == '[') return 0;
    if (!IsDigit(s[j]) && s[j] != ',') dims = false;
  }
  return 0;
}

// Ray-style "(pid=123)" or "(Worker pid=123, ip=10.0.0.1)".
size_t PidPrefix(absl::string_view s, size_t i) {
  if (i >= s.size() || s[i] != '(') return 0;
  for (size_t j = i + 1; j < s.size() && j - i <= 160; ++j) {
    if (s[j] == ')') {
      absl::string_view inner = s.substr(i, j - i);
      return inner.find("pid=") != absl::string_view::npos ? j + 1 - i : 0;
    }
  }
  return 0;
}

// Container runtime stream tag ("stderr F ", "stdout P ") and
// docker-compose service tags ("worker-1  | ").
size_t TagPrefix(absl::string_view s, size_t i) {
  absl::string_view rest = s.substr(std::min(i, s.size()));
  for (absl::string_view tag : {"stdout ", "stderr "}) {
    if (absl::StartsWith(rest, tag) && rest.size() > tag.size() + 1 &&
        (rest[tag.size()] == 'F' || rest[tag.size()] == 'P') &&
        rest[tag.size() + 1] == ' ') {
      return tag.size() + 2;
    }
  }
  size_t j = 0;
  while (j < rest.size() && j < 64 &&
         (absl::ascii_isalnum(static_cast<unsigned char>(rest[j])) ||
          rest[j] == '_' || rest[j] == '-' || rest[j] == '.')) {
    ++j;
  }
  if (j == 0) return 0;
  size_t k = j;
  while (k < rest.size() && rest[k] == ' ') ++k;
  if (k + 1 < rest.size() && rest[k] == '|' && rest[k + 1] == ' ') {
    return k + 2;
  }
  return 0;
}

// Syslog and journald: "Nov 30 10:00:00 host " (the program tag that
// usually follows is ProcessPrefix).
size_t SyslogPrefix(absl::string_view s, size_t i) {
  static constexpr absl::string_view kMonths[] = {
      "Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ",
      "Jul ", "Aug ", "Sep ", "Oct ", "Nov ", "Dec "};
  absl::string_view rest = s.substr(std::min(i, s.size()));
  if (std::none_of(
          std::begin(kMonths), std::end(kMonths),
          [&](absl::string_view m) { return absl::StartsWith(rest, m); })) {
    return 0;
  }
  size_t j = 4;
  while (j < rest.size() && rest[j] == ' ') ++j;
  const size_t day = Digits(rest, j, 2);
  if (day == 0 || j + day >= rest.size() || rest[j + day] != ' ') return 0;
  j += day + 1;
  const size_t t = TimeOfDay(rest, j);
  if (t == 0 || j + t >= rest.size() || rest[j + t] != ' ') return 0;
  j += t + 1;
  // The host name.
  const size_t host = j;
  while (j < rest.size() && j - host < 256 && !IsSpace(rest[j])) ++j;
  if (j == host || j >= rest.size()) return 0;
  return j + 1;
}

// A program tag with its pid, as syslog writes it: "python3[4242]: ".
size_t ProcessPrefix(absl::string_view s, size_t i) {
  absl::string_view rest = s.substr(std::min(i, s.size()));
  size_t j = 0;
  while (j < rest.size() && j < 128 && rest[j] != '[' && !IsSpace(rest[j])) {
    ++j;
  }
  if (j == 0 || j >= rest.size() || rest[j] != '[') return 0;
  const size_t pid = Digits(rest, j + 1, 10);
  const size_t close = j + 1 + pid;
  if (pid == 0 || close + 2 > rest.size() || rest[close] != ']' ||
      rest[close + 1] != ':') {
    return 0;
  }
  return close + 2;
}

// Output collected from many hosts (pdsh, clush, kubectl --prefix):
// "worker-3: ", "10.0.0.3: ", "tpu-vm-0: ", "stderr: ". The host must be
// lower case, digits, '_', '-' and '.' with at least one '-' or '.', so
// that message words ("INVALID_ARGUMENT: ", "E0102: ") are never taken for
// hosts.
size_t HostPrefix(absl::string_view s, size_t i) {
  absl::string_view rest = s.substr(std::min(i, s.size()));
  for (absl::string_view stream : {"stderr: ", "stdout: "}) {
    if (absl::StartsWith(rest, stream)) return stream.size();
  }
  size_t j = 0;
  bool separator = false;
  while (j < rest.size() && j < 64) {
    const char c = rest[j];
    if (c == '-' || c == '.') {
      separator = true;
    } else if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
               !IsDigit(c) && c != '_') {
      break;
    }
    ++j;
  }
  // Without a '-' or '.' it is a word or a number, not a host.
  if (!separator || j + 1 >= rest.size() || rest[j] != ':' ||
      rest[j + 1] != ' ') {
    return 0;
  }
  return j + 2;
}

// Quoted text in mail and markdown: "> ", "> > ", ">> ".
size_t QuotePrefix(absl::string_view s, size_t i) {
  if (i >= s.size() || s[i] != '>') return 0;
  if (i + 1 < s.size() && s[i + 1] != ' ' && s[i + 1] != '>') return 0;
  return 1;
}

// Log levels as line prefixes: "ERROR ", "WARNING: ", and pytest's "E   ".
size_t LevelPrefix(absl::string_view s, size_t i) {
  absl::string_view rest = s.substr(std::min(i, s.size()));
  for (absl::string_view level :
       {"ERROR", "WARNING", "WARN", "INFO", "DEBUG", "CRITICAL", "FATAL"}) {
    if (absl::StartsWith(rest, level) && rest.size() > level.size()) {
      char c = rest[level.size()];
      if (c == ' ') return level.size() + 1;
      if (c == ':' && rest.size() > level.size() + 1 &&
          rest[level.size() + 1] == ' ') {
        return level.size() + 2;
      }
    }
  }
  if (rest.size() >= 3 && (rest[0] == 'E' || rest[0] == 'F') &&
      rest[1] == ' ' && rest[2] == ' ') {
    return 3;
  }
  return 0;
}

// The writer a prefix names, for telling apart the lines of messages that
// several threads, hosts or replicas wrote at the same time: the glog thread
// id, a bracketed tag without a time in it ("[host0]"), a Ray pid tag, a
// syslog host and program, a container stream or compose service, a host
// prefix. Timestamps and levels name no writer.
void AppendWriter(absl::string_view s, size_t i, size_t n, int matcher,
                  std::string* writer) {
  absl::string_view part = s.substr(i, n);
  switch (matcher) {
    case 0: {  // glog: the thread id after the time of day.
      size_t j = 5;
      while (j < part.size() && part[j] == ' ') ++j;
      j += TimeOfDay(part, j);
      while (j < part.size() && part[j] == ' ') ++j;
      absl::StrAppend(writer, "t", part.substr(j, Digits(part, j)), "|");
      return;
    }
    case 4:  // [tag]: not a bracketed timestamp.
      if (part.find(':') != absl::string_view::npos) return;
      break;
    case 7:  // "stderr F " / "stdout P ": the stream, not the F/P flag.
      if (part.size() > 2 && part[part.size() - 2] != '|') {
        part = part.substr(0, 6);
      }
      break;
    case 1:  // Syslog: the host, not the time.
      part = absl::StripAsciiWhitespace(part);
      part = part.substr(part.rfind(' ') + 1);
      break;
    case 5:
    case 6:
    case 8:
      break;
    default:  // Dates, times, quotes and levels name no writer.
      return;
  }
  absl::StrAppend(writer, absl::StripAsciiWhitespace(part), "|");
}

struct PrefixInfo {
  size_t length = 0;
  std::string writer;  // Empty when the prefix names no writer.
};

PrefixInfo ReadPrefix(absl::string_view line) {
  PrefixInfo info;
  size_t i = 0;
  bool any = false;
  for (int round = 0; round < 8; ++round) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t n = 0;
    int matcher = 0;
    for (auto* m : {GlogPrefix, SyslogPrefix, DatePrefix, TimePrefix,
                    BracketPrefix, PidPrefix, ProcessPrefix, TagPrefix,
                    HostPrefix, QuotePrefix, LevelPrefix}) {
      n = m(line, i);
      if (n > 0) break;
      ++matcher;
    }
    if (n == 0) break;
    AppendWriter(line, i, n, matcher, &info.writer);
    i += n;
    any = true;
  }
  if (!any) return info;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  info.length = i;
  return info;
}

}  // namespace

size_t LogPrefixLength(absl::string_view line) {
  return ReadPrefix(line).length;
}

namespace {

// ---------------------------------------------------------------------------
// Normalised text around an anchor.

// Whether a line whose prefix names `writer` may continue a message that a
// line of `ref` began: lines of another thread, host or replica may not. A
// prefix that names less (Ray's tag without the glog header after it) is
// the same writer.
bool SameWriter(const std::string& ref, const std::string& writer) {
  return absl::StartsWith(ref, writer) || absl::StartsWith(writer, ref);
}

struct NormText {
  std::string s;              // Whitespace and line prefixes removed.
  std::vector<uint32_t> raw;  // Buffer offset of each char of s.
  std::vector<uint8_t> brk;   // 1: a line break lies between s[i-1] and s[i].

  // Messages quoted inside another language's string (a JSON log record, a
  // Python repr) carry escapes: `\n`, `\t`, `\r` count as whitespace (a
  // line break), and the backslash of `\"`, `\'` and `\\` is dropped, so
  // nested quoting unwraps too. A line whose prefix names another writer
  // than `ref` is left out (returns false). Escape sequences are skipped in
  // the prefix, and in the message too if `strip_escapes`.
  // A `continuation` piece is the rest of a line whose start was appended
  // before (a long line read piece by piece): it has no prefix and no line
  // break before it.
  bool AppendLine(const char* buf, size_t begin, size_t end,
                  const std::string& ref, bool strip_escapes,
                  bool continuation = false) {
    std::string clean;
    std::vector<uint32_t> map;
    const absl::string_view raw_line(buf + begin, end - begin);
    explain_internal::StripEscapes(raw_line, &clean, &map);
    const PrefixInfo prefix = continuation ? PrefixInfo{} : ReadPrefix(clean);
    if (!SameWriter(ref, prefix.writer)) return false;
    absl::string_view line = clean;
    size_t from = prefix.length;
    if (!strip_escapes) {
      line = raw_line;
      from = prefix.length < map.size() ? map[prefix.length] : line.size();
      map.resize(line.size());
      for (size_t k = 0; k < map.size(); ++k) map[k] = k;
    }
    bool first = !continuation;
    for (size_t i = from; i < line.size(); ++i) {
      char c = line[i];
      if (IsSpace(c)) continue;
      if (c == '\\' && i + 1 < line.size()) {
        const char n = line[i + 1];
        if (n == 'n' || n == 't' || n == 'r') {
          ++i;
          first = true;
          continue;
        }
        if (n == '"' || n == '\'' || n == '\\') continue;
      }
      s.push_back(c);
      raw.push_back(static_cast<uint32_t>(begin + map[i]));
      brk.push_back(first && !s.empty() && s.size() > 1 ? 1 : 0);
      first = false;
    }
    return true;
  }
};

enum class Step { kOk, kMore, kFail };

// Recursive-descent reader of one message in normalised text.
class MessageParser {
 public:
  enum class Match { kFull, kPartial, kNo };

  MessageParser(const NormText& t, bool final) : t_(t), final_(final) {}

  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }
  const std::string& reason() const { return reason_; }

  // Literals are written with spaces for readable errors; the spaces are
  // ignored when matching (the normalised text has none).
  Step Lit(absl::string_view lit) {
    size_t end = 0;
    switch (MatchAt(pos_, lit, &end)) {
      case Match::kFull:
        pos_ = end;
        return Step::kOk;
      case Match::kPartial:
        return More(absl::StrCat("text ends inside '", lit, "'"));
      case Match::kNo:
        break;
    }
    return Fail(absl::StrCat("expected '", lit, "'"));
  }

  // Decimal integer. A line break inside the digits is joined only if the
  // literal `next` (or one of its '|'-separated alternatives) follows the
  // joined digits (a wrap in the middle of a number); at the end of a
  // message a break ends the number.
  Step Int(int64_t* value, absl::string_view next) {
    const std::string& s = t_.s;
    if (pos_ >= s.size()) return More("text ends before a number");
    if (!IsDigit(s[pos_])) return Fail("expected a number");
    size_t end = pos_;
    while (true) {
      while (end < s.size() && IsDigit(s[end]) &&
             (end == pos_ || !t_.brk[end] || !IsDigit(s[end - 1]))) {
        ++end;
      }
      if (end < s.size() && IsDigit(s[end]) && t_.brk[end]) {
        // Digits continue after a line break: join if `next` then follows.
        size_t e2 = end;
        while (e2 < s.size() && IsDigit(s[e2])) ++e2;
        Match next_match = Match::kNo;
        for (absl::string_view alt : absl::StrSplit(next, '|')) {
          size_t unused = 0;
          const Match m = alt.empty() ? Match::kNo : MatchAt(e2, alt, &unused);
          if (m == Match::kFull ||
              (m == Match::kPartial && next_match == Match::kNo)) {
            next_match = m;
          }
        }
        if (next_match == Match::kFull) {
          end = e2;
          continue;
        }
        if (!final_ && (e2 == s.size() || next_match == Match::kPartial)) {
          return More("text ends in a number");
        }
      } else if (end == s.size() && !final_) {
        return More("text ends in a number");
      }
      break;
    }
    absl::string_view digits(s.data() + pos_, end - pos_);
    ParsedInt parsed = ParseDecimal(digits);
    if (!parsed.value.has_value()) {
      return Fail(absl::StrCat(parsed.error.Message(), ": ",
                               digits.substr(0, 32),
                               digits.size() > 32 ? "..." : ""));
    }
    *value = *parsed.value;
    pos_ = end;
    return Step::kOk;
  }

  // Text up to (not including) `lit`, which is consumed too.
  Step Until(absl::string_view lit, size_t max_len, std::string* out) {
    const std::string& s = t_.s;
    bool partial = false;
    for (size_t f = pos_; f < s.size() && f - pos_ <= max_len; ++f) {
      size_t end = 0;
      Match m = MatchAt(f, lit, &end);
      if (m == Match::kFull) {
        out->assign(s, pos_, f - pos_);
        pos_ = end;
        return Step::kOk;
      }
      if (m == Match::kPartial) partial = true;
    }
    if (!final_ && (partial || s.size() - pos_ <= max_len)) {
      return More(absl::StrCat("text ends before '", lit, "'"));
    }
    return Fail(absl::StrCat("expected '", lit, "'"));
  }

  // Upper-case enum word such as BF16 or F8E4M3FN.
  Step EnumWord(std::string* out) {
    size_t e = pos_;
    const std::string& s = t_.s;
    while (e < s.size() && e - pos_ < 64 &&
           ((s[e] >= 'A' && s[e] <= 'Z') || IsDigit(s[e]) || s[e] == '_')) {
      ++e;
    }
    if (e == pos_) {
      return pos_ == s.size() ? More("text ends before an element type")
                              : Fail("expected an element type");
    }
    if (e == s.size() && !final_) return More("text ends in an element type");
    out->assign(s, pos_, e - pos_);
    pos_ = e;
    return Step::kOk;
  }

  // Balanced bracket group starting at pos_ (which must hold `open`).
  Step Balanced(std::string* out) {
    const std::string& s = t_.s;
    int depth = 0;
    for (size_t e = pos_; e < s.size(); ++e) {
      char c = s[e];
      if (c == '(' || c == '[' || c == '{') ++depth;
      if (c == ')' || c == ']' || c == '}') {
        if (--depth == 0) {
          out->assign(s, pos_, e + 1 - pos_);
          pos_ = e + 1;
          return Step::kOk;
        }
        if (depth < 0) return Fail("unbalanced brackets");
      }
      if (e - pos_ > (1u << 20)) return Fail("shape too long");
    }
    return More("text ends inside brackets");
  }

  // A shape's text by its bracket structure; checked later by the parser.
  Step ShapeText(std::string* out) {
    const std::string& s = t_.s;
    if (pos_ >= s.size()) return More("text ends before a shape");
    if (s[pos_] == '(') return Balanced(out);
    size_t start = pos_;
    size_t e = pos_;
    while (e < s.size() &&
           (absl::ascii_islower(static_cast<unsigned char>(s[e])) ||
            IsDigit(s[e]))) {
      ++e;
    }
    if (e == s.size()) return More("text ends in a shape");
    if (e == start) return Fail("expected a shape");
    if (s.compare(start, e - start, "b") == 0 && s[e] == '(') {
      pos_ = e;
      std::string inner;
      Step r = Balanced(&inner);
      if (r != Step::kOk) return r;
      out->assign(s, start, pos_ - start);
      return Step::kOk;
    }
    if (s[e] != '[') return Fail("expected '[' in a shape");
    size_t close = s.find(']', e);
    if (close == std::string::npos) return More("text ends in a shape");
    if (close - e > 4096) return Fail("shape dimensions too long");
    pos_ = close + 1;
    if (pos_ == s.size()) {
      if (!final_) return More("text ends after a shape");
    } else if (s[pos_] == '{') {
      if (pos_ + 1 == s.size()) {
        return More("text ends in a layout");
      } else if (IsDigit(s[pos_ + 1]) || s[pos_ + 1] == ':') {
        std::string layout;
        Step r = Balanced(&layout);
        if (r != Step::kOk) return r;
      }
    }
    out->assign(s, start, pos_ - start);
    return Step::kOk;
  }

  // A ShapeProto in text format (TensorFlow's TPUExecute message, XLA's
  // layout validation), up to the first token that is none of its fields.
  Step ProtoShape(std::string* out) {
    const std::string& s = t_.s;
    if (pos_ >= s.size()) return More("text ends before a ShapeProto");
    ShapeProtoRead r = ReadShapeProtoText(absl::string_view(s).substr(pos_));
    if (r.at_end && !final_) return More("text ends in a ShapeProto");
    if (!r.status.ok()) {
      return Fail(
          absl::StrCat("expected a ShapeProto (", r.status.message(), ")"));
    }
    out->assign(s, pos_, r.end);
    pos_ += r.end;
    return Step::kOk;
  }

  // A Python repr as JAX prints layouts and shardings: `AUTO`, `None`, or a
  // name such as `Layout`, `DeviceLocalLayout.AUTO` or `NamedSharding`
  // followed by its balanced argument list.
  Step PyRepr(std::string* out) {
    const std::string& s = t_.s;
    for (absl::string_view word :
         {"Layout.AUTO", "DeviceLocalLayout.AUTO", "AUTO", "None"}) {
      size_t end = 0;
      Match m = MatchAt(pos_, word, &end);
      if (m == Match::kPartial) return More("text ends in a repr");
      if (m == Match::kFull && (end == s.size() || s[end] != '(')) {
        out->assign(word.data(), word.size());
        pos_ = end;
        return Step::kOk;
      }
    }
    size_t e = pos_;
    while (e < s.size() && e - pos_ < 128 &&
           (absl::ascii_isalnum(static_cast<unsigned char>(s[e])) ||
            s[e] == '_' || s[e] == '.')) {
      ++e;
    }
    if (e == s.size()) return More("text ends in a repr");
    if (e == pos_ || s[e] != '(') return Fail("expected a layout or sharding");
    const size_t start = pos_;
    pos_ = e;
    std::string args;
    Step r = Balanced(&args);
    if (r != Step::kOk) {
      pos_ = start;
      return r;
    }
    out->assign(s, start, pos_ - start);
    return Step::kOk;
  }

  // A JAX aval as str_short() prints it: `float32[8,128]`, `bfloat16[]`.
  Step JaxAval(std::string* out) {
    const std::string& s = t_.s;
    size_t e = pos_;
    if (e < s.size() && s[e] == '~') ++e;  // Weakly typed.
    while (e < s.size() && e - pos_ < 32 &&
           (absl::ascii_islower(static_cast<unsigned char>(s[e])) ||
            IsDigit(s[e]) || s[e] == '_')) {
      ++e;
    }
    if (e == s.size()) return More("text ends in a shape");
    if (e == pos_ || s[e] != '[') return Fail("expected a JAX shape");
    size_t close = s.find(']', e);
    if (close == std::string::npos) return More("text ends in a shape");
    if (close - e > 1024) return Fail("shape dimensions too long");
    out->assign(s, pos_, close + 1 - pos_);
    pos_ = close + 1;
    return Step::kOk;
  }

  // Tries an optional part; restores the position unless it matched.
  // kMore is returned only when more text could decide it.
  template <typename F>
  Step Optional(F f, bool* matched) {
    size_t saved = pos_;
    Step r = f();
    *matched = r == Step::kOk;
    if (r == Step::kOk) return r;
    pos_ = saved;
    if (r == Step::kMore && !final_) return Step::kMore;
    return Step::kOk;
  }

 private:
  Step Fail(std::string why) {
    reason_ = std::move(why);
    return Step::kFail;
  }
  Step More(std::string why) {
    reason_ = std::move(why);
    return final_ ? Step::kFail : Step::kMore;
  }

  // Compares `lit` (its spaces skipped) with the text at `pos`; kPartial when
  // the text ends while it still matches. *end: the position after it.
  Match MatchAt(size_t pos, absl::string_view lit, size_t* end) const {
    const std::string& s = t_.s;
    size_t i = pos;
    for (char c : lit) {
      if (c == ' ') continue;
      if (i >= s.size()) return Match::kPartial;
      if (s[i] != c) return Match::kNo;
      ++i;
    }
    *end = i;
    return Match::kFull;
  }

  const NormText& t_;
  bool final_;
  size_t pos_ = 0;
  std::string reason_;
};

// What may follow a number that ends a message: the docs-link line or the
// replica/partition suffix (a number wrapped there is joined).
constexpr absl::string_view kTrailerStart =
    ": while running replica|See https://openxla.org";

#define STEP(expr)                        \
  do {                                    \
    Step step_ = (expr);                  \
    if (step_ != Step::kOk) return step_; \
  } while (false)

// The named forms: "Executable(NAME)" then the specific wording.
Step ParseNamed(MessageParser& p, const NormText& t, ScannedMessage* m) {
  STEP(p.Lit("Executable("));
  // The name ends at the ")" that the message wording follows.
  size_t begin = p.pos();
  size_t best = std::string::npos;
  for (absl::string_view next :
       {absl::string_view(")expectedparameter"),
        absl::string_view(")gotaparameterbufferforparameter")}) {
    size_t f = t.s.find(next.data(), begin, next.size());
    if (f != std::string::npos && f - begin <= 4096) best = std::min(best, f);
  }
  if (best == std::string::npos) {
    std::string dummy;
    STEP(
        p.Until(") expected parameter", 4096, &dummy));  // Reports kMore/kFail.
    return Step::kFail;
  }
  m->program.assign(t.s, begin, best - begin);
  p.set_pos(best + 1);
  int64_t n = 0;
  bool matched = false;
  STEP(p.Optional([&] { return p.Lit("got a parameter buffer for parameter"); },
                  &matched));
  if (matched) {
    m->kind = MessageKind::kMemorySpace;
    STEP(p.Int(&n, "in an unexpected memory space"));
    m->parameter = n;
    STEP(p.Lit("in an unexpected memory space '"));
    STEP(p.Until("'", 256, &m->actual_value));
    return Step::kOk;
  }
  STEP(p.Lit("expected parameter"));
  STEP(p.Int(&n, "of size|as|to have|dimension"));
  m->parameter = n;
  // Which wording follows the parameter number.
  STEP(p.Optional([&] { return p.Lit("of size"); }, &matched));
  if (matched) {
    m->kind = MessageKind::kSize;
    // A size is kept once the "(" after it is read: a message cut inside
    // a number (see ParseAt) must not show part of it as the size.
    int64_t bytes = 0;
    STEP(p.Int(&bytes, "("));
    STEP(p.Lit("("));
    m->expected_bytes = bytes;
    std::string shape;  // Likewise a shape once its ")" is read.
    STEP(p.ShapeText(&shape));
    if (p.pos() < t.s.size() && t.s[p.pos()] == ')') {
      m->expected_shape = std::move(shape);
    }
    STEP(p.Lit(") but got buffer with incompatible size"));
    STEP(p.Int(&bytes, "("));
    STEP(p.Lit("("));
    m->actual_bytes = bytes;
    STEP(p.ShapeText(&shape));
    STEP(p.Lit(")"));
    m->actual_shape = std::move(shape);
    return Step::kOk;
  }
  // The runtime guard's strict-mode finding (not an XLA message):
  // "expected parameter N as SHAPE but got buffer SHAPE with the same size X
  // and a different shape or physical layout (strict layout check)".
  STEP(p.Optional([&] { return p.Lit("as"); }, &matched));
  if (matched) {
    m->kind = MessageKind::kStrictLayout;
    STEP(p.ShapeText(&m->expected_shape));
    STEP(p.Lit("but got buffer"));
    STEP(p.ShapeText(&m->actual_shape));
    STEP(p.Lit("with the same size"));
    int64_t bytes = 0;
    STEP(p.Int(&bytes, "and"));
    m->expected_bytes = m->actual_bytes = bytes;
    bool rest = false;
    return p.Optional(
        [&] {
          return p.Lit(
              "and a different shape or physical layout (strict layout check)");
        },
        &rest);
  }
  STEP(p.Optional([&] { return p.Lit("to have element type"); }, &matched));
  if (matched) {
    m->kind = MessageKind::kElementType;
    STEP(p.Until("but got buffer with element type", 64, &m->expected_value));
    STEP(p.EnumWord(&m->actual_value));
    return Step::kOk;
  }
  STEP(p.Optional([&] { return p.Lit("to have rank"); }, &matched));
  if (matched) {
    m->kind = MessageKind::kRank;
    int64_t r = 0;
    STEP(p.Int(&r, "but got buffer with rank"));
    m->expected_value = absl::StrCat(r);
    STEP(p.Lit("but got buffer with rank"));
    STEP(p.Int(&r, kTrailerStart));
    m->actual_value = absl::StrCat(r);
    return Step::kOk;
  }
  STEP(p.Optional([&] { return p.Lit("to have layout"); }, &matched));
  if (matched) {
    m->kind = MessageKind::kLayout;
    STEP(p.Until("but got buffer with layout", 4096, &m->expected_value));
    STEP(p.Balanced(&m->actual_value));
    return Step::kOk;
  }
  STEP(p.Lit("dimension"));
  m->kind = MessageKind::kDynamicDimension;
  STEP(p.Int(&n, "runtime size"));
  m->dimension = n;
  STEP(p.Lit("runtime size <="));
  STEP(p.Int(&n, ", but got"));
  m->expected_value = absl::StrCat(n);
  STEP(p.Lit(", but got buffer with size"));
  STEP(p.Int(&n, kTrailerStart));
  m->actual_value = absl::StrCat(n);
  return Step::kOk;
}

Step ParseShortOrOld(MessageParser& p, ScannedMessage* m) {
  STEP(p.Lit("Executable"));
  bool matched = false;
  int64_t n = 0;
  STEP(p.Optional([&] { return p.Lit("expected shape"); }, &matched));
  if (matched) {
    m->kind = MessageKind::kIncompatibleShape;
    STEP(p.ShapeText(&m->expected_shape));
    STEP(p.Lit("for argument"));
    STEP(p.Int(&n, "but got"));
    m->parameter = n;
    STEP(p.Lit("but got incompatible shape"));
    STEP(p.ShapeText(&m->actual_shape));
    return Step::kOk;
  }
  STEP(p.Lit("expected parameter"));
  m->kind = MessageKind::kSizeNoShapes;
  STEP(p.Int(&n, "of size"));
  m->parameter = n;
  STEP(p.Lit("of size"));
  STEP(p.Int(&n, "but got"));
  m->expected_bytes = n;
  STEP(p.Lit("butgotbufferwithincompatiblesize"));
  STEP(p.Int(&n, kTrailerStart));
  m->actual_bytes = n;
  return Step::kOk;
}

Step ParseHostShape(MessageParser& p, ScannedMessage* m) {
  STEP(p.Lit(
      "Argument does not match host shape or layout of computation parameter"));
  m->kind = MessageKind::kHostShape;
  int64_t n = 0;
  STEP(p.Int(&n, ": want"));
  m->parameter = n;
  STEP(p.Lit(": want"));
  STEP(p.ShapeText(&m->expected_shape));
  STEP(p.Lit(", got"));
  STEP(p.ShapeText(&m->actual_shape));
  return Step::kOk;
}

// TensorFlow: "Run-time shape mismatch for TPUExecute argument[N] (NAME).
// Expected <ShapeProto>; got <ShapeProto>" (or "; got empty tensor. ...").
Step ParseTpuExecute(MessageParser& p, ScannedMessage* m) {
  STEP(p.Lit("Run-time shape mismatch for TPUExecute argument["));
  m->kind = MessageKind::kTpuExecute;
  int64_t n = 0;
  STEP(p.Int(&n, "]"));
  m->parameter = n;
  STEP(p.Lit("] ("));
  STEP(p.Until("). Expected", 4096, &m->parameter_name));
  STEP(p.ProtoShape(&m->expected_shape));
  STEP(p.Lit("; got"));
  bool empty = false;
  STEP(p.Optional([&] { return p.Lit("empty tensor"); }, &empty));
  if (!empty) return p.ProtoShape(&m->actual_shape);
  m->actual_value = "empty tensor";
  bool hint = false;
  std::string unused;
  return p.Optional(
      [&] {
        STEP(p.Lit(". If you are running with TF2 TPU"));
        return p.Until("size can be handled", 512, &unused);
      },
      &hint);
}

// One argument of JAX's layout check: "Argument NAME with shape AVAL:"
// then "Passed layout: L" / "Required layout: L" (or the sharding pair,
// which is not a layout mismatch and is skipped). *is_layout tells which.
Step ParseJaxArgument(MessageParser& p, ScannedMessage* m, bool* is_layout) {
  STEP(p.Lit("Argument"));
  STEP(p.Until("with shape", 4096, &m->parameter_name));
  STEP(p.JaxAval(&m->expected_shape));
  m->actual_shape = m->expected_shape;
  STEP(p.Lit(":"));
  STEP(p.Optional([&] { return p.Lit("Passed layout:"); }, is_layout));
  if (*is_layout) {
    m->kind = MessageKind::kJaxLayout;
    STEP(p.PyRepr(&m->actual_value));
    STEP(p.Lit("Required layout:"));
    return p.PyRepr(&m->expected_value);
  }
  std::string sharding;
  STEP(p.Lit("Passed sharding:"));
  STEP(p.PyRepr(&sharding));
  STEP(p.Lit("Required sharding:"));
  return p.PyRepr(&sharding);
}

// JAX's pre-dispatch check: "Computation was compiled for input layouts
// that disagree with the layouts of arguments passed to it. Here are the N
// mismatches:" then one block per argument. Each layout block is a message.
Step ParseJaxCheck(MessageParser& p, std::vector<ScannedMessage>* out,
                   std::vector<std::pair<size_t, size_t>>* spans) {
  STEP(p.Lit("Computation was compiled for input"));
  std::string unused;
  STEP(p.Until("that disagree with the", 64, &unused));
  STEP(p.Until("of arguments passed to it", 64, &unused));
  bool matched = false;
  STEP(p.Optional(
      [&] {
        STEP(p.Lit(". Here are"));
        return p.Until(":", 64, &unused);
      },
      &matched));
  for (int blocks = 0; blocks < 1024; ++blocks) {
    const size_t start = p.pos();
    ScannedMessage m;
    bool is_layout = false;
    STEP(p.Optional([&] { return ParseJaxArgument(p, &m, &is_layout); },
                    &matched));
    if (!matched) break;
    if (is_layout) {
      out->push_back(std::move(m));
      spans->emplace_back(start, p.pos());
    }
  }
  return Step::kOk;
}

// Older JAX, one line per argument: "Got input layout(s) that compiled
// object was called with: L and layout(s) the computation was compiled
// with: L for arg NAME with shape: AVAL".
Step ParseJaxOld(MessageParser& p, ScannedMessage* m) {
  STEP(p.Lit("Got input layout(s) that compiled object was called with:"));
  m->kind = MessageKind::kJaxLayout;
  STEP(p.PyRepr(&m->actual_value));
  STEP(p.Lit("and layout(s) the computation was compiled with:"));
  STEP(p.PyRepr(&m->expected_value));
  STEP(p.Lit("for arg"));
  STEP(p.Until("with shape:", 4096, &m->parameter_name));
  STEP(p.JaxAval(&m->expected_shape));
  m->actual_shape = m->expected_shape;
  return Step::kOk;
}

// PJRT: "Invalid buffer passed to Execute() as argument N to replica R:
// INVALID_ARGUMENT: Buffer has been deleted or donated."; the TFRT CPU
// client's "Invalid buffer passed: buffer has been deleted or donated.".
Step ParseInvalidBuffer(MessageParser& p, ScannedMessage* m) {
  STEP(p.Lit("Invalid buffer passed"));
  m->kind = MessageKind::kInvalidBuffer;
  bool matched = false;
  int64_t n = 0;
  STEP(p.Optional([&] { return p.Lit("to Execute()"); }, &matched));
  STEP(p.Optional(
      [&] {
        STEP(p.Lit("as argument"));
        return p.Int(&n, "to replica|:");
      },
      &matched));
  if (matched) m->parameter = n;
  STEP(p.Optional(
      [&] {
        STEP(p.Lit("to replica"));
        return p.Int(&n, ":");
      },
      &matched));
  if (matched) m->replica = n;
  STEP(p.Lit(":"));
  std::string before;
  STEP(p.Optional([&] { return p.Until("deleted or donated", 200, &before); },
                  &matched));
  if (matched) {
    m->actual_value = "deleted or donated";
    STEP(p.Optional([&] { return p.Lit("."); }, &matched));
  }
  return Step::kOk;
}

// JAX: "Array has been deleted with shape=float32[10]."
Step ParseDeletedArray(MessageParser& p, ScannedMessage* m) {
  STEP(p.Lit("Array has been deleted with shape="));
  m->kind = MessageKind::kInvalidBuffer;
  m->actual_value = "deleted";
  STEP(p.JaxAval(&m->actual_shape));
  bool dot = false;
  return p.Optional([&] { return p.Lit("."); }, &dot);
}

// XLA's layout validation: "layout minor_to_major field contains N
// elements, but shape is rank R: {...}; shape: <ShapeProto>" (newer XLA:
// "but shape has R dimensions: {...}; shape: <shape>").
Step ParseMalformedLayout(MessageParser& p, ScannedMessage* m) {
  STEP(p.Lit("layout minor_to_major field contains"));
  m->kind = MessageKind::kMalformedLayout;
  int64_t count = 0, rank = 0;
  STEP(p.Int(&count, "elements"));
  STEP(p.Lit("elements, but shape"));
  bool is_rank = false;
  STEP(p.Optional([&] { return p.Lit("is rank"); }, &is_rank));
  if (!is_rank) STEP(p.Lit("has"));
  STEP(p.Int(&rank, is_rank ? ":" : "dimensions"));
  if (!is_rank) STEP(p.Lit("dimensions"));
  m->expected_value = absl::StrCat(rank);
  STEP(p.Lit(":"));
  STEP(p.Balanced(&m->actual_value));
  STEP(p.Lit("; shape:"));
  bool proto = false;
  std::string shape;
  STEP(p.Optional([&] { return p.ProtoShape(&shape); }, &proto));
  if (proto) {
    m->actual_shape = std::move(shape);
    return Step::kOk;
  }
  return p.ShapeText(&m->actual_shape);
}

// A layout printed on its own, `{1,0:T(8,128)S(1)}`, possibly in
// parentheses: `({0:T(128)S(1)})`.
Step StandaloneLayout(MessageParser& p, const NormText& t, std::string* out) {
  if (p.pos() >= t.s.size()) return p.Lit("{");  // kMore or kFail.
  if (t.s[p.pos()] == '(') {
    std::string paren;
    STEP(p.Balanced(&paren));
    if (paren.size() < 4 || paren[1] != '{' || paren[paren.size() - 2] != '}') {
      return p.Lit("{");  // Fails with "expected '{'".
    }
    out->assign(paren, 1, paren.size() - 2);
    return Step::kOk;
  }
  if (t.s[p.pos()] != '{') return p.Lit("{");
  return p.Balanced(out);
}

// Mosaic (Pallas TPU): "Failed to verify layout for Mosaic kernel operand
// N: XLA layout ({0:S(1)}) does not match Mosaic layout ({0:T(128)S(1)})
// for an operand of shape s32[0]." Older: "...operand N: XLA layout does
// not match MLIR layout for an operand of shape f32[16,3072]: expected
// {1,0:T(128)S(1)}, got {1,0:T(8,128)S(1)}". The kernel's layout is the
// expected side, XLA's the actual one.
Step ParseMosaic(MessageParser& p, const NormText& t, ScannedMessage* m) {
  STEP(p.Lit("Failed to verify layout for Mosaic kernel operand"));
  m->kind = MessageKind::kMosaicLayout;
  int64_t n = 0;
  STEP(p.Int(&n, ":"));
  m->parameter = n;
  STEP(p.Lit(": XLA layout"));
  bool old = false;
  STEP(p.Optional(
      [&] {
        return p.Lit("does not match MLIR layout for an operand of shape");
      },
      &old));
  if (old) {
    STEP(p.ShapeText(&m->expected_shape));
    m->actual_shape = m->expected_shape;
    STEP(p.Lit(": expected"));
    STEP(StandaloneLayout(p, t, &m->expected_value));
    STEP(p.Lit(", got"));
    return StandaloneLayout(p, t, &m->actual_value);
  }
  STEP(StandaloneLayout(p, t, &m->actual_value));
  STEP(p.Lit("does not match Mosaic layout"));
  STEP(StandaloneLayout(p, t, &m->expected_value));
  STEP(p.Lit("for an operand of shape"));
  STEP(p.ShapeText(&m->expected_shape));
  m->actual_shape = m->expected_shape;
  bool dot = false;
  return p.Optional([&] { return p.Lit("."); }, &dot);
}

Step ParseBufferCount(MessageParser& p, ScannedMessage* m) {
  STEP(p.Lit("Execution supplied"));
  m->kind = MessageKind::kBufferCount;
  int64_t n = 0;
  STEP(p.Int(&n, "buffers"));
  m->actual_value = absl::StrCat(n);
  STEP(p.Lit("buffers but compiled program expected"));
  STEP(p.Int(&n, "buffers"));
  m->expected_value = absl::StrCat(n);
  STEP(p.Lit("buffers"));
  return Step::kOk;
}

// The E0102 docs-link line and XLA's replica/partition suffix, both optional.
Step ParseTrailer(MessageParser& p, ScannedMessage* m) {
  bool matched = false;
  STEP(p.Optional(
      [&] {
        STEP(p.Lit("See https://openxla.org/xla/errors/error_0102"));
        return p.Lit("for more details.");
      },
      &matched));
  if (matched) m->error_code = true;
  int64_t replica = 0, partition = 0;
  bool has_partition = false;
  STEP(p.Optional(
      [&] {
        bool colon = false;
        STEP(p.Optional([&] { return p.Lit(":"); }, &colon));
        STEP(p.Lit("while running replica"));
        STEP(p.Int(&replica, "and partition"));
        bool part = false;
        STEP(p.Optional(
            [&] {
              STEP(p.Lit("and partition"));
              return p.Int(&partition, "of a");
            },
            &part));
        has_partition = part;
        STEP(p.Lit("of a"));
        STEP(p.Lit("replicated computation"));
        bool rest = false;
        return p.Optional(
            [&] { return p.Lit("(other replicas may have failed as well)."); },
            &rest);
      },
      &matched));
  if (matched) {
    m->replica = replica;
    if (has_partition) m->partition = partition;
  }
  return Step::kOk;
}

#undef STEP

// Message-start keywords in normalised text.
constexpr std::array<absl::string_view, 10> kStarts = {
    "Executable",
    "Argumentdoesnotmatchhostshape",
    "Executionsupplied",
    "Run-timeshapemismatchforTPUExecuteargument[",
    "Computationwascompiledforinput",
    "Gotinputlayout(s)thatcompiledobjectwascalledwith",
    "Invalidbufferpassed",
    "Arrayhasbeendeletedwithshape=",
    "layoutminor_to_majorfieldcontains",
    "FailedtoverifylayoutforMosaickerneloperand",
};

// The nearest message-start keyword at or before `from` (forward: the first
// at or after it) in normalised text; npos if none. One pass, checking the
// keywords only where one of their first characters stands.
size_t FindStartKeyword(const std::string& s, size_t from, bool forward) {
  static const std::array<bool, 256> first = [] {
    std::array<bool, 256> f{};
    for (absl::string_view kw : kStarts) {
      f[static_cast<unsigned char>(kw[0])] = true;
    }
    return f;
  }();
  auto at = [&](size_t i) {
    if (!first[static_cast<unsigned char>(s[i])]) return false;
    for (absl::string_view kw : kStarts) {
      if (s.compare(i, kw.size(), kw.data(), kw.size()) == 0) return true;
    }
    return false;
  };
  if (s.empty()) return std::string::npos;
  if (forward) {
    for (size_t i = from; i < s.size(); ++i) {
      if (at(i)) return i;
    }
    return std::string::npos;
  }
  for (size_t i = std::min(from, s.size() - 1) + 1; i-- > 0;) {
    if (at(i)) return i;
  }
  return std::string::npos;
}

// Parses the message at `start`: usually one message, but JAX's layout check
// lists several arguments (one message each, `spans` their normalised
// [begin, end)); it may also list none that is a layout mismatch.
Step ParseAt(const NormText& t, size_t start, bool final,
             std::vector<ScannedMessage>* out,
             std::vector<std::pair<size_t, size_t>>* spans, size_t* end,
             std::string* reason) {
  MessageParser p(t, final);
  p.set_pos(start);
  out->clear();
  spans->clear();
  Step r;
  absl::string_view rest(t.s.data() + start, t.s.size() - start);
  if (absl::StartsWith(rest, "Computation")) {
    r = ParseJaxCheck(p, out, spans);
    if (r != Step::kOk) {
      *reason = p.reason();
      return r;
    }
    *end = p.pos();
    return Step::kOk;
  }
  ScannedMessage m;
  if (absl::StartsWith(rest, "Executable(")) {
    r = ParseNamed(p, t, &m);
  } else if (absl::StartsWith(rest, "Executable")) {
    r = ParseShortOrOld(p, &m);
  } else if (absl::StartsWith(rest, "Argument")) {
    r = ParseHostShape(p, &m);
  } else if (absl::StartsWith(rest, "Run-time")) {
    r = ParseTpuExecute(p, &m);
  } else if (absl::StartsWith(rest, "Got")) {
    r = ParseJaxOld(p, &m);
  } else if (absl::StartsWith(rest, "Invalid")) {
    r = ParseInvalidBuffer(p, &m);
  } else if (absl::StartsWith(rest, "Array")) {
    r = ParseDeletedArray(p, &m);
  } else if (absl::StartsWith(rest, "layout")) {
    r = ParseMalformedLayout(p, &m);
  } else if (absl::StartsWith(rest, "Failed")) {
    r = ParseMosaic(p, t, &m);
  } else {
    r = ParseBufferCount(p, &m);
  }
  if (r == Step::kOk) {
    const std::optional<int64_t> replica = m.replica;
    r = ParseTrailer(p, &m);
    if (!m.replica) m.replica = replica;
  }
  if (r != Step::kOk) {
    *reason = p.reason();
    // A size message cut after its expected size: what was read, for the
    // caller to report when the input ended there.
    if (m.kind == MessageKind::kSize && m.expected_bytes.has_value() &&
        absl::StartsWith(*reason, "text ends")) {
      out->push_back(std::move(m));
      spans->emplace_back(start, t.s.size());
    }
    return r;
  }
  *end = p.pos();
  absl::string_view before(t.s.data(), start);
  if (absl::EndsWith(before, "RuntimeProgramInputMismatch:")) {
    m.error_code = true;
  }
  out->push_back(std::move(m));
  spans->emplace_back(start, *end);
  return Step::kOk;
}

}  // namespace

// ---------------------------------------------------------------------------
// The streaming driver.

struct LogScanner::Impl {
  static constexpr int kMaxLinesBack = 8;
  // Lines of any writer looked at while going kMaxLinesBack lines back.
  static constexpr int kMaxRawLinesBack = 64;
  static constexpr size_t kMaxWriters = 256;
  static constexpr int kMaxLinesForward = 256;
  // Bytes of a long line read at a time (see add_lines in HandleAnchor).
  static constexpr size_t kLinePiece = 1024;
  // Bytes of a line that can hold its prefix (see WriterOf).
  static constexpr size_t kPrefixBytes = 4096;

  MessageFn on_message;
  UnparsedFn on_unparsed;
  ScanOptions options;

  std::unique_ptr<char[]> buf;
  size_t cap = 0;
  size_t len = 0;
  int64_t base = 0;          // Input offset of buf[0].
  size_t search_pos = 0;     // Where the anchor search resumes.
  int64_t consumed = 0;      // Input offset before which all is handled.
  int64_t line_pos = 0;      // Input offset up to which newlines are counted.
  int64_t lines_before = 0;  // Newlines before line_pos.
  int64_t total = 0;
  int64_t found = 0;
  int64_t unparsed = 0;
  // Per writer (glog thread, host tag): input offset before which that
  // writer's lines are handled; see MarkDone.
  std::vector<std::pair<std::string, int64_t>> writer_done;

  size_t carry_limit() const {
    return options.max_back_bytes + options.max_forward_bytes +
           Anchors().max_len();
  }

  void Reserve(size_t more) {
    if (len + more <= cap) return;
    size_t new_cap = std::max(cap * 2, len + more);
    // Uninitialised on purpose: every byte is written before it is read.
    std::unique_ptr<char[]> nb(new char[new_cap]);
    if (len > 0) std::memcpy(nb.get(), buf.get(), len);
    buf = std::move(nb);
    cap = new_cap;
  }

  int64_t LineOf(int64_t offset) {
    if (offset > line_pos) {
      lines_before += explain_internal::CountNewlinesFast(
          buf.get() + (line_pos - base),
          static_cast<size_t>(offset - line_pos));
      line_pos = offset;
    }
    return lines_before + 1;
  }

  size_t LineStart(size_t i, size_t floor) const {
    const char* b = buf.get();
    while (i > floor && b[i - 1] != '\n') --i;
    return i;
  }
  size_t LineEnd(size_t i, size_t limit) const {
    const void* nl = std::memchr(buf.get() + i, '\n', limit - i);
    return nl == nullptr
               ? limit
               : static_cast<size_t>(static_cast<const char*>(nl) - buf.get());
  }

  std::string Excerpt(size_t line_start, size_t limit) const {
    size_t e = LineEnd(line_start, limit);
    // Control characters stay: the command prints them escaped (`\x1b`).
    if (e > line_start && buf[e - 1] == '\r') --e;
    return std::string(buf.get() + line_start,
                       std::min<size_t>(e - line_start, 200));
  }

  // One line, whitespace collapsed, escape sequences and prefixes of
  // continuation lines removed, lines of writers other than `ref` left out.
  std::string MessageText(size_t begin, size_t end, const std::string& ref,
                          bool strip_escapes) const {
    std::string out;
    bool space = false;
    size_t i = begin;
    bool first = true;
    std::string line;
    std::vector<uint32_t> map;
    while (i < end && out.size() < 4096) {
      size_t le = LineEnd(i, end);
      const absl::string_view raw_line(buf.get() + i, le - i);
      explain_internal::StripEscapes(raw_line, &line, &map);
      size_t skip = 0;
      if (!first) {
        const PrefixInfo prefix = ReadPrefix(line);
        if (!SameWriter(ref, prefix.writer)) {
          i = le + 1;
          continue;
        }
        skip = prefix.length;
      }
      if (!strip_escapes) {
        skip = skip < map.size() ? map[skip] : raw_line.size();
        line.assign(raw_line.data(), raw_line.size());
      }
      for (size_t k = skip; k < line.size() && out.size() < 4096; ++k) {
        char c = line[k];
        if (IsSpace(c) || static_cast<unsigned char>(c) < 0x20) {
          space = !out.empty();
          continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(c);
      }
      space = !out.empty();
      first = false;
      i = le + 1;
    }
    return out;
  }

  // The writer that the prefix of the line starting at `line_start` names.
  // Only the line's first kPrefixBytes bytes are read: a prefix is far
  // shorter (at most 8 parts of at most a few hundred bytes), and a long
  // line holding many anchors is not copied whole for each of them.
  std::string WriterOf(size_t line_start, size_t limit) const {
    std::string clean;
    std::vector<uint32_t> map;
    const size_t end =
        LineEnd(line_start, std::min(limit, line_start + kPrefixBytes));
    explain_internal::StripEscapes(
        absl::string_view(buf.get() + line_start, end - line_start), &clean,
        &map);
    return ReadPrefix(clean).writer;
  }

  // Input offset before which `writer`'s lines are handled (0 if none).
  int64_t WriterDone(const std::string& writer) const {
    for (const auto& [w, off] : writer_done) {
      if (w == writer) return off;
    }
    return 0;
  }

  // Marks `writer`'s lines before input offset `off` as handled. For a
  // writer-less anchor (no writer in its line's prefix) every line counts,
  // so the shared watermark moves.
  void MarkDone(const std::string& writer, int64_t off) {
    if (writer.empty()) {
      consumed = std::max(consumed, off);
      return;
    }
    for (auto& [w, o] : writer_done) {
      if (w == writer) {
        o = std::max(o, off);
        return;
      }
    }
    // Bounded: entries no anchor can need any more (behind what the buffer
    // holds) are dropped first, else the oldest.
    std::erase_if(writer_done, [&](const auto& e) { return e.second <= base; });
    if (writer_done.size() >= kMaxWriters) {
      writer_done.erase(std::min_element(
          writer_done.begin(), writer_done.end(),
          [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
    writer_done.emplace_back(writer, off);
  }

  // Handles the anchor at buffer offset p. Returns false if it must wait for
  // more input.
  bool HandleAnchor(size_t p, size_t which, bool eof) {
    const int64_t abs_p = base + static_cast<int64_t>(p);
    if (abs_p < consumed) return true;
    if (!eof && p + options.max_forward_bytes > len) return false;
    // Never look further back than max_back_bytes, whatever the buffer still
    // holds, so that results do not depend on how the input was fed.
    size_t floor = std::max<size_t>(
        static_cast<size_t>(std::max<int64_t>(consumed - base, 0)),
        p > options.max_back_bytes ? p - options.max_back_bytes : 0);
    // Past here the input ends (eof) or the message would be too long: the
    // text up to `limit` is all a parse can ever get.
    const size_t limit = std::min(len, p + options.max_forward_bytes);
    size_t anchor_line = LineStart(p, floor);
    // The writer of the anchor's line (a glog thread, a [host] tag): lines
    // of other writers, interleaved with the message's, are left out.
    const std::string ref = WriterOf(anchor_line, limit);
    // What this writer's earlier messages (and prose) used up: an anchor
    // inside it was read already, and its messages start after it. Other
    // writers' lines in between are theirs to read.
    if (!ref.empty()) {
      const int64_t done = WriterDone(ref);
      if (abs_p < done) return true;
      if (done > base) {
        floor = std::max(floor, static_cast<size_t>(done - base));
      }
    }
    // Up to kMaxLinesBack lines of this writer back (a message that other
    // writers' lines interleave spans more lines of the log).
    size_t ws = anchor_line;
    for (int k = 0, raw_lines = 0;
         k < kMaxLinesBack && raw_lines < kMaxRawLinesBack && ws > floor &&
         p - ws < options.max_back_bytes;
         ++raw_lines) {
      ws = LineStart(ws - 1, floor);
      if (ref.empty() || SameWriter(ref, WriterOf(ws, limit))) ++k;
    }
    if (p - ws > options.max_back_bytes) ws = anchor_line;
    // Read first with escape sequences kept (they may belong to a name).
    // If the window holds an ESC, read it once more without them (colour
    // codes around words, shapes and whole lines) and take that reading
    // when the first found no start keyword, failed, or read fewer
    // messages: a colour code may end the first reading early, e.g. the
    // reset at the end of each line of JAX's layout check ends its list of
    // arguments.
    struct Reading {
      NormText t;
      std::vector<size_t> skipped;  // Starts of the lines left out.
      size_t next = 0;
      size_t start = std::string::npos;
      std::vector<ScannedMessage> messages;
      std::vector<std::pair<size_t, size_t>> spans;
      size_t end = 0;
      std::string reason;
      bool ok = false;
    };
    auto read = [&](bool strip, Reading& r) {
      r.next = ws;
      // A long line is read in pieces of about kLinePiece bytes, cut at a
      // space, so that the text around each anchor in a line holding many
      // messages (a JSON record, a repr joined with \n escapes) is read
      // once per piece needed, not whole: the cost per message stays the
      // same however long the line is.
      bool skip_line = false;  // The line being read belongs to another writer.
      bool mid_line = false;   // r.next is inside a line, after a piece.
      auto add_lines = [&](int n) {
        for (int k = 0; k < n && r.next < limit; ++k) {
          const size_t le = LineEnd(r.next, limit);
          size_t pe = le;
          if (le - r.next > 2 * kLinePiece) {
            const void* sp = std::memchr(buf.get() + r.next + kLinePiece, ' ',
                                         le - r.next - kLinePiece);
            if (sp != nullptr) {
              pe =
                  static_cast<size_t>(static_cast<const char*>(sp) - buf.get());
            }
          }
          if (!mid_line) {
            skip_line = !r.t.AppendLine(buf.get(), r.next, pe, ref, strip);
            if (skip_line) r.skipped.push_back(r.next);
          } else if (!skip_line) {
            r.t.AppendLine(buf.get(), r.next, pe, ref, strip,
                           /*continuation=*/true);
          }
          mid_line = pe < le;
          r.next = mid_line ? pe : le + 1;
        }
        if (r.next > limit) r.next = limit;
      };
      // Lines up to and including the anchor's, then two more.
      while (r.next <= p && r.next < limit) add_lines(1);
      add_lines(2);
      const size_t anchor_norm =
          std::lower_bound(r.t.raw.begin(), r.t.raw.end(),
                           static_cast<uint32_t>(p)) -
          r.t.raw.begin();
      // The message start: the nearest start keyword before the anchor (or,
      // for the E0102 header line, the first one after it).
      r.start = FindStartKeyword(r.t.s, anchor_norm,
                                 which == kAnchorRuntimeProgramInputMismatch);
      if (r.start == std::string::npos) return;
      int lines_more = 4;
      while (true) {
        bool final = r.next >= limit;
        Step s = ParseAt(r.t, r.start, final, &r.messages, &r.spans, &r.end,
                         &r.reason);
        if (s == Step::kOk) {
          r.ok = true;
          return;
        }
        if (s == Step::kMore && r.next < limit &&
            lines_more <= kMaxLinesForward) {
          add_lines(lines_more);
          lines_more *= 2;
          continue;
        }
        return;
      }
    };
    const size_t anchor_line_end = LineEnd(p, limit);
    Reading kept;
    read(false, kept);
    Reading stripped;
    const Reading* r = &kept;
    bool strip = false;
    if (std::memchr(buf.get() + ws, '\x1b', kept.next - ws)) {
      read(true, stripped);
      if (stripped.start != std::string::npos &&
          (kept.start == std::string::npos || !kept.ok ||
           (stripped.ok && stripped.messages.size() > kept.messages.size()))) {
        r = &stripped;
        strip = true;
      }
    }
    if (r->start == std::string::npos) {
      // Prose that happens to contain an anchor phrase.
      MarkDone(ref, base + static_cast<int64_t>(anchor_line_end));
      return true;
    }
    const NormText& t = r->t;
    const size_t start = r->start;
    if (!r->ok) {
      // The input ended inside a size message after its expected size (a
      // log cut off mid-message): a finding with what was read, its text
      // marked " [truncated: REASON]" (the diagnosis says so), rather
      // than only a warning.
      if (eof && r->next >= len && !r->messages.empty()) {
        ScannedMessage m = r->messages.front();
        const size_t span_start = t.raw[r->spans.front().first];
        m.offset = base + static_cast<int64_t>(span_start);
        m.line = LineOf(m.offset);
        m.text = absl::StrCat(MessageText(span_start, len, ref, strip),
                              " [truncated: ", r->reason, "]");
        MarkDone(ref, base + static_cast<int64_t>(len));
        ++found;
        on_message(std::move(m));
        return true;
      }
      ++unparsed;
      if (on_unparsed) {
        UnparsedCandidate u;
        size_t start_raw = t.raw[start];
        u.offset = base + static_cast<int64_t>(start_raw);
        u.line = LineOf(u.offset);
        u.reason = r->reason.empty() ? "not a known message form" : r->reason;
        u.excerpt = Excerpt(LineStart(start_raw, floor), limit);
        on_unparsed(std::move(u));
      }
      MarkDone(ref, base + static_cast<int64_t>(anchor_line_end));
      return true;
    }
    const size_t end = r->end;
    size_t raw_end = end > start ? t.raw[end - 1] + 1 : t.raw[start];
    MarkDone(ref, base + static_cast<int64_t>(raw_end));
    // Lines of other writers inside the message are still to be scanned:
    // nothing past the first of them counts as handled.
    for (size_t s : r->skipped) {
      if (s > t.raw[start] && s < raw_end) {
        raw_end = s;
        break;
      }
    }
    consumed =
        std::max<int64_t>(consumed, base + static_cast<int64_t>(raw_end));
    for (size_t i = 0; i < r->messages.size(); ++i) {
      ScannedMessage m = r->messages[i];
      const size_t span_start = t.raw[r->spans[i].first];
      const size_t span_end = t.raw[r->spans[i].second - 1] + 1;
      m.offset = base + static_cast<int64_t>(span_start);
      m.line = LineOf(m.offset);
      m.text = MessageText(span_start, span_end, ref, strip);
      ++found;
      on_message(std::move(m));
    }
    return true;
  }

  void Process(bool eof) {
    const AnchorMatcher& anchors = Anchors();
    while (true) {
      size_t which = 0;
      size_t p = anchors.Find(buf.get(), search_pos, len, &which);
      if (p >= len) {
        // Nothing more here; resume where an anchor could still be cut off.
        size_t keep = anchors.max_len() - 1;
        search_pos = std::max(search_pos, len > keep ? len - keep : 0);
        break;
      }
      if (!HandleAnchor(p, which, eof)) {
        search_pos = p;
        break;
      }
      search_pos = p + 1;
    }
    Compact();
  }

  // Drops what no future anchor can need, once the free space would not
  // hold another chunk (so small reads from a pipe do not each move the
  // carry-over).
  void Compact() {
    if (cap - len >= std::max<size_t>(options.chunk_bytes, 4096)) return;
    int64_t keep_abs = base + static_cast<int64_t>(search_pos) -
                       static_cast<int64_t>(options.max_back_bytes);
    keep_abs = std::max(keep_abs, base);
    size_t drop = static_cast<size_t>(keep_abs - base);
    if (drop == 0) return;
    LineOf(keep_abs);  // Count newlines of the dropped part first.
    std::memmove(buf.get(), buf.get() + drop, len - drop);
    len -= drop;
    search_pos -= drop;
    base = keep_abs;
  }

  // The common case of a large piece without any anchor phrase: searched
  // where it is, and only its last bytes (the back context and where an
  // anchor could still start) are copied into the buffer. Returns false,
  // having copied nothing but possibly the first max_len - 1 bytes (then
  // `*copied` says how many), when the piece must take the normal path.
  bool FeedWithoutAnchor(absl::string_view piece, size_t* copied) {
    const AnchorMatcher& anchors = Anchors();
    const size_t keep = anchors.max_len() - 1;
    *copied = 0;
    const size_t tail = options.max_back_bytes + keep;
    if (piece.size() < std::max(size_t{64} << 10, 2 * tail)) return false;
    // A deferred anchor waits for more text: the normal path handles it.
    if (search_pos + keep < len) return false;
    // Anchors that start in the buffer and end in the piece.
    const size_t j = keep;
    Reserve(j);
    std::memcpy(buf.get() + len, piece.data(), j);
    len += j;
    total += j;
    *copied = j;
    size_t which = 0;
    if (anchors.Find(buf.get(), search_pos, len, &which) < len) return false;
    // Anchors inside the piece.
    if (anchors.Find(piece.data(), 0, piece.size(), &which) < piece.size()) {
      return false;
    }
    // Nothing to handle: count the lines, keep the tail.
    const absl::string_view rest = piece.substr(j);
    LineOf(base + static_cast<int64_t>(len));
    lines_before +=
        explain_internal::CountNewlinesFast(rest.data(), rest.size());
    const int64_t stream_end =
        base + static_cast<int64_t>(len) + static_cast<int64_t>(rest.size());
    line_pos = stream_end;
    std::memcpy(buf.get(), rest.data() + rest.size() - tail, tail);
    len = tail;
    base = stream_end - static_cast<int64_t>(tail);
    search_pos = tail - keep;
    total += rest.size();
    return true;
  }

  void Feed(absl::string_view data) {
    const size_t chunk = std::max<size_t>(options.chunk_bytes, 4096);
    while (!data.empty()) {
      size_t n = std::min(data.size(), chunk);
      size_t copied = 0;
      if (FeedWithoutAnchor(data.substr(0, n), &copied)) {
        data.remove_prefix(n);
        continue;
      }
      data.remove_prefix(copied);
      n -= copied;
      Reserve(n);
      std::memcpy(buf.get() + len, data.data(), n);
      len += n;
      total += n;
      data.remove_prefix(n);
      Process(false);
    }
  }
};

LogScanner::LogScanner(MessageFn on_message, UnparsedFn on_unparsed,
                       ScanOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->on_message = std::move(on_message);
  impl_->on_unparsed = std::move(on_unparsed);
  impl_->options = options;
  impl_->options.max_back_bytes = std::max<size_t>(options.max_back_bytes, 256);
  impl_->options.max_forward_bytes =
      std::max<size_t>(options.max_forward_bytes, 1024);
  impl_->Reserve(std::max<size_t>(options.chunk_bytes, 4096) +
                 impl_->carry_limit());
}

LogScanner::~LogScanner() = default;

void LogScanner::Feed(absl::string_view data) { impl_->Feed(data); }

void LogScanner::Finish() {
  impl_->Process(true);
  // Count the remaining lines so line numbers stay right if Feed continues.
}

int64_t LogScanner::bytes_scanned() const { return impl_->total; }
int64_t LogScanner::messages_found() const { return impl_->found; }
int64_t LogScanner::unparsed_candidates() const { return impl_->unparsed; }
size_t LogScanner::buffer_capacity() const { return impl_->cap; }

std::vector<ScannedMessage> ScanText(absl::string_view text) {
  std::vector<ScannedMessage> out;
  LogScanner scanner([&](ScannedMessage m) { out.push_back(std::move(m)); });
  scanner.Feed(text);
  scanner.Finish();
  return out;
}

absl::Status ScanFile(const std::string& path, LogScanner& scanner,
                      const std::function<void(int64_t)>& on_progress) {
  // Logs come from files, stdin or pipes (bash's <(...)); directories and
  // devices are refused before any read.
  XLAYOUT_ASSIGN_OR_RETURN(
      io::InputFile file,
      io::InputFile::Open(path, {.allow_stdin = true, .allow_streams = true}));
  io::BlockReader reader(file);
  while (true) {
    XLAYOUT_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
    if (block.empty()) break;
    scanner.Feed(block);
    if (on_progress) on_progress(reader.bytes_read());
  }
  return absl::OkStatus();
}

}  // namespace xlayout
