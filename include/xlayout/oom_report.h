// Out-of-memory reports in logs, and what padding from tiled layouts costs
// in them.
//
// Recognised (see docs/explain.md, "Out-of-memory reports"):
//   XLA:TPU compile-time reports: "Ran out of memory in memory space hbm.
//       Used X of Y hbm. Exceeded hbm capacity by Z." followed by
//       "Largest program allocations in hbm:" and one entry per buffer
//       ("N. Size:", "Shape:", "Unpadded size:", "Extra memory due to
//       padding: P (Fx expansion)", "XLA label:", "Allocation type:"), with
//       or without the error code ("E1000: CompileTimeHbmOom:",
//       "E1001: CompileTimeScopedVmemOom:" or the name alone), and the scoped
//       VMEM line "Scoped allocation with size X and limit Y exceeded scoped
//       vmem limit by Z";
//   "Allocation (size=N) would exceed memory (size=M)" (exact sizes);
//   GPU allocators: TensorFlow's BFC allocator "Allocator (GPU_0_bfc) ran out
//       of memory trying to allocate 1.00GiB (rounded to 1073741824)", its
//       "OOM when allocating tensor with shape[...] and type T ... by
//       allocator NAME", and XLA's "Out of memory while trying to allocate N
//       bytes".
// Each line may carry a log prefix (glog, timestamps, tags), a report may be
// quoted on one line with "\n" escapes, and a shape may be wrapped over
// lines. Sizes are printed rounded ("2.75M"); each is read as the interval of
// byte counts that print that way, and every buffer's device and logical
// bytes are recomputed exactly from its shape and checked against it.
#ifndef XLAYOUT_OOM_REPORT_H_
#define XLAYOUT_OOM_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "xlayout/explain.h"
#include "xlayout/log_scanner.h"

namespace xlayout {

// A size as a log prints it: "2.75M", "420.0K", "0B", "1.00GiB", "12 bytes".
// Every byte count that XLA's rule (CompactBytes in format.h: truncate to
// whole units of the next smaller power of 1024, then round to the printed
// decimals) prints as `text` lies in [min_bytes, max_bytes]; a count printed
// in bytes is exact (min == max).
struct PrintedSize {
  std::string text;
  int64_t min_bytes = 0;
  int64_t max_bytes = 0;
  // "2.75M = 2.75 × 2^20 to 2 decimals (after truncation to whole KiB):
  // 2,880,512–2,886,655 bytes".
  std::string rule;
};

// Reads a printed size; nullopt when `text` is not one (or overflows).
std::optional<PrintedSize> ParsePrintedSize(absl::string_view text);

enum class OomKind {
  kTpuMemorySpace,  // "Ran out of memory in memory space S" (E1000 for hbm).
  kTpuScopedVmem,   // Scoped VMEM (E1001 CompileTimeScopedVmemOom).
  kTpuAllocation,   // Only "Allocation (size=N) would exceed memory".
  kGpuAllocator,    // BFC allocator or XLA GPU "Out of memory while ...".
};

// "tpu_memory_space", "tpu_scoped_vmem", "tpu_allocation", "gpu_allocator".
absl::string_view OomKindName(OomKind kind);

// A check of a printed, rounded size against the exact recomputed one.
enum class SizeCheck { kNotPrinted, kMatch, kMismatch };
absl::string_view SizeCheckName(SizeCheck check);  // "-", "match", "mismatch"

// One dimension that a tile pads.
struct PaddedDimension {
  int64_t dim = 0;            // Logical dimension number.
  int64_t extent = 0;         // Logical extent.
  int64_t padded_extent = 0;  // After the first tile level (device bytes).
  int64_t tile = 0;           // The tile dim that pads it.
  // Device bytes minus the device bytes with this dim alone unpadded.
  int64_t padding_bytes = 0;
};

// A change that removes padding, with its exact effect.
struct OomRemedy {
  std::string kind;          // "reorder", "trim_dim", "pad_dim".
  std::string shape;         // The buffer after the change, XLA text.
  int64_t device_bytes = 0;  // Its device bytes.
  int64_t saved_bytes = 0;   // Device bytes saved (0: same bytes).
  std::string text;          // One sentence with the numbers.
};

// One entry of "Largest program allocations".
struct OomBuffer {
  int64_t number = 0;  // "N." as printed.
  int64_t line = 0;    // 1-based line of its "Size:" line.
  std::optional<PrintedSize> size;
  std::optional<PrintedSize> unpadded_size;
  std::optional<PrintedSize> padding;  // "Extra memory due to padding".
  std::string expansion;               // "32.0x" as printed.
  std::string shape_text;              // As printed (wrapping removed).
  std::string operator_text;           // Cut to 400 bytes.
  std::string xla_label;               // Cut to 400 bytes.
  std::string allocation_type;
  // Recomputed from the shape.
  std::string shape;  // The shape sized: printed, or with the inferred tile.
  bool tile_inferred = false;
  std::vector<InferredLayout> inferred_layouts;  // When inferred, best first.
  std::optional<int64_t> device_bytes;   // xla_bytes (ShapeUtil::ArraySize).
  std::optional<int64_t> logical_bytes;  // ByteSizeOf: no tiling.
  std::optional<int64_t> padding_bytes;  // device - logical.
  SizeCheck size_check = SizeCheck::kNotPrinted;
  SizeCheck unpadded_check = SizeCheck::kNotPrinted;
  SizeCheck padding_check = SizeCheck::kNotPrinted;
  std::vector<PaddedDimension> padded_dims;
  std::vector<OomRemedy> remedies;  // Best first.
  std::string error;                // Why the shape could not be read or sized.
};

struct OomReport {
  OomKind kind = OomKind::kTpuMemorySpace;
  std::string memory_space;  // "hbm", "vmem", ...; the allocator for GPUs.
  std::string error_code;    // "E1000", "E1001", or empty.
  std::string error_name;    // "CompileTimeHbmOom", ... or empty.
  // "Used X of Y S. Exceeded S capacity by Z." / scoped "size X and limit Y
  // ... by Z" / GPU: the requested size.
  std::optional<PrintedSize> used;
  std::optional<PrintedSize> capacity;
  std::optional<PrintedSize> exceeded;
  // Exact sizes: "Allocation (size=N) would exceed memory (size=M)", BFC
  // "(rounded to N)", XLA GPU "allocate N bytes".
  std::optional<int64_t> allocation_bytes;
  std::optional<int64_t> memory_bytes;
  SizeCheck used_check = SizeCheck::kNotPrinted;  // used vs exact allocation.
  // GPU: the tensor of "OOM when allocating tensor with shape[..] and type T".
  std::string tensor_shape;
  std::optional<int64_t> tensor_logical_bytes;
  std::string op;  // "requested by op NAME".
  std::vector<OomBuffer> buffers;
  // Sums over the buffers whose bytes were recomputed.
  int64_t buffers_sized = 0;
  int64_t device_bytes_total = 0;
  int64_t logical_bytes_total = 0;
  int64_t padding_bytes_total = 0;
  int64_t savable_bytes_total = 0;  // Best remedy of each buffer.
  // Findings in prose, one per line (checks, padding, remedies).
  std::vector<std::string> notes;
  std::string header;  // The first line of the report, cut to 400 bytes.
  int64_t line = 0;    // 1-based line of the header.
  int64_t offset = 0;  // Byte offset of that line.
  std::string source;  // Set by the caller (file name).
  int64_t count = 1;   // Identical reports grouped (OomReportCollector).
};

// Streaming recogniser: Feed() blocks of any size (a report may be split
// anywhere), then Finish(). Reports are handed over in input order. On text
// without reports it only runs a vectorised search for three byte pairs
// ("memory", "Oom", "OOM"), so it costs a fraction of reading the input.
// Memory: one line of at most 64 KiB plus one report.
class OomReportScanner {
 public:
  using ReportFn = std::function<void(OomReport)>;
  explicit OomReportScanner(ReportFn on_report);
  ~OomReportScanner();
  OomReportScanner(const OomReportScanner&) = delete;
  OomReportScanner& operator=(const OomReportScanner&) = delete;

