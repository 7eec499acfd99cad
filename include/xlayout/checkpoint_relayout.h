// Checkpoint relayout (`xlayout relayout --program DUMP --checkpoint DIR -o
// OUT`): rewrites a checkpoint so that every tensor is stored in the layout
// and memory kind a compiled program expects, in place of a re-export.
//
// The tensors are bound and judged exactly as CheckCheckpoint does
// (checkpoint_check.h). If any parameter is incompatible or missing, nothing
// is written and the report says why. Otherwise each tensor that needs
// relayout (or another memory kind) is converted with the relayout engine,
// and every other tensor is copied byte for byte. Every source tensor's
// physical checksum is verified as it is read; the new physical checksums
// are computed as the bytes are written; the logical checksums carry over
// (a relayout never changes them; `verify` re-reads the output and proves
// it).
//
// Tensors run in parallel as jobs on a caller-supplied scheduler (the
// relayout engine's ScheduleWork), largest first, each streaming through a
// small reused window into its reserved range of the output's data file
// (CheckpointWriter::ReserveTensors): memory is bounded by the tensors in
// flight, never by the checkpoint. The output directory is written under a
// temporary name and renamed into place only when complete (and verified,
// with `verify`), so a run killed at any point leaves the source intact and
// no partial output.
#ifndef XLAYOUT_CHECKPOINT_RELAYOUT_H_
#define XLAYOUT_CHECKPOINT_RELAYOUT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "xlayout/checkpoint_check.h"
#include "xlayout/checkpoint_io.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/environment.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/relayout.h"
#include "xlayout/shape.h"

namespace xlayout {

struct CheckpointRelayoutOptions {
  // Binding (--map), --strict, memory kinds and the current environment, as
  // for CheckCheckpoint.
  CheckOptions check;
  // How provenance names the source checkpoint (as the user gave it);
  // empty: the reader's directory.
  std::string source_name;
  // Recorded as the new fingerprint's xlayout_version when it lacks one.
  std::string tool_version;
  // Workers for the tensor jobs when `schedule` is unset (at most one per
  // tensor).
  int threads = 1;
  // Runs the tensor jobs (the relayout engine's ScheduleWork); unset: a
  // RelayoutThreadPool of `threads` workers owned by the call. The closures
  // it gets must all run before the call can return.
  ScheduleWork schedule;
  // A conversion that keeps the major-most dimension major (a tile change,
  // say; relayout_bands.h) is read and converted in bands of about this
  // many input bytes: its memory is a band, not the tensor. 0: whole
  // tensors only.
  int64_t band_bytes = int64_t{4} << 20;
  // Re-read the written checkpoint before it is renamed into place: every
  // physical checksum, and every logical checksum against the source's.
  bool verify = false;
  // Output bytes done and in total; called on the calling thread, about
  // every 100 ms and once at the end.
  std::function<void(int64_t done, int64_t total)> progress;
};

// What happened to one tensor, in the source manifest's order.
struct TensorRelayoutAction {
  std::string tensor;
  bool converted = false;  // false: copied byte for byte.
  Shape from;              // The stored device shape before and after.
  Shape to;
  std::string from_memory_kind;
  std::string to_memory_kind;
  int64_t bytes_in = 0;  // Stored bytes before and after.
  int64_t bytes_out = 0;
};

struct CheckpointRelayoutResult {
  // The check of the source against the program (always set).
  CheckReport report;
  // False when the report has incompatible or missing parameters: then
  // nothing was written.
  bool written = false;
  std::string target;  // The directory written (symlinks resolved).
  std::vector<TensorRelayoutAction> tensors;
  int64_t converted = 0;
  int64_t copied = 0;
  int64_t bytes_read = 0;     // Stored bytes of the source's tensors.
  int64_t bytes_written = 0;  // Stored bytes of the output's tensors.
  // The environment recorded in the output ("" when none is).
  std::string environment_note;
  bool verified = false;
  double seconds = 0;
};

// Relayouts `source` for `program` into the checkpoint directory
// `output_dir` (replaced only if it is empty or a checkpoint; it may not be
// the source, inside it, or contain it). Errors: bad options and unusable
// output paths (INVALID_ARGUMENT, FAILED_PRECONDITION), I/O errors naming the
// path (RESOURCE_EXHAUSTED for a full disk), a source checksum mismatch or a
// failed verification (DATA_LOSS naming the tensor); after any error nothing
// is left under `output_dir`'s name.
//
// The new checkpoint's environment is check.current_environment when set
// (with `created` and `xlayout_version` filled in when it lacks them);
// without it, the source's when no tensor changes layout, and none
// otherwise (the layouts are then the program's, whose environment is not
// known). Provenance: the source checkpoint and its environment, the source
// files carried over, and one conversion per converted tensor. Every bound
// tensor records the parameter it was bound to.
absl::StatusOr<CheckpointRelayoutResult> RelayoutCheckpoint(
    const ProgramSignature& program, const CheckpointReader& source,
    const std::string& output_dir, const CheckpointRelayoutOptions& options);

}  // namespace xlayout

#endif  // XLAYOUT_CHECKPOINT_RELAYOUT_H_
