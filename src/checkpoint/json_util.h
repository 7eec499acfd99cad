// JSON helpers shared by the checkpoint formats: a strict parse that refuses
// duplicate object keys (nlohmann keeps the last one silently) and deep
// nesting, and field readers whose errors name the field.
#ifndef XLAYOUT_SRC_CHECKPOINT_JSON_UTIL_H_
#define XLAYOUT_SRC_CHECKPOINT_JSON_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace xlayout::checkpoint_internal {

using Json = nlohmann::json;
// Keeps keys in insertion order, for writers with a stable key order.
using OrderedJson = nlohmann::ordered_json;

// Deepest nesting accepted by ParseStrictJson (objects and arrays).
inline constexpr int kMaxJsonDepth = 64;

// Parses `text` as one JSON value. Errors (INVALID_ARGUMENT) start with
// "`what`: " and name the byte offset, a duplicate key (with its object's
// path), or the nesting limit. Invalid UTF-8 in strings is an error.
absl::StatusOr<Json> ParseStrictJson(absl::string_view text,
                                     absl::string_view what);

// A short, printable rendering of a JSON value for error messages (at most
// ~60 characters, strings quoted).
std::string Excerpt(const Json& value);

// The value rendered as a JSON string literal ("\"x\"").
std::string Quote(absl::string_view s);

// Lower-case 16-digit hex of a 64-bit hash, and its parser (exactly 16 hex
// digits, either case).
std::string FormatHash64(uint64_t value);
std::optional<uint64_t> ParseHash64(absl::string_view text);

}  // namespace xlayout::checkpoint_internal

#endif  // XLAYOUT_SRC_CHECKPOINT_JSON_UTIL_H_
