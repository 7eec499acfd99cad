#include "base/text_cursor.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace xlayout {

std::string NumberTooLarge::Message() const {
  return negative ? absl::StrCat("number too large (limit ",
                                 std::numeric_limits<int64_t>::min(), ")")
                  : absl::StrCat("number too large (limit ",
                                 std::numeric_limits<int64_t>::max(), ")");
}

ParsedInt ParseDecimal(absl::string_view digits, bool negative) {
  ParsedInt out;
  out.error.negative = negative;
  // The magnitude limit: 2^63 - 1, or 2^63 for a negative number.
  const uint64_t limit =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) +
      (negative ? 1 : 0);
  uint64_t value = 0;
  for (char c : digits) {
    if (!IsAsciiDigit(c)) return out;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (limit - digit) / 10) return out;
    value = value * 10 + digit;
  }
  if (digits.empty()) return out;
  out.value =
      negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
  return out;
}

bool TextCursor::Consume(char c) {
  if (Peek() != c || AtEnd()) return false;
  ++pos_;
  return true;
}

bool TextCursor::ConsumeLiteral(absl::string_view literal) {
  if (text_.substr(pos_, literal.size()) != literal) return false;
  pos_ += literal.size();
  return true;
}

absl::Status TextCursor::SkipTrivia() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (IsTriviaSpace(c)) {
      ++pos_;
    } else if (c == '/' && Peek(1) == '*') {
      const size_t end = text_.find("*/", pos_ + 2);
      if (end == absl::string_view::npos) {
        return ErrorAt(pos_, "unterminated /* comment");
      }
      pos_ = end + 2;
    } else if (c == '/' && Peek(1) == '/') {
      const size_t end = text_.find('\n', pos_);
      pos_ = end == absl::string_view::npos ? text_.size() : end + 1;
    } else {
      break;
    }
  }
  return absl::OkStatus();
}

void TextCursor::SkipBlanks() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) {
    ++pos_;
  }
}

absl::string_view TextCursor::ReadIdentifier() {
  if (!AtIdentifier()) return {};
  const size_t start = pos_;
  while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
  return text_.substr(start, pos_ - start);
}

absl::StatusOr<int64_t> TextCursor::ReadInt64(absl::string_view what) {
  const size_t start = pos_;
  if (!AtInteger()) {
    return ErrorAt(start, absl::StrCat("expected an integer (", what, "), got ",
                                       Describe(start)));
  }
  size_t p = pos_;
  const bool negative = text_[p] == '-';
  if (negative) ++p;
  const size_t digits_begin = p;
  while (p < text_.size() && IsAsciiDigit(text_[p])) ++p;
  ParsedInt parsed =
      ParseDecimal(text_.substr(digits_begin, p - digits_begin), negative);
  if (!parsed.value.has_value()) {
    return ErrorAt(start,
                   absl::StrCat(parsed.error.Message(), " (", what, ")"));
  }
  pos_ = p;
  return *parsed.value;
}

absl::Status TextCursor::Expect(char c, absl::string_view what) {
  if (absl::Status s = SkipTrivia(); !s.ok()) return s;
  if (AtEnd() || text_[pos_] != c) {
    return ErrorAt(pos_,
                   absl::StrCat("expected ", what, ", got ", Describe(pos_)));
  }
  ++pos_;
  return absl::OkStatus();
}

absl::Status TextCursor::ReadList(char close, bool trailing_comma,
                                  absl::string_view context,
                                  absl::FunctionRef<absl::Status()> item) {
  if (absl::Status s = SkipTrivia(); !s.ok()) return s;
  if (Consume(close)) return absl::OkStatus();
  while (true) {
    if (absl::Status s = item(); !s.ok()) return s;
    if (absl::Status s = SkipTrivia(); !s.ok()) return s;
    if (Consume(',')) {
      if (absl::Status s = SkipTrivia(); !s.ok()) return s;
      if (trailing_comma && Consume(close)) return absl::OkStatus();
      continue;
    }
    if (Consume(close)) return absl::OkStatus();
    return ErrorAt(
        pos_, absl::StrCat("expected ',' or '", std::string(1, close), "' ",
                           context, ", got ", Describe(pos_)));
  }
}

int64_t TextCursor::Line(size_t at) const {
  at = std::min(at, text_.size());
  return 1 + std::count(text_.begin(), text_.begin() + at, '\n');
}

int64_t TextCursor::Column(size_t at) const {
  at = std::min(at, text_.size());
  if (at == 0) return 1;
  const size_t newline = text_.rfind('\n', at - 1);
  if (newline == absl::string_view::npos) return static_cast<int64_t>(at) + 1;
  return static_cast<int64_t>(at - newline);
}

std::string TextCursor::Location(size_t at) const {
  const int64_t line = Line(at);
  if (line == 1) return absl::StrCat("col ", Column(at));
  return absl::StrCat("line ", line, " col ", Column(at));
}

absl::Status TextCursor::ErrorAt(size_t at, absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(Location(at), ": ", message));
}

std::string TextCursor::Describe(size_t at) const {
  if (at >= text_.size()) return "end of input";
  const char c = text_[at];
  auto quoted_run = [&](size_t end) {
    return absl::StrCat("'", text_.substr(at, std::min<size_t>(end - at, 32)),
                        "'");
  };
  if (IsIdentStart(c)) {
    size_t end = at;
    while (end < text_.size() && IsIdentChar(text_[end])) ++end;
    return quoted_run(end);
  }
  if (IsAsciiDigit(c) || c == '-') {
    size_t end = at + 1;
    while (end < text_.size() && IsAsciiDigit(text_[end])) ++end;
    return quoted_run(end);
  }
  if (c >= 0x20 && c < 0x7f) return absl::StrCat("'", std::string(1, c), "'");
  return absl::StrFormat("byte 0x%02x", static_cast<unsigned char>(c));
}

}  // namespace xlayout
