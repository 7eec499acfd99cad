// A device-free preflight of a checkpoint against a compiled program
// (`xlayout check`): binds the checkpoint's tensors to the program's
// parameters, validates each binding through the runtime guard (so the
// messages are XLA's E0102 messages byte for byte), classifies every
// parameter, and diffs the checkpoint's environment fingerprint against the
// current one. Only the manifest is read: shapes, sizes and memory kinds are
// all recorded there, so no tensor data is touched.
//
// The runtime compares per-device buffers. A checkpoint holds global arrays;
// for a sharded parameter the guard is given what each device would receive
// of the tensor (the tensor cut by the program's sharding, ShardShape),
// against the program's per-device buffer, so its messages are XLA's for the
// per-device buffers. Every device of a sharding receives the same (padded)
// shape, so one device is checked.
#ifndef XLAYOUT_CHECKPOINT_CHECK_H_
#define XLAYOUT_CHECKPOINT_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/checkpoint_manifest.h"
#include "xlayout/environment.h"
#include "xlayout/explain.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/memory_kind.h"
#include "xlayout/shape.h"

namespace xlayout {

enum class CheckVerdict {
  kOk,             // Same logical shape, layout (or one storing the same
                   // bytes, SameStoredBytes) and memory kind.
  kNeedsRelayout,  // Same dtype and dims, another physical layout (the
                   // memory kind may differ too); sizes may or may not.
  kIncompatible,   // Different dtype or dims: no relayout can fix it.
  kMemoryKind,     // Same shape and layout, another memory kind.
  kMissing,        // A parameter no tensor is bound to.
  kExtra,          // A tensor bound to no parameter.
};

// "ok", "needs_relayout", "incompatible", "memory_kind", "missing", "extra".
absl::string_view CheckVerdictName(CheckVerdict verdict);

// How a tensor came to be bound to its parameter.
enum class BindingSource {
  kNone,      // Not bound (missing / extra).
  kMap,       // CheckOptions::map (--map NAME=N).
  kManifest,  // The manifest's binding (parameter number + tuple index).
  kOrder,     // Unbound tensors, in manifest order, to the free parameters.
};
// "none", "map", "manifest", "order".
absl::string_view BindingSourceName(BindingSource source);

struct CheckOptions {
  // Also treat a same-size, different-layout binding as a runtime-guard
  // error (the guard's strict mode); without it such a binding is still
  // reported as needs_relayout, with no message, since XLA would accept it.
  bool strict = false;
  // Tensor name -> parameter, numbered as XLA does (the N of HLO
  // parameter(N), with the tuple index of a tuple parameter's leaf). Takes
  // precedence over the manifest's bindings.
  std::vector<std::pair<std::string, TensorBinding>> map;
  // Names S(n) memory spaces (must be the mapping the program was read with).
  MemoryKindMap memory_kinds;
  // The environment the program runs in (--env); compared with the
  // checkpoint's fingerprint when both are known.
  std::optional<Environment> current_environment;
};

// The verdict on one parameter (or on one extra tensor).
struct ParameterCheck {
  CheckVerdict verdict = CheckVerdict::kOk;
  // Position in the program's parameter list (ParameterSignature::index:
  // tuple parameters flattened into their leaves); -1 for an extra tensor.
  int64_t parameter = -1;
  // XLA's numbering of that parameter: the N of HLO parameter(N) and, for
  // a leaf of a tuple parameter, its tuple index (what reports print, as
  // "N" or "N{i}"); -1 and empty for an extra tensor.
  int64_t parameter_number = -1;
  std::vector<int64_t> tuple_index;
  std::string parameter_name;  // HLO name; empty for an extra tensor.
  std::string tensor;          // Tensor name; empty when missing.
  BindingSource bound_by = BindingSource::kNone;
  // The program's GLOBAL shape (with its layout) and the tensor's stored
  // device shape (a global array). For a program dumped after SPMD
  // partitioning, whose shapes are per-device, the global shape is the one
  // the tensor's dims give under the sharding when they fit, else the even
  // split's (per-device dims times the tile counts).
  std::optional<Shape> expected;
  std::optional<Shape> actual;
  int64_t expected_xla_bytes = -1;
  int64_t actual_xla_bytes = -1;
  // What the runtime compares: the program's per-device buffer and what
  // each device receives of the tensor under the program's sharding. Equal
  // to expected/actual for an unsharded or replicated parameter. The
  // guard's messages name these shapes and sizes.
  std::optional<Shape> expected_per_device;
  std::optional<Shape> actual_per_device;
  int64_t expected_per_device_bytes = -1;  // xla_bytes
  int64_t actual_per_device_bytes = -1;
  // The program's sharding of the parameter as written ("" when none), and
  // the program's partition count.
  std::string sharding;
  int64_t num_partitions = 1;
  // InferPartitionCountChange's message when the dims differ the way a
  // different partition count makes them (the tensor looks like one
  // device's piece, not the global array); empty otherwise. Also in details.
  std::string sharding_change;
  std::string expected_memory_kind;
  std::string actual_memory_kind;
  // The runtime guard's findings for this parameter, in its order: XLA's
  // messages byte for byte (plus the strict-layout message in strict mode).
  // Empty when the guard accepts the buffer.
  std::vector<std::string> messages;
  // XLA's own check (not strict mode) would reject this buffer.
  bool xla_rejects = false;
  // False when that cannot be told: the program's per-device size is
  // undefined or unknown, so the size check was skipped (xla_rejects is
  // then false; JSON writes null).
  bool xla_rejects_known = true;
  // explain's classification, summary and details of the difference (set
  // for needs_relayout, incompatible and memory_kind).
  std::optional<Classification> classification;
  std::string summary;
  std::vector<std::string> details;
  // Why a tensor is extra or a parameter missing, or why XLA would accept a
  // mismatched buffer; empty otherwise.
  std::string note;
};

struct CheckCounts {
  int64_t ok = 0;
  int64_t needs_relayout = 0;
  int64_t incompatible = 0;
  int64_t memory_kind = 0;
  int64_t missing = 0;
  int64_t extra = 0;
};

struct CheckReport {
  std::string program;  // The executable's name.
  // Which side of SPMD partitioning the program's dump was taken on.
  DumpStage dump_stage = DumpStage::kUnknown;
  int64_t num_parameters = 0;
  int64_t num_tensors = 0;
  // One entry per parameter, in parameter order, then one per extra tensor
  // in manifest order.
  std::vector<ParameterCheck> parameters;
  CheckCounts counts;
  // XLA's buffer-count message for feeding every tensor of the checkpoint,
  // when the counts differ.
  std::optional<std::string> buffer_count_message;
  // Checkpoint fingerprint -> current environment, layout-affecting changes
  // first (DiffEnvironments), leaving out an xlayout_version the current
  // environment does not name (import records the writer's version; an
  // environment file rarely has one). Only meaningful when
  // environment_compared.
  bool environment_compared = false;
  // Why the environments were not compared ("" when they were).
  std::string environment_note;
  std::vector<EnvironmentChange> environment_changes;
  // Components (EnvironmentComponentLabel: "libtpu", "device kind",
  // "XLA_FLAGS", ...) only one side records: not compared, and not in
  // environment_changes. An xlayout version the current environment does
  // not name is left out entirely.
  std::vector<std::string> environment_not_recorded_checkpoint;
  std::vector<std::string> environment_not_recorded_current;

