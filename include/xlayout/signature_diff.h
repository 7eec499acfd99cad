// Differences between two program signatures (`xlayout diff A B`): the same
// model compiled under two XLA versions, flag sets, hardware generations or
// topologies, compared parameter by parameter.
//
// Per parameter: element type, dims, layout (minor_to_major and each tile
// level, other layout attributes), memory kind, sharding (semantically: an
// iota tile assignment equals the explicit list it expands to, metadata is
// ignored), the per-device shape and the byte sizes. Each change is
// classified ("tiling (8,128)(2,1)→(16,128)(2,1)", "dims 1↔2 swapped",
// "devices=[1,4]→[1,8]", "device→pinned_host") so that the many parameters
// that changed the same way are counted together in the summary.
#ifndef XLAYOUT_SIGNATURE_DIFF_H_
#define XLAYOUT_SIGNATURE_DIFF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/hlo_signature.h"

namespace xlayout {

// The kinds of change, in the order summaries and details list them.
enum class SignatureChangeKind {
  kDtype,           // Element type.
  kDims,            // Logical dims (extents, rank or dynamic flags).
  kLayout,          // minor_to_major, tiling, other layout attributes (not
                    // the memory space S(n): see kMemoryKind).
  kMemoryKind,      // memory_kind (from S(n)).
  kSharding,        // The sharding annotation.
  kPerDeviceShape,  // The shape each device holds.
  kBytes,           // xla_bytes or exact_bytes of the global shape.
};
inline constexpr int kNumSignatureChangeKinds = 7;

// Stable names for JSON: "dtype", "dims", "layout", "memory_kind",
// "sharding", "per_device_shape", "bytes".
absl::string_view SignatureChangeKindName(SignatureChangeKind kind);
// Words for text: "dtype", "dims", "layout", "memory kind", "sharding",
// "per-device shape", "size".
absl::string_view SignatureChangeKindLabel(SignatureChangeKind kind);

struct SignatureChange {
  SignatureChangeKind kind = SignatureChangeKind::kLayout;
  // The classification, without the kind: parameters with equal details
  // changed the same way. E.g. "tiling (8,128)(2,1)→(16,128)(2,1)",
  // "dims 1↔2 swapped", "minor_to_major {2,1,0}→{0,1,2}",
  // "devices=[1,4]→[1,8]", "{replicated}→{devices=[2,1]<=[2]}",
  // "device→pinned_host", "bf16→f32", "[16,1280]→[16,2560]",
  // "xla_bytes 5,242,880→1,638,400".
  std::string detail;
  // "layout: tiling (8,128)(2,1)→(16,128)(2,1)", "sharding: devices=...".
  std::string ToString() const;
  friend bool operator==(const SignatureChange&,
                         const SignatureChange&) = default;
};

// One side of a matched parameter, as compared.
struct DiffSide {
  int64_t index = 0;
  std::string name;
  std::string shape;                    // With layout.
  std::optional<std::string> sharding;  // As written.
  std::string memory_kind;
  std::optional<std::string> per_device_shape;  // nullopt: unknown.
  int64_t xla_bytes = 0;                        // -1: undefined.
  int64_t exact_bytes = 0;
  int64_t device_xla_bytes = -1;  // Per-device xla_bytes; -1: unknown.
  friend bool operator==(const DiffSide&, const DiffSide&) = default;
};

struct ParameterDiff {
  DiffSide a;
  DiffSide b;
  std::vector<SignatureChange> changes;  // In SignatureChangeKind order.
  bool Has(SignatureChangeKind kind) const;
};

// Program-level differences (name, replica_count, num_partitions), e.g.
// "num_partitions 4→8".
struct ProgramChange {
  std::string field;
  std::string before;
  std::string after;
  std::string ToString() const;  // "num_partitions 4→8".
};

struct SignatureDiffOptions {
  // Match parameters by name instead of by index. Names must then be unique
  // and non-empty on both sides.
  bool by_name = false;
};

struct SignatureDiff {
  bool by_name = false;
  int64_t parameters_a = 0;
  int64_t parameters_b = 0;
  std::vector<ProgramChange> program_changes;
  // Matched parameters that differ, in A's order.
  std::vector<ParameterDiff> changed;
  int64_t matched = 0;  // Matched parameters, changed or not.
  // Parameters only in A (removed) and only in B (added).
  std::vector<DiffSide> removed;
  std::vector<DiffSide> added;
  // Sum over every parameter of each program of the bytes one device holds
  // (per-device xla_bytes); nullopt when some size is unknown or the sum
  // does not fit in int64 (see warnings).
  std::optional<int64_t> device_bytes_a;
  std::optional<int64_t> device_bytes_b;
  std::vector<std::string> warnings;

  bool identical() const {
    return program_changes.empty() && changed.empty() && removed.empty() &&
           added.empty();
  }
  // Parameters with at least one change of `kind`.
  int64_t CountWith(SignatureChangeKind kind) const;
};

// Compares `a` with `b`. Shapes with a sharding in a program with more than
// one partition are taken as global shapes (a dump before SPMD partitioning,
// or a signature JSON), and their per-device shapes are worked out with
// ShardShape; a sharding that cannot be parsed is compared as text, with a
// warning. Errors: INVALID_ARGUMENT when by_name and a name is empty or
// repeated.
absl::StatusOr<SignatureDiff> DiffSignatures(
    const ProgramSignature& a, const ProgramSignature& b,
    const SignatureDiffOptions& options = {});

// One line: "2,483 parameters; 37 changed layout (12: tiling
// (8,128)(2,1)→(16,128)(2,1); 25: dims 1↔2 swapped); 4 changed sharding;
// device bytes +3.1%", or "identical: 8 parameters". Parameter counts that
// differ read "8→9 parameters (1 added, 0 removed)"; program changes come
// right after them. At most `max_groups` details per kind, then
// "N more"; per-device shape and size changes are only counted ("4 changed
// per-device shape"), their details being per-parameter values.
std::string SummarizeSignatureDiff(const SignatureDiff& diff,
                                   int max_groups = 3);

// Matched parameters grouped by change: for each kind in order, each detail
// (most parameters first, then first appearance), the indices into
// diff.changed.
struct ChangeGroup {
  SignatureChangeKind kind;
  std::string detail;
  std::vector<int64_t> changed;  // Indices into SignatureDiff::changed.
};
std::vector<ChangeGroup> GroupSignatureChanges(const SignatureDiff& diff);

}  // namespace xlayout

#endif  // XLAYOUT_SIGNATURE_DIFF_H_
