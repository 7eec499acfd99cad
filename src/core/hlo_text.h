// Internal: the HLO text reader behind the program-signature reader (the
// `HloModule` header line and ENTRY parameter instructions). It lives next
// to the shape parser and shares its TextCursor (trivia, identifiers,
// numbers, columns). Used by src/runtime; not a public API.
#ifndef XLAYOUT_SRC_CORE_HLO_TEXT_H_
#define XLAYOUT_SRC_CORE_HLO_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/shape.h"

namespace xlayout::hlo_text {

// Skips whitespace, /*...*/ and //... comments from `pos`. Returns the new
// position, or npos for an unterminated /* comment.
size_t SkipSpaceAndComments(absl::string_view s, size_t pos);

// Scans an attribute value starting at `pos` up to the first ',' outside
// brackets, braces, parentheses, strings and comments (or the end). Returns
// the end position; errors name the column of an unbalanced bracket or an
// unterminated string.
absl::StatusOr<size_t> ScanAttributeValue(absl::string_view s, size_t pos);

struct ModuleHeader {
  std::string name;
  int64_t replica_count = 1;
  int64_t num_partitions = 1;
  bool has_entry_layout = false;
  std::vector<Shape> parameters;  // Layouts as written (none filled in).
  std::optional<Shape> result;
  std::vector<std::string> attribute_names;  // In order, for diagnostics.
};

// Parses an `HloModule NAME, attr=value, ...` line. Unknown attributes are
// skipped; errors say "col N: ...". replica_count and num_partitions must be
// positive integers; one beyond int64 is "number too large (limit ...)".
absl::StatusOr<ModuleHeader> ParseModuleHeader(absl::string_view line);

struct ParameterInstruction {
  std::string name;  // Without '%'.
  int64_t number = 0;
  Shape shape;  // Layouts as written.
  std::optional<std::string> sharding;
};

// Cheap test that `line` may be an instruction whose opcode is `parameter`;
// false only when it certainly is not.
bool MayBeParameterInstruction(absl::string_view line);

// Parses `[ROOT] [%]name = SHAPE parameter(N)[, attr=value]...`. nullopt if
// the line is some other instruction; an error if it is a parameter
// instruction that does not parse.
absl::StatusOr<std::optional<ParameterInstruction>> ParseParameterInstruction(
    absl::string_view line);

// True if `line` opens the ENTRY computation.
bool IsEntryLine(absl::string_view line);

// The opcode of an instruction line `[ROOT] [%]name = SHAPE opcode(...)`
// ("add", "send-done"); empty if the line is not an instruction. Used to
// tell which instructions carry `sharding=` (the SPMD partitioner keeps it
// only on entry parameters, infeed, outfeed, send and recv). Tuple shardings
// are parsed by the sharding module (ParseHloSharding), not here.
absl::string_view InstructionOpcode(absl::string_view line);

}  // namespace xlayout::hlo_text

#endif  // XLAYOUT_SRC_CORE_HLO_TEXT_H_
