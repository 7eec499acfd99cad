// Internal: the reader of JAX's layout reprs, shared by the shape parser
// (a repr may stand in place of `{...}` after a shape's dims) and
// ParseJaxLayout. Not a public API; see xlayout/shape_parser.h.
//
// Accepted: `Layout(major_to_minor=(...), tiling=((...), ...),
// sub_byte_element_size_in_bits=N)` (spaced or unspaced tuples; tiling and
// the sub-byte size optional), older JAX's `DeviceLocalLayout(...)` with its
// `_tiling` / `_sub_byte_element_size_in_bits` spellings, and the wrappers
// `Format(layout=..., sharding=...)` and `Layout(device_local_layout=...,
// sharding=...)`, whose sharding is skipped.
#ifndef XLAYOUT_SRC_CORE_JAX_LAYOUT_H_
#define XLAYOUT_SRC_CORE_JAX_LAYOUT_H_

#include "absl/status/statusor.h"
#include "base/text_cursor.h"
#include "xlayout/layout.h"

namespace xlayout {

// True at `Layout(`, `DeviceLocalLayout(` or `Format(` (blanks allowed
// before '('), so text such as "Layouts" after a shape is left alone; and at
// `Layout.AUTO`, so that the reader can explain it is not a concrete layout.
bool AtJaxLayout(const TextCursor& cursor);

// Reads one repr at the cursor (trivia skipped first) into an XLA layout:
// major_to_minor is XLA's minor_to_major reversed. Errors name the column.
absl::StatusOr<Layout> ReadJaxLayout(TextCursor& cursor);

}  // namespace xlayout

#endif  // XLAYOUT_SRC_CORE_JAX_LAYOUT_H_
