// Writing and reading xlayout checkpoint directories (docs/checkpoint.md):
// the file-system half of the format layer in checkpoint_manifest.h.
//
// CheckpointWriter writes one data file, data/tensors.bin, with every tensor
// at a 4 KiB-aligned offset, then the manifest, inside an
// io::AtomicOutputDir: files and the directory are fsynced and renamed into
// place only by Commit(), so a run killed at any point leaves no checkpoint
// or a complete one under the target name.
//
// CheckpointReader opens a checkpoint and validates the manifest against
// the real data files before anything is read: missing and truncated files,
// ranges, and no symlink anywhere under the directory (a link could lead
// out of it; the manifest and data files are opened with
// io::InputFile::OpenBeneath, component by component, below the directory
// opened once). Every tensor read can verify its
// physical checksum; logical checksums need a relayout (see
// checkpoint_transfer.h).
#ifndef XLAYOUT_CHECKPOINT_IO_H_
#define XLAYOUT_CHECKPOINT_IO_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "xlayout/checkpoint_manifest.h"
#include "xlayout/environment.h"
#include "xlayout/io/input_file.h"

namespace xlayout {

class Xxh3;

// The data file every tensor of a written checkpoint goes to.
inline constexpr absl::string_view kCheckpointDataFile = "data/tensors.bin";
// Largest manifest.json a reader accepts.
inline constexpr int64_t kMaxManifestBytes = int64_t{256} << 20;

class CheckpointReader;

class CheckpointWriter {
 public:
  // Starts writing the checkpoint directory `dir`, replaced on Commit if it
  // exists (see io::AtomicOutputDir for what `dir` may name). An existing
  // directory is replaced only when it is empty or an xlayout checkpoint (its
  // manifest.json names the format); anything else is refused
  // (FAILED_PRECONDITION), so a mistyped -o never deletes unrelated files.
  static absl::StatusOr<std::unique_ptr<CheckpointWriter>> Create(
      const std::string& dir);
  ~CheckpointWriter();  // Aborts unless committed: the target is untouched.

  // Starts a tensor. The writer sets `file`, `offset` (the next 4 KiB
  // boundary), `length` (ExactBytes of the device shape) and
  // `xxh3_physical`; the rest comes from `record`.
  absl::Status BeginTensor(TensorRecord record);
  // The tensor's physical bytes, in order, in any number of pieces.
  absl::Status Write(absl::Span<const uint8_t> bytes);
  // Ends the tensor: exactly `length` bytes must have been written.
  absl::Status EndTensor(uint64_t xxh3_logical);

  // Parallel writing, when every tensor's size is known up front: places
  // `records` in order after what was written so far (as BeginTensor would,
  // 4 KiB aligned), reserves their disk space now (so a disk too small fails
  // before any tensor is written), and appends them to tensors(); returns
  // the index of the first. Each is then written with WriteReserved (its
  // bytes in order, in any number of pieces) and ended with EndReserved.
  // Distinct reserved tensors may be written from different threads at
  // the same time; nothing else may run meanwhile.
  absl::StatusOr<int64_t> ReserveTensors(std::vector<TensorRecord> records);
  absl::Status WriteReserved(int64_t index, absl::Span<const uint8_t> bytes);
  absl::Status EndReserved(
      int64_t index, uint64_t xxh3_logical,
      std::optional<uint64_t> xxh3_physical = std::nullopt);
  // Writes reserved tensor `index` whole as a verbatim copy of `tensor` of
  // `source` (the same length), in the kernel where the file systems allow
  // (io::DirFileWriter::CopyFrom): nothing is read into memory or hashed, so
  // EndReserved must be given the checksum, and only a later read checks it.
  absl::Status CopyReserved(int64_t index, const CheckpointReader& source,
                            const TensorRecord& tensor);

