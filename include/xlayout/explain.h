// Diagnosis of program-input mismatches (error E0102): what differs between
// the buffer a program expected and the one it got, why, and how to fix it.
//
// The diagnosis reads one structured MismatchFact (mismatch.h). A message
// found in a log fills it (FactFromMessage), and so does the runtime guard's
// record (FactFromRecord), so `xlayout explain` and the guard's errors say
// the same thing, and a record loses nothing to printing and re-parsing.
#ifndef XLAYOUT_EXPLAIN_H_
#define XLAYOUT_EXPLAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"
#include "xlayout/log_scanner.h"
#include "xlayout/mismatch.h"
#include "xlayout/shape.h"

namespace xlayout {

enum class Classification {
  kLayout,       // Same logical shape, different physical layout.
  kElementType,  // Different element type (x64 flag, dtype substitution).
  kDims,         // Same rank, different dims (batch, sharding).
  kRank,
  kMemorySpace,
  kUnknown,  // Sizes only, buffer counts, or shapes that do not parse.
  // Not a layout problem: the buffer was deleted or donated before the call.
  kInvalidBuffer,
  // The layout itself is malformed (minor_to_major does not fit the rank).
  kMalformedLayout,
};

// "layout", "element_type", "dims", "rank", "memory_space", "unknown",
// "invalid_buffer", "malformed_layout".
absl::string_view ClassificationName(Classification classification);

// A tiling that makes a printed shape reproduce its printed size.
struct InferredLayout {
  std::string shape;  // The shape with the candidate layout, XLA text.
  std::string rule;   // The documented TPU rule behind the candidate.
};

// One side (expected or actual) of a mismatch.
struct SideReport {
  std::string shape;                     // As printed; empty if none.
  std::optional<int64_t> printed_bytes;  // As printed.
  // xla_bytes of the printed shape (default layout if none was printed).
  std::optional<int64_t> recomputed_bytes;
  bool layout_printed = false;
  // Only when recomputed != printed: candidates that reproduce the printed
  // size, best first.
  std::vector<InferredLayout> inferred_layouts;
  std::string error;  // Why the shape could not be read or sized.
  // The compared facts, when known: the element type's lower-case name
  // ("bf16"), the PJRT memory kind, the buffers per device.
  std::string element_type;
  std::string memory_kind;
  std::optional<int64_t> buffer_count;
};

struct Diagnosis {
  MessageKind kind = MessageKind::kSize;
  std::string program;
  std::optional<int64_t> parameter;
  std::string parameter_name;  // TensorFlow input name, JAX argument path.
  std::optional<int64_t> replica;
  std::optional<int64_t> partition;
  SideReport expected;
  SideReport actual;
  // Form-specific values (element type names, ranks, layouts, memory kinds,
  // buffer counts), as in ScannedMessage.
  std::string expected_value;
  std::string actual_value;
  std::optional<int64_t> dimension;
  bool error_code = false;
  Classification classification = Classification::kUnknown;
  // Every printed size agrees with the size recomputed from its printed
  // shape (true when there is nothing to check).
  bool consistent = true;
  std::string summary;                    // One line, e.g. "same logical ...".
  std::vector<std::string> details;       // What differs, one fact per line.
  std::vector<std::string> causes;        // Likely causes, E0102 doc terms.
  std::vector<std::string> next_steps;    // What to compare or change.
  std::vector<std::string> fix_commands;  // Exact commands (xlayout relayout).
  // The JAX statement that gives an array the expected layout
  // (JaxDevicePutCode), next to the relayout command; empty when there is
  // none.
  std::string jax_fix;
  std::string message;  // The message text, one line.
};

// The fact a scanned message states: its shapes parsed (layouts only where
// printed), sizes, values, replica and partition, and where it was found.
MismatchFact FactFromMessage(const ScannedMessage& message,
                             absl::string_view source_file = "");

// Diagnoses one fact, whatever its source.
Diagnosis Diagnose(const MismatchFact& fact);

// Diagnoses a message found by the scanner: Diagnose(FactFromMessage(m)).
Diagnosis Diagnose(const ScannedMessage& message);

// Diagnoses a runtime-guard record: Diagnose(FactFromRecord(record)). It says
// what Diagnose says of the message the guard printed, plus what only the
// record knows (the expected memory kind, shapes the message leaves out).
Diagnosis Explain(const MismatchRecord& record);

// The TPU tilings listed in docs/explain.md under which `shape` (its
// minor_to_major kept; a missing layout means the default one) has
// xla_bytes == printed_bytes, best first, each with the rule behind it.
// Only layouts a device buffer of printed_bytes can hold are listed: their
// later tile levels add no padding (exact_bytes == xla_bytes), so the
// relayout fix works on a buffer of the printed size. Empty if none fits.
std::vector<InferredLayout> InferLayouts(const Shape& shape,
                                         int64_t printed_bytes);

// The same candidates for a size known only to lie in [min_bytes, max_bytes],
// e.g. "2.00M" in an out-of-memory report (oom_report.h).
std::vector<InferredLayout> InferLayouts(const Shape& shape, int64_t min_bytes,
                                         int64_t max_bytes);

// Identical mismatches seen on several replicas/partitions.
struct Finding {
  Diagnosis diagnosis;              // Of the first message of the group.
  std::vector<int64_t> replicas;    // Sorted, unique; empty if not printed.
  std::vector<int64_t> partitions;  // Sorted, unique; empty if not printed.
  int64_t count = 0;                // Messages in the group.
  std::string source;               // Where the first one was found.
  int64_t line = 0;
};

// Groups diagnoses that differ only in replica and partition, keeping the
// order in which groups were first seen.
class FindingGrouper {
 public:
  void Add(Diagnosis diagnosis, absl::string_view source = "",
           int64_t line = 0);
  // Adds a scanned message. Diagnose runs only for the first message of each
  // group, so a log with a million copies of a mismatch costs one diagnosis.
  void Add(const ScannedMessage& message, absl::string_view source = "");
  const std::vector<Finding>& findings() const { return findings_; }
  int64_t messages() const { return messages_; }

 private:
  size_t AddAndIndex(Diagnosis diagnosis, absl::string_view source,
                     int64_t line);
  static void Count(Finding& finding, const std::optional<int64_t>& replica,
                    const std::optional<int64_t>& partition);

  absl::flat_hash_map<std::string, size_t> index_;          // By diagnosis.
  absl::flat_hash_map<std::string, size_t> message_index_;  // By message.
  std::vector<Finding> findings_;
  int64_t messages_ = 0;
};

// "0–63", "0, 2–5, 9" (en dash); "" for an empty list.
std::string FormatRanges(absl::Span<const int64_t> values);

// The stable JSON object of one finding, keys in schema order (see
// docs/explain.md).
nlohmann::ordered_json FindingToJson(const Finding& finding);

}  // namespace xlayout

#endif  // XLAYOUT_EXPLAIN_H_