  void Feed(absl::string_view data);
  void Finish();
  int64_t bytes_scanned() const;
  int64_t reports_found() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every report in `text`, in order.
std::vector<OomReport> ScanOomReports(absl::string_view text);

// Recomputes one buffer from its printed fields (shape_text, size,
// unpadded_size, padding): the fields under "Recomputed" above.
void AnalyzeOomBuffer(OomBuffer& buffer);

// Groups identical reports (same kind, sizes and buffers; e.g. one per
// replica), keeping first-seen order, the first source and line.
class OomReportCollector {
 public:
  void Add(OomReport report, absl::string_view source);
  const std::vector<OomReport>& reports() const { return reports_; }
  int64_t messages() const { return messages_; }

 private:
  std::vector<OomReport> reports_;
  absl::flat_hash_map<std::string, size_t> index_;  // By ReportKey.
  int64_t messages_ = 0;
};

// The report as text lines (no colour, input escaped and cut): a title, one
// line per buffer with printed and recomputed sizes, the padding, the
// remedies and the totals.
std::vector<std::string> DescribeOomReport(const OomReport& report);

// The stable JSON object of one report (docs/json.md, `oom_reports`).
nlohmann::ordered_json OomReportToJson(const OomReport& report);

// ScanFile for both recognisers: reads `path` ("-": stdin) once and feeds
// every block to `scanner` and `oom`. Errors as ScanFile; INVALID_ARGUMENT
// when the first bytes after a leading run of NULs are not text (binary,
// gzip, UTF-16). `leading_nul_bytes`, if given, gets the length of that run
// (what logrotate's copytruncate leaves at the start of a log).
absl::Status ScanFile(const std::string& path, LogScanner& scanner,
                      OomReportScanner& oom,
                      const std::function<void(int64_t)>& on_progress = {},
                      int64_t* leading_nul_bytes = nullptr);

}  // namespace xlayout

#endif  // XLAYOUT_OOM_REPORT_H_
