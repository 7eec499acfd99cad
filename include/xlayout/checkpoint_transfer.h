// Import into and export out of xlayout checkpoints (docs/checkpoint.md):
// the library behind `xlayout import`, `export` and `inspect --verify`.
//
// Import reads tensors from safetensors, .npy and .npz files, chooses each
// tensor's device layout (from a program signature, explicit layouts, or
// row-major), converts it with the relayout engine and writes a checkpoint
// atomically (checkpoint_io.h). Export converts every tensor back to
// row-major, verifies both checksums and writes safetensors, .npz or one
// .npy per tensor, atomically. Memory is bounded by one tensor: a source
// tensor is read into one buffer and its conversion streams out through a
// small window; a whole source file is never loaded.
//
// The logical bytes of a tensor are its row-major bytes: what safetensors
// and C-order .npy store. For 4-bit types they are packed two per byte in
// XLA's order (element 0 in the high nibble, layout E(4)); safetensors F4
// stores element 0 in the low nibble and is swapped on import and export.
#ifndef XLAYOUT_CHECKPOINT_TRANSFER_H_
#define XLAYOUT_CHECKPOINT_TRANSFER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xlayout/checkpoint_io.h"
#include "xlayout/checkpoint_manifest.h"
#include "xlayout/primitive_type.h"
#include "xlayout/shape.h"

namespace xlayout {

// The shape whose bytes the logical checksum covers: `dtype[dims]` in
// row-major order, packed (E(4)) for 4-bit types.
Shape LogicalShape(PrimitiveType dtype, const std::vector<int64_t>& dims);

enum class ImportTarget {
  kHost,     // Row-major (LogicalShape).
  kLayouts,  // ImportOptions::layouts, one per tensor.
  kProgram,  // The parameters of ImportOptions::program.
};

struct ImportOptions {
  // safetensors (*.safetensors), .npy and .npz files, in order.
  std::vector<std::string> sources;
  ImportTarget target = ImportTarget::kHost;
  // kLayouts: NAME -> a layout ("{1,0:T(8,128)(2,1)}", a JAX Layout(...)
  // repr) or a whole shape of the tensor's logical array. Every tensor
  // needs one; a name that matches no tensor is an error.
  std::vector<std::pair<std::string, std::string>> layouts;
  // kProgram: an HLO dump or a JSON signature. Tensors bind to the
  // parameters (tuple parameters' leaves one by one) in source order,
  // skipping those `map` assigns; `map` binds NAME -> parameter, numbered as
  // XLA does (parameter N, leaf N{i} of a tuple parameter), as check's.
  std::string program;
  std::vector<std::pair<std::string, TensorBinding>> map;
  // NAME -> element type of an .npy/.npz array saved as raw void ('|V2').
  std::vector<std::pair<std::string, PrimitiveType>> dtypes;
  // The environment file (--env); its `created` and `xlayout_version` are
  // filled in when it lacks them (or when there is none).
  std::string env_path;
  std::string tool_version;
  int threads = 1;
  // Called after each tensor (done, total tensors).
  std::function<void(int64_t, int64_t)> progress;
};

struct ImportResult {
  CheckpointManifest manifest;
  std::string target;  // The directory written (symlinks resolved).
  // Parameters of the program no tensor bound to (kProgram).
  std::vector<std::string> unbound_parameters;
  int64_t logical_bytes = 0;
  int64_t device_bytes = 0;
  double seconds = 0;
};

// Parses an --layout value NAME=LAYOUT. Tensor names may contain '=' and so
// may LAYOUT (a JAX repr's `major_to_minor=`): the split is at the first
// '=' followed by a well-formed LAYOUT (a layout `{...}`, a JAX
// Layout/DeviceLocalLayout/Format repr that parses, or a shape). --map
// values (N, N{i}) never contain '=', so ParseTensorMapping's split, the
// last '=', is the same rule. INVALID_ARGUMENT naming the text when no
// split works.
absl::StatusOr<std::pair<std::string, std::string>> ParseLayoutAssignment(
    absl::string_view text);

absl::StatusOr<ImportResult> ImportCheckpoint(const std::string& output_dir,
                                              const ImportOptions& options);

enum class ExportFormat { kSafetensors, kNpz, kNpyDir };

struct ExportOptions {
  int threads = 1;
  std::function<void(int64_t, int64_t)> progress;
};

struct ExportResult {
  ExportFormat format = ExportFormat::kSafetensors;
  std::string output;
  int64_t tensors = 0;
  int64_t logical_bytes = 0;
  double seconds = 0;
};

// OUT.safetensors, OUT.npz, or a directory (a name ending in '/' or an
// existing directory) of NAME.npy files.
absl::StatusOr<ExportFormat> ExportFormatFor(const std::string& output);

absl::StatusOr<ExportResult> ExportCheckpoint(const std::string& checkpoint,
                                              const std::string& output,
                                              const ExportOptions& options);

// The outcome of checking one tensor's checksums.
struct TensorVerification {
  std::string name;
  bool physical_ok = false;
  bool logical_ok = false;
  uint64_t physical = 0;  // As computed.
  uint64_t logical = 0;   // As computed (0 when the physical read failed).
};

// Recomputes both checksums of every tensor (the logical one through a
// relayout to LogicalShape). I/O errors are errors; mismatches are results.
absl::StatusOr<std::vector<TensorVerification>> VerifyCheckpoint(
    const CheckpointReader& reader, int threads = 1);

}  // namespace xlayout

#endif  // XLAYOUT_CHECKPOINT_TRANSFER_H_
