// Recursive-descent parser for XLA shape/layout text. It follows the grammar
// accepted by XLA's hlo_parser.cc (spec §2.3) with XLA's lexer rules for
// whitespace, comments and integers, but reports every rejection with the
// column and what was expected there.
#include "xlayout/shape_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

// Deep nesting of tuples / P(...) is legal but a stack hazard; XLA caps it too.
constexpr int kMaxDepth = 200;

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
         c == '-';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The value `name` stands for in a small keyword table, if any.
template <typename T>
std::optional<T> Keyword(
    std::initializer_list<std::pair<absl::string_view, T>> table,
    absl::string_view name) {
  for (const auto& [keyword, value] : table) {
    if (keyword == name) return value;
  }
  return std::nullopt;
}

// Layout attributes in the only order XLA accepts them.
enum class Attr { kD = 1, kT, kL, kIndex, kPointer, kE, kS, kSC, kP, kM };

const char* AttrName(Attr a) {
  switch (a) {
    case Attr::kD:
      return "D";
    case Attr::kT:
      return "T";
    case Attr::kL:
      return "L";
    case Attr::kIndex:
      return "#";
    case Attr::kPointer:
      return "*";
    case Attr::kE:
      return "E";
    case Attr::kS:
      return "S";
    case Attr::kSC:
      return "SC";
    case Attr::kP:
      return "P";
    case Attr::kM:
      return "M";
  }
  return "?";
}

class Parser {
 public:
  Parser(absl::string_view text, const ShapeParseOptions& options)
      : text_(text), options_(options) {}

  size_t pos() const { return pos_; }

