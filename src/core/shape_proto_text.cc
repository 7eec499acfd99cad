// XLA ShapeProto text format, read into Shape. See shape_proto_text.h.
#include "xlayout/shape_proto_text.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/text_cursor.h"
#include "xlayout/layout.h"
#include "xlayout/primitive_type.h"
#include "xlayout/status_macros.h"
#include "xlayout/tile.h"

namespace xlayout {
namespace {

constexpr int kMaxDepth = 16;

bool IsLowerStart(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool IsLowerChar(char c) { return IsLowerStart(c) || IsAsciiDigit(c); }
bool IsEnumChar(char c) {
  return (c >= 'A' && c <= 'Z') || IsAsciiDigit(c) || c == '_';
}

std::optional<PrimitiveType> TypeFromEnum(absl::string_view name) {
  if (name == "OPAQUE_TYPE") return PrimitiveType::kOpaque;
  if (name == "TUPLE") return PrimitiveType::kTuple;
  if (name == "TOKEN") return PrimitiveType::kToken;
  if (name == "PRIMITIVE_TYPE_INVALID") return PrimitiveType::kInvalid;
  return PrimitiveTypeFromName(absl::AsciiStrToLower(name));
}

std::optional<DimLevelType> DimLevelFromEnum(absl::string_view name) {
  if (name == "DIM_DENSE") return DimLevelType::kDense;
  if (name == "DIM_COMPRESSED") return DimLevelType::kCompressed;
  if (name == "DIM_SINGLETON") return DimLevelType::kSingleton;
  if (name == "DIM_LOOSE_COMPRESSED") return DimLevelType::kLooseCompressed;
  return std::nullopt;
}

class ProtoReader : public TextCursor {
 public:
  explicit ProtoReader(absl::string_view text) : TextCursor(text) {}

  bool at_end() const { return at_end_; }

  // Reads ShapeProto fields until `}` (nested) or, at the top level, until a
  // token that is not a ShapeProto field.
  absl::Status ReadShape(Shape* out, bool top, int depth, size_t* last_end) {
    if (depth > kMaxDepth) return ErrorAt(pos(), "shapes nested too deep");
    std::optional<PrimitiveType> type;
    std::vector<int64_t> dims;
    std::vector<bool> dynamic;
    std::vector<Shape> tuple;
    std::optional<Layout> layout;
    int fields = 0;
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      const size_t field_pos = pos();
      if (AtEnd()) {
        if (!top) return End("text ends inside a shape");
        at_end_ = true;
        break;
      }
      if (!top && Peek() == '}') break;
      absl::string_view name = ReadFieldName();
      const bool known = name == "element_type" || name == "dimensions" ||
                         name == "is_dynamic_dimension" ||
                         name == "tuple_shapes" || name == "layout";
      const bool message = name == "tuple_shapes" || name == "layout";
      // At the top level anything that is not "known_field:" / "known {"
      // ends the proto (the text around it goes on).
      if (name.empty() || (top && !known)) {
        if (top) {
          set_pos(field_pos);
          break;
        }
        return ErrorAt(field_pos,
                       absl::StrCat("expected a ShapeProto field or '}', got ",
                                    Describe(field_pos)));
      }
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (AtEnd()) {
        if (top && fields > 0) {
          // "...is_dynamic_dimension: false  dimen" cut short.
          at_end_ = true;
          set_pos(field_pos);
          break;
        }
        return End("text ends after a field name");
      }
      const bool colon = Consume(':');
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (AtEnd()) return End("text ends after ':'");
      if (message ? Peek() != '{' : !colon) {
        if (top) {
          set_pos(field_pos);
          break;
        }
        return ErrorAt(pos(), absl::StrCat("expected ", message ? "'{'" : "':'",
                                           " after '", name, "'"));
      }
      if (!known) {
        XLAYOUT_RETURN_IF_ERROR(SkipValue(depth));
        continue;
      }
      ++fields;
      if (name == "element_type") {
        XLAYOUT_ASSIGN_OR_RETURN(
            type, ReadEnum<PrimitiveType>("element type", TypeFromEnum));
      } else if (name == "dimensions") {
        XLAYOUT_RETURN_IF_ERROR(ReadInts("dimensions", &dims));
      } else if (name == "is_dynamic_dimension") {
        XLAYOUT_RETURN_IF_ERROR(ReadBools(&dynamic));
      } else if (name == "tuple_shapes") {
        Advance();  // '{'
        Shape element;
        XLAYOUT_RETURN_IF_ERROR(ReadShape(&element, false, depth + 1, nullptr));
        XLAYOUT_RETURN_IF_ERROR(CloseBrace("tuple_shapes"));
        tuple.push_back(std::move(element));
      } else {  // layout
        if (layout.has_value()) {
          return ErrorAt(field_pos, "layout given twice");
        }
        Advance();  // '{'
        Layout l;
        XLAYOUT_RETURN_IF_ERROR(ReadLayout(&l, depth + 1));
        XLAYOUT_RETURN_IF_ERROR(CloseBrace("layout"));
        layout = std::move(l);
      }
      if (last_end != nullptr) *last_end = pos();
    }
    if (fields == 0) {
      return ErrorAt(pos(),
                     absl::StrCat("expected a ShapeProto (element_type: ...), "
                                  "got ",
                                  Describe(pos())));
    }
    if (!type.has_value()) {
      return ErrorAt(pos(), "the ShapeProto has no element_type");
    }
    if (*type == PrimitiveType::kTuple) {
      if (!dims.empty()) {
        return ErrorAt(pos(), "a TUPLE ShapeProto has dimensions");
      }
      *out = Shape::MakeTuple(std::move(tuple));
      return absl::OkStatus();
    }
    if (!tuple.empty()) {
      return ErrorAt(pos(), "tuple_shapes in a shape that is not a TUPLE");
    }
    if (!dynamic.empty() && dynamic.size() != dims.size()) {
      return ErrorAt(pos(),
                     absl::StrCat("is_dynamic_dimension has ", dynamic.size(),
                                  " entries for ", dims.size(), " dimensions"));
    }
    for (int64_t d : dims) {
      if (d < 0 && d != Shape::kUnboundedSize) {
        return ErrorAt(pos(), absl::StrCat("dimension ", d, " is negative"));
      }
    }
    Shape shape(*type, dims);
    for (size_t i = 0; i < dynamic.size(); ++i) {
      if (dynamic[i]) shape.set_dimension(static_cast<int>(i), dims[i], true);
    }
    if (layout.has_value()) shape.set_layout(*std::move(layout));
    *out = std::move(shape);
    return absl::OkStatus();
  }

 private:
  absl::Status End(absl::string_view what) {
    at_end_ = true;
    return ErrorAt(pos(), what);
  }

  absl::string_view ReadFieldName() {
    size_t start = pos();
    if (!IsLowerStart(Peek())) return {};
    while (IsLowerChar(Peek())) Advance();
    return text().substr(start, pos() - start);
  }

  absl::Status CloseBrace(absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (AtEnd()) return End(absl::StrCat("text ends inside ", what, " {"));
    return Expect('}', absl::StrCat("'}' to close ", what));
  }

  // An enum value: the longest run of [A-Z0-9_] that names one (text whose
  // whitespace was removed may glue the next upper-case word to it).
  template <typename T, typename F>
  absl::StatusOr<T> ReadEnum(absl::string_view what, F from_name) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t start = pos();
    size_t end = start;
    while (end < text().size() && IsEnumChar(text()[end])) ++end;
    if (end == start) {
      if (AtEnd()) return End(absl::StrCat("text ends before the ", what));
      return ErrorAt(start, absl::StrCat("expected an upper-case ", what,
                                         " name, got ", Describe(start)));
    }
    if (end == text().size()) at_end_ = true;
    for (size_t e = end; e > start; --e) {
      std::optional<T> v = from_name(text().substr(start, e - start));
      if (v.has_value()) {
        at_end_ = at_end_ && e == end;
        set_pos(e);
        return *v;
      }
    }
    return ErrorAt(
        start,
        absl::StrCat("unknown ", what, " '",
                     text().substr(start, std::min<size_t>(end - start, 40)),
                     "'"));
  }