  // Writes the manifest (validated by SerializeManifest), fsyncs, renames
  // the directory into place. Every tensor must have been ended.
  // Finish() + Commit().
  absl::Status Commit(std::optional<Environment> environment,
                      Provenance provenance);
  // The same in two steps: Finish writes and syncs everything into the
  // temporary directory and returns its path, where the complete checkpoint
  // can be read back (e.g. verified) before Commit() renames it into place.
  absl::StatusOr<std::string> Finish(std::optional<Environment> environment,
                                     Provenance provenance);
  absl::Status Commit();

  const std::vector<TensorRecord>& tensors() const { return tensors_; }
  const std::string& target() const;

 private:
  struct Impl;
  explicit CheckpointWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<TensorRecord> tensors_;
};

class CheckpointReader {
 public:
  // Reads and validates manifest.json and checks every tensor's range
  // against its data file. Errors start with "checkpoint 'DIR': " and name
  // the tensor and the file.
  static absl::StatusOr<std::unique_ptr<CheckpointReader>> Open(
      const std::string& dir);
  ~CheckpointReader();

  const std::string& dir() const { return dir_; }
  const CheckpointManifest& manifest() const { return manifest_; }

  // Reads the tensor's `length` stored bytes into `dst` (exactly that
  // size); with `verify`, checks xxh3_physical (DATA_LOSS naming the tensor
  // and the file on a mismatch).
  absl::Status ReadTensor(const TensorRecord& tensor, absl::Span<uint8_t> dst,
                          bool verify = true) const;
  // The tensor's stored bytes for reading in any order (a relayout's
  // input): read into `*buffer`, grown to fit, or mapped when larger than
  // io::kMaxReadForRandomAccess (see io::InputFile::ReadForRandomAccess).
  // Hashed on the way: `physical`, when given, receives the XXH3; with
  // `verify`, a mismatch is the DATA_LOSS error of ReadTensor.
  absl::StatusOr<io::RandomAccessBytes> Load(
      const TensorRecord& tensor, io::PageBuffer* buffer, bool verify = true,
      uint64_t* physical = nullptr) const;
  // Reads the tensor's stored bytes in order into `block`, a piece of at
  // most block.size() bytes at a time, and passes each piece to `fn`;
  // stops at the first error. Checks no checksum (the caller sees every
  // byte and can; `hash`, when given, gets every byte as it is read, while
  // it is in cache, for CheckPhysical). Read errors name the tensor and the
  // file.
  absl::Status ReadTensorBlocks(
      const TensorRecord& tensor, absl::Span<uint8_t> block,
      absl::FunctionRef<absl::Status(absl::Span<const uint8_t>)> fn,
      Xxh3* hash = nullptr) const;
  // XXH3-64 of the tensor's stored bytes, read in blocks (bounded memory).
  absl::StatusOr<uint64_t> HashPhysical(const TensorRecord& tensor) const;
  // OK when `computed` is the tensor's xxh3_physical; else the DATA_LOSS
  // error ReadTensor and Map report (naming the tensor and the file).
  absl::Status CheckPhysical(const TensorRecord& tensor,
                             uint64_t computed) const;
  // The open data file that holds `tensor` (INTERNAL if it names another).
  absl::StatusOr<const io::InputFile*> DataFile(
      const TensorRecord& tensor) const;

 private:
  CheckpointReader() = default;
  std::string dir_;
  CheckpointManifest manifest_;
  // Data file name -> the open file.
  std::map<std::string, io::InputFile, std::less<>> files_;
};

// "tensor "NAME" (file "F")": how messages name a tensor of a checkpoint.
std::string DescribeTensor(const TensorRecord& tensor);

// How every command reports a checksum that does not match the manifest:
// "checkpoint 'DIR': tensor "NAME" (file "F"): physical checksum mismatch:
// the stored bytes hash to H, the manifest says M" (logical: "the
// row-major bytes hash to").
std::string PhysicalMismatchMessage(const std::string& dir,
                                    const TensorRecord& tensor,
                                    uint64_t computed);
std::string LogicalMismatchMessage(const std::string& dir,
                                   const TensorRecord& tensor,
                                   uint64_t computed);

}  // namespace xlayout

#endif  // XLAYOUT_CHECKPOINT_IO_H_