  // Skips whitespace and /*...*/ and //... comments, as XLA's lexer does.
  absl::Status SkipTrivia() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '/' && Peek(1) == '*') {
        size_t end = text_.find("*/", pos_ + 2);
        if (end == absl::string_view::npos) {
          return Error(pos_, "unterminated /* comment");
        }
        pos_ = end + 2;
      } else if (c == '/' && Peek(1) == '/') {
        size_t end = text_.find('\n', pos_);
        pos_ = end == absl::string_view::npos ? text_.size() : end + 1;
      } else {
        break;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Shape> ParseShape(int depth) {
    if (depth > kMaxDepth)
      return Error(pos_, "maximum recursion depth exceeded");
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (AtEnd()) return Error(pos_, "expected a shape, got end of input");
    char c = text_[pos_];
    if (c == '(') return ParseTuple(depth);
    if (!IsIdentStart(c)) {
      return Error(
          pos_,
          absl::StrCat("expected a shape (element type such as 'f32', or '(' "
                       "for a tuple), got ",
                       Describe(pos_)));
    }
    size_t start = pos_;
    std::string ident = ReadIdent();
    if (ident == "b") {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek(0) == '(') return ParseBuffer(start, depth);
    }
    std::optional<PrimitiveType> type = PrimitiveTypeFromName(ident);
    if (!type.has_value()) return UnknownType(start, ident);
    return ParseArray(*type, depth);
  }

  // layout ::= '{' [INT {',' INT}] [':' attrs] '}'. `in_shape` forbids P(...)
  // on dense layouts, as XLA's ParseShape does.
  absl::StatusOr<Layout> ParseLayout(bool in_shape, int depth) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t open = pos_;
    XLAYOUT_RETURN_IF_ERROR(Expect('{', "'{' to start a layout"));
    Layout layout;
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (IsIntStart()) {
      while (true) {
        XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseInt("minor_to_major dimension"));
        layout.mutable_minor_to_major()->push_back(v);
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        if (Peek(0) == ',') {
          ++pos_;
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          if (!IsIntStart()) {
            return Error(
                pos_, absl::StrCat("expected a dimension number after ',' in "
                                   "minor_to_major, got ",
                                   Describe(pos_)));
          }
          continue;
        }
        break;
      }
    }
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek(0) == ':') {
      ++pos_;
      XLAYOUT_RETURN_IF_ERROR(ParseAttributes(&layout, in_shape, depth));
    } else if (Peek(0) != '}') {
      return Error(
          pos_,
          absl::StrCat(layout.minor_to_major().empty()
                           ? "expected a dimension number, ':' or '}' in layout"
                           : "expected ',', ':' or '}' after minor_to_major "
                             "dimension",
                       ", got ", Describe(pos_)));
    }
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek(0) != '}') {
      return Error(pos_,
                   absl::StrCat("expected '}' to end the layout opened at col ",
                                Column(open), ", got ", Describe(pos_)));
    }
    ++pos_;
    return layout;
  }

  // Also reads the wrappers JAX prints around a layout, keeping the layout
  // and skipping the sharding: `Format(layout=Layout(...), sharding=...)`
  // and the older `Layout(device_local_layout=DeviceLocalLayout(...),
  // sharding=...)`.
  absl::StatusOr<Layout> ParseJaxLayout(int depth = 0) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t start = pos_;
    if (!IsIdentStart(Peek(0))) {
      return Error(pos_,
                   absl::StrCat("expected 'Layout(' , got ", Describe(pos_)));
    }
    std::string name = ReadIdent();
    if (name == "AUTO" || absl::EndsWith(name, ".AUTO")) {
      return Error(start,
                   "Layout.AUTO is not a concrete layout; pass the layout of a "
                   "compiled executable (compiled.input_formats)");
    }
    if (name == "None" && depth > 0) {
      return Error(start,
                   "the layout is None (not concrete); pass the layout of a "
                   "compiled executable (compiled.input_formats)");
    }
    if (name != "Layout" && name != "DeviceLocalLayout" && name != "Format") {
      return Error(start, absl::StrCat("expected 'Layout(', got '", name, "'"));
    }
    if (depth > 2) return Error(start, "JAX layout wrappers nested too deep");
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    XLAYOUT_RETURN_IF_ERROR(Expect('(', absl::StrCat("'(' after '", name, "'")));
    Layout layout;
    std::optional<Layout> wrapped;
    bool seen_m2m = false, seen_tiling = false, seen_sub_byte = false;
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek(0) == ')') {
        ++pos_;
        break;
      }
      size_t key_pos = pos_;
      if (!IsIdentStart(Peek(0))) {
        return Error(
            pos_,
            absl::StrCat("expected a keyword argument (major_to_minor, tiling, "
                         "sub_byte_element_size_in_bits) or ')', got ",
                         Describe(pos_)));
      }
      std::string key = ReadIdent();
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      XLAYOUT_RETURN_IF_ERROR(Expect('=', absl::StrCat("'=' after '", key, "'")));
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      // JAX's older DeviceLocalLayout repr spells the optional fields
      // `_tiling` and `_sub_byte_element_size_in_bits`.
      if (key == "_tiling" || key == "_sub_byte_element_size_in_bits") {
        key.erase(0, 1);
      }
      if (key == "layout" || key == "device_local_layout") {
        if (wrapped.has_value()) {
          return Error(key_pos, absl::StrCat(key, " given twice"));
        }
        XLAYOUT_ASSIGN_OR_RETURN(wrapped, ParseJaxLayout(depth + 1));
      } else if (key == "sharding") {
        XLAYOUT_RETURN_IF_ERROR(SkipPyValue(key));
      } else if (key == "major_to_minor") {
        if (seen_m2m) return Error(key_pos, "major_to_minor given twice");
        seen_m2m = true;
        XLAYOUT_ASSIGN_OR_RETURN(std::vector<int64_t> m2m,
                         ParsePyIntTuple("major_to_minor"));
        // JAX lists dims major to minor; XLA stores them minor to major.
        layout.mutable_minor_to_major()->assign(m2m.rbegin(), m2m.rend());
      } else if (key == "tiling") {
        if (seen_tiling) return Error(key_pos, "tiling given twice");
        seen_tiling = true;
        if (IsIdentStart(Peek(0))) {
          size_t p = pos_;
          if (ReadIdent() != "None") {
            return Error(p, "expected a tuple of tiles or None for tiling");
          }
        } else {
          XLAYOUT_RETURN_IF_ERROR(ParsePyTiling(&layout));
        }
      } else if (key == "sub_byte_element_size_in_bits") {
        if (seen_sub_byte)
          return Error(key_pos, "sub_byte_element_size_in_bits given twice");
        seen_sub_byte = true;
        XLAYOUT_ASSIGN_OR_RETURN(int64_t bits,
                         ParseInt("sub_byte_element_size_in_bits"));
        if (bits < 0)
          return Error(key_pos, "sub_byte_element_size_in_bits must be >= 0");
        layout.set_element_size_in_bits(bits);
      } else {
        return Error(key_pos,
                     absl::StrCat("unknown Layout argument '", key,
                                  "'; expected major_to_minor, tiling or "
                                  "sub_byte_element_size_in_bits"));
      }
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek(0) == ',') {
        ++pos_;
        continue;
      }
      if (Peek(0) == ')') continue;
      return Error(pos_,
                   absl::StrCat("expected ',' or ')' in Layout(...), got ",
                                Describe(pos_)));
    }
    if (wrapped.has_value()) {
      if (seen_m2m || seen_tiling || seen_sub_byte) {
        return Error(start, absl::StrCat(name,
                                         "(...) has both a nested layout and "
                                         "layout fields"));
      }
      return *std::move(wrapped);
    }
    if (!seen_m2m) {
      return Error(
          start, absl::StrCat(name, "(...) needs ",
                              name == "Format" ? "layout" : "major_to_minor"));
    }
    return layout;
  }

  // True at `Layout(`, `DeviceLocalLayout(` or `Format(` (spaces allowed
  // before '('), so text such as "Layouts" after a shape is left alone; and
  // at `Layout.AUTO`, to explain that it is not a concrete layout.
  bool AtJaxLayout() {
    if (!IsIdentStart(Peek(0))) return false;
    size_t save = pos_;
    std::string name = ReadIdent();
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t'))
      ++pos_;
    bool at =
        (Peek(0) == '(' && (name == "Layout" || name == "DeviceLocalLayout" ||
                            name == "Format")) ||
        name == "Layout.AUTO" || name == "DeviceLocalLayout.AUTO";
    pos_ = save;
    return at;
  }

  // Skips one Python repr value (e.g. a sharding) up to the ',' or ')' that
  // ends it, balancing brackets and quotes.
  absl::Status SkipPyValue(absl::string_view key) {
    const size_t start = pos_;
    std::string closers;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (closers.empty() && (c == ',' || c == ')')) return absl::OkStatus();
      if (c == '(' || c == '[' || c == '{') {
        closers += c == '(' ? ')' : c == '[' ? ']' : '}';
      } else if (c == ')' || c == ']' || c == '}') {
        if (closers.empty() || c != closers.back()) {
          return Error(
              pos_, absl::StrCat("unbalanced '", std::string(1, c), "' in the ",
                                 key, " value at col ", Column(start)));
        }
        closers.pop_back();
      } else if (c == '\'' || c == '"') {
        size_t end = pos_ + 1;
        while (end < text_.size() && text_[end] != c) {
          end += text_[end] == '\\' ? 2 : 1;
        }
        if (end >= text_.size()) break;
        pos_ = end;
      }
      ++pos_;
    }
    return Error(text_.size(), absl::StrCat("unterminated ", key,
                                            " value at col ", Column(start)));
  }

  absl::Status ExpectEnd(absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (AtEnd()) return absl::OkStatus();
    // Quote the excerpt with control and non-ASCII bytes escaped, so the
    // message stays one printable line.
    std::string extra;
    for (char c : text_.substr(pos_, 24)) {
      if (std::isprint(static_cast<unsigned char>(c))) {
        extra += c;
      } else {
        absl::StrAppendFormat(&extra, "\\x%02x", static_cast<unsigned char>(c));
      }
    }
    if (pos_ + 24 < text_.size()) extra += "...";
    std::string hint;
    if (text_[pos_] == '{') {
      size_t save = pos_;
      ++pos_;
      bool starts_layout =
          SkipTrivia().ok() && (IsIntStart() || Peek(0) == ':');
      pos_ = save;
      hint = starts_layout
                 ? " (a layout follows an array's dimensions, at most once)"
                 : " (a layout must start with a dimension number or ':'; "
                   "'{}' is not a layout inside a shape)";
    }
    return Error(pos_, absl::StrCat("extra content after ", what, ": '", extra,
                                    "'", hint));
  }

  absl::Status Error(size_t at, absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(Location(at), ": ", message));
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool IsIntStart() const {
    return IsDigit(Peek(0)) || (Peek(0) == '-' && IsDigit(Peek(1)));
  }

  size_t Column(size_t at) const {
    size_t line_start = text_.rfind('\n', at == 0 ? 0 : at - 1);
    if (at == 0 || line_start == absl::string_view::npos) return at + 1;
    return at - line_start;
  }

  std::string Location(size_t at) const {
    at = std::min(at, text_.size());
    size_t line = 1;
    for (size_t i = 0; i < at; ++i) line += text_[i] == '\n';
    if (line == 1) return absl::StrCat("col ", at + 1);
    return absl::StrCat("line ", line, " col ", Column(at));
  }

  // A short, printable description of what stands at `at`.
  std::string Describe(size_t at) const {
    if (at >= text_.size()) return "end of input";
    char c = text_[at];
    if (IsIdentStart(c)) {
      size_t end = at;
      while (end < text_.size() && IsIdentChar(text_[end])) ++end;
      return absl::StrCat("'", text_.substr(at, std::min<size_t>(end - at, 32)),
                          "'");
    }
    if (IsDigit(c) || c == '-') {
      size_t end = at + 1;
      while (end < text_.size() && IsDigit(text_[end])) ++end;
      return absl::StrCat("'", text_.substr(at, std::min<size_t>(end - at, 32)),
                          "'");
    }
    if (std::isprint(static_cast<unsigned char>(c)))
      return absl::StrCat("'", std::string(1, c), "'");
    return absl::StrFormat("byte 0x%02x", static_cast<unsigned char>(c));
  }

  std::string ReadIdent() {
    size_t start = pos_;
    while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  absl::Status Expect(char c, absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek(0) != c) {
      return Error(pos_,
                   absl::StrCat("expected ", what, ", got ", Describe(pos_)));
    }
    ++pos_;
    return absl::OkStatus();
  }

  // INT ::= -?[0-9]+. Like XLA's lexer, a non-negative literal is read as
  // uint64 and bit-cast, so 18446744073709551615 is -1.
  absl::StatusOr<int64_t> ParseInt(absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t start = pos_;
    if (!IsIntStart()) {
      return Error(pos_, absl::StrCat("expected an integer (", what, "), got ",
                                      Describe(pos_)));
    }
    bool negative = Peek(0) == '-';
    if (negative) ++pos_;
    uint64_t value = 0;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) {
      uint64_t digit = static_cast<uint64_t>(text_[pos_] - '0');
      if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
        return Error(start,
                     absl::StrCat("integer literal out of range (", what, ")"));
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (negative) {
      constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;
      if (value > kMinMagnitude) {
        return Error(start,
                     absl::StrCat("integer literal out of range (", what, ")"));
      }
      return static_cast<int64_t>(0 - value);
    }
    return static_cast<int64_t>(value);
  }

  absl::Status UnknownType(size_t at, const std::string& ident) const {
    if (ident == "tuple") {
      return Error(
          at,
          "'tuple' is not an element type; write a tuple as '(shape, ...)'");
    }
    if (ident == "buffer") {
      return Error(
          at, "'buffer' is not an element type; write a buffer as 'b(shape)'");
    }
    std::string lower = ident;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower != ident && PrimitiveTypeFromName(lower).has_value()) {
      return Error(
          at, absl::StrCat("unknown element type '", ident,
                           "'; element types are lower case ('", lower, "')"));
    }
    return Error(
        at, absl::StrCat(
                "unknown element type '", ident,
                "' (expected e.g. pred, s8, bf16, f32, c64, token, opaque)"));
  }

  // The items of a bracketed list, after its opening bracket: `item` parses
  // one, ',' separates them and `close` ends the list. Python tuples may end
  // in ','. `context` completes "expected ',' or ')' <context>".
  absl::Status ParseSeparated(char close, bool trailing_comma,
                              absl::string_view context,
                              absl::FunctionRef<absl::Status()> item) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek(0) == close) {
      ++pos_;
      return absl::OkStatus();
    }
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(item());
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek(0) == ',') {
        ++pos_;
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        if (trailing_comma && Peek(0) == close) {
          ++pos_;
          return absl::OkStatus();
        }
        continue;
      }
      if (Peek(0) == close) {
        ++pos_;
        return absl::OkStatus();
      }
      return Error(
          pos_, absl::StrCat("expected ',' or '", std::string(1, close), "' ",
                             context, ", got ", Describe(pos_)));
    }
  }

  absl::StatusOr<Shape> ParseTuple(int depth) {
    ++pos_;  // '('
    std::vector<Shape> elements;
    XLAYOUT_RETURN_IF_ERROR(ParseSeparated(')', false, "after tuple element", [&] {
      absl::StatusOr<Shape> element = ParseShape(depth + 1);
      if (!element.ok()) return element.status();
      elements.push_back(*std::move(element));
      return absl::OkStatus();
    }));
    return Shape::MakeTuple(std::move(elements));
  }

  absl::StatusOr<Shape> ParseBuffer(size_t start, int depth) {
    ++pos_;  // '('
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t inner_pos = pos_;
    XLAYOUT_ASSIGN_OR_RETURN(Shape inner, ParseShape(depth + 1));
    if (!inner.IsArray()) {
      return Error(inner_pos, "a buffer b(...) must hold an array shape");
    }
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek(0) != ')') {
      return Error(
          pos_, absl::StrCat("expected ')' to close the buffer opened at col ",
                             Column(start), ", got ", Describe(pos_)));
    }
    ++pos_;
    return Shape::MakeBuffer(std::move(inner));
  }

  // dim ::= INT | '<=' INT | '?'
  absl::Status ParseDimension(std::vector<int64_t>* dims,
                              std::vector<bool>* dynamic) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t dim_pos = pos_;
    if (Peek(0) == '?') {
      ++pos_;
      dims->push_back(Shape::kUnboundedSize);
      dynamic->push_back(true);
      return absl::OkStatus();
    }
    if (Peek(0) == '<') {
      if (Peek(1) != '=') {
        return Error(pos_, "expected '<=' (a lone '<' is not a token)");
      }
      pos_ += 2;
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (!IsIntStart()) {
        return Error(pos_,
                     absl::StrCat("expected an integer bound after '<=', got ",
                                  Describe(pos_)));
      }
      XLAYOUT_ASSIGN_OR_RETURN(int64_t bound, ParseInt("dimension bound"));
      if (bound < 0) {
        return Error(dim_pos,
                     absl::StrCat("dimension bound must be >= 0, got ", bound));
      }
      dims->push_back(bound);
      dynamic->push_back(true);
      return absl::OkStatus();
    }
    if (!IsIntStart()) {
      return Error(pos_,
                   absl::StrCat("expected a dimension (N, <=N or ?), got ",
                                Describe(pos_)));
    }
    XLAYOUT_ASSIGN_OR_RETURN(int64_t size, ParseInt("dimension size"));
    if (size < 0) {
      return Error(dim_pos,
                   absl::StrCat("dimension size must be >= 0, got ", size));
    }
    dims->push_back(size);
    dynamic->push_back(false);
    return absl::OkStatus();
  }

  absl::StatusOr<Shape> ParseArray(PrimitiveType type, int depth) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek(0) != '[') {
      return Error(pos_, absl::StrCat("expected '[' after element type '",
                                      PrimitiveTypeName(type), "', got ",
                                      Describe(pos_)));
    }
    ++pos_;
    std::vector<int64_t> dims;
    std::vector<bool> dynamic;
    XLAYOUT_RETURN_IF_ERROR(ParseSeparated(']', false, "after dimension", [&] {
      return ParseDimension(&dims, &dynamic);
    }));
    if (type == PrimitiveType::kToken || type == PrimitiveType::kOpaque) {
      if (!dims.empty()) {
        return Error(pos_ - 1, absl::StrCat(PrimitiveTypeName(type),
                                            "[] takes no dimensions"));
      }
      return Shape(type, {});
    }
    Shape shape(type, dims);
    for (size_t i = 0; i < dims.size(); ++i) {
      shape.set_dimension(static_cast<int>(i), dims[i], dynamic[i]);
    }
    // A '{' is a layout only when an INT or ':' follows; otherwise it is left
    // unread (in HLO it opens a computation body).
    size_t before = pos_;
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t layout_pos = pos_;
    bool has_layout = false;
    if (Peek(0) == '{') {
      size_t save = pos_;
      ++pos_;
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      has_layout = IsIntStart() || Peek(0) == ':';
      pos_ = save;
    }
    if (has_layout) {
      XLAYOUT_ASSIGN_OR_RETURN(Layout layout, ParseLayout(/*in_shape=*/true, depth));
      if (static_cast<int>(layout.minor_to_major().size()) != shape.rank()) {
        return Error(
            layout_pos,
            absl::StrFormat(
                "Dimensions size is %d, but minor to major size is %d.",
                shape.rank(), layout.minor_to_major().size()));
      }
      shape.set_layout(std::move(layout));
      return shape;
    }
    if (options_.allow_jax_layout && AtJaxLayout()) {
      XLAYOUT_ASSIGN_OR_RETURN(Layout layout, ParseJaxLayout());
      if (static_cast<int>(layout.minor_to_major().size()) != shape.rank()) {
        return Error(
            layout_pos,
            absl::StrFormat(
                "JAX layout major_to_minor has %d dims but the shape has "
                "rank %d",
                layout.minor_to_major().size(), shape.rank()));
      }
      shape.set_layout(std::move(layout));
      return shape;
    }
    pos_ = before;  // Trivia after the shape belongs to whoever reads on.
    if (options_.fill_missing_layouts || shape.rank() == 0) {
      shape.set_layout(DefaultLayout(shape.rank()));
    }
    return shape;
  }

  absl::Status ParseAttributes(Layout* layout, bool in_shape, int depth) {
    int last = 0;
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (AtEnd() || Peek(0) == '}') return absl::OkStatus();
      size_t at = pos_;
      Attr attr;
      if (Peek(0) == '#') {
        attr = Attr::kIndex;
        ++pos_;
      } else if (Peek(0) == '*') {
        attr = Attr::kPointer;
        ++pos_;
      } else if (IsIdentStart(Peek(0))) {
        std::string name = ReadIdent();
        std::optional<Attr> found = Keyword<Attr>({{"D", Attr::kD},
                                                   {"T", Attr::kT},
                                                   {"L", Attr::kL},
                                                   {"E", Attr::kE},
                                                   {"S", Attr::kS},
                                                   {"SC", Attr::kSC},
                                                   {"P", Attr::kP},
                                                   {"M", Attr::kM}},
                                                  name);
        if (!found.has_value()) {
          return Error(
              at,
              absl::StrCat("unknown layout attribute '", name,
                           "'; expected one of D T L # * E S SC P M, or '}'"));
        }
        attr = *found;
      } else {
        return Error(
            at, absl::StrCat(
                    "expected a layout attribute (D T L # * E S SC P M) or "
                    "'}', got ",
                    Describe(at)));
      }
      if (static_cast<int>(attr) <= last) {
        return Error(
            at,
            absl::StrCat("layout attribute '", AttrName(attr),
                         "' is repeated or out of order; attributes appear at "
                         "most once, in the order D T L # * E S SC P M"));
      }
      last = static_cast<int>(attr);
      XLAYOUT_RETURN_IF_ERROR(ParseAttribute(attr, at, layout, in_shape, depth));
    }
  }

  absl::StatusOr<int64_t> ParseParenInt(const char* attr,
                                        size_t* value_pos = nullptr) {
    XLAYOUT_RETURN_IF_ERROR(Expect('(', absl::StrCat("'(' after '", attr, "'")));
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (value_pos != nullptr) *value_pos = pos_;
    XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseInt(absl::StrCat(attr, "(...)")));
    XLAYOUT_RETURN_IF_ERROR(Expect(')', absl::StrCat("')' to close ", attr, "(...)")));
    return v;
  }

  absl::Status ParseAttribute(Attr attr, size_t at, Layout* layout,
                              bool in_shape, int depth) {
    switch (attr) {
      case Attr::kD:
        return ParseDimLevelTypes(layout);
      case Attr::kT:
        return ParseTiles(layout);
      case Attr::kL: {
        XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseParenInt("L"));
        layout->set_tail_padding_alignment_in_elements(v);
        return absl::OkStatus();
      }
      case Attr::kIndex:
      case Attr::kPointer: {
        const char* name = attr == Attr::kIndex ? "#" : "*";
        XLAYOUT_RETURN_IF_ERROR(Expect('(', absl::StrCat("'(' after '", name, "'")));
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        size_t type_pos = pos_;
        std::string ident = IsIdentStart(Peek(0)) ? ReadIdent() : "";
        std::optional<PrimitiveType> type = PrimitiveTypeFromName(ident);
        if (!type.has_value() || !IsUnsignedIntegralType(*type)) {
          return Error(type_pos,
                       absl::StrCat("expecting an unsigned integer type in ",
                                    name, "(...), got ", Describe(type_pos)));
        }
        XLAYOUT_RETURN_IF_ERROR(
            Expect(')', absl::StrCat("')' to close ", name, "(...)")));
        if (attr == Attr::kIndex) {
          layout->set_index_primitive_type(*type);
        } else {
          layout->set_pointer_primitive_type(*type);
        }
        return absl::OkStatus();
      }
      case Attr::kE: {
        XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseParenInt("E"));
        layout->set_element_size_in_bits(v);
        return absl::OkStatus();
      }
      case Attr::kS: {
        XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseParenInt("S"));
        layout->set_memory_space(v);
        return absl::OkStatus();
      }
      case Attr::kSC:
        return ParseSplitConfigs(layout);
      case Attr::kP: {
        XLAYOUT_RETURN_IF_ERROR(Expect('(', "'(' after 'P'"));
        XLAYOUT_ASSIGN_OR_RETURN(Shape physical, ParseShape(depth + 1));
        XLAYOUT_RETURN_IF_ERROR(Expect(')', "')' to close P(...)"));
        if (in_shape && !layout->IsSparse()) {
          return Error(
              at,
              absl::StrCat("Layout has physical shape, but is not for a sparse "
                           "array: P(",
                           physical.ToString(true), ")"));
        }
        layout->set_physical_shape(physical);
        return absl::OkStatus();
      }
      case Attr::kM: {
        size_t value_pos = 0;
        XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseParenInt("M", &value_pos));
        // XLA prints M(n) only for n > 0, so a negative n would not survive
        // a print/parse round trip (XLA keeps it silently); refuse it.
        if (v < 0) {
          return Error(value_pos,
                       absl::StrCat("M(n) counts metadata bytes and must be "
                                    ">= 0, got ",
                                    v));
        }
        layout->set_dynamic_shape_metadata_prefix_bytes(v);
        return absl::OkStatus();
      }
    }
    return Error(at, "unhandled layout attribute");
  }

  absl::Status ParseDimLevelTypes(Layout* layout) {
    XLAYOUT_RETURN_IF_ERROR(Expect('(', "'(' after 'D'"));
    XLAYOUT_RETURN_IF_ERROR(
        ParseSeparated(')', false, "in D(...)", [&]() -> absl::Status {
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          size_t at = pos_;
          std::string ident = IsIdentStart(Peek(0)) ? ReadIdent() : "";
          std::optional<DimLevelType> type =
              Keyword<DimLevelType>({{"D", DimLevelType::kDense},
                                     {"C", DimLevelType::kCompressed},
                                     {"S", DimLevelType::kSingleton},
                                     {"H", DimLevelType::kLooseCompressed}},
                                    ident);
          if (!type.has_value()) {
            return Error(
                at,
                absl::StrCat(
                    "expected a DimLevelType abbreviation (D, C, S or H), got ",
                    Describe(at)));
          }
          bool unique = true, ordered = true;
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          if (Peek(0) == '+') {
            unique = false;
            ++pos_;
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          }
          if (Peek(0) == '~') {
            ordered = false;
            ++pos_;
          }
          layout->mutable_dim_level_types()->push_back(*type);
          layout->mutable_dim_unique()->push_back(unique);
          layout->mutable_dim_ordered()->push_back(ordered);
          return absl::OkStatus();
        }));
    // Keep only what differs from the defaults, so `D(D)` equals "no D".
    auto all_true = [](const std::vector<bool>& v) {
      return std::all_of(v.begin(), v.end(), [](bool b) { return b; });
    };
    if (all_true(*layout->mutable_dim_unique()))
      layout->mutable_dim_unique()->clear();
    if (all_true(*layout->mutable_dim_ordered()))
      layout->mutable_dim_ordered()->clear();
    if (!layout->IsSparse()) {
      layout->mutable_dim_level_types()->clear();
      layout->mutable_dim_unique()->clear();
      layout->mutable_dim_ordered()->clear();
    }
    return absl::OkStatus();
  }

  absl::Status ParseTiles(Layout* layout) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek(0) != '(') {
      return Error(pos_,
                   absl::StrCat("expected '(' to start a tile after 'T', got ",
                                Describe(pos_)));
    }
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek(0) != '(') break;
      ++pos_;
      std::vector<int64_t> dims;
      XLAYOUT_RETURN_IF_ERROR(ParseSeparated(
          ')', false, "after tile dimension", [&]() -> absl::Status {
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
            size_t at = pos_;
            if (Peek(0) == '*') {
              ++pos_;
              dims.push_back(Tile::kCombineDimension);
              return absl::OkStatus();
            }
            if (!IsIntStart()) {
              return Error(at, absl::StrCat("expected a tile dimension "
                                            "(integer or '*'), got ",
                                            Describe(at)));
            }
            XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseInt("tile dimension"));
            // XLA aborts on these; refuse them instead.
            if (v < 0 && v != Tile::kCombineDimension) {
              return Error(
                  at,
                  absl::StrCat("tile dimension must be >= 0 or '*', got ", v));
            }
            dims.push_back(v);
            return absl::OkStatus();
          }));
      layout->mutable_tiles()->push_back(Tile(std::move(dims)));
    }
    return absl::OkStatus();
  }

  absl::Status ParseSplitConfigs(Layout* layout) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek(0) != '(') {
      return Error(
          pos_,
          absl::StrCat("expected '(' to start a split config after 'SC', got ",
                       Describe(pos_)));
    }
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek(0) != '(') break;
      ++pos_;
      SplitConfig config;
      XLAYOUT_ASSIGN_OR_RETURN(config.dimension, ParseInt("split dimension"));
      XLAYOUT_RETURN_IF_ERROR(Expect(':', "':' after the split dimension"));
      XLAYOUT_RETURN_IF_ERROR(ParseSeparated(
          ')', false, "after split index", [&]() -> absl::Status {
            XLAYOUT_ASSIGN_OR_RETURN(int64_t index, ParseInt("split index"));
            config.split_indices.push_back(index);
            return absl::OkStatus();
          }));
      layout->mutable_split_configs()->push_back(std::move(config));
    }
    return absl::OkStatus();
  }

  // A Python tuple of ints: "(0, 1, 2)", "(0,1,2)", "(0,)", "()".
  // `allow_combine`: a tile from JAX carries a combined dim as INT64_MIN.
  absl::StatusOr<std::vector<int64_t>> ParsePyIntTuple(
      absl::string_view what, bool allow_combine = false) {
    XLAYOUT_RETURN_IF_ERROR(
        Expect('(', absl::StrCat("'(' to start the ", what, " tuple")));
    std::vector<int64_t> values;
    XLAYOUT_RETURN_IF_ERROR(ParseSeparated(
        ')', true, absl::StrCat("in the ", what, " tuple"),
        [&]() -> absl::Status {
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          size_t at = pos_;
          XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseInt(what));
          if (v < 0 && !(allow_combine && v == Tile::kCombineDimension)) {
            return Error(at,
                         absl::StrCat(what, " entries must be >= 0, got ", v));
          }
          values.push_back(v);
          return absl::OkStatus();
        }));
    return values;
  }

  absl::Status ParsePyTiling(Layout* layout) {
    XLAYOUT_RETURN_IF_ERROR(Expect('(', "'(' to start the tiling tuple"));
    return ParseSeparated(
        ')', true, "in the tiling tuple", [&]() -> absl::Status {
          XLAYOUT_ASSIGN_OR_RETURN(std::vector<int64_t> tile,
                           ParsePyIntTuple("tile", /*allow_combine=*/true));
          layout->mutable_tiles()->push_back(Tile(std::move(tile)));
          return absl::OkStatus();
        });
  }

  absl::string_view text_;
  ShapeParseOptions options_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<Shape> ParseShapePrefix(absl::string_view text, size_t* consumed,
                                       const ShapeParseOptions& options) {
  Parser parser(text, options);
  XLAYOUT_ASSIGN_OR_RETURN(Shape shape, parser.ParseShape(0));
  if (consumed != nullptr) *consumed = parser.pos();
  return shape;
}

absl::StatusOr<Shape> ParseShape(absl::string_view text,
                                 const ShapeParseOptions& options) {
  Parser parser(text, options);
  XLAYOUT_ASSIGN_OR_RETURN(Shape shape, parser.ParseShape(0));
  XLAYOUT_RETURN_IF_ERROR(parser.ExpectEnd("shape"));
  return shape;
}

absl::StatusOr<Layout> ParseLayout(absl::string_view text) {
  Parser parser(text, ShapeParseOptions{});
  XLAYOUT_ASSIGN_OR_RETURN(Layout layout, parser.ParseLayout(/*in_shape=*/false, 0));
  XLAYOUT_RETURN_IF_ERROR(parser.ExpectEnd("layout"));
  return layout;
}

absl::StatusOr<Layout> ParseJaxLayout(absl::string_view repr) {
  Parser parser(repr, ShapeParseOptions{});
  XLAYOUT_ASSIGN_OR_RETURN(Layout layout, parser.ParseJaxLayout());
  XLAYOUT_RETURN_IF_ERROR(parser.ExpectEnd("Layout(...)"));
  return layout;
}

}  // namespace xlayout
