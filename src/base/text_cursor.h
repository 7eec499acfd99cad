// A cursor over text for the project's hand-written readers: the shape and
// layout parser, the JAX layout repr reader, the HLO text reader and the log
// scanner. One place for the lexical rules they share:
//   - trivia: whitespace and XLA's /*...*/ and //... comments;
//   - identifiers: XLA's lexer charset, [A-Za-z_][A-Za-z0-9_.-]*;
//   - integers: -?[0-9]+, read exactly, with "number too large (limit N)"
//     instead of a wrapped or bit-cast value;
//   - positions: 1-based line and column for error messages.
#ifndef XLAYOUT_SRC_BASE_TEXT_CURSOR_H_
#define XLAYOUT_SRC_BASE_TEXT_CURSOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace xlayout {

inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool IsIdentChar(char c) {
  return IsIdentStart(c) || IsAsciiDigit(c) || c == '.' || c == '-';
}
// The whitespace XLA's lexer skips.
inline bool IsTriviaSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Why a run of digits is not an int64.
struct NumberTooLarge {
  bool negative = false;
  // "number too large (limit 9223372036854775807)", or with the negative
  // limit -9223372036854775808.
  std::string Message() const;
};

// The value of `digits` ([0-9]+, no sign, possibly with leading zeros),
// negated if `negative`, when it fits in int64; otherwise NumberTooLarge.
// Digits beyond the limit are never wrapped or bit-cast.
struct ParsedInt {
  std::optional<int64_t> value;  // Set on success.
  NumberTooLarge error;          // Meaningful when !value.
};
ParsedInt ParseDecimal(absl::string_view digits, bool negative = false);

class TextCursor {
 public:
  explicit TextCursor(absl::string_view text, size_t pos = 0)
      : text_(text), pos_(pos) {}

  absl::string_view text() const { return text_; }
  size_t pos() const { return pos_; }
  void set_pos(size_t pos) { pos_ = pos; }
  bool AtEnd() const { return pos_ >= text_.size(); }
  // The byte `ahead` bytes after the cursor, '\0' past the end.
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void Advance(size_t n = 1) {
    pos_ = pos_ + n > text_.size() ? text_.size() : pos_ + n;
  }
  // Consumes `c` if it is next.
  bool Consume(char c);
  // Consumes `literal` if the text continues with it.
  bool ConsumeLiteral(absl::string_view literal);
  absl::string_view rest() const { return text_.substr(pos_); }

  // Skips whitespace and comments. An unterminated /* comment is an error
  // "unterminated /* comment" at its start (the cursor stays there).
  absl::Status SkipTrivia();
  // Skips spaces and tabs only (not newlines, not comments).
  void SkipBlanks();

  // True at the start of an identifier / of an integer (-?[0-9]).
  bool AtIdentifier() const { return IsIdentStart(Peek()); }
  bool AtInteger() const {
    return IsAsciiDigit(Peek()) || (Peek() == '-' && IsAsciiDigit(Peek(1)));
  }
  // Reads [A-Za-z_][A-Za-z0-9_.-]*; empty (nothing consumed) if not at one.
  absl::string_view ReadIdentifier();
  // Reads -?[0-9]+ as an int64. Errors (the cursor stays put):
  //   "col N: expected an integer (WHAT), got ..." when not at an integer;
  //   "col N: number too large (limit 9223372036854775807) (WHAT)".
  absl::StatusOr<int64_t> ReadInt64(absl::string_view what);

  // Skips trivia, then consumes `c`; otherwise "LOCATION: expected WHAT,
  // got ...".
  absl::Status Expect(char c, absl::string_view what);
  // The items of a bracketed list, after its opening bracket: `item` reads
  // one, ',' separates them and `close` ends the list (Python tuples may end
  // in ',' when `trailing_comma`). `context` completes the error
  // "expected ',' or ')' CONTEXT, got ...".
  absl::Status ReadList(char close, bool trailing_comma,
                        absl::string_view context,
                        absl::FunctionRef<absl::Status()> item);

  // 1-based line and column of byte offset `at` (clamped to the text).
  int64_t Line(size_t at) const;
  int64_t Column(size_t at) const;
  // "col C" on the first line, "line L col C" after it.
  std::string Location(size_t at) const;
  // INVALID_ARGUMENT "LOCATION: message".
  absl::Status ErrorAt(size_t at, absl::string_view message) const;

  // A short printable description of what stands at `at`: "'ident'",
  // "'123'", "'x'", "byte 0x07" or "end of input".
  std::string Describe(size_t at) const;

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace xlayout

#endif  // XLAYOUT_SRC_BASE_TEXT_CURSOR_H_