  absl::StatusOr<int64_t> ReadOneInt(absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (AtEnd()) return End(absl::StrCat("text ends before ", what));
    XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ReadInt64(what));
    if (AtEnd()) at_end_ = true;
    return v;
  }

  // One value, or a list `[a, b]`.
  absl::Status ReadInts(absl::string_view what, std::vector<int64_t>* out) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Consume('[')) {
      return ReadList(']', false, absl::StrCat("in the ", what, " list"),
                      [&]() -> absl::Status {
                        XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ReadOneInt(what));
                        out->push_back(v);
                        return absl::OkStatus();
                      });
    }
    XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ReadOneInt(what));
    out->push_back(v);
    return absl::OkStatus();
  }

  absl::StatusOr<bool> ReadOneBool() {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    for (auto [lit, v] : {std::pair<absl::string_view, bool>{"true", true},
                          {"false", false},
                          {"True", true},
                          {"False", false},
                          {"1", true},
                          {"0", false}}) {
      if (rest().size() < lit.size() && absl::StartsWith(lit, rest()) &&
          !rest().empty()) {
        return End("text ends inside a bool");
      }
      if (ConsumeLiteral(lit)) {
        if (AtEnd()) at_end_ = true;
        return v;
      }
    }
    if (AtEnd()) return End("text ends before a bool");
    return ErrorAt(
        pos(), absl::StrCat("expected true or false, got ", Describe(pos())));
  }

  absl::Status ReadBools(std::vector<bool>* out) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Consume('[')) {
      return ReadList(']', false, "in the bool list", [&]() -> absl::Status {
        XLAYOUT_ASSIGN_OR_RETURN(bool v, ReadOneBool());
        out->push_back(v);
        return absl::OkStatus();
      });
    }
    XLAYOUT_ASSIGN_OR_RETURN(bool v, ReadOneBool());
    out->push_back(v);
    return absl::OkStatus();
  }

  // Skips the value of a field this reader does not know (after its ':').
  absl::Status SkipValue(int depth) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek() == '{') {
      if (depth > kMaxDepth) return ErrorAt(pos(), "fields nested too deep");
      Advance();
      while (true) {
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        if (AtEnd()) return End("text ends inside a field");
        if (Peek() == '}') {
          Advance();
          return absl::OkStatus();
        }
        size_t p = pos();
        if (ReadFieldName().empty()) {
          return ErrorAt(
              p, absl::StrCat("expected a field name, got ", Describe(p)));
        }
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        Consume(':');
        XLAYOUT_RETURN_IF_ERROR(SkipValue(depth + 1));
      }
    }
    if (Peek() == '"' || Peek() == '\'') {
      const char q = Peek();
      size_t e = pos() + 1;
      while (e < text().size() && text()[e] != q)
        e += text()[e] == '\\' ? 2 : 1;
      if (e >= text().size()) return End("text ends inside a string");
      set_pos(e + 1);
      return absl::OkStatus();
    }
    if (Peek() == '[') {
      size_t close = text().find(']', pos());
      if (close == absl::string_view::npos) return End("text ends in a list");
      set_pos(close + 1);
      return absl::OkStatus();
    }
    size_t start = pos();
    while (!AtEnd() && (IsIdentChar(Peek()) || Peek() == '+')) Advance();
    if (pos() == start) {
      if (AtEnd()) return End("text ends before a value");
      return ErrorAt(start,
                     absl::StrCat("expected a value, got ", Describe(start)));
    }
    return absl::OkStatus();
  }

  absl::Status ReadLayout(Layout* l, int depth) {
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (AtEnd()) return End("text ends inside layout {");
      if (Peek() == '}') return absl::OkStatus();
      const size_t field_pos = pos();
      absl::string_view name = ReadFieldName();
      if (name.empty()) {
        return ErrorAt(field_pos,
                       absl::StrCat("expected a LayoutProto field or '}', got ",
                                    Describe(field_pos)));
      }
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (AtEnd()) return End("text ends after a field name");
      const bool colon = Consume(':');
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (AtEnd()) return End("text ends after ':'");
      const bool brace = Peek() == '{';
      auto need_colon = [&]() -> absl::Status {
        if (colon && !brace) return absl::OkStatus();
        return ErrorAt(
            pos(), absl::StrCat("expected ':' and a value after '", name, "'"));
      };
      auto need_brace = [&]() -> absl::Status {
        if (brace) {
          Advance();
          return absl::OkStatus();
        }
        return ErrorAt(pos(), absl::StrCat("expected '{' after '", name, "'"));
      };
      std::vector<int64_t> ints;
      if (name == "minor_to_major") {
        XLAYOUT_RETURN_IF_ERROR(need_colon());
        XLAYOUT_RETURN_IF_ERROR(ReadInts("minor_to_major", &ints));
        for (int64_t v : ints) l->mutable_minor_to_major()->push_back(v);
      } else if (name == "tiles") {
        XLAYOUT_RETURN_IF_ERROR(need_brace());
        std::vector<int64_t> tile;
        while (true) {
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          if (AtEnd()) return End("text ends inside tiles {");
          if (Peek() == '}') break;
          size_t p = pos();
          absl::string_view f = ReadFieldName();
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          if (f != "dimensions" || !Consume(':')) {
            if (AtEnd()) return End("text ends inside tiles {");
            return ErrorAt(p, absl::StrCat("expected 'dimensions:' in tiles, "
                                           "got ",
                                           Describe(p)));
          }
          XLAYOUT_RETURN_IF_ERROR(ReadInts("tile dimensions", &tile));
        }
        Advance();  // '}'
        for (int64_t d : tile) {
          if (d <= 0 && d != Tile::kCombineDimension) {
            return ErrorAt(field_pos, absl::StrCat("tile dimension ", d,
                                                   " is not positive"));
          }
        }
        l->mutable_tiles()->push_back(Tile(std::move(tile)));
      } else if (name == "element_size_in_bits" || name == "memory_space" ||
                 name == "tail_padding_alignment_in_elements" ||
                 name == "dynamic_shape_metadata_prefix_bytes") {
        XLAYOUT_RETURN_IF_ERROR(need_colon());
        XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ReadOneInt(name));
        if (v < 0) {
          return ErrorAt(field_pos, absl::StrCat(name, " is negative: ", v));
        }
        if (name == "element_size_in_bits") {
          l->set_element_size_in_bits(v);
        } else if (name == "memory_space") {
          l->set_memory_space(v);
        } else if (name == "tail_padding_alignment_in_elements") {
          // Proto default 0 means "unset", i.e. XLA's 1.
          l->set_tail_padding_alignment_in_elements(v == 0 ? 1 : v);
        } else {
          l->set_dynamic_shape_metadata_prefix_bytes(v);
        }
      } else if (name == "dim_level_types") {
        XLAYOUT_RETURN_IF_ERROR(need_colon());
        XLAYOUT_ASSIGN_OR_RETURN(
            DimLevelType t,
            ReadEnum<DimLevelType>("dim level type", DimLevelFromEnum));
        l->mutable_dim_level_types()->push_back(t);
      } else if (name == "dim_unique" || name == "dim_ordered") {
        XLAYOUT_RETURN_IF_ERROR(need_colon());
        std::vector<bool> bools;
        XLAYOUT_RETURN_IF_ERROR(ReadBools(&bools));
        auto* dst = name == "dim_unique" ? l->mutable_dim_unique()
                                         : l->mutable_dim_ordered();
        dst->insert(dst->end(), bools.begin(), bools.end());
      } else if (name == "index_primitive_type" ||
                 name == "pointer_primitive_type") {
        XLAYOUT_RETURN_IF_ERROR(need_colon());
        XLAYOUT_ASSIGN_OR_RETURN(
            PrimitiveType t,
            ReadEnum<PrimitiveType>("element type", TypeFromEnum));
        if (name == "index_primitive_type") {
          l->set_index_primitive_type(t);
        } else {
          l->set_pointer_primitive_type(t);
        }
      } else if (name == "split_configs") {
        XLAYOUT_RETURN_IF_ERROR(need_brace());
        SplitConfig config;
        while (true) {
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          if (AtEnd()) return End("text ends inside split_configs {");
          if (Peek() == '}') break;
          size_t p = pos();
          absl::string_view f = ReadFieldName();
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          if ((f != "dimension" && f != "split_indices") || !Consume(':')) {
            if (AtEnd()) return End("text ends inside split_configs {");
            return ErrorAt(p, absl::StrCat("expected 'dimension:' or "
                                           "'split_indices:' in split_configs, "
                                           "got ",
                                           Describe(p)));
          }
          if (f == "dimension") {
            XLAYOUT_ASSIGN_OR_RETURN(config.dimension, ReadOneInt(f));
          } else {
            XLAYOUT_RETURN_IF_ERROR(ReadInts(f, &config.split_indices));
          }
        }
        Advance();  // '}'
        l->mutable_split_configs()->push_back(std::move(config));
      } else if (name == "physical_shape") {
        XLAYOUT_RETURN_IF_ERROR(need_brace());
        Shape physical;
        XLAYOUT_RETURN_IF_ERROR(
            ReadShape(&physical, false, depth + 1, nullptr));
        XLAYOUT_RETURN_IF_ERROR(CloseBrace("physical_shape"));
        l->set_physical_shape(physical);
      } else {
        // format: DENSE (older XLA), max_sparse_elements, and fields added
        // after this reader was written.
        XLAYOUT_RETURN_IF_ERROR(SkipValue(depth));
      }
    }
  }

  bool at_end_ = false;
};

}  // namespace

ShapeProtoRead ReadShapeProtoText(absl::string_view text) {
  ProtoReader reader(text);
  ShapeProtoRead out;
  size_t last_end = 0;
  out.status = reader.ReadShape(&out.shape, /*top=*/true, 0, &last_end);
  out.at_end = reader.at_end();
  out.end = out.status.ok() ? last_end : reader.pos();
  if (!out.status.ok()) out.shape = Shape();
  return out;
}

absl::StatusOr<Shape> ParseShapeProtoText(absl::string_view text) {
  ShapeProtoRead read = ReadShapeProtoText(text);
  XLAYOUT_RETURN_IF_ERROR(read.status);
  TextCursor cursor(text, read.end);
  XLAYOUT_RETURN_IF_ERROR(cursor.SkipTrivia());
  if (!cursor.AtEnd()) {
    return cursor.ErrorAt(
        cursor.pos(), absl::StrCat("unexpected ", cursor.Describe(cursor.pos()),
                                   " after the ShapeProto"));
  }
  return std::move(read.shape);
}

}  // namespace xlayout
