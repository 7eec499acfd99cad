#include "xlayout/format.h"

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace xlayout {

std::string WithCommas(int64_t n) {
  // Work on the magnitude as uint64 so INT64_MIN needs no special case.
  const uint64_t magnitude =
      n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  const std::string digits = absl::StrCat(magnitude);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? absl::StrCat("-", out) : out;
}

std::string HumanBytes(int64_t n) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  if (n < 1024 && n > -1024) return absl::StrCat(WithCommas(n), " B");
  double v = static_cast<double>(n);
  int unit = -1;
  while ((v >= 1024 || v <= -1024) && unit < 5) {
    v /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.2f %s", v, kUnits[unit]);
}

std::string CompactBytes(int64_t n, bool iec_units) {
  const bool negative = n < 0;
  uint64_t v =
      negative ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  const char* sign = negative ? "-" : "";
  if (v < 1024) return absl::StrCat(sign, v, "B");
  static constexpr char kUnits[] = "KMGTPE";
  int unit = 0;
  while (v >= uint64_t{1024} * 1024) {
    v /= 1024;
    ++unit;
  }
  const double value = static_cast<double>(v) / 1024.0;
  const char* suffix = iec_units ? "iB" : "";
  return unit == 0
             ? absl::StrFormat("%s%.1f%c%s", sign, value, kUnits[unit], suffix)
             : absl::StrFormat("%s%.2f%c%s", sign, value, kUnits[unit], suffix);
}

std::string FormatFactor(double factor) {
  std::string s = absl::StrFormat("%.2f", factor);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return absl::StrCat(s, "×");
}

namespace {

// Length of the valid UTF-8 sequence at text[i] (1-4), or 0 if invalid
// (bad lead byte, truncated, overlong, surrogate or above U+10FFFF).
size_t Utf8Length(absl::string_view text, size_t i, uint32_t* code_point) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[k]);
  };
  const unsigned char c = byte(i);
  size_t len;
  uint32_t cp;
  if (c < 0x80) {
    *code_point = c;
    return 1;
  } else if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
    return 0;
  }
  *code_point = cp;
  return len;
}

// Unicode's bidirectional formatting characters (Bidi_Control): they
// reorder the text around them on a terminal, so a name could display as
// another (U+202E, RIGHT-TO-LEFT OVERRIDE, "Trojan Source").
bool IsBidiControl(uint32_t cp) {
  return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

// Appends the escaped form of the unit at text[i]; returns its byte length.
size_t EscapeUnit(absl::string_view text, size_t i, std::string* out) {
  uint32_t cp = 0;
  const size_t len = Utf8Length(text, i, &cp);
  if (len == 0) {
    absl::StrAppendFormat(out, "\\x%02x", static_cast<unsigned char>(text[i]));
    return 1;
  }
  if (cp == '\t') {
    out->append("\\t");
  } else if (cp == '\n') {
    out->append("\\n");
  } else if (cp == '\r') {
    out->append("\\r");
  } else if (cp < 0x20 || cp == 0x7f) {
    absl::StrAppendFormat(out, "\\x%02x", cp);
  } else if ((cp >= 0x80 && cp <= 0x9f) || IsBidiControl(cp)) {
    absl::StrAppendFormat(out, "\\u%04x", cp);
  } else {
    out->append(text.data() + i, len);
  }
  return len;
}

}  // namespace

std::string EscapeForTerminal(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) i += EscapeUnit(text, i, &out);
  return out;
}

std::string EscapeAndTruncate(absl::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  size_t i = 0;
  while (i < text.size()) {
    std::string unit;
    const size_t len = EscapeUnit(text, i, &unit);
    // Escapes are ASCII, one character per byte; a UTF-8 character is one.
    const size_t width = unit.size() == len && len > 1 ? 1 : unit.size();
    if (chars + width > max_chars) break;
    out += unit;
    chars += width;
    i += len;
  }
  if (i < text.size()) {
    absl::StrAppend(&out, "… (",
                    WithCommas(static_cast<int64_t>(text.size() - i)),
                    " more bytes)");
  }
  return out;
}

bool IsValidUtf8(absl::string_view s) {
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8Length(s, i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string ToValidUtf8(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8Length(s, i, &cp);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  return out;
}

bool LooksLikeText(absl::string_view head) {
  for (size_t i = 0; i < head.size();) {
    const unsigned char c = static_cast<unsigned char>(head[i]);
    if (c == 0) return false;
    const int len = c < 0x80         ? 1
                    : (c >> 5) == 6  ? 2
                    : (c >> 4) == 14 ? 3
                    : (c >> 3) == 30 ? 4
                                     : 0;
    if (len == 0) return false;
    for (int k = 1; k < len; ++k) {
      if (i + k >= head.size()) return true;
      if ((static_cast<unsigned char>(head[i + k]) & 0xc0) != 0x80) {
        return false;
      }
    }
    i += len;
  }
  return true;
}

LogHeadKind SniffLogHead(absl::string_view head) {
  // NULs at the end: what a crashed writer leaves in a preallocated log.
  while (!head.empty() && head.back() == '\0') head.remove_suffix(1);
  if (absl::StartsWith(head, "\xff\xfe") ||
      absl::StartsWith(head, "\xfe\xff")) {
    return LogHeadKind::kUtf16;
  }
  if (absl::StartsWith(head, "\x1f\x8b")) return LogHeadKind::kGzip;
  size_t controls = 0, invalid = 0, nul_even = 0, nul_odd = 0;
  uint32_t cp = 0;
  for (size_t i = 0; i < head.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(head[i]);
    if (c == 0) ++(i % 2 == 0 ? nul_even : nul_odd);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
         c != '\v' && c != 0x1b) ||
        c == 0x7f) {
      ++controls;
    }
    if (c >= 0x80) {
      const size_t len = Utf8Length(head, i, &cp);
      if (len > 1) {
        i += len - 1;
      } else if (head.size() - i >= 4) {  // Not a sequence cut at the end.
        ++invalid;
      }
    }
  }
  // UTF-16 without a byte order mark: NULs in nearly every other byte.
  const size_t half = head.size() / 2;
  if (half >= 8 && ((nul_even * 10 > half * 8 && nul_odd * 10 < half) ||
                    (nul_odd * 10 > half * 8 && nul_even * 10 < half))) {
    return LogHeadKind::kUtf16;
  }
  const size_t n = head.size();
  if (controls * 10 >= n && n > 0) return LogHeadKind::kBinary;
  if (controls * 100 >= n && controls > 0 && invalid * 4 >= n) {
    return LogHeadKind::kBinary;
  }
  return LogHeadKind::kText;
}

}  // namespace xlayout
