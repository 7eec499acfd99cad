// Program signatures: what a compiled XLA program expects as input buffers.
//
// Read from HLO text dumps (`--xla_dump_to`, `compiled.as_text()`): the
// `HloModule` header (entry_computation_layout, replica_count,
// num_partitions) and the ENTRY computation's `parameter(N)` instructions,
// which give the names, the shardings and, when the header has no layout,
// the layouts. The reader streams: memory stays bounded by the chunk size,
// the header and the longest line, however large the body is.
//
// Also a JSON form (documented in docs/runtime.md) that round-trips.
#ifndef XLAYOUT_HLO_SIGNATURE_H_
#define XLAYOUT_HLO_SIGNATURE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/memory_kind.h"
#include "xlayout/shape.h"
#include "xlayout/sharding.h"

namespace xlayout {

// One runtime input buffer. A tuple-shaped HLO parameter is flattened into
// one entry per array leaf (PJRT passes arrays, never tuples).
struct ParameterSignature {
  int64_t index = 0;                 // Position in the runtime argument list.
  std::string name;                  // HLO instruction name, without '%'; tuple
                                     // leaves get their ShapeIndex: "p{0,1}".
  int64_t parameter_number = 0;      // N of the HLO parameter(N).
  std::vector<int64_t> tuple_index;  // ShapeIndex inside a tuple parameter.
  Shape shape;                       // On-device shape, always with a layout.
  // `sharding={...}` value as written; a tuple parameter's leaves get their
  // element of the tuple sharding, as XLA prints it.
  std::optional<std::string> sharding;
  // Derived from `shape` (FillDerivedFields). -1 when undefined (unbounded
  // dynamic dims).
  int64_t xla_bytes = 0;    // XLA's ArraySize: what the runtime compares.
  int64_t exact_bytes = 0;  // The real footprint (every tile level).
  std::string memory_kind;  // From S(n) through a MemoryKindMap.
  // What every device holds (FillDerivedFields): `shape` cut by the sharding
  // (XLA's HloSharding::TileShape, uneven dims padded up) when `shape` is
  // global, i.e. the dump was taken before SPMD partitioning (or the stage is
  // unknown); `shape` itself when it is already per-device (after
  // partitioning), unsharded, or there is one partition.
  Shape per_device_shape;
  int64_t per_device_xla_bytes = 0;    // -1 when undefined or unknown.
  int64_t per_device_exact_bytes = 0;  // -1 when undefined or unknown.
  // False when a sharding that should cut a global `shape` does not parse or
  // does not fit it: what a device holds is then unknown. per_device_shape
  // is left equal to `shape` (its element type and layout still hold; its
  // dims are NOT the device's) and both per-device sizes are -1; JSON
  // writes null for the three. Consumers must not compare dims or bytes
  // against per_device_shape when this is false.
  bool per_device_known = true;

  friend bool operator==(const ParameterSignature&,
                         const ParameterSignature&) = default;
};

enum class LayoutSource {
  kEntryComputationLayout,  // The header's entry_computation_layout.
  kEntryParameters,         // The ENTRY computation's parameter(N) shapes.
  kJson,                    // A JSON signature that did not say.
};
absl::string_view LayoutSourceName(LayoutSource source);

struct ProgramSignature {
  std::string name;  // HloModule name (PJRT's Executable name).
  int64_t replica_count = 1;
  int64_t num_partitions = 1;
  std::vector<ParameterSignature> parameters;
  std::optional<Shape> result;  // From entry_computation_layout, if present.
  LayoutSource layout_source = LayoutSource::kEntryComputationLayout;
  // Things a reader tolerated: header/ENTRY disagreements, missing names,
  // sizes that could not be computed.
  std::vector<std::string> warnings;
  // The memory-space to memory-kind mapping the parameters' memory_kind
  // values were named with (MemoryKindMap::ToString form). Written to and
  // read from JSON signatures, so they read back without --memory-kinds.
  std::string memory_kinds;
  // Which side of SPMD partitioning the dump was taken on
  // (ClassifyDumpStage, docs/sharding.md), so whether `parameters[].shape`
  // are global shapes or already per-device ones; whether that is certain,
  // and why. A JSON signature records it; kUnknown shapes count as global.
  DumpStage dump_stage = DumpStage::kUnknown;
  bool dump_stage_certain = false;
  std::string dump_stage_reason;

  // True when `parameters[].shape` are global and a sharding may cut them
  // (before partitioning, or unknown, with more than one partition).
  bool shapes_are_global() const {
    return num_partitions > 1 && dump_stage != DumpStage::kAfterPartitioning;
  }

  friend bool operator==(const ProgramSignature&,
                         const ProgramSignature&) = default;
};

struct SignatureReadOptions {
  MemoryKindMap memory_kinds;
  // Bytes per read() call.
  size_t chunk_size = size_t{1} << 20;
  // Longest body line kept whole. Longer lines are skipped without being
  // stored; a parameter instruction longer than this is an error.
  size_t max_line_bytes = size_t{16} << 20;
  // Longest accepted header line (it lists every parameter shape).
  size_t max_header_bytes = size_t{1} << 30;
  // The dump's file name, one of the facts that tell the SPMD stage apart
  // (XLA names its dumps "...before_optimizations.txt" and
  // "...after_optimizations.txt"). The file readers fill it from the path.
  std::string file_name;
};

// Reads up to `capacity` bytes into `dst`; 0 means end of input.
using ReadFn =
    std::function<absl::StatusOr<size_t>(char* dst, size_t capacity)>;

// The streaming reader all entry points share.
absl::StatusOr<ProgramSignature> ReadHloSignature(
    const ReadFn& read, const SignatureReadOptions& options = {});

// An HLO dump held in memory.
absl::StatusOr<ProgramSignature> ParseHloSignature(
    absl::string_view hlo_text, const SignatureReadOptions& options = {});

// An HLO dump file ("-" reads stdin). Errors name the file and the line.
absl::StatusOr<ProgramSignature> ReadHloSignatureFile(
    const std::string& path, const SignatureReadOptions& options = {});

// (Re)computes xla_bytes, exact_bytes, memory_kind and the per-device shape
// and sizes of every parameter (the per-device ones from dump_stage and the
// shardings). Sizes that are undefined become -1 with a warning; a sharding
// that does not parse or fit makes the per-device shape unknown
// (per_device_known false, per-device sizes -1) with a warning; never fails
// on them.
void FillDerivedFields(ProgramSignature* signature, const MemoryKindMap& kinds);

// JSON signature (docs/runtime.md). `indent` < 0 gives one line.
std::string SignatureToJson(const ProgramSignature& signature, int indent = 2);
// Derived fields are recomputed; values given in the JSON must agree with
// them (a mismatch means the file was edited by hand or by another mapping).
absl::StatusOr<ProgramSignature> SignatureFromJson(
    absl::string_view json, const MemoryKindMap& kinds = MemoryKindMap());

// A JSON signature or an HLO dump, told apart by the first non-blank byte.
absl::StatusOr<ProgramSignature> ReadSignatureFile(
    const std::string& path, const SignatureReadOptions& options = {});

}  // namespace xlayout

#endif  // XLAYOUT_HLO_SIGNATURE_H_
