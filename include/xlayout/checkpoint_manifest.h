// The manifest of an xlayout checkpoint ("xlayout.checkpoint.v1"): a
// directory holding manifest.json plus data files, where every tensor is
// stored in its *device* layout and the manifest records that layout, the
// environment that fixed it, and checksums. See docs/checkpoint.md.
//
// This header is the format layer: parse, validate and serialise. Nothing
// here touches the file system; ValidateDataFileSizes() checks the byte
// ranges against file sizes the caller has obtained.
#ifndef XLAYOUT_CHECKPOINT_MANIFEST_H_
#define XLAYOUT_CHECKPOINT_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/environment.h"
#include "xlayout/shape.h"

namespace xlayout {

inline constexpr absl::string_view kCheckpointFormat = "xlayout.checkpoint.v1";
// The manifest's file name inside the checkpoint directory.
inline constexpr absl::string_view kManifestFileName = "manifest.json";
// Every tensor's offset is a multiple of this, so a tensor can be mapped or
// read with O_DIRECT.
inline constexpr int64_t kTensorAlignment = 4096;
// Longest data file name accepted (bytes).
inline constexpr size_t kMaxDataFileNameBytes = 1024;

// The entry-computation parameter a tensor binds to.
struct TensorBinding {
  int64_t parameter = 0;
  // ShapeIndex into a tuple-shaped parameter; empty for the whole parameter.
  std::vector<int64_t> tuple_index;
  friend bool operator==(const TensorBinding&, const TensorBinding&) = default;
};

struct TensorRecord {
  std::string name;
  std::optional<TensorBinding> binding;
  // The logical array: element type and dims, no layout.
  PrimitiveType dtype = PrimitiveType::kInvalid;
  std::vector<int64_t> dims;
  // The stored bytes' shape, with its full layout (XLA text in the JSON).
  // Same dtype and dims as above; static; has a layout.
  Shape device_shape;
  // PJRT memory kind the buffer belongs to ("device", "pinned_host", ...).
  std::string memory_kind = "device";
  // Relative to the checkpoint directory (see ValidateDataFileName).
  std::string file;
  int64_t offset = 0;          // Multiple of kTensorAlignment.
  int64_t length = 0;          // == ExactBytes(device_shape).
  uint64_t xxh3_physical = 0;  // XXH3-64 (seed 0) of the `length` bytes.
  uint64_t xxh3_logical = 0;   // XXH3-64 of the row-major logical bytes.

  friend bool operator==(const TensorRecord&, const TensorRecord&) = default;
};

// Which tensors a conversion (import or relayout) changed, and from what.
struct TensorConversion {
  std::string tensor;  // A name in the manifest's tensors.
  Shape from;          // The device shape before (same logical shape).
  friend bool operator==(const TensorConversion&,
                         const TensorConversion&) = default;
};

struct Provenance {
  // The files tensors were imported from, as the user named them
  // (informational; never opened through the manifest).
  std::vector<std::string> source_files;
  // Set when this checkpoint was produced from another one (relayout).
  std::optional<std::string> source_checkpoint;
  std::optional<Environment> source_environment;
  std::vector<TensorConversion> conversions;
  friend bool operator==(const Provenance&, const Provenance&) = default;
};

struct CheckpointManifest {
  // The environment the device layouts were fixed in (the fingerprint).
  std::optional<Environment> environment;
  Provenance provenance;
  // In binding/source order; names unique.
  std::vector<TensorRecord> tensors;

  // The tensor named `name`, or null.
  const TensorRecord* Find(absl::string_view name) const;
  // The distinct data file names, sorted.
  std::vector<std::string> DataFiles() const;

  friend bool operator==(const CheckpointManifest&,
                         const CheckpointManifest&) = default;
};

// A data file name must stay inside the checkpoint directory: relative,
// '/'-separated, no empty, "." or ".." component, no backslash, no NUL or
// other control character, valid UTF-8, at most kMaxDataFileNameBytes, and
// not the manifest itself. (Symlinks are the reader's business: it must open
// data files without following links out of the directory.)
absl::Status ValidateDataFileName(absl::string_view file);
// What breaks those rules, in words ("contains a control character", "has
// a '..' component", ...), or nullopt for a valid name. For messages about
// other files held to the same rules (export's .npy and .npz member names).
std::optional<std::string> DataFileNameProblem(absl::string_view file);

// Every rule of the format, each error naming the tensor and field, e.g.
//   manifest: tensor "w1": field 'offset': 4100 is not a multiple of 4096
// Checks: unique non-empty names; dtype an array type; dims >= 0; device
// shape a static array with a layout, valid, same dtype and dims; sizes
// overflow-checked; length == ExactBytes(device_shape); offset aligned;
// ranges in one file disjoint; file names safe; memory kind well-formed;
// conversions name existing tensors and the same logical shape.
absl::Status ValidateManifest(const CheckpointManifest& manifest);

// Parses manifest.json text and validates it (ValidateManifest). Unknown
// fields and duplicate keys are errors.
absl::StatusOr<CheckpointManifest> ParseManifest(absl::string_view json_text);

// Validates, then prints with a stable key order and 2-space indent (and a
// trailing newline). ParseManifest(*SerializeManifest(m)) == m.
absl::StatusOr<std::string> SerializeManifest(
    const CheckpointManifest& manifest);

// Checks every tensor's range against the sizes of the data files (name ->
// bytes): a file missing from `file_sizes` or a range past the end of its
// file is an error naming the tensor and the file. Bytes of a file not
// covered by any tensor are allowed (alignment padding).
absl::Status ValidateDataFileSizes(
    const CheckpointManifest& manifest,
    const std::map<std::string, int64_t, std::less<>>& file_sizes);

// A checksum as the manifest writes it: 16 lower-case hex digits; and its
// parser (16 hex digits, either case).
std::string FormatChecksum(uint64_t xxh3);
std::optional<uint64_t> ParseChecksum(absl::string_view text);

// The smallest multiple of kTensorAlignment >= offset (OUT_OF_RANGE on
// overflow): where a writer places the next tensor.
absl::StatusOr<int64_t> AlignTensorOffset(int64_t offset);

}  // namespace xlayout

#endif  // XLAYOUT_CHECKPOINT_MANIFEST_H_
