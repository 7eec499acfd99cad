// Program-input mismatches (error E0102 and the messages that report the
// same failure) as structured facts.
//
// MismatchRecord is what the runtime guard produces. MismatchFact is the one
// structured form that every source fills: the guard's records
// (FactFromRecord) and messages found in logs (FactFromMessage in
// explain.h). The diagnosis reads only facts, so a guard error and an
// explanation of its message describe the same thing, and nothing goes
// through printed text that could lose a memory kind or a layout.
#ifndef XLAYOUT_MISMATCH_H_
#define XLAYOUT_MISMATCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "xlayout/layout.h"
#include "xlayout/primitive_type.h"
#include "xlayout/shape.h"

namespace xlayout {

// The message family a fact comes from. Stable lower-case names via
// MessageKindName; new families (issue 13: TPUExecute, PJRT's shape check,
// JAX's and Mosaic's layout checks, invalid buffers, OOM padding) add values
// here and fill the same MismatchFact.
enum class MessageKind {
  kSize,               // "size": full form with program name and shapes.
  kSizeNoShapes,       // "size_no_shapes": CPU/GPU form, sizes only.
  kMemorySpace,        // "memory_space"
  kElementType,        // "element_type": dynamic-shape check.
  kRank,               // "rank": dynamic-shape check.
  kLayout,             // "layout": dynamic-shape check.
  kDynamicDimension,   // "dynamic_dimension": runtime size above the bound.
  kBufferCount,        // "buffer_count"
  kIncompatibleShape,  // "incompatible_shape": older "expected shape X ...".
  kHostShape,          // "host_shape": older "does not match host shape".
  kStrictLayout,       // "strict_layout": the runtime guard's strict mode.
  // Issue 13 families.
  kTpuExecute,       // "tpu_execute": TensorFlow's TPUExecute shape check,
                     // ShapeProto text on both sides.
  kJaxLayout,        // "jax_layout": JAX's pre-dispatch layout check
                     // (Passed/Required layout, or the older wording).
  kInvalidBuffer,    // "invalid_buffer": a deleted or donated buffer passed
                     // to Execute(), or a deleted JAX array.
  kMalformedLayout,  // "malformed_layout": XLA's layout validation
                     // (minor_to_major does not fit the rank).
  kMosaicLayout,     // "mosaic_layout": a Pallas TPU (Mosaic) kernel
                     // operand whose XLA layout is not the kernel's.
};

absl::string_view MessageKindName(MessageKind kind);

enum class MismatchReason {
  kBufferCount,  // Wrong number of buffers for a device.
  kSize,         // xla_bytes differ (XLA's check).
  kMemorySpace,  // Buffer lives in another memory kind.
  kElementType,  // Dynamic-shape checks (kPrefix memory spaces) ...
  kRank,
  kLayout,
  kDynamicDimension,  // ... runtime size above the compiled bound.
  kStrictLayout,  // Same size, different physical layout (strict mode only).
};

// Stable lower-case name used in JSON ("size", "strict_layout", ...).
absl::string_view MismatchReasonName(MismatchReason reason);

struct MismatchRecord {
  MismatchReason reason = MismatchReason::kSize;
  std::string program;         // Executable name.
  int64_t parameter = -1;      // -1 for kBufferCount.
  std::string parameter_name;  // HLO instruction name, if known.
  int64_t replica = 0;
  int64_t partition = 0;
  std::optional<Shape> expected;  // On-device shapes, with layouts.
  std::optional<Shape> actual;
  int64_t expected_bytes =
      -1;  // xla_bytes (or buffer counts for kBufferCount).
  int64_t actual_bytes = -1;
  std::string expected_memory_kind;
  std::string actual_memory_kind;
  int64_t dimension = -1;  // For kDynamicDimension.
  std::string message;     // The full status message as XLA prints it.
};

// One side (expected or actual) of a mismatch: whatever its source knows.
// Every field is optional; a message family fills what it prints.
struct MismatchSide {
  // The shape, layout included only when known (a message printed it, or the
  // guard's on-device shape). No default layout is filled in.
  std::optional<Shape> shape;
  // The shape as printed, when `shape` could not be read (with the reason in
  // shape_error), or as printed for display; empty when none was printed.
  std::string shape_text;
  std::string shape_error;
  // The shape's layout was printed (or known), as opposed to left out.
  bool layout_printed = false;
  // The size as printed (XLA's xla_bytes for E0102).
  std::optional<int64_t> bytes;
  // Single facts some families print without a whole shape: an element type,
  // a rank, a layout (`{1,0}`, Mosaic's standalone layouts), a runtime dim
  // size or bound.
  std::optional<PrimitiveType> element_type;
  std::optional<int64_t> rank;
  std::optional<Layout> layout;
  std::optional<int64_t> dimension_size;
  // PJRT memory kind ("device", "pinned_host", ...); empty when unknown.
  std::string memory_kind;
  // Buffers per device (the buffer-count message).
  std::optional<int64_t> buffer_count;
  // The family-specific value exactly as printed (an enum name such as
  // "BF16", a layout, a count), for display.
  std::string value;

  friend bool operator==(const MismatchSide&, const MismatchSide&) = default;
};

struct MismatchFact {
  MessageKind kind = MessageKind::kSize;  // The message family.
  std::string program;                    // Executable name; may be empty.
  std::optional<int64_t> parameter;       // Parameter / argument number.
  std::string parameter_name;             // HLO or argument name, if known.
  // Index inside a tuple parameter ({} for the parameter itself).
  std::vector<int64_t> tuple_index;
  MismatchSide expected;
  MismatchSide actual;
  std::optional<int64_t> dimension;  // The dim a dimension check names.
  std::optional<int64_t> replica;
  std::optional<int64_t> partition;
  bool error_code = false;  // Printed behind "E0102: ...Mismatch:".
  // The shapes are the buffers' whole on-device shapes (a runtime-guard
  // record), not text a runtime printed: an untiled side is untiled, not a
  // tiling the message left out, so none is inferred for it.
  bool layouts_complete = false;
  // Where it was found: file (or "-"), 1-based line, byte offset; empty / 0
  // for a runtime record.
  std::string source_file;
  int64_t source_line = 0;
  int64_t source_offset = 0;
  std::string message;  // The message on one line, as printed.

  friend bool operator==(const MismatchFact&, const MismatchFact&) = default;
};

// The fact behind a runtime-guard record, straight from its structured
// fields: shapes with their full layouts, both memory kinds, sizes, counts.
MismatchFact FactFromRecord(const MismatchRecord& record);

}  // namespace xlayout

#endif  // XLAYOUT_MISMATCH_H_
