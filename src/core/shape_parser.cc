// Recursive-descent parser for XLA shape/layout text. It follows the grammar
// accepted by XLA's hlo_parser.cc (ParseShape, ParseLayout) with XLA's lexer
// rules for whitespace, comments and integers, but reports every rejection with
// the column and what was expected there.
#include "xlayout/shape_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/text_cursor.h"
#include "core/jax_layout.h"
#include "core/shape_reader.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

// Deep nesting of tuples / P(...) is legal but a stack hazard; XLA caps it too.
constexpr int kMaxDepth = 200;

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

class Parser : public TextCursor {
 public:
  Parser(absl::string_view text, const ShapeParseOptions& options)
      : TextCursor(text), options_(options) {}

  absl::StatusOr<Shape> ParseShape(int depth) {
    if (depth > kMaxDepth)
      return Error(pos(), "maximum recursion depth exceeded");
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (AtEnd()) return Error(pos(), "expected a shape, got end of input");
    char c = text()[pos()];
    if (c == '(') return ParseTuple(depth);
    if (!IsIdentStart(c)) {
      return Error(
          pos(),
          absl::StrCat("expected a shape (element type such as 'f32', or '(' "
                       "for a tuple), got ",
                       Describe(pos())));
    }
    size_t start = pos();
    std::string ident(ReadIdentifier());
    if (ident == "b") {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek() == '(') return ParseBuffer(start, depth);
    }
    std::optional<PrimitiveType> type = PrimitiveTypeFromName(ident);
    if (!type.has_value()) return UnknownType(start, ident);
    return ParseArray(*type, depth);
  }

  // layout ::= '{' [INT {',' INT}] [':' attrs] '}'. `in_shape` forbids P(...)
  // on dense layouts, as XLA's ParseShape does.
  absl::StatusOr<Layout> ParseLayout(bool in_shape, int depth) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t open = pos();
    XLAYOUT_RETURN_IF_ERROR(Expect('{', "'{' to start a layout"));
    Layout layout;
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (AtInteger()) {
      while (true) {
        XLAYOUT_ASSIGN_OR_RETURN(int64_t v,
                                 ParseInt("minor_to_major dimension"));
        layout.mutable_minor_to_major()->push_back(v);
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        if (Peek() == ',') {
          Advance();
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          if (!AtInteger()) {
            return Error(
                pos(), absl::StrCat("expected a dimension number after ',' in "
                                    "minor_to_major, got ",
                                    Describe(pos())));
          }
          continue;
        }
        break;
      }
    }
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek() == ':') {
      Advance();
      XLAYOUT_RETURN_IF_ERROR(ParseAttributes(&layout, in_shape, depth));
    } else if (Peek() != '}') {
      return Error(
          pos(),
          absl::StrCat(layout.minor_to_major().empty()
                           ? "expected a dimension number, ':' or '}' in layout"
                           : "expected ',', ':' or '}' after minor_to_major "
                             "dimension",
                       ", got ", Describe(pos())));
    }
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek() != '}') {
      return Error(pos(),
                   absl::StrCat("expected '}' to end the layout opened at col ",
                                Column(open), ", got ", Describe(pos())));
    }
    Advance();
    return layout;
  }

  absl::Status ExpectEnd(absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (AtEnd()) return absl::OkStatus();
    // Quote the excerpt with control and non-ASCII bytes escaped, so the
    // message stays one printable line.
    std::string extra;
    for (char c : text().substr(pos(), 24)) {
      if (std::isprint(static_cast<unsigned char>(c))) {
        extra += c;
      } else {
        absl::StrAppendFormat(&extra, "\\x%02x", static_cast<unsigned char>(c));
      }
    }
    if (pos() + 24 < text().size()) extra += "...";
    std::string hint;
    if (text()[pos()] == '{') {
      size_t save = pos();
      Advance();
      bool starts_layout = SkipTrivia().ok() && (AtInteger() || Peek() == ':');
      set_pos(save);
      hint = starts_layout
                 ? " (a layout follows an array's dimensions, at most once)"
                 : " (a layout must start with a dimension number or ':'; "
                   "'{}' is not a layout inside a shape)";
    }
    return Error(pos(), absl::StrCat("extra content after ", what, ": '", extra,
                                     "'", hint));
  }

  absl::Status Error(size_t at, absl::string_view message) const {
    return ErrorAt(at, message);
  }

 private:
  // INT ::= -?[0-9]+, exactly: a literal beyond int64 is "number too large
  // (limit ...)", never bit-cast as XLA's lexer does (which turns
  // 18446744073709551615 into -1 and 9223372036854775808 into '*').
  absl::StatusOr<int64_t> ParseInt(absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    return ReadInt64(what);
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

  absl::StatusOr<Shape> ParseTuple(int depth) {
    Advance();  // '('
    std::vector<Shape> elements;
    XLAYOUT_RETURN_IF_ERROR(ReadList(')', false, "after tuple element", [&] {
      absl::StatusOr<Shape> element = ParseShape(depth + 1);
      if (!element.ok()) return element.status();
      elements.push_back(*std::move(element));
      return absl::OkStatus();
    }));
    return Shape::MakeTuple(std::move(elements));
  }

  absl::StatusOr<Shape> ParseBuffer(size_t start, int depth) {
    Advance();  // '('
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t inner_pos = pos();
    XLAYOUT_ASSIGN_OR_RETURN(Shape inner, ParseShape(depth + 1));
    if (!inner.IsArray()) {
      return Error(inner_pos, "a buffer b(...) must hold an array shape");
    }
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek() != ')') {
      return Error(
          pos(), absl::StrCat("expected ')' to close the buffer opened at col ",
                              Column(start), ", got ", Describe(pos())));
    }
    Advance();
    return Shape::MakeBuffer(std::move(inner));
  }

  // dim ::= INT | '<=' INT | '?'
  absl::Status ParseDimension(std::vector<int64_t>* dims,
                              std::vector<bool>* dynamic) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t dim_pos = pos();
    if (Peek() == '?') {
      Advance();
      dims->push_back(Shape::kUnboundedSize);
      dynamic->push_back(true);
      return absl::OkStatus();
    }
    if (Peek() == '<') {
      if (Peek(1) != '=') {
        return Error(pos(), "expected '<=' (a lone '<' is not a token)");
      }
      Advance(2);
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (!AtInteger()) {
        return Error(pos(),
                     absl::StrCat("expected an integer bound after '<=', got ",
                                  Describe(pos())));
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
    if (!AtInteger()) {
      return Error(pos(),
                   absl::StrCat("expected a dimension (N, <=N or ?), got ",
                                Describe(pos())));
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
    if (Peek() != '[') {
      return Error(pos(), absl::StrCat("expected '[' after element type '",
                                       PrimitiveTypeName(type), "', got ",
                                       Describe(pos())));
    }
    Advance();
    std::vector<int64_t> dims;
    std::vector<bool> dynamic;
    XLAYOUT_RETURN_IF_ERROR(ReadList(']', false, "after dimension", [&] {
      return ParseDimension(&dims, &dynamic);
    }));
    if (type == PrimitiveType::kToken || type == PrimitiveType::kOpaque) {
      if (!dims.empty()) {
        return Error(pos() - 1, absl::StrCat(PrimitiveTypeName(type),
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
    size_t before = pos();
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t layout_pos = pos();
    bool has_layout = false;
    if (Peek() == '{') {
      size_t save = pos();
      Advance();
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      has_layout = AtInteger() || Peek() == ':';
      set_pos(save);
    }
    if (has_layout) {
      XLAYOUT_ASSIGN_OR_RETURN(Layout layout,
                               ParseLayout(/*in_shape=*/true, depth));
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
    if (options_.allow_jax_layout && AtJaxLayout(*this)) {
      XLAYOUT_ASSIGN_OR_RETURN(Layout layout, ReadJaxLayout(*this));
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
    set_pos(before);  // Trivia after the shape belongs to whoever reads on.
    if (options_.fill_missing_layouts || shape.rank() == 0) {
      shape.set_layout(DefaultLayout(shape.rank()));
    }
    return shape;
  }

  absl::Status ParseAttributes(Layout* layout, bool in_shape, int depth) {
    int last = 0;
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (AtEnd() || Peek() == '}') return absl::OkStatus();
      size_t at = pos();
      Attr attr;
      if (Peek() == '#') {
        attr = Attr::kIndex;
        Advance();
      } else if (Peek() == '*') {
        attr = Attr::kPointer;
        Advance();
      } else if (IsIdentStart(Peek())) {
        std::string name(ReadIdentifier());
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
      XLAYOUT_RETURN_IF_ERROR(
          ParseAttribute(attr, at, layout, in_shape, depth));
    }
  }

  absl::StatusOr<int64_t> ParseParenInt(const char* attr,
                                        size_t* value_pos = nullptr) {
    XLAYOUT_RETURN_IF_ERROR(
        Expect('(', absl::StrCat("'(' after '", attr, "'")));
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (value_pos != nullptr) *value_pos = pos();
    XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseInt(absl::StrCat(attr, "(...)")));
    XLAYOUT_RETURN_IF_ERROR(
        Expect(')', absl::StrCat("')' to close ", attr, "(...)")));
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
        XLAYOUT_RETURN_IF_ERROR(
            Expect('(', absl::StrCat("'(' after '", name, "'")));
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        size_t type_pos = pos();
        std::string ident = std::string(ReadIdentifier());
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
        ReadList(')', false, "in D(...)", [&]() -> absl::Status {
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          size_t at = pos();
          std::string ident = std::string(ReadIdentifier());
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
          if (Peek() == '+') {
            unique = false;
            Advance();
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          }
          if (Peek() == '~') {
            ordered = false;
            Advance();
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
    if (Peek() != '(') {
      return Error(pos(),
                   absl::StrCat("expected '(' to start a tile after 'T', got ",
                                Describe(pos())));
    }
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek() != '(') break;
      Advance();
      std::vector<int64_t> dims;
      XLAYOUT_RETURN_IF_ERROR(
          ReadList(')', false, "after tile dimension", [&]() -> absl::Status {
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
            size_t at = pos();
            if (Peek() == '*') {
              Advance();
              dims.push_back(Tile::kCombineDimension);
              return absl::OkStatus();
            }
            if (!AtInteger()) {
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
    if (Peek() != '(') {
      return Error(
          pos(),
          absl::StrCat("expected '(' to start a split config after 'SC', got ",
                       Describe(pos())));
    }
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek() != '(') break;
      Advance();
      SplitConfig config;
      XLAYOUT_ASSIGN_OR_RETURN(config.dimension, ParseInt("split dimension"));
      XLAYOUT_RETURN_IF_ERROR(Expect(':', "':' after the split dimension"));
      XLAYOUT_RETURN_IF_ERROR(
          ReadList(')', false, "after split index", [&]() -> absl::Status {
            XLAYOUT_ASSIGN_OR_RETURN(int64_t index, ParseInt("split index"));
            config.split_indices.push_back(index);
            return absl::OkStatus();
          }));
      layout->mutable_split_configs()->push_back(std::move(config));
    }
    return absl::OkStatus();
  }

  ShapeParseOptions options_;
};

}  // namespace

absl::StatusOr<Shape> ReadShape(TextCursor& cursor,
                                const ShapeParseOptions& options) {
  Parser parser(cursor.text(), options);
  parser.set_pos(cursor.pos());
  XLAYOUT_ASSIGN_OR_RETURN(Shape shape, parser.ParseShape(0));
  cursor.set_pos(parser.pos());
  return shape;
}

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
  XLAYOUT_ASSIGN_OR_RETURN(Layout layout,
                           parser.ParseLayout(/*in_shape=*/false, 0));
  XLAYOUT_RETURN_IF_ERROR(parser.ExpectEnd("layout"));
  return layout;
}

absl::StatusOr<Layout> ParseJaxLayout(absl::string_view repr) {
  Parser parser(repr, ShapeParseOptions{});
  XLAYOUT_ASSIGN_OR_RETURN(Layout layout, ReadJaxLayout(parser));
  XLAYOUT_RETURN_IF_ERROR(parser.ExpectEnd("Layout(...)"));
  return layout;
}

}  // namespace xlayout
