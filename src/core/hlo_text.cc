#include "core/hlo_text.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/text_cursor.h"
#include "core/shape_reader.h"
#include "xlayout/format.h"
#include "xlayout/shape_parser.h"
#include "xlayout/status_macros.h"

namespace xlayout::hlo_text {
namespace {

constexpr size_t npos = absl::string_view::npos;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A short, printable excerpt of `s` at `pos` for error messages: at most 24
// bytes, never a split UTF-8 character, escaped as every input echoed on a
// terminal is (EscapeForTerminal: ESC is "\x1b").
std::string Excerpt(absl::string_view s, size_t pos) {
  if (pos >= s.size()) return "end of line";
  size_t n = std::min<size_t>(24, s.size() - pos);
  while (n > 0 && pos + n < s.size() &&
         (static_cast<unsigned char>(s[pos + n]) & 0xc0) == 0x80) {
    --n;
  }
  if (n == 0) n = std::min<size_t>(24, s.size() - pos);
  return absl::StrCat("'", EscapeForTerminal(s.substr(pos, n)),
                      pos + n < s.size() ? "...'" : "'");
}

// Lines have no newlines: the location is "col N", as TextCursor prints it.
absl::Status ErrorAt(size_t pos, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("col ", pos + 1, ": ", what));
}

// Skips ASCII whitespace (CR included: a header may end in "\r").
void SkipSpace(TextCursor& cursor) {
  while (!cursor.AtEnd() &&
         absl::ascii_isspace(static_cast<unsigned char>(cursor.Peek()))) {
    cursor.Advance();
  }
}

// The end of the identifier characters at `pos` (XLA's lexer charset).
size_t ReadIdent(absl::string_view s, size_t pos) {
  while (pos < s.size() && IsIdentChar(s[pos])) ++pos;
  return pos;
}

// Parses one shape at `pos` with layouts kept as written; errors are
// "WHAT: col N: ..." with N counted in `s`.
absl::StatusOr<Shape> ShapeAt(absl::string_view s, size_t* pos,
                              absl::string_view what) {
  ShapeParseOptions options;
  options.fill_missing_layouts = false;
  options.allow_jax_layout = false;
  TextCursor cursor(s, *pos);
  absl::StatusOr<Shape> shape = ReadShape(cursor, options);
  if (!shape.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", shape.status().message()));
  }
  *pos = cursor.pos();
  return shape;
}

absl::Status ParseComputationLayout(absl::string_view s, size_t begin,
                                    size_t end, ModuleHeader* header) {
  absl::string_view v = s.substr(0, end);
  auto expect = [&](size_t* pos, absl::string_view token,
                    absl::string_view context) -> absl::Status {
    *pos = SkipSpaceAndComments(v, *pos);
    if (*pos == npos || !absl::StartsWith(v.substr(*pos), token)) {
      return ErrorAt(*pos == npos ? v.size() : *pos,
                     absl::StrCat("expected '", token, "' ", context,
                                  " in entry_computation_layout, got ",
                                  Excerpt(v, *pos == npos ? v.size() : *pos)));
    }
    *pos += token.size();
    return absl::OkStatus();
  };
  size_t pos = begin;
  XLAYOUT_RETURN_IF_ERROR(expect(&pos, "{", "at the start"));
  XLAYOUT_RETURN_IF_ERROR(expect(&pos, "(", "before the parameter shapes"));
  pos = SkipSpaceAndComments(v, pos);
  if (pos != npos && pos < v.size() && v[pos] == ')') {
    ++pos;
  } else {
    for (int64_t k = 0;; ++k) {
      if (pos == npos) return ErrorAt(v.size(), "unterminated comment");
      XLAYOUT_ASSIGN_OR_RETURN(
          Shape shape,
          ShapeAt(v, &pos,
                  absl::StrCat("entry_computation_layout parameter ", k)));
      header->parameters.push_back(std::move(shape));
      pos = SkipSpaceAndComments(v, pos);
      if (pos != npos && pos < v.size() && v[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos != npos && pos < v.size() && v[pos] == ')') {
        ++pos;
        break;
      }
      size_t at = pos == npos ? v.size() : pos;
      return ErrorAt(at, absl::StrCat("expected ',' or ')' after parameter ", k,
                                      " in entry_computation_layout, got ",
                                      Excerpt(v, at)));
    }
  }
  XLAYOUT_RETURN_IF_ERROR(expect(&pos, "->", "after the parameter list"));
  pos = SkipSpaceAndComments(v, pos);
  if (pos == npos) return ErrorAt(v.size(), "unterminated comment");
  XLAYOUT_ASSIGN_OR_RETURN(Shape result,
                           ShapeAt(v, &pos, "entry_computation_layout result"));
  header->result = std::move(result);
  XLAYOUT_RETURN_IF_ERROR(expect(&pos, "}", "after the result shape"));
  pos = SkipSpaceAndComments(v, pos);
  if (pos == npos || pos != v.size()) {
    size_t at = pos == npos ? v.size() : pos;
    return ErrorAt(at, absl::StrCat("unexpected ", Excerpt(v, at),
                                    " after entry_computation_layout"));
  }
  header->has_entry_layout = true;
  return absl::OkStatus();
}

// A positive integer attribute value at [begin, end) of `line`, blanks
// around it allowed.
absl::StatusOr<int64_t> PositiveCount(absl::string_view line, size_t begin,
                                      size_t end, absl::string_view name) {
  absl::string_view value = line.substr(0, end);
  TextCursor cursor(value, begin);
  SkipSpace(cursor);
  if (cursor.AtInteger()) {
    XLAYOUT_ASSIGN_OR_RETURN(int64_t n, cursor.ReadInt64(name));
    SkipSpace(cursor);
    if (cursor.AtEnd() && n >= 1) return n;
  }
  return ErrorAt(
      begin,
      absl::StrCat(name, " must be a positive integer, got '",
                   absl::StripAsciiWhitespace(value.substr(begin)), "'"));
}

}  // namespace

size_t SkipSpaceAndComments(absl::string_view s, size_t pos) {
  TextCursor cursor(s, pos);
  if (!cursor.SkipTrivia().ok()) return npos;
  return cursor.pos();
}

absl::StatusOr<size_t> ScanAttributeValue(absl::string_view s, size_t pos) {
  std::string stack;  // Expected closers.
  std::vector<size_t> opened_at;
  while (pos < s.size()) {
    char c = s[pos];
    switch (c) {
      case '"': {
        size_t start = pos++;
        while (pos < s.size() && s[pos] != '"') pos += s[pos] == '\\' ? 2 : 1;
        if (pos >= s.size()) return ErrorAt(start, "unterminated string");
        ++pos;
        continue;
      }
      case '/':
        if (pos + 1 < s.size() && (s[pos + 1] == '*' || s[pos + 1] == '/')) {
          size_t next = SkipSpaceAndComments(s, pos);
          if (next == npos) return ErrorAt(pos, "unterminated comment");
          pos = next;
          continue;
        }
        break;
      case '{':
        stack.push_back('}');
        opened_at.push_back(pos);
        break;
      case '[':
        stack.push_back(']');
        opened_at.push_back(pos);
        break;
      case '(':
        stack.push_back(')');
        opened_at.push_back(pos);
        break;
      case '}':
      case ']':
      case ')':
        if (stack.empty()) {
          return ErrorAt(pos, absl::StrCat("unbalanced '", std::string(1, c),
                                           "' in attribute value"));
        }
        if (stack.back() != c) {
          return ErrorAt(pos, absl::StrCat("'", std::string(1, c),
                                           "' does not close the '",
                                           std::string(1, s[opened_at.back()]),
                                           "' at col ", opened_at.back() + 1));
        }
        stack.pop_back();
        opened_at.pop_back();
        break;
      case ',':
        if (stack.empty()) return pos;
        break;
      default:
        break;
    }
    ++pos;
  }
  if (!stack.empty()) {
    return ErrorAt(opened_at.back(),
                   absl::StrCat("'", std::string(1, s[opened_at.back()]),
                                "' is never closed"));
  }
  return pos;
}

absl::StatusOr<ModuleHeader> ParseModuleHeader(absl::string_view line) {
  ModuleHeader header;
  size_t pos = SkipSpaceAndComments(line, 0);
  if (pos == npos || !absl::StartsWith(line.substr(pos), "HloModule") ||
      (pos + 9 < line.size() && !IsSpace(line[pos + 9]))) {
    return ErrorAt(pos == npos ? 0 : pos, "expected 'HloModule NAME'");
  }
  pos += 9;
  while (pos < line.size() && IsSpace(line[pos])) ++pos;
  if (pos < line.size() && line[pos] == '%') ++pos;
  size_t name_end = ReadIdent(line, pos);
  if (name_end == pos) {
    return ErrorAt(
        pos, absl::StrCat("expected a module name after 'HloModule', got ",
                          Excerpt(line, pos)));
  }
  header.name = std::string(line.substr(pos, name_end - pos));
  pos = name_end;
  while (true) {
    pos = SkipSpaceAndComments(line, pos);
    if (pos == npos) return ErrorAt(line.size(), "unterminated comment");
    if (pos >= line.size()) break;
    if (line[pos] != ',') {
      return ErrorAt(pos, absl::StrCat("expected ',' before the next header "
                                       "attribute, got ",
                                       Excerpt(line, pos)));
    }
    pos = SkipSpaceAndComments(line, pos + 1);
    if (pos == npos) return ErrorAt(line.size(), "unterminated comment");
    size_t attr_end = ReadIdent(line, pos);
    if (attr_end == pos) {
      return ErrorAt(pos, absl::StrCat("expected an attribute name, got ",
                                       Excerpt(line, pos)));
    }
    std::string attr(line.substr(pos, attr_end - pos));
    size_t eq = attr_end;
    while (eq < line.size() && (line[eq] == ' ' || line[eq] == '\t')) ++eq;
    if (eq >= line.size() || line[eq] != '=') {
      return ErrorAt(eq, absl::StrCat("expected '=' after attribute '", attr,
                                      "', got ", Excerpt(line, eq)));
    }
    for (const std::string& seen : header.attribute_names) {
      if (seen == attr) {
        return ErrorAt(pos, absl::StrCat("attribute '", attr,
                                         "' appears twice in the header"));
      }
    }
    header.attribute_names.push_back(attr);
    size_t value_begin = eq + 1;
    XLAYOUT_ASSIGN_OR_RETURN(size_t value_end,
                             ScanAttributeValue(line, value_begin));
    if (attr == "entry_computation_layout") {
      XLAYOUT_RETURN_IF_ERROR(
          ParseComputationLayout(line, value_begin, value_end, &header));
    } else if (attr == "replica_count") {
      XLAYOUT_ASSIGN_OR_RETURN(
          header.replica_count,
          PositiveCount(line, value_begin, value_end, attr));
    } else if (attr == "num_partitions") {
      XLAYOUT_ASSIGN_OR_RETURN(
          header.num_partitions,
          PositiveCount(line, value_begin, value_end, attr));
    }
    // Every other attribute (is_scheduled, input_output_alias, ...) is
    // skipped: the signature does not depend on it.
    pos = value_end;
  }
  return header;
}

bool IsEntryLine(absl::string_view line) {
  return absl::StartsWith(line, "ENTRY") &&
         (line.size() == 5 || line[5] == ' ' || line[5] == '\t' ||
          line[5] == '%' || line[5] == '{');
}

bool MayBeParameterInstruction(absl::string_view line) {
  size_t p = 0;
  while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
  if (absl::StartsWith(line.substr(p), "ROOT ")) p += 5;
  if (p < line.size() && line[p] == '%') ++p;
  size_t name_end = ReadIdent(line, p);
  if (name_end == p) return false;
  p = name_end;
  while (p < line.size() && line[p] == ' ') ++p;
  if (p >= line.size() || line[p] != '=') return false;
  ++p;
  while (p < line.size() && line[p] == ' ') ++p;
  if (p >= line.size()) return false;
  // Printed shapes have no spaces outside tuples; anything unusual falls
  // back to "maybe" and the full parser decides.
  if (line[p] == '(') {
    int depth = 0;
    for (; p < line.size(); ++p) {
      if (line[p] == '(') ++depth;
      if (line[p] == ')' && --depth == 0) break;
    }
    if (p >= line.size()) return true;
    ++p;
  } else {
    const char* space = static_cast<const char*>(
        std::memchr(line.data() + p, ' ', line.size() - p));
    if (space == nullptr) return true;
    size_t shape_end = space - line.data();
    absl::string_view shape = line.substr(p, shape_end - p);
    if (shape.empty() || (shape.back() != ']' && shape.back() != '}')) {
      return true;
    }
    p = shape_end;
  }
  while (p < line.size() && line[p] == ' ') ++p;
  return absl::StartsWith(line.substr(p), "parameter(");
}

absl::StatusOr<std::optional<ParameterInstruction>> ParseParameterInstruction(
    absl::string_view line) {
  ParameterInstruction instr;
  size_t p = 0;
  while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
  if (absl::StartsWith(line.substr(p), "ROOT ")) p += 5;
  if (p < line.size() && line[p] == '%') ++p;
  size_t name_end = ReadIdent(line, p);
  if (name_end == p) return std::nullopt;
  instr.name = std::string(line.substr(p, name_end - p));
  p = name_end;
  while (p < line.size() && IsSpace(line[p])) ++p;
  if (p >= line.size() || line[p] != '=') return std::nullopt;
  ++p;
  absl::StatusOr<Shape> shape = ShapeAt(line, &p, "parameter shape");
  if (!shape.ok()) {
    // Only a parameter instruction's shape is our business.
    size_t at = line.find(" parameter(");
    if (at == npos) return std::nullopt;
    return absl::InvalidArgumentError(
        absl::StrCat("parameter instruction '", instr.name,
                     "': ", shape.status().message()));
  }
  instr.shape = *std::move(shape);
  p = SkipSpaceAndComments(line, p);
  if (p == npos) return std::nullopt;
  size_t op_end = ReadIdent(line, p);
  if (line.substr(p, op_end - p) != "parameter") return std::nullopt;
  p = op_end;
  auto malformed = [&](size_t at) {
    return ErrorAt(
        at, absl::StrCat("parameter instruction '", instr.name,
                         "': expected parameter(N), got ", Excerpt(line, at)));
  };
  if (p >= line.size() || line[p] != '(') return malformed(p);
  size_t close = line.find(')', p);
  if (close == npos) return malformed(p);
  TextCursor number(line.substr(0, close), p + 1);
  SkipSpace(number);
  if (!IsAsciiDigit(number.Peek())) return malformed(p + 1);
  absl::StatusOr<int64_t> n = number.ReadInt64("parameter number");
  if (!n.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameter instruction '", instr.name, "': ", n.status().message()));
  }
  SkipSpace(number);
  if (!number.AtEnd()) return malformed(p + 1);
  instr.number = *n;
  p = close + 1;
  while (true) {
    p = SkipSpaceAndComments(line, p);
    if (p == npos || p >= line.size() || line[p] != ',') break;
    p = SkipSpaceAndComments(line, p + 1);
    if (p == npos) break;
    size_t attr_end = ReadIdent(line, p);
    if (attr_end == p || attr_end >= line.size() || line[attr_end] != '=') {
      return ErrorAt(
          p, absl::StrCat("parameter instruction '", instr.name,
                          "': expected attr=value, got ", Excerpt(line, p)));
    }
    absl::string_view attr = line.substr(p, attr_end - p);
    XLAYOUT_ASSIGN_OR_RETURN(size_t value_end,
                             ScanAttributeValue(line, attr_end + 1));
    if (attr == "sharding") {
      instr.sharding = std::string(absl::StripAsciiWhitespace(
          line.substr(attr_end + 1, value_end - attr_end - 1)));
    }
    p = value_end;
  }
  return instr;
}

absl::string_view InstructionOpcode(absl::string_view line) {
  size_t p = 0;
  while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
  if (absl::StartsWith(line.substr(p), "ROOT ")) p += 5;
  while (p < line.size() && line[p] == ' ') ++p;
  if (p < line.size() && line[p] == '%') ++p;
  size_t name_end = ReadIdent(line, p);
  if (name_end == p) return {};
  p = name_end;
  while (p < line.size() && IsSpace(line[p])) ++p;
  if (p >= line.size() || line[p] != '=') return {};
  ++p;
  absl::StatusOr<Shape> shape = ShapeAt(line, &p, "shape");
  if (!shape.ok()) return {};
  p = SkipSpaceAndComments(line, p);
  if (p == npos) return {};
  size_t op_end = ReadIdent(line, p);
  if (op_end == p || op_end >= line.size() || line[op_end] != '(') return {};
  return line.substr(p, op_end - p);
}

}  // namespace xlayout::hlo_text
