#include "xlayout/relayout_file.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/io/input_file.h"
#include "xlayout/io/mapped_region.h"
#include "xlayout/io/output_overlap.h"
#include "xlayout/physical_index.h"
#include "xlayout/relayout_bands.h"
#include "xlayout/relayout_stream.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/xxh3.h"

namespace xlayout {
namespace {

// Reads the input a band at a time into one reused buffer and streams each
// band's output to `sink`.
absl::Status RunInBands(const RelayoutBandPlans& plans,
                        const RelayoutFileResult& r, const io::InputFile& in,
                        RelayoutStreamer& streamer, const ByteSink& sink,
                        const RelayoutProgress& progress) {
  XLAYOUT_ASSIGN_OR_RETURN(
      io::PageBuffer buffer,
      io::PageBuffer::Allocate(static_cast<size_t>(plans.full->input_bytes()),
                               /*prefault=*/true));
  int64_t read = 0, written = 0;
  for (int64_t band = 0; band < plans.count; ++band) {
    const RelayoutPlan& plan = plans.band(band);
    XLAYOUT_RETURN_IF_ERROR(in.ReadAt(
        read, buffer.span().first(static_cast<size_t>(plan.input_bytes()))));
    RelayoutProgress band_progress;
    if (progress) {
      band_progress = [&](int64_t done, int64_t) {
        progress(written + done, r.output_bytes);
      };
    }
    XLAYOUT_RETURN_IF_ERROR(
        streamer.Run(plan, buffer.data(), sink, band_progress));
    read += plan.input_bytes();
    written += plan.output_bytes();
  }
  return absl::OkStatus();
}

}  // namespace

RelayoutOptions RelayoutFilePlanOptions(const RelayoutFileOptions& options) {
  return RelayoutStreamer::PlanOptionsFor(
      options.relayout, options.relayout.threads, options.window_bytes);
}

absl::StatusOr<RelayoutFileResult> RelayoutFile(
    const Shape& from, const Shape& to, const std::string& input_path,
    const std::string& output_path, const RelayoutFileOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  RelayoutStreamer streamer(options.relayout.threads, options.window_bytes);
  const RelayoutOptions plan_options = streamer.PlanOptions(options.relayout);
  // The shapes as a plan has them (canonical), without planning yet: a
  // conversion run in bands plans only its bands, which for the E0102
  // example is 0.5 s less than planning the whole.
  XLAYOUT_RETURN_IF_ERROR(CheckSameLogicalArray(from, to));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout src, PhysicalLayout::Create(from));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout dst, PhysicalLayout::Create(to));
  // A file of a device layout is a device buffer: it must fit XLA's size.
  XLAYOUT_RETURN_IF_ERROR(CheckFitsDeviceBuffer(src.shape()));
  XLAYOUT_RETURN_IF_ERROR(CheckFitsDeviceBuffer(dst.shape()));
  RelayoutFileResult r;
  r.from = src.shape();
  r.to = dst.shape();
  XLAYOUT_ASSIGN_OR_RETURN(r.input_bytes, ExactBytes(r.from));
  XLAYOUT_ASSIGN_OR_RETURN(r.output_bytes, ExactBytes(r.to));
  r.threads = streamer.threads();

  // An output that cannot be a file (a directory, a FIFO) is refused as
  // such first: a directory holding the input would otherwise be "the
  // output contains the input".
  if (!(output_path == "-" && options.allow_stdio)) {
    XLAYOUT_ASSIGN_OR_RETURN(std::string target,
                             io::ResolveSymlinks(output_path));
    XLAYOUT_RETURN_IF_ERROR(io::CheckReplaceableFile(
        output_path, target,
        options.allow_stdio ? " (use '-' to write to standard output)" : ""));
  }
  // The input: checked before anything is written, and never overwritten.
  XLAYOUT_RETURN_IF_ERROR(
      io::CheckOutputApartFromInputs(output_path, {{input_path, "the input"}}));
  XLAYOUT_ASSIGN_OR_RETURN(
      io::InputFile in,
      io::InputFile::Open(input_path, {.allow_stdin = options.allow_stdio}));
  auto wrong_size = [&](int64_t got, bool at_least) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", in.path(), "' is ", at_least ? "more than " : "", got,
        " bytes but ", r.from.ToString(true), " needs ", r.input_bytes,
        " bytes"));
  };
  // Standard input redirected from a file is read whole from where it
  // stands (a caller may have read a header first); other regular files are
  // checked, banded or mapped from byte 0.
  const bool seekable = in.is_regular() && input_path != "-";
  if (seekable && in.size() != r.input_bytes) {
    return wrong_size(in.size(), false);
  }
  // A conversion that splits into bands reads its input a band at a time:
  // memory stays a band plus the window, and nothing is mapped (reading a
  // mapping went at a quarter of the speed of reading a buffer on this
  // project's VM).
  std::optional<RelayoutBandPlans> bands;
  if (seekable && options.band_bytes > 0) {
    XLAYOUT_ASSIGN_OR_RETURN(
        bands, PlanRelayoutBands(
                   r.from, r.to, options.band_bytes,
                   [&](const Shape& band_from, const Shape& band_to)
                       -> absl::StatusOr<std::shared_ptr<const RelayoutPlan>> {
                     return RelayoutPlan::Create(band_from, band_to,
                                                 plan_options);
                   }));
  }
  std::shared_ptr<const RelayoutPlan> plan;
  if (!bands.has_value() && options.cache != nullptr) {
    XLAYOUT_ASSIGN_OR_RETURN(plan, options.cache->Get(from, to, plan_options));
  } else if (!bands.has_value()) {
    XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<RelayoutPlan> created,
                             RelayoutPlan::Create(from, to, plan_options));
    plan = std::move(created);
  }
  io::MappedRegion mapped;
  io::PageBuffer read;
  const uint8_t* input = nullptr;
  const bool map =
      seekable && options.input_mode == RelayoutFileOptions::InputMode::kMap;
  if (!bands.has_value() && map) {
    XLAYOUT_ASSIGN_OR_RETURN(mapped, in.Map(0, r.input_bytes));
    input = mapped.data();
  } else if (!bands.has_value()) {
    XLAYOUT_ASSIGN_OR_RETURN(read, in.ReadAll(r.input_bytes));
    if (static_cast<int64_t>(read.size()) != r.input_bytes) {
      return wrong_size(static_cast<int64_t>(read.size()), false);
    }
    input = read.data();
  }

  // The output: after the input is known to be right.
  XLAYOUT_ASSIGN_OR_RETURN(
      io::AtomicOutputFile out,
      io::AtomicOutputFile::Create(
          output_path,
          {.allow_stdout = options.allow_stdio,
           .expected_bytes =
               options.precheck_free_space ? r.output_bytes : -1}));
  r.output_target = out.target();

  std::optional<Xxh3> hash;
  if (options.hash) hash.emplace();
  auto sink = [&](absl::Span<const uint8_t> piece) {
    if (hash) hash->Update(piece);
    return out.Write(piece.data(), piece.size());
  };
  if (bands.has_value()) {
    r.bands = bands->count;
    XLAYOUT_RETURN_IF_ERROR(
        RunInBands(*bands, r, in, streamer, sink, options.progress));
  } else {
    XLAYOUT_RETURN_IF_ERROR(streamer.Run(*plan, input, sink, options.progress));
  }
  XLAYOUT_RETURN_IF_ERROR(out.Commit());
  if (hash) r.xxh3_64 = hash->Digest();
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return r;
}

}  // namespace xlayout
