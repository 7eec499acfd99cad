// JAX's layout reprs, read into XLA layouts. See jax_layout.h.
#include "core/jax_layout.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "xlayout/jax_layout.h"
#include "xlayout/primitive_type.h"
#include "xlayout/status_macros.h"
#include "xlayout/tile.h"

namespace xlayout {
namespace {

// Works on a copy of the caller's cursor (same text, so columns are those
// of the whole text); the caller takes over the position on success.
class JaxReader : public TextCursor {
 public:
  explicit JaxReader(const TextCursor& cursor) : TextCursor(cursor) {}

  // Also reads the wrappers JAX prints around a layout, keeping the layout
  // and skipping the sharding: `Format(layout=Layout(...), sharding=...)`
  // and the older `Layout(device_local_layout=DeviceLocalLayout(...),
  // sharding=...)`.
  absl::StatusOr<Layout> Read(int depth = 0) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    size_t start = pos();
    if (!AtIdentifier()) {
      return ErrorAt(
          pos(), absl::StrCat("expected 'Layout(' , got ", Describe(pos())));
    }
    std::string name(ReadIdentifier());
    if (name == "AUTO" || absl::EndsWith(name, ".AUTO")) {
      return ErrorAt(
          start,
          "Layout.AUTO is not a concrete layout; pass the layout of a "
          "compiled executable (compiled.input_formats)");
    }
    if (name == "None" && depth > 0) {
      return ErrorAt(start,
                     "the layout is None (not concrete); pass the layout of a "
                     "compiled executable (compiled.input_formats)");
    }
    if (name != "Layout" && name != "DeviceLocalLayout" && name != "Format") {
      return ErrorAt(start,
                     absl::StrCat("expected 'Layout(', got '", name, "'"));
    }
    if (depth > 2) return ErrorAt(start, "JAX layout wrappers nested too deep");
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    XLAYOUT_RETURN_IF_ERROR(
        Expect('(', absl::StrCat("'(' after '", name, "'")));
    Layout layout;
    std::optional<Layout> wrapped;
    bool seen_m2m = false, seen_tiling = false, seen_sub_byte = false;
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek() == ')') {
        Advance();
        break;
      }
      size_t key_pos = pos();
      if (!AtIdentifier()) {
        return ErrorAt(
            pos(),
            absl::StrCat("expected a keyword argument (major_to_minor, tiling, "
                         "sub_byte_element_size_in_bits) or ')', got ",
                         Describe(pos())));
      }
      std::string key(ReadIdentifier());
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      XLAYOUT_RETURN_IF_ERROR(
          Expect('=', absl::StrCat("'=' after '", key, "'")));
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      // JAX's older DeviceLocalLayout repr spells the optional fields
      // `_tiling` and `_sub_byte_element_size_in_bits`.
      if (key == "_tiling" || key == "_sub_byte_element_size_in_bits") {
        key.erase(0, 1);
      }
      if (key == "layout" || key == "device_local_layout") {
        if (wrapped.has_value()) {
          return ErrorAt(key_pos, absl::StrCat(key, " given twice"));
        }
        XLAYOUT_ASSIGN_OR_RETURN(wrapped, Read(depth + 1));
      } else if (key == "sharding") {
        XLAYOUT_RETURN_IF_ERROR(SkipPyValue(key));
      } else if (key == "major_to_minor") {
        if (seen_m2m) return ErrorAt(key_pos, "major_to_minor given twice");
        seen_m2m = true;
        XLAYOUT_ASSIGN_OR_RETURN(std::vector<int64_t> m2m,
                                 ParsePyIntTuple("major_to_minor"));
        // JAX lists dims major to minor; XLA stores them minor to major.
        layout.mutable_minor_to_major()->assign(m2m.rbegin(), m2m.rend());
      } else if (key == "tiling") {
        if (seen_tiling) return ErrorAt(key_pos, "tiling given twice");
        seen_tiling = true;
        if (AtIdentifier()) {
          size_t p = pos();
          if (ReadIdentifier() != "None") {
            return ErrorAt(p, "expected a tuple of tiles or None for tiling");
          }
        } else {
          XLAYOUT_RETURN_IF_ERROR(ParsePyTiling(&layout));
        }
      } else if (key == "sub_byte_element_size_in_bits") {
        if (seen_sub_byte)
          return ErrorAt(key_pos, "sub_byte_element_size_in_bits given twice");
        seen_sub_byte = true;
        XLAYOUT_ASSIGN_OR_RETURN(int64_t bits,
                                 ParseInt("sub_byte_element_size_in_bits"));
        if (bits < 0)
          return ErrorAt(key_pos, "sub_byte_element_size_in_bits must be >= 0");
        layout.set_element_size_in_bits(bits);
      } else {
        return ErrorAt(key_pos,
                       absl::StrCat("unknown Layout argument '", key,
                                    "'; expected major_to_minor, tiling or "
                                    "sub_byte_element_size_in_bits"));
      }
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Peek() == ',') {
        Advance();
        continue;
      }
      if (Peek() == ')') continue;
      return ErrorAt(pos(),
                     absl::StrCat("expected ',' or ')' in Layout(...), got ",
                                  Describe(pos())));
    }
    if (wrapped.has_value()) {
      if (seen_m2m || seen_tiling || seen_sub_byte) {
        return ErrorAt(start, absl::StrCat(name,
                                           "(...) has both a nested layout and "
                                           "layout fields"));
      }
      return *std::move(wrapped);
    }
    if (!seen_m2m) {
      return ErrorAt(
          start, absl::StrCat(name, "(...) needs ",
                              name == "Format" ? "layout" : "major_to_minor"));
    }
    return layout;
  }

  // True at `Layout(`, `DeviceLocalLayout(` or `Format(` (spaces allowed
  // before '('), so text such as "Layouts" after a shape is left alone; and
  // at `Layout.AUTO`, to explain that it is not a concrete layout.
  bool AtLayout() {
    if (!AtIdentifier()) return false;
    size_t save = pos();
    std::string name(ReadIdentifier());
    while (pos() < text().size() &&
           (text()[pos()] == ' ' || text()[pos()] == '\t'))
      Advance();
    bool at =
        (Peek() == '(' && (name == "Layout" || name == "DeviceLocalLayout" ||
                           name == "Format")) ||
        name == "Layout.AUTO" || name == "DeviceLocalLayout.AUTO";
    set_pos(save);
    return at;
  }

  // Skips one Python repr value (e.g. a sharding) up to the ',' or ')' that
  // ends it, balancing brackets and quotes.
  absl::Status SkipPyValue(absl::string_view key) {
    const size_t start = pos();
    std::string closers;
    while (pos() < text().size()) {
      char c = text()[pos()];
      if (closers.empty() && (c == ',' || c == ')')) return absl::OkStatus();
      if (c == '(' || c == '[' || c == '{') {
        closers += c == '(' ? ')' : c == '[' ? ']' : '}';
      } else if (c == ')' || c == ']' || c == '}') {
        if (closers.empty() || c != closers.back()) {
          return ErrorAt(pos(), absl::StrCat("unbalanced '", std::string(1, c),
                                             "' in the ", key, " value at col ",
                                             Column(start)));
        }
        closers.pop_back();
      } else if (c == '\'' || c == '"') {
        size_t end = pos() + 1;
        while (end < text().size() && text()[end] != c) {
          end += text()[end] == '\\' ? 2 : 1;
        }
        if (end >= text().size()) break;
        set_pos(end);
      }
      Advance();
    }
    return ErrorAt(
        text().size(),
        absl::StrCat("unterminated ", key, " value at col ", Column(start)));
  }

  // A Python tuple of ints: "(0, 1, 2)", "(0,1,2)", "(0,)", "()".
  // `allow_combine`: a tile from JAX carries a combined dim as INT64_MIN.
  absl::StatusOr<std::vector<int64_t>> ParsePyIntTuple(
      absl::string_view what, bool allow_combine = false) {
    XLAYOUT_RETURN_IF_ERROR(
        Expect('(', absl::StrCat("'(' to start the ", what, " tuple")));
    std::vector<int64_t> values;
    XLAYOUT_RETURN_IF_ERROR(ReadList(
        ')', true, absl::StrCat("in the ", what, " tuple"),
        [&]() -> absl::Status {
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          size_t at = pos();
          XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ParseInt(what));
          if (v < 0 && !(allow_combine && v == Tile::kCombineDimension)) {
            return ErrorAt(
                at, absl::StrCat(what, " entries must be >= 0, got ", v));
          }
          values.push_back(v);
          return absl::OkStatus();
        }));
    return values;
  }

  absl::Status ParsePyTiling(Layout* layout) {
    XLAYOUT_RETURN_IF_ERROR(Expect('(', "'(' to start the tiling tuple"));
    return ReadList(')', true, "in the tiling tuple", [&]() -> absl::Status {
      XLAYOUT_ASSIGN_OR_RETURN(std::vector<int64_t> tile,
                               ParsePyIntTuple("tile", /*allow_combine=*/true));
      layout->mutable_tiles()->push_back(Tile(std::move(tile)));
      return absl::OkStatus();
    });
  }

 private:
  absl::StatusOr<int64_t> ParseInt(absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    return ReadInt64(what);
  }
};

}  // namespace