  // Every parameter is ok (extra tensors do not count).
  bool ok() const {
    return counts.needs_relayout == 0 && counts.incompatible == 0 &&
           counts.memory_kind == 0 && counts.missing == 0;
  }
  // Something is wrong and a relayout of the checkpoint fixes all of it
  // (only needs_relayout and memory_kind findings).
  bool fixable_by_relayout() const {
    return !ok() && counts.incompatible == 0 && counts.missing == 0;
  }
};

// Checks `manifest` against `program` (whose derived fields were computed
// with options.memory_kinds). Errors (INVALID_ARGUMENT) only for bad
// options: a --map naming an unknown tensor or parameter, or given twice for
// a tensor or a parameter; and for a program the runtime guard refuses
// (no name). Findings are never errors.
absl::StatusOr<CheckReport> CheckCheckpoint(const ProgramSignature& program,
                                            const CheckpointManifest& manifest,
                                            const CheckOptions& options = {});

// Parses a --map value "NAME=N" or "NAME=N{i,...}" (XLA's parameter N, or
// the leaf of tuple parameter N at that index; the name may contain '=',
// the value is after the last one).
absl::StatusOr<std::pair<std::string, TensorBinding>> ParseTensorMapping(
    absl::string_view text);

}  // namespace xlayout

#endif  // XLAYOUT_CHECKPOINT_CHECK_H_
