// Parser for XLA's shape and layout text (hlo_parser.cc's ParseShape /
// ParseLayout grammar), plus JAX's Layout(...) repr.
//
// Errors are INVALID_ARGUMENT and name the 1-based column and what was
// expected there, e.g. "col 17: expected ',' or ']' after dimension". An
// integer beyond int64 is "number too large (limit 9223372036854775807)",
// never a wrapped value. The lexical rules (trivia, identifiers, integers,
// columns) are those of src/base/text_cursor.h, shared with the HLO text
// reader and the log scanner; the JAX repr reader is src/core/jax_layout.cc.
#ifndef XLAYOUT_SHAPE_PARSER_H_
#define XLAYOUT_SHAPE_PARSER_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/layout.h"
#include "xlayout/shape.h"

namespace xlayout {

struct ShapeParseOptions {
  // XLA's default: an array written without a layout gets the default
  // major-to-minor layout. Scalars always get one. Turn off to tell "no layout
  // printed" apart from "{rank-1,...,0} printed" (explain needs that).
  bool fill_missing_layouts = true;
  // Accept a JAX layout repr in place of `{...}`, e.g.
  // `bf16[16,1280,40] Layout(major_to_minor=(0, 1, 2), tiling=((8, 128), (2,
  // 1)))`.
  bool allow_jax_layout = true;
};

// Parses exactly one shape; anything but whitespace/comments after it is an
// error ("extra content after shape").
absl::StatusOr<Shape> ParseShape(absl::string_view text,
                                 const ShapeParseOptions& options = {});

// Parses one shape at the start of `text` and stores in `*consumed` the number
// of bytes read (leading whitespace and comments included). For scanners that
// find shapes inside larger text (HLO headers, logs).
absl::StatusOr<Shape> ParseShapePrefix(absl::string_view text, size_t* consumed,
                                       const ShapeParseOptions& options = {});

// Parses a standalone layout, e.g. `{1,0:T(8,128)(2,1)}`. Unlike a layout
// inside a shape, `{}` is accepted here and P(shape) is allowed.
absl::StatusOr<Layout> ParseLayout(absl::string_view text);

// Parses JAX's `Layout(major_to_minor=(...), tiling=((...), ...),
// sub_byte_element_size_in_bits=N)` repr (spaced or unspaced tuples; the
// tiling and sub-byte arguments are optional) into an XLA layout.
// major_to_minor is XLA's minor_to_major reversed.
absl::StatusOr<Layout> ParseJaxLayout(absl::string_view repr);

}  // namespace xlayout

#endif  // XLAYOUT_SHAPE_PARSER_H_