bool AtJaxLayout(const TextCursor& cursor) {
  JaxReader reader(cursor);
  return reader.AtLayout();
}

absl::StatusOr<Layout> ReadJaxLayout(TextCursor& cursor) {
  JaxReader reader(cursor);
  XLAYOUT_ASSIGN_OR_RETURN(Layout layout, reader.Read());
  cursor.set_pos(reader.pos());
  return layout;
}

}  // namespace xlayout

// --- JAX code for a layout ---------------------------------------------------

namespace xlayout {

std::string JaxLayoutRepr(const Layout& layout) {
  if (layout.tail_padding_alignment_in_elements() != 1 ||
      !layout.split_configs().empty() || layout.IsSparse() ||
      layout.has_physical_shape() ||
      layout.dynamic_shape_metadata_prefix_bytes() != 0 ||
      layout.index_primitive_type() != PrimitiveType::kInvalid ||
      layout.pointer_primitive_type() != PrimitiveType::kInvalid) {
    return "";
  }
  auto tuple = [](auto begin, auto end) {
    std::string out = "(";
    size_t n = 0;
    for (auto it = begin; it != end; ++it, ++n) {
      if (n > 0) out += ", ";
      absl::StrAppend(&out, *it);
    }
    if (n == 1) out += ",";
    return out + ")";
  };
  absl::Span<const int64_t> m2m = layout.minor_to_major();
  std::string out =
      absl::StrCat("Layout(major_to_minor=", tuple(m2m.rbegin(), m2m.rend()));
  if (!layout.tiles().empty()) {
    std::vector<std::string> tiles;
    for (const Tile& t : layout.tiles()) {
      for (int64_t d : t.dims()) {
        if (d == Tile::kCombineDimension) return "";
      }
      tiles.push_back(tuple(t.dims().begin(), t.dims().end()));
    }
    out += ", tiling=(";
    for (size_t i = 0; i < tiles.size(); ++i) {
      if (i > 0) out += ", ";
      out += tiles[i];
    }
    if (tiles.size() == 1) out += ",";
    out += ")";
  }
  if (layout.element_size_in_bits() != 0) {
    absl::StrAppend(&out, ", sub_byte_element_size_in_bits=",
                    layout.element_size_in_bits());
  }
  return out + ")";
}

std::string JaxDevicePutCode(const Layout& layout, absl::string_view var,
                             absl::string_view memory_kind) {
  std::string repr = JaxLayoutRepr(layout);
  if (repr.empty()) return "";
  std::string sharding = absl::StrCat(var, ".sharding");
  if (layout.memory_space() != 0 && !memory_kind.empty()) {
    absl::StrAppend(&sharding, ".with_memory_kind('", memory_kind, "')");
  }
  return absl::StrCat("jax.device_put(", var, ", Format(", repr, ", ", sharding,
                      "))");
}

std::optional<PrimitiveType> PrimitiveTypeFromJaxDtype(absl::string_view name) {
  if (name == "bool") return PrimitiveType::kPred;
  if (name == "bfloat16") return PrimitiveType::kBF16;
  std::string xla;
  if (absl::StartsWith(name, "uint")) {
    xla = absl::StrCat("u", name.substr(4));
  } else if (absl::StartsWith(name, "int")) {
    xla = absl::StrCat("s", name.substr(3));
  } else if (absl::StartsWith(name, "complex")) {
    xla = absl::StrCat("c", name.substr(7));
  } else if (absl::StartsWith(name, "float")) {
    // float32 -> f32; float8_e4m3fn -> f8e4m3fn.
    xla = absl::StrCat("f", name.substr(5));
    xla.erase(std::remove(xla.begin(), xla.end(), '_'), xla.end());
  } else {
    return std::nullopt;
  }
  if (xla.size() < 2 || !IsAsciiDigit(xla[1])) return std::nullopt;
  return PrimitiveTypeFromName(xla);
}

}  // namespace xlayout
