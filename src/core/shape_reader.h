// Internal: the shape parser on a shared TextCursor, for readers that find
// shapes inside larger text (the HLO text reader). Errors carry the line
// and column in the cursor's whole text. Not a public API; see
// xlayout/shape_parser.h.
#ifndef XLAYOUT_SRC_CORE_SHAPE_READER_H_
#define XLAYOUT_SRC_CORE_SHAPE_READER_H_

#include "absl/status/statusor.h"
#include "base/text_cursor.h"
#include "xlayout/shape.h"
#include "xlayout/shape_parser.h"

namespace xlayout {

// Reads one shape at the cursor (leading trivia skipped). On success the
// cursor is after the shape; trivia after it is left unread.
absl::StatusOr<Shape> ReadShape(TextCursor& cursor,
                                const ShapeParseOptions& options);

}  // namespace xlayout

#endif  // XLAYOUT_SRC_CORE_SHAPE_READER_H_
