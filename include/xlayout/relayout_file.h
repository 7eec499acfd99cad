// Relayout of a file into a file at the speed of the disk: the library-level
// driver behind `xlayout relayout`.
//
// The input is mapped with MAP_POPULATE (or, for stdin and streams, read into
// memory), so the kernels never take a page fault. The output is produced
// chunk by chunk (RelayoutPlan::ExecuteChunkToWindow) into one small reused,
// pre-faulted, huge-page window that stays in cache and in the TLB, and each
// window goes to an AtomicOutputFile with one large write(): a full disk is a
// RESOURCE_EXHAUSTED error naming the file, never a SIGBUS, and OUT is left
// untouched. "-" is stdin / stdout.
#ifndef XLAYOUT_RELAYOUT_FILE_H_
#define XLAYOUT_RELAYOUT_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "xlayout/relayout.h"
#include "xlayout/shape.h"

namespace xlayout {

struct RelayoutFileOptions {
  // Plan options: threads (1 runs on the calling thread), ISA cap. The
  // driver sets the chunk cap and turns streaming stores off itself.
  RelayoutOptions relayout;
  // Bytes of output produced per write(); chunks are at most this big (per
  // thread), as far as the plan's granularity allows.
  int64_t window_bytes = int64_t{4} << 20;
  // "-" reads stdin / writes stdout (in place, not atomically).
  bool allow_stdio = true;
  // How a regular input file reaches the kernels: mapped with MAP_POPULATE
  // (kMap) or read with large preads into a huge-page buffer (kRead).
  enum class InputMode { kMap, kRead };
  InputMode input_mode = InputMode::kMap;
  // A conversion that splits into bands along its major-most dimension
  // (relayout_bands.h) reads a regular input a band of about this many bytes
  // at a time, whatever input_mode says; 0 turns bands off.
  int64_t band_bytes = int64_t{4} << 20;
  // Refuse up front when the output's file system has less free space than
  // the output needs (a hint; write errors are what is relied on).
  bool precheck_free_space = true;
  // Compute the XXH3-64 of the output while writing it.
  bool hash = true;
  RelayoutProgress progress;
  // Plans come from here when set.
  RelayoutPlanCache* cache = nullptr;
};

struct RelayoutFileResult {
  Shape from, to;  // As planned (canonical).
  int64_t input_bytes = 0;
  int64_t output_bytes = 0;
  std::string output_target;  // The file replaced (symlinks resolved).
  double seconds = 0;         // Open to commit.
  uint64_t xxh3_64 = 0;       // 0 unless options.hash.
  int threads = 1;
  int64_t bands = 0;  // Bands the input was read in; 0 when read whole.
};

// The plan options RelayoutFile uses: options.relayout with the chunk cap
// of the window (per thread) and streaming stores off.
RelayoutOptions RelayoutFilePlanOptions(const RelayoutFileOptions& options);

// Converts the file `input_path` (laid out as `from`) into `output_path` (as
// `to`). The input size is checked against ExactBytes(from) before anything
// is written (INVALID_ARGUMENT). Errors name the file; I/O errors carry the
// canonical codes of xlayout/io/io_status.h.
absl::StatusOr<RelayoutFileResult> RelayoutFile(
    const Shape& from, const Shape& to, const std::string& input_path,
    const std::string& output_path, const RelayoutFileOptions& options = {});

}  // namespace xlayout

#endif  // XLAYOUT_RELAYOUT_FILE_H_
