// The runtime guard: a compiled program's expectations, checked against the
// buffers of every (replica, partition) device before anything runs.
//
// Every check is on per-device buffers, as the runtime's: each parameter's
// per_device_shape and per_device_xla_bytes (hlo_signature.h), which for a
// program read before SPMD partitioning are the global shape cut by the
// sharding, and otherwise the shape itself. Messages name those shapes.
//
// Checks, in XLA's order (CommonPjRtLoadedExecutable::
// CheckBufferCompatibilities): buffer count; per parameter either the
// dynamic-shape checks (both shapes dynamic and the memory space stores
// metadata as a prefix) or the xla_bytes size check; then the memory kind.
// Beyond XLA: every finding is reported (up to max_errors), strict mode
// rejects same-size buffers with another physical layout, and each finding
// is a structured MismatchRecord.
//
// Thread safety: an Executable is immutable after Create(); Validate() and
// Execute() may run concurrently from any number of threads.
#ifndef XLAYOUT_EXECUTABLE_H_
#define XLAYOUT_EXECUTABLE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "xlayout/buffer.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/memory_kind.h"
#include "xlayout/mismatch.h"

namespace xlayout {

// The arguments of one device, in parameter order.
struct DeviceArguments {
  int64_t replica = 0;
  int64_t partition = 0;
  std::vector<const Buffer*> buffers;
};

struct ValidationOptions {
  // Stop after this many findings (XLA stops at 1). <= 0: no limit.
  int64_t max_errors = 0;
  // Reject buffers whose xla_bytes match but whose shape or physical layout
  // differ (MismatchReason::kStrictLayout). XLA lets them through and the
  // program reads scrambled data.
  bool strict_layout = false;
  // Messages in the newer error-code form ("E0102: RuntimeProgramInputMismatch:
  // \n<message>\nSee https://openxla.org/xla/errors/error_0102 ...").
  bool e0102_format = false;
  // Where the replica suffix goes in E0102 form. false (default): after the
  // docs line, exactly what XLA's AppendStatus does to such a status. true:
  // right after the message, before the docs line (easier to read).
  bool suffix_before_docs_line = false;
};

struct ValidationResult {
  // OK, or the first finding as XLA reports it (INVALID_ARGUMENT, message in
  // the finding's `message`), or a usage error (bad device coordinates, a
  // null buffer) that produced no findings.
  absl::Status status;
  std::vector<MismatchRecord> findings;
  bool truncated = false;  // max_errors stopped the search.
  bool ok() const { return status.ok(); }
};

// Called by Execute with validated arguments.
using LaunchFn = std::function<absl::Status(absl::Span<const DeviceArguments>)>;

class Executable {
 public:
  // Fails if the signature is empty of a name or has replica_count or
  // num_partitions < 1. Derived parameter fields are recomputed with `kinds`,
  // which also says which memory spaces store dynamic-shape prefixes.
  static absl::StatusOr<Executable> Create(
      ProgramSignature signature, const MemoryKindMap& kinds = MemoryKindMap());

  const std::string& name() const { return signature_.name; }
  const ProgramSignature& signature() const { return signature_; }
  int64_t num_parameters() const {
    return static_cast<int64_t>(expected_.size());
  }
  // replica_count * num_partitions.
  int64_t num_devices() const { return num_devices_; }

  // Checks every device's arguments. The replica suffix is attached when
  // more than one device is given (XLA: more than one addressable device).
  ValidationResult Validate(absl::Span<const DeviceArguments> args,
                            const ValidationOptions& options = {}) const;

  // Validate(), then launch(args) only if everything passed. Returns the
  // first finding, or launch's status. `findings`, if given, receives all.
  absl::Status Execute(absl::Span<const DeviceArguments> args,
                       const LaunchFn& launch,
                       const ValidationOptions& options = {},
                       std::vector<MismatchRecord>* findings = nullptr) const;

 private:
  // What the fast path compares, 24 bytes per parameter.
  struct Expected {
    // xla_bytes, or -2 (no buffer has it) to force the full checks: dynamic
    // shapes in a kPrefix memory space, and undefined sizes.
    int64_t fast_bytes;
    uint64_t kind_key;
    uint64_t layout_key;
  };
  // True if `b` may not match `e` (the full checks then decide).
  static bool Suspect(const Buffer& b, const Expected& e, bool strict) {
    uint64_t diff = (static_cast<uint64_t>(b.on_device_size_in_bytes()) ^
                     static_cast<uint64_t>(e.fast_bytes)) |
                    (b.memory_kind_key() ^ e.kind_key) |
                    (strict ? (b.layout_key() ^ e.layout_key) : 0);
    return diff != 0;
  }
  // Index of the first suspect buffer, or n.
  template <bool kStrict>
  int64_t FirstSuspect(const Buffer* const* buffers, int64_t n) const {
    const Expected* expected = expected_.data();
    for (int64_t i = 0; i < n; ++i) {
      if (Suspect(*buffers[i], expected[i], kStrict)) return i;
    }
    return n;
  }
  Executable() = default;
  // Appends the findings for parameter i of one device; returns false once
  // max_errors is reached.
  bool CheckParameter(int64_t i, const Buffer& buffer,
                      const DeviceArguments& device,
                      const ValidationOptions& options, bool multi_device,
                      ValidationResult* result) const;
  bool AddFinding(MismatchRecord record, const ValidationOptions& options,
                  bool multi_device, ValidationResult* result) const;

  ProgramSignature signature_;
  std::vector<Expected> expected_;
  std::vector<bool> dynamic_prefix_;  // Per parameter.
  int64_t num_devices_ = 1;
};

}  // namespace xlayout

#endif  // XLAYOUT_EXECUTABLE_H_
